// The stream record codec both ways: what Eddy's GetRecords writes, the
// remote stream source reads back unchanged (the runner relies on it), in
// either spelling of userIdentity; and sequence numbers of Eddy's and
// DynamoDB's lengths compare as numbers.
#include "wire/stream_record.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace eddy::runtime::wire {
namespace {

using store::AttributeValue;

class StreamRecordTest : public ::testing::Test {
 protected:
  static store::ChangeRecord Sample() {
    store::ChangeRecord r;
    r.event = store::ChangeEvent::kModify;
    r.event_id = "e-1";
    r.timestamp_ms = 1700000000000;
    r.keys["p"] = AttributeValue::String("k");
    r.old_image = store::Item{{"p", AttributeValue::String("k")},
                              {"n", AttributeValue::Bool(false)}};
    r.new_image = store::Item{{"p", AttributeValue::String("k")},
                              {"b", AttributeValue::Binary("\x01\x02")}};
    r.size_bytes = 42;
    return r;
  }

  // Writes `record` as GetRecords (or, with an ARN, as Lambda) and reads
  // it back.
  static StreamRecordText RoundTrip(const store::ChangeRecord& record,
                                    const std::string& sequence,
                                    const std::string& arn = "") {
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    WriteStreamRecord(record, sequence, store::StreamViewType::kNewAndOldImages,
                      "us-east-1", arn, &w);
    rapidjson::Document doc;
    doc.Parse(buffer.GetString(), buffer.GetSize());
    EXPECT_FALSE(doc.HasParseError());
    StreamRecordText out;
    DecodeStatus s = ReadStreamRecord(doc, &out);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return out;
  }

  static DecodeStatus Read(const char* json) {
    rapidjson::Document doc;
    doc.Parse(json);
    StreamRecordText out;
    return ReadStreamRecord(doc, &out);
  }
};

TEST_F(StreamRecordTest, GetRecordsRecordReadsBackUnchanged) {
  const store::ChangeRecord in = Sample();
  const StreamRecordText out = RoundTrip(in, SequenceString(7));
  EXPECT_EQ(out.sequence_number, "100000000000000000007");
  EXPECT_EQ(out.view_type, "NEW_AND_OLD_IMAGES");
  EXPECT_EQ(out.record.event, in.event);
  EXPECT_EQ(out.record.event_id, in.event_id);
  // ApproximateCreationDateTime has whole seconds.
  EXPECT_EQ(out.record.timestamp_ms, 1700000000000);
  EXPECT_EQ(out.record.keys, in.keys);
  EXPECT_EQ(out.record.old_image, in.old_image);
  EXPECT_EQ(out.record.new_image, in.new_image);
  EXPECT_EQ(out.record.size_bytes, 42u);
  EXPECT_FALSE(out.record.service_delete);
}

// A TTL delete names the service in userIdentity: GetRecords spells it
// {Type, PrincipalId}, Lambda's event {type, principalId}; both read back.
TEST_F(StreamRecordTest, ServiceDeleteReadsBackInBothSpellings) {
  store::ChangeRecord in = Sample();
  in.event = store::ChangeEvent::kRemove;
  in.new_image.reset();
  in.service_delete = true;
  EXPECT_TRUE(RoundTrip(in, SequenceString(1)).record.service_delete);
  EXPECT_TRUE(RoundTrip(in, SequenceString(1), "arn:aws:dynamodb:x")
                  .record.service_delete);
}

// DynamoDB's sequence numbers run to 40 digits, past uint64.
TEST_F(StreamRecordTest, LongSequenceNumbersAreKept) {
  const std::string seq = "4421584500000000017450439091";
  EXPECT_EQ(RoundTrip(Sample(), seq).sequence_number, seq);
}

TEST_F(StreamRecordTest, MalformedRecordsAreRefused) {
  EXPECT_FALSE(Read("[]").ok());
  EXPECT_FALSE(Read(R"({"eventName":"INSERT","dynamodb":{}})").ok());
  EXPECT_FALSE(Read(R"({"eventID":"x","eventName":"UPSERT",
      "dynamodb":{"SequenceNumber":"100000000000000000001","Keys":{}}})")
                   .ok());
  EXPECT_FALSE(Read(R"({"eventID":"x","eventName":"INSERT",
      "dynamodb":{"SequenceNumber":"12","Keys":{}}})")
                   .ok());
  EXPECT_FALSE(Read(R"({"eventID":"x","eventName":"INSERT",
      "dynamodb":{"SequenceNumber":"100000000000000000001"}})")
                   .ok());
  const DecodeStatus bad_key = Read(R"({"eventID":"x","eventName":"INSERT",
      "dynamodb":{"SequenceNumber":"100000000000000000001",
                  "Keys":{"p":{"S":1}}}})");
  ASSERT_FALSE(bad_key.ok());
  EXPECT_TRUE(bad_key.serialization());
  EXPECT_TRUE(Read(R"({"eventID":"x","eventName":"INSERT",
      "dynamodb":{"SequenceNumber":"100000000000000000001",
                  "Keys":{"p":{"S":"a"}}}})")
                  .ok());
}

TEST_F(StreamRecordTest, SequenceNumbersCompareAsNumbers) {
  EXPECT_LT(
      CompareSequenceNumbers("100000000000000000009", "100000000000000000010"),
      0);
  // A longer number is larger whatever its digits.
  EXPECT_LT(
      CompareSequenceNumbers("900000000000000000000", "1000000000000000000000"),
      0);
  EXPECT_EQ(CompareSequenceNumbers("4421584500000000017450439091",
                                   "4421584500000000017450439091"),
            0);
  EXPECT_GT(CompareSequenceNumbers("4421584500000000017450439092",
                                   "4421584500000000017450439091"),
            0);
  EXPECT_TRUE(IsSequenceNumber("100000000000000000001"));
  EXPECT_FALSE(IsSequenceNumber("10000000000000000001"));
  EXPECT_FALSE(IsSequenceNumber("1000000000000000000x1"));
}

}  // namespace
}  // namespace eddy::runtime::wire
