// Fuzz target: SigV4 as the server reads it (runtime/auth/sigv4.h): the
// Authorization header parser, the credential scope, X-Amz-Date, and the
// canonicalisation of a request (URI, query, signed headers), then the
// whole anonymous-mode Authenticator.
//
// Input: lines. The first is the Authorization header, the second the
// request-target, the third the names to sign; then "name:value" header
// lines until an empty line; the rest is the body.
//
// Properties: the parser's views lie inside the header; a date that parses
// formats back to the same text; canonical URIs and queries hold only
// what AWS's encoding lets through; the canonical request names exactly
// the signed headers.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/authenticator.h"
#include "auth/sigv4.h"
#include "fuzz_util.h"

namespace eddy::runtime::auth {
namespace {

bool Inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() &&
          part.data() + part.size() <= whole.data() + whole.size());
}

// Only unreserved characters, `also_allowed`, and %XX with upper-case hex.
bool IsEncoded(std::string_view text, std::string_view also_allowed) {
  auto hex = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                            c == '.' || c == '~';
    if (unreserved || also_allowed.find(c) != std::string_view::npos) {
      continue;
    }
    if (c != '%' || i + 2 >= text.size() || !hex(text[i + 1]) ||
        !hex(text[i + 2])) {
      return false;
    }
    i += 2;
  }
  return true;
}

void CheckDate(std::string_view text) {
  int64_t epoch_s = 0;
  if (ParseAmzDate(text, &epoch_s)) {
    EDDY_FUZZ_CHECK(FormatAmzDate(epoch_s) == text);
  }
}

}  // namespace
}  // namespace eddy::runtime::auth

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace eddy::runtime::auth;
  eddy::fuzz::FuzzInput input(data, size);
  const std::string header(input.Until('\n'));
  const std::string target(input.Until('\n'));
  const std::string signed_headers(input.Until('\n'));
  HeaderList headers;
  while (!input.empty()) {
    const std::string_view line = input.Until('\n');
    if (line.empty()) break;
    const size_t colon = line.find(':');
    std::string name(line.substr(0, colon));
    for (char& c : name) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    headers.emplace_back(std::move(name),
                         colon == std::string_view::npos
                             ? std::string()
                             : std::string(line.substr(colon + 1)));
  }
  const std::string body(input.Rest());

  const SigV4Authorization parsed = ParseAuthorization(header);
  EDDY_FUZZ_CHECK(Inside(parsed.algorithm, header));
  EDDY_FUZZ_CHECK(Inside(parsed.credential, header));
  EDDY_FUZZ_CHECK(Inside(parsed.signed_headers, header));
  EDDY_FUZZ_CHECK(Inside(parsed.signature, header));
  CredentialScope scope;
  if (SplitCredential(parsed.credential, &scope)) {
    for (std::string_view part : {scope.access_key_id, scope.date, scope.region,
                                  scope.service, scope.terminator}) {
      EDDY_FUZZ_CHECK(Inside(part, parsed.credential));
      EDDY_FUZZ_CHECK(part.find('/') == std::string_view::npos);
    }
  }
  CheckDate(scope.date);
  for (const auto& [name, value] : headers) {
    if (name == "x-amz-date") CheckDate(value);
  }

  const std::string_view path =
      std::string_view(target).substr(0, target.find('?'));
  const std::string uri = CanonicalUri(path);
  EDDY_FUZZ_CHECK(!uri.empty() && uri.front() == '/');
  EDDY_FUZZ_CHECK(IsEncoded(uri, "/"));
  if (const size_t q = target.find('?'); q != std::string::npos) {
    EDDY_FUZZ_CHECK(IsEncoded(CanonicalQuery(target.substr(q + 1)), "=&"));
  }

  std::string canonical, missing;
  const std::string hash(64, '0');
  if (BuildCanonicalRequest("POST", target, headers, signed_headers, hash,
                            &canonical, &missing)) {
    EDDY_FUZZ_CHECK(
        canonical.compare(0, 6 + uri.size(), "POST\n" + uri + "\n") == 0);
    EDDY_FUZZ_CHECK(canonical.size() > hash.size() &&
                    canonical.compare(canonical.size() - hash.size() - 1,
                                      std::string::npos, "\n" + hash) == 0);
  } else {
    // The header it names is indeed absent.
    for (const auto& [name, value] : headers) {
      EDDY_FUZZ_CHECK(name != missing);
    }
  }

  // The whole check, as the server runs it on every request.
  eddy::runtime::HttpRequest request;
  request.method = "POST";
  request.target = target;
  request.headers = headers;
  request.headers.emplace_back("authorization", header);
  request.body = body;
  static const Authenticator anonymous(Authenticator::Options{});
  (void)anonymous.Authenticate(request, 1'700'000'000);
  return 0;
}
