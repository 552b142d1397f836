#pragma once

#include <leveldb/env.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <shared_mutex>

namespace eddy::store {

// A LevelDB Env whose background work (memtable flushes and compactions)
// hands the CPU back to the request threads after every `yield_bytes` of
// table file it writes, by calling `yield` (sched_yield by default).
//
// Why: the server's request threads and LevelDB's one background thread
// share the machine's cores. Without yielding, the scheduler lets a
// compaction run for a whole time slice (1-8 ms measured on this 2-core
// machine) while every request on that core waits: under a PutItem load that
// was the whole of the p99 (5-12 ms, against 1.7 ms with no compaction).
// Yielding every 16 KB of output caps such a pause at the time it takes to
// build 16 KB of table. The price: while requests keep a core busy, the
// background thread gets only a few per cent of it (measured over 60 s of
// saturating PutItem), so level-0 files pile up until LevelDB's own write
// throttling (level-0 slowdown and stop) holds writers back and gives it
// the CPU; sustained write saturation is no better than without yielding.
//
// Only table files (*.ldb) are wrapped: the background thread writes them
// (and the opening thread, when recovery turns a log into a table). The
// write-ahead log, written by request threads, and the manifest are not.
std::unique_ptr<leveldb::Env> NewBackgroundYieldingEnv(
    leveldb::Env* base, size_t yield_bytes,
    std::function<void()> yield = nullptr);

// A LevelDB Env whose background work (each Schedule'd run of flushes and
// compactions) holds `gate` shared: whoever holds it exclusively (a
// snapshot copying the files) has LevelDB's files to itself, once the run
// in progress has ended. The thread that runs it is named kLevelDbThreadName
// (LevelDB starts it from whichever thread first schedules work, a
// request's, whose name it would keep: top would show compactions as
// requests).
inline constexpr char kLevelDbThreadName[] = "eddy-leveldb";
std::unique_ptr<leveldb::Env> NewGatedEnv(leveldb::Env* base,
                                          std::shared_mutex* gate);

}  // namespace eddy::store
