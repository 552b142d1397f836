#include "log_format.h"

#include <charconv>

#include "crc32c.h"

namespace eddy::streams::format {

std::string SegmentFileName(uint64_t base_sequence) {
  std::string digits = std::to_string(base_sequence);
  std::string name(kSegmentNameDigits - digits.size(), '0');
  name += digits;
  name += kSegmentSuffix;
  return name;
}

std::optional<uint64_t> ParseSegmentFileName(std::string_view name) {
  const std::string_view suffix = kSegmentSuffix;
  if (name.size() != kSegmentNameDigits + suffix.size()) return std::nullopt;
  if (name.substr(kSegmentNameDigits) != suffix) return std::nullopt;
  const std::string_view digits = name.substr(0, kSegmentNameDigits);
  uint64_t value = 0;
  auto [end, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size()) {
    return std::nullopt;
  }
  return value;
}

void EncodeSegmentHeader(uint64_t base_sequence, char* dst) {
  std::memset(dst, 0, kSegmentHeaderSize);
  std::memcpy(dst, kMagic, sizeof(kMagic));
  EncodeFixed32(dst + 8, kVersion);
  EncodeFixed64(dst + 16, base_sequence);
  EncodeFixed32(dst + 24, crc32c::Value(dst, 24));
}

std::optional<uint64_t> DecodeSegmentHeader(const char* src) {
  if (std::memcmp(src, kMagic, sizeof(kMagic)) != 0) return std::nullopt;
  if (DecodeFixed32(src + 8) != kVersion) return std::nullopt;
  if (DecodeFixed32(src + 24) != crc32c::Value(src, 24)) return std::nullopt;
  return DecodeFixed64(src + 16);
}

void FinishRecord(char* record, uint32_t payload_size, uint64_t sequence,
                  int64_t timestamp_ms) {
  EncodeFixed32(record + kLengthOffset, payload_size);
  EncodeFixed64(record + kSequenceOffset, sequence);
  EncodeFixed64(record + kTimestampOffset, static_cast<uint64_t>(timestamp_ms));
  EncodeFixed32(
      record + kCrcOffset,
      crc32c::Value(record + kLengthOffset,
                    kRecordHeaderSize - kLengthOffset + payload_size));
}

}  // namespace eddy::streams::format
