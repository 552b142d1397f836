// Varints: unsigned LEB128 (7 bits a byte, low groups first, the high bit
// set on every byte but the last), as LevelDB's and Protobuf's. Used where
// Eddy writes lengths and counts of its own formats: the item codec, the
// stream log's record headers, the worker's hand-built batches. Decoding
// stays with each format, which decides what a malformed varint means.
//
// Thread-safety: pure functions.
#ifndef EDDY_VARINT_H_
#define EDDY_VARINT_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace eddy {

// The longest encoding: a 64-bit value in 10 bytes.
inline constexpr size_t kMaxVarint64Bytes = 10;

// How many bytes EncodeVarint writes for `v`.
inline size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Writes `v` at dst (room for VarintSize(v) bytes); returns the end.
inline char* EncodeVarint(uint64_t v, char* dst) {
  while (v >= 0x80) {
    *dst++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *dst++ = static_cast<char>(v);
  return dst;
}

inline void AppendVarint(uint64_t v, std::string* out) {
  char buf[kMaxVarint64Bytes];
  out->append(buf, static_cast<size_t>(EncodeVarint(v, buf) - buf));
}

}  // namespace eddy

#endif  // EDDY_VARINT_H_
