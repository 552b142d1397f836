#include "auth/sigv4.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <ctime>

namespace eddy::runtime::auth {
namespace {

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
}

void UriEncode(std::string_view in, bool keep_slash, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : in) {
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out->push_back(static_cast<char>(c));
    } else {
      out->push_back('%');
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    }
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string UriDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && HexValue(in[i + 1]) >= 0 &&
        HexValue(in[i + 2]) >= 0) {
      out.push_back(
          static_cast<char>(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2])));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

// Appends `value` with surrounding whitespace trimmed and inner runs of
// whitespace collapsed to one space.
void AppendNormalizedValue(std::string_view value, std::string* out) {
  size_t b = 0, e = value.size();
  while (b < e && IsSpace(value[b])) ++b;
  while (e > b && IsSpace(value[e - 1])) --e;
  value = value.substr(b, e - b);
  // Nearly every value has nothing to collapse: copy it whole.
  bool plain = true;
  for (size_t i = 0; i < value.size() && plain; ++i) {
    plain = value[i] != '\t' && (value[i] != ' ' || value[i + 1] != ' ');
  }
  if (plain) {
    out->append(value);
    return;
  }
  bool in_space = false;
  for (char c : value) {
    if (IsSpace(c)) {
      in_space = true;
      continue;
    }
    if (in_space) out->push_back(' ');
    in_space = false;
    out->push_back(c);
  }
}

int Digits(std::string_view s, size_t at, size_t n) {
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

}  // namespace

SigV4Authorization ParseAuthorization(std::string_view header) {
  SigV4Authorization out;
  const char* p = header.data();
  const char* const end = p + header.size();
  auto separator = [](char c) { return c == ' ' || c == ',' || c == '\t'; };
  while (p < end && IsSpace(*p)) ++p;
  const char* start = p;
  while (p < end && !separator(*p)) ++p;
  out.algorithm = std::string_view(start, static_cast<size_t>(p - start));
  // Members: one pass, noting each one's '=' on the way.
  while (p < end) {
    while (p < end && separator(*p)) ++p;
    start = p;
    const char* eq = nullptr;
    while (p < end && !separator(*p)) {
      if (*p == '=' && eq == nullptr) eq = p;
      ++p;
    }
    if (eq == nullptr) continue;
    const std::string_view name(start, static_cast<size_t>(eq - start));
    const std::string_view value(eq + 1, static_cast<size_t>(p - eq - 1));
    if (name == "Credential") {
      out.credential = value;
      out.has_credential = !value.empty();
    } else if (name == "SignedHeaders") {
      out.signed_headers = value;
      out.has_signed_headers = !value.empty();
    } else if (name == "Signature") {
      out.signature = value;
      out.has_signature = !value.empty();
    }
  }
  return out;
}

bool SplitCredential(std::string_view credential, CredentialScope* out) {
  if (!credential.empty() && credential.back() == '/') {
    credential.remove_suffix(1);
  }
  std::string_view parts[5];
  size_t n = 0;
  size_t start = 0;
  while (true) {
    const size_t slash = credential.find('/', start);
    if (n == 5) return false;
    parts[n++] = credential.substr(start, slash == std::string_view::npos
                                              ? std::string_view::npos
                                              : slash - start);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (n != 5) return false;
  *out = {parts[0], parts[1], parts[2], parts[3], parts[4]};
  return true;
}

bool ParseAmzDate(std::string_view text, int64_t* epoch_s) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return false;
  const int year = Digits(text, 0, 4), month = Digits(text, 4, 2),
            day = Digits(text, 6, 2), hour = Digits(text, 9, 2),
            minute = Digits(text, 11, 2), second = Digits(text, 13, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 ||
      hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) {
    return false;
  }
  // Days since 1970-01-01 of the proleptic Gregorian date (H. Hinnant's
  // days_from_civil): timegm() would consult the time zone machinery.
  const int64_t y = year - (month <= 2 ? 1 : 0);
  const int64_t era = y / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = era * 146097 + doe - 719468;
  *epoch_s = days * 86400 + hour * 3600 + minute * 60 + second;
  return true;
}

std::string FormatAmzDate(int64_t epoch_s) {
  const time_t t = static_cast<time_t>(epoch_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string CanonicalUri(std::string_view path) {
  std::vector<std::string_view> segments;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    const std::string_view seg = path.substr(start, slash - start);
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    start = slash + 1;
  }
  const bool trailing =
      !segments.empty() && !path.empty() && path.back() == '/';
  std::string out = "/";
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out.push_back('/');
    UriEncode(segments[i], false, &out);
  }
  if (trailing) out.push_back('/');
  return out;
}

std::string CanonicalQuery(std::string_view query) {
  if (query.empty()) return std::string();
  std::vector<std::pair<std::string, std::string>> params;
  size_t start = 0;
  while (start <= query.size()) {
    size_t amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    const std::string_view pair = query.substr(start, amp - start);
    if (!pair.empty()) {
      const size_t eq = pair.find('=');
      std::string name, value;
      UriEncode(UriDecode(pair.substr(0, eq)), false, &name);
      if (eq != std::string_view::npos) {
        UriEncode(UriDecode(pair.substr(eq + 1)), false, &value);
      }
      params.emplace_back(std::move(name), std::move(value));
    }
    start = amp + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

namespace {

// Appends the canonical header line of `name` (lower-case); false when the
// request has no such header.
bool AppendHeaderLine(const HeaderList& headers, std::string_view name,
                      std::string* out) {
  bool found = false;
  out->append(name);
  out->push_back(':');
  for (const auto& [header_name, value] : headers) {
    if (header_name != name) continue;
    if (found) out->push_back(',');
    found = true;
    AppendNormalizedValue(value, out);
  }
  out->push_back('\n');
  return found;
}

// Whether `list` is ";"-separated non-empty lower-case names in strictly
// increasing order: what every SDK sends, and then the list is its own
// canonical form.
bool IsCanonicalList(std::string_view list) {
  std::string_view previous;
  size_t start = 0;
  while (start <= list.size()) {
    size_t semi = list.find(';', start);
    if (semi == std::string_view::npos) semi = list.size();
    const std::string_view name = list.substr(start, semi - start);
    if (name.empty() || (!previous.empty() && !(previous < name))) {
      return false;
    }
    for (char c : name) {
      if (c >= 'A' && c <= 'Z') return false;
    }
    previous = name;
    start = semi + 1;
  }
  return !list.empty();
}

}  // namespace

bool AppendCanonicalHeaders(const HeaderList& headers,
                            std::string_view signed_headers, std::string* out,
                            std::string* signed_list, std::string* missing) {
  auto fail = [&](std::string_view name) {
    if (missing != nullptr) missing->assign(name);
    return false;
  };
  if (IsCanonicalList(signed_headers)) {
    size_t start = 0;
    while (start < signed_headers.size()) {
      size_t semi = signed_headers.find(';', start);
      if (semi == std::string_view::npos) semi = signed_headers.size();
      const std::string_view name = signed_headers.substr(start, semi - start);
      if (!AppendHeaderLine(headers, name, out)) return fail(name);
      start = semi + 1;
    }
    signed_list->assign(signed_headers);
    return true;
  }
  // Any other list: lower-cased, empty names dropped, sorted, de-duplicated.
  std::vector<std::string> names;
  size_t start = 0;
  while (start <= signed_headers.size()) {
    size_t semi = signed_headers.find(';', start);
    if (semi == std::string_view::npos) semi = signed_headers.size();
    std::string name(signed_headers.substr(start, semi - start));
    for (char& c : name) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    }
    if (!name.empty()) names.push_back(std::move(name));
    start = semi + 1;
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  signed_list->clear();
  for (const std::string& name : names) {
    if (!signed_list->empty()) signed_list->push_back(';');
    signed_list->append(name);
    if (!AppendHeaderLine(headers, name, out)) return fail(name);
  }
  return true;
}

bool BuildCanonicalRequest(std::string_view method, std::string_view target,
                           const HeaderList& headers,
                           std::string_view signed_headers,
                           std::string_view payload_hash_hex, std::string* out,
                           std::string* missing) {
  const size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query =
      q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  out->clear();
  out->append(method);
  out->push_back('\n');
  if (path == "/") {
    out->push_back('/');  // DynamoDB's only path: skip the general work.
  } else {
    out->append(CanonicalUri(path));
  }
  out->push_back('\n');
  out->append(CanonicalQuery(query));
  out->push_back('\n');
  std::string signed_list;
  if (!AppendCanonicalHeaders(headers, signed_headers, out, &signed_list,
                              missing)) {
    return false;
  }
  out->push_back('\n');
  out->append(signed_list);
  out->push_back('\n');
  out->append(payload_hash_hex);
  return true;
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  std::string out;
  out.reserve(kAlgorithm.size() + amz_date.size() + scope.size() + 68);
  out.append(kAlgorithm);
  out.push_back('\n');
  out.append(amz_date);
  out.push_back('\n');
  out.append(scope);
  out.push_back('\n');
  AppendHex(Sha256(canonical_request), &out);
  return out;
}

Digest DeriveSigningKey(std::string_view secret, std::string_view date,
                        std::string_view region, std::string_view service) {
  std::string k_secret = "AWS4";
  k_secret.append(secret);
  const Digest k_date = HmacSha256(k_secret, date);
  OPENSSL_cleanse(k_secret.data(), k_secret.size());
  const Digest k_region = HmacKey(k_date).Mac(region);
  const Digest k_service = HmacKey(k_region).Mac(service);
  return HmacKey(k_service).Mac("aws4_request");
}

std::string SignAuthorization(const SigningInput& input) {
  std::string signed_headers;
  std::vector<std::string> names;
  for (const auto& [name, value] : *input.headers) names.push_back(name);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  for (const std::string& name : names) {
    if (!signed_headers.empty()) signed_headers.push_back(';');
    signed_headers += name;
  }
  std::string canonical;
  BuildCanonicalRequest(input.method, input.target, *input.headers,
                        signed_headers, Hex(Sha256(input.body)), &canonical);
  const std::string_view date = input.amz_date.substr(0, 8);
  std::string scope;
  scope.append(date).append("/").append(input.region).append("/");
  scope.append(input.service).append("/aws4_request");
  const Digest key = DeriveSigningKey(input.secret_access_key, date,
                                      input.region, input.service);
  const std::string to_sign = StringToSign(input.amz_date, scope, canonical);
  std::string out(kAlgorithm);
  out.append(" Credential=").append(input.access_key_id).append("/");
  out.append(scope).append(", SignedHeaders=").append(signed_headers);
  out.append(", Signature=");
  AppendHex(HmacKey(key).Mac(to_sign), &out);
  return out;
}

}  // namespace eddy::runtime::auth
