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

}  // namespace intraday
