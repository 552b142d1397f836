// UpdateExpression: static checks (binding) and application to an item.
//
// Application follows DynamoDB:
//   - Every value is computed from the item as it was before the update, so
//     "SET b = a REMOVE a" copies a, and list indexes name positions in the
//     original list ("REMOVE a[1] SET a[3] = :v" sets the old a[3]).
//   - SET of a list index past the end appends; several such appends land
//     in index order. REMOVE of list elements shifts the later ones.
//   - Problems are reported in DynamoDB's order: operand types first, then
//     paths that cannot be written, then attributes a SET reads that are
//     missing.

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "eddy/store/expression.h"
#include "expression/ast.h"
#include "expression/binder.h"
#include "expression/common.h"
#include "expression/parser.h"

namespace eddy::store {
namespace expr {

namespace {

constexpr std::string_view kKind = "UpdateExpression";

Status MissingAttribute() {
  return Status::InvalidArgument(
      "The provided expression refers to an attribute that does not exist in "
      "the item");
}

Status IncorrectDataType() {
  return Status::InvalidArgument(
      "An operand in the update expression has an incorrect data type");
}

Status InvalidPath() {
  return Status::InvalidArgument(
      "The document path provided in the update expression is invalid for "
      "update");
}

// Java-style type names DynamoDB uses in ADD / DELETE operand messages.
std::string_view LongTypeName(ValueType type) {
  switch (type) {
    case ValueType::kS:
      return "STRING";
    case ValueType::kN:
      return "NUMBER";
    case ValueType::kB:
      return "BINARY";
    case ValueType::kBOOL:
      return "BOOLEAN";
    case ValueType::kNULL:
      return "NULL";
    case ValueType::kM:
      return "MAP";
    case ValueType::kL:
      return "LIST";
    case ValueType::kSS:
      return "STRING_SET";
    case ValueType::kNS:
      return "NUMBER_SET";
    case ValueType::kBS:
      return "BINARY_SET";
  }
  return "NULL";
}

class UpdateBinder {
 public:
  explicit UpdateBinder(ExpressionContext* context) : context_(context) {}

  Status Bind(std::vector<UpdateAction>* actions,
              const std::vector<std::string>& sections) {
    for (size_t i = 0; i < sections.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (sections[j] == sections[i]) {
          errors_.Add(ErrorClass::kSection,
                      InvalidExpressionText(
                          kKind, "The \"" + sections[i] +
                                     "\" section can only be used once in an "
                                     "update expression;"));
        }
      }
    }
    std::vector<Path> targets;
    for (UpdateAction& action : *actions) {
      BindPath(&action.target, kKind, context_, &errors_,
               ErrorClass::kAttrName);
      targets.push_back(action.target.path);
      switch (action.kind) {
        case UpdateAction::Kind::kSet:
          BindOperand(&action.first, "");
          if (action.second) {
            BindOperand(&*action.second, "");
            const char* op = action.subtract ? "-" : "+";
            CheckOperandType(op, action.first, ValueType::kN);
            CheckOperandType(op, *action.second, ValueType::kN);
          }
          break;
        case UpdateAction::Kind::kRemove:
          break;
        case UpdateAction::Kind::kAdd:
        case UpdateAction::Kind::kDelete:
          BindValue(&action.first, kKind, context_, &errors_,
                    ErrorClass::kAttrValue);
          CheckAddDeleteOperand(action);
          break;
      }
    }
    OverlapResult overlaps = FindOverlaps(targets);
    if (overlaps.overlap) {
      errors_.Add(ErrorClass::kOverlap,
                  InvalidExpressionText(kKind, *overlaps.overlap));
    }
    if (overlaps.conflict) {
      errors_.Add(ErrorClass::kConflict,
                  InvalidExpressionText(kKind, *overlaps.conflict));
    }
    return errors_.First({ErrorClass::kReserved, ErrorClass::kUnknownFunction,
                          ErrorClass::kSection, ErrorClass::kAttrName,
                          ErrorClass::kAttrValue, ErrorClass::kOverlap,
                          ErrorClass::kConflict, ErrorClass::kOperand,
                          ErrorClass::kFunction});
  }

 private:
  void Problem(const std::string& message) {
    errors_.Add(ErrorClass::kFunction, InvalidExpressionText(kKind, message));
  }

  // The type an operand of an update is known to have before any item is
  // seen: a :value's, L for list_append, if_not_exists's default's.
  static std::optional<ValueType> UpdateStaticType(const Operand& op) {
    if (op.kind == Operand::Kind::kValue) return op.value.type();
    if (op.kind != Operand::Kind::kFunction) return std::nullopt;
    if (op.token == "list_append") return ValueType::kL;
    if (op.token == "if_not_exists" && op.args.size() == 2) {
      return UpdateStaticType(op.args[1]);
    }
    return std::nullopt;
  }

  void CheckOperandType(std::string_view function, const Operand& op,
                        ValueType wanted) {
    std::optional<ValueType> type = UpdateStaticType(op);
    if (type && *type != wanted) {
      Problem(
          "Incorrect operand type for operator or function; operator or "
          "function: " +
          std::string(function) +
          ", operand type: " + std::string(ValueTypeName(*type)));
    }
  }

  void CheckAddDeleteOperand(const UpdateAction& action) {
    bool add = action.kind == UpdateAction::Kind::kAdd;
    ValueType type = action.first.value.type();
    bool allowed = action.first.value.IsSet() || (add && type == ValueType::kN);
    if (allowed) return;
    std::string op = add ? "ADD" : "DELETE";
    errors_.Add(
        ErrorClass::kOperand,
        InvalidExpressionText(
            kKind,
            "Incorrect operand type for operator or function; "
            "operator: " +
                op + ", operand type: " + std::string(LongTypeName(type)) +
                ", typeSet: ALLOWED_FOR_" + op + "_OPERAND"));
  }

  // `parent` is the name of the function whose argument `op` is ("" for a
  // top-level operand).
  void BindOperand(Operand* op, std::string_view parent) {
    switch (op->kind) {
      case Operand::Kind::kPath:
        BindPath(op, kKind, context_, &errors_, ErrorClass::kAttrName);
        return;
      case Operand::Kind::kValue:
        BindValue(op, kKind, context_, &errors_, ErrorClass::kAttrValue);
        return;
      case Operand::Kind::kFunction:
        BindFunction(op, parent);
        return;
    }
  }

  void BindFunction(Operand* op, std::string_view parent) {
    const std::string& name = op->token;
    bool known = name == "if_not_exists" || name == "list_append";
    if (!known) {
      bool condition_function =
          name == "attribute_exists" || name == "attribute_not_exists" ||
          name == "attribute_type" || name == "begins_with" ||
          name == "contains" || name == "size";
      errors_.Add(ErrorClass::kUnknownFunction,
                  InvalidExpressionText(
                      kKind, condition_function
                                 ? "The function is not allowed in an update "
                                   "expression; function: " +
                                       name
                                 : "Invalid function name; function: " + name));
    }
    for (Operand& arg : op->args) BindOperand(&arg, name);
    if (!known) return;
    if (op->args.size() != 2) {
      Problem(
          "Incorrect number of operands for operator or function; "
          "operator or function: " +
          name + ", number of operands: " + std::to_string(op->args.size()));
      return;
    }
    if (name == "list_append") {
      if (parent == "list_append") {
        Problem(
            "The function is not allowed to be used this way in an "
            "expression; function: list_append");
      }
      CheckOperandType(name, op->args[0], ValueType::kL);
      CheckOperandType(name, op->args[1], ValueType::kL);
    } else if (op->args[0].kind != Operand::Kind::kPath) {
      Problem(
          "Operator or function requires a document path; operator or "
          "function: if_not_exists");
    }
  }

  ExpressionContext* context_;
  ErrorCollector errors_;
};

// Value of a SET operand, computed from the item as it was. nullopt when a
// path it reads is missing; an error when an operand has the wrong type.
Result<std::optional<AttributeValue>> EvaluateOperand(const Operand& op,
                                                      const Item& item) {
  switch (op.kind) {
    case Operand::Kind::kValue:
      return std::optional<AttributeValue>(op.value);
    case Operand::Kind::kPath: {
      const AttributeValue* value = ResolvePath(item, op.path);
      if (value == nullptr) return std::optional<AttributeValue>();
      return std::optional<AttributeValue>(*value);
    }
    case Operand::Kind::kFunction:
      break;
  }
  if (op.token == "if_not_exists") {
    const AttributeValue* current = ResolvePath(item, op.args[0].path);
    if (current != nullptr) return std::optional<AttributeValue>(*current);
    return EvaluateOperand(op.args[1], item);
  }
  // list_append: both operands must be lists.
  EDDY_ASSIGN_OR_RETURN(std::optional<AttributeValue> head,
                        EvaluateOperand(op.args[0], item));
  if (head && head->type() != ValueType::kL) return IncorrectDataType();
  EDDY_ASSIGN_OR_RETURN(std::optional<AttributeValue> tail,
                        EvaluateOperand(op.args[1], item));
  if (tail && tail->type() != ValueType::kL) return IncorrectDataType();
  if (!head || !tail) return std::optional<AttributeValue>();
  AttributeList joined = head->list();
  for (const AttributeValue& element : tail->list()) joined.push_back(element);
  return std::optional<AttributeValue>(AttributeValue::List(std::move(joined)));
}

Result<std::optional<AttributeValue>> EvaluateSetValue(
    const UpdateAction& action, const Item& item) {
  EDDY_ASSIGN_OR_RETURN(std::optional<AttributeValue> first,
                        EvaluateOperand(action.first, item));
  if (!action.second) return first;
  if (first && first->type() != ValueType::kN) return IncorrectDataType();
  EDDY_ASSIGN_OR_RETURN(std::optional<AttributeValue> second,
                        EvaluateOperand(*action.second, item));
  if (second && second->type() != ValueType::kN) return IncorrectDataType();
  if (!first || !second) return std::optional<AttributeValue>();
  Number a = first->AsNumber();
  Number b = second->AsNumber();
  EDDY_ASSIGN_OR_RETURN(Number result,
                        action.subtract ? a.Subtract(b) : a.Add(b));
  return std::optional<AttributeValue>(AttributeValue::Num(result));
}

// ADD: numbers add (a missing attribute counts as 0); sets take the union.
Result<AttributeValue> AddValue(const AttributeValue* current,
                                const AttributeValue& operand) {
  if (current == nullptr) return operand;
  if (current->type() != operand.type()) return IncorrectDataType();
  if (operand.type() == ValueType::kN) {
    EDDY_ASSIGN_OR_RETURN(Number sum,
                          current->AsNumber().Add(operand.AsNumber()));
    return AttributeValue::Num(sum);
  }
  std::vector<std::string> members = current->set();
  members.insert(members.end(), operand.set().begin(), operand.set().end());
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  return AttributeValue::SetFromSorted(operand.type(), std::move(members));
}

// DELETE: the set minus the operand's members; nullopt when nothing is left
// (DynamoDB then removes the attribute).
Result<std::optional<AttributeValue>> DeleteValue(
    const AttributeValue& current, const AttributeValue& operand) {
  if (current.type() != operand.type()) return IncorrectDataType();
  const std::vector<std::string>& removed = operand.set();
  std::vector<std::string> members;
  for (const std::string& member : current.set()) {
    if (std::find(removed.begin(), removed.end(), member) == removed.end()) {
      members.push_back(member);
    }
  }
  if (members.empty()) return std::optional<AttributeValue>();
  return std::optional<AttributeValue>(
      AttributeValue::SetFromSorted(current.type(), std::move(members)));
}

// Whether `path` can be written in `item`: everything before its last step
// exists and is a map before a name, a list before an index.
bool CanWrite(const Item& item, const Path& path) {
  if (path.size() <= 1) return true;
  Path parent_path(path.begin(), path.end() - 1);
  const AttributeValue* parent = ResolvePath(item, parent_path);
  if (parent == nullptr) return false;
  return path.back().is_index ? parent->type() == ValueType::kL
                              : parent->type() == ValueType::kM;
}

// The container the last step of `path` lives in: the item or a map value,
// or a list value. Both null when the parent is missing or of another type.
struct Slot {
  AttributeMap* map = nullptr;
  AttributeList* list = nullptr;
};

Slot FindSlot(Item* item, const Path& path) {
  Slot slot;
  if (path.size() == 1) {
    slot.map = item;
    return slot;
  }
  auto top = item->find(path[0].name);
  if (top == item->end()) return slot;
  AttributeValue* current = &top->second;
  for (size_t i = 1; i + 1 < path.size(); ++i) {
    const PathElement& step = path[i];
    if (step.is_index) {
      if (current->type() != ValueType::kL) return slot;
      AttributeList& list = current->mutable_list();
      if (step.index >= list.size()) return slot;
      current = &list[step.index];
    } else {
      if (current->type() != ValueType::kM) return slot;
      AttributeMap& map = current->mutable_map();
      auto it = map.find(step.name);
      if (it == map.end()) return slot;
      current = &it->second;
    }
  }
  if (path.back().is_index) {
    if (current->type() == ValueType::kL) slot.list = &current->mutable_list();
  } else if (current->type() == ValueType::kM) {
    slot.map = &current->mutable_map();
  }
  return slot;
}

bool ElementLess(const PathElement& a, const PathElement& b) {
  if (a.is_index != b.is_index) return a.is_index;
  return a.is_index ? a.index < b.index : a.name < b.name;
}

bool PathLess(const Path& a, const Path& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                      ElementLess);
}

class UpdateImpl final : public Update {
 public:
  explicit UpdateImpl(std::vector<UpdateAction> actions)
      : actions_(std::move(actions)) {
    for (const UpdateAction& action : actions_) {
      paths_.push_back(action.target.path);
    }
  }

  Status Apply(Item* item) const override;
  const std::vector<Path>& paths() const override { return paths_; }

 private:
  std::vector<UpdateAction> actions_;
  std::vector<Path> paths_;
};

Status UpdateImpl::Apply(Item* item) const {
  // DynamoDB ignores REMOVE of any path when the item does not exist yet.
  const bool item_exists = !item->empty();

  // 1. Every write's value, from the item as it was.
  struct Write {
    const Path* path;
    std::optional<AttributeValue> value;  // nullopt: remove.
  };
  std::vector<Write> writes;
  writes.reserve(actions_.size());
  std::optional<Status> missing;
  for (const UpdateAction& action : actions_) {
    const Path& path = action.target.path;
    switch (action.kind) {
      case UpdateAction::Kind::kSet: {
        EDDY_ASSIGN_OR_RETURN(std::optional<AttributeValue> value,
                              EvaluateSetValue(action, *item));
        if (!value) {
          if (!missing) missing = MissingAttribute();
          break;
        }
        writes.push_back({&path, std::move(value)});
        break;
      }
      case UpdateAction::Kind::kRemove:
        if (item_exists) writes.push_back({&path, std::nullopt});
        break;
      case UpdateAction::Kind::kAdd: {
        EDDY_ASSIGN_OR_RETURN(
            AttributeValue value,
            AddValue(ResolvePath(*item, path), action.first.value));
        writes.push_back({&path, std::move(value)});
        break;
      }
      case UpdateAction::Kind::kDelete: {
        const AttributeValue* current = ResolvePath(*item, path);
        if (current == nullptr) break;
        EDDY_ASSIGN_OR_RETURN(std::optional<AttributeValue> rest,
                              DeleteValue(*current, action.first.value));
        writes.push_back({&path, std::move(rest)});
        break;
      }
    }
  }

  // 2. Paths that cannot be written, then attributes a SET reads that are
  // missing.
  for (const UpdateAction& action : actions_) {
    if (action.kind == UpdateAction::Kind::kRemove && !item_exists) continue;
    if (!CanWrite(*item, action.target.path)) return InvalidPath();
  }
  if (missing) return *missing;

  // 3. Writes in place; appends past the end of lists and removals wait, so
  // that every index still names a position of the original list.
  struct Append {
    const Path* path;
    AttributeValue value;
  };
  std::vector<Append> appends;
  std::vector<const Path*> removals;
  for (Write& write : writes) {
    const Path& path = *write.path;
    if (!write.value) {
      if (ResolvePath(*item, path) != nullptr) removals.push_back(&path);
      continue;
    }
    Slot slot = FindSlot(item, path);
    if (slot.map != nullptr) {
      (*slot.map)[path.back().name] = std::move(*write.value);
    } else if (slot.list != nullptr) {
      if (path.back().index < slot.list->size()) {
        (*slot.list)[path.back().index] = std::move(*write.value);
      } else {
        appends.push_back({&path, std::move(*write.value)});
      }
    } else {
      return Status::Internal("update path vanished: " + PathToString(path));
    }
  }

  // 4. Appends, in index order within each list.
  std::stable_sort(appends.begin(), appends.end(),
                   [](const Append& a, const Append& b) {
                     return PathLess(*a.path, *b.path);
                   });
  for (Append& append : appends) {
    Slot slot = FindSlot(item, *append.path);
    if (slot.list == nullptr) {
      return Status::Internal("update path vanished: " +
                              PathToString(*append.path));
    }
    slot.list->push_back(std::move(append.value));
  }

  // 5. Removals, deepest first and, within a list, highest index first, so
  // that no removal shifts an element another one still has to find.
  std::sort(removals.begin(), removals.end(), [](const Path* a, const Path* b) {
    if (a->size() != b->size()) return a->size() > b->size();
    return PathLess(*b, *a);
  });
  for (const Path* path : removals) {
    Slot slot = FindSlot(item, *path);
    if (slot.map != nullptr) {
      slot.map->erase(path->back().name);
    } else if (slot.list != nullptr && path->back().index < slot.list->size()) {
      slot.list->erase(slot.list->begin() + path->back().index);
    }
  }
  return Status::OK();
}

}  // namespace
}  // namespace expr

Result<std::unique_ptr<Update>> Update::Parse(std::string_view text,
                                              ExpressionContext* context) {
  ExpressionContext no_substitutions(nullptr, nullptr);
  if (context == nullptr) context = &no_substitutions;
  EDDY_RETURN_IF_ERROR(expr::CheckExpressionText(text, expr::kKind));
  expr::Parser parser(text, expr::kKind);
  std::vector<std::string> sections;
  EDDY_ASSIGN_OR_RETURN(std::vector<expr::UpdateAction> actions,
                        parser.ParseUpdate(&sections));
  expr::UpdateBinder binder(context);
  EDDY_RETURN_IF_ERROR(binder.Bind(&actions, sections));
  return std::unique_ptr<Update>(
      std::make_unique<expr::UpdateImpl>(std::move(actions)));
}

}  // namespace eddy::store
