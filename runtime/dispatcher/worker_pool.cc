#include "dispatcher/worker_pool.h"

#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "dispatcher/record_convert.h"

namespace eddy::runtime::dispatcher {
namespace {

using Clock = std::chrono::steady_clock;

// glibc 2.36's <sys/pidfd.h> lacks C++ linkage; call the kernel directly.
int PidfdOpen(pid_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}
void PidfdKill(int pidfd) {
  ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
}

struct Request {
  std::string group;
  WorkerGroupLimits limits;
  uint64_t invocation_id = 0;
  std::string payload;  // A serialised DispatcherMessage{invoke}.
  std::chrono::milliseconds timeout{0};
  std::promise<Result<proto::InvokeResult>> promise;
};

struct Worker {
  std::string id;
  std::string group;
  pid_t pid = -1;
  int pidfd = -1;
  bool ready = false;     // Said hello.
  bool retiring = false;  // Exit once idle.
  bool killed = false;    // SIGKILLed (timeout); never reused.
  std::shared_ptr<Request> busy;
  Clock::time_point deadline;
};

proto::InvokeResult FailureResult(uint64_t id, const std::string& type,
                                  const std::string& message) {
  proto::InvokeResult result;
  result.set_invocation_id(id);
  result.set_outcome(proto::InvokeResult::FAILURE);
  result.set_error_type(type);
  result.set_error_message(message);
  return result;
}

std::string DescribeExit(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return "signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
  }
  if (WIFEXITED(status)) {
    return "exit status " + std::to_string(WEXITSTATUS(status));
  }
  return "status " + std::to_string(status);
}

}  // namespace

class WorkerPool::Impl {
 public:
  explicit Impl(Options options)
      : options_(std::move(options)),
        context_(1),
        router_(context_, zmq::socket_type::router) {}

  ~Impl() { Stop(); }

  Status Bind() {
    if (::access(options_.worker_binary.c_str(), X_OK) != 0) {
      // The server still serves; invocations fail (and are retried) until
      // the binary appears.
      options_.logger->error(
          "worker binary {} not found or not executable: triggers cannot "
          "run handlers",
          options_.worker_binary);
    }
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) return Status::IOError("eventfd failed");
    try {
      router_.set(zmq::sockopt::linger, 0);
      router_.set(zmq::sockopt::router_mandatory, 1);
      router_.bind(options_.endpoint);
      endpoint_ = router_.get(zmq::sockopt::last_endpoint);
    } catch (const zmq::error_t& e) {
      return Status::IOError("cannot bind the worker socket " +
                             options_.endpoint + ": " + e.what());
    }
    thread_ = std::thread([this] { Run(); });
    return Status::OK();
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    Wake();
    if (thread_.joinable()) thread_.join();
    if (wake_fd_ >= 0) {
      ::close(wake_fd_);
      wake_fd_ = -1;
    }
  }

  Result<proto::InvokeResult> Invoke(const std::string& group,
                                     const WorkerGroupLimits& limits,
                                     uint64_t invocation_id,
                                     std::string message,
                                     std::chrono::milliseconds timeout) {
    auto request = std::make_shared<Request>();
    request->group = group;
    request->limits = limits;
    request->invocation_id = invocation_id;
    request->timeout = timeout;
    request->payload = std::move(message);
    std::future<Result<proto::InvokeResult>> future =
        request->promise.get_future();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return Status::Busy("the dispatcher is stopping");
      inbox_.push_back(std::move(request));
    }
    Wake();
    return future.get();
  }

  void RetireGroup(const std::string& group) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      retire_.push_back(group);
    }
    Wake();
  }

  Stats stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

  std::string endpoint() const { return endpoint_; }

 private:
  void Wake() {
    if (wake_fd_ < 0) return;
    const uint64_t one = 1;
    ssize_t n = ::write(wake_fd_, &one, sizeof(one));
    (void)n;  // EAGAIN means it is already rung.
  }

  // The supervisor thread.
  void Run() noexcept {
    try {
      Loop();
    } catch (const std::exception& e) {
      options_.logger->critical("worker supervisor failed: {}", e.what());
    }
    Shutdown();
  }

  void Loop() {
    std::vector<zmq::pollitem_t> items;
    std::vector<Worker*> by_item;
    while (true) {
      items.clear();
      by_item.clear();
      items.push_back({router_.handle(), 0, ZMQ_POLLIN, 0});
      items.push_back({nullptr, wake_fd_, ZMQ_POLLIN, 0});
      for (auto& [id, w] : workers_) {
        items.push_back({nullptr, w.pidfd, ZMQ_POLLIN, 0});
        by_item.push_back(&w);
      }
      std::chrono::milliseconds timeout(-1);
      const Clock::time_point now = Clock::now();
      for (auto& [id, w] : workers_) {
        if (w.busy == nullptr || w.killed) continue;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        w.deadline - now) +
                    std::chrono::milliseconds(1);
        if (left.count() < 0) left = std::chrono::milliseconds(0);
        if (timeout.count() < 0 || left < timeout) timeout = left;
      }
      zmq::poll(items.data(), items.size(), timeout);

      if (items[1].revents & ZMQ_POLLIN) {
        uint64_t count = 0;
        ssize_t n = ::read(wake_fd_, &count, sizeof(count));
        (void)n;
        if (TakeInbox()) return;  // Stopping.
      }
      if (items[0].revents & ZMQ_POLLIN) ReceiveAll();
      for (size_t i = 2; i < items.size(); ++i) {
        if (items[i].revents & ZMQ_POLLIN) Reap(by_item[i - 2]->id);
      }
      ExpireDeadlines();
      for (auto& [group, queue] : pending_) Dispatch(group);
    }
  }

  // Moves queued work into pending_; returns true when stopping.
  bool TakeInbox() {
    std::deque<std::shared_ptr<Request>> inbox;
    std::vector<std::string> retire;
    bool stopping;
    {
      std::lock_guard<std::mutex> lock(mu_);
      inbox.swap(inbox_);
      retire.swap(retire_);
      stopping = stopping_;
    }
    for (auto& request : inbox) {
      pending_[request->group].push_back(std::move(request));
    }
    for (const std::string& group : retire) {
      for (auto& request : pending_[group]) {
        request->promise.set_value(Status::Busy("the trigger was stopped"));
      }
      pending_.erase(group);
      for (auto& [id, w] : workers_) {
        if (w.group != group) continue;
        w.retiring = true;
        if (w.busy != nullptr) {
          // Stopping a trigger must not wait for a slow handler: the batch
          // stays unfinished and is delivered again when it restarts.
          w.busy->promise.set_value(Status::Busy("the trigger was stopped"));
          w.busy.reset();
          w.killed = true;
          PidfdKill(w.pidfd);
        } else if (w.ready) {
          SendShutdown(w);
        }
      }
    }
    return stopping;
  }

  void ReceiveAll() {
    while (true) {
      zmq::message_t identity;
      if (!router_.recv(identity, zmq::recv_flags::dontwait)) return;
      std::vector<zmq::message_t> frames;
      bool more = identity.more();
      while (more) {
        zmq::message_t frame;
        if (!router_.recv(frame, zmq::recv_flags::none)) break;
        more = frame.more();
        frames.push_back(std::move(frame));
      }
      if (frames.empty()) continue;
      const std::string id = identity.to_string();
      proto::WorkerMessage message;
      const zmq::message_t& payload = frames.back();
      auto it = workers_.find(id);
      if (it == workers_.end()) {
        options_.logger->warn("message from unknown worker '{}' ignored", id);
        continue;
      }
      if (!message.ParseFromArray(payload.data(),
                                  static_cast<int>(payload.size()))) {
        options_.logger->error("malformed message from worker {}", id);
        continue;
      }
      Worker& w = it->second;
      if (message.has_hello()) {
        w.ready = true;
        if (w.retiring) SendShutdown(w);
      } else if (message.has_result()) {
        if (w.busy == nullptr || w.killed ||
            w.busy->invocation_id != message.result().invocation_id()) {
          continue;  // Late reply to an invocation given up on.
        }
        w.busy->promise.set_value(message.result());
        w.busy.reset();
        if (w.retiring) SendShutdown(w);
      }
    }
  }

  void SendShutdown(Worker& w) {
    proto::DispatcherMessage message;
    message.mutable_shutdown();
    Send(w, message.SerializeAsString()).IgnoreError();
    w.retiring = true;
  }

  Status Send(Worker& w, const std::string& payload) {
    try {
      router_.send(zmq::buffer(w.id), zmq::send_flags::sndmore);
      router_.send(zmq::buffer(payload), zmq::send_flags::none);
    } catch (const zmq::error_t& e) {
      return Status::IOError(std::string("send to worker failed: ") + e.what());
    }
    return Status::OK();
  }

  void Reap(const std::string& id) {
    auto it = workers_.find(id);
    if (it == workers_.end()) return;
    Worker& w = it->second;
    int status = 0;
    while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
    }
    ::close(w.pidfd);
    const std::string how = DescribeExit(status);
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.exits;
      --stats_.live;
      if (w.busy != nullptr) ++stats_.crashes;
    }
    if (w.busy != nullptr) {
      options_.logger->warn(
          "worker {} (pid {}) of {} died during an "
          "invocation: {}",
          w.id, w.pid, w.group, how);
      w.busy->promise.set_value(
          FailureResult(w.busy->invocation_id, "Runtime.ExitError",
                        "the worker running the handler exited: " + how));
    } else if (!w.ready && !w.retiring && !w.killed) {
      options_.logger->error(
          "worker {} (pid {}) of {} exited before it was "
          "ready: {}",
          w.id, w.pid, w.group, how);
      // Fail the oldest waiting invocation, so a worker that cannot start
      // costs a (backed-off) retry instead of a hang.
      auto& queue = pending_[w.group];
      if (!queue.empty()) {
        queue.front()->promise.set_value(
            FailureResult(queue.front()->invocation_id, "Runtime.ExitError",
                          "the worker exited before it was ready: " + how));
        queue.pop_front();
      }
    } else if (!w.retiring && !w.killed) {
      options_.logger->warn("idle worker {} (pid {}) exited: {}", w.id, w.pid,
                            how);
    }
    workers_.erase(it);
  }

  void ExpireDeadlines() {
    const Clock::time_point now = Clock::now();
    for (auto& [id, w] : workers_) {
      if (w.busy == nullptr || w.killed || now < w.deadline) continue;
      const double seconds =
          static_cast<double>(w.busy->timeout.count()) / 1000.0;
      char text[96];
      std::snprintf(text, sizeof(text), "Task timed out after %.2f seconds",
                    seconds);
      options_.logger->warn("worker {} (pid {}) of {}: {}; killing it", w.id,
                            w.pid, w.group, text);
      PidfdKill(w.pidfd);
      w.killed = true;
      w.busy->promise.set_value(
          FailureResult(w.busy->invocation_id, "Runtime.Timeout", text));
      w.busy.reset();
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.timeouts;
    }
  }

  void Dispatch(const std::string& group) {
    auto& queue = pending_[group];
    while (!queue.empty()) {
      Worker* idle = nullptr;
      size_t live = 0, starting = 0;
      for (auto& [id, w] : workers_) {
        if (w.group != group || w.killed || w.retiring) continue;
        ++live;
        if (!w.ready) ++starting;
        if (w.ready && w.busy == nullptr && idle == nullptr) idle = &w;
      }
      if (idle != nullptr) {
        std::shared_ptr<Request> request = std::move(queue.front());
        queue.pop_front();
        Status sent = Send(*idle, request->payload);
        if (!sent.ok()) {
          // The worker is gone (its exit is on the way): kill it to be sure
          // and fail this invocation as a crash.
          PidfdKill(idle->pidfd);
          idle->killed = true;
          request->promise.set_value(FailureResult(
              request->invocation_id, "Runtime.ExitError", sent.message()));
          continue;
        }
        idle->busy = std::move(request);
        idle->deadline = Clock::now() + idle->busy->timeout;
        continue;
      }
      const WorkerGroupLimits& limits = queue.front()->limits;
      if (starting >= queue.size() || live >= limits.max_workers) return;
      Status spawned = Spawn(group, limits);
      if (!spawned.ok()) {
        options_.logger->error("cannot start a worker for {}: {}", group,
                               spawned.ToString());
        queue.front()->promise.set_value(
            FailureResult(queue.front()->invocation_id, "Runtime.ExitError",
                          spawned.message()));
        queue.pop_front();
      }
    }
  }

  Status Spawn(const std::string& group, const WorkerGroupLimits& limits) {
    const std::string id = "w" + std::to_string(++next_worker_);
    const std::string parent = std::to_string(::getpid());
    std::vector<std::string> args = {options_.worker_binary,
                                     "--connect",
                                     endpoint_,
                                     "--id",
                                     id,
                                     "--parent-pid",
                                     parent,
                                     "--log-level",
                                     options_.worker_log_level};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    struct rlimit limit;
    limit.rlim_cur = limit.rlim_max = limits.memory_bytes;

    const pid_t pid = ::fork();
    if (pid < 0)
      return Status::IOError(std::string("fork: ") + strerror(errno));
    if (pid == 0) {
      // Child: async-signal-safe calls only, then exec.
      sigset_t all;
      sigemptyset(&all);
      sigprocmask(SIG_SETMASK, &all, nullptr);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::setrlimit(RLIMIT_AS, &limit);
      ::close_range(3, ~0u, 0);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    const int pidfd = PidfdOpen(pid);
    if (pidfd < 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      return Status::IOError(std::string("pidfd_open: ") + strerror(errno));
    }
    Worker w;
    w.id = id;
    w.group = group;
    w.pid = pid;
    w.pidfd = pidfd;
    workers_.emplace(id, std::move(w));
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.spawned;
      ++stats_.live;
    }
    options_.logger->debug("started worker {} (pid {}) for {}", id, pid, group);
    return Status::OK();
  }

  // Fails everything still waiting and ends every worker.
  void Shutdown() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      for (auto& request : inbox_) pending_[request->group].push_back(request);
      inbox_.clear();
    }
    for (auto& [group, queue] : pending_) {
      for (auto& request : queue) {
        request->promise.set_value(Status::Busy("the dispatcher is stopping"));
      }
      queue.clear();
    }
    for (auto& [id, w] : workers_) {
      w.retiring = true;  // Its exit is expected: no warning.
      if (w.busy != nullptr) {
        w.busy->promise.set_value(Status::Busy("the dispatcher is stopping"));
        w.busy.reset();
        PidfdKill(w.pidfd);
      } else if (w.ready) {
        SendShutdown(w);
      } else {
        PidfdKill(w.pidfd);
      }
    }
    // Give idle workers a moment to run their handlers' destroy().
    const Clock::time_point deadline =
        Clock::now() + std::chrono::milliseconds(1000);
    while (!workers_.empty()) {
      std::vector<zmq::pollitem_t> items;
      std::vector<std::string> ids;
      for (auto& [id, w] : workers_) {
        items.push_back({nullptr, w.pidfd, ZMQ_POLLIN, 0});
        ids.push_back(id);
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - Clock::now());
      if (left.count() <= 0) break;
      try {
        zmq::poll(items.data(), items.size(), left);
      } catch (const zmq::error_t&) {
        break;
      }
      for (size_t i = 0; i < items.size(); ++i) {
        if (items[i].revents & ZMQ_POLLIN) Reap(ids[i]);
      }
    }
    for (auto& [id, w] : workers_) {
      PidfdKill(w.pidfd);
      ::waitpid(w.pid, nullptr, 0);
      ::close(w.pidfd);
    }
    workers_.clear();
    try {
      router_.close();
    } catch (const zmq::error_t&) {
    }
  }

  Options options_;
  zmq::context_t context_;
  zmq::socket_t router_;
  std::string endpoint_;
  int wake_fd_ = -1;
  std::thread thread_;

  mutable std::mutex mu_;
  bool stopping_ = false;                       // Guarded by mu_.
  std::deque<std::shared_ptr<Request>> inbox_;  // Guarded by mu_.
  std::vector<std::string> retire_;             // Guarded by mu_.
  Stats stats_;                                 // Guarded by mu_.

  // Supervisor thread only.
  std::map<std::string, Worker> workers_;
  std::map<std::string, std::deque<std::shared_ptr<Request>>> pending_;
  uint64_t next_worker_ = 0;
};

Result<std::unique_ptr<WorkerPool>> WorkerPool::Start(Options options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  EDDY_RETURN_IF_ERROR(impl->Bind());
  return std::unique_ptr<WorkerPool>(new WorkerPool(std::move(impl)));
}

WorkerPool::WorkerPool(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WorkerPool::~WorkerPool() { Stop(); }
void WorkerPool::Stop() { impl_->Stop(); }

Result<proto::InvokeResult> WorkerPool::Invoke(
    const std::string& group, const WorkerGroupLimits& limits,
    const proto::InvokeBatch& batch, std::chrono::milliseconds timeout) {
  return impl_->Invoke(group, limits, batch.invocation_id(),
                       EncodeInvokeMessage(batch, {}), timeout);
}

Result<proto::InvokeResult> WorkerPool::Invoke(
    const std::string& group, const WorkerGroupLimits& limits,
    uint64_t invocation_id, std::string message,
    std::chrono::milliseconds timeout) {
  return impl_->Invoke(group, limits, invocation_id, std::move(message),
                       timeout);
}

void WorkerPool::RetireGroup(const std::string& group) {
  impl_->RetireGroup(group);
}

WorkerPool::Stats WorkerPool::stats() const { return impl_->stats(); }
std::string WorkerPool::endpoint() const { return impl_->endpoint(); }

}  // namespace eddy::runtime::dispatcher
