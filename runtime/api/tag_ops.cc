// TagResource, UntagResource, ListTagsOfResource, and the Tags rules that
// CreateTable shares (ReadTags).
//
// Tags belong to a table and are addressed by its ARN,
// arn:aws:dynamodb:<region>:<account>:table/<name>. As on DynamoDB every
// change is all-or-nothing and validated before the table is looked up; the
// 50-tag limit applies to the set after the change (a ValidationException,
// not LimitExceededException); untagging an absent key is not an error.
// Unlike DynamoDB (which applies tag changes a second or two later), a
// change is visible to the next ListTagsOfResource.
//
// The error texts are DynamoDB's, as recorded against the real service:
// "The Tag Key provided is invalid, Key: <k>", "Tag Key cannot be prefixed
// with aws:, Key: <k>", "Atleast one Tag needs to be provided as Input."
// (sic), "Requested resource not found: ResourceArn: <arn> not found", ...
#include <cctype>
#include <cstdint>
#include <set>

#include "api/operations.h"

namespace eddy::runtime::api {
namespace {

constexpr size_t kMaxTagKeyChars = 128;
constexpr size_t kMaxTagValueChars = 256;

void Str(JsonWriter* w, std::string_view s) {
  w->String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// Decodes one UTF-8 code point at text[*i], advancing *i; false on invalid
// UTF-8.
bool NextCodePoint(std::string_view text, size_t* i, uint32_t* cp) {
  const auto byte = [&](size_t k) {
    return static_cast<unsigned char>(text[k]);
  };
  const unsigned char b0 = byte(*i);
  size_t len = 0;
  if (b0 < 0x80) {
    *cp = b0;
    len = 1;
  } else if ((b0 & 0xE0) == 0xC0) {
    *cp = b0 & 0x1Fu;
    len = 2;
  } else if ((b0 & 0xF0) == 0xE0) {
    *cp = b0 & 0x0Fu;
    len = 3;
  } else if ((b0 & 0xF8) == 0xF0) {
    *cp = b0 & 0x07u;
    len = 4;
  } else {
    return false;
  }
  if (*i + len > text.size()) return false;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(*i + k) & 0xC0) != 0x80) return false;
    *cp = (*cp << 6) | (byte(*i + k) & 0x3Fu);
  }
  *i += len;
  return true;
}

// AWS's tag character set, ^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$: letters, space
// separators and digits of any script, and _ . : / = + - @. Outside ASCII
// this is an approximation by Unicode blocks: the blocks of letters and
// digits are accepted, and punctuation, symbols and emoji are refused.
bool IsTagChar(uint32_t cp) {
  if (cp < 0x80) {
    const char c = static_cast<char>(cp);
    return std::isalnum(static_cast<unsigned char>(c)) || c == ' ' ||
           c == '_' || c == '.' || c == ':' || c == '/' || c == '=' ||
           c == '+' || c == '-' || c == '@';
  }
  if (cp < 0xC0) {
    // Latin-1: NBSP and the letters and digits among the symbols.
    return cp == 0xA0 || cp == 0xAA || cp == 0xB2 || cp == 0xB3 || cp == 0xB5 ||
           cp == 0xB9 || cp == 0xBA || (cp >= 0xBC && cp <= 0xBE);
  }
  if (cp <= 0x1FFF) return cp != 0xD7 && cp != 0xF7;  // Scripts; not × ÷.
  if (cp <= 0x200A || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
      cp == 0x205F || cp == 0x3000) {
    return true;  // Space separators.
  }
  if (cp >= 0x2070 && cp <= 0x209F) return true;  // Super- and subscripts.
  if (cp >= 0x2C00 && cp <= 0x2DFF) return true;  // Glagolitic ... Cyrillic.
  if (cp >= 0x3005 && cp <= 0x3007) return true;  // 々 〆 〇.
  if (cp >= 0x3040 && cp <= 0xD7FF) return true;  // Kana, CJK, Hangul.
  if (cp >= 0xF900 && cp <= 0xFAFF) return true;  // CJK compatibility.
  if ((cp >= 0xFF10 && cp <= 0xFF19) || (cp >= 0xFF21 && cp <= 0xFF3A) ||
      (cp >= 0xFF41 && cp <= 0xFF5A) || (cp >= 0xFF66 && cp <= 0xFFDC)) {
    return true;  // Full- and halfwidth letters and digits.
  }
  if (cp >= 0x10000 && cp <= 0x1EFFF) return true;  // Historic scripts.
  if (cp >= 0x20000 && cp <= 0x3FFFF) return true;  // CJK extensions.
  return false;  // Punctuation, symbols, emoji, private use.
}

// Whether `text` is `min`..`max` characters (code points) of the tag set.
bool ValidTagText(std::string_view text, size_t min, size_t max) {
  size_t chars = 0;
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    if (!NextCodePoint(text, &i, &cp) || !IsTagChar(cp)) return false;
    ++chars;
  }
  return chars >= min && chars <= max;
}

ApiError InvalidKey(std::string_view key) {
  return ApiError::Validation("The Tag Key provided is invalid, Key: " +
                              std::string(key));
}

ApiError InvalidValue(std::string_view value) {
  return ApiError::Validation("The Tag Value provided is invalid, Value: " +
                              std::string(value));
}

ApiError InvalidArn(const std::string& arn) {
  return ApiError::Validation(
      "Invalid TableArn: Invalid ResourceArn provided as input " + arn);
}

ApiError ArnNotFound(const std::string& arn) {
  return ApiError::ResourceNotFound(
      "Requested resource not found: ResourceArn: " + arn + " not found");
}

// Reads ResourceArn and the name of the table it names (which may not
// exist). The checks and texts follow DynamoDB's, in its order.
ApiStatus ReadResourceArn(const OperationContext& ctx, const Params& params,
                          std::string* arn, std::string* table) {
  std::optional<std::string> value;
  API_RETURN_IF_ERROR(params.String("ResourceArn", &value));
  if (!value) return ApiError::Validation("Invalid TableArn");
  *arn = *value;
  if (!arn->starts_with("arn:")) {
    return ApiError::Validation(
        "One or more parameter values were invalid: ARNs must start with "
        "'arn:': " +
        *arn);
  }
  // arn:<partition>:<service>:<region>:<account>:<resource>
  std::vector<std::string_view> parts;
  std::string_view rest = *arn;
  while (parts.size() < 5) {
    const size_t colon = rest.find(':');
    if (colon == std::string_view::npos) break;
    parts.push_back(rest.substr(0, colon));
    rest.remove_prefix(colon + 1);
  }
  if (parts.size() < 5 || parts[2] != "dynamodb") {
    return ApiError::Validation(
        "One or more parameter values were invalid: Provided Arn is not a "
        "DynamoDB resource arn: " +
        *arn);
  }
  if (parts[1] != "aws" || parts[3] != ctx.config->region) {
    return InvalidArn(*arn);
  }
  if (parts[4] != ctx.config->account_id) {
    ApiError denied;
    denied.type = "com.amazon.coral.service#AccessDeniedException";
    denied.message = "Access is denied";
    return denied;
  }
  const std::string_view resource = rest;
  if (!resource.starts_with("table/")) {
    return ApiError::Validation(
        "One or more parameter values were invalid: Invalid resource arn "
        "provided, only table or stream is accepted. Provided resource arn: " +
        *arn);
  }
  std::string_view name = resource.substr(6);
  const size_t slash = name.find('/');
  if (slash != std::string_view::npos) {
    // Streams are not taggable here (DynamoDB: not found); index ARNs are
    // refused.
    if (name.substr(slash).starts_with("/stream/")) return ArnNotFound(*arn);
    return ApiError::Validation(
        "One or more parameter values were invalid: Invalid resource arn "
        "provided, only table or stream is accepted. Provided resource arn: " +
        *arn);
  }
  *table = std::string(name);
  if (!ValidateTableName(*table).ok()) return InvalidArn(*arn);
  return ApiStatus();
}

// Maps the store's NotFound (which names the table) to the tag APIs' text.
ApiStatus TagsStatus(const Status& status, const std::string& arn) {
  if (status.IsNotFound()) return ArnNotFound(arn);
  return status;
}

}  // namespace

ApiStatus ReadTags(const rapidjson::Value& json,
                   std::map<std::string, std::string>* tags) {
  if (!json.IsArray()) return WrongType(json, "List");
  for (const rapidjson::Value& tag : json.GetArray()) {
    if (!tag.IsObject()) return WrongType(tag, "Structure");
    Params tp(tag);
    std::optional<std::string> key, value;
    API_RETURN_IF_ERROR(tp.String("Key", &key));
    API_RETURN_IF_ERROR(tp.String("Value", &value));
    if (!key) return InvalidKey("null");
    if (!ValidTagText(*key, 1, kMaxTagKeyChars)) return InvalidKey(*key);
    if (key->starts_with("aws:")) {
      return ApiError::Validation(
          "Tag Key cannot be prefixed with aws:, Key: " + *key);
    }
    if (!value) return InvalidValue("null");
    if (!ValidTagText(*value, 0, kMaxTagValueChars)) {
      return InvalidValue(*value);
    }
    if (!tags->emplace(*key, std::move(*value)).second) {
      return ApiError::Validation(
          "Duplicate Tag Keys provided as input: Duplicate Tag Key found " +
          *key);
    }
  }
  if (tags->size() > store::kMaxTagsPerTable) {
    return ApiError::Validation(
        "Number of Tags exceed the current limit for the provided "
        "ResourceArn");
  }
  return ApiStatus();
}

ApiStatus TagResource(const OperationContext& ctx,
                      const rapidjson::Value& request, JsonWriter* out) {
  (void)out;  // DynamoDB answers with an empty body.
  Params params(request);
  std::string arn, name;
  API_RETURN_IF_ERROR(ReadResourceArn(ctx, params, &arn, &name));
  const rapidjson::Value* json = nullptr;
  API_RETURN_IF_ERROR(params.Array("Tags", &json));
  if (json == nullptr) {
    ConstraintErrors errors;
    errors.Add("null", "tags", "Member must not be null");
    return errors.ToStatus();
  }
  if (json->Empty()) {
    return ApiError::Validation(
        "Atleast one Tag needs to be provided as Input.");
  }
  std::map<std::string, std::string> tags;
  API_RETURN_IF_ERROR(ReadTags(*json, &tags));
  Result<store::TableInfo> info = ctx.db->UpdateTags(name, tags, {});
  if (!info.ok()) return TagsStatus(info.status(), arn);
  return ApiStatus();
}

ApiStatus UntagResource(const OperationContext& ctx,
                        const rapidjson::Value& request, JsonWriter* out) {
  (void)out;  // DynamoDB answers with an empty body.
  Params params(request);
  std::string arn, name;
  API_RETURN_IF_ERROR(ReadResourceArn(ctx, params, &arn, &name));
  const rapidjson::Value* json = nullptr;
  API_RETURN_IF_ERROR(params.Array("TagKeys", &json));
  if (json == nullptr) {
    ConstraintErrors errors;
    errors.Add("null", "tagKeys", "Member must not be null");
    return errors.ToStatus();
  }
  if (json->Empty()) {
    return ApiError::Validation(
        "Atleast one Tag Key needs to be provided as Input.");
  }
  if (json->Size() > store::kMaxTagsPerTable) {
    return ApiError::Validation(
        "Number of Tags exceed the current limit for the provided "
        "ResourceArn");
  }
  std::vector<std::string> keys;
  for (const rapidjson::Value& key : json->GetArray()) {
    if (!key.IsString()) return WrongType(key, "String");
    std::string k(key.GetString(), key.GetStringLength());
    if (!ValidTagText(k, 1, kMaxTagKeyChars)) return InvalidKey(k);
    keys.push_back(std::move(k));
  }
  Result<store::TableInfo> info = ctx.db->UpdateTags(name, {}, keys);
  if (!info.ok()) return TagsStatus(info.status(), arn);
  return ApiStatus();
}

ApiStatus ListTagsOfResource(const OperationContext& ctx,
                             const rapidjson::Value& request, JsonWriter* out) {
  Params params(request);
  std::string arn, name;
  API_RETURN_IF_ERROR(ReadResourceArn(ctx, params, &arn, &name));
  // NextToken is accepted and ignored: at most 50 tags fit in one page, so
  // there never is a next page.
  std::optional<std::string> next_token;
  API_RETURN_IF_ERROR(params.String("NextToken", &next_token));
  std::shared_ptr<store::Table> table = ctx.db->GetTable(name);
  if (table == nullptr) return ArnNotFound(arn);
  const store::TableInfo info = table->Describe();
  out->StartObject();
  out->Key("Tags");
  out->StartArray();
  for (const auto& [key, value] : info.tags) {
    out->StartObject();
    out->Key("Key");
    Str(out, key);
    out->Key("Value");
    Str(out, value);
    out->EndObject();
  }
  out->EndArray();
  out->EndObject();
  return ApiStatus();
}

}  // namespace eddy::runtime::api
