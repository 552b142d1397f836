// Helpers shared by the fuzz targets of tests/fuzz/ (STYLE.md §9): a check
// that aborts (so libFuzzer and the replay test both report it), and a
// reader that carves parameters out of the fuzzer's bytes.
#ifndef EDDY_TESTS_FUZZ_FUZZ_UTIL_H_
#define EDDY_TESTS_FUZZ_FUZZ_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

// A property the target asserts: on failure, prints it and aborts, which
// both libFuzzer and replay_main.cc report as a crash with the input.
#define EDDY_FUZZ_CHECK(cond)                                          \
  do {                                                                 \
    if (!(cond)) {                                                     \
      std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, \
                   __LINE__, #cond);                                   \
      std::abort();                                                    \
    }                                                                  \
  } while (0)

namespace eddy::fuzz {

// Consumes the fuzzer's bytes from the front: small integers that steer
// the target, then the rest as the payload. Reading past the end yields
// zeros, so every input is usable.
class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size)
      : data_(reinterpret_cast<const char*>(data), size) {}

  uint8_t Byte() {
    if (data_.empty()) return 0;
    const auto b = static_cast<uint8_t>(data_.front());
    data_.remove_prefix(1);
    return b;
  }
  // The bytes up to (not including) the next `separator`, which is
  // consumed; the rest of the input if there is none.
  std::string_view Until(char separator) {
    const size_t at = data_.find(separator);
    std::string_view part = data_.substr(0, at);
    data_.remove_prefix(at == std::string_view::npos ? data_.size() : at + 1);
    return part;
  }
  std::string_view Rest() {
    std::string_view rest = data_;
    data_ = {};
    return rest;
  }
  bool empty() const { return data_.empty(); }

 private:
  std::string_view data_;
};

}  // namespace eddy::fuzz

#endif  // EDDY_TESTS_FUZZ_FUZZ_UTIL_H_
