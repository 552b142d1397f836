#include "db_handle.h"

#include <filesystem>
#include <system_error>
#include <thread>
#include <utility>

#include "store_env.h"

namespace eddy::store {
namespace {

// The Use this thread holds: a nested Use (or one taken by the thread that
// holds the gate closed) passes straight through. One handle per thread is
// tracked (a thread holding Uses of two handles at once — two databases —
// does not nest on the second).
thread_local const DbHandle* held_handle = nullptr;
thread_local int held_depth = 0;

}  // namespace

DbHandle::DbHandle(std::string path, leveldb::Options options,
                   std::shared_ptr<spdlog::logger> logger)
    : path_(std::move(path)),
      options_(std::move(options)),
      logger_(std::move(logger)) {}

DbHandle::~DbHandle() { Close(); }

Status DbHandle::Open() {
  leveldb::DB* raw = nullptr;
  leveldb::Status s = leveldb::DB::Open(options_, path_, &raw);
  if (!s.ok()) {
    return Status::IOError("cannot open database: " + FromLevelDb(s).message());
  }
  db_.store(raw, std::memory_order_release);
  return Status::OK();
}

void DbHandle::Close() {
  delete db_.exchange(nullptr, std::memory_order_acq_rel);
}

size_t DbHandle::SlotIndex() {
  static std::atomic<size_t> next{0};
  constexpr size_t kUnassigned = ~size_t{0};
  thread_local size_t index = kUnassigned;  // Constant-initialised: no guard.
  if (index == kUnassigned) {
    index = next.fetch_add(1, std::memory_order_relaxed) % kSlots;
  }
  return index;
}

int64_t DbHandle::ActiveUses() const {
  int64_t total = 0;
  for (const Slot& slot : slots_) {
    total += slot.uses.load(std::memory_order_seq_cst);
  }
  return total;
}

void DbHandle::Enter() {
  if (held_handle == this) {
    if (held_depth++ > 0) return;  // Nested.
  } else if (held_depth == 0) {
    held_handle = this;
    held_depth = 1;
  }
  Slot& slot = slots_[SlotIndex()];
  for (;;) {
    // Dekker with Reopen: we publish our Use, then look at the gate; it
    // closes the gate, then looks at the Uses. One of us sees the other.
    slot.uses.fetch_add(1, std::memory_order_seq_cst);
    if (!closed_.load(std::memory_order_seq_cst)) return;
    slot.uses.fetch_sub(1, std::memory_order_seq_cst);
    std::unique_lock<std::mutex> lock(gate_mu_);
    gate_cv_.notify_all();  // Reopen may be waiting for our slot to drain.
    gate_cv_.wait(lock, [&] { return !closed_.load(); });
  }
}

void DbHandle::Exit() {
  if (held_handle == this) {
    if (--held_depth > 0) return;
    held_handle = nullptr;
  }
  slots_[SlotIndex()].uses.fetch_sub(1, std::memory_order_seq_cst);
  if (closed_.load(std::memory_order_seq_cst)) {
    std::lock_guard<std::mutex> lock(gate_mu_);
    gate_cv_.notify_all();
  }
}

DbHandle::Use::Use(DbHandle* handle) : handle_(handle) {
  handle_->Enter();
  db_ = handle_->db_.load(std::memory_order_acquire);
}

DbHandle::Use::~Use() { handle_->Exit(); }

Status DbHandle::Use::status() const {
  if (db_ != nullptr) return Status::OK();
  return Status::IOError("the database is closed after a failed reopen (" +
                         handle_->failure().ToString() + "); recovery retries");
}

Status DbHandle::Write(const Use& use, const leveldb::WriteOptions& options,
                       leveldb::WriteBatch* batch) {
  EDDY_RETURN_IF_ERROR(use.status());
  leveldb::Status s = use.db()->Write(options, batch);
  if (s.ok()) return Status::OK();
  Status status = Error(s);
  Fail(status);
  return status;
}

Status DbHandle::Error(const leveldb::Status& s) {
  Status status = FromLevelDb(s);
  if (status.IsCorruption()) {
    std::lock_guard<std::mutex> lock(damage_mu_);
    if (status.message() != reported_damage_) {
      reported_damage_ = status.message();
      logger_->error("damaged data in {}: {}", path_, reported_damage_);
    }
  }
  return status;
}

Status DbHandle::CheckWritable() const {
  if (!failed_flag_.load(std::memory_order_acquire)) return Status::OK();
  return Status::IOError("writes are paused while the store recovers from: " +
                         failure().ToString());
}

Status DbHandle::failure() const {
  std::lock_guard<std::mutex> lock(failure_mu_);
  return failure_;
}

void DbHandle::Fail(const Status& cause) {
  {
    std::lock_guard<std::mutex> lock(failure_mu_);
    if (failure_.ok()) {
      failure_ = cause.ok() ? Status::Internal("unknown failure") : cause;
      failed_flag_.store(true, std::memory_order_release);
      logger_->error(
          "a write failed: {}; writes fail until the store has recovered "
          "(reads go on)",
          failure_.ToString());
    }
  }
  failure_cv_.notify_all();
}

void DbHandle::WaitForFailure(const std::function<bool()>& stop) {
  std::unique_lock<std::mutex> lock(failure_mu_);
  failure_cv_.wait(lock, [&] { return !failure_.ok() || stop(); });
}

void DbHandle::Wake() {
  std::lock_guard<std::mutex> lock(failure_mu_);
  failure_cv_.notify_all();
}

Status DbHandle::WithGateClosed(const std::function<Status()>& fn) {
  std::lock_guard<std::mutex> exclusive(exclusive_mu_);
  {
    std::unique_lock<std::mutex> lock(gate_mu_);
    closed_.store(true, std::memory_order_seq_cst);
    gate_cv_.wait(lock, [&] { return ActiveUses() == 0; });
  }
  held_handle = this;
  held_depth = 1;
  Status s = fn();
  held_handle = nullptr;
  held_depth = 0;
  {
    std::lock_guard<std::mutex> lock(gate_mu_);
    closed_.store(false, std::memory_order_seq_cst);
  }
  gate_cv_.notify_all();
  return s;
}

Status DbHandle::Reopen(const std::function<Status(leveldb::DB*)>& redo) {
  std::lock_guard<std::mutex> exclusive(exclusive_mu_);
  {
    std::unique_lock<std::mutex> lock(gate_mu_);
    closed_.store(true, std::memory_order_seq_cst);
    gate_cv_.wait(lock, [&] { return ActiveUses() == 0; });
  }
  // Uses this thread takes from here on (the redo's) pass through.
  // REQUIRES (as for every caller of Reopen): no Use held by this thread.
  held_handle = this;
  held_depth = 1;

  delete db_.exchange(nullptr, std::memory_order_acq_rel);
  leveldb::DB* raw = nullptr;
  leveldb::Status ls = leveldb::DB::Open(options_, path_, &raw);
  Status s;
  if (ls.ok()) {
    db_.store(raw, std::memory_order_release);
    s = redo(raw);
  } else {
    s = Status::IOError("cannot reopen database: " + FromLevelDb(ls).message());
  }
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(failure_mu_);
    failure_ = Status::OK();
    failed_flag_.store(false, std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }

  held_handle = nullptr;
  held_depth = 0;
  {
    std::lock_guard<std::mutex> lock(gate_mu_);
    closed_.store(false, std::memory_order_seq_cst);
  }
  gate_cv_.notify_all();
  return s;
}

uint64_t DbHandle::LogBytes() const {
  uint64_t total = 0;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(path_, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->path().extension() == ".log") {
      std::error_code size_ec;
      const uintmax_t size = std::filesystem::file_size(it->path(), size_ec);
      if (!size_ec) total += size;
    }
  }
  return total;
}

}  // namespace eddy::store
