#include "dispatcher/shard_delivery.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <random>

#include "dispatcher/failure_document.h"
#include "dispatcher/record_convert.h"
#include "eddy/store/key_codec.h"
#include "wire/stream_record.h"

namespace eddy::runtime::dispatcher {
namespace {

// Lambda's synchronous invocation payload limit.
constexpr size_t kMaxBatchBytes = 6u << 20;
// Lambda: a window's state is at most 1 MB; beyond it the window ends early.
constexpr size_t kMaxWindowStateBytes = 1u << 20;
// A pull source's idle shard is polled at least this often once it has
// been empty a while (Lambda polls 4 times a second).
constexpr int64_t kIdlePollMs = 250;
// Failed reads back off exponentially from this, up to kMaxReadBackoffMs.
constexpr int64_t kReadBackoffMs = 100;
constexpr int64_t kMaxReadBackoffMs = 10'000;

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

// Exponential backoff with "equal jitter": half fixed, half random, so that
// many readers failing together do not retry together.
int64_t ReadBackoffMs(int failures) {
  const int shift = std::min(failures - 1, 16);
  const int64_t ceiling =
      std::min<int64_t>(kMaxReadBackoffMs, kReadBackoffMs << shift);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<int64_t> jitter(0, ceiling / 2);
  return ceiling / 2 + jitter(rng);
}

// The wait after the `empties`-th empty read in a row of a pull source:
// the poll interval, growing (doubling) to kIdlePollMs while the shard
// stays empty when the interval is shorter.
int64_t PollDelayMs(int64_t interval, int empties) {
  if (empties <= 1) return interval;
  const int64_t cap = std::max(interval, kIdlePollMs);
  const int shift = std::min(empties - 1, 16);
  return std::min(cap, std::max<int64_t>(interval, 1) << shift);
}

}  // namespace

ShardDelivery::ShardDelivery(ShardDeliveryContext context)
    : ctx_(std::move(context)) {
  if (!ctx_.clock_ms) ctx_.clock_ms = SystemNowMs;
  if (!ctx_.config.filters.empty()) {
    // Validated when the trigger was created or updated.
    Result<std::unique_ptr<RecordFilter>> filter =
        RecordFilter::Create(ctx_.config.filters);
    if (filter.ok()) filter_ = std::move(*filter);
  }
  const size_t lanes = ctx_.stream.hash_key.empty()
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
    done_position_ = ctx_.start;
    read_position_ = ctx_.start;
    advanced_ = ctx_.start;
  }
  live_threads_.store(static_cast<int>(lanes_.size()) + 1);
  reader_thread_ = std::thread([this] { RunReader(); });
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
  if (reader_thread_.joinable()) reader_thread_.join();
  for (auto& lane : lanes_) {
    if (lane->thread.joinable()) lane->thread.join();
  }
}

bool ShardDelivery::stopping() {
  std::lock_guard<std::mutex> lock(mu_);
  return stop_;
}

void ShardDelivery::StopOnOwn(ShardDeliveryContext::StopReason reason) {
  if (stopped_on_own_.exchange(true)) return;
  RequestStop();
  if (ctx_.on_stopped) ctx_.on_stopped(reason);
}

bool ShardDelivery::MayInvoke() {
  if (!ctx_.may_invoke || ctx_.may_invoke()) return true;
  ctx_.logger->info(
      "trigger {} shard {}: no longer ours (lease not held); stopping "
      "before the next invocation",
      ctx_.config.name, ctx_.shard_id);
  StopOnOwn(ShardDeliveryContext::StopReason::kNotOwner);
  return false;
}

bool ShardDelivery::PassesFilters(const SourceRecord& record) {
  if (filter_ == nullptr) return true;
  // Filters see the record exactly as the handler's event shows it.
  rapidjson::StringBuffer buffer;
  wire::JsonWriter writer(buffer);
  wire::WriteStreamRecord(record.record, record.sequence_number,
                          ctx_.stream.view_type, ctx_.region,
                          ctx_.stream.stream_arn, &writer);
  rapidjson::Document doc;
  doc.Parse(buffer.GetString(), buffer.GetSize());
  return !doc.HasParseError() && filter_->Matches(doc);
}

size_t ShardDelivery::LaneOf(const store::ChangeRecord& record) const {
  if (lanes_.size() == 1) return 0;
  auto it = record.keys.find(ctx_.stream.hash_key);
  if (it == record.keys.end() || it->second.IsSet()) return 0;
  // S, N (canonical text) and B: the same key always hashes the same.
  const uint32_t hash = store::KeyHash(it->second.scalar());
  return hash % lanes_.size();
}

void ShardDelivery::RunReader() noexcept {
  try {
    if (OpenReader()) {
      push_ = reader_->Subscribe([this] {
        {
          std::lock_guard<std::mutex> lock(mu_);
          rung_ = true;
        }
        cv_.notify_all();
      });
      if (!push_) {
        // A pull source pays a round trip per read: read ahead a whole
        // GetRecords answer (up to 1,000 records) while the lanes deliver.
        std::lock_guard<std::mutex> lock(mu_);
        max_pending_ = std::max<size_t>(max_pending_, 2000);
      }
      ReadLoop();
    }
  } catch (const std::exception& e) {
    ctx_.logger->critical("trigger {} shard {}: reading stopped: {}",
                          ctx_.config.name, ctx_.shard_id, e.what());
  }
  // Unsubscribes before this object can go away.
  reader_.reset();
  live_threads_.fetch_sub(1);
}

bool ShardDelivery::Pause(int64_t ms) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stop_; });
  return !stop_;
}

bool ShardDelivery::OpenReader() {
  if (ctx_.reader != nullptr) {
    reader_ = std::move(ctx_.reader);
    return true;
  }
  for (int failures = 1;; ++failures) {
    if (stopping()) return false;
    Result<std::unique_ptr<ShardReader>> reader =
        ctx_.source->OpenShard(ctx_.shard_id, ctx_.start);
    if (reader.ok()) {
      reader_ = std::move(*reader);
      return true;
    }
    ctx_.metrics->read_errors.fetch_add(1);
    ctx_.logger->log(
        reader.status().code() == Status::Code::kBusy ? spdlog::level::warn
                                                      : spdlog::level::err,
        "trigger {} shard {}: cannot open the shard at {} (attempt {}): {}",
        ctx_.config.name, ctx_.shard_id, ctx_.start.ToString(), failures,
        reader.status().ToString());
    if (!Pause(ReadBackoffMs(failures))) return false;
  }
}

void ShardDelivery::SetCheckpoint(ShardCheckpoint checkpoint,
                                  uint64_t version) {
  std::lock_guard<std::mutex> lock(checkpoint_mu_);
  // A newer snapshot was written first: this one is stale.
  if (version <= saved_version_) return;
  // Durable before anything that depends on it: a failed write is retried
  // (never skipped), since a lost checkpoint only means repeats.
  while (true) {
    Status saved = ctx_.save_checkpoint(checkpoint);
    if (saved.ok()) break;
    if (saved.IsConditionFailed()) {
      // Fenced: another owner has the shard now.
      ctx_.logger->warn(
          "trigger {} shard {}: checkpoint refused, the shard is no longer "
          "ours ({}); stopping",
          ctx_.config.name, ctx_.shard_id, saved.message());
      StopOnOwn(ShardDeliveryContext::StopReason::kNotOwner);
      return;
    }
    ctx_.logger->error("trigger {} shard {}: cannot save checkpoint: {}",
                       ctx_.config.name, ctx_.shard_id, saved.ToString());
    if (!Pause(1000)) return;
  }
  saved_version_ = version;
  if (checkpoint.position.kind == ShardPosition::Kind::kShardEnd) {
    ctx_.logger->info("trigger {} shard {}: finished (SHARD_END)",
                      ctx_.config.name, ctx_.shard_id);
    StopOnOwn(ShardDeliveryContext::StopReason::kShardEnd);
  }
}

void ShardDelivery::Advance() {
  ShardCheckpoint checkpoint;
  uint64_t version;
  {
    std::lock_guard<std::mutex> lock(mu_);
    while (!slots_.empty() && slots_.front().done) {
      done_position_ = ShardPosition::After(std::move(slots_.front().sequence));
      slots_.pop_front();
    }
    if (slots_.empty()) {
      done_position_ =
          end_of_shard_ ? ShardPosition::ShardEnd() : read_position_;
    }
    if (done_position_ == advanced_ && !window_dirty_) {
      cv_.notify_all();
      return;
    }
    advanced_ = done_position_;
    window_dirty_ = false;
    version = ++version_;
    checkpoint.position = done_position_;
    checkpoint.iterator_age_ms = finished_age_ms_;
    if (window_) {
      checkpoint.window =
          WindowCheckpoint{window_->start_ms, window_->end_ms, window_->state};
    }
  }
  cv_.notify_all();  // Room to read ahead.
  SetCheckpoint(std::move(checkpoint), version);
}

void ShardDelivery::Finish(const std::vector<Entry>& entries, RecordRange range,
                           const std::string* window_state) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (window_state != nullptr && window_) {
      window_->state = *window_state;
      window_dirty_ = true;
    }
    if (range.size() > 0) {
      finished_age_ms_ = std::max<int64_t>(
          0, ctx_.clock_ms() - entries[range.end - 1].timestamp_ms);
    }
    for (size_t i = range.begin; i < range.end; ++i) {
      auto it = std::lower_bound(
          slots_.begin(), slots_.end(), entries[i].ordinal,
          [](const Slot& slot, uint64_t ord) { return slot.ordinal < ord; });
      if (it != slots_.end() && it->ordinal == entries[i].ordinal) {
        it->done = true;
      }
    }
  }
  Advance();
}

void ShardDelivery::Accept(ShardBatch batch) {
  if (batch.trim_skipped) {
    ctx_.metrics->trim_events.fetch_add(1);
    ctx_.metrics->skipped_trimmed.fetch_add(batch.trimmed);
    // Lambda's behaviour: resume at the trim horizon; the records are lost.
    ctx_.logger->error(
        "trigger {} shard {}: {} record(s) were trimmed before delivery "
        "(TrimmedDataAccess); resuming at the trim horizon",
        ctx_.config.name, ctx_.shard_id,
        batch.trimmed > 0 ? std::to_string(batch.trimmed) : "some");
  }
  if (batch.undecodable > 0) {
    ctx_.metrics->dead_lettered.fetch_add(batch.undecodable);
  }
  std::vector<std::pair<size_t, Entry>> routed;
  std::vector<Slot> slots;
  routed.reserve(batch.records.size());
  slots.reserve(batch.records.size());
  for (SourceRecord& record : batch.records) {
    const uint64_t ordinal = next_ordinal_++;
    if (!PassesFilters(record)) {
      ctx_.metrics->filtered.fetch_add(1);
      slots.push_back(Slot{ordinal, std::move(record.sequence_number), true});
      continue;
    }
    Entry entry;
    entry.ordinal = ordinal;
    entry.timestamp_ms = record.record.timestamp_ms;
    entry.wire = EncodeStreamRecord(record.record, record.sequence_number);
    entry.sequence_text = record.sequence_number;
    entry.record = std::move(record.record);
    slots.push_back(Slot{ordinal, std::move(record.sequence_number), false});
    const size_t lane = LaneOf(entry.record);
    routed.emplace_back(lane, std::move(entry));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (slots_.empty()) done_position_ = read_position_;
    for (Slot& slot : slots) slots_.push_back(std::move(slot));
    for (auto& [lane, entry] : routed) {
      lanes_[lane]->queue.push_back(std::move(entry));
    }
    read_position_ = std::move(batch.next);
    if (batch.end_of_shard) end_of_shard_ = true;
  }
  cv_.notify_all();
  Advance();  // Filtered records at the front finish at once.
}

void ShardDelivery::ReadLoop() {
  if (ctx_.start.kind == ShardPosition::Kind::kShardEnd) {
    StopOnOwn(ShardDeliveryContext::StopReason::kShardEnd);
    return;
  }
  const size_t batch_size = static_cast<size_t>(ctx_.config.batch_size);
  int failures = 0;
  int empties = 0;
  while (true) {
    size_t room;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || slots_.size() < max_pending_; });
      if (stop_) return;
      room = max_pending_ - slots_.size();
      rung_ = false;  // A commit from now on rings again.
    }
    Result<ShardBatch> batch =
        // A push source reads what the lanes can take next; a pull source
        // as much as one call returns (it pays a round trip per read).
        reader_->Read(push_ ? std::min(room, batch_size * lanes_.size()) : room,
                      kMaxBatchBytes * lanes_.size());
    ctx_.metrics->reads.fetch_add(1);
    if (!batch.ok()) {
      ++failures;
      ctx_.metrics->read_errors.fetch_add(1);
      // Throttling and outages are expected now and then: warn, and only
      // on the first failures of a run and then every 16th.
      if (failures <= 3 || failures % 16 == 0) {
        ctx_.logger->log(
            batch.status().code() == Status::Code::kBusy ? spdlog::level::warn
                                                         : spdlog::level::err,
            "trigger {} shard {}: read failed (attempt {}), backing off: {}",
            ctx_.config.name, ctx_.shard_id, failures,
            batch.status().ToString());
      }
      if (!Pause(ReadBackoffMs(failures))) return;
      continue;
    }
    if (failures > 0) {
      ctx_.logger->info(
          "trigger {} shard {}: reading again after {} failed "
          "attempt(s)",
          ctx_.config.name, ctx_.shard_id, failures);
    }
    failures = 0;
    const bool end = batch->end_of_shard;
    const bool empty = batch->records.empty() && batch->undecodable == 0 &&
                       !batch->trim_skipped;
    Accept(std::move(*batch));
    if (end) return;  // The lanes finish; Advance saves SHARD_END.
    if (!empty) {
      empties = 0;
      continue;
    }
    ctx_.metrics->empty_reads.fetch_add(1);
    if (push_) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || rung_; });
      if (stop_) return;
    } else if (!Pause(PollDelayMs(ctx_.poll_interval_ms, ++empties))) {
      return;
    }
  }
}

void ShardDelivery::FillBatch(proto::InvokeBatch* batch, uint32_t attempt,
                              int64_t now) {
  batch->set_invocation_id(g_next_invocation.fetch_add(1));
  batch->set_trigger_name(ctx_.config.name);
  batch->set_handler_path(ctx_.config.handler);
  StampHandler(ctx_.config.handler, batch);
  batch->set_event_source_arn(ctx_.stream.stream_arn);
  batch->set_table_name(ctx_.config.table);
  batch->set_stream_view_type(
      std::string(store::StreamViewTypeName(ctx_.stream.view_type)));
  batch->set_shard_id(ctx_.shard_id);
  batch->set_attempt(attempt);
  batch->set_deadline_ms(now + ctx_.config.timeout_s * 1000);
}

void ShardDelivery::RunLane(size_t lane) noexcept {
  try {
    LaneLoop(lane);
  } catch (const std::exception& e) {
    ctx_.logger->critical("trigger {} shard {} lane {}: delivery stopped: {}",
                          ctx_.config.name, ctx_.shard_id, lane, e.what());
  }
  live_threads_.fetch_sub(1);
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
    if (!MayInvoke()) return false;
    proto::InvokeBatch batch;
    FillBatch(&batch, static_cast<uint32_t>(attempt), ctx_.clock_ms());
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
        ctx_.config.name, ctx_.shard_id, attempt, result->error_type(),
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
            config.name, ctx_.shard_id, s.ToString());
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

    if (!MayInvoke()) return false;
    proto::InvokeBatch batch;
    FillBatch(&batch, planner.attempt(), now);
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
          config.name, ctx_.shard_id, batch.invocation_id(), range.size(),
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
                    ctx_.config.name, ctx_.shard_id, range.size(),
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
  info.stream_arn = ctx_.stream.stream_arn;
  info.start_sequence = first.sequence_text;
  info.end_sequence = last.sequence_text;
  info.first_arrival_ms = first.timestamp_ms;
  info.last_arrival_ms = last.timestamp_ms;
  info.batch_size = range.size();
  const store::StreamViewType view = ctx_.stream.view_type;
  if (!table.empty()) {
    if (!ctx_.put_failure_item) {
      return Status::InvalidArgument("no way to write the on-failure table " +
                                     table);
    }
    const std::string document = FailureDocument(info, nullptr);
    for (size_t i = range.begin; i < range.end; ++i) {
      rapidjson::StringBuffer buffer;
      wire::JsonWriter w(buffer);
      wire::WriteStreamRecord(entries[i].record, entries[i].sequence_text, view,
                              ctx_.region, ctx_.stream.stream_arn, &w);
      // The key names the record, so a batch given up twice (a crash before
      // the checkpoint moved) overwrites rather than duplicates.
      FailureItem item;
      item.table = table;
      item.id = ctx_.config.name + "/" + ctx_.shard_id + "/" +
                entries[i].sequence_text;
      item.trigger = ctx_.config.name;
      item.failure = document;
      item.record.assign(buffer.GetString(), buffer.GetSize());
      EDDY_RETURN_IF_ERROR(ctx_.put_failure_item(item));
    }
    return Status::OK();
  }
  const std::string document = FailureDocument(info, [&](wire::JsonWriter* w) {
    for (size_t i = range.begin; i < range.end; ++i) {
      wire::WriteStreamRecord(entries[i].record, entries[i].sequence_text, view,
                              ctx_.region, ctx_.stream.stream_arn, w);
    }
  });
  return AppendLineDurably(path, document);
}

}  // namespace eddy::runtime::dispatcher
