// HttpClient: the blocking client of Eddy's own command-line tools (eddy
// stream tail, trigger, ttl sweep): the handler SDK's DynamoDB client
// (eddy/functions/dynamodb.h: libcurl, http:// and https://, one
// keep-alive connection, every request signed with AWS Signature Version 4
// with credentials and region from the standard AWS chain unless the
// options give them) without retries, in Eddy's Status vocabulary.
//
// Thread-safety: one client per thread.
#ifndef EDDY_RUNTIME_HTTP_CLIENT_H_
#define EDDY_RUNTIME_HTTP_CLIENT_H_

#include <memory>
#include <string>
#include <string_view>

#include "eddy/result.h"

namespace eddy::runtime {

struct HttpClientOptions {
  // "http://host:port" or "https://host:port"; without a scheme, http://.
  std::string endpoint = "http://127.0.0.1:8000";
  // PEM file of the CA certificates an https:// server is verified against;
  // "" means $AWS_CA_BUNDLE, else the system's store (as the AWS CLI).
  std::string ca_bundle;
  // The signing identity. Empty access_key_id: the standard chain.
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  // The signing region. Empty: the standard chain, else us-east-1.
  std::string region;
  long connect_timeout_ms = 10'000;
  // A whole request (connect, send, answer) takes at most this long; 0:
  // no limit.
  long request_timeout_ms = 0;
};

struct HttpClientResponse {
  int status = 0;
  std::string body;
};

class HttpClient {
 public:
  // Checks the endpoint and the CA bundle and resolves the credentials.
  // InvalidArgument says what is wrong; without credentials it is the
  // chain's "Unable to locate credentials. ..." with where to put them.
  static Result<HttpClient> Create(HttpClientOptions options);

  HttpClient(HttpClient&& other) noexcept;
  HttpClient& operator=(HttpClient&& other) noexcept;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  ~HttpClient();

  const std::string& endpoint() const;

  // POSTs a DynamoDB JSON 1.0 request with X-Amz-Target `target`, signed.
  // IOError when the server cannot be reached or its certificate is not
  // trusted; any HTTP answer (errors included) is a response.
  Result<HttpClientResponse> PostJson(std::string_view target,
                                      std::string_view body);

 private:
  struct State;
  explicit HttpClient(std::unique_ptr<State> state);

  std::unique_ptr<State> state_;
};

}  // namespace eddy::runtime

#endif  // EDDY_RUNTIME_HTTP_CLIENT_H_
