// employees: logs every change of a table as one readable line, through the
// host's log (the server's output, like a Lambda function's CloudWatch log):
//
// clang-format off
//   INSERT Employees[Department="IT", EmployeeID="E001"]: Name="John Doe", Salary=75000
//   MODIFY Employees[Department="IT", EmployeeID="E001"]: Salary 75000 -> 77500
//   REMOVE Employees[Department="HR", EmployeeID="E002"]
// clang-format on
//
// Keys come first, in brackets; then, for an INSERT, the item's other
// attributes, and for a MODIFY the attributes that changed (old -> new, with
// "(none)" for an attribute that appeared or went away). Strings are quoted
// with JSON escapes, so a value with a newline still makes one line.
// Attributes are in the order the record gives them (by name).
//
// Works with any table; a MODIFY shows its changes when the stream has
// NEW_AND_OLD_IMAGES (with NEW_IMAGE it shows the new item, with KEYS_ONLY
// just the keys).
#include <optional>
#include <string>
#include <string_view>

#include "eddy/functions/handler.h"

using namespace eddy::handler;

namespace {

// `s` as a JSON string literal.
std::string Quote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20) {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

// A value as a person would write it: "text", 42, true, null; anything else
// (binary, lists, maps, sets) in DynamoDB JSON.
std::string Show(const attribute_value& value) {
  switch (value.type()) {
    case value_type::string:
      return Quote(value.as_string());
    case value_type::number:
      return std::string(value.as_number_text());
    case value_type::boolean:
      return value.as_bool() ? "true" : "false";
    case value_type::null:
      return "null";
    default:
      return value.to_json();
  }
}

// Appends `item`'s attributes that are not keys as `Name=value, ...`.
void AppendAttributes(const attribute_value& keys, const attribute_value& item,
                      std::string& line) {
  bool first = true;
  for (const attribute a : item.as_map()) {
    if (keys.contains(a.name)) continue;
    line += first ? ": " : ", ";
    first = false;
    line += a.name;
    line += '=';
    line += Show(a.value);
  }
}

// Appends the attributes that differ between the two images as
// `Name old -> new, ...`.
void AppendChanges(const attribute_value& old_item,
                   const attribute_value& new_item, std::string& line) {
  bool first = true;
  auto change = [&](std::string_view name, const std::string& before,
                    const std::string& after) {
    line += first ? ": " : ", ";
    first = false;
    line += name;
    line += ' ';
    line += before;
    line += " -> ";
    line += after;
  };
  for (const attribute a : old_item.as_map()) {
    const std::optional<attribute_value> now = new_item.find(a.name);
    if (!now) {
      change(a.name, Show(a.value), "(none)");
    } else if (now->to_json() != a.value.to_json()) {
      change(a.name, Show(a.value), Show(*now));
    }
  }
  for (const attribute a : new_item.as_map()) {
    if (!old_item.contains(a.name)) change(a.name, "(none)", Show(a.value));
  }
}

std::string Describe(const record& r) {
  std::string line(r.event_name());
  line += ' ';
  line += r.table_name();
  line += '[';
  bool first = true;
  for (const attribute key : r.keys().as_map()) {
    if (!first) line += ", ";
    first = false;
    line += key.name;
    line += '=';
    line += Show(key.value);
  }
  line += ']';
  const std::optional<attribute_value> old_image = r.old_image();
  const std::optional<attribute_value> new_image = r.new_image();
  if (r.event() == event_type::modify && old_image && new_image) {
    AppendChanges(*old_image, *new_image, line);
  } else if (r.event() != event_type::remove && new_image) {
    AppendAttributes(r.keys(), *new_image, line);
  }
  return line;
}

invocation_response Handle(const invocation_request& request) {
  for (const record r : request.records()) log_info(Describe(r));
  return invocation_response::success();
}

}  // namespace

EDDY_HANDLER(Handle)
