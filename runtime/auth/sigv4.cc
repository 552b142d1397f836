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
  if (value.find("  ") == std::string_view::npos &&
      value.find('\t') == std::string_view::npos) {
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
  auto is_separator = [](char c) { return c == ' ' || c == ',' || c == '\t'; };
  size_t i = 0;
  while (i < header.size() && IsSpace(header[i])) ++i;
  size_t end = i;
  while (end < header.size() && !is_separator(header[end])) ++end;
  out.algorithm = header.substr(i, end - i);
  i = end;
  while (i < header.size()) {
    while (i < header.size() && is_separator(header[i])) ++i;
    end = i;
    while (end < header.size() && !is_separator(header[end])) ++end;
    const std::string_view member = header.substr(i, end - i);
    i = end;
    const size_t eq = member.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view name = member.substr(0, eq);
    const std::string_view value = member.substr(eq + 1);
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
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  *epoch_s = static_cast<int64_t>(timegm(&tm));
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

bool AppendCanonicalHeaders(const HeaderList& headers,
                            std::string_view signed_headers, std::string* out,
                            std::string* signed_list) {
  // Header names are stored lower-case; SDKs send the list lower-case and
  // sorted, which is the fast path. Anything else is normalised first.
  bool lower = true;
  for (char c : signed_headers) lower = lower && !(c >= 'A' && c <= 'Z');
  std::string lowered;
  if (!lower) {
    lowered.assign(signed_headers);
    for (char& c : lowered) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    }
    signed_headers = lowered;
  }
  std::string_view names[64];
  std::vector<std::string_view> more;  // Beyond 64 names (unusual).
  size_t count = 0;
  size_t start = 0;
  while (start <= signed_headers.size()) {
    size_t semi = signed_headers.find(';', start);
    if (semi == std::string_view::npos) semi = signed_headers.size();
    const std::string_view name = signed_headers.substr(start, semi - start);
    if (!name.empty()) {
      if (count < 64) {
        names[count] = name;
      } else {
        more.push_back(name);
      }
      ++count;
    }
    start = semi + 1;
  }
  std::string_view* first = names;
  std::string_view* last = names + count;
  if (count > 64) {
    more.insert(more.begin(), names, names + 64);
    first = more.data();
    last = more.data() + more.size();
  }
  if (!std::is_sorted(first, last)) std::sort(first, last);
  signed_list->clear();
  for (const std::string_view* it = first; it != last; ++it) {
    const std::string_view name = *it;
    if (!signed_list->empty()) signed_list->push_back(';');
    signed_list->append(name);
    bool found = false;
    out->append(name);
    out->push_back(':');
    for (const auto& [header_name, value] : headers) {
      if (header_name != name) continue;
      if (found) out->push_back(',');
      found = true;
      AppendNormalizedValue(value, out);
    }
    if (!found) return false;
    out->push_back('\n');
  }
  return true;
}

bool BuildCanonicalRequest(std::string_view method, std::string_view target,
                           const HeaderList& headers,
                           std::string_view signed_headers,
                           std::string_view payload_hash_hex,
                           std::string* out) {
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
  if (!AppendCanonicalHeaders(headers, signed_headers, out, &signed_list)) {
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
