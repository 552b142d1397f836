#include "job_runner.h"

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "eddy/store/pacer.h"

namespace eddy::store {

namespace {

// The pacer of the job thread running on this thread (null elsewhere).
thread_local Pacer* t_pacer = nullptr;

}  // namespace

int ThreadNice() {
  errno = 0;  // getpriority may return -1 as a niceness.
  const int nice =
      ::getpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)));
  return errno == 0 ? nice : 0;
}

void LowerThreadPriority(int nice) {
  nice = std::min(nice, 19);
  if (nice <= 0 || nice <= ThreadNice()) return;
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  ::setpriority(PRIO_PROCESS, tid, nice);
#ifdef SYS_ioprio_set
  constexpr int kWhoProcess = 1;  // IOPRIO_WHO_PROCESS
  constexpr int kClassIdle = 3;   // IOPRIO_CLASS_IDLE
  constexpr int kClassShift = 13;
  ::syscall(SYS_ioprio_set, kWhoProcess, static_cast<int>(tid),
            kClassIdle << kClassShift);
#endif
}

void LowerThreadPriorityForHousekeeping() {
  LowerThreadPriority(std::max(1, ThreadNice() + 10));
}

JobRunner::JobRunner(int threads, int nice) : nice_(nice) {
  for (int i = 0; i < std::max(1, threads); ++i) {
    threads_.emplace_back([this] { Loop(); });
  }
}

void JobRunner::Submit(Job job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void JobRunner::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    stop_ = true;
    queue_.clear();
  }
  cv_.notify_all();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  idle_cv_.notify_all();
}

void JobRunner::WaitIdle() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_cv_.wait(
      lock, [this] { return stopped_ || (queue_.empty() && running_ == 0); });
}

void JobRunner::TEST_Hold(bool held) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    held_ = held;
  }
  cv_.notify_all();
}

void JobRunner::Pace() {
  if (t_pacer != nullptr) {
    t_pacer->Pace();
  } else {
    ::sched_yield();
  }
}

void JobRunner::Loop() {
  LowerThreadPriority(nice_);
  Pacer pacer(nice_ > 0 ? 0.25 : 1.0);
  t_pacer = &pacer;
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock,
               [this] { return stopped_ || (!held_ && !queue_.empty()); });
      if (stopped_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    job(stop_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      --running_;
    }
    idle_cv_.notify_all();
  }
}

}  // namespace eddy::store
