// Transactions: writes of several items, possibly in several tables and
// stream shards, as one atomic commit (TransactWriteItems), and reads of
// several items at one point in time (TransactGetItems).
//
// Isolation: a transaction takes the shared state lock of each of its tables
// (in table-id order) and the lock stripe of each of its items (in
// (table id, stripe) order, so transactions never deadlock each other;
// single-item writes hold one stripe), then reads, checks and writes. Every
// write of its items is therefore ordered before or after it: transactions
// are serialisable. Reads use a LevelDB snapshot; the items of a
// transaction reach LevelDB in one batch, so a snapshot never sees half of
// one.
//
// Atomicity with the streams (DESIGN.md invariant 1). A single-item write
// commits with its change record as the redo entry (change_stream_impl.h).
// That is also how a transaction commits when it changes one item. One that
// changes several cannot: a crash between two appends would leave some
// records, and through replay some items, without the others. It commits
// through an intent instead:
//   1. With all its locks held, write the intent "x" <id> to LevelDB (synced
//      with --sync): every LevelDB change of the transaction and every change
//      record with its stream and shard. This is the commit point.
//   2. Append the records, each tagged with the transaction id (their
//      shards' applied markers stay below them while in flight; synced with
//      --sync).
//   3. Write one batch: the changes, the shards' applied markers and the
//      deletion of the intent.
// A failure after step 1 fails the store's DbHandle while the locks are
// still held, so no later write touches the items until the recovery below
// has run (in the running process, database.cc's RecoveryLoop, or at the
// next Open).
// Recovery (Database::Open, after the streams are opened and before they are
// replayed): an intent that still exists means step 3 never happened, so no
// later write touched its items (their locks were held until then). For each
// of its records, append it unless its shard already holds, after the applied
// marker, a record with the same transaction id and item; then apply the
// changes and delete the intent in one synced batch. Replay then re-applies
// the shard records in order, which leaves each item at its last record.
//
// Thread-safety: all functions may be called concurrently.
#ifndef EDDY_STORE_SRC_TRANSACTION_H_
#define EDDY_STORE_SRC_TRANSACTION_H_

#include <leveldb/db.h>
#include <spdlog/logger.h>

#include <functional>
#include <string>
#include <vector>

#include "change_stream_impl.h"
#include "db_handle.h"
#include "eddy/store/database.h"

namespace eddy::store {

// Runs a TransactWriteItems. `transaction_id` is unique among the intents
// the data directory may hold (it is used only when an intent is needed).
// REQUIRES: every action's table is a TableImpl of `db`.
Result<TransactWriteResult> RunTransaction(
    DbHandle* db, bool sync, uint64_t transaction_id,
    const std::vector<TransactWriteAction>& actions, spdlog::logger& logger);

// Runs a TransactGetItems.
Result<std::vector<std::optional<Item>>> ReadTransaction(
    DbHandle* db, const std::vector<TransactGetAction>& gets);

// The enabled stream of a table with this label, or null.
using StreamFinder = std::function<ChangeStreamImpl*(uint64_t table_id,
                                                     const std::string& label)>;

// Finishes every transaction whose intent is still stored (see above), at
// Open and in the recovery after a failed write (with the gate closed).
// Returns how many there were.
Result<int> RecoverTransactions(leveldb::DB* db, const StreamFinder& find,
                                spdlog::logger& logger);

// For crash tests: called after step 1 with 0 and after each append of step
// 2 with the number of records appended so far; returning true abandons the
// transaction there, as if the process died (the Database must then be
// closed and reopened). Null: no crash point.
using CrashPoint = std::function<bool(size_t records_appended)>;
void SetTransactionCrashPointForTesting(CrashPoint crash_point);

}  // namespace eddy::store

#endif  // EDDY_STORE_SRC_TRANSACTION_H_
