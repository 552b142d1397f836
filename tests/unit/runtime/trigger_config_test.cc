// Trigger options: Lambda's defaults and ranges, and the JSON form.
#include "dispatcher/trigger_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace eddy::runtime::dispatcher {
namespace {

class TriggerConfigTest : public ::testing::Test {
 protected:
  static TriggerConfig Valid() {
    TriggerConfig c;
    c.name = "t1";
    c.table = "orders";
    c.handler = "/lib/h.so";
    return c;
  }
  static Status Parse(const char* json, TriggerConfig* c, bool update = false) {
    rapidjson::Document doc;
    doc.Parse(json);
    return ReadTriggerConfig(doc, update, c);
  }
};

// Lambda's defaults for DynamoDB streams.
TEST_F(TriggerConfigTest, DefaultsAreLambdas) {
  TriggerConfig c;
  EXPECT_EQ(c.batch_size, 100);
  EXPECT_EQ(c.batching_window_ms, 0);
  EXPECT_EQ(c.max_retries, -1);
  EXPECT_EQ(c.max_record_age_s, -1);
  EXPECT_FALSE(c.bisect_on_error);
  EXPECT_EQ(c.parallelization, 1);
  EXPECT_TRUE(ValidateTriggerConfig(Valid()).ok());
}

// The edges of each range are accepted, one past them refused.
TEST_F(TriggerConfigTest, RangesMatchLambda) {
  struct Case {
    int64_t TriggerConfig::*field;
    int64_t ok_lo, ok_hi, bad_lo, bad_hi;
  };
  const Case cases[] = {
      {&TriggerConfig::batch_size, 1, 10000, 0, 10001},
      {&TriggerConfig::batching_window_ms, 0, 300000, -1, 300001},
      {&TriggerConfig::max_retries, -1, 10000, -2, 10001},
      {&TriggerConfig::max_record_age_s, 60, 604800, 59, 604801},
      {&TriggerConfig::timeout_s, 1, 900, 0, 901},
      {&TriggerConfig::parallelization, 1, 10, 0, 11},
      {&TriggerConfig::memory_mb, 128, 10240, 127, 10241},
  };
  for (const Case& k : cases) {
    for (int64_t v : {k.ok_lo, k.ok_hi}) {
      TriggerConfig c = Valid();
      c.*k.field = v;
      EXPECT_TRUE(ValidateTriggerConfig(c).ok()) << v;
    }
    for (int64_t v : {k.bad_lo, k.bad_hi}) {
      TriggerConfig c = Valid();
      c.*k.field = v;
      EXPECT_TRUE(ValidateTriggerConfig(c).IsInvalidArgument()) << v;
    }
  }
  TriggerConfig c = Valid();
  c.max_record_age_s = -1;
  EXPECT_TRUE(ValidateTriggerConfig(c).ok());
}

// Filter patterns are checked when the trigger is defined.
TEST_F(TriggerConfigTest, FiltersAreValidated) {
  TriggerConfig c = Valid();
  c.filters = {"{\"eventName\":[\"INSERT\"]}"};
  EXPECT_TRUE(ValidateTriggerConfig(c).ok());
  c.filters = {"{\"eventName\":\"INSERT\"}"};
  EXPECT_THAT(ValidateTriggerConfig(c).message(),
              ::testing::HasSubstr("Invalid filter pattern"));
  c.filters.assign(6, "{\"eventName\":[\"INSERT\"]}");
  EXPECT_TRUE(ValidateTriggerConfig(c).IsInvalidArgument());
}

// Options not built yet are refused, not ignored.
TEST_F(TriggerConfigTest, UnsupportedOptionsAreRefused) {
  TriggerConfig c = Valid();
  c.tumbling_window_s = 30;
  EXPECT_TRUE(ValidateTriggerConfig(c).ok());
  c.parallelization = 2;
  EXPECT_THAT(ValidateTriggerConfig(c).message(),
              ::testing::HasSubstr("not supported yet"));
}

TEST_F(TriggerConfigTest, OnFailureIsAFileOrATable) {
  TriggerConfig c = Valid();
  c.on_failure = "sqs:queue";
  EXPECT_TRUE(ValidateTriggerConfig(c).IsInvalidArgument());
  c.on_failure = "file:";
  EXPECT_TRUE(ValidateTriggerConfig(c).IsInvalidArgument());
  // Where a file may be is the server's rule (ConfineFailureFile).
  c.on_failure = "file:relative.jsonl";
  EXPECT_TRUE(ValidateTriggerConfig(c).ok());
  c.on_failure = "file:/tmp/dlq.jsonl";
  EXPECT_TRUE(ValidateTriggerConfig(c).ok());
  EXPECT_EQ(c.OnFailureFile(), "/tmp/dlq.jsonl");
  EXPECT_EQ(c.OnFailureTable(), "");
  c.on_failure = "table:failures";
  EXPECT_TRUE(ValidateTriggerConfig(c).ok());
  EXPECT_EQ(c.OnFailureTable(), "failures");
}

// JSON written by WriteTriggerConfigMembers reads back the same.
TEST_F(TriggerConfigTest, JsonRoundTrip) {
  TriggerConfig c = Valid();
  c.batch_size = 5;
  c.starting_position = StartingPosition::kLatest;
  c.bisect_on_error = true;
  c.report_batch_item_failures = true;
  c.max_retries = 3;
  c.enabled = false;
  rapidjson::StringBuffer buf;
  TriggerJsonWriter w(buf);
  w.StartObject();
  WriteTriggerConfigMembers(c, &w);
  w.EndObject();
  TriggerConfig back;
  ASSERT_TRUE(Parse(buf.GetString(), &back).ok());
  EXPECT_EQ(back.name, "t1");
  EXPECT_EQ(back.batch_size, 5);
  EXPECT_EQ(back.starting_position, StartingPosition::kLatest);
  EXPECT_TRUE(back.bisect_on_error);
  EXPECT_TRUE(back.report_batch_item_failures);
  EXPECT_EQ(back.max_retries, 3);
  EXPECT_FALSE(back.enabled);
}

// The environment persists with its values, and the admin API's form masks
// them (names and the inherited list stay visible).
TEST_F(TriggerConfigTest, EnvironmentRoundTripsAndMasks) {
  TriggerConfig c = Valid();
  c.environment = {{"TABLE", "Orders"}, {"API_TOKEN", "s3cr3t"}};
  c.inherit_environment = {"AWS_ACCESS_KEY_ID"};
  ASSERT_TRUE(ValidateTriggerConfig(c).ok());
  auto write = [&c](bool mask) {
    rapidjson::StringBuffer buf;
    TriggerJsonWriter w(buf);
    w.StartObject();
    WriteTriggerConfigMembers(c, &w, mask);
    w.EndObject();
    return std::string(buf.GetString());
  };
  TriggerConfig back;
  ASSERT_TRUE(Parse(write(false).c_str(), &back).ok());
  EXPECT_EQ(back.environment, c.environment);
  EXPECT_EQ(back.inherit_environment, c.inherit_environment);
  const std::string masked = write(true);
  EXPECT_THAT(masked, ::testing::HasSubstr(
                          R"("Environment":{"Variables":{"API_TOKEN":"****",)"
                          R"("TABLE":"****"},"Inherit":["AWS_ACCESS_KEY_ID"]})"));
  EXPECT_THAT(masked, ::testing::Not(::testing::HasSubstr("s3cr3t")));
  // An update's Environment replaces the whole set.
  ASSERT_TRUE(Parse(R"({"Environment":{"Variables":{"B":"2"}}})", &back, true)
                  .ok());
  EXPECT_EQ(back.environment.size(), 1u);
  EXPECT_TRUE(back.inherit_environment.empty());
}

// Lambda's limits on names and size; only AWS_* may be inherited.
TEST_F(TriggerConfigTest, EnvironmentRules) {
  TriggerConfig c = Valid();
  c.environment = {{"9LIVES", "x"}};
  EXPECT_TRUE(ValidateTriggerConfig(c).IsInvalidArgument());
  c.environment = {{"BIG", std::string(4094, 'x')}};
  EXPECT_TRUE(ValidateTriggerConfig(c).IsInvalidArgument());
  c.environment = {{"BIG", std::string(4093, 'x')}};
  EXPECT_TRUE(ValidateTriggerConfig(c).ok());
  c.inherit_environment = {"DATABASE_PASSWORD"};
  EXPECT_TRUE(ValidateTriggerConfig(c).IsInvalidArgument());
  EXPECT_TRUE(Parse(R"({"Environment":{"Variables":{"A":1}}})", &c)
                  .IsInvalidArgument());
}

// A worker gets the trigger's variables, PATH, HOME, the locale and the
// AWS_* variables it names, and nothing else of the server's.
TEST_F(TriggerConfigTest, WorkerEnvironmentIsClean) {
  TriggerConfig c = Valid();
  c.environment = {{"GREETING", "hi"}, {"HOME", "/srv/h"}};
  c.inherit_environment = {"AWS_REGION", "AWS_PROFILE"};
  std::string entries[] = {"PATH=/usr/bin",         "HOME=/root",
                           "LANG=C.UTF-8",          "LC_TIME=en_GB.UTF-8",
                           "AWS_REGION=eu-west-1",  "AWS_SECRET_ACCESS_KEY=x",
                           "DATABASE_PASSWORD=pw",  "NOEQUALS"};
  std::vector<char*> server_env;
  for (std::string& e : entries) server_env.push_back(e.data());
  server_env.push_back(nullptr);
  EXPECT_THAT(WorkerEnvironment(c, server_env.data()),
              ::testing::ElementsAre("AWS_REGION=eu-west-1", "GREETING=hi",
                                     "HOME=/srv/h", "LANG=C.UTF-8",
                                     "LC_TIME=en_GB.UTF-8", "PATH=/usr/bin"));
  char* empty[] = {nullptr};
  EXPECT_THAT(WorkerEnvironment(Valid(), empty),
              ::testing::ElementsAre("PATH=/usr/local/bin:/usr/bin:/bin"));
}

// An update may not move a trigger to another table or start position.
TEST_F(TriggerConfigTest, UpdateRefusesIdentityChanges) {
  TriggerConfig c = Valid();
  EXPECT_TRUE(Parse("{\"TableName\":\"x\"}", &c, true).IsInvalidArgument());
  EXPECT_TRUE(
      Parse("{\"StartingPosition\":\"LATEST\"}", &c, true).IsInvalidArgument());
  EXPECT_TRUE(Parse("{\"BatchSize\":7}", &c, true).ok());
  EXPECT_EQ(c.batch_size, 7);
}

TEST_F(TriggerConfigTest, WrongJsonTypesAreRefused) {
  TriggerConfig c = Valid();
  EXPECT_TRUE(Parse("{\"BatchSize\":\"7\"}", &c).IsInvalidArgument());
  EXPECT_TRUE(
      Parse("{\"FunctionResponseTypes\":[\"Nope\"]}", &c).IsInvalidArgument());
}

}  // namespace
}  // namespace eddy::runtime::dispatcher
