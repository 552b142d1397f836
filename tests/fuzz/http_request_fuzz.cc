// Fuzz target: the HTTP/1.1 request parser of the server's connections
// (runtime/http_request_parser.h), without sockets.
//
// Input: two steering bytes (the limits), then the bytes a client sends.
// The stream is parsed twice, once in a single Feed and once split into
// pieces whose sizes come from the stream itself, pausing after some
// requests as backpressure does; both must yield the same requests and end
// the same way (see SameOutcome). Every request must respect the limits.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "fuzz_util.h"
#include "http_request_parser.h"

namespace eddy::runtime {
namespace {

// Everything observable about one parse.
struct Transcript {
  std::vector<std::string> events;  // Requests, continues, begins.
  int error_status = 0;
  bool upgrade = false;

  bool operator==(const Transcript&) const = default;

  // For the report of a mismatch.
  void Print(const char* how) const {
    std::fprintf(stderr, "parsed %s: error %d, upgrade %d\n", how, error_status,
                 upgrade ? 1 : 0);
    for (const std::string& event : events) {
      std::fprintf(stderr, "  [%s]\n", event.c_str());
    }
  }
};

class Recorder : public HttpRequestParser::Listener {
 public:
  Recorder(const HttpRequestParser::Limits& limits, size_t pause_every)
      : limits_(limits), pause_every_(pause_every) {}

  void OnRequestBegin() override { transcript.events.emplace_back("begin"); }
  void OnContinue() override { transcript.events.emplace_back("continue"); }
  bool OnRequest(const HttpRequest& request, bool keep_alive) override {
    EDDY_FUZZ_CHECK(request.body.size() <= limits_.max_body_bytes);
    size_t header_bytes = request.target.size();
    std::string event = request.method + " " + request.target + " " +
                        std::to_string(request.http_major) + "." +
                        std::to_string(request.http_minor) +
                        (keep_alive ? " keep-alive" : " close");
    for (const auto& [name, value] : request.headers) {
      header_bytes += name.size() + value.size();
      for (char c : name) EDDY_FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
      event += "\n" + name + ": " + value;
    }
    EDDY_FUZZ_CHECK(header_bytes <= limits_.max_header_bytes);
    event += "\n\n" + request.body;
    transcript.events.push_back(std::move(event));
    ++requests_;
    return pause_every_ == 0 || requests_ % pause_every_ != 0;
  }

  Transcript transcript;

 private:
  const HttpRequestParser::Limits limits_;
  const size_t pause_every_;
  size_t requests_ = 0;
};

// The same requests, and the same end. One leeway: a request that is both
// over a limit and malformed may be refused for either (431 or 413 against
// 400), as http-parser hands over data at the end of each piece, so a limit
// can trip on a piece's data before a later syntax error is seen.
bool SameOutcome(const Transcript& a, const Transcript& b) {
  if (a.events != b.events || a.upgrade != b.upgrade) return false;
  if (a.error_status == b.error_status) return true;
  auto limit = [](int status) { return status == 413 || status == 431; };
  return (a.error_status == 400 && limit(b.error_status)) ||
         (b.error_status == 400 && limit(a.error_status));
}

// Feeds `stream` in pieces of the given sizes (cycled; 0 means the rest),
// resuming after each pause as the connection does.
Transcript Parse(const HttpRequestParser::Limits& limits,
                 std::string_view stream, const std::vector<size_t>& pieces,
                 size_t pause_every) {
  Recorder recorder(limits, pause_every);
  HttpRequestParser parser(limits, &recorder);
  size_t next_piece = 0;
  while (!stream.empty()) {
    size_t size = pieces.empty() ? 0 : pieces[next_piece++ % pieces.size()];
    if (size == 0 || size > stream.size()) size = stream.size();
    std::string_view piece = stream.substr(0, size);
    stream.remove_prefix(size);
    for (;;) {
      HttpRequestParser::FeedResult result =
          parser.Feed(piece.data(), piece.size());
      EDDY_FUZZ_CHECK(result.consumed <= piece.size());
      switch (result.outcome) {
        case HttpRequestParser::Outcome::kConsumed:
          EDDY_FUZZ_CHECK(result.consumed == piece.size());
          break;
        case HttpRequestParser::Outcome::kPaused:
          piece.remove_prefix(result.consumed);
          continue;
        case HttpRequestParser::Outcome::kUpgrade:
          recorder.transcript.upgrade = true;
          return recorder.transcript;
        case HttpRequestParser::Outcome::kError:
          EDDY_FUZZ_CHECK(result.error_status == 400 ||
                          result.error_status == 413 ||
                          result.error_status == 431);
          recorder.transcript.error_status = result.error_status;
          return recorder.transcript;
      }
      break;
    }
  }
  return recorder.transcript;
}

}  // namespace
}  // namespace eddy::runtime

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using eddy::runtime::HttpRequestParser;
  eddy::fuzz::FuzzInput input(data, size);
  // Small limits, so that the fuzzer reaches them.
  HttpRequestParser::Limits limits;
  limits.max_header_bytes = 16 + input.Byte() * 4;
  limits.max_body_bytes = input.Byte() * size_t{16};
  const std::string_view stream = input.Rest();

  // Piece sizes from the stream's own bytes: reproducible, and varied.
  std::vector<size_t> pieces;
  for (size_t i = 0; i < stream.size() && pieces.size() < 16; i += 7) {
    pieces.push_back(static_cast<unsigned char>(stream[i]) % 23 + 1);
  }
  const auto whole = eddy::runtime::Parse(limits, stream, {}, 0);
  const auto split = eddy::runtime::Parse(limits, stream, pieces, 2);
  if (!eddy::runtime::SameOutcome(whole, split)) {
    whole.Print("in one piece");
    split.Print("in pieces");
  }
  EDDY_FUZZ_CHECK(eddy::runtime::SameOutcome(whole, split));
  return 0;
}
