#include "segment.h"

#include <fcntl.h>

#include <algorithm>
#include <cstring>
#include <optional>

namespace eddy::streams {

using format::kMaxRecordHeaderSize;
using format::kSegmentHeaderSize;

void SegmentSummary::Add(uint64_t base, uint64_t sequence, int64_t timestamp_ms,
                         uint64_t offset, uint64_t size) {
  if (sequence == base) {
    first_timestamp_ms = timestamp_ms;
    max_timestamp_ms = timestamp_ms;
  } else {
    max_timestamp_ms = std::max(max_timestamp_ms, timestamp_ms);
  }
  if ((sequence - base) % format::kIndexInterval == 0) index.push_back(offset);
  last_sequence = sequence;
  end_offset = offset + size;
}

RecordScanner::RecordScanner(FileSystem* fs, const File& file,
                             const std::string& path,
                             const format::SegmentHeader& segment,
                             uint64_t offset, uint64_t sequence, uint64_t limit,
                             size_t chunk_bytes)
    : fs_(fs),
      file_(file),
      path_(path),
      segment_(segment),
      limit_(limit),
      next_sequence_(sequence),
      buf_offset_(offset) {
  const uint64_t span = limit > offset ? limit - offset : 0;
  cap_ = static_cast<size_t>(std::clamp<uint64_t>(
      span, kMaxRecordHeaderSize,
      std::max<size_t>(chunk_bytes, kMaxRecordHeaderSize)));
  buf_ = std::make_unique_for_overwrite<char[]>(cap_);
}

bool RecordScanner::Fill(size_t need) {
  if (len_ - pos_ >= need) return true;
  if (buf_offset_ + pos_ + need > limit_) return false;
  // Keep the partial record, move it to the front and read behind it.
  if (pos_ > 0) {
    std::memmove(buf_.get(), buf_.get() + pos_, len_ - pos_);
    buf_offset_ += pos_;
    len_ -= pos_;
    pos_ = 0;
  }
  if (need > cap_) {
    const size_t cap = std::max(need, cap_ * 2);
    auto bigger = std::make_unique_for_overwrite<char[]>(cap);
    std::memcpy(bigger.get(), buf_.get(), len_);
    buf_ = std::move(bigger);
    cap_ = cap;
  }
  const uint64_t file_end = buf_offset_ + len_;
  const auto want =
      static_cast<size_t>(std::min<uint64_t>(cap_ - len_, limit_ - file_end));
  size_t got = 0;
  io_status_ = fs_->Read(file_, path_, buf_.get() + len_, want, file_end, &got);
  len_ += got;
  return io_status_.ok() && len_ >= need;
}

RecordScanner::Outcome RecordScanner::Next(RecordView* record) {
  if (offset() >= limit_) return Outcome::kEnd;
  // A header is never longer than kMaxRecordHeaderSize; near the limit, what
  // is left has to do.
  Fill(static_cast<size_t>(
      std::min<uint64_t>(kMaxRecordHeaderSize, limit_ - offset())));
  if (!io_status_.ok()) return Outcome::kIOError;
  format::RecordHeader header;
  switch (format::ParseRecordHeader(segment_, buf_.get() + pos_, len_ - pos_,
                                    &header)) {
    case format::HeaderParse::kOk:
      break;
    case format::HeaderParse::kShort:
      return Outcome::kTruncated;
    case format::HeaderParse::kBad:
      return Outcome::kDamaged;
  }
  const size_t size = header.record_size();
  if (!Fill(size)) {
    return io_status_.ok() ? Outcome::kTruncated : Outcome::kIOError;
  }
  const char* bytes = buf_.get() + pos_;  // Fill may have moved the buffer.
  const std::optional<uint64_t> sequence =
      format::RecordSequence(segment_, bytes, header, next_sequence_);
  if (!sequence) return Outcome::kDamaged;
  record->offset = offset();
  record->sequence = *sequence;
  record->timestamp_ms = header.timestamp_ms;
  record->payload =
      std::string_view(bytes + header.header_size, header.payload_size);
  record->size = size;
  next_sequence_ = *sequence + 1;
  pos_ += size;
  return Outcome::kRecord;
}

Result<File> CreateSegmentFile(FileSystem* fs, const std::string& dir,
                               const std::string& path,
                               const format::SegmentHeader& header) {
  EDDY_ASSIGN_OR_RETURN(File file,
                        fs->Open(path, O_RDWR | O_CREAT | O_EXCL, 0644));
  char bytes[kSegmentHeaderSize];
  format::EncodeSegmentHeader(header, bytes);
  EDDY_RETURN_IF_ERROR(fs->Write(file, path, bytes, sizeof(bytes), 0));
  EDDY_RETURN_IF_ERROR(fs->Sync(file, path));
  EDDY_RETURN_IF_ERROR(fs->SyncDir(dir));
  return file;
}

Result<format::SegmentHeader> CheckSegmentHeader(FileSystem* fs,
                                                 const File& file,
                                                 const std::string& path,
                                                 uint64_t base) {
  char bytes[kSegmentHeaderSize];
  size_t got = 0;
  EDDY_RETURN_IF_ERROR(fs->Read(file, path, bytes, sizeof(bytes), 0, &got));
  if (got < sizeof(bytes)) {
    return Status::Corruption("segment header cut short in " + path);
  }
  const std::optional<format::SegmentHeader> header =
      format::DecodeSegmentHeader(bytes);
  if (!header) return Status::Corruption("bad segment header in " + path);
  if (header->base_sequence != base) {
    return Status::Corruption("segment header of " + path + " names base " +
                              std::to_string(header->base_sequence));
  }
  return *header;
}

ScanOutcome ScanSegment(FileSystem* fs, const File& file,
                        const std::string& path,
                        const format::SegmentHeader& segment, uint64_t limit,
                        SegmentSummary* summary) {
  *summary = SegmentSummary{};
  summary->last_sequence = segment.base_sequence - 1;
  summary->end_offset = kSegmentHeaderSize;
  return ScanSegmentFrom(fs, file, path, segment, limit, summary);
}

ScanOutcome ScanSegmentFrom(FileSystem* fs, const File& file,
                            const std::string& path,
                            const format::SegmentHeader& segment,
                            uint64_t limit, SegmentSummary* summary) {
  const uint64_t base = segment.base_sequence;
  RecordScanner scanner(fs, file, path, segment, summary->end_offset,
                        summary->last_sequence + 1, limit, 1u << 20);
  RecordView record;
  while (true) {
    const RecordScanner::Outcome outcome = scanner.Next(&record);
    switch (outcome) {
      case RecordScanner::Outcome::kRecord:
        break;
      case RecordScanner::Outcome::kEnd:
        return {outcome, 0, Status::OK()};
      case RecordScanner::Outcome::kTruncated:
      case RecordScanner::Outcome::kDamaged:
        return {outcome, scanner.offset(), Status::OK()};
      case RecordScanner::Outcome::kIOError:
        return {outcome, scanner.offset(), scanner.io_status()};
    }
    const uint64_t expected = summary->last_sequence + 1;
    if (record.sequence != expected) {
      // An intact record with the wrong number is never a torn write.
      return {RecordScanner::Outcome::kIOError, record.offset,
              Status::Corruption(
                  "record at offset " + std::to_string(record.offset) + " of " +
                  path + " has sequence " + std::to_string(record.sequence) +
                  ", expected " + std::to_string(expected))};
    }
    summary->Add(base, record.sequence, record.timestamp_ms, record.offset,
                 record.size);
  }
}

Result<bool> HasValidRecordAfter(FileSystem* fs, const File& file,
                                 const std::string& path,
                                 const format::SegmentHeader& segment,
                                 uint64_t offset, uint64_t limit,
                                 uint64_t expected) {
  if (limit <= offset + 1) return false;
  const auto span = static_cast<size_t>(limit - offset - 1);
  auto buf = std::make_unique_for_overwrite<char[]>(span);
  size_t got = 0;
  EDDY_RETURN_IF_ERROR(fs->Read(file, path, buf.get(), span, offset + 1, &got));
  for (size_t p = 0; p < got; ++p) {
    format::RecordHeader header;
    if (format::ParseRecordHeader(segment, buf.get() + p, got - p, &header) !=
        format::HeaderParse::kOk) {
      continue;
    }
    // The number it claims (or its low bits) rules out nearly every offset
    // before a checksum is computed.
    const uint64_t claimed = format::ClaimedSequence(segment, header, expected);
    if (claimed != expected && claimed != expected + 1) continue;
    if (header.record_size() > got - p) continue;
    const std::optional<uint64_t> sequence =
        format::RecordSequence(segment, buf.get() + p, header, expected);
    if (sequence == expected || sequence == expected + 1) return true;
  }
  return false;
}

}  // namespace eddy::streams
