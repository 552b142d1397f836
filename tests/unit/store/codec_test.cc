// Tests for the key codec (order-preserving key encodings, KeyHash) and the
// item codec (the stored form of items, and VisitItem's walk over it).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "eddy/store/attribute_value.h"
#include "eddy/store/item_codec.h"
#include "eddy/store/key_codec.h"
#include "store_test_util.h"

namespace eddy {
// Prints a Result as its status or "OK" (not its bytes) in failures.
template <typename T>
void PrintTo(const Result<T>& r, std::ostream* os) {
  *os << r.status().ToString();
}
}  // namespace eddy

namespace eddy::store {
namespace {

using namespace std::string_literals;
using ::testing::HasSubstr;

MATCHER(IsOk, "is OK") {
  if (!arg.ok()) *result_listener << arg.status().ToString();
  return arg.ok();
}

MATCHER_P(IsOkAndHolds, expected, "is OK and holds the expected value") {
  if (!arg.ok()) {
    *result_listener << arg.status().ToString();
    return false;
  }
  return *arg == expected;
}

MATCHER(IsCorruption, "is a Corruption error") {
  if (arg.ok()) {
    *result_listener << "is OK";
    return false;
  }
  *result_listener << arg.status().ToString();
  return arg.status().IsCorruption();
}

AttributeValue S(std::string s) { return AttributeValue::String(std::move(s)); }
AttributeValue B(std::string b) { return AttributeValue::Binary(std::move(b)); }
AttributeValue N(std::string_view text) {
  Result<Number> n = Number::Parse(text);
  EXPECT_THAT(n, IsOk()) << text;
  return AttributeValue::Num(n.ok() ? *n : Number());
}

std::string RandomBytes(std::mt19937_64& rng, size_t max_len) {
  // Bias towards the bytes the escaping treats specially.
  static constexpr char kInteresting[] = {'\x00', '\x01', '\xff', 'a', 'b'};
  std::string s(rng() % (max_len + 1), '\0');
  for (char& c : s) {
    c = rng() % 2 == 0 ? kInteresting[rng() % sizeof(kInteresting)]
                       : static_cast<char>(rng());
  }
  return s;
}

// ---------------------------------------------------------------------------
// Key codec.

class KeyCodecTest : public ::testing::Test {
 protected:
  static std::string Encode(const AttributeValue& v) {
    std::string out;
    AppendKeyValue(v, &out);
    return out;
  }

  // Decodes one value of `type` from the front of *in.
  static AttributeValue Decode(ValueType type, std::string_view* in) {
    Result<AttributeValue> v = DecodeKeyValue(type, in);
    EXPECT_THAT(v, IsOk());
    return v.ok() ? *v : AttributeValue();
  }

  static void ExpectRoundTrip(const AttributeValue& v) {
    const std::string bytes = Encode(v);
    std::string_view in = bytes;
    EXPECT_EQ(Decode(v.type(), &in), v);
    EXPECT_TRUE(in.empty());
  }

  // DynamoDB's order for one key type: bytes for S and B, numeric for N.
  static int KeyCompare(const AttributeValue& a, const AttributeValue& b) {
    if (a.type() == ValueType::kN) return a.AsNumber().Compare(b.AsNumber());
    const int c = a.scalar().compare(b.scalar());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }

  // Sorting by encoding gives DynamoDB's order.
  static void ExpectOrderPreserved(const std::vector<AttributeValue>& values) {
    std::vector<std::pair<std::string, AttributeValue>> encoded;
    for (const AttributeValue& v : values) encoded.emplace_back(Encode(v), v);
    std::sort(encoded.begin(), encoded.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t i = 1; i < encoded.size(); ++i) {
      const int c = KeyCompare(encoded[i - 1].second, encoded[i].second);
      ASSERT_LE(c, 0) << i;
      ASSERT_EQ(c == 0, encoded[i - 1].first == encoded[i].first) << i;
    }
  }
};

// S and B values with embedded 0x00, 0x01 and 0xFF bytes round-trip.
TEST_F(KeyCodecTest, BytesRoundTrip) {
  for (const std::string& s :
       {std::string(), std::string("a"), std::string("\0", 1),
        std::string("\0\0", 2), std::string("a\0\x01\xff", 4),
        std::string("\xff\x00", 2), std::string(1000, 'x')}) {
    ExpectRoundTrip(S(s));
    ExpectRoundTrip(B(s));
  }
}

// Numbers round-trip through their ordered encoding.
TEST_F(KeyCodecTest, NumbersRoundTrip) {
  for (const char* text : {"0", "1", "-1", "12.5", "-0.001", "1e125", "-1e-130",
                           "12345678901234567890123456789012345678"}) {
    ExpectRoundTrip(N(text));
  }
}

// The S/B format is pinned: it is persisted in LevelDB keys.
TEST_F(KeyCodecTest, BytesEncodingIsStable) {
  EXPECT_EQ(Encode(S("")), std::string("\0\x01", 2));
  EXPECT_EQ(Encode(S("ab")), std::string("ab\0\x01", 4));
  EXPECT_EQ(Encode(B(std::string("a\0b", 3))), std::string("a\0\xff"
                                                           "b\0\x01",
                                                           6));
}

// Random strings sort by encoding exactly as by unsigned bytes.
TEST_F(KeyCodecTest, StringOrderIsBytewise) {
  std::mt19937_64 rng(1);
  std::vector<AttributeValue> strings;
  std::vector<AttributeValue> binaries;
  for (int i = 0; i < 3000; ++i) {
    std::string s = RandomBytes(rng, 6);
    strings.push_back(S(s));
    binaries.push_back(B(std::move(s)));
  }
  ExpectOrderPreserved(strings);
  ExpectOrderPreserved(binaries);
  // The classic traps of escaping schemes.
  ExpectOrderPreserved({S(""), S(std::string("\0", 1)), S("\x01"),
                        S(std::string("a\0", 2)), S("a"), S("a\x01"),
                        S("a\xff"), S(std::string("\0\xff", 2))});
}

// Random numbers sort by encoding exactly as numerically.
TEST_F(KeyCodecTest, NumberOrderIsNumeric) {
  std::mt19937_64 rng(2);
  std::vector<AttributeValue> numbers;
  for (int i = 0; i < 3000; ++i) {
    std::string text = (rng() % 2 ? "-" : "") + std::to_string(rng() % 1000) +
                       "." + std::to_string(rng() % 1000) + "e" +
                       std::to_string(static_cast<int>(rng() % 20) - 10);
    numbers.push_back(N(text));
  }
  ExpectOrderPreserved(numbers);
}

// enc(pk) + enc(sk) sorts by pk, then by sk: no pk encoding is a prefix of
// another, so sort keys can never reorder partitions.
TEST_F(KeyCodecTest, ConcatenatedKeysSortByPartitionThenSort) {
  std::mt19937_64 rng(3);
  struct Key {
    AttributeValue pk;
    AttributeValue sk;
    std::string encoded;
  };
  std::vector<Key> keys;
  for (int i = 0; i < 3000; ++i) {
    Key k{B(RandomBytes(rng, 3)),
          N(std::to_string(static_cast<int>(rng() % 200) - 100)), ""};
    AppendKeyValue(k.pk, &k.encoded);
    AppendKeyValue(k.sk, &k.encoded);
    keys.push_back(std::move(k));
  }
  std::sort(keys.begin(), keys.end(),
            [](const Key& a, const Key& b) { return a.encoded < b.encoded; });
  for (size_t i = 1; i < keys.size(); ++i) {
    const int pk = KeyCompare(keys[i - 1].pk, keys[i].pk);
    ASSERT_LE(pk, 0);
    if (pk == 0) {
      ASSERT_LE(KeyCompare(keys[i - 1].sk, keys[i].sk), 0);
    }
  }
}

// A partition's encoded prefix never matches another partition's key.
TEST_F(KeyCodecTest, NoEncodingIsAPrefixOfAnother) {
  std::mt19937_64 rng(4);
  std::vector<std::string> encodings;
  for (int i = 0; i < 400; ++i)
    encodings.push_back(Encode(B(RandomBytes(rng, 3))));
  for (const char* text : {"0", "1", "10", "100", "-1", "-10", "0.1", "1.1"}) {
    encodings.push_back(Encode(N(text)));
  }
  for (const std::string& a : encodings) {
    for (const std::string& b : encodings) {
      if (a.size() < b.size()) {
        EXPECT_NE(b.compare(0, a.size(), a), 0);
      }
    }
  }
}

// Decoding consumes exactly one value, so keys decode field by field.
TEST_F(KeyCodecTest, DecodeAdvancesPastOneValue) {
  std::string bytes;
  AppendKeyValue(S(std::string("p\0k", 3)), &bytes);
  AppendKeyValue(N("-7.25"), &bytes);
  AppendKeyValue(B("sk"), &bytes);
  std::string_view in = bytes;
  EXPECT_EQ(Decode(ValueType::kS, &in), S(std::string("p\0k", 3)));
  EXPECT_EQ(Decode(ValueType::kN, &in), N("-7.25"));
  EXPECT_EQ(Decode(ValueType::kB, &in), B("sk"));
  EXPECT_TRUE(in.empty());
}

// Malformed key bytes are Corruption and leave the input untouched.
TEST_F(KeyCodecTest, DecodeRejectsMalformedBytes) {
  for (const std::string& bytes :
       {std::string(), std::string("abc"), std::string("abc\0", 4),
        std::string("a\0\x02", 3), std::string("a\0\xff", 3)}) {
    std::string_view in = bytes;
    EXPECT_THAT(DecodeKeyValue(ValueType::kS, &in), IsCorruption());
    EXPECT_EQ(in.size(), bytes.size());
  }
  std::string_view in = "\x09";
  EXPECT_THAT(DecodeKeyValue(ValueType::kN, &in), IsCorruption());
}

// Only S, N and B are key types.
TEST_F(KeyCodecTest, NonKeyTypesAreRejected) {
  EXPECT_TRUE(IsKeyType(ValueType::kS));
  EXPECT_TRUE(IsKeyType(ValueType::kN));
  EXPECT_TRUE(IsKeyType(ValueType::kB));
  for (ValueType t :
       {ValueType::kBOOL, ValueType::kNULL, ValueType::kM, ValueType::kL,
        ValueType::kSS, ValueType::kNS, ValueType::kBS}) {
    EXPECT_FALSE(IsKeyType(t));
    std::string_view in = std::string_view("a\0\x01", 3);
    Result<AttributeValue> v = DecodeKeyValue(t, &in);
    ASSERT_FALSE(v.ok());
    EXPECT_TRUE(v.status().IsInvalidArgument());
  }
}

// KeyHash is MurmurHash3_x86_32 with seed 0: published test vectors pin it
// across platforms and releases.
TEST_F(KeyCodecTest, KeyHashMatchesMurmur3Vectors) {
  EXPECT_EQ(KeyHash(""), 0u);
  EXPECT_EQ(KeyHash("test"), 0xba6bd213u);
  EXPECT_EQ(KeyHash("Hello, world!"), 0xc0363e43u);
  EXPECT_EQ(KeyHash("The quick brown fox jumps over the lazy dog"),
            0x2e4ff723u);
  EXPECT_EQ(KeyHash(std::string("\0\0\0\0", 4)), 0x2362f9deu);
}

// Hashes of similar keys spread over shards.
TEST_F(KeyCodecTest, KeyHashSpreadsSimilarKeys) {
  constexpr int kShards = 16;
  std::vector<int> counts(kShards);
  for (int i = 0; i < 16000; ++i) {
    ++counts[KeyHash(Encode(S("user#" + std::to_string(i)))) % kShards];
  }
  for (int c : counts) {
    EXPECT_GT(c, 800);
    EXPECT_LT(c, 1200);
  }
}

// ---------------------------------------------------------------------------
// Item codec.

class ItemCodecTest : public ::testing::Test {
 protected:
  static std::string Encode(const Item& item) {
    std::string out;
    EncodeItem(item, &out);
    return out;
  }

  // `encoded` (EncodeItem's output) in the first format: version 1 and no
  // size (the size varint dropped).
  static std::string Unsized(const std::string& encoded) {
    size_t body = 1;
    while (static_cast<uint8_t>(encoded[body]) >= 0x80) ++body;
    return "\x01" + encoded.substr(body + 1);
  }

  static void ExpectRoundTrip(const Item& item) {
    const std::string bytes = Encode(item);
    Result<Item> decoded = DecodeItem(bytes);
    ASSERT_THAT(decoded, IsOk());
    EXPECT_EQ(*decoded, item);
    EXPECT_EQ(Encode(*decoded), bytes);
  }

  // One attribute of each of the ten types, nested ones included.
  static Item AllTypes() {
    Item item;
    item["s"] = S("h\xc3\xa9llo");
    item["n"] = N("-12.5e-3");
    item["b"] = B(std::string("\0\x01\xff", 3));
    item["bool"] = AttributeValue::Bool(true);
    item["false"] = AttributeValue::Bool(false);
    item["null"] = AttributeValue::Null();
    item["m"] = AttributeValue::Map({{"x", N("1")}, {"", S("")}});
    item["l"] =
        AttributeValue::List({S("a"), N("2"), AttributeValue::List({})});
    item["ss"] = *AttributeValue::StringSet({"z", "a"});
    item["ns"] = *AttributeValue::NumberSet({"3", "-1", "1e100"});
    item["bs"] = *AttributeValue::BinarySet({std::string("\0", 1), "q"});
    item["empty_m"] = AttributeValue::Map({});
    item[""] = S("empty name");
    return item;
  }

  // `levels` of maps and lists, alternating, around a scalar.
  static AttributeValue Nested(int levels) {
    AttributeValue v = N("42");
    for (int i = 1; i < levels; ++i) {
      v = i % 2 == 0 ? AttributeValue::List({std::move(v), S("x")})
                     : AttributeValue::Map({{"k", std::move(v)}});
    }
    return v;
  }

  // Nested lists `levels` deep as raw bytes: no encoder would produce
  // anything deeper than kMaxItemCodecDepth.
  static std::string DeepListBytes(int levels) {
    std::string bytes =
        "\x01\x01\x01"
        "a";  // Version, 1 attribute, "a".
    for (int i = 1; i < levels; ++i) bytes += "\x06\x01";  // L of 1.
    bytes += "\x04";                                       // NULL.
    return bytes;
  }
};

// All ten types round-trip, and re-encoding gives the same bytes.
TEST_F(ItemCodecTest, AllTypesRoundTrip) {
  ExpectRoundTrip(AllTypes());
  ExpectRoundTrip(Item{});
  ExpectRoundTrip({{"pk", S("only")}});
}

// Items nested to DynamoDB's limit and far beyond round-trip.
TEST_F(ItemCodecTest, DeeplyNestedItemsRoundTrip) {
  ExpectRoundTrip({{"deep", Nested(32)}, {"pk", S("k")}});
  ExpectRoundTrip({{"deeper", Nested(kMaxItemCodecDepth)}});
}

// Lengths beyond one varint byte round-trip.
TEST_F(ItemCodecTest, LargeValuesRoundTrip) {
  Item item;
  item[std::string(300, 'n')] = S(std::string(200000, 'v'));
  AttributeList list(1000, N("1"));
  item["list"] = AttributeValue::List(std::move(list));
  std::vector<std::string> members;
  for (int i = 0; i < 500; ++i) members.push_back(std::to_string(i));
  item["ns"] = *AttributeValue::NumberSet(members);
  ExpectRoundTrip(item);
}

// The body of the item {a: "b", n: 1} (both formats): 2 attributes, "a" S
// "b", "n" N "1".
const std::string kBodyAbN1 = std::string(
    "\x02"
    "\x01"
    "a"
    "\x00\x01"
    "b"
    "\x01"
    "n"
    "\x01\x01"
    "1",
    11);

// The format is pinned: it is what every stored item looks like. The
// header holds the item's DynamoDB size ("a"+"b" 2, "n" 1 + 1 for the
// number 1: 5; "x" 1 + "p" 1 + "q" 1: 3).
TEST_F(ItemCodecTest, EncodingIsStable) {
  EXPECT_EQ(Encode({}), std::string("\x02\x00\x00", 3));
  EXPECT_EQ(Encode({{"a", S("b")}, {"n", N("1.0")}}),
            std::string("\x02\x05", 2) + kBodyAbN1);
  EXPECT_EQ(Encode({{"x", *AttributeValue::StringSet({"q", "p"})}}),
            std::string("\x02\x03\x01\x01"
                        "x"
                        "\x07\x02\x01"
                        "p"
                        "\x01"
                        "q",
                        11));
}

// Items stored in the first format (version 1, no size) still decode, to
// the same item, and their size is walked.
TEST_F(ItemCodecTest, UnsizedFormatStillDecodes) {
  const std::string v1 = "\x01" + kBodyAbN1;
  const Item item = {{"a", S("b")}, {"n", N("1")}};
  Result<Item> decoded = DecodeItem(v1);
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(*decoded, item);
  EXPECT_THAT(StoredItemSize(v1), IsOkAndHolds(ItemSize(item)));
  for (const Item& other : {AllTypes(), Item{}, Item{{"deep", Nested(32)}}}) {
    const std::string unsized = Unsized(Encode(other));
    ASSERT_THAT(DecodeItem(unsized), IsOkAndHolds(other));
    EXPECT_THAT(StoredItemSize(unsized), IsOkAndHolds(ItemSize(other)));
  }
}

// A recorded size that is not the item's is corruption for every reader
// that walks the item; StoredItemSize trusts it (it reads only the header).
TEST_F(ItemCodecTest, WrongStoredSizeIsCorruption) {
  const std::string good = Encode({{"a", S("b")}});  // Size 2.
  ASSERT_EQ(good.substr(0, 2), std::string("\x02\x02", 2));
  std::string bad = good;
  bad[1] = '\x03';
  EXPECT_THAT(DecodeItem(bad), IsCorruption());
  EXPECT_EQ(DecodeItem(bad).status().message(), "item: wrong item size");
  EXPECT_THAT(VisitItem(bad, nullptr), IsCorruption());
  EXPECT_THAT(StoredItemSize(bad), IsOkAndHolds(3u));
  // A header without its size is rejected by all of them.
  EXPECT_THAT(StoredItemSize(std::string("\x02", 1)), IsCorruption());
  EXPECT_THAT(StoredItemSize(std::string("\x02\x80", 2)), IsCorruption());
  EXPECT_THAT(StoredItemSize(""), IsCorruption());
  EXPECT_THAT(StoredItemSize(std::string("\x03\x00", 2)), IsCorruption());
}

// Every strict prefix of a valid encoding is rejected.
TEST_F(ItemCodecTest, TruncatedInputIsCorruption) {
  const std::string bytes = Encode(AllTypes());
  for (size_t len = 0; len < bytes.size(); ++len) {
    EXPECT_THAT(DecodeItem(std::string_view(bytes.data(), len)), IsCorruption())
        << len;
  }
}

// Bytes after the item are rejected.
TEST_F(ItemCodecTest, TrailingBytesAreCorruption) {
  EXPECT_THAT(DecodeItem(Encode(AllTypes()) + "x"), IsCorruption());
}

// Hand-made encodings that break an AttributeValue invariant are rejected.
TEST_F(ItemCodecTest, BrokenInvariantsAreCorruption) {
  // Each case names the check that must catch it, so a miscounted test
  // input cannot pass as a mere truncation.
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"\x03\x00"s, "unknown format version"},
      {"\x01\x01\x01"
       "a"
       "\x0a"s,
       "unknown type tag"},
      {"\x01\x01\x01"
       "a"
       "\x03\x02"s,
       "bad boolean"},
      {"\x01\x01\x01"
       "a"
       "\x01\x03"
       "1.0"s,
       "bad number"},
      {"\x01\x01\x01"
       "a"
       "\x01\x03"
       "dog"s,
       "bad number"},
      {"\x01\x01\x01"
       "a"
       "\x01\x00"s,
       "bad number"},
      {"\x01\x01\x01"
       "a"
       "\x07\x00"s,
       "bad set size"},
      {"\x01\x01\x01"
       "a"
       "\x07\x02\x01"
       "q"
       "\x01"
       "p"s,
       "set members not sorted"},
      {"\x01\x01\x01"
       "a"
       "\x09\x02\x01"
       "p"
       "\x01"
       "p"s,
       "set members not sorted"},
      {"\x01\x01\x01"
       "a"
       "\x08\x01\x02"
       "+1"s,
       "bad number in set"},
      {"\x01\x02\x01"
       "b"
       "\x04\x01"
       "a"
       "\x04"s,
       "map keys not sorted"},
      {"\x01\x02\x01"
       "a"
       "\x04\x01"
       "a"
       "\x04"s,
       "map keys not sorted"},
      {"\x01\x01\x01"
       "m"
       "\x05\x02\x01"
       "b"
       "\x04\x01"
       "a"
       "\x04"s,
       "map keys not sorted"},
  };
  for (const auto& [bytes, reason] : bad) {
    Result<Item> item = DecodeItem(bytes);
    EXPECT_THAT(item, IsCorruption()) << ::testing::PrintToString(bytes);
    if (!item.ok()) {
      EXPECT_THAT(item.status().message(), HasSubstr(reason));
    }
  }
}

// Counts and lengths larger than the input are rejected before anything is
// allocated for them.
TEST_F(ItemCodecTest, HugeCountsAreCorruption) {
  const std::vector<std::string> bad = {
      // 2^63 attributes.
      "\x01\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01"s,
      // A 2^35-byte name.
      "\x01\x01\x80\x80\x80\x80\x80\x01"s,
      // A list of 2^32 elements.
      "\x01\x01\x01"
      "a"
      "\x06\x80\x80\x80\x80\x10"s,
      // A string set of 2^28 members.
      "\x01\x01\x01"
      "a"
      "\x07\x80\x80\x80\x80\x01"s,
      // An 11-byte varint (overlong) and a 10-byte one overflowing 64 bits.
      "\x01\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00"s,
      "\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f"s,
  };
  for (const std::string& bytes : bad) {
    EXPECT_THAT(DecodeItem(bytes), IsCorruption())
        << ::testing::PrintToString(bytes);
  }
}

// Nesting beyond kMaxItemCodecDepth is rejected without exhausting the
// stack, however deep the input claims to go.
TEST_F(ItemCodecTest, ExcessiveNestingIsCorruption) {
  EXPECT_THAT(DecodeItem(DeepListBytes(kMaxItemCodecDepth)), IsOk());
  EXPECT_THAT(DecodeItem(DeepListBytes(kMaxItemCodecDepth + 1)),
              IsCorruption());
  EXPECT_THAT(DecodeItem(DeepListBytes(200000)), IsCorruption());
}

// Random garbage never crashes the decoder (run under ASan in CI).
TEST_F(ItemCodecTest, RandomBytesNeverCrash) {
  std::mt19937_64 rng(5);
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = RandomBytes(rng, 64);
    if (!bytes.empty() && rng() % 2 == 0) bytes[0] = '\x01';
    Result<Item> item = DecodeItem(bytes);
    if (!item.ok()) {
      EXPECT_TRUE(item.status().IsCorruption());
    }
  }
}

// Corrupting single bytes of a valid encoding either fails cleanly or
// yields an item that round-trips (it is still a valid item).
TEST_F(ItemCodecTest, MutatedEncodingsFailCleanlyOrRoundTrip) {
  std::mt19937_64 rng(6);
  Item base = AllTypes();
  base["deep"] = Nested(10);
  const std::string bytes = Encode(base);
  int decoded = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string mutated = bytes;
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int f = 0; f < flips; ++f) {
      mutated[rng() % mutated.size()] = static_cast<char>(rng());
    }
    Result<Item> item = DecodeItem(mutated);
    if (!item.ok()) {
      EXPECT_TRUE(item.status().IsCorruption());
      continue;
    }
    ++decoded;
    Result<Item> again = DecodeItem(Encode(*item));
    ASSERT_THAT(again, IsOk());
    EXPECT_EQ(*again, *item);
  }
  // Some mutations (inside string payloads) must still decode.
  EXPECT_GT(decoded, 0);
}

// ---------------------------------------------------------------------------
// VisitItem: walking the stored form without decoding it.

// Rebuilds the item from VisitItem's callbacks, so that a test can compare
// it with the item encoded; optionally skips the item's attributes named in
// `skip`.
class ItemRebuilder final : public ItemVisitor {
 public:
  explicit ItemRebuilder(std::set<std::string> skip = {})
      : skip_(std::move(skip)) {}

  Item TakeItem() { return std::move(item_); }

  bool Name(std::string_view name) override {
    if (open_.empty() && skip_.count(std::string(name)) > 0) return false;
    name_ = std::string(name);
    return true;
  }
  void Scalar(ValueType type, std::string_view bytes) override {
    switch (type) {
      case ValueType::kS:
        return Add(AttributeValue::String(std::string(bytes)));
      case ValueType::kN:
        return Add(AttributeValue::NumFromCanonical(std::string(bytes)));
      case ValueType::kB:
        return Add(AttributeValue::Binary(std::string(bytes)));
      default:
        ADD_FAILURE() << "Scalar with type " << ValueTypeName(type);
    }
  }
  void Bool(bool value) override { Add(AttributeValue::Bool(value)); }
  void Null() override { Add(AttributeValue::Null()); }
  void BeginMap(size_t count) override { Open(AttributeValue::Map({}), count); }
  void EndMap() override { Close(); }
  void BeginList(size_t count) override {
    Open(AttributeValue::List({}), count);
  }
  void EndList() override { Close(); }
  void BeginSet(ValueType type, size_t count) override {
    set_type_ = type;
    set_count_ = count;
    members_.clear();
  }
  void SetMember(std::string_view member) override {
    members_.emplace_back(member);
  }
  void EndSet() override {
    EXPECT_EQ(members_.size(), set_count_);
    Add(AttributeValue::SetFromSorted(set_type_, std::move(members_)));
    members_.clear();
  }

 private:
  struct Container {
    AttributeValue value;
    std::string name;  // Its name in the enclosing map, if any.
    size_t count;      // What Begin announced.
  };

  // Adds a finished value to the innermost open M or L, or to the item.
  void Add(AttributeValue value) {
    if (open_.empty()) {
      item_.emplace(name_, std::move(value));
    } else if (open_.back().value.type() == ValueType::kM) {
      open_.back().value.mutable_map().emplace(name_, std::move(value));
    } else {
      open_.back().value.mutable_list().push_back(std::move(value));
    }
  }
  void Open(AttributeValue container, size_t count) {
    open_.push_back(Container{std::move(container), name_, count});
  }
  void Close() {
    Container done = std::move(open_.back());
    open_.pop_back();
    const size_t size = done.value.type() == ValueType::kM
                            ? done.value.map().size()
                            : done.value.list().size();
    EXPECT_EQ(size, done.count);
    name_ = done.name;
    Add(std::move(done.value));
  }

  std::set<std::string> skip_;
  Item item_;
  std::vector<Container> open_;
  std::string name_;
  ValueType set_type_ = ValueType::kSS;
  size_t set_count_ = 0;
  std::vector<std::string> members_;
};

class ItemVisitorTest : public ItemCodecTest {
 protected:
  // Varied items: every type, nested maps and lists, sets, the edges of
  // numbers, bytes JSON escapes.
  static std::vector<Item> VariedItems() {
    std::vector<Item> items = {AllTypes(), Item{}, {{"deep", Nested(32)}}};
    std::mt19937_64 rng(7);
    for (int i = 0; i < 2000; ++i) items.push_back(testing::RandomItem(rng));
    return items;
  }
};

// The size VisitItem computes from the encoding is ItemSize of the item,
// for items of every shape (this is what Query and Scan charge and what
// ends their pages).
TEST_F(ItemVisitorTest, SizeIsItemSize) {
  for (const Item& item : VariedItems()) {
    const std::string encoded = Encode(item);
    EXPECT_THAT(VisitItem(encoded, nullptr), IsOkAndHolds(ItemSize(item)));
    EXPECT_THAT(StoredItemSize(encoded), IsOkAndHolds(ItemSize(item)));
    EXPECT_THAT(StoredItemSize(Unsized(encoded)), IsOkAndHolds(ItemSize(item)));
  }
}

// The callbacks describe exactly the item encoded, names and set members in
// order, counts as announced.
TEST_F(ItemVisitorTest, CallbacksDescribeTheItem) {
  for (const Item& item : VariedItems()) {
    ItemRebuilder rebuilder;
    Result<size_t> size = VisitItem(Encode(item), &rebuilder);
    ASSERT_THAT(size, IsOk());
    EXPECT_EQ(*size, ItemSize(item));
    EXPECT_EQ(rebuilder.TakeItem(), item);
  }
}

// A value whose name the visitor declines is not visited, but still counts
// in the size.
TEST_F(ItemVisitorTest, SkippedValuesCountButAreNotVisited) {
  const Item item = AllTypes();
  ItemRebuilder rebuilder({"m", "l", "ss", "s"});
  Result<size_t> size = VisitItem(Encode(item), &rebuilder);
  ASSERT_THAT(size, IsOk());
  EXPECT_EQ(*size, ItemSize(item));
  Item expected = item;
  for (const char* name : {"m", "l", "ss", "s"}) expected.erase(name);
  EXPECT_EQ(rebuilder.TakeItem(), expected);
}

// VisitItem fails exactly where DecodeItem does, with the same message:
// hand-made faults, every truncation, and random corruption.
TEST_F(ItemVisitorTest, RejectsWhatDecodeItemRejects) {
  auto expect_same = [](std::string_view bytes) {
    Result<Item> decoded = DecodeItem(bytes);
    Result<size_t> walked = VisitItem(bytes, nullptr);
    ASSERT_EQ(walked.ok(), decoded.ok()) << ::testing::PrintToString(bytes);
    if (decoded.ok()) {
      EXPECT_EQ(*walked, ItemSize(*decoded));
    } else {
      EXPECT_EQ(walked.status().ToString(), decoded.status().ToString());
    }
  };
  for (const std::string& bytes :
       {"\x03\x00"s,
        "\x01\x01\x01"
        "a"
        "\x0a"s,
        "\x01\x01\x01"
        "a"
        "\x03\x02"s,
        "\x01\x01\x01"
        "a"
        "\x01\x03"
        "1.0"s,
        "\x01\x01\x01"
        "a"
        "\x07\x00"s,
        "\x01\x01\x01"
        "a"
        "\x07\x02\x01"
        "q"
        "\x01"
        "p"s,
        "\x01\x01\x01"
        "a"
        "\x08\x01\x02"
        "+1"s,
        "\x01\x02\x01"
        "b"
        "\x04\x01"
        "a"
        "\x04"s,
        "\x01\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01"s, ""s,
        Encode(AllTypes()) + "x", DeepListBytes(kMaxItemCodecDepth),
        DeepListBytes(kMaxItemCodecDepth + 1)}) {
    expect_same(bytes);
  }
  const std::string bytes = Encode(AllTypes());
  for (size_t len = 0; len < bytes.size(); ++len) {
    expect_same(std::string_view(bytes.data(), len));
  }
  std::mt19937_64 rng(8);
  Item base = AllTypes();
  base["deep"] = Nested(10);
  const std::string valid = Encode(base);
  for (int i = 0; i < 20000; ++i) {
    std::string mutated = valid;
    for (int f = 1 + static_cast<int>(rng() % 3); f > 0; --f) {
      mutated[rng() % mutated.size()] = static_cast<char>(rng());
    }
    expect_same(mutated);
  }
}

// A page's worth of encoded items stays apart, in order.
TEST_F(ItemVisitorTest, EncodedItemsKeepsItemsApart) {
  EncodedItems items;
  EXPECT_TRUE(items.empty());
  std::vector<std::string> encodings;
  for (const Item& item : VariedItems()) {
    encodings.push_back(Encode(item));
    items.Append(encodings.back());
  }
  ASSERT_EQ(items.size(), encodings.size());
  for (size_t i = 0; i < encodings.size(); ++i) {
    EXPECT_EQ(items[i], encodings[i]) << i;
  }
}

}  // namespace
}  // namespace eddy::store
