// RecentErrors: the last few failed invocations of one trigger (function
// errors, partial batch failures, crashes, timeouts), newest first, so that
// `eddy trigger status` and the web console can say what went wrong
// without the server's log. Kept in memory only: a restart forgets them
// (the counters in TriggerMetrics are the durable-enough summary).
//
// Each message is cut to kMaxMessageBytes (at a UTF-8 character boundary);
// the ring holds kCapacity entries and drops the oldest.
//
// Thread-safety: Add() and Snapshot() may be called concurrently (every
// shard lane of a trigger adds to the same ring).
#ifndef EDDY_RUNTIME_DISPATCHER_RECENT_ERRORS_H_
#define EDDY_RUNTIME_DISPATCHER_RECENT_ERRORS_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace eddy::runtime::dispatcher {

struct InvocationError {
  int64_t time_ms = 0;  // Wall clock, when the reply (or its absence) came.
  std::string shard_id;
  uint32_t attempt = 0;  // 1 for the first try of a batch.
  uint64_t records = 0;  // In the failed invocation.
  std::string error_type;
  std::string error_message;
};

class RecentErrors {
 public:
  static constexpr size_t kCapacity = 10;
  static constexpr size_t kMaxMessageBytes = 1024;

  // Records `error`, cutting its message; drops the oldest beyond
  // kCapacity.
  void Add(InvocationError error);

  // The errors kept, newest first.
  std::vector<InvocationError> Snapshot() const;

 private:
  mutable std::mutex mu_;
  std::deque<InvocationError> errors_;  // Newest first; guarded by mu_.
};

// `text` cut to at most `max_bytes` without splitting a UTF-8 sequence,
// with "..." appended when anything was cut.
std::string TruncateUtf8(std::string text, size_t max_bytes);

}  // namespace eddy::runtime::dispatcher

#endif  // EDDY_RUNTIME_DISPATCHER_RECENT_ERRORS_H_
