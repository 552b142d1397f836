#include "dispatcher/stream_source.h"

#include "wire/stream_record.h"

namespace eddy::runtime::dispatcher {
namespace {

constexpr std::string_view kAt = "AT_SEQUENCE_NUMBER:";
constexpr std::string_view kAfter = "AFTER_SEQUENCE_NUMBER:";

}  // namespace

std::string ShardPosition::ToString() const {
  switch (kind) {
    case Kind::kTrimHorizon:
      return "TRIM_HORIZON";
    case Kind::kLatest:
      return "LATEST";
    case Kind::kShardEnd:
      return "SHARD_END";
    case Kind::kAtSequence:
      return std::string(kAt) + sequence;
    case Kind::kAfterSequence:
      return std::string(kAfter) + sequence;
  }
  return "TRIM_HORIZON";
}

bool ShardPosition::Parse(std::string_view text, ShardPosition* out) {
  if (text == "TRIM_HORIZON") {
    *out = TrimHorizon();
  } else if (text == "LATEST") {
    *out = Latest();
  } else if (text == "SHARD_END") {
    *out = ShardEnd();
  } else if (text.starts_with(kAt) &&
             wire::IsSequenceNumber(text.substr(kAt.size()))) {
    *out = At(std::string(text.substr(kAt.size())));
  } else if (text.starts_with(kAfter) &&
             wire::IsSequenceNumber(text.substr(kAfter.size()))) {
    *out = After(std::string(text.substr(kAfter.size())));
  } else {
    return false;
  }
  return true;
}

}  // namespace eddy::runtime::dispatcher
