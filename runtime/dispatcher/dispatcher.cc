#include "dispatcher/dispatcher.h"

#include <sys/stat.h>
#include <unistd.h>  // environ

#include <atomic>
#include <filesystem>

#include "api/stream_format.h"
#include "dispatcher/shard_delivery.h"
#include "dispatcher/trigger_store.h"
#include "dispatcher/worker_pool.h"

namespace eddy::runtime::dispatcher {

struct Trigger {
  TriggerConfig config;
  std::string stream_label;
  uint32_t shard_count = 0;
  int64_t created_ms = 0;
  std::shared_ptr<store::ChangeStream> stream;  // Null if it is gone.
  std::unique_ptr<std::atomic<uint64_t>[]> checkpoints;
  std::vector<std::unique_ptr<ShardDelivery>> deliveries;
  std::string worker_group;
  TriggerMetrics metrics;
  // The library's resolved path, once it passed the handler directory's
  // rules; otherwise `refused` says why and nothing is delivered.
  std::string handler_path;
  std::string refused;

  bool active() const {
    return config.enabled && stream != nullptr && refused.empty();
  }
};

namespace {

namespace fs = std::filesystem;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string DefaultWorkerBinary() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "eddy-worker";
  return (self.parent_path() / "eddy-worker").string();
}

// sun_path holds 108 bytes; beyond that use an abstract socket.
std::string DefaultEndpoint(const std::string& data_dir) {
  std::error_code ec;
  const std::string path =
      (fs::absolute(data_dir, ec) / "workers.sock").lexically_normal().string();
  if (path.size() < 100) return "ipc://" + path;
  return "ipc://@eddy-workers-" + std::to_string(::getpid());
}

std::shared_ptr<store::ChangeStream> EnabledStream(store::Database* db,
                                                   const std::string& table) {
  for (auto& stream : db->ListStreams(table)) {
    if (stream->description().enabled()) return stream;
  }
  return nullptr;
}

// A "table:" on-failure destination must exist with a string hash key and
// no range key (one item per dead-lettered record).
Status CheckFailureTable(store::Database* db, const TriggerConfig& config) {
  const std::string name = config.OnFailureTable();
  if (name.empty()) return Status::OK();
  std::shared_ptr<store::Table> table = db->GetTable(name);
  if (table == nullptr) {
    return Status::InvalidArgument("OnFailureDestination table not found: " +
                                   name);
  }
  if (table->schema().range_key ||
      table->schema().hash_key.type != store::ValueType::kS) {
    return Status::InvalidArgument(
        "OnFailureDestination table " + name +
        " must have a string (S) hash key and no range key");
  }
  return Status::OK();
}

}  // namespace

Dispatcher::Dispatcher(Options options) : options_(std::move(options)) {}

Result<std::unique_ptr<Dispatcher>> Dispatcher::Start(Options options) {
  if (options.worker_binary.empty()) {
    options.worker_binary = DefaultWorkerBinary();
  }
  if (options.worker_endpoint.empty() && options.worker_user.empty()) {
    // With a worker user the pool makes a private directory for it.
    options.worker_endpoint = DefaultEndpoint(options.data_dir);
  }
  if (options.handler_dir.empty()) {
    options.handler_dir = options.data_dir + "/handlers";
  }
  std::unique_ptr<Dispatcher> d(new Dispatcher(std::move(options)));
  EDDY_ASSIGN_OR_RETURN(
      d->handler_dir_,
      HandlerDir::Open(d->options_.handler_dir, ::geteuid(), /*create=*/true));
  d->options_.logger->info("handler libraries load from {}",
                           d->handler_dir_->path());
  d->store_ = std::make_unique<TriggerStore>(
      d->options_.data_dir + "/triggers", d->options_.sync, d->options_.logger);
  EDDY_RETURN_IF_ERROR(d->store_->Init());
  WorkerPool::Options pool_options;
  pool_options.endpoint = d->options_.worker_endpoint;
  pool_options.worker_binary = d->options_.worker_binary;
  pool_options.worker_log_level = d->options_.worker_log_level;
  pool_options.handler_dir = d->handler_dir_->path();
  pool_options.handler_owner = d->handler_dir_->owner();
  pool_options.worker_user = d->options_.worker_user;
  pool_options.private_paths = {d->options_.data_dir};
  pool_options.logger = d->options_.logger;
  EDDY_ASSIGN_OR_RETURN(d->pool_, WorkerPool::Start(std::move(pool_options)));
  if (auto identity = d->pool_->worker_identity()) {
    d->handler_dir_->set_reader(identity->first, identity->second);
    d->options_.logger->info("workers run as {} (uid {}, gid {})",
                             d->options_.worker_user, identity->first,
                             identity->second);
  }
  EDDY_RETURN_IF_ERROR(d->Load());
  return d;
}

Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Stop() {
  std::lock_guard<std::mutex> admin(admin_mu_);
  if (stopped_) return;
  stopped_ = true;
  std::vector<std::shared_ptr<Trigger>> triggers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [name, t] : triggers_) triggers.push_back(t);
  }
  // Stop the pool first: it fails invocations in flight at once, so the
  // delivery loops end without waiting for slow handlers.
  if (pool_) pool_->Stop();
  for (auto& t : triggers) StopDelivery(t.get());
  NotifyProgress();
}

Status Dispatcher::Load() {
  EDDY_ASSIGN_OR_RETURN(std::vector<StoredTrigger> stored, store_->LoadAll());
  std::lock_guard<std::mutex> admin(admin_mu_);
  for (StoredTrigger& s : stored) {
    auto t = std::make_shared<Trigger>();
    t->config = std::move(s.config);
    t->stream_label = std::move(s.stream_label);
    t->shard_count = s.shard_count;
    t->created_ms = s.created_ms;
    t->stream = options_.db->GetStream(t->config.table, t->stream_label);
    if (t->stream != nullptr && t->stream->shard_count() != t->shard_count) {
      options_.logger->error("trigger {}: stream {} has {} shards, not {}",
                             t->config.name, t->stream_label,
                             t->stream->shard_count(), t->shard_count);
      t->stream = nullptr;
    }
    t->checkpoints = std::make_unique<std::atomic<uint64_t>[]>(t->shard_count);
    for (uint32_t i = 0; i < t->shard_count; ++i) {
      t->checkpoints[i].store(s.checkpoints[i]);
    }
    if (t->stream == nullptr) {
      options_.logger->warn("trigger {}: the stream {} of table {} is gone",
                            t->config.name, t->stream_label, t->config.table);
    }
    // Never run a library the rules refuse (one stored by an earlier Eddy
    // from anywhere on disk, or a file changed since); keep the trigger
    // listed, with the reason, and its checkpoints.
    Result<std::string> handler = CheckHandler(t->config);
    if (handler.ok()) {
      t->handler_path = std::move(*handler);
    } else {
      t->refused = handler.status().message();
      options_.logger->error(
          "trigger {}: its handler is refused, so it does not run until "
          "`eddy trigger update {} --handler ...` passes the check: {}",
          t->config.name, t->config.name, t->refused);
    }
    StartDelivery(t.get());
    options_.logger->info("trigger {} on {} loaded ({})", t->config.name,
                          t->config.table,
                          t->active() ? "delivering" : "inactive");
    std::lock_guard<std::mutex> lock(mu_);
    triggers_[t->config.name] = std::move(t);
  }
  return Status::OK();
}

std::string Dispatcher::StreamArnOf(const Trigger& t) const {
  return "arn:aws:dynamodb:" + options_.region + ":" + options_.account_id +
         ":table/" + t.config.table + "/stream/" + t.stream_label;
}

void Dispatcher::StartDelivery(Trigger* t) {
  if (!t->active()) return;
  t->worker_group = t->config.name + "#" + std::to_string(++generation_);
  const store::StreamDescription description = t->stream->description();
  std::string partition_key;
  if (auto table = options_.db->GetTable(t->config.table); table != nullptr) {
    partition_key = table->schema().hash_key.name;
  }
  // The workers' whole environment: the trigger's, not the server's.
  const auto environment = std::make_shared<const std::vector<std::string>>(
      WorkerEnvironment(t->config, environ));
  for (uint32_t i = 0; i < t->shard_count; ++i) {
    ShardDeliveryContext ctx;
    ctx.config = t->config;
    ctx.config.handler = t->handler_path;  // Resolved in the handler dir.
    ctx.stream = t->stream;
    ctx.shard = i;
    ctx.shard_id = api::ShardId(description, i);
    ctx.stream_arn = StreamArnOf(*t);
    ctx.function_arn = "arn:aws:lambda:" + options_.region + ":" +
                       options_.account_id + ":function:" + t->config.name;
    ctx.region = options_.region;
    ctx.worker_group = t->worker_group;
    ctx.partition_key = partition_key;
    if (t->config.tumbling_window_s > 0) {
      // The open window lives in the checkpoint file (trigger_store.h).
      uint64_t next = 0;
      Status loaded =
          store_->LoadCheckpoint(t->config.name, i, &next, &ctx.window);
      if (!loaded.ok()) {
        options_.logger->error("trigger {} shard {}: {}", t->config.name, i,
                               loaded.ToString());
      }
    }
    ctx.limits.max_workers = static_cast<size_t>(t->shard_count) *
                             static_cast<size_t>(t->config.parallelization);
    ctx.limits.memory_bytes = static_cast<uint64_t>(t->config.memory_mb) << 20;
    ctx.limits.environment = environment;
    ctx.pool = pool_.get();
    ctx.db = options_.db;
    ctx.store = store_.get();
    ctx.metrics = &t->metrics;
    ctx.checkpoint = &t->checkpoints[i];
    ctx.on_progress = [this] { NotifyProgress(); };
    ctx.record_expiry_ms = options_.record_expiry_ms;
    ctx.logger = options_.logger;
    t->deliveries.push_back(std::make_unique<ShardDelivery>(std::move(ctx)));
  }
  for (auto& delivery : t->deliveries) delivery->Start();
}

void Dispatcher::StopDelivery(Trigger* t) {
  for (auto& delivery : t->deliveries) delivery->RequestStop();
  if (!t->worker_group.empty() && pool_) pool_->RetireGroup(t->worker_group);
  for (auto& delivery : t->deliveries) delivery->Stop();
  t->deliveries.clear();
  t->worker_group.clear();
}

void Dispatcher::NotifyProgress() {
  {
    std::lock_guard<std::mutex> lock(progress_mu_);
    ++progress_;
  }
  progress_cv_.notify_all();
}

Result<std::string> Dispatcher::CheckHandler(const TriggerConfig& config) const {
  Result<std::string> path = handler_dir_->Check(config.handler);
  if (path.ok()) return path;
  // Whatever the cause (missing, refused, unreadable), it is the request's
  // Handler that is wrong: a ValidationException.
  return Status::InvalidArgument(path.status().message());
}

Result<TriggerStatus> Dispatcher::CreateTrigger(TriggerConfig config) {
  std::lock_guard<std::mutex> admin(admin_mu_);
  if (stopped_) return Status::Busy("the dispatcher is stopping");
  if (config.name.empty() && !config.table.empty()) {
    const std::string stem = fs::path(config.handler).stem().string();
    const std::string base = config.table + "-" + (stem.empty() ? "h" : stem);
    std::lock_guard<std::mutex> lock(mu_);
    config.name = base;
    for (int n = 2; triggers_.count(config.name) != 0; ++n) {
      config.name = base + "-" + std::to_string(n);
    }
  }
  EDDY_RETURN_IF_ERROR(ValidateTriggerConfig(config));
  if (options_.db->GetTable(config.table) == nullptr) {
    return Status::NotFound("Table not found: " + config.table);
  }
  std::shared_ptr<store::ChangeStream> stream =
      EnabledStream(options_.db, config.table);
  if (stream == nullptr) {
    return Status::InvalidArgument(
        "Table " + config.table +
        " has no enabled stream; enable one with StreamSpecification");
  }
  EDDY_ASSIGN_OR_RETURN(std::string handler_path, CheckHandler(config));
  EDDY_RETURN_IF_ERROR(CheckFailureTable(options_.db, config));
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (triggers_.count(config.name) != 0) {
      return Status::AlreadyExists("Trigger already exists: " + config.name);
    }
  }
  auto t = std::make_shared<Trigger>();
  t->config = std::move(config);
  t->handler_path = std::move(handler_path);
  t->stream = stream;
  t->stream_label = stream->description().label;
  t->shard_count = stream->shard_count();
  t->created_ms = NowMs();
  StoredTrigger stored;
  stored.config = t->config;
  stored.stream_label = t->stream_label;
  stored.shard_count = t->shard_count;
  stored.created_ms = t->created_ms;
  t->checkpoints = std::make_unique<std::atomic<uint64_t>[]>(t->shard_count);
  for (uint32_t i = 0; i < t->shard_count; ++i) {
    streams::ShardLog* log = stream->shard(i);
    const uint64_t start =
        t->config.starting_position == StartingPosition::kLatest
            ? log->last_sequence() + 1
            : log->first_sequence();
    stored.checkpoints.push_back(start);
    t->checkpoints[i].store(start);
  }
  EDDY_RETURN_IF_ERROR(store_->Save(stored, /*with_checkpoints=*/true));
  StartDelivery(t.get());
  options_.logger->info("trigger {} created on {} (handler {})", t->config.name,
                        t->config.table, t->handler_path);
  TriggerStatus status = StatusOf(t.get());
  std::lock_guard<std::mutex> lock(mu_);
  triggers_[t->config.name] = std::move(t);
  return status;
}

Result<TriggerStatus> Dispatcher::UpdateTrigger(
    const std::string& name,
    const std::function<Status(TriggerConfig*)>& change) {
  std::lock_guard<std::mutex> admin(admin_mu_);
  if (stopped_) return Status::Busy("the dispatcher is stopping");
  std::shared_ptr<Trigger> t;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = triggers_.find(name);
    if (it == triggers_.end()) {
      return Status::NotFound("Trigger not found: " + name);
    }
    t = it->second;
  }
  TriggerConfig config = t->config;
  EDDY_RETURN_IF_ERROR(change(&config));
  config.name = t->config.name;
  config.table = t->config.table;
  config.starting_position = t->config.starting_position;
  EDDY_RETURN_IF_ERROR(ValidateTriggerConfig(config));
  // Checked even when unchanged: the file may have changed since, and this
  // is how a refused trigger is let run again.
  EDDY_ASSIGN_OR_RETURN(std::string handler_path, CheckHandler(config));
  EDDY_RETURN_IF_ERROR(CheckFailureTable(options_.db, config));
  StopDelivery(t.get());
  StoredTrigger stored;
  stored.config = config;
  stored.stream_label = t->stream_label;
  stored.shard_count = t->shard_count;
  stored.created_ms = t->created_ms;
  Status saved = store_->Save(stored, /*with_checkpoints=*/false);
  if (saved.ok()) {
    std::lock_guard<std::mutex> lock(mu_);  // Readers copy it under mu_.
    t->config = std::move(config);
    t->handler_path = std::move(handler_path);
    t->refused.clear();
  }
  StartDelivery(t.get());
  NotifyProgress();  // A disabled trigger no longer holds barriers.
  if (!saved.ok()) return saved;
  options_.logger->info("trigger {} updated", name);
  return StatusOf(t.get());
}

namespace {

// The number of the first record of `log` created at or after `from_ms`
// (last_sequence() + 1 when there is none): a scan from the oldest
// retained record, which is right even if clocks stepped back.
Result<uint64_t> FirstRecordAtOrAfter(streams::ShardLog* log, int64_t from_ms) {
  uint64_t next = log->first_sequence();
  while (next <= log->last_sequence()) {
    Result<streams::ReadResult> read = log->Read(next, 1024, 4u << 20);
    if (!read.ok() && read.status().IsOutOfRange()) {
      next = log->first_sequence();  // Trimmed meanwhile: go on from there.
      continue;
    }
    EDDY_RETURN_IF_ERROR(read.status());
    if (read->records.empty()) break;
    for (const streams::LogRecord& record : read->records) {
      if (record.timestamp_ms >= from_ms) return record.sequence;
    }
    next = read->next_sequence;
  }
  return log->last_sequence() + 1;
}

}  // namespace

Result<TriggerStatus> Dispatcher::ReplayTrigger(
    const std::string& name, std::optional<int64_t> from_ms) {
  std::lock_guard<std::mutex> admin(admin_mu_);
  if (stopped_) return Status::Busy("the dispatcher is stopping");
  std::shared_ptr<Trigger> t;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = triggers_.find(name);
    if (it == triggers_.end()) {
      return Status::NotFound("Trigger not found: " + name);
    }
    t = it->second;
  }
  if (t->stream == nullptr) {
    return Status::InvalidArgument("Trigger " + name + ": the stream " +
                                   t->stream_label + " of table " +
                                   t->config.table +
                                   " is gone; there is nothing to replay");
  }
  std::vector<uint64_t> starts;
  for (uint32_t i = 0; i < t->shard_count; ++i) {
    streams::ShardLog* log = t->stream->shard(i);
    if (!from_ms) {
      starts.push_back(log->first_sequence());
      continue;
    }
    EDDY_ASSIGN_OR_RETURN(uint64_t start, FirstRecordAtOrAfter(log, *from_ms));
    starts.push_back(start);
  }
  // Stopped first, so that no delivery writes an older checkpoint after
  // these.
  StopDelivery(t.get());
  Status saved;
  for (uint32_t i = 0; i < t->shard_count && saved.ok(); ++i) {
    saved = store_->SaveCheckpoint(name, i, starts[i], std::nullopt);
    if (saved.ok()) t->checkpoints[i].store(starts[i]);
  }
  StartDelivery(t.get());
  NotifyProgress();
  if (!saved.ok()) return saved;
  options_.logger->info("trigger {} replays from {}", name,
                        from_ms ? std::to_string(*from_ms) + " ms"
                                : std::string("the trim horizon"));
  return StatusOf(t.get());
}

Status Dispatcher::DeleteTrigger(const std::string& name) {
  std::lock_guard<std::mutex> admin(admin_mu_);
  std::shared_ptr<Trigger> t;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = triggers_.find(name);
    if (it == triggers_.end()) {
      return Status::NotFound("Trigger not found: " + name);
    }
    t = it->second;
  }
  StopDelivery(t.get());
  EDDY_RETURN_IF_ERROR(store_->Remove(name));
  {
    std::lock_guard<std::mutex> lock(mu_);
    triggers_.erase(name);
  }
  NotifyProgress();
  options_.logger->info("trigger {} deleted", name);
  return Status::OK();
}

TriggerStatus Dispatcher::StatusOf(Trigger* t) {
  TriggerStatus s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    s.config = t->config;
    s.state_reason = t->refused;
  }
  s.state = t->stream == nullptr      ? "StreamNotFound"
            : !s.state_reason.empty() ? "HandlerRefused"
            : s.config.enabled        ? "Enabled"
                                      : "Disabled";
  s.stream_arn = StreamArnOf(*t);
  s.created_ms = t->created_ms;
  const TriggerMetrics& m = t->metrics;
  s.invocations = m.invocations.load();
  s.errors = m.errors.load();
  s.retries = m.retries.load();
  s.records_handled = m.records_handled.load();
  s.dead_lettered = m.dead_lettered.load();
  s.filtered = m.filtered.load();
  s.skipped_trimmed = m.skipped_trimmed.load();
  s.iterator_age_ms = m.iterator_age_ms.load();
  if (t->stream != nullptr) {
    const store::StreamDescription description = t->stream->description();
    for (uint32_t i = 0; i < t->shard_count; ++i) {
      ShardStatus shard;
      shard.shard_id = api::ShardId(description, i);
      shard.checkpoint = t->checkpoints[i].load();
      shard.last_sequence = t->stream->shard(i)->last_sequence();
      if (shard.last_sequence >= shard.checkpoint) {
        s.pending_records += shard.last_sequence + 1 - shard.checkpoint;
      }
      s.shards.push_back(std::move(shard));
    }
  }
  return s;
}

std::vector<TriggerStatus> Dispatcher::ListTriggers(
    const std::optional<std::string>& table) {
  std::vector<std::shared_ptr<Trigger>> triggers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [name, t] : triggers_) {
      if (!table || t->config.table == *table) triggers.push_back(t);
    }
  }
  std::vector<TriggerStatus> out;
  for (auto& t : triggers) out.push_back(StatusOf(t.get()));
  return out;
}

Result<TriggerStatus> Dispatcher::GetTriggerStatus(const std::string& name) {
  std::shared_ptr<Trigger> t;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = triggers_.find(name);
    if (it == triggers_.end()) {
      return Status::NotFound("Trigger not found: " + name);
    }
    t = it->second;
  }
  return StatusOf(t.get());
}

std::vector<BarrierTarget> Dispatcher::Barrier(
    const std::optional<std::string>& table) {
  std::vector<BarrierTarget> targets;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [name, t] : triggers_) {
    if (table && t->config.table != *table) continue;
    if (!t->active()) continue;
    for (uint32_t i = 0; i < t->shard_count; ++i) {
      const uint64_t last = t->stream->shard(i)->last_sequence();
      if (t->checkpoints[i].load() <= last) {
        targets.push_back(BarrierTarget{name, i, last});
      }
    }
  }
  return targets;
}

std::vector<BarrierTarget> Dispatcher::Unreached(
    std::vector<BarrierTarget> targets) {
  std::vector<BarrierTarget> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (BarrierTarget& target : targets) {
    auto it = triggers_.find(target.trigger);
    if (it == triggers_.end()) continue;
    const Trigger& t = *it->second;
    if (!t.active() || target.shard >= t.shard_count) continue;
    if (t.checkpoints[target.shard].load() > target.sequence) continue;
    out.push_back(std::move(target));
  }
  return out;
}

std::vector<BarrierTarget> Dispatcher::WaitForBarrier(
    std::vector<BarrierTarget> targets, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    uint64_t seen;
    {
      std::lock_guard<std::mutex> lock(progress_mu_);
      seen = progress_;
    }
    targets = Unreached(std::move(targets));
    if (targets.empty() || std::chrono::steady_clock::now() >= deadline) {
      return targets;
    }
    std::unique_lock<std::mutex> lock(progress_mu_);
    progress_cv_.wait_until(lock, deadline, [&] { return progress_ != seen; });
  }
}

void Dispatcher::AppendMetrics(std::string* out) {
  const std::vector<TriggerStatus> all = ListTriggers(std::nullopt);
  struct Series {
    const char* name;
    const char* type;
    const char* help;
    uint64_t TriggerStatus::*field;
  };
  static constexpr Series kSeries[] = {
      {"eddy_trigger_invocations_total", "counter",
       "Handler invocations by trigger.", &TriggerStatus::invocations},
      {"eddy_trigger_errors_total", "counter",
       "Invocations that failed (function errors, crashes, timeouts).",
       &TriggerStatus::errors},
      {"eddy_trigger_retries_total", "counter",
       "Invocations repeated after a failure.", &TriggerStatus::retries},
      {"eddy_trigger_records_handled_total", "counter",
       "Records the handler processed successfully.",
       &TriggerStatus::records_handled},
      {"eddy_trigger_records_dead_lettered_total", "counter",
       "Records given up on (sent to the on-failure destination).",
       &TriggerStatus::dead_lettered},
      {"eddy_trigger_records_filtered_total", "counter",
       "Records dropped by the trigger's filters.", &TriggerStatus::filtered},
      {"eddy_trigger_pending_records", "gauge",
       "Records committed and not yet finished.",
       &TriggerStatus::pending_records},
  };
  auto labels = [](const TriggerStatus& s) {
    return "{trigger=\"" + s.config.name + "\",table=\"" + s.config.table +
           "\"}";
  };
  for (const Series& series : kSeries) {
    *out += std::string("# HELP ") + series.name + " " + series.help + "\n";
    *out += std::string("# TYPE ") + series.name + " " + series.type + "\n";
    for (const TriggerStatus& s : all) {
      *out += series.name + labels(s) + " " + std::to_string(s.*series.field) +
              "\n";
    }
  }
  *out +=
      "# HELP eddy_trigger_iterator_age_ms Age of the last record of the "
      "last batch when it finished (0 when caught up).\n"
      "# TYPE eddy_trigger_iterator_age_ms gauge\n";
  for (const TriggerStatus& s : all) {
    *out += "eddy_trigger_iterator_age_ms" + labels(s) + " " +
            std::to_string(s.iterator_age_ms) + "\n";
  }
  if (pool_) {
    const WorkerPool::Stats stats = pool_->stats();
    *out +=
        "# HELP eddy_workers_live Worker processes running.\n"
        "# TYPE eddy_workers_live gauge\neddy_workers_live " +
        std::to_string(stats.live) +
        "\n# HELP eddy_workers_spawned_total Worker processes started.\n"
        "# TYPE eddy_workers_spawned_total counter\n"
        "eddy_workers_spawned_total " +
        std::to_string(stats.spawned) +
        "\n# HELP eddy_worker_crashes_total Workers that died during an "
        "invocation.\n# TYPE eddy_worker_crashes_total counter\n"
        "eddy_worker_crashes_total " +
        std::to_string(stats.crashes) +
        "\n# HELP eddy_worker_timeouts_total Workers killed for outliving "
        "an invocation timeout.\n# TYPE eddy_worker_timeouts_total counter\n"
        "eddy_worker_timeouts_total " +
        std::to_string(stats.timeouts) + "\n";
  }
}

}  // namespace eddy::runtime::dispatcher
