#include "common/machine.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace intraday {
namespace {

namespace fs = std::filesystem;
constexpr uint64_t kGiB = uint64_t{1} << 30;

/// A fake /proc/self/cgroup and cgroup mount under a temporary directory: 8 online CPUs, 16 GiB
/// of RAM, the process in cgroup `self` (the file's text), `files` under the mount.
class FakeMachine {
 public:
  FakeMachine(const std::string& self, std::initializer_list<std::pair<std::string, std::string>> files) {
    root_ = fs::temp_directory_path() /
            ("intraday-machine-test-" +
             std::string(testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "cgroup");
    facts_.proc_self_cgroup = (root_ / "proc-self-cgroup").string();
    facts_.cgroup_mount = (root_ / "cgroup").string();
    facts_.online_cores = 8;
    facts_.ram_bytes = 16 * kGiB;
    Write(root_ / "proc-self-cgroup", self);
    for (const auto& [relative, text] : files) Write(root_ / "cgroup" / relative, text + "\n");
  }
  ~FakeMachine() { fs::remove_all(root_); }

  MachineLimits Limits(int affinity_cores = 0) {
    facts_.affinity_cores = affinity_cores;
    return ReadMachineLimits(facts_);
  }

 private:
  static void Write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }

  fs::path root_;
  MachineFacts facts_;
};

std::string Bytes(uint64_t n) { return std::to_string(n); }

void ExpectLimits(const MachineLimits& limits, int cores, const std::string& cores_source, uint64_t memory,
                  const std::string& memory_source) {
  EXPECT_EQ(limits.cores, cores);
  EXPECT_EQ(limits.cores_source, cores_source);
  EXPECT_EQ(limits.memory_bytes, memory);
  EXPECT_EQ(limits.memory_source, memory_source);
}

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
  const MachineLimits limits = FakeMachine("0::/\n", {{"cgroup.controllers", "cpu memory"}}).Limits();
  ExpectLimits(limits, 8, "8 online CPUs", 16 * kGiB, "RAM");
}

TEST(MachineLimitsTest, CgroupV2TakesTheSmallestLimitOfTheCgroupAndItsAncestors) {
  const MachineLimits limits = FakeMachine("0::/jobs/job-7\n", {{"cgroup.controllers", "cpu memory"},
                                                                {"memory.max", "max"},
                                                                {"jobs/memory.max", Bytes(4 * kGiB)},
                                                                {"jobs/job-7/memory.max", "max"},
                                                                {"jobs/cpu.max", "max 100000"},
                                                                {"jobs/job-7/cpu.max", "250000 100000"}})
                                   .Limits();
  ExpectLimits(limits, 3, "cgroup /jobs/job-7 cpu.max", 4 * kGiB, "cgroup /jobs memory.max");
}

TEST(MachineLimitsTest, CgroupV2InItsOwnNamespaceReadsTheMountsRoot) {
  // A container's cgroup namespace: /proc/self/cgroup may name a path of the host's hierarchy,
  // absent from the container's mount, whose root is the container's cgroup.
  const MachineLimits limits =
      FakeMachine("0::/system.slice/docker-1234.scope\n",
                  {{"cgroup.controllers", "cpu memory"}, {"memory.max", Bytes(2 * kGiB)}})
          .Limits();
  ExpectLimits(limits, 8, "8 online CPUs", 2 * kGiB, "cgroup / memory.max");
}

TEST(MachineLimitsTest, CgroupV1ReadsTheMemoryAndCpuHierarchies) {
  const MachineLimits limits = FakeMachine("5:memory:/batch/task\n2:cpu,cpuacct:/batch/task\n0::/\n",
                                           {{"memory/memory.limit_in_bytes", "9223372036854771712"},
                                            {"memory/batch/task/memory.limit_in_bytes", Bytes(3 * kGiB)},
                                            {"cpu,cpuacct/batch/task/cpu.cfs_quota_us", "-1"},
                                            {"cpu,cpuacct/batch/task/cpu.cfs_period_us", "100000"},
                                            {"cpu,cpuacct/batch/cpu.cfs_quota_us", "400000"},
                                            {"cpu,cpuacct/batch/cpu.cfs_period_us", "100000"}})
                                   .Limits(/*affinity_cores=*/6);
  ExpectLimits(limits, 4, "cgroup /batch cpu.cfs_quota_us", 3 * kGiB,
               "cgroup /batch/task memory.limit_in_bytes");
}

TEST(MachineLimitsTest, AffinityBelowTheCgroupQuotaLimitsTheCores) {
  const MachineLimits limits =
      FakeMachine("0::/\n", {{"cgroup.controllers", "cpu memory"}, {"cpu.max", "400000 100000"}})
          .Limits(/*affinity_cores=*/2);
  ExpectLimits(limits, 2, "CPU affinity: 2 CPUs", 16 * kGiB, "RAM");
}

TEST(MachineLimitsTest, AMemoryLimitAboveTheRamIsTheRam) {
  const MachineLimits limits =
      FakeMachine("0::/\n", {{"cgroup.controllers", "memory"}, {"memory.max", Bytes(64 * kGiB)}}).Limits();
  ExpectLimits(limits, 8, "8 online CPUs", 16 * kGiB, "RAM");
}

// Callers size thread pools and worker counts by `cores` without checking it: it is never 0,
// even for a quota of a hundredth of a CPU.
TEST(MachineLimitsTest, ATinyCpuQuotaStillGivesACore) {
  const MachineLimits limits =
      FakeMachine("0::/\n", {{"cgroup.controllers", "cpu"}, {"cpu.max", "1000 100000"}}).Limits();
  EXPECT_EQ(limits.cores, 1);
  EXPECT_EQ(limits.cores_source, "cgroup / cpu.max");
}

TEST(MachineLimitsTest, ThisMachineHasACoreAndMemory) {
  const MachineLimits& limits = ThisMachine();
  EXPECT_GE(limits.cores, 1);
  EXPECT_GT(limits.memory_bytes, uint64_t{0});
  EXPECT_EQ(&limits, &ThisMachine());  // read once
}

}  // namespace
}  // namespace intraday
