// KeyConditionExpression: a condition in the ConditionExpression grammar,
// restricted as DynamoDB restricts it and checked against the key schema:
//   partition = :v [AND sort-condition], either order, where the sort
//   condition is one of =, <, <=, >, >= :v, BETWEEN :a AND :b or
//   begins_with(sort, :v); a value may also stand on the left of the
//   comparator ("... AND :v < sort" means sort > :v).

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eddy/store/expression.h"
#include "expression/ast.h"
#include "expression/binder.h"
#include "expression/common.h"

namespace eddy::store {
namespace expr {

namespace {

constexpr std::string_view kKind = "KeyConditionExpression";

Status KeyProblem(const std::string& message) {
  return Status::InvalidArgument(message);
}

Status InvalidOperator(std::string_view op) {
  return KeyProblem("Invalid operator used in KeyConditionExpression: " +
                    std::string(op));
}

// One comparison on one key attribute.
struct KeyPart {
  std::string attribute;
  KeyCondition::Op op = KeyCondition::Op::kEq;
  std::vector<const AttributeValue*> values;
};

// Collects the ANDed primitive conditions; anything else is refused.
Status Flatten(const CondNode& node, std::vector<const CondNode*>* parts) {
  switch (node.kind) {
    case CondNode::Kind::kAnd:
      EDDY_RETURN_IF_ERROR(Flatten(*node.left, parts));
      return Flatten(*node.right, parts);
    case CondNode::Kind::kOr:
      return InvalidOperator("OR");
    case CondNode::Kind::kNot:
      return InvalidOperator("NOT");
    case CondNode::Kind::kIn:
      return InvalidOperator("IN");
    case CondNode::Kind::kCompare:
      if (node.op == CompareOp::kNe) return InvalidOperator("<>");
      break;
    case CondNode::Kind::kFunction:
      if (node.operands[0].token != "begins_with") {
        return InvalidOperator(node.operands[0].token);
      }
      break;
    case CondNode::Kind::kBetween:
      break;
  }
  parts->push_back(&node);
  return Status::OK();
}

KeyCondition::Op Mirror(KeyCondition::Op op) {
  switch (op) {
    case KeyCondition::Op::kLt:
      return KeyCondition::Op::kGt;
    case KeyCondition::Op::kLe:
      return KeyCondition::Op::kGe;
    case KeyCondition::Op::kGt:
      return KeyCondition::Op::kLt;
    case KeyCondition::Op::kGe:
      return KeyCondition::Op::kLe;
    default:
      return op;
  }
}

KeyCondition::Op FromCompareOp(CompareOp op) {
  switch (op) {
    case CompareOp::kLt:
      return KeyCondition::Op::kLt;
    case CompareOp::kLe:
      return KeyCondition::Op::kLe;
    case CompareOp::kGt:
      return KeyCondition::Op::kGt;
    case CompareOp::kGe:
      return KeyCondition::Op::kGe;
    default:
      return KeyCondition::Op::kEq;
  }
}

// Turns one primitive condition into a KeyPart: a key path on one side,
// values on the other.
Result<KeyPart> ToKeyPart(const CondNode& node) {
  const std::vector<Operand>& operands = node.kind == CondNode::Kind::kFunction
                                             ? node.operands[0].args
                                             : node.operands;
  for (const Operand& op : operands) {
    if (op.kind == Operand::Kind::kFunction) {
      return KeyProblem(
          "KeyConditionExpressions cannot contain nested "
          "operations");
    }
  }
  KeyPart part;
  const Operand* key = nullptr;
  std::vector<const Operand*> values;
  switch (node.kind) {
    case CondNode::Kind::kCompare:
      part.op = FromCompareOp(node.op);
      if (operands[0].kind == Operand::Kind::kPath) {
        key = &operands[0];
        values.push_back(&operands[1]);
      } else {
        key = &operands[1];
        values.push_back(&operands[0]);
        part.op = Mirror(part.op);
      }
      break;
    case CondNode::Kind::kBetween:
      part.op = KeyCondition::Op::kBetween;
      key = &operands[0];
      values = {&operands[1], &operands[2]};
      break;
    default:  // begins_with
      part.op = KeyCondition::Op::kBeginsWith;
      key = &operands[0];
      values.push_back(&operands[1]);
      break;
  }
  if (key->kind != Operand::Kind::kPath) {
    return KeyProblem("Query key condition not supported");
  }
  for (const Operand* value : values) {
    if (value->kind != Operand::Kind::kValue) {
      return KeyProblem("Query key condition not supported");
    }
    part.values.push_back(&value->value);
  }
  if (key->path.size() != 1) {
    return KeyProblem(
        "KeyConditionExpressions cannot have conditions on "
        "nested attributes");
  }
  part.attribute = key->path[0].name;
  return part;
}

Status CheckKeyValue(const AttributeValue& value, std::string_view key) {
  ValueType type = value.type();
  if (type != ValueType::kS && type != ValueType::kN && type != ValueType::kB) {
    return KeyProblem(
        "One or more parameter values were invalid: Condition parameter type "
        "does not match schema type");
  }
  if (type != ValueType::kN && value.scalar().empty()) {
    return KeyProblem(
        "One or more parameter values are not valid. The AttributeValue for a "
        "key attribute cannot contain an empty " +
        std::string(type == ValueType::kS ? "string" : "binary") +
        " value. Key: " + std::string(key));
  }
  return Status::OK();
}

}  // namespace
}  // namespace expr

Result<KeyCondition> KeyCondition::Parse(std::string_view text,
                                         ExpressionContext* context,
                                         std::string_view hash_key,
                                         std::string_view range_key) {
  using expr::KeyPart;
  using expr::KeyProblem;
  ExpressionContext no_substitutions(nullptr, nullptr);
  if (context == nullptr) context = &no_substitutions;
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<expr::CondNode> root,
                        expr::ParseConditionTree(text, expr::kKind, context));

  std::vector<const expr::CondNode*> nodes;
  EDDY_RETURN_IF_ERROR(expr::Flatten(*root, &nodes));
  std::vector<KeyPart> parts;
  for (const expr::CondNode* node : nodes) {
    EDDY_ASSIGN_OR_RETURN(KeyPart part, expr::ToKeyPart(*node));
    parts.push_back(std::move(part));
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (parts[i].attribute == parts[j].attribute) {
        return KeyProblem(
            "KeyConditionExpressions must only contain one condition per key");
      }
    }
  }
  if (parts.size() > 2) {
    return KeyProblem("Conditions can be of length 1 or 2 only");
  }

  const KeyPart* hash = nullptr;
  const KeyPart* range = nullptr;
  for (const KeyPart& part : parts) {
    if (part.attribute == hash_key) {
      hash = &part;
    } else if (!range_key.empty() && part.attribute == range_key) {
      range = &part;
    }
  }
  if (hash == nullptr) {
    return KeyProblem("Query condition missed key schema element: " +
                      std::string(hash_key));
  }
  if (parts.size() == 2 && range == nullptr) {
    // DynamoDB expects the second condition to be on the sort key.
    if (range_key.empty())
      return KeyProblem("Query key condition not supported");
    return KeyProblem("Query condition missed key schema element: " +
                      std::string(range_key));
  }
  if (hash->op != Op::kEq) {
    return KeyProblem("Query key condition not supported");
  }

  KeyCondition result;
  EDDY_RETURN_IF_ERROR(expr::CheckKeyValue(*hash->values[0], hash_key));
  result.partition_value = *hash->values[0];
  if (range != nullptr) {
    SortCondition sort;
    sort.op = range->op;
    for (const AttributeValue* value : range->values) {
      EDDY_RETURN_IF_ERROR(expr::CheckKeyValue(*value, range_key));
    }
    sort.value = *range->values[0];
    if (range->values.size() > 1) sort.value2 = *range->values[1];
    result.sort = std::move(sort);
  }
  return result;
}

Status KeyCondition::CheckKeyTypes(ValueType hash_type,
                                   ValueType range_type) const {
  Status mismatch = Status::InvalidArgument(
      "One or more parameter values were invalid: Condition parameter type "
      "does not match schema type");
  if (partition_value.type() != hash_type) return mismatch;
  if (!sort) return Status::OK();
  if (sort->value.type() != range_type) return mismatch;
  if (sort->op == Op::kBetween && sort->value2.type() != range_type) {
    return mismatch;
  }
  if (sort->op == Op::kBeginsWith && range_type == ValueType::kN) {
    return expr::InvalidExpression(
        expr::kKind,
        "Incorrect operand type for operator or function; operator or "
        "function: begins_with, operand type: N");
  }
  return Status::OK();
}

bool KeyCondition::SortCondition::Matches(
    const AttributeValue& sort_value) const {
  std::optional<int> order = expr::CompareScalars(sort_value, value);
  if (!order) return false;
  switch (op) {
    case Op::kEq:
      return *order == 0;
    case Op::kLt:
      return *order < 0;
    case Op::kLe:
      return *order <= 0;
    case Op::kGt:
      return *order > 0;
    case Op::kGe:
      return *order >= 0;
    case Op::kBetween: {
      std::optional<int> upper = expr::CompareScalars(sort_value, value2);
      return *order >= 0 && upper && *upper <= 0;
    }
    case Op::kBeginsWith:
      if (sort_value.type() == ValueType::kN) return false;
      return sort_value.scalar().compare(0, value.scalar().size(),
                                         value.scalar()) == 0 &&
             sort_value.scalar().size() >= value.scalar().size();
  }
  return false;
}

}  // namespace eddy::store
