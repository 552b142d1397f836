#include "crc32.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <string>

namespace eddy::runtime {
namespace {

// The standard CRC-32 check value: if this fails, boto3 would reject every
// response with a CRC32 mismatch.
TEST(Crc32Test, CheckValueMatchesStandard) {
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
}

// An empty body (a HEAD response, a 413 from some proxies) must checksum
// to 0, as zlib and botocore compute it.
TEST(Crc32Test, EmptyInputIsZero) { EXPECT_EQ(Crc32(""), 0u); }

// Known vectors beyond the check value, including a real DynamoDB body.
TEST(Crc32Test, KnownVectors) {
  EXPECT_EQ(Crc32("The quick brown fox jumps over the lazy dog"), 0x414FA339u);
  EXPECT_EQ(Crc32("a"), 0xE8B7BE43u);
  // botocore computes crc32(body) & 0xffffffff over the raw bytes.
  EXPECT_EQ(Crc32("{}"), 0xA3A6BF43u);
}

// Bytes are unsigned and embedded NULs count: bodies are binary-safe.
TEST(Crc32Test, HandlesNulAndHighBytes) {
  std::string data("\x00\xff\x80", 3);
  EXPECT_NE(Crc32(data), Crc32(std::string("\xff\x80", 2)));
  EXPECT_EQ(Crc32(data), 0x81DDA740u);
}

// Checksumming in pieces equals checksumming the whole, so a response can be
// checksummed as it is assembled.
TEST(Crc32Test, ExtendEqualsWhole) {
  std::string whole = "hello, world: a longer body split in pieces";
  uint32_t crc = 0;
  for (size_t i = 0; i < whole.size(); i += 7) {
    crc = Crc32Extend(crc, std::string_view(whole).substr(i, 7));
  }
  EXPECT_EQ(crc, Crc32(whole));
}

// Long inputs take the carry-less multiplication path (x86-64 with
// PCLMULQDQ): every length across its 64-byte minimum and 16-byte steps, at
// every alignment, and a 1 MB body, agree with zlib's table-driven CRC, whole
// and extended from a running checksum.
TEST(Crc32Test, LongInputsMatchZlib) {
  std::mt19937 rng(7);
  std::string data(1 << 20, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  auto zlib = [](uint32_t crc, std::string_view s) {
    return static_cast<uint32_t>(
        crc32_z(crc, reinterpret_cast<const Bytef*>(s.data()), s.size()));
  };
  for (size_t offset = 0; offset < 16; ++offset) {
    for (size_t length = 0; length <= 600; ++length) {
      const std::string_view s = std::string_view(data).substr(offset, length);
      ASSERT_EQ(Crc32(s), zlib(0, s))
          << "offset " << offset << " length " << length;
      ASSERT_EQ(Crc32Extend(0x12345678u, s), zlib(0x12345678u, s))
          << "offset " << offset << " length " << length;
    }
  }
  EXPECT_EQ(Crc32(data), zlib(0, data));
  EXPECT_EQ(Crc32Extend(Crc32(std::string_view(data).substr(0, 1000)),
                        std::string_view(data).substr(1000)),
            Crc32(data));
}

}  // namespace
}  // namespace eddy::runtime
