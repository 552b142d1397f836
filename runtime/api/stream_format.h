// The AWS shapes of Eddy's stream identifiers and records, shared by the
// Streams API and the trigger dispatcher (which names shards and records in
// failure documents exactly as GetRecords does):
//   shard id  shardId-<20-digit stream creation ms>-<8 hex digits>
//   sequence  "1" followed by the shard log's sequence, zero-padded to 20
//             digits (21 digits, increasing within a shard)
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
std::string ShardId(const store::StreamDescription& stream, uint32_t index);

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
