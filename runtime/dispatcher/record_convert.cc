#include "dispatcher/record_convert.h"

#include <google/protobuf/arena.h>

#include "eddy/varint.h"

namespace eddy::runtime::dispatcher {

void ToAttributeValueProto(const store::AttributeValue& value,
                           proto::AttributeValueProto* out) {
  using store::ValueType;
  auto set = [&value](proto::SetValueProto* s) {
    for (const std::string& member : value.set()) s->add_items(member);
  };
  switch (value.type()) {
    case ValueType::kS:
      out->set_s(value.scalar());
      break;
    case ValueType::kN:
      out->set_n(value.scalar());
      break;
    case ValueType::kB:
      out->set_b(value.scalar());
      break;
    case ValueType::kBOOL:
      out->set_bool_value(value.boolean());
      break;
    case ValueType::kNULL:
      out->set_null_value(true);
      break;
    case ValueType::kM:
      ToMapValueProto(value.map(), out->mutable_m());
      break;
    case ValueType::kL: {
      proto::ListValueProto* list = out->mutable_l();
      for (const store::AttributeValue& item : value.list()) {
        ToAttributeValueProto(item, list->add_items());
      }
      break;
    }
    case ValueType::kSS:
      set(out->mutable_ss());
      break;
    case ValueType::kNS:
      set(out->mutable_ns());
      break;
    case ValueType::kBS:
      set(out->mutable_bs());
      break;
  }
}

void ToMapValueProto(const store::Item& item, proto::MapValueProto* out) {
  for (const auto& [name, value] : item) {
    proto::AttributeProto* entry = out->add_entries();
    entry->set_name(name);
    ToAttributeValueProto(value, entry->mutable_value());
  }
}

void ToStreamRecordProto(const store::ChangeRecord& record,
                         std::string_view sequence_number,
                         proto::StreamRecordProto* out) {
  switch (record.event) {
    case store::ChangeEvent::kInsert:
      out->set_event_name(proto::StreamRecordProto::INSERT);
      break;
    case store::ChangeEvent::kModify:
      out->set_event_name(proto::StreamRecordProto::MODIFY);
      break;
    case store::ChangeEvent::kRemove:
      out->set_event_name(proto::StreamRecordProto::REMOVE);
      break;
  }
  out->set_event_id(record.event_id);
  out->set_sequence_number(std::string(sequence_number));
  out->set_approximate_creation_time_ms(record.timestamp_ms);
  out->set_size_bytes(record.size_bytes);
  out->set_ttl_delete(record.service_delete);
  ToMapValueProto(record.keys, out->mutable_keys());
  if (record.old_image) {
    ToMapValueProto(*record.old_image, out->mutable_old_image());
  }
  if (record.new_image) {
    ToMapValueProto(*record.new_image, out->mutable_new_image());
  }
}

namespace {

// The key of a length-delimited field (wire type 2).
uint64_t LengthDelimitedTag(int field_number) {
  return (static_cast<uint64_t>(field_number) << 3) | 2;
}

}  // namespace

std::string EncodeStreamRecord(const store::ChangeRecord& record,
                               std::string_view sequence_number) {
  // The record's many small sub-messages come from one arena block instead
  // of a malloc each.
  google::protobuf::Arena arena;
  auto* wire =
      google::protobuf::Arena::CreateMessage<proto::StreamRecordProto>(&arena);
  ToStreamRecordProto(record, sequence_number, wire);
  return wire->SerializeAsString();
}

std::string EncodeInvokeMessage(const proto::InvokeBatch& batch,
                                const std::vector<std::string_view>& records) {
  const uint64_t record_tag =
      LengthDelimitedTag(proto::InvokeBatch::kRecordsFieldNumber);
  size_t batch_size = batch.ByteSizeLong();
  for (std::string_view record : records) {
    batch_size +=
        VarintSize(record_tag) + VarintSize(record.size()) + record.size();
  }
  const uint64_t invoke_tag =
      LengthDelimitedTag(proto::DispatcherMessage::kInvokeFieldNumber);
  std::string out;
  out.reserve(VarintSize(invoke_tag) + VarintSize(batch_size) + batch_size);
  AppendVarint(invoke_tag, &out);
  AppendVarint(batch_size, &out);
  batch.AppendToString(&out);
  for (std::string_view record : records) {
    AppendVarint(record_tag, &out);
    AppendVarint(record.size(), &out);
    out.append(record);
  }
  return out;
}

}  // namespace eddy::runtime::dispatcher
