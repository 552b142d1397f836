// replicate: global-tables-style replication. Copies every change of a table
// to the table of the same name at a second endpoint (another Eddy, or any
// DynamoDB endpoint), with last-writer-wins on each item's (version, origin)
// pair. Run it on both sides, each pointed at the other, and both converge.
//
// Configuration: the environment of the worker processes that run the
// handler, given to the trigger (`eddy trigger create --env KEY=VALUE`):
//   REPLICATE_TARGET   the peer's endpoint, e.g. http://127.0.0.1:8001
//   REPLICATE_ORIGIN   this side's name, e.g. "a"; what local writes put in
//                      their `origin` attribute
//   Credentials and region to sign requests to the peer with, from the
//   standard AWS chain (`--env AWS_ACCESS_KEY_ID` alone passes on the
//   server's): AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
//   AWS_SESSION_TOKEN, else ~/.aws/credentials (AWS_PROFILE); AWS_REGION,
//   AWS_DEFAULT_REGION, else ~/.aws/config, else us-east-1. AWS_CA_BUNDLE
//   for an https:// peer with its own CA.
//
// The rules (README.md explains why they converge):
//   - Every write of an item sets a numeric `version` and the writer's side
//     in `origin`. (version, origin) pairs are ordered by version, then by
//     origin as a string; an item without a version is older than any.
//   - INSERT/MODIFY whose new image has origin == REPLICATE_ORIGIN (a local
//     write): PutItem of the new image on the peer, if the peer's copy is
//     missing or older: attribute_not_exists(version) OR version < :v OR
//     (version = :v AND origin < :o).
//   - INSERT/MODIFY with another origin came from replication: skipped, so
//     nothing ping-pongs.
//   - REMOVE: DeleteItem of the key on the peer, if the peer's copy is not
//     newer than the deleted item: attribute_not_exists(version) OR
//     version < :v OR (version = :v AND origin <= :o). A delete cannot be
//     marked, so a replicated delete is sent back once; there it finds the
//     item gone or newer and does nothing, or removes a stale copy that
//     arrived after the delete (which is what makes deletes converge).
//   - A false condition (ConditionalCheckFailedException) means the peer
//     already has this write or a newer one: done. Any other failure (the
//     peer is down, throttles, has no such table yet) fails the batch, and
//     the dispatcher retries it, by default until the peer is back. Records
//     already applied are sent again and find their condition false.
//   - Items without a numeric `version` and a string `origin` are not
//     replicated (logged as a warning): last-writer-wins cannot order them.
//
// Needs a stream with NEW_AND_OLD_IMAGES (REMOVE needs the old item's
// version).
#include <cstdlib>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "eddy/functions/dynamodb.h"
#include "eddy/functions/handler.h"

using namespace eddy::handler;

namespace {

constexpr std::string_view kVersion = "version";
constexpr std::string_view kOrigin = "origin";

struct Settings {
  std::string target;
  std::string origin;
};

Settings& GetSettings() {
  static Settings settings;
  return settings;
}

// The client of the peer; made at load, kept for the keep-alive connection.
std::unique_ptr<eddy::dynamodb::client>& Peer() {
  static std::unique_ptr<eddy::dynamodb::client> peer;
  return peer;
}

// An item's place in last-writer-wins order.
struct Stamp {
  std::string version;  // DynamoDB number text, compared by the peer
  std::string origin;
};

std::optional<Stamp> StampOf(const attribute_value& item) {
  const std::optional<attribute_value> version = item.find(kVersion);
  const std::optional<attribute_value> origin = item.find(kOrigin);
  if (!version || !version->is_number() || !origin || !origin->is_string()) {
    return std::nullopt;
  }
  return Stamp{std::string(version->as_number_text()),
               std::string(origin->as_string())};
}

// `s` as a JSON string literal.
void AppendQuoted(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
}

// {"name":<value>,...} in DynamoDB JSON, for Item and Key.
void AppendAttributes(std::string& out, const attribute_value& map) {
  out += '{';
  bool first = true;
  for (const attribute a : map.as_map()) {
    if (!first) out += ',';
    first = false;
    AppendQuoted(out, a.name);
    out += ':';
    a.value.append_json(out);
  }
  out += '}';
}

// The members every conditional write shares: names and values of the
// condition on the peer's (version, origin).
void AppendCondition(std::string& out, std::string_view condition,
                     const Stamp& stamp) {
  out += ",\"ConditionExpression\":";
  AppendQuoted(out, condition);
  out += ",\"ExpressionAttributeNames\":{\"#v\":";
  AppendQuoted(out, kVersion);
  out += ",\"#o\":";
  AppendQuoted(out, kOrigin);
  out += "},\"ExpressionAttributeValues\":{\":v\":{\"N\":";
  AppendQuoted(out, stamp.version);
  out += "},\":o\":{\"S\":";
  AppendQuoted(out, stamp.origin);
  out += "}}";
}

std::string PutRequest(std::string_view table, const attribute_value& item,
                       const Stamp& stamp) {
  std::string body = "{\"TableName\":";
  AppendQuoted(body, table);
  body += ",\"Item\":";
  AppendAttributes(body, item);
  AppendCondition(body,
                  "attribute_not_exists(#v) OR #v < :v OR "
                  "(#v = :v AND #o < :o)",
                  stamp);
  body += '}';
  return body;
}

std::string DeleteRequest(std::string_view table, const attribute_value& keys,
                          const Stamp& stamp) {
  std::string body = "{\"TableName\":";
  AppendQuoted(body, table);
  body += ",\"Key\":";
  AppendAttributes(body, keys);
  AppendCondition(body,
                  "attribute_not_exists(#v) OR #v < :v OR "
                  "(#v = :v AND #o <= :o)",
                  stamp);
  body += '}';
  return body;
}

// `Orders{"id":{"S":"o1"}}` for log lines.
std::string Describe(const record& r) {
  std::string out(r.table_name());
  AppendAttributes(out, r.keys());
  return out;
}

void Init() {
  Settings& settings = GetSettings();
  const char* target = std::getenv("REPLICATE_TARGET");
  const char* origin = std::getenv("REPLICATE_ORIGIN");
  if (target == nullptr || *target == '\0') {
    throw std::runtime_error(
        "REPLICATE_TARGET is not set: create the trigger with the peer's "
        "endpoint, e.g. --env REPLICATE_TARGET=http://127.0.0.1:8001");
  }
  if (origin == nullptr || *origin == '\0') {
    throw std::runtime_error(
        "REPLICATE_ORIGIN is not set: create the trigger with this side's "
        "name, e.g. --env REPLICATE_ORIGIN=a");
  }
  settings.target = target;
  settings.origin = origin;
  while (!settings.target.empty() && settings.target.back() == '/') {
    settings.target.pop_back();
  }
  // Credentials and region from the standard chain; value() throws (and
  // init fails, saying why) without credentials.
  eddy::dynamodb::client_options options;
  options.endpoint = settings.target;
  Peer() = std::make_unique<eddy::dynamodb::client>(
      eddy::dynamodb::client::create(std::move(options)).value());
  log_info("replicating local writes (origin \"" + settings.origin + "\") to " +
           settings.target + " (signed for " + Peer()->options().region +
           " with credentials from " + Peer()->credentials_source() + ")");
}

invocation_response Handle(const invocation_request& request) {
  const Settings& settings = GetSettings();
  eddy::dynamodb::client& peer = *Peer();
  int sent = 0, superseded = 0, from_peer = 0;
  for (const record r : request.records()) {
    const bool remove = r.event() == event_type::remove;
    if (r.event() == event_type::unknown) {
      log_warn("not replicated, unknown event: " + Describe(r));
      continue;
    }
    const std::optional<attribute_value> image =
        remove ? r.old_image() : r.new_image();
    if (!image) {
      return invocation_response::failure(
          "the stream has no " + std::string(remove ? "old" : "new") +
              " images: replicate needs StreamViewType NEW_AND_OLD_IMAGES",
          "ReplicateConfigError");
    }
    const std::optional<Stamp> stamp = StampOf(*image);
    if (!stamp) {
      log_warn(
          "not replicated, no numeric \"version\" and string \"origin\": " +
          Describe(r));
      continue;
    }
    if (!remove && stamp->origin != settings.origin) {
      ++from_peer;  // written by replication: the peer has it already
      continue;
    }
    // The client retries what can heal (no answer, 5xx, throttling) a few
    // times itself.
    const eddy::dynamodb::outcome<std::string> response =
        remove
            ? peer.call("DeleteItem",
                        DeleteRequest(r.table_name(), r.keys(), *stamp))
            : peer.call("PutItem", PutRequest(r.table_name(), *image, *stamp));
    if (response.ok()) {
      ++sent;
    } else if (response.error().kind ==
               eddy::dynamodb::error_kind::conditional_check_failed) {
      ++superseded;  // the peer has this write, or a newer one
    } else {
      // The whole batch is retried; what was applied finds its condition
      // false next time.
      return invocation_response::failure(
          std::string(r.event_name()) + " " + Describe(r) + " version " +
              stamp->version + " not replicated: " +
              response.error().describe(),
          "ReplicateError");
    }
  }
  log_debug("batch of " + std::to_string(request.records().size()) + ": " +
            std::to_string(sent) + " applied, " + std::to_string(superseded) +
            " superseded, " + std::to_string(from_peer) + " from the peer");
  return invocation_response::success();
}

}  // namespace

EDDY_HANDLER_WITH_INIT(Init, Handle)
