// A mapped lake file's pages let go of between reads (ReleaseReadPages): they leave the process's
// resident memory, and a later read still sees the file's bytes; any other file is left alone.
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <arrow/buffer.h>
#include <arrow/filesystem/localfs.h>
#include <arrow/io/file.h>
#include <arrow/io/memory.h>
#include <gtest/gtest.h>

#include "io/mapped_file.h"
#include "test_support.h"

namespace intraday {
namespace {

constexpr int64_t kFileBytes = int64_t{4} << 20;

uint8_t ByteAt(int64_t i) { return static_cast<uint8_t>((i * 7919) % 251); }

std::string WriteFile(const std::string& dir) {
  const std::string path = dir + "/data.bin";
  std::ofstream out(path, std::ios::binary);
  for (int64_t i = 0; i < kFileBytes; ++i) out.put(static_cast<char>(ByteAt(i)));
  return path;
}

/// The resident KiB of this process's mapping that holds `address` (/proc/self/smaps).
int64_t ResidentKiB(const uint8_t* address) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  const auto at = reinterpret_cast<uintptr_t>(address);
  while (std::getline(smaps, line)) {
    uintptr_t begin = 0, end = 0;
    char dash = 0;
    std::istringstream range(line);
    if (range >> std::hex >> begin >> dash >> end && dash == '-') {
      inside = begin <= at && at < end;
      continue;
    }
    if (inside && line.rfind("Rss:", 0) == 0) return std::stoll(line.substr(4));
  }
  return -1;
}

/// Reads every byte of [0, kFileBytes) through `file` and checks it.
void ExpectContents(arrow::io::RandomAccessFile& file, const uint8_t** data) {
  auto all = file.ReadAt(0, kFileBytes);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ((*all)->size(), kFileBytes);
  for (int64_t i = 0; i < kFileBytes; i += 1021) ASSERT_EQ((*all)->data()[i], ByteAt(i)) << i;
  *data = (*all)->data();
}

TEST(ReleaseReadPages, LetsGoOfAMappedFilesPagesAndKeepsItsBytes) {
  testing::TempDir tmp;
  const std::string path = WriteFile(tmp.path());
  // As the lake opens local files (io/lake.cc): a local file system that maps them.
  arrow::fs::LocalFileSystemOptions options;
  options.use_mmap = true;
  arrow::fs::LocalFileSystem fs(options);
  auto file = fs.OpenInputFile(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const uint8_t* data = nullptr;
  ExpectContents(**file, &data);
  ASSERT_GE(ResidentKiB(data), kFileBytes / 1024 / 2) << "read pages resident";

  EXPECT_EQ(ReleaseReadPages(file->get()), kFileBytes);
  EXPECT_LT(ResidentKiB(data), 64) << "released pages no longer resident";
  ExpectContents(**file, &data);  // read again: the same bytes, from the page cache
  EXPECT_GE(ResidentKiB(data), kFileBytes / 1024 / 2);
}

TEST(ReleaseReadPages, LeavesAnyOtherFileAlone) {
  testing::TempDir tmp;
  const std::string path = WriteFile(tmp.path());
  // Read into memory, not mapped: nothing to let go of, and its buffers keep their bytes.
  auto plain = arrow::io::ReadableFile::Open(path);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(ReleaseReadPages(plain->get()), 0);
  std::vector<uint8_t> bytes(static_cast<size_t>(kFileBytes));
  for (int64_t i = 0; i < kFileBytes; ++i) bytes[static_cast<size_t>(i)] = ByteAt(i);
  arrow::io::BufferReader in_memory(arrow::Buffer::Wrap(bytes));
  EXPECT_EQ(ReleaseReadPages(&in_memory), 0);
  const uint8_t* data = nullptr;
  ExpectContents(in_memory, &data);
  EXPECT_EQ(ReleaseReadPages(nullptr), 0);
}

}  // namespace
}  // namespace intraday
