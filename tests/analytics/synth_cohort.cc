#include "synth_cohort.h"

#include <algorithm>
#include <string>
#include <unordered_map>

namespace joinedup::analytics::testing {

Status CohortSink::Add(const Practice& practice) {
  practice_index_.emplace(practice.id, static_cast<int32_t>(cohort_.practices.size()));
  cohort_.practices.push_back(practice);
  return Ok();
}

Status CohortSink::Add(const Patient& patient) {
  Cohort::Person p;
  p.key = static_cast<int64_t>(cohort_.people.size()) + 1;
  p.id = patient.id;
  p.nhs_number = patient.nhs_number;
  auto it = practice_index_.find(patient.practice_id);
  p.practice = it == practice_index_.end() ? -1 : it->second;
  p.birth_date = patient.birth_date;
  p.sex = patient.sex;
  p.deprivation_decile = static_cast<int8_t>(patient.deprivation_decile);
  p.death_date = patient.death_date;
  cohort_.people.push_back(std::move(p));
  cohort_.event_begin.push_back(cohort_.events.size());
  cohort_.activity_begin.push_back(cohort_.activities.size());
  cohort_.medication_begin.push_back(cohort_.medications.size());
  return Ok();
}

Status CohortSink::CheckPerson(const std::string& patient_id) const {
  if (cohort_.people.empty() || cohort_.people.back().id != patient_id) {
    return Error::Invalid("record for '" + patient_id + "' does not follow its person");
  }
  return Ok();
}

uint32_t CohortSink::Intern(CodeSystem system, const std::string& code) {
  key_.assign(1, static_cast<char>('0' + static_cast<int>(system)));
  key_ += code;
  auto [it, added] =
      concept_index_.try_emplace(key_, static_cast<uint32_t>(cohort_.concepts.size()));
  if (added) cohort_.concepts.push_back({system, code});
  return it->second;
}

Status CohortSink::Add(const ClinicalEvent& event) {
  JU_RETURN_IF_ERROR(CheckPerson(event.patient_id));
  cohort_.events.push_back({Intern(event.system, event.code), event.date, event.kind, event.source,
                            event.admission_method, event.value});
  return Ok();
}

Status CohortSink::Add(const Activity& activity) {
  JU_RETURN_IF_ERROR(CheckPerson(activity.patient_id));
  cohort_.activities.push_back({activity.type, activity.start, activity.end,
                                activity.length_of_stay_days, activity.cost_pence});
  return Ok();
}

Status CohortSink::Add(const Medication& medication) {
  JU_RETURN_IF_ERROR(CheckPerson(medication.patient_id));
  cohort_.medications.push_back(
      {Intern(medication.system, medication.code), medication.start, medication.end});
  return Ok();
}

Cohort CohortSink::Finish() {
  cohort_.event_begin.push_back(cohort_.events.size());
  cohort_.activity_begin.push_back(cohort_.activities.size());
  cohort_.medication_begin.push_back(cohort_.medications.size());
  for (size_t i = 0; i < cohort_.people.size(); ++i) {
    auto sort = [](auto& records, const std::vector<uint64_t>& begin, size_t person, auto date) {
      std::stable_sort(records.begin() + static_cast<ptrdiff_t>(begin[person]),
                       records.begin() + static_cast<ptrdiff_t>(begin[person + 1]),
                       [&](const auto& a, const auto& b) { return date(a) < date(b); });
    };
    sort(cohort_.events, cohort_.event_begin, i, [](const Cohort::Event& e) { return e.date; });
    sort(cohort_.activities, cohort_.activity_begin, i,
         [](const Cohort::Activity& a) { return a.start; });
    sort(cohort_.medications, cohort_.medication_begin, i,
         [](const Cohort::Medication& m) { return m.start; });
  }
  return std::move(cohort_);
}

Result<Cohort> GenerateCohort(const synth::GenerateOptions& options) {
  CohortSink sink;
  auto stats = synth::Generate(options, sink);
  if (!stats.ok()) return stats.error();
  return sink.Finish();
}

}  // namespace joinedup::analytics::testing
