#include "api/cors.h"

namespace eddy::runtime::api {
namespace {

// The request headers the AWS SDKs send, allowed when a preflight does not
// list the ones it wants.
constexpr char kDefaultAllowHeaders[] =
    "Content-Type, X-Amz-Target, X-Amz-Date, Authorization, "
    "X-Amz-Security-Token, X-Amz-User-Agent, X-Amz-Content-Sha256, "
    "amz-sdk-invocation-id, amz-sdk-request";
constexpr char kDefaultAllowMethods[] = "GET, POST, OPTIONS";
// What a page may read of a response: DynamoDB exposes these (plus
// x-amz-crc32, which the JavaScript SDK verifies when it can read it).
constexpr char kExposeHeaders[] =
    "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date,x-amz-crc32";
// DynamoDB's preflight lifetime: two days.
constexpr char kMaxAge[] = "172800";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// scheme://host[:port] with no path, as browsers send Origin.
bool ValidOrigin(std::string_view origin) {
  const size_t sep = origin.find("://");
  if (sep == std::string_view::npos || sep == 0) return false;
  for (const char c : origin.substr(0, sep)) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
    if (!ok) return false;
  }
  const std::string_view authority = origin.substr(sep + 3);
  if (authority.empty()) return false;
  for (const char c : authority) {
    if (c == '/' || c == ' ' || c == ',' || c == '?' || c == '#') return false;
  }
  return true;
}

}  // namespace

Result<CorsPolicy> CorsPolicy::Parse(std::string_view list) {
  CorsPolicy policy;
  list = Trim(list);
  if (list.empty() || list == "none") return policy;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view item = Trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view()
                                           : list.substr(comma + 1);
    if (item.empty()) continue;
    if (item == "*") {
      policy.any_ = true;
      continue;
    }
    std::string_view origin = item;
    if (origin.size() > 1 && origin.back() == '/') origin.remove_suffix(1);
    if (!ValidOrigin(origin)) {
      return Status::InvalidArgument(
          "--cors-origins: '" + std::string(item) +
          "' is not an origin (scheme://host[:port], or *)");
    }
    policy.origins_.emplace_back(origin);
  }
  return policy;
}

std::string CorsPolicy::ToString() const {
  if (any_) return "*";
  if (origins_.empty()) return "none";
  std::string s;
  for (const std::string& o : origins_) s += (s.empty() ? "" : ",") + o;
  return s;
}

std::string CorsPolicy::AllowOrigin(std::string_view origin) const {
  if (origin.empty()) return "";
  if (any_) return "*";
  for (const std::string& o : origins_) {
    if (o == origin) return o;
  }
  return "";
}

bool CorsPolicy::HandlePreflight(const HttpRequest& request,
                                 HttpResponse* response) const {
  if (request.method != "OPTIONS") return false;
  const std::string allow = AllowOrigin(request.Header("origin"));
  if (allow.empty()) return false;
  const std::string_view method =
      request.Header("access-control-request-method");
  const std::string_view headers =
      request.Header("access-control-request-headers");
  response->status = 200;
  response->body.clear();
  response->headers.emplace_back("Access-Control-Allow-Origin", allow);
  response->headers.emplace_back(
      "Access-Control-Allow-Methods",
      method.empty() ? std::string(kDefaultAllowMethods) : std::string(method));
  response->headers.emplace_back("Access-Control-Allow-Headers",
                                 headers.empty()
                                     ? std::string(kDefaultAllowHeaders)
                                     : std::string(headers));
  response->headers.emplace_back("Access-Control-Max-Age", kMaxAge);
  if (!any_) response->headers.emplace_back("Vary", "Origin");
  return true;
}

void CorsPolicy::AddResponseHeaders(const HttpRequest& request,
                                    HttpResponse* response) const {
  if (!enabled()) return;
  const std::string allow = AllowOrigin(request.Header("origin"));
  if (allow.empty()) return;
  response->headers.emplace_back("Access-Control-Allow-Origin", allow);
  response->headers.emplace_back("Access-Control-Expose-Headers",
                                 kExposeHeaders);
  if (!any_) response->headers.emplace_back("Vary", "Origin");
}

}  // namespace eddy::runtime::api
