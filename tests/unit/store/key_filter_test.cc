// The store's Bloom filter policy: only keys the store looks up one by one
// go into the filters (store/src/key_filter.h).
#include "key_filter.h"

#include <gtest/gtest.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/options.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "catalog.h"
#include "store_test_util.h"

namespace eddy::store {
namespace {

std::string Key(char prefix, int i) {
  return std::string(1, prefix) + "table-1/" + std::to_string(i);
}

std::string Build(const leveldb::FilterPolicy& policy,
                  const std::vector<std::string>& keys) {
  std::vector<leveldb::Slice> slices(keys.begin(), keys.end());
  std::string filter;
  policy.CreateFilter(slices.data(), static_cast<int>(slices.size()), &filter);
  return filter;
}

TEST(KeyFilterTest, ScannedOnlyKeySpacesAreNotPointReads) {
  EXPECT_TRUE(IsPointReadKey(Key(kItemPrefix, 1)));
  EXPECT_TRUE(IsPointReadKey(Key(kMetaPrefix, 1)));
  EXPECT_TRUE(IsPointReadKey(Key(kAppliedPrefix, 1)));
  EXPECT_TRUE(IsPointReadKey(Key(kCatalogPrefix, 1)));
  EXPECT_TRUE(IsPointReadKey(Key('z', 1)));  // Unknown: filtered.
  EXPECT_TRUE(IsPointReadKey(""));
  EXPECT_FALSE(IsPointReadKey(Key(kIndexPrefix, 1)));
  EXPECT_FALSE(IsPointReadKey(Key(kHistoryPrefix, 1)));
}

TEST(KeyFilterTest, FilterHoldsPointReadKeysOnly) {
  std::unique_ptr<const leveldb::FilterPolicy> ours =
      NewPointReadFilterPolicy(10);
  std::unique_ptr<const leveldb::FilterPolicy> builtin(
      leveldb::NewBloomFilterPolicy(10));
  std::vector<std::string> items, all;
  for (int i = 0; i < 1000; ++i) {
    items.push_back(Key(kItemPrefix, i));
    all.push_back(Key(kItemPrefix, i));
    all.push_back(Key(kIndexPrefix, i));
    all.push_back(Key(kHistoryPrefix, i));
  }
  const std::string filter = Build(*ours, all);
  // The size of a filter of the items alone: a third of one of every key.
  EXPECT_EQ(filter, Build(*builtin, items));
  EXPECT_LT(filter.size() * 2, Build(*builtin, all).size());
  for (const std::string& key : all) {
    EXPECT_TRUE(ours->KeyMayMatch(key, filter)) << key;
  }
  // Keys never added, scanned-only: "may match" without looking.
  EXPECT_TRUE(ours->KeyMayMatch(Key(kIndexPrefix, 5000), filter));
  EXPECT_TRUE(ours->KeyMayMatch(Key(kHistoryPrefix, 5000), filter));
  // Absent items: filtered out (~1 % false positives at 10 bits per key).
  int passed = 0;
  for (int i = 1000; i < 3000; ++i) {
    if (ours->KeyMayMatch(Key(kItemPrefix, i), filter)) ++passed;
  }
  EXPECT_LT(passed, 100);
}

TEST(KeyFilterTest, TablesOfTheBuiltinPolicyReadTheSame) {
  // Same name, same filters: a table written before (every key in its
  // filter) is consulted correctly, for the keys this policy consults.
  std::unique_ptr<const leveldb::FilterPolicy> ours =
      NewPointReadFilterPolicy(10);
  std::unique_ptr<const leveldb::FilterPolicy> builtin(
      leveldb::NewBloomFilterPolicy(10));
  EXPECT_STREQ(ours->Name(), builtin->Name());
  std::vector<std::string> all;
  for (int i = 0; i < 500; ++i) {
    all.push_back(Key(kItemPrefix, i));
    all.push_back(Key(kIndexPrefix, i));
  }
  const std::string old_filter = Build(*builtin, all);
  for (const std::string& key : all) {
    EXPECT_TRUE(ours->KeyMayMatch(key, old_filter)) << key;
  }
}

TEST(KeyFilterTest, EveryKeyIsFoundThroughLevelDb) {
  const std::filesystem::path dir = testing::FreshTestDir("eddy_key_filter_");
  std::unique_ptr<const leveldb::FilterPolicy> policy =
      NewPointReadFilterPolicy(10);
  leveldb::Options options;
  options.create_if_missing = true;
  options.filter_policy = policy.get();
  options.write_buffer_size = 64 * 1024;  // Several table files.
  leveldb::DB* raw = nullptr;
  ASSERT_TRUE(leveldb::DB::Open(options, dir.string(), &raw).ok());
  std::unique_ptr<leveldb::DB> db(raw);
  for (int i = 0; i < 5000; ++i) {
    for (char prefix : {kItemPrefix, kIndexPrefix, kHistoryPrefix}) {
      ASSERT_TRUE(
          db->Put(leveldb::WriteOptions(), Key(prefix, i), "v" + Key(prefix, i))
              .ok());
    }
  }
  db->CompactRange(nullptr, nullptr);
  for (int i = 0; i < 5000; ++i) {
    for (char prefix : {kItemPrefix, kIndexPrefix, kHistoryPrefix}) {
      std::string value;
      ASSERT_TRUE(db->Get(leveldb::ReadOptions(), Key(prefix, i), &value).ok())
          << Key(prefix, i);
      EXPECT_EQ(value, "v" + Key(prefix, i));
    }
  }
  std::string value;
  EXPECT_TRUE(db->Get(leveldb::ReadOptions(), Key(kItemPrefix, 9999), &value)
                  .IsNotFound());
  db.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace eddy::store
