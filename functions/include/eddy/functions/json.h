// json.h: a small JSON reader and writer for the handler SDK: enough to
// read DynamoDB Streams events (testing.h), DynamoDB's answers
// (dynamodb.h) and to write request bodies, without a third-party library.
// Header-only, C++17, the C++ standard library only.
//
//   eddy::json::value doc = eddy::json::parse(R"({"Item":{"id":{"S":"a"}}})");
//   if (const eddy::json::value* item = doc.find("Item")) ...
//   std::string body = "{\"TableName\":" + eddy::json::quote(table) + "}";
//
// Numbers keep their text (DynamoDB numbers have 38 digits; nothing is lost
// through a double). Objects keep their members in document order; a
// repeated name keeps every occurrence and find() returns the first.
// Strings are UTF-8; \uXXXX escapes (surrogate pairs too) are decoded.
//
// Thread-safety: values are plain data; parse() keeps no state.
#ifndef EDDY_FUNCTIONS_JSON_H_
#define EDDY_FUNCTIONS_JSON_H_

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eddy::json {

// Thrown by parse() for text that is not JSON; what() names the offset.
class parse_error : public std::runtime_error {
 public:
  parse_error(const std::string& message, std::size_t offset)
      : std::runtime_error(message + " at offset " + std::to_string(offset)),
        offset_(offset) {}
  std::size_t offset() const noexcept { return offset_; }

 private:
  std::size_t offset_;
};

enum class kind { null, boolean, number, string, array, object };

class value {
 public:
  using member = std::pair<std::string, value>;

  value() = default;
  static value make_bool(bool b) {
    value v(kind::boolean);
    v.boolean_ = b;
    return v;
  }
  // `text` must be a JSON number.
  static value make_number(std::string text) {
    value v(kind::number);
    v.text_ = std::move(text);
    return v;
  }
  static value make_string(std::string text) {
    value v(kind::string);
    v.text_ = std::move(text);
    return v;
  }
  static value make_array(std::vector<value> items = {}) {
    value v(kind::array);
    v.items_ = std::move(items);
    return v;
  }
  static value make_object(std::vector<member> members = {}) {
    value v(kind::object);
    v.members_ = std::move(members);
    return v;
  }

  json::kind type() const noexcept { return kind_; }
  bool is_null() const noexcept { return kind_ == kind::null; }
  bool is_bool() const noexcept { return kind_ == kind::boolean; }
  bool is_number() const noexcept { return kind_ == kind::number; }
  bool is_string() const noexcept { return kind_ == kind::string; }
  bool is_array() const noexcept { return kind_ == kind::array; }
  bool is_object() const noexcept { return kind_ == kind::object; }

  // Throw std::logic_error when the value has another kind.
  bool as_bool() const {
    expect(kind::boolean, "a boolean");
    return boolean_;
  }
  // A number's text as written ("12", "-1.5e3").
  const std::string& number_text() const {
    expect(kind::number, "a number");
    return text_;
  }
  // A number as int64; throws std::out_of_range if it is not an integer
  // that fits.
  std::int64_t as_int64() const;
  double as_double() const;
  const std::string& as_string() const {
    expect(kind::string, "a string");
    return text_;
  }
  const std::vector<value>& items() const {
    expect(kind::array, "an array");
    return items_;
  }
  std::vector<value>& items() {
    expect(kind::array, "an array");
    return items_;
  }
  const std::vector<member>& members() const {
    expect(kind::object, "an object");
    return members_;
  }
  std::vector<member>& members() {
    expect(kind::object, "an object");
    return members_;
  }

  // An object's first member named `name`, or nullptr (also for a value
  // that is not an object).
  const value* find(std::string_view name) const noexcept {
    if (kind_ != kind::object) return nullptr;
    for (const member& m : members_) {
      if (m.first == name) return &m.second;
    }
    return nullptr;
  }
  // The string member `name`, or `fallback` if absent or not a string.
  std::string string_or(std::string_view name,
                        std::string fallback = {}) const {
    const value* v = find(name);
    return v != nullptr && v->is_string() ? v->text_ : fallback;
  }

  // Compact JSON text.
  std::string dump() const {
    std::string out;
    append_to(out);
    return out;
  }
  void append_to(std::string& out) const;

 private:
  explicit value(json::kind k) : kind_(k) {}
  void expect(json::kind k, const char* what) const {
    if (kind_ != k) throw std::logic_error(std::string("JSON value is not ") + what);
  }

  json::kind kind_ = kind::null;
  bool boolean_ = false;
  std::string text_;  // number text or string
  std::vector<value> items_;
  std::vector<member> members_;
};

// Appends `s` as a JSON string literal (quotes and escapes included).
inline void append_quoted(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out += kHex[u >> 4];
          out += kHex[u & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// `s` as a JSON string literal.
inline std::string quote(std::string_view s) {
  std::string out;
  append_quoted(out, s);
  return out;
}

namespace detail {

class parser {
 public:
  explicit parser(std::string_view text) : text_(text) {}

  value parse_document() {
    value v = parse_value(0);
    skip_blanks();
    if (pos_ != text_.size()) fail("unexpected text after the JSON value");
    return v;
  }

 private:
  static constexpr int kMaxDepth = 512;

  [[noreturn]] void fail(const std::string& message) const {
    throw parse_error(message, pos_);
  }
  void skip_blanks() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
            text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool consume(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  value parse_value(int depth) {
    if (depth > kMaxDepth) fail("JSON nested too deeply");
    skip_blanks();
    if (pos_ >= text_.size()) fail("unexpected end of JSON");
    const char c = text_[pos_];
    if (c == '{') return parse_object(depth);
    if (c == '[') return parse_array(depth);
    if (c == '"') return value::make_string(parse_string());
    if (consume("true")) return value::make_bool(true);
    if (consume("false")) return value::make_bool(false);
    if (consume("null")) return value();
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number();
    fail(std::string("unexpected character '") + c + "'");
  }

  value parse_object(int depth) {
    ++pos_;  // {
    std::vector<value::member> members;
    skip_blanks();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return value::make_object(std::move(members));
    }
    while (true) {
      skip_blanks();
      if (pos_ >= text_.size() || text_[pos_] != '"') {
        fail("expected a member name");
      }
      std::string name = parse_string();
      skip_blanks();
      if (pos_ >= text_.size() || text_[pos_] != ':') fail("expected ':'");
      ++pos_;
      value v = parse_value(depth + 1);
      members.emplace_back(std::move(name), std::move(v));
      skip_blanks();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == '}') {
        ++pos_;
        return value::make_object(std::move(members));
      }
      fail("expected ',' or '}'");
    }
  }

  value parse_array(int depth) {
    ++pos_;  // [
    std::vector<value> items;
    skip_blanks();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      return value::make_array(std::move(items));
    }
    while (true) {
      items.push_back(parse_value(depth + 1));
      skip_blanks();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == ']') {
        ++pos_;
        return value::make_array(std::move(items));
      }
      fail("expected ',' or ']'");
    }
  }

  value parse_number() {
    const std::size_t start = pos_;
    auto digits = [this] {
      const std::size_t from = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
        ++pos_;
      }
      return pos_ > from;
    };
    if (text_[pos_] == '-') ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '0') {
      ++pos_;
    } else if (!digits()) {
      fail("malformed number");
    }
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      if (!digits()) fail("malformed number");
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) {
        ++pos_;
      }
      if (!digits()) fail("malformed number");
    }
    return value::make_number(std::string(text_.substr(start, pos_ - start)));
  }

  unsigned hex4() {
    if (pos_ + 4 > text_.size()) fail("truncated \\u escape");
    unsigned code = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_++];
      code <<= 4;
      if (c >= '0' && c <= '9') {
        code |= static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        code |= static_cast<unsigned>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        code |= static_cast<unsigned>(c - 'A' + 10);
      } else {
        fail("bad \\u escape");
      }
    }
    return code;
  }

  static void append_utf8(std::string& out, unsigned code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  std::string parse_string() {
    ++pos_;  // "
    std::string out;
    while (true) {
      if (pos_ >= text_.size()) fail("unterminated string");
      const char c = text_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) {
        fail("control character in a string");
      }
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) fail("unterminated string");
      const char e = text_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          unsigned code = hex4();
          if (code >= 0xD800 && code <= 0xDBFF) {
            if (!consume("\\u")) fail("lone high surrogate");
            const unsigned low = hex4();
            if (low < 0xDC00 || low > 0xDFFF) fail("bad low surrogate");
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
          } else if (code >= 0xDC00 && code <= 0xDFFF) {
            fail("lone low surrogate");
          }
          append_utf8(out, code);
          break;
        }
        default:
          fail(std::string("bad escape '\\") + e + "'");
      }
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace detail

// Parses one JSON document; throws parse_error.
inline value parse(std::string_view text) {
  return detail::parser(text).parse_document();
}

inline std::int64_t value::as_int64() const {
  const std::string& text = number_text();
  std::size_t i = text[0] == '-' ? 1 : 0;
  bool plain = i < text.size();
  for (std::size_t j = i; j < text.size(); ++j) {
    if (text[j] < '0' || text[j] > '9') plain = false;
  }
  if (plain && text.size() - i <= 18) return std::stoll(text);
  const double d = std::stod(text);
  if (d != static_cast<double>(static_cast<std::int64_t>(d)) ||
      d >= 9223372036854775808.0 || d < -9223372036854775808.0) {
    throw std::out_of_range("JSON number " + text + " is not an int64");
  }
  return static_cast<std::int64_t>(d);
}

inline double value::as_double() const { return std::stod(number_text()); }

inline void value::append_to(std::string& out) const {
  switch (kind_) {
    case kind::null:
      out += "null";
      return;
    case kind::boolean:
      out += boolean_ ? "true" : "false";
      return;
    case kind::number:
      out += text_;
      return;
    case kind::string:
      append_quoted(out, text_);
      return;
    case kind::array: {
      out += '[';
      bool first = true;
      for (const value& v : items_) {
        if (!first) out += ',';
        first = false;
        v.append_to(out);
      }
      out += ']';
      return;
    }
    case kind::object: {
      out += '{';
      bool first = true;
      for (const member& m : members_) {
        if (!first) out += ',';
        first = false;
        append_quoted(out, m.first);
        out += ':';
        m.second.append_to(out);
      }
      out += '}';
      return;
    }
  }
}

}  // namespace eddy::json

#endif  // EDDY_FUNCTIONS_JSON_H_
