// ApiHandler: turns HTTP requests into DynamoDB operations on a Database.
//
// POST / with X-Amz-Target "DynamoDB_20120810.<Operation>" and a JSON 1.0
// body; GET / (health, as DynamoDB answers it), GET /healthz and GET /metrics
// (Prometheus text). Every DynamoDB response carries x-amzn-RequestId and
// x-amz-crc32.
//
// Thread-safety: Handle() may be called concurrently from every loop thread.
#ifndef EDDY_RUNTIME_API_API_HANDLER_H_
#define EDDY_RUNTIME_API_API_HANDLER_H_

#include <spdlog/logger.h>

#include <array>
#include <atomic>
#include <memory>
#include <string>

#include "api/operations.h"
#include "eddy/store/database.h"
#include "http_server.h"

namespace eddy::runtime::api {

class ApiHandler {
 public:
  // `db` must outlive the handler.
  ApiHandler(store::Database* db, EndpointConfig config,
             std::shared_ptr<spdlog::logger> logger);

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
  EndpointConfig config_;
  std::shared_ptr<spdlog::logger> logger_;
  std::array<OperationEntry, 17> operations_;
  std::atomic<uint64_t> unknown_operations_{0};
  std::atomic<uint64_t> bad_requests_{0};
};

}  // namespace eddy::runtime::api

#endif  // EDDY_RUNTIME_API_API_HANDLER_H_
