#include "posix_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace eddy::streams {

Status ErrnoStatus(std::string_view what, const std::string& path, int err) {
  std::string msg(what);
  msg += ' ';
  msg += path;
  msg += ": ";
  msg += std::strerror(err);
  return Status::IOError(std::move(msg));
}

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    Reset();
    fd_ = other.Release();
  }
  return *this;
}

void File::Reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<File> OpenFile(const std::string& path, int flags, int mode) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  return File(fd);
}

Status PreadFull(int fd, const std::string& path, char* buf, size_t n,
                 uint64_t offset, size_t* got) {
  size_t done = 0;
  while (done < n) {
    const ssize_t r =
        ::pread(fd, buf + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      *got = done;
      return ErrnoStatus("read", path, errno);
    }
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  *got = done;
  return Status::OK();
}

Status PwriteFull(int fd, const std::string& path, const char* buf, size_t n,
                  uint64_t offset) {
  size_t done = 0;
  while (done < n) {
    const ssize_t r =
        ::pwrite(fd, buf + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write", path, errno);
    }
    done += static_cast<size_t>(r);
  }
  return Status::OK();
}

Result<uint64_t> FileSize(int fd, const std::string& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoStatus("stat", path, errno);
  return static_cast<uint64_t>(st.st_size);
}

Status Truncate(int fd, const std::string& path, uint64_t size) {
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    return ErrnoStatus("truncate", path, errno);
  }
  return Status::OK();
}

Status DataSync(int fd, const std::string& path) {
  if (::fdatasync(fd) != 0) return ErrnoStatus("fdatasync", path, errno);
  return Status::OK();
}

Status SyncDir(const std::string& dir) {
  EDDY_ASSIGN_OR_RETURN(File f, OpenFile(dir, O_RDONLY | O_DIRECTORY));
  if (::fsync(f.fd()) != 0) return ErrnoStatus("fsync", dir, errno);
  return Status::OK();
}

}  // namespace eddy::streams
