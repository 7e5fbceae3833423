#include "io/location.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <arrow/buffer.h>
#include <arrow/io/file.h>
#include <fmt/format.h>

#include "common/io_errors.h"

namespace intraday {
namespace {

constexpr std::string_view kS3Scheme = "s3://";

// Unique per process and call, so that concurrent writers never share a temporary file.
std::string TempSuffix() {
  static std::atomic<uint64_t> counter{0};
  return fmt::format(".tmp-{}-{}", static_cast<long>(::getpid()), counter.fetch_add(1));
}

// "bucket" of "s3://bucket/prefix" (empty when the URI names none).
std::string BucketOf(const std::string& uri) {
  const size_t begin = kS3Scheme.size();
  const size_t end = uri.find('/', begin);
  return uri.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

Status Named(const Status& status, std::string_view what, const std::string& uri) {
  return status.ok() ? status : status.WithMessage(what, " ", uri, ": ", status.message());
}

}  // namespace

Result<Location> Location::Open(const std::string& root, const S3Settings& s3) {
  std::string trimmed = root;
  const size_t keep = root.starts_with(kS3Scheme) ? kS3Scheme.size() : 1;
  while (trimmed.size() > keep && trimmed.back() == '/') trimmed.pop_back();
  if (trimmed.starts_with(kS3Scheme)) {
    if (BucketOf(trimmed).empty()) {
      return Status::Invalid("'", root, "' names no bucket: expected s3://bucket or s3://bucket/prefix");
    }
  }
  INTRADAY_ASSIGN_OR_RAISE(FileSystemRoot opened, OpenFileSystemRoot(trimmed, s3));
  // A local root is kept absolute, as Arrow's local filesystem wants it.
  return Location(opened.is_s3 ? trimmed : opened.base_path, opened.is_s3, std::move(opened.fs));
}

std::string Location::Join(std::string_view relative) const { return fmt::format("{}/{}", root_, relative); }

Result<std::string> Location::PathOf(const std::string& uri) const {
  const bool s3_uri = uri.starts_with(kS3Scheme);
  if (s3_uri != is_s3_) {
    return Status::Invalid("'", uri, "' is not ", is_s3_ ? "an s3:// URI" : "a local path",
                           " (it lies beside ", root_, ")");
  }
  if (!is_s3_) return uri;
  std::string path = uri.substr(kS3Scheme.size());
  while (!path.empty() && path.back() == '/') path.pop_back();
  return path;
}

Status Location::Prepare() const {
  if (!is_s3_) return CreateDirs(root_);
  const std::string bucket = BucketOf(root_);
  auto info = fs_->GetFileInfo(bucket);
  if (!info.ok()) return Named(info.status(), "cannot reach", root_);
  if (info->type() != arrow::fs::FileType::Directory) {
    return Status::IOError(root_, ": the bucket '", bucket, "' does not exist");
  }
  return Status::OK();
}

Status Location::CreateDirs(const std::string& uri) const {
  if (is_s3_) return Status::OK();  // keys are names: nothing to create
  std::error_code ec;
  std::filesystem::create_directories(uri, ec);
  if (ec) return ErrnoError(ec.value(), "cannot create ", uri);
  return Status::OK();
}

Result<bool> Location::Exists(const std::string& uri) const {
  if (!is_s3_) {
    std::error_code ec;
    return std::filesystem::exists(uri, ec);
  }
  INTRADAY_ASSIGN_OR_RAISE(auto path, PathOf(uri));
  auto info = fs_->GetFileInfo(path);
  if (!info.ok()) return Named(info.status(), "cannot look up", uri);
  return info->type() != arrow::fs::FileType::NotFound;
}

Result<std::string> Location::ReadText(const std::string& uri) const {
  if (!is_s3_) return ReadTextFile(uri);
  INTRADAY_ASSIGN_OR_RAISE(auto path, PathOf(uri));
  auto read = [&]() -> Result<std::string> {
    INTRADAY_ASSIGN_OR_RAISE(auto input, fs_->OpenInputStream(path));
    std::string text;
    while (true) {
      INTRADAY_ASSIGN_OR_RAISE(auto chunk, input->Read(1 << 20));
      if (chunk->size() == 0) break;
      text.append(reinterpret_cast<const char*>(chunk->data()), static_cast<size_t>(chunk->size()));
    }
    return text;
  };
  auto text = read();
  if (!text.ok()) return Named(text.status(), "cannot read", uri);
  return text;
}

Status Location::WriteText(const std::string& uri, const std::string& contents) const {
  if (!is_s3_) return WriteFileAtomic(uri, contents);
  // One upload under the final key: the object appears, whole, when it completes.
  INTRADAY_ASSIGN_OR_RAISE(auto out, OpenAtomic(uri));
  INTRADAY_RETURN_NOT_OK(Named(out->stream()->Write(contents.data(), static_cast<int64_t>(contents.size())),
                               "cannot write", uri));
  return out->Commit();
}

Result<std::shared_ptr<arrow::io::RandomAccessFile>> Location::OpenInput(const std::string& uri) const {
  if (!is_s3_) return arrow::io::ReadableFile::Open(uri);
  INTRADAY_ASSIGN_OR_RAISE(auto path, PathOf(uri));
  auto input = fs_->OpenInputFile(path);
  if (!input.ok()) return Named(input.status(), "cannot open", uri);
  return input;
}

Result<std::shared_ptr<arrow::io::OutputStream>> Location::OpenOutput(const std::string& uri) const {
  // Arrow's local file stream keeps errno in its errors: a full disk stays recognisable.
  if (!is_s3_) return arrow::io::FileOutputStream::Open(uri);
  INTRADAY_ASSIGN_OR_RAISE(auto path, PathOf(uri));
  auto output = fs_->OpenOutputStream(path);
  if (!output.ok()) return Named(output.status(), "cannot write", uri);
  return output;
}

Result<std::unique_ptr<AtomicOutput>> Location::OpenAtomic(const std::string& uri) const {
  if (!is_s3_) {
    const std::string temp = uri + TempSuffix();
    INTRADAY_ASSIGN_OR_RAISE(auto file, arrow::io::FileOutputStream::Open(temp));
    return std::unique_ptr<AtomicOutput>(new AtomicOutput(std::move(file), uri, temp));
  }
  INTRADAY_ASSIGN_OR_RAISE(auto stream, OpenOutput(uri));
  return std::unique_ptr<AtomicOutput>(new AtomicOutput(std::move(stream), uri, ""));
}

Status Location::Delete(const std::string& uri) const {
  if (!is_s3_) {
    std::error_code ec;
    std::filesystem::remove(uri, ec);
    return ec ? ErrnoError(ec.value(), "cannot delete ", uri) : Status::OK();
  }
  INTRADAY_ASSIGN_OR_RAISE(auto path, PathOf(uri));
  INTRADAY_ASSIGN_OR_RAISE(auto info, fs_->GetFileInfo(path));
  if (info.type() == arrow::fs::FileType::NotFound) return Status::OK();
  return Named(fs_->DeleteFile(path), "cannot delete", uri);
}

Status Location::DeleteTree(const std::string& uri) const {
  if (!is_s3_) {
    std::error_code ec;
    std::filesystem::remove_all(uri, ec);
    return ec ? ErrnoError(ec.value(), "cannot delete ", uri) : Status::OK();
  }
  INTRADAY_ASSIGN_OR_RAISE(auto path, PathOf(uri));
  INTRADAY_ASSIGN_OR_RAISE(auto info, fs_->GetFileInfo(path));
  if (info.type() == arrow::fs::FileType::NotFound) return Status::OK();
  if (info.type() == arrow::fs::FileType::File) return Named(fs_->DeleteFile(path), "cannot delete", uri);
  return Named(fs_->DeleteDir(path), "cannot delete", uri);
}

AtomicOutput::~AtomicOutput() {
  if (!done_) Discard();
}

void AtomicOutput::Discard() {
  done_ = true;
  if (temp_path_.empty()) {
    (void)stream_->Abort();  // S3: the multipart upload is aborted, no object appears
    return;
  }
  (void)stream_->Close();
  ::unlink(temp_path_.c_str());
}

Status AtomicOutput::Commit() {
  if (done_) return Status::Invalid("output ", uri_, " was already committed or discarded");
  if (temp_path_.empty()) {
    // Completes the upload: only now does the object exist under its key.
    const Status closed = stream_->Close();
    if (!closed.ok()) {
      Discard();
      return Named(closed, "cannot write", uri_);
    }
    done_ = true;
    return Status::OK();
  }
  Status status = stream_->Close();  // a full disk may show only when the data is flushed
  if (status.ok() && ::rename(temp_path_.c_str(), uri_.c_str()) != 0) {
    status = ErrnoError(errno, "cannot rename ", temp_path_, " to ", uri_);
  }
  done_ = true;
  if (!status.ok()) ::unlink(temp_path_.c_str());
  return status;
}

Result<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read ", path);
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return Status::IOError("cannot read ", path);
  return out.str();
}

Status WriteFileAtomic(const std::string& path, const std::string& contents) {
  // POSIX calls rather than a stream: each failure keeps its errno (a full disk must be told
  // apart from other errors, common/io_errors.h) and names the file.
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError(errno, "cannot write ", tmp);
  Status status;
  for (size_t done = 0; done < contents.size() && status.ok();) {
    const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = ErrnoError(errno, "cannot write ", tmp);
    } else {
      done += static_cast<size_t>(n);
    }
  }
  // Some filesystems report a full disk only when the data is flushed, at close.
  if (::close(fd) != 0 && status.ok()) status = ErrnoError(errno, "cannot write ", tmp);
  if (status.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    status = ErrnoError(errno, "cannot rename ", tmp, " to ", path);
  }
  if (!status.ok()) ::unlink(tmp.c_str());
  return status;
}

}  // namespace intraday
