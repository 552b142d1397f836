#include <leveldb/iterator.h>
#include <leveldb/write_batch.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <set>
#include <utility>

#include "catalog.h"
#include "eddy/store/item_codec.h"
#include "eddy/store/key_codec.h"
#include "store_env.h"
#include "table_impl.h"
#include "ttl_sweeper.h"

namespace eddy::store {
namespace {

constexpr size_t kMaxHashKeyBytes = 2048;
constexpr size_t kMaxRangeKeyBytes = 1024;

// The smallest string greater than every string that starts with `s`, or ""
// when there is none (s is all 0xff).
std::string PrefixSuccessor(std::string s) {
  while (!s.empty()) {
    auto last = static_cast<unsigned char>(s.back());
    if (last != 0xff) {
      s.back() = static_cast<char>(last + 1);
      return s;
    }
    s.pop_back();
  }
  return s;
}

// The smallest string greater than `s`.
std::string ImmediateSuccessor(std::string s) {
  s.push_back('\0');
  return s;
}

Status KeySizeError(bool is_hash) {
  if (is_hash) {
    return Status::InvalidArgument(
        "One or more parameter values were invalid: Size of hashkey has "
        "exceeded the maximum size limit of2048 bytes");
  }
  return Status::InvalidArgument(
      "One or more parameter values were invalid: Aggregated size of all "
      "range keys has exceeded the size limit of 1024 bytes");
}

// Empty-value and size checks shared by keys and items.
Status CheckKeyValue(const KeyElement& element, const AttributeValue& value,
                     bool is_hash) {
  if (value.type() != ValueType::kN && value.scalar().empty()) {
    return Status::InvalidArgument(
        std::string("One or more parameter values are not valid. The "
                    "AttributeValue for a key attribute cannot contain an "
                    "empty ") +
        (value.type() == ValueType::kS ? "string" : "binary") +
        " value. Key: " + element.name);
  }
  size_t size = value.Size();
  if (size > (is_hash ? kMaxHashKeyBytes : kMaxRangeKeyBytes)) {
    return KeySizeError(is_hash);
  }
  return Status::OK();
}

Status ConditionFailed() {
  return Status::ConditionFailed("The conditional request failed");
}

Status TableGone() { return Status::NotFound("Requested resource not found"); }

}  // namespace

TableImpl::TableImpl(DbHandle* db, bool sync, uint64_t id, TableInfo info,
                     std::shared_ptr<spdlog::logger> logger, CommitClock* clock)
    : db_(db),
      sync_(sync),
      id_(id),
      prefix_(TableItemPrefix(id)),
      logger_(std::move(logger)),
      info_(std::move(info)),
      clock_(clock) {
  pitr_ = info_.pitr_enabled_ms != 0;
  item_count_ = info_.item_count;
  size_bytes_ = info_.size_bytes;
  for (const IndexInfo& index : info_.indexes) {
    indexes_.push_back(MakeIndex(index));
  }
}

std::shared_ptr<TableImpl::Index> TableImpl::MakeIndex(
    const IndexInfo& info) const {
  auto index = std::make_shared<Index>();
  index->id = info.id;
  index->schema = info.schema;
  index->global = info.global;
  index->prefix = IndexEntryPrefix(id_, info.id);
  index->item_count = info.item_count;
  index->size_bytes = info.size_bytes;
  return index;
}

TableInfo TableImpl::Describe() const {
  TableInfo info;
  {
    std::lock_guard<std::mutex> lock(info_mu_);
    info = info_;
  }
  info.item_count = item_count_.load(std::memory_order_relaxed);
  info.size_bytes = size_bytes_.load(std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(index_mu_);
  for (IndexInfo& i : info.indexes) {
    for (const auto& index : indexes_) {
      if (index->id != i.id) continue;
      i.item_count = index->item_count.load(std::memory_order_relaxed);
      i.size_bytes = index->size_bytes.load(std::memory_order_relaxed);
    }
  }
  return info;
}

TableInfo TableImpl::ChangeInfo(const std::function<void(TableInfo*)>& change) {
  {
    std::lock_guard<std::mutex> lock(info_mu_);
    change(&info_);
  }
  return Describe();
}

void TableImpl::MarkDropped() {
  std::unique_lock<std::shared_mutex> lock(state_mu_);
  dropped_ = true;
}

void TableImpl::Unmark() {
  std::unique_lock<std::shared_mutex> lock(state_mu_);
  dropped_ = false;
}

Status TableImpl::WithWritesPaused(const std::function<Status()>& fn) {
  std::unique_lock<std::shared_mutex> lock(state_mu_);
  if (dropped_) return TableGone();
  return fn();
}

void TableImpl::SetStream(std::shared_ptr<ChangeStreamImpl> stream) {
  stream_ = std::move(stream);
}

std::shared_ptr<ChangeStreamImpl> TableImpl::stream() {
  std::shared_lock<std::shared_mutex> lock(state_mu_);
  return stream_;
}

std::vector<std::pair<uint32_t, std::string>> TableImpl::CountableIndexes()
    const {
  std::set<uint32_t> backfilling;
  {
    std::lock_guard<std::mutex> lock(info_mu_);
    for (const IndexInfo& i : info_.indexes) {
      if (i.backfilling) backfilling.insert(i.id);
    }
  }
  std::vector<std::pair<uint32_t, std::string>> out;
  std::lock_guard<std::mutex> lock(index_mu_);
  for (const auto& index : indexes_) {
    // A backfill counts its index itself when it finishes.
    if (backfilling.count(index->id) == 0) {
      out.emplace_back(index->id, index->prefix);
    }
  }
  return out;
}

TableImpl::Stats TableImpl::StatsWhilePaused() const {
  Stats stats;
  stats.item_count = item_count_.load();
  stats.size_bytes = size_bytes_.load();
  const auto countable = CountableIndexes();
  std::lock_guard<std::mutex> lock(index_mu_);
  for (const auto& [id, prefix] : countable) {
    for (const auto& index : indexes_) {
      if (index->id == id) {
        stats.indexes[id] = {index->item_count.load(),
                             index->size_bytes.load()};
      }
    }
  }
  return stats;
}

void TableImpl::CorrectStats(const Stats& at, const Stats& exact) {
  item_count_.fetch_add(exact.item_count - at.item_count);
  size_bytes_.fetch_add(exact.size_bytes - at.size_bytes);
  std::lock_guard<std::mutex> lock(index_mu_);
  for (const auto& index : indexes_) {
    auto before = at.indexes.find(index->id);
    auto counted = exact.indexes.find(index->id);
    if (before == at.indexes.end() || counted == exact.indexes.end()) continue;
    index->item_count.fetch_add(counted->second.first - before->second.first);
    index->size_bytes.fetch_add(counted->second.second - before->second.second);
  }
}

void TableImpl::AddIndex(IndexInfo index) {
  std::shared_ptr<Index> runtime = MakeIndex(index);
  {
    std::lock_guard<std::mutex> lock(info_mu_);
    info_.indexes.push_back(std::move(index));
  }
  std::lock_guard<std::mutex> lock(index_mu_);
  indexes_.push_back(std::move(runtime));
}

void TableImpl::RemoveIndex(uint32_t index_id) {
  {
    std::lock_guard<std::mutex> lock(info_mu_);
    std::erase_if(info_.indexes,
                  [&](const IndexInfo& i) { return i.id == index_id; });
  }
  std::lock_guard<std::mutex> lock(index_mu_);
  std::erase_if(indexes_, [&](const std::shared_ptr<Index>& i) {
    return i->id == index_id;
  });
}

std::optional<std::string> TableImpl::IndexEntryKey(const Index& index,
                                                    const Item& item) const {
  auto usable = [&](const KeyElement& element) -> const AttributeValue* {
    auto it = item.find(element.name);
    if (it == item.end() || it->second.type() != element.type ||
        (element.type != ValueType::kN && it->second.scalar().empty())) {
      return nullptr;
    }
    return &it->second;
  };
  const AttributeValue* hash = usable(index.schema.hash_key);
  if (hash == nullptr) return std::nullopt;
  const AttributeValue* range = nullptr;
  if (index.schema.range_key) {
    range = usable(*index.schema.range_key);
    if (range == nullptr) return std::nullopt;
  }
  std::string pk;
  AppendKeyValue(*hash, &pk);
  std::string key = index.prefix;
  AppendBigEndian32(KeyHash(pk), &key);
  key.append(pk);
  if (range != nullptr) AppendKeyValue(*range, &key);
  // The table's key makes the entry unique.
  const TableSchema& s = info_.schema;
  AppendKeyValue(item.find(s.hash_key.name)->second, &key);
  if (s.range_key) AppendKeyValue(item.find(s.range_key->name)->second, &key);
  return key;
}

Item TableImpl::ProjectEntry(const Index& index, const Item& item) const {
  if (index.schema.projection == ProjectionType::kAll) return item;
  Item entry = ExtractKey(item);
  auto copy = [&](const std::string& name) {
    auto it = item.find(name);
    if (it != item.end()) entry.emplace(name, it->second);
  };
  copy(index.schema.hash_key.name);
  if (index.schema.range_key) copy(index.schema.range_key->name);
  if (index.schema.projection == ProjectionType::kInclude) {
    for (const std::string& name : index.schema.non_key_attributes) copy(name);
  }
  return entry;
}

Status TableImpl::ValidateIndexKeys(
    const Item& item, const std::vector<std::shared_ptr<Index>>& indexes) {
  for (const auto& index : indexes) {
    for (const KeyElement* element :
         {&index->schema.hash_key,
          index->schema.range_key ? &*index->schema.range_key : nullptr}) {
      if (element == nullptr) continue;
      auto it = item.find(element->name);
      if (it == item.end()) continue;
      const AttributeValue& value = it->second;
      if (value.type() != element->type) {
        return Status::InvalidArgument(
            "One or more parameter values were invalid: Type mismatch for "
            "Index Key " +
            element->name +
            " Expected: " + std::string(ValueTypeName(element->type)) +
            " Actual: " + std::string(ValueTypeName(value.type())) +
            " IndexName: " + index->schema.name);
      }
      if (value.type() != ValueType::kN && value.scalar().empty()) {
        return Status::InvalidArgument(
            "One or more parameter values are not valid. A value specified "
            "for a secondary index key is not supported. The AttributeValue "
            "for a key attribute cannot contain an empty " +
            std::string(value.type() == ValueType::kS ? "string" : "binary") +
            " value. IndexName: " + index->schema.name +
            ", IndexKey: " + element->name);
      }
    }
  }
  return Status::OK();
}

Result<std::shared_ptr<TableImpl::Index>> TableImpl::ReadableIndex(
    const std::string& name) const {
  std::shared_ptr<Index> found;
  {
    std::lock_guard<std::mutex> lock(index_mu_);
    for (const auto& index : indexes_) {
      if (index->schema.name == name) found = index;
    }
  }
  if (!found) {
    return Status::InvalidArgument(
        "The table does not have the specified index: " + name);
  }
  std::lock_guard<std::mutex> lock(info_mu_);
  for (const IndexInfo& info : info_.indexes) {
    if (info.id == found->id && info.backfilling) {
      return Status::InvalidArgument(
          "Cannot read from backfilling global secondary index: " + name);
    }
  }
  return found;
}

Status TableImpl::ValidateKey(const Item& key) const {
  const TableSchema& s = info_.schema;
  const size_t expected = s.range_key ? 2 : 1;
  auto mismatch = [] {
    return Status::InvalidArgument(
        "The provided key element does not match the schema");
  };
  if (key.size() != expected) return mismatch();
  auto check = [&](const KeyElement& element, bool is_hash) -> Status {
    auto it = key.find(element.name);
    if (it == key.end() || it->second.type() != element.type) {
      return mismatch();
    }
    return CheckKeyValue(element, it->second, is_hash);
  };
  EDDY_RETURN_IF_ERROR(check(s.hash_key, true));
  if (s.range_key) EDDY_RETURN_IF_ERROR(check(*s.range_key, false));
  return Status::OK();
}

Status TableImpl::ValidateItemKey(const Item& item) const {
  const TableSchema& s = info_.schema;
  auto check = [&](const KeyElement& element, bool is_hash) -> Status {
    auto it = item.find(element.name);
    if (it == item.end()) {
      return Status::InvalidArgument(
          "One or more parameter values were invalid: Missing the key " +
          element.name + " in the item");
    }
    if (it->second.type() != element.type) {
      return Status::InvalidArgument(
          "One or more parameter values were invalid: Type mismatch for key " +
          element.name +
          " expected: " + std::string(ValueTypeName(element.type)) +
          " actual: " + std::string(ValueTypeName(it->second.type())));
    }
    return CheckKeyValue(element, it->second, is_hash);
  };
  EDDY_RETURN_IF_ERROR(check(s.hash_key, true));
  if (s.range_key) EDDY_RETURN_IF_ERROR(check(*s.range_key, false));
  return Status::OK();
}

std::string TableImpl::EncodeKey(const Item& item) const {
  const TableSchema& s = info_.schema;
  std::string pk;
  AppendKeyValue(item.find(s.hash_key.name)->second, &pk);
  std::string key = prefix_;
  key.reserve(prefix_.size() + 4 + pk.size() + 16);
  AppendBigEndian32(KeyHash(pk), &key);
  key.append(pk);
  if (s.range_key) AppendKeyValue(item.find(s.range_key->name)->second, &key);
  return key;
}

Item TableImpl::ExtractKey(const Item& item) const {
  const TableSchema& s = info_.schema;
  Item key;
  auto copy = [&](const std::string& name) {
    auto it = item.find(name);
    if (it != item.end()) key.emplace(name, it->second);
  };
  copy(s.hash_key.name);
  if (s.range_key) copy(s.range_key->name);
  return key;
}

Result<bool> TableImpl::ReadEncoded(const std::string& db_key,
                                    const leveldb::Snapshot* snapshot,
                                    std::string* encoded) {
  leveldb::DB* db = db_->held_db();
  if (db == nullptr) return Status::IOError("the database is not open");
  leveldb::ReadOptions options = DbHandle::ReadOptions();
  options.snapshot = snapshot;
  leveldb::Status s = db->Get(options, db_key, encoded);
  if (s.IsNotFound()) return false;
  if (!s.ok()) return db_->Error(s);
  return true;
}

Result<std::optional<Item>> TableImpl::ReadItem(
    const std::string& db_key, const leveldb::Snapshot* snapshot,
    std::string* encoded) {
  std::string value;
  std::string* bytes = encoded != nullptr ? encoded : &value;
  EDDY_ASSIGN_OR_RETURN(bool found, ReadEncoded(db_key, snapshot, bytes));
  if (!found) return std::optional<Item>();
  Result<Item> item = DecodeItem(*bytes);
  if (!item.ok()) return item.status();
  return std::optional<Item>(std::move(*item));
}

size_t TableImpl::StripeIndex(const std::string& db_key) const {
  return std::hash<std::string>{}(db_key) % kStripes;
}

Status TableImpl::Prepare(const Condition* condition, const Mutation& mutation,
                          PendingWrite* write, WriteOutcome* out) {
  Result<std::optional<Item>> current =
      ReadItem(write->db_key, nullptr, &write->current_encoded);
  if (!current.ok()) return current.status();
  if (!*current) write->current_encoded.clear();
  write->current = std::move(*current);
  write->current_size = write->current ? ItemSize(*write->current) : 0;
  out->old_size = write->current_size;
  if (out->want_old_item) out->old_item = write->current;
  if (condition != nullptr &&
      !condition->Evaluate(write->current ? *write->current : Item())) {
    return ConditionFailed();
  }
  EDDY_RETURN_IF_ERROR(mutation(write->current, &write->next));
  if (write->next && !indexes_.empty()) {
    EDDY_RETURN_IF_ERROR(ValidateIndexKeys(*write->next, indexes_));
  }
  write->next_size = write->next ? ItemSize(*write->next) : 0;
  write->next_encoded.clear();
  if (write->next && write->changes()) {
    EncodeItem(*write->next, &write->next_encoded);
  }
  out->new_size = write->next_size;
  if (out->want_new_item) out->new_item = write->next;
  if (write->changes()) {
    for (const auto& index : indexes_) {
      std::optional<std::string> old_key =
          write->current ? IndexEntryKey(*index, *write->current)
                         : std::nullopt;
      std::optional<std::string> new_key =
          write->next ? IndexEntryKey(*index, *write->next) : std::nullopt;
      if (!old_key && !new_key) continue;
      WriteOutcome::IndexWrite cost{index->schema.name, index->global, {}};
      std::optional<Item> old_entry, new_entry;
      if (old_key) old_entry = ProjectEntry(*index, *write->current);
      if (new_key) new_entry = ProjectEntry(*index, *write->next);
      if (old_key && old_key != new_key) {
        cost.entry_sizes.push_back(ItemSize(*old_entry));
      }
      if (new_key && (old_key != new_key || old_entry != new_entry)) {
        cost.entry_sizes.push_back(ItemSize(*new_entry));
      }
      if (!cost.entry_sizes.empty()) {
        out->index_writes.push_back(std::move(cost));
      }
    }
  }
  return Status::OK();
}

void TableImpl::Stage(const PendingWrite& write,
                      leveldb::WriteBatch* batch) const {
  if (write.next && !write.next_encoded.empty()) {
    batch->Put(write.db_key, write.next_encoded);
  } else if (write.next) {
    std::string encoded;
    EncodeItem(*write.next, &encoded);
    batch->Put(write.db_key, encoded);
  } else {
    batch->Delete(write.db_key);
  }
  for (const auto& index : indexes_) {
    std::optional<std::string> old_key =
        write.current ? IndexEntryKey(*index, *write.current) : std::nullopt;
    std::optional<std::string> new_key =
        write.next ? IndexEntryKey(*index, *write.next) : std::nullopt;
    if (old_key && old_key != new_key) batch->Delete(*old_key);
    if (!new_key) continue;
    Item entry = ProjectEntry(*index, *write.next);
    if (old_key == new_key &&
        index->schema.projection != ProjectionType::kAll &&
        entry == ProjectEntry(*index, *write.current)) {
      continue;  // The entry is unchanged.
    }
    std::string encoded;
    EncodeItem(entry, &encoded);
    batch->Put(*new_key, encoded);
  }
  if (pitr_ && write.changes()) {
    const int64_t at = write.commit_ms != 0 ? write.commit_ms : clock_->Now();
    batch->Put(HistoryKey(id_, at, clock_->Sequence()),
               EncodeHistoryEntry(write.db_key, write.current_encoded));
  }
}

std::pair<uint32_t, std::string> TableImpl::EncodeRecord(
    const PendingWrite& write, uint64_t transaction_id) const {
  const Item& image = write.next ? *write.next : *write.current;
  std::string pk;
  AppendKeyValue(image.find(info_.schema.hash_key.name)->second, &pk);
  return {stream_->ShardFor(KeyHash(pk)),
          stream_->EncodeChange(write.current, write.next, write.next_encoded,
                                write.service_delete, transaction_id)};
}

void TableImpl::Account(const PendingWrite& write) {
  const auto old_size = static_cast<int64_t>(write.current_size);
  const auto new_size = static_cast<int64_t>(write.next_size);
  item_count_.fetch_add((write.next ? 1 : 0) - (write.current ? 1 : 0),
                        std::memory_order_relaxed);
  size_bytes_.fetch_add(new_size - old_size, std::memory_order_relaxed);
  for (const auto& index : indexes_) {
    auto entry_size = [&](const std::optional<Item>& item) -> int64_t {
      if (!item || !IndexEntryKey(*index, *item)) return -1;
      return static_cast<int64_t>(ItemSize(ProjectEntry(*index, *item)));
    };
    const int64_t before = entry_size(write.current);
    const int64_t after = entry_size(write.next);
    index->item_count.fetch_add((after >= 0 ? 1 : 0) - (before >= 0 ? 1 : 0),
                                std::memory_order_relaxed);
    index->size_bytes.fetch_add(
        std::max<int64_t>(after, 0) - std::max<int64_t>(before, 0),
        std::memory_order_relaxed);
  }
}

Status TableImpl::Mutate(std::string db_key, const Condition* condition,
                         const Mutation& mutation, WriteOutcome* out,
                         bool service_delete) {
  DbHandle::Use use(db_);
  EDDY_RETURN_IF_ERROR(use.status());
  std::shared_lock<std::shared_mutex> drop_lock(state_mu_);
  if (dropped_) return TableGone();
  PendingWrite write;
  write.db_key = std::move(db_key);
  write.service_delete = service_delete;
  std::lock_guard<std::mutex> item_lock(stripes_[StripeIndex(write.db_key)]);
  // Under the item's lock: a failed write of this item marked the handle
  // failed before releasing it, so nothing is written over a change the
  // redo has not applied yet.
  EDDY_RETURN_IF_ERROR(db_->CheckWritable());
  EDDY_RETURN_IF_ERROR(Prepare(condition, mutation, &write, out));
  // A write that changes nothing is not written and emits no stream record.
  if (!write.changes()) return Status::OK();
  return Commit(write);
}

Status TableImpl::Commit(const PendingWrite& write) {
  leveldb::WriteBatch batch;
  Stage(write, &batch);
  leveldb::WriteOptions write_options;
  write_options.sync = sync_;

  DbHandle::Use use(db_);  // Nested in the caller's.
  // With a stream, the change record is appended first and is the redo
  // entry for this batch (see change_stream_impl.h); it is also what makes
  // the write durable under --sync, so LevelDB's own log need not be synced.
  std::optional<ChangeStreamImpl::Ticket> ticket;
  if (stream_ != nullptr) {
    auto [shard, payload] = EncodeRecord(write, /*transaction_id=*/0);
    Result<ChangeStreamImpl::Ticket> appended =
        stream_->Append(shard, payload, NowMillis());
    if (!appended.ok()) {
      // Nothing was written: the log cut the record off, its number is
      // free, and the log repairs itself before its next append.
      logger_->warn("stream append for table {} failed: {}", info_.schema.name,
                    appended.status().ToString());
      return Status::IOError(appended.status().message());
    }
    ticket = *appended;
    if (sync_) {
      Status synced = stream_->Sync(*ticket);
      if (!synced.ok()) {
        // The record is in the log (and visible) but not known durable:
        // the write's outcome is unknown. The redo applies it, so the
        // table never lags the stream; until then no write proceeds.
        db_->Fail(synced);
        return Status::IOError(synced.message());
      }
      write_options.sync = false;
    }
    std::string marker;
    AppendBigEndian64(ticket->marker, &marker);
    batch.Put(stream_->MarkerKey(shard), marker);
  }
  Status s = db_->Write(use, write_options, &batch);
  if (!s.ok()) {
    // Db::Write failed the handle. A record appended stays in flight (its
    // ticket is not released), so no later marker passes it: the redo
    // (or the next Open) applies it.
    logger_->error("write to table {} failed: {}", info_.schema.name,
                   s.ToString());
    return s;
  }
  if (ticket) stream_->Applied(*ticket);
  Account(write);
  return Status::OK();
}

Result<bool> TableImpl::DeleteExpired(const Item& key,
                                      const std::string& attribute,
                                      int64_t now_seconds) {
  EDDY_RETURN_IF_ERROR(ValidateKey(key));
  bool expired = false;
  WriteOutcome out;
  EDDY_RETURN_IF_ERROR(Mutate(
      EncodeKey(key), /*condition=*/nullptr,
      [&](const std::optional<Item>& current, std::optional<Item>* next) {
        *next = current;
        if (current && TtlExpired(*current, attribute, now_seconds)) {
          expired = true;
          next->reset();
        }
        return Status::OK();
      },
      &out, /*service_delete=*/true));
  return expired;
}

Status TableImpl::ValidatePutItem(const Item& item) const {
  EDDY_RETURN_IF_ERROR(ValidateItemKey(item));
  if (ItemSize(item) > kMaxItemSize) {
    return Status::InvalidArgument(
        "Item size has exceeded the maximum allowed size");
  }
  return Status::OK();
}

Status TableImpl::ValidateItem(const Item& item) const {
  EDDY_RETURN_IF_ERROR(ValidatePutItem(item));
  std::lock_guard<std::mutex> lock(index_mu_);
  return ValidateIndexKeys(item, indexes_);
}

TableImpl::Mutation TableImpl::PutMutation(const Item& item) {
  return [&item](const std::optional<Item>&, std::optional<Item>* next) {
    *next = item;
    return Status::OK();
  };
}

TableImpl::Mutation TableImpl::DeleteMutation() {
  return [](const std::optional<Item>&, std::optional<Item>* next) {
    next->reset();
    return Status::OK();
  };
}

Status TableImpl::ValidateUpdate(const Update* update) const {
  if (update == nullptr) return Status::OK();
  const TableSchema& s = info_.schema;
  for (const Path& path : update->paths()) {
    const std::string& name = path.front().name;
    if (name == s.hash_key.name || (s.range_key && name == s.range_key->name)) {
      return Status::InvalidArgument(
          "One or more parameter values were invalid: Cannot update "
          "attribute " +
          name + ". This attribute is part of the key");
    }
  }
  return Status::OK();
}

TableImpl::Mutation TableImpl::UpdateMutation(const Item& key,
                                              const Update* update) const {
  return [&key, update](const std::optional<Item>& current,
                        std::optional<Item>* next) {
    Item item = current ? *current : key;
    if (update != nullptr) {
      EDDY_RETURN_IF_ERROR(update->Apply(&item));
      // An update that only removes (REMOVE, DELETE) does not create a
      // missing item, as in DynamoDB; without an update expression the
      // item is created with just its key.
      if (!current && item.size() == key.size()) {
        next->reset();
        return Status::OK();
      }
    }
    if (ItemSize(item) > kMaxItemSize) {
      return Status::InvalidArgument(
          "Item size to update has exceeded the maximum allowed size");
    }
    *next = std::move(item);
    return Status::OK();
  };
}

Status TableImpl::Put(Item item, const Condition* condition,
                      WriteOutcome* out) {
  // The index key checks run in Prepare, under the item's lock.
  EDDY_RETURN_IF_ERROR(ValidatePutItem(item));
  std::string db_key = EncodeKey(item);
  // As PutMutation, but moving the item in.
  return Mutate(
      std::move(db_key), condition,
      [&item](const std::optional<Item>&, std::optional<Item>* next) {
        *next = std::move(item);
        return Status::OK();
      },
      out);
}

Status TableImpl::UpdateItem(const Item& key, const Update* update,
                             const Condition* condition, WriteOutcome* out) {
  EDDY_RETURN_IF_ERROR(ValidateKey(key));
  EDDY_RETURN_IF_ERROR(ValidateUpdate(update));
  return Mutate(EncodeKey(key), condition, UpdateMutation(key, update), out);
}

Status TableImpl::Delete(const Item& key, const Condition* condition,
                         WriteOutcome* out) {
  EDDY_RETURN_IF_ERROR(ValidateKey(key));
  return Mutate(EncodeKey(key), condition, DeleteMutation(), out);
}

Result<std::optional<Item>> TableImpl::Get(const Item& key) {
  EDDY_RETURN_IF_ERROR(ValidateKey(key));
  {
    std::shared_lock<std::shared_mutex> drop_lock(state_mu_);
    if (dropped_) return TableGone();
  }
  DbHandle::Use use(db_);
  EDDY_RETURN_IF_ERROR(use.status());
  return ReadItem(EncodeKey(key));
}

Result<std::optional<std::string>> TableImpl::GetEncoded(const Item& key) {
  EDDY_RETURN_IF_ERROR(ValidateKey(key));
  {
    std::shared_lock<std::shared_mutex> drop_lock(state_mu_);
    if (dropped_) return TableGone();
  }
  DbHandle::Use use(db_);
  EDDY_RETURN_IF_ERROR(use.status());
  std::string encoded;
  EDDY_ASSIGN_OR_RETURN(bool found,
                        ReadEncoded(EncodeKey(key), nullptr, &encoded));
  if (!found) return std::optional<std::string>();
  return std::optional<std::string>(std::move(encoded));
}

Result<ReadPage> TableImpl::ReadRange(std::string lo, std::string hi,
                                      bool forward, const Condition* filter,
                                      std::optional<int64_t> limit,
                                      const Index* index, bool fetch,
                                      bool encoded) {
  ReadPage page;
  if (!hi.empty() && lo >= hi) return page;
  DbHandle::Use use(db_);
  EDDY_RETURN_IF_ERROR(use.status());
  std::unique_ptr<leveldb::Iterator> it(
      use.db()->NewIterator(DbHandle::ReadOptions()));
  auto in_range = [&](const leveldb::Slice& k) {
    return k.compare(lo) >= 0 && (hi.empty() || k.compare(hi) < 0);
  };
  if (forward) {
    it->Seek(lo);
  } else {
    if (hi.empty()) {
      it->SeekToLast();
    } else {
      it->Seek(hi);
      if (it->Valid()) {
        it->Prev();
      } else {
        it->SeekToLast();
      }
    }
  }
  // The key that ends a page: the table's key, plus the index's for an
  // index read.
  auto page_key = [&](const Item& item) {
    Item key = ExtractKey(item);
    if (index != nullptr) {
      for (const KeyElement* element :
           {&index->schema.hash_key,
            index->schema.range_key ? &*index->schema.range_key : nullptr}) {
        if (element == nullptr) continue;
        auto found = item.find(element->name);
        if (found != item.end()) key.emplace(element->name, found->second);
      }
    }
    return key;
  };
  // Entries are decoded when the read needs their attributes: for decoded
  // results, the filter, or a fetch's table key. Otherwise only their
  // recorded size is read; the caller walks the items it returns, which
  // checks them as decoding would.
  const bool decode = !encoded || filter != nullptr || fetch;
  size_t& bytes = page.scanned_bytes;
  std::string fetched;  // A fetched item as stored, when `encoded`.
  while (it->Valid() && in_range(it->key())) {
    const std::string_view entry(it->value().data(), it->value().size());
    std::optional<Item> item;
    if (decode) {
      Result<Item> decoded = DecodeItem(entry);
      if (!decoded.ok()) return decoded.status();
      bytes += ItemSize(*decoded);
      item = std::move(*decoded);
    } else {
      Result<size_t> size = StoredItemSize(entry);
      if (!size.ok()) return size.status();
      bytes += *size;
    }
    ++page.scanned_count;
    const bool limit_reached = limit && page.scanned_count >= *limit;
    const bool page_full = bytes >= kMaxPageBytes;
    // The key is only needed when this item ends the page.
    std::optional<Item> last_key;
    if (limit_reached || page_full) {
      if (!item) {
        Result<Item> decoded = DecodeItem(entry);
        if (!decoded.ok()) return decoded.status();
        item = std::move(*decoded);
      }
      last_key = page_key(*item);
    }
    // The item returned: the entry, or the table's item it stands for.
    std::string_view result = entry;
    bool present = true;
    if (fetch) {
      // An LSI entry without the whole item: read it from the table (it is
      // absent only if deleted since the iterator's snapshot).
      Result<std::optional<Item>> full =
          ReadItem(EncodeKey(*item), nullptr, encoded ? &fetched : nullptr);
      if (!full.ok()) return full.status();
      present = full->has_value();
      item = std::move(*full);
      if (encoded) result = fetched;
    }
    // With a filter, `decode` is set: `item` holds the item when present.
    if (present && (filter == nullptr || filter->Evaluate(*item))) {
      if (encoded) {
        page.encoded_items.Append(result);
      } else {
        page.items.push_back(std::move(*item));
      }
    }
    if (forward) {
      it->Next();
    } else {
      it->Prev();
    }
    if (limit_reached || page_full) {
      // DynamoDB returns LastEvaluatedKey whenever Limit stops a page, even
      // if nothing follows; a full page only when more items remain.
      if (limit_reached || (it->Valid() && in_range(it->key()))) {
        page.last_evaluated_key = std::move(last_key);
      }
      break;
    }
  }
  if (!it->status().ok()) return db_->Error(it->status());
  return page;
}

Result<ReadPage> TableImpl::Query(const QueryRequest& request) {
  const TableSchema& s = info_.schema;
  // The key schema the condition is on: the table's or the index's.
  std::shared_ptr<Index> index;
  const KeyElement* hash_key = &s.hash_key;
  const KeyElement* range_key = s.range_key ? &*s.range_key : nullptr;
  const std::string* prefix = &prefix_;
  if (!request.index_name.empty()) {
    EDDY_ASSIGN_OR_RETURN(index, ReadableIndex(request.index_name));
    hash_key = &index->schema.hash_key;
    range_key = index->schema.range_key ? &*index->schema.range_key : nullptr;
    prefix = &index->prefix;
  }
  const KeyCondition& kc = request.key_condition;
  auto type_mismatch = [] {
    return Status::InvalidArgument(
        "One or more parameter values were invalid: Condition parameter type "
        "does not match schema type");
  };
  if (kc.partition_value.type() != hash_key->type) return type_mismatch();
  EDDY_RETURN_IF_ERROR(CheckKeyValue(*hash_key, kc.partition_value, true));
  {
    std::shared_lock<std::shared_mutex> drop_lock(state_mu_);
    if (dropped_) return TableGone();
  }

  std::string pk;
  AppendKeyValue(kc.partition_value, &pk);
  std::string partition = *prefix;
  AppendBigEndian32(KeyHash(pk), &partition);
  partition.append(pk);

  std::string lo = partition;
  std::string hi = PrefixSuccessor(partition);
  if (kc.sort) {
    if (range_key == nullptr) {
      return Status::InvalidArgument("Query key condition not supported");
    }
    const KeyCondition::SortCondition& sc = *kc.sort;
    if (sc.value.type() != range_key->type ||
        (sc.op == KeyCondition::Op::kBetween &&
         sc.value2.type() != range_key->type)) {
      return type_mismatch();
    }
    auto at = [&](const AttributeValue& v) {
      std::string k = partition;
      AppendKeyValue(v, &k);
      return k;
    };
    switch (sc.op) {
      case KeyCondition::Op::kEq:
        lo = at(sc.value);
        hi = PrefixSuccessor(lo);
        break;
      case KeyCondition::Op::kLt:
        hi = at(sc.value);
        break;
      case KeyCondition::Op::kLe:
        hi = PrefixSuccessor(at(sc.value));
        break;
      case KeyCondition::Op::kGt:
        lo = PrefixSuccessor(at(sc.value));
        break;
      case KeyCondition::Op::kGe:
        lo = at(sc.value);
        break;
      case KeyCondition::Op::kBetween:
        lo = at(sc.value);
        hi = PrefixSuccessor(at(sc.value2));
        break;
      case KeyCondition::Op::kBeginsWith: {
        if (sc.value.type() == ValueType::kN) {
          return Status::InvalidArgument(
              "Invalid KeyConditionExpression: Incorrect operand type for "
              "operator or function; operator or function: begins_with, "
              "operand type: N");
        }
        lo = at(sc.value);
        // Every value that starts with the prefix sorts before the prefix's
        // successor string.
        std::string upper = PrefixSuccessor(sc.value.scalar());
        if (!upper.empty()) {
          hi = at(sc.value.type() == ValueType::kS
                      ? AttributeValue::String(upper)
                      : AttributeValue::Binary(upper));
        }
        break;
      }
    }
  }
  if (request.exclusive_start_key) {
    EDDY_ASSIGN_OR_RETURN(std::string start,
                          StartKey(*request.exclusive_start_key, index.get()));
    if (request.scan_forward) {
      lo = std::max(lo, ImmediateSuccessor(start));
    } else if (hi.empty() || start < hi) {
      hi = start;
    }
  }
  const bool fetch = index && request.fetch_table_items &&
                     index->schema.projection != ProjectionType::kAll;
  return ReadRange(std::move(lo), std::move(hi), request.scan_forward,
                   request.filter, request.limit, index.get(), fetch,
                   request.encoded);
}

Result<std::string> TableImpl::StartKey(const Item& start,
                                        const Index* index) const {
  auto invalid = [] {
    return Status::InvalidArgument(
        "The provided starting key is invalid: The provided key element does "
        "not match the schema");
  };
  if (index == nullptr) {
    if (!ValidateKey(start).ok()) return invalid();
    return EncodeKey(start);
  }
  // The table's key and the index's, nothing else.
  Item table_key = ExtractKey(start);
  if (!ValidateKey(table_key).ok()) return invalid();
  for (const auto& [name, value] : start) {
    if (table_key.count(name) == 0 && name != index->schema.hash_key.name &&
        !(index->schema.range_key && name == index->schema.range_key->name)) {
      return invalid();
    }
  }
  std::optional<std::string> key = IndexEntryKey(*index, start);
  if (!key) return invalid();
  return *key;
}

Result<ReadPage> TableImpl::Scan(const ScanRequest& request) {
  std::shared_ptr<Index> index;
  if (!request.index_name.empty()) {
    EDDY_ASSIGN_OR_RETURN(index, ReadableIndex(request.index_name));
  }
  {
    std::shared_lock<std::shared_mutex> drop_lock(state_mu_);
    if (dropped_) return TableGone();
  }
  const std::string& prefix = index ? index->prefix : prefix_;
  const uint64_t total = static_cast<uint64_t>(request.total_segments);
  const uint64_t segment = static_cast<uint64_t>(request.segment);
  const uint64_t seg_lo = (segment << 32) / total;
  const uint64_t seg_hi = ((segment + 1) << 32) / total;
  std::string lo = prefix;
  AppendBigEndian32(static_cast<uint32_t>(seg_lo), &lo);
  std::string hi;
  if (seg_hi >= (uint64_t{1} << 32)) {
    hi = PrefixSuccessor(prefix);
  } else {
    hi = prefix;
    AppendBigEndian32(static_cast<uint32_t>(seg_hi), &hi);
  }
  if (request.exclusive_start_key) {
    EDDY_ASSIGN_OR_RETURN(std::string start,
                          StartKey(*request.exclusive_start_key, index.get()));
    if (start < lo || start >= hi) {
      return Status::InvalidArgument(
          "The provided starting key is invalid: Exclusive start key must lie "
          "within the segment");
    }
    lo = ImmediateSuccessor(start);
  }
  const bool fetch = index && request.fetch_table_items &&
                     index->schema.projection != ProjectionType::kAll;
  return ReadRange(std::move(lo), std::move(hi), true, request.filter,
                   request.limit, index.get(), fetch, request.encoded);
}

std::optional<IndexInfo> TableImpl::DescribeIndex(
    const std::string& name) const {
  std::lock_guard<std::mutex> lock(info_mu_);
  for (const IndexInfo& index : info_.indexes) {
    if (index.schema.name == name) return index;
  }
  return std::nullopt;
}

bool TableImpl::HasLocalIndexes() const {
  std::lock_guard<std::mutex> lock(index_mu_);
  for (const auto& index : indexes_) {
    if (!index->global) return true;
  }
  return false;
}

Result<int64_t> TableImpl::ItemCollectionSize(
    const AttributeValue& partition_value) {
  std::string pk;
  AppendKeyValue(partition_value, &pk);
  std::vector<std::string> partitions;
  auto add = [&](const std::string& prefix) {
    std::string p = prefix;
    AppendBigEndian32(KeyHash(pk), &p);
    p.append(pk);
    partitions.push_back(std::move(p));
  };
  add(prefix_);
  {
    std::lock_guard<std::mutex> lock(index_mu_);
    for (const auto& index : indexes_) {
      if (!index->global) add(index->prefix);
    }
  }
  int64_t bytes = 0;
  DbHandle::Use use(db_);
  EDDY_RETURN_IF_ERROR(use.status());
  std::unique_ptr<leveldb::Iterator> it(
      use.db()->NewIterator(DbHandle::ReadOptions()));
  for (const std::string& partition : partitions) {
    for (it->Seek(partition); it->Valid() && it->key().starts_with(partition);
         it->Next()) {
      Result<Item> item =
          DecodeItem(std::string_view(it->value().data(), it->value().size()));
      if (!item.ok()) return item.status();
      bytes += static_cast<int64_t>(ItemSize(*item));
    }
  }
  if (!it->status().ok()) return db_->Error(it->status());
  return bytes;
}

Status TableImpl::BackfillIndex(uint32_t index_id,
                                const std::atomic<bool>& stop) {
  std::shared_ptr<Index> index;
  {
    std::lock_guard<std::mutex> lock(index_mu_);
    for (const auto& i : indexes_) {
      if (i->id == index_id) index = i;
    }
  }
  if (!index) return Status::OK();  // Deleted meanwhile.
  const std::string& name = index->schema.name;
  const std::string end = PrefixSuccessor(prefix_);
  std::string cursor = prefix_;
  int64_t read = 0;
  int64_t indexed = 0;
  auto last_log = std::chrono::steady_clock::now();
  logger_->info("backfilling index {} of table {}", name, info_.schema.name);
  for (;;) {
    if (stop) return Status::OK();  // Resumed at the next Open.
    std::vector<std::string> keys;
    {
      DbHandle::Use use(db_);
      EDDY_RETURN_IF_ERROR(use.status());
      std::unique_ptr<leveldb::Iterator> it(
          use.db()->NewIterator(DbHandle::ReadOptions()));
      for (it->Seek(cursor);
           it->Valid() && it->key().compare(end) < 0 && keys.size() < 1000;
           it->Next()) {
        keys.push_back(it->key().ToString());
      }
      if (!it->status().ok()) return db_->Error(it->status());
    }
    if (keys.empty()) break;
    for (const std::string& key : keys) {
      // Under the item's lock the item is current and its writes wait, so
      // the entry written here cannot overwrite a newer one.
      DbHandle::Use use(db_);
      EDDY_RETURN_IF_ERROR(use.status());
      std::shared_lock<std::shared_mutex> drop_lock(state_mu_);
      if (dropped_ || std::find(indexes_.begin(), indexes_.end(), index) ==
                          indexes_.end()) {
        return Status::OK();
      }
      std::lock_guard<std::mutex> item_lock(stripes_[StripeIndex(key)]);
      EDDY_RETURN_IF_ERROR(db_->CheckWritable());
      EDDY_ASSIGN_OR_RETURN(std::optional<Item> item, ReadItem(key));
      if (!item) continue;
      std::optional<std::string> entry_key = IndexEntryKey(*index, *item);
      if (!entry_key) continue;
      std::string encoded;
      EncodeItem(ProjectEntry(*index, *item), &encoded);
      leveldb::WriteBatch batch;
      batch.Put(*entry_key, encoded);
      EDDY_RETURN_IF_ERROR(db_->Write(use, leveldb::WriteOptions(), &batch));
      ++indexed;
    }
    read += static_cast<int64_t>(keys.size());
    cursor = ImmediateSuccessor(keys.back());
    auto now = std::chrono::steady_clock::now();
    if (now - last_log > std::chrono::seconds(1)) {
      logger_->info("backfilling index {} of table {}: {} items read", name,
                    info_.schema.name, read);
      last_log = now;
    }
  }
  // Writes during the backfill counted entries approximately: count them
  // in a snapshot, and keep what writes add after it. Snapshot and counters
  // are taken together while writes are paused (a write's batch and its
  // Account happen under the shared lock), so no write is counted twice or
  // missed.
  // The snapshot belongs to this LevelDB instance: the Use keeps it open.
  DbHandle::Use use(db_);
  EDDY_RETURN_IF_ERROR(use.status());
  const leveldb::Snapshot* snapshot = nullptr;
  int64_t count_at_snapshot = 0;
  int64_t bytes_at_snapshot = 0;
  {
    std::unique_lock<std::shared_mutex> pause(state_mu_);
    snapshot = use.db()->GetSnapshot();
    count_at_snapshot = index->item_count.load();
    bytes_at_snapshot = index->size_bytes.load();
  }
  int64_t count = 0;
  int64_t bytes = 0;
  Status counted;
  {
    leveldb::ReadOptions options = DbHandle::ReadOptions();
    options.snapshot = snapshot;
    std::unique_ptr<leveldb::Iterator> it(use.db()->NewIterator(options));
    for (it->Seek(index->prefix);
         it->Valid() && it->key().starts_with(index->prefix); it->Next()) {
      if (db_->reopen_pending()) {
        // Step aside for the recovery; the caller retries the backfill.
        counted = Status::IOError("index count interrupted by a recovery");
        break;
      }
      Result<Item> entry =
          DecodeItem(std::string_view(it->value().data(), it->value().size()));
      if (!entry.ok()) {
        counted = entry.status();
        break;
      }
      ++count;
      bytes += static_cast<int64_t>(ItemSize(*entry));
    }
    if (counted.ok() && !it->status().ok()) {
      counted = db_->Error(it->status());
    }
  }
  use.db()->ReleaseSnapshot(snapshot);
  EDDY_RETURN_IF_ERROR(counted);
  index->item_count.fetch_add(count - count_at_snapshot);
  index->size_bytes.fetch_add(bytes - bytes_at_snapshot);
  {
    std::lock_guard<std::mutex> lock(info_mu_);
    for (IndexInfo& i : info_.indexes) {
      if (i.id != index_id) continue;
      i.status = IndexStatus::kActive;
      i.backfilling = false;
    }
  }
  logger_->info("index {} of table {} is active: {} items read, {} indexed",
                name, info_.schema.name, read, indexed);
  return Status::OK();
}

}  // namespace eddy::store
