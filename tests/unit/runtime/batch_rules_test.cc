// Lambda's failure rules for stream triggers (reference/streams-triggers.md
// §2.3-2.4) as the dispatcher applies them: reply interpretation
// (JudgeResult) and the retry / bisect / dead-letter plan (RetryPlanner).
#include "dispatcher/batch_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace eddy::runtime::dispatcher {
namespace {

using Kind = BatchVerdict::Kind;

class BatchRulesTest : public ::testing::Test {
 protected:
  // Sequence numbers "s0".."s<n-1>" of a batch of n records.
  static std::vector<std::string> Batch(size_t n) {
    std::vector<std::string> out;
    for (size_t i = 0; i < n; ++i) out.push_back("s" + std::to_string(i));
    return out;
  }
  static proto::InvokeResult Success() { return proto::InvokeResult(); }
  static proto::InvokeResult Failure() {
    proto::InvokeResult r;
    r.set_outcome(proto::InvokeResult::FAILURE);
    r.set_error_type("Unhandled");
    r.set_error_message("boom");
    return r;
  }
  static proto::InvokeResult ItemFailures(std::vector<std::string> ids) {
    proto::InvokeResult r;
    r.set_outcome(proto::InvokeResult::BATCH_ITEM_FAILURES);
    for (auto& id : ids) r.add_batch_item_failures(id);
    return r;
  }
  static BatchVerdict Fail() {
    BatchVerdict v;
    v.kind = Kind::kFailure;
    return v;
  }
  static BatchVerdict Ok() { return BatchVerdict(); }
  static BatchVerdict Partial(size_t first) {
    BatchVerdict v;
    v.kind = Kind::kPartial;
    v.first_failed = first;
    return v;
  }
};

// A function error fails the whole batch and carries the handler's error.
TEST_F(BatchRulesTest, FailureIsFunctionError) {
  BatchVerdict v = JudgeResult(Failure(), Batch(3), true);
  EXPECT_EQ(v.kind, Kind::kFailure);
  EXPECT_EQ(v.error_type, "Unhandled");
  EXPECT_EQ(v.error_message, "boom");
}

// Lambda: an empty batchItemFailures list is a success.
TEST_F(BatchRulesTest, EmptyItemFailuresIsSuccess) {
  EXPECT_EQ(JudgeResult(ItemFailures({}), Batch(3), true).kind, Kind::kSuccess);
}

// The checkpoint goes to the lowest reported record, whatever the order.
TEST_F(BatchRulesTest, LowestReportedItemWins) {
  BatchVerdict v = JudgeResult(ItemFailures({"s2", "s1"}), Batch(4), true);
  EXPECT_EQ(v.kind, Kind::kPartial);
  EXPECT_EQ(v.first_failed, 1u);
}

// Lambda: an empty itemIdentifier fails the whole batch.
TEST_F(BatchRulesTest, EmptyIdentifierFailsWholeBatch) {
  EXPECT_EQ(JudgeResult(ItemFailures({"s1", ""}), Batch(3), true).kind,
            Kind::kFailure);
}

// An identifier that is not a record of the batch fails the whole batch.
TEST_F(BatchRulesTest, UnknownIdentifierFailsWholeBatch) {
  BatchVerdict v = JudgeResult(ItemFailures({"s9"}), Batch(3), true);
  EXPECT_EQ(v.kind, Kind::kFailure);
  EXPECT_THAT(v.error_message, ::testing::HasSubstr("s9"));
}

// Without ReportBatchItemFailures the partial response is not looked at.
TEST_F(BatchRulesTest, ItemFailuresIgnoredWhenNotEnabled) {
  EXPECT_EQ(JudgeResult(ItemFailures({"s1"}), Batch(3), false).kind,
            Kind::kSuccess);
}

// Success handles the whole range and finishes.
TEST_F(BatchRulesTest, SuccessHandlesEverything) {
  RetryPlanner p(5, {});
  RetryPlanner::Step s = p.OnVerdict(Ok());
  ASSERT_TRUE(s.handled.has_value());
  EXPECT_EQ(*s.handled, (RecordRange{0, 5}));
  EXPECT_TRUE(p.done());
}

// Default (-1) retries forever: never dead-letters, always backs off.
TEST_F(BatchRulesTest, InfiniteRetriesNeverDeadLetter) {
  RetryPlanner p(2, {false, -1});
  for (int i = 0; i < 100; ++i) {
    RetryPlanner::Step s = p.OnVerdict(Fail());
    EXPECT_FALSE(s.dead_letter.has_value());
    EXPECT_TRUE(s.backoff);
  }
  EXPECT_EQ(p.attempt(), 101u);
}

// MaximumRetryAttempts N: N retries after the first attempt, then the
// batch goes to the on-failure destination.
TEST_F(BatchRulesTest, RetriesExhaustedDeadLettersBatch) {
  RetryPlanner p(3, {false, 2});
  EXPECT_TRUE(p.OnVerdict(Fail()).backoff);
  EXPECT_TRUE(p.OnVerdict(Fail()).backoff);
  RetryPlanner::Step s = p.OnVerdict(Fail());
  ASSERT_TRUE(s.dead_letter.has_value());
  EXPECT_EQ(*s.dead_letter, (RecordRange{0, 3}));
  EXPECT_STREQ(s.condition, "RetryAttemptsExhausted");
  EXPECT_EQ(s.invoke_count, 3);
  EXPECT_TRUE(p.done());
}

// MaximumRetryAttempts 0: the first failure dead-letters.
TEST_F(BatchRulesTest, ZeroRetriesDeadLettersAtOnce) {
  RetryPlanner p(1, {false, 0});
  EXPECT_TRUE(p.OnVerdict(Fail()).dead_letter.has_value());
}

// Bisect splits a failed batch in halves without consuming a retry, down
// to the single poison record, which alone is dead-lettered.
TEST_F(BatchRulesTest, BisectIsolatesPoisonRecord) {
  RetryPlanner p(8, {true, 0});
  std::vector<RecordRange> dead;
  size_t handled = 0;
  while (!p.done()) {
    const RecordRange r = p.current();
    const bool has_poison = r.begin <= 5 && 5 < r.end;
    RetryPlanner::Step s = p.OnVerdict(has_poison ? Fail() : Ok());
    if (s.handled) handled += s.handled->size();
    if (s.dead_letter) dead.push_back(*s.dead_letter);
  }
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0], (RecordRange{5, 6}));
  EXPECT_EQ(handled, 7u);
}

// Splitting is not a retry: a batch of 4 with bisect and 0 retries is
// split to single records before anything is dead-lettered.
TEST_F(BatchRulesTest, SplitDoesNotConsumeRetries) {
  RetryPlanner p(4, {true, 0});
  EXPECT_FALSE(p.OnVerdict(Fail()).dead_letter.has_value());  // 4 -> 2+2
  EXPECT_EQ(p.current(), (RecordRange{0, 2}));
  EXPECT_FALSE(p.OnVerdict(Fail()).dead_letter.has_value());  // 2 -> 1+1
  EXPECT_EQ(p.current(), (RecordRange{0, 1}));
  EXPECT_TRUE(p.OnVerdict(Fail()).dead_letter.has_value());
}

// A partial failure handles the records before the lowest failed one and
// retries from it; that retry counts toward MaximumRetryAttempts.
TEST_F(BatchRulesTest, PartialCheckpointsAtLowestFailedAndCountsRetry) {
  RetryPlanner p(5, {false, 1});
  RetryPlanner::Step s = p.OnVerdict(Partial(2));
  ASSERT_TRUE(s.handled.has_value());
  EXPECT_EQ(*s.handled, (RecordRange{0, 2}));
  EXPECT_TRUE(s.backoff);
  EXPECT_EQ(p.current(), (RecordRange{2, 5}));
  s = p.OnVerdict(Partial(0));  // Same record fails again: retries exhausted.
  ASSERT_TRUE(s.dead_letter.has_value());
  EXPECT_EQ(*s.dead_letter, (RecordRange{2, 5}));
}

// Records older than the maximum age are dead-lettered before invoking.
TEST_F(BatchRulesTest, ExpiredRecordsAreDeadLettered) {
  RetryPlanner p(4, {});
  RetryPlanner::Step s = p.ExpireFront(3);
  ASSERT_TRUE(s.dead_letter.has_value());
  EXPECT_EQ(*s.dead_letter, (RecordRange{0, 3}));
  EXPECT_STREQ(s.condition, "RecordAgeExceeded");
  EXPECT_EQ(p.current(), (RecordRange{3, 4}));
}

// Backoff doubles from 20 ms and stays at or below 2 s.
TEST_F(BatchRulesTest, BackoffGrowsAndIsCapped) {
  EXPECT_EQ(RetryBackoffMs(1), 20);
  EXPECT_EQ(RetryBackoffMs(2), 40);
  EXPECT_EQ(RetryBackoffMs(50), 2000);
}

}  // namespace
}  // namespace eddy::runtime::dispatcher
