#include "exec/output_schema.h"

#include <arrow/type.h>

namespace intraday {

OutputAssembler::OutputAssembler(std::shared_ptr<arrow::Schema> schema,
                                 const std::vector<std::unique_ptr<Module>>& /*modules*/, int64_t batch_rows)
    : schema_(std::move(schema)), batch_rows_(batch_rows) {
  for (const auto& field : schema_->fields()) {
    std::unique_ptr<arrow::ArrayBuilder> builder;
    // MakeBuilder only fails for unsupported types, which PassOutputSchema never produces.
    (void)arrow::MakeBuilder(arrow::default_memory_pool(), field->type(), &builder);
    builders_.push_back(std::move(builder));
  }
}

Status OutputAssembler::Append(int64_t listing_id, std::span<const int64_t> labels,
                               const std::vector<OutputBlock>& blocks) {
  const int64_t n = static_cast<int64_t>(labels.size());
  size_t produced = 2;
  for (const auto& block : blocks) produced += block.num_columns();
  if (produced != builders_.size())
    return Status::Invalid("modules produced ", produced, " columns, schema has ", builders_.size());
  auto& ids = static_cast<arrow::Int64Builder&>(*builders_[0]);
  auto& times = static_cast<arrow::TimestampBuilder&>(*builders_[1]);
  INTRADAY_RETURN_NOT_OK(ids.Reserve(n));
  INTRADAY_RETURN_NOT_OK(times.Reserve(n));
  for (int64_t label : labels) {
    ids.UnsafeAppend(listing_id);
    times.UnsafeAppend(label);
  }
  size_t b = 2;
  for (const auto& block : blocks) {
    for (size_t c = 0; c < block.num_columns(); ++c, ++b) {
      const auto& column = block.column(c);
      switch (column.type) {
        case ValueType::kFloat64:
          INTRADAY_RETURN_NOT_OK(static_cast<arrow::DoubleBuilder&>(*builders_[b])
                                     .AppendValues(column.f64.data(), n, column.valid.data()));
          break;
        case ValueType::kInt64:
          INTRADAY_RETURN_NOT_OK(static_cast<arrow::Int64Builder&>(*builders_[b])
                                     .AppendValues(column.i64.data(), n, column.valid.data()));
          break;
        case ValueType::kString:
          INTRADAY_RETURN_NOT_OK(static_cast<arrow::StringBuilder&>(*builders_[b])
                                     .AppendValues(column.str, column.valid.data()));
          break;
      }
    }
  }
  pending_rows_ += n;
  if (pending_rows_ >= batch_rows_) return Flush();
  return Status::OK();
}

Status OutputAssembler::Flush() {
  if (pending_rows_ == 0) return Status::OK();
  std::vector<std::shared_ptr<arrow::Array>> arrays;
  for (auto& builder : builders_) {
    std::shared_ptr<arrow::Array> array;
    INTRADAY_RETURN_NOT_OK(builder->Finish(&array));
    arrays.push_back(std::move(array));
  }
  batches_.push_back(arrow::RecordBatch::Make(schema_, pending_rows_, std::move(arrays)));
  pending_rows_ = 0;
  return Status::OK();
}

Result<std::vector<std::shared_ptr<arrow::RecordBatch>>> OutputAssembler::Finish() {
  INTRADAY_RETURN_NOT_OK(Flush());
  return std::move(batches_);
}

}  // namespace intraday
