#include "eddy/streams/shard_log.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <exception>
#include <filesystem>
#include <system_error>

#include "log_format.h"
#include "shard_log_impl.h"

namespace eddy::streams {

using format::kMaxRecordHeaderSize;
using format::kSegmentHeaderSize;

namespace {

int64_t SystemClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Takes the directory's LOCK file: one open log per directory, also across
// processes.
Result<File> LockDir(FileSystem* fs, const std::string& dir) {
  return LockFile(fs, dir + "/" + format::kLockFileName,
                  "shard log directory is in use: " + dir);
}

// Segment bases in `dir`, ascending.
Result<std::vector<uint64_t>> ListSegments(const std::string& dir) {
  std::vector<uint64_t> bases;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (auto base =
            format::ParseSegmentFileName(it->path().filename().string())) {
      bases.push_back(*base);
    }
  }
  if (ec) return Status::IOError("list " + dir + ": " + ec.message());
  std::sort(bases.begin(), bases.end());
  return bases;
}

}  // namespace

Result<std::unique_ptr<ShardLog>> ShardLog::Open(Options options) {
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<ShardLogImpl> log,
                        ShardLogImpl::OpenImpl(std::move(options)));
  return std::unique_ptr<ShardLog>(std::move(log));
}

Status ShardLog::DestroyLog(const std::string& dir, FileSystem* fs) {
  if (fs == nullptr) fs = FileSystem::Default();
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return Status::OK();
  EDDY_ASSIGN_OR_RETURN(File lock, LockDir(fs, dir));
  EDDY_ASSIGN_OR_RETURN(std::vector<uint64_t> bases, ListSegments(dir));
  for (uint64_t base : bases) {
    EDDY_RETURN_IF_ERROR(fs->Remove(dir + "/" + format::SegmentFileName(base)));
  }
  EDDY_RETURN_IF_ERROR(fs->Remove(dir + "/" + format::kSealedFileName));
  EDDY_RETURN_IF_ERROR(fs->Remove(dir + "/" + format::kSealedTempFileName));
  EDDY_RETURN_IF_ERROR(fs->Remove(dir + "/" + format::kCheckpointFileName));
  EDDY_RETURN_IF_ERROR(fs->Remove(dir + "/" + format::kCheckpointTempFileName));
  EDDY_RETURN_IF_ERROR(fs->Remove(dir + "/" + format::kLockFileName));
  lock.Reset();
  if (::rmdir(dir.c_str()) != 0 && errno != ENOTEMPTY && errno != EEXIST) {
    return ErrnoStatus("remove directory", dir, errno);
  }
  return Status::OK();
}

Result<std::unique_ptr<ShardLogImpl>> ShardLogImpl::OpenImpl(Options options) {
  if (options.dir.empty()) {
    return Status::InvalidArgument("ShardLog::Options::dir is empty");
  }
  if (options.segment_bytes < 64) {
    return Status::InvalidArgument("ShardLog::Options::segment_bytes < 64");
  }
  if (options.first_sequence == 0) {
    return Status::InvalidArgument("ShardLog::Options::first_sequence is 0");
  }
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) {
    return Status::IOError("create directory " + options.dir + ": " +
                           ec.message());
  }
  FileSystem* fs =
      options.file_system ? options.file_system : FileSystem::Default();
  File lock;
  if (options.lock_directory) {
    EDDY_ASSIGN_OR_RETURN(lock, LockDir(fs, options.dir));
  }
  if (options.file_cache == nullptr) {
    options.file_cache =
        std::make_shared<SegmentFileCache>(options.closed_segment_files);
  }
  std::unique_ptr<ShardLogImpl> log(
      new ShardLogImpl(std::move(options), std::move(lock)));
  EDDY_RETURN_IF_ERROR(log->Recover());
  return log;
}

ShardLogImpl::ShardLogImpl(Options options, File lock_file)
    : options_([&] {
        if (!options.clock_ms) options.clock_ms = SystemClockMs;
        return std::move(options);
      }()),
      logger_(options_.logger ? options_.logger : spdlog::default_logger()),
      fs_(options_.file_system ? options_.file_system : FileSystem::Default()),
      lock_file_(std::move(lock_file)) {}

ShardLogImpl::~ShardLogImpl() {
  Status s = Close();
  if (!s.ok())
    logger_->error("closing shard log {}: {}", options_.dir, s.ToString());
}

std::string ShardLogImpl::SegmentPath(uint64_t base) const {
  return options_.dir + "/" + format::SegmentFileName(base);
}

Status ShardLogImpl::Recover() {
  EDDY_ASSIGN_OR_RETURN(std::vector<uint64_t> bases,
                        ListSegments(options_.dir));
  int64_t sealed_at_ms = 0;
  EDDY_ASSIGN_OR_RETURN(bool sealed, ReadSealMarker(&sealed_at_ms));
  const std::optional<format::Checkpoint> checkpoint = ReadCheckpoint();

  MutexLock lock(&mu_);
  File front_file;  // The oldest closed segment's, while it is read.
  if (bases.empty()) {
    const format::SegmentHeader header{
        format::kCurrentVersion, options_.first_sequence, options_.clock_ms()};
    const uint64_t base = header.base_sequence;
    const std::string path = SegmentPath(base);
    EDDY_ASSIGN_OR_RETURN(File file,
                          CreateSegmentFile(fs_, options_.dir, path, header));
    auto segment = std::make_shared<Segment>(base, path, file_cache().NewId(),
                                             std::move(file));
    segment->header = header;
    segment->scanned = true;
    segment->summary.last_sequence = base - 1;
    segment->summary.end_offset = kSegmentHeaderSize;
    segments_.push_back(std::move(segment));
  } else {
    for (size_t i = 0; i < bases.size(); ++i) {
      const uint64_t base = bases[i];
      const bool last = i + 1 == bases.size();
      const std::string path = SegmentPath(base);
      EDDY_ASSIGN_OR_RETURN(File file,
                            fs_->Open(path, last ? O_RDWR : O_RDONLY, 0));
      if (last) {
        auto segment = std::make_shared<Segment>(
            base, path, file_cache().NewId(), std::move(file));
        EDDY_RETURN_IF_ERROR(RecoverLastSegment(segment.get(), checkpoint));
        segments_.push_back(std::move(segment));
        continue;
      }
      if (base == 0) return Status::Corruption("segment with base 0: " + path);
      EDDY_ASSIGN_OR_RETURN(format::SegmentHeader header,
                            CheckSegmentHeader(fs_, file, path, base));
      EDDY_ASSIGN_OR_RETURN(uint64_t size, fs_->Size(file, path));
      auto segment =
          std::make_shared<Segment>(base, path, file_cache().NewId(), File());
      segment->header = header;
      segment->summary.last_sequence = bases[i + 1] - 1;
      segment->summary.end_offset = size;
      // The oldest one's first record is read below; the others' files are
      // opened again when read.
      if (i == 0) front_file = std::move(file);
      segments_.push_back(std::move(segment));
    }
  }
  const Segment& active = *segments_.back();
  EDDY_RETURN_IF_ERROR(SyncSegment(*active.file, active.path));
  last_written_ = active.summary.last_sequence;
  synced_ = last_written_;
  synced_offset_ = active.summary.end_offset;
  visible_ = last_written_;
  sealed_ = sealed;
  sealed_at_ms_ = sealed_at_ms;

  // The oldest record's timestamp.
  const Segment& front = *segments_.front();
  if (front.scanned) {
    if (!front.summary.empty(front.base)) {
      first_timestamp_ms_ = front.summary.first_timestamp_ms;
    }
  } else {
    RecordScanner scanner(fs_, front_file, front.path, front.header,
                          kSegmentHeaderSize, front.base,
                          front.summary.end_offset, 4096);
    RecordView record;
    const RecordScanner::Outcome outcome = scanner.Next(&record);
    if (outcome == RecordScanner::Outcome::kIOError) return scanner.io_status();
    if (outcome != RecordScanner::Outcome::kRecord ||
        record.sequence != front.base) {
      return Status::Corruption("first record of " + front.path +
                                " is damaged or missing");
    }
    first_timestamp_ms_ = record.timestamp_ms;
  }
  if (sealed_) CloseActiveFileLocked();
  opened_ = true;
  logger_->debug("opened shard log {}: {} segments, sequences {}..{}{}",
                 options_.dir, segments_.size(), segments_.front()->base,
                 last_written_, sealed_ ? " (sealed)" : "");
  return Status::OK();
}

std::optional<format::Checkpoint> ShardLogImpl::ReadCheckpoint() {
  fs_->Remove(options_.dir + "/" + format::kCheckpointTempFileName)
      .IgnoreError();
  const std::string path = options_.dir + "/" + format::kCheckpointFileName;
  if (::access(path.c_str(), F_OK) != 0) return std::nullopt;
  Result<File> file = fs_->Open(path, O_RDONLY, 0);
  if (!file.ok()) return std::nullopt;
  Result<uint64_t> size = fs_->Size(*file, path);
  if (!size.ok() || *size > (64u << 20)) return std::nullopt;
  std::string bytes(static_cast<size_t>(*size), '\0');
  size_t got = 0;
  if (!fs_->Read(*file, path, bytes.data(), bytes.size(), 0, &got).ok() ||
      got != bytes.size()) {
    return std::nullopt;
  }
  std::optional<format::Checkpoint> checkpoint =
      format::DecodeCheckpoint(bytes);
  if (!checkpoint) {
    logger_->warn("{}: damaged checkpoint ignored; scanning the whole segment",
                  path);
  }
  return checkpoint;
}

Status ShardLogImpl::UseCheckpoint(const Segment& segment,
                                   const format::Checkpoint& c,
                                   SegmentSummary* summary) {
  summary->last_sequence = c.last_sequence;
  summary->end_offset = c.end_offset;
  summary->first_timestamp_ms = c.first_timestamp_ms;
  summary->max_timestamp_ms = c.max_timestamp_ms;
  summary->index = c.index;
  if (c.last_sequence < segment.base) {
    if (c.end_offset != kSegmentHeaderSize) {
      return Status::Corruption("an empty checkpoint ends past the header");
    }
    return Status::OK();
  }
  // Check that it describes this file: the records from the last indexed
  // one on are intact, numbered on, and end exactly where it says.
  const uint64_t k = c.index.size() - 1;
  uint64_t expected = segment.base + k * format::kIndexInterval;
  RecordScanner scanner(fs_, *segment.file, segment.path, segment.header,
                        c.index[k], expected, c.end_offset, 64 * 1024);
  RecordView record;
  while (true) {
    const RecordScanner::Outcome outcome = scanner.Next(&record);
    if (outcome == RecordScanner::Outcome::kEnd) break;
    if (outcome == RecordScanner::Outcome::kIOError) return scanner.io_status();
    if (outcome != RecordScanner::Outcome::kRecord ||
        record.sequence != expected) {
      return Status::Corruption("checkpoint does not match " + segment.path +
                                " at offset " +
                                std::to_string(scanner.offset()));
    }
    ++expected;
  }
  if (expected != c.last_sequence + 1) {
    return Status::Corruption("checkpoint does not match " + segment.path);
  }
  return Status::OK();
}

Status ShardLogImpl::RecoverLastSegment(
    Segment* segment, const std::optional<format::Checkpoint>& checkpoint) {
  const std::string& path = segment->path;
  const File& file = *segment->file;
  EDDY_ASSIGN_OR_RETURN(uint64_t size, fs_->Size(file, path));
  if (size < kSegmentHeaderSize) {
    // The crash came while the segment was being created: it holds no
    // records, so writing its header again loses nothing.
    logger_->warn("{}: segment header cut short ({} bytes); rewriting it", path,
                  size);
    segment->header = {format::kCurrentVersion, segment->base,
                       options_.clock_ms()};
    char header[kSegmentHeaderSize];
    format::EncodeSegmentHeader(segment->header, header);
    EDDY_RETURN_IF_ERROR(fs_->Truncate(file, path, 0));
    EDDY_RETURN_IF_ERROR(fs_->Write(file, path, header, sizeof(header), 0));
    size = kSegmentHeaderSize;
  } else {
    EDDY_ASSIGN_OR_RETURN(segment->header,
                          CheckSegmentHeader(fs_, file, path, segment->base));
  }

  // Only what follows the checkpoint (if it matches this segment) is
  // scanned now; the records before it are checked when read, as those of
  // closed segments are.
  SegmentSummary summary;
  bool resumed = false;
  if (checkpoint && checkpoint->base == segment->base &&
      checkpoint->end_offset <= size) {
    Status usable = UseCheckpoint(*segment, *checkpoint, &summary);
    if (usable.ok()) {
      resumed = true;
    } else {
      logger_->warn("{}: checkpoint not used ({}); scanning the whole segment",
                    path, usable.ToString());
    }
  }
  const ScanOutcome scan =
      resumed
          ? ScanSegmentFrom(fs_, file, path, segment->header, size, &summary)
          : ScanSegment(fs_, file, path, segment->header, size, &summary);
  switch (scan.outcome) {
    case RecordScanner::Outcome::kEnd:
    case RecordScanner::Outcome::kRecord:
      break;
    case RecordScanner::Outcome::kIOError:
      return scan.status;
    case RecordScanner::Outcome::kTruncated:
    case RecordScanner::Outcome::kDamaged: {
      // A torn tail has no intact record after it; damage in the middle
      // does (the record after the damaged one).
      EDDY_ASSIGN_OR_RETURN(
          bool more,
          HasValidRecordAfter(fs_, file, path, segment->header, scan.bad_offset,
                              size, summary.last_sequence + 1));
      if (more) {
        return Status::Corruption("damaged record at offset " +
                                  std::to_string(scan.bad_offset) + " of " +
                                  path + ", followed by intact records");
      }
      logger_->warn(
          "{}: dropping a torn record at the tail: {} bytes at offset {} "
          "(after sequence {})",
          path, size - scan.bad_offset, scan.bad_offset, summary.last_sequence);
      EDDY_RETURN_IF_ERROR(fs_->Truncate(file, path, scan.bad_offset));
      break;
    }
  }
  segment->summary = std::move(summary);
  segment->scanned = true;
  return Status::OK();
}

Result<bool> ShardLogImpl::ReadSealMarker(int64_t* sealed_at_ms) {
  const std::string dir = options_.dir;
  fs_->Remove(dir + "/" + format::kSealedTempFileName).IgnoreError();
  const std::string path = dir + "/" + format::kSealedFileName;
  if (::access(path.c_str(), F_OK) != 0) {
    if (errno == ENOENT) return false;
    return ErrnoStatus("access", path, errno);
  }
  EDDY_ASSIGN_OR_RETURN(File file, fs_->Open(path, O_RDONLY, 0));
  char buf[64];
  size_t got = 0;
  EDDY_RETURN_IF_ERROR(fs_->Read(file, path, buf, sizeof(buf), 0, &got));
  // "sealed_at_ms <decimal>\n"; a damaged marker still means sealed.
  const std::string_view text(buf, got);
  const std::string_view key = "sealed_at_ms ";
  *sealed_at_ms = 0;
  if (text.substr(0, key.size()) == key) {
    std::from_chars(text.data() + key.size(), text.data() + text.size(),
                    *sealed_at_ms);
  }
  return true;
}

Status ShardLogImpl::WriteSealMarker(int64_t sealed_at_ms) {
  const std::string tmp = options_.dir + "/" + format::kSealedTempFileName;
  const std::string path = options_.dir + "/" + format::kSealedFileName;
  {
    EDDY_ASSIGN_OR_RETURN(File file,
                          fs_->Open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644));
    const std::string text =
        "sealed_at_ms " + std::to_string(sealed_at_ms) + "\n";
    EDDY_RETURN_IF_ERROR(fs_->Write(file, tmp, text.data(), text.size(), 0));
    EDDY_RETURN_IF_ERROR(fs_->Sync(file, tmp));
  }
  EDDY_RETURN_IF_ERROR(fs_->Rename(tmp, path));
  return fs_->SyncDir(options_.dir);
}

Status ShardLogImpl::SyncSegment(const File& file, const std::string& path) {
  std::function<void()> hook;
  {
    MutexLock lock(&test_mu_);
    hook = test_sync_hook_;
  }
  if (hook) hook();
  test_sync_count_.fetch_add(1);
  return fs_->Sync(file, path);
}

void ShardLogImpl::FailLocked(const Status& status, bool sync_failed) {
  sync_failed_ = sync_failed_ || sync_failed;
  if (!failed_.ok()) return;
  failed_ = status;
  logger_->error(
      "shard log {} failed: {}; appends fail until it is repaired (tried "
      "before each append)",
      options_.dir, status.ToString());
}

Status ShardLogImpl::CheckWritableLocked() const {
  if (closed_) return Status::IOError("shard log is closed: " + options_.dir);
  if (sealed_) {
    return Status::InvalidArgument("shard log is sealed: " + options_.dir);
  }
  return Status::OK();
}

Status ShardLogImpl::RepairLocked() {
  // A group commit's fdatasync runs outside mu_; let it finish first.
  while (sync_in_progress_) sync_cv_.Wait();
  if (failed_.ok()) return Status::OK();
  if (!stray_segment_.empty()) {
    // A roll that failed half way left a segment file after the active one:
    // it must go before anything else is appended.
    EDDY_RETURN_IF_ERROR(fs_->Remove(stray_segment_));
    EDDY_RETURN_IF_ERROR(fs_->SyncDir(options_.dir));
    stray_segment_.clear();
  }
  Segment& active = *segments_.back();
  if (active.file == nullptr) {
    // Sealed: Seal made the newest segment durable and nothing was written
    // to it since; a failed roll's stray segment was all there was to fix.
    logger_->info("shard log {} repaired after: {}", options_.dir,
                  failed_.ToString());
    failed_ = Status::OK();
    sync_failed_ = false;
    return Status::OK();
  }
  const uint64_t end = active.summary.end_offset;
  // Whatever part of a failed write reached the file goes.
  EDDY_RETURN_IF_ERROR(fs_->Truncate(*active.file, active.path, end));
  if (sync_failed_) {
    // After a failed fdatasync the kernel may have dropped the dirty pages'
    // error and marked them clean: a second fdatasync would report success
    // without writing them. So the bytes written since the last good sync
    // are read back (page cache), checked record by record and written
    // again before syncing.
    EDDY_RETURN_IF_ERROR(RewriteUnsyncedLocked(active));
  }
  Status s = SyncSegment(*active.file, active.path);
  if (!s.ok()) {
    sync_failed_ = true;
    failed_ = s;
    return s;
  }
  synced_ = last_written_;
  synced_offset_ = end;
  sync_failed_ = false;
  logger_->info("shard log {} repaired after: {}; appending again",
                options_.dir, failed_.ToString());
  failed_ = Status::OK();
  return Status::OK();
}

Status ShardLogImpl::RewriteUnsyncedLocked(const Segment& active) {
  const uint64_t from = std::max<uint64_t>(synced_offset_, kSegmentHeaderSize);
  const uint64_t to = active.summary.end_offset;
  if (from >= to) return Status::OK();
  // Check first: never make garbage durable.
  uint64_t expected = synced_ + 1;
  RecordScanner scanner(fs_, *active.file, active.path, active.header, from,
                        expected, to, 1u << 20);
  RecordView record;
  while (true) {
    const RecordScanner::Outcome outcome = scanner.Next(&record);
    if (outcome == RecordScanner::Outcome::kEnd) break;
    if (outcome == RecordScanner::Outcome::kIOError) return scanner.io_status();
    if (outcome != RecordScanner::Outcome::kRecord) {
      return Status::Corruption(
          "record at offset " + std::to_string(scanner.offset()) + " of " +
          active.path + " is damaged after a failed fdatasync");
    }
    if (record.sequence != expected) {
      return Status::Corruption(
          "record at offset " + std::to_string(record.offset) + " of " +
          active.path + " has sequence " + std::to_string(record.sequence) +
          ", expected " + std::to_string(expected));
    }
    ++expected;
  }
  if (expected != last_written_ + 1) {
    return Status::Corruption(active.path + " ends at sequence " +
                              std::to_string(expected - 1) + ", expected " +
                              std::to_string(last_written_));
  }
  constexpr size_t kChunk = 1u << 20;
  auto buf = std::make_unique_for_overwrite<char[]>(kChunk);
  for (uint64_t offset = from; offset < to;) {
    const auto n = static_cast<size_t>(std::min<uint64_t>(kChunk, to - offset));
    size_t got = 0;
    EDDY_RETURN_IF_ERROR(
        fs_->Read(*active.file, active.path, buf.get(), n, offset, &got));
    if (got != n) {
      return Status::Corruption(active.path + " is shorter than " +
                                std::to_string(to) + " bytes");
    }
    EDDY_RETURN_IF_ERROR(
        fs_->Write(*active.file, active.path, buf.get(), n, offset));
    offset += n;
  }
  return Status::OK();
}

format::Checkpoint ShardLogImpl::CheckpointOfLocked(const Segment& segment) {
  format::Checkpoint c;
  c.base = segment.base;
  c.end_offset = segment.summary.end_offset;
  c.last_sequence = segment.summary.last_sequence;
  c.first_timestamp_ms = segment.summary.first_timestamp_ms;
  c.max_timestamp_ms = segment.summary.max_timestamp_ms;
  c.index = segment.summary.index;
  return c;
}

Status ShardLogImpl::WriteCheckpoint(const format::Checkpoint& checkpoint) {
  // No fsync: it only covers records that are, and a lost or torn one is
  // ignored at open (a full scan then).
  const std::string tmp = options_.dir + "/" + format::kCheckpointTempFileName;
  const std::string bytes = format::EncodeCheckpoint(checkpoint);
  {
    EDDY_ASSIGN_OR_RETURN(File file,
                          fs_->Open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644));
    EDDY_RETURN_IF_ERROR(fs_->Write(file, tmp, bytes.data(), bytes.size(), 0));
  }
  return fs_->Rename(tmp, options_.dir + "/" + format::kCheckpointFileName);
}

Status ShardLogImpl::Checkpoint() {
  MutexLock checkpoint_lock(&checkpoint_mu_);
  format::Checkpoint checkpoint;
  {
    MutexLock lock(&mu_);
    if (closed_) return Status::IOError("shard log is closed: " + options_.dir);
    const Segment& active = *segments_.back();
    if (active.summary.end_offset == checkpointed_offset_ &&
        active.base == checkpointed_base_) {
      return Status::OK();  // Nothing new.
    }
    checkpoint = CheckpointOfLocked(active);
  }
  // Durable first: a checkpoint only ever covers fsync'ed records.
  EDDY_RETURN_IF_ERROR(Sync(checkpoint.last_sequence));
  EDDY_RETURN_IF_ERROR(WriteCheckpoint(checkpoint));
  MutexLock lock(&mu_);
  checkpointed_base_ = checkpoint.base;
  checkpointed_offset_ = checkpoint.end_offset;
  return Status::OK();
}

Status ShardLogImpl::Repair() {
  mu_.Lock();
  if (closed_) {
    mu_.Unlock();
    return Status::IOError("shard log is closed: " + options_.dir);
  }
  Status s = RepairLocked();
  if (s.ok() && options_.sync_on_append && visible_ < synced_) {
    PublishAndUnlock(synced_);
    return s;
  }
  mu_.Unlock();
  return s;
}

Status ShardLogImpl::RollLocked(int64_t base_timestamp_ms) {
  Segment& old = *segments_.back();
  // The closed segment must be complete on disk before a newer one exists:
  // then only the newest segment can ever have a torn tail. (A sealed log's
  // is: Seal synced it and gave its file back.)
  if (old.file != nullptr) {
    Status s = SyncSegment(*old.file, old.path);
    if (!s.ok()) {
      FailLocked(s, /*sync_failed=*/true);
      return s;
    }
  }
  synced_ = std::max(synced_, last_written_);
  synced_offset_ = old.summary.end_offset;
  const format::SegmentHeader header{format::kCurrentVersion, last_written_ + 1,
                                     base_timestamp_ms};
  const uint64_t base = header.base_sequence;
  const std::string path = SegmentPath(base);
  Result<File> file = CreateSegmentFile(fs_, options_.dir, path, header);
  if (!file.ok()) {
    // The old segment is intact: once the half-made file is gone, the next
    // append tries again.
    Status removed = fs_->Remove(path);
    if (!removed.ok()) {
      stray_segment_ = path;
      FailLocked(removed, /*sync_failed=*/false);
    }
    logger_->error("starting segment {}: {}", path, file.status().ToString());
    return file.status();
  }
  auto segment = std::make_shared<Segment>(base, path, file_cache().NewId(),
                                           std::move(*file));
  segment->header = header;
  segment->scanned = true;
  segment->summary.last_sequence = base - 1;
  segment->summary.end_offset = kSegmentHeaderSize;
  // Its readers come next: the closed segment's file stays open for them,
  // as long as the cache has room.
  if (old.file != nullptr)
    file_cache().Insert(old.cache_id, std::move(old.file));
  segments_.push_back(std::move(segment));
  synced_offset_ = kSegmentHeaderSize;
  if (sealed_) CloseActiveFileLocked();
  return Status::OK();
}

Result<uint64_t> ShardLogImpl::Append(std::string_view payload) {
  return Append(payload, options_.clock_ms());
}

Result<uint64_t> ShardLogImpl::Append(std::string_view payload,
                                      int64_t timestamp_ms) {
  if (payload.size() > format::kMaxPayloadBytes) {
    return Status::InvalidArgument("stream record of " +
                                   std::to_string(payload.size()) +
                                   " bytes exceeds the 64 MiB limit");
  }
  // Build the record outside the lock, its payload after room for the
  // longest header; the header (which depends on the segment it lands in),
  // number and checksum wait.
  const auto payload_size = static_cast<uint32_t>(payload.size());
  const size_t room = kMaxRecordHeaderSize + payload.size();
  thread_local std::string buffer;
  if (buffer.size() < room) buffer.resize(std::max(room, size_t{4096}));
  if (buffer.capacity() > (1u << 20) && room < 4096) {
    buffer = std::string(4096, '\0');  // Do not pin a huge buffer forever.
  }
  char* const payload_at = buffer.data() + kMaxRecordHeaderSize;
  std::memcpy(payload_at, payload.data(), payload.size());

  mu_.Lock();
  Status s = CheckWritableLocked();
  if (s.ok() && !failed_.ok()) s = RepairLocked();
  if (s.ok()) {
    const Segment& active = *segments_.back();
    const size_t size =
        format::RecordHeaderSize(active.header, payload_size, timestamp_ms) +
        payload.size();
    if (!active.summary.empty(active.base) &&
        active.summary.end_offset + size > options_.segment_bytes) {
      s = RollLocked(timestamp_ms);
    }
  }
  if (!s.ok()) {
    mu_.Unlock();
    return s;
  }
  Segment& segment = *segments_.back();
  const uint64_t sequence = last_written_ + 1;
  const uint64_t offset = segment.summary.end_offset;
  const size_t header_size =
      format::RecordHeaderSize(segment.header, payload_size, timestamp_ms);
  const size_t size = header_size + payload.size();
  char* const record = payload_at - header_size;
  format::FinishRecord(segment.header, record, header_size, payload_size,
                       sequence, timestamp_ms);
  s = fs_->Write(*segment.file, segment.path, record, size, offset);
  if (!s.ok()) {
    // The record was not written: its number stays free. Cut off whatever
    // part of it reached the file; if even that fails, the next append
    // repairs the log first.
    Status cut = fs_->Truncate(*segment.file, segment.path, offset);
    if (!cut.ok()) FailLocked(cut, /*sync_failed=*/false);
    mu_.Unlock();
    return s;
  }
  segment.summary.Add(segment.base, sequence, timestamp_ms, offset, size);
  last_written_ = sequence;
  if (sequence == segments_.front()->base) first_timestamp_ms_ = timestamp_ms;
  if (!options_.sync_on_append) {
    PublishAndUnlock(sequence);
    return sequence;
  }
  mu_.Unlock();
  EDDY_RETURN_IF_ERROR(Sync(sequence));
  return sequence;
}

Status ShardLogImpl::Sync(uint64_t sequence) {
  mu_.Lock();
  while (true) {
    sequence = std::min(sequence, last_written_);
    if (synced_ >= sequence) {
      if (options_.sync_on_append && visible_ < synced_) {
        PublishAndUnlock(synced_);
      } else {
        mu_.Unlock();
      }
      return Status::OK();
    }
    if (closed_) {
      mu_.Unlock();
      return Status::IOError("shard log is closed: " + options_.dir);
    }
    if (sync_in_progress_) {
      // A leader's fdatasync is running; it may cover us. Wait for it.
      sync_cv_.Wait();
      continue;
    }
    if (!failed_.ok()) {
      // A failed fdatasync: the repair rewrites and syncs every record
      // written since the last good one, ours included.
      Status s = RepairLocked();
      if (!s.ok()) {
        mu_.Unlock();
        return s;
      }
      continue;
    }
    // Lead one group commit for everything written so far.
    sync_in_progress_ = true;
    const uint64_t target = last_written_;
    const std::shared_ptr<Segment> segment = segments_.back();
    // A roll may hand this segment's file to the cache, which may close it,
    // while the fdatasync runs: the copy keeps the descriptor open until
    // then.
    const std::shared_ptr<const File> file = segment->file;
    const uint64_t target_offset = segment->summary.end_offset;
    mu_.Unlock();
    Status s = SyncSegment(*file, segment->path);
    mu_.Lock();
    sync_in_progress_ = false;
    sync_cv_.SignalAll();
    if (!s.ok()) {
      FailLocked(s, /*sync_failed=*/true);
      mu_.Unlock();
      return s;
    }
    // Older segments were fsync'ed when they were closed.
    synced_ = std::max(synced_, target);
    if (segment == segments_.back()) {
      synced_offset_ = std::max(synced_offset_, target_offset);
    }
  }
}

void ShardLogImpl::PublishAndUnlock(uint64_t visible) {
  if (visible <= visible_) {
    mu_.Unlock();
    return;
  }
  visible_ = visible;
  if (waiters_ > 0) visible_cv_.SignalAll();
  NotifyAndUnlock(visible);
}

void ShardLogImpl::NotifyAndUnlock(uint64_t value) {
  if (!has_subscribers_) {
    mu_.Unlock();
    return;
  }
  // Hand over: the next publisher cannot run its callbacks before ours are
  // done, so callbacks see values in order, while appends may proceed.
  cb_mu_.Lock();
  mu_.Unlock();
  for (const auto& [id, callback] : subscribers_) {
    try {
      callback(value);
    } catch (const std::exception& e) {
      logger_->error("shard log {}: subscriber {} threw: {}", options_.dir, id,
                     e.what());
    } catch (...) {
      logger_->error("shard log {}: subscriber {} threw", options_.dir, id);
    }
  }
  cb_mu_.Unlock();
}

Status ShardLogImpl::EnsureScanned(const std::shared_ptr<Segment>& segment) {
  MutexLock scan_lock(&segment->scan_mu);
  uint64_t limit;
  uint64_t expected_last;
  {
    MutexLock lock(&mu_);
    if (segment->scanned) return Status::OK();
    limit = segment->summary.end_offset;
    expected_last = segment->summary.last_sequence;
  }
  EDDY_ASSIGN_OR_RETURN(std::shared_ptr<const File> file, OpenedFile(segment));
  EDDY_ASSIGN_OR_RETURN(
      const format::SegmentHeader header,
      CheckSegmentHeader(fs_, *file, segment->path, segment->base));
  SegmentSummary summary;
  const ScanOutcome scan =
      ScanSegment(fs_, *file, segment->path, header, limit, &summary);
  if (scan.outcome == RecordScanner::Outcome::kIOError) return scan.status;
  if (scan.outcome != RecordScanner::Outcome::kEnd) {
    return Status::Corruption("damaged record at offset " +
                              std::to_string(scan.bad_offset) + " of " +
                              segment->path);
  }
  if (summary.last_sequence != expected_last) {
    return Status::Corruption(segment->path + " ends at sequence " +
                              std::to_string(summary.last_sequence) +
                              ", but the next segment starts at " +
                              std::to_string(expected_last + 1));
  }
  MutexLock lock(&mu_);
  segment->summary = std::move(summary);
  segment->scanned = true;
  return Status::OK();
}

Result<std::shared_ptr<const File>> ShardLogImpl::OpenedFile(
    const std::shared_ptr<Segment>& segment) {
  {
    MutexLock lock(&mu_);
    if (closed_) return Status::IOError("shard log is closed: " + options_.dir);
    if (segment->file != nullptr) return segment->file;
  }
  Result<std::shared_ptr<const File>> file =
      file_cache().Get(segment->cache_id, fs_, segment->path);
  MutexLock lock(&mu_);
  const bool trimmed = segment->base < segments_.front()->base;
  if (!file.ok()) {
    if (trimmed) {
      return Status::OutOfRange(segment->path +
                                " is trimmed; the oldest retained record is " +
                                std::to_string(segments_.front()->base));
    }
    return file;
  }
  // Trimmed or closed while it was opened: the trim's (or Close's) Erase
  // may have come before the Get cached it. This read keeps its copy; the
  // cache must not keep an unlinked file's space, or a closed log's file.
  if (trimmed || closed_) file_cache().Erase(segment->cache_id);
  return file;
}

void ShardLogImpl::CloseActiveFileLocked() {
  Segment& active = *segments_.back();
  if (active.file != nullptr) {
    file_cache().Insert(active.cache_id, std::move(active.file));
  }
}

Result<ReadResult> ShardLogImpl::Read(uint64_t from_sequence,
                                      size_t max_records, size_t max_bytes) {
  Result<ReadResult> result =
      ReadRecords(from_sequence, max_records, max_bytes);
  if (!result.ok() && result.status().IsCorruption()) {
    // Readers may retry forever (a trigger does); say it once per damage.
    MutexLock lock(&damage_mu_);
    if (result.status().message() != reported_damage_) {
      reported_damage_ = result.status().message();
      logger_->error("shard log {}: {}", options_.dir, reported_damage_);
    }
  }
  return result;
}

Result<ReadResult> ShardLogImpl::ReadRecords(uint64_t from_sequence,
                                             size_t max_records,
                                             size_t max_bytes) {
  ReadResult result;
  result.next_sequence = from_sequence;

  // What to read, taken under the lock: the segments from the one holding
  // from_sequence on, each with the extent it had then.
  struct Part {
    std::shared_ptr<Segment> segment;
    uint64_t end_offset;
    uint64_t last_sequence;
  };
  std::vector<Part> parts;
  uint64_t visible;
  uint64_t start_offset = kSegmentHeaderSize;
  uint64_t start_sequence;
  bool need_index = false;
  {
    MutexLock lock(&mu_);
    if (closed_) return Status::IOError("shard log is closed: " + options_.dir);
    const uint64_t first = segments_.front()->base;
    if (from_sequence < first) {
      return Status::OutOfRange("sequence " + std::to_string(from_sequence) +
                                " is trimmed; the oldest retained is " +
                                std::to_string(first));
    }
    visible = visible_;
    if (from_sequence > visible || max_records == 0) return result;
    auto it =
        std::upper_bound(segments_.begin(), segments_.end(), from_sequence,
                         [](uint64_t seq, const std::shared_ptr<Segment>& s) {
                           return seq < s->base;
                         });
    --it;  // The segment holding from_sequence: it exists, first <= from.
    for (auto p = it; p != segments_.end() && (*p)->base <= visible; ++p) {
      parts.push_back(
          {*p, (*p)->summary.end_offset, (*p)->summary.last_sequence});
    }
    const Segment& first_segment = **it;
    start_sequence = first_segment.base;
    if (from_sequence != first_segment.base) {
      if (first_segment.scanned) {
        const uint64_t k =
            (from_sequence - first_segment.base) / format::kIndexInterval;
        start_offset = first_segment.summary.index[k];
        start_sequence = first_segment.base + k * format::kIndexInterval;
      } else {
        need_index = true;
      }
    }
  }
  if (need_index) {
    const std::shared_ptr<Segment>& segment = parts.front().segment;
    EDDY_RETURN_IF_ERROR(EnsureScanned(segment));
    MutexLock lock(&mu_);
    const uint64_t k = (from_sequence - segment->base) / format::kIndexInterval;
    start_offset = segment->summary.index[k];
    start_sequence = segment->base + k * format::kIndexInterval;
  }

  // Size reads from the average record size of the first segment.
  const Part& head = parts.front();
  const uint64_t head_records = head.last_sequence - head.segment->base + 1;
  const uint64_t average =
      std::max<uint64_t>(1, (head.end_offset - kSegmentHeaderSize) /
                                std::max<uint64_t>(head_records, 1));
  const uint64_t wanted =
      std::min<uint64_t>(max_records, 4096) + format::kIndexInterval;
  const auto chunk = static_cast<size_t>(
      std::clamp<uint64_t>(average * wanted, 4096, 256 * 1024));

  const size_t reserve = std::min<size_t>(
      max_records, static_cast<size_t>(visible - from_sequence + 1));
  result.records.reserve(std::min<size_t>(reserve, 4096));
  size_t bytes = 0;
  uint64_t expected = start_sequence;
  for (size_t i = 0; i < parts.size(); ++i) {
    const Part& part = parts[i];
    const Segment& segment = *part.segment;
    if (expected != segment.base && i > 0) {
      return Status::Corruption("gap before " + segment.path);
    }
    Result<std::shared_ptr<const File>> file = OpenedFile(part.segment);
    if (!file.ok()) {
      // Trimmed since the parts were taken (oldest first): what was read
      // before it is still an answer.
      if (file.status().IsOutOfRange() && !result.records.empty()) {
        return result;
      }
      return file.status();
    }
    RecordScanner scanner(fs_, **file, segment.path, segment.header,
                          i == 0 ? start_offset : kSegmentHeaderSize,
                          i == 0 ? start_sequence : segment.base,
                          part.end_offset, chunk);
    RecordView record;
    while (true) {
      const RecordScanner::Outcome outcome = scanner.Next(&record);
      if (outcome == RecordScanner::Outcome::kEnd) break;
      if (outcome == RecordScanner::Outcome::kIOError) {
        return scanner.io_status();
      }
      if (outcome != RecordScanner::Outcome::kRecord) {
        return Status::Corruption("damaged record at offset " +
                                  std::to_string(scanner.offset()) + " of " +
                                  segment.path);
      }
      if (record.sequence != expected) {
        return Status::Corruption(
            "record at offset " + std::to_string(record.offset) + " of " +
            segment.path + " has sequence " + std::to_string(record.sequence) +
            ", expected " + std::to_string(expected));
      }
      ++expected;
      if (record.sequence < from_sequence) continue;
      if (record.sequence > visible) return result;
      if (!result.records.empty() &&
          bytes + record.payload.size() > max_bytes) {
        return result;
      }
      bytes += record.payload.size();
      result.records.push_back(
          {record.sequence, record.timestamp_ms, std::string(record.payload)});
      result.next_sequence = record.sequence + 1;
      if (result.records.size() >= max_records) return result;
    }
    if (expected - 1 != part.last_sequence) {
      return Status::Corruption(segment.path + " ends at sequence " +
                                std::to_string(expected - 1) + ", expected " +
                                std::to_string(part.last_sequence));
    }
  }
  return result;
}

uint64_t ShardLogImpl::first_sequence() const {
  MutexLock lock(&mu_);
  return segments_.front()->base;
}

uint64_t ShardLogImpl::last_sequence() const {
  MutexLock lock(&mu_);
  return visible_;
}

int64_t ShardLogImpl::first_timestamp_ms() const {
  MutexLock lock(&mu_);
  return visible_ >= segments_.front()->base ? first_timestamp_ms_ : 0;
}

bool ShardLogImpl::sealed() const {
  MutexLock lock(&mu_);
  return sealed_;
}

int64_t ShardLogImpl::sealed_timestamp_ms() const {
  MutexLock lock(&mu_);
  return sealed_ ? sealed_at_ms_ : 0;
}

Status ShardLogImpl::status() const {
  MutexLock lock(&mu_);
  return failed_;
}

void ShardLogImpl::TEST_SetSyncHook(std::function<void()> hook) {
  MutexLock lock(&test_mu_);
  test_sync_hook_ = std::move(hook);
}

uint64_t ShardLogImpl::TEST_LastWritten() const {
  MutexLock lock(&mu_);
  return last_written_;
}

size_t ShardLogImpl::TEST_SegmentCount() const {
  MutexLock lock(&mu_);
  return segments_.size();
}

size_t ShardLogImpl::TEST_OpenSegmentFiles() const {
  MutexLock lock(&mu_);
  return static_cast<size_t>(std::count_if(
      segments_.begin(), segments_.end(),
      [this](const std::shared_ptr<Segment>& s) {
        return s->file != nullptr || file_cache().Contains(s->cache_id);
      }));
}

Status ShardLogImpl::TrimBefore(int64_t timestamp_ms) {
  MutexLock trim_lock(&trim_mu_);
  size_t removed = 0;
  uint64_t first = 0;
  while (true) {
    std::shared_ptr<Segment> front;
    std::shared_ptr<Segment> next;
    {
      MutexLock lock(&mu_);
      if (closed_)
        return Status::IOError("shard log is closed: " + options_.dir);
      if (segments_.size() == 1) {
        // Only the active segment is left. If all of it is older, close it
        // so that it can go too; the new empty segment keeps the numbering.
        const Segment& active = *segments_.back();
        if (active.summary.empty(active.base) ||
            active.summary.max_timestamp_ms >= timestamp_ms || !failed_.ok() ||
            visible_ != last_written_) {
          break;
        }
        EDDY_RETURN_IF_ERROR(RollLocked(options_.clock_ms()));
      }
      front = segments_[0];
      next = segments_[1];
    }
    // Trimming is rare and in the background: reading a closed segment's
    // timestamps once is fine.
    EDDY_RETURN_IF_ERROR(EnsureScanned(front));
    EDDY_RETURN_IF_ERROR(EnsureScanned(next));
    {
      MutexLock lock(&mu_);
      if (front->summary.max_timestamp_ms >= timestamp_ms) break;
      segments_.pop_front();
      first_timestamp_ms_ = next->summary.empty(next->base)
                                ? 0
                                : next->summary.first_timestamp_ms;
      first = next->base;
    }
    // Oldest first, so a crash in between leaves a contiguous log. Readers
    // still holding the segment keep reading the unlinked file (and one
    // that opened it meanwhile takes it out of the cache: OpenedFile).
    EDDY_RETURN_IF_ERROR(fs_->Remove(front->path));
    file_cache().Erase(front->cache_id);
    ++removed;
  }
  if (removed > 0) {
    EDDY_RETURN_IF_ERROR(fs_->SyncDir(options_.dir));
    logger_->info("shard log {}: trimmed {} segments; first sequence now {}",
                  options_.dir, removed, first);
  }
  return Status::OK();
}

Status ShardLogImpl::Seal() {
  mu_.Lock();
  if (closed_) {
    mu_.Unlock();
    return Status::IOError("shard log is closed: " + options_.dir);
  }
  if (sealed_) {
    mu_.Unlock();
    return Status::OK();
  }
  // Make the end of the log durable before recording that it is the end.
  if (Status repaired = RepairLocked(); !repaired.ok()) {
    mu_.Unlock();
    return repaired;
  }
  if (synced_ < last_written_) {
    Status s = SyncSegment(*segments_.back()->file, segments_.back()->path);
    if (!s.ok()) {
      FailLocked(s, /*sync_failed=*/true);
      mu_.Unlock();
      return s;
    }
    synced_ = last_written_;
    synced_offset_ = segments_.back()->summary.end_offset;
  }
  const int64_t now = options_.clock_ms();
  Status s = WriteSealMarker(now);
  if (!s.ok()) {
    mu_.Unlock();
    return s;
  }
  sealed_ = true;
  sealed_at_ms_ = now;
  CloseActiveFileLocked();
  logger_->info("shard log {} sealed at sequence {}", options_.dir,
                last_written_);
  visible_ =
      std::max(visible_, options_.sync_on_append ? synced_ : last_written_);
  visible_cv_.SignalAll();
  NotifyAndUnlock(visible_);
  return Status::OK();
}

uint64_t ShardLogImpl::WaitForRecordsAfter(uint64_t sequence,
                                           std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(&mu_);
  ++waiters_;
  while (visible_ <= sequence && !sealed_ && !closed_) {
    if (!visible_cv_.WaitUntil(deadline)) break;
  }
  --waiters_;
  return visible_;
}

SubscriptionId ShardLogImpl::Subscribe(
    std::function<void(uint64_t last_sequence)> callback) {
  // Taking mu_ first means every append that publishes after this returns
  // sees has_subscribers_.
  MutexLock lock(&mu_);
  MutexLock cb_lock(&cb_mu_);
  const SubscriptionId id = ++next_subscription_id_;
  subscribers_.emplace_back(id, std::move(callback));
  has_subscribers_ = true;
  return id;
}

void ShardLogImpl::Unsubscribe(SubscriptionId id) {
  MutexLock lock(&mu_);
  MutexLock cb_lock(&cb_mu_);
  std::erase_if(subscribers_, [id](const auto& s) { return s.first == id; });
  has_subscribers_ = !subscribers_.empty();
}

Status ShardLogImpl::Close() {
  MutexLock lock(&mu_);
  if (closed_) return Status::OK();
  closed_ = true;
  visible_cv_.SignalAll();
  while (sync_in_progress_) sync_cv_.Wait();
  if (!opened_) {  // Open failed part way: leave the files as they are.
    lock_file_.Reset();
    return Status::OK();
  }
  // A failed log is repaired (its unsynced records written again) if it
  // can be; otherwise what the OS has is what a reopen finds.
  Status s = RepairLocked();
  if (s.ok() && synced_ < last_written_) {
    s = SyncSegment(*segments_.back()->file, segments_.back()->path);
    if (s.ok()) {
      synced_ = last_written_;
    } else {
      FailLocked(s, /*sync_failed=*/true);
    }
  }
  // Everything is durable: the next open need not scan the active segment.
  if (s.ok()) {
    Status written = WriteCheckpoint(CheckpointOfLocked(*segments_.back()));
    if (!written.ok()) {
      logger_->warn("shard log {}: checkpoint not written: {}", options_.dir,
                    written.ToString());
    }
  }
  sync_cv_.SignalAll();
  // A closed log holds no descriptor (readers in progress keep theirs).
  for (const std::shared_ptr<Segment>& segment : segments_) {
    segment->file.reset();
    file_cache().Erase(segment->cache_id);
  }
  lock_file_.Reset();
  return s;
}

Status ShardLogImpl::Destroy() {
  Status s = Close();
  if (!s.ok()) {
    logger_->warn("shard log {}: close before destroy: {}", options_.dir,
                  s.ToString());
  }
  return DestroyLog(options_.dir, fs_);
}

}  // namespace eddy::streams
