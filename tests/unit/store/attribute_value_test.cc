// Tests for eddy::store::AttributeValue: factories and their invariants,
// DynamoDB's set errors, equality, the item size formula and depth.

#include "eddy/store/attribute_value.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <random>
#include <string>
#include <vector>

namespace eddy {
// Prints a Result as its status or "OK" (not its bytes) in failures.
template <typename T>
void PrintTo(const Result<T>& r, std::ostream* os) {
  *os << r.status().ToString();
}
}  // namespace eddy

namespace eddy::store {
namespace {

using ::testing::ElementsAre;

MATCHER(IsOk, "is OK") {
  if (!arg.ok()) *result_listener << arg.status().ToString();
  return arg.ok();
}

MATCHER_P(FailsWith, message, "fails with \"" + std::string(message) + "\"") {
  if (arg.ok()) {
    *result_listener << "is OK";
    return false;
  }
  *result_listener << arg.status().ToString();
  return arg.status().IsInvalidArgument() && arg.status().message() == message;
}

class AttributeValueTest : public ::testing::Test {
 protected:
  static AttributeValue S(std::string s) {
    return AttributeValue::String(std::move(s));
  }
  static AttributeValue N(std::string_view text) {
    Result<Number> n = Number::Parse(text);
    EXPECT_THAT(n, IsOk()) << text;
    return AttributeValue::Num(n.ok() ? *n : Number());
  }
  static AttributeValue B(std::string bytes) {
    return AttributeValue::Binary(std::move(bytes));
  }
  static AttributeValue SS(std::vector<std::string> members) {
    Result<AttributeValue> v = AttributeValue::StringSet(std::move(members));
    EXPECT_THAT(v, IsOk());
    return v.ok() ? *v : AttributeValue();
  }
  static AttributeValue NS(const std::vector<std::string>& members) {
    Result<AttributeValue> v = AttributeValue::NumberSet(members);
    EXPECT_THAT(v, IsOk());
    return v.ok() ? *v : AttributeValue();
  }
  static AttributeValue BS(std::vector<std::string> members) {
    Result<AttributeValue> v = AttributeValue::BinarySet(std::move(members));
    EXPECT_THAT(v, IsOk());
    return v.ok() ? *v : AttributeValue();
  }
  static AttributeValue M(AttributeMap m) {
    return AttributeValue::Map(std::move(m));
  }
  static AttributeValue L(AttributeList l) {
    return AttributeValue::List(std::move(l));
  }

  // A value nested `levels` deep: maps and lists alternating around a
  // scalar.
  static AttributeValue Nested(int levels) {
    AttributeValue v = S("leaf");
    for (int i = 1; i < levels; ++i) {
      v = i % 2 == 0 ? L({std::move(v)}) : M({{"k", std::move(v)}});
    }
    return v;
  }
};

constexpr char kDuplicatesPrefix[] =
    "One or more parameter values were invalid: Input collection [";

// Type names are DynamoDB's JSON keys.
TEST_F(AttributeValueTest, TypeNamesMatchDynamoDb) {
  EXPECT_EQ(ValueTypeName(ValueType::kS), "S");
  EXPECT_EQ(ValueTypeName(ValueType::kN), "N");
  EXPECT_EQ(ValueTypeName(ValueType::kB), "B");
  EXPECT_EQ(ValueTypeName(ValueType::kBOOL), "BOOL");
  EXPECT_EQ(ValueTypeName(ValueType::kNULL), "NULL");
  EXPECT_EQ(ValueTypeName(ValueType::kM), "M");
  EXPECT_EQ(ValueTypeName(ValueType::kL), "L");
  EXPECT_EQ(ValueTypeName(ValueType::kSS), "SS");
  EXPECT_EQ(ValueTypeName(ValueType::kNS), "NS");
  EXPECT_EQ(ValueTypeName(ValueType::kBS), "BS");
}

// A default-constructed value is NULL, equal to Null().
TEST_F(AttributeValueTest, DefaultIsNull) {
  EXPECT_EQ(AttributeValue().type(), ValueType::kNULL);
  EXPECT_EQ(AttributeValue(), AttributeValue::Null());
  EXPECT_FALSE(AttributeValue().IsSet());
}

// Each factory sets its type and payload.
TEST_F(AttributeValueTest, FactoriesSetTypeAndPayload) {
  EXPECT_EQ(S("x").type(), ValueType::kS);
  EXPECT_EQ(S("x").scalar(), "x");
  EXPECT_EQ(B(std::string("\0\xff", 2)).scalar(), std::string("\0\xff", 2));
  EXPECT_EQ(B("").type(), ValueType::kB);
  EXPECT_TRUE(AttributeValue::Bool(true).boolean());
  EXPECT_FALSE(AttributeValue::Bool(false).boolean());
  EXPECT_EQ(M({{"a", S("b")}}).map().at("a"), S("b"));
  EXPECT_THAT(L({S("a"), N("1")}).list(), ElementsAre(S("a"), N("1")));
  EXPECT_TRUE(SS({"a"}).IsSet());
  EXPECT_TRUE(NS({"1"}).IsSet());
  EXPECT_TRUE(BS({"a"}).IsSet());
}

// N values hold canonical text and convert back to the same Number.
TEST_F(AttributeValueTest, NumbersHoldCanonicalText) {
  EXPECT_EQ(N("1.0").scalar(), "1");
  EXPECT_EQ(N("-0").scalar(), "0");
  EXPECT_EQ(N("1e3").scalar(), "1000");
  EXPECT_EQ(N("-12.50").AsNumber().ToString(), "-12.5");
  EXPECT_EQ(AttributeValue::NumFromCanonical("0.25"), N(".25"));
}

// Equality is DynamoDB's: normalised numbers, unordered sets and maps, but
// ordered lists and distinct types.
TEST_F(AttributeValueTest, EqualityIsDynamoDbEquality) {
  EXPECT_EQ(N("1"), N("1.00"));
  EXPECT_NE(N("1"), S("1"));
  EXPECT_NE(S("1"), B("1"));
  EXPECT_NE(AttributeValue::Bool(true), AttributeValue::Bool(false));
  EXPECT_EQ(SS({"a", "b"}), SS({"b", "a"}));
  EXPECT_EQ(NS({"1", "2.0"}), NS({"2", "1"}));
  EXPECT_NE(SS({"1"}), NS({"1"}));
  EXPECT_EQ(M({{"a", N("1")}, {"b", S("x")}}),
            M({{"b", S("x")}, {"a", N("1.0")}}));
  EXPECT_NE(M({{"a", N("1")}}), M({{"a", N("2")}}));
  EXPECT_NE(M({{"a", N("1")}}), M({{"b", N("1")}}));
  EXPECT_EQ(L({S("a"), S("b")}), L({S("a"), S("b")}));
  EXPECT_NE(L({S("a"), S("b")}), L({S("b"), S("a")}));
  EXPECT_NE(L({}), M({}));
  EXPECT_EQ(L({}), L({}));
}

// Sets are kept sorted bytewise by canonical member text.
TEST_F(AttributeValueTest, SetsAreSortedBytewise) {
  EXPECT_THAT(SS({"b", "a", "B", "\xc3\xa9", ""}).set(),
              ElementsAre("", "B", "a", "b", "\xc3\xa9"));
  // Bytewise, not numerically: "-1" < "10" < "9".
  EXPECT_THAT(NS({"10", "9", "-1", "1.50"}).set(),
              ElementsAre("-1", "1.5", "10", "9"));
  EXPECT_THAT(BS({std::string("\xff", 1), std::string("\0", 1), "a"}).set(),
              ElementsAre(std::string("\0", 1), "a", std::string("\xff", 1)));
}

// Empty sets fail with DynamoDB's text, double space included.
TEST_F(AttributeValueTest, EmptySetsAreRejected) {
  EXPECT_THAT(AttributeValue::StringSet({}),
              FailsWith("One or more parameter values were invalid: An string "
                        "set  may not be empty"));
  EXPECT_THAT(AttributeValue::NumberSet({}),
              FailsWith("One or more parameter values were invalid: An number "
                        "set  may not be empty"));
  EXPECT_THAT(AttributeValue::BinarySet({}),
              FailsWith("One or more parameter values were invalid: Binary "
                        "sets should not be empty"));
}

// Duplicates fail, listing the members as given.
TEST_F(AttributeValueTest, DuplicateStringsAreRejected) {
  EXPECT_THAT(
      AttributeValue::StringSet({"a", "a"}),
      FailsWith(std::string(kDuplicatesPrefix) + "a, a] contains duplicates."));
  EXPECT_THAT(AttributeValue::StringSet({"b", "a", "c", "b"}),
              FailsWith(std::string(kDuplicatesPrefix) +
                        "b, a, c, b] contains duplicates."));
}

// NS members are compared as numbers; the message shows the given text.
TEST_F(AttributeValueTest, DuplicateNumbersAreRejected) {
  EXPECT_THAT(AttributeValue::NumberSet({"1", "1.0"}),
              FailsWith(std::string(kDuplicatesPrefix) +
                        "1, 1.0] contains duplicates."));
  EXPECT_THAT(AttributeValue::NumberSet({"-0", "2", "0e5"}),
              FailsWith(std::string(kDuplicatesPrefix) +
                        "-0, 2, 0e5] contains duplicates."));
}

// BS members are raw bytes here; the message shows them in base64, as the
// client sent them.
TEST_F(AttributeValueTest, DuplicateBinariesAreRejected) {
  EXPECT_THAT(AttributeValue::BinarySet({"AA", "BB", "AA"}),
              FailsWith(std::string(kDuplicatesPrefix) +
                        "QUE=, QkI=, QUE=] contains duplicates."));
  EXPECT_THAT(AttributeValue::BinarySet({"abc", "abcd", "abc"}),
              FailsWith(std::string(kDuplicatesPrefix) +
                        "YWJj, YWJjZA==, YWJj] contains duplicates."));
}

// An invalid NS member fails with the number's own error.
TEST_F(AttributeValueTest, InvalidNumberSetMemberIsRejected) {
  EXPECT_THAT(AttributeValue::NumberSet({"1", "dog", "1"}),
              FailsWith("The parameter cannot be converted to a numeric "
                        "value: dog"));
  EXPECT_THAT(AttributeValue::NumberSet({"1e126"}),
              FailsWith("Number overflow. Attempting to store a number with "
                        "magnitude larger than supported range"));
}

// SetFromSorted trusts its input and builds the set as given.
TEST_F(AttributeValueTest, SetFromSortedKeepsMembers) {
  const AttributeValue v =
      AttributeValue::SetFromSorted(ValueType::kNS, {"-1", "10", "9"});
  EXPECT_EQ(v.type(), ValueType::kNS);
  EXPECT_EQ(v, NS({"9", "10", "-1"}));
}

// Scalar sizes: UTF-8 bytes, raw bytes, 1 for BOOL and NULL.
TEST_F(AttributeValueTest, ScalarSizes) {
  EXPECT_EQ(S("").Size(), 0u);
  EXPECT_EQ(S("abc").Size(), 3u);
  EXPECT_EQ(S("\xc3\xa9").Size(), 2u);  // U+00E9 is two UTF-8 bytes.
  EXPECT_EQ(B(std::string(5, '\0')).Size(), 5u);
  EXPECT_EQ(AttributeValue::Bool(true).Size(), 1u);
  EXPECT_EQ(AttributeValue::Null().Size(), 1u);
}

// Number sizes count significant digits, not text length.
TEST_F(AttributeValueTest, NumberSizesFollowStorageSize) {
  EXPECT_EQ(N("0").Size(), 1u);
  EXPECT_EQ(N("1").Size(), 2u);
  EXPECT_EQ(N("-1000").Size(), 2u);
  EXPECT_EQ(N("0.00012").Size(), 2u);
  EXPECT_EQ(N("123.45").Size(), 4u);
  EXPECT_EQ(N("1e125").Size(), 2u);
  std::mt19937_64 rng(3);
  for (int i = 0; i < 2000; ++i) {
    std::string text = (rng() % 2 ? "-" : "") + std::to_string(rng() % 100000) +
                       "." + std::to_string(rng() % 1000) + "e" +
                       std::to_string(static_cast<int>(rng() % 200) - 100);
    const AttributeValue v = N(text);
    EXPECT_EQ(v.Size(), v.AsNumber().StorageSize()) << text;
  }
}

// Maps and lists cost 3 bytes plus 1 per element plus the elements (and a
// map element's key).
TEST_F(AttributeValueTest, ContainerSizes) {
  EXPECT_EQ(M({}).Size(), 3u);
  EXPECT_EQ(L({}).Size(), 3u);
  EXPECT_EQ(M({{"a", S("bc")}}).Size(), 3u + 1 + 1 + 2);
  EXPECT_EQ(L({S("bc"), AttributeValue::Null()}).Size(), 3u + 1 + 2 + 1 + 1);
  // Nested: outer list holding one map of one number "12" (size 2).
  EXPECT_EQ(L({M({{"key", N("12")}})}).Size(), 3u + 1 + (3 + 1 + 3 + 2));
}

// Sets cost the sum of their members.
TEST_F(AttributeValueTest, SetSizes) {
  EXPECT_EQ(SS({"a", "bcd"}).Size(), 4u);
  EXPECT_EQ(BS({"xy", std::string(1, '\0')}).Size(), 3u);
  EXPECT_EQ(NS({"1", "12345", "0"}).Size(), 2u + 4 + 1);
}

// Item size adds each attribute name's bytes to its value's size.
TEST_F(AttributeValueTest, ItemSizeCountsNames) {
  EXPECT_EQ(ItemSize(Item{}), 0u);
  const Item item = {{"pk", S("user#1")},
                     {"n", N("42")},
                     {"tags", SS({"x", "yz"})},
                     {"\xc3\xa9", AttributeValue::Bool(false)}};
  EXPECT_EQ(ItemSize(item), (2u + 6) + (1 + 2) + (4 + 3) + (2 + 1));
  EXPECT_EQ(kMaxItemSize, 409600u);
}

// Depth is 1 for scalars and sets, 1 + deepest child for containers.
TEST_F(AttributeValueTest, DepthCountsNestingLevels) {
  EXPECT_EQ(S("a").Depth(), 1);
  EXPECT_EQ(SS({"a"}).Depth(), 1);
  EXPECT_EQ(M({}).Depth(), 1);
  EXPECT_EQ(L({}).Depth(), 1);
  EXPECT_EQ(L({S("a")}).Depth(), 2);
  EXPECT_EQ(M({{"a", L({})}}).Depth(), 2);
  EXPECT_EQ(L({S("a"), M({{"b", L({N("1")})}}), N("2")}).Depth(), 4);
  EXPECT_EQ(Nested(32).Depth(), 32);
  EXPECT_EQ(Nested(33).Depth(), 33);
}

// Containers are mutable in place through mutable_map / mutable_list.
TEST_F(AttributeValueTest, MutableContainers) {
  AttributeValue m = M({});
  m.mutable_map()["x"] = N("1");
  EXPECT_EQ(m, M({{"x", N("1")}}));
  AttributeValue l = L({});
  l.mutable_list().push_back(S("y"));
  EXPECT_EQ(l, L({S("y")}));
}

}  // namespace
}  // namespace eddy::store
