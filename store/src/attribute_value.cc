// AttributeValue: factories, set validation, equality, size and depth.

#include "eddy/store/attribute_value.h"

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <numeric>
#include <utility>

#include "value_size.h"

namespace eddy::store {
namespace {

constexpr std::string_view kInvalidPrefix =
    "One or more parameter values were invalid: ";

Status EmptySet(std::string_view kind) {
  // DynamoDB's texts, including the article and the double space; binary
  // sets have their own wording.
  std::string msg(kInvalidPrefix);
  if (kind == "binary") {
    msg.append("Binary sets should not be empty");
    return Status::InvalidArgument(std::move(msg));
  }
  msg.append("An ").append(kind).append(" set  may not be empty");
  return Status::InvalidArgument(std::move(msg));
}

std::string Base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v =
        static_cast<uint32_t>(static_cast<uint8_t>(bytes[i])) << 16 |
        static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + 1])) << 8 |
        static_cast<uint8_t>(bytes[i + 2]);
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = static_cast<uint32_t>(static_cast<uint8_t>(bytes[i])) << 16;
    if (rest == 2) {
      v |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + 1])) << 8;
    }
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

// Sorts *members bytewise and checks them for duplicates. On a duplicate,
// fails with DynamoDB's message listing describe(k) for every member index k
// in the order given; `describe` runs before *members is reordered.
template <typename Describe>
Status SortUnique(std::vector<std::string>* members, Describe describe) {
  const size_t n = members->size();
  if (n < 2) return Status::OK();
  // Sort a permutation so the given order survives for the error message.
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  const std::vector<std::string>& m = *members;
  std::sort(order.begin(), order.end(),
            [&m](uint32_t a, uint32_t b) { return m[a] < m[b]; });
  for (size_t i = 1; i < n; ++i) {
    if (m[order[i]] == m[order[i - 1]]) {
      std::string msg(kInvalidPrefix);
      msg.append("Input collection [");
      for (size_t k = 0; k < n; ++k) {
        if (k > 0) msg.append(", ");
        msg.append(describe(k));
      }
      msg.append("] contains duplicates.");
      return Status::InvalidArgument(std::move(msg));
    }
  }
  std::vector<std::string> sorted;
  sorted.reserve(n);
  for (uint32_t k : order) sorted.push_back(std::move((*members)[k]));
  *members = std::move(sorted);
  return Status::OK();
}

// Significant digits in canonical number text: digits without the leading
// zeros of a fraction ("0.012" has 2) or the trailing zeros of an integer
// ("1200" has 2).
size_t SignificantDigits(std::string_view canonical) {
  size_t count = 0;
  size_t count_to_last_nonzero = 0;
  for (const char c : canonical) {
    if (c < '0' || c > '9') continue;
    if (count == 0 && c == '0') continue;
    ++count;
    if (c != '0') count_to_last_nonzero = count;
  }
  return count_to_last_nonzero;
}

}  // namespace

size_t NumberValueSize(std::string_view canonical) {
  return (SignificantDigits(canonical) + 1) / 2 + 1;
}

std::string_view ValueTypeName(ValueType type) {
  switch (type) {
    case ValueType::kS:
      return "S";
    case ValueType::kN:
      return "N";
    case ValueType::kB:
      return "B";
    case ValueType::kBOOL:
      return "BOOL";
    case ValueType::kNULL:
      return "NULL";
    case ValueType::kM:
      return "M";
    case ValueType::kL:
      return "L";
    case ValueType::kSS:
      return "SS";
    case ValueType::kNS:
      return "NS";
    case ValueType::kBS:
      return "BS";
  }
  return "?";
}

AttributeValue AttributeValue::String(std::string s) {
  AttributeValue v;
  v.type_ = ValueType::kS;
  v.scalar_ = std::move(s);
  return v;
}

AttributeValue AttributeValue::Num(const Number& n) {
  AttributeValue v;
  v.type_ = ValueType::kN;
  v.scalar_ = n.ToString();
  return v;
}

AttributeValue AttributeValue::NumFromCanonical(std::string canonical_text) {
  assert(Number::IsCanonical(canonical_text));
  AttributeValue v;
  v.type_ = ValueType::kN;
  v.scalar_ = std::move(canonical_text);
  return v;
}

AttributeValue AttributeValue::Binary(std::string bytes) {
  AttributeValue v;
  v.type_ = ValueType::kB;
  v.scalar_ = std::move(bytes);
  return v;
}

AttributeValue AttributeValue::Bool(bool b) {
  AttributeValue v;
  v.type_ = ValueType::kBOOL;
  v.bool_ = b;
  return v;
}

AttributeValue AttributeValue::Null() { return AttributeValue(); }

AttributeValue AttributeValue::Map(AttributeMap m) {
  AttributeValue v;
  v.type_ = ValueType::kM;
  v.map_ = std::move(m);
  return v;
}

AttributeValue AttributeValue::List(AttributeList l) {
  AttributeValue v;
  v.type_ = ValueType::kL;
  v.list_ = std::move(l);
  return v;
}

Result<AttributeValue> AttributeValue::StringSet(
    std::vector<std::string> members) {
  if (members.empty()) return EmptySet("string");
  EDDY_RETURN_IF_ERROR(SortUnique(
      &members,
      [&members](size_t k) -> const std::string& { return members[k]; }));
  return SetFromSorted(ValueType::kSS, std::move(members));
}

Result<AttributeValue> AttributeValue::NumberSet(
    const std::vector<std::string>& members) {
  if (members.empty()) return EmptySet("number");
  std::vector<std::string> canonical;
  canonical.reserve(members.size());
  for (const std::string& m : members) {
    EDDY_ASSIGN_OR_RETURN(Number n, Number::Parse(m));
    canonical.push_back(n.ToString());
  }
  EDDY_RETURN_IF_ERROR(SortUnique(
      &canonical,
      [&members](size_t k) -> const std::string& { return members[k]; }));
  return SetFromSorted(ValueType::kNS, std::move(canonical));
}

Result<AttributeValue> AttributeValue::BinarySet(
    std::vector<std::string> members) {
  if (members.empty()) return EmptySet("binary");
  EDDY_RETURN_IF_ERROR(SortUnique(
      &members, [&members](size_t k) { return Base64(members[k]); }));
  return SetFromSorted(ValueType::kBS, std::move(members));
}

AttributeValue AttributeValue::SetFromSorted(ValueType type,
                                             std::vector<std::string> members) {
  assert(type == ValueType::kSS || type == ValueType::kNS ||
         type == ValueType::kBS);
  assert(!members.empty());
  assert(std::adjacent_find(members.begin(), members.end(),
                            [](const std::string& a, const std::string& b) {
                              return !(a < b);
                            }) == members.end());
  AttributeValue v;
  v.type_ = type;
  v.set_ = std::move(members);
  return v;
}

Number AttributeValue::AsNumber() const {
  assert(type_ == ValueType::kN);
  Result<Number> n = Number::Parse(scalar_);
  assert(n.ok());
  return n.ok() ? *std::move(n) : Number();
}

bool AttributeValue::operator==(const AttributeValue& other) const {
  if (type_ != other.type_) return false;
  switch (type_) {
    case ValueType::kS:
    case ValueType::kN:
    case ValueType::kB:
      return scalar_ == other.scalar_;
    case ValueType::kBOOL:
      return bool_ == other.bool_;
    case ValueType::kNULL:
      return true;
    case ValueType::kM:
      return map_ == other.map_;
    case ValueType::kL:
      return list_ == other.list_;
    case ValueType::kSS:
    case ValueType::kNS:
    case ValueType::kBS:
      return set_ == other.set_;
  }
  return false;
}

size_t AttributeValue::Size() const {
  switch (type_) {
    case ValueType::kS:
    case ValueType::kB:
      return scalar_.size();
    case ValueType::kN:
      return NumberValueSize(scalar_);
    case ValueType::kBOOL:
    case ValueType::kNULL:
      return 1;
    case ValueType::kM: {
      size_t size = kContainerOverhead;
      for (const auto& [name, value] : map_) {
        size += kElementOverhead + name.size() + value.Size();
      }
      return size;
    }
    case ValueType::kL: {
      size_t size = kContainerOverhead;
      for (const AttributeValue& value : list_) {
        size += kElementOverhead + value.Size();
      }
      return size;
    }
    case ValueType::kSS:
    case ValueType::kBS: {
      size_t size = 0;
      for (const std::string& m : set_) size += m.size();
      return size;
    }
    case ValueType::kNS: {
      size_t size = 0;
      for (const std::string& m : set_) size += NumberValueSize(m);
      return size;
    }
  }
  return 0;
}

int AttributeValue::Depth() const {
  int deepest = 0;
  if (type_ == ValueType::kM) {
    for (const auto& entry : map_) {
      deepest = std::max(deepest, entry.second.Depth());
    }
  } else if (type_ == ValueType::kL) {
    for (const AttributeValue& value : list_) {
      deepest = std::max(deepest, value.Depth());
    }
  }
  return 1 + deepest;
}

size_t ItemSize(const Item& item) {
  size_t size = 0;
  for (const auto& [name, value] : item) size += name.size() + value.Size();
  return size;
}

}  // namespace eddy::store
