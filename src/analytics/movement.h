// Movement between two stratification runs: per segmentation model a transition matrix
// (including "no segment", "outside population", and people who joined or left), and the
// people whose risk rose — the MDT's case-finding list.
//
// A person's risk rose when, between the earlier and the later run, they
//   - moved to a segment of higher rank (segments declare `rank` in the model file; higher =
//     more need; moves into or out of "no segment" are not ranked, so not rises), or
//   - crossed a score band upward: eFI category (fit < mild < moderate < severe), HFRS band
//     (low < intermediate < high), or emergency-admission risk crossing into the top fraction
//     of its run (default 5%) or over a fixed threshold.
// Only people in both runs can rise; joiners and leavers show in the matrices.
//
// Pure and in memory; safe to call from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "analytics/segmentation.h"
#include "core/result.h"
#include "domain/stratification_run.h"

namespace joinedup::analytics {

// One run and its per-person results, in ascending patient_key (as the store returns them).
struct RunResults {
  const StratificationRun& run;
  std::span<const PersonRunResult> people;
};

struct MovementOptions {
  // Names of the models to compare; each must be in both runs. Empty: every model, and then
  // both runs must have applied models of the same names.
  std::vector<std::string> models;
  // A person crosses the admission-risk band when they go from below to at-or-above the cut-off.
  // With a threshold, the cut-off is that risk in both runs; otherwise it is the risk of the
  // person at the top `admission_risk_top_fraction` of each run (ties at the cut-off count in).
  std::optional<float> admission_risk_threshold;
  double admission_risk_top_fraction = 0.05;
};

struct ModelMovement {
  std::string name;
  std::string from_version, to_version;
  bool version_changed = false;  // compared anyway; the caller should say so
  // Segment rises are reported only when the ranks of both runs' segments are known: a model
  // passed to CompareRuns has this name and the same segment labels, and declares ranks.
  bool ranked = false;
  // Rows: the earlier run's states; columns: the later run's. Each is the model's segment labels
  // in order, then kNoSegmentState, kOutsidePopulationState, and kJoinedState as the last row,
  // kLeftState as the last column.
  std::vector<std::string> from_states, to_states;
  std::vector<int64_t> counts;  // from_states.size() × to_states.size(), row-major
  int64_t At(size_t from, size_t to) const { return counts[from * to_states.size() + to]; }
};
inline constexpr std::string_view kNoSegmentState = "no segment";
inline constexpr std::string_view kOutsidePopulationState = "outside population";
inline constexpr std::string_view kJoinedState = "joined";
inline constexpr std::string_view kLeftState = "left";

struct Rise {
  enum class Kind { kSegment, kEfiCategory, kHfrsBand, kAdmissionRisk };
  Kind kind = Kind::kSegment;
  int model = -1;  // kSegment: index into Movement::models
  // kSegment: segment indices (earlier, later run); kEfiCategory / kHfrsBand: level indices.
  int from = 0, to = 0;
  // kEfiCategory: deficits; kHfrsBand: points; kAdmissionRisk: the risks.
  double from_value = 0, to_value = 0;
};

struct Riser {
  int64_t patient_key = 0;
  std::vector<Rise> rises;
};

struct Movement {
  int64_t from_run = 0, to_run = 0;
  std::vector<ModelMovement> models;
  std::vector<Riser> risers;  // ascending patient_key
  int64_t stayed = 0, joined = 0, left = 0;
  float from_risk_cutoff = 0, to_risk_cutoff = 0;
};

// Fails with kInvalidInput when the runs' models differ in name (see MovementOptions::models),
// or results are out of patient_key order, or a result's segments do not fit its run's models.
Result<Movement> CompareRuns(const RunResults& before, const RunResults& after,
                             std::span<const SegmentationModel> models,
                             const MovementOptions& options = {});

// "mcmw: Tier 1 → Tier 3", "eFI mild → moderate (7 → 9 deficits)", …
std::string DescribeRise(const Movement& movement, const Rise& rise);

// The admission risk at or above which a person is in the top `fraction` of `people`:
// the ceil(fraction × n)-th highest risk. +infinity (nobody) when that is no one.
float AdmissionRiskCutoff(std::span<const PersonRunResult> people, double fraction);

}  // namespace joinedup::analytics
