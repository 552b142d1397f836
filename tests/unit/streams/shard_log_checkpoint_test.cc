// ShardLog checkpoints: after a crash, Open reads only the records appended
// since the last Checkpoint (or Close), not the whole active segment; a
// checkpoint that is damaged, stale or does not match the file is ignored
// (full scan); damage it covers is found when the records are read.
//
// A crash is simulated by copying the log's files while it is open: every
// append has reached the files (one pwrite), nothing more.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "fault_injection_file_system.h"
#include "log_format.h"
#include "shard_log_impl.h"
#include "streams_test_util.h"

namespace eddy::streams {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr size_t kNoLimit = std::numeric_limits<size_t>::max();

class ShardLogCheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TestDir("eddy_shard_log_checkpoint");
    crashed_ = dir_.string() + "-crashed";
    fs::remove_all(crashed_);
    options_.dir = dir_.string();
    options_.logger = QuietLogger();
    options_.file_system = &files_;
    options_.clock_ms = StoppedClockMs;
    auto log = ShardLogImpl::OpenImpl(options_);
    ASSERT_THAT(log, IsOk());
    log_ = std::move(*log);
  }

  void TearDown() override {
    log_.reset();
    crashed_log_.reset();
    fs::remove_all(dir_);
    fs::remove_all(crashed_);
  }

  static std::string Payload(int i) {
    return "record-" + std::to_string(i) + std::string(80, 'p');
  }
  void WriteMany(int from, int to) {
    for (int i = from; i < to; ++i) {
      ASSERT_THAT(log_->Append(Payload(i), 1000 + i), IsOk());
    }
  }

  // Copies the open log's files (not LOCK): what a kill -9 leaves.
  void Crash() {
    fs::create_directories(crashed_);
    for (const auto& e : fs::directory_iterator(dir_)) {
      if (e.path().filename() == format::kLockFileName) continue;
      fs::copy_file(e.path(), crashed_ / e.path().filename());
    }
  }

  // Opens the crash image; returns the bytes Open read.
  uint64_t OpenCrashed() {
    ShardLog::Options options = options_;
    options.dir = crashed_.string();
    const uint64_t before = files_.BytesRead();
    auto log = ShardLogImpl::OpenImpl(options);
    EXPECT_THAT(log, IsOk());
    if (log.ok()) crashed_log_ = std::move(*log);
    return files_.BytesRead() - before;
  }

  fs::path ActiveSegment(const fs::path& dir) const {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().extension() == ".log") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    return files.back();
  }

  // Checks that the crashed log holds Payload(0 .. n-1) numbered 1 .. n.
  void ExpectRecords(int n) {
    ASSERT_NE(crashed_log_, nullptr);
    EXPECT_EQ(crashed_log_->last_sequence(), static_cast<uint64_t>(n));
    auto read = crashed_log_->Read(1, kNoLimit, kNoLimit);
    ASSERT_THAT(read, IsOk());
    ASSERT_EQ(read->records.size(), static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      EXPECT_EQ(read->records[i].sequence, static_cast<uint64_t>(i + 1));
      EXPECT_EQ(read->records[i].payload, Payload(i));
    }
  }

  fs::path dir_;
  fs::path crashed_;
  FaultInjectionFileSystem files_;
  ShardLog::Options options_;
  std::unique_ptr<ShardLogImpl> log_;
  std::unique_ptr<ShardLogImpl> crashed_log_;
};

// The point of checkpoints: with 5,000 records before the checkpoint and
// 100 after, Open after a crash reads about the 100 (plus the <= 64 it
// re-checks at the checkpoint), not the whole segment; without the
// checkpoint it reads everything. Either way every record is there.
TEST_F(ShardLogCheckpointTest, OpenAfterCrashReadsOnlyWhatFollows) {
  WriteMany(0, 5000);
  ASSERT_THAT(log_->Checkpoint(), IsOk());
  WriteMany(5000, 5100);
  Crash();
  const uint64_t segment = fs::file_size(ActiveSegment(crashed_));
  const uint64_t record = RecordBytesAtBaseTime(Payload(0));
  const uint64_t read = OpenCrashed();
  EXPECT_LT(read, (100 + 64 + 8) * record)
      << "of a " << segment << "-byte segment";
  ExpectRecords(5100);

  crashed_log_.reset();
  fs::remove_all(crashed_);
  Crash();
  fs::remove(crashed_ / format::kCheckpointFileName);
  EXPECT_GE(OpenCrashed(), segment - format::kSegmentHeaderSize);
  ExpectRecords(5100);
}

// Close checkpoints too: a clean restart reads next to nothing.
TEST_F(ShardLogCheckpointTest, CloseWritesACheckpoint) {
  WriteMany(0, 3000);
  log_.reset();
  ASSERT_TRUE(fs::exists(dir_ / format::kCheckpointFileName));
  fs::rename(dir_, crashed_);
  const uint64_t record = RecordBytesAtBaseTime(Payload(0));
  EXPECT_LT(OpenCrashed(), (64 + 8) * record);
  ExpectRecords(3000);
}

// A torn record after the checkpoint is cut off as without one.
TEST_F(ShardLogCheckpointTest, TornTailAfterTheCheckpointIsCutOff) {
  WriteMany(0, 500);
  ASSERT_THAT(log_->Checkpoint(), IsOk());
  WriteMany(500, 510);
  Crash();
  const fs::path segment = ActiveSegment(crashed_);
  fs::resize_file(segment, fs::file_size(segment) - 5);
  OpenCrashed();
  ExpectRecords(509);
}

// A damaged checkpoint file is ignored: the whole segment is scanned.
TEST_F(ShardLogCheckpointTest, DamagedCheckpointIsIgnored) {
  WriteMany(0, 500);
  ASSERT_THAT(log_->Checkpoint(), IsOk());
  WriteMany(500, 520);
  Crash();
  const fs::path checkpoint = crashed_ / format::kCheckpointFileName;
  std::string bytes = ReadFileBytes(checkpoint);
  bytes[20] ^= 0x01;
  WriteFileBytes(checkpoint, bytes);
  OpenCrashed();
  ExpectRecords(520);
}

// A checkpoint that does not describe the file — it ends past the file's
// end, or names records the file does not hold there — is not trusted.
TEST_F(ShardLogCheckpointTest, CheckpointThatDoesNotMatchTheFileIsIgnored) {
  WriteMany(0, 500);
  ASSERT_THAT(log_->Checkpoint(), IsOk());
  Crash();
  // The segment lost its last records (a power loss before they were
  // synced, say), below the checkpoint's end.
  const fs::path segment = ActiveSegment(crashed_);
  const uint64_t record = RecordBytesAtBaseTime(Payload(0));
  fs::resize_file(segment, fs::file_size(segment) - 3 * record);
  OpenCrashed();
  ExpectRecords(497);

  // A checkpoint of another segment of the same base: same length, other
  // numbers inside.
  crashed_log_.reset();
  fs::remove_all(crashed_);
  Crash();
  format::Checkpoint lie;
  lie.base = 1;
  lie.end_offset = fs::file_size(ActiveSegment(crashed_));
  lie.last_sequence = 400;  // 500 records in fact.
  for (uint64_t k = 0; k * format::kIndexInterval < 400; ++k) {
    lie.index.push_back(format::kSegmentHeaderSize +
                        k * format::kIndexInterval * record);
  }
  WriteFileBytes(crashed_ / format::kCheckpointFileName,
                 format::EncodeCheckpoint(lie));
  OpenCrashed();
  ExpectRecords(500);
}

// A checkpoint of a segment that is no longer the active one (the log
// rolled after it) is ignored; the new active segment is scanned.
TEST_F(ShardLogCheckpointTest, CheckpointOfAnOlderSegmentIsIgnored) {
  log_.reset();
  options_.segment_bytes = 8192;
  auto log = ShardLogImpl::OpenImpl(options_);
  ASSERT_THAT(log, IsOk());
  log_ = std::move(*log);
  WriteMany(0, 20);
  ASSERT_THAT(log_->Checkpoint(), IsOk());
  WriteMany(20, 300);
  ASSERT_GT(log_->TEST_SegmentCount(), 2u);
  Crash();
  OpenCrashed();
  ExpectRecords(300);
}

// Damage in records the checkpoint covers is not read at Open; it is found
// by the first Read that reaches it, which fails with Corruption naming the
// segment file and the record's offset — never skipped.
TEST_F(ShardLogCheckpointTest, DamageBeforeTheCheckpointIsFoundWhenRead) {
  WriteMany(0, 1000);
  log_.reset();  // Close: checkpoint.
  fs::rename(dir_, crashed_);
  const fs::path segment = ActiveSegment(crashed_);
  const uint64_t record = RecordBytesAtBaseTime(Payload(0));
  const uint64_t offset = format::kSegmentHeaderSize + 2 * record;  // #3
  std::string bytes = ReadFileBytes(segment);
  bytes[offset + record - 1] ^= 0x10;  // Its payload's last byte.
  WriteFileBytes(segment, bytes);
  OpenCrashed();
  ASSERT_NE(crashed_log_, nullptr);
  EXPECT_EQ(crashed_log_->last_sequence(), 1000u);
  auto read = crashed_log_->Read(1, kNoLimit, kNoLimit);
  EXPECT_THAT(read, HasCode(Status::Code::kCorruption));
  EXPECT_THAT(read.status().message(), HasSubstr(segment.string()));
  EXPECT_THAT(read.status().message(),
              HasSubstr("offset " + std::to_string(offset)));
  EXPECT_THAT(crashed_log_->Read(500, kNoLimit, kNoLimit), IsOk());
}

}  // namespace
}  // namespace eddy::streams
