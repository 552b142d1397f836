// The DynamoDB operations: each reads its request object, calls the store
// and writes the response object. Shared by the API handler only.
#ifndef EDDY_RUNTIME_API_OPERATIONS_H_
#define EDDY_RUNTIME_API_OPERATIONS_H_

#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api/errors.h"
#include "api/json_codec.h"
#include "eddy/store/database.h"
#include "eddy/store/expression.h"

namespace eddy::runtime::dispatcher {
class Dispatcher;
}

namespace eddy::runtime::api {

// Identity of this endpoint, used in ARNs.
struct EndpointConfig {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  // The point-in-time recovery window (--pitr-retention), in whole days as
  // DescribeContinuousBackups' RecoveryPeriodInDays reports it.
  int64_t pitr_retention_days = 35;
};

class TransactionTokens;
class DataTransfer;
class CapacityLimiter;

struct OperationContext {
  store::Database* db;
  const EndpointConfig* config;
  // Null when the server runs without triggers.
  dispatcher::Dispatcher* dispatcher = nullptr;
  // TransactWriteItems' ClientRequestToken idempotency (null: tokens are
  // not remembered).
  TransactionTokens* transaction_tokens = nullptr;
  // The request's Host header ("" when absent), for DescribeEndpoints.
  std::string_view host;
  // The size of the request's body: no item in it can be larger (an item's
  // size never exceeds its JSON's), which spares measuring small items.
  size_t request_bytes = SIZE_MAX;
  // Provisioned capacity when the server enforces it (--enforce-capacity);
  // null otherwise (capacity.h). Operations report what they consume with
  // ReportConsumed; batch operations admit each item with AdmitCapacity.
  CapacityLimiter* capacity = nullptr;
  // Exports and imports (null: refused as not enabled).
  DataTransfer* transfer = nullptr;
};

// Every operation has this shape. `request` is the parsed body (an object);
// on success the response object has been written to *out.
using Operation = ApiStatus (*)(const OperationContext& ctx,
                                const rapidjson::Value& request,
                                JsonWriter* out);

ApiStatus CreateTable(const OperationContext&, const rapidjson::Value&,
                      JsonWriter*);
ApiStatus DescribeTable(const OperationContext&, const rapidjson::Value&,
                        JsonWriter*);
ApiStatus DeleteTable(const OperationContext&, const rapidjson::Value&,
                      JsonWriter*);
ApiStatus UpdateTable(const OperationContext&, const rapidjson::Value&,
                      JsonWriter*);
ApiStatus ListTables(const OperationContext&, const rapidjson::Value&,
                     JsonWriter*);
ApiStatus PutItem(const OperationContext&, const rapidjson::Value&,
                  JsonWriter*);
ApiStatus GetItem(const OperationContext&, const rapidjson::Value&,
                  JsonWriter*);
ApiStatus DeleteItem(const OperationContext&, const rapidjson::Value&,
                     JsonWriter*);
ApiStatus UpdateItem(const OperationContext&, const rapidjson::Value&,
                     JsonWriter*);
ApiStatus Query(const OperationContext&, const rapidjson::Value&, JsonWriter*);
ApiStatus Scan(const OperationContext&, const rapidjson::Value&, JsonWriter*);
ApiStatus BatchWriteItem(const OperationContext&, const rapidjson::Value&,
                         JsonWriter*);
ApiStatus BatchGetItem(const OperationContext&, const rapidjson::Value&,
                       JsonWriter*);
ApiStatus TransactWriteItems(const OperationContext&, const rapidjson::Value&,
                             JsonWriter*);
ApiStatus TransactGetItems(const OperationContext&, const rapidjson::Value&,
                           JsonWriter*);
// PartiQL (partiql_ops.cc, partiql_batch_ops.cc).
ApiStatus ExecuteStatement(const OperationContext&, const rapidjson::Value&,
                           JsonWriter*);
ApiStatus BatchExecuteStatement(const OperationContext&,
                                const rapidjson::Value&, JsonWriter*);
ApiStatus ExecuteTransaction(const OperationContext&, const rapidjson::Value&,
                             JsonWriter*);

// Time to Live (ttl_ops.cc).
ApiStatus UpdateTimeToLive(const OperationContext&, const rapidjson::Value&,
                           JsonWriter*);
ApiStatus DescribeTimeToLive(const OperationContext&, const rapidjson::Value&,
                             JsonWriter*);
// Tags (tag_ops.cc).
ApiStatus TagResource(const OperationContext&, const rapidjson::Value&,
                      JsonWriter*);
ApiStatus UntagResource(const OperationContext&, const rapidjson::Value&,
                        JsonWriter*);
ApiStatus ListTagsOfResource(const OperationContext&, const rapidjson::Value&,
                             JsonWriter*);
// Account-level answers (account_ops.cc).
ApiStatus DescribeLimits(const OperationContext&, const rapidjson::Value&,
                         JsonWriter*);
ApiStatus DescribeEndpoints(const OperationContext&, const rapidjson::Value&,
                            JsonWriter*);

// Exports (transfer_ops.cc).
ApiStatus ExportTableToPointInTime(const OperationContext&,
                                   const rapidjson::Value&, JsonWriter*);
ApiStatus DescribeExport(const OperationContext&, const rapidjson::Value&,
                         JsonWriter*);
ApiStatus ListExports(const OperationContext&, const rapidjson::Value&,
                      JsonWriter*);
ApiStatus ImportTable(const OperationContext&, const rapidjson::Value&,
                      JsonWriter*);
ApiStatus DescribeImport(const OperationContext&, const rapidjson::Value&,
                         JsonWriter*);
ApiStatus ListImports(const OperationContext&, const rapidjson::Value&,
                      JsonWriter*);
// The admin API's whole-server snapshots (transfer_ops.cc, `eddy
// snapshot`): CreateSnapshot {Directory} and DescribeSnapshot {SnapshotId}
// -> {Snapshot: {SnapshotId, Directory, Status, StartTime, EndTime,
// FilesTotal, FilesCopied, BytesTotal, BytesCopied, FailureMessage}}.
ApiStatus CreateSnapshot(const OperationContext&, const rapidjson::Value&,
                         JsonWriter*);
ApiStatus DescribeSnapshot(const OperationContext&, const rapidjson::Value&,
                           JsonWriter*);
// Backups and point-in-time recovery (backup_ops.cc).
ApiStatus CreateBackup(const OperationContext&, const rapidjson::Value&,
                       JsonWriter*);
ApiStatus DescribeBackup(const OperationContext&, const rapidjson::Value&,
                         JsonWriter*);
ApiStatus ListBackups(const OperationContext&, const rapidjson::Value&,
                      JsonWriter*);
ApiStatus DeleteBackup(const OperationContext&, const rapidjson::Value&,
                       JsonWriter*);
ApiStatus RestoreTableFromBackup(const OperationContext&,
                                 const rapidjson::Value&, JsonWriter*);
ApiStatus UpdateContinuousBackups(const OperationContext&,
                                  const rapidjson::Value&, JsonWriter*);
ApiStatus DescribeContinuousBackups(const OperationContext&,
                                    const rapidjson::Value&, JsonWriter*);
ApiStatus RestoreTableToPointInTime(const OperationContext&,
                                    const rapidjson::Value&, JsonWriter*);

// DynamoDB Streams (target prefix DynamoDBStreams_20120810).
ApiStatus ListStreams(const OperationContext&, const rapidjson::Value&,
                      JsonWriter*);
ApiStatus DescribeStream(const OperationContext&, const rapidjson::Value&,
                         JsonWriter*);
ApiStatus GetShardIterator(const OperationContext&, const rapidjson::Value&,
                           JsonWriter*);
ApiStatus GetRecords(const OperationContext&, const rapidjson::Value&,
                     JsonWriter*);
// The stream ARN a shard iterator reads ("" when it is malformed), for
// authorizing GetRecords.
std::string IteratorStreamArn(const std::string& iterator);

// The admin API for triggers (target prefix EddyAdmin_20261126; see
// admin_ops.cc).
ApiStatus CreateTrigger(const OperationContext&, const rapidjson::Value&,
                        JsonWriter*);
ApiStatus UpdateTrigger(const OperationContext&, const rapidjson::Value&,
                        JsonWriter*);
ApiStatus DeleteTrigger(const OperationContext&, const rapidjson::Value&,
                        JsonWriter*);
ApiStatus ListTriggers(const OperationContext&, const rapidjson::Value&,
                       JsonWriter*);
ApiStatus GetTriggerStatus(const OperationContext&, const rapidjson::Value&,
                           JsonWriter*);
ApiStatus WaitForTriggers(const OperationContext&, const rapidjson::Value&,
                          JsonWriter*);
ApiStatus ReplayTrigger(const OperationContext&, const rapidjson::Value&,
                        JsonWriter*);
// Deletes expired items now (ttl_ops.cc):
//   SweepExpiredItems {TableName?} -> {DeletedItemCount, TableNames}
// where TableNames are the tables swept (those with TTL enabled).
ApiStatus SweepExpiredItems(const OperationContext&, const rapidjson::Value&,
                            JsonWriter*);

// Helpers shared by the operation files.

// arn:aws:dynamodb:<region>:<account>:table/<table>[/stream/<label>]
std::string TableArn(const EndpointConfig& config, const std::string& table);
std::string StreamArn(const EndpointConfig& config, const std::string& table,
                      const std::string& label);
// arn:aws:dynamodb:<region>:<account>:table/<table>/backup/<id>
std::string BackupArn(const EndpointConfig& config, const std::string& table,
                      const std::string& id);
// A TableDescription object (DescribeTable's Table, CreateTable's and the
// restores' TableDescription), with RestoreSummary for a restored table.
void WriteTableDescription(const OperationContext& ctx,
                           const store::TableInfo& info, JsonWriter* w);

// Reads and validates TableName (required; 3..255 chars of [a-zA-Z0-9_.-]).
ApiStatus ReadTableName(const Params& params, std::string* name);
// CreateTable's request (TableName, KeySchema, AttributeDefinitions,
// BillingMode, throughput, indexes, stream, ...) as a table schema, with
// CreateTable's checks and errors (also ImportTable's
// TableCreationParameters).
ApiStatus ReadCreateTableSchema(const Params& params, store::TableSchema* out);
// Reads TableName that the operation's RequestSchema has already validated.
ApiStatus ReadCheckedTableName(const Params& params, std::string* name);
// The same checks for a table name given elsewhere (batch request maps).
ApiStatus ValidateTableName(const std::string& name);
// Looks the table up; ResourceNotFoundException when missing.
ApiStatus FindTable(const OperationContext& ctx, const std::string& name,
                    std::shared_ptr<store::Table>* table);

// ExpressionAttributeNames / ExpressionAttributeValues of a request.
struct ExpressionInputs {
  std::optional<std::map<std::string, std::string>> names;
  std::optional<store::Item> values;
};
// Reads both maps; empty maps are DynamoDB's "must not be empty" errors.
// `used_expressions` says whether the request has any expression parameter
// (the maps are only allowed alongside one).
ApiStatus ReadExpressionInputs(const Params& params, bool used_expressions,
                               ExpressionInputs* out);

// The first of DynamoDB's semantic checks of a request with expressions,
// before any of its values is read: the legacy parameters and the
// expressions are not mixed ("Can not use both expression and
// non-expression parameters in the same request: ..."; KeyConditions only
// counts against a KeyConditionExpression), ExpressionAttributeNames come
// with an expression, and ExpressionAttributeValues with an expression that
// takes values ("ExpressionAttributeValues can only be specified when using
// expressions: FilterExpression and KeyConditionExpression are null").
// Both lists in DynamoDB's order.
ApiStatus CheckExpressionParams(
    const Params& params, std::initializer_list<std::string_view> expressions,
    std::initializer_list<std::string_view> legacy);

// The expression maps, as DynamoDB checks them once the request's own
// values are read: "ExpressionAttributeNames must not be empty", each name
// "#[0-9a-zA-Z_]+" ("ExpressionAttributeNames contains invalid key: Syntax
// error; key: \"a\""), then the same for the values (":...") and each
// value ("ExpressionAttributeValues contains invalid value: ... for key
// :v"). Without `with_values` (GetItem, BatchGetItem), the values are not
// read (they are not a member of those requests).
ApiStatus ReadExpressionMaps(const Params& params, ExpressionInputs* out,
                             bool with_values = true);

// "Invalid <name>: The expression can not be empty;" for an empty text.
ApiStatus CheckExpressionNotEmpty(const char* name,
                                  const std::optional<std::string>& text);

// Reads ExpressionAttributeNames/Values and parses the UpdateExpression and
// ConditionExpression texts (either may be absent) against them; unused
// names or values are errors, as in DynamoDB.
ApiStatus ParseWriteExpressions(
    const Params& params, const std::optional<std::string>& update_text,
    const std::optional<std::string>& condition_text, ExpressionInputs* inputs,
    std::unique_ptr<store::Update>* update,
    std::unique_ptr<store::Condition>* condition);

// An optional expression string (ConditionExpression, ...); an empty string
// is "Invalid <Name>: The expression can not be empty;".
ApiStatus ReadExpressionText(const Params& params, const char* name,
                             std::optional<std::string>* out);

// ReturnValuesOnConditionCheckFailure: *all_old is true for ALL_OLD.
ApiStatus ReadReturnOnFailure(const Params& params, bool* all_old);

// ReturnConsumedCapacity: NONE (default), TOTAL or INDEXES.
enum class CapacityMode { kNone, kTotal, kIndexes };
ApiStatus ReadCapacityMode(const Params& params, CapacityMode* mode);
// The capacity one request consumed on one table: the table's units and
// each secondary index's.
struct Capacity {
  double table = 0;
  std::map<std::string, double> global_indexes;
  std::map<std::string, double> local_indexes;
  double total() const;
  void Add(const Capacity& other);
};
// "ConsumedCapacity":{...} on `table` (INDEXES adds the breakdown).
void WriteConsumedCapacity(CapacityMode mode, const std::string& table,
                           const Capacity& capacity, bool write,
                           JsonWriter* out);
// The ConsumedCapacity object alone (an element of a batch's list).
// REQUIRES: mode != kNone.
void WriteCapacityObject(CapacityMode mode, const std::string& table,
                         const Capacity& capacity, bool write, JsonWriter* out);
// The same for units consumed on the table alone.
void WriteConsumedCapacity(CapacityMode mode, const std::string& table,
                           double units, bool write, JsonWriter* out);
// What one request consumed on `table`: exactly the units its
// ConsumedCapacity reports (whether or not the request asked for them).
// Every operation that consumes capacity reports it here, once per table
// (or per item of a batch, as it goes); with capacity enforced it is
// charged to the table's and its GSIs' buckets (capacity.h), and without,
// this costs one comparison.
void ChargeCapacity(CapacityLimiter* limiter, const std::string& table,
                    const Capacity& used, bool write);
inline void ReportConsumed(const OperationContext& ctx,
                           const std::string& table, const Capacity& used,
                           bool write) {
  if (ctx.capacity != nullptr) ChargeCapacity(ctx.capacity, table, used, write);
}
// The same for units consumed on the table alone.
inline void ReportConsumed(const OperationContext& ctx,
                           const std::string& table, double units, bool write) {
  if (ctx.capacity != nullptr) {
    ChargeCapacity(ctx.capacity, table, Capacity{units, {}, {}}, write);
  }
}
// Whether one more item of a batch may be read from (written to) `table`:
// OK, or ProvisionedThroughputExceededException when its capacity (or, for
// writes, a GSI's) is used up. Always OK without capacity enforced. Other
// operations are admitted by the request path before they run.
ApiStatus AdmitCapacityItem(CapacityLimiter* limiter, const std::string& table,
                            bool write);
inline ApiStatus AdmitCapacity(const OperationContext& ctx,
                               const std::string& table, bool write) {
  if (ctx.capacity == nullptr) return ApiStatus();
  return AdmitCapacityItem(ctx.capacity, table, write);
}

// A single-item write: the table's units from the larger of the old and
// new item, plus each index's entry writes (store::WriteOutcome).
Capacity WriteCapacity(const store::WriteOutcome& outcome);
// ReturnItemCollectionMetrics: *size is true for SIZE (NONE is the default).
ApiStatus ReadCollectionMetrics(const Params& params, bool* size);
// One ItemCollectionMetrics object ({ItemCollectionKey, SizeEstimateRangeGB})
// for the item collection `item`'s partition key names. DynamoDB reports
// them only for tables with a local secondary index.
ApiStatus WriteCollectionMetrics(store::Table& table, const store::Item& item,
                                 JsonWriter* out);

// BatchWriteItem's and TransactWriteItems' "ItemCollectionMetrics": for
// each written table with a local secondary index, one entry per item
// collection written. Nothing when there is none.
struct WrittenItem {
  std::string table_name;
  std::shared_ptr<store::Table> table;
  store::Item item;  // The item or its key.
};
ApiStatus WriteCollectionMetricsByTable(const std::vector<WrittenItem>& written,
                                        JsonWriter* out);

// DynamoDB's capacity units: writes round up to 1 KB, reads to 4 KB (half
// for eventually consistent reads).
double WriteUnits(size_t bytes);
double ReadUnits(size_t bytes, bool consistent);

// A Tags list ([{Key, Value}, ...]) with DynamoDB's tag rules (key 1-128
// characters, value 0-256, letters, digits, spaces and + - = . _ : / @, no
// "aws:" prefix, no duplicate keys). An empty list is accepted here
// (TagResource rejects it itself).
ApiStatus ReadTags(const rapidjson::Value& json,
                   std::map<std::string, std::string>* tags);

// Parameters later issues build; present -> a clear "not supported" error.
ApiStatus RejectUnsupported(const Params& params,
                            std::initializer_list<const char*> names);

}  // namespace eddy::runtime::api

#endif  // EDDY_RUNTIME_API_OPERATIONS_H_
