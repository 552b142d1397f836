// ApiHandler: turns HTTP requests into DynamoDB operations on a Database.
//
// POST / with X-Amz-Target "DynamoDB_20120810.<Operation>" (or
// "DynamoDBStreams_20120810.", or "EddyAdmin_20261126." for the trigger
// admin API of admin_ops.cc) and a JSON 1.0 body; GET / (health, as DynamoDB
// answers it), GET /healthz and GET /metrics (Prometheus text, with the
// dispatcher's trigger metrics). Every DynamoDB response carries
// x-amzn-RequestId and x-amz-crc32.
//
// A request is checked in DynamoDB's order (as dynalite recorded it against
// DynamoDB), and the first failure is the answer:
//   1. method and content type: anything but POST (and the GETs above), or
//      a body whose Content-Type is not application/x-amz-json-1.0 or
//      application/json: 404 "<UnknownOperationException/>";
//   2. the body parses as JSON: else 400 SerializationException (no
//      message);
//   3. X-Amz-Target names an operation: else 400 UnknownOperationException
//      (no message);
//   4. authentication (SigV4);
//   5. an empty body: SerializationException;
//   6. the operation's RequestSchema: JSON types (SerializationException),
//      then constraints (one aggregated ValidationException);
//   7. authorization (the caller's policy);
//   8. with provisioned capacity enforced (capacity.h), admission: a
//      request on a table or GSI whose capacity is used up is refused
//      (ProvisionedThroughputExceededException);
//   9. the operation: its semantic checks in DynamoDB's order, then the
//      data (it reports the capacity it consumed, which is then charged).
// CORS (CorsPolicy): an OPTIONS preflight from an allowed Origin is
// answered 200 without authentication; every response to a request from an
// allowed Origin carries Access-Control-Allow-Origin and
// Access-Control-Expose-Headers.
//
// Trust: every DynamoDB request is authenticated (auth::Authenticator:
// SigV4 against the auth file, or anonymous mode) after its JSON and target
// are read, as DynamoDB orders its checks, and then authorized: each
// operation declares an AccessKind (access.h) and every (action, resource)
// the request touches must be allowed by the caller's policy. Failures are
// DynamoDB's errors, one audit log line each and a /metrics counter.
// GET / and /healthz are open, and so are the web console's static files
// (GET /console/..., console/console.h); /metrics needs eddy:GetMetrics
// when an auth file is in use.
//
// Thread-safety: Handle() may be called concurrently from every loop thread.
#ifndef EDDY_RUNTIME_API_API_HANDLER_H_
#define EDDY_RUNTIME_API_API_HANDLER_H_

#include <spdlog/logger.h>

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "api/access.h"
#include "api/capacity.h"
#include "api/cors.h"
#include "api/operations.h"
#include "api/request_schema.h"
#include "api/transaction_tokens.h"
#include "auth/authenticator.h"
#include "eddy/store/database.h"
#include "http_server.h"

namespace eddy::runtime::api {

class ApiHandler {
 public:
  // `db`, `authenticator` and `dispatcher` (null: no triggers) must
  // outlive the handler. `capacity`: provisioned capacity is enforced
  // (null: never throttled, as DynamoDB Local).
  ApiHandler(store::Database* db, EndpointConfig config,
             std::shared_ptr<spdlog::logger> logger,
             const auth::Authenticator* authenticator,
             dispatcher::Dispatcher* dispatcher = nullptr,
             CorsPolicy cors = CorsPolicy(),
             std::unique_ptr<CapacityLimiter> capacity = nullptr);

  void Handle(const HttpRequest& request, HttpResponse* response);
  // Exports and imports (api/data_transfer.h); set before serving. Not
  // owned; must outlive the handler's requests.
  void set_transfer(DataTransfer* transfer) { transfer_ = transfer; }

  // The answer to a request the transport sheds under overload
  // (HttpServerOptions::overload_handler; the request is empty for a
  // connection refused at the connection cap): HTTP 503 with a DynamoDB
  // ThrottlingException body, which the AWS SDKs retry with backoff
  // (botocore retries both the 503 and the code, in every retry mode).
  // Nothing is parsed or authenticated. GET /, /healthz and /metrics are
  // answered as usual: they are cheap and matter most under overload.
  void Overloaded(const HttpRequest& request, HttpResponse* response);

 private:
  struct OperationEntry {
    const char* target;  // The full X-Amz-Target value.
    const char* name;
    std::string action;  // "dynamodb:GetItem", "eddy:CreateTrigger"
    AccessKind access;
    Operation fn;
    // The request's schema (null: the operation reads its members itself).
    const RequestSchema* schema = nullptr;
    CapacityAdmission capacity = CapacityAdmission::kNone;
    std::atomic<uint64_t> requests{0};
    std::atomic<uint64_t> errors{0};
    std::atomic<uint64_t> denied{0};
  };

  void HandleDynamo(const HttpRequest& request, HttpResponse* response);
  // DynamoDB's answer to a request that is not a JSON POST.
  void NotFound(const HttpRequest& request, HttpResponse* response);
  // Authenticates the request: OK, or DynamoDB's error (audited).
  ApiStatus Authenticate(const HttpRequest& request, std::string_view action,
                         auth::AuthResult* result);
  // Whether the authenticated caller may do everything the request would.
  ApiStatus Authorize(const auth::AuthResult& who, OperationEntry* entry,
                      const OperationContext& ctx,
                      const rapidjson::Value& request);
  // The access check of one fixed (action, resource), e.g. GetMetrics.
  ApiStatus AuthorizeOne(const auth::AuthResult& who, std::string_view action,
                         std::string_view resource);
  ApiError AccessDenied(const auth::AuthResult& who, std::string_view action,
                        std::string_view resource, bool explicit_deny);
  void Metrics(HttpResponse* response) const;

  store::Database* db_;
  const auth::Authenticator* authenticator_;
  dispatcher::Dispatcher* dispatcher_;
  EndpointConfig config_;
  CorsPolicy cors_;
  std::shared_ptr<spdlog::logger> logger_;
  std::array<OperationEntry, 53> operations_;
  // X-Amz-Target -> its entry in operations_.
  std::unordered_map<std::string_view, OperationEntry*> operations_by_target_;
  TransactionTokens transaction_tokens_;
  std::unique_ptr<CapacityLimiter> capacity_;  // Null: not enforced.
  DataTransfer* transfer_ = nullptr;
  std::atomic<uint64_t> unknown_operations_{0};
  // Authentication failures by AuthFailure::Kind.
  std::array<std::atomic<uint64_t>, 4> auth_failures_{};
  std::atomic<uint64_t> metrics_denied_{0};
  std::atomic<uint64_t> bad_requests_{0};
  std::atomic<uint64_t> throttled_{0};
};

}  // namespace eddy::runtime::api

#endif  // EDDY_RUNTIME_API_API_HANDLER_H_
