// The registered population as joinedup stores it: practices, people, and what happened to them.
//
// These are plain values. Every record carries `id`, its stable logical id in the source
// (the FHIR resource id); the store keys on it, so importing the same record again updates
// it instead of adding a copy. Records about a person refer to them by `patient_id`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/date.h"
#include "core/nhs_number.h"
#include "core/result.h"

namespace joinedup {

// ---- Codes --------------------------------------------------------------------------------

// The terminologies joinedup understands. Anything else is refused at import, with the
// system URI named, rather than stored under a guess.
enum class CodeSystem : uint8_t {
  kSnomedCt,  // http://snomed.info/sct
  kReadV2,    // http://read.info/readv2 (5-byte Read codes, case-sensitive)
  kCtv3,      // http://read.info/ctv3 (Clinical Terms Version 3, case-sensitive)
  kIcd10,     // http://hl7.org/fhir/sid/icd-10 (also accepted: …/icd-10-uk, …/icd-10-cm)
  kDmd,       // https://dmd.nhs.uk (NHS Dictionary of medicines and devices)
  kRxNorm,    // http://www.nlm.nih.gov/research/umls/rxnorm (US; found in Synthea output)
  kLoinc,     // http://loinc.org
};
inline constexpr int kCodeSystemCount = 7;

std::string_view CodeSystemTag(CodeSystem s);         // "snomed", "readv2", "ctv3", "icd10", …
std::optional<CodeSystem> CodeSystemFromTag(std::string_view tag);
std::string_view CodeSystemUri(CodeSystem s);         // the FHIR system URI written on export
std::optional<CodeSystem> CodeSystemFromUri(std::string_view uri);  // accepts the aliases above

// ---- Organisations ------------------------------------------------------------------------

struct Practice {
  std::string id;         // ODS code, e.g. "F84001"; also the FHIR Organization id
  std::string name;
  std::string pch;        // Primary Care Home / PCN / cluster the practice belongs to
  std::string postcode_district;  // e.g. "E1"
};

// ---- People -------------------------------------------------------------------------------

enum class Sex : uint8_t { kFemale, kMale, kOther, kUnknown };  // FHIR administrative gender
std::string_view SexCode(Sex s);  // "female", "male", "other", "unknown"
std::optional<Sex> SexFromCode(std::string_view code);

struct Patient {
  std::string id;                         // source logical id (FHIR Patient.id)
  std::optional<NhsNumber> nhs_number;    // empty only if imported with --allow-missing-nhs-number
  std::string source_identifier;          // "system|value" the person is keyed by when no NHS number
  std::string family_name;
  std::string given_name;
  Date birth_date;
  Sex sex = Sex::kUnknown;
  std::string postcode_district;          // outward code only ("E1"), never the full postcode
  int deprivation_decile = 0;             // IMD 2019 decile, 1 = most deprived; 0 = unknown
  std::string practice_id;                // registered GP practice; empty if not known
  std::optional<Date> death_date;
};

// What population figures need of a registered person, by the store's person key.
struct RegisteredPerson {
  int64_t patient_key = 0;
  std::string practice_id;  // "" if not known
  Date birth_date;
  Sex sex = Sex::kUnknown;
  std::optional<Date> death_date;
};

// ---- Clinical events ------------------------------------------------------------------------

enum class EventKind : uint8_t { kCondition, kObservation };  // FHIR resource it came from
enum class EventSource : uint8_t { kGp, kHospital };

// NHS Data Dictionary "ADMISSION METHOD" grouped to what analytics needs: HFRS counts
// diagnoses from emergency admissions only.
enum class AdmissionMethod : uint8_t { kNone, kElective, kEmergency, kMaternity, kOther };
std::string_view AdmissionMethodTag(AdmissionMethod m);  // "none", "elective", "emergency", …
std::optional<AdmissionMethod> AdmissionMethodFromTag(std::string_view tag);

struct ClinicalEvent {
  std::string id;
  std::string patient_id;
  EventKind kind = EventKind::kCondition;
  CodeSystem system = CodeSystem::kSnomedCt;
  std::string code;         // as recorded; ICD-10 may carry a dot ("I50.0") or a filler ("I10X")
  std::string term;         // display text, when the source gave one
  Date date;                // onset / recorded / effective date
  EventSource source = EventSource::kGp;
  AdmissionMethod admission_method = AdmissionMethod::kNone;  // hospital diagnoses only
  std::string activity_id;  // the hospital spell / encounter it was recorded in, if any
  std::optional<double> value;  // numeric result (Observation.valueQuantity), e.g. a Barthel score
  std::string unit;
};

// ---- Activity and its cost ------------------------------------------------------------------

enum class ActivityType : uint8_t {
  kGpAppointment,
  kAeAttendance,
  kEmergencyAdmission,
  kElectiveAdmission,
  kOutpatientFirst,
  kOutpatientFollowUp,
  kCommunityNursing,
  kSocialCarePackage,
  kCareHomePlacement,
  kContinuingHealthcare,
};
inline constexpr int kActivityTypeCount = 10;
std::string_view ActivityTypeTag(ActivityType t);  // "gp_appointment", "ae_attendance", …
std::optional<ActivityType> ActivityTypeFromTag(std::string_view tag);
// Admissions and A&E happen in hospital; the rest in primary, community or social care.
bool IsHospitalActivity(ActivityType t);
// Packages and placements run over a period (FHIR EpisodeOfCare); the rest are contacts (Encounter).
bool IsEpisodeActivity(ActivityType t);

struct Activity {
  std::string id;
  std::string patient_id;
  ActivityType type = ActivityType::kGpAppointment;
  Date start;
  std::optional<Date> end;     // discharge / package end; empty while ongoing
  int length_of_stay_days = 0; // admissions: end − start in days (0 for day cases)
  int64_t cost_pence = 0;      // notional cost to the system, in pence (never floating point)
  std::string specialty;       // outpatients/admissions: NHS treatment function code, e.g. "300"
  std::string practice_id;     // GP appointments: the practice seen at; empty otherwise
};

// ---- Medications ----------------------------------------------------------------------------

struct Medication {
  std::string id;
  std::string patient_id;
  CodeSystem system = CodeSystem::kDmd;
  std::string code;
  std::string term;
  Date start;
  std::optional<Date> end;  // empty while the medication is current (repeat prescribing)
};

// ---- Where population records go -------------------------------------------------------------

// Receives a population record by record: the generator writes to one, the importer fills
// one, the store's writer and the FHIR NDJSON writer are ones. A record about a person comes
// after that person; a person after their practice. Implementations say whether they are
// thread-safe; the default assumption is not.
class PopulationSink {
 public:
  virtual ~PopulationSink() = default;
  virtual Status Add(const Practice& practice) = 0;
  virtual Status Add(const Patient& patient) = 0;
  virtual Status Add(const ClinicalEvent& event) = 0;
  virtual Status Add(const Activity& activity) = 0;
  virtual Status Add(const Medication& medication) = 0;
};

}  // namespace joinedup
