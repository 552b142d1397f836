// The identities of `eddy serve --auth FILE`: who may sign requests (access
// key id and secret) and what each may do (an IAM policy).
//
// The file is JSON:
//   {"identities": [
//      {"name": "admin", "accessKeyId": "AKID...", "secretAccessKey": "...",
//       "sessionToken": "...",              (optional; then required)
//       "policy": {"Version": "2012-10-17", "Statement": [...]}}]}
// Unknown members, duplicate names or keys, and invalid policies are errors
// (the whole file is refused, never half-applied). The file must not be
// accessible to group or others (mode 0600 or stricter): it holds secrets.
//
// IdentityStore keeps the current IdentitySet and replaces it atomically
// when the file changes (it polls the file) or Reload() is called (SIGHUP);
// a file that fails to load leaves the previous set in force.
//
// Thread-safety: IdentityStore's methods may be called from any thread.
// Current() returns a snapshot that stays valid while the caller holds it.
#ifndef EDDY_RUNTIME_AUTH_IDENTITY_STORE_H_
#define EDDY_RUNTIME_AUTH_IDENTITY_STORE_H_

#include <spdlog/logger.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "auth/policy.h"
#include "eddy/result.h"

namespace eddy::runtime::auth {

struct Identity {
  std::string name;
  std::string arn;  // arn:aws:iam::<account>:user/<name>
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // "" when the identity has none.
  Policy policy;
};

class IdentitySet {
 public:
  // Parses the file's text. Users' ARNs name `account_id`; `generation`
  // tells sets apart (caches key on it).
  static Result<std::shared_ptr<const IdentitySet>> Parse(
      std::string_view json, std::string_view account_id, uint64_t generation);

  // Null when no identity has this key.
  const Identity* Find(std::string_view access_key_id) const;
  uint64_t generation() const { return generation_; }
  size_t size() const { return identities_.size(); }
  const std::string& account_id() const { return account_id_; }

 private:
  IdentitySet() = default;
  uint64_t generation_ = 0;
  std::string account_id_;
  std::vector<std::unique_ptr<Identity>> identities_;
  std::unordered_map<std::string_view, const Identity*> by_key_;
};

// Returns an error (with the chmod that fixes it) when `path` is accessible
// to group or others, or is not a regular file.
Status CheckPrivateFile(const std::string& path);

class IdentityStore {
 public:
  struct Options {
    std::string path;
    std::string account_id = "000000000000";  // In users' ARNs.
    // How often the file is checked for changes (mtime, size, inode);
    // 0 disables the watcher thread (Reload() only).
    int poll_interval_ms = 200;
    std::shared_ptr<spdlog::logger> logger;  // Required.
  };

  // Loads the file (errors: unreadable, too permissive, invalid) and starts
  // watching it.
  static Result<std::unique_ptr<IdentityStore>> Open(Options options);
  ~IdentityStore();

  // The identities in force.
  std::shared_ptr<const IdentitySet> Current() const;
  // Cheap check whether Current() changed since `generation`.
  uint64_t generation() const {
    return generation_.load(std::memory_order_acquire);
  }

  // Re-reads the file now. On error the old set stays and the error is
  // returned (and logged).
  Status Reload();

 private:
  explicit IdentityStore(Options options);
  Status LoadLocked();
  void Watch();

  Options options_;
  mutable std::mutex mu_;
  std::shared_ptr<const IdentitySet> current_;  // Guarded by mu_.
  std::atomic<uint64_t> generation_{0};
  struct FileStamp {
    int64_t mtime_ns = 0;
    int64_t size = -1;
    uint64_t inode = 0;
    bool operator==(const FileStamp&) const = default;
  };
  FileStamp stamp_;  // Guarded by mu_: of the last load attempt.
  std::mutex watch_mu_;
  std::condition_variable watch_cv_;
  bool stopping_ = false;  // Guarded by watch_mu_.
  std::thread watcher_;
};

}  // namespace eddy::runtime::auth

#endif  // EDDY_RUNTIME_AUTH_IDENTITY_STORE_H_
