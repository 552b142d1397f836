#include "auth/policy.h"

#include <rapidjson/error/en.h>

#include <algorithm>

#include "ascii.h"

namespace eddy::runtime::auth {
namespace {

enum class Key : uint8_t {
  kLeadingKeys,
  kAttributes,
  kSelect,
  kReturnValues,
  kReturnConsumedCapacity,
  kEnclosingOperation,
  kFullTableScan,
  kUsername,
  kUserid,
  kPrincipalArn,
};

struct KeyName {
  std::string_view name;
  Key key;
};
constexpr KeyName kKeys[] = {
    {"dynamodb:LeadingKeys", Key::kLeadingKeys},
    {"dynamodb:Attributes", Key::kAttributes},
    {"dynamodb:Select", Key::kSelect},
    {"dynamodb:ReturnValues", Key::kReturnValues},
    {"dynamodb:ReturnConsumedCapacity", Key::kReturnConsumedCapacity},
    {"dynamodb:EnclosingOperation", Key::kEnclosingOperation},
    {"dynamodb:FullTableScan", Key::kFullTableScan},
    {"aws:username", Key::kUsername},
    {"aws:userid", Key::kUserid},
    {"aws:PrincipalArn", Key::kPrincipalArn},
};

bool IsFactKey(Key key) {
  return key != Key::kUsername && key != Key::kUserid &&
         key != Key::kPrincipalArn;
}

enum class Op : uint8_t {
  kEquals,
  kNotEquals,
  kEqualsIgnoreCase,
  kNotEqualsIgnoreCase,
  kLike,
  kNotLike,
  kNull,
  kBool,
};
enum class SetOp : uint8_t { kNone, kForAllValues, kForAnyValue };

struct OpName {
  std::string_view name;
  Op op;
};
constexpr OpName kOps[] = {
    {"StringEquals", Op::kEquals},
    {"StringNotEquals", Op::kNotEquals},
    {"StringEqualsIgnoreCase", Op::kEqualsIgnoreCase},
    {"StringNotEqualsIgnoreCase", Op::kNotEqualsIgnoreCase},
    {"StringLike", Op::kLike},
    {"StringNotLike", Op::kNotLike},
    {"Null", Op::kNull},
    {"Bool", Op::kBool},
};

bool Negated(Op op) {
  return op == Op::kNotEquals || op == Op::kNotEqualsIgnoreCase ||
         op == Op::kNotLike;
}

// Whether `value` satisfies the positive form of `op` against `pattern`.
bool PositiveMatch(Op op, std::string_view pattern, std::string_view value) {
  switch (op) {
    case Op::kEquals:
    case Op::kNotEquals:
      return pattern == value;
    case Op::kEqualsIgnoreCase:
    case Op::kNotEqualsIgnoreCase:
      return EqualsIgnoreCase(pattern, value);
    case Op::kLike:
    case Op::kNotLike:
      return WildcardMatch(pattern, value, false);
    case Op::kBool:
      return EqualsIgnoreCase(pattern, value);
    case Op::kNull:
      return false;
  }
  return false;
}

// The policy variables we substitute; anything else in ${...} is refused
// at load time.
bool KnownVariable(std::string_view name) {
  return name == "aws:username" || name == "aws:userid" ||
         name == "aws:PrincipalArn" || name == "*" || name == "?" ||
         name == "$";
}

Status CheckVariables(std::string_view text, const std::string& where) {
  size_t at = 0;
  while ((at = text.find("${", at)) != std::string_view::npos) {
    const size_t end = text.find('}', at);
    if (end == std::string_view::npos) {
      return Status::InvalidArgument(where + ": unterminated \"${\" in \"" +
                                     std::string(text) + "\"");
    }
    const std::string_view name = text.substr(at + 2, end - at - 2);
    if (!KnownVariable(name)) {
      return Status::InvalidArgument(
          where + ": unsupported policy variable \"${" + std::string(name) +
          "}\" (supported: ${aws:username}, ${aws:userid}, "
          "${aws:PrincipalArn}, ${*}, ${?}, ${$})");
    }
    at = end + 1;
  }
  return Status::OK();
}

// Substitutes the policy variables. `*` and `?` in a variable's value must
// not act as wildcards; IAM's ${*} / ${?} exist for the literal characters.
// We keep it simple: values are substituted as they are (user names and
// ARNs contain neither), and ${*} ${?} ${$} become the characters.
std::string Substitute(std::string_view text, const Principal& p) {
  std::string out;
  size_t at = 0;
  while (true) {
    const size_t start = text.find("${", at);
    if (start == std::string_view::npos) break;
    const size_t end = text.find('}', start);
    out.append(text.substr(at, start - at));
    const std::string_view name = text.substr(start + 2, end - start - 2);
    if (name == "aws:username") {
      out.append(p.username);
    } else if (name == "aws:userid") {
      out.append(p.userid);
    } else if (name == "aws:PrincipalArn") {
      out.append(p.arn);
    } else {
      out.append(name);  // ${*} ${?} ${$}
    }
    at = end + 1;
  }
  out.append(text.substr(at));
  return out;
}

struct Pattern {
  std::string text;
  bool has_variables = false;
};

struct Condition {
  Op op = Op::kEquals;
  SetOp set = SetOp::kNone;
  bool if_exists = false;
  Key key = Key::kLeadingKeys;
  std::vector<Pattern> values;
};

enum class Tri : uint8_t { kFalse, kTrue, kUnknown };

}  // namespace

struct Policy::Statement {
  bool allow = false;
  bool not_action = false;
  std::vector<std::string> actions;
  bool not_resource = false;
  std::vector<Pattern> resources;
  std::vector<Condition> conditions;
};

namespace {

Status ReadStrings(const rapidjson::Value& v, const std::string& where,
                   std::vector<std::string>* out) {
  if (v.IsString()) {
    out->emplace_back(v.GetString(), v.GetStringLength());
    return Status::OK();
  }
  if (!v.IsArray() || v.Empty()) {
    return Status::InvalidArgument(
        where + " must be a string or a non-empty list of strings");
  }
  for (const auto& e : v.GetArray()) {
    if (!e.IsString()) {
      return Status::InvalidArgument(where + " must contain only strings");
    }
    out->emplace_back(e.GetString(), e.GetStringLength());
  }
  return Status::OK();
}

Status ReadPatterns(const rapidjson::Value& v, const std::string& where,
                    bool variables, std::vector<Pattern>* out) {
  std::vector<std::string> texts;
  if (Status s = ReadStrings(v, where, &texts); !s.ok()) return s;
  for (std::string& t : texts) {
    Pattern p;
    if (variables && t.find("${") != std::string::npos) {
      if (Status s = CheckVariables(t, where); !s.ok()) return s;
      p.has_variables = true;
    }
    p.text = std::move(t);
    out->push_back(std::move(p));
  }
  return Status::OK();
}

Status ParseConditionBlock(const rapidjson::Value& block,
                           const std::string& where, bool variables,
                           std::vector<Condition>* out) {
  if (!block.IsObject()) {
    return Status::InvalidArgument(where + " must be an object");
  }
  for (const auto& op_member : block.GetObject()) {
    std::string_view op_text(op_member.name.GetString(),
                             op_member.name.GetStringLength());
    const std::string op_where = where + "." + std::string(op_text);
    Condition base;
    if (op_text.substr(0, 13) == "ForAllValues:") {
      base.set = SetOp::kForAllValues;
      op_text.remove_prefix(13);
    } else if (op_text.substr(0, 12) == "ForAnyValue:") {
      base.set = SetOp::kForAnyValue;
      op_text.remove_prefix(12);
    }
    if (op_text.size() > 8 &&
        op_text.substr(op_text.size() - 8) == "IfExists") {
      base.if_exists = true;
      op_text.remove_suffix(8);
    }
    const OpName* op = nullptr;
    for (const OpName& candidate : kOps) {
      if (candidate.name == op_text) op = &candidate;
    }
    if (op == nullptr ||
        (op->op == Op::kNull && (base.if_exists || base.set != SetOp::kNone)) ||
        (op->op == Op::kBool && base.set != SetOp::kNone)) {
      return Status::InvalidArgument(
          op_where +
          ": unsupported condition operator (supported: StringEquals, "
          "StringNotEquals, StringEqualsIgnoreCase, "
          "StringNotEqualsIgnoreCase, StringLike, StringNotLike, with "
          "IfExists and ForAllValues:/ForAnyValue:, Bool[IfExists] and "
          "Null)");
    }
    base.op = op->op;
    if (!op_member.value.IsObject() || op_member.value.ObjectEmpty()) {
      return Status::InvalidArgument(
          op_where + " must be a non-empty object of condition keys");
    }
    for (const auto& key_member : op_member.value.GetObject()) {
      const std::string_view key_text(key_member.name.GetString(),
                                      key_member.name.GetStringLength());
      const std::string key_where = op_where + "." + std::string(key_text);
      const KeyName* key = nullptr;
      for (const KeyName& candidate : kKeys) {
        if (EqualsIgnoreCase(candidate.name, key_text)) key = &candidate;
      }
      if (key == nullptr) {
        return Status::InvalidArgument(
            key_where +
            ": unsupported condition key (supported: dynamodb:LeadingKeys, "
            "dynamodb:Attributes, dynamodb:Select, dynamodb:ReturnValues, "
            "dynamodb:ReturnConsumedCapacity, dynamodb:EnclosingOperation, "
            "dynamodb:FullTableScan, aws:username, aws:userid, "
            "aws:PrincipalArn)");
      }
      Condition c = base;
      c.key = key->key;
      if (Status s =
              ReadPatterns(key_member.value, key_where, variables, &c.values);
          !s.ok()) {
        return s;
      }
      if (c.op == Op::kNull || c.op == Op::kBool) {
        for (const Pattern& p : c.values) {
          const bool boolean = c.op == Op::kNull
                                   ? p.text == "true" || p.text == "false"
                                   : EqualsIgnoreCase(p.text, "true") ||
                                         EqualsIgnoreCase(p.text, "false");
          if (!boolean) {
            return Status::InvalidArgument(
                key_where + (c.op == Op::kNull ? ": Null" : ": Bool") +
                " takes \"true\" or \"false\"");
          }
        }
      }
      out->push_back(std::move(c));
    }
  }
  return Status::OK();
}

}  // namespace

Policy::Policy() = default;
Policy::Policy(Policy&&) noexcept = default;
Policy& Policy::operator=(Policy&&) noexcept = default;
Policy::~Policy() = default;

Policy Policy::AllowAll() {
  Policy p;
  Statement s;
  s.allow = true;
  s.actions = {"*"};
  s.resources = {Pattern{"*", false}};
  p.statements_.push_back(std::move(s));
  p.allows_everything_ = true;
  return p;
}

Result<Policy> Policy::ParseText(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError()) {
    return Status::InvalidArgument(
        std::string("policy is not valid JSON: ") +
        rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
        std::to_string(doc.GetErrorOffset()));
  }
  return Parse(doc);
}

Result<Policy> Policy::Parse(const rapidjson::Value& document) {
  if (!document.IsObject()) {
    return Status::InvalidArgument("a policy must be a JSON object");
  }
  Policy policy;
  const rapidjson::Value* statements = nullptr;
  for (const auto& m : document.GetObject()) {
    const std::string_view name(m.name.GetString(), m.name.GetStringLength());
    if (name == "Version") {
      if (!m.value.IsString() ||
          (std::string_view(m.value.GetString()) != "2012-10-17" &&
           std::string_view(m.value.GetString()) != "2008-10-17")) {
        return Status::InvalidArgument(
            "Version must be \"2012-10-17\" or \"2008-10-17\"");
      }
      policy.variables_ = std::string_view(m.value.GetString()) == "2012-10-17";
    } else if (name == "Id") {
      if (!m.value.IsString()) {
        return Status::InvalidArgument("Id must be a string");
      }
    } else if (name == "Statement") {
      statements = &m.value;
    } else {
      return Status::InvalidArgument("unknown policy member \"" +
                                     std::string(name) +
                                     "\" (expected Version, Id, Statement)");
    }
  }
  if (statements == nullptr) {
    return Status::InvalidArgument("a policy needs a Statement");
  }
  auto add = [&](const rapidjson::Value& json,
                 const std::string& where) -> Status {
    Statement s;
    if (Status st = ParseStatement(json, where, policy.variables_, &s);
        !st.ok()) {
      return st;
    }
    for (const Condition& c : s.conditions) {
      if (IsFactKey(c.key)) policy.needs_item_facts_ = true;
    }
    policy.statements_.push_back(std::move(s));
    return Status::OK();
  };
  if (statements->IsArray()) {
    size_t i = 0;
    for (const auto& json : statements->GetArray()) {
      if (Status s = add(json, "Statement[" + std::to_string(i++) + "]");
          !s.ok()) {
        return s;
      }
    }
  } else if (Status s = add(*statements, "Statement"); !s.ok()) {
    return s;
  }
  bool any_deny = false, allow_all = false;
  for (const Statement& s : policy.statements_) {
    if (!s.allow) any_deny = true;
    auto has_star = [](const auto& list, auto text_of) {
      return std::any_of(list.begin(), list.end(),
                         [&](const auto& e) { return text_of(e) == "*"; });
    };
    if (s.allow && !s.not_action && !s.not_resource && s.conditions.empty() &&
        has_star(s.actions, [](const std::string& a) { return a; }) &&
        has_star(s.resources, [](const Pattern& p) { return p.text; })) {
      allow_all = true;
    }
  }
  policy.allows_everything_ = allow_all && !any_deny;
  return policy;
}

Status Policy::ParseStatement(const rapidjson::Value& json,
                              const std::string& where, bool variables,
                              Statement* out) {
  if (!json.IsObject()) {
    return Status::InvalidArgument(where + " must be an object");
  }
  bool has_effect = false, has_action = false, has_resource = false;
  for (const auto& m : json.GetObject()) {
    const std::string_view name(m.name.GetString(), m.name.GetStringLength());
    const std::string member = where + "." + std::string(name);
    if (name == "Sid") {
      if (!m.value.IsString()) {
        return Status::InvalidArgument(member + " must be a string");
      }
    } else if (name == "Effect") {
      const std::string_view effect =
          m.value.IsString() ? std::string_view(m.value.GetString())
                             : std::string_view();
      if (effect != "Allow" && effect != "Deny") {
        return Status::InvalidArgument(member +
                                       " must be \"Allow\" or \"Deny\"");
      }
      out->allow = effect == "Allow";
      has_effect = true;
    } else if (name == "Action" || name == "NotAction") {
      if (has_action) {
        return Status::InvalidArgument(
            where + " must have exactly one of Action and NotAction");
      }
      has_action = true;
      out->not_action = name == "NotAction";
      if (Status s = ReadStrings(m.value, member, &out->actions); !s.ok()) {
        return s;
      }
      for (const std::string& action : out->actions) {
        const size_t colon = action.find(':');
        if (action != "*" && (colon == std::string::npos || colon == 0 ||
                              colon + 1 == action.size())) {
          return Status::InvalidArgument(
              member + ": \"" + action +
              "\" is not an action; write \"service:Action\" (e.g. "
              "\"dynamodb:GetItem\", \"dynamodb:*\", \"eddy:CreateTrigger\") "
              "or \"*\"");
        }
      }
    } else if (name == "Resource" || name == "NotResource") {
      if (has_resource) {
        return Status::InvalidArgument(
            where + " must have exactly one of Resource and NotResource");
      }
      has_resource = true;
      out->not_resource = name == "NotResource";
      if (Status s = ReadPatterns(m.value, member, variables, &out->resources);
          !s.ok()) {
        return s;
      }
    } else if (name == "Condition") {
      if (Status s =
              ParseConditionBlock(m.value, member, variables, &out->conditions);
          !s.ok()) {
        return s;
      }
    } else {
      return Status::InvalidArgument(
          where + ": unknown member \"" + std::string(name) +
          "\" (expected Sid, Effect, Action/NotAction, Resource/NotResource, "
          "Condition)");
    }
  }
  if (!has_effect) return Status::InvalidArgument(where + " needs an Effect");
  if (!has_action) {
    return Status::InvalidArgument(where + " needs an Action or NotAction");
  }
  if (!has_resource) {
    return Status::InvalidArgument(where + " needs a Resource or NotResource");
  }
  return Status::OK();
}

namespace {

// The request's values for a key, as a set.
struct Values {
  ValueSet::State state = ValueSet::State::kAbsent;
  const std::vector<std::string>* many = nullptr;
  std::string_view one;
  bool single = false;
};

Values Lookup(Key key, const Principal& p, const RequestFacts& f) {
  Values v;
  auto single = [&](std::string_view s) {
    v.state = ValueSet::State::kKnown;
    v.one = s;
    v.single = true;
  };
  auto optional = [&](const std::optional<std::string>& s) {
    if (s) single(*s);
  };
  auto set = [&](const ValueSet& s) {
    v.state = s.state;
    v.many = &s.values;
  };
  switch (key) {
    case Key::kLeadingKeys:
      set(f.leading_keys);
      break;
    case Key::kAttributes:
      set(f.attributes);
      break;
    case Key::kSelect:
      optional(f.select);
      break;
    case Key::kReturnValues:
      optional(f.return_values);
      break;
    case Key::kReturnConsumedCapacity:
      optional(f.return_consumed_capacity);
      break;
    case Key::kEnclosingOperation:
      optional(f.enclosing_operation);
      break;
    case Key::kFullTableScan:
      optional(f.full_table_scan);
      break;
    case Key::kUsername:
      single(p.username);
      break;
    case Key::kUserid:
      single(p.userid);
      break;
    case Key::kPrincipalArn:
      single(p.arn);
      break;
  }
  return v;
}

// Whether one request value satisfies the operator against the policy's
// values (any of them for positive operators, none for negated ones).
bool ValueMatches(const Condition& c, std::string_view value,
                  const Principal& p) {
  bool any = false;
  for (const Pattern& pattern : c.values) {
    const bool hit =
        pattern.has_variables
            ? PositiveMatch(c.op, Substitute(pattern.text, p), value)
            : PositiveMatch(c.op, pattern.text, value);
    if (hit) {
      any = true;
      break;
    }
  }
  return Negated(c.op) ? !any : any;
}

Tri EvaluateCondition(const Condition& c, const Principal& p,
                      const RequestFacts* facts) {
  if (IsFactKey(c.key) && facts == nullptr) return Tri::kUnknown;
  static const RequestFacts kNoFacts;
  const Values v = Lookup(c.key, p, facts ? *facts : kNoFacts);
  if (c.op == Op::kNull) {
    const bool absent = v.state == ValueSet::State::kAbsent;
    return (c.values.front().text == "true") == absent ? Tri::kTrue
                                                       : Tri::kFalse;
  }
  switch (v.state) {
    case ValueSet::State::kAbsent:
      if (c.if_exists || c.set == SetOp::kForAllValues || Negated(c.op)) {
        return Tri::kTrue;
      }
      return Tri::kFalse;
    case ValueSet::State::kUnbounded:
      // "Every value": none of the policy's values can cover it, and some
      // request value matches whatever the policy names (fail closed).
      return c.set == SetOp::kForAnyValue ? Tri::kTrue : Tri::kFalse;
    case ValueSet::State::kKnown:
      break;
  }
  if (v.single) return ValueMatches(c, v.one, p) ? Tri::kTrue : Tri::kFalse;
  if (c.set == SetOp::kForAnyValue) {
    for (const std::string& value : *v.many) {
      if (ValueMatches(c, value, p)) return Tri::kTrue;
    }
    return Tri::kFalse;
  }
  // ForAllValues, and (the safe reading) a plain operator on a multi-valued
  // key: every value must match. An empty set passes ForAllValues only.
  if (v.many->empty()) {
    return c.set == SetOp::kForAllValues ? Tri::kTrue : Tri::kFalse;
  }
  for (const std::string& value : *v.many) {
    if (!ValueMatches(c, value, p)) return Tri::kFalse;
  }
  return Tri::kTrue;
}

bool ActionMatches(const std::vector<std::string>& patterns,
                   std::string_view action) {
  for (const std::string& p : patterns) {
    if (WildcardMatch(p, action, true)) return true;
  }
  return false;
}

bool ResourceMatches(const std::vector<Pattern>& patterns,
                     std::string_view resource, const Principal& principal) {
  for (const Pattern& p : patterns) {
    if (p.has_variables
            ? WildcardMatch(Substitute(p.text, principal), resource, false)
            : WildcardMatch(p.text, resource, false)) {
      return true;
    }
  }
  return false;
}

}  // namespace

Decision Policy::Evaluate(std::string_view action, std::string_view resource,
                          const Principal& principal,
                          const RequestFacts* facts) const {
  bool allowed = false;
  for (const Statement& s : statements_) {
    if (ActionMatches(s.actions, action) == s.not_action) continue;
    if (ResourceMatches(s.resources, resource, principal) == s.not_resource) {
      continue;
    }
    // All conditions must hold; an unknown one counts against an Allow and
    // for a Deny.
    bool holds = true;
    for (const Condition& c : s.conditions) {
      const Tri t = EvaluateCondition(c, principal, facts);
      if (t == Tri::kFalse || (t == Tri::kUnknown && s.allow)) {
        holds = false;
        break;
      }
    }
    if (!holds) continue;
    if (!s.allow) return Decision::kExplicitDeny;
    allowed = true;
  }
  return allowed ? Decision::kAllow : Decision::kImplicitDeny;
}

bool WildcardMatch(std::string_view pattern, std::string_view text,
                   bool ignore_case) {
  auto same = [ignore_case](char a, char b) {
    return ignore_case ? ToLowerAscii(a) == ToLowerAscii(b) : a == b;
  };
  size_t p = 0, t = 0;
  size_t star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() &&
               (pattern[p] == '?' || same(pattern[p], text[t]))) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace eddy::runtime::auth
