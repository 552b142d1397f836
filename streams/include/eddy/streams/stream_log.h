// StreamLog: the shard logs of one stream, in one directory.
//
// Layout: <dir>/shard-0000/, <dir>/shard-0001/, ... (one ShardLog each) and
// <dir>/STREAM, which records the shard count once every shard exists. A
// record's shard is ShardFor(hash of its partition key), so all changes of
// one item land in one shard, in order (DESIGN.md invariant 2). The store
// owns the mapping from tables to streams; this class only fans out.
//
// Thread-safety: all methods may be called concurrently. The ShardLog
// pointers stay valid until the StreamLog is destroyed; see shard_log.h for
// their own contract.
#ifndef EDDY_STREAMS_STREAM_LOG_H_
#define EDDY_STREAMS_STREAM_LOG_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "eddy/result.h"
#include "eddy/status.h"
#include "eddy/streams/shard_log.h"

namespace eddy::streams {

class StreamLog {
 public:
  struct Options {
    std::string dir;  // Created if missing.
    // Shards of a new stream. An existing stream keeps the count it was
    // created with (see shard_count()). REQUIRES: >= 1.
    uint32_t shard_count = 4;
    // Options for every shard; `dir` is ignored (each shard gets its own).
    ShardLog::Options shard_options;
  };

  // Opens or creates the stream and all its shards. Fails as ShardLog::Open
  // does, or with Corruption if the STREAM file is damaged.
  static Result<std::unique_ptr<StreamLog>> Open(Options options);
  // Removes the stream's files: every shard (ShardLog::DestroyLog), STREAM,
  // and the directory if that leaves it empty. OK if `dir` does not exist.
  static Status DestroyStream(const std::string& dir,
                              FileSystem* file_system = nullptr);

  StreamLog(const StreamLog&) = delete;
  StreamLog& operator=(const StreamLog&) = delete;
  ~StreamLog();

  uint32_t shard_count() const { return static_cast<uint32_t>(shards_.size()); }
  // The shard that holds records for partition-key hash `hash`.
  uint32_t ShardFor(uint32_t hash) const { return hash % shard_count(); }
  // Owned by the StreamLog. REQUIRES: index < shard_count().
  ShardLog* shard(uint32_t index) const { return shards_[index].get(); }

  // ShardLog::Checkpoint on every shard; returns the first error after
  // trying all.
  Status Checkpoint();
  // Seals every shard (stream disabled). Stops at the first error; calling
  // it again seals the rest (ShardLog::Seal is idempotent).
  Status Seal();
  // True once every shard is sealed.
  bool sealed() const;
  // ShardLog::TrimBefore on every shard; returns the first error after
  // trying all.
  Status TrimBefore(int64_t timestamp_ms);
  // Closes every shard; returns the first error after closing all.
  Status Close();
  // Close(), then DestroyStream(dir).
  Status Destroy();

 private:
  StreamLog(std::string dir, FileSystem* fs,
            std::vector<std::unique_ptr<ShardLog>> shards);

  const std::string dir_;
  FileSystem* const fs_;
  const std::vector<std::unique_ptr<ShardLog>> shards_;
};

}  // namespace eddy::streams

#endif  // EDDY_STREAMS_STREAM_LOG_H_
