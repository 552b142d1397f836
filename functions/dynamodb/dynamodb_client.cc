// The DynamoDB client of the handler SDK (eddy/functions/dynamodb.h), on
// libcurl: CURLOPT_AWS_SIGV4 signs each request (the method, the path, the
// headers of the list and the body).
#include <curl/curl.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>
#include <utility>

#include "eddy/functions/aws_credentials.h"
#include "eddy/functions/dynamodb.h"

namespace eddy::dynamodb {
namespace {

size_t AppendBody(char* data, size_t size, size_t count, void* out) noexcept {
  try {
    static_cast<std::string*>(out)->append(data, size * count);
    return size * count;
  } catch (...) {
    return 0;  // libcurl fails the transfer.
  }
}

call_error Configuration(std::string message) {
  call_error e;
  e.kind = error_kind::configuration;
  e.type = "ConfigurationError";
  e.message = std::move(message);
  return e;
}

// "http(s)://host[:port]" from what the user typed, or why not.
outcome<std::string> NormalizeEndpoint(std::string endpoint) {
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  if (endpoint.empty()) return Configuration("no endpoint given");
  if (endpoint.find("://") == std::string::npos) {
    endpoint = "http://" + endpoint;
  }
  if (endpoint.rfind("http://", 0) != 0 && endpoint.rfind("https://", 0) != 0) {
    return Configuration(
        "endpoint must be http://HOST:PORT or https://HOST:PORT: " + endpoint);
  }
  if (endpoint.size() == endpoint.find("://") + 3) {
    return Configuration("endpoint has no host: " + endpoint);
  }
  return endpoint;
}

bool IsThrottling(std::string_view type) {
  return type == "ProvisionedThroughputExceededException" ||
         type == "ThrottlingException" || type == "RequestLimitExceeded" ||
         type == "LimitExceededException" || type == "Throttling";
}

call_error TransportError(CURLcode code, const char* detail,
                          const std::string& endpoint) {
  call_error e;
  e.kind = code == CURLE_OPERATION_TIMEDOUT ? error_kind::timeout
                                            : error_kind::transport;
  e.type = curl_easy_strerror(code);
  e.message = endpoint + ": " +
              (detail != nullptr && detail[0] != '\0' ? std::string(detail)
                                                      : e.type);
  const bool certificate = code == CURLE_PEER_FAILED_VERIFICATION ||
                           code == CURLE_SSL_CACERT_BADFILE;
  if (certificate) {
    e.message +=
        " (is the server's CA certificate in the CA bundle or "
        "AWS_CA_BUNDLE?)";
  }
  // A certificate that is not trusted stays so; a bad URL or option too.
  e.retryable = !certificate && code != CURLE_URL_MALFORMAT &&
                code != CURLE_UNSUPPORTED_PROTOCOL &&
                code != CURLE_OUT_OF_MEMORY;
  return e;
}

}  // namespace

const char* kind_name(error_kind kind) noexcept {
  switch (kind) {
    case error_kind::transport:
      return "transport";
    case error_kind::timeout:
      return "timeout";
    case error_kind::server:
      return "server";
    case error_kind::throttling:
      return "throttling";
    case error_kind::conditional_check_failed:
      return "conditional_check_failed";
    case error_kind::transaction_canceled:
      return "transaction_canceled";
    case error_kind::resource_not_found:
      return "resource_not_found";
    case error_kind::validation:
      return "validation";
    case error_kind::access_denied:
      return "access_denied";
    case error_kind::authentication:
      return "authentication";
    case error_kind::other:
      return "other";
    case error_kind::configuration:
      return "configuration";
  }
  return "other";
}

std::string call_error::describe() const {
  std::string out = type.empty() ? std::string(kind_name(kind)) : type;
  if (!message.empty()) out += ": " + message;
  std::string details;
  if (http_status != 0) details = "HTTP " + std::to_string(http_status);
  if (attempts > 0) {
    if (!details.empty()) details += ", ";
    details += std::to_string(attempts) +
               (attempts == 1 ? " attempt" : " attempts");
  }
  if (!details.empty()) out += " (" + details + ")";
  return out;
}

call_error error_of_response(long http_status, std::string_view body) {
  call_error e;
  e.http_status = http_status;
  try {
    const json::value doc = json::parse(body);
    std::string type = doc.string_or("__type");
    // "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"
    if (const size_t hash = type.rfind('#'); hash != std::string::npos) {
      type = type.substr(hash + 1);
    }
    e.type = std::move(type);
    e.message = doc.string_or("message", doc.string_or("Message"));
  } catch (const std::exception&) {
    // Not DynamoDB's error shape (a proxy's page): keep its start.
    e.message = std::string(body.substr(0, 300));
  }
  const std::string& t = e.type;
  if (http_status >= 500 || t == "InternalServerError" ||
      t == "ServiceUnavailable" || t == "InternalFailure") {
    e.kind = error_kind::server;
  } else if (IsThrottling(t)) {
    e.kind = error_kind::throttling;
  } else if (t == "ConditionalCheckFailedException") {
    e.kind = error_kind::conditional_check_failed;
  } else if (t == "TransactionCanceledException") {
    e.kind = error_kind::transaction_canceled;
  } else if (t == "ResourceNotFoundException") {
    e.kind = error_kind::resource_not_found;
  } else if (t == "ValidationException" || t == "SerializationException") {
    e.kind = error_kind::validation;
  } else if (t == "AccessDeniedException") {
    e.kind = error_kind::access_denied;
  } else if (t == "UnrecognizedClientException" ||
             t == "InvalidSignatureException" ||
             t == "MissingAuthenticationToken" ||
             t == "MissingAuthenticationTokenException" ||
             t == "IncompleteSignatureException" ||
             t == "ExpiredTokenException") {
    e.kind = error_kind::authentication;
  } else {
    e.kind = error_kind::other;
  }
  if (e.type.empty()) e.type = "HTTP " + std::to_string(http_status);
  e.retryable =
      e.kind == error_kind::server || e.kind == error_kind::throttling;
  return e;
}

struct client::state {
  client_options options;
  std::string credentials_source;
  std::string url;    // endpoint + "/"
  std::string sigv4;  // "aws:amz:<region>:dynamodb"
  CURL* curl = nullptr;
  curl_slist* base_headers = nullptr;  // Content-Type, security token.
  std::mt19937_64 random;

  ~state() {
    curl_slist_free_all(base_headers);
    if (curl != nullptr) curl_easy_cleanup(curl);
  }

  // One request, no retry. An answer (whatever its status) or a transport
  // error.
  outcome<http_response> Send(std::string_view target, std::string_view body);
  // Send() with the retry policy; `attempts` counts what was sent.
  outcome<http_response> SendWithRetries(std::string_view target,
                                         std::string_view body,
                                         int* attempts);
  void Backoff(int retry);
};

outcome<http_response> client::state::Send(std::string_view target,
                                           std::string_view body) {
  curl_slist* headers = nullptr;
  for (const curl_slist* h = base_headers; h != nullptr; h = h->next) {
    headers = curl_slist_append(headers, h->data);
  }
  // libcurl's SigV4 signs every header of the list, even one that only
  // removes a default (such as "Expect:"), which the server then finds
  // missing: the list holds real headers only.
  headers = curl_slist_append(headers,
                              ("X-Amz-Target: " + std::string(target)).c_str());
  struct FreeHeaders {
    curl_slist* list;
    ~FreeHeaders() { curl_slist_free_all(list); }
  } free_headers{headers};
  if (headers == nullptr) return Configuration("out of memory");
  http_response response;
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
  if (code != CURLE_OK) return TransportError(code, error, options.endpoint);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

void client::state::Backoff(int retry) {
  const long cap = std::min<long>(
      options.max_backoff_ms,
      options.base_backoff_ms << std::min(retry - 1, 20));
  std::uniform_int_distribution<long> jitter(0, std::max<long>(cap, 0));
  const std::chrono::milliseconds wait(jitter(random));
  if (options.sleep) {
    options.sleep(wait);
  } else {
    std::this_thread::sleep_for(wait);
  }
}

outcome<http_response> client::state::SendWithRetries(std::string_view target,
                                                      std::string_view body,
                                                      int* attempts) {
  const int max_attempts = std::max(options.max_attempts, 1);
  for (*attempts = 1;; ++*attempts) {
    outcome<http_response> sent = Send(target, body);
    bool retryable;
    if (sent.ok()) {
      const http_response& r = sent.value();
      if (r.status == 200) return sent;
      retryable = error_of_response(r.status, r.body).retryable;
    } else {
      retryable = sent.error().retryable;
    }
    if (!retryable || *attempts >= max_attempts) return sent;
    Backoff(*attempts);
  }
}

client::client(std::unique_ptr<state> s) : state_(std::move(s)) {}
client::client(client&& other) noexcept = default;
client& client::operator=(client&& other) noexcept = default;
client::~client() = default;

const client_options& client::options() const noexcept {
  return state_->options;
}
const std::string& client::credentials_source() const noexcept {
  return state_->credentials_source;
}

outcome<client> client::create(client_options options) {
  outcome<std::string> endpoint = NormalizeEndpoint(options.endpoint);
  if (!endpoint) return endpoint.error();
  options.endpoint = std::move(endpoint).value();
  if (options.ca_bundle.empty()) {
    if (const char* env = std::getenv("AWS_CA_BUNDLE")) options.ca_bundle = env;
  }
  if (!options.ca_bundle.empty() && !std::ifstream(options.ca_bundle)) {
    return Configuration("cannot read the CA bundle " + options.ca_bundle);
  }
  auto s = std::make_unique<state>();
  if (options.access_key_id.empty()) {
    aws::credentials_lookup found = aws::resolve_credentials();
    if (!found.credentials) return Configuration(found.error);
    options.access_key_id = found.credentials->access_key_id;
    options.secret_access_key = found.credentials->secret_access_key;
    options.session_token = found.credentials->session_token;
    s->credentials_source = found.credentials->source;
  } else {
    s->credentials_source = "options";
  }
  if (options.secret_access_key.empty()) {
    return Configuration("an access key id without a secret access key");
  }
  if (options.region.empty()) options.region = aws::resolve_region();

  static std::once_flag global_init;
  static CURLcode init = CURLE_OK;
  std::call_once(global_init,
                 [] { init = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (init != CURLE_OK) {
    return Configuration(std::string("curl_global_init: ") +
                         curl_easy_strerror(init));
  }
  s->curl = curl_easy_init();
  if (s->curl == nullptr) return Configuration("curl_easy_init failed");
  s->options = std::move(options);
  s->random.seed(s->options.random_seed != 0 ? s->options.random_seed
                                             : std::random_device()());
  const client_options& o = s->options;
  s->url = o.endpoint + "/";
  s->sigv4 = "aws:amz:" + o.region + ":dynamodb";
  s->base_headers =
      curl_slist_append(nullptr, "Content-Type: application/x-amz-json-1.0");
  if (!o.session_token.empty()) {
    s->base_headers = curl_slist_append(
        s->base_headers, ("X-Amz-Security-Token: " + o.session_token).c_str());
  }
  CURL* curl = s->curl;
  curl_easy_setopt(curl, CURLOPT_URL, s->url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, o.connect_timeout_ms);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, o.request_timeout_ms);
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &AppendBody);
  // No 100-continue round trip before a large body (the header would be
  // signed).
  curl_easy_setopt(curl, CURLOPT_EXPECT_100_TIMEOUT_MS, 0L);
  curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, s->sigv4.c_str());
  curl_easy_setopt(curl, CURLOPT_USERNAME, o.access_key_id.c_str());
  curl_easy_setopt(curl, CURLOPT_PASSWORD, o.secret_access_key.c_str());
  if (!o.ca_bundle.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, o.ca_bundle.c_str());
  }
  return client(std::move(s));
}

outcome<http_response> client::post(std::string_view target,
                                    std::string_view body) {
  int attempts = 0;
  outcome<http_response> out = state_->SendWithRetries(target, body, &attempts);
  if (out.ok()) return out;
  call_error e = out.error();
  e.attempts = attempts;
  return e;
}

outcome<std::string> client::call(std::string_view operation,
                                  std::string_view body) {
  int attempts = 0;
  outcome<http_response> out = state_->SendWithRetries(
      "DynamoDB_20120810." + std::string(operation), body, &attempts);
  if (!out.ok()) {
    call_error e = out.error();
    e.attempts = attempts;
    return e;
  }
  http_response& r = out.value();
  if (r.status == 200) return std::move(r.body);
  call_error e = error_of_response(r.status, r.body);
  e.attempts = attempts;
  return e;
}

outcome<json::value> client::call_json(std::string_view operation,
                                       std::string_view body) {
  outcome<std::string> answer = call(operation, body);
  if (!answer.ok()) return answer.error();
  try {
    return json::parse(answer.value());
  } catch (const json::parse_error& e) {
    call_error error;
    error.kind = error_kind::server;
    error.type = "InvalidResponse";
    error.message = std::string(operation) + " answered with bad JSON: " +
                    e.what();
    error.http_status = 200;
    error.attempts = 1;
    return error;
  }
}

namespace {

std::string Request(std::string_view table, const char* member,
                    std::string_view value, std::string_view extra) {
  std::string body = "{\"TableName\":" + json::quote(table) + ",\"" + member +
                     "\":" + std::string(value);
  if (!extra.empty()) {
    body += ',';
    body += extra;
  }
  body += '}';
  return body;
}

}  // namespace

outcome<std::string> client::put_item(std::string_view table,
                                      std::string_view item,
                                      std::string_view extra) {
  return call("PutItem", Request(table, "Item", item, extra));
}

outcome<std::string> client::update_item(std::string_view table,
                                         std::string_view key,
                                         std::string_view extra) {
  return call("UpdateItem", Request(table, "Key", key, extra));
}

outcome<std::string> client::delete_item(std::string_view table,
                                         std::string_view key,
                                         std::string_view extra) {
  return call("DeleteItem", Request(table, "Key", key, extra));
}

outcome<std::optional<json::value>> client::get_item(std::string_view table,
                                                     std::string_view key,
                                                     bool consistent_read) {
  outcome<json::value> answer = call_json(
      "GetItem", Request(table, "Key", key,
                         consistent_read ? "\"ConsistentRead\":true" : ""));
  if (!answer.ok()) return answer.error();
  const json::value* item = answer.value().find("Item");
  if (item == nullptr || !item->is_object()) {
    return std::optional<json::value>();
  }
  return std::optional<json::value>(*item);
}

}  // namespace eddy::dynamodb
