// CommitClock: the commit times of point-in-time recovery's history.
//
// Now() never goes backwards (the wall clock may), so that the writes of
// one item, serialised by its lock, get non-decreasing times in commit
// order; Sequence() tells apart entries of one millisecond and keeps them
// in the same order. A restore to T undoes exactly the writes stamped
// later than T (backup.h).
//
// Thread-safety: all methods may be called concurrently.
#ifndef EDDY_STORE_SRC_COMMIT_CLOCK_H_
#define EDDY_STORE_SRC_COMMIT_CLOCK_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>

namespace eddy::store {

class CommitClock {
 public:
  // `clock`: ms since the epoch (Database::Options::clock_ms), or null for
  // the system clock.
  explicit CommitClock(std::function<int64_t()> clock)
      : clock_(std::move(clock)) {}

  int64_t Now() {
    const int64_t wall = clock_ ? clock_() : SystemMillis();
    int64_t last = last_.load(std::memory_order_relaxed);
    while (wall > last &&
           !last_.compare_exchange_weak(last, wall, std::memory_order_relaxed)) {
    }
    return wall > last ? wall : last;
  }
  // Raises the floor of Now() (at Open, to the latest time in the history:
  // a clock set back across a restart must not reorder an item's writes).
  void AtLeast(int64_t ms) {
    int64_t last = last_.load(std::memory_order_relaxed);
    while (ms > last &&
           !last_.compare_exchange_weak(last, ms, std::memory_order_relaxed)) {
    }
  }
  uint64_t Sequence() { return sequence_.fetch_add(1) + 1; }
  void SetSequenceFloor(uint64_t floor) { sequence_ = floor; }

 private:
  static int64_t SystemMillis() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  std::function<int64_t()> clock_;
  std::atomic<int64_t> last_{0};
  std::atomic<uint64_t> sequence_{0};
};

}  // namespace eddy::store

#endif  // EDDY_STORE_SRC_COMMIT_CLOCK_H_
