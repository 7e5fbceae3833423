#include "common/machine.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace intraday {
namespace {

namespace fs = std::filesystem;
constexpr uint64_t kGiB = uint64_t{1} << 30;

/// A fake /proc/self/cgroup and cgroup mount under a temporary directory.
class FakeMachine {
 public:
  FakeMachine() {
    root_ = fs::temp_directory_path() /
            ("intraday-machine-test-" +
             std::string(testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "cgroup");
    facts_.proc_self_cgroup = (root_ / "proc-self-cgroup").string();
    facts_.cgroup_mount = (root_ / "cgroup").string();
    facts_.online_cores = 8;
    facts_.ram_bytes = 16 * kGiB;
  }
  ~FakeMachine() { fs::remove_all(root_); }

  void Write(const std::string& relative, const std::string& text) {
    const fs::path path = root_ / relative;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }
  MachineFacts& facts() { return facts_; }

 private:
  fs::path root_;
  MachineFacts facts_;
};

TEST(MachineLimitsTest, ParsesCgroupMemoryLimits) {
  EXPECT_EQ(ParseCgroupMemoryLimit("1073741824\n"), kGiB);
  EXPECT_EQ(ParseCgroupMemoryLimit("max\n"), std::nullopt);
  EXPECT_EQ(ParseCgroupMemoryLimit("9223372036854771712\n"), std::nullopt);  // v1: no limit
  EXPECT_EQ(ParseCgroupMemoryLimit("12abc"), std::nullopt);
  EXPECT_EQ(ParseCgroupMemoryLimit(""), std::nullopt);
}

TEST(MachineLimitsTest, ParsesCgroupCpuQuotasRoundedUp) {
  EXPECT_EQ(ParseCgroupCpuMax("max 100000\n"), std::nullopt);
  EXPECT_EQ(ParseCgroupCpuMax("200000 100000\n"), 2);
  EXPECT_EQ(ParseCgroupCpuMax("150000 100000"), 2);
  EXPECT_EQ(ParseCgroupCpuMax("50000 100000"), 1);
  EXPECT_EQ(ParseCgroupCpuMax("100000 0"), std::nullopt);
  EXPECT_EQ(ParseCgroupCpuMax("100000"), std::nullopt);
}

TEST(MachineLimitsTest, WithoutCgroupLimitsTheMachineIsItsCpusAndRam) {
  FakeMachine machine;
  machine.Write("proc-self-cgroup", "0::/\n");
  machine.Write("cgroup/cgroup.controllers", "cpu memory\n");
  const MachineLimits limits = ReadMachineLimits(machine.facts());
  EXPECT_EQ(limits.cores, 8);
  EXPECT_EQ(limits.cores_source, "8 online CPUs");
  EXPECT_EQ(limits.memory_bytes, 16 * kGiB);
  EXPECT_EQ(limits.memory_source, "RAM");
}

TEST(MachineLimitsTest, CgroupV2TakesTheSmallestLimitOfTheCgroupAndItsAncestors) {
  FakeMachine machine;
  machine.Write("proc-self-cgroup", "0::/jobs/job-7\n");
  machine.Write("cgroup/cgroup.controllers", "cpu memory\n");
  machine.Write("cgroup/memory.max", "max\n");
  machine.Write("cgroup/jobs/memory.max", std::to_string(4 * kGiB) + "\n");
  machine.Write("cgroup/jobs/job-7/memory.max", "max\n");
  machine.Write("cgroup/jobs/cpu.max", "max 100000\n");
  machine.Write("cgroup/jobs/job-7/cpu.max", "250000 100000\n");
  const MachineLimits limits = ReadMachineLimits(machine.facts());
  EXPECT_EQ(limits.memory_bytes, 4 * kGiB);
  EXPECT_EQ(limits.memory_source, "cgroup /jobs memory.max");
  EXPECT_EQ(limits.cores, 3);
  EXPECT_EQ(limits.cores_source, "cgroup /jobs/job-7 cpu.max");
}

TEST(MachineLimitsTest, CgroupV2InItsOwnNamespaceReadsTheMountsRoot) {
  // A container's cgroup namespace: /proc/self/cgroup may name a path of the host's hierarchy,
  // absent from the container's mount, whose root is the container's cgroup.
  FakeMachine machine;
  machine.Write("proc-self-cgroup", "0::/system.slice/docker-1234.scope\n");
  machine.Write("cgroup/cgroup.controllers", "cpu memory\n");
  machine.Write("cgroup/memory.max", std::to_string(2 * kGiB) + "\n");
  const MachineLimits limits = ReadMachineLimits(machine.facts());
  EXPECT_EQ(limits.memory_bytes, 2 * kGiB);
  EXPECT_EQ(limits.memory_source, "cgroup / memory.max");
}

TEST(MachineLimitsTest, CgroupV1ReadsTheMemoryAndCpuHierarchies) {
  FakeMachine machine;
  machine.Write("proc-self-cgroup", "5:memory:/batch/task\n2:cpu,cpuacct:/batch/task\n0::/\n");
  machine.Write("cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
  machine.Write("cgroup/memory/batch/task/memory.limit_in_bytes", std::to_string(3 * kGiB) + "\n");
  machine.Write("cgroup/cpu,cpuacct/batch/task/cpu.cfs_quota_us", "-1\n");
  machine.Write("cgroup/cpu,cpuacct/batch/task/cpu.cfs_period_us", "100000\n");
  machine.Write("cgroup/cpu,cpuacct/batch/cpu.cfs_quota_us", "400000\n");
  machine.Write("cgroup/cpu,cpuacct/batch/cpu.cfs_period_us", "100000\n");
  machine.facts().affinity_cores = 6;
  const MachineLimits limits = ReadMachineLimits(machine.facts());
  EXPECT_EQ(limits.memory_bytes, 3 * kGiB);
  EXPECT_EQ(limits.memory_source, "cgroup /batch/task memory.limit_in_bytes");
  EXPECT_EQ(limits.cores, 4);
  EXPECT_EQ(limits.cores_source, "cgroup /batch cpu.cfs_quota_us");
}

TEST(MachineLimitsTest, AffinityBelowTheCgroupQuotaLimitsTheCores) {
  FakeMachine machine;
  machine.Write("proc-self-cgroup", "0::/\n");
  machine.Write("cgroup/cgroup.controllers", "cpu memory\n");
  machine.Write("cgroup/cpu.max", "400000 100000\n");
  machine.facts().affinity_cores = 2;
  const MachineLimits limits = ReadMachineLimits(machine.facts());
  EXPECT_EQ(limits.cores, 2);
  EXPECT_EQ(limits.cores_source, "CPU affinity: 2 CPUs");
}

TEST(MachineLimitsTest, AMemoryLimitAboveTheRamIsTheRam) {
  FakeMachine machine;
  machine.Write("proc-self-cgroup", "0::/\n");
  machine.Write("cgroup/cgroup.controllers", "memory\n");
  machine.Write("cgroup/memory.max", std::to_string(64 * kGiB) + "\n");
  const MachineLimits limits = ReadMachineLimits(machine.facts());
  EXPECT_EQ(limits.memory_bytes, 16 * kGiB);
  EXPECT_EQ(limits.memory_source, "RAM");
}

TEST(MachineLimitsTest, ThisMachineHasACoreAndMemory) {
  const MachineLimits& limits = ThisMachine();
  EXPECT_GE(limits.cores, 1);
  EXPECT_GT(limits.memory_bytes, uint64_t{0});
  EXPECT_EQ(&limits, &ThisMachine());  // read once
}

}  // namespace
}  // namespace intraday
