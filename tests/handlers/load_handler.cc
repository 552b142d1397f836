// eddy_load_handler: loads one handler library with the functions host and
// runs it on a sample batch (an INSERT and a MODIFY carrying every attribute
// type), printing the outcome and the handler's log lines.
//
//   eddy_load_handler <handler.so> [--expect
//   success|failure|batch-item-failures]
//
// Exit status: 0 if the library loaded and the outcome is the expected one
// (success by default), 1 otherwise, 2 on bad usage. Used by the SDK install
// test and handy for trying a handler by hand.
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>

#include "eddy/functions/handler_library.h"

namespace {

using eddy::functions::HandlerLibrary;
using eddy::functions::HandlerLogLevel;
using eddy::functions::HandlerResult;
using eddy::functions::HostAttribute;
using eddy::functions::HostBatch;
using eddy::functions::HostEventName;
using eddy::functions::HostRecord;
using eddy::functions::HostValue;

constexpr char kStreamArn[] =
    "arn:aws:dynamodb:ddblocal:000000000000:table/Music/stream/"
    "2024-01-01T00:00:00.000";

HostRecord Record(HostEventName event, std::string id, std::string seq) {
  HostRecord r;
  r.event_name = event;
  r.event_id = "event-" + seq;
  r.sequence_number = std::move(seq);
  r.approximate_creation_time_ms = 1704067200000;
  r.size_bytes = 64;
  r.event_source_arn = kStreamArn;
  r.table_name = "Music";
  r.stream_view_type = "NEW_AND_OLD_IMAGES";
  r.keys = HostValue::Map({{"id", HostValue::String(id)}});
  r.new_image = HostValue::Map({
      {"id", HostValue::String(id)},
      {"n", HostValue::Number("42")},
      {"b", HostValue::Binary(std::string("\0\xff", 2))},
      {"ok", HostValue::Bool(true)},
      {"nothing", HostValue::Null()},
      {"m", HostValue::Map({{"x", HostValue::Number("-1.5")}})},
      {"l", HostValue::List({HostValue::String("a"), HostValue::Number("1")})},
      {"ss", HostValue::StringSet({"a", "b"})},
      {"ns", HostValue::NumberSet({"1", "2"})},
      {"bs", HostValue::BinarySet({"\x01"})},
  });
  return r;
}

const char* OutcomeName(HandlerResult::Outcome outcome) {
  switch (outcome) {
    case HandlerResult::Outcome::kSuccess:
      return "success";
    case HandlerResult::Outcome::kFailure:
      return "failure";
    case HandlerResult::Outcome::kBatchItemFailures:
      return "batch-item-failures";
  }
  return "?";
}

}  // namespace

int main(int argc, char** argv) {
  std::string expect = "success";
  if (argc == 4 && std::string_view(argv[2]) == "--expect") {
    expect = argv[3];
  } else if (argc != 2) {
    std::cerr
        << "usage: " << argv[0]
        << " <handler.so> [--expect success|failure|batch-item-failures]\n";
    return 2;
  }

  HandlerLibrary::Options options;
  options.log = [](HandlerLogLevel, std::string_view line) {
    std::cout << "log: " << line << "\n";
  };
  auto library = HandlerLibrary::Load(argv[1], options);
  if (!library.ok()) {
    std::cerr << "load failed: " << library.status().ToString() << "\n";
    return 1;
  }

  HostBatch batch;
  batch.invocation_id = "eddy-load-handler-1";
  batch.trigger_name = "load-handler";
  batch.event_source_arn = kStreamArn;
  batch.shard_id = "shardId-00000000000000000000-00000000";
  batch.records.push_back(Record(HostEventName::kInsert, "song-1", "100"));
  batch.records.push_back(Record(HostEventName::kModify, "song-2", "200"));
  batch.records.back().old_image =
      HostValue::Map({{"id", HostValue::String("song-2")}});

  auto result = (*library)->Invoke(batch);
  if (!result.ok()) {
    std::cerr << "invoke failed: " << result.status().ToString() << "\n";
    return 1;
  }
  const std::string outcome = OutcomeName(result->outcome);
  std::cout << "outcome: " << outcome << "\n";
  if (result->outcome == HandlerResult::Outcome::kFailure) {
    std::cout << "error: " << result->error_type << ": "
              << result->error_message << "\n";
  }
  for (const std::string& seq : result->failed_sequence_numbers) {
    std::cout << "failed item: " << seq << "\n";
  }
  return outcome == expect ? 0 : 1;
}
