// throws: every batch throws a std::runtime_error; EDDY_HANDLER must turn it
// into a failure result carrying what().
#include <stdexcept>

#include "eddy/functions/handler.h"

using namespace eddy::handler;

static invocation_response Handle(const invocation_request&) {
  throw std::runtime_error("throws: deliberate exception");
}

EDDY_HANDLER(Handle)
