// Builds an in-memory Cohort from the synthetic generator, for the feature-engine tests and the
// fit_risk_model tool (independent of Store::LoadCohort, so they test the engine alone).
#pragma once

#include <string>
#include <unordered_map>

#include "core/result.h"
#include "domain/cohort.h"
#include "synth/generator.h"

namespace joinedup::analytics::testing {

// A PopulationSink that lays records out as a Cohort: people in arrival order (key = 1, 2,
// ...), concepts interned by (system, code), each person's records sorted by date (stable).
// Records must follow their person, as the generator's contract promises.
class CohortSink : public PopulationSink {
 public:
  Status Add(const Practice& practice) override;
  Status Add(const Patient& patient) override;
  Status Add(const ClinicalEvent& event) override;
  Status Add(const Activity& activity) override;
  Status Add(const Medication& medication) override;
  Cohort Finish();

 private:
  Status CheckPerson(const std::string& patient_id) const;
  uint32_t Intern(CodeSystem system, const std::string& code);

  Cohort cohort_;
  std::unordered_map<std::string, int32_t> practice_index_;
  std::unordered_map<std::string, uint32_t> concept_index_;
  std::string key_;
};

Result<Cohort> GenerateCohort(const synth::GenerateOptions& options);

}  // namespace joinedup::analytics::testing
