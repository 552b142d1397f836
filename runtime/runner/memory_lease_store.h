// MemoryLeaseStore: a lease table in memory with the conditional-write
// semantics of lease_store.h, for unit tests of the lease protocol. Faults
// are injected as in a real table's outage: the next calls fail with a
// given Status.
//
// Thread-safety: as LeaseStore.
#ifndef EDDY_RUNTIME_RUNNER_MEMORY_LEASE_STORE_H_
#define EDDY_RUNTIME_RUNNER_MEMORY_LEASE_STORE_H_

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "runner/lease_store.h"

namespace eddy::runtime::runner {

class MemoryLeaseStore : public LeaseStore {
 public:
  Status Prepare(const LeaseGroup& group) override;
  Result<LeaseGroup> ReadGroup() override;
  Result<LeaseTableSnapshot> Scan() override;
  Result<Lease> GetLease(const std::string& shard_id) override;
  Status CreateLease(const Lease& lease) override;
  Status Renew(Lease* lease) override;
  Status Take(Lease* lease, const std::string& new_owner) override;
  Status RequestHandoff(Lease* lease, const std::string& to) override;
  Status Transfer(Lease* lease) override;
  Status Release(Lease* lease) override;
  Status Checkpoint(Lease* lease, const ShardCheckpoint& checkpoint,
                    int64_t now_ms) override;
  Status DeleteLease(const Lease& lease) override;
  Status PutRunner(const RunnerRecord& runner) override;
  Status DeleteRunner(const std::string& id) override;

  // Every call fails with `status` while `count` > 0 (an outage of the
  // lease table).
  void FailCalls(int count, Status status);
  // A lease as stored (tests look behind the protocol's back).
  std::optional<Lease> Peek(const std::string& shard_id);
  // Overwrites a lease (a write by a runner the test plays).
  void Poke(const Lease& lease);

 private:
  Status Fault();  // REQUIRES: mu_ held.
  // The stored lease if it still has (owner, counter) of `seen`.
  Result<Lease*> Matching(const Lease& seen);  // REQUIRES: mu_ held.

  std::mutex mu_;
  std::optional<LeaseGroup> group_;
  std::map<std::string, Lease> leases_;
  std::map<std::string, RunnerRecord> runners_;
  int failures_ = 0;
  Status failure_;
};

}  // namespace eddy::runtime::runner

#endif  // EDDY_RUNTIME_RUNNER_MEMORY_LEASE_STORE_H_
