// Database: one data directory holding the table catalog and every table's
// items in a single LevelDB.
//
// Layout of the LevelDB keyspace (all integers big-endian):
//   "c" <table name>                 -> TableRecord (catalog.proto)
//   "d" <table id u64>               -> DroppedTable (items being removed)
//   "m" "next_table_id"              -> u64
//   "m" "clean"                      -> present after a clean shutdown
//   "a" <table id u64> <stream label> NUL <shard u32> -> applied marker u64
//   "i" <table id u64> <hash u32> <enc(pk)> [<enc(sk)>] -> EncodeItem(item)
//   "g" <table id u64> <index id u32> <hash u32> <enc(index pk)>
//       [<enc(index sk)>] <enc(pk)> [<enc(sk)>] -> EncodeItem(projected item)
//   "x" <transaction id u64>         -> TransactionIntent (transaction.h)
//   "s" <table id u64> <stream label> -> RetainedStream: a stream of a
//       deleted table, readable (DISABLED) until its retention passes
// where hash = KeyHash(enc(pk)) spreads partitions (Scan order and parallel
// Scan segments follow it, as in DynamoDB) and enc() is the order-preserving
// key encoding of key_codec.h, so one partition's items are contiguous and
// sorted by sort key. An index entry exists for each item that has the
// index's key attributes (sparse indexes); it is written in the same batch
// as its item, and its hash spreads the index's partitions the same way.
//
// Streams live beside LevelDB in <path>/streams/<table id>/<label>/shard-N
// (streams::ShardLog); change_stream_impl.h describes how an item write and
// its change record commit atomically and how Open replays records LevelDB
// lacks. <path>/LOCK is held (flock) while the Database is open: Open fails
// with Busy while another Database, in any process, has the directory.
//
// Recovery: LevelDB's WAL makes every acknowledged batch durable against a
// process crash (and, with Options::sync, against power loss). Open's work
// after a crash is proportional to what was not flushed (LevelDB's log, the
// stream records after the applied markers), not to the data.
//
// Item counts and sizes are kept in memory, updated by every write, written
// back to the catalog every maintenance_interval_ms and on a clean Close.
// After a crash Open starts from the last written-back figures and serves at
// once; a background recount (one pass over the data, in a LevelDB
// snapshot, while writes go on) then makes them exact again
// (statistics_exact()). DynamoDB itself refreshes ItemCount only about every
// six hours, so figures that lag for the length of one pass are within what
// clients expect.
//
// Failures: a write that fails in LevelDB or in a stream log (disk full,
// EIO) fails with IOError — nothing acknowledged is lost, and the change is
// either fully applied later or not at all. The store then refuses writes
// (IOError) while it recovers by itself in the background: it waits until
// there is room again, reopens LevelDB, finishes what the failed write left
// (stream records not yet applied, interrupted transactions) and resumes;
// reads go on meanwhile. health() says what it is recovering from. See
// docs/operations.md.
//
// Thread-safety: all methods may be called concurrently.
#ifndef EDDY_STORE_DATABASE_H_
#define EDDY_STORE_DATABASE_H_

#include <spdlog/logger.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eddy/result.h"
#include "eddy/store/backup.h"
#include "eddy/store/table.h"
#include "eddy/store/table_schema.h"
#include "eddy/streams/file_system.h"

namespace leveldb {
class Env;
}  // namespace leveldb

namespace eddy::store {

// One action of a write transaction (TransactWriteItems).
struct TransactWriteAction {
  enum class Kind : uint8_t { kPut, kUpdate, kDelete, kConditionCheck };
  Kind kind = Kind::kConditionCheck;
  std::shared_ptr<Table> table;
  // kPut: the whole item (validated by Table::ValidateItem); otherwise the
  // key (validated by Table::ValidateKey).
  Item item;
  const Update* update = nullptr;        // kUpdate; may be null.
  const Condition* condition = nullptr;  // May be null.
};

// Why a transaction was cancelled, for one of its actions.
struct CancellationReason {
  // DynamoDB's codes: "None" (this action was fine), "ConditionalCheckFailed"
  // or "ValidationError" (the action cannot apply to the current item, e.g.
  // an update that makes it too large).
  std::string code = "None";
  std::string message;
  std::optional<Item> item;  // The current item, when its condition failed.
};

struct TransactWriteResult {
  bool committed = false;
  // When not committed: one reason per action, in request order.
  std::vector<CancellationReason> reasons;
  // When committed: what each action did, in request order.
  std::vector<WriteOutcome> outcomes;
};

struct TransactGetAction {
  std::shared_ptr<Table> table;
  Item key;  // Validated by Table::ValidateKey.
};

class Database {
 public:
  struct Options {
    std::string path;  // Data directory; created if missing.
    // fsync every write before it returns (survives power loss).
    bool sync = false;
    size_t block_cache_bytes = 64 * 1024 * 1024;
    // LevelDB's memtable: written to a table file when it is this full.
    // After a crash its write-ahead log (up to this size) is replayed.
    size_t write_buffer_bytes = 32 * 1024 * 1024;
    // Table files LevelDB keeps open (its max_open_files: the cache of
    // open tables, each holding its index and Bloom filter; LevelDB raises
    // less than 74 to 74). What is not cached is opened again when read.
    int max_open_files = 1000;
    // LevelDB's background thread (flushes, compactions) yields the CPU
    // after writing this much table data, so that it delays requests on a
    // shared core by short turns instead of whole time slices (see
    // store/src/background_env.h); 0 lets it run unbroken.
    size_t background_yield_bytes = 16 * 1024;
    // Shards per stream (records of one item always go to one shard).
    uint32_t stream_shards = 4;
    // Files of closed stream segments kept open between reads, for every
    // stream together (the least recently read beyond these are closed and
    // opened again when read). A stream's shards hold no other descriptor
    // but, while they are written to, their newest segment's.
    size_t stream_segment_files = 64;
    // Stream records older than this are trimmed, and disabled streams are
    // removed this long after they were disabled (DynamoDB: 24 hours);
    // closed shards go once all their records are trimmed.
    int64_t stream_retention_ms = 24LL * 60 * 60 * 1000;
    // Every enabled stream rolls over this long after its current shards
    // were created: they close and a child of each opens (as DynamoDB's
    // shards do, about every 4 hours; eddy/store/change_stream.h). 0: never.
    // Checked by the background maintenance.
    int64_t stream_rollover_ms = 0;
    // Wall clock in ms since the epoch for stream bookkeeping: stream
    // creation (labels), disabling, and the retention of records and of
    // disabled streams. Defaults to std::chrono::system_clock; tests inject
    // one. Must be thread-safe.
    std::function<int64_t()> clock_ms;
    // How often the background maintenance (trimming, rollovers) runs.
    int64_t maintenance_interval_ms = 60 * 1000;
    // How often the background TTL sweeper deletes the expired items of the
    // tables with TTL enabled; 0 turns it off (SweepExpired still works).
    int64_t ttl_sweep_interval_ms = 60 * 1000;
    std::shared_ptr<spdlog::logger> logger;  // Defaults to "store".
    // After a failed write, the first recovery attempt comes after this
    // pause, each later one after twice the previous, up to the maximum.
    int64_t recovery_retry_ms = 50;
    int64_t recovery_max_retry_ms = 2000;
    // Point-in-time recovery keeps this much history (DynamoDB: 35 days).
    int64_t pitr_retention_ms = 35LL * 24 * 60 * 60 * 1000;
    // Background jobs (backups, restores) run on this many threads.
    int job_threads = 1;
    // Their threads' niceness (0-19): at 19 they take a core only when the
    // requests leave it idle (store/src/job_runner.h); 0: no pacing.
    int job_nice = 19;
    // The files the store works on; tests pass fault-injecting ones
    // (tests/unit/store/fault_injection_env.h,
    // tests/unit/streams/fault_injection_file_system.h). Not owned; must
    // outlive the Database. Null: the real file system.
    leveldb::Env* leveldb_env = nullptr;
    streams::FileSystem* stream_file_system = nullptr;
  };

  static Result<std::unique_ptr<Database>> Open(Options options);

  virtual ~Database() = default;

  // Fails with AlreadyExists ("Table already exists: <name>").
  virtual Result<TableInfo> CreateTable(const TableSchema& schema) = 0;
  // Fails with NotFound. Items are removed in the background. The table's
  // streams stay readable (ListStreams, GetStream), disabled, until
  // stream_retention_ms after the deletion, as on DynamoDB; a new table of
  // the same name gets streams with other labels.
  virtual Result<TableInfo> DeleteTable(const std::string& name) = 0;
  virtual Result<TableInfo> UpdateTable(const std::string& name,
                                        const TableUpdate& update) = 0;
  // UpdateTimeToLive: enables TTL on `attribute`, or disables it (then
  // `attribute` must name the attribute it is enabled on). Fails with
  // NotFound, or InvalidArgument with DynamoDB's texts: "TimeToLive is
  // already enabled", "TimeToLive is already disabled", "TimeToLive is
  // active on a different AttributeName: current AttributeName is <name>".
  virtual Result<TableInfo> UpdateTimeToLive(const std::string& name,
                                             bool enabled,
                                             const std::string& attribute) = 0;
  // TagResource / UntagResource: sets the tags of `set` (replacing values of
  // existing keys), then removes the keys of `remove` (absent keys are
  // ignored). The caller validates keys and values. Fails with NotFound, or
  // InvalidArgument when the table would have more than kMaxTagsPerTable
  // tags ("Number of Tags exceed the current limit for the provided
  // ResourceArn"); then nothing changes.
  virtual Result<TableInfo> UpdateTags(
      const std::string& name, const std::map<std::string, std::string>& set,
      const std::vector<std::string>& remove) = 0;
  // Deletes the expired items of `table` (of every table with TTL enabled
  // when absent) through Table::DeleteExpired, so each delete is re-checked
  // under the item's lock and its stream record carries the service
  // identity. Returns how many items were deleted; 0 for a table without
  // TTL. Fails with NotFound when `table` does not exist. Runs in the
  // background every ttl_sweep_interval_ms; concurrent calls are
  // serialised.
  virtual Result<int64_t> SweepExpired(
      const std::optional<std::string>& table) = 0;
  // Names in ascending order, starting after `exclusive_start` (if any), at
  // most `limit`; tables being restored included.
  virtual std::vector<std::string> ListTables(
      const std::optional<std::string>& exclusive_start, size_t limit) = 0;
  // nullptr when there is no such table, or while it is being restored
  // (CREATING tables are not served).
  virtual std::shared_ptr<Table> GetTable(const std::string& name) = 0;
  // DescribeTable: any table, also one being restored (CREATING, with its
  // restore in TableInfo::restore); nullopt when there is none.
  virtual std::optional<TableInfo> DescribeTable(const std::string& name) = 0;

  // --- Backups (backup.h). Errors: NotFound (table or backup),
  // AlreadyExists (a restore's target table name is taken), Busy (the
  // backup or table is in use: a CREATING backup cannot be deleted or
  // restored, a CREATING table cannot be backed up).

  // Takes the cut now and writes the backup in the background; returns it
  // CREATING.
  virtual Result<BackupInfo> CreateBackup(const std::string& table,
                                          const std::string& name) = 0;
  virtual Result<BackupInfo> DescribeBackup(const std::string& id) = 0;
  // Every backup (also of deleted tables), oldest first.
  virtual std::vector<BackupInfo> ListBackups() = 0;
  // Removes the backup's files; returns it DELETED.
  virtual Result<BackupInfo> DeleteBackup(const std::string& id) = 0;
  // Creates table `target` (its name, keys, definitions, indexes, billing;
  // the caller derives it from the backup's table) CREATING and fills it
  // in the background from the backup.
  virtual Result<TableInfo> RestoreTableFromBackup(
      const std::string& id, const TableSchema& target) = 0;

  // --- Point-in-time recovery.

  // Enables or disables it on `table` (NotFound). Disabling drops the
  // history.
  virtual Result<ContinuousBackups> UpdateContinuousBackups(
      const std::string& table, bool enabled) = 0;
  virtual Result<ContinuousBackups> DescribeContinuousBackups(
      const std::string& table) = 0;
  // Creates `target` CREATING and fills it in the background with the
  // state `source` had at `time_ms`. InvalidArgument when recovery is not
  // enabled on `source` ("Point in time recovery is not enabled for table
  // '<name>'") or time_ms is outside its window (OutOfRange).
  virtual Result<TableInfo> RestoreTableToPointInTime(
      const std::string& source, int64_t time_ms,
      const TableSchema& target) = 0;
  // --- ImportTable: a table created CREATING (listed and described, never
  // served) that its importer fills through GetImportTable's Table, then
  // makes ACTIVE (FinishImportTable, which recounts it) or removes
  // (AbandonImportTable, with the reason logged). It survives a restart
  // CREATING, for its importer to empty (ResetImportTable) and fill again,
  // or abandon. AlreadyExists as CreateTable; the others NotFound when no
  // such table is being imported.
  virtual Result<TableInfo> CreateImportTable(const TableSchema& schema,
                                              const std::string& import_id) = 0;
  virtual std::shared_ptr<Table> GetImportTable(const std::string& name) = 0;
  virtual Status ResetImportTable(const std::string& name) = 0;
  virtual Status FinishImportTable(const std::string& name) = 0;
  virtual Status AbandonImportTable(const std::string& name,
                                    const std::string& why) = 0;

  // Calls `visit` with every item (its stored EncodeItem bytes) table
  // `name` held at `time_ms`, read from one consistent cut (see backup.h),
  // on the caller's thread: NotFound, InvalidArgument when point-in-time
  // recovery is off on the table, OutOfRange when time_ms is outside its
  // window. Ends early with visit's error, or Busy once `stop` is set.
  // For long reads (exports): the caller paces itself.
  virtual Status ReadTableAt(
      const std::string& name, int64_t time_ms,
      const std::function<Status(std::string_view encoded)>& visit,
      const std::atomic<bool>& stop) = 0;
  // --- Snapshots: a consistent copy of the whole data directory (tables,
  // stream logs, trigger checkpoints, backups, export and import records)
  // that Open opens as it is (as after a crash: LevelDB's log and the
  // streams' tails are replayed). See store/src/snapshot.cc.
  struct SnapshotProgress {
    std::atomic<int64_t> files_total{0};
    std::atomic<int64_t> files_copied{0};
    std::atomic<int64_t> bytes_total{0};
    std::atomic<int64_t> bytes_copied{0};
  };
  // Copies into `dir` (created; it must not exist, or be empty, and must
  // not be inside the data directory: InvalidArgument), on the caller's
  // thread, reporting to *progress. Every write (and read) waits for the
  // instant the cut takes (hard links of the files, and copies of the
  // small ones); the bytes are copied after. On failure the copy is
  // removed. A snapshot interrupted by a restart is removed by the next
  // Open (logged).
  virtual Status Snapshot(const std::string& dir,
                          SnapshotProgress* progress) = 0;

  // LevelDB's estimate of the disk bytes (compressed, in its table files;
  // what is still only in its log is not counted) of the table's items
  // and of its point-in-time history (NotFound).
  struct DiskUsage {
    int64_t item_bytes = 0;
    int64_t history_bytes = 0;
  };
  virtual Result<DiskUsage> ApproximateDiskUsage(const std::string& table) = 0;

  // The streams of `table` (of every table when absent), each table name's
  // latest first, including disabled streams still within retention, also
  // those of deleted tables.
  virtual std::vector<std::shared_ptr<ChangeStream>> ListStreams(
      const std::optional<std::string>& table) = 0;
  // nullptr when no stream of a table of that name (existing or deleted
  // within retention) has that label.
  virtual std::shared_ptr<ChangeStream> GetStream(const std::string& table,
                                                  const std::string& label) = 0;
  // Trims stream records older than the retention period and removes
  // disabled streams past it. Runs in the background every
  // maintenance_interval_ms; callable directly (tests, tools).
  virtual Status TrimStreams() = 0;
  // Rolls over every enabled stream whose current shards are
  // stream_rollover_ms old (eddy/store/change_stream.h). Runs in the
  // background with the trimming; tests call it directly.
  virtual Status RollOverStreams() = 0;

  // Applies every action in one atomic commit, or none: the items, and
  // their change records in every stream they belong to, all commit or
  // none do (store/src/transaction.h). Transactions are serialisable with
  // each other and with single-item writes. Two actions on one item are
  // InvalidArgument; a table deleted meanwhile is NotFound.
  virtual Result<TransactWriteResult> TransactWrite(
      const std::vector<TransactWriteAction>& actions) = 0;
  // Reads the items at one point in time (a snapshot): no transaction is
  // ever seen half-applied.
  virtual Result<std::vector<std::optional<Item>>> TransactGet(
      const std::vector<TransactGetAction>& gets) = 0;

  // OK, or the failure the store is recovering from: writes fail with
  // IOError until it has recovered, reads go on.
  virtual Status health() const = 0;
  // False while item counts and sizes are recomputed in the background
  // after a crash (see above).
  virtual bool statistics_exact() const = 0;

  // Writes statistics back and closes LevelDB. Called by the destructor.
  // After a failure the store has not recovered from, writes nothing back:
  // the next Open recovers.
  virtual Status Close() = 0;
};

}  // namespace eddy::store

#endif  // EDDY_STORE_DATABASE_H_
