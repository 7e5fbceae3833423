// A worker's notice to the driver that it has let go of its input and only writes its output
// ("output only"): the driver may then start the next batch on the worker's cores while the
// output is finished and the process exits, instead of leaving a core idle through that tail and
// through the next worker's start (docs/engine.md, "Output-only workers").
//
// The notice is a real-time signal (SIGRTMIN) from the worker to the driver, whose handler
// records the sender's pid (in a table of this process: a signal handler reaches nothing else,
// hence the one global, as for exec/stop_signal.h). A notice lost (the table full) only delays
// the next batch to the worker's exit, as without notices.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace intraday {

/// In the driver, before it starts workers (idempotent). wait4 is interrupted by a notice (no
/// SA_RESTART), so that the driver wakes to it.
void InstallOutputNoticeHandler();

/// The pids of the workers whose notice arrived since the last call (in no particular order).
std::vector<pid_t> TakeOutputNotices();

/// The entry a worker's environment gets so that it knows where to send its notice.
std::string OutputNoticeEnvironment();

/// In a worker: sends the notice to the driver named by its environment, if that driver is still
/// its parent (never to a process that adopted it after the driver died). A no-op otherwise.
void NotifyOutputOnly();

}  // namespace intraday
