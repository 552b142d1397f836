// LocalStreamSource: a stream of Eddy's own store as a StreamSource (see
// stream_source.h). Readers read the shard logs directly and are woken by
// commits (push, no polling).
//
// Positions: Eddy's sequence numbers are wire::SequenceString of the shard
// log's numbers. A reader reports AT_SEQUENCE_NUMBER of the next record to
// read (possibly one not written yet), so that a checkpoint taken while a
// shard is caught up or just trimmed says exactly where to resume.
//
// Thread-safety: as StreamSource.
#ifndef EDDY_RUNTIME_DISPATCHER_LOCAL_STREAM_SOURCE_H_
#define EDDY_RUNTIME_DISPATCHER_LOCAL_STREAM_SOURCE_H_

#include <spdlog/logger.h>

#include <memory>
#include <string>

#include "dispatcher/stream_source.h"
#include "eddy/store/change_stream.h"

namespace eddy::runtime::dispatcher {

class LocalStreamSource : public StreamSource {
 public:
  // `stream_arn` names the stream in StreamInfo.
  LocalStreamSource(std::shared_ptr<store::ChangeStream> stream,
                    std::string stream_arn,
                    std::shared_ptr<spdlog::logger> logger);

  Result<StreamInfo> Describe() override;
  Result<std::vector<ShardInfo>> ListShards() override;
  Result<std::unique_ptr<ShardReader>> OpenShard(
      const std::string& shard_id, const ShardPosition& from) override;

  // The reader of shard `index` (the in-server dispatcher keeps its
  // checkpoints by index). REQUIRES: index < shard_count().
  std::unique_ptr<ShardReader> OpenShardIndex(uint32_t index,
                                              const ShardPosition& from);

  // The shard log's number of the next record to read from `position`
  // (TRIM_HORIZON: the oldest kept; LATEST and SHARD_END: after the
  // newest). InvalidArgument for a sequence number that is not Eddy's.
  static Result<uint64_t> NextSequence(const streams::ShardLog& log,
                                       const ShardPosition& position);

 private:
  std::shared_ptr<store::ChangeStream> stream_;
  std::string stream_arn_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace eddy::runtime::dispatcher

#endif  // EDDY_RUNTIME_DISPATCHER_LOCAL_STREAM_SOURCE_H_
