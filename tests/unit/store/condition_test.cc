// Tests for ConditionExpression / FilterExpression: parsing, DynamoDB's
// static checks and messages, limits, and evaluation of every operator and
// function against items.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "eddy/store/expression.h"
#include "expression_test_util.h"

namespace eddy::store {
namespace {

using testing::B;
using testing::Bool;
using testing::BS;
using testing::FailsWith;
using testing::IsOk;
using testing::L;
using testing::M;
using testing::N;
using testing::NS;
using testing::Null;
using testing::S;
using testing::SS;

class ConditionTest : public testing::ExpressionTestBase {
 protected:
  ConditionTest() {
    item_ = {
        {"a", N("1")},
        {"b", N("2")},
        {"c", N("3")},
        {"s", S("cat")},
        {"bin", B("cat")},
        {"l", L({N("2"), S("dog"), N("7")})},
        {"m", M({{"x", N("2")}, {"y", M({{"m", N("3")}, {"n", N("4")}})}})},
        {"ss", SS({"hello", "world"})},
        {"ns", NS({"1", "2", "3"})},
        {"bs", BS({"xyz", "hi"})},
        {"t", Bool(true)},
        {"nul", Null()},
    };
  }

  Result<std::unique_ptr<Condition>> Parse(
      std::string_view text, std::string_view kind = "ConditionExpression") {
    return Condition::Parse(text, kind, Context());
  }

  // Parses `text` (which must be valid) and evaluates it against `item`.
  bool Holds(std::string_view text, const Item& item) {
    Result<std::unique_ptr<Condition>> condition = Parse(text);
    EXPECT_THAT(condition, IsOk()) << text;
    return condition.ok() && (*condition)->Evaluate(item);
  }
  bool Holds(std::string_view text) { return Holds(text, item_); }

  Item item_;
};

// DynamoDB's = is deep equality on every type, sets ignoring order.
TEST_F(ConditionTest, EqualityComparesEveryType) {
  std::vector<AttributeValue> values = {N("1"),
                                        S("hello"),
                                        Bool(true),
                                        B("xyz"),
                                        Null(),
                                        L({S("hello"), N("42")}),
                                        M({{"k", S("v")}}),
                                        SS({"world", "hello"}),
                                        NS({"3", "1", "2"}),
                                        BS({"hi", "xyz"})};
  for (const AttributeValue& value : values) {
    Value(":v", value);
    EXPECT_TRUE(Holds("x = :v", {{"x", value}}));
    EXPECT_FALSE(Holds("x <> :v", {{"x", value}}));
  }
}

// Values of different types are unequal, never an error: N 1 is not S "1".
TEST_F(ConditionTest, DifferentTypesAreNeverEqual) {
  Value(":v", S("1"));
  EXPECT_FALSE(Holds("a = :v"));
  EXPECT_TRUE(Holds("a <> :v"));
}

// Numbers are equal by value, not by text.
TEST_F(ConditionTest, NumbersAreEqualByValue) {
  Value(":v", N("1.000"));
  EXPECT_TRUE(Holds("a = :v"));
}

// A missing attribute is equal to nothing, not even another missing one.
TEST_F(ConditionTest, MissingAttributeIsNotEqualToAnything) {
  Value(":v", N("1"));
  EXPECT_FALSE(Holds("q = :v"));
  EXPECT_FALSE(Holds("q = z"));
}

// <> is true when either side is missing, even both (DynamoDB's behaviour,
// verified by Alternator's test_update_condition_ne_two_unset).
TEST_F(ConditionTest, NotEqualIsTrueWhenASideIsMissing) {
  Value(":v", N("1"));
  EXPECT_TRUE(Holds("q <> :v"));
  EXPECT_TRUE(Holds("q <> z"));
}

// <, <=, >, >= order S and B bytewise and N numerically.
TEST_F(ConditionTest, OrderingComparesStringsNumbersAndBinary) {
  Value(":n", N("2"));
  Value(":s", S("dog"));
  Value(":b", B("dog"));
  EXPECT_TRUE(Holds("a < :n"));
  EXPECT_TRUE(Holds("a <= :n"));
  EXPECT_FALSE(Holds("a > :n"));
  EXPECT_FALSE(Holds("a >= :n"));
  EXPECT_TRUE(Holds("b >= :n"));
  EXPECT_TRUE(Holds("b <= :n"));
  EXPECT_TRUE(Holds("s < :s"));
  EXPECT_TRUE(Holds(":s > s"));
  EXPECT_TRUE(Holds("bin < :b"));
  EXPECT_FALSE(Holds("bin > :b"));
}

// 10 > 9 numerically although "10" < "9" as text.
TEST_F(ConditionTest, NumbersOrderNumerically) {
  Value(":nine", N("9"));
  EXPECT_TRUE(Holds("x > :nine", {{"x", N("10")}}));
  EXPECT_TRUE(Holds("x < :nine", {{"x", N("-10")}}));
  EXPECT_TRUE(Holds("x < :nine", {{"x", N("8.99999")}}));
}

// Binary orders as unsigned bytes: 0x80 sorts after 0x7f.
TEST_F(ConditionTest, BinaryOrdersAsUnsignedBytes) {
  Value(":v", B("\x7f"));
  EXPECT_TRUE(Holds("x > :v", {{"x", B("\x80")}}));
  EXPECT_FALSE(Holds("x < :v", {{"x", B("\x80")}}));
}

// Ordering values of different types, or a list from the item, is simply
// false.
TEST_F(ConditionTest, OrderingOfMismatchedTypesIsFalse) {
  Value(":s", S("17"));
  Value(":n", N("1"));
  EXPECT_FALSE(Holds("a < :s"));
  EXPECT_FALSE(Holds("a >= :s"));
  EXPECT_FALSE(Holds("l < :n"));
  EXPECT_FALSE(Holds(":n < l"));
}

// Every ordering with a missing operand is false, both sides missing too.
TEST_F(ConditionTest, OrderingWithMissingAttributeIsFalse) {
  Value(":v", N("1"));
  for (const char* op : {"<", "<=", ">", ">="}) {
    EXPECT_FALSE(Holds(std::string("q ") + op + " :v")) << op;
    EXPECT_FALSE(Holds(std::string("q ") + op + " z")) << op;
  }
  EXPECT_FALSE(Holds("q BETWEEN z AND x"));
}

// A :value of a type that cannot be ordered is a ValidationException.
TEST_F(ConditionTest, OrderingWithListValueIsAnError) {
  Value(":l", L({N("1"), N("2")}));
  EXPECT_THAT(Parse("a < :l"),
              FailsWith("Invalid ConditionExpression: Incorrect operand type "
                        "for operator or function; operator or function: <, "
                        "operand type: L"));
  EXPECT_THAT(Parse(":l >= a"),
              FailsWith("Invalid ConditionExpression: Incorrect operand type "
                        "for operator or function; operator or function: >=, "
                        "operand type: L"));
}

// BETWEEN includes both bounds; its keywords are case-insensitive.
TEST_F(ConditionTest, BetweenIsInclusive) {
  Value(":lo", N("1"));
  Value(":hi", N("2"));
  EXPECT_TRUE(Holds("a BETWEEN :lo AND :hi"));
  EXPECT_TRUE(Holds("b between :lo and :hi"));
  EXPECT_FALSE(Holds("c BeTwEeN :lo AnD :hi"));
  EXPECT_TRUE(Holds("b BETWEEN a AND c"));
}

// Bounds read from the item that are out of order make a false condition,
// not an error.
TEST_F(ConditionTest, BetweenWithItemBoundsOutOfOrderIsFalse) {
  Value(":v", N("1"));
  EXPECT_FALSE(Holds("a BETWEEN b AND :v"));
  EXPECT_FALSE(Holds("b BETWEEN c AND a"));
}

// Constant bounds out of order are refused with DynamoDB's message.
TEST_F(ConditionTest, BetweenConstantBoundsOutOfOrderIsAnError) {
  Value(":lo", N("2"));
  Value(":hi", N("1"));
  EXPECT_THAT(
      Parse("a BETWEEN :lo AND :hi"),
      FailsWith("Invalid ConditionExpression: The BETWEEN operator requires "
                "upper bound to be greater than or equal to lower bound; lower "
                "bound operand: AttributeValue: {N:2}, upper bound operand: "
                "AttributeValue: {N:1}"));
}

// Constant bounds of different types are refused.
TEST_F(ConditionTest, BetweenConstantBoundsOfDifferentTypesIsAnError) {
  Value(":lo", N("2"));
  Value(":hi", S("dog"));
  EXPECT_THAT(
      Parse("a BETWEEN :lo AND :hi"),
      FailsWith("Invalid ConditionExpression: The BETWEEN operator requires "
                "same data type for lower and upper bounds; lower bound "
                "operand: AttributeValue: {N:2}, upper bound operand: "
                "AttributeValue: {S:dog}"));
}

// IN tests equality against each listed operand, of any types.
TEST_F(ConditionTest, InMatchesAnyListedValue) {
  Value(":x", S("dog"));
  Value(":y", N("1"));
  Value(":z", N("5"));
  EXPECT_TRUE(Holds("a IN (:x, :y)"));
  EXPECT_FALSE(Holds("a in (:x, :z)"));
  EXPECT_TRUE(Holds("a IN (b, c, :y)"));
  EXPECT_FALSE(Holds("q IN (:x, :y)"));
}

// IN takes at most 100 listed operands.
TEST_F(ConditionTest, InAcceptsHundredOperands) {
  std::string list;
  for (int i = 0; i < 101; ++i) {
    Value(":v" + std::to_string(i), N(std::to_string(i)));
  }
  for (int i = 0; i < 100; ++i) list += (i ? ",:v" : ":v") + std::to_string(i);
  EXPECT_THAT(Parse("a IN (" + list + ")"), IsOk());
  EXPECT_THAT(Parse("a IN (" + list + ",:v100)"),
              FailsWith("Invalid ConditionExpression: The IN operator is "
                        "provided with too many operands; number of operands: "
                        "101"));
}

// "a IN ()" is a syntax error, not a false condition.
TEST_F(ConditionTest, InWithoutOperandsIsASyntaxError) {
  EXPECT_THAT(Parse("a IN ()"), FailsWith("Invalid ConditionExpression: Syntax "
                                          "error; token: \")\", near: \"()\""));
}

// attribute_exists / attribute_not_exists, on top-level and nested paths.
TEST_F(ConditionTest, AttributeExistsAndNotExists) {
  EXPECT_TRUE(Holds("attribute_exists(a)"));
  EXPECT_TRUE(Holds("attribute_exists (m.y.n)"));
  EXPECT_TRUE(Holds("attribute_exists(l[2])"));
  EXPECT_FALSE(Holds("attribute_exists(l[3])"));
  EXPECT_FALSE(Holds("attribute_exists(q)"));
  EXPECT_TRUE(Holds("attribute_not_exists(q)"));
  EXPECT_TRUE(Holds("attribute_not_exists(m.x.z)"));
  EXPECT_FALSE(Holds("attribute_not_exists(nul)"));
}

// A condition on an item that does not exist sees every attribute missing.
TEST_F(ConditionTest, EmptyItemHasNoAttributes) {
  EXPECT_TRUE(Holds("attribute_not_exists(p)", {}));
  EXPECT_FALSE(Holds("attribute_exists(p)", {}));
}

// attribute_exists needs a document path, not a :value.
TEST_F(ConditionTest, AttributeExistsRequiresAPath) {
  Value(":v", N("3"));
  EXPECT_THAT(Parse("attribute_exists(:v)"),
              FailsWith("Invalid ConditionExpression: Operator or function "
                        "requires a document path; operator or function: "
                        "attribute_exists"));
}

// attribute_type recognises each of the ten type names.
TEST_F(ConditionTest, AttributeTypeMatchesEveryType) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a", "N"},   {"s", "S"},   {"bin", "B"}, {"l", "L"},    {"m", "M"},
      {"ss", "SS"}, {"ns", "NS"}, {"bs", "BS"}, {"t", "BOOL"}, {"nul", "NULL"}};
  for (const auto& [attribute, type] : cases) {
    Value(":t", S(type));
    EXPECT_TRUE(Holds("attribute_type(" + attribute + ", :t)")) << type;
    Value(":t", S(type == "S" ? "N" : "S"));
    EXPECT_FALSE(Holds("attribute_type(" + attribute + ", :t)")) << type;
  }
  Value(":t", S("N"));
  Value(":n", N("0"));
  EXPECT_TRUE(Holds("attribute_type(:n, :t)"));
}

// An unknown type name is an error, not a false condition.
TEST_F(ConditionTest, AttributeTypeRejectsUnknownTypeName) {
  Value(":t", S("DOG"));
  EXPECT_THAT(Parse("attribute_type(a, :t)"),
              FailsWith("Invalid ConditionExpression: Invalid attribute type "
                        "name found; type: DOG, valid types: "
                        "{B,NULL,SS,BOOL,L,BS,N,NS,S,M}"));
}

// The type operand must be a string :value.
TEST_F(ConditionTest, AttributeTypeNeedsAStringValue) {
  Value(":n", N("1"));
  EXPECT_THAT(Parse("attribute_type(a, :n)"),
              FailsWith("Invalid ConditionExpression: Incorrect operand type "
                        "for operator or function; operator or function: "
                        "attribute_type, operand type: N"));
  EXPECT_THAT(Parse("attribute_type(a, b)"),
              FailsWith("Invalid ConditionExpression: Incorrect operand type "
                        "for operator or function; operator or function: "
                        "attribute_type, operand type: "
                        "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}"));
}

// begins_with works on S and B, and is false on other or mixed types.
TEST_F(ConditionTest, BeginsWithOnStringsAndBinary) {
  Value(":s", S("ca"));
  Value(":b", B("ca"));
  Value(":long", S("cats"));
  EXPECT_TRUE(Holds("begins_with(s, :s)"));
  EXPECT_TRUE(Holds("begins_with(bin, :b)"));
  EXPECT_FALSE(Holds("begins_with(bin, :s)"));
  EXPECT_FALSE(Holds("begins_with(s, :long)"));
  EXPECT_FALSE(Holds("begins_with(q, :s)"));
  EXPECT_FALSE(Holds("begins_with(l, :s)"));
  EXPECT_TRUE(Holds("begins_with(:long, s)"));
}

// A number :value in begins_with is refused before any item is read.
TEST_F(ConditionTest, BeginsWithNumberValueIsAnError) {
  Value(":n", N("2"));
  EXPECT_THAT(Parse("begins_with(s, :n)"),
              FailsWith("Invalid ConditionExpression: Incorrect operand type "
                        "for operator or function; operator or function: "
                        "begins_with, operand type: N"));
}

// contains: substrings of S and B, members of sets, elements of lists.
TEST_F(ConditionTest, ContainsSubstringsMembersAndElements) {
  Value(":sub", S("at"));
  Value(":bsub", B("at"));
  Value(":hello", S("hello"));
  Value(":two", N("2"));
  Value(":twof", N("2.0"));
  Value(":hi", B("hi"));
  Value(":dog", S("dog"));
  Value(":y", M({{"m", N("3")}, {"n", N("4")}}));
  EXPECT_TRUE(Holds("contains(s, :sub)"));
  EXPECT_FALSE(Holds("contains(s, :bsub)"));
  EXPECT_TRUE(Holds("contains(bin, :bsub)"));
  EXPECT_TRUE(Holds("contains(ss, :hello)"));
  EXPECT_FALSE(Holds("contains(ss, :dog)"));
  EXPECT_TRUE(Holds("contains(ns, :two)"));
  EXPECT_TRUE(Holds("contains(ns, :twof)"));
  EXPECT_TRUE(Holds("contains(bs, :hi)"));
  EXPECT_TRUE(Holds("contains(l, :dog)"));
  EXPECT_TRUE(Holds("contains(l, :two)"));
  EXPECT_FALSE(Holds("contains(l, :hello)"));
  EXPECT_TRUE(Holds("contains(:y, m.y.m) OR contains(l, :dog)"));
  EXPECT_FALSE(Holds("contains(a, :two)"));
  EXPECT_FALSE(Holds("contains(q, :two)"));
}

// size() counts UTF-16 code units of S (as DynamoDB does), bytes of B and
// elements of sets, lists and maps; other types have no size.
TEST_F(ConditionTest, SizeOfEachType) {
  Item item = {{"e", S("\xC3\xA9\xF0\x9D\x84\x9E")}};  // "é𝄞"
  Value(":three", N("3"));
  Value(":two", N("2"));
  Value(":one", N("1"));
  EXPECT_TRUE(Holds("size(e) = :three", item));
  EXPECT_TRUE(Holds("size(s) = :three"));
  EXPECT_TRUE(Holds("size(bin) = :three"));
  EXPECT_TRUE(Holds("size(l) = :three"));
  EXPECT_TRUE(Holds("size(m) = :two"));
  EXPECT_TRUE(Holds("size(m.y) = :two"));
  EXPECT_TRUE(Holds("size(ss) = :two"));
  EXPECT_TRUE(Holds("size(ns) = :three"));
  EXPECT_TRUE(Holds("size(bs) = :two"));
  EXPECT_FALSE(Holds("size(a) = :one"));
  EXPECT_FALSE(Holds("size(t) = :one"));
  EXPECT_FALSE(Holds("size(nul) = :one"));
  EXPECT_FALSE(Holds("size(q) = :one"));
  EXPECT_TRUE(Holds("size(s) > :two AND size(s) <= c"));
  EXPECT_TRUE(Holds("size(l) BETWEEN :two AND :three"));
}

// size() of a number :value is refused.
TEST_F(ConditionTest, SizeOfNumberValueIsAnError) {
  Value(":n", N("5"));
  EXPECT_THAT(Parse("size(:n) = :n"),
              FailsWith("Invalid ConditionExpression: Incorrect operand type "
                        "for operator or function; operator or function: "
                        "size, operand type: N"));
}

// size() is an operand, not a condition; the boolean functions are
// conditions, not operands.
TEST_F(ConditionTest, FunctionsAreUsedInTheirOwnPlace) {
  Value(":v", N("1"));
  EXPECT_THAT(Parse("size(a)"),
              FailsWith("Invalid ConditionExpression: The function is not "
                        "allowed to be used this way in an expression; "
                        "function: size"));
  EXPECT_THAT(Parse("attribute_exists(a) < :v"),
              FailsWith("Invalid ConditionExpression: The function is not "
                        "allowed to be used this way in an expression; "
                        "function: attribute_exists"));
}

// Unknown functions, and the update-only ones, are refused by name.
TEST_F(ConditionTest, UnknownAndUpdateOnlyFunctionsAreRefused) {
  Value(":v", N("5"));
  EXPECT_THAT(Parse("f(a) = :v"), FailsWith("Invalid ConditionExpression: "
                                            "Invalid function name; "
                                            "function: f"));
  EXPECT_THAT(Parse("BEGINS_WITH(a, :v)"),
              FailsWith("Invalid ConditionExpression: Invalid function name; "
                        "function: BEGINS_WITH"));
  EXPECT_THAT(Parse("if_not_exists(a, a) = :v"),
              FailsWith("Invalid ConditionExpression: The function is not "
                        "allowed in a condition expression; function: "
                        "if_not_exists"));
}

// Each function takes its exact number of operands.
TEST_F(ConditionTest, WrongOperandCountIsAnError) {
  Value(":v", N("5"));
  EXPECT_THAT(Parse("size(a, a) = :v"),
              FailsWith("Invalid ConditionExpression: Incorrect number of "
                        "operands for operator or function; operator or "
                        "function: size, number of operands: 2"));
  EXPECT_THAT(Parse("attribute_exists(a, b)"),
              FailsWith("Invalid ConditionExpression: Incorrect number of "
                        "operands for operator or function; operator or "
                        "function: attribute_exists, number of operands: 2"));
}

// DynamoDB refuses the same path as both operands.
TEST_F(ConditionTest, SamePathTwiceIsRefused) {
  EXPECT_THAT(Parse("contains(a, a)"),
              FailsWith("Invalid ConditionExpression: The first operand must "
                        "be distinct from the remaining operands for this "
                        "operator or function; operator: contains, first "
                        "operand: [a]"));
  EXPECT_THAT(Parse("m.x = m.x"),
              FailsWith("Invalid ConditionExpression: The first operand must "
                        "be distinct from the remaining operands for this "
                        "operator or function; operator: =, first operand: "
                        "[m, x]"));
}

// AND, OR and NOT, in any case.
TEST_F(ConditionTest, LogicalOperators) {
  EXPECT_TRUE(Holds("a < b AND b < c"));
  EXPECT_TRUE(Holds("a < b aNd b < c"));
  EXPECT_FALSE(Holds("a < b AND c < b"));
  EXPECT_TRUE(Holds("b < a OR b < c"));
  EXPECT_FALSE(Holds("b < a oR c < b"));
  EXPECT_TRUE(Holds("NOT b < a"));
  EXPECT_TRUE(Holds("nOt b < a"));
  EXPECT_TRUE(Holds("NOT NOT NOT NOT a < b"));
}

// AND binds tighter than OR: a<b OR (c<b AND b<c).
TEST_F(ConditionTest, AndBindsTighterThanOr) {
  EXPECT_TRUE(Holds("a < b OR c < b AND b < c"));
  EXPECT_FALSE(Holds("(a < b OR c < b) AND c < b"));
}

// NOT binds tighter than AND: (NOT a<b) AND c<b.
TEST_F(ConditionTest, NotBindsTighterThanAnd) {
  EXPECT_FALSE(Holds("NOT a < b AND c < b"));
  EXPECT_TRUE(Holds("NOT (a < b AND c < b)"));
}

// BETWEEN's AND is not the logical AND.
TEST_F(ConditionTest, BetweenBindsTighterThanAnd) {
  EXPECT_TRUE(Holds("b BETWEEN a AND c AND a < b"));
  EXPECT_FALSE(Holds("b BETWEEN a AND c AND b < a"));
}

// Parentheses group conditions, and may wrap operands.
TEST_F(ConditionTest, ParenthesesGroup) {
  EXPECT_TRUE(Holds("(a < b OR b < a) AND (b < c AND (a < b OR b < c))"));
  EXPECT_TRUE(Holds("(a) < (b)"));
  EXPECT_TRUE(Holds("(size(l)) > a"));
  EXPECT_TRUE(Holds("(attribute_exists(a))"));
}

// Two parentheses around the same thing are refused.
TEST_F(ConditionTest, RedundantParenthesesAreRefused) {
  const char* kMessage =
      "Invalid ConditionExpression: The expression has redundant parentheses;";
  EXPECT_THAT(Parse("((a < b))"), FailsWith(kMessage));
  EXPECT_THAT(Parse("((a)) < b"), FailsWith(kMessage));
  EXPECT_THAT(Parse("a < b AND ((b < c))"), FailsWith(kMessage));
  EXPECT_THAT(Parse("((a < b) AND (b < c))"), IsOk());
}

// Paths reach into maps and lists, with #name substitutions anywhere.
TEST_F(ConditionTest, NestedPathsAndSubstitutions) {
  Value(":three", N("3"));
  Value(":dog", S("dog"));
  Name("#l", "l");
  Name("#m", "m");
  Name("#y", "y");
  EXPECT_TRUE(Holds("m.y.m = :three"));
  EXPECT_TRUE(Holds("l[1] = :dog"));
  EXPECT_TRUE(Holds("#l[1] = :dog"));
  EXPECT_TRUE(Holds("#m.#y.m = :three"));
  EXPECT_TRUE(Holds("m.x < m.y.n"));
  EXPECT_FALSE(Holds("m.q < l[100]"));
  EXPECT_FALSE(Holds("l.x = :three"));
  EXPECT_FALSE(Holds("m[0] = :three"));
}

// A substituted name is one attribute name, dots included.
TEST_F(ConditionTest, DotInSubstitutedNameIsLiteral) {
  Name("#ab", "a.b");
  Value(":v", N("1"));
  EXPECT_TRUE(Holds("#ab = :v", {{"a.b", N("1")}}));
  EXPECT_FALSE(Holds("#ab = :v", {{"a", M({{"b", N("1")}})}}));
}

// Reserved words must be substituted; the error names the word as written.
TEST_F(ConditionTest, ReservedWordAsNameIsRefused) {
  Value(":v", N("1"));
  EXPECT_THAT(Parse("Status = :v"),
              FailsWith("Invalid ConditionExpression: Attribute name is a "
                        "reserved keyword; reserved keyword: Status"));
  EXPECT_THAT(Parse("a.name = :v"),
              FailsWith("Invalid ConditionExpression: Attribute name is a "
                        "reserved keyword; reserved keyword: name"));
  Name("#s", "status");
  EXPECT_THAT(Parse("#s = :v"), IsOk());
}

// Undefined substitutions are errors naming the token.
TEST_F(ConditionTest, UndefinedSubstitutionsAreErrors) {
  EXPECT_THAT(Parse("a = :v"),
              FailsWith("Invalid ConditionExpression: An expression attribute "
                        "value used in expression is not defined; attribute "
                        "value: :v"));
  Value(":v", N("1"));
  EXPECT_THAT(Parse("#n = :v"),
              FailsWith("Invalid ConditionExpression: An expression attribute "
                        "name used in the document path is not defined; "
                        "attribute name: #n"));
}

// The prefix names the parameter the expression came from.
TEST_F(ConditionTest, MessagesNameTheExpressionKind) {
  EXPECT_THAT(Parse("a = :v", "FilterExpression"),
              FailsWith("Invalid FilterExpression: An expression attribute "
                        "value used in expression is not defined; attribute "
                        "value: :v"));
}

// Syntax errors quote the token and the text from the token before it to
// the token after it, as DynamoDB does.
TEST_F(ConditionTest, SyntaxErrorsNameTokenAndContext) {
  Value(":v", N("1"));
  EXPECT_THAT(Parse("foo"), FailsWith("Invalid ConditionExpression: Syntax "
                                      "error; token: \"<EOF>\", near: "
                                      "\"foo\""));
  EXPECT_THAT(Parse("attribute_not_exists("),
              FailsWith("Invalid ConditionExpression: Syntax error; token: "
                        "\"<EOF>\", near: \"(\""));
  EXPECT_THAT(Parse("attribute_type()"),
              FailsWith("Invalid ConditionExpression: Syntax error; token: "
                        "\")\", near: \"()\""));
  EXPECT_THAT(Parse("a = = :v"),
              FailsWith("Invalid ConditionExpression: Syntax error; token: "
                        "\"=\", near: \"= = :v\""));
  EXPECT_THAT(Parse("a != :v"),
              FailsWith("Invalid ConditionExpression: Syntax error; token: "
                        "\"!\", near: \"a !=\""));
  EXPECT_THAT(Parse("_hidden = :v"),
              FailsWith("Invalid ConditionExpression: Syntax error; token: "
                        "\"_\", near: \"_hidden\""));
  EXPECT_THAT(Parse("a = :v AND"),
              FailsWith("Invalid ConditionExpression: Syntax error; token: "
                        "\"<EOF>\", near: \"AND\""));
  EXPECT_THAT(Parse("a = :v)"),
              FailsWith("Invalid ConditionExpression: Syntax error; token: "
                        "\")\", near: \":v)\""));
  EXPECT_THAT(Parse("l[:v] = :v"),
              FailsWith("Invalid ConditionExpression: Syntax error; token: "
                        "\":v\", near: \"[:v]\""));
  EXPECT_THAT(Parse("a = :v AND b"), FailsWith("Invalid ConditionExpression: "
                                               "Syntax error; token: "
                                               "\"<EOF>\", near: \"b\""));
}

// Keywords cannot stand where a name is expected.
TEST_F(ConditionTest, KeywordsAreNotNames) {
  Value(":v", N("1"));
  EXPECT_THAT(Parse("a = AND"), FailsWith("Invalid ConditionExpression: "
                                          "Syntax error; token: \"AND\", "
                                          "near: \"= AND\""));
  EXPECT_THAT(Parse("m.in = :v"), FailsWith("Invalid ConditionExpression: "
                                            "Syntax error; token: \"in\", "
                                            "near: \".in =\""));
}

// An empty expression is refused before parsing.
TEST_F(ConditionTest, EmptyExpressionIsRefused) {
  EXPECT_THAT(Parse(""), FailsWith("Invalid ConditionExpression: The "
                                   "expression can not be empty;"));
}

// 4096 bytes is the largest expression; longer ones are refused by size.
TEST_F(ConditionTest, ExpressionSizeLimit) {
  Value(":v", N("1"));
  std::string text = "a = :v";
  text.resize(4096, ' ');
  EXPECT_THAT(Parse(text), IsOk());
  text.push_back(' ');
  EXPECT_THAT(Parse(text),
              FailsWith("Invalid ConditionExpression: Expression size has "
                        "exceeded the maximum allowed size; expression size: "
                        "4097"));
}

// 300 operators (comparators and logical operators) are allowed, 301 not.
TEST_F(ConditionTest, OperatorLimit) {
  std::string text = "NOT a < b";                     // 2 operators.
  for (int i = 0; i < 149; ++i) text += " OR a < b";  // 2 each.
  EXPECT_THAT(Parse(text), IsOk());
  EXPECT_THAT(Parse("NOT " + text),
              FailsWith("Invalid ConditionExpression: The expression contains "
                        "too many operators; operator count: 301"));
}

// Parentheses and functions are not operators.
TEST_F(ConditionTest, ParenthesesAreNotCountedAsOperators) {
  std::string text = "a<b ";
  for (int i = 0; i < 149; ++i) text += "or (a<b ";
  text += std::string(149, ')');
  EXPECT_THAT(Parse(text), IsOk());
  EXPECT_TRUE(Holds(text));
}

// Deeply nested expressions are refused cleanly, without overflowing the
// stack: by size, by operator count, or by redundant parentheses.
TEST_F(ConditionTest, DeepNestingDoesNotCrash) {
  std::string deep = std::string(20000, '(') + "a<b" + std::string(20000, ')');
  EXPECT_THAT(Parse(deep),
              FailsWith("Invalid ConditionExpression: Expression size has "
                        "exceeded the maximum allowed size; expression size: "
                        "40003"));
  std::string parens = std::string(2046, '(') + "a<b" + std::string(2046, ')');
  EXPECT_THAT(Parse(parens), FailsWith("Invalid ConditionExpression: The "
                                       "expression has redundant "
                                       "parentheses;"));
  std::string nots;
  for (int i = 0; i < 1000; ++i) nots += "not ";
  EXPECT_THAT(Parse(nots + "a<b"),
              FailsWith("Invalid ConditionExpression: The expression contains "
                        "too many operators; operator count: 301"));
  std::string calls;
  for (int i = 0; i < 1355; ++i) calls += "f(";
  calls = "a < " + calls + "b" + std::string(1355, ')');
  EXPECT_THAT(Parse(calls), FailsWith("Invalid ConditionExpression: Invalid "
                                      "function name; function: f"));
  std::string sizes;
  for (int i = 0; i < 680; ++i) sizes += "size(";
  sizes = "a < " + sizes + "b" + std::string(680, ')');
  EXPECT_FALSE(Parse(sizes).ok());
  std::string operands =
      "a < " + std::string(2000, '(') + "b" + std::string(2000, ')');
  EXPECT_FALSE(Parse(operands).ok());
}

// A parsed condition can be evaluated against many items.
TEST_F(ConditionTest, ParsedConditionIsReusable) {
  Value(":v", N("2"));
  Result<std::unique_ptr<Condition>> condition = Parse("x >= :v");
  ASSERT_THAT(condition, IsOk());
  EXPECT_FALSE((*condition)->Evaluate({{"x", N("1")}}));
  EXPECT_TRUE((*condition)->Evaluate({{"x", N("2")}}));
  EXPECT_TRUE((*condition)->Evaluate({{"x", N("3")}}));
}

}  // namespace
}  // namespace eddy::store
