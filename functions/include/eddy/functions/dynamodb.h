// dynamodb.h: a DynamoDB client for handlers that write back (replication,
// aggregates) and for Eddy's own command line. It POSTs DynamoDB's JSON 1.0
// protocol to one endpoint (Eddy, DynamoDB, any compatible store) over
// libcurl, http:// or https://, every request signed with AWS Signature
// Version 4, with credentials and region from the standard AWS chain
// (aws_credentials.h) unless the options give them. Link
// eddy::functions_dynamodb (it brings libcurl):
//
//   find_package(EddyFunctions REQUIRED)
//   eddy_add_handler(my_handler handler.cc)
//   target_link_libraries(my_handler PRIVATE eddy::functions_dynamodb)
//
//   auto made = eddy::dynamodb::client::create({"http://127.0.0.1:8000"});
//   eddy::dynamodb::client& db = made.value();  // throws if it failed
//   auto put = db.put_item("Orders", R"({"id":{"S":"o1"}})",
//                          R"("ConditionExpression":"attribute_not_exists(id)")");
//   if (!put && put.error().kind ==
//                   eddy::dynamodb::error_kind::conditional_check_failed) ...
//
// What it does for you:
//   - Keep-alive: one connection, reused by every call of a client.
//   - Retries: a call that got no answer (refused, reset, timed out), an
//     HTTP 5xx, or a throttling error (ProvisionedThroughputExceeded,
//     Throttling, RequestLimitExceeded) is sent again, up to max_attempts
//     in all, after a backoff with full jitter: a random wait in
//     [0, min(max_backoff, base_backoff * 2^(retry-1))], as the AWS SDKs do.
//     Other errors (a false condition, a validation error, a refused
//     signature) are answers: returned at once.
//   - Typed errors: call_error says the kind, DynamoDB's error type and
//     message, the HTTP status and how many attempts were made.
// Writes may be applied more than once when an answer is lost and the call
// is retried: make them conditional (as DynamoDB's SDKs, it cannot know).
//
// Thread-safety: one client per thread (a handler is called one batch at a
// time, so a handler keeps one, made in its init function). Distinct
// clients may be used concurrently.
//
// Names are snake_case like the rest of the handler SDK (handler.h).
#ifndef EDDY_FUNCTIONS_DYNAMODB_H_
#define EDDY_FUNCTIONS_DYNAMODB_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "eddy/functions/json.h"

namespace eddy::dynamodb {

enum class error_kind {
  // No answer: refused or reset connection, DNS, TLS. Retried (except
  // certificate errors, which cannot heal by themselves).
  transport,
  timeout,  // No answer within the timeouts. Retried.
  // The service's error (HTTP 5xx, InternalServerError,
  // ServiceUnavailable). Retried.
  server,
  // ProvisionedThroughputExceededException, ThrottlingException,
  // RequestLimitExceeded, LimitExceededException. Retried.
  throttling,
  conditional_check_failed,  // ConditionalCheckFailedException
  transaction_canceled,      // TransactionCanceledException
  resource_not_found,        // ResourceNotFoundException
  validation,                // ValidationException, SerializationException
  access_denied,             // AccessDeniedException
  // The signature or the credentials were refused:
  // UnrecognizedClientException, InvalidSignatureException,
  // MissingAuthenticationToken(Exception), IncompleteSignatureException,
  // ExpiredTokenException.
  authentication,
  other,  // Any other DynamoDB error (a 4xx).
  // No request was made: the options are wrong (no credentials, a bad
  // endpoint or CA bundle).
  configuration,
};

// "conditional_check_failed", ...
const char* kind_name(error_kind kind) noexcept;

struct call_error {
  error_kind kind = error_kind::other;
  // DynamoDB's error type without its namespace
  // ("ConditionalCheckFailedException"); for transport errors, libcurl's
  // name of the failure.
  std::string type;
  std::string message;
  long http_status = 0;  // 0 when there was no answer.
  int attempts = 0;      // Requests sent for this call, retries included.
  bool retryable = false;  // What the retry policy made of the last one.

  // "ConditionalCheckFailedException: The conditional request failed
  // (HTTP 400, 1 attempt)".
  std::string describe() const;
};

// Thrown by outcome::value() when the call failed.
class dynamodb_error : public std::runtime_error {
 public:
  explicit dynamodb_error(call_error e)
      : std::runtime_error(e.describe()), error_(std::move(e)) {}
  const call_error& error() const noexcept { return error_; }

 private:
  call_error error_;
};

// A value or the error of a call (aws-sdk-cpp's Outcome).
template <typename T>
class outcome {
 public:
  outcome(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  outcome(call_error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  // The value; throws dynamodb_error if the call failed.
  T& value() & {
    check();
    return std::get<0>(v_);
  }
  const T& value() const& {
    check();
    return std::get<0>(v_);
  }
  T&& value() && {
    check();
    return std::get<0>(std::move(v_));
  }
  // REQUIRES: !ok().
  const call_error& error() const { return std::get<1>(v_); }

 private:
  void check() const {
    if (!ok()) throw dynamodb_error(std::get<1>(v_));
  }
  std::variant<T, call_error> v_;
};

struct http_response {
  long status = 0;
  std::string body;
};

struct client_options {
  // "http://host:port" or "https://host"; without a scheme, http://.
  std::string endpoint;
  // The signing region; "": the standard chain (AWS_REGION,
  // AWS_DEFAULT_REGION, ~/.aws/config), else us-east-1.
  std::string region;
  // The signing identity; empty access_key_id: the standard chain.
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // Temporary credentials.
  // PEM CA certificates for https://; "": $AWS_CA_BUNDLE, else the
  // system's store (as the AWS CLI).
  std::string ca_bundle;
  long connect_timeout_ms = 3000;
  long request_timeout_ms = 10000;  // Whole request, per attempt.
  int max_attempts = 4;             // 1: no retries.
  long base_backoff_ms = 25;
  long max_backoff_ms = 2000;
  // Waits between attempts; default std::this_thread::sleep_for. Tests
  // inject one that records.
  std::function<void(std::chrono::milliseconds)> sleep;
  std::uint64_t random_seed = 0;  // Of the jitter; 0: random.
};

class client {
 public:
  // Checks the endpoint and the CA bundle, resolves the credentials and
  // region, and sets up libcurl. A configuration error says what is wrong
  // (without credentials: where to put them).
  static outcome<client> create(client_options options);

  client(client&& other) noexcept;
  client& operator=(client&& other) noexcept;
  client(const client&) = delete;
  client& operator=(const client&) = delete;
  ~client();

  // The options in use, with the endpoint normalised and the credentials
  // and region resolved.
  const client_options& options() const noexcept;
  // Where the credentials came from ("environment", "options",
  // "/home/me/.aws/credentials [default]"), for logs; never the secret.
  const std::string& credentials_source() const noexcept;

  // Calls DynamoDB_20120810.<operation> with the JSON request `body`;
  // returns the answer's JSON text (HTTP 200), else the error. Retried as
  // described at the top of this file.
  outcome<std::string> call(std::string_view operation, std::string_view body);
  // call(), with the answer parsed.
  outcome<json::value> call_json(std::string_view operation,
                                 std::string_view body);
  // POSTs to any X-Amz-Target (DynamoDBStreams_20120810.GetRecords, Eddy's
  // admin API): every HTTP answer is a response, errors included; only a
  // call without an answer is an error. Retried on transport errors, 5xx
  // and throttling, as call().
  outcome<http_response> post(std::string_view target, std::string_view body);

  // Shorthands of call(). `item` and `key` are DynamoDB JSON
  // ({"id":{"S":"o1"}}); `extra` holds more request members, without
  // braces ("ConditionExpression":"...","ExpressionAttributeValues":{...}).
  outcome<std::string> put_item(std::string_view table, std::string_view item,
                                std::string_view extra = {});
  outcome<std::string> update_item(std::string_view table,
                                   std::string_view key,
                                   std::string_view extra);
  outcome<std::string> delete_item(std::string_view table,
                                   std::string_view key,
                                   std::string_view extra = {});
  // The item (its Item member), or nullopt when there is none.
  outcome<std::optional<json::value>> get_item(std::string_view table,
                                               std::string_view key,
                                               bool consistent_read = false);

 private:
  struct state;
  explicit client(std::unique_ptr<state> s);

  std::unique_ptr<state> state_;
};

// The error of an HTTP answer (a DynamoDB error body: {"__type":
// "com.amazonaws.dynamodb.v20120810#<Type>", "message": ...}), classified.
// Exposed for tests and for post() callers.
call_error error_of_response(long http_status, std::string_view body);

}  // namespace eddy::dynamodb

#endif  // EDDY_FUNCTIONS_DYNAMODB_H_
