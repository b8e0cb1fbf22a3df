// Features: what stratification knows about each person at an index date, computed from their
// coded events, hospital diagnoses, medications and activity (see feature_engine.h), and read
// by segmentation models by name (see segmentation.h).
//
// One PersonFeatures per person, all numbers, so a million of them fit in ~100 MB and a rule
// over them costs nanoseconds. Why a person has a feature (the codes that triggered it) is kept
// apart, in FeatureEvidence, for the reasons a case manager reads.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/date.h"
#include "domain/population.h"

namespace joinedup::analytics {

// Every feature a segmentation rule may name. Names (FeatureName) are the rule language's
// vocabulary and the CSV column names; keep them stable: model files in data/ use them.
enum class Feature : uint8_t {
  kAge,                       // "age": whole years at the index date
  kSex,                       // "sex": 0 female, 1 male, 2 other, 3 unknown (domain Sex)
  kLtcCount,                  // "ltc_count": long-term conditions (ltc_conditions.csv)
  kMentalHealthNeed,          // "mental_health_need": 0/1
  kSocialCareNeed,            // "social_care_need": 0/1
  kEfi,                       // "efi": deficits / 36
  kEfiDeficits,               // "efi_deficits": 0..36
  kEfiCategory,               // "efi_category": 0 fit, 1 mild, 2 moderate, 3 severe
  kHfrs,                      // "hfrs": points
  kHfrsCategory,              // "hfrs_category": 0 low, 1 intermediate, 2 high
  kCharlson1987,              // "charlson_1987"
  kCharlsonQuan2011,          // "charlson_quan2011"
  kElixhauser,                // "elixhauser": count of Elixhauser conditions
  kEmergencyAdmissions12m,    // "emergency_admissions_12m"
  kAeAttendances12m,          // "ae_attendances_12m"
  kBedDays12m,                // "bed_days_12m"
  kCost12mPence,              // "annual_cost_pence": health and care cost, last 12 months
  kCostPercentile,            // "cost_percentile": 0..100, share of people costing less
  kContinuingHealthcare,      // "continuing_healthcare": 0/1, a CHC package current at index
  kCareHome,                  // "care_home": 0/1, a care-home placement current at index
  kSocialCarePackage,         // "social_care_package": 0/1, a package current at index
  kAdmissionRisk,             // "admission_risk": 0..1, emergency admission in next 12 months
};
inline constexpr int kFeatureCount = 22;

std::string_view FeatureName(Feature f);
std::optional<Feature> FeatureFromName(std::string_view name);
// Categorical features and the names of their values ("efi_category" -> fit, mild, …), so
// rules can say `efi_category >= moderate`. Empty for numeric features.
std::span<const std::string_view> FeatureLevels(Feature f);

struct PersonFeatures {
  int16_t age = 0;
  Sex sex = Sex::kUnknown;
  int32_t practice = -1;  // index into Cohort::practices
  int8_t deprivation_decile = 0;  // IMD 2019 decile, 1 = most deprived; 0 = unknown
  bool deceased = false;  // died on or before the index date: not stratified
  int16_t ltc_count = 0;
  uint64_t ltc_mask = 0;  // bit i: long-term condition i of the LTC list
  bool mental_health_need = false;
  bool social_care_need = false;
  int16_t efi_deficits = 0;
  int16_t hfrs_tenths = 0;
  int16_t charlson_1987 = 0;
  int16_t charlson_quan2011 = 0;
  int16_t elixhauser = 0;
  int16_t emergency_admissions_12m = 0;
  int16_t ae_attendances_12m = 0;
  int32_t bed_days_12m = 0;
  int64_t cost_12m_pence = 0;
  float cost_percentile = 0;
  bool continuing_healthcare = false;
  bool care_home = false;
  bool social_care_package = false;
  float admission_risk = 0;
};

// The value a rule compares: numbers as they are, flags 0/1, categories their level index.
double FeatureValue(const PersonFeatures& person, Feature f);

// One reason behind a feature: the code (or activity) that made it so.
struct FeatureEvidence {
  Feature feature = Feature::kLtcCount;
  uint32_t concept_id = 0;  // index into Cohort::concepts; kNoConcept for activity-based evidence
  Date date;
  uint16_t detail = 0;   // feature-specific: the eFI deficit, LTC, Charlson condition index …
  static constexpr uint32_t kNoConcept = 0xFFFFFFFF;
};

// Features of a whole cohort, in Cohort person order.
struct CohortFeatures {
  Date index_date;
  std::vector<PersonFeatures> people;
  // Person i's evidence is evidence[evidence_begin[i] .. evidence_begin[i+1]).
  std::vector<uint64_t> evidence_begin;
  std::vector<FeatureEvidence> evidence;

  std::span<const FeatureEvidence> EvidenceOf(size_t person) const {
    return {evidence.data() + evidence_begin[person],
            evidence.data() + evidence_begin[person + 1]};
  }
};

}  // namespace joinedup::analytics
