// Table metadata: what CreateTable asks for (TableSchema) and what
// DescribeTable reports (TableInfo).
//
// Thread-safety: value types.
#ifndef EDDY_STORE_TABLE_SCHEMA_H_
#define EDDY_STORE_TABLE_SCHEMA_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "eddy/store/attribute_value.h"
#include "eddy/store/change_stream.h"

namespace eddy::store {

enum class BillingMode : uint8_t { kProvisioned = 0, kPayPerRequest = 1 };
enum class TableStatus : uint8_t { kCreating, kActive, kUpdating, kDeleting };

// One element of a key schema; type is S, N or B.
struct KeyElement {
  std::string name;
  ValueType type = ValueType::kS;
};

struct AttributeDefinition {
  std::string name;
  ValueType type = ValueType::kS;
};

// A secondary index's projection: which attributes its entries hold besides
// the table's and the index's key attributes.
enum class ProjectionType : uint8_t { kAll = 0, kKeysOnly = 1, kInclude = 2 };
enum class IndexStatus : uint8_t { kCreating, kActive, kDeleting, kUpdating };

// One secondary index as CreateTable / UpdateTable define it. The API layer
// validates definitions (limits, attribute definitions, projections) before
// they reach the store.
struct IndexSchema {
  std::string name;
  KeyElement hash_key;
  std::optional<KeyElement> range_key;
  ProjectionType projection = ProjectionType::kAll;
  std::vector<std::string> non_key_attributes;  // kInclude only.
  // A GSI's provisioned throughput (0 for PAY_PER_REQUEST tables and LSIs).
  int64_t read_capacity_units = 0;
  int64_t write_capacity_units = 0;
};

// DynamoDB's limits on indexes per table.
inline constexpr size_t kMaxLocalIndexes = 5;
inline constexpr size_t kMaxGlobalIndexes = 20;

struct TableSchema {
  std::string name;
  KeyElement hash_key;
  std::optional<KeyElement> range_key;
  std::vector<AttributeDefinition> attribute_definitions;
  BillingMode billing_mode = BillingMode::kProvisioned;
  int64_t read_capacity_units = 0;   // 0 for PAY_PER_REQUEST.
  int64_t write_capacity_units = 0;  // 0 for PAY_PER_REQUEST.
  bool deletion_protection = false;
  std::string table_class = "STANDARD";
  // CreateTable's StreamSpecification: a stream of this view type is enabled
  // with the table.
  std::optional<StreamViewType> stream_view_type;
  // Local secondary indexes (fixed at CreateTable) and the global ones
  // CreateTable asks for (UpdateTable adds and deletes GSIs later: the
  // current set is TableInfo::indexes).
  std::vector<IndexSchema> local_indexes;
  std::vector<IndexSchema> global_indexes;
  // CreateTable's Tags (validated by the caller). Database::CreateTable moves
  // them to TableInfo::tags, where they live from then on.
  std::map<std::string, std::string> tags;
};

// DynamoDB's tag limits (TagResource, CreateTable's Tags).
inline constexpr size_t kMaxTagsPerTable = 50;

// An index as DescribeTable reports it.
struct IndexInfo {
  IndexSchema schema;
  bool global = true;
  IndexStatus status = IndexStatus::kActive;
  bool backfilling = false;  // A GSI being filled from existing items.
  int64_t item_count = 0;
  int64_t size_bytes = 0;
  uint32_t id = 0;  // The store's name for the index's entries.
};

struct TableInfo {
  TableSchema schema;
  std::string table_id;  // A UUID, DynamoDB's TableId.
  TableStatus status = TableStatus::kActive;
  int64_t creation_time_ms = 0;
  int64_t billing_mode_update_time_ms = 0;
  int64_t last_increase_time_ms = 0;
  int64_t last_decrease_time_ms = 0;
  int64_t decreases_today = 0;
  int64_t item_count = 0;
  int64_t size_bytes = 0;
  // The table's streams, latest first: at most the first is enabled; the
  // rest are disabled streams still within their retention period.
  std::vector<StreamDescription> streams;
  // Every secondary index: the LSIs, then the GSIs in creation order.
  std::vector<IndexInfo> indexes;
  uint32_t next_index_id = 1;
  // Time to Live: the attribute holding each item's expiry (a Number of
  // epoch seconds) while TTL is enabled; nullopt while it is disabled
  // (DynamoDB forgets the attribute name when TTL is disabled).
  std::optional<std::string> ttl_attribute;
  // The table's tags (TagResource / UntagResource / CreateTable's Tags).
  std::map<std::string, std::string> tags;
  // A table made by a restore (RestoreSummary): from a backup (backup_id
  // set) or to a point in time of source_table_name. in_progress while the
  // table is CREATING.
  struct Restore {
    std::string backup_id;
    std::string source_table_name;
    uint64_t source_table_id = 0;
    int64_t restore_time_ms = 0;
    bool in_progress = false;
    // ImportTable: filled by its importer (Database::CreateImportTable),
    // not by the store; no RestoreSummary.
    std::string import_id;
  };
  std::optional<Restore> restore;
  // Point-in-time recovery: when it was enabled (0 while it is disabled).
  int64_t pitr_enabled_ms = 0;
};

// UpdateTable's StreamSpecification.
struct StreamUpdate {
  bool enabled = false;
  StreamViewType view_type = StreamViewType::kNewAndOldImages;
};

// UpdateTable's GlobalSecondaryIndexUpdates.
struct GlobalIndexUpdate {
  enum class Kind : uint8_t { kCreate, kUpdate, kDelete };
  Kind kind = Kind::kCreate;
  // kCreate: the whole definition; kUpdate: name and throughput; kDelete:
  // name.
  IndexSchema index;
};

// What UpdateTable may change. Unset fields stay as they are.
struct TableUpdate {
  std::optional<BillingMode> billing_mode;
  std::optional<int64_t> read_capacity_units;
  std::optional<int64_t> write_capacity_units;
  std::optional<bool> deletion_protection;
  std::optional<StreamUpdate> stream;
  // At most one (DynamoDB: one index create or delete per UpdateTable).
  std::vector<GlobalIndexUpdate> global_indexes;
  // UpdateTable's AttributeDefinitions, which must cover a created GSI's
  // keys; they replace the table's definitions.
  std::optional<std::vector<AttributeDefinition>> attribute_definitions;
};

}  // namespace eddy::store

#endif  // EDDY_STORE_TABLE_SCHEMA_H_
