#include "config/config_json.h"

#include <charconv>
#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/units.h"

namespace intraday {
namespace {

using Json = nlohmann::ordered_json;

// YAML 1.2 core-schema resolution of a plain scalar; quoted or tagged scalars stay strings.
Json ScalarToJson(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (node.Tag() != "?") return text;
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") return nullptr;
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  static const std::regex kInt("[-+]?[0-9]+");
  static const std::regex kFloat("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  const char* begin = text.data() + (text.front() == '+' ? 1 : 0);
  const char* end = text.data() + text.size();
  if (std::regex_match(text, kInt)) {
    int64_t value = 0;
    if (auto [ptr, ec] = std::from_chars(begin, end, value); ec == std::errc() && ptr == end) return value;
  } else if (std::regex_match(text, kFloat)) {
    double value = 0;
    if (auto [ptr, ec] = std::from_chars(begin, end, value); ec == std::errc() && ptr == end) return value;
  }
  return text;
}

Json NodeToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (auto it = node.begin(); it != node.end(); ++it) {
        const YAML::Node key = it->first;  // a copy: the iterator yields a temporary pair
        out[key.IsScalar() ? key.Scalar() : YAML::Dump(key)] = NodeToJson(it->second);
      }
      return out;
    }
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (const auto& item : node) out.push_back(NodeToJson(item));
      return out;
    }
    case YAML::NodeType::Scalar: return ScalarToJson(node);
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return nullptr;
  }
  return nullptr;
}

Json DataJson(const DataConfig& data) {
  // Every table's effective template, defaults included: a change of default moves the files read.
  Json paths = Json::object();
  for (const auto& spec : AllTables()) {
    auto it = data.path_templates.find(spec.table);
    paths[std::string(spec.key)] =
        it != data.path_templates.end() ? it->second : DefaultPathTemplate(spec.table);
  }
  return Json{{"root", data.root},
              {"endpoint_override", data.s3.endpoint_override},
              {"region", data.s3.region},
              {"paths", paths},
              {"strict", data.strict}};
}

Json UniverseJson(const UniverseConfig& u) {
  return Json{{"mics", u.mics},
              {"tickers", u.tickers},
              {"listings", u.listings},
              {"isins", u.isins},
              {"file", u.file.empty() ? Json(nullptr) : Json(u.file)}};
}

Json DatesJson(const DatesConfig& dates) {
  Json holidays = Json::array();
  for (Date d : dates.holidays) holidays.push_back(d.ToString());
  return Json{{"start", dates.start.ToString()}, {"end", dates.end.ToString()}, {"holidays", holidays}};
}

Json RunJson(const RunConfig& run) {
  Json caps = Json::object();
  for (const auto& [table, rows] : run.max_rows_per_table) caps[std::string(SpecOf(table).key)] = rows;
  return Json{{"output", run.output},
              {"scratch", run.scratch},
              {"workers", run.workers ? Json(*run.workers) : Json("auto")},
              {"memory_per_worker", run.memory_per_worker},
              {"retries", run.retries},
              {"max_rows_per_table", caps},
              {"log_level", ToString(run.log_level)},
              {"resume", run.resume},
              {"force", run.force},
              {"shred_buffer", run.shred_buffer},
              {"size_estimates", ToString(run.size_estimates)},
              {"overlap_days", run.overlap_days},
              {"days_side_by_side", run.days_side_by_side},
              {"wide_batches", run.wide_batches},
              {"time_slice", run.time_slice ? Json(*run.time_slice) : Json("auto")},
              {"output_compression", run.output_compression},
              {"output_compression_level",
               run.output_compression_level ? Json(*run.output_compression_level) : Json(nullptr)}};
}

Json PassJson(const PassConfig& pass) {
  Json modules = Json::object();
  for (const auto& module : pass.modules) modules[module.name] = NodeToJson(module.options);
  return Json{{"name", pass.name},
              {"bucket", FormatDuration(pass.bucket_ns)},
              {"anchor", ToString(pass.anchor)},
              {"closed", ToString(pass.closed)},
              {"timeline", ToString(pass.timeline)},
              {"session_padding", FormatDuration(pass.session_padding_ns)},
              {"modules", modules}};
}

Json PassesJson(const std::vector<PassConfig>& passes) {
  Json out = Json::array();
  for (const auto& pass : passes) out.push_back(PassJson(pass));
  return out;
}

uint64_t Fnv1a64(std::string_view bytes) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ull;
  }
  return hash;
}

}  // namespace

std::string CanonicalConfigJson(const PipelineConfig& config, int indent) {
  const Json json{{"data", DataJson(config.data)},
                  {"universe", UniverseJson(config.universe)},
                  {"dates", DatesJson(config.dates)},
                  {"run", RunJson(config.run)},
                  {"passes", PassesJson(config.passes)}};
  return json.dump(indent);
}

uint64_t ConfigHash(const PipelineConfig& config) {
  const Json json{{"data", DataJson(config.data)},
                  {"universe", UniverseJson(config.universe)},
                  {"passes", PassesJson(config.passes)}};
  return Fnv1a64(json.dump());
}

std::string ConfigHashHex(const PipelineConfig& config) { return fmt::format("{:016x}", ConfigHash(config)); }

std::string YamlToJson(const YAML::Node& node) { return NodeToJson(node).dump(); }

}  // namespace intraday
