// Matchers and helpers shared by the streams tests.
#ifndef EDDY_TESTS_UNIT_STREAMS_STREAMS_TEST_UTIL_H_
#define EDDY_TESTS_UNIT_STREAMS_STREAMS_TEST_UTIL_H_

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "eddy/status.h"
#include "log_format.h"

namespace eddy::streams {

// Accepts a Status or a Result<T>.
MATCHER(IsOk, "is OK") {
  if constexpr (requires { arg.status(); }) {
    if (!arg.ok()) *result_listener << arg.status().ToString();
  } else {
    if (!arg.ok()) *result_listener << arg.ToString();
  }
  return arg.ok();
}

MATCHER_P(HasCode, code, "fails with " + std::string(Status::CodeName(code))) {
  if constexpr (requires { arg.status(); }) {
    *result_listener << arg.status().ToString();
    return arg.status().code() == code;
  } else {
    *result_listener << arg.ToString();
    return arg.code() == code;
  }
}

// A fresh directory per test, removed afterwards.
inline std::filesystem::path TestDir(const std::string& prefix) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  auto dir = std::filesystem::temp_directory_path() /
             (prefix + "_" + std::to_string(::getpid()) + "_" +
              info->test_suite_name() + "_" + info->name());
  std::filesystem::remove_all(dir);
  return dir;
}

// A logger that keeps tests quiet.
inline std::shared_ptr<spdlog::logger> QuietLogger() {
  return std::make_shared<spdlog::logger>(
      "streams-test", std::make_shared<spdlog::sinks::null_sink_mt>());
}

// A clock that stands still at 1000, for tests that compute records'
// offsets: records they stamp 1000 carry the time their segment was made.
inline int64_t StoppedClockMs() { return 1000; }

// The bytes a record with this payload takes in a segment of the current
// version when stamped with the segment's base time (a log on
// StoppedClockMs).
inline uint64_t RecordBytesAtBaseTime(const std::string& payload) {
  const auto size = static_cast<uint32_t>(payload.size());
  return format::RecordHeaderSize(format::SegmentHeader{}, size, 0) + size;
}

inline std::string ReadFileBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void WriteFileBytes(const std::filesystem::path& path,
                           const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace eddy::streams

#endif  // EDDY_TESTS_UNIT_STREAMS_STREAMS_TEST_UTIL_H_
