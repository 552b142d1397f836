// The Streams API's identifiers: shard ids that sort lexically in creation
// order over many generations of shards (what the DynamoDB Streams Kinesis
// Adapter requires), sequence numbers, stream ARNs and shard iterators.
#include "api/stream_format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace eddy::runtime::api {
namespace {

const std::regex kShardIdShape("^shardId-[0-9]{20}-[0-9a-f]{8}$");

class StreamFormatTest : public ::testing::Test {
 protected:
  // Simulates a stream whose shards roll over by the rule of
  // stream_format.h: every generation closes each of `width` open shards
  // and opens one child each, created later than every existing shard, with
  // the next indexes. `clock` gives "now" for each generation (it may stall
  // or step back). Returns the ids in creation order.
  static std::vector<std::string> Generations(
      int64_t stream_created_ms, uint32_t width, int generations,
      const std::function<int64_t(int)>& clock) {
    std::vector<std::string> ids;
    int64_t newest = stream_created_ms;
    uint32_t next_index = 0;
    for (uint32_t i = 0; i < width; ++i) {
      ids.push_back(OrderedShardId(stream_created_ms, next_index++));
    }
    for (int g = 1; g < generations; ++g) {
      newest = std::max(clock(g), newest + 1);
      for (uint32_t i = 0; i < width; ++i) {
        ids.push_back(OrderedShardId(newest, next_index++));
      }
    }
    return ids;
  }

  static void ExpectSortedAndDistinct(const std::vector<std::string>& ids) {
    std::vector<std::string> sorted = ids;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, ids) << "lexical order is not creation order";
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
    for (const std::string& id : ids) {
      EXPECT_TRUE(std::regex_match(id, kShardIdShape)) << id;
    }
  }
};

// Shards created together (one stream's first generation) get distinct ids
// that sort by index, also past the index where hex gets letters.
TEST_F(StreamFormatTest, ShardsCreatedTogetherSortByIndex) {
  std::vector<std::string> ids;
  for (uint32_t i = 0; i < 300; ++i) {
    ids.push_back(OrderedShardId(1700000000000, i));
  }
  ExpectSortedAndDistinct(ids);
  EXPECT_EQ(ids[0], "shardId-00000001700000000000-00000000");
  EXPECT_EQ(ids[10], "shardId-00000001700000000000-0000000a");
  EXPECT_EQ(ids[255], "shardId-00000001700000000000-000000ff");
}

// A year of rollovers every 4 hours, 4 shards wide: every id sorts after
// every id created before it.
TEST_F(StreamFormatTest, RolloversForAYearKeepCreationOrder) {
  const int64_t start = 1767225600000;  // 2026-01-01.
  const int64_t four_hours = 4 * 3600 * 1000;
  const auto ids = Generations(start, 4, 6 * 366,
                               [&](int g) { return start + g * four_hours; });
  ASSERT_EQ(ids.size(), 4u * 6 * 366);
  ExpectSortedAndDistinct(ids);
}

// A clock that stalls, steps back, or several generations within one
// millisecond (rollover in tests every few ms) cannot break the order.
TEST_F(StreamFormatTest, StalledOrBackwardClockKeepsCreationOrder) {
  const int64_t start = 1767225600000;
  const auto ids = Generations(start, 3, 500, [&](int g) {
    return start + (g % 7 == 0 ? -5000 : g / 10);
  });
  ExpectSortedAndDistinct(ids);
}

// Zero padding keeps lexical = numeric order where the time gains a digit.
TEST_F(StreamFormatTest, OrderHoldsWhereTheTimeGainsADigit) {
  const auto ids = Generations(9999999999990, 2, 40,
                               [](int g) { return 9999999999990 + g; });
  ExpectSortedAndDistinct(ids);
}

// A stream from before ordered ids keeps its hashed ids; its later
// generations, named by the ordered scheme, sort after all of them.
TEST_F(StreamFormatTest, HashedFirstGenerationSortsBeforeLaterOrderedOnes) {
  store::StreamDescription d;
  d.label = "2026-11-26T21:40:00.123";
  d.created_ms = 1795729200123;
  d.shard_naming = store::ShardNaming::kHashed;
  d.shard_count = 4;
  std::vector<std::string> first;
  for (uint32_t i = 0; i < 4; ++i) first.push_back(ShardId(d, i));
  // The ids an earlier Eddy gave, unchanged.
  EXPECT_EQ(first[0], HashedShardId(d.label, d.created_ms, 0));
  std::sort(first.begin(), first.end());
  std::vector<std::string> ids = first;
  for (uint32_t i = 4; i < 8; ++i) {
    ids.push_back(OrderedShardId(d.created_ms + 1, i));
  }
  ExpectSortedAndDistinct(ids);
}

TEST_F(StreamFormatTest, ShardIdFollowsTheStreamsNaming) {
  store::StreamDescription d;
  d.label = "2026-11-26T21:40:00.123";
  d.created_ms = 1795729200123;
  d.shard_count = 4;
  d.shard_naming = store::ShardNaming::kOrdered;
  EXPECT_EQ(ShardId(d, 3), "shardId-00000001795729200123-00000003");
  d.shard_naming = store::ShardNaming::kHashed;
  EXPECT_EQ(ShardId(d, 3), HashedShardId(d.label, d.created_ms, 3));
  EXPECT_NE(ShardId(d, 3), "shardId-00000001795729200123-00000003");
}

// After a rollover, a generation's shards are named by its own creation
// time and their indexes (ordered, whatever the stream's first generation
// used), so they sort after every earlier shard.
TEST_F(StreamFormatTest, LaterGenerationsAreNamedByTheirCreationTime) {
  store::StreamDescription d;
  d.label = "2026-11-26T21:40:00.123";
  d.created_ms = 1795729200123;
  d.shard_count = 2;
  d.generations = {1795729200123, 1795729260000};
  for (store::ShardNaming naming :
       {store::ShardNaming::kOrdered, store::ShardNaming::kHashed}) {
    d.shard_naming = naming;
    EXPECT_EQ(ShardId(d, 2), "shardId-00000001795729260000-00000002");
    EXPECT_EQ(ShardId(d, 3), "shardId-00000001795729260000-00000003");
    std::vector<std::string> ids;
    for (uint32_t i = 0; i < 4; ++i) ids.push_back(ShardId(d, i));
    EXPECT_LT(std::max(ids[0], ids[1]), std::min(ids[2], ids[3]));
  }
}

TEST_F(StreamFormatTest, SequenceNumbersRoundTrip) {
  for (uint64_t n : {uint64_t{0}, uint64_t{1}, uint64_t{123456789},
                     uint64_t{9999999999999999999u}}) {
    const std::string text = SequenceString(n);
    EXPECT_EQ(text.size(), 21u);
    uint64_t back = 0;
    ASSERT_TRUE(ParseSequence(text, &back)) << text;
    EXPECT_EQ(back, n);
  }
  EXPECT_EQ(SequenceString(0), "100000000000000000000");
  uint64_t ignored = 0;
  for (const char* bad : {"", "1", "200000000000000000001",
                          "10000000000000000000x", "1000000000000000000000"}) {
    EXPECT_FALSE(ParseSequence(bad, &ignored)) << bad;
  }
}

TEST_F(StreamFormatTest, ParsesWellFormedStreamArns) {
  StreamArnParts parts;
  ASSERT_TRUE(ParseStreamArn(
      "arn:aws:dynamodb:us-east-1:000000000000:table/Orders.v2_x-y/stream/"
      "2026-11-26T21:40:00.123",
      &parts));
  EXPECT_EQ(parts.partition, "aws");
  EXPECT_EQ(parts.region, "us-east-1");
  EXPECT_EQ(parts.account, "000000000000");
  EXPECT_EQ(parts.table, "Orders.v2_x-y");
  EXPECT_EQ(parts.label, "2026-11-26T21:40:00.123");
  // Another partition, region or account is well-formed (it names nothing
  // here, which is the caller's business).
  EXPECT_TRUE(ParseStreamArn(
      "arn:aws-cn:dynamodb:cn-north-1:123456789012:table/abc/stream/"
      "2015-05-11T21:21:33.291",
      &parts));
}

TEST_F(StreamFormatTest, RejectsMalformedStreamArns) {
  StreamArnParts parts;
  for (const char* bad : {
           "",
           "sdfadfsdfnlfkajakfgjalksfgklasjklasdjfklasdfasdfgasf",
           "arn:aws:dynamodb:us-east-1:000000000000:table/Orders",
           "arn:aws:dynamodb:us-east-1:000000000000:table/Orders/stream/",
           "arn:aws:dynamodb:us-east-1:000000000000:table/Orders/stream/latest",
           "arn:aws:dynamodb:us-east-1:000000000000:table/Orders/stream/"
           "2026-11-26T21:40:00.123x",
           "arn:aws:dynamodb:us-east-1:000000000000:table/Orders/stream/"
           "2026-11-26 21:40:00.123",
           "arn:aws:dynamodb:us-east-1:000000000000:table/Or/stream/"
           "2026-11-26T21:40:00.123",  // Table name too short.
           "arn:aws:dynamodb:us-east-1:000000000000:table/Or$ders/stream/"
           "2026-11-26T21:40:00.123",
           "arn:aws:kinesis:us-east-1:000000000000:table/Orders/stream/"
           "2026-11-26T21:40:00.123",
           "arn:aws:dynamodb::000000000000:table/Orders/stream/"
           "2026-11-26T21:40:00.123",
           "arn:aws:dynamodb:us-east-1:000000000000:index/Orders/stream/"
           "2026-11-26T21:40:00.123",
       }) {
    EXPECT_FALSE(ParseStreamArn(bad, &parts)) << bad;
  }
}

TEST_F(StreamFormatTest, ShardIteratorsRoundTripAndRejectDamage) {
  const ShardIterator it{
      "arn:aws:dynamodb:us-east-1:000000000000:table/Orders/stream/"
      "2026-11-26T21:40:00.123",
      3, 42, 1795729200999};
  const std::string text = EncodeShardIterator(it);
  ShardIterator back;
  ASSERT_TRUE(DecodeShardIterator(text, &back)) << text;
  EXPECT_EQ(back.stream_arn, it.stream_arn);
  EXPECT_EQ(back.shard, 3u);
  EXPECT_EQ(back.position, 42u);
  EXPECT_EQ(back.issued_ms, 1795729200999);
  std::vector<std::string> bad = {"",
                                  "not-an-iterator",
                                  text.substr(0, 10),
                                  text.substr(0, text.size() - 1),
                                  text + "1",
                                  text + ".1"};
  // One digit changed anywhere after the ARN breaks the check.
  const size_t numbers = text.rfind("|1|") + 3;
  for (size_t i = numbers; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') continue;
    std::string damaged = text;
    damaged[i] = text[i] == '7' ? '8' : '7';
    bad.push_back(damaged);
  }
  // A check that matches but an ARN that is not a stream's.
  bad.push_back(EncodeShardIterator({"arn:aws:dynamodb:x", 0, 1, 1}));
  for (const std::string& b : bad) {
    EXPECT_FALSE(DecodeShardIterator(b, &back)) << b;
  }
}

}  // namespace
}  // namespace eddy::runtime::api
