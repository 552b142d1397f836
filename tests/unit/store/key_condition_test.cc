// Tests for KeyConditionExpression: extraction of the partition and sort
// conditions, DynamoDB's key-schema errors, type checks, and matching sort
// key values.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "eddy/store/expression.h"
#include "expression_test_util.h"

namespace eddy::store {
namespace {

using testing::B;
using testing::FailsWith;
using testing::IsOk;
using testing::L;
using testing::N;
using testing::S;

class KeyConditionTest : public testing::ExpressionTestBase {
 protected:
  KeyConditionTest() {
    Value(":p", S("pk"));
    Value(":c", N("3"));
    Value(":c2", N("7"));
  }

  // Parses against the schema (p HASH, c RANGE) unless told otherwise.
  Result<KeyCondition> Parse(std::string_view text,
                             std::string_view range_key = "c") {
    return KeyCondition::Parse(text, Context(), "p", range_key);
  }

  // The sort condition of `text`, which must parse and have one.
  KeyCondition::SortCondition Sort(std::string_view text) {
    Result<KeyCondition> condition = Parse(text);
    EXPECT_THAT(condition, IsOk()) << text;
    if (!condition.ok() || !condition->sort) {
      ADD_FAILURE() << "no sort condition: " << text;
      return {};
    }
    return *condition->sort;
  }
};

// A partition-only condition, also on a hash-only schema.
TEST_F(KeyConditionTest, PartitionOnly) {
  Result<KeyCondition> condition = Parse(" p  =   :p ");
  ASSERT_THAT(condition, IsOk());
  EXPECT_EQ(condition->partition_value, S("pk"));
  EXPECT_FALSE(condition->sort.has_value());
  EXPECT_THAT(Parse("p = :p", ""), IsOk());
}

// Each sort operator, with the parts in either order.
TEST_F(KeyConditionTest, SortOperators) {
  EXPECT_EQ(Sort("p = :p AND c = :c").op, KeyCondition::Op::kEq);
  EXPECT_EQ(Sort("p = :p AND c < :c").op, KeyCondition::Op::kLt);
  EXPECT_EQ(Sort("p = :p AND c <= :c").op, KeyCondition::Op::kLe);
  EXPECT_EQ(Sort("p = :p AND c > :c").op, KeyCondition::Op::kGt);
  EXPECT_EQ(Sort("c >= :c AND p = :p").op, KeyCondition::Op::kGe);
  KeyCondition::SortCondition between = Sort("p=:p AnD c BeTwEeN :c aNd :c2");
  EXPECT_EQ(between.op, KeyCondition::Op::kBetween);
  EXPECT_EQ(between.value, N("3"));
  EXPECT_EQ(between.value2, N("7"));
  Value(":prefix", S("00"));
  Result<KeyCondition> begins = KeyCondition::Parse(
      "p = :p AND begins_with(c, :prefix)", Context(), "p", "c");
  ASSERT_THAT(begins, IsOk());
  EXPECT_EQ(begins->sort->op, KeyCondition::Op::kBeginsWith);
  EXPECT_EQ(begins->sort->value, S("00"));
}

// A value on the left mirrors the comparator: ":c < c" is c > :c.
TEST_F(KeyConditionTest, ValueOnTheLeftMirrorsTheComparator) {
  EXPECT_EQ(Sort(":p = p AND :c < c").op, KeyCondition::Op::kGt);
  EXPECT_EQ(Sort(":p = p AND :c >= c").op, KeyCondition::Op::kLe);
  EXPECT_EQ(Sort(":p = p AND :c = c").op, KeyCondition::Op::kEq);
}

// #names stand for the key attributes; parentheses are allowed once per
// level.
TEST_F(KeyConditionTest, NamesAndParentheses) {
  Name("#n1", "p");
  Name("#n2", "c");
  EXPECT_THAT(Parse("#n1 = :p AND #n2 = :c"), IsOk());
  EXPECT_THAT(Parse("((c=:c) AND (p=:p))"), IsOk());
  EXPECT_THAT(Parse("((c=:c) AND ((p=:p)))"),
              FailsWith("Invalid KeyConditionExpression: The expression has "
                        "redundant parentheses;"));
}

// OR, NOT, IN, <> and functions other than begins_with are parsed but not
// allowed.
TEST_F(KeyConditionTest, UnsupportedOperators) {
  EXPECT_THAT(Parse("c = :c OR p = :p"),
              FailsWith("Invalid operator used in KeyConditionExpression: OR"));
  EXPECT_THAT(Parse("NOT c = :c AND p = :p"),
              FailsWith("Invalid operator used in KeyConditionExpression: "
                        "NOT"));
  EXPECT_THAT(Parse("p = :p AND c IN (:c)"),
              FailsWith("Invalid operator used in KeyConditionExpression: IN"));
  EXPECT_THAT(Parse("p = :p AND c <> :c"),
              FailsWith("Invalid operator used in KeyConditionExpression: <>"));
  EXPECT_THAT(Parse("p = :p AND attribute_exists(c)"),
              FailsWith("Invalid operator used in KeyConditionExpression: "
                        "attribute_exists"));
  EXPECT_THAT(Parse("p = :p AND dog(c, :c)"),
              FailsWith("Invalid KeyConditionExpression: Invalid function "
                        "name; function: dog"));
  EXPECT_THAT(Parse("p = :p AND c != :c"),
              FailsWith("Invalid KeyConditionExpression: Syntax error; token: "
                        "\"!\", near: \"c !=\""));
}

// The partition key must have a condition, and it must be equality.
TEST_F(KeyConditionTest, PartitionKeyRules) {
  EXPECT_THAT(Parse("c = :c"),
              FailsWith("Query condition missed key schema element: p"));
  EXPECT_THAT(Parse("p < :p"), FailsWith("Query key condition not supported"));
  EXPECT_THAT(Parse("begins_with(p, :p)"),
              FailsWith("Query key condition not supported"));
}

// One condition per key; a second condition must be on the sort key.
TEST_F(KeyConditionTest, ConditionCountRules) {
  Value(":a", N("3"));
  EXPECT_THAT(Parse("p = :p AND p = :p"),
              FailsWith("KeyConditionExpressions must only contain one "
                        "condition per key"));
  EXPECT_THAT(Parse("p = :p AND c >= :c AND c <= :c2"),
              FailsWith("KeyConditionExpressions must only contain one "
                        "condition per key"));
  EXPECT_THAT(Parse("p = :p AND a < :a"),
              FailsWith("Query condition missed key schema element: c"));
  EXPECT_THAT(Parse("p = :p AND c < :c AND a < :a"),
              FailsWith("Conditions can be of length 1 or 2 only"));
  EXPECT_THAT(Parse("p = :p AND c < :c", ""),
              FailsWith("Query key condition not supported"));
}

// Key conditions compare one top-level key attribute with values.
TEST_F(KeyConditionTest, OperandShapeRules) {
  Value(":a", N("3"));
  EXPECT_THAT(Parse("p = :p AND a.b < :a"),
              FailsWith("KeyConditionExpressions cannot have conditions on "
                        "nested attributes"));
  EXPECT_THAT(Parse("p = :p AND size(c) < :a"),
              FailsWith("KeyConditionExpressions cannot contain nested "
                        "operations"));
  EXPECT_THAT(Parse("p = c"), FailsWith("Query key condition not supported"));
  EXPECT_THAT(Parse(":p = :a"), FailsWith("Query key condition not supported"));
  EXPECT_THAT(Parse("p"), FailsWith("Invalid KeyConditionExpression: Syntax "
                                    "error; token: \"<EOF>\", near: \"p\""));
}

// Key values must be S, N or B, and strings must not be empty.
TEST_F(KeyConditionTest, KeyValueRules) {
  Value(":l", L({N("1")}));
  Value(":empty", S(""));
  Value(":n", N("3"));
  EXPECT_THAT(Parse("p = :l"),
              FailsWith("One or more parameter values were invalid: Condition "
                        "parameter type does not match schema type"));
  EXPECT_THAT(Parse("p = :empty"),
              FailsWith("One or more parameter values are not valid. The "
                        "AttributeValue for a key attribute cannot contain an "
                        "empty string value. Key: p"));
  EXPECT_THAT(Parse("p = :p AND begins_with(c, :n)"),
              FailsWith("Invalid KeyConditionExpression: Incorrect operand "
                        "type for operator or function; operator or function: "
                        "begins_with, operand type: N"));
}

// The operands' types must match the schema's.
TEST_F(KeyConditionTest, CheckKeyTypes) {
  Result<KeyCondition> condition = Parse("p = :p AND c BETWEEN :c AND :c2");
  ASSERT_THAT(condition, IsOk());
  EXPECT_THAT(condition->CheckKeyTypes(ValueType::kS, ValueType::kN), IsOk());
  const char* kMismatch =
      "One or more parameter values were invalid: Condition parameter type "
      "does not match schema type";
  EXPECT_THAT(condition->CheckKeyTypes(ValueType::kN, ValueType::kN),
              FailsWith(kMismatch));
  EXPECT_THAT(condition->CheckKeyTypes(ValueType::kS, ValueType::kS),
              FailsWith(kMismatch));
  Value(":s", S("0"));
  Result<KeyCondition> begins =
      KeyCondition::Parse("p = :p AND begins_with(c, :s)", Context(), "p", "c");
  ASSERT_THAT(begins, IsOk());
  EXPECT_THAT(begins->CheckKeyTypes(ValueType::kS, ValueType::kN),
              FailsWith(kMismatch));
  EXPECT_THAT(begins->CheckKeyTypes(ValueType::kS, ValueType::kS), IsOk());
}

// Undefined and unused substitutions behave as in other expressions.
TEST_F(KeyConditionTest, Substitutions) {
  EXPECT_THAT(Parse("p = :missing"),
              FailsWith("Invalid KeyConditionExpression: An expression "
                        "attribute value used in expression is not defined; "
                        "attribute value: :missing"));
  EXPECT_THAT(Parse("#name1 = :p"),
              FailsWith("Invalid KeyConditionExpression: An expression "
                        "attribute name used in the document path is not "
                        "defined; attribute name: #name1"));
}

// Matches() applies the sort condition to sort key values.
TEST_F(KeyConditionTest, SortConditionMatches) {
  EXPECT_TRUE(Sort("p = :p AND c = :c").Matches(N("3.0")));
  EXPECT_FALSE(Sort("p = :p AND c = :c").Matches(N("4")));
  EXPECT_TRUE(Sort("p = :p AND c < :c").Matches(N("2")));
  EXPECT_FALSE(Sort("p = :p AND c < :c").Matches(N("3")));
  EXPECT_TRUE(Sort("p = :p AND c <= :c").Matches(N("3")));
  EXPECT_TRUE(Sort("p = :p AND c > :c").Matches(N("10")));
  EXPECT_TRUE(Sort("p = :p AND c >= :c").Matches(N("3")));
  KeyCondition::SortCondition between = Sort("p = :p AND c BETWEEN :c AND :c2");
  EXPECT_TRUE(between.Matches(N("3")));
  EXPECT_TRUE(between.Matches(N("7")));
  EXPECT_FALSE(between.Matches(N("7.5")));
  EXPECT_FALSE(between.Matches(S("5")));
  Value(":b", B("\x7f"));
  Value(":prefix", B("ab"));
  EXPECT_TRUE(Sort("p = :p AND c > :b").Matches(B("\x80")));
  EXPECT_TRUE(Sort("p = :p AND begins_with(c, :prefix)").Matches(B("abc")));
  EXPECT_FALSE(Sort("p = :p AND begins_with(c, :prefix)").Matches(B("a")));
  EXPECT_FALSE(Sort("p = :p AND begins_with(c, :prefix)").Matches(S("abc")));
}

}  // namespace
}  // namespace eddy::store
