#include "analytics/population_views.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

#include "analytics/movement.h"

namespace joinedup::analytics {
namespace {

constexpr std::string_view kNoPractice = "(none)";

int SexColumn(Sex sex) { return sex == Sex::kFemale ? 0 : sex == Sex::kMale ? 1 : 2; }

int RiskBand(double risk) {
  int band = 0;
  for (size_t i = 0; i < kRiskBandFloors.size(); ++i)
    if (risk >= kRiskBandFloors[i]) band = static_cast<int>(i);
  return band;
}

// Points at every 5% of people, cheapest first: the share of all cost those people use. A
// point's people are round(n × share); ties in cost do not matter to the curve.
std::vector<std::pair<double, double>> Lorenz(std::vector<int64_t> costs) {
  std::vector<std::pair<double, double>> points;
  std::sort(costs.begin(), costs.end());
  int64_t total = 0;
  for (int64_t c : costs) total += c;
  const auto n = static_cast<double>(costs.size());
  size_t taken = 0;
  int64_t sum = 0;
  for (int step = 0; step <= 20; ++step) {
    const double share = step / 20.0;
    const auto upto = static_cast<size_t>(std::llround(n * share));
    while (taken < upto && taken < costs.size()) sum += costs[taken++];
    points.emplace_back(share,
                        total > 0 ? static_cast<double>(sum) / static_cast<double>(total) : share);
  }
  return points;
}

}  // namespace

Result<PopulationViews> BuildPopulationViews(const StratificationRun& run,
                                             std::span<const PersonRunResult> people,
                                             std::span<const RegisteredPerson> registered,
                                             const StratificationRun* previous,
                                             std::span<const PersonRunResult> previous_people) {
  std::unordered_map<int64_t, const RegisteredPerson*> by_key;
  by_key.reserve(registered.size());
  for (const RegisteredPerson& f : registered) by_key.emplace(f.patient_key, &f);

  PopulationViews v;
  v.run_id = run.id;
  v.index_date = run.index_date;
  const size_t models = run.models.size();
  // [model][practice] → counts per column (segments…, no segment, outside).
  std::vector<std::map<std::string, std::vector<int64_t>>> tables(models);
  std::array<std::array<int64_t, 3>, kAgeBandCount> pyramid{};
  std::array<int64_t, kRiskBandFloors.size()> risk_bands{};
  std::vector<int64_t> costs;
  costs.reserve(people.size());
  int64_t living = 0;
  for (const PersonRunResult& r : people) {
    auto it = by_key.find(r.patient_key);
    if (it == by_key.end())
      return Error::Invalid("stratification run " + std::to_string(run.id) +
                            " names a person who is not registered (key " +
                            std::to_string(r.patient_key) + ")");
    const RegisteredPerson& f = *it->second;
    if (f.death_date && *f.death_date <= run.index_date) continue;
    ++living;
    costs.push_back(r.cost_12m_pence);
    ++risk_bands[static_cast<size_t>(RiskBand(r.admission_risk))];
    const int band = AgeBandOf(AgeInYears(f.birth_date, run.index_date));
    ++pyramid[static_cast<size_t>(band)][static_cast<size_t>(SexColumn(f.sex))];
    const std::string practice = f.practice_id.empty() ? std::string(kNoPractice) : f.practice_id;
    for (size_t m = 0; m < models; ++m) {
      const size_t segments = run.models[m].segments.size();
      std::vector<int64_t>& row = tables[m][practice];
      if (row.empty()) row.assign(segments + 2, 0);
      const int16_t s = m < r.segment.size() ? r.segment[m] : kOutsidePopulation;
      const size_t column = s >= 0 && static_cast<size_t>(s) < segments ? static_cast<size_t>(s)
                            : s == kOutsidePopulation                   ? segments + 1
                                                                        : segments;
      ++row[column];
    }
  }
  v.living = {living};
  for (size_t m = 0; m < models; ++m) {
    SegmentTable t;
    const SegmentationModelInfo& model = run.models[m];
    t.model = model.name + " " + model.version;
    t.columns = model.segments;
    t.columns.emplace_back(kNoSegmentState);  // the same words as movement's states
    t.columns.emplace_back(kOutsidePopulationState);
    std::vector<int64_t> totals(t.columns.size(), 0);
    // "(none)" sorts after the practice codes (it starts with '(' which sorts first: move it).
    std::vector<std::string> order;
    for (const auto& [practice, row] : tables[m])
      if (practice != kNoPractice) order.push_back(practice);
    if (tables[m].contains(std::string(kNoPractice))) order.emplace_back(kNoPractice);
    for (const std::string& practice : order) {
      const std::vector<int64_t>& row = tables[m][practice];
      t.practices.push_back(practice);
      std::vector<DisclosedCount> shown;
      for (size_t c = 0; c < row.size(); ++c) {
        shown.push_back({row[c]});
        totals[c] += row[c];
      }
      t.counts.push_back(std::move(shown));
    }
    for (int64_t total : totals) t.totals.push_back({total});
    v.segments.push_back(std::move(t));
  }
  for (size_t b = 0; b < pyramid.size(); ++b)
    for (size_t s = 0; s < 3; ++s) v.pyramid[b][s] = {pyramid[b][s]};
  for (size_t b = 0; b < risk_bands.size(); ++b) v.risk_bands[b] = {risk_bands[b]};
  v.lorenz = Lorenz(costs);
  v.cost = CostConcentrationOfCosts(std::move(costs));

  if (previous != nullptr) {
    v.previous_run_id = previous->id;
    auto movement =
        CompareRuns(RunResults{*previous, previous_people}, RunResults{run, people}, {});
    if (!movement.ok()) {
      v.movement_note = movement.error().message;
    } else {
      for (const ModelMovement& m : movement->models) {
        Transition t;
        t.model = m.name + (m.version_changed ? " (" + m.from_version + " → " + m.to_version + ")"
                                              : " " + m.to_version);
        t.from_states = m.from_states;
        t.to_states = m.to_states;
        for (int64_t c : m.counts) t.counts.push_back({c});
        v.movement.push_back(std::move(t));
      }
    }
  } else {
    v.movement_note = "There is no earlier stratification run to compare with.";
  }
  return v;
}

void AddPrimaryCareHomes(PopulationViews& v, std::span<const Practice> practices) {
  std::map<std::string, std::string> pch_of;
  for (const Practice& p : practices)
    if (!p.pch.empty()) pch_of.emplace(p.id, p.pch);
  for (SegmentTable& t : v.segments) {
    std::map<std::string, std::vector<int64_t>> sums;
    for (size_t i = 0; i < t.practices.size(); ++i) {
      auto it = pch_of.find(t.practices[i]);
      std::vector<int64_t>& sum = sums[it == pch_of.end() ? std::string(kNoPractice) : it->second];
      sum.resize(t.columns.size(), 0);
      for (size_t c = 0; c < t.counts[i].size() && c < sum.size(); ++c)
        sum[c] += t.counts[i][c].value.value_or(0);
    }
    t.pchs.clear();
    t.pch_counts.clear();
    for (int none_last = 0; none_last < 2; ++none_last)
      for (const auto& [pch, sum] : sums) {
        if ((pch == kNoPractice) != (none_last == 1)) continue;
        t.pchs.push_back(pch);
        std::vector<DisclosedCount> row;
        for (int64_t c : sum) row.push_back({c});
        t.pch_counts.push_back(std::move(row));
      }
  }
}

void MaskCounts(PopulationViews& v, const DisclosureRule& rule) {
  auto mask = [&](DisclosedCount& c) {
    if (c.value) c = Disclose(*c.value, rule);
  };
  mask(v.living);
  for (SegmentTable& t : v.segments) {
    for (auto& row : t.counts)
      for (DisclosedCount& c : row) mask(c);
    for (auto& row : t.pch_counts)
      for (DisclosedCount& c : row) mask(c);
    for (DisclosedCount& c : t.totals) mask(c);
  }
  for (auto& band : v.pyramid)
    for (DisclosedCount& c : band) mask(c);
  for (DisclosedCount& c : v.risk_bands) mask(c);
  for (Transition& t : v.movement)
    for (DisclosedCount& c : t.counts) mask(c);
}

}  // namespace joinedup::analytics
