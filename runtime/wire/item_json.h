// The DynamoDB JSON encoding of attribute values and items, both ways, with
// DynamoDB's messages for what does not decode.
//
// runtime/wire is the DynamoDB wire format below everything that speaks
// it: the API (runtime/api) writes and reads requests and responses with
// it, the trigger dispatcher writes Lambda's event records and failure
// documents with it, and the remote stream source (dispatcher/
// remote_stream_source.h) reads another endpoint's GetRecords answers with
// the same code that Eddy's own GetRecords writes them with. It depends on
// the store's value types and rapidjson only: nothing of the API's request
// handling, errors or operations.
//
// Thread-safety: pure functions.
#ifndef EDDY_RUNTIME_WIRE_ITEM_JSON_H_
#define EDDY_RUNTIME_WIRE_ITEM_JSON_H_

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>
#include <string_view>
#include <vector>

#include "eddy/result.h"
#include "eddy/store/attribute_value.h"

namespace eddy::runtime::wire {

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

// Why DynamoDB JSON did not decode, as DynamoDB reports it: a
// ValidationException (status() is InvalidArgument: a value the type does
// not allow, an empty or ambiguous AttributeValue, too deep a nesting) or,
// with serialization(), a SerializationException (a JSON type where another
// was expected, bad base64). The API maps it to its ApiError
// (api/json_codec.h); other readers log it.
class [[nodiscard]] DecodeStatus {
 public:
  DecodeStatus() = default;
  // A store Status (a number or set the store refuses): kept as is.
  DecodeStatus(Status status)  // NOLINT: implicit by design.
      : status_(std::move(status)) {}
  static DecodeStatus Validation(std::string message) {
    return DecodeStatus(Status::InvalidArgument(std::move(message)));
  }
  static DecodeStatus Serialization(std::string message) {
    DecodeStatus s(Status::InvalidArgument(std::move(message)));
    s.serialization_ = true;
    return s;
  }

  bool ok() const { return status_.ok(); }
  bool serialization() const { return serialization_; }
  const Status& status() const { return status_; }

 private:
  Status status_;
  bool serialization_ = false;
};

// Attribute values nest at most this many containers deep.
inline constexpr int kMaxNestingDepth = 32;
// Attribute names are at most 64 KB - 1 bytes.
inline constexpr size_t kMaxAttributeNameBytes = 65535;

// {"S":"x"}, {"N":"1"}, {"M":{...}}, ... -> AttributeValue. `depth` is the
// container depth of `json` (1 for a top-level attribute). Unknown members
// are ignored, as by DynamoDB.
DecodeStatus ReadAttributeValue(const rapidjson::Value& json, int depth,
                                store::AttributeValue* out);
// {"name": <AttributeValue>, ...} -> Item.
DecodeStatus ReadItem(const rapidjson::Value& json, store::Item* out);

// DynamoDB's SerializationException text for `value` found where a
// `expected` was: "NUMBER_VALUE cannot be converted to String",
// "Unexpected field type", ...
std::string WrongTypeMessage(const rapidjson::Value& value,
                             std::string_view expected);
// The same as a DecodeStatus.
DecodeStatus WrongType(const rapidjson::Value& value,
                       std::string_view expected);

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

// A JSON boolean, or one of the strings DynamoDB's deserializer reads as
// one ("true", "yes", "1" / "false", "no", "0", in any case). False for
// anything else.
bool ReadBoolean(const rapidjson::Value& value, bool* out);

}  // namespace eddy::runtime::wire

#endif  // EDDY_RUNTIME_WIRE_ITEM_JSON_H_
