// What ExecuteStatement (partiql_ops.cc), BatchExecuteStatement and
// ExecuteTransaction (partiql_batch_ops.cc) share: reading a statement and
// its parameters from a request, and running one INSERT, UPDATE or DELETE
// through the store's single-item writes (Table::Put / UpdateItem / Delete),
// so that PartiQL writes produce the same stream records as PutItem,
// UpdateItem and DeleteItem.
//
// Private to runtime/api.
#ifndef EDDY_RUNTIME_API_PARTIQL_SUPPORT_H_
#define EDDY_RUNTIME_API_PARTIQL_SUPPORT_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/operations.h"
#include "partiql/ast.h"

namespace eddy::runtime::api {

// One statement as a request (or a member of Statements / TransactStatements)
// gives it.
struct StatementInput {
  std::optional<std::string> text;  // Statement (required).
  std::vector<store::AttributeValue> parameters;
  const rapidjson::Value* parameters_json = nullptr;  // For fingerprints.
};

// Reads Statement and Parameters of `params`. Constraint violations go to
// `errors`, named `<path>statement` / `<path>parameters` (path is "" or
// "statements.1.member."); malformed parameter values are their own errors.
ApiStatus ReadStatementInput(const Params& params, const std::string& path,
                             ConstraintErrors* errors, StatementInput* out);

// Adds DynamoDB's enum constraint error unless `value` is absent or one of
// `allowed` (listed in DynamoDB's order in the message).
ApiStatus ReadEnum(const Params& params, const char* member,
                   const std::string& path,
                   std::initializer_list<const char*> allowed,
                   ConstraintErrors* errors, std::optional<std::string>* out);

// Parses the statement and binds its parameters.
ApiStatus PrepareStatement(const StatementInput& input,
                           partiql::Statement* out);

// The outcome of one INSERT, UPDATE or DELETE.
struct PartiqlWrite {
  // The store applied (or refused on a condition) the write: the statement
  // reached its table.
  bool executed = false;
  // What RETURNING asks for, when it is not empty.
  std::optional<store::Item> row;
  Capacity capacity;
};

// Runs an INSERT, UPDATE or DELETE. A failed condition is
// ConditionalCheckFailedException ("The conditional request failed", with
// the item when `return_old_on_failure`); an INSERT of an existing key is
// DuplicateItemException ("Duplicate primary key exists in table").
ApiStatus ExecutePartiqlWrite(const OperationContext& ctx,
                              const partiql::Statement& st,
                              bool return_old_on_failure, PartiqlWrite* out);

// The store items of an INSERT's VALUE. REQUIRES: parameters bound.
store::Item InsertItem(const partiql::Statement& st);

// "PartiQLSelect", ... for a statement kind (IAM's action names).
std::string_view PartiqlAction(partiql::StatementKind kind);

// BatchStatementError's Code for an API error ("ValidationError",
// "ConditionalCheckFailed", "ResourceNotFound", "DuplicateItem", ...).
std::string BatchErrorCode(const ApiError& error);

// The JSON text of `value` (for request fingerprints).
std::string JsonText(const rapidjson::Value& value);

}  // namespace eddy::runtime::api

#endif  // EDDY_RUNTIME_API_PARTIQL_SUPPORT_H_
