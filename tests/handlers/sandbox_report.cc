// sandbox_report: logs, once per record, what the worker process it runs in
// looks like from inside, so tests can assert the sandbox for real:
//   sandbox {"no_new_privs":1,"core":[0,0],"nofile":[1024,1024],
//            "as":[...],"uid":0,"gid":0,"groups":0,
//            "fds":{"0":"/dev/null","1":"...",...},"probe":{...},
//            "env":{"HOME":"...","PATH":"...",...}}
// If the record's new image has a string attribute "probe" (a path), the
// report also says whether this process could open it for reading
// ("probe":{"path":...,"errno":0 or the error}).
#include <errno.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "eddy/functions/handler.h"

using namespace eddy::handler;

namespace {

std::string Quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\u%04x", c);
      out += hex;
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string Limit(int resource) {
  rlimit limit{};
  ::getrlimit(resource, &limit);
  auto text = [](rlim_t v) {
    return v == RLIM_INFINITY ? std::string("-1") : std::to_string(v);
  };
  return "[" + text(limit.rlim_cur) + "," + text(limit.rlim_max) + "]";
}

// Every open descriptor and what it refers to. The names are read first
// and the links after the listing is closed, so the listing's own
// descriptor is left out (its link no longer exists).
std::string Descriptors() {
  std::string out = "{";
  std::error_code ec;
  std::vector<std::string> names;
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    names.push_back(entry.path().filename().string());
  }
  std::vector<std::pair<int, std::string>> fds;
  for (const std::string& name : names) {
    std::error_code link_ec;
    const std::string target =
        std::filesystem::read_symlink("/proc/self/fd/" + name, link_ec)
            .string();
    if (link_ec) continue;
    fds.emplace_back(std::stoi(name), target);
  }
  bool first = true;
  for (const auto& [fd, target] : fds) {
    if (!first) out += ",";
    first = false;
    out += "\"" + std::to_string(fd) + "\":" + Quoted(target);
  }
  return out + "}";
}

std::string Probe(const record& r) {
  auto image = r.new_image();
  if (!image) return "null";
  auto probe = image->find("probe");
  if (!probe) return "null";
  const std::string path(probe->as_string());
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  const int err = fd < 0 ? errno : 0;
  if (fd >= 0) ::close(fd);
  return "{\"path\":" + Quoted(path) + ",\"errno\":" + std::to_string(err) +
         "}";
}

// The worker's whole environment as a JSON object; values of names that
// look secret are "<set>", so the report itself leaks nothing.
std::string Environment() {
  std::vector<std::string> entries;
  for (char** e = environ; *e != nullptr; ++e) entries.emplace_back(*e);
  std::sort(entries.begin(), entries.end());
  std::string out = "{";
  for (const std::string& entry : entries) {
    const size_t equals = entry.find('=');
    const std::string name = entry.substr(0, equals);
    std::string value =
        equals == std::string::npos ? "" : entry.substr(equals + 1);
    if (name.find("SECRET") != std::string::npos ||
        name.find("TOKEN") != std::string::npos) {
      value = "<set>";
    }
    if (out.size() > 1) out += ",";
    out += Quoted(name) + ":" + Quoted(value);
  }
  return out + "}";
}

}  // namespace

static invocation_response Handle(const invocation_request& request) {
  for (const record r : request.records()) {
    const int no_new_privs = ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
    const std::string report =
        "sandbox {\"no_new_privs\":" + std::to_string(no_new_privs) +
        ",\"core\":" + Limit(RLIMIT_CORE) +
        ",\"nofile\":" + Limit(RLIMIT_NOFILE) + ",\"as\":" + Limit(RLIMIT_AS) +
        ",\"uid\":" + std::to_string(::getuid()) +
        ",\"euid\":" + std::to_string(::geteuid()) +
        ",\"gid\":" + std::to_string(::getgid()) +
        ",\"groups\":" + std::to_string(::getgroups(0, nullptr)) +
        ",\"fds\":" + Descriptors() + ",\"probe\":" + Probe(r) +
        ",\"env\":" + Environment() + "}";
    log_info(report);
  }
  return invocation_response::success();
}

EDDY_HANDLER(Handle)
