// TTL sweeping: finds the expired items of one table and deletes them
// through Table::DeleteExpired, which re-checks the expiry under the item's
// lock (so an item rewritten with a later expiry meanwhile survives) and
// writes its stream record as the service. Private to the store: used by
// Database::SweepExpired.
//
// Thread-safety: SweepTable may run concurrently with every write; two
// sweeps of one table delete each item once (the second finds it gone).
#ifndef EDDY_STORE_SRC_TTL_SWEEPER_H_
#define EDDY_STORE_SRC_TTL_SWEEPER_H_

#include <spdlog/logger.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "eddy/result.h"
#include "eddy/store/table.h"

namespace eddy::store {

// Items whose TTL attribute holds a Number of epoch seconds older than this
// are ignored, as DynamoDB ignores them.
inline constexpr int64_t kTtlMaxAgeSeconds = 5LL * 365 * 24 * 60 * 60;

// Whether `item` has expired at `now_seconds`: its `attribute` is a Number
// before now and not more than kTtlMaxAgeSeconds before it. Any other type
// (a String holding digits too) never expires.
bool TtlExpired(const Item& item, const std::string& attribute,
                int64_t now_seconds);

struct SweepStats {
  int64_t scanned = 0;  // Items read.
  int64_t deleted = 0;  // Expired items deleted.
};

// Scans `table` page by page and deletes each item that TtlExpired at
// `now_seconds`. Stops early (returning what it did so far) once `stop`
// becomes true. Logs progress at most once a second on long sweeps.
Result<SweepStats> SweepTable(Table* table, const std::string& attribute,
                              int64_t now_seconds,
                              const std::atomic<bool>& stop,
                              spdlog::logger* logger);

}  // namespace eddy::store

#endif  // EDDY_STORE_SRC_TTL_SWEEPER_H_
