// The on-disk format, checked byte by byte against streams/FORMAT.md with an
// independent bit-at-a-time CRC-32C, so the spec and the code cannot drift.
#include "log_format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>

#include "eddy/streams/crc32c.h"
#include "eddy/streams/shard_log.h"
#include "streams_test_util.h"

namespace eddy::streams {
namespace {

namespace fs = std::filesystem;

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

// A log written through the public API has exactly the bytes FORMAT.md
// describes: a 32-byte segment header, then records of
// crc | length | sequence | timestamp | payload, little-endian.
TEST_F(LogFormatTest, FileBytesMatchTheSpec) {
  {
    ShardLog::Options options;
    options.dir = dir_.string();
    options.logger = QuietLogger();
    options.first_sequence = 7;
    auto log = ShardLog::Open(options);
    ASSERT_THAT(log, IsOk());
    ASSERT_THAT((*log)->Append("hello", -5), IsOk());
    ASSERT_THAT((*log)->Append("", 1700000000123), IsOk());
  }
  const std::string bytes = ReadFileBytes(dir_ / "00000000000000000007.log");
  ASSERT_EQ(bytes.size(), 32u + (24 + 5) + 24);
  // Segment header.
  EXPECT_EQ(bytes.substr(0, 8), "EDDYSLOG");
  EXPECT_EQ(Le32(bytes, 8), 1u);
  EXPECT_EQ(Le32(bytes, 12), 0u);
  EXPECT_EQ(Le64(bytes, 16), 7u);
  EXPECT_EQ(Le32(bytes, 24), ReferenceCrc32c(bytes.substr(0, 24)));
  EXPECT_EQ(Le32(bytes, 28), 0u);
  // First record.
  size_t at = 32;
  EXPECT_EQ(Le32(bytes, at + 4), 5u);
  EXPECT_EQ(Le64(bytes, at + 8), 7u);
  EXPECT_EQ(static_cast<int64_t>(Le64(bytes, at + 16)), -5);
  EXPECT_EQ(bytes.substr(at + 24, 5), "hello");
  EXPECT_EQ(Le32(bytes, at), ReferenceCrc32c(bytes.substr(at + 4, 20 + 5)));
  // Second record.
  at += 24 + 5;
  EXPECT_EQ(Le32(bytes, at + 4), 0u);
  EXPECT_EQ(Le64(bytes, at + 8), 8u);
  EXPECT_EQ(static_cast<int64_t>(Le64(bytes, at + 16)), 1700000000123);
  EXPECT_EQ(Le32(bytes, at), ReferenceCrc32c(bytes.substr(at + 4, 20)));
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
  EXPECT_EQ(Le64(bytes, 24), 32u + 65 * (24 + 1));
  EXPECT_EQ(Le64(bytes, 32), 7u + 64);
  EXPECT_EQ(static_cast<int64_t>(Le64(bytes, 40)), 100);
  EXPECT_EQ(static_cast<int64_t>(Le64(bytes, 48)), 100);
  EXPECT_EQ(Le64(bytes, 56), 32u);
  EXPECT_EQ(Le64(bytes, 64), 32u + 64 * (24 + 1));
  EXPECT_EQ(Le32(bytes, 72), ReferenceCrc32c(bytes.substr(0, 72)));
}

}  // namespace
}  // namespace eddy::streams
