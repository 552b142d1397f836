// Fuzz target: the parsers of DynamoDB's expressions
// (store/include/eddy/store/expression.h): ConditionExpression /
// FilterExpression, UpdateExpression, ProjectionExpression and
// KeyConditionExpression, against fixed ExpressionAttributeNames and
// ExpressionAttributeValues.
//
// Input: one byte picks the parser, the rest is the expression. Whatever
// parses is also run against a few items; an update's or a projection's
// result must still be a valid item (it survives the store's codec, which
// re-checks every invariant of AttributeValue).
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "eddy/store/expression.h"
#include "eddy/store/item_codec.h"
#include "fuzz_util.h"

namespace eddy::store {
namespace {

AttributeValue S(std::string s) { return AttributeValue::String(std::move(s)); }
AttributeValue N(std::string_view text) {
  return AttributeValue::Num(*Number::Parse(text));
}

const std::map<std::string, std::string>& Names() {
  static const auto* names = new std::map<std::string, std::string>{
      {"#a", "a"},   {"#b", "b"},   {"#l", "l"},  {"#m", "m"},
      {"#pk", "pk"}, {"#sk", "sk"}, {"#d", "x.y"}};
  return *names;
}

const AttributeMap& Values() {
  static const auto* values = new AttributeMap{
      {":s", S("abc")},
      {":e", S("")},
      {":type", S("M")},
      {":n", N("5")},
      {":f", N("-1.5e10")},
      {":big", N("99999999999999999999999999999999999999")},
      {":b", AttributeValue::Binary(std::string("\0\xff", 2))},
      {":t", AttributeValue::Bool(true)},
      {":null", AttributeValue::Null()},
      {":l", AttributeValue::List({N("1"), S("x"), AttributeValue::List({})})},
      {":m", AttributeValue::Map({{"k", S("v")}, {"n", N("2")}})},
      {":ss", *AttributeValue::StringSet({"a", "b"})},
      {":ns", *AttributeValue::NumberSet({"1", "2"})},
      {":bs", *AttributeValue::BinarySet({"x"})},
  };
  return *values;
}

std::vector<Item> Items() {
  Item rich{
      {"pk", S("p")},
      {"sk", N("3")},
      {"a", N("10")},
      {"b", S("abcdef")},
      {"l", AttributeValue::List(
                {N("0"), N("1"), AttributeValue::List({S("deep")})})},
      {"m", AttributeValue::Map({{"a", AttributeValue::Map({{"b", N("1")}})},
                                 {"l", AttributeValue::List({S("x")})}})},
      {"ss", *AttributeValue::StringSet({"a", "c"})},
      {"ns", *AttributeValue::NumberSet({"1", "3"})},
      {"x.y", AttributeValue::Bool(false)},
  };
  return {Item{}, rich};
}

// Valid items survive the codec; anything else is a broken invariant.
void CheckValid(const Item& item) {
  std::string encoded;
  EncodeItem(item, &encoded);
  Result<Item> decoded = DecodeItem(encoded);
  EDDY_FUZZ_CHECK(decoded.ok());
  EDDY_FUZZ_CHECK(*decoded == item);
}

void CheckPaths(const std::vector<Path>& paths) {
  for (const Path& path : paths) {
    EDDY_FUZZ_CHECK(!path.empty());
    EDDY_FUZZ_CHECK(!path.front().is_index);
  }
}

}  // namespace
}  // namespace eddy::store

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace eddy::store;
  eddy::fuzz::FuzzInput input(data, size);
  const uint8_t kind = input.Byte() % 4;
  const std::string_view text = input.Rest();
  ExpressionContext context(&Names(), &Values());
  const std::vector<Item> items = Items();
  switch (kind) {
    case 0: {
      auto condition = Condition::Parse(text, "ConditionExpression", &context);
      if (!condition.ok()) break;
      CheckPaths((*condition)->paths());
      for (const Item& item : items) (void)(*condition)->Evaluate(item);
      break;
    }
    case 1: {
      auto update = Update::Parse(text, &context);
      if (!update.ok()) break;
      CheckPaths((*update)->paths());
      for (Item item : items) {
        if ((*update)->Apply(&item).ok()) CheckValid(item);
      }
      break;
    }
    case 2: {
      auto projection = Projection::Parse(text, &context);
      if (!projection.ok()) break;
      CheckPaths(projection->paths());
      for (const Item& item : items) CheckValid(projection->Apply(item));
      break;
    }
    case 3: {
      auto key = KeyCondition::Parse(text, &context, "pk", "sk");
      if (!key.ok()) break;
      if (!key->CheckKeyTypes(ValueType::kS, ValueType::kN).ok()) break;
      EDDY_FUZZ_CHECK(key->partition_value.type() == ValueType::kS);
      if (key->sort.has_value()) {
        for (const char* n : {"-1", "0", "3", "1e10"}) {
          (void)key->sort->Matches(AttributeValue::Num(*Number::Parse(n)));
        }
      }
      break;
    }
  }
  (void)context.CheckAllUsed().ok();
  return 0;
}
