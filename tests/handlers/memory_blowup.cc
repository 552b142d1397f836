// memory_blowup: allocates and touches memory in 64 MiB steps until the
// allocation fails or the process is killed. Under an address-space limit
// (RLIMIT_AS) that ends as std::bad_alloc, which EDDY_HANDLER reports as a
// failure; under a cgroup limit it ends in the OOM killer. Only ever run it
// in a worker process with a memory limit.
#include <cstring>
#include <memory>
#include <vector>

#include "eddy/functions/handler.h"

using namespace eddy::handler;

static invocation_response Handle(const invocation_request&) {
  log_warn("memory_blowup: allocating until stopped");
  constexpr std::size_t kStep = std::size_t{64} << 20;
  std::vector<std::unique_ptr<char[]>> hoard;
  for (;;) {
    hoard.emplace_back(new char[kStep]);
    std::memset(hoard.back().get(), 0x5a, kStep);  // Make the pages real.
  }
}

EDDY_HANDLER(Handle)
