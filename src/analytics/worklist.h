// The case-management worklist: from a stratification run, the people to consider for active
// case management — those in the chosen top segment(s) of a model and/or in the top fraction by
// emergency-admission risk — less those already on a caseload, grouped by practice and ordered
// by risk, highest first.
//
// Caseloads arrive with the care layer; until then the caller says who is on one through
// `on_caseload` (a null function means nobody is).
//
// Pure and in memory; safe to call from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "core/result.h"
#include "domain/stratification_run.h"

namespace joinedup::analytics {

// Who is selected. The two criteria combine with "or"; at least one must be given.
struct WorklistSelection {
  int model = -1;                 // index into the run's models; -1: no segment criterion
  std::vector<int16_t> segments;  // with `model`: people in any of these (see TopSegments)
  double top_risk_fraction = 0;   // > 0: people in this top fraction of the run by admission
                                  // risk (AdmissionRiskCutoff; ties at the cut-off are in)
};

struct WorklistEntry {
  int64_t patient_key = 0;
  int32_t practice = -1;
  float admission_risk = 0;
  int64_t cost_12m_pence = 0;
  int16_t segment = -1;     // in the selection's model; -1 without one
  bool by_segment = false;  // selected for their segment
  bool by_risk = false;     // selected for their admission risk
};

struct PracticeWorklist {
  int32_t practice = -1;  // index into Cohort::practices; -1: not registered with a known one
  // Highest admission risk first; ties by higher 12-month cost, then lower patient_key, so the
  // same run always gives the same list.
  std::vector<WorklistEntry> entries;
};

struct Worklist {
  std::vector<PracticeWorklist> practices;  // ascending practice index, unregistered last
  float risk_cutoff = 0;                    // the admission risk cut-off used (if any)
  int64_t selected = 0;                     // people on the list
  int64_t on_caseload = 0;                  // met the criteria but are already on a caseload
};

// `people` are the run's results; `practice[i]` is people[i]'s practice (from the features the
// run was made from). kInvalidInput when sizes differ or the selection does not fit the run.
Result<Worklist> BuildWorklist(const StratificationRun& run,
                               std::span<const PersonRunResult> people,
                               std::span<const int32_t> practice,
                               const WorklistSelection& selection,
                               const std::function<bool(int64_t patient_key)>& on_caseload = {});

}  // namespace joinedup::analytics
