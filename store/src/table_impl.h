// TableImpl: the LevelDB-backed Table. Private to the store.
#ifndef EDDY_STORE_SRC_TABLE_IMPL_H_
#define EDDY_STORE_SRC_TABLE_IMPL_H_

#include <leveldb/db.h>
#include <spdlog/logger.h>

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "change_stream_impl.h"
#include "eddy/store/table.h"

namespace eddy::store {

class TableImpl final : public Table {
 public:
  // Persists a changed TableInfo (UpdateTable); set by the Database.
  // `sync` asks for writes that survive power loss: the stream log is
  // fsync'ed when the table has a stream, LevelDB's log otherwise.
  TableImpl(leveldb::DB* db, bool sync, uint64_t id, TableInfo info,
            std::shared_ptr<spdlog::logger> logger);

  const TableSchema& schema() const override { return info_.schema; }
  TableInfo Describe() const override;

  Status Put(Item item, const Condition* condition, WriteOutcome* out) override;
  Status UpdateItem(const Item& key, const Update* update,
                    const Condition* condition, WriteOutcome* out) override;
  Status Delete(const Item& key, const Condition* condition,
                WriteOutcome* out) override;
  Result<std::optional<Item>> Get(const Item& key) override;
  Result<ReadPage> Query(const QueryRequest& request) override;
  Result<ReadPage> Scan(const ScanRequest& request) override;
  Status ValidateKey(const Item& key) const override;
  Status ValidateItem(const Item& item) const override;

  uint64_t id() const { return id_; }

  // Applies `change` to the metadata under the table's lock and returns the
  // new TableInfo (the Database persists it).
  TableInfo ChangeInfo(const std::function<void(TableInfo*)>& change);

  // After this returns no write of this table is in flight and every later
  // one fails with NotFound; the Database then removes the items.
  void MarkDropped();

  // Runs `fn` while no write of this table is in flight (writes wait).
  Status WithWritesPaused(const std::function<Status()>& fn);
  // The enabled stream, or null. REQUIRES for SetStream: called inside
  // WithWritesPaused.
  void SetStream(std::shared_ptr<ChangeStreamImpl> stream);
  std::shared_ptr<ChangeStreamImpl> stream();
  // As stream(), from inside WithWritesPaused (which holds the lock).
  const std::shared_ptr<ChangeStreamImpl>& stream_while_paused() const {
    return stream_;
  }

  // Replaces the statistics (after a recount at Open).
  void SetStats(int64_t item_count, int64_t size_bytes);

 private:
  // The mutation applied under the item's lock: given the current item (if
  // any), fill *next with the item to store, or leave it empty to delete.
  using Mutation = std::function<Status(const std::optional<Item>& current,
                                        std::optional<Item>* next)>;

  Status Mutate(const Item& key, const Condition* condition,
                const Mutation& mutation, WriteOutcome* out);
  // Validates the key attributes of a full item (PutItem).
  Status ValidateItemKey(const Item& item) const;
  // The LevelDB key of the item with these key attributes.
  // REQUIRES: the key attributes are present and valid.
  std::string EncodeKey(const Item& item) const;
  Item ExtractKey(const Item& item) const;
  Result<std::optional<Item>> ReadItem(const std::string& db_key);
  Result<ReadPage> ReadRange(std::string lo, std::string hi, bool forward,
                             const Condition* filter,
                             std::optional<int64_t> limit);

  leveldb::DB* const db_;
  const bool sync_;
  const uint64_t id_;
  const std::string prefix_;  // "i" <id>.
  std::shared_ptr<spdlog::logger> logger_;

  mutable std::mutex info_mu_;
  TableInfo info_;  // schema is immutable; the rest guarded by info_mu_.

  std::atomic<int64_t> item_count_{0};
  std::atomic<int64_t> size_bytes_{0};

  // Held shared by every write, exclusively by MarkDropped and
  // WithWritesPaused; guards dropped_ and stream_.
  std::shared_mutex state_mu_;
  bool dropped_ = false;
  std::shared_ptr<ChangeStreamImpl> stream_;

  static constexpr size_t kStripes = 1024;
  std::array<std::mutex, kStripes> stripes_;
};

}  // namespace eddy::store

#endif  // EDDY_STORE_SRC_TABLE_IMPL_H_
