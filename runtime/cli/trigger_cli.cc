#include "cli/trigger_cli.h"

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <thread>
#include <utility>

#include "cli/client_flags.h"
#include "eddy/functions/testing.h"
#include "http_client.h"

namespace eddy::runtime::cli {
namespace {

constexpr char kAdmin[] = "EddyAdmin_20261126.";
constexpr char kEnvHelp[] =
    "An environment variable of the handler's workers, KEY=VALUE (shown "
    "masked by status), or AWS_NAME alone to pass on that variable of the "
    "server's; repeatable. Workers get these, PATH, HOME and the locale, "
    "nothing else of the server's environment";
// `trigger wait` polls instead of letting the server wait (WaitMs 0): a
// waiting WaitForTriggers holds one of the server's HTTP loop threads, and
// handlers that write back to the server (samples/analytics) have their
// requests on that loop delayed by the whole wait.
constexpr auto kWaitPollInterval = std::chrono::milliseconds(10);

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

std::string Pretty(const rapidjson::Value& value) {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  w.SetIndent(' ', 2);
  value.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

// A client for the endpoint; on failure prints why and returns nullopt.
std::optional<HttpClient> Connect(const std::string& endpoint,
                                  const std::string& ca_bundle) {
  HttpClientOptions options;
  options.endpoint = endpoint;
  options.ca_bundle = ca_bundle;
  Result<HttpClient> client = HttpClient::Create(std::move(options));
  if (!client.ok()) {
    std::fprintf(stderr, "eddy: %s\n", client.status().message().c_str());
    return std::nullopt;
  }
  return std::move(*client);
}

// Calls an admin operation; on failure prints the error (and keeps its
// message in *error, if given) and returns false.
bool Call(HttpClient* client, const std::string& operation,
          const std::string& body, rapidjson::Document* out,
          std::string* error = nullptr) {
  Result<HttpClientResponse> response =
      client->PostJson(std::string(kAdmin) + operation, body);
  if (!response.ok()) {
    std::fprintf(stderr, "eddy: cannot reach %s: %s\n",
                 client->endpoint().c_str(),
                 response.status().ToString().c_str());
    return false;
  }
  out->Parse(response->body.c_str());
  if (response->status != 200 || out->HasParseError() || !out->IsObject()) {
    std::string message = response->body;
    // DynamoDB's errors say "message"; the deserializer's, "Message".
    const char* key =
        !out->HasParseError() && out->IsObject() && out->HasMember("Message")
            ? "Message"
            : "message";
    if (!out->HasParseError() && out->IsObject() && out->HasMember(key) &&
        (*out)[key].IsString()) {
      std::string type = out->HasMember("__type") && (*out)["__type"].IsString()
                             ? (*out)["__type"].GetString()
                             : "";
      type = type.substr(type.find('#') + 1);
      message = type + ": " + (*out)[key].GetString();
    }
    std::fprintf(stderr, "eddy: %s failed: %s\n", operation.c_str(),
                 message.c_str());
    if (error != nullptr) *error = message;
    return false;
  }
  return true;
}

// Connects, then calls once.
bool Call(const std::string& endpoint, const std::string& ca_bundle,
          const std::string& operation, const std::string& body,
          rapidjson::Document* out, std::string* error = nullptr) {
  std::optional<HttpClient> client = Connect(endpoint, ca_bundle);
  return client.has_value() && Call(&*client, operation, body, out, error);
}

const rapidjson::Value* Member(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(name);
  return it == v.MemberEnd() ? nullptr : &it->value;
}

uint64_t MetricOf(const rapidjson::Value& trigger, const char* name) {
  const rapidjson::Value* metrics = Member(trigger, "Metrics");
  const rapidjson::Value* v = metrics ? Member(*metrics, name) : nullptr;
  return v != nullptr && v->IsUint64() ? v->GetUint64() : 0;
}

std::string StringOf(const rapidjson::Value& v, const char* name) {
  const rapidjson::Value* m = Member(v, name);
  return m != nullptr && m->IsString() ? m->GetString() : "";
}

// `--handler` names a file in the server's handler directory, not one here.
// When the server did not find a relative path and a file of that name
// exists here (the CLI used to resolve it against the current directory),
// say what to do with it.
void HintAtHandlerDir(const std::string& handler, const std::string& error) {
  std::error_code ec;
  const bool not_there =
      error.find("Handler library not found") != std::string::npos ||
      error.find("outside the handler directory") != std::string::npos;
  // (An absolute path outside is already answered by the server.)
  if (handler.empty() || handler[0] == '/' || !not_there ||
      !std::filesystem::is_regular_file(handler, ec)) {
    return;
  }
  std::fprintf(stderr,
               "eddy: note: --handler names a library in the server's handler "
               "directory (eddy serve --handler-dir; default <data>/handlers), "
               "not a file on this machine: copy %s into that directory and "
               "pass --handler %s\n",
               handler.c_str(),
               std::filesystem::path(handler).filename().string().c_str());
}

}  // namespace

TriggerCommands::TriggerCommands(CLI::App* app) {
  trigger_ = app->add_subcommand(
      "trigger", "Manage triggers (C++ handlers run on a table's changes)");
  trigger_->require_subcommand(1);
  trigger_->add_option("--endpoint", endpoint_, "Eddy's endpoint")
      ->capture_default_str();
  trigger_->add_option("--ca-bundle", ca_bundle_, kCaBundleHelp);

  create_ = trigger_->add_subcommand("create", "Create a trigger");
  create_->add_option("--table", o_.table, "Table whose stream drives it")
      ->required();
  create_
      ->add_option("--handler", o_.handler,
                   "Handler library: its file name in the server's handler "
                   "directory (eddy serve --handler-dir), or a path inside it")
      ->required();
  create_->add_option("--name", o_.name,
                      "Trigger name (default: <table>-<handler stem>)");
  create_
      ->add_option("--starting-position", o_.starting_position,
                   "TRIM_HORIZON (default) or LATEST")
      ->check(CLI::IsMember({"TRIM_HORIZON", "LATEST"}));
  AddTriggerConfigFlags(create_, &o_);
  create_->add_flag("--disabled", o_.disabled, "Create it disabled");

  update_ = trigger_->add_subcommand("update", "Change a trigger's options");
  update_->add_option("name", o_.name, "Trigger name")->required();
  update_->add_option("--handler", o_.handler,
                      "New handler library, in the server's handler "
                      "directory");
  AddTriggerConfigFlags(update_, &o_, /*for_update=*/true);
  auto* enable = update_->add_flag("--enable", o_.enabled, "Enable it");
  update_
      ->add_flag("--disable", o_.disabled, "Disable it (keeps its checkpoint)")
      ->excludes(enable);

  delete_ = trigger_->add_subcommand("delete", "Delete a trigger");
  delete_->add_option("name", o_.name, "Trigger name")->required();

  list_ = trigger_->add_subcommand("list", "List triggers");
  list_->add_option("--table", o_.table, "Only this table's triggers");
  list_->add_flag("--json", json_, "Print the admin API's JSON");

  status_ = trigger_->add_subcommand(
      "status", "Show a trigger's options, state, checkpoints and metrics");
  status_->add_option("name", o_.name, "Trigger name")->required();

  wait_ = trigger_->add_subcommand(
      "wait",
      "Block until every trigger has handled, filtered or dead-lettered "
      "every record committed before the call");
  wait_->add_option("--table", o_.table, "Only this table's triggers");
  wait_->add_option("--timeout", wait_timeout_s_, "Give up after S seconds")
      ->capture_default_str();
  replay_ = trigger_->add_subcommand(
      "replay",
      "Re-run a trigger over the history still in its stream, from a new "
      "checkpoint");
  replay_->add_option("name", o_.name, "Trigger name")->required();
  replay_
      ->add_option("--from", replay_from_,
                   "trim-horizon (the oldest record kept), a time "
                   "(2024-05-01T12:00:00Z), or how long ago (90s, 15m, 2h, "
                   "1d)")
      ->required();

  invoke_ = trigger_->add_subcommand(
      "invoke",
      "Run a handler library on an event file in a worker, as the "
      "dispatcher would, without a server; print its outcome and log");
  invoke_
      ->add_option("--handler", invoke_options_.handler,
                   "The handler library (any path)")
      ->required();
  invoke_
      ->add_option("--event", invoke_options_.event_file,
                   "The event: Lambda's JSON, GetRecords' answer, or records "
                   "(- for standard input)")
      ->required();
  invoke_
      ->add_option("--timeout", invoke_options_.timeout_s,
                   "Kill the invocation after S seconds (1-900)")
      ->capture_default_str();
  invoke_
      ->add_option("--memory-mb", invoke_options_.memory_mb,
                   "Address-space limit of the worker in MiB")
      ->capture_default_str();
  invoke_->add_flag(
      "--report-batch-item-failures,!--no-report-batch-item-failures",
      invoke_options_.report_batch_item_failures,
      "Judge batch item failures as a trigger with that option would "
      "(default: on)");
  invoke_->add_flag("--json", invoke_options_.json,
                    "Print the outcome as one JSON object");
  invoke_->add_option("--env", invoke_options_.env, kEnvHelp);

  generate_event_ = trigger_->add_subcommand(
      "generate-event",
      "Print a realistic DynamoDB Streams event (Lambda's shape) to start "
      "from");
  generate_event_
      ->add_option("event", event_options_.event_name,
                   "insert, modify or remove")
      ->required()
      ->check(CLI::IsMember({"insert", "modify", "remove"}));
  generate_event_->add_option("--table", event_options_.table, "Table name")
      ->required();
  generate_event_->add_option(
      "--key", event_options_.keys,
      "A key attribute: NAME=VALUE (a string), NAME:N=VALUE, NAME:B=BASE64, "
      "or the key in DynamoDB JSON; repeatable (default: id=item-1)");
  generate_event_->add_option(
      "--new-image", event_options_.new_image,
      "The new image's other attributes, in DynamoDB JSON");
  generate_event_->add_option(
      "--old-image", event_options_.old_image,
      "The old image's other attributes, in DynamoDB JSON");
  generate_event_
      ->add_option("--view-type", event_options_.view_type,
                   "The stream's view type: which images the record has")
      ->check(CLI::IsMember(
          {"KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"}))
      ->capture_default_str();
  generate_event_
      ->add_option("--region", event_options_.region, "Region in the ARN")
      ->capture_default_str();

  // `--endpoint` and `--ca-bundle` may follow the subcommand's own options.
  for (CLI::App* cmd : {create_, update_, delete_, list_, status_, wait_,
                        replay_, invoke_, generate_event_}) {
    cmd->fallthrough();
  }
}

void AddTriggerConfigFlags(CLI::App* cmd, TriggerFlags* o, bool for_update) {
  cmd->add_option("--batch-size", o->batch_size, "Records per batch (1-10000)");
  cmd->add_option("--batching-window-ms", o->batching_window_ms,
                  "Wait up to this long to fill a batch (0-300000)");
  cmd->add_option("--max-retries", o->max_retries,
                  "Retries of a failed batch (-1: until records expire)");
  cmd->add_option("--max-record-age", o->max_record_age,
                  "Give up on records older than S seconds (-1, 60-604800)");
  cmd->add_flag("--bisect-on-error,!--no-bisect-on-error", o->bisect,
                "Split a failed batch in two and retry each half");
  cmd->add_option("--on-failure", o->on_failure,
                  "Where given-up batches go: file:PATH (JSON lines) or "
                  "table:NAME");
  cmd->add_flag("--report-batch-item-failures,!--no-report-batch-item-failures",
                o->report_batch_item_failures,
                "Honour the handler's batch item failures");
  cmd->add_option("--parallelization", o->parallelization,
                  "Concurrent batches per shard (1-10)");
  cmd->add_option("--timeout", o->timeout,
                  "Kill an invocation after S seconds (1-900)");
  cmd->add_option("--memory-mb", o->memory_mb,
                  "Address-space limit of a worker in MiB (128-10240)");
  cmd->add_option("--filter", o->filters,
                  "Lambda filter pattern (JSON); up to 5");
  cmd->add_option("--tumbling-window", o->tumbling_window,
                  "Tumbling window in seconds (0-900)");
  cmd->add_option("--env", o->env,
                  std::string(kEnvHelp) +
                      (for_update ? "; replaces the whole environment" : ""));
  if (for_update) {
    cmd->add_flag("--no-env", o->no_env, "Remove every environment variable")
        ->excludes("--env");
  }
}

Result<std::string> TriggerConfigJson(CLI::App* cmd, const TriggerFlags& o,
                                      bool for_update) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  auto given = [cmd](const char* option) {
    return cmd->get_option(option)->count() > 0;
  };
  auto str = [&w](const char* key, const std::string& value) {
    w.Key(key);
    w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  };
  auto num = [&](const char* option, const char* key, int64_t value) {
    if (!given(option)) return;
    w.Key(key);
    w.Int64(value);
  };
  w.StartObject();
  if (!o.name.empty()) str("Name", o.name);
  if (!for_update) str("TableName", o.table);
  // Resolved by the server, in its handler directory.
  if (!o.handler.empty()) str("Handler", o.handler);
  if (!for_update && !o.starting_position.empty()) {
    str("StartingPosition", o.starting_position);
  }
  num("--batch-size", "BatchSize", o.batch_size);
  num("--batching-window-ms", "MaximumBatchingWindowInMs",
      o.batching_window_ms);
  num("--max-retries", "MaximumRetryAttempts", o.max_retries);
  num("--max-record-age", "MaximumRecordAgeInSeconds", o.max_record_age);
  if (given("--bisect-on-error")) {
    w.Key("BisectBatchOnFunctionError");
    w.Bool(o.bisect);
  }
  if (given("--on-failure")) {
    // A file: path is the server's: a name in its --failure-dir (or an
    // absolute path in it), never resolved against this shell's directory.
    str("OnFailureDestination", o.on_failure);
  }
  if (given("--report-batch-item-failures")) {
    w.Key("FunctionResponseTypes");
    w.StartArray();
    if (o.report_batch_item_failures) w.String("ReportBatchItemFailures");
    w.EndArray();
  }
  num("--parallelization", "ParallelizationFactor", o.parallelization);
  num("--timeout", "TimeoutSeconds", o.timeout);
  num("--memory-mb", "MemorySizeMb", o.memory_mb);
  if (!o.filters.empty()) {
    w.Key("FilterCriteria");
    w.StartObject();
    w.Key("Filters");
    w.StartArray();
    for (const std::string& pattern : o.filters) {
      w.StartObject();
      str("Pattern", pattern);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  num("--tumbling-window", "TumblingWindowInSeconds", o.tumbling_window);
  if (!o.env.empty() || o.no_env) {
    dispatcher::TriggerConfig env;
    EDDY_RETURN_IF_ERROR(ParseEnvOptions(o.env, &env));
    w.Key("Environment");
    w.StartObject();
    w.Key("Variables");
    w.StartObject();
    for (const auto& [name, value] : env.environment) {
      w.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
      w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
    }
    w.EndObject();
    w.Key("Inherit");
    w.StartArray();
    for (const std::string& name : env.inherit_environment) {
      w.String(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
    }
    w.EndArray();
    w.EndObject();
  }
  if (o.disabled || o.enabled) {
    w.Key("Enabled");
    w.Bool(o.enabled);
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

int TriggerCommands::Run() {
  if (create_->parsed()) return Create();
  if (update_->parsed()) return Update();
  if (delete_->parsed()) return Delete();
  if (list_->parsed()) return List();
  if (status_->parsed()) return Status();
  if (wait_->parsed()) return Wait();
  if (replay_->parsed()) return Replay();
  if (invoke_->parsed()) return InvokeLocally(invoke_options_, stdout);
  if (generate_event_->parsed()) {
    Result<std::string> event = SampleEvent(event_options_);
    if (!event.ok()) {
      std::fprintf(stderr, "eddy: %s\n", event.status().message().c_str());
      return 2;
    }
    std::fputs(event->c_str(), stdout);
    return 0;
  }
  return 2;
}

int TriggerCommands::Create() {
  rapidjson::Document doc;
  std::string error;
  const Result<std::string> config = TriggerConfigJson(create_, o_, false);
  if (!config.ok()) {
    std::fprintf(stderr, "eddy: %s\n", config.status().message().c_str());
    return 2;
  }
  if (!Call(endpoint_, ca_bundle_, "CreateTrigger", *config, &doc, &error)) {
    HintAtHandlerDir(o_.handler, error);
    return 1;
  }
  std::printf("%s\n", Pretty(doc["Trigger"]).c_str());
  return 0;
}

int TriggerCommands::Update() {
  rapidjson::Document doc;
  std::string error;
  const Result<std::string> config = TriggerConfigJson(update_, o_, true);
  if (!config.ok()) {
    std::fprintf(stderr, "eddy: %s\n", config.status().message().c_str());
    return 2;
  }
  if (!Call(endpoint_, ca_bundle_, "UpdateTrigger", *config, &doc, &error)) {
    HintAtHandlerDir(o_.handler, error);
    return 1;
  }
  std::printf("%s\n", Pretty(doc["Trigger"]).c_str());
  return 0;
}

int TriggerCommands::Delete() {
  rapidjson::Document doc;
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("Name");
  w.String(o_.name.c_str());
  w.EndObject();
  if (!Call(endpoint_, ca_bundle_, "DeleteTrigger", buf.GetString(), &doc))
    return 1;
  std::printf("deleted trigger %s\n", o_.name.c_str());
  return 0;
}

int TriggerCommands::List() {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  if (!o_.table.empty()) {
    w.Key("TableName");
    w.String(o_.table.c_str());
  }
  w.EndObject();
  rapidjson::Document doc;
  if (!Call(endpoint_, ca_bundle_, "ListTriggers", buf.GetString(), &doc))
    return 1;
  if (json_) {
    std::printf("%s\n", Pretty(doc).c_str());
    return 0;
  }
  std::printf("%-28s %-20s %-15s %10s %8s %8s  %s\n", "NAME", "TABLE", "STATE",
              "HANDLED", "DLQ", "PENDING", "HANDLER");
  for (const auto& t : doc["Triggers"].GetArray()) {
    std::printf("%-28s %-20s %-15s %10llu %8llu %8llu  %s\n",
                StringOf(t, "Name").c_str(), StringOf(t, "TableName").c_str(),
                StringOf(t, "State").c_str(),
                static_cast<unsigned long long>(MetricOf(t, "RecordsHandled")),
                static_cast<unsigned long long>(MetricOf(t, "DeadLettered")),
                static_cast<unsigned long long>(MetricOf(t, "PendingRecords")),
                StringOf(t, "Handler").c_str());
  }
  return 0;
}

int TriggerCommands::Status() {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("Name");
  w.String(o_.name.c_str());
  w.EndObject();
  rapidjson::Document doc;
  if (!Call(endpoint_, ca_bundle_, "GetTriggerStatus", buf.GetString(), &doc))
    return 1;
  std::printf("%s\n", Pretty(doc["Trigger"]).c_str());
  return 0;
}

int TriggerCommands::Wait() {
  std::optional<HttpClient> client = Connect(endpoint_, ca_bundle_);
  if (!client.has_value()) return 2;
  const auto deadline =
      std::chrono::steady_clock::now() +
      std::chrono::milliseconds(static_cast<int64_t>(wait_timeout_s_ * 1000));
  rapidjson::Document barrier;  // Null until the first answer.
  while (true) {
    rapidjson::StringBuffer buf;
    Writer w(buf);
    w.StartObject();
    if (!o_.table.empty()) {
      w.Key("TableName");
      w.String(o_.table.c_str());
    }
    if (!barrier.IsNull()) {
      w.Key("Barrier");
      barrier.Accept(w);
    }
    w.Key("WaitMs");
    w.Int(0);
    w.EndObject();
    rapidjson::Document doc;
    if (!Call(&*client, "WaitForTriggers", buf.GetString(), &doc)) {
      return 1;
    }
    if (doc["Done"].GetBool()) return 0;
    barrier.CopyFrom(doc["Barrier"], barrier.GetAllocator());
    if (std::chrono::steady_clock::now() >= deadline) {
      std::fprintf(stderr,
                   "eddy: triggers still busy after %.0f s; waiting for:\n%s\n",
                   wait_timeout_s_, Pretty(barrier).c_str());
      return 1;
    }
    std::this_thread::sleep_for(kWaitPollInterval);
  }
}

}  // namespace eddy::runtime::cli

namespace eddy::runtime::cli {
namespace {

// --from: "trim-horizon", an ISO-8601 time, or a duration ago ("15m").
// Sets *from_s (epoch seconds) unless trim-horizon; false if unreadable.
bool ParseReplayFrom(const std::string& text, std::optional<double>* from_s) {
  if (text == "trim-horizon") {
    from_s->reset();
    return true;
  }
  if (const std::optional<int64_t> ms =
          handler::test::detail::parse_iso8601(text)) {
    *from_s = static_cast<double>(*ms) / 1000.0;
    return true;
  }
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    ++digits;
  }
  if (digits == 0 || digits > 12) return false;
  const double n = std::stod(text.substr(0, digits));
  const std::string unit = text.substr(digits);
  const double scale = unit == "s"   ? 1
                       : unit == "m" ? 60
                       : unit == "h" ? 3600
                       : unit == "d" ? 86400
                                     : -1;
  if (scale < 0) return false;
  const double now_s =
      static_cast<double>(
          std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::system_clock::now().time_since_epoch())
              .count()) /
      1000.0;
  *from_s = now_s - n * scale;
  return true;
}

}  // namespace

int TriggerCommands::Replay() {
  std::optional<double> from_s;
  if (!ParseReplayFrom(replay_from_, &from_s)) {
    std::fprintf(stderr,
                 "eddy: --from is trim-horizon, a time such as "
                 "2024-05-01T12:00:00Z, or a duration ago such as 15m, not "
                 "'%s'\n",
                 replay_from_.c_str());
    return 2;
  }
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("Name");
  w.String(o_.name.c_str());
  w.Key("StartingPosition");
  w.String(from_s ? "AT_TIMESTAMP" : "TRIM_HORIZON");
  if (from_s) {
    w.Key("StartingPositionTimestamp");
    w.Double(*from_s);
  }
  w.EndObject();
  rapidjson::Document doc;
  if (!Call(endpoint_, ca_bundle_, "ReplayTrigger", buf.GetString(), &doc)) {
    return 1;
  }
  std::printf("%s\n", Pretty(doc["Trigger"]).c_str());
  return 0;
}

}  // namespace eddy::runtime::cli
