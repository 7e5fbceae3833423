// Typed, error-collecting reading of yaml-cpp nodes, shared by the config loader and (through
// ModuleOptionsValidator) by the metric modules that validate their own options.
//
// Nothing here throws or stops at the first problem: every reader reports to a ConfigDiagnostics
// with the key path and the file position, and returns std::nullopt for a value it could not
// read, so that the caller carries on and finds the other errors of the file.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/date.h"
#include "config/config_error.h"

namespace intraday {

/// Collects the errors found in one config file.
class ConfigDiagnostics {
 public:
  explicit ConfigDiagnostics(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }
  /// The 1-based position of a node in the file; no position for nodes built in memory.
  SourceLocation LocationOf(const YAML::Node& node) const;

  void Error(SourceLocation location, std::string key_path, std::string message);
  /// An error whose message is that of `status` (e.g. from ParseByteSize).
  void Error(SourceLocation location, std::string key_path, const Status& status) {
    Error(std::move(location), std::move(key_path), status.message());
  }
  /// Adds the errors of a status made by ConfigErrorsStatus (file filled in where missing), or
  /// else one error at `location` with the status's message.
  void Merge(const Status& status, const SourceLocation& location, const std::string& key_path);

  size_t error_count() const { return errors_.size(); }
  const std::vector<ConfigError>& errors() const { return errors_; }
  /// ConfigErrorsStatus of everything collected.
  Status ToStatus() const { return ConfigErrorsStatus(errors_); }

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
};

/// A value of the file with its key path ("passes[0].bucket") and location. The location is that
/// of the value, or of its key when the value is empty (yaml-cpp places an empty value at the
/// next token, which may be lines further down).
struct YamlValue {
  YAML::Node node;
  std::string path;
  SourceLocation location;
};

std::string ChildPath(std::string_view parent, std::string_view key);  // "run" + "workers"
std::string IndexPath(std::string_view parent, size_t index);          // "passes" + 1 -> "passes[1]"

/// "a map", "a list", "nothing" or "'text'": what a value is, for "expected X, got Y" messages.
std::string DescribeNode(const YAML::Node& node);

/// The candidate closest to `word` by edit distance (ignoring case, '-' vs '_'), if close enough
/// to be the likely intent.
std::optional<std::string_view> ClosestMatch(std::string_view word,
                                             std::span<const std::string_view> candidates);

/// "unknown key 'mic' (did you mean 'mics'?)"-style tail: " (did you mean 'x'?)" or
/// ": expected one of a, b, c".
std::string SuggestionSuffix(std::string_view word, std::span<const std::string_view> candidates);

/// Reads one YAML map whose keys are known in advance. On construction it reports a value that is
/// not a map, unknown keys (with a did-you-mean suggestion), repeated keys and non-string keys; an
/// empty value reads as an empty map. The fields that remain are looked up by key.
class MapReader {
 public:
  /// `noun` names the keys in messages: "unknown key", "unknown module", "unknown table".
  MapReader(const YamlValue& value, std::span<const std::string_view> known_keys, ConfigDiagnostics* diag,
            std::string_view noun = "key");

  /// False if the value was neither a map nor empty (already reported).
  bool ok() const { return ok_; }
  const YamlValue& value() const { return value_; }
  /// The known keys present, in file order (first occurrence only).
  const std::vector<std::pair<std::string, YamlValue>>& fields() const { return fields_; }

  const YamlValue* Find(std::string_view key) const;
  /// Find, reporting "missing required key" (with `what` it should hold) if absent, unless an
  /// unknown key was already reported as its likely misspelling.
  const YamlValue* Require(std::string_view key, std::string_view what) const;
  /// True if an unknown key of the map was reported with "did you mean `key`?".
  bool WasSuggested(std::string_view key) const;

 private:
  YamlValue value_;
  ConfigDiagnostics* diag_;
  bool ok_ = true;
  std::vector<std::pair<std::string, YamlValue>> fields_;
  std::vector<std::string_view> suggested_;
};

// Scalar readers. Each returns std::nullopt after reporting a problem. `what` names the
// expected value in messages ("a string", "the lake root").
std::optional<std::string> ReadString(const YamlValue& v, ConfigDiagnostics* diag,
                                      std::string_view what = "a string");
/// A non-empty string.
std::optional<std::string> ReadNonEmptyString(const YamlValue& v, ConfigDiagnostics* diag,
                                              std::string_view what);
std::optional<int64_t> ReadInt(const YamlValue& v, ConfigDiagnostics* diag, int64_t min, int64_t max);
/// true or false (also True/TRUE/False/FALSE, as YAML 1.2).
std::optional<bool> ReadBool(const YamlValue& v, ConfigDiagnostics* diag);
std::optional<Date> ReadDate(const YamlValue& v, ConfigDiagnostics* diag);
/// A duration (ParseDuration), in nanoseconds; `allow_zero` also accepts "0".
std::optional<int64_t> ReadDuration(const YamlValue& v, ConfigDiagnostics* diag, bool allow_zero = false);
std::optional<uint64_t> ReadByteSize(const YamlValue& v, ConfigDiagnostics* diag);
/// One of `choices`; returns its index.
std::optional<size_t> ReadChoice(const YamlValue& v, ConfigDiagnostics* diag,
                                 std::span<const std::string_view> choices);

/// The items of a list ("[a, b]" or a block sequence), each with its path "key[i]". An empty
/// value reads as an empty list. std::nullopt if the value is not a list (reported).
std::optional<std::vector<YamlValue>> ReadList(const YamlValue& v, ConfigDiagnostics* diag,
                                               std::string_view example);

/// A list of `choices` (ReadList, then ReadChoice per item): the indices chosen, each once, in the
/// order first given; an item that is not a choice is reported and left out. std::nullopt if the
/// value is not a list. A non-empty `if_empty` is the error reported for an empty list.
std::optional<std::vector<size_t>> ReadChoices(const YamlValue& v, ConfigDiagnostics* diag,
                                               std::span<const std::string_view> choices,
                                               std::string_view example, std::string_view if_empty = {});

}  // namespace intraday
