// The on-disk format, checked byte by byte against streams/FORMAT.md with an
// independent bit-at-a-time CRC-32C, so the spec and the code cannot drift.
#include "log_format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "eddy/streams/crc32c.h"
#include "eddy/streams/shard_log.h"
#include "streams_test_util.h"

namespace eddy::streams {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// The textbook definition: reflected polynomial 0x82F63B78, initial value
// and final xor 0xFFFFFFFF.
uint32_t ReferenceCrc32c(std::string_view data) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char c : data) {
    crc ^= c;
    for (int i = 0; i < 8; ++i)
      crc = (crc >> 1) ^ ((crc & 1u) ? 0x82F63B78u : 0u);
  }
  return ~crc;
}

uint32_t Le32(const std::string& s, size_t at) {
  return format::DecodeFixed32(s.data() + at);
}
uint64_t Le64(const std::string& s, size_t at) {
  return format::DecodeFixed64(s.data() + at);
}

class LogFormatTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = TestDir("eddy_log_format"); }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

// The standard check value, and agreement with the reference at every
// length and alignment (the hardware path handles 8-byte words and a tail).
TEST_F(LogFormatTest, Crc32cMatchesReference) {
  EXPECT_EQ(crc32c::Value("123456789", 9), 0xE3069283u);
  EXPECT_EQ(crc32c::Value("", 0), 0u);
  std::mt19937 rng(7);
  std::string data(300, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  for (size_t start = 0; start < 9; ++start) {
    for (size_t n = 0; start + n <= data.size(); n += 7) {
      const std::string_view piece(data.data() + start, n);
      ASSERT_EQ(crc32c::Value(piece.data(), n), ReferenceCrc32c(piece))
          << start << "+" << n;
    }
  }
  EXPECT_EQ(crc32c::Extend(crc32c::Value("1234", 4), "56789", 5), 0xE3069283u);
}

TEST_F(LogFormatTest, SegmentNames) {
  EXPECT_EQ(format::SegmentFileName(1), "00000000000000000001.log");
  EXPECT_EQ(format::SegmentFileName(18446744073709551615ull),
            "18446744073709551615.log");
  EXPECT_EQ(format::ParseSegmentFileName("00000000000000000042.log"), 42u);
  EXPECT_EQ(format::ParseSegmentFileName("0000000000000000042.log"),
            std::nullopt);
  EXPECT_EQ(format::ParseSegmentFileName("0000000000000000004x.log"),
            std::nullopt);
  EXPECT_EQ(format::ParseSegmentFileName("LOCK"), std::nullopt);
}

uint16_t Le16(const std::string& s, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(s[at]) |
                               (static_cast<uint8_t>(s[at + 1]) << 8));
}

std::string Le64Bytes(uint64_t v) {
  std::string out(8, '\0');
  format::EncodeFixed64(out.data(), v);
  return out;
}

// A log written through the public API has exactly the bytes FORMAT.md
// describes: a 32-byte version 2 segment header, then records of
// crc | sequence's low 16 bits | length varint | zigzag timestamp delta
// varint | payload, the checksum covering the (unstored) sequence first.
TEST_F(LogFormatTest, FileBytesMatchTheSpec) {
  constexpr int64_t kBase = 1700000000000;
  {
    ShardLog::Options options;
    options.dir = dir_.string();
    options.logger = QuietLogger();
    options.first_sequence = 7;
    options.clock_ms = [] { return kBase; };
    auto log = ShardLog::Open(options);
    ASSERT_THAT(log, IsOk());
    ASSERT_THAT((*log)->Append("hello", kBase + 123), IsOk());
    ASSERT_THAT((*log)->Append("", kBase - 5), IsOk());
  }
  const std::string bytes = ReadFileBytes(dir_ / "00000000000000000007.log");
  ASSERT_EQ(bytes.size(), 32u + (4 + 2 + 1 + 2 + 5) + (4 + 2 + 1 + 1));
  // Segment header.
  EXPECT_EQ(bytes.substr(0, 8), "EDDYSLOG");
  EXPECT_EQ(Le32(bytes, 8), 2u);
  EXPECT_EQ(Le32(bytes, 12),
            ReferenceCrc32c(bytes.substr(0, 12) + bytes.substr(16, 16)));
  EXPECT_EQ(Le64(bytes, 16), 7u);
  EXPECT_EQ(static_cast<int64_t>(Le64(bytes, 24)), kBase);
  // First record: delta +123, zigzag 246 = varint F6 01.
  size_t at = 32;
  EXPECT_EQ(Le16(bytes, at + 4), 7u);
  EXPECT_EQ(bytes.substr(at + 6, 3), std::string("\x05\xF6\x01", 3));
  EXPECT_EQ(bytes.substr(at + 9, 5), "hello");
  EXPECT_EQ(Le32(bytes, at),
            ReferenceCrc32c(Le64Bytes(7) + bytes.substr(at + 4, 10)));
  // Second record: delta -5, zigzag 9.
  at += 14;
  EXPECT_EQ(Le16(bytes, at + 4), 8u);
  EXPECT_EQ(bytes.substr(at + 6, 2), std::string("\x00\x09", 2));
  EXPECT_EQ(Le32(bytes, at),
            ReferenceCrc32c(Le64Bytes(8) + bytes.substr(at + 4, 4)));
}

// Timestamps of any sign and size survive the delta encoding, up to the
// 10-byte varints of the extremes, before and after a reopen.
TEST_F(LogFormatTest, AnyTimestampRoundTrips) {
  const std::vector<int64_t> stamps = {0,
                                       -1,
                                       1,
                                       1000,
                                       999,
                                       std::numeric_limits<int64_t>::min(),
                                       std::numeric_limits<int64_t>::max(),
                                       -1700000000000,
                                       1700000000001};
  ShardLog::Options options;
  options.dir = dir_.string();
  options.logger = QuietLogger();
  options.clock_ms = [] { return int64_t{1000}; };
  for (int pass = 0; pass < 2; ++pass) {
    auto log = ShardLog::Open(options);
    ASSERT_THAT(log, IsOk());
    if (pass == 0) {
      for (int64_t t : stamps) ASSERT_THAT((*log)->Append("t", t), IsOk());
    }
    auto read = (*log)->Read(1, 100, 1 << 20);
    ASSERT_THAT(read, IsOk());
    ASSERT_EQ(read->records.size(), stamps.size());
    for (size_t i = 0; i < stamps.size(); ++i) {
      EXPECT_EQ(read->records[i].timestamp_ms, stamps[i]) << pass << " " << i;
    }
  }
}

// Segments of version 1 (fixed 24-byte record headers, as Eddy wrote them
// before version 2) are still read, and an active one is appended to in its
// own format; the segment after it is version 2, and the log reads across.
TEST_F(LogFormatTest, Version1SegmentsAreReadAndAppendedTo) {
  fs::create_directories(dir_);
  const format::SegmentHeader v1{format::kVersion1, 1, 0};
  std::string file(format::kSegmentHeaderSize, '\0');
  format::EncodeSegmentHeader(v1, file.data());
  EXPECT_EQ(Le32(file, 24), ReferenceCrc32c(file.substr(0, 24)));
  for (uint64_t seq = 1; seq <= 2; ++seq) {
    const std::string payload = "old-" + std::to_string(seq);
    std::string record(format::kRecordHeaderSizeV1, '\0');
    record += payload;
    format::FinishRecord(v1, record.data(), format::kRecordHeaderSizeV1,
                         static_cast<uint32_t>(payload.size()), seq,
                         static_cast<int64_t>(500 + seq));
    file += record;
  }
  WriteFileBytes(dir_ / "00000000000000000001.log", file);

  ShardLog::Options options;
  options.dir = dir_.string();
  options.logger = QuietLogger();
  options.segment_bytes = 128;
  options.clock_ms = [] { return int64_t{1000}; };
  {
    auto log = ShardLog::Open(options);
    ASSERT_THAT(log, IsOk());
    ASSERT_THAT((*log)->Append("new-3", 503), IsOk());
  }
  // The third record went into the version 1 segment, in its format.
  std::string bytes = ReadFileBytes(dir_ / "00000000000000000001.log");
  ASSERT_EQ(bytes.size(), file.size() + format::kRecordHeaderSizeV1 + 5);
  EXPECT_EQ(Le64(bytes, file.size() + 8), 3u);
  EXPECT_EQ(static_cast<int64_t>(Le64(bytes, file.size() + 16)), 503);
  {
    auto log = ShardLog::Open(options);
    ASSERT_THAT(log, IsOk());
    // Past 128 bytes: the log rolls to a version 2 segment.
    ASSERT_THAT((*log)->Append("new-4", 504), IsOk());
    auto read = (*log)->Read(1, 100, 1 << 20);
    ASSERT_THAT(read, IsOk());
    ASSERT_EQ(read->records.size(), 4u);
    const char* want[] = {"old-1", "old-2", "new-3", "new-4"};
    for (size_t i = 0; i < 4; ++i) {
      EXPECT_EQ(read->records[i].sequence, i + 1);
      EXPECT_EQ(read->records[i].payload, want[i]);
      EXPECT_EQ(read->records[i].timestamp_ms, static_cast<int64_t>(501 + i));
    }
  }
  bytes = ReadFileBytes(dir_ / "00000000000000000004.log");
  EXPECT_EQ(Le32(bytes, 8), 2u);
  EXPECT_EQ(static_cast<int64_t>(Le64(bytes, 24)), 504)
      << "a rolled segment's base time is its first record's";
  EXPECT_EQ(bytes.size(), 32u + 4 + 2 + 1 + 1 + 5);
}

// Version 2 stores only a sequence's low bits, the checksum checks the
// rest: an intact record numbered otherwise is still told from damage, and
// fails the open as Corruption naming the numbers instead of being cut off
// as a torn tail.
TEST_F(LogFormatTest, MisnumberedRecordIsCorruptionNotATornTail) {
  ShardLog::Options options;
  options.dir = dir_.string();
  options.logger = QuietLogger();
  options.clock_ms = [] { return int64_t{1000}; };
  {
    auto log = ShardLog::Open(options);
    ASSERT_THAT(log, IsOk());
    for (int i = 0; i < 3; ++i)
      ASSERT_THAT((*log)->Append("abc", 1000), IsOk());
  }
  fs::remove(dir_ / format::kCheckpointFileName);
  const fs::path path = dir_ / "00000000000000000001.log";
  std::string bytes = ReadFileBytes(path);
  const format::SegmentHeader header{format::kVersion2, 1, 1000};
  const size_t size = format::RecordHeaderSize(header, 3, 1000) + 3;
  ASSERT_EQ(bytes.size(), 32 + 3 * size);
  // The last record renumbered 9 (its checksum made to match).
  format::FinishRecord(header, bytes.data() + 32 + 2 * size, size - 3, 3, 9,
                       1000);
  WriteFileBytes(path, bytes);
  auto log = ShardLog::Open(options);
  EXPECT_THAT(log, HasCode(Status::Code::kCorruption));
  EXPECT_THAT(log.status().message(), HasSubstr("has sequence 9, expected 3"));
}

// The CHECKPOINT file Close leaves, byte by byte as FORMAT.md describes it:
// magic, version, index count, base, end offset, last sequence, first and
// largest timestamp, the index, CRC-32C of everything before.
TEST_F(LogFormatTest, CheckpointBytesMatchTheSpec) {
  {
    ShardLog::Options options;
    options.dir = dir_.string();
    options.logger = QuietLogger();
    options.first_sequence = 7;
    options.clock_ms = [] { return int64_t{100}; };
    auto log = ShardLog::Open(options);
    ASSERT_THAT(log, IsOk());
    for (int i = 0; i < 65; ++i) {
      ASSERT_THAT((*log)->Append("x", 100 - i % 3), IsOk());
    }
  }
  const std::string bytes = ReadFileBytes(dir_ / "CHECKPOINT");
  ASSERT_EQ(bytes.size(), 56u + 2 * 8 + 4);
  EXPECT_EQ(bytes.substr(0, 8), "EDDYSCKP");
  EXPECT_EQ(Le32(bytes, 8), 1u);
  EXPECT_EQ(Le32(bytes, 12), 2u) << "records 7 and 7 + 64";
  EXPECT_EQ(Le64(bytes, 16), 7u);
  // Records of 9 bytes: an 8-byte header (deltas 0, -1, -2: one byte
  // each), a 1-byte payload.
  EXPECT_EQ(Le64(bytes, 24), 32u + 65 * 9);
  EXPECT_EQ(Le64(bytes, 32), 7u + 64);
  EXPECT_EQ(static_cast<int64_t>(Le64(bytes, 40)), 100);
  EXPECT_EQ(static_cast<int64_t>(Le64(bytes, 48)), 100);
  EXPECT_EQ(Le64(bytes, 56), 32u);
  EXPECT_EQ(Le64(bytes, 64), 32u + 64 * 9);
  EXPECT_EQ(Le32(bytes, 72), ReferenceCrc32c(bytes.substr(0, 72)));
}

}  // namespace
}  // namespace eddy::streams
