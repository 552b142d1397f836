// aggregates_writer.h: writes a window's sums to the Aggregates table and
// keeps the totals there equal to the sum of every window's sums.
//
// The Aggregates table (partition key pk, sort key sk, both S; a global
// secondary index "Leaderboard" on board (S) and revenue (N)) holds:
//
//   pk                               sk                  what
//   parts/minute/<minute>/<category> <window>/<shard>    a part (below)
//   parts/product/<product id>       <window>/<shard>    a part
//   minute-totals                    <minute>#<category> minute, category,
//                                                        revenue, orders
//   product-totals                   <product id>        board, productId,
//                                                        name, category,
//                                                        revenue, orders, units
//
// A part is what one tumbling window's records of one shard add up to in one
// dimension (revenue, orders, units), complete up to and including sequence
// number `through`, and written `rev` times. <window> is the window's start
// ("2026-11-27T09:12:00Z"), <shard> the shard id. A total is the sum of its
// dimension's parts, and carries a `version`. revenue is a number with two
// decimals; product totals have board = "top-products", so the Leaderboard
// index lists them by revenue (Query board = "top-products", ScanIndexForward
// false, Limit 10).
//
// Why this is right under at-least-once delivery, whatever the batches:
//   - A part is updated by read-modify-write on its own sequence number: a
//     record is added only if it comes after `through`, and the put is
//     conditional on `through` being what the sums were read with (the
//     window's state caches it, so usually nothing is read). A record
//     delivered again (a retried batch, a restart, a second trigger reading
//     the stream from the start) is already in: skipped. Records of a shard
//     come in sequence order and a batch writes every part it touches
//     before it succeeds, so every earlier record is in too, and no record
//     is lost: each part is exactly its records up to `through`, however
//     the deliveries cut the stream into batches.
//   - A total is never incremented: it is the sum of its dimension's parts
//     (a Query of their partition), and its `version` is the sum of their
//     `rev`s. A part's rev only grows, so a later sum of the same parts has
//     a version at least as high, equal only if every part is the same;
//     the total is put only if its version is not higher than the new one.
//     Every call sums after writing its parts, so the call that made the
//     last part write sums every part at its last rev: the highest version
//     there will be, and the exact total. No read first, no retry loop.
#ifndef EDDY_SAMPLES_ANALYTICS_AGGREGATES_WRITER_H_
#define EDDY_SAMPLES_ANALYTICS_AGGREGATES_WRITER_H_

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "eddy/functions/dynamodb.h"
#include "window_state.h"

namespace analytics {

inline constexpr char kLeaderboardBoard[] = "top-products";

class AggregatesWriter {
 public:
  // Uses `client` (not owned; must outlive the writer) and table `table`.
  AggregatesWriter(eddy::dynamodb::client& client, std::string table)
      : client_(client), table_(std::move(table)) {}

  // Brings the parts of `window_key` ("<window start>/<shard>") up to date
  // with `batch`, whose last record has sequence number `last_sequence`,
  // reading and updating the parts cached in `state`; then recomputes the
  // totals of every dimension the batch touched. Throws
  // eddy::dynamodb::dynamodb_error (after the client's own retries) or
  // std::runtime_error (the batch fails and comes again: harmless).
  void Apply(const std::string& window_key, const BatchChanges& batch,
             const std::string& last_sequence, WindowState& state);

  // Requests made, parts found written by someone else (read and merged),
  // contributions skipped because their part had them already, and totals
  // not written because a later sum was there, since construction.
  uint64_t requests() const { return requests_; }
  uint64_t conflicts() const { return conflicts_; }
  uint64_t skipped() const { return skipped_; }
  uint64_t stale_totals() const { return stale_totals_; }

 private:
  rapidjson::Document Call(const char* operation, const std::string& body);
  Part WritePart(const std::string& pk, const std::string& sk,
                 const std::vector<Contribution>& contributions,
                 const std::string& last_sequence, bool with_units,
                 std::optional<Part> cached);
  std::optional<Part> ReadPart(const std::string& pk, const std::string& sk);
  // Sums of every part in partition `pk`, and the sum of their revs.
  Sums SumParts(const std::string& pk, int64_t* revs);
  // Recomputes one total: its key, its parts' partition, and the members
  // besides the sums (JSON object members without braces, may be empty).
  void UpdateTotal(const std::string& pk, const std::string& sk,
                   const std::string& parts_pk, const std::string& extra,
                   bool with_units);

  eddy::dynamodb::client& client_;
  std::string table_;
  uint64_t requests_ = 0;
  uint64_t conflicts_ = 0;
  uint64_t skipped_ = 0;
  uint64_t stale_totals_ = 0;
};

}  // namespace analytics

#endif  // EDDY_SAMPLES_ANALYTICS_AGGREGATES_WRITER_H_
