// The background-yielding LevelDB Env (store/src/background_env.h): table
// writes yield every N bytes, log writes never, and data is unchanged.
#include "background_env.h"

#include <gtest/gtest.h>
#include <leveldb/db.h>
#include <leveldb/options.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <shared_mutex>
#include <string>
#include <thread>

#include "store_test_util.h"

namespace eddy::store {
namespace {

constexpr size_t kYieldBytes = 16 * 1024;
constexpr int kKeys = 4000;

std::string Key(int i) { return "key" + std::to_string(i); }
std::string Value(int i) {
  return std::string(500, static_cast<char>('a' + i % 26));
}

class BackgroundEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir("eddy_background_env_");
    env_ =
        NewBackgroundYieldingEnv(leveldb::Env::Default(), kYieldBytes, [this] {
          ++yields_;
          if (std::this_thread::get_id() != test_thread_) {
            ++background_yields_;
          }
        });
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Open(size_t write_buffer_size) {
    leveldb::Options options;
    options.create_if_missing = true;
    options.env = env_.get();
    options.write_buffer_size = write_buffer_size;
    leveldb::DB* db = nullptr;
    ASSERT_TRUE(leveldb::DB::Open(options, dir_.string(), &db).ok());
    db_.reset(db);
  }

  void PutAll() {
    for (int i = 0; i < kKeys; ++i) {
      ASSERT_TRUE(db_->Put({}, Key(i), Value(i)).ok());
    }
  }

  void ExpectAll() {
    for (int i = 0; i < kKeys; ++i) {
      std::string value;
      ASSERT_TRUE(db_->Get({}, Key(i), &value).ok()) << Key(i);
      EXPECT_EQ(value, Value(i));
    }
  }

  std::filesystem::path dir_;
  std::unique_ptr<leveldb::Env> env_;
  std::unique_ptr<leveldb::DB> db_;
  const std::thread::id test_thread_ = std::this_thread::get_id();
  std::atomic<int> yields_{0};
  std::atomic<int> background_yields_{0};
};

TEST_F(BackgroundEnvTest, LogWritesDoNotYield) {
  Open(/*write_buffer_size=*/64 << 20);  // Everything stays in the memtable.
  PutAll();
  ExpectAll();
  EXPECT_EQ(yields_, 0);
}

TEST_F(BackgroundEnvTest, FlushesAndCompactionsYieldPerBytesWritten) {
  Open(/*write_buffer_size=*/256 << 10);  // ~2 MB of values: 8 flushes.
  PutAll();
  db_->CompactRange(nullptr, nullptr);
  ExpectAll();
  // The tables left are at most what was written to tables in all (the
  // values compress, so count table bytes, not value bytes).
  uint64_t table_bytes = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    if (entry.path().extension() == ".ldb") table_bytes += entry.file_size();
  }
  ASSERT_GT(table_bytes, 0u);
  EXPECT_GE(static_cast<uint64_t>(yields_.load()),
            table_bytes / kYieldBytes - 1);
  // The flushes and compactions ran on LevelDB's background thread.
  EXPECT_GT(background_yields_, 0);
  EXPECT_EQ(background_yields_, yields_);
}

// LevelDB starts its background thread from the thread that first gives
// it work, whose name the thread would keep: the gated Env names it.
TEST_F(BackgroundEnvTest, GatedEnvNamesLevelDbsBackgroundThread) {
  std::shared_mutex gate;
  env_ = NewGatedEnv(leveldb::Env::Default(), &gate);
  Open(/*write_buffer_size=*/64 << 10);
  PutAll();  // Several flushes.
  db_->CompactRange(nullptr, nullptr);
  bool found = false;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    found = found || name == kLevelDbThreadName;
  }
  EXPECT_TRUE(found);
}

TEST_F(BackgroundEnvTest, DataSurvivesReopen) {
  Open(/*write_buffer_size=*/256 << 10);
  PutAll();
  db_.reset();
  Open(/*write_buffer_size=*/256 << 10);  // Recovery writes the log's tail.
  ExpectAll();
}

}  // namespace
}  // namespace eddy::store
