// Dispatcher: the trigger (event source mapping) manager of the server. It
// owns the triggers, their durable state (TriggerStore), one ShardDelivery
// loop per trigger and shard, and the WorkerPool that runs handlers in
// eddy-worker processes.
//
// A trigger binds the stream a table has when the trigger is created
// (StreamLabel); records are delivered per shard in sequence order. The
// trigger follows the stream's rollovers: a child shard is delivered once
// its parent is finished, so records of one item stay in commit order. A
// disabled trigger keeps its checkpoints and resumes where it stopped.
// Triggers whose stream no longer exists stay listed with state
// "StreamNotFound" and deliver nothing.
//
// Handler libraries load only from the handler directory (HandlerDir): a
// trigger's Handler is checked against its rules when the trigger is
// created or updated, and again when the server loads it. A persisted
// trigger whose handler fails them (written by an earlier Eddy with a
// library anywhere on disk, or a file changed since) is not run: it stays
// listed with state "HandlerRefused" and the reason, keeps its
// checkpoints, and runs again once an UpdateTrigger passes the check.
//
// Drain barrier (WaitForTriggers): Barrier() notes, for every enabled
// trigger (of one table, or all), each shard's newest sequence number at the
// time of the call; WaitForBarrier() returns once every trigger's
// checkpoint has passed those, i.e. every record committed before the call
// is handled, filtered or dead-lettered.
//
// Thread-safety: all public methods may be called concurrently.
// Create/Update/Delete of one trigger are serialised.
#ifndef EDDY_RUNTIME_DISPATCHER_DISPATCHER_H_
#define EDDY_RUNTIME_DISPATCHER_DISPATCHER_H_

#include <spdlog/logger.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "dispatcher/recent_errors.h"
#include "dispatcher/trigger_config.h"
#include "eddy/result.h"
#include "eddy/store/database.h"
#include "handler_dir.h"

namespace eddy::runtime::dispatcher {

class TriggerStore;
class WorkerPool;
struct Trigger;

struct ShardStatus {
  std::string shard_id;
  uint64_t checkpoint = 0;     // Next unfinished sequence (log numbering).
  uint64_t last_sequence = 0;  // Newest record in the shard.
};

struct TriggerStatus {
  TriggerConfig config;
  // "Enabled", "Disabled", "StreamNotFound" or "HandlerRefused".
  std::string state;
  std::string state_reason;  // Why, for "HandlerRefused"; else "".
  std::string stream_arn;
  int64_t created_ms = 0;
  uint64_t invocations = 0;
  uint64_t errors = 0;
  uint64_t retries = 0;
  uint64_t records_handled = 0;
  uint64_t dead_lettered = 0;
  uint64_t filtered = 0;
  uint64_t skipped_trimmed = 0;
  int64_t iterator_age_ms = 0;
  uint64_t pending_records = 0;  // Committed, not yet finished.
  std::vector<ShardStatus> shards;
  std::vector<InvocationError> recent_errors;  // Newest first.
};

struct BarrierTarget {
  std::string trigger;
  uint32_t shard = 0;
  uint64_t sequence = 0;  // Done once the checkpoint is above it.
};

class Dispatcher {
 public:
  struct Options {
    std::string data_dir;
    store::Database* db = nullptr;  // Must outlive the dispatcher.
    std::string region = "us-east-1";
    std::string account_id = "000000000000";
    // ZeroMQ endpoint the workers connect to; "" means
    // ipc://<data_dir>/workers.sock (an abstract socket when that path is
    // too long for ipc://).
    std::string worker_endpoint;
    std::string worker_binary;  // "" means eddy-worker beside this program.
    std::string worker_log_level = "info";
    // Where handler libraries load from; "" means <data_dir>/handlers.
    // Created if missing; Start fails if it breaks HandlerDir's rules.
    std::string handler_dir;
    // Where triggers' on-failure files may be written; "" means
    // <data_dir>/failures. Created (0700) if missing. A "file:" destination
    // names a file in it (ConfineFailureFile), never anywhere else.
    std::string failure_dir;
    // Run workers as this user ("" : the server's); see WorkerPool.
    std::string worker_user;
    // Records older than this are dead-lettered when a trigger's
    // MaximumRecordAgeInSeconds is -1 (the stream retention).
    int64_t record_expiry_ms = 24LL * 3600 * 1000;
    // fsync checkpoints (the server's --sync); see TriggerStore.
    bool sync = false;
    std::shared_ptr<spdlog::logger> logger;
  };

  // Loads the persisted triggers and starts their delivery.
  static Result<std::unique_ptr<Dispatcher>> Start(Options options);

  ~Dispatcher();
  // Stops every delivery loop and worker. Idempotent.
  void Stop();

  // NotFound: no such table. InvalidArgument: bad options, no enabled
  // stream, a handler that HandlerDir refuses (missing, outside the
  // directory, ...). AlreadyExists: the name is taken.
  Result<TriggerStatus> CreateTrigger(TriggerConfig config);
  // `change` edits a copy of the current config; the result is validated
  // and its handler checked again (so an update is how a "HandlerRefused"
  // trigger runs again). Delivery restarts from the checkpoints with the
  // new settings.
  Result<TriggerStatus> UpdateTrigger(
      const std::string& name,
      const std::function<Status(TriggerConfig*)>& change);
  Status DeleteTrigger(const std::string& name);
  // Re-runs the trigger over the history still in its stream: every
  // shard's checkpoint moves back (or forward) to its first record with a
  // creation time at or after `from_ms`, or to its oldest retained record
  // when `from_ms` is nullopt (TRIM_HORIZON), and open tumbling windows
  // start again empty. Delivery restarts from there; records are delivered
  // again (at least once, as after any retry). NotFound: no such trigger.
  // InvalidArgument: its stream is gone.
  Result<TriggerStatus> ReplayTrigger(const std::string& name,
                                      std::optional<int64_t> from_ms);
  std::vector<TriggerStatus> ListTriggers(
      const std::optional<std::string>& table);
  Result<TriggerStatus> GetTriggerStatus(const std::string& name);

  std::vector<BarrierTarget> Barrier(const std::optional<std::string>& table);
  // Waits up to `timeout` for the targets; returns those not reached (the
  // barrier is passed when it returns an empty list). Targets of deleted
  // or disabled triggers count as reached.
  std::vector<BarrierTarget> WaitForBarrier(std::vector<BarrierTarget> targets,
                                            std::chrono::milliseconds timeout);

  // Prometheus text for GET /metrics.
  void AppendMetrics(std::string* out);

 private:
  explicit Dispatcher(Options options);
  Status Load();
  void StartDelivery(Trigger* trigger);
  void StopDelivery(Trigger* trigger);
  // Follows the stream's shards (rollovers): starts a delivery for every
  // live shard not finished whose parent is, forgets retired shards.
  // REQUIRES: admin_mu_ held.
  void SyncShards(Trigger* trigger);
  void StartShard(Trigger* trigger, uint32_t index);
  // Whether shard `index` is closed and delivered to its end. REQUIRES:
  // admin_mu_ or mu_ held.
  bool ShardFinished(const Trigger& trigger, uint32_t index) const;
  // The next sequence to deliver of shard `index`. REQUIRES: mu_ held.
  uint64_t CheckpointOf(const Trigger& trigger, uint32_t index) const;
  // The background thread that runs SyncShards for every trigger every
  // 200 ms and whenever a shard finishes.
  void SyncLoop();
  void WakeSync();
  TriggerStatus StatusOf(Trigger* trigger);
  std::string StreamArnOf(const Trigger& trigger) const;
  std::vector<BarrierTarget> Unreached(std::vector<BarrierTarget> targets);
  // The handler's resolved path, or InvalidArgument saying why it may not
  // be loaded.
  Result<std::string> CheckHandler(const TriggerConfig& config) const;
  // A "file:" on-failure destination confined to the failure directory:
  // rewrites `config->on_failure` to the file's absolute path, or says why
  // it is refused (InvalidArgument).
  Status CheckFailureFile(TriggerConfig* config) const;
  void NotifyProgress();

  Options options_;
  std::optional<HandlerDir> handler_dir_;  // Set by Start.
  std::string failure_dir_;  // Set by Start: a realpath.
  std::unique_ptr<TriggerStore> store_;
  std::unique_ptr<WorkerPool> pool_;

  std::mutex admin_mu_;  // Serialises create/update/delete/stop.
  // Guards triggers_ and each Trigger's config (written under admin_mu_
  // too, so admin code may read it without mu_).
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Trigger>> triggers_;
  uint64_t generation_ = 0;  // Guarded by admin_mu_; names worker groups.
  bool stopped_ = false;     // Guarded by admin_mu_.

  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  bool sync_stop_ = false;   // Guarded by sync_mu_.
  bool sync_woken_ = false;  // Guarded by sync_mu_.
  std::thread sync_thread_;

  std::mutex progress_mu_;
  std::condition_variable progress_cv_;
  uint64_t progress_ = 0;  // Guarded by progress_mu_.
};

}  // namespace eddy::runtime::dispatcher

#endif  // EDDY_RUNTIME_DISPATCHER_DISPATCHER_H_
