// Store change records -> the worker's wire records (worker.proto), and
// the invoke messages that carry them.
#ifndef EDDY_RUNTIME_DISPATCHER_RECORD_CONVERT_H_
#define EDDY_RUNTIME_DISPATCHER_RECORD_CONVERT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "eddy/store/change_stream.h"
#include "eddy/worker.pb.h"

namespace eddy::runtime::dispatcher {

void ToAttributeValueProto(const store::AttributeValue& value,
                           proto::AttributeValueProto* out);
void ToMapValueProto(const store::Item& item, proto::MapValueProto* out);
// `sequence_number` is the record's as the Streams API shows it.
void ToStreamRecordProto(const store::ChangeRecord& record,
                         std::string_view sequence_number,
                         proto::StreamRecordProto* out);
// The record serialised (a StreamRecordProto), as a batch carries it.
std::string EncodeStreamRecord(const store::ChangeRecord& record,
                               std::string_view sequence_number);

// The serialised DispatcherMessage that invokes `batch` with `records`
// (serialised StreamRecordProtos) appended to its own: it parses as the
// message whose `invoke` is a copy of the batch with the records added, but
// no record is parsed or copied into a message. A record is encoded once
// when read and sent as is by every attempt, retry or bisected half.
std::string EncodeInvokeMessage(const proto::InvokeBatch& batch,
                                const std::vector<std::string_view>& records);

}  // namespace eddy::runtime::dispatcher

#endif  // EDDY_RUNTIME_DISPATCHER_RECORD_CONVERT_H_
