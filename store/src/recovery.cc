// The parts of DatabaseImpl that keep the store going through failures and
// crashes (see database_impl.h): the redo of stream records, the recovery
// after a failed write without a restart, and the background recount of
// item statistics after a crash.
//
// Recovery after a failed write, step by step (RecoveryLoop):
//   1. A write failed (DbHandle::Fail): LevelDB's write-ahead log is
//      poisoned or its background error is set; writes fail with IOError,
//      reads go on.
//   2. Wait (50 ms, doubling up to 2 s between tries), then check that there
//      is room: reserve a file as large as LevelDB's logs (what the reopen
//      turns into a table) and fsync it (ProbeSpace). While the disk is
//      full this fails and nothing else is tried.
//   3. Close the gate (no operation uses LevelDB), close LevelDB and open it
//      again: its log recovery keeps every write it acknowledged and drops
//      a torn tail.
//   4. Redo, as Open does after a crash: finish transactions whose intent
//      is stored, replay every stream record after its shard's applied
//      marker (the records of failed writes are there: their tickets kept
//      the markers below them), counting the changes into the statistics,
//      and forget the tickets in flight.
//   5. Open the gate: writes resume. If 3 or 4 fail, back to 2.
#include <fcntl.h>
#include <leveldb/iterator.h>
#include <leveldb/write_batch.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <set>
#include <thread>

#include "catalog.h"
#include "database_impl.h"
#include "eddy/change_record.pb.h"
#include "eddy/store/item_codec.h"
#include "eddy/store/pacer.h"
#include "store_env.h"
#include "transaction.h"

namespace eddy::store {
namespace {

Status ErrnoError(const std::string& what, int err) {
  return Status::IOError(what + ": " + std::strerror(err));
}

}  // namespace

Result<int> DatabaseImpl::RecoverStreams(leveldb::DB* db) {
  std::map<std::pair<uint64_t, std::string>, ChangeStreamImpl*> enabled;
  {
    std::shared_lock<std::shared_mutex> read(tables_mu_);
    for (const auto& [name, table] : tables_) {
      if (ChangeStreamImpl* stream = table->stream().get()) {
        enabled[{table->id(), stream->description().label}] = stream;
      }
    }
  }
  Result<int> finished = RecoverTransactions(
      db,
      [&](uint64_t table_id, const std::string& label) -> ChangeStreamImpl* {
        auto it = enabled.find({table_id, label});
        return it == enabled.end() ? nullptr : it->second;
      },
      *logger_);
  if (!finished.ok()) return finished.status();
  for (const auto& [where, stream] : enabled) {
    EDDY_RETURN_IF_ERROR(Replay(db, stream));
  }
  return finished;
}

Status DatabaseImpl::Replay(leveldb::DB* db, ChangeStreamImpl* stream) {
  std::shared_ptr<TableImpl> table;
  {
    std::shared_lock<std::shared_mutex> read(tables_mu_);
    for (const auto& [name, t] : tables_) {
      if (t->id() == stream->table_id()) table = t;
    }
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
    leveldb::Status s = db->Get(DbHandle::ReadOptions(), marker_key, &value);
    if (s.ok()) {
      applied = ReadBigEndian64(value);
    } else if (!s.IsNotFound()) {
      return FromLevelDb(s);
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
      std::vector<TableImpl::PendingWrite> writes;
      for (const streams::LogRecord& record : read->records) {
        proto::ChangeRecord change;
        if (!change.ParseFromString(record.payload)) {
          return Status::Corruption(
              "undecodable stream record " + std::to_string(record.sequence) +
              " in shard " + std::to_string(shard) + " of " + stream->dir());
        }
        // Re-applying the record's image through the table's write path
        // also brings the item's index entries up to date.
        TableImpl::PendingWrite write;
        if (StoredNewImage(change)) {
          EDDY_ASSIGN_OR_RETURN(Item image, DecodeItem(change.new_image()));
          write.next = std::move(image);
          write.next_encoded = change.new_image();
        }
        write.db_key = change.db_key();
        if (write.db_key.empty()) {
          // The item's key from its image (a REMOVE's old image is whole).
          std::optional<Item> removed;
          if (!write.next && StoredOldImage(change)) {
            EDDY_ASSIGN_OR_RETURN(removed, DecodeItem(change.old_image()));
          }
          const std::optional<Item>& image = write.next ? write.next : removed;
          if (!image || !table->ValidateKey(table->ExtractKey(*image)).ok()) {
            return Status::Corruption(
                "stream record " + std::to_string(record.sequence) +
                " in shard " + std::to_string(shard) + " of " + stream->dir() +
                " names no item of the table");
          }
          write.db_key = table->EncodeKey(*image);
        }
        auto seen = written.find(write.db_key);
        if (seen != written.end()) {
          write.current = seen->second;
        } else {
          EDDY_ASSIGN_OR_RETURN(write.current, table->ReadItem(write.db_key));
        }
        write.current_size = write.current ? ItemSize(*write.current) : 0;
        write.next_size = write.next ? ItemSize(*write.next) : 0;
        table->Stage(write, &batch);
        written[write.db_key] = write.next;
        writes.push_back(std::move(write));
        next = record.sequence + 1;
        ++replayed;
      }
      std::string marker;
      AppendBigEndian64(next - 1, &marker);
      batch.Put(marker_key, marker);
      leveldb::WriteOptions sync;
      sync.sync = true;
      s = db->Write(sync, &batch);
      if (!s.ok()) return FromLevelDb(s);
      // What the replay changed (nothing, for records LevelDB had already)
      // goes into the statistics.
      for (const TableImpl::PendingWrite& write : writes) {
        if (write.changes()) table->Account(write);
      }
    }
  }
  if (replayed > 0) {
    logger_->info("replayed {} stream records of table {} into the store",
                  replayed, stream->description().table_name);
  }
  return Status::OK();
}

Status DatabaseImpl::ProbeSpace() {
  // What a reopen writes: the logs as a table, a manifest, a new log.
  const uint64_t bytes =
      std::min<uint64_t>(db_->LogBytes() + (256u << 10), 256u << 20);
  const std::string path = ProbePath();
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("create " + path, errno);
  Status result;
  if (const int err = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes));
      err != 0) {
    result = ErrnoError(
        "reserve " + std::to_string(bytes) + " bytes in " + options_.path, err);
  } else {
    char block[4096] = {};
    if (::pwrite(fd, block, sizeof(block), 0) !=
        static_cast<ssize_t>(sizeof(block))) {
      result = ErrnoError("write " + path, errno);
    } else if (::fdatasync(fd) != 0) {
      result = ErrnoError("fdatasync " + path, errno);
    }
  }
  ::close(fd);
  ::unlink(path.c_str());
  return result;
}

void DatabaseImpl::RecoveryLoop() {
  int64_t pause = options_.recovery_retry_ms;
  std::string last_logged;
  auto last_log = std::chrono::steady_clock::time_point();
  while (true) {
    db_->WaitForFailure([this] { return stopping_.load(); });
    if (stopping_) return;
    if (!PauseUnlessClosing(pause)) return;
    const Status cause = db_->failure();
    int finished = 0;
    Status s = ProbeSpace();
    if (s.ok()) {
      s = db_->Reopen([&](leveldb::DB* db) -> Status {
        Result<int> done = RecoverStreams(db);
        if (!done.ok()) return done.status();
        finished = *done;
        std::shared_lock<std::shared_mutex> read(tables_mu_);
        for (const auto& [name, table] : tables_) {
          std::shared_ptr<ChangeStreamImpl> stream = table->stream();
          if (!stream) continue;
          // Every record is applied now; nothing is in flight (the gate is
          // closed).
          stream->ResetInflight();
          // Logs whose fsync failed are made durable now rather than at
          // their next append (each also repairs itself then).
          for (uint32_t i = stream->first_shard(); i < stream->shard_count();
               ++i) {
            Status repaired = stream->shard(i)->Repair();
            if (!repaired.ok()) {
              logger_->warn("stream of table {}: {}", name,
                            repaired.ToString());
            }
          }
        }
        return Status::OK();
      });
    }
    if (s.ok()) {
      logger_->info(
          "recovered from the failed write ({}): LevelDB reopened, stream "
          "records replayed{}; writes resume",
          cause.ToString(),
          finished > 0
              ? ", " + std::to_string(finished) + " transactions finished"
              : "");
      pause = options_.recovery_retry_ms;
      last_logged.clear();
      if (finished > 0 && !recount_pending_.exchange(true)) {
        // A finished transaction's changes were never counted.
        if (recounter_.joinable()) recounter_.join();
        recounter_ = std::thread([this] { RecountLoop(); });
      }
      continue;
    }
    // Said once per distinct reason, and then every 30 s.
    const auto now = std::chrono::steady_clock::now();
    if (s.ToString() != last_logged ||
        now - last_log > std::chrono::seconds(30)) {
      logger_->warn("cannot recover yet: {}; retrying", s.ToString());
      last_logged = s.ToString();
      last_log = now;
    }
    if (cause.IsCorruption()) {
      logger_->critical(
          "the data directory {} is damaged: {}; writes stay refused",
          options_.path, cause.ToString());
    }
    pause = std::min(pause * 2, options_.recovery_max_retry_ms);
  }
}

Status DatabaseImpl::RecountTable(const std::shared_ptr<TableImpl>& table) {
  // The snapshot belongs to this LevelDB instance: the Use keeps it open,
  // and the scan steps aside when a recovery wants to reopen.
  DbHandle::Use use(db_.get());
  EDDY_RETURN_IF_ERROR(use.status());
  leveldb::DB* db = use.db();
  const leveldb::Snapshot* snapshot = nullptr;
  TableImpl::Stats at;
  // Snapshot and counters together, while no write of the table is in
  // flight (a write's batch and its Account happen under the shared lock):
  // every write is either in the snapshot and in `at`, or in neither.
  EDDY_RETURN_IF_ERROR(table->WithWritesPaused([&] {
    snapshot = db->GetSnapshot();
    at = table->StatsWhilePaused();
    return Status::OK();
  }));
  TableImpl::Stats exact;
  Status status;
  auto count = [&](const std::string& prefix, int64_t* items,
                   int64_t* bytes) -> Status {
    leveldb::ReadOptions options = DbHandle::ReadOptions();
    options.snapshot = snapshot;
    options.fill_cache = false;
    std::unique_ptr<leveldb::Iterator> it(db->NewIterator(options));
    int64_t n = 0;
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
         it->Next()) {
      if (stopping_ || db_->reopen_pending()) {
        return Status::Busy("recount interrupted");
      }
      Result<size_t> size = StoredItemSize(
          std::string_view(it->value().data(), it->value().size()));
      if (!size.ok()) return size.status();
      ++*items;
      *bytes += static_cast<int64_t>(*size);
      // Leave the CPU to requests now and then: this is background work.
      if (++n % 4096 == 0) std::this_thread::yield();
    }
    return it->status().ok() ? Status::OK() : db_->Error(it->status());
  };
  status = count(table->item_prefix(), &exact.item_count, &exact.size_bytes);
  for (const auto& [id, counted] : at.indexes) {
    if (!status.ok()) break;
    auto& [items, bytes] = exact.indexes[id];
    status = count(IndexEntryPrefix(table->id(), id), &items, &bytes);
  }
  db->ReleaseSnapshot(snapshot);
  EDDY_RETURN_IF_ERROR(status);
  table->CorrectStats(at, exact);
  logger_->info("recounted table {}: {} items, {} bytes", table->schema().name,
                exact.item_count, exact.size_bytes);
  return Status::OK();
}

void DatabaseImpl::RecountLoop() {
  LowerThreadPriorityForHousekeeping();
  std::vector<std::shared_ptr<TableImpl>> tables;
  {
    std::shared_lock<std::shared_mutex> read(tables_mu_);
    for (const auto& [name, table] : tables_) tables.push_back(table);
  }
  for (const std::shared_ptr<TableImpl>& table : tables) {
    int64_t pause = options_.recovery_retry_ms;
    while (!stopping_) {
      Status s = RecountTable(table);
      if (s.ok() || s.IsNotFound()) break;  // NotFound: deleted meanwhile.
      if (s.code() != Status::Code::kBusy) {
        logger_->warn("recounting table {}: {}; retrying", table->schema().name,
                      s.ToString());
      }
      if (!PauseUnlessClosing(pause)) return;
      pause = std::min(pause * 2, options_.recovery_max_retry_ms);
    }
    if (stopping_) return;
  }
  recount_pending_ = false;
}

Status DatabaseImpl::PersistStatistics() {
  // One batch (one fsync) for every table, under the catalog lock so that no
  // catalog change is overwritten by an older TableInfo.
  std::lock_guard<std::mutex> lock(catalog_mu_);
  DbHandle::Use use(db_.get());
  EDDY_RETURN_IF_ERROR(use.status());
  EDDY_RETURN_IF_ERROR(db_->CheckWritable());
  leveldb::WriteBatch batch;
  {
    std::shared_lock<std::shared_mutex> read(tables_mu_);
    if (tables_.empty()) return Status::OK();
    for (const auto& [name, table] : tables_) {
      std::string data;
      ToRecord(table->Describe(), table->id()).SerializeToString(&data);
      batch.Put(CatalogKey(name), data);
    }
  }
  leveldb::WriteOptions sync;
  sync.sync = true;
  return db_->Write(use, sync, &batch);
}

}  // namespace eddy::store
