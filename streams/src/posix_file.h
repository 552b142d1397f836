// Thin POSIX file helpers that turn errno into eddy::Status.
//
// Thread-safety: free functions; a File may be used from several threads
// (pread/pwrite take explicit offsets) but not closed while in use.
#ifndef EDDY_STREAMS_SRC_POSIX_FILE_H_
#define EDDY_STREAMS_SRC_POSIX_FILE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "eddy/result.h"
#include "eddy/status.h"

namespace eddy::streams {

// "<what> <path>: <strerror(err)>" as IOError.
Status ErrnoStatus(std::string_view what, const std::string& path, int err);

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

// open(2) with O_CLOEXEC added.
Result<File> OpenFile(const std::string& path, int flags, int mode = 0644);

// Reads up to n bytes at offset, retrying short reads; *got < n only at end
// of file.
Status PreadFull(int fd, const std::string& path, char* buf, size_t n,
                 uint64_t offset, size_t* got);
// Writes all n bytes at offset, retrying short writes and EINTR.
Status PwriteFull(int fd, const std::string& path, const char* buf, size_t n,
                  uint64_t offset);
Result<uint64_t> FileSize(int fd, const std::string& path);
Status Truncate(int fd, const std::string& path, uint64_t size);
Status DataSync(int fd, const std::string& path);
// Fsyncs a directory, making file creations, renames and deletions in it
// durable.
Status SyncDir(const std::string& dir);

}  // namespace eddy::streams

#endif  // EDDY_STREAMS_SRC_POSIX_FILE_H_
