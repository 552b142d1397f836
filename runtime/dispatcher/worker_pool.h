// WorkerPool: spawns and supervises eddy-worker processes and runs
// invocations on them over ZeroMQ (worker.proto describes the messages).
//
// One supervisor thread owns a ROUTER socket bound to Options::endpoint and
// polls, without any polling interval, on: the socket, an eventfd that
// callers ring when they queue work, and a pidfd per worker process (readable
// when it exits). Workers belong to groups (one per trigger), each with its
// own limits: a group runs at most max_workers processes, started on demand
// with fork/exec, RLIMIT_AS = memory_bytes and PR_SET_PDEATHSIG = SIGKILL (a
// SIGKILLed server leaves no workers behind).
//
// The sandbox of a worker process, set up between fork and exec:
//   - PR_SET_NO_NEW_PRIVS: neither the worker nor anything it executes can
//     gain privileges (setuid binaries, file capabilities);
//   - only descriptors 0 (/dev/null), 1 and 2 (the server's stdout and
//     stderr, or Options::log_fd, for logs) stay open; everything else the
//     server holds (data files, client sockets, the listening socket) is
//     closed;
//   - RLIMIT_CORE 0, RLIMIT_NOFILE Options::max_open_files, RLIMIT_AS the
//     group's memory_bytes;
//   - with Options::worker_user, the user's uid and gid and no
//     supplementary groups (setgroups, setresgid, setresuid).
// The environment is the group's (WorkerGroupLimits::environment) and
// nothing else: the server's may hold secrets.
//
// Failure handling (DESIGN.md invariant 5: user code never takes the server
// down). Each of these completes the invocation with a FAILURE result, never
// an error Status, and the process is replaced on the next demand:
//   - the worker exits or is killed during an invocation (crash, abort,
//     memory limit): error_type "Runtime.ExitError";
//   - the invocation outlives its timeout: the worker is SIGKILLed,
//     error_type "Runtime.Timeout", "Task timed out after N seconds";
//   - a worker of the group exits before it is ready (e.g. exec fails) while
//     invocations wait: the oldest fails with "Runtime.ExitError".
//
// Thread-safety: Invoke, RetireGroup and stats may be called from any
// thread, concurrently; Invoke blocks its caller until the outcome.
#ifndef EDDY_RUNTIME_DISPATCHER_WORKER_POOL_H_
#define EDDY_RUNTIME_DISPATCHER_WORKER_POOL_H_

#include <spdlog/logger.h>

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "eddy/result.h"
#include "eddy/worker.pb.h"

namespace eddy::runtime::dispatcher {

struct WorkerGroupLimits {
  size_t max_workers = 1;
  uint64_t memory_bytes = 512ull << 20;  // RLIMIT_AS of each process.
  // The whole environment of each process, "NAME=value" strings (see
  // WorkerEnvironment in trigger_config.h); null: an empty one. Nothing is
  // inherited. Shared: every invocation carries the group's limits.
  std::shared_ptr<const std::vector<std::string>> environment;
};

class WorkerPool {
 public:
  struct Options {
    // Where the ROUTER binds: "ipc:///path/workers.sock" or "tcp://...".
    // "": ipc:// in a private directory of the pool's (under $TMPDIR or
    // /tmp, mode 0700, owned by the worker user if any, removed by Stop),
    // which the worker user reaches whatever the data directory's
    // permissions, and other users do not.
    std::string endpoint;
    std::string worker_binary;  // Path of eddy-worker.
    std::string worker_log_level = "info";
    // Where workers load handler libraries from (HandlerDir::path()) and
    // whose files they trust (besides root's): given to each worker.
    std::string handler_dir;
    uid_t handler_owner = 0;
    // Run workers as this user (a name, or a numeric uid); "" keeps the
    // server's. Start fails if the server cannot switch to it or the user
    // cannot reach the worker binary, the handler directory or the socket.
    std::string worker_user;
    // Directories the worker user should not reach (the data directory):
    // Start warns, with the fix, about each it can enter.
    std::vector<std::string> private_paths;
    uint64_t max_open_files = 1024;  // RLIMIT_NOFILE (as Lambda's).
    // The workers' stdout and stderr (their logs, handlers' lines
    // included); -1: the server's own. Not owned; must stay open while the
    // pool runs (`eddy trigger invoke` collects a handler's log this way).
    int log_fd = -1;
    std::shared_ptr<spdlog::logger> logger;
  };

  struct Stats {
    uint64_t spawned = 0;
    uint64_t exits = 0;     // Processes that ended for any reason.
    uint64_t crashes = 0;   // Ended during an invocation.
    uint64_t timeouts = 0;  // Killed for outliving a timeout.
    uint64_t live = 0;
  };

  // Binds the socket and starts the supervisor thread. IOError if the
  // endpoint cannot be bound; InvalidArgument, saying how to fix it, if the
  // worker user cannot be used. A missing worker binary is logged, and each
  // invocation then fails as a worker that could not start.
  static Result<std::unique_ptr<WorkerPool>> Start(Options options);

  // Calls Stop().
  ~WorkerPool();

  // Fails waiting invocations (Busy), asks idle workers to exit, kills the
  // others and reaps them all. Idempotent.
  void Stop();

  // Runs `batch` on a worker of `group` (started if needed) and waits for
  // the outcome. Errors: Busy once the pool is stopping (the invocation did
  // not happen or its outcome is unknown; not a handler failure).
  Result<proto::InvokeResult> Invoke(const std::string& group,
                                     const WorkerGroupLimits& limits,
                                     const proto::InvokeBatch& batch,
                                     std::chrono::milliseconds timeout);
  // The same with the DispatcherMessage already serialised
  // (EncodeInvokeMessage); `invocation_id` is its batch's.
  Result<proto::InvokeResult> Invoke(const std::string& group,
                                     const WorkerGroupLimits& limits,
                                     uint64_t invocation_id,
                                     std::string message,
                                     std::chrono::milliseconds timeout);

  // Ends the group (its trigger was stopped, deleted or changed): idle
  // workers are asked to exit, busy ones are killed, and the group's
  // invocations in flight or waiting fail with Busy (not handler failures).
  void RetireGroup(const std::string& group);

  Stats stats() const;
  // The uid and gid workers run as, when Options::worker_user switches
  // users.
  std::optional<std::pair<uid_t, gid_t>> worker_identity() const;
  // The bound endpoint (the actual port for tcp://...:0).
  std::string endpoint() const;

 private:
  class Impl;
  explicit WorkerPool(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace eddy::runtime::dispatcher

#endif  // EDDY_RUNTIME_DISPATCHER_WORKER_POOL_H_
