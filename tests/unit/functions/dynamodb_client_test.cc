// The SDK's DynamoDB client (eddy/functions/dynamodb.h) against a scripted
// HTTP server in this process (127.0.0.1, a port of its own): SigV4 on
// every request (checked with the server's own verifier), one kept-alive
// connection, retries of what can heal with jittered backoff (the waits are
// recorded, not slept), typed errors, and no retry of answers.
#include "eddy/functions/dynamodb.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "auth/sigv4.h"

namespace eddy::dynamodb {
namespace {

namespace auth = ::eddy::runtime::auth;

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kKey[] = "AKIDCLIENTTEST";
constexpr char kSecret[] = "client-test-secret";

// What the fake server answers to one request.
struct Reply {
  int status = 200;
  std::string body = "{}";
  bool drop = false;  // Close the connection without answering.
};

struct Request {
  std::string method;
  std::string target;
  auth::HeaderList headers;  // Lower-case names, arrival order.
  std::string body;
  std::string Header(const std::string& name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return "";
  }
};

// A one-connection-at-a-time HTTP/1.1 server that answers from a script
// (then 200 {}), and records requests and connections.
class FakeServer {
 public:
  FakeServer() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len), 0);
    EXPECT_EQ(::listen(listen_fd_, 8), 0);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~FakeServer() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    thread_.join();
    ::close(listen_fd_);
  }

  std::string endpoint() const {
    return "http://127.0.0.1:" + std::to_string(port_);
  }
  void Script(std::vector<Reply> replies) {
    std::lock_guard<std::mutex> lock(mu_);
    script_ = std::move(replies);
  }
  std::vector<Request> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  int connections() const { return connections_; }

 private:
  void Run() {
    while (!stopping_) {
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      ++connections_;
      Serve(fd);
      ::close(fd);
    }
  }

  // Serves requests on `fd` until the client closes or a reply drops it.
  void Serve(int fd) {
    std::string buffer;
    while (true) {
      size_t end;
      while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
        if (!Fill(fd, &buffer)) return;
      }
      Request request;
      std::string head = buffer.substr(0, end);
      buffer.erase(0, end + 4);
      size_t line_end = head.find("\r\n");
      const std::string first = head.substr(0, line_end);
      request.method = first.substr(0, first.find(' '));
      request.target = first.substr(first.find(' ') + 1);
      request.target = request.target.substr(0, request.target.find(' '));
      size_t length = 0;
      while (line_end != std::string::npos) {
        const size_t start = line_end + 2;
        line_end = head.find("\r\n", start);
        const std::string line = head.substr(start, line_end - start);
        const size_t colon = line.find(':');
        std::string name = line.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(c));
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        if (name == "content-length") length = std::stoul(value);
        request.headers.emplace_back(name, value);
      }
      while (buffer.size() < length) {
        if (!Fill(fd, &buffer)) return;
      }
      request.body = buffer.substr(0, length);
      buffer.erase(0, length);
      Reply reply;
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(request);
        if (!script_.empty()) {
          reply = script_.front();
          script_.erase(script_.begin());
        }
      }
      if (reply.drop) return;
      const std::string answer =
          "HTTP/1.1 " + std::to_string(reply.status) +
          " X\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: " +
          std::to_string(reply.body.size()) + "\r\n\r\n" + reply.body;
      if (::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL) < 0) return;
    }
  }

  static bool Fill(int fd, std::string* buffer) {
    char chunk[4096];
    const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer->append(chunk, static_cast<size_t>(n));
    return true;
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::mutex mu_;
  std::vector<Reply> script_;
  std::vector<Request> requests_;
};

std::string Error(const char* type, const char* message) {
  return std::string("{\"__type\":\"com.amazonaws.dynamodb.v20120810#") +
         type + "\",\"message\":\"" + message + "\"}";
}

class DynamoDbClientTest : public ::testing::Test {
 protected:
  // A client of the fake server with fixed credentials; waits recorded.
  client Make(int max_attempts = 4) {
    client_options o;
    o.endpoint = server_.endpoint();
    o.access_key_id = kKey;
    o.secret_access_key = kSecret;
    o.region = "eu-west-1";
    o.max_attempts = max_attempts;
    o.request_timeout_ms = 5000;
    o.sleep = [this](std::chrono::milliseconds wait) {
      waits_.push_back(wait.count());
    };
    o.random_seed = 42;
    outcome<client> made = client::create(std::move(o));
    EXPECT_TRUE(made.ok()) << (made.ok() ? "" : made.error().describe());
    return std::move(made).value();
  }

  FakeServer server_;
  std::vector<long> waits_;
};

// Each request is a signed DynamoDB JSON 1.0 POST that the server's own
// SigV4 code accepts, and every call rides the same connection.
TEST_F(DynamoDbClientTest, SignsEveryRequestAndKeepsOneConnection) {
  client db = Make();
  EXPECT_TRUE(db.put_item("Orders", R"({"id":{"S":"o1"}})",
                          R"j("ConditionExpression":"attribute_not_exists(id)")j")
                  .ok());
  EXPECT_TRUE(db.call("DescribeTable", R"({"TableName":"Orders"})").ok());
  EXPECT_TRUE(db.delete_item("Orders", R"({"id":{"S":"o1"}})").ok());
  EXPECT_EQ(server_.connections(), 1);
  const std::vector<Request> requests = server_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].body,
            R"j({"TableName":"Orders","Item":{"id":{"S":"o1"}},)j"
            R"j("ConditionExpression":"attribute_not_exists(id)"})j");
  EXPECT_EQ(requests[1].Header("x-amz-target"),
            "DynamoDB_20120810.DescribeTable");
  for (const Request& r : requests) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.Header("content-type"), "application/x-amz-json-1.0");
    const std::string authorization = r.Header("authorization");
    const auth::SigV4Authorization parsed =
        auth::ParseAuthorization(authorization);
    ASSERT_TRUE(parsed.has_signature) << authorization;
    EXPECT_THAT(std::string(parsed.credential),
                ::testing::MatchesRegex(
                    "AKIDCLIENTTEST/[0-9]{8}/eu-west-1/dynamodb/aws4_request"));
    // Sign the same signed headers again with the server's code.
    auth::HeaderList signed_headers;
    std::string names(parsed.signed_headers);
    for (const auto& [name, value] : r.headers) {
      if ((";" + names + ";").find(";" + name + ";") != std::string::npos) {
        signed_headers.emplace_back(name, value);
      }
    }
    auth::SigningInput input;
    input.headers = &signed_headers;
    input.body = r.body;
    input.access_key_id = kKey;
    input.secret_access_key = kSecret;
    input.region = "eu-west-1";
    const std::string amz_date = r.Header("x-amz-date");
    input.amz_date = amz_date;
    EXPECT_EQ(auth::SignAuthorization(input), authorization);
  }
}

// A dropped connection, a 500 and a throttling error are retried after
// jittered waits within the doubling caps (25, 50, 100 ms); the call then
// succeeds, having sent four requests.
TEST_F(DynamoDbClientTest, RetriesWhatCanHealWithJitteredBackoff) {
  // The drop comes first: on a fresh connection (libcurl itself resends a
  // request once when a reused connection turns out closed).
  server_.Script({{200, "", true},
                  {500, Error("InternalServerError", "boom")},
                  {400, Error("ProvisionedThroughputExceededException", "slow")},
                  {200, R"({"Item":{"id":{"S":"o1"}}})"}});
  client db = Make();
  outcome<std::optional<json::value>> got =
      db.get_item("Orders", R"({"id":{"S":"o1"}})", true);
  ASSERT_TRUE(got.ok()) << got.error().describe();
  ASSERT_TRUE(got.value().has_value());
  EXPECT_EQ(got.value()->dump(), R"({"id":{"S":"o1"}})");
  EXPECT_EQ(server_.requests().size(), 4u);
  EXPECT_EQ(server_.connections(), 2);  // The dropped one, then a new one.
  ASSERT_EQ(waits_.size(), 3u);
  const long caps[] = {25, 50, 100};
  for (size_t i = 0; i < waits_.size(); ++i) {
    EXPECT_GE(waits_[i], 0);
    EXPECT_LE(waits_[i], caps[i]);
  }
}

// Past max_attempts the last error comes back, typed, with the count.
TEST_F(DynamoDbClientTest, GivesUpAfterMaxAttempts) {
  server_.Script(std::vector<Reply>(5, {503, Error("ServiceUnavailable", "x")}));
  client db = Make(3);
  outcome<std::string> put = db.put_item("T", R"({"id":{"S":"a"}})");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().kind, error_kind::server);
  EXPECT_EQ(put.error().attempts, 3);
  EXPECT_EQ(put.error().http_status, 503);
  EXPECT_EQ(put.error().describe(),
            "ServiceUnavailable: x (HTTP 503, 3 attempts)");
  EXPECT_EQ(server_.requests().size(), 3u);
  EXPECT_EQ(waits_.size(), 2u);
  try {
    (void)put.value();
    ADD_FAILURE() << "value() of a failed call must throw";
  } catch (const dynamodb_error& e) {
    EXPECT_EQ(e.error().kind, error_kind::server);
    EXPECT_THAT(e.what(), HasSubstr("ServiceUnavailable"));
  }
}

// Answers are not retried: each comes back at once with its kind.
TEST_F(DynamoDbClientTest, AnswersAreTypedAndNotRetried) {
  const std::pair<const char*, error_kind> cases[] = {
      {"ConditionalCheckFailedException", error_kind::conditional_check_failed},
      {"ResourceNotFoundException", error_kind::resource_not_found},
      {"ValidationException", error_kind::validation},
      {"AccessDeniedException", error_kind::access_denied},
      {"UnrecognizedClientException", error_kind::authentication},
      {"InvalidSignatureException", error_kind::authentication},
      {"TransactionCanceledException", error_kind::transaction_canceled},
      {"SomethingNewException", error_kind::other},
  };
  client db = Make();
  for (const auto& [type, kind] : cases) {
    server_.Script({{400, Error(type, "why")}});
    const size_t before = server_.requests().size();
    outcome<std::string> out = db.call("PutItem", "{}");
    ASSERT_FALSE(out.ok()) << type;
    EXPECT_EQ(out.error().kind, kind) << type;
    EXPECT_EQ(out.error().type, type);
    EXPECT_EQ(out.error().message, "why");
    EXPECT_EQ(out.error().attempts, 1);
    EXPECT_FALSE(out.error().retryable);
    EXPECT_EQ(server_.requests().size(), before + 1) << type;
  }
  EXPECT_TRUE(waits_.empty());
}

// post() hands back every answer (the CLI's admin calls), errors included.
TEST_F(DynamoDbClientTest, PostReturnsEveryAnswer) {
  server_.Script({{400, Error("ValidationException", "no")}});
  client db = Make(1);
  outcome<http_response> r = db.post("EddyAdmin_20261126.ListTriggers", "{}");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().status, 400);
  EXPECT_THAT(r.value().body, HasSubstr("ValidationException"));
  EXPECT_EQ(server_.requests()[0].Header("x-amz-target"),
            "EddyAdmin_20261126.ListTriggers");
}

// Nobody listening: a transport error, retried, then reported.
TEST_F(DynamoDbClientTest, UnreachableEndpointIsATransportError) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  ::close(fd);  // Bound, never listening: the port refuses.
  client_options o;
  o.endpoint = "127.0.0.1:" + std::to_string(port);
  o.access_key_id = kKey;
  o.secret_access_key = kSecret;
  o.max_attempts = 2;
  o.sleep = [](std::chrono::milliseconds) {};
  client db = client::create(o).value();
  EXPECT_EQ(db.options().endpoint, "http://127.0.0.1:" + std::to_string(port));
  outcome<std::string> out = db.call("ListTables", "{}");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, error_kind::transport);
  EXPECT_EQ(out.error().attempts, 2);
  EXPECT_TRUE(out.error().retryable);
  EXPECT_THAT(out.error().message, HasSubstr("127.0.0.1"));
}

// Bad options are configuration errors, before any request; without
// credentials the chain's message says where to put them.
TEST_F(DynamoDbClientTest, ConfigurationErrors) {
  client_options o;
  o.endpoint = "ftp://example";
  o.access_key_id = kKey;
  o.secret_access_key = kSecret;
  outcome<client> made = client::create(o);
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.error().kind, error_kind::configuration);
  EXPECT_THAT(made.error().message, HasSubstr("http://HOST:PORT"));

  o.endpoint = server_.endpoint();
  o.access_key_id.clear();
  o.secret_access_key.clear();
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
  ::setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
  const char* saved_key = std::getenv("AWS_ACCESS_KEY_ID");
  const char* saved_secret = std::getenv("AWS_SECRET_ACCESS_KEY");
  const std::string key = saved_key ? saved_key : "";
  const std::string secret = saved_secret ? saved_secret : "";
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  made = client::create(o);
  if (saved_key) ::setenv("AWS_ACCESS_KEY_ID", key.c_str(), 1);
  if (saved_secret) ::setenv("AWS_SECRET_ACCESS_KEY", secret.c_str(), 1);
  ::unsetenv("AWS_SHARED_CREDENTIALS_FILE");
  ::unsetenv("AWS_CONFIG_FILE");
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.error().kind, error_kind::configuration);
  EXPECT_THAT(made.error().message, HasSubstr("Unable to locate credentials"));
  EXPECT_TRUE(server_.requests().empty());
}

}  // namespace
}  // namespace eddy::dynamodb
