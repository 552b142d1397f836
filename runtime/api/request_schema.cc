#include "api/request_schema.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "api/json_codec.h"

namespace eddy::runtime::api {
namespace {

using Kind = Shape::Kind;
using Constraint = Shape::Constraint;

// At most this many violations are listed in one message, as by DynamoDB.
constexpr size_t kMaxReportedViolations = 10;
// Members of one structure the validator can hold (the largest request
// shape, Query, has 17).
constexpr size_t kMaxMembers = 32;

constexpr char kModelPrefix[] = "com.amazonaws.dynamodb.v20120810.";

std::string_view View(const rapidjson::Value& v) {
  return std::string_view(v.GetString(), v.GetStringLength());
}

ApiError Serialization(std::string message) {
  return ApiError::Serialization(std::move(message));
}

// -- layer 1: JSON types ------------------------------------------------------

// The name DynamoDB's deserializer gives a JSON scalar token.
const char* TokenName(const rapidjson::Value& v) {
  if (v.IsTrue()) return "TRUE_VALUE";
  if (v.IsFalse()) return "FALSE_VALUE";
  if (v.IsString()) return "STRING_VALUE";
  if (v.IsInt64() || v.IsUint64()) return "NUMBER_VALUE";
  return "DECIMAL_VALUE";
}

// DynamoDB's text for a JSON value of the wrong type where a scalar of
// `java_type` ("String", "Boolean", "Integer", "Long") was expected.
ApiError ScalarTypeError(const rapidjson::Value& v, const char* java_type) {
  if (v.IsObject()) {
    return Serialization("Start of structure or map found where not expected");
  }
  if (v.IsArray()) {
    return Serialization(
        std::string("Unrecognized collection type class java.lang.") +
        java_type);
  }
  if (v.IsString() && std::strcmp(java_type, "Boolean") == 0) {
    return Serialization("Unexpected token received from parser");
  }
  return Serialization(std::string(TokenName(v)) + " cannot be converted to " +
                       java_type);
}

// Where a value sits decides some of the texts: a structure's member
// ("field") or a list element / map value ("value").
enum class Position { kField, kValue };

// Jackson's message when a scalar meets a parameterized collection type (a
// list that is a map value, a map that is a list element).
constexpr char kParameterizedCast[] =
    "class sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl "
    "cannot be cast to class java.lang.Class "
    "(sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl and "
    "java.lang.Class are in module java.base of loader 'bootstrap')";

ApiStatus CheckBlob(const rapidjson::Value& v) {
  if (v.IsObject()) {
    return Serialization("Start of structure or map found where not expected");
  }
  if (v.IsArray()) {
    return Serialization(
        "Unrecognized collection type class java.nio.ByteBuffer");
  }
  if (!v.IsString()) {
    return Serialization(
        "only base-64-encoded strings are convertible to bytes");
  }
  switch (Base64Problem(View(v))) {
    case 1:
      return Serialization(
          "Base64 encoded length is expected a multiple of 4 bytes but "
          "found: " +
          std::to_string(v.GetStringLength()));
    case 2:
      return Serialization("Invalid last non-pad Base64 character dectected");
    default:
      return ApiStatus();
  }
}

// A structure (or AttributeValue) met something other than an object.
ApiError StructureTypeError(const rapidjson::Value& v,
                            const std::string& type_name, Position pos) {
  if (v.IsArray()) {
    return Serialization("Unrecognized collection type class " +
                         std::string(kModelPrefix) + type_name);
  }
  return Serialization(pos == Position::kField
                           ? "Unexpected field type"
                           : "Unexpected value type in payload");
}

// How deep layer 1 looks: `deep` walks inside AttributeValues too.
struct Walk {
  bool deep;
  bool* violation;
};

ApiStatus CheckType(const Shape& shape, const rapidjson::Value& v, Position pos,
                    int depth, Walk walk);

// The members of an AttributeValue object: S, N (strings), B (base64),
// BOOL, NULL (booleans), SS, NS (lists of strings), BS (list of base64),
// L (list of AttributeValues), M (map of AttributeValues). Others are
// ignored here (the value's own validation reports an empty value).
ApiStatus CheckAttributeValue(const rapidjson::Value& v, Position pos,
                              int depth) {
  if (!v.IsObject()) return StructureTypeError(v, "AttributeValue", pos);
  // Deeper than DynamoDB's nesting limit: the value's validation reports
  // the nesting; the walk stops (bounded stack for any input).
  if (depth > kMaxNestingDepth + 1) return ApiStatus();
  for (const auto& m : v.GetObject()) {
    const rapidjson::Value& x = m.value;
    if (x.IsNull()) continue;
    const std::string_view name = View(m.name);
    // Dispatch on the type's name: S N B M L, BOOL NULL, SS NS BS.
    char kind = 0;  // 's' string, 'b' blob, 'o' boolean, 'l' list, 'm' map.
    char element = 0;
    if (name.size() == 1) {
      switch (name[0]) {
        case 'S':
        case 'N':
          kind = 's';
          break;
        case 'B':
          kind = 'b';
          break;
        case 'L':
          kind = 'l';
          element = 'v';
          break;
        case 'M':
          kind = 'm';
          break;
      }
    } else if (name.size() == 2 && name[1] == 'S') {
      if (name[0] == 'S' || name[0] == 'N') {
        kind = 'l';
        element = 's';
      } else if (name[0] == 'B') {
        kind = 'l';
        element = 'b';
      }
    } else if (name == "BOOL" || name == "NULL") {
      kind = 'o';
    }
    switch (kind) {
      case 's':
        if (!x.IsString()) return ScalarTypeError(x, "String");
        break;
      case 'b':
        API_RETURN_IF_ERROR(CheckBlob(x));
        break;
      case 'o': {
        bool ignored;
        if (!ReadBoolean(x, &ignored)) return ScalarTypeError(x, "Boolean");
        break;
      }
      case 'l':
        if (!x.IsArray()) {
          return Serialization(x.IsObject()
                                   ? "Start of structure or map found where "
                                     "not expected"
                                   : "Unexpected field type");
        }
        for (const rapidjson::Value& e : x.GetArray()) {
          if (e.IsNull()) continue;
          if (element == 'v') {
            API_RETURN_IF_ERROR(
                CheckAttributeValue(e, Position::kValue, depth + 1));
          } else if (element == 'b') {
            API_RETURN_IF_ERROR(CheckBlob(e));
          } else if (!e.IsString()) {
            return ScalarTypeError(e, "String");
          }
        }
        break;
      case 'm':
        if (!x.IsObject()) {
          if (x.IsArray()) {
            return Serialization(
                "Unrecognized collection type java.util.Map<java.lang.String, "
                "com.amazonaws.dynamodb.v20120810.AttributeValue>");
          }
          return Serialization("Unexpected field type");
        }
        for (const auto& e : x.GetObject()) {
          if (e.value.IsNull()) continue;
          API_RETURN_IF_ERROR(
              CheckAttributeValue(e.value, Position::kValue, depth + 1));
        }
        break;
      default:
        break;  // Not a type: the value's own validation reports it.
    }
  }
  return ApiStatus();
}

// The members of `object` matched to `shape`'s members: slots[i] is the
// value of members()[i], or null when absent (or JSON null).
void MatchMembers(const Shape& shape, const rapidjson::Value& object,
                  std::array<const rapidjson::Value*, kMaxMembers>* slots) {
  slots->fill(nullptr);
  for (const auto& m : object.GetObject()) {
    if (m.value.IsNull()) continue;
    const int i = shape.FindMember(View(m.name));
    if (i >= 0) (*slots)[i] = &m.value;
  }
}

bool Satisfies(const Constraint& c, const rapidjson::Value& v);
int64_t LengthOf(const rapidjson::Value& v);

// Whether `v`, the value of `member`, violates one of the member's own
// constraints.
bool ViolatesConstraints(const Shape::Member& member,
                         const rapidjson::Value& v) {
  int64_t length = -1;  // Computed once, when a length constraint needs it.
  for (const Constraint& c : member.constraints) {
    if (c.type == Constraint::Type::kMinLength ||
        c.type == Constraint::Type::kMaxLength) {
      if (length < 0) length = LengthOf(v);
      if (c.type == Constraint::Type::kMinLength ? length < c.bound
                                                 : length > c.bound) {
        return true;
      }
      continue;
    }
    if (c.type == Constraint::Type::kMapKeys ||
        c.type == Constraint::Type::kMapValues) {
      if (!v.IsObject()) continue;
      for (const auto& e : v.GetObject()) {
        const rapidjson::Value& x =
            c.type == Constraint::Type::kMapKeys ? e.name : e.value;
        for (const Constraint& k : c.nested) {
          if (!Satisfies(k, x)) return true;
        }
      }
    } else if (!Satisfies(c, v)) {
      return true;
    }
  }
  return false;
}

// Layer 1 for a structure's members, in document order (the first wrong
// one is the answer), and, while at it, whether any constraint of layer 2
// is violated (*violation; the violations are then listed by CheckShape).
ApiStatus CheckStructureMembers(const Shape& shape,
                                const rapidjson::Value& object, int depth,
                                Walk walk) {
  size_t required_present = 0;
  for (const auto& m : object.GetObject()) {
    if (m.value.IsNull()) continue;
    const int i = shape.FindMember(View(m.name));
    if (i < 0) continue;  // Not a member: ignored, as by DynamoDB.
    const Shape::Member& member = shape.members()[i];
    API_RETURN_IF_ERROR(
        CheckType(*member.shape, m.value, Position::kField, depth, walk));
    if (member.required) ++required_present;
    if (!*walk.violation && ViolatesConstraints(member, m.value)) {
      *walk.violation = true;
    }
  }
  if (required_present < shape.required_count()) *walk.violation = true;
  return ApiStatus();
}

ApiStatus CheckType(const Shape& shape, const rapidjson::Value& v, Position pos,
                    int depth, Walk walk) {
  switch (shape.kind()) {
    case Kind::kString:
      if (!v.IsString()) return ScalarTypeError(v, "String");
      return ApiStatus();
    case Kind::kBoolean: {
      bool ignored;
      if (!ReadBoolean(v, &ignored)) return ScalarTypeError(v, "Boolean");
      return ApiStatus();
    }
    case Kind::kInteger:
    case Kind::kLong:
      if (!v.IsNumber()) {
        return ScalarTypeError(
            v, shape.kind() == Kind::kInteger ? "Integer" : "Long");
      }
      return ApiStatus();
    case Kind::kBlob:
      return CheckBlob(v);
    case Kind::kList:
      if (!v.IsArray()) {
        if (v.IsObject()) {
          return Serialization(
              "Start of structure or map found where not expected");
        }
        return Serialization(pos == Position::kField ? "Unexpected field type"
                                                     : kParameterizedCast);
      }
      for (const rapidjson::Value& e : v.GetArray()) {
        if (e.IsNull()) continue;
        API_RETURN_IF_ERROR(
            CheckType(*shape.element(), e, Position::kValue, depth + 1, walk));
      }
      return ApiStatus();
    case Kind::kMap:
      if (!v.IsObject()) {
        if (v.IsArray()) {
          // A map inside a list is always of AttributeValues here.
          return Serialization(
              "Unrecognized collection type java.util.Map<java.lang.String, " +
              (pos == Position::kField
                   ? shape.type_name()
                   : std::string(kModelPrefix) + "AttributeValue") +
              ">");
        }
        return Serialization(pos == Position::kField ? "Unexpected field type"
                                                     : kParameterizedCast);
      }
      if (!walk.deep && shape.element()->kind() == Kind::kAttributeValue) {
        // An item's values: only their shape for now (see Validate).
        for (const auto& e : v.GetObject()) {
          if (!e.value.IsObject() && !e.value.IsNull()) {
            return StructureTypeError(e.value, "AttributeValue",
                                      Position::kValue);
          }
        }
        return ApiStatus();
      }
      for (const auto& e : v.GetObject()) {
        if (e.value.IsNull()) continue;
        API_RETURN_IF_ERROR(CheckType(*shape.element(), e.value,
                                      Position::kValue, depth + 1, walk));
      }
      return ApiStatus();
    case Kind::kStructure:
      if (!v.IsObject()) return StructureTypeError(v, shape.type_name(), pos);
      return CheckStructureMembers(shape, v, depth + 1, walk);
    case Kind::kAttributeValue:
      if (!walk.deep) {
        // Inside an AttributeValue later (RequestSchema::Validate).
        if (!v.IsObject()) return StructureTypeError(v, "AttributeValue", pos);
        return ApiStatus();
      }
      return CheckAttributeValue(v, pos, 1);
  }
  return ApiStatus();
}

// -- layer 2: constraints -----------------------------------------------------

// Length as Java counts it (UTF-16 code units) for strings; entries for
// lists and maps.
int64_t LengthOf(const rapidjson::Value& v) {
  if (v.IsArray()) return v.Size();
  if (v.IsObject()) return v.MemberCount();
  if (!v.IsString()) return 0;
  int64_t units = 0;
  for (const char c : View(v)) {
    const auto b = static_cast<unsigned char>(c);
    if ((b & 0xC0) != 0x80) units += b >= 0xF0 ? 2 : 1;
  }
  return units;
}

int64_t IntegerOf(const rapidjson::Value& v) {
  if (v.IsInt64()) return v.GetInt64();
  if (v.IsUint64()) return INT64_MAX;
  return static_cast<int64_t>(v.GetDouble());  // Truncates, as Jackson does.
}

bool TableNameChars(std::string_view s) {
  static constexpr std::array<bool, 256> kAllowed = [] {
    std::array<bool, 256> t{};
    for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    t['_'] = t['-'] = t['.'] = true;
    return t;
  }();
  if (s.empty()) return false;
  for (const char c : s) {
    if (!kAllowed[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

// Whether `v` satisfies one (non-map) constraint.
bool Satisfies(const Constraint& c, const rapidjson::Value& v) {
  switch (c.type) {
    case Constraint::Type::kMinLength:
      return LengthOf(v) >= c.bound;
    case Constraint::Type::kMaxLength:
      return LengthOf(v) <= c.bound;
    case Constraint::Type::kMinValue:
      return !v.IsNumber() || IntegerOf(v) >= c.bound;
    case Constraint::Type::kMaxValue:
      return !v.IsNumber() || IntegerOf(v) <= c.bound;
    case Constraint::Type::kTableNamePattern:
      return v.IsString() && TableNameChars(View(v));
    case Constraint::Type::kEnum:
      if (!v.IsString()) return false;
      for (const std::string& value : c.values) {
        if (value == View(v)) return true;
      }
      return false;
    case Constraint::Type::kMapKeys:
    case Constraint::Type::kMapValues:
      return true;  // Checked entry by entry (CheckMember).
  }
  return true;
}

std::string Describe(const Constraint& c) {
  switch (c.type) {
    case Constraint::Type::kMinLength:
      return "Member must have length greater than or equal to " +
             std::to_string(c.bound);
    case Constraint::Type::kMaxLength:
      return "Member must have length less than or equal to " +
             std::to_string(c.bound);
    case Constraint::Type::kMinValue:
      return "Member must have value greater than or equal to " +
             std::to_string(c.bound);
    case Constraint::Type::kMaxValue:
      return "Member must have value less than or equal to " +
             std::to_string(c.bound);
    case Constraint::Type::kTableNamePattern:
      return "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+";
    case Constraint::Type::kEnum: {
      std::string s = "Member must satisfy enum value set: [";
      for (size_t i = 0; i < c.values.size(); ++i) {
        if (i > 0) s += ", ";
        s += c.values[i];
      }
      return s + "]";
    }
    case Constraint::Type::kMapKeys:
    case Constraint::Type::kMapValues: {
      std::string s = c.type == Constraint::Type::kMapKeys
                          ? "Map keys must satisfy constraint: ["
                          : "Map value must satisfy constraint: [";
      for (size_t i = 0; i < c.nested.size(); ++i) {
        if (i > 0) s += ", ";
        s += Describe(c.nested[i]);
      }
      return s + "]";
    }
  }
  return "";
}

// A value as DynamoDB quotes it in "Value '...' at": strings as they are,
// lists as [a, b], maps as {k=v}, structures as {Name: value,Name: value}.
void Render(const rapidjson::Value& v, const Shape* shape, std::string* out) {
  if (v.IsNull()) {
    *out += "null";
  } else if (v.IsString()) {
    out->append(v.GetString(), v.GetStringLength());
  } else if (v.IsBool()) {
    *out += v.GetBool() ? "true" : "false";
  } else if (v.IsNumber()) {
    if (v.IsInt64()) {
      *out += std::to_string(v.GetInt64());
    } else if (v.IsUint64()) {
      *out += std::to_string(v.GetUint64());
    } else {
      *out += std::to_string(v.GetDouble());
    }
  } else if (v.IsArray()) {
    *out += '[';
    bool first = true;
    for (const rapidjson::Value& e : v.GetArray()) {
      if (!first) *out += ", ";
      first = false;
      Render(e, shape != nullptr ? shape->element() : nullptr, out);
    }
    *out += ']';
  } else {
    const bool structure =
        shape != nullptr && (shape->kind() == Kind::kStructure ||
                             shape->kind() == Kind::kAttributeValue);
    *out += '{';
    bool first = true;
    for (const auto& m : v.GetObject()) {
      if (!first) *out += structure ? "," : ", ";
      first = false;
      out->append(m.name.GetString(), m.name.GetStringLength());
      *out += structure ? ": " : "=";
      const Shape* child = nullptr;
      if (shape != nullptr && shape->kind() == Kind::kMap) {
        child = shape->element();
      } else if (structure) {
        for (const Shape::Member& member : shape->members()) {
          if (member.name == View(m.name)) child = member.shape;
        }
      }
      Render(m.value, child, out);
    }
    *out += '}';
  }
}

// Collects the violations' texts, up to ten.
class Violations {
 public:
  bool full() const { return lines_.size() >= kMaxReportedViolations; }

  // `path` segments joined by dots.
  void Add(const rapidjson::Value* value, const Shape* shape,
           const std::vector<std::string>& path, const std::string& what) {
    if (full()) return;
    std::string line = "Value ";
    if (value == nullptr) {
      line += "null";
    } else {
      line += '\'';
      Render(*value, shape, &line);
      line += '\'';
    }
    line += " at '";
    for (size_t i = 0; i < path.size(); ++i) {
      if (i > 0) line += '.';
      line += path[i];
    }
    line += "' failed to satisfy constraint: ";
    line += what;
    lines_.push_back(std::move(line));
  }

  ApiStatus ToStatus() const {
    if (lines_.empty()) return ApiStatus();
    std::string msg = std::to_string(lines_.size()) +
                      (lines_.size() == 1 ? " validation error detected: "
                                          : " validation errors detected: ");
    for (size_t i = 0; i < lines_.size(); ++i) {
      if (i > 0) msg += "; ";
      msg += lines_[i];
    }
    return ApiError::Validation(std::move(msg));
  }

 private:
  std::vector<std::string> lines_;
};

void CheckShape(const Shape& shape, const rapidjson::Value& v,
                std::vector<std::string>* path, Violations* out);

// One member (or list element / map value) `v` of `shape` at `path`, with
// its own constraints.
void CheckMember(const Shape::Member& member, const rapidjson::Value* v,
                 std::vector<std::string>* path, Violations* out) {
  if (out->full()) return;
  if (v == nullptr) {
    if (member.required) {
      out->Add(nullptr, member.shape, *path, "Member must not be null");
    }
    return;
  }
  for (const Constraint& c : member.constraints) {
    if (out->full()) return;
    if (c.type == Constraint::Type::kMapKeys && v->IsObject()) {
      for (const auto& e : v->GetObject()) {
        bool ok = true;
        for (const Constraint& k : c.nested) ok = ok && Satisfies(k, e.name);
        if (!ok) out->Add(v, member.shape, *path, Describe(c));
      }
    } else if (c.type == Constraint::Type::kMapValues && v->IsObject()) {
      for (const auto& e : v->GetObject()) {
        bool ok = true;
        for (const Constraint& k : c.nested) ok = ok && Satisfies(k, e.value);
        if (!ok) out->Add(v, member.shape, *path, Describe(c));
      }
    } else if (!Satisfies(c, *v)) {
      out->Add(v, member.shape, *path, Describe(c));
    }
  }
  CheckShape(*member.shape, *v, path, out);
}

void CheckShape(const Shape& shape, const rapidjson::Value& v,
                std::vector<std::string>* path, Violations* out) {
  if (out->full()) return;
  switch (shape.kind()) {
    case Kind::kStructure: {
      if (!v.IsObject()) return;
      std::array<const rapidjson::Value*, kMaxMembers> slots;
      MatchMembers(shape, v, &slots);
      for (const size_t i : shape.visit_order()) {
        const Shape::Member& member = shape.members()[i];
        path->push_back(member.path_name);
        CheckMember(member, slots[i], path, out);
        path->pop_back();
        if (out->full()) return;
      }
      return;
    }
    case Kind::kList: {
      if (!v.IsArray() || shape.element()->kind() != Kind::kStructure) return;
      Shape::Member element;
      element.shape = shape.element();
      for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
        if (v[i].IsNull()) continue;
        path->push_back(std::to_string(i + 1));
        path->push_back("member");
        CheckMember(element, &v[i], path, out);
        path->resize(path->size() - 2);
        if (out->full()) return;
      }
      return;
    }
    case Kind::kMap: {
      if (!v.IsObject()) return;
      const Kind value_kind = shape.element()->kind();
      if (value_kind != Kind::kStructure && value_kind != Kind::kList) return;
      Shape::Member value;
      value.shape = shape.element();
      // Entries in DynamoDB's (HashMap) order.
      std::vector<const rapidjson::Value::Member*> entries;
      std::vector<std::string> keys;
      for (const auto& e : v.GetObject()) {
        entries.push_back(&e);
        keys.emplace_back(e.name.GetString(), e.name.GetStringLength());
      }
      std::vector<const rapidjson::Value::Member*> ordered;
      for (const size_t i : JavaHashMapOrder(keys))
        ordered.push_back(entries[i]);
      entries = std::move(ordered);
      for (const auto* e : entries) {
        if (e->value.IsNull()) continue;
        path->emplace_back(e->name.GetString(), e->name.GetStringLength());
        path->push_back("member");
        CheckMember(value, &e->value, path, out);
        path->resize(path->size() - 2);
        if (out->full()) return;
      }
      return;
    }
    default:
      return;
  }
}

// Java's String.hashCode over the UTF-16 code units of UTF-8 `s`.
int32_t JavaStringHash(std::string_view s) {
  uint32_t h = 0;
  auto unit = [&h](uint32_t u) { h = 31 * h + u; };
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    uint32_t cp = b;
    size_t len = 1;
    if (b >= 0xF0 && i + 3 < s.size()) {
      cp = ((b & 0x07u) << 18) | ((s[i + 1] & 0x3Fu) << 12) |
           ((s[i + 2] & 0x3Fu) << 6) | (s[i + 3] & 0x3Fu);
      len = 4;
    } else if (b >= 0xE0 && i + 2 < s.size()) {
      cp = ((b & 0x0Fu) << 12) | ((s[i + 1] & 0x3Fu) << 6) | (s[i + 2] & 0x3Fu);
      len = 3;
    } else if (b >= 0xC0 && i + 1 < s.size()) {
      cp = ((b & 0x1Fu) << 6) | (s[i + 1] & 0x3Fu);
      len = 2;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      unit(0xD800 + (cp >> 10));
      unit(0xDC00 + (cp & 0x3FF));
    } else {
      unit(cp);
    }
    i += len;
  }
  return static_cast<int32_t>(h);
}

std::string LowerFirst(const std::string& name) {
  std::string s = name;
  if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z')
    s[0] = static_cast<char>(s[0] - 'A' + 'a');
  return s;
}

}  // namespace

std::vector<size_t> JavaHashMapOrder(const std::vector<std::string>& names) {
  // HashMap's table grows from 16 slots, doubling while the entries exceed
  // three quarters of it; an entry's slot is its spread hash modulo the
  // table size, and entries sharing a slot keep their insertion order.
  size_t capacity = 16;
  while (names.size() * 4 > capacity * 3) capacity *= 2;
  std::vector<std::pair<size_t, size_t>> slots;  // (slot, index)
  slots.reserve(names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    const auto h = static_cast<uint32_t>(JavaStringHash(names[i]));
    const uint32_t spread = h ^ (h >> 16);
    slots.emplace_back(spread & (capacity - 1), i);
  }
  std::stable_sort(
      slots.begin(), slots.end(),
      [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<size_t> order;
  order.reserve(names.size());
  for (const auto& [slot, index] : slots) order.push_back(index);
  return order;
}

int Shape::FindMember(std::string_view name) const {
  if (name.size() >= kMaxNameLength) return -1;
  for (int i = first_of_length_[name.size()]; i >= 0; i = next_of_length_[i]) {
    if (std::memcmp(members_[i].name.data(), name.data(), name.size()) == 0) {
      return i;
    }
  }
  return -1;
}

std::unique_ptr<Shape> Shape::Scalar(Kind kind) {
  return std::unique_ptr<Shape>(new Shape(kind));
}

std::unique_ptr<Shape> Shape::List(const Shape* element) {
  auto s = std::unique_ptr<Shape>(new Shape(Kind::kList));
  s->element_ = element;
  return s;
}

std::unique_ptr<Shape> Shape::Map(const Shape* value, std::string value_type) {
  auto s = std::unique_ptr<Shape>(new Shape(Kind::kMap));
  s->element_ = value;
  s->type_name_ = std::move(value_type);
  return s;
}

std::unique_ptr<Shape> Shape::Structure(std::string type_name,
                                        std::vector<Member> members) {
  auto s = std::unique_ptr<Shape>(new Shape(Kind::kStructure));
  s->type_name_ = std::move(type_name);
  std::vector<std::string> names;
  for (Member& m : members) {
    if (m.path_name.empty()) m.path_name = LowerFirst(m.name);
    names.push_back(m.path_name);
  }
  s->members_ = std::move(members);
  for (const Member& m : s->members_) s->required_count_ += m.required ? 1 : 0;
  s->first_of_length_.fill(-1);
  s->next_of_length_.assign(s->members_.size(), -1);
  for (size_t i = s->members_.size(); i-- > 0;) {
    const size_t length = s->members_[i].name.size();
    if (length >= kMaxNameLength) continue;  // Never matched (none are).
    s->next_of_length_[i] = s->first_of_length_[length];
    s->first_of_length_[length] = static_cast<int8_t>(i);
  }
  s->visit_order_ = JavaHashMapOrder(names);
  return s;
}

std::unique_ptr<Shape> Shape::AttributeValue() {
  auto s = std::unique_ptr<Shape>(new Shape(Kind::kAttributeValue));
  s->type_name_ = "AttributeValue";
  return s;
}

RequestSchema::RequestSchema(std::vector<std::unique_ptr<Shape>> shapes,
                             const Shape* root, bool table_name_prechecks)
    : shapes_(std::move(shapes)),
      root_(root),
      table_name_prechecks_(table_name_prechecks) {}

ApiStatus RequestSchema::Validate(const rapidjson::Value& request) const {
  // Layer 1 without the AttributeValues' insides: a valid request's values
  // are type-checked as the operation decodes them, and CheckValueTypes
  // restores DynamoDB's order whenever anything fails (here or later).
  bool violation = false;
  API_RETURN_IF_ERROR(CheckStructureMembers(*root_, request, 0,
                                            Walk{/*deep=*/false, &violation}));
  ApiStatus precheck;
  if (table_name_prechecks_) {
    auto it = request.FindMember("TableName");
    if (it == request.MemberEnd() || it->value.IsNull()) {
      precheck = ApiError::Validation(
          "The parameter 'TableName' is required but was not present in the "
          "request");
    } else {
      const int64_t length = LengthOf(it->value);
      if (length < 3 || length > 255) {
        precheck = ApiError::Validation(
            "TableName must be at least 3 characters long and at most 255 "
            "characters long");
      }
    }
  }
  if (!violation && precheck.ok()) return ApiStatus();
  API_RETURN_IF_ERROR(CheckValueTypes(request));
  if (!precheck.ok()) return precheck;
  std::vector<std::string> path;
  Violations report;
  CheckShape(*root_, request, &path, &report);
  return report.ToStatus();
}

ApiStatus RequestSchema::CheckValueTypes(
    const rapidjson::Value& request) const {
  bool ignored = false;
  return CheckStructureMembers(*root_, request, 0,
                               Walk{/*deep=*/true, &ignored});
}

}  // namespace eddy::runtime::api
