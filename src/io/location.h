// Where the engine keeps its own files: run.output and run.scratch, each a local directory or an
// s3://bucket/prefix, through Arrow's filesystem layer with the lake's S3 settings.
//
// Files are named by URIs (absolute local paths, or s3://bucket/key) rather than paths inside a
// filesystem, so that a task can carry them to a worker process, which opens its own Location.
// Local disk and object store differ where they must, and only here:
// - a whole file appears at once: locally it is written under a temporary name and renamed; on
//   S3 it is uploaded under its final key, since an object appears only when its upload
//   completes (an error aborts the upload and leaves nothing);
// - directories: created locally; S3 has none, so CreateDirs does nothing there and a prefix
//   exists when an object lives under it;
// - local errors keep their errno (common/io_errors.h), so that a full disk is recognised.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <arrow/filesystem/filesystem.h>
#include <arrow/io/interfaces.h>

#include "common/status.h"
#include "io/lake.h"

namespace intraday {

class AtomicOutput;

class Location {
 public:
  /// `root`: an absolute local path or s3://bucket[/prefix]. S3 roots use `s3` (the lake's
  /// endpoint override and region) and the AWS environment variables for credentials.
  static Result<Location> Open(const std::string& root, const S3Settings& s3);

  /// The root as given (no trailing slash): what Join builds on and what messages show.
  const std::string& root() const { return root_; }
  bool is_s3() const { return is_s3_; }
  std::string Join(std::string_view relative) const;
  const std::shared_ptr<arrow::fs::FileSystem>& fs() const { return fs_; }

  /// The path inside fs() of a URI of this location's kind: any local path for a local
  /// location, any s3:// URI for an S3 one (the filesystem reaches every bucket).
  Result<std::string> PathOf(const std::string& uri) const;

  /// S3: fails unless the root's bucket exists (otherwise the first upload would, much later).
  /// Local: creates the root directory.
  Status Prepare() const;
  /// Local: mkdir -p. S3: nothing.
  Status CreateDirs(const std::string& uri) const;
  /// A file, or a directory (on S3: a prefix with objects under it).
  Result<bool> Exists(const std::string& uri) const;

  Result<std::string> ReadText(const std::string& uri) const;
  /// Writes a whole small file so that readers see the old or the new one, never a part.
  Status WriteText(const std::string& uri, const std::string& contents) const;

  Result<std::shared_ptr<arrow::io::RandomAccessFile>> OpenInput(const std::string& uri) const;
  /// A plain stream, for files nobody reads before they are closed (spill files).
  Result<std::shared_ptr<arrow::io::OutputStream>> OpenOutput(const std::string& uri) const;
  /// A stream whose file appears under `uri` only on Commit (see AtomicOutput).
  Result<std::unique_ptr<AtomicOutput>> OpenAtomic(const std::string& uri) const;

  /// Deletes a file; an absent one is fine.
  Status Delete(const std::string& uri) const;
  /// Deletes a directory and everything under it; an absent one is fine. On S3, Arrow leaves an
  /// empty marker object for the parent "directory" (so the parent of `uri`, never under it).
  Status DeleteTree(const std::string& uri) const;

 private:
  Location(std::string root, bool is_s3, std::shared_ptr<arrow::fs::FileSystem> fs)
      : root_(std::move(root)), is_s3_(is_s3), fs_(std::move(fs)) {}

  std::string root_;
  bool is_s3_ = false;
  std::shared_ptr<arrow::fs::FileSystem> fs_;
};

/// A file being written that appears under its name only when committed: locally a temporary
/// file renamed on Commit, on S3 an upload completed on Commit. Destroyed without Commit (an
/// error on the way), it leaves nothing: the temporary file is removed, the upload aborted.
class AtomicOutput {
 public:
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;
  ~AtomicOutput();

  const std::shared_ptr<arrow::io::OutputStream>& stream() const { return stream_; }
  /// Bytes written so far.
  Result<int64_t> Tell() const { return stream_->Tell(); }
  Status Commit();

 private:
  friend class Location;
  AtomicOutput(std::shared_ptr<arrow::io::OutputStream> stream, std::string uri, std::string temp_path)
      : stream_(std::move(stream)), uri_(std::move(uri)), temp_path_(std::move(temp_path)) {}
  void Discard();

  std::shared_ptr<arrow::io::OutputStream> stream_;
  std::string uri_;
  std::string temp_path_;  // local only; empty on S3
  bool done_ = false;
};

/// Whole-file helpers for local files (POSIX calls, errno kept): what Location does for a local
/// root. WriteFileAtomic writes "<path>.tmp-<pid>" then renames it into place.
Result<std::string> ReadTextFile(const std::string& path);
Status WriteFileAtomic(const std::string& path, const std::string& contents);

}  // namespace intraday
