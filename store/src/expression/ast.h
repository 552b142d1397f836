// Syntax trees of DynamoDB expressions.
//
// The parser fills in what the text says (path steps as written, :value
// and #name tokens); binding (condition.cc, update.cc, projection.cc) then
// resolves the substitutions into `path` and `value` and checks DynamoDB's
// static rules. After binding the trees are immutable.
//
// Private to eddy::store.
#ifndef EDDY_STORE_EXPRESSION_AST_H_
#define EDDY_STORE_EXPRESSION_AST_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eddy/store/attribute_value.h"
#include "eddy/store/expression.h"

namespace eddy::store::expr {

// One step of a path as written.
struct PathStep {
  enum class Kind { kIdentifier, kNameRef, kIndex };
  Kind kind = Kind::kIdentifier;
  std::string text;    // Identifier, "#ref", or the index digits.
  uint64_t index = 0;  // kIndex; saturates past kMaxListIndex.
};

// An operand: a document path, a :value, or a function call.
struct Operand {
  enum class Kind { kPath, kValue, kFunction };
  Kind kind = Kind::kPath;

  std::vector<PathStep> steps;  // kPath, as written.
  Path path;                    // kPath, after binding.

  std::string token;     // kValue: ":v"; kFunction: the function name.
  AttributeValue value;  // kValue, after binding (a copy of the request's).
  std::vector<Operand> args;  // kFunction.

  bool parenthesized = false;  // Written as "(operand)".
};

enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe };

// A node of a condition (ConditionExpression, FilterExpression,
// KeyConditionExpression).
struct CondNode {
  enum class Kind { kCompare, kBetween, kIn, kFunction, kAnd, kOr, kNot };
  Kind kind = Kind::kCompare;
  CompareOp op = CompareOp::kEq;  // kCompare.
  // kCompare: 2; kBetween: value, lower, upper; kIn: value then the list;
  // kFunction: one kFunction operand (the boolean function call).
  std::vector<Operand> operands;
  std::unique_ptr<CondNode> left;   // kAnd, kOr, kNot.
  std::unique_ptr<CondNode> right;  // kAnd, kOr.
  bool parenthesized = false;       // Written as "(condition)".
};

// One action of an UpdateExpression.
struct UpdateAction {
  enum class Kind { kSet, kRemove, kAdd, kDelete };
  Kind kind = Kind::kSet;
  Operand target;  // A kPath operand: the path written or removed.
  // kSet: value = first [op second]; kAdd / kDelete: first is the :value.
  Operand first;
  std::optional<Operand> second;
  bool subtract = false;  // kSet with second: '-' rather than '+'.
};

// "<", "=", ... as DynamoDB names comparators in messages.
const char* CompareOpName(CompareOp op);

}  // namespace eddy::store::expr

#endif  // EDDY_STORE_EXPRESSION_AST_H_
