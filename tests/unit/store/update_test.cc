// Tests for UpdateExpression: parsing, DynamoDB's static checks and
// messages, and applying SET, REMOVE, ADD and DELETE to items, including
// nested paths and list indexes.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "eddy/store/expression.h"
#include "expression_test_util.h"

namespace eddy::store {
namespace {

using testing::B;
using testing::BS;
using ::testing::ElementsAre;
using testing::FailsWith;
using testing::Index;
using testing::IsOk;
using testing::Key;
using testing::L;
using testing::M;
using testing::N;
using testing::NS;
using testing::S;
using testing::SS;

class UpdateTest : public testing::ExpressionTestBase {
 protected:
  Result<std::unique_ptr<Update>> Parse(std::string_view text) {
    return Update::Parse(text, Context());
  }

  // Applies `text` to *item; the parse must succeed.
  Status ApplyTo(std::string_view text, Item* item) {
    Result<std::unique_ptr<Update>> update = Parse(text);
    EXPECT_THAT(update, IsOk()) << text;
    if (!update.ok()) return update.status();
    return (*update)->Apply(item);
  }

  // `item` after applying `text`, which must succeed.
  Item Updated(std::string_view text, Item item) {
    EXPECT_THAT(ApplyTo(text, &item), IsOk()) << text;
    return item;
  }
};

// SET writes top-level attributes; clause keywords are case-insensitive.
TEST_F(UpdateTest, SetWritesAttributes) {
  Value(":v", N("4"));
  Value(":w", S("x"));
  EXPECT_EQ(Updated("SET b = :v", {}), (Item{{"b", N("4")}}));
  EXPECT_EQ(Updated("sEt b = :v, c = :w", {{"b", S("old")}}),
            (Item{{"b", N("4")}, {"c", S("x")}}));
  EXPECT_EQ(Updated("  set   b=:v  ", {}), (Item{{"b", N("4")}}));
}

// SET can copy one attribute to another, with #names on either side.
TEST_F(UpdateTest, SetCopiesAttributes) {
  Name("#one", "c");
  Name("#two", "a");
  EXPECT_EQ(Updated("SET b = a", {{"a", S("hello")}}),
            (Item{{"a", S("hello")}, {"b", S("hello")}}));
  EXPECT_EQ(Updated("SET #one = #two", {{"a", S("hello")}}),
            (Item{{"a", S("hello")}, {"c", S("hello")}}));
}

// Reading a missing attribute (outside if_not_exists) fails the update.
TEST_F(UpdateTest, SetFromMissingAttributeFails) {
  Item item = {{"a", S("hello")}};
  EXPECT_THAT(ApplyTo("SET c = z", &item),
              FailsWith("The provided expression refers to an attribute that "
                        "does not exist in the item"));
}

// Values are read from the item as it was: "SET x = :v, y = x" reads the
// old x, which is missing.
TEST_F(UpdateTest, ValuesAreReadBeforeAnyWrite) {
  Value(":v", N("4"));
  Item item = {{"a", S("hello")}};
  EXPECT_THAT(ApplyTo("SET x = :v, y = x", &item),
              FailsWith("The provided expression refers to an attribute that "
                        "does not exist in the item"));
  EXPECT_EQ(Updated("REMOVE a SET b = a", {{"a", S("hello")}}),
            (Item{{"b", S("hello")}}));
  EXPECT_EQ(Updated("SET c = b REMOVE b", {{"b", S("hello")}}),
            (Item{{"c", S("hello")}}));
}

// + and - are exact decimal arithmetic on numbers.
TEST_F(UpdateTest, PlusAndMinusAreExact) {
  Value(":a", N("0.1"));
  Value(":b", N("0.2"));
  Value(":seven", N("7"));
  EXPECT_EQ(Updated("SET x = :a + :b", {}), (Item{{"x", N("0.3")}}));
  EXPECT_EQ(Updated("SET x = :seven - n", {{"n", N("2")}}),
            (Item{{"n", N("2")}, {"x", N("5")}}));
  EXPECT_EQ(Updated("SET n = n + n", {{"n", N("2")}}), (Item{{"n", N("4")}}));
  EXPECT_EQ(Updated("SET n = if_not_exists(n, :a)+:b", {}),
            (Item{{"n", N("0.3")}}));
}

// Arithmetic on non-numbers: refused statically for :values, at apply time
// for item attributes.
TEST_F(UpdateTest, ArithmeticOnNonNumbersFails) {
  Value(":s", S("dog"));
  Value(":n", N("3"));
  EXPECT_THAT(Parse("SET b = :s + :n"),
              FailsWith("Invalid UpdateExpression: Incorrect operand type for "
                        "operator or function; operator or function: +, "
                        "operand type: S"));
  Item item = {{"s", S("dog")}};
  EXPECT_THAT(ApplyTo("SET b = s - :n", &item),
              FailsWith("An operand in the update expression has an incorrect "
                        "data type"));
}

// Only two operands can be added; a third "+" is a syntax error.
TEST_F(UpdateTest, ThreeOperandsIsASyntaxError) {
  Value(":a", N("1"));
  EXPECT_THAT(Parse("SET b = :a + :a + :a"),
              FailsWith("Invalid UpdateExpression: Syntax error; token: "
                        "\"+\", near: \":a + :a\""));
}

// Number overflow in arithmetic is reported with Number's message.
TEST_F(UpdateTest, ArithmeticOverflowIsReported) {
  Value(":big", N("9.9999999999999999999999999999999999999E+125"));
  Item item = {{"n", N("9.9999999999999999999999999999999999999E+125")}};
  Status s = ApplyTo("SET n = n + :big", &item);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_THAT(s.message(), ::testing::HasSubstr("overflow"));
}

// if_not_exists gives the attribute's value when it exists, else the
// fallback.
TEST_F(UpdateTest, IfNotExists) {
  Value(":v", N("2"));
  EXPECT_EQ(Updated("SET a = if_not_exists(a, :v)", {}), (Item{{"a", N("2")}}));
  EXPECT_EQ(Updated("SET a = if_not_exists(a, :v)", {{"a", N("1")}}),
            (Item{{"a", N("1")}}));
  EXPECT_EQ(Updated("SET b = if_not_exists(a, :v)", {{"a", N("1")}}),
            (Item{{"a", N("1")}, {"b", N("1")}}));
  EXPECT_EQ(Updated("SET a = if_not_exists(b, if_not_exists(c, :v))", {}),
            (Item{{"a", N("2")}}));
}

// if_not_exists needs a document path first.
TEST_F(UpdateTest, IfNotExistsRequiresAPath) {
  Value(":v", N("2"));
  EXPECT_THAT(Parse("SET b = if_not_exists(:v, :v)"),
              FailsWith("Invalid UpdateExpression: Operator or function "
                        "requires a document path; operator or function: "
                        "if_not_exists"));
}

// list_append concatenates two lists, in either order.
TEST_F(UpdateTest, ListAppend) {
  Value(":v", L({N("4"), S("hello")}));
  Item item = {{"a", L({S("hi")})}};
  EXPECT_EQ(Updated("SET a = list_append(a, :v)", item),
            (Item{{"a", L({S("hi"), N("4"), S("hello")})}}));
  EXPECT_EQ(Updated("SET a = list_append(:v, a)", item),
            (Item{{"a", L({N("4"), S("hello"), S("hi")})}}));
  EXPECT_EQ(Updated("SET a = list_append(if_not_exists(a, :v), :v)", {}),
            (Item{{"a", L({N("4"), S("hello"), N("4"), S("hello")})}}));
}

// list_append of a missing attribute or a non-list fails.
TEST_F(UpdateTest, ListAppendNeedsLists) {
  Value(":v", L({N("1")}));
  Value(":s", S("hi"));
  EXPECT_THAT(Parse("SET a = list_append(:v, :s)"),
              FailsWith("Invalid UpdateExpression: Incorrect operand type for "
                        "operator or function; operator or function: "
                        "list_append, operand type: S"));
  Item item = {{"b", N("7")}};
  EXPECT_THAT(ApplyTo("SET a = list_append(b, :v)", &item),
              FailsWith("An operand in the update expression has an incorrect "
                        "data type"));
  EXPECT_THAT(ApplyTo("SET a = list_append(:v, c)", &item),
              FailsWith("The provided expression refers to an attribute that "
                        "does not exist in the item"));
  EXPECT_THAT(Parse("SET a = list_append(list_append(:v, :v), :v)"),
              FailsWith("Invalid UpdateExpression: The function is not allowed "
                        "to be used this way in an expression; function: "
                        "list_append"));
  EXPECT_THAT(Parse("SET a = list_append(:v)"),
              FailsWith("Invalid UpdateExpression: Incorrect number of "
                        "operands for operator or function; operator or "
                        "function: list_append, number of operands: 1"));
}

// Nested SET and REMOVE leave the rest of each map alone.
TEST_F(UpdateTest, NestedSetAndRemove) {
  Value(":v1", N("10"));
  Value(":v2", S("dog"));
  Value(":v3", N("17"));
  Item item = {
      {"a", M({{"x", N("3")}, {"y", N("4")}, {"c", M({{"y", N("3")}})}})},
      {"b", M({{"x", N("1")}, {"y", N("2")}})}};
  EXPECT_EQ(
      Updated("SET a.b = :v1, a.c.d = :v2, b.x = :v3 REMOVE a.x, b.y", item),
      (Item{{"a", M({{"y", N("4")},
                     {"b", N("10")},
                     {"c", M({{"y", N("3")}, {"d", S("dog")}})}})},
            {"b", M({{"x", N("17")}})}}));
}

// Deep paths mix map keys, list indexes and #names on both sides.
TEST_F(UpdateTest, DeepPaths) {
  Value(":v", N("9"));
  Name("#name", "x");
  Item item = {
      {"a",
       M({{"b", N("3")},
          {"c", L({S("hi"),
                   M({{"x", M({{"y", L({N("3"), N("5"), N("7")})}})}})})}})}};
  Item updated = Updated("SET a.c[1].#name.y[1] = :v", item);
  EXPECT_EQ(*ResolvePath(updated, {Key("a"), Key("c"), Index(1), Key("x"),
                                   Key("y"), Index(1)}),
            N("9"));
  Item copied = Updated("SET a.z = a.c[1].#name.y[2]", item);
  EXPECT_EQ(*ResolvePath(copied, {Key("a"), Key("z")}), N("7"));
}

// Writing below a missing or non-container parent is refused, also on an
// item that does not exist.
TEST_F(UpdateTest, SetBelowMissingParentFails) {
  const char* kMessage =
      "The document path provided in the update expression is invalid for "
      "update";
  Value(":v", N("7"));
  Item item = {{"a", S("hello")}, {"b", L({S("hi")})}};
  for (const char* text :
       {"SET a.c = :v", "SET b.c = :v", "SET c.c = :v", "SET a[0] = :v",
        "SET c[0] = :v", "REMOVE a.c", "REMOVE b.c", "REMOVE c.c",
        "REMOVE a[0]", "ADD c.d :v"}) {
    Item copy = item;
    EXPECT_THAT(ApplyTo(text, &copy), FailsWith(kMessage)) << text;
  }
  Item empty;
  EXPECT_THAT(ApplyTo("SET c.c = :v", &empty), FailsWith(kMessage));
}

// REMOVE of anything on an item that does not exist is silently ignored.
TEST_F(UpdateTest, RemoveOnMissingItemIsIgnored) {
  EXPECT_EQ(Updated("REMOVE x.y, z[0], w", {}), Item{});
}

// Removing what is not there (a missing key, an index past the end) does
// nothing.
TEST_F(UpdateTest, RemoveOfMissingLeafDoesNothing) {
  Item item = {{"a", M({{"x", N("3")}})}, {"b", L({S("hi")})}};
  EXPECT_EQ(Updated("REMOVE a.y, b[7], c", item), item);
}

// Removing the last key or element leaves an empty map or list.
TEST_F(UpdateTest, RemoveLastMemberLeavesEmptyContainer) {
  EXPECT_EQ(Updated("REMOVE a.b", {{"a", M({{"b", N("1")}})}}),
            (Item{{"a", M({})}}));
  EXPECT_EQ(Updated("REMOVE a[0]", {{"a", L({N("1")})}}), (Item{{"a", L({})}}));
}

// SET of a list index past the end appends; several appends land in index
// order, whatever order they were written in.
TEST_F(UpdateTest, SetPastTheEndAppendsInIndexOrder) {
  Value(":v", S("hello"));
  Value(":a1", S("a1"));
  Value(":a2", S("a2"));
  Value(":a3", S("a3"));
  Value(":a4", S("a4"));
  Item item = {{"a", L({S("one"), S("two"), S("three")})}};
  item = Updated("SET a[7] = :v", item);
  EXPECT_EQ(item,
            (Item{{"a", L({S("one"), S("two"), S("three"), S("hello")})}}));
  item =
      Updated("SET a[84] = :a1, a[37] = :a2, a[17] = :a3, a[50] = :a4", item);
  EXPECT_EQ(item, (Item{{"a", L({S("one"), S("two"), S("three"), S("hello"),
                                 S("a3"), S("a2"), S("a4"), S("a1")})}}));
  EXPECT_EQ(Updated("SET a[1] = :v", {{"a", L({N("0"), N("1"), N("2")})}}),
            (Item{{"a", L({N("0"), S("hello"), N("2")})}}));
}

// Indexes name positions in the original list, so several removals and a
// SET in one update do not interfere.
TEST_F(UpdateTest, ListIndexesNameOriginalPositions) {
  Value(":v", N("17"));
  Item item = {{"a", L({N("2"), N("3"), N("4"), N("5"), N("6"), N("7")})}};
  Item expected = {{"a", L({N("2"), N("4"), N("17"), N("6"), N("7")})}};
  EXPECT_EQ(Updated("REMOVE a[1] SET a[3] = :v", item), expected);
  EXPECT_EQ(Updated("SET a[3] = :v REMOVE a[1]", item), expected);
  EXPECT_EQ(Updated("REMOVE a[1], a[3], a[0]", item),
            (Item{{"a", L({N("4"), N("6"), N("7")})}}));
  EXPECT_EQ(Updated("REMOVE a[5], a[0] SET a[9] = :v", item),
            (Item{{"a", L({N("3"), N("4"), N("5"), N("6"), N("17")})}}));
}

// Removing elements of a list and of lists inside it in one update.
TEST_F(UpdateTest, NestedListRemovals) {
  Item item = {{"a", L({N("0"), L({N("10"), N("11"), N("12")}), N("2")})}};
  EXPECT_EQ(Updated("REMOVE a[0], a[1][0], a[1][2]", item),
            (Item{{"a", L({L({N("11")}), N("2")})}}));
  Item nested = {
      {"a",
       M({{"c", L({S("hi"), M({{"x", M({{"y", L({N("3"), N("5"), N("7")})}})},
                               {"q", N("2")}})})}})}};
  EXPECT_EQ(
      Updated("REMOVE a.c[1].x.y[1], a.c[1].q", nested),
      (Item{{"a",
             M({{"c", L({S("hi"),
                         M({{"x", M({{"y", L({N("3"), N("7")})}})}})})}})}}));
}

// ADD adds numbers, treating a missing attribute as 0.
TEST_F(UpdateTest, AddNumbers) {
  Value(":v", N("4"));
  EXPECT_EQ(Updated("ADD a :v", {{"a", N("3")}}), (Item{{"a", N("7")}}));
  EXPECT_EQ(Updated("ADD a :v", {}), (Item{{"a", N("4")}}));
  EXPECT_EQ(Updated("ADD m.n :v", {{"m", M({})}}),
            (Item{{"m", M({{"n", N("4")}})}}));
}

// ADD unions sets of the same type.
TEST_F(UpdateTest, AddSets) {
  Value(":v", SS({"coati", "beaver", "badger"}));
  Value(":n", NS({"1"}));
  EXPECT_EQ(Updated("ADD a :v", {{"a", SS({"beaver", "lynx", "coati"})}}),
            (Item{{"a", SS({"beaver", "badger", "lynx", "coati"})}}));
  EXPECT_EQ(Updated("ADD a :v", {}),
            (Item{{"a", SS({"coati", "beaver", "badger"})}}));
  EXPECT_EQ(Updated("ADD a :n", {{"a", NS({"1.0", "2"})}}),
            (Item{{"a", NS({"1", "2"})}}));
}

// ADD of the wrong operand type is refused statically; of a mismatched
// attribute at apply time.
TEST_F(UpdateTest, AddTypeErrors) {
  Value(":s", S("hello"));
  Value(":l", L({N("3")}));
  Value(":n", N("1"));
  Value(":set", SS({"x"}));
  EXPECT_THAT(Parse("ADD a :s"),
              FailsWith("Invalid UpdateExpression: Incorrect operand type for "
                        "operator or function; operator: ADD, operand type: "
                        "STRING, typeSet: ALLOWED_FOR_ADD_OPERAND"));
  EXPECT_THAT(Parse("ADD a :l"),
              FailsWith("Invalid UpdateExpression: Incorrect operand type for "
                        "operator or function; operator: ADD, operand type: "
                        "LIST, typeSet: ALLOWED_FOR_ADD_OPERAND"));
  for (const char* text : {"ADD s :n", "ADD l :set", "ADD n :set"}) {
    Item item = {{"s", S("hi")}, {"l", L({N("1")})}, {"n", N("1")}};
    EXPECT_THAT(ApplyTo(text, &item),
                FailsWith("An operand in the update expression has an "
                          "incorrect data type"))
        << text;
  }
}

// DELETE removes set members; an emptied set disappears; a missing
// attribute is left alone.
TEST_F(UpdateTest, DeleteFromSets) {
  Value(":v", SS({"cat", "mouse"}));
  Value(":pig", SS({"pig"}));
  Value(":dog", SS({"dog"}));
  Value(":b", BS({"\x01"}));
  Item item = {{"a", SS({"dog", "cat", "mouse"})}, {"b", S("hi")}};
  item = Updated("DELETE a :v", item);
  EXPECT_EQ(item, (Item{{"a", SS({"dog"})}, {"b", S("hi")}}));
  EXPECT_EQ(Updated("DELETE a :pig", item), item);
  item = Updated("DELETE a :dog", item);
  EXPECT_EQ(item, (Item{{"b", S("hi")}}));
  EXPECT_EQ(Updated("DELETE a :dog", item), item);
  EXPECT_EQ(Updated("DELETE c :b", {{"c", BS({"\x01", "\x02"})}}),
            (Item{{"c", BS({"\x02"})}}));
}

// DELETE takes only sets, of the attribute's set type.
TEST_F(UpdateTest, DeleteTypeErrors) {
  Value(":s", S("hello"));
  Value(":n", NS({"1"}));
  EXPECT_THAT(Parse("DELETE a :s"),
              FailsWith("Invalid UpdateExpression: Incorrect operand type for "
                        "operator or function; operator: DELETE, operand "
                        "type: STRING, typeSet: ALLOWED_FOR_DELETE_OPERAND"));
  Item item = {{"a", SS({"x"})}};
  EXPECT_THAT(ApplyTo("DELETE a :n", &item),
              FailsWith("An operand in the update expression has an incorrect "
                        "data type"));
}

// Each clause may appear once, even with another in between.
TEST_F(UpdateTest, ClauseUsedTwiceIsRefused) {
  Value(":v", N("1"));
  EXPECT_THAT(Parse("SET a = :v SET b = :v"),
              FailsWith("Invalid UpdateExpression: The \"SET\" section can "
                        "only be used once in an update expression;"));
  EXPECT_THAT(Parse("remove a SET b = :v REMOVE c"),
              FailsWith("Invalid UpdateExpression: The \"REMOVE\" section can "
                        "only be used once in an update expression;"));
  EXPECT_THAT(Parse("REMOVE a SET b = :v ADD c :v DELETE d :v"),
              FailsWith("Invalid UpdateExpression: Incorrect operand type for "
                        "operator or function; operator: DELETE, operand "
                        "type: NUMBER, typeSet: ALLOWED_FOR_DELETE_OPERAND"));
}

// Two actions on the same path, or on a path and one inside it, overlap.
TEST_F(UpdateTest, OverlappingPathsAreRefused) {
  Value(":v", N("1"));
  EXPECT_THAT(Parse("SET a = :v REMOVE a"),
              FailsWith("Invalid UpdateExpression: Two document paths overlap "
                        "with each other; must remove or rewrite one of these "
                        "paths; path one: [a], path two: [a]"));
  EXPECT_THAT(Parse("SET a = :v, a.b = :v"),
              FailsWith("Invalid UpdateExpression: Two document paths overlap "
                        "with each other; must remove or rewrite one of these "
                        "paths; path one: [a], path two: [a, b]"));
  EXPECT_THAT(Parse("SET a[1][1] = :v, a[1] = :v"),
              FailsWith("Invalid UpdateExpression: Two document paths overlap "
                        "with each other; must remove or rewrite one of these "
                        "paths; path one: [a, [1], [1]], path two: [a, [1]]"));
  Name("#a1", "a");
  Name("#a2", "a");
  EXPECT_THAT(Parse("SET #a1 = :v, #a2 = :v"),
              FailsWith("Invalid UpdateExpression: Two document paths overlap "
                        "with each other; must remove or rewrite one of these "
                        "paths; path one: [a], path two: [a]"));
}

// A map key and a list index at the same place conflict.
TEST_F(UpdateTest, ConflictingPathsAreRefused) {
  Value(":v", N("1"));
  EXPECT_THAT(Parse("SET a.b = :v, a[1] = :v"),
              FailsWith("Invalid UpdateExpression: Two document paths "
                        "conflict with each other; must remove or rewrite one "
                        "of these paths; path one: [a, b], path two: [a, "
                        "[1]]"));
}

// Sibling paths do not overlap.
TEST_F(UpdateTest, SiblingPathsAreAllowed) {
  Value(":v", N("1"));
  EXPECT_THAT(Parse("SET a.b = :v, a.c = :v, a.d[1] = :v, a.d[2] = :v "
                    "REMOVE b, c.d"),
              IsOk());
}

// paths() lists every action's path in expression order.
TEST_F(UpdateTest, PathsAreListedInOrder) {
  Value(":v", N("1"));
  Value(":s", SS({"x"}));
  Name("#n", "name");
  Result<std::unique_ptr<Update>> update =
      Parse("SET a.b = :v, #n = :v REMOVE l[2] ADD c :v DELETE d :s");
  ASSERT_THAT(update, IsOk());
  EXPECT_THAT(
      (*update)->paths(),
      ElementsAre(Path{Key("a"), Key("b")}, Path{Key("name")},
                  Path{Key("l"), Index(2)}, Path{Key("c")}, Path{Key("d")}));
}

// Undefined substitutions name the token.
TEST_F(UpdateTest, UndefinedSubstitutionsAreErrors) {
  EXPECT_THAT(Parse("SET b = :val1"),
              FailsWith("Invalid UpdateExpression: An expression attribute "
                        "value used in expression is not defined; attribute "
                        "value: :val1"));
  Value(":val1", N("1"));
  EXPECT_THAT(Parse("SET #name = :val1"),
              FailsWith("Invalid UpdateExpression: An expression attribute "
                        "name used in the document path is not defined; "
                        "attribute name: #name"));
}

// Reserved words need substitution in updates too.
TEST_F(UpdateTest, ReservedWordIsRefused) {
  Value(":v", N("1"));
  EXPECT_THAT(Parse("SET Year = :v"),
              FailsWith("Invalid UpdateExpression: Attribute name is a "
                        "reserved keyword; reserved keyword: Year"));
}

// Unknown functions and condition functions are refused by name.
TEST_F(UpdateTest, FunctionsOutsideUpdatesAreRefused) {
  EXPECT_THAT(Parse("SET a = f(b, c, d)"),
              FailsWith("Invalid UpdateExpression: Invalid function name; "
                        "function: f"));
  EXPECT_THAT(Parse("SET a = size(b)"),
              FailsWith("Invalid UpdateExpression: The function is not allowed "
                        "in an update expression; function: size"));
  EXPECT_THAT(Parse("SET a = LIST_APPEND(b, c)"),
              FailsWith("Invalid UpdateExpression: Invalid function name; "
                        "function: LIST_APPEND"));
}

// Syntax errors in updates.
TEST_F(UpdateTest, SyntaxErrors) {
  Value(":a", N("1"));
  Value(":b", N("2"));
  EXPECT_THAT(Parse("HELLO b = :a"),
              FailsWith("Invalid UpdateExpression: Syntax error; token: "
                        "\"HELLO\", near: \"HELLO b\""));
  EXPECT_THAT(Parse("SET :a = :b"),
              FailsWith("Invalid UpdateExpression: Syntax error; token: "
                        "\":a\", near: \"SET :a =\""));
  EXPECT_THAT(Parse("SET _123 = :a"),
              FailsWith("Invalid UpdateExpression: Syntax error; token: "
                        "\"_\", near: \"SET _123\""));
  EXPECT_THAT(Parse("SET a[:a] = :b"),
              FailsWith("Invalid UpdateExpression: Syntax error; token: "
                        "\":a\", near: \"[:a]\""));
  EXPECT_THAT(Parse("SET"), FailsWith("Invalid UpdateExpression: Syntax "
                                      "error; token: \"<EOF>\", near: "
                                      "\"SET\""));
  EXPECT_THAT(Parse("SET a = "),
              FailsWith("Invalid UpdateExpression: Syntax error; token: "
                        "\"<EOF>\", near: \"= \""));
  EXPECT_THAT(Parse("SET c = if_not_exists(c, :a+:b)"),
              FailsWith("Invalid UpdateExpression: Syntax error; token: "
                        "\"+\", near: \":a+:b\""));
  EXPECT_THAT(Parse(""), FailsWith("Invalid UpdateExpression: The expression "
                                   "can not be empty;"));
}

// 300 operators are allowed in an update; the 301st is refused.
TEST_F(UpdateTest, OperatorLimit) {
  Value(":v", N("1"));
  std::string text = "SET ";
  for (int i = 0; i < 300; ++i) {
    if (i != 0) text += ",";
    text += "a" + std::to_string(i) + "=:v+:v";
  }
  ASSERT_LE(text.size(), 4096u);
  EXPECT_THAT(Parse(text), IsOk());
  EXPECT_THAT(Parse(text + ",z=:v+:v"),
              FailsWith("Invalid UpdateExpression: The expression contains "
                        "too many operators; operator count: 301"));
}

// The whole value may be parenthesized, or each operand.
TEST_F(UpdateTest, ParenthesizedValues) {
  Value(":a", N("1"));
  Value(":b", N("2"));
  EXPECT_EQ(Updated("SET x = (:a + :b)", {}), (Item{{"x", N("3")}}));
  EXPECT_EQ(Updated("SET x = (:a) - (:b)", {}), (Item{{"x", N("-1")}}));
}

}  // namespace
}  // namespace eddy::store
