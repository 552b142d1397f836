// Change capture: one stream record per real change, classified as DynamoDB
// does, in per-item order; and the redo protocol that makes an item write
// and its record atomic across a crash.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <leveldb/db.h>
#include <leveldb/write_batch.h>

#include <filesystem>
#include <map>

#include "eddy/store/database.h"
#include "eddy/store/item_codec.h"
#include "store_test_util.h"

namespace eddy::store {
namespace {

using ::testing::ElementsAre;

using testing::N;
using testing::S;

class ChangeCaptureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir("eddy_capture_test_");
    Open();
    TableSchema schema;
    schema.name = "Orders";
    schema.hash_key = {"id", ValueType::kS};
    schema.attribute_definitions = {{"id", ValueType::kS}};
    schema.billing_mode = BillingMode::kPayPerRequest;
    schema.stream_view_type = StreamViewType::kNewAndOldImages;
    ASSERT_TRUE(db_->CreateTable(schema).ok());
    table_ = db_->GetTable("Orders");
  }

  void TearDown() override {
    table_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Open() {
    Database::Options options;
    options.path = dir_.string();
    options.stream_shards = 2;
    auto db = Database::Open(options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    table_ = db_->GetTable("Orders");
  }

  void Close() {
    table_.reset();
    db_.reset();
  }

  Status Put(Item item) {
    WriteOutcome out;
    return table_->Put(std::move(item), nullptr, &out);
  }

  Status Update(const std::string& id, std::string_view expression,
                AttributeMap values = {}) {
    ExpressionContext ctx(nullptr, values.empty() ? nullptr : &values);
    auto update = Update::Parse(expression, &ctx);
    EXPECT_TRUE(update.ok()) << update.status().ToString();
    WriteOutcome out;
    return table_->UpdateItem(Item{{"id", S(id)}}, update->get(), nullptr,
                              &out);
  }

  Status Delete(const std::string& id) {
    WriteOutcome out;
    return table_->Delete(Item{{"id", S(id)}}, nullptr, &out);
  }

  // Every record of the table's stream, all shards, in shard order.
  std::vector<ChangeRecord> Records() {
    std::vector<ChangeRecord> out;
    auto streams = db_->ListStreams(std::string("Orders"));
    EXPECT_FALSE(streams.empty());
    auto& stream = streams.front();
    for (uint32_t i = 0; i < stream->shard_count(); ++i) {
      auto read = stream->shard(i)->Read(stream->shard(i)->first_sequence(),
                                         100000, 64 << 20);
      EXPECT_TRUE(read.ok());
      for (const auto& raw : read->records) {
        auto record = stream->Decode(raw);
        EXPECT_TRUE(record.ok());
        out.push_back(std::move(*record));
      }
    }
    return out;
  }

  std::vector<std::string> Events() {
    std::vector<std::string> names;
    for (const auto& r : Records()) {
      names.emplace_back(ChangeEventName(r.event));
    }
    return names;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Database> db_;
  std::shared_ptr<Table> table_;
};

// Put of a new item is INSERT, over an existing one MODIFY, delete REMOVE.
TEST_F(ChangeCaptureTest, ClassifiesPutModifyRemove) {
  ASSERT_TRUE(Put({{"id", S("a")}, {"v", N("1")}}).ok());
  ASSERT_TRUE(Put({{"id", S("a")}, {"v", N("2")}}).ok());
  ASSERT_TRUE(Delete("a").ok());
  EXPECT_THAT(Events(), ElementsAre("INSERT", "MODIFY", "REMOVE"));
  auto records = Records();
  EXPECT_FALSE(records[0].old_image.has_value());
  EXPECT_EQ(records[1].old_image->at("v").scalar(), "1");
  EXPECT_EQ(records[1].new_image->at("v").scalar(), "2");
  EXPECT_FALSE(records[2].new_image.has_value());
}

// UpdateItem that creates the item is an INSERT.
TEST_F(ChangeCaptureTest, UpdateThatCreatesIsInsert) {
  ASSERT_TRUE(Update("a", "SET v = :v", {{":v", N("1")}}).ok());
  ASSERT_TRUE(Update("a", "SET v = :v", {{":v", N("2")}}).ok());
  EXPECT_THAT(Events(), ElementsAre("INSERT", "MODIFY"));
}

// Writes that change nothing, by DynamoDB's equality, emit no record.
TEST_F(ChangeCaptureTest, NoOpWritesEmitNothing) {
  AttributeMap m1{{"x", N("1")}, {"y", S("b")}};
  ASSERT_TRUE(Put({{"id", S("a")},
                   {"v", N("1")},
                   {"m", AttributeValue::Map(m1)},
                   {"s", *AttributeValue::StringSet({"p", "q"})}})
                  .ok());
  // 1.0 for 1, the set in another order, the same map.
  ASSERT_TRUE(Put({{"id", S("a")},
                   {"v", N("1.0")},
                   {"m", AttributeValue::Map(m1)},
                   {"s", *AttributeValue::StringSet({"q", "p"})}})
                  .ok());
  ASSERT_TRUE(Update("a", "SET v = :v", {{":v", N("1.00")}}).ok());
  ASSERT_TRUE(Delete("missing").ok());
  ASSERT_TRUE(Update("missing", "REMOVE v").ok());
  EXPECT_THAT(Events(), ElementsAre("INSERT"));
}

// Records of one item stay in one shard, in commit order.
TEST_F(ChangeCaptureTest, RecordsOfOneItemAreOrderedInOneShard) {
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(Put({{"id", S("k" + std::to_string(i % 5))},
                     {"v", N(std::to_string(i))}})
                    .ok());
  }
  std::map<std::string, std::vector<std::string>> per_item;
  for (const auto& r : Records()) {
    per_item[r.keys.at("id").scalar()].push_back(r.new_image->at("v").scalar());
  }
  EXPECT_THAT(per_item["k0"], ElementsAre("0", "5", "10", "15"));
  EXPECT_THAT(per_item["k4"], ElementsAre("4", "9", "14", "19"));
}

// A record whose item never reached LevelDB (a crash between the two
// steps) is re-applied when the database opens.
TEST_F(ChangeCaptureTest, OpenReplaysRecordsLevelDbLacks) {
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(Put({{"id", S("k" + std::to_string(i))}, {"v", N("1")}}).ok());
  }
  ASSERT_TRUE(Delete("k3").ok());
  ASSERT_TRUE(Update("k4", "ADD v :one", {{":one", N("1")}}).ok());
  Close();
  // Undo the LevelDB side: drop every item and every applied marker, as if
  // the process died after appending the records.
  {
    leveldb::DB* raw = nullptr;
    ASSERT_TRUE(leveldb::DB::Open({}, (dir_ / "leveldb").string(), &raw).ok());
    std::unique_ptr<leveldb::DB> ldb(raw);
    leveldb::WriteBatch batch;
    std::unique_ptr<leveldb::Iterator> it(ldb->NewIterator({}));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const char prefix = it->key()[0];
      if (prefix == 'i' || prefix == 'a') batch.Delete(it->key());
    }
    ASSERT_TRUE(ldb->Write({}, &batch).ok());
    ASSERT_TRUE(ldb->Delete({}, "mclean").ok());
  }
  Open();
  for (int i = 0; i < 10; ++i) {
    auto got = table_->Get(Item{{"id", S("k" + std::to_string(i))}});
    ASSERT_TRUE(got.ok());
    if (i == 3) {
      EXPECT_FALSE(got->has_value());
    } else {
      ASSERT_TRUE(got->has_value()) << i;
      EXPECT_EQ((**got).at("v").scalar(), i == 4 ? "2" : "1");
    }
  }
  EXPECT_EQ(table_->Describe().item_count, 9);
  // Replay writes nothing new to the stream.
  EXPECT_EQ(Records().size(), 12u);
}

// Disabling seals the stream; later writes emit nothing into it, and a
// re-enabled stream is a new one.
TEST_F(ChangeCaptureTest, DisableSealsAndReenableStartsANewStream) {
  ASSERT_TRUE(Put({{"id", S("a")}, {"v", N("1")}}).ok());
  TableUpdate off;
  off.stream = StreamUpdate{false, StreamViewType::kNewAndOldImages};
  ASSERT_TRUE(db_->UpdateTable("Orders", off).ok());
  EXPECT_TRUE(db_->UpdateTable("Orders", off).status().IsInvalidArgument());
  ASSERT_TRUE(Put({{"id", S("a")}, {"v", N("2")}}).ok());
  EXPECT_EQ(Records().size(), 1u);
  TableUpdate on;
  on.stream = StreamUpdate{true, StreamViewType::kKeysOnly};
  ASSERT_TRUE(db_->UpdateTable("Orders", on).ok());
  EXPECT_TRUE(db_->UpdateTable("Orders", on).status().IsInvalidArgument());
  ASSERT_TRUE(Put({{"id", S("a")}, {"v", N("3")}}).ok());
  auto streams = db_->ListStreams(std::string("Orders"));
  ASSERT_EQ(streams.size(), 2u);
  EXPECT_TRUE(streams[0]->description().enabled());
  EXPECT_FALSE(streams[1]->description().enabled());
  EXPECT_NE(streams[0]->description().label, streams[1]->description().label);
  // KEYS_ONLY records carry no images.
  auto records = Records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_FALSE(records[0].new_image.has_value());
  EXPECT_EQ(records[0].event, ChangeEvent::kModify);
}

// Stream records survive a clean restart with their numbering.
TEST_F(ChangeCaptureTest, RecordsSurviveRestart) {
  ASSERT_TRUE(Put({{"id", S("a")}, {"v", N("1")}}).ok());
  Close();
  Open();
  ASSERT_TRUE(Put({{"id", S("a")}, {"v", N("2")}}).ok());
  auto records = Records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_LT(records[0].sequence, records[1].sequence);
}

}  // namespace
}  // namespace eddy::store
