// The pages of a memory-mapped lake file (io/lake.cc maps local files) that a reader has read:
// let go of between reads, they leave the process's resident memory and stay in the page cache.
#pragma once

#include <cstdint>

#include <arrow/io/interfaces.h>

namespace intraday {

/// Unmaps from this process the pages of `file` read so far, where it is a local file mapped
/// whole (arrow::io::MemoryMappedFile); a no-op for any other file. The mapping stays: a later
/// read maps the pages it touches again, from the page cache, with their contents (a read-only
/// file mapping, MADV_DONTNEED). A reader that goes on with a row group in a later time slice
/// would otherwise keep every page it has passed resident until the row group's end (a 200-listing
/// day's worker: mapped files at its peak 64 -> 52 MB, docs/benchmarks.md "Session 22"). Returns
/// the bytes of the mapping let go of (its whole length), 0 where nothing was done.
int64_t ReleaseReadPages(arrow::io::RandomAccessFile* file);

}  // namespace intraday
