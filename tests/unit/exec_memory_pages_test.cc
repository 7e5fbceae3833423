// exec/memory_pages.h: a filled buffer's memory is a mapping of its own, aligned to 2 MiB, with its
// whole huge pages advised for transparent huge pages and its last, partial page not, unmapped
// with the buffer; small buffers come from Arrow's allocator. (That workers start with the
// allocator's huge pages off is tested end to end in tests/python/test_run.py.)
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <arrow/io/file.h>
#include <gtest/gtest.h>

#include "exec/memory_pages.h"

namespace intraday {
namespace {

/// One mapping of /proc/self/smaps: its address range and whether madvise(MADV_HUGEPAGE) marked
/// it ("hg" in VmFlags).
struct Mapping {
  uintptr_t begin = 0, end = 0;
  bool advised_huge = false;
  int64_t rss_kib = 0;  // its pages in this process's page tables
};

std::vector<Mapping> Mappings() {
  std::vector<Mapping> mappings;
  std::ifstream smaps("/proc/self/smaps");
  for (std::string line; std::getline(smaps, line);) {
    const auto dash = line.find('-');
    const auto space = line.find(' ');
    if (dash != std::string::npos && space != std::string::npos && dash < space &&
        line.find_first_not_of("0123456789abcdef") == dash) {
      mappings.push_back({std::stoull(line.substr(0, dash), nullptr, 16),
                          std::stoull(line.substr(dash + 1, space - dash - 1), nullptr, 16), false, 0});
    } else if (line.rfind("Rss:", 0) == 0 && !mappings.empty()) {
      mappings.back().rss_kib = std::stoll(line.substr(4));
    } else if (line.rfind("VmFlags:", 0) == 0 && !mappings.empty()) {
      mappings.back().advised_huge = (line + " ").find(" hg ") != std::string::npos;
    }
  }
  return mappings;
}

const Mapping* MappingOf(const std::vector<Mapping>& mappings, uintptr_t address) {
  for (const auto& m : mappings) {
    if (m.begin <= address && address < m.end) return &m;
  }
  return nullptr;
}

bool KernelHasTransparentHugePages() {
  return std::filesystem::exists("/sys/kernel/mm/transparent_hugepage/enabled");
}

TEST(FilledBuffer, LargeBufferIsItsOwnAlignedMappingWithWholeHugePagesAdvised) {
  const int64_t size = 3 * kHugePageBytes + 12345;
  auto buffer = AllocateFilledBuffer(size).ValueOrDie();
  ASSERT_EQ(buffer->size(), size);
  ASSERT_TRUE(buffer->is_mutable());
  const auto begin = reinterpret_cast<uintptr_t>(buffer->data());
  EXPECT_EQ(begin % kHugePageBytes, 0u);
  std::memset(buffer->mutable_data(), 0x5a, static_cast<size_t>(size));  // every byte is writable
  EXPECT_EQ(buffer->data()[size - 1], 0x5a);

  const auto mappings = Mappings();
  const Mapping* head = MappingOf(mappings, begin);
  const Mapping* tail = MappingOf(mappings, begin + size - 1);
  ASSERT_NE(head, nullptr);
  ASSERT_NE(tail, nullptr);
  if (KernelHasTransparentHugePages()) {
    // The three whole huge pages, and nothing before them, are advised; the partial last page is not.
    EXPECT_TRUE(head->advised_huge);
    EXPECT_EQ(head->begin, begin);
    EXPECT_EQ(head->end, begin + 3 * kHugePageBytes);
    EXPECT_FALSE(tail->advised_huge);
  }
  // The mapping ends at the last page of the buffer: nothing past it is mapped for it.
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  EXPECT_EQ(tail->end, (begin + size + page - 1) / page * page);

  buffer.reset();
  const auto after = Mappings();
  const Mapping* still = MappingOf(after, begin);
  EXPECT_TRUE(still == nullptr || still->begin != begin || still->end != head->end)
      << "the buffer's pages are still mapped after it was released";
}

TEST(FilledBuffer, SlicesKeepTheMappingAlive) {
  auto block = AllocateFilledBuffer(2 * kHugePageBytes).ValueOrDie();
  const auto begin = reinterpret_cast<uintptr_t>(block->data());
  auto slice = arrow::SliceMutableBuffer(block, kHugePageBytes, 100);
  block.reset();
  std::memset(slice->mutable_data(), 1, 100);
  EXPECT_NE(MappingOf(Mappings(), begin), nullptr);
}

TEST(FilledBuffer, SmallBufferComesFromTheAllocator) {
  auto buffer = AllocateFilledBuffer(kMinMappedBufferBytes - 1).ValueOrDie();
  ASSERT_EQ(buffer->size(), kMinMappedBufferBytes - 1);
  ASSERT_TRUE(buffer->is_mutable());
  // Not a mapping of its own (which would span exactly its pages, as the large one's does).
  const auto begin = reinterpret_cast<uintptr_t>(buffer->data());
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto mappings = Mappings();
  const Mapping* mapping = MappingOf(mappings, begin);
  ASSERT_NE(mapping, nullptr);
  EXPECT_FALSE(mapping->begin == begin &&
               mapping->end == (begin + static_cast<uintptr_t>(buffer->size()) + page - 1) / page * page);
}

// A worker lets go of the pages of mapped spill input it is done with: they leave its RSS, and
// reading them again gives the same bytes (from the page cache).
TEST(DropFilePages, PagesLeaveTheRssAndReadBackUnchanged) {
  const auto page = static_cast<int64_t>(::sysconf(_SC_PAGESIZE));
  const int64_t pages = 64;
  const std::string path = ::testing::TempDir() + "/drop_file_pages.bin";
  std::vector<uint8_t> bytes(static_cast<size_t>(pages * page));
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7 + i / 4096);
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  auto file = arrow::io::MemoryMappedFile::Open(path, arrow::io::FileMode::READ).ValueOrDie();
  auto mapped = file->ReadAt(0, pages * page).ValueOrDie();
  const uint8_t* data = mapped->data();
  uint64_t sum = 0;
  for (int64_t i = 0; i < pages * page; i += page) sum += data[i];  // every page resident
  EXPECT_GT(sum, 0u);
  const auto mappings_before = Mappings();
  const Mapping* before = MappingOf(mappings_before, reinterpret_cast<uintptr_t>(data));
  ASSERT_NE(before, nullptr);
  const int64_t rss_before = before->rss_kib;
  EXPECT_GE(rss_before * 1024, pages * page);

  // From inside page 3 to inside page 40: pages 3..39 go (the one holding the end stays).
  const int64_t dropped = DropFilePages(data + 3 * page + 100, data + 40 * page + 5);
  EXPECT_EQ(dropped, 37 * page);
  const auto mappings_after = Mappings();
  const Mapping* after = MappingOf(mappings_after, reinterpret_cast<uintptr_t>(data));
  ASSERT_NE(after, nullptr);
  EXPECT_EQ(after->rss_kib * 1024, rss_before * 1024 - 37 * page);
  EXPECT_EQ(std::memcmp(data, bytes.data(), bytes.size()), 0);
  EXPECT_EQ(DropFilePages(data + 5, data + page - 1), 0);  // within one page: nothing
  std::filesystem::remove(path);
}

// Huge pages only for a worker that starts within kFreedMemoryStaysWarm of another's exit; the
// allocator's advice only for one that also reads lake files.
TEST(HugePages, OnlyForAWorkerStartingJustAfterAnotherExited) {
  const auto now = std::chrono::steady_clock::now();
  EXPECT_FALSE(MemoryJustFreed(std::nullopt, now));  // the run's first worker
  EXPECT_TRUE(MemoryJustFreed(now - std::chrono::milliseconds(5), now));
  EXPECT_TRUE(MemoryJustFreed(now - kFreedMemoryStaysWarm + std::chrono::milliseconds(1), now));
  EXPECT_FALSE(MemoryJustFreed(now - kFreedMemoryStaysWarm, now));
  EXPECT_FALSE(MemoryJustFreed(now - std::chrono::seconds(10), now));  // after a pause

  using Settings = std::vector<std::string>;
  EXPECT_EQ(WorkerAllocatorSettings(true, true),
            (Settings{"ARROW_DEFAULT_MEMORY_POOL=jemalloc", "JE_ARROW_MALLOC_CONF=narenas:1,thp:always"}));
  EXPECT_EQ(WorkerAllocatorSettings(true, false),
            (Settings{"ARROW_DEFAULT_MEMORY_POOL=jemalloc", "JE_ARROW_MALLOC_CONF=narenas:1"}));
  EXPECT_EQ(WorkerAllocatorSettings(false, true),
            (Settings{"ARROW_DEFAULT_MEMORY_POOL=jemalloc", "JE_ARROW_MALLOC_CONF=narenas:1"}));
}

// The switch from 4 KiB to huge pages costs one worker cold 2 MiB blocks: only with enough days
// after it; once workers use them, each one's freed blocks serve the next.
TEST(HugePages, SwitchedToOnlyWhenEnoughDaysFollowAndKeptWhileWorkersUseThem) {
  const auto now = std::chrono::steady_clock::now();
  const auto just = std::optional(now - std::chrono::milliseconds(5));
  const auto paused = std::optional(now - std::chrono::seconds(10));
  EXPECT_FALSE(UseHugePages(just, /*last_worker_huge=*/false, /*days_after=*/0, now));
  EXPECT_FALSE(UseHugePages(just, false, kDaysThatRepayHugePages - 1, now));
  EXPECT_TRUE(UseHugePages(just, false, kDaysThatRepayHugePages, now));
  EXPECT_TRUE(UseHugePages(just, true, 0, now));
  // Never on memory nobody freed a moment before.
  EXPECT_FALSE(UseHugePages(std::nullopt, false, 10, now));
  EXPECT_FALSE(UseHugePages(paused, true, 10, now));
}

}  // namespace
}  // namespace intraday
