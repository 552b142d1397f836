// partial_batch_failure: ReportBatchItemFailures. A record fails if one of
// its key attributes is a string starting with "fail", or if its new image
// has an attribute named "fail"; every other record succeeds.
#include "eddy/functions/handler.h"

using namespace eddy::handler;

static bool ShouldFail(const record& r) {
  for (const attribute key : r.keys().as_map()) {
    if (key.value.is_string() && key.value.as_string().substr(0, 4) == "fail") {
      return true;
    }
  }
  const auto image = r.new_image();
  return image && image->contains("fail");
}

static invocation_response Handle(const invocation_request& request) {
  invocation_response response = invocation_response::success();
  for (const record r : request.records()) {
    if (ShouldFail(r)) response.add_batch_item_failure(r.sequence_number());
  }
  return response;
}

EDDY_HANDLER(Handle)
