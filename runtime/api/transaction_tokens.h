// TransactionTokens: TransactWriteItems' ClientRequestToken idempotency.
//
// A token is valid for 10 minutes after the request that used it completes
// (DynamoDB's window). Within it, the same request again is answered as a
// success without being applied again; a different request with the token
// is IdempotentParameterMismatchException, and one that arrives while the
// first is still running is TransactionInProgressException. A request that
// did not commit releases its token, so it may be retried. Tokens live in
// memory: a restart forgets them.
//
// Thread-safety: all methods may be called concurrently.
#ifndef EDDY_RUNTIME_API_TRANSACTION_TOKENS_H_
#define EDDY_RUNTIME_API_TRANSACTION_TOKENS_H_

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace eddy::runtime::api {

class TransactionTokens {
 public:
  static constexpr int64_t kLifetimeMs = 10 * 60 * 1000;

  enum class Claim {
    kNew,         // First use: run the request, then call Finish.
    kCommitted,   // The same request committed already: answer success.
    kInProgress,  // The same request is running now.
    kMismatch,    // The token belongs to a different request.
  };

  // `request_hash` identifies the request's parameters.
  Claim Begin(const std::string& token, uint64_t request_hash, int64_t now_ms);
  // Ends a request that Begin answered kNew.
  void Finish(const std::string& token, bool committed, int64_t now_ms);

 private:
  struct Entry {
    uint64_t request_hash = 0;
    bool committed = false;
    int64_t expires_ms = 0;  // Meaningful once committed.
  };
  void Expire(int64_t now_ms);  // REQUIRES: mu_ held.

  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  // Committed tokens in order of expiry.
  std::deque<std::pair<int64_t, std::string>> expiry_;
};

}  // namespace eddy::runtime::api

#endif  // EDDY_RUNTIME_API_TRANSACTION_TOKENS_H_
