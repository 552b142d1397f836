#include "eddy/store/database.h"

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/iterator.h>
#include <leveldb/write_batch.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "background_env.h"
#include "catalog.h"
#include "eddy/change_record.pb.h"
#include "eddy/store/item_codec.h"
#include "table_impl.h"
#include "transaction.h"
#include "ttl_sweeper.h"

namespace eddy::store {
namespace {

// Items are removed from a dropped table in batches of this many keys.
constexpr int kDropBatch = 1000;

class DatabaseImpl final : public Database {
 public:
  explicit DatabaseImpl(Options options) : options_(std::move(options)) {
    logger_ = options_.logger ? options_.logger : spdlog::default_logger();
  }

  ~DatabaseImpl() override { Close().IgnoreError(); }

  Status Open();

  Result<TableInfo> CreateTable(const TableSchema& schema) override;
  Result<TableInfo> DeleteTable(const std::string& name) override;
  Result<TableInfo> UpdateTable(const std::string& name,
                                const TableUpdate& update) override;
  Result<TableInfo> UpdateTimeToLive(const std::string& name, bool enabled,
                                     const std::string& attribute) override;
  Result<TableInfo> UpdateTags(const std::string& name,
                               const std::map<std::string, std::string>& set,
                               const std::vector<std::string>& remove) override;
  Result<int64_t> SweepExpired(
      const std::optional<std::string>& table) override;
  std::vector<std::string> ListTables(
      const std::optional<std::string>& exclusive_start, size_t limit) override;
  std::shared_ptr<Table> GetTable(const std::string& name) override;
  std::vector<std::shared_ptr<ChangeStream>> ListStreams(
      const std::optional<std::string>& table) override;
  std::shared_ptr<ChangeStream> GetStream(const std::string& table,
                                          const std::string& label) override;
  Status TrimStreams() override;
  Status RollOverStreams() override;
  Result<TransactWriteResult> TransactWrite(
      const std::vector<TransactWriteAction>& actions) override;
  Result<std::vector<std::optional<Item>>> TransactGet(
      const std::vector<TransactGetAction>& gets) override;
  Status Close() override;

 private:
  Status PutRecord(const TableInfo& info, uint64_t id);
  std::shared_ptr<TableImpl> FindTable(const std::string& name);
  // The wall clock for stream bookkeeping (Options::clock_ms).
  int64_t Now() const {
    return options_.clock_ms ? options_.clock_ms() : NowMillis();
  }
  static Status TableNotFound(const std::string& name) {
    return Status::NotFound("Requested resource not found: Table: " + name +
                            " not found");
  }
  std::string StreamDir(uint64_t table_id, const std::string& label) const;
  // Creates a new enabled stream for a table (not yet attached to it). Its
  // label (creation time) is later than that of every stream of a table of
  // that name still known, also of a deleted one, so that stream ARNs are
  // never reused. REQUIRES: catalog_mu_ held.
  Result<std::shared_ptr<ChangeStreamImpl>> NewStream(uint64_t table_id,
                                                      const TableSchema& schema,
                                                      StreamViewType view,
                                                      int64_t now);
  // Opens the streams a table's catalog record lists and attaches the
  // enabled one.
  Status OpenStreams(const std::shared_ptr<TableImpl>& table);
  // Opens the retained streams of deleted tables ("s" keys).
  Status OpenRetainedStreams();
  // Removes a disabled stream past its retention period: from its table's
  // catalog record, or its retained-stream record when the table is gone,
  // then its files. REQUIRES: catalog_mu_ held.
  Status RemoveStream(const std::string& table_name,
                      const std::shared_ptr<ChangeStreamImpl>& stream);
  // Finishes interrupted transactions, then replays the records of every
  // enabled stream that LevelDB lacks. Returns how many transactions it
  // finished.
  Result<int> RecoverStreams();
  Status Replay(ChangeStreamImpl* stream);
  // Retires the closed generations of an enabled stream whose records all
  // expired: the catalog first, then the files. REQUIRES: catalog_mu_.
  Status RetireGenerations(const std::string& name,
                           const std::shared_ptr<ChangeStreamImpl>& stream,
                           int64_t horizon);
  Status UpdateStream(const std::shared_ptr<TableImpl>& table,
                      const StreamUpdate& update, int64_t now);
  // Recounts items and bytes of every table (after an unclean shutdown).
  Status Recount();
  void DropperLoop();
  // Runs SweepExpired every ttl_sweep_interval_ms until Close.
  void SweeperLoop();
  struct DropWork;
  Status RemoveItems(const DropWork& work);
  // Starts the backfill of a GSI being created.
  void StartBackfill(const std::shared_ptr<TableImpl>& table,
                     uint32_t index_id);
  // UpdateTable's GlobalSecondaryIndexUpdates.
  Status UpdateIndexes(const std::shared_ptr<TableImpl>& table,
                       const TableUpdate& update);

  Options options_;
  std::shared_ptr<spdlog::logger> logger_;
  std::unique_ptr<leveldb::Cache> cache_;
  std::unique_ptr<const leveldb::FilterPolicy> filter_;
  std::unique_ptr<leveldb::Env> env_;  // Outlives db_.
  std::unique_ptr<leveldb::DB> db_;

  // Serialises catalog changes (create, delete, update of tables).
  std::mutex catalog_mu_;
  std::shared_mutex tables_mu_;  // Guards tables_.
  std::map<std::string, std::shared_ptr<TableImpl>> tables_;
  // Every table name's streams, latest first, including those of deleted
  // tables of that name still within retention (guarded by tables_mu_).
  std::map<std::string, std::vector<std::shared_ptr<ChangeStreamImpl>>>
      streams_;
  uint64_t next_table_id_ = 1;  // Guarded by catalog_mu_.
  // Ids of transaction intents: unique across restarts because they start
  // from the clock (in microseconds) at every Open.
  std::atomic<uint64_t> next_transaction_id_{0};

  std::mutex drop_mu_;
  std::condition_variable drop_cv_;
  // Entries to remove in the background: a dropped table's items and index
  // entries, or a deleted index's entries.
  struct DropWork {
    uint64_t table_id = 0;
    std::optional<uint32_t> index_id;  // Absent: the whole table.
  };
  std::deque<DropWork> drop_queue_;
  // GSI backfills (stopped early by stopping_; resumed at the next Open).
  std::mutex backfill_mu_;
  std::vector<std::thread> backfills_;
  bool closing_ = false;
  std::thread dropper_;
  // The TTL sweeper waits on sweep_cv_ (with drop_mu_, for closing_);
  // sweeps stop early once stopping_ is set. sweep_run_mu_ serialises
  // sweeps (background and SweepExpired calls).
  std::condition_variable sweep_cv_;
  std::atomic<bool> stopping_{false};
  std::mutex sweep_run_mu_;
  std::thread sweeper_;
  bool closed_ = false;
};

Status DatabaseImpl::Open() {
  std::error_code ec;
  std::filesystem::create_directories(options_.path, ec);
  if (ec) {
    return Status::IOError("cannot create data directory " + options_.path +
                           ": " + ec.message());
  }
  cache_.reset(leveldb::NewLRUCache(options_.block_cache_bytes));
  filter_.reset(leveldb::NewBloomFilterPolicy(10));
  leveldb::Options lo;
  lo.create_if_missing = true;
  lo.paranoid_checks = true;
  lo.block_cache = cache_.get();
  lo.filter_policy = filter_.get();
  if (options_.background_yield_bytes > 0) {
    env_ = NewBackgroundYieldingEnv(leveldb::Env::Default(),
                                    options_.background_yield_bytes);
    lo.env = env_.get();
  }
  lo.write_buffer_size = 32 * 1024 * 1024;
  lo.max_file_size = 8 * 1024 * 1024;
  leveldb::DB* raw = nullptr;
  leveldb::Status s = leveldb::DB::Open(lo, options_.path + "/leveldb", &raw);
  if (!s.ok()) return Status::IOError("cannot open database: " + s.ToString());
  db_.reset(raw);

  // Load the catalog and the tables still being dropped.
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator({}));
  for (it->Seek(std::string(1, kCatalogPrefix));
       it->Valid() && it->key()[0] == kCatalogPrefix; it->Next()) {
    proto::TableRecord record;
    if (!record.ParseFromArray(it->value().data(),
                               static_cast<int>(it->value().size()))) {
      return Status::Corruption("bad catalog entry " + it->key().ToString());
    }
    next_table_id_ = std::max(next_table_id_, record.id() + 1);
    tables_[record.name()] = std::make_shared<TableImpl>(
        db_.get(), options_.sync, record.id(), FromRecord(record), logger_);
  }
  for (it->Seek(std::string(1, kDroppedPrefix));
       it->Valid() && it->key()[0] == kDroppedPrefix; it->Next()) {
    uint64_t id = ReadBigEndian64(
        std::string_view(it->key().data() + 1, it->key().size() - 1));
    next_table_id_ = std::max(next_table_id_, id + 1);
    drop_queue_.push_back({id, std::nullopt});
  }
  it.reset();

  std::string value;
  s = db_->Get({}, MetaKey("next_table_id"), &value);
  if (s.ok()) next_table_id_ = std::max(next_table_id_, ReadBigEndian64(value));

  // The clean marker says the stored statistics are exact; remove it so a
  // crash from now on is detected at the next Open.
  s = db_->Get({}, MetaKey("clean"), &value);
  const bool clean = s.ok();
  for (auto& [name, table] : tables_) EDDY_RETURN_IF_ERROR(OpenStreams(table));
  EDDY_RETURN_IF_ERROR(OpenRetainedStreams());
  Result<int> finished = RecoverStreams();
  if (!finished.ok()) return finished.status();
  next_transaction_id_ = static_cast<uint64_t>(NowMillis()) * 1000;
  // A finished transaction was never counted.
  if ((!clean || *finished > 0) && !tables_.empty()) {
    EDDY_RETURN_IF_ERROR(Recount());
  }
  leveldb::WriteOptions sync;
  sync.sync = true;
  s = db_->Delete(sync, MetaKey("clean"));
  if (!s.ok()) return Status::IOError(s.ToString());

  logger_->info("opened data directory {} ({} tables{})", options_.path,
                tables_.size(),
                clean || tables_.empty() ? "" : ", recovered after a crash");
  dropper_ = std::thread([this] { DropperLoop(); });
  for (const auto& [name, table] : tables_) {
    for (const IndexInfo& index : table->Describe().indexes) {
      if (index.backfilling) StartBackfill(table, index.id);
    }
  }
  if (options_.ttl_sweep_interval_ms > 0) {
    sweeper_ = std::thread([this] { SweeperLoop(); });
  }
  return Status::OK();
}

Status DatabaseImpl::Recount() {
  // Counts and sizes the entries under `prefix`.
  auto count = [&](const std::string& prefix, const std::string& what,
                   int64_t* entries, int64_t* bytes) -> Status {
    *entries = 0;
    *bytes = 0;
    auto last_log = std::chrono::steady_clock::now();
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator({}));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
         it->Next()) {
      Result<Item> item =
          DecodeItem(std::string_view(it->value().data(), it->value().size()));
      if (!item.ok()) return item.status();
      ++*entries;
      *bytes += static_cast<int64_t>(ItemSize(*item));
      auto now = std::chrono::steady_clock::now();
      if (now - last_log > std::chrono::seconds(1)) {
        logger_->info("recounting {}: {} items so far", what, *entries);
        last_log = now;
      }
    }
    if (!it->status().ok()) return Status::IOError(it->status().ToString());
    return Status::OK();
  };
  for (auto& [name, table] : tables_) {
    int64_t items = 0;
    int64_t bytes = 0;
    EDDY_RETURN_IF_ERROR(
        count(TableItemPrefix(table->id()), "table " + name, &items, &bytes));
    table->SetStats(items, bytes);
    logger_->info("recounted table {}: {} items, {} bytes", name, items, bytes);
    for (const IndexInfo& index : table->Describe().indexes) {
      EDDY_RETURN_IF_ERROR(count(
          IndexEntryPrefix(table->id(), index.id),
          "index " + index.schema.name + " of table " + name, &items, &bytes));
      table->SetIndexStats(index.id, items, bytes);
    }
  }
  return Status::OK();
}

Status DatabaseImpl::PutRecord(const TableInfo& info, uint64_t id) {
  std::string data;
  ToRecord(info, id).SerializeToString(&data);
  leveldb::WriteOptions sync;
  sync.sync = true;
  leveldb::Status s = db_->Put(sync, CatalogKey(info.schema.name), data);
  if (!s.ok()) return Status::IOError(s.ToString());
  return Status::OK();
}

Result<TableInfo> DatabaseImpl::CreateTable(const TableSchema& schema) {
  std::lock_guard<std::mutex> lock(catalog_mu_);
  {
    std::shared_lock<std::shared_mutex> read(tables_mu_);
    if (tables_.count(schema.name) != 0) {
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
  leveldb::WriteOptions sync;
  sync.sync = true;
  leveldb::Status s = db_->Write(sync, &batch);
  if (!s.ok()) return Status::IOError(s.ToString());

  auto table =
      std::make_shared<TableImpl>(db_.get(), options_.sync, id, info, logger_);
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
  std::shared_ptr<TableImpl> table = FindTable(name);
  if (!table) return TableNotFound(name);
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
  leveldb::WriteOptions sync;
  sync.sync = true;
  leveldb::Status s = db_->Write(sync, &batch);
  if (!s.ok()) return Status::IOError(s.ToString());
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
    drop_queue_.push_back({table->id(), std::nullopt});
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
  std::shared_ptr<TableImpl> table = FindTable(name);
  if (!table) return TableNotFound(name);
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
          drop_queue_.push_back({table->id(), id});
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
    Status s = table->BackfillIndex(index_id, stopping_);
    if (s.ok() && !stopping_) {
      // Persist ACTIVE under the catalog lock, unless the table is gone.
      std::lock_guard<std::mutex> catalog_lock(catalog_mu_);
      if (FindTable(table->schema().name) == table) {
        s = PutRecord(table->Describe(), table->id());
      }
    }
    if (!s.ok()) {
      logger_->error("backfill of index {} of table {} failed: {}", index_id,
                     table->schema().name, s.ToString());
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
  for (; it != tables_.end() && names.size() < limit; ++it) {
    names.push_back(it->first);
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
  return ChangeStreamImpl::Open(StreamDir(table_id, d.label), table_id, d,
                                logger_);
}

Status DatabaseImpl::OpenStreams(const std::shared_ptr<TableImpl>& table) {
  const TableInfo info = table->Describe();
  std::vector<std::shared_ptr<ChangeStreamImpl>> opened;
  for (const StreamDescription& d : info.streams) {
    Result<std::shared_ptr<ChangeStreamImpl>> stream = ChangeStreamImpl::Open(
        StreamDir(table->id(), d.label), table->id(), d, logger_);
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
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator({}));
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
        ChangeStreamImpl::Open(StreamDir(retained.table_id(), d.label),
                               retained.table_id(), d, logger_);
    if (!stream.ok()) return stream.status();
    streams_[retained.table_name()].push_back(std::move(*stream));
    ++count;
  }
  if (!it->status().ok()) return Status::IOError(it->status().ToString());
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

Result<int> DatabaseImpl::RecoverStreams() {
  std::map<std::pair<uint64_t, std::string>, ChangeStreamImpl*> enabled;
  for (const auto& [name, table] : tables_) {
    if (ChangeStreamImpl* stream = table->stream().get()) {
      enabled[{table->id(), stream->description().label}] = stream;
    }
  }
  Result<int> finished = RecoverTransactions(
      db_.get(),
      [&](uint64_t table_id, const std::string& label) -> ChangeStreamImpl* {
        auto it = enabled.find({table_id, label});
        return it == enabled.end() ? nullptr : it->second;
      },
      *logger_);
  if (!finished.ok()) return finished.status();
  for (const auto& [where, stream] : enabled) {
    EDDY_RETURN_IF_ERROR(Replay(stream));
  }
  return finished;
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

Status DatabaseImpl::Replay(ChangeStreamImpl* stream) {
  std::shared_ptr<TableImpl> table;
  for (const auto& [name, t] : tables_) {
    if (t->id() == stream->table_id()) table = t;
  }
  if (!table) return Status::Internal("stream of an unknown table");
  uint64_t replayed = 0;
  // Every live shard, parents before children (index order), so an item's
  // records are applied in commit order across a rollover.
  for (uint32_t shard = stream->first_shard(); shard < stream->shard_count();
       ++shard) {
    const std::string marker_key = stream->MarkerKey(shard);
    std::string value;
    uint64_t applied = 0;
    leveldb::Status s = db_->Get({}, marker_key, &value);
    if (s.ok()) {
      applied = ReadBigEndian64(value);
    } else if (!s.IsNotFound()) {
      return Status::IOError(s.ToString());
    }
    streams::ShardLog* log = stream->shard(shard);
    uint64_t next = std::max(applied + 1, log->first_sequence());
    while (next <= log->last_sequence()) {
      Result<streams::ReadResult> read = log->Read(next, 1000, 16 << 20);
      if (!read.ok()) return read.status();
      if (read->records.empty()) break;
      leveldb::WriteBatch batch;
      // Items as this batch leaves them (a batch may write one item twice).
      std::map<std::string, std::optional<Item>> written;
      for (const streams::LogRecord& record : read->records) {
        proto::ChangeRecord change;
        if (!change.ParseFromString(record.payload)) {
          return Status::Corruption("undecodable stream record " +
                                    std::to_string(record.sequence));
        }
        // Re-applying the record's image through the table's write path
        // also brings the item's index entries up to date.
        TableImpl::PendingWrite write;
        write.db_key = change.db_key();
        auto seen = written.find(write.db_key);
        if (seen != written.end()) {
          write.current = seen->second;
        } else {
          EDDY_ASSIGN_OR_RETURN(write.current, table->ReadItem(write.db_key));
        }
        if (change.has_new_image()) {
          EDDY_ASSIGN_OR_RETURN(Item image, DecodeItem(change.new_image()));
          write.next = std::move(image);
        }
        table->Stage(write, &batch);
        written[write.db_key] = std::move(write.next);
        next = record.sequence + 1;
        ++replayed;
      }
      std::string marker;
      AppendBigEndian64(next - 1, &marker);
      batch.Put(marker_key, marker);
      leveldb::WriteOptions sync;
      sync.sync = true;
      s = db_->Write(sync, &batch);
      if (!s.ok()) return Status::IOError(s.ToString());
    }
  }
  if (replayed > 0) {
    logger_->info("replayed {} stream records of table {} into the store",
                  replayed, stream->description().table_name);
  }
  return Status::OK();
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
    leveldb::WriteOptions sync;
    sync.sync = true;
    leveldb::Status s = db_->Write(sync, &batch);
    if (!s.ok()) return Status::IOError(s.ToString());
    EDDY_RETURN_IF_ERROR(current->Disable(now));
    table->SetStream(nullptr);
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
  leveldb::WriteOptions sync;
  sync.sync = true;
  leveldb::Status s = db_->Write(sync, &batch);
  if (!s.ok()) return Status::IOError(s.ToString());
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
    Status s = table->WithWritesPaused([&]() -> Status {
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
      leveldb::WriteOptions sync;
      sync.sync = true;
      leveldb::Status ls = db_->Write(sync, &batch);
      if (!ls.ok()) return Status::IOError(ls.ToString());
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

Status DatabaseImpl::RemoveStream(
    const std::string& name, const std::shared_ptr<ChangeStreamImpl>& stream) {
  const StreamDescription d = stream->description();
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
  leveldb::WriteOptions sync;
  sync.sync = true;
  leveldb::Status s = db_->Write(sync, &batch);
  Status result = s.ok() ? Status::OK() : Status::IOError(s.ToString());
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
        continue;
      }
      work = drop_queue_.front();
    }
    Status s = RemoveItems(work);
    if (!s.ok()) {
      logger_->error("removing entries of dropped table {} failed: {}",
                     work.table_id, s.ToString());
    }
    std::lock_guard<std::mutex> lock(drop_mu_);
    drop_queue_.pop_front();
  }
}

Status DatabaseImpl::RemoveItems(const DropWork& work) {
  std::vector<std::string> prefixes;
  if (work.index_id) {
    prefixes.push_back(IndexEntryPrefix(work.table_id, *work.index_id));
  } else {
    prefixes.push_back(TableItemPrefix(work.table_id));
    prefixes.push_back(IndexEntryPrefix(work.table_id));
  }
  int64_t removed = 0;
  for (const std::string& prefix : prefixes) {
    for (;;) {
      leveldb::WriteBatch batch;
      int n = 0;
      {
        std::unique_ptr<leveldb::Iterator> it(db_->NewIterator({}));
        for (it->Seek(prefix);
             it->Valid() && it->key().starts_with(prefix) && n < kDropBatch;
             it->Next(), ++n) {
          batch.Delete(it->key());
        }
        if (!it->status().ok()) {
          return Status::IOError(it->status().ToString());
        }
      }
      if (n == 0) break;
      leveldb::Status s = db_->Write({}, &batch);
      if (!s.ok()) return Status::IOError(s.ToString());
      removed += n;
      std::lock_guard<std::mutex> lock(drop_mu_);
      if (closing_) return Status::OK();  // Resumed at the next Open.
    }
  }
  if (work.index_id) {
    logger_->debug("removed {} entries of deleted index {} of table id {}",
                   removed, *work.index_id, work.table_id);
    return Status::OK();
  }
  leveldb::Status s = db_->Delete({}, DroppedKey(work.table_id));
  if (!s.ok()) return Status::IOError(s.ToString());
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
  if (sweeper_.joinable()) sweeper_.join();
  if (dropper_.joinable()) dropper_.join();
  {
    std::lock_guard<std::mutex> lock(backfill_mu_);
    for (std::thread& t : backfills_) {
      if (t.joinable()) t.join();
    }
    backfills_.clear();
  }

  // Persist the exact statistics, then mark the shutdown clean.
  Status result;
  {
    std::lock_guard<std::mutex> lock(catalog_mu_);
    std::shared_lock<std::shared_mutex> read(tables_mu_);
    for (auto& [name, table] : tables_) {
      Status s = PutRecord(table->Describe(), table->id());
      if (!s.ok()) result = s;
      // Nothing is in flight any more: every record is applied.
      if (auto stream = table->stream()) {
        for (uint32_t i = stream->first_shard(); i < stream->shard_count();
             ++i) {
          std::string marker;
          AppendBigEndian64(stream->shard(i)->last_sequence(), &marker);
          leveldb::WriteOptions sync;
          sync.sync = true;
          leveldb::Status ls = db_->Put(sync, stream->MarkerKey(i), marker);
          if (!ls.ok()) result = Status::IOError(ls.ToString());
        }
      }
    }
  }
  if (result.ok()) {
    leveldb::WriteOptions sync;
    sync.sync = true;
    leveldb::Status s = db_->Put(sync, MetaKey("clean"), "1");
    if (!s.ok()) result = Status::IOError(s.ToString());
  }
  tables_.clear();
  streams_.clear();
  db_.reset();
  logger_->info("closed data directory {}", options_.path);
  return result;
}

}  // namespace

Result<std::unique_ptr<Database>> Database::Open(Options options) {
  auto db = std::make_unique<DatabaseImpl>(std::move(options));
  EDDY_RETURN_IF_ERROR(db->Open());
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace eddy::store
