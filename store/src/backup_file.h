// The files of an on-demand backup (and of a point-in-time restore's
// staging): <data>/backups/<id>/
//   BACKUP  the manifest (proto/eddy/backup.proto), replaced atomically
//           (written to BACKUP.tmp, synced, renamed, directory synced);
//   items   the items at the cut, as stored (EncodeItem bytes):
//             "EDDYBK01"  then per item:
//             crc u32 LE (zlib crc32 of the length's 4 bytes and the item)
//             length u32 LE, the item's bytes.
//           Complete once the manifest says AVAILABLE, with its length
//           (file_bytes) and item count: a reader checks both, and every
//           record's checksum, so a truncated or damaged file is Corruption,
//           never a silently smaller table.
//
// Thread-safety: a writer or reader is used by one thread at a time.
#ifndef EDDY_STORE_SRC_BACKUP_FILE_H_
#define EDDY_STORE_SRC_BACKUP_FILE_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "eddy/backup.pb.h"
#include "eddy/result.h"

namespace eddy::store {

inline constexpr char kBackupItemsMagic[] = "EDDYBK01";

class BackupWriter {
 public:
  BackupWriter() = default;
  ~BackupWriter();
  BackupWriter(const BackupWriter&) = delete;
  BackupWriter& operator=(const BackupWriter&) = delete;

  // Creates (truncates) the items file at `path`.
  Status Open(const std::string& path);
  Status Append(std::string_view encoded_item);
  // Flushes and fsyncs the file and closes it. Returns its length.
  Result<int64_t> Finish();
  int64_t bytes() const { return bytes_; }

 private:
  std::FILE* file_ = nullptr;
  std::string path_;
  int64_t bytes_ = 0;
};

class BackupReader {
 public:
  BackupReader() = default;
  ~BackupReader();
  BackupReader(const BackupReader&) = delete;
  BackupReader& operator=(const BackupReader&) = delete;

  // Opens the items file of a complete backup of `expected_items` items in
  // `expected_bytes` bytes (Corruption when its length differs).
  Status Open(const std::string& path, int64_t expected_bytes,
              int64_t expected_items);
  // The next item into *item; false at the end (after checking that every
  // item was read). Corruption on a bad checksum or length.
  Result<bool> Next(std::string* item);
  int64_t items_read() const { return items_; }

 private:
  std::FILE* file_ = nullptr;
  std::string path_;
  int64_t expected_bytes_ = 0;
  int64_t expected_items_ = 0;
  int64_t offset_ = 0;
  int64_t items_ = 0;
};

// The manifest of the backup in `dir`.
Status WriteManifest(const std::string& dir, const proto::BackupRecord& record);
Result<proto::BackupRecord> ReadManifest(const std::string& dir);

// Makes a file's creation or rename durable.
Status SyncDirectory(const std::string& dir);

}  // namespace eddy::store

#endif  // EDDY_STORE_SRC_BACKUP_FILE_H_
