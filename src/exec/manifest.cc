#include "exec/manifest.h"

namespace intraday {

using nlohmann::json;

Result<OutputManifest> OutputManifest::Load(const Location& output) {
  OutputManifest manifest(output);
  manifest.path_ = output.Join("_manifest.json");
  INTRADAY_ASSIGN_OR_RAISE(bool exists, output.Exists(manifest.path_));
  if (!exists) return manifest;
  INTRADAY_ASSIGN_OR_RAISE(auto text, output.ReadText(manifest.path_));
  try {
    const json j = json::parse(text);
    for (const auto& [pass, days] : j.at("passes").items()) {
      for (const auto& [day_text, entry] : days.items()) {
        INTRADAY_ASSIGN_OR_RAISE(Date day, Date::Parse(day_text));
        PublishedDay published;
        published.config_hash = entry.at("config_hash").get<std::string>();
        published.run_id = entry.at("run_id").get<std::string>();
        published.rows = entry.at("rows").get<int64_t>();
        published.bytes = entry.at("bytes").get<uint64_t>();
        published.path = entry.at("path").get<std::string>();
        manifest.days_[{pass, day.days_since_epoch()}] = std::move(published);
      }
    }
  } catch (const std::exception& e) {
    return Status::Invalid(manifest.path_, " is not a valid manifest: ", e.what());
  }
  return manifest;
}

const PublishedDay* OutputManifest::Find(const std::string& pass, Date day) const {
  const auto it = days_.find({pass, day.days_since_epoch()});
  return it == days_.end() ? nullptr : &it->second;
}

void OutputManifest::Record(const std::string& pass, Date day, PublishedDay published) {
  days_[{pass, day.days_since_epoch()}] = std::move(published);
}

Status OutputManifest::Save() const {
  json passes = json::object();
  for (const auto& [key, published] : days_) {
    passes[key.first][Date::FromDaysSinceEpoch(key.second).ToString()] = {
        {"config_hash", published.config_hash},
        {"run_id", published.run_id},
        {"rows", published.rows},
        {"bytes", published.bytes},
        {"path", published.path}};
  }
  const json j = {{"format", 1}, {"passes", passes}};
  return output_.WriteText(path_, j.dump(1) + "\n");
}

RunReport::RunReport(Location output, std::string path, std::string run_id, std::string config_hash,
                     std::string config_file)
    : output_(std::move(output)), path_(std::move(path)) {
  root_ = {{"run_id", std::move(run_id)},
           {"config_hash", std::move(config_hash)},
           {"config_file", std::move(config_file)},
           {"status", "running"},
           {"warnings", json::array()},
           {"retries", json::array()},
           {"days", json::array()}};
}

json& RunReport::Day(const std::string& pass, Date day) {
  for (auto& entry : root_["days"]) {
    if (entry["pass"] == pass && entry["day"] == day.ToString()) return entry;
  }
  root_["days"].push_back({{"pass", pass}, {"day", day.ToString()}, {"batches", json::array()}});
  return root_["days"].back();
}

void RunReport::Warning(const std::string& message) { root_["warnings"].push_back(message); }

void RunReport::Retry(const std::string& pass, Date day, const std::string& what) {
  root_["retries"].push_back({{"pass", pass}, {"day", day.ToString()}, {"what", what}});
}

Status RunReport::Save() const { return output_.WriteText(path_, root_.dump(1) + "\n"); }

}  // namespace intraday
