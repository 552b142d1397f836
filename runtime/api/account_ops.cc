// DescribeLimits and DescribeEndpoints: account-level answers that SDKs and
// tools (Terraform, the AWS CLI's `describe-limits`, endpoint discovery)
// ask for. Eddy enforces no capacity quota; DescribeLimits reports
// DynamoDB's default quotas so that tools which plan against them behave as
// they do on AWS.
#include "api/operations.h"

namespace eddy::runtime::api {
namespace {

// DynamoDB's default per-account and per-table provisioned capacity quotas.
constexpr int64_t kAccountMaxCapacityUnits = 80000;
constexpr int64_t kTableMaxCapacityUnits = 40000;
// How long clients may cache the DescribeEndpoints answer (DynamoDB: a day).
constexpr int64_t kEndpointCacheMinutes = 1440;

}  // namespace

ApiStatus DescribeLimits(const OperationContext& ctx,
                         const rapidjson::Value& request, JsonWriter* out) {
  (void)ctx;
  (void)request;
  out->StartObject();
  out->Key("AccountMaxReadCapacityUnits");
  out->Int64(kAccountMaxCapacityUnits);
  out->Key("AccountMaxWriteCapacityUnits");
  out->Int64(kAccountMaxCapacityUnits);
  out->Key("TableMaxReadCapacityUnits");
  out->Int64(kTableMaxCapacityUnits);
  out->Key("TableMaxWriteCapacityUnits");
  out->Int64(kTableMaxCapacityUnits);
  out->EndObject();
  return ApiStatus();
}

ApiStatus DescribeEndpoints(const OperationContext& ctx,
                            const rapidjson::Value& request, JsonWriter* out) {
  (void)request;
  // The address the client reached us at (its Host header), so that an SDK
  // doing endpoint discovery keeps talking to this server; DynamoDB's own
  // name when the client sent no Host.
  const std::string address =
      ctx.host.empty() ? "dynamodb." + ctx.config->region + ".amazonaws.com"
                       : std::string(ctx.host);
  out->StartObject();
  out->Key("Endpoints");
  out->StartArray();
  out->StartObject();
  out->Key("Address");
  out->String(address.data(), static_cast<rapidjson::SizeType>(address.size()));
  out->Key("CachePeriodInMinutes");
  out->Int64(kEndpointCacheMinutes);
  out->EndObject();
  out->EndArray();
  out->EndObject();
  return ApiStatus();
}

}  // namespace eddy::runtime::api
