// From a parsed PartiQL statement to the store's operations: parameter
// binding, the key a write names, how a SELECT reads (Query of some
// partitions or Scan), its projection, and the store expressions
// (store::Condition, store::Update) equivalent to a WHERE and to SET/REMOVE.
//
// Conditions and updates are not evaluated here: they are rendered as the
// text of a ConditionExpression / UpdateExpression with generated
// #names and :values and parsed by the store's expression parser, so that
// PartiQL and the classic API share one evaluator (and its checks and
// messages). The store's "Invalid ConditionExpression: " prefix is dropped
// from messages, as DynamoDB's PartiQL does.
//
// Errors are InvalidArgument with DynamoDB's messages.
//
// Thread-safety: free functions and a builder owned by one request.
#ifndef EDDY_RUNTIME_PARTIQL_PLAN_H_
#define EDDY_RUNTIME_PARTIQL_PLAN_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eddy/result.h"
#include "eddy/store/attribute_value.h"
#include "eddy/store/expression.h"
#include "eddy/store/table_schema.h"
#include "partiql/ast.h"

namespace eddy::runtime::partiql {

// Replaces every `?` of `st` with its value from `parameters`: "Number of
// parameters in request and statement don't match." unless there are as
// many values as `?`.
Status BindParameters(const std::vector<store::AttributeValue>& parameters,
                      Statement* st);

// The key schema of a table or of one of its indexes.
struct KeySchema {
  store::KeyElement hash;
  std::optional<store::KeyElement> range;

  static KeySchema Of(const store::TableSchema& table);
  static KeySchema Of(const store::IndexSchema& index);
  bool IsKey(const std::string& name) const {
    return name == hash.name || (range && name == range->name);
  }
};

// How a WHERE must name its item.
enum class KeyMode {
  kWrite,   // UPDATE, DELETE: an equality on every key attribute.
  kExists,  // EXISTS: every key attribute, and some other condition.
  kGet,     // SELECT in a batch or transaction: the key and nothing else.
};

// A WHERE split into the item's key and the rest of the condition.
struct KeyMatch {
  store::Item key;
  std::optional<Expr> rest;  // What is left once the key equalities go.
};

// Finds the key equalities among the top-level ANDs of `where` (also
// inside parentheses), as DynamoDB does. kWrite errors: "Where clause does
// not contain a mandatory equality on all key attributes", "Multiple
// conditions on same key <k>. Only single item Update/Insert/Delete are
// supported"; kExists: "EXISTS() must contain a single item read with
// additional condition" (a repeated key equality stays in the rest, where
// it may fail the check); kGet: any mismatch is InvalidArgument "kGet" for
// the caller to word. Then the key's types: "Key value must be of type S,
// N, or B. Key name: <k>, Key type: <T>" and "Key attribute's data type
// should match its data type in table's schema: Key <k>".
Result<KeyMatch> MatchKey(const std::optional<Expr>& where,
                          const KeySchema& schema, KeyMode mode);

// How a SELECT reads: a Query of each partition in `partitions` when the
// WHERE pins the hash key (an equality, an IN, or an OR of branches that
// each pin it), else a Scan. The whole WHERE is always the filter.
struct ReadPlan {
  bool scan = true;
  // When !scan: the hash key values to query, in order (empty: nothing can
  // match).
  std::vector<store::AttributeValue> partitions;
  // A condition on the range key found among the top-level ANDs, to narrow
  // each partition's Query.
  std::optional<store::KeyCondition::SortCondition> sort;
  bool forward = true;  // ORDER BY <range key> DESC reads backwards.
};
// `keys` are the table's or the index's. Errors: "Overlapping conditions
// with range keys are not supported in where clause" (one hash key value
// twice), the key type error above for pinned hash values and range key
// conditions, and ORDER BY's ("Must have WHERE clause in the statement when
// using ORDER BY clause.", "Variable reference <k> in ORDER BY clause must
// be part of the primary key", ...).
Result<ReadPlan> PlanRead(const Statement& st, const KeySchema& keys);

// The hash key values `st` touches, for dynamodb:LeadingKeys; nullopt when
// unbounded (a Scan) or unknown. REQUIRES: parameters bound.
std::optional<std::vector<store::AttributeValue>> LeadingKeyValues(
    const Statement& st, const std::string& hash_key);

// The top-level attribute names `st` reads or writes (its paths and, for
// INSERT, its item's attributes), for dynamodb:Attributes; nullopt when
// unbounded (SELECT *).
std::optional<std::vector<std::string>> AttributeNames(const Statement& st);

// SELECT's projection checks ("Duplicate identifiers in select clause:
// <name>").
Status CheckProjection(const Statement& st);
// The row SELECT returns for `item`: the whole item for `*`, else each
// projected path's value under the path's last name (with its trailing
// list indexes, "l[0]"), when the item has it.
store::Item Project(const Statement& st, const store::Item& item);

// Builds store expressions from PartiQL conditions and update actions.
// Names and values are shared by everything one builder renders.
class ExpressionBuilder {
 public:
  // `where` as a store condition.
  Result<std::unique_ptr<store::Condition>> Condition(const Expr& where);
  // attribute_exists(<attribute>) [AND (rest)], or with `exists` false,
  // attribute_not_exists(<attribute>) [OR (rest)].
  Result<std::unique_ptr<store::Condition>> Guarded(
      const std::string& attribute, bool exists,
      const std::optional<Expr>& rest);
  // The SET and REMOVE actions of an UPDATE (set_add / set_delete become
  // ADD / DELETE).
  Result<std::unique_ptr<store::Update>> Update(
      const std::vector<UpdateAction>& actions);

 private:
  Status AppendCondition(const Expr& e, std::string* out);
  Status AppendOperand(const Expr& e, bool in_update, std::string* out);
  void AppendPath(const store::Path& path, std::string* out);
  std::string ValueRef(const store::AttributeValue& value);
  Result<std::unique_ptr<store::Condition>> ParseCondition(
      const std::string& text);

  std::map<std::string, std::string> names_;  // "#n0" -> name.
  std::map<std::string, std::string> refs_;   // name -> "#n0".
  store::AttributeMap values_;                // ":v0" -> value.
};

}  // namespace eddy::runtime::partiql

#endif  // EDDY_RUNTIME_PARTIQL_PLAN_H_
