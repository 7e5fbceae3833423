#include "exec/batch_worker.h"
#include "exec/batch_output.h"
#include "exec/day_output.h"
#include "exec/direct_read.h"
#include "exec/listing_rows.h"
#include "exec/memory_pages.h"
#include "exec/output_notice.h"
#include "exec/parallel.h"
#include "exec/process.h"
#include "exec/sliced_day.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <thread>

#include <arrow/array.h>
#include <arrow/io/file.h>
#include <arrow/ipc/reader.h>
#include <arrow/memory_pool.h>
#include <fmt/format.h>

#include "config/config_json.h"
#include "config/config_loader.h"
#include "exec/output_schema.h"
#include "exec/streamed_listing.h"
#include "io/arrow_compute.h"
#include "io/group_rows.h"
#include "io/lake.h"
#include "io/listing_slots.h"
#include "io/table_reader.h"
#include "metrics/listing_day_computer.h"
#include "metrics/registry.h"
#include "plan/planner.h"

namespace intraday {
namespace {

Result<std::vector<std::shared_ptr<arrow::RecordBatch>>> ReadSpill(const TaskInput& input,
                                                                   const Location& scratch) {
  std::shared_ptr<arrow::io::RandomAccessFile> file;
  if (scratch.is_s3()) {
    INTRADAY_ASSIGN_OR_RAISE(file, scratch.OpenInput(input.path));
  } else {
    // Mapped, not read: the batches point into the page cache, so the rows are neither copied
    // nor written to fresh (kernel-zeroed) memory before the gather copies them once.
    INTRADAY_ASSIGN_OR_RAISE(file, arrow::io::MemoryMappedFile::Open(input.path, arrow::io::FileMode::READ));
  }
  auto reader = arrow::ipc::RecordBatchFileReader::Open(file);
  if (!reader.ok()) return reader.status().WithMessage(input.display_path, ": ", reader.status().message());
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
  for (int i = 0; i < (*reader)->num_record_batches(); ++i) {
    INTRADAY_ASSIGN_OR_RAISE(auto batch, (*reader)->ReadRecordBatch(i));
    batches.push_back(std::move(batch));
  }
  return batches;
}

/// The mapped spill inputs of a batch, let go of as its listings are done. A page of a mapping
/// counts in the worker's RSS from the first gather that reads it until the batch ends, so by the
/// last listing the whole input would be resident beside the listings' copies and the output
/// (a spill reader of a shredded 200-listing day peaked at 756 MiB, 490 MiB of it mapped). The
/// shredder groups each read batch by listing, in the task's listing order, and chunks of listings
/// are computed in that order: once every listing before L is done, the rows before L's in every
/// read batch are read no more, and their pages are dropped (DropFilePages) each time another
/// `step_rows` input rows are behind. Thread-safe; a no-op for a batch of one listing.
class MappedInputRelease {
 public:
  MappedInputRelease(const std::vector<TableRows>& tables, const std::vector<size_t>& chunk_begin,
                     int64_t step_rows)
      : tables_(tables), chunk_begin_(chunk_begin), step_rows_(step_rows), done_(chunk_begin.size() - 1, 0) {
    for (const TableRows& t : tables_) {
      done_end_.emplace_back(t.batch_starts.empty() ? 0 : t.batch_starts.size() - 1, 0);
      dropped_end_.emplace_back(done_end_.back().size(), 0);
    }
  }

  int64_t released_bytes() const { return released_bytes_; }

  /// Listing `l` of chunk `c` is done (a chunk's listings are done in order).
  void ListingDone(size_t c, size_t l) {
    std::lock_guard lock(mutex_);
    ++done_[c];
    for (const TableRows& t : tables_) pending_rows_ += l < t.rows.size() ? t.rows[l] : 0;
    while (chunk_ < done_.size() && done_[chunk_] == chunk_begin_[chunk_ + 1] - chunk_begin_[chunk_])
      ++chunk_;
    const size_t frontier =
        chunk_ < done_.size() ? chunk_begin_[chunk_] + done_[chunk_] : chunk_begin_.back();
    if (pending_rows_ < step_rows_ || frontier <= released_) return;
    Release(frontier);
    pending_rows_ = 0;
  }

 private:
  /// Drops the rows of listings [released_, frontier) in every read batch.
  void Release(size_t frontier) {
    for (size_t t = 0; t < tables_.size(); ++t) {
      const TableRows& table = tables_[t];
      if (table.columns.empty() || table.first_run.size() <= frontier) continue;
      for (size_t r = table.first_run[released_]; r < table.first_run[frontier]; ++r) {
        const Run& run = table.runs[r];
        done_end_[t][run.batch] = std::max(done_end_[t][run.batch], run.row + run.length);
      }
      for (size_t b = 0; b < done_end_[t].size(); ++b) {
        // Few calls, each of many pages: every call interrupts the batch's other threads (their
        // page tables change), which for a few pages costs more than the pages' memory is worth.
        if (done_end_[t][b] - dropped_end_[t][b] < kMinDropRows) continue;
        for (const auto& column : table.columns) DropRows(*column[b], dropped_end_[t][b], done_end_[t][b]);
        dropped_end_[t][b] = done_end_[t][b];
      }
    }
    released_ = frontier;
  }

  /// The bytes of rows [begin, end) of an array, in each of its buffers.
  void DropRows(const arrow::ArrayData& a, int64_t begin, int64_t end) {
    begin += a.offset;
    end += a.offset;
    auto drop = [&](const uint8_t* from, const uint8_t* to) { released_bytes_ += DropFilePages(from, to); };
    auto bits = [&](const std::shared_ptr<arrow::Buffer>& buffer) {
      if (buffer != nullptr) drop(buffer->data() + begin / 8, buffer->data() + end / 8);
    };
    bits(a.buffers[0]);
    const arrow::DataType& type = *a.type;
    if (type.id() == arrow::Type::BOOL) {
      bits(a.buffers[1]);
    } else if (type.id() == arrow::Type::STRING || type.id() == arrow::Type::BINARY) {
      const auto* offsets = reinterpret_cast<const int32_t*>(a.buffers[1]->data());
      drop(a.buffers[1]->data() + begin * 4, a.buffers[1]->data() + end * 4);
      if (a.buffers[2] != nullptr)
        drop(a.buffers[2]->data() + offsets[begin], a.buffers[2]->data() + offsets[end]);
    } else if (const auto* fixed = dynamic_cast<const arrow::FixedWidthType*>(&type);
               fixed != nullptr && fixed->bit_width() % 8 == 0 && a.buffers[1] != nullptr) {
      const int64_t width = fixed->bit_width() / 8;
      drop(a.buffers[1]->data() + begin * width, a.buffers[1]->data() + end * width);
    }
  }

  static constexpr int64_t kMinDropRows = 2048;
  const std::vector<TableRows>& tables_;
  const std::vector<size_t>& chunk_begin_;
  const int64_t step_rows_;
  std::mutex mutex_;
  std::vector<size_t> done_;  // per chunk, its listings done
  size_t chunk_ = 0;          // the first chunk not done
  size_t released_ = 0;       // listings before it are dropped
  int64_t pending_rows_ = 0;  // input rows of listings done since the last drop
  int64_t released_bytes_ = 0;
  std::vector<std::vector<int64_t>> done_end_;     // [table][read batch]: rows of done listings end here
  std::vector<std::vector<int64_t>> dropped_end_;  // [table][read batch]: rows dropped up to here
};

/// The end of every event task: the output complete, the spill inputs deleted, the result.
/// `output`: the task's output, its chunks already handed over; if null, the output is
/// `output_batches`.
Status FinishBatchTask(const Task& task, const Location& scratch,
                       const std::shared_ptr<arrow::Schema>& schema,
                       std::vector<std::shared_ptr<arrow::RecordBatch>> output_batches,
                       std::unique_ptr<OutputChunks> output, std::chrono::steady_clock::time_point started,
                       TaskResult* result) {
  if (output == nullptr) {
    INTRADAY_ASSIGN_OR_RAISE(output, OutputChunks::Open(task, scratch, schema, 1));
    INTRADAY_RETURN_NOT_OK(output->Done(0, std::move(output_batches)));
  }
  INTRADAY_ASSIGN_OR_RAISE(const DayOutputStats stats, output->Finish());
  result->output_rows = stats.rows;
  result->output_bytes = stats.bytes;

  // The output is safe: the spill files of this batch are no longer needed.
  for (const auto& input : task.inputs) {
    if (!input.spill || !task.delete_spill_inputs) continue;
    (void)scratch.Delete(input.path);
  }
  result->compute_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  result->peak_rss_bytes = SelfPeakRssBytes();
  return scratch.WriteText(task.result_path, TaskResultToJson(*result));
}

/// Once every listing is computed, only the output is left to finish: what the allocator kept
/// of the input goes back to the system, and the driver may start the next batch on this
/// worker's cores.
Status FinishComputedBatch(const Task& task, const Location& scratch,
                           const std::shared_ptr<arrow::Schema>& schema, std::unique_ptr<OutputChunks> output,
                           std::chrono::steady_clock::time_point started, TaskResult* result) {
  arrow::default_memory_pool()->ReleaseUnused();
  NotifyOutputOnly();
  // Fault-injection hook for the engine's own tests (docs/engine.md): hold the output's end.
  if (const char* delay = std::getenv("INTRADAY_TEST_OUTPUT_DELAY_MS"))
    std::this_thread::sleep_for(std::chrono::milliseconds(std::atoll(delay)));
  return FinishBatchTask(task, scratch, schema, {}, std::move(output), started, result);
}

}  // namespace

Status RunBatchTask(const Task& task, const Location& scratch) {
  const auto started = std::chrono::steady_clock::now();
  INTRADAY_RETURN_NOT_OK(EnsureComputeInitialized());
  INTRADAY_ASSIGN_OR_RAISE(PipelineConfig config, LoadPipelineConfigWithModules(task.config_file));
  if (ConfigHashHex(config) != task.config_hash) {
    return Status::Invalid(task.config_file, " changed since the run was planned (config hash ",
                           ConfigHashHex(config), ", planned with ", task.config_hash, ")");
  }
  const PassConfig* pass = config.FindPass(task.pass);
  if (pass == nullptr) return Status::Invalid("no pass '", task.pass, "' in ", task.config_file);
  if (IsDerivedPass(*pass)) return RunDerivedTask(task, config, *pass, scratch);
  INTRADAY_ASSIGN_OR_RAISE(auto modules, CreatePassModules(*pass, task.config_file));
  const std::vector<TableColumns> columns = PassColumns(modules, *pass);
  INTRADAY_ASSIGN_OR_RAISE(auto schema, PassOutputSchema(modules));
  INTRADAY_ASSIGN_OR_RAISE(auto lake, Lake::Open(config.data.ToLakeOptions()));

  TaskResult result;
  if (task.stream_over_time) {
    // An oversize listing: computed in time slices within the budget when its rows come in time
    // order (else loaded whole below, which the driver reports).
    std::vector<Table> order;
    for (const auto& c : columns) order.push_back(c.table);
    const ListingDayComputer computer(modules, ShapeOf(*pass), pass->session_padding_ns, order);
    result.stream_fallback = StreamBlocker(modules, ShapeOf(*pass));
    if (task.listings.size() != 1) result.stream_fallback = "the batch has several listings";
    if (result.stream_fallback.empty()) {
      OutputAssembler assembler(schema);
      INTRADAY_ASSIGN_OR_RAISE(const bool streamed,
                               StreamListing(task, *lake, scratch, columns, computer, &assembler, &result));
      if (streamed) {
        INTRADAY_ASSIGN_OR_RAISE(auto output_batches, assembler.Finish());
        return FinishBatchTask(task, scratch, schema, std::move(output_batches), nullptr, started, &result);
      }
      result.input_rows = 0;
      result.listing_rows.clear();
    }
  }

  const ListingSlots slot_of = ListingSlots::Numbered(task.listings);  // the batch's listings, by index
  // Inputs load in parallel, then listings are computed in parallel in contiguous chunks whose
  // outputs are concatenated in ListingId order: the output is the same for any thread count.
  // Each chunk takes its listings' rows one listing at a time. Pieces are read in parallel, the widest first
  // (a free thread takes the next); the rows come out in the same order for any thread count. Lake files:
  // ReadTablesGrouped, one batch per table with every listing's rows contiguous. Spill files (a shredded
  // day): mapped, their batches (grouped by listing by the shredder) kept in input order.
  INTRADAY_ASSIGN_OR_RAISE(const std::vector<InputPiece> pieces, SplitInputs(*lake, columns, task));
  std::vector<size_t> by_weight(pieces.size());
  for (size_t i = 0; i < pieces.size(); ++i) by_weight[i] = i;
  std::stable_sort(by_weight.begin(), by_weight.end(),
                   [&](size_t a, size_t b) { return pieces[a].weight > pieces[b].weight; });
  std::vector<std::vector<std::shared_ptr<arrow::RecordBatch>>> table_batches(columns.size());
  const bool shredded =
      std::any_of(task.inputs.begin(), task.inputs.end(), [](const TaskInput& input) { return input.spill; });
  if (!shredded && task.time_slice_bytes > 0 && task.listings.size() > 1 &&
      StreamBlocker(modules, ShapeOf(*pass)).empty()) {
    std::vector<Table> order;
    for (const auto& c : columns) order.push_back(c.table);
    const ListingDayComputer computer(modules, ShapeOf(*pass), pass->session_padding_ns, order);
    std::unique_ptr<OutputChunks> output;
    INTRADAY_ASSIGN_OR_RAISE(const bool sliced,
                             RunSlicedDirectBatch(task, *lake, scratch, columns, pieces, by_weight, computer,
                                                  schema, &output, &result));
    if (sliced) return FinishComputedBatch(task, scratch, schema, std::move(output), started, &result);
  }
  std::vector<PlacedTable> placed;
  if (!shredded) {
    INTRADAY_ASSIGN_OR_RAISE(
        placed,
        ReadTablesGrouped(*lake, columns, pieces, by_weight, task, slot_of, &result.input_rows,
                          &result.sorted_listings, &result.page_column_chunks, &result.arrow_column_chunks));
    for (PlacedTable& p : placed) {
      if (p.batch != nullptr && p.batch->num_rows() == 0) p.batch = nullptr;
    }
  } else {
    std::vector<std::vector<std::shared_ptr<arrow::RecordBatch>>> piece_batches(pieces.size());
    INTRADAY_RETURN_NOT_OK(ParallelFor(pieces.size(), task.threads, [&](size_t k) -> Status {
      const size_t i = by_weight[k];
      INTRADAY_ASSIGN_OR_RAISE(piece_batches[i], ReadSpill(*pieces[i].input, scratch));
      return Status::OK();
    }));
    for (size_t i = 0; i < pieces.size(); ++i) {
      for (auto& b : piece_batches[i]) {
        result.input_rows += b->num_rows();
        if (b->num_rows() > 0) table_batches[pieces[i].table].push_back(std::move(b));
      }
    }
  }
  std::vector<TableRows> tables(columns.size());
  INTRADAY_RETURN_NOT_OK(ParallelFor(columns.size(), task.threads, [&](size_t t) -> Status {
    if (!placed.empty()) {
      INTRADAY_ASSIGN_OR_RAISE(tables[t], IndexPlacedTable(columns[t], task, slot_of, std::move(placed[t])));
    } else {
      INTRADAY_ASSIGN_OR_RAISE(tables[t], IndexTable(columns[t], task, slot_of, std::move(table_batches[t])));
    }
    return Status::OK();
  }));
  for (const TableRows& t : tables) {
    for (size_t l = 0; l + 1 < t.first_run.size(); ++l)
      result.gathered_listings += t.first_run[l + 1] - t.first_run[l] > 1;
  }
  std::vector<Table> table_order;
  for (const auto& t : tables) table_order.push_back(t.table);
  const ListingDayComputer computer(modules, ShapeOf(*pass), pass->session_padding_ns, table_order);

  // Chunks of listings with about equal input rows.
  const size_t n = task.listings.size();
  int64_t total_rows = 0;
  std::vector<int64_t> rows_of(n, 0);
  for (const auto& t : tables) {
    result.listing_rows[t.table] = t.rows;  // for the size history
    for (size_t l = 0; l < n; ++l) rows_of[l] += t.rows[l];
  }
  for (int64_t rows : rows_of) total_rows += rows;
  const std::vector<size_t> chunk_begin =
      ChunksOfListings(rows_of, static_cast<size_t>(std::max(1, task.threads)) * 4);
  const size_t n_chunks = chunk_begin.size() - 1;
  // Spill files read through a mapping (local scratch) let go of their pages as listings are
  // done, in sixteen steps.
  std::unique_ptr<MappedInputRelease> release;
  if (shredded && !scratch.is_s3() && n > 1)
    release =
        std::make_unique<MappedInputRelease>(tables, chunk_begin, std::max<int64_t>(1, total_rows / 16));
  INTRADAY_ASSIGN_OR_RAISE(auto output, OutputChunks::Open(task, scratch, schema, n_chunks));
  // Gatherers pass from chunk to chunk (at most one set per thread), so that their buffers, once
  // touched, serve every later listing.
  std::mutex idle_mutex;
  std::vector<std::unique_ptr<std::vector<ListingGatherer>>> idle;
  INTRADAY_RETURN_NOT_OK(ParallelFor(n_chunks, task.threads, [&](size_t c) -> Status {
    OutputAssembler assembler(schema);
    std::unique_ptr<std::vector<ListingGatherer>> owned;
    {
      std::lock_guard lock(idle_mutex);
      if (!idle.empty()) {
        owned = std::move(idle.back());
        idle.pop_back();
      }
    }
    if (owned == nullptr) {
      owned = std::make_unique<std::vector<ListingGatherer>>();
      for (const auto& t : tables) owned->emplace_back(t);
    }
    std::vector<ListingGatherer>& gatherers = *owned;
    std::vector<ListingTable> views(tables.size());
    std::vector<int64_t> labels;
    std::vector<OutputBlock> blocks;
    for (size_t l = chunk_begin[c]; l < chunk_begin[c + 1]; ++l) {
      for (size_t i = 0; i < tables.size(); ++i) {
        views[i] = ListingTable();
        if (tables[i].rows[l] == 0) continue;
        INTRADAY_ASSIGN_OR_RAISE(auto rows, gatherers[i].Gather(l));
        views[i] = ListingTable(std::move(rows), tables[i].time_column);
        // A batch of one listing (an oversize listing computed whole: one chunk, one thread)
        // lets go of each table's input once its rows are copied, so that the input and its
        // copy are never held in full at once (the input of a spill file is its mapping).
        if (n == 1) tables[i].columns.clear();
      }
      INTRADAY_RETURN_NOT_OK(computer.Compute(task.listings[l], task.day, views, &labels, &blocks));
      if (release != nullptr) {
        for (auto& view : views) view = ListingTable();  // a one-run listing's view is of the mapping
        release->ListingDone(c, l);
      }
      if (labels.empty()) continue;
      INTRADAY_RETURN_NOT_OK(assembler.Append(task.listings[l], labels, blocks));
    }
    INTRADAY_ASSIGN_OR_RAISE(auto chunk_output, assembler.Finish());
    {
      std::lock_guard lock(idle_mutex);
      idle.push_back(std::move(owned));
    }
    return output->Done(c, std::move(chunk_output));
  }));
  idle.clear();
  if (release != nullptr) result.input_bytes_released = release->released_bytes();
  release.reset();
  tables.clear();
  return FinishComputedBatch(task, scratch, schema, std::move(output), started, &result);
}

}  // namespace intraday
