#include "config/yaml_reader.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <map>

#include <fmt/format.h>

#include "common/units.h"

namespace intraday {
namespace {

std::string Normalize(std::string_view word) {
  std::string out(word);
  for (char& c : out) {
    if (c == '-') c = '_';
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Optimal-string-alignment distance: Levenshtein plus adjacent transpositions, so that
// "memroy" is one edit from "memory".
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::string JoinWords(std::span<const std::string_view> words) {
  std::string out;
  for (auto w : words) out += fmt::format("{}{}", out.empty() ? "" : ", ", w);
  return out;
}

// The text of a scalar, or nullopt after reporting "expected <what>, got <kind>".
std::optional<std::string> ScalarText(const YamlValue& v, ConfigDiagnostics* diag, std::string_view what) {
  if (v.node.IsScalar()) return v.node.Scalar();
  diag->Error(v.location, v.path, fmt::format("expected {}, got {}", what, DescribeNode(v.node)));
  return std::nullopt;
}

}  // namespace

SourceLocation ConfigDiagnostics::LocationOf(const YAML::Node& node) const {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null() || mark.line < 0) return SourceLocation{file_};
  return SourceLocation{file_, mark.line + 1, mark.column + 1};
}

void ConfigDiagnostics::Error(SourceLocation location, std::string key_path, std::string message) {
  errors_.push_back(ConfigError{std::move(location), std::move(key_path), std::move(message)});
}

void ConfigDiagnostics::Merge(const Status& status, const SourceLocation& location,
                              const std::string& key_path) {
  if (status.ok()) return;
  std::vector<ConfigError> errors = ConfigErrorsOf(status);
  if (errors.empty()) {
    Error(location, key_path, status.message());
    return;
  }
  for (auto& error : errors) {
    if (error.location.file.empty()) error.location.file = file_;
    errors_.push_back(std::move(error));
  }
}

std::string ChildPath(std::string_view parent, std::string_view key) {
  return parent.empty() ? std::string(key) : fmt::format("{}.{}", parent, key);
}

std::string IndexPath(std::string_view parent, size_t index) { return fmt::format("{}[{}]", parent, index); }

std::string DescribeNode(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return fmt::format("'{}'", node.Scalar());
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return "nothing";
  }
  return "nothing";
}

std::optional<std::string_view> ClosestMatch(std::string_view word,
                                             std::span<const std::string_view> candidates) {
  const std::string normalized = Normalize(word);
  std::optional<std::string_view> best;
  size_t best_distance = SIZE_MAX;
  for (auto candidate : candidates) {
    // Close enough to be a typo: one edit for short words, up to three for long ones ("pass" is
    // two edits from "passes").
    const size_t limit = std::clamp<size_t>(std::max(normalized.size(), candidate.size()) / 3, 1, 3);
    const size_t distance = EditDistance(normalized, Normalize(candidate));
    if (distance <= limit && distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::string SuggestionSuffix(std::string_view word, std::span<const std::string_view> candidates) {
  if (auto match = ClosestMatch(word, candidates)) return fmt::format(" (did you mean '{}'?)", *match);
  return fmt::format(": expected one of {}", JoinWords(candidates));
}

MapReader::MapReader(const YamlValue& value, std::span<const std::string_view> known_keys,
                     ConfigDiagnostics* diag, std::string_view noun)
    : value_(value), diag_(diag) {
  if (value.node.IsNull()) return;
  if (!value.node.IsMap()) {
    ok_ = false;
    diag->Error(
        value.location, value.path,
        fmt::format("expected a map with keys {}, got {}", JoinWords(known_keys), DescribeNode(value.node)));
    return;
  }
  std::map<std::string, SourceLocation, std::less<>> seen;
  for (auto it = value.node.begin(); it != value.node.end(); ++it) {
    // Copies: the iterator yields a temporary pair, references into it would dangle.
    const YAML::Node key = it->first;
    const SourceLocation key_location = diag->LocationOf(key);
    if (!key.IsScalar()) {
      diag->Error(key_location, value.path, fmt::format("keys must be names, got {}", DescribeNode(key)));
      continue;
    }
    const std::string& name = key.Scalar();
    const std::string path = ChildPath(value.path, name);
    if (std::find(known_keys.begin(), known_keys.end(), name) == known_keys.end()) {
      if (auto match = ClosestMatch(name, known_keys)) suggested_.push_back(*match);
      diag->Error(key_location, path, fmt::format("unknown {}{}", noun, SuggestionSuffix(name, known_keys)));
      continue;
    }
    if (auto [prev, inserted] = seen.emplace(name, key_location); !inserted) {
      diag->Error(key_location, path,
                  fmt::format("key repeated (first given at line {})", prev->second.line));
      continue;
    }
    const YAML::Node node = it->second;
    const SourceLocation location = node.IsNull() ? key_location : diag->LocationOf(node);
    fields_.emplace_back(name, YamlValue{node, path, location});
  }
}

const YamlValue* MapReader::Find(std::string_view key) const {
  for (const auto& [name, field] : fields_) {
    if (name == key) return &field;
  }
  return nullptr;
}

const YamlValue* MapReader::Require(std::string_view key, std::string_view what) const {
  const YamlValue* field = Find(key);
  if (field == nullptr && ok_ && !WasSuggested(key)) {
    diag_->Error(value_.location, ChildPath(value_.path, key), fmt::format("missing: expected {}", what));
  }
  return field;
}

bool MapReader::WasSuggested(std::string_view key) const {
  return std::find(suggested_.begin(), suggested_.end(), key) != suggested_.end();
}

std::optional<std::string> ReadString(const YamlValue& v, ConfigDiagnostics* diag, std::string_view what) {
  return ScalarText(v, diag, what);
}

std::optional<std::string> ReadNonEmptyString(const YamlValue& v, ConfigDiagnostics* diag,
                                              std::string_view what) {
  auto text = ScalarText(v, diag, what);
  if (text && text->empty()) {
    diag->Error(v.location, v.path, fmt::format("expected {}, got an empty string", what));
    return std::nullopt;
  }
  return text;
}

std::optional<int64_t> ReadInt(const YamlValue& v, ConfigDiagnostics* diag, int64_t min, int64_t max) {
  const std::string expected = max == INT64_MAX ? fmt::format("an integer >= {}", min)
                                                : fmt::format("an integer from {} to {}", min, max);
  auto text = ScalarText(v, diag, expected);
  if (!text) return std::nullopt;
  int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || ptr != text->data() + text->size() || text->empty()) {
    diag->Error(v.location, v.path, fmt::format("'{}' is not an integer: expected {}", *text, expected));
    return std::nullopt;
  }
  if (value < min || value > max) {
    diag->Error(v.location, v.path, fmt::format("{} is out of range: expected {}", value, expected));
    return std::nullopt;
  }
  return value;
}

std::optional<bool> ReadBool(const YamlValue& v, ConfigDiagnostics* diag) {
  auto text = ScalarText(v, diag, "true or false");
  if (!text) return std::nullopt;
  if (*text == "true" || *text == "True" || *text == "TRUE") return true;
  if (*text == "false" || *text == "False" || *text == "FALSE") return false;
  diag->Error(v.location, v.path, fmt::format("'{}' is not a boolean: expected true or false", *text));
  return std::nullopt;
}

std::optional<Date> ReadDate(const YamlValue& v, ConfigDiagnostics* diag) {
  auto text = ScalarText(v, diag, "a date YYYY-MM-DD");
  if (!text) return std::nullopt;
  auto date = Date::Parse(*text);
  if (!date.ok()) {
    diag->Error(v.location, v.path, date.status());
    return std::nullopt;
  }
  return *date;
}

std::optional<int64_t> ReadDuration(const YamlValue& v, ConfigDiagnostics* diag, bool allow_zero) {
  auto text = ScalarText(v, diag, "a duration such as 250ms, 1m or 1h");
  if (!text) return std::nullopt;
  if (allow_zero && *text == "0") return 0;
  auto nanos = ParseDuration(*text);
  if (!nanos.ok()) {
    diag->Error(v.location, v.path, nanos.status());
    return std::nullopt;
  }
  return *nanos;
}

std::optional<uint64_t> ReadByteSize(const YamlValue& v, ConfigDiagnostics* diag) {
  auto text = ScalarText(v, diag, "a byte size such as 512MiB or 2GiB");
  if (!text) return std::nullopt;
  auto bytes = ParseByteSize(*text);
  if (!bytes.ok()) {
    diag->Error(v.location, v.path, bytes.status());
    return std::nullopt;
  }
  return *bytes;
}

std::optional<size_t> ReadChoice(const YamlValue& v, ConfigDiagnostics* diag,
                                 std::span<const std::string_view> choices) {
  const std::string expected = "one of " + JoinWords(choices);
  auto text = ScalarText(v, diag, expected);
  if (!text) return std::nullopt;
  for (size_t i = 0; i < choices.size(); ++i) {
    if (choices[i] == *text) return i;
  }
  std::string message = fmt::format("'{}' is not valid: expected {}", *text, expected);
  if (auto match = ClosestMatch(*text, choices)) message += fmt::format(" (did you mean '{}'?)", *match);
  diag->Error(v.location, v.path, std::move(message));
  return std::nullopt;
}

std::optional<std::vector<YamlValue>> ReadList(const YamlValue& v, ConfigDiagnostics* diag,
                                               std::string_view example) {
  std::vector<YamlValue> items;
  if (v.node.IsNull()) return items;
  if (!v.node.IsSequence()) {
    diag->Error(v.location, v.path,
                fmt::format("expected a list, e.g. {}, got {}", example, DescribeNode(v.node)));
    return std::nullopt;
  }
  size_t index = 0;
  for (const auto& item : v.node) {
    const SourceLocation location = item.IsNull() ? v.location : diag->LocationOf(item);
    items.push_back(YamlValue{item, IndexPath(v.path, index++), location});
  }
  return items;
}

std::optional<std::vector<size_t>> ReadChoices(const YamlValue& v, ConfigDiagnostics* diag,
                                               std::span<const std::string_view> choices,
                                               std::string_view example, std::string_view if_empty) {
  auto items = ReadList(v, diag, example);
  if (!items) return std::nullopt;
  if (items->empty() && !if_empty.empty()) diag->Error(v.location, v.path, std::string(if_empty));
  std::vector<size_t> chosen;
  for (const auto& item : *items) {
    const auto choice = ReadChoice(item, diag, choices);
    if (choice && std::find(chosen.begin(), chosen.end(), *choice) == chosen.end()) chosen.push_back(*choice);
  }
  return chosen;
}

}  // namespace intraday
