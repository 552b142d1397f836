#include "auth/authenticator.h"

#include <array>
#include <memory>

#include "auth/sigv4.h"

namespace eddy::runtime::auth {
namespace {

using Kind = AuthFailure::Kind;

AuthResult Fail(Kind kind, std::string message, std::string reason,
                std::string_view access_key_id = {}) {
  AuthResult r;
  r.failure.kind = kind;
  r.failure.message = std::move(message);
  r.failure.reason = std::move(reason);
  r.access_key_id = access_key_id;
  return r;
}

bool ListContains(std::string_view list, std::string_view name) {
  size_t start = 0;
  while (start <= list.size()) {
    size_t semi = list.find(';', start);
    if (semi == std::string_view::npos) semi = list.size();
    const std::string_view item = list.substr(start, semi - start);
    if (item.size() == name.size()) {
      bool same = true;
      for (size_t i = 0; i < item.size() && same; ++i) {
        const char c = item[i];
        same =
            (c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c) == name[i];
      }
      if (same) return true;
    }
    start = semi + 1;
  }
  return false;
}

// Per loop thread: the identity set in use and derived signing keys.
struct ThreadCache {
  uint64_t generation = 0;
  std::shared_ptr<const IdentitySet> identities;
  struct Key {
    uint64_t generation = 0;
    std::string access_key_id;
    std::string date;
    std::string region;
    HmacKey key;
  };
  static constexpr size_t kKeys = 8;
  std::array<Key, kKeys> keys;
  size_t next = 0;
  std::string canonical;  // Reused buffer.

  const HmacKey& SigningKey(const Identity& identity, std::string_view date,
                            std::string_view region) {
    for (const Key& k : keys) {
      if (k.generation == generation && k.date == date && k.region == region &&
          k.access_key_id == identity.access_key_id) {
        return k.key;
      }
    }
    Key& k = keys[next++ % kKeys];
    k.generation = generation;
    k.access_key_id = identity.access_key_id;
    k.date = std::string(date);
    k.region = std::string(region);
    k.key = HmacKey(
        DeriveSigningKey(identity.secret_access_key, date, region, "dynamodb"));
    return k.key;
  }
};
thread_local ThreadCache t_cache;

}  // namespace

Authenticator::Authenticator(Options options) : options_(std::move(options)) {}

AuthResult Authenticator::Authenticate(const HttpRequest& request,
                                       int64_t now_s) const {
  // 1. Presence.
  const std::string_view header = request.Header("authorization");
  if (header.substr(0, 5) != "AWS4-") {
    return Fail(Kind::kMissingToken, "Request is missing Authentication Token",
                header.empty() ? "no Authorization header"
                               : "Authorization is not AWS4-");
  }
  // 2. Completeness.
  const SigV4Authorization auth = ParseAuthorization(header);
  std::string_view date_header = "x-amz-date";
  std::string_view amz_date = request.Header("x-amz-date");
  if (amz_date.empty()) {
    date_header = "date";
    amz_date = request.Header("date");
  }
  {
    std::string missing;
    if (!auth.has_credential) {
      missing += "Authorization header requires 'Credential' parameter. ";
    }
    if (!auth.has_signature) {
      missing += "Authorization header requires 'Signature' parameter. ";
    }
    if (!auth.has_signed_headers) {
      missing += "Authorization header requires 'SignedHeaders' parameter. ";
    }
    if (amz_date.empty()) {
      missing +=
          "Authorization header requires existence of either a 'X-Amz-Date' "
          "or a 'Date' header. ";
    }
    if (!missing.empty()) {
      return Fail(Kind::kIncompleteSignature,
                  missing + "Authorization=" + std::string(header),
                  "incomplete Authorization header");
    }
  }
  // 3. Date format.
  int64_t signed_at = 0;
  if (!ParseAmzDate(amz_date, &signed_at)) {
    return Fail(Kind::kIncompleteSignature,
                "Date must be in ISO-8601 'basic format'. Got '" +
                    std::string(amz_date) +
                    "'. See http://en.wikipedia.org/wiki/ISO_8601",
                "malformed date");
  }
  const bool verify = options_.store != nullptr;
  // 4. Expiry.
  if (verify && signed_at < now_s - options_.max_skew_s) {
    return Fail(Kind::kInvalidSignature,
                "Signature expired: " + std::string(amz_date) +
                    " is now earlier than " +
                    FormatAmzDate(now_s - options_.max_skew_s) + " (" +
                    FormatAmzDate(now_s) + " - 15 min.)",
                "signature expired");
  }
  if (verify && signed_at > now_s + options_.max_skew_s) {
    return Fail(Kind::kInvalidSignature,
                "Signature not yet current: " + std::string(amz_date) +
                    " is still later than " +
                    FormatAmzDate(now_s + options_.max_skew_s) + " (" +
                    FormatAmzDate(now_s) + " + 15 min.)",
                "signature not yet current");
  }
  // 5. Host and date signed.
  if (verify && !ListContains(auth.signed_headers, "host")) {
    return Fail(Kind::kInvalidSignature,
                "'Host' must be a 'SignedHeader' in the AWS Authorization.",
                "host not signed");
  }
  if (verify && !ListContains(auth.signed_headers, date_header)) {
    return Fail(Kind::kInvalidSignature,
                date_header == "date"
                    ? "'Date' must be a 'SignedHeader' in the AWS "
                      "Authorization."
                    : "'X-Amz-Date' must be a 'SignedHeader' in the AWS "
                      "Authorization.",
                "date not signed");
  }
  // 6. Algorithm.
  if (auth.algorithm != kAlgorithm) {
    return Fail(Kind::kIncompleteSignature,
                "Unsupported AWS 'algorithm': '" + std::string(auth.algorithm) +
                    "' (only AWS4-HMAC-SHA256 for now). ",
                "unsupported algorithm");
  }
  // 7. Credential shape.
  CredentialScope scope;
  if (!SplitCredential(auth.credential, &scope)) {
    return Fail(Kind::kIncompleteSignature,
                "Credential must have exactly 5 slash-delimited elements, "
                "e.g. keyid/date/region/service/term, got '" +
                    std::string(auth.credential) + "'",
                "malformed credential");
  }
  if (!verify) {
    AuthResult ok;
    ok.ok = true;
    ok.access_key_id = scope.access_key_id;
    return ok;
  }
  // 8. Scope.
  {
    std::string wrong;
    if (scope.region != options_.region) {
      wrong += "Credential should be scoped to a valid region, not '" +
               std::string(scope.region) + "'. ";
    }
    if (scope.service != "dynamodb") {
      wrong += "Credential should be scoped to correct service: 'dynamodb'. ";
    }
    if (scope.terminator != "aws4_request") {
      wrong +=
          "Credential should be scoped with a valid terminator: "
          "'aws4_request', not '" +
          std::string(scope.terminator) + "'. ";
    }
    if (scope.date != amz_date.substr(0, 8)) {
      wrong +=
          "Date in Credential scope does not match YYYYMMDD from ISO-8601 "
          "version of date from HTTP: '" +
          std::string(scope.date) + "' != '" +
          std::string(amz_date.substr(0, 8)) + "', from '" +
          std::string(amz_date) + "'.";
    }
    if (!wrong.empty()) {
      while (!wrong.empty() && wrong.back() == ' ') wrong.pop_back();
      return Fail(Kind::kInvalidSignature, std::move(wrong), "credential scope",
                  scope.access_key_id);
    }
  }
  // 9. The key.
  ThreadCache& cache = t_cache;
  const uint64_t generation = options_.store->generation();
  if (cache.identities == nullptr || cache.generation != generation) {
    cache.identities = options_.store->Current();
    cache.generation = cache.identities->generation();
  }
  const Identity* identity = cache.identities->Find(scope.access_key_id);
  if (identity == nullptr) {
    return Fail(Kind::kUnrecognizedClient,
                "The security token included in the request is invalid.",
                "unknown access key", scope.access_key_id);
  }
  // 10. The payload hash and the signature. Nothing is allocated on this
  // path (the canonical request goes into a per-thread buffer); the string
  // to sign is only built for the error message.
  char body_hash[64];
  WriteHex(Sha256(request.body), body_hash);
  const std::string_view body_hash_hex(body_hash, sizeof(body_hash));
  const std::string_view claimed = request.Header("x-amz-content-sha256");
  if (!claimed.empty() && claimed != body_hash_hex) {
    return Fail(Kind::kInvalidSignature,
                "The provided 'x-amz-content-sha256' header does not match "
                "what was computed.",
                "payload hash mismatch", scope.access_key_id);
  }
  std::string& canonical = cache.canonical;
  std::string missing;
  if (!BuildCanonicalRequest(request.method, request.target, request.headers,
                             auth.signed_headers, body_hash_hex, &canonical,
                             &missing)) {
    return Fail(Kind::kInvalidSignature,
                "The request signature we calculated does not match the "
                "signature you provided. Check your AWS Secret Access Key and "
                "signing method. Consult the service documentation for "
                "details.",
                "signed header " + missing + " is not in the request",
                scope.access_key_id);
  }
  std::string_view credential_scope =
      auth.credential.substr(scope.access_key_id.size() + 1);
  if (credential_scope.back() == '/') credential_scope.remove_suffix(1);
  char canonical_hash[64];
  WriteHex(Sha256(canonical), canonical_hash);
  char expected[64];
  WriteHex(cache.SigningKey(*identity, scope.date, scope.region)
               .Mac({kAlgorithm, "\n", amz_date, "\n", credential_scope, "\n",
                     std::string_view(canonical_hash, sizeof(canonical_hash))}),
           expected);
  if (!ConstantTimeEquals(std::string_view(expected, sizeof(expected)),
                          auth.signature)) {
    return Fail(Kind::kInvalidSignature,
                "The request signature we calculated does not match the "
                "signature you provided. Check your AWS Secret Access Key and "
                "signing method. Consult the service documentation for "
                "details.\n\nThe Canonical String for this request should "
                "have been\n'" +
                    canonical + "'\n\nThe String-to-Sign should have been\n'" +
                    StringToSign(amz_date, credential_scope, canonical) + "'\n",
                "signature mismatch", scope.access_key_id);
  }
  // 11. Temporary credentials.
  const std::string_view token = request.Header("x-amz-security-token");
  if (!token.empty() || !identity->session_token.empty()) {
    if (!ConstantTimeEquals(token, identity->session_token)) {
      return Fail(Kind::kUnrecognizedClient,
                  "The security token included in the request is invalid",
                  "session token mismatch", scope.access_key_id);
    }
  }
  AuthResult ok;
  ok.ok = true;
  ok.identity = identity;
  ok.access_key_id = scope.access_key_id;
  return ok;
}

}  // namespace eddy::runtime::auth
