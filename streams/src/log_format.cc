#include "log_format.h"

#include <cassert>
#include <charconv>
#include <cstring>

#include "eddy/streams/crc32c.h"
#include "eddy/varint.h"

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

namespace {

enum class VarintParse { kOk, kShort, kBad };

// Reads a varint from [*p, end), advancing *p. kBad: longer than a 64-bit
// value's encoding can be.
VarintParse GetVarint(const char** p, const char* end, uint64_t* v) {
  uint64_t result = 0;
  for (size_t i = 0; i < kMaxVarint64Bytes; ++i) {
    if (*p == end) return VarintParse::kShort;
    const auto byte = static_cast<uint8_t>(*(*p)++);
    if (i == kMaxVarint64Bytes - 1 && byte > 1) return VarintParse::kBad;
    result |= static_cast<uint64_t>(byte & 0x7F) << (7 * i);
    if (byte < 0x80) {
      *v = result;
      return VarintParse::kOk;
    }
  }
  return VarintParse::kBad;
}

// Timestamps relative to the segment's base, as zigzag varints: small of
// either sign in few bytes. Computed in unsigned arithmetic (wraps, never
// overflows); the decoder adds back the same way.
uint64_t TimestampDelta(const SegmentHeader& segment, int64_t timestamp_ms) {
  const uint64_t d = static_cast<uint64_t>(timestamp_ms) -
                     static_cast<uint64_t>(segment.base_timestamp_ms);
  return (d << 1) ^ (0 - (d >> 63));
}

int64_t TimestampFromDelta(const SegmentHeader& segment, uint64_t zigzag) {
  const uint64_t d = (zigzag >> 1) ^ (0 - (zigzag & 1));
  return static_cast<int64_t>(static_cast<uint64_t>(segment.base_timestamp_ms) +
                              d);
}

uint32_t RecordCrcV2(uint64_t sequence, const char* record, size_t size) {
  char prefix[8];
  EncodeFixed64(prefix, sequence);
  return crc32c::Extend(crc32c::Value(prefix, sizeof(prefix)), record + 4,
                        size - 4);
}

}  // namespace

void EncodeSegmentHeader(const SegmentHeader& header, char* dst) {
  std::memset(dst, 0, kSegmentHeaderSize);
  std::memcpy(dst, kMagic, sizeof(kMagic));
  EncodeFixed32(dst + 8, header.version);
  EncodeFixed64(dst + 16, header.base_sequence);
  if (header.version == kVersion1) {
    EncodeFixed32(dst + 24, crc32c::Value(dst, 24));
    return;
  }
  EncodeFixed64(dst + 24, static_cast<uint64_t>(header.base_timestamp_ms));
  EncodeFixed32(dst + 12, crc32c::Extend(crc32c::Value(dst, 12), dst + 16,
                                         kSegmentHeaderSize - 16));
}

std::optional<SegmentHeader> DecodeSegmentHeader(const char* src) {
  if (std::memcmp(src, kMagic, sizeof(kMagic)) != 0) return std::nullopt;
  SegmentHeader header;
  header.version = DecodeFixed32(src + 8);
  header.base_sequence = DecodeFixed64(src + 16);
  switch (header.version) {
    case kVersion1:
      if (DecodeFixed32(src + 24) != crc32c::Value(src, 24))
        return std::nullopt;
      header.base_timestamp_ms = 0;
      return header;
    case kVersion2:
      if (DecodeFixed32(src + 12) != crc32c::Extend(crc32c::Value(src, 12),
                                                    src + 16,
                                                    kSegmentHeaderSize - 16)) {
        return std::nullopt;
      }
      header.base_timestamp_ms = static_cast<int64_t>(DecodeFixed64(src + 24));
      return header;
    default:
      return std::nullopt;
  }
}

size_t RecordHeaderSize(const SegmentHeader& segment, uint32_t payload_size,
                        int64_t timestamp_ms) {
  if (segment.version == kVersion1) return kRecordHeaderSizeV1;
  return kLengthOffsetV2 + VarintSize(payload_size) +
         VarintSize(TimestampDelta(segment, timestamp_ms));
}

void FinishRecord(const SegmentHeader& segment, char* record,
                  size_t header_size, uint32_t payload_size, uint64_t sequence,
                  int64_t timestamp_ms) {
  const size_t size = header_size + payload_size;
  if (segment.version == kVersion1) {
    EncodeFixed32(record + kLengthOffsetV1, payload_size);
    EncodeFixed64(record + kSequenceOffsetV1, sequence);
    EncodeFixed64(record + kTimestampOffsetV1,
                  static_cast<uint64_t>(timestamp_ms));
    EncodeFixed32(record + kCrcOffset, crc32c::Value(record + kLengthOffsetV1,
                                                     size - kLengthOffsetV1));
    return;
  }
  record[kSequenceLowOffsetV2] = static_cast<char>(sequence & 0xFF);
  record[kSequenceLowOffsetV2 + 1] = static_cast<char>((sequence >> 8) & 0xFF);
  char* p = EncodeVarint(payload_size, record + kLengthOffsetV2);
  p = EncodeVarint(TimestampDelta(segment, timestamp_ms), p);
  assert(static_cast<size_t>(p - record) == header_size);
  EncodeFixed32(record + kCrcOffset, RecordCrcV2(sequence, record, size));
}

HeaderParse ParseRecordHeader(const SegmentHeader& segment, const char* p,
                              size_t available, RecordHeader* header) {
  if (segment.version == kVersion1) {
    if (available < kRecordHeaderSizeV1) return HeaderParse::kShort;
    header->header_size = kRecordHeaderSizeV1;
    header->payload_size = DecodeFixed32(p + kLengthOffsetV1);
    if (header->payload_size > kMaxPayloadBytes) return HeaderParse::kBad;
    header->stored_sequence = DecodeFixed64(p + kSequenceOffsetV1);
    header->timestamp_ms =
        static_cast<int64_t>(DecodeFixed64(p + kTimestampOffsetV1));
    return HeaderParse::kOk;
  }
  if (available < kLengthOffsetV2) return HeaderParse::kShort;
  header->stored_sequence =
      static_cast<uint8_t>(p[kSequenceLowOffsetV2]) |
      (uint64_t{static_cast<uint8_t>(p[kSequenceLowOffsetV2 + 1])} << 8);
  const char* at = p + kLengthOffsetV2;
  const char* end = p + available;
  uint64_t length = 0;
  uint64_t zigzag = 0;
  // A length takes at most 4 bytes (64 MiB < 2^28): so a header never
  // exceeds kMaxRecordHeaderSize, whatever the bytes.
  VarintParse parse = GetVarint(&at, end, &length);
  if (parse == VarintParse::kOk &&
      (length > kMaxPayloadBytes ||
       static_cast<size_t>(at - p) > kLengthOffsetV2 + 4)) {
    return HeaderParse::kBad;
  }
  if (parse == VarintParse::kOk) parse = GetVarint(&at, end, &zigzag);
  if (parse != VarintParse::kOk) {
    return parse == VarintParse::kShort ? HeaderParse::kShort
                                        : HeaderParse::kBad;
  }
  header->header_size = static_cast<size_t>(at - p);
  header->payload_size = static_cast<uint32_t>(length);
  header->timestamp_ms = TimestampFromDelta(segment, zigzag);
  return HeaderParse::kOk;
}

uint64_t ClaimedSequence(const SegmentHeader& segment,
                         const RecordHeader& header, uint64_t expected) {
  if (segment.version == kVersion1) return header.stored_sequence;
  const auto offset = static_cast<int16_t>(
      static_cast<uint16_t>(header.stored_sequence - expected));
  return expected + static_cast<uint64_t>(int64_t{offset});
}

std::optional<uint64_t> RecordSequence(const SegmentHeader& segment,
                                       const char* p,
                                       const RecordHeader& header,
                                       uint64_t expected) {
  const uint32_t crc = DecodeFixed32(p + kCrcOffset);
  const size_t size = header.record_size();
  if (segment.version == kVersion1) {
    if (crc != crc32c::Value(p + kLengthOffsetV1, size - kLengthOffsetV1)) {
      return std::nullopt;
    }
    return header.stored_sequence;
  }
  if (crc == RecordCrcV2(expected, p, size)) return expected;
  const uint64_t claimed = ClaimedSequence(segment, header, expected);
  if (claimed != expected && crc == RecordCrcV2(claimed, p, size)) {
    return claimed;
  }
  return std::nullopt;
}

std::string EncodeCheckpoint(const Checkpoint& c) {
  std::string out(kCheckpointFixedSize + 8 * c.index.size() + 4, '\0');
  char* p = out.data();
  std::memcpy(p, kCheckpointMagic, sizeof(kCheckpointMagic));
  EncodeFixed32(p + 8, kCheckpointVersion);
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
      DecodeFixed32(p + 8) != kCheckpointVersion) {
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
