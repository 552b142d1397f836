// CorsPolicy: which browser origins may call the API (CORS), for the AWS
// JavaScript SDK running in a web page.
//
// DynamoDB answers every request that carries an Origin header with
// Access-Control-Allow-Origin: * and an OPTIONS preflight with 200, the
// requested methods and headers echoed, and Access-Control-Max-Age: 172800
// (dynalite's record of DynamoDB; Alternator's tests against it). Eddy does
// the same for the origins the policy allows: any ("*"), or a list, in
// which case the allowed origin itself is echoed with "Vary: Origin".
// Requests from other origins get no CORS headers (the browser refuses
// them) and their preflight is not answered (404, as any OPTIONS).
//
// Thread-safety: immutable after construction.
#ifndef EDDY_RUNTIME_API_CORS_H_
#define EDDY_RUNTIME_API_CORS_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eddy/result.h"
#include "http_server.h"

namespace eddy::runtime::api {

class CorsPolicy {
 public:
  // No origin is allowed.
  CorsPolicy() = default;

  // "--cors-origins" syntax: "*", or origins separated by commas
  // ("https://app.example.com,http://localhost:3000"); "" or "none" allows
  // none. InvalidArgument for an origin that is not scheme://host[:port].
  static Result<CorsPolicy> Parse(std::string_view list);

  bool enabled() const { return any_ || !origins_.empty(); }
  // The policy as given, for the start-up log.
  std::string ToString() const;

  // Whether `request` is an OPTIONS preflight from an allowed origin; if
  // so, *response is the complete answer.
  bool HandlePreflight(const HttpRequest& request,
                       HttpResponse* response) const;
  // Adds Access-Control-Allow-Origin and -Expose-Headers to a response when
  // the request comes from an allowed origin.
  void AddResponseHeaders(const HttpRequest& request,
                          HttpResponse* response) const;

 private:
  // The Access-Control-Allow-Origin value for `origin`, or "" when it is
  // not allowed.
  std::string AllowOrigin(std::string_view origin) const;

  bool any_ = false;
  std::vector<std::string> origins_;
};

}  // namespace eddy::runtime::api

#endif  // EDDY_RUNTIME_API_CORS_H_
