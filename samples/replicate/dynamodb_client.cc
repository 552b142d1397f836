#include "dynamodb_client.h"

#include <curl/curl.h>

#include <cstdlib>
#include <stdexcept>
#include <utility>

#include "eddy/functions/aws_credentials.h"

namespace replicate {

namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

size_t AppendBody(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

// The string value of the first `"<name>":"..."` member of a flat JSON
// object (DynamoDB's error bodies), unescaped only of \" and \\.
std::string JsonStringMember(std::string_view body, std::string_view name) {
  const std::string quoted = "\"" + std::string(name) + "\"";
  size_t at = body.find(quoted);
  if (at == std::string_view::npos) return "";
  at = body.find(':', at + quoted.size());
  if (at == std::string_view::npos) return "";
  at = body.find('"', at);
  if (at == std::string_view::npos) return "";
  std::string out;
  for (size_t i = at + 1; i < body.size(); ++i) {
    if (body[i] == '"') return out;
    if (body[i] == '\\' && i + 1 < body.size()) ++i;
    out += body[i];
  }
  return "";
}

}  // namespace

std::string DynamoDbClient::Response::error_type() const {
  std::string type = JsonStringMember(body, "__type");
  // "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"
  const size_t hash = type.rfind('#');
  return hash == std::string::npos ? type : type.substr(hash + 1);
}

std::string DynamoDbClient::Response::describe() const {
  if (http_status == 0) return transport_error;
  std::string out = "HTTP " + std::to_string(http_status);
  if (const std::string type = error_type(); !type.empty()) out += " " + type;
  std::string message = JsonStringMember(body, "message");
  if (message.empty()) message = JsonStringMember(body, "Message");
  if (!message.empty()) out += ": " + message;
  return out;
}

DynamoDbClient::Options DynamoDbClient::FromEnvironment(std::string endpoint) {
  Options options;
  options.endpoint = std::move(endpoint);
  eddy::aws::credentials_lookup found = eddy::aws::resolve_credentials();
  if (!found.credentials) throw std::runtime_error(found.error);
  options.access_key_id = found.credentials->access_key_id;
  options.secret_access_key = found.credentials->secret_access_key;
  options.session_token = found.credentials->session_token;
  options.credentials_source = found.credentials->source;
  options.region = eddy::aws::resolve_region();
  options.ca_bundle = Env("AWS_CA_BUNDLE");
  return options;
}

DynamoDbClient::DynamoDbClient(Options options)
    : options_(std::move(options)), curl_(nullptr) {
  if (options_.access_key_id.empty() || options_.secret_access_key.empty()) {
    throw std::runtime_error("DynamoDbClient: no credentials to sign with");
  }
  curl_ = curl_easy_init();
  if (curl_ == nullptr) throw std::runtime_error("curl_easy_init failed");
}

DynamoDbClient::~DynamoDbClient() { curl_easy_cleanup(curl_); }

DynamoDbClient::Response DynamoDbClient::Call(std::string_view operation,
                                              const std::string& body) {
  CURL* curl = curl_;
  // Keeps the connection (and its cache) but forgets the last request's
  // options.
  curl_easy_reset(curl);
  Response response;
  char error[CURL_ERROR_SIZE] = "";

  const std::string target =
      "X-Amz-Target: DynamoDB_20120810." + std::string(operation);
  // libcurl's SigV4 signs every header in this list, even one that only
  // removes a default (such as "Expect:"), which AWS then finds missing from
  // the request: add real headers only.
  curl_slist* headers = nullptr;
  headers =
      curl_slist_append(headers, "Content-Type: application/x-amz-json-1.0");
  headers = curl_slist_append(headers, target.c_str());
  std::string token_header;
  if (!options_.session_token.empty()) {
    token_header = "X-Amz-Security-Token: " + options_.session_token;
    headers = curl_slist_append(headers, token_header.c_str());
  }

  const std::string url = options_.endpoint + "/";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   options_.connect_timeout_ms);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, options_.timeout_ms);
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // gzip if offered
  if (!options_.ca_bundle.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_bundle.c_str());
  }
  // libcurl signs the method, path, the headers above and the body.
  const std::string sigv4 = "aws:amz:" + options_.region + ":dynamodb";
  curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4.c_str());
  curl_easy_setopt(curl, CURLOPT_USERNAME, options_.access_key_id.c_str());
  curl_easy_setopt(curl, CURLOPT_PASSWORD, options_.secret_access_key.c_str());

  const CURLcode code = curl_easy_perform(curl);
  if (code == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.http_status);
  } else {
    response.transport_error =
        options_.endpoint + ": " +
        (error[0] != '\0' ? std::string(error) : curl_easy_strerror(code));
  }
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(headers);
  return response;
}

}  // namespace replicate
