// `eddy stream tail`: prints a table's stream records as JSON lines as they
// commit, like `tail -f`, reading through the DynamoDB Streams API.
#ifndef EDDY_RUNTIME_CLI_STREAM_TAIL_H_
#define EDDY_RUNTIME_CLI_STREAM_TAIL_H_

#include <atomic>
#include <cstdio>
#include <string>

namespace eddy::runtime::cli {

struct StreamTailOptions {
  std::string endpoint = "http://127.0.0.1:8000";
  std::string ca_bundle;  // "": $AWS_CA_BUNDLE, else the system's CAs.
  std::string table;
  bool from_trim_horizon = false;  // Else from the latest record.
  // Stop after this many records (0: run until interrupted).
  long max_records = 0;
  // Stop once every shard is read up to the moment of the call.
  bool no_follow = false;
};

// Returns the process exit code. Stops when `stop` becomes true.
int StreamTail(const StreamTailOptions& options, std::FILE* out,
               const std::atomic<bool>& stop);

}  // namespace eddy::runtime::cli

#endif  // EDDY_RUNTIME_CLI_STREAM_TAIL_H_
