// Durable trigger state: definitions and checkpoints survive a reopen,
// half-written triggers are cleaned up, damage is reported.
#include "dispatcher/trigger_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>

namespace eddy::runtime::dispatcher {
namespace {

namespace fs = std::filesystem;

MATCHER(IsOk, "is OK") {
  *result_listener << arg.ToString();
  return arg.ok();
}

class TriggerStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("eddy-trigger-store-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    ASSERT_THAT(Store().Init(), IsOk());
  }
  void TearDown() override { fs::remove_all(dir_); }

  TriggerStore Store(bool sync_checkpoints = true) {
    return TriggerStore(
        dir_.string(), sync_checkpoints,
        std::make_shared<spdlog::logger>(
            "test", std::make_shared<spdlog::sinks::null_sink_mt>()));
  }
  static StoredTrigger Sample(const std::string& name) {
    StoredTrigger t;
    t.config.name = name;
    t.config.table = "orders";
    t.config.handler = "/lib/audit.so";
    t.config.batch_size = 7;
    t.config.report_batch_item_failures = true;
    t.config.on_failure = "file:/tmp/dlq.jsonl";
    t.stream_label = "2026-01-01T00:00:00.000";
    t.shard_count = 2;
    t.created_ms = 1234;
    t.checkpoints = {{0, 1}, {1, 42}};
    return t;
  }
  std::vector<StoredTrigger> Load() {
    Result<std::vector<StoredTrigger>> loaded = Store().LoadAll();
    EXPECT_THAT(loaded.status(), IsOk());
    return loaded.ok() ? *loaded : std::vector<StoredTrigger>{};
  }

  fs::path dir_;
};

// What Save wrote is what LoadAll reads, option by option.
TEST_F(TriggerStoreTest, DefinitionAndCheckpointsRoundTrip) {
  ASSERT_THAT(Store().Save(Sample("a"), true), IsOk());
  std::vector<StoredTrigger> loaded = Load();
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].config.name, "a");
  EXPECT_EQ(loaded[0].config.table, "orders");
  EXPECT_EQ(loaded[0].config.batch_size, 7);
  EXPECT_TRUE(loaded[0].config.report_batch_item_failures);
  EXPECT_EQ(loaded[0].config.on_failure, "file:/tmp/dlq.jsonl");
  EXPECT_EQ(loaded[0].stream_label, "2026-01-01T00:00:00.000");
  EXPECT_EQ(loaded[0].created_ms, 1234);
  EXPECT_EQ(loaded[0].checkpoints, (std::map<uint32_t, uint64_t>{{0, 1}, {1, 42}}));
}

// A tumbling window's state is saved with the checkpoint, bytes intact.
TEST_F(TriggerStoreTest, WindowStateRoundTrips) {
  ASSERT_THAT(Store().Save(Sample("a"), true), IsOk());
  const std::string state("count=3\n\0\xff", 10);
  ASSERT_THAT(
      Store().SaveCheckpoint("a", 1, 7, WindowCheckpoint{60000, 120000, state}),
      IsOk());
  std::vector<StoredTrigger> loaded = Load();
  ASSERT_EQ(loaded[0].windows.size(), 2u);
  EXPECT_FALSE(loaded[0].windows.at(0).has_value());
  ASSERT_TRUE(loaded[0].windows[1].has_value());
  EXPECT_EQ(*loaded[0].windows[1], (WindowCheckpoint{60000, 120000, state}));
  EXPECT_EQ(loaded[0].checkpoints[1], 7u);
  // Closing the window (no state) drops the line again.
  ASSERT_THAT(Store().SaveCheckpoint("a", 1, 8), IsOk());
  EXPECT_FALSE(Load()[0].windows[1].has_value());
}

// A checkpoint write replaces the old value; a reopen sees the newest.
TEST_F(TriggerStoreTest, CheckpointAdvanceSurvivesReopen) {
  ASSERT_THAT(Store().Save(Sample("a"), true), IsOk());
  ASSERT_THAT(Store().SaveCheckpoint("a", 1, 100), IsOk());
  ASSERT_THAT(Store().SaveCheckpoint("a", 1, 101), IsOk());
  EXPECT_EQ(Load()[0].checkpoints, (std::map<uint32_t, uint64_t>{{0, 1}, {1, 101}}));
  EXPECT_FALSE(fs::exists(dir_ / "a" / "shard-1.checkpoint.tmp"));
}

// Without fsync (the server without --sync) a checkpoint is still replaced
// atomically, and the process that reopens the store sees the newest.
TEST_F(TriggerStoreTest, UnsyncedCheckpointIsReplacedAtomically) {
  ASSERT_THAT(Store(false).Save(Sample("a"), true), IsOk());
  ASSERT_THAT(
      Store(false).SaveCheckpoint("a", 0, 50, WindowCheckpoint{0, 60000, "s"}),
      IsOk());
  ASSERT_THAT(Store(false).SaveCheckpoint("a", 1, 77), IsOk());
  const std::vector<StoredTrigger> loaded = Load();
  EXPECT_EQ(loaded[0].checkpoints, (std::map<uint32_t, uint64_t>{{0, 50}, {1, 77}}));
  ASSERT_TRUE(loaded[0].windows.at(0).has_value());
  EXPECT_EQ(loaded[0].windows.at(0)->state, "s");
  EXPECT_FALSE(fs::exists(dir_ / "a" / "shard-0.checkpoint.tmp"));
  EXPECT_FALSE(fs::exists(dir_ / "a" / "shard-1.checkpoint.tmp"));
}

// Saving a definition without checkpoints (an update) keeps them.
TEST_F(TriggerStoreTest, UpdateKeepsCheckpoints) {
  ASSERT_THAT(Store().Save(Sample("a"), true), IsOk());
  ASSERT_THAT(Store().SaveCheckpoint("a", 0, 9), IsOk());
  StoredTrigger changed = Sample("a");
  changed.config.batch_size = 99;
  changed.checkpoints = {};
  ASSERT_THAT(Store().Save(changed, false), IsOk());
  std::vector<StoredTrigger> loaded = Load();
  EXPECT_EQ(loaded[0].config.batch_size, 99);
  EXPECT_EQ(loaded[0].checkpoints, (std::map<uint32_t, uint64_t>{{0, 9}, {1, 42}}));
}

// A crash between the checkpoints and the definition of a new trigger
// leaves a directory without trigger.json: it is not a trigger.
TEST_F(TriggerStoreTest, IncompleteTriggerIsRemoved) {
  fs::create_directories(dir_ / "half");
  std::ofstream(dir_ / "half" / "shard-0.checkpoint") << "5\n";
  EXPECT_TRUE(Load().empty());
  EXPECT_FALSE(fs::exists(dir_ / "half"));
}

TEST_F(TriggerStoreTest, RemoveDeletesEverything) {
  ASSERT_THAT(Store().Save(Sample("a"), true), IsOk());
  ASSERT_THAT(Store().Save(Sample("b"), true), IsOk());
  ASSERT_THAT(Store().Remove("a"), IsOk());
  std::vector<StoredTrigger> loaded = Load();
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].config.name, "b");
}

// A damaged checkpoint is Corruption, never a silent restart from zero.
TEST_F(TriggerStoreTest, DamagedCheckpointIsCorruption) {
  ASSERT_THAT(Store().Save(Sample("a"), true), IsOk());
  std::ofstream(dir_ / "a" / "shard-1.checkpoint", std::ios::trunc) << "4x";
  EXPECT_TRUE(Store().LoadAll().status().IsCorruption());
}

}  // namespace
}  // namespace eddy::runtime::dispatcher
