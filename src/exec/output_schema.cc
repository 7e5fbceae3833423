#include "exec/output_schema.h"

#include <algorithm>
#include <cstring>

#include <arrow/array/data.h>
#include <arrow/buffer.h>
#include <arrow/type.h>
#include <arrow/util/bit_util.h>
#include <arrow/util/bitmap_generate.h>

namespace intraday {

std::vector<ValueType> MetricValueTypes(const arrow::Schema& schema) {
  std::vector<ValueType> types;
  for (int c = 2; c < schema.num_fields(); ++c) {
    const arrow::Type::type id = schema.field(c)->type()->id();
    types.push_back(id == arrow::Type::STRING
                        ? ValueType::kString
                        : (id == arrow::Type::INT64 ? ValueType::kInt64 : ValueType::kFloat64));
  }
  return types;
}

ColumnRows ColumnRows::Of(const OutputBlock::Column& column) {
  ColumnRows rows;
  rows.type = column.type;
  rows.valid = column.valid.data();
  switch (column.type) {
    case ValueType::kFloat64: rows.values = reinterpret_cast<const uint8_t*>(column.f64.data()); break;
    case ValueType::kInt64: rows.values = reinterpret_cast<const uint8_t*>(column.i64.data()); break;
    case ValueType::kString: rows.strings = column.str.data(); break;
  }
  return rows;
}

std::vector<ColumnRows> ColumnRows::Of(const std::vector<OutputBlock>& blocks) {
  std::vector<ColumnRows> columns;
  for (const auto& block : blocks) {
    for (size_t c = 0; c < block.num_columns(); ++c) columns.push_back(Of(block.column(c)));
  }
  return columns;
}

/// One column of the batch being filled. Numbers go in a buffer that grows as rows come (a
/// chunk of a few listings does not take a whole batch's bytes), their validity in a bitmap made
/// at the column's first null; strings through a builder.
class OutputAssembler::Column {
 public:
  explicit Column(std::shared_ptr<arrow::DataType> type) : type_(std::move(type)) {
    if (type_->id() == arrow::Type::STRING) builder_ = std::make_unique<arrow::StringBuilder>();
  }

  /// Rows [offset, offset + n) of `rows`; the batch holds at most `capacity` rows.
  Status Append(const ColumnRows& rows, int64_t offset, int64_t n, int64_t capacity) {
    const uint8_t* valid = rows.valid == nullptr ? nullptr : rows.valid + offset;
    if (builder_ != nullptr) return AppendStrings(rows, offset, n);
    INTRADAY_RETURN_NOT_OK(Grow(n, capacity));
    std::memcpy(values_->mutable_data() + length_ * 8, rows.values + offset * 8, static_cast<size_t>(n * 8));
    const bool all_valid = valid == nullptr || std::memchr(valid, 0, static_cast<size_t>(n)) == nullptr;
    if (!all_valid && validity_ == nullptr) {  // the first nulls: the rows before all valid
      INTRADAY_ASSIGN_OR_RAISE(validity_,
                               arrow::AllocateResizableBuffer(arrow::bit_util::BytesForBits(allocated_)));
      arrow::bit_util::SetBitsTo(validity_->mutable_data(), 0, length_, true);
    }
    if (validity_ != nullptr) {
      if (all_valid) {
        arrow::bit_util::SetBitsTo(validity_->mutable_data(), length_, n, true);
      } else {
        int64_t i = 0;
        arrow::internal::GenerateBitsUnrolled(validity_->mutable_data(), length_, n,
                                              [&] { return valid[i++] != 0; });
        nulls_ += std::count(valid, valid + n, uint8_t{0});
      }
    }
    length_ += n;
    return Status::OK();
  }

  /// Room for `rows` rows in all, allocated at once.
  Status Reserve(int64_t rows) {
    if (builder_ != nullptr) return builder_->Reserve(std::max<int64_t>(0, rows - builder_->length()));
    if (values_ != nullptr && rows <= allocated_) return Status::OK();
    if (values_ == nullptr) {
      INTRADAY_ASSIGN_OR_RAISE(values_, arrow::AllocateResizableBuffer(rows * 8));
    } else {
      INTRADAY_RETURN_NOT_OK(values_->Resize(rows * 8, false));
    }
    if (validity_ != nullptr)
      INTRADAY_RETURN_NOT_OK(validity_->Resize(arrow::bit_util::BytesForBits(rows), false));
    allocated_ = rows;
    return Status::OK();
  }

  /// `n` valid int64 values: from `values`, or `fill` each.
  Status AppendInt64s(const int64_t* values, int64_t fill, int64_t n, int64_t capacity) {
    INTRADAY_RETURN_NOT_OK(Grow(n, capacity));
    auto* to = reinterpret_cast<int64_t*>(values_->mutable_data()) + length_;
    if (values != nullptr) {
      std::memcpy(to, values, static_cast<size_t>(n * 8));
    } else {
      std::fill(to, to + n, fill);
    }
    length_ += n;
    return Status::OK();
  }

  Result<std::shared_ptr<arrow::Array>> Finish() {
    std::shared_ptr<arrow::Array> array;
    if (builder_ != nullptr) {
      INTRADAY_RETURN_NOT_OK(builder_->Finish(&array));
      return array;
    }
    if (values_ == nullptr) INTRADAY_RETURN_NOT_OK(Reserve(0));
    INTRADAY_RETURN_NOT_OK(values_->Resize(length_ * 8, /*shrink_to_fit=*/false));
    std::shared_ptr<arrow::Buffer> validity;
    if (nulls_ > 0) {
      INTRADAY_RETURN_NOT_OK(validity_->Resize(arrow::bit_util::BytesForBits(length_), false));
      validity = std::move(validity_);
    }
    array = arrow::MakeArray(
        arrow::ArrayData::Make(type_, length_, {std::move(validity), std::move(values_)}, nulls_));
    values_ = nullptr;
    validity_ = nullptr;
    allocated_ = length_ = nulls_ = 0;
    return array;
  }

 private:
  /// Room for `n` more rows: doubling, up to the batch's `capacity`.
  Status Grow(int64_t n, int64_t capacity) {
    if (values_ != nullptr && length_ + n <= allocated_) return Status::OK();
    return Reserve(std::max(length_ + n, std::min(capacity, std::max<int64_t>(allocated_ * 2, 1024))));
  }

  Status AppendStrings(const ColumnRows& rows, int64_t offset, int64_t n) {
    INTRADAY_RETURN_NOT_OK(builder_->Reserve(n));
    for (int64_t r = offset; r < offset + n; ++r) {
      if (rows.valid != nullptr && rows.valid[r] == 0) {
        builder_->UnsafeAppendNull();
      } else if (rows.strings != nullptr) {
        INTRADAY_RETURN_NOT_OK(builder_->Append(rows.strings[r]));
      } else {
        const uint32_t begin = r == 0 ? 0 : rows.string_ends[r - 1];
        INTRADAY_RETURN_NOT_OK(
            builder_->Append(rows.chars + begin, static_cast<int32_t>(rows.string_ends[r] - begin)));
      }
    }
    return Status::OK();
  }

  std::shared_ptr<arrow::DataType> type_;
  std::unique_ptr<arrow::StringBuilder> builder_;  // a string column
  std::shared_ptr<arrow::ResizableBuffer> values_, validity_;
  int64_t allocated_ = 0, length_ = 0, nulls_ = 0;
};

OutputAssembler::OutputAssembler(std::shared_ptr<arrow::Schema> schema, int64_t batch_rows,
                                 int64_t first_batch_rows)
    : schema_(std::move(schema)),
      batch_rows_(batch_rows),
      capacity_(first_batch_rows > 0 ? std::min(first_batch_rows, batch_rows) : batch_rows) {
  for (const auto& field : schema_->fields()) columns_.push_back(std::make_unique<Column>(field->type()));
  types_ = MetricValueTypes(*schema_);
}

OutputAssembler::~OutputAssembler() = default;

Status OutputAssembler::Append(int64_t listing_id, std::span<const int64_t> labels,
                               const std::vector<OutputBlock>& blocks) {
  for (const auto& block : blocks) {
    if (block.rows() != labels.size())
      return Status::Invalid("a module produced ", block.rows(), " rows for ", labels.size(), " buckets");
  }
  return Append(listing_id, labels, ColumnRows::Of(blocks));
}

Status OutputAssembler::Append(int64_t listing_id, std::span<const int64_t> labels,
                               std::span<const ColumnRows> columns, int64_t begin, int64_t end) {
  if (columns.size() + 2 != columns_.size())
    return Status::Invalid("modules produced ", columns.size() + 2, " columns, schema has ", columns_.size());
  for (size_t c = 0; c < columns.size(); ++c) {
    if (columns[c].type != types_[c])
      return Status::Invalid("output column ", schema_->field(static_cast<int>(c) + 2)->name(),
                             ": a module produced values of another type");
  }
  const int64_t n = end < 0 ? static_cast<int64_t>(labels.size()) : end;
  if (begin < 0 || n > static_cast<int64_t>(labels.size()) || begin > n)
    return Status::Invalid("rows ", begin, "..", n, " of a listing's ", labels.size());
  for (int64_t offset = begin; offset < n;) {
    const int64_t take = std::min(n - offset, capacity_ - pending_rows_);
    if (pending_rows_ == 0 && expected_rows_ > 0) {  // a batch's buffers sized once
      for (auto& column : columns_)
        INTRADAY_RETURN_NOT_OK(column->Reserve(std::min(capacity_, expected_rows_)));
    }
    INTRADAY_RETURN_NOT_OK(columns_[0]->AppendInt64s(nullptr, listing_id, take, capacity_));
    INTRADAY_RETURN_NOT_OK(columns_[1]->AppendInt64s(labels.data() + offset, 0, take, capacity_));
    for (size_t c = 0; c < columns.size(); ++c)
      INTRADAY_RETURN_NOT_OK(columns_[c + 2]->Append(columns[c], offset, take, capacity_));
    offset += take;
    pending_rows_ += take;
    expected_rows_ = std::max<int64_t>(0, expected_rows_ - take);
    if (pending_rows_ == capacity_) INTRADAY_RETURN_NOT_OK(Flush());
  }
  return Status::OK();
}

Status OutputAssembler::Flush() {
  if (pending_rows_ == 0) return Status::OK();
  std::vector<std::shared_ptr<arrow::Array>> arrays;
  for (auto& column : columns_) {
    INTRADAY_ASSIGN_OR_RAISE(auto array, column->Finish());
    arrays.push_back(std::move(array));
  }
  batches_.push_back(arrow::RecordBatch::Make(schema_, pending_rows_, std::move(arrays)));
  pending_rows_ = 0;
  capacity_ = batch_rows_;
  return Status::OK();
}

Result<std::vector<std::shared_ptr<arrow::RecordBatch>>> OutputAssembler::Finish() {
  INTRADAY_RETURN_NOT_OK(Flush());
  return std::move(batches_);
}

}  // namespace intraday
