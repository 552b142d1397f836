// The legacy request parameters as store expression objects: DynamoDB's
// argument checks, the comparison operators' semantics (missing attributes,
// mixed types), AND/OR, the AttributeUpdates actions and KeyConditions.
#include "api/legacy_params.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../store/expression_test_util.h"

namespace eddy::runtime::api::legacy {
namespace {

using store::AttributeValue;
using store::Item;
using store::testing::B;
using store::testing::BS;
using store::testing::FailsWith;
using store::testing::IsOk;
using store::testing::L;
using store::testing::N;
using store::testing::NS;
using store::testing::Null;
using store::testing::S;
using store::testing::SS;
using Op = ComparisonOperator;

class LegacyParamsTest : public ::testing::Test {
 protected:
  // Whether `value` (nullptr: attribute missing) satisfies op(values).
  static bool Matches(Op op, std::vector<AttributeValue> values,
                      const AttributeValue* value) {
    EXPECT_THAT(CheckArguments(op, values), IsOk());
    AttributeCondition c{"a", op, std::move(values)};
    return c.Matches(value);
  }
  static bool Matches(Op op, std::vector<AttributeValue> values,
                      const AttributeValue& value) {
    return Matches(op, std::move(values), &value);
  }
  static Status Check(Op op, std::vector<AttributeValue> values) {
    return CheckArguments(op, values);
  }

  // Applies the updates to `item` (checking each first).
  static Status Apply(std::vector<AttributeUpdate> updates, Item* item) {
    for (const AttributeUpdate& u : updates) {
      Status s = CheckAttributeUpdate(u);
      if (!s.ok()) return s;
    }
    return MakeUpdate(std::move(updates))->Apply(item);
  }
  static AttributeUpdate Put(std::string name, AttributeValue v) {
    return {std::move(name), UpdateAction::kPut, std::move(v)};
  }
  static AttributeUpdate Add(std::string name, AttributeValue v) {
    return {std::move(name), UpdateAction::kAdd, std::move(v)};
  }
  static AttributeUpdate Delete(std::string name,
                                std::optional<AttributeValue> v = {}) {
    return {std::move(name), UpdateAction::kDelete, std::move(v)};
  }

  static AttributeCondition Cond(std::string name, Op op,
                                 std::vector<AttributeValue> values) {
    return {std::move(name), op, std::move(values)};
  }
};

TEST_F(LegacyParamsTest, OperatorNamesRoundTrip) {
  for (std::string_view name :
       {"EQ", "NE", "LE", "LT", "GE", "GT", "NOT_NULL", "NULL", "CONTAINS",
        "NOT_CONTAINS", "BEGINS_WITH", "IN", "BETWEEN"}) {
    std::optional<Op> op = ParseComparisonOperator(name);
    ASSERT_TRUE(op.has_value()) << name;
    EXPECT_EQ(ComparisonOperatorName(*op), name);
  }
  // Names are case-sensitive, as in DynamoDB's enum.
  EXPECT_FALSE(ParseComparisonOperator("eq").has_value());
  EXPECT_FALSE(ParseComparisonOperator("NOT_EQ").has_value());
}

// Each operator takes a fixed number of values (IN: one or more).
TEST_F(LegacyParamsTest, ArgumentCounts) {
  const std::string prefix = "One or more parameter values were invalid: ";
  EXPECT_THAT(Check(Op::kEq, {}),
              FailsWith(prefix + "Invalid number of argument(s) for the EQ "
                                 "ComparisonOperator"));
  EXPECT_THAT(Check(Op::kNe, {N("1"), N("2")}),
              FailsWith(prefix + "Invalid number of argument(s) for the NE "
                                 "ComparisonOperator"));
  EXPECT_THAT(Check(Op::kNull, {N("1")}),
              FailsWith(prefix + "Invalid number of argument(s) for the NULL "
                                 "ComparisonOperator"));
  EXPECT_THAT(
      Check(Op::kBetween, {N("1")}),
      FailsWith(prefix + "Invalid number of argument(s) for the BETWEEN "
                         "ComparisonOperator"));
  EXPECT_THAT(Check(Op::kIn, {}),
              FailsWith(prefix + "Invalid number of argument(s) for the IN "
                                 "ComparisonOperator"));
  EXPECT_THAT(Check(Op::kNotNull, {}), IsOk());
  EXPECT_THAT(Check(Op::kIn, {N("1"), N("2"), N("3")}), IsOk());
}

// Ordering operators take S, N or B; BEGINS_WITH S or B; CONTAINS scalars.
TEST_F(LegacyParamsTest, ArgumentTypes) {
  const std::string prefix = "One or more parameter values were invalid: ";
  EXPECT_THAT(Check(Op::kLt, {SS({"a"})}),
              FailsWith(prefix + "ComparisonOperator LT is not valid for SS "
                                 "AttributeValue type"));
  EXPECT_THAT(
      Check(Op::kBeginsWith, {N("3")}),
      FailsWith(prefix + "ComparisonOperator BEGINS_WITH is not valid for N "
                         "AttributeValue type"));
  EXPECT_THAT(
      Check(Op::kContains, {L({N("1")})}),
      FailsWith(prefix + "ComparisonOperator CONTAINS is not valid for L "
                         "AttributeValue type"));
  EXPECT_THAT(Check(Op::kIn, {L({N("1")}), L({N("2")})}),
              FailsWith(prefix + "ComparisonOperator IN is not valid for L "
                                 "AttributeValue type"));
  EXPECT_THAT(Check(Op::kEq, {SS({"a"})}), IsOk());
  EXPECT_THAT(Check(Op::kEq, {L({N("1")})}), IsOk());
  EXPECT_THAT(Check(Op::kContains, {Null()}), IsOk());
}

TEST_F(LegacyParamsTest, ValuesOfOneType) {
  EXPECT_THAT(Check(Op::kIn, {N("3"), S("dog")}),
              FailsWith("One or more parameter values were invalid: "
                        "AttributeValues inside AttributeValueList must be of "
                        "same type"));
  EXPECT_THAT(Check(Op::kBetween, {N("4"), S("dog")}),
              FailsWith("One or more parameter values were invalid: "
                        "AttributeValues inside AttributeValueList must be of "
                        "same type"));
}

// Bounds compare by value: 9 < 10 although "9" > "10" as text.
TEST_F(LegacyParamsTest, BetweenBoundsInOrder) {
  EXPECT_THAT(Check(Op::kBetween, {N("10"), N("9")}),
              FailsWith("The BETWEEN condition was provided a range where the "
                        "lower bound is greater than the upper bound"));
  EXPECT_THAT(Check(Op::kBetween, {N("9"), N("10")}), IsOk());
  EXPECT_THAT(Check(Op::kBetween, {S("dog"), S("aardvark")}),
              FailsWith("The BETWEEN condition was provided a range where the "
                        "lower bound is greater than the upper bound"));
  EXPECT_THAT(Check(Op::kBetween, {N("2"), N("2")}), IsOk());
}

// DynamoDB: NE holds for a missing attribute, NOT_CONTAINS does not.
TEST_F(LegacyParamsTest, MissingAttribute) {
  EXPECT_FALSE(Matches(Op::kEq, {N("1")}, nullptr));
  EXPECT_TRUE(Matches(Op::kNe, {N("1")}, nullptr));
  EXPECT_FALSE(Matches(Op::kLt, {N("1")}, nullptr));
  EXPECT_FALSE(Matches(Op::kContains, {N("1")}, nullptr));
  EXPECT_FALSE(Matches(Op::kNotContains, {N("1")}, nullptr));
  EXPECT_FALSE(Matches(Op::kBetween, {N("0"), N("9")}, nullptr));
  EXPECT_FALSE(Matches(Op::kIn, {N("1")}, nullptr));
  EXPECT_TRUE(Matches(Op::kNull, {}, nullptr));
  EXPECT_FALSE(Matches(Op::kNotNull, {}, nullptr));
  // NULL means "absent", not "of type NULL".
  EXPECT_FALSE(Matches(Op::kNull, {}, Null()));
}

// A value of another type is unequal and unordered, never an error.
TEST_F(LegacyParamsTest, MixedTypesCompareFalse) {
  EXPECT_FALSE(Matches(Op::kEq, {S("1")}, N("1")));
  EXPECT_TRUE(Matches(Op::kNe, {S("1")}, N("1")));
  EXPECT_FALSE(Matches(Op::kLe, {S("1")}, N("1")));
  EXPECT_FALSE(Matches(Op::kGe, {S("1")}, N("1")));
  EXPECT_FALSE(Matches(Op::kBeginsWith, {S("1")}, N("12")));
  EXPECT_FALSE(Matches(Op::kIn, {S("1")}, N("1")));
}

TEST_F(LegacyParamsTest, OrderingByType) {
  EXPECT_TRUE(Matches(Op::kLt, {N("10")}, N("9")));
  EXPECT_TRUE(Matches(Op::kGt, {S("10")}, S("9")));
  // Binary compares as unsigned bytes.
  EXPECT_TRUE(Matches(Op::kGt, {B("\x01")}, B("\xff")));
  EXPECT_TRUE(Matches(Op::kLe, {N("1.0")}, N("1")));
  EXPECT_FALSE(Matches(Op::kLt, {N("1")}, N("1")));
  EXPECT_TRUE(Matches(Op::kBetween, {N("1"), N("3")}, N("3")));
  EXPECT_FALSE(Matches(Op::kBetween, {N("1"), N("3")}, N("3.5")));
}

TEST_F(LegacyParamsTest, EqualityIsDeepAndSetsUnordered) {
  EXPECT_TRUE(Matches(Op::kEq, {SS({"b", "a"})}, SS({"a", "b"})));
  EXPECT_TRUE(Matches(Op::kEq, {L({N("1"), S("x")})}, L({N("1"), S("x")})));
  EXPECT_FALSE(Matches(Op::kEq, {L({S("x"), N("1")})}, L({N("1"), S("x")})));
  EXPECT_TRUE(Matches(Op::kNe, {N("6")}, NS({"6", "2"})));
}

// CONTAINS: substrings of S and B, members of sets, elements of lists.
TEST_F(LegacyParamsTest, Contains) {
  EXPECT_TRUE(Matches(Op::kContains, {S("ell")}, S("hello")));
  EXPECT_TRUE(Matches(Op::kContains, {B("re")}, B("here")));
  EXPECT_TRUE(Matches(Op::kContains, {N("4")}, NS({"2", "4", "7"})));
  EXPECT_TRUE(Matches(Op::kContains, {N("4")}, L({N("2"), N("4")})));
  EXPECT_TRUE(Matches(Op::kContains, {B("a")}, BS({"a", "b"})));
  EXPECT_FALSE(Matches(Op::kContains, {N("1")}, S("a1")));
  EXPECT_FALSE(Matches(Op::kContains, {S("2")}, NS({"2"})));
  EXPECT_TRUE(Matches(Op::kNotContains, {S("dog")}, S("hello")));
  EXPECT_FALSE(Matches(Op::kNotContains, {N("4")}, NS({"4"})));
  EXPECT_TRUE(Matches(Op::kNotContains, {N("1")}, S("a1")));
}

TEST_F(LegacyParamsTest, BeginsWithAndIn) {
  EXPECT_TRUE(Matches(Op::kBeginsWith, {S("hell")}, S("hello")));
  EXPECT_FALSE(Matches(Op::kBeginsWith, {S("hello!")}, S("hello")));
  EXPECT_TRUE(Matches(Op::kBeginsWith, {B("hi")}, B("hi there")));
  EXPECT_TRUE(Matches(Op::kIn, {N("2"), N("3"), N("8")}, N("3")));
  // IN tests the attribute against the list, not list members in a set.
  EXPECT_FALSE(Matches(Op::kIn, {N("2")}, NS({"2", "4"})));
}

// ConditionalOperator AND (the default) needs every condition, OR one.
TEST_F(LegacyParamsTest, AndOr) {
  Item item{{"a", N("1")}, {"b", N("2")}};
  std::vector<AttributeCondition> conditions = {Cond("a", Op::kEq, {N("1")}),
                                                Cond("b", Op::kEq, {N("999")})};
  EXPECT_FALSE(
      MakeCondition(conditions, ConditionalOperator::kAnd)->Evaluate(item));
  EXPECT_TRUE(
      MakeCondition(conditions, ConditionalOperator::kOr)->Evaluate(item));
  conditions[1].values = {N("2")};
  EXPECT_TRUE(
      MakeCondition(conditions, ConditionalOperator::kAnd)->Evaluate(item));
  // No conditions: true.
  EXPECT_TRUE(MakeCondition({}, ConditionalOperator::kOr)->Evaluate(item));
}

// Legacy names are literal: "a.b" is one attribute, not a path.
TEST_F(LegacyParamsTest, NamesAreLiteral) {
  std::unique_ptr<store::Condition> c = MakeCondition(
      {Cond("a.b", Op::kEq, {N("1")})}, ConditionalOperator::kAnd);
  ASSERT_EQ(c->paths().size(), 1u);
  ASSERT_EQ(c->paths()[0].size(), 1u);
  EXPECT_EQ(c->paths()[0][0].name, "a.b");
  EXPECT_TRUE(c->Evaluate(Item{{"a.b", N("1")}}));
  EXPECT_FALSE(c->Evaluate(Item{{"a", store::testing::M({{"b", N("1")}})}}));
}

TEST_F(LegacyParamsTest, UpdateActionChecks) {
  const std::string prefix = "One or more parameter values were invalid: ";
  EXPECT_THAT(
      CheckAttributeUpdate({"a", UpdateAction::kPut, std::nullopt}),
      FailsWith(prefix + "Only DELETE action is allowed when no attribute "
                         "value is specified"));
  EXPECT_THAT(
      CheckAttributeUpdate({"a", UpdateAction::kAdd, std::nullopt}),
      FailsWith(prefix + "Only DELETE action is allowed when no attribute "
                         "value is specified"));
  EXPECT_THAT(
      CheckAttributeUpdate(Delete("a", N("1"))),
      FailsWith(prefix + "DELETE action with value is not supported for the "
                         "type N"));
  EXPECT_THAT(CheckAttributeUpdate(Add("a", S("x"))),
              FailsWith(prefix + "ADD action is not supported for the type S"));
  EXPECT_THAT(CheckAttributeUpdate(Add("a", store::testing::M({}))),
              FailsWith(prefix + "ADD action is not supported for the type M"));
  EXPECT_THAT(CheckAttributeUpdate(Add("a", L({}))), IsOk());
  EXPECT_THAT(CheckAttributeUpdate(Delete("a")), IsOk());
}

TEST_F(LegacyParamsTest, PutAndDeleteWholeAttribute) {
  Item item{{"p", S("k")}, {"x", N("1")}};
  ASSERT_THAT(Apply({Put("y", S("v")), Delete("x"), Delete("missing")}, &item),
              IsOk());
  EXPECT_EQ(item, (Item{{"p", S("k")}, {"y", S("v")}}));
}

// ADD on a missing attribute starts from 0 / the empty set / the empty list.
TEST_F(LegacyParamsTest, AddToMissingAttribute) {
  Item item;
  ASSERT_THAT(
      Apply({Add("n", N("5")), Add("s", SS({"a"})), Add("l", L({N("1")}))},
            &item),
      IsOk());
  EXPECT_EQ(item, (Item{{"n", N("5")}, {"s", SS({"a"})}, {"l", L({N("1")})}}));
}

TEST_F(LegacyParamsTest, AddToExistingAttribute) {
  Item item{{"n", N("1.5")}, {"s", SS({"a", "c"})}, {"l", L({N("1")})}};
  ASSERT_THAT(Apply({Add("n", N("-3")), Add("s", SS({"b", "c"})),
                     Add("l", L({N("1"), S("x")}))},
                    &item),
              IsOk());
  EXPECT_EQ(item, (Item{{"n", N("-1.5")},
                        {"s", SS({"a", "b", "c"})},
                        {"l", L({N("1"), N("1"), S("x")})}}));
}

// DELETE with a set removes members; an emptied set removes the attribute.
TEST_F(LegacyParamsTest, DeleteSetMembers) {
  Item item{{"s", SS({"a", "b"})}, {"t", NS({"1", "2"})}};
  ASSERT_THAT(Apply({Delete("s", SS({"a", "z"})), Delete("t", NS({"1", "2"})),
                     Delete("missing", SS({"a"}))},
                    &item),
              IsOk());
  EXPECT_EQ(item, (Item{{"s", SS({"b"})}}));
}

TEST_F(LegacyParamsTest, TypeMismatchOnUpdate) {
  Item item{{"s", SS({"1"})}, {"n", N("1")}, {"ns", NS({"1"})}};
  const char* mismatch = "Type mismatch for attribute to update";
  Item copy = item;
  EXPECT_THAT(Apply({Delete("s", NS({"1"}))}, &copy), FailsWith(mismatch));
  copy = item;
  EXPECT_THAT(Apply({Delete("n", NS({"1"}))}, &copy), FailsWith(mismatch));
  copy = item;
  EXPECT_THAT(Apply({Add("s", NS({"1"}))}, &copy), FailsWith(mismatch));
  copy = item;
  EXPECT_THAT(Apply({Add("ns", N("1"))}, &copy), FailsWith(mismatch));
  copy = item;
  EXPECT_THAT(Apply({Add("n", L({}))}, &copy), FailsWith(mismatch));
}

TEST_F(LegacyParamsTest, UpdatePathsAreTheAttributes) {
  std::unique_ptr<store::Update> u =
      MakeUpdate({Put("a.b", N("1")), Delete("c")});
  ASSERT_EQ(u->paths().size(), 2u);
  EXPECT_EQ(u->paths()[0][0].name, "a.b");
  EXPECT_EQ(u->paths()[1][0].name, "c");
}

TEST_F(LegacyParamsTest, KeyConditions) {
  Result<store::KeyCondition> k = MakeKeyCondition(
      {Cond("s", Op::kBetween, {N("1"), N("5")}), Cond("p", Op::kEq, {S("x")})},
      "p", "s");
  ASSERT_THAT(k, IsOk());
  EXPECT_EQ(k->partition_value, S("x"));
  ASSERT_TRUE(k->sort.has_value());
  EXPECT_EQ(k->sort->op, store::KeyCondition::Op::kBetween);
  EXPECT_EQ(k->sort->value, N("1"));
  EXPECT_EQ(k->sort->value2, N("5"));

  k = MakeKeyCondition({Cond("p", Op::kEq, {S("x")})}, "p", "s");
  ASSERT_THAT(k, IsOk());
  EXPECT_FALSE(k->sort.has_value());
}

TEST_F(LegacyParamsTest, KeyConditionErrors) {
  auto Make = [](std::vector<AttributeCondition> c, std::string_view range) {
    return MakeKeyCondition(c, "p", range);
  };
  EXPECT_THAT(Make({}, "s"),
              FailsWith("Conditions can be of length 1 or 2 only"));
  EXPECT_THAT(Make({Cond("p", Op::kEq, {S("x")}), Cond("s", Op::kEq, {S("y")}),
                    Cond("t", Op::kEq, {S("z")})},
                   "s"),
              FailsWith("Conditions can be of length 1 or 2 only"));
  EXPECT_THAT(
      Make({Cond("p", Op::kEq, {S("x")}), Cond("s", Op::kEq, {S("y")})}, ""),
      FailsWith("Query key condition not supported"));
  EXPECT_THAT(Make({Cond("s", Op::kEq, {S("y")})}, "s"),
              FailsWith("Query condition missed key schema element: p"));
  EXPECT_THAT(
      Make({Cond("p", Op::kEq, {S("x")}), Cond("q", Op::kEq, {S("y")})}, "s"),
      FailsWith("Query condition missed key schema element: s"));
  EXPECT_THAT(
      Make({Cond("p", Op::kEq, {S("x")}), Cond("s", Op::kIn, {S("y"), S("z")})},
           "s"),
      FailsWith("Attempted conditional constraint is not an indexable "
                "operation"));
  EXPECT_THAT(Make({Cond("p", Op::kGt, {S("x")})}, "s"),
              FailsWith("Query key condition not supported"));
}

}  // namespace
}  // namespace eddy::runtime::api::legacy
