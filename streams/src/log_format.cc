#include "log_format.h"

#include <charconv>
#include <cstring>

#include "eddy/streams/crc32c.h"

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

std::string EncodeCheckpoint(const Checkpoint& c) {
  std::string out(kCheckpointFixedSize + 8 * c.index.size() + 4, '\0');
  char* p = out.data();
  std::memcpy(p, kCheckpointMagic, sizeof(kCheckpointMagic));
  EncodeFixed32(p + 8, kVersion);
  EncodeFixed32(p + 12, static_cast<uint32_t>(c.index.size()));
  EncodeFixed64(p + 16, c.base);
  EncodeFixed64(p + 24, c.end_offset);
  EncodeFixed64(p + 32, c.last_sequence);
  EncodeFixed64(p + 40, static_cast<uint64_t>(c.first_timestamp_ms));
  EncodeFixed64(p + 48, static_cast<uint64_t>(c.max_timestamp_ms));
  for (size_t i = 0; i < c.index.size(); ++i) {
    EncodeFixed64(p + kCheckpointFixedSize + 8 * i, c.index[i]);
  }
  const size_t body = out.size() - 4;
  EncodeFixed32(p + body, crc32c::Value(p, body));
  return out;
}

std::optional<Checkpoint> DecodeCheckpoint(std::string_view bytes) {
  if (bytes.size() < kCheckpointFixedSize + 4) return std::nullopt;
  const char* p = bytes.data();
  if (std::memcmp(p, kCheckpointMagic, sizeof(kCheckpointMagic)) != 0 ||
      DecodeFixed32(p + 8) != kVersion) {
    return std::nullopt;
  }
  const uint32_t count = DecodeFixed32(p + 12);
  const size_t body = kCheckpointFixedSize + 8 * static_cast<size_t>(count);
  if (bytes.size() != body + 4 ||
      DecodeFixed32(p + body) != crc32c::Value(p, body)) {
    return std::nullopt;
  }
  Checkpoint c;
  c.base = DecodeFixed64(p + 16);
  c.end_offset = DecodeFixed64(p + 24);
  c.last_sequence = DecodeFixed64(p + 32);
  c.first_timestamp_ms = static_cast<int64_t>(DecodeFixed64(p + 40));
  c.max_timestamp_ms = static_cast<int64_t>(DecodeFixed64(p + 48));
  if (c.base == 0 || c.last_sequence + 1 < c.base ||
      c.end_offset < kSegmentHeaderSize) {
    return std::nullopt;
  }
  const uint64_t records = c.last_sequence + 1 - c.base;
  const uint64_t expected =
      records == 0 ? 0 : (records - 1) / kIndexInterval + 1;
  if (count != expected) return std::nullopt;
  c.index.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    c.index[i] = DecodeFixed64(p + kCheckpointFixedSize + 8 * size_t{i});
  }
  return c;
}

}  // namespace eddy::streams::format
