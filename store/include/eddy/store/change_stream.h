// ChangeStream: one DynamoDB stream of a table — a fixed set of shard logs
// (streams::ShardLog) holding one ChangeRecord per committed change.
//
// Every item of the table maps to one shard (KeyHash of its encoded
// partition key modulo the shard count), so all changes of one item are in
// one shard, in commit order (DESIGN.md invariant 2). A stream is enabled
// until UpdateTable disables it or DeleteTable deletes its table; then its
// shards are sealed and it stays readable until the retention period passes
// (also after its table is gone, as on DynamoDB).
//
// Shard numbering: a shard's first record gets kFirstRecordSequence, and
// its StartingSequenceNumber (start_sequence()) is one below: a number no
// record has, so that reading AT or AFTER it reads the whole shard, also
// while the shard is still empty.
//
// Thread-safety: all methods may be called concurrently. The ShardLog
// pointers stay valid as long as the ChangeStream is alive.
#ifndef EDDY_STORE_CHANGE_STREAM_H_
#define EDDY_STORE_CHANGE_STREAM_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eddy/result.h"
#include "eddy/store/attribute_value.h"
#include "eddy/streams/shard_log.h"

namespace eddy::store {

enum class StreamViewType : uint8_t {
  kKeysOnly = 0,
  kNewImage = 1,
  kOldImage = 2,
  kNewAndOldImages = 3,
};
// "KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES".
std::string_view StreamViewTypeName(StreamViewType type);
bool ParseStreamViewType(std::string_view text, StreamViewType* type);

enum class ChangeEvent : uint8_t { kInsert = 1, kModify = 2, kRemove = 3 };

// How the Streams API names a stream's shards (runtime/api/stream_format.h
// has the formats). Persisted with the stream; only ever added to.
enum class ShardNaming : uint8_t {
  // Streams created before shard ids sorted in creation order: the stream's
  // creation time and a hash. Kept so that an earlier Eddy's streams keep
  // their shard ids (consumers may have stored them).
  kHashed = 0,
  // The shard's creation time and its index: lexical order is creation
  // order, across any number of later generations of shards.
  kOrdered = 1,
};

// The sequence number of a shard's first record.
inline constexpr uint64_t kFirstRecordSequence = 1;
// "INSERT", "MODIFY", "REMOVE".
std::string_view ChangeEventName(ChangeEvent event);

struct StreamDescription {
  std::string table_name;
  std::string label;  // ISO-8601 creation time with milliseconds.
  StreamViewType view_type = StreamViewType::kNewAndOldImages;
  int64_t created_ms = 0;
  int64_t disabled_ms = 0;  // 0 while enabled.
  uint32_t shard_count = 0;
  ShardNaming shard_naming = ShardNaming::kOrdered;
  // The table's key attribute names when the stream was created
  // (DescribeStream's KeySchema; a stream outlives its table). range_key is
  // empty for a hash-only table.
  std::string hash_key;
  std::string range_key;

  bool enabled() const { return disabled_ms == 0; }
};

// One decoded stream record, with images as the stream's view type includes
// them.
struct ChangeRecord {
  uint64_t sequence = 0;
  int64_t timestamp_ms = 0;
  ChangeEvent event = ChangeEvent::kInsert;
  std::string event_id;
  Item keys;
  std::optional<Item> old_image;
  std::optional<Item> new_image;
  uint64_t size_bytes = 0;
  bool service_delete = false;  // A TTL delete by the service.
};

class ChangeStream {
 public:
  virtual ~ChangeStream() = default;

  // A snapshot: disabled_ms changes when the stream is disabled.
  virtual StreamDescription description() const = 0;
  virtual uint32_t shard_count() const = 0;
  // REQUIRES: index < shard_count().
  virtual streams::ShardLog* shard(uint32_t index) const = 0;
  // The shard holding items whose encoded partition key hashes to `hash`.
  uint32_t ShardFor(uint32_t hash) const { return hash % shard_count(); }
  // The shard's StartingSequenceNumber: one below its first record's
  // number (see the header comment). Never changes, also not by trimming.
  // REQUIRES: index < shard_count().
  uint64_t start_sequence(uint32_t /*index*/) const {
    return kFirstRecordSequence - 1;
  }

  // Decodes a record read from one of this stream's shards; images are
  // filtered by the view type (KEYS_ONLY carries neither).
  virtual Result<ChangeRecord> Decode(
      const streams::LogRecord& record) const = 0;
};

}  // namespace eddy::store

#endif  // EDDY_STORE_CHANGE_STREAM_H_
