// Fuzz target: the worker's decoding of a message from the dispatcher
// (runtime/worker): DispatcherMessage from the wire, InvokeBatch to the
// host's batch (ToHostBatch), and on through the C ABI to a handler built
// with the C++ SDK (linked in, as HandlerLibrary::FromEntry loads it) that
// reads every record, value and JSON rendering; then the result back to
// the wire.
//
// Properties: a batch ToHostBatch accepts is one the host accepts; the
// SDK's JSON renderings (payload(), to_json()) are well-formed JSON; the
// result serialises and parses again.
#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "eddy/functions/handler.h"
#include "eddy/functions/handler_library.h"
#include "fuzz_util.h"
#include "google/protobuf/stubs/logging.h"
#include "worker/batch_convert.h"

namespace {

namespace h = ::eddy::handler;

void CheckJson(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  EDDY_FUZZ_CHECK(!doc.HasParseError());
}

// Touches every part of a value as a handler might.
void Walk(const h::attribute_value& value, int depth) {
  EDDY_FUZZ_CHECK(depth <= 64);
  switch (value.type()) {
    case h::value_type::number:
      try {
        (void)value.as_int64();
      } catch (const std::exception&) {
        // Not an integer, or out of range: the SDK's documented refusal.
      }
      try {
        (void)value.as_double();
      } catch (const std::exception&) {
      }
      break;
    case h::value_type::map:
      for (const h::attribute& attribute : value.as_map()) {
        EDDY_FUZZ_CHECK(value.find(attribute.name).has_value());
        Walk(attribute.value, depth + 1);
      }
      break;
    case h::value_type::list:
      for (const h::attribute_value& item : value.as_list()) {
        Walk(item, depth + 1);
      }
      break;
    default:
      if (value.is_set()) {
        EDDY_FUZZ_CHECK(value.size() == value.as_set().size());
      }
      break;
  }
}

h::invocation_response Handle(const h::invocation_request& request) {
  CheckJson(request.payload());
  std::vector<std::string> failed;
  for (const h::record& record : request.records()) {
    CheckJson(record.to_json());
    Walk(record.keys(), 1);
    if (auto image = record.old_image()) Walk(*image, 1);
    if (auto image = record.new_image()) Walk(*image, 1);
    if (record.size_bytes() % 2 == 1) {
      failed.emplace_back(record.sequence_number());
    }
  }
  h::invocation_response response =
      h::invocation_response::batch_item_failures(std::move(failed));
  if (auto window = request.window()) {
    response.with_state(std::string(window->state()));
  }
  return response;
}

}  // namespace

EDDY_HANDLER(Handle)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace eddy;
  static functions::HandlerLibrary* library = [] {
    // Protobuf logs every string field with invalid UTF-8 it refuses: noise
    // here, where most inputs are refused.
    google::protobuf::SetLogHandler(nullptr);
    functions::HandlerLibrary::Options options;
    options.log = [](functions::HandlerLogLevel, std::string_view) {};
    auto loaded = functions::HandlerLibrary::FromEntry(&eddy_handler_init,
                                                       "fuzz", options);
    EDDY_FUZZ_CHECK(loaded.ok());
    return loaded->release();
  }();

  proto::DispatcherMessage message;
  if (!message.ParseFromArray(data, static_cast<int>(size))) return 0;
  if (!message.has_invoke()) return 0;
  Result<functions::HostBatch> batch =
      runtime::worker::ToHostBatch(message.invoke());
  if (!batch.ok()) {
    EDDY_FUZZ_CHECK(batch.status().IsInvalidArgument());
    return 0;
  }
  Result<functions::HandlerResult> result = library->Invoke(*batch);
  EDDY_FUZZ_CHECK(result.ok());
  // The handler above never fails the whole batch.
  EDDY_FUZZ_CHECK(result->outcome !=
                  functions::HandlerResult::Outcome::kFailure);

  proto::WorkerMessage reply;
  runtime::worker::ToInvokeResult(*result, reply.mutable_result());
  std::string bytes;
  EDDY_FUZZ_CHECK(reply.SerializeToString(&bytes));
  proto::WorkerMessage parsed;
  EDDY_FUZZ_CHECK(parsed.ParseFromString(bytes));
  return 0;
}
