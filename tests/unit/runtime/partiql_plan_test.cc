// From parsed PartiQL to the store: parameter binding, key matching, read
// plans, projections, and the store conditions and updates a WHERE and a
// SET/REMOVE become (evaluated here against items).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "partiql/parser.h"
#include "partiql/plan.h"

namespace eddy::runtime::partiql {
namespace {

using store::AttributeValue;
using store::Item;
using store::ValueType;
using ::testing::ElementsAre;

MATCHER_P(FailsWith, message, "fails with \"" + std::string(message) + "\"") {
  if (arg.ok()) {
    *result_listener << "succeeded";
    return false;
  }
  *result_listener << arg.status().ToString();
  return arg.status().IsInvalidArgument() && arg.status().message() == message;
}

AttributeValue N(const char* text) {
  return AttributeValue::Num(*store::Number::Parse(text));
}
AttributeValue S(const char* text) { return AttributeValue::String(text); }

class PartiqlPlanTest : public ::testing::Test {
 protected:
  // A table keyed by pk (S) and sk (N).
  KeySchema keys_{{"pk", ValueType::kS},
                  store::KeyElement{"sk", ValueType::kN}};

  Statement Parsed(const std::string& text,
                   const std::vector<AttributeValue>& parameters = {}) {
    Result<Statement> st = Parse(text);
    EXPECT_TRUE(st.ok()) << text << ": " << st.status().ToString();
    if (!st.ok()) return Statement();
    Status bound = BindParameters(parameters, &*st);
    EXPECT_TRUE(bound.ok()) << bound.ToString();
    return std::move(*st);
  }
  Result<KeyMatch> Match(const std::string& where, KeyMode mode) {
    Statement st = Parsed("DELETE FROM tab WHERE " + where);
    return MatchKey(st.where, keys_, mode);
  }
  Result<ReadPlan> Plan(const std::string& text) {
    return PlanRead(Parsed(text), keys_);
  }
  // Whether `item` satisfies the WHERE of `SELECT * FROM tab WHERE <where>`.
  bool Holds(const std::string& where, const Item& item) {
    Statement st = Parsed("SELECT * FROM tab WHERE " + where);
    ExpressionBuilder builder;
    Result<std::unique_ptr<store::Condition>> c = builder.Condition(*st.where);
    EXPECT_TRUE(c.ok()) << where << ": " << c.status().ToString();
    return c.ok() && (*c)->Evaluate(item);
  }
  // `item` after `UPDATE tab <actions> WHERE pk = 'a'`.
  Result<Item> Updated(const std::string& actions, Item item) {
    Statement st = Parsed("UPDATE tab " + actions + " WHERE pk = 'a'");
    ExpressionBuilder builder;
    EDDY_ASSIGN_OR_RETURN(std::unique_ptr<store::Update> update,
                          builder.Update(st.actions));
    EDDY_RETURN_IF_ERROR(update->Apply(&item));
    return item;
  }
};

TEST_F(PartiqlPlanTest, ParametersMustMatchTheirCount) {
  Result<Statement> st = Parse("SELECT * FROM tab WHERE pk = ? AND sk = ?");
  ASSERT_TRUE(st.ok());
  const std::string message =
      "Number of parameters in request and statement don't match.";
  EXPECT_EQ(BindParameters({S("a")}, &*st).message(), message);
  EXPECT_EQ(BindParameters({S("a"), N("1"), N("2")}, &*st).message(), message);
  ASSERT_TRUE(BindParameters({S("a"), N("1")}, &*st).ok());
  EXPECT_EQ(st->where->args[1].args[1].value, N("1"));
}

TEST_F(PartiqlPlanTest, WriteKeyAndTheRestOfTheCondition) {
  Result<KeyMatch> m =
      Match("(pk = 'a' AND x > 1) AND 1 = sk AND pk = 'a'", KeyMode::kWrite);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->key, (Item{{"pk", S("a")}, {"sk", N("1")}}));
  ASSERT_TRUE(m->rest);
  EXPECT_EQ(m->rest->kind, Expr::Kind::kCompare);
  EXPECT_FALSE(Match("pk = 'a' AND sk = 1", KeyMode::kWrite)->rest);
}

TEST_F(PartiqlPlanTest, WriteKeyErrors) {
  EXPECT_THAT(Match("pk = 'a'", KeyMode::kWrite),
              FailsWith("Where clause does not contain a mandatory equality "
                        "on all key attributes"));
  // A key equality under OR does not name the item.
  EXPECT_THAT(Match("pk = 'a' AND (sk = 1 OR sk = 2)", KeyMode::kWrite),
              FailsWith("Where clause does not contain a mandatory equality "
                        "on all key attributes"));
  EXPECT_THAT(Match("pk = 'a' AND sk = 1 AND pk = 'b'", KeyMode::kWrite),
              FailsWith("Multiple conditions on same key pk. Only single item "
                        "Update/Insert/Delete are supported"));
  EXPECT_THAT(Match("pk = 'a' AND sk = '1'", KeyMode::kWrite),
              FailsWith("Key attribute's data type should match its data type "
                        "in table's schema: Key sk"));
  EXPECT_THAT(Match("pk = 'a' AND sk = [1]", KeyMode::kWrite),
              FailsWith("Key value must be of type S, N, or B. Key name: sk, "
                        "Key type: L"));
}

TEST_F(PartiqlPlanTest, ExistsNeedsAnotherCondition) {
  const std::string message =
      "EXISTS() must contain a single item read with additional condition";
  EXPECT_THAT(Match("pk = 'a' AND sk = 1", KeyMode::kExists),
              FailsWith(message));
  // A second value for a key is checked against the item, not refused.
  Result<KeyMatch> m =
      Match("pk = 'a' AND sk = 1 AND pk = 'b'", KeyMode::kExists);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->key.at("pk"), S("a"));
  EXPECT_TRUE(m->rest);
}

TEST_F(PartiqlPlanTest, GetAcceptsOneValueInsAndNothingElse) {
  Result<KeyMatch> m = Match("pk IN ['a'] AND sk IN [1]", KeyMode::kGet);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->key, (Item{{"pk", S("a")}, {"sk", N("1")}}));
  EXPECT_FALSE(Match("pk = 'a' AND sk = 1 AND x = 1", KeyMode::kGet).ok());
  EXPECT_FALSE(Match("pk = 'a'", KeyMode::kGet).ok());
  EXPECT_FALSE(Match("pk IN ['a', 'b'] AND sk = 1", KeyMode::kGet).ok());
}

TEST_F(PartiqlPlanTest, ReadsWithoutAPinnedPartitionScan) {
  for (const char* where :
       {"", " WHERE x = 1", " WHERE pk > 'a'", " WHERE pk = 'a' OR x = 1",
        " WHERE NOT pk = 'a'"}) {
    Result<ReadPlan> plan = Plan(std::string("SELECT * FROM tab") + where);
    ASSERT_TRUE(plan.ok()) << where;
    EXPECT_TRUE(plan->scan) << where;
  }
}

TEST_F(PartiqlPlanTest, PinnedPartitionsAreQueried) {
  Result<ReadPlan> plan = Plan("SELECT * FROM tab WHERE pk = 'a' AND x = 1");
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan->scan);
  EXPECT_THAT(plan->partitions, ElementsAre(S("a")));

  plan = Plan("SELECT * FROM tab WHERE pk IN ['b', 'a']");
  EXPECT_THAT(plan->partitions, ElementsAre(S("b"), S("a")));

  plan = Plan("SELECT * FROM tab WHERE pk = 'c' OR (pk = 'd' AND x = 2)");
  EXPECT_THAT(plan->partitions, ElementsAre(S("c"), S("d")));

  // Two pins intersect.
  plan = Plan("SELECT * FROM tab WHERE pk IN ['a', 'b'] AND pk = 'b'");
  EXPECT_THAT(plan->partitions, ElementsAre(S("b")));
  plan = Plan("SELECT * FROM tab WHERE pk = 'a' AND pk = 'b'");
  EXPECT_FALSE(plan->scan);
  EXPECT_TRUE(plan->partitions.empty());
}

TEST_F(PartiqlPlanTest, SortKeyConditionNarrowsTheQuery) {
  using Op = store::KeyCondition::Op;
  Result<ReadPlan> plan = Plan("SELECT * FROM tab WHERE pk = 'a' AND 5 > sk");
  ASSERT_TRUE(plan.ok());
  ASSERT_TRUE(plan->sort);
  EXPECT_EQ(plan->sort->op, Op::kLt);  // 5 > sk is sk < 5.
  EXPECT_EQ(plan->sort->value, N("5"));
  plan = Plan("SELECT * FROM tab WHERE pk = 'a' AND sk BETWEEN 1 AND 3");
  EXPECT_EQ(plan->sort->op, Op::kBetween);
  EXPECT_EQ(plan->sort->value2, N("3"));
  plan = Plan("SELECT * FROM tab WHERE pk = 'a' AND sk <> 1");
  EXPECT_FALSE(plan->sort);
}

TEST_F(PartiqlPlanTest, ReadPlanErrors) {
  const std::string overlapping =
      "Overlapping conditions with range keys are not supported in where "
      "clause";
  EXPECT_THAT(Plan("SELECT * FROM tab WHERE pk IN ['a', 'a']"),
              FailsWith(overlapping));
  EXPECT_THAT(Plan("SELECT * FROM tab WHERE pk = 'a' OR pk = 'a'"),
              FailsWith(overlapping));
  EXPECT_THAT(Plan("SELECT * FROM tab WHERE pk = 1 OR pk = 'a'"),
              FailsWith("Key attribute's data type should match its data type "
                        "in table's schema: Key pk"));
  EXPECT_THAT(Plan("SELECT * FROM tab WHERE pk = 'a' AND sk IN [1, '2']"),
              FailsWith("Key attribute's data type should match its data type "
                        "in table's schema: Key sk"));
  EXPECT_THAT(Plan("SELECT * FROM tab ORDER BY pk"),
              FailsWith("Must have WHERE clause in the statement when using "
                        "ORDER BY clause."));
  EXPECT_THAT(Plan("SELECT * FROM tab WHERE x = 1 ORDER BY pk"),
              FailsWith("Must have at least one non-optional hash key "
                        "condition in WHERE clause when using ORDER BY "
                        "clause."));
  EXPECT_THAT(Plan("SELECT * FROM tab WHERE pk = 'a' ORDER BY x"),
              FailsWith("Variable reference x in ORDER BY clause must be part "
                        "of the primary key"));
  EXPECT_THAT(Plan("SELECT * FROM tab WHERE pk IN ['a', 'b'] ORDER BY sk"),
              FailsWith("Must have hash key in ORDER BY clause when more than "
                        "one hash key condition specified in WHERE clause."));
}

TEST_F(PartiqlPlanTest, OrderByOrdersPartitionsAndItems) {
  Result<ReadPlan> plan = Plan(
      "SELECT * FROM tab WHERE pk IN ['a', 'c', 'b'] ORDER BY pk DESC, sk "
      "DESC");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_THAT(plan->partitions, ElementsAre(S("c"), S("b"), S("a")));
  EXPECT_FALSE(plan->forward);
}

TEST_F(PartiqlPlanTest, ProjectionNamesRowsByTheLastName) {
  Statement st = Parsed("SELECT pk, m.inner, l[1], m.list[0], nope FROM tab");
  const Item item = {
      {"pk", S("a")},
      {"m", AttributeValue::Map(
                {{"inner", N("1")}, {"list", AttributeValue::List({S("x")})}})},
      {"l", AttributeValue::List({S("l0"), S("l1")})}};
  EXPECT_EQ(Project(st, item), (Item{{"pk", S("a")},
                                     {"inner", N("1")},
                                     {"l[1]", S("l1")},
                                     {"list[0]", S("x")}}));
  EXPECT_EQ(CheckProjection(Parsed("SELECT a.x, b.x FROM tab")).message(),
            "Duplicate identifiers in select clause: x");
}

TEST_F(PartiqlPlanTest, ConditionsEvaluateAsDynamoDBDoes) {
  const Item item = {{"pk", S("a")},
                     {"n", N("5")},
                     {"s", S("hello")},
                     {"z", AttributeValue::Null()},
                     {"l", AttributeValue::List({S("x"), N("1")})},
                     {"ss", *AttributeValue::StringSet({"p", "q"})}};
  EXPECT_TRUE(Holds("n = 5 AND s <> 'x'", item));
  EXPECT_TRUE(Holds("n BETWEEN 1 AND 5 AND n IN [4, 5]", item));
  EXPECT_TRUE(Holds("nope IS MISSING AND n IS NOT MISSING", item));
  EXPECT_TRUE(Holds("z IS NULL AND NOT n IS NULL", item));
  EXPECT_TRUE(Holds("s IS STRING AND n IS NUMERIC AND l IS LIST", item));
  EXPECT_TRUE(Holds("begins_with(s, 'he') AND contains(ss, 'q')", item));
  EXPECT_TRUE(Holds("size(s) = 5 AND size(l) < 3", item));
  EXPECT_TRUE(
      Holds("attribute_type(l[1], 'N') AND attribute_exists(l[0])", item));
  EXPECT_TRUE(Holds("(n = 1 OR n = 5) AND NOT (s = 'a' OR s = 'b')", item));
  EXPECT_FALSE(Holds("n > 5 OR s < 'a'", item));
  EXPECT_FALSE(Holds("n = '5'", item));  // Types differ: false.
  // A literal's IS test is a constant.
  EXPECT_TRUE(
      Holds("'x' IS STRING AND 1 IS NOT MISSING AND null IS NULL", item));
  EXPECT_FALSE(Holds("'x' IS NUMERIC OR [1] IS MISSING", item));
}

TEST_F(PartiqlPlanTest, ConditionErrorsAreDynamoDBs) {
  ExpressionBuilder builder;
  Statement st =
      Parsed("SELECT * FROM tab WHERE n < ?", {AttributeValue::Bool(true)});
  EXPECT_THAT(builder.Condition(*st.where),
              FailsWith("Incorrect operand type for operator or function; "
                        "operator or function: <, operand type: BOOL"));
  st = Parsed("SELECT * FROM tab WHERE n + 1 = 2");
  EXPECT_THAT(builder.Condition(*st.where),
              FailsWith("Unsupported operator in Condition Expression. "
                        "Operator: +"));
}

TEST_F(PartiqlPlanTest, GuardedConditions) {
  Statement st = Parsed("SELECT * FROM tab WHERE x = 1 OR y = 2");
  ExpressionBuilder builder;
  Result<std::unique_ptr<store::Condition>> exists =
      builder.Guarded("pk", /*exists=*/true, st.where);
  ASSERT_TRUE(exists.ok()) << exists.status().ToString();
  EXPECT_FALSE((*exists)->Evaluate(Item{}));
  EXPECT_TRUE((*exists)->Evaluate(Item{{"pk", S("a")}, {"y", N("2")}}));
  Result<std::unique_ptr<store::Condition>> absent =
      builder.Guarded("pk", /*exists=*/false, st.where);
  ASSERT_TRUE(absent.ok());
  EXPECT_TRUE((*absent)->Evaluate(Item{}));
  EXPECT_FALSE((*absent)->Evaluate(Item{{"pk", S("a")}, {"y", N("3")}}));
}

TEST_F(PartiqlPlanTest, UpdatesApplyAsUpdateExpressions) {
  const Item item = {{"pk", S("a")},
                     {"n", N("5")},
                     {"l", AttributeValue::List({N("1")})},
                     {"ss", *AttributeValue::StringSet({"p", "q"})},
                     {"gone", S("x")}};
  Result<Item> after = Updated(
      "SET n = n - 2, l = list_append(l, [2]) SET ss = set_add(ss, <<'r'>>) "
      "REMOVE gone SET m = {'k': <<1, 2>>}",
      item);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(
      *after,
      (Item{{"pk", S("a")},
            {"n", N("3")},
            {"l", AttributeValue::List({N("1"), N("2")})},
            {"ss", *AttributeValue::StringSet({"p", "q", "r"})},
            {"m", AttributeValue::Map(
                      {{"k", *AttributeValue::NumberSet({"1", "2"})}})}}));
  after = Updated("SET ss = set_delete(ss, <<'p'>>)", item);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->at("ss"), *AttributeValue::StringSet({"q"}));
}

TEST_F(PartiqlPlanTest, UpdateErrors) {
  EXPECT_THAT(Updated("SET ss = set_add(other, <<'x'>>)", {}),
              FailsWith("The first argument to SET_ADD must equal the "
                        "assignment value"));
  EXPECT_THAT(Updated("SET ss = set_delete(ss, 'x')", {}),
              FailsWith("The second argument to SET_DELETE must be a value "
                        "with type SET at 1:32:2"));
  EXPECT_THAT(Updated("SET ss = set_add(ss)", {}),
              FailsWith("SET_ADD must have exactly two arguments"));
  EXPECT_THAT(Updated("SET n = 'a' + 1", {}),
              FailsWith("Incorrect operand type for operator or function; "
                        "operator or function: +, operand type: S"));
}

TEST_F(PartiqlPlanTest, AccessFacts) {
  Statement insert =
      Parsed("INSERT INTO tab VALUE {'pk': ?, 'v': 1}", {S("k1")});
  EXPECT_THAT(*LeadingKeyValues(insert, "pk"), ElementsAre(S("k1")));
  EXPECT_THAT(*AttributeNames(insert), ElementsAre("pk", "v"));
  Statement update =
      Parsed("UPDATE tab SET a = b WHERE sk = 1 AND pk = 'k2' AND c = 1");
  EXPECT_THAT(*LeadingKeyValues(update, "pk"), ElementsAre(S("k2")));
  EXPECT_THAT(*AttributeNames(update), ElementsAre("a", "b", "c", "pk", "sk"));
  Statement scan = Parsed("SELECT a FROM tab WHERE x = 1");
  EXPECT_FALSE(LeadingKeyValues(scan, "pk"));
  EXPECT_FALSE(AttributeNames(Parsed("SELECT * FROM tab WHERE pk = 'a'")));
  Statement query = Parsed("SELECT a FROM tab WHERE pk IN ['a', 'b']");
  EXPECT_THAT(*LeadingKeyValues(query, "pk"), ElementsAre(S("a"), S("b")));
}

}  // namespace
}  // namespace eddy::runtime::partiql
