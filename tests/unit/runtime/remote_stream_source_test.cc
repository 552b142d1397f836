// The remote stream source against Eddy's own API in process: it finds the
// table's stream, pages DescribeStream, reads every record once and in
// order, and follows Lambda's rules for the endpoint's errors (expired
// iterators renewed at the position, trimmed positions resumed at
// TRIM_HORIZON, throttling, 500s and no answer reported as Busy with
// nothing lost).
#include "dispatcher/remote_stream_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "in_process_endpoint.h"

namespace eddy::runtime::dispatcher {
namespace {

using testing::FaultyTransport;
using testing::InProcessEddy;

class RemoteStreamSourceTest : public ::testing::Test {
 protected:
  explicit RemoteStreamSourceTest(uint32_t shards = 1)
      : eddy_(shards),
        faulty_(std::make_shared<FaultyTransport>(eddy_.transport())) {}

  void CreateTable(const std::string& name, bool stream) {
    std::string body =
        R"({"TableName":")" + name +
        R"(","KeySchema":[{"AttributeName":"p","KeyType":"HASH"}],)"
        R"("AttributeDefinitions":[{"AttributeName":"p","AttributeType":"S"}],)"
        R"("BillingMode":"PAY_PER_REQUEST")";
    if (stream) {
      body += R"(,"StreamSpecification":{"StreamEnabled":true,)"
              R"("StreamViewType":"NEW_AND_OLD_IMAGES"})";
    }
    eddy_.Call("DynamoDB_20120810.CreateTable", body + "}");
  }

  void Put(const std::string& table, const std::string& key, int v) {
    eddy_.Call("DynamoDB_20120810.PutItem",
               R"({"TableName":")" + table + R"(","Item":{"p":{"S":")" + key +
                   R"("},"v":{"N":")" + std::to_string(v) + R"("}}})");
  }

  Result<std::unique_ptr<RemoteStreamSource>> Open(const std::string& table) {
    RemoteStreamSource::Options options;
    options.tables = faulty_;
    options.streams = faulty_;
    options.table = table;
    options.limit = 3;
    options.logger = testing::QuietLogger("remote-test");
    return RemoteStreamSource::Open(std::move(options));
  }

  // The values of `v` read from the only shard until `count` arrived or a
  // read failed; failed reads are counted in *failures and repeated.
  std::vector<int> ReadValues(ShardReader* reader, size_t count,
                              int* failures = nullptr,
                              bool* trimmed = nullptr) {
    std::vector<int> out;
    for (int reads = 0; out.size() < count && reads < 100; ++reads) {
      Result<ShardBatch> batch = reader->Read(1000, 1 << 20);
      if (!batch.ok()) {
        EXPECT_EQ(batch.status().code(), Status::Code::kBusy)
            << batch.status().ToString();
        if (failures != nullptr) ++*failures;
        continue;
      }
      if (trimmed != nullptr) *trimmed = *trimmed || batch->trim_skipped;
      for (const SourceRecord& r : batch->records) {
        out.push_back(std::stoi(r.record.new_image->at("v").scalar()));
      }
    }
    return out;
  }

  std::unique_ptr<ShardReader> OnlyShard(RemoteStreamSource* source,
                                         ShardPosition from) {
    Result<std::vector<ShardInfo>> shards = source->ListShards();
    EXPECT_TRUE(shards.ok());
    EXPECT_EQ(shards->size(), 1u);
    Result<std::unique_ptr<ShardReader>> reader =
        source->OpenShard(shards->at(0).shard_id, from);
    EXPECT_TRUE(reader.ok());
    return std::move(*reader);
  }

  InProcessEddy eddy_;
  std::shared_ptr<FaultyTransport> faulty_;
};

TEST_F(RemoteStreamSourceTest, DescribesTheTablesStream) {
  CreateTable("orders", true);
  Result<std::unique_ptr<RemoteStreamSource>> source = Open("orders");
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  Result<StreamInfo> info = (*source)->Describe();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->table, "orders");
  EXPECT_EQ(info->hash_key, "p");
  EXPECT_EQ(info->view_type, store::StreamViewType::kNewAndOldImages);
  EXPECT_TRUE(info->enabled);
  EXPECT_THAT(info->stream_arn, ::testing::HasSubstr(":table/orders/stream/"));
}

// Bad input gets a clear error, not a runner that waits forever.
TEST_F(RemoteStreamSourceTest, MissingTableAndTableWithoutStreamAreErrors) {
  CreateTable("plain", false);
  Result<std::unique_ptr<RemoteStreamSource>> missing = Open("nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().IsNotFound());
  Result<std::unique_ptr<RemoteStreamSource>> plain = Open("plain");
  ASSERT_FALSE(plain.ok());
  EXPECT_TRUE(plain.status().IsInvalidArgument());
  EXPECT_THAT(plain.status().message(),
              ::testing::HasSubstr("has no enabled stream"));
  faulty_->Inject("DescribeTable", {0, ""});
  Result<std::unique_ptr<RemoteStreamSource>> unreachable = Open("plain");
  ASSERT_FALSE(unreachable.ok());
  EXPECT_EQ(unreachable.status().code(), Status::Code::kBusy);
  faulty_->Inject("DescribeTable", {400, "UnrecognizedClientException"});
  Result<std::unique_ptr<RemoteStreamSource>> stranger = Open("plain");
  ASSERT_FALSE(stranger.ok());
  EXPECT_THAT(stranger.status().message(),
              ::testing::HasSubstr("UnrecognizedClientException"));
}

TEST_F(RemoteStreamSourceTest, ReadsEveryRecordOnceInOrderAcrossPages) {
  CreateTable("tbl1", true);
  for (int v = 0; v < 10; ++v) Put("tbl1", "k", v);
  auto source = Open("tbl1");
  ASSERT_TRUE(source.ok());
  auto reader = OnlyShard(source->get(), ShardPosition::TrimHorizon());
  // Limit 3: four GetRecords calls.
  EXPECT_EQ(ReadValues(reader.get(), 10),
            std::vector<int>({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  Result<ShardBatch> caught_up = reader->Read(1000, 1 << 20);
  ASSERT_TRUE(caught_up.ok());
  EXPECT_TRUE(caught_up->records.empty());
  EXPECT_FALSE(caught_up->end_of_shard);
  EXPECT_EQ(caught_up->next.kind, ShardPosition::Kind::kAfterSequence);
  // A new reader from the saved position repeats nothing.
  Put("tbl1", "k", 10);
  auto resumed = OnlyShard(source->get(), caught_up->next);
  EXPECT_EQ(ReadValues(resumed.get(), 1), std::vector<int>({10}));
}

// Throttling, 500s and no answer at all: Busy, and the next read goes on
// with the same iterator: nothing lost, nothing repeated.
TEST_F(RemoteStreamSourceTest, ThrottlingAndOutagesLoseNothing) {
  CreateTable("tbl2", true);
  for (int v = 0; v < 9; ++v) Put("tbl2", "k", v);
  auto source = Open("tbl2");
  ASSERT_TRUE(source.ok());
  auto reader = OnlyShard(source->get(), ShardPosition::TrimHorizon());
  faulty_->Inject("GetRecords", {400, "LimitExceededException"});
  faulty_->Inject("GetRecords", {400, "ThrottlingException"});
  faulty_->Inject("GetRecords", {500, "InternalServerError"});
  faulty_->Inject("GetRecords", {0, ""});
  int failures = 0;
  EXPECT_EQ(ReadValues(reader.get(), 9, &failures),
            std::vector<int>({0, 1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(failures, 4);
  EXPECT_EQ(faulty_->calls("GetShardIterator"), 1);
}

// ExpiredIteratorException: a new iterator where the old one was.
TEST_F(RemoteStreamSourceTest, ExpiredIteratorIsRenewedAtThePosition) {
  CreateTable("tbl3", true);
  for (int v = 0; v < 6; ++v) Put("tbl3", "k", v);
  auto source = Open("tbl3");
  ASSERT_TRUE(source.ok());
  auto reader = OnlyShard(source->get(), ShardPosition::TrimHorizon());
  EXPECT_EQ(ReadValues(reader.get(), 3), std::vector<int>({0, 1, 2}));
  faulty_->Inject("GetRecords", {400, "ExpiredIteratorException"});
  EXPECT_EQ(ReadValues(reader.get(), 3), std::vector<int>({3, 4, 5}));
  EXPECT_EQ(faulty_->calls("GetShardIterator"), 2);
}

// TrimmedDataAccessException: counted, and reading resumes at the trim
// horizon (Lambda's behaviour).
TEST_F(RemoteStreamSourceTest, TrimmedPositionResumesAtTrimHorizon) {
  CreateTable("tbl4", true);
  for (int v = 0; v < 4; ++v) Put("tbl4", "k", v);
  auto source = Open("tbl4");
  ASSERT_TRUE(source.ok());
  auto reader = OnlyShard(source->get(), ShardPosition::TrimHorizon());
  EXPECT_EQ(ReadValues(reader.get(), 3), std::vector<int>({0, 1, 2}));
  faulty_->Inject("GetRecords", {400, "TrimmedDataAccessException"});
  bool trimmed = false;
  // (Nothing was really trimmed here: the horizon is the first record.)
  EXPECT_EQ(ReadValues(reader.get(), 4, nullptr, &trimmed),
            std::vector<int>({0, 1, 2, 3}));
  EXPECT_TRUE(trimmed);
}

// A disabled stream's shards are closed: a reader reaches SHARD_END after
// the last record (GetRecords without NextShardIterator).
TEST_F(RemoteStreamSourceTest, ClosedShardEndsAfterItsLastRecord) {
  CreateTable("tbl5", true);
  Put("tbl5", "k", 1);
  auto source = Open("tbl5");
  ASSERT_TRUE(source.ok());
  eddy_.Call(
      "DynamoDB_20120810.UpdateTable",
      R"({"TableName":"tbl5","StreamSpecification":{"StreamEnabled":false}})");
  auto reader = OnlyShard(source->get(), ShardPosition::TrimHorizon());
  Result<ShardBatch> batch = reader->Read(1000, 1 << 20);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->records.size(), 1u);
  EXPECT_TRUE(batch->end_of_shard);
  EXPECT_EQ(batch->next, ShardPosition::ShardEnd());
  Result<std::vector<ShardInfo>> shards = (*source)->ListShards();
  ASSERT_TRUE(shards.ok());
  EXPECT_TRUE(shards->at(0).closed());
}

class RemoteStreamSourcePagingTest : public RemoteStreamSourceTest {
 protected:
  RemoteStreamSourcePagingTest() : RemoteStreamSourceTest(130) {}
};

// DescribeStream pages 100 shards at a time; every shard is listed once.
TEST_F(RemoteStreamSourcePagingTest, ListsEveryShardAcrossPages) {
  CreateTable("wide", true);
  auto source = Open("wide");
  ASSERT_TRUE(source.ok());
  Result<std::vector<ShardInfo>> shards = (*source)->ListShards();
  ASSERT_TRUE(shards.ok()) << shards.status().ToString();
  EXPECT_EQ(shards->size(), 130u);
  EXPECT_EQ(faulty_->calls("DescribeStream"), 2);
  for (size_t i = 1; i < shards->size(); ++i) {
    EXPECT_LT((*shards)[i - 1].shard_id, (*shards)[i].shard_id);
  }
}

}  // namespace
}  // namespace eddy::runtime::dispatcher
