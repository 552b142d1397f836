// ApiError: a DynamoDB error as it goes on the wire, and the one place where
// store Status codes and protocol failures become DynamoDB error types
// (model: scylla alternator/error.hh).
#ifndef EDDY_RUNTIME_API_ERRORS_H_
#define EDDY_RUNTIME_API_ERRORS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "eddy/result.h"

namespace eddy::runtime::api {

struct ApiError {
  int http_status = 400;
  std::string type;  // Full __type, e.g. com.amazonaws.dynamodb.v20120810#X.
  std::string message;
  // Extra members for the error body, already JSON ("\"Item\":{...}"), or "".
  std::string extra_json;
  // How the body carries the message: DynamoDB's own errors and validation
  // as "message", coral's deserializer (SerializationException) as
  // "Message", and the protocol layer's bare errors not at all.
  enum class MessageKey : uint8_t { kLower, kUpper, kNone };
  MessageKey message_key = MessageKey::kLower;

  static ApiError Validation(std::string message);
  // SerializationException, with its message as "Message".
  static ApiError Serialization(std::string message);
  static ApiError UnknownOperation(std::string message);
  // A coral error with no message at all, as DynamoDB's protocol layer
  // answers a body that is not JSON ({"__type":"...#SerializationException"})
  // or a missing or unknown X-Amz-Target (UnknownOperationException).
  static ApiError Bare(std::string_view coral_name);
  static ApiError ResourceNotFound(std::string message);
  static ApiError ResourceInUse(std::string message);
  static ApiError ConditionalCheckFailed(std::string message);
  static ApiError Internal(std::string message);
  // Authentication and authorization (all HTTP 400, coral namespace):
  // MissingAuthenticationTokenException, IncompleteSignatureException,
  // InvalidSignatureException, UnrecognizedClientException,
  // AccessDeniedException.
  static ApiError Coral(std::string_view name, std::string message);
  // Any other DynamoDB error type (HTTP 400), e.g.
  // Dynamo("TransactionCanceledException", ...).
  static ApiError Dynamo(std::string_view name, std::string message);
  // Maps a store Status (InvalidArgument -> ValidationException, NotFound ->
  // ResourceNotFoundException, AlreadyExists -> ResourceInUseException,
  // ConditionFailed -> ConditionalCheckFailedException, the rest -> 500).
  // REQUIRES: !status.ok().
  static ApiError FromStatus(const Status& status);

  // The JSON body: {"__type":"...","message":"..."} plus extra_json.
  std::string Body() const;
};

// The outcome of an API step: OK or an ApiError.
class [[nodiscard]] ApiStatus {
 public:
  ApiStatus() = default;
  ApiStatus(ApiError error)  // NOLINT: implicit by design.
      : error_(std::make_unique<ApiError>(std::move(error))) {}
  ApiStatus(const Status& status)  // NOLINT: implicit by design.
      : error_(status.ok()
                   ? nullptr
                   : std::make_unique<ApiError>(ApiError::FromStatus(status))) {
  }
  bool ok() const { return error_ == nullptr; }
  // REQUIRES: !ok().
  ApiError& error() const { return *error_; }

 private:
  std::unique_ptr<ApiError> error_;
};

}  // namespace eddy::runtime::api

#define API_RETURN_IF_ERROR(expr)                         \
  do {                                                    \
    ::eddy::runtime::api::ApiStatus api_status_ = (expr); \
    if (!api_status_.ok()) return api_status_;            \
  } while (0)

#endif  // EDDY_RUNTIME_API_ERRORS_H_
