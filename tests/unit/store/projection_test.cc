// Tests for ProjectionExpression: parsing, overlap and conflict errors, and
// applying projections to items (nesting, merging, list compaction).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "eddy/store/expression.h"
#include "expression_test_util.h"

namespace eddy::store {
namespace {

using ::testing::ElementsAre;
using testing::FailsWith;
using testing::Index;
using testing::IsOk;
using testing::Key;
using testing::L;
using testing::M;
using testing::N;
using testing::S;

class ProjectionTest : public testing::ExpressionTestBase {
 protected:
  ProjectionTest() {
    item_ = {
        {"p", S("key")},
        {"a",
         M({{"b", L({N("2"), N("4"), M({{"x", S("hi")}, {"y", S("yo")}})})},
            {"c", N("5")}})},
        {"b", S("hello")}};
  }

  Result<Projection> Parse(std::string_view text) {
    return Projection::Parse(text, Context());
  }

  // The item projected by `text`, which must parse.
  Item Projected(std::string_view text) {
    Result<Projection> projection = Parse(text);
    EXPECT_THAT(projection, IsOk()) << text;
    return projection.ok() ? projection->Apply(item_) : Item{};
  }

  Item item_;
};

// Top-level paths pick attributes; missing ones are skipped.
TEST_F(ProjectionTest, TopLevelAttributes) {
  EXPECT_EQ(Projected("b"), (Item{{"b", S("hello")}}));
  EXPECT_EQ(Projected(" p  ,   b  "),
            (Item{{"p", S("key")}, {"b", S("hello")}}));
  EXPECT_EQ(Projected("nonexistent"), Item{});
}

// Nested paths keep their place in the item's structure.
TEST_F(ProjectionTest, NestedPathsKeepStructure) {
  EXPECT_EQ(Projected("a.c"), (Item{{"a", M({{"c", N("5")}})}}));
  EXPECT_EQ(Projected("a.b[0]"), (Item{{"a", M({{"b", L({N("2")})}})}}));
  EXPECT_EQ(Projected("a.b[2].y"),
            (Item{{"a", M({{"b", L({M({{"y", S("yo")}})})}})}}));
}

// Paths sharing a prefix merge into one map.
TEST_F(ProjectionTest, SharedPrefixesMerge) {
  EXPECT_EQ(Projected("a.b[0],a.c"),
            (Item{{"a", M({{"b", L({N("2")})}, {"c", N("5")}})}}));
  EXPECT_EQ(Projected("a.c,b"),
            (Item{{"a", M({{"c", N("5")}})}, {"b", S("hello")}}));
}

// List elements picked by index are compacted in index order.
TEST_F(ProjectionTest, ListElementsAreCompactedInIndexOrder) {
  EXPECT_EQ(Projected("a.b[2].x, a.b[0]"),
            (Item{{"a", M({{"b", L({N("2"), M({{"x", S("hi")}})})}})}}));
  EXPECT_EQ(Projected("a.b[1], a.b[0]"),
            (Item{{"a", M({{"b", L({N("2"), N("4")})}})}}));
}

// Paths that lead nowhere (missing keys, indexes past the end, a key into a
// list or an index into a map) are skipped.
TEST_F(ProjectionTest, PathsThatLeadNowhereAreSkipped) {
  for (const char* text : {"x", "a.b[3]", "a.x", "a.x.y", "a.b[3].x", "a.b.x",
                           "a[0]", "a.b[0].x", "a.b[0][0]"}) {
    EXPECT_EQ(Projected(text), Item{}) << text;
  }
  EXPECT_EQ(Projected("a.x, a.b[0], x, a.b[3].x"),
            (Item{{"a", M({{"b", L({N("2")})}})}}));
}

// #names substitute single path steps; a dot inside one is literal.
TEST_F(ProjectionTest, NameSubstitutions) {
  Name("#n1", "a");
  Name("#n2", "c");
  Name("#dot", "a.c");
  item_["a.c"] = S("literal");
  EXPECT_EQ(Projected("#n1.#n2"), (Item{{"a", M({{"c", N("5")}})}}));
  EXPECT_EQ(Projected("#dot"), (Item{{"a.c", S("literal")}}));
}

// The same path twice, or a path and one inside it, overlap.
TEST_F(ProjectionTest, OverlappingPathsAreRefused) {
  EXPECT_THAT(Parse("a,a"),
              FailsWith("Invalid ProjectionExpression: Two document paths "
                        "overlap with each other; must remove or rewrite one "
                        "of these paths; path one: [a], path two: [a]"));
  EXPECT_THAT(Parse("a, a.b[0]"),
              FailsWith("Invalid ProjectionExpression: Two document paths "
                        "overlap with each other; must remove or rewrite one "
                        "of these paths; path one: [a], path two: [a, b, "
                        "[0]]"));
  for (const char* text :
       {"a, b", "a.b, a.c", "a.b.d, a.b.e", "a[1], a[2]", "a.b, a.c[2]"}) {
    EXPECT_THAT(Parse(text), IsOk()) << text;
  }
}

// A key and an index at the same place conflict.
TEST_F(ProjectionTest, ConflictingPathsAreRefused) {
  EXPECT_THAT(Parse("a.b, a[1]"),
              FailsWith("Invalid ProjectionExpression: Two document paths "
                        "conflict with each other; must remove or rewrite one "
                        "of these paths; path one: [a, b], path two: [a, "
                        "[1]]"));
}

// Stray commas and empty text are refused.
TEST_F(ProjectionTest, SyntaxErrors) {
  EXPECT_THAT(Parse("a,"), FailsWith("Invalid ProjectionExpression: Syntax "
                                     "error; token: \"<EOF>\", near: \",\""));
  EXPECT_THAT(Parse(",a"), FailsWith("Invalid ProjectionExpression: Syntax "
                                     "error; token: \",\", near: \",a\""));
  EXPECT_THAT(Parse("a,,b"), FailsWith("Invalid ProjectionExpression: Syntax "
                                       "error; token: \",\", near: \",,b\""));
  EXPECT_THAT(Parse("l[a]"), FailsWith("Invalid ProjectionExpression: Syntax "
                                       "error; token: \"a\", near: \"[a]\""));
  EXPECT_THAT(Parse(""), FailsWith("Invalid ProjectionExpression: The "
                                   "expression can not be empty;"));
}

// Reserved words and undefined names are refused.
TEST_F(ProjectionTest, NameErrors) {
  EXPECT_THAT(Parse("a, data"),
              FailsWith("Invalid ProjectionExpression: Attribute name is a "
                        "reserved keyword; reserved keyword: data"));
  EXPECT_THAT(Parse("#x"),
              FailsWith("Invalid ProjectionExpression: An expression attribute "
                        "name used in the document path is not defined; "
                        "attribute name: #x"));
}

// Paths longer than 32 steps and indexes beyond 2^31-1 are refused.
TEST_F(ProjectionTest, PathShapeLimits) {
  std::string deep = "a";
  for (int i = 1; i < 32; ++i) deep += ".a";
  EXPECT_THAT(Parse(deep), IsOk());
  EXPECT_THAT(Parse(deep + ".a"),
              FailsWith("Invalid ProjectionExpression: The document path has "
                        "too many nesting levels; nesting levels: 33"));
  EXPECT_THAT(Parse("a[2147483647]"), IsOk());
  EXPECT_THAT(Parse("a[2147483648]"),
              FailsWith("Invalid ProjectionExpression: List index is not "
                        "within the allowable range; index: [2147483648]"));
}

// A projection built from resolved paths (UPDATED_NEW, AttributesToGet)
// applies the same way.
TEST_F(ProjectionTest, BuiltFromPaths) {
  Projection projection({Path{Key("a"), Key("c")}, Path{Key("b")}});
  EXPECT_THAT(projection.paths(),
              ElementsAre(Path{Key("a"), Key("c")}, Path{Key("b")}));
  EXPECT_EQ(projection.Apply(item_),
            (Item{{"a", M({{"c", N("5")}})}, {"b", S("hello")}}));
  Projection listed({Path{Key("a"), Key("b"), Index(1)}});
  EXPECT_EQ(listed.Apply(item_), (Item{{"a", M({{"b", L({N("4")})}})}}));
}

}  // namespace
}  // namespace eddy::store
