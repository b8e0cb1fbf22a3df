// What a commissioner sees of a stratification run, pseudonymised: people by segment per
// practice, the population pyramid, how concentrated cost is (the Lorenz curve and the shares of
// the costliest 1, 2, 5 and 10%), the distribution of emergency-admission risk, and movement
// between segments since the run before. Counts only, never a person; every count is a
// DisclosedCount so the caller can apply the small-number rule (MaskCounts) before showing it.
//
// Pure and in memory; safe to call from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "analytics/population_report.h"
#include "analytics/stratification_report.h"
#include "core/result.h"
#include "domain/disclosure.h"
#include "domain/population.h"
#include "domain/stratification_run.h"

namespace joinedup::analytics {

struct SegmentTable {
  std::string model;                   // "mcmw 1.0"
  std::vector<std::string> columns;    // segment labels, kNoSegmentState, kOutsidePopulationState
  std::vector<std::string> practices;  // ascending ids; "(none)" last if any
  std::vector<std::vector<DisclosedCount>> counts;  // [practice][column]
  std::vector<DisclosedCount> totals;               // per column
  // The same columns per Primary Care Home (AddPrimaryCareHomes): ascending names, "(none)"
  // last for practices that name none and people registered nowhere.
  std::vector<std::string> pchs;
  std::vector<std::vector<DisclosedCount>> pch_counts;  // [pch][column]
};

inline constexpr std::array<double, 6> kRiskBandFloors = {0, 0.05, 0.10, 0.20, 0.30, 0.50};

struct Transition {
  std::string model;
  std::vector<std::string> from_states, to_states;
  std::vector<DisclosedCount> counts;  // row-major, as ModelMovement
};

struct PopulationViews {
  int64_t run_id = 0;
  Date index_date;
  DisclosedCount living;
  std::vector<SegmentTable> segments;                                  // one per model of the run
  std::array<std::array<DisclosedCount, 3>, kAgeBandCount> pyramid{};  // female, male, other
  CostConcentration cost;  // shares of living people's 12-month cost (not counts)
  // The Lorenz curve: (share of people, share of cost) at every 5% of people, cheapest first.
  std::vector<std::pair<double, double>> lorenz;
  std::array<DisclosedCount, kRiskBandFloors.size()> risk_bands{};  // by kRiskBandFloors
  std::optional<int64_t> previous_run_id;
  std::vector<Transition> movement;  // empty without a comparable previous run
  std::string movement_note;         // why there is no movement, when there is none
};

// `people` are the run's results; `registered` every registered person, any order. `previous` (and
// its people) the run before, for movement. kInvalidInput when a result names no known person.
Result<PopulationViews> BuildPopulationViews(const StratificationRun& run,
                                             std::span<const PersonRunResult> people,
                                             std::span<const RegisteredPerson> registered,
                                             const StratificationRun* previous,
                                             std::span<const PersonRunResult> previous_people);

// Fills each table's `pchs` and `pch_counts` by adding up its practices' true counts: call it
// before MaskCounts, so that a Primary Care Home's figure is never a sum of suppressed ones.
void AddPrimaryCareHomes(PopulationViews& views, std::span<const Practice> practices);

// Every count through the disclosure rule (domain/disclosure.h).
void MaskCounts(PopulationViews& views, const DisclosureRule& rule);

}  // namespace joinedup::analytics
