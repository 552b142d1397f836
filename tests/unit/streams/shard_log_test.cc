// ShardLog: numbering, reads, recovery from torn tails, corruption, segment
// rolling, trimming, sealing, group commit, notification and concurrency.
#include "eddy/streams/shard_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "shard_log_impl.h"
#include "streams_test_util.h"

namespace eddy::streams {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::SizeIs;

constexpr size_t kNoLimit = std::numeric_limits<size_t>::max();

class ShardLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TestDir("eddy_shard_log");
    options_.dir = dir_.string();
    options_.logger = QuietLogger();
    options_.clock_ms = [this] { return now_ms_.load(); };
    Reopen();
  }

  void TearDown() override {
    log_.reset();
    fs::remove_all(dir_);
  }

  // Closes the log (if open) and opens it again with options_.
  void Reopen() {
    log_.reset();
    auto log = ShardLogImpl::OpenImpl(options_);
    ASSERT_THAT(log, IsOk());
    log_ = std::move(*log);
  }
  Status TryReopen() {
    log_.reset();
    auto log = ShardLogImpl::OpenImpl(options_);
    if (!log.ok()) return log.status();
    log_ = std::move(*log);
    return Status::OK();
  }

  ShardLog& log() { return *log_; }

  // Appends and returns the sequence number (0 on failure, which fails the
  // test).
  uint64_t Write(std::string_view payload) {
    auto seq = log_->Append(payload);
    EXPECT_THAT(seq, IsOk());
    return seq.ok() ? *seq : 0;
  }
  uint64_t Write(std::string_view payload, int64_t timestamp_ms) {
    auto seq = log_->Append(payload, timestamp_ms);
    EXPECT_THAT(seq, IsOk());
    return seq.ok() ? *seq : 0;
  }
  // Writes Payload(i) for i in [from, to).
  void WriteMany(int from, int to) {
    for (int i = from; i < to; ++i) Write(Payload(i));
  }

  Result<ReadResult> Read(uint64_t from, size_t max_records = kNoLimit,
                          size_t max_bytes = kNoLimit) {
    return log_->Read(from, max_records, max_bytes);
  }
  // Every retained record, in pages of `page`.
  std::vector<LogRecord> ReadAll(size_t page = 1000) {
    std::vector<LogRecord> all;
    uint64_t next = log_->first_sequence();
    while (true) {
      auto result = Read(next, page);
      EXPECT_THAT(result, IsOk());
      if (!result.ok() || result->records.empty()) return all;
      for (auto& r : result->records) all.push_back(std::move(r));
      next = result->next_sequence;
    }
  }
  static std::vector<std::string> Payloads(const std::vector<LogRecord>& rs) {
    std::vector<std::string> out;
    for (const auto& r : rs) out.push_back(r.payload);
    return out;
  }
  static std::vector<uint64_t> Sequences(const std::vector<LogRecord>& rs) {
    std::vector<uint64_t> out;
    for (const auto& r : rs) out.push_back(r.sequence);
    return out;
  }
  // Payloads of varying length, recognisable by index.
  static std::string Payload(int i) {
    return "record-" + std::to_string(i) + "-" + std::string(i % 23, 'p');
  }

  std::vector<fs::path> SegmentFiles() const {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir_)) {
      if (e.path().extension() == ".log") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    return files;
  }

  fs::path dir_;
  ShardLog::Options options_;
  std::atomic<int64_t> now_ms_{1'000'000};
  std::unique_ptr<ShardLogImpl> log_;
};

// The basic contract: numbers start at 1 and increase by one; Read returns
// payloads (binary ones included) and timestamps exactly.
TEST_F(ShardLogTest, AppendThenReadRoundTrips) {
  EXPECT_EQ(Write("alpha", 10), 1u);
  EXPECT_EQ(Write(std::string("\0bin\xff\0", 6), 20), 2u);
  EXPECT_EQ(Write("", 30), 3u);
  EXPECT_EQ(log().first_sequence(), 1u);
  EXPECT_EQ(log().last_sequence(), 3u);
  EXPECT_EQ(log().first_timestamp_ms(), 10);

  auto result = Read(1);
  ASSERT_THAT(result, IsOk());
  ASSERT_THAT(result->records, SizeIs(3));
  EXPECT_EQ(result->records[0].payload, "alpha");
  EXPECT_EQ(result->records[1].payload, std::string("\0bin\xff\0", 6));
  EXPECT_EQ(result->records[2].payload, "");
  EXPECT_THAT(Sequences(result->records), ElementsAre(1, 2, 3));
  EXPECT_EQ(result->records[1].timestamp_ms, 20);
  EXPECT_EQ(result->next_sequence, 4u);

  auto from_two = Read(2);
  ASSERT_THAT(from_two, IsOk());
  EXPECT_THAT(Sequences(from_two->records), ElementsAre(2, 3));
}

// Append(payload) stamps records with the injected clock.
TEST_F(ShardLogTest, AppendWithoutTimestampUsesClock) {
  now_ms_ = 424242;
  Write("x");
  auto result = Read(1);
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->records.at(0).timestamp_ms, 424242);
}

// An empty log reports "nothing yet" consistently: last = first - 1, and a
// reader at first gets an empty page, not an error.
TEST_F(ShardLogTest, EmptyLogReadsNothing) {
  EXPECT_EQ(log().first_sequence(), 1u);
  EXPECT_EQ(log().last_sequence(), 0u);
  EXPECT_EQ(log().first_timestamp_ms(), 0);
  auto result = Read(1);
  ASSERT_THAT(result, IsOk());
  EXPECT_TRUE(result->records.empty());
  EXPECT_EQ(result->next_sequence, 1u);
}

// A caught-up reader (at last + 1) or one ahead gets an empty page; it is
// not an error, so it can simply wait and retry.
TEST_F(ShardLogTest, ReadPastTheEndIsEmpty) {
  WriteMany(0, 5);
  for (uint64_t from : {6u, 7u, 1000u}) {
    auto result = Read(from);
    ASSERT_THAT(result, IsOk());
    EXPECT_TRUE(result->records.empty()) << from;
    EXPECT_EQ(result->next_sequence, from);
  }
}

// Options::first_sequence sets the first number of a new log only.
TEST_F(ShardLogTest, FirstSequenceOptionAppliesToNewLogs) {
  log_.reset();
  fs::remove_all(dir_);
  options_.first_sequence = 1000;
  Reopen();
  EXPECT_EQ(log().first_sequence(), 1000u);
  EXPECT_EQ(log().last_sequence(), 999u);
  EXPECT_EQ(Write("a"), 1000u);
  options_.first_sequence = 5;
  Reopen();
  EXPECT_EQ(Write("b"), 1001u);
  auto result = Read(999);
  EXPECT_THAT(result, HasCode(Status::Code::kOutOfRange));
}

// Numbers are never reused: a reopened log continues after its last record.
TEST_F(ShardLogTest, NumberingContinuesAcrossReopen) {
  WriteMany(0, 10);
  Reopen();
  EXPECT_EQ(log().last_sequence(), 10u);
  EXPECT_EQ(Write("after"), 11u);
  Reopen();
  EXPECT_EQ(Write("again"), 12u);
  auto all = ReadAll();
  ASSERT_THAT(all, SizeIs(12));
  EXPECT_EQ(all[10].payload, "after");
  EXPECT_EQ(all[0].payload, Payload(0));
}

// A crash can cut the last write anywhere. For every cut inside the last
// record, reopening keeps the intact prefix, truncates the torn bytes and
// gives the next append the torn record's number.
TEST_F(ShardLogTest, TornTailAtEveryOffsetIsTruncated) {
  const std::string last_payload = "the-last-record-payload";
  WriteMany(0, 4);
  log_.reset();
  const fs::path segment = SegmentFiles().at(0);
  const auto prefix_size = fs::file_size(segment);
  Reopen();
  Write(last_payload);
  log_.reset();
  const std::string full = ReadFileBytes(segment);
  ASSERT_GT(full.size(), prefix_size);

  for (auto cut = prefix_size; cut < full.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    WriteFileBytes(segment, full.substr(0, cut));
    Reopen();
    EXPECT_EQ(fs::file_size(segment), prefix_size);
    EXPECT_EQ(log().last_sequence(), 4u);
    EXPECT_EQ(Payloads(ReadAll()),
              (std::vector<std::string>{Payload(0), Payload(1), Payload(2),
                                        Payload(3)}));
    EXPECT_EQ(Write("replacement"), 5u);
    log_.reset();
  }
  // And the untouched file still has all five.
  WriteFileBytes(segment, full);
  Reopen();
  EXPECT_EQ(ReadAll().back().payload, last_payload);
}

// A crash while a new segment was being created leaves a file with a partial
// header and no records; reopening repairs it and numbering continues.
TEST_F(ShardLogTest, TornSegmentHeaderIsRewritten) {
  log_.reset();
  options_.segment_bytes = 128;
  Reopen();
  WriteMany(0, 6);  // Several segments.
  log_.reset();
  const auto files = SegmentFiles();
  ASSERT_GE(files.size(), 2u);
  // Fake a crash right after creating the segment that would follow.
  const uint64_t next = 7;
  const fs::path fresh = dir_ / "00000000000000000007.log";
  for (size_t cut : {0, 5, 31}) {
    WriteFileBytes(fresh, std::string(cut, 'E'));
    Reopen();
    EXPECT_EQ(log().last_sequence(), 6u);
    EXPECT_EQ(Payloads(ReadAll()).size(), 6u);
    log_.reset();
  }
  Reopen();
  EXPECT_EQ(Write("next"), next);
  EXPECT_EQ(ReadAll().back().payload, "next");
}

// Damage followed by intact records cannot be a torn write: Open refuses to
// silently drop acknowledged records behind it.
TEST_F(ShardLogTest, FlippedByteInTheMiddleIsCorruption) {
  WriteMany(0, 10);
  log_.reset();
  const fs::path segment = SegmentFiles().at(0);
  std::string bytes = ReadFileBytes(segment);
  const size_t middle = bytes.size() / 2;
  for (size_t at : {middle, size_t{32 + 1}, size_t{32 + 5}}) {
    SCOPED_TRACE("flip at " + std::to_string(at));
    std::string damaged = bytes;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x40);
    WriteFileBytes(segment, damaged);
    EXPECT_THAT(TryReopen(), HasCode(Status::Code::kCorruption));
    EXPECT_EQ(fs::file_size(segment), bytes.size()) << "nothing truncated";
  }
  WriteFileBytes(segment, bytes);
  Reopen();
  EXPECT_EQ(log().last_sequence(), 10u);
}

// Damage in the very last record looks exactly like a torn write, so it is
// cut off like one (the limit of what a log can tell; logged at warn).
TEST_F(ShardLogTest, DamagedLastRecordIsTreatedAsTornTail) {
  WriteMany(0, 3);
  log_.reset();
  const fs::path segment = SegmentFiles().at(0);
  std::string bytes = ReadFileBytes(segment);
  bytes[bytes.size() - 2] ^= 0x01;
  WriteFileBytes(segment, bytes);
  Reopen();
  EXPECT_EQ(log().last_sequence(), 2u);
}

// A damaged header is Corruption, not a reason to start over.
TEST_F(ShardLogTest, DamagedSegmentHeaderIsCorruption) {
  WriteMany(0, 3);
  log_.reset();
  const fs::path segment = SegmentFiles().at(0);
  std::string bytes = ReadFileBytes(segment);
  bytes[2] = 'X';
  WriteFileBytes(segment, bytes);
  EXPECT_THAT(TryReopen(), HasCode(Status::Code::kCorruption));
}

// Closed segments are checked lazily: Open succeeds, a Read that reaches the
// damage fails with Corruption, reads before it still work.
TEST_F(ShardLogTest, DamageInClosedSegmentFailsRead) {
  log_.reset();
  options_.segment_bytes = 256;
  Reopen();
  WriteMany(0, 40);
  log_.reset();
  const auto files = SegmentFiles();
  ASSERT_GE(files.size(), 3u);
  std::string bytes = ReadFileBytes(files[1]);
  bytes[bytes.size() - 3] ^= 0x10;
  WriteFileBytes(files[1], bytes);
  Reopen();
  EXPECT_THAT(Read(1, kNoLimit), HasCode(Status::Code::kCorruption));
  EXPECT_THAT(Read(1, 2), IsOk());
  EXPECT_THAT(Read(log().last_sequence()), IsOk());
}

// Segments roll at segment_bytes, are named by their first number, and a
// read starting at any number returns the right records across segment
// boundaries, before and after reopen (lazy index of closed segments).
// Segments hold ~90 records, so reads seek through several sparse-index
// entries (one per 64 records).
TEST_F(ShardLogTest, SegmentsRollAndReadsCrossThem) {
  log_.reset();
  options_.segment_bytes = 4096;
  Reopen();
  const int n = 1000;
  WriteMany(0, n);
  const auto files = SegmentFiles();
  ASSERT_GE(files.size(), 8u);
  EXPECT_EQ(files[0].filename(), "00000000000000000001.log");
  for (const auto& f : files) {
    EXPECT_LE(fs::file_size(f), options_.segment_bytes) << f;
  }
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round == 0 ? "live" : "reopened");
    for (uint64_t from = 1; from <= n; ++from) {
      auto result = Read(from, 150);
      ASSERT_THAT(result, IsOk());
      const size_t expect = std::min<size_t>(150, n - from + 1);
      ASSERT_THAT(result->records, SizeIs(expect));
      for (size_t i = 0; i < expect; ++i) {
        ASSERT_EQ(result->records[i].sequence, from + i);
        ASSERT_EQ(result->records[i].payload,
                  Payload(static_cast<int>(from + i - 1)));
      }
    }
    Reopen();
  }
}

// Descriptors of this process open on files in `dir`.
size_t OpenFilesIn(const fs::path& dir) {
  size_t count = 0;
  for (const auto& e : fs::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const fs::path target = fs::read_symlink(e.path(), ec);
    if (!ec && target.parent_path() == dir && target.extension() == ".log") {
      ++count;
    }
  }
  return count;
}

// However many segments the log holds, it keeps the active one's file and
// at most closed_segment_files others open, live and after a reopen; the
// closed ones are opened again to be read.
TEST_F(ShardLogTest, OpenSegmentFilesAreBoundedWhateverTheLogHolds) {
  log_.reset();
  options_.segment_bytes = 4096;
  options_.closed_segment_files = 2;
  Reopen();
  const int n = 1000;
  WriteMany(0, n);
  ASSERT_GE(SegmentFiles().size(), 8u);
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round == 0 ? "live" : "reopened");
    EXPECT_LE(log_->TEST_OpenSegmentFiles(), 3u);
    EXPECT_LE(OpenFilesIn(dir_), 3u);
    // Every record, in pages that start in every segment, twice over.
    for (int pass = 0; pass < 2; ++pass) {
      for (uint64_t from = 1; from <= n; from += 37) {
        auto result = Read(from, 100);
        ASSERT_THAT(result, IsOk());
        ASSERT_FALSE(result->records.empty());
        for (size_t i = 0; i < result->records.size(); ++i) {
          ASSERT_EQ(result->records[i].sequence, from + i);
          ASSERT_EQ(result->records[i].payload,
                    Payload(static_cast<int>(from + i - 1)));
        }
      }
    }
    EXPECT_THAT(Payloads(ReadAll()), SizeIs(n));
    EXPECT_LE(log_->TEST_OpenSegmentFiles(), 3u);
    EXPECT_LE(OpenFilesIn(dir_), 3u);
    Reopen();
  }
}

// Descriptors open on files under `root` (any file: segments and LOCK), or
// on `root` itself (deleted too: "<path> (deleted)").
size_t OpenFilesUnder(const fs::path& root) {
  size_t count = 0;
  for (const auto& e : fs::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const fs::path target = fs::read_symlink(e.path(), ec);
    if (!ec && target.string().starts_with(root.string())) ++count;
  }
  return count;
}

// Logs given one file cache keep, together, at most its capacity of closed
// segments' files open, besides each unsealed log's newest segment; a
// sealed log keeps none of its own. Every record still reads back.
TEST_F(ShardLogTest, LogsSharingAFileCacheAreBoundedTogether) {
  log_.reset();
  auto cache = std::make_shared<SegmentFileCache>(3);
  std::vector<std::unique_ptr<ShardLogImpl>> logs;
  const int kLogs = 8, kRecords = 200;
  for (int i = 0; i < kLogs; ++i) {
    ShardLog::Options options = options_;
    options.dir = (dir_ / ("shard-" + std::to_string(i))).string();
    options.segment_bytes = 1024;
    options.file_cache = cache;
    options.lock_directory = false;
    auto log = ShardLogImpl::OpenImpl(options);
    ASSERT_THAT(log, IsOk());
    logs.push_back(std::move(*log));
    for (int r = 0; r < kRecords; ++r) {
      ASSERT_THAT(logs.back()->Append(Payload(r)), IsOk());
    }
    ASSERT_GE(logs.back()->TEST_SegmentCount(), 4u);
  }
  for (int i = 0; i < kLogs; i += 2) ASSERT_THAT(logs[i]->Seal(), IsOk());
  const size_t unsealed = kLogs / 2;
  EXPECT_LE(OpenFilesUnder(dir_), cache->capacity() + unsealed);
  for (int pass = 0; pass < 2; ++pass) {
    for (auto& log : logs) {
      for (uint64_t from = 1; from <= kRecords; from += 41) {
        auto result = log->Read(from, 30, kNoLimit);
        ASSERT_THAT(result, IsOk());
        ASSERT_THAT(result->records, SizeIs(30));
        EXPECT_EQ(result->records.front().payload,
                  Payload(static_cast<int>(from - 1)));
      }
      EXPECT_LE(OpenFilesUnder(dir_), cache->capacity() + unsealed);
    }
  }
  EXPECT_EQ(cache->size(), cache->capacity());
  // Closed logs give their cached files back.
  logs.clear();
  EXPECT_EQ(cache->size(), 0u);
  EXPECT_EQ(OpenFilesUnder(dir_), 0u);
}

// A sealed log holds no descriptor of its own (without a LOCK file, none at
// all), also reopened and after a trim that empties it; it still reads.
TEST_F(ShardLogTest, SealedLogHoldsNoDescriptorOfItsOwn) {
  log_.reset();
  options_.segment_bytes = 512;
  options_.closed_segment_files = 0;
  options_.lock_directory = false;
  Reopen();
  for (int i = 0; i < 50; ++i) Write(Payload(i), 1000 + i);
  EXPECT_EQ(OpenFilesUnder(dir_), 1u) << "the newest segment, for appends";
  ASSERT_THAT(log().Seal(), IsOk());
  EXPECT_EQ(OpenFilesUnder(dir_), 0u);
  EXPECT_THAT(Payloads(ReadAll()), SizeIs(50));
  EXPECT_EQ(OpenFilesUnder(dir_), 0u);
  Reopen();
  EXPECT_TRUE(log().sealed());
  EXPECT_EQ(OpenFilesUnder(dir_), 0u);
  EXPECT_THAT(Payloads(ReadAll()), SizeIs(50));
  // Every record expired: the trim closes the last segment too.
  ASSERT_THAT(log().TrimBefore(5000), IsOk());
  EXPECT_EQ(log().first_sequence(), 51u);
  EXPECT_THAT(ReadAll(), SizeIs(0));
  EXPECT_EQ(OpenFilesUnder(dir_), 0u);
  EXPECT_THAT(log().Append("late"), HasCode(Status::Code::kInvalidArgument));
  Reopen();
  EXPECT_TRUE(log().sealed());
  EXPECT_EQ(log().first_sequence(), 51u);

  // With its LOCK file, that is all a sealed log holds.
  log_.reset();
  options_.lock_directory = true;
  Reopen();
  EXPECT_EQ(OpenFilesUnder(dir_), 1u);
}

// Without a LOCK file nothing keeps a second opener out: that is for the
// caller to do (the store holds its data directory's lock).
TEST_F(ShardLogTest, WithoutTheLockFileASecondOpenIsNotRefused) {
  log_.reset();
  fs::remove(dir_ / "LOCK");  // SetUp's log took it.
  options_.lock_directory = false;
  Reopen();
  Write("one");
  EXPECT_FALSE(fs::exists(dir_ / "LOCK"));
  auto second = ShardLogImpl::OpenImpl(options_);
  ASSERT_THAT(second, IsOk());
  EXPECT_EQ((*second)->last_sequence(), 1u);
}

// Opens of segment files for reading run `hook` once, before (or after)
// the open of the file it names.
class OpenHookFileSystem : public FileSystemWrapper {
 public:
  OpenHookFileSystem() : FileSystemWrapper(FileSystem::Default()) {}

  void BeforeOpening(std::string path, std::function<void()> hook) {
    path_ = std::move(path);
    hook_ = std::move(hook);
    after_ = false;
  }
  void AfterOpening(std::string path, std::function<void()> hook) {
    BeforeOpening(std::move(path), std::move(hook));
    after_ = true;
  }

  Result<File> Open(const std::string& path, int flags, int mode) override {
    if (!hook_ || path != path_) {
      return FileSystemWrapper::Open(path, flags, mode);
    }
    std::function<void()> hook = std::exchange(hook_, nullptr);
    if (!after_) hook();
    Result<File> file = FileSystemWrapper::Open(path, flags, mode);
    if (after_) hook();
    return file;
  }

 private:
  std::string path_;
  std::function<void()> hook_;
  bool after_ = false;
};

// A trim that removes a closed segment while a read has just opened its
// file: the read answers from its copy, and the file does not stay in the
// cache (it would keep the unlinked segment's space until evicted). The
// same for a log closed meanwhile.
TEST_F(ShardLogTest, FileOpenedAsItsSegmentIsTrimmedIsNotCached) {
  OpenHookFileSystem file_system;
  log_.reset();
  options_.segment_bytes = 512;
  options_.file_system = &file_system;
  Reopen();
  for (int i = 0; i < 100; ++i) Write(Payload(i), 1000 + i);
  Reopen();  // Nothing cached.
  const auto files = SegmentFiles();
  ASSERT_GE(files.size(), 5u);
  const auto second_base =
      static_cast<uint64_t>(std::stoull(files[1].filename().string()));
  file_system.AfterOpening(files[0].string(), [&] {
    ASSERT_THAT(log().TrimBefore(1000 + static_cast<int64_t>(second_base) - 1),
                IsOk());
  });
  auto result = Read(1, second_base - 1);
  ASSERT_THAT(result, IsOk());
  EXPECT_THAT(result->records, SizeIs(second_base - 1));
  EXPECT_EQ(log().first_sequence(), second_base);
  EXPECT_EQ(OpenFilesUnder(files[0]), 0u) << "the trimmed segment's file";

  // (A read that started before the Close answers from what it opened.)
  // (files[1] and files[2] are cached: the trim read their timestamps.)
  const auto fourth_base =
      static_cast<uint64_t>(std::stoull(files[3].filename().string()));
  file_system.AfterOpening(files[3].string(),
                           [&] { ASSERT_THAT(log_->Close(), IsOk()); });
  EXPECT_THAT(Read(fourth_base, 1), IsOk());
  EXPECT_EQ(OpenFilesUnder(dir_), 0u);
  log_.reset();  // Before file_system goes.
}

// A read that took the segments to read before a trim removed them, and
// finds a closed one's file gone, answers with the records it read before
// it, or that they are trimmed; never an I/O error.
TEST_F(ShardLogTest, ReadRacingATrimAnswersWhatItReadOrTrimmed) {
  OpenHookFileSystem file_system;
  log_.reset();
  options_.segment_bytes = 512;
  options_.closed_segment_files = 0;  // Every closed segment is reopened.
  options_.file_system = &file_system;
  Reopen();
  for (int i = 0; i < 100; ++i) Write(Payload(i), 1000 + i);
  const auto files = SegmentFiles();
  ASSERT_GE(files.size(), 4u);
  const auto second_base =
      static_cast<uint64_t>(std::stoull(files[1].filename().string()));
  const auto third_base =
      static_cast<uint64_t>(std::stoull(files[2].filename().string()));

  // The trim comes while the read opens the second segment: the first
  // segment's records are the answer.
  file_system.BeforeOpening(files[1].string(), [&] {
    ASSERT_THAT(log().TrimBefore(1000 + static_cast<int64_t>(third_base) - 1),
                IsOk());
    ASSERT_EQ(log().first_sequence(), third_base);
  });
  auto result = Read(1);
  ASSERT_THAT(result, IsOk());
  ASSERT_THAT(result->records, SizeIs(second_base - 1));
  for (size_t i = 0; i < result->records.size(); ++i) {
    EXPECT_EQ(result->records[i].sequence, i + 1);
    EXPECT_EQ(result->records[i].payload, Payload(static_cast<int>(i)));
  }
  EXPECT_EQ(result->next_sequence, second_base);
  EXPECT_THAT(Read(result->next_sequence), HasCode(Status::Code::kOutOfRange));

  // The trim comes while the read opens its first segment: trimmed.
  const auto now = SegmentFiles();
  ASSERT_GE(now.size(), 3u);
  const auto next_base =
      static_cast<uint64_t>(std::stoull(now[1].filename().string()));
  file_system.BeforeOpening(now[0].string(), [&] {
    ASSERT_THAT(log().TrimBefore(1000 + static_cast<int64_t>(next_base) - 1),
                IsOk());
  });
  EXPECT_THAT(Read(third_base), HasCode(Status::Code::kOutOfRange));
  EXPECT_EQ(log().first_sequence(), next_base);
  EXPECT_THAT(Payloads(ReadAll()), SizeIs(100 - next_base + 1));
  log_.reset();  // Before file_system goes.
}

// A record larger than a segment gets a segment of its own.
TEST_F(ShardLogTest, RecordLargerThanSegmentGetsItsOwn) {
  log_.reset();
  options_.segment_bytes = 256;
  Reopen();
  const std::string big(10000, 'B');
  Write("small");
  Write(big);
  Write("after");
  Reopen();
  EXPECT_THAT(Payloads(ReadAll()), ElementsAre("small", big, "after"));
}

// Payloads over 64 MiB are refused, not written.
TEST_F(ShardLogTest, OversizedPayloadIsRejected) {
  const std::string huge((64u << 20) + 1, 'h');
  EXPECT_THAT(log().Append(huge, 0), HasCode(Status::Code::kInvalidArgument));
  EXPECT_EQ(Write("ok"), 1u);
}

// Read stops at max_records, and before the record that would exceed
// max_bytes (payload bytes), but always returns at least one record so a
// reader can never get stuck behind a large record.
TEST_F(ShardLogTest, ReadLimitsByCountAndBytes) {
  for (int i = 0; i < 10; ++i)
    Write(std::string(100, static_cast<char>('a' + i)));
  auto by_count = Read(1, 3);
  ASSERT_THAT(by_count, IsOk());
  EXPECT_THAT(Sequences(by_count->records), ElementsAre(1, 2, 3));
  EXPECT_EQ(by_count->next_sequence, 4u);

  auto by_bytes = Read(2, kNoLimit, 350);
  ASSERT_THAT(by_bytes, IsOk());
  EXPECT_THAT(Sequences(by_bytes->records), ElementsAre(2, 3, 4));
  auto exact = Read(2, kNoLimit, 300);
  ASSERT_THAT(exact, IsOk());
  EXPECT_THAT(Sequences(exact->records), ElementsAre(2, 3, 4));

  auto tiny = Read(5, kNoLimit, 1);
  ASSERT_THAT(tiny, IsOk());
  EXPECT_THAT(Sequences(tiny->records), ElementsAre(5));

  auto none = Read(5, 0);
  ASSERT_THAT(none, IsOk());
  EXPECT_TRUE(none->records.empty());
  EXPECT_EQ(none->next_sequence, 5u);
}

// Trimming removes whole old segments only; the retained records stay
// contiguous, reads below the new first number are OutOfRange, and the
// numbering and the trim survive reopen.
TEST_F(ShardLogTest, TrimBeforeDropsOldSegments) {
  log_.reset();
  options_.segment_bytes = 512;
  Reopen();
  for (int i = 0; i < 100; ++i) Write(Payload(i), 1000 + i);
  const size_t segments = SegmentFiles().size();
  ASSERT_GE(segments, 4u);

  ASSERT_THAT(log().TrimBefore(1050), IsOk());
  const uint64_t first = log().first_sequence();
  EXPECT_GT(first, 1u);
  EXPECT_LE(first, 51u) << "a segment with a record at >= 1050 was dropped";
  EXPECT_LT(SegmentFiles().size(), segments);
  EXPECT_EQ(fs::path(SegmentFiles().front()).filename().string(),
            std::string(20 - std::to_string(first).size(), '0') +
                std::to_string(first) + ".log");
  EXPECT_EQ(log().first_timestamp_ms(), 1000 + static_cast<int64_t>(first) - 1);
  EXPECT_THAT(Read(first - 1), HasCode(Status::Code::kOutOfRange));
  EXPECT_THAT(Read(1), HasCode(Status::Code::kOutOfRange));
  auto page = Read(first, 1);
  ASSERT_THAT(page, IsOk());
  EXPECT_EQ(page->records.at(0).payload, Payload(static_cast<int>(first - 1)));

  Reopen();
  EXPECT_EQ(log().first_sequence(), first);
  EXPECT_EQ(log().first_timestamp_ms(), 1000 + static_cast<int64_t>(first) - 1);
  EXPECT_EQ(Write("next", 5000), 101u);
  EXPECT_EQ(ReadAll().size(), 101 - first + 1);
}

// Timestamps are the caller's and need not be monotonic: a segment holding
// any record at or after the cut is kept, and so is everything after it.
TEST_F(ShardLogTest, TrimKeepsSegmentsWithNewerRecords) {
  log_.reset();
  options_.segment_bytes = 512;
  Reopen();
  Write("late", 9000);
  for (int i = 1; i < 60; ++i) Write(Payload(i), 100);
  ASSERT_THAT(log().TrimBefore(5000), IsOk());
  EXPECT_EQ(log().first_sequence(), 1u);
}

// When every record is older than the cut, even the active segment goes;
// the empty log keeps its numbering (records are never renumbered).
TEST_F(ShardLogTest, TrimEverythingLeavesEmptyLogThatKeepsNumbering) {
  for (int i = 0; i < 5; ++i) Write(Payload(i), 100);
  ASSERT_THAT(log().TrimBefore(200), IsOk());
  EXPECT_EQ(log().first_sequence(), 6u);
  EXPECT_EQ(log().last_sequence(), 5u);
  EXPECT_EQ(log().first_timestamp_ms(), 0);
  EXPECT_THAT(Read(5), HasCode(Status::Code::kOutOfRange));
  auto empty = Read(6);
  ASSERT_THAT(empty, IsOk());
  EXPECT_TRUE(empty->records.empty());
  Reopen();
  EXPECT_EQ(log().first_sequence(), 6u);
  EXPECT_EQ(Write("next", 300), 6u);
  EXPECT_EQ(log().first_timestamp_ms(), 300);
}

// A sealed (closed) shard refuses appends and stays sealed after reopen,
// while its records stay readable.
TEST_F(ShardLogTest, SealPersists) {
  WriteMany(0, 3);
  now_ms_ = 777;
  ASSERT_THAT(log().Seal(), IsOk());
  EXPECT_TRUE(log().sealed());
  EXPECT_THAT(log().Append("no", 1), HasCode(Status::Code::kInvalidArgument));
  EXPECT_THAT(log().Seal(), IsOk()) << "idempotent";
  now_ms_ = 888;
  Reopen();
  EXPECT_TRUE(log().sealed());
  EXPECT_EQ(log().sealed_timestamp_ms(), 777);
  EXPECT_THAT(log().Append("no", 1), HasCode(Status::Code::kInvalidArgument));
  EXPECT_EQ(Payloads(ReadAll()).size(), 3u);
}

// Group commit, deterministically: while one fsync is in flight, eight
// appenders queue up; when it finishes, exactly one more fsync covers all
// eight.
TEST_F(ShardLogTest, SyncIsGroupCommitted) {
  log_.reset();
  options_.sync_on_append = true;
  Reopen();
  const uint64_t syncs_before = log_->TEST_SyncCount();

  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  bool first_in_sync = false;
  log_->TEST_SetSyncHook([&] {
    std::unique_lock<std::mutex> lock(mu);
    if (first_in_sync) return;  // Only the first fsync is held.
    first_in_sync = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  });
  std::thread leader([&] { Write("leader"); });
  bool leader_in_sync;
  {
    std::unique_lock<std::mutex> lock(mu);
    leader_in_sync = cv.wait_for(lock, std::chrono::seconds(30),
                                 [&] { return first_in_sync; });
    release = !leader_in_sync;
  }
  if (!leader_in_sync) {
    leader.join();
    log_->TEST_SetSyncHook(nullptr);  // It refers to this frame's locals.
    FAIL() << "the synced append never reached fdatasync";
  }
  std::vector<std::thread> followers;
  for (int i = 0; i < 8; ++i) {
    followers.emplace_back([&, i] { Write("follower-" + std::to_string(i)); });
  }
  // Bounded wait for all eight to have written (and so to be waiting).
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (log_->TEST_LastWritten() < 9 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_EQ(log_->TEST_LastWritten(), 9u);
  EXPECT_EQ(log().last_sequence(), 0u) << "nothing visible before its fsync";
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  leader.join();
  for (auto& t : followers) t.join();
  EXPECT_EQ(log_->TEST_SyncCount() - syncs_before, 2u);
  EXPECT_EQ(log().last_sequence(), 9u);
  log_->TEST_SetSyncHook(nullptr);
}

// Many threads appending with sync: every number handed out exactly once,
// no gaps, every record readable, and fewer fsyncs than appends is allowed
// (not required: a fast disk may not batch).
TEST_F(ShardLogTest, ConcurrentSyncedAppendsGetDistinctNumbers) {
  log_.reset();
  options_.sync_on_append = true;
  options_.segment_bytes = 4096;
  Reopen();
  const int threads = 16;
  const int per_thread = 40;
  std::vector<std::vector<uint64_t>> got(threads);
  std::vector<std::thread> workers;
  const uint64_t syncs_before = log_->TEST_SyncCount();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) got[t].push_back(Write("x"));
    });
  }
  for (auto& w : workers) w.join();
  std::set<uint64_t> all;
  for (const auto& g : got) {
    EXPECT_TRUE(std::is_sorted(g.begin(), g.end()));
    all.insert(g.begin(), g.end());
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(threads * per_thread));
  EXPECT_EQ(*all.begin(), 1u);
  EXPECT_EQ(*all.rbegin(), static_cast<uint64_t>(threads * per_thread));
  EXPECT_EQ(log().last_sequence(), static_cast<uint64_t>(threads * per_thread));
  std::printf(
      "[ info     ] %d synced appends took %llu fsyncs\n", threads * per_thread,
      static_cast<unsigned long long>(log_->TEST_SyncCount() - syncs_before));
  EXPECT_EQ(ReadAll().size(), static_cast<size_t>(threads * per_thread));
}

// Sync covers everything appended before it, also without sync_on_append.
TEST_F(ShardLogTest, ExplicitSyncCoversEarlierAppends) {
  WriteMany(0, 5);
  const uint64_t before = log_->TEST_SyncCount();
  EXPECT_THAT(log().Sync(3), IsOk());
  EXPECT_THAT(log().Sync(5), IsOk());
  EXPECT_THAT(log().Sync(100), IsOk()) << "beyond the end: everything";
  EXPECT_EQ(log_->TEST_SyncCount() - before, 1u) << "Sync(3) covered all 5";
}

// A waiting reader is woken by an append (long timeout, returns at once)
// and otherwise returns after its timeout.
TEST_F(ShardLogTest, WaitForRecordsAfterWakesOnAppend) {
  std::atomic<uint64_t> seen{0};
  const auto start = std::chrono::steady_clock::now();
  std::thread waiter(
      [&] { seen = log().WaitForRecordsAfter(0, std::chrono::seconds(60)); });
  Write("wake up");
  waiter.join();
  EXPECT_EQ(seen.load(), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  // Already past: returns at once.
  EXPECT_EQ(log().WaitForRecordsAfter(0, std::chrono::seconds(60)), 1u);
}

TEST_F(ShardLogTest, WaitForRecordsAfterTimesOut) {
  Write("one");
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(log().WaitForRecordsAfter(1, std::chrono::milliseconds(20)), 1u);
  EXPECT_GE(std::chrono::steady_clock::now() - start,
            std::chrono::milliseconds(20));
}

// Sealing and closing end every wait: no record will ever come.
TEST_F(ShardLogTest, WaitForRecordsAfterWakesOnSealAndClose) {
  for (bool seal : {true, false}) {
    SCOPED_TRACE(seal ? "seal" : "close");
    log_.reset();
    fs::remove_all(dir_);
    Reopen();
    std::thread waiter([&] {
      EXPECT_EQ(log().WaitForRecordsAfter(0, std::chrono::seconds(60)), 0u);
    });
    // Either order is fine: a sealed/closed log does not wait at all.
    EXPECT_THAT(seal ? log().Seal() : log().Close(), IsOk());
    waiter.join();
  }
}

// Subscribers see every append, in order, exactly once, also from several
// appending threads; a throwing subscriber does not disturb appends or the
// others; after Unsubscribe nothing more arrives.
TEST_F(ShardLogTest, SubscribersSeeEveryAppend) {
  std::vector<uint64_t> seen;  // Callbacks never run concurrently.
  const SubscriptionId id =
      log().Subscribe([&](uint64_t last) { seen.push_back(last); });
  const SubscriptionId thrower = log().Subscribe(
      [](uint64_t) { throw std::runtime_error("subscriber bug"); });
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&] {
      for (int i = 0; i < 250; ++i) Write("x");
    });
  }
  for (auto& w : writers) w.join();
  ASSERT_THAT(seen, SizeIs(1000));
  for (size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], i + 1);
  log().Unsubscribe(id);
  log().Unsubscribe(thrower);
  Write("unseen");
  EXPECT_THAT(seen, SizeIs(1000));
}

// With sync_on_append callbacks come per group commit: values strictly
// increase and end at the last record; Seal calls them once more.
TEST_F(ShardLogTest, SubscribersInSyncModeSeeGroupCommits) {
  log_.reset();
  options_.sync_on_append = true;
  Reopen();
  std::vector<uint64_t> seen;
  log().Subscribe([&](uint64_t last) { seen.push_back(last); });
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&] {
      for (int i = 0; i < 20; ++i) Write("x");
    });
  }
  for (auto& w : writers) w.join();
  ASSERT_FALSE(seen.empty());
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end());
  EXPECT_EQ(seen.back(), 80u);
  ASSERT_THAT(log().Seal(), IsOk());
  EXPECT_EQ(seen.back(), 80u);
}

// Readers racing appenders (and segment rolls) see records in order with no
// gaps, and every thread's records in the order it appended them.
// Writers append concurrently while two readers follow the log; every
// record is read once, in order, with its writer's records in theirs.
void RunAppendersAndReaders(ShardLog& log, int per_writer) {
  const int writers = 4;
  const uint64_t total = writers * per_writer;
  std::vector<std::thread> threads;
  for (int t = 0; t < writers; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < per_writer; ++i) {
        EXPECT_THAT(log.Append(std::to_string(t) + ":" + std::to_string(i)),
                    IsOk());
      }
    });
  }
  std::atomic<int> failures{0};
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      std::vector<int> next_index(writers, 0);
      uint64_t next = 1;
      while (next <= total) {
        auto page = log.Read(next, r == 0 ? 100 : 1000, kNoLimit);
        if (!page.ok()) {
          ++failures;
          return;
        }
        if (page->records.empty()) {
          log.WaitForRecordsAfter(next - 1, std::chrono::seconds(10));
          continue;
        }
        for (const auto& rec : page->records) {
          const auto colon = rec.payload.find(':');
          const int t = std::stoi(rec.payload.substr(0, colon));
          const int i = std::stoi(rec.payload.substr(colon + 1));
          if (rec.sequence != next || i != next_index[t]) {
            ++failures;
            return;
          }
          ++next_index[t];
          ++next;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(log.last_sequence(), total);
}

TEST_F(ShardLogTest, ConcurrentAppendersAndReaders) {
  log_.reset();
  options_.segment_bytes = 16 * 1024;
  Reopen();
  RunAppendersAndReaders(log(), 5000);
}

// The same while every roll closes the file of the segment before (no
// closed segment keeps its file) and group commits fdatasync it: readers
// open files again, and no fdatasync meets a closed descriptor.
TEST_F(ShardLogTest, ConcurrentAppendsSyncsAndReadsWhileFilesCloseAndReopen) {
  log_.reset();
  options_.segment_bytes = 4096;
  options_.closed_segment_files = 0;
  options_.sync_on_append = true;
  Reopen();
  RunAppendersAndReaders(log(), 500);
}

// Two writers in one directory would corrupt it: the second Open is Busy.
TEST_F(ShardLogTest, SecondOpenOfSameDirectoryIsBusy) {
  auto second = ShardLog::Open(options_);
  EXPECT_THAT(second, HasCode(Status::Code::kBusy));
  EXPECT_THAT(ShardLog::DestroyLog(options_.dir), HasCode(Status::Code::kBusy));
}

// Destroy removes the log; the directory can then hold a brand new log.
TEST_F(ShardLogTest, DestroyRemovesTheLog) {
  WriteMany(0, 3);
  ASSERT_THAT(log().Seal(), IsOk());
  ASSERT_THAT(log().Destroy(), IsOk());
  EXPECT_FALSE(fs::exists(dir_));
  EXPECT_THAT(log().Append("x", 1), HasCode(Status::Code::kIOError));
  Reopen();
  EXPECT_FALSE(log().sealed());
  EXPECT_EQ(Write("fresh"), 1u);
  log_.reset();
  EXPECT_THAT(ShardLog::DestroyLog(options_.dir), IsOk());
  EXPECT_THAT(ShardLog::DestroyLog(options_.dir), IsOk()) << "already gone";
}

// Calls after Close fail cleanly instead of touching closed files.
TEST_F(ShardLogTest, CallsAfterCloseFail) {
  Write("a");
  ASSERT_THAT(log().Close(), IsOk());
  EXPECT_THAT(log().Close(), IsOk());
  EXPECT_THAT(log().Append("b", 1), HasCode(Status::Code::kIOError));
  EXPECT_THAT(Read(1), HasCode(Status::Code::kIOError));
  EXPECT_THAT(log().Sync(1), IsOk()) << "already durable";
  EXPECT_EQ(log().last_sequence(), 1u);
}

}  // namespace
}  // namespace eddy::streams
