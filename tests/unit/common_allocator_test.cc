// ProcessAllocator without jemalloc: the unit tests link the system's malloc (only the intraday
// binary links jemalloc, tests/python/test_run.py checks it there), so the weak mallctl is null.
#include <gtest/gtest.h>

#include "common/allocator.h"

namespace intraday {
namespace {

TEST(ProcessAllocator, NamesTheSystemMallocWhereJemallocIsNotLinked) {
  EXPECT_EQ(ProcessAllocator(), "system malloc");
}

}  // namespace
}  // namespace intraday
