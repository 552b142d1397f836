// CreateTable, DescribeTable, DeleteTable, UpdateTable, ListTables.
#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "api/capacity.h"
#include "api/operations.h"
#include "api/table_definitions.h"

namespace eddy::runtime::api {
namespace {

using store::BillingMode;
using store::IndexInfo;
using store::TableInfo;
using store::TableSchema;
using store::TableStatus;
using store::ValueType;

void Str(JsonWriter* w, std::string_view s) {
  w->String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

std::string_view StatusName(TableStatus status) {
  switch (status) {
    case TableStatus::kCreating:
      return "CREATING";
    case TableStatus::kActive:
      return "ACTIVE";
    case TableStatus::kUpdating:
      return "UPDATING";
    case TableStatus::kDeleting:
      return "DELETING";
  }
  return "ACTIVE";
}

double Seconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

}  // namespace

void WriteTableDescription(const OperationContext& ctx, const TableInfo& info,
                           JsonWriter* w) {
  const TableSchema& s = info.schema;
  w->StartObject();
  w->Key("AttributeDefinitions");
  w->StartArray();
  for (const store::AttributeDefinition& d : s.attribute_definitions) {
    w->StartObject();
    w->Key("AttributeName");
    Str(w, d.name);
    w->Key("AttributeType");
    Str(w, store::ValueTypeName(d.type));
    w->EndObject();
  }
  w->EndArray();
  w->Key("TableName");
  Str(w, s.name);
  WriteKeySchema(s.hash_key, s.range_key, w);
  w->Key("TableStatus");
  Str(w, StatusName(info.status));
  w->Key("CreationDateTime");
  w->Double(Seconds(info.creation_time_ms));
  w->Key("ProvisionedThroughput");
  w->StartObject();
  if (info.last_increase_time_ms != 0) {
    w->Key("LastIncreaseDateTime");
    w->Double(Seconds(info.last_increase_time_ms));
  }
  if (info.last_decrease_time_ms != 0) {
    w->Key("LastDecreaseDateTime");
    w->Double(Seconds(info.last_decrease_time_ms));
  }
  w->Key("NumberOfDecreasesToday");
  w->Int64(info.decreases_today);
  w->Key("ReadCapacityUnits");
  w->Int64(s.read_capacity_units);
  w->Key("WriteCapacityUnits");
  w->Int64(s.write_capacity_units);
  w->EndObject();
  w->Key("TableSizeBytes");
  w->Int64(info.size_bytes);
  w->Key("ItemCount");
  w->Int64(info.item_count);
  w->Key("TableArn");
  Str(w, TableArn(*ctx.config, s.name));
  w->Key("TableId");
  Str(w, info.table_id);
  WriteIndexes(ctx, info, w);
  if (s.billing_mode == BillingMode::kPayPerRequest ||
      info.billing_mode_update_time_ms != 0) {
    w->Key("BillingModeSummary");
    w->StartObject();
    w->Key("BillingMode");
    w->String(s.billing_mode == BillingMode::kPayPerRequest ? "PAY_PER_REQUEST"
                                                            : "PROVISIONED");
    if (info.billing_mode_update_time_ms != 0) {
      w->Key("LastUpdateToPayPerRequestDateTime");
      w->Double(Seconds(info.billing_mode_update_time_ms));
    }
    w->EndObject();
  }
  if (s.table_class != "STANDARD") {
    w->Key("TableClassSummary");
    w->StartObject();
    w->Key("TableClass");
    Str(w, s.table_class);
    w->EndObject();
  }
  if (!info.streams.empty()) {
    const store::StreamDescription& latest = info.streams.front();
    if (latest.enabled()) {
      w->Key("StreamSpecification");
      w->StartObject();
      w->Key("StreamEnabled");
      w->Bool(true);
      w->Key("StreamViewType");
      Str(w, store::StreamViewTypeName(latest.view_type));
      w->EndObject();
    }
    w->Key("LatestStreamLabel");
    Str(w, latest.label);
    w->Key("LatestStreamArn");
    Str(w, StreamArn(*ctx.config, s.name, latest.label));
  }
  if (info.restore && info.restore->import_id.empty()) {
    const TableInfo::Restore& r = *info.restore;
    w->Key("RestoreSummary");
    w->StartObject();
    if (!r.backup_id.empty()) {
      w->Key("SourceBackupArn");
      Str(w, BackupArn(*ctx.config, r.source_table_name, r.backup_id));
    }
    w->Key("SourceTableArn");
    Str(w, TableArn(*ctx.config, r.source_table_name));
    w->Key("RestoreDateTime");
    w->Double(Seconds(r.restore_time_ms));
    w->Key("RestoreInProgress");
    w->Bool(r.in_progress);
    w->EndObject();
  }
  w->Key("DeletionProtectionEnabled");
  w->Bool(s.deletion_protection);
  w->EndObject();
}

namespace {

// {"TableDescription": {...}}: the answer of CreateTable, UpdateTable and
// DeleteTable.
void WriteTableDescriptionResponse(const OperationContext& ctx,
                                   const TableInfo& info, JsonWriter* out) {
  out->StartObject();
  out->Key("TableDescription");
  WriteTableDescription(ctx, info, out);
  out->EndObject();
}

std::string TableNotFound(const std::string& name) {
  return "Requested resource not found: Table: " + name + " not found";
}

// Looks up a table for the control-plane operations, whose not-found message
// names the table.
ApiStatus DescribeExisting(const OperationContext& ctx, const std::string& name,
                           std::shared_ptr<store::Table>* table) {
  *table = ctx.db->GetTable(name);
  if (*table == nullptr) return ApiError::ResourceNotFound(TableNotFound(name));
  return ApiStatus();
}

ApiStatus ReadBillingMode(const Params& params, ConstraintErrors* errors,
                          std::optional<BillingMode>* out) {
  std::optional<std::string> mode;
  API_RETURN_IF_ERROR(params.String("BillingMode", &mode));
  if (!mode) return ApiStatus();
  if (*mode == "PROVISIONED") {
    *out = BillingMode::kProvisioned;
  } else if (*mode == "PAY_PER_REQUEST") {
    *out = BillingMode::kPayPerRequest;
  } else {
    errors->Add(*mode, "billingMode",
                "Member must satisfy enum value set: [PROVISIONED, "
                "PAY_PER_REQUEST]");
  }
  return ApiStatus();
}

// DynamoDB's bound on provisioned capacity units.
constexpr int64_t kMaxCapacityUnits = 1000000000000;

ApiError ThroughputWithPayPerRequest() {
  return ApiError::Validation(
      "One or more parameter values were invalid: Neither ReadCapacityUnits "
      "nor WriteCapacityUnits can be specified when BillingMode is "
      "PAY_PER_REQUEST");
}

// StreamSpecification {StreamEnabled, StreamViewType}.
ApiStatus ReadStreamSpecification(const Params& params,
                                  std::optional<store::StreamUpdate>* out) {
  const rapidjson::Value* spec = nullptr;
  API_RETURN_IF_ERROR(params.Object("StreamSpecification", &spec));
  if (spec == nullptr) return ApiStatus();
  Params sp(*spec);
  std::optional<bool> enabled;
  std::optional<std::string> view;
  API_RETURN_IF_ERROR(sp.Bool("StreamEnabled", &enabled));
  API_RETURN_IF_ERROR(sp.String("StreamViewType", &view));
  ConstraintErrors errors;
  if (!enabled) {
    errors.Add("null", "streamSpecification.streamEnabled",
               "Member must not be null");
  }
  store::StreamUpdate update;
  if (view && !store::ParseStreamViewType(*view, &update.view_type)) {
    errors.Add(*view, "streamSpecification.streamViewType",
               "Member must satisfy enum value set: [NEW_IMAGE, OLD_IMAGE, "
               "NEW_AND_OLD_IMAGES, KEYS_ONLY]");
  }
  API_RETURN_IF_ERROR(errors.ToStatus());
  update.enabled = *enabled;
  if (update.enabled && !view) {
    return ApiError::Validation(
        "One or more parameter values were invalid: StreamSpecification "
        "StreamViewType must be specified when StreamEnabled is true");
  }
  if (!update.enabled && view) {
    return ApiError::Validation(
        "One or more parameter values were invalid: StreamSpecification "
        "StreamViewType cannot be specified when StreamEnabled is false");
  }
  *out = update;
  return ApiStatus();
}

ApiStatus Unsupported(std::string_view what) {
  return ApiError::Validation(std::string(what) +
                              " is not supported by this version of Eddy");
}

}  // namespace

std::string TableArn(const EndpointConfig& config, const std::string& table) {
  return "arn:aws:dynamodb:" + config.region + ":" + config.account_id +
         ":table/" + table;
}

std::string StreamArn(const EndpointConfig& config, const std::string& table,
                      const std::string& label) {
  return TableArn(config, table) + "/stream/" + label;
}

ApiStatus ReadTableName(const Params& params, std::string* name) {
  std::optional<std::string> value;
  API_RETURN_IF_ERROR(params.String("TableName", &value));
  if (!value) {
    ConstraintErrors errors;
    errors.Add("null", "tableName", "Member must not be null");
    return errors.ToStatus();
  }
  API_RETURN_IF_ERROR(ValidateTableName(*value));
  *name = std::move(*value);
  return ApiStatus();
}

ApiStatus ReadCheckedTableName(const Params& params, std::string* name) {
  std::optional<std::string> value;
  API_RETURN_IF_ERROR(params.String("TableName", &value));
  if (!value) return ReadTableName(params, name);  // Not checked after all.
  *name = std::move(*value);
  return ApiStatus();
}

ApiStatus ValidateTableName(const std::string& name) {
  ConstraintErrors errors;
  bool pattern_ok = !name.empty();
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
          c == '.')) {
      pattern_ok = false;
    }
  }
  const bool length_ok = name.size() >= 3 && name.size() <= 255;
  if (pattern_ok && !length_ok) {
    return ApiError::Validation(
        "TableName must be at least 3 characters long and at most 255 "
        "characters long");
  }
  if (!pattern_ok) {
    if (name.size() < 3) {
      errors.Add(name, "tableName",
                 "Member must have length greater than or equal to 3");
    } else if (name.size() > 255) {
      errors.Add(name, "tableName",
                 "Member must have length less than or equal to 255");
    }
    errors.Add(name, "tableName",
               "Member must satisfy regular expression pattern: "
               "[a-zA-Z0-9_.-]+");
    return errors.ToStatus();
  }
  return ApiStatus();
}

ApiStatus FindTable(const OperationContext& ctx, const std::string& name,
                    std::shared_ptr<store::Table>* table) {
  *table = ctx.db->GetTable(name);
  if (*table == nullptr) {
    return ApiError::ResourceNotFound("Requested resource not found");
  }
  return ApiStatus();
}

ApiStatus ReadCreateTableSchema(const Params& params, TableSchema* out) {
  TableSchema& schema = *out;
  API_RETURN_IF_ERROR(ReadTableName(params, &schema.name));

  ConstraintErrors errors;
  const rapidjson::Value* defs = nullptr;
  const rapidjson::Value* keys = nullptr;
  API_RETURN_IF_ERROR(params.Array("AttributeDefinitions", &defs));
  API_RETURN_IF_ERROR(params.Array("KeySchema", &keys));
  if (defs == nullptr) {
    errors.Add("null", "attributeDefinitions", "Member must not be null");
  }
  std::vector<std::pair<std::string, std::string>> key_elements;
  API_RETURN_IF_ERROR(ReadKeySchema(keys, "keySchema", &errors, &key_elements));
  std::map<std::string, ValueType> definitions;
  if (defs != nullptr) {
    API_RETURN_IF_ERROR(ReadAttributeDefinitions(
        *defs, &errors, &definitions, &schema.attribute_definitions));
  }
  std::optional<BillingMode> billing;
  API_RETURN_IF_ERROR(ReadBillingMode(params, &errors, &billing));
  const rapidjson::Value* throughput = nullptr;
  API_RETURN_IF_ERROR(params.Object("ProvisionedThroughput", &throughput));
  if (throughput != nullptr) {
    API_RETURN_IF_ERROR(ReadThroughput(*throughput, &schema.read_capacity_units,
                                       &schema.write_capacity_units, &errors));
  }
  std::vector<IndexRequest> local_indexes, global_indexes;
  bool local_present = false, global_present = false;
  API_RETURN_IF_ERROR(ReadIndexList(params, "LocalSecondaryIndexes",
                                    "localSecondaryIndexes", /*global=*/false,
                                    &errors, &local_present, &local_indexes));
  API_RETURN_IF_ERROR(ReadIndexList(params, "GlobalSecondaryIndexes",
                                    "globalSecondaryIndexes", /*global=*/true,
                                    &errors, &global_present, &global_indexes));
  API_RETURN_IF_ERROR(errors.ToStatus());

  // CreateTable's own checks, in DynamoDB's order (dynalite's record):
  // billing and throughput, the key attributes' definitions, the key
  // schema's shape, then the indexes.
  schema.billing_mode = billing.value_or(BillingMode::kProvisioned);
  if (schema.billing_mode == BillingMode::kProvisioned &&
      throughput == nullptr) {
    return ApiError::Validation(
        "One or more parameter values were invalid: ReadCapacityUnits and "
        "WriteCapacityUnits must both be specified when BillingMode is "
        "PROVISIONED");
  }
  if (schema.billing_mode == BillingMode::kPayPerRequest &&
      throughput != nullptr) {
    return ThroughputWithPayPerRequest();
  }
  for (const auto& [units, name] :
       {std::pair{schema.read_capacity_units, "ReadCapacityUnits"},
        std::pair{schema.write_capacity_units, "WriteCapacityUnits"}}) {
    if (units > kMaxCapacityUnits) {
      return ApiError::Validation("Given value " + std::to_string(units) +
                                  " for " + name + " is out of bounds");
    }
  }
  std::vector<std::string> undefined;
  for (const auto& [name, type] : key_elements) {
    if (definitions.count(name) == 0) undefined.push_back(name);
  }
  const bool same_names = key_elements.size() == 2 &&
                          key_elements[0].first == key_elements[1].first;
  if ((!undefined.empty() &&
       (key_elements.size() == 2 || definitions.empty())) ||
      (same_names && definitions.size() == 1)) {
    return ApiError::Validation(
        "Invalid KeySchema: Some index key attribute have no definition");
  }
  if (!undefined.empty()) {
    std::string keys_text, defs_text;
    for (const auto& [name, type] : key_elements) {
      keys_text += (keys_text.empty() ? "" : ", ") + name;
    }
    for (const auto& d : schema.attribute_definitions) {
      defs_text += (defs_text.empty() ? "" : ", ") + d.name;
    }
    return ApiError::Validation(
        "One or more parameter values were invalid: Some index key attributes "
        "are not defined in AttributeDefinitions. Keys: [" +
        keys_text + "], AttributeDefinitions: [" + defs_text + "]");
  }
  if (same_names) {
    return ApiError::Validation(
        "Both the Hash Key and the Range Key element in the KeySchema have "
        "the same name");
  }
  if (key_elements[0].second != "HASH") {
    return ApiError::Validation(
        "Invalid KeySchema: The first KeySchemaElement is not a HASH key type");
  }
  if (key_elements.size() == 2 && key_elements[1].second != "RANGE") {
    return ApiError::Validation(
        "Invalid KeySchema: The second KeySchemaElement is not a RANGE key "
        "type");
  }
  if (!local_present && !global_present &&
      definitions.size() != key_elements.size()) {
    return ApiError::Validation(
        "One or more parameter values were invalid: Number of attributes in "
        "KeySchema does not exactly match number of attributes defined in "
        "AttributeDefinitions");
  }
  if (local_present && !local_indexes.empty() && key_elements.size() != 2) {
    return ApiError::Validation(
        "One or more parameter values were invalid: Table KeySchema does not "
        "have a range key, which is required when specifying a "
        "LocalSecondaryIndex");
  }
  if (local_present || global_present) {
    API_RETURN_IF_ERROR(CheckIndexDefinitions(key_elements, local_indexes,
                                              global_indexes,
                                              schema.attribute_definitions));
  }
  schema.hash_key = {key_elements[0].first, definitions[key_elements[0].first]};
  if (key_elements.size() == 2) {
    schema.range_key = store::KeyElement{key_elements[1].first,
                                         definitions[key_elements[1].first]};
  }

  API_RETURN_IF_ERROR(CheckCreateIndexes(local_indexes, local_present,
                                         global_indexes, global_present,
                                         definitions, &schema));
  std::optional<store::StreamUpdate> stream;
  API_RETURN_IF_ERROR(ReadStreamSpecification(params, &stream));
  if (stream && stream->enabled) schema.stream_view_type = stream->view_type;
  std::optional<bool> protection;
  API_RETURN_IF_ERROR(params.Bool("DeletionProtectionEnabled", &protection));
  schema.deletion_protection = protection.value_or(false);
  std::optional<std::string> table_class;
  API_RETURN_IF_ERROR(params.String("TableClass", &table_class));
  if (table_class) {
    if (*table_class != "STANDARD" &&
        *table_class != "STANDARD_INFREQUENT_ACCESS") {
      ConstraintErrors e;
      e.Add(*table_class, "tableClass",
            "Member must satisfy enum value set: [STANDARD, "
            "STANDARD_INFREQUENT_ACCESS]");
      return e.ToStatus();
    }
    schema.table_class = *table_class;
  }
  const rapidjson::Value* tags = nullptr;
  API_RETURN_IF_ERROR(params.Array("Tags", &tags));
  if (tags != nullptr) API_RETURN_IF_ERROR(ReadTags(*tags, &schema.tags));
  return ApiStatus();
}

ApiStatus CreateTable(const OperationContext& ctx,
                      const rapidjson::Value& request, JsonWriter* out) {
  TableSchema schema;
  API_RETURN_IF_ERROR(ReadCreateTableSchema(Params(request), &schema));
  Result<TableInfo> info = ctx.db->CreateTable(schema);
  if (!info.ok()) return info.status();
  if (ctx.capacity != nullptr) ctx.capacity->Configure(*info);
  // As DynamoDB answers CreateTable: the table and its GSIs are CREATING.
  info->status = TableStatus::kCreating;
  for (IndexInfo& index : info->indexes) {
    if (index.global) index.status = store::IndexStatus::kCreating;
  }
  WriteTableDescriptionResponse(ctx, *info, out);
  return ApiStatus();
}

ApiStatus DescribeTable(const OperationContext& ctx,
                        const rapidjson::Value& request, JsonWriter* out) {
  std::string name;
  API_RETURN_IF_ERROR(ReadTableName(Params(request), &name));
  // Also a table being restored (CREATING).
  std::optional<TableInfo> info = ctx.db->DescribeTable(name);
  if (!info) return ApiError::ResourceNotFound(TableNotFound(name));
  out->StartObject();
  out->Key("Table");
  WriteTableDescription(ctx, *info, out);
  out->EndObject();
  return ApiStatus();
}

ApiStatus DeleteTable(const OperationContext& ctx,
                      const rapidjson::Value& request, JsonWriter* out) {
  std::string name;
  API_RETURN_IF_ERROR(ReadTableName(Params(request), &name));
  if (ctx.db->GetTable(name) == nullptr) {
    std::optional<TableInfo> restoring = ctx.db->DescribeTable(name);
    if (restoring && restoring->status == TableStatus::kCreating) {
      return ApiError::ResourceInUse(
          "Attempt to change a resource which is still in use: Table is "
          "being created: " +
          name);
    }
  }
  if (std::shared_ptr<store::Table> table = ctx.db->GetTable(name)) {
    for (const IndexInfo& index : table->Describe().indexes) {
      if (index.status != store::IndexStatus::kActive) {
        return ApiError::ResourceInUse(
            "Attempt to change a resource which is still in use: Cannot delete "
            "table while indexes are being created, updated, or deleted.");
      }
    }
  }
  Result<TableInfo> info = ctx.db->DeleteTable(name);
  if (!info.ok()) return info.status();
  if (ctx.capacity != nullptr) ctx.capacity->Forget(name);
  WriteTableDescriptionResponse(ctx, *info, out);
  return ApiStatus();
}

ApiStatus UpdateTable(const OperationContext& ctx,
                      const rapidjson::Value& request, JsonWriter* out) {
  Params params(request);
  std::string name;
  API_RETURN_IF_ERROR(ReadTableName(params, &name));
  ConstraintErrors errors;
  store::TableUpdate update;
  API_RETURN_IF_ERROR(ReadBillingMode(params, &errors, &update.billing_mode));
  const rapidjson::Value* throughput = nullptr;
  API_RETURN_IF_ERROR(params.Object("ProvisionedThroughput", &throughput));
  int64_t rcu = 0, wcu = 0;
  if (throughput != nullptr) {
    API_RETURN_IF_ERROR(ReadThroughput(*throughput, &rcu, &wcu, &errors));
    update.read_capacity_units = rcu;
    update.write_capacity_units = wcu;
  }
  std::optional<bool> protection;
  API_RETURN_IF_ERROR(params.Bool("DeletionProtectionEnabled", &protection));
  update.deletion_protection = protection;
  const rapidjson::Value* index_json = nullptr;
  API_RETURN_IF_ERROR(params.Array("GlobalSecondaryIndexUpdates", &index_json));
  std::vector<IndexUpdateRequest> index_updates;
  std::string index_structural;
  if (index_json != nullptr) {
    API_RETURN_IF_ERROR(ReadGlobalIndexUpdates(
        *index_json, &errors, &index_updates, &index_structural));
  }
  const rapidjson::Value* defs_json = nullptr;
  API_RETURN_IF_ERROR(params.Array("AttributeDefinitions", &defs_json));
  std::map<std::string, ValueType> new_types;
  std::vector<store::AttributeDefinition> new_defs;
  if (defs_json != nullptr) {
    API_RETURN_IF_ERROR(
        ReadAttributeDefinitions(*defs_json, &errors, &new_types, &new_defs));
  }
  API_RETURN_IF_ERROR(errors.ToStatus());
  API_RETURN_IF_ERROR(ReadStreamSpecification(params, &update.stream));
  for (const char* unsupported : {"ReplicaUpdates", "SSESpecification"}) {
    if (params.Get(unsupported) != nullptr) return Unsupported(unsupported);
  }
  const bool other_change = update.billing_mode || throughput != nullptr ||
                            protection || update.stream;
  if (index_json != nullptr && index_json->Empty() && other_change) {
    return ApiError::Validation(std::string(kInvalidParameters) +
                                "List of GlobalSecondaryIndexUpdates is empty");
  }
  if (!index_structural.empty()) {
    return ApiError::Validation(index_structural);
  }
  API_RETURN_IF_ERROR(CheckIndexUpdatesShape(
      index_updates, throughput != nullptr, update.stream.has_value(),
      protection.has_value(), defs_json, new_types, new_defs));

  std::shared_ptr<store::Table> table;
  API_RETURN_IF_ERROR(DescribeExisting(ctx, name, &table));
  const TableInfo info_now = table->Describe();
  const BillingMode mode =
      update.billing_mode.value_or(info_now.schema.billing_mode);
  if (mode == BillingMode::kPayPerRequest && throughput != nullptr) {
    return ThroughputWithPayPerRequest();
  }
  if (mode == BillingMode::kProvisioned &&
      info_now.schema.billing_mode == BillingMode::kPayPerRequest &&
      throughput == nullptr) {
    return ApiError::Validation(
        "One or more parameter values were invalid: ProvisionedThroughput must "
        "be specified when BillingMode is PROVISIONED");
  }
  if (throughput != nullptr && !update.billing_mode &&
      info_now.schema.billing_mode == BillingMode::kProvisioned &&
      rcu == info_now.schema.read_capacity_units &&
      wcu == info_now.schema.write_capacity_units) {
    const std::string r = std::to_string(rcu), w = std::to_string(wcu);
    return ApiError::Validation(
        "The provisioned throughput for the table will not change. The "
        "requested value equals the current value. Current ReadCapacityUnits "
        "provisioned for the table: " +
        r + ". Requested ReadCapacityUnits: " + r +
        ". Current WriteCapacityUnits provisioned for the table: " + w +
        ". Requested WriteCapacityUnits: " + w +
        ". Refer to the Amazon DynamoDB Developer Guide for current limits and "
        "how to increase them.");
  }
  if (!update.billing_mode && throughput == nullptr && !protection &&
      !update.stream && index_updates.empty()) {
    return ApiError::Validation(
        "At least one of ProvisionedThroughput, BillingMode, "
        "UpdateStreamEnabled, "
        "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is "
        "required");
  }
  API_RETURN_IF_ERROR(ResolveIndexUpdates(
      index_updates, info_now, mode,
      update.billing_mode &&
          *update.billing_mode != info_now.schema.billing_mode,
      new_types, &update));
  Result<TableInfo> info = ctx.db->UpdateTable(name, update);
  if (!info.ok()) return info.status();
  // New throughput applies at once (DynamoDB takes a while to apply it).
  if (ctx.capacity != nullptr) ctx.capacity->Configure(*info);
  // As DynamoDB answers: a created index is CREATING, a deleted one
  // DELETING, whatever progress the store has made already.
  for (const store::GlobalIndexUpdate& g : update.global_indexes) {
    using Kind = store::GlobalIndexUpdate::Kind;
    if (g.kind == Kind::kUpdate) continue;
    auto it = std::find_if(
        info->indexes.begin(), info->indexes.end(),
        [&g](const IndexInfo& i) { return i.schema.name == g.index.name; });
    if (it == info->indexes.end() && g.kind == Kind::kDelete) {
      for (const IndexInfo& before : info_now.indexes) {
        if (before.schema.name == g.index.name) {
          it = info->indexes.insert(info->indexes.end(), before);
        }
      }
    }
    if (it == info->indexes.end()) continue;
    it->status = g.kind == Kind::kCreate ? store::IndexStatus::kCreating
                                         : store::IndexStatus::kDeleting;
    if (g.kind == Kind::kDelete) it->backfilling = false;
  }
  WriteTableDescriptionResponse(ctx, *info, out);
  return ApiStatus();
}

ApiStatus ListTables(const OperationContext& ctx,
                     const rapidjson::Value& request, JsonWriter* out) {
  Params params(request);
  std::optional<std::string> start;
  std::optional<int64_t> limit;
  API_RETURN_IF_ERROR(params.String("ExclusiveStartTableName", &start));
  API_RETURN_IF_ERROR(params.Int64("Limit", &limit));
  ConstraintErrors errors;
  if (limit && (*limit < 1 || *limit > 100)) {
    errors.Add(std::to_string(*limit), "limit",
               *limit < 1 ? "Member must have value greater than or equal to 1"
                          : "Member must have value less than or equal to 100");
  }
  if (start && (start->size() < 3 || start->size() > 255)) {
    errors.Add(*start, "exclusiveStartTableName",
               start->size() < 3
                   ? "Member must have length greater than or equal to 3"
                   : "Member must have length less than or equal to 255");
  }
  API_RETURN_IF_ERROR(errors.ToStatus());
  const size_t page = static_cast<size_t>(limit.value_or(100));
  // One extra name tells whether another page follows.
  std::vector<std::string> names = ctx.db->ListTables(start, page + 1);
  const bool more = names.size() > page;
  if (more) names.resize(page);
  out->StartObject();
  out->Key("TableNames");
  out->StartArray();
  for (const std::string& n : names) Str(out, n);
  out->EndArray();
  if (more) {
    out->Key("LastEvaluatedTableName");
    Str(out, names.back());
  }
  out->EndObject();
  return ApiStatus();
}

}  // namespace eddy::runtime::api
