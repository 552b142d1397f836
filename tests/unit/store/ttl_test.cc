// Time to Live and tags in the store: Database::UpdateTimeToLive's rules,
// SweepExpired (which items it deletes, that its REMOVE records carry the
// service identity, paging through large tables), Database::UpdateTags'
// 50-tag limit, and both settings surviving a reopen.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <set>

#include "eddy/store/database.h"
#include "store_test_util.h"

namespace eddy::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

using testing::N;
using testing::S;

constexpr int64_t kFiveYears = 5LL * 365 * 24 * 60 * 60;

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class TtlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir("eddy_ttl_test_");
    Open();
    CreateTable("Sessions", /*with_stream=*/true);
  }

  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Open() {
    Database::Options options;
    options.path = dir_.string();
    options.stream_shards = 2;
    options.ttl_sweep_interval_ms = 0;  // Sweeps only when a test asks.
    auto db = Database::Open(options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
  }

  void Reopen() {
    db_.reset();
    Open();
  }

  void CreateTable(const std::string& name, bool with_stream,
                   std::map<std::string, std::string> tags = {}) {
    TableSchema schema;
    schema.name = name;
    schema.hash_key = {"id", ValueType::kS};
    schema.attribute_definitions = {{"id", ValueType::kS}};
    schema.billing_mode = BillingMode::kPayPerRequest;
    if (with_stream) schema.stream_view_type = StreamViewType::kNewAndOldImages;
    schema.tags = std::move(tags);
    auto info = db_->CreateTable(schema);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
  }

  void EnableTtl(const std::string& table, const std::string& attribute) {
    auto info = db_->UpdateTimeToLive(table, true, attribute);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
  }

  void Put(const std::string& table, Item item) {
    WriteOutcome out;
    Status s = db_->GetTable(table)->Put(std::move(item), nullptr, &out);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  int64_t Sweep(std::optional<std::string> table) {
    auto deleted = db_->SweepExpired(table);
    EXPECT_TRUE(deleted.ok()) << deleted.status().ToString();
    return deleted.ok() ? *deleted : -1;
  }

  // The ids of the items left in `table`.
  std::set<std::string> Ids(const std::string& table) {
    std::set<std::string> ids;
    ScanRequest request;
    for (;;) {
      auto page = db_->GetTable(table)->Scan(request);
      EXPECT_TRUE(page.ok());
      if (!page.ok()) return ids;
      for (const Item& item : page->items) ids.insert(item.at("id").scalar());
      if (!page->last_evaluated_key) return ids;
      request.exclusive_start_key = page->last_evaluated_key;
    }
  }

  // Every record of the table's stream, all shards.
  std::vector<ChangeRecord> Records(const std::string& table) {
    std::vector<ChangeRecord> out;
    auto streams = db_->ListStreams(table);
    EXPECT_FALSE(streams.empty());
    if (streams.empty()) return out;
    auto& stream = streams.front();
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

  std::filesystem::path dir_;
  std::unique_ptr<Database> db_;
};

// The sweep deletes items whose TTL attribute is a past Number (not older
// than five years) and keeps the rest; deletions are REMOVE records by the
// service, with the old image.
TEST_F(TtlTest, SweepDeletesExpiredItemsAsTheService) {
  EnableTtl("Sessions", "exp");
  const int64_t now = NowSeconds();
  Put("Sessions", {{"id", S("past")}, {"exp", N(std::to_string(now - 60))}});
  Put("Sessions",
      {{"id", S("fraction")}, {"exp", N(std::to_string(now - 10) + ".5")}});
  Put("Sessions", {{"id", S("future")}, {"exp", N(std::to_string(now + 60))}});
  Put("Sessions", {{"id", S("string")}, {"exp", S(std::to_string(now - 60))}});
  Put("Sessions", {{"id", S("none")}});
  Put("Sessions", {{"id", S("ancient")},
                   {"exp", N(std::to_string(now - kFiveYears - 86400))}});
  Put("Sessions", {{"id", S("user")}});
  WriteOutcome out;
  ASSERT_TRUE(db_->GetTable("Sessions")
                  ->Delete(Item{{"id", S("user")}}, nullptr, &out)
                  .ok());

  EXPECT_EQ(Sweep("Sessions"), 2);
  EXPECT_THAT(Ids("Sessions"),
              UnorderedElementsAre("future", "string", "none", "ancient"));

  std::map<std::string, ChangeRecord> removes;
  for (ChangeRecord& r : Records("Sessions")) {
    if (r.event == ChangeEvent::kRemove) {
      removes[r.keys.at("id").scalar()] = std::move(r);
    } else {
      EXPECT_FALSE(r.service_delete);
    }
  }
  ASSERT_EQ(removes.size(), 3u);
  EXPECT_TRUE(removes["past"].service_delete);
  EXPECT_TRUE(removes["fraction"].service_delete);
  EXPECT_FALSE(removes["user"].service_delete);
  ASSERT_TRUE(removes["past"].old_image.has_value());
  EXPECT_EQ(removes["past"].old_image->at("exp").scalar(),
            std::to_string(now - 60));
  EXPECT_FALSE(removes["past"].new_image.has_value());

  // Nothing is left to delete.
  EXPECT_EQ(Sweep("Sessions"), 0);
}

// A table larger than one Scan page (1 MB) is swept to its end.
TEST_F(TtlTest, SweepPagesThroughLargeTables) {
  EnableTtl("Sessions", "exp");
  const std::string past = std::to_string(NowSeconds() - 60);
  const std::string future = std::to_string(NowSeconds() + 3600);
  const std::string padding(2000, 'x');
  for (int i = 0; i < 1200; ++i) {
    Put("Sessions", {{"id", S("i" + std::to_string(i))},
                     {"exp", N(i % 3 == 0 ? past : future)},
                     {"pad", S(padding)}});
  }
  EXPECT_EQ(Sweep("Sessions"), 400);
  EXPECT_EQ(Ids("Sessions").size(), 800u);
  EXPECT_EQ(db_->GetTable("Sessions")->Describe().item_count, 800);
}

// Without a table name every table with TTL enabled is swept; tables
// without TTL keep their items.
TEST_F(TtlTest, SweepOfEveryTableSkipsTablesWithoutTtl) {
  CreateTable("Carts", /*with_stream=*/false);
  CreateTable("Plain", /*with_stream=*/false);
  EnableTtl("Sessions", "exp");
  EnableTtl("Carts", "ttl");
  const auto past = N(std::to_string(NowSeconds() - 60));
  for (const char* table : {"Sessions", "Carts", "Plain"}) {
    Put(table, {{"id", S("a")}, {"exp", past}, {"ttl", past}});
  }
  EXPECT_EQ(Sweep(std::nullopt), 2);
  EXPECT_TRUE(Ids("Sessions").empty());
  EXPECT_TRUE(Ids("Carts").empty());
  EXPECT_THAT(Ids("Plain"), ElementsAre("a"));
  EXPECT_EQ(Sweep("Plain"), 0);
}

TEST_F(TtlTest, SweepOfMissingTableIsNotFound) {
  auto deleted = db_->SweepExpired(std::string("Nope"));
  ASSERT_FALSE(deleted.ok());
  EXPECT_TRUE(deleted.status().IsNotFound());
  EXPECT_EQ(deleted.status().message(),
            "Requested resource not found: Table: Nope not found");
}

// Disabling TTL stops deletions.
TEST_F(TtlTest, DisabledTtlDeletesNothing) {
  EnableTtl("Sessions", "exp");
  Put("Sessions",
      {{"id", S("a")}, {"exp", N(std::to_string(NowSeconds() - 60))}});
  ASSERT_TRUE(db_->UpdateTimeToLive("Sessions", false, "exp").ok());
  EXPECT_EQ(Sweep("Sessions"), 0);
  EXPECT_THAT(Ids("Sessions"), ElementsAre("a"));
}

// DynamoDB's rules and texts; a rejected change changes nothing.
TEST_F(TtlTest, UpdateTimeToLiveRules) {
  auto check = [&](bool enabled, const std::string& attribute,
                   const std::string& message) {
    auto info = db_->UpdateTimeToLive("Sessions", enabled, attribute);
    ASSERT_FALSE(info.ok());
    EXPECT_TRUE(info.status().IsInvalidArgument());
    EXPECT_EQ(info.status().message(), message);
  };
  check(false, "exp", "TimeToLive is already disabled");
  auto enabled = db_->UpdateTimeToLive("Sessions", true, "exp");
  ASSERT_TRUE(enabled.ok());
  EXPECT_EQ(enabled->ttl_attribute, "exp");
  check(true, "exp", "TimeToLive is already enabled");
  check(true, "other",
        "TimeToLive is active on a different AttributeName: current "
        "AttributeName is exp");
  check(false, "other",
        "TimeToLive is active on a different AttributeName: current "
        "AttributeName is exp");
  EXPECT_EQ(db_->GetTable("Sessions")->Describe().ttl_attribute, "exp");
  auto disabled = db_->UpdateTimeToLive("Sessions", false, "exp");
  ASSERT_TRUE(disabled.ok());
  EXPECT_FALSE(disabled->ttl_attribute.has_value());
  EXPECT_TRUE(db_->UpdateTimeToLive("Nope", true, "exp").status().IsNotFound());
}

// The 50-tag limit applies to the set after the change; a rejected change
// changes nothing; removing absent keys is fine.
TEST_F(TtlTest, UpdateTagsLimit) {
  std::map<std::string, std::string> fifty;
  for (int i = 0; i < 50; ++i) fifty["k" + std::to_string(i)] = "v";
  ASSERT_TRUE(db_->UpdateTags("Sessions", fifty, {}).ok());
  auto rejected =
      db_->UpdateTags("Sessions", {{"k0", "new"}, {"k50", "v"}}, {});
  ASSERT_FALSE(rejected.ok());
  EXPECT_THAT(rejected.status().message(),
              HasSubstr("Number of Tags exceed the current limit"));
  EXPECT_EQ(db_->GetTable("Sessions")->Describe().tags.at("k0"), "v");
  // Set and remove in one change: the count after it is what matters.
  auto swapped = db_->UpdateTags("Sessions", {{"k50", "v"}}, {"k0", "absent"});
  ASSERT_TRUE(swapped.ok()) << swapped.status().ToString();
  EXPECT_EQ(swapped->tags.size(), 50u);
  EXPECT_EQ(swapped->tags.count("k0"), 0u);
  EXPECT_TRUE(db_->UpdateTags("Nope", {{"a", "b"}}, {}).status().IsNotFound());
}

// CreateTable's tags become the table's tags (not part of its schema).
TEST_F(TtlTest, CreateTableTags) {
  CreateTable("Tagged", /*with_stream=*/false, {{"env", "dev"}});
  const TableInfo info = db_->GetTable("Tagged")->Describe();
  EXPECT_EQ(info.tags, (std::map<std::string, std::string>{{"env", "dev"}}));
  EXPECT_TRUE(info.schema.tags.empty());
}

// Both settings are in the catalog: they survive a reopen, and so does the
// forgetting of a disabled TTL attribute.
TEST_F(TtlTest, TtlAndTagsSurviveReopen) {
  CreateTable("Off", /*with_stream=*/false, {{"from", "create"}});
  EnableTtl("Sessions", "exp");
  EnableTtl("Off", "exp");
  ASSERT_TRUE(db_->UpdateTimeToLive("Off", false, "exp").ok());
  ASSERT_TRUE(
      db_->UpdateTags("Sessions", {{"a", "1"}, {"b", "2"}}, {"b"}).ok());
  Put("Sessions",
      {{"id", S("past")}, {"exp", N(std::to_string(NowSeconds() - 60))}});

  Reopen();
  const TableInfo sessions = db_->GetTable("Sessions")->Describe();
  EXPECT_EQ(sessions.ttl_attribute, "exp");
  EXPECT_EQ(sessions.tags, (std::map<std::string, std::string>{{"a", "1"}}));
  const TableInfo off = db_->GetTable("Off")->Describe();
  EXPECT_FALSE(off.ttl_attribute.has_value());
  EXPECT_EQ(off.tags, (std::map<std::string, std::string>{{"from", "create"}}));
  EXPECT_EQ(Sweep(std::nullopt), 1);
}

}  // namespace
}  // namespace eddy::store
