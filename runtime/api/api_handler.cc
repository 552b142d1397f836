#include "api/api_handler.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cstring>
#include <ctime>
#include <memory>
#include <random>

#include "console/console.h"
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

// The JSON protocols DynamoDB accepts (a charset or other parameter after
// the type is tolerated).
bool IsJsonContentType(std::string_view type) {
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  return type == "application/x-amz-json-1.0" || type == "application/json";
}

}  // namespace

ApiHandler::ApiHandler(store::Database* db, EndpointConfig config,
                       std::shared_ptr<spdlog::logger> logger,
                       const auth::Authenticator* authenticator,
                       dispatcher::Dispatcher* dispatcher, CorsPolicy cors,
                       std::unique_ptr<CapacityLimiter> capacity)
    : db_(db),
      authenticator_(authenticator),
      dispatcher_(dispatcher),
      config_(std::move(config)),
      cors_(std::move(cors)),
      logger_(std::move(logger)),
      capacity_(std::move(capacity)) {
  struct Known {
    const char* target;
    Operation fn;
    AccessKind access;
  };
  using A = AccessKind;
  static constexpr Known kOps[] = {
      {"DynamoDB_20120810.CreateTable", &CreateTable, A::kTable},
      {"DynamoDB_20120810.DescribeTable", &DescribeTable, A::kTable},
      {"DynamoDB_20120810.DeleteTable", &DeleteTable, A::kTable},
      {"DynamoDB_20120810.UpdateTable", &UpdateTable, A::kTable},
      {"DynamoDB_20120810.ListTables", &ListTables, A::kAccount},
      {"DynamoDB_20120810.PutItem", &PutItem, A::kItem},
      {"DynamoDB_20120810.GetItem", &GetItem, A::kItem},
      {"DynamoDB_20120810.DeleteItem", &DeleteItem, A::kItem},
      {"DynamoDB_20120810.UpdateItem", &UpdateItem, A::kItem},
      {"DynamoDB_20120810.Query", &Query, A::kQueryScan},
      {"DynamoDB_20120810.Scan", &Scan, A::kQueryScan},
      {"DynamoDB_20120810.BatchWriteItem", &BatchWriteItem, A::kBatchWrite},
      {"DynamoDB_20120810.BatchGetItem", &BatchGetItem, A::kBatchGet},
      {"DynamoDB_20120810.UpdateTimeToLive", &UpdateTimeToLive, A::kTable},
      {"DynamoDB_20120810.DescribeTimeToLive", &DescribeTimeToLive, A::kTable},
      {"DynamoDB_20120810.TagResource", &TagResource, A::kResourceArn},
      {"DynamoDB_20120810.UntagResource", &UntagResource, A::kResourceArn},
      {"DynamoDB_20120810.ListTagsOfResource", &ListTagsOfResource,
       A::kResourceArn},
      {"DynamoDB_20120810.DescribeLimits", &DescribeLimits, A::kAccount},
      // As on DynamoDB, DescribeEndpoints needs no permission.
      {"DynamoDB_20120810.DescribeEndpoints", &DescribeEndpoints, A::kOpen},
      {"DynamoDB_20120810.TransactWriteItems", &TransactWriteItems,
       A::kTransactWrite},
      {"DynamoDB_20120810.TransactGetItems", &TransactGetItems,
       A::kTransactGet},
      // PartiQL: IAM's actions are PartiQLSelect/Insert/Update/Delete, one
      // per statement (there is no dynamodb:ExecuteStatement).
      {"DynamoDB_20120810.ExecuteStatement", &ExecuteStatement,
       A::kPartiqlStatement},
      {"DynamoDB_20120810.BatchExecuteStatement", &BatchExecuteStatement,
       A::kPartiqlBatch},
      {"DynamoDB_20120810.ExecuteTransaction", &ExecuteTransaction,
       A::kPartiqlTransaction},
      // Backups and point-in-time recovery (backup_ops.cc).
      {"DynamoDB_20120810.CreateBackup", &CreateBackup, A::kTable},
      {"DynamoDB_20120810.DescribeBackup", &DescribeBackup, A::kBackupArn},
      {"DynamoDB_20120810.ListBackups", &ListBackups, A::kAccount},
      {"DynamoDB_20120810.DeleteBackup", &DeleteBackup, A::kBackupArn},
      {"DynamoDB_20120810.RestoreTableFromBackup", &RestoreTableFromBackup,
       A::kRestoreFromBackup},
      {"DynamoDB_20120810.UpdateContinuousBackups", &UpdateContinuousBackups,
       A::kTable},
      {"DynamoDB_20120810.DescribeContinuousBackups",
       &DescribeContinuousBackups, A::kTable},
      {"DynamoDB_20120810.RestoreTableToPointInTime",
       &RestoreTableToPointInTime, A::kRestoreToPointInTime},
      // Exports and imports (transfer_ops.cc).
      {"DynamoDB_20120810.ExportTableToPointInTime", &ExportTableToPointInTime,
       A::kExportTable},
      {"DynamoDB_20120810.DescribeExport", &DescribeExport, A::kExportArn},
      {"DynamoDB_20120810.ListExports", &ListExports, A::kAccount},
      {"DynamoDB_20120810.ImportTable", &ImportTable, A::kImportTable},
      {"DynamoDB_20120810.DescribeImport", &DescribeImport, A::kImportArn},
      {"DynamoDB_20120810.ListImports", &ListImports, A::kAccount},
      {"DynamoDBStreams_20120810.ListStreams", &ListStreams, A::kAccount},
      {"DynamoDBStreams_20120810.DescribeStream", &DescribeStream, A::kStream},
      {"DynamoDBStreams_20120810.GetShardIterator", &GetShardIterator,
       A::kStream},
      {"DynamoDBStreams_20120810.GetRecords", &GetRecords, A::kShardIterator},
      {"EddyAdmin_20261126.CreateTrigger", &CreateTrigger, A::kCreateTrigger},
      {"EddyAdmin_20261126.UpdateTrigger", &UpdateTrigger, A::kTrigger},
      {"EddyAdmin_20261126.DeleteTrigger", &DeleteTrigger, A::kTrigger},
      {"EddyAdmin_20261126.ListTriggers", &ListTriggers, A::kAccount},
      {"EddyAdmin_20261126.GetTriggerStatus", &GetTriggerStatus, A::kTrigger},
      {"EddyAdmin_20261126.WaitForTriggers", &WaitForTriggers, A::kAccount},
      // Re-delivers history the trigger's handler was already given: the
      // trigger's own action, as UpdateTrigger (no new table access).
      {"EddyAdmin_20261126.ReplayTrigger", &ReplayTrigger, A::kTrigger},
      {"EddyAdmin_20261126.SweepExpiredItems", &SweepExpiredItems,
       A::kTableOrAll},
      // A consistent copy of the whole data directory (`eddy snapshot`).
      {"EddyAdmin_20261126.CreateSnapshot", &CreateSnapshot, A::kAccount},
      {"EddyAdmin_20261126.DescribeSnapshot", &DescribeSnapshot, A::kAccount},
  };
  static_assert(std::size(kOps) == std::tuple_size_v<decltype(operations_)>);
  for (size_t i = 0; i < std::size(kOps); ++i) {
    operations_[i].target = kOps[i].target;
    operations_[i].name = std::strchr(kOps[i].target, '.') + 1;
    operations_[i].fn = kOps[i].fn;
    operations_[i].access = kOps[i].access;
    operations_[i].capacity = AdmissionOf(operations_[i].name);
    if (std::string_view(kOps[i].target).starts_with("DynamoDB_")) {
      operations_[i].schema = RequestSchema::Find(operations_[i].name);
    }
    // DynamoDB and DynamoDB Streams actions are dynamodb:<Operation>; the
    // admin API's are eddy:<Operation>.
    operations_[i].action =
        std::string(std::string_view(kOps[i].target).substr(0, 10) ==
                            "EddyAdmin_"
                        ? "eddy:"
                        : "dynamodb:") +
        operations_[i].name;
    operations_by_target_.emplace(operations_[i].target, &operations_[i]);
  }
}

void ApiHandler::Handle(const HttpRequest& request, HttpResponse* response) {
  if (request.method == "OPTIONS" && cors_.enabled() &&
      cors_.HandlePreflight(request, response)) {
    response->headers.emplace_back("x-amzn-RequestId", NewRequestId());
    return;
  }
  if (request.method == "GET") {
    std::string_view path = request.target;
    path = path.substr(0, path.find('?'));
    if (path == "/") {
      response->body =
          "healthy: dynamodb." + config_.region + ".amazonaws.com ";
      response->headers.emplace_back("Content-Type", "text/plain");
      cors_.AddResponseHeaders(request, response);
      return;
    }
    // The web console's static files: public, they hold no data (the page
    // signs its own API requests; console/console.h).
    if (console::IsConsolePath(path)) {
      console::ServeConsole(path, response);
      return;
    }
    if (path == "/healthz") {
      response->body = "ok\n";
      response->headers.emplace_back("Content-Type", "text/plain");
      cors_.AddResponseHeaders(request, response);
      return;
    }
    if (path == "/metrics") {
      // Prometheus scrapes without signing: open in anonymous mode; with an
      // auth file, a signed GET by an identity allowed eddy:GetMetrics.
      if (!authenticator_->anonymous()) {
        auth::AuthResult who;
        ApiStatus status = Authenticate(request, "eddy:GetMetrics", &who);
        if (status.ok()) {
          status = AuthorizeOne(who, "eddy:GetMetrics", "*");
          if (!status.ok()) {
            metrics_denied_.fetch_add(1, std::memory_order_relaxed);
          }
        }
        if (!status.ok()) {
          response->status = status.error().http_status;
          response->body = status.error().Body();
          response->headers.emplace_back("Content-Type",
                                         "application/x-amz-json-1.0");
          return;
        }
      }
      Metrics(response);
      return;
    }
  }
  // DynamoDB's first check: a POST, whose body (if any) is JSON.
  if (request.method != "POST" ||
      (!request.body.empty() &&
       !IsJsonContentType(request.Header("content-type")))) {
    NotFound(request, response);
    return;
  }
  HandleDynamo(request, response);
  cors_.AddResponseHeaders(request, response);
}

void ApiHandler::NotFound(const HttpRequest& request, HttpResponse* response) {
  bad_requests_.fetch_add(1, std::memory_order_relaxed);
  response->status = 404;
  response->body = "<UnknownOperationException/>\n";
  response->headers.emplace_back("Content-Type", "text/xml");
  response->headers.emplace_back("x-amzn-RequestId", NewRequestId());
  response->headers.emplace_back("x-amz-crc32",
                                 std::to_string(Crc32(response->body)));
  cors_.AddResponseHeaders(request, response);
}

void ApiHandler::Overloaded(const HttpRequest& request,
                            HttpResponse* response) {
  if (request.method == "GET") {
    response->status = 200;
    Handle(request, response);
    return;
  }
  throttled_.fetch_add(1, std::memory_order_relaxed);
  // DynamoDB's own throttling error type; the message says what to do.
  static const std::string kBody =
      ApiError{503, "com.amazon.coral.availability#ThrottlingException",
               "Too many requests at once for this server: retry with "
               "exponential backoff (the AWS SDKs do)",
               ""}
          .Body();
  static const std::string kCrc32 = std::to_string(Crc32(kBody));
  response->status = 503;
  response->body = kBody;
  response->headers.reserve(3);
  response->headers.emplace_back("Content-Type", "application/x-amz-json-1.0");
  response->headers.emplace_back("x-amzn-RequestId", NewRequestId());
  response->headers.emplace_back("x-amz-crc32", kCrc32);
}

void ApiHandler::HandleDynamo(const HttpRequest& request,
                              HttpResponse* response) {
  const std::string request_id = NewRequestId();
  // The response's type echoes the request's (application/json when none).
  std::string_view content_type = request.Header("content-type");
  if (content_type.empty()) content_type = "application/json";

  ApiStatus status;
  rapidjson::StringBuffer& buffer = t_scratch.response;
  buffer.Clear();
  JsonWriter writer(buffer);
  rapidjson::MemoryPoolAllocator<> pool(t_scratch.parse_block.get(),
                                        kParseBlockBytes);
  rapidjson::Document doc(&pool);
  if (request.body.empty()) {
    doc.SetObject();
  } else {
    // Iterative parsing: a deeply nested body cannot exhaust the stack.
    doc.Parse<rapidjson::kParseIterativeFlag>(request.body.data(),
                                              request.body.size());
    // JSON null reads as an empty request; any other non-object is not a
    // request at all.
    if (!doc.HasParseError() && doc.IsNull()) doc.SetObject();
  }
  OperationEntry* entry = nullptr;
  if (doc.HasParseError() || !doc.IsObject()) {
    status = ApiError::Bare("SerializationException");
  } else {
    auto found = operations_by_target_.find(request.Header("x-amz-target"));
    entry = found == operations_by_target_.end() ? nullptr : found->second;
    if (entry == nullptr) {
      unknown_operations_.fetch_add(1, std::memory_order_relaxed);
      status = ApiError::Bare("UnknownOperationException");
    }
  }
  if (entry != nullptr) {
    entry->requests.fetch_add(1, std::memory_order_relaxed);
    OperationContext ctx{db_,
                         &config_,
                         dispatcher_,
                         &transaction_tokens_,
                         request.Header("host"),
                         request.body.size(),
                         capacity_.get(),
                         transfer_};
    try {
      auth::AuthResult who;
      status = Authenticate(request, entry->action, &who);
      if (status.ok() && request.body.empty()) {
        status = ApiError::Bare("SerializationException");
      }
      bool validated = false;
      if (status.ok() && entry->schema != nullptr) {
        status = entry->schema->Validate(doc);
        validated = status.ok();
      }
      if (status.ok() && who.identity != nullptr &&
          entry->access != AccessKind::kOpen) {
        status = Authorize(who, entry, ctx, doc);
      }
      if (status.ok() && capacity_ != nullptr &&
          entry->capacity != CapacityAdmission::kNone) {
        status = capacity_->AdmitRequest(entry->capacity, doc);
      }
      if (status.ok()) status = entry->fn(ctx, doc, &writer);
      // A wrong JSON type inside an AttributeValue comes before anything
      // found after the schema (RequestSchema::Validate).
      if (!status.ok() && validated && status.error().http_status == 400) {
        ApiStatus types = entry->schema->CheckValueTypes(doc);
        if (!types.ok()) status = std::move(types);
      }
    } catch (const std::exception& e) {
      logger_->error("{} failed with an exception: {}", entry->name, e.what());
      status = ApiError::Internal("Internal server error");
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
  response->headers.reserve(5);
  response->headers.emplace_back("Content-Type", std::string(content_type));
  response->headers.emplace_back("x-amzn-RequestId", request_id);
  response->headers.emplace_back("x-amz-crc32",
                                 std::to_string(Crc32(response->body)));
}

ApiStatus ApiHandler::Authenticate(const HttpRequest& request,
                                   std::string_view action,
                                   auth::AuthResult* result) {
  *result = authenticator_->Authenticate(request, std::time(nullptr));
  if (result->ok) return ApiStatus();
  using Kind = auth::AuthFailure::Kind;
  const auth::AuthFailure& f = result->failure;
  static constexpr const char* kTypes[] = {
      "MissingAuthenticationTokenException", "IncompleteSignatureException",
      "InvalidSignatureException", "UnrecognizedClientException"};
  const auto kind = static_cast<size_t>(f.kind);
  static_assert(static_cast<size_t>(Kind::kUnrecognizedClient) == 3);
  auth_failures_[kind].fetch_add(1, std::memory_order_relaxed);
  // The audit line: never the signature or a secret.
  logger_->warn("auth failure: {} key={} action={} reason={}", kTypes[kind],
                result->access_key_id.empty() ? "-" : result->access_key_id,
                action, f.reason);
  return ApiError::Coral(kTypes[kind], f.message);
}

ApiError ApiHandler::AccessDenied(const auth::AuthResult& who,
                                  std::string_view action,
                                  std::string_view resource,
                                  bool explicit_deny) {
  const auth::Identity& id = *who.identity;
  logger_->warn(
      "access denied: identity={} key={} action={} resource={} reason={}",
      id.name, who.access_key_id, action, resource,
      explicit_deny ? "explicit deny" : "no statement allows it");
  std::string message = "User: " + id.arn + " is not authorized to perform: " +
                        std::string(action) +
                        " on resource: " + std::string(resource);
  if (explicit_deny) {
    message += " with an explicit deny in an identity-based policy";
  } else {
    message += " because no identity-based policy allows the " +
               std::string(action) + " action";
  }
  return ApiError::Coral("AccessDeniedException", std::move(message));
}

ApiStatus ApiHandler::AuthorizeOne(const auth::AuthResult& who,
                                   std::string_view action,
                                   std::string_view resource) {
  if (who.identity == nullptr) return ApiStatus();  // Anonymous mode.
  const auth::Identity& id = *who.identity;
  const auth::Principal principal{id.name, id.name, id.arn};
  const auth::Decision d =
      id.policy.Evaluate(action, resource, principal, nullptr);
  if (d == auth::Decision::kAllow) return ApiStatus();
  return AccessDenied(who, action, resource,
                      d == auth::Decision::kExplicitDeny);
}

ApiStatus ApiHandler::Authorize(const auth::AuthResult& who,
                                OperationEntry* entry,
                                const OperationContext& ctx,
                                const rapidjson::Value& request) {
  const auth::Identity& id = *who.identity;
  if (id.policy.allows_everything()) return ApiStatus();
  const bool facts = id.policy.needs_item_facts();
  std::vector<AccessEntry> entries;
  DescribeAccess(entry->access, entry->action, ctx, request, facts, &entries);
  const auth::Principal principal{id.name, id.name, id.arn};
  for (const AccessEntry& e : entries) {
    const auth::Decision d = id.policy.Evaluate(e.action, e.resource, principal,
                                                facts ? &e.facts : nullptr);
    if (d == auth::Decision::kAllow) continue;
    entry->denied.fetch_add(1, std::memory_order_relaxed);
    return AccessDenied(who, e.action, e.resource,
                        d == auth::Decision::kExplicitDeny);
  }
  return ApiStatus();
}

void ApiHandler::Metrics(HttpResponse* response) const {
  std::string& out = response->body;
  out +=
      "# HELP eddy_requests_throttled_total Requests answered 503 "
      "ThrottlingException under overload without being run "
      "(--max-inflight, --max-connections).\n"
      "# TYPE eddy_requests_throttled_total counter\n";
  out += "eddy_requests_throttled_total " +
         std::to_string(throttled_.load(std::memory_order_relaxed)) + "\n";
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
  out +=
      "# HELP eddy_auth_failures_total Requests refused because their "
      "signature could not be verified, by error type.\n"
      "# TYPE eddy_auth_failures_total counter\n";
  static constexpr const char* kFailureTypes[] = {
      "MissingAuthenticationTokenException", "IncompleteSignatureException",
      "InvalidSignatureException", "UnrecognizedClientException"};
  for (size_t i = 0; i < auth_failures_.size(); ++i) {
    out += std::string("eddy_auth_failures_total{type=\"") + kFailureTypes[i] +
           "\"} " +
           std::to_string(auth_failures_[i].load(std::memory_order_relaxed)) +
           "\n";
  }
  out +=
      "# HELP eddy_access_denied_total Authenticated requests their "
      "identity's policy did not allow, by operation.\n"
      "# TYPE eddy_access_denied_total counter\n";
  for (const OperationEntry& e : operations_) {
    out += "eddy_access_denied_total{operation=\"" + std::string(e.name) +
           "\"} " + std::to_string(e.denied.load(std::memory_order_relaxed)) +
           "\n";
  }
  out += "eddy_access_denied_total{operation=\"GetMetrics\"} " +
         std::to_string(metrics_denied_.load(std::memory_order_relaxed)) + "\n";
  if (capacity_ != nullptr) {
    out +=
        "# HELP eddy_throttled_requests_total Requests (and batch items) "
        "refused for want of provisioned capacity (--enforce-capacity).\n"
        "# TYPE eddy_throttled_requests_total counter\n";
    out += "eddy_throttled_requests_total{use=\"read\"} " +
           std::to_string(capacity_->throttled_reads()) + "\n";
    out += "eddy_throttled_requests_total{use=\"write\"} " +
           std::to_string(capacity_->throttled_writes()) + "\n";
  }
  out +=
      "# HELP eddy_table_disk_bytes LevelDB's estimate of a table's bytes on "
      "disk (compressed, flushed to its table files), by part: items, or "
      "history (point-in-time recovery).\n"
      "# TYPE eddy_table_disk_bytes gauge\n";
  for (const std::string& table : db_->ListTables(std::nullopt, SIZE_MAX)) {
    Result<store::Database::DiskUsage> usage = db_->ApproximateDiskUsage(table);
    if (!usage.ok()) continue;  // Being restored, or deleted meanwhile.
    out += "eddy_table_disk_bytes{table=\"" + table + "\",part=\"items\"} " +
           std::to_string(usage->item_bytes) + "\n";
    out += "eddy_table_disk_bytes{table=\"" + table + "\",part=\"history\"} " +
           std::to_string(usage->history_bytes) + "\n";
  }
  if (dispatcher_ != nullptr) dispatcher_->AppendMetrics(&out);
  response->headers.emplace_back("Content-Type", "text/plain; version=0.0.4");
}

}  // namespace eddy::runtime::api
