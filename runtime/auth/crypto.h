// The hashing SigV4 needs: SHA-256, HMAC-SHA256 with a reusable key, hex,
// and a constant-time comparison. Thin wrappers over OpenSSL's SHA-256
// (which uses the CPU's SHA extensions where present).
//
// Thread-safety: functions are reentrant; an HmacKey is immutable after
// construction and may be shared between threads.
#ifndef EDDY_RUNTIME_AUTH_CRYPTO_H_
#define EDDY_RUNTIME_AUTH_CRYPTO_H_

#include <openssl/sha.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace eddy::runtime::auth {

using Digest = std::array<uint8_t, 32>;

Digest Sha256(std::string_view data);

// An HMAC-SHA256 key with its inner and outer pad states precomputed, so
// that each MAC costs only the message's blocks plus one outer block.
class HmacKey {
 public:
  HmacKey() = default;
  explicit HmacKey(std::string_view key);
  explicit HmacKey(const Digest& key)
      : HmacKey(std::string_view(reinterpret_cast<const char*>(key.data()),
                                 key.size())) {}

  Digest Mac(std::string_view message) const;
  // The MAC of the concatenation of `parts`, without building it.
  Digest Mac(std::initializer_list<std::string_view> parts) const;

 private:
  SHA256_CTX inner_{};
  SHA256_CTX outer_{};
};

// HMAC-SHA256 of `message` under `key` (one-off; no precomputation kept).
inline Digest HmacSha256(std::string_view key, std::string_view message) {
  return HmacKey(key).Mac(message);
}

// Lower-case hex of the 32 bytes.
std::string Hex(const Digest& digest);
void AppendHex(const Digest& digest, std::string* out);
// Writes the 64 hex characters to out[0..63].
void WriteHex(const Digest& digest, char* out);

// True when a and b are equal, in time that depends only on their lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// `n` random bytes from the operating system's CSPRNG (OpenSSL RAND_bytes).
// Returns false when the generator fails.
bool RandomBytes(uint8_t* out, size_t n);

}  // namespace eddy::runtime::auth

#endif  // EDDY_RUNTIME_AUTH_CRYPTO_H_
