// The Bloom filter policy of the store's LevelDB: a filter of the keys the
// store looks up one by one, not of every key.
//
// LevelDB consults a table's filter only in DB::Get, and the store calls
// Get only for items, metadata and applied markers (catalog.h). Index
// entries and point-in-time history are only ever scanned, yet a filter of
// every key gives them ten bits each, held in memory for every open table
// (outside the block cache): with one global secondary index, half the
// filter. This policy leaves them out of the filters it builds, and
// answers "may match" for them without looking — so a Get of such a key
// would still be right, only unfiltered.
//
// The filters are LevelDB's own Bloom filters under LevelDB's own name:
// a table written with the builtin policy (every key) is read correctly by
// this one, which consults its filter only for keys it would have added,
// and a table written by this policy keeps the filter of every key a Get
// has ever been issued for.
//
// Thread-safety: as any leveldb::FilterPolicy (const, shareable).
#ifndef EDDY_STORE_SRC_KEY_FILTER_H_
#define EDDY_STORE_SRC_KEY_FILTER_H_

#include <leveldb/filter_policy.h>
#include <leveldb/slice.h>

#include <memory>

namespace eddy::store {

// True if the store may look `key` up by DB::Get (everything but the
// scanned-only key spaces, so that a key space added later is filtered
// unless it is known not to need it).
bool IsPointReadKey(const leveldb::Slice& key);

std::unique_ptr<const leveldb::FilterPolicy> NewPointReadFilterPolicy(
    int bits_per_key);

}  // namespace eddy::store

#endif  // EDDY_STORE_SRC_KEY_FILTER_H_
