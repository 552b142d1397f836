// MemoryStreamSource: a stream held in memory, for unit tests of what sits
// on a StreamSource (stream_source.h): shards with lineage, records,
// closing, trimming and injected read failures. Pull, like a remote
// endpoint (readers do not subscribe). Sequence numbers have Eddy's shape
// (wire::SequenceString of 1, 2, ... per shard).
//
// Thread-safety: every method may be called from any thread.
#ifndef EDDY_RUNTIME_DISPATCHER_MEMORY_STREAM_SOURCE_H_
#define EDDY_RUNTIME_DISPATCHER_MEMORY_STREAM_SOURCE_H_

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dispatcher/stream_source.h"

namespace eddy::runtime::dispatcher {

class MemoryStreamSource : public StreamSource {
 public:
  explicit MemoryStreamSource(StreamInfo info) : info_(std::move(info)) {}

  // Adds an open shard; `parent_id` "" for none.
  void AddShard(const std::string& shard_id, const std::string& parent_id = "");
  // Appends to an open shard; returns the record's sequence number.
  std::string Append(const std::string& shard_id, store::ChangeRecord record);
  // Closes the shard: no more appends; readers reach its end.
  void Close(const std::string& shard_id);
  // Drops the shard's oldest `count` records (retention).
  void Trim(const std::string& shard_id, size_t count);
  // Removes the shard from the listing (all its records expired).
  void Forget(const std::string& shard_id);
  // The next `count` Reads (of any shard) fail with `status`.
  void FailReads(int count, Status status);

  Result<StreamInfo> Describe() override;
  Result<std::vector<ShardInfo>> ListShards() override;
  Result<std::unique_ptr<ShardReader>> OpenShard(
      const std::string& shard_id, const ShardPosition& from) override;

 private:
  class Reader;
  struct Shard {
    std::string parent_id;
    std::deque<SourceRecord> records;
    uint64_t first = 1;  // Sequence of records.front().
    uint64_t next = 1;   // Sequence of the next append.
    bool closed = false;
  };

  std::mutex mu_;
  StreamInfo info_;
  std::map<std::string, Shard> shards_;  // Guarded by mu_.
  std::vector<std::string> order_;       // Creation order; guarded by mu_.
  int failures_ = 0;                     // Guarded by mu_.
  Status failure_;                       // Guarded by mu_.
};

}  // namespace eddy::runtime::dispatcher

#endif  // EDDY_RUNTIME_DISPATCHER_MEMORY_STREAM_SOURCE_H_
