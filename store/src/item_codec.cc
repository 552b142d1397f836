// Item codec: see item_codec.h for the format.

#include "eddy/store/item_codec.h"

#include <cassert>
#include <cstdint>
#include <utility>

namespace eddy::store {
namespace {

constexpr uint8_t kFormatVersion = 1;
// Longest varint of a 64-bit value.
constexpr int kMaxVarintBytes = 10;

void PutVarint(uint64_t v, std::string* out) {
  char buf[kMaxVarintBytes];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

void PutBytes(std::string_view bytes, std::string* out) {
  PutVarint(bytes.size(), out);
  out->append(bytes);
}

void EncodeValue(const AttributeValue& v, std::string* out);

void EncodeMapBody(const AttributeMap& map, std::string* out) {
  PutVarint(map.size(), out);
  for (const auto& [name, value] : map) {
    PutBytes(name, out);
    EncodeValue(value, out);
  }
}

void EncodeValue(const AttributeValue& v, std::string* out) {
  out->push_back(static_cast<char>(v.type()));
  switch (v.type()) {
    case ValueType::kS:
    case ValueType::kN:
    case ValueType::kB:
      PutBytes(v.scalar(), out);
      return;
    case ValueType::kBOOL:
      out->push_back(v.boolean() ? '\1' : '\0');
      return;
    case ValueType::kNULL:
      return;
    case ValueType::kM:
      EncodeMapBody(v.map(), out);
      return;
    case ValueType::kL:
      PutVarint(v.list().size(), out);
      for (const AttributeValue& element : v.list()) EncodeValue(element, out);
      return;
    case ValueType::kSS:
    case ValueType::kNS:
    case ValueType::kBS:
      PutVarint(v.set().size(), out);
      for (const std::string& member : v.set()) PutBytes(member, out);
      return;
  }
}

Status Corrupt(const char* what) {
  return Status::Corruption(std::string("item: ") + what);
}

// Reads from [p_, end_); every read is bounds-checked.
class Decoder {
 public:
  explicit Decoder(std::string_view data)
      : p_(data.data()), end_(data.data() + data.size()) {}

  size_t remaining() const { return static_cast<size_t>(end_ - p_); }

  bool GetByte(uint8_t* b) {
    if (p_ == end_) return false;
    *b = static_cast<uint8_t>(*p_++);
    return true;
  }

  bool GetVarint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift < 7 * kMaxVarintBytes && p_ < end_; shift += 7) {
      const auto byte = static_cast<uint8_t>(*p_++);
      // The tenth byte may only contribute the top bit.
      if (shift == 63 && byte > 1) return false;
      result |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if (byte < 0x80) {
        *v = result;
        return true;
      }
    }
    return false;
  }

  // A count of elements that each take at least one byte.
  bool GetCount(uint64_t* count) {
    return GetVarint(count) && *count <= remaining();
  }

  bool GetBytes(std::string_view* bytes) {
    uint64_t len;
    if (!GetVarint(&len) || len > remaining()) return false;
    *bytes = std::string_view(p_, static_cast<size_t>(len));
    p_ += len;
    return true;
  }

  // `depth` is the depth of the map or list holding the values decoded.
  Status DecodeMapBody(int depth, AttributeMap* map) {
    uint64_t count;
    if (!GetCount(&count)) return Corrupt("bad map size");
    std::string_view previous;
    for (uint64_t i = 0; i < count; ++i) {
      std::string_view name;
      if (!GetBytes(&name)) return Corrupt("bad attribute name");
      if (i > 0 && !(previous < name)) return Corrupt("map keys not sorted");
      previous = name;
      // Keys arrive in order, so the hint makes each insert O(1).
      auto it =
          map->emplace_hint(map->end(), std::string(name), AttributeValue());
      EDDY_RETURN_IF_ERROR(DecodeValue(depth + 1, &it->second));
    }
    return Status::OK();
  }

  Status DecodeValue(int depth, AttributeValue* out) {
    if (depth > kMaxItemCodecDepth) return Corrupt("nested too deeply");
    uint8_t tag;
    if (!GetByte(&tag)) return Corrupt("truncated value");
    std::string_view bytes;
    switch (static_cast<ValueType>(tag)) {
      case ValueType::kS:
        if (!GetBytes(&bytes)) return Corrupt("bad string");
        *out = AttributeValue::String(std::string(bytes));
        return Status::OK();
      case ValueType::kN:
        if (!GetBytes(&bytes) || !Number::IsCanonical(bytes)) {
          return Corrupt("bad number");
        }
        *out = AttributeValue::NumFromCanonical(std::string(bytes));
        return Status::OK();
      case ValueType::kB:
        if (!GetBytes(&bytes)) return Corrupt("bad binary");
        *out = AttributeValue::Binary(std::string(bytes));
        return Status::OK();
      case ValueType::kBOOL: {
        uint8_t b;
        if (!GetByte(&b) || b > 1) return Corrupt("bad boolean");
        *out = AttributeValue::Bool(b == 1);
        return Status::OK();
      }
      case ValueType::kNULL:
        *out = AttributeValue::Null();
        return Status::OK();
      case ValueType::kM: {
        AttributeMap map;
        EDDY_RETURN_IF_ERROR(DecodeMapBody(depth, &map));
        *out = AttributeValue::Map(std::move(map));
        return Status::OK();
      }
      case ValueType::kL: {
        uint64_t count;
        if (!GetCount(&count)) return Corrupt("bad list size");
        AttributeList list;
        list.reserve(static_cast<size_t>(count));
        for (uint64_t i = 0; i < count; ++i) {
          list.emplace_back();
          EDDY_RETURN_IF_ERROR(DecodeValue(depth + 1, &list.back()));
        }
        *out = AttributeValue::List(std::move(list));
        return Status::OK();
      }
      case ValueType::kSS:
      case ValueType::kNS:
      case ValueType::kBS: {
        const auto type = static_cast<ValueType>(tag);
        uint64_t count;
        if (!GetCount(&count) || count == 0) return Corrupt("bad set size");
        std::vector<std::string> members;
        members.reserve(static_cast<size_t>(count));
        std::string_view previous;
        for (uint64_t i = 0; i < count; ++i) {
          if (!GetBytes(&bytes)) return Corrupt("bad set member");
          if (i > 0 && !(previous < bytes)) {
            return Corrupt("set members not sorted");
          }
          if (type == ValueType::kNS && !Number::IsCanonical(bytes)) {
            return Corrupt("bad number in set");
          }
          previous = bytes;
          members.emplace_back(bytes);
        }
        *out = AttributeValue::SetFromSorted(type, std::move(members));
        return Status::OK();
      }
    }
    return Corrupt("unknown type tag");
  }

 private:
  const char* p_;
  const char* const end_;
};

}  // namespace

void EncodeItem(const Item& item, std::string* out) {
  out->push_back(static_cast<char>(kFormatVersion));
  EncodeMapBody(item, out);
}

Result<Item> DecodeItem(std::string_view data) {
  Decoder decoder(data);
  uint8_t version;
  if (!decoder.GetByte(&version)) return Corrupt("empty");
  if (version != kFormatVersion) return Corrupt("unknown format version");
  Item item;
  // Top-level attribute values have depth 1: decode as the body of a map
  // at depth 0.
  EDDY_RETURN_IF_ERROR(decoder.DecodeMapBody(0, &item));
  if (decoder.remaining() != 0) return Corrupt("trailing bytes");
  return item;
}

}  // namespace eddy::store
