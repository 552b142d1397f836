// Segment: one file of a shard log, and RecordScanner, which reads records
// from a segment file sequentially in large chunks. Private to streams.
//
// Thread-safety: Segment's immutable members may be read from any thread;
// its mutable members are guarded by the owning ShardLogImpl's mutex (see
// shard_log_impl.h). A RecordScanner is used by one thread at a time.
#ifndef EDDY_STREAMS_SRC_SEGMENT_H_
#define EDDY_STREAMS_SRC_SEGMENT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "eddy/status.h"
#include "log_format.h"
#include "mutex.h"
#include "posix_file.h"

namespace eddy::streams {

// What a scan of a segment learns about its records.
struct SegmentSummary {
  uint64_t last_sequence = 0;      // base - 1 when there are no records.
  uint64_t end_offset = 0;         // Just past the last valid record.
  int64_t first_timestamp_ms = 0;  // Meaningful only with records.
  int64_t max_timestamp_ms = 0;    // Meaningful only with records.
  std::vector<uint64_t> index;     // index[k]: offset of record base + 64k.

  bool empty(uint64_t base) const { return last_sequence < base; }
  // Accounts for a record appended after the others.
  void Add(uint64_t base, uint64_t sequence, int64_t timestamp_ms,
           uint64_t offset, uint64_t size);
};

struct Segment {
  // `opened` is the file of a segment that may be appended to (the newest
  // of a log not sealed); invalid for any other.
  Segment(uint64_t base_sequence, std::string file_path, uint64_t file_id,
          File opened)
      : base(base_sequence),
        path(std::move(file_path)),
        cache_id(file_id),
        file(opened.valid() ? std::make_shared<const File>(std::move(opened))
                            : nullptr) {}

  const uint64_t base;  // Number of its first record (and file name).
  // Its header (version, base timestamp): read or written before the
  // segment joins its log, never changed after.
  format::SegmentHeader header;
  const std::string path;
  // Its key in the log's SegmentFileCache, where the file of a closed
  // segment stays open between reads.
  const uint64_t cache_id;

  // Guarded by ShardLogImpl::mu_. The file (O_RDWR) of the segment appends
  // go to: never null for a log's newest segment until the log is sealed or
  // closed, null for every other (closed segments are read through the
  // cache; ShardLogImpl::OpenedFile). Whoever uses it outside mu_ holds a
  // copy of the pointer, so the descriptor outlives that use.
  std::shared_ptr<const File> file;

  // Guarded by ShardLogImpl::mu_. For a closed segment that is not yet
  // scanned, summary.last_sequence is known (next segment's base - 1) and
  // summary.end_offset is the file size; the rest is filled by the scan.
  // Once scanned, a closed segment's summary never changes.
  bool scanned = false;
  SegmentSummary summary;

  // Serialises lazy scans of this segment. Acquired before the log mutex.
  Mutex scan_mu;
};

// A record read by RecordScanner. The payload view is valid until the next
// call to Next().
struct RecordView {
  uint64_t offset = 0;  // Of the record header in the file.
  uint64_t sequence = 0;
  int64_t timestamp_ms = 0;
  std::string_view payload;
  uint64_t size = 0;  // Of the whole record, header included.
};

class RecordScanner {
 public:
  // In version 2 a record's number is checked through its checksum, so an
  // intact record numbered otherwise than the previous one's plus one is
  // only recognised when close to it (format::RecordSequence); callers
  // check the numbering of what comes back as in version 1.
  enum class Outcome {
    kRecord,     // *record is filled.
    kEnd,        // Clean end: exactly at the limit.
    kTruncated,  // A partial record runs into the limit / end of file.
    kDamaged,    // Checksum mismatch or impossible length.
    kIOError,    // See io_status().
  };

  // Scans [offset, limit) of the file of the segment with this header; the
  // record at `offset` should be numbered `sequence`. chunk_bytes sizes each
  // read.
  RecordScanner(FileSystem* fs, const File& file, const std::string& path,
                const format::SegmentHeader& segment, uint64_t offset,
                uint64_t sequence, uint64_t limit, size_t chunk_bytes);

  Outcome Next(RecordView* record);

  // The offset of the next record; after kTruncated or kDamaged, of the bad
  // record.
  uint64_t offset() const { return buf_offset_ + pos_; }
  const Status& io_status() const { return io_status_; }

 private:
  // Makes `need` bytes from the current position available in the buffer.
  // False if the limit or end of file comes first (or on error).
  bool Fill(size_t need);

  FileSystem* const fs_;
  const File& file_;
  const std::string& path_;
  const format::SegmentHeader segment_;
  const uint64_t limit_;
  uint64_t next_sequence_;  // Expected of the next record.
  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0;
  uint64_t buf_offset_ = 0;  // File offset of buf_[0].
  size_t len_ = 0;           // Valid bytes in buf_.
  size_t pos_ = 0;           // Next record in buf_.
  Status io_status_;
};

// Creates a segment file holding only its header, fsyncs it and its
// directory. Fails if the file exists.
Result<File> CreateSegmentFile(FileSystem* fs, const std::string& dir,
                               const std::string& path,
                               const format::SegmentHeader& header);

// Reads and checks a segment's header: Corruption if it is damaged or names
// another base.
Result<format::SegmentHeader> CheckSegmentHeader(FileSystem* fs,
                                                 const File& file,
                                                 const std::string& path,
                                                 uint64_t base);

// How a scan of [header, limit) ended.
struct ScanOutcome {
  // kEnd, kTruncated or kDamaged; kIOError when `status` says why the scan
  // gave up (an I/O error, or Corruption for an intact record with the wrong
  // sequence number, which no torn write explains).
  RecordScanner::Outcome outcome;
  uint64_t bad_offset = 0;  // For kTruncated / kDamaged.
  Status status;
};

// Scans every record of the segment in [header, limit), checking that
// numbers run base, base + 1, ... Stops at the first problem; *summary
// describes the valid prefix.
ScanOutcome ScanSegment(FileSystem* fs, const File& file,
                        const std::string& path,
                        const format::SegmentHeader& segment, uint64_t limit,
                        SegmentSummary* summary);

// Continues a scan of the segment at summary->end_offset (a record
// boundary, after summary->last_sequence) up to `limit`, adding to
// *summary; same outcomes as ScanSegment.
ScanOutcome ScanSegmentFrom(FileSystem* fs, const File& file,
                            const std::string& path,
                            const format::SegmentHeader& segment,
                            uint64_t limit, SegmentSummary* summary);

// Whether any intact record numbered `expected` or `expected + 1` starts
// after `offset` and ends by `limit`: tells a torn tail (none) from damage in
// the middle of the segment.
Result<bool> HasValidRecordAfter(FileSystem* fs, const File& file,
                                 const std::string& path,
                                 const format::SegmentHeader& segment,
                                 uint64_t offset, uint64_t limit,
                                 uint64_t expected);

}  // namespace eddy::streams

#endif  // EDDY_STREAMS_SRC_SEGMENT_H_
