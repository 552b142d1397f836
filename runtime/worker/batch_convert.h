// Wire <-> host conversion for the worker: an InvokeBatch (worker.proto)
// becomes the functions host's neutral HostBatch, and a HandlerResult becomes
// an InvokeResult. Pure functions; no I/O.
#ifndef EDDY_RUNTIME_WORKER_BATCH_CONVERT_H_
#define EDDY_RUNTIME_WORKER_BATCH_CONVERT_H_

#include "eddy/functions/handler_library.h"
#include "eddy/functions/host_batch.h"
#include "eddy/result.h"
#include "eddy/worker.pb.h"

namespace eddy::runtime::worker {

// Fails with InvalidArgument on a value without a type or nesting deeper
// than the host accepts.
Result<functions::HostBatch> ToHostBatch(const proto::InvokeBatch& batch);

void ToInvokeResult(const functions::HandlerResult& result,
                    proto::InvokeResult* out);

}  // namespace eddy::runtime::worker

#endif  // EDDY_RUNTIME_WORKER_BATCH_CONVERT_H_
