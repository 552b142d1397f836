// AWS Signature Version 4, as a DynamoDB endpoint verifies it: the parts of
// the algorithm (canonical request, string to sign, signing key) and the
// parsing of the Authorization header.
//
// Canonicalisation follows AWS's general rules (so that AWS's published
// test suite applies): the URI path is normalised (empty, "." and ".."
// segments removed) and each segment URI-encoded once more; query
// parameters are sorted by encoded name, then value; each signed header is
// "name:value" with the values of repeated headers joined by "," in arrival
// order, surrounding whitespace trimmed and runs of spaces collapsed.
//
// Thread-safety: functions only; all reentrant.
#ifndef EDDY_RUNTIME_AUTH_SIGV4_H_
#define EDDY_RUNTIME_AUTH_SIGV4_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/crypto.h"

namespace eddy::runtime::auth {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

// Header lists as the HTTP transport keeps them: names lower-case, values
// without surrounding whitespace, repeated names repeated, arrival order.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

// The members of an Authorization header. Views point into the header.
struct SigV4Authorization {
  std::string_view algorithm;  // "AWS4-HMAC-SHA256"
  std::string_view
      credential;  // "AKID/20150830/us-east-1/dynamodb/aws4_request"
  std::string_view signed_headers;  // "host;x-amz-date"
  std::string_view signature;       // 64 hex digits
  bool has_credential = false;
  bool has_signed_headers = false;
  bool has_signature = false;
};

// Splits "ALG Credential=..., SignedHeaders=..., Signature=..." (members
// separated by commas and/or spaces, in any order). Members that are absent
// leave their has_ flag false; unknown members are ignored.
SigV4Authorization ParseAuthorization(std::string_view header);

// The five parts of a credential scope: key id / date / region / service /
// terminator. Returns false unless there are exactly five (a trailing slash
// is ignored, as AWS does).
struct CredentialScope {
  std::string_view access_key_id, date, region, service, terminator;
};
bool SplitCredential(std::string_view credential, CredentialScope* out);

// True for YYYYMMDD'T'HHMMSS'Z' naming a real calendar time; *epoch_s is
// its Unix time.
bool ParseAmzDate(std::string_view text, int64_t* epoch_s);
// Unix time -> YYYYMMDD'T'HHMMSS'Z'.
std::string FormatAmzDate(int64_t epoch_s);

// The canonical forms of the request's parts.
std::string CanonicalUri(std::string_view path);
std::string CanonicalQuery(std::string_view query);
// Appends "name:value\n" for each name of `signed_headers` (";"-separated,
// lower-case), in sorted order, and sets *signed_list to the sorted names
// joined by ";". Returns false (and the first missing name in *missing)
// when a signed header is absent from the request.
bool AppendCanonicalHeaders(const HeaderList& headers,
                            std::string_view signed_headers, std::string* out,
                            std::string* signed_list,
                            std::string_view* missing);

// The whole canonical request; `target` is the request-target ("/?a=b").
// Returns false when a signed header is missing (see above).
bool BuildCanonicalRequest(std::string_view method, std::string_view target,
                           const HeaderList& headers,
                           std::string_view signed_headers,
                           std::string_view payload_hash_hex, std::string* out);

// "AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex sha256(canonical)>".
std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);

// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service),
// "aws4_request").
Digest DeriveSigningKey(std::string_view secret, std::string_view date,
                        std::string_view region, std::string_view service);

// Client side, for tests and tools: the Authorization header value for a
// request whose headers already include host and x-amz-date (and any other
// header to sign). Signs every header in `headers`.
struct SigningInput {
  std::string_view method = "POST";
  std::string_view target = "/";
  const HeaderList* headers = nullptr;
  std::string_view body;
  std::string_view access_key_id;
  std::string_view secret_access_key;
  std::string_view region;
  std::string_view service = "dynamodb";
  std::string_view amz_date;  // YYYYMMDDTHHMMSSZ
};
std::string SignAuthorization(const SigningInput& input);

}  // namespace eddy::runtime::auth

#endif  // EDDY_RUNTIME_AUTH_SIGV4_H_
