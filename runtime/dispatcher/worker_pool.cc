#include "dispatcher/worker_pool.h"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "dispatcher/record_convert.h"

// AddressSanitizer reserves terabytes of address space for its shadow
// memory when a process starts, so an eddy-worker built with it cannot start
// under RLIMIT_AS. In such builds (scripts/test --sanitize) the worker's
// memory cap is ASan's own hard_rss_limit_mb instead.
#if defined(__SANITIZE_ADDRESS__)
#define EDDY_WORKER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EDDY_WORKER_ASAN 1
#endif
#endif

namespace eddy::runtime::dispatcher {
namespace {

// In ASan builds (EDDY_WORKER_ASAN), adds to a worker's environment the
// server's sanitizer settings (ASAN_OPTIONS, UBSAN_OPTIONS, LSAN_OPTIONS:
// where reports go, suppressions), and the memory cap as ASAN_OPTIONS'
// hard_rss_limit_mb. Other builds: nothing.
void AddSanitizerEnvironment([[maybe_unused]] uint64_t memory_bytes,
                             [[maybe_unused]] std::vector<std::string>* env) {
#ifdef EDDY_WORKER_ASAN
  for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"}) {
    const std::string prefix = std::string(name) + "=";
    const bool present = std::any_of(
        env->begin(), env->end(),
        [&](const std::string& v) { return v.rfind(prefix, 0) == 0; });
    const char* value = ::getenv(name);
    if (!present && value != nullptr) env->push_back(prefix + value);
  }
  const std::string limit =
      "hard_rss_limit_mb=" +
      std::to_string(std::max<uint64_t>(1, memory_bytes >> 20));
  auto options = std::find_if(
      env->begin(), env->end(),
      [](const std::string& v) { return v.rfind("ASAN_OPTIONS=", 0) == 0; });
  if (options == env->end()) {
    env->push_back("ASAN_OPTIONS=" + limit);
  } else {
    *options += ":" + limit;
  }
#endif
}

using Clock = std::chrono::steady_clock;

// glibc 2.36's <sys/pidfd.h> lacks C++ linkage; call the kernel directly.
int PidfdOpen(pid_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}
void PidfdKill(int pidfd) {
  ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
}

// Becomes uid/gid with no supplementary groups. Raw system calls: this runs
// in a forked child of a threaded process, where only async-signal-safe
// calls are allowed (glibc's wrappers would try to reach other threads).
int SwitchUser(uid_t uid, gid_t gid) {
  if (::syscall(SYS_setgroups, 0, nullptr) != 0) return -1;
  if (::syscall(SYS_setresgid, gid, gid, gid) != 0) return -1;
  if (::syscall(SYS_setresuid, uid, uid, uid) != 0) return -1;
  return 0;
}

// The file of an ipc:// endpoint ("" for tcp:// and abstract sockets).
std::string IpcPath(const std::string& endpoint) {
  constexpr std::string_view kIpc = "ipc://";
  if (endpoint.compare(0, kIpc.size(), kIpc) != 0) return "";
  std::string path = endpoint.substr(kIpc.size());
  if (path.empty() || path[0] == '@') return "";
  return path;
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
    EDDY_RETURN_IF_ERROR(ResolveWorkerUser());
    // Can we switch at all (and can the user reach the binary and the
    // handlers)? Asked first, so the answer is not an odd chown failure.
    if (switch_user_) EDDY_RETURN_IF_ERROR(TryWorkerUser(""));
    devnull_ = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull_ < 0) {
      return Status::IOError(std::string("cannot open /dev/null: ") +
                             strerror(errno));
    }
    struct rlimit files {};
    ::getrlimit(RLIMIT_NOFILE, &files);
    max_open_files_ =
        files.rlim_max == RLIM_INFINITY
            ? options_.max_open_files
            : std::min<rlim_t>(options_.max_open_files, files.rlim_max);
    std::string endpoint = options_.endpoint;
    if (endpoint.empty()) {
      EDDY_ASSIGN_OR_RETURN(private_dir_, MakePrivateDir());
      endpoint = "ipc://" + private_dir_ + "/workers.sock";
    }
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) return Status::IOError("eventfd failed");
    try {
      router_.set(zmq::sockopt::linger, 0);
      router_.set(zmq::sockopt::router_mandatory, 1);
      router_.bind(endpoint);
      endpoint_ = router_.get(zmq::sockopt::last_endpoint);
    } catch (const zmq::error_t& e) {
      return Status::IOError("cannot bind the worker socket " + endpoint +
                             ": " + e.what());
    }
    socket_path_ = IpcPath(endpoint_);
    if (switch_user_) {
      // connect() needs write permission on the socket file.
      if (!socket_path_.empty() &&
          ::chown(socket_path_.c_str(), worker_uid_, worker_gid_) != 0) {
        return Status::IOError("cannot give the worker socket " + socket_path_ +
                               " to the worker user: " + strerror(errno));
      }
      if (!socket_path_.empty()) {
        EDDY_RETURN_IF_ERROR(TryWorkerUser(socket_path_));
      }
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
    if (devnull_ >= 0) {
      ::close(devnull_);
      devnull_ = -1;
    }
    if (!private_dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(private_dir_, ec);
      private_dir_.clear();
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

  std::optional<std::pair<uid_t, gid_t>> worker_identity() const {
    if (!switch_user_) return std::nullopt;
    return std::make_pair(worker_uid_, worker_gid_);
  }

 private:
  // Options::worker_user -> worker_uid_/worker_gid_ (switch_user_ unless it
  // is the server's own user).
  Status ResolveWorkerUser() {
    const std::string& name = options_.worker_user;
    if (name.empty()) return Status::OK();
    struct passwd pw {};
    struct passwd* found = nullptr;
    std::vector<char> buf(16384);
    ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found);
    if (found != nullptr) {
      worker_uid_ = found->pw_uid;
      worker_gid_ = found->pw_gid;
    } else if (!name.empty() &&
               name.find_first_not_of("0123456789") == std::string::npos) {
      worker_uid_ = static_cast<uid_t>(std::strtoul(name.c_str(), nullptr, 10));
      ::getpwuid_r(worker_uid_, &pw, buf.data(), buf.size(), &found);
      worker_gid_ =
          found != nullptr ? found->pw_gid : static_cast<gid_t>(worker_uid_);
    } else {
      return Status::InvalidArgument("--worker-user " + name +
                                     ": no such user (give a user name from "
                                     "/etc/passwd or a numeric uid)");
    }
    switch_user_ = worker_uid_ != ::geteuid() || worker_gid_ != ::getegid();
    return Status::OK();
  }

  // A fresh directory for the worker socket that only the worker user (and
  // root) can enter.
  Result<std::string> MakePrivateDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && tmp[0] == '/' ? tmp : "/tmp") +
        "/eddy-workers-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      return Status::IOError(
          "cannot create a directory for the worker "
          "socket (" +
          pattern + "): " + strerror(errno));
    }
    if (switch_user_ &&
        ::chown(pattern.c_str(), worker_uid_, worker_gid_) != 0) {
      const int err = errno;
      ::rmdir(pattern.c_str());
      return Status::IOError("cannot give " + pattern +
                             " to the worker user: " + strerror(err));
    }
    return pattern;
  }

  // Before any worker starts: can this process become the worker user, and
  // can that user run the worker, read the handler directory and connect to
  // the socket at `socket_path` (if not "")? Each refusal says how to fix
  // it.
  Status TryWorkerUser(const std::string& socket_path) {
    struct Outcome {
      int step = 0;  // 0: all fine; else the check that failed.
      int err = 0;
      uint32_t reachable = 0;  // Bit i: the user can enter private_paths[i].
    };
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      return Status::IOError(std::string("pipe: ") + strerror(errno));
    }
    const char* binary = options_.worker_binary.c_str();
    const char* handlers = options_.handler_dir.c_str();
    const char* socket = socket_path.c_str();
    const bool has_socket = !socket_path.empty();
    const uid_t uid = worker_uid_;
    const gid_t gid = worker_gid_;
    std::vector<const char*> private_paths;
    if (socket_path.empty()) {
      for (const std::string& path : options_.private_paths) {
        if (private_paths.size() < 32) private_paths.push_back(path.c_str());
      }
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
      const int err = errno;
      ::close(fds[0]);
      ::close(fds[1]);
      return Status::IOError(std::string("fork: ") + strerror(err));
    }
    if (pid == 0) {
      // Child: async-signal-safe calls only.
      Outcome o;
      if (SwitchUser(uid, gid) != 0) {
        o = {1, errno};
      } else if (::access(binary, X_OK) != 0) {
        o = {2, errno};
      } else if (::access(handlers, R_OK | X_OK) != 0) {
        o = {3, errno};
      } else if (has_socket && ::access(socket, W_OK) != 0) {
        o = {4, errno};
      }
      for (size_t i = 0; o.step == 0 && i < private_paths.size(); ++i) {
        if (::access(private_paths[i], X_OK) == 0) o.reachable |= 1u << i;
      }
      ssize_t n = ::write(fds[1], &o, sizeof(o));
      ::_exit(n == sizeof(o) ? 0 : 1);
    }
    ::close(fds[1]);
    Outcome o;
    ssize_t n;
    while ((n = ::read(fds[0], &o, sizeof(o))) < 0 && errno == EINTR) {
    }
    ::close(fds[0]);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    if (n != sizeof(o)) {
      return Status::Internal("the check of --worker-user died");
    }
    const std::string user = "--worker-user " + options_.worker_user +
                             " (uid " + std::to_string(worker_uid_) + ", gid " +
                             std::to_string(worker_gid_) + ")";
    const std::string why = o.err != 0 ? strerror(o.err) : "";
    switch (o.step) {
      case 0:
        for (size_t i = 0; i < private_paths.size(); ++i) {
          if ((o.reachable & (1u << i)) == 0) continue;
          options_.logger->warn(
              "workers run as {}, but it can enter {}: handlers could read "
              "what it holds (tables, stream logs). Fix: chmod 700 {}",
              options_.worker_user, private_paths[i], private_paths[i]);
        }
        return Status::OK();
      case 1:
        return Status::InvalidArgument(
            user + ": the server cannot switch to that user (" + why +
            "). Running workers as another user needs a server started as "
            "root (or with CAP_SETUID and CAP_SETGID); without those, leave "
            "--worker-user out");
      case 2:
        return Status::InvalidArgument(
            user + " cannot execute the worker binary " +
            options_.worker_binary + " (" + why +
            "): make it, and every directory above it, executable by that "
            "user (chmod o+x), or pass --worker-bin with a copy it can run");
      case 3:
        return Status::InvalidArgument(
            user + " cannot read the handler directory " +
            options_.handler_dir + " (" + why +
            "): make it readable and searchable by that user, and every "
            "directory above it searchable (chmod o+rx " +
            options_.handler_dir +
            "; chmod o+x on its parents), or pass "
            "another --handler-dir");
      default:
        return Status::InvalidArgument(
            user + " cannot connect to the worker socket " + socket_path +
            " (" + why +
            "): pass a --worker-endpoint in a directory that user can "
            "reach, or leave --worker-endpoint out (a private directory is "
            "then made for it)");
    }
  }

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
                                     "--handler-dir",
                                     options_.handler_dir,
                                     "--handler-owner",
                                     std::to_string(options_.handler_owner),
                                     "--log-level",
                                     options_.worker_log_level};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> environment;
    if (limits.environment != nullptr) environment = *limits.environment;
    AddSanitizerEnvironment(limits.memory_bytes, &environment);
    std::vector<char*> envp;
    for (std::string& e : environment) envp.push_back(e.data());
    envp.push_back(nullptr);
    struct rlimit memory;
    memory.rlim_cur = memory.rlim_max = limits.memory_bytes;
    struct rlimit no_core {};
    struct rlimit files;
    files.rlim_cur = files.rlim_max = max_open_files_;
    const bool switch_user = switch_user_;
    const uid_t uid = worker_uid_;
    const gid_t gid = worker_gid_;
    const int devnull = devnull_;
    const int log_fd = options_.log_fd;

    const pid_t pid = ::fork();
    if (pid < 0)
      return Status::IOError(std::string("fork: ") + strerror(errno));
    if (pid == 0) {
      // Child: async-signal-safe calls only, then exec. The sandbox is
      // described in worker_pool.h; a step that fails ends the child (the
      // pool reports a worker that exited before it was ready).
      sigset_t all;
      sigemptyset(&all);
      sigprocmask(SIG_SETMASK, &all, nullptr);
#ifdef EDDY_WORKER_ASAN
      (void)memory;  // hard_rss_limit_mb in envp instead.
#else
      if (::setrlimit(RLIMIT_AS, &memory) != 0) ::_exit(126);
#endif
      if (::setrlimit(RLIMIT_CORE, &no_core) != 0 ||
          ::setrlimit(RLIMIT_NOFILE, &files) != 0) {
        ::_exit(126);
      }
      if (switch_user && SwitchUser(uid, gid) != 0) ::_exit(126);
      // After the user switch, which clears it.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(126);
      if (::dup2(devnull, 0) != 0) ::_exit(126);
      if (log_fd >= 0 && (::dup2(log_fd, 1) != 1 || ::dup2(log_fd, 2) != 2)) {
        ::_exit(126);
      }
      ::close_range(3, ~0u, 0);
      ::execve(argv[0], argv.data(), envp.data());
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
  std::string socket_path_;  // The file of an ipc:// endpoint, or "".
  std::string private_dir_;  // Made for the socket (Options::endpoint "").
  int wake_fd_ = -1;
  int devnull_ = -1;           // The workers' stdin.
  rlim_t max_open_files_ = 0;  // Their RLIMIT_NOFILE.
  bool switch_user_ = false;   // Workers run as worker_uid_/worker_gid_.
  uid_t worker_uid_ = 0;
  gid_t worker_gid_ = 0;
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
std::optional<std::pair<uid_t, gid_t>> WorkerPool::worker_identity() const {
  return impl_->worker_identity();
}

}  // namespace eddy::runtime::dispatcher
