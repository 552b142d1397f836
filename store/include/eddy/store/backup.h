// Backups and point-in-time recovery: the values Database's backup,
// restore and continuous-backup operations take and return.
//
// An on-demand backup is a consistent cut of one table (a LevelDB snapshot
// taken while the table's writes are paused for an instant), written in the
// background to <data>/backups/<id>/ (store/src/backup_file.h describes the
// files). It is CREATING until every item is written, then AVAILABLE; it
// stays when its table is deleted. A restore creates a new table, CREATING
// (never served) until every item and index entry is in, then ACTIVE; a
// restore interrupted by a crash is finished by the next Open, or removed
// with its reason in the log when its source is gone.
//
// Point-in-time recovery keeps, for every write of a table with it enabled,
// an undo entry (the item as it was before the write, keyed by the write's
// commit time) in the same LevelDB batch as the write, for the retention
// window. The table's state at T is its current state with, for each item
// written after T, the image its first write after T replaced. See
// docs/backup.md for the costs.
//
// Thread-safety: value types.
#ifndef EDDY_STORE_BACKUP_H_
#define EDDY_STORE_BACKUP_H_

#include <cstdint>
#include <optional>
#include <string>

#include "eddy/store/table_schema.h"

namespace eddy::store {

enum class BackupStatus : uint8_t { kCreating = 0, kAvailable = 1, kDeleted = 2 };
// USER: CreateBackup; SYSTEM: taken by the store when a table with
// point-in-time recovery is deleted (kept for the recovery window).
enum class BackupType : uint8_t { kUser = 0, kSystem = 1 };

struct BackupInfo {
  // "<creation ms, 14 digits>-<8 hex digits>": the last part of the ARN
  // arn:aws:dynamodb:<region>:<account>:table/<table>/backup/<id>.
  std::string id;
  std::string name;
  BackupStatus status = BackupStatus::kCreating;
  BackupType type = BackupType::kUser;
  int64_t creation_time_ms = 0;  // The cut.
  int64_t expiry_time_ms = 0;    // SYSTEM backups only.
  // Items written and their DynamoDB size: progress while CREATING, the
  // backup's contents once AVAILABLE.
  int64_t item_count = 0;
  int64_t size_bytes = 0;
  // The source table at the cut: name, TableId, schema, indexes and
  // statistics (its item count is the backup's total, for progress).
  TableInfo table;
  // The store's own: the source table's internal id, and the length of the
  // items file once AVAILABLE.
  uint64_t source_table_id = 0;
  int64_t file_bytes = 0;
};

// DescribeContinuousBackups.
struct ContinuousBackups {
  bool enabled = false;
  // The restorable window while enabled (ms since the epoch).
  int64_t earliest_ms = 0;
  int64_t latest_ms = 0;
};

}  // namespace eddy::store

#endif  // EDDY_STORE_BACKUP_H_
