#include "exec/output_notice.h"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>

#include <fmt/format.h>

namespace intraday {
namespace {

constexpr const char* kDriverPidVariable = "INTRADAY_DRIVER_PID";

// A real-time signal: unlike SIGUSR1, one sent while another is pending is queued, not merged, so
// two workers notifying at the same moment are both heard.
int NoticeSignal() { return SIGRTMIN; }

// Pids whose notice arrived, 0 for a free slot: written by the handler (lock-free atomics are
// async-signal-safe), emptied by TakeOutputNotices. More notices pending at once than slots (more
// workers than that exiting together) are dropped, which only costs their early start.
std::array<std::atomic<pid_t>, 256> notices{};

// The thread that installed the handler: the driver's, which waits for its workers in wait4. A
// signal sent to a process goes to any of its threads that does not block it (the driver's also
// run Arrow's pools and the next day's preparation); only the waiting thread's wait4 returns
// EINTR, so the notice is passed on to it.
std::atomic<pid_t> waiting_thread{0};

void OnOutputNotice(int signal, siginfo_t* info, void* /*context*/) {
  const int saved_errno = errno;  // the interrupted code may be about to read it
  const pid_t self = ::getpid();
  if (info->si_pid != self) {  // else passed on by another thread of the driver: already recorded
    for (auto& slot : notices) {
      pid_t expected = 0;
      if (slot.compare_exchange_strong(expected, info->si_pid)) break;
    }
  }
  const pid_t waiter = waiting_thread.load();
  if (waiter != 0 && ::gettid() != waiter) ::syscall(SYS_tgkill, self, waiter, signal);
  errno = saved_errno;
}

}  // namespace

void InstallOutputNoticeHandler() {
  waiting_thread = ::gettid();
  struct sigaction action {};
  action.sa_sigaction = &OnOutputNotice;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_SIGINFO;  // no SA_RESTART: a blocking wait4 returns EINTR
  sigaction(NoticeSignal(), &action, nullptr);
}

std::vector<pid_t> TakeOutputNotices() {
  std::vector<pid_t> pids;
  for (auto& slot : notices) {
    if (slot.load(std::memory_order_relaxed) == 0) continue;
    const pid_t pid = slot.exchange(0);
    if (pid != 0) pids.push_back(pid);
  }
  return pids;
}

std::string OutputNoticeEnvironment() { return fmt::format("{}={}", kDriverPidVariable, ::getpid()); }

void NotifyOutputOnly() {
  const char* driver = std::getenv(kDriverPidVariable);
  if (driver == nullptr) return;
  const auto pid = static_cast<pid_t>(std::atoll(driver));
  if (pid > 1 && ::getppid() == pid) ::kill(pid, NoticeSignal());
}

}  // namespace intraday
