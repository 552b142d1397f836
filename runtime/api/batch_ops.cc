// BatchWriteItem and BatchGetItem.
//
// Both validate the whole request before touching any item, as DynamoDB
// does. Writes of a batch are independent (not one transaction); each
// produces its own stream record. UnprocessedKeys holds the keys beyond the
// 16 MB response limit; with provisioned capacity enforced (capacity.h),
// each item is admitted on its own, and the items of a table whose
// capacity is used up come back in UnprocessedItems / UnprocessedKeys while
// the others are served. Only when no item at all could be served is the
// call ProvisionedThroughputExceededException, as on DynamoDB.
#include "api/item_writer.h"
#include "api/legacy_params.h"
#include "api/operations.h"
#include "eddy/store/expression.h"

namespace eddy::runtime::api {
namespace {

using store::Item;

constexpr size_t kMaxBatchWrites = 25;
constexpr size_t kMaxBatchGetKeys = 100;
constexpr size_t kMaxBatchGetBytes = 16 * 1024 * 1024;

void Str(JsonWriter* w, std::string_view s) {
  w->String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// The key attributes of `item` under `schema` (missing ones are left out;
// the store reports them).
Item KeyOf(const store::TableSchema& schema, const Item& item) {
  Item key;
  for (const std::string* name :
       {&schema.hash_key.name,
        schema.range_key ? &schema.range_key->name : nullptr}) {
    if (name == nullptr) continue;
    auto it = item.find(*name);
    if (it != item.end()) key.emplace(*name, it->second);
  }
  return key;
}

ApiError Duplicates() {
  return ApiError::Validation("Provided list of item keys contains duplicates");
}

// RequestItems (required, non-empty) and ReturnConsumedCapacity, which both
// batch operations take.
ApiStatus ReadBatchRequest(const Params& params,
                           const rapidjson::Value** request_items,
                           CapacityMode* capacity) {
  API_RETURN_IF_ERROR(params.Object("RequestItems", request_items));
  API_RETURN_IF_ERROR(ReadCapacityMode(params, capacity));
  ConstraintErrors errors;
  if (*request_items == nullptr) {
    errors.Add("null", "requestItems", "Member must not be null");
  } else if ((*request_items)->MemberCount() == 0) {
    errors.Add("{}", "requestItems",
               "Member must have length greater than or equal to 1");
  }
  return errors.ToStatus();
}

struct PendingWrite {
  std::shared_ptr<store::Table> table;
  std::string table_name;
  bool is_put = false;
  Item item;  // The item (put) or the key (delete).
};

}  // namespace

ApiStatus BatchWriteItem(const OperationContext& ctx,
                         const rapidjson::Value& request, JsonWriter* out) {
  Params params(request);
  const rapidjson::Value* request_items = nullptr;
  CapacityMode capacity;
  API_RETURN_IF_ERROR(ReadBatchRequest(params, &request_items, &capacity));
  bool collection_metrics = false;
  API_RETURN_IF_ERROR(ReadCollectionMetrics(params, &collection_metrics));
  ConstraintErrors errors;
  std::vector<PendingWrite> writes;
  for (const auto& member : request_items->GetObject()) {
    const std::string table_name(member.name.GetString(),
                                 member.name.GetStringLength());
    if (!member.value.IsArray()) return WrongType(member.value, "List");
    const size_t count = member.value.Size();
    if (count < 1 || count > kMaxBatchWrites) {
      errors.Add("{...}", "requestItems",
                 "Map value must satisfy constraint: [Member must have length "
                 "less than or equal to 25, Member must have length greater "
                 "than or equal to 1]");
      return errors.ToStatus();
    }
    // A WriteRequest with neither member: DynamoDB's (recorded) text.
    for (const rapidjson::Value& w : member.value.GetArray()) {
      if (w.IsObject() && Params(w).Get("PutRequest") == nullptr &&
          Params(w).Get("DeleteRequest") == nullptr) {
        return ApiError::Validation(
            "Supplied AttributeValue has more than one datatypes set, must "
            "contain exactly one of the supported datatypes");
      }
    }
    for (const rapidjson::Value& w : member.value.GetArray()) {
      if (!w.IsObject()) return WrongType(w, "Structure");
      Params wp(w);
      const rapidjson::Value* put = nullptr;
      const rapidjson::Value* del = nullptr;
      API_RETURN_IF_ERROR(wp.Object("PutRequest", &put));
      API_RETURN_IF_ERROR(wp.Object("DeleteRequest", &del));
      if (put != nullptr && del != nullptr) {
        return ApiError::Validation(
            "Supplied WriteRequest must contain exactly one of PutRequest or "
            "DeleteRequest");
      }
      PendingWrite pending;
      pending.table_name = table_name;
      pending.is_put = put != nullptr;
      std::optional<Item> value;
      API_RETURN_IF_ERROR(
          Params(put ? *put : *del).ItemMember(put ? "Item" : "Key", &value));
      if (!value) {
        errors.Add("null", put ? "item" : "key", "Member must not be null");
        return errors.ToStatus();
      }
      // Before any table is looked up, as DynamoDB does.
      if (pending.is_put && ctx.request_bytes > store::kMaxItemSize &&
          store::ItemSize(*value) > store::kMaxItemSize) {
        return ApiError::Validation(
            "Item size has exceeded the maximum allowed size");
      }
      pending.item = std::move(*value);
      writes.push_back(std::move(pending));
    }
  }
  if (writes.size() > kMaxBatchWrites) {
    errors.Add("{...}", "requestItems",
               "Map value must satisfy constraint: [Member must have length "
               "less than or equal to 25, Member must have length greater "
               "than or equal to 1]");
    return errors.ToStatus();
  }
  // Tables, keys and items are all checked before anything is written.
  std::map<std::string, std::vector<Item>> keys_by_table;
  for (PendingWrite& w : writes) {
    API_RETURN_IF_ERROR(ValidateTableName(w.table_name));
    API_RETURN_IF_ERROR(FindTable(ctx, w.table_name, &w.table));
    const store::TableSchema& schema = w.table->schema();
    Item key = w.is_put ? KeyOf(schema, w.item) : w.item;
    if (w.is_put) {
      API_RETURN_IF_ERROR(w.table->ValidateItem(w.item));
    } else {
      API_RETURN_IF_ERROR(w.table->ValidateKey(w.item));
    }
    std::vector<Item>& seen = keys_by_table[w.table_name];
    for (const Item& k : seen) {
      if (k == key) return Duplicates();
    }
    seen.push_back(std::move(key));
  }

  std::map<std::string, Capacity> units;
  std::vector<WrittenItem> written;
  // Writes refused for want of capacity, in request order.
  std::vector<const PendingWrite*> unprocessed;
  ApiStatus throttled;
  for (PendingWrite& w : writes) {
    ApiStatus admitted = AdmitCapacity(ctx, w.table_name, /*write=*/true);
    if (!admitted.ok()) {
      if (throttled.ok()) throttled = std::move(admitted);
      unprocessed.push_back(&w);
      continue;
    }
    if (collection_metrics) {
      written.push_back(
          {w.table_name, w.table, KeyOf(w.table->schema(), w.item)});
    }
    store::WriteOutcome outcome;  // Only its sizes are read.
    outcome.want_old_item = outcome.want_new_item = false;
    Status s = w.is_put ? w.table->Put(std::move(w.item), nullptr, &outcome)
                        : w.table->Delete(w.item, nullptr, &outcome);
    if (!s.ok()) return s;
    const Capacity used = WriteCapacity(outcome);
    ReportConsumed(ctx, w.table_name, used, /*write=*/true);
    units[w.table_name].Add(used);
  }
  if (unprocessed.size() == writes.size()) return throttled;

  out->StartObject();
  out->Key("UnprocessedItems");
  out->StartObject();
  // Each table's refused writes, as they were requested.
  for (size_t i = 0; i < unprocessed.size();) {
    const std::string& table = unprocessed[i]->table_name;
    out->Key(table.data(), static_cast<rapidjson::SizeType>(table.size()));
    out->StartArray();
    for (; i < unprocessed.size() && unprocessed[i]->table_name == table; ++i) {
      const PendingWrite& w = *unprocessed[i];
      out->StartObject();
      out->Key(w.is_put ? "PutRequest" : "DeleteRequest");
      out->StartObject();
      WriteItemMember(w.is_put ? "Item" : "Key", w.item, out);
      out->EndObject();
      out->EndObject();
    }
    out->EndArray();
  }
  out->EndObject();
  if (capacity != CapacityMode::kNone) {
    out->Key("ConsumedCapacity");
    out->StartArray();
    for (const auto& [table, capacity_used] : units) {
      WriteCapacityObject(capacity, table, capacity_used, /*write=*/true, out);
    }
    out->EndArray();
  }
  API_RETURN_IF_ERROR(WriteCollectionMetricsByTable(written, out));
  out->EndObject();
  return ApiStatus();
}

ApiStatus BatchGetItem(const OperationContext& ctx,
                       const rapidjson::Value& request, JsonWriter* out) {
  Params params(request);
  const rapidjson::Value* request_items = nullptr;
  CapacityMode capacity;
  API_RETURN_IF_ERROR(ReadBatchRequest(params, &request_items, &capacity));
  ConstraintErrors errors;

  struct TableRead {
    std::string name;
    std::shared_ptr<store::Table> table;
    std::vector<Item> keys;
    bool consistent = false;
    ExpressionInputs inputs;
    std::optional<store::Projection> projection;
    const rapidjson::Value* json = nullptr;  // For UnprocessedKeys.
  };
  std::vector<TableRead> reads;
  size_t total_keys = 0;
  for (const auto& member : request_items->GetObject()) {
    TableRead r;
    r.name.assign(member.name.GetString(), member.name.GetStringLength());
    if (!member.value.IsObject()) return WrongType(member.value, "Structure");
    r.json = &member.value;
    // Each table's own checks, in DynamoDB's order (the schema has checked
    // types and constraints).
    Params tp(member.value);
    API_RETURN_IF_ERROR(CheckExpressionParams(tp, {"ProjectionExpression"},
                                              {"AttributesToGet"}));
    const rapidjson::Value* keys = nullptr;
    API_RETURN_IF_ERROR(tp.Array("Keys", &keys));
    if (keys == nullptr) {
      errors.Add("null", "requestItems." + r.name + ".member.keys",
                 "Member must not be null");
      return errors.ToStatus();
    }
    for (const rapidjson::Value& k : keys->GetArray()) {
      Item key;
      API_RETURN_IF_ERROR(ReadItem(k, &key));
      r.keys.push_back(std::move(key));
    }
    total_keys += r.keys.size();
    API_RETURN_IF_ERROR(legacy::ReadAttributesToGet(
        tp, "requestItems." + r.name + ".member.attributesToGet",
        &r.projection));
    std::optional<bool> consistent;
    API_RETURN_IF_ERROR(tp.Bool("ConsistentRead", &consistent));
    r.consistent = consistent.value_or(false);
    std::optional<std::string> projection_text;
    API_RETURN_IF_ERROR(tp.String("ProjectionExpression", &projection_text));
    API_RETURN_IF_ERROR(
        ReadExpressionMaps(tp, &r.inputs, /*with_values=*/false));
    store::ExpressionContext ectx(r.inputs.names ? &*r.inputs.names : nullptr,
                                  nullptr);
    if (projection_text) {
      API_RETURN_IF_ERROR(
          CheckExpressionNotEmpty("ProjectionExpression", projection_text));
      Result<store::Projection> p =
          store::Projection::Parse(*projection_text, &ectx);
      if (!p.ok()) return p.status();
      r.projection = std::move(*p);
    }
    API_RETURN_IF_ERROR(ectx.CheckAllUsed());
    // Duplicates are found without the key schema: the same attributes
    // with the same values.
    for (size_t i = 0; i < r.keys.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (r.keys[j] == r.keys[i]) return Duplicates();
      }
    }
    reads.push_back(std::move(r));
  }
  if (total_keys > kMaxBatchGetKeys) {
    return ApiError::Validation(
        "Too many items requested for the BatchGetItem call");
  }
  for (TableRead& r : reads) {
    API_RETURN_IF_ERROR(ValidateTableName(r.name));
    API_RETURN_IF_ERROR(FindTable(ctx, r.name, &r.table));
    for (const Item& key : r.keys) {
      API_RETURN_IF_ERROR(r.table->ValidateKey(key));
    }
  }

  size_t bytes = 0;
  std::map<std::string, double> units;
  // Keys not read because the response reached 16 MB or the table's
  // capacity was used up, per table.
  std::map<std::string, std::vector<size_t>> unprocessed;
  ApiStatus throttled;
  bool served = false;
  out->StartObject();
  out->Key("Responses");
  out->StartObject();
  for (TableRead& r : reads) {
    out->Key(r.name.data(), static_cast<rapidjson::SizeType>(r.name.size()));
    out->StartArray();
    const ItemWriter writer(r.projection ? &*r.projection : nullptr);
    for (size_t i = 0; i < r.keys.size(); ++i) {
      if (bytes >= kMaxBatchGetBytes) {
        unprocessed[r.name].push_back(i);
        continue;
      }
      ApiStatus admitted = AdmitCapacity(ctx, r.name, /*write=*/false);
      if (!admitted.ok()) {
        if (throttled.ok()) throttled = std::move(admitted);
        unprocessed[r.name].push_back(i);
        continue;
      }
      served = true;
      Result<std::optional<std::string>> item = r.table->GetEncoded(r.keys[i]);
      if (!item.ok()) return item.status();
      // Each key is read as a GetItem: a missing item costs the minimum.
      size_t size = 0;
      if (item->has_value()) {
        Result<size_t> written = writer.WriteEncoded(**item, out);
        if (!written.ok()) return written.status();
        size = *written;
      }
      bytes += size;
      const double used = ReadUnits(size, r.consistent);
      ReportConsumed(ctx, r.name, used, /*write=*/false);
      units[r.name] += used;
    }
    out->EndArray();
  }
  if (!served && !throttled.ok()) return throttled;
  out->EndObject();
  out->Key("UnprocessedKeys");
  out->StartObject();
  for (const TableRead& r : reads) {
    auto it = unprocessed.find(r.name);
    if (it == unprocessed.end()) continue;
    out->Key(r.name.data(), static_cast<rapidjson::SizeType>(r.name.size()));
    out->StartObject();
    out->Key("Keys");
    out->StartArray();
    for (size_t i : it->second) WriteItem(r.keys[i], out);
    out->EndArray();
    // The rest of the table's request goes back as it was sent.
    for (const auto& m : r.json->GetObject()) {
      if (std::string_view(m.name.GetString()) == "Keys") continue;
      out->Key(m.name.GetString(), m.name.GetStringLength());
      m.value.Accept(*out);
    }
    out->EndObject();
  }
  out->EndObject();
  if (capacity != CapacityMode::kNone) {
    out->Key("ConsumedCapacity");
    out->StartArray();
    for (const TableRead& r : reads) {
      out->StartObject();
      out->Key("TableName");
      Str(out, r.name);
      out->Key("CapacityUnits");
      out->Double(units[r.name]);
      out->Key("ReadCapacityUnits");
      out->Double(units[r.name]);
      out->EndObject();
    }
    out->EndArray();
  }
  out->EndObject();
  return ApiStatus();
}

}  // namespace eddy::runtime::api
