// ChangeStream: one DynamoDB stream of a table — a fixed set of shard logs
// (streams::ShardLog) holding one ChangeRecord per committed change.
//
// Every item of the table maps to one shard (KeyHash of its encoded
// partition key modulo the shard count), so all changes of one item are in
// one shard, in commit order (DESIGN.md invariant 2). A stream is enabled
// until UpdateTable disables it; then its shards are sealed and it stays
// readable until the retention period passes.
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
// "INSERT", "MODIFY", "REMOVE".
std::string_view ChangeEventName(ChangeEvent event);

struct StreamDescription {
  std::string table_name;
  std::string label;  // ISO-8601 creation time with milliseconds.
  StreamViewType view_type = StreamViewType::kNewAndOldImages;
  int64_t created_ms = 0;
  int64_t disabled_ms = 0;  // 0 while enabled.
  uint32_t shard_count = 0;

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

  // Decodes a record read from one of this stream's shards; images are
  // filtered by the view type (KEYS_ONLY carries neither).
  virtual Result<ChangeRecord> Decode(
      const streams::LogRecord& record) const = 0;
};

}  // namespace eddy::store

#endif  // EDDY_STORE_CHANGE_STREAM_H_
