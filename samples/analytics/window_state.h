// window_state.h: how an order counts, and what the analytics handler keeps
// between the calls of one tumbling window.
//
// An order is an item of the Orders table with
//   OrderedAt    S  UTC ISO-8601, "2026-11-27T09:12:31.417Z": its minute is
//                   the first 16 characters, "2026-11-27T09:12"
//   Category     S
//   ProductId    S
//   Amount       N  what the customer paid, in currency units ("59.97")
//   ProductName  S  optional (defaults to ProductId)
//   Quantity     N  optional (defaults to 1)
// Any other item (or one with an attribute of the wrong type) is not an
// order and counts for nothing.
//
// A change counts as the difference it makes: an INSERT adds its new image,
// a REMOVE subtracts its old image, a MODIFY does both. Summing every
// change of the stream gives the aggregates of the orders in the table now,
// whatever was inserted, amended or cancelled.
//
// The sums are kept per "dimension": a (minute, category) pair, or a
// product. Not thread-safe; the handler has one state per call.
#ifndef EDDY_SAMPLES_ANALYTICS_WINDOW_STATE_H_
#define EDDY_SAMPLES_ANALYTICS_WINDOW_STATE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eddy/functions/handler.h"

namespace analytics {

// One order, as read from an image.
struct Order {
  std::string minute;  // "2026-11-27T09:12"
  std::string category;
  std::string product_id;
  std::string product_name;
  int64_t cents = 0;  // Amount, in hundredths
  int64_t quantity = 1;
};

// The order an image holds, or nullopt if the item is not an order.
std::optional<Order> OrderOf(const eddy::handler::attribute_value& image);

// A DynamoDB number's text ("59.97", "-3", "1.2E+3") in hundredths, rounded
// half to even beyond the second decimal; nullopt if it is not a number or
// does not fit in 15 digits.
std::optional<int64_t> ParseCents(std::string_view text);
// Hundredths as a DynamoDB number's text: 5997 -> "59.97", -50 -> "-0.50".
std::string FormatCents(int64_t cents);

// Whether stream sequence number `a` comes after `b` (decimal strings of
// any length; "" comes before everything).
bool SequenceAfter(std::string_view a, std::string_view b);

// Revenue and counts (units: for products only).
struct Sums {
  int64_t cents = 0;
  int64_t orders = 0;
  int64_t units = 0;

  Sums& operator+=(const Sums& o) {
    cents += o.cents;
    orders += o.orders;
    units += o.units;
    return *this;
  }
};

// What the sums are of: kind 'm' = minute `a` and category `b`; kind 'p' =
// product `a` (b empty).
struct Dimension {
  char kind = 'p';
  std::string a;
  std::string b;

  static Dimension Minute(std::string minute, std::string category) {
    return {'m', std::move(minute), std::move(category)};
  }
  static Dimension Product(std::string id) { return {'p', std::move(id), ""}; }
  bool is_product() const { return kind == 'p'; }
  bool operator<(const Dimension& o) const {
    if (kind != o.kind) return kind < o.kind;
    if (a != o.a) return a < o.a;
    return b < o.b;
  }
};

// What one record changes in one dimension.
struct Contribution {
  std::string sequence_number;
  Sums sums;
};

// A batch's records, as contributions per dimension, in sequence order (a
// MODIFY's old and new image make one contribution), plus what names each
// product (from its latest image).
struct BatchChanges {
  std::map<Dimension, std::vector<Contribution>> changes;
  struct ProductInfo {
    std::string name;
    std::string category;
  };
  std::map<std::string, ProductInfo> products;

  // Adds (sign +1) or subtracts (sign -1) `order`, changed by the record
  // with `sequence_number` (records must come in sequence order).
  void Add(const Order& order, int sign, std::string_view sequence_number);
};

// One window's sums in one dimension and shard, as written to the
// Aggregates table: the sum of the contributions of the window's records
// of that shard up to and including sequence number `through`; `rev`
// counts its writes (1, 2, ...).
struct Part {
  Sums sums;
  std::string through;
  int64_t rev = 0;
};

// The window's state: the parts this trigger last wrote (a cache of the
// table, so that the usual call writes without reading first).
class WindowState {
 public:
  // The state a call received (empty: the window's first call). Throws
  // std::runtime_error if it is not a state this handler wrote.
  static WindowState Parse(std::string_view text);
  // The state to return: Parse(Serialize()) gives an equal state.
  std::string Serialize() const;

  std::map<Dimension, Part>& parts() { return parts_; }
  const std::map<Dimension, Part>& parts() const { return parts_; }

 private:
  std::map<Dimension, Part> parts_;
};

}  // namespace analytics

#endif  // EDDY_SAMPLES_ANALYTICS_WINDOW_STATE_H_
