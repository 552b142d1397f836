// IAM-style policy evaluation: default deny, explicit deny wins, wildcards
// in actions (case-insensitive) and resources, NotAction/NotResource,
// condition operators with set qualifiers, policy variables, and the
// load-time refusal of anything not understood.
#include "auth/policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace eddy::runtime::auth {
namespace {

constexpr char kTable[] = "arn:aws:dynamodb:us-east-1:000000000000:table/Games";
constexpr char kOther[] = "arn:aws:dynamodb:us-east-1:000000000000:table/Other";

class PolicyTest : public ::testing::Test {
 protected:
  static Policy Load(std::string_view json) {
    Result<Policy> p = Policy::ParseText(json);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? std::move(*p) : Policy();
  }
  static std::string LoadError(std::string_view json) {
    Result<Policy> p = Policy::ParseText(json);
    return p.ok() ? "" : p.status().message();
  }
  Decision Eval(const Policy& p, std::string_view action,
                std::string_view resource,
                const RequestFacts* facts = nullptr) {
    return p.Evaluate(action, resource, alice_, facts);
  }
  bool Allowed(const Policy& p, std::string_view action,
               std::string_view resource, const RequestFacts* facts = nullptr) {
    return Eval(p, action, resource, facts) == Decision::kAllow;
  }
  static RequestFacts Keys(std::vector<std::string> keys) {
    RequestFacts f;
    f.leading_keys = ValueSet::Known(std::move(keys));
    return f;
  }
  static RequestFacts Attributes(std::vector<std::string> names) {
    RequestFacts f;
    f.attributes = ValueSet::Known(std::move(names));
    return f;
  }

  Principal alice_{"alice", "alice", "arn:aws:iam::000000000000:user/alice"};
};

TEST_F(PolicyTest, DefaultDeny) {
  const Policy p = Load(R"({"Version":"2012-10-17","Statement":[]})");
  EXPECT_EQ(Eval(p, "dynamodb:GetItem", kTable), Decision::kImplicitDeny);
  EXPECT_EQ(Eval(Policy(), "dynamodb:GetItem", kTable),
            Decision::kImplicitDeny);
}

TEST_F(PolicyTest, ExplicitDenyWinsOverAllow) {
  const Policy p = Load(R"({"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":"dynamodb:*","Resource":"*"},
      {"Effect":"Deny","Action":"dynamodb:DeleteTable","Resource":"*"}]})");
  EXPECT_TRUE(Allowed(p, "dynamodb:PutItem", kTable));
  EXPECT_EQ(Eval(p, "dynamodb:DeleteTable", kTable), Decision::kExplicitDeny);
  EXPECT_FALSE(p.allows_everything());
}

TEST_F(PolicyTest, ActionWildcardsAreCaseInsensitive) {
  const Policy p = Load(R"({"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":["dynamodb:Get*","DynamoDB:query"],
       "Resource":"*"}]})");
  EXPECT_TRUE(Allowed(p, "dynamodb:GetItem", kTable));
  EXPECT_TRUE(Allowed(p, "dynamodb:GetRecords", kTable));
  EXPECT_TRUE(Allowed(p, "dynamodb:Query", kTable));
  EXPECT_FALSE(Allowed(p, "dynamodb:PutItem", kTable));
  EXPECT_FALSE(Allowed(p, "eddy:GetTriggerStatus", kTable));
}

TEST_F(PolicyTest, ResourceWildcardsAreCaseSensitive) {
  const Policy p = Load(R"({"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":"dynamodb:Query",
       "Resource":["arn:aws:dynamodb:*:*:table/Games/index/*",
                   "arn:aws:dynamodb:us-east-1:*:table/G?mes"]}]})");
  EXPECT_TRUE(
      Allowed(p, "dynamodb:Query", std::string(kTable) + "/index/ByScore"));
  EXPECT_TRUE(Allowed(p, "dynamodb:Query", kTable));
  EXPECT_FALSE(Allowed(p, "dynamodb:Query",
                       "arn:aws:dynamodb:us-east-1:000000000000:table/games"));
  EXPECT_FALSE(Allowed(p, "dynamodb:Query", kOther));
}

TEST_F(PolicyTest, NotActionAndNotResource) {
  const Policy p = Load(R"({"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","NotAction":["dynamodb:Delete*","eddy:*"],
       "NotResource":"arn:aws:dynamodb:*:*:table/Other"}]})");
  EXPECT_TRUE(Allowed(p, "dynamodb:PutItem", kTable));
  EXPECT_FALSE(Allowed(p, "dynamodb:DeleteItem", kTable));
  EXPECT_FALSE(Allowed(p, "eddy:CreateTrigger", kTable));
  EXPECT_FALSE(Allowed(p, "dynamodb:PutItem", kOther));
}

TEST_F(PolicyTest, AllowAllIsRecognised) {
  EXPECT_TRUE(Policy::AllowAll().allows_everything());
  EXPECT_TRUE(Load(R"({"Version":"2012-10-17","Statement":
      {"Effect":"Allow","Action":"*","Resource":"*"}})")
                  .allows_everything());
  EXPECT_FALSE(Load(R"({"Version":"2012-10-17","Statement":
      {"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}})")
                   .allows_everything());
}

// The fine-grained access control example of DynamoDB's docs: a user may
// touch only items whose partition key is their user name.
TEST_F(PolicyTest, LeadingKeysWithUsernameVariable) {
  const Policy p = Load(R"({"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:PutItem",
        "dynamodb:Query","dynamodb:Scan","dynamodb:BatchWriteItem"],
       "Resource":"arn:aws:dynamodb:*:*:table/Games",
       "Condition":{"ForAllValues:StringEquals":
         {"dynamodb:LeadingKeys":["${aws:username}"]}}}]})");
  EXPECT_TRUE(p.needs_item_facts());
  const RequestFacts own = Keys({"alice"});
  const RequestFacts other = Keys({"bob"});
  const RequestFacts mixed = Keys({"alice", "bob"});
  RequestFacts scan;
  scan.leading_keys = ValueSet::Unbounded();
  EXPECT_TRUE(Allowed(p, "dynamodb:GetItem", kTable, &own));
  EXPECT_FALSE(Allowed(p, "dynamodb:GetItem", kTable, &other));
  EXPECT_FALSE(Allowed(p, "dynamodb:BatchWriteItem", kTable, &mixed));
  // Scan touches every partition: never allowed by a LeadingKeys condition.
  EXPECT_FALSE(Allowed(p, "dynamodb:Scan", kTable, &scan));
  // Facts not computed: a conditional Allow does not apply (fail closed).
  EXPECT_FALSE(Allowed(p, "dynamodb:GetItem", kTable, nullptr));
}

TEST_F(PolicyTest, VariablesOnlyWithVersion2012) {
  const Policy old = Load(R"({"Version":"2008-10-17","Statement":[
      {"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*",
       "Condition":{"ForAllValues:StringEquals":
         {"dynamodb:LeadingKeys":["${aws:username}"]}}}]})");
  const RequestFacts own = Keys({"alice"});
  const RequestFacts literal = Keys({"${aws:username}"});
  EXPECT_FALSE(Allowed(old, "dynamodb:GetItem", kTable, &own));
  EXPECT_TRUE(Allowed(old, "dynamodb:GetItem", kTable, &literal));
  const Policy in_resource = Load(R"({"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":"dynamodb:*",
       "Resource":"arn:aws:dynamodb:*:*:table/${aws:username}-*"}]})");
  EXPECT_TRUE(Allowed(in_resource, "dynamodb:PutItem",
                      "arn:aws:dynamodb:us-east-1:0:table/alice-notes"));
  EXPECT_FALSE(Allowed(in_resource, "dynamodb:PutItem",
                       "arn:aws:dynamodb:us-east-1:0:table/bob-notes"));
}

TEST_F(PolicyTest, AttributesForAllValuesAndLike) {
  const Policy p = Load(R"({"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*",
       "Condition":{
         "ForAllValues:StringLike":{"dynamodb:Attributes":["id","public_*"]},
         "StringEqualsIfExists":{"dynamodb:Select":"SPECIFIC_ATTRIBUTES"}}}]})");
  const RequestFacts ok = Attributes({"id", "public_name"});
  const RequestFacts secret = Attributes({"id", "salary"});
  RequestFacts everything;
  everything.attributes = ValueSet::Unbounded();
  EXPECT_TRUE(Allowed(p, "dynamodb:GetItem", kTable, &ok));
  EXPECT_FALSE(Allowed(p, "dynamodb:GetItem", kTable, &secret));
  EXPECT_FALSE(Allowed(p, "dynamodb:GetItem", kTable, &everything));
  RequestFacts all_select = ok;
  all_select.select = "ALL_ATTRIBUTES";
  EXPECT_FALSE(Allowed(p, "dynamodb:GetItem", kTable, &all_select));
}

TEST_F(PolicyTest, ForAnyValueAndNegatedOperators) {
  const Policy deny_admin_rows = Load(R"({"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":"dynamodb:*","Resource":"*"},
      {"Effect":"Deny","Action":"dynamodb:*","Resource":"*",
       "Condition":{"ForAnyValue:StringEquals":
         {"dynamodb:LeadingKeys":["admin"]}}}]})");
  const RequestFacts plain = Keys({"alice", "bob"});
  const RequestFacts touches_admin = Keys({"alice", "admin"});
  RequestFacts scan;
  scan.leading_keys = ValueSet::Unbounded();
  EXPECT_TRUE(
      Allowed(deny_admin_rows, "dynamodb:BatchGetItem", kTable, &plain));
  EXPECT_EQ(
      Eval(deny_admin_rows, "dynamodb:BatchGetItem", kTable, &touches_admin),
      Decision::kExplicitDeny);
  EXPECT_EQ(Eval(deny_admin_rows, "dynamodb:Scan", kTable, &scan),
            Decision::kExplicitDeny);
  // Facts not computed: a conditional Deny applies (fail closed).
  EXPECT_EQ(Eval(deny_admin_rows, "dynamodb:GetItem", kTable, nullptr),
            Decision::kExplicitDeny);

  const Policy not_equals = Load(R"({"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":"dynamodb:PutItem","Resource":"*",
       "Condition":{"StringNotEquals":{"dynamodb:ReturnValues":"ALL_OLD"}}}]})");
  RequestFacts none;
  none.return_values = "NONE";
  RequestFacts all_old;
  all_old.return_values = "ALL_OLD";
  const RequestFacts absent;
  EXPECT_TRUE(Allowed(not_equals, "dynamodb:PutItem", kTable, &none));
  EXPECT_FALSE(Allowed(not_equals, "dynamodb:PutItem", kTable, &all_old));
  EXPECT_TRUE(Allowed(not_equals, "dynamodb:PutItem", kTable, &absent));
}

TEST_F(PolicyTest, EnclosingOperationAndNull) {
  const Policy p = Load(R"({"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":"dynamodb:PutItem","Resource":"*",
       "Condition":{"Null":{"dynamodb:EnclosingOperation":"true"}}}]})");
  const RequestFacts direct;
  RequestFacts in_transaction;
  in_transaction.enclosing_operation = "TransactWriteItems";
  EXPECT_TRUE(Allowed(p, "dynamodb:PutItem", kTable, &direct));
  EXPECT_FALSE(Allowed(p, "dynamodb:PutItem", kTable, &in_transaction));
}

// DynamoDB's example: PartiQL SELECTs allowed, full table scans denied.
TEST_F(PolicyTest, BoolOnFullTableScan) {
  const Policy p = Load(R"({"Version":"2012-10-17","Statement":[
      {"Effect":"Deny","Action":"dynamodb:PartiQLSelect","Resource":"*",
       "Condition":{"Bool":{"dynamodb:FullTableScan":["true"]}}},
      {"Effect":"Allow","Action":"dynamodb:PartiQLSelect","Resource":"*"}]})");
  EXPECT_TRUE(p.needs_item_facts());
  RequestFacts query, scan;
  query.full_table_scan = "false";
  scan.full_table_scan = "true";
  EXPECT_TRUE(Allowed(p, "dynamodb:PartiQLSelect", kTable, &query));
  EXPECT_EQ(Eval(p, "dynamodb:PartiQLSelect", kTable, &scan),
            Decision::kExplicitDeny);
  // Without facts the Deny is assumed to apply (fail closed).
  EXPECT_EQ(Eval(p, "dynamodb:PartiQLSelect", kTable, nullptr),
            Decision::kExplicitDeny);
  EXPECT_THAT(LoadError(R"({"Statement":[{"Effect":"Allow","Action":"*",
      "Resource":"*","Condition":{"Bool":{"dynamodb:FullTableScan":"yes"}}}]})"),
              ::testing::HasSubstr("Bool takes \"true\" or \"false\""));
  EXPECT_THAT(LoadError(R"({"Statement":[{"Effect":"Allow","Action":"*",
      "Resource":"*","Condition":{"ForAllValues:Bool":
      {"dynamodb:FullTableScan":"true"}}}]})"),
              ::testing::HasSubstr("unsupported condition operator"));
}

TEST_F(PolicyTest, PrincipalKeysNeedNoFacts) {
  const Policy p = Load(R"({"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":"*","Resource":"*",
       "Condition":{"StringLike":{"aws:PrincipalArn":"*:user/ali*"}}}]})");
  EXPECT_FALSE(p.needs_item_facts());
  EXPECT_TRUE(Allowed(p, "eddy:CreateTrigger", "*"));
  const Principal bob{"bob", "bob", "arn:aws:iam::000000000000:user/bob"};
  EXPECT_EQ(p.Evaluate("eddy:CreateTrigger", "*", bob, nullptr),
            Decision::kImplicitDeny);
}

TEST_F(PolicyTest, RefusesWhatItDoesNotUnderstand) {
  using ::testing::HasSubstr;
  EXPECT_THAT(LoadError("{"), HasSubstr("not valid JSON"));
  EXPECT_THAT(LoadError(R"({"Version":"2012-10-17","Statement":[],"X":1})"),
              HasSubstr("unknown policy member \"X\""));
  EXPECT_THAT(LoadError(R"({"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":"*","Resource":"*","Principal":"*"}]})"),
              HasSubstr("Statement[0]: unknown member \"Principal\""));
  EXPECT_THAT(LoadError(R"({"Statement":[{"Effect":"Maybe","Action":"*",
      "Resource":"*"}]})"),
              HasSubstr("Effect must be"));
  EXPECT_THAT(LoadError(R"({"Statement":[{"Effect":"Allow","Action":"GetItem",
      "Resource":"*"}]})"),
              HasSubstr("is not an action"));
  EXPECT_THAT(LoadError(R"({"Statement":[{"Effect":"Allow","Action":"*"}]})"),
              HasSubstr("needs a Resource"));
  EXPECT_THAT(LoadError(R"({"Statement":[{"Effect":"Allow","Action":"*",
      "Resource":"*","Condition":{"NumericEquals":{"aws:username":"1"}}}]})"),
              HasSubstr("unsupported condition operator"));
  EXPECT_THAT(LoadError(R"({"Statement":[{"Effect":"Allow","Action":"*",
      "Resource":"*","Condition":{"StringEquals":{"aws:SourceIp":"1"}}}]})"),
              HasSubstr("unsupported condition key"));
  EXPECT_THAT(LoadError(R"({"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":"*","Resource":"table/${aws:SourceIp}"}]})"),
              HasSubstr("unsupported policy variable"));
}

TEST(WildcardTest, Globs) {
  EXPECT_TRUE(WildcardMatch("*", "", false));
  EXPECT_TRUE(WildcardMatch("a*b*c", "aXXbYYc", false));
  EXPECT_FALSE(WildcardMatch("a*b*c", "aXXbYY", false));
  EXPECT_TRUE(WildcardMatch("a?c", "abc", false));
  EXPECT_FALSE(WildcardMatch("a?c", "ac", false));
  EXPECT_TRUE(WildcardMatch("GET*", "getitem", true));
  EXPECT_FALSE(WildcardMatch("GET*", "getitem", false));
}

}  // namespace
}  // namespace eddy::runtime::auth
