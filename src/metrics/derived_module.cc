#include "metrics/derived_module.h"

#include <algorithm>
#include <array>

#include <arrow/array.h>

namespace intraday {
namespace {

constexpr std::array kStandardColumns{
    UniverseColumnType{"ListingId", &arrow::int64},   UniverseColumnType{"InstrumentId", &arrow::int64},
    UniverseColumnType{"MIC", &arrow::utf8},          UniverseColumnType{"Ticker", &arrow::utf8},
    UniverseColumnType{"ISIN", &arrow::utf8},         UniverseColumnType{"CurrencyCode", &arrow::utf8},
    UniverseColumnType{"IsPrimary", &arrow::boolean},
};

/// -1, 0, 1 comparison of two non-null values of one column.
int CompareValues(const arrow::Array& column, int64_t a, int64_t b) {
  switch (column.type_id()) {
    case arrow::Type::INT64: {
      const auto& c = static_cast<const arrow::Int64Array&>(column);
      return c.Value(a) < c.Value(b) ? -1 : (c.Value(a) > c.Value(b) ? 1 : 0);
    }
    case arrow::Type::BOOL: {
      const auto& c = static_cast<const arrow::BooleanArray&>(column);
      return static_cast<int>(c.Value(a)) - static_cast<int>(c.Value(b));
    }
    case arrow::Type::STRING: {
      const auto& c = static_cast<const arrow::StringArray&>(column);
      const int cmp = c.GetView(a).compare(c.GetView(b));
      return cmp < 0 ? -1 : (cmp > 0 ? 1 : 0);
    }
    default: return 0;
  }
}

}  // namespace

std::span<const UniverseColumnType> StandardUniverseColumns() { return kStandardColumns; }

std::shared_ptr<arrow::DataType> StandardUniverseColumnType(std::string_view name) {
  for (const auto& c : kStandardColumns) {
    if (c.name == name) return c.type();
  }
  return nullptr;
}

std::shared_ptr<arrow::Schema> ConfiguredUniverseSchema(const std::vector<std::string>& universe_columns) {
  arrow::FieldVector fields{arrow::field("ListingId", arrow::int64())};
  for (const auto& c : universe_columns) {
    if (c == "ListingId") continue;
    auto type = StandardUniverseColumnType(c);
    fields.push_back(arrow::field(c, type ? type : arrow::utf8()));
  }
  return arrow::schema(std::move(fields));
}

Result<ListingGroups> GroupListings(const arrow::Table& universe, std::span<const std::string> keys) {
  INTRADAY_ASSIGN_OR_RAISE(auto combined, universe.CombineChunksToBatch());
  const auto ids_array = combined->GetColumnByName("ListingId");
  if (ids_array == nullptr || ids_array->type_id() != arrow::Type::INT64)
    return Status::Invalid("universe table without an int64 ListingId column");
  const auto& ids = static_cast<const arrow::Int64Array&>(*ids_array);
  std::vector<std::shared_ptr<arrow::Array>> columns;
  for (const auto& key : keys) {
    auto column = combined->GetColumnByName(key);
    if (column == nullptr) return Status::Invalid("universe table without the key column '", key, "'");
    const auto id = column->type_id();
    if (id != arrow::Type::INT64 && id != arrow::Type::STRING && id != arrow::Type::BOOL)
      return Status::Invalid("key column '", key, "' has type ", column->type()->ToString());
    columns.push_back(std::move(column));
  }
  ListingGroups groups;
  std::vector<int64_t> rows;
  for (int64_t r = 0; r < combined->num_rows(); ++r) {
    const bool null_key =
        std::any_of(columns.begin(), columns.end(), [&](const auto& c) { return c->IsNull(r); });
    if (null_key) {
      groups.excluded.push_back(ids.Value(r));
    } else {
      rows.push_back(r);
    }
  }
  auto compare = [&](int64_t a, int64_t b) {
    for (const auto& c : columns) {
      if (const int cmp = CompareValues(*c, a, b); cmp != 0) return cmp;
    }
    return 0;
  };
  // Stable, with ListingId as the last tie-break, so that group numbers never depend on the order
  // of the universe rows.
  std::stable_sort(rows.begin(), rows.end(), [&](int64_t a, int64_t b) {
    const int cmp = compare(a, b);
    return cmp != 0 ? cmp < 0 : ids.Value(a) < ids.Value(b);
  });
  for (int64_t r : rows) {
    if (groups.key_row.empty() || compare(groups.key_row.back(), r) != 0) groups.key_row.push_back(r);
    groups.group_of[ids.Value(r)] = groups.size() - 1;
  }
  std::sort(groups.excluded.begin(), groups.excluded.end());
  return groups;
}

int64_t ResampleLabel(int64_t label, const TimeGrid& from, const TimeGrid& to) {
  const int64_t begin = from.IntervalBegin(label);
  const int64_t m = to.length();
  const int64_t start = (begin >= 0 ? begin / m : -((-begin + m - 1) / m)) * m;
  return to.anchor() == BucketAnchor::kEnd ? start + m : start;
}

}  // namespace intraday
