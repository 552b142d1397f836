#include "partiql/plan.h"

#include <algorithm>
#include <set>
#include <string_view>
#include <utility>

namespace eddy::runtime::partiql {
namespace {

using store::AttributeValue;
using store::ValueType;
using Kind = Expr::Kind;

Status Invalid(std::string message) {
  return Status::InvalidArgument(std::move(message));
}

Status KeyTypeMismatch(const std::string& name) {
  return Invalid(
      "Key attribute's data type should match its data type in table's "
      "schema: Key " +
      name);
}

// Drops the store's "Invalid <kind>: " prefix from an error.
Status StripPrefix(const Status& s, std::string_view kind) {
  const std::string prefix = "Invalid " + std::string(kind) + ": ";
  const std::string& m = s.message();
  if (s.IsInvalidArgument() && m.compare(0, prefix.size(), prefix) == 0) {
    return Invalid(m.substr(prefix.size()));
  }
  return s;
}

void Bind(const std::vector<AttributeValue>& parameters, Expr* e) {
  if (e->kind == Kind::kParameter) {
    *e = Expr::Value(parameters[e->parameter]);
    return;
  }
  for (Expr& arg : e->args) Bind(parameters, &arg);
}

// The attribute a one-step path names, or null.
const std::string* TopLevelName(const Expr& e) {
  if (e.kind != Kind::kPath || e.path.size() != 1 || e.path[0].is_index) {
    return nullptr;
  }
  return &e.path[0].name;
}

// `name = value` (either way round): the value, or null.
const AttributeValue* EqualityOn(const Expr& e, const std::string& name) {
  if (e.kind != Kind::kCompare || e.op != CompareOp::kEq) return nullptr;
  for (int side = 0; side < 2; ++side) {
    const std::string* attr = TopLevelName(e.args[side]);
    const Expr& other = e.args[1 - side];
    if (attr != nullptr && *attr == name && other.kind == Kind::kValue) {
      return &other.value;
    }
  }
  return nullptr;
}

// The key attribute a key condition leaf names (`k = v`, or `k IN [v]` when
// `single_in`), with its value.
const std::string* KeyLeaf(const Expr& e, const KeySchema& schema,
                           bool single_in, const AttributeValue** value) {
  if (e.kind == Kind::kCompare && e.op == CompareOp::kEq) {
    for (int side = 0; side < 2; ++side) {
      const std::string* attr = TopLevelName(e.args[side]);
      if (attr != nullptr && schema.IsKey(*attr) &&
          e.args[1 - side].kind == Kind::kValue) {
        *value = &e.args[1 - side].value;
        return attr;
      }
    }
  }
  if (single_in && e.kind == Kind::kIn && e.args.size() == 2 &&
      e.args[1].kind == Kind::kValue) {
    const std::string* attr = TopLevelName(e.args[0]);
    if (attr != nullptr && schema.IsKey(*attr)) {
      *value = &e.args[1].value;
      return attr;
    }
  }
  return nullptr;
}

Expr And(Expr left, Expr right) {
  std::vector<Expr> args;
  args.push_back(std::move(left));
  args.push_back(std::move(right));
  return Expr::Node(Kind::kAnd, std::move(args));
}

// Removes the key equalities from the AND tree `e` into `key`.
Result<std::optional<Expr>> ExtractKey(const Expr& e, const KeySchema& schema,
                                       KeyMode mode, store::Item* key) {
  if (e.kind == Kind::kAnd) {
    EDDY_ASSIGN_OR_RETURN(std::optional<Expr> left,
                          ExtractKey(e.args[0], schema, mode, key));
    EDDY_ASSIGN_OR_RETURN(std::optional<Expr> right,
                          ExtractKey(e.args[1], schema, mode, key));
    if (left && right)
      return std::optional<Expr>(And(std::move(*left), std::move(*right)));
    return left ? std::move(left) : std::move(right);
  }
  const AttributeValue* value = nullptr;
  const std::string* name =
      KeyLeaf(e, schema, /*single_in=*/mode == KeyMode::kGet, &value);
  if (name == nullptr) return std::optional<Expr>(e);
  auto found = key->find(*name);
  if (found == key->end()) {
    key->emplace(*name, *value);
    return std::optional<Expr>();
  }
  switch (mode) {
    case KeyMode::kExists:
      return std::optional<Expr>(e);  // Checked against the item instead.
    case KeyMode::kGet:
      if (found->second == *value) return std::optional<Expr>();
      return Invalid("kGet");
    case KeyMode::kWrite:
      if (found->second == *value) return std::optional<Expr>();
      return Invalid("Multiple conditions on same key " + *name +
                     ". Only single item Update/Insert/Delete are supported");
  }
  return std::optional<Expr>();
}

void Flatten(const Expr& e, Kind kind, std::vector<const Expr*>* out) {
  if (e.kind == kind) {
    for (const Expr& arg : e.args) Flatten(arg, kind, out);
  } else {
    out->push_back(&e);
  }
}

Status Overlapping() {
  return Invalid(
      "Overlapping conditions with range keys are not supported in where "
      "clause");
}

// The hash key values a condition confines the read to, or nullopt.
Result<std::optional<std::vector<AttributeValue>>> Pinned(
    const Expr& e, const std::string& hash);

// Intersection of the pins of an AND's conjuncts (nullopt: none pins).
Result<std::optional<std::vector<AttributeValue>>> PinnedConjunction(
    const std::vector<const Expr*>& conjuncts, const std::string& hash) {
  std::optional<std::vector<AttributeValue>> pins;
  for (const Expr* c : conjuncts) {
    EDDY_ASSIGN_OR_RETURN(std::optional<std::vector<AttributeValue>> values,
                          Pinned(*c, hash));
    if (!values) continue;
    if (!pins) {
      pins = std::move(values);
      continue;
    }
    std::vector<AttributeValue> both;
    for (const AttributeValue& v : *pins) {
      if (std::find(values->begin(), values->end(), v) != values->end()) {
        both.push_back(v);
      }
    }
    pins = std::move(both);
  }
  return pins;
}

Result<std::optional<std::vector<AttributeValue>>> Pinned(
    const Expr& e, const std::string& hash) {
  using Pins = std::optional<std::vector<AttributeValue>>;
  if (const AttributeValue* v = EqualityOn(e, hash)) {
    return Pins(std::vector<AttributeValue>{*v});
  }
  if (e.kind == Kind::kIn) {
    const std::string* attr = TopLevelName(e.args[0]);
    if (attr == nullptr || *attr != hash) return Pins();
    std::vector<AttributeValue> values;
    for (size_t i = 1; i < e.args.size(); ++i) {
      if (e.args[i].kind != Kind::kValue) return Pins();
      if (std::find(values.begin(), values.end(), e.args[i].value) !=
          values.end()) {
        return Overlapping();
      }
      values.push_back(e.args[i].value);
    }
    return Pins(std::move(values));
  }
  if (e.kind == Kind::kAnd) {
    std::vector<const Expr*> conjuncts;
    Flatten(e, Kind::kAnd, &conjuncts);
    return PinnedConjunction(conjuncts, hash);
  }
  if (e.kind == Kind::kOr) {
    std::vector<const Expr*> branches;
    Flatten(e, Kind::kOr, &branches);
    std::vector<AttributeValue> values;
    for (const Expr* b : branches) {
      EDDY_ASSIGN_OR_RETURN(Pins branch, Pinned(*b, hash));
      if (!branch) return Pins();
      for (AttributeValue& v : *branch) {
        if (std::find(values.begin(), values.end(), v) != values.end()) {
          return Overlapping();
        }
        values.push_back(std::move(v));
      }
    }
    return Pins(std::move(values));
  }
  return Pins();
}

// A condition on the range key that a Query's key condition can hold.
std::optional<store::KeyCondition::SortCondition> SortConditionOf(
    const Expr& e, const std::string& range) {
  using Op = store::KeyCondition::Op;
  store::KeyCondition::SortCondition sort;
  if (e.kind == Kind::kCompare && e.op != CompareOp::kNe) {
    for (int side = 0; side < 2; ++side) {
      const std::string* attr = TopLevelName(e.args[side]);
      const Expr& other = e.args[1 - side];
      if (attr == nullptr || *attr != range || other.kind != Kind::kValue) {
        continue;
      }
      // `v < k` is `k > v`.
      CompareOp op = e.op;
      if (side == 1) {
        op = op == CompareOp::kLt   ? CompareOp::kGt
             : op == CompareOp::kLe ? CompareOp::kGe
             : op == CompareOp::kGt ? CompareOp::kLt
             : op == CompareOp::kGe ? CompareOp::kLe
                                    : op;
      }
      sort.op = op == CompareOp::kEq   ? Op::kEq
                : op == CompareOp::kLt ? Op::kLt
                : op == CompareOp::kLe ? Op::kLe
                : op == CompareOp::kGt ? Op::kGt
                                       : Op::kGe;
      sort.value = other.value;
      return sort;
    }
    return std::nullopt;
  }
  if (e.kind == Kind::kBetween) {
    const std::string* attr = TopLevelName(e.args[0]);
    if (attr != nullptr && *attr == range && e.args[1].kind == Kind::kValue &&
        e.args[2].kind == Kind::kValue) {
      sort.op = Op::kBetween;
      sort.value = e.args[1].value;
      sort.value2 = e.args[2].value;
      return sort;
    }
    return std::nullopt;
  }
  if (e.kind == Kind::kCall && e.name == "begins_with" && e.args.size() == 2) {
    const std::string* attr = TopLevelName(e.args[0]);
    if (attr != nullptr && *attr == range && e.args[1].kind == Kind::kValue) {
      sort.op = Op::kBeginsWith;
      sort.value = e.args[1].value;
      return sort;
    }
  }
  return std::nullopt;
}

// The values a top-level condition compares the range key with.
std::vector<const AttributeValue*> RangeOperands(const Expr& e,
                                                 const std::string& range) {
  std::vector<const AttributeValue*> out;
  if (std::optional<store::KeyCondition::SortCondition> s =
          SortConditionOf(e, range)) {
    for (const Expr& arg : e.args) {
      if (arg.kind == Kind::kValue) out.push_back(&arg.value);
    }
    return out;
  }
  if (e.kind == Kind::kIn) {
    const std::string* attr = TopLevelName(e.args[0]);
    if (attr != nullptr && *attr == range) {
      for (size_t i = 1; i < e.args.size(); ++i) {
        if (e.args[i].kind == Kind::kValue) out.push_back(&e.args[i].value);
      }
    }
  }
  return out;
}

// "b" for a.b, "l[0]" for l[0], "c[1][2]" for a.c[1][2].
std::string OutputName(const store::Path& path) {
  size_t last = 0;
  for (size_t i = 0; i < path.size(); ++i) {
    if (!path[i].is_index) last = i;
  }
  std::string name = path[last].name;
  for (size_t i = last + 1; i < path.size(); ++i) {
    name += "[" + std::to_string(path[i].index) + "]";
  }
  return name;
}

void CollectNames(const Expr& e, std::set<std::string>* out) {
  if (e.kind == Kind::kPath && !e.path.empty() && !e.path[0].is_index) {
    out->insert(e.path[0].name);
  }
  for (const Expr& arg : e.args) CollectNames(arg, out);
}

const char* CompareSymbol(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return " = ";
    case CompareOp::kNe:
      return " <> ";
    case CompareOp::kLt:
      return " < ";
    case CompareOp::kLe:
      return " <= ";
    case CompareOp::kGt:
      return " > ";
    case CompareOp::kGe:
      return " >= ";
  }
  return " = ";
}

bool IsBoolean(const Expr& e) {
  return e.kind == Kind::kAnd || e.kind == Kind::kOr;
}

}  // namespace

Status BindParameters(const std::vector<AttributeValue>& parameters,
                      Statement* st) {
  if (parameters.size() != st->parameter_count) {
    return Invalid(
        "Number of parameters in request and statement don't match.");
  }
  if (st->where) Bind(parameters, &*st->where);
  for (auto& [name, value] : st->item) Bind(parameters, &value);
  for (UpdateAction& action : st->actions) Bind(parameters, &action.value);
  return Status::OK();
}

KeySchema KeySchema::Of(const store::TableSchema& table) {
  return KeySchema{table.hash_key, table.range_key};
}

KeySchema KeySchema::Of(const store::IndexSchema& index) {
  return KeySchema{index.hash_key, index.range_key};
}

Result<KeyMatch> MatchKey(const std::optional<Expr>& where,
                          const KeySchema& schema, KeyMode mode) {
  const Status missing =
      mode == KeyMode::kWrite
          ? Invalid(
                "Where clause does not contain a mandatory equality on all "
                "key attributes")
      : mode == KeyMode::kExists
          ? Invalid(
                "EXISTS() must contain a single item read with additional "
                "condition")
          : Invalid("kGet");
  if (!where) return missing;
  KeyMatch match;
  EDDY_ASSIGN_OR_RETURN(match.rest,
                        ExtractKey(*where, schema, mode, &match.key));
  const size_t key_count = schema.range ? 2 : 1;
  if (match.key.size() != key_count) return missing;
  if (mode == KeyMode::kExists && !match.rest) return missing;
  if (mode == KeyMode::kGet && match.rest) return missing;
  std::vector<const store::KeyElement*> elements = {&schema.hash};
  if (schema.range) elements.push_back(&*schema.range);
  for (const store::KeyElement* element : elements) {
    const AttributeValue& v = match.key.at(element->name);
    if (v.type() != ValueType::kS && v.type() != ValueType::kN &&
        v.type() != ValueType::kB) {
      return Invalid(
          "Key value must be of type S, N, or B. Key name: " + element->name +
          ", Key type: " + std::string(ValueTypeName(v.type())));
    }
  }
  for (const store::KeyElement* element : elements) {
    if (match.key.at(element->name).type() != element->type) {
      return KeyTypeMismatch(element->name);
    }
  }
  return match;
}

Result<ReadPlan> PlanRead(const Statement& st, const KeySchema& keys) {
  ReadPlan plan;
  if (!st.order_by.empty() && !st.where) {
    return Invalid(
        "Must have WHERE clause in the statement when using ORDER BY clause.");
  }
  for (const OrderKey& key : st.order_by) {
    if (!keys.IsKey(key.attribute)) {
      return Invalid("Variable reference " + key.attribute +
                     " in ORDER BY clause must be part of the primary key");
    }
  }
  if (!st.where) return plan;
  std::vector<const Expr*> conjuncts;
  Flatten(*st.where, Kind::kAnd, &conjuncts);
  EDDY_ASSIGN_OR_RETURN(std::optional<std::vector<AttributeValue>> pins,
                        PinnedConjunction(conjuncts, keys.hash.name));
  if (!pins) {
    if (!st.order_by.empty()) {
      return Invalid(
          "Must have at least one non-optional hash key condition in WHERE "
          "clause when using ORDER BY clause.");
    }
    return plan;
  }
  for (const AttributeValue& v : *pins) {
    if (v.type() != keys.hash.type) return KeyTypeMismatch(keys.hash.name);
  }
  plan.scan = false;
  plan.partitions = std::move(*pins);
  if (keys.range) {
    for (const Expr* c : conjuncts) {
      for (const AttributeValue* v : RangeOperands(*c, keys.range->name)) {
        if (v->type() != keys.range->type) {
          return KeyTypeMismatch(keys.range->name);
        }
      }
      if (!plan.sort) plan.sort = SortConditionOf(*c, keys.range->name);
    }
  }
  bool ordered_by_hash = false;
  for (const OrderKey& key : st.order_by) {
    if (key.attribute == keys.hash.name) {
      ordered_by_hash = true;
      std::stable_sort(plan.partitions.begin(), plan.partitions.end(),
                       [&](const AttributeValue& a, const AttributeValue& b) {
                         const int c = store::CompareValues(a, b).value_or(0);
                         return key.descending ? c > 0 : c < 0;
                       });
    } else {
      plan.forward = !key.descending;
    }
  }
  if (!st.order_by.empty() && !ordered_by_hash && plan.partitions.size() > 1) {
    return Invalid(
        "Must have hash key in ORDER BY clause when more than one hash key "
        "condition specified in WHERE clause.");
  }
  return plan;
}

std::optional<std::vector<AttributeValue>> LeadingKeyValues(
    const Statement& st, const std::string& hash_key) {
  using Values = std::optional<std::vector<AttributeValue>>;
  switch (st.kind) {
    case StatementKind::kInsert:
      for (const auto& [name, value] : st.item) {
        if (name == hash_key && value.kind == Kind::kValue) {
          return Values(std::vector<AttributeValue>{value.value});
        }
      }
      return Values();
    case StatementKind::kUpdate:
    case StatementKind::kDelete:
    case StatementKind::kExists: {
      if (!st.where) return Values();
      std::vector<const Expr*> conjuncts;
      Flatten(*st.where, Kind::kAnd, &conjuncts);
      for (const Expr* c : conjuncts) {
        if (const AttributeValue* v = EqualityOn(*c, hash_key)) {
          return Values(std::vector<AttributeValue>{*v});
        }
      }
      return Values();
    }
    case StatementKind::kSelect: {
      if (!st.where) return Values();
      std::vector<const Expr*> conjuncts;
      Flatten(*st.where, Kind::kAnd, &conjuncts);
      Result<Values> pins = PinnedConjunction(conjuncts, hash_key);
      if (!pins.ok()) return Values();
      return *pins;
    }
  }
  return Values();
}

std::optional<std::vector<std::string>> AttributeNames(const Statement& st) {
  if (st.kind == StatementKind::kSelect && st.select_all) return std::nullopt;
  if (st.returning == Returning::kAllOld ||
      st.returning == Returning::kAllNew) {
    return std::nullopt;
  }
  std::set<std::string> names;
  for (const store::Path& path : st.projection) names.insert(path[0].name);
  if (st.where) CollectNames(*st.where, &names);
  for (const auto& [name, value] : st.item) names.insert(name);
  for (const UpdateAction& action : st.actions) {
    names.insert(action.target[0].name);
    CollectNames(action.value, &names);
  }
  return std::vector<std::string>(names.begin(), names.end());
}

Status CheckProjection(const Statement& st) {
  std::set<std::string> seen;
  for (const store::Path& path : st.projection) {
    const std::string name = OutputName(path);
    if (!seen.insert(name).second) {
      return Invalid("Duplicate identifiers in select clause: " + name);
    }
  }
  return Status::OK();
}

store::Item Project(const Statement& st, const store::Item& item) {
  if (st.select_all) return item;
  store::Item row;
  for (const store::Path& path : st.projection) {
    if (const AttributeValue* v = store::ResolvePath(item, path)) {
      row.emplace(OutputName(path), *v);
    }
  }
  return row;
}

Result<std::unique_ptr<store::Condition>> ExpressionBuilder::Condition(
    const Expr& where) {
  std::string text;
  EDDY_RETURN_IF_ERROR(AppendCondition(where, &text));
  return ParseCondition(text);
}

Result<std::unique_ptr<store::Condition>> ExpressionBuilder::Guarded(
    const std::string& attribute, bool exists,
    const std::optional<Expr>& rest) {
  std::string text = exists ? "attribute_exists(" : "attribute_not_exists(";
  AppendPath(store::Path{store::PathElement{attribute, 0, false}}, &text);
  text += ")";
  if (rest) {
    text += exists ? " AND " : " OR ";
    if (IsBoolean(*rest)) text += "(";
    EDDY_RETURN_IF_ERROR(AppendCondition(*rest, &text));
    if (IsBoolean(*rest)) text += ")";
  }
  return ParseCondition(text);
}

Result<std::unique_ptr<store::Update>> ExpressionBuilder::Update(
    const std::vector<UpdateAction>& actions) {
  std::vector<std::string> sets, removes, adds, deletes;
  for (const UpdateAction& action : actions) {
    std::string target;
    AppendPath(action.target, &target);
    if (action.remove) {
      removes.push_back(std::move(target));
      continue;
    }
    const Expr& value = action.value;
    if (value.kind == Kind::kCall &&
        (value.name == "set_add" || value.name == "set_delete")) {
      const std::string fn = value.name == "set_add" ? "SET_ADD" : "SET_DELETE";
      if (value.args.size() != 2) {
        return Invalid(fn + " must have exactly two arguments");
      }
      if (value.args[0].kind != Kind::kPath ||
          !(value.args[0].path == action.target)) {
        return Invalid("The first argument to " + fn +
                       " must equal the assignment value");
      }
      if (value.args[1].kind != Kind::kValue || !value.args[1].value.IsSet()) {
        return Invalid("The second argument to " + fn +
                       " must be a value with type SET" + value.position);
      }
      (value.name == "set_add" ? adds : deletes)
          .push_back(target + " " + ValueRef(value.args[1].value));
      continue;
    }
    std::string text = target + " = ";
    EDDY_RETURN_IF_ERROR(AppendOperand(value, /*in_update=*/true, &text));
    sets.push_back(std::move(text));
  }
  std::string text;
  auto clause = [&](const char* keyword,
                    const std::vector<std::string>& parts) {
    if (parts.empty()) return;
    if (!text.empty()) text += " ";
    text += keyword;
    for (size_t i = 0; i < parts.size(); ++i) {
      text += (i == 0 ? " " : ", ") + parts[i];
    }
  };
  clause("SET", sets);
  clause("REMOVE", removes);
  clause("ADD", adds);
  clause("DELETE", deletes);
  store::ExpressionContext context(&names_, &values_);
  Result<std::unique_ptr<store::Update>> update =
      store::Update::Parse(text, &context);
  if (!update.ok()) return StripPrefix(update.status(), "UpdateExpression");
  return update;
}

Status ExpressionBuilder::AppendCondition(const Expr& e, std::string* out) {
  switch (e.kind) {
    case Kind::kCompare:
      EDDY_RETURN_IF_ERROR(AppendOperand(e.args[0], false, out));
      *out += CompareSymbol(e.op);
      return AppendOperand(e.args[1], false, out);
    case Kind::kBetween:
      EDDY_RETURN_IF_ERROR(AppendOperand(e.args[0], false, out));
      *out += " BETWEEN ";
      EDDY_RETURN_IF_ERROR(AppendOperand(e.args[1], false, out));
      *out += " AND ";
      return AppendOperand(e.args[2], false, out);
    case Kind::kIn:
      EDDY_RETURN_IF_ERROR(AppendOperand(e.args[0], false, out));
      *out += " IN (";
      for (size_t i = 1; i < e.args.size(); ++i) {
        if (i > 1) *out += ", ";
        EDDY_RETURN_IF_ERROR(AppendOperand(e.args[i], false, out));
      }
      *out += ")";
      return Status::OK();
    case Kind::kCall:
      return AppendOperand(e, false, out);
    case Kind::kIs: {
      if (e.args[0].kind == Kind::kValue) {
        // A literal's type is known now: the test is a constant.
        const ValueType type = e.args[0].value.type();
        bool holds = e.name == "NULL"      ? type == ValueType::kNULL
                     : e.name == "STRING"  ? type == ValueType::kS
                     : e.name == "NUMERIC" ? type == ValueType::kN
                     : e.name == "BLOB"    ? type == ValueType::kB
                     : e.name == "BOOLEAN" ? type == ValueType::kBOOL
                     : e.name == "LIST"    ? type == ValueType::kL
                     : e.name == "MISSING" ? false
                                           : type == ValueType::kM;
        if (e.negated) holds = !holds;
        const AttributeValue yes = AttributeValue::Bool(true);
        *out += ValueRef(yes) + (holds ? " = " : " <> ") + ValueRef(yes);
        return Status::OK();
      }
      if (e.args[0].kind != Kind::kPath) {
        return Invalid(
            "The left hand side argument to IS must be a Variable Reference, "
            "Literal, or Path");
      }
      std::string path;
      AppendPath(e.args[0].path, &path);
      if (e.name == "MISSING") {
        *out += (e.negated ? "attribute_exists(" : "attribute_not_exists(") +
                path + ")";
        return Status::OK();
      }
      if (e.negated) *out += "NOT ";
      if (e.name == "NULL") {
        *out += path + " = " + ValueRef(AttributeValue::Null());
        return Status::OK();
      }
      const char* type = e.name == "STRING"    ? "S"
                         : e.name == "NUMERIC" ? "N"
                         : e.name == "BLOB"    ? "B"
                         : e.name == "BOOLEAN" ? "BOOL"
                         : e.name == "LIST"    ? "L"
                                               : "M";  // STRUCT, TUPLE.
      *out += "attribute_type(" + path + ", " +
              ValueRef(AttributeValue::String(type)) + ")";
      return Status::OK();
    }
    case Kind::kAnd:
    case Kind::kOr:
      for (size_t i = 0; i < e.args.size(); ++i) {
        if (i > 0) *out += e.kind == Kind::kAnd ? " AND " : " OR ";
        const bool wrap = IsBoolean(e.args[i]);
        if (wrap) *out += "(";
        EDDY_RETURN_IF_ERROR(AppendCondition(e.args[i], out));
        if (wrap) *out += ")";
      }
      return Status::OK();
    case Kind::kNot: {
      *out += "NOT ";
      const bool wrap = IsBoolean(e.args[0]);
      if (wrap) *out += "(";
      EDDY_RETURN_IF_ERROR(AppendCondition(e.args[0], out));
      if (wrap) *out += ")";
      return Status::OK();
    }
    case Kind::kArithmetic:
      return Invalid(
          std::string("Unsupported operator in Condition Expression. "
                      "Operator: ") +
          (e.subtract ? "-" : "+"));
    case Kind::kValue:
    case Kind::kPath:
    case Kind::kParameter:
      break;
  }
  return Invalid(
      "WHERE clause must contain an expression that resolves to a boolean");
}

Status ExpressionBuilder::AppendOperand(const Expr& e, bool in_update,
                                        std::string* out) {
  switch (e.kind) {
    case Kind::kValue:
      *out += ValueRef(e.value);
      return Status::OK();
    case Kind::kPath:
      AppendPath(e.path, out);
      return Status::OK();
    case Kind::kCall:
      *out += e.name + "(";
      for (size_t i = 0; i < e.args.size(); ++i) {
        if (i > 0) *out += ", ";
        EDDY_RETURN_IF_ERROR(AppendOperand(e.args[i], in_update, out));
      }
      *out += ")";
      return Status::OK();
    case Kind::kArithmetic:
      if (in_update && e.args[0].kind != Kind::kArithmetic &&
          e.args[1].kind != Kind::kArithmetic) {
        EDDY_RETURN_IF_ERROR(AppendOperand(e.args[0], in_update, out));
        *out += e.subtract ? " - " : " + ";
        return AppendOperand(e.args[1], in_update, out);
      }
      return Invalid(std::string("Unsupported operator in ") +
                     (in_update ? "Update" : "Condition") +
                     " Expression. Operator: " + (e.subtract ? "-" : "+"));
    case Kind::kParameter:
      return Status::Internal("unbound parameter");
    default:
      break;
  }
  // A condition where a value should be (`attribute_exists(a) = true`).
  return Invalid(
      "Unsupported token in expression: a condition cannot be an operand");
}

void ExpressionBuilder::AppendPath(const store::Path& path, std::string* out) {
  for (size_t i = 0; i < path.size(); ++i) {
    const store::PathElement& step = path[i];
    if (step.is_index) {
      *out += "[" + std::to_string(step.index) + "]";
      continue;
    }
    if (i > 0) *out += ".";
    auto found = refs_.find(step.name);
    if (found == refs_.end()) {
      std::string ref = "#n" + std::to_string(refs_.size());
      names_.emplace(ref, step.name);
      found = refs_.emplace(step.name, std::move(ref)).first;
    }
    *out += found->second;
  }
}

std::string ExpressionBuilder::ValueRef(const AttributeValue& value) {
  std::string ref = ":v" + std::to_string(values_.size());
  values_.emplace(ref, value);
  return ref;
}

Result<std::unique_ptr<store::Condition>> ExpressionBuilder::ParseCondition(
    const std::string& text) {
  store::ExpressionContext context(&names_, &values_);
  Result<std::unique_ptr<store::Condition>> condition =
      store::Condition::Parse(text, "ConditionExpression", &context);
  if (!condition.ok()) {
    return StripPrefix(condition.status(), "ConditionExpression");
  }
  return condition;
}

}  // namespace eddy::runtime::partiql
