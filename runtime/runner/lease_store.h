// LeaseStore: the lease table that `eddy runner` processes of one group
// share a stream's shards through (the Kinesis Client Library's model:
// amazon-kinesis-client's LeaseRefresher is this interface,
// DynamoDBLeaseRefresher its DynamoDB kind).
//
// One lease per shard: its owner (a runner id, or none), a counter bumped
// by every write (a counter that stops moving means the owner is gone),
// the checkpoint (where delivery resumes, and the open tumbling window),
// and the shard's parents. Every change of a lease is a conditional write
// on the (owner, counter) the writer last saw: if another runner wrote in
// between, the write fails with ConditionFailed and changes nothing, so
// two runners never both believe a write of theirs made them the owner,
// and a runner that lost a lease cannot checkpoint it (fencing).
//
// Beside the leases the table holds one record per running runner
// (heartbeats, for balancing and `eddy runner status`) and one record
// naming the group, the stream and the table it was made for, so that a
// table written by something else, or for another stream, is refused.
//
// Kinds: DynamoLeaseStore (dynamo_lease_store.h; DynamoDB, Alternator or
// Eddy itself) and MemoryLeaseStore (memory_lease_store.h; unit tests of
// the lease protocol).
//
// Thread-safety: all methods may be called concurrently.
#ifndef EDDY_RUNTIME_RUNNER_LEASE_STORE_H_
#define EDDY_RUNTIME_RUNNER_LEASE_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dispatcher/shard_delivery.h"
#include "dispatcher/stream_source.h"
#include "dispatcher/trigger_store.h"
#include "eddy/result.h"

namespace eddy::runtime::runner {

using dispatcher::ShardCheckpoint;
using dispatcher::ShardPosition;
using dispatcher::WindowCheckpoint;

struct Lease {
  std::string shard_id;
  std::string owner;  // "" when no runner holds it.
  // A runner the owner is asked to hand the lease to (balancing), or "".
  std::string pending_owner;
  uint64_t counter = 0;
  ShardPosition checkpoint;
  std::optional<WindowCheckpoint> window;
  std::vector<std::string> parents;
  // Takes since the last checkpoint (a lease passed around without
  // progress is a sign of trouble).
  uint64_t owner_switches = 0;
  // From the last checkpoint, for status: when it was written (wall clock,
  // ms) and the age of the newest record it covered then.
  int64_t checkpoint_ms = 0;
  int64_t iterator_age_ms = 0;

  bool finished() const {
    return checkpoint.kind == ShardPosition::Kind::kShardEnd;
  }
};

// A runner of the group, as its heartbeat record says.
struct RunnerRecord {
  std::string id;
  std::string host;
  int64_t pid = 0;
  int64_t started_ms = 0;    // Wall clock.
  int64_t heartbeat_ms = 0;  // Wall clock of its last heartbeat.
  std::string metrics;       // Its /metrics address, "" if none.
};

// What a lease table is for.
struct LeaseGroup {
  std::string group;
  std::string stream_arn;
  std::string table;
};

struct LeaseTableSnapshot {
  std::vector<Lease> leases;
  std::vector<RunnerRecord> runners;
};

class LeaseStore {
 public:
  virtual ~LeaseStore() = default;

  // Makes the table ready for `group`: creates it if missing, or checks
  // that it is this group's. InvalidArgument, saying what was found, when
  // the table belongs to something else (another tool, another group or
  // stream); errors of the endpoint as dynamo_client.h maps them.
  virtual Status Prepare(const LeaseGroup& group) = 0;
  // The group the table was made for; NotFound when there is no lease
  // table (or it is not one of Eddy's).
  virtual Result<LeaseGroup> ReadGroup() = 0;

  // Every lease and runner record (a strongly consistent read).
  virtual Result<LeaseTableSnapshot> Scan() = 0;
  // One lease (strongly consistent); NotFound if there is none.
  virtual Result<Lease> GetLease(const std::string& shard_id) = 0;
  // AlreadyExists when the shard has a lease.
  virtual Status CreateLease(const Lease& lease) = 0;

  // The conditional writes. Each succeeds only if the stored lease still
  // has the owner and counter of `*lease`, bumps the counter, and on
  // success updates `*lease` to what was written; otherwise
  // ConditionFailed and nothing changes.
  virtual Status Renew(Lease* lease) = 0;
  // The owner becomes `new_owner` (taking an unowned or expired lease);
  // any pending owner is cleared; owner_switches grows by one.
  virtual Status Take(Lease* lease, const std::string& new_owner) = 0;
  // Asks the owner to hand the lease over to `to` (pending_owner).
  virtual Status RequestHandoff(Lease* lease, const std::string& to) = 0;
  // The pending owner becomes the owner (the old owner has stopped and
  // checkpointed). REQUIRES: !lease->pending_owner.empty().
  virtual Status Transfer(Lease* lease) = 0;
  // The lease has no owner (and no pending owner) afterwards.
  virtual Status Release(Lease* lease) = 0;
  // Sets the checkpoint; owner_switches back to 0.
  virtual Status Checkpoint(Lease* lease, const ShardCheckpoint& checkpoint,
                            int64_t now_ms) = 0;
  // Deletes a lease whose counter is still lease.counter.
  virtual Status DeleteLease(const Lease& lease) = 0;

  // Heartbeat records (unconditional).
  virtual Status PutRunner(const RunnerRecord& runner) = 0;
  virtual Status DeleteRunner(const std::string& id) = 0;
};

}  // namespace eddy::runtime::runner

#endif  // EDDY_RUNTIME_RUNNER_LEASE_STORE_H_
