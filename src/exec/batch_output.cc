#include "exec/batch_output.h"

#include <arrow/io/file.h>
#include <arrow/ipc/writer.h>

#include "exec/batch_worker.h"

namespace intraday {
namespace {

class DayFileOutput final : public BatchOutput {
 public:
  static Result<std::unique_ptr<BatchOutput>> Open(const std::string& path,
                                                   const std::shared_ptr<arrow::Schema>& schema,
                                                   const DayFileCompression& compression) {
    auto out = std::make_unique<DayFileOutput>();
    INTRADAY_ASSIGN_OR_RAISE(out->sink_, arrow::io::FileOutputStream::Open(path));
    INTRADAY_ASSIGN_OR_RAISE(out->writer_, DayFileWriter::Open(schema, out->sink_, 2, compression));
    return out;
  }
  Status Add(const std::shared_ptr<arrow::RecordBatch>& batch) override {
    return writer_->Add(batch, "the batch's rows");  // OutputChunks adds the path
  }
  Result<DayOutputStats> Finish() override {
    INTRADAY_ASSIGN_OR_RAISE(const DayOutputStats stats, writer_->Finish());
    INTRADAY_RETURN_NOT_OK(sink_->Close());
    return stats;
  }

 private:
  std::shared_ptr<arrow::io::FileOutputStream> sink_;
  std::unique_ptr<DayFileWriter> writer_;
};

class IpcOutput final : public BatchOutput {
 public:
  static Result<std::unique_ptr<BatchOutput>> Open(const Location& scratch, const std::string& path,
                                                   const std::shared_ptr<arrow::Schema>& schema) {
    auto out = std::make_unique<IpcOutput>();
    INTRADAY_ASSIGN_OR_RAISE(out->file_, scratch.OpenAtomic(path));
    INTRADAY_ASSIGN_OR_RAISE(out->writer_, arrow::ipc::MakeFileWriter(out->file_->stream(), schema));
    return out;
  }
  Status Add(const std::shared_ptr<arrow::RecordBatch>& batch) override {
    rows_ += batch->num_rows();
    return writer_->WriteRecordBatch(*batch);
  }
  Result<DayOutputStats> Finish() override {
    INTRADAY_RETURN_NOT_OK(writer_->Close());
    INTRADAY_ASSIGN_OR_RAISE(const int64_t size, file_->Tell());
    INTRADAY_RETURN_NOT_OK(file_->Commit());
    return DayOutputStats{rows_, static_cast<uint64_t>(size)};
  }

 private:
  std::unique_ptr<AtomicOutput> file_;  // aborted unless committed
  std::shared_ptr<arrow::ipc::RecordBatchWriter> writer_;
  int64_t rows_ = 0;
};

}  // namespace

Status WriteIpcAtomic(const Location& location, const std::string& path,
                      const std::shared_ptr<arrow::Schema>& schema,
                      const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches, uint64_t* bytes) {
  INTRADAY_ASSIGN_OR_RAISE(auto output, IpcOutput::Open(location, path, schema));
  for (const auto& batch : batches) INTRADAY_RETURN_NOT_OK(output->Add(batch));
  INTRADAY_ASSIGN_OR_RAISE(const DayOutputStats stats, output->Finish());
  *bytes = stats.bytes;
  return Status::OK();
}

Result<std::unique_ptr<OutputChunks>> OutputChunks::Open(const Task& task, const Location& scratch,
                                                         const std::shared_ptr<arrow::Schema>& schema,
                                                         size_t chunks) {
  const std::string& path = task.day_file.empty() ? task.output_path : task.day_file;
  auto output = task.day_file.empty() ? IpcOutput::Open(scratch, path, schema)
                                      : DayFileOutput::Open(path, schema, task.day_file_compression);
  if (!output.ok()) return Named(path, output.status());
  return std::unique_ptr<OutputChunks>(new OutputChunks(path, *std::move(output), chunks));
}

}  // namespace intraday
