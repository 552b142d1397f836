// ChangeStreamImpl: the store's side of a stream — its shard logs, the
// change-record format, and the bookkeeping that makes an item write and its
// record one atomic commit.
//
// Commit protocol (DESIGN.md invariant 1), per write of an item in shard S:
//   1. Append the ChangeRecord (which carries the item's new image and its
//      LevelDB key) to S's log; the log assigns sequence q. With --sync the
//      record is fsync'ed (group commit) before step 2.
//   2. Write the item to LevelDB in one batch with S's "applied" marker
//      M = (smallest sequence of S still between steps 1 and 2) - 1: every
//      record <= M is in LevelDB. Writes of one item are serialised by the
//      table's item lock, so an item's records are in commit order.
// Recovery (Database::Open): for the enabled stream of each table, replay
// every record of S after the stored marker, in order, re-applying its image
// (or delete) at its key; replay is idempotent because applying a shard's
// records in order leaves each item at its last record's image.
//
// A failed step 2 (LevelDB write), or a failed fsync of the record under
// --sync, is handled the same way without a restart: the write fails with
// IOError (its outcome is unknown, as DynamoDB's InternalServerError), its
// ticket stays in flight so no later marker passes q, and the store's
// DbHandle is failed before the item's lock is released, so no other write
// runs until the recovery (database.cc) has reopened LevelDB and replayed
// from the markers — q included — and then ResetInflight(). The record is
// thus applied exactly once and the table never lags its stream for good.
// A failed step 1 (append) leaves nothing behind (the log cuts the record
// off and reuses its number) and needs no recovery. Disabling a
// stream first waits for in-flight writes, then stores the exact marker
// (the last sequence) with the catalog change, then seals the shards, so a
// disabled stream is never replayed over later writes.
//
// Thread-safety: all methods may be called concurrently.
#ifndef EDDY_STORE_SRC_CHANGE_STREAM_IMPL_H_
#define EDDY_STORE_SRC_CHANGE_STREAM_IMPL_H_

#include <spdlog/logger.h>

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "eddy/store/change_stream.h"
#include "eddy/streams/stream_log.h"

namespace eddy::store {

class ChangeStreamImpl final : public ChangeStream {
 public:
  // A record appended but not yet applied to LevelDB.
  struct Ticket {
    uint32_t shard = 0;
    uint64_t sequence = 0;
    uint64_t marker = 0;  // Store this as the shard's applied marker.
  };

  // Opens (creating if needed) the shard logs under `dir`.
  // `file_system`: for the shard logs (null: the real one).
  static Result<std::shared_ptr<ChangeStreamImpl>> Open(
      std::string dir, uint64_t table_id, StreamDescription description,
      std::shared_ptr<spdlog::logger> logger,
      streams::FileSystem* file_system = nullptr);

  StreamDescription description() const override;
  uint32_t shard_count() const override { return log_->shard_count(); }
  streams::ShardLog* shard(uint32_t index) const override {
    return log_->shard(index);
  }
  Result<ChangeRecord> Decode(const streams::LogRecord& record) const override;

  // Builds the payload of a change from `old_image` to `new_image` (either
  // may be absent, not both). `transaction_id` is 0 outside a
  // multi-record transaction.
  std::string EncodeChange(const std::string& db_key, const Item& keys,
                           const std::optional<Item>& old_image,
                           const std::optional<Item>& new_image,
                           bool service_delete, uint64_t transaction_id) const;

  Result<Ticket> Append(uint32_t shard, std::string_view payload,
                        int64_t timestamp_ms);
  Status Sync(const Ticket& ticket);
  // Called once the ticket's item is written to LevelDB (not when that
  // failed: the record then waits for the redo).
  void Applied(const Ticket& ticket);
  // Forgets every ticket in flight, after the redo applied every record.
  // REQUIRES: no write of the table in flight.
  void ResetInflight();

  // The LevelDB key of a shard's applied marker.
  std::string MarkerKey(uint32_t shard) const;
  uint64_t table_id() const { return table_id_; }
  const std::string& dir() const { return dir_; }

  // Marks the stream disabled at `disabled_ms` and seals its shards.
  // REQUIRES: no write of the table is in flight.
  Status Disable(int64_t disabled_ms);
  // Seals the shards of a disabled stream not sealed yet (sealing failed
  // when it was disabled). OK for an enabled or sealed stream.
  Status SealIfDisabled();
  // Removes the stream's files (the table or the stream is gone).
  Status Destroy() { return log_->Destroy(); }
  // Checkpoints the shard logs: a restart scans only later records.
  Status Checkpoint() { return log_->Checkpoint(); }
  Status TrimBefore(int64_t timestamp_ms) {
    return log_->TrimBefore(timestamp_ms);
  }

 private:
  struct Shard {
    std::mutex mu;                // Orders appends with `inflight`.
    std::set<uint64_t> inflight;  // Appended, not yet applied.
  };

  ChangeStreamImpl(std::string dir, uint64_t table_id,
                   StreamDescription description,
                   std::shared_ptr<spdlog::logger> logger);

  const std::string dir_;
  const uint64_t table_id_;
  std::shared_ptr<spdlog::logger> logger_;
  mutable std::mutex description_mu_;
  StreamDescription description_;
  std::unique_ptr<streams::StreamLog> log_;
  std::vector<std::unique_ptr<Shard>> shards_;  // One per shard of log_.
};

// "2026-11-26T21:40:00.123" for a UTC time in milliseconds.
std::string StreamLabel(int64_t ms);

}  // namespace eddy::store

#endif  // EDDY_STORE_SRC_CHANGE_STREAM_IMPL_H_
