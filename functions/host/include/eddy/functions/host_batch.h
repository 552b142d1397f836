// HostBatch: one batch of stream records as the functions host receives it,
// in plain C++ values, before it becomes the C structs of handler_abi.h.
//
// This is the neutral representation between the worker and the host: it
// knows nothing of the store's item types or of protobuf. The worker converts
// its wire messages into a HostBatch; HandlerLibrary::Invoke builds the C
// view from it. Attribute values are native (numbers as decimal text, binary
// as raw bytes), never JSON.
//
// Thread-safety: plain values; distinct objects may be used from distinct
// threads without synchronisation.
#ifndef EDDY_FUNCTIONS_HOST_BATCH_H_
#define EDDY_FUNCTIONS_HOST_BATCH_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace eddy::functions {

struct HostAttribute;

// A DynamoDB attribute value: a tree of the ten types. Only the member that
// matches `type` is meaningful.
struct HostValue {
  enum class Type : uint8_t {
    kString,     // S: `scalar` is UTF-8 text.
    kNumber,     // N: `scalar` is the decimal text, as DynamoDB returns it.
    kBinary,     // B: `scalar` is the raw bytes.
    kBool,       // BOOL: `boolean`.
    kNull,       // NULL.
    kMap,        // M: `map`, names unique.
    kList,       // L: `list`, in order.
    kStringSet,  // SS: `set`, distinct texts.
    kNumberSet,  // NS: `set`, distinct decimal texts.
    kBinarySet,  // BS: `set`, distinct byte strings.
  };

  Type type = Type::kNull;
  std::string scalar;
  bool boolean = false;
  std::vector<HostAttribute> map;
  std::vector<HostValue> list;
  std::vector<std::string> set;

  static HostValue String(std::string text);
  static HostValue Number(std::string decimal_text);
  static HostValue Binary(std::string bytes);
  static HostValue Bool(bool b);
  static HostValue Null();
  static HostValue Map(std::vector<HostAttribute> attributes);
  static HostValue List(std::vector<HostValue> elements);
  static HostValue StringSet(std::vector<std::string> elements);
  static HostValue NumberSet(std::vector<std::string> elements);
  static HostValue BinarySet(std::vector<std::string> elements);
};

struct HostAttribute {
  std::string name;
  HostValue value;
};

// DynamoDB Streams eventName.
enum class HostEventName : uint8_t { kInsert, kModify, kRemove };

// One stream record (Lambda's Records[i]).
struct HostRecord {
  HostEventName event_name = HostEventName::kInsert;
  std::string event_id;
  std::string sequence_number;  // Decimal digits; unique within the batch.
  int64_t approximate_creation_time_ms = 0;  // Unix epoch ms.
  uint64_t size_bytes = 0;
  std::string event_source_arn;  // The stream's ARN.
  std::string table_name;
  std::string stream_view_type;        // "KEYS_ONLY", "NEW_IMAGE", ...
  bool ttl_delete = false;             // A REMOVE made by Time To Live.
  HostValue keys;                      // REQUIRES: a map.
  std::optional<HostValue> old_image;  // REQUIRES: a map if present.
  std::optional<HostValue> new_image;  // REQUIRES: a map if present.
};

// The tumbling window of a batch.
struct HostWindow {
  int64_t start_ms = 0;   // Inclusive, Unix epoch ms.
  int64_t end_ms = 0;     // Exclusive.
  std::string state;      // What the previous call of the window returned.
  bool is_final = false;  // isFinalInvokeForWindow.
  bool terminated_early = false;  // isWindowTerminatedEarly.
};

// One invocation's input.
struct HostBatch {
  std::string invocation_id;  // Unique per invocation; for logs.
  std::string trigger_name;
  std::string event_source_arn;  // The stream's ARN.
  std::string shard_id;
  uint32_t attempt = 1;             // 1 on first delivery, +1 per retry.
  int64_t deadline_ms = 0;          // Unix epoch ms; 0 if none.
  std::vector<HostRecord> records;  // In shard order.
  std::optional<HostWindow> window;
};

inline HostValue HostValue::String(std::string text) {
  HostValue v;
  v.type = Type::kString;
  v.scalar = std::move(text);
  return v;
}
inline HostValue HostValue::Number(std::string decimal_text) {
  HostValue v;
  v.type = Type::kNumber;
  v.scalar = std::move(decimal_text);
  return v;
}
inline HostValue HostValue::Binary(std::string bytes) {
  HostValue v;
  v.type = Type::kBinary;
  v.scalar = std::move(bytes);
  return v;
}
inline HostValue HostValue::Bool(bool b) {
  HostValue v;
  v.type = Type::kBool;
  v.boolean = b;
  return v;
}
inline HostValue HostValue::Null() { return HostValue(); }
inline HostValue HostValue::Map(std::vector<HostAttribute> attributes) {
  HostValue v;
  v.type = Type::kMap;
  v.map = std::move(attributes);
  return v;
}
inline HostValue HostValue::List(std::vector<HostValue> elements) {
  HostValue v;
  v.type = Type::kList;
  v.list = std::move(elements);
  return v;
}
inline HostValue HostValue::StringSet(std::vector<std::string> elements) {
  HostValue v;
  v.type = Type::kStringSet;
  v.set = std::move(elements);
  return v;
}
inline HostValue HostValue::NumberSet(std::vector<std::string> elements) {
  HostValue v;
  v.type = Type::kNumberSet;
  v.set = std::move(elements);
  return v;
}
inline HostValue HostValue::BinarySet(std::vector<std::string> elements) {
  HostValue v;
  v.type = Type::kBinarySet;
  v.set = std::move(elements);
  return v;
}

}  // namespace eddy::functions

#endif  // EDDY_FUNCTIONS_HOST_BATCH_H_
