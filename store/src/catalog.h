// Conversions between the catalog's persisted form (catalog.proto) and the
// store's TableInfo, and the catalog key layout (see database.h).
#ifndef EDDY_STORE_SRC_CATALOG_H_
#define EDDY_STORE_SRC_CATALOG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "eddy/catalog.pb.h"
#include "eddy/result.h"
#include "eddy/store/attribute_value.h"
#include "eddy/store/table_schema.h"

namespace eddy::store {

inline constexpr char kCatalogPrefix = 'c';
inline constexpr char kDroppedPrefix = 'd';
inline constexpr char kMetaPrefix = 'm';
inline constexpr char kItemPrefix = 'i';
// "a" <table id> <stream label> NUL <shard u32> -> applied marker (u64).
inline constexpr char kAppliedPrefix = 'a';
// "g" <table id u64> <index id u32> <hash u32> <enc(index pk)> [<enc(index
// sk)>] <enc(pk)> [<enc(sk)>] -> EncodeItem(projected item): secondary index
// entries, hash = KeyHash(enc(index pk)). Only scanned: not in the Bloom
// filters (key_filter.h).
inline constexpr char kIndexPrefix = 'g';
// "x" <transaction id u64> -> TransactionIntent (transaction_intent.proto).
inline constexpr char kIntentPrefix = 'x';
// "s" <table id u64> <stream label> -> RetainedStream: a deleted table's
// stream, readable until its retention period passes.
inline constexpr char kRetainedPrefix = 's';
// "h" <table id u64> <commit ms u64> <sequence u64> -> history entry:
// point-in-time recovery's undo log (backup.h): the item's LevelDB key and
// the item before the write. Only scanned: not in the Bloom filters
// (key_filter.h).
inline constexpr char kHistoryPrefix = 'h';

std::string CatalogKey(std::string_view table_name);
std::string DroppedKey(uint64_t table_id);
std::string MetaKey(std::string_view name);
// "i" <table id>: the prefix of every item key of the table.
std::string TableItemPrefix(uint64_t table_id);
// "g" <table id>: every index entry of the table; and of one index.
std::string IndexEntryPrefix(uint64_t table_id);
std::string IndexEntryPrefix(uint64_t table_id, uint32_t index_id);
std::string RetainedStreamKey(uint64_t table_id, std::string_view label);
std::string HistoryPrefix(uint64_t table_id);
std::string HistoryKey(uint64_t table_id, int64_t commit_ms, uint64_t sequence);
// The commit time of a history key. REQUIRES: a HistoryKey.
int64_t HistoryKeyTime(std::string_view key);
// A history entry's value: u32 LE length of the db key, the db key, then
// the item before the write (its stored EncodeItem bytes, as the write
// read them: never encoded again), empty when there was none.
std::string EncodeHistoryEntry(std::string_view db_key,
                               std::string_view before_encoded);
// Splits an entry; *before is empty when there was no item.
Status DecodeHistoryEntry(std::string_view value, std::string_view* db_key,
                          std::string_view* before);

void AppendBigEndian64(uint64_t v, std::string* out);
void AppendBigEndian32(uint32_t v, std::string* out);
uint64_t ReadBigEndian64(std::string_view in);

proto::TableRecord ToRecord(const TableInfo& info, uint64_t id);
TableInfo FromRecord(const proto::TableRecord& record);
void ToStreamMeta(const StreamDescription& d, proto::StreamMeta* m);
StreamDescription FromStreamMeta(const proto::StreamMeta& m,
                                 const std::string& table_name);

// A random RFC 4122 version-4 UUID, as DynamoDB's TableId.
std::string NewUuid();

int64_t NowMillis();

}  // namespace eddy::store

#endif  // EDDY_STORE_SRC_CATALOG_H_
