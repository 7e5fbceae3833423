#include "common/units.h"

#include <array>
#include <charconv>
#include <cmath>
#include <utility>

#include <fmt/format.h>

namespace intraday {
namespace {

constexpr std::array<std::pair<std::string_view, int64_t>, 7> kDurationUnits{{
    {"ns", 1},
    {"us", 1'000},
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60'000'000'000},
    {"h", 3'600'000'000'000},
    {"d", 86'400'000'000'000},
}};

}  // namespace

Result<int64_t> ParseDuration(std::string_view text) {
  int64_t count = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(begin, end, count);
  const std::string_view unit(ptr, static_cast<size_t>(end - ptr));
  if (ec != std::errc() || ptr == begin || count <= 0) {
    return Status::Invalid("'", text, "' is not a duration: expected a positive integer and a unit ",
                           "(ns, us, ms, s, m, h, d), e.g. 250ms or 1m");
  }
  for (const auto& [name, nanos] : kDurationUnits) {
    if (unit == name) {
      if (count > INT64_MAX / nanos) return Status::Invalid("duration '", text, "' is too large");
      return count * nanos;
    }
  }
  return Status::Invalid("'", text, "' has an unknown duration unit '", unit,
                         "': expected one of ns, us, ms, s, m, h, d");
}

std::string FormatDuration(int64_t nanos) {
  for (auto it = kDurationUnits.rbegin(); it != kDurationUnits.rend(); ++it) {
    if (nanos != 0 && nanos % it->second == 0) return fmt::format("{}{}", nanos / it->second, it->first);
  }
  return fmt::format("{}ns", nanos);
}

Result<uint64_t> ParseByteSize(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, double>, 10> kUnits{{
      {"", 1.0},
      {"B", 1.0},
      {"KiB", 1024.0},
      {"MiB", 1024.0 * 1024},
      {"GiB", 1024.0 * 1024 * 1024},
      {"TiB", 1024.0 * 1024 * 1024 * 1024},
      {"KB", 1e3},
      {"MB", 1e6},
      {"GB", 1e9},
      {"TB", 1e12},
  }};
  size_t split = 0;
  while (split < text.size() && ((text[split] >= '0' && text[split] <= '9') || text[split] == '.')) {
    ++split;
  }
  double number = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + split, number);
  std::string_view unit = text.substr(split);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  if (split == 0 || ec != std::errc() || ptr != text.data() + split || !(number > 0)) {
    return Status::Invalid("'", text, "' is not a byte size: expected a positive number and a unit ",
                           "(B, KiB, MiB, GiB, TiB, KB, MB, GB, TB), e.g. 2GiB");
  }
  for (const auto& [name, factor] : kUnits) {
    if (unit == name) {
      const double bytes = std::round(number * factor);
      if (bytes >= 1.8e19) return Status::Invalid("byte size '", text, "' is too large");
      return static_cast<uint64_t>(bytes);
    }
  }
  return Status::Invalid("'", text, "' has an unknown byte-size unit '", unit,
                         "': expected B, KiB, MiB, GiB, TiB, KB, MB, GB or TB");
}

std::string FormatBytes(uint64_t bytes) {
  static constexpr std::array<std::string_view, 5> kNames{"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < kNames.size()) {
    value /= 1024;
    ++unit;
  }
  if (unit == 0) return fmt::format("{} B", bytes);
  return fmt::format("{:.1f} {}", value, kNames[unit]);
}

}  // namespace intraday
