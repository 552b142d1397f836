#include "wire/item_json.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <array>
#include <cstring>

#include "eddy/store/item_codec.h"

#define WIRE_RETURN_IF_ERROR(expr)                        \
  do {                                                    \
    ::eddy::runtime::wire::DecodeStatus wire_s_ = (expr); \
    if (!wire_s_.ok()) return wire_s_;                    \
  } while (0)

namespace eddy::runtime::wire {
namespace {

using store::AttributeValue;
using store::Item;
using store::ValueType;

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t Base64Length(size_t bytes) { return (bytes + 2) / 3 * 4; }

// Writes the Base64Length(bytes.size()) characters of the base64 of `bytes`
// at `out`.
void WriteBase64(std::string_view bytes, char* out) {
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = (static_cast<uint8_t>(bytes[i]) << 16) |
                 (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                 static_cast<uint8_t>(bytes[i + 2]);
    *out++ = kBase64Alphabet[(n >> 18) & 63];
    *out++ = kBase64Alphabet[(n >> 12) & 63];
    *out++ = kBase64Alphabet[(n >> 6) & 63];
    *out++ = kBase64Alphabet[n & 63];
  }
  if (i < bytes.size()) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    *out++ = kBase64Alphabet[(n >> 18) & 63];
    *out++ = kBase64Alphabet[(n >> 12) & 63];
    *out++ = i + 1 < bytes.size() ? kBase64Alphabet[(n >> 6) & 63] : '=';
    *out++ = '=';
  }
}

// The name DynamoDB's deserializer gives a JSON scalar token.
const char* JsonTypeName(const rapidjson::Value& v) {
  if (v.IsTrue()) return "TRUE_VALUE";
  if (v.IsFalse()) return "FALSE_VALUE";
  if (v.IsString()) return "STRING_VALUE";
  if (v.IsNull()) return "NULL_VALUE";
  if (v.IsInt64() || v.IsUint64()) return "NUMBER_VALUE";
  return "DECIMAL_VALUE";
}

std::string_view View(const rapidjson::Value& v) {
  return std::string_view(v.GetString(), v.GetStringLength());
}

DecodeStatus Nesting() {
  return DecodeStatus::Validation(
      "Nesting Levels have exceeded supported limits: Attributes in the item "
      "have nested levels beyond supported limit");
}

// A number's text, with DynamoDB's text for an empty one (no value quoted).
Result<store::Number> ParseNumber(std::string_view text) {
  if (text.empty()) {
    return Status::InvalidArgument(
        "The parameter cannot be converted to a numeric value");
  }
  return store::Number::Parse(text);
}

// Reads the members of a SS/NS/BS array as strings (B members decoded).
DecodeStatus ReadSetMembers(const rapidjson::Value& json, bool binary,
                            std::vector<std::string>* out) {
  if (!json.IsArray()) return WrongType(json, "List");
  out->reserve(json.Size());
  for (const rapidjson::Value& m : json.GetArray()) {
    if (!m.IsString()) return WrongType(m, "String");
    if (binary) {
      std::string bytes;
      if (Base64Problem(View(m)) != 0 || !Base64Decode(View(m), &bytes)) {
        return DecodeStatus::Serialization(
            "Base64 encoded length is expected a multiple of 4 bytes but "
            "found: " +
            std::to_string(m.GetStringLength()));
      }
      out->push_back(std::move(bytes));
    } else {
      out->emplace_back(View(m));
    }
  }
  return DecodeStatus();
}

}  // namespace

bool ReadBoolean(const rapidjson::Value& value, bool* out) {
  if (value.IsBool()) {
    *out = value.GetBool();
    return true;
  }
  if (!value.IsString() || value.GetStringLength() > 5) return false;
  std::string upper(View(value));
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  if (upper == "TRUE" || upper == "YES" || upper == "1") {
    *out = true;
    return true;
  }
  if (upper == "FALSE" || upper == "NO" || upper == "0") {
    *out = false;
    return true;
  }
  return false;
}

std::string WrongTypeMessage(const rapidjson::Value& value,
                             std::string_view expected) {
  // DynamoDB's deserializer's texts (request_schema.cc has the full set).
  if (value.IsObject()) {
    return std::string("Start of structure or map found where not expected");
  }
  const bool scalar_expected = expected == "String" || expected == "Boolean" ||
                               expected == "Long" || expected == "Integer";
  if (value.IsArray()) {
    return std::string(scalar_expected
                           ? "Unrecognized collection type class java.lang." +
                                 std::string(expected)
                           : std::string("Unexpected field type"));
  }
  if (!scalar_expected) {
    return std::string("Unexpected field type");
  }
  if (value.IsString() && expected == "Boolean") {
    return std::string("Unexpected token received from parser");
  }
  return std::string(std::string(JsonTypeName(value)) +
                     " cannot be converted to " + std::string(expected));
}

DecodeStatus WrongType(const rapidjson::Value& value,
                       std::string_view expected) {
  return DecodeStatus::Serialization(WrongTypeMessage(value, expected));
}

namespace {

// One member of an AttributeValue object, `type` being one of the ten.
DecodeStatus ReadTypedValue(std::string_view type, const rapidjson::Value& v,
                            int depth, AttributeValue* out) {
  if (type == "S") {
    if (!v.IsString()) return WrongType(v, "String");
    *out = AttributeValue::String(std::string(View(v)));
  } else if (type == "N") {
    if (!v.IsString()) return WrongType(v, "String");
    Result<store::Number> n = ParseNumber(View(v));
    if (!n.ok()) return n.status();
    *out = AttributeValue::Num(*n);
  } else if (type == "B") {
    if (!v.IsString()) return WrongType(v, "Blob");
    std::string bytes;
    if (Base64Problem(View(v)) != 0 || !Base64Decode(View(v), &bytes)) {
      return DecodeStatus::Serialization(
          "Base64 encoded length is expected a multiple of 4 bytes but "
          "found: " +
          std::to_string(v.GetStringLength()));
    }
    *out = AttributeValue::Binary(std::move(bytes));
  } else if (type == "BOOL") {
    bool b = false;
    if (!ReadBoolean(v, &b)) return WrongType(v, "Boolean");
    *out = AttributeValue::Bool(b);
  } else if (type == "NULL") {
    bool b = false;
    if (!ReadBoolean(v, &b)) return WrongType(v, "Boolean");
    if (!b) {
      return DecodeStatus::Validation(
          "One or more parameter values were invalid: Null attribute value "
          "types must have the value of true");
    }
    *out = AttributeValue::Null();
  } else if (type == "M") {
    if (!v.IsObject()) return WrongType(v, "Map");
    if (depth + 1 > kMaxNestingDepth && v.MemberCount() > 0) return Nesting();
    store::AttributeMap map;
    for (const auto& member : v.GetObject()) {
      AttributeValue child;
      WIRE_RETURN_IF_ERROR(ReadAttributeValue(member.value, depth + 1, &child));
      map.insert_or_assign(std::string(View(member.name)), std::move(child));
    }
    *out = AttributeValue::Map(std::move(map));
  } else if (type == "L") {
    if (!v.IsArray()) return WrongType(v, "List");
    if (depth + 1 > kMaxNestingDepth && v.Size() > 0) return Nesting();
    store::AttributeList list;
    list.reserve(v.Size());
    for (const rapidjson::Value& element : v.GetArray()) {
      AttributeValue child;
      WIRE_RETURN_IF_ERROR(ReadAttributeValue(element, depth + 1, &child));
      list.push_back(std::move(child));
    }
    *out = AttributeValue::List(std::move(list));
  } else {
    std::vector<std::string> members;
    WIRE_RETURN_IF_ERROR(ReadSetMembers(v, type == "BS", &members));
    if (type == "NS") {
      for (const std::string& m : members) {
        Result<store::Number> n = ParseNumber(m);
        if (!n.ok()) return n.status();
      }
    }
    Result<AttributeValue> set =
        type == "SS"   ? AttributeValue::StringSet(std::move(members))
        : type == "NS" ? AttributeValue::NumberSet(members)
                       : AttributeValue::BinarySet(std::move(members));
    if (!set.ok()) {
      const Status& s = set.status();
      // DynamoDB words duplicates differently per set type (recorded):
      // "Input collection contains duplicates" for numbers, "... [Yg==,
      // Yg==]of type BS contains duplicates." (base64, sic) for binaries.
      if (s.message().find("contains duplicates") != std::string::npos) {
        if (type == "NS") {
          return DecodeStatus::Validation(
              "Input collection contains duplicates");
        }
        if (type == "BS") {
          std::string listed;
          for (const rapidjson::Value& m : v.GetArray()) {
            listed += (listed.empty() ? "" : ", ") + std::string(View(m));
          }
          return DecodeStatus::Validation(
              "One or more parameter values were invalid: Input collection [" +
              listed + "]of type BS contains duplicates.");
        }
      }
      return s;
    }
    *out = std::move(*set);
  }
  return DecodeStatus();
}

}  // namespace

DecodeStatus ReadAttributeValue(const rapidjson::Value& json, int depth,
                                AttributeValue* out) {
  if (!json.IsObject()) return WrongType(json, "AttributeValue");
  if (depth > kMaxNestingDepth) return Nesting();
  static constexpr std::array<std::string_view, 10> kTypes = {
      "S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"};
  const rapidjson::Value* found = nullptr;
  std::string_view type;
  int count = 0;
  for (const auto& member : json.GetObject()) {
    if (member.value.IsNull()) continue;
    std::string_view name = View(member.name);
    bool known = false;
    for (std::string_view t : kTypes) known = known || t == name;
    if (!known) continue;  // Unknown members are ignored, as by DynamoDB.
    ++count;
    found = &member.value;
    type = name;
  }
  if (count == 0) {
    return DecodeStatus::Validation(
        "Supplied AttributeValue is empty, must contain exactly one of the "
        "supported datatypes");
  }
  if (count > 1) {
    // DynamoDB checks each value first ({"S": "a", "N": "b"} is about the
    // number), then that there is only one.
    for (const auto& member : json.GetObject()) {
      if (member.value.IsNull()) continue;
      const std::string_view name = View(member.name);
      bool known = false;
      for (std::string_view t : kTypes) known = known || t == name;
      if (!known) continue;
      AttributeValue ignored;
      WIRE_RETURN_IF_ERROR(ReadTypedValue(name, member.value, depth, &ignored));
    }
    return DecodeStatus::Validation(
        "Supplied AttributeValue has more than one datatypes set, must "
        "contain exactly one of the supported datatypes");
  }
  return ReadTypedValue(type, *found, depth, out);
}

DecodeStatus ReadItem(const rapidjson::Value& json, Item* out) {
  if (!json.IsObject()) return WrongType(json, "Map");
  for (const auto& member : json.GetObject()) {
    if (member.name.GetStringLength() > kMaxAttributeNameBytes) {
      return DecodeStatus::Validation(
          "One or more parameter values were invalid: Attribute name exceeds "
          "the maximum length of 65535 bytes");
    }
    AttributeValue value;
    WIRE_RETURN_IF_ERROR(ReadAttributeValue(member.value, 1, &value));
    out->insert_or_assign(std::string(View(member.name)), std::move(value));
  }
  return DecodeStatus();
}

void WriteAttributeValue(const AttributeValue& value, JsonWriter* w) {
  auto str = [w](const std::string& s) {
    w->String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  };
  w->StartObject();
  switch (value.type()) {
    case ValueType::kS:
      w->Key("S");
      str(value.scalar());
      break;
    case ValueType::kN:
      w->Key("N");
      str(value.scalar());
      break;
    case ValueType::kB:
      w->Key("B");
      str(Base64Encode(value.scalar()));
      break;
    case ValueType::kBOOL:
      w->Key("BOOL");
      w->Bool(value.boolean());
      break;
    case ValueType::kNULL:
      w->Key("NULL");
      w->Bool(true);
      break;
    case ValueType::kM:
      w->Key("M");
      WriteItem(value.map(), w);
      break;
    case ValueType::kL:
      w->Key("L");
      w->StartArray();
      for (const AttributeValue& e : value.list()) WriteAttributeValue(e, w);
      w->EndArray();
      break;
    case ValueType::kSS:
    case ValueType::kNS:
    case ValueType::kBS: {
      const std::string_view type = store::ValueTypeName(value.type());
      w->Key(type.data(), static_cast<rapidjson::SizeType>(type.size()));
      w->StartArray();
      for (const std::string& m : value.set()) {
        str(value.type() == ValueType::kBS ? Base64Encode(m) : m);
      }
      w->EndArray();
      break;
    }
  }
  w->EndObject();
}

void WriteItem(const Item& item, JsonWriter* w) {
  w->StartObject();
  for (const auto& [name, value] : item) {
    w->Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    WriteAttributeValue(value, w);
  }
  w->EndObject();
}

void WriteItemMember(const char* key, const Item& item, JsonWriter* w) {
  w->Key(key);
  WriteItem(item, w);
}

namespace {

// rapidjson::Writer's escapes (default flags, UTF-8 to UTF-8): 'u' for a
// six-character escape with the byte in hex (upper case), another character
// for a backslash and that character, 0 for none. Bytes from 0x80 pass
// through unchanged: the Writer copies them without validation.
constexpr std::array<char, 256> kJsonEscapes = [] {
  std::array<char, 256> t{};
  for (size_t c = 0; c < 0x20; ++c) t[c] = 'u';
  t['\b'] = 'b';
  t['\t'] = 't';
  t['\n'] = 'n';
  t['\f'] = 'f';
  t['\r'] = 'r';
  t['"'] = '"';
  t['\\'] = '\\';
  return t;
}();

// Whether any of the 8 bytes of `word` needs escaping: below 0x20, '"' or
// '\\' (the haszero/hasless tricks of "Bit Twiddling Hacks", exact for
// whether any byte matches, which is all that is asked here).
bool AnyNeedsEscape(uint64_t word) {
  constexpr uint64_t kOnes = 0x0101010101010101;
  constexpr uint64_t kHighs = 0x8080808080808080;
  auto has_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHighs; };
  const uint64_t below_space = (word - kOnes * 0x20) & ~word & kHighs;
  return (below_space | has_zero(word ^ (kOnes * '"')) |
          has_zero(word ^ (kOnes * '\\'))) != 0;
}

#if defined(__SSE2__)
// Whether any of the 16 bytes at `p` needs escaping. (Bytes <= 0x1F are
// those whose unsigned max with 0x1F is 0x1F.)
bool AnyNeedsEscape16(const char* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i low = _mm_set1_epi8(0x1F);
  const __m128i hits =
      _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
                   _mm_cmpeq_epi8(_mm_max_epu8(v, low), low));
  return _mm_movemask_epi8(hits) != 0;
}
#endif

// Whether any byte of `s` needs escaping, 16 (SSE2) or 8 bytes at a time.
// The last (partial) group is read with overlapping loads inside `s`, the
// bytes missing from a short string taken as 'a' (which needs none).
bool NeedsEscape(std::string_view s) {
  const char* p = s.data();
  const size_t n = s.size();
#if defined(__SSE2__)
  if (n >= 16) {
    for (size_t i = 0; i + 16 <= n; i += 16) {
      if (AnyNeedsEscape16(p + i)) return true;
    }
    return AnyNeedsEscape16(p + n - 16);
  }
#endif
  if (n >= 8) {
    uint64_t word;
    for (size_t i = 0; i + 8 <= n; i += 8) {
      std::memcpy(&word, p + i, 8);
      if (AnyNeedsEscape(word)) return true;
    }
    std::memcpy(&word, p + n - 8, 8);
    return AnyNeedsEscape(word);
  }
  uint64_t word = 0x6161616161616161;  // "aaaaaaaa".
  if (n >= 4) {
    uint32_t head, tail;
    std::memcpy(&head, p, 4);
    std::memcpy(&tail, p + n - 4, 4);
    word = head | static_cast<uint64_t>(tail) << 32;
  } else if (n >= 2) {
    uint16_t head, tail;
    std::memcpy(&head, p, 2);
    std::memcpy(&tail, p + n - 2, 2);
    word = (word & ~uint64_t{0xFFFFFFFF}) | head |
           static_cast<uint64_t>(tail) << 16;
  } else if (n == 1) {
    word = (word & ~uint64_t{0xFF}) | static_cast<uint8_t>(p[0]);
  }
  return AnyNeedsEscape(word);
}

// Appends bytes to a rapidjson::StringBuffer (growing it as needed).
class JsonText {
 public:
  explicit JsonText(rapidjson::StringBuffer* buffer) : buffer_(buffer) {}

  void Put(char c) { buffer_->Put(c); }
  void Append(std::string_view s) {
    std::memcpy(buffer_->Push(s.size()), s.data(), s.size());
  }

  // Appends `s` as a JSON string, byte for byte as rapidjson::Writer::String
  // writes it.
  void String(std::string_view s) {
    if (NeedsEscape(s)) {
      EscapedString(s);
      return;
    }
    char* out = buffer_->Push(s.size() + 2);
    out[0] = '"';
    std::memcpy(out + 1, s.data(), s.size());
    out[s.size() + 1] = '"';
  }

  // Appends the base64 of `bytes` as a JSON string (it needs no escaping).
  void Base64String(std::string_view bytes) {
    const size_t length = Base64Length(bytes.size());
    char* out = buffer_->Push(length + 2);
    out[0] = '"';
    WriteBase64(bytes, out + 1);
    out[length + 1] = '"';
  }

 private:
  // String, for a string with bytes to escape.
  void EscapedString(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    // At most 6 bytes out per byte in, as the Writer reserves.
    buffer_->Reserve(2 + 6 * s.size());
    buffer_->PutUnsafe('"');
    for (const char byte : s) {
      const auto c = static_cast<unsigned char>(byte);
      const char escape = kJsonEscapes[c];
      if (escape == 0) {
        buffer_->PutUnsafe(byte);
      } else if (escape != 'u') {
        buffer_->PutUnsafe('\\');
        buffer_->PutUnsafe(escape);
      } else {
        const char text[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        std::memcpy(buffer_->PushUnsafe(6), text, 6);
      }
    }
    buffer_->PutUnsafe('"');
  }

  rapidjson::StringBuffer* const buffer_;
};

// Renders an item's JSON text as WriteItem writes it through
// rapidjson::Writer: no white space, members and elements in encoding order.
class JsonItemVisitor final : public store::ItemVisitor {
 public:
  JsonItemVisitor(const std::vector<std::string>* only,
                  rapidjson::StringBuffer* out)
      : only_(only), out_(out) {}

  // The item's own object.
  void BeginItem() {
    out_.Put('{');
    Push(/*in_list=*/false);
  }
  void EndItem() {
    --depth_;
    out_.Put('}');
  }

  bool Name(std::string_view name) override {
    if (depth_ == 1 && only_ != nullptr && !Selected(name)) return false;
    if (levels_[depth_ - 1].count++ > 0) out_.Put(',');
    out_.String(name);
    out_.Put(':');
    return true;
  }
  void Scalar(ValueType type, std::string_view bytes) override {
    BeginValue();
    switch (type) {
      case ValueType::kS:
        out_.Append(R"({"S":)");
        out_.String(bytes);
        break;
      case ValueType::kN:
        out_.Append(R"({"N":)");
        out_.String(bytes);
        break;
      default:  // kB, the only other scalar.
        out_.Append(R"({"B":)");
        out_.Base64String(bytes);
        break;
    }
    out_.Put('}');
  }
  void Bool(bool value) override {
    BeginValue();
    out_.Append(value ? R"({"BOOL":true})" : R"({"BOOL":false})");
  }
  void Null() override {
    BeginValue();
    out_.Append(R"({"NULL":true})");
  }
  void BeginMap(size_t /*count*/) override {
    BeginValue();
    out_.Append(R"({"M":{)");
    Push(/*in_list=*/false);
  }
  void EndMap() override {
    --depth_;
    out_.Append("}}");
  }
  void BeginList(size_t /*count*/) override {
    BeginValue();
    out_.Append(R"({"L":[)");
    Push(/*in_list=*/true);
  }
  void EndList() override {
    --depth_;
    out_.Append("]}");
  }
  void BeginSet(ValueType type, size_t /*count*/) override {
    BeginValue();
    out_.Append(type == ValueType::kSS   ? R"({"SS":[)"
                : type == ValueType::kNS ? R"({"NS":[)"
                                         : R"({"BS":[)");
    binary_set_ = type == ValueType::kBS;
    first_member_ = true;
  }
  void SetMember(std::string_view member) override {
    if (!first_member_) out_.Put(',');
    first_member_ = false;
    if (binary_set_) {
      out_.Base64String(member);
    } else {
      out_.String(member);
    }
  }
  void EndSet() override { out_.Append("]}"); }

 private:
  // An object or array being written. No member initialisers: levels_
  // is left uninitialised (Push sets each level it uses), which spares a
  // 2 KB clear per item written.
  struct Level {
    bool in_list;
    size_t count;  // Members or elements written so far.
  };

  void Push(bool in_list) { levels_[depth_++] = Level{in_list, 0}; }
  // A value starts: in a list it is an element, after a comma unless first
  // (in a map, Name wrote the comma).
  void BeginValue() {
    Level& level = levels_[depth_ - 1];
    if (level.in_list && level.count++ > 0) out_.Put(',');
  }
  // Whether `name`, a top-level attribute, is in *only_. Top-level names
  // come in ascending order, so one pass over *only_ serves the item.
  bool Selected(std::string_view name) {
    while (next_ < only_->size() && std::string_view((*only_)[next_]) < name) {
      ++next_;
    }
    return next_ < only_->size() && (*only_)[next_] == name;
  }

  const std::vector<std::string>* const only_;
  JsonText out_;
  // The item's object and the M and L values around the current value:
  // VisitItem nests values at most kMaxItemCodecDepth deep.
  std::array<Level, store::kMaxItemCodecDepth + 1> levels_;
  size_t depth_ = 0;  // Levels in use.
  size_t next_ = 0;   // Next candidate in *only_.
  bool binary_set_ = false;
  bool first_member_ = false;
};

}  // namespace

Result<size_t> WriteEncodedItem(std::string_view encoded,
                                const std::vector<std::string>* only,
                                JsonWriter* w) {
  return w->RenderValue(rapidjson::kObjectType,
                        [&](rapidjson::StringBuffer* out) -> Result<size_t> {
                          JsonItemVisitor visitor(only, out);
                          visitor.BeginItem();
                          Result<size_t> size =
                              store::VisitItem(encoded, &visitor);
                          if (size.ok()) visitor.EndItem();
                          return size;
                        });
}

std::string Base64Encode(std::string_view bytes) {
  std::string out(Base64Length(bytes.size()), '\0');
  WriteBase64(bytes, out.data());
  return out;
}

int Base64Problem(std::string_view text) {
  if (text.size() % 4 != 0) return 1;
  static const std::array<int8_t, 256> kTable = [] {
    std::array<int8_t, 256> t{};
    t.fill(-1);
    for (int i = 0; i < 64; ++i) {
      t[static_cast<uint8_t>(kBase64Alphabet[i])] = static_cast<int8_t>(i);
    }
    return t;
  }();
  size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') {
    ++pad;
  }
  const size_t data = text.size() - pad;
  for (size_t i = 0; i < data; ++i) {
    if (kTable[static_cast<uint8_t>(text[i])] < 0) return 2;
  }
  if (pad > 0) {
    if (data % 4 < 2) return 2;  // "=" too early in its group.
    // The last data character carries 2 (one '=') or 4 (two) unused bits.
    const int last = kTable[static_cast<uint8_t>(text[data - 1])];
    if ((last & (pad == 1 ? 0x3 : 0xF)) != 0) return 2;
  }
  return 0;
}

bool Base64Decode(std::string_view text, std::string* out) {
  static const std::array<int8_t, 256> kTable = [] {
    std::array<int8_t, 256> t{};
    t.fill(-1);
    for (int i = 0; i < 64; ++i) {
      t[static_cast<uint8_t>(kBase64Alphabet[i])] = static_cast<int8_t>(i);
    }
    return t;
  }();
  if (text.size() % 4 != 0) return false;
  out->clear();
  out->reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      char c = text[i + static_cast<size_t>(j)];
      if (c == '=') {
        // Padding only in the last group's last two places.
        if (i + 4 != text.size() || j < 2) return false;
        ++pad;
        v[j] = 0;
      } else {
        if (pad > 0) return false;
        v[j] = kTable[static_cast<uint8_t>(c)];
        if (v[j] < 0) return false;
      }
    }
    uint32_t n = (static_cast<uint32_t>(v[0]) << 18) |
                 (static_cast<uint32_t>(v[1]) << 12) |
                 (static_cast<uint32_t>(v[2]) << 6) |
                 static_cast<uint32_t>(v[3]);
    out->push_back(static_cast<char>((n >> 16) & 0xff));
    if (pad < 2) out->push_back(static_cast<char>((n >> 8) & 0xff));
    if (pad < 1) out->push_back(static_cast<char>(n & 0xff));
  }
  return true;
}

}  // namespace eddy::runtime::wire
