#include "cli/runner_cli.h"

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>

#include "cli/client_flags.h"
#include "dispatcher/remote_stream_source.h"
#include "runner/dynamo_lease_store.h"
#include "runner/runner.h"

namespace eddy::runtime::cli {
namespace {

// "10s", "250ms", "2m" or plain seconds -> ms; -1 if malformed.
int64_t DurationMs(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i == 0 || i > 12) return -1;
  const int64_t n = std::stoll(text.substr(0, i));
  const std::string unit = text.substr(i);
  if (unit == "ms") return n;
  if (unit.empty() || unit == "s") return n * 1000;
  if (unit == "m") return n * 60'000;
  return -1;
}

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::shared_ptr<spdlog::logger> RunnerLogger(const std::string& level) {
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");
  auto logger = spdlog::get("runner");
  return logger ? logger : spdlog::stderr_color_mt("runner");
}

}  // namespace

RunnerCommands::RunnerCommands(CLI::App* app) {
  runner_ = app->add_subcommand(
      "runner",
      "Run triggers on the stream of a table at any DynamoDB Streams "
      "endpoint (DynamoDB, Alternator, Eddy), sharing its shards with the "
      "other runners of --group through a lease table");
  runner_->add_option("--endpoint", endpoint_,
                      "The endpoint of the table (e.g. http://127.0.0.1:8000 "
                      "or https://dynamodb.us-east-1.amazonaws.com)");
  runner_->add_option("--streams-endpoint", streams_endpoint_,
                      "The DynamoDB Streams endpoint (default: --endpoint; "
                      "streams.dynamodb.<region>.amazonaws.com for DynamoDB)");
  runner_->add_option("--lease-endpoint", lease_endpoint_,
                      "Where the lease table eddy-leases-<group> lives "
                      "(default: --endpoint)");
  runner_->add_option("--region", region_,
                      "Signing region (default: AWS_REGION, the profile, "
                      "us-east-1)");
  runner_->add_option("--ca-bundle", ca_bundle_, kCaBundleHelp);
  runner_->add_option("--group", group_,
                      "Runners with the same group share the stream's shards "
                      "([A-Za-z0-9_.-], up to 64)");
  runner_->add_option("--table", flags_.table, "Table whose stream drives it");
  runner_->add_option("--handler", flags_.handler,
                      "Handler library (.so), the same as for `eddy trigger "
                      "create`; it loads from its own directory, which must "
                      "pass the handler directory's rules");
  runner_->add_option("--handler-dir", handler_dir_,
                      "Resolve --handler inside this directory instead");
  runner_
      ->add_option("--starting-position", flags_.starting_position,
                   "Where a new group starts: TRIM_HORIZON (default) or "
                   "LATEST")
      ->check(CLI::IsMember({"TRIM_HORIZON", "LATEST"}));
  AddTriggerConfigFlags(runner_, &flags_);
  runner_
      ->add_option("--lease-duration", lease_duration_,
                   "A lease not renewed for this long is taken by another "
                   "runner; renewed every third of it (e.g. 10s, 3000ms)")
      ->capture_default_str();
  runner_
      ->add_option("--poll-interval", poll_interval_,
                   "Wait after an empty GetRecords (e.g. 250ms; 0 polls "
                   "again at once, backing off to 250ms while idle)")
      ->capture_default_str();
  runner_->add_option("--metrics-port", metrics_port_,
                      "Serve GET /metrics and /healthz on this port (0: any "
                      "free port, logged)");
  runner_
      ->add_option("--metrics-host", metrics_host_,
                   "Address of the metrics port")
      ->capture_default_str();
  runner_->add_option("--worker-bin", worker_binary_,
                      "eddy-worker binary (default: beside eddy)");
  runner_
      ->add_option("--log-level", log_level_, "trace, debug, info, warn, error")
      ->capture_default_str();
  runner_->footer(
      "Credentials come from the standard AWS chain (AWS_ACCESS_KEY_ID/"
      "AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws). SIGTERM or SIGINT: "
      "finish the invocations in flight, checkpoint, release the leases "
      "and exit. See docs/scaling.md.");

  status_ = runner_->add_subcommand(
      "status",
      "Show a group's runners, shards, owners, checkpoints and lag (from its "
      "lease table)");
  status_->add_flag("--json", json_, "Print JSON");
  status_->footer(
      "Usage: eddy runner status --group NAME --endpoint URL [--json]; also "
      "--lease-endpoint, --streams-endpoint, --region and --ca-bundle as for "
      "`eddy runner`. PENDING is the number of records after a shard's "
      "checkpoint (up to 1000), LAG the age of the oldest of them, AGE the "
      "iterator age at the last checkpoint.");
  // Shares --group, --endpoint, ... with `runner`.
  status_->fallthrough();
}

int RunnerCommands::Run() {
  if (status_->parsed()) return ShowStatus();
  return RunRunner();
}

int RunnerCommands::RunRunner() {
  for (const auto& [value, flag] :
       {std::pair{&endpoint_, "--endpoint"}, std::pair{&group_, "--group"},
        std::pair{&flags_.table, "--table"},
        std::pair{&flags_.handler, "--handler"}}) {
    if (value->empty()) {
      std::fprintf(stderr, "eddy runner: %s is required\n", flag);
      return 2;
    }
  }
  runner::RunnerOptions options;
  options.endpoint = endpoint_;
  options.streams_endpoint = streams_endpoint_;
  options.lease_endpoint = lease_endpoint_;
  options.region = region_;
  options.ca_bundle = ca_bundle_;
  options.group = group_;
  options.handler_dir = handler_dir_;
  options.lease_duration_ms = DurationMs(lease_duration_);
  options.poll_interval_ms = DurationMs(poll_interval_);
  if (options.lease_duration_ms < 0 || options.poll_interval_ms < 0) {
    std::fprintf(stderr,
                 "eddy runner: --lease-duration and --poll-interval are "
                 "durations such as 10s or 250ms\n");
    return 2;
  }
  options.metrics_host = metrics_host_;
  options.metrics_port = metrics_port_;
  options.worker_binary = worker_binary_;
  options.worker_log_level = log_level_;
  // The same options, defaults and checks as `eddy trigger create`.
  const eddy::Result<std::string> config_json =
      TriggerConfigJson(runner_, flags_, /*for_update=*/false);
  if (!config_json.ok()) {
    std::fprintf(stderr, "eddy runner: %s\n",
                 config_json.status().message().c_str());
    return 2;
  }
  rapidjson::Document json;
  json.Parse(config_json->c_str());
  eddy::Status read =
      dispatcher::ReadTriggerConfig(json, false, &options.config);
  if (!read.ok()) {
    std::fprintf(stderr, "eddy runner: %s\n", read.message().c_str());
    return 2;
  }
  // The runner writes its own on-failure file, where its operator says: a
  // relative path is this shell's (a server confines it to --failure-dir).
  if (const std::string file = options.config.OnFailureFile();
      !file.empty() && file[0] != '/') {
    std::error_code ec;
    const std::filesystem::path path = std::filesystem::absolute(file, ec);
    if (!ec)
      options.config.on_failure = "file:" + path.lexically_normal().string();
  }
  options.logger = RunnerLogger(log_level_);

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  Result<std::unique_ptr<runner::Runner>> started =
      runner::Runner::Start(std::move(options));
  if (!started.ok()) {
    std::fprintf(stderr, "eddy runner: %s\n",
                 started.status().message().c_str());
    return 1;
  }
  runner::Runner& r = **started;
  if (r.metrics_port() >= 0) {
    spdlog::get("runner")->info("metrics on http://{}:{}/metrics",
                                metrics_host_, r.metrics_port());
  }
  int received = 0;
  sigwait(&signals, &received);
  spdlog::get("runner")->info(
      "received {}: finishing, checkpointing and "
      "releasing the leases",
      strsignal(received));
  r.Shutdown(/*graceful=*/true);
  return 0;
}

int RunnerCommands::ShowStatus() {
  if (endpoint_.empty() || group_.empty()) {
    std::fprintf(stderr,
                 "eddy runner status: --endpoint and --group are "
                 "required\n");
    return 2;
  }
  auto logger = RunnerLogger("warn");
  HttpClientOptions client;
  client.endpoint = lease_endpoint_.empty() ? endpoint_ : lease_endpoint_;
  client.ca_bundle = ca_bundle_;
  client.region = region_;
  client.request_timeout_ms = 30'000;
  Result<std::unique_ptr<HttpDynamoTransport>> leases_transport =
      HttpDynamoTransport::Create(client);
  if (!leases_transport.ok()) {
    std::fprintf(stderr, "eddy runner status: %s\n",
                 leases_transport.status().message().c_str());
    return 1;
  }
  runner::DynamoLeaseStore store(std::move(*leases_transport), group_, logger);
  Result<runner::LeaseGroup> group = store.ReadGroup();
  if (!group.ok()) {
    std::fprintf(stderr, "eddy runner status: group %s at %s: %s\n",
                 group_.c_str(), client.endpoint.c_str(),
                 group.status().message().c_str());
    return 1;
  }
  Result<runner::LeaseTableSnapshot> snapshot = store.Scan();
  if (!snapshot.ok()) {
    std::fprintf(stderr, "eddy runner status: %s\n",
                 snapshot.status().message().c_str());
    return 1;
  }
  // How far behind each unfinished shard is: the records after its
  // checkpoint (up to 1000) and the age of the oldest of them.
  client.endpoint = streams_endpoint_.empty() ? endpoint_ : streams_endpoint_;
  std::shared_ptr<DynamoTransport> streams;
  if (auto t = HttpDynamoTransport::Create(client); t.ok()) {
    streams = std::move(*t);
  }
  std::unique_ptr<dispatcher::RemoteStreamSource> source;
  if (streams) {
    dispatcher::RemoteStreamSource::Options o;
    o.tables = streams;
    o.streams = streams;
    o.table = group->table;
    o.stream_arn = group->stream_arn;
    o.logger = logger;
    if (auto opened = dispatcher::RemoteStreamSource::Open(std::move(o));
        opened.ok()) {
      source = std::move(*opened);
    }
  }
  const int64_t now = WallMs();
  std::map<std::string, int> held;
  rapidjson::Document out(rapidjson::kObjectType);
  auto& a = out.GetAllocator();
  auto str = [&a](const std::string& s) {
    return rapidjson::Value(s.c_str(),
                            static_cast<rapidjson::SizeType>(s.size()), a);
  };
  out.AddMember("Group", str(group->group), a);
  out.AddMember("Table", str(group->table), a);
  out.AddMember("StreamArn", str(group->stream_arn), a);
  out.AddMember("LeaseTable", str(store.table()), a);
  rapidjson::Value shards(rapidjson::kArrayType);
  std::sort(snapshot->leases.begin(), snapshot->leases.end(),
            [](const runner::Lease& x, const runner::Lease& y) {
              return x.shard_id < y.shard_id;
            });
  for (const runner::Lease& lease : snapshot->leases) {
    if (!lease.owner.empty()) ++held[lease.owner];
    rapidjson::Value s(rapidjson::kObjectType);
    s.AddMember("ShardId", str(lease.shard_id), a);
    rapidjson::Value parents(rapidjson::kArrayType);
    for (const std::string& p : lease.parents) parents.PushBack(str(p), a);
    s.AddMember("Parents", parents, a);
    s.AddMember("Owner", str(lease.owner), a);
    s.AddMember("Checkpoint", str(lease.checkpoint.ToString()), a);
    s.AddMember("Finished", lease.finished(), a);
    s.AddMember("LeaseCounter", lease.counter, a);
    s.AddMember("OwnerSwitches", lease.owner_switches, a);
    s.AddMember("CheckpointAgeMs",
                lease.checkpoint_ms > 0 ? now - lease.checkpoint_ms : -1, a);
    s.AddMember("IteratorAgeMs", lease.iterator_age_ms, a);
    int64_t pending = lease.finished() ? 0 : -1;
    int64_t lag = lease.finished() ? 0 : -1;
    if (!lease.finished() && source != nullptr) {
      auto reader = source->OpenShard(lease.shard_id, lease.checkpoint);
      if (reader.ok()) {
        auto batch = (*reader)->Read(1000, 1 << 20);
        if (batch.ok()) {
          pending = static_cast<int64_t>(batch->records.size());
          lag = batch->records.empty()
                    ? 0
                    : std::max<int64_t>(
                          0, now - batch->records.front().record.timestamp_ms);
        }
      }
    }
    s.AddMember("PendingRecords", pending, a);  // -1: unknown; max 1000.
    s.AddMember("LagMs", lag, a);
    shards.PushBack(s, a);
  }
  rapidjson::Value runners(rapidjson::kArrayType);
  for (const runner::RunnerRecord& r : snapshot->runners) {
    rapidjson::Value v(rapidjson::kObjectType);
    v.AddMember("Id", str(r.id), a);
    v.AddMember("Host", str(r.host), a);
    v.AddMember("Pid", r.pid, a);
    v.AddMember("HeartbeatAgeMs", now - r.heartbeat_ms, a);
    v.AddMember("Leases", held[r.id], a);
    v.AddMember("Metrics", str(r.metrics), a);
    runners.PushBack(v, a);
  }
  out.AddMember("Runners", runners, a);
  out.AddMember("Shards", shards, a);
  if (json_) {
    rapidjson::StringBuffer buffer;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buffer);
    w.SetIndent(' ', 2);
    out.Accept(w);
    std::printf("%s\n", buffer.GetString());
    return 0;
  }
  std::printf("group %s: table %s, stream %s\nlease table %s at %s\n\n",
              group->group.c_str(), group->table.c_str(),
              group->stream_arn.c_str(), store.table().c_str(),
              (lease_endpoint_.empty() ? endpoint_ : lease_endpoint_).c_str());
  std::printf("%-36s %-8s %8s %10s  %s\n", "RUNNER", "PID", "LEASES",
              "HEARTBEAT", "METRICS");
  for (const auto& r : out["Runners"].GetArray()) {
    std::printf("%-36s %-8lld %8d %8llds  %s\n", r["Id"].GetString(),
                static_cast<long long>(r["Pid"].GetInt64()),
                r["Leases"].GetInt(),
                static_cast<long long>(r["HeartbeatAgeMs"].GetInt64() / 1000),
                r["Metrics"].GetString());
  }
  std::printf("\n%-38s %-36s %-9s %9s %9s  %s\n", "SHARD", "OWNER", "PENDING",
              "LAG", "AGE", "CHECKPOINT");
  for (const auto& s : out["Shards"].GetArray()) {
    const int64_t pending = s["PendingRecords"].GetInt64();
    const std::string pending_text = pending < 0 ? "?"
                                     : pending >= 1000
                                         ? "1000+"
                                         : std::to_string(pending);
    const int64_t lag = s["LagMs"].GetInt64();
    std::printf("%-38s %-36s %-9s %8s %8llds  %s\n", s["ShardId"].GetString(),
                s["Owner"].GetStringLength() > 0 ? s["Owner"].GetString() : "-",
                pending_text.c_str(),
                lag < 0 ? "?" : (std::to_string(lag / 1000) + "s").c_str(),
                static_cast<long long>(s["IteratorAgeMs"].GetInt64() / 1000),
                s["Checkpoint"].GetString());
  }
  return 0;
}

}  // namespace eddy::runtime::cli
