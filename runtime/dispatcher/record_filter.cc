#include "dispatcher/record_filter.h"

#include <rapidjson/error/en.h>

#include <cmath>
#include <cstdlib>
#include <string_view>

#include "ascii.h"

namespace eddy::runtime::dispatcher {
namespace {

using Value = rapidjson::Value;

constexpr size_t kMaxPatternBytes = 4096;
constexpr size_t kMaxPatterns = 5;

std::string_view View(const Value& v) {
  return std::string_view(v.GetString(), v.GetStringLength());
}

// A JSON number, or a string holding one (DynamoDB's "N" values).
bool AsNumber(const Value& v, double* out) {
  if (v.IsNumber()) {
    *out = v.GetDouble();
    return true;
  }
  if (!v.IsString() || v.GetStringLength() == 0) return false;
  const std::string text(View(v));
  char* end = nullptr;
  *out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(*out);
}

// ---- validation ------------------------------------------------------------

Status CheckRule(const Value& rule);

Status CheckStringOperand(const char* op, const Value& v) {
  if (v.IsString()) return Status::OK();
  if (v.IsObject() && v.MemberCount() == 1 &&
      v.HasMember("equals-ignore-case") && v["equals-ignore-case"].IsString()) {
    return Status::OK();
  }
  return Status::InvalidArgument(std::string(op) + " takes a string");
}

Status CheckRule(const Value& rule) {
  if (!rule.IsObject()) {
    if (rule.IsArray()) {
      return Status::InvalidArgument("a rule list may not nest lists");
    }
    return Status::OK();  // Exact value (string, number, bool, null).
  }
  if (rule.MemberCount() != 1) {
    return Status::InvalidArgument("a rule object has exactly one operator");
  }
  const auto& m = *rule.MemberBegin();
  const std::string_view op = View(m.name);
  const Value& arg = m.value;
  if (op == "prefix" || op == "suffix") {
    return CheckStringOperand(op == "prefix" ? "prefix" : "suffix", arg);
  }
  if (op == "equals-ignore-case") {
    return arg.IsString()
               ? Status::OK()
               : Status::InvalidArgument("equals-ignore-case takes a string");
  }
  if (op == "exists") {
    return arg.IsBool() ? Status::OK()
                        : Status::InvalidArgument("exists takes true or false");
  }
  if (op == "anything-but") {
    if (arg.IsObject()) {
      if (arg.MemberCount() == 1 &&
          (arg.HasMember("prefix") || arg.HasMember("suffix")) &&
          arg.MemberBegin()->value.IsString()) {
        return Status::OK();
      }
      return Status::InvalidArgument(
          "anything-but takes a value, a list, or {prefix|suffix: string}");
    }
    if (arg.IsArray()) {
      for (const Value& v : arg.GetArray()) {
        if (v.IsObject() || v.IsArray()) {
          return Status::InvalidArgument("anything-but lists hold values");
        }
      }
    }
    return Status::OK();
  }
  if (op == "numeric") {
    if (!arg.IsArray() || arg.Size() == 0 || arg.Size() % 2 != 0 ||
        arg.Size() > 4) {
      return Status::InvalidArgument(
          "numeric takes [op, number] or [op, number, op, number]");
    }
    for (rapidjson::SizeType i = 0; i < arg.Size(); i += 2) {
      if (!arg[i].IsString() || !arg[i + 1].IsNumber()) {
        return Status::InvalidArgument(
            "numeric takes [op, number] or [op, number, op, number]");
      }
      const std::string_view o = View(arg[i]);
      if (o != "=" && o != "<" && o != "<=" && o != ">" && o != ">=") {
        return Status::InvalidArgument("unknown numeric operator " +
                                       std::string(o));
      }
    }
    return Status::OK();
  }
  return Status::InvalidArgument("unknown operator " + std::string(op));
}

Status CheckPattern(const Value& pattern, int depth) {
  if (depth > 16) return Status::InvalidArgument("pattern nested too deep");
  if (!pattern.IsObject() || pattern.MemberCount() == 0) {
    return Status::InvalidArgument("a pattern is a non-empty JSON object");
  }
  for (const auto& m : pattern.GetObject()) {
    if (View(m.name) == "$or") {
      if (!m.value.IsArray() || m.value.Size() < 2) {
        return Status::InvalidArgument("$or takes a list of 2+ patterns");
      }
      for (const Value& alt : m.value.GetArray()) {
        EDDY_RETURN_IF_ERROR(CheckPattern(alt, depth + 1));
      }
    } else if (m.value.IsObject()) {
      EDDY_RETURN_IF_ERROR(CheckPattern(m.value, depth + 1));
    } else if (m.value.IsArray()) {
      if (m.value.Size() == 0) {
        return Status::InvalidArgument("empty rule list for " +
                                       std::string(View(m.name)));
      }
      for (const Value& rule : m.value.GetArray()) {
        EDDY_RETURN_IF_ERROR(CheckRule(rule));
      }
    } else {
      return Status::InvalidArgument("the value of " +
                                     std::string(View(m.name)) +
                                     " must be a list of rules or an object");
    }
  }
  return Status::OK();
}

// ---- matching --------------------------------------------------------------

bool StringOperandMatches(const Value& operand, std::string_view value,
                          bool prefix) {
  std::string_view want;
  bool ignore_case = false;
  if (operand.IsString()) {
    want = View(operand);
  } else {
    want = View(operand["equals-ignore-case"]);
    ignore_case = true;
  }
  if (want.size() > value.size()) return false;
  const std::string_view part = prefix
                                    ? value.substr(0, want.size())
                                    : value.substr(value.size() - want.size());
  return ignore_case ? EqualsIgnoreCase(part, want) : part == want;
}

bool ExactMatches(const Value& rule, const Value& value) {
  if (rule.IsNull()) return value.IsNull();
  if (rule.IsBool()) return value.IsBool() && value.GetBool() == rule.GetBool();
  if (rule.IsString()) return value.IsString() && View(value) == View(rule);
  if (rule.IsNumber()) {
    double v = 0;
    return AsNumber(value, &v) && v == rule.GetDouble();
  }
  return false;
}

bool NumericMatches(const Value& ops, const Value& value) {
  double v = 0;
  if (!AsNumber(value, &v)) return false;
  for (rapidjson::SizeType i = 0; i < ops.Size(); i += 2) {
    const std::string_view op = View(ops[i]);
    const double n = ops[i + 1].GetDouble();
    const bool ok = op == "="    ? v == n
                    : op == "<"  ? v < n
                    : op == "<=" ? v <= n
                    : op == ">"  ? v > n
                                 : v >= n;
    if (!ok) return false;
  }
  return true;
}

// One rule against a present, non-array value.
bool RuleMatches(const Value& rule, const Value& value) {
  if (!rule.IsObject()) return ExactMatches(rule, value);
  const auto& m = *rule.MemberBegin();
  const std::string_view op = View(m.name);
  const Value& arg = m.value;
  if (op == "exists") return arg.GetBool();
  if (op == "prefix" || op == "suffix") {
    return value.IsString() &&
           StringOperandMatches(arg, View(value), op == "prefix");
  }
  if (op == "equals-ignore-case") {
    return value.IsString() && EqualsIgnoreCase(View(value), View(arg));
  }
  if (op == "numeric") return NumericMatches(arg, value);
  if (op == "anything-but") {
    if (arg.IsObject()) {
      const auto& inner = *arg.MemberBegin();
      if (!value.IsString()) return true;
      return !StringOperandMatches(inner.value, View(value),
                                   View(inner.name) == "prefix");
    }
    if (arg.IsArray()) {
      for (const Value& v : arg.GetArray()) {
        if (ExactMatches(v, value)) return false;
      }
      return true;
    }
    return !ExactMatches(arg, value);
  }
  return false;
}

bool RulesMatch(const Value& rules, const Value* value) {
  for (const Value& rule : rules.GetArray()) {
    if (value == nullptr) {
      if (rule.IsObject() && rule.HasMember("exists") &&
          !rule["exists"].GetBool()) {
        return true;
      }
      continue;
    }
    if (value->IsArray()) {
      for (const Value& element : value->GetArray()) {
        if (RuleMatches(rule, element)) return true;
      }
      continue;
    }
    // exists:true on an object (e.g. a map attribute) still counts.
    if (RuleMatches(rule, *value)) return true;
  }
  return false;
}

bool PatternMatches(const Value& pattern, const Value* object) {
  for (const auto& m : pattern.GetObject()) {
    const std::string_view name = View(m.name);
    if (name == "$or") {
      bool any = false;
      for (const Value& alt : m.value.GetArray()) {
        if (PatternMatches(alt, object)) {
          any = true;
          break;
        }
      }
      if (!any) return false;
      continue;
    }
    const Value* field = nullptr;
    if (object != nullptr && object->IsObject()) {
      auto it = object->FindMember(m.name);
      if (it != object->MemberEnd()) field = &it->value;
    }
    if (m.value.IsObject()) {
      if (!PatternMatches(m.value, field)) return false;
    } else if (!RulesMatch(m.value, field)) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<RecordFilter>> RecordFilter::Create(
    const std::vector<std::string>& patterns) {
  if (patterns.size() > kMaxPatterns) {
    return Status::InvalidArgument("FilterCriteria may hold at most 5 filters");
  }
  std::unique_ptr<RecordFilter> filter(new RecordFilter());
  for (const std::string& text : patterns) {
    if (text.size() > kMaxPatternBytes) {
      return Status::InvalidArgument(
          "Invalid filter pattern: longer than 4096 characters");
    }
    auto doc = std::make_unique<rapidjson::Document>();
    doc->Parse(text.data(), text.size());
    if (doc->HasParseError()) {
      return Status::InvalidArgument(
          std::string("Invalid filter pattern ") + text + ": " +
          rapidjson::GetParseError_En(doc->GetParseError()));
    }
    Status s = CheckPattern(*doc, 0);
    if (!s.ok()) {
      return Status::InvalidArgument("Invalid filter pattern " + text + ": " +
                                     s.message());
    }
    filter->patterns_.push_back(std::move(doc));
  }
  return filter;
}

bool RecordFilter::Matches(const rapidjson::Value& record) const {
  if (patterns_.empty()) return true;
  for (const auto& pattern : patterns_) {
    if (PatternMatches(*pattern, &record)) return true;
  }
  return false;
}

}  // namespace eddy::runtime::dispatcher
