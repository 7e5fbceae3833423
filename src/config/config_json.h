// The canonical form of an effective config and its hash, recorded in the run manifest.
//
// Canonical: the same effective config gives the same bytes however the file was written (key
// order, quoting, "2GiB" vs "2048MiB", "60s" vs "1m", list order of MICs and holidays, defaults
// written out or not). Module options keep their order from the file, since a module may use it
// (e.g. the order of output columns).
#pragma once

#include <cstdint>
#include <string>

#include <yaml-cpp/yaml.h>

#include "config/pipeline_config.h"

namespace intraday {

/// The whole effective config as JSON with a fixed key order: data, universe, dates, run, passes.
/// Paths are resolved, byte sizes are integers, durations are in their largest exact unit.
/// `indent` < 0 gives one line.
std::string CanonicalConfigJson(const PipelineConfig& config, int indent = -1);

/// FNV-1a 64 of the canonical JSON of the keys that determine output values: data, universe and
/// passes. It leaves out `dates` (a day's output does not depend on which other days are in the
/// range, so extending a run keeps its hash) and `run` (where and how fast, never what: outputs
/// are identical whatever workers or memory). Two runs with the same hash compute the same values
/// for the same day.
uint64_t ConfigHash(const PipelineConfig& config);

/// ConfigHash as 16 lower-case hex digits.
std::string ConfigHashHex(const PipelineConfig& config);

/// A YAML node as JSON text: maps in file order, plain scalars typed (null, true/false, integers,
/// floats), quoted scalars as strings.
std::string YamlToJson(const YAML::Node& node);

}  // namespace intraday
