#include "analytics/worklist.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include <fmt/format.h>

#include "analytics/movement.h"

namespace joinedup::analytics {

Result<Worklist> BuildWorklist(const StratificationRun& run,
                               std::span<const PersonRunResult> people,
                               std::span<const int32_t> practice,
                               const WorklistSelection& selection,
                               const std::function<bool(int64_t patient_key)>& on_caseload) {
  if (practice.size() != people.size())
    return Error::Invalid(
        fmt::format("worklist: {} practices given for {} people", practice.size(), people.size()));
  const bool by_segment = selection.model >= 0;
  const bool by_risk = selection.top_risk_fraction > 0;
  if (!by_segment && !by_risk)
    return Error::Invalid("worklist: choose a model's segments, a top fraction by risk, or both");
  if (!(selection.top_risk_fraction >= 0 && selection.top_risk_fraction <= 1))
    return Error::Invalid(fmt::format("worklist: top risk fraction {} is not between 0 and 1",
                                      selection.top_risk_fraction));
  std::vector<bool> chosen;
  if (by_segment) {
    if (static_cast<size_t>(selection.model) >= run.models.size())
      return Error::Invalid(fmt::format("worklist: run {} has {} models, not model {}", run.id,
                                        run.models.size(), selection.model));
    const auto& info = run.models[static_cast<size_t>(selection.model)];
    if (selection.segments.empty())
      return Error::Invalid(fmt::format("worklist: no segments of '{}' chosen", info.name));
    chosen.assign(info.segments.size(), false);
    for (int16_t s : selection.segments) {
      if (s < 0 || static_cast<size_t>(s) >= info.segments.size())
        return Error::Invalid(fmt::format("worklist: model '{}' has {} segments, not segment {}",
                                          info.name, info.segments.size(), s));
      chosen[static_cast<size_t>(s)] = true;
    }
  }

  Worklist out;
  out.risk_cutoff = by_risk ? AdmissionRiskCutoff(people, selection.top_risk_fraction)
                            : std::numeric_limits<float>::infinity();
  std::vector<WorklistEntry> entries;
  for (size_t i = 0; i < people.size(); ++i) {
    const PersonRunResult& p = people[i];
    WorklistEntry e;
    e.patient_key = p.patient_key;
    e.practice = practice[i];
    e.admission_risk = p.admission_risk;
    e.cost_12m_pence = p.cost_12m_pence;
    if (by_segment) {
      if (static_cast<size_t>(selection.model) >= p.segment.size())
        return Error::Invalid(fmt::format("worklist: patient {} has no result for model {}",
                                          p.patient_key, selection.model));
      e.segment = p.segment[static_cast<size_t>(selection.model)];
      e.by_segment = e.segment >= 0 && static_cast<size_t>(e.segment) < chosen.size() &&
                     chosen[static_cast<size_t>(e.segment)];
    }
    e.by_risk = by_risk && p.admission_risk >= out.risk_cutoff;
    if (!e.by_segment && !e.by_risk) continue;
    if (on_caseload && on_caseload(p.patient_key)) {
      ++out.on_caseload;
      continue;
    }
    entries.push_back(e);
  }
  out.selected = static_cast<int64_t>(entries.size());

  // Practice ascending (unregistered last), then risk descending with deterministic ties. NaN
  // risks (never expected) sort as lowest so the order stays a strict weak ordering.
  auto practice_order = [](int32_t p) {
    return p < 0 ? std::numeric_limits<int64_t>::max() : int64_t{p};
  };
  auto risk = [](float r) { return std::isnan(r) ? -std::numeric_limits<float>::infinity() : r; };
  std::sort(entries.begin(), entries.end(), [&](const WorklistEntry& a, const WorklistEntry& b) {
    if (practice_order(a.practice) != practice_order(b.practice))
      return practice_order(a.practice) < practice_order(b.practice);
    if (risk(a.admission_risk) != risk(b.admission_risk))
      return risk(a.admission_risk) > risk(b.admission_risk);
    if (a.cost_12m_pence != b.cost_12m_pence) return a.cost_12m_pence > b.cost_12m_pence;
    return a.patient_key < b.patient_key;
  });
  for (WorklistEntry& e : entries) {
    if (out.practices.empty() || out.practices.back().practice != e.practice)
      out.practices.push_back({e.practice, {}});
    out.practices.back().entries.push_back(e);
  }
  return out;
}

}  // namespace joinedup::analytics
