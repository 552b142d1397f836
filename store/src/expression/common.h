// Helpers shared by the expression kinds: DynamoDB's limits, error text,
// reserved words, path formatting and the overlap check of update and
// projection paths.
//
// Private to eddy::store.
#ifndef EDDY_STORE_EXPRESSION_COMMON_H_
#define EDDY_STORE_EXPRESSION_COMMON_H_

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eddy/status.h"
#include "eddy/store/expression.h"

namespace eddy::store::expr {

// Longest expression DynamoDB accepts, in bytes; checked before parsing.
inline constexpr size_t kMaxExpressionSize = 4096;
// Most operators (comparators, BETWEEN, IN, AND, OR, NOT; in updates +, -
// and functions) one expression may contain.
inline constexpr int kMaxOperators = 300;
// Most operands in the list of IN.
inline constexpr size_t kMaxInOperands = 100;
// Most steps in one document path.
inline constexpr size_t kMaxPathDepth = 32;
// Largest list index DynamoDB accepts.
inline constexpr uint64_t kMaxListIndex = 2147483647;
// Guard on parser recursion (parentheses, NOT, function calls), so that a
// pathological 4 KB expression cannot exhaust the stack. Valid expressions
// stay far below: each level needs an operator, and operators are capped.
inline constexpr int kMaxNestingDepth = 400;

// The checks DynamoDB makes before parsing: "The expression can not be
// empty;" and "Expression size has exceeded the maximum allowed size;
// expression size: <n>".
Status CheckExpressionText(std::string_view text, std::string_view kind);

// "Invalid <kind>: <message>" as an InvalidArgument.
Status InvalidExpression(std::string_view kind, std::string_view message);
// The same text without the Status, for ErrorCollector.
std::string InvalidExpressionText(std::string_view kind,
                                  std::string_view message);

// Whether `word` is one of DynamoDB's reserved words (case-insensitive).
bool IsReservedWord(std::string_view word);

// "[a, b, [2]]": the form DynamoDB uses for paths in overlap messages.
std::string PathToBracketString(const Path& path);

// Checks a list of update or projection paths for DynamoDB's
//   "Two document paths overlap with each other; ..." (one path is a prefix
//   of the other) and
//   "Two document paths conflict with each other; ..." (a map key and a list
//   index at the same position).
// Returns the message (without the "Invalid X: " prefix) of the first overlap
// and of the first conflict found, in DynamoDB's pairwise order.
struct OverlapResult {
  std::optional<std::string> overlap;
  std::optional<std::string> conflict;
};
OverlapResult FindOverlaps(const std::vector<Path>& paths);

// DynamoDB reports only one problem per expression, picked by a fixed
// priority of problem classes that differs per expression kind. Parsing
// records the first problem of each class; First() picks by priority.
enum class ErrorClass : int {
  kParens = 0,       // Redundant parentheses.
  kUnknownFunction,  // Unknown function, or one not allowed in this kind.
  kMisusedFunction,  // Function used as operand/condition where it can't be.
  kReserved,         // Reserved word used as a name; bad path shape.
  kSection,          // Update clause repeated.
  kAttrName,         // Undefined #name.
  kAttrValue,        // Undefined :value.
  kOverlap,          // Overlapping paths.
  kConflict,         // Conflicting paths.
  kOperand,          // ADD / DELETE operand type.
  kFunction,         // Operand counts and types, distinct operands.
  kCount,
};

class ErrorCollector {
 public:
  // Keeps `message` (full text, with prefix) unless the class has one.
  void Add(ErrorClass error_class, std::string message);
  void Add(ErrorClass error_class, const Status& status);
  // The recorded problem of the first class in `order` that has one.
  Status First(std::initializer_list<ErrorClass> order) const;

 private:
  std::array<std::optional<std::string>,
             static_cast<size_t>(ErrorClass::kCount)>
      errors_;
};

// Number of UTF-16 code units in UTF-8 text: DynamoDB's size() of a string.
size_t Utf16Length(std::string_view utf8);

}  // namespace eddy::store::expr

#endif  // EDDY_STORE_EXPRESSION_COMMON_H_
