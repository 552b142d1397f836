// A realistic DynamoDB Streams event, as Lambda delivers it, to start a
// handler's tests from: `eddy trigger generate-event` prints one and
// `eddy handler new` writes one into the project it makes. The event is
// written by the SDK's test helpers (eddy/functions/testing.h), so what is
// generated is exactly what they and `eddy trigger invoke` read back.
#ifndef EDDY_RUNTIME_CLI_SAMPLE_EVENT_H_
#define EDDY_RUNTIME_CLI_SAMPLE_EVENT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "eddy/result.h"

namespace eddy::runtime::cli {

struct SampleEventOptions {
  std::string event_name = "insert";  // insert, modify or remove
  std::string table = "Table";
  // Key attributes, each "NAME=VALUE" (a string), "NAME:N=VALUE",
  // "NAME:S=VALUE", "NAME:B=BASE64", or a whole key in DynamoDB JSON
  // ({"id":{"S":"o1"}}). Empty: {"id":{"S":"item-1"}}.
  std::vector<std::string> keys;
  // Attributes in DynamoDB JSON that replace the generated ones of the new
  // or old image (the key attributes are always there).
  std::string new_image;
  std::string old_image;
  // KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES: which images the
  // record carries, as the stream's view type decides.
  std::string view_type = "NEW_AND_OLD_IMAGES";
  std::string region = "us-east-1";
  int64_t now_ms = 0;  // 0: the current time.
};

// Lambda's event JSON with one record; InvalidArgument says which option
// is wrong.
Result<std::string> SampleEvent(const SampleEventOptions& options);

}  // namespace eddy::runtime::cli

#endif  // EDDY_RUNTIME_CLI_SAMPLE_EVENT_H_
