#include "dynamo_client.h"

#include <array>

namespace eddy::runtime {
namespace {

constexpr std::array<std::string_view, 5> kThrottling = {
    "ThrottlingException", "LimitExceededException",
    "ProvisionedThroughputExceededException", "RequestLimitExceeded",
    "TooManyRequestsException"};

std::string_view StringMember(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject()) return {};
  auto it = v.FindMember(name);
  if (it == v.MemberEnd() || !it->value.IsString()) return {};
  return std::string_view(it->value.GetString(), it->value.GetStringLength());
}

}  // namespace

Result<std::unique_ptr<HttpDynamoTransport>> HttpDynamoTransport::Create(
    HttpClientOptions options) {
  // Creating one client checks the endpoint, the CA bundle and the
  // credentials; the options it ends up with (credentials resolved) make
  // the others.
  EDDY_ASSIGN_OR_RETURN(HttpClient first, HttpClient::Create(options));
  options.endpoint = first.endpoint();
  std::unique_ptr<HttpDynamoTransport> transport(
      new HttpDynamoTransport(std::move(options)));
  transport->idle_.push_back(std::move(first));
  return transport;
}

Result<HttpClientResponse> HttpDynamoTransport::Post(std::string_view target,
                                                     std::string_view body) {
  std::optional<HttpClient> client;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      client.emplace(std::move(idle_.back()));
      idle_.pop_back();
    }
  }
  if (!client) {
    EDDY_ASSIGN_OR_RETURN(HttpClient made, HttpClient::Create(options_));
    client.emplace(std::move(made));
  }
  Result<HttpClientResponse> response = client->PostJson(target, body);
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(std::move(*client));
  return response;
}

std::string DynamoTarget(std::string_view operation) {
  return "DynamoDB_20120810." + std::string(operation);
}

std::string StreamsTarget(std::string_view operation) {
  return "DynamoDBStreams_20120810." + std::string(operation);
}

Result<rapidjson::Document> CallDynamo(DynamoTransport* transport,
                                       std::string_view target,
                                       std::string_view body,
                                       std::string* error_type) {
  if (error_type != nullptr) error_type->clear();
  Result<HttpClientResponse> response = transport->Post(target, body);
  if (!response.ok()) {
    return Status::Busy("cannot reach " + transport->endpoint() + ": " +
                        response.status().message());
  }
  rapidjson::Document doc;
  doc.Parse(response->body.data(), response->body.size());
  const bool json = !doc.HasParseError() && doc.IsObject();
  if (response->status == 200) {
    if (!json) {
      return Status::IOError("a malformed answer from " +
                             transport->endpoint() + " to " +
                             std::string(target));
    }
    return doc;
  }
  // {"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException",
  //  "message":"..."}; some services spell it "Message".
  std::string type(json ? StringMember(doc, "__type") : std::string_view());
  type = type.substr(type.find('#') + 1);
  std::string message(json ? StringMember(doc, "message") : std::string_view());
  if (message.empty() && json) message = StringMember(doc, "Message");
  if (error_type != nullptr) *error_type = type;
  const std::string what =
      (type.empty() ? "HTTP " + std::to_string(response->status) : type) +
      ": " + (message.empty() ? response->body.substr(0, 200) : message);
  if (response->status >= 500 || response->status == 429) {
    return Status::Busy(what);
  }
  for (std::string_view t : kThrottling) {
    if (type == t) return Status::Busy(what);
  }
  if (type == "ConditionalCheckFailedException") {
    return Status::ConditionFailed(what);
  }
  if (type == "ResourceNotFoundException") return Status::NotFound(what);
  if (type == "ExpiredIteratorException" ||
      type == "TrimmedDataAccessException") {
    return Status::OutOfRange(what);
  }
  return Status::InvalidArgument(what);
}

}  // namespace eddy::runtime
