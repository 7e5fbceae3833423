// Helpers shared by the unit tests: where the shared fixtures are, scratch directories.
#pragma once

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace intraday::testing {

/// ../shared/fixtures/sample-day beside the repository, or "" when absent.
inline std::string SampleDayDir() {
  const std::filesystem::path dir =
      std::filesystem::path(INTRADAY_SOURCE_DIR) / ".." / "shared" / "fixtures" / "sample-day";
  return std::filesystem::is_directory(dir) ? std::filesystem::canonical(dir).string() : std::string();
}

#define INTRADAY_REQUIRE_SAMPLE_DAY(dir_var)                       \
  const std::string dir_var = ::intraday::testing::SampleDayDir(); \
  if (dir_var.empty()) GTEST_SKIP() << "../shared/fixtures/sample-day is absent: skipping"

/// A fresh empty directory under the system temp dir, removed at destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "intraday-test-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data()) != nullptr ? pattern : std::string();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace intraday::testing
