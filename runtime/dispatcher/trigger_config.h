// TriggerConfig: one trigger (Lambda's event source mapping) as users define
// it, with Lambda's defaults and ranges for DynamoDB streams
// (reference/streams-triggers.md §2.1), and its JSON form, shared by the
// admin API and the trigger files under <data>/triggers/.
//
// JSON members (all optional except TableName and Handler on create):
//   Name, TableName, Handler, BatchSize, MaximumBatchingWindowInMs,
//   StartingPosition ("TRIM_HORIZON" | "LATEST"), MaximumRetryAttempts,
//   MaximumRecordAgeInSeconds, BisectBatchOnFunctionError,
//   OnFailureDestination ("file:/path.jsonl" or "table:<name>"),
//   FunctionResponseTypes
//   (["ReportBatchItemFailures"]), ParallelizationFactor, TimeoutSeconds,
//   MemorySizeMb, Enabled, FilterCriteria ({"Filters":[{"Pattern":"..."}]}),
//   TumblingWindowInSeconds, Environment ({"Variables":{"KEY":"value",...},
//   "Inherit":["AWS_ACCESS_KEY_ID",...]}: Lambda's Environment, plus the
//   server's AWS_* variables the trigger passes on to its workers).
//
// Thread-safety: a value type.
#ifndef EDDY_RUNTIME_DISPATCHER_TRIGGER_CONFIG_H_
#define EDDY_RUNTIME_DISPATCHER_TRIGGER_CONFIG_H_

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "eddy/result.h"

namespace eddy::runtime::dispatcher {

enum class StartingPosition : uint8_t { kTrimHorizon, kLatest };

struct TriggerConfig {
  // Unique per server: [A-Za-z0-9_.-], 1..64 characters. Defaults to
  // "<table>-<handler file stem>".
  std::string name;
  std::string table;
  // The handler library as given: a file name or path inside the server's
  // handler directory, or an absolute path in it (runtime/handler_dir.h).
  std::string handler;
  int64_t batch_size = 100;  // 1..10000
  int64_t batching_window_ms = 0;  // 0..300000
  StartingPosition starting_position = StartingPosition::kTrimHorizon;
  int64_t max_retries = -1;       // -1 (until the record expires), 0..10000
  int64_t max_record_age_s = -1;  // -1 (until it expires), 60..604800
  bool bisect_on_error = false;
  std::string on_failure;  // "", "file:<path>" or "table:<name>"
  bool report_batch_item_failures = false;
  int64_t parallelization = 1;  // 1..10
  int64_t timeout_s = 60;       // 1..900
  int64_t memory_mb = 512;      // 128..10240 (the worker's RLIMIT_AS)
  bool enabled = true;
  std::vector<std::string> filters;  // Lambda filter patterns (JSON text).
  int64_t tumbling_window_s = 0;     // 0..900
  // The workers' own environment variables (Lambda's
  // Environment.Variables), readable with getenv in the handler. Names are
  // [A-Za-z_][A-Za-z0-9_]*; names and values together at most 4 KB, as
  // Lambda's. Values may be secrets: the admin API shows them masked.
  std::map<std::string, std::string> environment;
  // AWS_* variables of the server's environment passed on to the workers
  // when set there (the server's credentials for a handler that signs with
  // the standard chain); every other server variable stays out.
  std::vector<std::string> inherit_environment;

  // The file path of an on_failure "file:" destination ("" if none).
  std::string OnFailureFile() const;
  // The table of an on_failure "table:" destination ("" if none).
  std::string OnFailureTable() const;
};

// Checks every range and the name; InvalidArgument names the first bad
// parameter; filter patterns are parsed (record_filter.h). Options not
// supported yet (tumbling windows with parallelization above 1) are
// InvalidArgument too, saying so.
Status ValidateTriggerConfig(const TriggerConfig& config);

// Reads the members present in `json` into *config (absent ones keep their
// value): the same code serves create (over the defaults) and update (over
// the current config). Wrong JSON types and unknown enum values are
// InvalidArgument. With `for_update`, Name and TableName may not appear
// (a trigger's identity is fixed; its handler may change).
Status ReadTriggerConfig(const rapidjson::Value& json, bool for_update,
                         TriggerConfig* config);

using TriggerJsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;
// Writes the members of `config` (no surrounding braces). With
// `mask_environment` (what the admin API answers), each Environment value
// is written as "****": the names show, the values never leave the server.
void WriteTriggerConfigMembers(const TriggerConfig& config,
                               TriggerJsonWriter* w,
                               bool mask_environment = false);

// The environment a worker of `config` starts with, as "NAME=value"
// strings: from the server's environment `server_env` (environ) PATH,
// HOME, the locale (TZ, LANG, LANGUAGE, LC_*) and the AWS_* variables the
// trigger inherits, then the trigger's own variables (which win). Nothing
// else of the server's: it may hold secrets.
std::vector<std::string> WorkerEnvironment(const TriggerConfig& config,
                                           char** server_env);

const char* StartingPositionName(StartingPosition position);

}  // namespace eddy::runtime::dispatcher

#endif  // EDDY_RUNTIME_DISPATCHER_TRIGGER_CONFIG_H_
