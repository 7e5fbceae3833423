// io/location.h on local disk: whole files appear at once or not at all, deletes of absent files
// are fine, URIs of the other kind are refused, and a full disk keeps its errno. (The same
// operations on S3 run end to end against a loopback server in tests/python/test_s3_output.py.)
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include <gtest/gtest.h>

#include "common/io_errors.h"
#include "io/location.h"
#include "test_support.h"

namespace intraday {
namespace {

namespace fs = std::filesystem;

Location Local(const std::string& root) { return Location::Open(root, S3Settings{}).ValueOrDie(); }

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(Location, LocalRootIsAbsoluteAndJoins) {
  testing::TempDir tmp;
  const Location location = Local(tmp.path() + "/out/");
  EXPECT_FALSE(location.is_s3());
  EXPECT_EQ(location.root(), tmp.path() + "/out");
  EXPECT_EQ(location.Join("a/b.json"), tmp.path() + "/out/a/b.json");
  ASSERT_TRUE(location.Prepare().ok());
  EXPECT_TRUE(fs::is_directory(tmp.path() + "/out"));
}

TEST(Location, AtomicOutputAppearsOnlyOnCommit) {
  testing::TempDir tmp;
  const Location location = Local(tmp.path());
  const std::string file = location.Join("day.parquet");
  {
    auto out = location.OpenAtomic(file).ValueOrDie();
    ASSERT_TRUE(out->stream()->Write("abc", 3).ok());
    EXPECT_FALSE(fs::exists(file));
    EXPECT_EQ(out->Tell().ValueOrDie(), 3);
    ASSERT_TRUE(out->Commit().ok());
  }
  EXPECT_EQ(ReadTextFile(file).ValueOrDie(), "abc");
  EXPECT_EQ(Entries(tmp.path()), std::vector<std::string>{"day.parquet"});
}

TEST(Location, AtomicOutputDroppedWithoutCommitLeavesNothing) {
  testing::TempDir tmp;
  const Location location = Local(tmp.path());
  ASSERT_TRUE(location.WriteText(location.Join("day.parquet"), "old").ok());
  {
    auto out = location.OpenAtomic(location.Join("day.parquet")).ValueOrDie();
    ASSERT_TRUE(out->stream()->Write("half", 4).ok());
  }  // an error on the way: the old file stays, no temporary file is left
  EXPECT_EQ(location.ReadText(location.Join("day.parquet")).ValueOrDie(), "old");
  EXPECT_EQ(Entries(tmp.path()), std::vector<std::string>{"day.parquet"});
}

TEST(Location, ExistsDeleteAndDeleteTree) {
  testing::TempDir tmp;
  const Location location = Local(tmp.path());
  const std::string dir = location.Join("run/pass/day");
  ASSERT_TRUE(location.CreateDirs(dir).ok());
  ASSERT_TRUE(location.WriteText(dir + "/task.json", "{}").ok());
  EXPECT_TRUE(location.Exists(dir).ValueOrDie());
  EXPECT_TRUE(location.Exists(dir + "/task.json").ValueOrDie());
  EXPECT_FALSE(location.Exists(dir + "/other.json").ValueOrDie());
  EXPECT_TRUE(location.Delete(dir + "/other.json").ok());  // absent: fine
  ASSERT_TRUE(location.Delete(dir + "/task.json").ok());
  EXPECT_FALSE(location.Exists(dir + "/task.json").ValueOrDie());
  ASSERT_TRUE(location.WriteText(dir + "/spill.arrow", "x").ok());
  ASSERT_TRUE(location.DeleteTree(location.Join("run")).ok());
  EXPECT_TRUE(Entries(tmp.path()).empty());
  EXPECT_TRUE(location.DeleteTree(location.Join("run")).ok());  // absent: fine
}

TEST(Location, RefusesUrisOfTheOtherKind) {
  testing::TempDir tmp;
  const Location location = Local(tmp.path());
  auto path = location.PathOf("s3://bucket/key");
  ASSERT_FALSE(path.ok());
  EXPECT_NE(path.status().message().find("is not a local path"), std::string::npos);
  EXPECT_EQ(location.PathOf(tmp.path() + "/x").ValueOrDie(), tmp.path() + "/x");
}

TEST(Location, S3UriWithoutBucketIsRefused) {
  for (const std::string uri : {"s3://", "s3:///prefix"}) {
    auto location = Location::Open(uri, S3Settings{});
    ASSERT_FALSE(location.ok()) << uri;
    EXPECT_NE(location.status().message().find("names no bucket"), std::string::npos) << uri;
  }
}

TEST(Location, LocalWriteOnAFullDiskKeepsItsErrno) {
  if (::access("/dev/full", W_OK) != 0) GTEST_SKIP() << "/dev/full is not writable here";
  const Location location = Local("/dev");
  auto out = location.OpenOutput("/dev/full").ValueOrDie();
  Status st = out->Write(std::string(1 << 16, 'x').data(), 1 << 16);
  if (st.ok()) st = out->Close();
  EXPECT_TRUE(IsDiskFull(st)) << st.ToString();
}

}  // namespace
}  // namespace intraday
