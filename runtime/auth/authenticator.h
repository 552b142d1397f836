// Authenticator: who sent a request. Verifies the request's SigV4
// Authorization header against the identities of an IdentityStore, in
// DynamoDB's order of checks (as recorded against DynamoDB by dynalite):
//   1. Authorization present and "AWS4-..."      MissingAuthenticationToken
//   2. Credential, SignedHeaders, Signature and X-Amz-Date (or Date) present
//                                                IncompleteSignature
//   3. the date in ISO-8601 basic format         IncompleteSignature
//   4. the date within 15 minutes of now         InvalidSignature
//   5. host (and the date header) signed         InvalidSignature
//   6. algorithm AWS4-HMAC-SHA256                IncompleteSignature
//   7. credential of five parts                  IncompleteSignature
//   8. scope: region, service dynamodb, terminator, date
//                                                InvalidSignature
//   9. the access key id known                   UnrecognizedClient
//  10. x-amz-content-sha256 (when sent) = the body's hash, and the
//      signature itself (constant-time compare)  InvalidSignature
//  11. X-Amz-Security-Token matches              UnrecognizedClient
// Anonymous mode (no store) accepts any key and signature, as DynamoDB
// Local does, but still requires a well-formed header (checks 1-3, 6, 7).
//
// Derived signing keys are cached per thread by (key id, date, region) and
// the identity set's generation, so a request costs three SHA-256 passes:
// the body, the canonical request and the HMAC of the string to sign.
//
// Thread-safety: Authenticate() may be called concurrently; the Identity it
// returns stays valid until the same thread's next call.
#ifndef EDDY_RUNTIME_AUTH_AUTHENTICATOR_H_
#define EDDY_RUNTIME_AUTH_AUTHENTICATOR_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "auth/identity_store.h"
#include "http_server.h"

namespace eddy::runtime::auth {

struct AuthFailure {
  enum class Kind : uint8_t {
    kMissingToken,         // MissingAuthenticationTokenException
    kIncompleteSignature,  // IncompleteSignatureException
    kInvalidSignature,     // InvalidSignatureException
    kUnrecognizedClient,   // UnrecognizedClientException
  };
  Kind kind = Kind::kMissingToken;
  std::string message;  // DynamoDB's text, for the client.
  std::string reason;   // Short, for the audit log (never a secret).
};

struct AuthResult {
  bool ok = false;
  AuthFailure failure;                 // When !ok.
  const Identity* identity = nullptr;  // When ok and not anonymous.
  // As sent, when it could be read: a view into the request's
  // Authorization header, valid while the request is.
  std::string_view access_key_id;
};

class Authenticator {
 public:
  struct Options {
    // Null: anonymous mode.
    IdentityStore* store = nullptr;
    // The scope's region must be this one (with a store).
    std::string region = "us-east-1";
    int64_t max_skew_s = 15 * 60;
  };

  explicit Authenticator(Options options);

  bool anonymous() const { return options_.store == nullptr; }

  // `now_s` is the server's Unix time.
  AuthResult Authenticate(const HttpRequest& request, int64_t now_s) const;

 private:
  Options options_;
};

}  // namespace eddy::runtime::auth

#endif  // EDDY_RUNTIME_AUTH_AUTHENTICATOR_H_
