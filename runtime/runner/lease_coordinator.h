// LeaseCoordinator: the lease protocol of one `eddy runner` (the Kinesis
// Client Library's, on lease_store.h). It decides which shards this runner
// delivers and tells its Shards (the runner's deliveries) to start and
// stop them.
//
// A round (RunOnce, every lease_duration / 3):
//   1. Heartbeat: this runner's record, for balancing and status.
//   2. Renew every held lease (a conditional write bumping its counter). A
//      renewal refused because the lease changed means another runner has
//      it: the shard stops at once. A renewal that cannot reach the table
//      keeps the lease until lease_duration has passed since the last
//      successful write; then it is given up too, since by then another
//      runner may take it. Leases whose shard is finished (SHARD_END
//      checkpointed) are released.
//   3. Shard sync: a lease for every shard the stream lists that has none
//      (children name their parents). A new group's first sync starts
//      every shard at the initial position (the group's starting
//      position); shards found later start at TRIM_HORIZON. Finished
//      leases of shards the stream no longer lists are deleted.
//   4. Take and balance. A lease is eligible when it is not finished and
//      every parent is (or has no lease any more): a child starts only
//      after its parent is done, which keeps per-key order across splits.
//      The target is ceil(eligible / live runners). Below it, take
//      unowned leases, then expired ones (counter unchanged for
//      lease_duration as this runner watched it), then steal one lease
//      from the runner that holds the most when it holds at least two
//      more. A round after the table could not be reached takes nothing,
//      so that runners coming back from an outage first see each other's
//      heartbeats.
//
// Fencing. Deliveries call Holds() before every invocation: true only
// while the lease's last successful write started less than
// lease_duration ago, so a runner cut off from the table stops invoking
// before anyone can take its leases (another runner takes an expired lease
// only after watching its counter stand still for lease_duration).
// Checkpoint() is a conditional write: after a take it fails
// (ConditionFailed) and the delivery stops. A handed-over lease is started
// only after its previous owner stopped (handoff), so no record is
// delivered twice when runners rebalance.
//
// Thread-safety: RunOnce, ReleaseAll from one thread (the runner's
// coordinator thread); Checkpoint, Holds and DeliveryStopped from any.
#ifndef EDDY_RUNTIME_RUNNER_LEASE_COORDINATOR_H_
#define EDDY_RUNTIME_RUNNER_LEASE_COORDINATOR_H_

#include <spdlog/logger.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "dispatcher/stream_source.h"
#include "runner/lease_store.h"

namespace eddy::runtime::runner {

class LeaseCoordinator {
 public:
  struct Options {
    std::string owner;  // This runner's id (unique per process).
    int64_t lease_duration_ms = 10'000;
    // Where a new group starts every shard it finds on its first sync.
    ShardPosition initial_position = ShardPosition::TrimHorizon();
    // Monotonic time (lease timing) and wall time (heartbeats, checkpoint
    // times), in ms.
    std::function<int64_t()> clock_ms;
    std::function<int64_t()> wall_ms;
    // This runner's heartbeat record (id, host, pid, ...; heartbeat_ms is
    // set on each write).
    RunnerRecord self;
    // Called when a round should run early (a shard finished: its
    // children may be taken).
    std::function<void()> wake;
    std::shared_ptr<spdlog::logger> logger;
  };

  // What the coordinator drives: the runner's shard deliveries. Called
  // from the coordinator's thread; must not block.
  class Shards {
   public:
    virtual ~Shards() = default;
    // Deliver `lease.shard_id` from lease.checkpoint (and lease.window).
    virtual void Start(const Lease& lease) = 0;
    // Stop delivering it before the next invocation.
    virtual void Stop(const std::string& shard_id) = 0;
    // Whether nothing of the shard runs any more (its invocation in flight
    // and final checkpoint are done).
    virtual bool Stopped(const std::string& shard_id) = 0;
  };

  struct Stats {
    std::atomic<uint64_t> rounds{0};
    std::atomic<uint64_t> takes{0};  // Unowned or expired leases taken.
    std::atomic<uint64_t> handoffs_requested{0};  // Asked of busier runners.
    std::atomic<uint64_t> handed_off{0};  // Transferred to another runner.
    std::atomic<uint64_t> lost{0};        // Held leases given up or taken away.
    std::atomic<uint64_t> released{0};
    std::atomic<uint64_t> finished{0};  // Shards delivered to SHARD_END.
    std::atomic<uint64_t> store_errors{0};
    std::atomic<uint64_t> leases_created{0};
  };

  // `store`, `source` and `shards` outlive the coordinator.
  LeaseCoordinator(Options options, LeaseStore* store,
                   dispatcher::StreamSource* source, Shards* shards);

  void RunOnce();

  // The delivery of `shard_id` checkpoints (fenced). ConditionFailed: the
  // lease is not ours; other errors are the table's (retry).
  Status Checkpoint(const std::string& shard_id,
                    const ShardCheckpoint& checkpoint);
  // Whether `shard_id` may be invoked now (see Fencing).
  bool Holds(const std::string& shard_id);
  // A delivery ended on its own (finished, or refused as not ours).
  void DeliveryStopped(const std::string& shard_id, bool not_owner);

  // Graceful shutdown: after the deliveries stopped, releases every held
  // lease (so others take them at once) and deletes the heartbeat.
  void ReleaseAll();

  // The shards whose leases are held, sorted.
  std::vector<std::string> HeldShards();
  const Stats& stats() const { return stats_; }

 private:
  struct Held {
    std::mutex mu;                       // Serialises writes of the lease.
    Lease lease;                         // As last written; guarded by mu.
    std::atomic<int64_t> renewed_ms{0};  // Start of the last good write.
    std::atomic<bool> lost{false};
    std::atomic<bool> finished{false};  // SHARD_END checkpointed.
    std::atomic<bool> handoff{false};   // Being handed to pending_owner.
    bool started = false;               // Coordinator thread only.
  };
  // What this runner saw of a lease, and since when (expiry).
  struct Seen {
    std::string owner;
    uint64_t counter = 0;
    int64_t since_ms = 0;
  };

  Status Heartbeat();
  void RenewLeases();
  void StartDue();
  Status SyncShards(const LeaseTableSnapshot& snapshot, bool* created);
  void TakeLeases(const LeaseTableSnapshot& snapshot);
  // Takes `lease`. False if refused.
  bool TryTake(const Lease& lease, const char* how);
  // Re-reads a lease after a refused write: true (and *lease updated) if
  // it is still ours.
  bool StillOurs(Lease* lease);
  void Drop(const std::string& shard_id, const char* why);
  std::shared_ptr<Held> Find(const std::string& shard_id);

  Options options_;
  LeaseStore* store_;
  dispatcher::StreamSource* source_;
  Shards* shards_;
  Stats stats_;

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Held>> held_;  // Guarded by mu_.
  // Coordinator thread only:
  std::map<std::string, Seen> seen_;
  bool last_round_ok_ = false;  // The first round only looks.
};

}  // namespace eddy::runtime::runner

#endif  // EDDY_RUNTIME_RUNNER_LEASE_COORDINATOR_H_
