#include "exec/memory_pages.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <arrow/memory_pool.h>

namespace intraday {
namespace {

// Linux 6.18 (include/uapi/linux/prctl.h); Debian 12's headers predate it.
constexpr unsigned long kThpDisableExceptAdvised = 1UL << 1;

/// Pages mapped by AllocateFilledBuffer; unmapped when the last reference goes.
class MappedBuffer : public arrow::MutableBuffer {
 public:
  MappedBuffer(uint8_t* data, int64_t size, size_t mapped)
      : arrow::MutableBuffer(data, size), mapped_(mapped) {}
  ~MappedBuffer() override { ::munmap(mutable_data(), mapped_); }

 private:
  size_t mapped_;
};

}  // namespace

void DisableTransparentHugePages() { (void)::prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0); }

bool AllowHugePagesWhereAdvised() {
  return ::prctl(PR_SET_THP_DISABLE, 1, kThpDisableExceptAdvised, 0, 0) == 0;
}

Result<std::shared_ptr<arrow::Buffer>> AllocateFilledBuffer(int64_t size) {
  if (size < kMinMappedBufferBytes) {
    INTRADAY_ASSIGN_OR_RAISE(std::unique_ptr<arrow::Buffer> buffer, arrow::AllocateBuffer(size));
    return std::shared_ptr<arrow::Buffer>(std::move(buffer));
  }
  const auto page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const auto huge = static_cast<size_t>(kHugePageBytes);
  const size_t length = (static_cast<size_t>(size) + page - 1) / page * page;
  // Map a huge page more than needed, then give back the unaligned head and the tail.
  void* mapped = ::mmap(nullptr, length + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) {
    return Status::OutOfMemory("cannot map ", size, " bytes: ", std::strerror(errno));
  }
  auto* base = static_cast<uint8_t*>(mapped);
  auto* start = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(base) + huge - 1) / huge * huge);
  if (start > base) ::munmap(base, static_cast<size_t>(start - base));
  const size_t tail = static_cast<size_t>(base + length + huge - (start + length));
  if (tail > 0) ::munmap(start + length, tail);
  // Whole huge pages only: the last, partial one stays in 4 KiB pages, so no byte past the array
  // is ever zeroed or resident.
  (void)::madvise(start, static_cast<size_t>(size) / huge * huge, MADV_HUGEPAGE);
  return std::make_shared<MappedBuffer>(start, size, length);
}

int64_t DropFilePages(const uint8_t* begin, const uint8_t* end) {
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t first = reinterpret_cast<uintptr_t>(begin) / page * page;
  const uintptr_t last = reinterpret_cast<uintptr_t>(end) / page * page;
  if (last <= first || ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED) != 0) return 0;
  return static_cast<int64_t>(last - first);
}

}  // namespace intraday
