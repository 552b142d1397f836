#include "http_client.h"

#include <curl/curl.h>

#include <cstdlib>
#include <fstream>
#include <mutex>
#include <utility>

#include "eddy/functions/aws_credentials.h"

namespace eddy::runtime {
namespace {

size_t AppendBody(char* data, size_t size, size_t count, void* out) noexcept {
  try {
    static_cast<std::string*>(out)->append(data, size * count);
    return size * count;
  } catch (...) {
    return 0;  // libcurl fails the transfer.
  }
}

// "https://host:port" from what the user typed; InvalidArgument for another
// scheme.
Result<std::string> NormalizeEndpoint(std::string endpoint) {
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  const size_t scheme_end = endpoint.find("://");
  if (scheme_end == std::string::npos) endpoint = "http://" + endpoint;
  if (endpoint.rfind("http://", 0) != 0 && endpoint.rfind("https://", 0) != 0) {
    return Status::InvalidArgument(
        "endpoint must be http://HOST:PORT or https://HOST:PORT: " + endpoint);
  }
  if (endpoint.size() == endpoint.find("://") + 3) {
    return Status::InvalidArgument("endpoint has no host: " + endpoint);
  }
  return endpoint;
}

}  // namespace

struct HttpClient::State {
  HttpClientOptions options;
  std::string url;    // endpoint + "/"
  std::string sigv4;  // "aws:amz:<region>:dynamodb"
  CURL* curl = nullptr;
  curl_slist* base_headers = nullptr;  // Content-Type, security token.

  ~State() {
    curl_slist_free_all(base_headers);
    if (curl != nullptr) curl_easy_cleanup(curl);
  }
};

HttpClient::HttpClient(std::unique_ptr<State> state)
    : state_(std::move(state)) {}
HttpClient::HttpClient(HttpClient&& other) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&& other) noexcept = default;
HttpClient::~HttpClient() = default;

const std::string& HttpClient::endpoint() const {
  return state_->options.endpoint;
}

Result<HttpClient> HttpClient::Create(HttpClientOptions options) {
  EDDY_ASSIGN_OR_RETURN(options.endpoint, NormalizeEndpoint(options.endpoint));
  if (options.ca_bundle.empty()) {
    if (const char* env = std::getenv("AWS_CA_BUNDLE")) options.ca_bundle = env;
  }
  if (!options.ca_bundle.empty() && !std::ifstream(options.ca_bundle)) {
    return Status::InvalidArgument("cannot read the CA bundle " +
                                   options.ca_bundle);
  }
  if (options.access_key_id.empty()) {
    aws::credentials_lookup found = aws::resolve_credentials();
    if (!found.credentials) return Status::InvalidArgument(found.error);
    options.access_key_id = found.credentials->access_key_id;
    options.secret_access_key = found.credentials->secret_access_key;
    options.session_token = found.credentials->session_token;
  }
  if (options.region.empty()) options.region = aws::resolve_region();

  static std::once_flag global_init;
  CURLcode init = CURLE_OK;
  std::call_once(global_init,
                 [&init] { init = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (init != CURLE_OK) {
    return Status::Internal(std::string("curl_global_init: ") +
                            curl_easy_strerror(init));
  }
  auto state = std::make_unique<State>();
  state->curl = curl_easy_init();
  if (state->curl == nullptr) return Status::Internal("curl_easy_init failed");
  state->options = std::move(options);
  const HttpClientOptions& o = state->options;
  state->url = o.endpoint + "/";
  state->sigv4 = "aws:amz:" + o.region + ":dynamodb";
  // libcurl's SigV4 signs every header in the list (and only those), so it
  // holds real headers only: no "Expect:" to suppress a default.
  state->base_headers =
      curl_slist_append(nullptr, "Content-Type: application/x-amz-json-1.0");
  if (!o.session_token.empty()) {
    state->base_headers =
        curl_slist_append(state->base_headers,
                          ("X-Amz-Security-Token: " + o.session_token).c_str());
  }

  CURL* curl = state->curl;
  curl_easy_setopt(curl, CURLOPT_URL, state->url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, o.connect_timeout_ms);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, o.request_timeout_ms);
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &AppendBody);
  curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, state->sigv4.c_str());
  curl_easy_setopt(curl, CURLOPT_USERNAME, o.access_key_id.c_str());
  curl_easy_setopt(curl, CURLOPT_PASSWORD, o.secret_access_key.c_str());
  if (!o.ca_bundle.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, o.ca_bundle.c_str());
  }
  return HttpClient(std::move(state));
}

Result<HttpClientResponse> HttpClient::PostJson(std::string_view target,
                                                std::string_view body) {
  CURL* curl = state_->curl;
  curl_slist* headers = nullptr;
  for (const curl_slist* h = state_->base_headers; h != nullptr; h = h->next) {
    headers = curl_slist_append(headers, h->data);
  }
  headers = curl_slist_append(headers,
                              ("X-Amz-Target: " + std::string(target)).c_str());
  struct FreeHeaders {
    curl_slist* list;
    ~FreeHeaders() { curl_slist_free_all(list); }
  } free_headers{headers};
  if (headers == nullptr) return Status::Internal("out of memory");
  HttpClientResponse response;
  char error[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  const CURLcode code = curl_easy_perform(curl);
  // Nothing may point at this frame after the call.
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, nullptr);
  if (code != CURLE_OK) {
    std::string why = error[0] != '\0' ? error : curl_easy_strerror(code);
    if (code == CURLE_PEER_FAILED_VERIFICATION ||
        code == CURLE_SSL_CACERT_BADFILE) {
      why +=
          " (is the server's CA certificate in --ca-bundle or "
          "AWS_CA_BUNDLE?)";
    }
    return Status::IOError(why);
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

}  // namespace eddy::runtime
