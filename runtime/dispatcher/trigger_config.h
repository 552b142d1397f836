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
//   TumblingWindowInSeconds.
//
// Thread-safety: a value type.
#ifndef EDDY_RUNTIME_DISPATCHER_TRIGGER_CONFIG_H_
#define EDDY_RUNTIME_DISPATCHER_TRIGGER_CONFIG_H_

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
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
// Writes the members of `config` (no surrounding braces).
void WriteTriggerConfigMembers(const TriggerConfig& config,
                               TriggerJsonWriter* w);

const char* StartingPositionName(StartingPosition position);

}  // namespace eddy::runtime::dispatcher

#endif  // EDDY_RUNTIME_DISPATCHER_TRIGGER_CONFIG_H_
