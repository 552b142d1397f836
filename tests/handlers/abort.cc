// abort: calls std::abort() on every batch (SIGABRT). Only ever run it in a
// worker process.
#include <cstdlib>

#include "eddy/functions/handler.h"

using namespace eddy::handler;

static invocation_response Handle(const invocation_request&) {
  log_error("abort: calling std::abort()");
  std::abort();
}

EDDY_HANDLER(Handle)
