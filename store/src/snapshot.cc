// Snapshots of the data directory (Database::Snapshot).
//
// The cut. With the DbHandle's gate closed no operation touches LevelDB, so
// no write is between its stream record and its batch (a write appends its
// record and writes its batch under one Use); with background_gate_ held
// exclusively no flush or compaction runs, so LevelDB's files are still.
// In that instant every file of the data directory is taken:
//   - files that are only ever appended to or never change (LevelDB's
//     tables, logs and manifest, stream segments, backup items) are hard-
//     linked into a staging directory inside the data directory, with
//     their length now: what is appended later is not copied;
//   - small files, which may be replaced (trigger checkpoints, backup
//     manifests, stream checkpoints and markers, export and import
//     records), are copied into the staging directory.
// Then the gates open and the staged files are copied into the target, each
// up to its length at the cut, and synced. So the copy is the directory as
// a crash at the cut would have left it, which Open recovers: LevelDB
// replays its log, the streams their tails, the item counts are recounted.
// Linked files that LevelDB or the trimming delete meanwhile live on in the
// staging directory until the copy is done.
//
// While it copies, the target holds SNAPSHOT-INCOMPLETE (removed last) and
// the staging directory <data>/.snapshot-<id>/ names the target in TARGET:
// Open removes both after a restart that interrupted a snapshot.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "catalog.h"
#include "database_impl.h"
#include "eddy/store/pacer.h"
#include "store_env.h"

namespace eddy::store {
namespace {

namespace fs = std::filesystem;

constexpr char kStagingPrefix[] = ".snapshot-";
constexpr char kIncomplete[] = "SNAPSHOT-INCOMPLETE";
// Files up to this size are copied at the cut; larger ones are linked.
constexpr uintmax_t kCopyAtCutBytes = 64 * 1024;

Status Errno(const std::string& what) {
  return Status::IOError(what + ": " + std::strerror(errno));
}

// Copies the first `length` bytes of `from` into `to` (created), fsyncs
// `to`, and adds the bytes to *copied as it goes.
Status CopyPrefix(const std::string& from, const std::string& to,
                  int64_t length, std::atomic<int64_t>* copied,
                  Pacer* pacer = nullptr) {
  const int in = ::open(from.c_str(), O_RDONLY);
  if (in < 0) return Errno("cannot read " + from);
  const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (out < 0) {
    const Status s = Errno("cannot create " + to);
    ::close(in);
    return s;
  }
  std::string buf(1 << 20, '\0');
  Status s;
  int64_t left = length;
  while (left > 0 && s.ok()) {
    const ssize_t n = ::read(in, buf.data(),
                             static_cast<size_t>(std::min<int64_t>(
                                 left, static_cast<int64_t>(buf.size()))));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      s = Errno("cannot read " + from);
      break;
    }
    if (n == 0) {
      s = Status::IOError(from + " is shorter than at the cut");
      break;
    }
    for (ssize_t done = 0; done < n;) {
      const ssize_t w =
          ::write(out, buf.data() + done, static_cast<size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        s = Errno("cannot write " + to);
        break;
      }
      done += w;
    }
    left -= n;
    copied->fetch_add(n, std::memory_order_relaxed);
    if (pacer != nullptr) pacer->Pace();
  }
  if (s.ok() && ::fsync(out) != 0) s = Errno("cannot sync " + to);
  ::close(out);
  ::close(in);
  return s;
}

void SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

bool Inside(const fs::path& dir, const fs::path& path) {
  auto d = dir.begin(), p = path.begin();
  for (; d != dir.end(); ++d, ++p) {
    if (p == path.end() || *d != *p) return false;
  }
  return true;
}

}  // namespace

void DatabaseImpl::RemoveInterruptedSnapshots() {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(options_.path, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(kStagingPrefix)) continue;
    std::ifstream in(entry.path() / "TARGET");
    std::string target;
    std::getline(in, target);
    if (!target.empty() && fs::exists(fs::path(target) / kIncomplete, ec)) {
      fs::remove_all(target, ec);
      logger_->error(
          "the snapshot into {} was interrupted by a restart; its partial "
          "copy is removed",
          target);
    }
    fs::remove_all(entry.path(), ec);
  }
}

Status DatabaseImpl::Snapshot(const std::string& dir,
                              SnapshotProgress* progress) {
  std::error_code ec;
  const fs::path data = fs::weakly_canonical(fs::absolute(options_.path), ec);
  const fs::path target = fs::weakly_canonical(fs::absolute(dir), ec);
  if (ec || dir.empty()) {
    return Status::InvalidArgument("invalid snapshot directory: " + dir);
  }
  if (Inside(data, target) || Inside(target, data)) {
    return Status::InvalidArgument(
        "the snapshot directory must be outside the data directory " +
        data.string());
  }
  if (fs::exists(target, ec) &&
      (!fs::is_directory(target, ec) || !fs::is_empty(target, ec))) {
    return Status::InvalidArgument(
        "the snapshot directory must not exist or be empty: " +
        target.string());
  }
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const fs::path staging =
      data / (kStagingPrefix + std::to_string(NowMillis()) + "-" +
              std::to_string(rng() % 1000000));
  // From here on a failure removes what it made.
  auto cleanup = [&] {
    std::error_code ignored;
    fs::remove_all(staging, ignored);
    fs::remove_all(target, ignored);
  };
  fs::create_directories(target, ec);
  if (ec) {
    return Status::IOError("cannot create " + target.string() + ": " +
                           ec.message());
  }
  {
    std::ofstream marker(target / kIncomplete);
    marker << "an eddy snapshot of " << data.string() << " being copied\n";
    if (!marker) {
      cleanup();
      return Status::IOError("cannot write in " + target.string());
    }
  }
  fs::create_directories(staging, ec);
  {
    std::ofstream t(staging / "TARGET");
    t << target.string() << "\n";
    if (ec || !t) {
      cleanup();
      return Status::IOError("cannot create " + staging.string());
    }
  }

  struct Staged {
    fs::path relative;
    int64_t length;
  };
  std::vector<Staged> files;
  const auto started = std::chrono::steady_clock::now();
  Status cut = db_->WithGateClosed([&]() -> Status {
    std::unique_lock<std::shared_mutex> quiet(background_gate_);
    std::error_code walk_ec;
    for (auto it = fs::recursive_directory_iterator(data, walk_ec);
         !walk_ec && it != fs::recursive_directory_iterator();
         it.increment(walk_ec)) {
      const fs::path& path = it->path();
      const fs::path relative = fs::relative(path, data, walk_ec);
      const std::string first = relative.begin()->string();
      // Files removed and not yet unlinked (store_env.h) are not data; the
      // Env's thread may unlink them under the walk.
      if (first.starts_with(kStagingPrefix) || first == "RECOVERY-PROBE" ||
          path.filename() == kTrashDirName) {
        if (it->is_directory(walk_ec)) it.disable_recursion_pending();
        continue;
      }
      if (it->is_directory(walk_ec) || !it->is_regular_file(walk_ec)) {
        continue;  // Sockets and such.
      }
      if (path.filename() == "LOCK") continue;  // Taken again at open.
      const uintmax_t size = it->file_size(walk_ec);
      if (walk_ec) return Status::IOError("cannot stat " + path.string());
      const fs::path to = staging / relative;
      fs::create_directories(to.parent_path(), walk_ec);
      if (walk_ec) return Status::IOError("cannot create " + to.string());
      if (size > kCopyAtCutBytes) {
        fs::create_hard_link(path, to, walk_ec);
        if (!walk_ec) {
          files.push_back({relative, static_cast<int64_t>(size)});
          continue;
        }
        walk_ec.clear();  // Not linkable here: copied now instead.
      }
      std::atomic<int64_t> ignored{0};
      EDDY_RETURN_IF_ERROR(CopyPrefix(path.string(), to.string(),
                                      static_cast<int64_t>(size), &ignored));
      files.push_back({relative, static_cast<int64_t>(size)});
    }
    if (walk_ec) {
      return Status::IOError("cannot list " + data.string() + ": " +
                             walk_ec.message());
    }
    return Status::OK();
  });
  if (!cut.ok()) {
    cleanup();
    return cut;
  }
  const auto paused = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count();
  int64_t total = 0;
  for (const Staged& f : files) total += f.length;
  progress->files_total = static_cast<int64_t>(files.size());
  progress->bytes_total = total;
  logger_->info(
      "snapshot into {}: the cut took {} ms (writes waited that long); "
      "copying {} files, {} bytes",
      target.string(), paused, files.size(), total);
  Pacer pacer(options_.job_nice > 0 ? 0.25 : 1.0);
  for (const Staged& f : files) {
    const fs::path to = target / f.relative;
    fs::create_directories(to.parent_path(), ec);
    Status s =
        ec ? Status::IOError("cannot create " + to.parent_path().string())
           : CopyPrefix((staging / f.relative).string(), to.string(), f.length,
                        &progress->bytes_copied);
    if (!s.ok()) {
      cleanup();
      return s;
    }
    progress->files_copied.fetch_add(1, std::memory_order_relaxed);
  }
  for (auto it = fs::recursive_directory_iterator(target, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec)) SyncDir(it->path().string());
  }
  fs::remove_all(staging, ec);
  fs::remove(target / kIncomplete, ec);
  SyncDir(target.string());
  logger_->info("snapshot into {} done: {} files, {} bytes", target.string(),
                files.size(), total);
  return Status::OK();
}

}  // namespace eddy::store
