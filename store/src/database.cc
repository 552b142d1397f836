#include "eddy/store/database.h"

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/iterator.h>
#include <leveldb/write_batch.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "background_env.h"
#include "catalog.h"
#include "database_impl.h"
#include "eddy/change_record.pb.h"
#include "eddy/store/item_codec.h"
#include "key_filter.h"
#include "store_env.h"
#include "table_impl.h"
#include "transaction.h"
#include "ttl_sweeper.h"

namespace eddy::store {
namespace {

// Items are removed from a dropped table in batches of this many keys.
constexpr int kDropBatch = 1000;

leveldb::WriteOptions Synced() {
  leveldb::WriteOptions options;
  options.sync = true;
  return options;
}

}  // namespace

DatabaseImpl::DatabaseImpl(Options options) : options_(std::move(options)) {
  logger_ = options_.logger ? options_.logger : spdlog::default_logger();
}

Status DatabaseImpl::Open() {
  std::error_code ec;
  std::filesystem::create_directories(options_.path, ec);
  if (ec) {
    return Status::IOError("cannot create data directory " + options_.path +
                           ": " + ec.message());
  }
  // One store per data directory for as long as it is open: LevelDB's own
  // LOCK is let go while DbHandle reopens it, and the stream logs take none
  // of their own (shard_options_).
  EDDY_ASSIGN_OR_RETURN(
      data_lock_,
      streams::LockFile(
          streams::FileSystem::Default(), options_.path + "/LOCK",
          "data directory " + options_.path + " is in use by another process"));
  std::filesystem::remove(ProbePath(), ec);  // A crash may have left it.
  cache_.reset(leveldb::NewLRUCache(options_.block_cache_bytes));
  table_memory_.cache = cache_.get();
  shard_options_.logger = logger_;
  shard_options_.file_system = options_.stream_file_system;
  shard_options_.file_cache = std::make_shared<streams::SegmentFileCache>(
      options_.stream_segment_files);
  shard_options_.lock_directory = false;
  filter_ = NewPointReadFilterPolicy(10);  // key_filter.h
  leveldb::Options lo;
  lo.create_if_missing = true;
  lo.paranoid_checks = true;
  lo.block_cache = cache_.get();
  lo.filter_policy = filter_.get();
  leveldb::Env* env =
      options_.leveldb_env ? options_.leveldb_env : leveldb::Env::Default();
  if (options_.background_yield_bytes > 0) {
    yield_env_ = NewBackgroundYieldingEnv(env, options_.background_yield_bytes);
    env = yield_env_.get();
  }
  gated_env_ = NewGatedEnv(env, &background_gate_);
  env = gated_env_.get();
  // On the real file system, table files by pread, not mmap, and removed
  // files unlinked off the critical path (store_env.h).
  const bool real_file_system = options_.leveldb_env == nullptr;
  store_env_ = NewStoreEnv(env, {.pread_tables = real_file_system,
                                 .defer_removals = real_file_system,
                                 .charge_tables = &table_memory_});
  lo.env = store_env_.get();
  lo.write_buffer_size = options_.write_buffer_bytes;
  lo.max_open_files = options_.max_open_files;
  lo.max_file_size = 8 * 1024 * 1024;
  db_ = std::make_unique<DbHandle>(options_.path + "/leveldb", lo, logger_);
  EDDY_RETURN_IF_ERROR(db_->Open());
  // Nothing else runs until Open returns: no Use needed.
  leveldb::DB* db = db_->held_db();
  commit_clock_ = std::make_unique<CommitClock>(options_.clock_ms);
  commit_clock_->SetSequenceFloor(static_cast<uint64_t>(NowMillis()) * 1000);

  // Load the catalog and the tables still being dropped.
  std::unique_ptr<leveldb::Iterator> it(
      db->NewIterator(DbHandle::ReadOptions()));
  for (it->Seek(std::string(1, kCatalogPrefix));
       it->Valid() && it->key()[0] == kCatalogPrefix; it->Next()) {
    proto::TableRecord record;
    if (!record.ParseFromArray(it->value().data(),
                               static_cast<int>(it->value().size()))) {
      return Status::Corruption("bad catalog entry " + it->key().ToString());
    }
    next_table_id_ = std::max(next_table_id_, record.id() + 1);
    auto table = std::make_shared<TableImpl>(db_.get(), options_.sync,
                                             record.id(), FromRecord(record),
                                             logger_, commit_clock_.get());
    // A table still being restored is resumed below, never served.
    (table->Describe().status == TableStatus::kCreating
         ? restoring_
         : tables_)[record.name()] = std::move(table);
  }
  for (it->Seek(std::string(1, kDroppedPrefix));
       it->Valid() && it->key()[0] == kDroppedPrefix; it->Next()) {
    uint64_t id = ReadBigEndian64(
        std::string_view(it->key().data() + 1, it->key().size() - 1));
    next_table_id_ = std::max(next_table_id_, id + 1);
    drop_queue_.push_back({id, std::nullopt, {}});
  }
  if (!it->status().ok()) return FromLevelDb(it->status());
  // The history's latest commit time: a clock set back across a restart
  // must not stamp an item's next write before its last one.
  for (const auto& [name, table] : tables_) {
    const std::string prefix = HistoryPrefix(table->id());
    std::string end = prefix;
    AppendBigEndian64(~uint64_t{0}, &end);
    it->Seek(end);
    it->Valid() ? it->Prev() : it->SeekToLast();
    if (it->Valid() && it->key().starts_with(prefix)) {
      commit_clock_->AtLeast(
          HistoryKeyTime(std::string_view(it->key().data(), it->key().size())));
    }
  }
  it.reset();

  std::string value;
  leveldb::Status s =
      db->Get(DbHandle::ReadOptions(), MetaKey("next_table_id"), &value);
  if (s.ok()) next_table_id_ = std::max(next_table_id_, ReadBigEndian64(value));

  // The clean marker says the stored statistics are exact; remove it so a
  // crash from now on is detected at the next Open.
  s = db->Get(DbHandle::ReadOptions(), MetaKey("clean"), &value);
  const bool clean = s.ok();
  for (auto& [name, table] : tables_) EDDY_RETURN_IF_ERROR(OpenStreams(table));
  EDDY_RETURN_IF_ERROR(OpenRetainedStreams());
  Result<int> finished = RecoverStreams(db);
  if (!finished.ok()) return finished.status();
  next_transaction_id_ = static_cast<uint64_t>(NowMillis()) * 1000;
  // After a crash the statistics are those last written back, plus what
  // the replay counted; a finished transaction was never counted. Serve at
  // once and recount in the background.
  recount_pending_ = (!clean || *finished > 0) && !tables_.empty();
  s = db->Delete(Synced(), MetaKey("clean"));
  if (!s.ok()) return FromLevelDb(s);

  logger_->info("opened data directory {} ({} tables{})", options_.path,
                tables_.size(),
                clean || tables_.empty()
                    ? ""
                    : ", recovered after a crash; recounting items in the "
                      "background");
  dropper_ = std::thread([this] { DropperLoop(); });
  jobs_ = std::make_unique<JobRunner>(options_.job_threads, options_.job_nice);
  RemoveInterruptedSnapshots();
  EDDY_RETURN_IF_ERROR(LoadBackups());
  for (const auto& [name, table] : restoring_) {
    const TableInfo info = table->Describe();
    if (info.restore && !info.restore->import_id.empty()) {
      continue;  // Its importer resumes or abandons it.
    }
    logger_->info("resuming the restore of table {}", name);
    StartRestore(table);
  }
  for (const auto& [name, table] : tables_) {
    for (const IndexInfo& index : table->Describe().indexes) {
      if (index.backfilling) StartBackfill(table, index.id);
    }
  }
  if (options_.ttl_sweep_interval_ms > 0) {
    sweeper_ = std::thread([this] { SweeperLoop(); });
  }
  // The recount before the recovery: the recovery thread may start a
  // recount of its own later.
  if (recount_pending_) recounter_ = std::thread([this] { RecountLoop(); });
  recovery_ = std::thread([this] { RecoveryLoop(); });
  return Status::OK();
}

Status DatabaseImpl::health() const {
  return db_ ? db_->failure() : Status::OK();
}

bool DatabaseImpl::PauseUnlessClosing(int64_t ms) {
  std::unique_lock<std::mutex> lock(drop_mu_);
  sweep_cv_.wait_for(lock, std::chrono::milliseconds(ms),
                     [this] { return closing_; });
  return !closing_;
}

Status DatabaseImpl::PutRecord(const TableInfo& info, uint64_t id) {
  std::string data;
  ToRecord(info, id).SerializeToString(&data);
  DbHandle::Use use(db_.get());
  EDDY_RETURN_IF_ERROR(db_->CheckWritable());
  leveldb::WriteBatch batch;
  batch.Put(CatalogKey(info.schema.name), data);
  leveldb::WriteOptions sync;
  sync.sync = true;
  return db_->Write(use, sync, &batch);
}

Result<TableInfo> DatabaseImpl::CreateTable(const TableSchema& schema) {
  std::lock_guard<std::mutex> lock(catalog_mu_);
  DbHandle::Use use(db_.get());
  EDDY_RETURN_IF_ERROR(use.status());
  EDDY_RETURN_IF_ERROR(db_->CheckWritable());
  {
    std::shared_lock<std::shared_mutex> read(tables_mu_);
    if (tables_.count(schema.name) != 0 || restoring_.count(schema.name) != 0) {
      return Status::AlreadyExists("Table already exists: " + schema.name);
    }
  }
  if (schema.tags.size() > kMaxTagsPerTable) {
    return Status::InvalidArgument(
        "Number of Tags exceed the current limit for the provided "
        "ResourceArn");
  }
  TableInfo info;
  info.schema = schema;
  // Tags live in TableInfo from now on (TagResource changes them).
  info.tags = std::move(info.schema.tags);
  info.schema.tags.clear();
  info.table_id = NewUuid();
  info.creation_time_ms = NowMillis();
  // An empty table's indexes are complete from the start.
  for (const auto* list : {&schema.local_indexes, &schema.global_indexes}) {
    for (const IndexSchema& index : *list) {
      IndexInfo i;
      i.schema = index;
      i.global = list == &schema.global_indexes;
      i.id = info.next_index_id++;
      info.indexes.push_back(std::move(i));
    }
  }
  info.schema.local_indexes.clear();
  info.schema.global_indexes.clear();
  if (schema.billing_mode == BillingMode::kPayPerRequest) {
    info.billing_mode_update_time_ms = info.creation_time_ms;
  }
  const uint64_t id = next_table_id_++;
  std::shared_ptr<ChangeStreamImpl> stream;
  if (schema.stream_view_type) {
    Result<std::shared_ptr<ChangeStreamImpl>> created =
        NewStream(id, schema, *schema.stream_view_type, Now());
    if (!created.ok()) return created.status();
    stream = std::move(*created);
    info.streams.push_back(stream->description());
  }

  std::string data;
  ToRecord(info, id).SerializeToString(&data);
  std::string next_id;
  AppendBigEndian64(next_table_id_, &next_id);
  leveldb::WriteBatch batch;
  batch.Put(CatalogKey(schema.name), data);
  batch.Put(MetaKey("next_table_id"), next_id);
  EDDY_RETURN_IF_ERROR(db_->Write(use, Synced(), &batch));

  auto table = std::make_shared<TableImpl>(db_.get(), options_.sync, id, info,
                                           logger_, commit_clock_.get());
  if (stream) {
    EDDY_RETURN_IF_ERROR(table->WithWritesPaused([&] {
      table->SetStream(stream);
      return Status::OK();
    }));
  }
  {
    std::unique_lock<std::shared_mutex> write(tables_mu_);
    tables_[schema.name] = table;
    // A deleted table of this name may have left streams (still readable).
    if (stream) {
      auto& list = streams_[schema.name];
      list.insert(list.begin(), stream);
    }
  }
  logger_->info("created table {} (id {})", schema.name, id);
  return info;
}

Result<TableInfo> DatabaseImpl::DeleteTable(const std::string& name) {
  std::lock_guard<std::mutex> lock(catalog_mu_);
  DbHandle::Use use(db_.get());
  EDDY_RETURN_IF_ERROR(use.status());
  std::shared_ptr<TableImpl> table = FindTable(name);
  if (!table) return TableNotFound(name);
  EDDY_RETURN_IF_ERROR(db_->CheckWritable());
  if (table->schema().deletion_protection) {
    return Status::InvalidArgument(
        "Resource cannot be deleted as it is currently protected against "
        "deletion. Disable deletion protection first.");
  }
  // From here on no write of the table is in flight, so the dropper removes
  // every item the table will ever have, and the stream's logs are complete.
  table->MarkDropped();
  // The table's streams stay readable, DISABLED, until their retention
  // period passes (DynamoDB keeps a deleted table's stream for 24 hours):
  // each is recorded under a retained-stream key in the same batch that
  // drops the table.
  const int64_t now = Now();
  std::shared_ptr<ChangeStreamImpl> enabled = table->stream();
  leveldb::WriteBatch batch;
  batch.Delete(CatalogKey(name));
  proto::DroppedTable dropped;
  dropped.set_id(table->id());
  batch.Put(DroppedKey(table->id()), dropped.SerializeAsString());
  for (StreamDescription d : table->Describe().streams) {
    if (d.enabled()) d.disabled_ms = now;
    proto::RetainedStream retained;
    retained.set_table_name(name);
    retained.set_table_id(table->id());
    ToStreamMeta(d, retained.mutable_stream());
    batch.Put(RetainedStreamKey(table->id(), d.label),
              retained.SerializeAsString());
  }
  if (Status s = db_->Write(use, Synced(), &batch); !s.ok()) {
    // The table stays (no write of it is in flight; MarkDropped only
    // stopped new ones): let writes through again.
    table->Unmark();
    return s;
  }
  {
    std::unique_lock<std::shared_mutex> write(tables_mu_);
    tables_.erase(name);
  }
  // Sealed after the batch: a crash in between leaves a disabled stream
  // that Open seals (ChangeStreamImpl::Open).
  if (enabled) {
    Status sealed = enabled->Disable(now);
    if (!sealed.ok()) {
      logger_->warn("closing the stream of deleted table {}: {}", name,
                    sealed.ToString());
    }
  }
  {
    std::lock_guard<std::mutex> drop_lock(drop_mu_);
    drop_queue_.push_back({table->id(), std::nullopt, {}});
  }
  drop_cv_.notify_one();
  logger_->info("deleted table {} (id {}); its streams stay readable for {} ms",
                name, table->id(), options_.stream_retention_ms);
  TableInfo info = table->Describe();
  info.status = TableStatus::kDeleting;
  return info;
}

Result<TableInfo> DatabaseImpl::UpdateTable(const std::string& name,
                                            const TableUpdate& update) {
  std::lock_guard<std::mutex> lock(catalog_mu_);
  DbHandle::Use use(db_.get());
  EDDY_RETURN_IF_ERROR(use.status());
  std::shared_ptr<TableImpl> table = FindTable(name);
  if (!table) return TableNotFound(name);
  EDDY_RETURN_IF_ERROR(db_->CheckWritable());
  const int64_t now = Now();
  if (update.stream) {
    EDDY_RETURN_IF_ERROR(UpdateStream(table, *update.stream, now));
  }
  EDDY_RETURN_IF_ERROR(UpdateIndexes(table, update));
  TableInfo info = table->ChangeInfo([&](TableInfo* t) {
    TableSchema& s = t->schema;
    if (update.billing_mode && *update.billing_mode != s.billing_mode) {
      s.billing_mode = *update.billing_mode;
      t->billing_mode_update_time_ms = now;
      if (s.billing_mode == BillingMode::kPayPerRequest) {
        s.read_capacity_units = 0;
        s.write_capacity_units = 0;
      }
    }
    auto change = [&](int64_t* field, std::optional<int64_t> value) {
      if (!value || *value == *field) return;
      if (*value > *field) {
        t->last_increase_time_ms = now;
      } else {
        t->last_decrease_time_ms = now;
        ++t->decreases_today;
      }
      *field = *value;
    };
    change(&s.read_capacity_units, update.read_capacity_units);
    change(&s.write_capacity_units, update.write_capacity_units);
    if (update.deletion_protection) {
      s.deletion_protection = *update.deletion_protection;
    }
  });
  EDDY_RETURN_IF_ERROR(PutRecord(info, table->id()));
  for (const IndexInfo& index : info.indexes) {
    if (index.backfilling) StartBackfill(table, index.id);
  }
  return info;
}

Status DatabaseImpl::UpdateIndexes(const std::shared_ptr<TableImpl>& table,
                                   const TableUpdate& update) {
  const std::string& name = table->schema().name;
  for (const GlobalIndexUpdate& u : update.global_indexes) {
    const TableInfo current = table->Describe();
    const IndexInfo* existing = nullptr;
    size_t globals = 0;
    for (const IndexInfo& i : current.indexes) {
      if (i.schema.name == u.index.name) existing = &i;
      if (i.global) ++globals;
    }
    switch (u.kind) {
      case GlobalIndexUpdate::Kind::kCreate: {
        if (existing != nullptr) {
          return Status::InvalidArgument(
              "One or more parameter values were invalid: Index with name " +
              u.index.name + " already exists");
        }
        if (globals >= kMaxGlobalIndexes) {
          return Status::InvalidArgument(
              "One or more parameter values were invalid: GlobalSecondaryIndex "
              "count exceeds the per-table limit of 20");
        }
        IndexInfo index;
        index.schema = u.index;
        index.global = true;
        index.status = IndexStatus::kCreating;
        index.backfilling = true;
        table->ChangeInfo([&](TableInfo* t) {
          index.id = t->next_index_id++;
          if (update.attribute_definitions) {
            t->schema.attribute_definitions = *update.attribute_definitions;
          }
        });
        // From here on every write maintains the index; the backfill
        // (started once the catalog says so) indexes the older items.
        EDDY_RETURN_IF_ERROR(table->WithWritesPaused([&] {
          table->AddIndex(index);
          return Status::OK();
        }));
        logger_->info("creating index {} of table {}", u.index.name, name);
        break;
      }
      case GlobalIndexUpdate::Kind::kUpdate:
      case GlobalIndexUpdate::Kind::kDelete: {
        if (existing == nullptr || !existing->global) {
          return Status::NotFound("Requested resource not found: Table: " +
                                  name + " index: " + u.index.name);
        }
        const uint32_t id = existing->id;
        if (u.kind == GlobalIndexUpdate::Kind::kUpdate) {
          table->ChangeInfo([&](TableInfo* t) {
            for (IndexInfo& i : t->indexes) {
              if (i.id != id) continue;
              i.schema.read_capacity_units = u.index.read_capacity_units;
              i.schema.write_capacity_units = u.index.write_capacity_units;
            }
          });
          break;
        }
        EDDY_RETURN_IF_ERROR(table->WithWritesPaused([&] {
          table->RemoveIndex(id);
          return Status::OK();
        }));
        {
          std::lock_guard<std::mutex> drop_lock(drop_mu_);
          drop_queue_.push_back({table->id(), id, {}});
        }
        drop_cv_.notify_one();
        logger_->info("deleted index {} of table {}", u.index.name, name);
        break;
      }
    }
  }
  return Status::OK();
}

void DatabaseImpl::StartBackfill(const std::shared_ptr<TableImpl>& table,
                                 uint32_t index_id) {
  std::lock_guard<std::mutex> lock(backfill_mu_);
  if (stopping_) return;
  backfills_.emplace_back([this, table, index_id] {
    // A failure (a write failed, the store recovers) is retried from the
    // start: the backfill only writes entries the items call for.
    for (int64_t pause = options_.recovery_retry_ms;;) {
      Status s = table->BackfillIndex(index_id, stopping_);
      if (s.ok() && !stopping_) {
        // Persist ACTIVE under the catalog lock, unless the table is gone.
        std::lock_guard<std::mutex> catalog_lock(catalog_mu_);
        if (FindTable(table->schema().name) == table) {
          s = PutRecord(table->Describe(), table->id());
        }
      }
      if (s.ok() || s.IsNotFound() || stopping_) return;
      logger_->warn("backfill of index {} of table {} failed: {}; retrying",
                    index_id, table->schema().name, s.ToString());
      if (!PauseUnlessClosing(pause)) return;
      pause = std::min(pause * 2, options_.recovery_max_retry_ms);
    }
  });
}

Result<TableInfo> DatabaseImpl::UpdateTimeToLive(const std::string& name,
                                                 bool enabled,
                                                 const std::string& attribute) {
  std::lock_guard<std::mutex> lock(catalog_mu_);
  std::shared_ptr<TableImpl> table = FindTable(name);
  if (!table) return TableNotFound(name);
  const std::optional<std::string> current = table->Describe().ttl_attribute;
  // DynamoDB checks the attribute first: enabling another attribute, or
  // disabling with the wrong one, names the current one.
  if (current && *current != attribute) {
    return Status::InvalidArgument(
        "TimeToLive is active on a different AttributeName: current "
        "AttributeName is " +
        *current);
  }
  if (enabled && current) {
    return Status::InvalidArgument("TimeToLive is already enabled");
  }
  if (!enabled && !current) {
    return Status::InvalidArgument("TimeToLive is already disabled");
  }
  TableInfo info = table->ChangeInfo([&](TableInfo* t) {
    if (enabled) {
      t->ttl_attribute = attribute;
    } else {
      t->ttl_attribute.reset();
    }
  });
  EDDY_RETURN_IF_ERROR(PutRecord(info, table->id()));
  logger_->info("{} TTL on table {} (attribute {})",
                enabled ? "enabled" : "disabled", name, attribute);
  return info;
}

Result<TableInfo> DatabaseImpl::UpdateTags(
    const std::string& name, const std::map<std::string, std::string>& set,
    const std::vector<std::string>& remove) {
  std::lock_guard<std::mutex> lock(catalog_mu_);
  std::shared_ptr<TableImpl> table = FindTable(name);
  if (!table) return TableNotFound(name);
  // The limit applies to the set after the change, and a rejected change
  // changes nothing (as DynamoDB).
  std::map<std::string, std::string> tags = table->Describe().tags;
  for (const auto& [key, value] : set) tags[key] = value;
  for (const std::string& key : remove) tags.erase(key);
  if (tags.size() > kMaxTagsPerTable) {
    return Status::InvalidArgument(
        "Number of Tags exceed the current limit for the provided "
        "ResourceArn");
  }
  TableInfo info =
      table->ChangeInfo([&](TableInfo* t) { t->tags = std::move(tags); });
  EDDY_RETURN_IF_ERROR(PutRecord(info, table->id()));
  return info;
}

Result<int64_t> DatabaseImpl::SweepExpired(
    const std::optional<std::string>& name) {
  std::vector<std::shared_ptr<TableImpl>> tables;
  if (name) {
    std::shared_ptr<TableImpl> table = FindTable(*name);
    if (!table) return TableNotFound(*name);
    tables.push_back(std::move(table));
  } else {
    std::shared_lock<std::shared_mutex> read(tables_mu_);
    for (const auto& [table_name, table] : tables_) tables.push_back(table);
  }
  std::lock_guard<std::mutex> run(sweep_run_mu_);
  int64_t deleted = 0;
  for (const std::shared_ptr<TableImpl>& table : tables) {
    if (stopping_.load()) break;
    const std::optional<std::string> attribute =
        table->Describe().ttl_attribute;
    if (!attribute) continue;
    Result<SweepStats> stats = SweepTable(
        table.get(), *attribute, NowMillis() / 1000, stopping_, logger_.get());
    if (!stats.ok()) {
      if (stats.status().IsNotFound()) continue;  // Deleted meanwhile.
      return stats.status();
    }
    deleted += stats->deleted;
  }
  return deleted;
}

void DatabaseImpl::SweeperLoop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(drop_mu_);
      if (sweep_cv_.wait_for(
              lock, std::chrono::milliseconds(options_.ttl_sweep_interval_ms),
              [this] { return closing_; })) {
        return;
      }
    }
    Result<int64_t> deleted = SweepExpired(std::nullopt);
    if (!deleted.ok()) {
      logger_->warn("TTL sweep failed: {}", deleted.status().ToString());
    }
  }
}

std::vector<std::string> DatabaseImpl::ListTables(
    const std::optional<std::string>& exclusive_start, size_t limit) {
  std::shared_lock<std::shared_mutex> read(tables_mu_);
  std::vector<std::string> names;
  auto it =
      exclusive_start ? tables_.upper_bound(*exclusive_start) : tables_.begin();
  auto r = exclusive_start ? restoring_.upper_bound(*exclusive_start)
                           : restoring_.begin();
  // Both maps in name order, merged.
  while (names.size() < limit &&
         (it != tables_.end() || r != restoring_.end())) {
    if (r == restoring_.end() ||
        (it != tables_.end() && it->first < r->first)) {
      names.push_back((it++)->first);
    } else {
      names.push_back((r++)->first);
    }
  }
  return names;
}

std::shared_ptr<TableImpl> DatabaseImpl::FindTable(const std::string& name) {
  std::shared_lock<std::shared_mutex> read(tables_mu_);
  auto it = tables_.find(name);
  if (it == tables_.end()) return nullptr;
  return it->second;
}

std::shared_ptr<Table> DatabaseImpl::GetTable(const std::string& name) {
  return FindTable(name);
}

std::optional<TableInfo> DatabaseImpl::DescribeTable(const std::string& name) {
  if (std::shared_ptr<TableImpl> table = FindTable(name)) {
    return table->Describe();
  }
  std::shared_ptr<TableImpl> table;
  {
    std::shared_lock<std::shared_mutex> read(tables_mu_);
    auto it = restoring_.find(name);
    if (it == restoring_.end()) return std::nullopt;
    table = it->second;
  }
  // CREATING until it is served (its record may say ACTIVE a moment
  // earlier, FinishRestore).
  TableInfo info = table->Describe();
  info.status = TableStatus::kCreating;
  if (info.restore) info.restore->in_progress = true;
  return info;
}

std::string DatabaseImpl::StreamDir(uint64_t table_id,
                                    const std::string& label) const {
  std::string safe = label;
  for (char& c : safe) {
    if (c == ':') c = '-';
  }
  return options_.path + "/streams/" + std::to_string(table_id) + "/" + safe;
}

Result<std::shared_ptr<ChangeStreamImpl>> DatabaseImpl::NewStream(
    uint64_t table_id, const TableSchema& schema, StreamViewType view,
    int64_t now) {
  StreamDescription d;
  d.table_name = schema.name;
  // Labels are creation times and must differ between the streams of a
  // table name (ARNs name a stream by table name and label).
  d.created_ms = now;
  {
    std::shared_lock<std::shared_mutex> read(tables_mu_);
    auto it = streams_.find(schema.name);
    if (it != streams_.end()) {
      for (const auto& s : it->second) {
        d.created_ms = std::max(d.created_ms, s->description().created_ms + 1);
      }
    }
  }
  d.label = StreamLabel(d.created_ms);
  d.view_type = view;
  d.shard_count = options_.stream_shards;
  d.generations = {d.created_ms};
  d.shard_naming = ShardNaming::kOrdered;
  d.hash_key = schema.hash_key.name;
  d.range_key = schema.range_key ? schema.range_key->name : "";
  return OpenStream(table_id, d);
}

Result<std::shared_ptr<ChangeStreamImpl>> DatabaseImpl::OpenStream(
    uint64_t table_id, const StreamDescription& d) {
  return ChangeStreamImpl::Open(StreamDir(table_id, d.label), table_id, d,
                                shard_options_);
}

Status DatabaseImpl::OpenStreams(const std::shared_ptr<TableImpl>& table) {
  const TableInfo info = table->Describe();
  std::vector<std::shared_ptr<ChangeStreamImpl>> opened;
  for (const StreamDescription& d : info.streams) {
    Result<std::shared_ptr<ChangeStreamImpl>> stream =
        OpenStream(table->id(), d);
    if (!stream.ok()) return stream.status();
    if (d.enabled()) {
      EDDY_RETURN_IF_ERROR(table->WithWritesPaused([&] {
        table->SetStream(*stream);
        return Status::OK();
      }));
    }
    opened.push_back(std::move(*stream));
  }
  auto& list = streams_[info.schema.name];
  list.insert(list.end(), opened.begin(), opened.end());
  return Status::OK();
}

Status DatabaseImpl::OpenRetainedStreams() {
  std::unique_ptr<leveldb::Iterator> it(
      db_->held_db()->NewIterator(DbHandle::ReadOptions()));
  size_t count = 0;
  for (it->Seek(std::string(1, kRetainedPrefix));
       it->Valid() && it->key()[0] == kRetainedPrefix; it->Next()) {
    proto::RetainedStream retained;
    if (!retained.ParseFromArray(it->value().data(),
                                 static_cast<int>(it->value().size()))) {
      return Status::Corruption("bad retained stream entry " +
                                it->key().ToString());
    }
    StreamDescription d =
        FromStreamMeta(retained.stream(), retained.table_name());
    Result<std::shared_ptr<ChangeStreamImpl>> stream =
        OpenStream(retained.table_id(), d);
    if (!stream.ok()) return stream.status();
    streams_[retained.table_name()].push_back(std::move(*stream));
    ++count;
  }
  if (!it->status().ok()) return FromLevelDb(it->status());
  // Latest first within each table name.
  for (auto& [name, list] : streams_) {
    std::stable_sort(
        list.begin(), list.end(), [](const auto& a, const auto& b) {
          return a->description().created_ms > b->description().created_ms;
        });
  }
  if (count > 0) {
    logger_->info(
        "{} streams of deleted tables are readable until their "
        "retention passes",
        count);
  }
  return Status::OK();
}

Result<TransactWriteResult> DatabaseImpl::TransactWrite(
    const std::vector<TransactWriteAction>& actions) {
  return RunTransaction(db_.get(), options_.sync, ++next_transaction_id_,
                        actions, *logger_);
}

Result<std::vector<std::optional<Item>>> DatabaseImpl::TransactGet(
    const std::vector<TransactGetAction>& gets) {
  return ReadTransaction(db_.get(), gets);
}

Status DatabaseImpl::UpdateStream(const std::shared_ptr<TableImpl>& table,
                                  const StreamUpdate& update, int64_t now) {
  const std::string& name = table->schema().name;
  return table->WithWritesPaused([&]() -> Status {
    std::shared_ptr<ChangeStreamImpl> current = table->stream_while_locked();
    if (update.enabled) {
      if (current) {
        return Status::InvalidArgument(
            "Table already has an enabled stream: TableName: " + name);
      }
      Result<std::shared_ptr<ChangeStreamImpl>> stream =
          NewStream(table->id(), table->schema(), update.view_type, now);
      if (!stream.ok()) return stream.status();
      TableInfo info = table->ChangeInfo([&](TableInfo* t) {
        t->streams.insert(t->streams.begin(), (*stream)->description());
      });
      EDDY_RETURN_IF_ERROR(PutRecord(info, table->id()));
      table->SetStream(*stream);
      std::unique_lock<std::shared_mutex> write(tables_mu_);
      auto& list = streams_[name];
      list.insert(list.begin(), *stream);
      return Status::OK();
    }
    if (!current) {
      return Status::InvalidArgument(
          "Table has no stream to disable: TableName: " + name);
    }
    // No write is in flight: every record is applied, so the exact markers
    // go into the same batch as the catalog change.
    TableInfo info = table->ChangeInfo([&](TableInfo* t) {
      for (StreamDescription& d : t->streams) {
        if (d.label == current->description().label) d.disabled_ms = now;
      }
    });
    std::string data;
    ToRecord(info, table->id()).SerializeToString(&data);
    leveldb::WriteBatch batch;
    batch.Put(CatalogKey(name), data);
    for (uint32_t i = current->first_shard(); i < current->shard_count(); ++i) {
      std::string marker;
      AppendBigEndian64(current->shard(i)->last_sequence(), &marker);
      batch.Put(current->MarkerKey(i), marker);
    }
    DbHandle::Use use(db_.get());  // Nested in UpdateTable's.
    EDDY_RETURN_IF_ERROR(db_->Write(use, Synced(), &batch));
    // The catalog says disabled from here on: the table stops writing to
    // the stream whether or not sealing works now (the maintenance and the
    // next Open seal it).
    table->SetStream(nullptr);
    Status sealed = current->Disable(now);
    if (!sealed.ok()) {
      logger_->warn("sealing the disabled stream of table {}: {}; retried",
                    name, sealed.ToString());
    }
    return Status::OK();
  });
}

std::vector<std::shared_ptr<ChangeStream>> DatabaseImpl::ListStreams(
    const std::optional<std::string>& table) {
  std::shared_lock<std::shared_mutex> read(tables_mu_);
  std::vector<std::shared_ptr<ChangeStream>> out;
  for (const auto& [name, list] : streams_) {
    if (table && name != *table) continue;
    out.insert(out.end(), list.begin(), list.end());
  }
  return out;
}

std::shared_ptr<ChangeStream> DatabaseImpl::GetStream(
    const std::string& table, const std::string& label) {
  std::shared_lock<std::shared_mutex> read(tables_mu_);
  auto it = streams_.find(table);
  if (it == streams_.end()) return nullptr;
  for (const auto& stream : it->second) {
    if (stream->description().label == label) return stream;
  }
  return nullptr;
}

Status DatabaseImpl::TrimStreams() {
  const int64_t horizon = Now() - options_.stream_retention_ms;
  std::vector<std::pair<std::string, std::shared_ptr<ChangeStreamImpl>>> all;
  {
    std::shared_lock<std::shared_mutex> read(tables_mu_);
    for (const auto& [name, list] : streams_) {
      for (const auto& stream : list) all.emplace_back(name, stream);
    }
  }
  Status result;
  for (auto& [name, stream] : all) {
    const StreamDescription d = stream->description();
    if (!d.enabled() && d.disabled_ms < horizon) {
      // A disabled stream past retention disappears.
      std::lock_guard<std::mutex> lock(catalog_mu_);
      Status removed = RemoveStream(name, stream);
      if (!removed.ok()) result = removed;
      continue;
    }
    // A disabled stream whose sealing failed is sealed now.
    Status sealed = stream->SealIfDisabled();
    if (!sealed.ok()) result = sealed;
    Status trimmed = stream->TrimBefore(horizon);
    if (!trimmed.ok()) result = trimmed;
    if (d.enabled() && stream->RetirableBefore(horizon) > d.first_generation) {
      std::lock_guard<std::mutex> lock(catalog_mu_);
      Status retired = RetireGenerations(name, stream, horizon);
      if (!retired.ok()) result = retired;
    }
  }
  return result;
}

Status DatabaseImpl::RetireGenerations(
    const std::string& name, const std::shared_ptr<ChangeStreamImpl>& stream,
    int64_t horizon) {
  std::shared_ptr<TableImpl> table = FindTable(name);
  if (!table || table->stream() != stream) return Status::OK();
  const uint32_t first = stream->RetirableBefore(horizon);
  const StreamDescription before = stream->description();
  if (first <= before.first_generation) return Status::OK();
  TableInfo info = table->ChangeInfo([&](TableInfo* t) {
    for (StreamDescription& d : t->streams) {
      if (d.label == before.label) d.first_generation = first;
    }
  });
  std::string data;
  ToRecord(info, table->id()).SerializeToString(&data);
  leveldb::WriteBatch batch;
  batch.Put(CatalogKey(name), data);
  for (uint32_t i = before.first_generation * stream->width();
       i < first * stream->width(); ++i) {
    batch.Delete(stream->MarkerKey(i));
  }
  DbHandle::Use use(db_.get());
  EDDY_RETURN_IF_ERROR(use.status());
  EDDY_RETURN_IF_ERROR(db_->CheckWritable());
  EDDY_RETURN_IF_ERROR(db_->Write(use, Synced(), &batch));
  logger_->info(
      "stream {} of table {}: shards {}..{} retired (closed, every record "
      "expired)",
      before.label, name, before.first_generation * stream->width(),
      first * stream->width() - 1);
  return stream->Retire(first);
}

Status DatabaseImpl::RollOverStreams() {
  if (options_.stream_rollover_ms <= 0) return Status::OK();
  const int64_t now = Now();
  std::vector<std::shared_ptr<TableImpl>> tables;
  {
    std::shared_lock<std::shared_mutex> read(tables_mu_);
    for (const auto& [name, table] : tables_) tables.push_back(table);
  }
  Status result;
  for (const std::shared_ptr<TableImpl>& table : tables) {
    std::shared_ptr<ChangeStreamImpl> stream = table->stream();
    if (!stream || now - stream->description().generations.back() <
                       options_.stream_rollover_ms) {
      continue;
    }
    std::lock_guard<std::mutex> lock(catalog_mu_);
    const std::string& name = table->schema().name;
    // Not while the store recovers from a failed write: the records it
    // redoes must stay in the shards they were written to until then.
    DbHandle::Use use(db_.get());
    Status s = use.status();
    if (s.ok()) s = db_->CheckWritable();
    if (s.ok())
      s = table->WithWritesPaused([&]() -> Status {
        if (table->stream_while_locked() != stream) return Status::OK();
        const uint32_t closing = stream->shard_count() - stream->width();
        EDDY_ASSIGN_OR_RETURN(StreamDescription next,
                              stream->PrepareRollover(now));
        TableInfo info = table->ChangeInfo([&](TableInfo* t) {
          for (StreamDescription& d : t->streams) {
            if (d.label == next.label) {
              d.generations = next.generations;
            }
          }
        });
        // No write is in flight: the closing shards' exact markers go into
        // the catalog's batch, so they are never replayed.
        std::string data;
        ToRecord(info, table->id()).SerializeToString(&data);
        leveldb::WriteBatch batch;
        batch.Put(CatalogKey(name), data);
        for (uint32_t i = closing; i < stream->shard_count(); ++i) {
          std::string marker;
          AppendBigEndian64(stream->shard(i)->last_sequence(), &marker);
          batch.Put(stream->MarkerKey(i), marker);
        }
        EDDY_RETURN_IF_ERROR(db_->Write(use, Synced(), &batch));
        EDDY_RETURN_IF_ERROR(stream->CommitRollover());
        logger_->info(
            "stream {} of table {} rolled over: shards {}..{} closed, {}..{} "
            "opened",
            next.label, name, closing, closing + stream->width() - 1,
            closing + stream->width(), closing + 2 * stream->width() - 1);
        return Status::OK();
      });
    if (!s.ok()) {
      logger_->error("rolling over the stream of table {}: {}", name,
                     s.ToString());
      result = s;
    }
  }
  return result;
}

Status DatabaseImpl::CheckpointStreams() {
  std::vector<std::shared_ptr<ChangeStreamImpl>> enabled;
  {
    std::shared_lock<std::shared_mutex> read(tables_mu_);
    for (const auto& [name, table] : tables_) {
      if (auto stream = table->stream()) enabled.push_back(std::move(stream));
    }
  }
  Status result;
  for (const auto& stream : enabled) {
    Status s = stream->Checkpoint();
    if (!s.ok()) result = s;
  }
  return result;
}

Status DatabaseImpl::RemoveStream(
    const std::string& name, const std::shared_ptr<ChangeStreamImpl>& stream) {
  const StreamDescription d = stream->description();
  DbHandle::Use use(db_.get());
  EDDY_RETURN_IF_ERROR(use.status());
  EDDY_RETURN_IF_ERROR(db_->CheckWritable());
  std::shared_ptr<TableImpl> table;
  {
    std::unique_lock<std::shared_mutex> write(tables_mu_);
    auto& list = streams_[name];
    list.erase(std::remove(list.begin(), list.end(), stream), list.end());
    if (list.empty()) streams_.erase(name);
    auto it = tables_.find(name);
    if (it != tables_.end() && it->second->id() == stream->table_id()) {
      table = it->second;
    }
  }
  leveldb::WriteBatch batch;
  if (table) {
    TableInfo info = table->ChangeInfo([&](TableInfo* t) {
      std::erase_if(t->streams, [&](const StreamDescription& x) {
        return x.label == d.label;
      });
    });
    std::string data;
    ToRecord(info, table->id()).SerializeToString(&data);
    batch.Put(CatalogKey(name), data);
  } else {
    batch.Delete(RetainedStreamKey(stream->table_id(), d.label));
  }
  // A disabled stream is never replayed: its applied markers go too.
  for (uint32_t i = 0; i < stream->shard_count(); ++i) {
    batch.Delete(stream->MarkerKey(i));
  }
  Status result = db_->Write(use, Synced(), &batch);
  Status destroyed = stream->Destroy();
  if (!destroyed.ok() && result.ok()) result = destroyed;
  // The table's stream directory goes with its last stream (fails, harmlessly,
  // while other streams of the table remain).
  std::error_code ec;
  std::filesystem::remove(
      options_.path + "/streams/" + std::to_string(stream->table_id()), ec);
  logger_->info("removed stream {} of {}table {} after its retention period",
                d.label, table ? "" : "deleted ", name);
  return result;
}

void DatabaseImpl::DropperLoop() {
  int64_t pause = options_.recovery_retry_ms;
  for (;;) {
    DropWork work;
    {
      std::unique_lock<std::mutex> lock(drop_mu_);
      const bool woken = drop_cv_.wait_for(
          lock, std::chrono::milliseconds(options_.maintenance_interval_ms),
          [this] { return closing_ || !drop_queue_.empty(); });
      if (closing_) return;
      if (!woken) {
        lock.unlock();
        Status rolled = RollOverStreams();
        if (!rolled.ok()) {
          logger_->warn("rolling over streams: {}", rolled.ToString());
        }
        Status s = TrimStreams();
        if (!s.ok()) logger_->warn("trimming streams: {}", s.ToString());
        s = PersistStatistics();
        if (!s.ok()) {
          logger_->warn("writing back table statistics: {}", s.ToString());
        }
        s = CheckpointStreams();
        if (!s.ok()) logger_->warn("checkpointing streams: {}", s.ToString());
        s = TrimHistory();
        if (!s.ok()) {
          logger_->warn("trimming point-in-time recovery history: {}",
                        s.ToString());
        }
        CheckTableMemory();
        continue;
      }
      work = drop_queue_.front();
    }
    Status s = RemoveItems(work);
    if (!s.ok()) {
      // Kept in the queue: retried once the store has recovered.
      logger_->warn("removing entries of dropped table {} failed: {}; retrying",
                    work.table_id, s.ToString());
      if (!PauseUnlessClosing(pause)) return;
      pause = std::min(pause * 2, options_.recovery_max_retry_ms);
      continue;
    }
    pause = options_.recovery_retry_ms;
    std::lock_guard<std::mutex> lock(drop_mu_);
    drop_queue_.pop_front();
  }
}

void DatabaseImpl::CheckTableMemory() {
  const uint64_t charged = table_memory_.bytes.load(std::memory_order_relaxed);
  const bool over = charged > options_.block_cache_bytes;
  if (over == table_memory_over_) return;
  table_memory_over_ = over;
  if (over) {
    logger_->warn(
        "the open tables' index and Bloom filter blocks ({} MiB) exceed the "
        "block cache they are charged to ({} MiB): table blocks are no "
        "longer cached and memory grows with the table; give the block cache "
        "more",
        charged >> 20, options_.block_cache_bytes >> 20);
  } else {
    logger_->info(
        "the open tables' index and Bloom filter blocks ({} MiB) fit in the "
        "block cache again ({} MiB)",
        charged >> 20, options_.block_cache_bytes >> 20);
  }
}

Status DatabaseImpl::RemoveItems(const DropWork& work) {
  std::vector<std::string> prefixes;
  // Keys at or past `limit` are kept (history entries newer than the
  // bound).
  std::string limit;
  if (!work.history_limit.empty()) {
    prefixes.push_back(HistoryPrefix(work.table_id));
    limit = work.history_limit;
  } else if (work.index_id) {
    prefixes.push_back(IndexEntryPrefix(work.table_id, *work.index_id));
  } else {
    prefixes.push_back(TableItemPrefix(work.table_id));
    prefixes.push_back(IndexEntryPrefix(work.table_id));
    prefixes.push_back(HistoryPrefix(work.table_id));
  }
  int64_t removed = 0;
  for (const std::string& prefix : prefixes) {
    for (;;) {
      DbHandle::Use use(db_.get());
      EDDY_RETURN_IF_ERROR(use.status());
      EDDY_RETURN_IF_ERROR(db_->CheckWritable());
      leveldb::WriteBatch batch;
      int n = 0;
      {
        std::unique_ptr<leveldb::Iterator> it(
            use.db()->NewIterator(DbHandle::ReadOptions()));
        for (it->Seek(prefix);
             it->Valid() && it->key().starts_with(prefix) && n < kDropBatch &&
             (limit.empty() || it->key().compare(limit) < 0);
             it->Next(), ++n) {
          batch.Delete(it->key());
        }
        if (!it->status().ok()) return FromLevelDb(it->status());
      }
      if (n == 0) break;
      EDDY_RETURN_IF_ERROR(db_->Write(use, leveldb::WriteOptions(), &batch));
      removed += n;
      std::lock_guard<std::mutex> lock(drop_mu_);
      if (closing_) return Status::OK();  // Resumed at the next Open.
    }
  }
  if (!work.history_limit.empty()) {
    if (removed > 0) {
      logger_->debug("removed {} history entries of table id {}", removed,
                     work.table_id);
    }
    return Status::OK();
  }
  if (work.index_id) {
    logger_->debug("removed {} entries of deleted index {} of table id {}",
                   removed, *work.index_id, work.table_id);
    return Status::OK();
  }
  DbHandle::Use use(db_.get());
  EDDY_RETURN_IF_ERROR(use.status());
  EDDY_RETURN_IF_ERROR(db_->CheckWritable());
  leveldb::WriteBatch batch;
  batch.Delete(DroppedKey(work.table_id));
  EDDY_RETURN_IF_ERROR(db_->Write(use, leveldb::WriteOptions(), &batch));
  logger_->debug("removed {} entries of dropped table id {}", removed,
                 work.table_id);
  return Status::OK();
}

Status DatabaseImpl::Close() {
  if (closed_ || db_ == nullptr) return Status::OK();
  closed_ = true;
  {
    std::lock_guard<std::mutex> lock(drop_mu_);
    closing_ = true;
  }
  drop_cv_.notify_all();
  stopping_ = true;
  sweep_cv_.notify_all();
  // Jobs first: they hold Uses and are resumed at the next Open.
  if (jobs_) jobs_->Stop();
  db_->Wake();
  for (std::thread* t : {&sweeper_, &dropper_, &recovery_, &recounter_}) {
    if (t->joinable()) t->join();
  }
  {
    std::lock_guard<std::mutex> lock(backfill_mu_);
    for (std::thread& t : backfills_) {
      if (t.joinable()) t.join();
    }
    backfills_.clear();
  }

  Status result;
  if (db_->failed()) {
    // Records may be waiting for the redo: the markers must stay where they
    // are, and the next Open recovers (and recounts).
    result = db_->failure();
    logger_->warn(
        "closing while recovering from a failed write ({}); the next start "
        "finishes the recovery",
        result.ToString());
  } else {
    // Persist the exact statistics, then mark the shutdown clean.
    result = PersistStatistics();
    std::lock_guard<std::mutex> lock(catalog_mu_);
    DbHandle::Use use(db_.get());
    std::shared_lock<std::shared_mutex> read(tables_mu_);
    for (auto& [name, table] : tables_) {
      // Nothing is in flight any more: every record is applied.
      if (auto stream = table->stream()) {
        leveldb::WriteBatch batch;
        for (uint32_t i = stream->first_shard(); i < stream->shard_count();
             ++i) {
          std::string marker;
          AppendBigEndian64(stream->shard(i)->last_sequence(), &marker);
          batch.Put(stream->MarkerKey(i), marker);
        }
        Status s = db_->Write(use, Synced(), &batch);
        if (!s.ok()) result = s;
      }
    }
    // Statistics still being recounted are not exact: without the clean
    // marker the next Open recounts them.
    if (result.ok() && !recount_pending_) {
      leveldb::WriteBatch batch;
      batch.Put(MetaKey("clean"), "1");
      result = db_->Write(use, Synced(), &batch);
    }
  }
  tables_.clear();
  restoring_.clear();
  // Whoever still holds a stream (a reader, the dispatcher) finds its logs
  // closed: once the lock below is let go they may be another process's.
  for (const auto& [name, list] : streams_) {
    for (const auto& stream : list) {
      if (Status s = stream->Close(); !s.ok()) {
        logger_->warn("closing the stream logs of {}: {}", name, s.ToString());
      }
    }
  }
  streams_.clear();
  db_->Close();
  data_lock_.Reset();
  logger_->info("closed data directory {}", options_.path);
  return result;
}

Result<std::unique_ptr<Database>> Database::Open(Options options) {
  auto db = std::make_unique<DatabaseImpl>(std::move(options));
  EDDY_RETURN_IF_ERROR(db->Open());
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace eddy::store
