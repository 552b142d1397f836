// audit: appends every change of the tables it watches to a tamper-evident
// log, one JSON line per change, each entry chained to the previous one by
// its SHA-256 hash (format: audit_entry.h). Check it with
// `eddy-audit verify LOG`.
//
// Where: $EDDY_AUDIT_LOG (given to the trigger: `eddy trigger create --env
// EDDY_AUDIT_LOG=/path/audit.jsonl`), else audit.jsonl in the server's
// working directory (which the workers that run handlers inherit). One log can serve many triggers: every writer takes an
// exclusive flock() on the file, reads what others appended since its last
// look, appends its entries in one write and fdatasync()s before the batch
// succeeds, so the checkpoint only moves past records that are on disk.
//
// At-least-once delivery: a batch may come again (a retry after a worker
// crash or timeout, a server restart before the checkpoint was saved, a
// second trigger on the same table). The log itself says how far each shard
// got: a record whose sequence number is not after the last one logged for
// its shard is skipped. This needs the records of a shard in order, so keep
// the trigger's --parallelization at 1 (the default).
//
// A writer killed in the middle of its write leaves a last line without a
// newline. Nobody else writes while the lock is held, so the next writer
// cuts that torn line off before it appends (its batch was not
// acknowledged and comes again).
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

#include "audit_entry.h"
#include "eddy/functions/handler.h"

using namespace eddy::handler;

namespace {

namespace audit = eddy::audit;

class AuditLogError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] void Fail(const std::string& what) {
  throw AuditLogError(what + ": " + std::strerror(errno));
}

// {"name":<DynamoDB JSON>,...}, as Keys/NewImage/OldImage in a stream record.
void AppendAttributes(const attribute_value& map, std::string& out) {
  out += '{';
  bool first = true;
  for (const attribute a : map.as_map()) {
    if (!first) out += ',';
    first = false;
    out += audit::JsonQuote(a.name);
    out += ':';
    a.value.append_json(out);
  }
  out += '}';
}

// The entry body for `r` (audit_entry.h), without its closing brace.
std::string EntryBody(uint64_t entry, const std::string& prev,
                      std::string_view shard, const record& r) {
  std::string out = "{\"entry\":" + std::to_string(entry);
  out += ",\"prev\":\"" + prev + "\"";
  out +=
      ",\"time\":\"" + audit::IsoTime(r.approximate_creation_time_ms()) + "\"";
  int64_t seconds = r.approximate_creation_time_ms() / 1000;
  if (r.approximate_creation_time_ms() % 1000 < 0) --seconds;
  out += ",\"approximateCreationDateTime\":" + std::to_string(seconds);
  out += ",\"sequenceNumber\":" + audit::JsonQuote(r.sequence_number());
  out += ",\"shard\":" + audit::JsonQuote(shard);
  out += ",\"table\":" + audit::JsonQuote(r.table_name());
  out += ",\"eventName\":" + audit::JsonQuote(r.event_name());
  if (r.is_ttl_delete()) {
    out +=
        ",\"who\":\"dynamodb.amazonaws.com\",\"userIdentity\":"
        "{\"type\":\"Service\",\"principalId\":\"dynamodb.amazonaws.com\"}";
  } else {
    // Eddy's records carry no principal (nor do DynamoDB's, except TTL).
    out += ",\"who\":\"unknown\"";
  }
  out += ",\"keys\":";
  AppendAttributes(r.keys(), out);
  if (const auto image = r.old_image()) {
    out += ",\"oldImage\":";
    AppendAttributes(*image, out);
  }
  if (const auto image = r.new_image()) {
    out += ",\"newImage\":";
    AppendAttributes(*image, out);
  }
  return out;
}

// The log file, and what this process knows of it: the chain's head and
// the last sequence number logged per shard, as of byte offset_.
class AuditLog {
 public:
  explicit AuditLog(std::string path) : path_(std::move(path)) {}
  ~AuditLog() { Close(); }

  const std::string& path() const { return path_; }

  // Appends an entry for each record of `request` not logged yet, durably.
  // Sets *appended and *skipped. Throws AuditLogError.
  void Append(const invocation_request& request, size_t* appended,
              size_t* skipped) {
    OpenAndLock();
    struct Unlock {
      int fd;
      ~Unlock() { ::flock(fd, LOCK_UN); }
    } unlock{fd_};
    try {
      CatchUp();
      std::string lines;
      *appended = *skipped = 0;
      const std::string shard(request.shard_id());
      for (const record r : request.records()) {
        const std::string_view sequence = r.sequence_number();
        auto last = last_sequence_.find(shard);
        if (last != last_sequence_.end() &&
            !audit::SequenceBefore(last->second, sequence)) {
          ++*skipped;  // Logged by an earlier delivery.
          continue;
        }
        std::string hash;
        lines +=
            audit::SealEntry(EntryBody(entries_ + 1, head_, shard, r), &hash);
        lines += '\n';
        ++entries_;
        head_ = std::move(hash);
        last_sequence_[shard] = std::string(sequence);
        ++*appended;
      }
      WriteAll(lines);
      // Also when everything was skipped: the entries this batch relies on
      // may be those of an attempt that failed before its fdatasync.
      if (::fdatasync(fd_) != 0) Fail("fdatasync " + path_);
      offset_ += lines.size();
    } catch (...) {
      Forget();  // Read the file again next time.
      throw;
    }
  }

 private:
  // Opens the file (again, if it was renamed or removed) and takes the
  // exclusive lock.
  void OpenAndLock() {
    for (;;) {
      if (fd_ < 0) {
        fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC,
                     0644);
        if (fd_ < 0) Fail("open " + path_);
        Forget();
        SyncDirectory();
      }
      if (::flock(fd_, LOCK_EX) != 0) Fail("flock " + path_);
      struct stat by_fd;
      struct stat by_path;
      if (::fstat(fd_, &by_fd) != 0) Fail("fstat " + path_);
      if (::stat(path_.c_str(), &by_path) == 0 &&
          by_path.st_dev == by_fd.st_dev && by_path.st_ino == by_fd.st_ino) {
        return;
      }
      Close();  // Rotated away under us: start a new file.
    }
  }

  // Reads the entries appended since offset_ (all of them after Forget()).
  void CatchUp() {
    struct stat st;
    if (::fstat(fd_, &st) != 0) Fail("fstat " + path_);
    const auto size = static_cast<uint64_t>(st.st_size);
    if (size < offset_) Forget();  // Truncated by someone: start over.
    std::string data(size - offset_, '\0');
    size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = ::pread(fd_, data.data() + done, data.size() - done,
                                static_cast<off_t>(offset_ + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) Fail("read " + path_);
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    data.resize(done);
    size_t start = 0;
    for (size_t end; (end = data.find('\n', start)) != std::string::npos;
         start = end + 1) {
      Learn(std::string_view(data).substr(start, end - start));
    }
    offset_ += start;
    if (start < data.size()) {
      log_warn("audit log " + path_ + ": cutting off an incomplete last " +
               "entry (" + std::to_string(data.size() - start) +
               " bytes) left by an interrupted write");
      if (::ftruncate(fd_, static_cast<off_t>(offset_)) != 0) {
        Fail("ftruncate " + path_);
      }
    }
  }

  // Takes the head and the shard position from one complete line.
  void Learn(std::string_view line) {
    audit::EntryHeader header;
    std::string error;
    if (!audit::ParseEntry(line, &header, &error)) {
      throw AuditLogError(
          "audit log " + path_ + ": entry " + std::to_string(entries_ + 1) +
          " is not an audit entry (" + error + "); run eddy-audit verify");
    }
    ++entries_;
    head_ = header.hash;
    std::string& last = last_sequence_[header.shard];
    if (last.empty() || audit::SequenceBefore(last, header.sequence_number)) {
      last = header.sequence_number;
    }
  }

  void WriteAll(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) Fail("write " + path_);
      data.remove_prefix(static_cast<size_t>(n));
    }
  }

  // Makes a newly created file's name durable.
  void SyncDirectory() {
    const std::string dir = std::filesystem::path(path_).parent_path().string();
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;  // Best effort.
    (void)::fsync(fd);   // Ignored on purpose: best effort.
    ::close(fd);
  }

  void Forget() {
    offset_ = 0;
    entries_ = 0;
    head_ = std::string(audit::kGenesisHash);
    last_sequence_.clear();
  }

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  const std::string path_;
  int fd_ = -1;
  uint64_t offset_ = 0;   // Bytes of the file read into the fields below.
  uint64_t entries_ = 0;  // Entries in those bytes.
  std::string head_ = std::string(audit::kGenesisHash);
  std::map<std::string, std::string> last_sequence_;  // By shard.
};

AuditLog* g_log = nullptr;

void Init() {
  const char* configured = std::getenv("EDDY_AUDIT_LOG");
  const std::string path =
      std::filesystem::absolute(configured != nullptr && *configured != '\0'
                                    ? configured
                                    : "audit.jsonl")
          .lexically_normal()
          .string();
  static AuditLog instance(path);
  g_log = &instance;
  log_info("audit log: " + path);
}

invocation_response Handle(const invocation_request& request) {
  size_t appended = 0;
  size_t skipped = 0;
  try {
    g_log->Append(request, &appended, &skipped);
  } catch (const AuditLogError& e) {
    return invocation_response::failure(e.what(), "AuditLogError");
  }
  if (skipped != 0) {
    log_info("skipped " + std::to_string(skipped) +
             (skipped == 1 ? " record" : " records") +
             " already in the audit log");
  }
  return invocation_response::success();
}

}  // namespace

EDDY_HANDLER_WITH_INIT(Init, Handle)
