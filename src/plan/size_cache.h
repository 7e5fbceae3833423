// The size cache: one small JSON file per input file, holding its FileProfile, so that planning
// the same day again (or another pass over the same files) reads no Parquet at all.
//
// An entry is keyed by the input's path, byte size and modification time (arrow::fs::FileInfo):
// a rewritten file gets a new size or mtime and is profiled again. Entry files are named after a
// hash of the input path; the key stored inside is checked on every load, so a hash collision is
// a miss, never a wrong answer. A missing, stale or corrupt entry is a miss, and the caller
// rewrites it. Entries are written whole (io/location.h: a temporary name renamed into place on
// local disk, one upload on S3), so a reader never sees half an entry and concurrent planners at
// worst both write the same content.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <arrow/filesystem/filesystem.h>

#include "common/status.h"
#include "io/lake.h"
#include "io/location.h"
#include "plan/file_profile.h"

namespace intraday {

/// What identifies one version of an input file.
struct FileStamp {
  std::string path;
  int64_t size = 0;
  int64_t mtime_ns = 0;
};

/// The stamp of a file, or nullopt when its filesystem reports no modification time (such a
/// file is never cached: its size alone would not detect a rewrite).
Result<std::optional<FileStamp>> StampOf(arrow::fs::FileSystem& fs, const std::string& path);

class SizeCache {
 public:
  /// A cache under `dir` (a local directory or s3:// URI; created on first store).
  static Result<std::unique_ptr<SizeCache>> Open(const std::string& dir, const S3Settings& s3);

  /// The cached profile of this version of the file; nullopt if absent, stale or corrupt.
  std::optional<FileProfile> Load(const FileStamp& stamp) const;
  Status Store(const FileStamp& stamp, const FileProfile& profile);

  /// Where the entry of an input path lives (a local path or s3:// URI).
  std::string EntryPath(const std::string& input_path) const;

 private:
  explicit SizeCache(Location location) : location_(std::move(location)) {}
  Location location_;
  bool dir_created_ = false;
};

/// The entry format, exposed for tests. Bump kSizeCacheFormat whenever FileProfile or the way
/// it is computed changes: older entries then read as misses.
inline constexpr int kSizeCacheFormat = 1;
std::string SerializeProfile(const FileStamp& stamp, const FileProfile& profile);
/// The profile if `text` is a well-formed entry for exactly this stamp.
std::optional<FileProfile> ParseProfile(const std::string& text, const FileStamp& stamp);

}  // namespace intraday
