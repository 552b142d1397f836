// SegmentFileCache: the open files of closed stream segments, shared by the
// shard logs that are given it, so that however many shards and segments
// their retention holds, the descriptors they keep open between reads are
// bounded by one capacity (LevelDB's table cache does the same for its
// table files). The least recently read files beyond the capacity are
// closed, and opened again when next read.
//
// A closed segment is one no longer appended to: every segment but a log's
// newest, and a sealed log's newest too. Each has an id (NewId) under which
// its file is cached. A file handed out stays open, also once evicted,
// until its last copy is dropped: a read in progress is never cut off.
//
// Thread-safety: all methods may be called concurrently. The cache's mutex
// is taken last (after any log's), and no file is opened or closed while
// holding it.
#ifndef EDDY_STREAMS_SEGMENT_FILE_CACHE_H_
#define EDDY_STREAMS_SEGMENT_FILE_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "eddy/result.h"
#include "eddy/streams/file_system.h"

namespace eddy::streams {

class SegmentFileCache {
 public:
  // `capacity` 0 caches nothing: every read opens the file again.
  explicit SegmentFileCache(size_t capacity) : capacity_(capacity) {}
  SegmentFileCache(const SegmentFileCache&) = delete;
  SegmentFileCache& operator=(const SegmentFileCache&) = delete;

  // An id for one segment; never handed out twice.
  uint64_t NewId();

  // The file cached under `id`, else `path` opened read-only through `fs`
  // and cached; either way it becomes the most recently used. Fails as
  // FileSystem::Open does (nothing is cached then).
  Result<std::shared_ptr<const File>> Get(uint64_t id, FileSystem* fs,
                                          const std::string& path);

  // Caches an open file under `id` (a segment that was just closed by a
  // roll or a seal, and whose readers are likely to come next). Replaces
  // whatever was cached under it.
  void Insert(uint64_t id, std::shared_ptr<const File> file);

  // Closes the file cached under `id`, if any (its segment was trimmed, or
  // its log closed). Copies handed out stay open until dropped.
  void Erase(uint64_t id);

  // Whether a file is cached under `id`.
  bool Contains(uint64_t id) const;
  // Files cached now; never more than capacity().
  size_t size() const;
  size_t capacity() const { return capacity_; }

 private:
  struct Entry {
    uint64_t id;
    std::shared_ptr<const File> file;
  };
  using List = std::list<Entry>;  // Most recently used first.

  // Caches `file` under `id` as the most recently used and moves out what
  // that evicts, for the caller to close after unlocking.
  void InsertLocked(uint64_t id, std::shared_ptr<const File> file,
                    List* evicted);

  const size_t capacity_;
  mutable std::mutex mu_;
  uint64_t next_id_ = 0;
  List lru_;
  std::unordered_map<uint64_t, List::iterator> index_;
};

}  // namespace eddy::streams

#endif  // EDDY_STREAMS_SEGMENT_FILE_CACHE_H_
