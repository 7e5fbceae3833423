// Bin packing (execution.md): listings -> batches under the per-worker memory budget and the
// optional per-table row caps. A pure function of its inputs: the same sizes and options always
// give the same batches.
//
// Rules:
//   - Units are listings, or with group_by_instrument the groups of listings sharing an
//     InstrumentId (a listing with InstrumentId 0, unknown, is a group of its own). Units are
//     taken in order of their smallest ListingId.
//   - Greedy and contiguous: units go into the current batch while its memory stays <= the budget
//     and its rows of every capped table stay <= the cap; the next unit that would overflow
//     starts a new batch. Without grouping, batches are therefore contiguous runs of the sorted
//     universe, so their sorted outputs concatenate into sorted output. With grouping, a batch
//     holds whole instruments; listings of different instruments interleave in ListingId order,
//     so batches are no longer contiguous ranges and the engine merges the batches' sorted
//     outputs instead of concatenating them.
//   - A unit over the budget, or over a row cap on its own, goes alone into its batch, flagged
//     oversize, with a warning giving its size. A single oversize listing of a pass whose
//     modules stream over time is flagged `streamed`: its worker computes it in time slices
//     within the budget; otherwise the warning says its worker may exceed the budget, and why.
//     Slices bound the input, not the output rows: a listing over the budget only because of
//     its output rows (ListingSize::output_bytes) is not streamed.
//   - Workers that read spill files (gather_threads > 0) copy each listing whose rows are spread
//     over spill files into buffers, one set per thread, each as large as the largest listing
//     it has copied: a batch's memory is its listings' memory plus the input bytes of its
//     gather_threads largest listings (a term of the batch, not of each listing), and a unit
//     alone counts its own largest listings so.
//   - A unit with an unknown size (ListingSize::estimated == false) also goes alone: it is never
//     counted as zero, nor packed with listings whose batch it could push over the budget. If it
//     turns out too large, only its own batch fails.
//   - Batch ids are 0..n-1 in order; each batch's listings are sorted.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "io/table_catalog.h"
#include "plan/day_plan.h"

namespace intraday {

struct PackOptions {
  uint64_t memory_budget = 0;                   // bytes per worker (run.memory_per_worker)
  std::map<Table, int64_t> max_rows_per_table;  // run.max_rows_per_table; absent = no cap
  bool group_by_instrument = false;
  /// Why the pass cannot compute one listing in time slices (StreamBlocker); empty if it can:
  /// an oversize single listing is then flagged `streamed`.
  std::string stream_blocker = "pass modules unknown";
  /// Threads a worker copies listings with (see the rules above); 0: workers read the lake and
  /// copy nothing.
  int gather_threads = 0;
};

struct PackResult {
  std::vector<Batch> batches;
  std::vector<std::string> warnings;  // one per oversize or unknown-size unit
};

/// Packs `sizes` (one per listing, any order: they are taken by ListingId).
PackResult PackListings(std::span<const ListingSize> sizes, const PackOptions& options);

}  // namespace intraday
