// infinite_loop: never returns from a batch (a hang, not a crash); the
// worker's timeout must kill it. Only ever run it in a worker process.
#include "eddy/functions/handler.h"

using namespace eddy::handler;

static invocation_response Handle(const invocation_request&) {
  log_warn("infinite_loop: spinning forever");
  volatile unsigned long spins = 0;
  for (;;) spins = spins + 1;  // volatile: a loop with a side effect.
}

EDDY_HANDLER(Handle)
