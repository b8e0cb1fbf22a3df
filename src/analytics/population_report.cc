#include "analytics/population_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

namespace joinedup::analytics {

std::string AgeBandLabel(int band) {
  if (band >= kAgeBandCount - 1) return "90+";
  return fmt::format("{}-{}", band * 5, band * 5 + 4);
}

int AgeBandOf(int age_years) { return std::clamp(age_years / 5, 0, kAgeBandCount - 1); }

Result<PopulationReport> BuildPopulationReport(store::Store& store, Date as_of, int top_conditions) {
  PopulationReport report;
  report.as_of = as_of;
  JU_ASSIGN_OR_RETURN(report.counts, store.Counts());
  JU_ASSIGN_OR_RETURN(auto practices, store.Practices());

  std::unordered_map<std::string, size_t> practice_index;
  for (auto& p : practices) {
    practice_index.emplace(p.id, report.practices.size());
    report.practices.push_back({p.id, p.name, p.pch, 0, 0, 0});
  }

  JU_RETURN_IF_ERROR(store.ScanPatients([&](const Patient& patient) -> Status {
    if (!patient.nhs_number) ++report.without_nhs_number;
    if (patient.birth_date > as_of) return Ok();  // not yet born on the as-of date
    if (patient.death_date && *patient.death_date <= as_of) {
      ++report.deceased;
      return Ok();
    }
    ++report.registered;
    int age = AgeInYears(patient.birth_date, as_of);
    AgeBandCount& band = report.age_bands[AgeBandOf(age)];
    switch (patient.sex) {
      case Sex::kFemale: ++band.female; break;
      case Sex::kMale: ++band.male; break;
      default: ++band.other; break;
    }
    auto it = practice_index.find(patient.practice_id);
    if (it == practice_index.end()) {
      ++report.unregistered;
      return Ok();
    }
    PracticeCount& practice = report.practices[it->second];
    ++practice.registered;
    if (age >= 65) ++practice.aged_65_plus;
    if (age >= 75) ++practice.aged_75_plus;
    return Ok();
  }));

  JU_ASSIGN_OR_RETURN(report.top_conditions, store.TopConditionCodes(top_conditions));
  return report;
}

namespace {

double Percent(int64_t part, int64_t whole) { return whole ? 100.0 * part / whole : 0.0; }

}  // namespace

std::string FormatPopulationReport(const PopulationReport& r) {
  std::string out;
  auto line = [&out](std::string s) {
    out += s;
    out += '\n';
  };
  line(fmt::format("Population on {}", r.as_of.ToString()));
  line(fmt::format("  registered and alive   {:>10}", r.registered));
  line(fmt::format("  died on or before      {:>10}", r.deceased));
  if (r.without_nhs_number)
    line(fmt::format("  without an NHS number  {:>10}", r.without_nhs_number));
  if (r.unregistered) line(fmt::format("  no known practice      {:>10}", r.unregistered));
  line(fmt::format("  records: {} practices, {} patients, {} clinical events, {} activities, {} medications",
                   r.counts.practices, r.counts.patients, r.counts.events, r.counts.activities,
                   r.counts.medications));

  line("");
  line("Registered people per practice");
  line(fmt::format("  {:<8} {:<36} {:<24} {:>9} {:>8} {:>6} {:>8}", "practice", "name", "primary care home",
                   "patients", "65+", "%65+", "75+"));
  for (const auto& p : r.practices) {
    line(fmt::format("  {:<8} {:<36.36} {:<24.24} {:>9} {:>8} {:>5.1f}% {:>8}", p.id, p.name, p.pch,
                     p.registered, p.aged_65_plus, Percent(p.aged_65_plus, p.registered),
                     p.aged_75_plus));
  }

  line("");
  line("Registered people by age band");
  line(fmt::format("  {:<6} {:>9} {:>9} {:>7} {:>9} {:>7}", "age", "female", "male", "other", "total", "%"));
  for (int b = 0; b < kAgeBandCount; ++b) {
    const auto& band = r.age_bands[b];
    line(fmt::format("  {:<6} {:>9} {:>9} {:>7} {:>9} {:>6.1f}%", AgeBandLabel(b), band.female, band.male,
                     band.other, band.total(), Percent(band.total(), r.registered)));
  }

  line("");
  line(fmt::format("Top {} recorded conditions (people alive with the code)", r.top_conditions.size()));
  line(fmt::format("  {:<7} {:<18} {:<50} {:>9} {:>6}", "system", "code", "term", "people", "%"));
  for (const auto& c : r.top_conditions) {
    line(fmt::format("  {:<7} {:<18} {:<50.50} {:>9} {:>5.1f}%", CodeSystemTag(c.system), c.code, c.term,
                     c.patients, Percent(c.patients, r.registered)));
  }
  return out;
}

}  // namespace joinedup::analytics
