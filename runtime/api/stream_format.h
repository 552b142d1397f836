// The AWS shapes of Eddy's stream identifiers and records, shared by the
// Streams API and the trigger dispatcher (which names shards and records in
// failure documents exactly as GetRecords does). Pure functions.
//
// Sequence numbers: "1" followed by the shard log's sequence, zero-padded to
// 20 digits (21 digits, increasing within a shard).
//
// Shard ids: "shardId-" <20 decimal digits> "-" <8 lowercase hex digits>, 28
// characters, as DynamoDB's (shardId-00000001414562045508-2bac9cd2). Both
// parts are fixed-width and zero-padded, so ids compare lexically as the
// pairs of numbers compare. store::ShardNaming says which scheme a stream
// uses:
//   kOrdered  <the shard's creation time, ms> "-" <the shard's index>. The
//             index is the shard's position in its stream (its directory
//             shard-NNNN), never reused, so shards created together differ
//             and sort by index. Rule for every later generation of shards
//             (a rollover closing each open shard and opening a child, or a
//             split): its creation time is later than that of every shard
//             the stream already has (max(now, newest + 1 ms)), and its
//             indexes continue the stream's count. Then lexical order is
//             creation order for as many generations as the stream ever has
//             (20 digits of ms and 2^32 indexes do not run out), which the
//             DynamoDB Streams Kinesis Adapter relies on.
//   kHashed   <the stream's creation time, ms> "-" <KeyHash(label#index)>:
//             streams of an Eddy from before the ordered scheme keep the ids
//             their consumers may have stored. All their shards were
//             created together, so any fixed order of them is creation
//             order; DescribeStream lists shards sorted by id. A later
//             generation, named by the ordered scheme with a later time,
//             sorts after all of them.
//
// Stream ARNs: arn:<partition>:dynamodb:<region>:<account>:table/<table>/
// stream/<label>, label "YYYY-MM-DDTHH:MM:SS.mmm".
//
// Shard iterators: <stream ARN> "|1|" <shard index> "." <position> "."
// <issued ms> "." <check>, where position is the sequence of the next record
// to read and check a KeyHash of the rest (so a mangled iterator is told
// from one that names a shard or stream that is gone).
#ifndef EDDY_RUNTIME_API_STREAM_FORMAT_H_
#define EDDY_RUNTIME_API_STREAM_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "api/json_codec.h"
#include "eddy/store/change_stream.h"

namespace eddy::runtime::api {

std::string SequenceString(uint64_t sequence);
// Inverse of SequenceString; false if `text` is not one.
bool ParseSequence(std::string_view text, uint64_t* sequence);

// The id of shard `index` of `stream`, by its naming scheme.
std::string ShardId(const store::StreamDescription& stream, uint32_t index);
// kOrdered: the shard created at `created_ms` with index `index`.
std::string OrderedShardId(int64_t created_ms, uint32_t index);
// kHashed: shard `index` of the stream labelled `label`, created at
// `created_ms`.
std::string HashedShardId(const std::string& label, int64_t created_ms,
                          uint32_t index);

// The parts of a well-formed stream ARN.
struct StreamArnParts {
  std::string partition;  // "aws"
  std::string region;
  std::string account;
  std::string table;
  std::string label;
};
// False if `arn` is not a well-formed DynamoDB stream ARN (it may still name
// no stream).
bool ParseStreamArn(std::string_view arn, StreamArnParts* parts);

struct ShardIterator {
  std::string stream_arn;
  uint32_t shard = 0;     // The shard's index in its stream.
  uint64_t position = 0;  // The sequence of the next record to read.
  int64_t issued_ms = 0;  // When GetShardIterator/GetRecords issued it.
};
std::string EncodeShardIterator(const ShardIterator& iterator);
// False unless `text` is an iterator EncodeShardIterator wrote (the check
// matches and the ARN is well-formed).
bool DecodeShardIterator(std::string_view text, ShardIterator* iterator);

// One record as GetRecords returns it (eventID, eventName, eventVersion,
// eventSource, awsRegion, dynamodb{...}, userIdentity {PrincipalId, Type}
// for TTL deletes), or, when `event_source_arn` is not empty, as Lambda
// passes it in an event: with eventSourceARN, and userIdentity spelled
// {principalId, type}.
void WriteStreamRecord(const store::ChangeRecord& record, uint64_t sequence,
                       store::StreamViewType view, const std::string& region,
                       const std::string& event_source_arn, JsonWriter* out);

}  // namespace eddy::runtime::api

#endif  // EDDY_RUNTIME_API_STREAM_FORMAT_H_
