// Result<T>: a value of type T, or the Status that explains why there is none.
//
// Usage:
//   Result<Number> n = Number::Parse(text);
//   if (!n.ok()) return n.status();
//   Use(*n);
//
// Thread-safety: a value type, as Status.
#ifndef EDDY_RESULT_H_
#define EDDY_RESULT_H_

#include <cassert>
#include <optional>
#include <utility>

#include "eddy/status.h"

namespace eddy {

template <typename T>
class [[nodiscard]] Result {
 public:
  // REQUIRES: !status.ok(); an OK Result must carry a value.
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit
    assert(!status_.ok());
  }
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit

  bool ok() const { return status_.ok(); }
  const Status& status() const& { return status_; }
  Status status() && { return std::move(status_); }

  // REQUIRES: ok().
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T&& operator*() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace eddy

// Early-return helpers for the common propagate-on-error shape.
#define EDDY_RETURN_IF_ERROR(expr)           \
  do {                                       \
    ::eddy::Status eddy_status_ = (expr);    \
    if (!eddy_status_.ok()) return eddy_status_; \
  } while (0)

#define EDDY_CONCAT_INNER_(a, b) a##b
#define EDDY_CONCAT_(a, b) EDDY_CONCAT_INNER_(a, b)
#define EDDY_ASSIGN_OR_RETURN(lhs, expr) \
  EDDY_ASSIGN_OR_RETURN_IMPL_(EDDY_CONCAT_(eddy_result_, __LINE__), lhs, expr)
#define EDDY_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return std::move(tmp).status();    \
  lhs = std::move(*tmp)

#endif  // EDDY_RESULT_H_
