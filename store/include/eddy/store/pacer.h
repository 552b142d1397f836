// Pacer: keeps a background job (backup, restore, export, import, snapshot
// copy) from slowing down the requests.
//
// The job calls Pace() between chunks of its work (every few thousand
// items, or every MB copied). Pace() looks at how much CPU the rest of the
// process (the request threads; not LevelDB's flushes and compactions,
// which the job's own writes cause too) used since the last call: when it is
// busy (more than a fifth of a core), the job sleeps three times as long as its
// own chunk took, so that it takes at most a quarter of a core while requests
// run; when the process is otherwise idle the job runs at full speed. (A low
// CPU priority alone does not do it: the job's memory traffic, page-cache
// writes and their writeback also cost the requests, and the measured write
// throughput during a nice-19 backup was still 0.64x; see docs/backup.md.)
//
// Thread-safety: one Pacer per job thread.
#ifndef EDDY_STORE_PACER_H_
#define EDDY_STORE_PACER_H_

#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <thread>

namespace eddy::store {

// The CPU time LevelDB's background work (flushes, compactions) has used
// in this process (store/src/background_env.cc measures it).
int64_t LevelDbBackgroundCpuMicros();

// The calling thread's CPU niceness.
int ThreadNice();
// Lowers the calling thread's CPU priority to niceness `nice` (at most 19;
// 0 or less, or a thread already nicer, keeps its own) and, best effort,
// puts its I/O in the idle class (ioprio_set has no glibc wrapper).
void LowerThreadPriority(int nice);
// For housekeeping threads (unlinking removed files, recounting items after
// a crash): ten nice levels below the calling thread's (at least 1), so
// that their bursts do not take the requests' CPU — at start-up too —
// while the tenth of a core they still get under full load keeps them
// going.
void LowerThreadPriorityForHousekeeping();

class Pacer {
 public:
  // `job_share`: the share of a core the job may take while the rest of
  // the process is busy (0 < share <= 1; 1: never sleeps).
  explicit Pacer(double job_share = 0.25) : share_(job_share) { Reset(); }

  void Pace() {
    const int64_t now = WallMicros();
    const int64_t process = CpuMicros(RUSAGE_SELF);
    const int64_t mine = CpuMicros(RUSAGE_THREAD);
    const int64_t background = LevelDbBackgroundCpuMicros();
    const int64_t wall = now - last_wall_;
    const int64_t own = mine - last_mine_;
    const int64_t others =
        (process - last_process_) - own - (background - last_background_);
    if (share_ < 1.0 && wall > 0 && others * 5 > wall) {
      const auto sleep = static_cast<int64_t>(static_cast<double>(own) *
                                              (1.0 - share_) / share_);
      slept_micros_ += sleep;
      std::this_thread::sleep_for(std::chrono::microseconds(sleep));
    } else {
      std::this_thread::yield();
    }
    Reset();
  }
  // Time spent sleeping so far (the cost of pacing).
  int64_t slept_micros() const { return slept_micros_; }

 private:
  static int64_t WallMicros() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  static int64_t CpuMicros(int who) {
    rusage u{};
    getrusage(who, &u);
    return (static_cast<int64_t>(u.ru_utime.tv_sec) +
            static_cast<int64_t>(u.ru_stime.tv_sec)) *
               1000000 +
           u.ru_utime.tv_usec + u.ru_stime.tv_usec;
  }
  void Reset() {
    last_wall_ = WallMicros();
    last_process_ = CpuMicros(RUSAGE_SELF);
    last_mine_ = CpuMicros(RUSAGE_THREAD);
    last_background_ = LevelDbBackgroundCpuMicros();
  }

  const double share_;
  int64_t last_wall_ = 0;
  int64_t last_process_ = 0;
  int64_t last_mine_ = 0;
  int64_t last_background_ = 0;
  int64_t slept_micros_ = 0;
};

}  // namespace eddy::store

#endif  // EDDY_STORE_PACER_H_
