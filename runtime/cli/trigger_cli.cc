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
#include "http_client.h"

namespace eddy::runtime::cli {
namespace {

constexpr char kAdmin[] = "EddyAdmin_20261126.";
// `trigger wait` polls instead of letting the server wait (WaitMs 0): a
// waiting WaitForTriggers holds one of the server's HTTP loop threads, and
// handlers that write back to the server (samples/analytics) have their
// requests on that loop delayed by the whole wait.
constexpr auto kWaitPollInterval = std::chrono::milliseconds(10);

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

std::string Absolute(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path p = std::filesystem::absolute(path, ec);
  return ec ? path : p.lexically_normal().string();
}

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
  AddTriggerConfigFlags(update_, &o_);
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
  // `--endpoint` and `--ca-bundle` may follow the subcommand's own options.
  for (CLI::App* cmd : {create_, update_, delete_, list_, status_, wait_}) {
    cmd->fallthrough();
  }
}

void AddTriggerConfigFlags(CLI::App* cmd, TriggerFlags* o) {
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
}

std::string TriggerConfigJson(CLI::App* cmd, const TriggerFlags& o,
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
    std::string destination = o.on_failure;
    if (destination.rfind("file:", 0) == 0) {
      destination = "file:" + Absolute(destination.substr(5));
    }
    str("OnFailureDestination", destination);
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
  return 2;
}

int TriggerCommands::Create() {
  rapidjson::Document doc;
  std::string error;
  if (!Call(endpoint_, ca_bundle_, "CreateTrigger",
            TriggerConfigJson(create_, o_, false), &doc, &error)) {
    HintAtHandlerDir(o_.handler, error);
    return 1;
  }
  std::printf("%s\n", Pretty(doc["Trigger"]).c_str());
  return 0;
}

int TriggerCommands::Update() {
  rapidjson::Document doc;
  std::string error;
  if (!Call(endpoint_, ca_bundle_, "UpdateTrigger",
            TriggerConfigJson(update_, o_, true), &doc, &error)) {
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
