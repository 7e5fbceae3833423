#include "common/allocator.h"

#include <cstddef>

// jemalloc's control interface, present only where jemalloc is linked: a weak reference is null
// otherwise (the unit tests and the sanitizer builds run on the system's malloc).
extern "C" int mallctl(const char* name, void* oldp, size_t* oldlenp, void* newp, size_t newlen)
    __attribute__((weak));

namespace intraday {

std::string ProcessAllocator() {
  if (mallctl == nullptr) return "system malloc";
  const char* version = nullptr;
  size_t size = sizeof(version);
  if (mallctl("version", &version, &size, nullptr, 0) != 0 || version == nullptr) return "jemalloc";
  return std::string("jemalloc ") + version;
}

}  // namespace intraday
