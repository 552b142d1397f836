#include "table_memory.h"

#include <endian.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string_view>

namespace eddy::store {
namespace {

// More of LevelDB's table format (table_memory.h; table/format.h,
// table/block.cc).
constexpr uint64_t kTableMagic = 0xdb4775248b80fb57ull;
constexpr char kNoCompression = 0;
constexpr char kSnappyCompression = 1;
// A metaindex holds one entry per meta block: a few dozen bytes.
constexpr uint64_t kMaxMetaindexSize = 64 * 1024;

// A varint64 from the front of `in`, which it advances.
std::optional<uint64_t> Varint(std::string_view* in) {
  uint64_t value = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    const auto byte = static_cast<unsigned char>(in->front());
    in->remove_prefix(1);
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (byte < 0x80) return value;
  }
  return std::nullopt;
}

struct BlockHandle {
  uint64_t offset = 0;
  uint64_t size = 0;  // Without the trailer.
};

std::optional<BlockHandle> DecodeHandle(std::string_view* in) {
  std::optional<uint64_t> offset = Varint(in);
  if (!offset) return std::nullopt;
  std::optional<uint64_t> size = Varint(in);
  if (!size) return std::nullopt;
  return BlockHandle{*offset, *size};
}

bool Within(const BlockHandle& h, uint64_t file_size) {
  return h.offset <= file_size && h.size <= file_size &&
         h.offset + h.size + kBlockTrailerSize <= file_size;
}

// Reads exactly `n` bytes at `offset` into `buf`. False if the file ends
// first (*status OK) or the read fails (*status says why).
bool ReadExactly(const leveldb::RandomAccessFile& file, uint64_t offset,
                 size_t n, std::string* buf, leveldb::Status* status) {
  buf->resize(n);
  leveldb::Slice got;
  *status = file.Read(offset, n, &got, buf->data());
  if (!status->ok() || got.size() != n) return false;
  if (got.data() != buf->data()) std::memmove(buf->data(), got.data(), n);
  return true;
}

// The handle of the first "filter." entry of an uncompressed metaindex
// block (entries of shared, unshared and value lengths, then the key's
// unshared bytes and the value; restart offsets and their count at the end).
std::optional<BlockHandle> FilterHandle(std::string_view block) {
  if (block.size() < 4) return std::nullopt;
  uint32_t restarts;
  std::memcpy(&restarts, block.data() + block.size() - 4, 4);
  const uint64_t trailer = 4 + 4 * static_cast<uint64_t>(restarts);
  if (trailer > block.size()) return std::nullopt;
  std::string_view entries = block.substr(0, block.size() - trailer);
  std::string key;
  while (!entries.empty()) {
    std::optional<uint64_t> shared = Varint(&entries);
    std::optional<uint64_t> unshared = Varint(&entries);
    std::optional<uint64_t> value_size = Varint(&entries);
    if (!shared || !unshared || !value_size || *shared > key.size() ||
        *unshared > entries.size() ||
        *value_size > entries.size() - *unshared) {
      return std::nullopt;
    }
    key.resize(*shared);
    key.append(entries.substr(0, *unshared));
    entries.remove_prefix(*unshared);
    std::string_view value = entries.substr(0, *value_size);
    entries.remove_prefix(*value_size);
    if (key.starts_with("filter.")) return DecodeHandle(&value);
  }
  return std::nullopt;
}

// The key of a placeholder: the reservation's cache id and the unit's
// number. A table's blocks are keyed by the table's own cache id and an
// offset (LevelDB's table.cc): no id is handed out twice.
class PlaceholderKey {
 public:
  PlaceholderKey(uint64_t id, uint64_t unit) {
    std::memcpy(bytes_, &id, 8);
    std::memcpy(bytes_ + 8, &unit, 8);
  }
  leveldb::Slice slice() const {
    return leveldb::Slice(bytes_, sizeof(bytes_));
  }

 private:
  char bytes_[16];
};

}  // namespace

leveldb::Status OpenTableHeapBytes(const leveldb::RandomAccessFile& file,
                                   uint64_t size,
                                   std::optional<uint64_t>* bytes) {
  bytes->reset();
  leveldb::Status s;  // Stays OK when the file is only no table.
  std::string buf;
  if (size < kTableFooterSize ||
      !ReadExactly(file, size - kTableFooterSize, kTableFooterSize, &buf, &s)) {
    return s;
  }
  uint64_t magic;
  std::memcpy(&magic, buf.data() + kTableFooterSize - 8, 8);  // Little-endian.
  if (le64toh(magic) != kTableMagic) return s;
  std::string_view footer(buf);
  std::optional<BlockHandle> metaindex = DecodeHandle(&footer);
  std::optional<BlockHandle> index = DecodeHandle(&footer);
  if (!metaindex || !index || !Within(*metaindex, size) ||
      !Within(*index, size) || metaindex->size > kMaxMetaindexSize) {
    return s;
  }

  // The index block: kept as LevelDB decompresses it. A Snappy block
  // starts with its uncompressed length (a varint32).
  uint64_t total = index->size;
  std::string head;
  if (!ReadExactly(file, index->offset + index->size, 1, &head, &s)) return s;
  if (head[0] == kSnappyCompression) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(index->size, 5));
    if (!ReadExactly(file, index->offset, n, &head, &s)) return s;
    std::string_view compressed(head);
    std::optional<uint64_t> length = Varint(&compressed);
    if (!length) return s;
    total = *length;
  } else if (head[0] != kNoCompression) {
    return s;
  }

  // The filter block, stored raw (LevelDB loads the one its policy names;
  // the store's tables have one).
  std::string meta;
  if (!ReadExactly(file, metaindex->offset, metaindex->size, &meta, &s)) {
    return s;
  }
  if (std::optional<BlockHandle> filter = FilterHandle(meta)) {
    if (!Within(*filter, size)) return s;
    total += filter->size;
  }
  *bytes = total;
  return s;
}

CacheReservation::CacheReservation(TableMemoryAccount* account, uint64_t bytes)
    : account_(account), bytes_(bytes), id_(account->cache->NewId()) {
  handles_.reserve((bytes + kUnit - 1) / kUnit);
  for (uint64_t left = bytes; left > 0;) {
    const uint64_t charge = std::min(left, kUnit);
    const PlaceholderKey key(id_, handles_.size());
    handles_.push_back(account->cache->Insert(
        key.slice(), nullptr, charge, [](const leveldb::Slice&, void*) {}));
    left -= charge;
  }
  account_->bytes.fetch_add(bytes_, std::memory_order_relaxed);
}

CacheReservation::~CacheReservation() {
  for (size_t unit = 0; unit < handles_.size(); ++unit) {
    // Erased, it no longer counts against the capacity; released, freed.
    account_->cache->Erase(PlaceholderKey(id_, unit).slice());
    account_->cache->Release(handles_[unit]);
  }
  account_->bytes.fetch_sub(bytes_, std::memory_order_relaxed);
}

}  // namespace eddy::store
