// UpdateTimeToLive, DescribeTimeToLive, and the admin operation
// SweepExpiredItems (target prefix EddyAdmin_20261126, used by
// `eddy ttl sweep`).
//
// TTL is enabled or disabled at once (DynamoDB's ENABLING / DISABLING states
// are never visible, as observed on DynamoDB itself), and UpdateTimeToLive
// echoes the request's TimeToLiveSpecification. DynamoDB's limit of one
// change per table within about an hour is not enforced: a local server is
// reconfigured by tests far more often.
#include "api/operations.h"

namespace eddy::runtime::api {
namespace {

// DynamoDB's bounds on TimeToLiveSpecification.AttributeName.
constexpr size_t kMaxTtlAttributeBytes = 255;

void Str(JsonWriter* w, std::string_view s) {
  w->String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

}  // namespace

ApiStatus UpdateTimeToLive(const OperationContext& ctx,
                           const rapidjson::Value& request, JsonWriter* out) {
  Params params(request);
  std::string name;
  API_RETURN_IF_ERROR(ReadTableName(params, &name));
  const rapidjson::Value* spec = nullptr;
  API_RETURN_IF_ERROR(params.Object("TimeToLiveSpecification", &spec));
  ConstraintErrors errors;
  if (spec == nullptr) {
    errors.Add("null", "timeToLiveSpecification", "Member must not be null");
    return errors.ToStatus();
  }
  Params sp(*spec);
  std::optional<bool> enabled;
  std::optional<std::string> attribute;
  API_RETURN_IF_ERROR(sp.Bool("Enabled", &enabled));
  API_RETURN_IF_ERROR(sp.String("AttributeName", &attribute));
  if (!enabled) {
    errors.Add("null", "timeToLiveSpecification.enabled",
               "Member must not be null");
  }
  if (!attribute) {
    errors.Add("null", "timeToLiveSpecification.attributeName",
               "Member must not be null");
  } else if (attribute->empty()) {
    errors.Add(*attribute, "timeToLiveSpecification.attributeName",
               "Member must have length greater than or equal to 1");
  } else if (attribute->size() > kMaxTtlAttributeBytes) {
    errors.Add(*attribute, "timeToLiveSpecification.attributeName",
               "Member must have length less than or equal to 255");
  }
  API_RETURN_IF_ERROR(errors.ToStatus());

  Result<store::TableInfo> info =
      ctx.db->UpdateTimeToLive(name, *enabled, *attribute);
  if (!info.ok()) return info.status();
  out->StartObject();
  out->Key("TimeToLiveSpecification");
  out->StartObject();
  out->Key("Enabled");
  out->Bool(*enabled);
  out->Key("AttributeName");
  Str(out, *attribute);
  out->EndObject();
  out->EndObject();
  return ApiStatus();
}

ApiStatus DescribeTimeToLive(const OperationContext& ctx,
                             const rapidjson::Value& request, JsonWriter* out) {
  std::string name;
  API_RETURN_IF_ERROR(ReadTableName(Params(request), &name));
  std::shared_ptr<store::Table> table = ctx.db->GetTable(name);
  if (table == nullptr) {
    return ApiError::ResourceNotFound(
        "Requested resource not found: Table: " + name + " not found");
  }
  const std::optional<std::string> attribute = table->Describe().ttl_attribute;
  out->StartObject();
  out->Key("TimeToLiveDescription");
  out->StartObject();
  out->Key("TimeToLiveStatus");
  out->String(attribute ? "ENABLED" : "DISABLED");
  if (attribute) {
    out->Key("AttributeName");
    Str(out, *attribute);
  }
  out->EndObject();
  out->EndObject();
  return ApiStatus();
}

ApiStatus SweepExpiredItems(const OperationContext& ctx,
                            const rapidjson::Value& request, JsonWriter* out) {
  Params params(request);
  std::optional<std::string> table;
  API_RETURN_IF_ERROR(params.String("TableName", &table));
  if (table) API_RETURN_IF_ERROR(ValidateTableName(*table));
  // The tables this sweep covers, for the answer.
  std::vector<std::string> swept;
  const std::vector<std::string> names =
      table ? std::vector<std::string>{*table}
            : ctx.db->ListTables(std::nullopt, SIZE_MAX);
  for (const std::string& n : names) {
    std::shared_ptr<store::Table> t = ctx.db->GetTable(n);
    if (t != nullptr && t->Describe().ttl_attribute) swept.push_back(n);
  }
  Result<int64_t> deleted = ctx.db->SweepExpired(table);
  if (!deleted.ok()) return deleted.status();
  out->StartObject();
  out->Key("DeletedItemCount");
  out->Int64(*deleted);
  out->Key("TableNames");
  out->StartArray();
  for (const std::string& n : swept) Str(out, n);
  out->EndArray();
  out->EndObject();
  return ApiStatus();
}

}  // namespace eddy::runtime::api
