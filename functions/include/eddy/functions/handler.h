// handler.h: the C++ SDK for Eddy trigger handlers. Header-only, C++17,
// depends on the C and C++ standard libraries and handler_abi.h only.
//
// A handler is a function from a batch of stream records to a result, with
// the names of the AWS Lambda C++ runtime (awslabs/aws-lambda-cpp
// include/aws/lambda-runtime/runtime.h), so Lambda code ports easily:
//
//   #include "eddy/functions/handler.h"
//   using namespace eddy::handler;
//
//   static invocation_response handle(const invocation_request& request) {
//     for (const record& r : request.records()) {
//       if (r.event() != event_type::insert) continue;
//       if (auto image = r.new_image(); image && image->contains("price")) {
//         log_info("price " + std::string((*image)["price"].as_number_text()));
//       }
//     }
//     return invocation_response::success();
//   }
//   EDDY_HANDLER(handle)
//
// Build it with eddy_add_handler(my_handler handler.cc) (EddyHandler.cmake).
//
// Names are snake_case like aws-lambda-cpp and the standard library, unlike
// the rest of Eddy. The SDK is a layer over the C ABI (handler_abi.h):
//   - Views: invocation_request, record, attribute_value, tumbling_window and
//     the ranges point into host memory, valid only during the call. Copy
//     (std::string(view)) whatever you keep.
//   - invocation_response owns its data.
//   - Wrong-type access (as_string() on a number, a missing map key) throws;
//     EDDY_HANDLER catches every exception and turns it into a failure result
//     with the exception's what(), so nothing crosses the C frame.
//   - The host calls the handler one batch at a time (see handler_abi.h,
//     "Thread-safety"); logging functions may be called from any thread.
#ifndef EDDY_FUNCTIONS_HANDLER_H_
#define EDDY_FUNCTIONS_HANDLER_H_

#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "eddy/functions/handler_abi.h"

namespace eddy::handler {

// ---------------------------------------------------------------------------
// Logging through the host (the worker's log, attributed to this handler).
// Before init or after destroy (e.g. in a unit test that calls the handler
// function directly) lines go to stderr.

enum class log_level : std::uint32_t {
  trace = EDDY_LOG_TRACE,
  debug = EDDY_LOG_DEBUG,
  info = EDDY_LOG_INFO,
  warn = EDDY_LOG_WARN,
  error = EDDY_LOG_ERROR,
};

inline void log(log_level level, std::string_view message) noexcept;
inline void log_trace(std::string_view message) noexcept {
  log(log_level::trace, message);
}
inline void log_debug(std::string_view message) noexcept {
  log(log_level::debug, message);
}
inline void log_info(std::string_view message) noexcept {
  log(log_level::info, message);
}
inline void log_warn(std::string_view message) noexcept {
  log(log_level::warn, message);
}
inline void log_error(std::string_view message) noexcept {
  log(log_level::error, message);
}

// ---------------------------------------------------------------------------
// Attribute values.

// Thrown by an accessor that does not match the value's type.
class bad_value_access : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// The DynamoDB types, with the ABI's tags. `unknown`: a tag newer than this
// SDK.
enum class value_type : std::uint32_t {
  unknown = 0,
  string = EDDY_VALUE_S,
  number = EDDY_VALUE_N,
  binary = EDDY_VALUE_B,
  boolean = EDDY_VALUE_BOOL,
  null = EDDY_VALUE_NULL,
  map = EDDY_VALUE_M,
  list = EDDY_VALUE_L,
  string_set = EDDY_VALUE_SS,
  number_set = EDDY_VALUE_NS,
  binary_set = EDDY_VALUE_BS,
};

// DynamoDB's name of a type: "S", "N", "B", "BOOL", "NULL", "M", "L", "SS",
// "NS", "BS" ("?" for unknown).
inline std::string_view type_name(value_type type) noexcept {
  switch (type) {
    case value_type::string:
      return "S";
    case value_type::number:
      return "N";
    case value_type::binary:
      return "B";
    case value_type::boolean:
      return "BOOL";
    case value_type::null:
      return "NULL";
    case value_type::map:
      return "M";
    case value_type::list:
      return "L";
    case value_type::string_set:
      return "SS";
    case value_type::number_set:
      return "NS";
    case value_type::binary_set:
      return "BS";
    case value_type::unknown:
      break;
  }
  return "?";
}

class attribute_value;
struct attribute;
class record;

namespace detail {

inline std::string_view view(const eddy_buffer_t& b) noexcept {
  return b.size == 0 ? std::string_view() : std::string_view(b.data, b.size);
}

// How the ranges below turn an ABI element into its C++ view.
inline std::string_view wrap(const eddy_buffer_t& b) noexcept {
  return view(b);
}
inline attribute_value wrap(const eddy_value_t& v) noexcept;
inline attribute wrap(const eddy_attribute_t& a) noexcept;
inline record wrap(const eddy_record_t* const& r) noexcept;

// A read-only view of a host array, yielding views of its elements.
template <typename Elem, typename T>
class array_range {
 public:
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = T;

    iterator() = default;
    explicit iterator(const Elem* p) : p_(p) {}
    T operator*() const { return wrap(*p_); }
    iterator& operator++() {
      ++p_;
      return *this;
    }
    iterator operator++(int) {
      iterator old = *this;
      ++p_;
      return old;
    }
    bool operator==(const iterator& o) const { return p_ == o.p_; }
    bool operator!=(const iterator& o) const { return p_ != o.p_; }

   private:
    const Elem* p_ = nullptr;
  };

  array_range() = default;
  array_range(const Elem* data, std::size_t size) : data_(data), size_(size) {}

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  iterator begin() const { return iterator(data_); }
  iterator end() const { return iterator(data_ + size_); }
  // Throws std::out_of_range if i >= size().
  T operator[](std::size_t i) const {
    if (i >= size_) {
      throw std::out_of_range("index " + std::to_string(i) +
                              " out of range (size " + std::to_string(size_) +
                              ")");
    }
    return wrap(data_[i]);
  }

 private:
  const Elem* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace detail

using list_range = detail::array_range<eddy_value_t, attribute_value>;
using map_range = detail::array_range<eddy_attribute_t, attribute>;
using set_range = detail::array_range<eddy_buffer_t, std::string_view>;
using record_range = detail::array_range<const eddy_record_t*, record>;

// A DynamoDB attribute value, viewed in place (host memory: valid during the
// call only). Cheap to copy.
class attribute_value {
 public:
  explicit attribute_value(const eddy_value_t& v) noexcept : v_(&v) {}

  value_type type() const noexcept {
    const std::uint32_t t = v_->type;
    return t >= EDDY_VALUE_S && t <= EDDY_VALUE_BS ? static_cast<value_type>(t)
                                                   : value_type::unknown;
  }
  bool is_string() const noexcept { return type() == value_type::string; }
  bool is_number() const noexcept { return type() == value_type::number; }
  bool is_binary() const noexcept { return type() == value_type::binary; }
  bool is_bool() const noexcept { return type() == value_type::boolean; }
  bool is_null() const noexcept { return type() == value_type::null; }
  bool is_map() const noexcept { return type() == value_type::map; }
  bool is_list() const noexcept { return type() == value_type::list; }
  bool is_string_set() const noexcept {
    return type() == value_type::string_set;
  }
  bool is_number_set() const noexcept {
    return type() == value_type::number_set;
  }
  bool is_binary_set() const noexcept {
    return type() == value_type::binary_set;
  }
  bool is_set() const noexcept {
    return is_string_set() || is_number_set() || is_binary_set();
  }

  // S: the UTF-8 text.
  std::string_view as_string() const {
    expect(value_type::string);
    return detail::view(v_->u.scalar);
  }
  // N: the decimal text as DynamoDB returns it ("42", "-1.5", "1E+30").
  std::string_view as_number_text() const {
    expect(value_type::number);
    return detail::view(v_->u.scalar);
  }
  // N as an integer. Throws std::out_of_range if the number is not an
  // integer or does not fit in int64 (DynamoDB numbers have 38 digits).
  std::int64_t as_int64() const;
  // N as the nearest double (may lose precision: 38 digits do not fit).
  double as_double() const;
  // B: the raw bytes (not base64).
  std::string_view as_binary() const {
    expect(value_type::binary);
    return detail::view(v_->u.scalar);
  }
  // BOOL.
  bool as_bool() const {
    expect(value_type::boolean);
    return v_->u.boolean != 0;
  }

  // M: the attributes, in the host's order.
  map_range as_map() const;
  // M: the attribute named `name`, or nullopt.
  std::optional<attribute_value> find(std::string_view name) const;
  bool contains(std::string_view name) const { return find(name).has_value(); }
  // M: the attribute named `name`; throws std::out_of_range if absent.
  attribute_value operator[](std::string_view name) const;

  // L: the elements in order.
  list_range as_list() const {
    expect(value_type::list);
    return list_range(v_->u.list.items, v_->u.list.count);
  }
  // L: element i; throws std::out_of_range if i >= size().
  attribute_value operator[](std::size_t i) const { return as_list()[i]; }

  // SS, NS, BS: the elements (text, decimal text, raw bytes), unordered.
  set_range as_string_set() const { return set_of(value_type::string_set); }
  set_range as_number_set() const { return set_of(value_type::number_set); }
  set_range as_binary_set() const { return set_of(value_type::binary_set); }
  // Any of the three sets.
  set_range as_set() const {
    if (!is_set()) throw_type_error("SS, NS or BS");
    return set_range(v_->u.set.items, v_->u.set.count);
  }

  // Number of elements of a M, L or set. Throws for other types.
  std::size_t size() const;

  // The value in DynamoDB JSON, e.g. {"S":"x"}, {"M":{"a":{"N":"1"}}};
  // binary as base64. For logs and for code that wants JSON.
  std::string to_json() const;
  void append_json(std::string& out) const;

  const eddy_value_t& raw() const noexcept { return *v_; }

 private:
  void expect(value_type t) const {
    if (type() != t) throw_type_error(type_name(t));
  }
  [[noreturn]] void throw_type_error(std::string_view wanted) const {
    throw bad_value_access("attribute value is " +
                           std::string(type_name(type())) + ", not " +
                           std::string(wanted));
  }
  set_range set_of(value_type t) const {
    expect(t);
    return set_range(v_->u.set.items, v_->u.set.count);
  }

  const eddy_value_t* v_;
};

// One attribute of a map.
struct attribute {
  std::string_view name;
  attribute_value value;
};

// ---------------------------------------------------------------------------
// Records and requests.

enum class event_type : std::uint32_t {
  unknown = 0,
  insert = EDDY_EVENT_INSERT,
  modify = EDDY_EVENT_MODIFY,
  remove = EDDY_EVENT_REMOVE,
};

// One DynamoDB stream record (Lambda's Records[i]), viewed in place.
class record {
 public:
  explicit record(const eddy_record_t& r) noexcept : r_(&r) {}

  event_type event() const noexcept {
    const std::uint32_t e = r_->event_name;
    return e >= EDDY_EVENT_INSERT && e <= EDDY_EVENT_REMOVE
               ? static_cast<event_type>(e)
               : event_type::unknown;
  }
  // "INSERT", "MODIFY" or "REMOVE" (Lambda's eventName).
  std::string_view event_name() const noexcept {
    switch (event()) {
      case event_type::insert:
        return "INSERT";
      case event_type::modify:
        return "MODIFY";
      case event_type::remove:
        return "REMOVE";
      case event_type::unknown:
        break;
    }
    return "UNKNOWN";
  }
  std::string_view event_id() const noexcept {
    return detail::view(r_->event_id);
  }
  // The record's position in its shard; the identifier of a batch item
  // failure.
  std::string_view sequence_number() const noexcept {
    return detail::view(r_->sequence_number);
  }
  std::int64_t approximate_creation_time_ms() const noexcept {
    return r_->approximate_creation_time_ms;
  }
  std::chrono::system_clock::time_point approximate_creation_time()
      const noexcept {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::milliseconds(r_->approximate_creation_time_ms)));
  }
  std::uint64_t size_bytes() const noexcept { return r_->size_bytes; }
  std::string_view event_source_arn() const noexcept {
    return detail::view(r_->event_source_arn);
  }
  std::string_view table_name() const noexcept {
    return detail::view(r_->table_name);
  }
  std::string_view stream_view_type() const noexcept {
    return detail::view(r_->stream_view_type);
  }
  // A REMOVE made by Time To Live rather than by a user.
  bool is_ttl_delete() const noexcept {
    return (r_->flags & EDDY_RECORD_FLAG_TTL_DELETE) != 0;
  }
  // The item's primary key attributes (a map).
  attribute_value keys() const noexcept { return attribute_value(*r_->keys); }
  // The item before the change (a map), if the stream view has it.
  std::optional<attribute_value> old_image() const noexcept {
    if (r_->old_image == nullptr) return std::nullopt;
    return attribute_value(*r_->old_image);
  }
  // The item after the change (a map), if the stream view has it.
  std::optional<attribute_value> new_image() const noexcept {
    if (r_->new_image == nullptr) return std::nullopt;
    return attribute_value(*r_->new_image);
  }

  // The record as Lambda's event JSON shows it ({"eventID":...,
  // "dynamodb":{"Keys":...}}).
  std::string to_json() const;
  void append_json(std::string& out) const;

  const eddy_record_t& raw() const noexcept { return *r_; }

 private:
  const eddy_record_t* r_;
};

// The tumbling window a batch belongs to.
class tumbling_window {
 public:
  explicit tumbling_window(const eddy_batch_t& b) noexcept : b_(&b) {}

  std::int64_t start_ms() const noexcept { return b_->window_start_ms; }
  std::int64_t end_ms() const noexcept { return b_->window_end_ms; }
  // The state the previous call of this window returned (empty at first).
  std::string_view state() const noexcept {
    return detail::view(b_->window_state);
  }
  // isFinalInvokeForWindow: the state returned now is the window's result.
  bool is_final_invoke() const noexcept {
    return (b_->window_flags & EDDY_WINDOW_FINAL) != 0;
  }
  // isWindowTerminatedEarly.
  bool is_terminated_early() const noexcept {
    return (b_->window_flags & EDDY_WINDOW_TERMINATED_EARLY) != 0;
  }

 private:
  const eddy_batch_t* b_;
};

// One invocation: a batch of records from one shard, in order.
class invocation_request {
 public:
  explicit invocation_request(const eddy_batch_t& b) noexcept : b_(&b) {}

  record_range records() const noexcept {
    return record_range(b_->records, b_->record_count);
  }
  std::string_view trigger_name() const noexcept {
    return detail::view(b_->trigger_name);
  }
  std::string_view shard_id() const noexcept {
    return detail::view(b_->shard_id);
  }
  std::string_view event_source_arn() const noexcept {
    return detail::view(b_->event_source_arn);
  }
  // Unique per invocation (aws-lambda-cpp's request_id).
  std::string_view request_id() const noexcept {
    return detail::view(b_->invocation_id);
  }
  // 1 on the first delivery of these records, then +1 per retry.
  std::uint32_t attempt() const noexcept { return b_->attempt; }
  // When the host may give up on this call; time_point::max() if never.
  std::chrono::system_clock::time_point deadline() const noexcept {
    if (b_->deadline_ms == 0)
      return std::chrono::system_clock::time_point::max();
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::milliseconds(b_->deadline_ms)));
  }
  std::chrono::milliseconds get_time_remaining() const noexcept {
    if (b_->deadline_ms == 0) return std::chrono::milliseconds::max();
    return std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline() - std::chrono::system_clock::now());
  }
  // The tumbling window, if the trigger has one.
  std::optional<tumbling_window> window() const noexcept {
    if ((b_->window_flags & EDDY_WINDOW_ACTIVE) == 0) return std::nullopt;
    return tumbling_window(*b_);
  }

  // The batch as Lambda's DynamoDB event JSON ({"Records":[...]}, plus the
  // window fields of a tumbling window), for code ported from Lambda that
  // parses its payload. Built on each call. The window state is embedded
  // as-is if it is one well-formed JSON object (what a ported handler
  // returns), else {}.
  std::string payload() const;

  const eddy_batch_t& raw() const noexcept { return *b_; }

 private:
  const eddy_batch_t* b_;
};

// ---------------------------------------------------------------------------
// The result.

class invocation_response {
 public:
  // Every record handled.
  static invocation_response success() { return invocation_response(); }
  // The whole batch failed and will be retried (Lambda's function error).
  static invocation_response failure(std::string error_message,
                                     std::string error_type = "HandlerError") {
    invocation_response r;
    r.failed_ = true;
    r.error_message_ = std::move(error_message);
    r.error_type_ = std::move(error_type);
    return r;
  }
  // ReportBatchItemFailures: these records (by sequence number) failed.
  // An empty list means success.
  static invocation_response batch_item_failures(
      std::vector<std::string> sequence_numbers) {
    invocation_response r;
    r.failed_items_ = std::move(sequence_numbers);
    return r;
  }

  // Adds one failed record.
  invocation_response& add_batch_item_failure(
      std::string_view sequence_number) {
    failed_items_.emplace_back(sequence_number);
    return *this;
  }
  // Sets the tumbling window's new state (opaque bytes). In a window batch a
  // response without state is a failure, as in Lambda.
  invocation_response& with_state(std::string state) {
    state_ = std::move(state);
    return *this;
  }

  bool is_success() const noexcept { return !failed_ && failed_items_.empty(); }
  bool is_failure() const noexcept { return failed_; }
  bool has_batch_item_failures() const noexcept {
    return !failed_ && !failed_items_.empty();
  }
  const std::string& error_message() const noexcept { return error_message_; }
  const std::string& error_type() const noexcept { return error_type_; }
  const std::vector<std::string>& failed_items() const noexcept {
    return failed_items_;
  }
  const std::optional<std::string>& state() const noexcept { return state_; }

 private:
  invocation_response() = default;

  bool failed_ = false;
  std::string error_message_;
  std::string error_type_;
  std::vector<std::string> failed_items_;
  std::optional<std::string> state_;
};

// ---------------------------------------------------------------------------
// The entry point.

// Defines the library's entry symbol for `fn`, a function (or captureless
// lambda) `invocation_response fn(const invocation_request&)`. Use once, at
// namespace scope, in one source file of the handler.
#define EDDY_HANDLER(fn) EDDY_HANDLER_WITH_INIT(nullptr, fn)

// As EDDY_HANDLER, and runs `init_fn` (`void init_fn()`) once at load,
// before any batch; if it throws, loading fails with its what() message.
#define EDDY_HANDLER_WITH_INIT(init_fn, fn)                               \
  extern "C" EDDY_HANDLER_EXPORT eddy_status_t eddy_handler_init(         \
      uint32_t host_abi_version, const eddy_host_api_t* host,             \
      const eddy_handler_t** handler) {                                   \
    return ::eddy::handler::detail::init(host_abi_version, host, handler, \
                                         (fn), (init_fn));                \
  }

// ===========================================================================
// Implementation.

namespace detail {

using handler_function = invocation_response (*)(const invocation_request&);
using init_function = void (*)();

// This library's one handler (each handler .so has its own copy: the SDK is
// built with hidden visibility).
struct handler_state {
  std::atomic<const eddy_host_api_t*> host{nullptr};
  handler_function fn = nullptr;
  eddy_handler_t table{};
};
inline handler_state g_state;

inline attribute_value wrap(const eddy_value_t& v) noexcept {
  return attribute_value(v);
}
inline attribute wrap(const eddy_attribute_t& a) noexcept {
  return attribute{view(a.name), attribute_value(a.value)};
}
inline record wrap(const eddy_record_t* const& r) noexcept {
  return record(*r);
}

// strtod-compatible parse of all of `text`; nullopt if it is not a number.
inline std::optional<double> parse_double(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
#if defined(__cpp_lib_to_chars) && __cpp_lib_to_chars >= 201611L
  double d = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
  if (ec == std::errc::result_out_of_range) return std::nullopt;
  if (ec != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return d;
#else
  const std::string copy(text);
  char* end = nullptr;
  const double d = std::strtod(copy.c_str(), &end);
  if (copy.empty() || end != copy.c_str() + copy.size()) return std::nullopt;
  return d;
#endif
}

// Whether `text` is exactly one JSON object (RFC 8259 syntax, at most 64
// levels deep), so that payload() may embed a window state as-is: one that
// only starts with '{' and ends with '}' would break the whole payload.
class json_object_checker {
 public:
  explicit json_object_checker(std::string_view text) : s_(text) {}

  bool check() {
    skip_space();
    if (i_ >= s_.size() || s_[i_] != '{' || !value(0)) return false;
    skip_space();
    return i_ == s_.size();
  }

 private:
  static constexpr int kMaxDepth = 64;

  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' ||
                              s_[i_] == '\n' || s_[i_] == '\r')) {
      ++i_;
    }
  }
  bool consume(char c) {
    skip_space();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  static bool digit(char c) { return c >= '0' && c <= '9'; }
  bool digits() {
    const std::size_t start = i_;
    while (i_ < s_.size() && digit(s_[i_])) ++i_;
    return i_ > start;
  }
  bool value(int depth) {
    if (depth > kMaxDepth) return false;
    skip_space();
    if (i_ >= s_.size()) return false;
    switch (s_[i_]) {
      case '{':
        return members(depth);
      case '[':
        return elements(depth);
      case '"':
        return string();
      case 't':
        return word("true");
      case 'f':
        return word("false");
      case 'n':
        return word("null");
      default:
        return number();
    }
  }
  bool members(int depth) {
    ++i_;
    if (consume('}')) return true;
    do {
      skip_space();
      if (!string() || !consume(':') || !value(depth + 1)) return false;
    } while (consume(','));
    return consume('}');
  }
  bool elements(int depth) {
    ++i_;
    if (consume(']')) return true;
    do {
      if (!value(depth + 1)) return false;
    } while (consume(','));
    return consume(']');
  }
  bool string() {
    if (i_ >= s_.size() || s_[i_] != '"') return false;
    ++i_;
    while (i_ < s_.size()) {
      const auto c = static_cast<unsigned char>(s_[i_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c != '\\') continue;
      if (i_ >= s_.size()) return false;
      const char escape = s_[i_++];
      if (escape == 'u') {
        for (int k = 0; k < 4; ++k, ++i_) {
          if (i_ >= s_.size()) return false;
          const char h = s_[i_];
          if (!digit(h) && !(h >= 'a' && h <= 'f') && !(h >= 'A' && h <= 'F')) {
            return false;
          }
        }
      } else if (std::string_view("\"\\/bfnrt").find(escape) ==
                 std::string_view::npos) {
        return false;
      }
    }
    return false;
  }
  bool number() {
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    if (i_ < s_.size() && s_[i_] == '0') {
      ++i_;
    } else if (!digits()) {
      return false;
    }
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (!digits()) return false;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (!digits()) return false;
    }
    return true;
  }
  bool word(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

inline void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out += kHex[u >> 4];
          out += kHex[u & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

inline void append_base64(std::string& out, std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  auto byte = [&](std::size_t i) -> std::uint32_t {
    return i < in.size() ? static_cast<unsigned char>(in[i]) : 0u;
  };
  for (std::size_t i = 0; i < in.size(); i += 3) {
    const std::uint32_t n = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[n & 63] : '=';
  }
}

// {"name":<value>,...}: a map's attributes as the Keys/NewImage objects.
inline void append_attributes_json(std::string& out, const attribute_value& m) {
  out += '{';
  bool first = true;
  for (const attribute a : m.as_map()) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, a.name);
    out += ':';
    a.value.append_json(out);
  }
  out += '}';
}

// "2020-07-30T17:00:00Z" for Unix epoch ms (Lambda's window bounds).
inline std::string iso8601(std::int64_t epoch_ms) {
  std::int64_t secs = epoch_ms / 1000;
  if (epoch_ms % 1000 < 0) --secs;
  std::int64_t days = secs / 86400;
  std::int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t doe = days - era * 146097;
  const std::int64_t yoe =
      (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  char buf[160];
  std::snprintf(buf, sizeof(buf), "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ",
                static_cast<long long>(year), static_cast<long long>(month),
                static_cast<long long>(day), static_cast<long long>(rem / 3600),
                static_cast<long long>(rem / 60 % 60),
                static_cast<long long>(rem % 60));
  return buf;
}

// The region field of an ARN ("arn:aws:dynamodb:<region>:..."), or "".
inline std::string_view arn_region(std::string_view arn) {
  for (int field = 0; field < 3; ++field) {
    const std::size_t colon = arn.find(':');
    if (colon == std::string_view::npos) return {};
    arn.remove_prefix(colon + 1);
  }
  return arn.substr(0, arn.find(':'));
}

}  // namespace detail

inline std::int64_t attribute_value::as_int64() const {
  const std::string_view text = as_number_text();
  std::int64_t n = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, n);
  if (ec == std::errc() && p == end) return n;
  // Not plain digits: "1E+3", "12.0", or out of range.
  const std::optional<double> d = detail::parse_double(text);
  if (d && std::isfinite(*d) && *d == std::trunc(*d) &&
      *d >= -9223372036854775808.0 && *d < 9223372036854775808.0) {
    return static_cast<std::int64_t>(*d);
  }
  throw std::out_of_range("number " + std::string(text) + " is not an int64");
}

inline double attribute_value::as_double() const {
  const std::string_view text = as_number_text();
  const std::optional<double> d = detail::parse_double(text);
  if (!d) {
    throw std::out_of_range("number " + std::string(text) +
                            " does not fit a double");
  }
  return *d;
}

inline map_range attribute_value::as_map() const {
  expect(value_type::map);
  return map_range(v_->u.map.entries, v_->u.map.count);
}

inline std::optional<attribute_value> attribute_value::find(
    std::string_view name) const {
  for (const attribute a : as_map()) {
    if (a.name == name) return a.value;
  }
  return std::nullopt;
}

inline attribute_value attribute_value::operator[](
    std::string_view name) const {
  std::optional<attribute_value> v = find(name);
  if (!v) {
    throw std::out_of_range("no attribute \"" + std::string(name) + "\"");
  }
  return *v;
}

inline std::size_t attribute_value::size() const {
  switch (type()) {
    case value_type::map:
      return v_->u.map.count;
    case value_type::list:
      return v_->u.list.count;
    case value_type::string_set:
    case value_type::number_set:
    case value_type::binary_set:
      return v_->u.set.count;
    default:
      break;
  }
  throw_type_error("M, L or a set");
}

inline std::string attribute_value::to_json() const {
  std::string out;
  append_json(out);
  return out;
}

inline void attribute_value::append_json(std::string& out) const {
  const value_type t = type();
  if (t == value_type::unknown) {
    out += "null";
    return;
  }
  out += "{\"";
  out += type_name(t);
  out += "\":";
  switch (t) {
    case value_type::string:
    case value_type::number:
      detail::append_json_string(out, detail::view(v_->u.scalar));
      break;
    case value_type::binary:
      out += '"';
      detail::append_base64(out, detail::view(v_->u.scalar));
      out += '"';
      break;
    case value_type::boolean:
      out += as_bool() ? "true" : "false";
      break;
    case value_type::null:
      out += "true";
      break;
    case value_type::map:
      detail::append_attributes_json(out, *this);
      break;
    case value_type::list: {
      out += '[';
      bool first = true;
      for (const attribute_value v : as_list()) {
        if (!first) out += ',';
        first = false;
        v.append_json(out);
      }
      out += ']';
      break;
    }
    case value_type::string_set:
    case value_type::number_set:
    case value_type::binary_set: {
      out += '[';
      bool first = true;
      for (const std::string_view e : as_set()) {
        if (!first) out += ',';
        first = false;
        if (t == value_type::binary_set) {
          out += '"';
          detail::append_base64(out, e);
          out += '"';
        } else {
          detail::append_json_string(out, e);
        }
      }
      out += ']';
      break;
    }
    case value_type::unknown:
      break;
  }
  out += '}';
}

inline std::string record::to_json() const {
  std::string out;
  append_json(out);
  return out;
}

inline void record::append_json(std::string& out) const {
  using detail::append_json_string;
  out += "{\"eventID\":";
  append_json_string(out, event_id());
  out += ",\"eventName\":";
  append_json_string(out, event_name());
  out += ",\"eventVersion\":\"1.1\",\"eventSource\":\"aws:dynamodb\"";
  out += ",\"awsRegion\":";
  append_json_string(out, detail::arn_region(event_source_arn()));
  out += ",\"dynamodb\":{\"ApproximateCreationDateTime\":";
  out += std::to_string(approximate_creation_time_ms() / 1000);
  out += ",\"Keys\":";
  detail::append_attributes_json(out, keys());
  if (auto image = new_image()) {
    out += ",\"NewImage\":";
    detail::append_attributes_json(out, *image);
  }
  if (auto image = old_image()) {
    out += ",\"OldImage\":";
    detail::append_attributes_json(out, *image);
  }
  out += ",\"SequenceNumber\":";
  append_json_string(out, sequence_number());
  out += ",\"SizeBytes\":";
  out += std::to_string(size_bytes());
  out += ",\"StreamViewType\":";
  append_json_string(out, stream_view_type());
  out += '}';
  if (is_ttl_delete()) {
    out +=
        ",\"userIdentity\":{\"type\":\"Service\","
        "\"principalId\":\"dynamodb.amazonaws.com\"}";
  }
  out += ",\"eventSourceARN\":";
  append_json_string(out, event_source_arn());
  out += '}';
}

inline std::string invocation_request::payload() const {
  std::string out = "{\"Records\":[";
  bool first = true;
  for (const record r : records()) {
    if (!first) out += ',';
    first = false;
    r.append_json(out);
  }
  out += ']';
  if (auto w = window()) {
    out += ",\"window\":{\"start\":\"" + detail::iso8601(w->start_ms()) +
           "\",\"end\":\"" + detail::iso8601(w->end_ms()) + "\"}";
    const std::string_view state = w->state();
    out += ",\"state\":";
    if (detail::json_object_checker(state).check()) {
      out += state;
    } else {
      out += "{}";
    }
    out += ",\"shardId\":";
    detail::append_json_string(out, shard_id());
    out += ",\"eventSourceARN\":";
    detail::append_json_string(out, event_source_arn());
    out += ",\"isFinalInvokeForWindow\":";
    out += w->is_final_invoke() ? "true" : "false";
    out += ",\"isWindowTerminatedEarly\":";
    out += w->is_terminated_early() ? "true" : "false";
  }
  out += '}';
  return out;
}

inline void log(log_level level, std::string_view message) noexcept {
  const eddy_host_api_t* host =
      detail::g_state.host.load(std::memory_order_acquire);
  if (host != nullptr && host->log != nullptr) {
    host->log(host->context, static_cast<eddy_log_level_t>(level),
              message.data(), message.size());
    return;
  }
  static constexpr const char* kNames[] = {"TRACE", "DEBUG", "INFO", "WARN",
                                           "ERROR"};
  const auto index = static_cast<std::uint32_t>(level);
  std::fprintf(stderr, "[handler %s] %.*s\n", index < 5 ? kNames[index] : "?",
               static_cast<int>(message.size()), message.data());
}

namespace detail {

// Logs "<prefix><what>", never throwing (falls back to the bare parts).
inline void log_error_noexcept(std::string_view prefix,
                               std::string_view what) noexcept {
  try {
    std::string line(prefix);
    line += what;
    log_error(line);
  } catch (...) {
    log_error(prefix);
    log_error(what);
  }
}

inline eddy_status_t report_failure(const eddy_host_api_t& host,
                                    eddy_result_t* result,
                                    std::string_view type,
                                    std::string_view message) noexcept {
  return host.result_set_failure(result, type.data(), type.size(),
                                 message.data(), message.size());
}

inline eddy_status_t write_response(const eddy_host_api_t& host,
                                    const invocation_response& response,
                                    eddy_result_t* result) noexcept {
  if (response.is_failure()) {
    const eddy_status_t s = report_failure(host, result, response.error_type(),
                                           response.error_message());
    if (s != EDDY_STATUS_OK) return s;
  } else {
    for (const std::string& seq : response.failed_items()) {
      const eddy_status_t s =
          host.result_add_batch_item_failure(result, seq.data(), seq.size());
      if (s != EDDY_STATUS_OK) return s;
    }
  }
  if (const std::optional<std::string>& state = response.state()) {
    return host.result_set_window_state(result, state->data(), state->size());
  }
  return EDDY_STATUS_OK;
}

inline eddy_status_t handle_batch(void* user_data, const eddy_batch_t* batch,
                                  eddy_result_t* result) noexcept {
  auto* state = static_cast<handler_state*>(user_data);
  const eddy_host_api_t* host =
      state == nullptr ? nullptr : state->host.load(std::memory_order_acquire);
  if (host == nullptr || state->fn == nullptr || batch == nullptr ||
      !EDDY_ABI_HAS_FIELD(batch, eddy_batch_t, window_state)) {
    return EDDY_STATUS_INVALID_ARGUMENT;
  }
  for (std::size_t i = 0; i < batch->record_count; ++i) {
    const eddy_record_t* r = batch->records[i];
    if (r == nullptr || !EDDY_ABI_HAS_FIELD(r, eddy_record_t, new_image) ||
        r->keys == nullptr) {
      return EDDY_STATUS_INVALID_ARGUMENT;
    }
  }
  try {
    const invocation_response response = state->fn(invocation_request(*batch));
    return write_response(*host, response, result);
  } catch (const std::exception& e) {
    return report_failure(*host, result, "Unhandled", e.what());
  } catch (...) {
    return report_failure(*host, result, "Unhandled",
                          "unknown exception (not a std::exception)");
  }
}

inline void destroy(void* user_data) noexcept {
  auto* state = static_cast<handler_state*>(user_data);
  if (state != nullptr) state->host.store(nullptr, std::memory_order_release);
}

inline eddy_status_t init(std::uint32_t host_abi_version,
                          const eddy_host_api_t* host,
                          const eddy_handler_t** out, handler_function fn,
                          init_function user_init) noexcept {
  handler_state& state = g_state;
  state.table.struct_size = sizeof(eddy_handler_t);
  state.table.abi_version = EDDY_HANDLER_ABI_VERSION;
  state.table.user_data = &state;
  state.table.handle_batch = &handle_batch;
  state.table.destroy = &destroy;
  if (out == nullptr) return EDDY_STATUS_INVALID_ARGUMENT;
  *out = &state.table;
  if (host_abi_version != EDDY_HANDLER_ABI_VERSION) {
    return EDDY_STATUS_VERSION_MISMATCH;
  }
  if (host == nullptr || fn == nullptr ||
      !EDDY_ABI_HAS_FIELD(host, eddy_host_api_t, result_set_window_state) ||
      host->log == nullptr || host->result_set_failure == nullptr ||
      host->result_add_batch_item_failure == nullptr ||
      host->result_set_window_state == nullptr) {
    return EDDY_STATUS_INVALID_ARGUMENT;
  }
  state.fn = fn;
  state.host.store(host, std::memory_order_release);
  if (user_init != nullptr) {
    try {
      user_init();
    } catch (const std::exception& e) {
      log_error_noexcept("init failed: ", e.what());
      state.host.store(nullptr, std::memory_order_release);
      return EDDY_STATUS_ERROR;
    } catch (...) {
      log_error("init failed: unknown exception (not a std::exception)");
      state.host.store(nullptr, std::memory_order_release);
      return EDDY_STATUS_ERROR;
    }
  }
  return EDDY_STATUS_OK;
}

}  // namespace detail
}  // namespace eddy::handler

#endif  // EDDY_FUNCTIONS_HANDLER_H_
