// ChangeStream: one DynamoDB stream of a table — shard logs
// (streams::ShardLog) holding one ChangeRecord per committed change.
//
// Shards come in generations of `width` shards (StreamDescription::
// shard_count). A stream starts with generation 0, shards 0..width-1. A
// rollover (Database::Options::stream_rollover_ms, as DynamoDB closes its
// shards every few hours) closes every shard of the current generation and
// opens the next one: shard i of generation g has index g*width + i, and its
// parent is shard (g-1)*width + i, which is sealed before the child gets any
// record. Every item of the table maps to one lane (KeyHash of its encoded
// partition key modulo the width) and its changes go to the lane's shard of
// the current generation, so all changes of one item are in commit order
// within a shard and across a parent and its child (DESIGN.md invariant 2):
// a reader that finishes a parent before its child keeps per-item order.
// Retention trims whole closed generations: once every record of a closed
// generation has expired its shards are retired (first_shard() moves past
// them; their files are deleted). A stream is enabled
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
  // Shards per generation (the stream's shard count when it was created).
  uint32_t shard_count = 0;
  // The creation time of each generation of shards, oldest first:
  // generations[0] is created_ms; each rollover appends a later one.
  std::vector<int64_t> generations;
  // Generations below this one are retired (all their records expired).
  uint32_t first_generation = 0;
  ShardNaming shard_naming = ShardNaming::kOrdered;
  // The table's key attribute names when the stream was created
  // (DescribeStream's KeySchema; a stream outlives its table). range_key is
  // empty for a hash-only table.
  std::string hash_key;
  std::string range_key;

  bool enabled() const { return disabled_ms == 0; }
  uint32_t generation_count() const {
    return generations.empty() ? 1 : static_cast<uint32_t>(generations.size());
  }
  // When shard `index`'s generation was created.
  int64_t shard_created_ms(uint32_t index) const {
    const uint32_t g = shard_count == 0 ? 0 : index / shard_count;
    return g < generations.size() ? generations[g] : created_ms;
  }
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

  // A snapshot: disabled_ms changes when the stream is disabled, the
  // generations when it rolls over or retires shards.
  virtual StreamDescription description() const = 0;
  // Shards per generation.
  virtual uint32_t width() const = 0;
  // One past the highest shard index (of every generation so far).
  virtual uint32_t shard_count() const = 0;
  // The lowest shard index not retired. Shards [first_shard(),
  // shard_count()) are live; the last width() of them are the current
  // generation (open while the stream is enabled), the others closed.
  virtual uint32_t first_shard() const = 0;
  // REQUIRES: first_shard() <= index < shard_count() at some point; the
  // pointer stays valid as long as the ChangeStream (a shard retired later
  // reads as closed: IOError).
  virtual streams::ShardLog* shard(uint32_t index) const = 0;
  // The shard of the current generation that takes changes of items whose
  // encoded partition key hashes to `hash`.
  virtual uint32_t ShardFor(uint32_t hash) const = 0;
  // The parent of shard `index`, or -1 for a shard of generation 0.
  int64_t parent_shard(uint32_t index) const {
    return index >= width() ? static_cast<int64_t>(index - width()) : -1;
  }
  // The shard's StartingSequenceNumber: one below its first record's
  // number (see the header comment). Never changes, also not by trimming.
  // REQUIRES: index < shard_count().
  uint64_t start_sequence(uint32_t /*index*/) const {
    return kFirstRecordSequence - 1;
  }

  // Decodes a record read from shard `shard` of this stream; images are
  // filtered by the view type (KEYS_ONLY carries neither). The record's
  // eventID derives from the stream, the shard and the sequence number
  // (records written before it did carry their own).
  virtual Result<ChangeRecord> Decode(
      uint32_t shard, const streams::LogRecord& record) const = 0;
};

}  // namespace eddy::store

#endif  // EDDY_STORE_CHANGE_STREAM_H_
