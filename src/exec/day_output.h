// A day's dataset file: the batches' outputs (each sorted by ListingId, TimeBucket) streamed
// into one Parquet file in plan order. Rows are re-cut into fixed-size chunks and row groups
// counted from the first row, so that the file's bytes depend only on its rows, never on how
// the day was batched or how many workers ran: the determinism guarantee rests on this.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <arrow/io/interfaces.h>
#include <arrow/type_fwd.h>

#include "common/status.h"
#include "io/location.h"

namespace intraday {

struct DayOutputStats {
  int64_t rows = 0;
  uint64_t bytes = 0;
};

/// How day files are compressed (run.output_compression, run.output_compression_level in
/// docs/config.md): a trade of file size for writing time; the values read back are the same.
struct DayFileCompression {
  std::string codec = "zstd";  // zstd, snappy, gzip or none
  std::optional<int> level;    // zstd or gzip; unset: Arrow's default level for the codec
};

/// The Parquet writer holds a whole row group's compressed pages until the group is complete;
/// output rows are wide (one column per metric), so 32K rows keep that near 30 MiB for ~150
/// columns while each column chunk stays large enough for readers.
inline constexpr int64_t kOutputRowGroupRows = 32 * 1024;
/// The writer is handed a quarter of a row group at a time, counted from the file's first row.
inline constexpr int64_t kOutputChunkRows = kOutputRowGroupRows / 4;

/// Writes a day's Parquet file from its output rows, added record batch after record batch in
/// (ListingId, TimeBucket) order (or a later pass's group keys, then TimeBucket): by the driver
/// from the batches' IPC outputs, or by the worker of a day of one batch from its rows in memory.
/// Both give the same bytes for the same rows.
class DayFileWriter {
 public:
  /// `sink` is left open by Finish: the caller closes or commits it. `key_columns`: the leading
  /// columns whose values must increase strictly from row to row over the whole day.
  static Result<std::unique_ptr<DayFileWriter>> Open(std::shared_ptr<arrow::Schema> schema,
                                                     std::shared_ptr<arrow::io::OutputStream> sink,
                                                     int key_columns = 2,
                                                     const DayFileCompression& compression = {});
  ~DayFileWriter();

  /// Appends rows; fails if they are out of key order. `source` names them in that error.
  Status Add(const std::shared_ptr<arrow::RecordBatch>& batch, const std::string& source);
  /// Writes the last row group and the footer.
  Result<DayOutputStats> Finish();

 private:
  class Impl;
  explicit DayFileWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Writes a day's Parquet file from the batches' Arrow IPC outputs, handed over one by one in plan
/// order as their batches finish, on a thread of its own: the driver hands over each output once
/// every batch before it is done, so that by the time the day's last batch ends, the file is
/// written but for that batch's rows. Memory: one record batch of the inputs plus one row group
/// of the output.
class DayFileFromOutputs {
 public:
  /// `inputs` holds the outputs' URIs and must outlive this object; `sink` is left open by Finish.
  static Result<std::unique_ptr<DayFileFromOutputs>> Open(const Location& inputs,
                                                          std::shared_ptr<arrow::Schema> schema,
                                                          std::shared_ptr<arrow::io::OutputStream> sink,
                                                          int key_columns = 2,
                                                          const DayFileCompression& compression = {});
  /// Stops after the record batch being written (the file is then incomplete) and joins the thread.
  ~DayFileFromOutputs();

  /// Queues an output to be appended after the ones handed over before it.
  void Add(std::string output_uri);
  /// Waits for the queued outputs, then writes the last row group and the footer. The first error
  /// of any output (naming it) fails the file; outputs after it are not read.
  Result<DayOutputStats> Finish();

 private:
  class Impl;
  explicit DayFileFromOutputs(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Writes the day's Parquet file to `sink` (left open: the caller closes or commits it) from the
/// Arrow IPC files `batch_outputs` (URIs in `inputs`, in order), with DayFileFromOutputs.
Result<DayOutputStats> WriteDayParquet(const Location& inputs, const std::vector<std::string>& batch_outputs,
                                       const std::shared_ptr<arrow::Schema>& schema,
                                       const std::shared_ptr<arrow::io::OutputStream>& sink,
                                       int key_columns = 2);

/// The same from local batch outputs to a local file `parquet_path`, closed on return.
Result<DayOutputStats> WriteDayParquet(const std::vector<std::string>& batch_outputs,
                                       const std::shared_ptr<arrow::Schema>& schema,
                                       const std::string& parquet_path, int key_columns = 2);

}  // namespace intraday
