// `eddy auth add NAME [--policy FILE | --allow-all] [--auth FILE]`: appends
// an identity with freshly generated keys to an auth file (creating it,
// mode 0600, if missing) and prints the keys once. The file is rewritten
// atomically (write a temporary file, fsync, rename), so a server watching
// it never reads half a file; it picks the new identity up by itself.
#ifndef EDDY_RUNTIME_CLI_AUTH_CLI_H_
#define EDDY_RUNTIME_CLI_AUTH_CLI_H_

#include <CLI/CLI.hpp>
#include <string>

namespace eddy::runtime::cli {

class AuthCommands {
 public:
  // Adds the `auth` subcommand and its subcommands to `app`.
  explicit AuthCommands(CLI::App* app);

  bool parsed() const { return auth_->parsed(); }
  // Runs it; returns the process exit code.
  int Run();

 private:
  int Add();

  CLI::App* auth_;
  CLI::App* add_;
  std::string file_ = "auth.json";
  std::string name_;
  std::string policy_file_;
  bool allow_all_ = false;
};

}  // namespace eddy::runtime::cli

#endif  // EDDY_RUNTIME_CLI_AUTH_CLI_H_
