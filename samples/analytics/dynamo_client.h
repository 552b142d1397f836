// dynamo_client.h: a minimal client of the DynamoDB JSON API (Eddy's, or
// DynamoDB's) over HTTP or HTTPS with libcurl, every request signed with
// SigV4 (libcurl's CURLOPT_AWS_SIGV4) with credentials and region from the
// standard AWS chain (eddy/functions/aws_credentials.h) and, for https://,
// the CA bundle in AWS_CA_BUNDLE if set. One connection, kept alive between
// calls.
//
// Not thread-safe: one client per thread (the handler has one per worker
// process, which runs one call at a time).
#ifndef EDDY_SAMPLES_ANALYTICS_DYNAMO_CLIENT_H_
#define EDDY_SAMPLES_ANALYTICS_DYNAMO_CLIENT_H_

#include <rapidjson/document.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace analytics {

// An error answer of the API: type() is DynamoDB's error name, e.g.
// "ConditionalCheckFailedException".
class DynamoError : public std::runtime_error {
 public:
  DynamoError(std::string type, const std::string& message)
      : std::runtime_error(type + ": " + message), type_(std::move(type)) {}
  const std::string& type() const { return type_; }

 private:
  std::string type_;
};

class DynamoClient {
 public:
  // `endpoint`: e.g. "http://127.0.0.1:8000". Throws std::runtime_error if
  // there are no credentials (saying where to put them) or libcurl cannot
  // be set up.
  explicit DynamoClient(std::string endpoint);
  ~DynamoClient();
  DynamoClient(const DynamoClient&) = delete;
  DynamoClient& operator=(const DynamoClient&) = delete;

  const std::string& endpoint() const { return endpoint_; }

  // POSTs `body` (a JSON request) as operation `operation` ("PutItem") and
  // returns the parsed answer. Throws DynamoError for an error answer and
  // std::runtime_error if the endpoint cannot be reached or answers
  // something else (HTTP 5xx included).
  rapidjson::Document Call(std::string_view operation, const std::string& body);

 private:
  std::string endpoint_;
  std::string access_key_id_;
  std::string secret_access_key_;
  std::string session_token_;
  std::string sigv4_;      // "aws:amz:<region>:dynamodb"
  std::string ca_bundle_;  // "": the system's CAs.
  void* curl_;             // CURL*
};

}  // namespace analytics

#endif  // EDDY_SAMPLES_ANALYTICS_DYNAMO_CLIENT_H_
