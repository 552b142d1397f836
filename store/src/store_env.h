// The LevelDB Env of the store: the real one (or a test's fault-injecting
// one) with two guards that LevelDB itself lacks.
//
// 1. A file that failed a write stays failed. LevelDB does not stop writing
//    its write-ahead log after a failed append (only after a failed sync):
//    the next batch would go into the log after the torn one, and on reopen
//    the log reader would see the torn record in the middle of the log —
//    Corruption with paranoid_checks, or silently dropping the batches after
//    it in that 32 KB block without. So after the first failed Append, Flush
//    or Sync of a writable file, every later call on that file fails with
//    the same error, and the store reopens LevelDB (database.cc) to get a
//    fresh log. For table and manifest files LevelDB stops by itself; the
//    guard changes nothing there.
// 2. Checksum errors are named. LevelDB reports a damaged table block as
//    "Corruption: block checksum mismatch" without saying where. Every read
//    of a table or log file records, per thread, which file, offset and
//    length it read, so that the store can add "in <file> at offset <n>" to
//    the error (DescribeLastRead): the block whose checksum failed is the
//    last one the failing thread read.
// 3. With `pread_tables`, table files are read with pread(2) instead of
//    through the base Env (LevelDB's default maps them into memory, and
//    their page cache then counts in the resident memory, which grows with
//    the table; see PreadRandomAccessFile). Only for the real file system:
//    a test's fault-injecting Env must see every read.
// 4. With `defer_removals`, a file LevelDB removes is renamed into the
//    kTrashDirName directory beside it, and a thread of the Env unlinks it
//    there. Unlinking a file whose pages are cached costs time in
//    proportion to its size (the kernel drops each page), and LevelDB
//    removes the outputs of a compaction that a crash interrupted inside
//    DB::Open, before the store can serve: at 10 million items that was
//    most of a restart, for files nobody needs. (RocksDB's DeleteScheduler
//    renames into trash the same way.) Whatever a crash leaves in the
//    trash is unlinked once the directory's next removal comes. Should the
//    rename fail, the file is unlinked at once, as before.
// 5. Table blocks read from files are checked here, by their CRC-32C with
//    the CPU's crc32 instruction (eddy/streams/crc32c.h), and a mismatch is
//    Corruption naming the file and offset; the store's reads leave
//    LevelDB's own check off (DbHandle::ReadOptions). LevelDB as Debian
//    builds it computes CRC-32C with tables: ~2 µs per 4 KB block, of a
//    ~30 µs GetItem served from table files at 10 M items. LevelDB still
//    checks what it reads for compactions and when it opens a table
//    (paranoid_checks); those pass here too.
// 6. With `charge_tables`, every table file LevelDB opens charges the heap
//    LevelDB keeps for it while it is open (its index and filter blocks) to
//    the block cache, until the file is closed (table_memory.h).
//
// Thread-safety: as any leveldb::Env.
#ifndef EDDY_STORE_SRC_STORE_ENV_H_
#define EDDY_STORE_SRC_STORE_ENV_H_

#include <leveldb/env.h>
#include <leveldb/status.h>

#include <cstdint>
#include <memory>
#include <string>

#include "eddy/status.h"

namespace eddy::store {

struct TableMemoryAccount;

struct StoreEnvOptions {
  bool pread_tables = false;    // 3. above
  bool defer_removals = false;  // 4. above
  // 6. above; not owned, outlives the Env's files. nullptr: no charge.
  TableMemoryAccount* charge_tables = nullptr;
};

// Where removed files wait to be unlinked: a directory of this name in the
// directory they were removed from (LevelDB ignores names it did not make;
// copies of the data directory skip it).
inline constexpr char kTrashDirName[] = "trash";

// Wraps `base` (not owned; must outlive the result). Destroying the result
// finishes the deferred unlinks first.
std::unique_ptr<leveldb::Env> NewStoreEnv(leveldb::Env* base,
                                          StoreEnvOptions options = {});

// "<file> at offset <n> (<len> bytes)" for the last read of this thread
// through a StoreEnv, or "" if there was none since ClearLastRead().
std::string DescribeLastRead();
void ClearLastRead();

// A LevelDB status as an eddy Status: Corruption stays Corruption and names
// the place of this thread's last read (see above); everything else is
// IOError. REQUIRES: !s.ok().
Status FromLevelDb(const leveldb::Status& s);

}  // namespace eddy::store

#endif  // EDDY_STORE_SRC_STORE_ENV_H_
