// StreamLog: shard layout, the fixed hash -> shard mapping, and seal / trim
// fan-out across shards.
#include "eddy/streams/stream_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "streams_test_util.h"

namespace eddy::streams {
namespace {

namespace fs = std::filesystem;

class StreamLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TestDir("eddy_stream_log");
    options_.dir = dir_.string();
    options_.shard_count = 3;
    options_.shard_options.logger = QuietLogger();
    options_.shard_options.segment_bytes = 256;
    Reopen();
  }
  void TearDown() override {
    stream_.reset();
    fs::remove_all(dir_);
  }
  void Reopen() {
    stream_.reset();
    auto stream = StreamLog::Open(options_);
    ASSERT_THAT(stream, IsOk());
    stream_ = std::move(*stream);
  }
  uint64_t Write(uint32_t hash, std::string_view payload, int64_t ts = 0) {
    auto seq = stream_->shard(stream_->ShardFor(hash))->Append(payload, ts);
    EXPECT_THAT(seq, IsOk());
    return seq.ok() ? *seq : 0;
  }

  fs::path dir_;
  StreamLog::Options options_;
  std::unique_ptr<StreamLog> stream_;
};

// One directory per shard; each shard numbers its records independently.
TEST_F(StreamLogTest, ShardsAreIndependentLogs) {
  EXPECT_EQ(stream_->shard_count(), 3u);
  EXPECT_TRUE(fs::is_directory(dir_ / "shard-0000"));
  EXPECT_TRUE(fs::is_directory(dir_ / "shard-0002"));
  EXPECT_EQ(stream_->ShardFor(7), 1u);
  EXPECT_EQ(Write(0, "a"), 1u);
  EXPECT_EQ(Write(3, "b"), 2u);
  EXPECT_EQ(Write(1, "c"), 1u);
  EXPECT_EQ(stream_->shard(0)->last_sequence(), 2u);
  EXPECT_EQ(stream_->shard(1)->last_sequence(), 1u);
  EXPECT_EQ(stream_->shard(2)->last_sequence(), 0u);
}

// The shard count is fixed at creation: reopening with another count keeps
// the old one, or records of one item would move to another shard.
TEST_F(StreamLogTest, ShardCountIsFixedAtCreation) {
  Write(5, "x");
  options_.shard_count = 8;
  Reopen();
  EXPECT_EQ(stream_->shard_count(), 3u);
  EXPECT_EQ(stream_->shard(2)->last_sequence(), 1u);
}

// Disabling a stream seals every shard, persistently.
TEST_F(StreamLogTest, SealFansOut) {
  Write(0, "a");
  ASSERT_THAT(stream_->Seal(), IsOk());
  EXPECT_TRUE(stream_->sealed());
  Reopen();
  EXPECT_TRUE(stream_->sealed());
  for (uint32_t i = 0; i < 3; ++i) EXPECT_TRUE(stream_->shard(i)->sealed());
}

// Retention trims every shard.
TEST_F(StreamLogTest, TrimFansOut) {
  for (uint32_t h = 0; h < 3; ++h) {
    for (int i = 0; i < 30; ++i) Write(h, "old-record", 100);
  }
  Write(0, "new", 1000);
  ASSERT_THAT(stream_->TrimBefore(500), IsOk());
  EXPECT_GT(stream_->shard(0)->first_sequence(), 1u);
  EXPECT_EQ(stream_->shard(1)->first_sequence(), 31u);
  EXPECT_EQ(stream_->shard(2)->first_sequence(), 31u);
}

TEST_F(StreamLogTest, DestroyRemovesEverything) {
  Write(0, "a");
  ASSERT_THAT(stream_->Destroy(), IsOk());
  EXPECT_FALSE(fs::exists(dir_));
  stream_.reset();
  EXPECT_THAT(StreamLog::DestroyStream(dir_.string()), IsOk());
}

}  // namespace
}  // namespace eddy::streams
