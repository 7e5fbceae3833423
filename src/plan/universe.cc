#include "plan/universe.h"

#include <algorithm>
#include <charconv>
#include <optional>

#include <arrow/array.h>
#include <arrow/csv/api.h>
#include <arrow/io/interfaces.h>
#include <arrow/scalar.h>
#include <arrow/table.h>
#include <fmt/format.h>

#include "io/table_reader.h"
#include "plan/parquet_footer.h"

namespace intraday {
namespace {

constexpr const char* kListingId = "ListingId";
constexpr const char* kMic = "MIC";
// The columns a universe is made of; ListingId is required everywhere, MIC in a universe file.
constexpr std::array<const char*, 7> kUniverseColumns{kListingId, "InstrumentId", kMic,       "Ticker",
                                                      "ISIN",     "CurrencyCode", "IsPrimary"};

// Typed, null-aware access to one optional column of a batch (absent = every value null). The
// Parquet path gives the catalogue's types (int64, utf8, bool); the CSV path gives text, parsed
// here so that a bad value is reported with its column and row.
class ColumnView {
 public:
  ColumnView(const arrow::RecordBatch& batch, const char* name, const std::string& display_path)
      : name_(name), display_path_(display_path) {
    const int index = batch.schema()->GetFieldIndex(name);
    if (index >= 0) array_ = batch.column(index).get();
  }

  Result<std::optional<int64_t>> Int(int64_t row, int64_t row_number) const {
    if (array_ == nullptr || array_->IsNull(row)) return std::nullopt;
    if (array_->type_id() == arrow::Type::INT64)
      return static_cast<const arrow::Int64Array&>(*array_).Value(row);
    const std::string text = String(row);
    if (text.empty()) return std::nullopt;
    int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) {
      return Status::Invalid(display_path_, ": row ", row_number, ": column '", name_, "': '", text,
                             "' is not an integer");
    }
    return value;
  }
  std::string String(int64_t row) const {
    if (array_ == nullptr || array_->IsNull(row)) return {};
    if (array_->type_id() == arrow::Type::STRING) {
      return std::string(static_cast<const arrow::StringArray&>(*array_).GetView(row));
    }
    if (array_->type_id() == arrow::Type::LARGE_STRING) {
      return std::string(static_cast<const arrow::LargeStringArray&>(*array_).GetView(row));
    }
    return {};
  }
  Result<bool> Bool(int64_t row, int64_t row_number) const {
    if (array_ == nullptr || array_->IsNull(row)) return false;
    if (array_->type_id() == arrow::Type::BOOL)
      return static_cast<const arrow::BooleanArray&>(*array_).Value(row);
    const std::string text = String(row);
    if (text.empty() || text == "false" || text == "False" || text == "FALSE" || text == "0") return false;
    if (text == "true" || text == "True" || text == "TRUE" || text == "1") return true;
    return Status::Invalid(display_path_, ": row ", row_number, ": column '", name_, "': '", text,
                           "' is not a boolean (true/false/1/0)");
  }

 private:
  const char* name_;
  const std::string& display_path_;
  const arrow::Array* array_ = nullptr;
};

// Where listings come from: a reference file (MIC fixed, rows without ListingId skipped) or the
// user's universe file (MIC per row; an empty ListingId or MIC is an error).
struct Source {
  std::string display_path;
  std::optional<std::string> mic;
};

// `first_row`: rows of the file before this batch; rows are numbered from 1 in messages.
Status AppendListings(const arrow::RecordBatch& batch, const Source& source, int64_t first_row,
                      std::vector<Listing>* out) {
  const std::string& where = source.display_path;
  const ColumnView id(batch, kListingId, where), instrument(batch, "InstrumentId", where),
      mic(batch, kMic, where), ticker(batch, "Ticker", where), isin(batch, "ISIN", where),
      currency(batch, "CurrencyCode", where), primary(batch, "IsPrimary", where);
  for (int64_t row = 0; row < batch.num_rows(); ++row) {
    const int64_t row_number = first_row + row + 1;
    Listing listing;
    INTRADAY_ASSIGN_OR_RAISE(const std::optional<int64_t> listing_id, id.Int(row, row_number));
    if (!listing_id) {
      if (source.mic) continue;  // a reference row for no listing: nothing to process
      return Status::Invalid(where, ": row ", row_number, ": column '", kListingId, "' is empty");
    }
    listing.listing_id = *listing_id;
    INTRADAY_ASSIGN_OR_RAISE(const std::optional<int64_t> instrument_id, instrument.Int(row, row_number));
    listing.instrument_id = instrument_id.value_or(0);
    listing.mic = source.mic ? *source.mic : mic.String(row);
    if (listing.mic.empty()) {
      return Status::Invalid(where, ": row ", row_number, ": column '", kMic, "' is empty");
    }
    listing.ticker = ticker.String(row);
    listing.isin = isin.String(row);
    listing.currency = currency.String(row);
    INTRADAY_ASSIGN_OR_RAISE(listing.is_primary, primary.Bool(row, row_number));
    if (!source.mic) {
      // A universe file may carry more columns (a sector, an index): later passes can group by them.
      for (int c = 0; c < batch.num_columns(); ++c) {
        const std::string& name = batch.schema()->field(c)->name();
        if (std::find(kUniverseColumns.begin(), kUniverseColumns.end(), name) != kUniverseColumns.end())
          continue;
        const auto& array = *batch.column(c);
        std::string text;
        if (array.IsValid(row)) {
          INTRADAY_ASSIGN_OR_RAISE(auto scalar, array.GetScalar(row));
          text = scalar->ToString();
        }
        listing.extra.emplace_back(name, std::move(text));
      }
    }
    out->push_back(std::move(listing));
  }
  return Status::OK();
}

// Reads the universe columns a Parquet file has (reference table or universe file) through the
// normal reader, which checks and converts their types.
Status ReadParquetListings(const std::shared_ptr<arrow::fs::FileSystem>& fs, const std::string& path,
                           const Source& source, std::vector<Listing>* out) {
  INTRADAY_ASSIGN_OR_RAISE(auto metadata, ReadParquetFooter(fs, path, source.display_path));
  TableReadOptions options;
  for (const char* name : kUniverseColumns) {
    const bool required =
        std::string_view(name) == kListingId || (!source.mic && std::string_view(name) == kMic);
    if (metadata->schema()->ColumnIndex(name) >= 0 || required) options.columns.push_back(name);
  }
  if (!source.mic) {
    for (int c = 0; c < metadata->schema()->num_columns(); ++c) {
      const std::string name = metadata->schema()->Column(c)->name();
      if (std::find(options.columns.begin(), options.columns.end(), name) == options.columns.end())
        options.columns.push_back(name);
    }
  }
  INTRADAY_ASSIGN_OR_RAISE(auto reader, TableFileReader::Open(fs, path, source.display_path,
                                                              Table::kReference, std::move(options)));
  int64_t rows = 0;
  while (true) {
    INTRADAY_ASSIGN_OR_RAISE(auto batch, reader->Next());
    if (batch == nullptr) break;
    INTRADAY_RETURN_NOT_OK(AppendListings(*batch, source, rows, out));
    rows += batch->num_rows();
  }
  return Status::OK();
}

// A CSV universe file with a header row. Every known column is read as text and parsed by
// AppendListings, so that a bad value is reported by column name and row (Arrow's own CSV
// conversion errors only give a column number), and tickers like "0001" stay strings.
Status ReadCsvListings(const std::shared_ptr<arrow::fs::FileSystem>& fs, const std::string& path,
                       const Source& source, std::vector<Listing>* out) {
  auto annotate = [&](const Status& st) {
    return st.ok() ? st : st.WithMessage(source.display_path, ": ", st.message());
  };
  auto input = fs->OpenInputStream(path);
  if (!input.ok()) return annotate(input.status());
  auto convert = arrow::csv::ConvertOptions::Defaults();
  for (const char* name : kUniverseColumns) convert.column_types[name] = arrow::utf8();
  auto reader = arrow::csv::TableReader::Make(arrow::io::default_io_context(), *input,
                                              arrow::csv::ReadOptions::Defaults(),
                                              arrow::csv::ParseOptions::Defaults(), convert);
  if (!reader.ok()) return annotate(reader.status());
  auto table = (*reader)->Read();
  if (!table.ok()) return annotate(table.status());
  for (const char* required : {kListingId, kMic}) {
    if ((*table)->schema()->GetFieldIndex(required) < 0) {
      return Status::Invalid(source.display_path, ": no column '", required,
                             "' in the header (a universe file needs ListingId and MIC)");
    }
  }
  arrow::TableBatchReader batches(**table);
  int64_t rows = 0;
  while (true) {
    std::shared_ptr<arrow::RecordBatch> batch;
    INTRADAY_RETURN_NOT_OK(annotate(batches.ReadNext(&batch)));
    if (batch == nullptr) break;
    INTRADAY_RETURN_NOT_OK(AppendListings(*batch, source, rows, out));
    rows += batch->num_rows();
  }
  return Status::OK();
}

Status ReadUniverseFile(const Lake& lake, const std::string& file, std::vector<Listing>* out) {
  INTRADAY_ASSIGN_OR_RAISE(auto root, OpenFileSystemRoot(file, lake.options().s3));
  const Source source{file, std::nullopt};
  if (file.ends_with(".csv")) return ReadCsvListings(root.fs, root.base_path, source, out);
  return ReadParquetListings(root.fs, root.base_path, source, out);
}

bool Matches(const UniverseConfig& config, const Listing& listing) {
  if (!config.has_filters()) return true;
  return std::binary_search(config.listings.begin(), config.listings.end(), listing.listing_id) ||
         (!listing.ticker.empty() &&
          std::binary_search(config.tickers.begin(), config.tickers.end(), listing.ticker)) ||
         (!listing.isin.empty() &&
          std::binary_search(config.isins.begin(), config.isins.end(), listing.isin));
}

}  // namespace

Result<Universe> ResolveUniverse(const Lake& lake, const UniverseConfig& config, bool strict, Date day,
                                 std::vector<std::string>* warnings) {
  std::vector<Listing> rows;
  if (!config.file.empty()) {
    INTRADAY_RETURN_NOT_OK(ReadUniverseFile(lake, config.file, &rows));
    if (!config.mics.empty()) {
      std::erase_if(rows, [&](const Listing& l) {
        return !std::binary_search(config.mics.begin(), config.mics.end(), l.mic);
      });
    }
  } else {
    for (const std::string& mic : config.mics) {
      INTRADAY_ASSIGN_OR_RAISE(auto path, lake.Locate(Table::kReference, day, mic));
      if (!path) {
        INTRADAY_ASSIGN_OR_RAISE(auto expected, lake.PathOf(Table::kReference, day, mic));
        const std::string what = fmt::format("no reference file for {} on {}: {} does not exist", mic,
                                             day.ToString(), lake.DisplayPath(expected));
        if (strict) return Status::IOError(what, " (data.strict is set)");
        warnings->push_back(what + ": no listings for that MIC-day");
        continue;
      }
      INTRADAY_RETURN_NOT_OK(
          ReadParquetListings(lake.fs(), *path, Source{lake.DisplayPath(*path), mic}, &rows));
    }
  }
  std::erase_if(rows, [&](const Listing& l) { return !Matches(config, l); });

  // Deduplicate by ListingId, the first row winning (stable sort keeps MIC then file order).
  std::stable_sort(rows.begin(), rows.end(),
                   [](const Listing& a, const Listing& b) { return a.listing_id < b.listing_id; });
  Universe universe;
  universe.day = day;
  for (Listing& listing : rows) {
    if (!universe.listings.empty() && universe.listings.back().listing_id == listing.listing_id) {
      const Listing& kept = universe.listings.back();
      if (kept.mic != listing.mic) {
        warnings->push_back(fmt::format("ListingId {} is listed on both {} and {}: kept {}",
                                        listing.listing_id, kept.mic, listing.mic, kept.mic));
      }
      continue;
    }
    universe.listings.push_back(std::move(listing));
  }
  for (const Listing& listing : universe.listings) universe.mics.push_back(listing.mic);
  std::sort(universe.mics.begin(), universe.mics.end());
  universe.mics.erase(std::unique(universe.mics.begin(), universe.mics.end()), universe.mics.end());
  if (universe.listings.empty()) warnings->push_back("the universe of " + day.ToString() + " is empty");
  return universe;
}

}  // namespace intraday
