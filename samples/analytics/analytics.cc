// analytics: real-time aggregates of an Orders table's stream, in tumbling
// windows (create the trigger with --tumbling-window 60).
//
// Each call turns its records into changes per dimension (an INSERT adds
// the order's new image, a REMOVE subtracts the old one, a MODIFY does both;
// see window_state.h): revenue and orders per minute and category, and
// revenue, orders and units per product. It adds them to the window's parts
// in the Aggregates table (one per dimension and shard: what the window's
// records add up to) and recomputes the totals those are part of; the
// product totals are listed by revenue through the table's Leaderboard
// index (aggregates_writer.h). The window's state caches the parts this
// trigger wrote, so a call usually writes without reading first.
//
// So the aggregates follow the orders within a batch's delay rather than
// at the end of each window, and stay exact when records are delivered
// again: each part knows the last sequence number it has, and totals are
// sums of parts, never increments.
//
// Configuration: the environment of the worker processes that run the
// handler, given to the trigger (`eddy trigger create --env KEY=VALUE`):
//   EDDY_ANALYTICS_ENDPOINT  where the Aggregates table is, default
//                            http://127.0.0.1:8000
//   EDDY_ANALYTICS_TABLE     its name, default Aggregates
//   AWS credentials and region to sign its requests with, from the
//   standard chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, else
//   ~/.aws/credentials; AWS_REGION, else us-east-1); AWS_CA_BUNDLE for an
//   https:// endpoint with its own CA
#include <cstdlib>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "aggregates_writer.h"
#include "eddy/functions/dynamodb.h"
#include "eddy/functions/handler.h"
#include "window_state.h"

using namespace eddy::handler;

namespace {

std::unique_ptr<eddy::dynamodb::client> g_client;
std::string g_table;

std::string Env(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

// "2026-11-27T09:12:00Z" for epoch milliseconds.
std::string IsoSeconds(int64_t epoch_ms) {
  const std::time_t secs = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void Init() {
  std::string endpoint =
      Env("EDDY_ANALYTICS_ENDPOINT", "http://127.0.0.1:8000");
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  g_table = Env("EDDY_ANALYTICS_TABLE", "Aggregates");
  eddy::dynamodb::client_options options;
  options.endpoint = endpoint;
  // Throws (init fails, saying why) without credentials.
  g_client = std::make_unique<eddy::dynamodb::client>(
      eddy::dynamodb::client::create(std::move(options)).value());
  log_info("analytics: aggregates go to table " + g_table + " at " +
           g_client->options().endpoint + " (signed with credentials from " +
           g_client->credentials_source() + ")");
}

invocation_response Handle(const invocation_request& request) {
  const std::optional<tumbling_window> window = request.window();
  if (!window) {
    return invocation_response::failure(
        "analytics needs a tumbling window: create the trigger with "
        "--tumbling-window 60",
        "NoTumblingWindow");
  }
  analytics::WindowState state = analytics::WindowState::Parse(window->state());
  const std::string window_key =
      IsoSeconds(window->start_ms()) + "/" + std::string(request.shard_id());
  if (window->is_final_invoke()) {
    // Every record of the window is in the table already.
    int64_t orders = 0;
    int64_t cents = 0;
    for (const auto& [dimension, part] : state.parts()) {
      if (dimension.is_product()) {
        orders += part.sums.orders;
        cents += part.sums.cents;
      }
    }
    log_info(std::string(request.trigger_name()) + ": window " + window_key +
             " closed: " + std::to_string(orders) + " orders (net), revenue " +
             analytics::FormatCents(cents));
    return invocation_response::success().with_state("");
  }
  analytics::BatchChanges batch;
  std::string last_sequence;
  for (const record r : request.records()) {
    if (r.stream_view_type() != "NEW_AND_OLD_IMAGES") {
      return invocation_response::failure(
          "the table's stream must have StreamViewType NEW_AND_OLD_IMAGES "
          "(it has " +
              std::string(r.stream_view_type()) + ")",
          "StreamViewTypeError");
    }
    last_sequence = std::string(r.sequence_number());
    if (const auto image = r.old_image()) {
      if (const auto order = analytics::OrderOf(*image)) {
        batch.Add(*order, -1, last_sequence);
      }
    }
    if (const auto image = r.new_image()) {
      if (const auto order = analytics::OrderOf(*image)) {
        batch.Add(*order, +1, last_sequence);
      }
    }
  }
  if (!batch.changes.empty()) {
    analytics::AggregatesWriter writer(*g_client, g_table);
    writer.Apply(window_key, batch, last_sequence, state);
    log_debug("window " + window_key + ": " +
              std::to_string(request.records().size()) + " records, " +
              std::to_string(batch.changes.size()) + " dimensions, " +
              std::to_string(writer.requests()) + " requests, " +
              std::to_string(writer.conflicts()) + " parts merged, " +
              std::to_string(writer.skipped()) + " changes already counted, " +
              std::to_string(writer.stale_totals()) + " totals newer");
    if (writer.skipped() > 0) {
      log_info(std::string(request.trigger_name()) + ": window " + window_key +
               ": " + std::to_string(writer.skipped()) +
               (writer.skipped() == 1 ? " change" : " changes") +
               " delivered again, already counted");
    }
  }
  return invocation_response::success().with_state(state.Serialize());
}

}  // namespace

EDDY_HANDLER_WITH_INIT(Init, Handle)
