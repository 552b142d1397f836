// Fuzz target: the DynamoDB JSON request decoder: a request body parsed as
// ApiHandler parses it, checked against every operation's request schema
// (runtime/api/request_schema.h: JSON types, then constraints) as the
// server does first, its members read through Params, and items and
// attribute values through ReadItem / ReadAttributeValue /
// ReadExpressionValues (runtime/api/json_codec.h).
//
// Properties: a schema's answer is OK or a 400 SerializationException or
// ValidationException whose body is well-formed JSON (its message quotes
// the request's own values), the same every time. Whatever decodes must
// survive the way back. An item read
// from JSON is written (WriteItem), read again and compared; encoded for
// the store (EncodeItem), decoded and compared; and the encoded form
// written without decoding (WriteEncodedItem) must be byte for byte what
// WriteItem writes, with the item's size.
#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "api/errors.h"
#include "api/json_codec.h"
#include "api/request_schema.h"
#include "eddy/store/item_codec.h"
#include "fuzz_util.h"

namespace eddy::runtime::api {
namespace {

std::string ToJson(const store::Item& item) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  WriteItem(item, &writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

// Checks the round trips of an item the decoder accepted.
void CheckItem(const store::Item& item) {
  const std::string json = ToJson(item);
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  EDDY_FUZZ_CHECK(!doc.HasParseError());
  store::Item again;
  EDDY_FUZZ_CHECK(ReadItem(doc, &again).ok());
  EDDY_FUZZ_CHECK(again == item);

  std::string encoded;
  store::EncodeItem(item, &encoded);
  Result<store::Item> decoded = store::DecodeItem(encoded);
  EDDY_FUZZ_CHECK(decoded.ok());
  EDDY_FUZZ_CHECK(*decoded == item);

  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  Result<size_t> size = WriteEncodedItem(encoded, nullptr, &writer);
  EDDY_FUZZ_CHECK(size.ok());
  EDDY_FUZZ_CHECK(*size == store::ItemSize(item));
  EDDY_FUZZ_CHECK(std::string_view(buffer.GetString(), buffer.GetSize()) ==
                  json);
}

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.substr(text.size() - suffix.size()) == suffix;
}

// An error of the schema layers, as it goes on the wire.
void CheckSchemaError(const ApiError& error) {
  EDDY_FUZZ_CHECK(error.http_status == 400);
  EDDY_FUZZ_CHECK(EndsWith(error.type, "#SerializationException") ||
                  EndsWith(error.type, "#ValidationException"));
  const std::string body = error.Body();
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  EDDY_FUZZ_CHECK(!doc.HasParseError() && doc.IsObject());
}

// Layers 1 and 2 of every operation that declares a schema, twice.
void CheckSchemas(const rapidjson::Value& request) {
  static constexpr const char* kOperations[] = {"GetItem",
                                                "PutItem",
                                                "DeleteItem",
                                                "UpdateItem",
                                                "Query",
                                                "Scan",
                                                "BatchGetItem",
                                                "BatchWriteItem",
                                                "CreateTable",
                                                "UpdateTable",
                                                "DescribeTable",
                                                "DeleteTable",
                                                "ListTables",
                                                "UpdateTimeToLive",
                                                "DescribeTimeToLive",
                                                "TagResource",
                                                "UntagResource",
                                                "ListTagsOfResource"};
  for (const char* operation : kOperations) {
    const RequestSchema* schema = RequestSchema::Find(operation);
    EDDY_FUZZ_CHECK(schema != nullptr);
    const ApiStatus first = schema->Validate(request);
    const ApiStatus again = schema->Validate(request);
    EDDY_FUZZ_CHECK(first.ok() == again.ok());
    if (!first.ok()) {
      CheckSchemaError(first.error());
      EDDY_FUZZ_CHECK(first.error().message == again.error().message);
    }
    const ApiStatus types = schema->CheckValueTypes(request);
    if (!types.ok()) {
      CheckSchemaError(types.error());
      EDDY_FUZZ_CHECK(EndsWith(types.error().type, "#SerializationException"));
    }
  }
}

void ReadMembers(const rapidjson::Value& request) {
  Params params(request);
  std::optional<std::string> text;
  (void)params.String("TableName", &text).ok();
  (void)params.String("ConditionExpression", &text).ok();
  std::optional<bool> flag;
  (void)params.Bool("ConsistentRead", &flag).ok();
  std::optional<int64_t> number;
  (void)params.Int64("Limit", &number).ok();
  const rapidjson::Value* member = nullptr;
  (void)params.Object("ExpressionAttributeValues", &member).ok();
  (void)params.Array("AttributesToGet", &member).ok();
  std::optional<std::map<std::string, std::string>> names;
  (void)params.StringMap("ExpressionAttributeNames", &names).ok();
  for (const char* name :
       {"Item", "Key", "ExclusiveStartKey", "ExpressionAttributeValues"}) {
    std::optional<store::Item> item;
    if (params.ItemMember(name, &item).ok() && item.has_value()) {
      CheckItem(*item);
    }
  }
  if (const rapidjson::Value* values = params.Get("ExpressionAttributeValues");
      values != nullptr) {
    store::Item item;
    if (ReadExpressionValues(*values, &item).ok()) CheckItem(item);
  }
}

}  // namespace
}  // namespace eddy::runtime::api

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace eddy::runtime::api;
  // As ApiHandler::HandleDynamo parses a request body.
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(reinterpret_cast<const char*>(data),
                                            size);
  if (doc.HasParseError()) return 0;
  if (doc.IsObject()) {
    CheckSchemas(doc);
    ReadMembers(doc);
    // The whole body as an item, and as one attribute value.
    eddy::store::Item item;
    if (ReadItem(doc, &item).ok()) CheckItem(item);
  }
  eddy::store::AttributeValue value;
  if (ReadAttributeValue(doc, 1, &value).ok()) {
    eddy::store::Item item;
    item.emplace("a", value);
    CheckItem(item);
  }
  return 0;
}
