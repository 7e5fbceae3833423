#include "io/lake.h"

#include <cstdlib>
#include <filesystem>
#include <mutex>

#include <arrow/filesystem/localfs.h>
#include <arrow/filesystem/s3fs.h>
#include <fmt/format.h>

namespace intraday {
namespace {

std::string EnvOr(const char* name, const std::string& fallback = "") {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

// Calls fn(placeholder) for each "{name}" of the template; literal text goes to out.
template <typename Fn>
Status ForEachPlaceholder(const std::string& tmpl, std::string* out, Fn&& fn) {
  size_t pos = 0;
  while (pos < tmpl.size()) {
    const size_t open = tmpl.find_first_of("{}", pos);
    if (open == std::string::npos) {
      out->append(tmpl, pos);
      break;
    }
    if (tmpl[open] == '}') return Status::Invalid("path template '", tmpl, "' has an unmatched '}'");
    out->append(tmpl, pos, open - pos);
    const size_t close = tmpl.find('}', open);
    if (close == std::string::npos) return Status::Invalid("path template '", tmpl, "' has an unmatched '{'");
    INTRADAY_RETURN_NOT_OK(fn(tmpl.substr(open + 1, close - open - 1)));
    pos = close + 1;
  }
  return Status::OK();
}

constexpr std::string_view kPlaceholders = "{MIC} {YYYY} {MM} {DD} {YYYYMMDD} {Date} {Folder} {prefix}";

std::mutex s3_mutex;
bool s3_used = false;

}  // namespace

Result<std::string> ExpandPathTemplate(const std::string& path_template, Table table, Date day,
                                       const std::string& mic) {
  const TableSpec& spec = SpecOf(table);
  std::string out;
  INTRADAY_RETURN_NOT_OK(ForEachPlaceholder(path_template, &out, [&](const std::string& name) -> Status {
    if (name == "MIC") {
      out += mic;
    } else if (name == "YYYY") {
      out += fmt::format("{:04d}", day.year());
    } else if (name == "MM") {
      out += fmt::format("{:02d}", day.month());
    } else if (name == "DD") {
      out += fmt::format("{:02d}", day.day());
    } else if (name == "YYYYMMDD") {
      out += day.Compact();
    } else if (name == "Date") {
      out += day.ToString();
    } else if (name == "Folder") {
      out += spec.folder;
    } else if (name == "prefix") {
      out += spec.prefix;
    } else {
      return Status::Invalid("path template '", path_template, "' has an unknown placeholder {", name,
                             "}: expected one of ", kPlaceholders);
    }
    return Status::OK();
  }));
  return out;
}

Status ValidatePathTemplate(const std::string& path_template) {
  return ExpandPathTemplate(path_template, Table::kTrades, Date::FromYmd(2026, 1, 2), "XLON").status();
}

Result<FileSystemRoot> OpenFileSystemRoot(const std::string& root, const S3Settings& s3) {
  if (root.empty()) return Status::Invalid("the lake root is empty");
  FileSystemRoot out;
  if (root.starts_with("s3://")) {
    {
      std::lock_guard<std::mutex> lock(s3_mutex);
      INTRADAY_RETURN_NOT_OK(arrow::fs::EnsureS3Initialized());
      s3_used = true;
    }
    // Not S3Options::FromUri: without a region in the URI it asks AWS itself for the bucket's
    // region, even when an endpoint override points elsewhere.
    auto options = arrow::fs::S3Options::Defaults();
    out.base_path = root.substr(5);
    const std::string bucket = out.base_path.substr(0, out.base_path.find('/'));
    std::string endpoint = s3.endpoint_override;
    if (endpoint.empty()) endpoint = EnvOr("AWS_ENDPOINT_URL_S3", EnvOr("AWS_ENDPOINT_URL"));
    if (!endpoint.empty()) {
      if (endpoint.starts_with("http://")) {
        options.scheme = "http";
        endpoint = endpoint.substr(7);
      } else if (endpoint.starts_with("https://")) {
        options.scheme = "https";
        endpoint = endpoint.substr(8);
      }
      while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
      options.endpoint_override = endpoint;
    }
    std::string region = s3.region;
    if (region.empty()) region = EnvOr("AWS_REGION", EnvOr("AWS_DEFAULT_REGION"));
    if (region.empty() && endpoint.empty() && !bucket.empty()) {
      INTRADAY_ASSIGN_OR_RAISE(region, arrow::fs::ResolveS3BucketRegion(bucket));
    }
    if (!region.empty()) options.region = region;
    const std::string key = EnvOr("AWS_ACCESS_KEY_ID");
    const std::string secret = EnvOr("AWS_SECRET_ACCESS_KEY");
    if (!key.empty() && !secret.empty()) {
      options.ConfigureAccessKey(key, secret, EnvOr("AWS_SESSION_TOKEN"));
    }
    INTRADAY_ASSIGN_OR_RAISE(out.fs, arrow::fs::S3FileSystem::Make(options));
    out.is_s3 = true;
  } else {
    std::string path = root;
    if (path.starts_with("file://")) path = path.substr(7);
    // Arrow's local filesystem wants absolute paths.
    std::error_code ec;
    out.base_path = std::filesystem::absolute(path, ec).lexically_normal().string();
    if (ec) return Status::IOError("cannot resolve the lake root '", root, "': ", ec.message());
    // Memory-mapped: Parquet pages are decoded straight from the page cache instead of being
    // copied into fresh heap buffers first (-5% wall, -9% worker peak on the benchmark lake;
    // docs/engine.md). A file must not be truncated while a run reads it (that is a SIGBUS).
    arrow::fs::LocalFileSystemOptions local;
    local.use_mmap = true;
    out.fs = std::make_shared<arrow::fs::LocalFileSystem>(local);
  }
  while (out.base_path.size() > 1 && out.base_path.back() == '/') out.base_path.pop_back();
  return out;
}

S3Lifetime::~S3Lifetime() {
  std::lock_guard<std::mutex> lock(s3_mutex);
  if (s3_used) (void)arrow::fs::EnsureS3Finalized();
}

Result<std::shared_ptr<Lake>> Lake::Open(LakeOptions options) {
  for (const auto& [table, tmpl] : options.path_templates) {
    auto st = ValidatePathTemplate(tmpl);
    if (!st.ok()) return st.WithMessage("data.paths.", SpecOf(table).key, ": ", st.message());
  }
  INTRADAY_ASSIGN_OR_RAISE(auto root, OpenFileSystemRoot(options.root, options.s3));
  // A missing root is a typo or a wrong bucket, not "no data": say so instead of reporting every
  // file as missing.
  auto info = root.fs->GetFileInfo(root.base_path);
  const std::string shown = root.is_s3 ? "s3://" + root.base_path : root.base_path;
  if (!info.ok()) {
    return info.status().WithMessage("cannot open the lake root ", shown, ": ", info.status().message());
  }
  if (info->type() != arrow::fs::FileType::Directory) {
    return Status::IOError(
        "the lake root ", shown,
        info->type() == arrow::fs::FileType::NotFound ? " does not exist" : " is not a directory");
  }
  return std::shared_ptr<Lake>(new Lake(std::move(options), std::move(root)));
}

Result<std::string> Lake::PathOf(Table table, Date day, const std::string& mic) const {
  auto it = options_.path_templates.find(table);
  const std::string tmpl = it != options_.path_templates.end() ? it->second : DefaultPathTemplate(table);
  INTRADAY_ASSIGN_OR_RAISE(auto relative, ExpandPathTemplate(tmpl, table, day, mic));
  return root_.base_path + "/" + relative;
}

Result<std::optional<std::string>> Lake::Locate(Table table, Date day, const std::string& mic) const {
  INTRADAY_ASSIGN_OR_RAISE(auto path, PathOf(table, day, mic));
  auto info = root_.fs->GetFileInfo(path);
  if (!info.ok()) {
    return info.status().WithMessage("cannot look up ", DisplayPath(path), ": ", info.status().message());
  }
  switch (info->type()) {
    case arrow::fs::FileType::File: return std::optional<std::string>(path);
    case arrow::fs::FileType::NotFound: return std::optional<std::string>();
    default: return Status::IOError(DisplayPath(path), " exists but is not a file");
  }
}

std::string Lake::DisplayPath(const std::string& path) const { return root_.is_s3 ? "s3://" + path : path; }

}  // namespace intraday
