// ok: handles every batch successfully. Logs each record as Lambda's record
// JSON (so tests can see exactly what crossed the ABI), then one line
// "batch <shard id> <event id>,<event id>..." (so tests can tell which
// shard each record came from), and, in a tumbling window, keeps a running
// count of records as the state.
#include <string>

#include "eddy/functions/handler.h"

using namespace eddy::handler;

static invocation_response Handle(const invocation_request& request) {
  std::string batch = "batch " + std::string(request.shard_id()) + " ";
  for (const record r : request.records()) {
    log_info(r.to_json());
    batch += std::string(r.event_id()) + ",";
  }
  log_info(batch);
  invocation_response response = invocation_response::success();
  if (auto window = request.window()) {
    const std::string_view state = window->state();
    const long long seen = state.empty() ? 0 : std::stoll(std::string(state));
    response.with_state(std::to_string(
        seen + static_cast<long long>(request.records().size())));
  }
  return response;
}

EDDY_HANDLER(Handle)
