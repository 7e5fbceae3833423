// common/: small value types and helpers shared by every subsystem (errors, dates, durations,
// byte sizes). Nothing here knows about files, processes or metric formulas.
//
// Errors are values, as in Arrow: functions return Status or Result<T>. The project uses
// Arrow's own types so that errors from the Parquet and filesystem layers pass through unchanged.
#pragma once

#include <arrow/result.h>
#include <arrow/status.h>

namespace intraday {

using arrow::Result;
using arrow::Status;

}  // namespace intraday

#define INTRADAY_RETURN_NOT_OK(expr) ARROW_RETURN_NOT_OK(expr)
#define INTRADAY_ASSIGN_OR_RAISE(lhs, rexpr) ARROW_ASSIGN_OR_RAISE(lhs, rexpr)
