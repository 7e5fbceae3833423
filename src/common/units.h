// Parsing of the human-written quantities of the config: durations ("250ms", "1m", "1d") and
// byte sizes ("2GiB", "512MB").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace intraday {

/// "100ns", "5us", "250ms", "15s", "1m", "1h", "1d" (an integer and a unit) -> nanoseconds (> 0).
Result<int64_t> ParseDuration(std::string_view text);

/// Inverse of ParseDuration for display: the largest unit that divides the value exactly.
std::string FormatDuration(int64_t nanos);

/// "2GiB", "512MiB", "1.5GB", "4096" (bytes) -> bytes (> 0). Binary (KiB, MiB, GiB, TiB) and
/// decimal (KB, MB, GB, TB) units; the number may have a fraction.
Result<uint64_t> ParseByteSize(std::string_view text);

/// 1536 -> "1.5 KiB"; for logs and reports.
std::string FormatBytes(uint64_t bytes);

}  // namespace intraday
