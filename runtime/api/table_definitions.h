// The parts of a table definition that CreateTable and UpdateTable read
// (attribute definitions, key schemas, provisioned throughput, secondary
// indexes: CreateTable's LocalSecondaryIndexes / GlobalSecondaryIndexes and
// UpdateTable's GlobalSecondaryIndexUpdates), with DynamoDB's validations and
// messages, and the indexes of a TableDescription. Used by table_ops.cc.
#ifndef EDDY_RUNTIME_API_TABLE_DEFINITIONS_H_
#define EDDY_RUNTIME_API_TABLE_DEFINITIONS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/operations.h"
#include "eddy/store/table_schema.h"

namespace eddy::runtime::api {

// The prefix of DynamoDB's messages about invalid parameter values.
inline constexpr char kInvalidParameters[] =
    "One or more parameter values were invalid: ";

// An AttributeType: "S", "N" or "B"; false for anything else.
bool ParseAttributeType(const std::string& text, store::ValueType* type);

// ProvisionedThroughput {ReadCapacityUnits, WriteCapacityUnits}.
// `path` names it in constraint errors ("provisionedThroughput",
// "globalSecondaryIndexes.1.member.provisionedThroughput").
ApiStatus ReadThroughput(const rapidjson::Value& json, int64_t* rcu,
                         int64_t* wcu, ConstraintErrors* errors,
                         const std::string& path = "provisionedThroughput");

// KeySchema [{AttributeName, KeyType}] at `path` ("keySchema",
// "globalSecondaryIndexes.1.member.keySchema", ...).
ApiStatus ReadKeySchema(const rapidjson::Value* keys, const std::string& path,
                        ConstraintErrors* errors,
                        std::vector<std::pair<std::string, std::string>>* out);

// AttributeDefinitions [{AttributeName, AttributeType}]: *types by name,
// *list in request order.
ApiStatus ReadAttributeDefinitions(
    const rapidjson::Value& defs, ConstraintErrors* errors,
    std::map<std::string, store::ValueType>* types,
    std::vector<store::AttributeDefinition>* list);

// An index definition as the request spells it (CreateTable's
// LocalSecondaryIndexes / GlobalSecondaryIndexes, UpdateTable's Create),
// before the checks that relate it to the table.
struct IndexRequest {
  std::string name;
  std::vector<std::pair<std::string, std::string>> keys;  // (name, KeyType)
  std::optional<std::string> projection_type;
  std::optional<std::vector<std::string>> non_key_attributes;
  bool has_throughput = false;
  int64_t rcu = 0;
  int64_t wcu = 0;
};

// A list member (LocalSecondaryIndexes, GlobalSecondaryIndexes) of
// CreateTable; *present is whether the request has it at all.
ApiStatus ReadIndexList(const Params& params, const char* member,
                        const std::string& path, bool global,
                        ConstraintErrors* errors, bool* present,
                        std::vector<IndexRequest>* out);

// CreateTable with indexes: every key attribute (table and indexes) is
// defined, and every definition is some key's.
ApiStatus CheckIndexDefinitions(
    const std::vector<std::pair<std::string, std::string>>& table_keys,
    const std::vector<IndexRequest>& local,
    const std::vector<IndexRequest>& global,
    const std::vector<store::AttributeDefinition>& definitions);

// CreateTable: checks LocalSecondaryIndexes and GlobalSecondaryIndexes
// against the table and each other, in DynamoDB's order, and fills the
// schema's index lists. REQUIRES: the table's key schema and
// AttributeDefinitions passed their checks.
ApiStatus CheckCreateIndexes(
    const std::vector<IndexRequest>& local, bool local_present,
    const std::vector<IndexRequest>& global, bool global_present,
    const std::map<std::string, store::ValueType>& types,
    store::TableSchema* schema);

// One element of UpdateTable's GlobalSecondaryIndexUpdates.
struct IndexUpdateRequest {
  store::GlobalIndexUpdate::Kind kind = store::GlobalIndexUpdate::Kind::kCreate;
  // kCreate: the whole definition; kUpdate: name and throughput; kDelete:
  // name.
  IndexRequest index;
};

// GlobalSecondaryIndexUpdates [{Create | Update | Delete}]. An element with
// no action or several is not a constraint error: its message goes to
// *structural (the first such element's), reported after the constraints.
ApiStatus ReadGlobalIndexUpdates(const rapidjson::Value& list,
                                 ConstraintErrors* errors,
                                 std::vector<IndexUpdateRequest>* out,
                                 std::string* structural);

// UpdateTable's GlobalSecondaryIndexUpdates: the checks that need no table,
// in DynamoDB's order. `defs` is the request's AttributeDefinitions (null
// when absent).
ApiStatus CheckIndexUpdatesShape(
    const std::vector<IndexUpdateRequest>& updates, bool table_throughput,
    bool stream, bool protection, const rapidjson::Value* defs,
    const std::map<std::string, store::ValueType>& types,
    const std::vector<store::AttributeDefinition>& def_list);

// UpdateTable's GlobalSecondaryIndexUpdates against the table as it is now
// (`mode`: its billing mode after the update; `billing_switch`: the request
// changes it): fills update->global_indexes, and for a Create
// update->attribute_definitions (those of the keys in use afterwards).
ApiStatus ResolveIndexUpdates(
    const std::vector<IndexUpdateRequest>& updates, const store::TableInfo& now,
    store::BillingMode mode, bool billing_switch,
    const std::map<std::string, store::ValueType>& types,
    store::TableUpdate* update);

// "KeySchema":[{AttributeName, KeyType HASH}, {.., RANGE}].
void WriteKeySchema(const store::KeyElement& hash,
                    const std::optional<store::KeyElement>& range,
                    JsonWriter* w);

// LocalSecondaryIndexes / GlobalSecondaryIndexes of a TableDescription.
// NonKeyAttributes come back sorted by name, as DynamoDB returns them; a
// PAY_PER_REQUEST table's GSIs report a throughput of 0/0.
void WriteIndexes(const OperationContext& ctx, const store::TableInfo& info,
                  JsonWriter* w);

}  // namespace eddy::runtime::api

#endif  // EDDY_RUNTIME_API_TABLE_DEFINITIONS_H_
