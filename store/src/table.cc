#include <leveldb/iterator.h>
#include <leveldb/write_batch.h>

#include <functional>
#include <utility>

#include "catalog.h"
#include "eddy/store/item_codec.h"
#include "eddy/store/key_codec.h"
#include "table_impl.h"

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

TableImpl::TableImpl(leveldb::DB* db, bool sync, uint64_t id, TableInfo info,
                     std::shared_ptr<spdlog::logger> logger)
    : db_(db),
      sync_(sync),
      id_(id),
      prefix_(TableItemPrefix(id)),
      logger_(std::move(logger)),
      info_(std::move(info)) {
  item_count_ = info_.item_count;
  size_bytes_ = info_.size_bytes;
}

TableInfo TableImpl::Describe() const {
  std::lock_guard<std::mutex> lock(info_mu_);
  TableInfo info = info_;
  info.item_count = item_count_.load(std::memory_order_relaxed);
  info.size_bytes = size_bytes_.load(std::memory_order_relaxed);
  return info;
}

TableInfo TableImpl::ChangeInfo(const std::function<void(TableInfo*)>& change) {
  std::lock_guard<std::mutex> lock(info_mu_);
  change(&info_);
  TableInfo info = info_;
  info.item_count = item_count_.load(std::memory_order_relaxed);
  info.size_bytes = size_bytes_.load(std::memory_order_relaxed);
  return info;
}

void TableImpl::MarkDropped() {
  std::unique_lock<std::shared_mutex> lock(state_mu_);
  dropped_ = true;
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

void TableImpl::SetStats(int64_t item_count, int64_t size_bytes) {
  item_count_ = item_count;
  size_bytes_ = size_bytes;
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

Result<std::optional<Item>> TableImpl::ReadItem(const std::string& db_key) {
  std::string value;
  leveldb::Status s = db_->Get(leveldb::ReadOptions(), db_key, &value);
  if (s.IsNotFound()) return std::optional<Item>();
  if (!s.ok()) return Status::IOError(s.ToString());
  Result<Item> item = DecodeItem(value);
  if (!item.ok()) return item.status();
  return std::optional<Item>(std::move(*item));
}

Status TableImpl::Mutate(const Item& key, const Condition* condition,
                         const Mutation& mutation, WriteOutcome* out) {
  std::shared_lock<std::shared_mutex> drop_lock(state_mu_);
  if (dropped_) return TableGone();
  const std::string db_key = EncodeKey(key);
  std::lock_guard<std::mutex> item_lock(
      stripes_[std::hash<std::string>{}(db_key) % kStripes]);

  Result<std::optional<Item>> current = ReadItem(db_key);
  if (!current.ok()) return current.status();
  out->old_item = *current;
  if (condition != nullptr &&
      !condition->Evaluate(current->has_value() ? **current : Item())) {
    return ConditionFailed();
  }
  std::optional<Item> next;
  EDDY_RETURN_IF_ERROR(mutation(*current, &next));

  // A write that changes nothing is not written (and, later, emits no
  // stream record).
  if (next == *current) {
    out->new_item = std::move(next);
    return Status::OK();
  }
  leveldb::WriteBatch batch;
  std::string encoded;
  if (next) {
    EncodeItem(*next, &encoded);
    batch.Put(db_key, encoded);
  } else {
    batch.Delete(db_key);
  }
  leveldb::WriteOptions write_options;
  write_options.sync = sync_;

  // With a stream, the change record is appended first and is the redo
  // entry for this batch (see change_stream_impl.h); it is also what makes
  // the write durable under --sync, so LevelDB's own log need not be synced.
  std::optional<ChangeStreamImpl::Ticket> ticket;
  if (stream_ != nullptr) {
    std::string pk;
    AppendKeyValue(key.find(info_.schema.hash_key.name)->second, &pk);
    const uint32_t shard = stream_->ShardFor(KeyHash(pk));
    const std::string payload = stream_->EncodeChange(
        db_key, ExtractKey(next ? *next : **current), *current, next,
        /*service_delete=*/false);
    Result<ChangeStreamImpl::Ticket> appended =
        stream_->Append(shard, payload, NowMillis());
    if (!appended.ok()) {
      logger_->error("stream append for table {} failed: {}", info_.schema.name,
                     appended.status().ToString());
      return Status::IOError(appended.status().message());
    }
    ticket = *appended;
    if (sync_) {
      Status synced = stream_->Sync(*ticket);
      if (!synced.ok()) {
        stream_->Applied(*ticket);
        return Status::IOError(synced.message());
      }
      write_options.sync = false;
    }
    std::string marker;
    AppendBigEndian64(ticket->marker, &marker);
    batch.Put(stream_->MarkerKey(shard), marker);
  }
  leveldb::Status s = db_->Write(write_options, &batch);
  if (ticket) stream_->Applied(*ticket);
  if (!s.ok()) {
    logger_->error("write to table {} failed: {}", info_.schema.name,
                   s.ToString());
    return Status::IOError(s.ToString());
  }
  const int64_t old_size =
      current->has_value() ? static_cast<int64_t>(ItemSize(**current)) : 0;
  const int64_t new_size = next ? static_cast<int64_t>(ItemSize(*next)) : 0;
  item_count_.fetch_add((next ? 1 : 0) - (current->has_value() ? 1 : 0),
                        std::memory_order_relaxed);
  size_bytes_.fetch_add(new_size - old_size, std::memory_order_relaxed);
  out->new_item = std::move(next);
  return Status::OK();
}

Status TableImpl::ValidateItem(const Item& item) const {
  EDDY_RETURN_IF_ERROR(ValidateItemKey(item));
  if (ItemSize(item) > kMaxItemSize) {
    return Status::InvalidArgument(
        "Item size has exceeded the maximum allowed size");
  }
  return Status::OK();
}

Status TableImpl::Put(Item item, const Condition* condition,
                      WriteOutcome* out) {
  EDDY_RETURN_IF_ERROR(ValidateItem(item));
  const Item key = ExtractKey(item);
  return Mutate(
      key, condition,
      [&item](const std::optional<Item>&, std::optional<Item>* next) {
        *next = std::move(item);
        return Status::OK();
      },
      out);
}

Status TableImpl::UpdateItem(const Item& key, const Update* update,
                             const Condition* condition, WriteOutcome* out) {
  EDDY_RETURN_IF_ERROR(ValidateKey(key));
  const TableSchema& s = info_.schema;
  if (update != nullptr) {
    for (const Path& path : update->paths()) {
      const std::string& name = path.front().name;
      if (name == s.hash_key.name ||
          (s.range_key && name == s.range_key->name)) {
        return Status::InvalidArgument(
            "One or more parameter values were invalid: Cannot update "
            "attribute " +
            name + ". This attribute is part of the key");
      }
    }
  }
  return Mutate(
      key, condition,
      [&](const std::optional<Item>& current, std::optional<Item>* next) {
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
      },
      out);
}

Status TableImpl::Delete(const Item& key, const Condition* condition,
                         WriteOutcome* out) {
  EDDY_RETURN_IF_ERROR(ValidateKey(key));
  return Mutate(
      key, condition,
      [](const std::optional<Item>&, std::optional<Item>* next) {
        next->reset();
        return Status::OK();
      },
      out);
}

Result<std::optional<Item>> TableImpl::Get(const Item& key) {
  EDDY_RETURN_IF_ERROR(ValidateKey(key));
  {
    std::shared_lock<std::shared_mutex> drop_lock(state_mu_);
    if (dropped_) return TableGone();
  }
  return ReadItem(EncodeKey(key));
}

Result<ReadPage> TableImpl::ReadRange(std::string lo, std::string hi,
                                      bool forward, const Condition* filter,
                                      std::optional<int64_t> limit) {
  ReadPage page;
  if (!hi.empty() && lo >= hi) return page;
  leveldb::ReadOptions read_options;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(read_options));
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
  size_t& bytes = page.scanned_bytes;
  while (it->Valid() && in_range(it->key())) {
    Result<Item> item =
        DecodeItem(std::string_view(it->value().data(), it->value().size()));
    if (!item.ok()) return item.status();
    ++page.scanned_count;
    bytes += ItemSize(*item);
    const bool limit_reached = limit && page.scanned_count >= *limit;
    const bool page_full = bytes >= kMaxPageBytes;
    // The key is only needed when this item ends the page.
    std::optional<Item> last_key;
    if (limit_reached || page_full) last_key = ExtractKey(*item);
    if (filter == nullptr || filter->Evaluate(*item)) {
      page.items.push_back(std::move(*item));
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
  if (!it->status().ok()) return Status::IOError(it->status().ToString());
  return page;
}

Result<ReadPage> TableImpl::Query(const QueryRequest& request) {
  const TableSchema& s = info_.schema;
  const KeyCondition& kc = request.key_condition;
  auto type_mismatch = [] {
    return Status::InvalidArgument(
        "One or more parameter values were invalid: Condition parameter type "
        "does not match schema type");
  };
  if (kc.partition_value.type() != s.hash_key.type) return type_mismatch();
  EDDY_RETURN_IF_ERROR(CheckKeyValue(s.hash_key, kc.partition_value, true));
  {
    std::shared_lock<std::shared_mutex> drop_lock(state_mu_);
    if (dropped_) return TableGone();
  }

  std::string pk;
  AppendKeyValue(kc.partition_value, &pk);
  std::string partition = prefix_;
  AppendBigEndian32(KeyHash(pk), &partition);
  partition.append(pk);

  std::string lo = partition;
  std::string hi = PrefixSuccessor(partition);
  if (kc.sort) {
    if (!s.range_key) {
      return Status::InvalidArgument("Query key condition not supported");
    }
    const KeyCondition::SortCondition& sc = *kc.sort;
    if (sc.value.type() != s.range_key->type ||
        (sc.op == KeyCondition::Op::kBetween &&
         sc.value2.type() != s.range_key->type)) {
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
    EDDY_RETURN_IF_ERROR(ValidateKey(*request.exclusive_start_key).ok()
                             ? Status::OK()
                             : Status::InvalidArgument(
                                   "The provided starting key is invalid: The "
                                   "provided key element does not match the "
                                   "schema"));
    const std::string start = EncodeKey(*request.exclusive_start_key);
    if (request.scan_forward) {
      lo = std::max(lo, ImmediateSuccessor(start));
    } else if (hi.empty() || start < hi) {
      hi = start;
    }
  }
  return ReadRange(std::move(lo), std::move(hi), request.scan_forward,
                   request.filter, request.limit);
}

Result<ReadPage> TableImpl::Scan(const ScanRequest& request) {
  {
    std::shared_lock<std::shared_mutex> drop_lock(state_mu_);
    if (dropped_) return TableGone();
  }
  const uint64_t total = static_cast<uint64_t>(request.total_segments);
  const uint64_t segment = static_cast<uint64_t>(request.segment);
  const uint64_t seg_lo = (segment << 32) / total;
  const uint64_t seg_hi = ((segment + 1) << 32) / total;
  std::string lo = prefix_;
  AppendBigEndian32(static_cast<uint32_t>(seg_lo), &lo);
  std::string hi;
  if (seg_hi >= (uint64_t{1} << 32)) {
    hi = PrefixSuccessor(prefix_);
  } else {
    hi = prefix_;
    AppendBigEndian32(static_cast<uint32_t>(seg_hi), &hi);
  }
  if (request.exclusive_start_key) {
    if (!ValidateKey(*request.exclusive_start_key).ok()) {
      return Status::InvalidArgument(
          "The provided starting key is invalid: The provided key element "
          "does not match the schema");
    }
    const std::string start = EncodeKey(*request.exclusive_start_key);
    if (start < lo || start >= hi) {
      return Status::InvalidArgument(
          "The provided starting key is invalid: Exclusive start key must lie "
          "within the segment");
    }
    lo = ImmediateSuccessor(start);
  }
  return ReadRange(std::move(lo), std::move(hi), true, request.filter,
                   request.limit);
}

}  // namespace eddy::store
