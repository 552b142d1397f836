// RecentErrors: what `trigger status` and the console show of a trigger's
// failed invocations.
#include "dispatcher/recent_errors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace eddy::runtime::dispatcher {
namespace {

class RecentErrorsTest : public ::testing::Test {
 protected:
  void Fail(int64_t time_ms, std::string message = "boom") {
    errors_.Add(
        {time_ms, "shardId-1", 1, 3, "Handler.Error", std::move(message)});
  }
  std::vector<int64_t> Times() const {
    std::vector<int64_t> times;
    for (const InvocationError& e : errors_.Snapshot()) {
      times.push_back(e.time_ms);
    }
    return times;
  }

  RecentErrors errors_;
};

// An operator wants the latest failure at the top.
TEST_F(RecentErrorsTest, NewestComesFirst) {
  Fail(1);
  Fail(2);
  Fail(3);
  EXPECT_THAT(Times(), ::testing::ElementsAre(3, 2, 1));
  const InvocationError first = errors_.Snapshot().front();
  EXPECT_EQ(first.shard_id, "shardId-1");
  EXPECT_EQ(first.records, 3u);
  EXPECT_EQ(first.error_type, "Handler.Error");
  EXPECT_EQ(first.error_message, "boom");
}

// A handler failing forever must not grow the server's memory.
TEST_F(RecentErrorsTest, KeepsOnlyTheLastFew) {
  for (int64_t t = 1; t <= 25; ++t) Fail(t);
  std::vector<int64_t> times = Times();
  ASSERT_EQ(times.size(), RecentErrors::kCapacity);
  EXPECT_EQ(times.front(), 25);
  EXPECT_EQ(times.back(), static_cast<int64_t>(26 - RecentErrors::kCapacity));
}

// A handler may fail with a huge message (a whole payload); it is cut.
TEST_F(RecentErrorsTest, LongMessagesAreCut) {
  Fail(1, std::string(100'000, 'x'));
  const std::string message = errors_.Snapshot().front().error_message;
  EXPECT_EQ(message.size(), RecentErrors::kMaxMessageBytes + 3);
  EXPECT_TRUE(message.ends_with("..."));
}

// Cutting never leaves half a UTF-8 character (the admin API's JSON would
// carry an invalid string).
TEST_F(RecentErrorsTest, CutRespectsUtf8Characters) {
  // "é" is two bytes: a cut after 3 bytes of "aéé" falls inside the second.
  EXPECT_EQ(TruncateUtf8("a\xC3\xA9\xC3\xA9", 4), "a\xC3\xA9...");
  EXPECT_EQ(TruncateUtf8("a\xC3\xA9\xC3\xA9", 5), "a\xC3\xA9\xC3\xA9");
  // A 4-byte character cut anywhere inside goes whole.
  EXPECT_EQ(TruncateUtf8("\xF0\x9F\x98\x80z", 2), "...");
  EXPECT_EQ(TruncateUtf8("short", 10), "short");
}

// Every lane of a trigger reports into one ring at once.
TEST_F(RecentErrorsTest, ConcurrentAddsAreSafe) {
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([this, i] {
      for (int j = 0; j < 1000; ++j) Fail(i * 1000 + j);
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(errors_.Snapshot().size(), RecentErrors::kCapacity);
}

}  // namespace
}  // namespace eddy::runtime::dispatcher
