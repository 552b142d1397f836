// noop: the handler of bench/triggers.py's throughput run. It does no work
// and succeeds, so the run measures what it costs Eddy to get records to a
// handler: reading the shard log, batching, the worker round trip and the
// checkpoint.
#include "eddy/functions/handler.h"

using namespace eddy::handler;

static invocation_response Handle(const invocation_request&) {
  return invocation_response::success();
}

EDDY_HANDLER(Handle)
