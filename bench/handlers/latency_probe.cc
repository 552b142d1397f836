// latency_probe: the handler of bench/triggers.py's latency run. For every
// record it appends "<partition key> <nanoseconds>" to the file named by
// EDDY_BENCH_PROBE_FILE (the trigger's --env), where
// the time is CLOCK_REALTIME when the handler was called, so the benchmark
// can take commit-to-handler latency with sub-millisecond resolution. The
// table's partition key must be the string attribute "p".
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "eddy/functions/handler.h"

using namespace eddy::handler;

namespace {

std::FILE* Probe() {
  static std::FILE* file = [] {
    const char* path = std::getenv("EDDY_BENCH_PROBE_FILE");
    return path == nullptr ? nullptr : std::fopen(path, "a");
  }();
  return file;
}

}  // namespace

static invocation_response Handle(const invocation_request& request) {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  const long long ns = static_cast<long long>(now.tv_sec) * 1000000000LL +
                       static_cast<long long>(now.tv_nsec);
  std::FILE* file = Probe();
  if (file == nullptr) {
    return invocation_response::failure("EDDY_BENCH_PROBE_FILE is not set",
                                        "ProbeFile");
  }
  std::string lines;
  for (const record r : request.records()) {
    lines += r.keys()["p"].as_string();
    lines += ' ';
    lines += std::to_string(ns);
    lines += '\n';
  }
  // One write per batch, flushed at once: the benchmark reads the file after
  // `eddy trigger wait`.
  std::fwrite(lines.data(), 1, lines.size(), file);
  std::fflush(file);
  return invocation_response::success();
}

EDDY_HANDLER(Handle)
