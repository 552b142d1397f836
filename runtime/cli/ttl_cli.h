// `eddy ttl sweep [--table T] [--endpoint-url URL]`: deletes the expired
// items of a table (of every table with TTL enabled when no table is named)
// now, through the server's admin API (SweepExpiredItems in
// api/ttl_ops.cc), instead of waiting for the background sweeper. Each
// deletion is a REMOVE stream record made by the service, as DynamoDB's TTL
// deletions are.
#ifndef EDDY_RUNTIME_CLI_TTL_CLI_H_
#define EDDY_RUNTIME_CLI_TTL_CLI_H_

#include <CLI/CLI.hpp>
#include <string>

namespace eddy::runtime::cli {

class TtlCommands {
 public:
  // Adds the `ttl` subcommand and its subcommands to `app`.
  explicit TtlCommands(CLI::App* app);

  // After parsing: whether a ttl command was given.
  bool parsed() const { return ttl_->parsed(); }
  // Runs it; returns the process exit code.
  int Run();

 private:
  int Sweep();

  CLI::App* ttl_;
  CLI::App* sweep_;
  std::string endpoint_ = "http://127.0.0.1:8000";
  std::string ca_bundle_;
  std::string table_;
  bool json_ = false;
};

}  // namespace eddy::runtime::cli

#endif  // EDDY_RUNTIME_CLI_TTL_CLI_H_
