// RequestSchema: what each DynamoDB operation's request looks like, declared
// once, and the first two of DynamoDB's layers of request checks, which run
// before the operation itself:
//
//   1. The JSON shape. DynamoDB deserializes the body as a stream, so the
//      first member (in document order, depth first) whose JSON type is
//      wrong is reported, as a SerializationException, before anything else
//      is looked at: "NUMBER_VALUE cannot be converted to String",
//      "Unexpected field type", "Start of structure or map found where not
//      expected", ... (texts as DynamoDB answers them today, recorded by
//      dynalite's test suite against the real service). This walks
//      AttributeValues too ({"S": 5} anywhere in an item is this error).
//   2. The constraints: every member's required / length / range / pattern
//      / enum constraints, all violations collected into one
//      ValidationException, "N validation errors detected: Value '...' at
//      'member.path' failed to satisfy constraint: ...; ...", at most ten.
//      Members are visited in the order DynamoDB visits them: the iteration
//      order of a java.util.HashMap keyed by the members' camelCase names
//      (String.hashCode buckets, then model order), which reproduces the
//      orders recorded against DynamoDB (Scan's ten-member message, GetItem,
//      ProvisionedThroughput). Map entries of the request (QueryFilter's
//      attributes, RequestItems' tables) are visited the same way.
//      Some older operations first apply DynamoDB's two table-name
//      pre-checks: "The parameter 'TableName' is required but was not
//      present in the request" and "TableName must be at least 3 characters
//      long and at most 255 characters long".
//
// The operation's own (semantic) checks and the data come after, in the
// operation (see operations.h).
//
// Cost: a request that passes costs one walk over its members, not into
// its AttributeValues (no allocation); messages, paths, orders and the
// AttributeValues' type walk only happen when something is wrong.
//
// Thread-safety: schemas are immutable after construction (static, built on
// first use); Validate() may be called concurrently.
#ifndef EDDY_RUNTIME_API_REQUEST_SCHEMA_H_
#define EDDY_RUNTIME_API_REQUEST_SCHEMA_H_

#include <rapidjson/document.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/errors.h"

namespace eddy::runtime::api {

// One shape of the request model: a scalar, a list, a map (string keys), a
// structure, or an AttributeValue.
class Shape {
 public:
  enum class Kind : uint8_t {
    kString,
    kBoolean,
    kInteger,
    kLong,
    kBlob,
    kList,
    kMap,
    kStructure,
    kAttributeValue,
  };

  // One constraint of a member, checked in the order given.
  struct Constraint {
    enum class Type : uint8_t {
      kMinLength,  // Strings (characters), lists and maps (entries).
      kMaxLength,
      kMinValue,  // Integer and Long.
      kMaxValue,
      kTableNamePattern,  // [a-zA-Z0-9_.-]+
      kEnum,              // `values`, in DynamoDB's listing order.
      // Map keys: each key must satisfy `keys` (a list of kMinLength,
      // kMaxLength, kTableNamePattern), reported as "Map keys must satisfy
      // constraint: [...]" once per offending key.
      kMapKeys,
      // Map values: each value's length, "Map value must satisfy
      // constraint: [...]".
      kMapValues,
    };
    Type type;
    int64_t bound = 0;
    std::vector<std::string> values;  // kEnum.
    std::vector<Constraint> nested;   // kMapKeys, kMapValues.
  };

  struct Member {
    std::string name;       // As in the JSON: "TableName".
    std::string path_name;  // DynamoDB's camelCase: "tableName".
    const Shape* shape = nullptr;
    bool required = false;  // "Member must not be null".
    std::vector<Constraint> constraints;
  };

  Kind kind() const { return kind_; }

  // Builders (the schema is a tree of Shapes owned by the operation's
  // RequestSchema).
  static std::unique_ptr<Shape> Scalar(Kind kind);
  // `type_name` is the model's name for structures, lists' elements and
  // maps' values, as DynamoDB's messages name them ("KeySchemaElement";
  // "java.lang.String" for strings).
  static std::unique_ptr<Shape> List(const Shape* element);
  static std::unique_ptr<Shape> Map(const Shape* value, std::string value_type);
  // `members` in the model's order (which breaks ties in DynamoDB's
  // HashMap order of visiting them).
  static std::unique_ptr<Shape> Structure(std::string type_name,
                                          std::vector<Member> members);
  static std::unique_ptr<Shape> AttributeValue();

  // Internal to the validator; public for the schema tables.
  const std::vector<Member>& members() const { return members_; }
  // Indexes into members() in DynamoDB's visiting order.
  const std::vector<size_t>& visit_order() const { return visit_order_; }
  const Shape* element() const { return element_; }
  size_t required_count() const { return required_count_; }
  // The index in members() of the member called `name`, or -1.
  int FindMember(std::string_view name) const;
  const std::string& type_name() const { return type_name_; }

 private:
  explicit Shape(Kind kind) : kind_(kind) {}

  Kind kind_;
  const Shape* element_ = nullptr;  // List element / map value.
  std::string type_name_;
  std::vector<Member> members_;
  std::vector<size_t> visit_order_;
  size_t required_count_ = 0;
  // Members by name length (names are short): the first member of each
  // length, and the next one of the same length; -1 ends.
  static constexpr size_t kMaxNameLength = 64;
  std::array<int8_t, kMaxNameLength> first_of_length_{};
  std::vector<int8_t> next_of_length_;
};

// The schema of one operation's request.
class RequestSchema {
 public:
  // The schema of DynamoDB operation `name` ("PutItem"), or null when Eddy
  // declares none (the operation then reads its members itself).
  static const RequestSchema* Find(std::string_view name);

  // Layers 1 and 2 above for `request` (an object): OK, or the
  // SerializationException or ValidationException DynamoDB answers. The
  // inside of AttributeValues is only type-checked when something is
  // wrong: a valid request's values are checked as the operation decodes
  // them (ReadAttributeValue is as strict), so whoever gets an error from
  // a later layer calls CheckValueTypes, whose error then wins.
  ApiStatus Validate(const rapidjson::Value& request) const;

  // Layer 1 in full, AttributeValues included: the first wrong JSON type
  // in the document, or OK.
  ApiStatus CheckValueTypes(const rapidjson::Value& request) const;

  // For the schema tables.
  RequestSchema(std::vector<std::unique_ptr<Shape>> shapes, const Shape* root,
                bool table_name_prechecks);

 private:
  std::vector<std::unique_ptr<Shape>> shapes_;  // Owns the tree.
  const Shape* root_;
  // DescribeTable's family: TableName required and 3..255 characters,
  // checked before the constraint layer with their own messages.
  bool table_name_prechecks_;
};

// DynamoDB's order of visiting `names` (camelCase): java.util.HashMap's
// iteration order for those keys inserted in this order. Exposed for tests.
std::vector<size_t> JavaHashMapOrder(const std::vector<std::string>& names);

}  // namespace eddy::runtime::api

#endif  // EDDY_RUNTIME_API_REQUEST_SCHEMA_H_
