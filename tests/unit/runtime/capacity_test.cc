// Provisioned capacity (runtime/api/capacity.h): the token bucket's rules
// (refill at the rate, burst capped at 300 s of it, debt, resize) under an
// injected clock, and the limiter over a real store: which bucket a read or
// a write of a table, an LSI or a GSI takes from, DynamoDB's errors, and
// UpdateTable's resize.
#include "api/capacity.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <filesystem>
#include <memory>

#include "eddy/store/database.h"
#include "store_test_util.h"

namespace eddy::runtime::api {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kSecond = 1000 * 1000;  // Microseconds.

TEST(TokenBucketTest, StartsFullWithItsBurst) {
  TokenBucket bucket(5, 300, 0);
  EXPECT_DOUBLE_EQ(bucket.max_balance(), 1500);
  EXPECT_DOUBLE_EQ(bucket.Balance(0), 1500);
  EXPECT_TRUE(bucket.Admits(0));
}

TEST(TokenBucketTest, RefillsAtItsRate) {
  TokenBucket bucket(5, 300, 0);
  bucket.Take(1500, 0);
  EXPECT_FALSE(bucket.Admits(0));
  EXPECT_DOUBLE_EQ(bucket.Balance(kSecond / 2), 2.5);
  EXPECT_DOUBLE_EQ(bucket.Balance(10 * kSecond), 50);
}

// Unused capacity accumulates for 300 s at most, as DynamoDB's burst
// capacity.
TEST(TokenBucketTest, KeepsAtMostThreeHundredSecondsOfUnusedCapacity) {
  TokenBucket bucket(10, 300, 0);
  bucket.Take(3000, 0);
  EXPECT_DOUBLE_EQ(bucket.Balance(299 * kSecond), 2990);
  EXPECT_DOUBLE_EQ(bucket.Balance(300 * kSecond), 3000);
  EXPECT_DOUBLE_EQ(bucket.Balance(3600 * kSecond), 3000);
}

// A request may take more than is left; the bucket then refuses until the
// debt is repaid, and admits again as soon as the balance is positive.
TEST(TokenBucketTest, DebtRefusesUntilRepaid) {
  TokenBucket bucket(2, 1, 0);
  EXPECT_TRUE(bucket.Admits(0));
  bucket.Take(10, 0);  // 2 - 10: 8 units of debt, 4 s at 2 units/s.
  EXPECT_DOUBLE_EQ(bucket.Balance(0), -8);
  EXPECT_FALSE(bucket.Admits(2 * kSecond));
  EXPECT_FALSE(bucket.Admits(4 * kSecond));  // Exactly 0: nothing to spend.
  EXPECT_TRUE(bucket.Admits(4 * kSecond + 1000));
}

TEST(TokenBucketTest, ResizeKeepsTheBalanceCappedAtTheNewBurst) {
  TokenBucket bucket(10, 300, 0);
  bucket.Take(1000, 0);  // 2000 left.
  bucket.Resize(1, 0);   // At most 300 now.
  EXPECT_DOUBLE_EQ(bucket.Balance(0), 300);
  EXPECT_DOUBLE_EQ(bucket.Balance(kSecond), 300);
  bucket.Take(310, kSecond);  // -10: 10 s at the new rate.
  EXPECT_FALSE(bucket.Admits(10 * kSecond));
  bucket.Resize(1000, 10 * kSecond);  // Repaid within 10 ms at 1000/s.
  EXPECT_TRUE(bucket.Admits(10 * kSecond + 11 * 1000));
  EXPECT_DOUBLE_EQ(bucket.max_balance(), 300000);
}

TEST(TokenBucketTest, AClockGoingBackStandsStill) {
  TokenBucket bucket(1, 10, 5 * kSecond);
  bucket.Take(10, 5 * kSecond);
  EXPECT_DOUBLE_EQ(bucket.Balance(kSecond), 0);
  EXPECT_DOUBLE_EQ(bucket.Balance(6 * kSecond), 1);
}

TEST(CapacityAdmissionTest, EveryOperationThatConsumesCapacityIsAdmitted) {
  using A = CapacityAdmission;
  EXPECT_EQ(AdmissionOf("GetItem"), A::kReadItem);
  for (const char* op : {"PutItem", "UpdateItem", "DeleteItem"}) {
    EXPECT_EQ(AdmissionOf(op), A::kWriteItem) << op;
  }
  EXPECT_EQ(AdmissionOf("Query"), A::kQueryScan);
  EXPECT_EQ(AdmissionOf("Scan"), A::kQueryScan);
  EXPECT_EQ(AdmissionOf("TransactGetItems"), A::kTransactGet);
  EXPECT_EQ(AdmissionOf("TransactWriteItems"), A::kTransactWrite);
  EXPECT_EQ(AdmissionOf("ExecuteStatement"), A::kStatement);
  EXPECT_EQ(AdmissionOf("ExecuteTransaction"), A::kTransaction);
  for (const char* op :
       {"BatchGetItem", "BatchWriteItem", "BatchExecuteStatement"}) {
    EXPECT_EQ(AdmissionOf(op), A::kPerItem) << op;
  }
  for (const char* op : {"CreateTable", "DescribeTable", "UpdateTable",
                         "ListTables", "GetRecords", "TagResource"}) {
    EXPECT_EQ(AdmissionOf(op), A::kNone) << op;
  }
}

class CapacityLimiterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = store::testing::FreshTestDir("eddy_capacity_test_");
    store::Database::Options options;
    options.path = dir_.string();
    options.ttl_sweep_interval_ms = 0;
    auto db = store::Database::Open(options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    CapacityLimiter::Options limiter_options;
    limiter_options.burst_seconds = 1;
    limiter_options.clock_us = [this] { return now_.load(); };
    limiter_ = std::make_unique<CapacityLimiter>(db_.get(), EndpointConfig(),
                                                 limiter_options);
  }

  void TearDown() override {
    limiter_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A table keyed by "id" at `rcu`/`wcu` (on demand when both are 0), with
  // a GSI "by_g" at `gsi_rcu`/`gsi_wcu` and an LSI "by_l" when asked.
  void CreateTable(const std::string& name, int64_t rcu, int64_t wcu,
                   int64_t gsi_rcu = 0, int64_t gsi_wcu = 0, bool lsi = false) {
    store::TableSchema schema;
    schema.name = name;
    schema.hash_key = {"id", store::ValueType::kS};
    schema.attribute_definitions = {{"id", store::ValueType::kS},
                                    {"g", store::ValueType::kS}};
    if (lsi) {
      schema.range_key = store::KeyElement{"r", store::ValueType::kS};
      schema.attribute_definitions.push_back({"r", store::ValueType::kS});
      store::IndexSchema l;
      l.name = "by_l";
      l.hash_key = {"id", store::ValueType::kS};
      l.range_key = store::KeyElement{"g", store::ValueType::kS};
      schema.local_indexes.push_back(l);
    }
    if (rcu == 0 && wcu == 0) {
      schema.billing_mode = store::BillingMode::kPayPerRequest;
    } else {
      schema.read_capacity_units = rcu;
      schema.write_capacity_units = wcu;
    }
    if (gsi_rcu > 0) {
      store::IndexSchema g;
      g.name = "by_g";
      g.hash_key = {"g", store::ValueType::kS};
      g.read_capacity_units = gsi_rcu;
      g.write_capacity_units = gsi_wcu;
      schema.global_indexes.push_back(g);
    }
    auto info = db_->CreateTable(schema);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
  }

  ApiStatus Read(const std::string& table, const std::string* index = nullptr) {
    return limiter_->Admit(table, CapacityUse::kRead, index);
  }
  ApiStatus Write(const std::string& table) {
    return limiter_->Admit(table, CapacityUse::kWrite);
  }
  void Charge(const std::string& table, const Capacity& used, bool write) {
    limiter_->Charge(table, used, write);
  }
  ApiStatus AdmitRequest(CapacityAdmission admission, const char* json) {
    rapidjson::Document doc;
    doc.Parse(json);
    EXPECT_FALSE(doc.HasParseError()) << json;
    return limiter_->AdmitRequest(admission, doc);
  }
  void Advance(int64_t us) { now_ += us; }

  std::filesystem::path dir_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<CapacityLimiter> limiter_;
  std::atomic<int64_t> now_{1000 * kSecond};
};

TEST_F(CapacityLimiterTest, OnDemandTablesAreNeverThrottled) {
  CreateTable("ondemand", 0, 0);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(Write("ondemand").ok());
    Charge("ondemand", Capacity{1000, {}, {}}, /*write=*/true);
    ASSERT_TRUE(Read("ondemand").ok());
    Charge("ondemand", Capacity{1000, {}, {}}, /*write=*/false);
  }
}

TEST_F(CapacityLimiterTest, MissingTablesAreLeftToTheOperation) {
  EXPECT_TRUE(Write("missing").ok());
  Charge("missing", Capacity{1, {}, {}}, /*write=*/true);
  EXPECT_TRUE(Read("missing").ok());
}

// Reads and writes have their own buckets; a throttled request gets
// DynamoDB's type, message and ThrottlingReasons.
TEST_F(CapacityLimiterTest, DebtThrottlesWithDynamoDbsError) {
  CreateTable("orders", 5, 2);
  ASSERT_TRUE(Write("orders").ok());
  Charge("orders", Capacity{3, {}, {}}, /*write=*/true);  // 2 - 3 = -1.
  ApiStatus s = Write("orders");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().http_status, 400);
  EXPECT_EQ(s.error().type,
            "com.amazonaws.dynamodb.v20120810#"
            "ProvisionedThroughputExceededException");
  EXPECT_EQ(s.error().message,
            "The level of configured provisioned throughput for the table "
            "was exceeded. Consider increasing your provisioning level with "
            "the UpdateTable API.");
  EXPECT_EQ(s.error().Body(),
            "{\"__type\":\"com.amazonaws.dynamodb.v20120810#"
            "ProvisionedThroughputExceededException\",\"message\":\"" +
                s.error().message +
                "\",\"ThrottlingReasons\":[{\"reason\":"
                "\"TableWriteProvisionedThroughputExceeded\",\"resource\":"
                "\"arn:aws:dynamodb:us-east-1:000000000000:table/orders\"}]}");
  EXPECT_TRUE(Read("orders").ok());
  Advance(kSecond / 2);  // +1: still exactly 0.
  EXPECT_FALSE(Write("orders").ok());
  Advance(kSecond / 10);
  EXPECT_TRUE(Write("orders").ok());
}

// A write to a table waits for every GSI's write capacity (GSI back
// pressure); a read of the GSI takes the GSI's read capacity, not the
// table's.
TEST_F(CapacityLimiterTest, GsisHaveTheirOwnBuckets) {
  CreateTable("users", 100, 100, /*gsi_rcu=*/1, /*gsi_wcu=*/1);
  ASSERT_TRUE(Write("users").ok());
  Charge("users", Capacity{1, {{"by_g", 2}}, {}}, /*write=*/true);
  ApiStatus s = Write("users");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "The level of configured provisioned throughput for one or more "
            "global secondary indexes of the table was exceeded. Consider "
            "increasing your provisioning level for the under-provisioned "
            "global secondary indexes with the UpdateTable API");
  EXPECT_THAT(s.error().extra_json,
              HasSubstr("\"reason\":\"IndexWriteProvisionedThroughputExceeded\""
                        ",\"resource\":\"arn:aws:dynamodb:us-east-1:"
                        "000000000000:table/users/index/by_g\""));

  const std::string gsi = "by_g";
  ASSERT_TRUE(Read("users", &gsi).ok());
  Charge("users", Capacity{0, {{"by_g", 5}}, {}}, /*write=*/false);
  s = Read("users", &gsi);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().extra_json,
              HasSubstr("IndexReadProvisionedThroughputExceeded"));
  EXPECT_TRUE(Read("users").ok());  // The table's own reads go on.
}

// LSIs share the table's throughput: their units come out of its bucket.
TEST_F(CapacityLimiterTest, LsiUnitsAreTheTables) {
  CreateTable("events", 2, 2, 0, 0, /*lsi=*/true);
  const std::string lsi = "by_l";
  ASSERT_TRUE(Read("events", &lsi).ok());
  Charge("events", Capacity{0, {}, {{"by_l", 3}}}, /*write=*/false);
  EXPECT_FALSE(Read("events").ok());
  EXPECT_FALSE(Read("events", &lsi).ok());
}

// UpdateTable's new throughput applies at once: a table in debt at 1 WCU
// is admitted again within milliseconds at 1000 WCU.
TEST_F(CapacityLimiterTest, UpdateTableResizesAtOnce) {
  CreateTable("items", 1, 1);
  ASSERT_TRUE(Write("items").ok());
  Charge("items", Capacity{100, {}, {}}, /*write=*/true);  // 99 s of debt.
  Advance(kSecond);
  EXPECT_FALSE(Write("items").ok());
  store::TableUpdate update;
  update.write_capacity_units = 1000;
  auto info = db_->UpdateTable("items", update);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  limiter_->Configure(*info);
  Advance(kSecond / 10);  // -98 + 100.
  EXPECT_TRUE(Write("items").ok());

  // On demand from now on: never throttled.
  Charge("items", Capacity{5000, {}, {}}, /*write=*/true);
  EXPECT_FALSE(Write("items").ok());
  update = store::TableUpdate();
  update.billing_mode = store::BillingMode::kPayPerRequest;
  info = db_->UpdateTable("items", update);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  limiter_->Configure(*info);
  EXPECT_TRUE(Write("items").ok());
}

// A deleted table's buckets go; a new table of that name starts full.
TEST_F(CapacityLimiterTest, ARecreatedTableStartsAfresh) {
  CreateTable("cycle", 1, 1);
  Charge("cycle", Capacity{100, {}, {}}, /*write=*/true);
  EXPECT_FALSE(Write("cycle").ok());
  ASSERT_TRUE(db_->DeleteTable("cycle").ok());
  limiter_->Forget("cycle");
  CreateTable("cycle", 1, 1);
  EXPECT_TRUE(Write("cycle").ok());
}

// The request path's admission: the table (and index) each operation's
// request names, and a transaction cancelled item by item.
TEST_F(CapacityLimiterTest, AdmitsRequestsByWhatTheyName) {
  CreateTable("busy", 1, 1, /*gsi_rcu=*/1, /*gsi_wcu=*/1);
  CreateTable("idle", 1, 1);
  Charge("busy", Capacity{5, {{"by_g", 5}}, {}}, /*write=*/true);
  Charge("busy", Capacity{0, {{"by_g", 5}}, {}}, /*write=*/false);
  using A = CapacityAdmission;
  EXPECT_FALSE(AdmitRequest(A::kWriteItem, R"({"TableName":"busy"})").ok());
  EXPECT_TRUE(AdmitRequest(A::kReadItem, R"({"TableName":"busy"})").ok());
  EXPECT_TRUE(AdmitRequest(A::kWriteItem, R"({"TableName":"idle"})").ok());
  EXPECT_FALSE(
      AdmitRequest(A::kQueryScan, R"({"TableName":"busy","IndexName":"by_g"})")
          .ok());
  EXPECT_TRUE(AdmitRequest(A::kQueryScan, R"({"TableName":"busy"})").ok());
  EXPECT_FALSE(
      AdmitRequest(A::kStatement,
                   R"({"Statement":"INSERT INTO busy VALUE {'id':'a'}"})")
          .ok());
  EXPECT_TRUE(
      AdmitRequest(A::kStatement, R"({"Statement":"SELECT * FROM busy"})")
          .ok());
  EXPECT_FALSE(
      AdmitRequest(A::kStatement, R"({"Statement":"SELECT * FROM busy.by_g"})")
          .ok());
  // Malformed requests are the operation's to reject.
  EXPECT_TRUE(AdmitRequest(A::kWriteItem, R"({"TableName":7})").ok());
  EXPECT_TRUE(AdmitRequest(A::kStatement, R"({"Statement":"SELEC"})").ok());
  EXPECT_TRUE(
      AdmitRequest(A::kPerItem, R"({"RequestItems":{"busy":[]}})").ok());

  ApiStatus s = AdmitRequest(
      A::kTransactWrite,
      R"({"TransactItems":[{"Put":{"TableName":"idle","Item":{}}},)"
      R"({"Update":{"TableName":"busy","Key":{}}}]})");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().type,
            "com.amazonaws.dynamodb.v20120810#TransactionCanceledException");
  EXPECT_EQ(s.error().message,
            "Transaction cancelled, please refer cancellation reasons for "
            "specific reasons [None, ProvisionedThroughputExceeded]");
  EXPECT_EQ(s.error().extra_json,
            "\"CancellationReasons\":[{\"Code\":\"None\"},{\"Code\":"
            "\"ProvisionedThroughputExceeded\",\"Message\":\"" +
                std::string(kTableThroughputExceeded) + "\"}]");
  EXPECT_TRUE(
      AdmitRequest(A::kTransactGet,
                   R"({"TransactItems":[{"Get":{"TableName":"busy"}}]})")
          .ok());
  EXPECT_FALSE(AdmitRequest(A::kTransaction,
                            R"({"TransactStatements":[{"Statement":)"
                            R"("UPDATE busy SET a = 1 WHERE id = 'x'"}]})")
                   .ok());
}

}  // namespace
}  // namespace eddy::runtime::api
