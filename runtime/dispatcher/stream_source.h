// StreamSource: where the dispatcher reads a stream from. Everything above
// it (ShardDelivery's batching, filters, retries, bisect, partial batch
// failures, on-failure destinations, parallelization, tumbling windows and
// the workers) is the same whichever source it reads.
//
// Kinds (STYLE §9: an interface, a factory per kind, an in-memory fake):
//   - local   (local_stream_source.h): a stream of Eddy's own store, its
//             shard logs read directly; push: a commit wakes the reader.
//   - remote  (remote_stream_source.h): any DynamoDB Streams endpoint
//             (DynamoDB, ScyllaDB Alternator, another Eddy) through
//             DescribeStream, GetShardIterator and GetRecords, signed with
//             SigV4; pull: an empty shard is polled (Lambda's 250 ms by
//             default) with backoff.
//   - memory  (memory_stream_source.h): shards held in memory, for unit
//             tests of the delivery and of the lease protocol.
//
// Shards and lineage (reference/streams-triggers.md §1.5): a shard is open
// (no ending sequence number) or closed; a closed shard's children name it
// as their parent. Records of one item are in commit order within a shard
// and across a parent and its children, so a consumer finishes a parent
// before it starts its children.
//
// Positions. A reader starts at a ShardPosition and reports, with every
// batch, the position after it: reading again from a saved position
// repeats nothing the saved position says is done and skips nothing after
// it. SHARD_END is the position of a closed shard read to its end.
//
// Thread-safety: a StreamSource may be used from several threads at once;
// a ShardReader by one thread at a time.
#ifndef EDDY_RUNTIME_DISPATCHER_STREAM_SOURCE_H_
#define EDDY_RUNTIME_DISPATCHER_STREAM_SOURCE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "eddy/result.h"
#include "eddy/store/change_stream.h"

namespace eddy::runtime::dispatcher {

// A place in a shard, as a checkpoint keeps it.
struct ShardPosition {
  enum class Kind : uint8_t {
    kTrimHorizon,    // The oldest record still kept.
    kLatest,         // Just after the newest record (future records only).
    kAtSequence,     // The record `sequence` and after.
    kAfterSequence,  // Everything after the record `sequence`.
    kShardEnd,       // A closed shard read to its end: nothing follows.
  };
  Kind kind = Kind::kTrimHorizon;
  std::string sequence;  // kAt/kAfterSequence: as the Streams API shows it.

  static ShardPosition TrimHorizon() { return {Kind::kTrimHorizon, ""}; }
  static ShardPosition Latest() { return {Kind::kLatest, ""}; }
  static ShardPosition At(std::string s) {
    return {Kind::kAtSequence, std::move(s)};
  }
  static ShardPosition After(std::string s) {
    return {Kind::kAfterSequence, std::move(s)};
  }
  static ShardPosition ShardEnd() { return {Kind::kShardEnd, ""}; }

  bool operator==(const ShardPosition&) const = default;
  // "TRIM_HORIZON", "LATEST", "SHARD_END", "AT_SEQUENCE_NUMBER:<seq>" or
  // "AFTER_SEQUENCE_NUMBER:<seq>"; Parse is its inverse (false if `text`
  // is none of these).
  std::string ToString() const;
  static bool Parse(std::string_view text, ShardPosition* out);
};

struct ShardInfo {
  std::string shard_id;
  std::string parent_id;  // "" for a shard without a (listed) parent.
  std::string starting_sequence;
  std::string ending_sequence;  // "" while the shard is open.
  bool closed() const { return !ending_sequence.empty(); }
};

struct StreamInfo {
  std::string stream_arn;
  std::string table;
  store::StreamViewType view_type = store::StreamViewType::kNewAndOldImages;
  // The table's partition key attribute; routes records to lanes
  // (ParallelizationFactor).
  std::string hash_key;
  bool enabled = true;
};

// One record read from a shard.
struct SourceRecord {
  store::ChangeRecord record;   // timestamp_ms: the record's creation time.
  std::string sequence_number;  // As the Streams API shows it.
};

struct ShardBatch {
  // In shard order; may be empty (an open shard with nothing new yet).
  std::vector<SourceRecord> records;
  // Records the source skipped because they do not decode (a bug of the
  // store that wrote them, logged by the reader): finished as dead letters.
  uint64_t undecodable = 0;
  // The position was trimmed away before it was read (the records there
  // expired): the reader continued at the oldest record kept. `trimmed` is
  // how many records were lost when the source knows it, else 0.
  bool trim_skipped = false;
  uint64_t trimmed = 0;
  // The closed shard is read to its end; `records` are its last ones.
  bool end_of_shard = false;
  // Where reading continues after this batch (what to checkpoint once its
  // records are finished).
  ShardPosition next;
};

class ShardReader {
 public:
  virtual ~ShardReader() = default;

  // Reads the next records: at most `max_records`, stopping before the
  // record that would take the batch past `max_bytes` (at least one record
  // if there is one). Errors: Busy for what passes with time (throttling,
  // an unreachable or failing endpoint): retry after a backoff; NotFound
  // when the shard or stream is gone; others (AccessDenied, ...) as
  // InvalidArgument or IOError with the endpoint's message.
  virtual Result<ShardBatch> Read(size_t max_records, size_t max_bytes) = 0;

  // Push sources call `wake` (from any thread) whenever records may have
  // become readable, and return true; the caller then waits for it after
  // an empty read. Pull sources return false: the caller polls.
  virtual bool Subscribe(std::function<void()> wake) = 0;
};

class StreamSource {
 public:
  virtual ~StreamSource() = default;

  virtual Result<StreamInfo> Describe() = 0;
  // Every shard of the stream that still has records or is open, in
  // creation order (a parent before its children).
  virtual Result<std::vector<ShardInfo>> ListShards() = 0;
  // A reader of `shard_id` starting at `from`. NotFound if there is no
  // such shard; kShardEnd gives a reader at the end.
  virtual Result<std::unique_ptr<ShardReader>> OpenShard(
      const std::string& shard_id, const ShardPosition& from) = 0;
};

}  // namespace eddy::runtime::dispatcher

#endif  // EDDY_RUNTIME_DISPATCHER_STREAM_SOURCE_H_
