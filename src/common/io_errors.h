// I/O errors that keep their errno: so that a full disk is recognised wherever the write failed
// (a spill file, a worker's output, the day's Parquet file, the manifest) and the run can stop
// with one clear message instead of retrying or reporting a generic I/O error.
#pragma once

#include <cstring>
#include <utility>

#include <arrow/util/io_util.h>

#include "common/status.h"

namespace intraday {

/// An IOError "<args>: <strerror(err)>" with `err` attached (arrow::internal::ErrnoFromStatus
/// reads it back), so that callers can tell a full disk from other failures.
template <typename... Args>
Status ErrnoError(int err, Args&&... args) {
  return arrow::internal::IOErrorFromErrno(err, std::forward<Args>(args)..., ": ", std::strerror(err));
}

/// True when `status` reports a write that failed for lack of space: ENOSPC, or EDQUOT (a quota
/// is the same to the user), attached as errno by Arrow's file streams and by ErrnoError, or, for
/// errors that reached us as text only (a worker's log, std::error_code messages), in the C
/// library's words ("No space left on device", "Disk quota exceeded").
bool IsDiskFull(const Status& status);

}  // namespace intraday
