#include "common/machine.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <fmt/format.h>

namespace intraday {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> ReadSmallFile(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return s;
}

std::optional<uint64_t> ParseUnsigned(std::string_view s) {
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

/// The process's cgroup path for a v1 controller ("memory", "cpu"), or for v2 (controller "").
std::optional<std::string> CgroupPath(const std::string& proc_self_cgroup, std::string_view controller) {
  std::istringstream lines(proc_self_cgroup);
  std::string line;
  while (std::getline(lines, line)) {
    const size_t first = line.find(':');
    const size_t second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    const std::string_view controllers = std::string_view(line).substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    if (controller.empty()) {
      if (line.compare(0, first, "0") == 0 && controllers.empty()) return path;
      continue;
    }
    size_t at = 0;
    while (at <= controllers.size()) {
      const size_t comma = std::min(controllers.find(',', at), controllers.size());
      if (controllers.substr(at, comma - at) == controller) return path;
      at = comma + 1;
    }
  }
  return std::nullopt;
}

/// The directories from the process's cgroup up to the hierarchy's root, each with its path as
/// the process sees it. In a container with its own cgroup namespace the hierarchy's root is the
/// container's cgroup, and a path from the host's view may not exist there: then the root alone.
std::vector<std::pair<fs::path, std::string>> CgroupChain(const fs::path& root, const std::string& path) {
  std::vector<std::pair<fs::path, std::string>> chain;
  std::error_code ec;
  fs::path relative = fs::path(path).relative_path();
  if (!fs::is_directory(root / relative, ec)) relative.clear();
  while (true) {
    chain.emplace_back(root / relative, "/" + relative.generic_string());
    if (relative.empty()) break;
    relative = relative.parent_path();
  }
  return chain;
}

struct Limit {
  uint64_t value;
  std::string where;  // "/job" (the cgroup's path)
};

/// The smallest limit along the chain, read by `read` from each directory.
template <typename Read>
std::optional<Limit> SmallestLimit(const fs::path& root, const std::string& path, Read read) {
  std::optional<Limit> smallest;
  for (const auto& [dir, shown] : CgroupChain(root, path)) {
    const std::optional<uint64_t> value = read(dir);
    if (value && (!smallest || *value < smallest->value)) smallest = Limit{*value, shown};
  }
  return smallest;
}

}  // namespace

std::optional<uint64_t> ParseCgroupMemoryLimit(std::string_view text) {
  text = Trim(text);
  if (text == "max") return std::nullopt;
  const std::optional<uint64_t> value = ParseUnsigned(text);
  // cgroup v1 writes "no limit" as the largest page-aligned signed 64-bit value.
  if (!value || *value >= (uint64_t{1} << 62)) return std::nullopt;
  return value;
}

std::optional<int> ParseCgroupCpuMax(std::string_view text) {
  text = Trim(text);
  const size_t space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const std::optional<uint64_t> quota = ParseUnsigned(text.substr(0, space));
  const std::optional<uint64_t> period = ParseUnsigned(Trim(text.substr(space + 1)));
  if (!quota || !period || *period == 0) return std::nullopt;
  return static_cast<int>(std::max<uint64_t>(1, (*quota + *period - 1) / *period));
}

MachineLimits ReadMachineLimits(const MachineFacts& facts) {
  MachineLimits limits;
  limits.cores = std::max(1, facts.online_cores);
  limits.cores_source = fmt::format("{} online CPUs", limits.cores);
  if (facts.affinity_cores > 0 && facts.affinity_cores < limits.cores) {
    limits.cores = facts.affinity_cores;
    limits.cores_source = fmt::format("CPU affinity: {} CPUs", limits.cores);
  }
  limits.memory_bytes = facts.ram_bytes;
  limits.memory_source = "RAM";

  const std::string self = ReadSmallFile(facts.proc_self_cgroup).value_or("");
  const fs::path mount(facts.cgroup_mount);
  std::error_code ec;
  std::optional<Limit> memory;
  std::optional<Limit> cpus;
  std::string memory_file;
  std::string cpu_file;
  if (fs::exists(mount / "cgroup.controllers", ec)) {  // v2, unified
    if (const auto path = CgroupPath(self, "")) {
      memory = SmallestLimit(mount, *path, [](const fs::path& dir) -> std::optional<uint64_t> {
        const auto text = ReadSmallFile(dir / "memory.max");
        return text ? ParseCgroupMemoryLimit(*text) : std::nullopt;
      });
      cpus = SmallestLimit(mount, *path, [](const fs::path& dir) -> std::optional<uint64_t> {
        const auto text = ReadSmallFile(dir / "cpu.max");
        const std::optional<int> n = text ? ParseCgroupCpuMax(*text) : std::nullopt;
        return n ? std::optional<uint64_t>(static_cast<uint64_t>(*n)) : std::nullopt;
      });
      memory_file = "memory.max";
      cpu_file = "cpu.max";
    }
  } else {  // v1: one hierarchy per controller
    if (const auto path = CgroupPath(self, "memory"); path && fs::is_directory(mount / "memory", ec)) {
      memory = SmallestLimit(mount / "memory", *path, [](const fs::path& dir) -> std::optional<uint64_t> {
        const auto text = ReadSmallFile(dir / "memory.limit_in_bytes");
        return text ? ParseCgroupMemoryLimit(*text) : std::nullopt;
      });
      memory_file = "memory.limit_in_bytes";
    }
    for (const char* dir_name : {"cpu", "cpu,cpuacct"}) {
      const auto path = CgroupPath(self, "cpu");
      if (!path || !fs::is_directory(mount / dir_name, ec)) continue;
      cpus = SmallestLimit(mount / dir_name, *path, [](const fs::path& dir) -> std::optional<uint64_t> {
        const auto quota = ReadSmallFile(dir / "cpu.cfs_quota_us");
        const auto period = ReadSmallFile(dir / "cpu.cfs_period_us");
        if (!quota || !period || Trim(*quota).starts_with('-')) return std::nullopt;
        const std::optional<int> n =
            ParseCgroupCpuMax(std::string(Trim(*quota)) + " " + std::string(Trim(*period)));
        return n ? std::optional<uint64_t>(static_cast<uint64_t>(*n)) : std::nullopt;
      });
      cpu_file = "cpu.cfs_quota_us";
      break;
    }
  }
  if (memory && (limits.memory_bytes == 0 || memory->value < limits.memory_bytes)) {
    limits.memory_bytes = memory->value;
    limits.memory_source = fmt::format("cgroup {} {}", memory->where, memory_file);
  }
  if (cpus && static_cast<int>(cpus->value) < limits.cores) {
    limits.cores = static_cast<int>(cpus->value);
    limits.cores_source = fmt::format("cgroup {} {}", cpus->where, cpu_file);
  }
  return limits;
}

const MachineLimits& ThisMachine() {
  static const MachineLimits limits = [] {
    MachineFacts facts;
    facts.online_cores = static_cast<int>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof(set), &set) == 0) facts.affinity_cores = CPU_COUNT(&set);
    facts.ram_bytes =
        static_cast<uint64_t>(::sysconf(_SC_PHYS_PAGES)) * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    return ReadMachineLimits(facts);
  }();
  return limits;
}

}  // namespace intraday
