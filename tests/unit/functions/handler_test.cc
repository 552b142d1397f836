// The handler SDK (handler.h) end to end through the C ABI, in process: the
// test program is itself a handler (EDDY_HANDLER below), loaded with
// HandlerLibrary::FromEntry, so every value crosses host -> C structs -> C++
// views -> result -> host exactly as in a worker, without dlopen.
#include "eddy/functions/handler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "eddy/functions/handler_library.h"

namespace eddy::functions {
namespace {

namespace h = ::eddy::handler;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

MATCHER(IsOk, "is OK") {
  *result_listener << arg.status().ToString();
  return arg.ok();
}

// What the in-process handler does; each test sets it.
std::function<h::invocation_response(const h::invocation_request&)> g_body;

h::invocation_response Dispatch(const h::invocation_request& request) {
  return g_body(request);
}

constexpr char kArn[] =
    "arn:aws:dynamodb:us-east-1:000000000000:table/T/stream/"
    "2024-01-01T00:00:00.000";

// A map with one of every type, nested: the value round-trip fixture.
HostValue EveryType() {
  return HostValue::Map({
      {"s", HostValue::String("h\xc3\xa9llo \"q\"")},
      {"empty", HostValue::String("")},
      {"n", HostValue::Number("-12.5")},
      {"big", HostValue::Number("12345678901234567890123456789012345678")},
      {"b", HostValue::Binary(std::string("\0\x01\xff", 3))},
      {"t", HostValue::Bool(true)},
      {"f", HostValue::Bool(false)},
      {"null", HostValue::Null()},
      {"m", HostValue::Map({{"inner", HostValue::Number("7")}})},
      {"l", HostValue::List({HostValue::String("a"), HostValue::Number("1"),
                             HostValue::List({HostValue::Null()})})},
      {"ss", HostValue::StringSet({"x", "y"})},
      {"ns", HostValue::NumberSet({"1", "2.5"})},
      {"bs", HostValue::BinarySet({std::string("\0", 1), "ab"})},
  });
}

class HandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HandlerLibrary::Options options;
    options.log = [this](HandlerLogLevel level, std::string_view line) {
      logs_.emplace_back(level, std::string(line));
    };
    auto library =
        HandlerLibrary::FromEntry(&eddy_handler_init, "in-process", options);
    ASSERT_THAT(library, IsOk());
    library_ = std::move(*library);
  }
  void TearDown() override {
    library_.reset();
    g_body = nullptr;
  }

  // Sets what the handler does.
  void Handle(
      std::function<h::invocation_response(const h::invocation_request&)> f) {
    g_body = std::move(f);
  }
  // A record of `table` with key {"id": S id}.
  static HostRecord Record(std::string id, std::string seq,
                           HostEventName event = HostEventName::kInsert) {
    HostRecord r;
    r.event_name = event;
    r.event_id = "ev-" + seq;
    r.sequence_number = std::move(seq);
    r.approximate_creation_time_ms = 1700000000123;
    r.size_bytes = 99;
    r.event_source_arn = kArn;
    r.table_name = "T";
    r.stream_view_type = "NEW_AND_OLD_IMAGES";
    r.keys = HostValue::Map({{"id", HostValue::String(std::move(id))}});
    return r;
  }
  static HostBatch Batch(std::vector<HostRecord> records) {
    HostBatch b;
    b.invocation_id = "inv-1";
    b.trigger_name = "trig";
    b.event_source_arn = kArn;
    b.shard_id = "shardId-0001";
    b.attempt = 3;
    b.records = std::move(records);
    return b;
  }
  // Runs the handler; fails the test if the batch could not be handed over.
  HandlerResult Run(const HostBatch& batch) {
    auto result = library_->Invoke(batch);
    EXPECT_THAT(result, IsOk());
    return result.ok() ? std::move(*result) : HandlerResult{};
  }

  std::unique_ptr<HandlerLibrary> library_;
  std::vector<std::pair<HandlerLogLevel, std::string>> logs_;
};

// Every DynamoDB type arrives as a native value with the right accessor, and
// the DynamoDB JSON rendering sees the same tree: nothing is lost or
// reinterpreted across the ABI (bytes with NUL, UTF-8, 38-digit numbers).
TEST_F(HandlerTest, EveryValueTypeRoundTrips) {
  HostRecord r = Record("k", "1");
  r.new_image = EveryType();
  std::string json;
  Handle([&](const h::invocation_request& request) {
    const h::attribute_value image = *request.records()[0].new_image();
    EXPECT_EQ(image.size(), 13u);
    EXPECT_EQ(image["s"].as_string(), "h\xc3\xa9llo \"q\"");
    EXPECT_EQ(image["empty"].as_string(), "");
    EXPECT_EQ(image["n"].as_number_text(), "-12.5");
    EXPECT_DOUBLE_EQ(image["n"].as_double(), -12.5);
    EXPECT_EQ(image["big"].as_number_text(),
              "12345678901234567890123456789012345678");
    EXPECT_EQ(image["b"].as_binary(), std::string_view("\0\x01\xff", 3));
    EXPECT_TRUE(image["t"].as_bool());
    EXPECT_FALSE(image["f"].as_bool());
    EXPECT_TRUE(image["null"].is_null());
    EXPECT_EQ(image["m"]["inner"].as_int64(), 7);
    EXPECT_EQ(image["l"].size(), 3u);
    EXPECT_EQ(image["l"][0].as_string(), "a");
    EXPECT_EQ(image["l"][1].as_int64(), 1);
    EXPECT_TRUE(image["l"][2][0].is_null());
    std::vector<std::string> ss, ns, bs;
    for (std::string_view e : image["ss"].as_string_set()) ss.emplace_back(e);
    for (std::string_view e : image["ns"].as_number_set()) ns.emplace_back(e);
    for (std::string_view e : image["bs"].as_binary_set()) bs.emplace_back(e);
    EXPECT_THAT(ss, ElementsAre("x", "y"));
    EXPECT_THAT(ns, ElementsAre("1", "2.5"));
    EXPECT_THAT(bs, ElementsAre(std::string("\0", 1), "ab"));
    EXPECT_FALSE(image.find("absent").has_value());
    EXPECT_TRUE(image.contains("bs"));
    json = image.to_json();
    return h::invocation_response::success();
  });

  const HandlerResult result = Run(Batch({r}));

  EXPECT_EQ(result.outcome, HandlerResult::Outcome::kSuccess);
  EXPECT_EQ(json, R"({"M":{"s":{"S":"h)"
                  "\xc3\xa9"
                  R"(llo \"q\""},"empty":{"S":""},"n":{"N":"-12.5"},)"
                  R"("big":{"N":"12345678901234567890123456789012345678"},)"
                  R"("b":{"B":"AAH/"},"t":{"BOOL":true},"f":{"BOOL":false},)"
                  R"("null":{"NULL":true},"m":{"M":{"inner":{"N":"7"}}},)"
                  R"("l":{"L":[{"S":"a"},{"N":"1"},{"L":[{"NULL":true}]}]},)"
                  R"("ss":{"SS":["x","y"]},"ns":{"NS":["1","2.5"]},)"
                  R"("bs":{"BS":["AA==","YWI="]}}})");
}

// The record and batch metadata Lambda handlers rely on (sequence number,
// creation time, ARN, images present or absent by event) reach the handler.
TEST_F(HandlerTest, RecordAndBatchMetadataReachTheHandler) {
  HostRecord insert = Record("a", "100");
  insert.new_image = HostValue::Map({{"id", HostValue::String("a")}});
  HostRecord remove = Record("b", "200", HostEventName::kRemove);
  remove.old_image = HostValue::Map({{"id", HostValue::String("b")}});
  remove.ttl_delete = true;
  std::vector<std::string> seen;
  Handle([&](const h::invocation_request& request) {
    EXPECT_EQ(request.trigger_name(), "trig");
    EXPECT_EQ(request.shard_id(), "shardId-0001");
    EXPECT_EQ(request.event_source_arn(), kArn);
    EXPECT_EQ(request.request_id(), "inv-1");
    EXPECT_EQ(request.attempt(), 3u);
    EXPECT_EQ(request.get_time_remaining(), std::chrono::milliseconds::max());
    EXPECT_FALSE(request.window().has_value());
    for (const h::record r : request.records()) {
      EXPECT_EQ(r.approximate_creation_time_ms(), 1700000000123);
      EXPECT_EQ(r.size_bytes(), 99u);
      EXPECT_EQ(r.table_name(), "T");
      EXPECT_EQ(r.stream_view_type(), "NEW_AND_OLD_IMAGES");
      seen.push_back(std::string(r.event_name()) + " " +
                     std::string(r.event_id()) + " " +
                     std::string(r.sequence_number()) + " " +
                     std::string(r.keys()["id"].as_string()) +
                     " old=" + (r.old_image() ? "yes" : "no") +
                     " new=" + (r.new_image() ? "yes" : "no") +
                     " ttl=" + (r.is_ttl_delete() ? "yes" : "no"));
    }
    return h::invocation_response::success();
  });

  Run(Batch({insert, remove}));

  EXPECT_THAT(seen, ElementsAre("INSERT ev-100 100 a old=no new=yes ttl=no",
                                "REMOVE ev-200 200 b old=yes new=no ttl=yes"));
}

// Code ported from Lambda parses the event JSON; payload() gives it the
// shape Lambda sends (Keys/NewImage in DynamoDB JSON, awsRegion from the ARN).
TEST_F(HandlerTest, PayloadIsLambdaEventJson) {
  HostRecord r = Record("a", "100");
  r.new_image = HostValue::Map({{"n", HostValue::Number("5")}});
  std::string payload;
  Handle([&](const h::invocation_request& request) {
    payload = request.payload();
    return h::invocation_response::success();
  });

  Run(Batch({r}));

  EXPECT_EQ(payload, R"({"Records":[{"eventID":"ev-100","eventName":"INSERT",)"
                     R"("eventVersion":"1.1","eventSource":"aws:dynamodb",)"
                     R"("awsRegion":"us-east-1","dynamodb":{)"
                     R"("ApproximateCreationDateTime":1700000000,)"
                     R"("Keys":{"id":{"S":"a"}},"NewImage":{"n":{"N":"5"}},)"
                     R"("SequenceNumber":"100","SizeBytes":99,)"
                     R"("StreamViewType":"NEW_AND_OLD_IMAGES"},)"
                     R"("eventSourceARN":")" +
                         std::string(kArn) + R"("}]})");
}

// Numbers travel as text; the helpers convert exactly when they can and
// refuse (as a failure, not a wrong number) when they cannot.
TEST_F(HandlerTest, NumberHelpersConvertOrRefuse) {
  HostRecord r = Record("a", "1");
  r.new_image = HostValue::Map({{"e", HostValue::Number("1E+3")},
                                {"frac", HostValue::Number("1.5")},
                                {"huge", HostValue::Number("1E+30")}});
  Handle([&](const h::invocation_request& request) {
    const h::attribute_value image = *request.records()[0].new_image();
    EXPECT_EQ(image["e"].as_int64(), 1000);
    EXPECT_THROW(image["frac"].as_int64(), std::out_of_range);
    EXPECT_THROW(image["huge"].as_int64(), std::out_of_range);
    EXPECT_DOUBLE_EQ(image["huge"].as_double(), 1e30);
    return h::invocation_response::success();
  });

  EXPECT_EQ(Run(Batch({r})).outcome, HandlerResult::Outcome::kSuccess);
}

// A handler's exception never crosses the C frame: it becomes a failure
// result carrying what(), like Lambda's "Unhandled" function error.
TEST_F(HandlerTest, ExceptionBecomesFailure) {
  Handle([](const h::invocation_request&) -> h::invocation_response {
    throw std::runtime_error("boom");
  });

  const HandlerResult result = Run(Batch({Record("a", "1")}));

  EXPECT_EQ(result.outcome, HandlerResult::Outcome::kFailure);
  EXPECT_EQ(result.error_type, "Unhandled");
  EXPECT_EQ(result.error_message, "boom");
}

// Exceptions not derived from std::exception are caught too.
TEST_F(HandlerTest, NonStandardExceptionBecomesFailure) {
  Handle(
      [](const h::invocation_request&) -> h::invocation_response { throw 42; });

  const HandlerResult result = Run(Batch({Record("a", "1")}));

  EXPECT_EQ(result.outcome, HandlerResult::Outcome::kFailure);
  EXPECT_THAT(result.error_message, HasSubstr("unknown exception"));
}

// Reading a value as the wrong type is a handler bug: it throws
// bad_value_access, which fails the batch with a message naming both types.
TEST_F(HandlerTest, WrongTypeAccessBecomesFailure) {
  HostRecord r = Record("a", "1");
  r.new_image = HostValue::Map({{"n", HostValue::Number("1")}});
  Handle([](const h::invocation_request& request) {
    (void)(*request.records()[0].new_image())["n"].as_string();
    return h::invocation_response::success();
  });

  const HandlerResult result = Run(Batch({r}));

  EXPECT_EQ(result.outcome, HandlerResult::Outcome::kFailure);
  EXPECT_EQ(result.error_message, "attribute value is N, not S");
}

// invocation_response::failure reaches the host with its message and type.
TEST_F(HandlerTest, FailureCarriesMessageAndType) {
  Handle([](const h::invocation_request&) {
    return h::invocation_response::failure("bad batch", "MyError");
  });

  const HandlerResult result = Run(Batch({Record("a", "1")}));

  EXPECT_EQ(result.outcome, HandlerResult::Outcome::kFailure);
  EXPECT_EQ(result.error_type, "MyError");
  EXPECT_EQ(result.error_message, "bad batch");
}

// ReportBatchItemFailures: the failed sequence numbers arrive in the
// handler's order, unvalidated (the dispatcher applies Lambda's rules).
TEST_F(HandlerTest, BatchItemFailuresArriveInOrder) {
  Handle([](const h::invocation_request& request) {
    auto response = h::invocation_response::batch_item_failures({"300"});
    response.add_batch_item_failure(request.records()[0].sequence_number());
    response.add_batch_item_failure("");
    return response;
  });

  const HandlerResult result =
      Run(Batch({Record("a", "100"), Record("b", "200")}));

  EXPECT_EQ(result.outcome, HandlerResult::Outcome::kBatchItemFailures);
  EXPECT_THAT(result.failed_sequence_numbers, ElementsAre("300", "100", ""));
}

// An empty batchItemFailures list is success, as in Lambda.
TEST_F(HandlerTest, EmptyBatchItemFailuresIsSuccess) {
  Handle([](const h::invocation_request&) {
    return h::invocation_response::batch_item_failures({});
  });

  EXPECT_EQ(Run(Batch({Record("a", "1")})).outcome,
            HandlerResult::Outcome::kSuccess);
}

// Tumbling windows: the handler sees the window bounds, flags and previous
// state, and the state it returns comes back as bytes (NUL included).
TEST_F(HandlerTest, WindowStateRoundTrips) {
  HostBatch batch = Batch({Record("a", "1")});
  batch.window = HostWindow{60000, 120000, std::string("s\0t", 3), true, false};
  Handle([](const h::invocation_request& request) {
    const auto window = request.window();
    EXPECT_TRUE(window.has_value());
    if (!window) return h::invocation_response::failure("no window");
    EXPECT_EQ(window->start_ms(), 60000);
    EXPECT_EQ(window->end_ms(), 120000);
    EXPECT_TRUE(window->is_final_invoke());
    EXPECT_FALSE(window->is_terminated_early());
    return h::invocation_response::success().with_state(
        std::string(window->state()) + "+1");
  });

  const HandlerResult result = Run(batch);

  EXPECT_EQ(result.outcome, HandlerResult::Outcome::kSuccess);
  EXPECT_EQ(result.window_state, std::string("s\0t+1", 5));
}

// A window batch with no records still runs (Lambda's final invoke), and
// payload() carries the window fields with the state object.
TEST_F(HandlerTest, EmptyFinalWindowBatchRuns) {
  HostBatch batch = Batch({});
  batch.window =
      HostWindow{1596128400000, 1596128460000, R"({"n":2})", true, false};
  std::string payload;
  Handle([&](const h::invocation_request& request) {
    payload = request.payload();
    return h::invocation_response::success().with_state("");
  });

  const HandlerResult result = Run(batch);

  EXPECT_EQ(result.window_state, "");
  EXPECT_EQ(payload,
            R"({"Records":[],"window":{"start":"2020-07-30T17:00:00Z",)"
            R"("end":"2020-07-30T17:01:00Z"},"state":{"n":2},)"
            R"("shardId":"shardId-0001","eventSourceARN":")" +
                std::string(kArn) +
                R"(","isFinalInvokeForWindow":true,)"
                R"("isWindowTerminatedEarly":false})");
}

// A window state is embedded in payload() only when it is one well-formed
// JSON object; anything else (even braces around garbage) becomes {}, so
// the payload always parses. (Found by the worker_batch fuzz target.)
TEST_F(HandlerTest, PayloadEmbedsOnlyWellFormedStateObjects) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"( {"a":[1,-2.5e3,true,null,"x\u00e9\n"],"b":{}} )",
       R"( {"a":[1,-2.5e3,true,null,"x\u00e9\n"],"b":{}} )"},
      {R"({"total":"10*})", "{}"},
      {R"({"a":1}{"b":2})", "{}"},
      {R"({"a":01})", "{}"},
      {R"({"a":"\q"})", "{}"},
      {R"([1,2])", "{}"},
      {std::string(100, '{') + std::string(100, '}'), "{}"},
  };
  for (const auto& [state, embedded] : cases) {
    HostBatch batch = Batch({});
    batch.window = HostWindow{1596128400000, 1596128460000, state, true, false};
    std::string payload;
    Handle([&](const h::invocation_request& request) {
      payload = request.payload();
      return h::invocation_response::success().with_state("");
    });
    Run(batch);
    EXPECT_NE(payload.find(R"("state":)" + embedded + R"(,"shardId")"),
              std::string::npos)
        << state << " -> " << payload;
  }
}

// Handlers log through the host's function table, never by linking a
// logging library; the host routes lines with their level.
TEST_F(HandlerTest, LogsGoThroughTheHost) {
  Handle([](const h::invocation_request&) {
    h::log_info("hello");
    h::log_error("oops");
    return h::invocation_response::success();
  });

  Run(Batch({}));

  EXPECT_THAT(logs_, ElementsAre(Pair(HandlerLogLevel::kInfo, "hello"),
                                 Pair(HandlerLogLevel::kError, "oops")));
}

// The host refuses input the ABI cannot represent (keys must be a map;
// nesting is bounded) instead of handing the handler a malformed tree.
TEST_F(HandlerTest, MalformedBatchIsRefused) {
  HostRecord bad_keys = Record("a", "1");
  bad_keys.keys = HostValue::String("not a map");
  EXPECT_TRUE(library_->Invoke(Batch({bad_keys})).status().IsInvalidArgument());

  HostValue deep = HostValue::Null();
  for (int i = 0; i < 100; ++i) deep = HostValue::List({deep});
  HostRecord too_deep = Record("a", "1");
  too_deep.new_image = HostValue::Map({{"d", deep}});
  EXPECT_TRUE(library_->Invoke(Batch({too_deep})).status().IsInvalidArgument());
}

// The version handshake in EDDY_HANDLER: offered another host version, the
// entry refuses without touching the host table, and still reports its own
// version so the host can print both.
TEST(HandlerEntryTest, RefusesOtherHostVersionAndReportsItsOwn) {
  const eddy_handler_t* table = nullptr;
  const eddy_status_t status =
      eddy_handler_init(EDDY_HANDLER_ABI_VERSION + 1, /*host=*/nullptr, &table);

  EXPECT_EQ(status, EDDY_STATUS_VERSION_MISMATCH);
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->abi_version, EDDY_HANDLER_ABI_VERSION);
  EXPECT_EQ(table->struct_size, sizeof(eddy_handler_t));
}

}  // namespace
}  // namespace eddy::functions

EDDY_HANDLER(eddy::functions::Dispatch)
