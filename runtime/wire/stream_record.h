// DynamoDB Streams records and their identifiers on the wire, both ways:
// the Streams API writes GetRecords with WriteStreamRecord, the trigger
// dispatcher writes Lambda's event records with it, and the remote stream
// source reads another endpoint's GetRecords with ReadStreamRecord.
//
// Sequence numbers: Eddy's are "1" followed by the shard log's sequence,
// zero-padded to 20 digits (21 digits, increasing within a shard).
// DynamoDB's are 21 to 40 decimal digits; CompareSequenceNumbers orders
// any two of either kind numerically.
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
// Thread-safety: pure functions.
#ifndef EDDY_RUNTIME_WIRE_STREAM_RECORD_H_
#define EDDY_RUNTIME_WIRE_STREAM_RECORD_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "eddy/store/change_stream.h"
#include "wire/item_json.h"

namespace eddy::runtime::wire {

std::string SequenceString(uint64_t sequence);
// Inverse of SequenceString; false if `text` is not one.
bool ParseSequence(std::string_view text, uint64_t* sequence);
// Whether `text` is a sequence number as the Streams API writes them: 21 to
// 40 decimal digits.
bool IsSequenceNumber(std::string_view text);
// <0, 0, >0 as a is below, equal to or above b, as numbers.
// REQUIRES: IsSequenceNumber(a) && IsSequenceNumber(b), or at least both
// strings of digits without leading zeros.
int CompareSequenceNumbers(std::string_view a, std::string_view b);

// The id of shard `index` of `stream`, by its naming scheme and the
// creation time of the shard's generation.
std::string ShardId(const store::StreamDescription& stream, uint32_t index);
// kOrdered: the shard created at `created_ms` with index `index`.
std::string OrderedShardId(int64_t created_ms, uint32_t index);
// kHashed: shard `index` of the stream labelled `label`, created at
// `created_ms`.
std::string HashedShardId(const std::string& label, int64_t created_ms,
                          uint32_t index);

// One record as GetRecords returns it (eventID, eventName, eventVersion,
// eventSource, awsRegion, dynamodb{...}, userIdentity {PrincipalId, Type}
// for TTL deletes), or, when `event_source_arn` is not empty, as Lambda
// passes it in an event: with eventSourceARN, and userIdentity spelled
// {principalId, type}. record.sequence is not used: `sequence_number` is
// the record's SequenceNumber.
void WriteStreamRecord(const store::ChangeRecord& record,
                       std::string_view sequence_number,
                       store::StreamViewType view, const std::string& region,
                       const std::string& event_source_arn, JsonWriter* out);
// The same with Eddy's numbering: SequenceString(sequence).
void WriteStreamRecord(const store::ChangeRecord& record, uint64_t sequence,
                       store::StreamViewType view, const std::string& region,
                       const std::string& event_source_arn, JsonWriter* out);

// One record of a GetRecords answer (either spelling of userIdentity) ->
// *record (its sequence left 0; ApproximateCreationDateTime, in seconds,
// becomes timestamp_ms) and its SequenceNumber. Validation errors name
// the member that is missing or wrong.
struct StreamRecordText {
  store::ChangeRecord record;
  std::string sequence_number;
  // The record's StreamViewType ("" if absent).
  std::string view_type;
};
DecodeStatus ReadStreamRecord(const rapidjson::Value& json,
                              StreamRecordText* out);

}  // namespace eddy::runtime::wire

#endif  // EDDY_RUNTIME_WIRE_STREAM_RECORD_H_
