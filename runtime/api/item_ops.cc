// PutItem, GetItem, DeleteItem, UpdateItem and the helpers shared with
// Query and Scan.
#include <algorithm>
#include <cmath>
#include <map>

#include "api/item_writer.h"
#include "api/legacy_params.h"
#include "api/operations.h"
#include "eddy/store/expression.h"

namespace eddy::runtime::api {
namespace {

using store::Item;

enum class ReturnValues { kNone, kAllOld, kUpdatedOld, kAllNew, kUpdatedNew };

ApiStatus ReadReturnValues(const Params& params, ReturnValues* out) {
  std::optional<std::string> text;
  API_RETURN_IF_ERROR(params.String("ReturnValues", &text));
  *out = ReturnValues::kNone;
  if (!text || *text == "NONE") return ApiStatus();
  if (*text == "ALL_OLD") {
    *out = ReturnValues::kAllOld;
  } else if (*text == "UPDATED_OLD") {
    *out = ReturnValues::kUpdatedOld;
  } else if (*text == "ALL_NEW") {
    *out = ReturnValues::kAllNew;
  } else if (*text == "UPDATED_NEW") {
    *out = ReturnValues::kUpdatedNew;
  } else {
    ConstraintErrors errors;
    errors.Add(*text, "returnValues",
               "Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, "
               "ALL_OLD, NONE, UPDATED_NEW]");
    return errors.ToStatus();
  }
  return ApiStatus();
}

ApiStatus RequireKey(const Params& params, std::optional<Item>* key) {
  API_RETURN_IF_ERROR(params.ItemMember("Key", key));
  if (!*key) {
    ConstraintErrors errors;
    errors.Add("null", "key", "Member must not be null");
    return errors.ToStatus();
  }
  return ApiStatus();
}

// What PutItem, DeleteItem and UpdateItem share: ReturnValues and its
// on-failure sibling, ReturnConsumedCapacity, and the ConditionExpression
// (parsed, with the UpdateExpression when there is one, against one set of
// substitutions) or its legacy forms, Expected (and AttributeUpdates).
struct WriteRequest {
  ReturnValues return_values = ReturnValues::kNone;
  bool return_old_on_failure = false;
  CapacityMode capacity = CapacityMode::kNone;
  bool collection_metrics = false;
  ExpressionInputs inputs;
  std::unique_ptr<store::Update> update;
  std::unique_ptr<store::Condition> condition;

  // An outcome that keeps only the images this request returns: the old
  // item for ALL_OLD, UPDATED_OLD or ReturnValuesOnConditionCheckFailure,
  // the new one for ALL_NEW, UPDATED_NEW, or (`metrics_from_new_item`) the
  // collection metrics.
  store::WriteOutcome Outcome(bool metrics_from_new_item) const {
    store::WriteOutcome outcome;
    outcome.want_old_item = return_old_on_failure ||
                            return_values == ReturnValues::kAllOld ||
                            return_values == ReturnValues::kUpdatedOld;
    outcome.want_new_item = (metrics_from_new_item && collection_metrics) ||
                            return_values == ReturnValues::kAllNew ||
                            return_values == ReturnValues::kUpdatedNew;
    return outcome;
  }

  // "ItemCollectionMetrics" of the collection `item` (or its key) is in,
  // when asked for and the table has a local secondary index.
  ApiStatus WriteMetrics(store::Table& table, const Item& item,
                         JsonWriter* out) const {
    if (!collection_metrics || !table.HasLocalIndexes()) return ApiStatus();
    out->Key("ItemCollectionMetrics");
    return WriteCollectionMetrics(table, item, out);
  }

  // The request's parameters other than the item or key, in DynamoDB's
  // order of checks once the item or key is read: ReturnValues' rule, then
  // the legacy AttributeUpdates and Expected, then the expressions.
  // `allow_update_modes`: UPDATED_*/ALL_NEW are allowed (UpdateItem only).
  // REQUIRES: CheckExpressionParams passed.
  ApiStatus Read(const Params& params, bool allow_update_modes) {
    API_RETURN_IF_ERROR(ReadReturnValues(params, &return_values));
    if (!allow_update_modes && return_values != ReturnValues::kNone &&
        return_values != ReturnValues::kAllOld) {
      return ApiError::Validation("ReturnValues can only be ALL_OLD or NONE");
    }
    API_RETURN_IF_ERROR(ReadReturnOnFailure(params, &return_old_on_failure));
    API_RETURN_IF_ERROR(ReadCapacityMode(params, &capacity));
    API_RETURN_IF_ERROR(ReadCollectionMetrics(params, &collection_metrics));
    return ApiStatus();
  }

  // The conditions and updates, after the item's own checks (PutItem's size).
  ApiStatus ReadConditions(const Params& params, bool allow_update_modes) {
    std::optional<std::string> update_text, condition_text;
    if (allow_update_modes) {
      API_RETURN_IF_ERROR(params.String("UpdateExpression", &update_text));
      if (!update_text) {
        API_RETURN_IF_ERROR(legacy::ReadAttributeUpdates(params, &update));
      }
    }
    API_RETURN_IF_ERROR(params.String("ConditionExpression", &condition_text));
    if (!condition_text) {
      API_RETURN_IF_ERROR(legacy::ReadExpected(params, &condition));
    }
    return ParseWriteExpressions(params, update_text, condition_text, &inputs,
                                 &update, &condition);
  }
};

// Converts a failed write into the API error, attaching the old item when
// ReturnValuesOnConditionCheckFailure is ALL_OLD. A failed condition still
// consumes write capacity, as on DynamoDB: the existing item's units (at
// least 1).
ApiStatus WriteFailure(const OperationContext& ctx, const std::string& table,
                       const Status& status, bool return_old,
                       const store::WriteOutcome& outcome) {
  if (status.IsConditionFailed()) {
    ReportConsumed(ctx, table, WriteUnits(outcome.old_size), /*write=*/true);
  }
  ApiError error = ApiError::FromStatus(status);
  if (status.IsConditionFailed() && return_old && outcome.old_item) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    WriteItemMember("Item", *outcome.old_item, &w);
    w.EndObject();
    std::string json(buf.GetString(), buf.GetSize());
    error.extra_json = json.substr(1, json.size() - 2);
  }
  return error;
}

void WriteAttributes(const Item& item, JsonWriter* out) {
  if (!item.empty()) WriteItemMember("Attributes", item, out);
}

}  // namespace

ApiStatus ReadReturnOnFailure(const Params& params, bool* all_old) {
  std::optional<std::string> text;
  API_RETURN_IF_ERROR(
      params.String("ReturnValuesOnConditionCheckFailure", &text));
  *all_old = false;
  if (!text || *text == "NONE") return ApiStatus();
  if (*text == "ALL_OLD") {
    *all_old = true;
    return ApiStatus();
  }
  ConstraintErrors errors;
  errors.Add(*text, "returnValuesOnConditionCheckFailure",
             "Member must satisfy enum value set: [ALL_OLD, NONE]");
  return errors.ToStatus();
}

ApiStatus ParseWriteExpressions(
    const Params& params, const std::optional<std::string>& update_text,
    const std::optional<std::string>& condition_text, ExpressionInputs* inputs,
    std::unique_ptr<store::Update>* update,
    std::unique_ptr<store::Condition>* condition) {
  API_RETURN_IF_ERROR(ReadExpressionMaps(params, inputs));
  store::ExpressionContext ectx(inputs->names ? &*inputs->names : nullptr,
                                inputs->values ? &*inputs->values : nullptr);
  if (update_text) {
    API_RETURN_IF_ERROR(
        CheckExpressionNotEmpty("UpdateExpression", update_text));
    Result<std::unique_ptr<store::Update>> u =
        store::Update::Parse(*update_text, &ectx);
    if (!u.ok()) return u.status();
    *update = std::move(*u);
  }
  if (condition_text) {
    API_RETURN_IF_ERROR(
        CheckExpressionNotEmpty("ConditionExpression", condition_text));
    Result<std::unique_ptr<store::Condition>> c =
        store::Condition::Parse(*condition_text, "ConditionExpression", &ectx);
    if (!c.ok()) return c.status();
    *condition = std::move(*c);
  }
  return ectx.CheckAllUsed();
}

namespace {

// "#name" / ":value": the marker and one or more of [0-9a-zA-Z_].
bool ValidSubstitutionKey(std::string_view key, char marker) {
  if (key.size() < 2 || key[0] != marker) return false;
  for (const char c : key.substr(1)) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

ApiStatus CheckExpressionParams(
    const Params& params, std::initializer_list<std::string_view> expressions,
    std::initializer_list<std::string_view> legacy) {
  // One pass over the request's members (a handful) records which of the
  // named parameters are present: bit i for expressions[i], bit 16 + i for
  // legacy[i].
  static constexpr uint32_t kLegacyShift = 16;
  uint32_t present = 0;
  bool names = false, values = false;
  bool key_conditions = false, key_condition_expression = false;
  for (const auto& m : params.object().GetObject()) {
    if (m.value.IsNull()) continue;
    const std::string_view name(m.name.GetString(), m.name.GetStringLength());
    uint32_t bit = 0;
    for (const std::string_view e : expressions) {
      if (name == e) present |= 1u << bit;
      ++bit;
    }
    bit = kLegacyShift;
    for (const std::string_view l : legacy) {
      if (name == l) present |= 1u << bit;
      ++bit;
    }
    names = names || name == "ExpressionAttributeNames";
    values = values || name == "ExpressionAttributeValues";
    key_conditions = key_conditions || name == "KeyConditions";
    key_condition_expression =
        key_condition_expression || name == "KeyConditionExpression";
  }
  const uint32_t expression_bits = present & ((1u << kLegacyShift) - 1);
  if (expression_bits != 0) {
    std::string used_expressions, used_legacy;
    uint32_t bit = 0;
    for (const std::string_view e : expressions) {
      if ((present >> bit++) & 1) {
        used_expressions += (used_expressions.empty() ? "" : ", ");
        used_expressions += e;
      }
    }
    bit = kLegacyShift;
    for (const std::string_view l : legacy) {
      const bool used = (present >> bit++) & 1;
      // KeyConditions only counts against a KeyConditionExpression.
      if (!used || (l == "KeyConditions" && key_conditions &&
                    !key_condition_expression)) {
        continue;
      }
      used_legacy += (used_legacy.empty() ? "" : ", ");
      used_legacy += l;
    }
    if (!used_legacy.empty()) {
      return ApiError::Validation(
          "Can not use both expression and non-expression parameters in the "
          "same request: Non-expression parameters: {" +
          used_legacy + "} Expression parameters: {" + used_expressions + "}");
    }
  }
  if (names && expression_bits == 0) {
    return ApiError::Validation(
        "ExpressionAttributeNames can only be specified when using "
        "expressions");
  }
  if (!values) return ApiStatus();
  // The expressions that take values (a projection takes none).
  std::string value_expressions;
  bool any_value_expression = false;
  size_t count = 0;
  uint32_t bit = 0;
  for (const std::string_view name : expressions) {
    const bool used = (present >> bit++) & 1;
    if (name == "ProjectionExpression") continue;
    value_expressions += (count++ > 0 ? " and " : "");
    value_expressions += name;
    any_value_expression = any_value_expression || used;
  }
  if (count > 0 && !any_value_expression) {
    return ApiError::Validation(
        "ExpressionAttributeValues can only be specified when using "
        "expressions: " +
        value_expressions + (count > 1 ? " are null" : " is null"));
  }
  return ApiStatus();
}

ApiStatus ReadExpressionMaps(const Params& params, ExpressionInputs* out,
                             bool with_values) {
  // Both maps in one pass over the request's members.
  const rapidjson::Value* names = nullptr;
  const rapidjson::Value* values = nullptr;
  for (const auto& m : params.object().GetObject()) {
    if (m.value.IsNull()) continue;
    const std::string_view name(m.name.GetString(), m.name.GetStringLength());
    if (name == "ExpressionAttributeNames") {
      names = &m.value;
    } else if (with_values && name == "ExpressionAttributeValues") {
      values = &m.value;
    }
  }
  if (names != nullptr) {
    API_RETURN_IF_ERROR(
        params.StringMap("ExpressionAttributeNames", &out->names));
    if (out->names->empty()) {
      return ApiError::Validation("ExpressionAttributeNames must not be empty");
    }
    for (const auto& [key, name] : *out->names) {
      if (!ValidSubstitutionKey(key, '#')) {
        return ApiError::Validation(
            "ExpressionAttributeNames contains invalid key: Syntax error; "
            "key: \"" +
            key + "\"");
      }
    }
  }
  if (values == nullptr) return ApiStatus();
  if (!values->IsObject()) return WrongType(*values, "Map");
  if (values->MemberCount() == 0) {
    return ApiError::Validation("ExpressionAttributeValues must not be empty");
  }
  for (const auto& m : values->GetObject()) {
    const std::string_view key(m.name.GetString(), m.name.GetStringLength());
    if (!ValidSubstitutionKey(key, ':')) {
      return ApiError::Validation(
          "ExpressionAttributeValues contains invalid key: Syntax error; "
          "key: \"" +
          std::string(key) + "\"");
    }
  }
  store::Item item;
  API_RETURN_IF_ERROR(ReadExpressionValues(*values, &item));
  out->values = std::move(item);
  return ApiStatus();
}

ApiStatus CheckExpressionNotEmpty(const char* name,
                                  const std::optional<std::string>& text) {
  if (text && text->empty()) {
    return ApiError::Validation(std::string("Invalid ") + name +
                                ": The expression can not be empty;");
  }
  return ApiStatus();
}

ApiStatus ReadExpressionText(const Params& params, const char* name,
                             std::optional<std::string>* out) {
  API_RETURN_IF_ERROR(params.String(name, out));
  if (*out && (*out)->empty()) {
    return ApiError::Validation(std::string("Invalid ") + name +
                                ": The expression can not be empty;");
  }
  return ApiStatus();
}

ApiStatus ReadExpressionInputs(const Params& params, bool used_expressions,
                               ExpressionInputs* out) {
  API_RETURN_IF_ERROR(
      params.StringMap("ExpressionAttributeNames", &out->names));
  API_RETURN_IF_ERROR(
      params.ItemMember("ExpressionAttributeValues", &out->values));
  if (out->names && !used_expressions) {
    return ApiError::Validation(
        "ExpressionAttributeNames can only be specified when using "
        "expressions");
  }
  if (out->values && !used_expressions) {
    return ApiError::Validation(
        "ExpressionAttributeValues can only be specified when using "
        "expressions");
  }
  if (out->names && out->names->empty()) {
    return ApiError::Validation("ExpressionAttributeNames must not be empty");
  }
  if (out->values && out->values->empty()) {
    return ApiError::Validation("ExpressionAttributeValues must not be empty");
  }
  return ApiStatus();
}

ApiStatus ReadCapacityMode(const Params& params, CapacityMode* mode) {
  std::optional<std::string> text;
  API_RETURN_IF_ERROR(params.String("ReturnConsumedCapacity", &text));
  *mode = CapacityMode::kNone;
  if (!text || *text == "NONE") return ApiStatus();
  if (*text == "TOTAL") {
    *mode = CapacityMode::kTotal;
  } else if (*text == "INDEXES") {
    *mode = CapacityMode::kIndexes;
  } else {
    ConstraintErrors errors;
    errors.Add(*text, "returnConsumedCapacity",
               "Member must satisfy enum value set: [INDEXES, TOTAL, NONE]");
    return errors.ToStatus();
  }
  return ApiStatus();
}

ApiStatus ReadCollectionMetrics(const Params& params, bool* size) {
  std::optional<std::string> text;
  API_RETURN_IF_ERROR(params.String("ReturnItemCollectionMetrics", &text));
  *size = text && *text == "SIZE";
  if (text && *text != "SIZE" && *text != "NONE") {
    ConstraintErrors errors;
    errors.Add(*text, "returnItemCollectionMetrics",
               "Member must satisfy enum value set: [SIZE, NONE]");
    return errors.ToStatus();
  }
  return ApiStatus();
}

ApiStatus WriteCollectionMetrics(store::Table& table, const Item& item,
                                 JsonWriter* out) {
  const std::string& hash = table.schema().hash_key.name;
  auto pk = item.find(hash);
  if (pk == item.end()) return ApiStatus();
  Result<int64_t> bytes = table.ItemCollectionSize(pk->second);
  if (!bytes.ok()) return bytes.status();
  // DynamoDB reports a range in GB that contains the size.
  const double lower =
      std::floor(static_cast<double>(*bytes) / (1024.0 * 1024.0 * 1024.0));
  out->StartObject();
  WriteItemMember("ItemCollectionKey", Item{{hash, pk->second}}, out);
  out->Key("SizeEstimateRangeGB");
  out->StartArray();
  out->Double(lower);
  out->Double(lower + 1);
  out->EndArray();
  out->EndObject();
  return ApiStatus();
}

ApiStatus WriteCollectionMetricsByTable(const std::vector<WrittenItem>& written,
                                        JsonWriter* out) {
  // Table name -> (table, partition keys already reported).
  std::map<std::string, std::vector<const WrittenItem*>> by_table;
  for (const WrittenItem& w : written) {
    if (!w.table->HasLocalIndexes()) continue;
    std::vector<const WrittenItem*>& items = by_table[w.table_name];
    const std::string& hash = w.table->schema().hash_key.name;
    auto pk = w.item.find(hash);
    const bool seen =
        std::any_of(items.begin(), items.end(), [&](const WrittenItem* other) {
          return other->item.find(hash)->second == pk->second;
        });
    if (!seen) items.push_back(&w);
  }
  if (by_table.empty()) return ApiStatus();
  out->Key("ItemCollectionMetrics");
  out->StartObject();
  for (const auto& [name, items] : by_table) {
    out->Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    out->StartArray();
    for (const WrittenItem* w : items) {
      API_RETURN_IF_ERROR(WriteCollectionMetrics(*w->table, w->item, out));
    }
    out->EndArray();
  }
  out->EndObject();
  return ApiStatus();
}

double WriteUnits(size_t bytes) {
  return std::max(1.0, std::ceil(static_cast<double>(bytes) / 1024.0));
}

double ReadUnits(size_t bytes, bool consistent) {
  const double units =
      std::max(1.0, std::ceil(static_cast<double>(bytes) / 4096.0));
  return consistent ? units : units / 2;
}

double Capacity::total() const {
  double sum = table;
  for (const auto& [name, units] : global_indexes) sum += units;
  for (const auto& [name, units] : local_indexes) sum += units;
  return sum;
}

void Capacity::Add(const Capacity& other) {
  table += other.table;
  for (const auto& [name, n] : other.global_indexes) global_indexes[name] += n;
  for (const auto& [name, n] : other.local_indexes) local_indexes[name] += n;
}

void WriteConsumedCapacity(CapacityMode mode, const std::string& table,
                           const Capacity& capacity, bool write,
                           JsonWriter* out) {
  if (mode == CapacityMode::kNone) return;
  out->Key("ConsumedCapacity");
  WriteCapacityObject(mode, table, capacity, write, out);
}

void WriteCapacityObject(CapacityMode mode, const std::string& table,
                         const Capacity& capacity, bool write,
                         JsonWriter* out) {
  const char* kind = write ? "WriteCapacityUnits" : "ReadCapacityUnits";
  auto units = [&](double n) {
    out->StartObject();
    out->Key("CapacityUnits");
    out->Double(n);
    out->Key(kind);
    out->Double(n);
    out->EndObject();
  };
  out->StartObject();
  out->Key("TableName");
  out->String(table.data(), static_cast<rapidjson::SizeType>(table.size()));
  out->Key("CapacityUnits");
  out->Double(capacity.total());
  out->Key(kind);
  out->Double(capacity.total());
  if (mode == CapacityMode::kIndexes) {
    out->Key("Table");
    units(capacity.table);
    for (const auto* indexes :
         {&capacity.global_indexes, &capacity.local_indexes}) {
      if (indexes->empty()) continue;
      out->Key(indexes == &capacity.global_indexes ? "GlobalSecondaryIndexes"
                                                   : "LocalSecondaryIndexes");
      out->StartObject();
      for (const auto& [name, n] : *indexes) {
        out->Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
        units(n);
      }
      out->EndObject();
    }
  }
  out->EndObject();
}

void WriteConsumedCapacity(CapacityMode mode, const std::string& table,
                           double units, bool write, JsonWriter* out) {
  WriteConsumedCapacity(mode, table, Capacity{units, {}, {}}, write, out);
}

Capacity WriteCapacity(const store::WriteOutcome& outcome) {
  Capacity capacity{
      WriteUnits(std::max(outcome.old_size, outcome.new_size)), {}, {}};
  for (const store::WriteOutcome::IndexWrite& w : outcome.index_writes) {
    double& units =
        (w.global ? capacity.global_indexes : capacity.local_indexes)[w.index];
    for (size_t size : w.entry_sizes) units += WriteUnits(size);
  }
  return capacity;
}

ApiStatus RejectUnsupported(const Params& params,
                            std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (params.Get(name) != nullptr) {
      return ApiError::Validation(std::string(name) +
                                  " is not supported by this version of Eddy");
    }
  }
  return ApiStatus();
}

ApiStatus PutItem(const OperationContext& ctx, const rapidjson::Value& request,
                  JsonWriter* out) {
  // The schema has checked the members' types and constraints; these are
  // PutItem's own checks, in DynamoDB's order.
  Params params(request);
  std::string table_name;
  API_RETURN_IF_ERROR(ReadCheckedTableName(params, &table_name));
  API_RETURN_IF_ERROR(CheckExpressionParams(
      params, {"ConditionExpression"}, {"Expected", "ConditionalOperator"}));
  std::optional<Item> item;
  API_RETURN_IF_ERROR(params.ItemMember("Item", &item));
  if (!item) {
    ConstraintErrors errors;
    errors.Add("null", "item", "Member must not be null");
    return errors.ToStatus();
  }
  WriteRequest write;
  API_RETURN_IF_ERROR(write.Read(params, /*allow_update_modes=*/false));
  // Before the table is looked up, as DynamoDB does.
  if (ctx.request_bytes > store::kMaxItemSize &&
      store::ItemSize(*item) > store::kMaxItemSize) {
    return ApiError::Validation(
        "Item size has exceeded the maximum allowed size");
  }
  API_RETURN_IF_ERROR(
      write.ReadConditions(params, /*allow_update_modes=*/false));

  std::shared_ptr<store::Table> table;
  API_RETURN_IF_ERROR(FindTable(ctx, table_name, &table));
  store::WriteOutcome outcome = write.Outcome(/*metrics_from_new_item=*/true);
  Status s = table->Put(std::move(*item), write.condition.get(), &outcome);
  if (!s.ok()) {
    return WriteFailure(ctx, table_name, s, write.return_old_on_failure,
                        outcome);
  }
  out->StartObject();
  if (write.return_values == ReturnValues::kAllOld && outcome.old_item) {
    WriteAttributes(*outcome.old_item, out);
  }
  const Capacity used = WriteCapacity(outcome);
  ReportConsumed(ctx, table_name, used, /*write=*/true);
  WriteConsumedCapacity(write.capacity, table_name, used, true, out);
  API_RETURN_IF_ERROR(write.WriteMetrics(
      *table, outcome.new_item ? *outcome.new_item : Item(), out));
  out->EndObject();
  return ApiStatus();
}

ApiStatus GetItem(const OperationContext& ctx, const rapidjson::Value& request,
                  JsonWriter* out) {
  // GetItem's own checks, in DynamoDB's order, after the schema's.
  Params params(request);
  std::string table_name;
  API_RETURN_IF_ERROR(ReadCheckedTableName(params, &table_name));
  API_RETURN_IF_ERROR(CheckExpressionParams(params, {"ProjectionExpression"},
                                            {"AttributesToGet"}));
  std::optional<Item> key;
  API_RETURN_IF_ERROR(RequireKey(params, &key));
  std::optional<store::Projection> projection;
  API_RETURN_IF_ERROR(
      legacy::ReadAttributesToGet(params, "attributesToGet", &projection));
  std::optional<bool> consistent;
  API_RETURN_IF_ERROR(params.Bool("ConsistentRead", &consistent));
  CapacityMode capacity;
  API_RETURN_IF_ERROR(ReadCapacityMode(params, &capacity));
  std::optional<std::string> projection_text;
  API_RETURN_IF_ERROR(params.String("ProjectionExpression", &projection_text));
  // GetItem has no ExpressionAttributeValues (ignored, as any unknown
  // member).
  ExpressionInputs inputs;
  API_RETURN_IF_ERROR(
      ReadExpressionMaps(params, &inputs, /*with_values=*/false));
  store::ExpressionContext ectx(inputs.names ? &*inputs.names : nullptr,
                                nullptr);
  if (projection_text) {
    API_RETURN_IF_ERROR(
        CheckExpressionNotEmpty("ProjectionExpression", projection_text));
    Result<store::Projection> p =
        store::Projection::Parse(*projection_text, &ectx);
    if (!p.ok()) return p.status();
    projection = std::move(*p);
  }
  API_RETURN_IF_ERROR(ectx.CheckAllUsed());

  std::shared_ptr<store::Table> table;
  API_RETURN_IF_ERROR(FindTable(ctx, table_name, &table));
  Result<std::optional<std::string>> item = table->GetEncoded(*key);
  if (!item.ok()) return item.status();
  out->StartObject();
  size_t size = 0;
  if (item->has_value()) {
    out->Key("Item");
    const ItemWriter writer(projection ? &*projection : nullptr);
    Result<size_t> written = writer.WriteEncoded(**item, out);
    if (!written.ok()) return written.status();
    size = *written;
  }
  const double units = ReadUnits(size, consistent.value_or(false));
  ReportConsumed(ctx, table_name, units, /*write=*/false);
  WriteConsumedCapacity(capacity, table_name, units, false, out);
  out->EndObject();
  return ApiStatus();
}

ApiStatus DeleteItem(const OperationContext& ctx,
                     const rapidjson::Value& request, JsonWriter* out) {
  Params params(request);
  std::string table_name;
  API_RETURN_IF_ERROR(ReadCheckedTableName(params, &table_name));
  API_RETURN_IF_ERROR(CheckExpressionParams(
      params, {"ConditionExpression"}, {"Expected", "ConditionalOperator"}));
  std::optional<Item> key;
  API_RETURN_IF_ERROR(RequireKey(params, &key));
  WriteRequest write;
  API_RETURN_IF_ERROR(write.Read(params, /*allow_update_modes=*/false));
  API_RETURN_IF_ERROR(
      write.ReadConditions(params, /*allow_update_modes=*/false));

  std::shared_ptr<store::Table> table;
  API_RETURN_IF_ERROR(FindTable(ctx, table_name, &table));
  store::WriteOutcome outcome = write.Outcome(/*metrics_from_new_item=*/false);
  Status s = table->Delete(*key, write.condition.get(), &outcome);
  if (!s.ok()) {
    return WriteFailure(ctx, table_name, s, write.return_old_on_failure,
                        outcome);
  }
  out->StartObject();
  if (write.return_values == ReturnValues::kAllOld && outcome.old_item) {
    WriteAttributes(*outcome.old_item, out);
  }
  const Capacity used = WriteCapacity(outcome);
  ReportConsumed(ctx, table_name, used, /*write=*/true);
  WriteConsumedCapacity(write.capacity, table_name, used, true, out);
  API_RETURN_IF_ERROR(write.WriteMetrics(*table, *key, out));
  out->EndObject();
  return ApiStatus();
}

ApiStatus UpdateItem(const OperationContext& ctx,
                     const rapidjson::Value& request, JsonWriter* out) {
  Params params(request);
  std::string table_name;
  API_RETURN_IF_ERROR(ReadCheckedTableName(params, &table_name));
  API_RETURN_IF_ERROR(CheckExpressionParams(
      params, {"UpdateExpression", "ConditionExpression"},
      {"AttributeUpdates", "Expected", "ConditionalOperator"}));
  std::optional<Item> key;
  API_RETURN_IF_ERROR(RequireKey(params, &key));
  WriteRequest write;
  API_RETURN_IF_ERROR(write.Read(params, /*allow_update_modes=*/true));
  API_RETURN_IF_ERROR(
      write.ReadConditions(params, /*allow_update_modes=*/true));
  const store::Update* update = write.update.get();
  const ReturnValues rv = write.return_values;

  std::shared_ptr<store::Table> table;
  API_RETURN_IF_ERROR(FindTable(ctx, table_name, &table));
  store::WriteOutcome outcome = write.Outcome(/*metrics_from_new_item=*/false);
  Status s = table->UpdateItem(*key, update, write.condition.get(), &outcome);
  if (!s.ok()) {
    return WriteFailure(ctx, table_name, s, write.return_old_on_failure,
                        outcome);
  }

  out->StartObject();
  switch (rv) {
    case ReturnValues::kNone:
      break;
    case ReturnValues::kAllOld:
      if (outcome.old_item) WriteAttributes(*outcome.old_item, out);
      break;
    case ReturnValues::kAllNew:
      if (outcome.new_item) WriteAttributes(*outcome.new_item, out);
      break;
    case ReturnValues::kUpdatedOld:
    case ReturnValues::kUpdatedNew: {
      const std::optional<Item>& source =
          rv == ReturnValues::kUpdatedOld ? outcome.old_item : outcome.new_item;
      if (source && update) {
        WriteAttributes(store::Projection(update->paths()).Apply(*source), out);
      }
      break;
    }
  }
  const Capacity used = WriteCapacity(outcome);
  ReportConsumed(ctx, table_name, used, /*write=*/true);
  WriteConsumedCapacity(write.capacity, table_name, used, true, out);
  API_RETURN_IF_ERROR(write.WriteMetrics(*table, *key, out));
  out->EndObject();
  return ApiStatus();
}

}  // namespace eddy::runtime::api
