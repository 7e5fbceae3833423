#include "plan/day_plan.h"

namespace intraday {

std::string_view ToString(InputStrategy strategy) {
  switch (strategy) {
    case InputStrategy::kDirect: return "direct";
    case InputStrategy::kRowGroups: return "row_groups";
    case InputStrategy::kShred: return "shred";
  }
  return "?";
}

std::string_view ToString(SizeSource source) {
  switch (source) {
    case SizeSource::kNone: return "none";
    case SizeSource::kScan: return "scan";
    case SizeSource::kHistory: return "history";
  }
  return "?";
}

}  // namespace intraday
