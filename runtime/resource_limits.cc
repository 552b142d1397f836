#include "resource_limits.h"

#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <limits>
#include <string_view>
#include <thread>
#include <vector>

namespace eddy::runtime {
namespace {

std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(separator, start);
    if (end == std::string_view::npos) end = text.size();
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

bool HasToken(std::string_view list, std::string_view token) {
  for (std::string_view item : Split(list, ',')) {
    if (item == token) return true;
  }
  return false;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string Unescape(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size() &&
        std::all_of(text.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                    text.begin() + static_cast<std::ptrdiff_t>(i) + 4,
                    [](char c) { return c >= '0' && c <= '7'; })) {
      out.push_back(static_cast<char>((text[i + 1] - '0') * 64 +
                                      (text[i + 2] - '0') * 8 +
                                      (text[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::optional<double> ParseNumber(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  if (text.empty()) return std::nullopt;
  std::string copy(text);
  char* end = nullptr;
  const double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) return std::nullopt;
  return value;
}

// A cgroup hierarchy that may hold CPU quotas.
struct Hierarchy {
  bool v2 = false;
  std::string mount_point;
  std::string directory;  // The process's cgroup in it.
};

// The process's cgroup path in the v2 hierarchy and in the v1 hierarchy
// with the cpu controller (either may be absent).
struct CgroupPaths {
  std::optional<std::string> v2;
  std::optional<std::string> v1_cpu;
};

CgroupPaths ParseProcCgroup(std::string_view text) {
  CgroupPaths paths;
  for (std::string_view line : Split(text, '\n')) {
    const size_t first = line.find(':');
    if (first == std::string_view::npos) continue;
    const size_t second = line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    const std::string_view id = line.substr(0, first);
    const std::string_view controllers =
        line.substr(first + 1, second - first - 1);
    const std::string path(line.substr(second + 1));
    if (id == "0" && controllers.empty()) {
      paths.v2 = path;
    } else if (HasToken(controllers, "cpu")) {
      paths.v1_cpu = path;
    }
  }
  return paths;
}

// Joins a mount point and the part of `path` below the mount's root.
std::string DirectoryIn(const std::string& mount_point, std::string_view root,
                        std::string_view path) {
  if (root == "/") root = "";
  std::string_view relative;
  if (path.substr(0, root.size()) == root &&
      (path.size() == root.size() || path[root.size()] == '/')) {
    relative = path.substr(root.size());
  }
  // Otherwise the process's cgroup is outside what is mounted (a namespace
  // that hides it): the mount's own root is the best guess.
  std::string dir = mount_point;
  if (!relative.empty() && relative != "/") {
    if (!dir.empty() && dir.back() == '/') dir.pop_back();
    dir.append(relative);
  }
  return dir;
}

std::vector<Hierarchy> FindHierarchies(const CpuProbe& probe) {
  std::vector<Hierarchy> found;
  const std::optional<std::string> cgroup =
      probe.read_file("/proc/self/cgroup");
  const std::optional<std::string> mounts =
      probe.read_file("/proc/self/mountinfo");
  if (!cgroup || !mounts) return found;
  const CgroupPaths paths = ParseProcCgroup(*cgroup);
  for (std::string_view line : Split(*mounts, '\n')) {
    // id parent major:minor root mount-point options [optional...] - type
    // source super-options
    const size_t dash = line.find(" - ");
    if (dash == std::string_view::npos) continue;
    const std::vector<std::string_view> before =
        Split(line.substr(0, dash), ' ');
    const std::vector<std::string_view> after =
        Split(line.substr(dash + 3), ' ');
    if (before.size() < 5 || after.size() < 3) continue;
    const std::string root = Unescape(before[3]);
    const std::string mount_point = Unescape(before[4]);
    if (after[0] == "cgroup2" && paths.v2) {
      found.push_back(
          {true, mount_point, DirectoryIn(mount_point, root, *paths.v2)});
    } else if (after[0] == "cgroup" && HasToken(after[2], "cpu") &&
               paths.v1_cpu) {
      found.push_back(
          {false, mount_point, DirectoryIn(mount_point, root, *paths.v1_cpu)});
    }
  }
  return found;
}

// The quota of one cgroup directory in CPUs, if it has one.
std::optional<double> QuotaOf(const CpuProbe& probe, const Hierarchy& h,
                              const std::string& dir, std::string* file) {
  if (h.v2) {
    *file = dir + "/cpu.max";
    const std::optional<std::string> text = probe.read_file(*file);
    if (!text) return std::nullopt;
    const std::vector<std::string_view> fields = Split(*text, ' ');
    if (fields.size() != 2 || fields[0] == "max") return std::nullopt;
    const std::optional<double> quota = ParseNumber(fields[0]);
    const std::optional<double> period = ParseNumber(fields[1]);
    if (!quota || !period || *quota <= 0 || *period <= 0) return std::nullopt;
    return *quota / *period;
  }
  *file = dir + "/cpu.cfs_quota_us";
  const std::optional<std::string> quota_text = probe.read_file(*file);
  const std::optional<std::string> period_text =
      probe.read_file(dir + "/cpu.cfs_period_us");
  if (!quota_text || !period_text) return std::nullopt;
  const std::optional<double> quota = ParseNumber(*quota_text);
  const std::optional<double> period = ParseNumber(*period_text);
  if (!quota || !period || *quota <= 0 || *period <= 0) return std::nullopt;
  return *quota / *period;
}

}  // namespace

CpuProbe CpuProbe::System() {
  CpuProbe probe;
  probe.affinity_cpus = [] {
    // Large enough for any machine; CPU_ALLOC sizes the mask.
    constexpr int kMaxCpus = 8192;
    cpu_set_t* set = CPU_ALLOC(kMaxCpus);
    if (set == nullptr) return 0;
    const size_t size = CPU_ALLOC_SIZE(kMaxCpus);
    CPU_ZERO_S(size, set);
    int count = 0;
    if (sched_getaffinity(0, size, set) == 0) count = CPU_COUNT_S(size, set);
    CPU_FREE(set);
    return count;
  };
  probe.read_file = [](const std::string& path) -> std::optional<std::string> {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::string text((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
    if (in.bad()) return std::nullopt;
    return text;
  };
  return probe;
}

CpuBudget ProbeCpus(const CpuProbe& probe) {
  CpuBudget budget;
  budget.affinity_cpus = probe.affinity_cpus ? probe.affinity_cpus() : 0;
  if (probe.read_file) {
    for (const Hierarchy& h : FindHierarchies(probe)) {
      // The process's cgroup and every one above it, up to the mount.
      std::string dir = h.directory;
      for (;;) {
        std::string file;
        const std::optional<double> quota = QuotaOf(probe, h, dir, &file);
        if (quota && (budget.quota_cpus == 0 || *quota < budget.quota_cpus)) {
          budget.quota_cpus = *quota;
          budget.quota_file = file;
        }
        if (dir.size() <= h.mount_point.size()) break;
        const size_t slash = dir.rfind('/');
        if (slash == std::string::npos || slash < h.mount_point.size()) break;
        dir.resize(std::max(slash, h.mount_point.size()));
      }
    }
  }
  int cpus = budget.affinity_cpus;
  if (budget.quota_cpus > 0) {
    const int quota = static_cast<int>(std::ceil(budget.quota_cpus - 1e-9));
    cpus = cpus > 0 ? std::min(cpus, quota) : quota;
  }
  if (cpus <= 0) {
    // Neither is known: what the C++ library sees.
    cpus = static_cast<int>(std::thread::hardware_concurrency());
  }
  budget.cpus = std::max(cpus, 1);
  return budget;
}

std::string CpuBudget::Describe() const {
  std::string text;
  if (affinity_cpus > 0) {
    text = std::to_string(affinity_cpus) +
           (affinity_cpus == 1 ? " CPU" : " CPUs") + " in the affinity mask";
  } else {
    text = "affinity mask unknown";
  }
  if (quota_cpus > 0) {
    char quota[32];
    std::snprintf(quota, sizeof(quota), "%g", quota_cpus);
    text += std::string(", CPU quota ") + quota + " (" + quota_file + ")";
  } else {
    text += ", no CPU quota";
  }
  return text;
}

int DefaultLoopThreads(const CpuBudget& budget) {
  return std::clamp(budget.cpus, 1, kMaxDefaultLoopThreads);
}

long RaiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  if (limit.rlim_cur == RLIM_INFINITY) return std::numeric_limits<long>::max();
  return static_cast<long>(limit.rlim_cur);
}

DescriptorBudget ShareOpenFiles(long open_files, int max_connections) {
  if (open_files <= 0) return {kMaxTableFiles, max_connections};
  const long spare = open_files - kOtherDescriptors - kStreamSegmentFiles;
  const long tables =
      std::clamp<long>(spare - kMinConnections, kMinTableFiles, kMaxTableFiles);
  const long connections = std::max<long>(spare - tables, kMinConnections);
  return {static_cast<int>(tables),
          static_cast<int>(std::min<long>(connections, max_connections))};
}

}  // namespace eddy::runtime
