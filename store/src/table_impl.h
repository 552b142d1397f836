// TableImpl: the LevelDB-backed Table. Private to the store.
#ifndef EDDY_STORE_SRC_TABLE_IMPL_H_
#define EDDY_STORE_SRC_TABLE_IMPL_H_

#include <leveldb/db.h>
#include <leveldb/write_batch.h>
#include <spdlog/logger.h>

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "change_stream_impl.h"
#include "commit_clock.h"
#include "db_handle.h"
#include "eddy/store/table.h"

namespace eddy::store {

class TableImpl final : public Table {
 public:
  // `db` is the Database's handle (outlives the table). `sync` asks for
  // writes that survive power loss: the stream log is fsync'ed when the
  // table has a stream, LevelDB's log otherwise.
  //
  // Every public method holds a DbHandle::Use while it uses LevelDB; the
  // write-path pieces below (Prepare, Stage, Commit, ReadItem, ...) run
  // inside their caller's Use.
  // `clock` stamps the point-in-time recovery history (outlives the
  // table).
  TableImpl(DbHandle* db, bool sync, uint64_t id, TableInfo info,
            std::shared_ptr<spdlog::logger> logger, CommitClock* clock);

  const TableSchema& schema() const override { return info_.schema; }
  TableInfo Describe() const override;

  Status Put(Item item, const Condition* condition, WriteOutcome* out) override;
  Status UpdateItem(const Item& key, const Update* update,
                    const Condition* condition, WriteOutcome* out) override;
  Status Delete(const Item& key, const Condition* condition,
                WriteOutcome* out) override;
  Result<std::optional<Item>> Get(const Item& key) override;
  Result<std::optional<std::string>> GetEncoded(const Item& key) override;
  Result<ReadPage> Query(const QueryRequest& request) override;
  Result<ReadPage> Scan(const ScanRequest& request) override;
  Status ValidateKey(const Item& key) const override;
  Status ValidateItem(const Item& item) const override;
  Result<int64_t> ItemCollectionSize(
      const AttributeValue& partition_value) override;
  bool HasLocalIndexes() const override;
  std::optional<IndexInfo> DescribeIndex(
      const std::string& name) const override;

  Result<bool> DeleteExpired(const Item& key, const std::string& attribute,
                             int64_t now_seconds) override;

  uint64_t id() const { return id_; }

  // --- The write path, in pieces, for writes of several items in one
  // commit (transactions). A single-item write is Lock, Prepare, Commit.

  // One item's write, prepared under its lock.
  struct PendingWrite {
    std::string db_key;
    std::optional<Item> current;
    // current's stored bytes as Prepare read them (empty: no item): the
    // point-in-time history's before-image, without encoding it again.
    std::string current_encoded;
    std::optional<Item> next;  // Empty: delete.
    // next's encoding when already made (Prepare makes it; empty: Stage
    // encodes next itself): the item's LevelDB value and its stream
    // record's new image, encoded once for both.
    std::string next_encoded;
    size_t current_size = 0;  // ItemSize of each (0: none), from Prepare.
    size_t next_size = 0;
    bool service_delete = false;
    // The commit time of a transaction's writes (one for all of them); 0:
    // the clock's time when the write is staged.
    int64_t commit_ms = 0;
    bool changes() const { return next != current; }
  };
  // The mutation applied under the item's lock: given the current item (if
  // any), fill *next with the item to store, or leave it empty to delete.
  using Mutation = std::function<Status(const std::optional<Item>& current,
                                        std::optional<Item>* next)>;

  // Held shared by every write; exclusively while writes are paused.
  std::shared_mutex& state_mutex() { return state_mu_; }
  // REQUIRES: state_mutex() held.
  bool dropped() const { return dropped_; }
  // The lock stripe that serialises writes of the item at `db_key`.
  size_t StripeIndex(const std::string& db_key) const;
  std::mutex& Stripe(size_t index) { return stripes_[index]; }
  // The LevelDB key of the item with these key attributes.
  // REQUIRES: the key attributes are present and valid.
  std::string EncodeKey(const Item& item) const;
  // The key attributes of `item` (those it has).
  Item ExtractKey(const Item& item) const;

  // Reads the item at write->db_key, checks `condition` (ConditionFailed,
  // with out->old_item set if wanted, when false) and applies `mutation`.
  // REQUIRES: write->db_key set, state_mutex() held shared and the item's
  // stripe locked.
  Status Prepare(const Condition* condition, const Mutation& mutation,
                 PendingWrite* write, WriteOutcome* out);
  // Adds the item's LevelDB changes to `batch`: the item, its index
  // entries and, with point-in-time recovery on, its history entry.
  void Stage(const PendingWrite& write, leveldb::WriteBatch* batch) const;
  // Point-in-time recovery's history: on while pitr() (REQUIRES for
  // SetPitr: called inside WithWritesPaused).
  void SetPitr(bool on) { pitr_ = on; }
  bool pitr_while_locked() const { return pitr_; }
  CommitClock* commit_clock() const { return clock_; }
  // The shard and payload of the write's change record.
  // REQUIRES: stream_while_locked() is set and write.changes().
  std::pair<uint32_t, std::string> EncodeRecord(const PendingWrite& write,
                                                uint64_t transaction_id) const;
  // Commits one prepared write that changes the item: its change record
  // (if the table has a stream), then the LevelDB batch. A failure after
  // the record is appended fails the DbHandle before the item's lock is
  // released, and leaves the record to the redo (its ticket stays in
  // flight, so no later marker passes it). REQUIRES: as Prepare, and
  // db->CheckWritable() checked under the item's lock.
  Status Commit(const PendingWrite& write);
  // The mutations of PutItem, UpdateItem and DeleteItem. REQUIRES: `item`
  // passed ValidateItem, `key` ValidateKey and `update` ValidateUpdate; they
  // must outlive the mutation.
  static Mutation PutMutation(const Item& item);
  Mutation UpdateMutation(const Item& key, const Update* update) const;
  static Mutation DeleteMutation();
  // Rejects an update of a key attribute.
  Status ValidateUpdate(const Update* update) const;
  // The item at `db_key`, decoded. With `encoded`, *encoded receives the
  // stored bytes as well (when the item exists).
  Result<std::optional<Item>> ReadItem(
      const std::string& db_key, const leveldb::Snapshot* snapshot = nullptr,
      std::string* encoded = nullptr);
  // The stored bytes of the item at `db_key` into *encoded; false when
  // there is no such item.
  Result<bool> ReadEncoded(const std::string& db_key,
                           const leveldb::Snapshot* snapshot,
                           std::string* encoded);
  // Updates the item count and size after the write committed.
  void Account(const PendingWrite& write);
  // The enabled stream, or null. REQUIRES: state_mutex() held.
  const std::shared_ptr<ChangeStreamImpl>& stream_while_locked() const {
    return stream_;
  }

  // Applies `change` to the metadata under the table's lock and returns the
  // new TableInfo (the Database persists it).
  TableInfo ChangeInfo(const std::function<void(TableInfo*)>& change);

  // After this returns no write of this table is in flight and every later
  // one fails with NotFound; the Database then removes the items.
  void MarkDropped();
  // Undoes MarkDropped when the deletion could not be written.
  void Unmark();

  // Runs `fn` while no write of this table is in flight (writes wait).
  Status WithWritesPaused(const std::function<Status()>& fn);
  // The enabled stream, or null. REQUIRES for SetStream: called inside
  // WithWritesPaused.
  void SetStream(std::shared_ptr<ChangeStreamImpl> stream);
  std::shared_ptr<ChangeStreamImpl> stream();

  // The item count and size of the table and of each index that is not
  // being backfilled, read together.
  struct Stats {
    int64_t item_count = 0;
    int64_t size_bytes = 0;
    std::map<uint32_t, std::pair<int64_t, int64_t>> indexes;  // id: count, size
  };
  // REQUIRES: writes paused (WithWritesPaused), so that the figures match a
  // snapshot taken at the same time.
  Stats StatsWhilePaused() const;
  // Adds `exact - at` to the counters: `at` was read with a snapshot in
  // which the exact figures were counted (a recount while serving).
  void CorrectStats(const Stats& at, const Stats& exact);
  // The LevelDB key prefix of the table's items and of one index's entries.
  const std::string& item_prefix() const { return prefix_; }
  std::vector<std::pair<uint32_t, std::string>> CountableIndexes() const;
  DbHandle* db() const { return db_; }

  // --- Secondary indexes.

  // Adds a GSI (status CREATING, backfilling) whose entries every write
  // maintains from now on; BackfillIndex then indexes the items written
  // before. REQUIRES: called inside WithWritesPaused.
  void AddIndex(IndexInfo index);
  // Removes an index; its entries are left for the caller to delete.
  // REQUIRES: called inside WithWritesPaused.
  void RemoveIndex(uint32_t index_id);
  // Indexes every existing item in the index (a GSI being created), then
  // marks it ACTIVE. `stop` ends it early (shutdown); it resumes at the next
  // Open. Logs progress.
  Status BackfillIndex(uint32_t index_id, const std::atomic<bool>& stop);

 private:
  // A secondary index as writes and reads use it.
  struct Index {
    uint32_t id = 0;
    IndexSchema schema;
    bool global = true;
    std::string prefix;  // IndexEntryPrefix(table id, id).
    std::atomic<int64_t> item_count{0};
    std::atomic<int64_t> size_bytes{0};
  };

  std::shared_ptr<Index> MakeIndex(const IndexInfo& info) const;
  // The index's entry key for `item`, or nullopt when the item lacks one
  // of the index's key attributes (or has it with another type): sparse
  // indexes hold only the items that have their keys.
  std::optional<std::string> IndexEntryKey(const Index& index,
                                           const Item& item) const;
  // What the index's entry for `item` holds: the table's and the index's
  // keys plus the projected attributes.
  Item ProjectEntry(const Index& index, const Item& item) const;
  // Rejects an item whose key attributes of `indexes` have the wrong type
  // or are empty.
  static Status ValidateIndexKeys(
      const Item& item, const std::vector<std::shared_ptr<Index>>& indexes);
  // The LevelDB key an ExclusiveStartKey names: a table key, or for an
  // index read the table's and the index's keys.
  Result<std::string> StartKey(const Item& start, const Index* index) const;
  // The index named `name` for a read; InvalidArgument when there is none
  // or it is still being backfilled.
  Result<std::shared_ptr<Index>> ReadableIndex(const std::string& name) const;

  // A single-item write of the item at `db_key` (EncodeKey).
  Status Mutate(std::string db_key, const Condition* condition,
                const Mutation& mutation, WriteOutcome* out,
                bool service_delete = false);
  // Validates the key attributes of a full item (PutItem).
  Status ValidateItemKey(const Item& item) const;
  // ValidateItem without the index key checks.
  Status ValidatePutItem(const Item& item) const;
  // Reads items (index == null) or index entries in [lo, hi) ("" = no
  // bound). `fetch`: replace each index entry with its table item.
  // `encoded`: return the items as stored (ReadPage::encoded_items).
  Result<ReadPage> ReadRange(std::string lo, std::string hi, bool forward,
                             const Condition* filter,
                             std::optional<int64_t> limit, const Index* index,
                             bool fetch, bool encoded);

  DbHandle* const db_;
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
  bool pitr_ = false;
  CommitClock* const clock_;

  // Modified under state_mu_ held exclusively and index_mu_; writes read
  // it holding state_mu_ shared, everyone else under index_mu_.
  std::vector<std::shared_ptr<Index>> indexes_;
  mutable std::mutex index_mu_;

  static constexpr size_t kStripes = 1024;
  std::array<std::mutex, kStripes> stripes_;
};

}  // namespace eddy::store

#endif  // EDDY_STORE_SRC_TABLE_IMPL_H_
