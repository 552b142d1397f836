// Table metadata: what CreateTable asks for (TableSchema) and what
// DescribeTable reports (TableInfo).
//
// Thread-safety: value types.
#ifndef EDDY_STORE_TABLE_SCHEMA_H_
#define EDDY_STORE_TABLE_SCHEMA_H_

#include <cstdint>
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
};

// UpdateTable's StreamSpecification.
struct StreamUpdate {
  bool enabled = false;
  StreamViewType view_type = StreamViewType::kNewAndOldImages;
};

// What UpdateTable may change. Unset fields stay as they are.
struct TableUpdate {
  std::optional<BillingMode> billing_mode;
  std::optional<int64_t> read_capacity_units;
  std::optional<int64_t> write_capacity_units;
  std::optional<bool> deletion_protection;
  std::optional<StreamUpdate> stream;
};

}  // namespace eddy::store

#endif  // EDDY_STORE_TABLE_SCHEMA_H_
