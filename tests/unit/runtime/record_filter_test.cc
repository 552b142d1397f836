// Lambda event filtering for DynamoDB streams: the operators of
// reference/streams-triggers.md §2.6 against records in Lambda's shape.
#include "dispatcher/record_filter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace eddy::runtime::dispatcher {
namespace {

class RecordFilterTest : public ::testing::Test {
 protected:
  // A MODIFY of {p: "user-1", n: 42, tags: ["a","b"], flag: true}.
  static constexpr char kRecord[] = R"({
    "eventName": "MODIFY", "eventSource": "aws:dynamodb",
    "dynamodb": {
      "Keys": {"p": {"S": "user-1"}},
      "NewImage": {"p": {"S": "user-1"}, "n": {"N": "42"},
                   "tags": {"SS": ["a", "b"]}, "flag": {"BOOL": true}},
      "OldImage": {"p": {"S": "user-1"}, "n": {"N": "41"}},
      "StreamViewType": "NEW_AND_OLD_IMAGES"}})";

  bool Matches(std::vector<std::string> patterns) {
    Result<std::unique_ptr<RecordFilter>> f = RecordFilter::Create(patterns);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    if (!f.ok()) return false;
    rapidjson::Document doc;
    doc.Parse(kRecord);
    return (*f)->Matches(doc);
  }
  bool Matches(const std::string& pattern) {
    return Matches(std::vector<std::string>{pattern});
  }
  static Status Check(const std::string& pattern) {
    return RecordFilter::Create({pattern}).status();
  }
};

TEST_F(RecordFilterTest, NoPatternsMatchEverything) {
  EXPECT_TRUE(Matches(std::vector<std::string>{}));
}

TEST_F(RecordFilterTest, ExactMatchOnEventName) {
  EXPECT_TRUE(Matches(R"({"eventName":["INSERT","MODIFY"]})"));
  EXPECT_FALSE(Matches(R"({"eventName":["INSERT"]})"));
}

// Attribute values are typed, as in the record JSON.
TEST_F(RecordFilterTest, TypedAttributeValues) {
  EXPECT_TRUE(Matches(R"({"dynamodb":{"Keys":{"p":{"S":["user-1"]}}}})"));
  EXPECT_FALSE(Matches(R"({"dynamodb":{"Keys":{"p":{"N":["user-1"]}}}})"));
  EXPECT_TRUE(Matches(R"({"dynamodb":{"NewImage":{"flag":{"BOOL":[true]}}}})"));
}

// Numbers compare by value, also with DynamoDB's "N" strings.
TEST_F(RecordFilterTest, NumericRanges) {
  EXPECT_TRUE(Matches(
      R"({"dynamodb":{"NewImage":{"n":{"N":[{"numeric":[">",40,"<=",42]}]}}}})"));
  EXPECT_FALSE(Matches(
      R"({"dynamodb":{"NewImage":{"n":{"N":[{"numeric":["<",42]}]}}}})"));
  EXPECT_TRUE(Matches(
      R"({"dynamodb":{"NewImage":{"n":{"N":[{"numeric":["=",42]}]}}}})"));
  EXPECT_TRUE(Matches(R"({"dynamodb":{"NewImage":{"n":{"N":[42]}}}})"));
}

TEST_F(RecordFilterTest, PrefixSuffixAndIgnoreCase) {
  EXPECT_TRUE(
      Matches(R"({"dynamodb":{"Keys":{"p":{"S":[{"prefix":"user-"}]}}}})"));
  EXPECT_FALSE(
      Matches(R"({"dynamodb":{"Keys":{"p":{"S":[{"prefix":"admin"}]}}}})"));
  EXPECT_TRUE(
      Matches(R"({"dynamodb":{"Keys":{"p":{"S":[{"suffix":"-1"}]}}}})"));
  EXPECT_TRUE(Matches(R"({"eventName":[{"equals-ignore-case":"modify"}]})"));
  EXPECT_TRUE(Matches(
      R"({"dynamodb":{"Keys":{"p":{"S":[{"prefix":{"equals-ignore-case":"USER"}}]}}}})"));
}

TEST_F(RecordFilterTest, AnythingBut) {
  EXPECT_TRUE(
      Matches(R"({"eventName":[{"anything-but":["INSERT","REMOVE"]}]})"));
  EXPECT_FALSE(Matches(R"({"eventName":[{"anything-but":"MODIFY"}]})"));
  EXPECT_FALSE(Matches(
      R"({"dynamodb":{"Keys":{"p":{"S":[{"anything-but":{"prefix":"user"}}]}}}})"));
}

// exists: true needs the field; exists: false needs it absent. Nothing
// else matches a missing field.
TEST_F(RecordFilterTest, ExistsAndMissingFields) {
  EXPECT_TRUE(Matches(R"({"dynamodb":{"OldImage":{"n":[{"exists":true}]}}})"));
  EXPECT_TRUE(Matches(R"({"dynamodb":{"OldImage":{"x":[{"exists":false}]}}})"));
  EXPECT_FALSE(
      Matches(R"({"dynamodb":{"NewImage":{"n":[{"exists":false}]}}})"));
  EXPECT_FALSE(Matches(R"({"dynamodb":{"NewImage":{"zz":{"S":["x"]}}}})"));
  EXPECT_FALSE(Matches(
      R"({"dynamodb":{"NewImage":{"zz":{"S":[{"anything-but":"x"}]}}}})"));
}

// A rule list matches an array value when any element matches.
TEST_F(RecordFilterTest, ArrayValuesMatchAnyElement) {
  EXPECT_TRUE(Matches(R"({"dynamodb":{"NewImage":{"tags":{"SS":["b"]}}}})"));
  EXPECT_FALSE(Matches(R"({"dynamodb":{"NewImage":{"tags":{"SS":["c"]}}}})"));
}

// Fields of one pattern are AND-ed; patterns and $or alternatives OR-ed.
TEST_F(RecordFilterTest, AndOrSemantics) {
  EXPECT_FALSE(Matches(
      R"({"eventName":["MODIFY"],"dynamodb":{"Keys":{"p":{"S":["other"]}}}})"));
  EXPECT_TRUE(Matches(std::vector<std::string>{R"({"eventName":["INSERT"]})",
                                               R"({"eventName":["MODIFY"]})"}));
  EXPECT_TRUE(Matches(
      R"({"$or":[{"eventName":["INSERT"]},{"dynamodb":{"Keys":{"p":{"S":["user-1"]}}}}]})"));
}

TEST_F(RecordFilterTest, MalformedPatternsAreRefused) {
  EXPECT_TRUE(Check("not json").IsInvalidArgument());
  EXPECT_TRUE(Check(R"({"eventName":"INSERT"})").IsInvalidArgument());
  EXPECT_TRUE(Check(R"({"eventName":[]})").IsInvalidArgument());
  EXPECT_TRUE(Check(R"({"eventName":[{"wildcard":"*"}]})").IsInvalidArgument());
  EXPECT_TRUE(Check(R"({"n":[{"numeric":[">"]}]})").IsInvalidArgument());
  EXPECT_TRUE(Check(R"({"n":[{"numeric":["~",1]}]})").IsInvalidArgument());
  EXPECT_TRUE(Check(R"({"n":[{"exists":"yes"}]})").IsInvalidArgument());
  EXPECT_TRUE(Check(std::string(5000, ' ') + "{}").IsInvalidArgument());
}

}  // namespace
}  // namespace eddy::runtime::dispatcher
