// DynamoDbClient: the smallest DynamoDB client that replication needs. It
// POSTs a JSON request body to one endpoint with
// `X-Amz-Target: DynamoDB_20120810.<Operation>` over libcurl (http:// or
// https://), signed with AWS Signature Version 4 (libcurl's
// CURLOPT_AWS_SIGV4), so the same code talks to another Eddy and to DynamoDB
// itself.
//
// Thread-safety: none. One client holds one libcurl handle (and its
// keep-alive connection); use it from one thread at a time. A trigger
// handler is called one batch at a time, so a handler can keep one.
#ifndef EDDY_SAMPLES_REPLICATE_DYNAMODB_CLIENT_H_
#define EDDY_SAMPLES_REPLICATE_DYNAMODB_CLIENT_H_

#include <string>
#include <string_view>

namespace replicate {

class DynamoDbClient {
 public:
  struct Options {
    // "http://127.0.0.1:8001", "https://dynamodb.eu-west-1.amazonaws.com".
    std::string endpoint;
    std::string region = "us-east-1";  // signing region
    // Credentials (required: every request is signed).
    std::string access_key_id;
    std::string secret_access_key;
    std::string session_token;  // temporary credentials: X-Amz-Security-Token
    std::string credentials_source;  // for logs: "environment", a file
    // PEM CA certificates for an https:// endpoint; "": the system's.
    std::string ca_bundle;
    long connect_timeout_ms = 2000;
    long timeout_ms = 10000;  // whole request
  };

  // The outcome of one call. A transport failure (refused connection,
  // timeout, TLS error) has http_status 0 and says what in transport_error.
  struct Response {
    long http_status = 0;
    std::string body;
    std::string transport_error;

    bool ok() const { return http_status == 200; }
    // The DynamoDB error type of a 4xx/5xx reply, without its namespace
    // ("ConditionalCheckFailedException"), or "" if the body has none.
    std::string error_type() const;
    // One line for logs: "HTTP 400 ValidationException: <message>" or the
    // transport error.
    std::string describe() const;
  };

  // Fills Options the way the AWS CLI does: credentials and region from the
  // standard chain (eddy/functions/aws_credentials.h: the environment, then
  // ~/.aws/credentials, then ~/.aws/config; region else us-east-1), and the
  // CA bundle from AWS_CA_BUNDLE. Throws std::runtime_error saying where to
  // put credentials when there are none.
  static Options FromEnvironment(std::string endpoint);

  // REQUIRES: curl_global_init() was called. Throws std::runtime_error
  // without credentials.
  explicit DynamoDbClient(Options options);
  ~DynamoDbClient();
  DynamoDbClient(const DynamoDbClient&) = delete;
  DynamoDbClient& operator=(const DynamoDbClient&) = delete;

  const Options& options() const { return options_; }

  // Calls `operation` ("PutItem", "DeleteItem", ...) with the JSON `body`.
  // Never throws for a failed request: the Response says what happened.
  Response Call(std::string_view operation, const std::string& body);

 private:
  Options options_;
  void* curl_;  // CURL*
};

}  // namespace replicate

#endif  // EDDY_SAMPLES_REPLICATE_DYNAMODB_CLIENT_H_
