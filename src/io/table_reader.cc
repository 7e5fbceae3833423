#include "io/table_reader.h"

#include <algorithm>
#include <mutex>

#include <arrow/array.h>
#include <arrow/builder.h>
#include <arrow/compute/api_scalar.h>
#include <arrow/compute/cast.h>
#include <arrow/type.h>
#include <arrow/util/bitmap_ops.h>
#include <parquet/arrow/schema.h>
#include <parquet/exception.h>
#include <parquet/file_reader.h>
#include <parquet/properties.h>

#include "io/arrow_compute.h"
#include "io/mapped_file.h"

namespace intraday {
namespace {

bool IsStringLike(const arrow::DataType& type) {
  switch (type.id()) {
    case arrow::Type::STRING:
    case arrow::Type::LARGE_STRING:
    case arrow::Type::STRING_VIEW: return true;
    case arrow::Type::DICTIONARY:
      return IsStringLike(*static_cast<const arrow::DictionaryType&>(type).value_type());
    default: return false;
  }
}

bool IsInteger(const arrow::DataType& type) { return arrow::is_integer(type.id()); }

int64_t NanosPerUnit(arrow::TimeUnit::type unit) {
  switch (unit) {
    case arrow::TimeUnit::SECOND: return 1'000'000'000;
    case arrow::TimeUnit::MILLI: return 1'000'000;
    case arrow::TimeUnit::MICRO: return 1'000;
    case arrow::TimeUnit::NANO: return 1;
  }
  return 1;
}

// Timestamps of any unit -> timestamp[ns] (naive UTC): one multiplication per value, nulls kept.
Result<std::shared_ptr<arrow::Array>> ToNanos(const std::shared_ptr<arrow::Array>& array) {
  const auto& type = static_cast<const arrow::TimestampType&>(*array->type());
  static const auto kNanoType = arrow::timestamp(arrow::TimeUnit::NANO);
  const int64_t factor = NanosPerUnit(type.unit());
  const auto& data = *array->data();
  if (factor == 1) {
    auto out = data.Copy();
    out->type = kNanoType;
    return arrow::MakeArray(out);
  }
  const int64_t n = array->length();
  INTRADAY_ASSIGN_OR_RAISE(auto values, arrow::AllocateBuffer(n * static_cast<int64_t>(sizeof(int64_t))));
  const int64_t* in = data.GetValues<int64_t>(1);
  auto* out = reinterpret_cast<int64_t*>(values->mutable_data());
  for (int64_t i = 0; i < n; ++i) out[i] = in[i] * factor;
  std::shared_ptr<arrow::Buffer> validity = data.buffers[0];
  if (validity != nullptr && data.offset != 0) {
    INTRADAY_ASSIGN_OR_RAISE(validity, arrow::internal::CopyBitmap(arrow::default_memory_pool(),
                                                                   validity->data(), data.offset, n));
  }
  return arrow::MakeArray(
      arrow::ArrayData::Make(kNanoType, n, {std::move(validity), std::move(values)}, data.null_count, 0));
}

Result<std::shared_ptr<arrow::Array>> CastTo(const std::shared_ptr<arrow::Array>& array,
                                             const std::shared_ptr<arrow::DataType>& type) {
  INTRADAY_RETURN_NOT_OK(EnsureComputeInitialized());
  return arrow::compute::Cast(*array, type);
}

// LocalPrice = TradeNotional / Size; null where either is null or Size is 0.
Result<std::shared_ptr<arrow::Array>> DeriveLocalPrice(const arrow::DoubleArray& notional,
                                                       const arrow::DoubleArray& size) {
  arrow::DoubleBuilder builder;
  INTRADAY_RETURN_NOT_OK(builder.Reserve(notional.length()));
  for (int64_t i = 0; i < notional.length(); ++i) {
    if (notional.IsNull(i) || size.IsNull(i) || size.Value(i) == 0) {
      builder.UnsafeAppendNull();
    } else {
      builder.UnsafeAppend(notional.Value(i) / size.Value(i));
    }
  }
  return builder.Finish();
}

}  // namespace

Status CheckColumnType(const arrow::Field& field, ColumnKind kind) {
  const arrow::DataType& type = *field.type();
  bool ok = false;
  switch (kind) {
    case ColumnKind::kInt64:
    case ColumnKind::kInt32: ok = IsInteger(type) || type.id() == arrow::Type::NA; break;
    case ColumnKind::kFloat64:
      ok = arrow::is_floating(type.id()) || IsInteger(type) || type.id() == arrow::Type::NA;
      break;
    case ColumnKind::kString: ok = IsStringLike(type) || type.id() == arrow::Type::NA; break;
    case ColumnKind::kBool: ok = type.id() == arrow::Type::BOOL || type.id() == arrow::Type::NA; break;
    case ColumnKind::kTimestamp: ok = type.id() == arrow::Type::TIMESTAMP; break;
  }
  if (ok) return Status::OK();
  return Status::TypeError("column '", field.name(), "' has type ", type.ToString(), ", expected ",
                           ColumnKindName(kind));
}

Result<std::unique_ptr<TableFileReader>> TableFileReader::Open(std::shared_ptr<arrow::fs::FileSystem> fs,
                                                               const std::string& path,
                                                               std::string display_path, Table table,
                                                               TableReadOptions options) {
  std::unique_ptr<TableFileReader> reader(new TableFileReader());
  reader->fs_ = std::move(fs);
  reader->display_path_ = std::move(display_path);
  reader->table_ = table;
  reader->options_ = std::move(options);
  INTRADAY_RETURN_NOT_OK(reader->Init(path));
  return reader;
}

Status TableFileReader::Annotate(const Status& st) const {
  if (st.ok()) return st;
  return st.WithMessage(display_path_, ": ", st.message());
}

int64_t TableFileReader::ReleaseReadPages() { return ::intraday::ReleaseReadPages(input_.get()); }

Status TableFileReader::Init(const std::string& path) {
  auto input = fs_->OpenInputFile(path);
  if (!input.ok()) return Annotate(input.status());
  input_ = *input;

  parquet::ArrowReaderProperties arrow_props;
  arrow_props.set_batch_size(options_.batch_rows);
  parquet::ReaderProperties props;
  // Object stores: bounded reads. A local file is memory-mapped (io/lake.cc) and a column chunk
  // is then a view of the mapping, not a copy.
  if (fs_->type_name() != "local") props.enable_buffered_stream();
  try {
    parquet::arrow::FileReaderBuilder builder;
    INTRADAY_RETURN_NOT_OK(Annotate(builder.Open(*input, props, options_.metadata)));
    builder.properties(arrow_props);
    auto built = builder.Build();
    if (!built.ok()) return Annotate(built.status());
    reader_ = std::move(*built);
  } catch (const std::exception& e) {
    return Status::IOError(display_path_, ": not a readable Parquet file: ", e.what());
  }
  metadata_ = reader_->parquet_reader()->metadata();

  std::shared_ptr<arrow::Schema> file_schema;
  INTRADAY_RETURN_NOT_OK(Annotate(reader_->GetSchema(&file_schema)));

  std::vector<std::string> wanted = options_.columns;
  if (wanted.empty()) wanted = file_schema->field_names();

  // Resolve each requested column to a leaf index and an output field.
  std::vector<int> column_indices;
  arrow::FieldVector out_fields;
  auto add_file_column = [&](const std::string& name) -> Result<int> {
    auto pos = std::find(file_columns_.begin(), file_columns_.end(), name);
    if (pos != file_columns_.end()) return static_cast<int>(pos - file_columns_.begin());
    const int field_index = file_schema->GetFieldIndex(name);
    if (field_index < 0) {
      return Status::Invalid(display_path_, ": no column '", name, "' (table ", SpecOf(table_).key,
                             ") in this file");
    }
    const auto& field = file_schema->field(field_index);
    if (auto kind = KnownColumnKind(table_, name)) {
      auto st = CheckColumnType(*field, *kind);
      if (!st.ok()) return Status::TypeError(display_path_, ": ", st.message());
    }
    column_indices.push_back(field_index);
    file_columns_.push_back(name);
    return static_cast<int>(file_columns_.size() - 1);
  };

  for (const auto& name : wanted) {
    if (name == kLocalPriceColumn && table_ == Table::kTrades && file_schema->GetFieldIndex(name) < 0) {
      derive_local_price_ = true;
      continue;
    }
    INTRADAY_ASSIGN_OR_RAISE(int unused, add_file_column(name));
    (void)unused;
  }
  if (derive_local_price_) {
    INTRADAY_ASSIGN_OR_RAISE(local_price_notional_, add_file_column("TradeNotional"));
    INTRADAY_ASSIGN_OR_RAISE(local_price_size_, add_file_column("Size"));
  }

  // Leaf column indices for the reader (flat vendor schemas: field index == leaf index,
  // but go through the manifest to be safe with nested columns).
  std::vector<int> leaves;
  for (int field_index : column_indices) {
    const auto& schema_field = reader_->manifest().schema_fields[static_cast<size_t>(field_index)];
    std::vector<const parquet::arrow::SchemaField*> stack{&schema_field};
    while (!stack.empty()) {
      const auto* f = stack.back();
      stack.pop_back();
      if (f->is_leaf()) {
        leaves.push_back(f->column_index);
      } else {
        for (auto it = f->children.rbegin(); it != f->children.rend(); ++it) stack.push_back(&*it);
      }
    }
  }

  std::vector<int> row_groups = options_.row_groups;
  if (row_groups.empty()) {
    for (int i = 0; i < metadata_->num_row_groups(); ++i) row_groups.push_back(i);
  }
  for (int rg : row_groups) {
    if (rg < 0 || rg >= metadata_->num_row_groups()) {
      return Status::Invalid(display_path_, ": row group ", rg, " does not exist");
    }
    rows_left_ += metadata_->RowGroup(rg)->num_rows();
  }
  row_groups_ = std::move(row_groups);
  leaves_ = std::move(leaves);
  INTRADAY_RETURN_NOT_OK(OpenNextRowGroup());

  // Output schema: requested order, normalised types.
  for (const auto& name : wanted) {
    if (derive_local_price_ && name == kLocalPriceColumn) {
      out_fields.push_back(arrow::field(std::string(kLocalPriceColumn), arrow::float64()));
      continue;
    }
    auto field = file_schema->GetFieldByName(name);
    std::shared_ptr<arrow::DataType> type = field->type();
    if (type->id() == arrow::Type::TIMESTAMP) {
      type = arrow::timestamp(arrow::TimeUnit::NANO);
    } else if (auto kind = KnownColumnKind(table_, name); kind && type->id() != arrow::Type::NA) {
      switch (*kind) {
        case ColumnKind::kInt64: type = arrow::int64(); break;
        case ColumnKind::kInt32: type = arrow::int32(); break;
        case ColumnKind::kFloat64: type = arrow::float64(); break;
        case ColumnKind::kString: type = arrow::utf8(); break;
        case ColumnKind::kBool: type = arrow::boolean(); break;
        case ColumnKind::kTimestamp: break;
      }
    }
    out_fields.push_back(arrow::field(name, type, field->nullable()));
  }
  output_schema_ = arrow::schema(std::move(out_fields));
  return Status::OK();
}

int64_t TableFileReader::num_rows() const { return metadata_->num_rows(); }

Result<std::shared_ptr<arrow::RecordBatch>> TableFileReader::Normalize(
    const std::shared_ptr<arrow::RecordBatch>& batch) const {
  std::vector<std::shared_ptr<arrow::Array>> columns;
  columns.reserve(static_cast<size_t>(output_schema_->num_fields()));
  for (const auto& field : output_schema_->fields()) {
    if (derive_local_price_ && field->name() == kLocalPriceColumn) {
      INTRADAY_ASSIGN_OR_RAISE(auto notional, CastTo(batch->column(local_price_notional_), arrow::float64()));
      INTRADAY_ASSIGN_OR_RAISE(auto size, CastTo(batch->column(local_price_size_), arrow::float64()));
      INTRADAY_ASSIGN_OR_RAISE(auto price, DeriveLocalPrice(static_cast<const arrow::DoubleArray&>(*notional),
                                                            static_cast<const arrow::DoubleArray&>(*size)));
      columns.push_back(std::move(price));
      continue;
    }
    const auto index =
        std::find(file_columns_.begin(), file_columns_.end(), field->name()) - file_columns_.begin();
    std::shared_ptr<arrow::Array> column = batch->column(static_cast<int>(index));
    if (column->type()->id() == arrow::Type::TIMESTAMP) {
      INTRADAY_ASSIGN_OR_RAISE(column, ToNanos(column));
    } else if (!column->type()->Equals(*field->type())) {
      INTRADAY_ASSIGN_OR_RAISE(column, CastTo(column, field->type()));
    }
    columns.push_back(std::move(column));
  }
  return arrow::RecordBatch::Make(output_schema_, batch->num_rows(), std::move(columns));
}

Status TableFileReader::OpenNextRowGroup() {
  batches_.reset();
  if (next_row_group_ >= row_groups_.size()) return Status::OK();
  try {
    auto batches = reader_->GetRecordBatchReader({row_groups_[next_row_group_++]}, leaves_);
    if (!batches.ok()) return Annotate(batches.status());
    batches_ = std::move(*batches);
  } catch (const std::exception& e) {
    return Status::IOError(display_path_, ": ", e.what());
  }
  return Status::OK();
}

Result<std::shared_ptr<arrow::RecordBatch>> TableFileReader::Next() {
  std::shared_ptr<arrow::RecordBatch> batch;
  while (batches_ != nullptr) {
    try {
      auto st = batches_->ReadNext(&batch);
      if (!st.ok()) return Status::IOError(display_path_, ": cannot decode: ", st.message());
    } catch (const std::exception& e) {
      return Status::IOError(display_path_, ": cannot decode: ", e.what());
    }
    if (batch != nullptr) break;
    INTRADAY_RETURN_NOT_OK(OpenNextRowGroup());
  }
  if (batch == nullptr) {
    if (rows_left_ != 0) {
      return Status::IOError(display_path_, ": ended ", rows_left_, " rows before its metadata said");
    }
    return batch;
  }
  rows_left_ -= batch->num_rows();
  auto normalized = Normalize(batch);
  if (!normalized.ok()) return Annotate(normalized.status());
  return normalized;
}

Result<std::vector<std::shared_ptr<arrow::RecordBatch>>> TableFileReader::ReadAll() {
  std::vector<std::shared_ptr<arrow::RecordBatch>> out;
  while (true) {
    INTRADAY_ASSIGN_OR_RAISE(auto batch, Next());
    if (batch == nullptr) break;
    out.push_back(std::move(batch));
  }
  return out;
}

}  // namespace intraday
