#include "worker/worker.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <zmq.hpp>

#include "worker/batch_convert.h"

namespace eddy::runtime::worker {
namespace {

constexpr uint32_t kProtocolVersion = 1;

std::string ErrnoText(const std::string& what, int err) {
  return what + ": " + std::strerror(err);
}

// Copies the open library `in` (checked by HandlerDir::OpenLibrary; closed
// here) into a fresh memfd; returns its fd. A zero *version is set to the
// file's.
Result<int> CopyToMemfd(int in, const std::string& path,
                        HandlerVersion* version) {
  struct stat st {};
  if (::fstat(in, &st) != 0) {
    const int err = errno;
    ::close(in);
    return Status::IOError(ErrnoText("cannot stat " + path, err));
  }
  if (version != nullptr && *version == HandlerVersion{}) {
    version->mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 +
                        st.st_mtim.tv_nsec;
    version->inode = st.st_ino;
    version->size = static_cast<uint64_t>(st.st_size);
  }
  const int out = ::memfd_create("eddy-handler", MFD_CLOEXEC);
  if (out < 0) {
    const int err = errno;
    ::close(in);
    return Status::IOError(ErrnoText("memfd_create", err));
  }
  off_t offset = 0;
  while (offset < st.st_size) {
    const ssize_t n =
        ::sendfile(out, in, &offset, static_cast<size_t>(st.st_size - offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      ::close(in);
      ::close(out);
      return Status::IOError(ErrnoText("cannot copy " + path, err));
    }
  }
  ::close(in);
  return out;
}

// The host names the file it was given (/proc/self/fd/N); name the
// user's path instead.
std::string ReplaceAll(std::string text, const std::string& from,
                       const std::string& to) {
  if (from.empty()) return text;
  for (size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void Fail(proto::InvokeResult* result, const std::string& type,
          const std::string& message) {
  result->set_outcome(proto::InvokeResult::FAILURE);
  result->set_error_type(type);
  result->set_error_message(message);
}

}  // namespace

Result<functions::HandlerLibrary*> HandlerCache::Get(const std::string& path,
                                                     HandlerVersion version) {
  auto it = entries_.find(path);
  if (it != entries_.end() && version != HandlerVersion{} &&
      it->second.version == version) {
    return it->second.library.get();
  }
  if (it != entries_.end()) {
    // A new build (or an unversioned request): drop the old one first, so
    // that its destroy() runs before the new init.
    logger_->info("reloading handler {}", path);
    entries_.erase(it);
  }
  // What is loaded is a copy of the very file the rules were checked on.
  Result<int> opened = dir_->OpenLibrary(path);
  if (!opened.ok()) return opened.status();
  Result<int> fd = CopyToMemfd(*opened, path, &version);
  if (!fd.ok()) return fd.status();
  const std::string fd_path = "/proc/self/fd/" + std::to_string(*fd);
  functions::HandlerLibrary::Options options;
  std::shared_ptr<spdlog::logger> logger = logger_;
  options.log = [logger, path](functions::HandlerLogLevel level,
                               std::string_view message) {
    static constexpr spdlog::level::level_enum kLevels[] = {
        spdlog::level::trace, spdlog::level::debug, spdlog::level::info,
        spdlog::level::warn, spdlog::level::err};
    logger->log(kLevels[static_cast<int>(level)], "[handler {}] {}", path,
                message);
  };
  Result<std::unique_ptr<functions::HandlerLibrary>> library =
      functions::HandlerLibrary::Load(fd_path, std::move(options));
  ::close(*fd);  // The mapping keeps the code alive.
  if (!library.ok()) {
    const Status& s = library.status();
    return Status(
        s.IsNotFound()
            ? Status::NotFound(ReplaceAll(s.message(), fd_path, path))
            : Status::InvalidArgument(ReplaceAll(s.message(), fd_path, path)));
  }
  functions::HandlerLibrary* raw = library->get();
  entries_[path] = Entry{version, std::move(*library)};
  return raw;
}

proto::InvokeResult RunInvocation(HandlerCache* cache,
                                  const proto::InvokeBatch& batch) {
  proto::InvokeResult result;
  result.set_invocation_id(batch.invocation_id());
  try {
    HandlerVersion version{batch.handler_mtime_ns(), batch.handler_inode(),
                           batch.handler_size()};
    Result<functions::HandlerLibrary*> library =
        cache->Get(batch.handler_path(), version);
    if (!library.ok()) {
      Fail(&result, "HandlerLoadError", library.status().message());
      return result;
    }
    Result<functions::HostBatch> host_batch = ToHostBatch(batch);
    if (!host_batch.ok()) {
      Fail(&result, "InvalidBatch", host_batch.status().message());
      return result;
    }
    const int64_t start = NowUs();
    Result<functions::HandlerResult> outcome = (*library)->Invoke(*host_batch);
    result.set_duration_us(NowUs() - start);
    if (!outcome.ok()) {
      Fail(&result, "InvalidBatch", outcome.status().message());
      return result;
    }
    ToInvokeResult(*outcome, &result);
  } catch (const std::exception& e) {
    Fail(&result, "WorkerError", e.what());
  } catch (...) {
    Fail(&result, "WorkerError", "unknown exception");
  }
  return result;
}

int RunWorker(const WorkerOptions& options) noexcept {
  const std::shared_ptr<spdlog::logger>& log = options.logger;
  try {
    // The server checked the directory before starting us; checking it
    // again costs one stat and guards a worker started by hand.
    Result<HandlerDir> dir =
        HandlerDir::Open(options.handler_dir, options.handler_owner, false);
    if (!dir.ok()) {
      log->error("worker {}: {}", options.id, dir.status().message());
      return 1;
    }
    zmq::context_t context(1);
    zmq::socket_t socket(context, zmq::socket_type::dealer);
    socket.set(zmq::sockopt::routing_id, options.id);
    socket.set(zmq::sockopt::linger, 0);
    socket.connect(options.endpoint);

    auto send = [&socket](const proto::WorkerMessage& message) {
      std::string bytes;
      if (!message.SerializeToString(&bytes)) return false;
      return socket.send(zmq::buffer(bytes), zmq::send_flags::none).has_value();
    };
    proto::WorkerMessage hello;
    hello.mutable_hello()->set_pid(static_cast<uint32_t>(::getpid()));
    hello.mutable_hello()->set_protocol_version(kProtocolVersion);
    if (!send(hello)) {
      log->error("cannot greet the dispatcher at {}", options.endpoint);
      return 1;
    }
    log->debug("worker {} connected to {}", options.id, options.endpoint);

    HandlerCache cache(&*dir, log);
    while (true) {
      zmq::message_t frame;
      if (!socket.recv(frame, zmq::recv_flags::none)) continue;
      proto::DispatcherMessage message;
      if (!message.ParseFromArray(frame.data(),
                                  static_cast<int>(frame.size()))) {
        log->error("worker {}: malformed message from the dispatcher",
                   options.id);
        continue;
      }
      if (message.has_shutdown()) {
        log->debug("worker {} shutting down", options.id);
        return 0;
      }
      if (!message.has_invoke()) continue;
      proto::WorkerMessage reply;
      *reply.mutable_result() = RunInvocation(&cache, message.invoke());
      if (!send(reply)) {
        log->error("worker {}: cannot send a result", options.id);
        return 1;
      }
    }
  } catch (const std::exception& e) {
    log->error("worker {} failed: {}", options.id, e.what());
  } catch (...) {
    log->error("worker {} failed with an unknown exception", options.id);
  }
  return 1;
}

}  // namespace eddy::runtime::worker
