// The memory LevelDB holds for each open table, charged to the block cache.
//
// LevelDB reads a table's index block and Bloom filter block into the heap
// when it opens the table and keeps them there for as long as the table
// stays in its table cache (up to max_open_files tables), outside the
// block cache: ~4.5 bytes per item, so the store's resident memory grew
// with the table (53 MB at 12 million items of 200 bytes, bench/README.md).
// The store charges them to the block cache instead, as RocksDB charges a
// table reader's memory to its block cache: while a table file is open,
// pinned placeholder entries of the size of its two blocks sit in the
// block cache, which evicts cached data blocks to make room. The block
// cache's capacity then bounds table blocks and table metadata together,
// whatever the table's size, until the open tables' metadata alone exceeds
// it (beyond ~15 million items of 200 bytes with the default 64 MiB); from
// there on no data block stays cached and the metadata grows on, up to
// max_open_files tables' worth (TableMemoryAccount::bytes says how much,
// so that the store can warn).
//
// Thread-safety: OpenTableHeapBytes is reentrant; a CacheReservation is
// owned by one object and may be destroyed on any thread.
#ifndef EDDY_STORE_SRC_TABLE_MEMORY_H_
#define EDDY_STORE_SRC_TABLE_MEMORY_H_

#include <leveldb/cache.h>
#include <leveldb/env.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace eddy::store {

// LevelDB's table format (table/format.h): every block is followed by a
// type byte and the masked CRC-32C of the block and that byte; the footer,
// the last 48 bytes of the file (two block handles, padding, the magic
// number), has no trailer.
inline constexpr size_t kBlockTrailerSize = 5;
inline constexpr size_t kTableFooterSize = 48;

// The heap LevelDB's Table::Open keeps for the table file `file` of `size`
// bytes: its index block as LevelDB decompresses it and its filter block.
// Reads the footer, the metaindex and the index block's first bytes into
// *bytes; leaves it empty if the file is not a well-formed table (LevelDB's
// open then says what is wrong with it). A read that fails is returned:
// LevelDB's open reads the same bytes, so the caller fails the open, and
// LevelDB's table cache keeps no failed open — the next read opens the
// table again, and charges it.
leveldb::Status OpenTableHeapBytes(const leveldb::RandomAccessFile& file,
                                   uint64_t size,
                                   std::optional<uint64_t>* bytes);

// What open tables are charged to.
struct TableMemoryAccount {
  leveldb::Cache* cache = nullptr;  // The block cache; not owned.
  std::atomic<uint64_t> bytes{0};   // Charged now, in all.
};

// Charges `bytes` to `account` (its cache's capacity and its total) until
// destroyed: pinned placeholder entries of at most kUnit bytes each, so
// that the charge spreads over the cache's shards as its data blocks do.
class CacheReservation {
 public:
  static constexpr uint64_t kUnit = 16 * 1024;

  CacheReservation(TableMemoryAccount* account, uint64_t bytes);
  ~CacheReservation();
  CacheReservation(const CacheReservation&) = delete;
  CacheReservation& operator=(const CacheReservation&) = delete;

 private:
  TableMemoryAccount* const account_;
  const uint64_t bytes_;
  const uint64_t id_;  // The cache's NewId(): keys no table block uses.
  std::vector<leveldb::Cache::Handle*> handles_;
};

}  // namespace eddy::store

#endif  // EDDY_STORE_SRC_TABLE_MEMORY_H_
