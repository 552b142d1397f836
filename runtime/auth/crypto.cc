// OpenSSL 3 deprecates the SHA256_* functions in favour of EVP, but EVP's
// per-call dispatch costs more than hashing a typical request: SigV4 hashes
// four short messages per request, so the direct calls are kept here.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "auth/crypto.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cstring>

namespace eddy::runtime::auth {

Digest Sha256(std::string_view data) {
  // Not SHA256(): in OpenSSL 3 it fetches the algorithm on every call
  // (EVP_Q_digest), which costs more than hashing a request.
  Digest out;
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, data.data(), data.size());
  SHA256_Final(out.data(), &ctx);
  return out;
}

HmacKey::HmacKey(std::string_view key) {
  constexpr size_t kBlock = SHA256_CBLOCK;  // 64
  uint8_t block[kBlock] = {};
  if (key.size() > kBlock) {
    const Digest hashed = Sha256(key);
    std::memcpy(block, hashed.data(), hashed.size());
  } else {
    std::memcpy(block, key.data(), key.size());
  }
  uint8_t pad[kBlock];
  for (size_t i = 0; i < kBlock; ++i) pad[i] = block[i] ^ 0x36;
  SHA256_Init(&inner_);
  SHA256_Update(&inner_, pad, kBlock);
  for (size_t i = 0; i < kBlock; ++i) pad[i] = block[i] ^ 0x5c;
  SHA256_Init(&outer_);
  SHA256_Update(&outer_, pad, kBlock);
  OPENSSL_cleanse(block, sizeof(block));
  OPENSSL_cleanse(pad, sizeof(pad));
}

Digest HmacKey::Mac(std::string_view message) const { return Mac({message}); }

Digest HmacKey::Mac(std::initializer_list<std::string_view> parts) const {
  Digest inner_hash;
  SHA256_CTX ctx = inner_;
  for (std::string_view part : parts) {
    SHA256_Update(&ctx, part.data(), part.size());
  }
  SHA256_Final(inner_hash.data(), &ctx);
  Digest out;
  ctx = outer_;
  SHA256_Update(&ctx, inner_hash.data(), inner_hash.size());
  SHA256_Final(out.data(), &ctx);
  return out;
}

void WriteHex(const Digest& digest, char* out) {
  // Two characters per byte from one table lookup.
  static const auto kPairs = [] {
    std::array<char, 512> t{};
    constexpr char kHex[] = "0123456789abcdef";
    for (int b = 0; b < 256; ++b) {
      t[2 * b] = kHex[b >> 4];
      t[2 * b + 1] = kHex[b & 15];
    }
    return t;
  }();
  for (size_t i = 0; i < digest.size(); ++i) {
    std::memcpy(out + 2 * i, &kPairs[2 * digest[i]], 2);
  }
}

void AppendHex(const Digest& digest, std::string* out) {
  char buf[2 * sizeof(Digest)];
  WriteHex(digest, buf);
  out->append(buf, sizeof(buf));
}

std::string Hex(const Digest& digest) {
  std::string out;
  AppendHex(digest, &out);
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool RandomBytes(uint8_t* out, size_t n) {
  return RAND_bytes(out, static_cast<int>(n)) == 1;
}

}  // namespace eddy::runtime::auth
