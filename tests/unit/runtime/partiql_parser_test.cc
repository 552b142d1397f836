// The PartiQL lexer and parser: the statements DynamoDB accepts and the
// exact messages of those it refuses.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "partiql/lexer.h"
#include "partiql/parser.h"

namespace eddy::runtime::partiql {
namespace {

using store::AttributeValue;
using ::testing::ElementsAre;

MATCHER_P(FailsWith, message, "fails with \"" + std::string(message) + "\"") {
  if (arg.ok()) {
    *result_listener << "parsed";
    return false;
  }
  *result_listener << arg.status().ToString();
  return arg.status().IsInvalidArgument() && arg.status().message() == message;
}

std::string Malformed(const std::string& detail) {
  return std::string(kNotWellFormed) + detail;
}

AttributeValue N(const char* text) {
  return AttributeValue::Num(*store::Number::Parse(text));
}
AttributeValue S(const char* text) { return AttributeValue::String(text); }

class PartiqlParserTest : public ::testing::Test {
 protected:
  // Parses a statement that must parse.
  Statement Parsed(const std::string& text) {
    Result<Statement> st = Parse(text);
    EXPECT_TRUE(st.ok()) << text << ": " << st.status().ToString();
    return st.ok() ? std::move(*st) : Statement();
  }
  // The literal of `SELECT * FROM "tab" WHERE a = <literal>`.
  AttributeValue Literal(const std::string& literal) {
    Statement st = Parsed("SELECT * FROM tab WHERE a = " + literal);
    if (!st.where || st.where->args.size() != 2) return AttributeValue();
    return st.where->args[1].value;
  }
};

TEST_F(PartiqlParserTest, TokenizesQuotesCommentsAndOperators) {
  Result<std::vector<Token>> tokens = Tokenize(
      "SELECT \"a\"\"b\" -- comment\n FROM 'it''s' /* block */ <> != <= >= << "
      ">> 1.5e3 ?");
  ASSERT_TRUE(tokens.ok());
  std::vector<TokenKind> kinds;
  for (const Token& t : *tokens) kinds.push_back(t.kind);
  EXPECT_THAT(
      kinds, ElementsAre(TokenKind::kWord, TokenKind::kQuotedIdentifier,
                         TokenKind::kWord, TokenKind::kString, TokenKind::kNe,
                         TokenKind::kNe, TokenKind::kLe, TokenKind::kGe,
                         TokenKind::kLBag, TokenKind::kRBag, TokenKind::kNumber,
                         TokenKind::kParameter, TokenKind::kEnd));
  EXPECT_EQ((*tokens)[1].text, "a\"b");
  EXPECT_EQ((*tokens)[3].text, "it's");
  EXPECT_EQ((*tokens)[10].text, "1.5e3");
}

// What the lexer cannot read gets the bare envelope, as on DynamoDB.
TEST_F(PartiqlParserTest, UnreadableTextHasNothingAfterTheColon) {
  const std::string bare = Malformed("");
  EXPECT_THAT(Parse("SELECT * FROM tab WHERE a = 1 # note"), FailsWith(bare));
  EXPECT_THAT(Parse("SELECT * FROM tab WHERE a = 1 /* note"), FailsWith(bare));
  EXPECT_THAT(Parse("SELECT * FROM \"tab"), FailsWith(bare));
  EXPECT_THAT(Parse("SELECT * FROM tab WHERE a = 'x"), FailsWith(bare));
}

TEST_F(PartiqlParserTest, SelectWithProjectionIndexAndOrderBy) {
  Statement st = Parsed(
      "select a, b.c[2], \"d e\" FROM \"tab\".\"idx\" WHERE a = 1 "
      "ORDER BY a DESC, b;");
  EXPECT_EQ(st.kind, StatementKind::kSelect);
  EXPECT_EQ(st.table, "tab");
  EXPECT_EQ(st.index, "idx");
  EXPECT_FALSE(st.select_all);
  ASSERT_EQ(st.projection.size(), 3u);
  EXPECT_EQ(store::PathToString(st.projection[1]), "b.c[2]");
  EXPECT_EQ(st.projection[2][0].name, "d e");
  ASSERT_EQ(st.order_by.size(), 2u);
  EXPECT_EQ(st.order_by[0].attribute, "a");
  EXPECT_TRUE(st.order_by[0].descending);
  EXPECT_FALSE(st.order_by[1].descending);
}

TEST_F(PartiqlParserTest, ConditionPrecedence) {
  // NOT binds tighter than AND, AND tighter than OR.
  Statement st = Parsed(
      "SELECT * FROM tab WHERE NOT a = 1 AND b BETWEEN 1 AND 2 OR c IN [1, ?]");
  ASSERT_TRUE(st.where);
  const Expr& w = *st.where;
  ASSERT_EQ(w.kind, Expr::Kind::kOr);
  EXPECT_EQ(w.args[0].kind, Expr::Kind::kAnd);
  EXPECT_EQ(w.args[0].args[0].kind, Expr::Kind::kNot);
  EXPECT_EQ(w.args[0].args[1].kind, Expr::Kind::kBetween);
  ASSERT_EQ(w.args[1].kind, Expr::Kind::kIn);
  EXPECT_EQ(w.args[1].args.size(), 3u);
  EXPECT_EQ(w.args[1].args[2].kind, Expr::Kind::kParameter);
  EXPECT_EQ(st.parameter_count, 1u);
}

TEST_F(PartiqlParserTest, IsTestsAndFunctions) {
  Statement st = Parsed(
      "SELECT * FROM tab WHERE a IS NOT MISSING AND b is null AND "
      "ATTRIBUTE_TYPE(c, 'S') AND begins_with(\"d\", 'x') AND size(e) > 3 "
      "AND f NOT IN (1, 2)");
  std::vector<const Expr*> conjuncts;
  const Expr* e = &*st.where;
  while (e->kind == Expr::Kind::kAnd) {
    conjuncts.insert(conjuncts.begin(), &e->args[1]);
    e = &e->args[0];
  }
  conjuncts.insert(conjuncts.begin(), e);
  ASSERT_EQ(conjuncts.size(), 6u);
  EXPECT_EQ(conjuncts[0]->kind, Expr::Kind::kIs);
  EXPECT_EQ(conjuncts[0]->name, "MISSING");
  EXPECT_TRUE(conjuncts[0]->negated);
  EXPECT_EQ(conjuncts[1]->name, "NULL");
  EXPECT_EQ(conjuncts[2]->kind, Expr::Kind::kCall);
  EXPECT_EQ(conjuncts[2]->name, "attribute_type");
  EXPECT_EQ(conjuncts[3]->name, "begins_with");
  EXPECT_EQ(conjuncts[4]->args[0].name, "size");
  EXPECT_EQ(conjuncts[5]->kind, Expr::Kind::kNot);
  EXPECT_EQ(conjuncts[5]->args[0].kind, Expr::Kind::kIn);
}

TEST_F(PartiqlParserTest, LiteralsAreDynamoValues) {
  EXPECT_EQ(Literal("'it''s'"), S("it's"));
  EXPECT_EQ(Literal("1.50"), N("1.5"));
  EXPECT_EQ(Literal("- - 2"), N("2"));
  EXPECT_EQ(Literal("-/* c */1e2"), N("-100"));
  EXPECT_EQ(Literal("TRUE"), AttributeValue::Bool(true));
  EXPECT_EQ(Literal("null"), AttributeValue::Null());
  EXPECT_EQ(Literal("[1, 'a', [true]]"),
            AttributeValue::List(
                {N("1"), S("a"),
                 AttributeValue::List({AttributeValue::Bool(true)})}));
  EXPECT_EQ(
      Literal("{'k': {'n': -1}}"),
      AttributeValue::Map({{"k", AttributeValue::Map({{"n", N("-1")}})}}));
  EXPECT_EQ(Literal("<<'b', 'a'>>"), *AttributeValue::StringSet({"a", "b"}));
  EXPECT_EQ(Literal("<<1, 4.5>>"), *AttributeValue::NumberSet({"1", "4.5"}));
}

TEST_F(PartiqlParserTest, LiteralErrorsNameTheirPlace) {
  EXPECT_THAT(Parse("SELECT * FROM tab WHERE a = 1e126"),
              FailsWith("Number overflow. Attempting to store a number with "
                        "magnitude larger than supported range under root"));
  EXPECT_THAT(Parse("INSERT INTO tab VALUE {'pk': 1, 'l': [1, 1e-131]}"),
              FailsWith("Number underflow. Attempting to store a number with "
                        "magnitude smaller than supported range under "
                        "root[1]"));
  EXPECT_THAT(Parse("INSERT INTO tab VALUE {'pk': 1, 'm': {'x': {'y': ?}}}"),
              FailsWith("Unsupported data type: Parameter under key root.x.y "
                        "at 1:50:1"));
  EXPECT_THAT(Parse("UPDATE tab SET s = <<'b','b'>> WHERE pk = 1"),
              FailsWith("One or more parameter values were invalid: Input "
                        "collection [b, b] contains duplicates."));
  EXPECT_THAT(Parse("UPDATE tab SET s = <<>> WHERE pk = 1"),
              FailsWith("Empty bags are not supported"));
  EXPECT_THAT(Parse("UPDATE tab SET s = <<1, 'a'>> WHERE pk = 1"),
              FailsWith("Unsupported data type in Bag. DynamoDB only supports "
                        "either numbers or strings in bags"));
  EXPECT_THAT(Parse("SELECT * FROM tab WHERE a = MISSING"),
              FailsWith("MISSING must be compared using IS operator"));
}

// A literal may nest 32 levels; the 33rd is refused at its path.
TEST_F(PartiqlParserTest, LiteralNestingLimit) {
  std::string ok, too_deep, path = "root";
  for (int i = 0; i < 31; ++i) ok += "{'a':";
  ok += "1" + std::string(31, '}');
  for (int i = 0; i < 32; ++i) {
    too_deep += "{'a':";
    path += ".a";
  }
  too_deep += "1" + std::string(32, '}');
  EXPECT_TRUE(Parse("UPDATE tab SET d = " + ok + " WHERE pk = 1").ok());
  EXPECT_THAT(
      Parse("UPDATE tab SET d = " + too_deep + " WHERE pk = 1"),
      FailsWith("Nesting Levels have exceeded supported limits under " + path));
}

TEST_F(PartiqlParserTest, InsertItem) {
  Statement st = Parsed(
      "INSERT INTO \"Music\" value {'Artist': ?, 'Song''s': 'x', 'n': <<1>>}");
  EXPECT_EQ(st.kind, StatementKind::kInsert);
  EXPECT_EQ(st.table, "Music");
  ASSERT_EQ(st.item.size(), 3u);
  EXPECT_EQ(st.item[0].first, "Artist");
  EXPECT_EQ(st.item[0].second.kind, Expr::Kind::kParameter);
  EXPECT_EQ(st.item[1].first, "Song's");
  EXPECT_EQ(st.item[1].second.value, S("x"));
  EXPECT_EQ(st.parameter_count, 1u);
}

TEST_F(PartiqlParserTest, InsertRefusals) {
  EXPECT_THAT(Parse("INSERT INTO tab VALUES ({'a': 1})"),
              FailsWith("Unsupported operation: Inserting multiple items in a "
                        "single statement is not supported, use \"INSERT INTO "
                        "tableName VALUE item\" instead"));
  EXPECT_THAT(Parse("INSERT INTO tab VALUE [1]"),
              FailsWith("Unsupported format in item expression. Please use "
                        "struct format {...} to express item values for insert "
                        "statement."));
  EXPECT_THAT(Parse("INSERT INTO tab VALUE {'a': 1, 'a': 2}"),
              FailsWith("Duplicate keys in tuple. Key: a under root"));
  EXPECT_THAT(Parse("INSERT INTO tab VALUE {'a': 1} RETURNING ALL OLD *"),
              FailsWith("RETURNING is not supported in INSERT"));
  EXPECT_THAT(Parse("INSERT INTO \"tab\" t VALUE {'a': 1}"),
              FailsWith(Malformed("Unexpected token after expression")));
}

TEST_F(PartiqlParserTest, UpdateActionsAndReturning) {
  Statement st = Parsed(
      "UPDATE tab SET a = 1, b.c[0] = b.c[0] + ? SET d = list_append(d, [1]) "
      "REMOVE e, f[2] WHERE pk = 'x' RETURNING MODIFIED NEW *");
  EXPECT_EQ(st.kind, StatementKind::kUpdate);
  ASSERT_EQ(st.actions.size(), 5u);
  EXPECT_FALSE(st.actions[0].remove);
  EXPECT_EQ(st.actions[1].value.kind, Expr::Kind::kArithmetic);
  EXPECT_EQ(st.actions[2].value.name, "list_append");
  EXPECT_TRUE(st.actions[3].remove);
  EXPECT_EQ(store::PathToString(st.actions[4].target), "f[2]");
  EXPECT_EQ(st.returning, Returning::kModifiedNew);
  EXPECT_EQ(st.parameter_count, 1u);
}

TEST_F(PartiqlParserTest, ReturningRefusals) {
  EXPECT_THAT(Parse("DELETE FROM tab WHERE pk = 1 RETURNING MODIFIED OLD *"),
              FailsWith("Invalid returning clause: RETURNING MODIFIED OLD *. "
                        "Only RETURNING ALL OLD * is allowed in DELETE "
                        "statements."));
  EXPECT_THAT(Parse("UPDATE tab SET a = 1 WHERE pk = 1 RETURNING ALL NEW a"),
              FailsWith("Expected '*' after ( MODIFIED | ALL ) ( NEW | OLD ) "
                        "in RETURNING clause"));
  EXPECT_EQ(
      Parsed("DELETE FROM tab WHERE pk = 1 RETURNING ALL OLD *").returning,
      Returning::kAllOld);
}

TEST_F(PartiqlParserTest, ExistsWrapsASelect) {
  Statement st = Parsed(
      "EXISTS(SELECT * FROM Music where Artist='a' and Awards is  MISSING)");
  EXPECT_EQ(st.kind, StatementKind::kExists);
  EXPECT_EQ(st.table, "Music");
  ASSERT_TRUE(st.where);
}

// The syntax errors DynamoDB answers, detail by detail.
TEST_F(PartiqlParserTest, SyntaxErrorDetails) {
  EXPECT_THAT(Parse("SLECT * FROM tab"),
              FailsWith(Malformed("Expected data manipulation")));
  EXPECT_THAT(Parse("SELECT * FROM tab WHERE"),
              FailsWith(Malformed("Unexpected term")));
  EXPECT_THAT(Parse("SELECT * FROM tab WHERE;"),
              FailsWith(Malformed("Unexpected term")));
  EXPECT_THAT(Parse("SELECT * FROM tab WHERE NOT"),
              FailsWith(Malformed("Unexpected term")));
  EXPECT_THAT(Parse("SELECT * FROM"), FailsWith(Malformed("Unexpected term")));
  EXPECT_THAT(Parse("SELECT * FROM tab WHERE ORDER BY pk"),
              FailsWith(Malformed("Unexpected keyword")));
  EXPECT_THAT(Parse("SELECT * FROM tab WHERE IS NULL"),
              FailsWith(Malformed("Unexpected operator")));
  EXPECT_THAT(Parse("SELECT * FROM tab WHERE pk = 'a' AND"),
              FailsWith(Malformed(
                  "Missing right-hand side expression of infix operator")));
  EXPECT_THAT(Parse("SELECT * FROM tab WHERE pk = 1 foo"),
              FailsWith(Malformed("Unexpected token after expression")));
  EXPECT_THAT(Parse("SELECT * FROM tab WHERE pk = 1)"),
              FailsWith(Malformed("Unexpected token after expression")));
  EXPECT_THAT(Parse("DELETE FROM tab WHERE pk = 1 ORDER BY pk"),
              FailsWith(Malformed("Unexpected token after expression")));
  EXPECT_THAT(Parse("DELETE FROM WHERE pk = 'a'"),
              FailsWith(Malformed("Expected identifier for simple path")));
  EXPECT_THAT(Parse("SELECT * FROM tab WHERE pk = 'a' AND x IS FOO"),
              FailsWith(Malformed("Expected type name")));
}

TEST_F(PartiqlParserTest, DynamoRefusalsOfValidPartiql) {
  EXPECT_THAT(Parse("SELECT * FROM \"tab\" t WHERE pk = 'x'"),
              FailsWith("Aliasing is not supported"));
  EXPECT_THAT(Parse("UPDATE \"tab\" AS t SET a = 3 WHERE pk = 'x'"),
              FailsWith("Aliasing is not supported"));
  EXPECT_THAT(Parse("SELECT * FROM \"tab\".\"i\".\"x\""),
              FailsWith("A path may contain at most 2 components in the FROM "
                        "clause"));
  EXPECT_THAT(Parse("SELECT * FROM \"tab\".\"\""),
              FailsWith("Path component cannot be an empty string"));
  EXPECT_THAT(Parse("SELECT *, a FROM tab"),
              FailsWith("Other attributes should not be present in the "
                        "projection when '*' is used."));
  EXPECT_THAT(Parse("SELECT * FROM ab"),
              FailsWith("Table name should be within the length [3, 255] and "
                        "only contain 'a-z', 'A-Z', '0-9', '-', '_', '.'."));
  EXPECT_THAT(Parse("SELECT l[-1] FROM tab"),
              FailsWith("List index is not within the allowable range; index: "
                        "[-1] at 1:11:1"));
  EXPECT_THAT(Parse("SELECT l[2147483648] FROM tab"),
              FailsWith("List index is not within the allowable range; index: "
                        "[2147483648] at 1:10:10"));
  EXPECT_THAT(Parse("SELECT * FROM tab WHERE a LIKE 'x%'"),
              FailsWith("Unsupported operator in Condition Expression. "
                        "Operator: like"));
  EXPECT_THAT(Parse("SELECT * FROM tab WHERE a IS INT"),
              FailsWith("Unsupported data type for IS operator: INT. "
                        "Supported data types are [MISSING, NULL, BOOLEAN, "
                        "BLOB, STRING, NUMERIC, STRUCT, TUPLE, LIST]"));
  EXPECT_THAT(Parse("SELECT * FROM tab WHERE lower(a) = 'x'"),
              FailsWith("Unrecognized function: lower"));
  EXPECT_THAT(Parse("UPDATE tab SET a = b IS NULL WHERE pk = 1"),
              FailsWith("IS operator is not supported in update expressions"));
  EXPECT_THAT(Parse("SELECT DISTINCT a FROM tab"),
              FailsWith("Unsupported token in expression: DISTINCT"));
}

}  // namespace
}  // namespace eddy::runtime::partiql
