// Secondary indexes in the store: entries maintained with their items
// (sparse, projected, moved and removed), reads through them, GSI backfill
// racing writes, and replay after a crash restoring entries.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "eddy/store/database.h"
#include "eddy/store/item_codec.h"
#include "store_test_util.h"

namespace eddy::store {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

using testing::N;
using testing::S;

class IndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir("eddy_index_test_");
    Open();
    TableSchema schema;
    schema.name = "Orders";
    schema.hash_key = {"customer", ValueType::kS};
    schema.range_key = KeyElement{"order", ValueType::kN};
    schema.attribute_definitions = {{"customer", ValueType::kS},
                                    {"order", ValueType::kN},
                                    {"status", ValueType::kS},
                                    {"total", ValueType::kN}};
    schema.billing_mode = BillingMode::kPayPerRequest;
    schema.stream_view_type = StreamViewType::kNewAndOldImages;
    IndexSchema by_status;
    by_status.name = "ByStatus";
    by_status.hash_key = {"status", ValueType::kS};
    by_status.range_key = KeyElement{"total", ValueType::kN};
    by_status.projection = ProjectionType::kInclude;
    by_status.non_key_attributes = {"note"};
    schema.global_indexes.push_back(by_status);
    IndexSchema by_total;
    by_total.name = "ByTotal";
    by_total.hash_key = {"customer", ValueType::kS};
    by_total.range_key = KeyElement{"total", ValueType::kN};
    by_total.projection = ProjectionType::kKeysOnly;
    schema.local_indexes.push_back(by_total);
    auto created = db_->CreateTable(schema);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
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

  void Reopen() {
    table_.reset();
    db_.reset();
    Open();
  }

  Status Put(Item item) {
    WriteOutcome out;
    return table_->Put(std::move(item), nullptr, &out);
  }

  static Item Order(const std::string& customer, int order,
                    std::optional<std::string> status, int total) {
    Item item{{"customer", S(customer)},
              {"order", N(std::to_string(order))},
              {"total", N(std::to_string(total))},
              {"note", S("n" + std::to_string(order))},
              {"other", S("x")}};
    if (status) item.emplace("status", S(*status));
    return item;
  }

  // "customer/order" of every item a query of the index returns, in order.
  std::vector<std::string> QueryIndex(const std::string& index,
                                      AttributeValue partition,
                                      std::optional<int64_t> limit = {},
                                      std::optional<Item> start = {},
                                      std::optional<Item>* last = nullptr) {
    QueryRequest request;
    request.index_name = index;
    request.key_condition.partition_value = std::move(partition);
    request.limit = limit;
    request.exclusive_start_key = std::move(start);
    auto page = table_->Query(request);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    std::vector<std::string> out;
    if (!page.ok()) return out;
    for (const Item& item : page->items) {
      out.push_back(item.at("customer").scalar() + "/" +
                    item.at("order").scalar());
    }
    if (last != nullptr) *last = page->last_evaluated_key;
    return out;
  }

  IndexInfo Index(const std::string& name) {
    for (const IndexInfo& i : table_->Describe().indexes) {
      if (i.schema.name == name) return i;
    }
    ADD_FAILURE() << "no index " << name;
    return {};
  }

  std::filesystem::path dir_;
  std::unique_ptr<Database> db_;
  std::shared_ptr<Table> table_;
};

TEST_F(IndexTest, EntriesFollowTheirItems) {
  ASSERT_TRUE(Put(Order("ann", 1, "open", 30)).ok());
  ASSERT_TRUE(Put(Order("ann", 2, "open", 10)).ok());
  ASSERT_TRUE(Put(Order("bob", 3, "shipped", 20)).ok());
  ASSERT_TRUE(Put(Order("bob", 4, std::nullopt, 5)).ok());  // Sparse.
  // Sorted by the index's sort key.
  EXPECT_THAT(QueryIndex("ByStatus", S("open")), ElementsAre("ann/2", "ann/1"));
  EXPECT_THAT(QueryIndex("ByTotal", S("bob")), ElementsAre("bob/4", "bob/3"));
  EXPECT_EQ(Index("ByStatus").item_count, 3);
  EXPECT_EQ(Index("ByTotal").item_count, 4);

  // An update moves the entry; a delete removes it.
  ASSERT_TRUE(Put(Order("ann", 1, "shipped", 30)).ok());
  WriteOutcome out;
  ASSERT_TRUE(table_
                  ->Delete(Item{{"customer", S("bob")}, {"order", N("3")}},
                           nullptr, &out)
                  .ok());
  EXPECT_THAT(QueryIndex("ByStatus", S("open")), ElementsAre("ann/2"));
  EXPECT_THAT(QueryIndex("ByStatus", S("shipped")), ElementsAre("ann/1"));
  // The counts are recomputed in the background after a crash.
  ASSERT_TRUE(testing::Eventually([&] { return db_->statistics_exact(); }));
  EXPECT_EQ(Index("ByStatus").item_count, 2);
}

TEST_F(IndexTest, EntriesHoldTheProjection) {
  ASSERT_TRUE(Put(Order("ann", 1, "open", 30)).ok());
  QueryRequest request;
  request.index_name = "ByStatus";
  request.key_condition.partition_value = S("open");
  auto page = table_->Query(request);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  std::set<std::string> names;
  for (const auto& [name, value] : page->items[0]) names.insert(name);
  EXPECT_THAT(names, UnorderedElementsAre("customer", "order", "status",
                                          "total", "note"));
  // An LSI fetch returns the whole item.
  request.index_name = "ByTotal";
  request.key_condition.partition_value = S("ann");
  request.fetch_table_items = true;
  page = table_->Query(request);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].count("other"), 1u);
}

// Index reads returning items as stored give what decoded reads give: the
// entries of a GSI, and for an LSI fetch the table's whole items (a filter
// then sees the whole item too), with the index's keys in LastEvaluatedKey.
TEST_F(IndexTest, EncodedReadsMatchDecodedReads) {
  for (int i = 0; i < 12; ++i) {
    ASSERT_TRUE(Put(Order(i % 2 == 0 ? "ann" : "bob", i,
                          i % 3 == 0 ? std::optional<std::string>()
                                     : std::optional<std::string>("open"),
                          100 - i))
                    .ok());
  }
  // OTHER is a reserved word.
  const std::map<std::string, std::string> names = {{"#o", "other"}};
  ExpressionContext context(&names, nullptr);
  auto filter =
      Condition::Parse("attribute_exists(#o)", "FilterExpression", &context);
  ASSERT_TRUE(filter.ok());
  struct Case {
    std::string index;
    std::string partition;
    bool fetch;
    const Condition* filter;
  };
  for (const Case& c : {Case{"ByStatus", "open", false, nullptr},
                        Case{"ByTotal", "ann", false, nullptr},
                        Case{"ByTotal", "bob", true, nullptr},
                        Case{"ByTotal", "ann", true, filter->get()}}) {
    for (std::optional<int64_t> limit : {std::optional<int64_t>(), {2}}) {
      std::optional<Item> start;
      size_t items = 0;
      do {
        QueryRequest request;
        request.index_name = c.index;
        request.key_condition.partition_value = S(c.partition);
        request.fetch_table_items = c.fetch;
        request.filter = c.filter;
        request.limit = limit;
        request.exclusive_start_key = start;
        auto decoded = table_->Query(request);
        request.encoded = true;
        auto encoded = table_->Query(request);
        ASSERT_TRUE(decoded.ok() && encoded.ok());
        ASSERT_EQ(encoded->encoded_items.size(), decoded->items.size());
        for (size_t i = 0; i < decoded->items.size(); ++i) {
          Result<Item> item = DecodeItem(encoded->encoded_items[i]);
          ASSERT_TRUE(item.ok());
          EXPECT_EQ(*item, decoded->items[i]);
          // A fetch returns the whole item, which the entry lacks.
          EXPECT_EQ(item->count("other"), c.fetch ? 1u : 0u);
        }
        EXPECT_EQ(encoded->scanned_count, decoded->scanned_count);
        EXPECT_EQ(encoded->scanned_bytes, decoded->scanned_bytes);
        EXPECT_EQ(encoded->last_evaluated_key, decoded->last_evaluated_key);
        items += decoded->items.size();
        start = decoded->last_evaluated_key;
      } while (start);
      EXPECT_GT(items, 0u) << c.index << " " << c.partition;
    }
  }
}

TEST_F(IndexTest, WrongTypedIndexKeyIsRejected) {
  Item item = Order("ann", 1, std::nullopt, 30);
  item.emplace("status", N("1"));
  Status s = Put(item);
  ASSERT_TRUE(s.IsInvalidArgument());
  EXPECT_EQ(s.message(),
            "One or more parameter values were invalid: Type mismatch for "
            "Index Key status Expected: S Actual: N IndexName: ByStatus");
  EXPECT_EQ(table_->Describe().item_count, 0);
}

TEST_F(IndexTest, PaginatesWithIndexKeys) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(Put(Order("c" + std::to_string(i), i, "open", 7)).ok());
  }
  std::vector<std::string> all;
  std::optional<Item> start;
  for (int pages = 0; pages < 10; ++pages) {
    std::optional<Item> last;
    auto got = QueryIndex("ByStatus", S("open"), 2, start, &last);
    all.insert(all.end(), got.begin(), got.end());
    if (!last) break;
    EXPECT_EQ(last->count("status"), 1u);
    EXPECT_EQ(last->count("total"), 1u);
    start = last;
  }
  EXPECT_EQ(all.size(), 5u);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 5u);
}

TEST_F(IndexTest, UnknownIndex) {
  QueryRequest request;
  request.index_name = "Nope";
  request.key_condition.partition_value = S("x");
  auto page = table_->Query(request);
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.status().message(),
            "The table does not have the specified index: Nope");
}

// A GSI created on a populated table is backfilled while writes go on;
// it ends ACTIVE holding exactly the items that have its key.
TEST_F(IndexTest, BackfillRacesWrites) {
  for (int i = 0; i < 3000; ++i) {
    ASSERT_TRUE(Put(Order("c" + std::to_string(i % 50), i,
                          i % 3 == 0 ? std::optional<std::string>("gold")
                                     : std::nullopt,
                          i))
                    .ok());
  }
  TableUpdate update;
  GlobalIndexUpdate create;
  create.index.name = "ByTier";
  create.index.hash_key = {"tier", ValueType::kS};
  create.index.projection = ProjectionType::kAll;
  update.global_indexes.push_back(create);
  // Items get a tier while the backfill runs.
  std::thread writer([&] {
    for (int i = 0; i < 3000; i += 7) {
      WriteOutcome out;
      std::map<std::string, std::string> names{{"#s", "status"}};
      ExpressionContext ctx(&names, nullptr);
      auto u = Update::Parse("SET tier = #s", &ctx);
      ASSERT_TRUE(u.ok()) << u.status().ToString();
      table_
          ->UpdateItem(Item{{"customer", S("c" + std::to_string(i % 50))},
                            {"order", N(std::to_string(i))}},
                       u->get(), nullptr, &out)
          .IgnoreError();
    }
  });
  {
    auto updated = db_->UpdateTable("Orders", update);
    ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  }
  writer.join();
  for (int i = 0; i < 600 && Index("ByTier").backfilling; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(Index("ByTier").backfilling);
  EXPECT_EQ(Index("ByTier").status, IndexStatus::kActive);
  // Items with i % 7 == 0 and i % 3 == 0 have tier "gold".
  int expected = 0;
  for (int i = 0; i < 3000; i += 7) expected += i % 3 == 0 ? 1 : 0;
  QueryRequest request;
  request.index_name = "ByTier";
  request.key_condition.partition_value = S("gold");
  auto page = table_->Query(request);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(static_cast<int>(page->items.size()), expected);
  EXPECT_EQ(Index("ByTier").item_count, expected);

  // Deleting the index removes it from reads.
  TableUpdate drop;
  GlobalIndexUpdate del;
  del.kind = GlobalIndexUpdate::Kind::kDelete;
  del.index.name = "ByTier";
  drop.global_indexes.push_back(del);
  ASSERT_TRUE(db_->UpdateTable("Orders", drop).ok());
  EXPECT_FALSE(table_->Query(request).ok());
  Reopen();
  EXPECT_FALSE(table_->Query(request).ok());
}

// After a crash that lost the LevelDB writes, replaying the stream restores
// items and their index entries.
TEST_F(IndexTest, ReplayRestoresIndexEntries) {
  ASSERT_TRUE(Put(Order("ann", 1, "open", 30)).ok());
  ASSERT_TRUE(Put(Order("ann", 1, "shipped", 30)).ok());
  ASSERT_TRUE(Put(Order("bob", 2, "open", 5)).ok());
  table_.reset();
  db_.reset();
  ASSERT_NO_FATAL_FAILURE(testing::DropLevelDbKeys(dir_, "iag"));
  Open();
  EXPECT_THAT(QueryIndex("ByStatus", S("open")), ElementsAre("bob/2"));
  EXPECT_THAT(QueryIndex("ByStatus", S("shipped")), ElementsAre("ann/1"));
  // The counts are recomputed in the background after a crash.
  ASSERT_TRUE(testing::Eventually([&] { return db_->statistics_exact(); }));
  EXPECT_EQ(Index("ByStatus").item_count, 2);
}

}  // namespace
}  // namespace eddy::store
