// Mutex, MutexLock and CondVar: std::mutex and std::condition_variable with
// the capability annotations Clang's -Wthread-safety needs (libstdc++'s
// std::mutex carries none). Same shape as leveldb port/port_stdcxx.h.
//
// Thread-safety: these are the synchronisation primitives themselves.
#ifndef EDDY_STREAMS_SRC_MUTEX_H_
#define EDDY_STREAMS_SRC_MUTEX_H_

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "thread_annotations.h"

namespace eddy::streams {

class EDDY_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() EDDY_ACQUIRE() { mu_.lock(); }
  void Unlock() EDDY_RELEASE() { mu_.unlock(); }
  void AssertHeld() EDDY_ASSERT_CAPABILITY(this) {}

 private:
  friend class CondVar;
  std::mutex mu_;
};

class EDDY_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) EDDY_ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() EDDY_RELEASE() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// A condition variable bound to one Mutex. Every method requires that mutex.
class CondVar {
 public:
  explicit CondVar(Mutex* mu) : mu_(mu) {}
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  void Wait() {
    std::unique_lock<std::mutex> lock(mu_->mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();
  }
  // Returns false on timeout. Spurious wake-ups return true; callers loop.
  bool WaitUntil(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mu_->mu_, std::adopt_lock);
    const bool woken =
        cv_.wait_until(lock, deadline) == std::cv_status::no_timeout;
    lock.release();
    return woken;
  }
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
  Mutex* const mu_;
};

}  // namespace eddy::streams

#endif  // EDDY_STREAMS_SRC_MUTEX_H_
