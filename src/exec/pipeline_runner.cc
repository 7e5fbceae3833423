#include "exec/pipeline_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <arrow/io/file.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/allocator.h"
#include "common/io_errors.h"
#include "common/machine.h"
#include "common/units.h"
#include "config/config_json.h"
#include "exec/day_output.h"
#include "exec/disk_full.h"
#include "exec/manifest.h"
#include "exec/memory_pages.h"
#include "exec/output_notice.h"
#include "exec/output_schema.h"
#include "exec/process.h"
#include "exec/progress.h"
#include "exec/stop_signal.h"
#include "exec/task.h"
#include "metrics/listing_day_computer.h"
#include "metrics/pass_schema.h"
#include "metrics/registry.h"
#include "plan/derived_plan.h"
#include "plan/plan_json.h"
#include "plan/planner.h"
#include "plan/size_estimator.h"
#include "plan/size_history.h"
#include "shred/shredder.h"

namespace intraday {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

DayFileCompression DayFileCompressionOf(const RunConfig& run) {
  return DayFileCompression{run.output_compression, run.output_compression_level};
}

/// "20261126T041947.123-0000940": UTC start time to the millisecond, then the driver's pid, zero-padded
/// so that run reports (`_runs/<run>.json`) list in the order the runs started (with an unpadded
/// pid, two runs started in the same second sorted by the pid's digits: "-1023" before "-940").
std::string MakeRunId() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const int64_t secs = ms / 1000;
  const Date day = DateOfNanos(secs * kNanosPerSecond);
  const int64_t in_day = secs % 86400;
  return fmt::format("{}T{:02d}{:02d}{:02d}.{:03d}-{:07d}", day.Compact(), in_day / 3600, in_day / 60 % 60,
                     in_day % 60, ms % 1000, ::getpid());
}

Status MakeDirs(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return ErrnoError(ec.value(), "cannot create ", dir);
  return Status::OK();
}

/// fsync a file or directory, so that a published day survives a power loss.
Status Sync(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) return ErrnoError(errno, "cannot open ", path, " to sync it");
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoError(err, "cannot sync ", path);
  return Status::OK();
}

/// The last lines of a worker's log, for error messages.
std::string LogTail(const std::string& path, size_t max_lines = 8) {
  std::ifstream in(path);
  std::deque<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    lines.push_back(line);
    if (lines.size() > max_lines) lines.pop_front();
  }
  std::string out;
  for (const auto& line : lines) out += (out.empty() ? "" : "\n") + line;
  return out;
}

/// One batch task as the driver tracks it.
struct TrackedTask {
  Task task;
  int sequence = 0;      // unique within the day: names the task's files
  int origin_batch = 0;  // the plan batch it came from (splits share it)
  // A later pass's task: where each of its groups starts in task.listings (a split cuts only
  // there), and where its first listing was in its plan batch (orders the halves of a split).
  std::vector<size_t> group_starts;
  int64_t offset_in_batch = 0;
  int failures = 0;
  int worker_slots = 1;  // worker places it takes while it runs (Batch::worker_slots)
};

/// Gives `tracked` `slots` worker places and the data budget of that many workers together.
void SetWorkerSlots(TrackedTask& tracked, int slots, uint64_t memory_per_worker) {
  tracked.worker_slots = slots;
  tracked.task.memory_budget = DataBudget(static_cast<uint64_t>(slots) * memory_per_worker);
}

/// Batch outputs concatenate in this order: first ListingId, or for a later pass (whose batches
/// follow group-key order, not ListingId order) the plan batch, then the place of the task's first
/// listing in it (the halves of a split batch).
int64_t OutputOrder(const TrackedTask& tracked) {
  if (tracked.task.source_files.empty()) return tracked.task.listings.front();
  return (static_cast<int64_t>(tracked.origin_batch) << 32) + tracked.offset_in_batch;
}

/// Where a batch killed for memory is cut: at half its listings for an event pass; for a later
/// pass at the group boundary nearest to that (0: a single group, which cannot be cut).
size_t SplitPoint(const TrackedTask& tracked) {
  const size_t half = tracked.task.listings.size() / 2;
  if (tracked.task.source_files.empty()) return half;
  const auto distance = [half](size_t at) { return at > half ? at - half : half - at; };
  size_t best = 0;
  for (size_t start : tracked.group_starts) {
    if (start > 0 && (best == 0 || distance(start) < distance(best))) best = start;
  }
  return best;
}

/// The groups of `tracked` from listing `at` on, renumbered from there; the ones before stay.
std::vector<size_t> SplitGroupStarts(std::vector<size_t>* group_starts, size_t at) {
  std::vector<size_t> second;
  for (size_t start : *group_starts) {
    if (start >= at) second.push_back(start - at);
  }
  std::erase_if(*group_starts, [at](size_t start) { return start >= at; });
  return second;
}

struct FinishedTask {
  int64_t order = 0;         // OutputOrder
  bool handed_over = false;  // to the driver's DriverDayFile
  std::string output_path;
  std::vector<int64_t> listings;
  std::map<Table, std::vector<int64_t>> listing_rows;  // for the size history
  std::string day_file;      // Task::day_file: the worker wrote the day's file (staged) ...
  DayOutputStats day_stats;  // ... of these rows and bytes
};

/// A day's plan turned into tasks (and, for the shred strategy, its spill files written), with
/// what the day report and the warnings get from it. Prepared off the main thread when the day is
/// prepared ahead, so it carries its report fields and warnings instead of writing them.
struct PreparedDay {
  json report = json::object();
  std::vector<std::string> warnings;
  std::deque<TrackedTask> tasks;
};

/// Holds the next day's shredding back until the current day's workers are done (Open), when the
/// memory this process may use cannot hold the driver's shredding beside them.
class ShredGate {
 public:
  void Close() {
    std::lock_guard lock(mutex_);
    open_ = false;
  }
  void Open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    opened_.notify_all();
  }
  void Wait() {
    std::unique_lock lock(mutex_);
    opened_.wait(lock, [this] { return open_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable opened_;
  bool open_ = true;
};

/// What the driver's shredding holds beyond run.shred_buffer: the Parquet readers of its threads,
/// the routed pieces being written, the day file it writes, its own baseline. Measured with the
/// shredder reading from pages: 33-156 MiB above the buffer on the 100- and 200-listing days of
/// the benchmark lakes, buffers of 64 and 256 MiB (docs/engine.md, "Shredding ahead").
constexpr uint64_t kShredOverheadBytes = uint64_t{192} << 20;

/// The state of one pass: its modules, columns and output schema, created once.
struct PassContext {
  const PassConfig* pass = nullptr;
  std::vector<std::unique_ptr<Module>> modules;
  std::vector<TableColumns> columns;
  bool group_by_instrument = false;
  std::string stream_blocker;  // StreamBlocker of the modules: empty if oversize listings stream
  std::shared_ptr<arrow::Schema> schema;
  /// A later pass (generic, reaggregate): its one module; `schema` is then set by its first day.
  std::unique_ptr<DerivedModule> derived;
};

/// The day's file as the driver writes it from the batches' outputs (a day of several batches),
/// each output handed over as soon as every batch before it is done (HandOverOutputs).
struct DriverDayFile {
  std::string path;                                // staged (local output) or the final key (S3)
  std::shared_ptr<arrow::io::OutputStream> local;  // local output: closed, then published
  std::unique_ptr<AtomicOutput> s3;                // S3 output: committed when complete
  std::unique_ptr<DayFileFromOutputs> writer;      // last: stopped before its sink goes
};

/// A worker process running a task.
struct Running {
  TrackedTask tracked;
  std::chrono::steady_clock::time_point started;
  std::string log_path;
  bool started_early = false;  // before the day before it was published
  double started_seconds = 0;  // since the run started
  /// Since the run started, when the worker said it only writes its output (exec/output_notice.h);
  /// negative before. Its threads no longer count: the next batch may take its cores.
  double output_only_seconds = -1;
  bool output_only() const { return output_only_seconds >= 0; }
};

/// A day whose batches run: its tasks waiting, running and finished. The next day of a pass may
/// start its batches while the current day's last ones finish (RunTasks), so both days' tasks
/// are tracked, each in its own DayRun.
struct DayRun {
  PassContext* pass = nullptr;
  Date day;
  std::string scratch;  // DayScratch
  std::deque<TrackedTask> ready;
  std::map<pid_t, Running> running;
  /// Spill files are shared by the halves of a split batch: they are deleted when the last task
  /// of the plan batch is done.
  std::map<int, int> open_tasks_of_batch;
  std::vector<FinishedTask> finished;
  std::unique_ptr<DriverDayFile> day_file;  // opened at the first output handed over
  int64_t outputs_handed_over_early = 0;    // while some of the day's batches were unfinished
  int next_sequence = 0;
  bool progress_started = false;
  std::vector<int64_t> done_before_progress;  // input rows of batches done before its StartDay
  /// Set when a day started early fails (bad input, no retries left, or its preparation): the
  /// day before it still finishes and is published, then this is the run's error.
  Status failed;
};

class PipelineRunner {
 public:
  PipelineRunner(const PipelineConfig& config, const RunnerOptions& options)
      : config_(config), options_(options), run_id_(MakeRunId()), config_hash_(ConfigHashHex(config)) {}

  Status Run();

 private:
  Status CheckPublishedDays(OutputManifest& manifest, std::vector<std::pair<size_t, Date>>* todo);
  Result<std::unique_ptr<DayRun>> NewDayRun(PassContext& pass, Date day, PreparedDay prepared);
  Status RunDay(DayRun& run, OutputManifest& manifest);
  /// Takes the day prepared ahead, if it is ready, and makes it the early day (early_).
  void StartNextDayEarly();
  /// Starts the early day's tasks on the workers and cores the current day leaves idle.
  void StartEarlyTasks();
  /// Handles a task's exit. An error is fatal to the run for the current day; for the early day
  /// it is kept in its `failed` and its other tasks are stopped.
  Status TaskExited(DayRun& run, Running done, const ChildExit& exited);
  Result<PreparedDay> PrepareDay(PassContext& pass, Date day);
  /// Thread-safe: touches neither the report nor the progress display. A day prepared `ahead`
  /// waits for shred_gate_ before it shreds, unless shred_ahead_.
  Result<PreparedDay> PrepareEventDay(const PassContext& pass, Date day, bool ahead) const;
  /// PrepareEventDay, with when it started and how long it took in the day's report fields.
  Result<PreparedDay> TimedPrepareEventDay(const PassContext& pass, Date day, bool ahead) const;
  Result<PreparedDay> PrepareDerivedDay(PassContext& pass, Date day);
  std::string DayScratch(const PassContext& pass, Date day) const;
  std::string StagedDayFile(const PassContext& pass, Date day) const;
  double SecondsSinceStart() const;
  TrackedTask NewTask(const PassContext& pass, Date day, int batch, std::vector<int64_t> listings) const;
  /// Runs the current day's tasks until they are all done, starting the next day's early. On an
  /// error every worker is stopped and reaped first: none outlives the run that is about to
  /// remove its scratch (a worker still writing there would leave files behind).
  Status RunTasks(DayRun& current);
  Status RunTasksUntilDone(DayRun& current);
  Status StartTask(DayRun& run);
  /// Stops every running worker (of the current and the early day) and reaps them.
  void StopAll(int signal);
  void FailEarlyDay(const Status& error);
  /// Waits for the workers of `run`, the only day with workers left.
  static void ReapAlone(DayRun& run);
  size_t Busy() const;  // worker places taken, for both days (a wide batch takes several)
  /// Whether the next task of `run` has its worker places free (never more than all of them: a
  /// task planned for more places than the run has would otherwise wait forever).
  bool PlacesFor(const DayRun& run) const {
    return !run.ready.empty() &&
           static_cast<int>(Busy()) + std::min(run.ready.front().worker_slots, workers_) <= workers_;
  }
  size_t Computing() const;  // of which not output only
  /// Marks the workers whose output-only notice arrived (exec/output_notice.h).
  void NoteOutputOnlyWorkers();
  int ThreadsInUse() const;  // the threads given to the computing workers, both days
  /// Hands the finished batch outputs that no unfinished batch precedes (all of them with `all`)
  /// to the day's file the driver writes, opening it first. Nothing for a day whose only worker
  /// writes the day's file.
  Status HandOverOutputs(DayRun& run, bool all);
  Status OpenDriverDayFile(DayRun& run);
  Result<DayOutputStats> WriteDay(DayRun& run);
  Status Publish(const PassContext& pass, Date day, const std::string& staged_file,
                 const std::string& final_dir);
  void Warn(const std::string& message);

  const PipelineConfig& config_;
  RunnerOptions options_;
  std::string run_id_;
  std::string config_hash_;
  std::shared_ptr<Lake> lake_;
  std::string exe_;
  int workers_ = 1;
  std::optional<Location> output_;   // run.output
  std::optional<Location> scratch_;  // run.scratch
  std::string run_scratch_;          // URI in scratch_
  std::string staging_;              // local output only: day files wait here for their rename
  std::string log_root_;             // local directory of the workers' logs
  std::unique_ptr<RunReport> report_;
  std::unique_ptr<Progress> progress_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  /// The next day of the pass, planned and shredded while the current day runs
  /// (run.overlap_days), and which day that is.
  std::future<Result<PreparedDay>> ahead_;
  /// Whether the memory this process may use holds the driver's shredding of the next day beside
  /// the workers' budgets; if not, the day prepared ahead shreds once shred_gate_ opens.
  bool shred_ahead_ = true;
  mutable ShredGate shred_gate_;
  PassContext* ahead_pass_ = nullptr;
  Date ahead_day_;
  /// The day prepared ahead once its batches may start: while the current day's last batches
  /// run, its batches take the free workers.
  std::unique_ptr<DayRun> early_;
  DayRun* current_ = nullptr;  // the day RunTasks runs
  /// When the last worker exited, and whether it used huge pages: the next one gets huge pages
  /// only shortly after, and only where they pay (UseHugePages).
  std::optional<std::chrono::steady_clock::time_point> last_worker_exit_;
  bool last_worker_huge_ = false;
  /// The (pass index, day) pairs the run computes, in order (CheckPublishedDays).
  std::vector<std::pair<size_t, Date>> todo_;
  /// Days of `run`'s pass that the run computes after its day.
  int DaysAfter(const DayRun& run) const;
};

int PipelineRunner::DaysAfter(const DayRun& run) const {
  const auto pass = static_cast<size_t>(run.pass->pass - config_.passes.data());
  return static_cast<int>(std::count_if(todo_.begin(), todo_.end(), [&](const auto& entry) {
    return entry.first == pass && run.day < entry.second;
  }));
}

void PipelineRunner::Warn(const std::string& message) {
  if (progress_) progress_->Clear();
  spdlog::warn("{}", message);
  report_->Warning(message);
}

Status PipelineRunner::CheckPublishedDays(OutputManifest& manifest,
                                          std::vector<std::pair<size_t, Date>>* todo) {
  int already = 0;
  std::vector<std::string> stale;
  for (size_t p = 0; p < config_.passes.size(); ++p) {
    for (Date day : config_.dates.TradingDays()) {
      const PublishedDay* published = manifest.Find(config_.passes[p].name, day);
      bool present = false;
      if (published != nullptr) {
        INTRADAY_ASSIGN_OR_RAISE(present, output_->Exists(published->path));
      }
      if (present && !config_.run.force) {
        ++already;
        if (published->config_hash != config_hash_) {
          stale.push_back(fmt::format("{} {}", config_.passes[p].name, day.ToString()));
        }
        if (config_.run.resume) continue;
      }
      todo->emplace_back(p, day);
    }
  }
  if (already > 0 && !config_.run.resume && !config_.run.force) {
    return Status::Invalid(config_.run.output, " already holds ", already,
                           " of the run's days: use --resume to compute only the missing ones, or --force to "
                           "recompute everything");
  }
  if (!stale.empty() && config_.run.resume) {
    return Status::Invalid(stale.size(), " published days (first: ", stale.front(),
                           ") were computed with another config (hash differs from ", config_hash_,
                           "): use --force to recompute them");
  }
  return Status::OK();
}

/// run.output or run.scratch, ready to be written: an error names the key.
Result<Location> OpenRunLocation(const std::string& key, const std::string& root, const S3Settings& s3) {
  auto location = Location::Open(root, s3);
  Status status = location.ok() ? location->Prepare() : location.status();
  if (!status.ok()) return status.WithMessage(key, " (", root, "): ", status.message());
  return location;
}

Status PipelineRunner::Run() {
  INTRADAY_ASSIGN_OR_RAISE(output_, OpenRunLocation("run.output", config_.run.output, config_.data.s3));
  INTRADAY_ASSIGN_OR_RAISE(scratch_, OpenRunLocation("run.scratch", config_.run.scratch, config_.data.s3));
  INTRADAY_ASSIGN_OR_RAISE(auto manifest, OutputManifest::Load(*output_));
  INTRADAY_RETURN_NOT_OK(CheckPublishedDays(manifest, &todo_));
  const std::vector<std::pair<size_t, Date>>& todo = todo_;

  INTRADAY_ASSIGN_OR_RAISE(lake_, Lake::Open(config_.data.ToLakeOptions()));
  INTRADAY_ASSIGN_OR_RAISE(exe_, SelfExecutable());
  workers_ = WorkerCount(config_.run);
  run_scratch_ = scratch_->Join(run_id_);
  staging_ = output_->Join("_staging/" + run_id_);
  // A worker's stdout and stderr are appended to a local log file: in the run's scratch when it
  // is local, else in a temporary directory removed with the scratch.
  log_root_ = run_scratch_;
  if (scratch_->is_s3()) {
    std::error_code ec;
    fs::path temp = fs::temp_directory_path(ec);
    if (ec) temp = "/tmp";
    log_root_ = (temp / ("intraday-" + run_id_)).string();
  }
  INTRADAY_RETURN_NOT_OK(scratch_->CreateDirs(run_scratch_));
  INTRADAY_RETURN_NOT_OK(MakeDirs(log_root_));
  INTRADAY_RETURN_NOT_OK(output_->CreateDirs(output_->Join("_runs")));
  report_ = std::make_unique<RunReport>(*output_, output_->Join("_runs/" + run_id_ + ".json"), run_id_,
                                        config_hash_, config_.source_file);
  report_->root()["workers"] = workers_;
  report_->root()["memory_per_worker"] = config_.run.memory_per_worker;
  const MachineLimits& machine = ThisMachine();
  report_->root()["machine"] = {{"cores", machine.cores},
                                {"cores_source", machine.cores_source},
                                {"memory_bytes", machine.memory_bytes},
                                {"memory_source", machine.memory_source},
                                {"allocator", ProcessAllocator()}};
  progress_ = std::make_unique<Progress>(options_.interactive_progress, static_cast<int>(todo.size()));
  spdlog::info("run {}: {} pass-days to compute, {} workers{}, {} per worker", run_id_, todo.size(), workers_,
               config_.run.workers ? ""
                                   : fmt::format(" (auto: {} cores, {}; {} of memory, {})", machine.cores,
                                                 machine.cores_source, FormatBytes(machine.memory_bytes),
                                                 machine.memory_source),
               FormatBytes(config_.run.memory_per_worker));
  const uint64_t workers_memory = static_cast<uint64_t>(workers_) * config_.run.memory_per_worker;
  if (workers_memory > machine.memory_bytes) {
    Warn(
        fmt::format("run.workers x run.memory_per_worker = {} x {} = {} is more than the {} this process may "
                    "use ({}): workers may be killed for memory; lower run.workers or run.memory_per_worker",
                    workers_, FormatBytes(config_.run.memory_per_worker), FormatBytes(workers_memory),
                    FormatBytes(machine.memory_bytes), machine.memory_source));
  }
  // The driver shreds the next day beside this day's workers only if the memory holds both;
  // otherwise the next day's plan is made ahead and its shredding waits for the workers.
  shred_ahead_ = workers_memory + config_.run.shred_buffer + kShredOverheadBytes <= machine.memory_bytes;
  report_->root()["shred_ahead"] = shred_ahead_;
  InstallStopHandlers();
  InstallOutputNoticeHandler();

  std::vector<PassContext> passes(config_.passes.size());
  Status status = Status::OK();
  // The next day of the same pass, planned and shredded while this day's batches run
  // (run.overlap_days): the driver's shredding then overlaps the workers instead of leaving
  // them idle, and once it is ready its batches take the workers this day's last batches leave
  // free (early_). Later passes are not prepared ahead: planning one is reading a file.
  for (size_t i = 0; i < todo.size(); ++i) {
    const auto [p, day] = todo[i];
    PassContext& pass = passes[p];
    if (pass.pass == nullptr && IsDerivedPass(config_.passes[p])) {
      pass.pass = &config_.passes[p];
      INTRADAY_ASSIGN_OR_RAISE(pass.derived, CreateDerivedModule(config_, *pass.pass));
    } else if (pass.pass == nullptr) {
      pass.pass = &config_.passes[p];
      INTRADAY_ASSIGN_OR_RAISE(pass.modules, CreatePassModules(*pass.pass, config_.source_file));
      pass.columns = PassColumns(pass.modules, *pass.pass);
      pass.group_by_instrument = PassGroupsByInstrument(pass.modules);
      pass.stream_blocker = StreamBlocker(pass.modules, ShapeOf(*pass.pass));
      INTRADAY_ASSIGN_OR_RAISE(pass.schema, PassOutputSchema(pass.modules));
    }
    if (StopRequested()) {
      status =
          Status::Cancelled("interrupted by signal ", StopSignalNumber(), " before ", pass.pass->name, " ",
                            day.ToString(), ": finished days are published; run again with --resume");
      break;
    }
    std::unique_ptr<DayRun> run;
    if (early_ != nullptr && early_->pass == &pass && early_->day == day) {
      run = std::move(early_);
    } else {
      shred_gate_.Open();  // the day before has no worker left
      Result<PreparedDay> prepared = ahead_.valid() ? ahead_.get() : PrepareDay(pass, day);
      if (!prepared.ok()) {
        status = prepared.status();
        break;
      }
      auto created = NewDayRun(pass, day, std::move(*prepared));
      if (!created.ok()) {
        status = created.status();
        break;
      }
      run = *std::move(created);
    }
    if (!run->failed.ok()) {
      // It started early and failed; the day before it is published. Its stopped tasks go first.
      ReapAlone(*run);
      status = run->failed;
      break;
    }
    if (config_.run.overlap_days && !pass.derived && i + 1 < todo.size() && todo[i + 1].first == p) {
      shred_gate_.Close();
      ahead_pass_ = &pass;
      ahead_day_ = todo[i + 1].second;
      const Date next = ahead_day_;
      ahead_ = std::async(std::launch::async,
                          [this, &pass, next] { return TimedPrepareEventDay(pass, next, /*ahead=*/true); });
    }
    status = RunDay(*run, manifest);
    if (!status.ok()) break;
  }
  // A day started early whose turn did not come (an error or a stop before it): its workers go.
  if (early_ != nullptr) {
    for (const auto& [pid, r] : early_->running) ::kill(pid, SIGTERM);
    ReapAlone(*early_);
  }
  early_.reset();
  // A day being prepared ahead writes into the run's scratch: let it finish before removing it.
  shred_gate_.Open();
  if (ahead_.valid()) ahead_.wait();
  if (progress_) progress_->Clear();

  const Status cleaned = scratch_->DeleteTree(run_scratch_);
  if (!cleaned.ok()) Warn("scratch not cleaned: " + cleaned.ToString());
  std::error_code ec;
  if (scratch_->is_s3()) fs::remove_all(log_root_, ec);
  if (!output_->is_s3()) {
    fs::remove_all(staging_, ec);
    if (fs::is_empty(output_->Join("_staging"), ec)) fs::remove(output_->Join("_staging"), ec);
  }
  report_->root()["status"] = status.ok() ? "finished" : (status.IsCancelled() ? "interrupted" : "failed");
  struct rusage self {};
  ::getrusage(RUSAGE_SELF, &self);
  report_->root()["driver_peak_rss_bytes"] = static_cast<int64_t>(self.ru_maxrss) * 1024;
  if (!status.ok()) report_->root()["error"] = status.message();
  const Status saved = report_->Save();
  if (status.ok()) return saved;
  // The run's own error comes first: a full disk fails the report too, and would hide the cause.
  if (!saved.ok()) spdlog::warn("run report not written: {}", saved.message());
  return status;
}

/// A plan batch's first task; its sequence (naming its files) is the batch id, and splits get
/// numbers after the plan's.
TrackedTask PipelineRunner::NewTask(const PassContext& pass, Date day, int batch,
                                    std::vector<int64_t> listings) const {
  TrackedTask tracked;
  tracked.origin_batch = batch;
  tracked.sequence = batch;
  tracked.task.config_file = config_.source_file;
  tracked.task.config_hash = config_hash_;
  tracked.task.pass = pass.pass->name;
  tracked.task.day = day;
  tracked.task.batch = batch;
  tracked.task.listings = std::move(listings);
  return tracked;
}

std::string PipelineRunner::DayScratch(const PassContext& pass, Date day) const {
  return fmt::format("{}/{}/{}", run_scratch_, pass.pass->name, day.ToString());
}

/// Local output: where the day's file is written before its directory is renamed into place.
std::string PipelineRunner::StagedDayFile(const PassContext& pass, Date day) const {
  return fmt::format("{}/{}/date={}/part-00000.parquet", staging_, pass.pass->name, day.ToString());
}

double PipelineRunner::SecondsSinceStart() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

Result<PreparedDay> PipelineRunner::PrepareDay(PassContext& pass, Date day) {
  if (pass.derived) return PrepareDerivedDay(pass, day);
  return TimedPrepareEventDay(pass, day, /*ahead=*/false);
}

Result<PreparedDay> PipelineRunner::TimedPrepareEventDay(const PassContext& pass, Date day,
                                                         bool ahead) const {
  const double started = SecondsSinceStart();
  INTRADAY_ASSIGN_OR_RAISE(PreparedDay prepared, PrepareEventDay(pass, day, ahead));
  prepared.report["prepared_ahead"] = ahead;
  prepared.report["prepare_started_seconds"] = started;
  prepared.report["prepare_seconds"] = SecondsSinceStart() - started;
  return prepared;
}

Result<PreparedDay> PipelineRunner::PrepareEventDay(const PassContext& pass, Date day, bool ahead) const {
  const std::string day_scratch = DayScratch(pass, day);
  INTRADAY_RETURN_NOT_OK(scratch_->CreateDirs(day_scratch));
  PreparedDay prepared;
  json& day_report = prepared.report;
  PlanRequest request;
  request.config = &config_;
  request.pass = pass.pass;
  request.columns = pass.columns;
  request.group_by_instrument = pass.group_by_instrument;
  request.stream_blocker = pass.stream_blocker;
  request.day = day;
  request.size_cache_dir = DefaultSizeCacheDir(config_);
  request.size_history_dir = DefaultSizeHistoryDir(config_);
  request.output_row_bytes = OutputRowBytes(*pass.schema);
  request.worker_slots = workers_;
  INTRADAY_ASSIGN_OR_RAISE(DayPlan plan, PlanDay(*lake_, request));
  for (const auto& warning : plan.warnings)
    prepared.warnings.push_back(fmt::format("{} {}: {}", pass.pass->name, day.ToString(), warning));

  day_report["strategy"] = std::string(ToString(plan.strategy));
  day_report["strategy_reason"] = plan.strategy_reason;
  day_report["size_estimates"] = ToJson(plan.size_estimates);
  day_report["listings"] = plan.universe.listings.size();
  day_report["planned_batches"] = plan.batches.size();

  // Inputs of each batch, by strategy.
  std::vector<std::vector<TaskInput>> inputs(plan.batches.size());
  if (plan.strategy == InputStrategy::kShred) {
    ShredRequest shred;
    shred.lake = lake_.get();
    shred.plan = &plan;
    shred.scratch = &*scratch_;
    shred.spill_dir = day_scratch + "/spill";
    shred.buffer_bytes = config_.run.shred_buffer;
    shred.threads = ThisMachine().cores;
    shred.stop_requested = [] { return StopRequested(); };
    if (ahead && !shred_ahead_) {
      const double waited_from = SecondsSinceStart();
      shred_gate_.Wait();
      day_report["shred_waited_for_workers_seconds"] = SecondsSinceStart() - waited_from;
    }
    const double shred_started = SecondsSinceStart();
    const auto shred_start = std::chrono::steady_clock::now();
    INTRADAY_ASSIGN_OR_RAISE(ShredResult shredded, ShredDay(shred));
    day_report["shred"] = {
        {"rows_read", shredded.rows_read},
        {"rows_routed", shredded.rows_routed},
        {"bytes_written", shredded.bytes_written},
        {"files", shredded.files.size()},
        {"page_column_chunks", shredded.page_column_chunks},
        {"arrow_column_chunks", shredded.arrow_column_chunks},
        {"started_seconds", shred_started},
        {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - shred_start).count()}};
    for (const auto& spill : shredded.files) {
      inputs[static_cast<size_t>(spill.batch)].push_back(
          TaskInput{spill.table, spill.path, spill.path, {}, /*spill=*/true});
    }
  } else {
    for (const auto& batch : plan.batches) {
      for (const auto& file : plan.files) {
        TaskInput input{file.table, file.path, file.display_path, {}, false};
        if (plan.strategy == InputStrategy::kRowGroups) {
          const int64_t lo = batch.listings.front(), hi = batch.listings.back();
          for (const auto& rg : file.row_groups) {
            if (rg.max_listing >= lo && rg.min_listing <= hi) input.row_groups.push_back(rg.index);
          }
          if (input.row_groups.empty()) continue;
        }
        inputs[static_cast<size_t>(batch.id)].push_back(std::move(input));
      }
    }
  }

  for (const auto& batch : plan.batches) {
    TrackedTask tracked = NewTask(pass, day, batch.id, batch.listings);
    tracked.task.inputs = std::move(inputs[static_cast<size_t>(batch.id)]);
    tracked.task.stream_over_time = batch.streamed;
    tracked.task.time_slice_bytes = batch.time_slice_bytes;
    tracked.task.slice_output_spilled = batch.slice_output_spilled;
    SetWorkerSlots(tracked, batch.worker_slots, plan.memory_budget);
    prepared.tasks.push_back(std::move(tracked));
  }
  // A day of one batch: its worker writes the day's file straight from its rows (to staging;
  // the driver publishes it), instead of writing them to scratch for the driver to read back
  // and encode. Not on S3, where the file is uploaded under its final key and would appear
  // before the days before it are published.
  if (prepared.tasks.size() == 1 && !output_->is_s3()) {
    const std::string day_file = StagedDayFile(pass, day);
    INTRADAY_RETURN_NOT_OK(MakeDirs(fs::path(day_file).parent_path().string()));
    prepared.tasks.front().task.day_file = day_file;
    prepared.tasks.front().task.day_file_compression = DayFileCompressionOf(config_.run);
  }
  return prepared;
}

Result<PreparedDay> PipelineRunner::PrepareDerivedDay(PassContext& pass, Date day) {
  INTRADAY_RETURN_NOT_OK(scratch_->CreateDirs(DayScratch(pass, day)));
  PreparedDay prepared;
  json& day_report = prepared.report;
  INTRADAY_ASSIGN_OR_RAISE(DerivedDayPlan plan,
                           PlanDerivedDay(*lake_, config_, *pass.pass, *pass.derived, day));
  for (const auto& warning : plan.warnings)
    prepared.warnings.push_back(fmt::format("{} {}: {}", pass.pass->name, day.ToString(), warning));
  if (pass.schema == nullptr) {
    pass.schema = plan.output_schema;
  } else if (!pass.schema->Equals(*plan.output_schema)) {
    return Status::Invalid(pass.pass->name, " ", day.ToString(),
                           ": the output columns differ from the run's earlier days (",
                           plan.output_schema->ToString(), ")");
  }
  day_report["strategy"] = "source";
  day_report["strategy_reason"] = "reads pass '" + plan.source_pass + "'";
  day_report["listings"] = plan.listings;
  day_report["groups"] = plan.groups;
  day_report["planned_batches"] = plan.batches.size();
  json history = json::array();
  for (Date d : plan.history) history.push_back(d.ToString());
  day_report["history_days"] = history;
  std::vector<std::string> sources = plan.history_files;
  sources.push_back(plan.source_file);
  for (const auto& batch : plan.batches) {
    TrackedTask tracked = NewTask(pass, day, batch.id, batch.listings);
    tracked.task.source_files = sources;
    tracked.group_starts = batch.group_starts;
    prepared.tasks.push_back(std::move(tracked));
  }
  return prepared;
}

Result<std::unique_ptr<DayRun>> PipelineRunner::NewDayRun(PassContext& pass, Date day, PreparedDay prepared) {
  auto run = std::make_unique<DayRun>();
  run->pass = &pass;
  run->day = day;
  run->scratch = DayScratch(pass, day);
  json& day_report = report_->Day(pass.pass->name, day);
  for (auto& [key, value] : prepared.report.items()) day_report[key] = std::move(value);
  for (const auto& warning : prepared.warnings) Warn(warning);
  INTRADAY_RETURN_NOT_OK(MakeDirs(fmt::format("{}/{}/{}", log_root_, pass.pass->name, day.ToString())));
  run->ready = std::move(prepared.tasks);
  run->next_sequence = static_cast<int>(run->ready.size());
  for (const auto& t : run->ready) ++run->open_tasks_of_batch[t.origin_batch];
  return run;
}

Status PipelineRunner::RunDay(DayRun& run, OutputManifest& manifest) {
  const auto started = std::chrono::steady_clock::now();
  const PassContext& pass = *run.pass;
  const Date day = run.day;

  const size_t batches = run.ready.size() + run.running.size() + run.finished.size();
  progress_->StartDay(pass.pass->name, day.ToString(), static_cast<int>(batches));
  run.progress_started = true;
  for (int64_t rows : run.done_before_progress) progress_->BatchDone(rows);
  INTRADAY_RETURN_NOT_OK(RunTasks(run));
  report_->Day(pass.pass->name, day)["batches_finished_seconds"] = SecondsSinceStart();
  // The next day's batches run while this day's file is written.
  if (config_.run.overlap_days) StartEarlyTasks();

  INTRADAY_ASSIGN_OR_RAISE(const DayOutputStats stats, WriteDay(run));
  const std::vector<FinishedTask>& finished = run.finished;
  const std::string final_dir = output_->Join(fmt::format("{}/date={}", pass.pass->name, day.ToString()));

  (void)scratch_->DeleteTree(run.scratch);
  manifest.Record(pass.pass->name, day,
                  PublishedDay{config_hash_, run_id_, stats.rows, stats.bytes, final_dir});
  INTRADAY_RETURN_NOT_OK(manifest.Save());
  // What the workers read, for planning later days from history: an estimate, so not an error.
  RecordedDay read{day, {}};
  for (const auto& f : finished) AddListingRows(f.listings, f.listing_rows, &read);
  auto history = SizeHistory::Open(DefaultSizeHistoryDir(config_), config_.data.s3);
  const Status recorded = history.ok() ? (*history)->Record(read) : history.status();
  if (!recorded.ok()) Warn("size history not recorded: " + recorded.ToString());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  json& day_report = report_->Day(pass.pass->name, day);
  day_report["output_rows"] = stats.rows;
  day_report["output_bytes"] = stats.bytes;
  day_report["wall_seconds"] = seconds;
  INTRADAY_RETURN_NOT_OK(report_->Save());
  progress_->DayDone(stats.rows, seconds);
  return Status::OK();
}

Status PipelineRunner::HandOverOutputs(DayRun& run, bool all) {
  for (const auto& f : run.finished) {
    if (!f.day_file.empty()) return Status::OK();
  }
  // Outputs concatenate in OutputOrder. A task still to run or running, or one split or retried
  // from it, comes after every output ordered before it: those may be written now.
  int64_t first_unfinished = std::numeric_limits<int64_t>::max();
  if (!all) {
    for (const auto& tracked : run.ready) first_unfinished = std::min(first_unfinished, OutputOrder(tracked));
    for (const auto& [pid, r] : run.running)
      first_unfinished = std::min(first_unfinished, OutputOrder(r.tracked));
  }
  std::vector<FinishedTask*> next;
  for (auto& f : run.finished) {
    if (!f.handed_over && f.order < first_unfinished) next.push_back(&f);
  }
  if (next.empty() && (!all || run.day_file != nullptr)) return Status::OK();
  if (run.day_file == nullptr) INTRADAY_RETURN_NOT_OK(OpenDriverDayFile(run));
  std::sort(next.begin(), next.end(),
            [](const FinishedTask* a, const FinishedTask* b) { return a->order < b->order; });
  const bool early = !run.ready.empty() || !run.running.empty();
  for (FinishedTask* f : next) {
    run.day_file->writer->Add(f->output_path);
    f->handed_over = true;
    if (early) ++run.outputs_handed_over_early;
  }
  return Status::OK();
}

Status PipelineRunner::OpenDriverDayFile(DayRun& run) {
  const PassContext& pass = *run.pass;
  auto file = std::make_unique<DriverDayFile>();
  std::shared_ptr<arrow::io::OutputStream> sink;
  if (output_->is_s3()) {
    file->path = PassDayFile(output_->root(), pass.pass->name, run.day);
    INTRADAY_ASSIGN_OR_RAISE(file->s3, output_->OpenAtomic(file->path));
    sink = file->s3->stream();
  } else {
    file->path = StagedDayFile(pass, run.day);
    INTRADAY_RETURN_NOT_OK(MakeDirs(fs::path(file->path).parent_path().string()));
    auto opened = arrow::io::FileOutputStream::Open(file->path);
    if (!opened.ok())
      return opened.status().WithMessage("writing ", file->path, ": ", opened.status().message());
    file->local = *opened;
    sink = file->local;
  }
  // The leading columns whose values increase strictly over the day: (ListingId, TimeBucket),
  // or a later pass's group keys and TimeBucket.
  const int key_columns = pass.derived ? static_cast<int>(pass.derived->group_keys().size()) + 1 : 2;
  auto writer =
      DayFileFromOutputs::Open(*scratch_, pass.schema, sink, key_columns, DayFileCompressionOf(config_.run));
  if (!writer.ok())
    return writer.status().WithMessage("writing ", file->path, ": ", writer.status().message());
  file->writer = *std::move(writer);
  run.day_file = std::move(file);
  return Status::OK();
}

/// Writes and publishes the day's file. Local output: into the run's staging directory (or
/// there already, written by the day's only worker), then one rename of the day's directory
/// (Publish). S3 output: one upload under the final key, which appears only when the upload
/// completes; on error the upload is aborted and nothing appears.
Result<DayOutputStats> PipelineRunner::WriteDay(DayRun& run) {
  const PassContext& pass = *run.pass;
  const Date day = run.day;
  json& day_report = report_->Day(pass.pass->name, day);
  const std::string final_dir = output_->Join(fmt::format("{}/date={}", pass.pass->name, day.ToString()));
  const std::vector<FinishedTask>& finished = run.finished;
  if (finished.size() == 1 && !finished.front().day_file.empty()) {
    day_report["day_file_written_by"] = "worker";
    INTRADAY_RETURN_NOT_OK(Publish(pass, day, finished.front().day_file, final_dir));
    return finished.front().day_stats;
  }
  day_report["day_file_written_by"] = "driver";
  day_report["outputs_written_while_batches_ran"] = run.outputs_handed_over_early;
  INTRADAY_RETURN_NOT_OK(HandOverOutputs(run, /*all=*/true));
  DriverDayFile& file = *run.day_file;
  auto written = file.writer->Finish();
  const Status closed = !written.ok() ? written.status() : file.s3 ? file.s3->Commit() : file.local->Close();
  if (!closed.ok()) return closed.WithMessage("writing ", file.path, ": ", closed.message());
  if (file.local != nullptr) INTRADAY_RETURN_NOT_OK(Publish(pass, day, file.path, final_dir));
  return written;
}

Status PipelineRunner::Publish(const PassContext& pass, Date day, const std::string& staged_file,
                               const std::string& final_dir) {
  INTRADAY_RETURN_NOT_OK(Sync(staged_file, false));
  const std::string staged_dir = fs::path(staged_file).parent_path().string();
  INTRADAY_RETURN_NOT_OK(MakeDirs(fs::path(final_dir).parent_path().string()));
  std::error_code ec;
  std::string trash;
  if (fs::exists(final_dir)) {
    // --force: move the old day aside first; the new one then appears in one rename.
    trash = fmt::format("{}/replaced-{}-{}", staging_, pass.pass->name, day.ToString());
    fs::rename(final_dir, trash, ec);
    if (ec) return Status::IOError("cannot move ", final_dir, " aside: ", ec.message());
  }
  fs::rename(staged_dir, final_dir, ec);
  if (ec) return Status::IOError("cannot publish ", final_dir, ": ", ec.message());
  INTRADAY_RETURN_NOT_OK(Sync(fs::path(final_dir).parent_path().string(), true));
  if (!trash.empty()) fs::remove_all(trash, ec);
  return Status::OK();
}

size_t PipelineRunner::Busy() const {
  size_t places = 0;
  for (const DayRun* run : {current_, early_.get()}) {
    if (run == nullptr) continue;
    for (const auto& [pid, r] : run->running) places += static_cast<size_t>(r.tracked.worker_slots);
  }
  return places;
}

size_t PipelineRunner::Computing() const {
  size_t computing = 0;
  for (const DayRun* run : {current_, early_.get()}) {
    if (run == nullptr) continue;
    for (const auto& [pid, r] : run->running) computing += r.output_only() ? 0 : 1;
  }
  return computing;
}

void PipelineRunner::NoteOutputOnlyWorkers() {
  for (pid_t pid : TakeOutputNotices()) {
    for (DayRun* run : {current_, early_.get()}) {
      if (run == nullptr) continue;
      auto it = run->running.find(pid);
      if (it == run->running.end() || it->second.output_only()) continue;
      it->second.output_only_seconds = SecondsSinceStart();
      // Its input's memory was just freed: for the next worker's pages, as good as an exit.
      last_worker_exit_ = std::chrono::steady_clock::now();
      last_worker_huge_ = it->second.tracked.task.huge_pages;
    }
  }
}

int PipelineRunner::ThreadsInUse() const {
  int threads = 0;
  for (const DayRun* run : {current_, early_.get()}) {
    if (run == nullptr) continue;
    for (const auto& [pid, r] : run->running) threads += r.output_only() ? 0 : r.tracked.task.threads;
  }
  return threads;
}

Status PipelineRunner::StartTask(DayRun& run) {
  TrackedTask tracked = std::move(run.ready.front());
  run.ready.pop_front();
  const PassContext& pass = *run.pass;
  const std::string name = fmt::format("task-{:05d}-attempt-{}", tracked.sequence, tracked.failures);
  const std::string stem = run.scratch + "/" + name;
  const std::string log_path =
      fmt::format("{}/{}/{}/{}.log", log_root_, pass.pass->name, run.day.ToString(), name);
  tracked.task.attempt = tracked.failures;
  // Cores the other workers leave idle go to this one (a day of one batch uses every core).
  const size_t waiting = (current_ != nullptr ? current_->ready.size() : 0) +
                         (early_ != nullptr && early_->failed.ok() ? early_->ready.size() : 0);
  const int in_flight =
      std::max<int>(1, std::min<int>(workers_, static_cast<int>(Computing() + waiting) + 1));
  tracked.task.threads = std::max(1, ThisMachine().cores / in_flight);
  // Days side by side: a batch that a later day's batches may join takes its worker's share of
  // the cores.
  if (config_.run.days_side_by_side && DaysAfter(run) > 0)
    tracked.task.threads = std::max(1, ThisMachine().cores / std::max(1, workers_));
  tracked.task.output_path = fmt::format("{}/task-{:05d}.arrow", run.scratch, tracked.sequence);
  tracked.task.result_path = stem + ".result.json";
  tracked.task.huge_pages =
      UseHugePages(last_worker_exit_, last_worker_huge_, DaysAfter(run), std::chrono::steady_clock::now());
  INTRADAY_RETURN_NOT_OK(scratch_->WriteText(stem + ".task.json", TaskToJson(tracked.task)));
  std::vector<std::string> args{"worker", stem + ".task.json"};
  // The worker reads its task before it knows the config: it gets the S3 settings here.
  if (!config_.data.s3.endpoint_override.empty())
    args.insert(args.end(), {"--s3-endpoint", config_.data.s3.endpoint_override});
  if (!config_.data.s3.region.empty()) args.insert(args.end(), {"--s3-region", config_.data.s3.region});
  const bool reads_lake = std::any_of(tracked.task.inputs.begin(), tracked.task.inputs.end(),
                                      [](const TaskInput& input) { return !input.spill; });
  std::vector<std::string> environment = WorkerAllocatorSettings(reads_lake, tracked.task.huge_pages);
  environment.push_back(OutputNoticeEnvironment());
  INTRADAY_ASSIGN_OR_RAISE(pid_t pid, SpawnProcess(exe_, args, log_path, environment));
  run.running.emplace(pid, Running{std::move(tracked), std::chrono::steady_clock::now(), log_path,
                                   &run != current_, SecondsSinceStart()});
  return Status::OK();
}

void PipelineRunner::StopAll(int signal) {
  for (DayRun* run : {current_, early_.get()}) {
    if (run == nullptr) continue;
    for (const auto& [pid, r] : run->running) ::kill(pid, signal);
  }
  while (Busy() > 0) {
    auto exited = WaitForAnyChild();
    if (!exited.ok()) break;
    if (!*exited) continue;
    for (DayRun* run : {current_, early_.get()}) {
      if (run != nullptr) run->running.erase((*exited)->pid);
    }
  }
}

void PipelineRunner::ReapAlone(DayRun& run) {
  while (!run.running.empty()) {
    auto exited = WaitForAnyChild();
    if (!exited.ok()) break;
    if (*exited) run.running.erase((*exited)->pid);
  }
}

void PipelineRunner::StartEarlyTasks() {
  if (StopRequested()) return;
  StartNextDayEarly();
  // Only on idle cores: a day whose batches fill the cores (one batch takes them all as threads)
  // is not joined by the next day's workers, which would double the memory for 7-9% of wall time
  // (docs/engine.md, "Days side by side"), unless run.days_side_by_side asks for that.
  const int cores = ThisMachine().cores;
  while (early_ != nullptr && early_->failed.ok() && PlacesFor(*early_) &&
         (config_.run.days_side_by_side || ThreadsInUse() < cores)) {
    const Status started = StartTask(*early_);
    if (!started.ok()) FailEarlyDay(started);
  }
}

void PipelineRunner::StartNextDayEarly() {
  if (early_ != nullptr || !ahead_.valid() ||
      ahead_.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
    return;
  Result<PreparedDay> prepared = ahead_.get();
  Result<std::unique_ptr<DayRun>> run =
      prepared.ok() ? NewDayRun(*ahead_pass_, ahead_day_, std::move(*prepared)) : prepared.status();
  if (run.ok()) {
    early_ = *std::move(run);
    return;
  }
  // Its error surfaces in its turn, after the current day is published.
  early_ = std::make_unique<DayRun>();
  early_->pass = ahead_pass_;
  early_->day = ahead_day_;
  early_->failed = run.status();
}

Status PipelineRunner::RunTasks(DayRun& current) {
  current_ = &current;
  struct Reset {
    DayRun*& current;
    ~Reset() { current = nullptr; }
  } reset{current_};
  const Status status = RunTasksUntilDone(current);
  if (!status.ok()) StopAll(SIGTERM);
  return status;
}

Status PipelineRunner::RunTasksUntilDone(DayRun& current) {
  const PassContext& pass = *current.pass;
  INTRADAY_RETURN_NOT_OK(HandOverOutputs(current, /*all=*/false));  // batches done while it ran early
  while (!current.ready.empty() || !current.running.empty()) {
    NoteOutputOnlyWorkers();
    if (StopRequested()) {
      StopAll(SIGTERM);
      return Status::Cancelled("interrupted by signal ", StopSignalNumber(), " during ", pass.pass->name, " ",
                               current.day.ToString(),
                               ": finished days are published; run again with --resume");
    }
    while (PlacesFor(current)) INTRADAY_RETURN_NOT_OK(StartTask(current));
    // This day has no task left to start: the next day's tasks take the free workers.
    bool waiting_for_next_day = false;
    if (current.ready.empty() && static_cast<int>(Busy()) < workers_ && config_.run.overlap_days) {
      StartEarlyTasks();
      if (early_ == nullptr) waiting_for_next_day = ahead_.valid();
    }
    // While the next day is being prepared, look for it every few milliseconds between exits.
    INTRADAY_ASSIGN_OR_RAISE(auto exited, WaitForAnyChild(/*block=*/!waiting_for_next_day));
    if (!exited) {
      if (waiting_for_next_day) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;  // or interrupted by a signal: loop to check the stop flag
    }
    // A worker whose tail is short can exit before the loop above saw its notice (sent before
    // its exit, but not while this thread waited): its output-only time is still recorded.
    NoteOutputOnlyWorkers();
    for (DayRun* run : {&current, early_.get()}) {
      if (run == nullptr) continue;
      auto it = run->running.find(exited->pid);
      if (it == run->running.end()) continue;
      Running done = std::move(it->second);
      run->running.erase(it);
      INTRADAY_RETURN_NOT_OK(TaskExited(*run, std::move(done), *exited));
      // The day's file is written while its later batches run (the next day's: in its turn).
      if (run == &current) INTRADAY_RETURN_NOT_OK(HandOverOutputs(current, /*all=*/false));
      break;
    }
  }
  shred_gate_.Open();  // the next day may shred now: this day has no worker left
  return Status::OK();
}

void PipelineRunner::FailEarlyDay(const Status& error) {
  if (!early_->failed.ok()) return;
  early_->failed = error;
  early_->ready.clear();
  for (const auto& [pid, r] : early_->running) ::kill(pid, SIGTERM);  // reaped by RunTasks or Run
}

Status PipelineRunner::TaskExited(DayRun& run, Running done, const ChildExit& exited) {
  last_worker_exit_ = std::chrono::steady_clock::now();
  last_worker_huge_ = done.tracked.task.huge_pages;
  const bool current = &run == current_;
  const PassContext& pass = *run.pass;
  const Date day = run.day;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - done.started).count();
  TrackedTask& tracked = done.tracked;
  if (!current && !run.failed.ok()) return Status::OK();  // stopped after its day failed
  json entry = {{"batch", tracked.origin_batch},
                {"task", tracked.sequence},
                {"attempt", tracked.failures},
                {"pid", exited.pid},
                {"listings", tracked.task.listings.size()},
                {"first_listing", tracked.task.listings.front()},
                {"last_listing", tracked.task.listings.back()},
                {"started_seconds", done.started_seconds},
                {"wall_seconds", wall},
                {"cpu_seconds", exited.cpu_seconds},
                {"peak_rss_bytes", exited.peak_rss_bytes},
                {"exit", exited.Describe()},
                {"huge_pages", tracked.task.huge_pages},
                {"threads", tracked.task.threads},
                {"worker_slots", tracked.worker_slots}};
  if (done.started_early) entry["started_early"] = true;
  if (done.output_only()) entry["output_only_seconds"] = done.output_only_seconds;
  json& day_report = report_->Day(pass.pass->name, day);
  if (exited.ok()) {
    INTRADAY_ASSIGN_OR_RAISE(auto text, scratch_->ReadText(tracked.task.result_path));
    INTRADAY_ASSIGN_OR_RAISE(TaskResult result, TaskResultFromJson(text));
    entry["input_rows"] = result.input_rows;
    entry["output_rows"] = result.output_rows;
    entry["output_bytes"] = result.output_bytes;
    entry["sorted_listings"] = result.sorted_listings;
    entry["gathered_listings"] = result.gathered_listings;
    if (result.page_column_chunks + result.arrow_column_chunks > 0) {
      entry["page_column_chunks"] = result.page_column_chunks;
      entry["arrow_column_chunks"] = result.arrow_column_chunks;
    }
    entry["input_bytes_released"] = result.input_bytes_released;
    if (tracked.task.time_slice_bytes > 0) {
      entry["time_slice_bytes"] = tracked.task.time_slice_bytes;
      entry["time_slices"] = result.time_slices;
      entry["slice_output_bytes"] = result.slice_output_bytes;
      entry["slice_resumed_reads"] = result.slice_resumed_reads;
      entry["slice_held_rows"] = result.slice_held_rows;
      entry["slice_released_readers"] = result.slice_released_readers;
      if (!result.stream_fallback.empty()) {
        entry["stream_fallback"] = result.stream_fallback;
        Warn(fmt::format("{} {} batch {}: not computed in time slices, {}: its worker may exceed the budget",
                         pass.pass->name, day.ToString(), tracked.origin_batch, result.stream_fallback));
      }
    }
    if (tracked.task.stream_over_time) {
      entry["streamed"] = result.stream_fallback.empty();
      entry["time_slices"] = result.time_slices;
      if (!result.stream_fallback.empty()) {
        entry["stream_fallback"] = result.stream_fallback;
        Warn(
            fmt::format("{} {} batch {} (listing {}): not streamed over time, {}: its worker may exceed the "
                        "budget",
                        pass.pass->name, day.ToString(), tracked.origin_batch, tracked.task.listings.front(),
                        result.stream_fallback));
      }
    }
    // The worker's own VmHWM; wait4's figure starts at the driver's peak (posix_spawn = vfork).
    if (result.peak_rss_bytes > 0) {
      entry["wait4_maxrss_bytes"] = entry["peak_rss_bytes"];
      entry["peak_rss_bytes"] = result.peak_rss_bytes;
    }
    day_report["batches"].push_back(entry);
    run.finished.push_back(FinishedTask{OutputOrder(tracked), false, tracked.task.output_path,
                                        tracked.task.listings, std::move(result.listing_rows),
                                        tracked.task.day_file,
                                        DayOutputStats{result.output_rows, result.output_bytes}});
    if (--run.open_tasks_of_batch[tracked.origin_batch] == 0) {
      for (const auto& input : tracked.task.inputs) {
        if (input.spill) (void)scratch_->Delete(input.path);
      }
    }
    if (run.progress_started) {
      progress_->BatchDone(result.input_rows);
    } else {
      run.done_before_progress.push_back(result.input_rows);
    }
    return Status::OK();
  }
  day_report["batches"].push_back(entry);
  const std::string what =
      fmt::format("{} {} batch {} (listings {}..{}, attempt {}): worker {}", pass.pass->name, day.ToString(),
                  tracked.origin_batch, tracked.task.listings.front(), tracked.task.listings.back(),
                  tracked.failures + 1, exited.Describe());
  // An error of the current day stops every worker and the run; one of the day started early
  // stops that day's workers only, and waits for its turn (FailEarlyDay).
  auto fail = [&](const Status& error) -> Status {
    if (!current) {
      FailEarlyDay(error);
      return Status::OK();
    }
    StopAll(SIGTERM);
    return error;
  };
  const std::string log = LogTail(done.log_path);
  if (exited.exited && exited.exit_code == kWorkerExitBadInput)
    return fail(Status::Invalid(what, ":\n", log));
  if (exited.exited &&
      (exited.exit_code == kWorkerExitDiskFull || exited.exit_code == kWorkerExitDayFileDiskFull)) {
    // Not retried (exec/disk_full.h). The worker's log may be empty: it lives on the full disk.
    // The exit code says which disk: the output's (its day file) or the scratch's (its output
    // there, or its result when it writes the day file, or a sliced day's output rows set aside).
    const Task& task = tracked.task;
    std::string file = exited.exit_code == kWorkerExitDayFileDiskFull ? task.day_file
                       : task.day_file.empty()                        ? task.output_path
                                                                      : task.result_path;
    if (exited.exit_code == kWorkerExitDiskFull && task.time_slice_bytes > 0)
      file += " or its time slices' output rows (" + task.output_path + ".slices)";
    const Status full = ErrnoError(ENOSPC, what, ": cannot write ", file);
    return fail(log.empty() ? full : full.WithMessage(full.message(), ":\n", log));
  }
  const bool memory = (exited.exited && exited.exit_code == kWorkerExitOutOfMemory) ||
                      (!exited.exited && exited.signal == SIGKILL);
  ++tracked.failures;
  if (tracked.failures > config_.run.retries) {
    return fail(Status::IOError(what, "; no retries left (run.retries = ", config_.run.retries, ")",
                                log.empty() ? "" : ":\n" + log));
  }
  // A later pass's batch holds whole groups in group order: it is cut between two groups.
  const size_t half = memory ? SplitPoint(tracked) : 0;
  if (half > 0) {
    // Killed for memory (or by SIGKILL, as the OOM killer does): split the batch in two.
    const bool later_pass = !tracked.task.source_files.empty();
    tracked.task.delete_spill_inputs = false;
    tracked.task.day_file.clear();  // two batches now: the driver writes the day's file
    // A wide batch's halves take half its places each (at least one).
    SetWorkerSlots(tracked, std::max(1, (tracked.worker_slots + 1) / 2), config_.run.memory_per_worker);
    TrackedTask second = tracked;
    tracked.task.listings.resize(half);
    second.task.listings.erase(second.task.listings.begin(),
                               second.task.listings.begin() + static_cast<long>(half));
    second.group_starts = SplitGroupStarts(&tracked.group_starts, half);
    second.offset_in_batch = tracked.offset_in_batch + static_cast<int64_t>(half);
    second.sequence = run.next_sequence++;
    ++run.open_tasks_of_batch[tracked.origin_batch];
    std::string sizes = fmt::format("{} and {} listings", half, second.task.listings.size());
    if (later_pass) {
      sizes = fmt::format("{} and {} groups ({})", tracked.group_starts.size(), second.group_starts.size(),
                          sizes);
    }
    report_->Retry(pass.pass->name, day, what + ": split into two batches of " + sizes);
    Warn(what + ": splitting the batch in two and retrying");
    run.ready.push_front(std::move(second));
    run.ready.push_front(std::move(tracked));
  } else {
    report_->Retry(pass.pass->name, day, what + ": retried");
    Warn(what + ": retrying");
    run.ready.push_front(std::move(tracked));
  }
  return Status::OK();
}

}  // namespace

int DefaultWorkerCount(uint64_t memory_per_worker) {
  const MachineLimits& machine = ThisMachine();
  const uint64_t by_memory = memory_per_worker > 0 ? machine.memory_bytes / memory_per_worker : 1;
  return static_cast<int>(
      std::max<uint64_t>(1, std::min<uint64_t>(static_cast<uint64_t>(machine.cores), by_memory)));
}

Status RunPipeline(const PipelineConfig& config, const RunnerOptions& options) {
  PipelineRunner runner(config, options);
  const Status status = runner.Run();
  return IsDiskFull(status) ? DiskFullStop(status, config.run) : status;
}

}  // namespace intraday
