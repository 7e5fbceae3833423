// exec/: running a pipeline: the day loop, worker processes, retries, atomic publication of
// each day's output, the run manifest, resume. It knows plans, tasks and processes, and nothing
// of metric formulas (modules are created from the config and driven through metrics/module.h).
//
// This header holds the task: one batch of one pass for one day, as a plain value that crosses
// a process boundary (JSON file), so that a task could as well run on another host.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/date.h"
#include "common/status.h"
#include "exec/day_output.h"
#include "io/location.h"  // ReadTextFile, WriteFileAtomic (local), Location
#include "io/table_catalog.h"

namespace intraday {

/// Where a task's rows of one table come from.
struct TaskInput {
  Table table;
  std::string path;             // inside the lake filesystem (lake files) or a spill file's URI in scratch
  std::string display_path;     // for messages
  std::vector<int> row_groups;  // lake files only; empty = all
  bool spill = false;           // a spill file: already projected and filtered, Arrow IPC
};

struct Task {
  std::string config_file;  // the worker loads and validates the config itself
  std::string config_hash;  // ... and checks it is the one the driver planned with
  std::string pass;
  Date day;
  int batch = 0;
  int attempt = 0;
  /// Rows of other listings are ignored. Sorted by ListingId, except in a later pass's task,
  /// where they come whole group by group in the plan's group order.
  std::vector<int64_t> listings;
  std::vector<TaskInput> inputs;
  /// A later pass (generic, reaggregate): the source pass's day files it reads, history days
  /// first and the task's day last. Empty for passes of event modules.
  std::vector<std::string> source_files;
  /// URIs in the run's scratch (a local path or s3://...), like the task file itself.
  std::string output_path;  // the batch's output (Arrow IPC file), written atomically
  /// A day of one batch (local output only): the day's Parquet file, in the run's staging
  /// directory, which the worker writes instead of `output_path` and the driver then publishes.
  /// Empty: the worker writes `output_path` and the driver the day's file from the outputs.
  std::string day_file;
  std::string result_path;  // TaskResult as JSON, written last
  /// Delete the spill inputs once the output is written. False when several tasks share them
  /// (the halves of a split batch): the driver deletes them after the last one.
  bool delete_spill_inputs = true;
  /// Threads the worker may use (tables loaded and listings computed in parallel): the cores the
  /// driver leaves idle when fewer batches than cores run at once. Never changes the output.
  int threads = 1;
  /// A single oversize listing of a pass whose modules stream over time (Batch::streamed): the
  /// worker computes it in time slices of about memory_budget / 4 of decoded rows.
  bool stream_over_time = false;
  uint64_t memory_budget = 0;  // what the batch's data may take: DataBudget(run.memory_per_worker)
  /// A direct batch of several listings (lake files, no spill) of a pass whose modules stream
  /// over time: the worker places and computes the day's rows in time slices of about this many
  /// decoded bytes over all its listings, not the whole day at once (0: whole; run.time_slice).
  uint64_t time_slice_bytes = 0;
  /// Sliced: each slice's output rows set aside in a file beside `output_path` until the last
  /// slice (Batch::slice_output_spilled; local scratch only). The worker also does so where they
  /// are more than an eighth of a slice by its own count (SpillSliceOutput).
  bool slice_output_spilled = false;
  /// Whether the worker lets its large arrays and its allocator use transparent huge pages: only
  /// when memory a worker just freed is there to be reused and that pays (exec/memory_pages.h
  /// UseHugePages).
  /// Never changes the output.
  bool huge_pages = true;
  /// How `day_file` is compressed (run.output_compression).
  DayFileCompression day_file_compression;
};

/// What a worker reports back (the driver adds wall time and CPU time from wait4).
struct TaskResult {
  int64_t input_rows = 0;
  int64_t output_rows = 0;
  uint64_t output_bytes = 0;
  double compute_seconds = 0;
  /// The worker's own peak RSS (VmHWM). Not wait4's ru_maxrss: a child started by posix_spawn
  /// (vfork + exec) starts that figure at the driver's peak, so it over-reports small workers.
  int64_t peak_rss_bytes = 0;
  /// Per table the pass reads, the rows each listing of the task had, aligned with
  /// Task::listings (zeros included): exact counts, which the driver records as the size history.
  std::map<Table, std::vector<int64_t>> listing_rows;
  /// Streaming over time: the slices computed (0: the listing was loaded whole), and why a task
  /// asked to stream did not (rows out of time order in its input), for the run report.
  int time_slices = 0;
  int64_t slice_output_bytes = 0;  // of the files its slices' output rows were set aside in
  /// Reads of a row group that went on where an earlier slice's read stopped, and rows decoded
  /// before their slice and held for it (rows out of time order in the files).
  int64_t slice_resumed_reads = 0;
  int64_t slice_held_rows = 0;
  /// Readers kept for a later slice that let go of the file pages they had read (local files).
  int64_t slice_released_readers = 0;
  std::string stream_fallback;
  /// Per table, listings whose rows a direct read sorted in place (out of time order in the
  /// files), and listings copied row run by row run before they were computed (rows spread over
  /// spill files, or out of order where no in-place sort applied): the run report shows both.
  int64_t sorted_listings = 0;
  int64_t gathered_listings = 0;
  /// A direct read's fixed-width column chunks (a column of a row group) read straight from their
  /// pages (io/column_pages.h), and the column chunks read through the Arrow reader.
  int64_t page_column_chunks = 0;
  int64_t arrow_column_chunks = 0;
  /// Bytes of mapped spill input dropped from the worker's memory once the listings that read
  /// them were done (MappedInputRelease in exec/batch_worker.cc).
  int64_t input_bytes_released = 0;
};

std::string TaskToJson(const Task& task);
Result<Task> TaskFromJson(const std::string& text);
std::string TaskResultToJson(const TaskResult& result);
Result<TaskResult> TaskResultFromJson(const std::string& text);

}  // namespace intraday
