#include "plan/plan_json.h"

#include <algorithm>

#include "plan/size_estimator.h"

namespace intraday {
namespace {

// Per-table figures for the tables the pass reads, keyed by table name.
template <typename T>
nlohmann::ordered_json PerTable(const DayPlan& plan, const std::array<T, kTableCount>& values) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& tc : plan.columns) out[std::string(SpecOf(tc.table).key)] = values[TableIndex(tc.table)];
  return out;
}

std::array<std::string_view, kTableCount> SourceNames(const std::array<SizeSource, kTableCount>& sources) {
  std::array<std::string_view, kTableCount> names{};
  for (size_t t = 0; t < kTableCount; ++t) names[t] = ToString(sources[t]);
  return names;
}

}  // namespace

nlohmann::ordered_json ToJson(const SizeEstimateSummary& summary) {
  std::vector<std::string> days;
  for (Date day : summary.history_days) days.push_back(day.ToString());
  return {{"mode", summary.mode},
          {"source", summary.source},
          {"reason", summary.reason},
          {"history_days", days},
          {"files_from_history", summary.files_from_history},
          {"files_profiled", summary.files_profiled},
          {"cache_hits", summary.cache_hits},
          {"files_scanned", summary.files_scanned},
          {"scanned_rows", summary.scanned_rows},
          {"files_from_footer", summary.files_from_footer}};
}

nlohmann::ordered_json ToJson(const DayPlan& plan) {
  nlohmann::ordered_json listings = nlohmann::ordered_json::array();
  for (const Listing& l : plan.universe.listings) {
    listings.push_back({{"listing_id", l.listing_id},
                        {"instrument_id", l.instrument_id},
                        {"mic", l.mic},
                        {"ticker", l.ticker},
                        {"isin", l.isin},
                        {"currency", l.currency},
                        {"is_primary", l.is_primary}});
  }
  nlohmann::ordered_json columns = nlohmann::ordered_json::object();
  for (const auto& tc : plan.columns) columns[std::string(SpecOf(tc.table).key)] = tc.columns;

  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  for (const InputFile& f : plan.files) {
    nlohmann::ordered_json row_groups = nlohmann::ordered_json::array();
    for (const auto& rg : f.row_groups) {
      row_groups.push_back({{"index", rg.index},
                            {"min_listing", rg.min_listing},
                            {"max_listing", rg.max_listing},
                            {"rows", rg.rows}});
    }
    files.push_back({{"table", SpecOf(f.table).key},
                     {"mic", f.mic},
                     {"path", f.display_path},
                     {"rows", f.rows},
                     {"row_groups", std::move(row_groups)},
                     {"clustered", f.clustered}});
  }
  nlohmann::ordered_json missing = nlohmann::ordered_json::array();
  for (const auto& tc : plan.columns) {
    for (const std::string& mic : plan.universe.mics) {
      const bool found = std::any_of(plan.files.begin(), plan.files.end(),
                                     [&](const InputFile& f) { return f.table == tc.table && f.mic == mic; });
      if (!found) missing.push_back({{"table", SpecOf(tc.table).key}, {"mic", mic}});
    }
  }

  nlohmann::ordered_json sizes = nlohmann::ordered_json::array();
  for (const ListingSize& s : plan.sizes) {
    sizes.push_back({{"listing_id", s.listing_id},
                     {"instrument_id", s.instrument_id},
                     {"rows", PerTable(plan, s.rows)},
                     {"bytes", PerTable(plan, s.bytes)},
                     {"memory_bytes", s.memory_bytes},
                     {"output_bytes", s.output_bytes},
                     {"estimated", s.estimated},
                     {"source", PerTable(plan, SourceNames(s.source))}});
  }
  nlohmann::ordered_json whole_day = nullptr;
  if (plan.whole_day) {
    whole_day = {{"rows", PerTable(plan, plan.whole_day->rows)},
                 {"decoded_bytes", plan.whole_day->decoded_bytes},
                 {"output_bytes", plan.whole_day->output_bytes},
                 {"memory_bytes", plan.whole_day->memory_bytes}};
  }
  nlohmann::ordered_json batches = nlohmann::ordered_json::array();
  for (const Batch& b : plan.batches) {
    batches.push_back({{"id", b.id},
                       {"listings", b.listings},
                       {"rows", PerTable(plan, b.rows)},
                       {"memory_bytes", b.memory_bytes},
                       {"oversize", b.oversize},
                       {"streamed", b.streamed},
                       {"worker_slots", b.worker_slots},
                       {"time_slice_bytes", b.time_slice_bytes},
                       {"slice_output_spilled", b.slice_output_spilled}});
  }
  return {{"pass", plan.pass},
          {"day", plan.day.ToString()},
          {"memory_budget", plan.memory_budget},
          {"data_budget", DataBudget(plan.memory_budget)},
          {"strategy", ToString(plan.strategy)},
          {"strategy_reason", plan.strategy_reason},
          {"gather_threads", plan.gather_threads},
          {"universe", {{"mics", plan.universe.mics}, {"listings", std::move(listings)}}},
          {"columns", std::move(columns)},
          {"files", std::move(files)},
          {"missing_files", std::move(missing)},
          {"size_estimates", ToJson(plan.size_estimates)},
          {"sizes", std::move(sizes)},
          {"whole_day", std::move(whole_day)},
          {"batches", std::move(batches)},
          {"warnings", plan.warnings}};
}

}  // namespace intraday
