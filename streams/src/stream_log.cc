#include "eddy/streams/stream_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "posix_file.h"

namespace eddy::streams {
namespace {

constexpr char kStreamFileName[] = "STREAM";
constexpr char kStreamTempFileName[] = "STREAM.tmp";
constexpr uint32_t kMaxShards = 10000;

std::string ShardDir(const std::string& dir, uint32_t index) {
  char name[32];
  std::snprintf(name, sizeof(name), "shard-%04u", index);
  return dir + "/" + name;
}

// The shard count in STREAM; 0 if the file does not exist (a new stream, or
// a crash before every shard existed).
Result<uint32_t> ReadShardCount(FileSystem* fs, const std::string& dir) {
  const std::string path = dir + "/" + kStreamFileName;
  if (::access(path.c_str(), F_OK) != 0) {
    if (errno == ENOENT) return uint32_t{0};
    return ErrnoStatus("access", path, errno);
  }
  EDDY_ASSIGN_OR_RETURN(File file, fs->Open(path, O_RDONLY, 0));
  char buf[64];
  size_t got = 0;
  EDDY_RETURN_IF_ERROR(fs->Read(file, path, buf, sizeof(buf), 0, &got));
  // "shards <decimal>\n"
  const std::string_view text(buf, got);
  const std::string_view key = "shards ";
  uint32_t count = 0;
  if (text.substr(0, key.size()) == key) {
    std::from_chars(text.data() + key.size(), text.data() + text.size(), count);
  }
  if (count == 0 || count > kMaxShards) {
    return Status::Corruption("bad shard count in " + path);
  }
  return count;
}

Status WriteShardCount(FileSystem* fs, const std::string& dir, uint32_t count) {
  const std::string tmp = dir + "/" + kStreamTempFileName;
  const std::string path = dir + "/" + kStreamFileName;
  {
    EDDY_ASSIGN_OR_RETURN(File file,
                          fs->Open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644));
    const std::string text = "shards " + std::to_string(count) + "\n";
    EDDY_RETURN_IF_ERROR(fs->Write(file, tmp, text.data(), text.size(), 0));
    EDDY_RETURN_IF_ERROR(fs->Sync(file, tmp));
  }
  EDDY_RETURN_IF_ERROR(fs->Rename(tmp, path));
  return fs->SyncDir(dir);
}

}  // namespace

Result<std::unique_ptr<StreamLog>> StreamLog::Open(Options options) {
  if (options.dir.empty()) {
    return Status::InvalidArgument("StreamLog::Options::dir is empty");
  }
  if (options.shard_count == 0 || options.shard_count > kMaxShards) {
    return Status::InvalidArgument(
        "StreamLog::Options::shard_count must be 1.." +
        std::to_string(kMaxShards));
  }
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) {
    return Status::IOError("create directory " + options.dir + ": " +
                           ec.message());
  }
  FileSystem* fs = options.shard_options.file_system
                       ? options.shard_options.file_system
                       : FileSystem::Default();
  EDDY_ASSIGN_OR_RETURN(uint32_t count, ReadShardCount(fs, options.dir));
  const bool created = count == 0;
  if (created) count = options.shard_count;

  std::vector<std::unique_ptr<ShardLog>> shards;
  shards.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    ShardLog::Options shard_options = options.shard_options;
    shard_options.dir = ShardDir(options.dir, i);
    EDDY_ASSIGN_OR_RETURN(std::unique_ptr<ShardLog> shard,
                          ShardLog::Open(std::move(shard_options)));
    shards.push_back(std::move(shard));
  }
  if (created) EDDY_RETURN_IF_ERROR(WriteShardCount(fs, options.dir, count));
  return std::unique_ptr<StreamLog>(
      new StreamLog(std::move(options.dir), fs, std::move(shards)));
}

Status StreamLog::DestroyStream(const std::string& dir, FileSystem* fs) {
  if (fs == nullptr) fs = FileSystem::Default();
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return Status::OK();
  std::vector<std::string> shard_dirs;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind("shard-", 0) == 0) shard_dirs.push_back(it->path().string());
  }
  if (ec) return Status::IOError("list " + dir + ": " + ec.message());
  // STREAM goes first: a crash part way leaves a stream that reopens as new.
  for (const char* name : {kStreamFileName, kStreamTempFileName}) {
    EDDY_RETURN_IF_ERROR(fs->Remove(dir + "/" + name));
  }
  for (const std::string& shard_dir : shard_dirs) {
    EDDY_RETURN_IF_ERROR(ShardLog::DestroyLog(shard_dir, fs));
  }
  if (::rmdir(dir.c_str()) != 0 && errno != ENOTEMPTY && errno != EEXIST) {
    return ErrnoStatus("remove directory", dir, errno);
  }
  return Status::OK();
}

StreamLog::StreamLog(std::string dir, FileSystem* fs,
                     std::vector<std::unique_ptr<ShardLog>> shards)
    : dir_(std::move(dir)), fs_(fs), shards_(std::move(shards)) {}

StreamLog::~StreamLog() { Close().IgnoreError(); }

Status StreamLog::Checkpoint() {
  Status first_error;
  for (const auto& shard : shards_) {
    Status s = shard->Checkpoint();
    if (!s.ok() && first_error.ok()) first_error = std::move(s);
  }
  return first_error;
}

Status StreamLog::Seal() {
  for (const auto& shard : shards_) EDDY_RETURN_IF_ERROR(shard->Seal());
  return Status::OK();
}

bool StreamLog::sealed() const {
  for (const auto& shard : shards_) {
    if (!shard->sealed()) return false;
  }
  return true;
}

Status StreamLog::TrimBefore(int64_t timestamp_ms) {
  Status first_error;
  for (const auto& shard : shards_) {
    Status s = shard->TrimBefore(timestamp_ms);
    if (!s.ok() && first_error.ok()) first_error = std::move(s);
  }
  return first_error;
}

Status StreamLog::Close() {
  Status first_error;
  for (const auto& shard : shards_) {
    Status s = shard->Close();
    if (!s.ok() && first_error.ok()) first_error = std::move(s);
  }
  return first_error;
}

Status StreamLog::Destroy() {
  Close().IgnoreError();
  return DestroyStream(dir_, fs_);
}

}  // namespace eddy::streams
