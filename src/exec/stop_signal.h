// SIGINT/SIGTERM handling for the driver: the first signal asks the run to stop cleanly (no new
// batch starts, running workers are terminated, finished days stay published); the driver polls
// StopRequested() between events. A signal handler can only set a flag, hence this one global.
#pragma once

namespace intraday {

/// Installs the handlers (idempotent). wait4 is interrupted (no SA_RESTART) so the driver wakes.
void InstallStopHandlers();
bool StopRequested();
/// The signal that asked to stop (SIGINT or SIGTERM), 0 if none.
int StopSignalNumber();

}  // namespace intraday
