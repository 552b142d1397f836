// HttpServer: the HTTP/1.1 transport of the Eddy server, on libuv.
//
// N event-loop threads each own a uv_loop_t and a listening socket bound to
// the same address with SO_REUSEPORT, so the kernel spreads connections over
// the loops. A connection lives on one loop for its whole life; its requests
// are parsed incrementally (http-parser) and handed to the HttpHandler inline
// on that loop's thread, one at a time and in arrival order.
//
// Supported: keep-alive (HTTP/1.1 by default, HTTP/1.0 on request), pipelined
// requests (answered in order), Content-Length and chunked request bodies,
// `Expect: 100-continue`. Limits: a body over max_body_bytes gets 413 as soon
// as the excess is known (from Content-Length, before the body is read);
// headers over max_header_bytes get 431; malformed HTTP gets 400; a request
// not completed within request_timeout_ms gets 408. Each of these closes the
// connection. Idle connections close after idle_timeout_ms.
//
// Overload: each loop serves at most max_inflight_requests of the requests
// that arrive together (in one turn of its event loop); requests beyond
// that would wait behind them, so they are answered at once by
// overload_handler (503) without running the handler, and the connection
// stays open for the retry. A connection beyond max_connections gets the
// overload_handler's answer too (plain HTTP only) and is then closed; past
// a reserve of such refusals in progress, and on HTTPS, it is closed at
// once. Both are logged at most once every 10 s per loop, with counts.
//
// HTTPS: with a certificate and key (HttpServerOptions::tls_cert_file and
// tls_key_file) the port speaks TLS only (tls_context.h says which
// versions and suites), with everything above unchanged inside it. The
// request timeout also bounds the handshake. A connection whose first byte
// is not a TLS handshake record (plain HTTP sent to the HTTPS port) gets a
// plaintext 400 "The plain HTTP request was sent to HTTPS port" and is
// closed; a failed handshake gets OpenSSL's alert (e.g. protocol_version
// for TLS 1.1) and is closed. ReloadTls() swaps the certificate for new
// connections.
//
// Every response carries Content-Length, Connection (keep-alive or close) and
// Date, plus the handler's headers. Anything protocol-specific (x-amz-crc32,
// x-amzn-RequestId, Content-Type) is the handler's business.
//
// Thread-safety: Start(), port(), ReloadTls() and Stop() may be called from
// any thread, but Stop() and the destructor must not be called from inside a
// handler (they join the loop threads). The handler runs concurrently on
// several loop threads, so whatever it touches must be thread-safe. The
// process must ignore SIGPIPE (libuv writes without MSG_NOSIGNAL).
#ifndef EDDY_RUNTIME_HTTP_SERVER_H_
#define EDDY_RUNTIME_HTTP_SERVER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eddy/result.h"
#include "spdlog/logger.h"

namespace eddy::runtime {

// One parsed request. Valid only for the duration of the handler call: the
// transport reuses the object (and its buffers) for the next request.
struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // The request-target as sent: "/", "/healthz?x=1".
  // In arrival order, names lower-cased, values with surrounding whitespace
  // removed. Repeated headers appear repeatedly.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // De-chunked.
  int http_major = 1;
  int http_minor = 1;

  // Value of the first header named `lower_name` (which must be lower-case),
  // or "" when absent. The view points into `headers`.
  std::string_view Header(std::string_view lower_name) const;
};

// What the handler sends back. The transport adds Content-Length, Connection
// and Date, and ignores those three (and Transfer-Encoding) if the handler
// sets them, except that `Connection: close` is honoured: the connection is
// closed after this response.
struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// Called on a loop thread, synchronously, once per request; `response` starts
// as an empty 200. Should not throw; if it does, the client gets a 500 and
// the exception is logged.
using HttpHandler =
    std::function<void(const HttpRequest& request, HttpResponse* response)>;

struct HttpServerOptions {
  // A numeric IPv4 or IPv6 address, or "localhost".
  std::string host = "127.0.0.1";
  // 0 picks a free port; read it back with HttpServer::port().
  int port = 8000;
  // Event-loop threads; 0 means one per CPU the process may use, at most
  // 4 (resource_limits.h: the affinity mask and the cgroup CPU quota).
  int threads = 0;
  // DynamoDB's request limit is 16 MiB (413 above it).
  size_t max_body_bytes = 16 * 1024 * 1024;
  // Request line plus headers. http-parser has its own compiled-in ceiling
  // of 80 KiB, so larger values act as 80 KiB.
  size_t max_header_bytes = 64 * 1024;
  // A connection that receives nothing (and has no write progress) for this
  // long is closed. 0 disables.
  int idle_timeout_ms = 60'000;
  // A request must be complete (headers and body) this long after its first
  // byte, else 408 and close: bounds slow-drip clients. 0 disables.
  int request_timeout_ms = 60'000;
  // Connections beyond this (over all loops) are accepted, answered by
  // overload_handler with `Connection: close` and closed.
  int max_connections = 10'000;
  // Requests one loop takes on per turn; beyond that they are answered by
  // overload_handler at once. 0: no limit.
  int max_inflight_requests = 0;
  // Answers a request shed for overload, on the loop thread, instead of the
  // handler; `response` starts as an empty 503. For a connection refused at
  // max_connections the request is empty (method ""): it was not read. Must
  // be cheap and thread-safe, like the handler. Unset: a plain-text 503.
  HttpHandler overload_handler;
  // HTTPS: PEM files of the certificate (chain) and of its unencrypted
  // private key. Both or neither; empty: plain HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Optional; nothing is logged when null.
  std::shared_ptr<spdlog::logger> logger;
};

class HttpServer {
 public:
  // Binds, listens and starts the loop threads. Returns IOError when the
  // address cannot be bound (e.g. the port is in use) and InvalidArgument for
  // a bad host or options.
  // REQUIRES: handler is callable.
  static Result<std::unique_ptr<HttpServer>> Start(HttpServerOptions options,
                                                   HttpHandler handler);

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Stops the server if still running.
  ~HttpServer();

  // The bound port (the chosen one when options.port was 0).
  int port() const;

  // True when the server speaks HTTPS.
  bool tls() const;

  // Re-reads the certificate and key files named in the options; new
  // connections use them, open ones keep theirs. On error (a missing or bad
  // file, a key that does not match) the current certificate stays and the
  // Status says why. InvalidArgument if the server has no TLS.
  Status ReloadTls();

  // Stops accepting, closes every connection (dropping requests in flight
  // and unsent responses), and joins the loop threads. Idempotent.
  // REQUIRES: not called from a handler.
  void Stop();

 private:
  class Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace eddy::runtime

#endif  // EDDY_RUNTIME_HTTP_SERVER_H_
