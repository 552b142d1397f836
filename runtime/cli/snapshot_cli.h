// `eddy snapshot --to DIR [--endpoint URL]`: a consistent hot copy of the
// server's whole data directory (tables, stream logs, trigger checkpoints,
// backups, export and import records) into DIR, on the server's machine,
// through the admin API (CreateSnapshot, then DescribeSnapshot until it
// ends; store/src/snapshot.cc takes the copy). Progress goes to stderr.
// `eddy serve --data DIR` opens the copy as it is.
#ifndef EDDY_RUNTIME_CLI_SNAPSHOT_CLI_H_
#define EDDY_RUNTIME_CLI_SNAPSHOT_CLI_H_

#include <CLI/CLI.hpp>
#include <string>

namespace eddy::runtime::cli {

class SnapshotCommand {
 public:
  // Adds the `snapshot` subcommand to `app`.
  explicit SnapshotCommand(CLI::App* app);

  bool parsed() const { return command_->parsed(); }
  // Runs it; returns the process exit code.
  int Run();

 private:
  CLI::App* command_;
  std::string endpoint_ = "http://127.0.0.1:8000";
  std::string ca_bundle_;
  std::string to_;
  int poll_ms_ = 250;
};

}  // namespace eddy::runtime::cli

#endif  // EDDY_RUNTIME_CLI_SNAPSHOT_CLI_H_
