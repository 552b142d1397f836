// Items written to JSON straight from their stored encoding
// (WriteEncodedItem, ItemWriter) must be byte for byte what rapidjson writes
// for the decoded item (WriteItem), projected or not: the fast path of
// GetItem, BatchGetItem, Query and Scan must not change a response.
#include "api/item_writer.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "../store/store_test_util.h"
#include "api/json_codec.h"
#include "eddy/store/item_codec.h"

namespace eddy::runtime::api {
namespace {

using store::AttributeValue;
using store::Item;
using store::testing::N;
using store::testing::S;

class ItemWriterTest : public ::testing::Test {
 protected:
  static std::string Encode(const Item& item) {
    std::string out;
    store::EncodeItem(item, &out);
    return out;
  }

  // Items as a page writes them: in an array, after a member, so the
  // separators around each item are checked too.
  template <typename WriteOne>
  static std::string Page(const std::vector<Item>& items, WriteOne write) {
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    w.Key("Count");
    w.Int64(static_cast<int64_t>(items.size()));
    w.Key("Items");
    w.StartArray();
    for (const Item& item : items) write(item, &w);
    w.EndArray();
    w.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize());
  }

  static std::string Decoded(const std::vector<Item>& items,
                             const store::Projection* projection) {
    return Page(items, [&](const Item& item, JsonWriter* w) {
      WriteItem(projection ? projection->Apply(item) : item, w);
    });
  }

  // Writes through ItemWriter::WriteEncoded, checking each size.
  static std::string Encoded(const std::vector<Item>& items,
                             const store::Projection* projection) {
    const ItemWriter writer(projection);
    return Page(items, [&](const Item& item, JsonWriter* w) {
      Result<size_t> size = writer.WriteEncoded(Encode(item), w);
      ASSERT_TRUE(size.ok()) << size.status().ToString();
      EXPECT_EQ(*size, store::ItemSize(item));
    });
  }

  static std::vector<Item> RandomItems(uint64_t seed, int count) {
    std::mt19937_64 rng(seed);
    std::vector<Item> items;
    for (int i = 0; i < count; ++i)
      items.push_back(store::testing::RandomItem(rng));
    return items;
  }

  static store::Path Name(std::string name) {
    store::PathElement element;
    element.name = std::move(name);
    return {element};
  }
  static store::Path Index(store::Path path, uint32_t index) {
    store::PathElement element;
    element.index = index;
    element.is_index = true;
    path.push_back(element);
    return path;
  }
};

// Random items of every type, nested, with bytes that need escaping, write
// the same either way.
TEST_F(ItemWriterTest, EncodedItemsWriteAsDecodedItems) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    const std::vector<Item> items = RandomItems(seed, 100);
    EXPECT_EQ(Encoded(items, nullptr), Decoded(items, nullptr)) << seed;
  }
}

// Every byte value, at every place of the 8- and 16-byte groups the string
// escaper checks at once, and strings of every short length, escape as
// rapidjson escapes them, in values, set members and attribute names.
TEST_F(ItemWriterTest, StringsEscapeAsRapidjsonDoes) {
  std::vector<Item> items;
  for (int byte = 0; byte < 256; ++byte) {
    for (size_t length : {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12,
                          13, 14, 15, 16, 17, 23, 31, 32, 33, 47, 48}) {
      for (size_t at = 0; at < length; at += length >= 16 ? 1 : 3) {
        std::string s(length, 'x');
        s[at] = static_cast<char>(byte);
        items.push_back(Item{{s, S(s)},
                             {"set", *AttributeValue::StringSet({s, s + "y"})},
                             {"n", N("1")}});
      }
    }
  }
  EXPECT_EQ(Encoded(items, nullptr), Decoded(items, nullptr));
}

// Binary values and sets are base64 (sets in raw byte order), numbers their
// canonical text.
TEST_F(ItemWriterTest, BinaryIsBase64AndNumbersCanonical) {
  std::vector<Item> items;
  for (size_t length = 0; length < 8; ++length) {
    const std::string bytes(length, '\xfb');
    items.push_back(Item{{"b", AttributeValue::Binary(bytes)},
                         {"bs", *AttributeValue::BinarySet({bytes, "!"})},
                         {"n", N("-0012.500e1")},
                         {"ns", *AttributeValue::NumberSet({"1e2", "-0.5"})}});
  }
  EXPECT_EQ(Encoded(items, nullptr), Decoded(items, nullptr));
  const std::vector<Item> one = {items[4]};
  EXPECT_EQ(Encoded(one, nullptr),
            R"({"Count":1,"Items":[{"b":{"B":"+/v7+w=="},)"
            R"("bs":{"BS":["IQ==","+/v7+w=="]},"n":{"N":"-125"},)"
            R"("ns":{"NS":["-0.5","100"]}}]})");
}

// A projection of whole top-level attributes is applied while walking the
// encoding, with Projection::Apply's result: present names kept in item
// order, absent and repeated names harmless, an empty object when nothing
// matches.
TEST_F(ItemWriterTest, TopLevelProjectionsApplyWhileWriting) {
  std::vector<Item> items = RandomItems(99, 200);
  for (Item& item : items) {
    item["a"] = S("x");
    item["zz"] = AttributeValue::Map({{"k", N("2")}});
  }
  std::vector<std::vector<store::Path>> projections = {
      {Name("a")},
      {Name("zz"), Name("a"), Name("missing")},
      {Name("nothing")},
      {Name("a"), Name("a")},
  };
  // Names the random items have.
  for (const auto& [name, value] : items[0])
    projections.push_back({Name(name)});
  for (const std::vector<store::Path>& paths : projections) {
    const store::Projection projection(paths);
    EXPECT_FALSE(ItemWriter(&projection).needs_decoded());
    EXPECT_EQ(Encoded(items, &projection), Decoded(items, &projection));
  }
}

// Projections into nested values need the decoded item; the output is still
// Projection::Apply's.
TEST_F(ItemWriterTest, NestedProjectionsDecode) {
  Item item{{"l", AttributeValue::List({S("0"), S("1"), S("2")})},
            {"m", AttributeValue::Map({{"k", N("1")}, {"j", N("2")}})},
            {"a", S("x")}};
  store::Path m_k = Name("m");
  m_k.push_back(Name("k")[0]);
  const store::Projection projection({Index(Name("l"), 2), m_k, Name("a")});
  EXPECT_TRUE(ItemWriter(&projection).needs_decoded());
  EXPECT_EQ(Encoded({item}, &projection), Decoded({item}, &projection));
  EXPECT_EQ(Encoded({item}, &projection),
            R"({"Count":1,"Items":[{"a":{"S":"x"},"l":{"L":[{"S":"2"}]},)"
            R"("m":{"M":{"k":{"N":"1"}}}}]})");
}

// Stored bytes that do not decode are an error, not a partial item taken
// for a whole one.
TEST_F(ItemWriterTest, CorruptEncodingIsAnError) {
  const std::string bytes = Encode(Item{{"a", S("xyz")}});
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartArray();
  const ItemWriter writer(nullptr);
  Result<size_t> size =
      writer.WriteEncoded(std::string_view(bytes).substr(0, 5), &w);
  ASSERT_FALSE(size.ok());
  EXPECT_TRUE(size.status().IsCorruption());
}

}  // namespace
}  // namespace eddy::runtime::api
