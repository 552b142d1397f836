#include "dynamo_client.h"

#include <curl/curl.h>

#include <cstdlib>
#include <mutex>
#include <utility>

#include "eddy/functions/aws_credentials.h"

namespace analytics {

namespace {

size_t Collect(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

std::string Member(const rapidjson::Document& doc, const char* name) {
  if (!doc.IsObject()) return "";
  const auto it = doc.FindMember(name);
  if (it == doc.MemberEnd() || !it->value.IsString()) return "";
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

}  // namespace

DynamoClient::DynamoClient(std::string endpoint)
    : endpoint_(std::move(endpoint)), curl_(nullptr) {
  eddy::aws::credentials_lookup found = eddy::aws::resolve_credentials();
  if (!found.credentials) throw std::runtime_error(found.error);
  access_key_id_ = found.credentials->access_key_id;
  secret_access_key_ = found.credentials->secret_access_key;
  session_token_ = found.credentials->session_token;
  sigv4_ = "aws:amz:" + eddy::aws::resolve_region() + ":dynamodb";
  if (const char* ca = std::getenv("AWS_CA_BUNDLE")) ca_bundle_ = ca;
  static std::once_flag global_init;
  std::call_once(global_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  curl_ = curl_easy_init();
  if (curl_ == nullptr) throw std::runtime_error("curl_easy_init failed");
}

DynamoClient::~DynamoClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

rapidjson::Document DynamoClient::Call(std::string_view operation,
                                       const std::string& body) {
  CURL* curl = static_cast<CURL*>(curl_);
  std::string answer;
  const std::string target =
      "X-Amz-Target: DynamoDB_20120810." + std::string(operation);
  // libcurl's SigV4 signs every header of the list, even "Expect:" (which
  // only removes a default), so the list holds real headers only.
  curl_slist* headers = nullptr;
  headers =
      curl_slist_append(headers, "Content-Type: application/x-amz-json-1.0");
  headers = curl_slist_append(headers, target.c_str());
  const std::string token = "X-Amz-Security-Token: " + session_token_;
  if (!session_token_.empty())
    headers = curl_slist_append(headers, token.c_str());
  struct FreeHeaders {
    curl_slist* list;
    ~FreeHeaders() { curl_slist_free_all(list); }
  } free_headers{headers};

  curl_easy_setopt(curl, CURLOPT_URL, (endpoint_ + "/").c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 20000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  // No 100-continue round trip before a body (a header would be signed).
  curl_easy_setopt(curl, CURLOPT_EXPECT_100_TIMEOUT_MS, 0L);
  if (!ca_bundle_.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, ca_bundle_.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4_.c_str());
  curl_easy_setopt(curl, CURLOPT_USERNAME, access_key_id_.c_str());
  curl_easy_setopt(curl, CURLOPT_PASSWORD, secret_access_key_.c_str());
  const CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) {
    throw std::runtime_error(std::string(operation) + " to " + endpoint_ +
                             ": " + curl_easy_strerror(code));
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);

  rapidjson::Document doc;
  doc.Parse(answer.data(), answer.size());
  if (status == 200 && !doc.HasParseError() && doc.IsObject()) return doc;
  if (status == 400 && !doc.HasParseError()) {
    // "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"
    std::string type = Member(doc, "__type");
    type = type.substr(type.find('#') + 1);
    std::string message = Member(doc, "message");
    if (message.empty()) message = Member(doc, "Message");
    throw DynamoError(type, message);
  }
  throw std::runtime_error(std::string(operation) + " to " + endpoint_ +
                           ": HTTP " + std::to_string(status) + ": " +
                           answer.substr(0, 300));
}

}  // namespace analytics
