// What of the machine this process may use: CPUs and memory, as far as its CPU affinity and its
// control group (cgroup v2 or v1: the limits of a container or of a batch scheduler's job) allow.
// `workers: auto` and the threads of a run are sized from this, not from the host's totals: in a
// container of 4 GiB on a host of 256 GiB, workers sized by the host's RAM would be killed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace intraday {

struct MachineLimits {
  int cores = 1;              // CPUs this process may keep busy at once, at least 1
  uint64_t memory_bytes = 0;  // memory it may use: the RAM, or less under a cgroup limit
  std::string cores_source;   // why: "2 online CPUs", "CPU affinity", "cgroup /job cpu.max"
  std::string memory_source;  // why: "RAM", "cgroup /job memory.max"
};

/// Where the limits are read from: the real files, or a fake tree in tests.
struct MachineFacts {
  std::string proc_self_cgroup = "/proc/self/cgroup";
  std::string cgroup_mount = "/sys/fs/cgroup";  // v2 unified here, or v1 controllers below it
  int online_cores = 1;
  int affinity_cores = 0;  // CPUs in this process's affinity mask; 0: unknown
  uint64_t ram_bytes = 0;
};

/// The limits under `facts`: cores = min(online, affinity, ceil(cgroup CPU quota)); memory =
/// min(RAM, the smallest memory limit of the process's cgroup and its ancestors). Files that are
/// absent or unreadable impose no limit.
MachineLimits ReadMachineLimits(const MachineFacts& facts);

/// The limits of this process (read once; later calls return the first answer).
const MachineLimits& ThisMachine();

/// A cgroup memory limit file: v2 `memory.max` ("max" or bytes) or v1 `memory.limit_in_bytes`
/// (bytes; values of 2^62 and more mean no limit). std::nullopt: no limit or not a number.
std::optional<uint64_t> ParseCgroupMemoryLimit(std::string_view text);

/// A cgroup v2 `cpu.max` ("max 100000" or "QUOTA PERIOD"): CPUs as quota / period rounded up.
std::optional<int> ParseCgroupCpuMax(std::string_view text);

}  // namespace intraday
