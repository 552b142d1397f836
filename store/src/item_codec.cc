// Item codec: see item_codec.h for the format.

#include "eddy/store/item_codec.h"

#include <cassert>
#include <cstdint>
#include <optional>
#include <utility>

#include "eddy/varint.h"
#include "value_size.h"

namespace eddy::store {
namespace {

// The first byte of an item: which header follows (see item_codec.h).
constexpr uint8_t kFormatUnsized = 1;
constexpr uint8_t kFormatSized = 2;

void PutBytes(std::string_view bytes, std::string* out) {
  AppendVarint(bytes.size(), out);
  out->append(bytes);
}

void EncodeValue(const AttributeValue& v, std::string* out);

void EncodeMapBody(const AttributeMap& map, std::string* out) {
  AppendVarint(map.size(), out);
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
      AppendVarint(v.list().size(), out);
      for (const AttributeValue& element : v.list()) EncodeValue(element, out);
      return;
    case ValueType::kSS:
    case ValueType::kNS:
    case ValueType::kBS:
      AppendVarint(v.set().size(), out);
      for (const std::string& member : v.set()) PutBytes(member, out);
      return;
  }
}

// a < b bytewise, as std::string_view's operator<, deciding on the first
// bytes without a call when they differ (names and set members mostly do).
bool Less(std::string_view a, std::string_view b) {
  if (!a.empty() && !b.empty() && a[0] != b[0]) {
    return static_cast<uint8_t>(a[0]) < static_cast<uint8_t>(b[0]);
  }
  return a < b;
}

Status Corrupt(const char* what) {
  return Status::Corruption(std::string("item: ") + what);
}

// Reads from [p_, end_); every read is bounds-checked.
class Reader {
 public:
  explicit Reader(std::string_view data)
      : p_(data.data()), end_(data.data() + data.size()) {}

  size_t remaining() const { return static_cast<size_t>(end_ - p_); }

  bool GetByte(uint8_t* b) {
    if (p_ == end_) return false;
    *b = static_cast<uint8_t>(*p_++);
    return true;
  }

  bool GetVarint(uint64_t* v) {
    // Most lengths and counts fit one byte.
    if (p_ < end_ && static_cast<uint8_t>(*p_) < 0x80) {
      *v = static_cast<uint8_t>(*p_++);
      return true;
    }
    uint64_t result = 0;
    for (unsigned shift = 0; shift < 7 * kMaxVarint64Bytes && p_ < end_;
         shift += 7) {
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

  // Reads the header that starts an item: its version byte and, in the
  // sized format, the item's size (set in *size; left empty otherwise).
  Status GetHeader(std::optional<uint64_t>* size) {
    uint8_t version;
    if (!GetByte(&version)) return Corrupt("empty");
    if (version == kFormatUnsized) return Status::OK();
    if (version != kFormatSized) return Corrupt("unknown format version");
    uint64_t stored;
    if (!GetVarint(&stored)) return Corrupt("bad item size");
    *size = stored;
    return Status::OK();
  }

 private:
  const char* p_;
  const char* const end_;
};

// Builds the Item from VisitItem's callbacks, so that decoding makes
// exactly the walk's checks: one place decides what a valid encoding is.
class ItemBuilder : public ItemVisitor {
 public:
  ItemBuilder() { frames_.emplace_back(); }  // The item: a map.

  Item Take() { return std::move(frames_.front().map); }

  bool Name(std::string_view name) override {
    frames_.back().name = name;
    return true;
  }
  void Scalar(ValueType type, std::string_view bytes) override {
    switch (type) {
      case ValueType::kS:
        Emit(AttributeValue::String(std::string(bytes)));
        return;
      case ValueType::kN:  // The walk checked it is canonical.
        Emit(AttributeValue::NumFromCanonical(std::string(bytes)));
        return;
      default:
        Emit(AttributeValue::Binary(std::string(bytes)));
        return;
    }
  }
  void Bool(bool value) override { Emit(AttributeValue::Bool(value)); }
  void Null() override { Emit(AttributeValue::Null()); }
  void BeginMap(size_t) override { frames_.emplace_back(); }
  void EndMap() override {
    AttributeMap map = std::move(frames_.back().map);
    frames_.pop_back();
    Emit(AttributeValue::Map(std::move(map)));
  }
  void BeginList(size_t count) override {
    frames_.emplace_back();
    frames_.back().is_list = true;
    frames_.back().list.reserve(count);
  }
  void EndList() override {
    AttributeList list = std::move(frames_.back().list);
    frames_.pop_back();
    Emit(AttributeValue::List(std::move(list)));
  }
  void BeginSet(ValueType type, size_t count) override {
    set_type_ = type;
    set_.clear();
    set_.reserve(count);
  }
  void SetMember(std::string_view member) override {
    set_.emplace_back(member);
  }
  // The walk checked the members are sorted and unique.
  void EndSet() override {
    Emit(AttributeValue::SetFromSorted(set_type_, std::move(set_)));
    set_ = {};
  }

 private:
  // An M value (or the item) or an L value under construction. Sets hold
  // no containers, so one set is built at a time, outside the frames.
  struct Frame {
    bool is_list = false;
    AttributeMap map;
    std::string_view name;  // The map attribute whose value comes next.
    AttributeList list;
  };

  void Emit(AttributeValue value) {
    Frame& top = frames_.back();
    if (top.is_list) {
      top.list.push_back(std::move(value));
    } else {
      // Names arrive in order, so the hint makes each insert O(1).
      top.map.emplace_hint(top.map.end(), std::string(top.name),
                           std::move(value));
    }
  }

  std::vector<Frame> frames_;
  ValueType set_type_ = ValueType::kSS;
  std::vector<std::string> set_;
};

// VisitItem's walk: checks the encoding, makes the visitor's callbacks and
// adds up the size as AttributeValue::Size and ItemSize count it.
class Walker : public Reader {
 public:
  using Reader::Reader;

  // The body of the item (`nested` false) or of an M value (true; then
  // framed by BeginMap and EndMap, and counted with the overhead of a
  // container). `depth` is the depth of the map holding the values. Adds
  // the size to *size. Null `visitor`: no callbacks.
  Status WalkMapBody(int depth, bool nested, ItemVisitor* visitor,
                     size_t* size) {
    uint64_t count;
    if (!GetCount(&count)) return Corrupt("bad map size");
    const size_t entry_overhead = nested ? kElementOverhead : 0;
    if (nested) {
      *size += kContainerOverhead;
      if (visitor != nullptr) visitor->BeginMap(static_cast<size_t>(count));
    }
    std::string_view previous;
    for (uint64_t i = 0; i < count; ++i) {
      std::string_view name;
      if (!GetBytes(&name)) return Corrupt("bad attribute name");
      if (i > 0 && !Less(previous, name)) return Corrupt("map keys not sorted");
      previous = name;
      *size += entry_overhead + name.size();
      ItemVisitor* value_visitor =
          visitor != nullptr && visitor->Name(name) ? visitor : nullptr;
      EDDY_RETURN_IF_ERROR(WalkValue(depth + 1, value_visitor, size));
    }
    if (nested && visitor != nullptr) visitor->EndMap();
    return Status::OK();
  }

  // One value; adds its size to *size.
  Status WalkValue(int depth, ItemVisitor* visitor, size_t* size) {
    if (depth > kMaxItemCodecDepth) return Corrupt("nested too deeply");
    uint8_t tag;
    if (!GetByte(&tag)) return Corrupt("truncated value");
    const auto type = static_cast<ValueType>(tag);
    std::string_view bytes;
    switch (type) {
      case ValueType::kS:
      case ValueType::kB:
        if (!GetBytes(&bytes)) {
          return Corrupt(type == ValueType::kS ? "bad string" : "bad binary");
        }
        *size += bytes.size();
        if (visitor != nullptr) visitor->Scalar(type, bytes);
        return Status::OK();
      case ValueType::kN:
        if (!GetBytes(&bytes) || !Number::IsCanonical(bytes)) {
          return Corrupt("bad number");
        }
        *size += NumberValueSize(bytes);
        if (visitor != nullptr) visitor->Scalar(type, bytes);
        return Status::OK();
      case ValueType::kBOOL: {
        uint8_t b;
        if (!GetByte(&b) || b > 1) return Corrupt("bad boolean");
        *size += 1;
        if (visitor != nullptr) visitor->Bool(b == 1);
        return Status::OK();
      }
      case ValueType::kNULL:
        *size += 1;
        if (visitor != nullptr) visitor->Null();
        return Status::OK();
      case ValueType::kM:
        return WalkMapBody(depth, /*nested=*/true, visitor, size);
      case ValueType::kL: {
        uint64_t count;
        if (!GetCount(&count)) return Corrupt("bad list size");
        *size += kContainerOverhead + kElementOverhead * count;
        if (visitor != nullptr) visitor->BeginList(static_cast<size_t>(count));
        for (uint64_t i = 0; i < count; ++i) {
          EDDY_RETURN_IF_ERROR(WalkValue(depth + 1, visitor, size));
        }
        if (visitor != nullptr) visitor->EndList();
        return Status::OK();
      }
      case ValueType::kSS:
      case ValueType::kNS:
      case ValueType::kBS: {
        uint64_t count;
        if (!GetCount(&count) || count == 0) return Corrupt("bad set size");
        if (visitor != nullptr) {
          visitor->BeginSet(type, static_cast<size_t>(count));
        }
        std::string_view previous;
        for (uint64_t i = 0; i < count; ++i) {
          if (!GetBytes(&bytes)) return Corrupt("bad set member");
          if (i > 0 && !Less(previous, bytes)) {
            return Corrupt("set members not sorted");
          }
          if (type == ValueType::kNS) {
            if (!Number::IsCanonical(bytes)) {
              return Corrupt("bad number in set");
            }
            *size += NumberValueSize(bytes);
          } else {
            *size += bytes.size();
          }
          previous = bytes;
          if (visitor != nullptr) visitor->SetMember(bytes);
        }
        if (visitor != nullptr) visitor->EndSet();
        return Status::OK();
      }
    }
    return Corrupt("unknown type tag");
  }
};

}  // namespace

void EncodeItem(const Item& item, std::string* out) {
  out->push_back(static_cast<char>(kFormatSized));
  AppendVarint(ItemSize(item), out);
  EncodeMapBody(item, out);
}

Result<Item> DecodeItem(std::string_view data) {
  ItemBuilder builder;
  EDDY_RETURN_IF_ERROR(VisitItem(data, &builder).status());
  return builder.Take();
}

Result<size_t> VisitItem(std::string_view data, ItemVisitor* visitor) {
  Walker walker(data);
  std::optional<uint64_t> stored_size;
  EDDY_RETURN_IF_ERROR(walker.GetHeader(&stored_size));
  size_t size = 0;
  // Top-level attribute values have depth 1: the body of a map at depth 0.
  EDDY_RETURN_IF_ERROR(walker.WalkMapBody(0, /*nested=*/false, visitor, &size));
  if (walker.remaining() != 0) return Corrupt("trailing bytes");
  if (stored_size && *stored_size != size) return Corrupt("wrong item size");
  return size;
}

Result<size_t> StoredItemSize(std::string_view data) {
  Reader reader(data);
  std::optional<uint64_t> stored_size;
  EDDY_RETURN_IF_ERROR(reader.GetHeader(&stored_size));
  if (stored_size) return static_cast<size_t>(*stored_size);
  return VisitItem(data, nullptr);
}

}  // namespace eddy::store
