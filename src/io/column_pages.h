// Fixed-width columns of one row group read straight from their Parquet pages (Parquet's column
// readers, no Arrow arrays), a bounded chunk of values at a time, with the values TableFileReader
// would give them (its normalised types: timestamps in nanoseconds). For callers that copy every
// value somewhere else at once (a worker placing rows by listing): the chunk stays in cache, and
// the Arrow reader's validity bitmaps, spaced decoding and per-batch buffers are skipped.
// Columns that would need another conversion are not offered (Column returns nullptr): read them
// with TableFileReader.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <arrow/filesystem/filesystem.h>
#include <arrow/type.h>
#include <parquet/file_reader.h>
#include <parquet/metadata.h>

#include "common/status.h"

namespace intraday {

/// One column's values, chunk by chunk, in row order.
class FixedColumnPages {
 public:
  virtual ~FixedColumnPages() = default;
  /// Up to `max_rows` next rows (0 at the end): their values, of the output type's width, into
  /// `values`, and, when some are null (`*has_null`), a byte per row into `valid` (1: a value; a
  /// null's value bytes are 0).
  virtual Result<int64_t> Next(int64_t max_rows, uint8_t* values, uint8_t* valid, bool* has_null) = 0;
};

class RowGroupPages {
 public:
  /// Opens row group `row_group` of the file at `path` (a local file is memory-mapped by the lake's
  /// file system), its footer `metadata` already read. `display_path` names it in errors.
  /// nullptr for a file on an object store: a column reader fetches its column's range alone, one
  /// request per column, where the Arrow reader fetches the row group's ranges coalesced and
  /// ahead (pre-buffering); such files are read through it.
  static Result<std::unique_ptr<RowGroupPages>> Open(const std::shared_ptr<arrow::fs::FileSystem>& fs,
                                                     const std::string& path, std::string display_path,
                                                     std::shared_ptr<parquet::FileMetaData> metadata,
                                                     int row_group);

  /// A reader of the flat column `name` giving `type` (float64, int64, int32 or timestamp[ns]),
  /// or nullptr where its Parquet type needs a conversion this reader does not make.
  Result<std::unique_ptr<FixedColumnPages>> Column(const std::string& name, const arrow::DataType& type);

  int64_t num_rows() const { return row_group_->metadata()->num_rows(); }

  /// Lets go of the file's pages read so far (io/mapped_file.h), for a reader kept for later.
  int64_t ReleaseReadPages();

 private:
  RowGroupPages() = default;

  std::string display_path_;
  std::shared_ptr<arrow::io::RandomAccessFile> input_;
  std::unique_ptr<parquet::ParquetFileReader> file_;
  std::shared_ptr<parquet::RowGroupReader> row_group_;
};

}  // namespace intraday
