#include "metrics/execution.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string_view>

namespace intraday {
namespace {

enum Group : size_t { kExecutions, kLit, kDark, kImbalance, kNumGroups };
constexpr std::array<std::string_view, kNumGroups> kGroupKeys{"executions", "lit", "dark", "imbalance"};

constexpr std::array<std::string_view, 2> kBookSides{"Bid", "Ask"};
constexpr std::array<std::string_view, 3> kAggressors{"Buy", "Sell", "Unknown"};
constexpr std::array<std::string_view, 2> kVenues{"Lit", "Dark"};

struct ExecutionSelection {
  std::array<bool, kNumGroups> groups{};
  std::vector<std::string> lit_types{"LIT"};
  std::vector<std::string> dark_types{"DARK"};

  bool NeedsL3() const { return groups[kExecutions] || groups[kImbalance]; }
  bool NeedsTrades() const { return groups[kLit] || groups[kDark]; }
};

/// Sums of one (venue, aggressor) class of trades in one bucket.
struct TradeSums {
  double volume = 0;
  double price_volume = 0;  // sum p * Size over priced trades
  double priced_volume = 0;
  double placement = 0;  // sum (2 clamp(PricePoint) - 1) * Size
  double placed_volume = 0;
};

struct Bucket {
  std::array<int64_t, 2> executed{};
  std::array<double, 2> exec_notional{};
  std::array<int64_t, 2> exec_priced{};
  std::array<std::array<TradeSums, 3>, 2> trades{};  // [venue][aggressor]
};

bool Usable(const arrow::DoubleArray* col, int64_t r) {
  return col != nullptr && !col->IsNull(r) && std::isfinite(col->Value(r));
}

class ExecutionModule final : public Module {
 public:
  explicit ExecutionModule(ExecutionSelection selection) : selection_(std::move(selection)) {
    if (selection_.NeedsTrades()) {
      trades_input_ = inputs_.size();
      inputs_.push_back(
          {Table::kTrades,
           {"Size", std::string(kLocalPriceColumn), "PricePoint", "BMLLTradeType", "AggressorSide"}});
    }
    if (selection_.NeedsL3()) {
      l3_input_ = inputs_.size();
      inputs_.push_back({Table::kL3, {"Side", "ExecutionSize", "ExecutionPrice"}});
    }
    if (selection_.groups[kExecutions]) {
      for (std::string_view side : kBookSides) {
        Add("ExecutedVolume" + std::string(side), ValueType::kInt64, "shares",
            "sum of ExecutionSize over L3 executions against resting " + std::string(side) + " orders");
      }
      for (std::string_view side : kBookSides) {
        Add("ExecutionVwap" + std::string(side), ValueType::kFloat64, "price",
            "sum(ExecutionPrice * ExecutionSize) / sum(ExecutionSize) over L3 executions against resting " +
                std::string(side) + " orders");
      }
    }
    for (size_t venue = 0; venue < 2; ++venue) {
      if (!selection_.groups[venue == 0 ? kLit : kDark]) continue;
      const std::string v(kVenues[venue]);
      const std::string types = venue == 0 ? Joined(selection_.lit_types) : Joined(selection_.dark_types);
      for (std::string_view aggressor : kAggressors) {
        Add(v + "Volume" + std::string(aggressor) + "Aggressor", ValueType::kFloat64, "shares",
            "sum of Size over " + types + " prints, aggressor " + std::string(aggressor));
      }
      for (std::string_view aggressor : kAggressors) {
        Add(v + "VWAP" + std::string(aggressor) + "Aggressor", ValueType::kFloat64, "price",
            "sum(LocalPrice * Size) / sum(Size) over " + types + " prints, aggressor " +
                std::string(aggressor));
      }
      for (std::string_view aggressor : kAggressors) {
        Add(v + "VolumeWeightedPricePlacement" + std::string(aggressor) + "Aggressor", ValueType::kFloat64,
            "",
            "sum((2 clamp(PricePoint, 0, 1) - 1) * Size) / sum(Size) over " + types + " prints, aggressor " +
                std::string(aggressor));
      }
    }
    if (selection_.groups[kImbalance]) {
      Add("TradeImbalance", ValueType::kFloat64, "",
          "(ExecutedVolumeAsk - ExecutedVolumeBid) / (ExecutedVolumeAsk + ExecutedVolumeBid); null when 0");
    }
  }

  std::string_view name() const override { return "execution"; }
  const std::vector<InputTable>& inputs() const override { return inputs_; }
  const std::vector<OutputColumn>& outputs() const override { return outputs_; }

  /// Every value is a sum or ratio over the bucket's own events: nothing is carried.
  bool streams_over_time() const override { return true; }

  Status Compute(const ListingDay& listing, OutputBlock& out) const override {
    std::vector<Bucket> buckets(out.rows());
    if (l3_input_ != kNone)
      INTRADAY_RETURN_NOT_OK(AccumulateL3(listing, *listing.tables[l3_input_], buckets));
    if (trades_input_ != kNone) {
      INTRADAY_RETURN_NOT_OK(AccumulateTrades(listing, *listing.tables[trades_input_], buckets));
    }
    Write(buckets, out);
    return Status::OK();
  }

 private:
  static constexpr size_t kNone = static_cast<size_t>(-1);

  static std::string Joined(const std::vector<std::string>& types) {
    std::string out;
    for (const auto& t : types) out += (out.empty() ? "" : "/") + t;
    return out;
  }

  void Add(std::string name, ValueType type, std::string unit, std::string description) {
    outputs_.push_back({std::move(name), type, std::move(unit), std::move(description)});
  }

  template <typename Array>
  static Result<const Array*> Optional(const ListingTable& table, std::string_view column,
                                       Result<const Array*> (ListingTable::*get)(std::string_view) const) {
    if (!table.has_column(column)) return static_cast<const Array*>(nullptr);
    return (table.*get)(column);
  }

  static Status AccumulateL3(const ListingDay& listing, const ListingTable& l3,
                             std::vector<Bucket>& buckets) {
    if (l3.empty()) return Status::OK();
    using I = arrow::Int64Array;
    INTRADAY_ASSIGN_OR_RAISE(const I* side, Optional<I>(l3, "Side", &ListingTable::Int64));
    INTRADAY_ASSIGN_OR_RAISE(const I* size, Optional<I>(l3, "ExecutionSize", &ListingTable::Int64));
    INTRADAY_ASSIGN_OR_RAISE(const arrow::DoubleArray* price,
                             Optional<arrow::DoubleArray>(l3, "ExecutionPrice", &ListingTable::Float64));
    if (side == nullptr || size == nullptr) return Status::OK();
    for (int64_t r = 0; r < l3.size(); ++r) {
      if (side->IsNull(r) || size->IsNull(r) || size->Value(r) <= 0) continue;
      const int64_t code = side->Value(r);
      if (code != 1 && code != 2) continue;
      const size_t s = static_cast<size_t>(code - 1);
      Bucket& b = buckets[listing.RowOf(l3.times()[r])];
      b.executed[s] += size->Value(r);
      if (Usable(price, r)) {
        b.exec_notional[s] += price->Value(r) * static_cast<double>(size->Value(r));
        b.exec_priced[s] += size->Value(r);
      }
    }
    return Status::OK();
  }

  Status AccumulateTrades(const ListingDay& listing, const ListingTable& trades,
                          std::vector<Bucket>& buckets) const {
    if (trades.empty()) return Status::OK();
    using D = arrow::DoubleArray;
    INTRADAY_ASSIGN_OR_RAISE(const D* size, Optional<D>(trades, "Size", &ListingTable::Float64));
    INTRADAY_ASSIGN_OR_RAISE(const D* price, Optional<D>(trades, kLocalPriceColumn, &ListingTable::Float64));
    INTRADAY_ASSIGN_OR_RAISE(const D* point, Optional<D>(trades, "PricePoint", &ListingTable::Float64));
    INTRADAY_ASSIGN_OR_RAISE(const arrow::StringArray* type,
                             Optional<arrow::StringArray>(trades, "BMLLTradeType", &ListingTable::String));
    INTRADAY_ASSIGN_OR_RAISE(const arrow::Int64Array* aggressor,
                             Optional<arrow::Int64Array>(trades, "AggressorSide", &ListingTable::Int64));
    if (type == nullptr || size == nullptr) return Status::OK();
    auto is_in = [](const std::vector<std::string>& list, std::string_view value) {
      return std::find(list.begin(), list.end(), value) != list.end();
    };
    for (int64_t r = 0; r < trades.size(); ++r) {
      if (type->IsNull(r) || !Usable(size, r)) continue;
      const std::string_view kind = type->GetView(r);
      size_t venue;
      if (selection_.groups[kLit] && is_in(selection_.lit_types, kind)) {
        venue = 0;
      } else if (selection_.groups[kDark] && is_in(selection_.dark_types, kind)) {
        venue = 1;
      } else {
        continue;
      }
      const int64_t side = aggressor == nullptr || aggressor->IsNull(r) ? 0 : aggressor->Value(r);
      const size_t a = side == 1 ? 0 : side == 2 ? 1 : 2;
      TradeSums& sums = buckets[listing.RowOf(trades.times()[r])].trades[venue][a];
      const double q = size->Value(r);
      sums.volume += q;
      if (Usable(price, r)) {
        sums.price_volume += price->Value(r) * q;
        sums.priced_volume += q;
      }
      if (Usable(point, r)) {
        sums.placement += (2.0 * std::clamp(point->Value(r), 0.0, 1.0) - 1.0) * q;
        sums.placed_volume += q;
      }
    }
    return Status::OK();
  }

  void Write(const std::vector<Bucket>& buckets, OutputBlock& out) const {
    size_t column = 0;
    const size_t rows = buckets.size();
    if (selection_.groups[kExecutions]) {
      for (size_t s = 0; s < 2; ++s, ++column) {
        out.FillInt64(column, 0);
        for (size_t row = 0; row < rows; ++row) out.SetInt64(column, row, buckets[row].executed[s]);
      }
      for (size_t s = 0; s < 2; ++s, ++column) {
        for (size_t row = 0; row < rows; ++row) {
          const Bucket& b = buckets[row];
          if (b.exec_priced[s] > 0) {
            out.SetFloat64(column, row, b.exec_notional[s] / static_cast<double>(b.exec_priced[s]));
          }
        }
      }
    }
    for (size_t venue = 0; venue < 2; ++venue) {
      if (!selection_.groups[venue == 0 ? kLit : kDark]) continue;
      for (size_t a = 0; a < 3; ++a, ++column) {
        out.FillFloat64(column, 0.0);
        for (size_t row = 0; row < rows; ++row)
          out.SetFloat64(column, row, buckets[row].trades[venue][a].volume);
      }
      for (size_t a = 0; a < 3; ++a, ++column) {
        for (size_t row = 0; row < rows; ++row) {
          const TradeSums& t = buckets[row].trades[venue][a];
          if (t.priced_volume > 0) out.SetFloat64(column, row, t.price_volume / t.priced_volume);
        }
      }
      for (size_t a = 0; a < 3; ++a, ++column) {
        for (size_t row = 0; row < rows; ++row) {
          const TradeSums& t = buckets[row].trades[venue][a];
          if (t.placed_volume > 0) out.SetFloat64(column, row, t.placement / t.placed_volume);
        }
      }
    }
    if (selection_.groups[kImbalance]) {
      for (size_t row = 0; row < rows; ++row) {
        const Bucket& b = buckets[row];
        const int64_t total = b.executed[0] + b.executed[1];
        if (total > 0) {
          out.SetFloat64(column, row,
                         static_cast<double>(b.executed[1] - b.executed[0]) / static_cast<double>(total));
        }
      }
      ++column;
    }
  }

  ExecutionSelection selection_;
  std::vector<InputTable> inputs_;
  std::vector<OutputColumn> outputs_;
  size_t trades_input_ = kNone;
  size_t l3_input_ = kNone;
};

std::optional<std::vector<std::string>> ReadTypes(const YamlValue& value, ConfigDiagnostics* diag) {
  auto items = ReadList(value, diag, "[DARK, OTC]");
  if (!items) return std::nullopt;
  std::vector<std::string> types;
  bool ok = true;
  for (const auto& item : *items) {
    if (auto text = ReadNonEmptyString(item, diag, "a BMLLTradeType value (LIT, DARK, OTC, UNKNOWN)")) {
      if (std::find(types.begin(), types.end(), *text) == types.end()) types.push_back(*text);
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return types;
}

}  // namespace

std::unique_ptr<Module> CreateExecutionModule(const YamlValue& options, const PassShape& /*pass*/,
                                              ConfigDiagnostics* diag) {
  static constexpr std::array<std::string_view, 3> kKeys{"include", "lit_types", "dark_types"};
  const size_t errors_before = diag->error_count();
  MapReader reader(options, kKeys, diag);
  ExecutionSelection selection;
  if (const YamlValue* list = reader.Find("include")) {
    if (auto chosen = ReadChoices(*list, diag, kGroupKeys, "[executions, lit, dark, imbalance]",
                                  "expected at least one of executions, lit, dark, imbalance")) {
      for (size_t choice : *chosen) selection.groups[choice] = true;
    }
  } else {
    selection.groups.fill(true);
  }
  const YamlValue* lit = reader.Find("lit_types");
  const YamlValue* dark = reader.Find("dark_types");
  if (lit != nullptr) {
    if (auto types = ReadTypes(*lit, diag)) selection.lit_types = std::move(*types);
  }
  if (dark != nullptr) {
    if (auto types = ReadTypes(*dark, diag)) selection.dark_types = std::move(*types);
  }
  for (const auto& type : selection.lit_types) {
    if (std::find(selection.dark_types.begin(), selection.dark_types.end(), type) !=
        selection.dark_types.end()) {
      const YamlValue* where = dark != nullptr ? dark : lit != nullptr ? lit : &options;
      diag->Error(where->location, where->path,
                  "BMLLTradeType '" + type + "' is both in lit_types and dark_types");
    }
  }
  if (diag->error_count() != errors_before) return nullptr;
  return std::make_unique<ExecutionModule>(std::move(selection));
}

}  // namespace intraday
