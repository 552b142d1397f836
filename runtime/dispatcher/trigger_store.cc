#include "dispatcher/trigger_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace eddy::runtime::dispatcher {
namespace {

namespace fs = std::filesystem;

constexpr char kDefinition[] = "trigger.json";

Status Errno(const std::string& what) {
  return Status::IOError(what + ": " + std::strerror(errno));
}

Status SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open " + dir);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Errno("cannot fsync " + dir);
  return Status::OK();
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string CheckpointName(uint32_t shard) {
  return "shard-" + std::to_string(shard) + ".checkpoint";
}

bool ParseUint(std::string_view text, uint64_t* out) {
  if (text.empty() || text.size() > 20) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

bool ParseInt(std::string_view text, int64_t* out) {
  const bool negative = !text.empty() && text[0] == '-';
  uint64_t v = 0;
  if (!ParseUint(negative ? text.substr(1) : text, &v)) return false;
  *out = negative ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
  return true;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

bool Unhex(std::string_view hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  out->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = digit(hex[i]), lo = digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

// "<next>\n" and an optional "window <start> <end> <hex>\n".
bool ParseCheckpoint(std::string_view text, uint64_t* next,
                     std::optional<WindowCheckpoint>* window) {
  const size_t eol = text.find('\n');
  if (eol == std::string_view::npos) return false;
  if (!ParseUint(text.substr(0, eol), next)) return false;
  std::string_view rest = text.substr(eol + 1);
  window->reset();
  if (rest.empty()) return true;
  if (rest.back() != '\n' || rest.substr(0, 7) != "window ") return false;
  rest = rest.substr(7, rest.size() - 8);
  WindowCheckpoint w;
  const size_t a = rest.find(' ');
  const size_t b = a == std::string_view::npos ? a : rest.find(' ', a + 1);
  if (b == std::string_view::npos) return false;
  if (!ParseInt(rest.substr(0, a), &w.start_ms) ||
      !ParseInt(rest.substr(a + 1, b - a - 1), &w.end_ms) ||
      !Unhex(rest.substr(b + 1), &w.state)) {
    return false;
  }
  *window = std::move(w);
  return true;
}

}  // namespace

Status WriteFileAtomically(const std::string& path, std::string_view contents,
                           bool sync) {
  const std::string tmp = path + ".tmp";
  // Only the server reads these; a definition may hold the trigger's
  // environment (secrets).
  const int fd =
      ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create " + tmp);
  size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n =
        ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = Errno("cannot write " + tmp);
      ::close(fd);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (sync && ::fdatasync(fd) != 0) {
    Status s = Errno("cannot fsync " + tmp);
    ::close(fd);
    return s;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return Errno("cannot rename " + tmp);
  }
  if (!sync) return Status::OK();
  return SyncDir(fs::path(path).parent_path().string());
}

Status TriggerStore::Init() {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) return Status::IOError("cannot create " + dir_ + ": " + ec.message());
  return Status::OK();
}

Result<std::vector<StoredTrigger>> TriggerStore::LoadAll() {
  std::vector<StoredTrigger> out;
  std::error_code ec;
  std::vector<fs::path> dirs;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    if (entry.is_directory()) dirs.push_back(entry.path());
  }
  if (ec) return Status::IOError("cannot list " + dir_ + ": " + ec.message());
  std::sort(dirs.begin(), dirs.end());
  for (const fs::path& dir : dirs) {
    const std::string definition = (dir / kDefinition).string();
    if (!fs::exists(definition)) {
      logger_->warn("removing incomplete trigger directory {}", dir.string());
      fs::remove_all(dir, ec);
      continue;
    }
    Result<std::string> text = ReadFile(definition);
    if (!text.ok()) return text.status();
    rapidjson::Document doc;
    doc.Parse(text->data(), text->size());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("Config") ||
        !doc.HasMember("StreamLabel") || !doc["StreamLabel"].IsString() ||
        !doc.HasMember("ShardCount") || !doc["ShardCount"].IsUint()) {
      return Status::Corruption("malformed trigger definition " + definition);
    }
    StoredTrigger trigger;
    Status read = ReadTriggerConfig(doc["Config"], false, &trigger.config);
    if (!read.ok()) {
      return Status::Corruption(definition + ": " + read.message());
    }
    trigger.stream_label = doc["StreamLabel"].GetString();
    trigger.shard_count = doc["ShardCount"].GetUint();
    if (doc.HasMember("CreatedMs") && doc["CreatedMs"].IsInt64()) {
      trigger.created_ms = doc["CreatedMs"].GetInt64();
    }
    // Every shard-<i>.checkpoint (shards of later generations too).
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const std::string file = entry.path().filename().string();
      uint64_t index = 0;
      if (file.rfind("shard-", 0) != 0 || !file.ends_with(".checkpoint") ||
          !ParseUint(file.substr(6, file.size() - 6 - 11), &index) ||
          index > UINT32_MAX) {
        continue;
      }
      const uint32_t i = static_cast<uint32_t>(index);
      uint64_t next = 0;
      std::optional<WindowCheckpoint> window;
      EDDY_RETURN_IF_ERROR(
          LoadCheckpoint(trigger.config.name, i, &next, &window));
      trigger.checkpoints[i] = next;
      trigger.windows[i] = std::move(window);
    }
    if (ec) return Status::IOError("cannot list " + dir.string());
    out.push_back(std::move(trigger));
  }
  return out;
}

Status TriggerStore::Save(const StoredTrigger& trigger, bool with_checkpoints) {
  const std::string dir = TriggerDir(trigger.config.name);
  std::error_code ec;
  if (fs::create_directories(dir, ec)) {
    EDDY_RETURN_IF_ERROR(SyncDir(dir_));
  }
  if (ec) return Status::IOError("cannot create " + dir + ": " + ec.message());
  if (with_checkpoints) {
    for (const auto& [i, next] : trigger.checkpoints) {
      EDDY_RETURN_IF_ERROR(SaveCheckpoint(trigger.config.name, i, next));
    }
  }
  rapidjson::StringBuffer buffer;
  TriggerJsonWriter w(buffer);
  w.StartObject();
  w.Key("Config");
  w.StartObject();
  WriteTriggerConfigMembers(trigger.config, &w);
  w.EndObject();
  w.Key("StreamLabel");
  w.String(trigger.stream_label.c_str());
  w.Key("ShardCount");
  w.Uint(trigger.shard_count);
  w.Key("CreatedMs");
  w.Int64(trigger.created_ms);
  w.EndObject();
  std::string text(buffer.GetString(), buffer.GetSize());
  text += '\n';
  return WriteFileAtomically(dir + "/" + kDefinition, text);
}

Status TriggerStore::SaveCheckpoint(
    const std::string& name, uint32_t shard, uint64_t next_sequence,
    const std::optional<WindowCheckpoint>& window) {
  std::string text = std::to_string(next_sequence) + "\n";
  if (window) {
    text += "window " + std::to_string(window->start_ms) + " " +
            std::to_string(window->end_ms) + " " + Hex(window->state) + "\n";
  }
  return WriteFileAtomically(TriggerDir(name) + "/" + CheckpointName(shard),
                             text, sync_checkpoints_);
}

Status TriggerStore::LoadCheckpoint(const std::string& name, uint32_t shard,
                                    uint64_t* next_sequence,
                                    std::optional<WindowCheckpoint>* window) {
  const std::string path = TriggerDir(name) + "/" + CheckpointName(shard);
  Result<std::string> text = ReadFile(path);
  if (!text.ok() || !ParseCheckpoint(*text, next_sequence, window)) {
    return Status::Corruption("missing or malformed checkpoint " + path);
  }
  return Status::OK();
}

Status TriggerStore::RemoveCheckpoint(const std::string& name, uint32_t shard) {
  const std::string path = TriggerDir(name) + "/" + CheckpointName(shard);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Errno("cannot remove " + path);
  }
  return Status::OK();
}

Status TriggerStore::Remove(const std::string& name) {
  const std::string dir = TriggerDir(name);
  std::error_code ec;
  fs::remove(dir + "/" + kDefinition, ec);
  if (ec) return Status::IOError("cannot remove " + dir + ": " + ec.message());
  EDDY_RETURN_IF_ERROR(SyncDir(dir));
  fs::remove_all(dir, ec);
  if (ec) return Status::IOError("cannot remove " + dir + ": " + ec.message());
  return SyncDir(dir_);
}

}  // namespace eddy::runtime::dispatcher
