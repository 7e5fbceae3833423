// exec/memory_pages.h: a filled buffer's memory is a mapping of its own, aligned to 2 MiB, with its
// whole huge pages advised for transparent huge pages and its last, partial page not, unmapped
// with the buffer; small buffers come from Arrow's allocator. (That workers start with the
// allocator's huge pages off is tested end to end in tests/python/test_run.py.)
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "exec/memory_pages.h"

namespace intraday {
namespace {

/// One mapping of /proc/self/smaps: its address range and whether madvise(MADV_HUGEPAGE) marked
/// it ("hg" in VmFlags).
struct Mapping {
  uintptr_t begin = 0, end = 0;
  bool advised_huge = false;
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
                          std::stoull(line.substr(dash + 1, space - dash - 1), nullptr, 16), false});
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

}  // namespace
}  // namespace intraday
