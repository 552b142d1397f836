// HttpServer over real sockets on 127.0.0.1 (port 0), driven by a small
// blocking client. No sleeps: waits are blocking reads with a timeout.
#include "http_server.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
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

// A blocking HTTP/1.1 client that sends raw bytes and parses responses with
// Content-Length bodies (all this server sends).
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
    }
  }
  ~Client() {
    if (fd_ >= 0) close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return fd_ >= 0; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  void ShutdownWrite() { shutdown(fd_, SHUT_WR); }

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
      pollfd pfd{fd_, POLLIN, 0};
      if (poll(&pfd, 1, timeout_ms) <= 0) return false;
      char chunk[4096];
      ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
      if (n <= 0) return true;
    }
  }

 private:
  bool Fill() {
    pollfd pfd{fd_, POLLIN, 0};
    if (poll(&pfd, 1, kClientTimeoutMs) <= 0) return false;
    char chunk[64 * 1024];
    ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
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

// Connections beyond max_connections are closed at once; the ones already
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
  EXPECT_TRUE(third->WaitForClose());
  ASSERT_TRUE(first->Send(Post("/", "again")));
  auto response = first->Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body, "again");
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
  EXPECT_TRUE(HttpServer::Start(DefaultOptions(), nullptr)
                  .status()
                  .IsInvalidArgument());
}

}  // namespace
}  // namespace eddy::runtime
