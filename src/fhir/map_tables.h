// Private to the fhir library: the codings an activity type is written with, shared by the
// reader (map_read.cc) and the writer (fhir_mapping.cc) so the two cannot drift apart.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "domain/population.h"

namespace joinedup::fhir::internal {

struct ActivityCoding {
  ActivityType type;
  // Encounter.class (v3 ActCode); "" for EpisodeOfCare types.
  std::string_view class_code;
  // SNOMED CT concept written in Encounter.type beside the joinedup coding; "" for none.
  // The "Seen in …" concepts are members of the UK Core Encounter Type value set
  // (https://fhir.hl7.org.uk/ValueSet/UKCore-EncounterType); the admission concepts are
  // 183452005 |Emergency hospital admission| and 8715000 |Hospital admission, elective|.
  std::string_view snomed;
  std::string_view snomed_display;
  // UK Core AdmissionMethodEngland code written for admissions: the commonest route of each
  // group (21: via the provider's Emergency Care Department; 11: from the waiting list).
  std::string_view admission_method;
};

inline constexpr std::array<ActivityCoding, kActivityTypeCount> kActivityCodings{{
    {ActivityType::kGpAppointment, "AMB", "185202000", "Seen in GP's surgery", ""},
    {ActivityType::kAeAttendance, "EMER", "185210004", "Seen in hospital casualty", ""},
    {ActivityType::kEmergencyAdmission, "IMP", "183452005", "Emergency hospital admission", "21"},
    {ActivityType::kElectiveAdmission, "IMP", "8715000", "Hospital admission, elective", "11"},
    {ActivityType::kOutpatientFirst, "AMB", "185211000", "Seen in hospital outpatient department", ""},
    {ActivityType::kOutpatientFollowUp, "AMB", "185211000", "Seen in hospital outpatient department",
     ""},
    {ActivityType::kCommunityNursing, "HH", "270420001", "Seen in own home", ""},
    {ActivityType::kSocialCarePackage, "", "", "", ""},
    {ActivityType::kCareHomePlacement, "", "", "", ""},
    {ActivityType::kContinuingHealthcare, "", "", "", ""},
}};

inline const ActivityCoding& CodingFor(ActivityType type) {
  return kActivityCodings[static_cast<size_t>(type)];
}

inline bool IsAdmission(ActivityType type) {
  return type == ActivityType::kEmergencyAdmission || type == ActivityType::kElectiveAdmission;
}

// "invalid JSON at byte 120: <what>" (the byte offset when it can be found) for text a
// JSON parser refused; `what` is the parser's own message.
std::string DescribeInvalidJson(std::string_view json, std::string_view what);

}  // namespace joinedup::fhir::internal
