// ConditionExpression / FilterExpression: static checks (binding) and
// evaluation against an item.
//
// Evaluation follows DynamoDB:
//   - A missing attribute makes every comparison false, except <>, which is
//     true when either side is missing (even both).
//   - = and <> compare any types (deep equality); <, <=, >, >=, BETWEEN
//     compare only S with S, N with N, B with B; other pairs are false.
//   - size() is the number of UTF-16 code units of an S, the bytes of a B,
//     the members of a set, L or M; of other types it has no value.
//   - contains() tests substrings of S and B, membership in sets, and
//     element equality in L.

#include <algorithm>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eddy/store/expression.h"
#include "expression/ast.h"
#include "expression/binder.h"
#include "expression/common.h"
#include "expression/parser.h"

namespace eddy::store {
namespace expr {

namespace {

constexpr std::string_view kAnyTypeNames = "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}";
constexpr std::string_view kValidTypeNames = "{B,NULL,SS,BOOL,L,BS,N,NS,S,M}";

bool IsScalar(ValueType type) {
  return type == ValueType::kS || type == ValueType::kN ||
         type == ValueType::kB;
}

bool IsTypeName(std::string_view name) {
  static constexpr std::string_view kNames[] = {"S", "N", "B",  "BOOL", "NULL",
                                                "M", "L", "SS", "NS",   "BS"};
  return std::find(std::begin(kNames), std::end(kNames), name) !=
         std::end(kNames);
}

// Where a function call appears: as a whole condition, or as an operand of
// a comparison or of another function.
enum class Place { kCondition, kOperand };

// Binds a condition tree and checks DynamoDB's static rules. Problems are
// collected by class; see ParseConditionTree for the order they are
// reported in.
class ConditionBinder {
 public:
  ConditionBinder(std::string_view kind, ExpressionContext* context)
      : kind_(kind), context_(context) {}

  ErrorCollector& errors() { return errors_; }

  void BindNode(CondNode* node) {
    switch (node->kind) {
      case CondNode::Kind::kAnd:
      case CondNode::Kind::kOr:
        BindNode(node->left.get());
        BindNode(node->right.get());
        return;
      case CondNode::Kind::kNot:
        BindNode(node->left.get());
        return;
      case CondNode::Kind::kCompare:
        BindCompare(node);
        return;
      case CondNode::Kind::kBetween:
        BindBetween(node);
        return;
      case CondNode::Kind::kIn:
        BindIn(node);
        return;
      case CondNode::Kind::kFunction:
        BindOperand(&node->operands[0], Place::kCondition);
        return;
    }
  }

 private:
  void Problem(const std::string& message) {
    errors_.Add(ErrorClass::kFunction, InvalidExpressionText(kind_, message));
  }

  void OperandTypeProblem(std::string_view function, std::string_view type) {
    Problem(
        "Incorrect operand type for operator or function; operator or "
        "function: " +
        std::string(function) + ", operand type: " + std::string(type));
  }

  // "a = a", "contains(a, a)": DynamoDB refuses the same path twice.
  void CheckDistinct(std::string_view op, const std::vector<Operand>& operands,
                     size_t first, size_t end) {
    const Operand& head = operands[first];
    if (head.kind != Operand::Kind::kPath) return;
    for (size_t i = first + 1; i < end; ++i) {
      const Operand& other = operands[i];
      if (other.kind == Operand::Kind::kPath && other.path == head.path) {
        Problem(
            "The first operand must be distinct from the remaining "
            "operands for this operator or function; operator: " +
            std::string(op) +
            ", first operand: " + PathToBracketString(head.path));
        return;
      }
    }
  }

  void BindCompare(CondNode* node) {
    for (Operand& op : node->operands) BindOperand(&op, Place::kOperand);
    const char* name = CompareOpName(node->op);
    CheckDistinct(name, node->operands, 0, node->operands.size());
    if (node->op == CompareOp::kEq || node->op == CompareOp::kNe) return;
    for (const Operand& op : node->operands) {
      std::optional<ValueType> type = StaticType(op);
      if (type && !IsScalar(*type))
        OperandTypeProblem(name, ValueTypeName(*type));
    }
  }

  void BindBetween(CondNode* node) {
    for (Operand& op : node->operands) BindOperand(&op, Place::kOperand);
    CheckDistinct("BETWEEN", node->operands, 0, node->operands.size());
    for (const Operand& op : node->operands) {
      std::optional<ValueType> type = StaticType(op);
      if (type && !IsScalar(*type)) {
        OperandTypeProblem("BETWEEN", ValueTypeName(*type));
      }
    }
    const Operand& lower = node->operands[1];
    const Operand& upper = node->operands[2];
    if (lower.kind != Operand::Kind::kValue ||
        upper.kind != Operand::Kind::kValue) {
      return;
    }
    std::string bounds =
        "lower bound operand: " + AttributeValueForMessage(lower.value) +
        ", upper bound operand: " + AttributeValueForMessage(upper.value);
    if (lower.value.type() != upper.value.type()) {
      Problem(
          "The BETWEEN operator requires same data type for lower and "
          "upper bounds; " +
          bounds);
      return;
    }
    std::optional<int> order = CompareScalars(lower.value, upper.value);
    if (order && *order > 0) {
      Problem(
          "The BETWEEN operator requires upper bound to be greater than "
          "or equal to lower bound; " +
          bounds);
    }
  }

  void BindIn(CondNode* node) {
    for (Operand& op : node->operands) BindOperand(&op, Place::kOperand);
    size_t listed = node->operands.size() - 1;
    if (listed > kMaxInOperands) {
      Problem(
          "The IN operator is provided with too many operands; number of "
          "operands: " +
          std::to_string(listed));
    }
    CheckDistinct("IN", node->operands, 0, node->operands.size());
  }

  void BindOperand(Operand* op, Place place) {
    switch (op->kind) {
      case Operand::Kind::kPath:
        BindPath(op, kind_, context_, &errors_, ErrorClass::kFunction);
        return;
      case Operand::Kind::kValue:
        BindValue(op, kind_, context_, &errors_, ErrorClass::kFunction);
        return;
      case Operand::Kind::kFunction:
        BindFunction(op, place);
        return;
    }
  }

  void BindFunction(Operand* op, Place place) {
    const std::string& name = op->token;
    size_t arity = 0;
    bool is_condition = true;
    bool known = true;
    if (name == "attribute_exists" || name == "attribute_not_exists") {
      arity = 1;
    } else if (name == "attribute_type" || name == "begins_with" ||
               name == "contains") {
      arity = 2;
    } else if (name == "size") {
      arity = 1;
      is_condition = false;
    } else if (name == "if_not_exists" || name == "list_append") {
      errors_.Add(
          ErrorClass::kUnknownFunction,
          InvalidExpressionText(kind_,
                                "The function is not allowed in a condition "
                                "expression; function: " +
                                    name));
      known = false;
    } else {
      errors_.Add(ErrorClass::kUnknownFunction,
                  InvalidExpressionText(
                      kind_, "Invalid function name; function: " + name));
      known = false;
    }
    if (known && (place == Place::kCondition) != is_condition) {
      errors_.Add(ErrorClass::kMisusedFunction,
                  InvalidExpressionText(
                      kind_,
                      "The function is not allowed to be used this way in an "
                      "expression; function: " +
                          name));
    }
    for (Operand& arg : op->args) BindOperand(&arg, Place::kOperand);
    if (!known) return;
    if (op->args.size() != arity) {
      Problem(
          "Incorrect number of operands for operator or function; "
          "operator or function: " +
          name + ", number of operands: " + std::to_string(op->args.size()));
      return;
    }
    if (arity == 2) CheckDistinct(name, op->args, 0, op->args.size());

    if (name == "attribute_exists" || name == "attribute_not_exists") {
      if (op->args[0].kind != Operand::Kind::kPath) {
        Problem(
            "Operator or function requires a document path; operator or "
            "function: " +
            name);
      }
    } else if (name == "attribute_type") {
      const Operand& type = op->args[1];
      if (type.kind != Operand::Kind::kValue) {
        std::optional<ValueType> known_type = StaticType(type);
        OperandTypeProblem(
            name, known_type ? ValueTypeName(*known_type) : kAnyTypeNames);
      } else if (type.value.type() != ValueType::kS) {
        OperandTypeProblem(name, ValueTypeName(type.value.type()));
      } else if (!IsTypeName(type.value.scalar())) {
        Problem(
            "Invalid attribute type name found; type: " + type.value.scalar() +
            ", valid types: " + std::string(kValidTypeNames));
      }
    } else if (name == "begins_with") {
      for (const Operand& arg : op->args) {
        std::optional<ValueType> type = StaticType(arg);
        if (type && *type != ValueType::kS && *type != ValueType::kB) {
          OperandTypeProblem(name, ValueTypeName(*type));
        }
      }
    } else if (name == "size") {
      std::optional<ValueType> type = StaticType(op->args[0]);
      if (type && (*type == ValueType::kN || *type == ValueType::kBOOL ||
                   *type == ValueType::kNULL)) {
        OperandTypeProblem(name, ValueTypeName(*type));
      }
    }
  }

  std::string_view kind_;
  ExpressionContext* context_;
  ErrorCollector errors_;
};

// The value of an operand for one item: a pointer into the item or the
// expression, or a computed value (size()) held in `owned`.
struct OperandValue {
  const AttributeValue* value = nullptr;
  AttributeValue owned;
};

std::optional<size_t> SizeOf(const AttributeValue& value) {
  switch (value.type()) {
    case ValueType::kS:
      return Utf16Length(value.scalar());
    case ValueType::kB:
      return value.scalar().size();
    case ValueType::kSS:
    case ValueType::kNS:
    case ValueType::kBS:
      return value.set().size();
    case ValueType::kL:
      return value.list().size();
    case ValueType::kM:
      return value.map().size();
    default:
      return std::nullopt;
  }
}

void EvaluateOperand(const Operand& op, const Item& item, OperandValue* out) {
  switch (op.kind) {
    case Operand::Kind::kPath:
      out->value = ResolvePath(item, op.path);
      return;
    case Operand::Kind::kValue:
      out->value = &op.value;
      return;
    case Operand::Kind::kFunction: {
      // Binding admits only size() as an operand function.
      OperandValue arg;
      EvaluateOperand(op.args[0], item, &arg);
      if (arg.value == nullptr) return;
      std::optional<size_t> size = SizeOf(*arg.value);
      if (!size) return;
      Result<Number> number = Number::Parse(std::to_string(*size));
      if (!number.ok()) return;
      out->owned = AttributeValue::Num(*number);
      out->value = &out->owned;
      return;
    }
  }
}

bool Contains(const AttributeValue& haystack, const AttributeValue& needle) {
  auto in_set = [&](ValueType member_type) {
    if (needle.type() != member_type) return false;
    const std::vector<std::string>& members = haystack.set();
    return std::find(members.begin(), members.end(), needle.scalar()) !=
           members.end();
  };
  switch (haystack.type()) {
    case ValueType::kS:
    case ValueType::kB:
      return needle.type() == haystack.type() &&
             haystack.scalar().find(needle.scalar()) != std::string::npos;
    case ValueType::kSS:
      return in_set(ValueType::kS);
    case ValueType::kNS:
      return in_set(ValueType::kN);
    case ValueType::kBS:
      return in_set(ValueType::kB);
    case ValueType::kL: {
      const AttributeList& list = haystack.list();
      return std::find(list.begin(), list.end(), needle) != list.end();
    }
    default:
      return false;
  }
}

bool EvaluateFunction(const Operand& call, const Item& item) {
  const std::string& name = call.token;
  OperandValue first;
  EvaluateOperand(call.args[0], item, &first);
  if (name == "attribute_exists") return first.value != nullptr;
  if (name == "attribute_not_exists") return first.value == nullptr;
  if (first.value == nullptr) return false;
  OperandValue second;
  EvaluateOperand(call.args[1], item, &second);
  if (second.value == nullptr) return false;
  const AttributeValue& a = *first.value;
  const AttributeValue& b = *second.value;
  if (name == "attribute_type") {
    return b.type() == ValueType::kS && ValueTypeName(a.type()) == b.scalar();
  }
  if (name == "begins_with") {
    if (a.type() != b.type()) return false;
    if (a.type() != ValueType::kS && a.type() != ValueType::kB) return false;
    return a.scalar().compare(0, b.scalar().size(), b.scalar()) == 0 &&
           a.scalar().size() >= b.scalar().size();
  }
  if (name == "contains") return Contains(a, b);
  return false;
}

bool EvaluateNode(const CondNode& node, const Item& item) {
  switch (node.kind) {
    case CondNode::Kind::kAnd:
      return EvaluateNode(*node.left, item) && EvaluateNode(*node.right, item);
    case CondNode::Kind::kOr:
      return EvaluateNode(*node.left, item) || EvaluateNode(*node.right, item);
    case CondNode::Kind::kNot:
      return !EvaluateNode(*node.left, item);
    case CondNode::Kind::kCompare: {
      OperandValue a;
      OperandValue b;
      EvaluateOperand(node.operands[0], item, &a);
      EvaluateOperand(node.operands[1], item, &b);
      bool both = a.value != nullptr && b.value != nullptr;
      if (node.op == CompareOp::kEq) return both && *a.value == *b.value;
      if (node.op == CompareOp::kNe) return !(both && *a.value == *b.value);
      if (!both) return false;
      std::optional<int> order = CompareScalars(*a.value, *b.value);
      if (!order) return false;
      switch (node.op) {
        case CompareOp::kLt:
          return *order < 0;
        case CompareOp::kLe:
          return *order <= 0;
        case CompareOp::kGt:
          return *order > 0;
        case CompareOp::kGe:
          return *order >= 0;
        default:
          return false;
      }
    }
    case CondNode::Kind::kBetween: {
      OperandValue value;
      OperandValue lower;
      OperandValue upper;
      EvaluateOperand(node.operands[0], item, &value);
      EvaluateOperand(node.operands[1], item, &lower);
      EvaluateOperand(node.operands[2], item, &upper);
      if (!value.value || !lower.value || !upper.value) return false;
      std::optional<int> above = CompareScalars(*lower.value, *value.value);
      std::optional<int> below = CompareScalars(*value.value, *upper.value);
      return above && below && *above <= 0 && *below <= 0;
    }
    case CondNode::Kind::kIn: {
      OperandValue value;
      EvaluateOperand(node.operands[0], item, &value);
      if (value.value == nullptr) return false;
      for (size_t i = 1; i < node.operands.size(); ++i) {
        OperandValue candidate;
        EvaluateOperand(node.operands[i], item, &candidate);
        if (candidate.value != nullptr && *candidate.value == *value.value) {
          return true;
        }
      }
      return false;
    }
    case CondNode::Kind::kFunction:
      return EvaluateFunction(node.operands[0], item);
  }
  return false;
}

class ConditionImpl final : public Condition {
 public:
  explicit ConditionImpl(std::unique_ptr<CondNode> root)
      : root_(std::move(root)) {
    CollectPaths(*root_);
  }

  bool Evaluate(const Item& item) const override {
    return EvaluateNode(*root_, item);
  }

  const std::vector<Path>& paths() const override { return paths_; }

 private:
  void CollectOperand(const Operand& operand) {
    if (operand.kind == Operand::Kind::kPath) paths_.push_back(operand.path);
    for (const Operand& arg : operand.args) CollectOperand(arg);
  }
  void CollectPaths(const CondNode& node) {
    for (const Operand& operand : node.operands) CollectOperand(operand);
    if (node.left) CollectPaths(*node.left);
    if (node.right) CollectPaths(*node.right);
  }

  std::unique_ptr<CondNode> root_;
  std::vector<Path> paths_;
};

}  // namespace

std::optional<int> CompareScalars(const AttributeValue& a,
                                  const AttributeValue& b) {
  if (a.type() != b.type()) return std::nullopt;
  switch (a.type()) {
    case ValueType::kS:
    case ValueType::kB: {
      // std::string compares as unsigned bytes, as DynamoDB orders S and B.
      int order = a.scalar().compare(b.scalar());
      return order < 0 ? -1 : (order > 0 ? 1 : 0);
    }
    case ValueType::kN:
      return a.AsNumber().Compare(b.AsNumber());
    default:
      return std::nullopt;
  }
}

Result<std::unique_ptr<CondNode>> ParseConditionTree(
    std::string_view text, std::string_view kind, ExpressionContext* context) {
  EDDY_RETURN_IF_ERROR(CheckExpressionText(text, kind));
  Parser parser(text, kind);
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<CondNode> root,
                        parser.ParseCondition());
  ConditionBinder binder(kind, context);
  if (parser.redundant_parens()) {
    binder.errors().Add(ErrorClass::kParens,
                        InvalidExpressionText(
                            kind, "The expression has redundant parentheses;"));
  }
  binder.BindNode(root.get());
  EDDY_RETURN_IF_ERROR(
      binder.errors().First({ErrorClass::kParens, ErrorClass::kUnknownFunction,
                             ErrorClass::kMisusedFunction,
                             ErrorClass::kReserved, ErrorClass::kFunction}));
  return root;
}

}  // namespace expr

std::optional<int> CompareValues(const AttributeValue& a,
                                 const AttributeValue& b) {
  return expr::CompareScalars(a, b);
}

bool ContainsValue(const AttributeValue& haystack,
                   const AttributeValue& needle) {
  return expr::Contains(haystack, needle);
}

Result<std::unique_ptr<Condition>> Condition::Parse(
    std::string_view text, std::string_view kind, ExpressionContext* context) {
  ExpressionContext no_substitutions(nullptr, nullptr);
  if (context == nullptr) context = &no_substitutions;
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<expr::CondNode> root,
                        expr::ParseConditionTree(text, kind, context));
  return std::unique_ptr<Condition>(
      std::make_unique<expr::ConditionImpl>(std::move(root)));
}

}  // namespace eddy::store
