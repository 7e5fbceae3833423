#include "exec/disk_full.h"

#include <string>

namespace intraday {

Status DiskFullStop(const Status& cause, const RunConfig& run) {
  const std::string& message = cause.message();
  std::string where = "the scratch or output filesystem";
  std::string fix = "free some space";
  if (message.find(run.scratch + "/") != std::string::npos) {
    where = "run.scratch (" + run.scratch + ")";
    fix = "free some space there (or point run.scratch or --scratch elsewhere)";
  } else if (message.find(run.output + "/") != std::string::npos) {
    where = "run.output (" + run.output + ")";
    fix = "free some space there";
  }
  return cause.WithMessage(
      "no space left on device in ", where, ": ", message,
      "\nThe days published before stay valid, no partial file is left under the output, "
      "and the day's scratch was removed: ",
      fix, ", then run again with --resume");
}

}  // namespace intraday
