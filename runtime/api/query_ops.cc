// Query and Scan.
#include "api/operations.h"
#include "eddy/store/expression.h"

namespace eddy::runtime::api {
namespace {

using store::Item;

enum class Select { kAllAttributes, kSpecificAttributes, kCount };

// The parameters Query and Scan share.
struct ReadParams {
  std::string table_name;
  Select select = Select::kAllAttributes;
  std::optional<int64_t> limit;
  std::optional<Item> exclusive_start_key;
  bool consistent = false;
  CapacityMode capacity = CapacityMode::kNone;
  std::optional<std::string> filter_text;
  std::optional<std::string> projection_text;
  ExpressionInputs inputs;
};

ApiStatus ReadCommon(const Params& params, ConstraintErrors* errors,
                     ReadParams* out) {
  API_RETURN_IF_ERROR(ReadTableName(params, &out->table_name));
  API_RETURN_IF_ERROR(RejectUnsupported(
      params, {"IndexName", "AttributesToGet", "QueryFilter", "ScanFilter",
               "ConditionalOperator", "KeyConditions"}));
  API_RETURN_IF_ERROR(params.Int64("Limit", &out->limit));
  if (out->limit && *out->limit < 1) {
    errors->Add(std::to_string(*out->limit), "limit",
                "Member must have value greater than or equal to 1");
  }
  std::optional<std::string> select;
  API_RETURN_IF_ERROR(params.String("Select", &select));
  API_RETURN_IF_ERROR(
      params.ItemMember("ExclusiveStartKey", &out->exclusive_start_key));
  std::optional<bool> consistent;
  API_RETURN_IF_ERROR(params.Bool("ConsistentRead", &consistent));
  out->consistent = consistent.value_or(false);
  API_RETURN_IF_ERROR(ReadCapacityMode(params, &out->capacity));
  API_RETURN_IF_ERROR(
      ReadExpressionText(params, "FilterExpression", &out->filter_text));
  API_RETURN_IF_ERROR(ReadExpressionText(params, "ProjectionExpression",
                                         &out->projection_text));
  if (select) {
    if (*select == "ALL_ATTRIBUTES") {
      out->select = Select::kAllAttributes;
    } else if (*select == "SPECIFIC_ATTRIBUTES") {
      out->select = Select::kSpecificAttributes;
    } else if (*select == "COUNT") {
      out->select = Select::kCount;
    } else if (*select == "ALL_PROJECTED_ATTRIBUTES") {
      return ApiError::Validation(
          "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an "
          "IndexName");
    } else {
      errors->Add(*select, "select",
                  "Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, "
                  "COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]");
    }
  } else if (out->projection_text) {
    out->select = Select::kSpecificAttributes;
  }
  if (errors->empty()) {
    if (out->select == Select::kSpecificAttributes && !out->projection_text) {
      return ApiError::Validation(
          "Must specify the AttributesToGet or ProjectionExpression when "
          "choosing to get SPECIFIC_ATTRIBUTES");
    }
    if (out->select != Select::kSpecificAttributes && out->projection_text) {
      return ApiError::Validation(
          std::string("Cannot specify the ProjectionExpression when choosing "
                      "to get ") +
          (out->select == Select::kCount ? "COUNT" : "ALL_ATTRIBUTES"));
    }
  }
  return ApiStatus();
}

// Parses the filter and projection of a read into `ectx`.
ApiStatus ParseReadExpressions(const ReadParams& p,
                               store::ExpressionContext* ectx,
                               std::unique_ptr<store::Condition>* filter,
                               std::optional<store::Projection>* projection) {
  if (p.filter_text) {
    Result<std::unique_ptr<store::Condition>> c =
        store::Condition::Parse(*p.filter_text, "FilterExpression", ectx);
    if (!c.ok()) return c.status();
    *filter = std::move(*c);
  }
  if (p.projection_text) {
    Result<store::Projection> pr =
        store::Projection::Parse(*p.projection_text, ectx);
    if (!pr.ok()) return pr.status();
    *projection = std::move(*pr);
  }
  return ApiStatus();
}

void WritePage(const ReadParams& p, const store::ReadPage& page,
               const std::optional<store::Projection>& projection,
               JsonWriter* out) {
  out->StartObject();
  if (p.select != Select::kCount) {
    out->Key("Items");
    out->StartArray();
    for (const Item& item : page.items) {
      WriteItem(projection ? projection->Apply(item) : item, out);
    }
    out->EndArray();
  }
  out->Key("Count");
  out->Int64(static_cast<int64_t>(page.items.size()));
  out->Key("ScannedCount");
  out->Int64(page.scanned_count);
  if (page.last_evaluated_key) {
    WriteItemMember("LastEvaluatedKey", *page.last_evaluated_key, out);
  }
  WriteConsumedCapacity(p.capacity, p.table_name,
                        ReadUnits(page.scanned_bytes, p.consistent), false,
                        out);
  out->EndObject();
}

}  // namespace

ApiStatus Query(const OperationContext& ctx, const rapidjson::Value& request,
                JsonWriter* out) {
  Params params(request);
  ConstraintErrors errors;
  ReadParams p;
  API_RETURN_IF_ERROR(ReadCommon(params, &errors, &p));
  std::optional<bool> forward;
  API_RETURN_IF_ERROR(params.Bool("ScanIndexForward", &forward));
  API_RETURN_IF_ERROR(errors.ToStatus());
  std::optional<std::string> key_text;
  API_RETURN_IF_ERROR(
      ReadExpressionText(params, "KeyConditionExpression", &key_text));
  if (!key_text) {
    return ApiError::Validation(
        "Either the KeyConditions or KeyConditionExpression parameter must be "
        "specified in the request.");
  }
  API_RETURN_IF_ERROR(ReadExpressionInputs(params, true, &p.inputs));

  std::shared_ptr<store::Table> table;
  API_RETURN_IF_ERROR(FindTable(ctx, p.table_name, &table));
  const store::TableSchema& schema = table->schema();

  store::ExpressionContext ectx(p.inputs.names ? &*p.inputs.names : nullptr,
                                p.inputs.values ? &*p.inputs.values : nullptr);
  Result<store::KeyCondition> key_condition = store::KeyCondition::Parse(
      *key_text, &ectx, schema.hash_key.name,
      schema.range_key ? std::string_view(schema.range_key->name)
                       : std::string_view());
  if (!key_condition.ok()) return key_condition.status();
  std::unique_ptr<store::Condition> filter;
  std::optional<store::Projection> projection;
  API_RETURN_IF_ERROR(ParseReadExpressions(p, &ectx, &filter, &projection));
  API_RETURN_IF_ERROR(ectx.CheckAllUsed());
  {
    Status types = key_condition->CheckKeyTypes(
        schema.hash_key.type,
        schema.range_key ? schema.range_key->type : store::ValueType::kS);
    if (!types.ok()) return types;
  }
  if (filter) {
    for (const store::Path& path : filter->paths()) {
      const std::string& name = path.front().name;
      if (name == schema.hash_key.name ||
          (schema.range_key && name == schema.range_key->name)) {
        return ApiError::Validation(
            "Filter Expression can only contain non-primary key attributes: "
            "Primary key attribute: " +
            name);
      }
    }
  }

  store::QueryRequest q;
  q.key_condition = std::move(*key_condition);
  q.scan_forward = forward.value_or(true);
  q.filter = filter.get();
  q.limit = p.limit;
  q.exclusive_start_key = std::move(p.exclusive_start_key);
  Result<store::ReadPage> page = table->Query(q);
  if (!page.ok()) return page.status();
  WritePage(p, *page, projection, out);
  return ApiStatus();
}

ApiStatus Scan(const OperationContext& ctx, const rapidjson::Value& request,
               JsonWriter* out) {
  Params params(request);
  ConstraintErrors errors;
  ReadParams p;
  API_RETURN_IF_ERROR(ReadCommon(params, &errors, &p));
  std::optional<int64_t> segment, total_segments;
  API_RETURN_IF_ERROR(params.Int64("Segment", &segment));
  API_RETURN_IF_ERROR(params.Int64("TotalSegments", &total_segments));
  if (segment && (*segment < 0 || *segment > 999999)) {
    errors.Add(std::to_string(*segment), "segment",
               *segment < 0
                   ? "Member must have value greater than or equal to 0"
                   : "Member must have value less than or equal to 999999");
  }
  if (total_segments && (*total_segments < 1 || *total_segments > 1000000)) {
    errors.Add(std::to_string(*total_segments), "totalSegments",
               *total_segments < 1
                   ? "Member must have value greater than or equal to 1"
                   : "Member must have value less than or equal to 1000000");
  }
  API_RETURN_IF_ERROR(errors.ToStatus());
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
  API_RETURN_IF_ERROR(ReadExpressionInputs(
      params, p.filter_text.has_value() || p.projection_text.has_value(),
      &p.inputs));
  store::ExpressionContext ectx(p.inputs.names ? &*p.inputs.names : nullptr,
                                p.inputs.values ? &*p.inputs.values : nullptr);
  std::unique_ptr<store::Condition> filter;
  std::optional<store::Projection> projection;
  API_RETURN_IF_ERROR(ParseReadExpressions(p, &ectx, &filter, &projection));
  API_RETURN_IF_ERROR(ectx.CheckAllUsed());

  std::shared_ptr<store::Table> table;
  API_RETURN_IF_ERROR(FindTable(ctx, p.table_name, &table));
  store::ScanRequest s;
  s.filter = filter.get();
  s.limit = p.limit;
  s.exclusive_start_key = std::move(p.exclusive_start_key);
  s.segment = static_cast<int32_t>(segment.value_or(0));
  s.total_segments = static_cast<int32_t>(total_segments.value_or(1));
  Result<store::ReadPage> page = table->Scan(s);
  if (!page.ok()) return page.status();
  WritePage(p, *page, projection, out);
  return ApiStatus();
}

}  // namespace eddy::runtime::api
