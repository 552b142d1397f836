// The SDK's test helpers (testing.h) and JSON reader (json.h): events in
// Lambda's and GetRecords' shapes become the batch a worker would hand the
// handler, and a handler run in process reports what a worker would report.
// This test program is itself a handler (EDDY_HANDLER_WITH_INIT below), so
// harness runs the real entry point.
#include "eddy/functions/testing.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <string>

namespace eddy::handler {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace t = ::eddy::handler::test;

// What this program's handler does; each test sets it.
std::function<invocation_response(const invocation_request&)> g_body;
int g_inits = 0;

invocation_response Handle(const invocation_request& request) {
  return g_body(request);
}
void Init() {
  ++g_inits;
  log_info("init ran");
  if (std::getenv("EDDY_TESTING_TEST_FAIL_INIT") != nullptr) {
    throw std::runtime_error("configured to fail");
  }
}

// A record Lambda delivers (its documentation's sample, with a binary and a
// set added).
constexpr char kLambdaEvent[] = R"({
  "Records": [
    {"eventID": "c4ca4238a0b923820dcc509a6f75849b", "eventName": "INSERT",
     "eventVersion": "1.1", "eventSource": "aws:dynamodb",
     "awsRegion": "eu-west-1",
     "dynamodb": {"Keys": {"Id": {"N": "101"}},
                  "NewImage": {"Message": {"S": "New item!"}, "Id": {"N": "101"},
                               "Blob": {"B": "AP8="}, "Tags": {"SS": ["a", "b"]}},
                  "ApproximateCreationDateTime": 1428537600,
                  "SequenceNumber": "4421584500000000017450439091",
                  "SizeBytes": 26, "StreamViewType": "NEW_AND_OLD_IMAGES"},
     "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/ExampleTableWithStream/stream/2015-06-27T00:48:05.899"},
    {"eventID": "c81e728d9d4c2f636f067f89cc14862c", "eventName": "MODIFY",
     "eventVersion": "1.1", "eventSource": "aws:dynamodb",
     "awsRegion": "eu-west-1",
     "dynamodb": {"Keys": {"Id": {"N": "101"}},
                  "NewImage": {"Message": {"S": "This item has changed"}, "Id": {"N": "101"}},
                  "OldImage": {"Message": {"S": "New item!"}, "Id": {"N": "101"}},
                  "ApproximateCreationDateTime": 1428537600,
                  "SequenceNumber": "4421584500000000017450439092",
                  "SizeBytes": 59, "StreamViewType": "NEW_AND_OLD_IMAGES"},
     "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/ExampleTableWithStream/stream/2015-06-27T00:48:05.899"}
  ]
})";

// GetRecords' answer as the AWS CLI prints it: no eventSourceARN, the time
// in ISO-8601, a TTL delete's identity spelled Type/PrincipalId.
constexpr char kGetRecordsAnswer[] = R"({
  "Records": [
    {"eventID": "e1", "eventName": "REMOVE", "eventVersion": "1.1",
     "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
     "dynamodb": {"ApproximateCreationDateTime": "2024-01-01T10:00:01.500000+01:00",
                  "Keys": {"pk": {"S": "session#1"}},
                  "OldImage": {"pk": {"S": "session#1"}, "ttl": {"N": "1700000000"}},
                  "SequenceNumber": "100000000000000000007", "SizeBytes": 40,
                  "StreamViewType": "OLD_IMAGE"},
     "userIdentity": {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}}
  ],
  "NextShardIterator": "arn:aws:dynamodb:...|1|AAAA"
})";

class TestingTest : public ::testing::Test {
 protected:
  void TearDown() override { g_body = nullptr; }

  // Runs `body` as the handler on `e` and returns what it reported.
  t::result Run(const t::event& e,
                std::function<invocation_response(const invocation_request&)>
                    body) {
    g_body = std::move(body);
    return t::invoke(&Handle, e);
  }

  static t::value Key(const std::string& id) {
    return t::value::map({{"id", t::value::string(id)}});
  }
};

// Lambda's event arrives with every field where the SDK's views read it:
// keys, images of every type, times, sequence numbers, the stream and table.
TEST_F(TestingTest, LambdaEventReachesTheHandlerFieldByField) {
  const t::event e = t::parse_event(kLambdaEvent);
  std::vector<std::string> seen;
  const t::result r = Run(e, [&](const invocation_request& request) {
    EXPECT_EQ(request.event_source_arn(),
              "arn:aws:dynamodb:eu-west-1:123456789012:table/"
              "ExampleTableWithStream/stream/2015-06-27T00:48:05.899");
    for (const record rec : request.records()) {
      seen.push_back(std::string(rec.event_name()) + " " +
                     std::string(rec.table_name()) + " " +
                     std::string(rec.sequence_number()) + " " +
                     std::to_string(rec.keys()["Id"].as_int64()) + " " +
                     std::string((*rec.new_image())["Message"].as_string()));
      EXPECT_EQ(rec.approximate_creation_time_ms(), 1428537600000);
      EXPECT_EQ(rec.stream_view_type(), "NEW_AND_OLD_IMAGES");
    }
    const attribute_value first = *request.records()[0].new_image();
    EXPECT_EQ(first["Blob"].as_binary(), std::string_view("\0\xff", 2));
    EXPECT_EQ(first["Tags"].as_string_set().size(), 2u);
    EXPECT_FALSE(request.records()[0].old_image().has_value());
    EXPECT_EQ((*request.records()[1].old_image())["Message"].as_string(),
              "New item!");
    EXPECT_EQ(request.records()[1].size_bytes(), 59u);
    return invocation_response::success();
  });
  EXPECT_TRUE(r.is_success()) << r.describe();
  EXPECT_THAT(seen,
              ElementsAre("INSERT ExampleTableWithStream "
                          "4421584500000000017450439091 101 New item!",
                          "MODIFY ExampleTableWithStream "
                          "4421584500000000017450439092 101 "
                          "This item has changed"));
}

// GetRecords' answer (as the AWS CLI prints it) is an event too: the time in
// ISO-8601 with an offset, a TTL delete, the default stream.
TEST_F(TestingTest, GetRecordsAnswerIsAnEvent) {
  const t::event e = t::parse_event(kGetRecordsAnswer);
  const t::result r = Run(e, [](const invocation_request& request) {
    const record rec = request.records()[0];
    EXPECT_EQ(rec.event(), event_type::remove);
    EXPECT_TRUE(rec.is_ttl_delete());
    EXPECT_EQ(rec.approximate_creation_time_ms(), 1704099601500);
    EXPECT_EQ(rec.table_name(), "Table");
    EXPECT_EQ(rec.stream_view_type(), "OLD_IMAGE");
    EXPECT_FALSE(rec.new_image().has_value());
    EXPECT_EQ((*rec.old_image())["ttl"].as_int64(), 1700000000);
    return invocation_response::success();
  });
  EXPECT_TRUE(r.is_success()) << r.describe();
}

// A failure, an exception, batch item failures and a window state each come
// back as the worker would report them, with the handler's log lines.
TEST_F(TestingTest, OutcomesAreReportedAsTheWorkerReportsThem) {
  t::event e{{t::insert(Key("a"), Key("a")), t::insert(Key("b"), Key("b"))}};
  t::result r = Run(e, [](const invocation_request&) {
    log_warn("giving up");
    return invocation_response::failure("bad order", "OrderError");
  });
  EXPECT_TRUE(r.is_failure());
  EXPECT_EQ(r.describe(), "failure OrderError: bad order");
  EXPECT_TRUE(r.logged("giving up"));
  ASSERT_EQ(r.logs.size(), 1u);
  EXPECT_EQ(r.logs[0].level, log_level::warn);

  r = Run(e, [](const invocation_request&) -> invocation_response {
    throw std::runtime_error("boom");
  });
  EXPECT_EQ(r.describe(), "failure Unhandled: boom");

  r = Run(e, [](const invocation_request& request) {
    return invocation_response::batch_item_failures(
        {std::string(request.records()[1].sequence_number())});
  });
  EXPECT_TRUE(r.has_batch_item_failures());
  EXPECT_THAT(r.batch_item_failures, ElementsAre("100000000000000000002"));

  e.window = t::window{1704067200000, 1704067260000, "{\"n\":1}", true, false};
  r = Run(e, [](const invocation_request& request) {
    EXPECT_TRUE(request.window()->is_final_invoke());
    EXPECT_EQ(request.window()->state(), "{\"n\":1}");
    return invocation_response::success().with_state("{\"n\":3}");
  });
  EXPECT_TRUE(r.is_success());
  EXPECT_EQ(r.window_state, "{\"n\":3}");
}

// Lambda's tumbling-window event carries the window, the state the last
// call returned and the final-invoke flag.
TEST_F(TestingTest, WindowEventCarriesItsState) {
  const t::event e = t::parse_event(R"({"Records":[],
      "window":{"start":"2020-07-30T17:00:00Z","end":"2020-07-30T17:05:00Z"},
      "state":{"1":282,"2":715}, "shardId":"shard123456789",
      "eventSourceARN":"arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2020",
      "isFinalInvokeForWindow":true, "isWindowTerminatedEarly":false})");
  ASSERT_TRUE(e.window.has_value());
  EXPECT_EQ(e.window->start_ms, 1596128400000);
  EXPECT_EQ(e.window->end_ms, 1596128700000);
  EXPECT_EQ(e.window->state, "{\"1\":282,\"2\":715}");
  EXPECT_TRUE(e.window->is_final);
  EXPECT_EQ(e.shard_id, "shard123456789");
  EXPECT_EQ(e.table_name, "Orders");
}

// The event generate-event prints reads back as the same records.
TEST_F(TestingTest, EventJsonRoundTrips) {
  t::event e{{t::modify(Key("x"),
                        t::value::map({{"n", t::value::number(1)},
                                       {"b", t::value::binary("\x01\x02")},
                                       {"l", t::value::list({t::value::null(),
                                                             t::value::boolean(true)})}}),
                        t::value::map({{"n", t::value::number(2)},
                                       {"ns", t::value::number_set({"1", "2"})}}))}};
  e.table_name = "Orders";
  const t::event back = t::parse_event(e.to_json());
  ASSERT_EQ(back.records.size(), 1u);
  EXPECT_EQ(back.table_name, "Orders");
  EXPECT_EQ(back.records[0].event, event_type::modify);
  EXPECT_EQ(back.records[0].old_image->to_json(), e.records[0].old_image->to_json());
  EXPECT_EQ(back.records[0].new_image->to_json(), e.records[0].new_image->to_json());
  EXPECT_EQ(back.records[0].sequence_number, "100000000000000000001");
}

// Malformed events say where they are wrong.
TEST_F(TestingTest, MalformedEventsSayWhere) {
  auto error = [](const char* text) -> std::string {
    try {
      t::parse_event(text);
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_THAT(error(R"({"Records":[{"eventName":"INSERT","dynamodb":{}}]})"),
              HasSubstr("Records[0].dynamodb.Keys is missing"));
  EXPECT_THAT(error(R"({"Records":[{"eventName":"UPSERT","dynamodb":{"Keys":{}}}]})"),
              HasSubstr("must be INSERT, MODIFY or REMOVE"));
  EXPECT_THAT(
      error(R"({"Records":[{"eventName":"INSERT","dynamodb":{"Keys":{"id":{"X":"1"}}}}]})"),
      HasSubstr("Records[0].dynamodb.Keys.id: unknown attribute type X"));
  EXPECT_THAT(error(R"({"Records":[)"), HasSubstr("unexpected end of JSON"));
  EXPECT_THAT(error(R"({"Items":[]})"), HasSubstr("an event is"));
}

// harness runs the library's real entry point: init once (its log lines
// kept), then batches through the same host.
TEST_F(TestingTest, HarnessRunsTheEntryPointWithInit) {
  const int before = g_inits;
  {
    t::harness h;
    EXPECT_EQ(g_inits, before + 1);
    ASSERT_EQ(h.init_logs().size(), 1u);
    EXPECT_EQ(h.init_logs()[0].message, "init ran");
    g_body = [](const invocation_request& request) {
      log_info("records: " + std::to_string(request.records().size()));
      return invocation_response::success();
    };
    const t::result r = h.invoke(t::event{{t::remove(Key("a"), Key("a"))}});
    EXPECT_TRUE(r.is_success());
    EXPECT_TRUE(r.logged("records: 1"));
  }
  ::setenv("EDDY_TESTING_TEST_FAIL_INIT", "1", 1);
  try {
    t::harness h;
    ADD_FAILURE() << "init should have failed";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("configured to fail"));
  }
  ::unsetenv("EDDY_TESTING_TEST_FAIL_INIT");
}

// The JSON reader keeps numbers' text, decodes escapes and refuses bad text.
TEST(JsonTest, ReadsWhatDynamoDbWrites) {
  const json::value v = json::parse(
      R"({"n":12345678901234567890123456789012345678,"s":"\u00e9\ud83d\ude00\n","a":[true,null,-1.5e3]})");
  EXPECT_EQ(v.find("n")->number_text(), "12345678901234567890123456789012345678");
  EXPECT_EQ(v.find("s")->as_string(), "\xc3\xa9\xf0\x9f\x98\x80\n");
  EXPECT_EQ(v.find("a")->items()[2].as_double(), -1500.0);
  EXPECT_EQ(json::parse(v.dump()).dump(), v.dump());
  EXPECT_THROW(json::parse("{\"a\":1,}"), json::parse_error);
  EXPECT_THROW(json::parse("[1] x"), json::parse_error);
  EXPECT_THROW(json::parse("\"\\ud800\""), json::parse_error);
  EXPECT_THROW(json::parse("01"), json::parse_error);
}

}  // namespace
}  // namespace eddy::handler

EDDY_HANDLER_WITH_INIT(eddy::handler::Init, eddy::handler::Handle)
