// Backups, restores and point-in-time recovery (eddy/store/backup.h).
//
// Restore protocol (crash safety). A restore first writes the target's
// catalog record with status CREATING and its source (RestoreMeta), then
// fills the table in the background: it empties the table's key ranges
// (what an interrupted attempt left), writes every item with its index
// entries, recounts, and finally rewrites the record ACTIVE. A CREATING
// table is never served (GetTable does not return it). Open resumes every
// CREATING table from the start of this protocol; if its source is gone (a
// deleted backup, a source table deleted or whose recovery window has
// passed) the table is removed like a dropped one and the reason logged.
//
// Backup protocol. CreateBackup takes the cut (a LevelDB snapshot, with the
// table's writes paused for the instant it takes, so that the statistics
// match) and writes the manifest CREATING; a job writes the items file,
// syncs it and rewrites the manifest AVAILABLE. A backup found CREATING at
// Open (the snapshot died with the process) is taken again from a new cut
// if its table still exists, and removed otherwise.
#include <leveldb/db.h>
#include <leveldb/iterator.h>
#include <leveldb/write_batch.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <unordered_set>

#include "backup_file.h"
#include "catalog.h"
#include "database_impl.h"
#include "eddy/store/item_codec.h"

namespace eddy::store {
namespace {

// A restore writes its items in batches of about this many bytes.
constexpr size_t kRestoreBatchBytes = 4 << 20;
// Progress is published (and stop checked) every this many items.
constexpr int64_t kProgressItems = 4096;

leveldb::WriteOptions Synced() {
  leveldb::WriteOptions options;
  options.sync = true;
  return options;
}

// DynamoDB's backup ids: the creation time in ms (14 digits) and 8 hex
// digits.
std::string NewBackupId(int64_t now_ms) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%014lld-%08x",
                static_cast<long long>(now_ms),
                static_cast<unsigned>(rng() & 0xffffffffU));
  return buf;
}

proto::BackupRecord ToProto(const BackupInfo& b) {
  proto::BackupRecord r;
  r.set_id(b.id);
  r.set_name(b.name);
  r.set_status(static_cast<uint32_t>(b.status));
  r.set_type(static_cast<uint32_t>(b.type));
  r.set_creation_time_ms(b.creation_time_ms);
  r.set_expiry_time_ms(b.expiry_time_ms);
  r.set_item_count(b.item_count);
  r.set_size_bytes(b.size_bytes);
  *r.mutable_table() = ToRecord(b.table, b.source_table_id);
  r.set_file_bytes(b.file_bytes);
  return r;
}

BackupInfo FromProto(const proto::BackupRecord& r) {
  BackupInfo b;
  b.id = r.id();
  b.name = r.name();
  b.status = static_cast<BackupStatus>(r.status());
  b.type = static_cast<BackupType>(r.type());
  b.creation_time_ms = r.creation_time_ms();
  b.expiry_time_ms = r.expiry_time_ms();
  b.item_count = r.item_count();
  b.size_bytes = r.size_bytes();
  b.table = FromRecord(r.table());
  b.source_table_id = r.table().id();
  b.file_bytes = r.file_bytes();
  return b;
}

// Writes a restore's items into the target table in batches, each under a
// Use of its own, so that a recovery may reopen LevelDB between batches.
class RestoreWriter {
 public:
  RestoreWriter(DbHandle* db, TableImpl* table) : db_(db), table_(table) {}

  // Adds one item (validated against the target's keys).
  Status Add(std::string_view encoded) {
    EDDY_ASSIGN_OR_RETURN(Item item, DecodeItem(encoded));
    if (table_->ValidateKey(KeyOf(item)).ok() == false) {
      return Status::Corruption("an item without the table's key attributes");
    }
    TableImpl::PendingWrite write;
    write.db_key = table_->EncodeKey(item);
    write.next = std::move(item);
    {
      std::shared_lock<std::shared_mutex> state(table_->state_mutex());
      table_->Stage(write, &batch_);
    }
    ++items_;
    if (batch_.ApproximateSize() >= kRestoreBatchBytes) return Flush();
    return Status::OK();
  }
  Status Flush() {
    if (batch_.ApproximateSize() <= kEmptyBatchBytes) return Status::OK();
    DbHandle::Use use(db_);
    EDDY_RETURN_IF_ERROR(use.status());
    EDDY_RETURN_IF_ERROR(db_->CheckWritable());
    EDDY_RETURN_IF_ERROR(db_->Write(use, leveldb::WriteOptions(), &batch_));
    batch_.Clear();
    return Status::OK();
  }
  int64_t items() const { return items_; }

 private:
  static constexpr size_t kEmptyBatchBytes = 12;  // WriteBatch's header.

  Item KeyOf(const Item& item) const {
    Item key;
    const TableSchema& s = table_->schema();
    if (auto it = item.find(s.hash_key.name); it != item.end()) {
      key.emplace(it->first, it->second);
    }
    if (s.range_key) {
      if (auto it = item.find(s.range_key->name); it != item.end()) {
        key.emplace(it->first, it->second);
      }
    }
    return key;
  }

  DbHandle* const db_;
  TableImpl* const table_;
  leveldb::WriteBatch batch_;
  int64_t items_ = 0;
};

}  // namespace

// --- Backups.

Status DatabaseImpl::SaveBackup(const BackupInfo& info) {
  EDDY_RETURN_IF_ERROR(WriteManifest(BackupDir(info.id), ToProto(info)));
  std::lock_guard<std::mutex> lock(backups_mu_);
  backups_[info.id] = info;
  return Status::OK();
}

Status DatabaseImpl::LoadBackups() {
  std::error_code ec;
  std::filesystem::create_directories(BackupsDir(), ec);
  if (ec) {
    return Status::IOError("cannot create " + BackupsDir() + ": " +
                           ec.message());
  }
  std::vector<std::string> dirs;
  for (const auto& entry :
       std::filesystem::directory_iterator(BackupsDir(), ec)) {
    if (entry.is_directory()) dirs.push_back(entry.path().string());
  }
  if (ec) return Status::IOError("cannot list " + BackupsDir());
  for (const std::string& dir : dirs) {
    Result<proto::BackupRecord> record = ReadManifest(dir);
    if (record.status().IsNotFound() || dir.ends_with(".deleting")) {
      // A crash between creating the directory and its manifest, or in
      // the middle of a deletion.
      std::filesystem::remove_all(dir, ec);
      continue;
    }
    if (!record.ok()) return record.status();
    BackupInfo info = FromProto(*record);
    if (info.status == BackupStatus::kAvailable) {
      std::lock_guard<std::mutex> lock(backups_mu_);
      backups_[info.id] = std::move(info);
      continue;
    }
    // CREATING: its snapshot died with the process.
    std::shared_ptr<TableImpl> table = FindTable(info.table.schema.name);
    if (!table || table->id() != info.source_table_id) {
      logger_->error(
          "backup {} of table {} was interrupted by a restart and its table "
          "no longer exists; the backup is removed",
          info.id, info.table.schema.name);
      std::filesystem::remove_all(dir, ec);
      continue;
    }
    logger_->warn(
        "backup {} of table {} was interrupted by a restart; taking it again "
        "from the table as it is now",
        info.id, info.table.schema.name);
    info.item_count = 0;
    info.size_bytes = 0;
    {
      std::lock_guard<std::mutex> lock(backups_mu_);
      backups_[info.id] = info;
    }
    StartBackup(info.id, table, nullptr, 0);
  }
  if (!backups_.empty()) {
    logger_->info("{} backups in {}", backups_.size(), BackupsDir());
  }
  return Status::OK();
}

Result<BackupInfo> DatabaseImpl::CreateBackup(const std::string& table_name,
                                              const std::string& name) {
  std::shared_ptr<TableImpl> table = FindTable(table_name);
  if (!table) {
    std::shared_lock<std::shared_mutex> read(tables_mu_);
    if (restoring_.count(table_name) != 0) {
      return Status::Busy("Table is being created: " + table_name);
    }
    return Status::NotFound("Table not found: " + table_name);
  }
  BackupInfo info;
  info.name = name;
  info.creation_time_ms = Now();
  info.id = NewBackupId(info.creation_time_ms);
  info.source_table_id = table->id();
  const leveldb::Snapshot* snapshot = nullptr;
  uint64_t generation = 0;
  {
    DbHandle::Use use(db_.get());
    EDDY_RETURN_IF_ERROR(use.status());
    // The cut, with the table's statistics as they are in it.
    EDDY_RETURN_IF_ERROR(table->WithWritesPaused([&] {
      snapshot = use.db()->GetSnapshot();
      return Status::OK();
    }));
    generation = db_->generation();
    info.table = table->Describe();
    std::error_code ec;
    std::filesystem::create_directories(BackupDir(info.id), ec);
    Status saved = ec ? Status::IOError("cannot create " + BackupDir(info.id) +
                                        ": " + ec.message())
                      : SaveBackup(info);
    if (!saved.ok()) {
      use.db()->ReleaseSnapshot(snapshot);
      std::filesystem::remove_all(BackupDir(info.id), ec);
      return saved;
    }
  }
  logger_->info("backup {} ({}) of table {} started", info.id, name,
                table_name);
  StartBackup(info.id, table, snapshot, generation);
  return info;
}

void DatabaseImpl::StartBackup(const std::string& id,
                               std::shared_ptr<TableImpl> table,
                               const leveldb::Snapshot* snapshot,
                               uint64_t generation) {
  jobs_->Submit([this, id, table, snapshot,
                 generation](const std::atomic<bool>& stop) mutable {
    for (int64_t pause = options_.recovery_retry_ms;;) {
      Status s = WriteBackup(id, table.get(), &snapshot, &generation, stop);
      if (s.ok() || stop) return;  // Stopped: retaken at the next Open.
      if (s.IsNotFound()) {
        logger_->error("backup {} of table {} failed: {}; removed", id,
                       table->schema().name, s.ToString());
        std::error_code ec;
        std::filesystem::remove_all(BackupDir(id), ec);
        std::lock_guard<std::mutex> lock(backups_mu_);
        backups_.erase(id);
        return;
      }
      if (s.code() != Status::Code::kBusy) {
        logger_->warn("backup {} of table {} failed: {}; retrying", id,
                      table->schema().name, s.ToString());
      }
      if (!PauseUnlessClosing(pause)) return;
      pause = std::min(pause * 2, options_.recovery_max_retry_ms);
    }
  });
}

Status DatabaseImpl::WriteBackup(const std::string& id, TableImpl* table,
                                 const leveldb::Snapshot** snapshot,
                                 uint64_t* generation,
                                 const std::atomic<bool>& stop) {
  BackupInfo info;
  {
    std::lock_guard<std::mutex> lock(backups_mu_);
    auto it = backups_.find(id);
    if (it == backups_.end()) return Status::NotFound("backup deleted");
    info = it->second;
  }
  DbHandle::Use use(db_.get());
  EDDY_RETURN_IF_ERROR(use.status());
  leveldb::DB* db = use.db();
  // A snapshot of a LevelDB instance a recovery has since replaced cannot
  // be read (nor released): the backup is taken again from a new cut.
  if (*snapshot != nullptr && *generation != db_->generation()) {
    *snapshot = nullptr;
  }
  if (*snapshot == nullptr) {
    EDDY_RETURN_IF_ERROR(table->WithWritesPaused([&] {
      *snapshot = db->GetSnapshot();
      return Status::OK();
    }));
    *generation = db_->generation();
    info.table = table->Describe();
    info.creation_time_ms = Now();
  }
  Status status;
  BackupWriter writer;
  status = writer.Open(BackupDir(id) + "/items");
  info.item_count = 0;
  info.size_bytes = 0;
  if (status.ok()) {
    leveldb::ReadOptions options = DbHandle::ReadOptions();
    options.snapshot = *snapshot;
    options.fill_cache = false;
    std::unique_ptr<leveldb::Iterator> it(db->NewIterator(options));
    const std::string& prefix = table->item_prefix();
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
         it->Next()) {
      const std::string_view value(it->value().data(), it->value().size());
      Result<size_t> size = StoredItemSize(value);
      if (!size.ok()) {
        status = size.status();
        break;
      }
      status = writer.Append(value);
      if (!status.ok()) break;
      ++info.item_count;
      info.size_bytes += static_cast<int64_t>(*size);
      if (info.item_count % kProgressItems == 0) {
        JobRunner::Pace();
        if (stop || db_->reopen_pending()) {
          status = Status::Busy("backup interrupted");
          break;
        }
        std::lock_guard<std::mutex> lock(backups_mu_);
        auto b = backups_.find(id);
        if (b == backups_.end()) {
          status = Status::NotFound("backup deleted");
          break;
        }
        b->second.item_count = info.item_count;
        b->second.size_bytes = info.size_bytes;
      }
    }
    if (status.ok() && !it->status().ok()) status = db_->Error(it->status());
  }
  db->ReleaseSnapshot(*snapshot);
  *snapshot = nullptr;
  EDDY_RETURN_IF_ERROR(status);
  Result<int64_t> bytes = writer.Finish();
  if (!bytes.ok()) return bytes.status();
  info.file_bytes = *bytes;
  info.status = BackupStatus::kAvailable;
  EDDY_RETURN_IF_ERROR(SaveBackup(info));
  logger_->info("backup {} of table {} is available: {} items, {} bytes", id,
                info.table.schema.name, info.item_count, info.file_bytes);
  return Status::OK();
}

Result<BackupInfo> DatabaseImpl::DescribeBackup(const std::string& id) {
  std::lock_guard<std::mutex> lock(backups_mu_);
  auto it = backups_.find(id);
  if (it == backups_.end()) return Status::NotFound("Backup not found: " + id);
  return it->second;
}

std::vector<BackupInfo> DatabaseImpl::ListBackups() {
  std::vector<BackupInfo> out;
  {
    std::lock_guard<std::mutex> lock(backups_mu_);
    for (const auto& [id, info] : backups_) out.push_back(info);
  }
  // Ids start with the creation time: oldest first, ties by id.
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.creation_time_ms, a.id) <
           std::tie(b.creation_time_ms, b.id);
  });
  return out;
}

Result<BackupInfo> DatabaseImpl::DeleteBackup(const std::string& id) {
  std::lock_guard<std::mutex> catalog(catalog_mu_);
  {
    std::shared_lock<std::shared_mutex> read(tables_mu_);
    for (const auto& [name, table] : restoring_) {
      const TableInfo info = table->Describe();
      if (info.restore && info.restore->backup_id == id) {
        return Status::Busy("Backup is being restored to table " + name);
      }
    }
  }
  BackupInfo info;
  {
    std::lock_guard<std::mutex> lock(backups_mu_);
    auto it = backups_.find(id);
    if (it == backups_.end()) {
      return Status::NotFound("Backup not found: " + id);
    }
    if (it->second.status == BackupStatus::kCreating) {
      return Status::Busy("Backup is being created");
    }
    info = it->second;
    backups_.erase(it);
  }
  // Renamed first: a crash in the middle of the removal leaves a
  // directory Open removes, never a backup with half its items.
  const std::string dir = BackupDir(id);
  std::error_code ec;
  std::filesystem::rename(dir, dir + ".deleting", ec);
  if (ec) {
    std::lock_guard<std::mutex> lock(backups_mu_);
    backups_[id] = info;
    return Status::IOError("cannot remove backup " + id + ": " + ec.message());
  }
  SyncDirectory(BackupsDir()).IgnoreError();
  std::filesystem::remove_all(dir + ".deleting", ec);
  logger_->info("deleted backup {} of table {}", id, info.table.schema.name);
  info.status = BackupStatus::kDeleted;
  return info;
}

// --- Restores.

Result<TableInfo> DatabaseImpl::RestoreTableFromBackup(
    const std::string& id, const TableSchema& target) {
  std::lock_guard<std::mutex> catalog(catalog_mu_);
  BackupInfo backup;
  {
    std::lock_guard<std::mutex> lock(backups_mu_);
    auto it = backups_.find(id);
    if (it == backups_.end()) {
      return Status::NotFound("Backup not found: " + id);
    }
    if (it->second.status != BackupStatus::kAvailable) {
      return Status::Busy("Backup is being created");
    }
    backup = it->second;
  }
  TableInfo::Restore restore;
  restore.backup_id = id;
  restore.source_table_name = backup.table.schema.name;
  restore.source_table_id = backup.source_table_id;
  restore.restore_time_ms = backup.creation_time_ms;
  restore.in_progress = true;
  return BeginRestore(target, std::move(restore));
}

Result<TableInfo> DatabaseImpl::BeginRestore(const TableSchema& target,
                                             TableInfo::Restore restore) {
  DbHandle::Use use(db_.get());
  EDDY_RETURN_IF_ERROR(use.status());
  EDDY_RETURN_IF_ERROR(db_->CheckWritable());
  {
    std::shared_lock<std::shared_mutex> read(tables_mu_);
    if (tables_.count(target.name) != 0 || restoring_.count(target.name) != 0) {
      return Status::AlreadyExists("Table already exists: " + target.name);
    }
  }
  TableInfo info;
  info.schema = target;
  info.schema.tags.clear();
  info.schema.stream_view_type.reset();  // Not restored (as DynamoDB).
  info.table_id = NewUuid();
  info.creation_time_ms = NowMillis();
  info.status = TableStatus::kCreating;
  for (const auto* list : {&target.local_indexes, &target.global_indexes}) {
    for (const IndexSchema& index : *list) {
      IndexInfo i;
      i.schema = index;
      i.global = list == &target.global_indexes;
      i.id = info.next_index_id++;
      info.indexes.push_back(std::move(i));
    }
  }
  info.schema.local_indexes.clear();
  info.schema.global_indexes.clear();
  if (target.billing_mode == BillingMode::kPayPerRequest) {
    info.billing_mode_update_time_ms = info.creation_time_ms;
  }
  info.restore = std::move(restore);
  const uint64_t id = next_table_id_++;
  std::string next_id;
  AppendBigEndian64(next_table_id_, &next_id);
  leveldb::WriteBatch batch;
  batch.Put(CatalogKey(target.name), ToRecord(info, id).SerializeAsString());
  batch.Put(MetaKey("next_table_id"), next_id);
  EDDY_RETURN_IF_ERROR(db_->Write(use, Synced(), &batch));
  auto table = std::make_shared<TableImpl>(db_.get(), options_.sync, id, info,
                                           logger_, commit_clock_.get());
  {
    std::unique_lock<std::shared_mutex> write(tables_mu_);
    restoring_[target.name] = table;
  }
  if (!info.restore->import_id.empty()) {
    logger_->info("creating table {} (id {}) for import {}", target.name, id,
                  info.restore->import_id);
    return info;  // Filled by its importer.
  }
  logger_->info("restoring table {} (id {}) from {}", target.name, id,
                info.restore->backup_id.empty()
                    ? "table " + info.restore->source_table_name +
                          " at a point in time"
                    : "backup " + info.restore->backup_id);
  StartRestore(table);
  return info;
}

void DatabaseImpl::StartRestore(std::shared_ptr<TableImpl> table) {
  jobs_->Submit([this, table](const std::atomic<bool>& stop) {
    for (int64_t pause = options_.recovery_retry_ms;;) {
      Status s = RunRestore(table, stop);
      if (s.ok() && !stop) s = FinishRestore(table);
      if ((s.ok() && !stop) || stop) return;  // Stopped: resumed at Open.
      if (s.IsNotFound() || s.IsCorruption() || s.IsOutOfRange() ||
          s.IsInvalidArgument()) {
        FailRestore(table, s);
        return;
      }
      if (s.code() != Status::Code::kBusy) {
        logger_->warn("restore of table {} failed: {}; retrying",
                      table->schema().name, s.ToString());
      }
      if (!PauseUnlessClosing(pause)) return;
      pause = std::min(pause * 2, options_.recovery_max_retry_ms);
    }
  });
}

Status DatabaseImpl::RunRestore(const std::shared_ptr<TableImpl>& table,
                                const std::atomic<bool>& stop) {
  // What an interrupted attempt wrote goes first.
  DropWork wipe;
  wipe.table_id = table->id();
  EDDY_RETURN_IF_ERROR(RemoveItems(wipe));
  if (stop) return Status::Busy("stopping");
  const TableInfo info = table->Describe();
  if (!info.restore) return Status::Internal("restoring table without source");
  if (!info.restore->backup_id.empty()) {
    return RestoreFromBackupFile(table, info.restore->backup_id, stop);
  }
  return RestoreToPointInTime(table, *info.restore, stop);
}

Status DatabaseImpl::RestoreFromBackupFile(
    const std::shared_ptr<TableImpl>& table, const std::string& backup_id,
    const std::atomic<bool>& stop) {
  BackupInfo backup;
  {
    std::lock_guard<std::mutex> lock(backups_mu_);
    auto it = backups_.find(backup_id);
    if (it == backups_.end()) {
      return Status::NotFound("backup " + backup_id + " no longer exists");
    }
    backup = it->second;
  }
  BackupReader reader;
  EDDY_RETURN_IF_ERROR(reader.Open(BackupDir(backup_id) + "/items",
                                   backup.file_bytes, backup.item_count));
  RestoreWriter writer(db_.get(), table.get());
  std::string item;
  for (;;) {
    EDDY_ASSIGN_OR_RETURN(bool more, reader.Next(&item));
    if (!more) break;
    EDDY_RETURN_IF_ERROR(writer.Add(item));
    if (writer.items() % kProgressItems == 0) {
      JobRunner::Pace();
      if (stop) return Status::Busy("stopping");
    }
  }
  return writer.Flush();
}

Status DatabaseImpl::RestoreToPointInTime(
    const std::shared_ptr<TableImpl>& table, const TableInfo::Restore& restore,
    const std::atomic<bool>& stop) {
  std::shared_ptr<TableImpl> source = FindTable(restore.source_table_name);
  if (!source || source->id() != restore.source_table_id) {
    return Status::NotFound("source table " + restore.source_table_name +
                            " no longer exists");
  }
  RestoreWriter writer(db_.get(), table.get());
  EDDY_RETURN_IF_ERROR(ScanAtPointInTime(
      source, restore.restore_time_ms,
      [&](std::string_view item) { return writer.Add(item); }, stop));
  return writer.Flush();
}

// --- Imports.

Result<TableInfo> DatabaseImpl::CreateImportTable(
    const TableSchema& schema, const std::string& import_id) {
  std::lock_guard<std::mutex> catalog(catalog_mu_);
  TableInfo::Restore restore;
  restore.import_id = import_id;
  restore.in_progress = true;
  return BeginRestore(schema, std::move(restore));
}

std::shared_ptr<TableImpl> DatabaseImpl::FindImportTable(
    const std::string& name) {
  std::shared_lock<std::shared_mutex> read(tables_mu_);
  auto it = restoring_.find(name);
  if (it == restoring_.end()) return nullptr;
  const TableInfo info = it->second->Describe();
  if (!info.restore || info.restore->import_id.empty()) return nullptr;
  return it->second;
}

std::shared_ptr<Table> DatabaseImpl::GetImportTable(const std::string& name) {
  return FindImportTable(name);
}

Status DatabaseImpl::ResetImportTable(const std::string& name) {
  std::shared_ptr<TableImpl> table = FindImportTable(name);
  if (!table) return TableNotFound(name);
  DropWork wipe;
  wipe.table_id = table->id();
  // The counters are made exact by FinishImportTable's recount.
  return RemoveItems(wipe);
}

Status DatabaseImpl::FinishImportTable(const std::string& name) {
  std::shared_ptr<TableImpl> table = FindImportTable(name);
  if (!table) return TableNotFound(name);
  return FinishRestore(table);
}

Status DatabaseImpl::AbandonImportTable(const std::string& name,
                                        const std::string& why) {
  std::shared_ptr<TableImpl> table = FindImportTable(name);
  if (!table) return TableNotFound(name);
  FailRestore(table, Status::Internal(why));
  return Status::OK();
}

Status DatabaseImpl::ReadTableAt(
    const std::string& name, int64_t time_ms,
    const std::function<Status(std::string_view)>& visit,
    const std::atomic<bool>& stop) {
  std::shared_ptr<TableImpl> source = FindTable(name);
  if (!source) return TableNotFound(name);
  const ContinuousBackups window = Window(source->Describe());
  if (!window.enabled) {
    return Status::InvalidArgument(
        "Point in time recovery is not enabled for table '" + name + "'");
  }
  if (time_ms > window.latest_ms) {
    return Status::OutOfRange("the point in time is in the future");
  }
  return ScanAtPointInTime(source, time_ms, visit, stop);
}

Status DatabaseImpl::ScanAtPointInTime(
    const std::shared_ptr<TableImpl>& source, int64_t time_ms,
    const std::function<Status(std::string_view)>& visit,
    const std::atomic<bool>& stop) {
  const ContinuousBackups window = Window(source->Describe());
  if (!window.enabled || time_ms < window.earliest_ms) {
    return Status::OutOfRange(
        "the point in time is no longer in the recovery window of table " +
        source->schema().name);
  }
  DbHandle::Use use(db_.get());
  EDDY_RETURN_IF_ERROR(use.status());
  leveldb::DB* db = use.db();
  const leveldb::Snapshot* snapshot = nullptr;
  EDDY_RETURN_IF_ERROR(source->WithWritesPaused([&] {
    snapshot = db->GetSnapshot();
    return Status::OK();
  }));
  leveldb::ReadOptions options = DbHandle::ReadOptions();
  options.snapshot = snapshot;
  options.fill_cache = false;
  // The items written after T: each goes back to the image its first write
  // after T replaced (none: it did not exist at T).
  std::unordered_set<std::string> undone;
  Status status;
  int64_t n = 0;
  auto interrupted = [&] {
    if (++n % kProgressItems != 0) return false;
    JobRunner::Pace();
    return stop || db_->reopen_pending();
  };
  {
    const std::string prefix = HistoryPrefix(source->id());
    std::unique_ptr<leveldb::Iterator> it(db->NewIterator(options));
    for (it->Seek(HistoryKey(source->id(), time_ms + 1, 0));
         it->Valid() && it->key().starts_with(prefix); it->Next()) {
      std::string_view db_key, before;
      status = DecodeHistoryEntry(
          std::string_view(it->value().data(), it->value().size()), &db_key,
          &before);
      if (!status.ok()) break;
      if (!undone.emplace(db_key).second) continue;
      if (!before.empty()) status = visit(before);
      if (!status.ok()) break;
      if (interrupted()) {
        status = Status::Busy("interrupted");
        break;
      }
    }
    if (status.ok() && !it->status().ok()) status = db_->Error(it->status());
  }
  if (status.ok()) {
    const std::string& prefix = source->item_prefix();
    std::unique_ptr<leveldb::Iterator> it(db->NewIterator(options));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
         it->Next()) {
      if (undone.count(it->key().ToString()) != 0) continue;
      status = visit(std::string_view(it->value().data(), it->value().size()));
      if (!status.ok()) break;
      if (interrupted()) {
        status = Status::Busy("interrupted");
        break;
      }
    }
    if (status.ok() && !it->status().ok()) status = db_->Error(it->status());
  }
  db->ReleaseSnapshot(snapshot);
  return status;
}

Status DatabaseImpl::FinishRestore(const std::shared_ptr<TableImpl>& table) {
  EDDY_RETURN_IF_ERROR(RecountTable(table));
  std::lock_guard<std::mutex> catalog(catalog_mu_);
  TableInfo info = table->ChangeInfo([](TableInfo* t) {
    t->status = TableStatus::kActive;
    if (t->restore) t->restore->in_progress = false;
  });
  Status s = PutRecord(info, table->id());
  if (!s.ok()) {
    table->ChangeInfo([](TableInfo* t) {
      t->status = TableStatus::kCreating;
      if (t->restore) t->restore->in_progress = true;
    });
    return s;
  }
  {
    std::unique_lock<std::shared_mutex> write(tables_mu_);
    restoring_.erase(info.schema.name);
    tables_[info.schema.name] = table;
  }
  logger_->info("restored table {}: {} items, {} bytes", info.schema.name,
                info.item_count, info.size_bytes);
  return Status::OK();
}

void DatabaseImpl::FailRestore(const std::shared_ptr<TableImpl>& table,
                               const Status& why) {
  const std::string& name = table->schema().name;
  std::lock_guard<std::mutex> catalog(catalog_mu_);
  {
    DbHandle::Use use(db_.get());
    leveldb::WriteBatch batch;
    batch.Delete(CatalogKey(name));
    proto::DroppedTable dropped;
    dropped.set_id(table->id());
    batch.Put(DroppedKey(table->id()), dropped.SerializeAsString());
    Status s = use.status().ok() ? db_->Write(use, Synced(), &batch)
                                 : use.status();
    if (!s.ok()) {
      // Left CREATING: the next Open tries again (and fails it again).
      logger_->error("restore of table {} failed ({}) and cannot be removed: {}",
                     name, why.ToString(), s.ToString());
      return;
    }
  }
  {
    std::unique_lock<std::shared_mutex> write(tables_mu_);
    restoring_.erase(name);
  }
  {
    std::lock_guard<std::mutex> drop_lock(drop_mu_);
    drop_queue_.push_back({table->id(), std::nullopt, {}});
  }
  drop_cv_.notify_one();
  logger_->error("restore of table {} failed: {}; the table is removed", name,
                 why.message());
}

// --- Point-in-time recovery.

ContinuousBackups DatabaseImpl::Window(const TableInfo& info) {
  ContinuousBackups window;
  window.enabled = info.pitr_enabled_ms != 0;
  if (!window.enabled) return window;
  window.latest_ms = commit_clock_->Now();
  window.earliest_ms = std::max(info.pitr_enabled_ms,
                                window.latest_ms - options_.pitr_retention_ms);
  return window;
}

Result<ContinuousBackups> DatabaseImpl::UpdateContinuousBackups(
    const std::string& name, bool enabled) {
  std::lock_guard<std::mutex> catalog(catalog_mu_);
  std::shared_ptr<TableImpl> table = FindTable(name);
  if (!table) return TableNotFound(name);
  const TableInfo current = table->Describe();
  if ((current.pitr_enabled_ms != 0) == enabled) return Window(current);
  const int64_t now = commit_clock_->Now();
  // Entries before this key belong to the history being given up.
  const std::string limit =
      HistoryKey(table->id(), now, commit_clock_->Sequence());
  EDDY_RETURN_IF_ERROR(table->WithWritesPaused([&] {
    table->SetPitr(enabled);
    return Status::OK();
  }));
  TableInfo info = table->ChangeInfo(
      [&](TableInfo* t) { t->pitr_enabled_ms = enabled ? now : 0; });
  Status s = PutRecord(info, table->id());
  if (!s.ok()) {
    table->WithWritesPaused([&] {
      table->SetPitr(!enabled);
      return Status::OK();
    }).IgnoreError();
    table->ChangeInfo([&](TableInfo* t) {
      t->pitr_enabled_ms = current.pitr_enabled_ms;
    });
    return s;
  }
  if (!enabled) {
    std::lock_guard<std::mutex> drop_lock(drop_mu_);
    drop_queue_.push_back({table->id(), std::nullopt, limit});
  }
  drop_cv_.notify_one();
  logger_->info("point-in-time recovery {} on table {}",
                enabled ? "enabled" : "disabled", name);
  return Window(info);
}

Result<ContinuousBackups> DatabaseImpl::DescribeContinuousBackups(
    const std::string& name) {
  std::shared_ptr<TableImpl> table = FindTable(name);
  if (!table) return TableNotFound(name);
  return Window(table->Describe());
}

Result<TableInfo> DatabaseImpl::RestoreTableToPointInTime(
    const std::string& source_name, int64_t time_ms,
    const TableSchema& target) {
  std::lock_guard<std::mutex> catalog(catalog_mu_);
  std::shared_ptr<TableImpl> source = FindTable(source_name);
  if (!source) return TableNotFound(source_name);
  const ContinuousBackups window = Window(source->Describe());
  if (!window.enabled) {
    return Status::InvalidArgument(
        "Point in time recovery is not enabled for table '" + source_name +
        "'");
  }
  if (time_ms < window.earliest_ms || time_ms > window.latest_ms) {
    return Status::OutOfRange("Invalid restore time specified");
  }
  TableInfo::Restore restore;
  restore.source_table_name = source_name;
  restore.source_table_id = source->id();
  restore.restore_time_ms = time_ms;
  restore.in_progress = true;
  return BeginRestore(target, std::move(restore));
}

Result<Database::DiskUsage> DatabaseImpl::ApproximateDiskUsage(
    const std::string& name) {
  std::shared_ptr<TableImpl> table = FindTable(name);
  if (!table) return TableNotFound(name);
  DbHandle::Use use(db_.get());
  EDDY_RETURN_IF_ERROR(use.status());
  // A prefix's range ends before the prefix with its last byte raised
  // (table ids are big-endian, so "i" <id + 1> follows "i" <id> ...).
  auto range_of = [](const std::string& prefix) {
    std::string limit = prefix;
    while (!limit.empty() && static_cast<uint8_t>(limit.back()) == 0xff) {
      limit.pop_back();
    }
    if (!limit.empty()) limit.back() = static_cast<char>(limit.back() + 1);
    return std::make_pair(prefix, limit);
  };
  const auto items = range_of(table->item_prefix());
  const auto history = range_of(HistoryPrefix(table->id()));
  const leveldb::Range ranges[2] = {{items.first, items.second},
                                    {history.first, history.second}};
  uint64_t sizes[2] = {0, 0};
  use.db()->GetApproximateSizes(ranges, 2, sizes);
  DiskUsage usage;
  usage.item_bytes = static_cast<int64_t>(sizes[0]);
  usage.history_bytes = static_cast<int64_t>(sizes[1]);
  return usage;
}

Status DatabaseImpl::TrimHistory() {
  std::vector<std::shared_ptr<TableImpl>> tables;
  {
    std::shared_lock<std::shared_mutex> read(tables_mu_);
    for (const auto& [name, table] : tables_) tables.push_back(table);
  }
  const int64_t horizon = commit_clock_->Now() - options_.pitr_retention_ms;
  Status result;
  for (const auto& table : tables) {
    if (table->Describe().pitr_enabled_ms == 0) continue;
    // Restores to T >= horizon read only entries after T.
    DropWork work;
    work.table_id = table->id();
    work.history_limit = HistoryKey(table->id(), horizon, 0);
    Status s = RemoveItems(work);
    if (!s.ok()) result = s;
  }
  return result;
}

}  // namespace eddy::store
