// Deterministic synthetic population: practices, people, and what happened to them.
//
//   synth::GenerateOptions options;
//   options.seed = 7;
//   options.patients = 245315;
//   options.as_of = Date::FromYmd(2024, 3, 31);
//   JU_ASSIGN_OR_RETURN(synth::GenerateStats stats, synth::Generate(options, sink));
//
// Contract:
//  * All practices are added first; then each patient, immediately followed by all of their
//    records (conditions, eFI deficit codes, medications, activities, and each admission's
//    ICD-10 diagnoses right after the admission). Every record refers to an earlier one.
//  * The sink is called from the calling thread only. Generation runs on `threads` worker
//    threads in chunks of people; each person's randomness is seeded from (seed, person
//    index), so the stream is identical for a seed whatever the thread count.
//  * Memory is bounded by a few chunks in flight, not by the population size.
//  * Errors: invalid options or embedded reference data give kInvalidInput; the first error
//    a sink returns stops generation and is returned as is.
// The rates, codes and costs come from data/synth/*.csv (see docs/synthetic-population.md).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/date.h"
#include "core/result.h"
#include "domain/population.h"

namespace joinedup::synth {

struct GenerateOptions {
  uint64_t seed = 1;
  int practices = 45;         // 1..999 (ids "SYN001".."SYN999")
  int64_t patients = 245315;  // 0..9,999,999
  // The extract date. History (deaths, activity) covers the 5 years (1,825 days) before it;
  // conditions may have been diagnosed earlier.
  Date as_of = Date::FromYmd(2024, 3, 31);
  int threads = 0;  // 0 = all cores
  // Called from the calling thread after each chunk is emitted; may be empty.
  std::function<void(int64_t done, int64_t total)> progress;
};

struct GenerateStats {
  int64_t practices = 0;
  int64_t primary_care_homes = 0;
  int64_t patients = 0;
  int64_t deaths = 0;  // within the history window
  // People beyond the ~909,000 valid numbers of the 999 test range get no NHS number (only
  // a source identifier); see docs/synthetic-population.md.
  int64_t patients_without_nhs_number = 0;
  int64_t clinical_events = 0;
  int64_t hospital_diagnoses = 0;  // ICD-10 events, included in clinical_events
  int64_t medications = 0;
  int64_t activities = 0;
  int64_t activities_by_type[kActivityTypeCount] = {};
  int64_t total_cost_pence = 0;
};

Result<GenerateStats> Generate(const GenerateOptions& options, PopulationSink& sink);

// The practices Generate would add for these options, with their list sizes (people with
// index first..first+list_size-1 belong to the practice, in order) and the practice's IMD
// decile. Cheap: no people are generated. Practices are grouped, in order, into Primary
// Care Homes ("PCH01"...) of 30,000-50,000 registered people where the population allows.
struct PracticePlan {
  Practice practice;
  int64_t list_size = 0;
  int imd_decile = 0;
};
Result<std::vector<PracticePlan>> PlanPractices(const GenerateOptions& options);

// The largest population that can get unique NHS numbers from the 999 test range.
int64_t NhsNumberCapacity();

}  // namespace joinedup::synth
