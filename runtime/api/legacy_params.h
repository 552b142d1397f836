// The legacy (pre-expression) request parameters that older SDKs and object
// mappers still send, translated into the store's expression objects:
//
//   Expected + ConditionalOperator     -> store::Condition (PutItem,
//                                         UpdateItem, DeleteItem)
//   QueryFilter / ScanFilter
//     + ConditionalOperator            -> store::Condition (the filter)
//   AttributeUpdates                   -> store::Update (UpdateItem)
//   AttributesToGet                    -> store::Projection
//   KeyConditions                      -> store::KeyCondition (Query)
//
// Semantics and error texts follow DynamoDB (dynalite's recording of them,
// DynamoDB Local and Alternator's tests against DynamoDB), for example:
//   - NE is true for a missing attribute, NOT_CONTAINS is false for one.
//   - Comparisons between different types are false, not errors.
//   - "One or more parameter values were invalid: Invalid number of
//      argument(s) for the BETWEEN ComparisonOperator".
//   - AttributeUpdates ADD on a missing attribute starts from 0 / the empty
//     set / the empty list; "Type mismatch for attribute to update" when the
//     existing attribute has another type.
// Legacy attribute names are literal (a dot or a reserved word is part of
// the name), so every condition and update addresses a top-level
// attribute.
//
// The first half of this header is pure logic over typed values (unit
// tested); the second half reads the parameters from a request object.
//
// Thread-safety: the objects built here are immutable after construction
// and may be evaluated from several threads, as the store's own.
#ifndef EDDY_RUNTIME_API_LEGACY_PARAMS_H_
#define EDDY_RUNTIME_API_LEGACY_PARAMS_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/errors.h"
#include "api/json_codec.h"
#include "eddy/result.h"
#include "eddy/store/attribute_value.h"
#include "eddy/store/expression.h"

namespace eddy::runtime::api::legacy {

// ---------------------------------------------------------------------------
// Pure logic.

enum class ComparisonOperator {
  kEq,
  kNe,
  kLe,
  kLt,
  kGe,
  kGt,
  kNotNull,
  kNull,
  kContains,
  kNotContains,
  kBeginsWith,
  kIn,
  kBetween,
};

// "EQ" -> kEq, ...; nullopt for an unknown name (case-sensitive).
std::optional<ComparisonOperator> ParseComparisonOperator(std::string_view);
// kEq -> "EQ", ...
std::string_view ComparisonOperatorName(ComparisonOperator op);

// One condition on one (top-level) attribute: Expected's ComparisonOperator
// form, a QueryFilter / ScanFilter entry, or a KeyConditions entry.
struct AttributeCondition {
  std::string attribute;
  ComparisonOperator op = ComparisonOperator::kEq;
  std::vector<store::AttributeValue> values;  // The AttributeValueList.

  // Whether `value` (null when the item lacks the attribute) satisfies the
  // condition. REQUIRES: CheckArguments(op, values).ok().
  bool Matches(const store::AttributeValue* value) const;
};

// DynamoDB's checks of an AttributeValueList, in its order: the number of
// values ("... Invalid number of argument(s) for the IN
// ComparisonOperator"), each value's type ("... ComparisonOperator LT is not
// valid for SS AttributeValue type"), one type for all ("...
// AttributeValues inside AttributeValueList must be of same type") and
// BETWEEN's order ("The BETWEEN condition was provided a range where the
// lower bound is greater than the upper bound"). InvalidArgument.
Status CheckArguments(ComparisonOperator op,
                      const std::vector<store::AttributeValue>& values);

enum class ConditionalOperator { kAnd, kOr };

// The conditions joined by AND or OR (an empty list is true). The
// condition's paths() are the attributes, in order.
std::unique_ptr<store::Condition> MakeCondition(
    std::vector<AttributeCondition> conditions, ConditionalOperator joiner);

enum class UpdateAction { kPut, kAdd, kDelete };

// One AttributeUpdates entry.
struct AttributeUpdate {
  std::string attribute;
  UpdateAction action = UpdateAction::kPut;
  std::optional<store::AttributeValue> value;
};

// DynamoDB's static checks of an entry: "One or more parameter values were
// invalid: Only DELETE action is allowed when no attribute value is
// specified", "... DELETE action with value is not supported for the type
// N", "... ADD action is not supported for the type S".
Status CheckAttributeUpdate(const AttributeUpdate& update);

// The updates as one store::Update; its paths() are the attributes, in
// order. Apply():
//   PUT     sets the attribute;
//   DELETE  without a value removes it; with a set, removes those members
//           (and the attribute once empty); a missing attribute is left
//           alone;
//   ADD     adds a number (a missing attribute counts as 0), unions a set,
//           appends to a list (a missing attribute counts as empty).
// Applying ADD or DELETE to an attribute of another type fails with
// InvalidArgument "Type mismatch for attribute to update".
// REQUIRES: CheckAttributeUpdate(u).ok() for each update.
std::unique_ptr<store::Update> MakeUpdate(std::vector<AttributeUpdate> updates);

// KeyConditions as a KeyCondition for the key schema (`range_key` empty for
// a hash-only table). Errors, as DynamoDB reports them: "Conditions can be
// of length 1 or 2 only", "Query key condition not supported", "Query
// condition missed key schema element: <name>", "Attempted conditional
// constraint is not an indexable operation". The caller still checks the
// operand types with KeyCondition::CheckKeyTypes.
// REQUIRES: CheckArguments(c.op, c.values).ok() for each condition.
Result<store::KeyCondition> MakeKeyCondition(
    const std::vector<AttributeCondition>& conditions,
    std::string_view hash_key, std::string_view range_key);

// ---------------------------------------------------------------------------
// Reading the parameters of a request.

// (Whether a request mixes these with expressions is checked by
// CheckExpressionParams, operations.h.)

// Expected and ConditionalOperator (PutItem, UpdateItem, DeleteItem). *out
// stays null when there is no Expected (or it is empty).
ApiStatus ReadExpected(const Params& params,
                       std::unique_ptr<store::Condition>* out);

// QueryFilter or ScanFilter (`name`) and ConditionalOperator. *out stays
// null when the filter is absent or empty.
ApiStatus ReadFilter(const Params& params, const char* name,
                     std::unique_ptr<store::Condition>* out);

// AttributeUpdates (UpdateItem). *out stays null when absent or empty.
ApiStatus ReadAttributeUpdates(const Params& params,
                               std::unique_ptr<store::Update>* out);

// AttributesToGet as a projection of top-level attributes. `path` is where
// constraint errors point ("attributesToGet", or
// "requestItems.<table>.member.attributesToGet" in BatchGetItem).
ApiStatus ReadAttributesToGet(const Params& params, std::string_view path,
                              std::optional<store::Projection>* out);

// KeyConditions (Query), with each entry's AttributeValueList checked.
// *out stays nullopt when absent.
ApiStatus ReadKeyConditions(
    const Params& params, std::optional<std::vector<AttributeCondition>>* out);

}  // namespace eddy::runtime::api::legacy

#endif  // EDDY_RUNTIME_API_LEGACY_PARAMS_H_
