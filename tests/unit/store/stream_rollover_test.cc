// Stream rollover (eddy/store/change_stream.h): every shard of the current
// generation closes and a child of each opens; an item's changes stay in
// one lane, parent then child, so per-item order holds across it; the
// generations survive a reopen; retention retires whole closed
// generations once all their records expired.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>

#include "eddy/store/database.h"
#include "store_test_util.h"

namespace eddy::store {
namespace {

using testing::N;
using testing::S;

class StreamRolloverTest : public ::testing::Test {
 protected:
  static constexpr int64_t kRollover = 60'000;
  static constexpr int64_t kRetention = 600'000;
  static constexpr size_t kSegmentFiles = 3;

  void SetUp() override {
    dir_ = testing::FreshTestDir("eddy_rollover_test_");
    // The logs stamp records and seals with the real clock: start there.
    now_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
    Open();
    TableSchema schema;
    schema.name = "Orders";
    schema.hash_key = {"id", ValueType::kS};
    schema.attribute_definitions = {{"id", ValueType::kS}};
    schema.billing_mode = BillingMode::kPayPerRequest;
    schema.stream_view_type = StreamViewType::kNewAndOldImages;
    ASSERT_TRUE(db_->CreateTable(schema).ok());
    table_ = db_->GetTable("Orders");
  }

  void TearDown() override {
    table_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Open() {
    Database::Options options;
    options.path = dir_.string();
    options.stream_shards = 2;
    options.stream_rollover_ms = rollover_ms_;
    options.stream_retention_ms = kRetention;
    options.clock_ms = [this] { return now_ms_.load(); };
    options.maintenance_interval_ms = 3600 * 1000;  // When the test says.
    options.stream_segment_files = kSegmentFiles;
    auto db = Database::Open(options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    table_ = db_->GetTable("Orders");
  }

  void Reopen() {
    table_.reset();
    ASSERT_TRUE(db_->Close().ok());
    db_.reset();
    Open();
  }

  void Put(const std::string& id, int v) {
    WriteOutcome out;
    ASSERT_TRUE(table_
                    ->Put(Item{{"id", S(id)}, {"v", N(std::to_string(v))}},
                          nullptr, &out)
                    .ok());
  }

  std::shared_ptr<ChangeStream> Stream() {
    return db_->ListStreams(std::string("Orders")).front();
  }

  // Versions of `id` per shard index, in shard order.
  std::map<uint32_t, std::vector<int>> VersionsOf(const std::string& id) {
    std::map<uint32_t, std::vector<int>> out;
    auto stream = Stream();
    for (uint32_t i = stream->first_shard(); i < stream->shard_count(); ++i) {
      streams::ShardLog* log = stream->shard(i);
      auto read = log->Read(log->first_sequence(), 100000, 64 << 20);
      EXPECT_TRUE(read.ok()) << read.status().ToString();
      for (const auto& raw : read->records) {
        auto record = stream->Decode(i, raw);
        EXPECT_TRUE(record.ok());
        if (record->keys.at("id").scalar() == id) {
          out[i].push_back(std::stoi(record->new_image->at("v").scalar()));
        }
      }
    }
    return out;
  }

  std::filesystem::path dir_;
  int64_t rollover_ms_ = kRollover;
  std::atomic<int64_t> now_ms_;
  std::unique_ptr<Database> db_;
  std::shared_ptr<Table> table_;
};

TEST_F(StreamRolloverTest, NothingHappensBeforeThePeriod) {
  now_ms_ += kRollover - 1;
  ASSERT_TRUE(db_->RollOverStreams().ok());
  EXPECT_EQ(Stream()->shard_count(), 2u);
}

// A period of 0 (eddy serve --stream-shard-rollover 0) turns rollovers
// off: however old the shards, they stay open and take the writes.
TEST_F(StreamRolloverTest, ZeroPeriodNeverRollsOver) {
  rollover_ms_ = 0;
  Reopen();
  Put("a", 1);
  for (int day = 0; day < 30; ++day) {
    now_ms_ += 24LL * 3600 * 1000;
    ASSERT_TRUE(db_->RollOverStreams().ok());
  }
  Put("a", 2);
  EXPECT_EQ(Stream()->shard_count(), 2u);
  EXPECT_EQ(Stream()->description().generations.size(), 1u);
  for (uint32_t i = 0; i < Stream()->shard_count(); ++i) {
    EXPECT_FALSE(Stream()->shard(i)->sealed());
  }
  std::map<uint32_t, std::vector<int>> versions = VersionsOf("a");
  ASSERT_EQ(versions.size(), 1u);
  EXPECT_EQ(versions.begin()->second, std::vector<int>({1, 2}));
}

// Every open shard closes and gets one child; writes go to the children;
// an item's versions are in its parent lane, then its child lane.
TEST_F(StreamRolloverTest, ShardsCloseAndChildrenTakeTheWrites) {
  Put("a", 1);
  Put("a", 2);
  now_ms_ += kRollover;
  ASSERT_TRUE(db_->RollOverStreams().ok());
  auto stream = Stream();
  ASSERT_EQ(stream->shard_count(), 4u);
  EXPECT_EQ(stream->width(), 2u);
  EXPECT_EQ(stream->first_shard(), 0u);
  for (uint32_t i = 0; i < 2; ++i) {
    EXPECT_TRUE(stream->shard(i)->sealed()) << i;
    EXPECT_FALSE(stream->shard(i + 2)->sealed()) << i + 2;
    EXPECT_EQ(stream->parent_shard(i + 2), static_cast<int64_t>(i));
    EXPECT_EQ(stream->parent_shard(i), -1);
  }
  const StreamDescription d = stream->description();
  ASSERT_EQ(d.generations.size(), 2u);
  EXPECT_EQ(d.generations[1], now_ms_.load());
  Put("a", 3);
  auto versions = VersionsOf("a");
  ASSERT_EQ(versions.size(), 2u);
  const uint32_t parent = versions.begin()->first;
  EXPECT_EQ(versions.begin()->second, std::vector<int>({1, 2}));
  EXPECT_EQ(versions.rbegin()->first, parent + 2);  // Its child.
  EXPECT_EQ(versions.rbegin()->second, std::vector<int>({3}));
}

// Each generation is created later than the one before (shard ids sort
// in creation order).
TEST_F(StreamRolloverTest, GenerationTimesIncrease) {
  for (int i = 0; i < 3; ++i) {
    now_ms_ += kRollover;
    ASSERT_TRUE(db_->RollOverStreams().ok());
  }
  const StreamDescription d = Stream()->description();
  ASSERT_EQ(d.generations.size(), 4u);
  for (size_t g = 1; g < d.generations.size(); ++g) {
    EXPECT_GT(d.generations[g], d.generations[g - 1]);
  }
  EXPECT_EQ(Stream()->shard_count(), 8u);
}

TEST_F(StreamRolloverTest, GenerationsSurviveAReopen) {
  Put("a", 1);
  now_ms_ += kRollover;
  ASSERT_TRUE(db_->RollOverStreams().ok());
  Put("a", 2);
  const StreamDescription before = Stream()->description();
  Reopen();
  auto stream = Stream();
  EXPECT_EQ(stream->description().generations, before.generations);
  EXPECT_EQ(stream->shard_count(), 4u);
  EXPECT_TRUE(stream->shard(0)->sealed());
  EXPECT_FALSE(stream->shard(2)->sealed());
  Put("a", 3);
  auto versions = VersionsOf("a");
  EXPECT_EQ(versions.rbegin()->second, std::vector<int>({2, 3}));
  EXPECT_EQ(versions.begin()->second, std::vector<int>({1}));
}

// Retention trims whole closed generations: once every record of a closed
// generation expired, its shards are retired (and stay so after a
// reopen); the current generation never is.
TEST_F(StreamRolloverTest, ExpiredClosedGenerationsAreRetired) {
  Put("a", 1);
  now_ms_ += kRollover;
  ASSERT_TRUE(db_->RollOverStreams().ok());
  Put("a", 2);
  ASSERT_TRUE(db_->TrimStreams().ok());
  EXPECT_EQ(Stream()->first_shard(), 0u) << "records not expired yet";
  // (The logs stamp records with the real clock, so every record written
  // so far, of both generations, expires now.)
  now_ms_ += kRetention + 1;
  ASSERT_TRUE(db_->TrimStreams().ok());
  EXPECT_EQ(Stream()->first_shard(), 2u);
  // Generation 0's files are gone; generation 1's remain.
  std::vector<std::string> shard_dirs;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(dir_ / "streams")) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("shard-", 0) == 0) {
      shard_dirs.push_back(entry.path().parent_path().filename().string() +
                           "/" + name);
    }
  }
  std::sort(shard_dirs.begin(), shard_dirs.end());
  EXPECT_EQ(shard_dirs, std::vector<std::string>({"gen-000001/shard-0000",
                                                  "gen-000001/shard-0001"}));
  Reopen();
  EXPECT_EQ(Stream()->first_shard(), 2u);
  EXPECT_EQ(Stream()->shard_count(), 4u);
  Put("a", 3);
  const auto versions = VersionsOf("a");
  ASSERT_EQ(versions.size(), 1u);
  EXPECT_GE(versions.begin()->first, 2u);
  EXPECT_EQ(versions.begin()->second, std::vector<int>({3}));
}

// Descriptors open on files under `root`.
size_t OpenFilesUnder(const std::filesystem::path& root) {
  const std::string prefix = root.string() + "/";
  size_t count = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const auto target = std::filesystem::read_symlink(e.path(), ec);
    if (!ec && target.string().starts_with(prefix)) ++count;
  }
  return count;
}

// However many generations a stream retains, its shards hold one
// descriptor each while written to (the newest segment's) and the closed
// ones none of their own: the files of closed segments stay within the
// store's one cache of them (Options::stream_segment_files). Before, each
// of the 14 shards held its LOCK file and its newest segment's.
TEST_F(StreamRolloverTest, OnlyTheShardsBeingWrittenHoldDescriptors) {
  const std::filesystem::path streams = dir_ / "streams";
  for (int generation = 0; generation < 6; ++generation) {
    for (int i = 0; i < 20; ++i) Put("item-" + std::to_string(i), generation);
    now_ms_ += kRollover;
    ASSERT_TRUE(db_->RollOverStreams().ok());
  }
  Put("item-0", 6);
  ASSERT_EQ(Stream()->shard_count(), 14u);
  // (Sealing a shard hands its newest segment's file to the cache: its
  // readers are likely to come next.)
  const size_t writing = Stream()->width();
  EXPECT_GE(OpenFilesUnder(streams), writing);
  EXPECT_LE(OpenFilesUnder(streams), writing + kSegmentFiles);
  // Every shard read, twice: the closed ones' files go through the cache.
  for (int pass = 0; pass < 2; ++pass) {
    auto versions = VersionsOf("item-0");
    std::vector<int> all;
    for (const auto& [shard, v] : versions)
      all.insert(all.end(), v.begin(), v.end());
    EXPECT_EQ(all, std::vector<int>({0, 1, 2, 3, 4, 5, 6}));
    EXPECT_LE(OpenFilesUnder(streams), writing + kSegmentFiles);
  }
  Reopen();
  EXPECT_GE(OpenFilesUnder(streams), writing);
  EXPECT_LE(OpenFilesUnder(streams), writing + kSegmentFiles);
}

// The shard logs take no lock of their own: the data directory's LOCK
// keeps a second store out while the first is open, and not after.
TEST_F(StreamRolloverTest, ASecondStoreOnTheDataDirectoryIsRefused) {
  Database::Options options;
  options.path = dir_.string();
  auto second = Database::Open(options);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kBusy)
      << second.status().ToString();
  EXPECT_NE(second.status().message().find("in use"), std::string::npos);
  table_.reset();
  ASSERT_TRUE(db_->Close().ok());
  auto third = Database::Open(options);
  EXPECT_TRUE(third.ok()) << third.status().ToString();
}

// A stream someone still holds after the store closed has its logs closed
// too: once the data directory's lock is let go another process may open
// them.
TEST_F(StreamRolloverTest, AStreamHeldPastCloseIsClosed) {
  Put("a", 1);
  std::shared_ptr<ChangeStream> held = Stream();
  table_.reset();
  ASSERT_TRUE(db_->Close().ok());
  streams::ShardLog* log = held->shard(0);
  ASSERT_NE(log, nullptr);
  auto read = log->Read(log->first_sequence(), 10, 1 << 20);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), Status::Code::kIOError);
  EXPECT_NE(read.status().message().find("closed"), std::string::npos);
}

}  // namespace
}  // namespace eddy::store
