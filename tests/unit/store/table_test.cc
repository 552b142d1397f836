// Tables on LevelDB: key validation, conditional writes, Query ranges and
// paging, Scan segments, statistics and persistence across reopen.
#include "eddy/store/table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include "eddy/store/database.h"
#include "eddy/store/item_codec.h"
#include "store_test_util.h"

namespace eddy::store {
namespace {

using ::testing::ElementsAre;

using testing::N;
using testing::S;

class TableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir("eddy_table_test_");
    Reopen();
    TableSchema schema;
    schema.name = "Music";
    schema.hash_key = {"pk", ValueType::kS};
    schema.range_key = KeyElement{"sk", ValueType::kN};
    schema.attribute_definitions = {{"pk", ValueType::kS},
                                    {"sk", ValueType::kN}};
    schema.billing_mode = BillingMode::kPayPerRequest;
    ASSERT_TRUE(db_->CreateTable(schema).ok());
    table_ = db_->GetTable("Music");
  }

  void TearDown() override {
    table_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Reopen() {
    table_.reset();
    db_.reset();
    Database::Options options;
    options.path = dir_.string();
    auto db = Database::Open(options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    table_ = db_->GetTable("Music");
  }

  Status Put(const std::string& pk, std::string_view sk,
             const Condition* condition = nullptr) {
    Item item{{"pk", S(pk)}, {"sk", N(sk)}, {"v", S("x")}};
    WriteOutcome out;
    return table_->Put(std::move(item), condition, &out);
  }

  // The sort keys a query returns, in order.
  std::vector<std::string> SortKeys(const ReadPage& page) {
    std::vector<std::string> keys;
    for (const Item& item : page.items) keys.push_back(item.at("sk").scalar());
    return keys;
  }

  ReadPage Query(std::string pk,
                 std::optional<KeyCondition::SortCondition> sort,
                 bool forward = true, std::optional<int64_t> limit = {},
                 std::optional<Item> start = {}) {
    QueryRequest q;
    q.key_condition.partition_value = S(std::move(pk));
    q.key_condition.sort = std::move(sort);
    q.scan_forward = forward;
    q.limit = limit;
    q.exclusive_start_key = std::move(start);
    auto page = table_->Query(q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? *page : ReadPage();
  }

  std::filesystem::path dir_;
  std::unique_ptr<Database> db_;
  std::shared_ptr<Table> table_;
};

// Sort keys come back in numeric order, not text order.
TEST_F(TableTest, QueryReturnsSortKeysInNumericOrder) {
  for (const char* sk : {"10", "-2", "3.5", "100", "0"}) {
    ASSERT_TRUE(Put("a", sk).ok());
  }
  ASSERT_TRUE(Put("b", "1").ok());
  EXPECT_THAT(SortKeys(Query("a", std::nullopt)),
              ElementsAre("-2", "0", "3.5", "10", "100"));
  EXPECT_THAT(SortKeys(Query("a", std::nullopt, /*forward=*/false)),
              ElementsAre("100", "10", "3.5", "0", "-2"));
}

// Every sort-key operator selects exactly the matching range.
TEST_F(TableTest, SortKeyOperatorsSelectRanges) {
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(Put("a", std::to_string(i)).ok());
  using Op = KeyCondition::Op;
  auto q = [&](Op op, const char* v, const char* v2 = "0") {
    return SortKeys(Query("a", KeyCondition::SortCondition{op, N(v), N(v2)}));
  };
  EXPECT_THAT(q(Op::kEq, "3"), ElementsAre("3"));
  EXPECT_THAT(q(Op::kLt, "3"), ElementsAre("1", "2"));
  EXPECT_THAT(q(Op::kLe, "3"), ElementsAre("1", "2", "3"));
  EXPECT_THAT(q(Op::kGt, "3"), ElementsAre("4", "5"));
  EXPECT_THAT(q(Op::kGe, "3"), ElementsAre("3", "4", "5"));
  EXPECT_THAT(q(Op::kBetween, "2", "4"), ElementsAre("2", "3", "4"));
  EXPECT_THAT(q(Op::kBetween, "2.5", "3.5"), ElementsAre("3"));
}

// Limit stops a page and LastEvaluatedKey resumes it, in both directions.
TEST_F(TableTest, LimitAndExclusiveStartKeyPageThroughAPartition) {
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(Put("a", std::to_string(i)).ok());
  for (bool forward : {true, false}) {
    std::vector<std::string> all;
    std::optional<Item> start;
    int pages = 0;
    do {
      ReadPage page = Query("a", std::nullopt, forward, 3, start);
      for (auto& k : SortKeys(page)) all.push_back(k);
      start = page.last_evaluated_key;
      ++pages;
    } while (start);
    // 10 items in pages of 3: the fourth page is partial and has no key.
    EXPECT_EQ(pages, 4);
    ASSERT_EQ(all.size(), 10u);
    EXPECT_EQ(all.front(), forward ? "0" : "9");
  }
}

// A page stops near 1 MB of items read.
TEST_F(TableTest, PagesStopAtOneMegabyte) {
  const std::string big(100 * 1024, 'x');
  for (int i = 0; i < 25; ++i) {
    Item item{{"pk", S("a")}, {"sk", N(std::to_string(i))}, {"blob", S(big)}};
    WriteOutcome out;
    ASSERT_TRUE(table_->Put(std::move(item), nullptr, &out).ok());
  }
  ReadPage page = Query("a", std::nullopt);
  EXPECT_EQ(page.items.size(), 11u);  // 11 x ~100 KB crosses 1 MB.
  EXPECT_TRUE(page.last_evaluated_key.has_value());
}

// Reads that return items as stored (the API writes them to JSON without
// decoding) return what decoded reads return: the same items in the same
// order, counts, sizes and LastEvaluatedKey, page after page, with and
// without Limit and a filter, forwards and backwards, and at the 1 MB page
// limit.
TEST_F(TableTest, EncodedPagesMatchDecodedPages) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 60; ++i) {
    Item item = testing::RandomItem(rng, 5);
    item.erase("");  // Empty attribute names are not allowed.
    item["pk"] = S(i % 2 == 0 ? "a" : "b");
    item["sk"] = N(std::to_string(i));
    if (i % 3 == 0) item["v"] = S("x");
    // Partition "b" crosses the page limit every few items.
    if (i % 2 == 1) item["blob"] = S(std::string(300 * 1024, 'b'));
    WriteOutcome out;
    ASSERT_TRUE(table_->Put(std::move(item), nullptr, &out).ok());
  }
  ExpressionContext context(nullptr, nullptr);
  auto filter =
      Condition::Parse("attribute_exists(v)", "FilterExpression", &context);
  ASSERT_TRUE(filter.ok());

  auto decode = [](const ReadPage& page) {
    std::vector<Item> items;
    for (size_t i = 0; i < page.encoded_items.size(); ++i) {
      Result<Item> item = DecodeItem(page.encoded_items[i]);
      EXPECT_TRUE(item.ok());
      if (item.ok()) items.push_back(std::move(*item));
    }
    return items;
  };
  // Reads every page both ways; returns how many pages there were.
  auto compare = [&](auto read) {
    std::optional<Item> start;
    int pages = 0;
    do {
      Result<ReadPage> decoded = read(start, /*encoded=*/false);
      Result<ReadPage> encoded = read(start, /*encoded=*/true);
      if (!decoded.ok() || !encoded.ok()) {
        ADD_FAILURE() << decoded.status().ToString() << " / "
                      << encoded.status().ToString();
        return pages;
      }
      EXPECT_TRUE(encoded->items.empty());
      EXPECT_TRUE(decoded->encoded_items.empty());
      EXPECT_EQ(decode(*encoded), decoded->items);
      EXPECT_EQ(encoded->count(), decoded->count());
      EXPECT_EQ(encoded->scanned_count, decoded->scanned_count);
      EXPECT_EQ(encoded->scanned_bytes, decoded->scanned_bytes);
      EXPECT_EQ(encoded->last_evaluated_key, decoded->last_evaluated_key);
      start = decoded->last_evaluated_key;
      ++pages;
    } while (start && pages < 100);
    return pages;
  };
  int pages = 0;
  for (const char* pk : {"a", "b"}) {
    for (bool forward : {true, false}) {
      for (std::optional<int64_t> limit :
           {std::optional<int64_t>(), {1}, {7}}) {
        const Condition* const filters[] = {nullptr, filter->get()};
        for (const Condition* f : filters) {
          pages += compare([&](const std::optional<Item>& start, bool encoded) {
            QueryRequest q;
            q.key_condition.partition_value = S(pk);
            q.scan_forward = forward;
            q.limit = limit;
            q.filter = f;
            q.exclusive_start_key = start;
            q.encoded = encoded;
            return table_->Query(q);
          });
          pages += compare([&](const std::optional<Item>& start, bool encoded) {
            ScanRequest scan;
            scan.limit = limit;
            scan.filter = f;
            scan.exclusive_start_key = start;
            scan.encoded = encoded;
            return table_->Scan(scan);
          });
        }
      }
    }
  }
  EXPECT_GT(pages, 100);
}

// GetEncoded returns the item as stored, or nothing.
TEST_F(TableTest, GetEncodedReturnsTheStoredItem) {
  ASSERT_TRUE(Put("a", "1").ok());
  auto stored = table_->GetEncoded(Item{{"pk", S("a")}, {"sk", N("1")}});
  ASSERT_TRUE(stored.ok() && stored->has_value());
  Result<Item> item = DecodeItem(**stored);
  ASSERT_TRUE(item.ok());
  EXPECT_EQ(*item, (Item{{"pk", S("a")}, {"sk", N("1")}, {"v", S("x")}}));
  auto missing = table_->GetEncoded(Item{{"pk", S("a")}, {"sk", N("2")}});
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  EXPECT_TRUE(
      table_->GetEncoded(Item{{"pk", S("a")}}).status().IsInvalidArgument());
}

// Parallel scan segments are disjoint and together cover the table.
TEST_F(TableTest, ScanSegmentsPartitionTheTable) {
  for (int i = 0; i < 200; ++i)
    ASSERT_TRUE(Put("p" + std::to_string(i), "1").ok());
  std::set<std::string> seen;
  size_t total = 0;
  for (int segment = 0; segment < 7; ++segment) {
    ScanRequest s;
    s.segment = segment;
    s.total_segments = 7;
    auto page = table_->Scan(s);
    ASSERT_TRUE(page.ok());
    for (const Item& item : page->items) seen.insert(item.at("pk").scalar());
    total += page->items.size();
  }
  EXPECT_EQ(total, 200u);
  EXPECT_EQ(seen.size(), 200u);
}

// Keys are validated with DynamoDB's messages.
TEST_F(TableTest, KeysAreValidated) {
  WriteOutcome out;
  Status s = table_->Put(Item{{"pk", S("a")}}, nullptr, &out);
  EXPECT_EQ(s.message(),
            "One or more parameter values were invalid: Missing the key sk in "
            "the item");
  s = table_->Put(Item{{"pk", S("a")}, {"sk", S("1")}}, nullptr, &out);
  EXPECT_EQ(s.message(),
            "One or more parameter values were invalid: Type mismatch for key "
            "sk expected: N actual: S");
  s = table_->Put(Item{{"pk", S("")}, {"sk", N("1")}}, nullptr, &out);
  EXPECT_EQ(
      s.message(),
      "One or more parameter values are not valid. The AttributeValue "
      "for a key attribute cannot contain an empty string value. Key: pk");
  s = table_->Put(Item{{"pk", S(std::string(2049, 'k'))}, {"sk", N("1")}},
                  nullptr, &out);
  EXPECT_EQ(s.message(),
            "One or more parameter values were invalid: Size of hashkey has "
            "exceeded the maximum size limit of2048 bytes");
  auto got = table_->Get(Item{{"pk", S("a")}});
  EXPECT_EQ(got.status().message(),
            "The provided key element does not match the schema");
}

// A failed condition writes nothing and reports the current item.
TEST_F(TableTest, FalseConditionLeavesItemAndReportsIt) {
  ASSERT_TRUE(Put("a", "1").ok());
  ExpressionContext ctx(nullptr, nullptr);
  auto cond =
      Condition::Parse("attribute_not_exists(pk)", "ConditionExpression", &ctx);
  ASSERT_TRUE(cond.ok());
  Item item{{"pk", S("a")}, {"sk", N("1")}, {"v", S("changed")}};
  WriteOutcome out;
  Status s = table_->Put(std::move(item), cond->get(), &out);
  EXPECT_TRUE(s.IsConditionFailed());
  ASSERT_TRUE(out.old_item.has_value());
  EXPECT_EQ(out.old_item->at("v").scalar(), "x");
  auto got = table_->Get(Item{{"pk", S("a")}, {"sk", N("1")}});
  EXPECT_EQ((**got).at("v").scalar(), "x");
}

// Concurrent read-modify-write updates of one item never lose an update.
TEST_F(TableTest, ConcurrentAddsAreSerialised) {
  ExpressionContext ctx(nullptr, nullptr);
  AttributeMap values{{":one", N("1")}};
  ExpressionContext vctx(nullptr, &values);
  auto update = Update::Parse("ADD c :one", &vctx);
  ASSERT_TRUE(update.ok());
  const Item key{{"pk", S("counter")}, {"sk", N("0")}};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 250; ++i) {
        WriteOutcome out;
        EXPECT_TRUE(table_->UpdateItem(key, update->get(), nullptr, &out).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  auto got = table_->Get(key);
  EXPECT_EQ((**got).at("c").scalar(), "1000");
}

// Items and statistics survive a reopen.
TEST_F(TableTest, DataAndStatisticsSurviveReopen) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Put("a", std::to_string(i)).ok());
  WriteOutcome out;
  ASSERT_TRUE(
      table_->Delete(Item{{"pk", S("a")}, {"sk", N("0")}}, nullptr, &out).ok());
  Reopen();
  ASSERT_NE(table_, nullptr);
  EXPECT_EQ(table_->Describe().item_count, 4);
  EXPECT_EQ(SortKeys(Query("a", std::nullopt)).size(), 4u);
}

// A deleted table's items do not leak into a new table of the same name.
TEST_F(TableTest, RecreatedTableStartsEmpty) {
  ASSERT_TRUE(Put("a", "1").ok());
  TableSchema schema = table_->schema();
  ASSERT_TRUE(db_->DeleteTable("Music").ok());
  WriteOutcome out;
  EXPECT_TRUE(table_->Put(Item{{"pk", S("a")}, {"sk", N("2")}}, nullptr, &out)
                  .IsNotFound());
  ASSERT_TRUE(db_->CreateTable(schema).ok());
  table_ = db_->GetTable("Music");
  EXPECT_TRUE(Query("a", std::nullopt).items.empty());
  EXPECT_EQ(table_->Describe().item_count, 0);
}

}  // namespace
}  // namespace eddy::store
