// The admin API for triggers: POST / with X-Amz-Target
// "EddyAdmin_20261126.<Operation>" and a JSON body, answered like the
// DynamoDB operations (same error shapes). Used by `eddy trigger ...`.
//
//   CreateTrigger     {TableName, Handler, Name?, <options>}  -> {Trigger}
//   UpdateTrigger     {Name, <options to change>}              -> {Trigger}
//   DeleteTrigger     {Name}                                   -> {}
//   ListTriggers      {TableName?}                             -> {Triggers}
//   GetTriggerStatus  {Name}                                   -> {Trigger}
//   WaitForTriggers   {TableName?, Barrier?, WaitMs?}  -> {Done, Barrier}
//   ReplayTrigger     {Name, StartingPosition, StartingPositionTimestamp?}
//                                                          -> {Trigger}
//
// and, beside the triggers, in ttl_ops.cc (used by `eddy ttl sweep`):
//
//   SweepExpiredItems {TableName?}  -> {DeletedItemCount, TableNames}
//
// <options> are TriggerConfig's JSON members (dispatcher/trigger_config.h).
// Handler names a library in the server's handler directory; one that
// breaks its rules (runtime/handler_dir.h) is a ValidationException saying
// why and how to fix it.
// A Trigger is those members plus State ("Enabled", "Disabled",
// "StreamNotFound", "HandlerRefused"), StateTransitionReason (why, for
// "HandlerRefused"), StreamArn, CreatedMs, Metrics
// {Invocations, Errors, Retries, RecordsHandled, DeadLettered, Filtered,
// SkippedTrimmed, IteratorAgeMs, PendingRecords} and Shards [{ShardId,
// NextSequenceNumber, LastSequenceNumber}] and RecentErrors [{TimeMs,
// ShardId, Attempt, Records, ErrorType, ErrorMessage}] (the last failed
// invocations, newest first; dispatcher/recent_errors.h).
//
// ReplayTrigger re-runs a trigger over the history still in its stream
// (Dispatcher::ReplayTrigger): StartingPosition "TRIM_HORIZON" (the oldest
// retained record) or "AT_TIMESTAMP" with StartingPositionTimestamp in epoch
// seconds (Lambda's names), from the first record created at or after it.
//
// WaitForTriggers is the drain barrier, built so that it never holds an
// HTTP loop thread for long: the first call (no Barrier) notes the newest
// record of every shard of every enabled trigger (of TableName, if given)
// and waits at most WaitMs (default and maximum 250 ms); it answers
// Done=true once every trigger's checkpoint is past those records, else
// Done=false and the Barrier still to reach, which the client sends back
// until Done.
#include <algorithm>

#include "api/operations.h"
#include "api/stream_format.h"
#include "dispatcher/dispatcher.h"

namespace eddy::runtime::api {
namespace {

using dispatcher::BarrierTarget;
using dispatcher::TriggerConfig;
using dispatcher::TriggerStatus;

constexpr int64_t kMaxWaitMs = 250;

void Str(JsonWriter* w, std::string_view s) {
  w->String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

ApiStatus RequireDispatcher(const OperationContext& ctx) {
  if (ctx.dispatcher != nullptr) return ApiStatus();
  return ApiError::Validation("Triggers are not enabled on this server");
}

ApiStatus ReadName(const Params& params, std::string* name) {
  std::optional<std::string> value;
  API_RETURN_IF_ERROR(params.String("Name", &value));
  if (!value || value->empty()) {
    return ApiError::Validation("Name is required");
  }
  *name = std::move(*value);
  return ApiStatus();
}

void WriteTrigger(const TriggerStatus& s, JsonWriter* w) {
  w->StartObject();
  // Environment values may be secrets: the API shows their names only.
  dispatcher::WriteTriggerConfigMembers(s.config, w,
                                        /*mask_environment=*/true);
  w->Key("State");
  Str(w, s.state);
  if (!s.state_reason.empty()) {
    w->Key("StateTransitionReason");
    Str(w, s.state_reason);
  }
  w->Key("StreamArn");
  Str(w, s.stream_arn);
  w->Key("CreatedMs");
  w->Int64(s.created_ms);
  w->Key("Metrics");
  w->StartObject();
  w->Key("Invocations");
  w->Uint64(s.invocations);
  w->Key("Errors");
  w->Uint64(s.errors);
  w->Key("Retries");
  w->Uint64(s.retries);
  w->Key("RecordsHandled");
  w->Uint64(s.records_handled);
  w->Key("DeadLettered");
  w->Uint64(s.dead_lettered);
  w->Key("Filtered");
  w->Uint64(s.filtered);
  w->Key("SkippedTrimmed");
  w->Uint64(s.skipped_trimmed);
  w->Key("IteratorAgeMs");
  w->Int64(s.iterator_age_ms);
  w->Key("PendingRecords");
  w->Uint64(s.pending_records);
  w->EndObject();
  w->Key("Shards");
  w->StartArray();
  for (const dispatcher::ShardStatus& shard : s.shards) {
    w->StartObject();
    w->Key("ShardId");
    Str(w, shard.shard_id);
    w->Key("NextSequenceNumber");
    Str(w, SequenceString(shard.checkpoint));
    w->Key("LastSequenceNumber");
    Str(w, SequenceString(shard.last_sequence));
    w->EndObject();
  }
  w->EndArray();
  w->Key("RecentErrors");
  w->StartArray();
  for (const dispatcher::InvocationError& e : s.recent_errors) {
    w->StartObject();
    w->Key("TimeMs");
    w->Int64(e.time_ms);
    w->Key("ShardId");
    Str(w, e.shard_id);
    w->Key("Attempt");
    w->Uint(e.attempt);
    w->Key("Records");
    w->Uint64(e.records);
    w->Key("ErrorType");
    Str(w, e.error_type);
    w->Key("ErrorMessage");
    Str(w, e.error_message);
    w->EndObject();
  }
  w->EndArray();
  w->EndObject();
}

void WriteTriggerMember(const TriggerStatus& s, JsonWriter* out) {
  out->StartObject();
  out->Key("Trigger");
  WriteTrigger(s, out);
  out->EndObject();
}

ApiStatus ReadBarrier(const rapidjson::Value& json,
                      std::vector<BarrierTarget>* targets) {
  if (!json.IsArray()) return ApiError::Validation("Barrier must be a list");
  for (const auto& entry : json.GetArray()) {
    uint64_t sequence = 0;
    if (!entry.IsObject() || !entry.HasMember("Trigger") ||
        !entry["Trigger"].IsString() || !entry.HasMember("Shard") ||
        !entry["Shard"].IsUint() || !entry.HasMember("SequenceNumber") ||
        !entry["SequenceNumber"].IsString() ||
        !ParseSequence(entry["SequenceNumber"].GetString(), &sequence)) {
      return ApiError::Validation(
          "Barrier entries are {Trigger, Shard, SequenceNumber} as "
          "WaitForTriggers returned them");
    }
    targets->push_back(BarrierTarget{entry["Trigger"].GetString(),
                                     entry["Shard"].GetUint(), sequence});
  }
  return ApiStatus();
}

}  // namespace

ApiStatus CreateTrigger(const OperationContext& ctx,
                        const rapidjson::Value& request, JsonWriter* out) {
  API_RETURN_IF_ERROR(RequireDispatcher(ctx));
  TriggerConfig config;
  API_RETURN_IF_ERROR(dispatcher::ReadTriggerConfig(request, false, &config));
  Result<TriggerStatus> status = ctx.dispatcher->CreateTrigger(config);
  if (!status.ok()) return status.status();
  WriteTriggerMember(*status, out);
  return ApiStatus();
}

ApiStatus UpdateTrigger(const OperationContext& ctx,
                        const rapidjson::Value& request, JsonWriter* out) {
  API_RETURN_IF_ERROR(RequireDispatcher(ctx));
  std::string name;
  API_RETURN_IF_ERROR(ReadName(Params(request), &name));
  Result<TriggerStatus> status =
      ctx.dispatcher->UpdateTrigger(name, [&request](TriggerConfig* config) {
        return dispatcher::ReadTriggerConfig(request, true, config);
      });
  if (!status.ok()) return status.status();
  WriteTriggerMember(*status, out);
  return ApiStatus();
}

ApiStatus DeleteTrigger(const OperationContext& ctx,
                        const rapidjson::Value& request, JsonWriter* out) {
  API_RETURN_IF_ERROR(RequireDispatcher(ctx));
  std::string name;
  API_RETURN_IF_ERROR(ReadName(Params(request), &name));
  API_RETURN_IF_ERROR(ctx.dispatcher->DeleteTrigger(name));
  out->StartObject();
  out->EndObject();
  return ApiStatus();
}

ApiStatus ListTriggers(const OperationContext& ctx,
                       const rapidjson::Value& request, JsonWriter* out) {
  API_RETURN_IF_ERROR(RequireDispatcher(ctx));
  std::optional<std::string> table;
  API_RETURN_IF_ERROR(Params(request).String("TableName", &table));
  out->StartObject();
  out->Key("Triggers");
  out->StartArray();
  for (const TriggerStatus& s : ctx.dispatcher->ListTriggers(table)) {
    WriteTrigger(s, out);
  }
  out->EndArray();
  out->EndObject();
  return ApiStatus();
}

ApiStatus GetTriggerStatus(const OperationContext& ctx,
                           const rapidjson::Value& request, JsonWriter* out) {
  API_RETURN_IF_ERROR(RequireDispatcher(ctx));
  std::string name;
  API_RETURN_IF_ERROR(ReadName(Params(request), &name));
  Result<TriggerStatus> status = ctx.dispatcher->GetTriggerStatus(name);
  if (!status.ok()) return status.status();
  WriteTriggerMember(*status, out);
  return ApiStatus();
}

ApiStatus ReplayTrigger(const OperationContext& ctx,
                        const rapidjson::Value& request, JsonWriter* out) {
  API_RETURN_IF_ERROR(RequireDispatcher(ctx));
  Params params(request);
  std::string name;
  API_RETURN_IF_ERROR(ReadName(params, &name));
  std::optional<std::string> position;
  API_RETURN_IF_ERROR(params.String("StartingPosition", &position));
  const rapidjson::Value* timestamp = params.Get("StartingPositionTimestamp");
  std::optional<int64_t> from_ms;
  if (position == "AT_TIMESTAMP") {
    if (timestamp == nullptr || !timestamp->IsNumber() ||
        timestamp->GetDouble() < 0) {
      return ApiError::Validation(
          "StartingPositionTimestamp (epoch seconds) is required with "
          "StartingPosition AT_TIMESTAMP");
    }
    from_ms = static_cast<int64_t>(timestamp->GetDouble() * 1000.0);
  } else if (position == "TRIM_HORIZON") {
    if (timestamp != nullptr) {
      return ApiError::Validation(
          "StartingPositionTimestamp goes with StartingPosition AT_TIMESTAMP "
          "only");
    }
  } else {
    return ApiError::Validation(
        "StartingPosition must be TRIM_HORIZON or AT_TIMESTAMP");
  }
  Result<TriggerStatus> status = ctx.dispatcher->ReplayTrigger(name, from_ms);
  if (!status.ok()) return status.status();
  WriteTriggerMember(*status, out);
  return ApiStatus();
}

ApiStatus WaitForTriggers(const OperationContext& ctx,
                          const rapidjson::Value& request, JsonWriter* out) {
  API_RETURN_IF_ERROR(RequireDispatcher(ctx));
  Params params(request);
  std::optional<std::string> table;
  std::optional<int64_t> wait_ms;
  API_RETURN_IF_ERROR(params.String("TableName", &table));
  API_RETURN_IF_ERROR(params.Int64("WaitMs", &wait_ms));
  const rapidjson::Value* barrier = params.Get("Barrier");
  std::vector<BarrierTarget> targets;
  if (barrier != nullptr) {
    API_RETURN_IF_ERROR(ReadBarrier(*barrier, &targets));
  } else {
    if (table && ctx.db->GetTable(*table) == nullptr) {
      return ApiError::ResourceNotFound(
          "Requested resource not found: Table: " + *table + " not found");
    }
    targets = ctx.dispatcher->Barrier(table);
  }
  const int64_t wait =
      std::clamp<int64_t>(wait_ms.value_or(kMaxWaitMs), 0, kMaxWaitMs);
  targets = ctx.dispatcher->WaitForBarrier(std::move(targets),
                                           std::chrono::milliseconds(wait));
  out->StartObject();
  out->Key("Done");
  out->Bool(targets.empty());
  out->Key("Barrier");
  out->StartArray();
  for (const BarrierTarget& target : targets) {
    out->StartObject();
    out->Key("Trigger");
    Str(out, target.trigger);
    out->Key("Shard");
    out->Uint(target.shard);
    out->Key("SequenceNumber");
    Str(out, SequenceString(target.sequence));
    out->EndObject();
  }
  out->EndArray();
  out->EndObject();
  return ApiStatus();
}

}  // namespace eddy::runtime::api
