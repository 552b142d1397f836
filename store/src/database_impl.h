// DatabaseImpl: the Database of a data directory. Private to the store.
//
// database.cc holds the catalog operations (tables, streams, indexes, TTL,
// transactions, background dropping and trimming); recovery.cc what keeps
// the store going through failures and crashes: the redo of stream records
// at Open, the recovery after a failed write (reopen LevelDB, redo, resume),
// and the item counts recomputed in the background after a crash.
//
// Locking order: catalog_mu_ -> DbHandle::Use -> a table's state mutex ->
// its item stripes -> tables_mu_. A DbHandle::Use is taken before any table
// lock (the recovery closes the gate while holding none).
#ifndef EDDY_STORE_SRC_DATABASE_IMPL_H_
#define EDDY_STORE_SRC_DATABASE_IMPL_H_

#include <leveldb/cache.h>
#include <leveldb/env.h>
#include <leveldb/filter_policy.h>
#include <spdlog/logger.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "commit_clock.h"
#include "db_handle.h"
#include "eddy/store/database.h"
#include "eddy/streams/shard_log.h"
#include "job_runner.h"
#include "table_impl.h"
#include "table_memory.h"

namespace eddy::store {

class DatabaseImpl final : public Database {
 public:
  explicit DatabaseImpl(Options options);
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
  std::optional<TableInfo> DescribeTable(const std::string& name) override;
  Result<BackupInfo> CreateBackup(const std::string& table,
                                  const std::string& name) override;
  Result<BackupInfo> DescribeBackup(const std::string& id) override;
  std::vector<BackupInfo> ListBackups() override;
  Result<BackupInfo> DeleteBackup(const std::string& id) override;
  Result<TableInfo> RestoreTableFromBackup(const std::string& id,
                                           const TableSchema& target) override;
  Result<ContinuousBackups> UpdateContinuousBackups(const std::string& table,
                                                    bool enabled) override;
  Result<ContinuousBackups> DescribeContinuousBackups(
      const std::string& table) override;
  Result<TableInfo> RestoreTableToPointInTime(
      const std::string& source, int64_t time_ms,
      const TableSchema& target) override;
  Result<TableInfo> CreateImportTable(const TableSchema& schema,
                                      const std::string& import_id) override;
  std::shared_ptr<Table> GetImportTable(const std::string& name) override;
  Status ResetImportTable(const std::string& name) override;
  Status FinishImportTable(const std::string& name) override;
  Status AbandonImportTable(const std::string& name,
                            const std::string& why) override;
  Status ReadTableAt(const std::string& name, int64_t time_ms,
                     const std::function<Status(std::string_view)>& visit,
                     const std::atomic<bool>& stop) override;
  Result<DiskUsage> ApproximateDiskUsage(const std::string& table) override;
  Status Snapshot(const std::string& dir, SnapshotProgress* progress) override;
  // Test hook: waits until no backup or restore job is queued or running.
  void TEST_WaitForJobs() { jobs_->WaitIdle(); }
  // Test hook: holds queued backup and restore jobs (JobRunner::TEST_Hold).
  void TEST_HoldJobs(bool held) { jobs_->TEST_Hold(held); }
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
  Status health() const override;
  bool statistics_exact() const override { return !recount_pending_.load(); }
  Status Close() override;

 private:
  // --- database.cc

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
  Result<std::shared_ptr<ChangeStreamImpl>> OpenStream(
      uint64_t table_id, const StreamDescription& d);
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
  // Retires the closed generations of an enabled stream whose records all
  // expired: the catalog first, then the files. REQUIRES: catalog_mu_.
  Status RetireGenerations(const std::string& name,
                           const std::shared_ptr<ChangeStreamImpl>& stream,
                           int64_t horizon);
  Status UpdateStream(const std::shared_ptr<TableImpl>& table,
                      const StreamUpdate& update, int64_t now);
  // Checkpoints the enabled streams' logs (maintenance): after a crash
  // Open scans only the records appended since.
  Status CheckpointStreams();
  void DropperLoop();
  // Runs SweepExpired every ttl_sweep_interval_ms until Close.
  void SweeperLoop();
  struct DropWork;
  Status RemoveItems(const DropWork& work);
  // Starts the backfill of a GSI being created (retried after failures).
  void StartBackfill(const std::shared_ptr<TableImpl>& table,
                     uint32_t index_id);
  // UpdateTable's GlobalSecondaryIndexUpdates.
  Status UpdateIndexes(const std::shared_ptr<TableImpl>& table,
                       const TableUpdate& update);
  // Waits up to `ms` or until Close; false once closing.
  bool PauseUnlessClosing(int64_t ms);

  // --- backups.cc

  std::string BackupsDir() const { return options_.path + "/backups"; }
  std::string BackupDir(const std::string& id) const {
    return BackupsDir() + "/" + id;
  }
  // Reads the backups' manifests (Open); CREATING ones are taken again.
  Status LoadBackups();
  // Writes the backup of `table` from `snapshot` (taken in generation
  // `generation` of the DbHandle) in the background.
  void StartBackup(const std::string& id, std::shared_ptr<TableImpl> table,
                   const leveldb::Snapshot* snapshot, uint64_t generation);
  Status WriteBackup(const std::string& id, TableImpl* table,
                     const leveldb::Snapshot** snapshot, uint64_t* generation,
                     const std::atomic<bool>& stop);
  // Records a backup's new state in its manifest and in backups_.
  Status SaveBackup(const BackupInfo& info);
  // Creates the catalog record of a table being restored (CREATING) and
  // starts its restore. REQUIRES: catalog_mu_ held.
  Result<TableInfo> BeginRestore(const TableSchema& target,
                                 TableInfo::Restore restore);
  void StartRestore(std::shared_ptr<TableImpl> table);
  // One attempt: empties the target, then fills it from its source.
  Status RunRestore(const std::shared_ptr<TableImpl>& table,
                    const std::atomic<bool>& stop);
  Status RestoreFromBackupFile(const std::shared_ptr<TableImpl>& table,
                               const std::string& backup_id,
                               const std::atomic<bool>& stop);
  Status RestoreToPointInTime(const std::shared_ptr<TableImpl>& table,
                              const TableInfo::Restore& restore,
                              const std::atomic<bool>& stop);
  // The table being imported under `name`, or null.
  std::shared_ptr<TableImpl> FindImportTable(const std::string& name);
  // Visits every item `source` held at time_ms (its current state, with the
  // writes after time_ms undone), from one snapshot.
  Status ScanAtPointInTime(const std::shared_ptr<TableImpl>& source,
                           int64_t time_ms,
                           const std::function<Status(std::string_view)>& visit,
                           const std::atomic<bool>& stop);
  // Makes the restored table ACTIVE, or removes it after a failure whose
  // reason is logged.
  Status FinishRestore(const std::shared_ptr<TableImpl>& table);
  void FailRestore(const std::shared_ptr<TableImpl>& table, const Status& why);
  // The restorable window of a table with point-in-time recovery on.
  ContinuousBackups Window(const TableInfo& info);
  // Deletes history entries older than the recovery window (maintenance).
  Status TrimHistory();

  // --- snapshot.cc

  // Removes what snapshots interrupted by a restart left (Open).
  void RemoveInterruptedSnapshots();

  // --- recovery.cc

  // Finishes interrupted transactions, then replays the records of every
  // enabled stream that LevelDB lacks. Returns how many transactions it
  // finished. REQUIRES: no other operation runs (Open, or the gate closed).
  Result<int> RecoverStreams(leveldb::DB* db);
  // Replays the records of `stream` after its shards' applied markers,
  // counting the changes into the table's statistics.
  Status Replay(leveldb::DB* db, ChangeStreamImpl* stream);
  // After a failed write: waits for it, checks there is room, reopens
  // LevelDB and redoes (RecoverStreams), with growing pauses between tries,
  // until Close.
  void RecoveryLoop();
  // Reserves and syncs a file of the size a reopen needs (LevelDB's logs,
  // turned into a table), then removes it: fails while the disk is full.
  Status ProbeSpace();
  // The probe's file (removed by Open if a crash left it).
  std::string ProbePath() const { return options_.path + "/RECOVERY-PROBE"; }
  // Recounts every table's items and sizes in the background after a crash
  // (recount_pending_), correcting the counters kept since Open.
  void RecountLoop();
  Status RecountTable(const std::shared_ptr<TableImpl>& table);
  // Writes the tables' statistics to their catalog records (maintenance,
  // Close): after a crash they are where Open starts from.
  Status PersistStatistics();
  // Warns when the open tables' index and filter blocks outgrow the block
  // cache they are charged to, and when they fit again (maintenance).
  void CheckTableMemory();

  Options options_;
  std::shared_ptr<spdlog::logger> logger_;
  streams::File data_lock_;  // <path>/LOCK, held while open.
  std::unique_ptr<leveldb::Cache> cache_;
  // Open tables' index and filter blocks, charged to cache_ (table_memory.h).
  TableMemoryAccount table_memory_;
  // Whether the last check found them over the block cache's capacity
  // (CheckTableMemory; the maintenance thread's).
  bool table_memory_over_ = false;
  std::unique_ptr<const leveldb::FilterPolicy> filter_;
  // What every stream's shard logs are opened with: the logger, the file
  // system, one cache of closed segments' files for all of them
  // (Options::stream_segment_files), and no LOCK file per shard: data_lock_,
  // taken before any stream is opened, keeps out a second opener of the
  // data directory.
  streams::ShardLog::Options shard_options_;
  // LevelDB's Env stack, bottom up: options_.leveldb_env or the default,
  // the background yielding one (if on), the store's guards (store_env.h).
  std::unique_ptr<leveldb::Env> yield_env_;
  // LevelDB's background work holds background_gate_ shared (a snapshot,
  // exclusively): snapshot.cc.
  std::shared_mutex background_gate_;
  std::unique_ptr<leveldb::Env> gated_env_;
  std::unique_ptr<leveldb::Env> store_env_;
  std::unique_ptr<DbHandle> db_;  // After the Envs: destroyed first.

  // Serialises catalog changes (create, delete, update of tables).
  std::mutex catalog_mu_;
  std::shared_mutex tables_mu_;  // Guards tables_.
  std::map<std::string, std::shared_ptr<TableImpl>> tables_;
  // Every table name's streams, latest first, including those of deleted
  // tables of that name still within retention (guarded by tables_mu_).
  std::map<std::string, std::vector<std::shared_ptr<ChangeStreamImpl>>>
      streams_;
  uint64_t next_table_id_ = 1;  // Guarded by catalog_mu_.
  // Tables being restored (CREATING): listed and described, never served
  // (guarded by tables_mu_).
  std::map<std::string, std::shared_ptr<TableImpl>> restoring_;
  // Stamps the point-in-time recovery history.
  std::unique_ptr<CommitClock> commit_clock_;
  // Every backup by id (guarded by backups_mu_; manifests written under
  // it too).
  std::mutex backups_mu_;
  std::map<std::string, BackupInfo> backups_;
  // Backups and restores; started by Open, stopped first by Close.
  std::unique_ptr<JobRunner> jobs_;
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
    // Non-empty: only the table's history entries before this key (point-
    // in-time recovery disabled, or trimmed).
    std::string history_limit;
  };
  std::deque<DropWork> drop_queue_;
  // GSI backfills (stopped early by stopping_; resumed at the next Open).
  std::mutex backfill_mu_;
  std::vector<std::thread> backfills_;
  bool closing_ = false;  // Guarded by drop_mu_.
  std::thread dropper_;
  // The TTL sweeper waits on sweep_cv_ (with drop_mu_, for closing_);
  // sweeps stop early once stopping_ is set. sweep_run_mu_ serialises
  // sweeps (background and SweepExpired calls).
  std::condition_variable sweep_cv_;
  std::atomic<bool> stopping_{false};
  std::mutex sweep_run_mu_;
  std::thread sweeper_;
  std::thread recovery_;
  std::thread recounter_;
  std::atomic<bool> recount_pending_{false};
  bool closed_ = false;
};

}  // namespace eddy::store

#endif  // EDDY_STORE_SRC_DATABASE_IMPL_H_
