#include "metrics/activity.h"

#include <array>

namespace intraday {
namespace {

std::string Capitalised(std::string_view key) {
  std::string out(key);
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  if (out == "Marketstate") out = "MarketState";
  if (out == "L2" || out == "L3") return out;
  return out;
}

class ActivityModule final : public Module {
 public:
  explicit ActivityModule(std::vector<Table> tables) {
    for (Table table : tables) {
      InputTable input{table, {}};
      if (table == Table::kTrades) input.columns.push_back("Size");
      inputs_.push_back(std::move(input));
      outputs_.push_back(
          {"Activity" + Capitalised(SpecOf(table).key) + "Count", ValueType::kInt64, "events",
           std::string("number of ") + std::string(SpecOf(table).key) + " rows in the bucket"});
    }
    for (size_t i = 0; i < inputs_.size(); ++i) {
      if (inputs_[i].table == Table::kTrades) {
        trades_input_ = i;
        outputs_.push_back({"ActivityTradesVolume", ValueType::kFloat64, "shares",
                            "sum of Size over every trade print of the bucket"});
      }
    }
  }

  std::string_view name() const override { return "activity"; }
  const std::vector<InputTable>& inputs() const override { return inputs_; }
  const std::vector<OutputColumn>& outputs() const override { return outputs_; }

  /// Every value is a sum or ratio over the bucket's own events: nothing is carried.
  bool streams_over_time() const override { return true; }

  Status Compute(const ListingDay& listing, OutputBlock& out) const override {
    for (size_t i = 0; i < inputs_.size(); ++i) {
      out.FillInt64(i, 0);
      const ListingTable& table = *listing.tables[i];
      for (int64_t row = 0; row < table.size(); ++row) {
        const size_t bucket = listing.RowOf(table.times()[row]);
        out.SetInt64(i, bucket, out.column(i).i64[bucket] + 1);
      }
    }
    if (trades_input_ != kNone) {
      const size_t column = inputs_.size();
      out.FillFloat64(column, 0.0);
      const ListingTable& trades = *listing.tables[trades_input_];
      if (trades.empty()) return Status::OK();  // a listing with book events and no trade
      INTRADAY_ASSIGN_OR_RAISE(const arrow::DoubleArray* size, trades.Float64("Size"));
      for (int64_t row = 0; row < trades.size(); ++row) {
        if (size->IsNull(row)) continue;
        const size_t bucket = listing.RowOf(trades.times()[row]);
        out.SetFloat64(column, bucket, out.column(column).f64[bucket] + size->Value(row));
      }
    }
    return Status::OK();
  }

 private:
  static constexpr size_t kNone = static_cast<size_t>(-1);
  std::vector<InputTable> inputs_;
  std::vector<OutputColumn> outputs_;
  size_t trades_input_ = kNone;
};

}  // namespace

std::unique_ptr<Module> CreateActivityModule(const YamlValue& options, const PassShape& /*pass*/,
                                             ConfigDiagnostics* diag) {
  static constexpr std::array<std::string_view, 1> kKeys{"tables"};
  static constexpr std::array<std::string_view, 4> kTables{"trades", "l2", "l3", "marketstate"};
  const size_t errors_before = diag->error_count();
  MapReader reader(options, kKeys, diag);
  std::vector<Table> tables;
  if (const YamlValue* list = reader.Find("tables")) {
    if (auto chosen = ReadChoices(*list, diag, kTables, "[trades, l2]", "expected at least one table")) {
      for (size_t choice : *chosen) tables.push_back(*TableFromKey(kTables[choice]));
    }
  } else {
    tables.push_back(Table::kTrades);
  }
  if (diag->error_count() != errors_before) return nullptr;
  return std::make_unique<ActivityModule>(std::move(tables));
}

}  // namespace intraday
