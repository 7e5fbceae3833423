#include "io/mapped_file.h"

#include <sys/mman.h>
#include <unistd.h>

#include <arrow/buffer.h>
#include <arrow/io/file.h>

namespace intraday {

int64_t ReleaseReadPages(arrow::io::RandomAccessFile* file) {
  // Only a mapping of the file itself: MADV_DONTNEED on any other memory would zero it.
  auto* mapped = dynamic_cast<arrow::io::MemoryMappedFile*>(file);
  if (mapped == nullptr) return 0;
  auto size = mapped->GetSize();
  if (!size.ok() || *size <= 0) return 0;
  // A file opened for reading is mapped whole, from its first byte: a one-byte read is a view of
  // that byte, the mapping's start (a longer one would ask the kernel to read ahead all of it).
  auto first = mapped->ReadAt(0, 1);
  if (!first.ok() || *first == nullptr || (*first)->size() != 1) return 0;
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<uintptr_t>((*first)->data());
  if (begin % page != 0) return 0;  // not the start of a mapping
  const uintptr_t length = (static_cast<uintptr_t>(*size) + page - 1) / page * page;
  if (::madvise(reinterpret_cast<void*>(begin), length, MADV_DONTNEED) != 0) return 0;
  return static_cast<int64_t>(length);
}

}  // namespace intraday
