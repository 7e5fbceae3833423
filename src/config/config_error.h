// config/: the pipeline configuration: its typed form (PipelineConfig), the YAML loader that
// validates a file before anything runs, command-line overrides, and the canonical form and hash
// recorded in run manifests.
//
// This header owns the error values of that validation. A config is checked as a whole and every
// problem found is reported, each with the file, line and column it comes from and the key path
// it concerns, so a user fixes a file in one pass rather than one error per run.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace intraday {

/// Where a config value came from: a position in a file (1-based line and column), or a place
/// without lines such as "command line (--workers)". line == 0 means no position.
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;

  bool has_position() const { return line > 0; }
  /// "pipeline.yaml:12:5", "pipeline.yaml" or "command line (--end)".
  std::string ToString() const;
};

/// One problem with a config: where, which key ("run.memory_per_worker", "passes[1].name") and
/// what was expected.
struct ConfigError {
  SourceLocation location;
  std::string key_path;  // empty for problems of the file itself (syntax, missing file)
  std::string message;

  /// "pipeline.yaml:12:5: run.memory_per_worker: '2 gigs' is not a byte size: expected ..."
  std::string ToString() const;
};

/// The detail carried by a Status that failed config validation, so that callers (and tests) can
/// inspect each error rather than parse the message.
class ConfigErrorDetail : public arrow::StatusDetail {
 public:
  static constexpr const char* kTypeId = "intraday::ConfigErrorDetail";

  explicit ConfigErrorDetail(std::vector<ConfigError> errors) : errors_(std::move(errors)) {}
  const char* type_id() const override { return kTypeId; }
  std::string ToString() const override;
  const std::vector<ConfigError>& errors() const { return errors_; }

 private:
  std::vector<ConfigError> errors_;
};

/// Status::Invalid whose message lists every error, one per line (sorted by file position), and
/// whose detail is a ConfigErrorDetail. OK if `errors` is empty.
Status ConfigErrorsStatus(std::vector<ConfigError> errors);

/// The errors of a status made by ConfigErrorsStatus; empty for any other status.
std::vector<ConfigError> ConfigErrorsOf(const Status& status);

}  // namespace intraday
