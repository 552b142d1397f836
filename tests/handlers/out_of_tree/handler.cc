// A one-file handler, as a user would write it.
#include <eddy/functions/handler.h>

#include <string>

using namespace eddy::handler;

static invocation_response Audit(const invocation_request& request) {
  for (const record& r : request.records()) {
    std::string line(r.event_name());
    line += " ";
    line += r.keys()["id"].as_string();
    if (auto image = r.new_image()) {
      line += " n=" + std::to_string((*image)["n"].as_int64());
    }
    log_info(line);
  }
  return invocation_response::success();
}

EDDY_HANDLER(Audit)
