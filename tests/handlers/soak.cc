// soak: the handler of scripts/soak (tests/integration/soak.py). Handles
// records like `ok` (logging each one it handles as Lambda's record JSON,
// so the soak can tell which records were handled) and fails on marked
// records, so that the soak drives every failure path under SIGKILL:
//   - a batch with a record whose new image has an attribute "crash" aborts
//     the worker (Runtime.ExitError);
//   - else, with one that has "throw", it throws (Unhandled);
//   - else, the first record whose new image has "fail" is reported as a
//     batch item failure, and only the records before it are handled.
// A batch that fails handles none of its records.
#include <cstdlib>
#include <stdexcept>

#include "eddy/functions/handler.h"

using namespace eddy::handler;

static bool Marked(const record& r, const char* marker) {
  const auto image = r.new_image();
  return image && image->contains(marker);
}

static invocation_response Handle(const invocation_request& request) {
  for (const record r : request.records()) {
    if (Marked(r, "crash")) std::abort();
  }
  for (const record r : request.records()) {
    if (Marked(r, "throw")) throw std::runtime_error("soak: a throw record");
  }
  invocation_response response = invocation_response::success();
  for (const record r : request.records()) {
    if (Marked(r, "fail")) {
      response.add_batch_item_failure(r.sequence_number());
      break;
    }
    log_info(r.to_json());
  }
  return response;
}

EDDY_HANDLER(Handle)
