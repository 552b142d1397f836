#include "wire/stream_record.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>

#include "eddy/store/key_codec.h"

namespace eddy::runtime::wire {

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

std::string OrderedShardId(int64_t created_ms, uint32_t index) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "shardId-%020" PRId64 "-%08" PRIx32,
                created_ms, index);
  return buf;
}

std::string HashedShardId(const std::string& label, int64_t created_ms,
                          uint32_t index) {
  char buf[64];
  const uint32_t tag = store::KeyHash(label + "#" + std::to_string(index));
  std::snprintf(buf, sizeof(buf), "shardId-%020" PRId64 "-%08" PRIx32,
                created_ms, tag);
  return buf;
}

std::string ShardId(const store::StreamDescription& d, uint32_t index) {
  // Generation 0 of a stream from before ordered ids keeps its hashed ids;
  // every later generation is named by the ordered scheme, with its own
  // (later) creation time.
  if (d.shard_naming == store::ShardNaming::kHashed && index < d.shard_count) {
    return HashedShardId(d.label, d.created_ms, index);
  }
  return OrderedShardId(d.shard_created_ms(index), index);
}

bool IsSequenceNumber(std::string_view text) {
  if (text.size() < 21 || text.size() > 40) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int CompareSequenceNumbers(std::string_view a, std::string_view b) {
  auto strip = [](std::string_view s) {
    while (s.size() > 1 && s.front() == '0') s.remove_prefix(1);
    return s;
  };
  a = strip(a);
  b = strip(b);
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  const int c = a.compare(b);
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

void WriteStreamRecord(const store::ChangeRecord& record,
                       std::string_view sequence_number,
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
  str(sequence_number);
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

void WriteStreamRecord(const store::ChangeRecord& record, uint64_t sequence,
                       store::StreamViewType view, const std::string& region,
                       const std::string& event_source_arn, JsonWriter* out) {
  WriteStreamRecord(record, SequenceString(sequence), view, region,
                    event_source_arn, out);
}

namespace {

const rapidjson::Value* Member(const rapidjson::Value& object,
                               const char* name) {
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

DecodeStatus StringMember(const rapidjson::Value& object, const char* name,
                          bool required, std::string* out) {
  const rapidjson::Value* v = Member(object, name);
  if (v == nullptr) {
    if (!required) return DecodeStatus();
    return DecodeStatus::Validation(std::string("stream record without ") +
                                    name);
  }
  if (!v->IsString()) return WrongType(*v, "String");
  out->assign(v->GetString(), v->GetStringLength());
  return DecodeStatus();
}

}  // namespace

DecodeStatus ReadStreamRecord(const rapidjson::Value& json,
                              StreamRecordText* out) {
  if (!json.IsObject()) return WrongType(json, "Record");
  store::ChangeRecord& record = out->record;
  std::string event_name;
  DecodeStatus s = StringMember(json, "eventID", true, &record.event_id);
  if (!s.ok()) return s;
  s = StringMember(json, "eventName", true, &event_name);
  if (!s.ok()) return s;
  if (event_name == "INSERT") {
    record.event = store::ChangeEvent::kInsert;
  } else if (event_name == "MODIFY") {
    record.event = store::ChangeEvent::kModify;
  } else if (event_name == "REMOVE") {
    record.event = store::ChangeEvent::kRemove;
  } else {
    return DecodeStatus::Validation("stream record with eventName " +
                                    event_name);
  }
  const rapidjson::Value* dynamodb = Member(json, "dynamodb");
  if (dynamodb == nullptr) {
    return DecodeStatus::Validation("stream record without dynamodb");
  }
  if (!dynamodb->IsObject()) return WrongType(*dynamodb, "StreamRecord");
  s = StringMember(*dynamodb, "SequenceNumber", true, &out->sequence_number);
  if (!s.ok()) return s;
  if (!IsSequenceNumber(out->sequence_number)) {
    return DecodeStatus::Validation("stream record with SequenceNumber " +
                                    out->sequence_number);
  }
  s = StringMember(*dynamodb, "StreamViewType", false, &out->view_type);
  if (!s.ok()) return s;
  if (const rapidjson::Value* t =
          Member(*dynamodb, "ApproximateCreationDateTime")) {
    if (!t->IsNumber()) return WrongType(*t, "Timestamp");
    // Epoch seconds, possibly with a fraction.
    record.timestamp_ms =
        static_cast<int64_t>(std::llround(t->GetDouble() * 1000.0));
  }
  if (const rapidjson::Value* size = Member(*dynamodb, "SizeBytes")) {
    if (!size->IsUint64()) return WrongType(*size, "Long");
    record.size_bytes = size->GetUint64();
  }
  const rapidjson::Value* keys = Member(*dynamodb, "Keys");
  if (keys == nullptr) {
    return DecodeStatus::Validation("stream record without Keys");
  }
  s = ReadItem(*keys, &record.keys);
  if (!s.ok()) return s;
  record.new_image.reset();
  record.old_image.reset();
  if (const rapidjson::Value* image = Member(*dynamodb, "NewImage")) {
    record.new_image.emplace();
    s = ReadItem(*image, &*record.new_image);
    if (!s.ok()) return s;
  }
  if (const rapidjson::Value* image = Member(*dynamodb, "OldImage")) {
    record.old_image.emplace();
    s = ReadItem(*image, &*record.old_image);
    if (!s.ok()) return s;
  }
  record.service_delete = false;
  if (const rapidjson::Value* identity = Member(json, "userIdentity")) {
    if (!identity->IsObject()) return WrongType(*identity, "Identity");
    std::string type, principal;
    // GetRecords spells them Type and PrincipalId; Lambda's events type
    // and principalId.
    for (const char* name : {"Type", "type"}) {
      s = StringMember(*identity, name, false, &type);
      if (!s.ok()) return s;
    }
    for (const char* name : {"PrincipalId", "principalId"}) {
      s = StringMember(*identity, name, false, &principal);
      if (!s.ok()) return s;
    }
    record.service_delete =
        type == "Service" && principal == "dynamodb.amazonaws.com";
  }
  return DecodeStatus();
}

}  // namespace eddy::runtime::wire
