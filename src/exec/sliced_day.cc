#include "exec/sliced_day.h"

#include <algorithm>
#include <atomic>
#include <climits>
#include <cmath>
#include <map>
#include <numeric>

#include <fmt/format.h>

#include "exec/day_output.h"
#include "exec/listing_rows.h"
#include "exec/parallel.h"
#include "exec/slice_output.h"
#include "io/group_rows.h"
#include "metrics/listing_slices.h"

namespace intraday {
namespace {

/// A piece's slice runs walked row by row (the task's rows, in piece order): each row's slice.
struct SliceRunCursor {
  size_t next = 0;
  int64_t left = 0;
  int32_t slice = 0;
  /// The next row's slice, or -1 when the runs hold fewer rows than asked for.
  int32_t Next(const std::vector<std::pair<int32_t, int64_t>>& runs) {
    while (left == 0) {
      if (next == runs.size()) return -1;
      slice = runs[next].first;
      left = runs[next++].second;
    }
    --left;
    return slice;
  }
};

/// What the first read of a sliced batch (RunSlicedDirectBatch) keeps of a piece: per row its
/// slot (-1: not a task listing); for the tables modules read, the bucket of each of the task's
/// rows as runs of rows in one bucket, in the piece's order (later: runs of rows in one slice):
/// rows in time order make a run per bucket, so a row's key is its slot alone (RowSlots: 1-4 bytes); per
/// listing the times that give its timeline (the first time of every run of rows in one bucket,
/// and the extremes).
struct PieceKeys {
  RowSlots slot;
  std::vector<std::pair<int32_t, int32_t>> bucket_runs;     // (bucket, rows of the task's listings)
  std::vector<std::pair<int32_t, int64_t>> slice_runs;      // (slice, rows of the task's listings)
  std::vector<std::pair<int32_t, int64_t>> timeline_times;  // (slot, event time)
  std::vector<int64_t> counts;                              // per slot
  int64_t rows_read = 0;
  int64_t null_times = 0;
  bool events = false;                       // of a table some module reads
  int32_t first_slice = 0, last_slice = -1;  // the slices its rows fall in
  /// Per slice from the first, one past its last row of that slice or an earlier one: where a
  /// slice's read of the piece ends (PieceSlots::file_rows).
  std::vector<int64_t> slice_end;
  /// Where the last slice's read ended: its next row, and where slice_runs stand at that row.
  int64_t file_row = 0;
  SliceRunCursor runs;
  /// Its rows of later slices that a slice's read passed (rows out of time order), decoded and
  /// held (PlaceTables' `held`), and their slots and slices.
  std::shared_ptr<arrow::RecordBatch> held;
  std::vector<int32_t> held_slot, held_slice;
  int64_t resumed_reads = 0, held_rows = 0;  // for the run report (TaskResult)
};

/// Every listing's carried rows of a table (rows `rows[l]`, sorted, of view `views[l]`; views
/// share one schema) copied into one batch, listing after listing: a buffer per column, where a
/// copy per listing took several allocations per column, listing and slice (300 listings in 13
/// slices: ~7% of a worker's CPU, most of it freeing them).
Result<CarriedRows> CollectCarriedRows(const std::vector<std::shared_ptr<arrow::RecordBatch>>& views,
                                       const std::vector<std::vector<int64_t>>& rows, int threads) {
  CarriedRows out;
  std::shared_ptr<arrow::Schema> schema;
  std::vector<const arrow::RecordBatch*> batches(views.size(), nullptr);
  out.start.assign(rows.size() + 1, 0);
  for (size_t l = 0; l < rows.size(); ++l) {
    out.start[l + 1] = out.start[l] + static_cast<int64_t>(rows[l].size());
    if (rows[l].empty()) continue;
    batches[l] = views[l].get();
    if (schema == nullptr) schema = views[l]->schema();
  }
  if (out.start.back() == 0) return out;
  std::vector<std::shared_ptr<arrow::Array>> columns(static_cast<size_t>(schema->num_fields()));
  INTRADAY_RETURN_NOT_OK(ParallelFor(columns.size(), threads, [&](size_t c) -> Status {
    INTRADAY_ASSIGN_OR_RAISE(columns[c], CopyColumnRows(batches, rows, static_cast<int>(c)));
    return Status::OK();
  }));
  out.rows = arrow::RecordBatch::Make(schema, out.start.back(), std::move(columns));
  return out;
}

/// Decoded bytes per row of a table as read (a string counted at 16 bytes).
double DecodedRowBytes(const arrow::Schema& schema) {
  double bytes = 0;
  for (const auto& field : schema.fields()) {
    if (field->name() == "ListingId") continue;
    const int width = FixedByteWidth(*field->type());
    bytes += width > 0 ? width : 16;
  }
  return bytes;
}

}  // namespace

std::vector<size_t> EvenSliceCuts(const std::vector<double>& bucket_bytes, double slice_bytes) {
  const size_t m = bucket_bytes.size();
  std::vector<double> before{0};  // before[i]: the bytes of the buckets before bucket i
  for (double bytes : bucket_bytes) before.push_back(before.back() + bytes);
  std::vector<size_t> cuts;
  for (size_t start = 0; start < m;) {
    const double left = before[m] - before[start];
    if (left <= slice_bytes) break;                            // the rest is the last slice
    const double goal = left / std::ceil(left / slice_bytes);  // the slices left, of equal bytes
    size_t end = start + 1;                                    // one past the slice's last bucket
    while (end < m && before[end + 1] - before[start] <= goal) ++end;
    // One bucket more where that comes closer to the goal and still fits.
    if (end < m && before[end + 1] - before[start] <= slice_bytes &&
        before[end + 1] - before[start] - goal < goal - (before[end] - before[start]))
      ++end;
    if (end == m) break;
    cuts.push_back(end);
    start = end;
  }
  return cuts;
}

Result<bool> RunSlicedDirectBatch(const Task& task, const Lake& lake, const Location& scratch,
                                  const std::vector<TableColumns>& columns,
                                  const std::vector<InputPiece>& pieces, const std::vector<size_t>& order,
                                  const ListingDayComputer& computer,
                                  const std::shared_ptr<arrow::Schema>& schema,
                                  std::unique_ptr<OutputChunks>* output, TaskResult* result) {
  const size_t n = task.listings.size();
  const size_t n_tables = columns.size();
  const ListingSlots slot_of = ListingSlots::Numbered(task.listings);
  const TimeGrid& grid = computer.shape().grid;
  const int64_t base_label = grid.LabelOf(task.day.start_ns());

  // 1. Every piece's ListingId and, for the tables modules read, event time.
  std::vector<PieceKeys> keys(pieces.size());
  std::atomic<bool> numbered{true};
  INTRADAY_RETURN_NOT_OK(ParallelFor(pieces.size(), task.threads, [&](size_t k) -> Status {
    const size_t p = order[k];
    const size_t t = pieces[p].table;
    const bool events = computer.is_event_table(t);
    const std::string time_name(SpecOf(columns[t].table).event_time_column);
    std::vector<std::string> read{"ListingId"};
    if (events) read.push_back(time_name);
    INTRADAY_ASSIGN_OR_RAISE(auto reader, PieceInt64Columns::Open(lake, pieces[p], columns[t].table, read));
    PieceKeys& key = keys[p];
    key.events = events;
    key.slot = RowSlots(n);
    key.slot.reserve(static_cast<size_t>(pieces[p].metadata->RowGroup(pieces[p].row_group)->num_rows()));
    key.counts.assign(n, 0);
    std::vector<int64_t> last_label(events ? n : 0, INT64_MIN);
    std::vector<int64_t> min_time(events ? n : 0, INT64_MAX), max_time(events ? n : 0, INT64_MIN);
    while (true) {
      INTRADAY_ASSIGN_OR_RAISE(const int64_t rows, reader->Next());
      if (rows == 0) break;
      key.rows_read += rows;
      const int64_t* ids = reader->values(0);
      const uint8_t* ids_valid = reader->valid(0);
      const size_t first_row = key.slot.size();
      for (int64_t r = 0; r < rows; ++r) {
        const int32_t s = ids_valid != nullptr && ids_valid[r] == 0 ? -1 : slot_of.Find(ids[r]);
        key.slot.push_back(s);
        if (s >= 0) ++key.counts[static_cast<size_t>(s)];
      }
      if (!events) continue;
      const int64_t* times = reader->values(1);
      const uint8_t* times_valid = reader->valid(1);
      // Files come in time order: a row's bucket is mostly the row before's, found without a
      // division.
      int64_t label = 0;
      bool labelled = false;
      for (int64_t r = 0; r < rows; ++r) {
        const int32_t s = key.slot[first_row + static_cast<size_t>(r)];
        if (s < 0) continue;
        if (times_valid != nullptr && times_valid[r] == 0) {
          ++key.null_times;  // an error below
          continue;
        }
        const auto l = static_cast<size_t>(s);
        const int64_t time = times[r];
        if (!labelled || !grid.Contains(label, time)) label = grid.LabelOf(time);
        labelled = true;
        const int64_t bucket = (label - base_label) / grid.length();
        if (bucket < INT32_MIN || bucket > INT32_MAX) numbered = false;
        const auto b = static_cast<int32_t>(bucket);
        if (label != last_label[l]) {
          key.timeline_times.emplace_back(s, time);
          last_label[l] = label;
        }
        min_time[l] = std::min(min_time[l], time);
        max_time[l] = std::max(max_time[l], time);
        if (key.bucket_runs.empty() || key.bucket_runs.back().first != b ||
            key.bucket_runs.back().second == INT32_MAX)
          key.bucket_runs.emplace_back(b, 0);
        ++key.bucket_runs.back().second;
      }
    }
    for (size_t l = 0; l < min_time.size(); ++l) {
      if (key.counts[l] == 0) continue;
      key.timeline_times.emplace_back(static_cast<int32_t>(l), min_time[l]);
      key.timeline_times.emplace_back(static_cast<int32_t>(l), max_time[l]);
    }
    return Status::OK();
  }));
  for (size_t t = 0; t < n_tables; ++t) {
    int64_t null_times = 0;
    for (size_t p = 0; p < pieces.size(); ++p) null_times += pieces[p].table == t ? keys[p].null_times : 0;
    // As IndexTable: rows without an event time cannot be bucketed.
    if (null_times != 0) {
      return Status::Invalid("table ", SpecOf(columns[t].table).key, ": ", null_times, " rows have a null ",
                             SpecOf(columns[t].table).event_time_column);
    }
  }
  if (!numbered) {
    result->stream_fallback =
        fmt::format("its event times lie too far from the day for buckets of {} ns", grid.length());
    return false;
  }
  // 2. The cuts. A slice is consecutive buckets of the day, over every listing and table, of at
  // most the slice size in decoded bytes (a bucket larger than that is a slice of its own): as
  // few slices as that allows, of about equal bytes. (Until session 21 each cut went where the
  // row groups it split held the fewest rows for later slices, between half and all of the
  // slice size: a slice decoded every row group it started whole. It now reads them on from slice
  // to slice, and the even cuts took one slice less on some days.)
  std::map<int32_t, double> bucket_bytes;
  for (size_t p = 0; p < pieces.size(); ++p) {
    if (keys[p].bucket_runs.empty()) continue;
    const double row_bytes = DecodedRowBytes(*pieces[p].schema);
    for (const auto& [bucket, rows] : keys[p].bucket_runs)
      bucket_bytes[bucket] += row_bytes * static_cast<double>(rows);
  }
  std::vector<int32_t> bucket;
  std::vector<double> bytes;
  for (const auto& [b, w] : bucket_bytes) {
    bucket.push_back(b);
    bytes.push_back(w);
  }
  std::vector<int32_t> slice_last;  // per slice, its last bucket
  for (size_t end : EvenSliceCuts(bytes, static_cast<double>(task.time_slice_bytes)))
    slice_last.push_back(bucket[end - 1]);
  if (slice_last.empty()) return false;  // one slice: the whole batch at once is the same, and cheaper
  slice_last.push_back(INT32_MAX);
  const size_t n_slices = slice_last.size();
  INTRADAY_RETURN_NOT_OK(ParallelFor(keys.size(), task.threads, [&](size_t p) -> Status {
    PieceKeys& key = keys[p];
    if (!key.events) return Status::OK();
    key.first_slice = INT32_MAX;
    int32_t slice = 0;  // runs mostly come in time order: the previous run's slice first
    for (const auto& [b, rows] : key.bucket_runs) {
      if (b > slice_last[static_cast<size_t>(slice)] ||
          (slice > 0 && b <= slice_last[static_cast<size_t>(slice) - 1]))
        slice = static_cast<int32_t>(std::lower_bound(slice_last.begin(), slice_last.end(), b) -
                                     slice_last.begin());
      if (key.slice_runs.empty() || key.slice_runs.back().first != slice)
        key.slice_runs.emplace_back(slice, 0);
      key.slice_runs.back().second += rows;
      key.first_slice = std::min(key.first_slice, slice);
      key.last_slice = std::max(key.last_slice, slice);
    }
    key.bucket_runs = {};
    if (key.last_slice < key.first_slice) return Status::OK();
    key.slice_end.assign(static_cast<size_t>(key.last_slice - key.first_slice) + 1, 0);
    SliceRunCursor runs;
    for (size_t r = 0; r < key.slot.size(); ++r) {
      if (key.slot[r] < 0) continue;
      const int32_t row_slice = runs.Next(key.slice_runs);
      if (row_slice < 0) return Status::Invalid(pieces[p].input->display_path, ": rows change between reads");
      key.slice_end[static_cast<size_t>(row_slice - key.first_slice)] = static_cast<int64_t>(r) + 1;
    }
    for (size_t i = 1; i < key.slice_end.size(); ++i)
      key.slice_end[i] = std::max(key.slice_end[i], key.slice_end[i - 1]);
    return Status::OK();
  }));

  // 3. The market states, whole, and every listing's timeline.
  for (size_t t = 0; t < n_tables; ++t) {
    std::vector<int64_t>& listing_rows = result->listing_rows[columns[t].table];  // for the size history
    listing_rows.assign(n, 0);
    for (size_t p = 0; p < pieces.size(); ++p) {
      if (pieces[p].table != t) continue;
      for (size_t l = 0; l < n; ++l) listing_rows[l] += keys[p].counts[l];
    }
  }
  for (const PieceKeys& key : keys) result->input_rows += key.rows_read;
  std::vector<std::vector<StateChange>> changes(n);
  if (computer.states_index() >= 0) {
    const auto states = static_cast<size_t>(computer.states_index());
    PieceSlots whole;
    whole.counts.assign(pieces.size(), std::vector<int64_t>(n, 0));
    whole.row_slots.resize(pieces.size());
    for (size_t p = 0; p < pieces.size(); ++p) {
      if (pieces[p].table != states) continue;
      whole.counts[p] = keys[p].counts;
      whole.row_slots[p] = keys[p].slot.Widened();
    }
    INTRADAY_ASSIGN_OR_RAISE(auto placed, PlaceTables(lake, columns, pieces, order, task, std::move(whole),
                                                      &result->sorted_listings, &result->page_column_chunks,
                                                      &result->arrow_column_chunks));
    INTRADAY_ASSIGN_OR_RAISE(const TableRows rows,
                             IndexPlacedTable(columns[states], task, slot_of, std::move(placed[states])));
    // Listings in contiguous ranges, a gatherer each (its buffers serve one listing at a time).
    const size_t ranges = static_cast<size_t>(std::max(1, task.threads));
    INTRADAY_RETURN_NOT_OK(ParallelFor(ranges, task.threads, [&](size_t k) -> Status {
      ListingGatherer gatherer(rows);
      for (size_t l = k * n / ranges; l < (k + 1) * n / ranges; ++l) {
        if (rows.rows[l] == 0) continue;
        INTRADAY_ASSIGN_OR_RAISE(auto batch, gatherer.Gather(l));
        changes[l] = StateChangesOf(ListingTable(std::move(batch), rows.time_column));
      }
      return Status::OK();
    }));
  }
  std::vector<int64_t> times_start(n + 1, 0);
  for (const PieceKeys& key : keys) {
    for (const auto& [slot, time] : key.timeline_times) ++times_start[static_cast<size_t>(slot) + 1];
  }
  for (size_t l = 0; l < n; ++l) times_start[l + 1] += times_start[l];
  std::vector<int64_t> timeline_times(static_cast<size_t>(times_start[n]));
  {
    std::vector<int64_t> next(times_start.begin(), times_start.end() - 1);
    for (PieceKeys& key : keys) {
      for (const auto& [slot, time] : key.timeline_times)
        timeline_times[static_cast<size_t>(next[static_cast<size_t>(slot)]++)] = time;
      key.timeline_times = {};
    }
  }
  std::vector<std::unique_ptr<SlicedListingDay>> listings(n);
  INTRADAY_RETURN_NOT_OK(ParallelFor(n, task.threads, [&](size_t l) -> Status {
    const std::span<const int64_t> times(timeline_times.data() + times_start[l],
                                         static_cast<size_t>(times_start[l + 1] - times_start[l]));
    std::vector<int64_t> labels = computer.Timeline(task.day, changes[l], times);
    if (!labels.empty())
      listings[l] =
          std::make_unique<SlicedListingDay>(computer, task.listings[l], task.day, std::move(labels));
    return Status::OK();
  }));
  timeline_times = {};

  // Chunks of listings with about equal input rows over the day; finer than a whole batch's (16
  // a thread, not 4), since a slice's rows are spread over them less evenly and every slice ends
  // with both threads waiting for the last chunk (50 x 8 days at 128 MiB: -6% wall,
  // docs/benchmarks.md "Session 19").
  std::vector<int64_t> rows_of(n, 0);
  for (const auto& [table, rows] : result->listing_rows) {
    for (size_t l = 0; l < n; ++l) rows_of[l] += rows[l];
  }
  const std::vector<size_t> chunk_begin =
      ChunksOfListings(rows_of, static_cast<size_t>(std::max(1, task.threads)) * 16);
  const size_t n_chunks = chunk_begin.size() - 1;
  // Each slice's rows of a chunk in a file beside the task's output (local scratch), merged
  // listing by listing after the last slice, so that the day's output rows are never all held:
  // where the plan counted on it, or by SpillSliceOutput with the labels' count here (a plan of
  // a day sized whole has no count).
  uint64_t output_rows = 0;
  for (const auto& listing : listings) output_rows += listing != nullptr ? listing->labels().size() : 0;
  const uint64_t output_bytes = output_rows * static_cast<uint64_t>(schema->num_fields()) * 8;
  const bool spill = !scratch.is_s3() && (task.slice_output_spilled ||
                                          SpillSliceOutput(true, output_bytes, task.time_slice_bytes));
  INTRADAY_ASSIGN_OR_RAISE(
      auto computed,
      SliceOutputs::Open(spill ? task.output_path + ".slices" : std::string(), schema, n_chunks));

  // 4. Slice by slice: its rows placed, then every listing's buckets of the slice computed, each
  // chunk's rows set aside (SliceOutputs); after the last, each chunk's rows merged and written.
  SliceExtras extras;
  std::vector<size_t> next_label(n, 0);
  for (size_t slice = 0; slice < n_slices; ++slice) {
    // A slice reads each piece from where the last one stopped up to its last row of the slice
    // (files in time order: its rows of the slice); rows of later slices passed are held.
    const auto s = static_cast<int32_t>(slice);
    PieceSlots selected;
    selected.counts.assign(pieces.size(), std::vector<int64_t>(n, 0));
    selected.row_slots.resize(pieces.size());
    selected.held.resize(pieces.size());
    selected.file_rows.assign(pieces.size(), {0, 0});
    selected.keep.resize(pieces.size());
    INTRADAY_RETURN_NOT_OK(ParallelFor(pieces.size(), task.threads, [&](size_t p) -> Status {
      PieceKeys& key = keys[p];
      if (!key.events || s < key.first_slice || s > key.last_slice) return Status::OK();
      std::vector<int32_t>& row_slots = selected.row_slots[p];
      std::vector<int64_t>& counts = selected.counts[p];
      std::vector<uint8_t>& keep = selected.keep[p];
      const int64_t end = key.slice_end[static_cast<size_t>(s - key.first_slice)];
      const size_t n_held = key.held_slot.size();
      row_slots.assign(n_held + static_cast<size_t>(end - key.file_row), -1);
      keep.assign(row_slots.size(), 0);
      std::vector<int32_t> held_slot, held_slice;
      // The rows read, held ones first: this slice's placed, later slices' held.
      auto take = [&](size_t i, int32_t slot, int32_t row_slice) {
        if (row_slice == s) {
          row_slots[i] = slot;
          ++counts[static_cast<size_t>(slot)];
        } else {
          keep[i] = 1;
          held_slot.push_back(slot);
          held_slice.push_back(row_slice);
        }
      };
      for (size_t i = 0; i < n_held; ++i) take(i, key.held_slot[i], key.held_slice[i]);
      const size_t held_kept = held_slot.size();
      for (int64_t r = key.file_row; r < end; ++r) {
        const int32_t slot = key.slot[static_cast<size_t>(r)];
        if (slot < 0) continue;
        const int32_t row_slice = key.runs.Next(key.slice_runs);
        if (row_slice < s)
          return Status::Invalid(pieces[p].input->display_path, ": rows change between reads");
        take(n_held + static_cast<size_t>(r - key.file_row), slot, row_slice);
      }
      if (held_slot.empty()) keep = {};
      key.resumed_reads += key.file_row > 0 && end > key.file_row ? 1 : 0;
      key.held_rows += static_cast<int64_t>(held_slot.size() - held_kept);
      selected.held[p] = std::move(key.held);
      selected.file_rows[p] = {key.file_row, end};
      key.file_row = end;
      key.held_slot = std::move(held_slot);
      key.held_slice = std::move(held_slice);
      if (s == key.last_slice) {
        key.slot = {};
        key.slice_runs = {};
      }
      return Status::OK();
    }));
    // Each listing's carried events (extras.front, collected at the end of the slice before) go
    // first in its block: the modules see them and the slice's events as one run, with no copy
    // of the slice.
    INTRADAY_ASSIGN_OR_RAISE(auto placed, PlaceTables(lake, columns, pieces, order, task, std::move(selected),
                                                      &result->sorted_listings, &result->page_column_chunks,
                                                      &result->arrow_column_chunks, &extras));
    extras.front.clear();
    std::vector<std::shared_ptr<arrow::RecordBatch>> held = std::move(extras.held);
    for (size_t p = 0; p < pieces.size(); ++p) {
      PieceKeys& key = keys[p];
      if (!key.events || s < key.first_slice || s > key.last_slice) continue;
      key.held = std::move(held[p]);
      if (s == key.last_slice && p < extras.cursors.size()) extras.cursors[p].reset();
    }
    std::vector<TableRows> tables(n_tables);
    INTRADAY_RETURN_NOT_OK(ParallelFor(n_tables, task.threads, [&](size_t t) -> Status {
      INTRADAY_ASSIGN_OR_RAISE(tables[t], IndexPlacedTable(columns[t], task, slot_of, std::move(placed[t])));
      return Status::OK();
    }));
    placed.clear();
    for (const TableRows& t : tables) {
      for (size_t l = 0; l + 1 < t.first_run.size(); ++l)
        result->gathered_listings += t.first_run[l + 1] - t.first_run[l] > 1;
    }
    const bool last_slice = slice + 1 == n_slices;
    // The last label of the slice (the last slice takes every label left).
    const int64_t cut_label =
        last_slice ? INT64_MAX : base_label + int64_t{slice_last[slice]} * grid.length();
    // Per table and listing, the rows of its view the next slice starts with, and that view.
    std::vector<std::vector<std::vector<int64_t>>> carry_rows(
        n_tables, std::vector<std::vector<int64_t>>(last_slice ? 0 : n));
    std::vector<std::vector<std::shared_ptr<arrow::RecordBatch>>> carry_views(
        n_tables, std::vector<std::shared_ptr<arrow::RecordBatch>>(last_slice ? 0 : n));
    // Listing l's rows `rows` of table i's view `view` to carry into the next slice. A view of
    // the placed table stays valid until the slice's end; a gathered one (rows out of time order
    // in a table not sorted in place) lives in its gatherer's buffers, which the chunk's next
    // listing reuses: its rows are copied at once.
    auto keep_carried = [&](size_t i, size_t l, std::shared_ptr<arrow::RecordBatch> view,
                            std::vector<int64_t> rows) -> Status {
      if (rows.empty()) return Status::OK();
      if (tables[i].first_run[l + 1] - tables[i].first_run[l] > 1) {
        INTRADAY_ASSIGN_OR_RAISE(view, CopyRows(*view, rows));
        std::iota(rows.begin(), rows.end(), int64_t{0});
      }
      carry_views[i][l] = std::move(view);
      carry_rows[i][l] = std::move(rows);
      return Status::OK();
    };
    INTRADAY_RETURN_NOT_OK(ParallelFor(n_chunks, task.threads, [&](size_t c) -> Status {
      std::vector<ListingGatherer> gatherers;
      for (const auto& t : tables) gatherers.emplace_back(t);
      for (size_t l = chunk_begin[c]; l < chunk_begin[c + 1]; ++l) {
        if (listings[l] == nullptr) continue;
        const std::vector<int64_t>& labels = listings[l]->labels();
        const size_t first = next_label[l];
        const size_t last =
            last_slice ? labels.size()
                       : static_cast<size_t>(std::upper_bound(labels.begin(), labels.end(), cut_label) -
                                             labels.begin());
        bool any_events = false;
        std::vector<ListingTable> views(n_tables);
        for (size_t i = 0; i < n_tables; ++i) {
          if (!computer.is_event_table(i) || tables[i].rows[l] == 0) continue;
          INTRADAY_ASSIGN_OR_RAISE(auto rows, gatherers[i].Gather(l));
          views[i] = ListingTable(std::move(rows), tables[i].time_column);
          any_events = any_events || tables[i].rows[l] > listings[l]->carried_count(i);
        }
        if (last <= first) {
          if (any_events)
            return Status::Invalid("listing ", task.listings[l],
                                   ": events outside its timeline in time slice ", slice);
          // No bucket of the listing in this slice: its carried events go on to the next.
          for (size_t i = 0; i < n_tables && !last_slice; ++i) {
            std::vector<int64_t> rows(static_cast<size_t>(listings[l]->carried_count(i)));
            std::iota(rows.begin(), rows.end(), int64_t{0});
            INTRADAY_RETURN_NOT_OK(keep_carried(i, l, views[i].batch(), std::move(rows)));
          }
          continue;
        }
        std::vector<OutputBlock> blocks;
        std::vector<std::shared_ptr<arrow::RecordBatch>> batches(n_tables);
        for (size_t i = 0; i < n_tables; ++i) batches[i] = views[i].batch();
        std::vector<std::vector<int64_t>> carry;
        INTRADAY_RETURN_NOT_OK(
            listings[l]->ComputeSliceOnViews(first, last, std::move(views), &blocks, &carry));
        for (size_t i = 0; i < n_tables && !last_slice; ++i)
          INTRADAY_RETURN_NOT_OK(keep_carried(i, l, std::move(batches[i]), std::move(carry[i])));
        INTRADAY_RETURN_NOT_OK(computed->Add(c, task.listings[l],
                                             std::span<const int64_t>(labels.data() + first, last - first),
                                             std::move(blocks), last_slice));
        next_label[l] = last;
      }
      if (last_slice) {
        for (size_t l = chunk_begin[c]; l < chunk_begin[c + 1]; ++l) listings[l].reset();
      }
      return Status::OK();
    }));
    if (!last_slice) {
      extras.front.resize(n_tables);
      for (size_t t = 0; t < n_tables; ++t) {
        INTRADAY_ASSIGN_OR_RAISE(extras.front[t],
                                 CollectCarriedRows(carry_views[t], carry_rows[t], task.threads));
      }
      // The views let go of on every thread (hundreds of listings' record batches).
      INTRADAY_RETURN_NOT_OK(ParallelFor(n, task.threads, [&](size_t l) -> Status {
        for (auto& views : carry_views) views[l].reset();
        return Status::OK();
      }));
    }
  }
  // 5. Each chunk's rows of every slice merged and handed to the output, once the last slice's
  // placed rows are let go of: the merge and the day file's writer do not add to the slice's
  // memory (200 x 2 days at 128 MiB slices: worker peak ~420 -> ~340 MiB, docs/benchmarks.md
  // "Session 21").
  result->slice_released_readers = extras.released_readers;
  // The placement blocks and the readers kept for later slices unmap their memory on every
  // thread, as the slices' work does (on one thread: ~1% of a 200-listing worker's samples).
  INTRADAY_RETURN_NOT_OK(ParallelFor(extras.blocks.size(), task.threads, [&](size_t t) -> Status {
    extras.blocks[t].reset();
    return Status::OK();
  }));
  INTRADAY_RETURN_NOT_OK(ParallelFor(extras.cursors.size(), task.threads, [&](size_t p) -> Status {
    extras.cursors[p].reset();
    return Status::OK();
  }));
  extras = SliceExtras();
  // The rows merged a day file's chunk of rows at a time (kOutputChunkRows, counted from the
  // task's first row), whatever chunks of listings they came from: the writer then takes each as
  // it is, without joining the ends of two batches (docs/engine.md, "Output rows between slices").
  INTRADAY_RETURN_NOT_OK(computed->Seal());
  const int64_t total_rows = computed->rows();
  const auto n_pieces = static_cast<size_t>((total_rows + kOutputChunkRows - 1) / kOutputChunkRows);
  INTRADAY_ASSIGN_OR_RAISE(*output, OutputChunks::Open(task, scratch, schema, n_pieces));
  INTRADAY_RETURN_NOT_OK(ParallelFor(n_pieces, task.threads, [&](size_t p) -> Status {
    const int64_t first = static_cast<int64_t>(p) * kOutputChunkRows;
    INTRADAY_ASSIGN_OR_RAISE(auto rows,
                             computed->MergeRows(first, std::min(kOutputChunkRows, total_rows - first)));
    return (*output)->Done(p, {std::move(rows)});
  }));
  result->time_slices = static_cast<int>(n_slices);
  result->slice_output_bytes = computed->spilled_bytes();
  for (const PieceKeys& key : keys) {
    result->slice_resumed_reads += key.resumed_reads;
    result->slice_held_rows += key.held_rows;
  }
  return true;
}

}  // namespace intraday
