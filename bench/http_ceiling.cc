// The physical ceiling for bench/scale.py (issue 15): a trivial HTTP/1.1
// server that answers every request with the same canned 200, so that wrk's
// GetItem and PutItem scripts measured against it show what one core, the
// loopback TCP stack and wrk allow on this machine, with no database work.
//
//   build/bin/http_ceiling PORT [BODY_BYTES]
//
// One thread, level-triggered epoll, keep-alive, pipelining. A request ends
// after its headers ("\r\n\r\n") and Content-Length bytes of body. The
// answer carries the headers Eddy sends (Content-Type, x-amzn-RequestId,
// x-amz-crc32, Content-Length) and a body of BODY_BYTES (default 2: "{}"),
// so the bytes on the wire are close to Eddy's for the same request.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>

namespace {

struct Connection {
  std::string in;
  std::string out;
  bool want_write = false;
};

std::string CannedResponse(size_t body_bytes) {
  std::string body = "{}";
  if (body_bytes > 2) {
    body = "{\"x\":\"" + std::string(body_bytes > 8 ? body_bytes - 8 : 0, 'a') +
           "\"}";
  }
  return "HTTP/1.1 200 OK\r\n"
         "Content-Type: application/x-amz-json-1.0\r\n"
         "x-amzn-RequestId: 00000000000000000000000000000000000000000000000"
         "00000\r\n"
         "x-amz-crc32: 2745614147\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

// The length of the first complete request in `in`, or 0 if it is not all
// there yet.
size_t CompleteRequest(std::string_view in) {
  size_t end = in.find("\r\n\r\n");
  if (end == std::string_view::npos) return 0;
  size_t body = 0;
  std::string_view headers = in.substr(0, end);
  size_t pos = 0;
  while (pos < headers.size()) {
    size_t eol = headers.find("\r\n", pos);
    if (eol == std::string_view::npos) eol = headers.size();
    std::string_view line = headers.substr(pos, eol - pos);
    constexpr std::string_view kName = "content-length:";
    if (line.size() > kName.size() &&
        strncasecmp(line.data(), kName.data(), kName.size()) == 0) {
      body = std::strtoul(std::string(line.substr(kName.size())).c_str(),
                          nullptr, 10);
    }
    pos = eol + 2;
  }
  size_t total = end + 4 + body;
  return in.size() >= total ? total : 0;
}

bool Flush(int fd, Connection* c) {
  while (!c->out.empty()) {
    ssize_t n = write(fd, c->out.data(), c->out.size());
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
    c->out.erase(0, static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PORT [BODY_BYTES]\n", argv[0]);
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const std::string response =
      CannedResponse(argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 2);

  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listener, 1024) != 0) {
    std::perror("bind/listen");
    return 1;
  }
  int ep = epoll_create1(0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listener;
  epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
  std::fprintf(stderr, "http_ceiling listening on 127.0.0.1:%d\n", port);

  std::unordered_map<int, Connection> connections;
  epoll_event events[256];
  char buffer[65536];
  for (;;) {
    int n = epoll_wait(ep, events, 256, -1);
    if (n < 0 && errno == EINTR) continue;
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == listener) {
        int client;
        while ((client = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK)) >=
               0) {
          setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
          epoll_event cev{};
          cev.events = EPOLLIN;
          cev.data.fd = client;
          epoll_ctl(ep, EPOLL_CTL_ADD, client, &cev);
          connections[client];
        }
        continue;
      }
      Connection& c = connections[fd];
      bool alive = true;
      if (events[i].events & EPOLLIN) {
        ssize_t got;
        while ((got = read(fd, buffer, sizeof(buffer))) > 0) {
          c.in.append(buffer, static_cast<size_t>(got));
        }
        if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
          alive = false;
        }
        size_t done = 0;
        while (size_t len =
                   CompleteRequest(std::string_view(c.in).substr(done))) {
          done += len;
          c.out += response;
        }
        c.in.erase(0, done);
      }
      if (alive) alive = Flush(fd, &c);
      if (alive && c.out.empty() == c.want_write) {
        c.want_write = !c.out.empty();
        epoll_event cev{};
        cev.events = c.want_write ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
        cev.data.fd = fd;
        epoll_ctl(ep, EPOLL_CTL_MOD, fd, &cev);
      }
      if (!alive) {
        epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
        close(fd);
        connections.erase(fd);
      }
    }
  }
}
