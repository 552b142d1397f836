// returns_failure: fails every batch as data (Lambda's function error), with
// a message naming the batch size.
#include <string>

#include "eddy/functions/handler.h"

using namespace eddy::handler;

static invocation_response Handle(const invocation_request& request) {
  return invocation_response::failure(
      "returns_failure: refusing " + std::to_string(request.records().size()) +
          " records",
      "TestFailure");
}

EDDY_HANDLER(Handle)
