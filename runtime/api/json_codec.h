// The DynamoDB JSON encoding of attribute values and items, and typed access
// to request parameters, with DynamoDB's errors for malformed input.
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

namespace eddy::runtime::api {

// rapidjson's Writer, plus a way to place JSON text rendered elsewhere
// without copying it byte by byte (RawValue's way).
class JsonWriter : public rapidjson::Writer<rapidjson::StringBuffer> {
 public:
  using Writer::Writer;

  // Writes one complete JSON value of type `type` that `render` appends to
  // the output buffer: render(rapidjson::StringBuffer*) -> R, returned.
  // The writer adds the separator before the value, as for any value.
  // REQUIRES: `render` appends exactly one well-formed value, or the caller
  // discards the output (e.g. when render reports an error).
  template <typename Render>
  auto RenderValue(rapidjson::Type type, Render&& render) {
    Prefix(type);
    auto result = render(os_);
    EndValue(true);
    return result;
  }
};

// Attribute values nest at most this many containers deep.
inline constexpr int kMaxNestingDepth = 32;
// Attribute names are at most 64 KB - 1 bytes.
inline constexpr size_t kMaxAttributeNameBytes = 65535;

// {"S":"x"}, {"N":"1"}, {"M":{...}}, ... -> AttributeValue. `depth` is the
// container depth of `json` (1 for a top-level attribute).
ApiStatus ReadAttributeValue(const rapidjson::Value& json, int depth,
                             store::AttributeValue* out);
// {"name": <AttributeValue>, ...} -> Item.
ApiStatus ReadItem(const rapidjson::Value& json, store::Item* out);
// ExpressionAttributeValues: as ReadItem, but a bad value's error names its
// key ("ExpressionAttributeValues contains invalid value: ... for key :v").
ApiStatus ReadExpressionValues(const rapidjson::Value& json, store::Item* out);

void WriteAttributeValue(const store::AttributeValue& value, JsonWriter* w);
void WriteItem(const store::Item& item, JsonWriter* w);
// `"Key":{item}` convenience.
void WriteItemMember(const char* key, const store::Item& item, JsonWriter* w);
// Writes the item stored as `encoded` (store::EncodeItem) byte for byte as
// WriteItem writes it decoded, without decoding it (store::VisitItem). With
// `only` (sorted ascending, unique), just the item's attributes named there.
// Returns the size of the whole item (store::ItemSize). Corruption as
// store::DecodeItem, after writing part of the item.
Result<size_t> WriteEncodedItem(std::string_view encoded,
                                const std::vector<std::string>* only,
                                JsonWriter* w);

std::string Base64Encode(std::string_view bytes);
// Whether `text` is base64 as DynamoDB's decoder accepts it: 0 valid; 1
// its length is not a multiple of 4; 2 an invalid character, misplaced
// padding, or non-zero bits after the last character.
int Base64Problem(std::string_view text);
// Returns false on invalid input.
bool Base64Decode(std::string_view text, std::string* out);

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

// A JSON boolean, or one of the strings DynamoDB's deserializer reads as
// one ("true", "yes", "1" / "false", "no", "0", in any case). False for
// anything else.
bool ReadBoolean(const rapidjson::Value& value, bool* out);

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
