#include "key_filter.h"

#include <string>
#include <vector>

#include "catalog.h"

namespace eddy::store {
namespace {

class PointReadFilterPolicy final : public leveldb::FilterPolicy {
 public:
  explicit PointReadFilterPolicy(int bits_per_key)
      : bloom_(leveldb::NewBloomFilterPolicy(bits_per_key)) {}

  const char* Name() const override { return bloom_->Name(); }

  void CreateFilter(const leveldb::Slice* keys, int n,
                    std::string* dst) const override {
    std::vector<leveldb::Slice> kept;
    kept.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      if (IsPointReadKey(keys[i])) kept.push_back(keys[i]);
    }
    bloom_->CreateFilter(kept.data(), static_cast<int>(kept.size()), dst);
  }

  bool KeyMayMatch(const leveldb::Slice& key,
                   const leveldb::Slice& filter) const override {
    return !IsPointReadKey(key) || bloom_->KeyMayMatch(key, filter);
  }

 private:
  const std::unique_ptr<const leveldb::FilterPolicy> bloom_;
};

}  // namespace

bool IsPointReadKey(const leveldb::Slice& key) {
  if (key.empty()) return true;
  return key[0] != kIndexPrefix && key[0] != kHistoryPrefix;
}

std::unique_ptr<const leveldb::FilterPolicy> NewPointReadFilterPolicy(
    int bits_per_key) {
  return std::make_unique<PointReadFilterPolicy>(bits_per_key);
}

}  // namespace eddy::store
