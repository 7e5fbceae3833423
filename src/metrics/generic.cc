#include "metrics/generic.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <numeric>
#include <set>

#include <arrow/array.h>
#include <arrow/builder.h>
#include <arrow/compute/api.h>
#include <fmt/format.h>

#include "metrics/aggregation.h"
#include "metrics/indicators.h"

namespace intraday {
namespace {

constexpr std::string_view kTimeBucket = "TimeBucket";
constexpr std::string_view kListingId = "ListingId";

struct Aggregation {
  std::string column;  // source column, also the output name
  AggregateFunction function = AggregateFunction::kLast;
  std::string weight;  // kWeightedMean only
};

enum class IndicatorKind { kSma, kEma, kRsi, kMacd, kBollinger, kRollingStd, kZScore };
constexpr std::array<std::string_view, 7> kIndicatorNames{"SMA",       "EMA",        "RSI",   "MACD",
                                                          "Bollinger", "RollingStd", "ZScore"};

struct Indicator {
  IndicatorKind kind = IndicatorKind::kSma;
  std::string column;  // an aggregated column
  int period = 20;
  int fast = 12, slow = 26, signal = 9;
  double k = 2.0;
  int ddof = 1;
  std::vector<std::string> outputs;  // 1 column, or 3 for MACD and Bollinger
};

struct GenericOptions {
  std::vector<std::string> group_keys;  // universe columns, TimeBucket removed
  std::vector<std::string> join;
  std::vector<Aggregation> aggregations;
  std::vector<Indicator> indicators;
  int history_days = 0;
};

std::optional<double> ReadDouble(const YamlValue& v, ConfigDiagnostics* diag, double min) {
  const std::string text = v.node.IsScalar() ? v.node.Scalar() : "";
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min) {
    diag->Error(v.location, v.path,
                fmt::format("expected a number >= {}, got {}", min, DescribeNode(v.node)));
    return std::nullopt;
  }
  return value;
}

std::vector<std::string_view> SourceNames(const arrow::Schema& schema) {
  std::vector<std::string_view> names;
  for (const auto& f : schema.fields()) names.push_back(f->name());
  return names;
}

/// A source column by name, reporting "no column" with a suggestion.
std::shared_ptr<arrow::Field> SourceColumn(const YamlValue& at, const std::string& name,
                                           const DerivedContext& context, ConfigDiagnostics* diag) {
  auto field = context.source_schema->GetFieldByName(name);
  if (field == nullptr) {
    const auto names = SourceNames(*context.source_schema);
    diag->Error(at.location, at.path,
                fmt::format("pass '{}' has no column '{}'{}", context.source_pass, name,
                            SuggestionSuffix(name, names)));
  }
  return field;
}

std::optional<std::vector<std::string>> ReadNames(const YamlValue& v, ConfigDiagnostics* diag,
                                                  std::string_view example) {
  auto items = ReadList(v, diag, example);
  if (!items) return std::nullopt;
  std::vector<std::string> names;
  bool ok = true;
  for (const auto& item : *items) {
    auto name = ReadNonEmptyString(item, diag, "a column name");
    if (!name) {
      ok = false;
      continue;
    }
    if (std::find(names.begin(), names.end(), *name) != names.end()) {
      diag->Error(item.location, item.path, "'" + *name + "' is listed twice");
      ok = false;
    }
    names.push_back(*name);
  }
  if (!ok) return std::nullopt;
  return names;
}

void ReadAggregations(const YamlValue& value, const DerivedContext& context, GenericOptions* options,
                      ConfigDiagnostics* diag) {
  if (!value.node.IsMap() || value.node.size() == 0) {
    diag->Error(
        value.location, value.path,
        "expected a map of source column -> function, e.g. {TradeTotalVolume: sum, Close: last}, got " +
            DescribeNode(value.node));
    return;
  }
  for (const auto& entry : value.node) {
    const std::string column = entry.first.as<std::string>();
    const YamlValue item{entry.second, ChildPath(value.path, column), diag->LocationOf(entry.second)};
    auto field = SourceColumn(item, column, context, diag);
    Aggregation aggregation{column, AggregateFunction::kLast, {}};
    if (item.node.IsMap()) {
      static constexpr std::array<std::string_view, 1> kWeighted{"weighted_mean"};
      MapReader reader(item, kWeighted, diag, "key");
      const YamlValue* weight =
          reader.Require("weighted_mean", "the weight column, e.g. {weighted_mean: TradeTotalVolume}");
      if (weight == nullptr) continue;
      auto name = ReadNonEmptyString(*weight, diag, "a weight column");
      if (!name) continue;
      auto weight_field = SourceColumn(*weight, *name, context, diag);
      if (weight_field != nullptr && weight_field->type()->id() != arrow::Type::INT64 &&
          weight_field->type()->id() != arrow::Type::DOUBLE) {
        diag->Error(weight->location, weight->path, "weight column '" + *name + "' is not numeric");
      }
      aggregation.function = AggregateFunction::kWeightedMean;
      aggregation.weight = *name;
    } else {
      auto choice = ReadChoice(item, diag, kAggregateFunctionNames);
      if (!choice) continue;
      aggregation.function = static_cast<AggregateFunction>(*choice);
      if (aggregation.function == AggregateFunction::kWeightedMean) {
        diag->Error(item.location, item.path, "weighted_mean needs its weight: {weighted_mean: COLUMN}");
        continue;
      }
    }
    if (field != nullptr) {
      if (auto type = AggregateType(aggregation.function, field->type()); !type.ok()) {
        diag->Error(item.location, item.path, "column '" + column + "': " + type.status().message());
      }
    }
    options->aggregations.push_back(std::move(aggregation));
  }
}

std::optional<Indicator> ReadIndicator(const YamlValue& item, const GenericOptions& options,
                                       ConfigDiagnostics* diag) {
  if (!item.node.IsMap() || !item.node["name"]) {
    diag->Error(
        item.location, item.path,
        "expected a map with the indicator's name, e.g. {name: SMA, column: Close, period: 20}, got " +
            DescribeNode(item.node));
    return std::nullopt;
  }
  const YAML::Node name_node = item.node["name"];
  const YamlValue name_value{name_node, ChildPath(item.path, "name"), diag->LocationOf(name_node)};
  auto kind = ReadChoice(name_value, diag, kIndicatorNames);
  if (!kind) return std::nullopt;
  Indicator ind;
  ind.kind = static_cast<IndicatorKind>(*kind);
  std::vector<std::string_view> keys{"name", "column", "as"};
  switch (ind.kind) {
    case IndicatorKind::kSma:
    case IndicatorKind::kEma: keys.push_back("period"); break;
    case IndicatorKind::kRsi:
      keys.push_back("period");
      ind.period = 14;
      break;
    case IndicatorKind::kRollingStd:
    case IndicatorKind::kZScore: keys.insert(keys.end(), {"period", "ddof"}); break;
    case IndicatorKind::kBollinger:
      keys.insert(keys.end(), {"period", "k", "ddof"});
      ind.ddof = 0;
      break;
    case IndicatorKind::kMacd: keys.insert(keys.end(), {"fast", "slow", "signal"}); break;
  }
  MapReader reader(item, keys, diag);
  const size_t errors_before = diag->error_count();
  if (const YamlValue* column = reader.Require("column", "the aggregated column it is computed on")) {
    if (auto name = ReadNonEmptyString(*column, diag, "a column name")) {
      const bool aggregated = std::any_of(options.aggregations.begin(), options.aggregations.end(),
                                          [&](const Aggregation& a) { return a.column == *name; });
      if (!aggregated) {
        std::vector<std::string_view> names;
        for (const auto& a : options.aggregations) names.push_back(a.column);
        diag->Error(column->location, column->path,
                    "'" + *name +
                        "' is not an aggregated column (indicators run on the aggregations' output)" +
                        SuggestionSuffix(*name, names));
      }
      ind.column = *name;
    }
  }
  auto read_int = [&](std::string_view key, int* out, int64_t min) {
    if (const YamlValue* v = reader.Find(key)) {
      if (auto n = ReadInt(*v, diag, min, 100000)) *out = static_cast<int>(*n);
    }
  };
  read_int("period", &ind.period, 1);
  read_int("fast", &ind.fast, 1);
  read_int("slow", &ind.slow, 1);
  read_int("signal", &ind.signal, 1);
  read_int("ddof", &ind.ddof, 0);
  if (const YamlValue* k = reader.Find("k")) {
    if (auto value = ReadDouble(*k, diag, 0)) ind.k = *value;
  }
  if (ind.kind == IndicatorKind::kMacd && ind.fast >= ind.slow) {
    diag->Error(item.location, item.path,
                fmt::format("MACD needs fast < slow (got {} and {})", ind.fast, ind.slow));
  }
  if ((ind.kind == IndicatorKind::kRollingStd || ind.kind == IndicatorKind::kZScore ||
       ind.kind == IndicatorKind::kBollinger) &&
      ind.period <= ind.ddof) {
    diag->Error(item.location, item.path,
                fmt::format("period must exceed ddof ({} <= {})", ind.period, ind.ddof));
  }
  std::string base;
  if (const YamlValue* as = reader.Find("as")) {
    if (auto name = ReadNonEmptyString(*as, diag, "an output column name")) base = *name;
  }
  const std::string period = std::to_string(ind.period);
  const std::string macd = fmt::format("{}_{}_{}", ind.fast, ind.slow, ind.signal);
  switch (ind.kind) {
    case IndicatorKind::kMacd:
      if (base.empty()) {
        ind.outputs = {"MACD" + macd, "MACDSignal" + macd, "MACDHist" + macd};
      } else {
        ind.outputs = {base, base + "Signal", base + "Hist"};
      }
      break;
    case IndicatorKind::kBollinger:
      if (base.empty()) {
        ind.outputs = {"BollingerUpper" + period, "BollingerMiddle" + period, "BollingerLower" + period};
      } else {
        ind.outputs = {base + "Upper", base + "Middle", base + "Lower"};
      }
      break;
    default: ind.outputs = {base.empty() ? std::string(kIndicatorNames[*kind]) + period : base};
  }
  if (diag->error_count() != errors_before) return std::nullopt;
  return ind;
}

class GenericModule final : public DerivedModule {
 public:
  GenericModule(GenericOptions options, const DerivedContext& context)
      : options_(std::move(options)), grid_(context.grid), source_grid_(context.source_grid) {
    universe_columns_ = options_.group_keys;
    for (const auto& j : options_.join) universe_columns_.push_back(j);
    source_columns_ = {std::string(kListingId), std::string(kTimeBucket)};
    auto add = [&](const std::string& name) {
      if (std::find(source_columns_.begin(), source_columns_.end(), name) == source_columns_.end())
        source_columns_.push_back(name);
    };
    for (const auto& a : options_.aggregations) {
      add(a.column);
      if (!a.weight.empty()) add(a.weight);
    }
    for (const auto& a : options_.aggregations) {
      source_types_.push_back(context.source_schema->GetFieldByName(a.column)->type());
    }
  }

  std::string_view name() const override { return "generic"; }
  const std::vector<std::string>& group_keys() const override { return options_.group_keys; }
  const std::vector<std::string>& universe_columns() const override { return universe_columns_; }
  int history_days() const override { return options_.history_days; }
  std::vector<std::string> source_columns() const override { return source_columns_; }

  Result<std::shared_ptr<arrow::Schema>> OutputSchema(const arrow::Schema& universe) const override {
    arrow::FieldVector fields;
    for (const auto& key : universe_columns_) {
      auto field = universe.GetFieldByName(key);
      if (field == nullptr) return Status::Invalid("no universe column '", key, "'");
      const bool is_key =
          std::find(options_.group_keys.begin(), options_.group_keys.end(), key) != options_.group_keys.end();
      fields.push_back(arrow::field(key, field->type(), !is_key));
    }
    // Keys, TimeBucket, joined columns, aggregations, indicators.
    arrow::FieldVector ordered(fields.begin(),
                               fields.begin() + static_cast<long>(options_.group_keys.size()));
    ordered.push_back(arrow::field(std::string(kTimeBucket), arrow::timestamp(arrow::TimeUnit::NANO), false));
    ordered.insert(ordered.end(), fields.begin() + static_cast<long>(options_.group_keys.size()),
                   fields.end());
    for (size_t i = 0; i < options_.aggregations.size(); ++i) {
      INTRADAY_ASSIGN_OR_RAISE(auto type, AggregateType(options_.aggregations[i].function, source_types_[i]));
      ordered.push_back(arrow::field(options_.aggregations[i].column, type));
    }
    for (const auto& ind : options_.indicators) {
      for (const auto& out : ind.outputs) ordered.push_back(arrow::field(out, arrow::float64()));
    }
    std::set<std::string> names;
    for (const auto& f : ordered) {
      if (!names.insert(f->name()).second)
        return Status::Invalid("generic: two output columns are named '", f->name(),
                               "': give an indicator another name with `as`");
    }
    return arrow::schema(std::move(ordered));
  }

  Result<std::shared_ptr<arrow::Table>> Compute(const DerivedInput& input) const override;

 private:
  GenericOptions options_;
  TimeGrid grid_;
  TimeGrid source_grid_;
  std::vector<std::string> universe_columns_;
  std::vector<std::string> source_columns_;
  std::vector<std::shared_ptr<arrow::DataType>> source_types_;
};

Result<std::shared_ptr<arrow::Table>> GenericModule::Compute(const DerivedInput& input) const {
  INTRADAY_ASSIGN_OR_RAISE(auto output_schema, OutputSchema(*input.universe->schema()));
  // All days in one batch; rows from current_first_row on belong to the day computed.
  std::vector<std::shared_ptr<arrow::Table>> tables;
  int64_t current_first_row = 0;
  for (const auto& day : input.days) {
    std::vector<int> indices;
    for (const auto& c : source_columns_) indices.push_back(day->schema()->GetFieldIndex(c));
    INTRADAY_ASSIGN_OR_RAISE(auto selected, day->SelectColumns(indices));
    if (day != input.days.back()) current_first_row += selected->num_rows();
    tables.push_back(std::move(selected));
  }
  INTRADAY_ASSIGN_OR_RAISE(auto all, arrow::ConcatenateTables(tables));
  INTRADAY_ASSIGN_OR_RAISE(auto rows, all->CombineChunksToBatch());
  INTRADAY_ASSIGN_OR_RAISE(auto universe, input.universe->CombineChunksToBatch());
  INTRADAY_ASSIGN_OR_RAISE(ListingGroups groups, GroupListings(*input.universe, options_.group_keys));

  const auto* ids = rows->column_data(0)->GetValues<int64_t>(1);
  const auto* buckets = rows->column_data(1)->GetValues<int64_t>(1);
  struct Ref {
    int group;
    int64_t label, bucket, listing, row;
  };
  std::vector<Ref> refs;
  refs.reserve(static_cast<size_t>(rows->num_rows()));
  for (int64_t r = 0; r < rows->num_rows(); ++r) {
    auto it = groups.group_of.find(ids[r]);
    if (it == groups.group_of.end()) continue;
    refs.push_back(Ref{it->second, ResampleLabel(buckets[r], source_grid_, grid_), buckets[r], ids[r], r});
  }
  std::sort(refs.begin(), refs.end(), [](const Ref& a, const Ref& b) {
    return std::tie(a.group, a.label, a.bucket, a.listing, a.row) <
           std::tie(b.group, b.label, b.bucket, b.listing, b.row);
  });
  Runs runs;
  std::vector<int> run_group;
  std::vector<int64_t> run_label;
  std::vector<bool> run_current;
  for (size_t k = 0; k < refs.size(); ++k) {
    if (k == 0 || refs[k].group != refs[k - 1].group || refs[k].label != refs[k - 1].label) {
      runs.run_starts.push_back(k);
      run_group.push_back(refs[k].group);
      run_label.push_back(refs[k].label);
      run_current.push_back(refs[k].row >= current_first_row);
    }
    runs.order.push_back(refs[k].row);
  }

  // Aggregations, then indicators over each group's runs in time order.
  std::vector<std::shared_ptr<arrow::Array>> columns;
  std::map<std::string, size_t> aggregated;
  for (const auto& a : options_.aggregations) {
    std::vector<std::optional<double>> weights;
    if (!a.weight.empty()) {
      INTRADAY_ASSIGN_OR_RAISE(weights, AsOptionalDoubles(*rows->GetColumnByName(a.weight)));
    }
    INTRADAY_ASSIGN_OR_RAISE(auto array,
                             AggregateRuns(*rows->GetColumnByName(a.column), runs, a.function, weights));
    aggregated[a.column] = columns.size();
    columns.push_back(std::move(array));
  }
  for (const auto& ind : options_.indicators) {
    INTRADAY_ASSIGN_OR_RAISE(auto x, AsOptionalDoubles(*columns[aggregated.at(ind.column)]));
    std::vector<indicators::Series> out(ind.outputs.size(), indicators::Series(x.size()));
    for (size_t begin = 0; begin < x.size();) {
      size_t end = begin;
      while (end < x.size() && run_group[end] == run_group[begin]) ++end;
      const std::span<const std::optional<double>> series(x.data() + begin, end - begin);
      std::vector<indicators::Series> parts;
      switch (ind.kind) {
        case IndicatorKind::kSma: parts = {indicators::Sma(series, ind.period)}; break;
        case IndicatorKind::kEma: parts = {indicators::Ema(series, ind.period)}; break;
        case IndicatorKind::kRsi: parts = {indicators::Rsi(series, ind.period)}; break;
        case IndicatorKind::kRollingStd:
          parts = {indicators::RollingStd(series, ind.period, ind.ddof)};
          break;
        case IndicatorKind::kZScore: parts = {indicators::ZScore(series, ind.period, ind.ddof)}; break;
        case IndicatorKind::kMacd: {
          auto m = indicators::Macd(series, ind.fast, ind.slow, ind.signal);
          parts = {std::move(m.line), std::move(m.signal), std::move(m.histogram)};
          break;
        }
        case IndicatorKind::kBollinger: {
          auto b = indicators::Bollinger(series, ind.period, ind.k, ind.ddof);
          parts = {std::move(b.upper), std::move(b.middle), std::move(b.lower)};
          break;
        }
      }
      for (size_t p = 0; p < parts.size(); ++p)
        std::copy(parts[p].begin(), parts[p].end(), out[p].begin() + static_cast<long>(begin));
      begin = end;
    }
    for (const auto& series : out) {
      arrow::DoubleBuilder builder;
      for (const auto& v : series) {
        if (v) {
          INTRADAY_RETURN_NOT_OK(builder.Append(*v));
        } else {
          INTRADAY_RETURN_NOT_OK(builder.AppendNull());
        }
      }
      std::shared_ptr<arrow::Array> array;
      INTRADAY_RETURN_NOT_OK(builder.Finish(&array));
      columns.push_back(std::move(array));
    }
  }

  // Keep the day's rows only; keys and joined columns come from the group's universe row.
  arrow::Int64Builder keep_builder, key_rows_builder;
  arrow::TimestampBuilder labels(arrow::timestamp(arrow::TimeUnit::NANO), arrow::default_memory_pool());
  for (size_t r = 0; r < runs.size(); ++r) {
    if (!run_current[r]) continue;
    INTRADAY_RETURN_NOT_OK(keep_builder.Append(static_cast<int64_t>(r)));
    INTRADAY_RETURN_NOT_OK(key_rows_builder.Append(groups.key_row[static_cast<size_t>(run_group[r])]));
    INTRADAY_RETURN_NOT_OK(labels.Append(run_label[r]));
  }
  std::shared_ptr<arrow::Array> keep, key_rows, label_array;
  INTRADAY_RETURN_NOT_OK(keep_builder.Finish(&keep));
  INTRADAY_RETURN_NOT_OK(key_rows_builder.Finish(&key_rows));
  INTRADAY_RETURN_NOT_OK(labels.Finish(&label_array));
  std::vector<std::shared_ptr<arrow::Array>> out;
  for (size_t i = 0; i < universe_columns_.size(); ++i) {
    INTRADAY_ASSIGN_OR_RAISE(auto taken,
                             arrow::compute::Take(universe->GetColumnByName(universe_columns_[i]), key_rows));
    out.push_back(taken.make_array());
    if (i + 1 == options_.group_keys.size()) out.push_back(label_array);
  }
  for (const auto& c : columns) {
    INTRADAY_ASSIGN_OR_RAISE(auto taken, arrow::compute::Take(c, keep));
    out.push_back(taken.make_array());
  }
  return arrow::Table::Make(output_schema, out, keep->length());
}

}  // namespace

std::unique_ptr<DerivedModule> CreateGenericModule(const YamlValue& options, const DerivedContext& context,
                                                   ConfigDiagnostics* diag) {
  static constexpr std::array<std::string_view, 7> kKeys{"source",       "resample",   "group_by",    "join",
                                                         "aggregations", "indicators", "history_days"};
  const size_t errors_before = diag->error_count();
  MapReader reader(options, kKeys, diag);
  GenericOptions opts;
  if (const YamlValue* resample = reader.Find("resample")) {
    if (auto length = ReadDuration(*resample, diag)) {
      if (*length != context.grid.length()) {
        diag->Error(
            resample->location, resample->path,
            "resample must equal the pass's bucket (the bucket of the pass's output); set `bucket` to it");
      }
    }
  }
  const YamlValue where = reader.value();
  if (context.source_daily) {
    if (context.grid.length() != kNanosPerDay)
      diag->Error(where.location, where.path,
                  "pass '" + context.source_pass +
                      "' has a daily timeline: its output cannot be resampled to a shorter bucket");
  } else if (context.grid.length() % context.source_grid.length() != 0) {
    diag->Error(
        where.location, where.path,
        fmt::format("the pass's bucket must be a multiple of the bucket of pass '{}'", context.source_pass));
  } else if (context.grid.closed() != context.source_grid.closed()) {
    diag->Error(
        where.location, where.path,
        fmt::format("`closed` must be the same as in pass '{}' (a coarse bucket is a union of its buckets)",
                    context.source_pass));
  }
  std::vector<std::string> group_by{std::string(kListingId)};
  if (const YamlValue* keys = reader.Find("group_by")) {
    if (auto names = ReadNames(*keys, diag, "[InstrumentId, TimeBucket]")) {
      group_by.clear();
      for (size_t i = 0; i < names->size(); ++i) {
        if ((*names)[i] == kTimeBucket) {
          if (i + 1 != names->size())
            diag->Error(keys->location, keys->path, "TimeBucket must come last in group_by");
          continue;
        }
        if (context.source_schema->GetFieldByName((*names)[i]) != nullptr && (*names)[i] != kListingId) {
          diag->Error(keys->location, keys->path,
                      "'" + (*names)[i] + "' is a column of pass '" + context.source_pass +
                          "': group_by takes universe columns (ListingId, InstrumentId, MIC, Ticker, ...) "
                          "and TimeBucket");
        }
        group_by.push_back((*names)[i]);
      }
      if (group_by.empty())
        diag->Error(keys->location, keys->path, "group_by needs at least one universe column");
    }
  }
  opts.group_keys = group_by;
  if (const YamlValue* join = reader.Find("join")) {
    if (auto names = ReadNames(*join, diag, "[Ticker, MIC]")) {
      if (std::find(group_by.begin(), group_by.end(), kListingId) == group_by.end()) {
        diag->Error(join->location, join->path,
                    "join needs ListingId in group_by (a joined column has one value per listing)");
      }
      for (const auto& n : *names) {
        if (std::find(group_by.begin(), group_by.end(), n) != group_by.end()) {
          diag->Error(join->location, join->path, "'" + n + "' is already a group_by key");
        }
      }
      opts.join = *names;
    }
  }
  if (const YamlValue* aggregations = reader.Require("aggregations", "a map of column -> function")) {
    ReadAggregations(*aggregations, context, &opts, diag);
  }
  if (const YamlValue* list = reader.Find("indicators")) {
    if (auto items = ReadList(*list, diag, "[{name: SMA, column: Close, period: 20}]")) {
      for (const auto& item : *items) {
        if (auto ind = ReadIndicator(item, opts, diag)) opts.indicators.push_back(std::move(*ind));
      }
    }
  }
  if (const YamlValue* history = reader.Find("history_days")) {
    if (auto n = ReadInt(*history, diag, 0, 366)) opts.history_days = static_cast<int>(*n);
  }
  if (diag->error_count() != errors_before) return nullptr;
  auto module = std::make_unique<GenericModule>(std::move(opts), context);
  // Output names are known now except for the types of non-standard universe columns.
  if (auto schema = module->OutputSchema(*ConfiguredUniverseSchema(module->universe_columns()));
      !schema.ok()) {
    diag->Error(where.location, where.path, schema.status().message());
    return nullptr;
  }
  return module;
}

}  // namespace intraday
