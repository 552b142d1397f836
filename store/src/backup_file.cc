#include "backup_file.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace eddy::store {
namespace {

constexpr size_t kMagicBytes = 8;
constexpr size_t kBufferBytes = 1 << 20;
// No item is larger than DynamoDB's 400 KB; a length far beyond that is
// damage, not an item.
constexpr uint32_t kMaxRecordBytes = 16 << 20;

void PutU32(uint32_t v, char* out) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
uint32_t GetU32(const char* in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    v |= static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  }
  return v;
}
uint32_t Checksum(const char* length, std::string_view item) {
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(length), 4);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(item.data()),
              static_cast<uInt>(item.size()));
  return static_cast<uint32_t>(crc);
}
Status Errno(const std::string& what, const std::string& path) {
  return Status::IOError(what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

BackupWriter::~BackupWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

Status BackupWriter::Open(const std::string& path) {
  path_ = path;
  file_ = std::fopen(path.c_str(), "wb");
  if (file_ == nullptr) return Errno("cannot create", path);
  std::setvbuf(file_, nullptr, _IOFBF, kBufferBytes);
  if (std::fwrite(kBackupItemsMagic, 1, kMagicBytes, file_) != kMagicBytes) {
    return Errno("cannot write", path);
  }
  bytes_ = kMagicBytes;
  return Status::OK();
}

Status BackupWriter::Append(std::string_view item) {
  char header[8];
  PutU32(static_cast<uint32_t>(item.size()), header + 4);
  PutU32(Checksum(header + 4, item), header);
  if (std::fwrite(header, 1, sizeof(header), file_) != sizeof(header) ||
      std::fwrite(item.data(), 1, item.size(), file_) != item.size()) {
    return Errno("cannot write", path_);
  }
  bytes_ += static_cast<int64_t>(sizeof(header) + item.size());
  return Status::OK();
}

Result<int64_t> BackupWriter::Finish() {
  std::FILE* f = file_;
  file_ = nullptr;
  if (std::fflush(f) != 0 || ::fsync(fileno(f)) != 0) {
    Status s = Errno("cannot write", path_);
    std::fclose(f);
    return s;
  }
  if (std::fclose(f) != 0) return Errno("cannot close", path_);
  return bytes_;
}

BackupReader::~BackupReader() {
  if (file_ != nullptr) std::fclose(file_);
}

Status BackupReader::Open(const std::string& path, int64_t expected_bytes,
                          int64_t expected_items) {
  path_ = path;
  expected_bytes_ = expected_bytes;
  expected_items_ = expected_items;
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return Status::IOError("cannot read " + path + ": " + ec.message());
  if (static_cast<int64_t>(size) != expected_bytes) {
    return Status::Corruption("backup file " + path + " has " +
                              std::to_string(size) + " bytes, not " +
                              std::to_string(expected_bytes));
  }
  file_ = std::fopen(path.c_str(), "rb");
  if (file_ == nullptr) return Errno("cannot open", path);
  std::setvbuf(file_, nullptr, _IOFBF, kBufferBytes);
  char magic[kMagicBytes];
  if (std::fread(magic, 1, kMagicBytes, file_) != kMagicBytes ||
      std::memcmp(magic, kBackupItemsMagic, kMagicBytes) != 0) {
    return Status::Corruption("not a backup items file: " + path);
  }
  offset_ = kMagicBytes;
  return Status::OK();
}

Result<bool> BackupReader::Next(std::string* item) {
  if (offset_ == expected_bytes_) {
    if (items_ != expected_items_) {
      return Status::Corruption("backup file " + path_ + " holds " +
                                std::to_string(items_) + " items, not " +
                                std::to_string(expected_items_));
    }
    return false;
  }
  auto damaged = [&](const std::string& what) {
    return Status::Corruption("backup file " + path_ + ": " + what +
                              " at offset " + std::to_string(offset_));
  };
  char header[8];
  if (std::fread(header, 1, sizeof(header), file_) != sizeof(header)) {
    return damaged("truncated record header");
  }
  const uint32_t length = GetU32(header + 4);
  if (length > kMaxRecordBytes ||
      offset_ + 8 + static_cast<int64_t>(length) > expected_bytes_) {
    return damaged("bad record length");
  }
  item->resize(length);
  if (std::fread(item->data(), 1, length, file_) != length) {
    return damaged("truncated record");
  }
  if (Checksum(header + 4, *item) != GetU32(header)) {
    return damaged("checksum mismatch");
  }
  offset_ += 8 + length;
  ++items_;
  return true;
}

Status SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return Errno("cannot open", dir);
  const int r = ::fsync(fd);
  ::close(fd);
  if (r != 0) return Errno("cannot sync", dir);
  return Status::OK();
}

Status WriteManifest(const std::string& dir,
                     const proto::BackupRecord& record) {
  const std::string tmp = dir + "/BACKUP.tmp";
  const std::string data = record.SerializeAsString();
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return Errno("cannot create", tmp);
  const bool written = std::fwrite(data.data(), 1, data.size(), f) ==
                           data.size() &&
                       std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
  if (!written) {
    Status s = Errno("cannot write", tmp);
    std::fclose(f);
    return s;
  }
  if (std::fclose(f) != 0) return Errno("cannot close", tmp);
  if (std::rename(tmp.c_str(), (dir + "/BACKUP").c_str()) != 0) {
    return Errno("cannot rename", tmp);
  }
  return SyncDirectory(dir);
}

Result<proto::BackupRecord> ReadManifest(const std::string& dir) {
  std::ifstream in(dir + "/BACKUP", std::ios::binary);
  if (!in) return Status::NotFound("no manifest in " + dir);
  std::stringstream buffer;
  buffer << in.rdbuf();
  proto::BackupRecord record;
  if (!record.ParseFromString(buffer.str())) {
    return Status::Corruption("bad backup manifest in " + dir);
  }
  return record;
}

}  // namespace eddy::store
