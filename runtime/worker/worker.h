// Worker: the body of the eddy-worker process. It connects a DEALER socket
// to the dispatcher's ROUTER (worker.proto describes the conversation),
// loads handler libraries through the functions host, runs each InvokeBatch
// and answers with an InvokeResult.
//
// Handler libraries load only from the server's handler directory: each is
// opened and checked again here (HandlerDir::OpenLibrary) before it is
// copied and loaded, so a file swapped after CreateTrigger checked it is
// refused, not run.
//
// Handler libraries are cached per path and reloaded when the version the
// dispatcher saw (mtime, inode, size) changes, so rebuilding a handler is
// picked up without a restart. Each version is loaded from a private
// in-memory copy (memfd), never from the path itself: the host loads a file
// at most once per process, and a build overwriting the file in place cannot
// corrupt the mapped code.
//
// Failures of the handler are data in the reply; this process may still die
// (a crash in handler code), which is what the process boundary is for.
//
// Thread-safety: one thread runs a Worker.
#ifndef EDDY_RUNTIME_WORKER_WORKER_H_
#define EDDY_RUNTIME_WORKER_WORKER_H_

#include <spdlog/logger.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "eddy/functions/handler_library.h"
#include "eddy/result.h"
#include "eddy/worker.pb.h"
#include "handler_dir.h"

namespace eddy::runtime::worker {

struct WorkerOptions {
  std::string endpoint;  // ipc://... or tcp://...
  std::string id;        // ZeroMQ routing id, as the dispatcher named us.
  std::string handler_dir;  // The server's --handler-dir (canonical).
  uid_t handler_owner = 0;  // Libraries must belong to this uid or root.
  std::shared_ptr<spdlog::logger> logger;
};

// Identifies one build of a handler file.
struct HandlerVersion {
  int64_t mtime_ns = 0;
  uint64_t inode = 0;
  uint64_t size = 0;
  bool operator==(const HandlerVersion&) const = default;
};

// Loaded handler libraries, one per path, at the newest version asked for.
class HandlerCache {
 public:
  // REQUIRES: `dir` outlives the cache.
  HandlerCache(const HandlerDir* dir, std::shared_ptr<spdlog::logger> logger)
      : dir_(dir), logger_(std::move(logger)) {}

  // The library at `path`, loaded at `version` (a zero version means "stat
  // the file now"). A different version than the cached one unloads the old
  // library first. Errors: the handler directory's rules (HandlerDir), then
  // the host's (NotFound, InvalidArgument); all name `path`.
  Result<functions::HandlerLibrary*> Get(const std::string& path,
                                         HandlerVersion version);

 private:
  struct Entry {
    HandlerVersion version;
    std::unique_ptr<functions::HandlerLibrary> library;
  };
  const HandlerDir* dir_;
  std::shared_ptr<spdlog::logger> logger_;
  std::map<std::string, Entry> entries_;
};

// Runs one invocation; never throws. Handler failures, load errors and
// malformed batches all become a FAILURE result.
proto::InvokeResult RunInvocation(HandlerCache* cache,
                                  const proto::InvokeBatch& batch);

// Connects and serves until told to shut down. Returns the exit code.
int RunWorker(const WorkerOptions& options) noexcept;

}  // namespace eddy::runtime::worker

#endif  // EDDY_RUNTIME_WORKER_WORKER_H_
