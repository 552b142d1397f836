// The record path from the store to a handler, in process: a ChangeRecord
// becomes the dispatcher's wire record (worker.proto), which the worker
// turns into the functions host's HostBatch. Every DynamoDB type must arrive
// as the same native value, and results must travel back unchanged.
#include "dispatcher/record_convert.h"

#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "wire/stream_record.h"
#include "worker/batch_convert.h"

namespace eddy::runtime {
namespace {

using functions::HostValue;
using store::AttributeValue;

class RecordConvertTest : public ::testing::Test {
 protected:
  // A MODIFY with every attribute type in its new image.
  static store::ChangeRecord Sample() {
    store::ChangeRecord r;
    r.event = store::ChangeEvent::kModify;
    r.event_id = "abc";
    r.timestamp_ms = 1700000000123;
    r.size_bytes = 77;
    r.keys["p"] = AttributeValue::String("k1");
    store::Item image = r.keys;
    image["s"] = AttributeValue::String("text");
    image["n"] = AttributeValue::NumFromCanonical("-1.5");
    image["b"] = AttributeValue::Binary(std::string("\0\xff", 2));
    image["t"] = AttributeValue::Bool(true);
    image["z"] = AttributeValue::Null();
    image["l"] = AttributeValue::List(
        {AttributeValue::String("x"), AttributeValue::NumFromCanonical("2")});
    image["m"] = AttributeValue::Map({{"inner", AttributeValue::Bool(false)}});
    image["ss"] = *AttributeValue::StringSet({"a", "b"});
    image["ns"] = *AttributeValue::NumberSet({"1", "2"});
    image["bs"] = *AttributeValue::BinarySet({"x"});
    r.new_image = image;
    r.old_image = r.keys;
    return r;
  }

  // Store -> wire -> host, as the dispatcher and the worker do it.
  static functions::HostBatch ToHost(const store::ChangeRecord& record) {
    proto::InvokeBatch batch;
    batch.set_invocation_id(9);
    batch.set_trigger_name("t");
    batch.set_event_source_arn("arn:x");
    batch.set_table_name("tab");
    batch.set_stream_view_type("NEW_AND_OLD_IMAGES");
    batch.set_shard_id("shardId-1");
    batch.set_attempt(2);
    const std::string wire =
        dispatcher::EncodeStreamRecord(record, wire::SequenceString(42));
    // Over the wire.
    const std::string bytes = dispatcher::EncodeInvokeMessage(batch, {wire});
    proto::DispatcherMessage received;
    EXPECT_TRUE(received.ParseFromString(bytes));
    EXPECT_TRUE(received.has_invoke());
    Result<functions::HostBatch> host = worker::ToHostBatch(received.invoke());
    EXPECT_TRUE(host.ok()) << host.status().ToString();
    return host.ok() ? *host : functions::HostBatch();
  }

  static const HostValue& Field(const HostValue& map, const std::string& name) {
    for (const auto& a : map.map) {
      if (a.name == name) return a.value;
    }
    ADD_FAILURE() << "no attribute " << name;
    static const HostValue kNull;
    return kNull;
  }
};

// A message assembled from pre-encoded records is the message built by
// copying them into the batch, window and all.
TEST_F(RecordConvertTest, InvokeMessageFromEncodedRecords) {
  proto::InvokeBatch batch;
  batch.set_invocation_id(7);
  batch.set_trigger_name("t");
  batch.set_attempt(3);
  batch.mutable_window()->set_state(std::string(300, 's'));  // Field 14.
  std::vector<std::string> wires;
  proto::DispatcherMessage expected;
  *expected.mutable_invoke() = batch;
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    store::ChangeRecord record = Sample();
    record.event_id = std::string(seq * 100, 'e');  // Multi-byte lengths.
    wires.push_back(
        dispatcher::EncodeStreamRecord(record, wire::SequenceString(seq)));
    dispatcher::ToStreamRecordProto(record, wire::SequenceString(seq),
                                    expected.mutable_invoke()->add_records());
  }
  proto::DispatcherMessage parsed;
  ASSERT_TRUE(parsed.ParseFromString(
      dispatcher::EncodeInvokeMessage(batch, {wires[0], wires[1], wires[2]})));
  EXPECT_TRUE(
      google::protobuf::util::MessageDifferencer::Equals(parsed, expected))
      << parsed.DebugString();

  // No records: just the batch.
  ASSERT_TRUE(
      parsed.ParseFromString(dispatcher::EncodeInvokeMessage(batch, {})));
  ASSERT_TRUE(parsed.has_invoke());
  EXPECT_EQ(parsed.invoke().records_size(), 0);
  EXPECT_EQ(parsed.invoke().attempt(), 3u);
}

TEST_F(RecordConvertTest, RecordMetadataArrives) {
  functions::HostBatch batch = ToHost(Sample());
  EXPECT_EQ(batch.invocation_id, "9");
  EXPECT_EQ(batch.attempt, 2u);
  EXPECT_EQ(batch.shard_id, "shardId-1");
  ASSERT_EQ(batch.records.size(), 1u);
  const functions::HostRecord& r = batch.records[0];
  EXPECT_EQ(r.event_name, functions::HostEventName::kModify);
  EXPECT_EQ(r.event_id, "abc");
  EXPECT_EQ(r.sequence_number, "100000000000000000042");
  EXPECT_EQ(r.approximate_creation_time_ms, 1700000000123);
  EXPECT_EQ(r.size_bytes, 77u);
  EXPECT_EQ(r.table_name, "tab");
  EXPECT_EQ(r.event_source_arn, "arn:x");
  EXPECT_EQ(r.stream_view_type, "NEW_AND_OLD_IMAGES");
  EXPECT_TRUE(r.old_image.has_value());
  EXPECT_EQ(Field(r.keys, "p").scalar, "k1");
}

// Each of the ten types arrives as the same native value.
TEST_F(RecordConvertTest, EveryTypeArrivesNative) {
  const HostValue image = *ToHost(Sample()).records[0].new_image;
  using T = HostValue::Type;
  EXPECT_EQ(Field(image, "s").type, T::kString);
  EXPECT_EQ(Field(image, "s").scalar, "text");
  EXPECT_EQ(Field(image, "n").type, T::kNumber);
  EXPECT_EQ(Field(image, "n").scalar, "-1.5");
  EXPECT_EQ(Field(image, "b").type, T::kBinary);
  EXPECT_EQ(Field(image, "b").scalar, std::string("\0\xff", 2));
  EXPECT_EQ(Field(image, "t").type, T::kBool);
  EXPECT_TRUE(Field(image, "t").boolean);
  EXPECT_EQ(Field(image, "z").type, T::kNull);
  ASSERT_EQ(Field(image, "l").type, T::kList);
  ASSERT_EQ(Field(image, "l").list.size(), 2u);
  EXPECT_EQ(Field(image, "l").list[1].type, T::kNumber);
  ASSERT_EQ(Field(image, "m").type, T::kMap);
  EXPECT_EQ(Field(Field(image, "m"), "inner").type, T::kBool);
  EXPECT_EQ(Field(image, "ss").type, T::kStringSet);
  EXPECT_THAT(Field(image, "ss").set, ::testing::ElementsAre("a", "b"));
  EXPECT_EQ(Field(image, "ns").type, T::kNumberSet);
  EXPECT_EQ(Field(image, "bs").type, T::kBinarySet);
}

// INSERT has no old image, REMOVE no new image: absent, not empty.
TEST_F(RecordConvertTest, MissingImagesStayAbsent) {
  store::ChangeRecord r = Sample();
  r.event = store::ChangeEvent::kInsert;
  r.old_image.reset();
  const functions::HostRecord host = ToHost(r).records[0];
  EXPECT_FALSE(host.old_image.has_value());
  EXPECT_TRUE(host.new_image.has_value());
}

// A malformed wire value is refused, not handed to the handler.
TEST_F(RecordConvertTest, ValueWithoutTypeIsRefused) {
  proto::InvokeBatch batch;
  proto::StreamRecordProto* r = batch.add_records();
  r->set_event_name(proto::StreamRecordProto::INSERT);
  r->mutable_keys()->add_entries()->set_name("p");  // No value type.
  EXPECT_TRUE(worker::ToHostBatch(batch).status().IsInvalidArgument());
}

// Handler outcomes travel back as the dispatcher reads them.
TEST_F(RecordConvertTest, ResultsTravelBack) {
  functions::HandlerResult result;
  result.outcome = functions::HandlerResult::Outcome::kBatchItemFailures;
  result.failed_sequence_numbers = {"1", ""};
  result.window_state = "state";
  proto::InvokeResult out;
  worker::ToInvokeResult(result, &out);
  EXPECT_EQ(out.outcome(), proto::InvokeResult::BATCH_ITEM_FAILURES);
  EXPECT_THAT(out.batch_item_failures(), ::testing::ElementsAre("1", ""));
  ASSERT_TRUE(out.has_window_state());
  EXPECT_EQ(out.window_state(), "state");

  functions::HandlerResult failure;
  failure.outcome = functions::HandlerResult::Outcome::kFailure;
  failure.error_type = "Unhandled";
  failure.error_message = "boom";
  proto::InvokeResult out2;
  worker::ToInvokeResult(failure, &out2);
  EXPECT_EQ(out2.outcome(), proto::InvokeResult::FAILURE);
  EXPECT_EQ(out2.error_type(), "Unhandled");
  EXPECT_FALSE(out2.has_window_state());
}

}  // namespace
}  // namespace eddy::runtime
