// ApiHandler: turns HTTP requests into DynamoDB operations on a Database.
//
// POST / with X-Amz-Target "DynamoDB_20120810.<Operation>" (or
// "DynamoDBStreams_20120810.", or "EddyAdmin_20261126." for the trigger
// admin API of admin_ops.cc) and a JSON 1.0 body; GET / (health, as DynamoDB
// answers it), GET /healthz and GET /metrics (Prometheus text, with the
// dispatcher's trigger metrics). Every DynamoDB response carries
// x-amzn-RequestId and x-amz-crc32.
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

#include "api/operations.h"
#include "api/transaction_tokens.h"
#include "eddy/store/database.h"
#include "http_server.h"

namespace eddy::runtime::api {

class ApiHandler {
 public:
  // `db` and `dispatcher` (null: no triggers) must outlive the handler.
  ApiHandler(store::Database* db, EndpointConfig config,
             std::shared_ptr<spdlog::logger> logger,
             dispatcher::Dispatcher* dispatcher = nullptr);

  void Handle(const HttpRequest& request, HttpResponse* response);

 private:
  struct OperationEntry {
    const char* target;  // The full X-Amz-Target value.
    const char* name;
    Operation fn;
    std::atomic<uint64_t> requests{0};
    std::atomic<uint64_t> errors{0};
  };

  void HandleDynamo(const HttpRequest& request, HttpResponse* response);
  void Metrics(HttpResponse* response) const;

  store::Database* db_;
  dispatcher::Dispatcher* dispatcher_;
  EndpointConfig config_;
  std::shared_ptr<spdlog::logger> logger_;
  std::array<OperationEntry, 33> operations_;
  // X-Amz-Target -> its entry in operations_.
  std::unordered_map<std::string_view, OperationEntry*> operations_by_target_;
  TransactionTokens transaction_tokens_;
  std::atomic<uint64_t> unknown_operations_{0};
  std::atomic<uint64_t> bad_requests_{0};
};

}  // namespace eddy::runtime::api

#endif  // EDDY_RUNTIME_API_API_HANDLER_H_
