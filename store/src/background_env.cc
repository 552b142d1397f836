#include "background_env.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>

#include <atomic>
#include <string>
#include <string_view>
#include <utility>

#include "eddy/store/pacer.h"

namespace eddy::store {
namespace {

std::atomic<int64_t> g_background_cpu_micros{0};

int64_t ThreadCpuMicros() {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  return (static_cast<int64_t>(u.ru_utime.tv_sec) +
          static_cast<int64_t>(u.ru_stime.tv_sec)) *
             1000000 +
         u.ru_utime.tv_usec + u.ru_stime.tv_usec;
}

bool IsTableFile(const std::string& name) {
  static constexpr std::string_view kSuffix = ".ldb";
  return name.size() > kSuffix.size() &&
         name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) ==
             0;
}

class YieldingFile final : public leveldb::WritableFile {
 public:
  YieldingFile(std::unique_ptr<leveldb::WritableFile> file, size_t yield_bytes,
               const std::function<void()>* yield)
      : file_(std::move(file)), yield_bytes_(yield_bytes), yield_(yield) {}

  leveldb::Status Append(const leveldb::Slice& data) override {
    leveldb::Status s = file_->Append(data);
    written_ += data.size();
    if (written_ >= yield_bytes_) {
      written_ = 0;
      (*yield_)();
    }
    return s;
  }
  leveldb::Status Close() override { return file_->Close(); }
  leveldb::Status Flush() override { return file_->Flush(); }
  leveldb::Status Sync() override { return file_->Sync(); }

 private:
  std::unique_ptr<leveldb::WritableFile> file_;
  const size_t yield_bytes_;
  const std::function<void()>* const yield_;  // Owned by the Env.
  size_t written_ = 0;                        // Since the last yield.
};

class YieldingEnv final : public leveldb::EnvWrapper {
 public:
  YieldingEnv(leveldb::Env* base, size_t yield_bytes,
              std::function<void()> yield)
      : leveldb::EnvWrapper(base),
        yield_bytes_(yield_bytes),
        yield_(yield ? std::move(yield) : [] { sched_yield(); }) {}

  leveldb::Status NewWritableFile(const std::string& name,
                                  leveldb::WritableFile** result) override {
    leveldb::Status s = target()->NewWritableFile(name, result);
    if (s.ok() && IsTableFile(name)) {
      *result =
          new YieldingFile(std::unique_ptr<leveldb::WritableFile>(*result),
                           yield_bytes_, &yield_);
    }
    return s;
  }

 private:
  const size_t yield_bytes_;
  const std::function<void()> yield_;
};

class GatedEnv final : public leveldb::EnvWrapper {
 public:
  GatedEnv(leveldb::Env* base, std::shared_mutex* gate)
      : leveldb::EnvWrapper(base), gate_(gate) {}

  void Schedule(void (*function)(void*), void* arg) override {
    auto* call = new Call{function, arg, gate_};
    target()->Schedule(&GatedEnv::Run, call);
  }

 private:
  struct Call {
    void (*function)(void*);
    void* arg;
    std::shared_mutex* gate;
  };
  static void Run(void* raw) {
    std::unique_ptr<Call> call(static_cast<Call*>(raw));
    thread_local bool named = false;
    if (!named) {
      pthread_setname_np(pthread_self(), kLevelDbThreadName);
      named = true;
    }
    std::shared_lock<std::shared_mutex> lock(*call->gate);
    const int64_t before = ThreadCpuMicros();
    call->function(call->arg);
    g_background_cpu_micros.fetch_add(ThreadCpuMicros() - before,
                                      std::memory_order_relaxed);
  }

  std::shared_mutex* const gate_;
};

}  // namespace

int64_t LevelDbBackgroundCpuMicros() {
  return g_background_cpu_micros.load(std::memory_order_relaxed);
}

std::unique_ptr<leveldb::Env> NewGatedEnv(leveldb::Env* base,
                                          std::shared_mutex* gate) {
  return std::make_unique<GatedEnv>(base, gate);
}

std::unique_ptr<leveldb::Env> NewBackgroundYieldingEnv(
    leveldb::Env* base, size_t yield_bytes, std::function<void()> yield) {
  return std::make_unique<YieldingEnv>(base, yield_bytes, std::move(yield));
}

}  // namespace eddy::store
