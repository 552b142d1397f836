// Tests for the pieces shared by all expressions: ExpressionContext and its
// "unused" errors, PathToString, ResolvePath, reserved words, and checks
// common to every expression kind.

#include "eddy/store/expression.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "expression_test_util.h"

namespace eddy::store {
namespace {

using testing::FailsWith;
using testing::Index;
using testing::IsOk;
using testing::Key;
using testing::L;
using testing::M;
using testing::N;
using testing::S;

class ExpressionTest : public testing::ExpressionTestBase {};

// Paths print as DynamoDB writes them.
TEST_F(ExpressionTest, PathToStringUsesDotsAndBrackets) {
  EXPECT_EQ(PathToString({Key("a"), Key("b"), Index(2), Key("c")}), "a.b[2].c");
  EXPECT_EQ(PathToString({Key("l"), Index(0), Index(1)}), "l[0][1]");
}

// ResolvePath follows keys into maps and indexes into lists, and gives
// nullptr for anything missing or of the wrong shape.
TEST_F(ExpressionTest, ResolvePathFollowsMapsAndLists) {
  Item item = {{"a", M({{"b", L({N("1"), M({{"c", S("x")}})})}})}};
  EXPECT_EQ(*ResolvePath(item, {Key("a"), Key("b"), Index(1), Key("c")}),
            S("x"));
  EXPECT_EQ(ResolvePath(item, {Key("a"), Key("b"), Index(2)}), nullptr);
  EXPECT_EQ(ResolvePath(item, {Key("a"), Index(0)}), nullptr);
  EXPECT_EQ(ResolvePath(item, {Key("a"), Key("b"), Key("c")}), nullptr);
  EXPECT_EQ(ResolvePath(item, {Key("z")}), nullptr);
  EXPECT_EQ(ResolvePath(item, {}), nullptr);
}

// Substitutions resolve through the context; undefined ones are errors
// whose prefix names the expression.
TEST_F(ExpressionTest, ContextResolvesSubstitutions) {
  Name("#n", "name");
  Value(":v", N("1"));
  ExpressionContext* context = Context();
  Result<std::string> name = context->ResolveName("#n", "ConditionExpression");
  ASSERT_THAT(name, IsOk());
  EXPECT_EQ(*name, "name");
  Result<const AttributeValue*> value =
      context->ResolveValue(":v", "ConditionExpression");
  ASSERT_THAT(value, IsOk());
  EXPECT_EQ(**value, N("1"));
  EXPECT_THAT(context->ResolveName("#x", "UpdateExpression"),
              FailsWith("Invalid UpdateExpression: An expression attribute "
                        "name used in the document path is not defined; "
                        "attribute name: #x"));
  EXPECT_THAT(context->ResolveValue(":x", "FilterExpression"),
              FailsWith("Invalid FilterExpression: An expression attribute "
                        "value used in expression is not defined; attribute "
                        "value: :x"));
}

// Without the parameters nothing resolves, and nothing is unused.
TEST_F(ExpressionTest, AbsentMapsResolveNothing) {
  ExpressionContext context(nullptr, nullptr);
  EXPECT_FALSE(context.ResolveName("#n", "ConditionExpression").ok());
  EXPECT_FALSE(context.ResolveValue(":v", "ConditionExpression").ok());
  EXPECT_THAT(context.CheckAllUsed(), IsOk());
}

// Unused names are reported before unused values, all keys listed.
TEST_F(ExpressionTest, UnusedNamesAreReportedBeforeValues) {
  Name("#a", "a");
  Name("#b", "b");
  Name("#c", "c");
  Value(":a", N("1"));
  Value(":b", N("2"));
  Result<std::unique_ptr<Condition>> condition =
      Condition::Parse("#c = :b", "ConditionExpression", Context());
  ASSERT_THAT(condition, IsOk());
  EXPECT_THAT(LastContext()->CheckAllUsed(),
              FailsWith("Value provided in ExpressionAttributeNames unused in "
                        "expressions: keys: {#a, #b}"));
  ASSERT_THAT(Condition::Parse("#a = #b", "ConditionExpression", LastContext()),
              IsOk());
  EXPECT_THAT(LastContext()->CheckAllUsed(),
              FailsWith("Value provided in ExpressionAttributeValues unused in "
                        "expressions: keys: {:a}"));
}

// One context spans every expression of a request: a name used only by the
// update and a value used only by the condition are both used.
TEST_F(ExpressionTest, UsesAccumulateAcrossExpressions) {
  Name("#u", "u");
  Name("#c", "c");
  Value(":u", N("1"));
  Value(":c", N("2"));
  ExpressionContext* context = Context();
  ASSERT_THAT(Update::Parse("SET #u = :u", context), IsOk());
  ASSERT_THAT(Condition::Parse("#c = :c", "ConditionExpression", context),
              IsOk());
  EXPECT_THAT(context->CheckAllUsed(), IsOk());
}

// Uses are recorded when parsing, so short-circuit evaluation cannot make
// a used substitution look unused.
TEST_F(ExpressionTest, UsesAreRecordedAtParseTime) {
  Name("#n1", "a");
  Name("#n2", "b");
  Value(":v1", N("1"));
  Value(":v2", N("2"));
  Result<std::unique_ptr<Condition>> condition = Condition::Parse(
      "#n1 = :v1 OR #n2 = :v2", "ConditionExpression", Context());
  ASSERT_THAT(condition, IsOk());
  EXPECT_TRUE((*condition)->Evaluate({{"a", N("1")}}));
  EXPECT_THAT(LastContext()->CheckAllUsed(), IsOk());
}

// Reserved words are matched case-insensitively, including DynamoDB's own
// misspellings; words that are not reserved are fine.
TEST_F(ExpressionTest, ReservedWordsAreCaseInsensitive) {
  Value(":v", N("1"));
  for (const char* word : {"name", "NAME", "Name", "FLATTERN", "inner", "zone",
                           "abort", "size", "ttl"}) {
    Result<Projection> projection = Projection::Parse(word, Context());
    EXPECT_THAT(projection,
                FailsWith(std::string("Invalid ProjectionExpression: "
                                      "Attribute name is a reserved keyword; "
                                      "reserved keyword: ") +
                          word));
  }
  for (const char* word : {"title", "zones", "aborts", "price", "id", "pk"}) {
    EXPECT_THAT(Projection::Parse(word, Context()), IsOk()) << word;
  }
}

// Names are letters, digits and underscores starting with a letter;
// #names and :values may start with any of those.
TEST_F(ExpressionTest, TokenRules) {
  Name("#123", "x");
  Name("#_", "y");
  EXPECT_THAT(
      Projection::Parse("Alpha_Numeric_123, A123_, #123, #_", Context()),
      IsOk());
  EXPECT_THAT(Projection::Parse("hi-there", Context()),
              FailsWith("Invalid ProjectionExpression: Syntax error; token: "
                        "\"-\", near: \"hi-there\""));
  EXPECT_THAT(Projection::Parse("123a", Context()),
              FailsWith("Invalid ProjectionExpression: Syntax error; token: "
                        "\"123\", near: \"123a\""));
  EXPECT_THAT(Projection::Parse("#", Context()),
              FailsWith("Invalid ProjectionExpression: Syntax error; token: "
                        "\"#\", near: \"#\""));
  EXPECT_THAT(Projection::Parse("caf\xC3\xA9", Context()),
              FailsWith("Invalid ProjectionExpression: Syntax error; token: "
                        "\"\xC3\xA9\", near: \"caf\xC3\xA9\""));
}

// The size limit counts bytes, not characters, for every kind.
TEST_F(ExpressionTest, SizeLimitAppliesToEveryKind) {
  std::string text = "a";
  text.resize(4097, ' ');
  const char* kSuffix =
      ": Expression size has exceeded the maximum allowed size; expression "
      "size: 4097";
  EXPECT_THAT(Projection::Parse(text, Context()),
              FailsWith(std::string("Invalid ProjectionExpression") + kSuffix));
  EXPECT_THAT(Update::Parse(text, Context()),
              FailsWith(std::string("Invalid UpdateExpression") + kSuffix));
  EXPECT_THAT(
      KeyCondition::Parse(text, Context(), "p", ""),
      FailsWith(std::string("Invalid KeyConditionExpression") + kSuffix));
  EXPECT_THAT(Condition::Parse(text, "FilterExpression", Context()),
              FailsWith(std::string("Invalid FilterExpression") + kSuffix));
}

// A null context means no substitutions were given.
TEST_F(ExpressionTest, NullContextMeansNoSubstitutions) {
  EXPECT_THAT(
      Condition::Parse("attribute_exists(a)", "ConditionExpression", nullptr),
      IsOk());
  EXPECT_THAT(Update::Parse("SET a = :v", nullptr),
              FailsWith("Invalid UpdateExpression: An expression attribute "
                        "value used in expression is not defined; attribute "
                        "value: :v"));
}

}  // namespace
}  // namespace eddy::store
