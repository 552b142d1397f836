// HandlerLibrary: one loaded trigger handler (a shared library built against
// the handler SDK), and the host side of the C ABI in handler_abi.h.
//
// Load() dlopen()s the library with RTLD_NOW | RTLD_LOCAL, finds the entry
// symbol, performs the version handshake and keeps the library loaded until
// the HandlerLibrary is destroyed; on any failure it unloads it again and
// says why, naming the path. Invoke() turns a HostBatch into the ABI's C
// structs, runs the handler and copies its outcome into a HandlerResult.
//
// Handler code runs in this process: a crash, hang or memory blow-up in it
// takes the process down. The worker process is what isolates the server.
//
// Thread-safety: all methods may be called from any thread. Invoke() calls
// are serialised (the ABI promises a handler one call at a time); the log
// sink may be called concurrently from the handler's own threads.
#ifndef EDDY_FUNCTIONS_HANDLER_LIBRARY_H_
#define EDDY_FUNCTIONS_HANDLER_LIBRARY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eddy/functions/handler_abi.h"
#include "eddy/functions/host_batch.h"
#include "eddy/result.h"
#include "eddy/status.h"

namespace eddy::functions {

// What the handler made of a batch. Handler failures are data here, not an
// error Status.
struct HandlerResult {
  enum class Outcome : uint8_t {
    kSuccess,            // Every record handled.
    kFailure,            // The whole batch failed (Lambda's function error).
    kBatchItemFailures,  // ReportBatchItemFailures: some records failed.
  };

  Outcome outcome = Outcome::kSuccess;
  // kFailure: e.g. "Unhandled" for an exception, "HandlerError" by default.
  std::string error_type;
  // kFailure: the handler's message (an exception's what()).
  std::string error_message;
  // kBatchItemFailures: the itemIdentifiers exactly as the handler returned
  // them, in its order, possibly empty strings or numbers not in the batch.
  // The dispatcher applies Lambda's rules to them.
  std::vector<std::string> failed_sequence_numbers;
  // The tumbling window's new state, if the handler set one (in any
  // outcome). In a window batch, none means failure (Lambda's rule; the
  // dispatcher applies it).
  std::optional<std::string> window_state;
};

enum class HandlerLogLevel : uint8_t { kTrace, kDebug, kInfo, kWarn, kError };

class HandlerLibrary {
 public:
  // The host's ABI version (handler_abi.h). Load() accepts only handlers
  // built for this version.
  static constexpr uint32_t kAbiVersion = EDDY_HANDLER_ABI_VERSION;

  // Receives the handler's log lines. Must be thread-safe: handlers may log
  // from their own threads.
  using LogSink =
      std::function<void(HandlerLogLevel level, std::string_view message)>;

  struct Options {
    // Empty: lines go to stderr as "[handler <name>] LEVEL message".
    LogSink log;
  };

  // Loads the handler library at `path` and initialises it (its
  // eddy_handler_init runs now, once). Errors (all name the path):
  //   NotFound:        no file at `path`.
  //   InvalidArgument: dlopen failed; missing entry symbol; ABI version
  //                    mismatch; init failed (with the handler's last
  //                    error-level log line); malformed handler table.
  //   AlreadyExists:   that library is already loaded in this process
  //                    (its globals would be shared): load a copy of the file
  //                    under another path.
  static Result<std::unique_ptr<HandlerLibrary>> Load(const std::string& path,
                                                      Options options = {});

  // As Load, for a handler linked into this program: `init` is its entry
  // (eddy_handler_init). `name` labels errors and logs.
  // REQUIRES: at most one live HandlerLibrary per entry (handlers keep their
  // state in globals).
  static Result<std::unique_ptr<HandlerLibrary>> FromEntry(
      eddy_handler_init_fn init, std::string name, Options options = {});

  HandlerLibrary(const HandlerLibrary&) = delete;
  HandlerLibrary& operator=(const HandlerLibrary&) = delete;
  // Calls the handler's destroy (if any), then unloads the library.
  // REQUIRES: no Invoke() in progress.
  virtual ~HandlerLibrary() = default;

  // Runs the handler on `batch`. Returns the handler's outcome, including
  // failures and exceptions it reported. An error Status means the batch
  // could not be handed over: InvalidArgument if it breaks a REQUIRES of
  // host_batch.h (keys or an image not a map, nesting deeper than 64).
  // `batch` is only read during the call.
  virtual Result<HandlerResult> Invoke(const HostBatch& batch) = 0;

  // The path given to Load, or the name given to FromEntry.
  virtual const std::string& name() const = 0;

 protected:
  HandlerLibrary() = default;
};

}  // namespace eddy::functions

#endif  // EDDY_FUNCTIONS_HANDLER_LIBRARY_H_
