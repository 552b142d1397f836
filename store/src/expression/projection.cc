// ProjectionExpression: parsing and applying a projection to an item.
//
// Applying follows DynamoDB: each path keeps its place in the item's
// structure ("a.b" gives {a: {b: ...}}), paths that share a prefix merge
// into one map, list elements picked by index are compacted in index order
// ("l[3], l[1]" gives l: [old l[1], old l[3]]), and paths that lead
// nowhere are skipped.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "eddy/store/expression.h"
#include "expression/ast.h"
#include "expression/binder.h"
#include "expression/common.h"
#include "expression/parser.h"

namespace eddy::store {
namespace expr {

namespace {

constexpr std::string_view kKind = "ProjectionExpression";

// The projection's paths as a tree.
struct ProjectionNode {
  bool whole = false;  // A path ends here: take the whole value.
  std::map<std::string, ProjectionNode, std::less<>> keys;
  std::map<uint32_t, ProjectionNode> indexes;
};

void AddPath(ProjectionNode* root, const Path& path) {
  ProjectionNode* node = root;
  for (const PathElement& step : path) {
    node = step.is_index ? &node->indexes[step.index] : &node->keys[step.name];
  }
  node->whole = true;
}

std::optional<AttributeValue> Project(const AttributeValue& value,
                                      const ProjectionNode& node) {
  if (node.whole) return value;
  if (!node.keys.empty() && value.type() == ValueType::kM) {
    AttributeMap out;
    for (const auto& [key, child] : node.keys) {
      auto it = value.map().find(key);
      if (it == value.map().end()) continue;
      std::optional<AttributeValue> projected = Project(it->second, child);
      if (projected) out.emplace(key, std::move(*projected));
    }
    if (out.empty()) return std::nullopt;
    return AttributeValue::Map(std::move(out));
  }
  if (!node.indexes.empty() && value.type() == ValueType::kL) {
    AttributeList out;
    const AttributeList& list = value.list();
    for (const auto& [index, child] : node.indexes) {
      if (index >= list.size()) break;
      std::optional<AttributeValue> projected = Project(list[index], child);
      if (projected) out.push_back(std::move(*projected));
    }
    if (out.empty()) return std::nullopt;
    return AttributeValue::List(std::move(out));
  }
  return std::nullopt;
}

}  // namespace
}  // namespace expr

Result<Projection> Projection::Parse(std::string_view text,
                                     ExpressionContext* context) {
  ExpressionContext no_substitutions(nullptr, nullptr);
  if (context == nullptr) context = &no_substitutions;
  EDDY_RETURN_IF_ERROR(expr::CheckExpressionText(text, expr::kKind));
  expr::Parser parser(text, expr::kKind);
  EDDY_ASSIGN_OR_RETURN(std::vector<expr::Operand> operands,
                        parser.ParseProjection());
  expr::ErrorCollector errors;
  std::vector<Path> paths;
  paths.reserve(operands.size());
  for (expr::Operand& operand : operands) {
    expr::BindPath(&operand, expr::kKind, context, &errors,
                   expr::ErrorClass::kAttrName);
    paths.push_back(std::move(operand.path));
  }
  expr::OverlapResult overlaps = expr::FindOverlaps(paths);
  if (overlaps.overlap) {
    errors.Add(expr::ErrorClass::kOverlap,
               expr::InvalidExpressionText(expr::kKind, *overlaps.overlap));
  }
  if (overlaps.conflict) {
    errors.Add(expr::ErrorClass::kConflict,
               expr::InvalidExpressionText(expr::kKind, *overlaps.conflict));
  }
  EDDY_RETURN_IF_ERROR(
      errors.First({expr::ErrorClass::kReserved, expr::ErrorClass::kAttrName,
                    expr::ErrorClass::kOverlap, expr::ErrorClass::kConflict}));
  return Projection(std::move(paths));
}

Projection::Projection(std::vector<Path> paths) : paths_(std::move(paths)) {}

Item Projection::Apply(const Item& item) const {
  expr::ProjectionNode root;
  for (const Path& path : paths_) {
    if (!path.empty() && !path[0].is_index) expr::AddPath(&root, path);
  }
  Item out;
  for (const auto& [name, child] : root.keys) {
    auto it = item.find(name);
    if (it == item.end()) continue;
    std::optional<AttributeValue> projected = expr::Project(it->second, child);
    if (projected) out.emplace(name, std::move(*projected));
  }
  return out;
}

}  // namespace eddy::store
