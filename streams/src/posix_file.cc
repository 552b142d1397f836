#include "posix_file.h"

#include <fcntl.h>
#include <sys/file.h>
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

namespace {

class PosixFileSystem final : public FileSystem {
 public:
  Result<File> Open(const std::string& path, int flags, int mode) override {
    int fd;
    do {
      fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    return File(fd);
  }

  Status Read(const File& file, const std::string& path, char* buf, size_t n,
              uint64_t offset, size_t* got) override {
    size_t done = 0;
    while (done < n) {
      const ssize_t r = ::pread(file.fd(), buf + done, n - done,
                                static_cast<off_t>(offset + done));
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

  Status Write(const File& file, const std::string& path, const char* buf,
               size_t n, uint64_t offset) override {
    size_t done = 0;
    while (done < n) {
      const ssize_t r = ::pwrite(file.fd(), buf + done, n - done,
                                 static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("write", path, errno);
      }
      done += static_cast<size_t>(r);
    }
    return Status::OK();
  }

  Result<uint64_t> Size(const File& file, const std::string& path) override {
    struct stat st;
    if (::fstat(file.fd(), &st) != 0) return ErrnoStatus("stat", path, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Status Truncate(const File& file, const std::string& path,
                  uint64_t size) override {
    if (::ftruncate(file.fd(), static_cast<off_t>(size)) != 0) {
      return ErrnoStatus("truncate", path, errno);
    }
    return Status::OK();
  }

  Status Sync(const File& file, const std::string& path) override {
    if (::fdatasync(file.fd()) != 0) {
      return ErrnoStatus("fdatasync", path, errno);
    }
    return Status::OK();
  }

  Status SyncDir(const std::string& dir) override {
    EDDY_ASSIGN_OR_RETURN(File f, Open(dir, O_RDONLY | O_DIRECTORY, 0));
    if (::fsync(f.fd()) != 0) return ErrnoStatus("fsync", dir, errno);
    return Status::OK();
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return ErrnoStatus("rename", from, errno);
    }
    return Status::OK();
  }

  Status Remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return ErrnoStatus("remove", path, errno);
    }
    return Status::OK();
  }
};

}  // namespace

FileSystem* FileSystem::Default() {
  static auto* const fs = new PosixFileSystem();
  return fs;
}

Result<File> LockFile(FileSystem* fs, const std::string& path,
                      const std::string& in_use) {
  EDDY_ASSIGN_OR_RETURN(File file, fs->Open(path, O_RDWR | O_CREAT, 0644));
  if (::flock(file.fd(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return Status::Busy(in_use);
    return ErrnoStatus("lock", path, errno);
  }
  return file;
}

}  // namespace eddy::streams
