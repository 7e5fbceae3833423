// The record of what a pipeline has produced, beside its outputs:
// - {output}/_manifest.json: every published (pass, day) with the config hash it was computed
//   with, its rows and bytes. `run --resume` reads it to skip finished days.
// - {output}/_runs/<run_id>.json: one run's full report: per day and per batch the rows, bytes,
//   wall and CPU time, peak RSS and pid of the worker, every retry and split, every warning.
// Both are rewritten atomically after each day, so that an interrupted run leaves a valid record:
// on local disk under a temporary name then renamed, on S3 as one whole object (io/location.h).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/date.h"
#include "common/status.h"
#include "io/location.h"

namespace intraday {

struct PublishedDay {
  std::string config_hash;
  std::string run_id;
  int64_t rows = 0;
  uint64_t bytes = 0;
  std::string path;  // the day's directory (a local path or s3:// URI)
};

class OutputManifest {
 public:
  /// Reads {output}/_manifest.json; an absent file is an empty manifest.
  static Result<OutputManifest> Load(const Location& output);

  const PublishedDay* Find(const std::string& pass, Date day) const;
  void Record(const std::string& pass, Date day, PublishedDay published);
  Status Save() const;

 private:
  explicit OutputManifest(Location output) : output_(std::move(output)) {}
  Location output_;
  std::string path_;
  std::map<std::pair<std::string, int32_t>, PublishedDay> days_;
};

/// One run's report, built as the run goes (JSON under the hood, written after each day).
class RunReport {
 public:
  /// The report lives at `path`, a URI inside `output`.
  RunReport(Location output, std::string path, std::string run_id, std::string config_hash,
            std::string config_file);

  nlohmann::json& root() { return root_; }
  /// The report entry of a (pass, day), created on first use.
  nlohmann::json& Day(const std::string& pass, Date day);
  void Warning(const std::string& message);
  void Retry(const std::string& pass, Date day, const std::string& what);
  Status Save() const;

 private:
  Location output_;
  std::string path_;
  nlohmann::json root_;
};

}  // namespace intraday
