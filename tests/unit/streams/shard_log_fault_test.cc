// ShardLog under file system faults (FaultInjectionFileSystem): a failed or
// short write, fsync, truncate, roll, rename or read fails that call only;
// the log repairs itself once the cause is gone, without a reopen, and
// never loses, repeats or renumbers a record; damage is named (file,
// offset), never skipped.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "eddy/streams/shard_log.h"
#include "eddy/streams/stream_log.h"
#include "fault_injection_file_system.h"
#include "log_format.h"
#include "shard_log_impl.h"
#include "streams_test_util.h"

namespace eddy::streams {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Op = FaultInjectionFileSystem::Op;
using Fault = FaultInjectionFileSystem::Fault;

constexpr size_t kNoLimit = std::numeric_limits<size_t>::max();

class ShardLogFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TestDir("eddy_shard_log_fault");
    options_.dir = dir_.string();
    options_.logger = QuietLogger();
    options_.file_system = &fs_;
    options_.clock_ms = StoppedClockMs;
    Reopen();
  }

  void TearDown() override {
    fs_.Clear();
    log_.reset();
    fs::remove_all(dir_);
  }

  void Reopen() {
    log_.reset();
    auto log = ShardLogImpl::OpenImpl(options_);
    ASSERT_THAT(log, IsOk());
    log_ = std::move(*log);
  }

  // Appends and expects success; returns the number.
  uint64_t Write(const std::string& payload) {
    auto seq = log_->Append(payload, 1000);
    EXPECT_THAT(seq, IsOk());
    return seq.ok() ? *seq : 0;
  }
  Status TryWrite(const std::string& payload) {
    return log_->Append(payload, 1000).status();
  }

  // Every record, checked to be numbered 1, 2, ... without gaps.
  std::vector<std::string> ReadAll() {
    std::vector<std::string> out;
    auto read = log_->Read(log_->first_sequence(), kNoLimit, kNoLimit);
    EXPECT_THAT(read, IsOk());
    if (!read.ok()) return out;
    uint64_t expected = log_->first_sequence();
    for (const LogRecord& r : read->records) {
      EXPECT_EQ(r.sequence, expected++);
      out.push_back(r.payload);
    }
    return out;
  }

  fs::path ActiveSegment() const {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir_)) {
      if (e.path().extension() == ".log") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    return files.back();
  }

  static uint64_t RecordBytes(const std::string& payload) {
    return RecordBytesAtBaseTime(payload);
  }

  fs::path dir_;
  FaultInjectionFileSystem fs_;
  ShardLog::Options options_;
  std::unique_ptr<ShardLogImpl> log_;
};

// A write cut short (the disk filled up after some bytes, at every length
// from one byte to one short of the record) fails that append; the partial
// bytes are cut off the file and the number goes to the next record, so the
// log reads, and reopens, exactly as if the failed append never happened.
TEST_F(ShardLogFaultTest, ShortWriteIsCutOffAndItsNumberReused) {
  Write("first");
  const std::string payload = "a payload of some length";
  const uint64_t full = RecordBytes(payload);
  uint64_t expected = 2;
  for (size_t partial = 1; partial < full; partial += 3) {
    SCOPED_TRACE("partial " + std::to_string(partial));
    const uint64_t size = fs::file_size(ActiveSegment());
    fs_.Inject(Fault::On(Op::kWrite, ENOSPC).Partial(partial));
    Status s = TryWrite(payload);
    EXPECT_THAT(s, HasCode(Status::Code::kIOError));
    EXPECT_THAT(s.message(), HasSubstr(ActiveSegment().string()));
    EXPECT_EQ(fs::file_size(ActiveSegment()), size) << "partial record left";
    EXPECT_THAT(log_->status(), IsOk()) << "nothing to repair";
    EXPECT_EQ(log_->last_sequence(), expected - 1);
    EXPECT_EQ(Write("next " + std::to_string(partial)), expected++);
  }
  const std::vector<std::string> before = ReadAll();
  Reopen();
  EXPECT_EQ(ReadAll(), before);
  EXPECT_EQ(log_->last_sequence(), expected - 1);
}

// A closed segment whose file was given back (closed_segment_files) is
// opened again to be read; when that open fails (out of descriptors, EIO)
// the read fails with IOError, appends go on, and the next read, once the
// open succeeds, returns every record: no reopen of the log.
TEST_F(ShardLogFaultTest, FailedReopenOfAClosedSegmentFailsOnlyThatRead) {
  log_.reset();
  options_.segment_bytes = 512;
  options_.closed_segment_files = 0;
  Reopen();
  for (int i = 0; i < 60; ++i) Write("record " + std::to_string(i));
  ASSERT_GE(log_->TEST_SegmentCount(), 3u);
  ASSERT_EQ(log_->TEST_OpenSegmentFiles(), 1u);  // The active one.
  fs_.Inject(Fault::On(Op::kOpen, EMFILE).Times(2).OnPath(".log"));
  EXPECT_THAT(log_->Read(1, kNoLimit, kNoLimit),
              HasCode(Status::Code::kIOError));
  EXPECT_EQ(Write("during"), 61u);
  EXPECT_THAT(log_->Read(1, kNoLimit, kNoLimit),
              HasCode(Status::Code::kIOError));
  EXPECT_EQ(fs_.Failures(Op::kOpen), 2u);
  const std::vector<std::string> all = ReadAll();
  ASSERT_EQ(all.size(), 61u);
  EXPECT_EQ(all.front(), "record 0");
  EXPECT_EQ(all.back(), "during");
  EXPECT_LE(log_->TEST_OpenSegmentFiles(), 1u);
}

// A full disk fails every append while it lasts (readers see nothing new),
// and the log goes on by itself once space is back: no reopen, no repair.
TEST_F(ShardLogFaultTest, DiskFullFailsAppendsUntilSpaceReturns) {
  Write("a");
  fs_.Inject(Fault::On(Op::kWrite, ENOSPC).Partial(7).Forever());
  for (int i = 0; i < 20; ++i) {
    EXPECT_THAT(TryWrite("lost " + std::to_string(i)),
                HasCode(Status::Code::kIOError));
  }
  EXPECT_EQ(log_->last_sequence(), 1u);
  fs_.Clear();
  EXPECT_EQ(Write("b"), 2u);
  EXPECT_THAT(log_->Sync(2), IsOk());
  EXPECT_THAT(ReadAll(), ::testing::ElementsAre("a", "b"));
}

// When cutting off the partial record fails too, the log cannot append
// after it: status() says so, and the next append repairs it (truncates)
// before writing, so the file holds no torn bytes between records.
TEST_F(ShardLogFaultTest, FailedTruncateIsRepairedByNextAppend) {
  Write("a");
  const uint64_t size = fs::file_size(ActiveSegment());
  fs_.Inject(Fault::On(Op::kWrite, ENOSPC).Partial(5));
  fs_.Inject(Fault::On(Op::kTruncate, EIO));
  EXPECT_THAT(TryWrite("torn"), HasCode(Status::Code::kIOError));
  EXPECT_THAT(log_->status(), HasCode(Status::Code::kIOError));
  EXPECT_EQ(fs::file_size(ActiveSegment()), size + 5) << "torn bytes remain";
  EXPECT_EQ(Write("b"), 2u);
  EXPECT_THAT(log_->status(), IsOk());
  EXPECT_EQ(fs::file_size(ActiveSegment()), size + RecordBytes("b"));
  Reopen();
  EXPECT_THAT(ReadAll(), ::testing::ElementsAre("a", "b"));
}

// After a failed fdatasync the kernel may have dropped the dirty pages, and
// a second fdatasync may lie. So the next Sync reads back every record
// written since the last good fsync, checks it, writes it again, and only
// then syncs; the records keep their numbers and nothing is lost.
TEST_F(ShardLogFaultTest, FailedFsyncIsRepairedByRewritingUnsyncedRecords) {
  Write("synced-1");
  Write("synced-2");
  ASSERT_THAT(log_->Sync(2), IsOk());
  uint64_t unsynced = 0;
  for (const char* p : {"later-3", "later-4", "later-5"}) {
    Write(p);
    unsynced += RecordBytes(p);
  }
  fs_.Inject(Fault::On(Op::kSync, EIO));
  EXPECT_THAT(log_->Sync(5), HasCode(Status::Code::kIOError));
  EXPECT_THAT(log_->status(), HasCode(Status::Code::kIOError));
  const uint64_t written = fs_.BytesWritten();
  const uint64_t syncs = fs_.Calls(Op::kSync);
  EXPECT_THAT(log_->Sync(5), IsOk());
  EXPECT_EQ(fs_.BytesWritten() - written, unsynced) << "exactly 3..5 again";
  EXPECT_EQ(fs_.Calls(Op::kSync) - syncs, 1u);
  EXPECT_THAT(log_->status(), IsOk());
  EXPECT_EQ(Write("after"), 6u);
  Reopen();
  EXPECT_THAT(ReadAll(),
              ::testing::ElementsAre("synced-1", "synced-2", "later-3",
                                     "later-4", "later-5", "after"));
}

// While fsync keeps failing, every append fails (each first tries the
// repair); appends written before the failure stay readable. When the
// cause is gone the next append repairs the log and proceeds.
TEST_F(ShardLogFaultTest, AppendsFailWhileFsyncFailsThenResume) {
  Write("a");
  fs_.Inject(Fault::On(Op::kSync, EIO).Forever());
  EXPECT_THAT(log_->Sync(1), HasCode(Status::Code::kIOError));
  for (int i = 0; i < 5; ++i) {
    EXPECT_THAT(TryWrite("x"), HasCode(Status::Code::kIOError));
  }
  EXPECT_EQ(log_->last_sequence(), 1u);
  EXPECT_THAT(ReadAll(), ::testing::ElementsAre("a"));
  fs_.Clear();
  EXPECT_EQ(Write("b"), 2u);
  EXPECT_THAT(log_->Sync(2), IsOk());
  EXPECT_THAT(ReadAll(), ::testing::ElementsAre("a", "b"));
}

// With sync_on_append a record is visible only once fsync'ed: a failed
// fsync fails the append and keeps the record invisible; the repair run by
// the next append makes it durable, and it becomes visible with its number
// (its append's outcome was unknown, as for any failed commit).
TEST_F(ShardLogFaultTest, SyncedAppendAfterFailedFsync) {
  log_.reset();
  options_.sync_on_append = true;
  Reopen();
  Write("a");
  fs_.Inject(Fault::On(Op::kSync, EIO));
  EXPECT_THAT(TryWrite("b"), HasCode(Status::Code::kIOError));
  EXPECT_EQ(log_->last_sequence(), 1u) << "an unsynced record is invisible";
  EXPECT_EQ(Write("c"), 3u);
  EXPECT_EQ(log_->last_sequence(), 3u);
  EXPECT_THAT(ReadAll(), ::testing::ElementsAre("a", "b", "c"));
}

// The fsync of a full segment before the next one starts fails: the append
// fails, nothing rolls, and the next append repairs, rolls and continues.
TEST_F(ShardLogFaultTest, FailedRollKeepsTheOldSegment) {
  log_.reset();
  options_.segment_bytes = 200;
  Reopen();
  int i = 0;
  while (log_->TEST_SegmentCount() == 1) Write("r" + std::to_string(i++));
  const size_t segments = log_->TEST_SegmentCount();
  // Fill the new segment up to the next roll, then fail that roll's fsync.
  while (fs::file_size(ActiveSegment()) + RecordBytes("r00") <= 200) {
    Write("r" + std::to_string(i++));
  }
  fs_.Inject(Fault::On(Op::kSync, EIO));
  EXPECT_THAT(TryWrite("r" + std::to_string(i)),
              HasCode(Status::Code::kIOError));
  EXPECT_EQ(log_->TEST_SegmentCount(), segments);
  Write("r" + std::to_string(i++));
  EXPECT_EQ(log_->TEST_SegmentCount(), segments + 1);
  const std::vector<std::string> all = ReadAll();
  ASSERT_EQ(all.size(), static_cast<size_t>(i));
  Reopen();
  EXPECT_EQ(ReadAll(), all);
}

// A roll whose new segment cannot be made durable (directory fsync fails)
// and cannot be removed either leaves a stray segment file: the log knows
// it, and the next append removes it before going on, so a reopen does not
// find a segment that overlaps the old one.
TEST_F(ShardLogFaultTest, HalfMadeSegmentIsRemovedByTheRepair) {
  log_.reset();
  options_.segment_bytes = 200;
  Reopen();
  int i = 0;
  while (fs::file_size(ActiveSegment()) + RecordBytes("r00") <= 200) {
    Write("r" + std::to_string(i++));
  }
  fs_.Inject(Fault::On(Op::kSyncDir, EIO));
  fs_.Inject(Fault::On(Op::kRemove, EIO));
  EXPECT_THAT(TryWrite("r" + std::to_string(i)),
              HasCode(Status::Code::kIOError));
  EXPECT_THAT(log_->status(), HasCode(Status::Code::kIOError));
  Write("r" + std::to_string(i++));
  Write("r" + std::to_string(i++));
  const std::vector<std::string> all = ReadAll();
  ASSERT_EQ(all.size(), static_cast<size_t>(i));
  Reopen();
  EXPECT_EQ(ReadAll(), all);
}

// A sealed log whose records all expired closes its last segment: the roll
// that makes the empty one may fail half way on a sealed log too (the new
// file neither synced into the directory nor removable). The repair removes
// the stray file; nothing else needs it, since the sealed log writes no more.
TEST_F(ShardLogFaultTest, HalfMadeSegmentOfASealedLogIsRemovedByTheRepair) {
  log_.reset();
  options_.lock_directory = false;
  Reopen();
  for (int i = 0; i < 10; ++i) {
    ASSERT_THAT(log_->Append("r" + std::to_string(i), 1000 + i), IsOk());
  }
  ASSERT_THAT(log_->Seal(), IsOk());
  fs_.Inject(Fault::On(Op::kSyncDir, EIO));
  fs_.Inject(Fault::On(Op::kRemove, EIO));
  EXPECT_THAT(log_->TrimBefore(5000), HasCode(Status::Code::kIOError));
  EXPECT_THAT(log_->status(), HasCode(Status::Code::kIOError));
  EXPECT_THAT(log_->Repair(), IsOk());
  EXPECT_THAT(log_->status(), IsOk());
  EXPECT_EQ(ReadAll().size(), 10u);
  ASSERT_THAT(log_->TrimBefore(5000), IsOk());
  EXPECT_EQ(log_->first_sequence(), 11u);
  Reopen();
  EXPECT_TRUE(log_->sealed());
  EXPECT_EQ(log_->first_sequence(), 11u);
  EXPECT_TRUE(ReadAll().empty());
}

// Seal writes SEALED.tmp and renames it: a failed rename fails Seal and
// leaves the log open for appends; a second Seal succeeds and persists.
TEST_F(ShardLogFaultTest, FailedSealRenameLeavesTheLogOpen) {
  Write("a");
  fs_.Inject(Fault::On(Op::kRename, EIO));
  EXPECT_THAT(log_->Seal(), HasCode(Status::Code::kIOError));
  EXPECT_FALSE(log_->sealed());
  EXPECT_EQ(Write("b"), 2u);
  EXPECT_THAT(log_->Seal(), IsOk());
  Reopen();
  EXPECT_TRUE(log_->sealed());
  EXPECT_THAT(ReadAll(), ::testing::ElementsAre("a", "b"));
}

// EIO on a read fails that Read with IOError naming the file; nothing is
// skipped, and the next Read returns the records.
TEST_F(ShardLogFaultTest, ReadErrorFailsTheReadAndNamesTheFile) {
  Write("a");
  Write("b");
  fs_.Inject(Fault::On(Op::kRead, EIO));
  auto read = log_->Read(1, kNoLimit, kNoLimit);
  EXPECT_THAT(read, HasCode(Status::Code::kIOError));
  EXPECT_THAT(read.status().message(), HasSubstr(ActiveSegment().string()));
  EXPECT_THAT(ReadAll(), ::testing::ElementsAre("a", "b"));
}

// A damaged record is never skipped: reading it fails with Corruption that
// names the segment file and the record's offset.
TEST_F(ShardLogFaultTest, DamagedRecordIsNamedByFileAndOffset) {
  log_.reset();
  options_.segment_bytes = 200;
  Reopen();
  for (int i = 10; i < 40; ++i) Write("record-" + std::to_string(i));
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir_)) {
    if (e.path().extension() == ".log") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 3u);
  log_.reset();
  // The second record of the second segment: its payload's last byte.
  const uint64_t offset = format::kSegmentHeaderSize + RecordBytes("record-10");
  std::string bytes = ReadFileBytes(files[1]);
  bytes[offset + RecordBytes("record-11") - 1] ^= 0x01;
  WriteFileBytes(files[1], bytes);
  Reopen();
  auto read = log_->Read(1, kNoLimit, kNoLimit);
  EXPECT_THAT(read, HasCode(Status::Code::kCorruption));
  EXPECT_THAT(read.status().message(), HasSubstr(files[1].string()));
  EXPECT_THAT(read.status().message(),
              HasSubstr("offset " + std::to_string(offset)));
}

// The STREAM file is written through the same layer: a failed rename fails
// StreamLog::Open of a new stream; opening again succeeds.
TEST_F(ShardLogFaultTest, FailedStreamFileRenameFailsOpenThenRetries) {
  StreamLog::Options options;
  options.dir = (dir_ / "stream").string();
  options.shard_count = 2;
  options.shard_options.logger = QuietLogger();
  options.shard_options.file_system = &fs_;
  fs_.Inject(Fault::On(Op::kRename, EIO).OnPath("STREAM"));
  EXPECT_THAT(StreamLog::Open(options), HasCode(Status::Code::kIOError));
  auto stream = StreamLog::Open(options);
  ASSERT_THAT(stream, IsOk());
  EXPECT_EQ((*stream)->shard_count(), 2u);
}

// Random faults (short writes, failed fsyncs and truncates) during a long
// run of appends and syncs: every acknowledged append is there with its
// number, no other record is, and numbers run without gaps or repeats —
// also after the faults stop and the log is reopened.
TEST_F(ShardLogFaultTest, RandomFaultsNeverLoseRepeatOrRenumber) {
  log_.reset();
  options_.segment_bytes = 4096;
  Reopen();
  std::mt19937 rng(20261127);
  std::map<uint64_t, std::string> acknowledged;
  int failures = 0;
  for (int i = 0; i < 3000; ++i) {
    const int dice = static_cast<int>(rng() % 100);
    if (dice < 4) {
      fs_.Inject(Fault::On(Op::kWrite, ENOSPC).Partial(rng() % 40));
    } else if (dice < 6) {
      fs_.Inject(Fault::On(Op::kSync, EIO));
    } else if (dice < 7) {
      fs_.Inject(Fault::On(Op::kTruncate, EIO));
    }
    const std::string payload =
        "payload-" + std::to_string(i) + std::string(rng() % 50, 'x');
    auto seq = log_->Append(payload, 1000);
    if (seq.ok()) {
      EXPECT_TRUE(acknowledged.emplace(*seq, payload).second)
          << "number " << *seq << " given twice";
    } else {
      ++failures;
    }
    if (rng() % 10 == 0 && !log_->Sync(log_->last_sequence()).ok()) {
      ++failures;
    }
  }
  EXPECT_GT(failures, 50);
  fs_.Clear();
  ASSERT_THAT(log_->Repair(), IsOk());
  auto check = [&] {
    const std::vector<std::string> all = ReadAll();
    ASSERT_EQ(all.size(), acknowledged.size());
    uint64_t seq = 1;
    for (const auto& [number, payload] : acknowledged) {
      ASSERT_EQ(number, seq) << "gap before " << number;
      EXPECT_EQ(all[seq - 1], payload);
      ++seq;
    }
  };
  check();
  Reopen();
  check();
}

}  // namespace
}  // namespace eddy::streams
