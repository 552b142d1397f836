// DbHandle: the data directory's one LevelDB instance, and what lets the
// store replace it while serving.
//
// Why replace it: after a failed write LevelDB refuses every later write
// (its sticky background error, or the store's guard on a failed log file,
// store_env.h) until it is reopened. Reopening recovers its log, and the
// store then redoes what the failed writes left half done (database.cc,
// RecoveryLoop). Meanwhile reads keep using the old instance.
//
// The gate. Every operation that touches the DB holds a Use (shared, cheap:
// one atomic add on a per-thread slot) for its duration; Reopen closes the
// gate, waits until no Use is held, and swaps the instance, so no one ever
// sees a closed DB. A thread may nest Uses; the reopening thread may take
// them while it holds the gate closed. Uses taken while the gate is closed
// wait until it opens.
//
// Health. Fail(cause) marks the handle failed (the first cause wins): the
// store then refuses writes with CheckWritable() before touching anything,
// until a Reopen whose redo succeeded clears it. Writes must check it under
// the same item lock under which a failed write called Fail, so that no
// write of an item slips between a failed write of it and the redo.
//
// Thread-safety: all methods may be called concurrently, except Open (once,
// before anything else).
#ifndef EDDY_STORE_SRC_DB_HANDLE_H_
#define EDDY_STORE_SRC_DB_HANDLE_H_

#include <leveldb/db.h>
#include <leveldb/options.h>
#include <leveldb/write_batch.h>
#include <spdlog/logger.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "eddy/result.h"
#include "eddy/status.h"

namespace eddy::store {

class DbHandle {
 public:
  DbHandle(std::string path, leveldb::Options options,
           std::shared_ptr<spdlog::logger> logger);
  ~DbHandle();
  DbHandle(const DbHandle&) = delete;
  DbHandle& operator=(const DbHandle&) = delete;

  // Opens LevelDB the first time.
  Status Open();
  // Closes LevelDB. REQUIRES: no Use held.
  void Close();

  // Held while an operation uses the DB (see the file comment).
  class Use {
   public:
    explicit Use(DbHandle* handle);
    ~Use();
    Use(const Use&) = delete;
    Use& operator=(const Use&) = delete;

    // OK, or IOError when LevelDB is not open (a reopen failed; the
    // recovery retries).
    Status status() const;
    // REQUIRES: status().ok().
    leveldb::DB* db() const { return db_; }

   private:
    DbHandle* const handle_;
    leveldb::DB* db_;
  };

  // The open instance, for code that runs inside a Use its caller holds
  // (null if LevelDB is closed after a failed reopen).
  leveldb::DB* held_db() const { return db_.load(std::memory_order_acquire); }

  // Read options for every read. Blocks read from table files are checked
  // by the store's Env (store_env.h, 5: the same CRC-32C, by the CPU's
  // instruction), not again by LevelDB; cache hits are not checked again.
  static leveldb::ReadOptions ReadOptions() {
    leveldb::ReadOptions options;
    options.verify_checksums = false;
    return options;
  }

  // db->Write through the held `use`; a failure is returned as an eddy
  // Status and fails the handle (Fail).
  Status Write(const Use& use, const leveldb::WriteOptions& options,
               leveldb::WriteBatch* batch);

  // A LevelDB error as an eddy Status (FromLevelDb); damage (Corruption,
  // naming the file and offset) is logged too, once per place, since the
  // request only tells its client "InternalServerError".
  Status Error(const leveldb::Status& s);

  // OK while writes may proceed; otherwise IOError naming the failure being
  // recovered from.
  Status CheckWritable() const;
  bool failed() const { return failed_flag_.load(std::memory_order_acquire); }
  Status failure() const;
  // Marks the handle failed with `cause` (first cause wins; logged) and
  // wakes WaitForFailure.
  void Fail(const Status& cause);

  // Blocks until the handle has failed or `stop` returns true (checked
  // when woken: call Wake after changing it).
  void WaitForFailure(const std::function<bool()>& stop);
  void Wake();

  // Closes the gate, waits for every Use to end, closes LevelDB and opens
  // it again, then runs `redo` with the new instance while the gate is
  // still closed (no other operation runs). If both succeed the handle is
  // healthy again. On failure the handle stays failed; if the open failed,
  // LevelDB stays closed (Use::status() fails) until a later Reopen.
  Status Reopen(const std::function<Status(leveldb::DB*)>& redo);
  // Closes the gate, waits for every Use to end and runs `fn` while no
  // other operation touches the DB (a snapshot's pause). Serialised with
  // Reopen. REQUIRES: no Use held by this thread.
  Status WithGateClosed(const std::function<Status()>& fn);
  // Counts successful reopens: a snapshot or iterator taken before a
  // change of generation belongs to a closed instance.
  uint64_t generation() const {
    return generation_.load(std::memory_order_acquire);
  }
  // True while a reopen waits for Uses to end: long scans (the recount)
  // check it and step aside.
  bool reopen_pending() const {
    return closed_.load(std::memory_order_acquire);
  }

  const std::string& path() const { return path_; }
  // The sizes of LevelDB's write-ahead logs: what a reopen turns into
  // table files, i.e. about the space it needs.
  uint64_t LogBytes() const;

 private:
  // Serialises Reopen and WithGateClosed.
  std::mutex exclusive_mu_;
  struct alignas(64) Slot {
    std::atomic<int64_t> uses{0};
  };
  static constexpr size_t kSlots = 16;

  void Enter();
  void Exit();
  int64_t ActiveUses() const;
  static size_t SlotIndex();

  const std::string path_;
  const leveldb::Options options_;
  const std::shared_ptr<spdlog::logger> logger_;

  // Written only by the thread that holds the gate closed (or by Open and
  // Close, when nothing else runs).
  std::atomic<leveldb::DB*> db_{nullptr};

  Slot slots_[kSlots];
  std::atomic<bool> closed_{false};
  std::mutex gate_mu_;
  std::condition_variable gate_cv_;

  std::mutex damage_mu_;
  std::string reported_damage_;  // Guarded by damage_mu_.

  mutable std::mutex failure_mu_;
  std::condition_variable failure_cv_;
  Status failure_;  // Guarded by failure_mu_.
  std::atomic<bool> failed_flag_{false};
  std::atomic<uint64_t> generation_{0};
};

}  // namespace eddy::store

#endif  // EDDY_STORE_SRC_DB_HANDLE_H_
