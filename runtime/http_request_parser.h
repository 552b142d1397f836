// HttpRequestParser: incremental HTTP/1.1 request parsing (http-parser) with
// the transport's limits, apart from sockets: bytes go in, complete requests
// come out through a Listener. Each HttpServer connection owns one; the fuzz
// target tests/fuzz/http_request_fuzz.cc drives one directly.
//
// Feed() may be given the input split anywhere: the requests that come out,
// and the errors, do not depend on where the splits fall.
//
// Limits: request line plus headers over max_header_bytes is 431 (counting
// each header line as name + value + 4 framing bytes); a body over
// max_body_bytes is 413, known from Content-Length before the body arrives
// or, for a chunked body, when it grows past the limit; anything http-parser
// refuses is 400.
//
// Thread-safety: none; a parser belongs to one connection.
#ifndef EDDY_RUNTIME_HTTP_REQUEST_PARSER_H_
#define EDDY_RUNTIME_HTTP_REQUEST_PARSER_H_

#include <http_parser.h>

#include <cstddef>
#include <cstdint>

#include "http_server.h"

namespace eddy::runtime {

class HttpRequestParser {
 public:
  struct Limits {
    size_t max_body_bytes = 16 * 1024 * 1024;
    size_t max_header_bytes = 64 * 1024;
  };

  // Receives the parser's events, synchronously, from inside Feed().
  class Listener {
   public:
    virtual ~Listener() = default;
    // The first byte of a request arrived.
    virtual void OnRequestBegin() = 0;
    // The request's headers ask for "100 Continue" before its body (an
    // HTTP/1.1 `Expect: 100-continue` with a body to come).
    virtual void OnContinue() = 0;
    // A complete request; `keep_alive` tells whether the connection may
    // carry more requests after it. `request` is valid until the next
    // Feed(). Return false to stop parsing after this request: Feed() then
    // returns kPaused, and the input after it is left unparsed.
    virtual bool OnRequest(const HttpRequest& request, bool keep_alive) = 0;
  };

  enum class Outcome {
    kConsumed,  // Every byte parsed (the last request may be incomplete).
    kPaused,    // A Listener::OnRequest returned false.
    kUpgrade,   // An Upgrade or CONNECT request ended; what follows it is
                // not HTTP.
    kError,     // Malformed or over a limit: answer error_status, close.
  };

  struct FeedResult {
    Outcome outcome = Outcome::kConsumed;
    // Bytes of the input parsed; with kPaused, where to resume.
    size_t consumed = 0;
    // With kError: 400, 413, 431, or 500 (a Listener threw).
    int error_status = 0;
    // With kError: what http-parser said, for a debug log.
    const char* error_detail = "";
  };

  // REQUIRES: `listener` outlives the parser.
  HttpRequestParser(Limits limits, Listener* listener);

  HttpRequestParser(const HttpRequestParser&) = delete;
  HttpRequestParser& operator=(const HttpRequestParser&) = delete;

  // Parses `data`, calling the listener for each event. After kError or
  // kUpgrade the parser must not be fed again.
  FeedResult Feed(const char* data, size_t size);

  // True from the first byte of a request until it is complete.
  bool in_request() const { return in_request_; }
  // Ends the current request as far as in_request() is concerned (the
  // connection gave up on it).
  void AbandonRequest() { in_request_ = false; }

  // The request being parsed (complete inside OnRequest). Its buffers are
  // reused by the next request.
  HttpRequest& request() { return request_; }

 private:
  friend struct HttpParserCallbacks;
  int OnMessageBegin();
  int OnUrl(const char* at, size_t length);
  int OnHeaderField(const char* at, size_t length);
  int OnHeaderValue(const char* at, size_t length);
  int OnHeadersComplete();
  int OnBody(const char* at, size_t length);
  int OnMessageComplete();
  bool AddHeaderBytes(size_t length);

  const Limits limits_;
  Listener* const listener_;
  http_parser parser_{};
  HttpRequest request_;
  bool in_request_ = false;
  bool last_was_value_ = false;
  // An Upgrade or CONNECT request was completed: the end of HTTP.
  bool upgraded_ = false;
  // Set by a callback that stops the parser: the status to answer (413,
  // 431, 500), or 0.
  int error_status_ = 0;
  size_t header_count_ = 0;  // Entries of request_.headers in use.
  size_t header_bytes_ = 0;
};

}  // namespace eddy::runtime

#endif  // EDDY_RUNTIME_HTTP_REQUEST_PARSER_H_
