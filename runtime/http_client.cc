#include "http_client.h"

#include <string>
#include <utility>

#include "eddy/functions/dynamodb.h"

namespace eddy::runtime {

// The SDK's DynamoDB client does the work (libcurl, SigV4, the credentials
// chain, keep-alive); the command line only never retries (a tool that
// cannot reach the server says so at once).
struct HttpClient::State {
  explicit State(dynamodb::client c) : client(std::move(c)) {}
  dynamodb::client client;
};

HttpClient::HttpClient(std::unique_ptr<State> state)
    : state_(std::move(state)) {}
HttpClient::HttpClient(HttpClient&& other) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&& other) noexcept = default;
HttpClient::~HttpClient() = default;

const std::string& HttpClient::endpoint() const {
  return state_->client.options().endpoint;
}

Result<HttpClient> HttpClient::Create(HttpClientOptions options) {
  dynamodb::client_options o;
  o.endpoint = std::move(options.endpoint);
  o.ca_bundle = std::move(options.ca_bundle);
  o.access_key_id = std::move(options.access_key_id);
  o.secret_access_key = std::move(options.secret_access_key);
  o.session_token = std::move(options.session_token);
  o.region = std::move(options.region);
  o.connect_timeout_ms = options.connect_timeout_ms;
  o.request_timeout_ms = options.request_timeout_ms;  // 0: no limit.
  o.max_attempts = 1;
  dynamodb::outcome<dynamodb::client> made =
      dynamodb::client::create(std::move(o));
  if (!made.ok()) {
    return Status::InvalidArgument(made.error().message);
  }
  return HttpClient(std::make_unique<State>(std::move(made).value()));
}

Result<HttpClientResponse> HttpClient::PostJson(std::string_view target,
                                                std::string_view body) {
  dynamodb::outcome<dynamodb::http_response> answer =
      state_->client.post(target, body);
  if (!answer.ok()) {
    const dynamodb::call_error& e = answer.error();
    if (e.kind == dynamodb::error_kind::configuration) {
      return Status::Internal(e.message);
    }
    // The caller names the endpoint; the CLI's flag is --ca-bundle.
    std::string why = e.message;
    const std::string prefix = endpoint() + ": ";
    if (why.rfind(prefix, 0) == 0) why = why.substr(prefix.size());
    const std::string hint = "in the CA bundle or AWS_CA_BUNDLE?";
    if (const size_t at = why.find(hint); at != std::string::npos) {
      why.replace(at, hint.size(), "in --ca-bundle or AWS_CA_BUNDLE?");
    }
    return Status::IOError(why);
  }
  HttpClientResponse response;
  response.status = static_cast<int>(answer.value().status);
  response.body = std::move(answer.value().body);
  return response;
}

}  // namespace eddy::runtime
