// The lease table's contract (lease_store.h), the same tests for both
// kinds: the in-memory fake and the DynamoDB table (here on Eddy's own API
// in process): every write is conditional on the (owner, counter) last
// seen, a table of something else is refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "in_process_endpoint.h"
#include "runner/dynamo_lease_store.h"
#include "runner/memory_lease_store.h"

namespace eddy::runtime::runner {
namespace {

using ::testing::HasSubstr;

const LeaseGroup kGroup = {
    "g1", "arn:aws:dynamodb:us-east-1:0:table/t/stream/x", "t"};

struct MemoryKind {
  std::unique_ptr<LeaseStore> Make() {
    return std::make_unique<MemoryLeaseStore>();
  }
};

struct DynamoKind {
  testing::InProcessEddy eddy{1};
  std::unique_ptr<LeaseStore> Make() {
    return std::make_unique<DynamoLeaseStore>(eddy.transport(), "g1",
                                              testing::QuietLogger("lease"));
  }
};

template <typename Kind>
class LeaseStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = kind_.Make();
    ASSERT_TRUE(store_->Prepare(kGroup).ok());
  }

  Lease NewLease(const std::string& id) {
    Lease lease;
    lease.shard_id = id;
    lease.checkpoint = ShardPosition::TrimHorizon();
    EXPECT_TRUE(store_->CreateLease(lease).ok());
    return *store_->GetLease(id);
  }

  Kind kind_;
  std::unique_ptr<LeaseStore> store_;
};

using Kinds = ::testing::Types<MemoryKind, DynamoKind>;
TYPED_TEST_SUITE(LeaseStoreTest, Kinds);

TYPED_TEST(LeaseStoreTest, PrepareIsIdempotentForItsGroupOnly) {
  EXPECT_TRUE(this->store_->Prepare(kGroup).ok());
  Result<LeaseGroup> group = this->store_->ReadGroup();
  ASSERT_TRUE(group.ok());
  EXPECT_EQ(group->stream_arn, kGroup.stream_arn);
  LeaseGroup other = kGroup;
  other.stream_arn += "-2";
  Status refused = this->store_->Prepare(other);
  EXPECT_TRUE(refused.IsInvalidArgument()) << refused.ToString();
}

TYPED_TEST(LeaseStoreTest, CreateOnlyOnce) {
  this->NewLease("shardId-1");
  Lease again;
  again.shard_id = "shardId-1";
  EXPECT_TRUE(this->store_->CreateLease(again).IsAlreadyExists());
}

// Every write checks the (owner, counter) the writer saw and bumps it.
TYPED_TEST(LeaseStoreTest, WritesAreConditionalOnOwnerAndCounter) {
  Lease a = this->NewLease("shardId-1");
  Lease b = a;  // Another runner's view of the same lease.
  ASSERT_TRUE(this->store_->Take(&a, "runner-a").ok());
  EXPECT_EQ(a.owner, "runner-a");
  EXPECT_EQ(a.counter, 1u);
  EXPECT_EQ(a.owner_switches, 1u);
  // b's view is stale: its take fails and changes nothing.
  EXPECT_TRUE(this->store_->Take(&b, "runner-b").IsConditionFailed());
  ASSERT_TRUE(this->store_->Renew(&a).ok());
  EXPECT_EQ(a.counter, 2u);
  Lease stored = *this->store_->GetLease("shardId-1");
  EXPECT_EQ(stored.owner, "runner-a");
  EXPECT_EQ(stored.counter, 2u);
  // b reads it fresh and steals it; a's next writes are fenced.
  ASSERT_TRUE(this->store_->Take(&stored, "runner-b").ok());
  EXPECT_TRUE(this->store_->Renew(&a).IsConditionFailed());
  ShardCheckpoint cp;
  cp.position = ShardPosition::After("100000000000000000007");
  EXPECT_TRUE(this->store_->Checkpoint(&a, cp, 5).IsConditionFailed());
  EXPECT_TRUE(this->store_->Release(&a).IsConditionFailed());
  EXPECT_EQ(this->store_->GetLease("shardId-1")->owner, "runner-b");
}

// Balancing: a handoff request names the next owner without changing the
// owner; the owner's transfer makes it the owner; a take clears a request.
TYPED_TEST(LeaseStoreTest, HandoffIsRequestedThenTransferred) {
  Lease owner_view = this->NewLease("shardId-1");
  ASSERT_TRUE(this->store_->Take(&owner_view, "busy").ok());
  Lease asker_view = *this->store_->GetLease("shardId-1");
  ASSERT_TRUE(this->store_->RequestHandoff(&asker_view, "idle").ok());
  Lease stored = *this->store_->GetLease("shardId-1");
  EXPECT_EQ(stored.owner, "busy");
  EXPECT_EQ(stored.pending_owner, "idle");
  // The owner's stale view fails; re-read, it transfers.
  EXPECT_TRUE(this->store_->Transfer(&owner_view).IsConditionFailed());
  ASSERT_TRUE(this->store_->Transfer(&stored).ok());
  stored = *this->store_->GetLease("shardId-1");
  EXPECT_EQ(stored.owner, "idle");
  EXPECT_EQ(stored.pending_owner, "");
  ASSERT_TRUE(this->store_->RequestHandoff(&stored, "third").ok());
  ASSERT_TRUE(this->store_->Take(&stored, "fourth").ok());
  EXPECT_EQ(this->store_->GetLease("shardId-1")->pending_owner, "");
}

TYPED_TEST(LeaseStoreTest, CheckpointKeepsPositionWindowAndAge) {
  Lease lease = this->NewLease("shardId-1");
  ASSERT_TRUE(this->store_->Take(&lease, "r").ok());
  ShardCheckpoint cp;
  cp.position = ShardPosition::After("4421584500000000017450439091");
  cp.window = WindowCheckpoint{1000, 61000, std::string("st\0ate", 6)};
  cp.iterator_age_ms = 250;
  ASSERT_TRUE(this->store_->Checkpoint(&lease, cp, 1234).ok());
  Lease stored = *this->store_->GetLease("shardId-1");
  EXPECT_EQ(stored.checkpoint, cp.position);
  ASSERT_TRUE(stored.window.has_value());
  EXPECT_EQ(*stored.window, *cp.window);
  EXPECT_EQ(stored.iterator_age_ms, 250);
  EXPECT_EQ(stored.checkpoint_ms, 1234);
  EXPECT_EQ(stored.owner_switches, 0u);
  // Closing the window removes it.
  cp.window.reset();
  cp.position = ShardPosition::ShardEnd();
  ASSERT_TRUE(this->store_->Checkpoint(&lease, cp, 1235).ok());
  stored = *this->store_->GetLease("shardId-1");
  EXPECT_FALSE(stored.window.has_value());
  EXPECT_TRUE(stored.finished());
  // Release, then delete (conditional on the counter).
  ASSERT_TRUE(this->store_->Release(&lease).ok());
  EXPECT_EQ(this->store_->GetLease("shardId-1")->owner, "");
  Lease stale = lease;
  --stale.counter;
  EXPECT_TRUE(this->store_->DeleteLease(stale).IsConditionFailed());
  ASSERT_TRUE(this->store_->DeleteLease(lease).ok());
  EXPECT_TRUE(this->store_->GetLease("shardId-1").status().IsNotFound());
}

TYPED_TEST(LeaseStoreTest, ScanListsLeasesWithParentsAndRunners) {
  Lease child;
  child.shard_id = "shardId-2";
  child.parents = {"shardId-1"};
  ASSERT_TRUE(this->store_->CreateLease(child).ok());
  this->NewLease("shardId-1");
  RunnerRecord runner{"r1", "host", 42, 10, 20, "127.0.0.1:9000"};
  ASSERT_TRUE(this->store_->PutRunner(runner).ok());
  Result<LeaseTableSnapshot> snapshot = this->store_->Scan();
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  ASSERT_EQ(snapshot->leases.size(), 2u);
  for (const Lease& lease : snapshot->leases) {
    if (lease.shard_id == "shardId-2") {
      EXPECT_EQ(lease.parents, std::vector<std::string>({"shardId-1"}));
    }
  }
  ASSERT_EQ(snapshot->runners.size(), 1u);
  EXPECT_EQ(snapshot->runners[0].id, "r1");
  EXPECT_EQ(snapshot->runners[0].pid, 42);
  EXPECT_EQ(snapshot->runners[0].metrics, "127.0.0.1:9000");
  ASSERT_TRUE(this->store_->DeleteRunner("r1").ok());
  EXPECT_TRUE(this->store_->Scan()->runners.empty());
}

// The DynamoDB kind refuses tables it did not make.
class DynamoLeaseStoreTest : public ::testing::Test {
 protected:
  DynamoLeaseStore Store(const std::string& group) {
    return DynamoLeaseStore(eddy_.transport(), group,
                            testing::QuietLogger("lease"));
  }
  testing::InProcessEddy eddy_{1};
};

TEST_F(DynamoLeaseStoreTest, TableOfAnotherToolIsRefused) {
  // A KCL-style table: same key, items but no Eddy group record.
  eddy_.Call("DynamoDB_20120810.CreateTable",
             R"({"TableName":"eddy-leases-kcl","KeySchema":[{"AttributeName":)"
             R"("leaseKey","KeyType":"HASH"}],"AttributeDefinitions":[{)"
             R"("AttributeName":"leaseKey","AttributeType":"S"}],)"
             R"("BillingMode":"PAY_PER_REQUEST"})");
  eddy_.Call("DynamoDB_20120810.PutItem",
             R"({"TableName":"eddy-leases-kcl","Item":{"leaseKey":{"S":)"
             R"("shardId-000000000001"},"leaseOwner":{"S":"worker-1"}}})");
  DynamoLeaseStore store = Store("kcl");
  Status s = store.Prepare(kGroup);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_THAT(s.message(), HasSubstr("written by something else"));
}

TEST_F(DynamoLeaseStoreTest, TableWithAnotherKeyIsRefused) {
  eddy_.Call("DynamoDB_20120810.CreateTable",
             R"({"TableName":"eddy-leases-odd","KeySchema":[{"AttributeName":)"
             R"("id","KeyType":"HASH"}],"AttributeDefinitions":[{)"
             R"("AttributeName":"id","AttributeType":"S"}],)"
             R"("BillingMode":"PAY_PER_REQUEST"})");
  DynamoLeaseStore store = Store("odd");
  Status s = store.Prepare(kGroup);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_THAT(s.message(), HasSubstr("not an Eddy lease table"));
}

TEST_F(DynamoLeaseStoreTest, ForeignItemInAGroupsTableIsReported) {
  DynamoLeaseStore store = Store("g1");
  ASSERT_TRUE(store.Prepare(kGroup).ok());
  eddy_.Call("DynamoDB_20120810.PutItem",
             R"({"TableName":"eddy-leases-g1","Item":{"leaseKey":{"S":)"
             R"("shardId-000000000001"},"leaseOwner":{"S":"worker-1"}}})");
  Result<LeaseTableSnapshot> snapshot = store.Scan();
  ASSERT_FALSE(snapshot.ok());
  EXPECT_THAT(snapshot.status().message(), HasSubstr("something else"));
}

}  // namespace
}  // namespace eddy::runtime::runner
