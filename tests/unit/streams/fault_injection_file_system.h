// FaultInjectionFileSystem: a streams::FileSystem for tests that forwards to
// the real one and makes chosen calls fail: the Nth write (optionally after
// writing part of it, as a disk that fills up mid-write does), fsync, rename,
// truncate, read (EIO) ... for one call, several, or until cleared. Model:
// rocksdb utilities/fault_injection_env.h, for the stream logs' file layer
// (include/eddy/streams/file_system.h).
//
// Thread-safety: all methods may be called concurrently.
#ifndef EDDY_TESTS_UNIT_STREAMS_FAULT_INJECTION_FILE_SYSTEM_H_
#define EDDY_TESTS_UNIT_STREAMS_FAULT_INJECTION_FILE_SYSTEM_H_

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "eddy/streams/file_system.h"

namespace eddy::streams {

class FaultInjectionFileSystem : public FileSystemWrapper {
 public:
  enum class Op {
    kOpen,
    kRead,
    kWrite,
    kSize,
    kTruncate,
    kSync,
    kSyncDir,
    kRename,
    kRemove,
    kCount_,
  };

  static constexpr uint64_t kForever = std::numeric_limits<uint64_t>::max();
  static constexpr size_t kNoPartialWrite = std::numeric_limits<size_t>::max();

  struct Fault {
    Op op = Op::kWrite;
    int err = EIO;
    // Let this many matching calls through first: after = 2 fails the 3rd.
    uint64_t after = 0;
    // Then fail this many matching calls (kForever: until Clear()).
    uint64_t times = 1;
    // Only calls on paths containing this count ("" = every path).
    std::string path_contains;
    // kWrite: write this many bytes of the buffer (capped at its size)
    // before failing, as a write cut short by a full disk.
    size_t partial_bytes = kNoPartialWrite;

    // Fault::On(Op::kWrite, ENOSPC).Partial(5).Times(kForever)
    static Fault On(Op op, int err = EIO) {
      Fault f;
      f.op = op;
      f.err = err;
      return f;
    }
    Fault& After(uint64_t n) {
      after = n;
      return *this;
    }
    Fault& Times(uint64_t n) {
      times = n;
      return *this;
    }
    Fault& Forever() { return Times(kForever); }
    Fault& OnPath(std::string part) {
      path_contains = std::move(part);
      return *this;
    }
    Fault& Partial(size_t bytes) {
      partial_bytes = bytes;
      return *this;
    }
  };

  explicit FaultInjectionFileSystem(FileSystem* target = FileSystem::Default())
      : FileSystemWrapper(target) {}

  void Inject(Fault fault) {
    std::lock_guard<std::mutex> lock(mu_);
    faults_.push_back({std::move(fault), 0, 0});
  }
  // Every fault goes; calls succeed again.
  void Clear() {
    std::lock_guard<std::mutex> lock(mu_);
    faults_.clear();
  }
  // Calls of `op` so far, failed ones included.
  uint64_t Calls(Op op) const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_[Index(op)];
  }
  // Calls of `op` failed by a fault so far.
  uint64_t Failures(Op op) const {
    std::lock_guard<std::mutex> lock(mu_);
    return failures_[Index(op)];
  }
  // Bytes successful reads returned.
  uint64_t BytesRead() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bytes_read_;
  }
  // Bytes that reached the target through successful or partial writes.
  uint64_t BytesWritten() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bytes_written_;
  }

  Result<File> Open(const std::string& path, int flags, int mode) override {
    if (std::optional<Fault> f = Hit(Op::kOpen, path))
      return Fail("open", path, *f);
    return target()->Open(path, flags, mode);
  }
  Status Read(const File& file, const std::string& path, char* buf, size_t n,
              uint64_t offset, size_t* got) override {
    if (std::optional<Fault> f = Hit(Op::kRead, path)) {
      *got = 0;
      return Fail("read", path, *f);
    }
    Status s = target()->Read(file, path, buf, n, offset, got);
    if (s.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      bytes_read_ += *got;
    }
    return s;
  }
  Status Write(const File& file, const std::string& path, const char* buf,
               size_t n, uint64_t offset) override {
    if (std::optional<Fault> f = Hit(Op::kWrite, path)) {
      const size_t partial = std::min(f->partial_bytes, n);
      if (f->partial_bytes != kNoPartialWrite && partial > 0) {
        Status s = target()->Write(file, path, buf, partial, offset);
        if (s.ok()) AddWritten(partial);
      }
      return Fail("write", path, *f);
    }
    Status s = target()->Write(file, path, buf, n, offset);
    if (s.ok()) AddWritten(n);
    return s;
  }
  Result<uint64_t> Size(const File& file, const std::string& path) override {
    if (std::optional<Fault> f = Hit(Op::kSize, path))
      return Fail("stat", path, *f);
    return target()->Size(file, path);
  }
  Status Truncate(const File& file, const std::string& path,
                  uint64_t size) override {
    if (std::optional<Fault> f = Hit(Op::kTruncate, path)) {
      return Fail("truncate", path, *f);
    }
    return target()->Truncate(file, path, size);
  }
  Status Sync(const File& file, const std::string& path) override {
    if (std::optional<Fault> f = Hit(Op::kSync, path)) {
      return Fail("fdatasync", path, *f);
    }
    return target()->Sync(file, path);
  }
  Status SyncDir(const std::string& dir) override {
    if (std::optional<Fault> f = Hit(Op::kSyncDir, dir))
      return Fail("fsync", dir, *f);
    return target()->SyncDir(dir);
  }
  Status Rename(const std::string& from, const std::string& to) override {
    if (std::optional<Fault> f = Hit(Op::kRename, from)) {
      return Fail("rename", from, *f);
    }
    return target()->Rename(from, to);
  }
  Status Remove(const std::string& path) override {
    if (std::optional<Fault> f = Hit(Op::kRemove, path)) {
      return Fail("remove", path, *f);
    }
    return target()->Remove(path);
  }

 private:
  struct Armed {
    Fault fault;
    uint64_t seen = 0;    // Matching calls so far.
    uint64_t failed = 0;  // Of which failed.
  };

  static size_t Index(Op op) { return static_cast<size_t>(op); }

  // Counts the call; returns the fault that fails it, if any.
  std::optional<Fault> Hit(Op op, const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    ++calls_[Index(op)];
    for (Armed& armed : faults_) {
      const Fault& f = armed.fault;
      if (f.op != op) continue;
      if (!f.path_contains.empty() &&
          path.find(f.path_contains) == std::string::npos) {
        continue;
      }
      if (armed.seen++ < f.after) continue;
      if (f.times != kForever && armed.failed >= f.times) continue;
      ++armed.failed;
      ++failures_[Index(op)];
      return f;
    }
    return std::nullopt;
  }

  static Status Fail(const char* what, const std::string& path,
                     const Fault& fault) {
    return Status::IOError(std::string(what) + " " + path + ": " +
                           std::strerror(fault.err) + " (injected)");
  }

  void AddWritten(uint64_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    bytes_written_ += n;
  }

  mutable std::mutex mu_;
  std::vector<Armed> faults_;
  std::array<uint64_t, static_cast<size_t>(Op::kCount_)> calls_{};
  std::array<uint64_t, static_cast<size_t>(Op::kCount_)> failures_{};
  uint64_t bytes_written_ = 0;
  uint64_t bytes_read_ = 0;
};

}  // namespace eddy::streams

#endif  // EDDY_TESTS_UNIT_STREAMS_FAULT_INJECTION_FILE_SYSTEM_H_
