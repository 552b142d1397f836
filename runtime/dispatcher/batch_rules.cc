#include "dispatcher/batch_rules.h"

#include <algorithm>
#include <unordered_map>

namespace eddy::runtime::dispatcher {

BatchVerdict JudgeResult(const proto::InvokeResult& result,
                         const std::vector<std::string>& sequence_numbers,
                         bool report_batch_item_failures) {
  BatchVerdict verdict;
  switch (result.outcome()) {
    case proto::InvokeResult::FAILURE:
      verdict.kind = BatchVerdict::Kind::kFailure;
      verdict.error_type = result.error_type();
      verdict.error_message = result.error_message();
      return verdict;
    case proto::InvokeResult::BATCH_ITEM_FAILURES:
      break;
    default:
      return verdict;  // Success.
  }
  if (!report_batch_item_failures || result.batch_item_failures().empty()) {
    return verdict;
  }
  std::unordered_map<std::string_view, size_t> index;
  index.reserve(sequence_numbers.size());
  for (size_t i = 0; i < sequence_numbers.size(); ++i) {
    index.emplace(sequence_numbers[i], i);
  }
  size_t lowest = sequence_numbers.size();
  for (const std::string& id : result.batch_item_failures()) {
    auto it = id.empty() ? index.end() : index.find(id);
    if (it == index.end()) {
      verdict.kind = BatchVerdict::Kind::kFailure;
      verdict.error_type = "InvalidBatchItemFailure";
      verdict.error_message =
          id.empty() ? "batchItemFailures has an empty itemIdentifier"
                     : "batchItemFailures names " + id +
                           ", which is not a record of the batch";
      return verdict;
    }
    lowest = std::min(lowest, it->second);
  }
  verdict.kind = BatchVerdict::Kind::kPartial;
  verdict.first_failed = lowest;
  verdict.error_type = "BatchItemFailures";
  verdict.error_message = "the handler reported " +
                          std::to_string(result.batch_item_failures_size()) +
                          " failed record(s), the first at " +
                          sequence_numbers[lowest];
  return verdict;
}

RetryPlanner::RetryPlanner(size_t n, Options options) : options_(options) {
  if (n > 0) pending_ranges_.push_back(RecordRange{0, n});
}

void RetryPlanner::PopFront() {
  pending_ranges_.pop_front();
  retries_ = 0;
  invocations_ = 0;
}

RetryPlanner::Step RetryPlanner::OnVerdict(const BatchVerdict& verdict) {
  Step step;
  RecordRange& front = pending_ranges_.front();
  ++invocations_;
  switch (verdict.kind) {
    case BatchVerdict::Kind::kSuccess:
      step.handled = front;
      PopFront();
      return step;
    case BatchVerdict::Kind::kPartial: {
      const size_t first =
          front.begin + std::min(verdict.first_failed, front.size() - 1);
      if (first > front.begin) step.handled = RecordRange{front.begin, first};
      front.begin = first;
      break;
    }
    case BatchVerdict::Kind::kFailure:
      if (options_.bisect_on_error && front.size() > 1) {
        const size_t mid = front.begin + front.size() / 2;
        const RecordRange second{mid, front.end};
        front.end = mid;
        pending_ranges_.insert(pending_ranges_.begin() + 1, second);
        return step;  // A split is not a retry.
      }
      break;
  }
  ++retries_;
  if (options_.max_retries >= 0 && retries_ > options_.max_retries) {
    step.dead_letter = pending_ranges_.front();
    step.condition = "RetryAttemptsExhausted";
    step.invoke_count = invocations_;
    PopFront();
    return step;
  }
  step.backoff = true;
  return step;
}

RetryPlanner::Step RetryPlanner::ExpireFront(size_t count) {
  Step step;
  RecordRange& front = pending_ranges_.front();
  count = std::min(count, front.size());
  step.dead_letter = RecordRange{front.begin, front.begin + count};
  step.condition = "RecordAgeExceeded";
  step.invoke_count = invocations_;
  if (count == front.size()) {
    PopFront();
  } else {
    front.begin += count;
  }
  return step;
}

int64_t RetryBackoffMs(int64_t retry) {
  if (retry <= 0) return 0;
  const int64_t shift = std::min<int64_t>(retry - 1, 10);
  return std::min<int64_t>(int64_t{20} << shift, 2000);
}

}  // namespace eddy::runtime::dispatcher
