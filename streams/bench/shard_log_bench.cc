// shard_log_bench: measures ShardLog append and read throughput and prints
// records/s. Not a test: the numbers depend on the machine and disk.
//
//   shard_log_bench [dir]      (default: a fresh directory under /tmp)
//
// Phases: append without sync at 1 and 8 threads; append with
// sync_on_append (group commit) at 1 and 8 threads for ~2 s each; then read
// the whole log from the page cache in pages of 1000 records.
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "eddy/streams/shard_log.h"

namespace {

using eddy::streams::ShardLog;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

std::unique_ptr<ShardLog> OpenLog(const std::string& dir, bool sync) {
  ShardLog::Options options;
  options.dir = dir;
  options.sync_on_append = sync;
  options.logger = std::make_shared<spdlog::logger>(
      "bench", std::make_shared<spdlog::sinks::null_sink_mt>());
  auto log = ShardLog::Open(options);
  if (!log.ok()) {
    std::fprintf(stderr, "open %s: %s\n", dir.c_str(),
                 log.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*log);
}

// Appends from `threads` threads, each `per_thread` records or until
// `budget` passes. Returns records appended.
uint64_t AppendPhase(ShardLog* log, int threads, uint64_t per_thread,
                     Clock::duration budget, const std::string& payload,
                     double* seconds) {
  std::atomic<uint64_t> total{0};
  const auto start = Clock::now();
  const auto deadline = start + budget;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      uint64_t n = 0;
      for (; n < per_thread; ++n) {
        if ((n & 63) == 0 && Clock::now() > deadline) break;
        auto seq = log->Append(payload, 0);
        if (!seq.ok()) {
          std::fprintf(stderr, "append: %s\n", seq.status().ToString().c_str());
          std::exit(1);
        }
      }
      total += n;
    });
  }
  for (auto& w : workers) w.join();
  *seconds = Seconds(Clock::now() - start);
  return total.load();
}

void Report(const char* what, uint64_t records, double seconds) {
  std::printf("%-44s %10llu records in %6.3f s = %12.0f records/s\n", what,
              static_cast<unsigned long long>(records), seconds,
              static_cast<double>(records) / seconds);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string root =
      argc > 1 ? argv[1]
               : (std::filesystem::temp_directory_path() /
                  ("eddy_shard_log_bench_" + std::to_string(::getpid())))
                     .string();
  std::filesystem::remove_all(root);
  const std::string payload(100, 'x');
  double seconds = 0;
  const auto kLong = std::chrono::seconds(30);
  const auto kSyncBudget = std::chrono::seconds(2);

  {
    auto log = OpenLog(root + "/nosync1", false);
    const uint64_t n =
        AppendPhase(log.get(), 1, 1'000'000, kLong, payload, &seconds);
    Report("append 100 B, no sync, 1 thread", n, seconds);
  }
  {
    auto log = OpenLog(root + "/nosync8", false);
    const uint64_t n =
        AppendPhase(log.get(), 8, 125'000, kLong, payload, &seconds);
    Report("append 100 B, no sync, 8 threads", n, seconds);
  }
  {
    auto log = OpenLog(root + "/sync1", true);
    const uint64_t n =
        AppendPhase(log.get(), 1, 1'000'000, kSyncBudget, payload, &seconds);
    Report("append 100 B, sync_on_append, 1 thread", n, seconds);
  }
  {
    auto log = OpenLog(root + "/sync8", true);
    const uint64_t n =
        AppendPhase(log.get(), 8, 1'000'000, kSyncBudget, payload, &seconds);
    Report("append 100 B, sync_on_append, 8 threads", n, seconds);
  }
  {
    auto log = OpenLog(root + "/sync8", true);
    const uint64_t n =
        AppendPhase(log.get(), 64, 1'000'000, kSyncBudget, payload, &seconds);
    Report("append 100 B, sync_on_append, 64 threads", n, seconds);
  }

  // Read back the 1,000,000-record log (page cache), pages of 1000.
  for (int round = 0; round < 2; ++round) {
    auto log = OpenLog(root + "/nosync1", false);
    uint64_t next = log->first_sequence();
    uint64_t records = 0;
    uint64_t bytes = 0;
    const auto start = Clock::now();
    while (true) {
      auto page = log->Read(next, 1000, 1 << 20);
      if (!page.ok()) {
        std::fprintf(stderr, "read: %s\n", page.status().ToString().c_str());
        return 1;
      }
      if (page->records.empty()) break;
      records += page->records.size();
      for (const auto& r : page->records) bytes += r.payload.size();
      next = page->next_sequence;
    }
    seconds = Seconds(Clock::now() - start);
    Report(round == 0 ? "read 100 B, pages of 1000 (first pass)"
                      : "read 100 B, pages of 1000 (warm)",
           records, seconds);
    if (bytes != records * payload.size()) return 1;
  }
  // Random-position reads (index seek), pages of 100.
  {
    auto log = OpenLog(root + "/nosync1", false);
    const uint64_t first = log->first_sequence();
    const uint64_t last = log->last_sequence();
    uint64_t records = 0;
    uint64_t x = 88172645463325252ull;
    const auto start = Clock::now();
    for (int i = 0; i < 20000; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      auto page = log->Read(first + x % (last - first + 1), 100, 1 << 20);
      if (!page.ok()) return 1;
      records += page->records.size();
    }
    seconds = Seconds(Clock::now() - start);
    Report("read 100 B, random seek + page of 100", records, seconds);
  }
  std::filesystem::remove_all(root);
  return 0;
}
