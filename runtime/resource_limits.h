// What of the machine the process may use, for the server's defaults: how
// many CPUs (its affinity mask and its cgroup's CPU quota) and how many file
// descriptors.
//
// CPUs: the CPUs in sched_getaffinity's mask (what `taskset` and cpusets
// allow), lowered by the CPU quota of the process's cgroup and of every
// cgroup above it (cgroup v2 cpu.max, v1 cpu.cfs_quota_us / cpu.cfs_period_us,
// as containers set them), rounded up: a quota of 1.5 CPUs gives 2. The
// cgroup directories are found from /proc/self/cgroup and the cgroup mounts
// of /proc/self/mountinfo, so containers with their own cgroup namespace
// and hosts with cgroups mounted elsewhere both work. Files that are
// missing or unreadable count as "no limit".
//
// Thread-safety: functions; CpuProbe::System() reads the live process.
#ifndef EDDY_RUNTIME_RESOURCE_LIMITS_H_
#define EDDY_RUNTIME_RESOURCE_LIMITS_H_

#include <functional>
#include <optional>
#include <string>

namespace eddy::runtime {

// Where ProbeCpus reads from; tests inject fakes.
struct CpuProbe {
  // CPUs in the process's affinity mask; 0 when unknown.
  std::function<int()> affinity_cpus;
  // The contents of a file (/proc/self/cgroup, /proc/self/mountinfo, a
  // cgroup's quota files), or nullopt if it cannot be read.
  std::function<std::optional<std::string>(const std::string& path)> read_file;

  // The real process: sched_getaffinity and the file system.
  static CpuProbe System();
};

struct CpuBudget {
  // CPUs the process may keep busy at once: min(affinity, ceil(quota)), at
  // least 1.
  int cpus = 1;
  int affinity_cpus = 0;   // 0: unknown (then the quota alone decides).
  double quota_cpus = 0;   // 0: no quota.
  std::string quota_file;  // Where the quota was found, when there is one.

  // For the log: "1 CPU in the affinity mask, CPU quota 2.5 (/sys/...)".
  std::string Describe() const;
};

CpuBudget ProbeCpus(const CpuProbe& probe);

// Event-loop threads when none are asked for: one per CPU of the budget, at
// most kMaxDefaultLoopThreads (beyond that LevelDB's single writer, not the
// loops, limits throughput).
inline constexpr int kMaxDefaultLoopThreads = 4;
int DefaultLoopThreads(const CpuBudget& budget);

// Raises the soft limit on open files (RLIMIT_NOFILE) to the hard limit, so
// that connection caps above the usual soft 1024 can be reached. Returns the
// soft limit in effect afterwards (0 if it cannot be read).
long RaiseOpenFileLimit();

// How the open-file limit is shared out (docs/operations.md, "Open
// files"): kOtherDescriptors for logs, listening sockets and workers, and
// kStreamSegmentFiles for the files of closed stream segments kept open
// between reads (one descriptor per shard of every stream being written
// comes on top); then LevelDB's table files, at most kMaxTableFiles and
// leaving kMinConnections for connections; the connections get what
// remains, at most the cap asked for. LevelDB keeps no fewer than
// kMinTableFiles open whatever it is given, nor a server fewer than
// kMinConnections: below 100 + 64 + 74 + 64 descriptors the limit may be
// reached.
inline constexpr long kOtherDescriptors = 100;
inline constexpr int kStreamSegmentFiles = 64;
inline constexpr int kMaxTableFiles = 1000;  // LevelDB's default.
inline constexpr int kMinTableFiles = 74;    // LevelDB raises less to it.
inline constexpr int kMinConnections = 64;
struct DescriptorBudget {
  int table_files = kMaxTableFiles;  // LevelDB's max_open_files.
  int max_connections = 0;
};
// `open_files`: RaiseOpenFileLimit()'s answer (0: unknown, no limit).
DescriptorBudget ShareOpenFiles(long open_files, int max_connections);

}  // namespace eddy::runtime

#endif  // EDDY_RUNTIME_RESOURCE_LIMITS_H_
