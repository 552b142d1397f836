#include "api/data_transfer.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "api/json_codec.h"
#include "eddy/store/pacer.h"

namespace eddy::runtime::api {
namespace {

namespace fs = std::filesystem;

// Progress is published (and the worker yields) every this many items.
constexpr int64_t kProgressItems = 4096;
// A data file holds at most this many uncompressed bytes of JSON lines.
constexpr int64_t kDataFileBytes = 256LL << 20;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string RandomHex(int digits) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < digits; ++i) out.push_back(kHex[rng() & 15]);
  return out;
}

// DynamoDB's export ids: the start time in ms (14 digits), 8 hex digits.
std::string NewExportId(int64_t now_ms) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%014lld-", static_cast<long long>(now_ms));
  return buf + RandomHex(8);
}

// "2020-11-04T07:28:34.028Z", as the manifests write times.
std::string IsoTime(int64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

// The MD5 of a file's bytes.
Result<std::string> FileMd5(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Status::IOError("cannot read " + path);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_md5(), nullptr);
  char buf[1 << 16];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) {
    EVP_DigestUpdate(ctx, buf, n);
  }
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  if (failed) return Status::IOError("cannot read " + path);
  return std::string(reinterpret_cast<char*>(digest), len);
}

std::string Hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

// Writes `text` to `path` (replacing it) and fsyncs it.
Status WriteFileSynced(const std::string& path, std::string_view text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    return Status::IOError("cannot create " + path + ": " +
                           std::strerror(errno));
  }
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string why = std::strerror(errno);
      ::close(fd);
      return Status::IOError("cannot write " + path + ": " + why);
    }
    done += static_cast<size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) return Status::IOError("cannot sync " + path);
  return Status::OK();
}

// Replaces `path` atomically with `text`.
Status ReplaceFile(const std::string& path, std::string_view text) {
  EDDY_RETURN_IF_ERROR(WriteFileSynced(path + ".tmp", text));
  std::error_code ec;
  fs::rename(path + ".tmp", path, ec);
  if (ec) return Status::IOError("cannot rename " + path + ": " + ec.message());
  return Status::OK();
}

void Str(rapidjson::Writer<rapidjson::StringBuffer>* w, std::string_view s) {
  w->String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

std::string ToJson(const ExportInfo& e) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  auto str = [&](const char* k, const std::string& v) {
    w.Key(k);
    Str(&w, v);
  };
  auto num = [&](const char* k, int64_t v) {
    w.Key(k);
    w.Int64(v);
  };
  str("id", e.id);
  str("arn", e.arn);
  str("table_name", e.table_name);
  str("table_arn", e.table_arn);
  str("table_id", e.table_id);
  str("status", e.status);
  num("start_ms", e.start_ms);
  num("end_ms", e.end_ms);
  num("export_time_ms", e.export_time_ms);
  w.Key("export_time_explicit");
  w.Bool(e.export_time_explicit);
  str("bucket", e.bucket);
  str("bucket_owner", e.bucket_owner);
  str("prefix", e.prefix);
  str("sse_algorithm", e.sse_algorithm);
  str("client_token", e.client_token);
  num("item_count", e.item_count);
  num("billed_bytes", e.billed_bytes);
  str("failure_code", e.failure_code);
  str("failure_message", e.failure_message);
  str("manifest", e.manifest);
  w.EndObject();
  return buf.GetString();
}

Result<ExportInfo> FromJson(std::string_view text) {
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  if (d.HasParseError() || !d.IsObject()) {
    return Status::Corruption("not a JSON object");
  }
  ExportInfo e;
  auto str = [&](const char* k, std::string* v) {
    auto it = d.FindMember(k);
    if (it != d.MemberEnd() && it->value.IsString()) *v = it->value.GetString();
  };
  auto num = [&](const char* k, int64_t* v) {
    auto it = d.FindMember(k);
    if (it != d.MemberEnd() && it->value.IsInt64()) *v = it->value.GetInt64();
  };
  str("id", &e.id);
  str("arn", &e.arn);
  str("table_name", &e.table_name);
  str("table_arn", &e.table_arn);
  str("table_id", &e.table_id);
  str("status", &e.status);
  num("start_ms", &e.start_ms);
  num("end_ms", &e.end_ms);
  num("export_time_ms", &e.export_time_ms);
  if (auto it = d.FindMember("export_time_explicit");
      it != d.MemberEnd() && it->value.IsBool()) {
    e.export_time_explicit = it->value.GetBool();
  }
  str("bucket", &e.bucket);
  str("bucket_owner", &e.bucket_owner);
  str("prefix", &e.prefix);
  str("sse_algorithm", &e.sse_algorithm);
  str("client_token", &e.client_token);
  num("item_count", &e.item_count);
  num("billed_bytes", &e.billed_bytes);
  str("failure_code", &e.failure_code);
  str("failure_message", &e.failure_message);
  str("manifest", &e.manifest);
  if (e.id.empty()) return Status::Corruption("an export record without id");
  return e;
}

std::string ToJson(const ImportInfo& i) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  auto str = [&](const char* k, const std::string& v) {
    w.Key(k);
    Str(&w, v);
  };
  auto num = [&](const char* k, int64_t v) {
    w.Key(k);
    w.Int64(v);
  };
  str("id", i.id);
  str("arn", i.arn);
  str("table_name", i.table_name);
  str("table_arn", i.table_arn);
  str("table_id", i.table_id);
  str("status", i.status);
  num("start_ms", i.start_ms);
  num("end_ms", i.end_ms);
  str("bucket", i.bucket);
  str("bucket_owner", i.bucket_owner);
  str("key_prefix", i.key_prefix);
  str("input_format", i.input_format);
  str("compression", i.compression);
  str("csv_delimiter", i.csv_delimiter);
  w.Key("csv_header");
  w.StartArray();
  for (const std::string& h : i.csv_header) Str(&w, h);
  w.EndArray();
  str("format_options_json", i.format_options_json);
  str("creation_parameters_json", i.creation_parameters_json);
  str("client_token", i.client_token);
  num("processed_items", i.processed_items);
  num("processed_bytes", i.processed_bytes);
  num("imported_items", i.imported_items);
  num("error_count", i.error_count);
  str("failure_code", i.failure_code);
  str("failure_message", i.failure_message);
  w.EndObject();
  return buf.GetString();
}

Result<ImportInfo> ImportFromJson(std::string_view text) {
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  if (d.HasParseError() || !d.IsObject()) {
    return Status::Corruption("not a JSON object");
  }
  ImportInfo i;
  auto str = [&](const char* k, std::string* v) {
    auto it = d.FindMember(k);
    if (it != d.MemberEnd() && it->value.IsString()) *v = it->value.GetString();
  };
  auto num = [&](const char* k, int64_t* v) {
    auto it = d.FindMember(k);
    if (it != d.MemberEnd() && it->value.IsInt64()) *v = it->value.GetInt64();
  };
  str("id", &i.id);
  str("arn", &i.arn);
  str("table_name", &i.table_name);
  str("table_arn", &i.table_arn);
  str("table_id", &i.table_id);
  str("status", &i.status);
  num("start_ms", &i.start_ms);
  num("end_ms", &i.end_ms);
  str("bucket", &i.bucket);
  str("bucket_owner", &i.bucket_owner);
  str("key_prefix", &i.key_prefix);
  str("input_format", &i.input_format);
  str("compression", &i.compression);
  str("csv_delimiter", &i.csv_delimiter);
  if (auto it = d.FindMember("csv_header");
      it != d.MemberEnd() && it->value.IsArray()) {
    for (const auto& h : it->value.GetArray()) {
      if (h.IsString()) i.csv_header.emplace_back(h.GetString());
    }
  }
  str("format_options_json", &i.format_options_json);
  str("creation_parameters_json", &i.creation_parameters_json);
  str("client_token", &i.client_token);
  num("processed_items", &i.processed_items);
  num("processed_bytes", &i.processed_bytes);
  num("imported_items", &i.imported_items);
  num("error_count", &i.error_count);
  str("failure_code", &i.failure_code);
  str("failure_message", &i.failure_message);
  if (i.id.empty()) return Status::Corruption("an import record without id");
  return i;
}

// Reads a file's lines, gunzipping it or not.
class LineReader {
 public:
  ~LineReader() {
    if (file_ != nullptr) gzclose(file_);
  }
  Status Open(const std::string& path, bool gzip) {
    path_ = path;
    file_ = gzopen(path.c_str(), "rb");
    if (file_ == nullptr) {
      return Status::IOError("cannot read " + path + ": " +
                             std::strerror(errno));
    }
    gzbuffer(file_, 1 << 17);
    // gzread passes a file that is not gzip through as it is: GZIP asked
    // for a plain file fails the import, as on DynamoDB.
    if (gzip) {
      char probe;
      const int n = gzread(file_, &probe, 1);
      if (n < 0 || (n == 1 && gzdirect(file_) == 1)) {
        return Status::InvalidArgument(
            path + " is not gzip-compressed (InputCompressionType GZIP)");
      }
      gzrewind(file_);
    }
    return Status::OK();
  }
  // The next line (without its newline) into *line; false at the end.
  Result<bool> Next(std::string* line) {
    line->clear();
    bool any = false;
    for (;;) {
      if (pos_ < end_) {
        any = true;
        const char* start = buf_.get() + pos_;
        const void* nl = std::memchr(start, '\n', end_ - pos_);
        if (nl != nullptr) {
          const size_t n =
              static_cast<size_t>(static_cast<const char*>(nl) - start);
          line->append(start, n);
          pos_ += n + 1;
          bytes_ += static_cast<int64_t>(n + 1);
          return true;
        }
        line->append(start, end_ - pos_);
        bytes_ += static_cast<int64_t>(end_ - pos_);
        pos_ = end_;
      }
      const int n = gzread(file_, buf_.get(), kBufferBytes);
      if (n < 0) {
        int err = 0;
        return Status::IOError("cannot read " + path_ + ": " +
                               gzerror(file_, &err));
      }
      if (n == 0) return any;
      pos_ = 0;
      end_ = static_cast<size_t>(n);
    }
  }
  int64_t bytes() const { return bytes_; }

 private:
  static constexpr unsigned kBufferBytes = 1 << 16;
  gzFile file_ = nullptr;
  std::string path_;
  std::unique_ptr<char[]> buf_{new char[kBufferBytes]};
  size_t pos_ = 0;
  size_t end_ = 0;
  int64_t bytes_ = 0;
};

// One CSV record's fields (RFC 4180 quoting: "a ""b""" is a "b"). False
// when a quoted field is not closed on the line or is followed by text.
bool SplitCsv(std::string_view line, char delimiter,
              std::vector<std::string>* fields) {
  fields->clear();
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::string field;
  size_t i = 0;
  for (;;) {
    field.clear();
    if (i < line.size() && line[i] == '"') {
      ++i;
      for (;;) {
        if (i >= line.size()) return false;
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field.push_back(line[i++]);
      }
      if (i < line.size() && line[i] != delimiter) return false;
    } else {
      while (i < line.size() && line[i] != delimiter) {
        field.push_back(line[i++]);
      }
    }
    fields->push_back(field);
    if (i >= line.size()) return true;
    ++i;  // The delimiter.
  }
}

// A gzipped data file of JSON lines.
class DataFile {
 public:
  ~DataFile() {
    if (file_ != nullptr) gzclose(file_);
  }
  Status Open(const std::string& path) {
    path_ = path;
    file_ = gzopen(path.c_str(), "wb6");
    if (file_ == nullptr) {
      return Status::IOError("cannot create " + path + ": " +
                             std::strerror(errno));
    }
    return Status::OK();
  }
  Status Append(std::string_view line) {
    if (gzwrite(file_, line.data(), static_cast<unsigned>(line.size())) !=
        static_cast<int>(line.size())) {
      int err = 0;
      const char* why = gzerror(file_, &err);
      return Status::IOError("cannot write " + path_ + ": " +
                             (err == Z_ERRNO ? std::strerror(errno) : why));
    }
    bytes_ += static_cast<int64_t>(line.size());
    ++items_;
    return Status::OK();
  }
  Status Close() {
    const int rc = gzclose(file_);
    file_ = nullptr;
    if (rc != Z_OK) return Status::IOError("cannot write " + path_);
    // gzclose does not sync: the manifest must not name a file that a
    // power loss could take back.
    const int fd = ::open(path_.c_str(), O_RDONLY);
    const bool synced = fd >= 0 && ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
    if (!synced) return Status::IOError("cannot sync " + path_);
    return Status::OK();
  }
  int64_t bytes() const { return bytes_; }
  int64_t items() const { return items_; }

 private:
  gzFile file_ = nullptr;
  std::string path_;
  int64_t bytes_ = 0;
  int64_t items_ = 0;
};

}  // namespace

DataTransfer::DataTransfer(store::Database* db, Options options,
                           std::shared_ptr<spdlog::logger> logger)
    : db_(db), options_(std::move(options)), logger_(std::move(logger)) {}

std::string DataTransfer::ExportPath(const ExportInfo& e) const {
  std::string path = options_.export_dir + "/" + e.bucket;
  if (!e.prefix.empty()) path += "/" + e.prefix;
  return path + "/AWSDynamoDB/" + e.id;
}

std::string DataTransfer::ExportKey(const ExportInfo& e,
                                    const std::string& name) {
  std::string key = e.prefix.empty() ? "" : e.prefix + "/";
  return key + "AWSDynamoDB/" + e.id + "/" + name;
}

Status DataTransfer::SaveExport(const ExportInfo& e) {
  return ReplaceFile(RecordsDir() + "/" + e.id + ".json", ToJson(e));
}

Status DataTransfer::Start() {
  std::error_code ec;
  fs::create_directories(RecordsDir(), ec);
  if (ec) {
    return Status::IOError("cannot create " + RecordsDir() + ": " +
                           ec.message());
  }
  std::vector<std::string> resume;
  for (const auto& entry : fs::directory_iterator(RecordsDir(), ec)) {
    const std::string path = entry.path().string();
    if (path.ends_with(".tmp")) {
      fs::remove(path, ec);  // A crash while replacing a record.
      continue;
    }
    if (!path.ends_with(".json")) continue;
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    Result<ExportInfo> e = FromJson(text.str());
    if (!e.ok()) {
      logger_->error("export record {} is unreadable ({}); ignored", path,
                     e.status().ToString());
      continue;
    }
    if (e->status == "IN_PROGRESS") resume.push_back(e->id);
    exports_[e->id] = std::move(*e);
  }
  if (ec) return Status::IOError("cannot list " + RecordsDir());
  fs::create_directories(ImportRecordsDir(), ec);
  if (ec) {
    return Status::IOError("cannot create " + ImportRecordsDir() + ": " +
                           ec.message());
  }
  std::vector<ImportInfo> resume_imports;
  for (const auto& entry : fs::directory_iterator(ImportRecordsDir(), ec)) {
    const std::string path = entry.path().string();
    if (path.ends_with(".tmp")) {
      fs::remove(path, ec);
      continue;
    }
    if (!path.ends_with(".json")) continue;
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    Result<ImportInfo> i = ImportFromJson(text.str());
    if (!i.ok()) {
      logger_->error("import record {} is unreadable ({}); ignored", path,
                     i.status().ToString());
      continue;
    }
    if (i->status != "IN_PROGRESS" &&
        db_->GetImportTable(i->table_name) != nullptr) {
      // A restart between recording the end and acting on the table.
      logger_->warn("import {} ended {} before a restart; {} its table {}",
                    i->id, i->status,
                    i->status == "COMPLETED" ? "activating" : "removing",
                    i->table_name);
      Status ended = EndImportTable(*i);
      if (!ended.ok()) {
        logger_->error("import {}: {}; the next start tries again", i->id,
                       ended.ToString());
      }
    }
    if (i->status == "IN_PROGRESS") {
      if (db_->GetImportTable(i->table_name) == nullptr) {
        // Its table was never created (a crash in between) or is gone.
        i->status = "FAILED";
        i->end_ms = NowMs();
        i->failure_code = "InternalServerError";
        i->failure_message =
            "the import was interrupted by a restart before its table was "
            "created";
        SaveImport(*i).IgnoreError();
        logger_->error("import {}: {}", i->id, i->failure_message);
      } else {
        resume_imports.push_back(*i);
      }
    }
    imports_[i->id] = std::move(*i);
  }
  worker_ = std::thread([this] { Loop(); });
  for (const ImportInfo& i : resume_imports) {
    logger_->warn(
        "import {} into table {} was interrupted by a restart; emptying the "
        "table and starting it again",
        i.id, i.table_name);
    const std::string id = i.id;
    Submit([this, id] { RunImport(id, true); });
  }
  for (const std::string& id : resume) {
    logger_->warn("export {} was interrupted by a restart; starting it again",
                  id);
    Submit([this, id] { RunExport(id); });
  }
  return Status::OK();
}

void DataTransfer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    stop_ = true;
    queue_.clear();
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  // A snapshot runs to its end (the store has no way to stop one midway):
  // the server's shutdown waits for it.
  if (snapshot_thread_.joinable()) snapshot_thread_.join();
  idle_cv_.notify_all();
}

void DataTransfer::Submit(std::function<void()> work) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    queue_.push_back(std::move(work));
  }
  cv_.notify_one();
}

void DataTransfer::WaitIdle() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_cv_.wait(lock,
                [this] { return stopped_ || (queue_.empty() && !running_); });
}

void DataTransfer::Loop() {
  store::LowerThreadPriority(options_.nice);
  store::Pacer pacer(options_.nice > 0 ? 0.25 : 1.0);
  pacer_ = &pacer;
  for (;;) {
    std::function<void()> work;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopped_ || !queue_.empty(); });
      if (stopped_) return;
      work = std::move(queue_.front());
      queue_.pop_front();
      running_ = true;
    }
    work();
    {
      std::lock_guard<std::mutex> lock(mu_);
      running_ = false;
    }
    idle_cv_.notify_all();
  }
}

Result<ExportInfo> DataTransfer::StartExport(ExportInfo request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!request.client_token.empty()) {
    for (const auto& [id, e] : exports_) {
      if (e.client_token != request.client_token) continue;
      if (e.table_arn == request.table_arn && e.bucket == request.bucket &&
          e.prefix == request.prefix &&
          e.export_time_explicit == request.export_time_explicit &&
          (!e.export_time_explicit ||
           e.export_time_ms == request.export_time_ms)) {
        return e;
      }
      return Status::AlreadyExists(
          "The client token was used with different parameters");
    }
  }
  ExportInfo e = std::move(request);
  e.start_ms = NowMs();
  e.id = NewExportId(e.start_ms);
  e.arn = e.table_arn + "/export/" + e.id;
  e.status = "IN_PROGRESS";
  // The destination must be writable now (DynamoDB writes _started): a
  // failure leaves nothing behind and no export.
  const std::string dir = ExportPath(e);
  std::error_code ec;
  std::vector<fs::path> created;
  for (fs::path p = dir; !p.empty() && !fs::exists(p, ec);
       p = p.parent_path()) {
    created.push_back(p);
  }
  fs::create_directories(dir, ec);
  Status s = ec ? Status::IOError(ec.message())
                : WriteFileSynced(dir + "/_started", "");
  if (s.ok()) s = SaveExport(e);
  if (!s.ok()) {
    for (const fs::path& p : created) fs::remove_all(p, ec);
    return Status::IOError(s.message());
  }
  exports_[e.id] = e;
  const std::string id = e.id;
  logger_->info("export {} of table {} (at {}) to {} started", id, e.table_name,
                IsoTime(e.export_time_ms), dir);
  if (!stopped_) {
    queue_.push_back([this, id] { RunExport(id); });
    cv_.notify_one();
  }
  return e;
}

Result<ExportInfo> DataTransfer::DescribeExport(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = exports_.find(id);
  if (it == exports_.end()) return Status::NotFound("Export not found");
  return it->second;
}

std::vector<ExportInfo> DataTransfer::ListExports() {
  std::vector<ExportInfo> out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, e] : exports_) out.push_back(e);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.start_ms, a.id) < std::tie(b.start_ms, b.id);
  });
  return out;
}

void DataTransfer::Publish(const ExportInfo& e) {
  std::lock_guard<std::mutex> lock(mu_);
  exports_[e.id] = e;
}

void DataTransfer::RunExport(const std::string& id) {
  Result<ExportInfo> found = DescribeExport(id);
  if (!found.ok()) return;
  ExportInfo e = *found;
  Status s;
  for (;;) {
    e.item_count = 0;
    e.billed_bytes = 0;
    s = WriteExport(&e);
    // Busy: a recovery or a snapshot paused the store; start over.
    if (stop_ || s.code() != Status::Code::kBusy) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (stop_) return;  // Started again at the next Start.
  const std::string dir = ExportPath(e);
  std::error_code ec;
  e.end_ms = NowMs();
  if (s.ok()) {
    e.status = "COMPLETED";
    e.manifest = ExportKey(e, "manifest-summary.json");
    logger_->info("export {} of table {} completed: {} items, {} bytes", id,
                  e.table_name, e.item_count, e.billed_bytes);
  } else {
    // Nothing half-written stays: the data files and manifests go.
    fs::remove_all(dir + "/data", ec);
    for (const char* name :
         {"manifest-files.json", "manifest-files.checksum",
          "manifest-summary.json", "manifest-summary.checksum"}) {
      fs::remove(dir + "/" + name, ec);
    }
    e.status = "FAILED";
    e.item_count = 0;
    e.billed_bytes = 0;
    e.failure_code = s.IsNotFound() || s.IsOutOfRange() || s.IsInvalidArgument()
                         ? "InvalidExportTime"
                         : "S3AccessDenied";
    if (s.IsNotFound()) e.failure_code = "TableNotFound";
    if (s.IsInvalidArgument())
      e.failure_code = "PointInTimeRecoveryUnavailable";
    e.failure_message = s.message();
    logger_->error("export {} of table {} failed: {}", id, e.table_name,
                   s.ToString());
  }
  Status saved = SaveExport(e);
  if (!saved.ok()) {
    logger_->error("cannot record the end of export {}: {}", id,
                   saved.ToString());
  }
  Publish(e);
}

Status DataTransfer::WriteExport(ExportInfo* e) {
  const std::string dir = ExportPath(*e);
  std::error_code ec;
  // What an interrupted attempt wrote goes first.
  fs::remove_all(dir + "/data", ec);
  fs::create_directories(dir + "/data", ec);
  if (ec)
    return Status::IOError("cannot create " + dir + "/data: " + ec.message());
  struct Written {
    std::string name;
    int64_t items;
  };
  std::vector<Written> files;
  std::unique_ptr<DataFile> file;
  std::string name;
  auto close_file = [&]() -> Status {
    if (!file) return Status::OK();
    EDDY_RETURN_IF_ERROR(file->Close());
    files.push_back({name, file->items()});
    file.reset();
    return Status::OK();
  };
  rapidjson::StringBuffer line;
  Status s = db_->ReadTableAt(
      e->table_name, e->export_time_ms,
      [&](std::string_view encoded) -> Status {
        if (!file || file->bytes() >= kDataFileBytes) {
          EDDY_RETURN_IF_ERROR(close_file());
          name = RandomHex(26) + ".json.gz";
          file = std::make_unique<DataFile>();
          EDDY_RETURN_IF_ERROR(file->Open(dir + "/data/" + name));
        }
        line.Clear();
        JsonWriter w(line);
        w.StartObject();
        w.Key("Item");
        EDDY_ASSIGN_OR_RETURN(size_t size,
                              WriteEncodedItem(encoded, nullptr, &w));
        w.EndObject();
        line.Put('\n');
        EDDY_RETURN_IF_ERROR(
            file->Append(std::string_view(line.GetString(), line.GetSize())));
        ++e->item_count;
        // DynamoDB bills an export by the table's size: each item's.
        e->billed_bytes += static_cast<int64_t>(size);
        if (e->item_count % kProgressItems == 0) {
          Publish(*e);
          pacer_->Pace();
        }
        return Status::OK();
      },
      stop_);
  if (s.ok()) s = close_file();
  if (!s.ok()) return s;
  // DynamoDB writes at least one (possibly empty) file.
  if (files.empty()) {
    name = RandomHex(26) + ".json.gz";
    file = std::make_unique<DataFile>();
    EDDY_RETURN_IF_ERROR(file->Open(dir + "/data/" + name));
    EDDY_RETURN_IF_ERROR(close_file());
  }
  std::string manifest_files;
  for (const Written& f : files) {
    EDDY_ASSIGN_OR_RETURN(std::string md5, FileMd5(dir + "/data/" + f.name));
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("itemCount");
    w.Int64(f.items);
    w.Key("md5Checksum");
    Str(&w, Base64Encode(md5));
    w.Key("etag");
    Str(&w, Hex(md5));
    w.Key("dataFileS3Key");
    Str(&w, ExportKey(*e, "data/" + f.name));
    w.EndObject();
    manifest_files += buf.GetString();
    manifest_files += "\n";
  }
  EDDY_RETURN_IF_ERROR(
      WriteFileSynced(dir + "/manifest-files.json", manifest_files));
  EDDY_ASSIGN_OR_RETURN(std::string files_md5,
                        FileMd5(dir + "/manifest-files.json"));
  EDDY_RETURN_IF_ERROR(
      WriteFileSynced(dir + "/manifest-files.checksum", Hex(files_md5)));
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  auto str = [&](const char* k, const std::string& v) {
    w.Key(k);
    Str(&w, v);
  };
  str("version", "2020-06-30");
  str("exportArn", e->arn);
  str("startTime", IsoTime(e->start_ms));
  str("endTime", IsoTime(NowMs()));
  str("tableArn", e->table_arn);
  str("tableId", e->table_id);
  str("exportTime", IsoTime(e->export_time_ms));
  str("s3Bucket", e->bucket);
  w.Key("s3Prefix");
  if (e->prefix.empty()) {
    w.Null();
  } else {
    Str(&w, e->prefix);
  }
  w.Key("s3SseAlgorithm");
  Str(&w, e->sse_algorithm.empty() ? "AES256" : e->sse_algorithm);
  w.Key("s3SseKmsKeyId");
  w.Null();
  str("manifestFilesS3Key", ExportKey(*e, "manifest-files.json"));
  w.Key("billedSizeBytes");
  w.Int64(e->billed_bytes);
  w.Key("itemCount");
  w.Int64(e->item_count);
  str("outputFormat", "DYNAMODB_JSON");
  str("exportType", "FULL_EXPORT");
  w.EndObject();
  EDDY_RETURN_IF_ERROR(
      WriteFileSynced(dir + "/manifest-summary.json", buf.GetString()));
  EDDY_ASSIGN_OR_RETURN(std::string summary_md5,
                        FileMd5(dir + "/manifest-summary.json"));
  return WriteFileSynced(dir + "/manifest-summary.checksum", Hex(summary_md5));
}

// --- Imports.

Status DataTransfer::SaveImport(const ImportInfo& i) {
  return ReplaceFile(ImportRecordsDir() + "/" + i.id + ".json", ToJson(i));
}

void DataTransfer::PublishImport(const ImportInfo& i) {
  std::lock_guard<std::mutex> lock(mu_);
  imports_[i.id] = i;
}

Result<ImportInfo> DataTransfer::StartImport(ImportInfo request,
                                             const store::TableSchema& schema) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!request.client_token.empty()) {
    for (const auto& [id, i] : imports_) {
      if (i.client_token != request.client_token) continue;
      if (i.table_name == request.table_name && i.bucket == request.bucket &&
          i.key_prefix == request.key_prefix &&
          i.input_format == request.input_format &&
          i.compression == request.compression &&
          i.creation_parameters_json == request.creation_parameters_json) {
        return i;
      }
      return Status::AlreadyExists(
          "The client token was used with different parameters");
    }
  }
  ImportInfo i = std::move(request);
  i.start_ms = NowMs();
  i.id = NewExportId(i.start_ms);
  i.arn = i.table_arn + "/import/" + i.id;
  i.status = "IN_PROGRESS";
  // The record first: a crash right after the table's creation leaves an
  // import to resume, never a CREATING table nobody fills.
  std::error_code ec;
  fs::create_directories(ImportRecordsDir(), ec);
  EDDY_RETURN_IF_ERROR(SaveImport(i));
  Result<store::TableInfo> table = db_->CreateImportTable(schema, i.id);
  if (!table.ok()) {
    fs::remove(ImportRecordsDir() + "/" + i.id + ".json", ec);
    return table.status();
  }
  i.table_id = table->table_id;
  Status saved = SaveImport(i);
  if (!saved.ok()) {
    db_->AbandonImportTable(i.table_name, saved.ToString()).IgnoreError();
    fs::remove(ImportRecordsDir() + "/" + i.id + ".json", ec);
    return saved;
  }
  imports_[i.id] = i;
  logger_->info("import {} into table {} from {}/{} ({}, {}) started", i.id,
                i.table_name, i.bucket, i.key_prefix, i.input_format,
                i.compression);
  const std::string id = i.id;
  if (!stopped_) {
    queue_.push_back([this, id] { RunImport(id, false); });
    cv_.notify_one();
  }
  return i;
}

Result<ImportInfo> DataTransfer::DescribeImport(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = imports_.find(id);
  if (it == imports_.end()) return Status::NotFound("Import not found");
  return it->second;
}

std::vector<ImportInfo> DataTransfer::ListImports() {
  std::vector<ImportInfo> out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, i] : imports_) out.push_back(i);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.start_ms, a.id) < std::tie(b.start_ms, b.id);
  });
  return out;
}

void DataTransfer::RunImport(const std::string& id, bool resumed) {
  Result<ImportInfo> found = DescribeImport(id);
  if (!found.ok()) return;
  ImportInfo i = *found;
  i.processed_items = i.processed_bytes = i.imported_items = i.error_count = 0;
  Status s = resumed ? db_->ResetImportTable(i.table_name) : Status::OK();
  if (s.ok()) s = ReadImport(&i);
  if (stop_) return;  // Started again at the next Start.
  i.end_ms = NowMs();
  if (s.ok()) {
    i.status = "COMPLETED";
    logger_->info(
        "import {} into table {} completed: {} items imported, {} processed, "
        "{} errors",
        id, i.table_name, i.imported_items, i.processed_items, i.error_count);
  } else {
    i.status = "FAILED";
    i.failure_code = s.IsNotFound()          ? "S3NoSuchKey"
                     : s.IsInvalidArgument() ? "InvalidInputFormat"
                                             : "InternalServerError";
    i.failure_message = s.message();
    logger_->error("import {} into table {} failed: {}", id, i.table_name,
                   s.ToString());
  }
  // The outcome is recorded first, then the table made ACTIVE (or removed:
  // nothing half imported stays); a restart in between finishes the
  // table's part (Start).
  Status saved = SaveImport(i);
  if (!saved.ok()) {
    logger_->error("cannot record the end of import {}: {}", id,
                   saved.ToString());
  }
  Status table = EndImportTable(i);
  if (!table.ok()) {
    logger_->error(
        "import {}: its table {} cannot be {} now ({}); the next start "
        "does it",
        id, i.table_name, i.status == "COMPLETED" ? "activated" : "removed",
        table.ToString());
  }
  PublishImport(i);
}

Status DataTransfer::EndImportTable(const ImportInfo& i) {
  if (i.status == "COMPLETED") return db_->FinishImportTable(i.table_name);
  return db_->AbandonImportTable(
      i.table_name, "import " + i.id + " failed: " + i.failure_message);
}

Status DataTransfer::ReadImport(ImportInfo* i) {
  std::shared_ptr<store::Table> table = db_->GetImportTable(i->table_name);
  if (table == nullptr) {
    return Status::Internal("the import's table " + i->table_name + " is gone");
  }
  const store::TableSchema& schema = table->schema();
  const std::string root = options_.export_dir + "/" + i->bucket;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    return Status::NotFound("The specified bucket does not exist: " +
                            i->bucket);
  }
  // S3's prefix match over the bucket's keys (paths relative to its folder).
  std::vector<std::string> keys;
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string key = fs::relative(it->path(), root, ec).generic_string();
    if (key.starts_with(i->key_prefix)) keys.push_back(key);
  }
  if (ec) return Status::IOError("cannot list " + root + ": " + ec.message());
  std::sort(keys.begin(), keys.end());
  if (keys.empty()) {
    return Status::NotFound("No objects found in bucket " + i->bucket +
                            " with the prefix '" + i->key_prefix + "'");
  }
  const bool csv = i->input_format == "CSV";
  const char delimiter = i->csv_delimiter.empty() ? ',' : i->csv_delimiter[0];
  int64_t logged = 0;
  auto reject = [&](const std::string& key, int64_t line_no,
                    const std::string& why) {
    ++i->error_count;
    // As DynamoDB's CloudWatch log: the first errors, each with its place.
    if (++logged <= 100) {
      logger_->warn("import {}: {} line {}: {}", i->id, key, line_no, why);
    }
  };
  std::string line;
  std::vector<std::string> header, fields;
  for (const std::string& key : keys) {
    LineReader reader;
    EDDY_RETURN_IF_ERROR(
        reader.Open(root + "/" + key, i->compression == "GZIP"));
    header = i->csv_header;
    int64_t line_no = 0;
    int64_t before = 0;
    for (;;) {
      EDDY_ASSIGN_OR_RETURN(bool more, reader.Next(&line));
      if (!more) break;
      ++line_no;
      i->processed_bytes += reader.bytes() - before;
      before = reader.bytes();
      if (line.empty() || line == "\r") continue;
      if (csv && header.empty()) {
        if (!SplitCsv(line, delimiter, &header)) {
          return Status::InvalidArgument(key +
                                         ": the CSV header line is "
                                         "malformed");
        }
        continue;
      }
      ++i->processed_items;
      store::Item item;
      std::string why;
      if (csv) {
        if (!SplitCsv(line, delimiter, &fields)) {
          why = "a quoted CSV field is not closed";
        } else if (fields.size() != header.size()) {
          why = "the row has " + std::to_string(fields.size()) +
                " fields, the header " + std::to_string(header.size());
        } else {
          for (size_t f = 0; f < fields.size() && why.empty(); ++f) {
            if (fields[f].empty()) continue;  // Absent.
            const bool hash = header[f] == schema.hash_key.name;
            const bool range =
                schema.range_key && header[f] == schema.range_key->name;
            const store::ValueType type = hash    ? schema.hash_key.type
                                          : range ? schema.range_key->type
                                                  : store::ValueType::kS;
            if (type == store::ValueType::kN) {
              Result<store::Number> n = store::Number::Parse(fields[f]);
              if (!n.ok()) {
                why = "attribute " + header[f] + ": " + n.status().message();
              } else {
                item.emplace(header[f], store::AttributeValue::Num(*n));
              }
            } else if (type == store::ValueType::kB) {
              std::string bytes;
              if (!Base64Decode(fields[f], &bytes)) {
                why = "attribute " + header[f] + ": invalid base64";
              } else {
                item.emplace(header[f],
                             store::AttributeValue::Binary(std::move(bytes)));
              }
            } else {
              item.emplace(header[f], store::AttributeValue::String(fields[f]));
            }
          }
        }
      } else {
        rapidjson::Document d;
        d.Parse(line.data(), line.size());
        if (d.HasParseError()) {
          why = "not JSON";
        } else if (!d.IsObject() || !d.HasMember("Item") ||
                   !d["Item"].IsObject() || d.MemberCount() != 1) {
          why = "not a DynamoDB JSON line ({\"Item\":{...}})";
        } else if (wire::DecodeStatus decoded =
                       wire::ReadItem(d["Item"], &item);
                   !decoded.ok()) {
          why = decoded.status().message();
        }
      }
      if (why.empty()) {
        Status valid = table->ValidateItem(item);
        if (!valid.ok()) why = valid.message();
      }
      if (why.empty()) {
        store::WriteOutcome out;
        Status put = table->Put(std::move(item), nullptr, &out);
        if (put.IsInvalidArgument()) {
          why = put.message();
        } else if (!put.ok()) {
          return put;
        } else {
          ++i->imported_items;
        }
      }
      if (!why.empty()) reject(key, line_no, why);
      if (i->processed_items % kProgressItems == 0) {
        PublishImport(*i);
        pacer_->Pace();
        if (stop_) return Status::Busy("stopping");
      }
    }
  }
  return Status::OK();
}

// --- Snapshots.

Result<SnapshotInfo> DataTransfer::StartSnapshot(const std::string& directory) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) return Status::Busy("the server is stopping");
  if (!running_snapshot_.empty()) {
    return Status::Busy("snapshot " + running_snapshot_ +
                        " is still running: one at a time");
  }
  if (snapshot_thread_.joinable()) snapshot_thread_.join();  // Finished.
  SnapshotInfo s;
  s.start_ms = NowMs();
  s.id = NewExportId(s.start_ms);
  s.directory = directory;
  snapshots_[s.id] = s;
  running_snapshot_ = s.id;
  snapshot_progress_ = std::make_unique<store::Database::SnapshotProgress>();
  store::Database::SnapshotProgress* progress = snapshot_progress_.get();
  const std::string id = s.id;
  logger_->info("snapshot {} into {} started", id, directory);
  snapshot_thread_ = std::thread([this, id, directory, progress] {
    // The store paces the copy itself.
    store::LowerThreadPriority(options_.nice);
    Status result = db_->Snapshot(directory, progress);
    std::lock_guard<std::mutex> done(mu_);
    SnapshotInfo& info = snapshots_[id];
    info.end_ms = NowMs();
    info.files_total = progress->files_total;
    info.files_copied = progress->files_copied;
    info.bytes_total = progress->bytes_total;
    info.bytes_copied = progress->bytes_copied;
    if (result.ok()) {
      info.status = "COMPLETED";
    } else {
      info.status = "FAILED";
      info.failure_message = result.message();
      logger_->error("snapshot {} into {} failed: {}", id, directory,
                     result.ToString());
    }
    running_snapshot_.clear();
  });
  return s;
}

Result<SnapshotInfo> DataTransfer::DescribeSnapshot(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = snapshots_.find(id);
  if (it == snapshots_.end()) return Status::NotFound("Snapshot not found");
  SnapshotInfo info = it->second;
  if (id == running_snapshot_ && snapshot_progress_) {
    info.files_total = snapshot_progress_->files_total;
    info.files_copied = snapshot_progress_->files_copied;
    info.bytes_total = snapshot_progress_->bytes_total;
    info.bytes_copied = snapshot_progress_->bytes_copied;
  }
  return info;
}

}  // namespace eddy::runtime::api
