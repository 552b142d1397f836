// Item codec: the compact binary form of an Item, stored as the LevelDB
// value of every item (and wherever else an item is persisted).
//
// Format (varint = unsigned LEB128, as leveldb's PutVarint64; bytes =
// varint length followed by that many raw bytes):
//
//   item    := version:u8 (= 1)  map-body
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
// kMaxItemCodecDepth, and the input must be consumed exactly. On any
// violation DecodeItem returns Corruption; it never reads out of bounds,
// recurses without bound, or allocates out of proportion to the input size
// (a count is trusted only as far as the bytes left could hold it), whatever
// the bytes.
//
// Thread-safety: free functions without shared state.
#ifndef EDDY_STORE_ITEM_CODEC_H_
#define EDDY_STORE_ITEM_CODEC_H_

#include <string>
#include <string_view>

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

}  // namespace eddy::store

#endif  // EDDY_STORE_ITEM_CODEC_H_
