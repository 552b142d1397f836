#include "job_runner.h"

#include <algorithm>

namespace eddy::store {

JobRunner::JobRunner(int threads) {
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
  idle_cv_.wait(lock,
                [this] { return stopped_ || (queue_.empty() && running_ == 0); });
}

void JobRunner::TEST_Hold(bool held) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    held_ = held;
  }
  cv_.notify_all();
}

void JobRunner::Loop() {
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
