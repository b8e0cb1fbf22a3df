#include "domain/population.h"

#include <array>

namespace joinedup {
namespace {

struct CodeSystemInfo {
  CodeSystem system;
  std::string_view tag;
  std::string_view uri;
};

constexpr std::array<CodeSystemInfo, kCodeSystemCount> kCodeSystems{{
    {CodeSystem::kSnomedCt, "snomed", "http://snomed.info/sct"},
    {CodeSystem::kReadV2, "readv2", "http://read.info/readv2"},
    {CodeSystem::kCtv3, "ctv3", "http://read.info/ctv3"},
    {CodeSystem::kIcd10, "icd10", "http://hl7.org/fhir/sid/icd-10"},
    {CodeSystem::kDmd, "dmd", "https://dmd.nhs.uk"},
    {CodeSystem::kRxNorm, "rxnorm", "http://www.nlm.nih.gov/research/umls/rxnorm"},
    {CodeSystem::kLoinc, "loinc", "http://loinc.org"},
}};

constexpr std::array<std::string_view, kActivityTypeCount> kActivityTags{
    "gp_appointment",     "ae_attendance",        "emergency_admission", "elective_admission",
    "outpatient_first",   "outpatient_follow_up", "community_nursing",   "social_care_package",
    "care_home_placement", "continuing_healthcare",
};

constexpr std::array<std::string_view, 5> kAdmissionMethodTags{"none", "elective", "emergency",
                                                                "maternity", "other"};
constexpr std::array<std::string_view, 4> kSexCodes{"female", "male", "other", "unknown"};

}  // namespace

std::string_view CodeSystemTag(CodeSystem s) { return kCodeSystems[static_cast<size_t>(s)].tag; }
std::string_view CodeSystemUri(CodeSystem s) { return kCodeSystems[static_cast<size_t>(s)].uri; }

std::optional<CodeSystem> CodeSystemFromTag(std::string_view tag) {
  for (const auto& info : kCodeSystems)
    if (info.tag == tag) return info.system;
  return std::nullopt;
}

std::optional<CodeSystem> CodeSystemFromUri(std::string_view uri) {
  for (const auto& info : kCodeSystems)
    if (info.uri == uri) return info.system;
  // Aliases seen in the wild: the UK edition URI, the US clinical modification, dm+d's
  // older OID-style URI and the SNOMED UK extension module form.
  if (uri == "http://hl7.org/fhir/sid/icd-10-uk" || uri == "http://hl7.org/fhir/sid/icd-10-cm")
    return CodeSystem::kIcd10;
  if (uri == "http://snomed.info/sct/83821000000107") return CodeSystem::kSnomedCt;
  if (uri == "https://fhir.nhs.uk/CodeSystem/dmd" || uri == "http://dmd.nhs.uk")
    return CodeSystem::kDmd;
  return std::nullopt;
}

std::string_view SexCode(Sex s) { return kSexCodes[static_cast<size_t>(s)]; }
std::optional<Sex> SexFromCode(std::string_view code) {
  for (size_t i = 0; i < kSexCodes.size(); ++i)
    if (kSexCodes[i] == code) return static_cast<Sex>(i);
  return std::nullopt;
}

std::string_view AdmissionMethodTag(AdmissionMethod m) {
  return kAdmissionMethodTags[static_cast<size_t>(m)];
}
std::optional<AdmissionMethod> AdmissionMethodFromTag(std::string_view tag) {
  for (size_t i = 0; i < kAdmissionMethodTags.size(); ++i)
    if (kAdmissionMethodTags[i] == tag) return static_cast<AdmissionMethod>(i);
  return std::nullopt;
}

std::string_view ActivityTypeTag(ActivityType t) { return kActivityTags[static_cast<size_t>(t)]; }
std::optional<ActivityType> ActivityTypeFromTag(std::string_view tag) {
  for (size_t i = 0; i < kActivityTags.size(); ++i)
    if (kActivityTags[i] == tag) return static_cast<ActivityType>(i);
  return std::nullopt;
}

bool IsHospitalActivity(ActivityType t) {
  switch (t) {
    case ActivityType::kAeAttendance:
    case ActivityType::kEmergencyAdmission:
    case ActivityType::kElectiveAdmission:
    case ActivityType::kOutpatientFirst:
    case ActivityType::kOutpatientFollowUp:
      return true;
    default:
      return false;
  }
}

bool IsEpisodeActivity(ActivityType t) {
  return t == ActivityType::kSocialCarePackage || t == ActivityType::kCareHomePlacement ||
         t == ActivityType::kContinuingHealthcare;
}

}  // namespace joinedup
