// kill -9 durability (DESIGN.md invariant 6): a child process appends in a
// loop and reports every sequence number Append returned through a pipe;
// the parent SIGKILLs it at an arbitrary moment, reopens the log and checks
// that every reported record is there with its payload, with no gaps and no
// duplicates. Several cycles on one log, so recovery of a log that was
// itself recovered is covered too.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "eddy/streams/shard_log.h"
#include "streams_test_util.h"

namespace eddy::streams {
namespace {

namespace fs = std::filesystem;

// What the child reports after each successful Append.
struct Report {
  uint64_t sequence;
  uint32_t writer;
  uint32_t index;
};
static_assert(sizeof(Report) == 16);

std::string PayloadFor(uint32_t writer, uint32_t index) {
  return "w" + std::to_string(writer) + "-i" + std::to_string(index) + "-" +
         std::string(index % 37, 'p');
}

bool ParsePayload(const std::string& payload, uint32_t* writer,
                  uint32_t* index) {
  unsigned w = 0;
  unsigned i = 0;
  if (std::sscanf(payload.c_str(), "w%u-i%u-", &w, &i) != 2) return false;
  *writer = w;
  *index = i;
  return payload == PayloadFor(w, i);
}

class ShardLogCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TestDir("eddy_shard_log_crash");
    options_.dir = dir_.string();
    options_.segment_bytes = 64 * 1024;  // Rolls happen mid-run too.
    options_.logger = QuietLogger();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs one child that appends from `writers` threads with writer ids
  // starting at `first_writer`, kills it after `reports_before_kill`
  // reports, and returns everything it reported.
  std::vector<Report> RunAndKill(uint32_t first_writer, int writers,
                                 size_t reports_before_kill, bool sync) {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      ChildMain(fds[1], first_writer, writers, sync);  // Never returns.
    }
    ::close(fds[1]);
    std::vector<Report> reports;
    Report r;
    bool killed = false;
    while (true) {
      const ssize_t n = ::read(fds[0], &r, sizeof(r));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // EOF: the child is gone.
      EXPECT_EQ(n, static_cast<ssize_t>(sizeof(r))) << "pipe writes are atomic";
      reports.push_back(r);
      if (!killed && reports.size() >= reports_before_kill) {
        ::kill(pid, SIGKILL);
        killed = true;  // Keep draining what it reported before dying.
      }
    }
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "child exited early with status " << status;
    return reports;
  }

  [[noreturn]] void ChildMain(int fd, uint32_t first_writer, int writers,
                              bool sync) {
    ShardLog::Options options = options_;
    options.sync_on_append = sync;
    auto log = ShardLog::Open(options);
    if (!log.ok()) ::_exit(2);
    std::vector<std::thread> threads;
    for (int t = 0; t < writers; ++t) {
      threads.emplace_back([&, t] {
        const uint32_t writer = first_writer + static_cast<uint32_t>(t);
        for (uint32_t i = 0;; ++i) {
          auto seq = (*log)->Append(PayloadFor(writer, i), i);
          if (!seq.ok()) ::_exit(3);
          const Report r{*seq, writer, i};
          if (::write(fd, &r, sizeof(r)) != sizeof(r)) ::_exit(4);
        }
      });
    }
    for (auto& t : threads) t.join();
    ::_exit(5);
  }

  fs::path dir_;
  ShardLog::Options options_;
};

TEST_F(ShardLogCrashTest, EveryReportedAppendSurvivesKill9) {
  std::vector<Report> reported;
  const int cycles = 6;
  for (int cycle = 0; cycle < cycles; ++cycle) {
    const bool sync = cycle % 3 == 2;
    auto r =
        RunAndKill(static_cast<uint32_t>(cycle * 10), 3,
                   sync ? 300 : 3000 + 1000 * static_cast<size_t>(cycle), sync);
    ASSERT_FALSE(r.empty());
    reported.insert(reported.end(), r.begin(), r.end());
  }

  auto log = ShardLog::Open(options_);
  ASSERT_THAT(log, IsOk());
  // Read everything, checking numbering and every payload.
  std::map<uint64_t, std::pair<uint32_t, uint32_t>> found;
  std::map<uint32_t, uint32_t> next_index;  // Per writer: in append order.
  uint64_t next = (*log)->first_sequence();
  ASSERT_EQ(next, 1u);
  while (true) {
    auto page = (*log)->Read(next, 1000, 1 << 20);
    ASSERT_THAT(page, IsOk());
    if (page->records.empty()) break;
    for (const auto& rec : page->records) {
      ASSERT_EQ(rec.sequence, next) << "gap or duplicate";
      uint32_t writer = 0;
      uint32_t index = 0;
      ASSERT_TRUE(ParsePayload(rec.payload, &writer, &index)) << rec.payload;
      ASSERT_EQ(index, next_index[writer]) << "writer " << writer;
      ++next_index[writer];
      found[rec.sequence] = {writer, index};
      ++next;
    }
  }
  for (const Report& r : reported) {
    auto it = found.find(r.sequence);
    ASSERT_NE(it, found.end()) << "reported sequence " << r.sequence << " lost";
    EXPECT_EQ(it->second, std::make_pair(r.writer, r.index));
  }
  EXPECT_EQ((*log)->last_sequence(), next - 1);
  std::printf("[ info     ] %zu reported appends over %d kills; %llu records\n",
              reported.size(), cycles,
              static_cast<unsigned long long>(next - 1));
  // And the log accepts appends after all that.
  auto seq = (*log)->Append("after", 0);
  ASSERT_THAT(seq, IsOk());
  EXPECT_EQ(*seq, next);
}

}  // namespace
}  // namespace eddy::streams
