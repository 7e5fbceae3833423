// Worker processes: started as a new executable image (posix_spawn of the engine's own binary,
// never a fork of the driver, which holds threads and heap), waited for with wait4 so that the
// driver learns each worker's exit status, peak RSS and CPU time from the kernel.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace intraday {

/// This process's peak resident set size (VmHWM of /proc/self/status), 0 if unknown.
int64_t SelfPeakRssBytes();

/// The path of the running executable (/proc/self/exe), for starting workers.
Result<std::string> SelfExecutable();

/// Starts `exe args...` with stdout and stderr appended to `log_path`. The child gets the
/// driver's environment, with each `NAME=value` of `environment` added or replacing the driver's
/// NAME, and its own process group is not changed (Ctrl-C reaches it too).
Result<pid_t> SpawnProcess(const std::string& exe, const std::vector<std::string>& args,
                           const std::string& log_path, const std::vector<std::string>& environment = {});

struct ChildExit {
  pid_t pid = 0;
  bool exited = false;  // normal exit (then exit_code), else killed by `signal`
  int exit_code = 0;
  int signal = 0;
  int64_t peak_rss_bytes = 0;  // ru_maxrss of the child (at least the driver's peak at spawn time)
  double cpu_seconds = 0;      // user + system

  bool ok() const { return exited && exit_code == 0; }
  std::string Describe() const;  // "exit code 2", "killed by signal 9 (SIGKILL)"
};

/// Waits for any child. Returns std::nullopt when interrupted by a signal (EINTR) so that the
/// caller can check its stop flag, or, with `block` false, when no child has exited yet; an error
/// when there is no child at all.
Result<std::optional<ChildExit>> WaitForAnyChild(bool block = true);

/// Exit codes of `intraday worker`, read by the driver to choose between retry and split.
inline constexpr int kWorkerExitOk = 0;
inline constexpr int kWorkerExitRetryable = 1;    // I/O and other possibly transient errors
inline constexpr int kWorkerExitBadInput = 2;     // deterministic: bad data or config, not retried
inline constexpr int kWorkerExitOutOfMemory = 3;  // allocation failed: split the batch
inline constexpr int kWorkerExitDiskFull = 4;     // no space left on device: stop the run (exec/disk_full.h)
inline constexpr int kWorkerExitDayFileDiskFull = 5;  // the same, writing the day's file (Task::day_file)

}  // namespace intraday
