// What authentication costs one request, on the CPU it runs on (OpenSSL
// uses the SHA extensions where the CPU has them, which callgrind's counts
// in bench/instructions.py cannot show): a GetItem-sized request verified
// in full (--auth), the same request in anonymous mode (the header parsed
// only), and the SHA-256 and HMAC it is made of.
//
//   build/bin/auth_bench [--benchmark_repetitions=5]
#include <benchmark/benchmark.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>

#include "auth/authenticator.h"
#include "auth/sigv4.h"
#include "spdlog/sinks/null_sink.h"

namespace {

using eddy::runtime::HttpRequest;
using namespace eddy::runtime::auth;

constexpr char kKey[] = "AKIDBENCH00000000000";
constexpr char kSecret[] = "bench-secret";

HttpRequest GetItemRequest(int64_t now) {
  HttpRequest r;
  r.method = "POST";
  r.target = "/";
  r.body = R"({"TableName":"bench","Key":{"pk":{"S":"p123"},"sk":{"S":"s4"}}})";
  const std::string date = FormatAmzDate(now);
  r.headers = {{"host", "127.0.0.1:8000"},
               {"accept-encoding", "identity"},
               {"x-amz-target", "DynamoDB_20120810.GetItem"},
               {"content-type", "application/x-amz-json-1.0"},
               {"user-agent", "Boto3/1.34 md/Botocore#1.34 ua/2.0 os/linux"},
               {"x-amz-date", date},
               {"content-length", std::to_string(r.body.size())}};
  SigningInput in;
  in.headers = &r.headers;
  in.body = r.body;
  in.access_key_id = kKey;
  in.secret_access_key = kSecret;
  in.region = "us-east-1";
  in.amz_date = date;
  r.headers.emplace_back("authorization", SignAuthorization(in));
  return r;
}

std::unique_ptr<IdentityStore> OpenStore() {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("eddy-auth-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "auth.json").string();
  std::ofstream(path) << R"({"identities": [{"name": "bench",
      "accessKeyId": "AKIDBENCH00000000000", "secretAccessKey": "bench-secret",
      "policy": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]}}]})";
  ::chmod(path.c_str(), 0600);
  IdentityStore::Options options;
  options.path = path;
  options.poll_interval_ms = 0;
  options.logger = std::make_shared<spdlog::logger>(
      "bench", std::make_shared<spdlog::sinks::null_sink_mt>());
  auto store = IdentityStore::Open(options);
  std::filesystem::remove_all(dir);
  return store.ok() ? std::move(*store) : nullptr;
}

void BM_VerifySignature(benchmark::State& state) {
  const int64_t now = std::time(nullptr);
  auto store = OpenStore();
  Authenticator auth({store.get(), "us-east-1"});
  const HttpRequest r = GetItemRequest(now);
  for (auto _ : state) {
    AuthResult result = auth.Authenticate(r, now);
    if (!result.ok) state.SkipWithError(result.failure.message.c_str());
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(BM_VerifySignature);

void BM_AnonymousHeaderCheck(benchmark::State& state) {
  const int64_t now = std::time(nullptr);
  Authenticator auth({nullptr, "us-east-1"});
  const HttpRequest r = GetItemRequest(now);
  for (auto _ : state) {
    AuthResult result = auth.Authenticate(r, now);
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(BM_AnonymousHeaderCheck);

void BM_Sha256(benchmark::State& state) {
  const std::string data(static_cast<size_t>(state.range(0)), 'x');
  for (auto _ : state) benchmark::DoNotOptimize(Sha256(data));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Sha256)->Arg(64)->Arg(256)->Arg(1024);

void BM_HmacWithCachedKey(benchmark::State& state) {
  const HmacKey key(std::string(32, 'k'));
  const std::string message(130, 'm');  // A string to sign's size.
  for (auto _ : state) benchmark::DoNotOptimize(key.Mac(message));
}
BENCHMARK(BM_HmacWithCachedKey);

}  // namespace

BENCHMARK_MAIN();
