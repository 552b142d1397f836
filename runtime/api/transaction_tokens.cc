#include "api/transaction_tokens.h"

namespace eddy::runtime::api {

void TransactionTokens::Expire(int64_t now_ms) {
  while (!expiry_.empty() && expiry_.front().first <= now_ms) {
    auto it = entries_.find(expiry_.front().second);
    if (it != entries_.end() && it->second.committed &&
        it->second.expires_ms <= now_ms) {
      entries_.erase(it);
    }
    expiry_.pop_front();
  }
}

TransactionTokens::Claim TransactionTokens::Begin(const std::string& token,
                                                  uint64_t request_hash,
                                                  int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  Expire(now_ms);
  auto [it, inserted] = entries_.try_emplace(token);
  if (inserted) {
    it->second.request_hash = request_hash;
    return Claim::kNew;
  }
  if (it->second.request_hash != request_hash) return Claim::kMismatch;
  return it->second.committed ? Claim::kCommitted : Claim::kInProgress;
}

void TransactionTokens::Finish(const std::string& token, bool committed,
                               int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(token);
  if (it == entries_.end()) return;
  if (!committed) {
    entries_.erase(it);
    return;
  }
  it->second.committed = true;
  it->second.expires_ms = now_ms + kLifetimeMs;
  expiry_.emplace_back(it->second.expires_ms, token);
}

}  // namespace eddy::runtime::api
