// ShardDelivery: the delivery of one trigger on one shard of its stream:
// read from the checkpoint, filter, batch, invoke the handler on a worker,
// apply Lambda's failure rules (batch_rules.h), dead-letter what cannot be
// delivered, and move the durable checkpoint past every finished record.
// The same code serves the server's triggers (a LocalStreamSource) and
// `eddy runner` (a RemoteStreamSource, checkpoints in a lease table).
//
// Threads. A reader thread reads the shard (ShardReader) and hands each
// record that passes the filters to one of ParallelizationFactor lanes,
// chosen by the hash of its partition key, so all records of an item go to
// one lane, in shard order. Each lane thread batches its records and
// delivers them (one invocation at a time per lane): records of one
// partition key are handled in order, different keys concurrently
// (Lambda's ParallelizationFactor). The reader stays at most a few batches
// ahead of the checkpoint.
//
// Waking up. A push source (Eddy's own shard logs) rings the reader when a
// commit appends, so a record reaches a lane as soon as it is written. A
// pull source (a remote Streams endpoint) is polled: after an empty read
// the reader waits the poll interval (Lambda's 250 ms by default), growing
// to at least 250 ms while the shard stays empty. A read that fails for
// something that passes with time (throttling, a 5xx, an unreachable
// endpoint) is retried after an exponential backoff with jitter; no record
// is skipped. With a batching window a lane waits at most that long for a
// fuller batch.
//
// The checkpoint is the position before the oldest record read and not yet
// finished (handled, filtered or dead-lettered), or the reader's position
// when none is pending; SHARD_END once a closed shard is read to its end
// and all its records are finished. It only moves forward and is saved
// (save_checkpoint) before the next invocation of the lane that moved it,
// so a restart repeats at most the records that were in flight
// (at-least-once).
//
// Ownership (eddy runner). With `may_invoke`, the delivery checks before
// every invocation that the shard is still its own (a lease held); a save
// that fails with ConditionFailed (the lease was taken: fencing) stops the
// delivery at once. Either way `on_stopped` tells the owner.
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
#include "dispatcher/stream_source.h"
#include "dispatcher/trigger_config.h"
#include "dispatcher/trigger_store.h"
#include "dispatcher/worker_pool.h"
#include "eddy/store/change_stream.h"

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
  std::atomic<uint64_t> trim_events{0};      // Positions found trimmed.
  std::atomic<uint64_t> read_errors{0};      // Reads retried after a backoff.
  std::atomic<uint64_t> reads{0};            // Reads (GetRecords calls).
  std::atomic<uint64_t> empty_reads{0};      // Reads that found nothing.
  std::atomic<int64_t> iterator_age_ms{0};
  RecentErrors recent_errors;  // The last failed invocations.
};

// What a checkpoint saves: where to resume and the open tumbling window.
struct ShardCheckpoint {
  ShardPosition position;
  std::optional<WindowCheckpoint> window;
  // The age of the newest finished record when it finished (Lambda's
  // IteratorAge), for status displays.
  int64_t iterator_age_ms = 0;
};

// A record given up on, for a "table:" on-failure destination: one item
// per record (docs/triggers.md).
struct FailureItem {
  std::string table;
  std::string id;  // <trigger>/<shard id>/<sequence number>: the hash key.
  std::string trigger;
  std::string failure;  // Lambda's failure document (JSON).
  std::string record;   // The record as the event carried it (JSON).
};

struct ShardDeliveryContext {
  TriggerConfig config;
  // Where the shard is read from; outlives the delivery.
  StreamSource* source = nullptr;
  StreamInfo stream;
  std::string shard_id;
  // Where reading starts (the saved checkpoint).
  ShardPosition start;
  // When not null, the reader to use instead of source->OpenShard.
  std::unique_ptr<ShardReader> reader;
  std::string function_arn;
  std::string region;
  std::string worker_group;
  WorkerGroupLimits limits;
  // The open tumbling window saved with the checkpoint, if any.
  std::optional<WindowCheckpoint> window;
  WorkerPool* pool = nullptr;
  TriggerMetrics* metrics = nullptr;
  // Persists a checkpoint durably. ConditionFailed means the shard is not
  // ours any more (fencing): the delivery stops. Other errors are retried
  // every second (a lost checkpoint only means repeats).
  std::function<Status(const ShardCheckpoint&)> save_checkpoint;
  // Writes a record to a "table:" on-failure destination.
  std::function<Status(const FailureItem&)> put_failure_item;
  // Whether the delivery may still invoke the handler; null: always.
  std::function<bool()> may_invoke;
  // Called once, from a delivery thread, when the delivery ends on its
  // own: the shard is finished (SHARD_END saved) or no longer ours.
  enum class StopReason : uint8_t { kShardEnd, kNotOwner };
  std::function<void(StopReason)> on_stopped;
  // Pull sources: the wait after an empty read.
  int64_t poll_interval_ms = 250;
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
  // Whether every thread has ended (Stop then returns at once).
  bool finished() const { return live_threads_.load() == 0; }

  const std::string& shard_id() const { return ctx_.shard_id; }

 private:
  struct Entry {
    uint64_t ordinal = 0;  // Read order (slots are kept by it).
    int64_t timestamp_ms = 0;
    store::ChangeRecord record;
    std::string wire;  // The record as a batch carries it (serialised).
    std::string sequence_text;
  };
  // A record read and not yet finished, in read order.
  struct Slot {
    uint64_t ordinal = 0;
    std::string sequence;
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
  // Opens the reader at the start position, retrying with backoff; false
  // when stopping first.
  bool OpenReader();
  // Takes one batch from the reader into slots and lanes.
  void Accept(ShardBatch batch);
  void RunLane(size_t lane) noexcept;
  void LaneLoop(size_t lane);
  // Delivers every entry (handled or dead-lettered); false if stopped
  // first (unfinished entries then stay pending).
  bool Deliver(std::vector<Entry>& entries);
  Status DeadLetter(const std::vector<Entry>& entries, RecordRange range,
                    const RetryPlanner::Step& step,
                    const BatchVerdict& last_failure);
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
  void SetCheckpoint(ShardCheckpoint checkpoint, uint64_t version);
  // Whether the next invocation may go out; if not, stops the delivery.
  bool MayInvoke();
  // Ends the delivery on its own (once) and tells on_stopped.
  void StopOnOwn(ShardDeliveryContext::StopReason reason);
  size_t LaneOf(const store::ChangeRecord& record) const;
  // Whether `record` passes the trigger's filters.
  bool PassesFilters(const SourceRecord& record);
  // Sleeps up to `ms` unless stopped; false when stopping.
  bool Pause(int64_t ms);
  bool stopping();
  void FillBatch(proto::InvokeBatch* batch, uint32_t attempt, int64_t now);

  ShardDeliveryContext ctx_;
  std::unique_ptr<ShardReader> reader_;   // The reader thread's.
  bool push_ = false;                     // The reader is a push source's.
  std::unique_ptr<RecordFilter> filter_;  // Null: no filters.
  size_t max_pending_ = 0;                // Read-ahead bound, in records.
  std::thread reader_thread_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  std::atomic<int> live_threads_{0};
  std::atomic<bool> stopped_on_own_{false};

  std::mutex mu_;
  // One condition for every wait (new records, room to read ahead, lane
  // work, stop); few threads wait on it, so notify_all is cheap.
  std::condition_variable cv_;
  bool stop_ = false;          // Guarded by mu_.
  bool rung_ = false;          // A push source rang; guarded by mu_.
  uint64_t next_ordinal_ = 0;  // Guarded by mu_.
  std::deque<Slot> slots_;     // Guarded by mu_.
  // The position before the oldest pending slot (after the newest popped
  // one), and the reader's position; guarded by mu_.
  ShardPosition done_position_;
  ShardPosition read_position_;
  bool end_of_shard_ = false;     // Read to its end; guarded by mu_.
  std::optional<Window> window_;  // Guarded by mu_; lane 0 writes it.
  // What Advance last saved, to write only changes; guarded by mu_.
  ShardPosition advanced_;
  bool window_dirty_ = false;
  int64_t finished_age_ms_ = 0;  // Guarded by mu_.
  uint64_t version_ = 0;         // Of (checkpoint, window); guarded by mu_.
  std::mutex checkpoint_mu_;     // Serialises checkpoint writes.
  uint64_t saved_version_ = 0;   // Guarded by checkpoint_mu_.
};

}  // namespace eddy::runtime::dispatcher

#endif  // EDDY_RUNTIME_DISPATCHER_SHARD_DELIVERY_H_
