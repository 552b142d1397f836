#include "eddy/streams/segment_file_cache.h"

#include <fcntl.h>

#include <utility>

namespace eddy::streams {

uint64_t SegmentFileCache::NewId() {
  std::lock_guard lock(mu_);
  return ++next_id_;
}

Result<std::shared_ptr<const File>> SegmentFileCache::Get(
    uint64_t id, FileSystem* fs, const std::string& path) {
  {
    std::lock_guard lock(mu_);
    if (auto it = index_.find(id); it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return it->second->file;
    }
  }
  // Opened outside the lock: one slow open does not hold up every reader.
  EDDY_ASSIGN_OR_RETURN(File opened, fs->Open(path, O_RDONLY, 0));
  auto file = std::make_shared<const File>(std::move(opened));
  List evicted;
  std::lock_guard lock(mu_);
  if (auto it = index_.find(id); it != index_.end()) {
    // Another reader opened it meanwhile: share theirs; ours closes.
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->file;
  }
  InsertLocked(id, file, &evicted);
  return file;
}

void SegmentFileCache::Insert(uint64_t id, std::shared_ptr<const File> file) {
  List evicted;
  std::lock_guard lock(mu_);
  if (auto it = index_.find(id); it != index_.end()) {
    evicted.splice(evicted.end(), lru_, it->second);
    index_.erase(it);
  }
  InsertLocked(id, std::move(file), &evicted);
}

void SegmentFileCache::InsertLocked(uint64_t id,
                                    std::shared_ptr<const File> file,
                                    List* evicted) {
  if (capacity_ == 0) return;
  lru_.push_front({id, std::move(file)});
  index_[id] = lru_.begin();
  while (lru_.size() > capacity_) {
    index_.erase(lru_.back().id);
    evicted->splice(evicted->end(), lru_, std::prev(lru_.end()));
  }
}

void SegmentFileCache::Erase(uint64_t id) {
  List evicted;
  std::lock_guard lock(mu_);
  if (auto it = index_.find(id); it != index_.end()) {
    evicted.splice(evicted.end(), lru_, it->second);
    index_.erase(it);
  }
}

bool SegmentFileCache::Contains(uint64_t id) const {
  std::lock_guard lock(mu_);
  return index_.contains(id);
}

size_t SegmentFileCache::size() const {
  std::lock_guard lock(mu_);
  return lru_.size();
}

}  // namespace eddy::streams
