// HandlerDir: the one directory trigger handler libraries load from
// (`eddy serve --handler-dir`, default <data>/handlers), and the rules a
// library there must pass. Loading a library runs its code (constructors
// first), so these rules decide who can run code in the workers: only who
// can write into the directory, i.e. the server's user and root.
//
// The rules, checked on the server when a trigger is created, updated or
// loaded, and again by the worker on the file it is about to load:
//   - a trigger's Handler is a file name or relative path resolved inside
//     the directory, or an absolute path inside it; `..` may not leave it;
//   - after every symlink is resolved, the file is still inside it (a
//     symlink to another file inside is fine, one pointing out is not);
//   - it is a regular file, not writable by group or others, owned by the
//     server's user or root.
// The directory itself must be a directory owned by the server's user or
// root and not writable by group or others.
//
// Time of check to time of use: OpenLibrary() checks the open file (fstat
// of the descriptor, and its real path from /proc/self/fd), not the name, so
// a caller that loads from the returned descriptor loads exactly what was
// checked, however the directory changes in between.
//
// Thread-safety: a value type; const methods may be called concurrently.
#ifndef EDDY_RUNTIME_HANDLER_DIR_H_
#define EDDY_RUNTIME_HANDLER_DIR_H_

#include <sys/types.h>

#include <string>

#include "eddy/result.h"

namespace eddy::runtime {

class HandlerDir {
 public:
  // Checks the directory at `path` (made absolute, symlinks resolved) for
  // the rules above; with `create`, a missing directory is created (0755)
  // first. `owner` is the server's user: libraries must belong to it or to
  // root. InvalidArgument says what is wrong and how to fix it.
  static Result<HandlerDir> Open(const std::string& path, uid_t owner,
                                 bool create);

  // Workers run as this user (eddy serve --worker-user): OpenLibrary also
  // refuses a library that the user may not read.
  void set_reader(uid_t uid, gid_t gid) {
    reader_uid_ = uid;
    reader_gid_ = gid;
    has_reader_ = true;
  }

  // The directory, absolute, with symlinks resolved.
  const std::string& path() const { return path_; }
  uid_t owner() const { return owner_; }

  // The absolute path a trigger's Handler names (lexically normalised;
  // symlinks are OpenLibrary's business). InvalidArgument if it is empty or
  // names a place outside the directory.
  Result<std::string> Resolve(const std::string& handler) const;

  // Opens the library at `path` (as Resolve returns it) read-only with
  // O_CLOEXEC and checks the open file against every rule. Returns the
  // descriptor, which the caller owns and closes. NotFound if there is no
  // such file; InvalidArgument for a broken rule, saying how to fix it;
  // IOError if it cannot be read.
  Result<int> OpenLibrary(const std::string& path) const;

  // Resolve + OpenLibrary, closing the descriptor: the check done when a
  // trigger is created or updated. Returns the resolved path.
  Result<std::string> Check(const std::string& handler) const;

 private:
  HandlerDir(std::string path, std::string given, uid_t owner)
      : path_(std::move(path)), given_(std::move(given)), owner_(owner) {}
  bool Inside(const std::string& path) const;

  std::string path_;   // Canonical.
  std::string given_;  // Absolute as configured (may contain symlinks).
  uid_t owner_;
  bool has_reader_ = false;
  uid_t reader_uid_ = 0;
  gid_t reader_gid_ = 0;
};

}  // namespace eddy::runtime

#endif  // EDDY_RUNTIME_HANDLER_DIR_H_
