#include "store_env.h"

#include <endian.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "eddy/store/pacer.h"
#include "eddy/streams/crc32c.h"
#include "table_memory.h"

namespace eddy::store {
namespace {

struct LastRead {
  std::string file;
  uint64_t offset = 0;
  size_t length = 0;
  bool set = false;
};

LastRead& ThreadLastRead() {
  thread_local LastRead last;
  return last;
}

void NoteRead(const std::string& file, uint64_t offset, size_t length) {
  LastRead& last = ThreadLastRead();
  if (last.file != file) last.file = file;
  last.offset = offset;
  last.length = length;
  last.set = true;
}

// Fails every call after the first failure with that failure.
class GuardedWritableFile final : public leveldb::WritableFile {
 public:
  explicit GuardedWritableFile(std::unique_ptr<leveldb::WritableFile> file)
      : file_(std::move(file)) {}

  leveldb::Status Append(const leveldb::Slice& data) override {
    return Guard(file_->Append(data));
  }
  leveldb::Status Close() override {
    leveldb::Status s = file_->Close();
    return failed_.ok() ? s : failed_;
  }
  leveldb::Status Flush() override { return Guard(file_->Flush()); }
  leveldb::Status Sync() override { return Guard(file_->Sync()); }

 private:
  leveldb::Status Guard(leveldb::Status s) {
    // LevelDB serialises the calls on one writable file.
    if (!failed_.ok()) return failed_;
    if (!s.ok()) failed_ = s;
    return s;
  }

  std::unique_ptr<leveldb::WritableFile> file_;
  leveldb::Status failed_;
};

uint32_t UnmaskCrc(uint32_t masked) {
  const uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

uint32_t DecodeLittleEndian32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return le32toh(v);
}

// A table file of `size` bytes whose reads are noted (2.), whose blocks
// are checked (5.) and whose memory is charged while it is open (6.).
class LocatingRandomAccessFile final : public leveldb::RandomAccessFile {
 public:
  LocatingRandomAccessFile(std::string name, uint64_t size,
                           std::unique_ptr<leveldb::RandomAccessFile> file,
                           std::unique_ptr<CacheReservation> charge)
      : name_(std::move(name)),
        size_(size),
        file_(std::move(file)),
        charge_(std::move(charge)) {}

  leveldb::Status Read(uint64_t offset, size_t n, leveldb::Slice* result,
                       char* scratch) const override {
    NoteRead(name_, offset, n);
    leveldb::Status s = file_->Read(offset, n, result, scratch);
    // A short read is LevelDB's to report ("truncated block read").
    if (!s.ok() || result->size() != n || n < kBlockTrailerSize ||
        (n == kTableFooterSize && offset + n == size_)) {
      return s;
    }
    const char* block = result->data();
    const uint32_t stored = UnmaskCrc(DecodeLittleEndian32(block + n - 4));
    if (streams::crc32c::Value(block, n - 4) != stored) {
      return leveldb::Status::Corruption(
          "block checksum mismatch",
          name_ + " at offset " + std::to_string(offset));
    }
    return s;
  }

 private:
  const std::string name_;
  const uint64_t size_;
  std::unique_ptr<leveldb::RandomAccessFile> file_;
  const std::unique_ptr<CacheReservation> charge_;  // May be null.
};

// A table file read with pread(2) into LevelDB's scratch buffer. LevelDB's
// default Env maps up to 1000 table files into memory instead; the page
// cache of every mapped page a read touched then counts in the process's
// resident memory, which so grows with the table (2 GB at 10 million items,
// bench/scale.py). Read this way, the resident memory is what the store is
// configured to hold (block cache, write buffers), and the blocks read go
// through the block cache (LevelDB caches no block a mapped file returned).
class PreadRandomAccessFile final : public leveldb::RandomAccessFile {
 public:
  PreadRandomAccessFile(std::string name, int fd)
      : name_(std::move(name)), fd_(fd) {}
  ~PreadRandomAccessFile() override { ::close(fd_); }

  leveldb::Status Read(uint64_t offset, size_t n, leveldb::Slice* result,
                       char* scratch) const override {
    ssize_t got;
    do {
      got = ::pread(fd_, scratch, n, static_cast<off_t>(offset));
    } while (got < 0 && errno == EINTR);
    if (got < 0) {
      *result = leveldb::Slice(scratch, 0);
      return leveldb::Status::IOError(name_, std::strerror(errno));
    }
    *result = leveldb::Slice(scratch, static_cast<size_t>(got));
    return leveldb::Status::OK();
  }

 private:
  const std::string name_;
  const int fd_;
};

class LocatingSequentialFile final : public leveldb::SequentialFile {
 public:
  LocatingSequentialFile(std::string name,
                         std::unique_ptr<leveldb::SequentialFile> file)
      : name_(std::move(name)), file_(std::move(file)) {}

  leveldb::Status Read(size_t n, leveldb::Slice* result,
                       char* scratch) override {
    NoteRead(name_, offset_, n);
    leveldb::Status s = file_->Read(n, result, scratch);
    if (s.ok()) offset_ += result->size();
    return s;
  }
  leveldb::Status Skip(uint64_t n) override {
    leveldb::Status s = file_->Skip(n);
    if (s.ok()) offset_ += n;
    return s;
  }

 private:
  const std::string name_;
  std::unique_ptr<leveldb::SequentialFile> file_;
  uint64_t offset_ = 0;
};

// Unlinks, on a thread of its own, the files it moved into trash
// directories (store_env.h, 4). Destruction finishes the queue.
class TrashCollector {
 public:
  explicit TrashCollector(leveldb::Env* base) : base_(base) {}
  ~TrashCollector() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

  // Moves `name` into the trash beside it and queues it; false (and the
  // file untouched) if it cannot be moved.
  bool Discard(const std::string& name) {
    const size_t slash = name.rfind('/');
    const std::string dir =
        slash == std::string::npos ? "." : name.substr(0, slash);
    const std::string base =
        slash == std::string::npos ? name : name.substr(slash + 1);
    const std::string trash = dir + "/" + kTrashDirName;
    std::lock_guard<std::mutex> lock(mu_);
    if (!known_.contains(trash)) {
      // Fails if it exists; then what an earlier process left is listed.
      base_->CreateDir(trash);
      std::vector<std::string> left;
      if (!base_->GetChildren(trash, &left).ok()) return false;
      for (const std::string& child : left) {
        if (child == "." || child == "..") continue;
        queue_.push_back(trash + "/" + child);
      }
      known_.insert(trash);
    }
    const std::string to = trash + "/" + base;
    if (!base_->RenameFile(name, to).ok()) return false;
    queue_.push_back(to);
    if (!thread_.joinable()) {
      thread_ = std::thread([this] {
        LowerThreadPriorityForHousekeeping();
        Run();
      });
      pthread_setname_np(thread_.native_handle(), "eddy-trash");
    }
    wake_.notify_one();
    return true;
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // Stopping, and nothing left.
      const std::string path = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      // A failure leaves the file for the next process's first removal.
      base_->RemoveFile(path);
      lock.lock();
    }
  }

  leveldb::Env* const base_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::string> queue_;  // Guarded by mu_.
  std::set<std::string> known_;    // Trash directories listed. Guarded by mu_.
  bool stopping_ = false;          // Guarded by mu_.
  std::thread thread_;
};

class StoreEnv final : public leveldb::EnvWrapper {
 public:
  StoreEnv(leveldb::Env* base, StoreEnvOptions options)
      : leveldb::EnvWrapper(base),
        pread_tables_(options.pread_tables),
        charge_tables_(options.charge_tables) {
    if (options.defer_removals) trash_ = std::make_unique<TrashCollector>(base);
  }

  leveldb::Status RemoveFile(const std::string& name) override {
    if (trash_ != nullptr && trash_->Discard(name)) {
      return leveldb::Status::OK();
    }
    return target()->RemoveFile(name);
  }

  leveldb::Status NewWritableFile(const std::string& name,
                                  leveldb::WritableFile** result) override {
    leveldb::Status s = target()->NewWritableFile(name, result);
    if (s.ok()) {
      *result = new GuardedWritableFile(
          std::unique_ptr<leveldb::WritableFile>(*result));
    }
    return s;
  }
  leveldb::Status NewAppendableFile(const std::string& name,
                                    leveldb::WritableFile** result) override {
    leveldb::Status s = target()->NewAppendableFile(name, result);
    if (s.ok()) {
      *result = new GuardedWritableFile(
          std::unique_ptr<leveldb::WritableFile>(*result));
    }
    return s;
  }
  leveldb::Status NewRandomAccessFile(
      const std::string& name, leveldb::RandomAccessFile** result) override {
    *result = nullptr;
    uint64_t size = 0;
    leveldb::Status s = target()->GetFileSize(name, &size);
    if (!s.ok()) return s;
    std::unique_ptr<leveldb::RandomAccessFile> file;
    if (pread_tables_) {
      int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        return errno == ENOENT
                   ? leveldb::Status::NotFound(name, std::strerror(errno))
                   : leveldb::Status::IOError(name, std::strerror(errno));
      }
      file = std::make_unique<PreadRandomAccessFile>(name, fd);
    } else {
      leveldb::RandomAccessFile* raw = nullptr;
      s = target()->NewRandomAccessFile(name, &raw);
      if (!s.ok()) return s;
      file.reset(raw);
    }
    // LevelDB opens only table files this way; each open charges once. A
    // file that is no table is charged nothing: LevelDB's open fails. A
    // read that fails here fails the open, as LevelDB's own read of the
    // same bytes would; LevelDB keeps no failed open, so the next read
    // opens the table again and charges it.
    std::unique_ptr<CacheReservation> charge;
    if (charge_tables_ != nullptr) {
      std::optional<uint64_t> bytes;
      s = OpenTableHeapBytes(*file, size, &bytes);
      if (!s.ok()) return s;
      if (bytes)
        charge = std::make_unique<CacheReservation>(charge_tables_, *bytes);
    }
    *result = new LocatingRandomAccessFile(name, size, std::move(file),
                                           std::move(charge));
    return leveldb::Status::OK();
  }
  leveldb::Status NewSequentialFile(const std::string& name,
                                    leveldb::SequentialFile** result) override {
    leveldb::Status s = target()->NewSequentialFile(name, result);
    if (s.ok()) {
      *result = new LocatingSequentialFile(
          name, std::unique_ptr<leveldb::SequentialFile>(*result));
    }
    return s;
  }

 private:
  const bool pread_tables_;
  TableMemoryAccount* const charge_tables_;
  std::unique_ptr<TrashCollector> trash_;
};

}  // namespace

std::unique_ptr<leveldb::Env> NewStoreEnv(leveldb::Env* base,
                                          StoreEnvOptions options) {
  return std::make_unique<StoreEnv>(base, options);
}

std::string DescribeLastRead() {
  const LastRead& last = ThreadLastRead();
  if (!last.set) return "";
  return last.file + " at offset " + std::to_string(last.offset) + " (" +
         std::to_string(last.length) + " bytes)";
}

void ClearLastRead() { ThreadLastRead().set = false; }

Status FromLevelDb(const leveldb::Status& s) {
  if (s.IsCorruption()) {
    std::string where = DescribeLastRead();
    std::string message = s.ToString();
    if (!where.empty()) message += " (last read: " + where + ")";
    return Status::Corruption(std::move(message));
  }
  return Status::IOError(s.ToString());
}

}  // namespace eddy::store
