#include "dispatcher/failure_document.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>

namespace eddy::runtime::dispatcher {
namespace {

void Str(wire::JsonWriter* w, std::string_view s) {
  w->String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

}  // namespace

std::string Iso8601(int64_t epoch_ms, bool with_millis) {
  const time_t seconds = static_cast<time_t>(epoch_ms / 1000);
  struct tm tm {};
  gmtime_r(&seconds, &tm);
  char buf[48];
  const size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buf, n);
  if (with_millis) {
    char ms[8];
    std::snprintf(ms, sizeof(ms), ".%03d", static_cast<int>(epoch_ms % 1000));
    out += ms;
  }
  out += 'Z';
  return out;
}

std::string FailureDocument(
    const FailureInfo& info,
    const std::function<void(wire::JsonWriter*)>& write_records) {
  rapidjson::StringBuffer buffer;
  wire::JsonWriter w(buffer);
  w.StartObject();
  w.Key("requestContext");
  w.StartObject();
  w.Key("requestId");
  Str(&w, info.request_id);
  w.Key("functionArn");
  Str(&w, info.function_arn);
  w.Key("condition");
  Str(&w, info.condition);
  w.Key("approximateInvokeCount");
  w.Int64(info.approximate_invoke_count);
  w.EndObject();
  w.Key("responseContext");
  w.StartObject();
  w.Key("statusCode");
  w.Int(200);
  w.Key("executedVersion");
  w.String("$LATEST");
  w.Key("functionError");
  Str(&w, info.function_error);
  if (!info.error_message.empty()) {
    w.Key("errorMessage");
    Str(&w, info.error_message);
  }
  w.EndObject();
  w.Key("version");
  w.String("1.0");
  w.Key("timestamp");
  Str(&w, Iso8601(info.timestamp_ms, true));
  w.Key("DDBStreamBatchInfo");
  w.StartObject();
  w.Key("shardId");
  Str(&w, info.shard_id);
  w.Key("startSequenceNumber");
  Str(&w, info.start_sequence);
  w.Key("endSequenceNumber");
  Str(&w, info.end_sequence);
  w.Key("approximateArrivalOfFirstRecord");
  Str(&w, Iso8601(info.first_arrival_ms, false));
  w.Key("approximateArrivalOfLastRecord");
  Str(&w, Iso8601(info.last_arrival_ms, false));
  w.Key("batchSize");
  w.Uint64(info.batch_size);
  w.Key("streamArn");
  Str(&w, info.stream_arn);
  w.EndObject();
  w.Key("records");
  w.StartArray();
  if (write_records) write_records(&w);
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Status AppendLineDurably(const std::string& path, std::string_view line) {
  const int fd =
      ::open(path.c_str(),
             O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return Status::IOError(
        "cannot open " + path + ": " +
        (errno == ELOOP ? "it is a symbolic link" : std::strerror(errno)));
  }
  std::string data(line);
  data += '\n';
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s =
          Status::IOError("cannot write " + path + ": " + std::strerror(errno));
      ::close(fd);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  const int rc = ::fdatasync(fd);
  ::close(fd);
  if (rc != 0) {
    return Status::IOError("cannot fsync " + path + ": " +
                           std::strerror(errno));
  }
  return Status::OK();
}

Result<std::string> ConfineFailureFile(const std::string& dir,
                                       const std::string& path) {
  namespace fs = std::filesystem;
  const auto refuse = [&](const std::string& why) {
    return Status::InvalidArgument(
        "OnFailureDestination file:" + path + " is refused: " + why +
        ". On-failure files are written in the server's failure directory " +
        dir +
        " (eddy serve --failure-dir): name a file in it, e.g. "
        "file:orders-failures.jsonl");
  };
  if (path.empty()) return refuse("no file is named");
  const fs::path given(path);
  for (const fs::path& part : given) {
    if (part == "..") return refuse("it contains '..'");
  }
  const fs::path full =
      (given.is_absolute() ? given : fs::path(dir) / given).lexically_normal();
  if (!full.has_filename()) return refuse("it names a directory");
  char resolved[PATH_MAX];
  const std::string parent = full.parent_path().string();
  if (::realpath(parent.c_str(), resolved) == nullptr) {
    return refuse("its directory " + parent + " cannot be resolved (" +
                  std::strerror(errno) + ")");
  }
  const std::string real_parent(resolved);
  if (real_parent != dir && real_parent.rfind(dir + "/", 0) != 0) {
    return refuse("it is outside " + dir);
  }
  const std::string target = real_parent + "/" + full.filename().string();
  struct stat st;
  if (::lstat(target.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    return refuse(S_ISLNK(st.st_mode) ? "it is a symbolic link"
                                      : "it is not a regular file");
  }
  return target;
}

}  // namespace eddy::runtime::dispatcher
