// Query and Scan.
#include <algorithm>

#include "api/item_writer.h"
#include "api/legacy_params.h"
#include "api/operations.h"
#include "eddy/store/expression.h"

namespace eddy::runtime::api {
namespace {

using store::Item;

enum class Select {
  kAllAttributes,
  kSpecificAttributes,
  kCount,
  kAllProjected,  // ALL_PROJECTED_ATTRIBUTES: an index's entries as they are.
};

// The parameters Query and Scan share.
struct ReadParams {
  std::string table_name;
  std::optional<std::string> index_name;
  Select select = Select::kAllAttributes;
  bool select_given = false;  // Select was in the request.
  std::optional<int64_t> limit;
  std::optional<Item> exclusive_start_key;
  bool consistent = false;
  CapacityMode capacity = CapacityMode::kNone;
  std::optional<std::string> filter_text;
  std::optional<std::string> projection_text;
  std::optional<store::Projection> attributes_to_get;  // Legacy projection.
  ExpressionInputs inputs;
};

// ExclusiveStartKey's values: DynamoDB prefixes most of their errors with
// "The provided starting key is invalid: ", but not (recorded) an empty
// number set's, duplicates in a set, or a number's.
ApiStatus ReadStartKey(const Params& params, std::optional<Item>* out) {
  ApiStatus status = params.ItemMember("ExclusiveStartKey", out);
  if (status.ok()) return status;
  ApiError& e = status.error();
  if (e.type.ends_with("#ValidationException")) {
    const std::string& m = e.message;
    const bool bare = m.find("number set") != std::string::npos ||
                      m.find("duplicates") != std::string::npos ||
                      m.find("numeric") != std::string::npos ||
                      m.find("Number") != std::string::npos ||
                      m.find("significant digits") != std::string::npos;
    if (!bare) e.message = "The provided starting key is invalid: " + m;
  }
  return status;
}

// Select and the projection it goes with.
ApiStatus CheckSelect(const std::optional<std::string>& select,
                      ReadParams* out) {
  out->select_given = select.has_value();
  const bool projects =
      out->projection_text.has_value() || out->attributes_to_get.has_value();
  if (select) {
    if (*select == "SPECIFIC_ATTRIBUTES") {
      out->select = Select::kSpecificAttributes;
    } else if (*select == "COUNT") {
      out->select = Select::kCount;
    } else if (*select == "ALL_PROJECTED_ATTRIBUTES") {
      if (!out->index_name) {
        return ApiError::Validation(
            "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an "
            "IndexName");
      }
      out->select = Select::kAllProjected;
    } else {
      out->select = Select::kAllAttributes;
    }
  } else if (projects) {
    out->select = Select::kSpecificAttributes;
  }
  if (out->select == Select::kSpecificAttributes && !projects) {
    return ApiError::Validation(
        "Must specify the AttributesToGet or ProjectionExpression when "
        "choosing to get SPECIFIC_ATTRIBUTES");
  }
  if (out->select != Select::kSpecificAttributes && projects) {
    return ApiError::Validation(
        std::string("Cannot specify the ") +
        (out->projection_text ? "ProjectionExpression" : "AttributesToGet") +
        " when choosing to get " +
        (out->select == Select::kCount          ? "only the Count"
         : out->select == Select::kAllProjected ? "ALL_PROJECTED_ATTRIBUTES"
                                                : "ALL_ATTRIBUTES"));
  }
  return ApiStatus();
}

// The plain members Query and Scan share (their types and constraints
// already checked by the schema).
ApiStatus ReadCommon(const Params& params, ReadParams* out) {
  API_RETURN_IF_ERROR(ReadCheckedTableName(params, &out->table_name));
  API_RETURN_IF_ERROR(params.String("IndexName", &out->index_name));
  API_RETURN_IF_ERROR(params.Int64("Limit", &out->limit));
  std::optional<bool> consistent;
  API_RETURN_IF_ERROR(params.Bool("ConsistentRead", &consistent));
  out->consistent = consistent.value_or(false);
  API_RETURN_IF_ERROR(ReadCapacityMode(params, &out->capacity));
  API_RETURN_IF_ERROR(params.String("FilterExpression", &out->filter_text));
  API_RETURN_IF_ERROR(
      params.String("ProjectionExpression", &out->projection_text));
  return ApiStatus();
}

// Parses the filter and projection of a read into `ectx`.
ApiStatus ParseReadExpressions(const ReadParams& p,
                               store::ExpressionContext* ectx,
                               std::unique_ptr<store::Condition>* filter,
                               std::optional<store::Projection>* projection) {
  if (p.filter_text) {
    API_RETURN_IF_ERROR(
        CheckExpressionNotEmpty("FilterExpression", p.filter_text));
    Result<std::unique_ptr<store::Condition>> c =
        store::Condition::Parse(*p.filter_text, "FilterExpression", ectx);
    if (!c.ok()) return c.status();
    *filter = std::move(*c);
  }
  if (p.projection_text) {
    API_RETURN_IF_ERROR(
        CheckExpressionNotEmpty("ProjectionExpression", p.projection_text));
    Result<store::Projection> pr =
        store::Projection::Parse(*p.projection_text, ectx);
    if (!pr.ok()) return pr.status();
    *projection = std::move(*pr);
  } else if (p.attributes_to_get) {
    *projection = *p.attributes_to_get;
  }
  return ApiStatus();
}

// The secondary index a read names (IndexName), as the table has it now.
struct IndexTarget {
  store::IndexSchema schema;
  bool global = true;
};

// `index`: the index read, or null for the table. `writer` writes the
// page's items, in whichever form the store returned them.
ApiStatus WritePage(const OperationContext& ctx, const ReadParams& p,
                    const store::ReadPage& page, const ItemWriter& writer,
                    const IndexTarget* index, JsonWriter* out) {
  out->StartObject();
  if (p.select != Select::kCount) {
    out->Key("Items");
    out->StartArray();
    for (const Item& item : page.items) writer.WriteDecoded(item, out);
    for (size_t i = 0; i < page.encoded_items.size(); ++i) {
      Result<size_t> written = writer.WriteEncoded(page.encoded_items[i], out);
      if (!written.ok()) return written.status();
    }
    out->EndArray();
  }
  out->Key("Count");
  out->Int64(static_cast<int64_t>(page.count()));
  out->Key("ScannedCount");
  out->Int64(page.scanned_count);
  if (page.last_evaluated_key) {
    WriteItemMember("LastEvaluatedKey", *page.last_evaluated_key, out);
  }
  // A read of an index consumes the index's capacity.
  const double units = ReadUnits(page.scanned_bytes, p.consistent);
  Capacity capacity;
  if (index == nullptr) {
    capacity.table = units;
  } else {
    (index->global ? capacity.global_indexes
                   : capacity.local_indexes)[index->schema.name] = units;
  }
  ReportConsumed(ctx, p.table_name, capacity, /*write=*/false);
  WriteConsumedCapacity(p.capacity, p.table_name, capacity, false, out);
  out->EndObject();
  return ApiStatus();
}

// Looks up p.index_name (nothing to do without one) and applies DynamoDB's
// checks on reading that index.
ApiStatus ResolveIndex(const store::Table& table, const ReadParams& p,
                       std::optional<IndexTarget>* out) {
  if (!p.index_name) return ApiStatus();
  const std::string& name = *p.index_name;
  if (std::optional<store::IndexInfo> found = table.DescribeIndex(name)) {
    const store::IndexInfo& i = *found;
    if (i.global && p.consistent) {
      return ApiError::Validation(
          "Consistent reads are not supported on global secondary indexes");
    }
    if (i.global && p.select_given && p.select == Select::kAllAttributes &&
        i.schema.projection != store::ProjectionType::kAll) {
      return ApiError::Validation(
          "One or more parameter values were invalid: Select type "
          "ALL_ATTRIBUTES is not supported for global secondary index " +
          name + " because its projection type is not ALL");
    }
    if (i.global && i.status == store::IndexStatus::kCreating) {
      return ApiError::Validation(
          "Cannot read from backfilling global secondary index: " + name);
    }
    *out = IndexTarget{i.schema, i.global};
    return ApiStatus();
  }
  return ApiError::Validation("The table does not have the specified index: " +
                              name);
}

// Whether a read of a local secondary index needs the table's items: Select
// ALL_ATTRIBUTES, or a projection or filter naming attributes the index does
// not hold (DynamoDB then fetches them from the table).
bool NeedsTableItems(const IndexTarget& index, const store::TableSchema& table,
                     const ReadParams& p,
                     const std::optional<store::Projection>& projection,
                     const store::Condition* filter) {
  if (index.global || index.schema.projection == store::ProjectionType::kAll) {
    return false;
  }
  if (p.select_given && p.select == Select::kAllAttributes) return true;
  auto projected = [&](const std::string& name) {
    if (name == table.hash_key.name || name == index.schema.hash_key.name) {
      return true;
    }
    if ((table.range_key && name == table.range_key->name) ||
        (index.schema.range_key && name == index.schema.range_key->name)) {
      return true;
    }
    const std::vector<std::string>& extra = index.schema.non_key_attributes;
    return std::find(extra.begin(), extra.end(), name) != extra.end();
  };
  if (projection) {
    for (const store::Path& path : projection->paths()) {
      if (!projected(path.front().name)) return true;
    }
  }
  if (filter != nullptr) {
    for (const store::Path& path : filter->paths()) {
      if (!projected(path.front().name)) return true;
    }
  }
  return false;
}

}  // namespace

ApiStatus Query(const OperationContext& ctx, const rapidjson::Value& request,
                JsonWriter* out) {
  // Query's own checks, in DynamoDB's order, after the schema's.
  Params params(request);
  ReadParams p;
  API_RETURN_IF_ERROR(ReadCommon(params, &p));
  std::optional<bool> forward;
  API_RETURN_IF_ERROR(params.Bool("ScanIndexForward", &forward));
  API_RETURN_IF_ERROR(CheckExpressionParams(
      params,
      {"ProjectionExpression", "FilterExpression", "KeyConditionExpression"},
      {"AttributesToGet", "QueryFilter", "ConditionalOperator",
       "KeyConditions"}));
  std::unique_ptr<store::Condition> filter;
  if (!p.filter_text) {
    API_RETURN_IF_ERROR(legacy::ReadFilter(params, "QueryFilter", &filter));
  }
  const bool query_filter = filter != nullptr;
  API_RETURN_IF_ERROR(legacy::ReadAttributesToGet(params, "attributesToGet",
                                                  &p.attributes_to_get));
  API_RETURN_IF_ERROR(ReadStartKey(params, &p.exclusive_start_key));
  std::optional<std::string> key_text;
  API_RETURN_IF_ERROR(params.String("KeyConditionExpression", &key_text));
  if (!key_text && params.Get("KeyConditions") == nullptr) {
    return ApiError::Validation(
        "Either the KeyConditions or KeyConditionExpression parameter must be "
        "specified in the request.");
  }
  // The expressions: the maps, then each text in DynamoDB's order (the key
  // condition is parsed against the key schema once the table is known).
  API_RETURN_IF_ERROR(ReadExpressionMaps(params, &p.inputs));
  store::ExpressionContext ectx(p.inputs.names ? &*p.inputs.names : nullptr,
                                p.inputs.values ? &*p.inputs.values : nullptr);
  API_RETURN_IF_ERROR(
      CheckExpressionNotEmpty("KeyConditionExpression", key_text));
  std::optional<store::Projection> projection;
  API_RETURN_IF_ERROR(ParseReadExpressions(p, &ectx, &filter, &projection));
  // The legacy KeyConditions.
  std::optional<std::vector<legacy::AttributeCondition>> key_conditions;
  if (!key_text) {
    API_RETURN_IF_ERROR(legacy::ReadKeyConditions(params, &key_conditions));
    if (key_conditions &&
        (key_conditions->empty() || key_conditions->size() > 2)) {
      return ApiError::Validation("Conditions can be of length 1 or 2 only");
    }
  }
  std::optional<std::string> select;
  API_RETURN_IF_ERROR(params.String("Select", &select));
  API_RETURN_IF_ERROR(CheckSelect(select, &p));

  std::shared_ptr<store::Table> table;
  API_RETURN_IF_ERROR(FindTable(ctx, p.table_name, &table));
  const store::TableSchema& schema = table->schema();
  std::optional<IndexTarget> index;
  API_RETURN_IF_ERROR(ResolveIndex(*table, p, &index));
  // The key schema the condition is on: the index's, or the table's.
  const store::KeyElement& hash_key =
      index ? index->schema.hash_key : schema.hash_key;
  const std::optional<store::KeyElement>& range =
      index ? index->schema.range_key : schema.range_key;
  const std::string_view range_key =
      range ? std::string_view(range->name) : std::string_view();

  Result<store::KeyCondition> key_condition =
      key_text
          ? store::KeyCondition::Parse(*key_text, &ectx, hash_key.name,
                                       range_key)
          : legacy::MakeKeyCondition(*key_conditions, hash_key.name, range_key);
  if (!key_condition.ok()) return key_condition.status();
  API_RETURN_IF_ERROR(ectx.CheckAllUsed());
  {
    Status types = key_condition->CheckKeyTypes(
        hash_key.type, range ? range->type : store::ValueType::kS);
    if (!types.ok()) return types;
  }
  if (filter) {
    for (const store::Path& path : filter->paths()) {
      const std::string& name = path.front().name;
      if (name == hash_key.name || (range && name == range->name)) {
        return ApiError::Validation(
            std::string(query_filter ? "QueryFilter" : "Filter Expression") +
            " can only contain non-primary key attributes: Primary key "
            "attribute: " +
            name);
      }
    }
  }

  store::QueryRequest q;
  if (index) {
    q.index_name = index->schema.name;
    q.fetch_table_items =
        NeedsTableItems(*index, schema, p, projection, filter.get());
  }
  q.key_condition = std::move(*key_condition);
  q.scan_forward = forward.value_or(true);
  q.filter = filter.get();
  q.limit = p.limit;
  q.exclusive_start_key = std::move(p.exclusive_start_key);
  const ItemWriter writer(projection ? &*projection : nullptr);
  q.encoded = !writer.needs_decoded();
  Result<store::ReadPage> page = table->Query(q);
  if (!page.ok()) return page.status();
  return WritePage(ctx, p, *page, writer, index ? &*index : nullptr, out);
}

ApiStatus Scan(const OperationContext& ctx, const rapidjson::Value& request,
               JsonWriter* out) {
  // Scan's own checks, in DynamoDB's order, after the schema's.
  Params params(request);
  ReadParams p;
  API_RETURN_IF_ERROR(ReadCommon(params, &p));
  std::optional<int64_t> segment, total_segments;
  API_RETURN_IF_ERROR(params.Int64("Segment", &segment));
  API_RETURN_IF_ERROR(params.Int64("TotalSegments", &total_segments));
  API_RETURN_IF_ERROR(CheckExpressionParams(
      params, {"ProjectionExpression", "FilterExpression"},
      {"AttributesToGet", "ScanFilter", "ConditionalOperator"}));
  API_RETURN_IF_ERROR(legacy::ReadAttributesToGet(params, "attributesToGet",
                                                  &p.attributes_to_get));
  std::unique_ptr<store::Condition> filter;
  if (!p.filter_text) {
    API_RETURN_IF_ERROR(legacy::ReadFilter(params, "ScanFilter", &filter));
  }
  API_RETURN_IF_ERROR(ReadStartKey(params, &p.exclusive_start_key));
  if (segment && !total_segments) {
    return ApiError::Validation(
        "The TotalSegments parameter is required but was not present in the "
        "request when Segment parameter is present");
  }
  if (total_segments && !segment) {
    return ApiError::Validation(
        "The Segment parameter is required but was not present in the request "
        "when parameter TotalSegments is present");
  }
  if (segment && *segment >= *total_segments) {
    return ApiError::Validation(
        "The Segment parameter is zero-based and must be less than parameter "
        "TotalSegments: Segment: " +
        std::to_string(*segment) +
        " is not less than TotalSegments: " + std::to_string(*total_segments));
  }
  API_RETURN_IF_ERROR(ReadExpressionMaps(params, &p.inputs));
  store::ExpressionContext ectx(p.inputs.names ? &*p.inputs.names : nullptr,
                                p.inputs.values ? &*p.inputs.values : nullptr);
  std::optional<store::Projection> projection;
  API_RETURN_IF_ERROR(ParseReadExpressions(p, &ectx, &filter, &projection));
  API_RETURN_IF_ERROR(ectx.CheckAllUsed());
  std::optional<std::string> select;
  API_RETURN_IF_ERROR(params.String("Select", &select));
  API_RETURN_IF_ERROR(CheckSelect(select, &p));

  std::shared_ptr<store::Table> table;
  API_RETURN_IF_ERROR(FindTable(ctx, p.table_name, &table));
  std::optional<IndexTarget> index;
  API_RETURN_IF_ERROR(ResolveIndex(*table, p, &index));
  store::ScanRequest s;
  if (index) {
    s.index_name = index->schema.name;
    s.fetch_table_items =
        NeedsTableItems(*index, table->schema(), p, projection, filter.get());
  }
  s.filter = filter.get();
  s.limit = p.limit;
  s.exclusive_start_key = std::move(p.exclusive_start_key);
  s.segment = static_cast<int32_t>(segment.value_or(0));
  s.total_segments = static_cast<int32_t>(total_segments.value_or(1));
  const ItemWriter writer(projection ? &*projection : nullptr);
  s.encoded = !writer.needs_decoded();
  Result<store::ReadPage> page = table->Scan(s);
  if (!page.ok()) return page.status();
  return WritePage(ctx, p, *page, writer, index ? &*index : nullptr, out);
}

}  // namespace eddy::runtime::api
