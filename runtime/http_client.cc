#include "http_client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "auth/sigv4.h"

namespace eddy::runtime {

Result<HttpClient> HttpClient::Create(std::string_view endpoint) {
  std::string_view rest = endpoint;
  if (rest.substr(0, 7) == "http://") rest.remove_prefix(7);
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  const size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Status::InvalidArgument(
        "endpoint must look like http://HOST:PORT: " + std::string(endpoint));
  }
  const std::string port_text(rest.substr(colon + 1));
  char* end = nullptr;
  const long port = std::strtol(port_text.c_str(), &end, 10);
  if (end == port_text.c_str() || *end != '\0' || port <= 0 || port > 65535) {
    return Status::InvalidArgument("bad port in endpoint " +
                                   std::string(endpoint));
  }
  std::string host(rest.substr(0, colon));
  if (host == "localhost") host = "127.0.0.1";
  return HttpClient(std::move(host), static_cast<int>(port));
}

HttpClient::HttpClient(HttpClient&& other) noexcept
    : host_(std::move(other.host_)), port_(other.port_), fd_(other.fd_) {
  other.fd_ = -1;
}

HttpClient& HttpClient::operator=(HttpClient&& other) noexcept {
  if (this != &other) {
    Disconnect();
    host_ = std::move(other.host_);
    port_ = other.port_;
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

HttpClient::~HttpClient() { Disconnect(); }

void HttpClient::Disconnect() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Status HttpClient::Connect() {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(port_);
  if (getaddrinfo(host_.c_str(), port.c_str(), &hints, &found) != 0 ||
      found == nullptr) {
    return Status::InvalidArgument("cannot resolve " + host_);
  }
  fd_ = ::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int rc = fd_ < 0 ? -1 : ::connect(fd_, found->ai_addr, found->ai_addrlen);
  freeaddrinfo(found);
  if (rc != 0) {
    const std::string why = std::strerror(errno);
    Disconnect();
    return Status::IOError("cannot connect to " + host_ + ":" + port + ": " +
                           why);
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return Status::OK();
}

Result<HttpClientResponse> HttpClient::PostJson(std::string_view target,
                                                std::string_view body) {
  // A kept-alive connection the server closed is retried once.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool fresh = fd_ < 0;
    if (fresh) EDDY_RETURN_IF_ERROR(Connect());
    // Signed with SigV4 (credentials from the environment, as the AWS
    // CLI reads them first), since the server requires a signature.
    const std::string host = host_ + ":" + std::to_string(port_);
    const std::string amz_date = auth::FormatAmzDate(std::time(nullptr));
    const auth::HeaderList headers = {
        {"content-type", "application/x-amz-json-1.0"},
        {"host", host},
        {"x-amz-date", amz_date},
        {"x-amz-target", std::string(target)}};
    auto env = [](const char* name, const char* fallback) {
      const char* v = std::getenv(name);
      return std::string(v != nullptr && *v != '\0' ? v : fallback);
    };
    const std::string key = env("AWS_ACCESS_KEY_ID", "anonymous");
    const std::string secret = env("AWS_SECRET_ACCESS_KEY", "anonymous");
    const std::string region =
        env("AWS_REGION", env("AWS_DEFAULT_REGION", "us-east-1").c_str());
    auth::SigningInput signing;
    signing.headers = &headers;
    signing.body = body;
    signing.access_key_id = key;
    signing.secret_access_key = secret;
    signing.region = region;
    signing.amz_date = amz_date;
    std::string request = "POST / HTTP/1.1\r\n";
    for (const auto& [name, value] : headers) {
      request += name + ": " + value + "\r\n";
    }
    request += "Authorization: " + auth::SignAuthorization(signing) +
               "\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\n\r\n";
    request.append(body);
    size_t sent = 0;
    bool failed = false;
    while (sent < request.size()) {
      ssize_t n = ::send(fd_, request.data() + sent, request.size() - sent,
                         MSG_NOSIGNAL);
      if (n <= 0) {
        if (n < 0 && errno == EINTR) continue;
        failed = true;
        break;
      }
      sent += static_cast<size_t>(n);
    }
    std::string in;
    size_t header_end = std::string::npos;
    size_t content_length = 0;
    char buf[65536];
    while (!failed) {
      if (header_end != std::string::npos &&
          in.size() >= header_end + 4 + content_length) {
        break;
      }
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        if (n < 0 && errno == EINTR) continue;
        failed = true;
        break;
      }
      in.append(buf, static_cast<size_t>(n));
      if (header_end == std::string::npos) {
        header_end = in.find("\r\n\r\n");
        if (header_end != std::string::npos) {
          std::string headers = in.substr(0, header_end);
          for (char& c : headers) c = static_cast<char>(std::tolower(c));
          const size_t cl = headers.find("content-length:");
          if (cl != std::string::npos) {
            content_length =
                std::strtoull(headers.c_str() + cl + 15, nullptr, 10);
          }
        }
      }
    }
    if (failed) {
      Disconnect();
      if (fresh) return Status::IOError("connection to the server failed");
      continue;
    }
    HttpClientResponse response;
    // "HTTP/1.1 200 OK"
    response.status = std::atoi(in.c_str() + 9);
    response.body = in.substr(header_end + 4, content_length);
    return response;
  }
  return Status::IOError("connection to the server failed");
}

}  // namespace eddy::runtime
