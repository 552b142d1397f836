// The request schema layer: DynamoDB's member order (java.util.HashMap's
// iteration order), the deserializer's texts, and the aggregated constraint
// message, checked without a server.
#include "api/request_schema.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "api/cors.h"

namespace eddy::runtime::api {
namespace {

// The first error Validate() reports for `json` against `operation`'s
// schema, as "type|message", or "ok".
std::string Check(const char* operation, const char* json) {
  rapidjson::Document doc;
  doc.Parse(json);
  EXPECT_FALSE(doc.HasParseError()) << json;
  const RequestSchema* schema = RequestSchema::Find(operation);
  EXPECT_NE(schema, nullptr) << operation;
  ApiStatus status = schema->Validate(doc);
  if (status.ok()) return "ok";
  const std::string& type = status.error().type;
  return type.substr(type.find('#') + 1) + "|" + status.error().message;
}

std::vector<std::string> Ordered(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (size_t i : JavaHashMapOrder(names)) out.push_back(names[i]);
  return out;
}

TEST(RequestSchemaTest, HashMapOrderMatchesDynamoDBsRecordedOrders) {
  // Scan's sixteen members: DynamoDB lists its violations in this order
  // (recorded against the service by dynalite).
  const std::vector<std::string> scan = {"tableName",
                                         "indexName",
                                         "attributesToGet",
                                         "limit",
                                         "select",
                                         "scanFilter",
                                         "conditionalOperator",
                                         "exclusiveStartKey",
                                         "returnConsumedCapacity",
                                         "totalSegments",
                                         "segment",
                                         "projectionExpression",
                                         "filterExpression",
                                         "expressionAttributeNames",
                                         "expressionAttributeValues",
                                         "consistentRead"};
  const std::vector<std::string> expected = {"select",
                                             "expressionAttributeNames",
                                             "indexName",
                                             "exclusiveStartKey",
                                             "totalSegments",
                                             "projectionExpression",
                                             "returnConsumedCapacity",
                                             "tableName",
                                             "conditionalOperator",
                                             "scanFilter",
                                             "expressionAttributeValues",
                                             "segment",
                                             "consistentRead",
                                             "attributesToGet",
                                             "limit",
                                             "filterExpression"};
  EXPECT_EQ(Ordered(scan), expected);
  // Small structures: 16 slots.
  EXPECT_EQ(
      Ordered({"readCapacityUnits", "writeCapacityUnits"}),
      (std::vector<std::string>{"writeCapacityUnits", "readCapacityUnits"}));
  EXPECT_EQ(Ordered({"attributeName", "attributeType"}),
            (std::vector<std::string>{"attributeType", "attributeName"}));
  EXPECT_EQ(Ordered({"attributeName", "enabled"}),
            (std::vector<std::string>{"attributeName", "enabled"}));
}

TEST(RequestSchemaTest, WrongJsonTypesAreSerializationErrors) {
  EXPECT_EQ(
      Check("GetItem", R"({"TableName": 5})"),
      "SerializationException|NUMBER_VALUE cannot be converted to String");
  EXPECT_EQ(
      Check("GetItem", R"({"TableName": 1.5})"),
      "SerializationException|DECIMAL_VALUE cannot be converted to String");
  EXPECT_EQ(Check("GetItem", R"({"TableName": false})"),
            "SerializationException|FALSE_VALUE cannot be converted to String");
  EXPECT_EQ(Check("GetItem", R"({"ConsistentRead": "maybe"})"),
            "SerializationException|Unexpected token received from parser");
  EXPECT_EQ(Check("GetItem", R"({"Key": "x"})"),
            "SerializationException|Unexpected field type");
  EXPECT_EQ(Check("GetItem", R"({"Key": {"a": 5}})"),
            "SerializationException|Unexpected value type in payload");
  EXPECT_EQ(
      Check("Query", R"({"Limit": "5"})"),
      "SerializationException|STRING_VALUE cannot be converted to Integer");
  EXPECT_EQ(Check("PutItem", R"({"Item": {"a": {"B": "+/+="}}})"),
            "SerializationException|Invalid last non-pad Base64 character "
            "dectected");
  EXPECT_EQ(
      Check("PutItem", R"({"Item": {"a": {"L": [{"M": {"b": {"N": 1}}}]}}})"),
      "SerializationException|NUMBER_VALUE cannot be converted to String");
}

TEST(RequestSchemaTest, TypesComeBeforeConstraintsInDocumentOrder) {
  // The first wrong member in the document, whatever else is wrong.
  EXPECT_EQ(Check("GetItem", R"({"TableName": "a;", "Limit": 1,
                                 "ConsistentRead": [], "Key": {"a": 1}})"),
            "SerializationException|Unrecognized collection type class "
            "java.lang.Boolean");
  // Strings DynamoDB reads as booleans are not type errors.
  EXPECT_EQ(Check("GetItem", R"({"TableName": "abc", "Key": {},
                                 "ConsistentRead": "yes"})"),
            "ok");
}

TEST(RequestSchemaTest, ConstraintsAreCollectedInOneMessage) {
  EXPECT_EQ(
      Check("GetItem", "{}"),
      "ValidationException|2 validation errors detected: Value null at "
      "'key' failed to satisfy constraint: Member must not be null; Value "
      "null at 'tableName' failed to satisfy constraint: Member must not be "
      "null");
  EXPECT_EQ(
      Check("DescribeTable", R"({"TableName": ""})"),
      "ValidationException|2 validation errors detected: Value '' at "
      "'tableName' failed to satisfy constraint: Member must have length "
      "greater than or equal to 3; Value '' at 'tableName' failed to "
      "satisfy constraint: Member must satisfy regular expression pattern: "
      "[a-zA-Z0-9_.-]+");
  EXPECT_EQ(Check("CreateTable", R"({"TableName": "ab"})"),
            "ValidationException|TableName must be at least 3 characters long "
            "and at most 255 characters long");
  EXPECT_EQ(Check("BatchWriteItem",
                  R"({"RequestItems": {"abc": [{"DeleteRequest": {}}]}})"),
            "ValidationException|1 validation error detected: Value null at "
            "'requestItems.abc.member.1.member.deleteRequest.key' failed to "
            "satisfy constraint: Member must not be null");
  EXPECT_EQ(Check("PutItem", R"({"TableName": "abc", "Item": {}})"), "ok");
}

TEST(RequestSchemaTest, AtMostTenViolationsAreListed) {
  const std::string result = Check(
      "CreateTable",
      R"({"TableName": "abc", "AttributeDefinitions": [], "KeySchema": [{}],
          "LocalSecondaryIndexes": [{}, {}, {}, {}, {}]})");
  EXPECT_EQ(
      result.rfind("ValidationException|10 validation errors detected: ", 0),
      0u)
      << result;
}

TEST(CorsPolicyTest, ParsesOriginLists) {
  EXPECT_FALSE(CorsPolicy::Parse("").value().enabled());
  EXPECT_FALSE(CorsPolicy::Parse("none").value().enabled());
  EXPECT_EQ(CorsPolicy::Parse(" * ").value().ToString(), "*");
  EXPECT_EQ(CorsPolicy::Parse("https://a.test, http://b.test:8080/")
                .value()
                .ToString(),
            "https://a.test,http://b.test:8080");
  EXPECT_FALSE(CorsPolicy::Parse("a.test").ok());
  EXPECT_FALSE(CorsPolicy::Parse("https://a.test/path").ok());
}

TEST(CorsPolicyTest, AnswersPreflightsOfAllowedOrigins) {
  const CorsPolicy policy = CorsPolicy::Parse("https://a.test").value();
  HttpRequest preflight;
  preflight.method = "OPTIONS";
  preflight.headers = {{"origin", "https://a.test"},
                       {"access-control-request-method", "POST"}};
  HttpResponse response;
  ASSERT_TRUE(policy.HandlePreflight(preflight, &response));
  EXPECT_EQ(response.status, 200);
  preflight.headers[0].second = "https://b.test";
  HttpResponse refused;
  EXPECT_FALSE(policy.HandlePreflight(preflight, &refused));
}

}  // namespace
}  // namespace eddy::runtime::api
