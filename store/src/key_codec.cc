// Key codec: see key_codec.h for the format.

#include "eddy/store/key_codec.h"

#include <cassert>
#include <cstring>

namespace eddy::store {
namespace {

constexpr char kEscape = '\x00';
constexpr char kEscapedZero = '\xFF';
constexpr char kTerminator = '\x01';

void AppendEscaped(std::string_view bytes, std::string* out) {
  const char* p = bytes.data();
  const char* const end = p + bytes.size();
  while (p < end) {
    const auto* zero = static_cast<const char*>(
        std::memchr(p, 0, static_cast<size_t>(end - p)));
    if (zero == nullptr) {
      out->append(p, static_cast<size_t>(end - p));
      break;
    }
    out->append(p, static_cast<size_t>(zero - p));
    out->push_back(kEscape);
    out->push_back(kEscapedZero);
    p = zero + 1;
  }
  out->push_back(kEscape);
  out->push_back(kTerminator);
}

Result<std::string> DecodeEscaped(std::string_view* in) {
  const std::string_view data = *in;
  std::string bytes;
  size_t pos = 0;
  for (;;) {
    const auto* zero = static_cast<const char*>(
        std::memchr(data.data() + pos, 0, data.size() - pos));
    if (zero == nullptr) return Status::Corruption("key: unterminated bytes");
    const auto at = static_cast<size_t>(zero - data.data());
    bytes.append(data.data() + pos, at - pos);
    if (at + 1 >= data.size()) {
      return Status::Corruption("key: truncated escape");
    }
    const char next = data[at + 1];
    pos = at + 2;
    if (next == kTerminator) break;
    if (next != kEscapedZero) return Status::Corruption("key: bad escape");
    bytes.push_back('\0');
  }
  in->remove_prefix(pos);
  return bytes;
}

uint32_t Rotl32(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

uint32_t LoadLittleEndian32(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

}  // namespace

void AppendKeyValue(const AttributeValue& v, std::string* out) {
  switch (v.type()) {
    case ValueType::kS:
    case ValueType::kB:
      AppendEscaped(v.scalar(), out);
      return;
    case ValueType::kN:
      v.AsNumber().AppendOrderedEncoding(out);
      return;
    default:
      assert(false && "AppendKeyValue: not a key type");
      return;
  }
}

Result<AttributeValue> DecodeKeyValue(ValueType type, std::string_view* in) {
  switch (type) {
    case ValueType::kS: {
      EDDY_ASSIGN_OR_RETURN(std::string s, DecodeEscaped(in));
      return AttributeValue::String(std::move(s));
    }
    case ValueType::kB: {
      EDDY_ASSIGN_OR_RETURN(std::string b, DecodeEscaped(in));
      return AttributeValue::Binary(std::move(b));
    }
    case ValueType::kN: {
      EDDY_ASSIGN_OR_RETURN(Number n, Number::DecodeOrdered(in));
      return AttributeValue::Num(n);
    }
    default:
      break;
  }
  std::string msg = "key attribute type must be S, N or B, not ";
  msg.append(ValueTypeName(type));
  return Status::InvalidArgument(std::move(msg));
}

uint32_t KeyHash(std::string_view bytes) {
  constexpr uint32_t kSeed = 0;
  constexpr uint32_t c1 = 0xcc9e2d51;
  constexpr uint32_t c2 = 0x1b873593;
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t len = bytes.size();
  const size_t blocks = len / 4;

  uint32_t h = kSeed;
  for (size_t i = 0; i < blocks; ++i) {
    uint32_t k = LoadLittleEndian32(data + 4 * i);
    k *= c1;
    k = Rotl32(k, 15);
    k *= c2;
    h ^= k;
    h = Rotl32(h, 13);
    h = h * 5 + 0xe6546b64;
  }

  const unsigned char* tail = data + 4 * blocks;
  uint32_t k = 0;
  switch (len & 3) {
    case 3:
      k ^= static_cast<uint32_t>(tail[2]) << 16;
      [[fallthrough]];
    case 2:
      k ^= static_cast<uint32_t>(tail[1]) << 8;
      [[fallthrough]];
    case 1:
      k ^= tail[0];
      k *= c1;
      k = Rotl32(k, 15);
      k *= c2;
      h ^= k;
  }

  // Only the low 32 bits of the length take part, as in the reference.
  h ^= static_cast<uint32_t>(len);
  h ^= h >> 16;
  h *= 0x85ebca6b;
  h ^= h >> 13;
  h *= 0xc2b2ae35;
  h ^= h >> 16;
  return h;
}

}  // namespace eddy::store
