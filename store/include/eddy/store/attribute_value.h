// AttributeValue: one DynamoDB value of any of its ten types, and Item, a
// map of attribute names to values.
//
// Invariants kept by the factories:
//   - N values hold the canonical text of a valid Number ("1.0" -> "1").
//   - B and BS values hold raw bytes (not base64).
//   - Sets (SS, NS, BS) are non-empty, free of duplicates and sorted
//     bytewise by their canonical member text, so set equality is vector
//     equality and the order members were given in does not matter.
//   - M is an ordered map, so map equality ignores key order.
// Equality (operator==) is therefore DynamoDB's meaning of equal.
//
// Thread-safety: a value type.
#ifndef EDDY_STORE_ATTRIBUTE_VALUE_H_
#define EDDY_STORE_ATTRIBUTE_VALUE_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "eddy/result.h"
#include "eddy/store/number.h"

namespace eddy::store {

enum class ValueType : uint8_t {
  kS = 0,
  kN,
  kB,
  kBOOL,
  kNULL,
  kM,
  kL,
  kSS,
  kNS,
  kBS,
};

// "S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS".
std::string_view ValueTypeName(ValueType type);

class AttributeValue;
using AttributeMap = std::map<std::string, AttributeValue, std::less<>>;
using AttributeList = std::vector<AttributeValue>;
// An item: attribute name -> value.
using Item = AttributeMap;

class AttributeValue {
 public:
  // NULL.
  AttributeValue() = default;

  static AttributeValue String(std::string s);
  static AttributeValue Num(const Number& n);
  // N from text that is already canonical, without re-parsing (decoders).
  // REQUIRES: Number::IsCanonical(canonical_text).
  static AttributeValue NumFromCanonical(std::string canonical_text);
  static AttributeValue Binary(std::string bytes);
  static AttributeValue Bool(bool b);
  static AttributeValue Null();
  static AttributeValue Map(AttributeMap m);
  static AttributeValue List(AttributeList l);
  // Sets: fail with DynamoDB's messages for an empty set
  // ("One or more parameter values were invalid: An string set  may not be
  // empty", "... An number set  may not be empty", "... An binary set  may not
  // be empty") and for duplicates ("One or more parameter values were
  // invalid: Input collection [a, a] contains duplicates."). NS members are
  // parsed as Numbers (so "1" and "1.0" are duplicates); the first member
  // that does not parse fails with Number::Parse's error. The duplicate
  // message lists the members as given; BS members, being raw bytes here,
  // are listed in base64 as the client sent them.
  static Result<AttributeValue> StringSet(std::vector<std::string> members);
  static Result<AttributeValue> NumberSet(
      const std::vector<std::string>& members);
  static Result<AttributeValue> BinarySet(std::vector<std::string> members);
  // REQUIRES: members are non-empty, unique, canonical (NS) and sorted as
  // this class keeps them. For code that builds sets from existing sets.
  static AttributeValue SetFromSorted(ValueType type,
                                      std::vector<std::string> members);

  ValueType type() const { return type_; }
  bool IsSet() const {
    return type_ == ValueType::kSS || type_ == ValueType::kNS ||
           type_ == ValueType::kBS;
  }

  // S text, N canonical text, or B bytes. REQUIRES: type is S, N or B.
  const std::string& scalar() const { return scalar_; }
  // REQUIRES: type() == kN. Parses the canonical text (cannot fail).
  Number AsNumber() const;
  // REQUIRES: type() == kBOOL.
  bool boolean() const { return bool_; }
  // REQUIRES: type() == kM.
  const AttributeMap& map() const { return map_; }
  AttributeMap& mutable_map() { return map_; }
  // REQUIRES: type() == kL.
  const AttributeList& list() const { return list_; }
  AttributeList& mutable_list() { return list_; }
  // Sorted unique members (canonical text for NS). REQUIRES: IsSet().
  const std::vector<std::string>& set() const { return set_; }

  bool operator==(const AttributeValue& other) const;
  bool operator!=(const AttributeValue& other) const {
    return !(*this == other);
  }

  // Bytes this value counts for in DynamoDB's item size formula (without
  // the attribute name).
  size_t Size() const;

  // Nesting depth: 1 for scalars and sets, 1 + deepest child for M and L
  // (an empty M or L is 1).
  int Depth() const;

 private:
  ValueType type_ = ValueType::kNULL;
  bool bool_ = false;
  std::string scalar_;
  std::vector<std::string> set_;
  AttributeList list_;
  AttributeMap map_;
};

// Size of an item by DynamoDB's formula: for each attribute, UTF-8 name
// length plus value size. Limit: kMaxItemSize.
size_t ItemSize(const Item& item);
inline constexpr size_t kMaxItemSize = 409600;

}  // namespace eddy::store

#endif  // EDDY_STORE_ATTRIBUTE_VALUE_H_
