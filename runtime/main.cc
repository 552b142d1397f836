// eddy: the server and its command line.
//
//   eddy serve [--data DIR] [--host H] [--port P] [--sync] [--threads N]
//              [--max-connections N] [--max-inflight N]
//              [--idle-timeout 60s] [--request-timeout 60s]
//              [--stream-shards N] [--stream-retention 24h]
//              [--pitr-retention 35d] [--job-nice 19] [--export-dir DIR]
//              [--stream-shard-rollover 4h]
//              [--ttl-interval 60s] [--tls-cert FILE --tls-key FILE]
//              [--worker-endpoint ipc://...|tcp://...] [--worker-bin PATH]
//              [--handler-dir DIR] [--worker-user USER]
//              [--cors-origins '*'|ORIGIN,...|none]
//              [--enforce-capacity [--capacity-burst-seconds 300]]
//   eddy stream tail TABLE [--from trim-horizon|latest] [--endpoint URL]
//   eddy trigger create|update|delete|list|status|wait ... [--endpoint URL]
//   eddy ttl sweep [--table T] [--endpoint-url URL]
//   eddy auth add NAME [--policy FILE | --allow-all] [--auth FILE]
//   eddy snapshot --to DIR [--endpoint URL]
//   eddy runner --endpoint URL --table T --handler LIB.so --group NAME
//               [--lease-duration 10s] [--metrics-port P] [every option of
//               trigger create]
//   eddy runner status --group NAME --endpoint URL [--json]
//   eddy handler new NAME [--dir D]
//
// The client subcommands take --ca-bundle FILE (else $AWS_CA_BUNDLE) for
// https:// endpoints and sign every request with the standard AWS
// credentials chain (eddy/functions/aws_credentials.h).
//
// Signals: SIGINT/SIGTERM stop the server; SIGHUP runs the reloads (the TLS
// certificate and key, the auth file).
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/api_handler.h"
#include "api/data_transfer.h"
#include "auth/authenticator.h"
#include "auth/identity_store.h"
#include "cli/auth_cli.h"
#include "cli/client_flags.h"
#include "cli/handler_cli.h"
#include "cli/runner_cli.h"
#include "cli/snapshot_cli.h"
#include "cli/stream_tail.h"
#include "cli/trigger_cli.h"
#include "cli/ttl_cli.h"
#include "dispatcher/dispatcher.h"
#include "eddy/store/database.h"
#include "http_server.h"
#include "resource_limits.h"

namespace {

struct ServeOptions {
  std::string data_dir = "./data";
  std::string host = "127.0.0.1";
  int port = 8000;
  bool sync = false;
  int threads = 0;  // 0: one per CPU the process may use, at most 4.
  // The store's memory: LevelDB's block cache and its memtable (written
  // out when full; two exist while one is being written).
  size_t block_cache_mb = 64;
  size_t write_buffer_mb = 32;
  // Overload (HttpServerOptions): connections at once, requests a loop
  // takes on at once, and the connection timeouts.
  int max_connections = 10'000;
  int max_inflight = 256;
  std::string idle_timeout = "60s";
  std::string request_timeout = "60s";
  std::string region = "us-east-1";
  std::string log_level = "info";
  uint32_t stream_shards = 4;
  std::string stream_retention = "24h";
  std::string pitr_retention = "35d";
  int job_nice = 19;                   // Backups, restores, exports, imports.
  std::string export_dir;              // "": exports and imports refused.
  std::string stream_rollover = "4h";  // "0": shards never roll over.
  std::string ttl_interval = "60s";    // "0": no background TTL sweeps.
  std::string worker_endpoint;         // "": ipc:// in the data directory.
  std::string worker_binary;           // "": eddy-worker beside this binary.
  std::string auth_file;               // "": anonymous (loopback only).
  bool allow_anonymous = false;        // Anonymous on a non-loopback address.
  std::string handler_dir;             // "": <data>/handlers.
  std::string failure_dir;             // "": <data>/failures.
  std::string worker_user;             // "": the server's user.
  std::string tls_cert;                // "": plain HTTP.
  std::string tls_key;
  // Browser origins allowed by CORS; unset: "*" when anonymous on a
  // loopback address, none with --auth.
  std::optional<std::string> cors_origins;
  // Throttle PROVISIONED tables at their throughput (DynamoDB Local does
  // not); the unused capacity kept for bursts, in seconds.
  bool enforce_capacity = false;
  double capacity_burst_seconds = 300;
};

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// Something SIGHUP re-reads. A failed reload keeps what was loaded before;
// `run` says why it failed.
struct Reload {
  std::string what;  // For the log: "TLS certificate".
  std::function<eddy::Status()> run;
};

// Runs every reload, logging each outcome.
void RunReloads(const std::vector<Reload>& reloads, spdlog::logger& log) {
  if (reloads.empty()) {
    log.info("received SIGHUP; nothing to reload");
    return;
  }
  for (const Reload& reload : reloads) {
    eddy::Status status = reload.run();
    if (status.ok()) {
      log.info("SIGHUP: reloaded the {}", reload.what);
    } else {
      log.error("SIGHUP: reloading the {} failed, keeping the current one: {}",
                reload.what, status.ToString());
    }
  }
}

// "24h", "90m", "30s", "500ms" or plain seconds -> milliseconds; -1 if bad.
int64_t ParseDuration(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    ++i;
  }
  // Up to 10 digits: no overflow in days, and no exception from stoll.
  if (i == 0 || i > 10) return -1;
  const int64_t n = std::stoll(text.substr(0, i));
  const std::string unit = text.substr(i);
  if (unit == "ms") return n;
  if (unit.empty() || unit == "s") return n * 1000;
  if (unit == "m") return n * 60 * 1000;
  if (unit == "h") return n * 60 * 60 * 1000;
  if (unit == "d") return n * 24 * 60 * 60 * 1000;
  return -1;
}

constexpr int64_t kMaxTimeoutMs = 24LL * 60 * 60 * 1000;

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
  auto dispatcher_log = MakeLogger("dispatcher");

  // Block the shutdown and reload signals in every thread; the main thread
  // waits for them with sigwait below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  eddy::store::Database::Options db_options;
  db_options.path = options.data_dir;
  db_options.sync = options.sync;
  db_options.block_cache_bytes = options.block_cache_mb << 20;
  db_options.write_buffer_bytes = options.write_buffer_mb << 20;
  db_options.logger = store_log;
  db_options.stream_shards = options.stream_shards;
  db_options.stream_retention_ms = ParseDuration(options.stream_retention);
  db_options.stream_rollover_ms = ParseDuration(options.stream_rollover);
  if (db_options.stream_rollover_ms < 0) {
    server_log->critical(
        "--stream-shard-rollover must be a duration (e.g. 4h, 30s; 0 turns "
        "rollovers off)");
    return 2;
  }
  // Trim at least four times per retention period and check rollovers
  // four times per rollover period (and at most once a minute), so short
  // periods in tests take effect promptly.
  int64_t period = db_options.stream_retention_ms;
  if (db_options.stream_rollover_ms > 0) {
    period = std::min(period, db_options.stream_rollover_ms);
  }
  db_options.maintenance_interval_ms =
      std::clamp<int64_t>(period / 4, 100, 60 * 1000);
  if (db_options.stream_retention_ms <= 0 || options.stream_shards == 0) {
    server_log->critical(
        "--stream-retention and --stream-shards must be "
        "positive (e.g. --stream-retention 24h)");
    return 2;
  }
  db_options.ttl_sweep_interval_ms = ParseDuration(options.ttl_interval);
  db_options.pitr_retention_ms = ParseDuration(options.pitr_retention);
  if (db_options.pitr_retention_ms <= 0) {
    server_log->critical(
        "--pitr-retention must be a positive duration (e.g. 35d, 24h)");
    return 2;
  }
  if (options.job_nice < 0 || options.job_nice > 19) {
    server_log->critical("--job-nice must be between 0 and 19");
    return 2;
  }
  db_options.job_nice = options.job_nice;
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    server_log->critical(
        "--tls-cert and --tls-key go together: give both (PEM files) to "
        "serve HTTPS, or neither");
    return 2;
  }
  const int64_t idle_timeout_ms = ParseDuration(options.idle_timeout);
  const int64_t request_timeout_ms = ParseDuration(options.request_timeout);
  if (idle_timeout_ms < 0 || request_timeout_ms < 0 ||
      idle_timeout_ms > kMaxTimeoutMs || request_timeout_ms > kMaxTimeoutMs) {
    server_log->critical(
        "--idle-timeout and --request-timeout must be durations up to 24h "
        "(e.g. 60s, 5m, 500ms; 0 turns the timeout off)");
    return 2;
  }
  if (options.max_connections <= 0 || options.max_inflight < 0) {
    server_log->critical(
        "--max-connections must be positive and --max-inflight zero (no "
        "limit) or positive");
    return 2;
  }
  if (db_options.ttl_sweep_interval_ms < 0) {
    server_log->critical(
        "--ttl-interval must be a duration (e.g. 60, 60s, 10m; 0 turns the "
        "background TTL sweeper off)");
    return 2;
  }
  if (!(options.capacity_burst_seconds > 0 &&
        options.capacity_burst_seconds <= 300)) {
    server_log->critical(
        "--capacity-burst-seconds must be more than 0 and at most 300 "
        "(DynamoDB keeps up to 300 seconds of unused capacity)");
    return 2;
  }
  // Trust: an auth file, or anonymous mode on loopback only.
  if (options.auth_file.empty() && !IsLoopback(options.host) &&
      !options.allow_anonymous) {
    server_log->critical(
        "refusing to listen on {} without authentication: anyone who "
        "reaches the port could read and change every table and load code. "
        "Give identities with --auth FILE (create one with `eddy auth add "
        "admin --allow-all --auth FILE`), or pass --allow-anonymous to accept "
        "any signature anyway",
        options.host);
    return 2;
  }
  eddy::runtime::api::EndpointConfig config;
  config.region = options.region;
  config.pitr_retention_days = std::max<int64_t>(
      1, db_options.pitr_retention_ms / (24LL * 60 * 60 * 1000));
  std::unique_ptr<eddy::runtime::auth::IdentityStore> identities;
  if (!options.auth_file.empty()) {
    eddy::runtime::auth::IdentityStore::Options auth_options;
    auth_options.path = options.auth_file;
    auth_options.account_id = config.account_id;
    auth_options.logger = MakeLogger("auth");
    auto store = eddy::runtime::auth::IdentityStore::Open(auth_options);
    if (!store.ok()) {
      server_log->critical("cannot use the auth file: {}",
                           store.status().message());
      return 2;
    }
    identities = std::move(*store);
  }
  eddy::runtime::auth::Authenticator::Options authenticator_options;
  authenticator_options.store = identities.get();
  authenticator_options.region = options.region;
  const eddy::runtime::auth::Authenticator authenticator(authenticator_options);

  // Every table file LevelDB keeps open and every connection is a
  // descriptor: share the open-file limit out before either runs out of
  // them (accept would fail instead of answering 503, a read of a table
  // with "Too many open files").
  const long open_files = eddy::runtime::RaiseOpenFileLimit();
  const eddy::runtime::DescriptorBudget descriptors =
      eddy::runtime::ShareOpenFiles(open_files, options.max_connections);
  db_options.max_open_files = descriptors.table_files;
  db_options.stream_segment_files = eddy::runtime::kStreamSegmentFiles;
  if (descriptors.table_files < eddy::runtime::kMaxTableFiles) {
    server_log->warn(
        "the open-file limit ({}) leaves room for {} table files open at "
        "once, not {}: the others are opened again when read (raise `ulimit "
        "-n` for more)",
        open_files, descriptors.table_files, eddy::runtime::kMaxTableFiles);
  }

  auto db = eddy::store::Database::Open(db_options);
  if (!db.ok()) {
    server_log->critical("cannot open {}: {}", options.data_dir,
                         db.status().ToString());
    return 1;
  }

  // Triggers: the dispatcher lives between the database (which it reads)
  // and the HTTP server (whose admin API drives it).
  eddy::runtime::dispatcher::Dispatcher::Options dispatcher_options;
  dispatcher_options.data_dir = options.data_dir;
  dispatcher_options.sync = options.sync;
  dispatcher_options.db = db->get();
  dispatcher_options.region = config.region;
  dispatcher_options.account_id = config.account_id;
  dispatcher_options.worker_endpoint = options.worker_endpoint;
  dispatcher_options.worker_binary = options.worker_binary;
  dispatcher_options.handler_dir = options.handler_dir;
  dispatcher_options.failure_dir = options.failure_dir;
  dispatcher_options.worker_user = options.worker_user;
  dispatcher_options.worker_log_level = options.log_level;
  dispatcher_options.record_expiry_ms = db_options.stream_retention_ms;
  dispatcher_options.logger = dispatcher_log;
  auto dispatcher =
      eddy::runtime::dispatcher::Dispatcher::Start(dispatcher_options);
  if (!dispatcher.ok()) {
    server_log->critical("cannot start the trigger dispatcher: {}",
                         dispatcher.status().message());
    return 1;
  }

  // CORS for browser clients: by default any origin may call an anonymous
  // server on loopback (DynamoDB answers every origin); with --auth only
  // the origins given.
  const std::string cors_list = options.cors_origins.value_or(
      options.auth_file.empty() && IsLoopback(options.host) ? "*" : "");
  auto cors = eddy::runtime::api::CorsPolicy::Parse(cors_list);
  if (!cors.ok()) {
    server_log->critical("{}", cors.status().message());
    return 2;
  }
  // Provisioned capacity: off by default, as DynamoDB Local.
  std::unique_ptr<eddy::runtime::api::CapacityLimiter> capacity;
  if (options.enforce_capacity) {
    eddy::runtime::api::CapacityLimiter::Options capacity_options;
    capacity_options.burst_seconds = options.capacity_burst_seconds;
    capacity = std::make_unique<eddy::runtime::api::CapacityLimiter>(
        db->get(), config, capacity_options);
  }
  auto handler = std::make_shared<eddy::runtime::api::ApiHandler>(
      db->get(), config, api_log, &authenticator, dispatcher->get(), *cors,
      std::move(capacity));
  // Exports and imports: records in <data>/exports, files in --export-dir.
  eddy::runtime::api::DataTransfer::Options transfer_options;
  transfer_options.data_dir = options.data_dir;
  if (!options.export_dir.empty()) {
    std::error_code dir_error;
    transfer_options.export_dir =
        std::filesystem::absolute(options.export_dir, dir_error).string();
  }
  transfer_options.nice = options.job_nice;
  eddy::runtime::api::DataTransfer transfer(db->get(), transfer_options,
                                            store_log);
  if (eddy::Status started = transfer.Start(); !started.ok()) {
    server_log->critical("cannot start exports: {}", started.ToString());
    return 1;
  }
  handler->set_transfer(&transfer);

  eddy::runtime::HttpServerOptions http_options;
  http_options.host = options.host;
  http_options.port = options.port;
  http_options.threads = options.threads;
  if (options.threads == 0) {
    // Two loops on one core fight over it: as many as the CPUs we may use.
    const eddy::runtime::CpuBudget cpus =
        eddy::runtime::ProbeCpus(eddy::runtime::CpuProbe::System());
    http_options.threads = eddy::runtime::DefaultLoopThreads(cpus);
    server_log->info(
        "event-loop threads: {} (one per CPU this process may use, at most "
        "{}: {}; --threads overrides)",
        http_options.threads, eddy::runtime::kMaxDefaultLoopThreads,
        cpus.Describe());
  } else {
    server_log->info("event-loop threads: {} (--threads)", options.threads);
  }
  http_options.max_inflight_requests = options.max_inflight;
  http_options.idle_timeout_ms = static_cast<int>(idle_timeout_ms);
  http_options.request_timeout_ms = static_cast<int>(request_timeout_ms);
  http_options.max_connections = descriptors.max_connections;
  if (descriptors.max_connections < options.max_connections) {
    server_log->warn(
        "--max-connections {} is more than the open-file limit ({}) leaves "
        "room for; using {} (raise `ulimit -n` for more)",
        options.max_connections, open_files, descriptors.max_connections);
  }
  server_log->info(
      "overload limits: {} connections, {} requests per loop at once{}, idle "
      "timeout {}, request timeout {}",
      http_options.max_connections, http_options.max_inflight_requests,
      http_options.max_inflight_requests == 0 ? " (no limit)" : "",
      options.idle_timeout, options.request_timeout);
  http_options.logger = http_log;
  http_options.tls_cert_file = options.tls_cert;
  http_options.tls_key_file = options.tls_key;
  http_options.overload_handler = [handler](
                                      const eddy::runtime::HttpRequest& request,
                                      eddy::runtime::HttpResponse* response) {
    handler->Overloaded(request, response);
  };
  auto server = eddy::runtime::HttpServer::Start(
      http_options, [handler](const eddy::runtime::HttpRequest& request,
                              eddy::runtime::HttpResponse* response) {
        handler->Handle(request, response);
      });
  if (!server.ok()) {
    server_log->critical(
        "{} on {}:{}: {}",
        options.tls_cert.empty() ? "cannot listen" : "cannot serve HTTPS",
        options.host, options.port, server.status().ToString());
    return 1;
  }
  std::error_code ec;
  const auto data_path = std::filesystem::absolute(options.data_dir, ec);
  server_log->info("Eddy listening on {}://{}:{}",
                   (*server)->tls() ? "https" : "http", options.host,
                   (*server)->port());
  server_log->info("data directory: {}{}", data_path.string(),
                   options.sync ? " (fsync on every write)" : "");
  server_log->info(
      "store memory: block cache {} MiB, write buffer {} MiB (two while one "
      "is written out); the block cache also holds the open tables' index "
      "and filter blocks",
      options.block_cache_mb, options.write_buffer_mb);
  server_log->info(
      "streams: {} shards each, records kept {}, {}", options.stream_shards,
      options.stream_retention,
      db_options.stream_rollover_ms > 0
          ? "shards roll over every " + options.stream_rollover
          : std::string("shards never roll over (--stream-shard-rollover 0)"));
  if (identities != nullptr) {
    server_log->info(
        "authentication: SigV4 against {} (reloaded on change and SIGHUP)",
        options.auth_file);
  } else {
    server_log->warn(
        "authentication: anonymous (any signature accepted, as DynamoDB "
        "Local does){}",
        IsLoopback(options.host) ? "" : " on a non-loopback address");
  }

  // What SIGHUP re-reads; each runs on this thread.
  std::vector<Reload> reloads;
  if ((*server)->tls()) {
    eddy::runtime::HttpServer* http = server->get();
    reloads.push_back(
        {"TLS certificate", [http] { return http->ReloadTls(); }});
  }
  if (identities != nullptr) {
    eddy::runtime::auth::IdentityStore* store = identities.get();
    reloads.push_back({"auth file", [store] { return store->Reload(); }});
  }
  server_log->info("CORS origins: {}", cors->ToString());
  if (options.enforce_capacity) {
    server_log->info(
        "provisioned capacity enforced: PROVISIONED tables and their GSIs "
        "are throttled at their throughput, with {} s of burst capacity "
        "(buckets start full)",
        options.capacity_burst_seconds);
  }

  int received = 0;
  for (;;) {
    sigwait(&signals, &received);
    if (received != SIGHUP) break;
    RunReloads(reloads, *server_log);
  }
  server_log->info("received {}, shutting down", strsignal(received));
  (*server)->Stop();
  (*dispatcher)->Stop();
  transfer.Stop();
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
  CLI::App app{
      "Eddy: a DynamoDB-compatible database with change streams "
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
  serve_cmd
      ->add_option("--threads", serve.threads,
                   "Event-loop threads (0: one per CPU the process may use "
                   "by its affinity mask and cgroup CPU quota, up to 4)")
      ->capture_default_str();
  serve_cmd
      ->add_option("--block-cache-mb", serve.block_cache_mb,
                   "MiB of LevelDB's cache of table blocks read (the store's "
                   "memory, with the write buffers and the index and filter "
                   "blocks of open tables, ~4 bytes per item)")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20))
      ->capture_default_str();
  serve_cmd
      ->add_option("--write-buffer-mb", serve.write_buffer_mb,
                   "MiB of writes LevelDB keeps in memory before writing them "
                   "to a table file (also what a restart may replay)")
      ->check(CLI::Range(size_t{1}, size_t{1024}))
      ->capture_default_str();
  serve_cmd
      ->add_option("--max-connections", serve.max_connections,
                   "Connections at once; more are answered 503 "
                   "ThrottlingException and closed")
      ->capture_default_str();
  serve_cmd
      ->add_option("--max-inflight", serve.max_inflight,
                   "Requests an event loop takes on at once; more arriving "
                   "together are answered 503 ThrottlingException at once, "
                   "which the AWS SDKs retry (0: no limit)")
      ->capture_default_str();
  serve_cmd
      ->add_option("--idle-timeout", serve.idle_timeout,
                   "Close connections idle this long (e.g. 60s, 5m; 0: never)")
      ->capture_default_str();
  serve_cmd
      ->add_option("--request-timeout", serve.request_timeout,
                   "A request must arrive whole within this, else 408 (e.g. "
                   "60s; 0: no limit)")
      ->capture_default_str();
  serve_cmd->add_option("--region", serve.region, "Region used in ARNs")
      ->capture_default_str();
  serve_cmd
      ->add_option("--log-level", serve.log_level,
                   "trace, debug, info, warn, error")
      ->capture_default_str();

  serve_cmd
      ->add_option("--stream-shards", serve.stream_shards,
                   "Shards per new stream")
      ->capture_default_str();
  serve_cmd
      ->add_option("--stream-retention", serve.stream_retention,
                   "How long stream records are kept (e.g. 24h, 90m)")
      ->capture_default_str();

  serve_cmd
      ->add_option("--pitr-retention", serve.pitr_retention,
                   "How far back point-in-time recovery reaches (e.g. 35d, "
                   "24h; DynamoDB: 35 days)")
      ->capture_default_str();
  serve_cmd->add_option(
      "--export-dir", serve.export_dir,
      "ExportTableToPointInTime writes to and ImportTable reads from here: "
      "S3 bucket B is the folder DIR/B (default: exports and imports "
      "refused)");
  serve_cmd
      ->add_option("--job-nice", serve.job_nice,
                   "CPU niceness of backups, restores, exports and imports "
                   "(0-19; 19: they use only what requests leave idle)")
      ->capture_default_str();
  serve_cmd
      ->add_option("--stream-shard-rollover", serve.stream_rollover,
                   "Close every open stream shard and open a child of it "
                   "this often, as DynamoDB does (e.g. 4h, 30s; 0: never)")
      ->capture_default_str();

  serve_cmd
      ->add_option("--ttl-interval", serve.ttl_interval,
                   "How often expired TTL items are deleted, in seconds or "
                   "as 30s, 10m, 1h (0: only by `eddy ttl sweep`)")
      ->capture_default_str();

  serve_cmd
      ->add_option("--tls-cert", serve.tls_cert,
                   "Serve HTTPS with this PEM certificate (chain); needs "
                   "--tls-key. SIGHUP re-reads both")
      ->check(CLI::ExistingFile);
  serve_cmd
      ->add_option("--tls-key", serve.tls_key,
                   "The certificate's PEM private key (no passphrase)")
      ->check(CLI::ExistingFile);

  serve_cmd->add_option("--worker-endpoint", serve.worker_endpoint,
                        "ZeroMQ endpoint for trigger workers (default: "
                        "ipc://<data>/workers.sock)");
  serve_cmd->add_option("--worker-bin", serve.worker_binary,
                        "eddy-worker binary (default: beside eddy)");
  serve_cmd->add_option(
      "--auth", serve.auth_file,
      "Identities and policies (JSON; see `eddy auth add`): every request "
      "must be SigV4-signed by one of them");
  serve_cmd->add_flag("--allow-anonymous", serve.allow_anonymous,
                      "Without --auth, listen on a non-loopback address "
                      "anyway (any signature accepted)");
  serve_cmd->add_option("--handler-dir", serve.handler_dir,
                        "Trigger handler libraries load only from this "
                        "directory (default: <data>/handlers, created if "
                        "missing)");
  serve_cmd->add_option("--failure-dir", serve.failure_dir,
                        "Triggers' on-failure files (file:NAME) are written "
                        "only in this directory (default: <data>/failures, "
                        "created if missing)");
  serve_cmd->add_option("--worker-user", serve.worker_user,
                        "Run trigger workers as this user (needs a server "
                        "started as root)");
  serve_cmd->add_flag(
      "--enforce-capacity", serve.enforce_capacity,
      "Throttle tables in PROVISIONED billing mode (and their GSIs) at their "
      "read and write capacity units, with DynamoDB's burst capacity: "
      "requests beyond it get ProvisionedThroughputExceededException "
      "(default: off, as DynamoDB Local never throttles)");
  serve_cmd
      ->add_option("--capacity-burst-seconds", serve.capacity_burst_seconds,
                   "With --enforce-capacity: the unused capacity a table "
                   "keeps for bursts, in seconds of its throughput "
                   "(DynamoDB: 300; less throttles sooner)")
      ->capture_default_str();
  serve_cmd->add_option(
      "--cors-origins", serve.cors_origins,
      "Browser origins allowed to call the API (CORS): '*', a comma-separated "
      "list of scheme://host[:port], or 'none' (default: '*' when anonymous "
      "on loopback, none with --auth)");

  CLI::App* stream_cmd = app.add_subcommand("stream", "Read change streams");
  stream_cmd->require_subcommand(1);
  eddy::runtime::cli::StreamTailOptions tail;
  std::string from = "latest";
  CLI::App* tail_cmd = stream_cmd->add_subcommand(
      "tail", "Print a table's stream records as JSON lines as they commit");
  tail_cmd->add_option("table", tail.table, "Table name")->required();
  tail_cmd->add_option("--from", from, "trim-horizon or latest")
      ->check(CLI::IsMember({"trim-horizon", "latest"}))
      ->capture_default_str();
  tail_cmd->add_option("--endpoint", tail.endpoint, "Eddy's endpoint")
      ->capture_default_str();
  tail_cmd->add_option("--ca-bundle", tail.ca_bundle,
                       eddy::runtime::cli::kCaBundleHelp);
  tail_cmd->add_option("-n,--max-records", tail.max_records,
                       "Exit after this many records");
  tail_cmd->add_flag("--no-follow", tail.no_follow,
                     "Exit once the records present now are printed");

  eddy::runtime::cli::TriggerCommands trigger(&app);
  eddy::runtime::cli::TtlCommands ttl(&app);
  eddy::runtime::cli::AuthCommands auth(&app);
  eddy::runtime::cli::SnapshotCommand snapshot(&app);
  eddy::runtime::cli::RunnerCommands runner(&app);
  eddy::runtime::cli::HandlerCommands handler_cmd(&app);

  CLI11_PARSE(app, argc, argv);
  if (serve_cmd->parsed()) return Serve(serve);
  if (trigger.parsed()) return trigger.Run();
  if (ttl.parsed()) return ttl.Run();
  if (auth.parsed()) return auth.Run();
  if (snapshot.parsed()) return snapshot.Run();
  if (runner.parsed()) return runner.Run();
  if (handler_cmd.parsed()) return handler_cmd.Run();
  if (tail_cmd->parsed()) {
    tail.from_trim_horizon = from == "trim-horizon";
    static std::atomic<bool> stop{false};
    std::signal(SIGINT, [](int) { stop = true; });
    std::signal(SIGPIPE, SIG_IGN);
    return eddy::runtime::cli::StreamTail(tail, stdout, stop);
  }
  return 0;
}
