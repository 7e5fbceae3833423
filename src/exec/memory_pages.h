// Memory pages of the engine's processes: transparent huge pages off for the driver, on for the
// large arrays a worker fills completely, and for the allocator of a worker that reads the lake,
// when the worker starts just after another one freed its memory and that pays (UseHugePages).
//
// A page fault costs the kernel a trap, a page allocation and a zeroing. With 4 KiB pages a worker
// takes one fault per 4 KiB of fresh memory (150 000 on a one-batch day of the benchmark lake,
// about a quarter of its CPU samples); a 2 MiB page takes one per 2 MiB. But a huge page is zeroed
// whole at the first touch of any byte of it, which is waste wherever memory is touched sparsely,
// as in an allocator's arenas: with huge pages everywhere a worker peaked 740 MiB against 590 MiB
// (docs/engine.md, "Memory pages"). So huge pages go where every byte is written anyway: the
// arrays a worker places its input rows in (AllocateFilledBuffer); and to the allocator of a
// worker that decodes lake files, where the faults saved outweigh the bytes zeroed for nothing
// (WorkerAllocatorSettings).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <arrow/buffer.h>

#include "common/status.h"

namespace intraday {

/// Turns transparent huge pages off for this process and the workers it starts (the setting is
/// inherited across posix_spawn). Called first thing in main, before Arrow's allocator, which
/// asks for huge pages, maps its first region. A no-op where the kernel lacks the setting.
void DisableTransparentHugePages();

/// In a worker: huge pages stay off except in regions advised for them (AllocateFilledBuffer, and
/// Arrow's allocator's arenas where WorkerAllocatorSettings() lets it advise them: it reads them
/// from the worker's environment when the process starts).
/// Returns false, leaving huge pages off everywhere, where the kernel cannot make that exception
/// (before Linux 6.18).
bool AllowHugePagesWhereAdvised();

/// Added to every worker's environment (exec/process.h SpawnProcess), replacing the user's values:
/// Arrow's allocator in a worker is jemalloc (ARROW_DEFAULT_MEMORY_POOL), in one arena
/// (JE_ARROW_MALLOC_CONF narenas:1), which Arrow reads when the process starts. Until session 22
/// it was mimalloc, Arrow's default (the driver's still), keeping the pages it freed
/// (MIMALLOC_PURGE_DELAY=-1): over a sliced day's slices its resident memory grew by ~60 MB past
/// what it held (a 200-listing day: 190 -> 258 MiB of anonymous memory at the slices' ends), where
/// jemalloc's stays level. Measured (docs/benchmarks.md, "Session 22"): tree peak -14% on 50 x 8
/// and 200 x 2 days, the same on 25 x 2; wall time within 0.996-1.03 of mimalloc's.
/// jemalloc advises its regions for huge pages with thp:always: for a worker that reads lake files
/// (`reads_lake`) and may use huge pages (`huge_pages`, MemoryJustFreed). Such a worker decodes a
/// whole day's Parquet through the allocator (the reader's page and value buffers, then the day
/// file's encoder) and took about 48 000 faults on 4 KiB pages on a one-batch day of the
/// benchmark lake, 16 000 with huge pages (docs/benchmarks.md, "Session 10"). A worker reading
/// spill files allocates little through it: no faster there.
inline std::vector<std::string> WorkerAllocatorSettings(bool reads_lake, bool huge_pages) {
  return {"ARROW_DEFAULT_MEMORY_POOL=jemalloc", reads_lake && huge_pages
                                                    ? "JE_ARROW_MALLOC_CONF=narenas:1,thp:always"
                                                    : "JE_ARROW_MALLOC_CONF=narenas:1"};
}

/// How long memory a worker frees at its exit stays cheap to take again (below).
inline constexpr std::chrono::milliseconds kFreedMemoryStaysWarm{1000};

/// Whether the next worker may use huge pages (Task::huge_pages): only if a worker exited less
/// than kFreedMemoryStaysWarm before `now`. Huge pages pay where the memory a process touches
/// first was freed a moment before: zeroing it costs ~10 GB/s in 2 MiB pages against ~2.5 GB/s
/// in 4 KiB pages. But on a virtual machine whose balloon hands free memory back to the host
/// after a few seconds (free page reporting), a first touch of memory the host took back costs
/// ~0.5 GB/s in 2 MiB pages, and still ~2.5 GB/s in 4 KiB pages (bench/fault_cost.c). A run's
/// first workers, or any after a pause, start on such memory; the later ones mostly take what the
/// workers before them freed. Measured on the benchmark lakes (docs/benchmarks.md, "Session 11"):
/// a one-day run after a 10 s pause 1.08 -> 0.70 s wall; 50 x 8 days -3%, 200 x 2 days -4%
/// (-7% after a pause).
inline bool MemoryJustFreed(const std::optional<std::chrono::steady_clock::time_point>& last_worker_exit,
                            std::chrono::steady_clock::time_point now) {
  return last_worker_exit.has_value() && now - *last_worker_exit < kFreedMemoryStaysWarm;
}

/// Days of a pass that must follow a worker's day for it to switch from 4 KiB to huge pages.
inline constexpr int kDaysThatRepayHugePages = 2;

/// Whether the next worker uses huge pages (Task::huge_pages): only on memory just freed
/// (MemoryJustFreed), and only where that memory is free in whole 2 MiB blocks or enough work
/// follows to repay taking such blocks cold. A worker in 4 KiB pages frees 4 KiB pages scattered
/// among the page cache's and other processes' pages, which rarely make whole 2 MiB blocks: the
/// next worker in huge pages then takes blocks the host took back (~0.45 GB/s to zero, against
/// ~2 GB/s in 4 KiB pages: bench/fault_cost.c run in 4 KiB pages, then in 2 MiB pages), while one
/// following a worker in huge pages takes its blocks warm (6-11 GB/s). So the first switch to huge
/// pages costs one slow worker and pays only through the workers after it: it is made when at
/// least kDaysThatRepayHugePages days of the pass follow the worker's day (`days_after`), and kept
/// while workers in huge pages follow one another (`last_worker_huge`). Measured
/// (docs/benchmarks.md, "Session 12"): 100 listings x 2 days (a second worker of 770 MiB in cold huge pages,
/// 46% of its samples zeroing pages) -18% wall; 50 x 4 and 50 x 8 days keep huge pages (4 KiB pages
/// throughout: +15% wall).
inline bool UseHugePages(const std::optional<std::chrono::steady_clock::time_point>& last_worker_exit,
                         bool last_worker_huge, int days_after, std::chrono::steady_clock::time_point now) {
  if (!MemoryJustFreed(last_worker_exit, now)) return false;
  return last_worker_huge || days_after >= kDaysThatRepayHugePages;
}

/// A mutable buffer of `size` bytes, for an array the caller writes in full before reading it.
/// Its memory is the kernel's fresh (zeroed) pages, mapped for this buffer alone and unmapped
/// with it; large ones are aligned to 2 MiB and their whole 2 MiB pages advised as huge pages
/// (effective after AllowHugePagesWhereAdvised). Small sizes come from Arrow's allocator.
Result<std::shared_ptr<arrow::Buffer>> AllocateFilledBuffer(int64_t size);

/// Drops the pages of [begin, end) from this process's page tables, so they no longer count in
/// its RSS: whole pages from the one holding `begin` to the one holding `end`, excluded. Only for
/// a read-only mapping of a file: a page read again afterwards faults back in from the page cache
/// with the same bytes, so a page shared with data still in use costs a fault, never a wrong
/// byte. (On private anonymous memory the same call would zero the pages.) Returns the bytes of
/// the pages dropped.
int64_t DropFilePages(const uint8_t* begin, const uint8_t* end);

/// Sizes from which AllocateFilledBuffer maps memory of its own (below: Arrow's allocator).
inline constexpr int64_t kHugePageBytes = int64_t{2} << 20;
inline constexpr int64_t kMinMappedBufferBytes = kHugePageBytes;

}  // namespace intraday
