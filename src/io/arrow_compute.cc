#include "io/arrow_compute.h"

#include <mutex>

#include <arrow/compute/initialize.h>

namespace intraday {

Status EnsureComputeInitialized() {
  static std::once_flag once;
  static Status status;
  std::call_once(once, [] { status = arrow::compute::Initialize(); });
  return status;
}

}  // namespace intraday
