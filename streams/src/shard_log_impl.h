// ShardLogImpl: the segment-file ShardLog. Private to streams.
//
// Locking. mu_ guards all mutable state, including the mutable members of
// every Segment in segments_. Appends write while holding mu_ (that is what
// orders them); fsyncs run outside it except when a segment is rolled (rare:
// once per Options::segment_bytes). Lock order:
//   trim_mu_ -> Segment::scan_mu -> mu_ -> cb_mu_.
// Callbacks run holding only cb_mu_, handed over from mu_ so they run in
// the order the values were published.
//
// Sequence numbers: last_written_ >= synced_ and last_written_ >= visible_;
// visible_ == last_written_ without sync_on_append, visible_ <= synced_ with
// it. Every record <= synced_ is fsync'ed; in the active segment they end at
// synced_offset_.
//
// Failures. A failed write is cut off the file at once (truncate) and
// leaves the log as it was: its number is never used, nothing of it is
// visible. A failed fdatasync, a truncate that fails too, or a roll that
// leaves a half-made segment behind set failed_: every Append, Sync, Seal
// and Close first repairs the log (RepairLocked: remove the half-made
// segment, cut the active segment at the end of its last record, and after a
// failed fdatasync read back, check and rewrite the records since the last
// good one, then fdatasync), and fails with the repair's error while the
// cause lasts. Records are never dropped by a repair: those written before
// the failure keep their numbers, so readers see no gap and no repeat.
#ifndef EDDY_STREAMS_SRC_SHARD_LOG_IMPL_H_
#define EDDY_STREAMS_SRC_SHARD_LOG_IMPL_H_

#include <atomic>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "eddy/streams/file_system.h"
#include "eddy/streams/shard_log.h"
#include "log_format.h"
#include "mutex.h"
#include "posix_file.h"
#include "segment.h"
#include "thread_annotations.h"

namespace eddy::streams {

class ShardLogImpl final : public ShardLog {
 public:
  static Result<std::unique_ptr<ShardLogImpl>> OpenImpl(Options options);

  ~ShardLogImpl() override;

  Result<uint64_t> Append(std::string_view payload,
                          int64_t timestamp_ms) override;
  Result<uint64_t> Append(std::string_view payload) override;
  Status Sync(uint64_t sequence) override;
  Result<ReadResult> Read(uint64_t from_sequence, size_t max_records,
                          size_t max_bytes) override;
  uint64_t first_sequence() const override;
  uint64_t last_sequence() const override;
  int64_t first_timestamp_ms() const override;
  Status TrimBefore(int64_t timestamp_ms) override;
  Status Seal() override;
  bool sealed() const override;
  int64_t sealed_timestamp_ms() const override;
  Status status() const override;
  Status Repair() override;
  Status Checkpoint() override;
  uint64_t WaitForRecordsAfter(uint64_t sequence,
                               std::chrono::milliseconds timeout) override;
  SubscriptionId Subscribe(
      std::function<void(uint64_t last_sequence)> callback) override;
  void Unsubscribe(SubscriptionId id) override;
  Status Close() override;
  Status Destroy() override;

  // Test hooks.
  // Runs `hook` before every segment fdatasync (a group commit's runs
  // outside mu_; a roll's, Seal's and Close's under it).
  void TEST_SetSyncHook(std::function<void()> hook) EDDY_EXCLUDES(test_mu_);
  // Segment fdatasyncs so far (injected failures included).
  uint64_t TEST_SyncCount() const { return test_sync_count_.load(); }
  // Records written, visible or not.
  uint64_t TEST_LastWritten() const EDDY_EXCLUDES(mu_);
  size_t TEST_SegmentCount() const EDDY_EXCLUDES(mu_);
  // Segments whose file is open: the active one's, and those in the file
  // cache.
  size_t TEST_OpenSegmentFiles() const EDDY_EXCLUDES(mu_);

 private:
  ShardLogImpl(Options options, File lock_file);

  // Read, without reporting damage.
  Result<ReadResult> ReadRecords(uint64_t from_sequence, size_t max_records,
                                 size_t max_bytes);
  // Loads the segments and recovers the newest one (Open).
  Status Recover();
  Status RecoverLastSegment(Segment* segment,
                            const std::optional<format::Checkpoint>& checkpoint)
      EDDY_REQUIRES(mu_);
  // The CHECKPOINT file's content, if there is an intact one.
  std::optional<format::Checkpoint> ReadCheckpoint();
  // Fills *summary from a checkpoint of `segment` after checking it against
  // the file (the records from its last index entry to its end).
  Status UseCheckpoint(const Segment& segment, const format::Checkpoint& c,
                       SegmentSummary* summary);
  format::Checkpoint CheckpointOfLocked(const Segment& segment)
      EDDY_REQUIRES(mu_);
  Status WriteCheckpoint(const format::Checkpoint& checkpoint);
  Result<bool> ReadSealMarker(int64_t* sealed_at_ms);
  Status WriteSealMarker(int64_t sealed_at_ms);

  // fdatasync of a segment file (runs the test hook first).
  Status SyncSegment(const File& file, const std::string& path);
  // Records a failure that needs a repair before the next write (first
  // failure's status wins). `sync_failed`: an fdatasync failed, so the
  // records since the last good one must be written again.
  void FailLocked(const Status& status, bool sync_failed) EDDY_REQUIRES(mu_);
  // OK unless the log is closed or sealed.
  Status CheckWritableLocked() const EDDY_REQUIRES(mu_);
  // Brings a failed log back to a state an append may continue from (see
  // the file comment); OK at once if it has not failed. May wait for a
  // group commit in progress.
  Status RepairLocked() EDDY_REQUIRES(mu_);
  // Checks and writes again [synced_offset_, end) of the active segment.
  Status RewriteUnsyncedLocked(const Segment& active) EDDY_REQUIRES(mu_);
  // Fsyncs the active segment and starts a new one after last_written_.
  Status RollLocked(int64_t base_timestamp_ms) EDDY_REQUIRES(mu_);
  // Builds the summary (index, timestamps) of a closed segment on first use
  // and checks its records.
  Status EnsureScanned(const std::shared_ptr<Segment>& segment)
      EDDY_EXCLUDES(mu_);
  // The segment's open file: the active one's own, a closed one's from the
  // file cache (opened again if it is not there; OutOfRange once a trim
  // removed it).
  Result<std::shared_ptr<const File>> OpenedFile(
      const std::shared_ptr<Segment>& segment) EDDY_EXCLUDES(mu_);
  // A sealed log appends no more: its newest segment's file goes to the
  // file cache like any closed segment's.
  void CloseActiveFileLocked() EDDY_REQUIRES(mu_);
  SegmentFileCache& file_cache() const { return *options_.file_cache; }

  // Raises visible_ to `visible` (if higher), wakes waiters and runs the
  // callbacks; releases mu_.
  void PublishAndUnlock(uint64_t visible) EDDY_RELEASE(mu_);
  // Runs the callbacks with `value`; releases mu_.
  void NotifyAndUnlock(uint64_t value) EDDY_RELEASE(mu_);

  std::string SegmentPath(uint64_t base) const;

  const Options options_;
  const std::shared_ptr<spdlog::logger> logger_;
  FileSystem* const fs_;

  Mutex trim_mu_;        // Serialises TrimBefore.
  Mutex checkpoint_mu_;  // Serialises Checkpoint.

  mutable Mutex mu_;
  CondVar visible_cv_{&mu_};  // visible_ grew, or sealed / closed.
  CondVar sync_cv_{&mu_};     // A group commit finished.
  File lock_file_ EDDY_GUARDED_BY(mu_);
  // Oldest first; back() is the active segment. Never empty once open.
  std::deque<std::shared_ptr<Segment>> segments_ EDDY_GUARDED_BY(mu_);
  uint64_t last_written_ EDDY_GUARDED_BY(mu_) = 0;
  uint64_t synced_ EDDY_GUARDED_BY(mu_) = 0;
  uint64_t visible_ EDDY_GUARDED_BY(mu_) = 0;
  uint64_t synced_offset_ EDDY_GUARDED_BY(mu_) = 0;
  int64_t first_timestamp_ms_ EDDY_GUARDED_BY(mu_) = 0;
  bool sync_in_progress_ EDDY_GUARDED_BY(mu_) = false;
  bool sealed_ EDDY_GUARDED_BY(mu_) = false;
  int64_t sealed_at_ms_ EDDY_GUARDED_BY(mu_) = 0;
  bool opened_ EDDY_GUARDED_BY(mu_) = false;  // Recover succeeded.
  bool closed_ EDDY_GUARDED_BY(mu_) = false;
  // Not OK: the log needs a repair before the next write.
  Status failed_ EDDY_GUARDED_BY(mu_);
  bool sync_failed_ EDDY_GUARDED_BY(mu_) = false;
  // What the last Checkpoint() wrote.
  uint64_t checkpointed_base_ EDDY_GUARDED_BY(mu_) = 0;
  uint64_t checkpointed_offset_ EDDY_GUARDED_BY(mu_) = 0;
  // A half-made segment file a failed roll could not remove.
  std::string stray_segment_ EDDY_GUARDED_BY(mu_);
  int waiters_ EDDY_GUARDED_BY(mu_) = 0;
  // Mirrors !subscribers_.empty(), readable under mu_ alone.
  bool has_subscribers_ EDDY_GUARDED_BY(mu_) = false;

  Mutex damage_mu_;
  std::string reported_damage_ EDDY_GUARDED_BY(damage_mu_);

  Mutex cb_mu_;
  std::vector<std::pair<SubscriptionId, std::function<void(uint64_t)>>>
      subscribers_ EDDY_GUARDED_BY(cb_mu_);
  SubscriptionId next_subscription_id_ EDDY_GUARDED_BY(cb_mu_) = 0;

  std::atomic<uint64_t> test_sync_count_{0};
  mutable Mutex test_mu_;
  std::function<void()> test_sync_hook_ EDDY_GUARDED_BY(test_mu_);
};

}  // namespace eddy::streams

#endif  // EDDY_STREAMS_SRC_SHARD_LOG_IMPL_H_
