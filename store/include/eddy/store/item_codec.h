// Item codec: the compact binary form of an Item, stored as the LevelDB
// value of every item (and wherever else an item is persisted).
//
// Format (varint = unsigned LEB128, as leveldb's PutVarint64; bytes =
// varint length followed by that many raw bytes):
//
//   item    := 2  size:varint  map-body     (what EncodeItem writes)
//            | 1  map-body                  (the first format; still read)
//              size = ItemSize(item), DynamoDB's size of the item, so that
//              reads can charge and page by it without walking the item
//   map-body:= count:varint  { name:bytes value }*count
//              names strictly ascending bytewise (Item/AttributeMap order)
//   value   := tag:u8 payload, tag = the ValueType number:
//     0 S     bytes (the string's UTF-8)
//     1 N     bytes (canonical text, Number::IsCanonical)
//     2 B     bytes (raw)
//     3 BOOL  u8, 0 or 1
//     4 NULL  (nothing)
//     5 M     map-body
//     6 L     count:varint  value*count
//     7 SS    count:varint (>= 1)  bytes*count, strictly ascending bytewise
//     8 NS    as SS, each member canonical number text
//     9 BS    as SS, raw members
//
// The decoder accepts only what the encoder can produce (plus non-minimal
// varints): every length and count is checked against the bytes left, the
// invariants of AttributeValue are re-checked (sorted unique set members,
// canonical numbers, sorted unique map keys), nesting is limited to
// kMaxItemCodecDepth, the input must be consumed exactly, and a stored
// size must be the item's. On any violation DecodeItem returns Corruption;
// it never reads out of bounds, recurses without bound, or allocates out of
// proportion to the input size (a count is trusted only as far as the bytes
// left could hold it), whatever the bytes.
//
// Thread-safety: free functions without shared state.
#ifndef EDDY_STORE_ITEM_CODEC_H_
#define EDDY_STORE_ITEM_CODEC_H_

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "eddy/result.h"
#include "eddy/store/attribute_value.h"

namespace eddy::store {

// Deepest value (AttributeValue::Depth()) DecodeItem accepts. DynamoDB
// allows 32 levels; the margin leaves room without risking the stack.
inline constexpr int kMaxItemCodecDepth = 128;

// Appends the encoding of `item` to *out (it does not clear *out).
// REQUIRES: every value's Depth() <= kMaxItemCodecDepth, or DecodeItem will
// reject the result (the API layer limits depth to 32 long before).
void EncodeItem(const Item& item, std::string* out);

// Decodes an item encoded by EncodeItem. `data` must hold exactly one
// encoded item. Corruption on malformed input.
Result<Item> DecodeItem(std::string_view data);

// Receives the contents of an encoded item from VisitItem, in encoding order:
// a map's (and the item's) attributes by ascending name, a list's elements in
// order, a set's members sorted bytewise. Every string_view points into the
// encoded bytes and is valid for as long as they are.
class ItemVisitor {
 public:
  virtual ~ItemVisitor() = default;

  // The name of an attribute of the item or of an M value; its value
  // follows. Returning false skips the value: none of its callbacks are made,
  // though it is still checked and counted in the size.
  virtual bool Name(std::string_view name) = 0;
  // An S (UTF-8 text), N (canonical text) or B (raw bytes, not base64) value.
  virtual void Scalar(ValueType type, std::string_view bytes) = 0;
  virtual void Bool(bool value) = 0;
  virtual void Null() = 0;
  // An M value: `count` Name-and-value pairs follow, then EndMap.
  virtual void BeginMap(size_t count) = 0;
  virtual void EndMap() = 0;
  // An L value: `count` values follow, then EndList.
  virtual void BeginList(size_t count) = 0;
  virtual void EndList() = 0;
  // An SS, NS or BS value: `count` (>= 1) SetMember calls follow, each with
  // the member as Scalar would give it, then EndSet.
  virtual void BeginSet(ValueType type, size_t count) = 0;
  virtual void SetMember(std::string_view member) = 0;
  virtual void EndSet() = 0;
};

// Walks the item encoded in `data` (exactly one, as for DecodeItem), calling
// `visitor` (which may be null) for its contents. Returns the item's size,
// ItemSize(*DecodeItem(data)). Fails with Corruption, with DecodeItem's
// message, exactly when DecodeItem would; the callbacks made before the fault
// was found are not taken back.
Result<size_t> VisitItem(std::string_view data, ItemVisitor* visitor);

// ItemSize(*DecodeItem(data)) as the item's header records it, without
// walking the item; for an item written before sizes were recorded, by
// walking it (VisitItem without a visitor). Only the header is checked: a
// caller that goes on to use the item walks or decodes it, which checks the
// rest (and that the size is right).
Result<size_t> StoredItemSize(std::string_view data);

// A sequence of encoded items kept in one buffer, so that collecting a page
// of items does not allocate for each item.
class EncodedItems {
 public:
  // Appends a copy of the encoded item `encoded`.
  void Append(std::string_view encoded) {
    if (ends_.empty()) {
      // Room for a page of small items, so they need not grow it.
      data_.reserve(std::max(kInitialBytes, encoded.size()));
      ends_.reserve(kInitialItems);
    }
    data_.append(encoded);
    ends_.push_back(data_.size());
  }
  size_t size() const { return ends_.size(); }
  bool empty() const { return ends_.empty(); }
  // The i-th item's bytes. REQUIRES: i < size().
  std::string_view operator[](size_t i) const {
    const size_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(data_).substr(begin, ends_[i] - begin);
  }

 private:
  static constexpr size_t kInitialBytes = 4096;
  static constexpr size_t kInitialItems = 32;

  std::string data_;
  std::vector<size_t> ends_;  // End offset of each item in data_.
};

}  // namespace eddy::store

#endif  // EDDY_STORE_ITEM_CODEC_H_
