// Reading the footer of a Parquet file (schema, row groups, column-chunk statistics and sizes)
// through the lake's filesystem, without touching a data page. Planning needs nothing more for
// most files: row counts, ListingId ranges and bytes per row all live in the footer.
#pragma once

#include <memory>
#include <string>

#include <arrow/filesystem/filesystem.h>
#include <parquet/metadata.h>

#include "common/status.h"

namespace intraday {

/// The file's metadata. A file that cannot be opened or is not Parquet (bad magic, truncated
/// footer) is an error naming `display_path`.
Result<std::shared_ptr<parquet::FileMetaData>> ReadParquetFooter(
    const std::shared_ptr<arrow::fs::FileSystem>& fs, const std::string& path,
    const std::string& display_path);

}  // namespace intraday
