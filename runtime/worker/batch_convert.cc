#include "worker/batch_convert.h"

#include <string>
#include <utility>
#include <vector>

namespace eddy::runtime::worker {
namespace {

using functions::HostAttribute;
using functions::HostValue;

// The host refuses deeper values; stop early rather than recurse without
// bound on a malformed message.
constexpr int kMaxDepth = 64;

Status ToHostValue(const proto::AttributeValueProto& in, int depth,
                   HostValue* out);

Status ToHostMap(const proto::MapValueProto& in, int depth, HostValue* out) {
  if (depth > kMaxDepth)
    return Status::InvalidArgument("value nested too deep");
  std::vector<HostAttribute> entries;
  entries.reserve(static_cast<size_t>(in.entries_size()));
  for (const proto::AttributeProto& entry : in.entries()) {
    HostAttribute attribute;
    attribute.name = entry.name();
    EDDY_RETURN_IF_ERROR(
        ToHostValue(entry.value(), depth + 1, &attribute.value));
    entries.push_back(std::move(attribute));
  }
  *out = HostValue::Map(std::move(entries));
  return Status::OK();
}

std::vector<std::string> SetItems(const proto::SetValueProto& in) {
  return std::vector<std::string>(in.items().begin(), in.items().end());
}

Status ToHostValue(const proto::AttributeValueProto& in, int depth,
                   HostValue* out) {
  if (depth > kMaxDepth)
    return Status::InvalidArgument("value nested too deep");
  using K = proto::AttributeValueProto;
  switch (in.kind_case()) {
    case K::kS:
      *out = HostValue::String(in.s());
      break;
    case K::kN:
      *out = HostValue::Number(in.n());
      break;
    case K::kB:
      *out = HostValue::Binary(in.b());
      break;
    case K::kBoolValue:
      *out = HostValue::Bool(in.bool_value());
      break;
    case K::kNullValue:
      *out = HostValue::Null();
      break;
    case K::kM:
      return ToHostMap(in.m(), depth, out);
    case K::kL: {
      std::vector<HostValue> items;
      items.reserve(static_cast<size_t>(in.l().items_size()));
      for (const proto::AttributeValueProto& item : in.l().items()) {
        HostValue value;
        EDDY_RETURN_IF_ERROR(ToHostValue(item, depth + 1, &value));
        items.push_back(std::move(value));
      }
      *out = HostValue::List(std::move(items));
      break;
    }
    case K::kSs:
      *out = HostValue::StringSet(SetItems(in.ss()));
      break;
    case K::kNs:
      *out = HostValue::NumberSet(SetItems(in.ns()));
      break;
    case K::kBs:
      *out = HostValue::BinarySet(SetItems(in.bs()));
      break;
    case K::KIND_NOT_SET:
      return Status::InvalidArgument("attribute value without a type");
  }
  return Status::OK();
}

}  // namespace

Result<functions::HostBatch> ToHostBatch(const proto::InvokeBatch& batch) {
  functions::HostBatch out;
  out.invocation_id = std::to_string(batch.invocation_id());
  out.trigger_name = batch.trigger_name();
  out.event_source_arn = batch.event_source_arn();
  out.shard_id = batch.shard_id();
  out.attempt = batch.attempt();
  out.deadline_ms = batch.deadline_ms();
  out.records.reserve(static_cast<size_t>(batch.records_size()));
  for (const proto::StreamRecordProto& in : batch.records()) {
    functions::HostRecord record;
    switch (in.event_name()) {
      case proto::StreamRecordProto::INSERT:
        record.event_name = functions::HostEventName::kInsert;
        break;
      case proto::StreamRecordProto::MODIFY:
        record.event_name = functions::HostEventName::kModify;
        break;
      case proto::StreamRecordProto::REMOVE:
        record.event_name = functions::HostEventName::kRemove;
        break;
      default:
        return Status::InvalidArgument("record without an event name");
    }
    record.event_id = in.event_id();
    record.sequence_number = in.sequence_number();
    record.approximate_creation_time_ms = in.approximate_creation_time_ms();
    record.size_bytes = in.size_bytes();
    record.event_source_arn = batch.event_source_arn();
    record.table_name = batch.table_name();
    record.stream_view_type = batch.stream_view_type();
    record.ttl_delete = in.ttl_delete();
    EDDY_RETURN_IF_ERROR(ToHostMap(in.keys(), 1, &record.keys));
    if (in.has_old_image()) {
      HostValue image;
      EDDY_RETURN_IF_ERROR(ToHostMap(in.old_image(), 1, &image));
      record.old_image = std::move(image);
    }
    if (in.has_new_image()) {
      HostValue image;
      EDDY_RETURN_IF_ERROR(ToHostMap(in.new_image(), 1, &image));
      record.new_image = std::move(image);
    }
    out.records.push_back(std::move(record));
  }
  if (batch.has_window()) {
    functions::HostWindow window;
    window.start_ms = batch.window().start_ms();
    window.end_ms = batch.window().end_ms();
    window.state = batch.window().state();
    window.is_final = batch.window().is_final();
    window.terminated_early = batch.window().terminated_early();
    out.window = std::move(window);
  }
  return out;
}

void ToInvokeResult(const functions::HandlerResult& result,
                    proto::InvokeResult* out) {
  using Outcome = functions::HandlerResult::Outcome;
  switch (result.outcome) {
    case Outcome::kSuccess:
      out->set_outcome(proto::InvokeResult::SUCCESS);
      break;
    case Outcome::kFailure:
      out->set_outcome(proto::InvokeResult::FAILURE);
      out->set_error_type(result.error_type);
      out->set_error_message(result.error_message);
      break;
    case Outcome::kBatchItemFailures:
      out->set_outcome(proto::InvokeResult::BATCH_ITEM_FAILURES);
      for (const std::string& id : result.failed_sequence_numbers) {
        out->add_batch_item_failures(id);
      }
      break;
  }
  if (result.window_state) {
    out->set_window_state(*result.window_state);
  }
}

}  // namespace eddy::runtime::worker
