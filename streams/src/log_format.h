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

// Segment header (32 bytes, FORMAT.md "Segment"): magic[8] "EDDYSLOG" and
// version u32, then per version
//   1: reserved u32 (0), base_sequence u64, crc32c u32 of bytes [0, 24),
//      reserved u32 (0). Records have the fixed 24-byte header below.
//   2: crc32c u32 of bytes [0, 12) and [16, 32), base_sequence u64,
//      base_timestamp_ms i64. Records have the compact header below.
// New segments are written in version 2; version 1 segments are still read
// and appended to.
inline constexpr char kMagic[8] = {'E', 'D', 'D', 'Y', 'S', 'L', 'O', 'G'};
inline constexpr uint32_t kVersion1 = 1;
inline constexpr uint32_t kVersion2 = 2;
inline constexpr uint32_t kCurrentVersion = kVersion2;
inline constexpr size_t kSegmentHeaderSize = 32;

struct SegmentHeader {
  uint32_t version = kCurrentVersion;
  uint64_t base_sequence = 0;
  // Version 2: what its records' timestamps are stored relative to (the
  // first record's, or the time the segment was made). 0 in version 1.
  int64_t base_timestamp_ms = 0;
};

// Record header, version 1 (24 bytes): crc32c u32 of bytes [4, 24 + length),
// length u32, sequence u64, timestamp_ms i64.
inline constexpr size_t kRecordHeaderSizeV1 = 24;
inline constexpr size_t kCrcOffset = 0;
inline constexpr size_t kLengthOffsetV1 = 4;
inline constexpr size_t kSequenceOffsetV1 = 8;
inline constexpr size_t kTimestampOffsetV1 = 16;

// Record header, version 2 (8 to 20 bytes): crc32c u32 of the sequence (u64,
// not stored) followed by the record's bytes from offset 4 on; the sequence's
// low 16 bits u16; length varint; timestamp - base_timestamp_ms, zigzag
// varint. The checksum checks the numbering without storing the number; the
// low bits let a search for intact records skip most offsets cheaply.
inline constexpr size_t kSequenceLowOffsetV2 = 4;
inline constexpr size_t kLengthOffsetV2 = 6;

// The largest record header of either version.
inline constexpr size_t kMaxRecordHeaderSize = 24;
static_assert(kLengthOffsetV2 + 4 + 10 <= kMaxRecordHeaderSize,
              "a version 2 header: a length of at most 4 varint bytes, a "
              "timestamp delta of at most 10");

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
inline constexpr uint32_t kCheckpointVersion = 1;
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

// Fills dst[0, kSegmentHeaderSize) in header.version's layout.
void EncodeSegmentHeader(const SegmentHeader& header, char* dst);
// The header, if valid; nullopt if the magic, version or checksum is wrong.
std::optional<SegmentHeader> DecodeSegmentHeader(const char* src);

// The size of the header of a record in a segment with this header.
size_t RecordHeaderSize(const SegmentHeader& segment, uint32_t payload_size,
                        int64_t timestamp_ms);

// Fills record[0, header_size), header_size = RecordHeaderSize(...), for a
// payload that already sits at record[header_size, header_size +
// payload_size), checksum included.
void FinishRecord(const SegmentHeader& segment, char* record,
                  size_t header_size, uint32_t payload_size, uint64_t sequence,
                  int64_t timestamp_ms);

// A record header as read. In version 2 only the sequence's low 16 bits are
// stored; RecordSequence tells the whole number.
struct RecordHeader {
  size_t header_size = 0;
  uint32_t payload_size = 0;
  uint64_t stored_sequence = 0;  // Version 1: the sequence; 2: its low bits.
  int64_t timestamp_ms = 0;

  size_t record_size() const { return header_size + payload_size; }
};

enum class HeaderParse {
  kOk,     // *header is filled.
  kShort,  // The bytes end inside the header.
  kBad,    // No valid header starts here (a length over the limit, a varint
           // too long).
};
// Parses the record header at p[0, available).
HeaderParse ParseRecordHeader(const SegmentHeader& segment, const char* p,
                              size_t available, RecordHeader* header);

// The number a record with this header claims, read as near `expected` as
// the stored bits allow: version 1 stores the whole number; version 2 its
// low 16 bits, taken as the number nearest `expected` that has them. The
// checksum alone tells whether the claim holds (RecordSequence).
uint64_t ClaimedSequence(const SegmentHeader& segment,
                         const RecordHeader& header, uint64_t expected);

// The number of the intact record at p[0, header.record_size()), expected
// to be numbered `expected`; nullopt if its checksum does not match. In
// version 2 the checksum is tried with `expected` and, failing that, with
// the number nearest to it that has the stored low bits, so a misnumbered
// record is told from a damaged one unless it is 32768 or more off.
std::optional<uint64_t> RecordSequence(const SegmentHeader& segment,
                                       const char* p,
                                       const RecordHeader& header,
                                       uint64_t expected);

}  // namespace eddy::streams::format

#endif  // EDDY_STREAMS_SRC_LOG_FORMAT_H_
