// The lake: a root (local directory or s3://bucket/prefix) and one path template per table.
// Locates the file of a (table, day, MIC) and opens it through Arrow's filesystem layer, so
// that local disks and object stores look the same to everything above.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include <arrow/filesystem/filesystem.h>

#include "common/date.h"
#include "common/status.h"
#include "io/table_catalog.h"

namespace intraday {

/// Connection settings for s3:// roots. Empty fields fall back to the usual AWS environment
/// variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION or
/// AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL).
struct S3Settings {
  std::string endpoint_override;  // "http://127.0.0.1:9000" or "host:port" (https)
  std::string region;
};

struct LakeOptions {
  std::string root;  // "lake", "/data/lake" or "s3://bucket/prefix"
  /// Per-table templates relative to the root; tables not listed use DefaultPathTemplate.
  /// Placeholders: {MIC} {YYYY} {MM} {DD} {YYYYMMDD} {Date} (YYYY-MM-DD) {Folder} {prefix}.
  std::map<Table, std::string> path_templates;
  S3Settings s3;
};

/// Expands a path template for a day and a MIC. Unknown placeholders are errors.
Result<std::string> ExpandPathTemplate(const std::string& path_template, Table table, Date day,
                                       const std::string& mic);

/// Checks a template without a day: every placeholder known, braces balanced.
Status ValidatePathTemplate(const std::string& path_template);

/// Opens a filesystem for a root. For "s3://..." it initialises Arrow's S3 support (once per
/// process; see S3Lifetime) and returns the bucket/prefix path inside it.
struct FileSystemRoot {
  std::shared_ptr<arrow::fs::FileSystem> fs;
  std::string base_path;  // path inside fs, no trailing slash
  bool is_s3 = false;
};
Result<FileSystemRoot> OpenFileSystemRoot(const std::string& root, const S3Settings& s3);

/// Arrow's S3 client must be finalised before the process exits. Hold one of these in main().
class S3Lifetime {
 public:
  S3Lifetime() = default;
  S3Lifetime(const S3Lifetime&) = delete;
  S3Lifetime& operator=(const S3Lifetime&) = delete;
  ~S3Lifetime();
};

class Lake {
 public:
  static Result<std::shared_ptr<Lake>> Open(LakeOptions options);

  /// Full path (inside fs()) of the file of a table for a day and MIC, whether it exists or not.
  Result<std::string> PathOf(Table table, Date day, const std::string& mic) const;

  /// The path if the file exists, std::nullopt if it does not (no data for that MIC-day).
  Result<std::optional<std::string>> Locate(Table table, Date day, const std::string& mic) const;

  /// Human-readable location for messages: "lake/Trades-Plus/..." or "s3://bucket/...".
  std::string DisplayPath(const std::string& path) const;

  const std::shared_ptr<arrow::fs::FileSystem>& fs() const { return root_.fs; }
  const std::string& base_path() const { return root_.base_path; }
  const LakeOptions& options() const { return options_; }

 private:
  Lake(LakeOptions options, FileSystemRoot root) : options_(std::move(options)), root_(std::move(root)) {}
  LakeOptions options_;
  FileSystemRoot root_;
};

}  // namespace intraday
