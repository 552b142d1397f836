// Transactions in the store: all-or-nothing commits across tables and
// stream shards, cancellation, snapshot reads, and the intent protocol that
// finishes a transaction interrupted at any point by a crash.
#include "transaction.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "eddy/store/database.h"
#include "store_test_util.h"

namespace eddy::store {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

using testing::N;
using testing::S;

class TransactionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir("eddy_transaction_test_");
    Open();
    ASSERT_TRUE(db_->CreateTable(Schema("Streamed", true)).ok());
    ASSERT_TRUE(db_->CreateTable(Schema("Plain", false)).ok());
  }

  void TearDown() override {
    SetTransactionCrashPointForTesting(nullptr);
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  static TableSchema Schema(const std::string& name, bool stream) {
    TableSchema schema;
    schema.name = name;
    schema.hash_key = {"id", ValueType::kS};
    schema.attribute_definitions = {{"id", ValueType::kS}};
    schema.billing_mode = BillingMode::kPayPerRequest;
    if (stream) schema.stream_view_type = StreamViewType::kNewAndOldImages;
    return schema;
  }

  void Open() {
    Database::Options options;
    options.path = dir_.string();
    options.stream_shards = 3;
    auto db = Database::Open(options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
  }

  void Reopen() {
    db_.reset();
    Open();
  }

  TransactWriteAction PutAction(const std::string& table, const std::string& id,
                                const std::string& v) {
    TransactWriteAction a;
    a.kind = TransactWriteAction::Kind::kPut;
    a.table = db_->GetTable(table);
    a.item = {{"id", S(id)}, {"v", N(v)}};
    return a;
  }

  std::optional<Item> Get(const std::string& table, const std::string& id) {
    auto got = db_->GetTable(table)->Get(Item{{"id", S(id)}});
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? *got : std::nullopt;
  }

  // "<event> <id>" for every record of the Streamed table's stream.
  std::vector<std::string> Events() {
    std::vector<std::string> out;
    auto stream = db_->ListStreams(std::string("Streamed")).front();
    for (uint32_t i = 0; i < stream->shard_count(); ++i) {
      streams::ShardLog* shard = stream->shard(i);
      auto read = shard->Read(shard->first_sequence(), 100000, 64 << 20);
      EXPECT_TRUE(read.ok());
      for (const auto& raw : read->records) {
        auto record = stream->Decode(i, raw);
        EXPECT_TRUE(record.ok());
        out.push_back(std::string(ChangeEventName(record->event)) + " " +
                      record->keys.at("id").scalar());
      }
    }
    return out;
  }

  // Three items of the streamed table (spread over its shards) and one of
  // the plain table.
  std::vector<TransactWriteAction> FourPuts(const std::string& v) {
    return {PutAction("Streamed", "a", v), PutAction("Streamed", "b", v),
            PutAction("Streamed", "c", v), PutAction("Plain", "d", v)};
  }

  std::filesystem::path dir_;
  std::unique_ptr<Database> db_;
};

TEST_F(TransactionTest, CommitsEveryActionAndOneRecordPerItem) {
  auto result = db_->TransactWrite(FourPuts("1"));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(result->committed);
  for (const char* id : {"a", "b", "c"}) {
    EXPECT_EQ(Get("Streamed", id)->at("v").scalar(), "1") << id;
  }
  EXPECT_EQ(Get("Plain", "d")->at("v").scalar(), "1");
  EXPECT_THAT(Events(),
              UnorderedElementsAre("INSERT a", "INSERT b", "INSERT c"));
  EXPECT_EQ(db_->GetTable("Streamed")->Describe().item_count, 3);
}

TEST_F(TransactionTest, FailedConditionCancelsEverything) {
  ExpressionContext ctx(nullptr, nullptr);
  auto condition =
      Condition::Parse("attribute_exists(id)", "ConditionExpression", &ctx);
  ASSERT_TRUE(condition.ok());
  std::vector<TransactWriteAction> actions = FourPuts("1");
  TransactWriteAction check;
  check.kind = TransactWriteAction::Kind::kConditionCheck;
  check.table = db_->GetTable("Plain");
  check.item = {{"id", S("missing")}};
  check.condition = condition->get();
  actions.push_back(check);

  auto result = db_->TransactWrite(actions);
  ASSERT_TRUE(result.ok());
  EXPECT_FALSE(result->committed);
  std::vector<std::string> codes;
  for (const auto& r : result->reasons) codes.push_back(r.code);
  EXPECT_THAT(codes, ElementsAre("None", "None", "None", "None",
                                 "ConditionalCheckFailed"));
  EXPECT_FALSE(Get("Streamed", "a").has_value());
  EXPECT_FALSE(Get("Plain", "d").has_value());
  EXPECT_TRUE(Events().empty());
}

TEST_F(TransactionTest, TwoActionsOnOneItemAreInvalid) {
  auto result = db_->TransactWrite(
      {PutAction("Streamed", "a", "1"), PutAction("Streamed", "a", "2")});
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.status().IsInvalidArgument());
}

TEST_F(TransactionTest, TransactGetReadsOnePointInTime) {
  ASSERT_TRUE(db_->TransactWrite(FourPuts("7")).ok());
  auto read = db_->TransactGet({{db_->GetTable("Plain"), {{"id", S("d")}}},
                                {db_->GetTable("Streamed"), {{"id", S("x")}}},
                                {db_->GetTable("Streamed"), {{"id", S("a")}}}});
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->size(), 3u);
  EXPECT_EQ((*read)[0]->at("v").scalar(), "7");
  EXPECT_FALSE((*read)[1].has_value());
  EXPECT_EQ((*read)[2]->at("v").scalar(), "7");
}

// A crash after the intent and after each append: the next Open finishes
// the transaction, so every item is written and every record is in its
// stream exactly once, and later writes are not undone by replay.
class TransactionCrashTest : public TransactionTest,
                             public ::testing::WithParamInterface<size_t> {};

TEST_P(TransactionCrashTest, OpenFinishesTheTransaction) {
  ASSERT_TRUE(db_->TransactWrite(FourPuts("1")).ok());
  const size_t crash_after = GetParam();
  SetTransactionCrashPointForTesting(
      [crash_after](size_t appended) { return appended == crash_after; });
  auto crashed = db_->TransactWrite(FourPuts("2"));
  SetTransactionCrashPointForTesting(nullptr);
  ASSERT_FALSE(crashed.ok());
  // Not applied yet: the items are still at their old values.
  EXPECT_EQ(Get("Plain", "d")->at("v").scalar(), "1");

  Reopen();
  for (const char* id : {"a", "b", "c"}) {
    EXPECT_EQ(Get("Streamed", id)->at("v").scalar(), "2") << id;
  }
  EXPECT_EQ(Get("Plain", "d")->at("v").scalar(), "2");
  EXPECT_THAT(Events(),
              UnorderedElementsAre("INSERT a", "INSERT b", "INSERT c",
                                   "MODIFY a", "MODIFY b", "MODIFY c"));
  EXPECT_EQ(db_->GetTable("Streamed")->Describe().item_count, 3);
  EXPECT_EQ(db_->GetTable("Plain")->Describe().item_count, 1);

  // Writes after recovery stick across another restart.
  ASSERT_TRUE(db_->TransactWrite(FourPuts("3")).ok());
  Reopen();
  EXPECT_EQ(Get("Streamed", "a")->at("v").scalar(), "3");
  EXPECT_EQ(Get("Plain", "d")->at("v").scalar(), "3");
  EXPECT_EQ(Events().size(), 9u);
}

INSTANTIATE_TEST_SUITE_P(AfterIntentAndEachAppend, TransactionCrashTest,
                         ::testing::Values(0, 1, 2, 3));

}  // namespace
}  // namespace eddy::store
