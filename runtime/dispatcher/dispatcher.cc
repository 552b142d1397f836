#include "dispatcher/dispatcher.h"

#include <sys/stat.h>
#include <unistd.h>  // environ

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>

#include "dispatcher/failure_document.h"
#include "dispatcher/local_stream_source.h"
#include "dispatcher/shard_delivery.h"
#include "dispatcher/trigger_store.h"
#include "dispatcher/worker_pool.h"
#include "wire/stream_record.h"

namespace eddy::runtime::dispatcher {

struct Trigger {
  TriggerConfig config;
  std::string stream_label;
  uint32_t shard_count = 0;  // When created (informational).
  int64_t created_ms = 0;
  std::shared_ptr<store::ChangeStream> stream;  // Null if it is gone.
  std::unique_ptr<LocalStreamSource> source;    // While delivering.
  // By shard index: the next sequence to deliver of each shard the trigger
  // has read. The map is guarded by the dispatcher's mu_ (and written under
  // admin_mu_ too); the values are updated by the deliveries.
  std::map<uint32_t, std::shared_ptr<std::atomic<uint64_t>>> checkpoints;
  // By shard index; guarded by admin_mu_.
  std::map<uint32_t, std::unique_ptr<ShardDelivery>> deliveries;
  std::string worker_group;
  // The workers' environment (WorkerEnvironment), set by StartDelivery.
  std::shared_ptr<const std::vector<std::string>> environment;
  StreamInfo info;  // Of the stream, while delivering.
  TriggerMetrics metrics;
  // The library's resolved path, once it passed the handler directory's
  // rules; otherwise `refused` says why and nothing is delivered, and
  // `refused_state` is the state trigger status shows ("HandlerRefused",
  // or "DestinationRefused" for an on-failure file outside the failure
  // directory).
  std::string handler_path;
  std::string refused;
  std::string refused_state;

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
// `path` made if missing (0700, with its parents), as a realpath.
Result<std::string> PrivateDirectory(const std::string& path) {
  std::error_code ec;
  if (fs::create_directories(path, ec)) {
    fs::permissions(path, fs::perms::owner_all, ec);
  }
  if (ec) {
    return Status::IOError("cannot create " + path + ": " + ec.message());
  }
  if (!fs::is_directory(path, ec)) {
    return Status::InvalidArgument(path + " is not a directory");
  }
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) {
    return Status::IOError("cannot resolve " + path + ": " +
                           std::strerror(errno));
  }
  return std::string(resolved);
}

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

// A "table:" on-failure destination: one item per record, keyed by it.
Status PutFailureItem(store::Database* db, const FailureItem& f) {
  std::shared_ptr<store::Table> table = db->GetTable(f.table);
  if (table == nullptr) {
    return Status::NotFound("on-failure table not found: " + f.table);
  }
  const store::TableSchema& schema = table->schema();
  if (schema.range_key || schema.hash_key.type != store::ValueType::kS) {
    return Status::InvalidArgument("on-failure table " + f.table +
                                   " must have a string hash key only");
  }
  store::Item item;
  item[schema.hash_key.name] = store::AttributeValue::String(f.id);
  item["trigger"] = store::AttributeValue::String(f.trigger);
  item["failure"] = store::AttributeValue::String(f.failure);
  item["record"] = store::AttributeValue::String(f.record);
  store::WriteOutcome outcome;
  return table->Put(std::move(item), nullptr, &outcome);
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
  if (d->options_.failure_dir.empty()) {
    d->options_.failure_dir = d->options_.data_dir + "/failures";
  }
  EDDY_ASSIGN_OR_RETURN(d->failure_dir_,
                        PrivateDirectory(d->options_.failure_dir));
  d->options_.logger->info("on-failure files are written in {}",
                           d->failure_dir_);
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
  Dispatcher* self = d.get();
  d->sync_thread_ = std::thread([self] { self->SyncLoop(); });
  return d;
}

Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(sync_mu_);
    sync_stop_ = true;
  }
  sync_cv_.notify_all();
  if (sync_thread_.joinable()) sync_thread_.join();
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
    for (const auto& [i, next] : s.checkpoints) {
      t->checkpoints[i] = std::make_shared<std::atomic<uint64_t>>(next);
    }
    if (t->stream == nullptr) {
      options_.logger->warn("trigger {}: the stream {} of table {} is gone",
                            t->config.name, t->stream_label, t->config.table);
    }
    // Never run a library the rules refuse (one stored by an earlier Eddy
    // from anywhere on disk, or a file changed since); keep the trigger
    // listed, with the reason, and its checkpoints.
    Result<std::string> handler = CheckHandler(t->config);
    Status destination = CheckFailureFile(&t->config);
    if (handler.ok()) t->handler_path = std::move(*handler);
    if (!handler.ok()) {
      t->refused = handler.status().message();
      t->refused_state = "HandlerRefused";
      options_.logger->error(
          "trigger {}: its handler is refused, so it does not run until "
          "`eddy trigger update {} --handler ...` passes the check: {}",
          t->config.name, t->config.name, t->refused);
    } else if (!destination.ok()) {
      // Stored by an earlier Eddy, which wrote anywhere it was told.
      t->refused = destination.message();
      t->refused_state = "DestinationRefused";
      options_.logger->error(
          "trigger {}: its on-failure file is refused, so it does not run "
          "until `eddy trigger update {} --on-failure ...` passes the check: "
          "{}",
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
  t->source = std::make_unique<LocalStreamSource>(t->stream, StreamArnOf(*t),
                                                  options_.logger);
  const store::StreamDescription description = t->stream->description();
  t->info = StreamInfo();
  t->info.stream_arn = StreamArnOf(*t);
  t->info.table = t->config.table;
  t->info.view_type = description.view_type;
  t->info.hash_key = description.hash_key;
  if (auto table = options_.db->GetTable(t->config.table); table != nullptr) {
    t->info.hash_key = table->schema().hash_key.name;
  }
  // The workers' whole environment: the trigger's, not the server's.
  t->environment = std::make_shared<const std::vector<std::string>>(
      WorkerEnvironment(t->config, environ));
  SyncShards(t);
}

bool Dispatcher::ShardFinished(const Trigger& t, uint32_t index) const {
  auto it = t.checkpoints.find(index);
  if (it == t.checkpoints.end()) return false;
  const streams::ShardLog* log = t.stream->shard(index);
  // Sealed first: no record follows a seal, so last_sequence is final.
  return log != nullptr && log->sealed() &&
         it->second->load() > log->last_sequence();
}

void Dispatcher::SyncShards(Trigger* t) {
  if (!t->active() || t->source == nullptr) return;
  const uint32_t first = t->stream->first_shard();
  const uint32_t count = t->stream->shard_count();
  // Retired shards (every record expired) are forgotten.
  for (auto it = t->checkpoints.begin();
       it != t->checkpoints.end() && it->first < first;) {
    if (auto d = t->deliveries.find(it->first); d != t->deliveries.end()) {
      d->second->Stop();
      t->deliveries.erase(d);
    }
    store_->RemoveCheckpoint(t->config.name, it->first).IgnoreError();
    std::lock_guard<std::mutex> lock(mu_);
    it = t->checkpoints.erase(it);
  }
  for (uint32_t i = first; i < count; ++i) {
    if (auto d = t->deliveries.find(i); d != t->deliveries.end()) {
      // A delivery ends on its own at the end of its (closed) shard.
      if (!d->second->finished()) continue;
      d->second->Stop();
      t->deliveries.erase(d);
    }
    if (ShardFinished(*t, i)) continue;
    // A child starts once its parent is finished (per-key order).
    const int64_t parent = t->stream->parent_shard(i);
    if (parent >= first && !ShardFinished(*t, static_cast<uint32_t>(parent))) {
      continue;
    }
    if (t->checkpoints.count(i) == 0) {
      // A shard of a later generation: read whole.
      const uint64_t start = t->stream->shard(i)->first_sequence();
      Status saved = store_->SaveCheckpoint(t->config.name, i, start);
      if (!saved.ok()) {
        options_.logger->error("trigger {} shard {}: {}", t->config.name, i,
                               saved.ToString());
        continue;
      }
      std::lock_guard<std::mutex> lock(mu_);
      t->checkpoints[i] = std::make_shared<std::atomic<uint64_t>>(start);
    }
    StartShard(t, i);
  }
}

void Dispatcher::StartShard(Trigger* t, uint32_t i) {
  const store::StreamDescription description = t->stream->description();
  std::shared_ptr<std::atomic<uint64_t>> checkpoint = t->checkpoints.at(i);
  store::Database* db = options_.db;
  ShardDeliveryContext ctx;
  ctx.config = t->config;
  ctx.config.handler = t->handler_path;  // Resolved in the handler dir.
  ctx.source = t->source.get();
  ctx.stream = t->info;
  ctx.shard_id = wire::ShardId(description, i);
  ctx.start = ShardPosition::At(wire::SequenceString(checkpoint->load()));
  ctx.reader = t->source->OpenShardIndex(i, ctx.start);
  ctx.function_arn = "arn:aws:lambda:" + options_.region + ":" +
                     options_.account_id + ":function:" + t->config.name;
  ctx.region = options_.region;
  ctx.worker_group = t->worker_group;
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
  ctx.limits.max_workers = static_cast<size_t>(t->stream->width()) *
                           static_cast<size_t>(t->config.parallelization);
  ctx.limits.memory_bytes = static_cast<uint64_t>(t->config.memory_mb) << 20;
  ctx.limits.environment = t->environment;
  ctx.pool = pool_.get();
  ctx.metrics = &t->metrics;
  // Checkpoints stay the shard log's number of the next record to read
  // (trigger_store.h).
  streams::ShardLog* log = t->stream->shard(i);
  ctx.save_checkpoint = [this, log, i, checkpoint,
                         name = t->config.name](const ShardCheckpoint& cp) {
    Result<uint64_t> next = LocalStreamSource::NextSequence(*log, cp.position);
    if (!next.ok()) return next.status();
    EDDY_RETURN_IF_ERROR(store_->SaveCheckpoint(name, i, *next, cp.window));
    checkpoint->store(*next);
    NotifyProgress();
    return Status::OK();
  };
  ctx.put_failure_item = [db](const FailureItem& f) {
    return PutFailureItem(db, f);
  };
  // The end of a closed shard: its children may start.
  ctx.on_stopped = [this](ShardDeliveryContext::StopReason) { WakeSync(); };
  ctx.record_expiry_ms = options_.record_expiry_ms;
  ctx.logger = options_.logger;
  auto delivery = std::make_unique<ShardDelivery>(std::move(ctx));
  delivery->Start();
  t->deliveries[i] = std::move(delivery);
}

void Dispatcher::WakeSync() {
  {
    std::lock_guard<std::mutex> lock(sync_mu_);
    sync_woken_ = true;
  }
  sync_cv_.notify_all();
}

void Dispatcher::SyncLoop() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(sync_mu_);
      // New generations are found by this poll; finished shards wake it.
      sync_cv_.wait_for(lock, std::chrono::milliseconds(200),
                        [this] { return sync_stop_ || sync_woken_; });
      if (sync_stop_) return;
      sync_woken_ = false;
    }
    std::lock_guard<std::mutex> admin(admin_mu_);
    if (stopped_) return;
    std::vector<std::shared_ptr<Trigger>> triggers;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& [name, t] : triggers_) triggers.push_back(t);
    }
    for (auto& t : triggers) SyncShards(t.get());
  }
}

void Dispatcher::StopDelivery(Trigger* t) {
  for (auto& [i, delivery] : t->deliveries) delivery->RequestStop();
  if (!t->worker_group.empty() && pool_) pool_->RetireGroup(t->worker_group);
  for (auto& [i, delivery] : t->deliveries) delivery->Stop();
  t->deliveries.clear();
  t->source.reset();
  t->worker_group.clear();
}

void Dispatcher::NotifyProgress() {
  {
    std::lock_guard<std::mutex> lock(progress_mu_);
    ++progress_;
  }
  progress_cv_.notify_all();
}

Result<std::string> Dispatcher::CheckHandler(
    const TriggerConfig& config) const {
  Result<std::string> path = handler_dir_->Check(config.handler);
  if (path.ok()) return path;
  // Whatever the cause (missing, refused, unreadable), it is the request's
  // Handler that is wrong: a ValidationException.
  return Status::InvalidArgument(path.status().message());
}

Status Dispatcher::CheckFailureFile(TriggerConfig* config) const {
  const std::string file = config->OnFailureFile();
  if (file.empty()) return Status::OK();
  EDDY_ASSIGN_OR_RETURN(std::string path,
                        ConfineFailureFile(failure_dir_, file));
  config->on_failure = "file:" + path;
  return Status::OK();
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
  EDDY_RETURN_IF_ERROR(CheckFailureFile(&config));
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
  t->shard_count = stream->shard_count() - stream->first_shard();
  t->created_ms = NowMs();
  StoredTrigger stored;
  stored.config = t->config;
  stored.stream_label = t->stream_label;
  stored.shard_count = t->shard_count;
  stored.created_ms = t->created_ms;
  // Every live shard, closed ones too: TRIM_HORIZON reads them all
  // (parents before children); LATEST finds the closed ones finished.
  for (uint32_t i = stream->first_shard(); i < stream->shard_count(); ++i) {
    streams::ShardLog* log = stream->shard(i);
    const uint64_t start =
        t->config.starting_position == StartingPosition::kLatest
            ? log->last_sequence() + 1
            : log->first_sequence();
    stored.checkpoints[i] = start;
    t->checkpoints[i] = std::make_shared<std::atomic<uint64_t>>(start);
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
  EDDY_RETURN_IF_ERROR(CheckFailureFile(&config));
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
    t->refused_state.clear();
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
    return Status::InvalidArgument(
        "Trigger " + name + ": the stream " + t->stream_label + " of table " +
        t->config.table + " is gone; there is nothing to replay");
  }
  // Every live shard, closed ones too (parents before children, as
  // SyncShards starts them).
  std::map<uint32_t, uint64_t> starts;
  for (uint32_t i = t->stream->first_shard(); i < t->stream->shard_count();
       ++i) {
    streams::ShardLog* log = t->stream->shard(i);
    if (log == nullptr) continue;
    if (!from_ms) {
      starts[i] = log->first_sequence();
      continue;
    }
    EDDY_ASSIGN_OR_RETURN(starts[i], FirstRecordAtOrAfter(log, *from_ms));
  }
  // Stopped first, so that no delivery writes an older checkpoint after
  // these.
  StopDelivery(t.get());
  Status saved;
  for (const auto& [i, start] : starts) {
    saved = store_->SaveCheckpoint(name, i, start, std::nullopt);
    if (!saved.ok()) break;
    std::lock_guard<std::mutex> lock(mu_);
    std::shared_ptr<std::atomic<uint64_t>>& checkpoint = t->checkpoints[i];
    if (checkpoint == nullptr) {
      checkpoint = std::make_shared<std::atomic<uint64_t>>(start);
    } else {
      checkpoint->store(start);
    }
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
  std::string refused_state;
  {
    std::lock_guard<std::mutex> lock(mu_);
    s.config = t->config;
    s.state_reason = t->refused;
    refused_state = t->refused_state;
  }
  s.state = t->stream == nullptr      ? "StreamNotFound"
            : !s.state_reason.empty() ? refused_state
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
  s.recent_errors = m.recent_errors.Snapshot();
  if (t->stream != nullptr) {
    const store::StreamDescription description = t->stream->description();
    std::lock_guard<std::mutex> lock(mu_);
    for (uint32_t i = t->stream->first_shard(); i < t->stream->shard_count();
         ++i) {
      ShardStatus shard;
      shard.shard_id = wire::ShardId(description, i);
      shard.checkpoint = CheckpointOf(*t, i);
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

uint64_t Dispatcher::CheckpointOf(const Trigger& t, uint32_t index) const {
  auto it = t.checkpoints.find(index);
  if (it != t.checkpoints.end()) return it->second->load();
  // Not read yet (a child waiting for its parent): all of it is pending.
  const streams::ShardLog* log = t.stream->shard(index);
  return log != nullptr ? log->first_sequence() : 0;
}

std::vector<BarrierTarget> Dispatcher::Barrier(
    const std::optional<std::string>& table) {
  std::vector<BarrierTarget> targets;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [name, t] : triggers_) {
    if (table && t->config.table != *table) continue;
    if (!t->active()) continue;
    for (uint32_t i = t->stream->first_shard(); i < t->stream->shard_count();
         ++i) {
      const uint64_t last = t->stream->shard(i)->last_sequence();
      if (CheckpointOf(*t, i) <= last) {
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
    // A retired shard's records are gone: nothing left to wait for.
    if (!t.active() || target.shard < t.stream->first_shard()) continue;
    if (CheckpointOf(t, target.shard) > target.sequence) continue;
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
