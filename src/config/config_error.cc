#include "config/config_error.h"

#include <algorithm>
#include <tuple>

#include <fmt/format.h>

namespace intraday {

std::string SourceLocation::ToString() const {
  if (!has_position()) return file;
  if (column <= 0) return fmt::format("{}:{}", file, line);
  return fmt::format("{}:{}:{}", file, line, column);
}

std::string ConfigError::ToString() const {
  std::string out = location.ToString();
  if (!out.empty()) out += ": ";
  if (!key_path.empty()) out += key_path + ": ";
  return out + message;
}

std::string ConfigErrorDetail::ToString() const {
  std::string out;
  for (const auto& error : errors_) {
    if (!out.empty()) out += '\n';
    out += error.ToString();
  }
  return out;
}

Status ConfigErrorsStatus(std::vector<ConfigError> errors) {
  if (errors.empty()) return Status::OK();
  // Document order reads best; errors without a position (command line) come last.
  std::stable_sort(errors.begin(), errors.end(), [](const ConfigError& a, const ConfigError& b) {
    auto key = [](const ConfigError& e) {
      return std::tuple(!e.location.has_position(), e.location.file, e.location.line, e.location.column);
    };
    return key(a) < key(b);
  });
  auto detail = std::make_shared<ConfigErrorDetail>(std::move(errors));
  const size_t n = detail->errors().size();
  std::string message =
      n == 1 ? "invalid configuration:\n" : fmt::format("{} errors in the configuration:\n", n);
  return Status(arrow::StatusCode::Invalid, message + detail->ToString(), detail);
}

std::vector<ConfigError> ConfigErrorsOf(const Status& status) {
  const auto& detail = status.detail();
  if (detail == nullptr || std::string_view(detail->type_id()) != ConfigErrorDetail::kTypeId) return {};
  return static_cast<const ConfigErrorDetail&>(*detail).errors();
}

}  // namespace intraday
