#include "batch_marshaller.h"

#include <string>

#include "eddy/result.h"

namespace eddy::functions {
namespace {

eddy_buffer_t Buffer(const std::string& s) {
  return eddy_buffer_t{s.data(), s.size()};
}

uint32_t Tag(HostValue::Type type) {
  switch (type) {
    case HostValue::Type::kString:
      return EDDY_VALUE_S;
    case HostValue::Type::kNumber:
      return EDDY_VALUE_N;
    case HostValue::Type::kBinary:
      return EDDY_VALUE_B;
    case HostValue::Type::kBool:
      return EDDY_VALUE_BOOL;
    case HostValue::Type::kNull:
      return EDDY_VALUE_NULL;
    case HostValue::Type::kMap:
      return EDDY_VALUE_M;
    case HostValue::Type::kList:
      return EDDY_VALUE_L;
    case HostValue::Type::kStringSet:
      return EDDY_VALUE_SS;
    case HostValue::Type::kNumberSet:
      return EDDY_VALUE_NS;
    case HostValue::Type::kBinarySet:
      return EDDY_VALUE_BS;
  }
  return 0;
}

uint32_t EventName(HostEventName name) {
  switch (name) {
    case HostEventName::kInsert:
      return EDDY_EVENT_INSERT;
    case HostEventName::kModify:
      return EDDY_EVENT_MODIFY;
    case HostEventName::kRemove:
      return EDDY_EVENT_REMOVE;
  }
  return 0;
}

}  // namespace

Status BatchMarshaller::Count(const HostValue& v, int depth, Counts& counts) {
  if (depth > kMaxDepth) {
    return Status::InvalidArgument("attribute values nest deeper than " +
                                   std::to_string(kMaxDepth) + " levels");
  }
  switch (v.type) {
    case HostValue::Type::kMap:
      counts.attributes += v.map.size();
      for (const HostAttribute& a : v.map) {
        EDDY_RETURN_IF_ERROR(Count(a.value, depth + 1, counts));
      }
      break;
    case HostValue::Type::kList:
      counts.values += v.list.size();
      for (const HostValue& e : v.list) {
        EDDY_RETURN_IF_ERROR(Count(e, depth + 1, counts));
      }
      break;
    case HostValue::Type::kStringSet:
    case HostValue::Type::kNumberSet:
    case HostValue::Type::kBinarySet:
      counts.buffers += v.set.size();
      break;
    default:
      break;
  }
  return Status::OK();
}

Status BatchMarshaller::CountImage(const HostValue& v, const char* what,
                                   Counts& counts) {
  if (v.type != HostValue::Type::kMap) {
    return Status::InvalidArgument(std::string("record ") + what +
                                   " is not a map");
  }
  counts.values += 1;  // The root itself.
  return Count(v, 1, counts);
}

eddy_value_t* BatchMarshaller::AddRoot(const HostValue& v) {
  eddy_value_t* root = values_.data() + next_value_++;
  Fill(v, *root);
  return root;
}

void BatchMarshaller::Fill(const HostValue& v, eddy_value_t& out) {
  out = eddy_value_t{};
  out.type = Tag(v.type);
  switch (v.type) {
    case HostValue::Type::kString:
    case HostValue::Type::kNumber:
    case HostValue::Type::kBinary:
      out.u.scalar = Buffer(v.scalar);
      break;
    case HostValue::Type::kBool:
      out.u.boolean = v.boolean ? 1 : 0;
      break;
    case HostValue::Type::kNull:
      break;
    case HostValue::Type::kMap: {
      eddy_attribute_t* entries = attributes_.data() + next_attribute_;
      next_attribute_ += v.map.size();
      for (size_t i = 0; i < v.map.size(); ++i) {
        entries[i].name = Buffer(v.map[i].name);
        Fill(v.map[i].value, entries[i].value);
      }
      out.u.map.entries = entries;
      out.u.map.count = v.map.size();
      break;
    }
    case HostValue::Type::kList: {
      eddy_value_t* items = values_.data() + next_value_;
      next_value_ += v.list.size();
      for (size_t i = 0; i < v.list.size(); ++i) Fill(v.list[i], items[i]);
      out.u.list.items = items;
      out.u.list.count = v.list.size();
      break;
    }
    case HostValue::Type::kStringSet:
    case HostValue::Type::kNumberSet:
    case HostValue::Type::kBinarySet: {
      eddy_buffer_t* items = buffers_.data() + next_buffer_;
      next_buffer_ += v.set.size();
      for (size_t i = 0; i < v.set.size(); ++i) items[i] = Buffer(v.set[i]);
      out.u.set.items = items;
      out.u.set.count = v.set.size();
      break;
    }
  }
}

Status BatchMarshaller::Build(const HostBatch& batch) {
  // Pass 1: validate and size every array, so that pass 2 never reallocates
  // (the C structs point into these vectors).
  Counts counts;
  for (const HostRecord& r : batch.records) {
    EDDY_RETURN_IF_ERROR(CountImage(r.keys, "keys", counts));
    if (r.old_image) {
      EDDY_RETURN_IF_ERROR(CountImage(*r.old_image, "old image", counts));
    }
    if (r.new_image) {
      EDDY_RETURN_IF_ERROR(CountImage(*r.new_image, "new image", counts));
    }
  }
  values_.resize(counts.values);
  attributes_.resize(counts.attributes);
  buffers_.resize(counts.buffers);
  records_.resize(batch.records.size());
  record_pointers_.resize(batch.records.size());
  next_value_ = next_attribute_ = next_buffer_ = 0;

  // Pass 2: fill.
  for (size_t i = 0; i < batch.records.size(); ++i) {
    const HostRecord& in = batch.records[i];
    eddy_record_t& out = records_[i];
    out = eddy_record_t{};
    out.struct_size = sizeof(eddy_record_t);
    out.event_name = EventName(in.event_name);
    out.event_id = Buffer(in.event_id);
    out.sequence_number = Buffer(in.sequence_number);
    out.approximate_creation_time_ms = in.approximate_creation_time_ms;
    out.size_bytes = in.size_bytes;
    out.event_source_arn = Buffer(in.event_source_arn);
    out.table_name = Buffer(in.table_name);
    out.stream_view_type = Buffer(in.stream_view_type);
    out.flags = in.ttl_delete ? EDDY_RECORD_FLAG_TTL_DELETE : 0;
    out.keys = AddRoot(in.keys);
    out.old_image = in.old_image ? AddRoot(*in.old_image) : nullptr;
    out.new_image = in.new_image ? AddRoot(*in.new_image) : nullptr;
    record_pointers_[i] = &out;
  }

  batch_ = eddy_batch_t{};
  batch_.struct_size = sizeof(eddy_batch_t);
  batch_.attempt = batch.attempt;
  batch_.invocation_id = Buffer(batch.invocation_id);
  batch_.trigger_name = Buffer(batch.trigger_name);
  batch_.event_source_arn = Buffer(batch.event_source_arn);
  batch_.shard_id = Buffer(batch.shard_id);
  batch_.deadline_ms = batch.deadline_ms;
  batch_.records = record_pointers_.data();
  batch_.record_count = record_pointers_.size();
  if (batch.window) {
    const HostWindow& w = *batch.window;
    batch_.window_flags =
        EDDY_WINDOW_ACTIVE | (w.is_final ? EDDY_WINDOW_FINAL : 0u) |
        (w.terminated_early ? EDDY_WINDOW_TERMINATED_EARLY : 0u);
    batch_.window_start_ms = w.start_ms;
    batch_.window_end_ms = w.end_ms;
    batch_.window_state = Buffer(w.state);
  }
  return Status::OK();
}

}  // namespace eddy::functions
