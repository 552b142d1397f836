// What a request will do, for authorization: every (action, resource) it
// touches and, when a policy needs them, the values of DynamoDB's condition
// keys (dynamodb:LeadingKeys, dynamodb:Attributes, ...) for each.
//
// Operations only declare their AccessKind (api_handler.cc's table); the
// request path asks DescribeAccess for the entries and evaluates each
// against the caller's policy before the operation runs. Batch and
// transaction requests list one entry per table or per action inside them,
// so one forbidden table or item denies the whole request before anything
// is written.
//
// A request too malformed to describe (no TableName, ...) yields no entry
// for the malformed part and is left to the operation, which rejects it
// with DynamoDB's validation error; facts that cannot be read (a key that
// is not an attribute value, an expression that does not parse) become
// "every value" (ValueSet::Unbounded), which a condition never allows.
#ifndef EDDY_RUNTIME_API_ACCESS_H_
#define EDDY_RUNTIME_API_ACCESS_H_

#include <string>
#include <string_view>
#include <vector>

#include "api/operations.h"
#include "auth/policy.h"

namespace eddy::runtime::api {

enum class AccessKind : uint8_t {
  kOpen,           // No authorization (DescribeEndpoints).
  kAccount,        // Resource "*" (ListTables, DescribeLimits, ...).
  kTable,          // The table named by TableName.
  kTableOrAll,     // TableName's table, or "*" without one.
  kItem,           // GetItem, PutItem, UpdateItem, DeleteItem.
  kQueryScan,      // Query, Scan: the table or table/T/index/I.
  kBatchGet,       // BatchGetItem: each table of RequestItems.
  kBatchWrite,     // BatchWriteItem: each table of RequestItems.
  kTransactGet,    // TransactGetItems: dynamodb:GetItem per item.
  kTransactWrite,  // TransactWriteItems: PutItem/UpdateItem/... per item.
  kResourceArn,    // Tag operations: ResourceArn.
  kStream,         // DescribeStream, GetShardIterator: StreamArn.
  kShardIterator,  // GetRecords: the stream of ShardIterator.
  kTrigger,        // Trigger admin operations: trigger/<Name>.
  kCreateTrigger,  // CreateTrigger: trigger/<Name or table-handler>.
  // PartiQL: dynamodb:PartiQLSelect/Insert/Update/Delete per statement on
  // its table (or table/T/index/I); a statement that does not parse has no
  // entry (the operation rejects it).
  kPartiqlStatement,    // ExecuteStatement: Statement.
  kPartiqlBatch,        // BatchExecuteStatement: each of Statements.
  kPartiqlTransaction,  // ExecuteTransaction: each of TransactStatements.
  kBackupArn,           // DescribeBackup, DeleteBackup: BackupArn.
  // RestoreTableFromBackup: the action on BackupArn, and the item actions
  // the restore performs on the target table (DynamoDB's rule: PutItem,
  // UpdateItem, DeleteItem, GetItem, Query, Scan, BatchWriteItem).
  kRestoreFromBackup,
  // RestoreTableToPointInTime: the action on the source table
  // (SourceTableArn or SourceTableName), and the item actions on the target.
  kRestoreToPointInTime,
  // ExportTableToPointInTime: the action on TableArn.
  kExportTable,
  kExportArn,  // DescribeExport: ExportArn.
  // ImportTable: the action on the table it creates
  // (TableCreationParameters.TableName).
  kImportTable,
  kImportArn,  // DescribeImport: ImportArn.
};

struct AccessEntry {
  std::string action;        // "dynamodb:PutItem"
  std::string resource;      // ARN or "*"
  auth::RequestFacts facts;  // Filled only when asked for.
};

// Appends the entries of `request` for an operation of `kind` whose own
// action is `action` ("dynamodb:GetItem"). With `with_facts`, each entry's
// facts are computed (reads table schemas; parses expressions).
void DescribeAccess(AccessKind kind, std::string_view action,
                    const OperationContext& ctx,
                    const rapidjson::Value& request, bool with_facts,
                    std::vector<AccessEntry>* out);

// The entries of the PartiQL kinds (partiql_access.cc).
void DescribePartiqlAccess(AccessKind kind, const OperationContext& ctx,
                           const rapidjson::Value& request, bool with_facts,
                           std::vector<AccessEntry>* out);

// arn:eddy:<region>:<account>:trigger/<name>
std::string TriggerArn(const EndpointConfig& config, std::string_view name);

}  // namespace eddy::runtime::api

#endif  // EDDY_RUNTIME_API_ACCESS_H_
