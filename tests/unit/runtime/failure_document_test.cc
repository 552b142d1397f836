// The on-failure destination's document: Lambda's shape for DynamoDB
// streams plus the records, one JSON line each.
#include "dispatcher/failure_document.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace eddy::runtime::dispatcher {
namespace {

class FailureDocumentTest : public ::testing::Test {
 protected:
  static FailureInfo Info() {
    FailureInfo info;
    info.request_id = "r1";
    info.function_arn = "arn:aws:lambda:us-east-1:000000000000:function:t";
    info.condition = "RetryAttemptsExhausted";
    info.approximate_invoke_count = 3;
    info.function_error = "Unhandled";
    info.error_message = "boom";
    info.timestamp_ms = 1573690429717;  // 2019-11-14T00:13:49.717Z
    info.shard_id = "shardId-00000001573689847184-864758bb";
    info.stream_arn =
        "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x";
    info.start_sequence = "100000000000000000001";
    info.end_sequence = "100000000000000000002";
    info.first_arrival_ms = 1573690399000;
    info.last_arrival_ms = 1573690400999;
    info.batch_size = 2;
    return info;
  }
  static rapidjson::Document Parse(const std::string& text) {
    rapidjson::Document doc;
    doc.Parse(text.c_str());
    EXPECT_FALSE(doc.HasParseError()) << text;
    return doc;
  }
};

// Every member Lambda documents, with its value.
TEST_F(FailureDocumentTest, HasLambdasMembers) {
  rapidjson::Document doc = Parse(FailureDocument(Info(), nullptr));
  EXPECT_STREQ(doc["requestContext"]["condition"].GetString(),
               "RetryAttemptsExhausted");
  EXPECT_EQ(doc["requestContext"]["approximateInvokeCount"].GetInt(), 3);
  EXPECT_STREQ(doc["requestContext"]["functionArn"].GetString(),
               "arn:aws:lambda:us-east-1:000000000000:function:t");
  EXPECT_EQ(doc["responseContext"]["statusCode"].GetInt(), 200);
  EXPECT_STREQ(doc["responseContext"]["executedVersion"].GetString(),
               "$LATEST");
  EXPECT_STREQ(doc["responseContext"]["functionError"].GetString(),
               "Unhandled");
  EXPECT_STREQ(doc["version"].GetString(), "1.0");
  EXPECT_STREQ(doc["timestamp"].GetString(), "2019-11-14T00:13:49.717Z");
  const auto& info = doc["DDBStreamBatchInfo"];
  EXPECT_STREQ(info["shardId"].GetString(),
               "shardId-00000001573689847184-864758bb");
  EXPECT_STREQ(info["startSequenceNumber"].GetString(),
               "100000000000000000001");
  EXPECT_STREQ(info["endSequenceNumber"].GetString(), "100000000000000000002");
  EXPECT_STREQ(info["approximateArrivalOfFirstRecord"].GetString(),
               "2019-11-14T00:13:19Z");
  EXPECT_STREQ(info["approximateArrivalOfLastRecord"].GetString(),
               "2019-11-14T00:13:20Z");
  EXPECT_EQ(info["batchSize"].GetInt(), 2);
  EXPECT_STREQ(info["streamArn"].GetString(),
               "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x");
}

// Eddy adds the records themselves, so dead-lettered data is kept.
TEST_F(FailureDocumentTest, CarriesRecords) {
  rapidjson::Document doc =
      Parse(FailureDocument(Info(), [](wire::JsonWriter* w) {
        w->StartObject();
        w->Key("eventName");
        w->String("INSERT");
        w->EndObject();
      }));
  ASSERT_TRUE(doc["records"].IsArray());
  ASSERT_EQ(doc["records"].Size(), 1u);
  EXPECT_STREQ(doc["records"][0]["eventName"].GetString(), "INSERT");
}

// One document per line, appended.
TEST_F(FailureDocumentTest, AppendsLines) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("eddy-dlq-" + std::to_string(::getpid())))
                               .string();
  std::filesystem::remove(path);
  ASSERT_TRUE(AppendLineDurably(path, "{\"a\":1}").ok());
  ASSERT_TRUE(AppendLineDurably(path, "{\"a\":2}").ok());
  std::ifstream in(path);
  std::string l1, l2, l3;
  std::getline(in, l1);
  std::getline(in, l2);
  EXPECT_EQ(l1, "{\"a\":1}");
  EXPECT_EQ(l2, "{\"a\":2}");
  EXPECT_FALSE(std::getline(in, l3));
  std::filesystem::remove(path);
}

// The server's failure directory: a file in it, or nothing.
class ConfineFailureFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("eddy-confine-" + std::to_string(::getpid()));
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_ / "failures" / "sub");
    std::filesystem::create_directories(root_ / "outside");
    dir_ = std::filesystem::canonical(root_ / "failures").string();
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::string Refusal(const std::string& path) {
    Result<std::string> r = ConfineFailureFile(dir_, path);
    EXPECT_FALSE(r.ok()) << path << " was accepted as " << *r;
    if (r.ok()) return "";
    EXPECT_TRUE(r.status().IsInvalidArgument());
    return r.status().message();
  }

  std::filesystem::path root_;
  std::string dir_;
};

TEST_F(ConfineFailureFileTest, RelativeNamesAreFilesInTheDirectory) {
  EXPECT_EQ(*ConfineFailureFile(dir_, "orders.jsonl"), dir_ + "/orders.jsonl");
  EXPECT_EQ(*ConfineFailureFile(dir_, "sub/orders.jsonl"),
            dir_ + "/sub/orders.jsonl");
  EXPECT_EQ(*ConfineFailureFile(dir_, "./sub/./orders.jsonl"),
            dir_ + "/sub/orders.jsonl");
}

TEST_F(ConfineFailureFileTest, AbsolutePathsInTheDirectoryAreAccepted) {
  EXPECT_EQ(*ConfineFailureFile(dir_, dir_ + "/orders.jsonl"),
            dir_ + "/orders.jsonl");
}

TEST_F(ConfineFailureFileTest, AnythingElseIsRefusedWithTheFix) {
  EXPECT_THAT(Refusal("/etc/cron.d/evil"),
              ::testing::AllOf(::testing::HasSubstr("outside " + dir_),
                               ::testing::HasSubstr("--failure-dir")));
  EXPECT_THAT(Refusal("../outside/x.jsonl"), ::testing::HasSubstr("'..'"));
  EXPECT_THAT(Refusal(dir_ + "/../outside/x.jsonl"),
              ::testing::HasSubstr("'..'"));
  EXPECT_THAT(Refusal("missing/x.jsonl"),
              ::testing::HasSubstr("cannot be resolved"));
  EXPECT_THAT(Refusal("sub/"), ::testing::HasSubstr("names a directory"));
  EXPECT_THAT(Refusal("sub"), ::testing::HasSubstr("not a regular file"));
}

TEST_F(ConfineFailureFileTest, SymbolicLinksOutAreRefused) {
  // A directory link leading out, and a file link leading anywhere.
  std::filesystem::create_directory_symlink(root_ / "outside",
                                            root_ / "failures" / "out");
  EXPECT_THAT(Refusal("out/x.jsonl"), ::testing::HasSubstr("outside"));
  std::filesystem::create_symlink(root_ / "outside" / "target",
                                  root_ / "failures" / "link.jsonl");
  EXPECT_THAT(Refusal("link.jsonl"), ::testing::HasSubstr("symbolic link"));
  // And at write time too, should one appear after the check.
  Status s = AppendLineDurably(dir_ + "/link.jsonl", "{}");
  EXPECT_TRUE(s.IsIOError());
  EXPECT_THAT(s.message(), ::testing::HasSubstr("symbolic link"));
  EXPECT_FALSE(std::filesystem::exists(root_ / "outside" / "target"));
}

}  // namespace
}  // namespace eddy::runtime::dispatcher
