#include "exec/batch_worker.h"
#include "exec/process.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstring>
#include <functional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <arrow/array.h>
#include <arrow/array/concatenate.h>
#include <arrow/builder.h>
#include <arrow/compute/api.h>
#include <arrow/io/file.h>
#include <arrow/ipc/reader.h>
#include <arrow/ipc/writer.h>
#include <arrow/table.h>
#include <arrow/util/bit_util.h>

#include "config/config_json.h"
#include "config/config_loader.h"
#include "exec/output_schema.h"
#include "exec/streamed_listing.h"
#include "io/arrow_compute.h"
#include "io/lake.h"
#include "io/table_reader.h"
#include "metrics/listing_day_computer.h"
#include "metrics/registry.h"
#include "plan/planner.h"

namespace intraday {
namespace {

/// All rows of one table for the batch, sorted by (ListingId, time, input order).
struct SortedTable {
  Table table;
  std::shared_ptr<arrow::RecordBatch> batch;  // nullptr if no input file had rows
  int time_column = -1;
  const int64_t* listing_ids = nullptr;
};

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

/// Runs fn(0) .. fn(n - 1) on up to `threads` threads; the first error wins.
Status ParallelFor(size_t n, int threads, const std::function<Status(size_t)>& fn) {
  const size_t workers = std::min(n, static_cast<size_t>(std::max(1, threads)));
  if (workers <= 1) {
    for (size_t i = 0; i < n; ++i) INTRADAY_RETURN_NOT_OK(fn(i));
    return Status::OK();
  }
  std::vector<Status> status(n);
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  for (size_t w = 0; w < workers; ++w) {
    pool.emplace_back([&] {
      for (size_t i = next++; i < n; i = next++) status[i] = fn(i);
    });
  }
  for (auto& t : pool) t.join();
  for (const auto& st : status) INTRADAY_RETURN_NOT_OK(st);
  return Status::OK();
}

/// The order that sorts rows by (ListingId, event time), ties keeping input order; empty when
/// the rows are already in that order (files clustered by listing). Vendor files are usually in
/// time order across listings: a stable counting sort by listing then puts each listing's rows
/// in time order without comparing times at all, and only listings whose rows are not in time
/// order get sorted.
std::vector<int64_t> SortOrder(const int64_t* ids, const int64_t* times, int64_t n) {
  bool sorted = true;
  for (int64_t i = 1; i < n && sorted; ++i) {
    sorted = ids[i - 1] < ids[i] || (ids[i - 1] == ids[i] && times[i - 1] <= times[i]);
  }
  if (sorted) return {};
  std::unordered_map<int64_t, size_t> rank;
  for (int64_t i = 0; i < n; ++i) rank.try_emplace(ids[i], 0);
  std::vector<int64_t> distinct;
  distinct.reserve(rank.size());
  for (const auto& [id, r] : rank) distinct.push_back(id);
  std::sort(distinct.begin(), distinct.end());
  for (size_t r = 0; r < distinct.size(); ++r) rank[distinct[r]] = r;
  std::vector<int64_t> offsets(distinct.size() + 1, 0);
  std::vector<uint32_t> row_rank(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    row_rank[static_cast<size_t>(i)] = static_cast<uint32_t>(rank.at(ids[i]));
    ++offsets[row_rank[static_cast<size_t>(i)] + 1];
  }
  for (size_t r = 1; r < offsets.size(); ++r) offsets[r] += offsets[r - 1];
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::vector<int64_t> fill(offsets.begin(), offsets.end() - 1);
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(fill[row_rank[static_cast<size_t>(i)]]++)] = i;
  for (size_t r = 0; r + 1 < offsets.size(); ++r) {
    const auto begin = order.begin() + offsets[r], end = order.begin() + offsets[r + 1];
    const bool in_time_order =
        std::is_sorted(begin, end, [&](int64_t a, int64_t b) { return times[a] < times[b]; });
    if (!in_time_order) {
      std::stable_sort(begin, end, [&](int64_t a, int64_t b) { return times[a] < times[b]; });
    }
  }
  return order;
}

/// Where each output row comes from: a batch and a row in it.
struct RowSources {
  std::vector<uint32_t> batch;
  std::vector<int64_t> row;
};

/// One column of the gathered batch: rows of several batches, in the order of `sources`, copied
/// straight into one contiguous array (one copy, where concatenating then taking made two).
Result<std::shared_ptr<arrow::Array>> GatherColumn(std::vector<std::shared_ptr<arrow::ArrayData>> chunks,
                                                   const RowSources& sources) {
  const auto type = chunks.front()->type;
  const auto n = static_cast<int64_t>(sources.row.size());
  std::vector<const arrow::ArrayData*> data;
  bool has_nulls = false;
  for (const auto& chunk : chunks) {
    data.push_back(chunk.get());
    if (!chunk->type->Equals(*type))
      return Status::Invalid("column ", type->ToString(), " changes type between input files");
    has_nulls = has_nulls || chunk->GetNullCount() != 0;
  }
  std::shared_ptr<arrow::Buffer> validity;
  int64_t null_count = 0;
  if (has_nulls) {
    INTRADAY_ASSIGN_OR_RAISE(validity, arrow::AllocateBitmap(n));
    uint8_t* bits = validity->mutable_data();
    for (int64_t i = 0; i < n; ++i) {
      const arrow::ArrayData& d = *data[sources.batch[static_cast<size_t>(i)]];
      const int64_t r = sources.row[static_cast<size_t>(i)];
      const bool valid =
          d.buffers[0] == nullptr || arrow::bit_util::GetBit(d.buffers[0]->data(), d.offset + r);
      arrow::bit_util::SetBitTo(bits, i, valid);
      null_count += valid ? 0 : 1;
    }
  }
  const arrow::Type::type id = type->id();
  if (id == arrow::Type::STRING) {
    INTRADAY_ASSIGN_OR_RAISE(auto offsets,
                             arrow::AllocateBuffer((n + 1) * static_cast<int64_t>(sizeof(int32_t))));
    auto* out_offsets = reinterpret_cast<int32_t*>(offsets->mutable_data());
    int64_t total = 0;
    out_offsets[0] = 0;
    for (int64_t i = 0; i < n; ++i) {
      const arrow::ArrayData& d = *data[sources.batch[static_cast<size_t>(i)]];
      const int32_t* o = d.GetValues<int32_t>(1) + sources.row[static_cast<size_t>(i)];
      total += o[1] - o[0];
      if (total > INT32_MAX) return Status::CapacityError("string column over 2 GiB in one batch");
      out_offsets[i + 1] = static_cast<int32_t>(total);
    }
    INTRADAY_ASSIGN_OR_RAISE(auto chars, arrow::AllocateBuffer(total));
    uint8_t* dst = chars->mutable_data();
    for (int64_t i = 0; i < n; ++i) {
      const arrow::ArrayData& d = *data[sources.batch[static_cast<size_t>(i)]];
      const int32_t* o = d.GetValues<int32_t>(1) + sources.row[static_cast<size_t>(i)];
      if (o[1] > o[0])
        std::memcpy(dst + out_offsets[i], d.buffers[2]->data() + o[0], static_cast<size_t>(o[1] - o[0]));
    }
    return arrow::MakeArray(
        arrow::ArrayData::Make(type, n,
                               {validity, std::shared_ptr<arrow::Buffer>(std::move(offsets)),
                                std::shared_ptr<arrow::Buffer>(std::move(chars))},
                               null_count));
  }
  if (id == arrow::Type::BOOL) {
    INTRADAY_ASSIGN_OR_RAISE(auto values, arrow::AllocateBitmap(n));
    uint8_t* bits = values->mutable_data();
    for (int64_t i = 0; i < n; ++i) {
      const arrow::ArrayData& d = *data[sources.batch[static_cast<size_t>(i)]];
      arrow::bit_util::SetBitTo(
          bits, i,
          arrow::bit_util::GetBit(d.buffers[1]->data(), d.offset + sources.row[static_cast<size_t>(i)]));
    }
    return arrow::MakeArray(arrow::ArrayData::Make(type, n, {validity, std::move(values)}, null_count));
  }
  const auto* fixed = dynamic_cast<const arrow::FixedWidthType*>(type.get());
  if (fixed == nullptr || fixed->bit_width() % 8 != 0 || id == arrow::Type::DICTIONARY) {
    // Any other type: concatenate, then Arrow's take.
    arrow::ArrayVector arrays;
    std::vector<int64_t> starts{0};
    for (const auto& chunk : chunks) {
      arrays.push_back(arrow::MakeArray(chunk));
      starts.push_back(starts.back() + chunk->length);
    }
    INTRADAY_ASSIGN_OR_RAISE(auto all, arrow::Concatenate(arrays));
    arrow::Int64Builder indices;
    for (int64_t i = 0; i < n; ++i)
      INTRADAY_RETURN_NOT_OK(indices.Append(starts[sources.batch[static_cast<size_t>(i)]] +
                                            sources.row[static_cast<size_t>(i)]));
    INTRADAY_ASSIGN_OR_RAISE(auto index_array, indices.Finish());
    INTRADAY_ASSIGN_OR_RAISE(auto taken, arrow::compute::Take(*all, *index_array));
    return taken;
  }
  const int width = fixed->bit_width() / 8;
  INTRADAY_ASSIGN_OR_RAISE(auto values, arrow::AllocateBuffer(n * width));
  uint8_t* dst = values->mutable_data();
  std::vector<const uint8_t*> bases;
  for (const auto* d : data) bases.push_back(d->buffers[1]->data() + d->offset * width);
  auto copy = [&]<typename T>(T*) {
    T* out = reinterpret_cast<T*>(dst);
    for (int64_t i = 0; i < n; ++i) {
      const T* src = reinterpret_cast<const T*>(bases[sources.batch[static_cast<size_t>(i)]]);
      out[i] = src[sources.row[static_cast<size_t>(i)]];
    }
  };
  switch (width) {
    case 8: copy(static_cast<uint64_t*>(nullptr)); break;
    case 4: copy(static_cast<uint32_t*>(nullptr)); break;
    case 2: copy(static_cast<uint16_t*>(nullptr)); break;
    case 1: copy(static_cast<uint8_t*>(nullptr)); break;
    default:
      for (int64_t i = 0; i < n; ++i) {
        std::memcpy(
            dst + i * width,
            bases[sources.batch[static_cast<size_t>(i)]] + sources.row[static_cast<size_t>(i)] * width,
            static_cast<size_t>(width));
      }
  }
  return arrow::MakeArray(arrow::ArrayData::Make(
      type, n, {validity, std::shared_ptr<arrow::Buffer>(std::move(values))}, null_count));
}

/// The rows of `batches` (taken as one sequence) in `order` (empty: their own order), as one
/// record batch; columns are gathered in parallel, and each input column is released as soon as
/// it is gathered, so that memory holds about one copy of the rows, not two.
Result<std::shared_ptr<arrow::RecordBatch>> GatherRows(
    std::vector<std::shared_ptr<arrow::RecordBatch>> batches, const std::vector<int64_t>& order,
    int threads) {
  std::vector<int64_t> starts{0};
  for (const auto& b : batches) starts.push_back(starts.back() + b->num_rows());
  const int64_t n = starts.back();
  RowSources sources;
  sources.batch.resize(static_cast<size_t>(n));
  sources.row.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t global = order.empty() ? i : order[static_cast<size_t>(i)];
    const auto b =
        static_cast<size_t>(std::upper_bound(starts.begin(), starts.end(), global) - starts.begin() - 1);
    sources.batch[static_cast<size_t>(i)] = static_cast<uint32_t>(b);
    sources.row[static_cast<size_t>(i)] = global - starts[b];
  }
  const auto schema = batches.front()->schema();
  std::vector<std::vector<std::shared_ptr<arrow::ArrayData>>> inputs(
      static_cast<size_t>(schema->num_fields()));
  for (auto& b : batches) {
    for (int c = 0; c < schema->num_fields(); ++c)
      inputs[static_cast<size_t>(c)].push_back(b->column_data(c));
  }
  batches.clear();
  std::vector<std::shared_ptr<arrow::Array>> columns(inputs.size());
  INTRADAY_RETURN_NOT_OK(ParallelFor(columns.size(), threads, [&](size_t c) -> Status {
    INTRADAY_ASSIGN_OR_RAISE(columns[c], GatherColumn(std::move(inputs[c]), sources));
    return Status::OK();
  }));
  return arrow::RecordBatch::Make(schema, n, std::move(columns));
}

Result<SortedTable> LoadTable(const Lake& lake, const Location& scratch, const TableColumns& columns,
                              const Task& task, const std::unordered_set<int64_t>& listings, int threads,
                              int64_t* input_rows) {
  SortedTable out;
  out.table = columns.table;
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
  std::shared_ptr<arrow::Schema> schema;
  for (const auto& input : task.inputs) {
    if (input.table != columns.table) continue;
    if (input.spill) {
      INTRADAY_ASSIGN_OR_RAISE(auto spilled, ReadSpill(input, scratch));
      for (auto& b : spilled) {
        *input_rows += b->num_rows();
        batches.push_back(std::move(b));
      }
      continue;
    }
    TableReadOptions options;
    options.columns = columns.columns;
    options.row_groups = input.row_groups;
    INTRADAY_ASSIGN_OR_RAISE(auto reader, TableFileReader::Open(lake.fs(), input.path, input.display_path,
                                                                columns.table, options));
    while (true) {
      INTRADAY_ASSIGN_OR_RAISE(auto batch, reader->Next());
      if (batch == nullptr) break;
      *input_rows += batch->num_rows();
      INTRADAY_ASSIGN_OR_RAISE(batch, KeepListings(batch, listings));
      if (batch->num_rows() > 0) batches.push_back(std::move(batch));
    }
  }
  if (batches.empty()) return out;
  const std::string time_name(SpecOf(columns.table).event_time_column);
  const int time_column = batches.front()->schema()->GetFieldIndex(time_name);
  const int id_column = batches.front()->schema()->GetFieldIndex("ListingId");
  int64_t n = 0, null_times = 0;
  for (const auto& b : batches) {
    n += b->num_rows();
    null_times += b->column(time_column)->null_count();
  }
  // Rows without an event time cannot be bucketed: rejected with the table named, rather than
  // silently dropped.
  if (null_times != 0) {
    return Status::Invalid("table ", SpecOf(columns.table).key, ": ", null_times, " rows have a null ",
                           time_name);
  }
  std::vector<int64_t> ids, times;
  ids.reserve(static_cast<size_t>(n));
  times.reserve(static_cast<size_t>(n));
  for (const auto& b : batches) {
    const auto* id = b->column_data(id_column)->GetValues<int64_t>(1);
    const auto* t = b->column_data(time_column)->GetValues<int64_t>(1);
    ids.insert(ids.end(), id, id + b->num_rows());
    times.insert(times.end(), t, t + b->num_rows());
  }
  const std::vector<int64_t> order = SortOrder(ids.data(), times.data(), n);
  ids = {};
  times = {};
  INTRADAY_ASSIGN_OR_RAISE(out.batch, GatherRows(std::move(batches), order, threads));
  out.time_column = time_column;
  out.listing_ids =
      out.batch->column_data(out.batch->schema()->GetFieldIndex("ListingId"))->GetValues<int64_t>(1);
  return out;
}

/// The rows [begin, end) of one listing in a sorted table.
std::pair<int64_t, int64_t> ListingRange(const SortedTable& table, int64_t listing, int64_t* cursor) {
  if (table.batch == nullptr) return {0, 0};
  const int64_t n = table.batch->num_rows();
  int64_t begin = *cursor;
  while (begin < n && table.listing_ids[begin] < listing) ++begin;
  int64_t end = begin;
  while (end < n && table.listing_ids[end] == listing) ++end;
  *cursor = end;
  return {begin, end};
}

}  // namespace

Status WriteIpcAtomic(const Location& location, const std::string& path,
                      const std::shared_ptr<arrow::Schema>& schema,
                      const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches, uint64_t* bytes) {
  INTRADAY_ASSIGN_OR_RAISE(auto file, location.OpenAtomic(path));
  INTRADAY_ASSIGN_OR_RAISE(auto writer, arrow::ipc::MakeFileWriter(file->stream(), schema));
  for (const auto& batch : batches) INTRADAY_RETURN_NOT_OK(writer->WriteRecordBatch(*batch));
  INTRADAY_RETURN_NOT_OK(writer->Close());
  INTRADAY_ASSIGN_OR_RAISE(int64_t size, file->Tell());
  *bytes = static_cast<uint64_t>(size);
  return file->Commit();
}

namespace {

/// The end of every event task: the output written atomically, the spill inputs deleted, the result.
Status FinishBatchTask(const Task& task, const Location& scratch,
                       const std::shared_ptr<arrow::Schema>& schema,
                       const std::vector<std::shared_ptr<arrow::RecordBatch>>& output_batches,
                       std::chrono::steady_clock::time_point started, TaskResult* result) {
  for (const auto& b : output_batches) result->output_rows += b->num_rows();
  INTRADAY_RETURN_NOT_OK(
      WriteIpcAtomic(scratch, task.output_path, schema, output_batches, &result->output_bytes));

  // The output is safe: the spill files of this batch are no longer needed.
  for (const auto& input : task.inputs) {
    if (!input.spill || !task.delete_spill_inputs) continue;
    (void)scratch.Delete(input.path);
  }
  result->compute_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  result->peak_rss_bytes = SelfPeakRssBytes();
  return scratch.WriteText(task.result_path, TaskResultToJson(*result));
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
      OutputAssembler assembler(schema, modules);
      INTRADAY_ASSIGN_OR_RAISE(const bool streamed,
                               StreamListing(task, *lake, scratch, columns, computer, &assembler, &result));
      if (streamed) {
        INTRADAY_ASSIGN_OR_RAISE(auto output_batches, assembler.Finish());
        return FinishBatchTask(task, scratch, schema, output_batches, started, &result);
      }
      result.input_rows = 0;
      result.listing_rows.clear();
    }
  }

  const std::unordered_set<int64_t> listings(task.listings.begin(), task.listings.end());
  // Tables load in parallel (each reads its files in turn), then listings are computed in
  // parallel in contiguous chunks whose outputs are concatenated in ListingId order: the output
  // is the same for any thread count.
  std::vector<SortedTable> tables(columns.size());
  std::vector<int64_t> rows_read(columns.size(), 0);
  INTRADAY_RETURN_NOT_OK(ParallelFor(columns.size(), task.threads, [&](size_t i) -> Status {
    const int take_threads = std::max(1, task.threads / static_cast<int>(columns.size()));
    INTRADAY_ASSIGN_OR_RAISE(
        tables[i], LoadTable(*lake, scratch, columns[i], task, listings, take_threads, &rows_read[i]));
    return Status::OK();
  }));
  for (int64_t rows : rows_read) result.input_rows += rows;
  std::vector<Table> table_order;
  for (const auto& t : tables) table_order.push_back(t.table);
  const ListingDayComputer computer(modules, ShapeOf(*pass), pass->session_padding_ns, table_order);

  // Each listing's rows in every table, and chunks of listings with about equal input rows.
  const size_t n = task.listings.size();
  std::vector<std::vector<std::pair<int64_t, int64_t>>> ranges(
      n, std::vector<std::pair<int64_t, int64_t>>(tables.size()));
  std::vector<int64_t> cursors(tables.size(), 0);
  int64_t total_rows = 0;
  std::vector<std::vector<int64_t>*> listing_rows;  // rows read per listing, for the size history
  for (const auto& t : tables) listing_rows.push_back(&result.listing_rows[t.table]);
  for (size_t l = 0; l < n; ++l) {
    for (size_t i = 0; i < tables.size(); ++i) {
      ranges[l][i] = ListingRange(tables[i], task.listings[l], &cursors[i]);
      listing_rows[i]->push_back(ranges[l][i].second - ranges[l][i].first);
      total_rows += ranges[l][i].second - ranges[l][i].first;
    }
  }
  const size_t chunks = std::min(n, static_cast<size_t>(std::max(1, task.threads)) * 4);
  std::vector<size_t> chunk_begin{0};
  int64_t acc = 0;
  for (size_t l = 0; l < n && chunks > 1; ++l) {
    for (const auto& [b, e] : ranges[l]) acc += e - b;
    if (acc * static_cast<int64_t>(chunks) >= total_rows * static_cast<int64_t>(chunk_begin.size()) &&
        l + 1 < n && chunk_begin.size() < chunks)
      chunk_begin.push_back(l + 1);
  }
  chunk_begin.push_back(n);
  std::vector<std::vector<std::shared_ptr<arrow::RecordBatch>>> chunk_outputs(chunk_begin.size() - 1);
  INTRADAY_RETURN_NOT_OK(ParallelFor(chunk_outputs.size(), task.threads, [&](size_t c) -> Status {
    OutputAssembler assembler(schema, modules);
    std::vector<ListingTable> views(tables.size());
    std::vector<int64_t> labels;
    std::vector<OutputBlock> blocks;
    for (size_t l = chunk_begin[c]; l < chunk_begin[c + 1]; ++l) {
      for (size_t i = 0; i < tables.size(); ++i) {
        const auto [begin, end] = ranges[l][i];
        views[i] = end > begin
                       ? ListingTable(tables[i].batch->Slice(begin, end - begin), tables[i].time_column)
                       : ListingTable();
      }
      INTRADAY_RETURN_NOT_OK(computer.Compute(task.listings[l], task.day, views, &labels, &blocks));
      if (labels.empty()) continue;
      INTRADAY_RETURN_NOT_OK(assembler.Append(task.listings[l], labels, blocks));
    }
    INTRADAY_ASSIGN_OR_RAISE(chunk_outputs[c], assembler.Finish());
    return Status::OK();
  }));
  tables.clear();
  std::vector<std::shared_ptr<arrow::RecordBatch>> output_batches;
  for (auto& chunk : chunk_outputs) {
    for (auto& b : chunk) output_batches.push_back(std::move(b));
  }
  return FinishBatchTask(task, scratch, schema, output_batches, started, &result);
}

}  // namespace intraday
