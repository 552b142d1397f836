// The AWS shapes of Eddy's stream identifiers the Streams API alone uses:
// stream ARNs and shard iterators. Sequence numbers, shard ids and the
// record codec are the wire format's (wire/stream_record.h), shared with the
// trigger dispatcher; they are re-exported here for the API's code. Pure
// functions.
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
#include "wire/stream_record.h"

namespace eddy::runtime::api {

using wire::HashedShardId;
using wire::OrderedShardId;
using wire::ParseSequence;
using wire::SequenceString;
using wire::ShardId;
using wire::WriteStreamRecord;

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

}  // namespace eddy::runtime::api

#endif  // EDDY_RUNTIME_API_STREAM_FORMAT_H_
