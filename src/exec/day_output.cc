#include "exec/day_output.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <arrow/array.h>
#include <arrow/io/file.h>
#include <arrow/ipc/reader.h>
#include <arrow/memory_pool.h>
#include <arrow/record_batch.h>
#include <arrow/table.h>
#include <parquet/arrow/writer.h>
#include <parquet/properties.h>

namespace intraday {
// Not an anonymous namespace: DayFileWriter::Impl, which has external linkage, holds these.
namespace day_output_internal {

/// Re-cuts a stream of record batches into chunks of exactly `chunk_rows` rows (the last may be
/// shorter) and hands them to the Parquet writer, which fills its row groups from them: what it
/// is given, and so the file's bytes, depends only on the rows, never on the batches' sizes.
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
    if (pending_.size() == 1) {  // a slice of one input batch: no copy
      INTRADAY_RETURN_NOT_OK(writer_->WriteRecordBatch(*pending_.front()));
    } else {
      INTRADAY_ASSIGN_OR_RAISE(auto table, arrow::Table::FromRecordBatches(schema_, pending_));
      INTRADAY_ASSIGN_OR_RAISE(auto chunk, table->CombineChunksToBatch());
      INTRADAY_RETURN_NOT_OK(writer_->WriteRecordBatch(*chunk));
    }
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

/// Checks that rows increase strictly in their key columns (int64, timestamp, string or bool),
/// across record batches. Keys are kept as text-free values so that a day of millions of rows
/// costs one comparison per key column per row.
class KeyOrderCheck {
 public:
  explicit KeyOrderCheck(int key_columns) : key_columns_(key_columns) {}

  Status Check(const arrow::RecordBatch& batch, const std::string& path) {
    for (int64_t r = 0; r < batch.num_rows(); ++r) {
      int cmp = have_last_ ? 0 : 1;
      for (int c = 0; c < key_columns_ && cmp == 0; ++c) cmp = Compare(*batch.column(c), r, c);
      if (cmp <= 0) {
        return Status::Invalid(path, ": rows out of (", KeyNames(batch), ") order at row ", r);
      }
      Remember(batch, r);
    }
    return Status::OK();
  }

 private:
  struct Value {
    int64_t i = 0;
    std::string s;
  };

  static bool IsIntegral(const arrow::Array& a) {
    return a.type_id() == arrow::Type::INT64 || a.type_id() == arrow::Type::TIMESTAMP;
  }

  int Compare(const arrow::Array& column, int64_t row, int c) const {
    const Value& last = last_[static_cast<size_t>(c)];
    if (IsIntegral(column)) {
      const int64_t v = column.data()->GetValues<int64_t>(1)[row];
      return v < last.i ? -1 : (v > last.i ? 1 : 0);
    }
    if (column.type_id() == arrow::Type::BOOL) {
      const int64_t v = static_cast<const arrow::BooleanArray&>(column).Value(row) ? 1 : 0;
      return v < last.i ? -1 : (v > last.i ? 1 : 0);
    }
    const int cmp = static_cast<const arrow::StringArray&>(column).GetView(row).compare(last.s);
    return cmp < 0 ? -1 : (cmp > 0 ? 1 : 0);
  }

  void Remember(const arrow::RecordBatch& batch, int64_t row) {
    last_.resize(static_cast<size_t>(key_columns_));
    for (int c = 0; c < key_columns_; ++c) {
      const arrow::Array& column = *batch.column(c);
      Value& v = last_[static_cast<size_t>(c)];
      if (IsIntegral(column)) {
        v.i = column.data()->GetValues<int64_t>(1)[row];
      } else if (column.type_id() == arrow::Type::BOOL) {
        v.i = static_cast<const arrow::BooleanArray&>(column).Value(row) ? 1 : 0;
      } else {
        v.s = std::string(static_cast<const arrow::StringArray&>(column).GetView(row));
      }
    }
    have_last_ = true;
  }

  std::string KeyNames(const arrow::RecordBatch& batch) const {
    std::string names;
    for (int c = 0; c < key_columns_; ++c) names += (c ? ", " : "") + batch.schema()->field(c)->name();
    return names;
  }

  int key_columns_;
  bool have_last_ = false;
  std::vector<Value> last_;
};

}  // namespace day_output_internal

class DayFileWriter::Impl {
 public:
  Impl(std::unique_ptr<parquet::arrow::FileWriter> writer, std::shared_ptr<arrow::Schema> schema,
       std::shared_ptr<arrow::io::OutputStream> sink, int key_columns)
      : writer_(std::move(writer)),
        sink_(std::move(sink)),
        // A quarter of a row group per write: the writer is handed one chunk of the wide output
        // rows at a time, not a whole row group of them (it keeps only the group's encoded pages).
        chunks_(writer_.get(), std::move(schema), kOutputChunkRows),
        order_(key_columns) {}

  Status Add(const std::shared_ptr<arrow::RecordBatch>& batch, const std::string& source) {
    INTRADAY_RETURN_NOT_OK(order_.Check(*batch, source));
    stats_.rows += batch->num_rows();
    return chunks_.Add(batch);
  }

  Result<DayOutputStats> Finish() {
    INTRADAY_RETURN_NOT_OK(chunks_.Flush());
    INTRADAY_RETURN_NOT_OK(writer_->Close());
    INTRADAY_ASSIGN_OR_RAISE(int64_t size, sink_->Tell());
    stats_.bytes = static_cast<uint64_t>(size);
    return stats_;
  }

 private:
  std::unique_ptr<parquet::arrow::FileWriter> writer_;
  std::shared_ptr<arrow::io::OutputStream> sink_;
  day_output_internal::ChunkedWriter chunks_;
  day_output_internal::KeyOrderCheck order_;
  DayOutputStats stats_;
};

DayFileWriter::DayFileWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DayFileWriter::~DayFileWriter() = default;

Result<std::unique_ptr<DayFileWriter>> DayFileWriter::Open(std::shared_ptr<arrow::Schema> schema,
                                                           std::shared_ptr<arrow::io::OutputStream> sink,
                                                           int key_columns,
                                                           const DayFileCompression& compression) {
  // Dictionaries pay for strings (states, tickers); for measurements (float64, int64) they cost
  // more to build than ZSTD gains (the profile in docs/benchmarks.md).
  parquet::WriterProperties::Builder builder;
  parquet::Compression::type codec = parquet::Compression::ZSTD;
  if (compression.codec == "snappy") {
    codec = parquet::Compression::SNAPPY;
  } else if (compression.codec == "gzip") {
    codec = parquet::Compression::GZIP;
  } else if (compression.codec == "none") {
    codec = parquet::Compression::UNCOMPRESSED;
  } else if (compression.codec != "zstd") {
    return Status::Invalid("unknown output compression '", compression.codec, "'");
  }
  if (compression.level) builder.compression_level(*compression.level);
  builder.compression(codec)
      ->max_row_group_length(kOutputRowGroupRows)
      // Small pages: each column's page is buffered uncompressed until it is full, and a row
      // group of ~150 wide columns rarely fills 1 MiB pages (the default): 64 KiB took the
      // driver's peak while writing from 205 to 160 MiB (100 listings), same file size.
      ->data_pagesize(64 * 1024)
      ->disable_dictionary();
  for (const auto& field : schema->fields()) {
    if (field->type()->id() == arrow::Type::STRING) builder.enable_dictionary(field->name());
  }
  auto properties = builder.build();
  // Columns are encoded and compressed in parallel (on Arrow's CPU pool): the last day's file is
  // written while no batch runs, and would otherwise leave all cores but one idle.
  auto arrow_properties =
      parquet::ArrowWriterProperties::Builder().store_schema()->set_use_threads(true)->build();
  INTRADAY_ASSIGN_OR_RAISE(
      auto writer, parquet::arrow::FileWriter::Open(*schema, arrow::default_memory_pool(), sink, properties,
                                                    arrow_properties));
  return std::unique_ptr<DayFileWriter>(new DayFileWriter(
      std::make_unique<Impl>(std::move(writer), std::move(schema), std::move(sink), key_columns)));
}

Status DayFileWriter::Add(const std::shared_ptr<arrow::RecordBatch>& batch, const std::string& source) {
  return impl_->Add(batch, source);
}

Result<DayOutputStats> DayFileWriter::Finish() { return impl_->Finish(); }

class DayFileFromOutputs::Impl {
 public:
  Impl(const Location& inputs, std::shared_ptr<arrow::Schema> schema, std::unique_ptr<DayFileWriter> writer)
      : inputs_(inputs), schema_(std::move(schema)), writer_(std::move(writer)) {
    thread_ = std::thread([this] { Loop(); });
  }

  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      cancelled_ = closed_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  void Add(std::string output_uri) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(std::move(output_uri));
    }
    wake_.notify_all();
  }

  Result<DayOutputStats> Finish() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closed_ = true;
    }
    wake_.notify_all();
    thread_.join();
    INTRADAY_RETURN_NOT_OK(status_);
    INTRADAY_ASSIGN_OR_RAISE(const DayOutputStats stats, writer_->Finish());
    arrow::default_memory_pool()->ReleaseUnused();  // the driver lives on, beside the workers
    return stats;
  }

 private:
  void Loop() {
    while (true) {
      std::string path;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [this] { return !queue_.empty() || closed_; });
        if (queue_.empty() || cancelled_) return;
        path = std::move(queue_.front());
        queue_.pop_front();
      }
      if (status_.ok()) status_ = Append(path);
    }
  }

  Status Append(const std::string& path) {
    INTRADAY_ASSIGN_OR_RAISE(auto file, inputs_.OpenInput(path));
    INTRADAY_ASSIGN_OR_RAISE(auto reader, arrow::ipc::RecordBatchFileReader::Open(file));
    if (!reader->schema()->Equals(*schema_)) {
      return Status::Invalid(path, ": batch output schema differs from the pass's output schema");
    }
    for (int i = 0; i < reader->num_record_batches(); ++i) {
      if (Cancelled()) return Status::Cancelled("day file abandoned");
      INTRADAY_ASSIGN_OR_RAISE(auto batch, reader->ReadRecordBatch(i));
      INTRADAY_RETURN_NOT_OK(writer_->Add(batch, path));
    }
    return Status::OK();
  }

  bool Cancelled() {
    std::lock_guard<std::mutex> lock(mutex_);
    return cancelled_;
  }

  const Location& inputs_;
  std::shared_ptr<arrow::Schema> schema_;
  std::unique_ptr<DayFileWriter> writer_;
  Status status_;  // the thread's, read by Finish after the join
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::string> queue_;
  bool closed_ = false;     // no more outputs: the thread ends once the queue is empty
  bool cancelled_ = false;  // the thread ends at once
  std::thread thread_;      // last: starts once the members it uses exist
};

DayFileFromOutputs::DayFileFromOutputs(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DayFileFromOutputs::~DayFileFromOutputs() = default;

Result<std::unique_ptr<DayFileFromOutputs>> DayFileFromOutputs::Open(
    const Location& inputs, std::shared_ptr<arrow::Schema> schema,
    std::shared_ptr<arrow::io::OutputStream> sink, int key_columns, const DayFileCompression& compression) {
  INTRADAY_ASSIGN_OR_RAISE(auto writer,
                           DayFileWriter::Open(schema, std::move(sink), key_columns, compression));
  return std::unique_ptr<DayFileFromOutputs>(
      new DayFileFromOutputs(std::make_unique<Impl>(inputs, std::move(schema), std::move(writer))));
}

void DayFileFromOutputs::Add(std::string output_uri) { impl_->Add(std::move(output_uri)); }

Result<DayOutputStats> DayFileFromOutputs::Finish() { return impl_->Finish(); }

Result<DayOutputStats> WriteDayParquet(const Location& inputs, const std::vector<std::string>& batch_outputs,
                                       const std::shared_ptr<arrow::Schema>& schema,
                                       const std::shared_ptr<arrow::io::OutputStream>& sink,
                                       int key_columns) {
  INTRADAY_ASSIGN_OR_RAISE(auto day_file, DayFileFromOutputs::Open(inputs, schema, sink, key_columns));
  for (const auto& path : batch_outputs) day_file->Add(path);
  return day_file->Finish();
}

Result<DayOutputStats> WriteDayParquet(const std::vector<std::string>& batch_outputs,
                                       const std::shared_ptr<arrow::Schema>& schema,
                                       const std::string& parquet_path, int key_columns) {
  INTRADAY_ASSIGN_OR_RAISE(auto local, Location::Open("/", S3Settings{}));
  INTRADAY_ASSIGN_OR_RAISE(auto sink, arrow::io::FileOutputStream::Open(parquet_path));
  INTRADAY_ASSIGN_OR_RAISE(auto stats, WriteDayParquet(local, batch_outputs, schema, sink, key_columns));
  INTRADAY_RETURN_NOT_OK(sink->Close());
  return stats;
}

}  // namespace intraday
