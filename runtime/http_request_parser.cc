#include "http_request_parser.h"

#include <algorithm>
#include <string>

#include "ascii.h"

namespace eddy::runtime {
namespace {

// Up-front reservation for a Content-Length body is capped so that a client
// announcing 16 MiB and sending nothing does not pin 16 MiB.
constexpr size_t kMaxBodyReserve = 1024 * 1024;
// A body buffer that grew past this for one big request is released
// afterwards instead of being kept for the connection's lifetime.
constexpr size_t kMaxRetainedCapacity = 256 * 1024;
// Approximate framing bytes per header line (": " and CRLF).
constexpr size_t kHeaderLineOverhead = 4;

void TrimTrailingWhitespace(std::string* s) {
  size_t end = s->size();
  while (end > 0 && ((*s)[end - 1] == ' ' || (*s)[end - 1] == '\t')) --end;
  s->resize(end);
}

}  // namespace

// C-callable trampolines: http_parser is C, so nothing may throw through it.
struct HttpParserCallbacks {
  static HttpRequestParser* Of(http_parser* parser) {
    return static_cast<HttpRequestParser*>(parser->data);
  }
  template <int (HttpRequestParser::*Method)()>
  static int Notify(http_parser* parser) noexcept {
    HttpRequestParser* self = Of(parser);
    try {
      return (self->*Method)();
    } catch (...) {
      self->error_status_ = 500;
      return 1;
    }
  }
  template <int (HttpRequestParser::*Method)(const char*, size_t)>
  static int Data(http_parser* parser, const char* at, size_t length) noexcept {
    HttpRequestParser* self = Of(parser);
    try {
      return (self->*Method)(at, length);
    } catch (...) {
      self->error_status_ = 500;
      return 1;
    }
  }
  static http_parser_settings Make() {
    http_parser_settings settings;
    http_parser_settings_init(&settings);
    settings.on_message_begin = &Notify<&HttpRequestParser::OnMessageBegin>;
    settings.on_url = &Data<&HttpRequestParser::OnUrl>;
    settings.on_header_field = &Data<&HttpRequestParser::OnHeaderField>;
    settings.on_header_value = &Data<&HttpRequestParser::OnHeaderValue>;
    settings.on_headers_complete =
        &Notify<&HttpRequestParser::OnHeadersComplete>;
    settings.on_body = &Data<&HttpRequestParser::OnBody>;
    settings.on_message_complete =
        &Notify<&HttpRequestParser::OnMessageComplete>;
    return settings;
  }
};

namespace {
const http_parser_settings kParserSettings = HttpParserCallbacks::Make();
}  // namespace

HttpRequestParser::HttpRequestParser(Limits limits, Listener* listener)
    : limits_(limits), listener_(listener) {
  http_parser_init(&parser_, HTTP_REQUEST);
  parser_.data = this;
}

HttpRequestParser::FeedResult HttpRequestParser::Feed(const char* data,
                                                      size_t size) {
  FeedResult result;
  result.consumed = http_parser_execute(&parser_, &kParserSettings, data, size);
  const http_errno error = HTTP_PARSER_ERRNO(&parser_);
  if (error_status_ != 0) {
    result.outcome = Outcome::kError;
    result.error_status = error_status_;
    result.error_detail = http_errno_description(error);
    error_status_ = 0;
    in_request_ = false;
    return result;
  }
  if (upgraded_) {
    // Whatever follows the upgrade request is not HTTP.
    result.outcome = Outcome::kUpgrade;
    return result;
  }
  if (error == HPE_PAUSED) {
    http_parser_pause(&parser_, 0);
    result.outcome = Outcome::kPaused;
    return result;
  }
  if (error != HPE_OK) {
    result.outcome = Outcome::kError;
    result.error_status = error == HPE_HEADER_OVERFLOW ? 431 : 400;
    result.error_detail = http_errno_description(error);
    in_request_ = false;
    return result;
  }
  return result;
}

int HttpRequestParser::OnMessageBegin() {
  in_request_ = true;
  request_.method.clear();
  request_.target.clear();
  request_.body.clear();
  header_count_ = 0;
  header_bytes_ = 0;
  last_was_value_ = false;
  listener_->OnRequestBegin();
  return 0;
}

bool HttpRequestParser::AddHeaderBytes(size_t length) {
  header_bytes_ += length;
  if (header_bytes_ > limits_.max_header_bytes) {
    error_status_ = 431;
    return false;
  }
  return true;
}

int HttpRequestParser::OnUrl(const char* at, size_t length) {
  if (!AddHeaderBytes(length)) return 1;
  request_.target.append(at, length);
  return 0;
}

int HttpRequestParser::OnHeaderField(const char* at, size_t length) {
  // A name may come in several calls (one per read it spans): its line's
  // framing counts once, or the limit would depend on how reads split.
  const bool new_header = header_count_ == 0 || last_was_value_;
  if (!AddHeaderBytes(length + (new_header ? kHeaderLineOverhead : 0))) {
    return 1;
  }
  auto& headers = request_.headers;
  if (new_header) {
    // A new header. Entries past header_count_ are leftovers from the
    // previous request, reused to keep their string capacity.
    if (header_count_ == headers.size()) headers.emplace_back();
    headers[header_count_].first.clear();
    headers[header_count_].second.clear();
    ++header_count_;
    last_was_value_ = false;
  }
  std::string& name = headers[header_count_ - 1].first;
  size_t old_size = name.size();
  name.resize(old_size + length);
  std::transform(at, at + length,
                 name.begin() + static_cast<ptrdiff_t>(old_size), ToLowerAscii);
  return 0;
}

int HttpRequestParser::OnHeaderValue(const char* at, size_t length) {
  if (!AddHeaderBytes(length)) return 1;
  // http_parser calls on_header_field before any value, so an entry exists.
  request_.headers[header_count_ - 1].second.append(at, length);
  last_was_value_ = true;
  return 0;
}

int HttpRequestParser::OnHeadersComplete() {
  auto& headers = request_.headers;
  headers.resize(header_count_);
  for (auto& header : headers) TrimTrailingWhitespace(&header.second);
  request_.method = http_method_str(static_cast<http_method>(parser_.method));
  request_.http_major = parser_.http_major;
  request_.http_minor = parser_.http_minor;

  const bool has_length = (parser_.flags & F_CONTENTLENGTH) != 0 &&
                          (parser_.flags & F_CHUNKED) == 0;
  if (has_length && parser_.content_length > limits_.max_body_bytes) {
    // Answer now; the body is never read.
    error_status_ = 413;
    http_parser_pause(&parser_, 1);
    return 0;
  }
  if (has_length) {
    request_.body.reserve(static_cast<size_t>(
        std::min<uint64_t>(parser_.content_length, kMaxBodyReserve)));
  }
  if (request_.http_major == 1 && request_.http_minor >= 1 &&
      EqualsIgnoreCase(request_.Header("expect"), "100-continue") &&
      !(has_length && parser_.content_length == 0)) {
    listener_->OnContinue();
  }
  return 0;
}

int HttpRequestParser::OnBody(const char* at, size_t length) {
  if (request_.body.size() + length > limits_.max_body_bytes) {
    error_status_ = 413;  // Chunked (or lying) body past the limit.
    return 1;
  }
  request_.body.append(at, length);
  return 0;
}

int HttpRequestParser::OnMessageComplete() {
  in_request_ = false;
  // http-parser sets `upgrade` at the end of the headers, but an upgrade
  // request with a body ends only here.
  upgraded_ = parser_.upgrade != 0;
  const bool keep_alive =
      http_should_keep_alive(&parser_) != 0 && !parser_.upgrade;
  const bool go_on = listener_->OnRequest(request_, keep_alive);
  if (request_.body.capacity() > kMaxRetainedCapacity) {
    std::string().swap(request_.body);
  }
  if (!go_on) http_parser_pause(&parser_, 1);
  return 0;
}

}  // namespace eddy::runtime
