// `eddy handler new NAME [--dir D]`: writes a ready trigger handler
// project, built against the installed handler SDK:
//
//   D/CMakeLists.txt        find_package(EddyFunctions) + eddy_add_handler,
//                           and a unit test target (ctest)
//   D/handler.cc            the handler: a commented starting point
//   D/test/handler_test.cc  its unit test, with the SDK's test helpers
//                           (eddy/functions/testing.h); plain C++
//   D/events/insert.json    an event to test with (as generate-event)
//   D/README.md             the commands to build, test and attach it
//   D/.gitignore
//
// The project finds the SDK where this eddy is installed (the prefix of
// `cmake --install`), or wherever CMAKE_PREFIX_PATH points.
#ifndef EDDY_RUNTIME_CLI_HANDLER_CLI_H_
#define EDDY_RUNTIME_CLI_HANDLER_CLI_H_

#include <CLI/CLI.hpp>
#include <string>

#include "eddy/result.h"

namespace eddy::runtime::cli {

class HandlerCommands {
 public:
  // Adds the `handler` subcommand and its subcommands to `app`.
  explicit HandlerCommands(CLI::App* app);

  bool parsed() const { return handler_->parsed(); }
  int Run();

 private:
  int New();

  CLI::App* handler_;
  CLI::App* new_;
  std::string name_;
  std::string dir_;
};

// Writes the project `name` into `dir` (created; must not exist or be
// empty). `sdk_prefix` ("" if unknown) becomes find_package's hint.
// InvalidArgument for a bad name or a non-empty directory.
Status WriteHandlerProject(const std::string& name, const std::string& dir,
                           const std::string& sdk_prefix);

// The install prefix holding this program's SDK package
// (<prefix>/lib*/cmake/EddyFunctions), or "" when it is not installed
// beside the running eddy.
std::string InstalledSdkPrefix();

}  // namespace eddy::runtime::cli

#endif  // EDDY_RUNTIME_CLI_HANDLER_CLI_H_
