// TriggerStore: the durable state of triggers, one directory per trigger:
//
//   <data>/triggers/<name>/trigger.json      definition: {"Config":{...},
//                                            "StreamLabel":"...",
//                                            "ShardCount":N,"CreatedMs":T}
//   <data>/triggers/<name>/shard-<i>.checkpoint   "<next sequence>\n"
//                                            ["window <start ms> <end ms>
//                                              <state in hex>\n"]
//
// The optional second line is the open tumbling window of the shard and the
// state its handler returned for the records before the checkpoint: both
// are written together, so after a restart the window resumes with exactly
// the state of the records it will not see again.
//
// Shards roll over (eddy/store/change_stream.h): shard i is the stream's
// shard index, of any generation; a shard gets its checkpoint file when the
// trigger first reads it (a child once its parent is finished), and the
// file goes when the shard is retired. ShardCount is the number of shards
// the stream had when the trigger was created (informational).
//
// A checkpoint holds the sequence number of the next record of shard i the
// trigger has not finished (handled, filtered or dead-lettered): after a
// restart, delivery resumes exactly there, so nothing is skipped and only an
// invocation that was in flight at the crash is repeated (at-least-once, as
// Lambda). Every file is replaced atomically (write a temporary file, fsync,
// rename, fsync the directory), so a crash leaves the old or the new
// version, never a torn one.
//
// Creation writes the checkpoints first and the definition last; deletion
// removes the definition first. A directory without trigger.json is a
// half-created or half-deleted trigger and is removed on load.
//
// Thread-safety: distinct triggers' files may be written concurrently; the
// caller serialises writes to one file.
#ifndef EDDY_RUNTIME_DISPATCHER_TRIGGER_STORE_H_
#define EDDY_RUNTIME_DISPATCHER_TRIGGER_STORE_H_

#include <spdlog/logger.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dispatcher/trigger_config.h"
#include "eddy/result.h"

namespace eddy::runtime::dispatcher {

// An open tumbling window, as a checkpoint keeps it.
struct WindowCheckpoint {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  std::string state;
  bool operator==(const WindowCheckpoint&) const = default;
};

struct StoredTrigger {
  TriggerConfig config;
  std::string stream_label;
  uint32_t shard_count = 0;
  int64_t created_ms = 0;
  // By shard index: the shards the trigger has read.
  std::map<uint32_t, uint64_t> checkpoints;
  // By shard index (LoadAll fills it; Save ignores it).
  std::map<uint32_t, std::optional<WindowCheckpoint>> windows;
};

// Replaces `path` with `contents` atomically (write a temporary file, then
// rename). With `sync` also durably: the file and its directory are fsynced,
// so the new contents survive power loss; without, they survive a crash of
// the process (the kernel has them) but power loss may leave the old ones.
Status WriteFileAtomically(const std::string& path, std::string_view contents,
                           bool sync = true);

class TriggerStore {
 public:
  // `sync_checkpoints`: fsync each checkpoint, as the database fsyncs each
  // write with --sync. Without it a checkpoint survives kill -9 as an
  // acknowledged write does, and power loss may leave an older one (its
  // records are then delivered again: at-least-once). Definitions are
  // always fsynced.
  TriggerStore(std::string dir, bool sync_checkpoints,
               std::shared_ptr<spdlog::logger> logger)
      : dir_(std::move(dir)),
        sync_checkpoints_(sync_checkpoints),
        logger_(std::move(logger)) {}

  // Creates the directory if missing.
  Status Init();
  // Every complete trigger, by name. Damaged files are Corruption.
  Result<std::vector<StoredTrigger>> LoadAll();
  // Writes the checkpoints (if `with_checkpoints`), then the definition.
  Status Save(const StoredTrigger& trigger, bool with_checkpoints);
  Status SaveCheckpoint(
      const std::string& name, uint32_t shard, uint64_t next_sequence,
      const std::optional<WindowCheckpoint>& window = std::nullopt);
  // One shard's checkpoint and open window.
  Status LoadCheckpoint(const std::string& name, uint32_t shard,
                        uint64_t* next_sequence,
                        std::optional<WindowCheckpoint>* window);
  // Forgets a retired shard's checkpoint.
  Status RemoveCheckpoint(const std::string& name, uint32_t shard);
  Status Remove(const std::string& name);

  const std::string& dir() const { return dir_; }

 private:
  std::string TriggerDir(const std::string& name) const {
    return dir_ + "/" + name;
  }

  std::string dir_;
  bool sync_checkpoints_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace eddy::runtime::dispatcher

#endif  // EDDY_RUNTIME_DISPATCHER_TRIGGER_STORE_H_
