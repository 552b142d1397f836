#include "runner/runner.h"

#include <unistd.h>  // environ

#include <filesystem>
#include <random>

#include "wire/item_json.h"

namespace eddy::runtime::runner {
namespace {

namespace fs = std::filesystem;
using dispatcher::ShardPosition;

// Upper bound of worker processes: they start on demand, so this is just a
// ceiling above held shards x ParallelizationFactor.
constexpr size_t kMaxWorkers = 256;

std::string DefaultWorkerBinary() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "eddy-worker";
  return (self.parent_path() / "eddy-worker").string();
}

std::string DefaultId() {
  char host[256] = "";
  if (::gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  std::random_device random;
  char tag[16];
  std::snprintf(tag, sizeof(tag), "%04x", random() & 0xffff);
  return std::string(host[0] != '\0' ? host : "runner") + "-" +
         std::to_string(::getpid()) + "-" + tag;
}

// DynamoDB serves the Streams API on a host of its own.
std::string StreamsEndpointFor(const std::string& endpoint) {
  const std::string from = "://dynamodb.";
  const size_t at = endpoint.find(from);
  if (at == std::string::npos ||
      endpoint.find(".amazonaws.com") == std::string::npos) {
    return endpoint;
  }
  return endpoint.substr(0, at) + "://streams.dynamodb." +
         endpoint.substr(at + from.size());
}

bool IsGroupName(const std::string& group) {
  if (group.empty() || group.size() > 64) return false;
  for (char c : group) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// "what: why", with a hint for an identity the endpoint refuses.
Status Explain(const std::string& what, const Status& s) {
  std::string message = what + ": " + s.message();
  const std::string& m = s.message();
  if (m.find("UnrecognizedClient") != std::string::npos ||
      m.find("InvalidSignature") != std::string::npos ||
      m.find("MissingAuthenticationToken") != std::string::npos) {
    message +=
        " (the endpoint does not accept these credentials: check "
        "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the profile, and "
        "--region)";
  } else if (m.find("AccessDenied") != std::string::npos) {
    message +=
        " (the identity lacks a permission a runner needs; docs/scaling.md "
        "lists them)";
  }
  if (s.code() == Status::Code::kBusy) return Status::Busy(message);
  if (s.IsNotFound()) return Status::NotFound(message);
  return Status::InvalidArgument(message);
}

std::string Label(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<Runner>> Runner::Start(RunnerOptions options) {
  std::unique_ptr<Runner> runner(new Runner(std::move(options)));
  Status s = runner->Init();
  if (!s.ok()) {
    runner->Shutdown(/*graceful=*/false);
    return s;
  }
  return runner;
}

Runner::~Runner() { Shutdown(/*graceful=*/false); }

Status Runner::Init() {
  RunnerOptions& o = options_;
  if (!o.logger) return Status::InvalidArgument("no logger");
  if (!IsGroupName(o.group)) {
    return Status::InvalidArgument(
        "--group must be 1 to 64 of [A-Za-z0-9_.-]: " + o.group);
  }
  if (o.lease_duration_ms < 300) {
    return Status::InvalidArgument("--lease-duration must be at least 300ms");
  }
  if (o.poll_interval_ms < 0) {
    return Status::InvalidArgument("--poll-interval must not be negative");
  }
  if (o.id.empty()) o.id = DefaultId();
  o.config.name = o.group;
  EDDY_RETURN_IF_ERROR(dispatcher::ValidateTriggerConfig(o.config));
  if (o.streams_endpoint.empty()) {
    o.streams_endpoint = StreamsEndpointFor(o.endpoint);
  }
  if (o.lease_endpoint.empty()) o.lease_endpoint = o.endpoint;

  // The handler first: a local mistake needs no network to report.
  const fs::path handler(o.config.handler);
  const std::string dir = !o.handler_dir.empty()
                              ? o.handler_dir
                              : fs::absolute(handler).parent_path().string();
  Result<HandlerDir> handlers = HandlerDir::Open(dir, ::geteuid(), false);
  if (!handlers.ok()) return Explain("handler directory", handlers.status());
  Result<std::string> resolved = handlers->Check(
      o.handler_dir.empty() ? handler.filename().string() : o.config.handler);
  if (!resolved.ok()) return Explain("--handler", resolved.status());
  o.config.handler = *resolved;

  // Clients: the standard credentials chain; bounded requests, so that a
  // hung endpoint is an error that backs off, not a stuck thread.
  std::map<std::string, std::shared_ptr<DynamoTransport>> transports;
  auto transport =
      [&](const std::string& endpoint,
          long timeout_ms) -> Result<std::shared_ptr<DynamoTransport>> {
    auto it = transports.find(endpoint);
    if (it != transports.end()) return it->second;
    HttpClientOptions client;
    client.endpoint = endpoint;
    client.ca_bundle = o.ca_bundle;
    client.region = o.region;
    client.connect_timeout_ms = 5'000;
    client.request_timeout_ms = timeout_ms;
    Result<std::unique_ptr<HttpDynamoTransport>> made =
        HttpDynamoTransport::Create(std::move(client));
    if (!made.ok()) return made.status();
    std::shared_ptr<DynamoTransport> shared = std::move(*made);
    transports[endpoint] = shared;
    return shared;
  };
  EDDY_ASSIGN_OR_RETURN(tables_, transport(o.endpoint, 30'000));
  EDDY_ASSIGN_OR_RETURN(std::shared_ptr<DynamoTransport> streams,
                        transport(o.streams_endpoint, 30'000));
  EDDY_ASSIGN_OR_RETURN(std::shared_ptr<DynamoTransport> lease_transport,
                        transport(o.lease_endpoint, 30'000));

  dispatcher::RemoteStreamSource::Options source;
  source.tables = tables_;
  source.streams = streams;
  source.table = o.config.table;
  source.logger = o.logger;
  Result<std::unique_ptr<dispatcher::RemoteStreamSource>> opened =
      dispatcher::RemoteStreamSource::Open(std::move(source));
  if (!opened.ok()) {
    return Explain("table " + o.config.table + " at " + o.endpoint,
                   opened.status());
  }
  source_ = std::move(*opened);
  Result<dispatcher::StreamInfo> described = source_->Describe();
  if (!described.ok()) {
    return Explain("DescribeStream at " + o.streams_endpoint,
                   described.status());
  }
  stream_ = std::move(*described);
  if (!stream_.enabled) {
    return Status::InvalidArgument("the stream of table " + o.config.table +
                                   " is not enabled");
  }
  // arn:<partition>:dynamodb:<region>:<account>:table/...
  std::vector<std::string> parts;
  size_t start = 0;
  for (int i = 0; i < 5; ++i) {
    const size_t colon = stream_.stream_arn.find(':', start);
    if (colon == std::string::npos) break;
    parts.push_back(stream_.stream_arn.substr(start, colon - start));
    start = colon + 1;
  }
  region_ = parts.size() == 5 ? parts[3] : "us-east-1";
  account_ = parts.size() == 5 ? parts[4] : "000000000000";
  EDDY_RETURN_IF_ERROR(CheckAccess());
  EDDY_RETURN_IF_ERROR(CheckFailureTable());

  leases_ =
      std::make_unique<DynamoLeaseStore>(lease_transport, o.group, o.logger);
  Status prepared =
      leases_->Prepare(LeaseGroup{o.group, stream_.stream_arn, o.config.table});
  if (!prepared.ok()) {
    return Explain(
        "lease table " + leases_->table() + " at " + o.lease_endpoint,
        prepared);
  }

  dispatcher::WorkerPool::Options pool;
  pool.worker_binary =
      o.worker_binary.empty() ? DefaultWorkerBinary() : o.worker_binary;
  pool.worker_log_level = o.worker_log_level;
  pool.handler_dir = handlers->path();
  pool.handler_owner = handlers->owner();
  pool.logger = o.logger;
  EDDY_ASSIGN_OR_RETURN(pool_, dispatcher::WorkerPool::Start(std::move(pool)));
  environment_ = std::make_shared<const std::vector<std::string>>(
      dispatcher::WorkerEnvironment(options_.config, environ));

  LeaseCoordinator::Options lc;
  lc.owner = o.id;
  lc.lease_duration_ms = o.lease_duration_ms;
  lc.initial_position =
      o.config.starting_position == dispatcher::StartingPosition::kLatest
          ? ShardPosition::Latest()
          : ShardPosition::TrimHorizon();
  char host[256] = "";
  if (::gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  lc.self.host = host;
  lc.self.pid = ::getpid();
  lc.self.started_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  lc.wake = [this] { Wake(); };
  lc.logger = o.logger;

  if (o.metrics_port >= 0) {
    HttpServerOptions http;
    http.host = o.metrics_host;
    http.port = o.metrics_port;
    http.threads = 1;
    http.logger = o.logger;
    Result<std::unique_ptr<HttpServer>> server = HttpServer::Start(
        http, [this](const HttpRequest& request, HttpResponse* response) {
          const std::string path =
              request.target.substr(0, request.target.find('?'));
          if (request.method == "GET" && path == "/metrics") {
            response->headers.emplace_back(
                "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            response->body = MetricsText();
          } else if (request.method == "GET" && path == "/healthz") {
            response->body = "ok\n";
          } else {
            response->status = 404;
            response->body = "not found\n";
          }
        });
    if (!server.ok()) {
      return Explain("--metrics-port " + std::to_string(o.metrics_port),
                     server.status());
    }
    metrics_ = std::move(*server);
    lc.self.metrics = o.metrics_host + ":" + std::to_string(metrics_->port());
  }
  coordinator_ = std::make_unique<LeaseCoordinator>(
      std::move(lc), leases_.get(), source_.get(),
      static_cast<LeaseCoordinator::Shards*>(this));
  o.logger->info(
      "runner {} of group {}: table {} (stream {}) at {}, handler {}, lease "
      "duration {} ms",
      o.id, o.group, o.config.table, stream_.stream_arn, o.endpoint,
      o.config.handler, o.lease_duration_ms);
  loop_ = std::thread([this] { Loop(); });
  return Status::OK();
}

Status Runner::CheckAccess() {
  // The calls a running runner makes, once, so that a missing right is
  // reported now rather than retried forever.
  Result<std::vector<dispatcher::ShardInfo>> shards = source_->ListShards();
  if (!shards.ok()) {
    return Explain("DescribeStream at " + options_.streams_endpoint,
                   shards.status());
  }
  if (shards->empty()) return Status::OK();
  const dispatcher::ShardInfo& shard = shards->back();
  Result<std::unique_ptr<dispatcher::ShardReader>> reader =
      source_->OpenShard(shard.shard_id, ShardPosition::Latest());
  if (!reader.ok()) return Explain("GetShardIterator", reader.status());
  Result<dispatcher::ShardBatch> read = (*reader)->Read(1, 1 << 20);
  if (!read.ok()) {
    return Explain(
        "GetShardIterator/GetRecords at " + options_.streams_endpoint,
        read.status());
  }
  return Status::OK();
}

Status Runner::CheckFailureTable() {
  const std::string table = options_.config.OnFailureTable();
  if (table.empty()) return Status::OK();
  rapidjson::StringBuffer buffer;
  wire::JsonWriter w(buffer);
  w.StartObject();
  w.Key("TableName");
  w.String(table.c_str());
  w.EndObject();
  Result<rapidjson::Document> d = CallDynamo(
      tables_.get(), DynamoTarget("DescribeTable"), buffer.GetString());
  if (!d.ok())
    return Explain("OnFailureDestination table " + table, d.status());
  const auto& t = (*d)["Table"];
  std::string hash;
  bool range = false;
  for (const auto& key : t["KeySchema"].GetArray()) {
    if (std::string(key["KeyType"].GetString()) == "HASH") {
      hash = key["AttributeName"].GetString();
    } else {
      range = true;
    }
  }
  std::string type;
  for (const auto& def : t["AttributeDefinitions"].GetArray()) {
    if (hash == def["AttributeName"].GetString()) {
      type = def["AttributeType"].GetString();
    }
  }
  if (hash.empty() || range || type != "S") {
    return Status::InvalidArgument(
        "OnFailureDestination table " + table +
        " must have a string (S) hash key and no range key");
  }
  failure_hash_key_ = hash;
  return Status::OK();
}

void Runner::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void Runner::Loop() {
  const auto interval = std::chrono::milliseconds(
      std::max<int64_t>(1, options_.lease_duration_ms / 3));
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
    }
    try {
      coordinator_->RunOnce();
    } catch (const std::exception& e) {
      options_.logger->critical("lease round failed: {}", e.what());
    }
    Reap(/*wait=*/false);
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, interval, [&] { return stop_ || woken_; });
    woken_ = false;
  }
}

void Runner::Reap(bool wait) {
  std::vector<std::unique_ptr<dispatcher::ShardDelivery>> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = stopping_.begin(); it != stopping_.end();) {
      if (wait || (*it)->finished()) {
        done.push_back(std::move(*it));
        it = stopping_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& delivery : done) delivery->Stop();
}

void Runner::Start(const Lease& lease) {
  dispatcher::ShardDeliveryContext ctx;
  ctx.config = options_.config;
  ctx.source = source_.get();
  ctx.stream = stream_;
  ctx.shard_id = lease.shard_id;
  ctx.start = lease.checkpoint;
  if (options_.config.tumbling_window_s > 0) ctx.window = lease.window;
  ctx.function_arn = "arn:aws:lambda:" + region_ + ":" + account_ +
                     ":function:" + options_.group;
  ctx.region = region_;
  ctx.worker_group = "runner";
  ctx.limits.max_workers = kMaxWorkers;
  ctx.limits.memory_bytes = static_cast<uint64_t>(options_.config.memory_mb)
                            << 20;
  ctx.limits.environment = environment_;
  ctx.pool = pool_.get();
  ctx.metrics = &metrics_counters_;
  LeaseCoordinator* coordinator = coordinator_.get();
  const std::string id = lease.shard_id;
  ctx.save_checkpoint = [coordinator, id](const ShardCheckpoint& cp) {
    return coordinator->Checkpoint(id, cp);
  };
  ctx.may_invoke = [coordinator, id] { return coordinator->Holds(id); };
  ctx.on_stopped = [coordinator,
                    id](dispatcher::ShardDeliveryContext::StopReason reason) {
    coordinator->DeliveryStopped(
        id, reason == dispatcher::ShardDeliveryContext::StopReason::kNotOwner);
  };
  ctx.put_failure_item = [this](const dispatcher::FailureItem& f) {
    rapidjson::StringBuffer buffer;
    wire::JsonWriter w(buffer);
    w.StartObject();
    w.Key("TableName");
    w.String(f.table.c_str());
    wire::WriteItemMember(
        "Item",
        {{failure_hash_key_, store::AttributeValue::String(f.id)},
         {"trigger", store::AttributeValue::String(f.trigger)},
         {"failure", store::AttributeValue::String(f.failure)},
         {"record", store::AttributeValue::String(f.record)}},
        &w);
    w.EndObject();
    return CallDynamo(tables_.get(), DynamoTarget("PutItem"),
                      std::string_view(buffer.GetString(), buffer.GetSize()))
        .status();
  };
  ctx.poll_interval_ms = options_.poll_interval_ms;
  ctx.logger = options_.logger;
  auto delivery = std::make_unique<dispatcher::ShardDelivery>(std::move(ctx));
  delivery->Start();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = deliveries_.find(id);
  if (it != deliveries_.end()) {
    it->second->RequestStop();
    stopping_.push_back(std::move(it->second));
  }
  deliveries_[id] = std::move(delivery);
}

bool Runner::Stopped(const std::string& shard_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (deliveries_.count(shard_id) != 0) return false;
  for (const auto& delivery : stopping_) {
    if (delivery->shard_id() == shard_id && !delivery->finished()) return false;
  }
  return true;
}

void Runner::Stop(const std::string& shard_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = deliveries_.find(shard_id);
  if (it == deliveries_.end()) return;
  it->second->RequestStop();
  stopping_.push_back(std::move(it->second));
  deliveries_.erase(it);
}

void Runner::Shutdown(bool graceful) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    stop_ = true;
  }
  cv_.notify_all();
  if (loop_.joinable()) loop_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, delivery] : deliveries_) {
      delivery->RequestStop();
      stopping_.push_back(std::move(delivery));
    }
    deliveries_.clear();
  }
  if (!graceful && pool_) pool_->Stop();  // Ends invocations in flight.
  // Graceful: invocations in flight finish and checkpoint first.
  Reap(/*wait=*/true);
  if (graceful && coordinator_) coordinator_->ReleaseAll();
  if (pool_) pool_->Stop();
  if (metrics_) metrics_->Stop();
  if (options_.logger && coordinator_) {
    options_.logger->info("runner {} stopped{}", options_.id,
                          graceful ? "; its leases are released" : "");
  }
}

int Runner::metrics_port() const { return metrics_ ? metrics_->port() : -1; }

std::string Runner::MetricsText() {
  const std::string labels = "{group=\"" + Label(options_.group) +
                             "\",table=\"" + Label(options_.config.table) +
                             "\"}";
  std::string out;
  auto metric = [&](const char* name, const char* type, const char* help,
                    int64_t value) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name +
           " " + type + "\n" + name + labels + " " + std::to_string(value) +
           "\n";
  };
  const size_t held = coordinator_ ? coordinator_->HeldShards().size() : 0;
  out +=
      "# HELP eddy_runner_info This runner.\n# TYPE eddy_runner_info "
      "gauge\neddy_runner_info{group=\"" +
      Label(options_.group) + "\",runner=\"" + Label(options_.id) +
      "\",stream=\"" + Label(stream_.stream_arn) + "\"} 1\n";
  metric("eddy_runner_leases_held", "gauge", "Shard leases this runner holds.",
         static_cast<int64_t>(held));
  if (coordinator_) {
    const LeaseCoordinator::Stats& s = coordinator_->stats();
    metric("eddy_runner_lease_takes_total", "counter",
           "Unowned or expired leases taken.",
           static_cast<int64_t>(s.takes.load()));
    metric("eddy_runner_handoffs_requested_total", "counter",
           "Leases this runner asked a busier runner to hand over.",
           static_cast<int64_t>(s.handoffs_requested.load()));
    metric("eddy_runner_leases_handed_off_total", "counter",
           "Leases handed over to another runner after stopping cleanly.",
           static_cast<int64_t>(s.handed_off.load()));
    metric("eddy_runner_leases_lost_total", "counter",
           "Held leases taken away or not renewed in time.",
           static_cast<int64_t>(s.lost.load()));
    metric("eddy_runner_leases_released_total", "counter",
           "Leases handed back (shard finished or shutdown).",
           static_cast<int64_t>(s.released.load()));
    metric("eddy_runner_shards_finished_total", "counter",
           "Shards delivered to their end (SHARD_END).",
           static_cast<int64_t>(s.finished.load()));
    metric("eddy_runner_lease_table_errors_total", "counter",
           "Lease table calls that failed (throttling, outages).",
           static_cast<int64_t>(s.store_errors.load()));
  }
  const dispatcher::TriggerMetrics& m = metrics_counters_;
  auto counter = [&](const char* name, const char* help,
                     const std::atomic<uint64_t>& v) {
    metric(name, "counter", help, static_cast<int64_t>(v.load()));
  };
  counter("eddy_trigger_invocations_total", "Handler invocations.",
          m.invocations);
  counter("eddy_trigger_errors_total", "Invocations that failed.", m.errors);
  counter("eddy_trigger_retries_total", "Invocations repeated after a failure.",
          m.retries);
  counter("eddy_trigger_records_handled_total",
          "Records the handler processed successfully.", m.records_handled);
  counter("eddy_trigger_records_dead_lettered_total",
          "Records given up on (sent to the on-failure destination).",
          m.dead_lettered);
  counter("eddy_trigger_records_filtered_total",
          "Records dropped by the filters.", m.filtered);
  counter("eddy_trigger_records_trimmed_total",
          "Records trimmed from the stream before they were read (when "
          "known).",
          m.skipped_trimmed);
  counter("eddy_trigger_trimmed_positions_total",
          "Reads that found their position trimmed "
          "(TrimmedDataAccessException) and resumed at TRIM_HORIZON.",
          m.trim_events);
  counter("eddy_runner_reads_total", "GetRecords calls.", m.reads);
  counter("eddy_runner_empty_reads_total",
          "GetRecords calls that found "
          "nothing new.",
          m.empty_reads);
  counter("eddy_runner_read_errors_total",
          "Reads that failed (throttling, 5xx, unreachable) and were retried "
          "after a backoff.",
          m.read_errors);
  metric("eddy_trigger_iterator_age_ms", "gauge",
         "Age of the last record of the last batch when it finished.",
         m.iterator_age_ms.load());
  if (pool_) {
    const dispatcher::WorkerPool::Stats stats = pool_->stats();
    metric("eddy_workers_live", "gauge", "Worker processes running.",
           static_cast<int64_t>(stats.live));
    metric("eddy_worker_crashes_total", "counter",
           "Workers that died during an invocation.",
           static_cast<int64_t>(stats.crashes));
  }
  return out;
}

}  // namespace eddy::runtime::runner
