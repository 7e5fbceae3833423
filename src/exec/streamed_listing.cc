#include "exec/streamed_listing.h"

#include <algorithm>
#include <climits>
#include <map>
#include <unordered_set>

#include <arrow/builder.h>
#include <arrow/compute/api.h>
#include <arrow/io/file.h>
#include <arrow/ipc/reader.h>
#include <arrow/util/byte_size.h>
#include <fmt/format.h>

#include "io/arrow_compute.h"
#include "io/table_reader.h"
#include "metrics/listing_slices.h"

namespace intraday {
namespace {

constexpr int64_t kStreamBatchRows = 8192;

/// One table's rows of the task's listing, record batch by record batch, in input order (the
/// order in which the whole-listing path concatenates them before its stable sort by time).
class ListingRowStream {
 public:
  ListingRowStream(const Lake& lake, const Location& scratch, const TableColumns& columns, const Task& task)
      : lake_(lake), scratch_(scratch), columns_(columns), task_(task), listing_{task.listings.front()} {}

  /// The next non-empty batch of the listing's rows; nullptr after the last.
  Result<std::shared_ptr<arrow::RecordBatch>> Next() {
    while (true) {
      std::shared_ptr<arrow::RecordBatch> batch;
      if (spill_ != nullptr) {
        if (spill_batch_ < spill_->num_record_batches()) {
          INTRADAY_ASSIGN_OR_RAISE(batch, spill_->ReadRecordBatch(spill_batch_++));
          rows_read_ += batch->num_rows();
        } else {
          spill_ = nullptr;
          continue;
        }
      } else if (file_ != nullptr) {
        INTRADAY_ASSIGN_OR_RAISE(batch, file_->Next());
        if (batch == nullptr) {
          file_ = nullptr;
          continue;
        }
        rows_read_ += batch->num_rows();
        INTRADAY_ASSIGN_OR_RAISE(batch, KeepListings(batch, listing_));
      } else {
        INTRADAY_ASSIGN_OR_RAISE(bool opened, OpenNextInput());
        if (!opened) return std::shared_ptr<arrow::RecordBatch>();
        continue;
      }
      if (batch->num_rows() > 0) return batch;
    }
  }

  /// Rows read from the inputs (before keeping the listing's), as the whole-listing path counts.
  int64_t rows_read() const { return rows_read_; }

 private:
  Result<bool> OpenNextInput() {
    for (; next_input_ < task_.inputs.size(); ++next_input_) {
      const TaskInput& input = task_.inputs[next_input_];
      if (input.table != columns_.table) continue;
      ++next_input_;
      if (input.spill) {
        INTRADAY_ASSIGN_OR_RAISE(auto file, scratch_.OpenInput(input.path));
        auto reader = arrow::ipc::RecordBatchFileReader::Open(file);
        if (!reader.ok())
          return reader.status().WithMessage(input.display_path, ": ", reader.status().message());
        spill_ = *reader;
        spill_batch_ = 0;
      } else {
        TableReadOptions options;
        options.columns = columns_.columns;
        options.row_groups = input.row_groups;
        // Smaller record batches than the whole-listing path's: a slice is a quarter of the
        // budget, and one batch per table is held beyond it.
        options.batch_rows = kStreamBatchRows;
        INTRADAY_ASSIGN_OR_RAISE(file_, TableFileReader::Open(lake_.fs(), input.path, input.display_path,
                                                              columns_.table, options));
      }
      return true;
    }
    return false;
  }

  const Lake& lake_;
  const Location& scratch_;
  const TableColumns& columns_;
  const Task& task_;
  const std::unordered_set<int64_t> listing_;  // the task's one listing
  size_t next_input_ = 0;
  std::shared_ptr<arrow::ipc::RecordBatchFileReader> spill_;
  int spill_batch_ = 0;
  std::unique_ptr<TableFileReader> file_;
  int64_t rows_read_ = 0;
};

/// What the first pass learns of a bucket: the first event time seen in it (enough, with the
/// extreme times, to rebuild the timeline) and the decoded bytes of its events.
struct BucketTally {
  int64_t first_time = 0;
  double bytes = 0;
};

std::string FormatTime(int64_t ns) {
  const int64_t s = ((ns % kNanosPerDay) + kNanosPerDay) % kNanosPerDay / 1000000000;
  return fmt::format("{:02d}:{:02d}:{:02d}.{:09d}", s / 3600, s / 60 % 60, s % 60,
                     ((ns % 1000000000) + 1000000000) % 1000000000);
}

}  // namespace

Result<bool> StreamListing(const Task& task, const Lake& lake, const Location& scratch,
                           const std::vector<TableColumns>& columns, const ListingDayComputer& computer,
                           OutputAssembler* assembler, TaskResult* result) {
  if (task.listings.size() != 1) return Status::Invalid("a streamed task has one listing");
  const int64_t listing = task.listings.front();
  const TimeGrid& grid = computer.shape().grid;
  const size_t n_tables = columns.size();

  // First pass: time order, null times, the market states, and every bucket's events and bytes.
  std::map<int64_t, BucketTally> buckets;
  std::vector<StateChange> changes;
  int64_t min_time = INT64_MAX, max_time = INT64_MIN;
  int64_t input_rows = 0;
  std::vector<int64_t> listing_rows(n_tables, 0);
  for (size_t i = 0; i < n_tables; ++i) {
    const std::string time_name(SpecOf(columns[i].table).event_time_column);
    const bool events = computer.is_event_table(i);
    const bool states = static_cast<int>(i) == computer.states_index();
    ListingRowStream stream(lake, scratch, columns[i], task);
    int64_t previous = INT64_MIN;
    while (true) {
      INTRADAY_ASSIGN_OR_RAISE(auto batch, stream.Next());
      if (batch == nullptr) break;
      const int time_column = batch->schema()->GetFieldIndex(time_name);
      if (time_column < 0)
        return Status::Invalid("table ", SpecOf(columns[i].table).key, " has no ", time_name);
      // As the whole-listing path: rows without an event time cannot be bucketed.
      if (batch->column(time_column)->null_count() != 0) {
        return Status::Invalid("table ", SpecOf(columns[i].table).key, ": ",
                               batch->column(time_column)->null_count(), " rows have a null ", time_name);
      }
      const int64_t n = batch->num_rows();
      listing_rows[i] += n;
      const int64_t* times = batch->column_data(time_column)->GetValues<int64_t>(1);
      for (int64_t r = 0; r < n; ++r) {
        if (times[r] < previous) {
          result->stream_fallback = fmt::format(
              "the rows of table {} of listing {} are not in time order in the input ({} after {})",
              SpecOf(columns[i].table).key, listing, FormatTime(times[r]), FormatTime(previous));
          return false;
        }
        previous = times[r];
      }
      if (states) {
        const auto more = StateChangesOf(ListingTable(batch, time_column));
        changes.insert(changes.end(), more.begin(), more.end());
      }
      if (!events) continue;
      const double bytes_per_row =
          static_cast<double>(arrow::util::TotalBufferSize(*batch)) / static_cast<double>(n);
      min_time = std::min(min_time, times[0]);
      max_time = std::max(max_time, times[n - 1]);
      for (int64_t r = 0; r < n; ++r) {
        auto [it, fresh] = buckets.try_emplace(grid.LabelOf(times[r]), BucketTally{times[r], 0.0});
        it->second.bytes += bytes_per_row;
      }
    }
    input_rows += stream.rows_read();
  }
  result->input_rows += input_rows;
  for (size_t i = 0; i < n_tables; ++i) result->listing_rows[columns[i].table].push_back(listing_rows[i]);

  // The timeline from the buckets' first times and the extreme times: the same labels as from
  // every event time (BuildTimeline needs no more).
  std::vector<int64_t> event_times;
  if (!buckets.empty()) {
    event_times.push_back(min_time);
    event_times.push_back(max_time);
    for (const auto& [label, tally] : buckets) event_times.push_back(tally.first_time);
  }
  std::vector<int64_t> labels = computer.Timeline(task.day, changes, event_times);
  if (labels.empty()) return true;

  // Slices: consecutive buckets while their bytes stay under the slice budget (a bucket larger
  // than that is a slice of its own: a bucket cannot be split).
  const double slice_bytes = std::max(1.0, static_cast<double>(task.memory_budget) / 4.0);
  std::vector<size_t> slice_begin{0};
  double acc = 0;
  for (size_t l = 0; l < labels.size(); ++l) {
    const auto it = buckets.find(labels[l]);
    const double bytes = it == buckets.end() ? 0.0 : it->second.bytes;
    if (acc > 0 && acc + bytes > slice_bytes) {
      slice_begin.push_back(l);
      acc = 0;
    }
    acc += bytes;
  }
  slice_begin.push_back(labels.size());
  buckets.clear();

  // Second pass: each table's rows up to the slice's last bucket; the rest of a record batch
  // waits for the next slice.
  SlicedListingDay sliced(computer, listing, task.day, labels);
  std::vector<std::unique_ptr<ListingRowStream>> streams(n_tables);
  std::vector<std::shared_ptr<arrow::RecordBatch>> pending(n_tables);
  std::vector<int> time_columns(n_tables, -1);
  for (size_t i = 0; i < n_tables; ++i) {
    if (computer.is_event_table(i))
      streams[i] = std::make_unique<ListingRowStream>(lake, scratch, columns[i], task);
  }
  std::vector<OutputBlock> blocks;
  for (size_t s = 0; s + 1 < slice_begin.size(); ++s) {
    const size_t first = slice_begin[s], last = slice_begin[s + 1];
    const int64_t last_label = labels[last - 1];
    std::vector<arrow::RecordBatchVector> events(n_tables);
    for (size_t i = 0; i < n_tables; ++i) {
      if (streams[i] == nullptr) continue;
      while (true) {
        if (pending[i] == nullptr) {
          INTRADAY_ASSIGN_OR_RAISE(pending[i], streams[i]->Next());
          if (pending[i] == nullptr) break;
          time_columns[i] =
              pending[i]->schema()->GetFieldIndex(std::string(SpecOf(columns[i].table).event_time_column));
        }
        const int64_t n = pending[i]->num_rows();
        const int64_t* times = pending[i]->column_data(time_columns[i])->GetValues<int64_t>(1);
        const int64_t k =
            std::partition_point(times, times + n, [&](int64_t t) { return grid.LabelOf(t) <= last_label; }) -
            times;
        if (k == 0) break;
        events[i].push_back(pending[i]->Slice(0, k));
        if (k < n) {
          pending[i] = pending[i]->Slice(k);
          break;
        }
        pending[i] = nullptr;
      }
    }
    INTRADAY_RETURN_NOT_OK(sliced.ComputeSlice(first, last, events, &blocks));
    events.clear();
    INTRADAY_RETURN_NOT_OK(
        assembler->Append(listing, std::span<const int64_t>(labels.data() + first, last - first), blocks));
    ++result->time_slices;
  }
  return true;
}

}  // namespace intraday
