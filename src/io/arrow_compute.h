// Arrow's compute kernels (cast, sort, take, filter) live in libarrow_compute, whose function
// registry must be initialised once per process before use.
#pragma once

#include "common/status.h"

namespace intraday {

/// Initialises Arrow's compute function registry (thread-safe, idempotent).
Status EnsureComputeInitialized();

}  // namespace intraday
