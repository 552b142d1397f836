// HttpClient: a small blocking HTTP/1.1 client for Eddy's own command-line
// tools (eddy stream tail, ...). One keep-alive connection, Content-Length
// bodies only (what Eddy's server sends).
//
// Thread-safety: one client per thread.
#ifndef EDDY_RUNTIME_HTTP_CLIENT_H_
#define EDDY_RUNTIME_HTTP_CLIENT_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eddy/result.h"

namespace eddy::runtime {

struct HttpClientResponse {
  int status = 0;
  std::string body;
};

class HttpClient {
 public:
  // `endpoint` is "http://host:port" (host numeric or "localhost").
  static Result<HttpClient> Create(std::string_view endpoint);

  HttpClient(HttpClient&& other) noexcept;
  HttpClient& operator=(HttpClient&& other) noexcept;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  ~HttpClient();

  // POSTs a DynamoDB JSON 1.0 request with X-Amz-Target `target`.
  Result<HttpClientResponse> PostJson(std::string_view target,
                                      std::string_view body);

 private:
  HttpClient(std::string host, int port)
      : host_(std::move(host)), port_(port) {}
  Status Connect();
  void Disconnect();

  std::string host_;
  int port_ = 0;
  int fd_ = -1;
};

}  // namespace eddy::runtime

#endif  // EDDY_RUNTIME_HTTP_CLIENT_H_
