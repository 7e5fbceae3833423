#include "common/io_errors.h"

#include <cerrno>
#include <string_view>

namespace intraday {

bool IsDiskFull(const Status& status) {
  if (status.ok()) return false;
  const int err = arrow::internal::ErrnoFromStatus(status);
  if (err == ENOSPC || err == EDQUOT) return true;
  const std::string_view message = status.message();
  return message.find("No space left on device") != std::string_view::npos ||
         message.find("Disk quota exceeded") != std::string_view::npos;
}

}  // namespace intraday
