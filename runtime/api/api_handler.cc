#include "api/api_handler.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cstring>
#include <memory>
#include <random>

#include "crc32.h"
#include "dispatcher/dispatcher.h"

namespace eddy::runtime::api {
namespace {

// A DynamoDB-shaped request id: 52 upper-case letters and digits.
std::string NewRequestId() {
  static constexpr char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string id(52, 'A');
  uint64_t bits = 0;
  int left = 0;
  for (char& c : id) {
    if (left == 0) {
      bits = rng();
      left = 10;
    }
    c = kChars[(bits & 63) % 36];
    bits >>= 6;
    --left;
  }
  return id;
}

// Per loop thread, reused by every request: the first block of the parsed
// request's values (larger bodies take more blocks from the heap, freed with
// the document), and the response under construction (its capacity kept
// unless a response was large).
constexpr size_t kParseBlockBytes = 16 * 1024;
constexpr size_t kMaxRetainedResponseBytes = 1 << 20;
struct RequestScratch {
  std::unique_ptr<char[]> parse_block{new char[kParseBlockBytes]};
  rapidjson::StringBuffer response;
};
thread_local RequestScratch t_scratch;

bool IsJsonContentType(std::string_view type) {
  if (type.empty()) return true;  // Lenient: some clients omit it.
  auto starts = [&](std::string_view prefix) {
    return type.substr(0, prefix.size()) == prefix;
  };
  return starts("application/x-amz-json-1.0") || starts("application/json");
}

}  // namespace

ApiHandler::ApiHandler(store::Database* db, EndpointConfig config,
                       std::shared_ptr<spdlog::logger> logger,
                       dispatcher::Dispatcher* dispatcher)
    : db_(db),
      dispatcher_(dispatcher),
      config_(std::move(config)),
      logger_(std::move(logger)) {
  struct Known {
    const char* target;
    Operation fn;
  };
  static constexpr Known kOps[] = {
      {"DynamoDB_20120810.CreateTable", &CreateTable},
      {"DynamoDB_20120810.DescribeTable", &DescribeTable},
      {"DynamoDB_20120810.DeleteTable", &DeleteTable},
      {"DynamoDB_20120810.UpdateTable", &UpdateTable},
      {"DynamoDB_20120810.ListTables", &ListTables},
      {"DynamoDB_20120810.PutItem", &PutItem},
      {"DynamoDB_20120810.GetItem", &GetItem},
      {"DynamoDB_20120810.DeleteItem", &DeleteItem},
      {"DynamoDB_20120810.UpdateItem", &UpdateItem},
      {"DynamoDB_20120810.Query", &Query},
      {"DynamoDB_20120810.Scan", &Scan},
      {"DynamoDB_20120810.BatchWriteItem", &BatchWriteItem},
      {"DynamoDB_20120810.BatchGetItem", &BatchGetItem},
      {"DynamoDB_20120810.UpdateTimeToLive", &UpdateTimeToLive},
      {"DynamoDB_20120810.DescribeTimeToLive", &DescribeTimeToLive},
      {"DynamoDB_20120810.TagResource", &TagResource},
      {"DynamoDB_20120810.UntagResource", &UntagResource},
      {"DynamoDB_20120810.ListTagsOfResource", &ListTagsOfResource},
      {"DynamoDB_20120810.DescribeLimits", &DescribeLimits},
      {"DynamoDB_20120810.DescribeEndpoints", &DescribeEndpoints},
      {"DynamoDB_20120810.TransactWriteItems", &TransactWriteItems},
      {"DynamoDB_20120810.TransactGetItems", &TransactGetItems},
      {"DynamoDBStreams_20120810.ListStreams", &ListStreams},
      {"DynamoDBStreams_20120810.DescribeStream", &DescribeStream},
      {"DynamoDBStreams_20120810.GetShardIterator", &GetShardIterator},
      {"DynamoDBStreams_20120810.GetRecords", &GetRecords},
      {"EddyAdmin_20261126.CreateTrigger", &CreateTrigger},
      {"EddyAdmin_20261126.UpdateTrigger", &UpdateTrigger},
      {"EddyAdmin_20261126.DeleteTrigger", &DeleteTrigger},
      {"EddyAdmin_20261126.ListTriggers", &ListTriggers},
      {"EddyAdmin_20261126.GetTriggerStatus", &GetTriggerStatus},
      {"EddyAdmin_20261126.WaitForTriggers", &WaitForTriggers},
      {"EddyAdmin_20261126.SweepExpiredItems", &SweepExpiredItems},
  };
  static_assert(std::size(kOps) == std::tuple_size_v<decltype(operations_)>);
  for (size_t i = 0; i < std::size(kOps); ++i) {
    operations_[i].target = kOps[i].target;
    operations_[i].name = std::strchr(kOps[i].target, '.') + 1;
    operations_[i].fn = kOps[i].fn;
    operations_by_target_.emplace(operations_[i].target, &operations_[i]);
  }
}

void ApiHandler::Handle(const HttpRequest& request, HttpResponse* response) {
  if (request.method == "GET") {
    std::string_view path = request.target;
    path = path.substr(0, path.find('?'));
    if (path == "/") {
      response->body =
          "healthy: dynamodb." + config_.region + ".amazonaws.com ";
      response->headers.emplace_back("Content-Type", "text/plain");
      return;
    }
    if (path == "/healthz") {
      response->body = "ok\n";
      response->headers.emplace_back("Content-Type", "text/plain");
      return;
    }
    if (path == "/metrics") {
      Metrics(response);
      return;
    }
  }
  if (request.method != "POST" ||
      !IsJsonContentType(request.Header("content-type"))) {
    bad_requests_.fetch_add(1, std::memory_order_relaxed);
    response->status = 404;
    response->body = "<UnknownOperationException/>\n";
    response->headers.emplace_back("Content-Type", "text/xml");
    return;
  }
  HandleDynamo(request, response);
}

void ApiHandler::HandleDynamo(const HttpRequest& request,
                              HttpResponse* response) {
  const std::string request_id = NewRequestId();
  std::string_view content_type = request.Header("content-type");
  if (content_type.empty()) content_type = "application/x-amz-json-1.0";

  ApiStatus status;
  rapidjson::StringBuffer& buffer = t_scratch.response;
  buffer.Clear();
  JsonWriter writer(buffer);
  auto found = operations_by_target_.find(request.Header("x-amz-target"));
  OperationEntry* entry =
      found == operations_by_target_.end() ? nullptr : found->second;
  if (entry == nullptr) {
    unknown_operations_.fetch_add(1, std::memory_order_relaxed);
    status = ApiError::UnknownOperation("");
  } else {
    entry->requests.fetch_add(1, std::memory_order_relaxed);
    rapidjson::MemoryPoolAllocator<> pool(t_scratch.parse_block.get(),
                                          kParseBlockBytes);
    rapidjson::Document doc(&pool);
    // Iterative parsing: a deeply nested body cannot exhaust the stack.
    doc.Parse<rapidjson::kParseIterativeFlag>(request.body.data(),
                                              request.body.size());
    if (doc.HasParseError() || !doc.IsObject()) {
      status = ApiError::Serialization(
          doc.HasParseError()
              ? std::string("Malformed request body: ") +
                    rapidjson::GetParseError_En(doc.GetParseError())
              : std::string("Request body must be a JSON object (structure)"));
    } else {
      OperationContext ctx{db_, &config_, dispatcher_, &transaction_tokens_,
                           request.Header("host")};
      try {
        status = entry->fn(ctx, doc, &writer);
      } catch (const std::exception& e) {
        logger_->error("{} failed with an exception: {}", entry->name,
                       e.what());
        status = ApiError::Internal("Internal server error");
      }
    }
    if (!status.ok()) entry->errors.fetch_add(1, std::memory_order_relaxed);
  }

  if (status.ok()) {
    response->body.assign(buffer.GetString(), buffer.GetSize());
    if (buffer.GetSize() > kMaxRetainedResponseBytes) {
      buffer.Clear();
      buffer.ShrinkToFit();  // Frees it: the next request starts small.
    }
  } else {
    const ApiError& error = status.error();
    response->status = error.http_status;
    response->body = error.Body();
    if (error.http_status >= 500) {
      logger_->error("request {} failed: {}", request_id, error.message);
    } else {
      logger_->debug("request {} rejected: {} {}", request_id, error.type,
                     error.message);
    }
  }
  response->headers.reserve(3);
  response->headers.emplace_back("Content-Type", std::string(content_type));
  response->headers.emplace_back("x-amzn-RequestId", request_id);
  response->headers.emplace_back("x-amz-crc32",
                                 std::to_string(Crc32(response->body)));
}

void ApiHandler::Metrics(HttpResponse* response) const {
  std::string& out = response->body;
  out += "# HELP eddy_requests_total DynamoDB API requests by operation.\n";
  out += "# TYPE eddy_requests_total counter\n";
  for (const OperationEntry& e : operations_) {
    out += "eddy_requests_total{operation=\"" + std::string(e.name) + "\"} " +
           std::to_string(e.requests.load(std::memory_order_relaxed)) + "\n";
  }
  out += "# HELP eddy_request_errors_total Requests answered with an error.\n";
  out += "# TYPE eddy_request_errors_total counter\n";
  for (const OperationEntry& e : operations_) {
    out += "eddy_request_errors_total{operation=\"" + std::string(e.name) +
           "\"} " + std::to_string(e.errors.load(std::memory_order_relaxed)) +
           "\n";
  }
  out +=
      "# HELP eddy_unknown_operations_total Requests naming no known "
      "operation.\n# TYPE eddy_unknown_operations_total counter\n";
  out += "eddy_unknown_operations_total " +
         std::to_string(unknown_operations_.load(std::memory_order_relaxed)) +
         "\n";
  if (dispatcher_ != nullptr) dispatcher_->AppendMetrics(&out);
  response->headers.emplace_back("Content-Type", "text/plain; version=0.0.4");
}

}  // namespace eddy::runtime::api
