#include "cli/sample_event.h"

#include <chrono>
#include <cstdio>
#include <random>
#include <utility>

#include "eddy/functions/json.h"
#include "eddy/functions/testing.h"

namespace eddy::runtime::cli {
namespace {

namespace t = ::eddy::handler::test;
using Entries = std::vector<std::pair<std::string, t::value>>;

// One --key: NAME=VALUE, NAME:TYPE=VALUE or a DynamoDB JSON key.
Status AddKey(const std::string& text, Entries* key) {
  try {
    if (!text.empty() && text[0] == '{') {
      const t::value parsed =
          t::value::map_from_json(json::parse(text), "--key");
      for (const auto& entry : parsed.entries()) key->push_back(entry);
      return Status::OK();
    }
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("--key: ") + e.what());
  }
  const size_t equals = text.find('=');
  if (equals == std::string::npos || equals == 0) {
    return Status::InvalidArgument(
        "--key must be NAME=VALUE, NAME:N=VALUE or DynamoDB JSON, got '" +
        text + "'");
  }
  std::string name = text.substr(0, equals);
  const std::string value = text.substr(equals + 1);
  std::string type = "S";
  if (const size_t colon = name.rfind(':'); colon != std::string::npos) {
    type = name.substr(colon + 1);
    name = name.substr(0, colon);
  }
  try {
    const t::value v = t::value::from_json(
        json::parse("{" + json::quote(type) + ":" + json::quote(value) + "}"),
        "--key " + name);
    if (type != "S" && type != "N" && type != "B") {
      return Status::InvalidArgument("--key " + name +
                                     ": a key is of type S, N or B");
    }
    key->emplace_back(std::move(name), v);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(e.what());
  }
  return Status::OK();
}

// The key's attributes, then `attributes` (those named like a key
// attribute are ignored: the key wins).
t::value Image(const Entries& key, Entries attributes) {
  Entries out = key;
  for (auto& [name, value] : attributes) {
    bool is_key = false;
    for (const auto& k : key) is_key = is_key || k.first == name;
    if (!is_key) out.emplace_back(std::move(name), std::move(value));
  }
  return t::value::map(std::move(out));
}

Result<Entries> Attributes(const std::string& json_text, const char* option,
                           Entries fallback) {
  if (json_text.empty()) return fallback;
  try {
    return t::value::map_from_json(json::parse(json_text), option).entries();
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string(option) + ": " + e.what());
  }
}

std::string RandomHex(size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::random_device device;
  std::mt19937_64 random(device());
  std::string out;
  for (size_t i = 0; i < n; ++i) out += kHex[random() % 16];
  return out;
}

// "2024-01-01T00:00:00.000" (a stream label) for epoch milliseconds.
std::string Label(int64_t ms) {
  const time_t secs = static_cast<time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03d",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace

Result<std::string> SampleEvent(const SampleEventOptions& o) {
  t::stream_record r;
  if (o.event_name == "insert") {
    r.event = handler::event_type::insert;
  } else if (o.event_name == "modify") {
    r.event = handler::event_type::modify;
  } else if (o.event_name == "remove") {
    r.event = handler::event_type::remove;
  } else {
    return Status::InvalidArgument("the event is insert, modify or remove, not " +
                                   o.event_name);
  }
  if (o.table.empty()) return Status::InvalidArgument("--table is required");
  const bool with_new =
      o.view_type == "NEW_IMAGE" || o.view_type == "NEW_AND_OLD_IMAGES";
  const bool with_old =
      o.view_type == "OLD_IMAGE" || o.view_type == "NEW_AND_OLD_IMAGES";
  if (!with_new && !with_old && o.view_type != "KEYS_ONLY") {
    return Status::InvalidArgument(
        "--view-type is KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES");
  }
  Entries key;
  for (const std::string& k : o.keys) EDDY_RETURN_IF_ERROR(AddKey(k, &key));
  if (key.empty()) key.emplace_back("id", t::value::string("item-1"));

  // An order-like item: before and after a MODIFY differ in two attributes.
  const Entries before = {{"status", t::value::string("NEW")},
                          {"amount", t::value::number("42.5")},
                          {"updatedAt", t::value::string("2024-01-01T00:00:00Z")}};
  const Entries after = {{"status", t::value::string("SHIPPED")},
                         {"amount", t::value::number("42.5")},
                         {"updatedAt", t::value::string("2024-01-01T00:05:00Z")}};
  EDDY_ASSIGN_OR_RETURN(
      Entries new_attributes,
      Attributes(o.new_image, "--new-image",
                 r.event == handler::event_type::insert ? before : after));
  EDDY_ASSIGN_OR_RETURN(Entries old_attributes,
                        Attributes(o.old_image, "--old-image", before));

  const int64_t now =
      o.now_ms != 0 ? o.now_ms
                    : std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  r.keys = t::value::map(key);
  if (with_new && r.event != handler::event_type::remove) {
    r.new_image = Image(key, std::move(new_attributes));
  }
  if (with_old && r.event != handler::event_type::insert) {
    r.old_image = Image(key, std::move(old_attributes));
  }
  r.event_id = RandomHex(32);
  char sequence[32];
  std::snprintf(sequence, sizeof(sequence), "1%020lld",
                static_cast<long long>(now));
  r.sequence_number = sequence;
  r.approximate_creation_time_ms = now;
  r.stream_view_type = o.view_type;
  r.size_bytes = r.keys.to_json().size() +
                 (r.new_image ? r.new_image->to_json().size() : 0) +
                 (r.old_image ? r.old_image->to_json().size() : 0);
  t::event e(std::vector<t::stream_record>{std::move(r)});
  e.table_name = o.table;
  e.event_source_arn = "arn:aws:dynamodb:" + o.region +
                       ":000000000000:table/" + o.table + "/stream/" +
                       Label(now);
  return e.to_json();
}

}  // namespace eddy::runtime::cli
