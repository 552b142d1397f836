// The failure rules of a Lambda event source mapping for DynamoDB streams
// (reference/streams-triggers.md §2.3, §2.4), as pure logic: what a handler's
// reply means for a batch (JudgeResult) and what to invoke next after it
// (RetryPlanner). No I/O, no clock: the delivery loop feeds them.
//
// Thread-safety: value types; one RetryPlanner per delivery loop.
#ifndef EDDY_RUNTIME_DISPATCHER_BATCH_RULES_H_
#define EDDY_RUNTIME_DISPATCHER_BATCH_RULES_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "eddy/worker.pb.h"

namespace eddy::runtime::dispatcher {

// What one invocation's reply means for its batch.
struct BatchVerdict {
  enum class Kind : uint8_t {
    kSuccess,  // Every record handled.
    kFailure,  // Function error: the whole batch failed.
    kPartial,  // ReportBatchItemFailures: records before first_failed are
               // handled; first_failed and everything after is retried.
  };
  Kind kind = Kind::kSuccess;
  size_t first_failed = 0;  // kPartial: index into the batch.
  std::string error_type;
  std::string error_message;
};

// Lambda's rules for a reply to a batch whose records have
// `sequence_numbers` (in batch order):
//   - FAILURE is a function error.
//   - BATCH_ITEM_FAILURES with ReportBatchItemFailures off: the reply's body
//     is ignored, so it is a success (as Lambda ignores an unrequested
//     response shape).
//   - With it on: an empty list is success; any itemIdentifier that is empty
//     or not a sequence number of the batch fails the whole batch; else the
//     checkpoint moves to the lowest reported record (kPartial at its index,
//     which may be 0: no progress).
BatchVerdict JudgeResult(const proto::InvokeResult& result,
                         const std::vector<std::string>& sequence_numbers,
                         bool report_batch_item_failures);

// A half-open range [begin, end) of indexes into the records read for a
// delivery.
struct RecordRange {
  size_t begin = 0;
  size_t end = 0;
  size_t size() const { return end - begin; }
  bool operator==(const RecordRange&) const = default;
};

// Decides what to invoke next for `n` records in shard order, and when to
// give up on some of them:
//   - Success of the current range: handled; move on.
//   - Partial failure: the records before the lowest failed one are handled;
//     the rest becomes the current range and the attempt counts as a retry
//     (retries driven by partial responses count toward
//     MaximumRetryAttempts). With bisect on, this is Lambda's "bisect at the
//     returned sequence number".
//   - Function error with BisectBatchOnFunctionError and more than one
//     record: the range is split in two halves, the first invoked next;
//     splitting does not consume a retry.
//   - Otherwise a function error is a retry; once more than max_retries
//     retries failed (max_retries != -1) the range is dead-lettered with
//     condition "RetryAttemptsExhausted".
//   - Records too old (the caller decides, see ExpireFront) are
//     dead-lettered with "RecordAgeExceeded" before an invocation.
// The retry count is per range and starts again after a success or a
// dead-letter.
class RetryPlanner {
 public:
  struct Options {
    bool bisect_on_error = false;
    int64_t max_retries = -1;
  };

  // What the caller must do after an outcome, in this order: mark
  // `handled` done, dead-letter `dead_letter`, then (if !done()) wait the
  // retry backoff if `backoff` and invoke current() again.
  struct Step {
    std::optional<RecordRange> handled;
    std::optional<RecordRange> dead_letter;
    const char* condition = "";  // Why dead_letter: Lambda's condition.
    bool backoff = false;
    // Invocations that included the dead-lettered records (Lambda's
    // approximateInvokeCount).
    int64_t invoke_count = 0;
  };

  RetryPlanner(size_t n, Options options);

  bool done() const { return pending_ranges_.empty(); }
  // REQUIRES: !done().
  RecordRange current() const { return pending_ranges_.front(); }
  // 1 on a range's first invocation, +1 per retry (Lambda: attempt).
  uint32_t attempt() const { return static_cast<uint32_t>(retries_ + 1); }
  // Retries of the current range so far.
  int64_t retries() const { return retries_; }

  // Feeds the verdict of invoking current(). REQUIRES: !done().
  Step OnVerdict(const BatchVerdict& verdict);

  // Dead-letters the first `count` records of current() (they are older
  // than the maximum record age). REQUIRES: !done(), 0 < count <=
  // current().size().
  Step ExpireFront(size_t count);

 private:
  void PopFront();

  Options options_;
  std::deque<RecordRange> pending_ranges_;
  int64_t retries_ = 0;
  int64_t invocations_ = 0;  // Of the records at the front, since reset.
};

// Backoff before retry `retry` (1-based) of a failed range: 20 ms doubling
// up to 2 s. Lambda backs off too; without it a crashing handler would
// spin a worker restart loop.
int64_t RetryBackoffMs(int64_t retry);

}  // namespace eddy::runtime::dispatcher

#endif  // EDDY_RUNTIME_DISPATCHER_BATCH_RULES_H_
