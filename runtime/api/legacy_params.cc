// The legacy request parameters (Expected, AttributeUpdates, AttributesToGet,
// KeyConditions, QueryFilter, ScanFilter, ConditionalOperator) as store
// expression objects. See legacy_params.h.
#include "api/legacy_params.h"

#include <algorithm>
#include <array>
#include <iterator>
#include <set>
#include <utility>

namespace eddy::runtime::api::legacy {
namespace {

using store::AttributeValue;
using store::Item;
using store::ValueType;

constexpr std::string_view kInvalidPrefix =
    "One or more parameter values were invalid: ";

constexpr std::string_view kComparisonOperatorSet =
    "Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, "
    "NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]";

struct OperatorName {
  ComparisonOperator op;
  std::string_view name;
};
constexpr std::array<OperatorName, 13> kOperatorNames = {{
    {ComparisonOperator::kEq, "EQ"},
    {ComparisonOperator::kNe, "NE"},
    {ComparisonOperator::kLe, "LE"},
    {ComparisonOperator::kLt, "LT"},
    {ComparisonOperator::kGe, "GE"},
    {ComparisonOperator::kGt, "GT"},
    {ComparisonOperator::kNotNull, "NOT_NULL"},
    {ComparisonOperator::kNull, "NULL"},
    {ComparisonOperator::kContains, "CONTAINS"},
    {ComparisonOperator::kNotContains, "NOT_CONTAINS"},
    {ComparisonOperator::kBeginsWith, "BEGINS_WITH"},
    {ComparisonOperator::kIn, "IN"},
    {ComparisonOperator::kBetween, "BETWEEN"},
}};

Status Invalid(std::string_view message) {
  return Status::InvalidArgument(std::string(kInvalidPrefix) +
                                 std::string(message));
}

bool IsScalar(ValueType type) {
  return type == ValueType::kS || type == ValueType::kN ||
         type == ValueType::kB;
}

// The value types an operator accepts in its AttributeValueList (DynamoDB
// Local's LocalDBComparisonOperator.isTypeSupported).
bool TypeSupported(ComparisonOperator op, ValueType type) {
  switch (op) {
    case ComparisonOperator::kEq:
    case ComparisonOperator::kNe:
    case ComparisonOperator::kNull:
    case ComparisonOperator::kNotNull:
      return true;
    case ComparisonOperator::kLe:
    case ComparisonOperator::kLt:
    case ComparisonOperator::kGe:
    case ComparisonOperator::kGt:
    case ComparisonOperator::kIn:
    case ComparisonOperator::kBetween:
      return IsScalar(type);
    case ComparisonOperator::kContains:
    case ComparisonOperator::kNotContains:
      return IsScalar(type) || type == ValueType::kBOOL ||
             type == ValueType::kNULL;
    case ComparisonOperator::kBeginsWith:
      return type == ValueType::kS || type == ValueType::kB;
  }
  return false;
}

bool CountValid(ComparisonOperator op, size_t count) {
  switch (op) {
    case ComparisonOperator::kNull:
    case ComparisonOperator::kNotNull:
      return count == 0;
    case ComparisonOperator::kIn:
      return count >= 1;
    case ComparisonOperator::kBetween:
      return count == 2;
    default:
      return count == 1;
  }
}

store::Path TopLevel(const std::string& attribute) {
  store::PathElement element;
  element.name = attribute;
  return store::Path{element};
}

class LegacyCondition final : public store::Condition {
 public:
  LegacyCondition(std::vector<AttributeCondition> conditions,
                  ConditionalOperator joiner)
      : conditions_(std::move(conditions)), joiner_(joiner) {
    paths_.reserve(conditions_.size());
    for (const AttributeCondition& c : conditions_) {
      paths_.push_back(TopLevel(c.attribute));
    }
  }

  bool Evaluate(const Item& item) const override {
    if (conditions_.empty()) return true;
    const bool any = joiner_ == ConditionalOperator::kOr;
    for (const AttributeCondition& c : conditions_) {
      auto it = item.find(c.attribute);
      const bool match = c.Matches(it == item.end() ? nullptr : &it->second);
      if (match == any) return any;
    }
    return !any;
  }

  const std::vector<store::Path>& paths() const override { return paths_; }

 private:
  std::vector<AttributeCondition> conditions_;
  ConditionalOperator joiner_;
  std::vector<store::Path> paths_;
};

Status TypeMismatch() {
  return Status::InvalidArgument("Type mismatch for attribute to update");
}

// `a` plus (add) or minus (!add) the members of `b`, both sets of one type.
// nullopt when nothing is left.
std::optional<AttributeValue> CombineSets(const AttributeValue& a,
                                          const AttributeValue& b, bool add) {
  std::vector<std::string> members;
  if (add) {
    std::set_union(a.set().begin(), a.set().end(), b.set().begin(),
                   b.set().end(), std::back_inserter(members));
  } else {
    std::set_difference(a.set().begin(), a.set().end(), b.set().begin(),
                        b.set().end(), std::back_inserter(members));
  }
  if (members.empty()) return std::nullopt;
  return AttributeValue::SetFromSorted(a.type(), std::move(members));
}

class LegacyUpdate final : public store::Update {
 public:
  explicit LegacyUpdate(std::vector<AttributeUpdate> updates)
      : updates_(std::move(updates)) {
    paths_.reserve(updates_.size());
    for (const AttributeUpdate& u : updates_) {
      paths_.push_back(TopLevel(u.attribute));
    }
  }

  Status Apply(Item* item) const override {
    for (const AttributeUpdate& u : updates_) {
      EDDY_RETURN_IF_ERROR(ApplyOne(u, item));
    }
    return Status::OK();
  }

  const std::vector<store::Path>& paths() const override { return paths_; }

 private:
  static Status ApplyOne(const AttributeUpdate& u, Item* item) {
    auto it = item->find(u.attribute);
    const bool exists = it != item->end();
    switch (u.action) {
      case UpdateAction::kPut:
        item->insert_or_assign(u.attribute, *u.value);
        return Status::OK();
      case UpdateAction::kDelete: {
        if (!exists) return Status::OK();
        if (!u.value) {
          item->erase(it);
          return Status::OK();
        }
        if (it->second.type() != u.value->type()) return TypeMismatch();
        std::optional<AttributeValue> rest =
            CombineSets(it->second, *u.value, /*add=*/false);
        if (rest) {
          it->second = std::move(*rest);
        } else {
          item->erase(it);
        }
        return Status::OK();
      }
      case UpdateAction::kAdd: {
        const AttributeValue& value = *u.value;
        if (!exists) {
          item->emplace(u.attribute, value);
          return Status::OK();
        }
        AttributeValue& current = it->second;
        if (current.type() != value.type()) return TypeMismatch();
        if (value.type() == ValueType::kN) {
          EDDY_ASSIGN_OR_RETURN(store::Number sum,
                                current.AsNumber().Add(value.AsNumber()));
          current = AttributeValue::Num(sum);
        } else if (value.type() == ValueType::kL) {
          store::AttributeList& list = current.mutable_list();
          list.insert(list.end(), value.list().begin(), value.list().end());
        } else {
          // A union is never empty.
          current = *CombineSets(current, value, /*add=*/true);
        }
        return Status::OK();
      }
    }
    return Status::Internal("unknown AttributeUpdates action");
  }

  std::vector<AttributeUpdate> updates_;
  std::vector<store::Path> paths_;
};

bool Indexable(ComparisonOperator op) {
  switch (op) {
    case ComparisonOperator::kEq:
    case ComparisonOperator::kLe:
    case ComparisonOperator::kLt:
    case ComparisonOperator::kGe:
    case ComparisonOperator::kGt:
    case ComparisonOperator::kBeginsWith:
    case ComparisonOperator::kBetween:
      return true;
    default:
      return false;
  }
}

store::KeyCondition::Op KeyOp(ComparisonOperator op) {
  switch (op) {
    case ComparisonOperator::kLe:
      return store::KeyCondition::Op::kLe;
    case ComparisonOperator::kLt:
      return store::KeyCondition::Op::kLt;
    case ComparisonOperator::kGe:
      return store::KeyCondition::Op::kGe;
    case ComparisonOperator::kGt:
      return store::KeyCondition::Op::kGt;
    case ComparisonOperator::kBeginsWith:
      return store::KeyCondition::Op::kBeginsWith;
    case ComparisonOperator::kBetween:
      return store::KeyCondition::Op::kBetween;
    default:
      return store::KeyCondition::Op::kEq;
  }
}

// ---------------------------------------------------------------------------
// JSON.

std::string_view View(const rapidjson::Value& v) {
  return std::string_view(v.GetString(), v.GetStringLength());
}

// A map-typed parameter (Expected, AttributeUpdates, QueryFilter, ...): null
// when absent.
ApiStatus MapParam(const Params& params, const char* name,
                   const rapidjson::Value** out) {
  *out = params.Get(name);
  if (*out != nullptr && !(*out)->IsObject()) return WrongType(**out, "Map");
  return ApiStatus();
}

ApiStatus ReadValueList(const rapidjson::Value& json,
                        std::vector<AttributeValue>* out) {
  if (!json.IsArray()) return WrongType(json, "List");
  out->reserve(json.Size());
  for (const rapidjson::Value& element : json.GetArray()) {
    AttributeValue value;
    API_RETURN_IF_ERROR(ReadAttributeValue(element, 1, &value));
    out->push_back(std::move(value));
  }
  return ApiStatus();
}

// The ComparisonOperator member of a condition entry. An unknown name, or a
// missing one when `required`, is a constraint error at
// "<path>.comparisonOperator".
ApiStatus ReadOperator(const Params& entry, const std::string& path,
                       bool required, ConstraintErrors* errors,
                       std::optional<ComparisonOperator>* out) {
  std::optional<std::string> text;
  API_RETURN_IF_ERROR(entry.String("ComparisonOperator", &text));
  const std::string member = path + ".comparisonOperator";
  if (!text) {
    if (required) errors->Add("null", member, "Member must not be null");
    return ApiStatus();
  }
  *out = ParseComparisonOperator(*text);
  if (!*out) errors->Add(*text, member, kComparisonOperatorSet);
  return ApiStatus();
}

// ConditionalOperator, given how many conditions it would join.
ApiStatus ReadConditionalOperator(const Params& params, size_t conditions,
                                  ConditionalOperator* out) {
  *out = ConditionalOperator::kAnd;
  std::optional<std::string> text;
  API_RETURN_IF_ERROR(params.String("ConditionalOperator", &text));
  if (!text) return ApiStatus();
  if (*text == "OR") {
    *out = ConditionalOperator::kOr;
  } else if (*text != "AND") {
    ConstraintErrors errors;
    errors.Add(*text, "conditionalOperator",
               "Member must satisfy enum value set: [OR, AND]");
    return errors.ToStatus();
  }
  if (conditions == 0) {
    return ApiError::Validation(
        "ConditionalOperator cannot be used without Filter or Expected");
  }
  if (conditions == 1) {
    return ApiError::Validation(
        "ConditionalOperator can only be used when Filter or Expected has two "
        "or more elements");
  }
  return ApiStatus();
}

// QueryFilter, ScanFilter and KeyConditions entries: {"ComparisonOperator":
// ..., "AttributeValueList": [...]} per attribute. `path` is the parameter
// as constraint errors name it ("queryFilter").
ApiStatus ReadConditionMap(const Params& params, const char* name,
                           std::string_view path,
                           std::vector<AttributeCondition>* out) {
  const rapidjson::Value* map = nullptr;
  API_RETURN_IF_ERROR(MapParam(params, name, &map));
  if (map == nullptr) return ApiStatus();
  // Constraint errors (operator names) come before the checks of values.
  ConstraintErrors errors;
  for (const auto& member : map->GetObject()) {
    if (!member.value.IsObject()) return WrongType(member.value, "Structure");
    AttributeCondition condition;
    condition.attribute = std::string(View(member.name));
    std::optional<ComparisonOperator> op;
    API_RETURN_IF_ERROR(
        ReadOperator(Params(member.value),
                     std::string(path) + "." + condition.attribute + ".member",
                     /*required=*/true, &errors, &op));
    if (op) condition.op = *op;
    out->push_back(std::move(condition));
  }
  API_RETURN_IF_ERROR(errors.ToStatus());
  size_t i = 0;
  for (const auto& member : map->GetObject()) {
    AttributeCondition& condition = (*out)[i++];
    const rapidjson::Value* list =
        Params(member.value).Get("AttributeValueList");
    if (list != nullptr) {
      API_RETURN_IF_ERROR(ReadValueList(*list, &condition.values));
    }
    API_RETURN_IF_ERROR(CheckArguments(condition.op, condition.values));
  }
  return ApiStatus();
}

// One Expected entry, checked in DynamoDB's order.
ApiStatus ReadExpectedEntry(const std::string& attribute,
                            const rapidjson::Value& json,
                            std::optional<ComparisonOperator> op,
                            AttributeCondition* out) {
  Params entry(json);
  std::optional<bool> exists;
  API_RETURN_IF_ERROR(entry.Bool("Exists", &exists));
  const rapidjson::Value* value_json = entry.Get("Value");
  const rapidjson::Value* list_json = entry.Get("AttributeValueList");
  const std::string for_attribute = " for Attribute: " + attribute;
  if (exists && op) {
    return Invalid("Exists and ComparisonOperator cannot be used together" +
                   for_attribute);
  }
  if (value_json != nullptr && list_json != nullptr) {
    return Invalid("Value and AttributeValueList cannot be used together" +
                   for_attribute);
  }
  if (!op && list_json != nullptr) {
    return Invalid(
        "AttributeValueList can only be used with a ComparisonOperator" +
        for_attribute);
  }
  if (exists == false && value_json != nullptr) {
    return Invalid("Value cannot be used when Exists is false" + for_attribute);
  }
  if (value_json == nullptr && list_json == nullptr) {
    if (op) {
      if (*op != ComparisonOperator::kNull &&
          *op != ComparisonOperator::kNotNull) {
        return Invalid(
            "Value or AttributeValueList must be used with "
            "ComparisonOperator: " +
            std::string(ComparisonOperatorName(*op)) + for_attribute);
      }
    } else if (!exists) {
      return Invalid("Value must be provided when Exists is null" +
                     for_attribute);
    } else if (*exists) {
      return Invalid("Value must be provided when Exists is true" +
                     for_attribute);
    }
  }
  out->attribute = attribute;
  if (value_json != nullptr) {
    AttributeValue value;
    API_RETURN_IF_ERROR(ReadAttributeValue(*value_json, 1, &value));
    out->values.push_back(std::move(value));
  } else if (list_json != nullptr) {
    API_RETURN_IF_ERROR(ReadValueList(*list_json, &out->values));
  }
  if (op) {
    out->op = *op;
    return CheckArguments(out->op, out->values);
  }
  // The Value / Exists form: equal to Value, or (Exists false) absent.
  out->op =
      exists == false ? ComparisonOperator::kNull : ComparisonOperator::kEq;
  return ApiStatus();
}

}  // namespace

std::optional<ComparisonOperator> ParseComparisonOperator(
    std::string_view name) {
  for (const OperatorName& entry : kOperatorNames) {
    if (entry.name == name) return entry.op;
  }
  return std::nullopt;
}

std::string_view ComparisonOperatorName(ComparisonOperator op) {
  for (const OperatorName& entry : kOperatorNames) {
    if (entry.op == op) return entry.name;
  }
  return "";
}

bool AttributeCondition::Matches(const AttributeValue* value) const {
  if (op == ComparisonOperator::kNull) return value == nullptr;
  if (op == ComparisonOperator::kNotNull) return value != nullptr;
  // NE holds for a missing attribute; everything else fails on one (even
  // NOT_CONTAINS, as in DynamoDB).
  if (op == ComparisonOperator::kNe) {
    return value == nullptr || *value != values[0];
  }
  if (value == nullptr) return false;
  switch (op) {
    case ComparisonOperator::kEq:
      return *value == values[0];
    case ComparisonOperator::kLe:
    case ComparisonOperator::kLt:
    case ComparisonOperator::kGe:
    case ComparisonOperator::kGt: {
      std::optional<int> order = store::CompareValues(*value, values[0]);
      if (!order) return false;
      if (op == ComparisonOperator::kLe) return *order <= 0;
      if (op == ComparisonOperator::kLt) return *order < 0;
      if (op == ComparisonOperator::kGe) return *order >= 0;
      return *order > 0;
    }
    case ComparisonOperator::kBetween: {
      std::optional<int> lower = store::CompareValues(*value, values[0]);
      std::optional<int> upper = store::CompareValues(*value, values[1]);
      return lower && upper && *lower >= 0 && *upper <= 0;
    }
    case ComparisonOperator::kIn:
      return std::find(values.begin(), values.end(), *value) != values.end();
    case ComparisonOperator::kContains:
      return store::ContainsValue(*value, values[0]);
    case ComparisonOperator::kNotContains:
      return !store::ContainsValue(*value, values[0]);
    case ComparisonOperator::kBeginsWith: {
      const AttributeValue& prefix = values[0];
      return value->type() == prefix.type() &&
             (value->type() == ValueType::kS ||
              value->type() == ValueType::kB) &&
             value->scalar().starts_with(prefix.scalar());
    }
    default:
      return false;
  }
}

Status CheckArguments(ComparisonOperator op,
                      const std::vector<AttributeValue>& values) {
  const std::string name(ComparisonOperatorName(op));
  if (!CountValid(op, values.size())) {
    return Invalid("Invalid number of argument(s) for the " + name +
                   " ComparisonOperator");
  }
  for (const AttributeValue& value : values) {
    if (!TypeSupported(op, value.type())) {
      return Invalid("ComparisonOperator " + name + " is not valid for " +
                     std::string(store::ValueTypeName(value.type())) +
                     " AttributeValue type");
    }
    if (value.type() != values[0].type()) {
      return Invalid(
          "AttributeValues inside AttributeValueList must be of "
          "same type");
    }
  }
  if (op == ComparisonOperator::kBetween) {
    std::optional<int> order = store::CompareValues(values[0], values[1]);
    if (order && *order > 0) {
      return Status::InvalidArgument(
          "The BETWEEN condition was provided a range where the lower bound "
          "is greater than the upper bound");
    }
  }
  return Status::OK();
}

std::unique_ptr<store::Condition> MakeCondition(
    std::vector<AttributeCondition> conditions, ConditionalOperator joiner) {
  return std::make_unique<LegacyCondition>(std::move(conditions), joiner);
}

Status CheckAttributeUpdate(const AttributeUpdate& update) {
  if (!update.value) {
    if (update.action != UpdateAction::kDelete) {
      return Invalid(
          "Only DELETE action is allowed when no attribute value is "
          "specified");
    }
    return Status::OK();
  }
  const ValueType type = update.value->type();
  const std::string type_name(store::ValueTypeName(type));
  if (update.action == UpdateAction::kDelete && !update.value->IsSet()) {
    return Invalid("DELETE action with value is not supported for the type " +
                   type_name);
  }
  if (update.action == UpdateAction::kAdd && !update.value->IsSet() &&
      type != ValueType::kN && type != ValueType::kL) {
    return Invalid("ADD action is not supported for the type " + type_name);
  }
  return Status::OK();
}

std::unique_ptr<store::Update> MakeUpdate(
    std::vector<AttributeUpdate> updates) {
  return std::make_unique<LegacyUpdate>(std::move(updates));
}

Result<store::KeyCondition> MakeKeyCondition(
    const std::vector<AttributeCondition>& conditions,
    std::string_view hash_key, std::string_view range_key) {
  if (conditions.empty() || conditions.size() > 2) {
    return Status::InvalidArgument("Conditions can be of length 1 or 2 only");
  }
  const size_t schema_size = range_key.empty() ? 1 : 2;
  if (conditions.size() > schema_size) {
    return Status::InvalidArgument("Query key condition not supported");
  }
  auto find = [&](std::string_view name) -> const AttributeCondition* {
    for (const AttributeCondition& c : conditions) {
      if (c.attribute == name) return &c;
    }
    return nullptr;
  };
  auto missed = [](std::string_view name) {
    return Status::InvalidArgument(
        "Query condition missed key schema element: " + std::string(name));
  };
  const AttributeCondition* hash = find(hash_key);
  if (hash == nullptr) return missed(hash_key);
  const AttributeCondition* range = nullptr;
  if (conditions.size() == 2) {
    range = find(range_key);
    if (range == nullptr) return missed(range_key);
  }
  for (const AttributeCondition& c : conditions) {
    if (!Indexable(c.op)) {
      return Status::InvalidArgument(
          "Attempted conditional constraint is not an indexable operation");
    }
  }
  if (hash->op != ComparisonOperator::kEq) {
    return Status::InvalidArgument("Query key condition not supported");
  }
  store::KeyCondition key;
  key.partition_value = hash->values[0];
  if (range != nullptr) {
    store::KeyCondition::SortCondition sort;
    sort.op = KeyOp(range->op);
    sort.value = range->values[0];
    if (range->values.size() > 1) sort.value2 = range->values[1];
    key.sort = std::move(sort);
  }
  return key;
}

ApiStatus ReadExpected(const Params& params,
                       std::unique_ptr<store::Condition>* out) {
  const rapidjson::Value* map = nullptr;
  API_RETURN_IF_ERROR(MapParam(params, "Expected", &map));
  std::vector<AttributeCondition> conditions;
  if (map != nullptr) {
    ConstraintErrors errors;
    std::vector<std::optional<ComparisonOperator>> ops;
    for (const auto& member : map->GetObject()) {
      if (!member.value.IsObject()) {
        return WrongType(member.value, "Structure");
      }
      std::optional<ComparisonOperator> op;
      API_RETURN_IF_ERROR(
          ReadOperator(Params(member.value),
                       "expected." + std::string(View(member.name)) + ".member",
                       /*required=*/false, &errors, &op));
      ops.push_back(op);
    }
    API_RETURN_IF_ERROR(errors.ToStatus());
    size_t i = 0;
    for (const auto& member : map->GetObject()) {
      AttributeCondition condition;
      API_RETURN_IF_ERROR(ReadExpectedEntry(
          std::string(View(member.name)), member.value, ops[i++], &condition));
      conditions.push_back(std::move(condition));
    }
  }
  ConditionalOperator joiner;
  API_RETURN_IF_ERROR(
      ReadConditionalOperator(params, conditions.size(), &joiner));
  if (!conditions.empty()) *out = MakeCondition(std::move(conditions), joiner);
  return ApiStatus();
}

ApiStatus ReadFilter(const Params& params, const char* name,
                     std::unique_ptr<store::Condition>* out) {
  std::string path(name);
  path[0] = static_cast<char>(path[0] - 'A' + 'a');  // "queryFilter".
  std::vector<AttributeCondition> conditions;
  API_RETURN_IF_ERROR(ReadConditionMap(params, name, path, &conditions));
  ConditionalOperator joiner;
  API_RETURN_IF_ERROR(
      ReadConditionalOperator(params, conditions.size(), &joiner));
  if (!conditions.empty()) *out = MakeCondition(std::move(conditions), joiner);
  return ApiStatus();
}

ApiStatus ReadAttributeUpdates(const Params& params,
                               std::unique_ptr<store::Update>* out) {
  const rapidjson::Value* map = nullptr;
  API_RETURN_IF_ERROR(MapParam(params, "AttributeUpdates", &map));
  if (map == nullptr) return ApiStatus();
  ConstraintErrors errors;
  std::vector<AttributeUpdate> updates;
  for (const auto& member : map->GetObject()) {
    if (!member.value.IsObject()) return WrongType(member.value, "Structure");
    AttributeUpdate update;
    update.attribute = std::string(View(member.name));
    std::optional<std::string> action;
    API_RETURN_IF_ERROR(Params(member.value).String("Action", &action));
    if (!action || *action == "PUT") {
      update.action = UpdateAction::kPut;
    } else if (*action == "ADD") {
      update.action = UpdateAction::kAdd;
    } else if (*action == "DELETE") {
      update.action = UpdateAction::kDelete;
    } else {
      errors.Add(*action,
                 "attributeUpdates." + update.attribute + ".member.action",
                 "Member must satisfy enum value set: [ADD, PUT, DELETE]");
    }
    updates.push_back(std::move(update));
  }
  API_RETURN_IF_ERROR(errors.ToStatus());
  size_t i = 0;
  for (const auto& member : map->GetObject()) {
    AttributeUpdate& update = updates[i++];
    const rapidjson::Value* value = Params(member.value).Get("Value");
    if (value != nullptr) {
      AttributeValue v;
      API_RETURN_IF_ERROR(ReadAttributeValue(*value, 1, &v));
      update.value = std::move(v);
    }
    API_RETURN_IF_ERROR(CheckAttributeUpdate(update));
  }
  if (!updates.empty()) *out = MakeUpdate(std::move(updates));
  return ApiStatus();
}

ApiStatus ReadAttributesToGet(const Params& params, std::string_view path,
                              std::optional<store::Projection>* out) {
  const rapidjson::Value* list = nullptr;
  API_RETURN_IF_ERROR(params.Array("AttributesToGet", &list));
  if (list == nullptr) return ApiStatus();
  std::vector<std::string> names;
  names.reserve(list->Size());
  for (const rapidjson::Value& name : list->GetArray()) {
    if (!name.IsString()) return WrongType(name, "String");
    names.emplace_back(View(name));
  }
  if (names.empty() || names.size() > 255) {
    std::string rendered = "[";
    for (size_t i = 0; i < names.size(); ++i) {
      rendered += (i > 0 ? ", " : "") + names[i];
    }
    rendered += "]";
    ConstraintErrors errors;
    errors.Add(rendered, path,
               names.empty()
                   ? "Member must have length greater than or equal to 1"
                   : "Member must have length less than or equal to 255");
    return errors.ToStatus();
  }
  std::vector<store::Path> paths;
  paths.reserve(names.size());
  std::set<std::string_view> seen;
  for (const std::string& name : names) {
    if (!seen.insert(name).second) {
      return Invalid("Duplicate value in attribute name: " + name);
    }
    paths.push_back(TopLevel(name));
  }
  *out = store::Projection(std::move(paths));
  return ApiStatus();
}

ApiStatus ReadKeyConditions(
    const Params& params, std::optional<std::vector<AttributeCondition>>* out) {
  if (params.Get("KeyConditions") == nullptr) return ApiStatus();
  std::vector<AttributeCondition> conditions;
  API_RETURN_IF_ERROR(
      ReadConditionMap(params, "KeyConditions", "keyConditions", &conditions));
  *out = std::move(conditions);
  return ApiStatus();
}

}  // namespace eddy::runtime::api::legacy
