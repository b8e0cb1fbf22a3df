// What `joinedup stratify` prints after a run: how many people each segmentation model puts in
// each segment, per practice; the population pyramid; and how concentrated cost is.
//
// Cost concentration is the commissioner's first question of a capitated budget ("the
// costliest 5% use ~40% of health and care spend"): the share of the total 12-month cost used
// by the costliest 1%, 2%, 5% and 10% of living people, where the costliest k% are the
// round(n × k / 100) people with the highest cost (at least one when anyone is alive).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "analytics/features.h"
#include "analytics/population_report.h"
#include "analytics/segmentation.h"
#include "domain/cohort.h"
#include "domain/stratification_run.h"

namespace joinedup::analytics {

inline constexpr std::array<int, 4> kCostConcentrationPercents = {1, 2, 5, 10};

struct CostConcentration {
  int64_t people = 0;             // living people counted
  int64_t total_pence = 0;        // their total 12-month cost
  std::array<double, 4> share{};  // of total_pence, for kCostConcentrationPercents
};
CostConcentration CostConcentrationOf(std::span<const PersonFeatures> people);
// The same of living people's 12-month costs given directly (any order).
CostConcentration CostConcentrationOfCosts(std::vector<int64_t> costs);

// Segment counts of one model: per practice (Cohort::practices order, then "no practice"),
// per segment, then "fits no segment" and "outside the model's population".
struct SegmentCounts {
  SegmentationModelInfo model;
  std::vector<std::string> rows;             // practice ids, last "(none)"
  std::vector<std::vector<int64_t>> counts;  // [row][segment…, no segment, outside]
  std::vector<int64_t> totals;               // per column over all rows
};

struct StratificationSummary {
  Date index_date;
  int64_t living = 0;
  int64_t deceased = 0;
  std::array<AgeBandCount, kAgeBandCount> pyramid{};
  CostConcentration cost;
  std::vector<SegmentCounts> models;
};

// `assigned` places each person under each of `models` (ApplyModels); deceased people are
// counted apart, in no model.
StratificationSummary SummariseStratification(const Cohort& cohort, const CohortFeatures& features,
                                              std::span<const SegmentationModelInfo> models,
                                              const CohortAssignments& assigned);

// Plain-text tables for a terminal.
std::string FormatStratificationSummary(const StratificationSummary& summary);

}  // namespace joinedup::analytics
