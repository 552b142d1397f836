#include "catalog.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include "eddy/store/item_codec.h"

namespace eddy::store {

std::string CatalogKey(std::string_view table_name) {
  std::string key(1, kCatalogPrefix);
  key.append(table_name);
  return key;
}

std::string DroppedKey(uint64_t table_id) {
  std::string key(1, kDroppedPrefix);
  AppendBigEndian64(table_id, &key);
  return key;
}

std::string MetaKey(std::string_view name) {
  std::string key(1, kMetaPrefix);
  key.append(name);
  return key;
}

std::string TableItemPrefix(uint64_t table_id) {
  std::string key(1, kItemPrefix);
  AppendBigEndian64(table_id, &key);
  return key;
}

void AppendBigEndian64(uint64_t v, std::string* out) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

void AppendBigEndian32(uint32_t v, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

uint64_t ReadBigEndian64(std::string_view in) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < in.size(); ++i) {
    v = (v << 8) | static_cast<unsigned char>(in[i]);
  }
  return v;
}

std::string RetainedStreamKey(uint64_t table_id, std::string_view label) {
  std::string key(1, kRetainedPrefix);
  AppendBigEndian64(table_id, &key);
  key.append(label);
  return key;
}

void ToStreamMeta(const StreamDescription& d, proto::StreamMeta* m) {
  m->set_label(d.label);
  m->set_view_type(static_cast<uint32_t>(d.view_type));
  m->set_created_ms(d.created_ms);
  m->set_disabled_ms(d.disabled_ms);
  m->set_shard_count(d.shard_count);
  m->set_shard_naming(static_cast<uint32_t>(d.shard_naming));
  m->set_hash_key(d.hash_key);
  m->set_range_key(d.range_key);
  for (size_t g = 1; g < d.generations.size(); ++g) {
    m->add_later_generation_ms(d.generations[g]);
  }
  m->set_first_generation(d.first_generation);
}

StreamDescription FromStreamMeta(const proto::StreamMeta& m,
                                 const std::string& table_name) {
  StreamDescription d;
  d.table_name = table_name;
  d.label = m.label();
  d.view_type = static_cast<StreamViewType>(m.view_type());
  d.created_ms = m.created_ms();
  d.disabled_ms = m.disabled_ms();
  d.shard_count = m.shard_count();
  d.shard_naming =
      m.shard_naming() == 0 ? ShardNaming::kHashed : ShardNaming::kOrdered;
  d.hash_key = m.hash_key();
  d.range_key = m.range_key();
  d.generations.push_back(d.created_ms);
  for (int64_t ms : m.later_generation_ms()) d.generations.push_back(ms);
  d.first_generation = m.first_generation();
  return d;
}

proto::TableRecord ToRecord(const TableInfo& info, uint64_t id) {
  proto::TableRecord r;
  const TableSchema& s = info.schema;
  r.set_name(s.name);
  r.set_id(id);
  r.set_table_uuid(info.table_id);
  r.mutable_hash_key()->set_name(s.hash_key.name);
  r.mutable_hash_key()->set_type(static_cast<uint32_t>(s.hash_key.type));
  if (s.range_key) {
    r.mutable_range_key()->set_name(s.range_key->name);
    r.mutable_range_key()->set_type(static_cast<uint32_t>(s.range_key->type));
  }
  for (const AttributeDefinition& d : s.attribute_definitions) {
    proto::AttributeDefinition* pd = r.add_attribute_definitions();
    pd->set_name(d.name);
    pd->set_type(static_cast<uint32_t>(d.type));
  }
  r.set_billing_mode(static_cast<uint32_t>(s.billing_mode));
  r.set_read_capacity_units(s.read_capacity_units);
  r.set_write_capacity_units(s.write_capacity_units);
  r.set_deletion_protection(s.deletion_protection);
  r.set_table_class(s.table_class);
  r.set_creation_time_ms(info.creation_time_ms);
  r.set_billing_mode_update_time_ms(info.billing_mode_update_time_ms);
  r.set_last_increase_time_ms(info.last_increase_time_ms);
  r.set_last_decrease_time_ms(info.last_decrease_time_ms);
  r.set_decreases_today(info.decreases_today);
  r.set_item_count(info.item_count);
  r.set_size_bytes(info.size_bytes);
  for (const StreamDescription& d : info.streams) {
    ToStreamMeta(d, r.add_streams());
  }
  if (info.ttl_attribute) r.set_ttl_attribute(*info.ttl_attribute);
  r.mutable_tags()->insert(info.tags.begin(), info.tags.end());
  for (const IndexInfo& index : info.indexes) {
    const IndexSchema& is = index.schema;
    proto::IndexMeta* m = r.add_indexes();
    m->set_name(is.name);
    m->set_global(index.global);
    m->mutable_hash_key()->set_name(is.hash_key.name);
    m->mutable_hash_key()->set_type(static_cast<uint32_t>(is.hash_key.type));
    if (is.range_key) {
      m->mutable_range_key()->set_name(is.range_key->name);
      m->mutable_range_key()->set_type(
          static_cast<uint32_t>(is.range_key->type));
    }
    m->set_projection(static_cast<uint32_t>(is.projection));
    for (const std::string& a : is.non_key_attributes) {
      m->add_non_key_attributes(a);
    }
    m->set_read_capacity_units(is.read_capacity_units);
    m->set_write_capacity_units(is.write_capacity_units);
    m->set_status(static_cast<uint32_t>(index.status));
    m->set_backfilling(index.backfilling);
    m->set_id(index.id);
    m->set_item_count(index.item_count);
    m->set_size_bytes(index.size_bytes);
  }
  r.set_next_index_id(info.next_index_id);
  r.set_status(info.status == TableStatus::kCreating ? 1 : 0);
  if (info.restore) {
    proto::RestoreMeta* m = r.mutable_restore();
    m->set_backup_id(info.restore->backup_id);
    m->set_source_table_name(info.restore->source_table_name);
    m->set_source_table_id(info.restore->source_table_id);
    m->set_restore_time_ms(info.restore->restore_time_ms);
    m->set_in_progress(info.restore->in_progress);
    m->set_import_id(info.restore->import_id);
  }
  r.set_pitr_enabled_ms(info.pitr_enabled_ms);
  return r;
}

TableInfo FromRecord(const proto::TableRecord& r) {
  TableInfo info;
  TableSchema& s = info.schema;
  s.name = r.name();
  s.hash_key.name = r.hash_key().name();
  s.hash_key.type = static_cast<ValueType>(r.hash_key().type());
  if (!r.range_key().name().empty()) {
    s.range_key = KeyElement{r.range_key().name(),
                             static_cast<ValueType>(r.range_key().type())};
  }
  for (const proto::AttributeDefinition& d : r.attribute_definitions()) {
    s.attribute_definitions.push_back(
        AttributeDefinition{d.name(), static_cast<ValueType>(d.type())});
  }
  s.billing_mode = static_cast<BillingMode>(r.billing_mode());
  s.read_capacity_units = r.read_capacity_units();
  s.write_capacity_units = r.write_capacity_units();
  s.deletion_protection = r.deletion_protection();
  s.table_class = r.table_class().empty() ? "STANDARD" : r.table_class();
  info.table_id = r.table_uuid();
  info.status = TableStatus::kActive;
  info.creation_time_ms = r.creation_time_ms();
  info.billing_mode_update_time_ms = r.billing_mode_update_time_ms();
  info.last_increase_time_ms = r.last_increase_time_ms();
  info.last_decrease_time_ms = r.last_decrease_time_ms();
  info.decreases_today = r.decreases_today();
  info.item_count = r.item_count();
  info.size_bytes = r.size_bytes();
  for (const proto::StreamMeta& m : r.streams()) {
    StreamDescription d = FromStreamMeta(m, s.name);
    if (d.hash_key.empty()) {  // A record from before the names were kept.
      d.hash_key = s.hash_key.name;
      d.range_key = s.range_key ? s.range_key->name : "";
    }
    info.streams.push_back(std::move(d));
  }
  if (!r.ttl_attribute().empty()) info.ttl_attribute = r.ttl_attribute();
  info.tags.insert(r.tags().begin(), r.tags().end());
  for (const proto::IndexMeta& m : r.indexes()) {
    IndexInfo index;
    IndexSchema& is = index.schema;
    is.name = m.name();
    is.hash_key = {m.hash_key().name(),
                   static_cast<ValueType>(m.hash_key().type())};
    if (!m.range_key().name().empty()) {
      is.range_key = KeyElement{m.range_key().name(),
                                static_cast<ValueType>(m.range_key().type())};
    }
    is.projection = static_cast<ProjectionType>(m.projection());
    is.non_key_attributes.assign(m.non_key_attributes().begin(),
                                 m.non_key_attributes().end());
    is.read_capacity_units = m.read_capacity_units();
    is.write_capacity_units = m.write_capacity_units();
    index.global = m.global();
    index.status = static_cast<IndexStatus>(m.status());
    index.backfilling = m.backfilling();
    index.id = m.id();
    index.item_count = m.item_count();
    index.size_bytes = m.size_bytes();
    info.indexes.push_back(std::move(index));
  }
  info.next_index_id = std::max<uint32_t>(1, r.next_index_id());
  if (r.status() == 1) {
    info.status = TableStatus::kCreating;
  }
  if (r.has_restore()) {
    const proto::RestoreMeta& m = r.restore();
    TableInfo::Restore restore;
    restore.backup_id = m.backup_id();
    restore.source_table_name = m.source_table_name();
    restore.source_table_id = m.source_table_id();
    restore.restore_time_ms = m.restore_time_ms();
    restore.in_progress = m.in_progress();
    restore.import_id = m.import_id();
    info.restore = std::move(restore);
  }
  info.pitr_enabled_ms = r.pitr_enabled_ms();
  return info;
}

std::string IndexEntryPrefix(uint64_t table_id) {
  std::string key(1, kIndexPrefix);
  AppendBigEndian64(table_id, &key);
  return key;
}

std::string IndexEntryPrefix(uint64_t table_id, uint32_t index_id) {
  std::string key = IndexEntryPrefix(table_id);
  AppendBigEndian32(index_id, &key);
  return key;
}

std::string HistoryPrefix(uint64_t table_id) {
  std::string key(1, kHistoryPrefix);
  AppendBigEndian64(table_id, &key);
  return key;
}

std::string HistoryKey(uint64_t table_id, int64_t commit_ms,
                       uint64_t sequence) {
  std::string key = HistoryPrefix(table_id);
  AppendBigEndian64(static_cast<uint64_t>(commit_ms), &key);
  AppendBigEndian64(sequence, &key);
  return key;
}

int64_t HistoryKeyTime(std::string_view key) {
  return static_cast<int64_t>(ReadBigEndian64(key.substr(9, 8)));
}

std::string EncodeHistoryEntry(std::string_view db_key,
                               std::string_view before_encoded) {
  std::string value;
  value.reserve(4 + db_key.size() + before_encoded.size());
  const auto n = static_cast<uint32_t>(db_key.size());
  for (int i = 0; i < 4; ++i) value.push_back(static_cast<char>(n >> (8 * i)));
  value.append(db_key);
  value.append(before_encoded);
  return value;
}

Status DecodeHistoryEntry(std::string_view value, std::string_view* db_key,
                          std::string_view* before) {
  if (value.size() < 4) return Status::Corruption("short history entry");
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i) {
    n |= static_cast<uint32_t>(static_cast<unsigned char>(value[i])) << (8 * i);
  }
  if (value.size() - 4 < n) return Status::Corruption("bad history entry");
  *db_key = value.substr(4, n);
  *before = value.substr(4 + n);
  return Status::OK();
}

std::string NewUuid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t hi = rng();
  uint64_t lo = rng();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // Version 4.
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // Variant 1.
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx",
                static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff),
                static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace eddy::store
