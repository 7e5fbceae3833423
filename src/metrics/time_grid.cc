#include "metrics/time_grid.h"

#include <algorithm>

namespace intraday {

bool SessionFromStates(std::span<const StateChange> states, int64_t* begin, int64_t* end) {
  bool found = false;
  bool in_continuous = false;
  for (const auto& change : states) {
    if (change.continuous && !in_continuous) {
      if (!found) *begin = change.time_ns;
      found = true;
      in_continuous = true;
    } else if (!change.continuous && in_continuous) {
      *end = change.time_ns;
      in_continuous = false;
    }
  }
  if (found && in_continuous) *end = kOpenEnded;
  return found;
}

std::vector<int64_t> BuildTimeline(TimelineKind kind, const TimeGrid& grid, Date day,
                                   std::span<const StateChange> states, int64_t session_padding_ns,
                                   std::span<const int64_t> event_times) {
  std::vector<int64_t> labels;
  if (kind == TimelineKind::kDaily) {
    labels.push_back(day.start_ns());
    return labels;
  }
  labels.reserve(event_times.size() / 4 + 16);
  for (int64_t t : event_times) {
    const int64_t label = grid.LabelOf(t);
    if (labels.empty() || labels.back() != label) labels.push_back(label);
  }
  if (kind == TimelineKind::kDense) {
    int64_t begin = 0, end = 0;
    bool have_span = SessionFromStates(states, &begin, &end);
    if (!event_times.empty()) {
      const auto [lo, hi] = std::minmax_element(event_times.begin(), event_times.end());
      if (!have_span) {
        begin = *lo;
        end = *hi + 1;
        have_span = true;
      } else if (end == kOpenEnded) {
        end = std::max(begin + 1, *hi + 1);  // continuous to the last event of the day
      }
    } else if (have_span && end == kOpenEnded) {
      end = begin + 1;
    }
    if (have_span && end > begin) {
      const int64_t first = grid.LabelOf(begin - session_padding_ns);
      const int64_t last = grid.LabelOf(end + session_padding_ns - 1);
      for (int64_t label = first; label <= last; label += grid.length()) labels.push_back(label);
    }
  }
  std::sort(labels.begin(), labels.end());
  labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
  return labels;
}

}  // namespace intraday
