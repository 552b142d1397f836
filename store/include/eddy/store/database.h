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
// where hash = KeyHash(enc(pk)) spreads partitions (Scan order and parallel
// Scan segments follow it, as in DynamoDB) and enc() is the order-preserving
// key encoding of key_codec.h, so one partition's items are contiguous and
// sorted by sort key.
//
// Streams live beside LevelDB in <path>/streams/<table id>/<label>/shard-N
// (streams::ShardLog); change_stream_impl.h describes how an item write and
// its change record commit atomically and how Open replays records LevelDB
// lacks.
//
// Recovery: LevelDB's WAL makes every acknowledged batch durable against a
// process crash (and, with Options::sync, against power loss). Item counts
// and sizes are kept in memory and written back on a clean Close; after a
// crash Open recounts them.
//
// Thread-safety: all methods may be called concurrently.
#ifndef EDDY_STORE_DATABASE_H_
#define EDDY_STORE_DATABASE_H_

#include <spdlog/logger.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eddy/result.h"
#include "eddy/store/table.h"
#include "eddy/store/table_schema.h"

namespace eddy::store {

class Database {
 public:
  struct Options {
    std::string path;  // Data directory; created if missing.
    // fsync every write before it returns (survives power loss).
    bool sync = false;
    size_t block_cache_bytes = 64 * 1024 * 1024;
    // Shards per stream (records of one item always go to one shard).
    uint32_t stream_shards = 4;
    // Stream records older than this are trimmed, and disabled streams are
    // removed this long after they were disabled (DynamoDB: 24 hours).
    int64_t stream_retention_ms = 24LL * 60 * 60 * 1000;
    // How often the background maintenance (trimming) runs.
    int64_t maintenance_interval_ms = 60 * 1000;
    std::shared_ptr<spdlog::logger> logger;  // Defaults to "store".
  };

  static Result<std::unique_ptr<Database>> Open(Options options);

  virtual ~Database() = default;

  // Fails with AlreadyExists ("Table already exists: <name>").
  virtual Result<TableInfo> CreateTable(const TableSchema& schema) = 0;
  // Fails with NotFound. Items are removed in the background.
  virtual Result<TableInfo> DeleteTable(const std::string& name) = 0;
  virtual Result<TableInfo> UpdateTable(const std::string& name,
                                        const TableUpdate& update) = 0;
  // Names in ascending order, starting after `exclusive_start` (if any), at
  // most `limit`.
  virtual std::vector<std::string> ListTables(
      const std::optional<std::string>& exclusive_start, size_t limit) = 0;
  // nullptr when there is no such table.
  virtual std::shared_ptr<Table> GetTable(const std::string& name) = 0;

  // The streams of `table` (of every table when absent), each table's
  // latest first, including disabled streams still within retention.
  virtual std::vector<std::shared_ptr<ChangeStream>> ListStreams(
      const std::optional<std::string>& table) = 0;
  // nullptr when the table has no stream with that label.
  virtual std::shared_ptr<ChangeStream> GetStream(const std::string& table,
                                                  const std::string& label) = 0;
  // Trims stream records older than the retention period and removes
  // disabled streams past it. Runs in the background every
  // maintenance_interval_ms; callable directly (tests, tools).
  virtual Status TrimStreams() = 0;

  // Writes statistics back and closes LevelDB. Called by the destructor.
  virtual Status Close() = 0;
};

}  // namespace eddy::store

#endif  // EDDY_STORE_DATABASE_H_
