// `intraday worker TASK.json`: the worker mode of the engine's own binary. The driver starts one
// fresh process per batch with it; users never call it. Exit codes tell the driver what to do
// (exec/process.h): 0 done, 1 retry, 2 bad input (no retry), 3 out of memory (split), 4 disk full
// (stop the run).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <thread>

#include <arrow/filesystem/s3fs.h>

#include "cli/commands.h"
#include "common/io_errors.h"
#include "exec/batch_worker.h"
#include "exec/memory_pages.h"
#include "exec/process.h"

namespace intraday::cli {
namespace {

// `day_file`: the task's day file, if any. A full disk there is the output's, elsewhere the
// scratch's: the driver cannot tell them apart by itself, as the worker's log lives in scratch.
int ExitCodeFor(const Status& status, const std::string& day_file) {
  if (status.ok()) return kWorkerExitOk;
  if (status.IsOutOfMemory()) return kWorkerExitOutOfMemory;
  if (IsDiskFull(status)) {
    const bool day_file_full = !day_file.empty() && status.message().find(day_file) != std::string::npos;
    return day_file_full ? kWorkerExitDayFileDiskFull : kWorkerExitDiskFull;
  }
  if (status.IsInvalid() || status.IsTypeError() || status.IsNotImplemented() || status.IsKeyError()) {
    return kWorkerExitBadInput;
  }
  return kWorkerExitRetryable;
}

// The task file and the files it names live in the run's scratch, local or on S3: `s3` are the
// driver's S3 settings (data.endpoint_override, data.region), given on the command line because
// the config is known only once the task has been read.
int RunWorker(const std::string& task_file, const S3Settings& s3) {
  Status status;
  std::string day_file;
  try {
    auto scratch = Location::Open(task_file, s3);
    auto text = scratch.ok() ? scratch->ReadText(task_file) : Result<std::string>(scratch.status());
    auto task = text.ok() ? TaskFromJson(*text) : Result<Task>(text.status());
    // For the arrays it fills and its allocator, where the driver says so (exec/memory_pages.h).
    if (task.ok() && task->huge_pages) (void)AllowHugePagesWhereAdvised();
    // Fault-injection hook for the engine's own tests (docs/engine.md): hold the worker before
    // it computes, so that a test can kill it mid-batch, or, with INTRADAY_TEST_WORKER_DELAY_DAY,
    // hold only that day's workers (the next day's batches then start while they run), and with
    // INTRADAY_TEST_WORKER_DELAY_BATCH only that batch's (still running when the others are done).
    const char* delay = std::getenv("INTRADAY_TEST_WORKER_DELAY_MS");
    const char* delay_day = std::getenv("INTRADAY_TEST_WORKER_DELAY_DAY");
    const char* delay_batch = std::getenv("INTRADAY_TEST_WORKER_DELAY_BATCH");
    if (delay != nullptr && (delay_day == nullptr || (task.ok() && task->day.ToString() == delay_day)) &&
        (delay_batch == nullptr || (task.ok() && task->batch == std::atoi(delay_batch)))) {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::atoll(delay)));
    }
    if (task.ok()) day_file = task->day_file;
    status = task.ok() ? RunBatchTask(*task, *scratch) : task.status();
  } catch (const std::bad_alloc&) {
    status = Status::OutOfMemory("allocation failed");
  }
  if (!status.ok()) std::fprintf(stderr, "intraday worker: error: %s\n", status.ToString().c_str());
  return ExitCodeFor(status, day_file);
}

}  // namespace

CommandRunner AddWorkerCommand(CLI::App& app) {
  auto task_file = std::make_shared<std::string>();
  auto s3 = std::make_shared<S3Settings>();
  auto* cmd = app.add_subcommand("worker", "Compute one batch task (started by `run`; not for direct use)");
  cmd->group("");  // hidden from --help
  cmd->add_option("task", *task_file, "Task file written by the driver (a local path or s3:// URI)")
      ->required();
  cmd->add_option("--s3-endpoint", s3->endpoint_override,
                  "S3 endpoint override of the run (data.endpoint_override)");
  cmd->add_option("--s3-region", s3->region, "S3 region of the run (data.region)");
  return [task_file, s3]() -> Status {
    const int code = RunWorker(*task_file, *s3);
    // The exit code carries the outcome; leave through exit() after releasing the S3 client,
    // which main's S3Lifetime would otherwise do.
    (void)arrow::fs::EnsureS3Finalized();
    std::exit(code);
  };
}

}  // namespace intraday::cli
