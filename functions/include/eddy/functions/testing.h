// testing.h: unit-test helpers for trigger handlers. Build an invocation
// from a DynamoDB Streams event (JSON as Lambda delivers it, or as
// GetRecords returns it) or from records made in code, and run a handler on
// it in the test process, through the same C ABI and C++ glue a worker uses.
// Header-only, C++17, the C++ standard library only: a test is a few lines
// of GoogleTest or of plain code.
//
//   #include "eddy/functions/testing.h"
//   namespace t = eddy::handler::test;
//
//   // The handler under test, called as a worker would call it:
//   t::result r = t::invoke(handle, t::load_event("events/insert.json"));
//   // ...or through the library's own entry point (EDDY_HANDLER in the
//   // linked handler.cc, init function included):
//   t::harness h;
//   t::result r = h.invoke(t::event{{t::insert(
//       t::value::map({{"id", t::value::string("o1")}}),
//       t::value::map({{"id", t::value::string("o1")},
//                      {"total", t::value::number(42)}}))}});
//   if (!r.is_success()) ... r.describe(), r.logs ...
//
// What an event may be (parse_event):
//   - Lambda's event: {"Records":[...]} with each record's eventSourceARN,
//     and for a tumbling window "window", "state", "shardId",
//     "isFinalInvokeForWindow", "isWindowTerminatedEarly";
//   - GetRecords' answer: {"Records":[...],"NextShardIterator":...}
//     (records without eventSourceARN: the event's default is used);
//   - a JSON array of records, or one record.
// A record needs eventName and dynamodb.Keys; everything else has a
// default (a sequence number from its position, the view type from the
// images present, the table "Table"). ApproximateCreationDateTime may be
// epoch seconds or an ISO-8601 time (as the AWS CLI prints it). Anything
// else malformed throws std::invalid_argument saying where.
//
// Thread-safety: the helpers keep no global state of their own, but a
// handler's logging goes through the SDK's one per-library host, so run one
// invocation at a time.
//
// Names are snake_case like the rest of the handler SDK (handler.h).
#ifndef EDDY_FUNCTIONS_TESTING_H_
#define EDDY_FUNCTIONS_TESTING_H_

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <fstream>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eddy/functions/handler.h"
#include "eddy/functions/handler_abi.h"
#include "eddy/functions/json.h"

namespace eddy::handler::test {

inline constexpr char default_table[] = "Table";
inline constexpr char default_region[] = "us-east-1";
inline constexpr char default_stream_label[] = "2024-01-01T00:00:00.000";

// A DynamoDB attribute value that owns its data (the SDK's attribute_value
// is a view of host memory; this is what a test builds the host memory
// from).
class value {
 public:
  value() = default;  // NULL

  static value string(std::string s) { return scalar(value_type::string, std::move(s)); }
  // `text` is DynamoDB's decimal text ("42", "-1.5").
  static value number(std::string text) {
    return scalar(value_type::number, std::move(text));
  }
  static value number(const char* text) { return number(std::string(text)); }
  static value number(std::int64_t n) { return number(std::to_string(n)); }
  static value number(int n) { return number(std::to_string(n)); }
  // Raw bytes (not base64).
  static value binary(std::string bytes) {
    return scalar(value_type::binary, std::move(bytes));
  }
  static value boolean(bool b) {
    value v;
    v.type_ = value_type::boolean;
    v.boolean_ = b;
    return v;
  }
  static value null() { return value(); }
  static value map(std::vector<std::pair<std::string, value>> entries) {
    value v;
    v.type_ = value_type::map;
    v.entries_ = std::move(entries);
    return v;
  }
  static value list(std::vector<value> items) {
    value v;
    v.type_ = value_type::list;
    v.items_ = std::move(items);
    return v;
  }
  static value string_set(std::vector<std::string> items) {
    return set(value_type::string_set, std::move(items));
  }
  static value number_set(std::vector<std::string> items) {
    return set(value_type::number_set, std::move(items));
  }
  static value binary_set(std::vector<std::string> items) {
    return set(value_type::binary_set, std::move(items));
  }

  // DynamoDB JSON ({"S":"x"}, {"M":{...}}, binary in base64); throws
  // std::invalid_argument naming `where` when it is not an attribute value.
  static value from_json(const json::value& v, const std::string& where);
  // An item or key in DynamoDB JSON ({"id":{"S":"x"},...}) as a map.
  static value map_from_json(const json::value& v, const std::string& where);

  value_type type() const noexcept { return type_; }
  const std::string& text() const noexcept { return text_; }  // S, N, B
  bool as_bool() const noexcept { return boolean_; }
  const std::vector<std::pair<std::string, value>>& entries() const noexcept {
    return entries_;
  }
  const std::vector<value>& items() const noexcept { return items_; }
  const std::vector<std::string>& set_items() const noexcept { return set_; }

  // DynamoDB JSON text (binary as base64).
  std::string to_json() const {
    std::string out;
    append_json(out);
    return out;
  }
  void append_json(std::string& out) const;
  // A map's attributes as an item: {"id":{"S":"x"}}.
  void append_attributes_json(std::string& out) const;

 private:
  static value scalar(value_type t, std::string text) {
    value v;
    v.type_ = t;
    v.text_ = std::move(text);
    return v;
  }
  static value set(value_type t, std::vector<std::string> items) {
    value v;
    v.type_ = t;
    v.set_ = std::move(items);
    return v;
  }

  value_type type_ = value_type::null;
  std::string text_;
  bool boolean_ = false;
  std::vector<std::pair<std::string, value>> entries_;
  std::vector<value> items_;
  std::vector<std::string> set_;
};

// One stream record, owned. Empty strings and zero numbers take the
// event's defaults when the batch is built (see the top of this file).
struct stream_record {
  event_type event = event_type::insert;
  std::string event_id;
  std::string sequence_number;
  std::int64_t approximate_creation_time_ms = 0;
  std::uint64_t size_bytes = 0;
  std::string event_source_arn;
  std::string table_name;
  std::string stream_view_type;
  bool ttl_delete = false;
  value keys = value::map({});
  std::optional<value> old_image;
  std::optional<value> new_image;
};

// Records as the writes make them (view type NEW_AND_OLD_IMAGES).
inline stream_record insert(value keys, value new_image) {
  stream_record r;
  r.event = event_type::insert;
  r.keys = std::move(keys);
  r.new_image = std::move(new_image);
  return r;
}
inline stream_record modify(value keys, value old_image, value new_image) {
  stream_record r;
  r.event = event_type::modify;
  r.keys = std::move(keys);
  r.old_image = std::move(old_image);
  r.new_image = std::move(new_image);
  return r;
}
inline stream_record remove(value keys, value old_image) {
  stream_record r;
  r.event = event_type::remove;
  r.keys = std::move(keys);
  r.old_image = std::move(old_image);
  return r;
}

// A tumbling window (Lambda's window, state, isFinalInvokeForWindow,
// isWindowTerminatedEarly).
struct window {
  std::int64_t start_ms = 0;
  std::int64_t end_ms = 0;
  std::string state;  // What the previous call returned; "" at first.
  bool is_final = false;
  bool terminated_early = false;
};

// One invocation's input.
struct event {
  event() = default;
  explicit event(std::vector<stream_record> r) : records(std::move(r)) {}

  std::vector<stream_record> records;
  std::string table_name = default_table;
  std::string event_source_arn;  // "": arn:aws:dynamodb:...:table/<table>/...
  std::string shard_id = "shardId-00000001704067200000-00000000";
  std::string trigger_name = "local";
  std::string invocation_id = "local-invocation";
  std::uint32_t attempt = 1;
  std::int64_t deadline_ms = 0;  // 0: none.
  std::optional<test::window> window;

  // The stream ARN records get when they have none.
  std::string stream_arn() const {
    if (!event_source_arn.empty()) return event_source_arn;
    return std::string("arn:aws:dynamodb:") + default_region +
           ":000000000000:table/" + table_name + "/stream/" +
           default_stream_label;
  }
  // Lambda's event JSON for this event (what `eddy trigger generate-event`
  // prints and parse_event reads back).
  std::string to_json() const;
};

// Reads an event (see the top of this file); throws json::parse_error or
// std::invalid_argument.
event parse_event(std::string_view json_text);
event event_from_json(const json::value& doc);
// parse_event of a file's contents; std::runtime_error if it cannot be read.
event load_event(const std::string& path);

struct log_line {
  log_level level = log_level::info;
  std::string message;
};

// What one invocation did, as the worker would report it.
struct result {
  eddy_status_t status = EDDY_STATUS_OK;  // handle_batch's return value
  bool failed = false;  // a function error: the whole batch is retried
  std::string error_type;
  std::string error_message;
  std::vector<std::string> batch_item_failures;  // itemIdentifiers
  std::optional<std::string> window_state;
  std::vector<log_line> logs;

  bool is_success() const noexcept {
    return !failed && batch_item_failures.empty();
  }
  bool is_failure() const noexcept { return failed; }
  bool has_batch_item_failures() const noexcept {
    return !failed && !batch_item_failures.empty();
  }
  // "success", "failure HandlerError: ...", "batch item failures: a, b".
  std::string describe() const;
  // Whether a log line contains `text`.
  bool logged(std::string_view text) const {
    for (const log_line& l : logs) {
      if (l.message.find(text) != std::string::npos) return true;
    }
    return false;
  }
};

// The C structs of one batch, built from an event (which must outlive it).
// Not copyable: the structs point into each other.
class abi_batch {
 public:
  explicit abi_batch(const event& e);
  abi_batch(const abi_batch&) = delete;
  abi_batch& operator=(const abi_batch&) = delete;

  const eddy_batch_t& get() const noexcept { return batch_; }

 private:
  static eddy_buffer_t buffer(const std::string& s) noexcept {
    return eddy_buffer_t{s.data(), s.size()};
  }
  const std::string& keep(std::string s) {
    strings_.push_back(std::move(s));
    return strings_.back();
  }
  void fill(const value& v, eddy_value_t* out);

  std::deque<std::string> strings_;
  std::deque<std::vector<eddy_attribute_t>> maps_;
  std::deque<std::vector<eddy_value_t>> lists_;
  std::deque<std::vector<eddy_buffer_t>> sets_;
  std::deque<eddy_value_t> roots_;
  std::vector<eddy_record_t> records_;
  std::vector<const eddy_record_t*> pointers_;
  eddy_batch_t batch_{};
};

// A host that records what the handler reports (the worker's part of the
// ABI, in memory).
class recording_host {
 public:
  recording_host();
  recording_host(const recording_host&) = delete;
  recording_host& operator=(const recording_host&) = delete;

  const eddy_host_api_t* api() const noexcept { return &api_; }
  // Runs one batch through `table` and collects its outcome and the log
  // lines written since the last call.
  result run(const eddy_handler_t& table, const event& e);
  // Log lines not yet handed out by run() (e.g. written by init).
  std::vector<log_line> take_logs();

 private:
  struct outcome {
    result* out;
  };
  static void log_cb(eddy_host_context_t* context, eddy_log_level_t level,
                     const char* message, std::size_t size) noexcept;
  static eddy_status_t set_failure(eddy_result_t* handle, const char* type,
                                   std::size_t type_size, const char* message,
                                   std::size_t message_size) noexcept;
  static eddy_status_t add_item_failure(eddy_result_t* handle,
                                        const char* sequence,
                                        std::size_t size) noexcept;
  static eddy_status_t set_state(eddy_result_t* handle, const void* state,
                                 std::size_t size) noexcept;

  eddy_host_api_t api_{};
  std::mutex mu_;
  std::vector<log_line> logs_;
};

// Runs `fn` (the function given to EDDY_HANDLER) on `e` through the SDK's
// C++ glue: exceptions become failures, the response goes through the host
// functions, log_*() lines are collected. Does not run an init function.
result invoke(invocation_response (*fn)(const invocation_request&),
              const event& e);

// The handler library linked into the test (its EDDY_HANDLER or
// EDDY_HANDLER_WITH_INIT), initialised once as a worker does at load
// (init function included) and destroyed with the harness. Throws
// std::runtime_error, with the handler's error log, if init fails.
class harness {
 public:
  explicit harness(eddy_handler_init_fn entry = &::eddy_handler_init);
  ~harness();
  harness(const harness&) = delete;
  harness& operator=(const harness&) = delete;

  result invoke(const event& e) { return host_.run(*table_, e); }
  // Lines the handler logged at init.
  const std::vector<log_line>& init_logs() const noexcept { return init_logs_; }

 private:
  recording_host host_;
  const eddy_handler_t* table_ = nullptr;
  std::vector<log_line> init_logs_;
};

// ===========================================================================
// Implementation.

namespace detail {

inline bool base64_decode(std::string_view in, std::string* out) {
  auto digit = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  out->clear();
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t padding = 0;
  for (const char c : in) {
    if (c == '=') {
      ++padding;
      continue;
    }
    if (padding > 0) return false;  // data after padding
    const int d = digit(c);
    if (d < 0) return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return padding <= 2;
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
inline std::int64_t days_from_civil(std::int64_t y, std::int64_t m,
                                    std::int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// "2024-01-01T00:00:00Z", "2024-01-01T00:00:00.123+01:00" -> epoch ms.
inline std::optional<std::int64_t> parse_iso8601(std::string_view s) {
  auto number = [&s](std::size_t at, std::size_t n) -> std::optional<int> {
    if (at + n > s.size()) return std::nullopt;
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  const auto year = number(0, 4), month = number(5, 2), day = number(8, 2);
  const auto hour = number(11, 2), minute = number(14, 2),
             second = number(17, 2);
  if (!year || !month || !day || !hour || !minute || !second || s[4] != '-' ||
      s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' ||
      s[16] != ':') {
    return std::nullopt;
  }
  std::size_t at = 19;
  std::int64_t ms = 0;
  if (at < s.size() && s[at] == '.') {
    ++at;
    std::int64_t scale = 100;
    while (at < s.size() && s[at] >= '0' && s[at] <= '9') {
      ms += (s[at] - '0') * scale;
      scale /= 10;
      ++at;
    }
  }
  std::int64_t offset_minutes = 0;
  if (at < s.size() && (s[at] == 'Z' || s[at] == 'z')) {
    ++at;
  } else if (at < s.size() && (s[at] == '+' || s[at] == '-')) {
    const int sign = s[at] == '-' ? -1 : 1;
    const auto oh = number(at + 1, 2);
    const std::size_t colon = at + 3 < s.size() && s[at + 3] == ':' ? 1 : 0;
    const auto om = number(at + 3 + colon, 2);
    if (!oh || !om) return std::nullopt;
    offset_minutes = sign * (*oh * 60 + *om);
    at += 5 + colon;
  }
  if (at != s.size()) return std::nullopt;
  const std::int64_t days = days_from_civil(*year, *month, *day);
  const std::int64_t secs =
      days * 86400 + *hour * 3600 + *minute * 60 + *second -
      offset_minutes * 60;
  return secs * 1000 + ms;
}

inline event_type event_from_name(std::string_view name) {
  if (name == "INSERT") return event_type::insert;
  if (name == "MODIFY") return event_type::modify;
  if (name == "REMOVE") return event_type::remove;
  return event_type::unknown;
}

// The table of "arn:aws:dynamodb:<region>:<account>:table/<T>/stream/...".
inline std::string table_of_arn(std::string_view arn) {
  const std::size_t at = arn.find(":table/");
  if (at == std::string_view::npos) return "";
  std::string_view rest = arn.substr(at + 7);
  return std::string(rest.substr(0, rest.find('/')));
}

inline const json::value* member(const json::value& object,
                                 std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (const json::value* v = object.find(name)) return v;
  }
  return nullptr;
}

inline std::string sequence_of(std::size_t index) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "1%020llu",
                static_cast<unsigned long long>(index + 1));
  return buf;
}

inline stream_record record_from_json(const json::value& r,
                                      const std::string& where) {
  if (!r.is_object()) throw std::invalid_argument(where + " is not an object");
  stream_record out;
  const json::value* name = member(r, {"eventName"});
  if (name == nullptr || !name->is_string()) {
    throw std::invalid_argument(where +
                                ".eventName is missing (INSERT, MODIFY or "
                                "REMOVE)");
  }
  out.event = event_from_name(name->as_string());
  if (out.event == event_type::unknown) {
    throw std::invalid_argument(where + ".eventName must be INSERT, MODIFY or "
                                        "REMOVE, not " +
                                name->as_string());
  }
  out.event_id = r.string_or("eventID");
  out.event_source_arn = r.string_or("eventSourceARN");
  const json::value* d = r.find("dynamodb");
  if (d == nullptr || !d->is_object()) {
    throw std::invalid_argument(where + ".dynamodb is missing");
  }
  const std::string at = where + ".dynamodb";
  const json::value* keys = d->find("Keys");
  if (keys == nullptr) throw std::invalid_argument(at + ".Keys is missing");
  out.keys = value::map_from_json(*keys, at + ".Keys");
  if (const json::value* image = d->find("NewImage")) {
    out.new_image = value::map_from_json(*image, at + ".NewImage");
  }
  if (const json::value* image = d->find("OldImage")) {
    out.old_image = value::map_from_json(*image, at + ".OldImage");
  }
  if (const json::value* seq = d->find("SequenceNumber")) {
    if (seq->is_string()) {
      out.sequence_number = seq->as_string();
    } else if (seq->is_number()) {
      out.sequence_number = seq->number_text();
    } else {
      throw std::invalid_argument(at + ".SequenceNumber must be a string");
    }
  }
  if (const json::value* size = d->find("SizeBytes")) {
    if (!size->is_number()) {
      throw std::invalid_argument(at + ".SizeBytes must be a number");
    }
    out.size_bytes = static_cast<std::uint64_t>(size->as_int64());
  }
  out.stream_view_type = d->string_or("StreamViewType");
  if (const json::value* when = d->find("ApproximateCreationDateTime")) {
    if (when->is_number()) {
      out.approximate_creation_time_ms =
          static_cast<std::int64_t>(when->as_double() * 1000.0);
    } else if (when->is_string()) {
      const std::optional<std::int64_t> ms = parse_iso8601(when->as_string());
      if (!ms) {
        throw std::invalid_argument(at +
                                    ".ApproximateCreationDateTime is not "
                                    "epoch seconds nor an ISO-8601 time: " +
                                    when->as_string());
      }
      out.approximate_creation_time_ms = *ms;
    } else {
      throw std::invalid_argument(at +
                                  ".ApproximateCreationDateTime must be a "
                                  "number or a time");
    }
  }
  // TTL deletes: Lambda spells userIdentity's members type/principalId,
  // GetRecords Type/PrincipalId.
  if (const json::value* who = member(r, {"userIdentity", "UserIdentity"})) {
    const json::value* principal = member(*who, {"principalId", "PrincipalId"});
    out.ttl_delete = principal != nullptr && principal->is_string() &&
                     principal->as_string() == "dynamodb.amazonaws.com";
  }
  return out;
}

}  // namespace detail

inline value value::from_json(const json::value& v, const std::string& where) {
  if (!v.is_object() || v.members().size() != 1) {
    throw std::invalid_argument(
        where + " is not an attribute value such as {\"S\":\"text\"}");
  }
  const std::string& tag = v.members()[0].first;
  const json::value& body = v.members()[0].second;
  auto text = [&](const char* what) -> const std::string& {
    if (!body.is_string()) {
      throw std::invalid_argument(where + "." + tag + " must be " + what);
    }
    return body.as_string();
  };
  auto strings = [&](bool binary) {
    if (!body.is_array()) {
      throw std::invalid_argument(where + "." + tag + " must be a list");
    }
    std::vector<std::string> out;
    for (const json::value& e : body.items()) {
      if (!e.is_string()) {
        throw std::invalid_argument(where + "." + tag +
                                    " must hold strings only");
      }
      if (binary) {
        std::string bytes;
        if (!detail::base64_decode(e.as_string(), &bytes)) {
          throw std::invalid_argument(where + "." + tag + " holds bad base64");
        }
        out.push_back(std::move(bytes));
      } else {
        out.push_back(e.as_string());
      }
    }
    return out;
  };
  if (tag == "S") return string(text("a string"));
  if (tag == "N") {
    if (body.is_number()) return number(body.number_text());
    return number(text("a number in a string"));
  }
  if (tag == "B") {
    std::string bytes;
    if (!detail::base64_decode(text("base64 text"), &bytes)) {
      throw std::invalid_argument(where + ".B is not base64");
    }
    return binary(std::move(bytes));
  }
  if (tag == "BOOL") {
    if (!body.is_bool()) {
      throw std::invalid_argument(where + ".BOOL must be true or false");
    }
    return boolean(body.as_bool());
  }
  if (tag == "NULL") return null();
  if (tag == "M") return map_from_json(body, where + ".M");
  if (tag == "L") {
    if (!body.is_array()) {
      throw std::invalid_argument(where + ".L must be a list");
    }
    std::vector<value> items;
    std::size_t i = 0;
    for (const json::value& e : body.items()) {
      items.push_back(from_json(e, where + ".L[" + std::to_string(i++) + "]"));
    }
    return list(std::move(items));
  }
  if (tag == "SS") return string_set(strings(false));
  if (tag == "NS") return number_set(strings(false));
  if (tag == "BS") return binary_set(strings(true));
  throw std::invalid_argument(where + ": unknown attribute type " + tag);
}

inline value value::map_from_json(const json::value& v,
                                  const std::string& where) {
  if (!v.is_object()) throw std::invalid_argument(where + " is not an object");
  std::vector<std::pair<std::string, value>> entries;
  for (const auto& [name, body] : v.members()) {
    entries.emplace_back(name, from_json(body, where + "." + name));
  }
  return map(std::move(entries));
}

inline void value::append_json(std::string& out) const {
  out += "{\"";
  out += type_name(type_);
  out += "\":";
  switch (type_) {
    case value_type::string:
    case value_type::number:
      json::append_quoted(out, text_);
      break;
    case value_type::binary:
      out += '"';
      handler::detail::append_base64(out, text_);
      out += '"';
      break;
    case value_type::boolean:
      out += boolean_ ? "true" : "false";
      break;
    case value_type::null:
    case value_type::unknown:
      out += "true";
      break;
    case value_type::map:
      append_attributes_json(out);
      break;
    case value_type::list: {
      out += '[';
      bool first = true;
      for (const value& v : items_) {
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
      for (const std::string& e : set_) {
        if (!first) out += ',';
        first = false;
        if (type_ == value_type::binary_set) {
          out += '"';
          handler::detail::append_base64(out, e);
          out += '"';
        } else {
          json::append_quoted(out, e);
        }
      }
      out += ']';
      break;
    }
  }
  out += '}';
}

inline void value::append_attributes_json(std::string& out) const {
  out += '{';
  bool first = true;
  for (const auto& [name, v] : entries_) {
    if (!first) out += ',';
    first = false;
    json::append_quoted(out, name);
    out += ':';
    v.append_json(out);
  }
  out += '}';
}

inline event event_from_json(const json::value& doc) {
  event e;
  const json::value* records = nullptr;
  json::value single;
  if (doc.is_array()) {
    records = &doc;
  } else if (doc.is_object() && doc.find("Records") != nullptr) {
    records = doc.find("Records");
  } else if (doc.is_object() && doc.find("dynamodb") != nullptr) {
    single = json::value::make_array({doc});
    records = &single;
  } else {
    throw std::invalid_argument(
        "an event is {\"Records\":[...]} (Lambda's event or GetRecords' "
        "answer), a list of records, or one record");
  }
  if (!records->is_array()) {
    throw std::invalid_argument("Records must be a list");
  }
  std::size_t i = 0;
  for (const json::value& r : records->items()) {
    e.records.push_back(
        detail::record_from_json(r, "Records[" + std::to_string(i++) + "]"));
  }
  // The event's stream: the first record's ARN (Lambda), else the
  // top-level one of a window event, else the default.
  for (const stream_record& r : e.records) {
    if (!r.event_source_arn.empty()) {
      e.event_source_arn = r.event_source_arn;
      break;
    }
  }
  if (doc.is_object()) {
    if (e.event_source_arn.empty()) {
      e.event_source_arn = doc.string_or("eventSourceARN");
    }
    e.shard_id = doc.string_or("shardId", e.shard_id);
    if (const json::value* w = doc.find("window")) {
      test::window win;
      const std::optional<std::int64_t> start =
          detail::parse_iso8601(w->string_or("start"));
      const std::optional<std::int64_t> end =
          detail::parse_iso8601(w->string_or("end"));
      if (!start || !end) {
        throw std::invalid_argument(
            "window must be {\"start\":\"<ISO-8601>\",\"end\":\"<ISO-8601>\"}");
      }
      win.start_ms = *start;
      win.end_ms = *end;
      if (const json::value* state = doc.find("state")) {
        // The state a handler returned, as Lambda embeds it; {} is none.
        if (!(state->is_object() && state->members().empty()) &&
            !state->is_null()) {
          win.state = state->dump();
        }
      }
      const json::value* final_invoke = doc.find("isFinalInvokeForWindow");
      win.is_final = final_invoke != nullptr && final_invoke->is_bool() &&
                     final_invoke->as_bool();
      const json::value* early = doc.find("isWindowTerminatedEarly");
      win.terminated_early =
          early != nullptr && early->is_bool() && early->as_bool();
      e.window = win;
    }
  }
  if (!e.event_source_arn.empty()) {
    const std::string table = detail::table_of_arn(e.event_source_arn);
    if (!table.empty()) e.table_name = table;
  }
  // One view type for the batch when the records do not say.
  bool any_old = false, any_new = false, any_view = false;
  for (const stream_record& r : e.records) {
    any_old = any_old || r.old_image.has_value();
    any_new = any_new || r.new_image.has_value();
    any_view = any_view || !r.stream_view_type.empty();
  }
  if (!any_view) {
    const char* view = any_old && any_new ? "NEW_AND_OLD_IMAGES"
                       : any_new          ? "NEW_IMAGE"
                       : any_old          ? "OLD_IMAGE"
                                          : "KEYS_ONLY";
    for (stream_record& r : e.records) r.stream_view_type = view;
  }
  return e;
}

inline event parse_event(std::string_view json_text) {
  return event_from_json(json::parse(json_text));
}

inline event load_event(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read the event file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return parse_event(text.str());
  } catch (const std::exception& e) {
    throw std::invalid_argument(path + ": " + e.what());
  }
}

inline std::string event::to_json() const {
  const std::string arn = stream_arn();
  std::string region = std::string(handler::detail::arn_region(arn));
  if (region.empty()) region = default_region;
  std::string out = "{\"Records\":[";
  for (std::size_t i = 0; i < records.size(); ++i) {
    const stream_record& r = records[i];
    if (i > 0) out += ',';
    out += "\n  {\"eventID\":";
    json::append_quoted(out, r.event_id.empty() ? "event-" + std::to_string(i + 1)
                                                : r.event_id);
    out += ",\"eventName\":";
    json::append_quoted(out, r.event == event_type::insert   ? "INSERT"
                             : r.event == event_type::modify ? "MODIFY"
                                                             : "REMOVE");
    out += ",\"eventVersion\":\"1.1\",\"eventSource\":\"aws:dynamodb\"";
    out += ",\"awsRegion\":";
    json::append_quoted(out, region);
    out += ",\n   \"dynamodb\":{\"ApproximateCreationDateTime\":";
    out += std::to_string(r.approximate_creation_time_ms / 1000);
    out += ",\n    \"Keys\":";
    r.keys.append_attributes_json(out);
    if (r.new_image) {
      out += ",\n    \"NewImage\":";
      r.new_image->append_attributes_json(out);
    }
    if (r.old_image) {
      out += ",\n    \"OldImage\":";
      r.old_image->append_attributes_json(out);
    }
    out += ",\n    \"SequenceNumber\":";
    json::append_quoted(out, r.sequence_number.empty() ? detail::sequence_of(i)
                                                       : r.sequence_number);
    out += ",\"SizeBytes\":" + std::to_string(r.size_bytes);
    out += ",\"StreamViewType\":";
    json::append_quoted(out, r.stream_view_type.empty() ? "NEW_AND_OLD_IMAGES"
                                                        : r.stream_view_type);
    out += '}';
    if (r.ttl_delete) {
      out +=
          ",\"userIdentity\":{\"type\":\"Service\",\"principalId\":"
          "\"dynamodb.amazonaws.com\"}";
    }
    out += ",\n   \"eventSourceARN\":";
    json::append_quoted(out, r.event_source_arn.empty() ? arn
                                                        : r.event_source_arn);
    out += '}';
  }
  out += "\n]}\n";
  return out;
}

inline abi_batch::abi_batch(const event& e) {
  const std::string& arn = keep(e.stream_arn());
  records_.resize(e.records.size());
  pointers_.reserve(e.records.size());
  const std::int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count();
  for (std::size_t i = 0; i < e.records.size(); ++i) {
    const stream_record& r = e.records[i];
    eddy_record_t& out = records_[i];
    out.struct_size = sizeof(eddy_record_t);
    out.event_name = static_cast<std::uint32_t>(r.event);
    out.event_id = buffer(r.event_id.empty()
                              ? keep("event-" + std::to_string(i + 1))
                              : r.event_id);
    out.sequence_number = buffer(r.sequence_number.empty()
                                     ? keep(detail::sequence_of(i))
                                     : r.sequence_number);
    out.approximate_creation_time_ms = r.approximate_creation_time_ms != 0
                                           ? r.approximate_creation_time_ms
                                           : now_ms;
    std::uint64_t size = r.size_bytes;
    if (size == 0) {
      size = r.keys.to_json().size() +
             (r.new_image ? r.new_image->to_json().size() : 0) +
             (r.old_image ? r.old_image->to_json().size() : 0);
    }
    out.size_bytes = size;
    out.event_source_arn =
        buffer(r.event_source_arn.empty() ? arn : r.event_source_arn);
    out.table_name = buffer(r.table_name.empty() ? e.table_name : r.table_name);
    out.stream_view_type =
        buffer(r.stream_view_type.empty() ? keep("NEW_AND_OLD_IMAGES")
                                          : r.stream_view_type);
    out.flags = r.ttl_delete ? EDDY_RECORD_FLAG_TTL_DELETE : 0u;
    roots_.emplace_back();
    fill(r.keys, &roots_.back());
    out.keys = &roots_.back();
    if (r.old_image) {
      roots_.emplace_back();
      fill(*r.old_image, &roots_.back());
      out.old_image = &roots_.back();
    }
    if (r.new_image) {
      roots_.emplace_back();
      fill(*r.new_image, &roots_.back());
      out.new_image = &roots_.back();
    }
    pointers_.push_back(&out);
  }
  batch_.struct_size = sizeof(eddy_batch_t);
  batch_.attempt = e.attempt;
  batch_.invocation_id = buffer(e.invocation_id);
  batch_.trigger_name = buffer(e.trigger_name);
  batch_.event_source_arn = buffer(arn);
  batch_.shard_id = buffer(e.shard_id);
  batch_.deadline_ms = e.deadline_ms;
  batch_.records = pointers_.data();
  batch_.record_count = pointers_.size();
  if (e.window) {
    batch_.window_flags = EDDY_WINDOW_ACTIVE |
                          (e.window->is_final ? EDDY_WINDOW_FINAL : 0u) |
                          (e.window->terminated_early
                               ? EDDY_WINDOW_TERMINATED_EARLY
                               : 0u);
    batch_.window_start_ms = e.window->start_ms;
    batch_.window_end_ms = e.window->end_ms;
    batch_.window_state = buffer(e.window->state);
  }
}

inline void abi_batch::fill(const value& v, eddy_value_t* out) {
  *out = eddy_value_t{};
  out->type = static_cast<std::uint32_t>(v.type());
  switch (v.type()) {
    case value_type::string:
    case value_type::number:
    case value_type::binary:
      out->u.scalar = buffer(v.text());
      break;
    case value_type::boolean:
      out->u.boolean = v.as_bool() ? 1u : 0u;
      break;
    case value_type::null:
    case value_type::unknown:
      out->type = EDDY_VALUE_NULL;
      break;
    case value_type::map: {
      maps_.emplace_back(v.entries().size());
      std::vector<eddy_attribute_t>& entries = maps_.back();
      for (std::size_t i = 0; i < entries.size(); ++i) {
        entries[i].name = buffer(v.entries()[i].first);
        fill(v.entries()[i].second, &entries[i].value);
      }
      out->u.map.entries = entries.data();
      out->u.map.count = entries.size();
      break;
    }
    case value_type::list: {
      lists_.emplace_back(v.items().size());
      std::vector<eddy_value_t>& items = lists_.back();
      for (std::size_t i = 0; i < items.size(); ++i) {
        fill(v.items()[i], &items[i]);
      }
      out->u.list.items = items.data();
      out->u.list.count = items.size();
      break;
    }
    case value_type::string_set:
    case value_type::number_set:
    case value_type::binary_set: {
      sets_.emplace_back();
      std::vector<eddy_buffer_t>& items = sets_.back();
      for (const std::string& s : v.set_items()) items.push_back(buffer(s));
      out->u.set.items = items.data();
      out->u.set.count = items.size();
      break;
    }
  }
}

inline recording_host::recording_host() {
  api_.struct_size = sizeof(eddy_host_api_t);
  api_.context = reinterpret_cast<eddy_host_context_t*>(this);
  api_.log = &log_cb;
  api_.result_set_failure = &set_failure;
  api_.result_add_batch_item_failure = &add_item_failure;
  api_.result_set_window_state = &set_state;
}

inline void recording_host::log_cb(eddy_host_context_t* context,
                                   eddy_log_level_t level, const char* message,
                                   std::size_t size) noexcept {
  auto* self = reinterpret_cast<recording_host*>(context);
  try {
    std::lock_guard<std::mutex> lock(self->mu_);
    self->logs_.push_back(log_line{static_cast<log_level>(level),
                                   std::string(message, size)});
  } catch (...) {
    // Out of memory: the line is lost, as a full log would lose it.
  }
}

inline eddy_status_t recording_host::set_failure(
    eddy_result_t* handle, const char* type, std::size_t type_size,
    const char* message, std::size_t message_size) noexcept {
  if (handle == nullptr) return EDDY_STATUS_INVALID_ARGUMENT;
  result* out = reinterpret_cast<outcome*>(handle)->out;
  try {
    out->failed = true;
    out->error_type.assign(type == nullptr ? "" : type,
                           type == nullptr ? 0 : type_size);
    out->error_message.assign(message == nullptr ? "" : message,
                              message == nullptr ? 0 : message_size);
  } catch (...) {
    return EDDY_STATUS_OUT_OF_MEMORY;
  }
  return EDDY_STATUS_OK;
}

inline eddy_status_t recording_host::add_item_failure(
    eddy_result_t* handle, const char* sequence, std::size_t size) noexcept {
  if (handle == nullptr) return EDDY_STATUS_INVALID_ARGUMENT;
  result* out = reinterpret_cast<outcome*>(handle)->out;
  try {
    out->batch_item_failures.emplace_back(sequence == nullptr ? "" : sequence,
                                          sequence == nullptr ? 0 : size);
  } catch (...) {
    return EDDY_STATUS_OUT_OF_MEMORY;
  }
  return EDDY_STATUS_OK;
}

inline eddy_status_t recording_host::set_state(eddy_result_t* handle,
                                               const void* state,
                                               std::size_t size) noexcept {
  if (handle == nullptr) return EDDY_STATUS_INVALID_ARGUMENT;
  result* out = reinterpret_cast<outcome*>(handle)->out;
  try {
    out->window_state = state == nullptr
                            ? std::string()
                            : std::string(static_cast<const char*>(state), size);
  } catch (...) {
    return EDDY_STATUS_OUT_OF_MEMORY;
  }
  return EDDY_STATUS_OK;
}

inline std::vector<log_line> recording_host::take_logs() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<log_line> out = std::move(logs_);
  logs_.clear();
  return out;
}

inline result recording_host::run(const eddy_handler_t& table,
                                  const event& e) {
  result r;
  const abi_batch batch(e);
  outcome handle{&r};
  r.status = table.handle_batch(table.user_data, &batch.get(),
                                reinterpret_cast<eddy_result_t*>(&handle));
  // The worker's rules (functions host): a status other than OK or a
  // failure fails the whole batch, and item failures then do not count.
  if (r.status != EDDY_STATUS_OK && !r.failed) {
    r.failed = true;
    r.error_type = "HandlerError";
    r.error_message =
        "handle_batch returned status " + std::to_string(r.status);
  }
  if (r.failed) r.batch_item_failures.clear();
  r.logs = take_logs();
  return r;
}

inline std::string result::describe() const {
  if (failed) {
    return "failure " + error_type + (error_type.empty() ? "" : ": ") +
           error_message;
  }
  if (!batch_item_failures.empty()) {
    std::string out = "batch item failures:";
    for (const std::string& s : batch_item_failures) out += " " + s;
    return out;
  }
  return "success";
}

inline result invoke(invocation_response (*fn)(const invocation_request&),
                     const event& e) {
  recording_host host;
  handler::detail::handler_state state;
  state.fn = fn;
  state.host.store(host.api(), std::memory_order_release);
  state.table.struct_size = sizeof(eddy_handler_t);
  state.table.abi_version = EDDY_HANDLER_ABI_VERSION;
  state.table.user_data = &state;
  state.table.handle_batch = &handler::detail::handle_batch;
  // log_*() write through the library's host: point it at this one for the
  // call.
  handler::detail::handler_state& global = handler::detail::g_state;
  const eddy_host_api_t* previous =
      global.host.exchange(host.api(), std::memory_order_acq_rel);
  struct restore {
    handler::detail::handler_state& global;
    const eddy_host_api_t* previous;
    ~restore() { global.host.store(previous, std::memory_order_release); }
  } restore_host{global, previous};
  return host.run(state.table, e);
}

inline harness::harness(eddy_handler_init_fn entry) {
  const eddy_status_t status =
      entry(EDDY_HANDLER_ABI_VERSION, host_.api(), &table_);
  init_logs_ = host_.take_logs();
  if (status != EDDY_STATUS_OK || table_ == nullptr ||
      table_->handle_batch == nullptr) {
    std::string why = "the handler's init failed (status " +
                      std::to_string(status) + ")";
    for (const log_line& l : init_logs_) {
      if (l.level == log_level::error) why += ": " + l.message;
    }
    table_ = nullptr;
    throw std::runtime_error(why);
  }
}

inline harness::~harness() {
  if (table_ != nullptr && table_->destroy != nullptr) {
    table_->destroy(table_->user_data);
  }
}

}  // namespace eddy::handler::test

#endif  // EDDY_FUNCTIONS_TESTING_H_
