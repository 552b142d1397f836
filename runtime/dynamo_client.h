// DynamoClient: DynamoDB JSON 1.0 calls (DynamoDB_20120810.* and
// DynamoDBStreams_20120810.*) to another endpoint, as `eddy runner` makes
// them: reading a stream (dispatcher/remote_stream_source.h) and keeping
// its lease table (runner/dynamo_lease_store.h). The endpoint may be
// DynamoDB, ScyllaDB Alternator or another Eddy.
//
// Seam (STYLE §9): DynamoTransport sends one request and returns the HTTP
// answer. The real one (HttpDynamoTransport) keeps a pool of libcurl
// clients (runtime/http_client.h: https, --ca-bundle, SigV4 from the
// standard credentials chain); tests give a fake that answers in process.
//
// Errors become Status codes once, here, so callers decide by code:
//   Busy             what passes with time: the endpoint cannot be reached
//                    or times out, HTTP 5xx, throttling
//                    (ThrottlingException, LimitExceededException,
//                    ProvisionedThroughputExceededException,
//                    RequestLimitExceeded): retry after a backoff;
//   ConditionFailed  ConditionalCheckFailedException;
//   NotFound         ResourceNotFoundException;
//   OutOfRange       ExpiredIteratorException, TrimmedDataAccessException;
//   InvalidArgument  every other error answer (ValidationException,
//                    AccessDeniedException, UnrecognizedClientException,
//                    InvalidSignatureException, ...): the request or the
//                    identity is wrong;
//   IOError          a 200 answer that is not JSON.
// The message is "<ErrorType>: <the endpoint's message>"; `error_type`
// receives the bare type ("" for transport failures).
//
// Thread-safety: DynamoTransport implementations may be called from any
// number of threads at once.
#ifndef EDDY_RUNTIME_DYNAMO_CLIENT_H_
#define EDDY_RUNTIME_DYNAMO_CLIENT_H_

#include <rapidjson/document.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "eddy/result.h"
#include "http_client.h"

namespace eddy::runtime {

class DynamoTransport {
 public:
  virtual ~DynamoTransport() = default;
  // POSTs `body` with X-Amz-Target `target`. IOError when no answer came
  // (connection refused, timeout, TLS failure); any HTTP answer is a
  // response.
  virtual Result<HttpClientResponse> Post(std::string_view target,
                                          std::string_view body) = 0;
  // For messages: "http://127.0.0.1:8000".
  virtual std::string endpoint() const = 0;
};

// The real transport: libcurl clients, created as concurrent callers need
// them and kept for reuse (one keep-alive connection each).
class HttpDynamoTransport : public DynamoTransport {
 public:
  // Checks the options and resolves the credentials once (as
  // HttpClient::Create does), so a missing identity fails here.
  static Result<std::unique_ptr<HttpDynamoTransport>> Create(
      HttpClientOptions options);

  Result<HttpClientResponse> Post(std::string_view target,
                                  std::string_view body) override;
  std::string endpoint() const override { return options_.endpoint; }

 private:
  explicit HttpDynamoTransport(HttpClientOptions options)
      : options_(std::move(options)) {}

  HttpClientOptions options_;  // Credentials resolved.
  std::mutex mu_;
  std::vector<HttpClient> idle_;  // Guarded by mu_.
};

// Calls `target` with `body`; the answer's JSON object, or the error as
// described above.
Result<rapidjson::Document> CallDynamo(DynamoTransport* transport,
                                       std::string_view target,
                                       std::string_view body,
                                       std::string* error_type = nullptr);

// "DynamoDB_20120810." + operation / "DynamoDBStreams_20120810." + it.
std::string DynamoTarget(std::string_view operation);
std::string StreamsTarget(std::string_view operation);

}  // namespace eddy::runtime

#endif  // EDDY_RUNTIME_DYNAMO_CLIENT_H_
