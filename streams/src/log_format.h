// The on-disk format of a shard log, in code. The prose specification is
// streams/FORMAT.md; keep the two in step.
//
// Thread-safety: constants and pure functions.
#ifndef EDDY_STREAMS_SRC_LOG_FORMAT_H_
#define EDDY_STREAMS_SRC_LOG_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eddy::streams::format {

// Segment header: magic[8] "EDDYSLOG", version u32, reserved u32 (0),
// base_sequence u64, crc32c u32 of bytes [0, 24), reserved u32 (0).
inline constexpr char kMagic[8] = {'E', 'D', 'D', 'Y', 'S', 'L', 'O', 'G'};
inline constexpr uint32_t kVersion = 1;
inline constexpr size_t kSegmentHeaderSize = 32;

// Record header: crc32c u32 of bytes [4, 24 + length), length u32,
// sequence u64, timestamp_ms i64; then `length` payload bytes.
inline constexpr size_t kRecordHeaderSize = 24;
inline constexpr size_t kCrcOffset = 0;
inline constexpr size_t kLengthOffset = 4;
inline constexpr size_t kSequenceOffset = 8;
inline constexpr size_t kTimestampOffset = 16;

// Larger lengths are rejected by Append and read as damage.
inline constexpr uint32_t kMaxPayloadBytes = 64u << 20;

// The sparse index holds the offset of every kIndexInterval-th record of a
// segment (base, base + 64, ...). In memory only.
inline constexpr uint64_t kIndexInterval = 64;

inline constexpr char kSegmentSuffix[] = ".log";
inline constexpr size_t kSegmentNameDigits = 20;
inline constexpr char kSealedFileName[] = "SEALED";
inline constexpr char kSealedTempFileName[] = "SEALED.tmp";
inline constexpr char kLockFileName[] = "LOCK";
inline constexpr char kCheckpointFileName[] = "CHECKPOINT";
inline constexpr char kCheckpointTempFileName[] = "CHECKPOINT.tmp";

// Checkpoint of the active segment (FORMAT.md, "Checkpoint"): magic[8]
// "EDDYSCKP", version u32, index count u32, base u64, end offset u64, last
// sequence u64, first timestamp i64, largest timestamp i64, the index
// (u64 offsets), crc32c u32 of everything before it.
inline constexpr char kCheckpointMagic[8] = {'E', 'D', 'D', 'Y',
                                             'S', 'C', 'K', 'P'};
inline constexpr size_t kCheckpointFixedSize = 56;

struct Checkpoint {
  uint64_t base = 0;
  uint64_t end_offset = 0;
  uint64_t last_sequence = 0;
  int64_t first_timestamp_ms = 0;
  int64_t max_timestamp_ms = 0;
  std::vector<uint64_t> index;
};
std::string EncodeCheckpoint(const Checkpoint& checkpoint);
// nullopt if the bytes are not a whole, intact checkpoint of this version
// whose index matches its records (one entry per 64 records).
std::optional<Checkpoint> DecodeCheckpoint(std::string_view bytes);

// All integers are little-endian.
inline void EncodeFixed32(char* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}
inline void EncodeFixed64(char* dst, uint64_t v) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}
inline uint32_t DecodeFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
inline uint64_t DecodeFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// "00000000000000000001.log" for base 1.
std::string SegmentFileName(uint64_t base_sequence);
// The base sequence of a segment file name; nullopt for any other name.
std::optional<uint64_t> ParseSegmentFileName(std::string_view name);

// Fills dst[0, kSegmentHeaderSize).
void EncodeSegmentHeader(uint64_t base_sequence, char* dst);
// The base sequence of a valid header; nullopt if the magic, version or
// checksum is wrong.
std::optional<uint64_t> DecodeSegmentHeader(const char* src);

// Fills the header of a record whose payload already sits at
// record[kRecordHeaderSize, kRecordHeaderSize + payload_size), checksum
// included.
void FinishRecord(char* record, uint32_t payload_size, uint64_t sequence,
                  int64_t timestamp_ms);

}  // namespace eddy::streams::format

#endif  // EDDY_STREAMS_SRC_LOG_FORMAT_H_
