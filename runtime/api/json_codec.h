// Typed access to request parameters, with DynamoDB's errors for malformed
// input, and the DynamoDB JSON codec of items (wire/item_json.h) as the
// operations use it: with ApiStatus errors.
#ifndef EDDY_RUNTIME_API_JSON_CODEC_H_
#define EDDY_RUNTIME_API_JSON_CODEC_H_

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/errors.h"
#include "eddy/result.h"
#include "eddy/store/attribute_value.h"
#include "wire/item_json.h"

namespace eddy::runtime::api {

using wire::Base64Decode;
using wire::Base64Encode;
using wire::Base64Problem;
using wire::JsonWriter;
using wire::kMaxAttributeNameBytes;
using wire::kMaxNestingDepth;
using wire::ReadBoolean;
using wire::WriteAttributeValue;
using wire::WriteEncodedItem;
using wire::WriteItem;
using wire::WriteItemMember;

// The wire codec's outcome as the API reports it.
ApiStatus FromDecodeStatus(const wire::DecodeStatus& status);

// {"S":"x"}, {"N":"1"}, {"M":{...}}, ... -> AttributeValue. `depth` is the
// container depth of `json` (1 for a top-level attribute).
ApiStatus ReadAttributeValue(const rapidjson::Value& json, int depth,
                             store::AttributeValue* out);
// {"name": <AttributeValue>, ...} -> Item.
ApiStatus ReadItem(const rapidjson::Value& json, store::Item* out);
// ExpressionAttributeValues: as ReadItem, but a bad value's error names its
// key ("ExpressionAttributeValues contains invalid value: ... for key :v").
ApiStatus ReadExpressionValues(const rapidjson::Value& json, store::Item* out);

// Typed, validated access to the members of a request object. A member that
// is absent or JSON null reads as absent. Wrong JSON types are
// SerializationException, as DynamoDB's deserializer reports them.
class Params {
 public:
  // REQUIRES: object.IsObject().
  explicit Params(const rapidjson::Value& object) : object_(object) {}

  const rapidjson::Value& object() const { return object_; }
  const rapidjson::Value* Get(const char* name) const;
  ApiStatus String(const char* name, std::optional<std::string>* out) const;
  ApiStatus Bool(const char* name, std::optional<bool>* out) const;
  ApiStatus Int64(const char* name, std::optional<int64_t>* out) const;
  // A JSON object member; *out is null when absent.
  ApiStatus Object(const char* name, const rapidjson::Value** out) const;
  ApiStatus Array(const char* name, const rapidjson::Value** out) const;
  // {"#n": "name"} maps.
  ApiStatus StringMap(
      const char* name,
      std::optional<std::map<std::string, std::string>>* out) const;
  // An item-shaped member (Item, Key, ExclusiveStartKey,
  // ExpressionAttributeValues).
  ApiStatus ItemMember(const char* name, std::optional<store::Item>* out) const;

 private:
  const rapidjson::Value& object_;
};

// "NUMBER_VALUE cannot be converted to String" and friends.
ApiError WrongType(const rapidjson::Value& value, std::string_view expected);

// Collects constraint violations into DynamoDB's aggregated message:
// "2 validation errors detected: Value '0' at 'limit' failed to satisfy
// constraint: Member must have value greater than or equal to 1; Value ...".
class ConstraintErrors {
 public:
  // `value` is rendered as given ("null" for absent members).
  void Add(std::string_view value, std::string_view path,
           std::string_view constraint);
  bool empty() const { return errors_.empty(); }
  ApiStatus ToStatus() const;

 private:
  std::vector<std::string> errors_;
};

}  // namespace eddy::runtime::api

#endif  // EDDY_RUNTIME_API_JSON_CODEC_H_
