// The worker body of a later pass's task (batch_worker.h): source rows in, the module's table out.
#include <algorithm>
#include <chrono>
#include <optional>

#include <arrow/array.h>
#include <arrow/builder.h>
#include <arrow/compute/api.h>
#include <arrow/table.h>
#include <parquet/arrow/reader.h>

#include "exec/batch_worker.h"
#include "exec/process.h"
#include "io/arrow_compute.h"
#include "io/lake.h"
#include "metrics/registry.h"
#include "plan/derived_plan.h"

namespace intraday {
namespace {

/// The rows of `listings` in one day file of the source pass (a URI in `output`), `columns`
/// only, one row group at a time so that memory holds the kept rows plus one row group.
Result<std::shared_ptr<arrow::Table>> ReadSourceRows(const Location& output, const std::string& path,
                                                     const std::vector<std::string>& columns,
                                                     const std::shared_ptr<arrow::Array>& listings,
                                                     int64_t* rows_read) {
  auto annotate = [&](const Status& st) { return st.ok() ? st : st.WithMessage(path, ": ", st.message()); };
  auto input = output.OpenInput(path);
  if (!input.ok()) return annotate(input.status());
  auto opened = parquet::arrow::OpenFile(*input, arrow::default_memory_pool());
  if (!opened.ok()) return annotate(opened.status());
  std::unique_ptr<parquet::arrow::FileReader> reader = std::move(*opened);
  std::shared_ptr<arrow::Schema> schema;
  INTRADAY_RETURN_NOT_OK(annotate(reader->GetSchema(&schema)));
  std::vector<int> indices;
  for (const auto& c : columns) {
    const int index = schema->GetFieldIndex(c);
    if (index < 0) return Status::Invalid(path, ": no column '", c, "'");
    indices.push_back(index);
  }
  const arrow::compute::SetLookupOptions lookup(listings);
  std::vector<std::shared_ptr<arrow::Table>> kept;
  for (int rg = 0; rg < reader->num_row_groups(); ++rg) {
    auto read = reader->ReadRowGroup(rg, indices);
    if (!read.ok()) return annotate(read.status());
    std::shared_ptr<arrow::Table> table = *read;
    *rows_read += table->num_rows();
    INTRADAY_ASSIGN_OR_RAISE(auto mask, arrow::compute::IsIn(table->GetColumnByName("ListingId"), lookup));
    INTRADAY_ASSIGN_OR_RAISE(auto filtered, arrow::compute::Filter(table, mask));
    if (filtered.table()->num_rows() > 0) kept.push_back(filtered.table());
  }
  if (kept.empty()) {
    arrow::FieldVector fields;
    for (int index : indices) fields.push_back(schema->field(index));
    return arrow::Table::MakeEmpty(arrow::schema(fields));
  }
  return arrow::ConcatenateTables(kept);
}

}  // namespace

Status RunDerivedTask(const Task& task, const PipelineConfig& config, const PassConfig& pass,
                      const Location& scratch) {
  const auto started = std::chrono::steady_clock::now();
  INTRADAY_ASSIGN_OR_RAISE(auto module, CreateDerivedModule(config, pass));
  INTRADAY_ASSIGN_OR_RAISE(auto lake, Lake::Open(config.data.ToLakeOptions()));
  std::vector<int64_t> listings = task.listings;
  std::sort(listings.begin(), listings.end());
  std::vector<std::string> warnings;  // the driver reported them when it planned the day
  DerivedInput input;
  input.day = task.day;
  INTRADAY_ASSIGN_OR_RAISE(input.universe,
                           DerivedUniverse(*lake, config, *module, task.day, listings, &warnings));
  arrow::Int64Builder ids;
  INTRADAY_RETURN_NOT_OK(ids.AppendValues(listings));
  std::shared_ptr<arrow::Array> id_array;
  INTRADAY_RETURN_NOT_OK(ids.Finish(&id_array));
  TaskResult result;
  // The source files are the driver's run.output (the worker's config may name another one
  // through a command-line override): open the location they name.
  std::optional<Location> output;
  if (!task.source_files.empty()) {
    INTRADAY_ASSIGN_OR_RAISE(output, Location::Open(task.source_files.front(), config.data.s3));
  }
  for (const auto& file : task.source_files) {
    INTRADAY_ASSIGN_OR_RAISE(
        auto rows, ReadSourceRows(*output, file, module->source_columns(), id_array, &result.input_rows));
    input.days.push_back(std::move(rows));
  }
  INTRADAY_ASSIGN_OR_RAISE(auto schema, module->OutputSchema(*input.universe->schema()));
  INTRADAY_ASSIGN_OR_RAISE(auto table, module->Compute(input));
  input.days.clear();
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
  arrow::TableBatchReader reader(*table);
  reader.set_chunksize(64 * 1024);
  while (true) {
    std::shared_ptr<arrow::RecordBatch> batch;
    INTRADAY_RETURN_NOT_OK(reader.ReadNext(&batch));
    if (batch == nullptr) break;
    batches.push_back(std::move(batch));
  }
  result.output_rows = table->num_rows();
  INTRADAY_RETURN_NOT_OK(WriteIpcAtomic(scratch, task.output_path, schema, batches, &result.output_bytes));
  result.compute_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  result.peak_rss_bytes = SelfPeakRssBytes();
  return scratch.WriteText(task.result_path, TaskResultToJson(result));
}

}  // namespace intraday
