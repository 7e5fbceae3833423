#include "metrics/module.h"

#include <algorithm>
#include <cmath>

namespace intraday {

ListingTable::ListingTable(std::shared_ptr<arrow::RecordBatch> batch, int time_column)
    : batch_(std::move(batch)) {
  const auto& data = *batch_->column(time_column)->data();
  times_ = data.GetValues<int64_t>(1);
}

bool ListingTable::has_column(std::string_view column) const {
  return batch_ != nullptr && batch_->schema()->GetFieldIndex(std::string(column)) >= 0;
}

template <typename ArrayType>
Result<const ArrayType*> ListingTable::Typed(std::string_view column, arrow::Type::type id) const {
  if (batch_ == nullptr) return Status::Invalid("no events table");
  const auto array = batch_->GetColumnByName(std::string(column));
  if (array == nullptr) return Status::Invalid("column '", column, "' was not declared as a module input");
  if (array->type_id() != id) {
    return Status::TypeError("column '", column, "' is ", array->type()->ToString(), ", not ",
                             arrow::TypeTraits<typename ArrayType::TypeClass>::type_singleton()->ToString());
  }
  return static_cast<const ArrayType*>(array.get());
}

Result<const arrow::DoubleArray*> ListingTable::Float64(std::string_view column) const {
  return Typed<arrow::DoubleArray>(column, arrow::Type::DOUBLE);
}
Result<const arrow::Int64Array*> ListingTable::Int64(std::string_view column) const {
  return Typed<arrow::Int64Array>(column, arrow::Type::INT64);
}
Result<const arrow::Int32Array*> ListingTable::Int32(std::string_view column) const {
  return Typed<arrow::Int32Array>(column, arrow::Type::INT32);
}
Result<const arrow::StringArray*> ListingTable::String(std::string_view column) const {
  return Typed<arrow::StringArray>(column, arrow::Type::STRING);
}
Result<const arrow::BooleanArray*> ListingTable::Bool(std::string_view column) const {
  return Typed<arrow::BooleanArray>(column, arrow::Type::BOOL);
}

OutputBlock::OutputBlock(std::span<const OutputColumn> columns, size_t rows) : rows_(rows) {
  size_t n_f64 = 0, n_i64 = 0;
  for (const auto& spec : columns) {
    n_f64 += spec.type == ValueType::kFloat64 ? 1 : 0;
    n_i64 += spec.type == ValueType::kInt64 ? 1 : 0;
  }
  f64_.assign(n_f64 * rows, 0.0);
  i64_.assign(n_i64 * rows, 0);
  valid_.assign(columns.size() * rows, 0);
  columns_.reserve(columns.size());
  size_t next_f64 = 0, next_i64 = 0;
  for (size_t i = 0; i < columns.size(); ++i) {
    Column column;
    column.type = columns[i].type;
    switch (column.type) {
      case ValueType::kFloat64: column.f64 = std::span(f64_).subspan(rows * next_f64++, rows); break;
      case ValueType::kInt64: column.i64 = std::span(i64_).subspan(rows * next_i64++, rows); break;
      case ValueType::kString: column.str.assign(rows, std::string()); break;
    }
    column.valid = std::span(valid_).subspan(rows * i, rows);
    columns_.push_back(std::move(column));
  }
}

void OutputBlock::SetString(size_t column, size_t row, std::string value) {
  auto& c = columns_[column];
  c.str[row] = std::move(value);
  c.valid[row] = 1;
}

void OutputBlock::FillInt64(size_t column, int64_t value) {
  auto& c = columns_[column];
  std::fill(c.i64.begin(), c.i64.end(), value);
  std::fill(c.valid.begin(), c.valid.end(), 1);
}

void OutputBlock::FillFloat64(size_t column, double value) {
  auto& c = columns_[column];
  std::fill(c.f64.begin(), c.f64.end(), value);
  std::fill(c.valid.begin(), c.valid.end(), 1);
}

void OutputBlock::DropFrontRows(size_t rows) {
  rows = std::min(rows, rows_);
  const auto n = static_cast<std::ptrdiff_t>(rows);
  for (auto& c : columns_) {
    if (!c.f64.empty()) c.f64 = c.f64.subspan(rows);
    if (!c.i64.empty()) c.i64 = c.i64.subspan(rows);
    if (!c.str.empty()) c.str.erase(c.str.begin(), c.str.begin() + n);
    c.valid = c.valid.subspan(rows);
  }
  rows_ -= rows;
}

size_t ListingDay::RowOf(int64_t t) const {
  // Modules ask event after event, in time order: the row is the last one's, or a few after it.
  size_t row = last_row_;
  if (row < labels.size() && grid->Contains(labels[row], t)) return row;
  const int64_t label = grid->LabelOf(t);
  if (row < labels.size() && labels[row] <= label) {
    while (row < labels.size() && labels[row] < label) ++row;
  } else {
    row = static_cast<size_t>(std::lower_bound(labels.begin(), labels.end(), label) - labels.begin());
  }
  last_row_ = row;
  return row;
}

}  // namespace intraday
