// The feature engine: every person's features, scores and evidence (features.h) from an
// in-memory Cohort, on all cores.
//
//   FeatureOptions options;
//   options.index_date = Date::FromYmd(2024, 3, 31);
//   options.risk_model = *AdmissionRiskModel();
//   JU_ASSIGN_OR_RETURN(CohortFeatures features, ComputeFeatures(cohort, options));
//
// Definitions at the index date D (nothing dated after D is used):
//   age            whole years at D. People who died on or before D are marked `deceased` and
//                  not scored (every other feature 0, admission_risk 0, outside cost_percentile).
//                  People born after D get age 0 and, having no records, zero features.
//   ltc_count      long-term conditions of ltc_conditions.csv with any code (GP or hospital,
//                  any terminology of the list) dated on or before D; each counts once.
//   mental_health_need  any condition of that list marked mental_health (dementia, depression,
//                  severe mental illness) recorded on or before D.
//   social_care_need    a social care package, care-home placement or continuing healthcare
//                  episode current at D or ended within the 12 months before D
//                  (end > D - 1 year), or a coded requirement for care: the eFI deficit
//                  "Requirement for care" (e.g. Read 13G61 "Home help attends", 13FX. "Lives
//                  in care home") recorded on or before D.
//   efi            EfiModel (Clegg 2016) over codes and values dated on or before D and the
//                  polypharmacy rule of efi.h (distinct medications whose prescription overlaps
//                  [D - 1 year, D]). Units are not in a Cohort, so value rules ignore units.
//   hfrs           HfrsModel (Gilbert 2018): ICD-10 diagnoses from hospital events with
//                  admission method emergency dated in [D - 2 years, D], both ends included.
//   charlson_*, elixhauser  Quan 2005 ICD-10 algorithms with hierarchies, over every ICD-10
//                  coded event dated in [D - 5 years, D]. Why 5 years: these are chronic
//                  conditions, and a longer lookback identifies more of them; Preen DB et al.
//                  J Clin Epidemiol 2006;59:940-6 found a 5-year lookback best for modelling
//                  readmission (1 year for mortality), and emergency admission is what we predict.
//   *_12m          activities starting in (D - 1 year, D]: emergency admissions and A&E
//                  attendances counted; bed days = each admission's (emergency or elective)
//                  length of stay, cut at D; cost = the whole cost of contacts and admissions
//                  starting in the window (tariffs pay per spell), plus for packages and
//                  placements (which run over a period) their cost spread evenly over their days
//                  [start, end) and counted for the days inside the window. An episode with no
//                  end is costed up to FeatureOptions::extract_date.
//   cost_percentile  100 x (living people costing strictly less) / (living people).
//   continuing_healthcare, care_home, social_care_package  an episode of that type current at D
//                  (start <= D and no end or end >= D).
//   admission_risk  options.risk_model->Score(features), 0 if no model.
//
// Evidence (CohortFeatures::evidence), per person in this order, each with the first (earliest)
// code that triggered it: kLtcCount per condition (detail = condition index in LtcConditions()),
// kMentalHealthNeed per mental-health condition (same detail), kSocialCareNeed (activity:
// concept kNoConcept, detail = ActivityType; coded: detail = the eFI deficit), kEfiDeficits per
// deficit (detail = deficit index; polypharmacy has kNoConcept and the index date), kHfrs per
// category (detail = index in HfrsModel::categories()), kCharlson1987 per Charlson condition
// counted after the hierarchy, kElixhauser likewise, and kContinuingHealthcare / kCareHome /
// kSocialCarePackage with the current episode (kNoConcept, its start, detail = ActivityType).
//
// Work is split into chunks of people over `threads` threads (the calling thread included);
// the result is identical whatever the thread count. Bad input (offsets that are not a valid
// grouping, a concept index out of range) is an error naming the first bad person; never a
// crash.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "analytics/features.h"
#include "core/date.h"
#include "core/result.h"
#include "domain/cohort.h"

namespace joinedup::analytics {

class RiskModel;

inline constexpr int kHfrsLookbackYears = 2;
inline constexpr int kComorbidityLookbackYears = 5;
inline constexpr int kActivityWindowYears = 1;

struct FeatureOptions {
  Date index_date;
  int threads = 0;                        // 0: all cores
  const RiskModel* risk_model = nullptr;  // nullptr: admission_risk 0
  // Called from the calling thread with people done so far; may be empty.
  std::function<void(int64_t done, int64_t total)> progress;
  // The date the records were extracted: open-ended packages are costed up to it. Defaults to
  // the index date (stratifying "now"); set it when the index date is in the past.
  std::optional<Date> extract_date;
};

Result<CohortFeatures> ComputeFeatures(const Cohort& cohort, const FeatureOptions& options);

}  // namespace joinedup::analytics
