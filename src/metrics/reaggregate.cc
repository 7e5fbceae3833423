#include "metrics/reaggregate.h"

#include <algorithm>
#include <array>
#include <map>

#include <arrow/array.h>
#include <arrow/builder.h>
#include <arrow/compute/api.h>
#include <fmt/format.h>

#include "metrics/aggregation.h"

namespace intraday {
namespace {

constexpr std::string_view kDefaultWeight = "TradeTotalNotionalEUR";
constexpr std::array<std::string_view, 2> kWeightingNames{"bucket", "day"};
// Units of quantities that add up across listings (docs/metrics/reaggregate.md).
constexpr std::array<std::string_view, 7> kFlowUnits{"shares", "trades",         "orders",  "messages",
                                                     "EUR",    "local currency", "notional"};

struct Rule {
  std::string column;
  AggregateFunction function;
};

struct ReaggregateOptions {
  std::string group_column;
  std::optional<AttributeFile> group_file;
  std::string weight;
  bool weight_per_day = false;
  std::vector<Rule> rules;  // one per output column, in source order
};

AggregateFunction DefaultRule(const arrow::Field& field, const DerivedContext& context) {
  if (field.type()->id() == arrow::Type::STRING) return AggregateFunction::kLast;
  for (const auto& c : context.source_columns) {
    if (c.name != field.name()) continue;
    const bool flow = c.type == ValueType::kInt64 ||
                      std::find(kFlowUnits.begin(), kFlowUnits.end(), c.unit) != kFlowUnits.end();
    return flow ? AggregateFunction::kSum : AggregateFunction::kWeightedMean;
  }
  return field.type()->id() == arrow::Type::INT64 ? AggregateFunction::kSum
                                                  : AggregateFunction::kWeightedMean;
}

class ReaggregateModule final : public DerivedModule {
 public:
  ReaggregateModule(ReaggregateOptions options, const DerivedContext& context)
      : options_(std::move(options)), keys_{options_.group_column}, source_schema_(context.source_schema) {
    source_columns_ = {"ListingId", "TimeBucket"};
    for (const auto& r : options_.rules) source_columns_.push_back(r.column);
    if (!options_.weight.empty() &&
        std::find(source_columns_.begin(), source_columns_.end(), options_.weight) == source_columns_.end())
      source_columns_.push_back(options_.weight);
  }

  std::string_view name() const override { return "reaggregate"; }
  const std::vector<std::string>& group_keys() const override { return keys_; }
  const std::vector<std::string>& universe_columns() const override { return keys_; }
  std::optional<AttributeFile> attribute_file() const override { return options_.group_file; }
  std::vector<std::string> source_columns() const override { return source_columns_; }

  Result<std::shared_ptr<arrow::Schema>> OutputSchema(const arrow::Schema& universe) const override {
    auto key = universe.GetFieldByName(options_.group_column);
    if (key == nullptr) return Status::Invalid("no universe column '", options_.group_column, "'");
    arrow::FieldVector fields{arrow::field(options_.group_column, key->type(), false),
                              arrow::field("TimeBucket", arrow::timestamp(arrow::TimeUnit::NANO), false)};
    for (const auto& r : options_.rules) {
      INTRADAY_ASSIGN_OR_RAISE(auto type,
                               AggregateType(r.function, source_schema_->GetFieldByName(r.column)->type()));
      fields.push_back(arrow::field(r.column, type));
    }
    return arrow::schema(std::move(fields));
  }

  Result<std::shared_ptr<arrow::Table>> Compute(const DerivedInput& input) const override {
    INTRADAY_ASSIGN_OR_RAISE(auto schema, OutputSchema(*input.universe->schema()));
    INTRADAY_ASSIGN_OR_RAISE(auto rows, input.days.back()->CombineChunksToBatch());
    INTRADAY_ASSIGN_OR_RAISE(auto universe, input.universe->CombineChunksToBatch());
    INTRADAY_ASSIGN_OR_RAISE(ListingGroups groups, GroupListings(*input.universe, keys_));
    const auto* ids = rows->GetColumnByName("ListingId")->data()->GetValues<int64_t>(1);
    const auto* buckets = rows->GetColumnByName("TimeBucket")->data()->GetValues<int64_t>(1);

    std::vector<std::optional<double>> weights;
    if (!options_.weight.empty()) {
      INTRADAY_ASSIGN_OR_RAISE(weights, AsOptionalDoubles(*rows->GetColumnByName(options_.weight)));
      if (options_.weight_per_day) {
        // Each listing weighs its day's total in every bucket.
        std::map<int64_t, double> totals;
        for (int64_t r = 0; r < rows->num_rows(); ++r)
          totals[ids[r]] += weights[static_cast<size_t>(r)].value_or(0);
        for (int64_t r = 0; r < rows->num_rows(); ++r) weights[static_cast<size_t>(r)] = totals[ids[r]];
      }
    }
    struct Ref {
      int group;
      int64_t bucket, listing, row;
    };
    std::vector<Ref> refs;
    for (int64_t r = 0; r < rows->num_rows(); ++r) {
      auto it = groups.group_of.find(ids[r]);
      if (it != groups.group_of.end()) refs.push_back(Ref{it->second, buckets[r], ids[r], r});
    }
    std::sort(refs.begin(), refs.end(), [](const Ref& a, const Ref& b) {
      return std::tie(a.group, a.bucket, a.listing, a.row) < std::tie(b.group, b.bucket, b.listing, b.row);
    });
    Runs runs;
    arrow::Int64Builder key_rows;
    arrow::TimestampBuilder labels(arrow::timestamp(arrow::TimeUnit::NANO), arrow::default_memory_pool());
    for (size_t k = 0; k < refs.size(); ++k) {
      if (k == 0 || refs[k].group != refs[k - 1].group || refs[k].bucket != refs[k - 1].bucket) {
        runs.run_starts.push_back(k);
        INTRADAY_RETURN_NOT_OK(key_rows.Append(groups.key_row[static_cast<size_t>(refs[k].group)]));
        INTRADAY_RETURN_NOT_OK(labels.Append(refs[k].bucket));
      }
      runs.order.push_back(refs[k].row);
    }
    std::shared_ptr<arrow::Array> key_row_array, label_array;
    INTRADAY_RETURN_NOT_OK(key_rows.Finish(&key_row_array));
    INTRADAY_RETURN_NOT_OK(labels.Finish(&label_array));
    INTRADAY_ASSIGN_OR_RAISE(
        auto keys, arrow::compute::Take(universe->GetColumnByName(options_.group_column), key_row_array));
    std::vector<std::shared_ptr<arrow::Array>> out{keys.make_array(), label_array};
    for (const auto& r : options_.rules) {
      INTRADAY_ASSIGN_OR_RAISE(auto array,
                               AggregateRuns(*rows->GetColumnByName(r.column), runs, r.function, weights));
      out.push_back(std::move(array));
    }
    return arrow::Table::Make(schema, out, static_cast<int64_t>(runs.size()));
  }

 private:
  ReaggregateOptions options_;
  std::vector<std::string> keys_;
  std::vector<std::string> source_columns_;
  std::shared_ptr<arrow::Schema> source_schema_;
};

}  // namespace

std::unique_ptr<DerivedModule> CreateReaggregateModule(const YamlValue& options,
                                                       const DerivedContext& context,
                                                       ConfigDiagnostics* diag) {
  static constexpr std::array<std::string_view, 7> kKeys{"source",    "group_by", "group_file", "weight",
                                                         "weighting", "columns",  "rules"};
  const size_t errors_before = diag->error_count();
  MapReader reader(options, kKeys, diag);
  const YamlValue where = reader.value();
  ReaggregateOptions opts;
  if (const YamlValue* group =
          reader.Require("group_by", "a universe column such as InstrumentId, or a column of group_file")) {
    if (auto name = ReadNonEmptyString(*group, diag, "a column name")) opts.group_column = *name;
  }
  if (const YamlValue* file = reader.Find("group_file")) {
    if (auto path = ReadNonEmptyString(*file, diag,
                                       "a .csv or .parquet file with ListingId and the group_by column")) {
      if (!path->ends_with(".csv") && !path->ends_with(".parquet")) {
        diag->Error(file->location, file->path, "expected a .csv or .parquet file, got '" + *path + "'");
      }
      if (!opts.group_column.empty()) opts.group_file = AttributeFile{*path, {opts.group_column}};
    }
  }
  // A group_by that is neither a standard universe column nor in group_file may be an extra
  // column of universe.file: checked when the universe is read.
  const auto& schema = *context.source_schema;
  auto check_column = [&](const YamlValue& at, const std::string& name) {
    if (schema.GetFieldByName(name) != nullptr && name != "ListingId" && name != "TimeBucket") return true;
    std::vector<std::string_view> names;
    for (const auto& f : schema.fields()) names.push_back(f->name());
    diag->Error(at.location, at.path,
                fmt::format("pass '{}' has no column '{}'{}", context.source_pass, name,
                            SuggestionSuffix(name, names)));
    return false;
  };
  if (const YamlValue* weight = reader.Find("weight")) {
    if (auto name = ReadNonEmptyString(*weight, diag, "a numeric column of the source pass")) {
      if (check_column(*weight, *name)) opts.weight = *name;
    }
  } else if (schema.GetFieldByName(std::string(kDefaultWeight)) != nullptr) {
    opts.weight = std::string(kDefaultWeight);
  }
  if (const YamlValue* weighting = reader.Find("weighting")) {
    if (auto choice = ReadChoice(*weighting, diag, kWeightingNames)) opts.weight_per_day = *choice == 1;
  }
  std::vector<std::string> columns;
  if (const YamlValue* list = reader.Find("columns")) {
    if (auto items = ReadList(*list, diag, "[TradeTotalVolume, SpreadBps]")) {
      for (const auto& item : *items) {
        if (auto name = ReadNonEmptyString(item, diag, "a column name")) {
          if (check_column(item, *name)) columns.push_back(*name);
        }
      }
    }
  } else {
    for (const auto& f : schema.fields()) {
      if (f->name() != "ListingId" && f->name() != "TimeBucket") columns.push_back(f->name());
    }
  }
  std::map<std::string, AggregateFunction> overrides;
  if (const YamlValue* rules = reader.Find("rules")) {
    if (!rules->node.IsMap()) {
      diag->Error(rules->location, rules->path, "expected a map of column -> rule, e.g. {Close: last}");
    } else {
      for (const auto& entry : rules->node) {
        const std::string column = entry.first.as<std::string>();
        const YamlValue item{entry.second, ChildPath(rules->path, column), diag->LocationOf(entry.second)};
        if (!check_column(item, column)) continue;
        if (std::find(columns.begin(), columns.end(), column) == columns.end()) {
          diag->Error(item.location, item.path,
                      "'" + column + "' is not among the output columns (`columns`)");
          continue;
        }
        if (auto choice = ReadChoice(item, diag, kAggregateFunctionNames)) {
          overrides[column] = static_cast<AggregateFunction>(*choice);
        }
      }
    }
  }
  bool needs_weight = false;
  for (const auto& column : columns) {
    const auto field = schema.GetFieldByName(column);
    auto it = overrides.find(column);
    const AggregateFunction function = it != overrides.end() ? it->second : DefaultRule(*field, context);
    if (auto type = AggregateType(function, field->type()); !type.ok()) {
      diag->Error(where.location, where.path, "column '" + column + "': " + type.status().message());
      continue;
    }
    needs_weight = needs_weight || function == AggregateFunction::kWeightedMean;
    opts.rules.push_back(Rule{column, function});
  }
  if (needs_weight && opts.weight.empty()) {
    diag->Error(where.location, where.path,
                fmt::format("some columns are weighted means and pass '{}' has no {}: set `weight`",
                            context.source_pass, kDefaultWeight));
  }
  if (diag->error_count() != errors_before) return nullptr;
  return std::make_unique<ReaggregateModule>(std::move(opts), context);
}

}  // namespace intraday
