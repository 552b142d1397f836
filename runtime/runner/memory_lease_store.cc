#include "runner/memory_lease_store.h"

namespace eddy::runtime::runner {

Status MemoryLeaseStore::Fault() {
  if (failures_ <= 0) return Status::OK();
  --failures_;
  return failure_;
}

void MemoryLeaseStore::FailCalls(int count, Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_ = count;
  failure_ = std::move(status);
}

std::optional<Lease> MemoryLeaseStore::Peek(const std::string& shard_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = leases_.find(shard_id);
  if (it == leases_.end()) return std::nullopt;
  return it->second;
}

void MemoryLeaseStore::Poke(const Lease& lease) {
  std::lock_guard<std::mutex> lock(mu_);
  leases_[lease.shard_id] = lease;
}

Status MemoryLeaseStore::Prepare(const LeaseGroup& group) {
  std::lock_guard<std::mutex> lock(mu_);
  EDDY_RETURN_IF_ERROR(Fault());
  if (!group_) {
    group_ = group;
    return Status::OK();
  }
  if (group_->group != group.group || group_->stream_arn != group.stream_arn) {
    return Status::InvalidArgument("the lease table belongs to group " +
                                   group_->group + " of stream " +
                                   group_->stream_arn);
  }
  return Status::OK();
}

Result<LeaseGroup> MemoryLeaseStore::ReadGroup() {
  std::lock_guard<std::mutex> lock(mu_);
  EDDY_RETURN_IF_ERROR(Fault());
  if (!group_) return Status::NotFound("no lease table");
  return *group_;
}

Result<LeaseTableSnapshot> MemoryLeaseStore::Scan() {
  std::lock_guard<std::mutex> lock(mu_);
  EDDY_RETURN_IF_ERROR(Fault());
  LeaseTableSnapshot snapshot;
  for (const auto& [id, lease] : leases_) snapshot.leases.push_back(lease);
  for (const auto& [id, runner] : runners_) snapshot.runners.push_back(runner);
  return snapshot;
}

Result<Lease> MemoryLeaseStore::GetLease(const std::string& shard_id) {
  std::lock_guard<std::mutex> lock(mu_);
  EDDY_RETURN_IF_ERROR(Fault());
  auto it = leases_.find(shard_id);
  if (it == leases_.end()) return Status::NotFound("no lease " + shard_id);
  return it->second;
}

Status MemoryLeaseStore::CreateLease(const Lease& lease) {
  std::lock_guard<std::mutex> lock(mu_);
  EDDY_RETURN_IF_ERROR(Fault());
  if (!leases_.emplace(lease.shard_id, lease).second) {
    return Status::AlreadyExists("lease " + lease.shard_id + " exists");
  }
  return Status::OK();
}

Result<Lease*> MemoryLeaseStore::Matching(const Lease& seen) {
  auto it = leases_.find(seen.shard_id);
  if (it == leases_.end() || it->second.owner != seen.owner ||
      it->second.counter != seen.counter) {
    return Status::ConditionFailed("lease " + seen.shard_id + " changed");
  }
  return &it->second;
}

Status MemoryLeaseStore::Renew(Lease* lease) {
  std::lock_guard<std::mutex> lock(mu_);
  EDDY_RETURN_IF_ERROR(Fault());
  EDDY_ASSIGN_OR_RETURN(Lease * stored, Matching(*lease));
  ++stored->counter;
  *lease = *stored;
  return Status::OK();
}

Status MemoryLeaseStore::Take(Lease* lease, const std::string& new_owner) {
  std::lock_guard<std::mutex> lock(mu_);
  EDDY_RETURN_IF_ERROR(Fault());
  EDDY_ASSIGN_OR_RETURN(Lease * stored, Matching(*lease));
  ++stored->counter;
  stored->owner = new_owner;
  stored->pending_owner.clear();
  ++stored->owner_switches;
  *lease = *stored;
  return Status::OK();
}

Status MemoryLeaseStore::RequestHandoff(Lease* lease, const std::string& to) {
  std::lock_guard<std::mutex> lock(mu_);
  EDDY_RETURN_IF_ERROR(Fault());
  EDDY_ASSIGN_OR_RETURN(Lease * stored, Matching(*lease));
  ++stored->counter;
  stored->pending_owner = to;
  *lease = *stored;
  return Status::OK();
}

Status MemoryLeaseStore::Transfer(Lease* lease) {
  std::lock_guard<std::mutex> lock(mu_);
  EDDY_RETURN_IF_ERROR(Fault());
  EDDY_ASSIGN_OR_RETURN(Lease * stored, Matching(*lease));
  if (stored->pending_owner.empty()) {
    return Status::ConditionFailed("lease " + lease->shard_id +
                                   " has no pending owner");
  }
  ++stored->counter;
  stored->owner = stored->pending_owner;
  stored->pending_owner.clear();
  ++stored->owner_switches;
  *lease = *stored;
  return Status::OK();
}

Status MemoryLeaseStore::Release(Lease* lease) {
  std::lock_guard<std::mutex> lock(mu_);
  EDDY_RETURN_IF_ERROR(Fault());
  EDDY_ASSIGN_OR_RETURN(Lease * stored, Matching(*lease));
  ++stored->counter;
  stored->owner.clear();
  stored->pending_owner.clear();
  *lease = *stored;
  return Status::OK();
}

Status MemoryLeaseStore::Checkpoint(Lease* lease,
                                    const ShardCheckpoint& checkpoint,
                                    int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  EDDY_RETURN_IF_ERROR(Fault());
  EDDY_ASSIGN_OR_RETURN(Lease * stored, Matching(*lease));
  ++stored->counter;
  stored->checkpoint = checkpoint.position;
  stored->window = checkpoint.window;
  stored->owner_switches = 0;
  stored->checkpoint_ms = now_ms;
  stored->iterator_age_ms = checkpoint.iterator_age_ms;
  *lease = *stored;
  return Status::OK();
}

Status MemoryLeaseStore::DeleteLease(const Lease& lease) {
  std::lock_guard<std::mutex> lock(mu_);
  EDDY_RETURN_IF_ERROR(Fault());
  auto it = leases_.find(lease.shard_id);
  if (it == leases_.end() || it->second.counter != lease.counter) {
    return Status::ConditionFailed("lease " + lease.shard_id + " changed");
  }
  leases_.erase(it);
  return Status::OK();
}

Status MemoryLeaseStore::PutRunner(const RunnerRecord& runner) {
  std::lock_guard<std::mutex> lock(mu_);
  EDDY_RETURN_IF_ERROR(Fault());
  runners_[runner.id] = runner;
  return Status::OK();
}

Status MemoryLeaseStore::DeleteRunner(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  EDDY_RETURN_IF_ERROR(Fault());
  runners_.erase(id);
  return Status::OK();
}

}  // namespace eddy::runtime::runner
