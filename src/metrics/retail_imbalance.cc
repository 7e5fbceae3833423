#include "metrics/retail_imbalance.h"

#include <array>
#include <cmath>

#include "metrics/trade_filters.h"

namespace intraday {
namespace {

using namespace trade_internal;

class RetailImbalanceModule final : public Module {
 public:
  explicit RetailImbalanceModule(TradeFilterOptions filters) : filters_(std::move(filters)) {
    std::vector<std::string> cols{"BMLLParticipantType", "AggressorSide", "TradeNotionalEUR"};
    filters_.AddColumns(&cols);
    inputs_.push_back({Table::kTrades, std::move(cols)});
    outputs_.push_back(
        {"RetailImbalance", ValueType::kFloat64, "",
         "sum(s*TradeNotionalEUR)/sum(TradeNotionalEUR) over RETAIL filtered trades, s = +1 buy, "
         "-1 sell, unknown side excluded; in [-1, 1]"});
  }

  std::string_view name() const override { return "retail_imbalance"; }
  const std::vector<InputTable>& inputs() const override { return inputs_; }
  const std::vector<OutputColumn>& outputs() const override { return outputs_; }

  /// Every value is a sum or ratio over the bucket's own events: nothing is carried.
  bool streams_over_time() const override { return true; }

  Status Compute(const ListingDay& listing, OutputBlock& out) const override {
    const ListingTable& t = *listing.tables[0];
    INTRADAY_ASSIGN_OR_RAISE(Str participant, GetStr(t, "BMLLParticipantType"));
    INTRADAY_ASSIGN_OR_RAISE(I64 aggressor, GetI64(t, "AggressorSide"));
    INTRADAY_ASSIGN_OR_RAISE(F64 eur, GetF64(t, "TradeNotionalEUR"));
    INTRADAY_ASSIGN_OR_RAISE(BoundTradeFilter filter, BoundTradeFilter::Bind(filters_, t));
    const int64_t n = t.size();
    // One pass in time order; a bucket's sums are flushed when the next bucket starts.
    size_t bucket = 0;
    double signed_sum = 0.0, sum = 0.0;
    auto flush = [&]() {
      if (sum > 0.0) out.SetFloat64(0, bucket, signed_sum / sum);
    };
    for (int64_t r = 0; r < n; ++r) {
      const size_t row = listing.RowOf(t.times()[r]);
      if (r == 0 || row != bucket) {
        if (r != 0) flush();
        bucket = row;
        signed_sum = sum = 0.0;
      }
      if (participant.Null(r) || participant(r) != "RETAIL" || !filter.Pass(r)) continue;
      const int side = SideOf(aggressor, r);
      const double notional = eur(r);
      if (side == 0 || std::isnan(notional)) continue;
      signed_sum += (side == 1 ? 1.0 : -1.0) * notional;
      sum += notional;
    }
    if (n > 0) flush();
    return Status::OK();
  }

 private:
  TradeFilterOptions filters_;
  std::vector<InputTable> inputs_;
  std::vector<OutputColumn> outputs_;
};

}  // namespace

std::unique_ptr<Module> CreateRetailImbalanceModule(const YamlValue& options, const PassShape& /*pass*/,
                                                    ConfigDiagnostics* diag) {
  static constexpr std::array<std::string_view, 3> kKeys{"classifications", "market_states", "filters"};
  const size_t errors_before = diag->error_count();
  MapReader reader(options, kKeys, diag);
  TradeFilterOptions filters = ReadTradeFilters(reader, diag);
  if (diag->error_count() != errors_before) return nullptr;
  return std::make_unique<RetailImbalanceModule>(std::move(filters));
}

}  // namespace intraday
