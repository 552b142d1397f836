#include "dispatcher/recent_errors.h"

#include <utility>

namespace eddy::runtime::dispatcher {

std::string TruncateUtf8(std::string text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t end = max_bytes;
  // Step back over continuation bytes (10xxxxxx) to the start of the
  // character that would be split.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  text.resize(end);
  text += "...";
  return text;
}

void RecentErrors::Add(InvocationError error) {
  error.error_message =
      TruncateUtf8(std::move(error.error_message), kMaxMessageBytes);
  error.error_type = TruncateUtf8(std::move(error.error_type), 256);
  std::lock_guard<std::mutex> lock(mu_);
  errors_.push_front(std::move(error));
  if (errors_.size() > kCapacity) errors_.pop_back();
}

std::vector<InvocationError> RecentErrors::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {errors_.begin(), errors_.end()};
}

}  // namespace eddy::runtime::dispatcher
