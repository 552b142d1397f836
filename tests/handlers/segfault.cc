// segfault: dereferences a null pointer on every batch (SIGSEGV). Only ever
// run it in a worker process.
#include "eddy/functions/handler.h"

using namespace eddy::handler;

static invocation_response Handle(const invocation_request&) {
  log_error("segfault: about to write through a null pointer");
  // Both volatile: the compiler must load the pointer and must store.
  volatile int* volatile p = nullptr;
  *p = 42;
  return invocation_response::success();
}

EDDY_HANDLER(Handle)
