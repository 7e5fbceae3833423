// Which malloc this process runs on. The release binary links jemalloc as its allocator (CMake
// option INTRADAY_JEMALLOC; not with the sanitizers, which bring their own): a worker's own
// allocations (vectors, per-listing views, Arrow objects) then no longer go through glibc's
// malloc, whose locking and trimming cost a 200-listing day's worker ~4% of its CPU
// (docs/benchmarks.md, "Session 26"). Arrow's buffers have their own pool either way
// (exec/memory_pages.h).
#pragma once

#include <string>

namespace intraday {

/// "jemalloc <version>" where jemalloc is this process's malloc, else "system malloc". Recorded
/// in the run report (`machine.allocator`) and printed by `intraday --version`.
std::string ProcessAllocator();

}  // namespace intraday
