#include "dispatcher/trigger_config.h"

#include <string_view>

#include "dispatcher/record_filter.h"

namespace eddy::runtime::dispatcher {
namespace {

constexpr std::string_view kFilePrefix = "file:";

Status Range(const char* name, int64_t value, int64_t lo, int64_t hi,
             bool allow_minus_one = false) {
  if (allow_minus_one && value == -1) return Status::OK();
  if (value >= lo && value <= hi) return Status::OK();
  return Status::InvalidArgument(
      std::string(name) + " must be " + (allow_minus_one ? "-1 or " : "") +
      "between " + std::to_string(lo) + " and " + std::to_string(hi) +
      ", got " + std::to_string(value));
}

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return name != "." && name != "..";
}

Status WrongType(const char* name, const char* expected) {
  return Status::InvalidArgument(std::string(name) + " must be " + expected);
}

Status ReadInt(const rapidjson::Value& json, const char* name, int64_t* out) {
  auto it = json.FindMember(name);
  if (it == json.MemberEnd() || it->value.IsNull()) return Status::OK();
  if (!it->value.IsInt64()) return WrongType(name, "an integer");
  *out = it->value.GetInt64();
  return Status::OK();
}

Status ReadBool(const rapidjson::Value& json, const char* name, bool* out) {
  auto it = json.FindMember(name);
  if (it == json.MemberEnd() || it->value.IsNull()) return Status::OK();
  if (!it->value.IsBool()) return WrongType(name, "a boolean");
  *out = it->value.GetBool();
  return Status::OK();
}

Status ReadString(const rapidjson::Value& json, const char* name,
                  std::string* out, bool* present = nullptr) {
  auto it = json.FindMember(name);
  if (it == json.MemberEnd() || it->value.IsNull()) return Status::OK();
  if (!it->value.IsString()) return WrongType(name, "a string");
  out->assign(it->value.GetString(), it->value.GetStringLength());
  if (present != nullptr) *present = true;
  return Status::OK();
}

void Str(TriggerJsonWriter* w, std::string_view s) {
  w->String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

constexpr size_t kMaxEnvironmentBytes = 4096;  // Lambda's limit.

bool ValidVariableName(std::string_view name) {
  if (name.empty() || name.size() > 256) return false;
  if (name[0] >= '0' && name[0] <= '9') return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

Status ReadEnvironment(const rapidjson::Value& json, TriggerConfig* c) {
  auto it = json.FindMember("Environment");
  if (it == json.MemberEnd() || it->value.IsNull()) return Status::OK();
  const rapidjson::Value& env = it->value;
  if (!env.IsObject()) return WrongType("Environment", "an object");
  // An update gives the whole environment, as Lambda's does.
  c->environment.clear();
  c->inherit_environment.clear();
  if (auto v = env.FindMember("Variables");
      v != env.MemberEnd() && !v->value.IsNull()) {
    if (!v->value.IsObject()) {
      return WrongType("Environment.Variables", "a map of strings");
    }
    for (const auto& member : v->value.GetObject()) {
      if (!member.value.IsString()) {
        return WrongType("Environment.Variables", "a map of strings");
      }
      c->environment[std::string(member.name.GetString(),
                                 member.name.GetStringLength())] =
          std::string(member.value.GetString(), member.value.GetStringLength());
    }
  }
  if (auto v = env.FindMember("Inherit");
      v != env.MemberEnd() && !v->value.IsNull()) {
    if (!v->value.IsArray()) {
      return WrongType("Environment.Inherit", "a list of variable names");
    }
    for (const auto& name : v->value.GetArray()) {
      if (!name.IsString()) {
        return WrongType("Environment.Inherit", "a list of variable names");
      }
      c->inherit_environment.emplace_back(name.GetString(),
                                          name.GetStringLength());
    }
  }
  return Status::OK();
}

}  // namespace

std::string TriggerConfig::OnFailureTable() const {
  constexpr std::string_view kTablePrefix = "table:";
  if (on_failure.compare(0, kTablePrefix.size(), kTablePrefix) != 0) {
    return "";
  }
  return on_failure.substr(kTablePrefix.size());
}

std::string TriggerConfig::OnFailureFile() const {
  if (on_failure.compare(0, kFilePrefix.size(), kFilePrefix) != 0) return "";
  return on_failure.substr(kFilePrefix.size());
}

const char* StartingPositionName(StartingPosition position) {
  return position == StartingPosition::kLatest ? "LATEST" : "TRIM_HORIZON";
}

Status ValidateTriggerConfig(const TriggerConfig& c) {
  if (!ValidName(c.name)) {
    return Status::InvalidArgument(
        "Name must be 1 to 64 characters of [A-Za-z0-9_.-], got '" + c.name +
        "'");
  }
  if (c.table.empty()) return Status::InvalidArgument("TableName is required");
  if (c.handler.empty()) return Status::InvalidArgument("Handler is required");
  EDDY_RETURN_IF_ERROR(Range("BatchSize", c.batch_size, 1, 10000));
  EDDY_RETURN_IF_ERROR(
      Range("MaximumBatchingWindowInMs", c.batching_window_ms, 0, 300000));
  EDDY_RETURN_IF_ERROR(
      Range("MaximumRetryAttempts", c.max_retries, 0, 10000, true));
  EDDY_RETURN_IF_ERROR(
      Range("MaximumRecordAgeInSeconds", c.max_record_age_s, 60, 604800, true));
  EDDY_RETURN_IF_ERROR(
      Range("ParallelizationFactor", c.parallelization, 1, 10));
  EDDY_RETURN_IF_ERROR(Range("TimeoutSeconds", c.timeout_s, 1, 900));
  EDDY_RETURN_IF_ERROR(Range("MemorySizeMb", c.memory_mb, 128, 10240));
  EDDY_RETURN_IF_ERROR(
      Range("TumblingWindowInSeconds", c.tumbling_window_s, 0, 900));
  if (c.filters.size() > 5) {
    return Status::InvalidArgument("FilterCriteria may hold at most 5 filters");
  }
  if (!c.on_failure.empty() && c.OnFailureTable().empty() &&
      c.OnFailureFile().empty()) {
    return Status::InvalidArgument(
        "OnFailureDestination must be file:<path> or table:<name>, got '" +
        c.on_failure + "'");
  }

  size_t environment_bytes = 0;
  for (const auto& [name, value] : c.environment) {
    if (!ValidVariableName(name)) {
      return Status::InvalidArgument(
          "Environment variable names are letters, digits and _, not "
          "starting with a digit; got '" +
          name + "'");
    }
    environment_bytes += name.size() + value.size();
  }
  if (environment_bytes > kMaxEnvironmentBytes) {
    return Status::InvalidArgument(
        "Environment variables may take at most 4 KB (names and values), "
        "got " +
        std::to_string(environment_bytes) + " bytes");
  }
  for (const std::string& name : c.inherit_environment) {
    if (!ValidVariableName(name) || name.compare(0, 4, "AWS_") != 0) {
      return Status::InvalidArgument(
          "Environment.Inherit passes on the server's AWS_* variables only "
          "(e.g. AWS_ACCESS_KEY_ID); give other variables a value, got '" +
          name + "'");
    }
  }
  EDDY_RETURN_IF_ERROR(RecordFilter::Create(c.filters).status());
  // Not built yet: refuse rather than silently ignore.
  if (c.tumbling_window_s != 0 && c.parallelization != 1) {
    return Status::InvalidArgument(
        "TumblingWindowInSeconds with ParallelizationFactor above 1 is not "
        "supported yet");
  }
  return Status::OK();
}

Status ReadTriggerConfig(const rapidjson::Value& json, bool for_update,
                         TriggerConfig* c) {
  if (!json.IsObject()) return Status::InvalidArgument("expected an object");
  if (for_update) {
    if (json.HasMember("TableName")) {
      return Status::InvalidArgument("TableName cannot be updated");
    }
  } else {
    EDDY_RETURN_IF_ERROR(ReadString(json, "Name", &c->name));
    EDDY_RETURN_IF_ERROR(ReadString(json, "TableName", &c->table));
  }
  EDDY_RETURN_IF_ERROR(ReadString(json, "Handler", &c->handler));
  EDDY_RETURN_IF_ERROR(ReadInt(json, "BatchSize", &c->batch_size));
  EDDY_RETURN_IF_ERROR(
      ReadInt(json, "MaximumBatchingWindowInMs", &c->batching_window_ms));
  std::string position;
  bool has_position = false;
  EDDY_RETURN_IF_ERROR(
      ReadString(json, "StartingPosition", &position, &has_position));
  if (has_position) {
    if (for_update) {
      return Status::InvalidArgument("StartingPosition cannot be updated");
    }
    if (position == "TRIM_HORIZON") {
      c->starting_position = StartingPosition::kTrimHorizon;
    } else if (position == "LATEST") {
      c->starting_position = StartingPosition::kLatest;
    } else {
      return Status::InvalidArgument(
          "StartingPosition must be TRIM_HORIZON or LATEST, got '" + position +
          "'");
    }
  }
  EDDY_RETURN_IF_ERROR(ReadInt(json, "MaximumRetryAttempts", &c->max_retries));
  EDDY_RETURN_IF_ERROR(
      ReadInt(json, "MaximumRecordAgeInSeconds", &c->max_record_age_s));
  EDDY_RETURN_IF_ERROR(
      ReadBool(json, "BisectBatchOnFunctionError", &c->bisect_on_error));
  EDDY_RETURN_IF_ERROR(
      ReadString(json, "OnFailureDestination", &c->on_failure));
  if (auto it = json.FindMember("FunctionResponseTypes");
      it != json.MemberEnd() && !it->value.IsNull()) {
    if (!it->value.IsArray()) {
      return WrongType("FunctionResponseTypes", "a list of strings");
    }
    c->report_batch_item_failures = false;
    for (const auto& type : it->value.GetArray()) {
      if (!type.IsString() ||
          std::string_view(type.GetString()) != "ReportBatchItemFailures") {
        return Status::InvalidArgument(
            "FunctionResponseTypes may only contain ReportBatchItemFailures");
      }
      c->report_batch_item_failures = true;
    }
  }
  EDDY_RETURN_IF_ERROR(
      ReadInt(json, "ParallelizationFactor", &c->parallelization));
  EDDY_RETURN_IF_ERROR(ReadInt(json, "TimeoutSeconds", &c->timeout_s));
  EDDY_RETURN_IF_ERROR(ReadInt(json, "MemorySizeMb", &c->memory_mb));
  EDDY_RETURN_IF_ERROR(ReadBool(json, "Enabled", &c->enabled));
  if (auto it = json.FindMember("FilterCriteria");
      it != json.MemberEnd() && !it->value.IsNull()) {
    const rapidjson::Value& criteria = it->value;
    if (!criteria.IsObject()) return WrongType("FilterCriteria", "an object");
    c->filters.clear();
    if (auto f = criteria.FindMember("Filters"); f != criteria.MemberEnd()) {
      if (!f->value.IsArray()) {
        return WrongType("FilterCriteria.Filters", "a list");
      }
      for (const auto& filter : f->value.GetArray()) {
        if (!filter.IsObject() || !filter.HasMember("Pattern") ||
            !filter["Pattern"].IsString()) {
          return Status::InvalidArgument(
              "each filter must be {\"Pattern\": \"<JSON>\"}");
        }
        c->filters.emplace_back(filter["Pattern"].GetString(),
                                filter["Pattern"].GetStringLength());
      }
    }
  }
  EDDY_RETURN_IF_ERROR(
      ReadInt(json, "TumblingWindowInSeconds", &c->tumbling_window_s));
  EDDY_RETURN_IF_ERROR(ReadEnvironment(json, c));
  return Status::OK();
}

void WriteTriggerConfigMembers(const TriggerConfig& c, TriggerJsonWriter* w,
                               bool mask_environment) {
  w->Key("Name");
  Str(w, c.name);
  w->Key("TableName");
  Str(w, c.table);
  w->Key("Handler");
  Str(w, c.handler);
  w->Key("BatchSize");
  w->Int64(c.batch_size);
  w->Key("MaximumBatchingWindowInMs");
  w->Int64(c.batching_window_ms);
  w->Key("StartingPosition");
  w->String(StartingPositionName(c.starting_position));
  w->Key("MaximumRetryAttempts");
  w->Int64(c.max_retries);
  w->Key("MaximumRecordAgeInSeconds");
  w->Int64(c.max_record_age_s);
  w->Key("BisectBatchOnFunctionError");
  w->Bool(c.bisect_on_error);
  if (!c.on_failure.empty()) {
    w->Key("OnFailureDestination");
    Str(w, c.on_failure);
  }
  w->Key("FunctionResponseTypes");
  w->StartArray();
  if (c.report_batch_item_failures) w->String("ReportBatchItemFailures");
  w->EndArray();
  w->Key("ParallelizationFactor");
  w->Int64(c.parallelization);
  w->Key("TimeoutSeconds");
  w->Int64(c.timeout_s);
  w->Key("MemorySizeMb");
  w->Int64(c.memory_mb);
  w->Key("Enabled");
  w->Bool(c.enabled);
  if (!c.filters.empty()) {
    w->Key("FilterCriteria");
    w->StartObject();
    w->Key("Filters");
    w->StartArray();
    for (const std::string& pattern : c.filters) {
      w->StartObject();
      w->Key("Pattern");
      Str(w, pattern);
      w->EndObject();
    }
    w->EndArray();
    w->EndObject();
  }
  if (c.tumbling_window_s != 0) {
    w->Key("TumblingWindowInSeconds");
    w->Int64(c.tumbling_window_s);
  }
  if (!c.environment.empty() || !c.inherit_environment.empty()) {
    w->Key("Environment");
    w->StartObject();
    w->Key("Variables");
    w->StartObject();
    for (const auto& [name, value] : c.environment) {
      Str(w, name);
      Str(w, mask_environment ? std::string_view("****") : value);
    }
    w->EndObject();
    w->Key("Inherit");
    w->StartArray();
    for (const std::string& name : c.inherit_environment) Str(w, name);
    w->EndArray();
    w->EndObject();
  }
}

std::vector<std::string> WorkerEnvironment(const TriggerConfig& c,
                                           char** server_env) {
  std::map<std::string, std::string> env;
  for (char** entry = server_env; entry != nullptr && *entry != nullptr;
       ++entry) {
    const std::string_view text(*entry);
    const size_t equals = text.find('=');
    if (equals == std::string_view::npos) continue;
    const std::string name(text.substr(0, equals));
    bool wanted = name == "PATH" || name == "HOME" || name == "TZ" ||
                  name == "LANG" || name == "LANGUAGE" ||
                  name.compare(0, 3, "LC_") == 0;
    for (const std::string& inherited : c.inherit_environment) {
      wanted = wanted || name == inherited;
    }
    if (wanted) env[name] = std::string(text.substr(equals + 1));
  }
  if (env.count("PATH") == 0) env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
  for (const auto& [name, value] : c.environment) env[name] = value;
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [name, value] : env) out.push_back(name + "=" + value);
  return out;
}

}  // namespace eddy::runtime::dispatcher
