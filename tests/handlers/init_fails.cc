// init_fails: its init function throws, so loading must fail with the
// handler's message; no batch is ever run.
#include <stdexcept>

#include "eddy/functions/handler.h"

using namespace eddy::handler;

static void Init() {
  throw std::runtime_error("init_fails: cannot open /nonexistent/config");
}

static invocation_response Handle(const invocation_request&) {
  return invocation_response::success();
}

EDDY_HANDLER_WITH_INIT(Init, Handle)
