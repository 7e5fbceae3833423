// One listing-day through every module of a pass: the timeline (from the events of the tables
// the modules read, and the market states for dense sessions), then each module on its inputs.
// Shared by the engine's worker and the metric case tests, so both run the same code.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "metrics/module.h"
#include "metrics/registry.h"

namespace intraday {

class ListingDayComputer {
 public:
  /// `tables`: the tables whose events are handed in, in a fixed order (the pass's tables).
  ListingDayComputer(const std::vector<std::unique_ptr<Module>>& modules, PassShape shape,
                     int64_t session_padding_ns, std::vector<Table> tables);

  /// `views[i]`: the listing's events of tables()[i], sorted by event time (may be empty).
  /// Fills the output labels and one block per module; no labels means no row for the listing.
  Status Compute(int64_t listing_id, Date day, const std::vector<ListingTable>& views,
                 std::vector<int64_t>* labels, std::vector<OutputBlock>* blocks) const;

  /// The labels of a listing-day from its market-state transitions and event times (of the
  /// tables some module reads; several sorted runs, or any times with the same labels, minimum
  /// and maximum): Compute's first step, alone.
  std::vector<int64_t> Timeline(Date day, std::span<const StateChange> changes,
                                std::span<const int64_t> event_times) const;
  /// Compute's second step: every module on `views` for the given labels (which must hold the
  /// bucket of every event of every table some module reads).
  Status ComputeModules(int64_t listing_id, Date day, std::span<const int64_t> labels,
                        const std::vector<ListingTable>& views, std::vector<OutputBlock>* blocks) const;

  const std::vector<Table>& tables() const { return tables_; }
  const PassShape& shape() const { return shape_; }
  const std::vector<std::unique_ptr<Module>>& modules() const { return modules_; }
  /// True if some module reads tables()[i] (else the table only gives the session).
  bool is_event_table(size_t i) const { return is_event_table_[i]; }
  /// Index of marketstate in tables(), or -1.
  int states_index() const { return states_index_; }
  /// Per module, the index in tables() of each of its inputs.
  const std::vector<size_t>& inputs_of(size_t module) const { return inputs_of_[module]; }

 private:
  const std::vector<std::unique_ptr<Module>>& modules_;
  PassShape shape_;
  int64_t session_padding_ns_;
  std::vector<Table> tables_;
  std::vector<bool> is_event_table_;            // some module reads it
  int states_index_ = -1;                       // index of marketstate in tables_, if any
  std::vector<std::vector<size_t>> inputs_of_;  // per module: indices into tables_
};

/// The market-state transitions of a listing-day, from a table with a MarketState column.
std::vector<StateChange> StateChangesOf(const ListingTable& states);

/// Why a pass cannot compute a listing in time slices (Module::streams_over_time): a module
/// that does not stream, or a daily timeline (one bucket per day); empty if it can.
std::string StreamBlocker(const std::vector<std::unique_ptr<Module>>& modules, const PassShape& shape);

}  // namespace intraday
