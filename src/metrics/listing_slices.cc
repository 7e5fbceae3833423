#include "metrics/listing_slices.h"

#include <algorithm>
#include <cstring>

#include <arrow/array/builder_base.h>
#include <arrow/array/util.h>
#include <arrow/buffer.h>
#include <arrow/builder.h>
#include <arrow/util/bit_util.h>

namespace intraday {

SlicedListingDay::SlicedListingDay(const ListingDayComputer& computer, int64_t listing_id, Date day,
                                   std::vector<int64_t> labels)
    : computer_(computer),
      listing_id_(listing_id),
      day_(day),
      labels_(std::move(labels)),
      carried_(computer.tables().size()),
      carried_count_(computer.tables().size(), 0) {}

Status SlicedListingDay::ComputeSlice(size_t first, size_t last,
                                      const std::vector<arrow::RecordBatchVector>& events,
                                      std::vector<OutputBlock>* blocks) {
  if (events.size() != computer_.tables().size())
    return Status::Invalid("time slice with ", events.size(), " tables, expected ",
                           computer_.tables().size());
  const auto& tables = computer_.tables();
  std::vector<ListingTable> views(tables.size());
  for (size_t i = 0; i < tables.size(); ++i) {
    if (!computer_.is_event_table(i)) continue;
    arrow::RecordBatchVector parts;
    if (carried_[i] != nullptr) parts.push_back(carried_[i]);
    for (const auto& batch : events[i]) {
      if (batch->num_rows() > 0) parts.push_back(batch);
    }
    if (parts.empty()) continue;
    std::shared_ptr<arrow::RecordBatch> batch = parts.front();
    if (parts.size() > 1) {
      INTRADAY_ASSIGN_OR_RAISE(batch, arrow::ConcatenateRecordBatches(parts));
    }
    const std::string time_name(SpecOf(tables[i]).event_time_column);
    const int time_column = batch->schema()->GetFieldIndex(time_name);
    if (time_column < 0)
      return Status::Invalid("table ", SpecOf(tables[i]).key, " has no ", time_name, " column");
    views[i] = ListingTable(std::move(batch), time_column);
  }
  return ComputeSliceOnViews(first, last, std::move(views), blocks);
}

Status SlicedListingDay::ComputeSliceOnViews(size_t first, size_t last, std::vector<ListingTable> views,
                                             std::vector<OutputBlock>* blocks) {
  return ComputeSliceOnViews(first, last, std::move(views), blocks, nullptr);
}

Status SlicedListingDay::ComputeSliceOnViews(size_t first, size_t last, std::vector<ListingTable> views,
                                             std::vector<OutputBlock>* blocks,
                                             std::vector<std::vector<int64_t>>* carry) {
  const auto& tables = computer_.tables();
  if (views.size() != tables.size())
    return Status::Invalid("time slice with ", views.size(), " tables, expected ", tables.size());
  if (first != next_ || last <= first || last > labels_.size())
    return Status::Invalid("time slice [", first, ", ", last, ") out of order (next ", next_, " of ",
                           labels_.size(), " buckets)");
  const TimeGrid& grid = computer_.shape().grid;
  std::vector<int64_t> labels;  // the carried events' buckets first, then the slice's
  for (size_t i = 0; i < tables.size(); ++i) {
    if (!computer_.is_event_table(i)) {
      views[i] = ListingTable();
      continue;
    }
    const int64_t carried = carried_count_[i];
    if (views[i].size() < carried)
      return Status::Invalid("time slice of table ", SpecOf(tables[i]).key, ": ", views[i].size(),
                             " rows, fewer than the ", carried, " carried");
    for (int64_t r = 0; r < carried; ++r) labels.push_back(grid.LabelOf(views[i].times()[r]));
  }
  std::sort(labels.begin(), labels.end());
  labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
  const size_t carried_buckets = labels.size();
  labels.insert(labels.end(), labels_.begin() + static_cast<std::ptrdiff_t>(first),
                labels_.begin() + static_cast<std::ptrdiff_t>(last));
  INTRADAY_RETURN_NOT_OK(computer_.ComputeModules(listing_id_, day_, labels, views, blocks));
  for (auto& block : *blocks) block.DropFrontRows(carried_buckets);

  // What the next slice needs of this one: per table, its last event and the rows any module
  // reading it asks for, copied so that the slice's buffers can be released (or handed to the
  // caller, who copies every listing's at once).
  const auto& modules = computer_.modules();
  if (carry != nullptr) carry->assign(tables.size(), {});
  for (size_t i = 0; i < tables.size(); ++i) {
    carried_[i] = nullptr;
    carried_count_[i] = 0;
    if (views[i].empty()) continue;
    std::vector<int64_t> rows{views[i].size() - 1};
    for (size_t m = 0; m < modules.size(); ++m) {
      const auto& inputs = computer_.inputs_of(m);
      for (size_t k = 0; k < inputs.size(); ++k) {
        if (inputs[k] == i) modules[m]->CarriedRows(k, views[i], &rows);
      }
    }
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    carried_count_[i] = static_cast<int64_t>(rows.size());
    if (carry != nullptr) {
      (*carry)[i] = std::move(rows);
    } else {
      INTRADAY_ASSIGN_OR_RAISE(carried_[i], CopyRows(*views[i].batch(), rows));
    }
  }
  next_ = last;
  return Status::OK();
}

int64_t SlicedListingDay::carried_rows() const {
  int64_t n = 0;
  for (int64_t rows : carried_count_) n += rows;
  return n;
}

Result<std::shared_ptr<arrow::RecordBatch>> CopyRows(const arrow::RecordBatch& batch,
                                                     const std::vector<int64_t>& rows) {
  const std::vector<const arrow::RecordBatch*> batches{&batch};
  const std::vector<std::vector<int64_t>> batch_rows{rows};
  std::vector<std::shared_ptr<arrow::Array>> columns;
  for (int c = 0; c < batch.num_columns(); ++c) {
    INTRADAY_ASSIGN_OR_RAISE(auto column, CopyColumnRows(batches, batch_rows, c));
    columns.push_back(std::move(column));
  }
  return arrow::RecordBatch::Make(batch.schema(), static_cast<int64_t>(rows.size()), std::move(columns));
}

Result<std::shared_ptr<arrow::Array>> CopyColumnRows(const std::vector<const arrow::RecordBatch*>& batches,
                                                     const std::vector<std::vector<int64_t>>& rows,
                                                     int column) {
  int64_t n = 0;
  std::vector<const arrow::ArrayData*> sources(batches.size(), nullptr);
  std::shared_ptr<arrow::DataType> type;
  bool as_bytes = true;  // fixed-width values (not booleans) of two buffers each
  for (size_t k = 0; k < batches.size(); ++k) {
    if (batches[k] == nullptr) continue;
    n += static_cast<int64_t>(rows[k].size());
    sources[k] = batches[k]->column_data(column).get();
    if (type == nullptr) type = sources[k]->type;
    if (!sources[k]->type->Equals(*type))
      return Status::Invalid("rows to copy: column ", batches[k]->schema()->field(column)->name(),
                             " differs between batches");
    as_bytes = as_bytes && sources[k]->buffers.size() == 2;
  }
  if (type == nullptr) return Status::Invalid("rows to copy: no batch");
  // A few rows of every listing, slice and table: fixed-width values copied as bytes, without
  // a builder's allocations (a builder per column cost ~3% of a sliced day's CPU).
  const int width = type->byte_width();
  if (as_bytes && arrow::is_fixed_width(type->id()) && type->id() != arrow::Type::BOOL && width > 0) {
    INTRADAY_ASSIGN_OR_RAISE(std::shared_ptr<arrow::Buffer> values, arrow::AllocateBuffer(n * width));
    std::shared_ptr<arrow::Buffer> validity;
    int64_t nulls = 0, at = 0;
    for (size_t k = 0; k < sources.size(); ++k) {
      if (sources[k] == nullptr) continue;
      const arrow::ArrayData& data = *sources[k];
      const uint8_t* from = data.buffers[1]->data() + data.offset * width;
      for (int64_t r : rows[k]) {
        std::memcpy(values->mutable_data() + at * width, from + r * width, static_cast<size_t>(width));
        if (data.MayHaveNulls() && !data.IsValid(r)) {
          if (validity == nullptr) {  // the first null: every row before it valid
            INTRADAY_ASSIGN_OR_RAISE(validity, arrow::AllocateBitmap(n));
            std::memset(validity->mutable_data(), 0xFF, static_cast<size_t>(validity->size()));
          }
          arrow::bit_util::ClearBit(validity->mutable_data(), at);
          ++nulls;
        }
        ++at;
      }
    }
    return arrow::MakeArray(arrow::ArrayData::Make(type, n, {validity, values}, nulls));
  }
  INTRADAY_ASSIGN_OR_RAISE(auto builder, arrow::MakeBuilder(type));
  INTRADAY_RETURN_NOT_OK(builder->Reserve(n));
  for (size_t k = 0; k < sources.size(); ++k) {
    if (sources[k] == nullptr) continue;
    const arrow::ArraySpan span(*sources[k]);
    for (int64_t r : rows[k]) INTRADAY_RETURN_NOT_OK(builder->AppendArraySlice(span, r, 1));
  }
  std::shared_ptr<arrow::Array> array;
  INTRADAY_RETURN_NOT_OK(builder->Finish(&array));
  return array;
}

}  // namespace intraday
