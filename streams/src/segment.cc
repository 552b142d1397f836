#include "segment.h"

#include <fcntl.h>

#include <algorithm>
#include <cstring>

#include "eddy/streams/crc32c.h"

namespace eddy::streams {

using format::kRecordHeaderSize;
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
                             const std::string& path, uint64_t offset,
                             uint64_t limit, size_t chunk_bytes)
    : fs_(fs), file_(file), path_(path), limit_(limit), buf_offset_(offset) {
  const uint64_t span = limit > offset ? limit - offset : 0;
  cap_ = static_cast<size_t>(
      std::clamp<uint64_t>(span, kRecordHeaderSize,
                           std::max<size_t>(chunk_bytes, kRecordHeaderSize)));
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
  if (!Fill(kRecordHeaderSize)) {
    return io_status_.ok() ? Outcome::kTruncated : Outcome::kIOError;
  }
  const char* header = buf_.get() + pos_;
  const uint32_t length = format::DecodeFixed32(header + format::kLengthOffset);
  if (length > format::kMaxPayloadBytes) return Outcome::kDamaged;
  const size_t size = kRecordHeaderSize + length;
  if (!Fill(size)) {
    return io_status_.ok() ? Outcome::kTruncated : Outcome::kIOError;
  }
  header = buf_.get() + pos_;  // Fill may have moved the buffer.
  const uint32_t crc = format::DecodeFixed32(header + format::kCrcOffset);
  if (crc != crc32c::Value(header + format::kLengthOffset,
                           size - format::kLengthOffset)) {
    return Outcome::kDamaged;
  }
  record->offset = offset();
  record->sequence = format::DecodeFixed64(header + format::kSequenceOffset);
  record->timestamp_ms = static_cast<int64_t>(
      format::DecodeFixed64(header + format::kTimestampOffset));
  record->payload = std::string_view(header + kRecordHeaderSize, length);
  pos_ += size;
  return Outcome::kRecord;
}

Result<File> CreateSegmentFile(FileSystem* fs, const std::string& dir,
                               const std::string& path, uint64_t base) {
  EDDY_ASSIGN_OR_RETURN(File file,
                        fs->Open(path, O_RDWR | O_CREAT | O_EXCL, 0644));
  char header[kSegmentHeaderSize];
  format::EncodeSegmentHeader(base, header);
  EDDY_RETURN_IF_ERROR(fs->Write(file, path, header, sizeof(header), 0));
  EDDY_RETURN_IF_ERROR(fs->Sync(file, path));
  EDDY_RETURN_IF_ERROR(fs->SyncDir(dir));
  return file;
}

Status CheckSegmentHeader(FileSystem* fs, const File& file,
                          const std::string& path, uint64_t base) {
  char header[kSegmentHeaderSize];
  size_t got = 0;
  EDDY_RETURN_IF_ERROR(fs->Read(file, path, header, sizeof(header), 0, &got));
  if (got < sizeof(header)) {
    return Status::Corruption("segment header cut short in " + path);
  }
  const std::optional<uint64_t> header_base =
      format::DecodeSegmentHeader(header);
  if (!header_base) return Status::Corruption("bad segment header in " + path);
  if (*header_base != base) {
    return Status::Corruption("segment header of " + path + " names base " +
                              std::to_string(*header_base));
  }
  return Status::OK();
}

ScanOutcome ScanSegment(FileSystem* fs, const File& file,
                        const std::string& path, uint64_t base, uint64_t limit,
                        SegmentSummary* summary) {
  *summary = SegmentSummary{};
  summary->last_sequence = base - 1;
  summary->end_offset = kSegmentHeaderSize;
  return ScanSegmentFrom(fs, file, path, base, limit, summary);
}

ScanOutcome ScanSegmentFrom(FileSystem* fs, const File& file,
                            const std::string& path, uint64_t base,
                            uint64_t limit, SegmentSummary* summary) {
  RecordScanner scanner(fs, file, path, summary->end_offset, limit, 1u << 20);
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
                 record.size());
  }
}

Result<bool> HasValidRecordAfter(FileSystem* fs, const File& file,
                                 const std::string& path, uint64_t offset,
                                 uint64_t limit, uint64_t expected) {
  if (limit <= offset + 1) return false;
  const auto span = static_cast<size_t>(limit - offset - 1);
  auto buf = std::make_unique_for_overwrite<char[]>(span);
  size_t got = 0;
  EDDY_RETURN_IF_ERROR(fs->Read(file, path, buf.get(), span, offset + 1, &got));
  // A candidate record starts at p with its sequence at p + 8.
  for (size_t p = 0; p + kRecordHeaderSize <= got; ++p) {
    const uint64_t sequence =
        format::DecodeFixed64(buf.get() + p + format::kSequenceOffset);
    if (sequence != expected && sequence != expected + 1) continue;
    const uint32_t length =
        format::DecodeFixed32(buf.get() + p + format::kLengthOffset);
    if (length > format::kMaxPayloadBytes ||
        p + kRecordHeaderSize + length > got) {
      continue;
    }
    const uint32_t crc =
        format::DecodeFixed32(buf.get() + p + format::kCrcOffset);
    if (crc ==
        crc32c::Value(buf.get() + p + format::kLengthOffset,
                      kRecordHeaderSize - format::kLengthOffset + length)) {
      return true;
    }
  }
  return false;
}

}  // namespace eddy::streams
