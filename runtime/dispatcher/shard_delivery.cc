#include "dispatcher/shard_delivery.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>

#include "api/stream_format.h"
#include "dispatcher/failure_document.h"
#include "dispatcher/record_convert.h"
#include "eddy/store/key_codec.h"

namespace eddy::runtime::dispatcher {
namespace {

// Lambda's synchronous invocation payload limit.
constexpr size_t kMaxBatchBytes = 6u << 20;
// Lambda: a window's state is at most 1 MB; beyond it the window ends early.
constexpr size_t kMaxWindowStateBytes = 1u << 20;

std::atomic<uint64_t> g_next_invocation{1};

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The version of the handler file, so that workers reload a rebuilt one.
void StampHandler(const std::string& path, proto::InvokeBatch* batch) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return;  // The worker reports it.
  batch->set_handler_mtime_ns(static_cast<int64_t>(st.st_mtim.tv_sec) *
                                  1000000000 +
                              st.st_mtim.tv_nsec);
  batch->set_handler_inode(st.st_ino);
  batch->set_handler_size(static_cast<uint64_t>(st.st_size));
}

}  // namespace

ShardDelivery::ShardDelivery(ShardDeliveryContext context)
    : ctx_(std::move(context)), log_(ctx_.stream->shard(ctx_.shard)) {
  if (!ctx_.clock_ms) ctx_.clock_ms = SystemNowMs;
  if (!ctx_.config.filters.empty()) {
    // Validated when the trigger was created or updated.
    Result<std::unique_ptr<RecordFilter>> filter =
        RecordFilter::Create(ctx_.config.filters);
    if (filter.ok()) filter_ = std::move(*filter);
  }
  const size_t lanes = ctx_.partition_key.empty()
                           ? 1
                           : static_cast<size_t>(ctx_.config.parallelization);
  for (size_t i = 0; i < lanes; ++i) lanes_.push_back(std::make_unique<Lane>());
  // Enough read-ahead for every lane to have its next batch ready.
  max_pending_ = static_cast<size_t>(ctx_.config.batch_size) * lanes * 2;
  if (ctx_.config.tumbling_window_s > 0 && ctx_.window) {
    window_ = Window{ctx_.window->start_ms, ctx_.window->end_ms,
                     ctx_.window->state, false};
  }
}

ShardDelivery::~ShardDelivery() { Stop(); }

void ShardDelivery::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = false;
    read_next_ = ctx_.checkpoint->load();
    advanced_next_ = read_next_;
  }
  reader_ = std::thread([this] { RunReader(); });
  for (size_t i = 0; i < lanes_.size(); ++i) {
    lanes_[i]->thread = std::thread([this, i] { RunLane(i); });
  }
}

void ShardDelivery::RequestStop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
}

void ShardDelivery::Stop() {
  RequestStop();
  if (reader_.joinable()) reader_.join();
  for (auto& lane : lanes_) {
    if (lane->thread.joinable()) lane->thread.join();
  }
}

bool ShardDelivery::stopping() {
  std::lock_guard<std::mutex> lock(mu_);
  return stop_;
}

bool ShardDelivery::PassesFilters(const store::ChangeRecord& record,
                                  uint64_t sequence) {
  if (filter_ == nullptr) return true;
  // Filters see the record exactly as the handler's event shows it.
  rapidjson::StringBuffer buffer;
  api::JsonWriter writer(buffer);
  api::WriteStreamRecord(record, sequence, ctx_.stream->description().view_type,
                         ctx_.region, ctx_.stream_arn, &writer);
  rapidjson::Document doc;
  doc.Parse(buffer.GetString(), buffer.GetSize());
  return !doc.HasParseError() && filter_->Matches(doc);
}

size_t ShardDelivery::LaneOf(const store::ChangeRecord& record) const {
  if (lanes_.size() == 1) return 0;
  auto it = record.keys.find(ctx_.partition_key);
  if (it == record.keys.end() || it->second.IsSet()) return 0;
  // S, N (canonical text) and B: the same key always hashes the same.
  const uint32_t hash = store::KeyHash(it->second.scalar());
  return hash % lanes_.size();
}

void ShardDelivery::RunReader() noexcept {
  streams::SubscriptionId subscription = 0;
  try {
    subscription = log_->Subscribe([this](uint64_t last) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        notified_ = std::max(notified_, last);
      }
      cv_.notify_all();
    });
    {
      std::lock_guard<std::mutex> lock(mu_);
      notified_ = std::max(notified_, log_->last_sequence());
    }
    ReadLoop();
  } catch (const std::exception& e) {
    ctx_.logger->critical("trigger {} shard {}: reading stopped: {}",
                          ctx_.config.name, ctx_.shard, e.what());
  }
  if (subscription != 0) log_->Unsubscribe(subscription);
}

bool ShardDelivery::Pause(int64_t ms) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stop_; });
  return !stop_;
}

void ShardDelivery::SetCheckpoint(uint64_t next,
                                  std::optional<WindowCheckpoint> window,
                                  uint64_t version) {
  std::lock_guard<std::mutex> lock(checkpoint_mu_);
  // A newer snapshot was written first: this one is stale.
  if (version <= saved_version_) return;
  // Durable before anything that depends on it: a failed write is retried
  // (never skipped), since a lost checkpoint only means repeats.
  while (true) {
    Status saved =
        ctx_.store->SaveCheckpoint(ctx_.config.name, ctx_.shard, next, window);
    if (saved.ok()) break;
    ctx_.logger->error("trigger {} shard {}: cannot save checkpoint: {}",
                       ctx_.config.name, ctx_.shard, saved.ToString());
    if (!Pause(1000)) return;
  }
  saved_version_ = version;
  ctx_.checkpoint->store(next);
  if (ctx_.on_progress) ctx_.on_progress();
}

void ShardDelivery::Advance() {
  uint64_t next;
  uint64_t version;
  std::optional<WindowCheckpoint> window;
  {
    std::lock_guard<std::mutex> lock(mu_);
    while (!slots_.empty() && slots_.front().done) slots_.pop_front();
    next = slots_.empty() ? read_next_ : slots_.front().sequence;
    if (next == advanced_next_ && !window_dirty_) {
      cv_.notify_all();
      return;
    }
    advanced_next_ = next;
    window_dirty_ = false;
    version = ++version_;
    if (window_) {
      window =
          WindowCheckpoint{window_->start_ms, window_->end_ms, window_->state};
    }
  }
  cv_.notify_all();  // Room to read ahead.
  SetCheckpoint(next, std::move(window), version);
}

void ShardDelivery::Finish(const std::vector<Entry>& entries, RecordRange range,
                           const std::string* window_state) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (window_state != nullptr && window_) {
      window_->state = *window_state;
      window_dirty_ = true;
    }
    for (size_t i = range.begin; i < range.end; ++i) {
      auto it = std::lower_bound(
          slots_.begin(), slots_.end(), entries[i].sequence,
          [](const Slot& slot, uint64_t seq) { return slot.sequence < seq; });
      if (it != slots_.end() && it->sequence == entries[i].sequence) {
        it->done = true;
      }
    }
  }
  Advance();
}

void ShardDelivery::ReadLoop() {
  const size_t batch_size = static_cast<size_t>(ctx_.config.batch_size);
  while (true) {
    uint64_t next;
    size_t room;
    {
      std::unique_lock<std::mutex> lock(mu_);
      // A sealed, drained shard has nothing more: this just waits to be
      // stopped.
      cv_.wait(lock, [&] {
        return stop_ ||
               (notified_ >= read_next_ && slots_.size() < max_pending_);
      });
      if (stop_) return;
      next = read_next_;
      room = max_pending_ - slots_.size();
    }
    Result<streams::ReadResult> read =
        log_->Read(next, std::min(room, batch_size * lanes_.size()),
                   kMaxBatchBytes * lanes_.size());
    if (!read.ok()) {
      if (read.status().IsOutOfRange()) {
        // Trimmed before we got to it (the server was down longer than the
        // retention): nothing left to deliver or dead-letter.
        const uint64_t first = log_->first_sequence();
        ctx_.logger->error(
            "trigger {} shard {}: records {}..{} were trimmed before "
            "delivery",
            ctx_.config.name, ctx_.shard, next, first - 1);
        ctx_.metrics->skipped_trimmed.fetch_add(first - next);
        {
          std::lock_guard<std::mutex> lock(mu_);
          read_next_ = first;
        }
        Advance();
        continue;
      }
      ctx_.logger->error("trigger {} shard {}: read failed: {}",
                         ctx_.config.name, ctx_.shard,
                         read.status().ToString());
      if (!Pause(1000)) return;
      continue;
    }
    if (read->records.empty()) continue;

    std::vector<std::pair<size_t, Entry>> routed;
    std::vector<Slot> slots;
    routed.reserve(read->records.size());
    for (streams::LogRecord& raw : read->records) {
      Result<store::ChangeRecord> record = ctx_.stream->Decode(raw);
      if (!record.ok()) {
        // A store bug, not the handler's: log loudly and keep the shard
        // moving rather than block it forever.
        ctx_.logger->critical(
            "trigger {} shard {}: record {} cannot be decoded ({}); "
            "skipping it",
            ctx_.config.name, ctx_.shard, raw.sequence,
            record.status().ToString());
        ctx_.metrics->dead_lettered.fetch_add(1);
        slots.push_back(Slot{raw.sequence, true});
        continue;
      }
      if (!PassesFilters(*record, raw.sequence)) {
        ctx_.metrics->filtered.fetch_add(1);
        slots.push_back(Slot{raw.sequence, true});
        continue;
      }
      Entry entry;
      entry.sequence = raw.sequence;
      entry.timestamp_ms = raw.timestamp_ms;
      entry.record = std::move(*record);
      entry.wire = EncodeStreamRecord(entry.record, raw.sequence);
      entry.sequence_text = api::SequenceString(raw.sequence);
      slots.push_back(Slot{raw.sequence, false});
      const size_t lane = LaneOf(entry.record);
      routed.emplace_back(lane, std::move(entry));
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      slots_.insert(slots_.end(), slots.begin(), slots.end());
      for (auto& [lane, entry] : routed) {
        lanes_[lane]->queue.push_back(std::move(entry));
      }
      read_next_ = read->next_sequence;
    }
    cv_.notify_all();
    Advance();  // Filtered records at the front finish at once.
  }
}

void ShardDelivery::RunLane(size_t lane) noexcept {
  try {
    LaneLoop(lane);
  } catch (const std::exception& e) {
    ctx_.logger->critical("trigger {} shard {} lane {}: delivery stopped: {}",
                          ctx_.config.name, ctx_.shard, lane, e.what());
  }
}

void ShardDelivery::LaneLoop(size_t lane) {
  const size_t batch_size = static_cast<size_t>(ctx_.config.batch_size);
  std::deque<Entry>& queue = lanes_[lane]->queue;
  while (true) {
    std::vector<Entry> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      // Caught up on this lane.
      if (queue.empty()) ctx_.metrics->iterator_age_ms.store(0);
      bool close_window = false;
      while (true) {
        if (stop_) return;
        if (WindowDue(queue)) {
          close_window = true;
          break;
        }
        if (!queue.empty()) break;
        if (window_) {
          // Wake when the open window's time is over.
          const int64_t left = window_->end_ms - ctx_.clock_ms();
          cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(
                                 1, std::min<int64_t>(left + 1, 1000))));
        } else {
          cv_.wait(lock);
        }
      }
      if (close_window) {
        lock.unlock();
        if (!CloseWindow()) return;
        continue;
      }
      if (ctx_.config.batching_window_ms > 0 && queue.size() < batch_size) {
        const auto deadline =
            std::chrono::steady_clock::now() +
            std::chrono::milliseconds(ctx_.config.batching_window_ms);
        cv_.wait_until(lock, deadline,
                       [&] { return stop_ || queue.size() >= batch_size; });
        if (stop_) return;
      }
      const bool windowed = ctx_.config.tumbling_window_s > 0;
      const int64_t window_start =
          windowed ? WindowOf(queue.front().timestamp_ms) : 0;
      if (windowed && !window_) {
        window_ = Window{window_start,
                         window_start + ctx_.config.tumbling_window_s * 1000,
                         "", false};
        window_dirty_ = true;
      }
      size_t bytes = 0;
      while (!queue.empty() && batch.size() < batch_size) {
        // A batch never spans two windows.
        if (windowed && WindowOf(queue.front().timestamp_ms) != window_start) {
          break;
        }
        const size_t size = queue.front().wire.size();
        if (!batch.empty() && bytes + size > kMaxBatchBytes) break;
        bytes += size;
        batch.push_back(std::move(queue.front()));
        queue.pop_front();
      }
    }
    if (!Deliver(batch)) return;
  }
}

int64_t ShardDelivery::WindowOf(int64_t timestamp_ms) const {
  const int64_t width = ctx_.config.tumbling_window_s * 1000;
  const int64_t r = timestamp_ms % width;
  return timestamp_ms - (r < 0 ? r + width : r);
}

bool ShardDelivery::WindowDue(const std::deque<Entry>& queue) const {
  if (!window_) return false;
  if (window_->terminated_early) return true;
  if (!queue.empty()) {
    return WindowOf(queue.front().timestamp_ms) != window_->start_ms;
  }
  return ctx_.clock_ms() >= window_->end_ms;
}

void ShardDelivery::FillWindow(bool final, proto::InvokeBatch* batch) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!window_) return;
  proto::WindowProto* w = batch->mutable_window();
  w->set_start_ms(window_->start_ms);
  w->set_end_ms(window_->end_ms);
  w->set_state(window_->state);
  w->set_is_final(final);
  w->set_terminated_early(window_->terminated_early);
}

bool ShardDelivery::CloseWindow() {
  for (int64_t attempt = 1;; ++attempt) {
    proto::InvokeBatch batch;
    batch.set_invocation_id(g_next_invocation.fetch_add(1));
    batch.set_trigger_name(ctx_.config.name);
    batch.set_handler_path(ctx_.config.handler);
    StampHandler(ctx_.config.handler, &batch);
    batch.set_event_source_arn(ctx_.stream_arn);
    batch.set_table_name(ctx_.config.table);
    batch.set_stream_view_type(std::string(
        store::StreamViewTypeName(ctx_.stream->description().view_type)));
    batch.set_shard_id(ctx_.shard_id);
    batch.set_attempt(static_cast<uint32_t>(attempt));
    batch.set_deadline_ms(ctx_.clock_ms() + ctx_.config.timeout_s * 1000);
    FillWindow(/*final=*/true, &batch);
    ctx_.metrics->invocations.fetch_add(1);
    Result<proto::InvokeResult> result = ctx_.pool->Invoke(
        ctx_.worker_group, ctx_.limits, batch,
        std::chrono::milliseconds(ctx_.config.timeout_s * 1000));
    if (!result.ok()) return false;
    if (result->outcome() != proto::InvokeResult::FAILURE) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        window_.reset();  // Its state is dropped after the final call.
        window_dirty_ = true;
      }
      Advance();
      return true;
    }
    ctx_.metrics->errors.fetch_add(1);
    ctx_.metrics->retries.fetch_add(1);
    ctx_.metrics->recent_errors.Add(
        {ctx_.clock_ms(), ctx_.shard_id, static_cast<uint32_t>(attempt), 0,
         result->error_type(), result->error_message()});
    ctx_.logger->warn(
        "trigger {} shard {}: final invocation of a window failed (attempt "
        "{}): {}: {}",
        ctx_.config.name, ctx_.shard, attempt, result->error_type(),
        result->error_message());
    if (!Pause(RetryBackoffMs(attempt))) return false;
  }
}

bool ShardDelivery::Deliver(std::vector<Entry>& entries) {
  const TriggerConfig& config = ctx_.config;
  RetryPlanner planner(entries.size(),
                       {config.bisect_on_error, config.max_retries});
  const int64_t max_age_ms = config.max_record_age_s >= 0
                                 ? config.max_record_age_s * 1000
                                 : ctx_.record_expiry_ms;
  BatchVerdict last_failure;
  const bool windowed = config.tumbling_window_s > 0;
  std::string new_state;  // The last reply's window state.
  auto apply = [&](const RetryPlanner::Step& step) -> bool {
    if (step.handled) {
      ctx_.metrics->records_handled.fetch_add(step.handled->size());
      if (windowed && new_state.size() > kMaxWindowStateBytes) {
        std::lock_guard<std::mutex> lock(mu_);
        if (window_) window_->terminated_early = true;
      }
      Finish(entries, *step.handled, windowed ? &new_state : nullptr);
    }
    if (step.dead_letter) {
      while (true) {
        Status s = DeadLetter(entries, *step.dead_letter, step, last_failure);
        if (s.ok()) break;
        ctx_.logger->error(
            "trigger {} shard {}: cannot write the on-failure destination: "
            "{}",
            config.name, ctx_.shard, s.ToString());
        if (!Pause(1000)) return false;
      }
      ctx_.metrics->dead_lettered.fetch_add(step.dead_letter->size());
      Finish(entries, *step.dead_letter);
    }
    return true;
  };

  while (!planner.done()) {
    RecordRange range = planner.current();
    const int64_t now = ctx_.clock_ms();
    size_t expired = 0;
    while (expired < range.size() &&
           now - entries[range.begin + expired].timestamp_ms > max_age_ms) {
      ++expired;
    }
    if (expired > 0) {
      if (!apply(planner.ExpireFront(expired))) return false;
      continue;
    }

    proto::InvokeBatch batch;
    batch.set_invocation_id(g_next_invocation.fetch_add(1));
    batch.set_trigger_name(config.name);
    batch.set_handler_path(config.handler);
    StampHandler(config.handler, &batch);
    batch.set_event_source_arn(ctx_.stream_arn);
    batch.set_table_name(config.table);
    batch.set_stream_view_type(std::string(
        store::StreamViewTypeName(ctx_.stream->description().view_type)));
    batch.set_shard_id(ctx_.shard_id);
    batch.set_attempt(planner.attempt());
    batch.set_deadline_ms(now + config.timeout_s * 1000);
    if (windowed) FillWindow(/*final=*/false, &batch);
    std::vector<std::string> sequence_numbers;
    std::vector<std::string_view> records;
    sequence_numbers.reserve(range.size());
    records.reserve(range.size());
    for (size_t i = range.begin; i < range.end; ++i) {
      records.push_back(entries[i].wire);
      sequence_numbers.push_back(entries[i].sequence_text);
    }
    ctx_.metrics->invocations.fetch_add(1);
    Result<proto::InvokeResult> result =
        ctx_.pool->Invoke(ctx_.worker_group, ctx_.limits, batch.invocation_id(),
                          EncodeInvokeMessage(batch, records),
                          std::chrono::milliseconds(config.timeout_s * 1000));
    if (!result.ok()) return false;  // Stopping: the batch stays pending.
    ctx_.metrics->iterator_age_ms.store(std::max<int64_t>(
        0, ctx_.clock_ms() - entries[range.end - 1].timestamp_ms));
    BatchVerdict verdict = JudgeResult(*result, sequence_numbers,
                                       config.report_batch_item_failures);
    if (windowed && verdict.kind != BatchVerdict::Kind::kFailure &&
        !result->has_window_state()) {
      // Lambda: in a window, a reply without state is a failure.
      verdict.kind = BatchVerdict::Kind::kFailure;
      verdict.error_type = "MissingWindowState";
      verdict.error_message = "the handler returned no state for a window";
    }
    new_state = result->has_window_state() ? result->window_state() : "";
    if (verdict.kind == BatchVerdict::Kind::kSuccess) {
      last_failure = BatchVerdict();
    } else {
      ctx_.metrics->errors.fetch_add(1);
      ctx_.metrics->recent_errors.Add(
          {ctx_.clock_ms(), ctx_.shard_id, planner.attempt(), range.size(),
           verdict.error_type, verdict.error_message});
      last_failure = verdict;
      ctx_.logger->warn(
          "trigger {} shard {}: invocation {} of {} record(s) (attempt {}) "
          "failed: {}: {}",
          config.name, ctx_.shard, batch.invocation_id(), range.size(),
          planner.attempt(), verdict.error_type, verdict.error_message);
    }
    const RetryPlanner::Step step = planner.OnVerdict(verdict);
    if (!apply(step)) return false;
    if (step.backoff) {
      ctx_.metrics->retries.fetch_add(1);
      if (!Pause(RetryBackoffMs(planner.retries()))) return false;
    }
  }
  return true;
}

Status ShardDelivery::DeadLetter(const std::vector<Entry>& entries,
                                 RecordRange range,
                                 const RetryPlanner::Step& step,
                                 const BatchVerdict& last_failure) {
  const Entry& first = entries[range.begin];
  const Entry& last = entries[range.end - 1];
  const std::string path = ctx_.config.OnFailureFile();
  const std::string table = ctx_.config.OnFailureTable();
  ctx_.logger->warn("trigger {} shard {}: {} record(s) {}..{} given up ({}){}",
                    ctx_.config.name, ctx_.shard, range.size(),
                    first.sequence_text, last.sequence_text, step.condition,
                    ctx_.config.on_failure.empty()
                        ? "; no on-failure destination, discarded"
                        : "; written to " + ctx_.config.on_failure);
  if (path.empty() && table.empty()) return Status::OK();
  FailureInfo info;
  info.request_id = std::to_string(g_next_invocation.fetch_add(1));
  info.function_arn = ctx_.function_arn;
  info.condition = step.condition;
  info.approximate_invoke_count = step.invoke_count;
  info.function_error = last_failure.error_type;
  info.error_message = last_failure.error_message;
  info.timestamp_ms = ctx_.clock_ms();
  info.shard_id = ctx_.shard_id;
  info.stream_arn = ctx_.stream_arn;
  info.start_sequence = first.sequence_text;
  info.end_sequence = last.sequence_text;
  info.first_arrival_ms = first.timestamp_ms;
  info.last_arrival_ms = last.timestamp_ms;
  info.batch_size = range.size();
  const store::StreamViewType view = ctx_.stream->description().view_type;
  if (!table.empty()) {
    return DeadLetterToTable(table, entries, range,
                             FailureDocument(info, nullptr));
  }
  const std::string document = FailureDocument(info, [&](api::JsonWriter* w) {
    for (size_t i = range.begin; i < range.end; ++i) {
      api::WriteStreamRecord(entries[i].record, entries[i].sequence, view,
                             ctx_.region, ctx_.stream_arn, w);
    }
  });
  return AppendLineDurably(path, document);
}

Status ShardDelivery::DeadLetterToTable(const std::string& table_name,
                                        const std::vector<Entry>& entries,
                                        RecordRange range,
                                        const std::string& document) {
  std::shared_ptr<store::Table> table =
      ctx_.db == nullptr ? nullptr : ctx_.db->GetTable(table_name);
  if (table == nullptr) {
    return Status::NotFound("on-failure table not found: " + table_name);
  }
  const store::TableSchema& schema = table->schema();
  if (schema.range_key || schema.hash_key.type != store::ValueType::kS) {
    return Status::InvalidArgument("on-failure table " + table_name +
                                   " must have a string hash key only");
  }
  const store::StreamViewType view = ctx_.stream->description().view_type;
  for (size_t i = range.begin; i < range.end; ++i) {
    rapidjson::StringBuffer buffer;
    api::JsonWriter w(buffer);
    api::WriteStreamRecord(entries[i].record, entries[i].sequence, view,
                           ctx_.region, ctx_.stream_arn, &w);
    // The key names the record, so a batch given up twice (a crash before
    // the checkpoint moved) overwrites rather than duplicates.
    store::Item item;
    item[schema.hash_key.name] =
        store::AttributeValue::String(ctx_.config.name + "/" + ctx_.shard_id +
                                      "/" + entries[i].sequence_text);
    item["trigger"] = store::AttributeValue::String(ctx_.config.name);
    item["failure"] = store::AttributeValue::String(document);
    item["record"] = store::AttributeValue::String(
        std::string(buffer.GetString(), buffer.GetSize()));
    store::WriteOutcome outcome;
    EDDY_RETURN_IF_ERROR(table->Put(std::move(item), nullptr, &outcome));
  }
  return Status::OK();
}

}  // namespace eddy::runtime::dispatcher
