// `eddy trigger create|update|delete|list|status|wait|replay`: manages
// triggers through the server's admin API (api/admin_ops.cc); `eddy trigger
// invoke` and `generate-event` work without a server (trigger_invoke.h,
// sample_event.h).
#ifndef EDDY_RUNTIME_CLI_TRIGGER_CLI_H_
#define EDDY_RUNTIME_CLI_TRIGGER_CLI_H_

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "cli/sample_event.h"
#include "cli/trigger_invoke.h"
#include "eddy/result.h"

namespace eddy::runtime::cli {

// The options of a trigger as `eddy trigger create|update` and `eddy
// runner` take them.
struct TriggerFlags {
  std::string name;
  std::string table;
  std::string handler;
  int64_t batch_size = 0;
  int64_t batching_window_ms = 0;
  std::string starting_position;
  int64_t max_retries = 0;
  int64_t max_record_age = 0;
  bool bisect = false;
  std::string on_failure;
  bool report_batch_item_failures = false;
  int64_t parallelization = 0;
  int64_t timeout = 0;
  int64_t memory_mb = 0;
  std::vector<std::string> filters;
  int64_t tumbling_window = 0;
  bool disabled = false;
  bool enabled = false;
  std::vector<std::string> env;  // --env, as ParseEnvOptions reads it.
  bool no_env = false;           // --no-env (update only).
};

// Registers the trigger options shared by `trigger create`, `trigger
// update` and `runner` on `cmd`, into *flags.
// With `for_update`, also --no-env.
void AddTriggerConfigFlags(CLI::App* cmd, TriggerFlags* flags,
                           bool for_update = false);
// The admin API's trigger JSON (dispatcher/trigger_config.h) of the
// options given on `cmd` (with `for_update`: no TableName or
// StartingPosition), or InvalidArgument for a malformed --env.
Result<std::string> TriggerConfigJson(CLI::App* cmd, const TriggerFlags& flags,
                                      bool for_update);

class TriggerCommands {
 public:
  // Adds the `trigger` subcommand and its subcommands to `app`.
  explicit TriggerCommands(CLI::App* app);

  // After parsing: whether a trigger command was given.
  bool parsed() const { return trigger_->parsed(); }
  // Runs it; returns the process exit code.
  int Run();

 private:
  int Create();
  int Update();
  int Delete();
  int List();
  int Status();
  int Wait();
  int Replay();

  CLI::App* trigger_;
  CLI::App* create_;
  CLI::App* update_;
  CLI::App* delete_;
  CLI::App* list_;
  CLI::App* status_;
  CLI::App* wait_;
  CLI::App* replay_;
  CLI::App* invoke_;
  CLI::App* generate_event_;
  std::string endpoint_ = "http://127.0.0.1:8000";
  std::string ca_bundle_;
  TriggerFlags o_;
  double wait_timeout_s_ = 300;
  std::string replay_from_;
  InvokeOptions invoke_options_;
  SampleEventOptions event_options_;
  bool json_ = false;
};

}  // namespace eddy::runtime::cli

#endif  // EDDY_RUNTIME_CLI_TRIGGER_CLI_H_
