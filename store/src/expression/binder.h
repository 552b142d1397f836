// Binding of parsed operands: resolving #names and :values through the
// request's ExpressionContext and checking path shapes.
//
// Private to eddy::store.
#ifndef EDDY_STORE_EXPRESSION_BINDER_H_
#define EDDY_STORE_EXPRESSION_BINDER_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "eddy/result.h"
#include "eddy/store/attribute_value.h"
#include "eddy/store/expression.h"
#include "expression/ast.h"
#include "expression/common.h"

namespace eddy::store::expr {

// Resolves the steps of a kPath operand into op->path. Reserved words
// ("Attribute name is a reserved keyword; reserved keyword: x"), too deep
// paths and out-of-range indexes go to ErrorClass::kReserved; undefined
// #names go to `name_class`.
void BindPath(Operand* op, std::string_view kind, ExpressionContext* context,
              ErrorCollector* errors, ErrorClass name_class);

// Resolves a kValue operand into op->value; an undefined :value goes to
// `value_class`.
void BindValue(Operand* op, std::string_view kind, ExpressionContext* context,
               ErrorCollector* errors, ErrorClass value_class);

// The type an operand is known to have before any item is seen: the type of
// a :value, N for size(...), none for paths and other functions.
std::optional<ValueType> StaticType(const Operand& op);

// "AttributeValue: {N:2}" as DynamoDB prints operands of BETWEEN.
std::string AttributeValueForMessage(const AttributeValue& value);

// Orders two values as DynamoDB's <, <=, >, >= do: S and B bytewise
// (unsigned), N numerically. nullopt when the types differ or are not
// S, N or B. Implemented in condition.cc.
std::optional<int> CompareScalars(const AttributeValue& a,
                                  const AttributeValue& b);

// Parses and binds a ConditionExpression-grammar text (condition, filter or
// key condition) with every static check DynamoDB makes, reporting the
// problem DynamoDB would report first. Implemented in condition.cc.
// REQUIRES: context != nullptr.
Result<std::unique_ptr<CondNode>> ParseConditionTree(
    std::string_view text, std::string_view kind, ExpressionContext* context);

}  // namespace eddy::store::expr

#endif  // EDDY_STORE_EXPRESSION_BINDER_H_
