// A stratification run as the store keeps it: when it ran, which segmentation models (and
// versions) it applied, and per person the scores and the segment each model put them in.
// Runs are kept so the engine can report movement between two runs and each person's history.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/date.h"

namespace joinedup {

struct SegmentationModelInfo {
  std::string name;     // e.g. "mcmw"
  std::string version;  // as written in the model file
  std::vector<std::string> segments;  // segment labels in the model's order (index = segment)
  friend bool operator==(const SegmentationModelInfo&, const SegmentationModelInfo&) = default;
};

struct StratificationRun {
  int64_t id = 0;          // assigned by the store
  std::string created_at;  // ISO 8601 UTC, assigned by the store
  Date index_date;
  std::vector<SegmentationModelInfo> models;
  int64_t people = 0;      // people stratified
};

// Per person, per run. `segment[m]` and `rule[m]` are for models[m]: the segment index, or
// kNoSegment when the person is in the model's population but fits none of its segments, or
// kOutsidePopulation when the model does not apply to them (e.g. under 65 for MCMW tiers);
// the index of the rule that matched, or -1.
inline constexpr int16_t kNoSegment = -1;
inline constexpr int16_t kOutsidePopulation = -2;
struct PersonRunResult {
  int64_t patient_key = 0;
  int16_t ltc_count = 0;
  int16_t efi_deficits = 0;
  int16_t hfrs_tenths = 0;
  int16_t charlson_1987 = 0;
  int16_t charlson_quan2011 = 0;
  int16_t elixhauser = 0;
  float admission_risk = 0;
  int64_t cost_12m_pence = 0;
  std::vector<int16_t> segment;
  std::vector<int16_t> rule;
  friend bool operator==(const PersonRunResult&, const PersonRunResult&) = default;
};

}  // namespace joinedup
