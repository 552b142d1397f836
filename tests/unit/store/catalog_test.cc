// The catalog's persisted stream metadata: what an earlier Eddy wrote still
// reads as it meant (data directories are read as they are).
#include "catalog.h"

#include <gtest/gtest.h>

namespace eddy::store {
namespace {

class CatalogTest : public ::testing::Test {
 protected:
  static TableInfo Orders() {
    TableInfo info;
    info.schema.name = "Orders";
    info.schema.hash_key = {"p", ValueType::kS};
    info.schema.range_key = KeyElement{"c", ValueType::kN};
    info.schema.attribute_definitions = {{"p", ValueType::kS},
                                         {"c", ValueType::kN}};
    StreamDescription d;
    d.table_name = "Orders";
    d.label = "2026-11-26T21:40:00.123";
    d.created_ms = 1795729200123;
    d.shard_count = 4;
    d.shard_naming = ShardNaming::kOrdered;
    d.hash_key = "p";
    d.range_key = "c";
    info.streams.push_back(d);
    return info;
  }
};

// A stream written today keeps its naming and key names.
TEST_F(CatalogTest, StreamMetadataRoundTrips) {
  const TableInfo back = FromRecord(ToRecord(Orders(), 7));
  ASSERT_EQ(back.streams.size(), 1u);
  const StreamDescription& d = back.streams[0];
  EXPECT_EQ(d.shard_naming, ShardNaming::kOrdered);
  EXPECT_EQ(d.hash_key, "p");
  EXPECT_EQ(d.range_key, "c");
  EXPECT_EQ(d.label, "2026-11-26T21:40:00.123");
  EXPECT_EQ(d.shard_count, 4u);
}

// A record from before shard naming and key names were stored (fields 6-8
// of StreamMeta absent): its streams keep their hashed shard ids and take
// the table's key names.
TEST_F(CatalogTest, RecordOfAnEarlierEddyReadsAsHashedWithTheTablesKeys) {
  proto::TableRecord record = ToRecord(Orders(), 7);
  proto::StreamMeta* m = record.mutable_streams(0);
  m->clear_shard_naming();
  m->clear_hash_key();
  m->clear_range_key();
  std::string bytes;
  ASSERT_TRUE(record.SerializeToString(&bytes));
  proto::TableRecord parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  const TableInfo back = FromRecord(parsed);
  ASSERT_EQ(back.streams.size(), 1u);
  EXPECT_EQ(back.streams[0].shard_naming, ShardNaming::kHashed);
  EXPECT_EQ(back.streams[0].hash_key, "p");
  EXPECT_EQ(back.streams[0].range_key, "c");
}

// A deleted table's stream record carries everything DescribeStream needs.
TEST_F(CatalogTest, RetainedStreamKeepsTheKeySchema) {
  proto::StreamMeta meta;
  ToStreamMeta(Orders().streams[0], &meta);
  const StreamDescription d = FromStreamMeta(meta, "Orders");
  EXPECT_EQ(d.table_name, "Orders");
  EXPECT_EQ(d.hash_key, "p");
  EXPECT_EQ(d.range_key, "c");
  EXPECT_EQ(d.shard_naming, ShardNaming::kOrdered);
  EXPECT_NE(RetainedStreamKey(1, d.label), RetainedStreamKey(2, d.label));
  EXPECT_EQ(RetainedStreamKey(1, d.label)[0], kRetainedPrefix);
}

}  // namespace
}  // namespace eddy::store
