#include "exec/batch_worker.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <unordered_set>

#include <arrow/array.h>
#include <arrow/builder.h>
#include <arrow/compute/api.h>
#include <arrow/io/file.h>
#include <arrow/ipc/reader.h>
#include <arrow/ipc/writer.h>
#include <arrow/table.h>

#include "config/config_json.h"
#include "config/config_loader.h"
#include "exec/output_schema.h"
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

Result<std::shared_ptr<arrow::RecordBatch>> KeepListings(const std::shared_ptr<arrow::RecordBatch>& batch,
                                                         const std::unordered_set<int64_t>& listings) {
  const auto& ids = static_cast<const arrow::Int64Array&>(*batch->GetColumnByName("ListingId"));
  arrow::BooleanBuilder keep;
  INTRADAY_RETURN_NOT_OK(keep.Reserve(ids.length()));
  bool all = true;
  for (int64_t i = 0; i < ids.length(); ++i) {
    const bool k = ids.IsValid(i) && listings.count(ids.Value(i)) != 0;
    all = all && k;
    keep.UnsafeAppend(k);
  }
  if (all) return batch;
  INTRADAY_ASSIGN_OR_RAISE(auto mask, keep.Finish());
  INTRADAY_ASSIGN_OR_RAISE(auto filtered, arrow::compute::Filter(batch, mask));
  return filtered.record_batch();
}

Result<std::vector<std::shared_ptr<arrow::RecordBatch>>> ReadSpill(const TaskInput& input) {
  INTRADAY_ASSIGN_OR_RAISE(auto file, arrow::io::ReadableFile::Open(input.path));
  auto reader = arrow::ipc::RecordBatchFileReader::Open(file);
  if (!reader.ok()) return reader.status().WithMessage(input.display_path, ": ", reader.status().message());
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
  for (int i = 0; i < (*reader)->num_record_batches(); ++i) {
    INTRADAY_ASSIGN_OR_RAISE(auto batch, (*reader)->ReadRecordBatch(i));
    batches.push_back(std::move(batch));
  }
  return batches;
}

Result<SortedTable> LoadTable(const Lake& lake, const TableColumns& columns, const Task& task,
                              const std::unordered_set<int64_t>& listings, int64_t* input_rows) {
  SortedTable out;
  out.table = columns.table;
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
  std::shared_ptr<arrow::Schema> schema;
  for (const auto& input : task.inputs) {
    if (input.table != columns.table) continue;
    if (input.spill) {
      INTRADAY_ASSIGN_OR_RAISE(auto spilled, ReadSpill(input));
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
  // Files of different MICs may differ in nullability or dictionary flags; the reader already
  // normalised types, so unify on the first schema's field types.
  INTRADAY_ASSIGN_OR_RAISE(auto table, arrow::Table::FromRecordBatches(batches));
  batches.clear();
  INTRADAY_ASSIGN_OR_RAISE(auto combined, table->CombineChunksToBatch());
  table.reset();
  const std::string time_name(SpecOf(columns.table).event_time_column);
  // Arrow's sort is stable: rows with equal keys keep their input order.
  const arrow::compute::SortOptions sort(
      {arrow::compute::SortKey("ListingId", arrow::compute::SortOrder::Ascending,
                               arrow::compute::NullPlacement::AtEnd),
       arrow::compute::SortKey(time_name, arrow::compute::SortOrder::Ascending,
                               arrow::compute::NullPlacement::AtEnd)});
  INTRADAY_ASSIGN_OR_RAISE(auto indices, arrow::compute::SortIndices(arrow::Datum(combined), sort));
  INTRADAY_ASSIGN_OR_RAISE(auto sorted, arrow::compute::Take(arrow::Datum(combined), arrow::Datum(indices)));
  out.batch = sorted.record_batch();
  out.time_column = out.batch->schema()->GetFieldIndex(time_name);
  out.listing_ids =
      out.batch->column_data(out.batch->schema()->GetFieldIndex("ListingId"))->GetValues<int64_t>(1);
  // Rows without an event time cannot be bucketed; they sort last within their listing and are
  // rejected with the file's table named, rather than silently dropped.
  if (out.batch->column(out.time_column)->null_count() != 0) {
    return Status::Invalid("table ", SpecOf(columns.table).key, ": ",
                           out.batch->column(out.time_column)->null_count(), " rows have a null ", time_name);
  }
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

Status WriteIpcAtomic(const std::string& path, const std::shared_ptr<arrow::Schema>& schema,
                      const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches, uint64_t* bytes) {
  const std::string tmp = path + ".partial";
  {
    INTRADAY_ASSIGN_OR_RAISE(auto file, arrow::io::FileOutputStream::Open(tmp));
    INTRADAY_ASSIGN_OR_RAISE(auto writer, arrow::ipc::MakeFileWriter(file, schema));
    for (const auto& batch : batches) INTRADAY_RETURN_NOT_OK(writer->WriteRecordBatch(*batch));
    INTRADAY_RETURN_NOT_OK(writer->Close());
    INTRADAY_ASSIGN_OR_RAISE(int64_t size, file->Tell());
    *bytes = static_cast<uint64_t>(size);
    INTRADAY_RETURN_NOT_OK(file->Close());
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Status::IOError("cannot rename ", tmp, " to ", path, ": ", ec.message());
  return Status::OK();
}

}  // namespace

Status RunBatchTask(const Task& task) {
  const auto started = std::chrono::steady_clock::now();
  INTRADAY_RETURN_NOT_OK(EnsureComputeInitialized());
  INTRADAY_ASSIGN_OR_RAISE(PipelineConfig config, LoadPipelineConfigWithModules(task.config_file));
  if (ConfigHashHex(config) != task.config_hash) {
    return Status::Invalid(task.config_file, " changed since the run was planned (config hash ",
                           ConfigHashHex(config), ", planned with ", task.config_hash, ")");
  }
  const PassConfig* pass = config.FindPass(task.pass);
  if (pass == nullptr) return Status::Invalid("no pass '", task.pass, "' in ", task.config_file);
  INTRADAY_ASSIGN_OR_RAISE(auto modules, CreatePassModules(*pass, task.config_file));
  const std::vector<TableColumns> columns = PassColumns(modules, *pass);
  INTRADAY_ASSIGN_OR_RAISE(auto schema, PassOutputSchema(modules));
  INTRADAY_ASSIGN_OR_RAISE(auto lake, Lake::Open(config.data.ToLakeOptions()));

  const std::unordered_set<int64_t> listings(task.listings.begin(), task.listings.end());
  TaskResult result;
  std::vector<SortedTable> tables;
  for (const auto& table_columns : columns) {
    INTRADAY_ASSIGN_OR_RAISE(auto table, LoadTable(*lake, table_columns, task, listings, &result.input_rows));
    tables.push_back(std::move(table));
  }
  std::vector<Table> table_order;
  for (const auto& t : tables) table_order.push_back(t.table);
  const ListingDayComputer computer(modules, ShapeOf(*pass), pass->session_padding_ns, table_order);
  OutputAssembler assembler(schema, modules);
  std::vector<int64_t> cursors(tables.size(), 0);
  std::vector<ListingTable> views(tables.size());
  std::vector<int64_t> labels;
  std::vector<OutputBlock> blocks;
  std::vector<std::vector<int64_t>*> listing_rows;
  for (const auto& t : tables) listing_rows.push_back(&result.listing_rows[t.table]);
  for (int64_t listing : task.listings) {
    for (size_t i = 0; i < tables.size(); ++i) {
      const auto [begin, end] = ListingRange(tables[i], listing, &cursors[i]);
      listing_rows[i]->push_back(end - begin);
      views[i] = end > begin ? ListingTable(tables[i].batch->Slice(begin, end - begin), tables[i].time_column)
                             : ListingTable();
    }
    INTRADAY_RETURN_NOT_OK(computer.Compute(listing, task.day, views, &labels, &blocks));
    if (labels.empty()) continue;
    INTRADAY_RETURN_NOT_OK(assembler.Append(listing, labels, blocks));
  }
  tables.clear();
  INTRADAY_ASSIGN_OR_RAISE(auto output_batches, assembler.Finish());
  for (const auto& b : output_batches) result.output_rows += b->num_rows();
  INTRADAY_RETURN_NOT_OK(WriteIpcAtomic(task.output_path, schema, output_batches, &result.output_bytes));

  // The output is safe: the spill files of this batch are no longer needed.
  for (const auto& input : task.inputs) {
    if (!input.spill || !task.delete_spill_inputs) continue;
    std::error_code ec;
    std::filesystem::remove(input.path, ec);
  }
  result.compute_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return WriteFileAtomic(task.result_path, TaskResultToJson(result));
}

}  // namespace intraday
