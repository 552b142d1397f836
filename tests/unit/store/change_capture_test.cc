// Change capture: one stream record per real change, classified as DynamoDB
// does, in per-item order; and the redo protocol that makes an item write
// and its record atomic across a crash.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>

#include "change_stream_impl.h"
#include "eddy/change_record.pb.h"
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
    now_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
    Open();
    ASSERT_TRUE(db_->CreateTable(OrdersSchema()).ok());
    table_ = db_->GetTable("Orders");
  }

  static TableSchema OrdersSchema() {
    TableSchema schema;
    schema.name = "Orders";
    schema.hash_key = {"id", ValueType::kS};
    schema.attribute_definitions = {{"id", ValueType::kS}};
    schema.billing_mode = BillingMode::kPayPerRequest;
    schema.stream_view_type = StreamViewType::kNewAndOldImages;
    return schema;
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
    options.clock_ms = [this] { return now_ms_.load(); };
    options.maintenance_interval_ms = 3600 * 1000;  // Trim when the test says.
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

  // Every record of the table's stream (the latest one, or `stream`), all
  // shards, in shard order.
  std::vector<ChangeRecord> Records(std::shared_ptr<ChangeStream> stream = {}) {
    std::vector<ChangeRecord> out;
    if (!stream) {
      auto streams = db_->ListStreams(std::string("Orders"));
      EXPECT_FALSE(streams.empty());
      if (streams.empty()) return out;
      stream = streams.front();
    }
    for (uint32_t i = 0; i < stream->shard_count(); ++i) {
      auto read = stream->shard(i)->Read(stream->shard(i)->first_sequence(),
                                         100000, 64 << 20);
      EXPECT_TRUE(read.ok());
      for (const auto& raw : read->records) {
        auto record = stream->Decode(i, raw);
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
  std::atomic<int64_t> now_ms_{0};  // The store's clock (Options::clock_ms).
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
  ASSERT_NO_FATAL_FAILURE(testing::DropLevelDbKeys(dir_, "ia"));
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
  // The counts are recomputed in the background after a crash.
  ASSERT_TRUE(testing::Eventually([&] { return db_->statistics_exact(); }));
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

// DeleteTable keeps the table's stream: listed, disabled, sealed and
// readable, also after a restart, until the retention period passes; then
// it is removed with its files. A table re-created with the same name gets
// a stream with another label, and the old one stays readable beside it.
TEST_F(ChangeCaptureTest, DeletedTablesStreamStaysReadableUntilRetention) {
  constexpr int64_t kDay = 24LL * 3600 * 1000;
  ASSERT_TRUE(Put({{"id", S("a")}, {"v", N("1")}}).ok());
  ASSERT_TRUE(Delete("a").ok());
  const std::string old_label =
      db_->ListStreams(std::string("Orders")).at(0)->description().label;
  table_.reset();
  ASSERT_TRUE(db_->DeleteTable("Orders").ok());
  EXPECT_EQ(db_->GetTable("Orders"), nullptr);

  auto check_old_stream = [&](const char* when) {
    SCOPED_TRACE(when);
    std::shared_ptr<ChangeStream> old = db_->GetStream("Orders", old_label);
    ASSERT_NE(old, nullptr);
    const StreamDescription d = old->description();
    EXPECT_FALSE(d.enabled());
    EXPECT_EQ(d.hash_key, "id");
    EXPECT_EQ(d.range_key, "");
    for (uint32_t i = 0; i < old->shard_count(); ++i) {
      EXPECT_TRUE(old->shard(i)->sealed());
    }
    EXPECT_EQ(Records(old).size(), 2u);
  };
  check_old_stream("after DeleteTable");
  Close();
  Open();
  check_old_stream("after a restart");

  now_ms_ += 1000;
  ASSERT_TRUE(db_->CreateTable(OrdersSchema()).ok());
  table_ = db_->GetTable("Orders");
  ASSERT_TRUE(Put({{"id", S("b")}}).ok());
  auto streams = db_->ListStreams(std::string("Orders"));
  ASSERT_EQ(streams.size(), 2u);
  EXPECT_TRUE(streams[0]->description().enabled());
  EXPECT_NE(streams[0]->description().label, old_label);
  EXPECT_EQ(streams[1]->description().label, old_label);
  check_old_stream("beside the new table's stream");
  EXPECT_EQ(Records().size(), 1u);  // The new stream has only its own.

  // Just before the retention passes it is still there.
  now_ms_ += kDay - 2000;
  ASSERT_TRUE(db_->TrimStreams().ok());
  check_old_stream("just before the retention passes");
  now_ms_ += 2000;
  ASSERT_TRUE(db_->TrimStreams().ok());
  EXPECT_EQ(db_->GetStream("Orders", old_label), nullptr);
  ASSERT_EQ(db_->ListStreams(std::string("Orders")).size(), 1u);
  streams.clear();  // Holding a stream keeps its logs open.
  Close();
  Open();
  EXPECT_EQ(db_->GetStream("Orders", old_label), nullptr);
  streams = db_->ListStreams(std::string("Orders"));
  ASSERT_EQ(streams.size(), 1u);
  EXPECT_TRUE(streams[0]->description().enabled());
  // The deleted table's stream files are gone (table ids start at 1).
  EXPECT_FALSE(std::filesystem::exists(dir_ / "streams" / "1"));
}

// A deleted table's disabled (not latest) streams are retained too, each
// until its own retention passes.
TEST_F(ChangeCaptureTest, DeleteTableRetainsEveryStreamOfTheTable) {
  TableUpdate off;
  off.stream = StreamUpdate{false, StreamViewType::kNewAndOldImages};
  TableUpdate on;
  on.stream = StreamUpdate{true, StreamViewType::kKeysOnly};
  ASSERT_TRUE(db_->UpdateTable("Orders", off).ok());
  now_ms_ += 10;
  ASSERT_TRUE(db_->UpdateTable("Orders", on).ok());
  table_.reset();
  ASSERT_TRUE(db_->DeleteTable("Orders").ok());
  auto streams = db_->ListStreams(std::string("Orders"));
  ASSERT_EQ(streams.size(), 2u);
  EXPECT_EQ(streams[0]->description().view_type, StreamViewType::kKeysOnly);
  for (const auto& stream : streams) {
    EXPECT_FALSE(stream->description().enabled());
  }
  streams.clear();
  Close();
  Open();
  EXPECT_EQ(db_->ListStreams(std::string("Orders")).size(), 2u);
  // Disabled at T and T + 10 ms; now T + 10: past the first one only.
  now_ms_ += 24LL * 3600 * 1000 - 5;
  ASSERT_TRUE(db_->TrimStreams().ok());
  streams = db_->ListStreams(std::string("Orders"));
  ASSERT_EQ(streams.size(), 1u);
  EXPECT_EQ(streams[0]->description().view_type, StreamViewType::kKeysOnly);
}

// New streams name their shards in creation order; the naming survives a
// restart.
TEST_F(ChangeCaptureTest, NewStreamsUseOrderedShardNaming) {
  auto streams = db_->ListStreams(std::string("Orders"));
  ASSERT_EQ(streams.size(), 1u);
  EXPECT_EQ(streams[0]->description().shard_naming, ShardNaming::kOrdered);
  EXPECT_EQ(streams[0]->start_sequence(0), kFirstRecordSequence - 1);
  ASSERT_TRUE(Put({{"id", S("a")}}).ok());
  EXPECT_EQ(Records()[0].sequence, kFirstRecordSequence);
  streams.clear();
  Close();
  Open();
  streams = db_->ListStreams(std::string("Orders"));
  EXPECT_EQ(streams[0]->description().shard_naming, ShardNaming::kOrdered);
  EXPECT_EQ(streams[0]->description().hash_key, "id");
}

// The stored payload of every record of `stream`, in shard order.
std::vector<proto::ChangeRecord> StoredRecords(const ChangeStream& stream) {
  std::vector<proto::ChangeRecord> out;
  for (uint32_t i = 0; i < stream.shard_count(); ++i) {
    auto read = stream.shard(i)->Read(stream.shard(i)->first_sequence(), 100000,
                                      64 << 20);
    EXPECT_TRUE(read.ok());
    if (!read.ok()) break;
    for (const auto& raw : read->records) {
      out.emplace_back();
      EXPECT_TRUE(out.back().ParseFromString(raw.payload));
    }
  }
  return out;
}

// A record to replay whose image lacks the table's key cannot say which item
// it changes: Open fails with Corruption naming the shard, and does not
// guess.
TEST_F(ChangeCaptureTest, ReplayOfARecordWithoutTheKeyIsCorruption) {
  ASSERT_TRUE(Put({{"id", S("a")}, {"v", N("1")}}).ok());
  {
    auto stream = db_->ListStreams(std::string("Orders")).front();
    proto::ChangeRecord keyless;
    EncodeItem(Item{{"v", N("2")}}, keyless.mutable_new_image());
    // Appended past the applied marker, as a crash would leave a record.
    ASSERT_TRUE(
        stream->shard(0)->Append(keyless.SerializeAsString(), now_ms_).ok());
  }
  Close();
  // As after a crash: no applied marker, no clean shutdown.
  ASSERT_NO_FATAL_FAILURE(testing::DropLevelDbKeys(dir_, "a"));
  Database::Options options;
  options.path = dir_.string();
  options.stream_shards = 2;
  auto reopened = Database::Open(options);
  ASSERT_FALSE(reopened.ok());
  EXPECT_TRUE(reopened.status().IsCorruption()) << reopened.status().ToString();
  EXPECT_THAT(reopened.status().ToString(),
              ::testing::HasSubstr("names no item of the table"));
  EXPECT_THAT(reopened.status().ToString(), ::testing::HasSubstr("shard 0"));
}

// A record stores neither its eventID, its key attributes nor the item's
// LevelDB key (the redo takes it from the image: OpenReplaysRecordsLevelDbLacks
// and the transaction tests cover that): the ID
// derives from the stream, shard and sequence number (32 hex digits,
// unique, the same at every read and after a restart) and the keys come
// from an image, also where the view type leaves the images out.
TEST_F(ChangeCaptureTest, EventIdsAndKeysAreDerivedNotStored) {
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(Put({{"id", S("k" + std::to_string(i))}, {"v", N("1")}}).ok());
  }
  ASSERT_TRUE(Update("k1", "SET v = v + :one", {{":one", N("1")}}).ok());
  ASSERT_TRUE(Delete("k2").ok());
  for (const proto::ChangeRecord& stored :
       StoredRecords(*db_->ListStreams(std::string("Orders")).front())) {
    EXPECT_TRUE(stored.event_id().empty());
    EXPECT_TRUE(stored.keys().empty());
    EXPECT_TRUE(stored.db_key().empty());
  }
  auto records = Records();
  ASSERT_EQ(records.size(), 202u);
  std::set<std::string> ids;
  std::map<std::string, int> events;
  for (const ChangeRecord& r : records) {
    EXPECT_THAT(r.event_id, ::testing::MatchesRegex("[0-9a-f]{32}"));
    ids.insert(r.event_id);
    ASSERT_EQ(r.keys.size(), 1u);
    events[std::string(ChangeEventName(r.event)) + " " +
           r.keys.at("id").scalar()]++;
  }
  EXPECT_EQ(ids.size(), records.size());  // Shards' sequences overlap.
  EXPECT_EQ(events["MODIFY k1"], 1);
  EXPECT_EQ(events["REMOVE k2"], 1);
  EXPECT_EQ(events["INSERT k199"], 1);

  Close();
  Open();
  std::vector<std::string> again;
  for (const ChangeRecord& r : Records()) again.push_back(r.event_id);
  std::vector<std::string> before;
  for (const ChangeRecord& r : records) before.push_back(r.event_id);
  EXPECT_EQ(again, before);

  // KEYS_ONLY: no images, the keys all the same (of a REMOVE too).
  TableUpdate off;
  off.stream = StreamUpdate{false, StreamViewType::kNewAndOldImages};
  ASSERT_TRUE(db_->UpdateTable("Orders", off).ok());
  TableUpdate on;
  on.stream = StreamUpdate{true, StreamViewType::kKeysOnly};
  ASSERT_TRUE(db_->UpdateTable("Orders", on).ok());
  ASSERT_TRUE(Put({{"id", S("k3")}, {"v", N("9")}}).ok());
  ASSERT_TRUE(Delete("k4").ok());
  auto keys_only = db_->ListStreams(std::string("Orders")).front();
  ASSERT_EQ(keys_only->description().view_type, StreamViewType::kKeysOnly);
  std::vector<std::string> seen;
  for (const ChangeRecord& r : Records(keys_only)) {
    EXPECT_FALSE(r.old_image.has_value());
    EXPECT_FALSE(r.new_image.has_value());
    EXPECT_EQ(ids.count(r.event_id), 0u) << "an ID of the other stream";
    seen.push_back(std::string(ChangeEventName(r.event)) + " " +
                   r.keys.at("id").scalar());
  }
  EXPECT_THAT(seen, ::testing::UnorderedElementsAre("MODIFY k3", "REMOVE k4"));
  // Stored: the old image of the REMOVE only (it holds the keys); a MODIFY
  // keeps its new image alone (the redo entry), and says it is a MODIFY,
  // which the images no longer tell.
  for (const proto::ChangeRecord& stored : StoredRecords(*keys_only)) {
    const bool remove = !StoredNewImage(stored);
    EXPECT_EQ(StoredOldImage(stored), remove);
    EXPECT_EQ(stored.event_name(), remove ? proto::ChangeRecord::EVENT_UNKNOWN
                                          : proto::ChangeRecord::MODIFY);
  }
}

// Records written before IDs and keys were derived carry their own, and
// read as they were written.
TEST_F(ChangeCaptureTest, RecordsWithStoredIdAndKeysReadAsWritten) {
  auto stream = db_->ListStreams(std::string("Orders")).front();
  proto::ChangeRecord old_format;
  old_format.set_event_name(proto::ChangeRecord::INSERT);
  EncodeItem(Item{{"id", S("a")}}, old_format.mutable_keys());
  old_format.set_has_new_image(true);
  EncodeItem(Item{{"id", S("a")}, {"v", N("1")}},
             old_format.mutable_new_image());
  old_format.set_event_id("0123456789abcdef0123456789abcdef");
  streams::LogRecord raw;
  raw.sequence = 7;
  raw.payload = old_format.SerializeAsString();
  auto record = stream->Decode(0, raw);
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  EXPECT_EQ(record->event_id, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(record->keys, (Item{{"id", S("a")}}));

  // Neither keys nor an image: damage, named.
  proto::ChangeRecord bare;
  bare.set_event_name(proto::ChangeRecord::REMOVE);
  raw.payload = bare.SerializeAsString();
  EXPECT_TRUE(stream->Decode(0, raw).status().IsCorruption());
}

// A record stores only what nothing else tells: no event name where the
// images tell it, no flags for the images, no SizeBytes, which the reader
// computes from what the view type shows, as DynamoDB counts it. Records of
// earlier versions, with all of them set, read the same.
TEST_F(ChangeCaptureTest, RecordsStoreNeitherEventNameNorSizeTheImagesTell) {
  const Item first{{"id", S("a")}, {"v", S("one")}};
  const Item second{{"id", S("a")}, {"v", S("two")}, {"w", N("12345")}};
  const Item keys{{"id", S("a")}};
  struct Case {
    StreamViewType view;
    // Expected SizeBytes of the INSERT, MODIFY and REMOVE.
    size_t insert, modify, remove;
  };
  const Case cases[] = {
      {StreamViewType::kNewAndOldImages, ItemSize(keys) + ItemSize(first),
       ItemSize(keys) + ItemSize(first) + ItemSize(second),
       ItemSize(keys) + ItemSize(second)},
      {StreamViewType::kNewImage, ItemSize(keys) + ItemSize(first),
       ItemSize(keys) + ItemSize(second), ItemSize(keys)},
      {StreamViewType::kOldImage, ItemSize(keys),
       ItemSize(keys) + ItemSize(first), ItemSize(keys) + ItemSize(second)},
      {StreamViewType::kKeysOnly, ItemSize(keys), ItemSize(keys),
       ItemSize(keys)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(StreamViewTypeName(c.view)));
    TableUpdate off;
    off.stream = StreamUpdate{false, StreamViewType::kNewAndOldImages};
    TableUpdate on;
    on.stream = StreamUpdate{true, c.view};
    if (db_->ListStreams(std::string("Orders"))
            .front()
            ->description()
            .enabled()) {
      ASSERT_TRUE(db_->UpdateTable("Orders", off).ok());
    }
    ASSERT_TRUE(db_->UpdateTable("Orders", on).ok());
    ASSERT_TRUE(Put(first).ok());
    ASSERT_TRUE(Put(second).ok());
    ASSERT_TRUE(Delete("a").ok());
    auto stream = db_->ListStreams(std::string("Orders")).front();
    ASSERT_EQ(stream->description().view_type, c.view);
    auto stored = StoredRecords(*stream);
    ASSERT_EQ(stored.size(), 3u);
    for (const proto::ChangeRecord& r : stored) {
      EXPECT_FALSE(r.has_new_image());
      EXPECT_FALSE(r.has_old_image());
      EXPECT_EQ(r.size_bytes(), 0u);
    }
    EXPECT_EQ(stored[0].event_name(), proto::ChangeRecord::EVENT_UNKNOWN);
    EXPECT_EQ(stored[2].event_name(), proto::ChangeRecord::EVENT_UNKNOWN);
    const bool view_old = c.view == StreamViewType::kOldImage ||
                          c.view == StreamViewType::kNewAndOldImages;
    EXPECT_EQ(stored[1].event_name(), view_old
                                          ? proto::ChangeRecord::EVENT_UNKNOWN
                                          : proto::ChangeRecord::MODIFY);
    auto records = Records(stream);
    ASSERT_EQ(records.size(), 3u);
    EXPECT_EQ(records[0].event, ChangeEvent::kInsert);
    EXPECT_EQ(records[1].event, ChangeEvent::kModify);
    EXPECT_EQ(records[2].event, ChangeEvent::kRemove);
    EXPECT_EQ(records[0].size_bytes, c.insert);
    EXPECT_EQ(records[1].size_bytes, c.modify);
    EXPECT_EQ(records[2].size_bytes, c.remove);

    // The same records as earlier versions wrote them read the same.
    for (size_t i = 0; i < stored.size(); ++i) {
      proto::ChangeRecord old_format = stored[i];
      old_format.set_has_new_image(!old_format.new_image().empty());
      old_format.set_has_old_image(!old_format.old_image().empty());
      old_format.set_event_name(i == 0   ? proto::ChangeRecord::INSERT
                                : i == 1 ? proto::ChangeRecord::MODIFY
                                         : proto::ChangeRecord::REMOVE);
      old_format.set_size_bytes(records[i].size_bytes);
      streams::LogRecord raw;
      raw.sequence = records[i].sequence;
      raw.payload = old_format.SerializeAsString();
      auto again = stream->Decode(0, raw);
      ASSERT_TRUE(again.ok()) << again.status().ToString();
      EXPECT_EQ(again->event, records[i].event);
      EXPECT_EQ(again->size_bytes, records[i].size_bytes);
      EXPECT_EQ(again->old_image, records[i].old_image);
      EXPECT_EQ(again->new_image, records[i].new_image);
    }
  }
}

// A MODIFY stores its old image as a change of the new one (what differs,
// what the new image lacks, what the old one lacked) and reads back whole,
// whatever the view type shows of it; a change of everything stores it in
// full.
TEST_F(ChangeCaptureTest, OldImageIsStoredAsADeltaOfTheNewOne) {
  const std::string wide(300, 'w');
  ASSERT_TRUE(
      Put({{"id", S("a")}, {"big", S(wide)}, {"n", N("1")}, {"gone", S("x")}})
          .ok());
  ASSERT_TRUE(Update("a", "SET n = :two, added = :y REMOVE gone",
                     {{":two", N("2")}, {":y", S("y")}})
                  .ok());
  ASSERT_TRUE(Put({{"id", S("a")}, {"other", S("z")}}).ok());  // All new.
  auto records = Records();
  ASSERT_EQ(records.size(), 3u);
  const Item first{
      {"id", S("a")}, {"big", S(wide)}, {"n", N("1")}, {"gone", S("x")}};
  const Item second{
      {"id", S("a")}, {"big", S(wide)}, {"n", N("2")}, {"added", S("y")}};
  EXPECT_EQ(records[1].old_image, first);
  EXPECT_EQ(records[1].new_image, second);
  EXPECT_EQ(records[2].old_image, second);
  EXPECT_EQ(records[2].new_image, (Item{{"id", S("a")}, {"other", S("z")}}));

  auto stored = StoredRecords(*db_->ListStreams(std::string("Orders")).front());
  ASSERT_EQ(stored.size(), 3u);
  EXPECT_TRUE(stored[1].old_image_is_delta());
  auto delta = DecodeItem(stored[1].old_image());
  ASSERT_TRUE(delta.ok());
  EXPECT_EQ(*delta, (Item{{"n", N("1")}, {"gone", S("x")}}));
  EXPECT_THAT(stored[1].old_absent(), ElementsAre("added"));
  EXPECT_LT(stored[1].ByteSizeLong(), 2 * wide.size());
  EXPECT_FALSE(stored[2].old_image_is_delta());

  // OLD_IMAGE: the old image rebuilt from a new image not shown.
  TableUpdate off;
  off.stream = StreamUpdate{false, StreamViewType::kNewAndOldImages};
  ASSERT_TRUE(db_->UpdateTable("Orders", off).ok());
  TableUpdate on;
  on.stream = StreamUpdate{true, StreamViewType::kOldImage};
  ASSERT_TRUE(db_->UpdateTable("Orders", on).ok());
  ASSERT_TRUE(Put({{"id", S("b")}, {"big", S(wide)}, {"n", N("1")}}).ok());
  ASSERT_TRUE(Update("b", "SET n = :two", {{":two", N("2")}}).ok());
  auto old_only = db_->ListStreams(std::string("Orders")).front();
  auto decoded = Records(old_only);
  ASSERT_EQ(decoded.size(), 2u);
  EXPECT_FALSE(decoded[1].new_image.has_value());
  EXPECT_EQ(decoded[1].old_image,
            (Item{{"id", S("b")}, {"big", S(wide)}, {"n", N("1")}}));
  EXPECT_EQ(decoded[1].keys, (Item{{"id", S("b")}}));
  EXPECT_TRUE(StoredRecords(*old_only)[1].old_image_is_delta());
}

}  // namespace
}  // namespace eddy::store
