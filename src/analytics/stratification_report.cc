#include "analytics/stratification_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>

namespace joinedup::analytics {

CostConcentration CostConcentrationOf(std::span<const PersonFeatures> people) {
  std::vector<int64_t> costs;
  costs.reserve(people.size());
  for (const PersonFeatures& p : people)
    if (!p.deceased) costs.push_back(p.cost_12m_pence);
  return CostConcentrationOfCosts(std::move(costs));
}

CostConcentration CostConcentrationOfCosts(std::vector<int64_t> costs) {
  CostConcentration out;
  out.people = static_cast<int64_t>(costs.size());
  if (costs.empty()) return out;
  std::sort(costs.begin(), costs.end(), std::greater<>());
  // Prefix sums at the cut points only: one pass.
  for (int64_t c : costs) out.total_pence += c;
  if (out.total_pence == 0) return out;
  for (size_t k = 0; k < kCostConcentrationPercents.size(); ++k) {
    const auto n = std::max<int64_t>(
        1, std::llround(static_cast<double>(out.people) * kCostConcentrationPercents[k] / 100.0));
    int64_t top = 0;
    for (int64_t i = 0; i < n; ++i) top += costs[i];
    out.share[k] = static_cast<double>(top) / static_cast<double>(out.total_pence);
  }
  return out;
}

StratificationSummary SummariseStratification(const Cohort& cohort, const CohortFeatures& features,
                                              std::span<const SegmentationModelInfo> models,
                                              const CohortAssignments& assigned) {
  StratificationSummary s;
  s.index_date = features.index_date;
  for (const PersonFeatures& p : features.people) {
    if (p.deceased) {
      ++s.deceased;
      continue;
    }
    ++s.living;
    AgeBandCount& band = s.pyramid[AgeBandOf(p.age)];
    (p.sex == Sex::kFemale ? band.female : p.sex == Sex::kMale ? band.male : band.other)++;
  }
  s.cost = CostConcentrationOf(features.people);

  const size_t practices = cohort.practices.size();
  for (size_t m = 0; m < models.size(); ++m) {
    SegmentCounts counts;
    counts.model = models[m];
    for (const Practice& practice : cohort.practices) counts.rows.push_back(practice.id);
    counts.rows.push_back("(none)");
    const size_t segment_count = models[m].segments.size();
    const size_t columns = segment_count + 2;
    counts.counts.assign(counts.rows.size(), std::vector<int64_t>(columns, 0));
    counts.totals.assign(columns, 0);
    for (size_t i = 0; i < features.people.size(); ++i) {
      const PersonFeatures& p = features.people[i];
      if (p.deceased) continue;
      const size_t row = p.practice >= 0 && static_cast<size_t>(p.practice) < practices
                             ? static_cast<size_t>(p.practice)
                             : practices;
      const int16_t seg = assigned.At(i, m).segment;
      const size_t column = seg >= 0            ? static_cast<size_t>(seg)
                            : seg == kNoSegment ? segment_count
                                                : segment_count + 1;
      ++counts.counts[row][column];
      ++counts.totals[column];
    }
    s.models.push_back(std::move(counts));
  }
  return s;
}

namespace {

std::string Percent(int64_t part, int64_t whole) {
  return whole > 0 ? fmt::format("{:.1f}%",
                                 100.0 * static_cast<double>(part) / static_cast<double>(whole))
                   : "-";
}

void FormatModel(const SegmentCounts& c, std::string& out) {
  const size_t segments = c.model.segments.size();
  out += fmt::format("\nSegments of {} (version {}), living people per practice\n", c.model.name,
                     c.model.version);
  for (size_t j = 0; j < segments; ++j) out += fmt::format("  [{}] {}\n", j, c.model.segments[j]);
  out += "  practice  ";
  for (size_t j = 0; j < segments; ++j) out += fmt::format("{:>15}", fmt::format("[{}]", j));
  out += fmt::format("{:>15}{:>15}{:>10}\n", "no segment", "outside", "people");
  auto row = [&](const std::string& name, const std::vector<int64_t>& counts) {
    int64_t people = 0;
    for (int64_t n : counts) people += n;
    if (people == 0) return;
    out += fmt::format("  {:<10}", name);
    for (int64_t n : counts)
      out += fmt::format("{:>15}", fmt::format("{} {}", n, Percent(n, people)));
    out += fmt::format("{:>10}\n", people);
  };
  for (size_t r = 0; r < c.rows.size(); ++r) row(c.rows[r], c.counts[r]);
  row("all", c.totals);
}

}  // namespace

std::string FormatStratificationSummary(const StratificationSummary& s) {
  std::string out;
  out += fmt::format("Stratified on {}: {} living people ({} died on or before, not stratified)\n",
                     s.index_date.ToString(), s.living, s.deceased);

  out += "\nPopulation pyramid (living people)\n";
  int64_t widest = 1;
  for (const AgeBandCount& b : s.pyramid) widest = std::max({widest, b.female, b.male});
  constexpr int kBar = 30;
  out += fmt::format("  {:>{}} {:>8}  {:^7}  {:<8} {}\n", "female", kBar, "", "age", "", "male");
  for (int band = kAgeBandCount - 1; band >= 0; --band) {
    const AgeBandCount& b = s.pyramid[band];
    const auto f = static_cast<int>(std::lround(static_cast<double>(b.female) * kBar / widest));
    const auto m = static_cast<int>(std::lround(static_cast<double>(b.male) * kBar / widest));
    out += fmt::format("  {:>{}} {:>8}  {:^7}  {:<8} {}\n", std::string(f, '#'), kBar, b.female,
                       AgeBandLabel(band), b.male, std::string(m, '#'));
  }

  out += fmt::format(
      "\nCost concentration: total 12-month health and care cost £{:.0f} over {} "
      "living people\n",
      static_cast<double>(s.cost.total_pence) / 100.0, s.cost.people);
  for (size_t k = 0; k < kCostConcentrationPercents.size(); ++k)
    out += fmt::format("  costliest {:>2}% use {:5.1f}% of the cost\n",
                       kCostConcentrationPercents[k], 100.0 * s.cost.share[k]);

  for (const SegmentCounts& c : s.models) FormatModel(c, out);
  return out;
}

}  // namespace joinedup::analytics
