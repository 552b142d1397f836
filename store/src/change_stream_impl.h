// ChangeStreamImpl: the store's side of a stream — its shard logs, the
// change-record format, and the bookkeeping that makes an item write and its
// record one atomic commit.
//
// Commit protocol (DESIGN.md invariant 1), per write of an item in shard S:
//   1. Append the ChangeRecord (which carries the item's new image, or for
//      a delete its old one: the image names the item's LevelDB key) to S's
//      log; the log assigns sequence q. With --sync the record is fsync'ed
//      (group commit) before step 2.
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
// Generations (rollover, see eddy/store/change_stream.h). Generation 0's
// shard logs are the stream directory's shard-NNNN (as before rollovers
// existed); generation g >= 1 is its own streams::StreamLog in
// <dir>/gen-NNNNNN. A rollover runs with the table's writes paused, in
// three steps: PrepareRollover opens the next generation's logs; the
// caller writes the catalog (the new generation, and the exact applied
// markers of the closing shards) in one batch; CommitRollover seals the
// closing shards and routes new writes to the new ones. A crash after the
// catalog write and before the seal leaves closed shards unsealed: Open
// seals every shard of a generation before the last. A crash before the
// catalog write leaves an unknown gen- directory that the next rollover
// opens again. Retiring generations (their records all expired) goes the
// same way: the catalog first (first_generation), then the files; Open
// deletes what a crash left of retired generations.
//
// Thread-safety: all methods may be called concurrently.
#ifndef EDDY_STORE_SRC_CHANGE_STREAM_IMPL_H_
#define EDDY_STORE_SRC_CHANGE_STREAM_IMPL_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

#include "eddy/store/change_stream.h"
#include "eddy/streams/stream_log.h"

namespace eddy::proto {
class ChangeRecord;
}  // namespace eddy::proto

namespace eddy::store {

// Whether a stored record holds a new (old) image, whichever version wrote
// it: records written since segment format 2 leave has_new_image and
// has_old_image unset (an encoded item is never empty), the event name
// unset where the images tell it, and size_bytes unset (Decode computes it).
bool StoredNewImage(const proto::ChangeRecord& record);
bool StoredOldImage(const proto::ChangeRecord& record);

class ChangeStreamImpl final : public ChangeStream {
 public:
  // A record appended but not yet applied to LevelDB.
  struct Ticket {
    uint32_t shard = 0;
    uint64_t sequence = 0;
    uint64_t marker = 0;  // Store this as the shard's applied marker.
  };

  // Opens (creating if needed) the shard logs under `dir`, each with
  // `shard_options` (its dir and first_sequence are the stream's).
  static Result<std::shared_ptr<ChangeStreamImpl>> Open(
      std::string dir, uint64_t table_id, StreamDescription description,
      streams::ShardLog::Options shard_options);

  StreamDescription description() const override;
  uint32_t width() const override { return width_; }
  uint32_t shard_count() const override;
  uint32_t first_shard() const override;
  streams::ShardLog* shard(uint32_t index) const override;
  uint32_t ShardFor(uint32_t hash) const override {
    return current_base_.load(std::memory_order_acquire) + hash % width_;
  }
  Result<ChangeRecord> Decode(uint32_t shard,
                              const streams::LogRecord& record) const override;

  // Builds the payload of a change from `old_image` to `new_image`
  // (either may be absent, not both). `new_encoded`: new_image's encoding
  // if already made (else empty). `transaction_id` is 0 outside a
  // multi-record transaction.
  std::string EncodeChange(const std::optional<Item>& old_image,
                           const std::optional<Item>& new_image,
                           std::string_view new_encoded, bool service_delete,
                           uint64_t transaction_id) const;
  // A stored record's item, for telling records apart: its LevelDB key as
  // written by earlier versions, else the encoding of its key attributes
  // (taken from an image).
  Result<std::string> ItemIdentity(const proto::ChangeRecord& record) const;

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
  Status Destroy();
  // Closes every shard log (ShardLog::Close): later appends and reads fail.
  // The store does it when it closes, before it lets go of the data
  // directory's lock, which is all that keeps another process out of the
  // logs. Returns the first error after closing all.
  Status Close();
  // Checkpoints the live generations' shard logs: a restart scans only
  // later records.
  Status Checkpoint();
  Status TrimBefore(int64_t timestamp_ms);

  // Rollover, step 1: opens the next generation's shard logs (created
  // later than every shard so far: max(now_ms, newest + 1)) and returns
  // the description with it. REQUIRES: writes paused; enabled.
  Result<StreamDescription> PrepareRollover(int64_t now_ms);
  // Step 3, after the catalog has the prepared description: seals the
  // current generation and makes the prepared one current.
  Status CommitRollover();
  // The generation below which every closed generation was sealed before
  // `horizon_ms` and holds no record any more (all expired): what
  // first_generation may become.
  uint32_t RetirableBefore(int64_t horizon_ms) const;
  // After the catalog says first_generation = `first`: deletes the files
  // of the generations below it (their ShardLog objects stay, closed).
  Status Retire(uint32_t first);

 private:
  struct Shard {
    std::mutex mu;                // Orders appends with `inflight`.
    std::set<uint64_t> inflight;  // Appended, not yet applied.
  };

  ChangeStreamImpl(std::string dir, uint64_t table_id,
                   StreamDescription description,
                   streams::ShardLog::Options shard_options);
  std::string GenerationDir(uint32_t generation) const;
  Result<std::unique_ptr<streams::StreamLog>> OpenGeneration(
      uint32_t generation) const;
  Shard* ShardState(uint32_t index) const;
  // The key attributes of a record's `image` into *keys (Corruption if one
  // is missing).
  Status KeysOf(const Item& image, uint64_t sequence, Item* keys) const;

  const std::string dir_;
  const uint64_t table_id_;
  const uint32_t width_;
  // Of the table id and the stream's label: the stream's part of every
  // derived eventID (EventId in change_stream.cc).
  const uint64_t event_id_seed_;
  const streams::ShardLog::Options shard_options_;
  // Guards description_, generations_ and shards_ (written by rollovers
  // and retirement, read by everything else).
  mutable std::shared_mutex mu_;
  StreamDescription description_;
  // By generation; null for generations retired before Open.
  std::vector<std::unique_ptr<streams::StreamLog>> generations_;
  // By shard index; null for generations retired before Open.
  std::vector<std::unique_ptr<Shard>> shards_;
  std::unique_ptr<streams::StreamLog> prepared_;  // Between the steps.
  int64_t prepared_ms_ = 0;
  // The first shard index of the current generation.
  std::atomic<uint32_t> current_base_{0};
};

// "2026-11-26T21:40:00.123" for a UTC time in milliseconds.
std::string StreamLabel(int64_t ms);

}  // namespace eddy::store

#endif  // EDDY_STORE_SRC_CHANGE_STREAM_IMPL_H_
