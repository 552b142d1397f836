// segfault: dereferences a null pointer on every batch (SIGSEGV). Only ever
// run it in a worker process.
#include <csignal>

#include "eddy/functions/handler.h"

using namespace eddy::handler;

// Dies of SIGSEGV in every build. In a sanitizer build (scripts/test
// --sanitize) UBSan would report the null store and exit, and ASan's SIGSEGV
// handler would report the fault and exit: so the store is not checked and
// the default disposition is restored first.
__attribute__((no_sanitize("undefined"))) static void WriteThroughNull() {
  std::signal(SIGSEGV, SIG_DFL);
  // Both volatile: the compiler must load the pointer and must store.
  volatile int* volatile p = nullptr;
  *p = 42;
}

static invocation_response Handle(const invocation_request&) {
  log_error("segfault: about to write through a null pointer");
  WriteThroughNull();
  return invocation_response::success();
}

EDDY_HANDLER(Handle)
