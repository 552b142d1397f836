#include "aggregates_writer.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <stdexcept>
#include <utility>
#include <vector>

namespace analytics {

namespace {

constexpr int kMaxPartAttempts = 200;  // Optimistic-concurrency retries.

// `s` as a JSON string literal.
std::string Q(std::string_view s) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string S(std::string_view s) { return "{\"S\":" + Q(s) + "}"; }
std::string N(const std::string& text) { return "{\"N\":\"" + text + "\"}"; }
std::string N(int64_t n) { return N(std::to_string(n)); }

std::string ToJson(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  v.Accept(w);
  return std::string(buffer.GetString(), buffer.GetSize());
}

// The number text of attribute `name` of a DynamoDB JSON item, or nullptr.
const char* NumberOf(const rapidjson::Value& item, const char* name) {
  if (!item.IsObject()) return nullptr;
  const auto a = item.FindMember(name);
  if (a == item.MemberEnd() || !a->value.IsObject()) return nullptr;
  const auto n = a->value.FindMember("N");
  if (n == a->value.MemberEnd() || !n->value.IsString()) return nullptr;
  return n->value.GetString();
}

int64_t CentsOf(const rapidjson::Value& item, const char* name) {
  const char* text = NumberOf(item, name);
  if (text == nullptr) return 0;
  const std::optional<int64_t> cents = ParseCents(text);
  if (!cents) {
    throw std::runtime_error(std::string("analytics: bad number in ") + name +
                             ": " + text);
  }
  return *cents;
}

int64_t IntegerOf(const rapidjson::Value& item, const char* name) {
  return CentsOf(item, name) / 100;
}

// The partition of a dimension's parts, and its total's key.
std::string PartsPk(const Dimension& d) {
  return d.is_product() ? "parts/product/" + d.a
                        : "parts/minute/" + d.a + "/" + d.b;
}
std::string TotalPk(const Dimension& d) {
  return d.is_product() ? "product-totals" : "minute-totals";
}
std::string TotalSk(const Dimension& d) {
  return d.is_product() ? d.a : d.a + "#" + d.b;
}

// The S attribute `name` of a DynamoDB JSON item, or "".
std::string StringOf(const rapidjson::Value& item, const char* name) {
  if (!item.IsObject()) return "";
  const auto a = item.FindMember(name);
  if (a == item.MemberEnd() || !a->value.IsObject()) return "";
  const auto v = a->value.FindMember("S");
  if (v == a->value.MemberEnd() || !v->value.IsString()) return "";
  return std::string(v->value.GetString(), v->value.GetStringLength());
}

}  // namespace

rapidjson::Document AggregatesWriter::Call(const char* operation,
                                           const std::string& body) {
  ++requests_;
  // value() throws eddy::dynamodb::dynamodb_error for an error answer.
  const std::string answer = client_.call(operation, body).value();
  rapidjson::Document doc;
  doc.Parse(answer.data(), answer.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    throw std::runtime_error(std::string("analytics: ") + operation +
                             " answered with something else than a JSON "
                             "object: " +
                             answer.substr(0, 300));
  }
  return doc;
}

void AggregatesWriter::Apply(const std::string& window_key,
                             const BatchChanges& batch,
                             const std::string& last_sequence,
                             WindowState& state) {
  // 1. This window's parts, each brought up to last_sequence.
  for (const auto& [dimension, contributions] : batch.changes) {
    const auto cached = state.parts().find(dimension);
    state.parts()[dimension] = WritePart(
        PartsPk(dimension), window_key, contributions, last_sequence,
        dimension.is_product(),
        cached == state.parts().end() ? std::nullopt
                                      : std::optional<Part>(cached->second));
  }
  // 2. The totals they are part of (also when every contribution was in
  // already: the writer of those may have failed before its totals).
  for (const auto& entry : batch.changes) {
    const Dimension& d = entry.first;
    std::string extra;
    if (d.is_product()) {
      const BatchChanges::ProductInfo& info = batch.products.at(d.a);
      extra = "\"board\":" + S(kLeaderboardBoard) + ",\"productId\":" + S(d.a) +
              ",\"name\":" + S(info.name) + ",\"category\":" + S(info.category);
    } else {
      extra = "\"minute\":" + S(d.a) + ",\"category\":" + S(d.b);
    }
    UpdateTotal(TotalPk(d), TotalSk(d), PartsPk(d), extra, d.is_product());
  }
}

Part AggregatesWriter::WritePart(const std::string& pk, const std::string& sk,
                                 const std::vector<Contribution>& contributions,
                                 const std::string& last_sequence,
                                 bool with_units, std::optional<Part> base) {
  for (int attempt = 1; attempt <= kMaxPartAttempts; ++attempt) {
    const Part current = base.value_or(Part{});
    Part next = current;
    bool changed = false;
    for (const Contribution& c : contributions) {
      if (SequenceAfter(c.sequence_number, current.through)) {
        next.sums += c.sums;
        changed = true;
      } else {
        ++skipped_;  // Delivered before: in the part already.
      }
    }
    if (!changed) return current;
    if (SequenceAfter(last_sequence, next.through))
      next.through = last_sequence;
    next.rev = current.rev + 1;
    std::string item = "{\"pk\":" + S(pk) + ",\"sk\":" + S(sk) +
                       ",\"revenue\":" + N(FormatCents(next.sums.cents)) +
                       ",\"orders\":" + N(next.sums.orders);
    if (with_units) item += ",\"units\":" + N(next.sums.units);
    item += ",\"through\":" + S(next.through) + ",\"rev\":" + N(next.rev) + "}";
    const std::string condition =
        base ? "\"ConditionExpression\":\"#t = :t\",\"ExpressionAttribute"
               "Names\":{\"#t\":\"through\"},\"ExpressionAttributeValues\":"
               "{\":t\":" +
                   S(base->through) + "}"
             : "\"ConditionExpression\":\"attribute_not_exists(pk)\"";
    try {
      Call("PutItem", "{\"TableName\":" + Q(table_) + ",\"Item\":" + item +
                          "," + condition + "}");
      return next;
    } catch (const eddy::dynamodb::dynamodb_error& e) {
      if (e.error().kind !=
          eddy::dynamodb::error_kind::conditional_check_failed) {
        throw;
      }
      // Written by an earlier delivery or another trigger: read it, merge.
      ++conflicts_;
      base = ReadPart(pk, sk);
    }
  }
  throw std::runtime_error("analytics: part " + pk + " " + sk +
                           " kept changing under " +
                           std::to_string(kMaxPartAttempts) + " attempts");
}

std::optional<Part> AggregatesWriter::ReadPart(const std::string& pk,
                                               const std::string& sk) {
  const rapidjson::Document answer = Call(
      "GetItem", "{\"TableName\":" + Q(table_) + ",\"Key\":{\"pk\":" + S(pk) +
                     ",\"sk\":" + S(sk) + "},\"ConsistentRead\":true}");
  const auto found = answer.FindMember("Item");
  if (found == answer.MemberEnd() || !found->value.IsObject() ||
      found->value.ObjectEmpty()) {
    return std::nullopt;
  }
  Part part;
  part.sums.cents = CentsOf(found->value, "revenue");
  part.sums.orders = IntegerOf(found->value, "orders");
  part.sums.units = IntegerOf(found->value, "units");
  part.through = StringOf(found->value, "through");
  part.rev = IntegerOf(found->value, "rev");
  return part;
}

Sums AggregatesWriter::SumParts(const std::string& pk, int64_t* revs) {
  Sums sums;
  *revs = 0;
  std::string start_key;  // LastEvaluatedKey of the previous page.
  do {
    std::string body =
        "{\"TableName\":" + Q(table_) +
        ",\"KeyConditionExpression\":\"pk = :pk\""
        ",\"ExpressionAttributeValues\":{\":pk\":" +
        S(pk) +
        "},\"ConsistentRead\":true"
        ",\"ProjectionExpression\":\"#r, #o, #u, #v\""
        ",\"ExpressionAttributeNames\":{\"#r\":\"revenue\",\"#o\":\"orders\","
        "\"#u\":\"units\",\"#v\":\"rev\"}";
    if (!start_key.empty()) body += ",\"ExclusiveStartKey\":" + start_key;
    body += "}";
    const rapidjson::Document answer = Call("Query", body);
    const auto items = answer.FindMember("Items");
    if (items == answer.MemberEnd() || !items->value.IsArray()) {
      throw std::runtime_error("analytics: Query answered without Items");
    }
    for (const rapidjson::Value& item : items->value.GetArray()) {
      sums.cents += CentsOf(item, "revenue");
      sums.orders += IntegerOf(item, "orders");
      sums.units += IntegerOf(item, "units");
      *revs += IntegerOf(item, "rev");
    }
    const auto last = answer.FindMember("LastEvaluatedKey");
    start_key = last == answer.MemberEnd() ? "" : ToJson(last->value);
  } while (!start_key.empty());
  return sums;
}

void AggregatesWriter::UpdateTotal(const std::string& pk, const std::string& sk,
                                   const std::string& parts_pk,
                                   const std::string& extra, bool with_units) {
  // Sum after the parts were written; see the header for why the sum of the
  // parts' revisions orders the puts.
  int64_t version = 0;
  const Sums sums = SumParts(parts_pk, &version);
  std::string item = "{\"pk\":" + S(pk) + ",\"sk\":" + S(sk);
  if (!extra.empty()) item += "," + extra;
  item += ",\"revenue\":" + N(FormatCents(sums.cents)) +
          ",\"orders\":" + N(sums.orders);
  if (with_units) item += ",\"units\":" + N(sums.units);
  item += ",\"version\":" + N(version) + "}";
  try {
    Call("PutItem",
         "{\"TableName\":" + Q(table_) + ",\"Item\":" + item +
             ",\"ConditionExpression\":\"attribute_not_exists(#v) OR #v <= :v\""
             ",\"ExpressionAttributeNames\":{\"#v\":\"version\"}"
             ",\"ExpressionAttributeValues\":{\":v\":" +
             N(version) + "}}");
  } catch (const eddy::dynamodb::dynamodb_error& e) {
    if (e.error().kind !=
        eddy::dynamodb::error_kind::conditional_check_failed) {
      throw;
    }
    ++stale_totals_;  // A later sum is there already: keep it.
  }
}

}  // namespace analytics
