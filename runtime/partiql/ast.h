// Syntax trees of DynamoDB's PartiQL statements (parser.h builds them).
//
// Literals are already DynamoDB values (store::AttributeValue): PartiQL's
// strings, numbers, booleans, null, lists [..], tuples {..} and bags <<..>>
// map one to one onto S, N, BOOL, NULL, L, M and SS/NS. Parameters (`?`)
// stay placeholders until BindParameters (plan.h) replaces them with the
// request's values.
//
// Thread-safety: value types.
#ifndef EDDY_RUNTIME_PARTIQL_AST_H_
#define EDDY_RUNTIME_PARTIQL_AST_H_

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "eddy/store/attribute_value.h"
#include "eddy/store/expression.h"

namespace eddy::runtime::partiql {

enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe };

// One node of a WHERE condition or of a SET value.
struct Expr {
  enum class Kind {
    kValue,       // A literal (or a bound parameter): `value`.
    kParameter,   // `?`, the `parameter`-th (0-based) of the statement.
    kPath,        // A document path: `path`.
    kCall,        // `name`(args...); name in lower case.
    kCompare,     // args[0] `op` args[1].
    kBetween,     // args[0] BETWEEN args[1] AND args[2].
    kIn,          // args[0] IN [args[1], ...].
    kIs,          // args[0] IS [NOT] `name` (MISSING, NULL, STRING, ...).
    kAnd,         // args[0] AND args[1].
    kOr,          // args[0] OR args[1].
    kNot,         // NOT args[0].
    kArithmetic,  // args[0] + args[1], or - with `subtract`.
  };
  Kind kind = Kind::kValue;
  store::AttributeValue value;
  size_t parameter = 0;
  store::Path path;
  std::string name;
  CompareOp op = CompareOp::kEq;
  bool negated = false;   // kIs: IS NOT.
  bool subtract = false;  // kArithmetic.
  std::vector<Expr> args;
  // kCall: where its first argument starts (" at <line>:<column>:<length>"),
  // for the messages that point there.
  std::string position;

  static Expr Value(store::AttributeValue v) {
    Expr e;
    e.kind = Kind::kValue;
    e.value = std::move(v);
    return e;
  }
  static Expr Path(store::Path p) {
    Expr e;
    e.kind = Kind::kPath;
    e.path = std::move(p);
    return e;
  }
  static Expr Node(Kind kind, std::vector<Expr> args) {
    Expr e;
    e.kind = kind;
    e.args = std::move(args);
    return e;
  }
};

enum class StatementKind { kSelect, kInsert, kUpdate, kDelete, kExists };

// RETURNING (ALL | MODIFIED) (OLD | NEW) *.
enum class Returning { kNone, kAllOld, kModifiedOld, kAllNew, kModifiedNew };

// One SET or REMOVE of an UPDATE.
struct UpdateAction {
  bool remove = false;
  store::Path target;
  Expr value;  // SET only.
};

// One ORDER BY key.
struct OrderKey {
  std::string attribute;
  bool descending = false;
};

struct Statement {
  StatementKind kind = StatementKind::kSelect;
  std::string table;
  // SELECT and EXISTS: FROM "table"."index".
  std::optional<std::string> index;
  // SELECT: `*`, or the projected paths.
  bool select_all = false;
  std::vector<store::Path> projection;
  // SELECT, UPDATE, DELETE, EXISTS.
  std::optional<Expr> where;
  std::vector<OrderKey> order_by;
  // INSERT: the attributes of VALUE {...}, each a kValue or kParameter.
  std::vector<std::pair<std::string, Expr>> item;
  // UPDATE.
  std::vector<UpdateAction> actions;
  Returning returning = Returning::kNone;
  // How many `?` the statement has.
  size_t parameter_count = 0;

  bool is_read() const { return kind == StatementKind::kSelect; }
};

}  // namespace eddy::runtime::partiql

#endif  // EDDY_RUNTIME_PARTIQL_AST_H_
