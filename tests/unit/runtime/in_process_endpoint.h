// Test fixtures for code that talks to a DynamoDB endpoint through a
// DynamoTransport (runtime/dynamo_client.h), without a network:
//
//   InProcessEddy    a real Database in a temporary directory behind the
//                    real ApiHandler (anonymous mode); its transport()
//                    signs each request with SigV4 and hands it to the
//                    handler, so the code under test meets Eddy's own API,
//                    errors included.
//   FaultyTransport  wraps a transport and answers scripted faults instead
//                    (throttling, 500s, no answer, expired iterators, ...)
//                    for the next calls to an operation: faults injected
//                    by wrapping the interface (STYLE §9).
#ifndef EDDY_TESTS_UNIT_RUNTIME_IN_PROCESS_ENDPOINT_H_
#define EDDY_TESTS_UNIT_RUNTIME_IN_PROCESS_ENDPOINT_H_

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "api/api_handler.h"
#include "auth/authenticator.h"
#include "auth/sigv4.h"
#include "dynamo_client.h"
#include "eddy/store/database.h"
#include "http_server.h"

namespace eddy::runtime::testing {

inline std::shared_ptr<spdlog::logger> QuietLogger(const std::string& name) {
  if (auto logger = spdlog::get(name)) return logger;
  return spdlog::create<spdlog::sinks::null_sink_mt>(name);
}

class InProcessEddy {
 public:
  explicit InProcessEddy(uint32_t stream_shards = 4) {
    char dir[] = "/tmp/eddy-inproc-XXXXXX";
    dir_ = ::mkdtemp(dir);
    store::Database::Options options;
    options.path = dir_ + "/data";
    options.stream_shards = stream_shards;
    options.ttl_sweep_interval_ms = 0;
    options.logger = QuietLogger("inproc-store");
    Result<std::unique_ptr<store::Database>> db =
        store::Database::Open(options);
    if (!db.ok()) std::abort();
    db_ = std::move(*db);
    authenticator_ =
        std::make_unique<auth::Authenticator>(auth::Authenticator::Options{});
    handler_ = std::make_unique<api::ApiHandler>(
        db_.get(), api::EndpointConfig{}, QuietLogger("inproc-api"),
        authenticator_.get());
    transport_ = std::make_shared<Transport>(this);
  }

  ~InProcessEddy() {
    handler_.reset();
    db_->Close().IgnoreError();
    db_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::shared_ptr<DynamoTransport> transport() const { return transport_; }
  store::Database* db() const { return db_.get(); }

  // Calls `target` (e.g. "DynamoDB_20120810.PutItem") and returns the
  // answer's JSON, or aborts the test with the error.
  rapidjson::Document Call(const std::string& target, const std::string& body) {
    Result<rapidjson::Document> doc =
        CallDynamo(transport_.get(), target, body);
    if (!doc.ok()) {
      ADD_FAILURE() << target << ": " << doc.status().ToString();
      return rapidjson::Document();
    }
    return std::move(*doc);
  }

 private:
  class Transport : public DynamoTransport {
   public:
    explicit Transport(InProcessEddy* eddy) : eddy_(eddy) {}
    Result<HttpClientResponse> Post(std::string_view target,
                                    std::string_view body) override {
      HttpRequest request;
      request.method = "POST";
      request.target = "/";
      request.body = std::string(body);
      const std::string date = auth::FormatAmzDate(std::time(nullptr));
      auth::HeaderList headers = {
          {"host", "127.0.0.1"},
          {"content-type", "application/x-amz-json-1.0"},
          {"x-amz-date", date},
          {"x-amz-target", std::string(target)}};
      auth::SigningInput in;
      in.headers = &headers;
      in.body = body;
      in.access_key_id = "AKIDINPROCESS";
      in.secret_access_key = "secret";
      in.region = "us-east-1";
      in.amz_date = date;
      const std::string authorization = auth::SignAuthorization(in);
      request.headers = headers;
      request.headers.emplace_back("authorization", authorization);
      HttpResponse response;
      eddy_->handler_->Handle(request, &response);
      return HttpClientResponse{response.status, std::move(response.body)};
    }
    std::string endpoint() const override { return "in-process"; }

   private:
    InProcessEddy* eddy_;
  };

  std::string dir_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<api::ApiHandler> handler_;
  std::shared_ptr<Transport> transport_;
};

class FaultyTransport : public DynamoTransport {
 public:
  explicit FaultyTransport(std::shared_ptr<DynamoTransport> base)
      : base_(std::move(base)) {}

  struct Fault {
    int http_status = 0;     // 0: no answer at all (IOError).
    std::string error_type;  // The __type's name, e.g. "ThrottlingException".
  };
  // The next `count` calls of `operation` ("GetRecords") get `fault`.
  void Inject(const std::string& operation, Fault fault, int count = 1) {
    std::lock_guard<std::mutex> lock(mu_);
    for (int i = 0; i < count; ++i) faults_[operation].push_back(fault);
  }
  // How many calls of `operation` reached the endpoint or a fault.
  int calls(const std::string& operation) {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_[operation];
  }

  Result<HttpClientResponse> Post(std::string_view target,
                                  std::string_view body) override {
    const std::string op(target.substr(target.find('.') + 1));
    std::optional<Fault> fault;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++calls_[op];
      auto it = faults_.find(op);
      if (it != faults_.end() && !it->second.empty()) {
        fault = it->second.front();
        it->second.pop_front();
      }
    }
    if (!fault) return base_->Post(target, body);
    if (fault->http_status == 0) return Status::IOError("Connection refused");
    return HttpClientResponse{
        fault->http_status, "{\"__type\":\"com.amazonaws.dynamodb.v20120810#" +
                                fault->error_type +
                                "\",\"message\":\"injected\"}"};
  }
  std::string endpoint() const override { return base_->endpoint(); }

 private:
  std::shared_ptr<DynamoTransport> base_;
  std::mutex mu_;
  std::map<std::string, std::deque<Fault>> faults_;
  std::map<std::string, int> calls_;
};

}  // namespace eddy::runtime::testing

#endif  // EDDY_TESTS_UNIT_RUNTIME_IN_PROCESS_ENDPOINT_H_
