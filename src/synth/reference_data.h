// The published rates, codes and costs the synthetic population is drawn from.
//
// Each table is a CSV under data/synth/ (and data/codes/efi_codes_used.csv) whose `#` lines
// cite its source; the files are compiled into the library (joinedup_embed) and parsed and
// checked when a generation starts. A malformed file is an kInvalidInput error naming the
// file, line and field. Plain values; safe to share read-only between threads.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace joinedup::synth {

// Condition prevalence bands: 0-17, 18-39, 40-64, 65-74, 75-84, 85+.
inline constexpr int kConditionBandCount = 6;
int ConditionBand(int age);
// Frailty / social care bands: under 65, 65-74, 75-84, 85+.
inline constexpr int kOldBandCount = 4;
int OldBand(int age);

struct AgeSexBand {
  int age_from = 0, age_to = 0;
  double male = 0, female = 0;  // thousands
};

struct MortalityBand {
  int age_from = 0, age_to = 0;
  double qx_male = 0, qx_female = 0;
};

struct ConditionSpec {
  std::string key, snomed, term;
  std::string efi_code;  // Read v2 code of the eFI deficit it implies; empty if none
  std::string icd10, icd10_term;
  double female_share = 0.5;
  std::array<double, kConditionBandCount> prevalence{};
  double loading = 0;
};

struct DeficitSpec {
  std::string deficit, efi_code, term;
  std::array<double, kOldBandCount> probability{};
  double loading = 0;
};

struct MedicationSpec {
  int condition = 0;  // index into conditions
  std::string code, level, term;
  double probability = 0;
};

struct ActivityBand {
  int age_from = 0, age_to = 0;
  double gp_appointments = 0;  // per person-year
  double ae = 0, emergency = 0, elective = 0, op_first = 0, op_follow_up = 0,
         community_nursing = 0;  // per 1,000 person-years
  double emergency_mean_los = 0, elective_mean_los = 0, day_case_share = 0;
};

struct UnitCosts {
  int64_t gp_appointment = 0, ae_attendance = 0, nel_short_stay_spell = 0, nel_long_stay_spell = 0,
          excess_bed_day = 0, elective_day_case = 0, elective_inpatient_spell = 0, op_first = 0,
          op_follow_up = 0, community_nursing_contact = 0, home_care_week = 0, care_home_week = 0,
          continuing_healthcare_week = 0;
};

enum class Service : uint8_t { kHomeCare, kCareHome, kContinuingHealthcare };
inline constexpr int kServiceCount = 3;
struct ServiceSpec {
  std::array<double, 4> share{};  // by eFI category: fit, mild, moderate, severe
  double duration_years = 0;
};

enum class DiagnosisKind : uint8_t { kEmergency, kElective, kFrailtySecondary };
enum class TriggerKind : uint8_t { kAny, kChild, kAge50, kAge75, kMale50, kCondition };
struct DiagnosisSpec {
  DiagnosisKind kind = DiagnosisKind::kEmergency;
  TriggerKind trigger = TriggerKind::kAny;
  int condition = -1;  // for kCondition
  std::string icd10, term;
  double weight = 0;
  std::string specialty;
};

struct GivenName {
  bool female = false;
  int born_from = 0, born_to = 0;
  std::string name;
};

struct EfiCode {
  std::string deficit, code, term;
};

struct ReferenceData {
  std::vector<AgeSexBand> population;
  std::vector<MortalityBand> mortality;
  std::vector<ConditionSpec> conditions;
  std::vector<DeficitSpec> deficits;
  std::vector<MedicationSpec> medications;
  std::vector<ActivityBand> activity;
  UnitCosts costs;
  std::array<ServiceSpec, kServiceCount> services;
  std::vector<DiagnosisSpec> diagnoses;
  std::vector<GivenName> given_names;
  std::vector<std::string> family_names;
  std::vector<std::string> districts;
  std::array<double, 10> imd_decile_weights{};
  std::vector<EfiCode> efi_codes;  // the eFI codes the generator may record
};

// File names, as under data/ (keys of the map ParseReferenceData takes).
inline constexpr std::array<std::string_view, 12> kReferenceFiles{
    "synth/population_england.csv", "synth/mortality_england.csv",
    "synth/conditions.csv",         "synth/frailty_deficits.csv",
    "synth/medications.csv",        "synth/activity_rates.csv",
    "synth/unit_costs.csv",         "synth/social_care.csv",
    "synth/hospital_diagnoses.csv", "synth/names.csv",
    "synth/geography.csv",          "codes/efi_codes_used.csv",
};

// The embedded copies of the files above, by name.
std::map<std::string, std::string_view, std::less<>> EmbeddedReferenceFiles();

// Parses and cross-checks the tables. Every name in kReferenceFiles must be present.
Result<ReferenceData> ParseReferenceData(
    const std::map<std::string, std::string_view, std::less<>>& files);

// ParseReferenceData(EmbeddedReferenceFiles()).
Result<ReferenceData> LoadReferenceData();

}  // namespace joinedup::synth
