#include "window_state.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cctype>
#include <cstdlib>
#include <stdexcept>

namespace analytics {

using eddy::handler::attribute_value;

namespace {

// The S attribute `name`, or nullopt if absent or not a string.
std::optional<std::string_view> StringOf(const attribute_value& image,
                                         std::string_view name) {
  const std::optional<attribute_value> v = image.find(name);
  if (!v || !v->is_string()) return std::nullopt;
  return v->as_string();
}

// "YYYY-MM-DDTHH:MM..." (the minute of an ISO-8601 time).
bool StartsWithMinute(std::string_view t) {
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd";
  if (t.size() < kShape.size()) return false;
  for (size_t i = 0; i < kShape.size(); ++i) {
    const bool digit = std::isdigit(static_cast<unsigned char>(t[i])) != 0;
    if (kShape[i] == 'd' ? !digit : t[i] != kShape[i]) return false;
  }
  return true;
}

[[noreturn]] void BadState(std::string_view why) {
  throw std::runtime_error("analytics: unreadable window state: " +
                           std::string(why));
}

int64_t Int(const rapidjson::Value& v) {
  if (!v.IsInt64()) BadState("a number is not an integer");
  return v.GetInt64();
}

std::string Str(const rapidjson::Value& v) {
  if (!v.IsString()) BadState("a name is not a string");
  return std::string(v.GetString(), v.GetStringLength());
}

}  // namespace

std::optional<int64_t> ParseCents(std::string_view text) {
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) {
    negative = text[i] == '-';
    ++i;
  }
  std::string digits;  // Without leading zeros.
  int64_t fraction_digits = 0;
  bool dot = false;
  bool any = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c >= '0' && c <= '9') {
      any = true;
      if (!digits.empty() || c != '0') digits += c;
      if (dot) ++fraction_digits;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
  }
  if (!any || digits.size() > 40) return std::nullopt;
  int64_t exponent = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exponent_negative = false;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) {
      exponent_negative = text[i] == '-';
      ++i;
    }
    if (i == text.size()) return std::nullopt;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      exponent = exponent * 10 + (text[i] - '0');
      if (exponent > 1000) return std::nullopt;
    }
    if (exponent_negative) exponent = -exponent;
  }
  if (i != text.size()) return std::nullopt;
  if (digits.empty()) return 0;
  // value = digits * 10^(exponent - fraction_digits); cents = value * 100.
  const int64_t shift = exponent - fraction_digits + 2;
  std::string whole = digits;
  std::string rest;  // The digits below a cent.
  if (shift >= 0) {
    if (static_cast<int64_t>(whole.size()) + shift > 15) return std::nullopt;
    whole.append(static_cast<size_t>(shift), '0');
  } else {
    const auto drop = static_cast<size_t>(-shift);
    if (drop >= whole.size()) {
      rest = std::string(drop - whole.size(), '0') + whole;
      whole.clear();
    } else {
      rest = whole.substr(whole.size() - drop);
      whole.resize(whole.size() - drop);
    }
  }
  if (whole.size() > 15) return std::nullopt;
  int64_t cents = whole.empty() ? 0 : std::stoll(whole);
  if (!rest.empty()) {
    const bool above_half =
        rest[0] > '5' ||
        (rest[0] == '5' && rest.find_first_not_of('0', 1) != std::string::npos);
    const bool half = rest[0] == '5' && !above_half;
    if (above_half || (half && cents % 2 == 1)) ++cents;
  }
  return negative ? -cents : cents;
}

std::string FormatCents(int64_t cents) {
  const bool negative = cents < 0;
  const uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(cents)
                                      : static_cast<uint64_t>(cents);
  const uint64_t fraction = magnitude % 100;
  std::string out = negative ? "-" : "";
  out += std::to_string(magnitude / 100);
  out += '.';
  out += static_cast<char>('0' + fraction / 10);
  out += static_cast<char>('0' + fraction % 10);
  return out;
}

std::optional<Order> OrderOf(const attribute_value& image) {
  if (!image.is_map()) return std::nullopt;
  const auto ordered_at = StringOf(image, "OrderedAt");
  const auto category = StringOf(image, "Category");
  const auto product = StringOf(image, "ProductId");
  const auto amount = image.find("Amount");
  if (!ordered_at || !StartsWithMinute(*ordered_at) || !category ||
      category->empty() || !product || product->empty() || !amount ||
      !amount->is_number()) {
    return std::nullopt;
  }
  Order order;
  const std::optional<int64_t> cents = ParseCents(amount->as_number_text());
  if (!cents) return std::nullopt;
  order.cents = *cents;
  if (const auto quantity = image.find("Quantity")) {
    if (!quantity->is_number()) return std::nullopt;
    try {
      order.quantity = quantity->as_int64();
    } catch (const std::out_of_range&) {
      return std::nullopt;  // Not a whole number.
    }
  }
  order.minute = std::string(ordered_at->substr(0, 16));
  order.category = std::string(*category);
  order.product_id = std::string(*product);
  const auto name = StringOf(image, "ProductName");
  order.product_name = std::string(name ? *name : *product);
  return order;
}

bool SequenceAfter(std::string_view a, std::string_view b) {
  while (a.size() > 1 && a.front() == '0') a.remove_prefix(1);
  while (b.size() > 1 && b.front() == '0') b.remove_prefix(1);
  if (a.size() != b.size()) return a.size() > b.size();
  return a > b;
}

void BatchChanges::Add(const Order& order, int sign,
                       std::string_view sequence_number) {
  auto add = [&](const Dimension& dimension, const Sums& sums) {
    std::vector<Contribution>& list = changes[dimension];
    if (list.empty() || list.back().sequence_number != sequence_number) {
      list.push_back({std::string(sequence_number), Sums{}});
    }
    list.back().sums += sums;  // A MODIFY's two images: one contribution.
  };
  add(Dimension::Minute(order.minute, order.category),
      Sums{sign * order.cents, sign, 0});
  add(Dimension::Product(order.product_id),
      Sums{sign * order.cents, sign, sign * order.quantity});
  // The latest image names the product (a REMOVE's old image too, so that a
  // product seen only in cancellations still has a name).
  products[order.product_id] = {order.product_name, order.category};
}

// {"parts":[[kind,a,b,cents,orders,units,through,rev],...]}
std::string WindowState::Serialize() const {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  auto str = [&w](const std::string& s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  };
  w.StartObject();
  w.Key("parts");
  w.StartArray();
  for (const auto& [dimension, part] : parts_) {
    w.StartArray();
    str(std::string(1, dimension.kind));
    str(dimension.a);
    str(dimension.b);
    w.Int64(part.sums.cents);
    w.Int64(part.sums.orders);
    w.Int64(part.sums.units);
    str(part.through);
    w.Int64(part.rev);
    w.EndArray();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

WindowState WindowState::Parse(std::string_view text) {
  WindowState state;
  if (text.empty()) return state;
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) BadState("not a JSON object");
  const auto parts = doc.FindMember("parts");
  if (parts == doc.MemberEnd() || !parts->value.IsArray()) {
    BadState("no parts");
  }
  for (const rapidjson::Value& p : parts->value.GetArray()) {
    if (!p.IsArray() || p.Size() != 8) BadState("bad part");
    const std::string kind = Str(p[0]);
    if (kind != "m" && kind != "p") BadState("bad dimension kind");
    Part& part = state.parts_[Dimension{kind[0], Str(p[1]), Str(p[2])}];
    part.sums.cents = Int(p[3]);
    part.sums.orders = Int(p[4]);
    part.sums.units = Int(p[5]);
    part.through = Str(p[6]);
    part.rev = Int(p[7]);
  }
  return state;
}

}  // namespace analytics
