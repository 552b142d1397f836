// The lease protocol of `eddy runner` (LeaseCoordinator over a
// MemoryLeaseStore and a MemoryStreamSource, on a fake clock): renew,
// expire, take, steal, fencing of invocations and checkpoints, graceful
// release, parent before child, balance.
#include "runner/lease_coordinator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "dispatcher/memory_stream_source.h"
#include "in_process_endpoint.h"
#include "runner/memory_lease_store.h"

namespace eddy::runtime::runner {
namespace {

using dispatcher::MemoryStreamSource;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr int64_t kDuration = 9000;  // Rounds every 3 s.

// The runner's deliveries as the coordinator drives them.
class FakeShards : public LeaseCoordinator::Shards {
 public:
  void Start(const Lease& lease) override {
    running[lease.shard_id] = lease.checkpoint;
    ++starts;
  }
  void Stop(const std::string& shard_id) override {
    running.erase(shard_id);
    ++stops;
  }
  bool Stopped(const std::string& shard_id) override {
    return running.count(shard_id) == 0;
  }
  std::map<std::string, ShardPosition> running;
  int starts = 0;
  int stops = 0;
};

class LeaseCoordinatorTest : public ::testing::Test {
 protected:
  struct Runner {
    FakeShards shards;
    std::unique_ptr<LeaseCoordinator> coordinator;
  };

  LeaseCoordinatorTest() : source_(dispatcher::StreamInfo{}) {}

  void AddShards(int n, const std::string& prefix = "shardId-0") {
    for (int i = 0; i < n; ++i) source_.AddShard(prefix + std::to_string(i));
  }

  // A new runner; its first round (which only looks) has run.
  Runner& NewRunner(const std::string& id,
                    ShardPosition initial = ShardPosition::TrimHorizon()) {
    auto runner = std::make_unique<Runner>();
    LeaseCoordinator::Options options;
    options.owner = id;
    options.lease_duration_ms = kDuration;
    options.initial_position = initial;
    options.clock_ms = [this] { return now_; };
    options.wall_ms = [this] { return 1'700'000'000'000 + now_; };
    options.logger = testing::QuietLogger("lease-test");
    runner->coordinator = std::make_unique<LeaseCoordinator>(
        options, &store_, &source_, &runner->shards);
    runner->coordinator->RunOnce();
    EXPECT_TRUE(runner->shards.running.empty()) << "the first round took";
    runners_[id] = std::move(runner);
    return *runners_[id];
  }

  // One round of each named runner, then the clock moves a third of a
  // lease duration (the runners' round interval).
  void Round(const std::vector<std::string>& ids) {
    for (const std::string& id : ids) runners_.at(id)->coordinator->RunOnce();
    now_ += kDuration / 3;
  }

  std::set<std::string> Running(const std::string& id) {
    std::set<std::string> out;
    for (const auto& [shard, from] : runners_.at(id)->shards.running) {
      out.insert(shard);
    }
    return out;
  }

  std::string OwnerOf(const std::string& shard) {
    std::optional<Lease> lease = store_.Peek(shard);
    return lease ? lease->owner : "<none>";
  }

  ShardCheckpoint At(ShardPosition position) {
    ShardCheckpoint cp;
    cp.position = std::move(position);
    return cp;
  }

  int64_t now_ = 1'000'000;
  MemoryLeaseStore store_;
  MemoryStreamSource source_;
  std::map<std::string, std::unique_ptr<Runner>> runners_;
};

TEST_F(LeaseCoordinatorTest, LoneRunnerTakesEveryShardAtTheStartingPosition) {
  AddShards(4);
  Runner& a = NewRunner("a", ShardPosition::Latest());
  Round({"a"});
  EXPECT_EQ(Running("a").size(), 4u);
  for (const auto& [shard, from] : a.shards.running) {
    EXPECT_EQ(from, ShardPosition::Latest()) << shard;
    EXPECT_EQ(OwnerOf(shard), "a");
  }
  // A shard that appears later is read whole, whatever the group's
  // starting position.
  source_.AddShard("shardId-09");
  Round({"a"});
  EXPECT_EQ(a.shards.running.at("shardId-09"), ShardPosition::TrimHorizon());
}

// Runners that join share the shards: loads differ by at most one and
// every shard has one owner.
TEST_F(LeaseCoordinatorTest, ThreeRunnersBalanceTheShards) {
  AddShards(7);
  NewRunner("a");
  Round({"a"});
  NewRunner("b");
  NewRunner("c");
  for (int i = 0; i < 12; ++i) Round({"a", "b", "c"});
  std::vector<size_t> loads = {Running("a").size(), Running("b").size(),
                               Running("c").size()};
  std::sort(loads.begin(), loads.end());
  EXPECT_EQ(loads, std::vector<size_t>({2, 2, 3}));
  std::set<std::string> all;
  for (const char* id : {"a", "b", "c"}) {
    for (const std::string& shard : Running(id)) {
      EXPECT_TRUE(all.insert(shard).second) << shard << " delivered twice";
      EXPECT_EQ(OwnerOf(shard), id);
    }
  }
  EXPECT_EQ(all.size(), 7u);
}

// A runner that stops renewing (killed) loses its shards to the others
// after one lease duration without a counter change, and not before.
TEST_F(LeaseCoordinatorTest, DeadRunnersLeasesAreTakenAfterTheDuration) {
  AddShards(2);
  NewRunner("a");
  Round({"a"});
  Runner& b = NewRunner("b");
  Round({"b"});
  ASSERT_EQ(Running("a").size(), 2u);
  ASSERT_THAT(Running("b"), IsEmpty());
  // a is killed: it runs no more rounds.
  const int64_t killed = now_;
  while (Running("b").size() < 2) {
    Round({"b"});
    ASSERT_LT(now_ - killed, 2 * kDuration) << "takeover too slow";
  }
  EXPECT_GE(now_ - killed, kDuration);
  EXPECT_EQ(OwnerOf("shardId-00"), "b");
  EXPECT_EQ(b.coordinator->stats().takes.load(), 2u);
}

// Fencing of invocations: a runner cut off from the lease table stops
// invoking before any other runner can take its leases.
TEST_F(LeaseCoordinatorTest, RunnerCutOffStopsBeforeItsLeasesCanBeTaken) {
  AddShards(1);
  Runner& a = NewRunner("a");
  NewRunner("b");
  Round({"a"});
  Round({"b"});
  ASSERT_TRUE(a.coordinator->Holds("shardId-00"));
  store_.FailCalls(1'000'000, Status::Busy("unreachable"));
  int64_t a_stopped = 0;
  while (a_stopped == 0) {
    a.coordinator->RunOnce();
    if (!a.coordinator->Holds("shardId-00")) a_stopped = now_;
    now_ += 100;
  }
  EXPECT_THAT(Running("a"), IsEmpty());
  store_.FailCalls(0, Status::OK());
  // b takes it only after watching the counter for a whole duration.
  int64_t b_took = 0;
  while (b_took == 0) {
    Round({"b"});
    if (!Running("b").empty()) b_took = now_;
  }
  EXPECT_LT(a_stopped, b_took);
}

// Fencing of checkpoints: once another runner has the lease, the old
// owner's checkpoint is refused and its next round stops the shard.
TEST_F(LeaseCoordinatorTest, CheckpointOfALostLeaseIsRefused) {
  AddShards(1);
  Runner& a = NewRunner("a");
  Round({"a"});
  ASSERT_TRUE(a.coordinator
                  ->Checkpoint("shardId-00", At(ShardPosition::After(
                                                 "100000000000000000005")))
                  .ok());
  // Another runner takes it (as after a's lease expired).
  Lease lease = *store_.Peek("shardId-00");
  ASSERT_TRUE(store_.Take(&lease, "b").ok());
  Status refused = a.coordinator->Checkpoint(
      "shardId-00", At(ShardPosition::After("100000000000000000009")));
  EXPECT_TRUE(refused.IsConditionFailed()) << refused.ToString();
  EXPECT_EQ(store_.Peek("shardId-00")->checkpoint,
            ShardPosition::After("100000000000000000005"));
  EXPECT_FALSE(a.coordinator->Holds("shardId-00"));
  Round({"a"});
  EXPECT_THAT(Running("a"), IsEmpty());
  EXPECT_EQ(a.coordinator->stats().lost.load(), 1u);
}

// SIGTERM: leases are released at once, and the next runner's round takes
// them without waiting for them to expire, from their checkpoints.
TEST_F(LeaseCoordinatorTest, GracefulReleaseHandsOverAtOnce) {
  AddShards(2);
  Runner& a = NewRunner("a");
  Round({"a"});
  NewRunner("b");
  ASSERT_TRUE(a.coordinator
                  ->Checkpoint("shardId-01", At(ShardPosition::After(
                                                 "100000000000000000042")))
                  .ok());
  a.shards.running.clear();  // Its deliveries stopped first.
  a.coordinator->ReleaseAll();
  EXPECT_EQ(OwnerOf("shardId-00"), "");
  Round({"b"});
  EXPECT_THAT(Running("b"), ElementsAre("shardId-00", "shardId-01"));
  EXPECT_EQ(runners_.at("b")->shards.running.at("shardId-01"),
            ShardPosition::After("100000000000000000042"));
  Result<LeaseTableSnapshot> snapshot = store_.Scan();
  ASSERT_TRUE(snapshot.ok());
  for (const RunnerRecord& r : snapshot->runners) EXPECT_NE(r.id, "a");
}

// A child shard starts only after its parent is finished (SHARD_END), so
// per-key order holds across a split; the finished parent is released.
TEST_F(LeaseCoordinatorTest, ChildStartsAfterItsParentIsFinished) {
  source_.AddShard("shardId-1");
  Runner& a = NewRunner("a");
  Round({"a"});
  source_.Close("shardId-1");
  source_.AddShard("shardId-2", "shardId-1");
  Round({"a"});
  EXPECT_THAT(Running("a"), ElementsAre("shardId-1"));
  EXPECT_EQ(store_.Peek("shardId-2")->parents,
            std::vector<std::string>({"shardId-1"}));
  ASSERT_TRUE(
      a.coordinator->Checkpoint("shardId-1", At(ShardPosition::ShardEnd()))
          .ok());
  a.coordinator->DeliveryStopped("shardId-1", /*not_owner=*/false);
  Round({"a"});
  EXPECT_THAT(Running("a"), ElementsAre("shardId-2"));
  EXPECT_EQ(OwnerOf("shardId-1"), "");
  EXPECT_TRUE(store_.Peek("shardId-1")->finished());
  // Once the stream no longer lists the finished parent, its lease goes.
  source_.Forget("shardId-1");
  Round({"a"});
  EXPECT_FALSE(store_.Peek("shardId-1").has_value());
  EXPECT_THAT(Running("a"), ElementsAre("shardId-2"));
}

// Balancing hands a lease over without two runners delivering it: the
// busy runner stops the shard, then transfers the lease, and only then does
// the new owner start it (from the last checkpoint).
TEST_F(LeaseCoordinatorTest, HandoffStopsTheOwnerBeforeTheNewOneStarts) {
  AddShards(4);
  Runner& a = NewRunner("a");
  Round({"a"});
  Runner& b = NewRunner("b");
  b.coordinator->RunOnce();
  EXPECT_EQ(b.coordinator->stats().handoffs_requested.load(), 1u);
  std::string moving;
  for (int i = 0; i < 4; ++i) {
    std::optional<Lease> lease = store_.Peek("shardId-0" + std::to_string(i));
    if (lease->pending_owner == "b") moving = lease->shard_id;
  }
  ASSERT_FALSE(moving.empty());
  EXPECT_TRUE(a.coordinator->Holds(moving));
  a.coordinator->RunOnce();  // Sees the request: stops the shard.
  EXPECT_EQ(Running("a").count(moving), 0u);
  EXPECT_FALSE(a.coordinator->Holds(moving));
  // Its last checkpoint still goes through while it hands over.
  EXPECT_TRUE(a.coordinator
                  ->Checkpoint(
                      moving, At(ShardPosition::After("100000000000000000003")))
                  .ok());
  EXPECT_EQ(OwnerOf(moving), "a");
  EXPECT_THAT(Running("b"), IsEmpty());
  a.coordinator->RunOnce();  // Stopped: transfers.
  EXPECT_EQ(OwnerOf(moving), "b");
  EXPECT_EQ(a.coordinator->stats().handed_off.load(), 1u);
  b.coordinator->RunOnce();
  EXPECT_THAT(Running("b"), ElementsAre(moving));
  EXPECT_EQ(b.shards.running.at(moving),
            ShardPosition::After("100000000000000000003"));
  EXPECT_EQ(Running("a").size(), 3u);
  EXPECT_EQ(a.shards.stops, 1);
}

// A handoff asked of a runner that then dies: its leases expire and the
// asking runner takes them all (a runner that lets leases expire no
// longer counts as live, whatever its last heartbeat).
TEST_F(LeaseCoordinatorTest, HandoffFromADeadRunnerFallsBackToExpiry) {
  AddShards(2);
  NewRunner("a");
  Round({"a"});
  Runner& b = NewRunner("b");
  b.coordinator->RunOnce();
  ASSERT_EQ(b.coordinator->stats().handoffs_requested.load(), 1u);
  const int64_t asked = now_;
  while (Running("b").empty()) {
    now_ += kDuration / 3;
    b.coordinator->RunOnce();
    ASSERT_LT(now_ - asked, 2 * kDuration);
  }
  b.coordinator->RunOnce();
  EXPECT_EQ(Running("b").size(), 2u);
}

// A lease table that cannot be reached: held leases survive short outages
// (renewal resumes), and the round after an outage takes nothing.
TEST_F(LeaseCoordinatorTest, ShortOutageKeepsLeases) {
  AddShards(2);
  Runner& a = NewRunner("a");
  Round({"a"});
  store_.FailCalls(3, Status::Busy("throttled"));
  Round({"a"});
  EXPECT_TRUE(a.coordinator->Holds("shardId-00"));
  Round({"a"});
  Round({"a"});
  EXPECT_EQ(Running("a").size(), 2u);
  EXPECT_EQ(a.shards.stops, 0);
}

// A foreign group's table is refused.
TEST_F(LeaseCoordinatorTest, LeaseTableOfAnotherStreamIsRefused) {
  ASSERT_TRUE(store_.Prepare({"g", "arn:one", "t"}).ok());
  EXPECT_TRUE(store_.Prepare({"g", "arn:one", "t"}).ok());
  Status other = store_.Prepare({"g", "arn:two", "t"});
  EXPECT_TRUE(other.IsInvalidArgument());
}

}  // namespace
}  // namespace eddy::runtime::runner
