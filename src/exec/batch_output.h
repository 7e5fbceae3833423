// Where a batch's output rows go (the day's Parquet file, or an Arrow IPC file in scratch), and
// the chunks of listings a worker's threads hand over in any order and write in order.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <arrow/record_batch.h>

#include "common/status.h"
#include "exec/day_output.h"
#include "exec/task.h"
#include "io/location.h"

namespace intraday {

/// Where a batch's output rows go, record batch after record batch in (ListingId, TimeBucket)
/// order: the day's Parquet file (a day of one batch: the bytes the driver would write from the
/// batch's output, sparing the rows a trip through scratch), or the batch's Arrow IPC output in
/// scratch, written under a temporary name and committed whole.
class BatchOutput {
 public:
  virtual ~BatchOutput() = default;
  virtual Status Add(const std::shared_ptr<arrow::RecordBatch>& batch) = 0;
  /// The rows and bytes written; the file complete.
  virtual Result<DayOutputStats> Finish() = 0;
};

/// A batch's output, chunk of listings by chunk: the chunks are handed over as they are
/// computed, in any order, and written in order by whichever computing thread is free, so that
/// writing (the day file's encoding, or the IPC output's copy into scratch) overlaps the
/// computing of later chunks and a chunk's rows are let go of once written. The message of any
/// error names the file.
class OutputChunks {
 public:
  /// The task's output: its day file (Task::day_file) or its IPC output in scratch.
  static Result<std::unique_ptr<OutputChunks>> Open(const Task& task, const Location& scratch,
                                                    const std::shared_ptr<arrow::Schema>& schema,
                                                    size_t chunks);

  /// Chunk c is computed: it is written now, with the computed chunks after it, unless another
  /// thread is writing (which then writes it).
  Status Done(size_t c, std::vector<std::shared_ptr<arrow::RecordBatch>> batches) {
    {
      std::lock_guard lock(mutex_);
      chunks_[c] = std::move(batches);
      done_[c] = true;
      if (writing_) return Status::OK();
      writing_ = true;
    }
    while (true) {
      std::vector<std::shared_ptr<arrow::RecordBatch>> next;
      {
        std::lock_guard lock(mutex_);
        if (next_ == done_.size() || !done_[next_] || !status_.ok()) {
          writing_ = false;
          return status_;
        }
        next = std::move(chunks_[next_]);
      }
      Status written;
      for (const auto& batch : next) {
        written = output_->Add(batch);
        if (!written.ok()) break;
      }
      std::lock_guard lock(mutex_);
      if (!written.ok()) status_ = Named(path_, written);
      ++next_;
    }
  }

  /// Once every chunk is done: the file complete (closed, or committed).
  Result<DayOutputStats> Finish() {
    INTRADAY_RETURN_NOT_OK(status_);
    if (next_ != done_.size()) return Status::Invalid(path_, ": chunks left unwritten");
    auto stats = output_->Finish();
    if (!stats.ok()) return Named(path_, stats.status());
    return stats;
  }

 private:
  OutputChunks(std::string path, std::unique_ptr<BatchOutput> output, size_t chunks)
      : path_(std::move(path)), output_(std::move(output)), chunks_(chunks), done_(chunks, false) {}
  static Status Named(const std::string& path, const Status& st) {
    return st.WithMessage("writing ", path, ": ", st.message());
  }

  std::string path_;
  std::unique_ptr<BatchOutput> output_;
  std::mutex mutex_;
  std::vector<std::vector<std::shared_ptr<arrow::RecordBatch>>> chunks_;  // computed, not yet written
  std::vector<bool> done_;
  size_t next_ = 0;  // the next chunk to write
  bool writing_ = false;
  Status status_;
};

}  // namespace intraday
