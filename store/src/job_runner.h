// JobRunner: the store's long-running background work (backups, restores)
// on a few threads, so that none of it runs on a request's thread.
//
// A job is a function that checks `stop` now and then and returns early
// once it is set (Close); its owner keeps its durable status record (a
// backup's manifest, a restoring table's catalog record) so that the next
// Open resumes or fails it. Jobs run in submission order, `threads` at a
// time.
//
// Pacing: the jobs' threads run at a low CPU priority (`nice`, 19 by
// default, and the idle I/O class where the kernel's I/O scheduler honours
// it), and jobs call Pace() between chunks of work (every few thousand
// items): while the rest of the process is busy, the job sleeps so that it
// takes at most a quarter of a core (eddy/store/pacer.h). On a busy server
// a backup takes longer instead of slowing the writes down. With nice 0
// there is no pacing: Pace() only yields.
//
// Thread-safety: all methods may be called concurrently.
#ifndef EDDY_STORE_SRC_JOB_RUNNER_H_
#define EDDY_STORE_SRC_JOB_RUNNER_H_

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace eddy::store {

class JobRunner {
 public:
  using Job = std::function<void(const std::atomic<bool>& stop)>;

  // `nice`: the jobs' threads' niceness (0-19; 0 leaves them at the
  // process's priority, and the I/O class unchanged).
  JobRunner(int threads, int nice);
  ~JobRunner() { Stop(); }
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  // Queues `job`. After Stop, jobs are dropped (their records resume them
  // at the next Open).
  void Submit(Job job);
  // Sets `stop`, waits for the running jobs to return, drops queued ones.
  void Stop();
  // Blocks until no job is queued or running (tests, tools).
  void WaitIdle();
  // Test hook: while held, queued jobs wait (a shutdown then leaves them
  // to the next Open).
  void TEST_Hold(bool held);
  // Called by a job between chunks of its work (see above); on a thread
  // that is not a job's, it only yields.
  static void Pace();

 private:
  void Loop();

  const int nice_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::deque<Job> queue_;
  int running_ = 0;
  bool stopped_ = false;
  bool held_ = false;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

}  // namespace eddy::store

#endif  // EDDY_STORE_SRC_JOB_RUNNER_H_
