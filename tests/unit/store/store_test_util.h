// Helpers shared by the store's table-level tests: short value builders and
// a fresh data directory per test.
#ifndef EDDY_TESTS_UNIT_STORE_STORE_TEST_UTIL_H_
#define EDDY_TESTS_UNIT_STORE_STORE_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "eddy/store/attribute_value.h"

namespace eddy::store::testing {

inline AttributeValue S(std::string s) {
  return AttributeValue::String(std::move(s));
}

// REQUIRES: `n` is a valid number.
inline AttributeValue N(std::string_view n) {
  return AttributeValue::Num(*Number::Parse(n));
}

// An empty directory named after the running test, under the temp dir.
inline std::filesystem::path FreshTestDir(std::string_view prefix) {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      (std::string(prefix) + std::to_string(::getpid()) + "_" +
       ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  return dir;
}

}  // namespace eddy::store::testing

#endif  // EDDY_TESTS_UNIT_STORE_STORE_TEST_UTIL_H_
