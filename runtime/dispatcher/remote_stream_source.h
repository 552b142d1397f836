// RemoteStreamSource: the stream of a table on any DynamoDB Streams
// endpoint (DynamoDB, ScyllaDB Alternator, another Eddy) as a
// StreamSource (stream_source.h). Pull: readers call GetRecords; the
// delivery polls an empty shard.
//
// Calls: DescribeTable (the table's LatestStreamArn), DescribeStream (paged
// by ExclusiveStartShardId / LastEvaluatedShardId), GetShardIterator and
// GetRecords. Records are parsed by wire::ReadStreamRecord, the code that
// writes Eddy's own GetRecords.
//
// A reader's position is where the next GetRecords continues:
// AFTER_SEQUENCE_NUMBER of the last record returned, or its starting
// position before any. Lambda's rules for the endpoint's errors:
//   ExpiredIteratorException   a new iterator at the reader's position,
//                              then the read is repeated (nothing lost,
//                              nothing repeated);
//   TrimmedDataAccessException the position is gone: the reader continues
//                              at TRIM_HORIZON and says so (trim_skipped;
//                              how many records were lost is not known);
//   throttling, 5xx, no answer Busy: the caller backs off and reads again
//                              with the same iterator (DynamoDB's stay
//                              valid), so no record is lost;
//   ResourceNotFoundException  NotFound (the shard or stream is gone).
// A GetRecords answer without NextShardIterator ends a closed shard.
//
// Thread-safety: as StreamSource.
#ifndef EDDY_RUNTIME_DISPATCHER_REMOTE_STREAM_SOURCE_H_
#define EDDY_RUNTIME_DISPATCHER_REMOTE_STREAM_SOURCE_H_

#include <spdlog/logger.h>

#include <memory>
#include <string>

#include "dispatcher/stream_source.h"
#include "dynamo_client.h"

namespace eddy::runtime::dispatcher {

class RemoteStreamSource : public StreamSource {
 public:
  struct Options {
    // DescribeTable goes to `tables`; the Streams API to `streams` (on
    // DynamoDB a host of its own, streams.dynamodb.<region>...; Eddy and
    // Alternator serve both on one).
    std::shared_ptr<DynamoTransport> tables;
    std::shared_ptr<DynamoTransport> streams;
    std::string table;
    // When set, this stream is read and DescribeTable is not called.
    std::string stream_arn;
    // Records per GetRecords (1..1000).
    int limit = 1000;
    std::shared_ptr<spdlog::logger> logger;
  };

  // Finds the table's current stream. NotFound: no such table;
  // InvalidArgument: the table has no enabled stream, or the endpoint
  // refuses the identity (AccessDenied, UnrecognizedClient, ...) or the
  // request; Busy: the endpoint cannot be reached or fails.
  static Result<std::unique_ptr<RemoteStreamSource>> Open(Options options);

  Result<StreamInfo> Describe() override;
  Result<std::vector<ShardInfo>> ListShards() override;
  Result<std::unique_ptr<ShardReader>> OpenShard(
      const std::string& shard_id, const ShardPosition& from) override;

  const std::string& stream_arn() const { return stream_arn_; }

 private:
  explicit RemoteStreamSource(Options options) : options_(std::move(options)) {}

  Options options_;
  std::string stream_arn_;
};

}  // namespace eddy::runtime::dispatcher

#endif  // EDDY_RUNTIME_DISPATCHER_REMOTE_STREAM_SOURCE_H_
