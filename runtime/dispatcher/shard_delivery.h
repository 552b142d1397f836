// ShardDelivery: the delivery of one trigger on one shard of its stream:
// read from the checkpoint, filter, batch, invoke the handler on a worker,
// apply Lambda's failure rules (batch_rules.h), dead-letter what cannot be
// delivered, and move the durable checkpoint past every finished record.
//
// Threads. A reader thread reads the shard log and hands each record that
// passes the filters to one of ParallelizationFactor lanes, chosen by the
// hash of its partition key, so all records of an item go to one lane, in
// shard order. Each lane thread batches its records and delivers them
// (one invocation at a time per lane): records of one partition key are
// handled in order, different keys concurrently (Lambda's
// ParallelizationFactor). The reader stays at most a few batches ahead of
// the checkpoint.
//
// Push, not polling: the reader subscribes to the shard log
// (ShardLog::Subscribe) and sleeps on a condition variable that a commit
// rings, so a record reaches a lane as soon as it is appended. With a
// batching window a lane waits at most that long for a fuller batch.
//
// The checkpoint is the sequence of the oldest record read and not yet
// finished (handled, filtered or dead-lettered), or the read position when
// none is pending. It only moves forward and is written to the trigger
// store before the next invocation of the lane that moved it, so a restart
// repeats at most the records that were in flight (at-least-once).
//
// Thread-safety: Start/RequestStop/Stop from one controlling thread.
#ifndef EDDY_RUNTIME_DISPATCHER_SHARD_DELIVERY_H_
#define EDDY_RUNTIME_DISPATCHER_SHARD_DELIVERY_H_

#include <spdlog/logger.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "dispatcher/batch_rules.h"
#include "dispatcher/recent_errors.h"
#include "dispatcher/record_filter.h"
#include "dispatcher/trigger_config.h"
#include "dispatcher/trigger_store.h"
#include "dispatcher/worker_pool.h"
#include "eddy/store/change_stream.h"
#include "eddy/store/database.h"

namespace eddy::runtime::dispatcher {

// Per-trigger counters, shared by the trigger's shard loops.
struct TriggerMetrics {
  std::atomic<uint64_t> invocations{0};
  std::atomic<uint64_t> errors{0};   // Invocations that did not succeed.
  std::atomic<uint64_t> retries{0};  // Invocations repeated after a failure.
  std::atomic<uint64_t> records_handled{0};
  std::atomic<uint64_t> dead_lettered{0};
  std::atomic<uint64_t> filtered{0};
  std::atomic<uint64_t> skipped_trimmed{0};  // Trimmed before delivery.
  std::atomic<int64_t> iterator_age_ms{0};
  RecentErrors recent_errors;  // The last failed invocations.
};

struct ShardDeliveryContext {
  TriggerConfig config;
  std::shared_ptr<store::ChangeStream> stream;
  uint32_t shard = 0;
  std::string shard_id;
  std::string stream_arn;
  std::string function_arn;
  std::string region;
  std::string worker_group;
  WorkerGroupLimits limits;
  // The table's partition key attribute (routes records to lanes); "" if
  // unknown, which puts every record on one lane.
  std::string partition_key;
  // The open tumbling window saved with the checkpoint, if any.
  std::optional<WindowCheckpoint> window;
  WorkerPool* pool = nullptr;
  store::Database* db = nullptr;  // For a "table:" on-failure destination.
  TriggerStore* store = nullptr;
  TriggerMetrics* metrics = nullptr;
  // The shard's checkpoint, owned by the trigger; the loop updates it.
  std::atomic<uint64_t>* checkpoint = nullptr;
  // Called after every checkpoint move (wakes drain barriers).
  std::function<void()> on_progress;
  // Age after which a record is dead-lettered when MaximumRecordAge is -1
  // (the stream's retention).
  int64_t record_expiry_ms = 24LL * 3600 * 1000;
  std::function<int64_t()> clock_ms;  // Wall clock; defaults to system.
  std::shared_ptr<spdlog::logger> logger;
};

class ShardDelivery {
 public:
  explicit ShardDelivery(ShardDeliveryContext context);
  ~ShardDelivery();  // Calls Stop().

  void Start();
  // Asks the threads to end after the invocations in flight (if any);
  // returns at once. The pool's RetireGroup ends those invocations early.
  void RequestStop();
  // RequestStop(), then waits for the threads to end.
  void Stop();

 private:
  struct Entry {
    uint64_t sequence = 0;
    int64_t timestamp_ms = 0;
    store::ChangeRecord record;
    std::string wire;  // The record as a batch carries it (serialised).
    std::string sequence_text;
  };
  // A record read and not yet finished, in sequence order.
  struct Slot {
    uint64_t sequence = 0;
    bool done = false;
  };
  // The open tumbling window (tumbling_window_s > 0, one lane only).
  struct Window {
    int64_t start_ms = 0;
    int64_t end_ms = 0;
    std::string state;
    bool terminated_early = false;  // State grew past 1 MB.
  };
  struct Lane {
    std::deque<Entry> queue;  // Guarded by mu_.
    std::thread thread;
  };

  void RunReader() noexcept;
  void ReadLoop();
  void RunLane(size_t lane) noexcept;
  void LaneLoop(size_t lane);
  // Delivers every entry (handled or dead-lettered); false if stopped
  // first (unfinished entries then stay pending).
  bool Deliver(std::vector<Entry>& entries);
  Status DeadLetter(const std::vector<Entry>& entries, RecordRange range,
                    const RetryPlanner::Step& step,
                    const BatchVerdict& last_failure);
  // The "table:" destination: one item per record (see docs/triggers.md).
  Status DeadLetterToTable(const std::string& table,
                           const std::vector<Entry>& entries, RecordRange range,
                           const std::string& document);
  // Marks entries [range) finished and moves the checkpoint; in a
  // tumbling window, `window_state` (if not null) becomes its state, saved
  // together with the checkpoint.
  void Finish(const std::vector<Entry>& entries, RecordRange range,
              const std::string* window_state = nullptr);
  // Tumbling windows: whether the open window must be closed before the
  // records in `queue` (or because its time is over). REQUIRES: mu_ held.
  bool WindowDue(const std::deque<Entry>& queue) const;
  int64_t WindowOf(int64_t timestamp_ms) const;
  // The last call of the open window (isFinalInvokeForWindow); retried
  // until it succeeds (Lambda: a failed final invoke halts the shard).
  // False when stopping.
  bool CloseWindow();
  void FillWindow(bool final, proto::InvokeBatch* batch);
  // Pops finished slots and persists the new checkpoint. REQUIRES: mu_ not
  // held.
  void Advance();
  void SetCheckpoint(uint64_t next, std::optional<WindowCheckpoint> window,
                     uint64_t version);
  size_t LaneOf(const store::ChangeRecord& record) const;
  // Whether `record` passes the trigger's filters.
  bool PassesFilters(const store::ChangeRecord& record, uint64_t sequence);
  // Sleeps up to `ms` unless stopped; false when stopping.
  bool Pause(int64_t ms);
  bool stopping();

  ShardDeliveryContext ctx_;
  streams::ShardLog* log_;
  std::unique_ptr<RecordFilter> filter_;  // Null: no filters.
  size_t max_pending_ = 0;                // Read-ahead bound, in records.
  std::thread reader_;
  std::vector<std::unique_ptr<Lane>> lanes_;

  std::mutex mu_;
  // One condition for every wait (new records, room to read ahead, lane
  // work, stop); few threads wait on it, so notify_all is cheap.
  std::condition_variable cv_;
  bool stop_ = false;       // Guarded by mu_.
  uint64_t notified_ = 0;   // Newest last_sequence reported; guarded by mu_.
  uint64_t read_next_ = 0;  // Next sequence to read; guarded by mu_.
  std::deque<Slot> slots_;  // Guarded by mu_.
  std::optional<Window> window_;  // Guarded by mu_; lane 0 writes it.
  // What Advance last saw, to write only changes; guarded by mu_.
  uint64_t advanced_next_ = 0;
  bool window_dirty_ = false;
  uint64_t version_ = 0;        // Of (checkpoint, window); guarded by mu_.
  std::mutex checkpoint_mu_;    // Serialises checkpoint writes.
  uint64_t saved_version_ = 0;  // Guarded by checkpoint_mu_.
};

}  // namespace eddy::runtime::dispatcher

#endif  // EDDY_RUNTIME_DISPATCHER_SHARD_DELIVERY_H_
