// eddy: the server and its command line.
//
//   eddy serve [--data DIR] [--host H] [--port P] [--sync] [--threads N]
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "api/api_handler.h"
#include "eddy/store/database.h"
#include "http_server.h"

namespace {

struct ServeOptions {
  std::string data_dir = "./data";
  std::string host = "127.0.0.1";
  int port = 8000;
  bool sync = false;
  int threads = 0;
  std::string region = "us-east-1";
  std::string log_level = "info";
};

std::shared_ptr<spdlog::logger> MakeLogger(const std::string& name) {
  auto logger = spdlog::get(name);
  if (logger) return logger;
  logger = spdlog::stderr_color_mt(name);
  return logger;
}

int Serve(const ServeOptions& options) {
  spdlog::set_level(spdlog::level::from_str(options.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");
  auto server_log = MakeLogger("server");
  auto store_log = MakeLogger("store");
  auto api_log = MakeLogger("api");
  auto http_log = MakeLogger("http");

  // Block the shutdown signals in every thread; the main thread waits for
  // them with sigwait below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  eddy::store::Database::Options db_options;
  db_options.path = options.data_dir;
  db_options.sync = options.sync;
  db_options.logger = store_log;
  auto db = eddy::store::Database::Open(db_options);
  if (!db.ok()) {
    server_log->critical("cannot open {}: {}", options.data_dir,
                         db.status().ToString());
    return 1;
  }

  eddy::runtime::api::EndpointConfig config;
  config.region = options.region;
  auto handler = std::make_shared<eddy::runtime::api::ApiHandler>(
      db->get(), config, api_log);

  eddy::runtime::HttpServerOptions http_options;
  http_options.host = options.host;
  http_options.port = options.port;
  http_options.threads = options.threads;
  http_options.logger = http_log;
  auto server = eddy::runtime::HttpServer::Start(
      http_options,
      [handler](const eddy::runtime::HttpRequest& request,
                eddy::runtime::HttpResponse* response) {
        handler->Handle(request, response);
      });
  if (!server.ok()) {
    server_log->critical("cannot listen on {}:{}: {}", options.host,
                         options.port, server.status().ToString());
    return 1;
  }
  std::error_code ec;
  const auto data_path = std::filesystem::absolute(options.data_dir, ec);
  server_log->info("Eddy listening on http://{}:{}", options.host,
                   (*server)->port());
  server_log->info("data directory: {}{}", data_path.string(),
                   options.sync ? " (fsync on every write)" : "");

  int received = 0;
  sigwait(&signals, &received);
  server_log->info("received {}, shutting down", strsignal(received));
  (*server)->Stop();
  eddy::Status closed = (*db)->Close();
  if (!closed.ok()) {
    server_log->error("closing the database failed: {}", closed.ToString());
    return 1;
  }
  server_log->info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Eddy: a DynamoDB-compatible database with change streams "
               "and C++ triggers"};
  app.require_subcommand(1);

  ServeOptions serve;
  CLI::App* serve_cmd = app.add_subcommand("serve", "Run the server");
  serve_cmd->add_option("--data", serve.data_dir, "Data directory")
      ->capture_default_str();
  serve_cmd->add_option("--host", serve.host, "Address to listen on")
      ->capture_default_str();
  serve_cmd->add_option("--port", serve.port, "Port (0 picks a free one)")
      ->capture_default_str();
  serve_cmd->add_flag("--sync", serve.sync,
                      "fsync every write before acknowledging it");
  serve_cmd->add_option("--threads", serve.threads,
                        "Event-loop threads (0: one per core, up to 4)")
      ->capture_default_str();
  serve_cmd->add_option("--region", serve.region, "Region used in ARNs")
      ->capture_default_str();
  serve_cmd->add_option("--log-level", serve.log_level,
                        "trace, debug, info, warn, error")
      ->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  if (serve_cmd->parsed()) return Serve(serve);
  return 0;
}
