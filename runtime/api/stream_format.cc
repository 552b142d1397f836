#include "api/stream_format.h"

#include <cinttypes>
#include <cstdio>

#include "eddy/store/key_codec.h"

namespace eddy::runtime::api {

std::string SequenceString(uint64_t sequence) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "1%020" PRIu64, sequence);
  return buf;
}

bool ParseSequence(std::string_view text, uint64_t* sequence) {
  if (text.size() != 21 || text[0] != '1') return false;
  uint64_t v = 0;
  for (char c : text.substr(1)) {
    if (c < '0' || c > '9') return false;
    if (v > (UINT64_MAX - 9) / 10) return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *sequence = v;
  return true;
}

std::string ShardId(const store::StreamDescription& d, uint32_t index) {
  char buf[64];
  const uint32_t tag = store::KeyHash(d.label + "#" + std::to_string(index));
  std::snprintf(buf, sizeof(buf), "shardId-%020" PRId64 "-%08x", d.created_ms,
                tag);
  return buf;
}

void WriteStreamRecord(const store::ChangeRecord& record, uint64_t sequence,
                       store::StreamViewType view, const std::string& region,
                       const std::string& event_source_arn, JsonWriter* out) {
  auto str = [out](std::string_view s) {
    out->String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  };
  out->StartObject();
  out->Key("eventID");
  str(record.event_id);
  out->Key("eventName");
  str(store::ChangeEventName(record.event));
  out->Key("eventVersion");
  out->String("1.1");
  out->Key("eventSource");
  out->String("aws:dynamodb");
  out->Key("awsRegion");
  str(region);
  out->Key("dynamodb");
  out->StartObject();
  out->Key("ApproximateCreationDateTime");
  out->Int64(record.timestamp_ms / 1000);
  WriteItemMember("Keys", record.keys, out);
  if (record.new_image) WriteItemMember("NewImage", *record.new_image, out);
  if (record.old_image) WriteItemMember("OldImage", *record.old_image, out);
  out->Key("SequenceNumber");
  str(SequenceString(sequence));
  out->Key("SizeBytes");
  out->Uint64(record.size_bytes);
  out->Key("StreamViewType");
  str(store::StreamViewTypeName(view));
  out->EndObject();
  if (record.service_delete) {
    // GetRecords' Identity shape has PrincipalId and Type; Lambda's event
    // records spell them principalId and type.
    const bool lambda = !event_source_arn.empty();
    out->Key("userIdentity");
    out->StartObject();
    out->Key(lambda ? "type" : "Type");
    out->String("Service");
    out->Key(lambda ? "principalId" : "PrincipalId");
    out->String("dynamodb.amazonaws.com");
    out->EndObject();
  }
  if (!event_source_arn.empty()) {
    out->Key("eventSourceARN");
    str(event_source_arn);
  }
  out->EndObject();
}

}  // namespace eddy::runtime::api
