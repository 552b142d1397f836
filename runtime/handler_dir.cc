#include "handler_dir.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace eddy::runtime {
namespace {

namespace fs = std::filesystem;

std::string Mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof(text), "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

const char* Kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a named pipe";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "not a regular file";
}

bool TrustedOwner(uid_t uid, uid_t owner) { return uid == owner || uid == 0; }

// The canonical path of `path` (symlinks resolved), or "" if it has none.
std::string RealPath(const std::string& path) {
  char* real = ::realpath(path.c_str(), nullptr);
  if (real == nullptr) return "";
  std::string out(real);
  std::free(real);
  return out;
}

// What an open descriptor really names (the kernel's path of its dentry).
std::string FdPath(int fd) {
  char buf[PATH_MAX + 1];
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = ::readlink(link.c_str(), buf, PATH_MAX);
  if (n <= 0) return "";
  return std::string(buf, static_cast<size_t>(n));
}

bool Under(const std::string& dir, const std::string& path) {
  if (dir == "/") return path.size() > 1 && path[0] == '/';
  return path.size() > dir.size() + 1 &&
         path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}

}  // namespace

Result<HandlerDir> HandlerDir::Open(const std::string& path, uid_t owner,
                                    bool create) {
  if (path.empty()) {
    return Status::InvalidArgument("the handler directory may not be empty");
  }
  std::error_code ec;
  const fs::path absolute = fs::absolute(path, ec).lexically_normal();
  if (ec) {
    return Status::InvalidArgument("handler directory " + path + ": " +
                                   ec.message());
  }
  std::string given = absolute.string();
  while (given.size() > 1 && given.back() == '/') given.pop_back();
  if (create) {
    fs::create_directories(absolute.parent_path(), ec);
    if (::mkdir(given.c_str(), 0755) != 0 && errno != EEXIST) {
      return Status::InvalidArgument("cannot create the handler directory " +
                                     given + ": " + std::strerror(errno));
    }
  }
  const std::string real = RealPath(given);
  struct stat st {};
  if (real.empty() || ::stat(real.c_str(), &st) != 0) {
    return Status::InvalidArgument("the handler directory " + given +
                                   " does not exist: create it, or pass "
                                   "another with --handler-dir");
  }
  if (!S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument("the handler directory " + given +
                                   " is not a directory: pass a directory "
                                   "with --handler-dir");
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return Status::InvalidArgument(
        "the handler directory " + real + " is writable by group or others "
        "(mode " + Mode(st.st_mode) + "): whoever can write there can make "
        "the server run their code. Fix: chmod go-w " + real);
  }
  if (!TrustedOwner(st.st_uid, owner)) {
    return Status::InvalidArgument(
        "the handler directory " + real + " belongs to uid " +
        std::to_string(st.st_uid) + ", not to the server's user (uid " +
        std::to_string(owner) + ") or root: its owner could make the server "
        "run their code. Fix: chown " + std::to_string(owner) + " " + real +
        ", or pass another directory with --handler-dir");
  }
  return HandlerDir(real, given, owner);
}

bool HandlerDir::Inside(const std::string& path) const {
  return Under(path_, path);
}

Result<std::string> HandlerDir::Resolve(const std::string& handler) const {
  if (handler.empty()) return Status::InvalidArgument("Handler is required");
  if (handler.find('\0') != std::string::npos) {
    return Status::InvalidArgument("Handler may not contain a NUL character");
  }
  const fs::path given(handler);
  std::string resolved;
  if (given.is_absolute()) {
    const std::string normal = given.lexically_normal().string();
    if (Under(path_, normal)) {
      resolved = normal;
    } else if (Under(given_, normal)) {
      // The directory as configured, before its symlinks were resolved.
      resolved = path_ + normal.substr(given_ == "/" ? 0 : given_.size());
    }
  } else {
    resolved = (fs::path(path_) / given).lexically_normal().string();
    if (!Inside(resolved)) resolved.clear();
  }
  if (resolved.empty()) {
    return Status::InvalidArgument(
        "Handler '" + handler + "' is outside the handler directory " +
        path_ + ": the server loads handler libraries only from there. "
        "Copy the library into " + path_ + " and pass its file name "
        "(the directory is eddy serve --handler-dir)");
  }
  return resolved;
}

Result<int> HandlerDir::OpenLibrary(const std::string& path) const {
  const std::string fix_outside =
      ": the server loads handler libraries only from " + path_ +
      ". Copy the library itself into " + path_;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      struct stat link {};
      if (::lstat(path.c_str(), &link) == 0 && S_ISLNK(link.st_mode)) {
        return Status::NotFound("Handler library " + path +
                                " is a symbolic link to nothing: put the "
                                "library itself in " + path_);
      }
      return Status::NotFound("Handler library not found: " + path +
                              ". Handler names are resolved in the handler "
                              "directory " + path_ +
                              ": copy the library there and pass its file "
                              "name");
    }
    return Status::IOError("cannot stat handler library " + path + ": " +
                           std::strerror(err));
  }
  // The name's verdict first, for the clearest message; the descriptor's
  // below is the one that counts.
  const std::string real = RealPath(path);
  if (!real.empty() && !Inside(real)) {
    return Status::InvalidArgument("Handler library " + path + " leads to " +
                                   real + ", outside the handler directory" +
                                   fix_outside);
  }
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument("Handler library " + path + " is " +
                                   Kind(st.st_mode) +
                                   ", not a regular file: name a shared "
                                   "library file in " + path_);
  }
  // O_NONBLOCK: a FIFO swapped in after the stat must not block the open.
  const int fd =
      ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) {
      return Status::NotFound("Handler library not found: " + path);
    }
    return Status::IOError("cannot open handler library " + path + ": " +
                           std::strerror(err));
  }
  auto refuse = [fd](Status status) -> Result<int> {
    ::close(fd);
    return status;
  };
  if (::fstat(fd, &st) != 0) {
    return refuse(Status::IOError("cannot stat handler library " + path +
                                  ": " + std::strerror(errno)));
  }
  const std::string opened = FdPath(fd);
  if (opened.empty() || !Inside(opened)) {
    return refuse(Status::InvalidArgument(
        "Handler library " + path + " leads to " +
        (opened.empty() ? std::string("an unknown place") : opened) +
        ", outside the handler directory" + fix_outside));
  }
  if (!S_ISREG(st.st_mode)) {
    return refuse(Status::InvalidArgument(
        "Handler library " + path + " is " + Kind(st.st_mode) +
        ", not a regular file: name a shared library file in " + path_));
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return refuse(Status::InvalidArgument(
        "Handler library " + path + " is writable by group or others (mode " +
        Mode(st.st_mode) +
        "): whoever can write it could run code in the server's workers. "
        "Fix: chmod go-w " + path));
  }
  if (!TrustedOwner(st.st_uid, owner_)) {
    return refuse(Status::InvalidArgument(
        "Handler library " + path + " belongs to uid " +
        std::to_string(st.st_uid) + ", not to the server's user (uid " +
        std::to_string(owner_) +
        ") or root: its owner could change the code the workers run. Fix: "
        "copy it into " + path_ + " as the server's user, or chown " +
        std::to_string(owner_) + " " + path));
  }
  if (has_reader_ && reader_uid_ != 0) {
    const mode_t bit = st.st_uid == reader_uid_   ? S_IRUSR
                       : st.st_gid == reader_gid_ ? S_IRGRP
                                                  : S_IROTH;
    if ((st.st_mode & bit) == 0) {
      return refuse(Status::InvalidArgument(
          "Handler library " + path + " is not readable by the worker user "
          "(uid " + std::to_string(reader_uid_) + "; mode " +
          Mode(st.st_mode) + "). Fix: chmod o+r " + path));
    }
  }
  ::fcntl(fd, F_SETFL, 0);  // Back to blocking reads.
  return fd;
}

Result<std::string> HandlerDir::Check(const std::string& handler) const {
  EDDY_ASSIGN_OR_RETURN(std::string path, Resolve(handler));
  EDDY_ASSIGN_OR_RETURN(int fd, OpenLibrary(path));
  ::close(fd);
  return path;
}

}  // namespace eddy::runtime
