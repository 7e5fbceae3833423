#include "exec/process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string_view>

#include <cerrno>
#include <climits>

#include <fmt/format.h>

extern char** environ;

namespace intraday {

int64_t SelfPeakRssBytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atoll(line.c_str() + 6) * 1024;  // "VmHWM:   1234 kB"
  }
  return 0;
}

Result<std::string> SelfExecutable() {
  char buffer[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  if (n <= 0) return Status::IOError("cannot resolve /proc/self/exe: ", ::strerror(errno));
  return std::string(buffer, static_cast<size_t>(n));
}

Result<pid_t> SpawnProcess(const std::string& exe, const std::vector<std::string>& args,
                           const std::string& log_path, const std::vector<std::string>& environment) {
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
  ::posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);

  // The driver blocks or handles SIGINT/SIGTERM; a worker starts with default dispositions.
  posix_spawnattr_t attr;
  ::posix_spawnattr_init(&attr);
  sigset_t defaults, empty;
  ::sigemptyset(&defaults);
  ::sigaddset(&defaults, SIGINT);
  ::sigaddset(&defaults, SIGTERM);
  ::sigaddset(&defaults, SIGPIPE);
  ::sigemptyset(&empty);
  ::posix_spawnattr_setsigdefault(&attr, &defaults);
  ::posix_spawnattr_setsigmask(&attr, &empty);
  ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(exe.c_str()));
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view name(*entry, std::strcspn(*entry, "="));
    const bool replaced = std::any_of(environment.begin(), environment.end(), [&](const std::string& e) {
      return e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=';
    });
    if (!replaced) envp.push_back(*entry);
  }
  for (const auto& entry : environment) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, exe.c_str(), &actions, &attr, argv.data(), envp.data());
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attr);
  if (rc != 0) return Status::IOError("cannot start worker ", exe, ": ", ::strerror(rc));
  return pid;
}

Result<std::optional<ChildExit>> WaitForAnyChild(bool block) {
  int status = 0;
  struct rusage usage {};
  const pid_t pid = ::wait4(-1, &status, block ? 0 : WNOHANG, &usage);
  if (pid == 0) return std::optional<ChildExit>();  // WNOHANG: none has exited
  if (pid < 0) {
    if (errno == EINTR) return std::optional<ChildExit>();
    return Status::IOError("wait4: ", ::strerror(errno));
  }
  ChildExit exit;
  exit.pid = pid;
  exit.exited = WIFEXITED(status);
  exit.exit_code = exit.exited ? WEXITSTATUS(status) : 0;
  exit.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  exit.peak_rss_bytes = static_cast<int64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
  exit.cpu_seconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                     static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  return std::optional<ChildExit>(exit);
}

std::string ChildExit::Describe() const {
  if (exited) return fmt::format("exit code {}", exit_code);
  const char* name = ::sigabbrev_np(signal);
  return fmt::format("killed by signal {} (SIG{})", signal, name != nullptr ? name : "?");
}

}  // namespace intraday
