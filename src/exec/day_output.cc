#include "exec/day_output.h"

#include <arrow/array.h>
#include <arrow/io/file.h>
#include <arrow/ipc/reader.h>
#include <arrow/record_batch.h>
#include <arrow/table.h>
#include <parquet/arrow/writer.h>
#include <parquet/properties.h>

namespace intraday {
namespace {

/// Re-cuts a stream of record batches into chunks of exactly `chunk_rows` rows (the last may be
/// shorter) and hands them to the Parquet writer.
class ChunkedWriter {
 public:
  ChunkedWriter(parquet::arrow::FileWriter* writer, std::shared_ptr<arrow::Schema> schema, int64_t chunk_rows)
      : writer_(writer), schema_(std::move(schema)), chunk_rows_(chunk_rows) {}

  Status Add(const std::shared_ptr<arrow::RecordBatch>& batch) {
    int64_t offset = 0;
    while (offset < batch->num_rows()) {
      const int64_t take = std::min(chunk_rows_ - pending_rows_, batch->num_rows() - offset);
      pending_.push_back(batch->Slice(offset, take));
      pending_rows_ += take;
      offset += take;
      if (pending_rows_ == chunk_rows_) INTRADAY_RETURN_NOT_OK(Flush());
    }
    return Status::OK();
  }

  Status Flush() {
    if (pending_rows_ == 0) return Status::OK();
    INTRADAY_ASSIGN_OR_RAISE(auto table, arrow::Table::FromRecordBatches(schema_, pending_));
    INTRADAY_ASSIGN_OR_RAISE(auto chunk, table->CombineChunksToBatch());
    INTRADAY_RETURN_NOT_OK(writer_->WriteRecordBatch(*chunk));
    pending_.clear();
    pending_rows_ = 0;
    return Status::OK();
  }

 private:
  parquet::arrow::FileWriter* writer_;
  std::shared_ptr<arrow::Schema> schema_;
  int64_t chunk_rows_;
  std::vector<std::shared_ptr<arrow::RecordBatch>> pending_;
  int64_t pending_rows_ = 0;
};

}  // namespace

Result<DayOutputStats> WriteDayParquet(const std::vector<std::string>& batch_outputs,
                                       const std::shared_ptr<arrow::Schema>& schema,
                                       const std::string& parquet_path) {
  auto properties = parquet::WriterProperties::Builder()
                        .compression(parquet::Compression::ZSTD)
                        ->max_row_group_length(kOutputRowGroupRows)
                        ->build();
  auto arrow_properties = parquet::ArrowWriterProperties::Builder().store_schema()->build();
  INTRADAY_ASSIGN_OR_RAISE(auto sink, arrow::io::FileOutputStream::Open(parquet_path));
  INTRADAY_ASSIGN_OR_RAISE(
      auto writer, parquet::arrow::FileWriter::Open(*schema, arrow::default_memory_pool(), sink, properties,
                                                    arrow_properties));
  // Chunks of a row group's size: each write is then exactly one row group, whatever the input.
  ChunkedWriter chunks(writer.get(), schema, kOutputRowGroupRows);
  DayOutputStats stats;
  bool have_last = false;
  int64_t last_listing = 0, last_bucket = 0;
  for (const auto& path : batch_outputs) {
    INTRADAY_ASSIGN_OR_RAISE(auto file, arrow::io::ReadableFile::Open(path));
    INTRADAY_ASSIGN_OR_RAISE(auto reader, arrow::ipc::RecordBatchFileReader::Open(file));
    if (!reader->schema()->Equals(*schema)) {
      return Status::Invalid(path, ": batch output schema differs from the pass's output schema");
    }
    for (int i = 0; i < reader->num_record_batches(); ++i) {
      INTRADAY_ASSIGN_OR_RAISE(auto batch, reader->ReadRecordBatch(i));
      const auto* listings = batch->column_data(0)->GetValues<int64_t>(1);
      const auto* buckets = batch->column_data(1)->GetValues<int64_t>(1);
      for (int64_t r = 0; r < batch->num_rows(); ++r) {
        if (have_last &&
            (listings[r] < last_listing || (listings[r] == last_listing && buckets[r] <= last_bucket))) {
          return Status::Invalid(path, ": rows out of (ListingId, TimeBucket) order at ListingId ",
                                 listings[r]);
        }
        have_last = true;
        last_listing = listings[r];
        last_bucket = buckets[r];
      }
      stats.rows += batch->num_rows();
      INTRADAY_RETURN_NOT_OK(chunks.Add(batch));
    }
  }
  INTRADAY_RETURN_NOT_OK(chunks.Flush());
  INTRADAY_RETURN_NOT_OK(writer->Close());
  INTRADAY_ASSIGN_OR_RAISE(int64_t size, sink->Tell());
  INTRADAY_RETURN_NOT_OK(sink->Close());
  stats.bytes = static_cast<uint64_t>(size);
  return stats;
}

}  // namespace intraday
