// Status: the outcome of an operation that returns no value.
//
// A Status is either OK or carries a code and a message. The codes are
// deliberately few (model: leveldb/include/leveldb/status.h); the layer that
// talks to users (runtime/api) maps them to DynamoDB error types once.
//
// Thread-safety: a Status is a value; distinct objects may be used from
// distinct threads without synchronisation.
#ifndef EDDY_STATUS_H_
#define EDDY_STATUS_H_

#include <string>
#include <string_view>
#include <utility>

namespace eddy {

class [[nodiscard]] Status {
 public:
  enum class Code : unsigned char {
    kOk = 0,
    kInvalidArgument,  // Bad input: DynamoDB's ValidationException.
    kNotFound,         // A named resource does not exist.
    kAlreadyExists,    // A named resource exists already / is in use.
    kConditionFailed,  // A ConditionExpression evaluated to false.
    kCorruption,       // Stored data failed to decode.
    kIOError,          // The storage engine failed.
    kBusy,             // Transient: retry later.
    kOutOfRange,       // A position outside what exists (e.g. trimmed).
    kInternal,         // A bug or an unexpected state.
  };

  Status() = default;

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string msg) {
    return Status(Code::kInvalidArgument, std::move(msg));
  }
  static Status NotFound(std::string msg) {
    return Status(Code::kNotFound, std::move(msg));
  }
  static Status AlreadyExists(std::string msg) {
    return Status(Code::kAlreadyExists, std::move(msg));
  }
  static Status ConditionFailed(std::string msg) {
    return Status(Code::kConditionFailed, std::move(msg));
  }
  static Status Corruption(std::string msg) {
    return Status(Code::kCorruption, std::move(msg));
  }
  static Status IOError(std::string msg) {
    return Status(Code::kIOError, std::move(msg));
  }
  static Status Busy(std::string msg) {
    return Status(Code::kBusy, std::move(msg));
  }
  static Status OutOfRange(std::string msg) {
    return Status(Code::kOutOfRange, std::move(msg));
  }
  static Status Internal(std::string msg) {
    return Status(Code::kInternal, std::move(msg));
  }

  bool ok() const { return code_ == Code::kOk; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsAlreadyExists() const { return code_ == Code::kAlreadyExists; }
  bool IsConditionFailed() const { return code_ == Code::kConditionFailed; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsIOError() const { return code_ == Code::kIOError; }
  bool IsOutOfRange() const { return code_ == Code::kOutOfRange; }

  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // "OK" or "<code name>: <message>", for logs.
  std::string ToString() const {
    if (ok()) return "OK";
    return std::string(CodeName(code_)) + ": " + message_;
  }

  // Marks a Status as deliberately ignored; greppable, like rocksdb's
  // PermitUncheckedError().
  void IgnoreError() const {}

  static std::string_view CodeName(Code code) {
    switch (code) {
      case Code::kOk:
        return "OK";
      case Code::kInvalidArgument:
        return "InvalidArgument";
      case Code::kNotFound:
        return "NotFound";
      case Code::kAlreadyExists:
        return "AlreadyExists";
      case Code::kConditionFailed:
        return "ConditionFailed";
      case Code::kCorruption:
        return "Corruption";
      case Code::kIOError:
        return "IOError";
      case Code::kBusy:
        return "Busy";
      case Code::kOutOfRange:
        return "OutOfRange";
      case Code::kInternal:
        return "Internal";
    }
    return "Unknown";
  }

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}

  Code code_ = Code::kOk;
  std::string message_;
};

}  // namespace eddy

#endif  // EDDY_STATUS_H_
