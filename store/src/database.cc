#include "eddy/store/database.h"

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/iterator.h>
#include <leveldb/write_batch.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "catalog.h"
#include "eddy/store/item_codec.h"
#include "table_impl.h"

namespace eddy::store {
namespace {

// Items are removed from a dropped table in batches of this many keys.
constexpr int kDropBatch = 1000;

class DatabaseImpl final : public Database {
 public:
  explicit DatabaseImpl(Options options) : options_(std::move(options)) {
    logger_ = options_.logger ? options_.logger : spdlog::default_logger();
    write_options_.sync = options_.sync;
  }

  ~DatabaseImpl() override { Close().IgnoreError(); }

  Status Open();

  Result<TableInfo> CreateTable(const TableSchema& schema) override;
  Result<TableInfo> DeleteTable(const std::string& name) override;
  Result<TableInfo> UpdateTable(const std::string& name,
                                const TableUpdate& update) override;
  std::vector<std::string> ListTables(
      const std::optional<std::string>& exclusive_start,
      size_t limit) override;
  std::shared_ptr<Table> GetTable(const std::string& name) override;
  Status Close() override;

 private:
  Status PutRecord(const TableInfo& info, uint64_t id);
  // Recounts items and bytes of every table (after an unclean shutdown).
  Status Recount();
  void DropperLoop();
  Status RemoveItems(uint64_t table_id);

  Options options_;
  std::shared_ptr<spdlog::logger> logger_;
  leveldb::WriteOptions write_options_;
  std::unique_ptr<leveldb::Cache> cache_;
  std::unique_ptr<const leveldb::FilterPolicy> filter_;
  std::unique_ptr<leveldb::DB> db_;

  // Serialises catalog changes (create, delete, update of tables).
  std::mutex catalog_mu_;
  std::shared_mutex tables_mu_;  // Guards tables_.
  std::map<std::string, std::shared_ptr<TableImpl>> tables_;
  uint64_t next_table_id_ = 1;  // Guarded by catalog_mu_.

  std::mutex drop_mu_;
  std::condition_variable drop_cv_;
  std::deque<uint64_t> drop_queue_;
  bool closing_ = false;
  std::thread dropper_;
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
  lo.write_buffer_size = 32 * 1024 * 1024;
  lo.max_file_size = 8 * 1024 * 1024;
  leveldb::DB* raw = nullptr;
  leveldb::Status s =
      leveldb::DB::Open(lo, options_.path + "/leveldb", &raw);
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
        db_.get(), write_options_, record.id(), FromRecord(record), logger_);
  }
  for (it->Seek(std::string(1, kDroppedPrefix));
       it->Valid() && it->key()[0] == kDroppedPrefix; it->Next()) {
    uint64_t id = ReadBigEndian64(std::string_view(it->key().data() + 1,
                                                   it->key().size() - 1));
    next_table_id_ = std::max(next_table_id_, id + 1);
    drop_queue_.push_back(id);
  }
  it.reset();

  std::string value;
  s = db_->Get({}, MetaKey("next_table_id"), &value);
  if (s.ok()) next_table_id_ = std::max(next_table_id_, ReadBigEndian64(value));

  // The clean marker says the stored statistics are exact; remove it so a
  // crash from now on is detected at the next Open.
  s = db_->Get({}, MetaKey("clean"), &value);
  const bool clean = s.ok();
  if (!clean && !tables_.empty()) EDDY_RETURN_IF_ERROR(Recount());
  leveldb::WriteOptions sync;
  sync.sync = true;
  s = db_->Delete(sync, MetaKey("clean"));
  if (!s.ok()) return Status::IOError(s.ToString());

  logger_->info("opened data directory {} ({} tables{})", options_.path,
                tables_.size(), clean || tables_.empty() ? "" : ", recovered after a crash");
  dropper_ = std::thread([this] { DropperLoop(); });
  return Status::OK();
}

Status DatabaseImpl::Recount() {
  for (auto& [name, table] : tables_) {
    const std::string prefix = TableItemPrefix(table->id());
    int64_t count = 0;
    int64_t bytes = 0;
    auto last_log = std::chrono::steady_clock::now();
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator({}));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
         it->Next()) {
      Result<Item> item = DecodeItem(
          std::string_view(it->value().data(), it->value().size()));
      if (!item.ok()) return item.status();
      ++count;
      bytes += static_cast<int64_t>(ItemSize(*item));
      auto now = std::chrono::steady_clock::now();
      if (now - last_log > std::chrono::seconds(1)) {
        logger_->info("recounting table {}: {} items so far", name, count);
        last_log = now;
      }
    }
    table->SetStats(count, bytes);
    logger_->info("recounted table {}: {} items, {} bytes", name, count, bytes);
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
  TableInfo info;
  info.schema = schema;
  info.table_id = NewUuid();
  info.creation_time_ms = NowMillis();
  if (schema.billing_mode == BillingMode::kPayPerRequest) {
    info.billing_mode_update_time_ms = info.creation_time_ms;
  }
  const uint64_t id = next_table_id_++;

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

  auto table = std::make_shared<TableImpl>(db_.get(), write_options_, id, info,
                                           logger_);
  {
    std::unique_lock<std::shared_mutex> write(tables_mu_);
    tables_[schema.name] = table;
  }
  logger_->info("created table {} (id {})", schema.name, id);
  return info;
}

Result<TableInfo> DatabaseImpl::DeleteTable(const std::string& name) {
  std::lock_guard<std::mutex> lock(catalog_mu_);
  std::shared_ptr<TableImpl> table;
  {
    std::shared_lock<std::shared_mutex> read(tables_mu_);
    auto it = tables_.find(name);
    if (it == tables_.end()) {
      return Status::NotFound("Requested resource not found: Table: " + name +
                              " not found");
    }
    table = it->second;
  }
  if (table->schema().deletion_protection) {
    return Status::InvalidArgument(
        "Resource cannot be deleted as it is currently protected against "
        "deletion. Disable deletion protection first.");
  }
  // From here on no write of the table is in flight, so the dropper removes
  // every item the table will ever have.
  table->MarkDropped();
  leveldb::WriteBatch batch;
  batch.Delete(CatalogKey(name));
  proto::DroppedTable dropped;
  dropped.set_id(table->id());
  batch.Put(DroppedKey(table->id()), dropped.SerializeAsString());
  leveldb::WriteOptions sync;
  sync.sync = true;
  leveldb::Status s = db_->Write(sync, &batch);
  if (!s.ok()) return Status::IOError(s.ToString());
  {
    std::unique_lock<std::shared_mutex> write(tables_mu_);
    tables_.erase(name);
  }
  {
    std::lock_guard<std::mutex> drop_lock(drop_mu_);
    drop_queue_.push_back(table->id());
  }
  drop_cv_.notify_one();
  logger_->info("deleted table {} (id {})", name, table->id());
  TableInfo info = table->Describe();
  info.status = TableStatus::kDeleting;
  return info;
}

Result<TableInfo> DatabaseImpl::UpdateTable(const std::string& name,
                                            const TableUpdate& update) {
  std::lock_guard<std::mutex> lock(catalog_mu_);
  std::shared_ptr<TableImpl> table;
  {
    std::shared_lock<std::shared_mutex> read(tables_mu_);
    auto it = tables_.find(name);
    if (it == tables_.end()) {
      return Status::NotFound("Requested resource not found: Table: " + name +
                              " not found");
    }
    table = it->second;
  }
  const int64_t now = NowMillis();
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
  return info;
}

std::vector<std::string> DatabaseImpl::ListTables(
    const std::optional<std::string>& exclusive_start, size_t limit) {
  std::shared_lock<std::shared_mutex> read(tables_mu_);
  std::vector<std::string> names;
  auto it = exclusive_start ? tables_.upper_bound(*exclusive_start)
                            : tables_.begin();
  for (; it != tables_.end() && names.size() < limit; ++it) {
    names.push_back(it->first);
  }
  return names;
}

std::shared_ptr<Table> DatabaseImpl::GetTable(const std::string& name) {
  std::shared_lock<std::shared_mutex> read(tables_mu_);
  auto it = tables_.find(name);
  if (it == tables_.end()) return nullptr;
  return it->second;
}

void DatabaseImpl::DropperLoop() {
  for (;;) {
    uint64_t id;
    {
      std::unique_lock<std::mutex> lock(drop_mu_);
      drop_cv_.wait(lock, [this] { return closing_ || !drop_queue_.empty(); });
      if (closing_) return;
      id = drop_queue_.front();
    }
    Status s = RemoveItems(id);
    if (!s.ok()) {
      logger_->error("removing items of dropped table {} failed: {}", id,
                     s.ToString());
    }
    std::lock_guard<std::mutex> lock(drop_mu_);
    drop_queue_.pop_front();
  }
}

Status DatabaseImpl::RemoveItems(uint64_t table_id) {
  const std::string prefix = TableItemPrefix(table_id);
  int64_t removed = 0;
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
      if (!it->status().ok()) return Status::IOError(it->status().ToString());
    }
    if (n == 0) break;
    leveldb::Status s = db_->Write({}, &batch);
    if (!s.ok()) return Status::IOError(s.ToString());
    removed += n;
    std::lock_guard<std::mutex> lock(drop_mu_);
    if (closing_) return Status::OK();  // Resumed at the next Open.
  }
  leveldb::Status s = db_->Delete({}, DroppedKey(table_id));
  if (!s.ok()) return Status::IOError(s.ToString());
  logger_->debug("removed {} items of dropped table id {}", removed, table_id);
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
  if (dropper_.joinable()) dropper_.join();

  // Persist the exact statistics, then mark the shutdown clean.
  Status result;
  {
    std::lock_guard<std::mutex> lock(catalog_mu_);
    std::shared_lock<std::shared_mutex> read(tables_mu_);
    for (auto& [name, table] : tables_) {
      Status s = PutRecord(table->Describe(), table->id());
      if (!s.ok()) result = s;
    }
  }
  if (result.ok()) {
    leveldb::WriteOptions sync;
    sync.sync = true;
    leveldb::Status s = db_->Put(sync, MetaKey("clean"), "1");
    if (!s.ok()) result = Status::IOError(s.ToString());
  }
  tables_.clear();
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
