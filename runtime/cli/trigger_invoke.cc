#include "cli/trigger_invoke.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string_view>
#include <utility>

#include "dispatcher/batch_rules.h"
#include "dispatcher/trigger_config.h"
#include "dispatcher/worker_pool.h"
#include "eddy/functions/testing.h"

namespace eddy::runtime::cli {
namespace {

namespace fs = std::filesystem;
namespace t = ::eddy::handler::test;
using dispatcher::BatchVerdict;
using dispatcher::WorkerPool;

void ToProto(const t::value& v, proto::AttributeValueProto* out);

void ToMapProto(const t::value& map, proto::MapValueProto* out) {
  for (const auto& [name, value] : map.entries()) {
    proto::AttributeProto* entry = out->add_entries();
    entry->set_name(name);
    ToProto(value, entry->mutable_value());
  }
}

void ToProto(const t::value& v, proto::AttributeValueProto* out) {
  using handler::value_type;
  auto set = [&v](proto::SetValueProto* s) {
    for (const std::string& item : v.set_items()) s->add_items(item);
  };
  switch (v.type()) {
    case value_type::string:
      out->set_s(v.text());
      break;
    case value_type::number:
      out->set_n(v.text());
      break;
    case value_type::binary:
      out->set_b(v.text());
      break;
    case value_type::boolean:
      out->set_bool_value(v.as_bool());
      break;
    case value_type::null:
    case value_type::unknown:
      out->set_null_value(true);
      break;
    case value_type::map:
      ToMapProto(v, out->mutable_m());
      break;
    case value_type::list:
      for (const t::value& item : v.items()) {
        ToProto(item, out->mutable_l()->add_items());
      }
      break;
    case value_type::string_set:
      set(out->mutable_ss());
      break;
    case value_type::number_set:
      set(out->mutable_ns());
      break;
    case value_type::binary_set:
      set(out->mutable_bs());
      break;
  }
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The batch the dispatcher would send for `e`, with the defaults of the
// SDK's test helpers for what the event leaves out.
proto::InvokeBatch ToInvokeBatch(const t::event& e, const std::string& library,
                                 int64_t timeout_s) {
  proto::InvokeBatch batch;
  batch.set_invocation_id(1);
  batch.set_trigger_name(e.trigger_name);
  batch.set_handler_path(library);
  batch.set_event_source_arn(e.stream_arn());
  batch.set_table_name(e.table_name);
  batch.set_stream_view_type(e.records.empty() ||
                                     e.records[0].stream_view_type.empty()
                                 ? "NEW_AND_OLD_IMAGES"
                                 : e.records[0].stream_view_type);
  batch.set_shard_id(e.shard_id);
  batch.set_attempt(e.attempt);
  batch.set_deadline_ms(NowMs() + timeout_s * 1000);
  const int64_t now = NowMs();
  for (size_t i = 0; i < e.records.size(); ++i) {
    const t::stream_record& r = e.records[i];
    proto::StreamRecordProto* out = batch.add_records();
    out->set_event_name(static_cast<proto::StreamRecordProto::EventName>(
        static_cast<int>(r.event)));
    out->set_event_id(r.event_id.empty() ? "event-" + std::to_string(i + 1)
                                         : r.event_id);
    out->set_sequence_number(r.sequence_number.empty()
                                 ? t::detail::sequence_of(i)
                                 : r.sequence_number);
    out->set_approximate_creation_time_ms(
        r.approximate_creation_time_ms != 0 ? r.approximate_creation_time_ms
                                            : now);
    out->set_size_bytes(r.size_bytes);
    out->set_ttl_delete(r.ttl_delete);
    ToMapProto(r.keys, out->mutable_keys());
    if (r.old_image) ToMapProto(*r.old_image, out->mutable_old_image());
    if (r.new_image) ToMapProto(*r.new_image, out->mutable_new_image());
  }
  if (e.window) {
    proto::WindowProto* w = batch.mutable_window();
    w->set_start_ms(e.window->start_ms);
    w->set_end_ms(e.window->end_ms);
    w->set_state(e.window->state);
    w->set_is_final(e.window->is_final);
    w->set_terminated_early(e.window->terminated_early);
  }
  return batch;
}

std::string WorkerBeside() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "eddy-worker";
  return (self.parent_path() / "eddy-worker").string();
}

std::string ReplaceAll(std::string text, const std::string& from,
                       const std::string& to) {
  if (from.empty()) return text;
  for (size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// One line of a worker's log, as it is shown.
struct LogLine {
  std::string level;    // spdlog's: "info", "warning", ...
  std::string message;  // The handler's text, or the worker's whole line.
  bool from_handler = false;
};

// Splits what the worker wrote ("<time> <level> [worker] [handler <path>]
// <message>"): the handler's lines, and the worker's warnings and errors
// (a failed load says why there).
std::vector<LogLine> ParseWorkerLog(const std::string& text,
                                    const std::string& private_path,
                                    const std::string& user_path) {
  std::vector<LogLine> out;
  std::istringstream in(text);
  std::string line;
  const std::string marker = "[handler " + private_path + "] ";
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    LogLine l;
    const size_t space = line.find(' ');
    if (space != std::string::npos) {
      l.level = line.substr(space + 1, line.find(' ', space + 1) - space - 1);
    }
    if (const size_t at = line.find(marker); at != std::string::npos) {
      l.message = line.substr(at + marker.size());
      l.from_handler = true;
    } else if (l.level == "warning" || l.level == "error" ||
               l.level == "critical") {
      l.message = ReplaceAll(line, private_path, user_path);
    } else {
      continue;  // The worker's own chatter.
    }
    out.push_back(std::move(l));
  }
  return out;
}

// A private handler directory (mode 0700, ours) with a copy of the library:
// the worker's rules (handler_dir.h) hold wherever the library was built.
class PrivateHandlerDir {
 public:
  ~PrivateHandlerDir() {
    if (!dir_.empty()) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }

  Status Make(const std::string& library) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
        "/eddy-invoke-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      return Status::IOError("cannot make a directory under " + pattern);
    }
    std::error_code ec;
    dir_ = fs::canonical(pattern, ec).string();
    if (ec) dir_ = pattern;
    path_ = dir_ + "/" + fs::path(library).filename().string();
    fs::copy_file(library, path_, ec);
    if (ec) {
      return Status::InvalidArgument("cannot read the handler library " +
                                     library + ": " + ec.message());
    }
    fs::permissions(path_, fs::perms(0755), ec);
    return Status::OK();
  }

  const std::string& dir() const { return dir_; }
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

std::string ReadAll(int fd) {
  std::string text;
  if (::lseek(fd, 0, SEEK_SET) != 0) return text;
  char buf[8192];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return text;
}

const char* OutcomeName(const BatchVerdict& verdict,
                        const proto::InvokeResult& result) {
  if (verdict.kind == BatchVerdict::Kind::kFailure) return "failure";
  if (result.outcome() == proto::InvokeResult::BATCH_ITEM_FAILURES) {
    return "batch item failures";
  }
  return "success";
}

void PrintJson(std::FILE* out, const BatchVerdict& verdict,
               const proto::InvokeResult& result,
               const std::vector<std::string>& sequences,
               const std::vector<LogLine>& log) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&w](std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  };
  w.StartObject();
  w.Key("Outcome");
  str(OutcomeName(verdict, result));
  if (verdict.kind == BatchVerdict::Kind::kFailure) {
    w.Key("ErrorType");
    str(verdict.error_type);
    w.Key("ErrorMessage");
    str(verdict.error_message);
  }
  w.Key("BatchItemFailures");
  w.StartArray();
  for (const std::string& s : result.batch_item_failures()) str(s);
  w.EndArray();
  if (verdict.kind == BatchVerdict::Kind::kPartial) {
    w.Key("RetriedFrom");
    str(sequences[verdict.first_failed]);
  }
  if (result.has_window_state()) {
    w.Key("WindowState");
    str(result.window_state());
  }
  w.Key("DurationUs");
  w.Int64(result.duration_us());
  w.Key("Log");
  w.StartArray();
  for (const LogLine& l : log) {
    w.StartObject();
    w.Key("Level");
    str(l.level);
    w.Key("Message");
    str(l.message);
    w.Key("FromHandler");
    w.Bool(l.from_handler);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  std::fprintf(out, "%s\n", buf.GetString());
}

void PrintText(std::FILE* out, const BatchVerdict& verdict,
               const proto::InvokeResult& result,
               const std::vector<std::string>& sequences,
               const std::vector<LogLine>& log, bool windowed) {
  std::fprintf(out, "outcome: %s\n", OutcomeName(verdict, result));
  if (verdict.kind == BatchVerdict::Kind::kFailure) {
    std::fprintf(out, "error: %s: %s\n", verdict.error_type.c_str(),
                 verdict.error_message.c_str());
  }
  if (result.batch_item_failures_size() > 0) {
    std::fprintf(out, "batch item failures:");
    for (const std::string& s : result.batch_item_failures()) {
      std::fprintf(out, " %s", s.c_str());
    }
    std::fprintf(out, "\n");
    if (verdict.kind == BatchVerdict::Kind::kPartial) {
      std::fprintf(out,
                   "  a trigger with --report-batch-item-failures marks %zu "
                   "record(s) done and retries from %s\n",
                   verdict.first_failed, sequences[verdict.first_failed].c_str());
    } else if (verdict.kind == BatchVerdict::Kind::kSuccess) {
      std::fprintf(out,
                   "  (ignored without --report-batch-item-failures: the "
                   "batch counts as a success)\n");
    }
  }
  if (result.has_window_state()) {
    std::fprintf(out, "window state: %s\n", result.window_state().c_str());
  } else if (windowed) {
    std::fprintf(out,
                 "window state: none (in a tumbling window, a reply without "
                 "state fails the batch)\n");
  }
  std::fprintf(out, "duration: %.3f ms\n",
               static_cast<double>(result.duration_us()) / 1000.0);
  std::fprintf(out, "log:%s\n", log.empty() ? " (nothing)" : "");
  for (const LogLine& l : log) {
    if (l.from_handler) {
      std::fprintf(out, "  [%s] %s\n", l.level.c_str(), l.message.c_str());
    } else {
      std::fprintf(out, "  worker: %s\n", l.message.c_str());
    }
  }
}

}  // namespace

Status ParseEnvOptions(const std::vector<std::string>& env,
                       dispatcher::TriggerConfig* config) {
  for (const std::string& entry : env) {
    const size_t equals = entry.find('=');
    if (equals == std::string::npos) {
      config->inherit_environment.push_back(entry);
    } else if (equals == 0) {
      return Status::InvalidArgument("--env wants KEY=VALUE (or AWS_NAME), "
                                     "got '" +
                                     entry + "'");
    } else {
      config->environment[entry.substr(0, equals)] = entry.substr(equals + 1);
    }
  }
  return Status::OK();
}

int InvokeLocally(const InvokeOptions& options, std::FILE* out) {
  t::event event;
  try {
    if (options.event_file == "-") {
      const std::string text((std::istreambuf_iterator<char>(std::cin)),
                             std::istreambuf_iterator<char>());
      event = t::parse_event(text);
    } else {
      event = t::load_event(options.event_file);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "eddy: the event: %s\n", e.what());
    return 2;
  }
  if (options.timeout_s < 1 || options.timeout_s > 900) {
    std::fprintf(stderr, "eddy: --timeout must be between 1 and 900\n");
    return 2;
  }
  if (options.memory_mb < 128 || options.memory_mb > 10240) {
    std::fprintf(stderr, "eddy: --memory-mb must be between 128 and 10240\n");
    return 2;
  }
  // The worker's environment, exactly as a trigger with these --env gets.
  dispatcher::TriggerConfig trigger;
  if (Status parsed = ParseEnvOptions(options.env, &trigger); !parsed.ok()) {
    std::fprintf(stderr, "eddy: %s\n", parsed.message().c_str());
    return 2;
  }
  trigger.name = "invoke";
  trigger.table = event.table_name;
  trigger.handler = options.handler;
  if (Status valid = dispatcher::ValidateTriggerConfig(trigger); !valid.ok()) {
    std::fprintf(stderr, "eddy: %s\n", valid.message().c_str());
    return 2;
  }
  std::error_code ec;
  if (!fs::is_regular_file(options.handler, ec)) {
    std::fprintf(stderr, "eddy: no handler library at %s\n",
                 options.handler.c_str());
    return 2;
  }
  PrivateHandlerDir dir;
  if (Status made = dir.Make(options.handler); !made.ok()) {
    std::fprintf(stderr, "eddy: %s\n", made.message().c_str());
    return 2;
  }
  const int log_fd = ::memfd_create("eddy-invoke-log", MFD_CLOEXEC);
  if (log_fd < 0) {
    std::fprintf(stderr, "eddy: memfd_create failed\n");
    return 1;
  }
  struct CloseFd {
    int fd;
    ~CloseFd() { ::close(fd); }
  } close_log{log_fd};

  WorkerPool::Options pool_options;
  pool_options.worker_binary = options.worker_binary.empty()
                                   ? WorkerBeside()
                                   : options.worker_binary;
  pool_options.worker_log_level = "debug";  // The handler's debug lines too.
  pool_options.handler_dir = dir.dir();
  pool_options.handler_owner = ::geteuid();
  pool_options.log_fd = log_fd;
  // The pool's own messages (a worker that died, ...) end up in the result.
  pool_options.logger = std::make_shared<spdlog::logger>(
      "invoke", std::make_shared<spdlog::sinks::null_sink_mt>());
  Result<std::unique_ptr<WorkerPool>> pool =
      WorkerPool::Start(std::move(pool_options));
  if (!pool.ok()) {
    std::fprintf(stderr, "eddy: cannot start a worker: %s\n",
                 pool.status().message().c_str());
    return 1;
  }
  const proto::InvokeBatch batch =
      ToInvokeBatch(event, dir.path(), options.timeout_s);
  dispatcher::WorkerGroupLimits limits;
  limits.max_workers = 1;
  limits.memory_bytes = static_cast<uint64_t>(options.memory_mb) << 20;
  limits.environment = std::make_shared<const std::vector<std::string>>(
      dispatcher::WorkerEnvironment(trigger, environ));
  Result<proto::InvokeResult> result =
      (*pool)->Invoke("invoke", limits, batch,
                      std::chrono::milliseconds(options.timeout_s * 1000));
  (*pool)->Stop();  // The worker's last lines are written when this returns.
  if (!result.ok()) {
    std::fprintf(stderr, "eddy: the invocation did not run: %s\n",
                 result.status().ToString().c_str());
    return 1;
  }
  std::vector<std::string> sequences;
  for (const proto::StreamRecordProto& r : batch.records()) {
    sequences.push_back(r.sequence_number());
  }
  BatchVerdict verdict = dispatcher::JudgeResult(
      *result, sequences, options.report_batch_item_failures);
  // Name the user's file, not its private copy.
  const std::string user_path = fs::absolute(options.handler, ec).string();
  verdict.error_message =
      ReplaceAll(verdict.error_message, dir.path(), user_path);
  const std::vector<LogLine> log =
      ParseWorkerLog(ReadAll(log_fd), dir.path(), user_path);
  if (options.json) {
    PrintJson(out, verdict, *result, sequences, log);
  } else {
    PrintText(out, verdict, *result, sequences, log, event.window.has_value());
  }
  return verdict.kind == BatchVerdict::Kind::kSuccess &&
                 result->batch_item_failures_size() == 0
             ? 0
             : 1;
}

}  // namespace eddy::runtime::cli
