// Shared by the trade-based modules `trade` and `retail_imbalance`: the trade filters of
// metrics.md (classifications, market states, attribute filters), their options, and the
// null-aware column access the kernels use.
#pragma once

#include <array>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/registry.h"

namespace intraday::trade_internal {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// A float column that may be absent (then every value is null). NaN reads as null.
struct F64 {
  const arrow::DoubleArray* array = nullptr;
  double operator()(int64_t row) const {
    if (array == nullptr || array->IsNull(row)) return kNaN;
    return array->Value(row);
  }
};
struct Str {
  const arrow::StringArray* array = nullptr;
  bool Null(int64_t row) const { return array == nullptr || array->IsNull(row); }
  std::string_view operator()(int64_t row) const {
    return Null(row) ? std::string_view() : array->GetView(row);
  }
};
struct I64 {
  const arrow::Int64Array* array = nullptr;
  bool Null(int64_t row) const { return array == nullptr || array->IsNull(row); }
  int64_t operator()(int64_t row) const { return Null(row) ? 0 : array->Value(row); }
};

inline Result<F64> GetF64(const ListingTable& t, std::string_view c) {
  if (!t.has_column(c)) return F64{};
  INTRADAY_ASSIGN_OR_RAISE(auto a, t.Float64(c));
  return F64{a};
}
inline Result<Str> GetStr(const ListingTable& t, std::string_view c) {
  if (!t.has_column(c)) return Str{};
  INTRADAY_ASSIGN_OR_RAISE(auto a, t.String(c));
  return Str{a};
}
inline Result<I64> GetI64(const ListingTable& t, std::string_view c) {
  if (!t.has_column(c)) return I64{};
  INTRADAY_ASSIGN_OR_RAISE(auto a, t.Int64(c));
  return I64{a};
}

/// The trade price p: LocalPrice, or TradeNotional / Size when the view has no LocalPrice
/// (hand-written cases); NaN where unknown or Size is 0.
inline Result<std::vector<double>> TradePrices(const ListingTable& t) {
  std::vector<double> p(static_cast<size_t>(t.size()), kNaN);
  if (t.has_column(kLocalPriceColumn)) {
    INTRADAY_ASSIGN_OR_RAISE(F64 local, GetF64(t, kLocalPriceColumn));
    for (int64_t r = 0; r < t.size(); ++r) p[static_cast<size_t>(r)] = local(r);
  } else {
    INTRADAY_ASSIGN_OR_RAISE(F64 notional, GetF64(t, "TradeNotional"));
    INTRADAY_ASSIGN_OR_RAISE(F64 size, GetF64(t, "Size"));
    for (int64_t r = 0; r < t.size(); ++r) {
      const double s = size(r);
      if (s != 0.0) p[static_cast<size_t>(r)] = notional(r) / s;
    }
  }
  for (double& v : p) {
    if (!std::isfinite(v)) v = kNaN;
  }
  return p;
}

/// One attribute filter: `column` equal to one of `values` (compared as the column's type).
struct AttributeFilter {
  std::string column;
  std::vector<std::string> values;
};

/// The trade filters of metrics.md. Empty lists mean "no filter on that attribute".
struct TradeFilterOptions {
  std::vector<std::string> classifications{"LIT_CONTINUOUS"};
  std::vector<std::string> market_states;
  std::vector<AttributeFilter> attributes;

  /// The trade columns the filters read.
  void AddColumns(std::vector<std::string>* columns) const {
    auto add = [&](const std::string& c) {
      for (const auto& have : *columns) {
        if (have == c) return;
      }
      columns->push_back(c);
    };
    if (!classifications.empty()) add("Classification");
    if (!market_states.empty()) add("MarketState");
    for (const auto& a : attributes) add(a.column);
  }
};

/// Reads a list of strings ("[A, B]"), or one string as a one-item list.
inline std::optional<std::vector<std::string>> ReadStringList(const YamlValue& v, ConfigDiagnostics* diag,
                                                              std::string_view example) {
  std::vector<std::string> out;
  if (v.node.IsScalar()) {
    auto s = ReadNonEmptyString(v, diag, "a value");
    if (!s) return std::nullopt;
    out.push_back(*s);
    return out;
  }
  auto items = ReadList(v, diag, example);
  if (!items) return std::nullopt;
  bool ok = true;
  for (const auto& item : *items) {
    if (auto s = ReadNonEmptyString(item, diag, "a string")) {
      out.push_back(*s);
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

/// Reads `classifications`, `market_states` and `filters` from `reader` (the caller lists these
/// keys among its known keys).
inline TradeFilterOptions ReadTradeFilters(const MapReader& reader, ConfigDiagnostics* diag) {
  TradeFilterOptions f;
  if (const YamlValue* v = reader.Find("classifications")) {
    if (auto list = ReadStringList(*v, diag, "[LIT_CONTINUOUS, OFF_BOOK_ON_EXCHANGE]"))
      f.classifications = *list;
  }
  if (const YamlValue* v = reader.Find("market_states")) {
    if (auto list = ReadStringList(*v, diag, "[CONTINUOUS_TRADING]")) {
      f.market_states = *list;
      if (list->empty()) diag->Error(v->location, v->path, "expected at least one market state");
    }
  }
  if (const YamlValue* v = reader.Find("filters")) {
    if (!v->node.IsMap() && !v->node.IsNull()) {
      diag->Error(v->location, v->path,
                  "expected a map column -> value or list of values, got " + DescribeNode(v->node));
    } else if (v->node.IsMap()) {
      for (const auto& kv : v->node) {
        const std::string column = kv.first.as<std::string>();
        YamlValue value{kv.second, ChildPath(v->path, column), diag->LocationOf(kv.second)};
        if (value.location.line == 0) value.location = v->location;
        const auto kind = KnownColumnKind(Table::kTrades, column);
        if (kind && *kind != ColumnKind::kString && *kind != ColumnKind::kInt64 &&
            *kind != ColumnKind::kFloat64) {
          diag->Error(
              value.location, value.path,
              "cannot filter on column '" + column + "' of type " + std::string(ColumnKindName(*kind)));
          continue;
        }
        auto list = ReadStringList(value, diag, "[LIT, DARK]");
        if (!list) continue;
        if (list->empty()) {
          diag->Error(value.location, value.path, "expected at least one value");
          continue;
        }
        if (kind && *kind != ColumnKind::kString) {
          bool ok = true;
          for (const auto& s : *list) {
            char* end = nullptr;
            if (*kind == ColumnKind::kInt64) {
              (void)std::strtoll(s.c_str(), &end, 10);
            } else {
              (void)std::strtod(s.c_str(), &end);
            }
            if (end == s.c_str() || *end != '\0') {
              diag->Error(value.location, value.path,
                          "expected a number for column '" + column + "', got '" + s + "'");
              ok = false;
            }
          }
          if (!ok) continue;
        }
        f.attributes.push_back({column, *list});
      }
    }
  }
  return f;
}

/// The filters bound to one listing-day's trades.
class BoundTradeFilter {
 public:
  static Result<BoundTradeFilter> Bind(const TradeFilterOptions& options, const ListingTable& t) {
    BoundTradeFilter b;
    b.options_ = &options;
    INTRADAY_ASSIGN_OR_RAISE(b.classification_, GetStr(t, "Classification"));
    INTRADAY_ASSIGN_OR_RAISE(b.market_state_, GetStr(t, "MarketState"));
    for (const auto& a : options.attributes) {
      Attr attr;
      attr.kind = KnownColumnKind(Table::kTrades, a.column).value_or(ColumnKind::kString);
      switch (attr.kind) {
        case ColumnKind::kInt64: {
          INTRADAY_ASSIGN_OR_RAISE(attr.i64, GetI64(t, a.column));
          for (const auto& s : a.values) attr.ints.push_back(std::strtoll(s.c_str(), nullptr, 10));
          break;
        }
        case ColumnKind::kFloat64: {
          INTRADAY_ASSIGN_OR_RAISE(attr.f64, GetF64(t, a.column));
          for (const auto& s : a.values) attr.doubles.push_back(std::strtod(s.c_str(), nullptr));
          break;
        }
        default: {
          INTRADAY_ASSIGN_OR_RAISE(attr.str, GetStr(t, a.column));
          attr.strings = a.values;
          break;
        }
      }
      b.attributes_.push_back(std::move(attr));
    }
    return b;
  }

  bool Pass(int64_t row) const {
    if (!options_->classifications.empty() && !In(classification_, row, options_->classifications))
      return false;
    if (!options_->market_states.empty() && !In(market_state_, row, options_->market_states)) return false;
    for (const auto& a : attributes_) {
      switch (a.kind) {
        case ColumnKind::kInt64: {
          if (a.i64.Null(row)) return false;
          const int64_t v = a.i64(row);
          if (std::find(a.ints.begin(), a.ints.end(), v) == a.ints.end()) return false;
          break;
        }
        case ColumnKind::kFloat64: {
          const double v = a.f64(row);
          if (std::find(a.doubles.begin(), a.doubles.end(), v) == a.doubles.end()) return false;
          break;
        }
        default:
          if (!In(a.str, row, a.strings)) return false;
      }
    }
    return true;
  }

 private:
  struct Attr {
    ColumnKind kind = ColumnKind::kString;
    Str str;
    I64 i64;
    F64 f64;
    std::vector<std::string> strings;
    std::vector<int64_t> ints;
    std::vector<double> doubles;
  };
  static bool In(const Str& column, int64_t row, const std::vector<std::string>& values) {
    if (column.Null(row)) return false;
    const std::string_view v = column(row);
    for (const auto& want : values) {
      if (v == want) return true;
    }
    return false;
  }

  const TradeFilterOptions* options_ = nullptr;
  Str classification_;
  Str market_state_;
  std::vector<Attr> attributes_;
};

/// Aggressor side of a trade: 1 buy, 2 sell, 0 unknown (also for null or other codes).
inline int SideOf(const I64& aggressor, int64_t row) {
  if (aggressor.Null(row)) return 0;
  const int64_t v = aggressor(row);
  return v == 1 || v == 2 ? static_cast<int>(v) : 0;
}

}  // namespace intraday::trade_internal
