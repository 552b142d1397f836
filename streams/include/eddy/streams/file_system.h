// FileSystem: every file operation of the stream logs (segments, markers,
// the STREAM file), behind an interface, so that tests can make any of them
// fail — the Nth write, a write cut short, an fsync, a rename, a read — by
// wrapping the real one (FileSystemWrapper), as leveldb's EnvWrapper does
// for LevelDB. The product uses FileSystem::Default() (POSIX); nothing else
// changes between product and test.
//
// Files are plain descriptors (File); the path travels with each call so
// that errors name the file. Every method returns IOError with
// "<what> <path>: <strerror>" on failure.
//
// Thread-safety: implementations are thread-safe. A File may be used from
// several threads at once (reads and writes take explicit offsets) but must
// not be destroyed while in use.
#ifndef EDDY_STREAMS_FILE_SYSTEM_H_
#define EDDY_STREAMS_FILE_SYSTEM_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "eddy/result.h"
#include "eddy/status.h"

namespace eddy::streams {

// An owned file descriptor, closed on destruction.
class File {
 public:
  File() = default;
  explicit File(int fd) : fd_(fd) {}
  File(File&& other) noexcept : fd_(other.Release()) {}
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File() { Reset(); }

  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void Reset();

 private:
  int fd_ = -1;
};

class FileSystem {
 public:
  FileSystem() = default;
  FileSystem(const FileSystem&) = delete;
  FileSystem& operator=(const FileSystem&) = delete;
  virtual ~FileSystem() = default;

  // The POSIX file system. Never destroyed.
  static FileSystem* Default();

  // open(2) of `path` with `flags` (O_RDONLY, O_RDWR | O_CREAT | O_EXCL,
  // ...; O_CLOEXEC is added).
  virtual Result<File> Open(const std::string& path, int flags,
                            int mode = 0644) = 0;
  // Reads up to n bytes at `offset`, retrying short reads: *got < n only at
  // the end of the file. On error *got holds what was read before it.
  virtual Status Read(const File& file, const std::string& path, char* buf,
                      size_t n, uint64_t offset, size_t* got) = 0;
  // Writes all n bytes at `offset`, retrying short writes and EINTR. On
  // error a prefix of the bytes may have reached the file.
  virtual Status Write(const File& file, const std::string& path,
                       const char* buf, size_t n, uint64_t offset) = 0;
  virtual Result<uint64_t> Size(const File& file, const std::string& path) = 0;
  virtual Status Truncate(const File& file, const std::string& path,
                          uint64_t size) = 0;
  // fdatasync(2). After a failure the written data's fate is unknown, and
  // on Linux a second fsync may report success without writing it again.
  virtual Status Sync(const File& file, const std::string& path) = 0;
  // fsync(2) of a directory: makes creations, renames and removals of its
  // entries durable.
  virtual Status SyncDir(const std::string& dir) = 0;
  // rename(2).
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // unlink(2); OK if `path` does not exist.
  virtual Status Remove(const std::string& path) = 0;
};

// Forwards every call to `target` (not owned). Derive from it to change a
// few operations, as tests do to inject faults.
class FileSystemWrapper : public FileSystem {
 public:
  explicit FileSystemWrapper(FileSystem* target) : target_(target) {}

  FileSystem* target() const { return target_; }

  Result<File> Open(const std::string& path, int flags, int mode) override {
    return target_->Open(path, flags, mode);
  }
  Status Read(const File& file, const std::string& path, char* buf, size_t n,
              uint64_t offset, size_t* got) override {
    return target_->Read(file, path, buf, n, offset, got);
  }
  Status Write(const File& file, const std::string& path, const char* buf,
               size_t n, uint64_t offset) override {
    return target_->Write(file, path, buf, n, offset);
  }
  Result<uint64_t> Size(const File& file, const std::string& path) override {
    return target_->Size(file, path);
  }
  Status Truncate(const File& file, const std::string& path,
                  uint64_t size) override {
    return target_->Truncate(file, path, size);
  }
  Status Sync(const File& file, const std::string& path) override {
    return target_->Sync(file, path);
  }
  Status SyncDir(const std::string& dir) override {
    return target_->SyncDir(dir);
  }
  Status Rename(const std::string& from, const std::string& to) override {
    return target_->Rename(from, to);
  }
  Status Remove(const std::string& path) override {
    return target_->Remove(path);
  }

 private:
  FileSystem* const target_;
};

// Opens `path` through `fs` (creating it) and takes flock(LOCK_EX) on it
// without waiting: held until the File is closed, and by no other open of
// the file, in this process or another (the lock dies with the process,
// kill -9 included). Busy with `in_use` if another holds it.
Result<File> LockFile(FileSystem* fs, const std::string& path,
                      const std::string& in_use);

}  // namespace eddy::streams

#endif  // EDDY_STREAMS_FILE_SYSTEM_H_
