// The CPU budget behind `eddy serve`'s default --threads: the affinity mask
// and the cgroup CPU quota, read through an injected probe (fake
// /proc/self/cgroup, /proc/self/mountinfo and quota files).
#include "resource_limits.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <string>

namespace eddy::runtime {
namespace {

using ::testing::HasSubstr;

constexpr char kV2Mount[] =
    "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - "
    "cgroup2 cgroup2 rw,nsdelegate\n";
constexpr char kV1CpuMount[] =
    "35 25 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:9 - cgroup "
    "cgroup rw,cpu,cpuacct\n";
constexpr char kRootMount[] =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 "
    "/dev/sda1 rw\n";

class ResourceLimitsTest : public ::testing::Test {
 protected:
  // The probe sees `affinity_` CPUs and the files in `files_`.
  CpuBudget Probe() {
    CpuProbe probe;
    probe.affinity_cpus = [this] { return affinity_; };
    probe.read_file =
        [this](const std::string& path) -> std::optional<std::string> {
      auto it = files_.find(path);
      if (it == files_.end()) return std::nullopt;
      return it->second;
    };
    return ProbeCpus(probe);
  }

  // A cgroup v2 host: the process in `path`.
  void CgroupV2(const std::string& path) {
    files_["/proc/self/mountinfo"] = std::string(kRootMount) + kV2Mount;
    files_["/proc/self/cgroup"] = "0::" + path + "\n";
  }
  // A cgroup v1 host with cpu and cpuacct mounted together.
  void CgroupV1(const std::string& path) {
    files_["/proc/self/mountinfo"] = std::string(kRootMount) + kV1CpuMount;
    files_["/proc/self/cgroup"] =
        "5:memory:" + path + "\n4:cpu,cpuacct:" + path + "\n1:name=systemd:/\n";
  }

  int affinity_ = 8;
  std::map<std::string, std::string> files_;
};

// Without cgroup files the affinity mask alone decides: `taskset -c 0` gives
// one loop (two loops on one core fight over it).
TEST_F(ResourceLimitsTest, AffinityMaskAloneDecides) {
  affinity_ = 1;
  const CpuBudget budget = Probe();
  EXPECT_EQ(budget.cpus, 1);
  EXPECT_EQ(DefaultLoopThreads(budget), 1);
  EXPECT_EQ(budget.Describe(), "1 CPU in the affinity mask, no CPU quota");
}

// More CPUs than the default's ceiling still give at most four loops.
TEST_F(ResourceLimitsTest, DefaultThreadsAreCappedAtFour) {
  affinity_ = 16;
  const CpuBudget budget = Probe();
  EXPECT_EQ(budget.cpus, 16);
  EXPECT_EQ(DefaultLoopThreads(budget), kMaxDefaultLoopThreads);
}

// cgroup v2 (cpu.max "quota period"): 1.5 CPUs round up to 2.
TEST_F(ResourceLimitsTest, CgroupV2QuotaLowersTheCount) {
  CgroupV2("/system.slice/eddy.service");
  files_["/sys/fs/cgroup/system.slice/eddy.service/cpu.max"] =
      "150000 100000\n";
  const CpuBudget budget = Probe();
  EXPECT_EQ(budget.cpus, 2);
  EXPECT_DOUBLE_EQ(budget.quota_cpus, 1.5);
  EXPECT_EQ(budget.quota_file,
            "/sys/fs/cgroup/system.slice/eddy.service/cpu.max");
  EXPECT_THAT(budget.Describe(), HasSubstr("CPU quota 1.5 (/sys/fs/cgroup/"));
}

// "max" is cgroup v2's "no quota".
TEST_F(ResourceLimitsTest, CgroupV2MaxMeansNoQuota) {
  CgroupV2("/user.slice");
  files_["/sys/fs/cgroup/user.slice/cpu.max"] = "max 100000\n";
  const CpuBudget budget = Probe();
  EXPECT_EQ(budget.cpus, 8);
  EXPECT_EQ(budget.quota_cpus, 0);
}

// A quota on a parent cgroup limits its children too; the lowest wins.
TEST_F(ResourceLimitsTest, ParentCgroupQuotaApplies) {
  CgroupV2("/kubepods/pod1/container");
  files_["/sys/fs/cgroup/kubepods/pod1/container/cpu.max"] = "max 100000\n";
  files_["/sys/fs/cgroup/kubepods/pod1/cpu.max"] = "300000 100000\n";
  files_["/sys/fs/cgroup/kubepods/cpu.max"] = "500000 100000\n";
  EXPECT_EQ(Probe().cpus, 3);
}

// A container with its own cgroup namespace sees itself at "/", and its
// quota in the mount's root directory.
TEST_F(ResourceLimitsTest, NamespacedContainerReadsTheMountRoot) {
  CgroupV2("/");
  files_["/sys/fs/cgroup/cpu.max"] = "100000 100000\n";
  const CpuBudget budget = Probe();
  EXPECT_EQ(budget.cpus, 1);
  EXPECT_EQ(budget.quota_file, "/sys/fs/cgroup/cpu.max");
}

// A mount whose root is the process's own cgroup (a bind mount into a
// container) is read at its mount point.
TEST_F(ResourceLimitsTest, MountRootIsStrippedFromTheCgroupPath) {
  files_["/proc/self/mountinfo"] =
      "40 30 0:26 /docker/abc /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n";
  files_["/proc/self/cgroup"] = "0::/docker/abc\n";
  files_["/sys/fs/cgroup/cpu.max"] = "200000 100000\n";
  EXPECT_EQ(Probe().cpus, 2);
}

// cgroup v1: cpu.cfs_quota_us / cpu.cfs_period_us, under the mount of the
// hierarchy that has the cpu controller; half a CPU still gives one.
TEST_F(ResourceLimitsTest, CgroupV1QuotaIsRead) {
  CgroupV1("/kubepods/pod2");
  files_["/sys/fs/cgroup/cpu,cpuacct/kubepods/pod2/cpu.cfs_quota_us"] =
      "50000\n";
  files_["/sys/fs/cgroup/cpu,cpuacct/kubepods/pod2/cpu.cfs_period_us"] =
      "100000\n";
  const CpuBudget budget = Probe();
  EXPECT_DOUBLE_EQ(budget.quota_cpus, 0.5);
  EXPECT_EQ(budget.cpus, 1);
}

// cgroup v1's -1 is "no quota".
TEST_F(ResourceLimitsTest, CgroupV1MinusOneMeansNoQuota) {
  CgroupV1("/");
  files_["/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us"] = "-1\n";
  files_["/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us"] = "100000\n";
  EXPECT_EQ(Probe().cpus, 8);
}

// The affinity mask caps a generous quota.
TEST_F(ResourceLimitsTest, AffinityCapsAGenerousQuota) {
  affinity_ = 2;
  CgroupV2("/");
  files_["/sys/fs/cgroup/cpu.max"] = "800000 100000\n";
  EXPECT_EQ(Probe().cpus, 2);
}

// Mount points with spaces come escaped in mountinfo.
TEST_F(ResourceLimitsTest, EscapedMountPointsAreDecoded) {
  files_["/proc/self/mountinfo"] =
      "30 23 0:26 / /mnt/my\\040cgroups rw - cgroup2 cgroup2 rw\n";
  files_["/proc/self/cgroup"] = "0::/eddy\n";
  files_["/mnt/my cgroups/eddy/cpu.max"] = "100000 100000\n";
  EXPECT_EQ(Probe().cpus, 1);
}

// Garbage in the files is ignored, not trusted.
TEST_F(ResourceLimitsTest, MalformedFilesMeanNoQuota) {
  CgroupV2("/x");
  files_["/sys/fs/cgroup/x/cpu.max"] = "lots 100000\n";
  EXPECT_EQ(Probe().cpus, 8);
  files_["/sys/fs/cgroup/x/cpu.max"] = "0 100000\n";
  EXPECT_EQ(Probe().cpus, 8);
  files_["/proc/self/mountinfo"] = "not a mountinfo line\n";
  EXPECT_EQ(Probe().cpus, 8);
}

// Nothing known at all: the C++ library's count, never zero.
TEST_F(ResourceLimitsTest, UnknownAffinityFallsBackToHardware) {
  affinity_ = 0;
  EXPECT_GE(Probe().cpus, 1);
}

// The real probe agrees with the process's own affinity mask.
TEST_F(ResourceLimitsTest, SystemProbeSeesThisProcess) {
  const CpuBudget budget = ProbeCpus(CpuProbe::System());
  EXPECT_GE(budget.affinity_cpus, 1);
  EXPECT_GE(budget.cpus, 1);
  EXPECT_LE(budget.cpus, budget.affinity_cpus);
}

// A roomy limit: LevelDB's 1000 table files, 164 for the rest, and the
// connections asked for; or what is left for them, if less.
TEST(ShareOpenFilesTest, RoomyLimitKeepsTablesAndTheConnectionCap) {
  const DescriptorBudget roomy = ShareOpenFiles(20000, 10000);
  EXPECT_EQ(roomy.table_files, 1000);
  EXPECT_EQ(roomy.max_connections, 10000);
  const DescriptorBudget tight = ShareOpenFiles(4096, 10000);
  EXPECT_EQ(tight.table_files, 1000);
  EXPECT_EQ(tight.max_connections, 4096 - 1164);
  EXPECT_EQ(ShareOpenFiles(4096, 16).max_connections, 16);
}

// The usual soft and hard 1024: LevelDB gets what 64 connections and the
// 164 others leave, instead of 1000 that could take them all.
TEST(ShareOpenFilesTest, SmallLimitSharesOutEveryDescriptor) {
  const DescriptorBudget budget = ShareOpenFiles(1024, 10000);
  EXPECT_EQ(budget.table_files, 1024 - 100 - 64 - 64);
  EXPECT_EQ(budget.max_connections, 64);
  EXPECT_EQ(budget.table_files + budget.max_connections + kOtherDescriptors +
                kStreamSegmentFiles,
            1024);
  EXPECT_EQ(ShareOpenFiles(1024, 8).max_connections, 8);
}

// Below what LevelDB and a server can work with, both get their floors.
TEST(ShareOpenFilesTest, TinyLimitGivesTheFloors) {
  const DescriptorBudget budget = ShareOpenFiles(128, 10000);
  EXPECT_EQ(budget.table_files, kMinTableFiles);
  EXPECT_EQ(budget.max_connections, kMinConnections);
}

// An unknown (or unlimited, reported as the largest long) limit changes
// nothing.
TEST(ShareOpenFilesTest, UnknownOrUnlimitedLimitChangesNothing) {
  for (long limit : {0L, std::numeric_limits<long>::max()}) {
    const DescriptorBudget budget = ShareOpenFiles(limit, 10000);
    EXPECT_EQ(budget.table_files, 1000);
    EXPECT_EQ(budget.max_connections, 10000);
  }
}

}  // namespace
}  // namespace eddy::runtime
