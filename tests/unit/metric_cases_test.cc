// The metric case driver: every tests/cases/**/*.yaml file is one test. A case is data (input
// events of one listing-day, a module with options, a pass shape, expected values per bucket),
// so that adding a case needs no C++. The computation goes through ListingDayComputer, the same
// code the engine's workers run. Format: tests/cases/README.md.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>

#include <arrow/array.h>
#include <arrow/builder.h>
#include <arrow/record_batch.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "common/units.h"
#include "metrics/listing_day_computer.h"
#include "metrics/registry.h"

namespace intraday {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> CaseFiles() {
  std::vector<std::string> files;
  const fs::path root = fs::path(INTRADAY_SOURCE_DIR) / "tests" / "cases";
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file() && entry.path().extension() == ".yaml")
      files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

/// "09:00:01", "09:00:01.5", "09:00:01.000000123" on `day`, or an integer of nanoseconds.
int64_t ParseTime(const YAML::Node& node, Date day) {
  const std::string text = node.as<std::string>();
  if (text.find(':') == std::string::npos) return node.as<int64_t>();
  int h = 0, m = 0;
  double s = 0;
  EXPECT_EQ(std::sscanf(text.c_str(), "%d:%d:%lf", &h, &m, &s), 3) << "bad time " << text;
  const size_t dot = text.find('.');
  int64_t frac_ns = 0;
  if (dot != std::string::npos) {
    std::string digits = text.substr(dot + 1);
    digits.resize(9, '0');
    frac_ns = std::stoll(digits);
  }
  const int64_t whole = static_cast<int64_t>(s);
  return day.start_ns() + (int64_t{h} * 3600 + int64_t{m} * 60 + whole) * kNanosPerSecond + frac_ns;
}

ColumnKind InferKind(Table table, const std::string& column, const YAML::Node& rows, size_t index) {
  if (auto kind = KnownColumnKind(table, column)) return *kind;
  for (const auto& row : rows) {
    const YAML::Node value = row[index];
    if (value.IsNull()) continue;
    const std::string text = value.as<std::string>();
    if (value.Tag() == "!") return ColumnKind::kString;  // quoted
    if (text == "true" || text == "false") return ColumnKind::kBool;
    char* end = nullptr;
    std::strtoll(text.c_str(), &end, 10);
    if (*end == '\0') return ColumnKind::kInt64;
    std::strtod(text.c_str(), &end);
    if (*end == '\0') return ColumnKind::kFloat64;
    return ColumnKind::kString;
  }
  return ColumnKind::kFloat64;
}

/// One input table of a case as a record batch sorted by event time (stable), like the engine.
std::shared_ptr<arrow::RecordBatch> BuildTable(Table table, const YAML::Node& spec, Date day,
                                               int64_t listing) {
  const auto columns = spec["columns"].as<std::vector<std::string>>();
  const YAML::Node rows = spec["rows"];
  const std::string time_column(SpecOf(table).event_time_column);
  const auto time_it = std::find(columns.begin(), columns.end(), time_column);
  EXPECT_NE(time_it, columns.end()) << "table " << SpecOf(table).key << " needs column " << time_column;
  const size_t time_index = static_cast<size_t>(time_it - columns.begin());
  std::vector<size_t> order(rows.size());
  std::iota(order.begin(), order.end(), 0);
  std::vector<int64_t> times;
  for (const auto& row : rows) times.push_back(ParseTime(row[time_index], day));
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return times[a] < times[b]; });

  arrow::FieldVector fields{arrow::field("ListingId", arrow::int64())};
  std::vector<std::shared_ptr<arrow::Array>> arrays;
  arrow::Int64Builder ids;
  for (size_t i = 0; i < order.size(); ++i) EXPECT_TRUE(ids.Append(listing).ok());
  arrays.push_back(ids.Finish().ValueOrDie());
  for (size_t c = 0; c < columns.size(); ++c) {
    const ColumnKind kind = c == time_index ? ColumnKind::kTimestamp : InferKind(table, columns[c], rows, c);
    std::shared_ptr<arrow::Array> array;
    auto value_of = [&](size_t r) { return rows[r][c]; };
    switch (kind) {
      case ColumnKind::kTimestamp: {
        arrow::TimestampBuilder b(arrow::timestamp(arrow::TimeUnit::NANO), arrow::default_memory_pool());
        for (size_t r : order)
          EXPECT_TRUE((value_of(r).IsNull()
                           ? b.AppendNull()
                           : b.Append(c == time_index ? times[r] : ParseTime(value_of(r), day)))
                          .ok());
        array = b.Finish().ValueOrDie();
        break;
      }
      case ColumnKind::kInt64: {
        arrow::Int64Builder b;
        for (size_t r : order)
          EXPECT_TRUE((value_of(r).IsNull() ? b.AppendNull() : b.Append(value_of(r).as<int64_t>())).ok());
        array = b.Finish().ValueOrDie();
        break;
      }
      case ColumnKind::kInt32: {
        arrow::Int32Builder b;
        for (size_t r : order)
          EXPECT_TRUE((value_of(r).IsNull() ? b.AppendNull() : b.Append(value_of(r).as<int32_t>())).ok());
        array = b.Finish().ValueOrDie();
        break;
      }
      case ColumnKind::kFloat64: {
        arrow::DoubleBuilder b;
        for (size_t r : order) {
          const YAML::Node v = value_of(r);
          if (v.IsNull()) {
            EXPECT_TRUE(b.AppendNull().ok());
          } else if (v.as<std::string>() == "nan") {
            EXPECT_TRUE(b.Append(std::nan("")).ok());
          } else {
            EXPECT_TRUE(b.Append(v.as<double>()).ok());
          }
        }
        array = b.Finish().ValueOrDie();
        break;
      }
      case ColumnKind::kString: {
        arrow::StringBuilder b;
        for (size_t r : order)
          EXPECT_TRUE((value_of(r).IsNull() ? b.AppendNull() : b.Append(value_of(r).as<std::string>())).ok());
        array = b.Finish().ValueOrDie();
        break;
      }
      case ColumnKind::kBool: {
        arrow::BooleanBuilder b;
        for (size_t r : order)
          EXPECT_TRUE((value_of(r).IsNull() ? b.AppendNull() : b.Append(value_of(r).as<bool>())).ok());
        array = b.Finish().ValueOrDie();
        break;
      }
    }
    fields.push_back(arrow::field(columns[c], array->type()));
    arrays.push_back(std::move(array));
  }
  return arrow::RecordBatch::Make(arrow::schema(fields), static_cast<int64_t>(order.size()), arrays);
}

class MetricCase : public ::testing::TestWithParam<std::string> {};

TEST_P(MetricCase, MatchesExpected) {
  const std::string path = GetParam();
  const YAML::Node doc = YAML::LoadFile(path);
  const Date day = *Date::Parse(doc["day"] ? doc["day"].as<std::string>() : "2026-01-30");
  const int64_t listing = doc["listing"] ? doc["listing"].as<int64_t>() : 1;

  // The pass shape, with the engine's defaults.
  const YAML::Node pass = doc["pass"];
  auto get = [&](const char* key, const char* fallback) {
    return pass && pass[key] ? pass[key].as<std::string>() : std::string(fallback);
  };
  const std::string timeline_name = get("timeline", "sparse");
  const TimelineKind timeline = timeline_name == "dense"   ? TimelineKind::kDense
                                : timeline_name == "daily" ? TimelineKind::kDaily
                                                           : TimelineKind::kSparse;
  const int64_t bucket = *ParseDuration(get("bucket", "1m"));
  const TimeGrid grid =
      timeline == TimelineKind::kDaily
          ? DailyGrid()
          : TimeGrid(bucket, get("anchor", "end") == "end" ? BucketAnchor::kEnd : BucketAnchor::kStart,
                     get("closed", "right") == "right" ? BucketClosed::kRight : BucketClosed::kLeft);
  const std::string padding_text = get("session_padding", "10m");
  const int64_t padding = padding_text.starts_with("0") ? 0 : *ParseDuration(padding_text);
  const PassShape shape{grid, timeline};

  // The module.
  const std::string module_name = doc["module"].as<std::string>();
  const ModuleInfo* info = FindModule(module_name);
  ASSERT_NE(info, nullptr) << "unknown module " << module_name;
  ConfigDiagnostics diag(path);
  YAML::Node options = doc["options"] ? doc["options"] : YAML::Node(YAML::NodeType::Map);
  std::vector<std::unique_ptr<Module>> modules;
  modules.push_back(info->create(YamlValue{options, "options", diag.LocationOf(options)}, shape, &diag));
  ASSERT_TRUE(diag.ToStatus().ok()) << diag.ToStatus().ToString();

  // Tables: those given, in catalogue order; the module's other inputs are empty.
  std::vector<Table> tables;
  for (const auto& spec : AllTables()) {
    const bool given = doc["tables"] && doc["tables"][std::string(spec.key)];
    bool read = false;
    for (const auto& input : modules[0]->inputs()) read = read || input.table == spec.table;
    if (given || read) tables.push_back(spec.table);
  }
  std::vector<ListingTable> views;
  for (Table table : tables) {
    const YAML::Node spec = doc["tables"] ? doc["tables"][std::string(SpecOf(table).key)] : YAML::Node();
    if (!spec) {
      views.emplace_back();
      continue;
    }
    auto batch = BuildTable(table, spec, day, listing);
    views.emplace_back(batch, batch->schema()->GetFieldIndex(std::string(SpecOf(table).event_time_column)));
  }
  ListingDayComputer computer(modules, shape, padding, tables);
  std::vector<int64_t> labels;
  std::vector<OutputBlock> blocks;
  const Status status = computer.Compute(listing, day, views, &labels, &blocks);
  ASSERT_TRUE(status.ok()) << status.ToString();

  const YAML::Node expected = doc["expected"];
  if (expected["row_count"]) {
    EXPECT_EQ(labels.size(), expected["row_count"].as<size_t>());
  }
  const double tolerance = expected["tolerance"] ? expected["tolerance"].as<double>() : 1e-9;
  const auto columns = expected["columns"].as<std::vector<std::string>>();
  ASSERT_EQ(columns.front(), "TimeBucket");
  const auto& outputs = modules[0]->outputs();
  for (const auto& row : expected["rows"]) {
    const int64_t label = ParseTime(row[0], day);
    const auto at = std::lower_bound(labels.begin(), labels.end(), label);
    ASSERT_TRUE(at != labels.end() && *at == label) << "no output row " << row[0].as<std::string>();
    const size_t r = static_cast<size_t>(at - labels.begin());
    for (size_t c = 1; c < columns.size(); ++c) {
      const auto out = std::find_if(outputs.begin(), outputs.end(),
                                    [&](const OutputColumn& o) { return o.name == columns[c]; });
      ASSERT_NE(out, outputs.end()) << "module has no column " << columns[c];
      const auto& column = blocks[0].column(static_cast<size_t>(out - outputs.begin()));
      const std::string where = fmt::format("{} at {}", columns[c], row[0].as<std::string>());
      const YAML::Node want = row[c];
      if (want.IsNull()) {
        EXPECT_FALSE(column.valid[r]) << where << " should be null";
        continue;
      }
      ASSERT_TRUE(column.valid[r]) << where << " is null";
      switch (column.type) {
        case ValueType::kInt64: EXPECT_EQ(column.i64[r], want.as<int64_t>()) << where; break;
        case ValueType::kString: EXPECT_EQ(column.str[r], want.as<std::string>()) << where; break;
        case ValueType::kFloat64: {
          const double w = want.as<double>();
          EXPECT_NEAR(column.f64[r], w, tolerance + 1e-9 * std::abs(w)) << where;
          break;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, MetricCase, ::testing::ValuesIn(CaseFiles()),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           const fs::path p(param.param);
                           std::string name = p.parent_path().filename().string() + "_" + p.stem().string();
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace intraday
