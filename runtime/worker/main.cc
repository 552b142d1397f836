// eddy-worker: runs trigger handlers for the eddy server's dispatcher, which
// starts it; not meant to be run by hand.
//
//   eddy-worker --connect ipc:///data/workers.sock --id w3.1
//               --handler-dir DIR --handler-owner UID
//               [--parent-pid PID] [--log-level info]
//
// The server starts it sandboxed (dispatcher/worker_pool.h): no new
// privileges, descriptors 3 and up closed, its own rlimits, and optionally
// another user.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>

#include "worker/worker.h"

int main(int argc, char** argv) {
  CLI::App app{"Eddy trigger worker (started by the eddy server)"};
  eddy::runtime::worker::WorkerOptions options;
  std::string log_level = "info";
  long parent_pid = 0;
  app.add_option("--connect", options.endpoint, "The dispatcher's endpoint")
      ->required();
  app.add_option("--id", options.id, "Routing id given by the dispatcher")
      ->required();
  app.add_option("--handler-dir", options.handler_dir,
                 "Load handler libraries only from this directory")
      ->required();
  app.add_option("--handler-owner", options.handler_owner,
                 "The server's uid: libraries must belong to it or root")
      ->required();
  app.add_option("--parent-pid", parent_pid,
                 "Exit at once if the parent is not this process");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error");
  CLI11_PARSE(app, argc, argv);

  // Die with the server (the dispatcher also sets this before exec; set it
  // again in case the worker was started another way).
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (parent_pid != 0 && ::getppid() != static_cast<pid_t>(parent_pid)) {
    return 1;  // The server died between fork and here.
  }
  // A Ctrl-C in the server's terminal is the server's to handle.
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGPIPE, SIG_IGN);

  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");
  auto logger = spdlog::stderr_color_mt("worker");
  logger->set_level(spdlog::level::from_str(log_level));
  options.logger = logger;
  return eddy::runtime::worker::RunWorker(options);
}
