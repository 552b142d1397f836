// HttpServer over real sockets on 127.0.0.1 (port 0), driven by a small
// blocking client, in plain HTTP and over TLS (a throwaway certificate made
// with the OpenSSL API). No sleeps: waits are blocking reads with a timeout.
#include "http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace eddy::runtime {
namespace {

MATCHER(IsOk, "is OK") {
  *result_listener << arg.ToString();
  return arg.ok();
}

constexpr int kClientTimeoutMs = 10'000;

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // Lower-cased names.
  std::string body;

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// OpenSSL's queued errors as one line (and the queue emptied).
std::string OpenSslErrors() {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof(text));
    out += out.empty() ? "" : "; ";
    out += text;
  }
  return out;
}

// How the test client speaks TLS.
struct TlsClientOptions {
  int min_version = TLS1_2_VERSION;
  int max_version = 0;      // 0: the highest the library has.
  std::string ciphers;      // TLS 1.2 cipher list; "": OpenSSL's default.
  int security_level = -1;  // -1: the system default.
  std::string ca_file;      // Verify the server against it ("": no check).
};

// A blocking HTTP/1.1 client that sends raw bytes and parses responses with
// Content-Length bodies (all this server sends), over plain TCP or, after
// StartTls(), over TLS.
class Client {
 public:
  explicit Client(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(fd_);
      fd_ = -1;
      return;
    }
    // Bounds the blocking TLS calls (handshake, record reads).
    timeval timeout{kClientTimeoutMs / 1000, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~Client() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
    if (fd_ >= 0) close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return fd_ >= 0; }

  // Runs a TLS handshake. Returns "" on success, else OpenSSL's errors.
  std::string StartTls(const TlsClientOptions& options) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (options.security_level >= 0) {
      SSL_CTX_set_security_level(ctx_, options.security_level);
    }
    SSL_CTX_set_min_proto_version(ctx_, options.min_version);
    SSL_CTX_set_max_proto_version(ctx_, options.max_version);
    if (!options.ciphers.empty() &&
        SSL_CTX_set_cipher_list(ctx_, options.ciphers.c_str()) != 1) {
      return "bad cipher list: " + OpenSslErrors();
    }
    if (!options.ca_file.empty()) {
      SSL_CTX_load_verify_locations(ctx_, options.ca_file.c_str(), nullptr);
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    }
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    if (!options.ca_file.empty()) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), "127.0.0.1");
    }
    ERR_clear_error();
    if (SSL_connect(ssl_) != 1) {
      std::string errors = OpenSslErrors();
      return errors.empty() ? "handshake failed (no alert; " +
                                  std::string(strerror(errno)) + ")"
                            : errors;
    }
    return "";
  }

  SSL* ssl() const { return ssl_; }

  // The serial number of the server's certificate (TLS only).
  long PeerSerial() const {
    X509* cert = SSL_get1_peer_certificate(ssl_);
    if (cert == nullptr) return -1;
    long serial = ASN1_INTEGER_get(X509_get0_serialNumber(cert));
    X509_free(cert);
    return serial;
  }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n;
      if (ssl_ != nullptr) {
        n = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
      } else {
        n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
      }
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  void ShutdownWrite() {
    if (ssl_ != nullptr) SSL_shutdown(ssl_);  // close_notify.
    shutdown(fd_, SHUT_WR);
  }

  // Reads one response (a 1xx counts as one); nullopt on EOF, reset,
  // timeout or a malformed response.
  std::optional<Response> Read() {
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return std::nullopt;
    }
    std::string head = buffer_.substr(0, end + 2);
    buffer_.erase(0, end + 4);
    Response response;
    if (head.compare(0, 9, "HTTP/1.1 ") != 0) return std::nullopt;
    response.status = std::stoi(head.substr(9, 3));
    size_t pos = head.find("\r\n") + 2;
    while (pos < head.size()) {
      size_t eol = head.find("\r\n", pos);
      std::string line = head.substr(pos, eol - pos);
      pos = eol + 2;
      size_t colon = line.find(':');
      if (colon == std::string::npos) return std::nullopt;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(tolower(c));
      size_t value = line.find_first_not_of(' ', colon + 1);
      response.headers[name] =
          value == std::string::npos ? "" : line.substr(value);
    }
    if (response.status < 200) return response;
    size_t length = std::stoul(response.Header("content-length"));
    if (response.Header("x-head") == "1") length = 0;  // HEAD: no body.
    while (buffer_.size() < length) {
      if (!Fill()) return std::nullopt;
    }
    response.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return response;
  }

  // True if the server closes the connection (EOF or reset) before the
  // timeout; any bytes received meanwhile are discarded.
  bool WaitForClose(int timeout_ms = kClientTimeoutMs) {
    buffer_.clear();
    while (true) {
      if (ssl_ == nullptr || SSL_pending(ssl_) == 0) {
        pollfd pfd{fd_, POLLIN, 0};
        if (poll(&pfd, 1, timeout_ms) <= 0) return false;
      }
      char chunk[4096];
      if (Receive(chunk, sizeof(chunk)) <= 0) return true;
    }
  }

 private:
  ssize_t Receive(char* buffer, size_t size) {
    if (ssl_ == nullptr) return recv(fd_, buffer, size, 0);
    return SSL_read(ssl_, buffer, static_cast<int>(size));
  }

  bool Fill() {
    if (ssl_ == nullptr || SSL_pending(ssl_) == 0) {
      pollfd pfd{fd_, POLLIN, 0};
      if (poll(&pfd, 1, kClientTimeoutMs) <= 0) return false;
    }
    char chunk[64 * 1024];
    ssize_t n = Receive(chunk, sizeof(chunk));
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string buffer_;
};

std::string Post(std::string_view target, std::string_view body,
                 std::string_view extra_headers = "") {
  return "POST " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" +
         std::string(extra_headers) +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         std::string(body);
}

std::string Get(std::string_view target, std::string_view extra_headers = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" +
         std::string(extra_headers) + "\r\n";
}

class HttpServerTest : public ::testing::Test {
 protected:
  // As in the eddy binary: writes to a socket the peer closed (a TLS
  // session ticket after a client hung up, say) must fail with EPIPE, not
  // kill the process.
  HttpServerTest() { std::signal(SIGPIPE, SIG_IGN); }
  ~HttpServerTest() override {
    if (server_ != nullptr) server_->Stop();
  }

  static HttpServerOptions DefaultOptions() {
    HttpServerOptions options;
    options.port = 0;
    options.threads = 2;
    return options;
  }

  void StartServer(HttpServerOptions options = DefaultOptions()) {
    auto server = HttpServer::Start(
        std::move(options),
        [this](const HttpRequest& request, HttpResponse* response) {
          Handle(request, response);
        });
    ASSERT_THAT(server.status(), IsOk());
    server_ = std::move(*server);
    ASSERT_GT(server_->port(), 0);
  }

  std::unique_ptr<Client> Connect() {
    auto client = std::make_unique<Client>(server_->port());
    EXPECT_TRUE(client->connected());
    return client;
  }

  // Sends `request` on a fresh connection and returns the response.
  std::optional<Response> RoundTrip(const std::string& request) {
    auto client = Connect();
    if (!client->Send(request)) return std::nullopt;
    return client->Read();
  }

  // Echoes the request: body, method and target in headers. Special
  // targets: /throw throws, /big?n=N answers N bytes, /close asks to close.
  void Handle(const HttpRequest& request, HttpResponse* response) {
    requests_.fetch_add(1);
    if (request.target == "/throw") throw std::runtime_error("boom");
    response->headers.emplace_back("X-Method", request.method);
    response->headers.emplace_back("X-Target", request.target);
    response->headers.emplace_back("X-Seq",
                                   std::string(request.Header("x-seq")));
    if (request.method == "HEAD") response->headers.emplace_back("X-Head", "1");
    if (request.target.rfind("/big?n=", 0) == 0) {
      response->body.assign(std::stoul(request.target.substr(7)), 'b');
      return;
    }
    if (request.target == "/close") {
      response->headers.emplace_back("Connection", "close");
    }
    response->body = request.body;
  }

  std::unique_ptr<HttpServer> server_;
  std::atomic<int> requests_{0};
};

// The basic contract: the handler sees method, target, lower-cased headers
// and body, and the response carries its headers plus the transport's.
TEST_F(HttpServerTest, SimpleRequestGetsHandlerResponse) {
  StartServer();
  auto response = RoundTrip(Post("/path?q=1", "hello", "X-Seq: 7\r\n"));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello");
  EXPECT_EQ(response->Header("x-method"), "POST");
  EXPECT_EQ(response->Header("x-target"), "/path?q=1");
  EXPECT_EQ(response->Header("x-seq"), "7");
  EXPECT_EQ(response->Header("content-length"), "5");
  EXPECT_EQ(response->Header("connection"), "keep-alive");
  EXPECT_FALSE(response->Header("date").empty());
}

// SDKs reuse connections; several requests on one socket must all work.
TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  StartServer();
  auto client = Connect();
  for (int i = 0; i < 5; ++i) {
    std::string body = "request " + std::to_string(i);
    ASSERT_TRUE(client->Send(Post("/", body)));
    auto response = client->Read();
    ASSERT_TRUE(response.has_value()) << i;
    EXPECT_EQ(response->body, body);
  }
  EXPECT_EQ(requests_.load(), 5);
}

// Pipelined requests in one write are answered in order.
TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  auto client = Connect();
  std::string batch;
  for (int i = 0; i < 20; ++i) batch += Post("/", "body-" + std::to_string(i));
  ASSERT_TRUE(client->Send(batch));
  for (int i = 0; i < 20; ++i) {
    auto response = client->Read();
    ASSERT_TRUE(response.has_value()) << i;
    EXPECT_EQ(response->body, "body-" + std::to_string(i));
  }
}

// A client that pipelines more than the server buffers for output, without
// reading, is throttled (reading pauses) rather than answered out of order,
// dropped, or buffered without bound.
TEST_F(HttpServerTest, PipelinedRequestsBeyondOutputBufferAreAllAnswered) {
  StartServer();
  auto client = Connect();
  constexpr int kRequests = 200;
  constexpr size_t kSize = 100'000;  // 20 MB of responses in total.
  std::thread sender([&] {
    std::string batch;
    for (int i = 0; i < kRequests; ++i) {
      batch += Get("/big?n=" + std::to_string(kSize),
                   "X-Seq: " + std::to_string(i) + "\r\n");
    }
    EXPECT_TRUE(client->Send(batch));
  });
  for (int i = 0; i < kRequests; ++i) {
    auto response = client->Read();
    ASSERT_TRUE(response.has_value()) << i;
    EXPECT_EQ(response->Header("x-seq"), std::to_string(i));
    EXPECT_EQ(response->body.size(), kSize);
  }
  sender.join();
}

// A large response needs several writes (partial writes, uv_write queue).
TEST_F(HttpServerTest, LargeResponseArrivesWhole) {
  StartServer();
  auto response = RoundTrip(Get("/big?n=8000000"));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body, std::string(8'000'000, 'b'));
}

// Chunked request bodies are reassembled; chunk boundaries are invisible.
TEST_F(HttpServerTest, ChunkedBodyIsReassembled) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client->Send(
      "POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n"
      "7\r\n, world\r\n"));
  ASSERT_TRUE(client->Send("0\r\n\r\n"));
  auto response = client->Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body, "hello, world");
  // The connection stays usable after a chunked request.
  ASSERT_TRUE(client->Send(Post("/", "next")));
  response = client->Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body, "next");
}

// botocore/the AWS CLI may send `Expect: 100-continue` and wait for the
// interim response before sending the body.
TEST_F(HttpServerTest, ExpectContinueGets100BeforeBody) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(
      client->Send("POST / HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\n"
                   "Content-Length: 4\r\n\r\n"));
  auto interim = client->Read();
  ASSERT_TRUE(interim.has_value());
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(client->Send("data"));
  auto response = client->Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "data");
}

// An Upgrade request (not supported) is still answered before the
// connection closes, also when its body arrives in a later read than its
// headers (the 100 Continue proves the headers were read alone).
TEST_F(HttpServerTest, UpgradeRequestWithLateBodyIsAnswered) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(
      client->Send("POST / HTTP/1.1\r\nHost: test\r\nConnection: Upgrade\r\n"
                   "Upgrade: websocket\r\nExpect: 100-continue\r\n"
                   "Content-Length: 4\r\n\r\n"));
  auto interim = client->Read();
  ASSERT_TRUE(interim.has_value());
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(client->Send("data"));
  auto response = client->Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "data");
  EXPECT_EQ(response->Header("connection"), "close");
  EXPECT_TRUE(client->WaitForClose());
}

// An oversized body announced with Expect gets the final 413 instead of
// 100, so the client never sends it.
TEST_F(HttpServerTest, ExpectContinueWithOversizedBodyGets413) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(
      client->Send("POST / HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\n"
                   "Content-Length: 17825792\r\n\r\n"));
  auto response = client->Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 413);
}

// DynamoDB rejects bodies over 16 MiB with 413. The server answers from the
// Content-Length alone (the client here never sends the 17 MB), closes that
// connection, and keeps serving others.
TEST_F(HttpServerTest, OversizedContentLengthGets413WithoutReadingBody) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client->Send(
      "POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 17825792\r\n\r\n" +
      std::string(64 * 1024, 'x')));
  auto response = client->Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(response->Header("connection"), "close");
  EXPECT_TRUE(client->WaitForClose());
  EXPECT_EQ(requests_.load(), 0);

  auto next = RoundTrip(Post("/", "still here"));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->body, "still here");
}

// Chunked bodies have no Content-Length: the limit applies as they
// accumulate.
TEST_F(HttpServerTest, OversizedChunkedBodyGets413) {
  HttpServerOptions options = DefaultOptions();
  options.max_body_bytes = 1000;
  StartServer(options);
  auto client = Connect();
  std::string chunk(600, 'c');
  ASSERT_TRUE(client->Send(
      "POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
      "258\r\n" +
      chunk + "\r\n258\r\n" + chunk + "\r\n"));
  auto response = client->Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 413);
  EXPECT_TRUE(client->WaitForClose());
  EXPECT_EQ(requests_.load(), 0);
}

// A body of exactly max_body_bytes is allowed; the limit is "more than".
TEST_F(HttpServerTest, BodyAtLimitIsAccepted) {
  HttpServerOptions options = DefaultOptions();
  options.max_body_bytes = 1000;
  StartServer(options);
  auto response = RoundTrip(Post("/", std::string(1000, 'a')));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body.size(), 1000u);
}

// Headers past max_header_bytes are refused before they are buffered.
TEST_F(HttpServerTest, OversizedHeadersGet431) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client->Send(
      "GET / HTTP/1.1\r\nX-Big: " + std::string(70 * 1024, 'h') + "\r\n\r\n"));
  auto response = client->Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 431);
  EXPECT_TRUE(client->WaitForClose());
}

// Malformed HTTP gets 400 and a close; the server survives and serves on.
TEST_F(HttpServerTest, GarbageBytesGet400AndServerKeepsServing) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client->Send(std::string("\x16\x03\x01\x00garbage\r\n\r\n", 15)));
  auto response = client->Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 400);
  EXPECT_EQ(response->Header("connection"), "close");
  EXPECT_TRUE(client->WaitForClose());

  auto next = RoundTrip(Post("/", "ok"));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->body, "ok");
}

// Random bytes, and random corruptions of a valid request, never crash the
// server or leave it unable to serve (a fuzzing smoke test).
TEST_F(HttpServerTest, RandomInputNeverBreaksServer) {
  StartServer();
  std::mt19937 rng(42);
  std::string valid = Post("/", "{\"TableName\":\"t\"}",
                           "X-Amz-Target: DynamoDB_20120810.GetItem\r\n");
  for (int i = 0; i < 200; ++i) {
    std::string input;
    if (i % 2 == 0) {
      input.resize(rng() % 512);
      for (char& c : input) c = static_cast<char>(rng());
    } else {
      input = valid;
      for (int flips = 0; flips < 3; ++flips) {
        input[rng() % input.size()] = static_cast<char>(rng());
      }
    }
    auto client = Connect();
    client->Send(input);
    client->ShutdownWrite();  // A partial request then ends at EOF.
    ASSERT_TRUE(client->WaitForClose()) << i;
  }
  auto response = RoundTrip(Post("/", "alive"));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body, "alive");
}

// HTTP/1.0 without keep-alive: answer, then close.
TEST_F(HttpServerTest, Http10ClosesAfterResponse) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client->Send("GET /x HTTP/1.0\r\n\r\n"));
  auto response = client->Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("connection"), "close");
  EXPECT_TRUE(client->WaitForClose());
}

// HTTP/1.0 clients that ask for keep-alive keep the connection.
TEST_F(HttpServerTest, Http10KeepAliveKeepsConnection) {
  StartServer();
  auto client = Connect();
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(
        client->Send("GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    auto response = client->Read();
    ASSERT_TRUE(response.has_value()) << i;
    EXPECT_EQ(response->Header("connection"), "keep-alive");
  }
}

// `Connection: close` from the client, or set by the handler, ends the
// connection after that response.
TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client->Send(Get("/", "Connection: close\r\n")));
  auto response = client->Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->Header("connection"), "close");
  EXPECT_TRUE(client->WaitForClose());

  client = Connect();
  ASSERT_TRUE(client->Send(Get("/close")));
  response = client->Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->Header("connection"), "close");
  EXPECT_TRUE(client->WaitForClose());
}

// A client that half-closes after sending still gets its responses.
TEST_F(HttpServerTest, HalfClosedClientStillGetsResponses) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client->Send(Post("/", "one") + Post("/", "two")));
  client->ShutdownWrite();
  auto first = client->Read();
  auto second = client->Read();
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(first->body, "one");
  EXPECT_EQ(second->body, "two");
  EXPECT_TRUE(client->WaitForClose());
}

// HEAD responses carry Content-Length but no body.
TEST_F(HttpServerTest, HeadResponseHasNoBody) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client->Send("HEAD /big?n=10 HTTP/1.1\r\nHost: t\r\n\r\n" +
                           Post("/", "after")));
  auto head = client->Read();
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->Header("content-length"), "10");
  auto next = client->Read();  // Would be garbled if a body had been sent.
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->body, "after");
}

// Many simultaneous connections, spread over the loops, are all served.
TEST_F(HttpServerTest, ManyConcurrentConnectionsAreServed) {
  HttpServerOptions options = DefaultOptions();
  options.threads = 4;
  StartServer(options);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 200; ++i) clients.push_back(Connect());
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(clients[i]->Send(Post("/", "c" + std::to_string(i))));
  }
  for (int i = 0; i < 200; ++i) {
    auto response = clients[i]->Read();
    ASSERT_TRUE(response.has_value()) << i;
    EXPECT_EQ(response->body, "c" + std::to_string(i));
  }
  EXPECT_EQ(requests_.load(), 200);
}

// A handler exception becomes a 500; the connection stays usable.
TEST_F(HttpServerTest, ThrowingHandlerGets500) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client->Send(Post("/throw", "x")));
  auto response = client->Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 500);
  ASSERT_TRUE(client->Send(Post("/", "after")));
  response = client->Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body, "after");
}

// Stop() does not wait for clients: idle, mid-request and active
// connections are all closed and the call returns promptly.
TEST_F(HttpServerTest, StopWithOpenConnectionsReturnsPromptly) {
  StartServer();
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 20; ++i) {
    clients.push_back(Connect());
    if (i % 2 == 0) {
      ASSERT_TRUE(clients.back()->Send(Post("/", "x")));
      ASSERT_TRUE(clients.back()->Read().has_value());
    } else {
      ASSERT_TRUE(clients.back()->Send("POST / HTTP/1.1\r\nContent-Len"));
    }
  }
  auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  for (auto& client : clients) EXPECT_TRUE(client->WaitForClose());
  server_->Stop();  // Idempotent.
}

// Port 0 picks a free port; a second server cannot silently share it
// (SO_REUSEPORT must not hide "address in use").
TEST_F(HttpServerTest, SecondServerOnSamePortFails) {
  StartServer();
  HttpServerOptions options = DefaultOptions();
  options.port = server_->port();
  auto second =
      HttpServer::Start(options, [](const HttpRequest&, HttpResponse*) {});
  EXPECT_TRUE(second.status().IsIOError()) << second.status().ToString();
}

// Idle keep-alive connections are closed after idle_timeout_ms.
TEST_F(HttpServerTest, IdleConnectionIsClosed) {
  HttpServerOptions options = DefaultOptions();
  options.idle_timeout_ms = 50;
  StartServer(options);
  auto client = Connect();
  ASSERT_TRUE(client->Send(Post("/", "x")));
  ASSERT_TRUE(client->Read().has_value());
  EXPECT_TRUE(client->WaitForClose(5000));
}

// A request that trickles in slower than request_timeout_ms gets 408.
TEST_F(HttpServerTest, SlowRequestGets408) {
  HttpServerOptions options = DefaultOptions();
  options.request_timeout_ms = 50;
  StartServer(options);
  auto client = Connect();
  ASSERT_TRUE(client->Send("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"));
  auto response = client->Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 408);
  EXPECT_TRUE(client->WaitForClose());
}

// Connections beyond max_connections get the overload answer (a 503 the
// SDKs retry) with `Connection: close`, then are closed; the ones already
// open keep working.
TEST_F(HttpServerTest, ConnectionsBeyondLimitAreRefused) {
  HttpServerOptions options = DefaultOptions();
  options.max_connections = 2;
  StartServer(options);
  auto first = Connect();
  auto second = Connect();
  ASSERT_TRUE(first->Send(Post("/", "1")));
  ASSERT_TRUE(first->Read().has_value());
  ASSERT_TRUE(second->Send(Post("/", "2")));
  ASSERT_TRUE(second->Read().has_value());
  auto third = Connect();
  third->Send(Post("/", "3"));
  auto refused = third->Read();
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->Header("connection"), "close");
  EXPECT_TRUE(third->WaitForClose());
  EXPECT_EQ(requests_.load(), 2);
  ASSERT_TRUE(first->Send(Post("/", "again")));
  auto response = first->Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body, "again");
}

// Requests arriving together beyond max_inflight_requests are shed: answered
// 503 at once without running the handler, on a connection that stays open
// for the retry. Five pipelined requests in one write arrive in one read,
// so in one turn of the loop.
TEST_F(HttpServerTest, RequestsBeyondInflightLimitAreShed) {
  HttpServerOptions options = DefaultOptions();
  options.threads = 1;
  options.max_inflight_requests = 2;
  StartServer(options);
  auto client = Connect();
  std::string burst;
  for (int i = 0; i < 5; ++i) {
    burst += Post("/", "r" + std::to_string(i),
                  "X-Seq: " + std::to_string(i) + "\r\n");
  }
  ASSERT_TRUE(client->Send(burst));
  std::vector<int> statuses;
  for (int i = 0; i < 5; ++i) {
    auto response = client->Read();
    ASSERT_TRUE(response.has_value()) << i;
    statuses.push_back(response->status);
    if (response->status == 200) {
      EXPECT_EQ(response->Header("x-seq"), std::to_string(i));
    } else {
      EXPECT_EQ(response->Header("connection"), "keep-alive");
    }
  }
  EXPECT_EQ(statuses, (std::vector<int>{200, 200, 503, 503, 503}));
  EXPECT_EQ(requests_.load(), 2);
  // The next turn takes requests again, on the same connection.
  ASSERT_TRUE(client->Send(Post("/", "retry")));
  auto retried = client->Read();
  ASSERT_TRUE(retried.has_value());
  EXPECT_EQ(retried->status, 200);
  EXPECT_EQ(retried->body, "retry");
}

// The overload_handler shapes the answer to shed requests (Eddy's is a
// DynamoDB ThrottlingException) and to refused connections (no request).
TEST_F(HttpServerTest, OverloadHandlerShapesTheAnswer) {
  HttpServerOptions options = DefaultOptions();
  options.threads = 1;
  options.max_inflight_requests = 1;
  options.max_connections = 1;
  std::atomic<int> shed_with_target{0};
  options.overload_handler = [&shed_with_target](const HttpRequest& request,
                                                 HttpResponse* response) {
    EXPECT_EQ(response->status, 503);
    if (!request.method.empty()) shed_with_target.fetch_add(1);
    response->headers.emplace_back(
        "X-Overload", request.method.empty() ? "connection" : request.target);
    response->body = "slow down";
  };
  StartServer(options);
  auto client = Connect();
  ASSERT_TRUE(client->Send(Post("/a", "1") + Post("/b", "2")));
  auto served = client->Read();
  ASSERT_TRUE(served.has_value());
  EXPECT_EQ(served->status, 200);
  auto shed = client->Read();
  ASSERT_TRUE(shed.has_value());
  EXPECT_EQ(shed->status, 503);
  EXPECT_EQ(shed->Header("x-overload"), "/b");
  EXPECT_EQ(shed->body, "slow down");
  EXPECT_EQ(shed_with_target.load(), 1);

  auto second = Connect();
  auto refused = second->Read();
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->Header("x-overload"), "connection");
  EXPECT_TRUE(second->WaitForClose());
}

// Options that cannot work are rejected up front, not at the first request.
TEST_F(HttpServerTest, InvalidOptionsAreRejected) {
  auto noop = [](const HttpRequest&, HttpResponse*) {};
  HttpServerOptions bad_host = DefaultOptions();
  bad_host.host = "not-an-address";
  EXPECT_TRUE(HttpServer::Start(bad_host, noop).status().IsInvalidArgument());
  HttpServerOptions bad_port = DefaultOptions();
  bad_port.port = 70000;
  EXPECT_TRUE(HttpServer::Start(bad_port, noop).status().IsInvalidArgument());
  HttpServerOptions bad_inflight = DefaultOptions();
  bad_inflight.max_inflight_requests = -1;
  EXPECT_TRUE(
      HttpServer::Start(bad_inflight, noop).status().IsInvalidArgument());
  EXPECT_TRUE(HttpServer::Start(DefaultOptions(), nullptr)
                  .status()
                  .IsInvalidArgument());
}

// ---------------------------------------------------------------------------
// HTTPS.

// Writes a fresh RSA key and a self-signed certificate for 127.0.0.1 (CN
// and IP SAN) with serial `serial` to <dir>/<name>.key and <name>.pem.
struct TestCertificate {
  std::string cert_file;
  std::string key_file;
  long serial = 0;
};

TestCertificate MakeCertificate(const std::string& dir, const std::string& name,
                                long serial) {
  TestCertificate out{dir + "/" + name + ".pem", dir + "/" + name + ".key",
                      serial};
  EVP_PKEY* key = EVP_RSA_gen(2048);
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* subject = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(
      subject, "CN", MBSTRING_ASC,
      reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(cert, subject);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* san =
      X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, "IP:127.0.0.1");
  X509_add_ext(cert, san, -1);
  X509_EXTENSION_free(san);
  X509_sign(cert, key, EVP_sha256());
  FILE* f = fopen(out.cert_file.c_str(), "w");
  PEM_write_X509(f, cert);
  fclose(f);
  f = fopen(out.key_file.c_str(), "w");
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  fclose(f);
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

class HttpServerTlsTest : public HttpServerTest {
 protected:
  // Two certificates for the whole suite: RSA key generation is slow.
  static void SetUpTestSuite() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "eddy-tls-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
    first_ = MakeCertificate(dir_, "first", 1001);
    second_ = MakeCertificate(dir_, "second", 2002);
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  static HttpServerOptions TlsOptions(const TestCertificate& cert = first_) {
    HttpServerOptions options = DefaultOptions();
    options.tls_cert_file = cert.cert_file;
    options.tls_key_file = cert.key_file;
    return options;
  }

  // A TLS connection (verified against `ca`), or a failed assertion.
  std::unique_ptr<Client> ConnectTls(TlsClientOptions options = {},
                                     const TestCertificate& ca = first_) {
    auto client = Connect();
    options.ca_file = ca.cert_file;
    std::string error = client->StartTls(options);
    EXPECT_EQ(error, "");
    return client;
  }

  // Copies `from` over the files the server was started with.
  static void Replace(const TestCertificate& target,
                      const TestCertificate& from) {
    std::filesystem::copy_file(
        from.cert_file, target.cert_file,
        std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(
        from.key_file, target.key_file,
        std::filesystem::copy_options::overwrite_existing);
  }

  static inline std::string dir_;
  static inline TestCertificate first_;
  static inline TestCertificate second_;
};

// TLS 1.2 and 1.3 both negotiate (pinned on the client, as Alternator's
// test_https.py does); TLS 1.2 lands on a forward-secret AEAD suite.
TEST_F(HttpServerTlsTest, Tls12AndTls13BothWork) {
  StartServer(TlsOptions());
  EXPECT_TRUE(server_->tls());
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    TlsClientOptions options;
    options.min_version = options.max_version = version;
    auto client = ConnectTls(options);
    ASSERT_NE(client->ssl(), nullptr);
    EXPECT_EQ(SSL_version(client->ssl()), version);
    const std::string cipher = SSL_get_cipher_name(client->ssl());
    if (version == TLS1_2_VERSION) {
      EXPECT_THAT(cipher, ::testing::StartsWith("ECDHE-"));
      EXPECT_THAT(cipher, ::testing::AnyOf(::testing::HasSubstr("GCM"),
                                           ::testing::HasSubstr("CHACHA20")));
    }
    ASSERT_TRUE(client->Send(Post("/", "over tls " + cipher)));
    auto response = client->Read();
    ASSERT_TRUE(response.has_value()) << cipher;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "over tls " + cipher);
    EXPECT_EQ(client->PeerSerial(), first_.serial);
  }
}

// TLS 1.2 suites without forward secrecy (RSA key exchange) or without
// AEAD (CBC) are refused.
TEST_F(HttpServerTlsTest, WeakTls12SuitesAreRefused) {
  StartServer(TlsOptions());
  for (const char* cipher : {"AES128-GCM-SHA256", "ECDHE-RSA-AES128-SHA",
                             "ECDHE-RSA-AES256-SHA384"}) {
    auto client = Connect();
    TlsClientOptions options;
    options.max_version = TLS1_2_VERSION;
    options.ciphers = cipher;
    EXPECT_THAT(client->StartTls(options),
                ::testing::HasSubstr("handshake failure"))
        << cipher;
  }
  auto response = RoundTrip(Post("/", "x"));  // Plain: refused, see below.
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 400);
}

// A TLS 1.1 client gets a protocol_version alert, not a reset: it can tell
// the user why.
TEST_F(HttpServerTlsTest, Tls11ClientGetsProtocolVersionAlert) {
  StartServer(TlsOptions());
  auto client = Connect();
  TlsClientOptions options;
  options.min_version = options.max_version = TLS1_1_VERSION;
  options.security_level = 0;  // Else OpenSSL 3 will not offer TLS 1.1.
  options.ciphers = "DEFAULT:@SECLEVEL=0";
  EXPECT_THAT(client->StartTls(options),
              ::testing::HasSubstr("tlsv1 alert protocol version"));
  EXPECT_TRUE(client->WaitForClose());
}

// Plain HTTP sent to the HTTPS port gets a readable 400 and a close; the
// server goes on serving TLS.
TEST_F(HttpServerTlsTest, PlainHttpToTlsPortGets400) {
  StartServer(TlsOptions());
  auto client = Connect();
  ASSERT_TRUE(client->Send(Post("/", "plain")));
  auto response = client->Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 400);
  EXPECT_EQ(response->body, "The plain HTTP request was sent to HTTPS port");
  EXPECT_EQ(response->Header("connection"), "close");
  EXPECT_TRUE(client->WaitForClose());
  EXPECT_EQ(requests_.load(), 0);

  auto tls = ConnectTls();
  ASSERT_TRUE(tls->Send(Post("/", "still here")));
  auto next = tls->Read();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->body, "still here");
}

// Keep-alive and pipelining work inside TLS: pipelined requests in one
// record, and in one record each, are answered in order.
TEST_F(HttpServerTlsTest, PipelinedRequestsOverTlsAreAnsweredInOrder) {
  StartServer(TlsOptions());
  auto client = ConnectTls();
  std::string batch;
  for (int i = 0; i < 20; ++i) batch += Post("/", "body-" + std::to_string(i));
  ASSERT_TRUE(client->Send(batch));
  for (int i = 20; i < 40; ++i) {
    ASSERT_TRUE(client->Send(Post("/", "body-" + std::to_string(i))));
  }
  for (int i = 0; i < 40; ++i) {
    auto response = client->Read();
    ASSERT_TRUE(response.has_value()) << i;
    EXPECT_EQ(response->body, "body-" + std::to_string(i));
    EXPECT_EQ(response->Header("connection"), "keep-alive");
  }
  EXPECT_EQ(requests_.load(), 40);
}

// Backpressure over TLS: a client pipelining 20 MB of responses without
// reading is throttled; requests held back inside undecrypted records (one
// record per request here) are all answered, in order, once it reads. (One
// thread: an SSL object must not be read and written concurrently. The
// 200 requests, ~20 KB, fit in the socket buffers.)
TEST_F(HttpServerTlsTest, PipelinedRequestsBeyondOutputBufferOverTls) {
  StartServer(TlsOptions());
  auto client = ConnectTls();
  constexpr int kRequests = 200;
  constexpr size_t kSize = 100'000;
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_TRUE(client->Send(Get("/big?n=" + std::to_string(kSize),
                                 "X-Seq: " + std::to_string(i) + "\r\n")));
  }
  for (int i = 0; i < kRequests; ++i) {
    auto response = client->Read();
    ASSERT_TRUE(response.has_value()) << i;
    EXPECT_EQ(response->Header("x-seq"), std::to_string(i));
    EXPECT_EQ(response->body.size(), kSize);
  }
}

// A large response is encrypted in pieces and arrives whole.
TEST_F(HttpServerTlsTest, LargeResponseOverTlsArrivesWhole) {
  StartServer(TlsOptions());
  auto client = ConnectTls();
  ASSERT_TRUE(client->Send(Get("/big?n=8000000")));
  auto response = client->Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body, std::string(8'000'000, 'b'));
}

// The transport's limits hold inside TLS: 413 from the Content-Length, 431
// for oversized headers, each followed by a close.
TEST_F(HttpServerTlsTest, LimitsApplyOverTls) {
  StartServer(TlsOptions());
  auto client = ConnectTls();
  ASSERT_TRUE(client->Send(
      "POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 17825792\r\n\r\n"));
  auto response = client->Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 413);
  EXPECT_TRUE(client->WaitForClose());

  client = ConnectTls();
  ASSERT_TRUE(client->Send(
      "GET / HTTP/1.1\r\nX-Big: " + std::string(70 * 1024, 'h') + "\r\n\r\n"));
  response = client->Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 431);
  EXPECT_TRUE(client->WaitForClose());
  EXPECT_EQ(requests_.load(), 0);
}

// A request that trickles in inside TLS gets its 408 over TLS.
TEST_F(HttpServerTlsTest, SlowRequestOverTlsGets408) {
  HttpServerOptions options = TlsOptions();
  options.request_timeout_ms = 200;
  StartServer(options);
  auto client = ConnectTls();
  ASSERT_TRUE(client->Send("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"));
  auto response = client->Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 408);
  EXPECT_TRUE(client->WaitForClose());
}

// A client that stops mid-handshake (or never starts) is cut off by the
// request timeout, even though the idle timeout is long.
TEST_F(HttpServerTlsTest, StalledHandshakeIsClosedByRequestTimeout) {
  HttpServerOptions options = TlsOptions();
  options.request_timeout_ms = 50;
  options.idle_timeout_ms = 60'000;
  StartServer(options);
  auto truncated = Connect();
  // The first bytes of a ClientHello record, and nothing more.
  ASSERT_TRUE(truncated->Send(std::string("\x16\x03\x01\x02\x00\x01", 6)));
  auto silent = Connect();
  EXPECT_TRUE(truncated->WaitForClose(5000));
  EXPECT_TRUE(silent->WaitForClose(5000));
}

// Random bytes, TLS-looking garbage and truncated handshakes never crash
// the server or keep it from serving (a fuzzing smoke test).
TEST_F(HttpServerTlsTest, GarbageOnTlsPortNeverBreaksServer) {
  StartServer(TlsOptions());
  // A real ClientHello to cut short and corrupt.
  std::string hello;
  {
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fds[0]);
    SSL_set_connect_state(ssl);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    SSL_do_handshake(ssl);  // Writes the ClientHello, then would block.
    char buffer[4096];
    ssize_t n = recv(fds[1], buffer, sizeof(buffer), MSG_DONTWAIT);
    ASSERT_GT(n, 0);
    hello.assign(buffer, static_cast<size_t>(n));
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fds[0]);
    close(fds[1]);
  }
  std::mt19937 rng(7);
  for (int i = 0; i < 150; ++i) {
    std::string input;
    switch (i % 3) {
      case 0:  // Random bytes.
        input.resize(rng() % 512 + 1);
        for (char& c : input) c = static_cast<char>(rng());
        break;
      case 1:  // A handshake record header followed by garbage.
        input = std::string("\x16\x03\x01", 3);
        input.resize(rng() % 512 + 3);
        for (size_t j = 3; j < input.size(); ++j) {
          input[j] = static_cast<char>(rng());
        }
        break;
      case 2:  // A truncated or corrupted ClientHello.
        input = hello.substr(0, rng() % hello.size() + 1);
        if (rng() % 2 == 0) {
          input[rng() % input.size()] = static_cast<char>(rng());
        }
        break;
    }
    auto client = Connect();
    client->Send(input);
    client->ShutdownWrite();
    ASSERT_TRUE(client->WaitForClose()) << i;
  }
  auto client = ConnectTls();
  ASSERT_TRUE(client->Send(Post("/", "alive")));
  auto response = client->Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body, "alive");
  EXPECT_EQ(requests_.load(), 1);
}

// A client's close_notify after its requests still gets their responses,
// then the server's own close_notify.
TEST_F(HttpServerTlsTest, CloseNotifyAfterRequestsStillGetsResponses) {
  StartServer(TlsOptions());
  auto client = ConnectTls();
  ASSERT_TRUE(client->Send(Post("/", "one") + Post("/", "two")));
  client->ShutdownWrite();
  auto first = client->Read();
  auto second = client->Read();
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(first->body, "one");
  EXPECT_EQ(second->body, "two");
  EXPECT_TRUE(client->WaitForClose());
  EXPECT_EQ(SSL_get_shutdown(client->ssl()) & SSL_RECEIVED_SHUTDOWN,
            SSL_RECEIVED_SHUTDOWN);
}

// ReloadTls: new connections get the new certificate, open ones keep
// working; a bad file leaves the current certificate in place.
TEST_F(HttpServerTlsTest, ReloadSwapsCertificateForNewConnections) {
  TestCertificate live{dir_ + "/live.pem", dir_ + "/live.key", 0};
  Replace(live, first_);
  StartServer(TlsOptions(live));
  auto old_connection = ConnectTls({}, first_);
  EXPECT_EQ(old_connection->PeerSerial(), first_.serial);

  Replace(live, second_);
  ASSERT_THAT(server_->ReloadTls(), IsOk());
  auto new_connection = ConnectTls({}, second_);
  EXPECT_EQ(new_connection->PeerSerial(), second_.serial);
  for (Client* client : {old_connection.get(), new_connection.get()}) {
    ASSERT_TRUE(client->Send(Post("/", "after reload")));
    auto response = client->Read();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->body, "after reload");
  }

  // A truncated certificate, then a key that does not match: refused.
  std::filesystem::resize_file(live.cert_file, 100);
  Status bad = server_->ReloadTls();
  EXPECT_TRUE(bad.IsInvalidArgument()) << bad.ToString();
  EXPECT_THAT(bad.ToString(), ::testing::HasSubstr(live.cert_file));
  std::filesystem::copy_file(second_.cert_file, live.cert_file,
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(first_.key_file, live.key_file,
                             std::filesystem::copy_options::overwrite_existing);
  bad = server_->ReloadTls();
  EXPECT_THAT(bad.ToString(), ::testing::HasSubstr("does not match"));
  EXPECT_EQ(ConnectTls({}, second_)->PeerSerial(), second_.serial);
}

// A server cannot start with TLS half-configured or with unusable files.
TEST_F(HttpServerTlsTest, BadTlsOptionsAreRejectedAtStart) {
  auto noop = [](const HttpRequest&, HttpResponse*) {};
  HttpServerOptions no_key = TlsOptions();
  no_key.tls_key_file.clear();
  EXPECT_TRUE(HttpServer::Start(no_key, noop).status().IsInvalidArgument());
  HttpServerOptions missing = TlsOptions();
  missing.tls_cert_file = dir_ + "/missing.pem";
  auto started = HttpServer::Start(missing, noop);
  EXPECT_TRUE(started.status().IsInvalidArgument());
  EXPECT_THAT(started.status().ToString(),
              ::testing::HasSubstr(missing.tls_cert_file));
  HttpServerOptions mismatched = TlsOptions();
  mismatched.tls_key_file = second_.key_file;
  EXPECT_TRUE(HttpServer::Start(mismatched, noop).status().IsInvalidArgument());
  // A plain server has nothing to reload.
  StartServer();
  EXPECT_FALSE(server_->tls());
  EXPECT_TRUE(server_->ReloadTls().IsInvalidArgument());
}

}  // namespace
}  // namespace eddy::runtime
