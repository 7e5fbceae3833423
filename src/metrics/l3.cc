#include "metrics/l3.h"

#include <algorithm>
#include <array>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace intraday {
namespace {

constexpr double kEps = 1e-9;

enum Action : size_t { kInsert, kRemove, kUpdate, kExecution, kNumActions };
constexpr std::array<std::string_view, kNumActions> kActionKeys{"insert", "remove", "update", "execution"};

enum Advanced : size_t {
  kArrivalFlowImbalance,
  kCancelToTradeRatio,
  kAvgQueuePosition,
  kAvgRestingTime,
  kFleetingLiquidityRatio,
  kAvgReplacementLatency,
  kNumAdvanced
};
constexpr std::array<std::string_view, kNumAdvanced> kAdvancedNames{
    "ArrivalFlowImbalance", "CancelToTradeRatio",     "AvgQueuePosition",
    "AvgRestingTime",       "FleetingLiquidityRatio", "AvgReplacementLatency"};

constexpr std::array<std::string_view, 2> kSides{"Bid", "Ask"};

/// What the module computes, fixed at construction.
struct L3Selection {
  std::array<bool, kNumActions> actions{};
  std::array<bool, kNumAdvanced> advanced{};
  int64_t fleeting_ns = 100 * 1'000'000;

  bool NeedsOrders() const { return advanced[kAvgRestingTime] || advanced[kFleetingLiquidityRatio]; }
};

/// The accumulators of one bucket.
struct Bucket {
  std::array<int64_t, 2> insert_count{}, insert_volume{};
  std::array<int64_t, 2> remove_count{}, remove_volume{};
  std::array<int64_t, 2> update_count{}, update_inserted{}, update_removed{};
  std::array<int64_t, 2> execution_count{}, execution_volume{};
  int64_t size_ahead_n = 0;
  long double size_ahead_sum = 0;
  int64_t resting_n = 0;
  long double resting_sum = 0;  // ns
  int64_t fleeting_volume = 0;
  int64_t latency_n = 0;
  long double latency_sum = 0;  // ns
};

/// A resting order being followed: when and in which bucket it was inserted, and its size.
struct LiveOrder {
  int64_t inserted_at = 0;
  size_t row = 0;
  int64_t size = 0;
};

class L3Module final : public Module {
 public:
  explicit L3Module(L3Selection selection) : selection_(selection) {
    InputTable input{Table::kL3, {"Side", "LobAction", "Size", "OldSize", "ExecutionSize"}};
    if (selection_.advanced[kAvgQueuePosition]) input.columns.push_back("SizeAhead");
    if (selection_.NeedsOrders()) {
      input.columns.push_back("OrderId");
      input.columns.push_back("OldOrderId");
    }
    inputs_.push_back(std::move(input));

    for (std::string_view side : kSides) {
      const std::string s(side);
      const std::string where = side == "Bid" ? " on the bid (Side 1)" : " on the ask (Side 2)";
      if (selection_.actions[kInsert]) {
        Add("InsertCount" + s, ValueType::kInt64, "messages", "inserts (LobAction 2)" + where);
        Add("InsertVolume" + s, ValueType::kInt64, "shares", "sum of Size over inserts" + where);
      }
      if (selection_.actions[kRemove]) {
        Add("RemoveCount" + s, ValueType::kInt64, "messages",
            "removes (LobAction 3, incl. full fills)" + where);
        Add("RemoveVolume" + s, ValueType::kInt64, "shares", "sum of OldSize over removes" + where);
      }
      if (selection_.actions[kUpdate]) {
        Add("UpdateCount" + s, ValueType::kInt64, "messages", "updates (LobAction 4)" + where);
        Add("UpdateInsertedVolume" + s, ValueType::kInt64, "shares", "sum of Size over updates" + where);
        Add("UpdateRemovedVolume" + s, ValueType::kInt64, "shares", "sum of OldSize over updates" + where);
      }
      if (selection_.actions[kExecution]) {
        Add("ExecutionCount" + s, ValueType::kInt64, "messages",
            "messages with ExecutionSize > 0 (any LobAction), resting order" + where);
        Add("ExecutionVolume" + s, ValueType::kInt64, "shares",
            "sum of ExecutionSize over executions" + where);
      }
    }
    if (selection_.advanced[kArrivalFlowImbalance]) {
      Add("ArrivalFlowImbalance", ValueType::kFloat64, "",
          "(InsertVolumeBid - InsertVolumeAsk) / (InsertVolumeBid + InsertVolumeAsk + 1e-9)");
    }
    if (selection_.advanced[kCancelToTradeRatio]) {
      Add("CancelToTradeRatio", ValueType::kFloat64, "",
          "(RemoveCountBid + RemoveCountAsk) / (executions + 1e-9); executions: ExecutionSize > 0");
    }
    if (selection_.advanced[kAvgQueuePosition]) {
      Add("AvgQueuePosition", ValueType::kFloat64, "shares",
          "mean SizeAhead over the executions of the bucket");
    }
    if (selection_.advanced[kAvgRestingTime]) {
      Add("AvgRestingTime", ValueType::kFloat64, "ns",
          "mean lifetime of the orders inserted in the bucket (to first remove or execution; censored at the "
          "listing-day's last event)");
    }
    if (selection_.advanced[kFleetingLiquidityRatio]) {
      Add("FleetingLiquidityRatio", ValueType::kFloat64, "",
          "inserted volume of orders removed or executed within fleeting_ms / (inserted volume + 1e-9)");
    }
    if (selection_.advanced[kAvgReplacementLatency]) {
      Add("AvgReplacementLatency", ValueType::kFloat64, "ns",
          "mean time from an execution of the bucket to the next insert on the same side");
    }
  }

  std::string_view name() const override { return "l3"; }
  const std::vector<InputTable>& inputs() const override { return inputs_; }
  const std::vector<OutputColumn>& outputs() const override { return outputs_; }

  /// Counts, volumes, their ratios and the queue position are sums over a bucket's own messages:
  /// they stream, with nothing carried. Following orders does not: an order's resting time and
  /// fleeting volume are credited to the bucket of its insert once it ends, maybe slices later,
  /// and an execution's replacement latency waits for the next insert on its side.
  bool streams_over_time() const override {
    return !selection_.NeedsOrders() && !selection_.advanced[kAvgReplacementLatency];
  }

  Status Compute(const ListingDay& listing, OutputBlock& out) const override {
    std::vector<Bucket> buckets(out.rows());
    INTRADAY_RETURN_NOT_OK(Accumulate(listing, buckets));
    Write(buckets, out);
    return Status::OK();
  }

 private:
  void Add(std::string name, ValueType type, std::string unit, std::string description) {
    outputs_.push_back({std::move(name), type, std::move(unit), std::move(description)});
  }

  template <typename Array>
  static Result<const Array*> Optional(const ListingTable& table, std::string_view column,
                                       Result<const Array*> (ListingTable::*get)(std::string_view) const) {
    if (!table.has_column(column)) return static_cast<const Array*>(nullptr);
    return (table.*get)(column);
  }

  Status Accumulate(const ListingDay& listing, std::vector<Bucket>& buckets) const {
    const ListingTable& l3 = *listing.tables[0];
    const int64_t n = l3.size();
    if (n == 0) return Status::OK();
    using I = arrow::Int64Array;
    using S = arrow::StringArray;
    INTRADAY_ASSIGN_OR_RAISE(const I* side_col, Optional<I>(l3, "Side", &ListingTable::Int64));
    INTRADAY_ASSIGN_OR_RAISE(const I* action_col, Optional<I>(l3, "LobAction", &ListingTable::Int64));
    INTRADAY_ASSIGN_OR_RAISE(const I* size_col, Optional<I>(l3, "Size", &ListingTable::Int64));
    INTRADAY_ASSIGN_OR_RAISE(const I* old_size_col, Optional<I>(l3, "OldSize", &ListingTable::Int64));
    INTRADAY_ASSIGN_OR_RAISE(const I* exec_size_col, Optional<I>(l3, "ExecutionSize", &ListingTable::Int64));
    INTRADAY_ASSIGN_OR_RAISE(const I* ahead_col, Optional<I>(l3, "SizeAhead", &ListingTable::Int64));
    INTRADAY_ASSIGN_OR_RAISE(const S* order_col, Optional<S>(l3, "OrderId", &ListingTable::String));
    INTRADAY_ASSIGN_OR_RAISE(const S* old_order_col, Optional<S>(l3, "OldOrderId", &ListingTable::String));

    auto int_at = [](const I* col, int64_t r) -> int64_t {
      return col == nullptr || col->IsNull(r) ? 0 : col->Value(r);
    };
    auto id_at = [](const S* col, int64_t r) -> std::string_view {
      return col == nullptr || col->IsNull(r) ? std::string_view() : col->GetView(r);
    };

    const bool track_orders = selection_.NeedsOrders();
    const bool track_latency = selection_.advanced[kAvgReplacementLatency];
    std::unordered_map<std::string_view, LiveOrder> live;
    // Executions waiting for the next insert on their side: (time, bucket).
    std::array<std::vector<std::pair<int64_t, size_t>>, 2> pending;

    auto end_order = [&](std::unordered_map<std::string_view, LiveOrder>::iterator it, int64_t t,
                         bool ended) {
      Bucket& b = buckets[it->second.row];
      const int64_t lifetime = t - it->second.inserted_at;
      b.resting_n += 1;
      b.resting_sum += static_cast<long double>(lifetime);
      if (ended && lifetime < selection_.fleeting_ns) b.fleeting_volume += it->second.size;
      live.erase(it);
    };

    const int64_t* times = l3.times();
    for (int64_t r = 0; r < n; ++r) {
      const int64_t side_code = int_at(side_col, r);
      if (side_code != 1 && side_code != 2) continue;  // not a side of the book: ignored
      const size_t s = static_cast<size_t>(side_code - 1);
      const int64_t t = times[r];
      const size_t row = listing.RowOf(t);
      Bucket& b = buckets[row];
      const int64_t action = int_at(action_col, r);
      const int64_t exec_size = int_at(exec_size_col, r);
      const bool executed = exec_size > 0;

      if (action == 2) {
        const int64_t size = int_at(size_col, r);
        b.insert_count[s] += 1;
        b.insert_volume[s] += size;
        if (track_latency) {
          for (const auto& [exec_time, exec_row] : pending[s]) {
            buckets[exec_row].latency_n += 1;
            buckets[exec_row].latency_sum += static_cast<long double>(t - exec_time);
          }
          pending[s].clear();
        }
        if (track_orders) {
          const std::string_view id = id_at(order_col, r);
          if (!id.empty()) {
            // A second insert of a live id ends the first one.
            if (auto it = live.find(id); it != live.end()) end_order(it, t, true);
            live.emplace(id, LiveOrder{t, row, size});
          }
        }
      } else if (action == 3) {
        b.remove_count[s] += 1;
        b.remove_volume[s] += int_at(old_size_col, r);
      } else if (action == 4) {
        b.update_count[s] += 1;
        b.update_inserted[s] += int_at(size_col, r);
        b.update_removed[s] += int_at(old_size_col, r);
      }

      if (executed) {
        b.execution_count[s] += 1;
        b.execution_volume[s] += exec_size;
        if (ahead_col != nullptr && !ahead_col->IsNull(r)) {
          b.size_ahead_n += 1;
          b.size_ahead_sum += static_cast<long double>(ahead_col->Value(r));
        }
        if (track_latency) pending[s].emplace_back(t, row);
      }

      if (track_orders && action != 2) {
        // The order a remove, update or execution refers to: OldOrderId where given (real
        // files leave OrderId empty on removes), else OrderId.
        std::string_view old_id = id_at(old_order_col, r);
        const std::string_view new_id = id_at(order_col, r);
        if (old_id.empty()) old_id = new_id;
        if (!old_id.empty()) {
          if (auto it = live.find(old_id); it != live.end()) {
            if (action == 3 || executed) {
              end_order(it, t, true);
            } else if (action == 4 && !new_id.empty() && new_id != old_id) {
              // An update that renames the order: it lives on under the new id.
              const LiveOrder order = it->second;
              live.erase(it);
              if (auto clash = live.find(new_id); clash != live.end()) end_order(clash, t, true);
              live.emplace(new_id, order);
            }
          }
        }
      }
    }
    // Orders still alive: censored at the listing-day's last event.
    const int64_t last = times[n - 1];
    while (!live.empty()) end_order(live.begin(), last, false);
    return Status::OK();
  }

  void Write(const std::vector<Bucket>& buckets, OutputBlock& out) const {
    size_t column = 0;
    auto flow = [&](auto get) {
      out.FillInt64(column, 0);
      for (size_t row = 0; row < buckets.size(); ++row) {
        const int64_t v = get(buckets[row]);
        if (v != 0) out.SetInt64(column, row, v);
      }
      ++column;
    };
    auto ratio = [&](auto get) {
      for (size_t row = 0; row < buckets.size(); ++row) out.SetFloat64(column, row, get(buckets[row]));
      ++column;
    };
    auto mean = [&](auto n_of, auto sum_of) {
      for (size_t row = 0; row < buckets.size(); ++row) {
        const int64_t count = n_of(buckets[row]);
        if (count > 0) {
          out.SetFloat64(column, row,
                         static_cast<double>(sum_of(buckets[row]) / static_cast<long double>(count)));
        }
      }
      ++column;
    };
    for (size_t s = 0; s < 2; ++s) {
      if (selection_.actions[kInsert]) {
        flow([s](const Bucket& b) { return b.insert_count[s]; });
        flow([s](const Bucket& b) { return b.insert_volume[s]; });
      }
      if (selection_.actions[kRemove]) {
        flow([s](const Bucket& b) { return b.remove_count[s]; });
        flow([s](const Bucket& b) { return b.remove_volume[s]; });
      }
      if (selection_.actions[kUpdate]) {
        flow([s](const Bucket& b) { return b.update_count[s]; });
        flow([s](const Bucket& b) { return b.update_inserted[s]; });
        flow([s](const Bucket& b) { return b.update_removed[s]; });
      }
      if (selection_.actions[kExecution]) {
        flow([s](const Bucket& b) { return b.execution_count[s]; });
        flow([s](const Bucket& b) { return b.execution_volume[s]; });
      }
    }
    auto inserted = [](const Bucket& b) {
      return static_cast<double>(b.insert_volume[0] + b.insert_volume[1]);
    };
    if (selection_.advanced[kArrivalFlowImbalance]) {
      ratio([&](const Bucket& b) {
        return static_cast<double>(b.insert_volume[0] - b.insert_volume[1]) / (inserted(b) + kEps);
      });
    }
    if (selection_.advanced[kCancelToTradeRatio]) {
      ratio([](const Bucket& b) {
        return static_cast<double>(b.remove_count[0] + b.remove_count[1]) /
               (static_cast<double>(b.execution_count[0] + b.execution_count[1]) + kEps);
      });
    }
    if (selection_.advanced[kAvgQueuePosition]) {
      mean([](const Bucket& b) { return b.size_ahead_n; }, [](const Bucket& b) { return b.size_ahead_sum; });
    }
    if (selection_.advanced[kAvgRestingTime]) {
      mean([](const Bucket& b) { return b.resting_n; }, [](const Bucket& b) { return b.resting_sum; });
    }
    if (selection_.advanced[kFleetingLiquidityRatio]) {
      ratio([&](const Bucket& b) { return static_cast<double>(b.fleeting_volume) / (inserted(b) + kEps); });
    }
    if (selection_.advanced[kAvgReplacementLatency]) {
      mean([](const Bucket& b) { return b.latency_n; }, [](const Bucket& b) { return b.latency_sum; });
    }
  }

  L3Selection selection_;
  std::vector<InputTable> inputs_;
  std::vector<OutputColumn> outputs_;
};

}  // namespace

std::unique_ptr<Module> CreateL3Module(const YamlValue& options, const PassShape& /*pass*/,
                                       ConfigDiagnostics* diag) {
  static constexpr std::array<std::string_view, 3> kKeys{"actions", "advanced", "fleeting_ms"};
  const size_t errors_before = diag->error_count();
  MapReader reader(options, kKeys, diag);
  L3Selection selection;

  if (const YamlValue* list = reader.Find("actions")) {
    if (auto chosen = ReadChoices(*list, diag, kActionKeys, "[insert, remove, update, execution]")) {
      for (size_t choice : *chosen) selection.actions[choice] = true;
    }
  } else {
    selection.actions[kInsert] = selection.actions[kRemove] = true;
  }

  if (const YamlValue* advanced = reader.Find("advanced")) {
    if (advanced->node.IsScalar() && advanced->node.as<std::string>() == "all") {
      selection.advanced.fill(true);
    } else if (auto chosen = ReadChoices(*advanced, diag, kAdvancedNames,
                                         "[ArrivalFlowImbalance, AvgRestingTime] or all")) {
      for (size_t choice : *chosen) selection.advanced[choice] = true;
    }
  }

  if (const YamlValue* fleeting = reader.Find("fleeting_ms")) {
    if (auto ms = ReadInt(*fleeting, diag, 0, int64_t{86'400'000})) selection.fleeting_ns = *ms * 1'000'000;
  }

  if (diag->error_count() != errors_before) return nullptr;
  const auto any = [](const auto& flags) {
    return std::find(flags.begin(), flags.end(), true) != flags.end();
  };
  if (!any(selection.actions) && !any(selection.advanced)) {
    diag->Error(options.location, options.path,
                "selects no column: give at least one action or advanced metric");
    return nullptr;
  }
  return std::make_unique<L3Module>(selection);
}

}  // namespace intraday
