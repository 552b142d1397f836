// `eddy runner` and `eddy runner status`: run the trigger dispatcher on the
// stream of a table at any DynamoDB Streams endpoint, sharing its shards
// with the other runners of a group (runner/runner.h), and show a group's
// runners, shards, owners, checkpoints and lag from its lease table.
#ifndef EDDY_RUNTIME_CLI_RUNNER_CLI_H_
#define EDDY_RUNTIME_CLI_RUNNER_CLI_H_

#include <CLI/CLI.hpp>
#include <string>

#include "cli/trigger_cli.h"

namespace eddy::runtime::cli {

class RunnerCommands {
 public:
  // Adds `runner` (and `runner status`) to `app`.
  explicit RunnerCommands(CLI::App* app);

  bool parsed() const { return runner_->parsed(); }
  // Runs the runner until SIGTERM or SIGINT (exit code 0 after a graceful
  // shutdown, 1 when it cannot start, 2 for bad options), or prints the
  // status.
  int Run();

 private:
  int RunRunner();
  int ShowStatus();

  CLI::App* runner_;
  CLI::App* status_;
  std::string endpoint_;
  std::string streams_endpoint_;
  std::string lease_endpoint_;
  std::string region_;
  std::string ca_bundle_;
  std::string group_;
  std::string handler_dir_;
  std::string lease_duration_ = "10s";
  std::string poll_interval_ = "250ms";
  std::string metrics_host_ = "127.0.0.1";
  int metrics_port_ = -1;
  std::string worker_binary_;
  std::string log_level_ = "info";
  TriggerFlags flags_;
  bool json_ = false;
};

}  // namespace eddy::runtime::cli

#endif  // EDDY_RUNTIME_CLI_RUNNER_CLI_H_
