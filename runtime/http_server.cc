// HttpServer implementation: one EventLoop per thread, one Connection per
// accepted socket.
//
// Connection states:
//   kOpen       reading and parsing requests, answering them in order.
//   kClosing    the last response is queued (an error, `Connection: close`,
//               HTTP/1.0, or the peer half-closed); further input is
//               discarded. When the output drains: shutdown(SHUT_WR) and
//               linger, or close at once if the peer already sent EOF.
//   kLingering  output sent and write side shut down; input is discarded
//               until EOF or kLingerMs, so that unread request bytes (the
//               rest of a 413'd body) do not turn our close into a RST that
//               destroys the response before the client reads it.
//   kClosed     uv_close() called; the object is deleted in OnClose.
//
// Output: responses are appended to out_. Flush() hands out_ to the socket
// with uv_try_write and queues any remainder with uv_write (one write in
// flight at a time; pipelined responses coalesce into the next write). When
// queued output passes kMaxPendingOutput, the parser is paused, the unparsed
// input is kept in pending_input_, input_held_ is set and reading stops
// until the output drains: a client that pipelines without reading cannot
// grow our memory unbounded.
//
// HTTPS: a connection of a TLS server has a TlsSession (tls_context.h).
// Ciphertext read from the socket goes into it and the plaintext it yields
// is fed to the parser exactly as plain input is; Flush() first encrypts
// out_ into the session's output and writes that instead of out_. When
// backpressure holds the input, decrypted input that was not parsed waits
// in pending_input_ and undecrypted records stay in the session until
// Progress() resumes both, in that order. Before the TCP shutdown of
// kClosing, close_notify is sent. Plain connections skip all of this on one
// null check.
#include "http_server.h"

#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <exception>
#include <future>
#include <mutex>
#include <thread>

#include "ascii.h"
#include "http_request_parser.h"
#include "resource_limits.h"
#include "spdlog/sinks/null_sink.h"
#include "spdlog/spdlog.h"
#include "tls_context.h"

namespace eddy::runtime {
namespace {

// Per-loop read buffer; every read is parsed (and copied out) before the
// next one, so one buffer serves all of a loop's connections.
constexpr size_t kReadBufferSize = 64 * 1024;
// Buffers that grew past this for one big request/response are released
// afterwards instead of being kept for the connection's lifetime.
constexpr size_t kMaxRetainedCapacity = 256 * 1024;
// Backpressure threshold for queued output per connection.
constexpr size_t kMaxPendingOutput = 1024 * 1024;
constexpr uint64_t kLingerMs = 2000;
// Connections refused at max_connections that may be answered (and linger)
// at once; beyond this they are closed without an answer, so that a flood
// of connections cannot hold many descriptors past the cap.
constexpr int kMaxRefusing = 64;
// Overload warnings (shed requests, refused connections, failed accepts)
// are logged at most this often per loop, with their counts.
constexpr uint64_t kWarningIntervalMs = 10'000;
constexpr int kListenBacklog = 4096;

constexpr std::string_view kContinueResponse = "HTTP/1.1 100 Continue\r\n\r\n";

// Every TLS connection opens with a handshake record (content type 22).
constexpr unsigned char kTlsHandshakeRecord = 0x16;
// What nginx answers, and what clients and people search for.
constexpr std::string_view kPlainHttpToHttpsPort =
    "The plain HTTP request was sent to HTTPS port";

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Request Entity Too Large";
    case 415:
      return "Unsupported Media Type";
    case 417:
      return "Expectation Failed";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

// True if `list` (a comma-separated header value) contains `token`.
bool HasToken(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) {
      item.remove_prefix(1);
    }
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) {
      item.remove_suffix(1);
    }
    if (EqualsIgnoreCase(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

void AppendDecimal(std::string* out, uint64_t value) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), value);
  out->append(digits, end);
}

// Headers the transport writes itself; a handler's copies are dropped.
bool IsTransportHeader(std::string_view name) {
  return EqualsIgnoreCase(name, "content-length") ||
         EqualsIgnoreCase(name, "connection") ||
         EqualsIgnoreCase(name, "transfer-encoding") ||
         EqualsIgnoreCase(name, "date");
}

bool HasLineBreak(std::string_view s) {
  // Not find_first_of("\r\n"): libstdc++ makes that one memchr call per
  // byte of `s`, and every response header goes through here.
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return c == '\r' || c == '\n'; });
}

// Appends a complete response to `out`. `date_line` is "Date: ...\r\n".
void AppendResponse(std::string* out, int status, const HttpResponse& response,
                    bool keep_alive, bool omit_body,
                    std::string_view date_line) {
  size_t needed = 96 + date_line.size() + response.body.size();
  for (const auto& [name, value] : response.headers) {
    needed += name.size() + value.size() + 4;  // ": " and CRLF.
  }
  out->reserve(out->size() + needed);
  out->append("HTTP/1.1 ");
  AppendDecimal(out, static_cast<uint64_t>(status));
  out->push_back(' ');
  out->append(ReasonPhrase(status));
  out->append("\r\n");
  for (const auto& [name, value] : response.headers) {
    if (name.empty() || IsTransportHeader(name)) continue;
    // A CR or LF would let a header value forge headers or a second
    // response (response splitting); such headers are dropped.
    if (HasLineBreak(name) || HasLineBreak(value)) continue;
    out->append(name);
    out->append(": ");
    out->append(value);
    out->append("\r\n");
  }
  out->append("Content-Length: ");
  AppendDecimal(out, response.body.size());
  out->append(keep_alive ? "\r\nConnection: keep-alive\r\n"
                         : "\r\nConnection: close\r\n");
  out->append(date_line);
  out->append("\r\n");
  if (!omit_body) out->append(response.body);
}

// Counts occurrences of something worth a warning and says when to log:
// the first time, then at most once per kWarningIntervalMs, with the count
// since the last line.
class ThrottledWarning {
 public:
  // Counts one occurrence at `now_ms`; returns how many to report if a line
  // is due now, else 0.
  uint64_t Count(uint64_t now_ms) {
    ++pending_;
    return Due(now_ms);
  }
  // The count to report if a line is due (for a periodic flush), else 0.
  uint64_t Due(uint64_t now_ms) {
    if (pending_ == 0 || (logged_ && now_ms - last_ms_ < kWarningIntervalMs)) {
      return 0;
    }
    logged_ = true;
    last_ms_ = now_ms;
    const uint64_t count = pending_;
    pending_ = 0;
    return count;
  }

 private:
  bool logged_ = false;
  uint64_t last_ms_ = 0;
  uint64_t pending_ = 0;
};

// State shared by all loops of one server; immutable after Start except for
// the connection counts and the TLS context.
struct ServerContext {
  HttpServerOptions options;
  HttpHandler handler;
  std::shared_ptr<spdlog::logger> logger;  // Never null.
  std::atomic<int> connections{0};
  // Connections being answered at max_connections (kMaxRefusing at most).
  std::atomic<int> refusing{0};
  bool tls_enabled = false;

  // The TLS context new connections use (null when !tls_enabled).
  std::shared_ptr<const TlsContext> CurrentTls() {
    std::lock_guard<std::mutex> lock(tls_mutex);
    return tls;
  }
  void SetTls(std::shared_ptr<const TlsContext> context) {
    std::lock_guard<std::mutex> lock(tls_mutex);
    tls = std::move(context);
  }

 private:
  std::mutex tls_mutex;
  std::shared_ptr<const TlsContext> tls;  // Guarded by tls_mutex.
};

class Connection;

// One thread, one uv_loop_t, one listening socket, and the connections it
// accepted. All methods except RequestStop() run on the loop thread (or, for
// Init and Join, before the thread starts / after it ends).
class EventLoop {
 public:
  EventLoop(ServerContext* context, int index)
      : context_(context),
        index_(index),
        read_buffer_(new char[kReadBufferSize]) {}

  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Takes ownership of `listen_fd` (bound, not yet listening) in all cases.
  Status Init(int listen_fd);
  // Starts the loop's thread, which names itself and then waits for `go`
  // before it serves; returns once it has its name.
  void StartThread(std::shared_future<void> go);
  // Any thread: asks the loop to close everything; Join() waits for it.
  void RequestStop();
  // Waits for the thread (or, if it never started, runs the loop here until
  // every handle is closed) and closes the loop.
  void Join();

  ServerContext& context() { return *context_; }
  spdlog::logger& logger() { return *context_->logger; }
  uint64_t Now() { return uv_now(&loop_); }
  HttpResponse* scratch_response() { return &scratch_response_; }
  // The loop's read buffer (kReadBufferSize bytes). TLS connections reuse
  // it for plaintext once the ciphertext read into it is in their session.
  char* read_buffer() { return read_buffer_.get(); }
  // "Date: <IMF-fixdate>\r\n", recomputed at most once a second.
  std::string_view DateLine();

  void Link(Connection* connection);
  void Unlink(Connection* connection);

  // Whether a request that just arrived may run: false once this turn of
  // the loop has taken max_inflight_requests (the caller sheds it).
  bool AdmitRequest();

 private:
  static void OnConnection(uv_stream_t* server, int status) noexcept;
  static void OnTurn(uv_prepare_t* prepare) noexcept;
  static void OnStop(uv_async_t* async) noexcept;
  static void OnSweep(uv_timer_t* timer) noexcept;
  static void OnAlloc(uv_handle_t* handle, size_t suggested,
                      uv_buf_t* buf) noexcept;
  void Accept();
  void CloseEverything();
  // Logs the overload warnings that are due.
  void FlushWarnings(uint64_t now);
  void WarnShed(uint64_t count);
  void WarnRefused(uint64_t count);

  ServerContext* context_;
  int index_;
  std::unique_ptr<char[]> read_buffer_;
  uv_loop_t loop_{};
  uv_async_t stop_async_{};
  uv_timer_t sweep_timer_{};
  // Runs before each poll for I/O: a new turn.
  uv_prepare_t turn_prepare_{};
  uv_tcp_t listener_{};
  bool loop_initialized_ = false;
  bool handles_initialized_ = false;
  bool listener_initialized_ = false;
  std::thread thread_;
  Connection* connections_ = nullptr;  // Intrusive list head.
  HttpResponse scratch_response_;
  time_t date_second_ = -1;
  std::string date_line_;
  // Requests taken on in this turn (reset by OnTurn).
  int requests_this_turn_ = 0;
  ThrottledWarning shed_warning_;
  ThrottledWarning refused_warning_;
  ThrottledWarning accept_warning_;

  friend class Connection;
};

class Connection final : private HttpRequestParser::Listener {
 public:
  explicit Connection(EventLoop* loop);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  EventLoop* loop() const { return loop_; }
  uv_tcp_t* tcp() { return &tcp_; }
  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&tcp_); }

  // Makes this an HTTPS connection. REQUIRES: before Begin().
  void EnableTls(std::unique_ptr<TlsSession> session) {
    tls_ = std::move(session);
  }
  // Called right after uv_accept succeeded.
  void Begin();
  // Instead of Begin(), at max_connections: answers with the overload
  // response and `Connection: close`, then closes (lingering, so that the
  // request the client may already have sent does not turn the close into a
  // reset that loses the answer). REQUIRES: plain HTTP.
  void Refuse();
  // Closes the socket now, dropping unsent output. Idempotent.
  void Close();
  // Called periodically by the loop to enforce timeouts.
  void Sweep(uint64_t now);

  Connection* prev_ = nullptr;
  Connection* next_ = nullptr;

 private:
  enum class State { kOpen, kClosing, kLingering, kClosed };

  static void OnRead(uv_stream_t* stream, ssize_t nread,
                     const uv_buf_t* buf) noexcept;
  static void OnWrite(uv_write_t* req, int status) noexcept;
  static void OnShutdown(uv_shutdown_t* req, int status) noexcept;
  static void OnClose(uv_handle_t* handle) noexcept;

  // HttpRequestParser::Listener.
  void OnRequestBegin() override;
  void OnContinue() override;
  bool OnRequest(const HttpRequest& request, bool keep_alive) override;

  void HandleRead(ssize_t nread, const uv_buf_t* buf);
  void HandleWrite(int status);
  void HandleEof();
  // Parses `data`, answering each complete request.
  void Feed(const char* data, size_t size);
  // TLS: takes ciphertext from the socket and feeds what it decrypts.
  void ReceiveTls(const char* data, size_t size);
  // TLS: feeds plaintext from the session until it needs more input, the
  // parser is held back, or the connection ends.
  void DecryptInput();
  // TLS: encrypts out_ into the session's output. Returns false if the
  // connection was closed.
  bool EncryptOutput();
  // Runs the handler and queues its response.
  void Dispatch(const HttpRequest& request, bool keep_alive);
  // Queues an error response and moves to kClosing.
  void FailRequest(int status, std::string_view message);
  // Writes what can be written; feeds input held back by backpressure once
  // the output has drained; finishes kClosing when everything is sent.
  void Progress();
  // Starts sending out_ unless a write is in flight. Returns false if the
  // connection was closed because of a write error.
  bool Flush();
  void StartReading();
  void StopReading();

  EventLoop* loop_;
  uv_tcp_t tcp_{};
  uv_write_t write_req_{};
  uv_shutdown_t shutdown_req_{};
  HttpRequestParser parser_;
  std::unique_ptr<TlsSession> tls_;  // Null for plain HTTP.
  State state_ = State::kOpen;
  bool reading_ = false;
  bool write_in_flight_ = false;
  bool peer_eof_ = false;
  // Backpressure paused the parser: input waits in pending_input_ (and, for
  // TLS, in tls_) until the output drains.
  bool input_held_ = false;
  bool handshake_done_ = false;
  // Counted in ServerContext::refusing until closed.
  bool refused_ = false;
  // TLS: the handshake is under way (bounded by the request timeout).
  bool in_handshake_ = false;
  uint64_t last_activity_ms_ = 0;
  uint64_t request_start_ms_ = 0;
  uint64_t linger_deadline_ms_ = 0;
  std::string out_;            // Queued, not yet handed to the socket.
  std::string in_flight_;      // Owned by the pending uv_write.
  std::string pending_input_;  // Unparsed input held back by backpressure.
};

// ---------------------------------------------------------------------------
// Connection.

Connection::Connection(EventLoop* loop)
    : loop_(loop),
      parser_({loop->context().options.max_body_bytes,
               loop->context().options.max_header_bytes},
              this) {}

void Connection::Begin() {
  uv_tcp_nodelay(&tcp_, 1);
  last_activity_ms_ = loop_->Now();
  if (tls_ != nullptr) {
    // The handshake is bounded by the request timeout, as a request is.
    in_handshake_ = true;
    request_start_ms_ = last_activity_ms_;
  }
  StartReading();
}

void Connection::Close() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  reading_ = false;
  loop_->Unlink(this);
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), &Connection::OnClose);
}

void Connection::OnClose(uv_handle_t* handle) noexcept {
  auto* connection = static_cast<Connection*>(handle->data);
  ServerContext& context = connection->loop_->context();
  context.connections.fetch_sub(1, std::memory_order_relaxed);
  if (connection->refused_) {
    context.refusing.fetch_sub(1, std::memory_order_relaxed);
  }
  delete connection;
}

// The overload answer, from the overload_handler or the default.
void OverloadResponse(ServerContext& context, const HttpRequest& request,
                      HttpResponse* response) {
  response->status = 503;
  response->headers.clear();
  response->body.clear();
  if (context.options.overload_handler) {
    try {
      context.options.overload_handler(request, response);
      return;
    } catch (const std::exception& e) {
      context.logger->error("HTTP overload handler threw: {}", e.what());
    } catch (...) {
      context.logger->error("HTTP overload handler threw");
    }
  }
  response->status = 503;
  response->headers.clear();
  response->headers.emplace_back("Content-Type", "text/plain");
  response->body.assign("Service unavailable: too many requests");
}

void Connection::Refuse() {
  refused_ = true;
  static const HttpRequest kNoRequest;
  HttpResponse* response = loop_->scratch_response();
  ServerContext& context = loop_->context();
  OverloadResponse(context, kNoRequest, response);
  AppendResponse(&out_, response->status, *response, /*keep_alive=*/false,
                 /*omit_body=*/false, loop_->DateLine());
  state_ = State::kClosing;
  uv_tcp_nodelay(&tcp_, 1);
  last_activity_ms_ = loop_->Now();
  Progress();
}

void Connection::StartReading() {
  if (reading_ || state_ == State::kClosed || peer_eof_) return;
  int rc = uv_read_start(stream(), &EventLoop::OnAlloc, &Connection::OnRead);
  if (rc != 0) {
    loop_->logger().debug("uv_read_start: {}", uv_strerror(rc));
    Close();
    return;
  }
  reading_ = true;
}

void Connection::StopReading() {
  if (!reading_) return;
  uv_read_stop(stream());
  reading_ = false;
}

void Connection::OnRead(uv_stream_t* stream, ssize_t nread,
                        const uv_buf_t* buf) noexcept {
  auto* connection = static_cast<Connection*>(stream->data);
  try {
    connection->HandleRead(nread, buf);
  } catch (const std::exception& e) {
    connection->loop_->logger().error("http connection failed: {}", e.what());
    connection->Close();
  } catch (...) {
    connection->Close();
  }
}

void Connection::HandleRead(ssize_t nread, const uv_buf_t* buf) {
  if (nread == 0) return;  // EAGAIN; nothing happened.
  if (nread < 0) {
    if (nread == UV_EOF) {
      HandleEof();
    } else {
      Close();  // ECONNRESET and friends: nobody to answer.
    }
    return;
  }
  last_activity_ms_ = loop_->Now();
  // In kClosing/kLingering input is discarded.
  if (state_ == State::kOpen) {
    if (tls_ == nullptr) {
      Feed(buf->base, static_cast<size_t>(nread));
    } else {
      ReceiveTls(buf->base, static_cast<size_t>(nread));
    }
  }
  Progress();
}

void Connection::ReceiveTls(const char* data, size_t size) {
  if (!tls_->started() &&
      static_cast<unsigned char>(data[0]) != kTlsHandshakeRecord) {
    // Not TLS: most likely plain HTTP. Say so in plain HTTP, then close.
    loop_->logger().debug("plain HTTP (or garbage) on the HTTPS port");
    tls_.reset();
    FailRequest(400, kPlainHttpToHttpsPort);
    return;
  }
  tls_->Receive(data, size);
  DecryptInput();
}

void Connection::DecryptInput() {
  // The ciphertext is in the session now, so the read buffer is free.
  char* buffer = loop_->read_buffer();
  // While input is held, the rest stays in the session.
  while (state_ == State::kOpen && !input_held_) {
    size_t size = 0;
    TlsSession::ReadStatus status = tls_->Read(buffer, kReadBufferSize, &size);
    if (!handshake_done_ && tls_->established()) {
      // From here on the request timeout runs per request again.
      handshake_done_ = true;
      in_handshake_ = false;
    }
    switch (status) {
      case TlsSession::ReadStatus::kData:
        Feed(buffer, size);
        break;
      case TlsSession::ReadStatus::kNeedInput:
        return;
      case TlsSession::ReadStatus::kClosedByPeer:
        // As a half-close: complete requests are still answered.
        state_ = State::kClosing;
        parser_.AbandonRequest();
        pending_input_.clear();
        input_held_ = false;
        return;
      case TlsSession::ReadStatus::kFailed:
        // A failed handshake (the alert is in the session's output) or a
        // broken record: nothing more can be read or answered.
        loop_->logger().debug("TLS {} failed: {}",
                              handshake_done_ ? "connection" : "handshake",
                              tls_->error());
        state_ = State::kClosing;
        in_handshake_ = false;
        parser_.AbandonRequest();
        pending_input_.clear();
        input_held_ = false;
        return;
    }
  }
}

void Connection::HandleEof() {
  peer_eof_ = true;
  reading_ = false;  // libuv stops reading at EOF.
  switch (state_) {
    case State::kOpen:
      // A half-close after complete requests still gets their responses; a
      // partial request is dropped.
      state_ = State::kClosing;
      pending_input_.clear();
      input_held_ = false;
      Progress();
      break;
    case State::kClosing:
      Progress();
      break;
    case State::kLingering:
      Close();
      break;
    case State::kClosed:
      break;
  }
}

void Connection::Feed(const char* data, size_t size) {
  HttpRequestParser::FeedResult result = parser_.Feed(data, size);
  if (state_ == State::kClosed) return;
  switch (result.outcome) {
    case HttpRequestParser::Outcome::kConsumed:
      return;
    case HttpRequestParser::Outcome::kPaused:
      if (state_ != State::kOpen) return;  // Answered with close; rest ignored.
      // Paused for backpressure: keep the rest for when output drains.
      pending_input_.assign(data + result.consumed, size - result.consumed);
      input_held_ = true;
      StopReading();
      return;
    case HttpRequestParser::Outcome::kUpgrade:
      // Upgrade/CONNECT: not supported; bytes after the request are not HTTP.
      if (state_ == State::kOpen) state_ = State::kClosing;
      return;
    case HttpRequestParser::Outcome::kError:
      if (state_ != State::kOpen) return;
      switch (result.error_status) {
        case 400:
          loop_->logger().debug("malformed HTTP request: {}",
                                result.error_detail);
          FailRequest(400, "Bad request");
          break;
        case 413:
          FailRequest(413, "Request entity too large");
          break;
        case 431:
          FailRequest(431, "Request header fields too large");
          break;
        default:
          FailRequest(500, "Internal server error");
          break;
      }
      return;
  }
}

void Connection::FailRequest(int status, std::string_view message) {
  HttpResponse* response = loop_->scratch_response();
  response->status = status;
  response->headers.clear();
  response->headers.emplace_back("Content-Type", "text/plain");
  response->body.assign(message);
  AppendResponse(&out_, status, *response, /*keep_alive=*/false,
                 /*omit_body=*/false, loop_->DateLine());
  state_ = State::kClosing;
  parser_.AbandonRequest();
  pending_input_.clear();
  input_held_ = false;
}

void Connection::OnRequestBegin() { request_start_ms_ = loop_->Now(); }

void Connection::OnContinue() { out_.append(kContinueResponse); }

bool Connection::OnRequest(const HttpRequest& request, bool keep_alive) {
  Dispatch(request, keep_alive);
  // Stop parsing if the connection is ending (later input is ignored) or
  // output is backing up (Feed keeps the rest of the input for later).
  return state_ == State::kOpen &&
         out_.size() + in_flight_.size() < kMaxPendingOutput;
}

void Connection::Dispatch(const HttpRequest& request, bool keep_alive) {
  HttpResponse* response = loop_->scratch_response();
  ServerContext& context = loop_->context();
  if (!loop_->AdmitRequest()) {
    // Shed: answered now, without running the handler.
    OverloadResponse(context, request, response);
    AppendResponse(&out_, response->status, *response, keep_alive,
                   /*omit_body=*/request.method == "HEAD", loop_->DateLine());
    if (!keep_alive) state_ = State::kClosing;
    return;
  }
  response->status = 200;
  response->headers.clear();
  response->body.clear();
  try {
    context.handler(request, response);
  } catch (const std::exception& e) {
    context.logger->error("HTTP handler threw for {} {}: {}", request.method,
                          request.target, e.what());
    response->status = 500;
    response->headers.clear();
    response->body.assign("Internal server error");
  } catch (...) {
    context.logger->error("HTTP handler threw for {} {}", request.method,
                          request.target);
    response->status = 500;
    response->headers.clear();
    response->body.assign("Internal server error");
  }
  int status = response->status;
  if (status < 200 || status > 999) {
    // 1xx would leave the client waiting for a final response.
    context.logger->error("HTTP handler returned status {} for {} {}", status,
                          request.method, request.target);
    status = 500;
  }
  if (keep_alive) {
    for (const auto& [name, value] : response->headers) {
      if (EqualsIgnoreCase(name, "connection") && HasToken(value, "close")) {
        keep_alive = false;
      }
    }
  }
  AppendResponse(&out_, status, *response, keep_alive,
                 /*omit_body=*/request.method == "HEAD", loop_->DateLine());
  if (!keep_alive) state_ = State::kClosing;
  if (response->body.capacity() > kMaxRetainedCapacity) {
    std::string().swap(response->body);
  }
}

bool Connection::Flush() {
  if (write_in_flight_) return true;
  // What goes on the wire: out_ itself, or its encryption.
  std::string* wire = &out_;
  if (tls_ != nullptr) {
    if (!EncryptOutput()) return false;
    wire = &tls_->output();
  }
  if (wire->empty()) return true;
  uv_buf_t buf;
  buf.base = wire->data();
  buf.len = wire->size();
  int written = uv_try_write(stream(), &buf, 1);
  if (written == UV_EAGAIN) written = 0;
  if (written < 0) {
    loop_->logger().debug("http write failed: {}", uv_strerror(written));
    Close();
    return false;
  }
  auto done = static_cast<size_t>(written);
  if (done == wire->size()) {
    wire->clear();
    last_activity_ms_ = loop_->Now();
    return true;
  }
  // The socket is full: queue the rest and let libuv finish it.
  if (done == 0) {
    in_flight_.swap(*wire);
  } else {
    in_flight_.assign(*wire, done);
  }
  wire->clear();
  buf.base = in_flight_.data();
  buf.len = in_flight_.size();
  int rc = uv_write(&write_req_, stream(), &buf, 1, &Connection::OnWrite);
  if (rc != 0) {
    loop_->logger().debug("uv_write: {}", uv_strerror(rc));
    in_flight_.clear();
    Close();
    return false;
  }
  write_in_flight_ = true;
  return true;
}

bool Connection::EncryptOutput() {
  if (out_.empty()) return true;
  if (!tls_->established()) {
    // Nothing can be encrypted before the handshake or after a failure
    // (the connection is closing then, with only an alert to send).
    out_.clear();
    return true;
  }
  if (!tls_->Write(out_)) {
    loop_->logger().debug("TLS write failed: {}", tls_->error());
    Close();
    return false;
  }
  out_.clear();
  return true;
}

void Connection::OnWrite(uv_write_t* req, int status) noexcept {
  auto* connection = static_cast<Connection*>(req->handle->data);
  try {
    connection->HandleWrite(status);
  } catch (...) {
    connection->Close();
  }
}

void Connection::HandleWrite(int status) {
  write_in_flight_ = false;
  in_flight_.clear();
  if (in_flight_.capacity() > kMaxRetainedCapacity) {
    std::string().swap(in_flight_);
  }
  if (state_ == State::kClosed) return;  // UV_ECANCELED from Close().
  if (status < 0) {
    loop_->logger().debug("http write failed: {}", uv_strerror(status));
    Close();
    return;
  }
  last_activity_ms_ = loop_->Now();
  Progress();
}

void Connection::Progress() {
  for (;;) {
    if (!Flush()) return;
    if (write_in_flight_) return;  // OnWrite resumes.
    if (state_ != State::kOpen) {
      // TLS: close_notify goes out (through Flush) before the shutdown.
      if (state_ == State::kClosing && tls_ != nullptr &&
          tls_->SendCloseNotify()) {
        continue;
      }
      break;
    }
    if (!input_held_) break;
    // Output drained: resume the input backpressure held back. Feed may
    // hold back a new remainder, hence the local copy.
    input_held_ = false;
    if (!pending_input_.empty()) {
      std::string input;
      input.swap(pending_input_);
      Feed(input.data(), input.size());
    }
    // TLS: then the records that arrived behind it.
    if (tls_ != nullptr) DecryptInput();
    if (state_ == State::kClosed) return;
  }
  if (out_.capacity() > kMaxRetainedCapacity) std::string().swap(out_);
  if (tls_ != nullptr && tls_->output().capacity() > kMaxRetainedCapacity) {
    std::string().swap(tls_->output());
  }
  switch (state_) {
    case State::kOpen:
      StartReading();  // No-op unless backpressure had stopped it.
      break;
    case State::kClosing:
      if (peer_eof_) {
        Close();
        break;
      }
      state_ = State::kLingering;
      linger_deadline_ms_ = loop_->Now() + kLingerMs;
      if (int rc =
              uv_shutdown(&shutdown_req_, stream(), &Connection::OnShutdown);
          rc != 0) {
        Close();
        break;
      }
      StartReading();  // Drain and discard until EOF.
      break;
    case State::kLingering:
    case State::kClosed:
      break;
  }
}

void Connection::OnShutdown(uv_shutdown_t* req, int status) noexcept {
  auto* connection = static_cast<Connection*>(req->handle->data);
  if (status < 0 && connection->state_ != State::kClosed) connection->Close();
}

void Connection::Sweep(uint64_t now) {
  const HttpServerOptions& options = loop_->context().options;
  switch (state_) {
    case State::kClosed:
      return;
    case State::kLingering:
      if (now >= linger_deadline_ms_) Close();
      return;
    case State::kOpen:
    case State::kClosing:
      break;
  }
  if (options.idle_timeout_ms > 0 &&
      now - last_activity_ms_ >=
          static_cast<uint64_t>(options.idle_timeout_ms)) {
    Close();
    return;
  }
  if (state_ == State::kOpen && (parser_.in_request() || in_handshake_) &&
      options.request_timeout_ms > 0 &&
      now - request_start_ms_ >=
          static_cast<uint64_t>(options.request_timeout_ms)) {
    if (tls_ != nullptr && !tls_->established()) {
      // Mid-handshake: there is no channel for a 408.
      loop_->logger().debug("TLS handshake timed out");
      Close();
      return;
    }
    FailRequest(408, "Request timeout");
    Progress();
  }
}

// ---------------------------------------------------------------------------
// EventLoop.

Status EventLoop::Init(int listen_fd) {
  int rc = uv_loop_init(&loop_);
  if (rc != 0) {
    close(listen_fd);
    return Status::Internal(std::string("uv_loop_init: ") + uv_strerror(rc));
  }
  loop_.data = this;
  loop_initialized_ = true;
  // These cannot fail on an initialised loop.
  uv_async_init(&loop_, &stop_async_, &EventLoop::OnStop);
  stop_async_.data = this;
  uv_timer_init(&loop_, &sweep_timer_);
  sweep_timer_.data = this;
  uv_prepare_init(&loop_, &turn_prepare_);
  turn_prepare_.data = this;
  uv_tcp_init(&loop_, &listener_);
  listener_.data = this;
  handles_initialized_ = true;

  rc = uv_tcp_open(&listener_, listen_fd);
  if (rc != 0) {
    close(listen_fd);
    return Status::IOError(std::string("uv_tcp_open: ") + uv_strerror(rc));
  }
  listener_initialized_ = true;
  rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), kListenBacklog,
                 &EventLoop::OnConnection);
  if (rc != 0) {
    return Status::IOError(std::string("listen: ") + uv_strerror(rc));
  }

  // One periodic sweep enforces all per-connection timeouts; cheaper than a
  // timer per connection that is re-armed on every read.
  const HttpServerOptions& options = context_->options;
  uint64_t interval = 1000;
  for (int timeout : {options.idle_timeout_ms, options.request_timeout_ms}) {
    if (timeout > 0) {
      interval =
          std::min<uint64_t>(interval, static_cast<uint64_t>(timeout) / 4);
    }
  }
  interval = std::max<uint64_t>(interval, 10);
  uv_timer_start(&sweep_timer_, &EventLoop::OnSweep, interval, interval);
  if (context_->options.max_inflight_requests > 0) {
    uv_prepare_start(&turn_prepare_, &EventLoop::OnTurn);
  }
  return Status::OK();
}

void EventLoop::OnTurn(uv_prepare_t* prepare) noexcept {
  static_cast<EventLoop*>(prepare->data)->requests_this_turn_ = 0;
}

bool EventLoop::AdmitRequest() {
  const int limit = context_->options.max_inflight_requests;
  if (limit <= 0 || ++requests_this_turn_ <= limit) return true;
  if (uint64_t count = shed_warning_.Count(Now()); count > 0) WarnShed(count);
  return false;
}

void EventLoop::WarnShed(uint64_t count) {
  logger().warn(
      "http loop {}: overloaded: {} request(s) answered 503 without being run "
      "(more than {} arrived at once; --max-inflight)",
      index_, count, context_->options.max_inflight_requests);
}

void EventLoop::WarnRefused(uint64_t count) {
  logger().warn(
      "http loop {}: connection limit ({}) reached: {} connection(s) refused "
      "(--max-connections)",
      index_, context_->options.max_connections, count);
}

void EventLoop::FlushWarnings(uint64_t now) {
  if (uint64_t count = shed_warning_.Due(now); count > 0) WarnShed(count);
  if (uint64_t count = refused_warning_.Due(now); count > 0) {
    WarnRefused(count);
  }
  if (uint64_t count = accept_warning_.Due(now); count > 0) {
    logger().warn("http loop {}: {} accept(s) failed (file descriptors?)",
                  index_, count);
  }
}

void EventLoop::StartThread(std::shared_future<void> go) {
  // "eddy-http-0": how ps, top and the tests tell the loops apart. Named by
  // the thread itself, and no loop serves before every loop has its name
  // (`go`): whoever got an answer sees all of them.
  const std::string name =
      ("eddy-http-" + std::to_string(index_)).substr(0, 15);
  std::promise<void> named;
  std::future<void> is_named = named.get_future();
  thread_ = std::thread(
      [this, name, named = std::move(named), go = std::move(go)]() mutable {
        pthread_setname_np(pthread_self(), name.c_str());
        named.set_value();
        go.wait();
        uv_run(&loop_, UV_RUN_DEFAULT);
      });
  is_named.wait();
}

void EventLoop::RequestStop() {
  if (handles_initialized_) uv_async_send(&stop_async_);
}

void EventLoop::Join() {
  if (thread_.joinable()) {
    thread_.join();
  } else if (loop_initialized_) {
    // Never started (Start failed part-way): run here to close the handles.
    uv_run(&loop_, UV_RUN_DEFAULT);
  }
  if (loop_initialized_) {
    int rc = uv_loop_close(&loop_);
    if (rc != 0) {
      context_->logger->error("http loop {} left handles open: {}", index_,
                              uv_strerror(rc));
    }
    loop_initialized_ = false;
  }
}

void EventLoop::OnStop(uv_async_t* async) noexcept {
  static_cast<EventLoop*>(async->data)->CloseEverything();
}

void EventLoop::CloseEverything() {
  // Closing every handle lets uv_run return on its own once the close
  // callbacks (and cancelled write callbacks) have run.
  auto close_handle = [](auto* handle) {
    auto* h = reinterpret_cast<uv_handle_t*>(handle);
    if (!uv_is_closing(h)) uv_close(h, nullptr);
  };
  close_handle(&listener_);
  close_handle(&sweep_timer_);
  close_handle(&turn_prepare_);
  close_handle(&stop_async_);
  while (connections_ != nullptr) connections_->Close();  // Unlinks itself.
}

void EventLoop::OnConnection(uv_stream_t* server, int status) noexcept {
  auto* self = static_cast<EventLoop*>(server->data);
  if (status < 0) {
    // EMFILE and friends come once per connection attempt: count them.
    if (uint64_t count = self->accept_warning_.Count(self->Now()); count > 0) {
      self->logger().warn("http loop {}: accept failed: {} ({} time(s))",
                          self->index_, uv_strerror(status), count);
    }
    return;
  }
  try {
    self->Accept();
  } catch (const std::exception& e) {
    self->logger().error("http accept failed: {}", e.what());
  } catch (...) {
    self->logger().error("http accept failed");
  }
}

void EventLoop::Accept() {
  auto connection = std::make_unique<Connection>(this);
  int rc = uv_tcp_init(&loop_, connection->tcp());
  if (rc != 0) {
    logger().warn("http accept failed: {}", uv_strerror(rc));
    return;
  }
  // From here the connection is counted and freed by its close callback.
  context_->connections.fetch_add(1, std::memory_order_relaxed);
  Connection* raw = connection.release();
  raw->tcp()->data = raw;
  Link(raw);
  rc = uv_accept(reinterpret_cast<uv_stream_t*>(&listener_), raw->stream());
  if (rc != 0) {
    logger().warn("http accept failed: {}", uv_strerror(rc));
    raw->Close();
    return;
  }
  if (context_->connections.load(std::memory_order_relaxed) >
      context_->options.max_connections) {
    if (uint64_t count = refused_warning_.Count(Now()); count > 0) {
      WarnRefused(count);
    }
    // Answered while few are; on TLS there is no channel before a
    // handshake, which is not worth its cost here.
    if (!context_->tls_enabled &&
        context_->refusing.fetch_add(1, std::memory_order_relaxed) <
            kMaxRefusing) {
      raw->Refuse();
    } else {
      if (!context_->tls_enabled) {
        context_->refusing.fetch_sub(1, std::memory_order_relaxed);
      }
      raw->Close();
    }
    return;
  }
  if (context_->tls_enabled) {
    std::unique_ptr<TlsSession> session = context_->CurrentTls()->NewSession();
    if (session == nullptr) {
      logger().warn("http accept failed: no memory for a TLS session");
      raw->Close();
      return;
    }
    raw->EnableTls(std::move(session));
  }
  raw->Begin();
}

void EventLoop::OnSweep(uv_timer_t* timer) noexcept {
  auto* self = static_cast<EventLoop*>(timer->data);
  try {
    uint64_t now = self->Now();
    for (Connection* c = self->connections_; c != nullptr;) {
      Connection* next = c->next_;  // Sweep may unlink c.
      c->Sweep(now);
      c = next;
    }
    self->FlushWarnings(now);
  } catch (const std::exception& e) {
    self->logger().error("http sweep failed: {}", e.what());
  } catch (...) {
    self->logger().error("http sweep failed");
  }
}

void EventLoop::OnAlloc(uv_handle_t* handle, size_t /*suggested*/,
                        uv_buf_t* buf) noexcept {
  auto* connection = static_cast<Connection*>(handle->data);
  EventLoop* self = connection->loop();
  buf->base = self->read_buffer_.get();
  buf->len = kReadBufferSize;
}

std::string_view EventLoop::DateLine() {
  time_t now = time(nullptr);
  if (now != date_second_) {
    date_second_ = now;
    struct tm tm;
    gmtime_r(&now, &tm);
    char text[64];
    size_t n = strftime(text, sizeof(text),
                        "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    date_line_.assign(text, n);
  }
  return date_line_;
}

void EventLoop::Link(Connection* connection) {
  connection->prev_ = nullptr;
  connection->next_ = connections_;
  if (connections_ != nullptr) connections_->prev_ = connection;
  connections_ = connection;
}

void EventLoop::Unlink(Connection* connection) {
  if (connection->prev_ != nullptr) {
    connection->prev_->next_ = connection->next_;
  } else if (connections_ == connection) {
    connections_ = connection->next_;
  }
  if (connection->next_ != nullptr) {
    connection->next_->prev_ = connection->prev_;
  }
  connection->prev_ = nullptr;
  connection->next_ = nullptr;
}

// ---------------------------------------------------------------------------
// Listening sockets.

Result<sockaddr_storage> ResolveHost(const std::string& host, int port) {
  sockaddr_storage addr{};
  std::string numeric = host == "localhost" ? "127.0.0.1" : host;
  if (uv_ip4_addr(numeric.c_str(), port,
                  reinterpret_cast<sockaddr_in*>(&addr)) == 0) {
    return addr;
  }
  if (uv_ip6_addr(numeric.c_str(), port,
                  reinterpret_cast<sockaddr_in6*>(&addr)) == 0) {
    return addr;
  }
  return Status::InvalidArgument("not a numeric IP address: '" + host + "'");
}

socklen_t AddrLength(const sockaddr_storage& addr) {
  return addr.ss_family == AF_INET6 ? sizeof(sockaddr_in6)
                                    : sizeof(sockaddr_in);
}

void SetPort(sockaddr_storage* addr, int port) {
  auto net_port = htons(static_cast<uint16_t>(port));
  if (addr->ss_family == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(addr)->sin6_port = net_port;
  } else {
    reinterpret_cast<sockaddr_in*>(addr)->sin_port = net_port;
  }
}

int GetPort(const sockaddr_storage& addr) {
  return ntohs(addr.ss_family == AF_INET6
                   ? reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port
                   : reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
}

std::string Describe(const std::string& host, int port) {
  return host + ":" + std::to_string(port);
}

// Returns a bound (not listening) socket, or an error.
Result<int> BindSocket(const sockaddr_storage& addr, bool reuse_port,
                       const std::string& where) {
  int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::IOError("socket: " + std::string(strerror(errno)));
  int one = 1;
  // SO_REUSEADDR: rebind while old connections sit in TIME_WAIT.
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
      (reuse_port &&
       setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)) {
    int err = errno;
    close(fd);
    return Status::IOError("setsockopt: " + std::string(strerror(err)));
  }
  if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), AddrLength(addr)) !=
      0) {
    int err = errno;
    close(fd);
    return Status::IOError("cannot bind " + where + ": " + strerror(err));
  }
  return fd;
}

// Finds the port to use. A probe socket without SO_REUSEPORT is bound first:
// SO_REUSEPORT alone would let us silently share a port with another process
// of the same user already listening there (e.g. a second Eddy), and with
// port 0 the probe is how the kernel picks the port.
Result<int> ProbePort(sockaddr_storage addr, const std::string& host) {
  int port = GetPort(addr);
  EDDY_ASSIGN_OR_RETURN(
      int probe, BindSocket(addr, /*reuse_port=*/false, Describe(host, port)));
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  int rc = getsockname(probe, reinterpret_cast<sockaddr*>(&bound), &length);
  int err = errno;
  close(probe);
  if (rc != 0)
    return Status::IOError("getsockname: " + std::string(strerror(err)));
  return GetPort(bound);
}

}  // namespace

std::string_view HttpRequest::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return {};
}

// ---------------------------------------------------------------------------
// HttpServer.

class HttpServer::Impl {
 public:
  ~Impl() { Stop(); }

  void Stop() {
    std::lock_guard<std::mutex> lock(stop_mutex_);
    if (stopped_) return;
    stopped_ = true;
    for (auto& loop : loops_) loop->RequestStop();
    for (auto& loop : loops_) loop->Join();
    loops_.clear();
  }

  ServerContext context_;
  std::vector<std::unique_ptr<EventLoop>> loops_;
  int port_ = 0;
  std::mutex stop_mutex_;
  bool stopped_ = false;
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

int HttpServer::port() const { return impl_->port_; }

bool HttpServer::tls() const { return impl_->context_.tls_enabled; }

Status HttpServer::ReloadTls() {
  ServerContext& context = impl_->context_;
  if (!context.tls_enabled) {
    return Status::InvalidArgument("the server does not use TLS");
  }
  EDDY_ASSIGN_OR_RETURN(std::shared_ptr<TlsContext> tls,
                        TlsContext::Load(context.options.tls_cert_file,
                                         context.options.tls_key_file));
  context.logger->info("TLS certificate reloaded: {}", tls->description());
  context.SetTls(std::move(tls));
  return Status::OK();
}

void HttpServer::Stop() { impl_->Stop(); }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options,
                                                      HttpHandler handler) {
  if (!handler) return Status::InvalidArgument("HttpServer needs a handler");
  if (options.port < 0 || options.port > 65535) {
    return Status::InvalidArgument("port out of range: " +
                                   std::to_string(options.port));
  }
  if (options.threads < 0 || options.max_body_bytes == 0 ||
      options.max_header_bytes == 0 || options.max_connections <= 0 ||
      options.max_inflight_requests < 0) {
    return Status::InvalidArgument("invalid HttpServerOptions");
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return Status::InvalidArgument(
        "TLS needs both a certificate and a private key file");
  }
  EDDY_ASSIGN_OR_RETURN(sockaddr_storage addr,
                        ResolveHost(options.host, options.port));
  int threads = options.threads;
  if (threads == 0) threads = DefaultLoopThreads(ProbeCpus(CpuProbe::System()));

  auto impl = std::make_unique<Impl>();
  impl->context_.logger =
      options.logger != nullptr
          ? options.logger
          : std::make_shared<spdlog::logger>(
                "http", std::make_shared<spdlog::sinks::null_sink_mt>());
  impl->context_.handler = std::move(handler);
  impl->context_.options = std::move(options);
  const std::string& host = impl->context_.options.host;
  if (!impl->context_.options.tls_cert_file.empty()) {
    EDDY_ASSIGN_OR_RETURN(
        std::shared_ptr<TlsContext> tls,
        TlsContext::Load(impl->context_.options.tls_cert_file,
                         impl->context_.options.tls_key_file));
    impl->context_.logger->info("TLS certificate: {}", tls->description());
    impl->context_.SetTls(std::move(tls));
    impl->context_.tls_enabled = true;
  }

  EDDY_ASSIGN_OR_RETURN(impl->port_, ProbePort(addr, host));
  SetPort(&addr, impl->port_);
  for (int i = 0; i < threads; ++i) {
    // On failure, ~Impl closes the loops initialised so far.
    EDDY_ASSIGN_OR_RETURN(int fd, BindSocket(addr, /*reuse_port=*/true,
                                             Describe(host, impl->port_)));
    impl->loops_.push_back(std::make_unique<EventLoop>(&impl->context_, i));
    EDDY_RETURN_IF_ERROR(impl->loops_.back()->Init(fd));
  }
  std::promise<void> go;
  const std::shared_future<void> started = go.get_future().share();
  for (auto& loop : impl->loops_) loop->StartThread(started);
  go.set_value();
  impl->context_.logger->info("{} server listening on {} ({} threads)",
                              impl->context_.tls_enabled ? "HTTPS" : "HTTP",
                              Describe(host, impl->port_), threads);
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

}  // namespace eddy::runtime
