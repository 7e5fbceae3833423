// Streaming reader of one vendor Parquet file: only the requested columns, one bounded record
// batch at a time (never the whole file), every timestamp column as timestamp[ns] (physically
// int64 nanoseconds since the epoch, whatever unit the file stores), key columns checked and
// converted to the kinds of the table catalogue, and LocalPrice derived for trades.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <arrow/filesystem/filesystem.h>
#include <arrow/record_batch.h>
#include <parquet/arrow/reader.h>

#include "common/status.h"
#include "io/table_catalog.h"

namespace intraday {

struct TableReadOptions {
  /// Columns to read, in output order. Empty = every column of the file. May include
  /// kLocalPriceColumn for trades (derived, needs nothing else requested explicitly).
  std::vector<std::string> columns;
  /// Row groups to read, in order. Empty = all.
  std::vector<int> row_groups;
  /// Upper bound on rows per returned batch: bounds memory whatever the row-group size.
  int64_t batch_rows = 64 * 1024;
  /// The file's footer, when an earlier reader of the same file has read it (metadata()): it is
  /// then not read again (one request fewer per reader on an object store).
  std::shared_ptr<parquet::FileMetaData> metadata;
};

class TableFileReader {
 public:
  /// Opens `path` on `fs`. `display_path` names the file in every error message. Fails, naming
  /// the file and the column, when a requested column is missing or has an unusable type.
  static Result<std::unique_ptr<TableFileReader>> Open(std::shared_ptr<arrow::fs::FileSystem> fs,
                                                       const std::string& path, std::string display_path,
                                                       Table table, TableReadOptions options);

  /// The next batch, or nullptr at the end of the file.
  Result<std::shared_ptr<arrow::RecordBatch>> Next();

  /// Reads everything that is left into one batch list (for small files and tests).
  Result<std::vector<std::shared_ptr<arrow::RecordBatch>>> ReadAll();

  const std::shared_ptr<arrow::Schema>& schema() const { return output_schema_; }
  const std::shared_ptr<parquet::FileMetaData>& metadata() const { return metadata_; }
  int64_t num_rows() const;
  const std::string& display_path() const { return display_path_; }

  /// Lets go of the file's pages read so far (io/mapped_file.h), for a reader kept for later.
  int64_t ReleaseReadPages();

 private:
  TableFileReader() = default;
  Status Init(const std::string& path);
  Result<std::shared_ptr<arrow::RecordBatch>> Normalize(
      const std::shared_ptr<arrow::RecordBatch>& batch) const;
  Status Annotate(const Status& st) const;

  std::shared_ptr<arrow::fs::FileSystem> fs_;
  std::shared_ptr<arrow::io::RandomAccessFile> input_;
  std::string display_path_;
  Table table_ = Table::kTrades;
  TableReadOptions options_;
  std::unique_ptr<parquet::arrow::FileReader> reader_;
  Status OpenNextRowGroup();

  // One record batch reader per row group, opened in turn, so that what the Parquet reader
  // buffers is bounded by one row group whatever the file's size.
  std::vector<int> row_groups_;
  std::vector<int> leaves_;
  size_t next_row_group_ = 0;
  std::unique_ptr<arrow::RecordBatchReader> batches_;
  std::shared_ptr<parquet::FileMetaData> metadata_;
  std::shared_ptr<arrow::Schema> output_schema_;
  std::vector<std::string> file_columns_;  // what is read from the file, in output order
  bool derive_local_price_ = false;
  int local_price_notional_ = -1, local_price_size_ = -1;  // indices in the read batch
  int64_t rows_left_ = 0;
};

/// Checks that a field of a file can serve as a column of the given kind; the message names
/// the column and what was found. Used by the reader and by schema checks elsewhere.
Status CheckColumnType(const arrow::Field& field, ColumnKind kind);

}  // namespace intraday
