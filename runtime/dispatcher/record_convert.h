// Store change records -> the worker's wire records (worker.proto).
#ifndef EDDY_RUNTIME_DISPATCHER_RECORD_CONVERT_H_
#define EDDY_RUNTIME_DISPATCHER_RECORD_CONVERT_H_

#include <cstdint>

#include "eddy/store/change_stream.h"
#include "eddy/worker.pb.h"

namespace eddy::runtime::dispatcher {

void ToAttributeValueProto(const store::AttributeValue& value,
                           proto::AttributeValueProto* out);
void ToMapValueProto(const store::Item& item, proto::MapValueProto* out);
// `sequence` is the shard log's number; the record carries it as the
// Streams API shows it (api::SequenceString).
void ToStreamRecordProto(const store::ChangeRecord& record, uint64_t sequence,
                         proto::StreamRecordProto* out);

}  // namespace eddy::runtime::dispatcher

#endif  // EDDY_RUNTIME_DISPATCHER_RECORD_CONVERT_H_
