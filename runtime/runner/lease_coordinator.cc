#include "runner/lease_coordinator.h"

#include <algorithm>
#include <chrono>

namespace eddy::runtime::runner {
namespace {

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

LeaseCoordinator::LeaseCoordinator(Options options, LeaseStore* store,
                                   dispatcher::StreamSource* source,
                                   Shards* shards)
    : options_(std::move(options)),
      store_(store),
      source_(source),
      shards_(shards) {
  if (!options_.clock_ms) options_.clock_ms = SteadyMs;
  if (!options_.wall_ms) options_.wall_ms = WallMs;
  options_.self.id = options_.owner;
}

std::shared_ptr<LeaseCoordinator::Held> LeaseCoordinator::Find(
    const std::string& shard_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = held_.find(shard_id);
  return it == held_.end() ? nullptr : it->second;
}

std::vector<std::string> LeaseCoordinator::HeldShards() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [id, held] : held_) {
    if (!held->lost.load()) out.push_back(id);
  }
  return out;
}

bool LeaseCoordinator::Holds(const std::string& shard_id) {
  std::shared_ptr<Held> held = Find(shard_id);
  return held != nullptr && !held->lost.load() && !held->handoff.load() &&
         options_.clock_ms() - held->renewed_ms.load() <
             options_.lease_duration_ms;
}

void LeaseCoordinator::DeliveryStopped(const std::string& shard_id,
                                       bool not_owner) {
  // (A delivery stopped for a handoff says "not owner" too; the lease is
  // still ours until it is transferred.)
  if (std::shared_ptr<Held> held = Find(shard_id);
      held != nullptr && not_owner && !held->handoff.load()) {
    held->lost.store(true);
  }
  if (options_.wake) options_.wake();
}

bool LeaseCoordinator::StillOurs(Lease* lease) {
  Result<Lease> fresh = store_->GetLease(lease->shard_id);
  if (!fresh.ok() || fresh->owner != options_.owner) return false;
  // A write of ours whose answer was lost went through: adopt it.
  *lease = std::move(*fresh);
  return true;
}

Status LeaseCoordinator::Checkpoint(const std::string& shard_id,
                                    const ShardCheckpoint& checkpoint) {
  std::shared_ptr<Held> held = Find(shard_id);
  if (held == nullptr || held->lost.load()) {
    return Status::ConditionFailed("the lease of " + shard_id + " is not held");
  }
  std::lock_guard<std::mutex> lock(held->mu);
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int64_t start = options_.clock_ms();
    Lease copy = held->lease;
    Status s = store_->Checkpoint(&copy, checkpoint, options_.wall_ms());
    if (s.ok()) {
      held->lease = std::move(copy);
      held->renewed_ms.store(start);
      if (held->lease.finished()) {
        held->finished.store(true);
        stats_.finished.fetch_add(1);
        if (options_.wake) options_.wake();
      }
      return s;
    }
    if (!s.IsConditionFailed()) {
      stats_.store_errors.fetch_add(1);
      return s;
    }
    if (attempt == 0 && StillOurs(&held->lease)) continue;
    held->lost.store(true);
    return s;
  }
  held->lost.store(true);
  return Status::ConditionFailed("the lease of " + shard_id + " was taken");
}

Status LeaseCoordinator::Heartbeat() {
  RunnerRecord record = options_.self;
  record.heartbeat_ms = options_.wall_ms();
  return store_->PutRunner(record);
}

void LeaseCoordinator::Drop(const std::string& shard_id, const char* why) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    held_.erase(shard_id);
  }
  shards_->Stop(shard_id);
  options_.logger->warn("lease {}: {}; stopped delivering it", shard_id, why);
}

void LeaseCoordinator::RenewLeases() {
  std::vector<std::shared_ptr<Held>> held;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, h] : held_) held.push_back(h);
  }
  for (const std::shared_ptr<Held>& h : held) {
    std::unique_lock<std::mutex> lock(h->mu);
    const std::string id = h->lease.shard_id;
    if (h->finished.load()) {
      // Done: hand the lease back so it no longer counts as this runner's
      // load; its SHARD_END lets the children start.
      Lease copy = h->lease;
      Status s = store_->Release(&copy);
      if (s.ok() || s.IsConditionFailed()) {
        lock.unlock();
        {
          std::lock_guard<std::mutex> guard(mu_);
          held_.erase(id);
        }
        shards_->Stop(id);
        stats_.released.fetch_add(1);
        options_.logger->info("lease {}: shard finished, lease released", id);
      } else {
        stats_.store_errors.fetch_add(1);
      }
      continue;
    }
    if (h->lost.load()) {
      lock.unlock();
      stats_.lost.fetch_add(1);
      Drop(id, "taken by another runner");
      continue;
    }
    if (h->handoff.load() && shards_->Stopped(id)) {
      // Stopped and checkpointed: the pending owner takes over from here.
      Lease copy = h->lease;
      Status s = store_->Transfer(&copy);
      if (s.ok() || s.IsConditionFailed()) {
        lock.unlock();
        {
          std::lock_guard<std::mutex> guard(mu_);
          held_.erase(id);
        }
        if (s.ok()) stats_.handed_off.fetch_add(1);
        options_.logger->info("lease {}: handed over to {}", id,
                              h->lease.pending_owner);
        continue;
      }
      stats_.store_errors.fetch_add(1);
    }
    bool renewed = false;
    const char* why = "taken by another runner";
    for (int attempt = 0; attempt < 2 && !renewed; ++attempt) {
      const int64_t start = options_.clock_ms();
      Lease copy = h->lease;
      Status s = store_->Renew(&copy);
      if (s.ok()) {
        h->lease = std::move(copy);
        h->renewed_ms.store(start);
        renewed = true;
      } else if (s.IsConditionFailed()) {
        if (attempt == 0 && StillOurs(&h->lease)) continue;
        h->lost.store(true);
        break;
      } else {
        stats_.store_errors.fetch_add(1);
        options_.logger->warn("lease {}: cannot renew: {}", id, s.ToString());
        break;
      }
    }
    if (!renewed && !h->lost.load() &&
        options_.clock_ms() - h->renewed_ms.load() >=
            options_.lease_duration_ms) {
      // Not renewed for a whole lease duration: another runner may take it
      // now, so this one must not deliver it any more.
      h->lost.store(true);
      why = "not renewed within the lease duration";
    }
    if (h->lost.load()) {
      lock.unlock();
      stats_.lost.fetch_add(1);
      Drop(id, why);
      continue;
    }
    const std::string& to = h->lease.pending_owner;
    if (!to.empty() && to != options_.owner && !h->handoff.load()) {
      // Another runner asked for it: stop before the next invocation; the
      // lease is transferred once the delivery has stopped.
      h->handoff.store(true);
      options_.logger->info("lease {}: handing over to {} (balancing)", id, to);
      lock.unlock();
      shards_->Stop(id);
    }
  }
}

void LeaseCoordinator::StartDue() {
  std::vector<Lease> due;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, h] : held_) {
      if (h->started || h->lost.load() || h->handoff.load()) continue;
      h->started = true;
      std::lock_guard<std::mutex> guard(h->mu);
      due.push_back(h->lease);
    }
  }
  for (const Lease& lease : due) shards_->Start(lease);
}

Status LeaseCoordinator::SyncShards(const LeaseTableSnapshot& snapshot,
                                    bool* created) {
  *created = false;
  EDDY_ASSIGN_OR_RETURN(std::vector<dispatcher::ShardInfo> shards,
                        source_->ListShards());
  std::set<std::string> known;
  for (const Lease& lease : snapshot.leases) known.insert(lease.shard_id);
  std::set<std::string> listed;
  for (const dispatcher::ShardInfo& shard : shards) {
    listed.insert(shard.shard_id);
  }
  // A new group: every shard there is now starts at the group's starting
  // position (TRIM_HORIZON or LATEST); shards that appear later are read
  // whole.
  const bool new_group = snapshot.leases.empty();
  for (const dispatcher::ShardInfo& shard : shards) {
    if (known.count(shard.shard_id) != 0) continue;
    Lease lease;
    lease.shard_id = shard.shard_id;
    if (!shard.parent_id.empty()) lease.parents.push_back(shard.parent_id);
    lease.checkpoint =
        new_group ? options_.initial_position : ShardPosition::TrimHorizon();
    Status s = store_->CreateLease(lease);
    if (!s.ok() && !s.IsAlreadyExists()) return s;
    if (s.ok()) {
      stats_.leases_created.fetch_add(1);
      options_.logger->info("lease {} created (parent {}, from {})",
                            shard.shard_id,
                            shard.parent_id.empty() ? "none" : shard.parent_id,
                            lease.checkpoint.ToString());
    }
    known.insert(shard.shard_id);
    *created = true;
  }
  // Retire: a finished, released lease of a shard the stream no longer
  // lists (its records expired) has nothing left to say; its children
  // treat a missing parent lease as finished.
  for (const Lease& lease : snapshot.leases) {
    if (!lease.finished() || !lease.owner.empty() ||
        listed.count(lease.shard_id) != 0) {
      continue;
    }
    Status s = store_->DeleteLease(lease);
    if (s.ok()) {
      options_.logger->info("lease {} retired (shard finished and gone)",
                            lease.shard_id);
    }
  }
  return Status::OK();
}

bool LeaseCoordinator::TryTake(const Lease& lease, const char* how) {
  Lease copy = lease;
  const int64_t start = options_.clock_ms();
  Status s = store_->Take(&copy, options_.owner);
  if (!s.ok()) {
    if (!s.IsConditionFailed()) stats_.store_errors.fetch_add(1);
    return false;
  }
  auto held = std::make_shared<Held>();
  held->lease = std::move(copy);
  held->renewed_ms.store(start);
  {
    std::lock_guard<std::mutex> lock(mu_);
    held_[lease.shard_id] = std::move(held);
  }
  options_.logger->info("lease {}: taken ({}{}), from {}", lease.shard_id, how,
                        lease.owner.empty() ? "" : " from " + lease.owner,
                        lease.checkpoint.ToString());
  return true;
}

void LeaseCoordinator::TakeLeases(const LeaseTableSnapshot& snapshot) {
  const int64_t now = options_.clock_ms();
  const int64_t duration = options_.lease_duration_ms;
  std::map<std::string, const Lease*> by_id;
  for (const Lease& lease : snapshot.leases) {
    by_id[lease.shard_id] = &lease;
    Seen& seen = seen_[lease.shard_id];
    if (seen.since_ms == 0 || seen.owner != lease.owner ||
        seen.counter != lease.counter) {
      seen = Seen{lease.owner, lease.counter, now};
    }
  }
  for (auto it = seen_.begin(); it != seen_.end();) {
    it = by_id.count(it->first) != 0 ? std::next(it) : seen_.erase(it);
  }
  std::set<std::string> mine;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, h] : held_) mine.insert(id);
  }
  auto expired = [&](const Lease& lease) {
    return !lease.owner.empty() &&
           now - seen_[lease.shard_id].since_ms >= duration;
  };
  auto eligible = [&](const Lease& lease) {
    if (lease.finished()) return false;
    for (const std::string& parent : lease.parents) {
      auto it = by_id.find(parent);
      if (it != by_id.end() && !it->second->finished()) return false;
    }
    return true;
  };
  // Live runners: this one, those with a recent heartbeat, and the owners
  // of leases that have not expired; not a runner that let a lease expire
  // (dead or cut off, whatever its last heartbeat says), so that its
  // leases are taken at once rather than once its heartbeat is old.
  std::set<std::string> lapsed;
  for (const Lease& lease : snapshot.leases) {
    if (expired(lease) && lease.owner != options_.owner) {
      lapsed.insert(lease.owner);
    }
  }
  std::set<std::string> runners = {options_.owner};
  const int64_t wall = options_.wall_ms();
  for (const RunnerRecord& r : snapshot.runners) {
    if (wall - r.heartbeat_ms < 2 * duration && lapsed.count(r.id) == 0) {
      runners.insert(r.id);
    }
  }
  std::map<std::string, std::vector<const Lease*>> load;
  std::vector<const Lease*> available;
  size_t count = 0;
  size_t incoming = 0;  // Leases being handed over to this runner.
  for (const Lease& lease : snapshot.leases) {
    if (!eligible(lease)) continue;
    ++count;
    if (mine.count(lease.shard_id) != 0) continue;
    if (lease.owner.empty() || expired(lease) ||
        lease.owner == options_.owner) {
      available.push_back(&lease);
      continue;
    }
    runners.insert(lease.owner);
    if (lease.pending_owner == options_.owner) {
      ++incoming;
    } else if (lease.pending_owner.empty()) {
      load[lease.owner].push_back(&lease);
    }
  }
  size_t held_eligible = incoming;
  for (const std::string& id : mine) {
    auto it = by_id.find(id);
    if (it != by_id.end() && eligible(*it->second)) ++held_eligible;
  }
  const size_t target = (count + runners.size() - 1) / runners.size();
  size_t need = held_eligible >= target ? 0 : target - held_eligible;
  // Unowned first (released or new: nobody is delivering them), then
  // expired; older shards first. One handed over to this runner is taken
  // whatever the target (it was asked for).
  std::stable_sort(
      available.begin(), available.end(),
      [this](const Lease* a, const Lease* b) {
        auto rank = [this](const Lease* l) {
          return l->owner == options_.owner ? 0 : l->owner.empty() ? 1 : 2;
        };
        return rank(a) < rank(b);
      });
  const bool any_available = !available.empty();
  for (const Lease* lease : available) {
    const bool ours = lease->owner == options_.owner;
    if (need == 0 && !ours) continue;
    const char* how = ours                   ? "handed over"
                      : lease->owner.empty() ? "unowned"
                                             : "expired";
    if (TryTake(*lease, how)) {
      stats_.takes.fetch_add(1);
      if (need > 0) --need;
    }
  }
  if (need == 0 || any_available || incoming > 0) return;
  // Ask the busiest runner for one lease if that evens the load.
  const std::vector<const Lease*>* busiest = nullptr;
  for (const auto& [owner, leases] : load) {
    if (busiest == nullptr || leases.size() > busiest->size()) {
      busiest = &leases;
    }
  }
  if (busiest == nullptr || busiest->size() < held_eligible + 2) return;
  // Its newest shard (the others are likelier to finish soon).
  const Lease* victim = busiest->back();
  for (const Lease* lease : *busiest) {
    if (lease->shard_id > victim->shard_id) victim = lease;
  }
  Lease copy = *victim;
  Status asked = store_->RequestHandoff(&copy, options_.owner);
  if (asked.ok()) {
    stats_.handoffs_requested.fetch_add(1);
    options_.logger->info("lease {}: asked {} to hand it over (balancing)",
                          victim->shard_id, victim->owner);
  } else if (!asked.IsConditionFailed()) {
    stats_.store_errors.fetch_add(1);
  }
}

void LeaseCoordinator::RunOnce() {
  stats_.rounds.fetch_add(1);
  const bool previous_ok = last_round_ok_;
  Status beat = Heartbeat();
  RenewLeases();
  Result<LeaseTableSnapshot> snapshot = store_->Scan();
  if (snapshot.ok()) {
    bool created = false;
    Status synced = SyncShards(*snapshot, &created);
    if (!synced.ok()) {
      options_.logger->warn("shard sync failed: {}", synced.ToString());
    }
    if (created) snapshot = store_->Scan();
  }
  if (!beat.ok() || !snapshot.ok()) {
    stats_.store_errors.fetch_add(1);
    options_.logger->warn("the lease table cannot be read: {}",
                          (!beat.ok() ? beat : snapshot.status()).ToString());
    last_round_ok_ = false;
    StartDue();
    return;
  }
  last_round_ok_ = true;
  if (previous_ok) TakeLeases(*snapshot);
  StartDue();
}

void LeaseCoordinator::ReleaseAll() {
  std::vector<std::shared_ptr<Held>> held;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, h] : held_) held.push_back(h);
    held_.clear();
  }
  for (const std::shared_ptr<Held>& h : held) {
    std::lock_guard<std::mutex> lock(h->mu);
    if (h->lost.load()) continue;
    Lease copy = h->lease;
    Status s = store_->Release(&copy);
    if (s.ok()) {
      stats_.released.fetch_add(1);
      options_.logger->info("lease {} released", copy.shard_id);
    } else {
      options_.logger->warn("lease {}: cannot release: {}", copy.shard_id,
                            s.ToString());
    }
  }
  Status deleted = store_->DeleteRunner(options_.owner);
  if (!deleted.ok()) {
    options_.logger->warn("cannot delete the heartbeat record: {}",
                          deleted.ToString());
  }
}

}  // namespace eddy::runtime::runner
