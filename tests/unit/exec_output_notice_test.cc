// exec/output_notice.h: a worker's output-only notice reaches the driver that started it, with
// the worker's pid, and nobody else: not a process that is not its parent, nor without the
// driver's environment entry. Real processes (fork) and a real signal.
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "exec/output_notice.h"

namespace intraday {
namespace {

/// Sets the worker-side environment entry the driver gives its workers, for this process's
/// children; restores the previous state at the end of the scope.
class DriverEnvironment {
 public:
  DriverEnvironment() {
    const std::string entry = OutputNoticeEnvironment();
    name_ = entry.substr(0, entry.find('='));
    ::setenv(name_.c_str(), entry.substr(entry.find('=') + 1).c_str(), 1);
  }
  ~DriverEnvironment() { ::unsetenv(name_.c_str()); }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

/// Exit code of a process that ran to its end, -1 if it did not.
int ExitCodeOf(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// Runs `body` in a child process (fork) that then exits with its result; returns the child's pid.
template <typename Body>
pid_t InChild(const Body& body) {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(body());
  return pid;
}

/// The notices that arrive within `wait` (they are asynchronous, if already sent).
std::vector<pid_t> NoticesWithin(std::chrono::milliseconds wait) {
  const auto until = std::chrono::steady_clock::now() + wait;
  std::vector<pid_t> all;
  while (std::chrono::steady_clock::now() < until) {
    for (pid_t pid : TakeOutputNotices()) all.push_back(pid);
    if (!all.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return all;
}

TEST(OutputNotice, ReachesTheDriverWithTheWorkersPid) {
  InstallOutputNoticeHandler();
  (void)TakeOutputNotices();
  DriverEnvironment environment;
  const pid_t worker = InChild([] {
    NotifyOutputOnly();
    return 0;
  });
  ASSERT_GT(worker, 0);
  ASSERT_EQ(ExitCodeOf(worker), 0);
  EXPECT_EQ(NoticesWithin(std::chrono::seconds(2)), std::vector<pid_t>{worker});
}

TEST(OutputNotice, IsNotSentByAProcessTheDriverDidNotStart) {
  InstallOutputNoticeHandler();
  (void)TakeOutputNotices();
  DriverEnvironment environment;
  // The driver's grandchild has the driver's entry (inherited) but another parent.
  const pid_t child = InChild([] {
    const pid_t grandchild = InChild([] {
      NotifyOutputOnly();
      return 0;
    });
    return grandchild > 0 && ExitCodeOf(grandchild) == 0 ? 0 : 1;
  });
  ASSERT_GT(child, 0);
  ASSERT_EQ(ExitCodeOf(child), 0);
  EXPECT_TRUE(NoticesWithin(std::chrono::milliseconds(200)).empty());
}

TEST(OutputNotice, IsNotSentWithoutTheDriversEnvironment) {
  InstallOutputNoticeHandler();
  (void)TakeOutputNotices();
  const pid_t worker = InChild([] {
    {
      DriverEnvironment environment;  // known name; removed before notifying
    }
    NotifyOutputOnly();
    return 0;
  });
  ASSERT_GT(worker, 0);
  ASSERT_EQ(ExitCodeOf(worker), 0);
  EXPECT_TRUE(NoticesWithin(std::chrono::milliseconds(200)).empty());
}

}  // namespace
}  // namespace intraday
