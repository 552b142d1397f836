// ShardLog: one stream shard's append-only, durable log of opaque records.
//
// It is the per-shard change log behind DynamoDB Streams and Eddy's triggers
// and, for the store, the redo log that makes "item write + change record"
// atomic: the store appends a record holding the full new/old images, then
// writes LevelDB; after a crash it replays the records LevelDB lacks. The log
// knows nothing of items: a payload is bytes.
//
// Records and numbering. Every record gets a sequence number: the first
// record of a new log gets Options::first_sequence (default 1), each later
// one the previous + 1, in the order the records are written. Numbers are
// never reused, also across reopen and after trimming. A record also carries
// a caller-supplied timestamp (ms since the epoch), used for trimming.
//
// Durability. Append hands the record to the OS with one write() before it
// returns, so an appended record survives kill -9 of the process. It survives
// power loss once Sync() covering it has returned OK, or at once when
// Options::sync_on_append is set (Append then returns after the fsync;
// concurrent appenders share one fdatasync).
//
// Failures (disk full, I/O errors). A failed write fails that Append with
// IOError and leaves nothing behind: the partial record is cut off the file
// and its number is given to the next record, so readers never see a gap.
// A failed fsync fails that Sync (or synced Append) and marks the log for
// repair: an fsync is never simply retried (after a failure it may report
// success without writing the data), instead the next Append, Sync, Seal or
// Close (or Repair()) reads back every record written since the last good
// fsync, checks it, writes it again and fsyncs. While the cause lasts those
// calls fail with the repair's IOError; once it is gone the log goes on by
// itself, without a reopen. Records already written keep their numbers:
// none is lost, repeated or renumbered.
//
// Visibility. Readers (Read, last_sequence, WaitForRecordsAfter, callbacks)
// see a record once it is visible: at once after its write() without
// sync_on_append; only once it is fsync'ed with sync_on_append, so that no
// reader ever acts on a record a power loss could take back (its number
// would then be given to another record).
//
// Reader positions (a reader is just a `next` sequence number it keeps;
// ReadResult::next_sequence is the value to keep after a Read). A position
// is in one of these states:
//   - behind: first_sequence() <= next <= last_sequence(). Read returns at
//     least one record, starting exactly at `next`.
//   - caught up: next == last_sequence() + 1. Read returns no records (not an
//     error). Wait with WaitForRecordsAfter(next - 1, ...) or Subscribe.
//   - trimmed: next < first_sequence(). Read fails with OutOfRange; records
//     next .. first_sequence() - 1 are gone. Resume at first_sequence()
//     knowingly (DynamoDB: TrimmedDataAccessException).
//   - drained: caught up and sealed(). No record will ever follow.
// To resume without gaps or repeats after a restart, persist `next` after
// the records before it are processed and Read from it again.
//
// Format (full text: streams/FORMAT.md). Options::dir holds segment files
// named by their first sequence number (00000000000000000001.log), a LOCK
// file (one open ShardLog per directory) and, once sealed, a SEALED marker.
// A segment is a 32-byte header (magic "EDDYSLOG", version 1, base sequence,
// CRC-32C) followed by records back to back, each
//   [crc32c u32][length u32][sequence u64][timestamp_ms i64][payload]
// little-endian, the CRC covering everything after it. A new segment starts
// before a record that would take the active one past
// Options::segment_bytes; the older one is fsync'ed first, so only the
// newest segment can end in a torn record.
//
// Descriptors. A log keeps its newest segment's file open while it may be
// appended to, and the LOCK file (Options::lock_directory); its closed
// segments' files stay open between reads in Options::file_cache, within
// that cache's capacity, however many segments the log holds.
//
// Thread-safety: all methods may be called concurrently from any threads,
// except that the object must not be destroyed while a call is in progress.
// Callbacks given to Subscribe run on appending threads (see Subscribe).
#ifndef EDDY_STREAMS_SHARD_LOG_H_
#define EDDY_STREAMS_SHARD_LOG_H_

#include <spdlog/logger.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "eddy/result.h"
#include "eddy/status.h"
#include "eddy/streams/file_system.h"
#include "eddy/streams/segment_file_cache.h"

namespace eddy::streams {

// One record as Read returns it.
struct LogRecord {
  uint64_t sequence = 0;
  int64_t timestamp_ms = 0;
  std::string payload;
};

struct ReadResult {
  // In sequence order, without gaps, the first one at the requested
  // from_sequence (unless empty).
  std::vector<LogRecord> records;
  // Where the next Read continues: records.back().sequence + 1, or the
  // requested from_sequence when records is empty.
  uint64_t next_sequence = 0;
};

using SubscriptionId = uint64_t;

class ShardLog {
 public:
  struct Options {
    // The log's directory; created (with parents) if missing.
    std::string dir;
    // A segment is closed and a new one started before a record that would
    // make it larger than this. A record larger than this gets a segment
    // of its own. REQUIRES: >= 64.
    size_t segment_bytes = 64u << 20;
    // Append returns only after the record is fsync'ed (group-committed).
    bool sync_on_append = false;
    // Defaults to spdlog::default_logger().
    std::shared_ptr<spdlog::logger> logger;
    // Wall clock in ms since the epoch, for Append(payload) and the seal
    // time. Defaults to std::chrono::system_clock. Injectable for tests;
    // called from appending threads concurrently, so it must be
    // thread-safe.
    std::function<int64_t()> clock_ms;
    // The number of the first record of a new log. Ignored when the
    // directory holds a log already. REQUIRES: >= 1.
    uint64_t first_sequence = 1;
    // Every file operation goes through this (not owned; must outlive the
    // log). Null: FileSystem::Default(). Tests inject faults here.
    FileSystem* file_system = nullptr;
    // Where the files of the log's closed segments (all but the newest, and
    // a sealed log's newest too) stay open between reads: a cache shared by
    // many logs bounds their descriptors together. Null: the log gets a
    // cache of its own of closed_segment_files.
    std::shared_ptr<SegmentFileCache> file_cache;
    size_t closed_segment_files = 4;
    // Takes the directory's LOCK file while the log is open: a second
    // ShardLog on the directory, in this process or another, fails with
    // Busy. Turn it off only where something else keeps a second opener
    // out (the store's logs live in its data directory, whose own LOCK the
    // store holds while open). Without it an open log holds one descriptor
    // of its own, its newest segment's, and none once sealed.
    bool lock_directory = true;
  };

  // Opens the log in options.dir, creating it if there is none. Its cost is
  // that of the records appended since the last Checkpoint (or Close), not
  // of the log's size. Recovery:
  // a torn record at the end of the newest segment (a write cut short by a
  // crash: partial header or payload, or a checksum mismatch with no valid
  // record after it) is cut off and logged at warn with its byte count;
  // numbering continues after the last valid record. Damage followed by
  // valid records is Corruption. Older segments are checked when first read.
  // Fails with Busy if another ShardLog has the directory open (and locked,
  // Options::lock_directory), with Corruption if the files are damaged,
  // IOError on file system errors.
  static Result<std::unique_ptr<ShardLog>> Open(Options options);

  // Removes the log files (segments, SEALED, LOCK) in `dir` and the
  // directory if that leaves it empty. OK if `dir` does not exist. Fails
  // with Busy while a ShardLog has the directory open and locked.
  static Status DestroyLog(const std::string& dir,
                           FileSystem* file_system = nullptr);

  ShardLog() = default;
  ShardLog(const ShardLog&) = delete;
  ShardLog& operator=(const ShardLog&) = delete;
  // Calls Close().
  virtual ~ShardLog() = default;

  // Appends one record and returns its sequence number. The record has
  // reached the OS (one write()) when this returns; with sync_on_append it
  // is also fsync'ed. Concurrent appends are serialised; their numbers
  // increase in the order they are written.
  // Fails with InvalidArgument if the payload is larger than 64 MiB or the
  // log is sealed; with IOError if the log is closed, the write fails (then
  // nothing of the record remains and its number is not used), or the log
  // needs a repair that fails. With sync_on_append, an IOError from the
  // fsync leaves the record's fate unknown, as for any failed commit: it is
  // in the log and becomes visible once a repair has fsync'ed it.
  virtual Result<uint64_t> Append(std::string_view payload,
                                  int64_t timestamp_ms) = 0;
  // Same, stamped with Options::clock_ms().
  virtual Result<uint64_t> Append(std::string_view payload) = 0;

  // Returns once every record with a number <= `sequence` is fsync'ed
  // (numbers above the last appended one mean "everything appended so
  // far"). Group commit: concurrent callers share one fdatasync; the others
  // wait for it. Fails with IOError if the fsync fails; the next call
  // repairs the log (see Failures above) and succeeds once the cause is
  // gone.
  virtual Status Sync(uint64_t sequence) = 0;

  // Returns the visible records with number >= from_sequence, in order,
  // stopping after max_records or before the record that would take the sum
  // of payload sizes past max_bytes, but always at least one record if there
  // is one. No records (OK) when from_sequence > last_sequence() or
  // max_records == 0. Fails with OutOfRange when from_sequence <
  // first_sequence() (trimmed), or the segment it starts in is trimmed while
  // it reads (a read stops before a segment trimmed after its start),
  // Corruption if a segment is damaged, IOError if the log is closed.
  virtual Result<ReadResult> Read(uint64_t from_sequence, size_t max_records,
                                  size_t max_bytes) = 0;

  // The number of the oldest retained record (or of the next record when
  // the log holds none).
  virtual uint64_t first_sequence() const = 0;
  // The number of the newest visible record; first_sequence() - 1 when
  // there is none.
  virtual uint64_t last_sequence() const = 0;
  // The timestamp of the oldest retained record; 0 when there is none.
  virtual int64_t first_timestamp_ms() const = 0;

  // Deletes the oldest segments while every record in them has a timestamp
  // < timestamp_ms, stopping at the first segment with a newer record (the
  // retained records stay contiguous). When every record of the log is
  // older, the current segment is closed and deleted too, leaving an empty
  // log that continues numbering. Afterwards Read below the new
  // first_sequence() fails with OutOfRange. Readers in the middle of a Read
  // are not disturbed.
  virtual Status TrimBefore(int64_t timestamp_ms) = 0;

  // Closes the shard for writing (stream disabled, shard closed): later
  // Appends fail with InvalidArgument. Fsyncs the log and persists the
  // state (a SEALED marker), so a reopened log stays sealed. Wakes
  // WaitForRecordsAfter and calls the subscribers once. Idempotent.
  virtual Status Seal() = 0;
  virtual bool sealed() const = 0;
  // When Seal() first ran (Options::clock_ms); 0 if not sealed.
  virtual int64_t sealed_timestamp_ms() const = 0;

  // OK, or the failure the next write will first try to repair.
  virtual Status status() const = 0;
  // Makes the records appended so far durable (fsync) and records where
  // they end in the log's CHECKPOINT file, so that the next Open, after a
  // crash too, scans only the records appended after it instead of the
  // whole active segment. Close does it too. Cheap when nothing was
  // appended since the last one.
  virtual Status Checkpoint() = 0;
  // Repairs a failed log now (Append, Sync, Seal and Close also do it
  // first): OK if the log is fine afterwards, else the repair's error.
  virtual Status Repair() = 0;

  // Blocks until last_sequence() > sequence, the timeout passes, or the log
  // is sealed or closed. Returns last_sequence(). Without polling: appends
  // wake waiters through a condition variable.
  virtual uint64_t WaitForRecordsAfter(uint64_t sequence,
                                       std::chrono::milliseconds timeout) = 0;

  // Registers `callback`, called with the new last_sequence() each time it
  // grows: without sync_on_append once per Append, with sync_on_append once
  // per group commit (the value may jump by several records). Also called
  // once by Seal(). Every growth after Subscribe returns is reported, in
  // increasing order, never concurrently.
  // The callback runs on the appending thread while the log holds an
  // internal lock, so it must be quick and must not call any method of this
  // log (that may deadlock): wake a consumer and return. Exceptions it
  // throws are caught and logged.
  virtual SubscriptionId Subscribe(
      std::function<void(uint64_t last_sequence)> callback) = 0;
  // After this returns the callback is not running and never runs again.
  // Unknown ids are ignored. REQUIRES: not called from a callback.
  virtual void Unsubscribe(SubscriptionId id) = 0;

  // Fsyncs (unless failed), wakes waiters and releases the directory. Later
  // calls fail with IOError (getters keep their last values). Idempotent.
  virtual Status Close() = 0;
  // Close(), then DestroyLog(dir).
  virtual Status Destroy() = 0;
};

}  // namespace eddy::streams

#endif  // EDDY_STREAMS_SHARD_LOG_H_
