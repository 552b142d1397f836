#include "api/json_codec.h"

namespace eddy::runtime::api {
namespace {

std::string_view View(const rapidjson::Value& v) {
  return std::string_view(v.GetString(), v.GetStringLength());
}

}  // namespace

ApiStatus FromDecodeStatus(const wire::DecodeStatus& status) {
  if (status.ok()) return ApiStatus();
  if (status.serialization()) {
    return ApiError::Serialization(status.status().message());
  }
  return ApiStatus(status.status());
}

ApiError WrongType(const rapidjson::Value& value, std::string_view expected) {
  return ApiError::Serialization(wire::WrongTypeMessage(value, expected));
}

ApiStatus ReadAttributeValue(const rapidjson::Value& json, int depth,
                             store::AttributeValue* out) {
  return FromDecodeStatus(wire::ReadAttributeValue(json, depth, out));
}

ApiStatus ReadItem(const rapidjson::Value& json, store::Item* out) {
  return FromDecodeStatus(wire::ReadItem(json, out));
}

ApiStatus ReadExpressionValues(const rapidjson::Value& json, store::Item* out) {
  if (!json.IsObject()) return WrongType(json, "Map");
  for (const auto& member : json.GetObject()) {
    store::AttributeValue value;
    ApiStatus s = ReadAttributeValue(member.value, 1, &value);
    if (!s.ok()) {
      ApiError& e = s.error();
      if (e.type.ends_with("#ValidationException")) {
        e.message =
            "ExpressionAttributeValues contains invalid value: " + e.message +
            " for key " + std::string(View(member.name));
      }
      return s;
    }
    out->insert_or_assign(std::string(View(member.name)), std::move(value));
  }
  return ApiStatus();
}

const rapidjson::Value* Params::Get(const char* name) const {
  auto it = object_.FindMember(name);
  if (it == object_.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

ApiStatus Params::String(const char* name,
                         std::optional<std::string>* out) const {
  const rapidjson::Value* v = Get(name);
  if (v == nullptr) return ApiStatus();
  if (!v->IsString()) return WrongType(*v, "String");
  *out = std::string(View(*v));
  return ApiStatus();
}

ApiStatus Params::Bool(const char* name, std::optional<bool>* out) const {
  const rapidjson::Value* v = Get(name);
  if (v == nullptr) return ApiStatus();
  bool b = false;
  if (!ReadBoolean(*v, &b)) return WrongType(*v, "Boolean");
  *out = b;
  return ApiStatus();
}

ApiStatus Params::Int64(const char* name, std::optional<int64_t>* out) const {
  const rapidjson::Value* v = Get(name);
  if (v == nullptr) return ApiStatus();
  if (v->IsInt64()) {
    *out = v->GetInt64();
    return ApiStatus();
  }
  if (v->IsDouble()) {
    // A decimal where an integer is expected is truncated, as DynamoDB's
    // deserializer does (and a value beyond the range is clamped).
    const double d = v->GetDouble();
    *out = d >= 9.2e18    ? INT64_MAX
           : d <= -9.2e18 ? INT64_MIN
                          : static_cast<int64_t>(d);
    return ApiStatus();
  }
  if (v->IsUint64()) {
    *out = INT64_MAX;
    return ApiStatus();
  }
  return WrongType(*v, "Long");
}

ApiStatus Params::Object(const char* name, const rapidjson::Value** out) const {
  *out = nullptr;
  const rapidjson::Value* v = Get(name);
  if (v == nullptr) return ApiStatus();
  if (!v->IsObject()) return WrongType(*v, "Structure");
  *out = v;
  return ApiStatus();
}

ApiStatus Params::Array(const char* name, const rapidjson::Value** out) const {
  *out = nullptr;
  const rapidjson::Value* v = Get(name);
  if (v == nullptr) return ApiStatus();
  if (!v->IsArray()) return WrongType(*v, "List");
  *out = v;
  return ApiStatus();
}

ApiStatus Params::StringMap(
    const char* name,
    std::optional<std::map<std::string, std::string>>* out) const {
  const rapidjson::Value* v = Get(name);
  if (v == nullptr) return ApiStatus();
  if (!v->IsObject()) return WrongType(*v, "Map");
  std::map<std::string, std::string> map;
  for (const auto& member : v->GetObject()) {
    if (!member.value.IsString()) return WrongType(member.value, "String");
    map.emplace(std::string(View(member.name)),
                std::string(View(member.value)));
  }
  *out = std::move(map);
  return ApiStatus();
}

ApiStatus Params::ItemMember(const char* name,
                             std::optional<store::Item>* out) const {
  const rapidjson::Value* v = Get(name);
  if (v == nullptr) return ApiStatus();
  store::Item item;
  if (std::string_view(name) == "ExpressionAttributeValues") {
    API_RETURN_IF_ERROR(ReadExpressionValues(*v, &item));
  } else {
    API_RETURN_IF_ERROR(ReadItem(*v, &item));
  }
  *out = std::move(item);
  return ApiStatus();
}

void ConstraintErrors::Add(std::string_view value, std::string_view path,
                           std::string_view constraint) {
  std::string e = "Value ";
  if (value == "null") {
    e += "null";
  } else {
    e += "'";
    e += value;
    e += "'";
  }
  e += " at '";
  e += path;
  e += "' failed to satisfy constraint: ";
  e += constraint;
  errors_.push_back(std::move(e));
}

ApiStatus ConstraintErrors::ToStatus() const {
  if (errors_.empty()) return ApiStatus();
  std::string msg = std::to_string(errors_.size()) +
                    (errors_.size() == 1 ? " validation error detected: "
                                         : " validation errors detected: ");
  for (size_t i = 0; i < errors_.size(); ++i) {
    if (i > 0) msg += "; ";
    msg += errors_[i];
  }
  return ApiError::Validation(std::move(msg));
}

}  // namespace eddy::runtime::api
