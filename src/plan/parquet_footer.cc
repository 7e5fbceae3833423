#include "plan/parquet_footer.h"

#include <exception>

#include <parquet/file_reader.h>

namespace intraday {

Result<std::shared_ptr<parquet::FileMetaData>> ReadParquetFooter(
    const std::shared_ptr<arrow::fs::FileSystem>& fs, const std::string& path,
    const std::string& display_path) {
  auto input = fs->OpenInputFile(path);
  if (!input.ok()) return input.status().WithMessage(display_path, ": ", input.status().message());
  // The Parquet library reports a bad footer by throwing; errors are values here.
  try {
    return parquet::ReadMetaData(*input);
  } catch (const std::exception& e) {
    return Status::IOError(display_path, ": not a readable Parquet file: ", e.what());
  }
}

}  // namespace intraday
