#include "transaction.h"

#include <leveldb/iterator.h>
#include <leveldb/write_batch.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <utility>

#include "catalog.h"
#include "eddy/change_record.pb.h"
#include "eddy/transaction_intent.pb.h"
#include "store_env.h"
#include "table_impl.h"

namespace eddy::store {
namespace {

std::string IntentKey(uint64_t transaction_id) {
  std::string key(1, kIntentPrefix);
  AppendBigEndian64(transaction_id, &key);
  return key;
}

std::string EncodeMarker(uint64_t marker) {
  std::string out;
  AppendBigEndian64(marker, &out);
  return out;
}

// Copies a WriteBatch's changes into an intent.
class IntentWriter final : public leveldb::WriteBatch::Handler {
 public:
  explicit IntentWriter(proto::TransactionIntent* intent) : intent_(intent) {}
  void Put(const leveldb::Slice& key, const leveldb::Slice& value) override {
    proto::TransactionIntent::Change* change = intent_->add_changes();
    change->set_key(key.data(), key.size());
    change->set_value(value.data(), value.size());
  }
  void Delete(const leveldb::Slice& key) override {
    proto::TransactionIntent::Change* change = intent_->add_changes();
    change->set_key(key.data(), key.size());
    change->set_is_delete(true);
  }

 private:
  proto::TransactionIntent* intent_;
};

// One action, prepared under its item's lock.
struct Slot {
  TableImpl* table = nullptr;
  TableImpl::PendingWrite write;
  size_t stripe = 0;
};

// A change record of the transaction and where it goes.
struct PendingRecord {
  ChangeStreamImpl* stream = nullptr;
  uint32_t shard = 0;
  std::string payload;
};

TableImpl* Impl(const std::shared_ptr<Table>& table) {
  // The store has one Table implementation.
  return static_cast<TableImpl*>(table.get());
}

Status TableGone() { return Status::NotFound("Requested resource not found"); }

Status MultipleOperations() {
  return Status::InvalidArgument(
      "Transaction request cannot include multiple operations on one item");
}

// The checks of the single-item operations, before any lock is taken.
Status Validate(const TransactWriteAction& action, const TableImpl& table) {
  switch (action.kind) {
    case TransactWriteAction::Kind::kPut:
      return table.ValidateItem(action.item);
    case TransactWriteAction::Kind::kUpdate:
      EDDY_RETURN_IF_ERROR(table.ValidateKey(action.item));
      return table.ValidateUpdate(action.update);
    case TransactWriteAction::Kind::kDelete:
    case TransactWriteAction::Kind::kConditionCheck:
      break;
  }
  return table.ValidateKey(action.item);
}

TableImpl::Mutation MutationFor(const TransactWriteAction& action,
                                TableImpl* table) {
  using Kind = TransactWriteAction::Kind;
  switch (action.kind) {
    case Kind::kPut:
      return TableImpl::PutMutation(action.item);
    case Kind::kUpdate:
      return table->UpdateMutation(action.item, action.update);
    case Kind::kDelete:
      return TableImpl::DeleteMutation();
    case Kind::kConditionCheck:
      break;
  }
  return [](const std::optional<Item>& current, std::optional<Item>* next) {
    *next = current;
    return Status::OK();
  };
}

std::mutex crash_point_mu;
CrashPoint crash_point;  // Guarded by crash_point_mu.

bool CrashHere(size_t appended) {
  std::lock_guard<std::mutex> lock(crash_point_mu);
  return crash_point && crash_point(appended);
}

Status SimulatedCrash() { return Status::Internal("simulated crash"); }

// A failure after the commit point. The transaction is committed and only
// the recovery can finish it; letting later writes of its items (unlocked
// once we return) through would have them overwritten when it does. So the
// store stops taking writes (the handle fails while the items are still
// locked) until the recovery (database.cc) has finished the transaction
// from its intent, as the next Open would.
Status FailAfterCommitPoint(DbHandle* db, const std::string& intent_key,
                            const Status& why, spdlog::logger& logger) {
  logger.error(
      "transaction {} failed after its commit point ({}); the recovery "
      "finishes it",
      ReadBigEndian64(std::string_view(intent_key).substr(1)), why.ToString());
  db->Fail(why);
  return why.IsIOError() ? why : Status::IOError(why.ToString());
}

// Steps 2 and 3 of the intent protocol (transaction.h); step 1 is done.
Status AppendAndApply(DbHandle* db, const DbHandle::Use& use, bool sync,
                      const std::string& intent_key,
                      std::vector<PendingRecord>& records,
                      leveldb::WriteBatch* batch, spdlog::logger& logger) {
  std::vector<std::pair<ChangeStreamImpl*, ChangeStreamImpl::Ticket>> tickets;
  auto release = [&] {
    for (auto& [stream, ticket] : tickets) stream->Applied(ticket);
  };
  const int64_t now = NowMillis();
  // The last ticket of each shard carries its most advanced marker.
  std::map<std::pair<ChangeStreamImpl*, uint32_t>, uint64_t> markers;
  Status failed;
  for (PendingRecord& record : records) {
    Result<ChangeStreamImpl::Ticket> ticket =
        record.stream->Append(record.shard, record.payload, now);
    if (!ticket.ok()) {
      failed = ticket.status();
      break;
    }
    tickets.emplace_back(record.stream, *ticket);
    markers[{record.stream, record.shard}] = ticket->marker;
    if (CrashHere(tickets.size())) {
      release();
      return SimulatedCrash();
    }
  }
  if (failed.ok() && sync) {
    for (auto& [stream, ticket] : tickets) {
      failed = stream->Sync(ticket);
      if (!failed.ok()) break;
    }
  }
  // On failure the tickets stay in flight: no later marker passes records
  // the recovery has yet to apply.
  if (!failed.ok()) return FailAfterCommitPoint(db, intent_key, failed, logger);
  for (const auto& [where, marker] : markers) {
    batch->Put(where.first->MarkerKey(where.second), EncodeMarker(marker));
  }
  batch->Delete(intent_key);
  Status s = db->Write(use, leveldb::WriteOptions(), batch);
  if (!s.ok()) return FailAfterCommitPoint(db, intent_key, s, logger);
  release();
  return Status::OK();
}

}  // namespace

Result<TransactWriteResult> RunTransaction(
    DbHandle* db, bool sync, uint64_t transaction_id,
    const std::vector<TransactWriteAction>& actions, spdlog::logger& logger) {
  std::vector<Slot> slots(actions.size());
  std::set<std::pair<uint64_t, std::string>> items;
  for (size_t i = 0; i < actions.size(); ++i) {
    Slot& slot = slots[i];
    slot.table = Impl(actions[i].table);
    EDDY_RETURN_IF_ERROR(Validate(actions[i], *slot.table));
    slot.write.db_key = slot.table->EncodeKey(actions[i].item);
    slot.stripe = slot.table->StripeIndex(slot.write.db_key);
    if (!items.emplace(slot.table->id(), slot.write.db_key).second) {
      return MultipleOperations();
    }
  }

  DbHandle::Use use(db);
  EDDY_RETURN_IF_ERROR(use.status());
  // Locks: tables, then stripes, each in one global order.
  std::map<uint64_t, TableImpl*> tables;
  std::set<std::pair<uint64_t, size_t>> stripes;
  for (const Slot& slot : slots) {
    tables.emplace(slot.table->id(), slot.table);
    stripes.emplace(slot.table->id(), slot.stripe);
  }
  std::vector<std::shared_lock<std::shared_mutex>> table_locks;
  for (const auto& [id, table] : tables) {
    table_locks.emplace_back(table->state_mutex());
    if (table->dropped()) return TableGone();
  }
  std::vector<std::unique_lock<std::mutex>> stripe_locks;
  for (const auto& [id, stripe] : stripes) {
    stripe_locks.emplace_back(tables[id]->Stripe(stripe));
  }
  // Under the items' locks, as single-item writes check it.
  EDDY_RETURN_IF_ERROR(db->CheckWritable());

  TransactWriteResult result;
  result.reasons.resize(actions.size());
  result.outcomes.resize(actions.size());
  bool cancelled = false;
  for (size_t i = 0; i < actions.size(); ++i) {
    const TransactWriteAction& action = actions[i];
    Slot& slot = slots[i];
    WriteOutcome& outcome = result.outcomes[i];
    Status s =
        slot.table->Prepare(action.condition, MutationFor(action, slot.table),
                            &slot.write, &outcome);
    CancellationReason& reason = result.reasons[i];
    if (s.IsConditionFailed()) {
      reason.code = "ConditionalCheckFailed";
      reason.message = s.message();
      reason.item = std::move(outcome.old_item);
      cancelled = true;
    } else if (s.IsInvalidArgument()) {
      reason.code = "ValidationError";
      reason.message = s.message();
      cancelled = true;
    } else if (!s.ok()) {
      return s;
    }
  }
  if (cancelled) {
    result.outcomes.clear();
    return result;
  }
  result.committed = true;
  result.reasons.clear();

  std::vector<Slot*> changed;
  for (Slot& slot : slots) {
    if (slot.write.changes()) changed.push_back(&slot);
  }
  // One commit time for every write: a point-in-time restore sees all of
  // the transaction or none of it.
  if (!changed.empty()) {
    const int64_t commit_ms = changed[0]->table->commit_clock()->Now();
    for (Slot* slot : changed) slot->write.commit_ms = commit_ms;
  }
  size_t record_count = 0;
  for (Slot* slot : changed) {
    if (slot->table->stream_while_locked()) ++record_count;
  }
  // One changed item commits as a single-item write: its record (if any) is
  // its redo entry. So does any number of items without records.
  if (changed.size() == 1 && record_count == 1) {
    EDDY_RETURN_IF_ERROR(changed[0]->table->Commit(changed[0]->write));
    return result;
  }
  leveldb::WriteBatch batch;
  for (Slot* slot : changed) slot->table->Stage(slot->write, &batch);
  if (record_count == 0) {
    leveldb::WriteOptions options;
    options.sync = sync;
    EDDY_RETURN_IF_ERROR(db->Write(use, options, &batch));
  } else {
    // Step 1: the intent, the commit point.
    proto::TransactionIntent intent;
    intent.set_transaction_id(transaction_id);
    IntentWriter writer(&intent);
    leveldb::Status s = batch.Iterate(&writer);
    if (!s.ok()) return Status::Internal(s.ToString());
    std::vector<PendingRecord> records;
    for (Slot* slot : changed) {
      const std::shared_ptr<ChangeStreamImpl>& stream =
          slot->table->stream_while_locked();
      if (!stream) continue;
      auto [shard, payload] =
          slot->table->EncodeRecord(slot->write, transaction_id);
      proto::TransactionIntent::Record* r = intent.add_records();
      r->set_table_id(slot->table->id());
      r->set_stream_label(stream->description().label);
      r->set_shard(shard);
      r->set_payload(payload);
      r->set_after_sequence(stream->shard(shard)->last_sequence());
      records.push_back({stream.get(), shard, std::move(payload)});
    }
    const std::string intent_key = IntentKey(transaction_id);
    leveldb::WriteOptions options;
    options.sync = sync;
    leveldb::WriteBatch intent_batch;
    intent_batch.Put(intent_key, intent.SerializeAsString());
    // A failure here fails the handle: if the intent did reach the log,
    // the recovery finishes the transaction (its outcome was unknown).
    EDDY_RETURN_IF_ERROR(db->Write(use, options, &intent_batch));
    if (CrashHere(0)) return SimulatedCrash();
    // Steps 2 and 3.
    EDDY_RETURN_IF_ERROR(
        AppendAndApply(db, use, sync, intent_key, records, &batch, logger));
  }
  for (Slot* slot : changed) slot->table->Account(slot->write);
  return result;
}

Result<std::vector<std::optional<Item>>> ReadTransaction(
    DbHandle* handle, const std::vector<TransactGetAction>& gets) {
  DbHandle::Use use(handle);
  EDDY_RETURN_IF_ERROR(use.status());
  leveldb::DB* db = use.db();
  // Held shared, the tables cannot be dropped while they are read.
  std::map<uint64_t, TableImpl*> tables;
  std::set<std::pair<uint64_t, std::string>> keys;
  for (const TransactGetAction& get : gets) {
    TableImpl* table = Impl(get.table);
    EDDY_RETURN_IF_ERROR(table->ValidateKey(get.key));
    if (!keys.emplace(table->id(), table->EncodeKey(get.key)).second) {
      return MultipleOperations();
    }
    tables.emplace(table->id(), table);
  }
  std::vector<std::shared_lock<std::shared_mutex>> table_locks;
  for (const auto& [id, table] : tables) {
    table_locks.emplace_back(table->state_mutex());
    if (table->dropped()) return TableGone();
  }
  const leveldb::Snapshot* snapshot = db->GetSnapshot();
  std::vector<std::optional<Item>> items;
  items.reserve(gets.size());
  Status failed;
  for (const TransactGetAction& get : gets) {
    TableImpl* table = Impl(get.table);
    Result<std::optional<Item>> item =
        table->ReadItem(table->EncodeKey(get.key), snapshot);
    if (!item.ok()) {
      failed = item.status();
      break;
    }
    items.push_back(std::move(*item));
  }
  db->ReleaseSnapshot(snapshot);
  if (!failed.ok()) return failed;
  return items;
}

Result<int> RecoverTransactions(leveldb::DB* db, const StreamFinder& find,
                                spdlog::logger& logger) {
  std::vector<std::pair<std::string, proto::TransactionIntent>> intents;
  {
    std::unique_ptr<leveldb::Iterator> it(
        db->NewIterator(DbHandle::ReadOptions()));
    for (it->Seek(std::string(1, kIntentPrefix));
         it->Valid() && it->key()[0] == kIntentPrefix; it->Next()) {
      proto::TransactionIntent intent;
      if (!intent.ParseFromArray(it->value().data(),
                                 static_cast<int>(it->value().size()))) {
        return Status::Corruption("undecodable transaction intent");
      }
      intents.emplace_back(it->key().ToString(), std::move(intent));
    }
    if (!it->status().ok()) return FromLevelDb(it->status());
  }
  for (auto& [key, intent] : intents) {
    const uint64_t id = intent.transaction_id();
    // The items of this transaction already in each shard's log: its
    // records come after the shard's last sequence when the intent was
    // written (the applied marker is no bound: a clean shutdown after a
    // failed append advances it).
    std::map<std::pair<ChangeStreamImpl*, uint32_t>, uint64_t> scan_from;
    for (const proto::TransactionIntent::Record& r : intent.records()) {
      ChangeStreamImpl* stream = find(r.table_id(), r.stream_label());
      if (stream == nullptr || r.shard() >= stream->shard_count()) {
        return Status::Corruption("transaction " + std::to_string(id) +
                                  " names a stream that is not enabled");
      }
      auto [it, first] =
          scan_from.try_emplace({stream, r.shard()}, r.after_sequence() + 1);
      if (!first) it->second = std::min(it->second, r.after_sequence() + 1);
    }
    std::map<std::pair<ChangeStreamImpl*, uint32_t>, std::set<std::string>>
        logged;
    for (const auto& [where, from] : scan_from) {
      streams::ShardLog* log = where.first->shard(where.second);
      std::set<std::string>& keys = logged[where];
      uint64_t next = std::max(from, log->first_sequence());
      while (next <= log->last_sequence()) {
        Result<streams::ReadResult> read = log->Read(next, 1000, 16 << 20);
        if (!read.ok()) return read.status();
        if (read->records.empty()) break;
        for (const streams::LogRecord& record : read->records) {
          proto::ChangeRecord change;
          if (!change.ParseFromString(record.payload)) {
            return Status::Corruption("undecodable stream record " +
                                      std::to_string(record.sequence));
          }
          if (change.transaction_id() == id) {
            EDDY_ASSIGN_OR_RETURN(std::string item,
                                  where.first->ItemIdentity(change));
            keys.insert(std::move(item));
          }
          next = record.sequence + 1;
        }
      }
    }
    int appended = 0;
    for (const proto::TransactionIntent::Record& r : intent.records()) {
      ChangeStreamImpl* stream = find(r.table_id(), r.stream_label());
      const std::set<std::string>& keys = logged[{stream, r.shard()}];
      proto::ChangeRecord change;
      if (!change.ParseFromString(r.payload())) {
        return Status::Corruption("undecodable record in transaction " +
                                  std::to_string(id));
      }
      EDDY_ASSIGN_OR_RETURN(std::string item, stream->ItemIdentity(change));
      if (keys.count(item) > 0) continue;
      Result<ChangeStreamImpl::Ticket> ticket =
          stream->Append(r.shard(), r.payload(), NowMillis());
      if (!ticket.ok()) return ticket.status();
      Status synced = stream->Sync(*ticket);
      stream->Applied(*ticket);
      EDDY_RETURN_IF_ERROR(synced);
      ++appended;
    }
    leveldb::WriteBatch batch;
    for (const proto::TransactionIntent::Change& c : intent.changes()) {
      if (c.is_delete()) {
        batch.Delete(c.key());
      } else {
        batch.Put(c.key(), c.value());
      }
    }
    batch.Delete(key);
    leveldb::WriteOptions options;
    options.sync = true;
    leveldb::Status s = db->Write(options, &batch);
    if (!s.ok()) return FromLevelDb(s);
    logger.info(
        "finished transaction {} interrupted by a crash ({} changes, {} of {} "
        "stream records appended now)",
        id, intent.changes_size(), appended, intent.records_size());
  }
  return static_cast<int>(intents.size());
}

void SetTransactionCrashPointForTesting(CrashPoint point) {
  std::lock_guard<std::mutex> lock(crash_point_mu);
  crash_point = std::move(point);
}

}  // namespace eddy::store
