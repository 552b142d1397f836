// Shared helpers for the expression tests: status matchers, value builders
// and a fixture holding one request's ExpressionAttributeNames/Values.
#ifndef EDDY_TESTS_UNIT_STORE_EXPRESSION_TEST_UTIL_H_
#define EDDY_TESTS_UNIT_STORE_EXPRESSION_TEST_UTIL_H_

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eddy/store/attribute_value.h"
#include "eddy/store/expression.h"

namespace eddy {
// Prints a Result as its status (not its bytes) in failures.
template <typename T>
void PrintTo(const Result<T>& r, std::ostream* os) {
  *os << r.status().ToString();
}
inline void PrintTo(const Status& s, std::ostream* os) { *os << s.ToString(); }
}  // namespace eddy

namespace eddy::store::testing {

inline const Status& StatusOf(const Status& s) { return s; }
template <typename T>
const Status& StatusOf(const Result<T>& r) {
  return r.status();
}

MATCHER(IsOk, "is OK") {
  const Status& s = StatusOf(arg);
  if (!s.ok()) *result_listener << s.ToString();
  return s.ok();
}

// An InvalidArgument with exactly `message`.
MATCHER_P(FailsWith, message, "fails with \"" + std::string(message) + "\"") {
  const Status& s = StatusOf(arg);
  if (s.ok()) {
    *result_listener << "is OK";
    return false;
  }
  *result_listener << s.ToString();
  return s.IsInvalidArgument() && s.message() == message;
}

inline AttributeValue S(std::string s) {
  return AttributeValue::String(std::move(s));
}
inline AttributeValue N(std::string_view text) {
  Result<Number> n = Number::Parse(text);
  EXPECT_TRUE(n.ok()) << text;
  return AttributeValue::Num(n.ok() ? *n : Number());
}
inline AttributeValue B(std::string bytes) {
  return AttributeValue::Binary(std::move(bytes));
}
inline AttributeValue Bool(bool b) { return AttributeValue::Bool(b); }
inline AttributeValue Null() { return AttributeValue::Null(); }
inline AttributeValue M(AttributeMap m) {
  return AttributeValue::Map(std::move(m));
}
inline AttributeValue L(AttributeList l) {
  return AttributeValue::List(std::move(l));
}
inline AttributeValue SS(std::vector<std::string> members) {
  Result<AttributeValue> v = AttributeValue::StringSet(std::move(members));
  EXPECT_TRUE(v.ok());
  return v.ok() ? *v : AttributeValue();
}
inline AttributeValue NS(const std::vector<std::string>& members) {
  Result<AttributeValue> v = AttributeValue::NumberSet(members);
  EXPECT_TRUE(v.ok());
  return v.ok() ? *v : AttributeValue();
}
inline AttributeValue BS(std::vector<std::string> members) {
  Result<AttributeValue> v = AttributeValue::BinarySet(std::move(members));
  EXPECT_TRUE(v.ok());
  return v.ok() ? *v : AttributeValue();
}

// Path helpers: Key("a"), Index(2).
inline PathElement Key(std::string name) {
  PathElement e;
  e.name = std::move(name);
  return e;
}
inline PathElement Index(uint32_t index) {
  PathElement e;
  e.is_index = true;
  e.index = index;
  return e;
}

// Holds one request's substitutions, as ExpressionContext expects them to
// outlive it. Tests add names and values, then parse.
class ExpressionTestBase : public ::testing::Test {
 protected:
  // ExpressionAttributeValues[token] = value.
  void Value(const std::string& token, AttributeValue value) {
    values_[token] = std::move(value);
    has_values_ = true;
  }
  // ExpressionAttributeNames[token] = name.
  void Name(const std::string& token, std::string name) {
    names_[token] = std::move(name);
    has_names_ = true;
  }
  // A fresh context over the substitutions added so far.
  ExpressionContext* Context() {
    context_ = std::make_unique<ExpressionContext>(
        has_names_ ? &names_ : nullptr, has_values_ ? &values_ : nullptr);
    return context_.get();
  }
  ExpressionContext* LastContext() { return context_.get(); }

  std::map<std::string, std::string> names_;
  AttributeMap values_;
  bool has_names_ = false;
  bool has_values_ = false;
  std::unique_ptr<ExpressionContext> context_;
};

}  // namespace eddy::store::testing

#endif  // EDDY_TESTS_UNIT_STORE_EXPRESSION_TEST_UTIL_H_
