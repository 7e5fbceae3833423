#include "plan/derived_plan.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include <arrow/array.h>
#include <arrow/builder.h>
#include <arrow/compute/api.h>
#include <arrow/csv/api.h>
#include <arrow/io/file.h>
#include <fmt/format.h>
#include <parquet/arrow/reader.h>

#include "common/units.h"
#include "plan/file_profile.h"
#include "plan/size_estimator.h"
#include "plan/universe.h"

namespace intraday {
namespace {

namespace fs = std::filesystem;

// A worker holds the source rows, their sort order and the aggregated output: about three times
// the decoded rows (docs/multipass.md).
constexpr double kMemoryPerDecodedByte = 3.0;

/// The columns of an attribute file: ListingId -> value, int64 or string.
struct AttributeColumn {
  std::shared_ptr<arrow::DataType> type;
  std::map<int64_t, std::shared_ptr<arrow::Scalar>> values;
};

Result<std::shared_ptr<arrow::Table>> ReadTableFile(const std::string& path) {
  auto annotate = [&](const Status& st) { return st.ok() ? st : st.WithMessage(path, ": ", st.message()); };
  if (path.ends_with(".csv")) {
    auto input = arrow::io::ReadableFile::Open(path);
    if (!input.ok()) return annotate(input.status());
    auto reader = arrow::csv::TableReader::Make(
        arrow::io::default_io_context(), *input, arrow::csv::ReadOptions::Defaults(),
        arrow::csv::ParseOptions::Defaults(), arrow::csv::ConvertOptions::Defaults());
    if (!reader.ok()) return annotate(reader.status());
    auto table = (*reader)->Read();
    if (!table.ok()) return annotate(table.status());
    return *table;
  }
  auto input = arrow::io::ReadableFile::Open(path);
  if (!input.ok()) return annotate(input.status());
  auto reader = parquet::arrow::OpenFile(*input, arrow::default_memory_pool());
  if (!reader.ok()) return annotate(reader.status());
  auto table = (*reader)->ReadTable();
  if (!table.ok()) return annotate(table.status());
  return *table;
}

Result<std::map<std::string, AttributeColumn>> ReadAttributeFile(const PipelineConfig& config,
                                                                 const AttributeFile& file) {
  fs::path path(file.path);
  if (path.is_relative()) path = fs::path(config.base_dir) / path;
  const std::string where = path.string();
  INTRADAY_ASSIGN_OR_RAISE(auto table, ReadTableFile(where));
  INTRADAY_ASSIGN_OR_RAISE(auto batch, table->CombineChunksToBatch());
  auto ids = batch->GetColumnByName("ListingId");
  if (ids == nullptr) return Status::Invalid(where, ": no column 'ListingId'");
  if (ids->type_id() != arrow::Type::INT64) {
    return Status::Invalid(where, ": column 'ListingId' has type ", ids->type()->ToString(),
                           ", expected integers");
  }
  std::map<std::string, AttributeColumn> out;
  for (const auto& name : file.columns) {
    auto column = batch->GetColumnByName(name);
    if (column == nullptr) return Status::Invalid(where, ": no column '", name, "'");
    if (column->type_id() != arrow::Type::INT64 && column->type_id() != arrow::Type::STRING) {
      INTRADAY_ASSIGN_OR_RAISE(auto cast, arrow::compute::Cast(column, arrow::utf8()));
      column = cast.make_array();
    }
    AttributeColumn& attribute = out[name];
    attribute.type = column->type();
    const auto& id_values = static_cast<const arrow::Int64Array&>(*ids);
    for (int64_t r = 0; r < batch->num_rows(); ++r) {
      if (id_values.IsNull(r))
        return Status::Invalid(where, ": row ", r + 1, ": column 'ListingId' is empty");
      INTRADAY_ASSIGN_OR_RAISE(auto scalar, column->GetScalar(r));
      if (!attribute.values.emplace(id_values.Value(r), scalar).second) {
        return Status::Invalid(where, ": ListingId ", id_values.Value(r),
                               " appears twice (a listing belongs to one group)");
      }
    }
  }
  return out;
}

}  // namespace

std::string PassDayFile(const std::string& output, const std::string& pass, Date day) {
  return fmt::format("{}/{}/date={}/part-00000.parquet", output, pass, day.ToString());
}

Result<std::shared_ptr<arrow::Table>> DerivedUniverse(const Lake& lake, const PipelineConfig& config,
                                                      const DerivedModule& module, Date day,
                                                      const std::vector<int64_t>& listings,
                                                      std::vector<std::string>* warnings) {
  INTRADAY_ASSIGN_OR_RAISE(Universe universe,
                           ResolveUniverse(lake, config.universe, config.data.strict, day, warnings));
  std::vector<const Listing*> rows;
  for (const Listing& l : universe.listings) {
    if (listings.empty() || std::binary_search(listings.begin(), listings.end(), l.listing_id))
      rows.push_back(&l);
  }
  std::map<std::string, AttributeColumn> attributes;
  if (auto file = module.attribute_file()) {
    INTRADAY_ASSIGN_OR_RAISE(attributes, ReadAttributeFile(config, *file));
  }
  arrow::FieldVector fields{arrow::field("ListingId", arrow::int64(), false)};
  std::vector<std::shared_ptr<arrow::Array>> arrays;
  {
    arrow::Int64Builder ids;
    for (const Listing* l : rows) INTRADAY_RETURN_NOT_OK(ids.Append(l->listing_id));
    arrays.push_back(*ids.Finish());
  }
  for (const std::string& name : module.universe_columns()) {
    if (name == "ListingId") continue;
    std::unique_ptr<arrow::ArrayBuilder> builder;
    std::shared_ptr<arrow::DataType> type = StandardUniverseColumnType(name);
    auto attribute = attributes.find(name);
    if (type == nullptr && attribute != attributes.end()) type = attribute->second.type;
    const bool extra = type == nullptr;
    if (extra) {
      const bool known = !rows.empty() && std::any_of(rows.front()->extra.begin(), rows.front()->extra.end(),
                                                      [&](const auto& e) { return e.first == name; });
      if (!known && !rows.empty()) {
        return Status::Invalid("universe column '", name,
                               "' is neither a reference column (ListingId, InstrumentId, MIC, Ticker, ISIN, "
                               "CurrencyCode, IsPrimary) nor a column of universe.file",
                               config.universe.file.empty() ? " (no universe.file is configured)" : "");
      }
      type = arrow::utf8();
    }
    INTRADAY_RETURN_NOT_OK(arrow::MakeBuilder(arrow::default_memory_pool(), type, &builder));
    for (const Listing* l : rows) {
      if (attribute != attributes.end()) {
        auto it = attribute->second.values.find(l->listing_id);
        if (it == attribute->second.values.end() || !it->second->is_valid) {
          INTRADAY_RETURN_NOT_OK(builder->AppendNull());
        } else {
          INTRADAY_RETURN_NOT_OK(builder->AppendScalar(*it->second));
        }
      } else if (name == "InstrumentId") {
        auto& b = static_cast<arrow::Int64Builder&>(*builder);
        INTRADAY_RETURN_NOT_OK(l->instrument_id != 0 ? b.Append(l->instrument_id) : b.AppendNull());
      } else if (name == "IsPrimary") {
        INTRADAY_RETURN_NOT_OK(static_cast<arrow::BooleanBuilder&>(*builder).Append(l->is_primary));
      } else {
        std::string text;
        if (name == "MIC")
          text = l->mic;
        else if (name == "Ticker")
          text = l->ticker;
        else if (name == "ISIN")
          text = l->isin;
        else if (name == "CurrencyCode")
          text = l->currency;
        else {
          for (const auto& [key, value] : l->extra) {
            if (key == name) text = value;
          }
        }
        auto& b = static_cast<arrow::StringBuilder&>(*builder);
        INTRADAY_RETURN_NOT_OK(text.empty() ? b.AppendNull() : b.Append(text));
      }
    }
    std::shared_ptr<arrow::Array> array;
    INTRADAY_RETURN_NOT_OK(builder->Finish(&array));
    fields.push_back(arrow::field(name, type));
    arrays.push_back(std::move(array));
  }
  return arrow::Table::Make(arrow::schema(fields), arrays, static_cast<int64_t>(rows.size()));
}

Result<std::vector<Date>> HistoryDays(const Location& output, const PipelineConfig& config,
                                      const std::string& source_pass, Date day, int count) {
  std::vector<Date> days;
  Date d = day;
  for (int step = 0; step < 4 * count + 10 && static_cast<int>(days.size()) < count; ++step) {
    d = Date::FromDaysSinceEpoch(d.days_since_epoch() - 1);
    if (!config.dates.IsTradingDay(d)) continue;
    INTRADAY_ASSIGN_OR_RAISE(bool exists, output.Exists(PassDayFile(output.root(), source_pass, d)));
    if (exists) days.push_back(d);
  }
  std::reverse(days.begin(), days.end());
  return days;
}

Result<DerivedDayPlan> PlanDerivedDay(const Lake& lake, const PipelineConfig& config, const PassConfig& pass,
                                      const DerivedModule& module, Date day) {
  DerivedDayPlan plan;
  plan.pass = pass.name;
  plan.source_pass = pass.modules.front().source;
  plan.day = day;
  plan.memory_budget = config.run.memory_per_worker;
  INTRADAY_ASSIGN_OR_RAISE(Location output, Location::Open(config.run.output, config.data.s3));
  plan.source_file = PassDayFile(output.root(), plan.source_pass, day);
  INTRADAY_ASSIGN_OR_RAISE(bool source_exists, output.Exists(plan.source_file));
  if (!source_exists) {
    return Status::IOError("pass '", pass.name, "' reads pass '", plan.source_pass, "', whose output for ",
                           day.ToString(), " does not exist (", plan.source_file, "): run pass '",
                           plan.source_pass, "' for that day first");
  }
  INTRADAY_ASSIGN_OR_RAISE(plan.history,
                           HistoryDays(output, config, plan.source_pass, day, module.history_days()));
  for (Date d : plan.history) plan.history_files.push_back(PassDayFile(output.root(), plan.source_pass, d));
  if (static_cast<int>(plan.history.size()) < module.history_days()) {
    plan.warnings.push_back(
        fmt::format("{} of the {} history days of pass '{}' before {} exist: indicators warm up on "
                    "fewer bars",
                    plan.history.size(), module.history_days(), plan.source_pass, day.ToString()));
  }

  INTRADAY_ASSIGN_OR_RAISE(auto universe, DerivedUniverse(lake, config, module, day, {}, &plan.warnings));
  INTRADAY_ASSIGN_OR_RAISE(plan.output_schema, module.OutputSchema(*universe->schema()));
  INTRADAY_ASSIGN_OR_RAISE(ListingGroups groups, GroupListings(*universe, module.group_keys()));
  plan.listings = universe->num_rows();
  plan.groups = groups.size();
  if (!groups.excluded.empty()) {
    plan.warnings.push_back(
        fmt::format("{} listings have no value for {} and are left out (first: ListingId {})",
                    groups.excluded.size(), fmt::join(module.group_keys(), "/"), groups.excluded.front()));
  }

  // Sizes: exact rows per listing of the day file (and the history files), decoded bytes per row
  // of the columns the module reads.
  std::map<int64_t, double> bytes_of;
  std::map<int64_t, int64_t> rows_of;
  std::vector<std::string> files = plan.history_files;
  files.push_back(plan.source_file);
  for (const auto& file : files) {
    // A pass's output is profiled like a reference file: ListingId int64, no event-time column.
    INTRADAY_ASSIGN_OR_RAISE(std::string path, output.PathOf(file));
    INTRADAY_ASSIGN_OR_RAISE(FileProfile profile, ProfileFile(output.fs(), path, file, Table::kReference));
    INTRADAY_ASSIGN_OR_RAISE(double per_row, ProjectedBytesPerRow(profile, module.source_columns(), file));
    for (const auto& [listing, rows] : profile.listing_rows) {
      rows_of[listing] += rows;
      bytes_of[listing] += per_row * static_cast<double>(rows);
    }
  }

  // Groups in key order; whole groups per batch, greedy under the budget.
  std::vector<std::vector<int64_t>> members(static_cast<size_t>(groups.size()));
  for (const auto& [listing, group] : groups.group_of) members[static_cast<size_t>(group)].push_back(listing);
  DerivedBatch current;
  auto close = [&] {
    if (current.listings.empty()) return;
    current.id = static_cast<int>(plan.batches.size());
    plan.batches.push_back(std::move(current));
    current = DerivedBatch{};
  };
  const uint64_t data_budget = DataBudget(plan.memory_budget);
  for (auto& group : members) {
    std::sort(group.begin(), group.end());
    uint64_t memory = 0;
    int64_t rows = 0;
    for (int64_t listing : group) {
      memory += static_cast<uint64_t>(bytes_of[listing] * kMemoryPerDecodedByte);
      rows += rows_of[listing];
    }
    if (!current.listings.empty() && current.memory_bytes + memory > data_budget) close();
    current.group_starts.push_back(current.listings.size());
    current.listings.insert(current.listings.end(), group.begin(), group.end());
    current.groups += 1;
    current.rows += rows;
    current.memory_bytes += memory;
    if (memory > data_budget) {
      current.oversize = true;
      plan.warnings.push_back(fmt::format(
          "a group of {} listings (first: ListingId {}) needs about {}, over the budget {} for data",
          group.size(), group.front(), FormatBytes(memory), FormatBytes(data_budget)));
      close();
    }
  }
  close();
  return plan;
}

}  // namespace intraday
