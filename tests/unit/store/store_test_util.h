// Helpers shared by the store's tests (and the runtime's tests of stored
// items): short value builders, random items and a fresh data directory per
// test.
#ifndef EDDY_TESTS_UNIT_STORE_STORE_TEST_UTIL_H_
#define EDDY_TESTS_UNIT_STORE_STORE_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <leveldb/db.h>
#include <leveldb/iterator.h>
#include <leveldb/write_batch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "eddy/store/attribute_value.h"

namespace eddy::store::testing {

// Polls `done` until it returns true (then true) or `timeout` passes (then
// false): for what the store does in the background (recounts, recovery).
inline bool Eventually(
    const std::function<bool()>& done,
    std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

inline AttributeValue S(std::string s) {
  return AttributeValue::String(std::move(s));
}

// REQUIRES: `n` is a valid number.
inline AttributeValue N(std::string_view n) {
  return AttributeValue::Num(*Number::Parse(n));
}

// Random bytes, biased towards those JSON escapes and the codec's edge cases
// (NUL, control characters, quote, backslash, bytes >= 0x80, UTF-8).
inline std::string RandomText(std::mt19937_64& rng, size_t max_len) {
  using namespace std::string_view_literals;
  static constexpr std::string_view kInteresting[] = {
      "\0"sv, "\x01"sv, "\x1f"sv, "\""sv,   "\\"sv,       "/"sv,
      "\n"sv, "\t"sv,   "\x7f"sv, "\xff"sv, "\xc3\xa9"sv, "\xe4\xb8\xad"sv,
      "a"sv,  "Z"sv,    "0"sv,    " "sv};
  const size_t len = rng() % (max_len + 1);
  std::string s;
  while (s.size() < len) {
    if (rng() % 2 == 0) {
      s += kInteresting[rng() % std::size(kInteresting)];
    } else {
      s.push_back(static_cast<char>(rng()));
    }
  }
  return s;
}

// A random valid number: up to 38 significant digits anywhere in the range,
// the extremes included.
inline AttributeValue RandomNumber(std::mt19937_64& rng) {
  static constexpr std::string_view kEdges[] = {
      "0",
      "-0",
      "1E-130",
      "-1E-130",
      "1e125",
      "9.9999999999999999999999999999999999999E+125",
      "-9.9999999999999999999999999999999999999E+125",
      "12345678901234567890123456789012345678",
      "0.001",
      "100",
      "-5.5"};
  if (rng() % 4 == 0) return N(kEdges[rng() % std::size(kEdges)]);
  for (;;) {
    std::string text = rng() % 2 == 0 ? "-" : "";
    const size_t digits = 1 + rng() % 38;
    for (size_t i = 0; i < digits; ++i) {
      text.push_back(static_cast<char>('0' + rng() % 10));
    }
    text += "e" + std::to_string(static_cast<int>(rng() % 250) - 125);
    Result<Number> n = Number::Parse(text);
    if (n.ok()) return AttributeValue::Num(*n);
  }
}

// A random value of any of the ten types; M and L nest up to `depth` more
// levels.
inline AttributeValue RandomValue(std::mt19937_64& rng, int depth) {
  const int types = depth > 0 ? 10 : 5;  // The first five are not nested.
  static constexpr ValueType kOrder[] = {
      ValueType::kS,    ValueType::kN, ValueType::kB, ValueType::kBOOL,
      ValueType::kNULL, ValueType::kM, ValueType::kL, ValueType::kSS,
      ValueType::kNS,   ValueType::kBS};
  const ValueType type = kOrder[rng() % static_cast<uint64_t>(types)];
  switch (type) {
    case ValueType::kS:
      return AttributeValue::String(RandomText(rng, 40));
    case ValueType::kN:
      return RandomNumber(rng);
    case ValueType::kB:
      return AttributeValue::Binary(RandomText(rng, 20));
    case ValueType::kBOOL:
      return AttributeValue::Bool(rng() % 2 == 0);
    case ValueType::kNULL:
      return AttributeValue::Null();
    case ValueType::kM: {
      AttributeMap map;
      for (uint64_t i = rng() % 5; i > 0; --i) {
        map.insert_or_assign(RandomText(rng, 6), RandomValue(rng, depth - 1));
      }
      return AttributeValue::Map(std::move(map));
    }
    case ValueType::kL: {
      AttributeList list;
      for (uint64_t i = rng() % 5; i > 0; --i) {
        list.push_back(RandomValue(rng, depth - 1));
      }
      return AttributeValue::List(std::move(list));
    }
    case ValueType::kSS:
    case ValueType::kNS:
    case ValueType::kBS: {
      // Canonical NS members, so sorting their text sorts them as the set
      // keeps them.
      std::vector<std::string> members;
      for (uint64_t i = 1 + rng() % 4; i > 0; --i) {
        members.push_back(type == ValueType::kNS ? RandomNumber(rng).scalar()
                                                 : RandomText(rng, 10));
      }
      std::sort(members.begin(), members.end());
      members.erase(std::unique(members.begin(), members.end()), members.end());
      return AttributeValue::SetFromSorted(type, std::move(members));
    }
  }
  return AttributeValue::Null();
}

// A random item of up to `max_attributes` attributes, values nested up to
// three levels.
inline Item RandomItem(std::mt19937_64& rng, size_t max_attributes = 8) {
  Item item;
  for (uint64_t i = rng() % (max_attributes + 1); i > 0; --i) {
    item.insert_or_assign(RandomText(rng, 8), RandomValue(rng, 3));
  }
  return item;
}

// An empty directory named after the running test, under the temp dir.
inline std::filesystem::path FreshTestDir(std::string_view prefix) {
  // A parameterized test's name has a '/' ("Name/0"): kept, it would make
  // the directory a child of one that nothing removes.
  std::string name =
      ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::replace(name.begin(), name.end(), '/', '_');
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      (std::string(prefix) + std::to_string(::getpid()) + "_" + name);
  std::filesystem::remove_all(dir);
  return dir;
}

// As after a crash that lost LevelDB's side of some writes: deletes from
// the closed data directory `dir` every LevelDB key whose first byte is in
// `prefixes` (catalog.h: 'i' items, 'a' applied markers, 'g' index
// entries, ...) and the clean-shutdown mark.
inline void DropLevelDbKeys(const std::filesystem::path& dir,
                            std::string_view prefixes) {
  leveldb::DB* raw = nullptr;
  ASSERT_TRUE(leveldb::DB::Open({}, (dir / "leveldb").string(), &raw).ok());
  std::unique_ptr<leveldb::DB> ldb(raw);
  leveldb::WriteBatch batch;
  std::unique_ptr<leveldb::Iterator> it(ldb->NewIterator({}));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (prefixes.find(it->key()[0]) != std::string_view::npos) {
      batch.Delete(it->key());
    }
  }
  batch.Delete("mclean");
  ASSERT_TRUE(ldb->Write({}, &batch).ok());
}

}  // namespace eddy::store::testing

#endif  // EDDY_TESTS_UNIT_STORE_STORE_TEST_UTIL_H_
