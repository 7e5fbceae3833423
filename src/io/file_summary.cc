#include "io/file_summary.h"

#include <cstring>
#include <unordered_set>

#include <arrow/array.h>
#include <arrow/record_batch.h>
#include <arrow/scalar.h>

#include "io/table_reader.h"

namespace intraday {
namespace {

class Fnv1a {
 public:
  void Add(const void* data, size_t size) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < size; ++i) {
      hash_ ^= bytes[i];
      hash_ *= 0x100000001b3ULL;
    }
  }
  template <typename T>
  void AddValue(const T& value) {
    Add(&value, sizeof(value));
  }
  uint64_t value() const { return hash_; }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ULL;
};

// Hashes a value-by-value view of the array, so that buffer layout (offsets, padding, chunking)
// never changes the digest.
void HashArray(const arrow::Array& array, Fnv1a* hash) {
  for (int64_t i = 0; i < array.length(); ++i) {
    const uint8_t valid = array.IsValid(i) ? 1 : 0;
    hash->AddValue(valid);
    if (!valid) continue;
    switch (array.type_id()) {
      case arrow::Type::STRING: {
        auto view = static_cast<const arrow::StringArray&>(array).GetView(i);
        hash->AddValue(view.size());
        hash->Add(view.data(), view.size());
        break;
      }
      case arrow::Type::BOOL:
        hash->AddValue(static_cast<uint8_t>(static_cast<const arrow::BooleanArray&>(array).Value(i)));
        break;
      default: {
        const auto* fixed = dynamic_cast<const arrow::PrimitiveArray*>(&array);
        if (fixed != nullptr) {
          const int width = array.type()->byte_width();
          hash->Add(fixed->values()->data() + (array.offset() + i) * width, static_cast<size_t>(width));
        } else {
          const std::string text = array.GetScalar(i).ValueOrDie()->ToString();
          hash->Add(text.data(), text.size());
        }
      }
    }
  }
}

}  // namespace

Result<FileSummary> SummarizeTableFile(std::shared_ptr<arrow::fs::FileSystem> fs, const std::string& path,
                                       const std::string& display_path, Table table) {
  INTRADAY_ASSIGN_OR_RAISE(auto reader, TableFileReader::Open(std::move(fs), path, display_path, table, {}));
  FileSummary summary;
  summary.row_groups = reader->metadata()->num_row_groups();
  summary.columns = reader->schema()->num_fields();
  const int listing_index = reader->schema()->GetFieldIndex("ListingId");
  const int time_index = reader->schema()->GetFieldIndex(std::string(SpecOf(table).event_time_column));
  std::vector<Fnv1a> column_hashes(static_cast<size_t>(summary.columns));
  std::unordered_set<int64_t> listings;
  while (true) {
    INTRADAY_ASSIGN_OR_RAISE(auto batch, reader->Next());
    if (batch == nullptr) break;
    summary.rows += batch->num_rows();
    for (int c = 0; c < batch->num_columns(); ++c)
      HashArray(*batch->column(c), &column_hashes[static_cast<size_t>(c)]);
    if (listing_index >= 0) {
      const auto& ids = static_cast<const arrow::Int64Array&>(*batch->column(listing_index));
      for (int64_t i = 0; i < ids.length(); ++i) {
        if (ids.IsValid(i)) listings.insert(ids.Value(i));
      }
    }
    if (time_index >= 0) {
      const auto& times = static_cast<const arrow::TimestampArray&>(*batch->column(time_index));
      for (int64_t i = 0; i < times.length(); ++i) {
        if (!times.IsValid(i)) continue;
        summary.first_event_ns = std::min(summary.first_event_ns, times.Value(i));
        summary.last_event_ns = std::max(summary.last_event_ns, times.Value(i));
      }
    }
  }
  summary.listings = static_cast<int64_t>(listings.size());
  Fnv1a total;
  for (int c = 0; c < summary.columns; ++c) {
    const std::string& name = reader->schema()->field(c)->name();
    total.Add(name.data(), name.size());
    total.AddValue(column_hashes[static_cast<size_t>(c)].value());
  }
  summary.digest = total.value();
  return summary;
}

}  // namespace intraday
