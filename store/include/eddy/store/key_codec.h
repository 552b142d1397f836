// Key codec: order-preserving, self-delimiting encodings of key attribute
// values (S, N, B) for building LevelDB keys, and KeyHash, the stable hash
// that spreads partition keys.
//
// Encoding of one key value (no type tag: a table's key types are fixed):
//
//   S, B: the raw bytes with each 0x00 written as 0x00 0xFF, then the
//         terminator 0x00 0x01. Bytewise order of the raw bytes (DynamoDB's
//         order: UTF-8 bytes for S, unsigned bytes for B) is preserved: at the
//         first differing raw byte the encodings differ in the same way
//         (0x00 becomes 0x00 0xFF, above the terminator's 0x00 0x01), and a
//         shorter value's terminator sorts below any continuation.
//   N:    Number::AppendOrderedEncoding (see number.h): numeric order.
//
// Properties, for values a and b of one type:
//   - memcmp(enc(a), enc(b)) has the sign of DynamoDB's comparison of a, b;
//   - enc(a) is never a proper prefix of enc(b), so enc(pk) + enc(sk)
//     sorts by pk, then sk, and a scan over the prefix enc(pk) sees exactly
//     the items of that partition key;
//   - decoding consumes exactly enc(a).
//
// Thread-safety: free functions without shared state.
#ifndef EDDY_STORE_KEY_CODEC_H_
#define EDDY_STORE_KEY_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "eddy/result.h"
#include "eddy/store/attribute_value.h"

namespace eddy::store {

// True for the types a key attribute may have: S, N and B.
inline bool IsKeyType(ValueType type) {
  return type == ValueType::kS || type == ValueType::kN ||
         type == ValueType::kB;
}

// Appends the encoding of `v` to *out.
// REQUIRES: IsKeyType(v.type()).
void AppendKeyValue(const AttributeValue& v, std::string* out);

// Decodes one value of `type` from the front of *in and advances *in past
// it. Returns Corruption on malformed input (leaving *in unchanged) and
// InvalidArgument when `type` is not a key type.
Result<AttributeValue> DecodeKeyValue(ValueType type, std::string_view* in);

// A stable 32-bit hash for spreading partition keys over shards:
// MurmurHash3_x86_32 (Austin Appleby's public-domain reference algorithm)
// with seed 0, reading blocks little-endian whatever the host byte order.
// The value for given bytes never changes across runs, builds or platforms;
// it is persisted implicitly (which shard holds which key), so it must never
// be changed. Callers hash the key's encoding (AppendKeyValue), so that S
// "1" and N 1 hash differently.
uint32_t KeyHash(std::string_view bytes);

}  // namespace eddy::store

#endif  // EDDY_STORE_KEY_CODEC_H_
