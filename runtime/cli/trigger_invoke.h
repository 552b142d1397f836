// `eddy trigger invoke --handler LIB.so --event FILE.json`: runs a handler
// library on an event, without a server, in an eddy-worker process started
// and sandboxed by the same WorkerPool the dispatcher uses (limits, clean
// environment, crash and timeout handling), then prints what the
// dispatcher would see: the outcome (success, failure with its type and
// message, batch item failures and what Lambda's rules make of them, the
// window state) and the handler's log lines. Compare `sam local invoke`.
//
// The event is read by the SDK's test helpers (eddy/functions/testing.h):
// Lambda's event, GetRecords' answer, a list of records or one record. The
// library is copied into a private handler directory first, so it may be
// anywhere (a project's build directory).
#ifndef EDDY_RUNTIME_CLI_TRIGGER_INVOKE_H_
#define EDDY_RUNTIME_CLI_TRIGGER_INVOKE_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "dispatcher/trigger_config.h"
#include "eddy/result.h"

namespace eddy::runtime::cli {

// `--env` values into a trigger's environment: KEY=VALUE sets a variable,
// a bare AWS_NAME passes on that variable of this process (or of the
// server, for a trigger). InvalidArgument for "=x". The rules on names
// are ValidateTriggerConfig's.
Status ParseEnvOptions(const std::vector<std::string>& env,
                       dispatcher::TriggerConfig* config);

struct InvokeOptions {
  std::string handler;     // The library's path.
  std::string event_file;  // "-": standard input.
  int64_t timeout_s = 60;
  int64_t memory_mb = 512;
  // KEY=VALUE (or KEY, to pass this process's value of an AWS_* variable):
  // the worker's environment, as `eddy trigger create --env`.
  std::vector<std::string> env;
  bool report_batch_item_failures = true;
  bool json = false;  // Print the outcome as one JSON object.
  std::string worker_binary;  // "": eddy-worker beside this program.
};

// Runs the invocation and prints its outcome to `out` (errors about the
// command itself to stderr). Exit code: 0 success, 1 the handler failed or
// reported batch item failures, 2 bad usage (unreadable event, no library).
int InvokeLocally(const InvokeOptions& options, std::FILE* out);

}  // namespace eddy::runtime::cli

#endif  // EDDY_RUNTIME_CLI_TRIGGER_INVOKE_H_
