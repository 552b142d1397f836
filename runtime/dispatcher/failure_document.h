// The on-failure destination of a trigger: when retries or the record age
// are exhausted, the batch is written to a JSON-lines file as Lambda's
// failure document for DynamoDB streams (reference/streams-triggers.md
// §2.3), one document per line:
//
//   {"requestContext":{"requestId","functionArn","condition",
//                      "approximateInvokeCount"},
//    "responseContext":{"statusCode","executedVersion","functionError",
//                       "errorMessage"},
//    "version":"1.0","timestamp":"2026-11-26T10:00:00.123Z",
//    "DDBStreamBatchInfo":{"shardId","startSequenceNumber",
//                          "endSequenceNumber",
//                          "approximateArrivalOfFirstRecord",
//                          "approximateArrivalOfLastRecord","batchSize",
//                          "streamArn"},
//    "records":[<the records, as GetRecords shows them, with
//                eventSourceARN>]}
//
// Lambda sends only the metadata; Eddy appends the records themselves, so a
// dead-lettered record is never lost (DESIGN.md invariant 4).
// "responseContext.errorMessage" is an Eddy addition.
#ifndef EDDY_RUNTIME_DISPATCHER_FAILURE_DOCUMENT_H_
#define EDDY_RUNTIME_DISPATCHER_FAILURE_DOCUMENT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "eddy/result.h"
#include "eddy/status.h"
#include "wire/item_json.h"

namespace eddy::runtime::dispatcher {

struct FailureInfo {
  std::string request_id;
  std::string function_arn;
  std::string condition;  // "RetryAttemptsExhausted", "RecordAgeExceeded".
  int64_t approximate_invoke_count = 0;
  std::string function_error;  // The last failure's error type, if any.
  std::string error_message;
  int64_t timestamp_ms = 0;
  std::string shard_id;
  std::string stream_arn;
  std::string start_sequence;
  std::string end_sequence;
  int64_t first_arrival_ms = 0;
  int64_t last_arrival_ms = 0;
  uint64_t batch_size = 0;
};

// "2026-11-26T10:00:00.123Z" (with_millis) or "2026-11-26T10:00:00Z".
std::string Iso8601(int64_t epoch_ms, bool with_millis);

// One line of JSON (no newline). `write_records` writes the elements of the
// "records" array.
std::string FailureDocument(
    const FailureInfo& info,
    const std::function<void(wire::JsonWriter*)>& write_records);

// Appends `line` and a newline to the file at `path` (created if missing,
// mode 0600) and fdatasyncs it before returning. A symbolic link at `path`
// is refused (O_NOFOLLOW): the server never writes through one.
Status AppendLineDurably(const std::string& path, std::string_view line);

// Where a server's trigger may write its on-failure file: `path` (the part
// after "file:") resolved inside the directory `dir` (absolute, without
// symbolic links: a realpath). A relative path names a file in `dir`; an
// absolute one must lie in it once its directory's symbolic links are
// resolved. ".." components, a path whose directory does not exist, and an
// existing file that is not a regular file (a symbolic link, a device) are
// refused. Returns the file's absolute path, or InvalidArgument saying why.
// This is what keeps CreateTrigger from writing anywhere on the server's
// disk; `eddy runner`, run by the operator on their own files, does not
// use it.
Result<std::string> ConfineFailureFile(const std::string& dir,
                                       const std::string& path);

}  // namespace eddy::runtime::dispatcher

#endif  // EDDY_RUNTIME_DISPATCHER_FAILURE_DOCUMENT_H_
