#include "metrics/listing_day_computer.h"

#include <algorithm>

namespace intraday {

ListingDayComputer::ListingDayComputer(const std::vector<std::unique_ptr<Module>>& modules, PassShape shape,
                                       int64_t session_padding_ns, std::vector<Table> tables)
    : modules_(modules), shape_(shape), session_padding_ns_(session_padding_ns), tables_(std::move(tables)) {
  is_event_table_.assign(tables_.size(), false);
  for (size_t i = 0; i < tables_.size(); ++i) {
    if (tables_[i] == Table::kMarketState) states_index_ = static_cast<int>(i);
  }
  for (const auto& module : modules_) {
    std::vector<size_t> indices;
    for (const auto& input : module->inputs()) {
      const auto it = std::find(tables_.begin(), tables_.end(), input.table);
      const auto index = static_cast<size_t>(it - tables_.begin());
      indices.push_back(index);  // == tables_.size() if absent: Compute reports it
      if (index < tables_.size()) is_event_table_[index] = true;
    }
    inputs_of_.push_back(std::move(indices));
  }
}

Status ListingDayComputer::Compute(int64_t listing_id, Date day, const std::vector<ListingTable>& views,
                                   std::vector<int64_t>* labels, std::vector<OutputBlock>* blocks) const {
  std::vector<int64_t> event_times;
  for (size_t i = 0; i < tables_.size(); ++i) {
    if (is_event_table_[i])
      event_times.insert(event_times.end(), views[i].times(), views[i].times() + views[i].size());
  }
  std::vector<StateChange> changes;
  if (states_index_ >= 0) changes = StateChangesOf(views[static_cast<size_t>(states_index_)]);
  *labels = Timeline(day, changes, event_times);
  blocks->clear();
  if (labels->empty()) return Status::OK();
  return ComputeModules(listing_id, day, *labels, views, blocks);
}

std::vector<int64_t> ListingDayComputer::Timeline(Date day, std::span<const StateChange> changes,
                                                  std::span<const int64_t> event_times) const {
  return BuildTimeline(shape_.timeline, shape_.grid, day, changes, session_padding_ns_, event_times);
}

Status ListingDayComputer::ComputeModules(int64_t listing_id, Date day, std::span<const int64_t> labels,
                                          const std::vector<ListingTable>& views,
                                          std::vector<OutputBlock>* blocks) const {
  blocks->clear();
  ListingDay listing;
  listing.listing_id = listing_id;
  listing.day = day;
  listing.grid = &shape_.grid;
  listing.labels = labels;
  blocks->reserve(modules_.size());
  for (size_t m = 0; m < modules_.size(); ++m) {
    const Module& module = *modules_[m];
    listing.tables.clear();
    for (size_t index : inputs_of_[m]) {
      if (index >= tables_.size())
        return Status::Invalid("module ", module.name(), " reads a table not provided");
      listing.tables.push_back(&views[index]);
    }
    OutputBlock block(module.outputs(), labels.size());
    auto status = module.Compute(listing, block);
    if (!status.ok()) {
      return status.WithMessage("module ", module.name(), ", listing ", listing_id, ", ", day.ToString(),
                                ": ", status.message());
    }
    blocks->push_back(std::move(block));
  }
  return Status::OK();
}

std::vector<StateChange> StateChangesOf(const ListingTable& states) {
  std::vector<StateChange> changes;
  if (states.empty()) return changes;
  auto column = states.String("MarketState");
  if (!column.ok()) return changes;
  changes.reserve(static_cast<size_t>(states.size()));
  for (int64_t i = 0; i < states.size(); ++i) {
    const bool continuous = (*column)->IsValid(i) && (*column)->GetView(i) == "CONTINUOUS_TRADING";
    changes.push_back({states.times()[i], continuous});
  }
  return changes;
}

std::string StreamBlocker(const std::vector<std::unique_ptr<Module>>& modules, const PassShape& shape) {
  if (shape.timeline == TimelineKind::kDaily) return "the pass's daily timeline has one bucket per day";
  for (const auto& module : modules) {
    if (!module->streams_over_time())
      return "module " + std::string(module->name()) + " does not stream over time";
  }
  return {};
}

}  // namespace intraday
