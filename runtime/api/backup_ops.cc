// On-demand backups and point-in-time recovery: CreateBackup,
// DescribeBackup, ListBackups, DeleteBackup, RestoreTableFromBackup,
// UpdateContinuousBackups, DescribeContinuousBackups,
// RestoreTableToPointInTime (eddy/store/backup.h does the work).
#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "api/operations.h"
#include "api/table_definitions.h"

namespace eddy::runtime::api {
namespace {

using store::BackupInfo;
using store::BackupStatus;
using store::BillingMode;
using store::IndexInfo;
using store::TableInfo;
using store::TableSchema;

void Str(JsonWriter* w, std::string_view s) {
  w->String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
double Seconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

std::string_view BackupStatusName(BackupStatus status) {
  switch (status) {
    case BackupStatus::kCreating:
      return "CREATING";
    case BackupStatus::kAvailable:
      return "AVAILABLE";
    case BackupStatus::kDeleted:
      return "DELETED";
  }
  return "AVAILABLE";
}
std::string_view BackupTypeName(store::BackupType type) {
  return type == store::BackupType::kSystem ? "SYSTEM" : "USER";
}
std::string_view ProjectionName(store::ProjectionType type) {
  switch (type) {
    case store::ProjectionType::kAll:
      return "ALL";
    case store::ProjectionType::kKeysOnly:
      return "KEYS_ONLY";
    case store::ProjectionType::kInclude:
      return "INCLUDE";
  }
  return "ALL";
}

std::string BackupArnOf(const EndpointConfig& config, const BackupInfo& b) {
  return BackupArn(config, b.table.schema.name, b.id);
}

// BackupArn -> the backup id (its last part).
ApiStatus ReadBackupArn(const Params& params, std::string* arn,
                        std::string* id) {
  std::optional<std::string> value;
  API_RETURN_IF_ERROR(params.String("BackupArn", &value));
  ConstraintErrors errors;
  if (!value) {
    errors.Add("null", "backupArn", "Member must not be null");
  } else if (value->size() < 37 || value->size() > 1024) {
    errors.Add(*value, "backupArn",
               value->size() < 37
                   ? "Member must have length greater than or equal to 37"
                   : "Member must have length less than or equal to 1024");
  }
  API_RETURN_IF_ERROR(errors.ToStatus());
  *arn = *value;
  const size_t at = arn->rfind("/backup/");
  if (!arn->starts_with("arn:") || at == std::string::npos) {
    return ApiError::Validation("Invalid BackupArn provided: " + *arn);
  }
  *id = arn->substr(at + 8);
  return ApiStatus();
}

ApiError BackupNotFound(const std::string& arn) {
  return ApiError::Dynamo("BackupNotFoundException",
                          "Backup not found: " + arn);
}

void WriteBackupDetails(const OperationContext& ctx, const BackupInfo& b,
                        JsonWriter* w) {
  w->StartObject();
  w->Key("BackupArn");
  Str(w, BackupArnOf(*ctx.config, b));
  w->Key("BackupName");
  Str(w, b.name);
  w->Key("BackupSizeBytes");
  w->Int64(b.size_bytes);
  w->Key("BackupStatus");
  Str(w, BackupStatusName(b.status));
  w->Key("BackupType");
  Str(w, BackupTypeName(b.type));
  w->Key("BackupCreationDateTime");
  w->Double(Seconds(b.creation_time_ms));
  if (b.expiry_time_ms != 0) {
    w->Key("BackupExpiryDateTime");
    w->Double(Seconds(b.expiry_time_ms));
  }
  w->EndObject();
}

void WriteProjection(const store::IndexSchema& s, JsonWriter* w) {
  w->Key("Projection");
  w->StartObject();
  w->Key("ProjectionType");
  Str(w, ProjectionName(s.projection));
  if (s.projection == store::ProjectionType::kInclude) {
    w->Key("NonKeyAttributes");
    w->StartArray();
    for (const std::string& a : s.non_key_attributes) Str(w, a);
    w->EndArray();
  }
  w->EndObject();
}

void WriteThroughput(int64_t rcu, int64_t wcu, JsonWriter* w) {
  w->Key("ProvisionedThroughput");
  w->StartObject();
  w->Key("ReadCapacityUnits");
  w->Int64(rcu);
  w->Key("WriteCapacityUnits");
  w->Int64(wcu);
  w->EndObject();
}

void WriteBackupDescription(const OperationContext& ctx, const BackupInfo& b,
                            JsonWriter* w) {
  const TableInfo& t = b.table;
  w->StartObject();
  w->Key("BackupDetails");
  WriteBackupDetails(ctx, b, w);
  w->Key("SourceTableDetails");
  w->StartObject();
  w->Key("TableName");
  Str(w, t.schema.name);
  w->Key("TableId");
  Str(w, t.table_id);
  w->Key("TableArn");
  Str(w, TableArn(*ctx.config, t.schema.name));
  w->Key("TableSizeBytes");
  w->Int64(t.size_bytes);
  WriteKeySchema(t.schema.hash_key, t.schema.range_key, w);
  w->Key("TableCreationDateTime");
  w->Double(Seconds(t.creation_time_ms));
  WriteThroughput(t.schema.read_capacity_units, t.schema.write_capacity_units,
                  w);
  w->Key("ItemCount");
  w->Int64(t.item_count);
  w->Key("BillingMode");
  w->String(t.schema.billing_mode == BillingMode::kPayPerRequest
                ? "PAY_PER_REQUEST"
                : "PROVISIONED");
  w->EndObject();
  w->Key("SourceTableFeatureDetails");
  w->StartObject();
  for (const bool global : {false, true}) {
    bool any = false;
    for (const IndexInfo& i : t.indexes) any = any || i.global == global;
    if (!any) continue;
    w->Key(global ? "GlobalSecondaryIndexes" : "LocalSecondaryIndexes");
    w->StartArray();
    for (const IndexInfo& i : t.indexes) {
      if (i.global != global) continue;
      w->StartObject();
      w->Key("IndexName");
      Str(w, i.schema.name);
      WriteKeySchema(i.schema.hash_key, i.schema.range_key, w);
      WriteProjection(i.schema, w);
      if (global) {
        WriteThroughput(i.schema.read_capacity_units,
                        i.schema.write_capacity_units, w);
      }
      w->EndObject();
    }
    w->EndArray();
  }
  if (!t.streams.empty() && t.streams.front().enabled()) {
    w->Key("StreamDescription");
    w->StartObject();
    w->Key("StreamEnabled");
    w->Bool(true);
    w->Key("StreamViewType");
    Str(w, store::StreamViewTypeName(t.streams.front().view_type));
    w->EndObject();
  }
  if (t.ttl_attribute) {
    w->Key("TimeToLiveDescription");
    w->StartObject();
    w->Key("AttributeName");
    Str(w, *t.ttl_attribute);
    w->Key("TimeToLiveStatus");
    w->String("ENABLED");
    w->EndObject();
  }
  w->EndObject();
  w->EndObject();
}

// A timestamp member (epoch seconds, as the SDKs send them).
ApiStatus ReadTime(const Params& params, const char* name,
                   std::optional<int64_t>* ms) {
  const rapidjson::Value* v = params.Get(name);
  if (v == nullptr || v->IsNull()) return ApiStatus();
  if (!v->IsNumber()) {
    return ApiError::Serialization(std::string("class java.lang.String can not "
                                               "be converted to an Timestamp"));
  }
  *ms = static_cast<int64_t>(std::llround(v->GetDouble() * 1000.0));
  return ApiStatus();
}

// The table a restore creates: the source's definition (`source`, as the
// backup or the source table has it) with the request's overrides, as
// DynamoDB allows them: billing mode, provisioned throughput, and the
// secondary indexes (a subset of the source's, each with the same keys;
// projection and throughput may change). Streams, TTL and tags are not
// restored.
ApiStatus RestoreTarget(const Params& params, const std::string& target_name,
                        const TableInfo& source, TableSchema* target) {
  ConstraintErrors errors;
  std::optional<std::string> mode_text;
  API_RETURN_IF_ERROR(params.String("BillingModeOverride", &mode_text));
  const rapidjson::Value* throughput = nullptr;
  API_RETURN_IF_ERROR(
      params.Object("ProvisionedThroughputOverride", &throughput));
  int64_t rcu = 0, wcu = 0;
  if (throughput != nullptr) {
    API_RETURN_IF_ERROR(ReadThroughput(*throughput, &rcu, &wcu, &errors,
                                       "provisionedThroughputOverride"));
  }
  std::vector<IndexRequest> local, global;
  bool local_present = false, global_present = false;
  API_RETURN_IF_ERROR(ReadIndexList(params, "LocalSecondaryIndexOverride",
                                    "localSecondaryIndexOverride", false,
                                    &errors, &local_present, &local));
  API_RETURN_IF_ERROR(ReadIndexList(params, "GlobalSecondaryIndexOverride",
                                    "globalSecondaryIndexOverride", true,
                                    &errors, &global_present, &global));
  if (mode_text && *mode_text != "PROVISIONED" &&
      *mode_text != "PAY_PER_REQUEST") {
    errors.Add(*mode_text, "billingModeOverride",
               "Member must satisfy enum value set: [PROVISIONED, "
               "PAY_PER_REQUEST]");
  }
  API_RETURN_IF_ERROR(errors.ToStatus());
  for (const char* unsupported :
       {"SSESpecificationOverride", "OnDemandThroughputOverride"}) {
    if (params.Get(unsupported) != nullptr) {
      return ApiError::Validation(std::string(unsupported) +
                                  " is not supported by Eddy");
    }
  }

  *target = source.schema;
  target->name = target_name;
  target->stream_view_type.reset();
  target->tags.clear();
  target->deletion_protection = false;
  target->local_indexes.clear();
  target->global_indexes.clear();
  if (mode_text) {
    target->billing_mode = *mode_text == "PAY_PER_REQUEST"
                               ? BillingMode::kPayPerRequest
                               : BillingMode::kProvisioned;
  }
  const bool provisioned = target->billing_mode == BillingMode::kProvisioned;
  if (throughput != nullptr) {
    if (!provisioned) {
      return ApiError::Validation(
          "One or more parameter values were invalid: Neither "
          "ReadCapacityUnits nor WriteCapacityUnits can be specified when "
          "BillingMode is PAY_PER_REQUEST");
    }
    target->read_capacity_units = rcu;
    target->write_capacity_units = wcu;
  } else if (!provisioned) {
    target->read_capacity_units = 0;
    target->write_capacity_units = 0;
  } else if (target->read_capacity_units == 0) {
    return ApiError::Validation(
        "One or more parameter values were invalid: "
        "ProvisionedThroughputOverride must be specified when BillingMode is "
        "PROVISIONED");
  }
  // An override must name a source index of its kind, with its keys.
  auto resolve = [&](const IndexRequest& r, bool is_global,
                     store::IndexSchema* out) -> ApiStatus {
    const IndexInfo* found = nullptr;
    for (const IndexInfo& i : source.indexes) {
      if (i.schema.name == r.name && i.global == is_global) found = &i;
    }
    std::vector<std::pair<std::string, std::string>> keys = {
        {found ? found->schema.hash_key.name : "", "HASH"}};
    if (found && found->schema.range_key) {
      keys.emplace_back(found->schema.range_key->name, "RANGE");
    }
    if (found == nullptr || keys != r.keys) {
      return ApiError::Validation(
          std::string(kInvalidParameters) + "The " +
          (is_global ? "global" : "local") + " secondary index " + r.name +
          " does not match an index of the source table");
    }
    *out = found->schema;
    if (r.projection_type) {
      out->projection = *r.projection_type == "KEYS_ONLY"
                            ? store::ProjectionType::kKeysOnly
                        : *r.projection_type == "INCLUDE"
                            ? store::ProjectionType::kInclude
                            : store::ProjectionType::kAll;
      out->non_key_attributes =
          r.non_key_attributes.value_or(std::vector<std::string>());
    }
    if (is_global) {
      if (r.has_throughput) {
        out->read_capacity_units = r.rcu;
        out->write_capacity_units = r.wcu;
      }
      if (!provisioned) {
        out->read_capacity_units = 0;
        out->write_capacity_units = 0;
      } else if (out->read_capacity_units == 0) {
        out->read_capacity_units = target->read_capacity_units;
        out->write_capacity_units = target->write_capacity_units;
      }
    }
    return ApiStatus();
  };
  for (const bool is_global : {false, true}) {
    const bool present = is_global ? global_present : local_present;
    auto& list = is_global ? target->global_indexes : target->local_indexes;
    if (present) {
      for (const IndexRequest& r : is_global ? global : local) {
        store::IndexSchema s;
        API_RETURN_IF_ERROR(resolve(r, is_global, &s));
        list.push_back(std::move(s));
      }
      continue;
    }
    for (const IndexInfo& i : source.indexes) {
      if (i.global != is_global) continue;
      store::IndexSchema s = i.schema;
      if (is_global && !provisioned) {
        s.read_capacity_units = 0;
        s.write_capacity_units = 0;
      } else if (is_global && s.read_capacity_units == 0) {
        s.read_capacity_units = target->read_capacity_units;
        s.write_capacity_units = target->write_capacity_units;
      }
      list.push_back(std::move(s));
    }
  }
  // Only the definitions some remaining key uses (DynamoDB's rule).
  std::set<std::string> used = {target->hash_key.name};
  if (target->range_key) used.insert(target->range_key->name);
  for (const auto* list : {&target->local_indexes, &target->global_indexes}) {
    for (const store::IndexSchema& s : *list) {
      used.insert(s.hash_key.name);
      if (s.range_key) used.insert(s.range_key->name);
    }
  }
  std::erase_if(target->attribute_definitions,
                [&](const store::AttributeDefinition& d) {
                  return used.count(d.name) == 0;
                });
  return ApiStatus();
}

ApiStatus ReadTargetTableName(const Params& params, std::string* name) {
  std::optional<std::string> value;
  API_RETURN_IF_ERROR(params.String("TargetTableName", &value));
  if (!value) {
    ConstraintErrors errors;
    errors.Add("null", "targetTableName", "Member must not be null");
    return errors.ToStatus();
  }
  API_RETURN_IF_ERROR(ValidateTableName(*value));
  *name = *value;
  return ApiStatus();
}

// A table name or its ARN (ListBackups' TableName, SourceTableArn).
std::string TableNameOf(const std::string& name_or_arn) {
  const size_t at = name_or_arn.find(":table/");
  if (!name_or_arn.starts_with("arn:") || at == std::string::npos) {
    return name_or_arn;
  }
  std::string name = name_or_arn.substr(at + 7);
  return name.substr(0, name.find('/'));
}

void WriteContinuousBackups(const store::ContinuousBackups& c,
                            int64_t retention_days, JsonWriter* w) {
  w->StartObject();
  w->Key("ContinuousBackupsDescription");
  w->StartObject();
  w->Key("ContinuousBackupsStatus");
  w->String("ENABLED");
  w->Key("PointInTimeRecoveryDescription");
  w->StartObject();
  w->Key("PointInTimeRecoveryStatus");
  w->String(c.enabled ? "ENABLED" : "DISABLED");
  if (c.enabled) {
    w->Key("RecoveryPeriodInDays");
    w->Int64(retention_days);
    w->Key("EarliestRestorableDateTime");
    w->Double(Seconds(c.earliest_ms));
    w->Key("LatestRestorableDateTime");
    w->Double(Seconds(c.latest_ms));
  }
  w->EndObject();
  w->EndObject();
  w->EndObject();
}

ApiError TableNotFoundError(const std::string& name) {
  return ApiError::Dynamo("TableNotFoundException", "Table not found: " + name);
}

}  // namespace

std::string BackupArn(const EndpointConfig& config, const std::string& table,
                      const std::string& id) {
  return TableArn(config, table) + "/backup/" + id;
}

ApiStatus CreateBackup(const OperationContext& ctx,
                       const rapidjson::Value& request, JsonWriter* out) {
  Params params(request);
  std::string table;
  API_RETURN_IF_ERROR(ReadTableName(params, &table));
  std::optional<std::string> name;
  API_RETURN_IF_ERROR(params.String("BackupName", &name));
  ConstraintErrors errors;
  if (!name) {
    errors.Add("null", "backupName", "Member must not be null");
  } else {
    if (name->size() < 3 || name->size() > 255) {
      errors.Add(*name, "backupName",
                 name->size() < 3
                     ? "Member must have length greater than or equal to 3"
                     : "Member must have length less than or equal to 255");
    }
    if (!std::all_of(name->begin(), name->end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                 c == '-' || c == '.';
        })) {
      errors.Add(*name, "backupName",
                 "Member must satisfy regular expression pattern: "
                 "[a-zA-Z0-9_.-]+");
    }
  }
  API_RETURN_IF_ERROR(errors.ToStatus());
  Result<BackupInfo> backup = ctx.db->CreateBackup(table, *name);
  if (!backup.ok()) {
    const Status& s = backup.status();
    if (s.IsNotFound()) return TableNotFoundError(table);
    if (s.code() == Status::Code::kBusy) {
      return ApiError::Dynamo("TableInUseException",
                              "Table is being created or deleted: " + table);
    }
    return s;
  }
  out->StartObject();
  out->Key("BackupDetails");
  WriteBackupDetails(ctx, *backup, out);
  out->EndObject();
  return ApiStatus();
}

ApiStatus DescribeBackup(const OperationContext& ctx,
                         const rapidjson::Value& request, JsonWriter* out) {
  std::string arn, id;
  API_RETURN_IF_ERROR(ReadBackupArn(Params(request), &arn, &id));
  Result<BackupInfo> backup = ctx.db->DescribeBackup(id);
  if (!backup.ok()) return BackupNotFound(arn);
  out->StartObject();
  out->Key("BackupDescription");
  WriteBackupDescription(ctx, *backup, out);
  out->EndObject();
  return ApiStatus();
}

ApiStatus DeleteBackup(const OperationContext& ctx,
                       const rapidjson::Value& request, JsonWriter* out) {
  std::string arn, id;
  API_RETURN_IF_ERROR(ReadBackupArn(Params(request), &arn, &id));
  Result<BackupInfo> backup = ctx.db->DeleteBackup(id);
  if (!backup.ok()) {
    const Status& s = backup.status();
    if (s.IsNotFound()) return BackupNotFound(arn);
    if (s.code() == Status::Code::kBusy) {
      return ApiError::Dynamo("BackupInUseException", s.message());
    }
    return s;
  }
  out->StartObject();
  out->Key("BackupDescription");
  WriteBackupDescription(ctx, *backup, out);
  out->EndObject();
  return ApiStatus();
}

ApiStatus ListBackups(const OperationContext& ctx,
                      const rapidjson::Value& request, JsonWriter* out) {
  Params params(request);
  std::optional<std::string> table, start, type;
  std::optional<int64_t> limit, lower, upper;
  API_RETURN_IF_ERROR(params.String("TableName", &table));
  API_RETURN_IF_ERROR(params.String("ExclusiveStartBackupArn", &start));
  API_RETURN_IF_ERROR(params.String("BackupType", &type));
  API_RETURN_IF_ERROR(params.Int64("Limit", &limit));
  API_RETURN_IF_ERROR(ReadTime(params, "TimeRangeLowerBound", &lower));
  API_RETURN_IF_ERROR(ReadTime(params, "TimeRangeUpperBound", &upper));
  ConstraintErrors errors;
  if (limit && (*limit < 1 || *limit > 100)) {
    errors.Add(std::to_string(*limit), "limit",
               *limit < 1 ? "Member must have value greater than or equal to 1"
                          : "Member must have value less than or equal to 100");
  }
  if (type && *type != "USER" && *type != "SYSTEM" && *type != "AWS_BACKUP" &&
      *type != "ALL") {
    errors.Add(*type, "backupType",
               "Member must satisfy enum value set: [USER, SYSTEM, AWS_BACKUP, "
               "ALL]");
  }
  API_RETURN_IF_ERROR(errors.ToStatus());
  const std::string wanted_type = type.value_or("USER");
  const std::optional<std::string> table_name =
      table ? std::optional<std::string>(TableNameOf(*table)) : std::nullopt;

  std::vector<BackupInfo> all = ctx.db->ListBackups();
  std::vector<const BackupInfo*> matching;
  for (const BackupInfo& b : all) {
    if (table_name && b.table.schema.name != *table_name) continue;
    if (lower && b.creation_time_ms < *lower) continue;
    if (upper && b.creation_time_ms >= *upper) continue;
    if (wanted_type != "ALL" && BackupTypeName(b.type) != wanted_type) {
      continue;
    }
    matching.push_back(&b);
  }
  size_t first = 0;
  if (start) {
    const std::string start_id = start->substr(start->rfind('/') + 1);
    for (size_t i = 0; i < matching.size(); ++i) {
      if (matching[i]->id == start_id) first = i + 1;
    }
  }
  const size_t page = static_cast<size_t>(limit.value_or(100));
  const size_t end = std::min(matching.size(), first + page);
  out->StartObject();
  out->Key("BackupSummaries");
  out->StartArray();
  for (size_t i = first; i < end; ++i) {
    const BackupInfo& b = *matching[i];
    out->StartObject();
    out->Key("TableName");
    Str(out, b.table.schema.name);
    out->Key("TableId");
    Str(out, b.table.table_id);
    out->Key("TableArn");
    Str(out, TableArn(*ctx.config, b.table.schema.name));
    out->Key("BackupArn");
    Str(out, BackupArnOf(*ctx.config, b));
    out->Key("BackupName");
    Str(out, b.name);
    out->Key("BackupCreationDateTime");
    out->Double(Seconds(b.creation_time_ms));
    if (b.expiry_time_ms != 0) {
      out->Key("BackupExpiryDateTime");
      out->Double(Seconds(b.expiry_time_ms));
    }
    out->Key("BackupStatus");
    Str(out, BackupStatusName(b.status));
    out->Key("BackupType");
    Str(out, BackupTypeName(b.type));
    out->Key("BackupSizeBytes");
    out->Int64(b.size_bytes);
    out->EndObject();
  }
  out->EndArray();
  if (end < matching.size()) {
    out->Key("LastEvaluatedBackupArn");
    Str(out, BackupArnOf(*ctx.config, *matching[end - 1]));
  }
  out->EndObject();
  return ApiStatus();
}

ApiStatus RestoreTableFromBackup(const OperationContext& ctx,
                                 const rapidjson::Value& request,
                                 JsonWriter* out) {
  Params params(request);
  std::string target_name, arn, id;
  API_RETURN_IF_ERROR(ReadTargetTableName(params, &target_name));
  API_RETURN_IF_ERROR(ReadBackupArn(params, &arn, &id));
  Result<BackupInfo> backup = ctx.db->DescribeBackup(id);
  if (!backup.ok()) return BackupNotFound(arn);
  TableSchema target;
  API_RETURN_IF_ERROR(RestoreTarget(params, target_name, backup->table, &target));
  Result<TableInfo> info = ctx.db->RestoreTableFromBackup(id, target);
  if (!info.ok()) {
    const Status& s = info.status();
    if (s.IsNotFound()) return BackupNotFound(arn);
    if (s.IsAlreadyExists()) {
      return ApiError::Dynamo("TableAlreadyExistsException",
                              "Table already exists: " + target_name);
    }
    if (s.code() == Status::Code::kBusy) {
      return ApiError::Dynamo("BackupInUseException",
                              "Backup is being created: " + arn);
    }
    return s;
  }
  out->StartObject();
  out->Key("TableDescription");
  WriteTableDescription(ctx, *info, out);
  out->EndObject();
  return ApiStatus();
}

ApiStatus UpdateContinuousBackups(const OperationContext& ctx,
                                  const rapidjson::Value& request,
                                  JsonWriter* out) {
  Params params(request);
  std::string table;
  API_RETURN_IF_ERROR(ReadTableName(params, &table));
  const rapidjson::Value* spec = nullptr;
  API_RETURN_IF_ERROR(params.Object("PointInTimeRecoverySpecification", &spec));
  ConstraintErrors errors;
  std::optional<bool> enabled;
  std::optional<int64_t> days;
  if (spec == nullptr) {
    errors.Add("null", "pointInTimeRecoverySpecification",
               "Member must not be null");
  } else {
    Params s(*spec);
    API_RETURN_IF_ERROR(s.Bool("PointInTimeRecoveryEnabled", &enabled));
    API_RETURN_IF_ERROR(s.Int64("RecoveryPeriodInDays", &days));
    if (!enabled) {
      errors.Add("null",
                 "pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled",
                 "Member must not be null");
    }
    if (days && (*days < 1 || *days > 35)) {
      errors.Add(std::to_string(*days),
                 "pointInTimeRecoverySpecification.recoveryPeriodInDays",
                 *days < 1 ? "Member must have value greater than or equal to 1"
                           : "Member must have value less than or equal to 35");
    }
  }
  API_RETURN_IF_ERROR(errors.ToStatus());
  if (days && *days != ctx.config->pitr_retention_days) {
    return ApiError::Validation(
        "RecoveryPeriodInDays is the server's --pitr-retention (" +
        std::to_string(ctx.config->pitr_retention_days) +
        " days) in Eddy; other periods per table are not supported");
  }
  Result<store::ContinuousBackups> c =
      ctx.db->UpdateContinuousBackups(table, *enabled);
  if (!c.ok()) {
    if (c.status().IsNotFound()) return TableNotFoundError(table);
    return c.status();
  }
  WriteContinuousBackups(*c, ctx.config->pitr_retention_days, out);
  return ApiStatus();
}

ApiStatus DescribeContinuousBackups(const OperationContext& ctx,
                                    const rapidjson::Value& request,
                                    JsonWriter* out) {
  std::string table;
  API_RETURN_IF_ERROR(ReadTableName(Params(request), &table));
  Result<store::ContinuousBackups> c = ctx.db->DescribeContinuousBackups(table);
  if (!c.ok()) {
    if (c.status().IsNotFound()) return TableNotFoundError(table);
    return c.status();
  }
  WriteContinuousBackups(*c, ctx.config->pitr_retention_days, out);
  return ApiStatus();
}

ApiStatus RestoreTableToPointInTime(const OperationContext& ctx,
                                    const rapidjson::Value& request,
                                    JsonWriter* out) {
  Params params(request);
  std::string target_name;
  API_RETURN_IF_ERROR(ReadTargetTableName(params, &target_name));
  std::optional<std::string> source_arn, source_name;
  API_RETURN_IF_ERROR(params.String("SourceTableArn", &source_arn));
  API_RETURN_IF_ERROR(params.String("SourceTableName", &source_name));
  std::optional<bool> latest;
  API_RETURN_IF_ERROR(params.Bool("UseLatestRestorableTime", &latest));
  std::optional<int64_t> time_ms;
  API_RETURN_IF_ERROR(ReadTime(params, "RestoreDateTime", &time_ms));
  if (!source_arn && !source_name) {
    return ApiError::Validation(
        "Either SourceTableArn or SourceTableName must be specified");
  }
  if (source_arn && source_name) {
    return ApiError::Validation(
        "Only one of SourceTableArn or SourceTableName can be specified");
  }
  if (latest.value_or(false) && time_ms) {
    return ApiError::Validation(
        "Only one of RestoreDateTime or UseLatestRestorableTime can be "
        "specified");
  }
  const std::string source =
      source_name ? *source_name : TableNameOf(*source_arn);
  std::optional<TableInfo> info = ctx.db->DescribeTable(source);
  if (!info || info->status != store::TableStatus::kActive) {
    return ApiError::Dynamo("SourceTableNotFoundException",
                            "Source table not found: " + source);
  }
  Result<store::ContinuousBackups> window =
      ctx.db->DescribeContinuousBackups(source);
  if (!window.ok() || !window->enabled) {
    return ApiError::Dynamo(
        "PointInTimeRecoveryUnavailableException",
        "Point in time recovery is not enabled for table '" + source + "'");
  }
  if (!time_ms) {
    if (!latest.value_or(false)) {
      return ApiError::Validation(
          "Either RestoreDateTime or UseLatestRestorableTime must be "
          "specified");
    }
    time_ms = window->latest_ms;
  }
  TableSchema target;
  API_RETURN_IF_ERROR(RestoreTarget(params, target_name, *info, &target));
  Result<TableInfo> restored =
      ctx.db->RestoreTableToPointInTime(source, *time_ms, target);
  if (!restored.ok()) {
    const Status& s = restored.status();
    if (s.IsNotFound()) {
      return ApiError::Dynamo("SourceTableNotFoundException",
                              "Source table not found: " + source);
    }
    if (s.IsInvalidArgument()) {
      return ApiError::Dynamo("PointInTimeRecoveryUnavailableException",
                              s.message());
    }
    if (s.IsOutOfRange()) {
      return ApiError::Dynamo(
          "InvalidRestoreTimeException",
          "Invalid restore time specified. RestoreDateTime must be between "
          "EarliestRestorableDateTime and LatestRestorableDateTime");
    }
    if (s.IsAlreadyExists()) {
      return ApiError::Dynamo("TableAlreadyExistsException",
                              "Table already exists: " + target_name);
    }
    return s;
  }
  out->StartObject();
  out->Key("TableDescription");
  WriteTableDescription(ctx, *restored, out);
  out->EndObject();
  return ApiStatus();
}

}  // namespace eddy::runtime::api
