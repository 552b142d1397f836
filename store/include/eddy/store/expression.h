// DynamoDB expressions: ConditionExpression / FilterExpression,
// UpdateExpression, ProjectionExpression and KeyConditionExpression.
//
// An expression is parsed once per request against the request's
// ExpressionAttributeNames and ExpressionAttributeValues (an
// ExpressionContext), then evaluated or applied against items. All errors are
// InvalidArgument carrying DynamoDB's message text, e.g.
//   "Invalid ConditionExpression: Syntax error; token: \"<\", near: \"a <\""
//   "Invalid UpdateExpression: An expression attribute value used in
//    expression is not defined; attribute value: :v"
// where the prefix names the parameter the expression came from.
//
// Thread-safety: parsed expressions are immutable after Parse and may be
// evaluated from several threads; an ExpressionContext belongs to one request.
#ifndef EDDY_STORE_EXPRESSION_H_
#define EDDY_STORE_EXPRESSION_H_

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "eddy/result.h"
#include "eddy/store/attribute_value.h"

namespace eddy::store {

// One step of a document path: a map key / attribute name, or a list index.
struct PathElement {
  std::string name;    // Valid when !is_index.
  uint32_t index = 0;  // Valid when is_index.
  bool is_index = false;

  bool operator==(const PathElement& o) const {
    return is_index == o.is_index &&
           (is_index ? index == o.index : name == o.name);
  }
};
// A resolved document path such as a.b[2].c; element 0 is the attribute name.
using Path = std::vector<PathElement>;

// "a.b[2].c", for messages.
std::string PathToString(const Path& path);

// Reads the value at `path` in `item`; nullptr when any step is missing or
// has the wrong type (an index into a non-list, a key into a non-map).
const AttributeValue* ResolvePath(const Item& item, const Path& path);

// The substitution maps of one request, and which of their entries the
// request's expressions used. One context is shared by every expression of a
// request so that CheckAllUsed() can report DynamoDB's "unused" errors.
class ExpressionContext {
 public:
  // Either map may be null (parameter absent). The maps must outlive the
  // context.
  ExpressionContext(const std::map<std::string, std::string>* names,
                    const AttributeMap* values);

  // "#n" -> the name; error when undefined. Records the use.
  Result<std::string> ResolveName(std::string_view token,
                                  std::string_view expression_kind);
  // ":v" -> the value; error when undefined. Records the use.
  Result<const AttributeValue*> ResolveValue(std::string_view token,
                                             std::string_view expression_kind);

  // After every expression of the request is parsed: DynamoDB's
  //   "Value provided in ExpressionAttributeNames unused in expressions:
  //    keys: {#a, #b}"
  // (names are checked before values, as DynamoDB does).
  Status CheckAllUsed() const;

 private:
  const std::map<std::string, std::string>* names_;
  const AttributeMap* values_;
  std::set<std::string, std::less<>> used_names_;
  std::set<std::string, std::less<>> used_values_;
};

// A parsed ConditionExpression or FilterExpression.
class Condition {
 public:
  virtual ~Condition() = default;
  // `kind` is the parameter name used in error messages
  // ("ConditionExpression", "FilterExpression").
  static Result<std::unique_ptr<Condition>> Parse(std::string_view text,
                                                  std::string_view kind,
                                                  ExpressionContext* context);
  // True when the item (empty when it does not exist) satisfies the
  // condition. Comparisons between different types are false, as in DynamoDB.
  virtual bool Evaluate(const Item& item) const = 0;
  // Every document path the condition reads, in expression order (used to
  // reject key attributes in a Query's FilterExpression).
  virtual const std::vector<Path>& paths() const = 0;
};

// A parsed UpdateExpression (SET, REMOVE, ADD, DELETE clauses).
class Update {
 public:
  virtual ~Update() = default;
  static Result<std::unique_ptr<Update>> Parse(std::string_view text,
                                               ExpressionContext* context);
  // Applies every action to *item (empty when the item does not exist yet;
  // REMOVE then does nothing, as in DynamoDB). Values are computed from the
  // item as it was, and list indexes name positions in the original lists.
  // Errors are InvalidArgument with DynamoDB's messages, e.g. "The provided
  // expression refers to an attribute that does not exist in the item" or
  // "An operand in the update expression has an incorrect data type".
  // On error *item is unspecified; callers apply to a copy.
  virtual Status Apply(Item* item) const = 0;
  // The paths this update writes or removes, in expression order; used for
  // ReturnValues UPDATED_OLD / UPDATED_NEW and the key-attribute check.
  virtual const std::vector<Path>& paths() const = 0;
};

// A parsed ProjectionExpression.
class Projection {
 public:
  static Result<Projection> Parse(std::string_view text,
                                  ExpressionContext* context);
  // Builds a projection from already-resolved paths (used for
  // UPDATED_OLD/UPDATED_NEW and AttributesToGet).
  explicit Projection(std::vector<Path> paths);
  // The parts of `item` named by the paths, nested as in the item; list
  // elements picked by index are compacted in index order, as DynamoDB does.
  Item Apply(const Item& item) const;
  const std::vector<Path>& paths() const { return paths_; }

 private:
  std::vector<Path> paths_;
};

// DynamoDB's comparison of two scalars: S and B bytewise (unsigned), N
// numerically; nullopt for values of different or non-scalar types.
std::optional<int> CompareValues(const AttributeValue& a,
                                 const AttributeValue& b);
// DynamoDB's contains(): a substring of an S or B, a member of a set (of the
// needle's type), an element of a list.
bool ContainsValue(const AttributeValue& haystack,
                   const AttributeValue& needle);

// A parsed KeyConditionExpression, checked against the key schema.
struct KeyCondition {
  enum class Op { kEq, kLt, kLe, kGt, kGe, kBetween, kBeginsWith };
  struct SortCondition {
    Op op = Op::kEq;
    AttributeValue value;   // The operand (lower bound for BETWEEN).
    AttributeValue value2;  // Upper bound for BETWEEN.

    // Whether a sort key value satisfies the condition: S and B compare
    // bytewise (unsigned), N numerically; a value of another type than the
    // operand never matches.
    bool Matches(const AttributeValue& sort_value) const;
  };
  AttributeValue partition_value;
  std::optional<SortCondition> sort;

  // `hash_key` and `range_key` are the names in the table's (or index's)
  // key schema; `range_key` is empty for a hash-only schema. Errors follow
  // DynamoDB: "Query condition missed key schema element: <name>",
  // "Query key condition not supported", "Invalid KeyConditionExpression: ...".
  static Result<KeyCondition> Parse(std::string_view text,
                                    ExpressionContext* context,
                                    std::string_view hash_key,
                                    std::string_view range_key);

  // Checks the operands against the key schema's attribute types (S, N or
  // B): "One or more parameter values were invalid: Condition parameter type
  // does not match schema type". `range_type` is ignored without a sort
  // condition. Call after Parse, once the schema's types are known.
  Status CheckKeyTypes(ValueType hash_type, ValueType range_type) const;
};

}  // namespace eddy::store

#endif  // EDDY_STORE_EXPRESSION_H_
