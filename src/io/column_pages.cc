#include "io/column_pages.h"

#include <vector>

#include <parquet/column_reader.h>
#include <parquet/exception.h>
#include <parquet/properties.h>
#include <parquet/schema.h>
#include <parquet/types.h>

#include "io/mapped_file.h"

namespace intraday {
namespace {

template <typename DType, typename Out, typename Convert>
class TypedColumnPages final : public FixedColumnPages {
 public:
  TypedColumnPages(std::shared_ptr<parquet::ColumnReader> reader, int16_t max_definition_level,
                   std::string where, Convert convert)
      : reader_(std::static_pointer_cast<parquet::TypedColumnReader<DType>>(std::move(reader))),
        max_def_(max_definition_level),
        where_(std::move(where)),
        convert_(convert) {}

  Result<int64_t> Next(int64_t max_rows, uint8_t* values, uint8_t* valid, bool* has_null) override {
    in_.resize(static_cast<size_t>(max_rows));
    if (max_def_ > 0) def_.resize(static_cast<size_t>(max_rows));
    int64_t values_read = 0;
    int64_t rows = 0;
    try {
      rows = reader_->ReadBatch(max_rows, max_def_ > 0 ? def_.data() : nullptr, nullptr, in_.data(),
                                &values_read);
    } catch (const std::exception& e) {
      return Status::IOError(where_, ": cannot decode: ", e.what());
    }
    if (max_def_ == 0) rows = values_read;
    Out* out = reinterpret_cast<Out*>(values);
    *has_null = values_read < rows;
    if (!*has_null) {
      for (int64_t i = 0; i < rows; ++i) out[i] = convert_(in_[static_cast<size_t>(i)]);
      return rows;
    }
    size_t k = 0;
    for (int64_t i = 0; i < rows; ++i) {
      const bool present = def_[static_cast<size_t>(i)] == max_def_;
      out[i] = present ? convert_(in_[k++]) : Out{};
      valid[i] = present ? 1 : 0;
    }
    return rows;
  }

 private:
  std::shared_ptr<parquet::TypedColumnReader<DType>> reader_;
  int16_t max_def_;
  std::string where_;
  Convert convert_;
  std::vector<typename DType::c_type> in_;
  std::vector<int16_t> def_;
};

template <typename DType, typename Out, typename Convert>
std::unique_ptr<FixedColumnPages> MakePages(std::shared_ptr<parquet::ColumnReader> reader, int16_t max_def,
                                            std::string where, Convert convert) {
  return std::make_unique<TypedColumnPages<DType, Out, Convert>>(std::move(reader), max_def, std::move(where),
                                                                 convert);
}

bool IsSignedIntOrPlain(const parquet::LogicalType& logical, int max_bits) {
  if (logical.is_none()) return true;
  if (!logical.is_int()) return false;
  const auto& integer = static_cast<const parquet::IntLogicalType&>(logical);
  return integer.is_signed() && integer.bit_width() <= max_bits;
}

}  // namespace

Result<std::unique_ptr<RowGroupPages>> RowGroupPages::Open(const std::shared_ptr<arrow::fs::FileSystem>& fs,
                                                           const std::string& path, std::string display_path,
                                                           std::shared_ptr<parquet::FileMetaData> metadata,
                                                           int row_group) {
  if (fs->type_name() != "local") return nullptr;
  std::unique_ptr<RowGroupPages> pages(new RowGroupPages());
  pages->display_path_ = std::move(display_path);
  auto input = fs->OpenInputFile(path);
  if (!input.ok()) return input.status().WithMessage(pages->display_path_, ": ", input.status().message());
  pages->input_ = *input;
  parquet::ReaderProperties properties;  // a local file's pages are views of its mapping
  try {
    pages->file_ = parquet::ParquetFileReader::Open(*input, properties, std::move(metadata));
    if (row_group < 0 || row_group >= pages->file_->metadata()->num_row_groups())
      return Status::Invalid(pages->display_path_, ": row group ", row_group, " does not exist");
    pages->row_group_ = pages->file_->RowGroup(row_group);
  } catch (const std::exception& e) {
    return Status::IOError(pages->display_path_, ": not a readable Parquet file: ", e.what());
  }
  return pages;
}

int64_t RowGroupPages::ReleaseReadPages() { return ::intraday::ReleaseReadPages(input_.get()); }

Result<std::unique_ptr<FixedColumnPages>> RowGroupPages::Column(const std::string& name,
                                                                const arrow::DataType& type) {
  const parquet::SchemaDescriptor* schema = file_->metadata()->schema();
  const int leaf = schema->ColumnIndex(name);
  if (leaf < 0) return nullptr;
  const parquet::ColumnDescriptor* column = schema->Column(leaf);
  if (column->max_repetition_level() != 0 || column->path()->ToDotVector().size() != 1) return nullptr;
  const parquet::LogicalType& logical = *column->logical_type();
  const parquet::Type::type physical = column->physical_type();
  const int16_t max_def = column->max_definition_level();
  std::shared_ptr<parquet::ColumnReader> reader;
  try {
    reader = row_group_->Column(leaf);
  } catch (const std::exception& e) {
    return Status::IOError(display_path_, ": column '", name, "': ", e.what());
  }
  const std::string where = display_path_ + ": column '" + name + "'";
  auto same = [](auto v) { return v; };
  switch (type.id()) {
    case arrow::Type::DOUBLE:
      if (physical == parquet::Type::DOUBLE && logical.is_none())
        return MakePages<parquet::DoubleType, double>(std::move(reader), max_def, where, same);
      break;
    case arrow::Type::INT64:
      if (physical == parquet::Type::INT64 && IsSignedIntOrPlain(logical, 64))
        return MakePages<parquet::Int64Type, int64_t>(std::move(reader), max_def, where, same);
      if (physical == parquet::Type::INT32 && IsSignedIntOrPlain(logical, 32))
        return MakePages<parquet::Int32Type, int64_t>(std::move(reader), max_def, where,
                                                      [](int32_t v) { return static_cast<int64_t>(v); });
      break;
    case arrow::Type::INT32:
      if (physical == parquet::Type::INT32 && IsSignedIntOrPlain(logical, 32))
        return MakePages<parquet::Int32Type, int32_t>(std::move(reader), max_def, where, same);
      break;
    case arrow::Type::TIMESTAMP: {
      if (static_cast<const arrow::TimestampType&>(type).unit() != arrow::TimeUnit::NANO) break;
      if (physical != parquet::Type::INT64 || !logical.is_timestamp()) break;
      int64_t factor = 0;
      switch (static_cast<const parquet::TimestampLogicalType&>(logical).time_unit()) {
        case parquet::LogicalType::TimeUnit::MILLIS: factor = 1'000'000; break;
        case parquet::LogicalType::TimeUnit::MICROS: factor = 1'000; break;
        case parquet::LogicalType::TimeUnit::NANOS: factor = 1; break;
        default: break;
      }
      if (factor == 0) break;
      return MakePages<parquet::Int64Type, int64_t>(std::move(reader), max_def, where,
                                                    [factor](int64_t v) { return v * factor; });
    }
    default: break;
  }
  return nullptr;
}

}  // namespace intraday
