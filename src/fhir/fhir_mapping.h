// The FHIR R4 vocabulary joinedup reads and writes, and the writer half of the mapping.
//
// MapResource (resource.h) turns FHIR JSON into domain records; the Append*Json functions
// here turn domain records back into FHIR JSON. The two are exact inverses: for every
// record r, MapResource(Append…Json(r)) == r, field for field (docs/fhir-mapping.md has the
// table). Keep them in step: a change to one without the other breaks fhir_map_tests.
//
// Thread safety: all functions are reentrant (MapResource keeps one parser per thread).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/strings.h"
#include "domain/population.h"
#include "resources/registry.h"

namespace joinedup::fhir {

// ---- Identifier systems, code systems and extensions ----------------------------------------

inline constexpr std::string_view kNhsNumberSystem = "https://fhir.nhs.uk/Id/nhs-number";
inline constexpr std::string_view kOdsOrganizationCodeSystem =
    "https://fhir.nhs.uk/Id/ods-organization-code";
// ODS organisation roles; RO76 is "GP PRACTICE".
inline constexpr std::string_view kOdsRoleSystem =
    "https://digital.nhs.uk/services/organisation-data-service/CodeSystem/ODSOrganisationRole";
inline constexpr std::string_view kOdsRoleGpPractice = "RO76";
// The Primary Care Home / PCN a practice belongs to, written as Organization.partOf.identifier.
inline constexpr std::string_view kPchIdentifierSystem =
    "https://joinedup.example/fhir/Id/primary-care-home";
// Index of Multiple Deprivation 2019 decile of the person's area (valueInteger 1..10).
inline constexpr std::string_view kImdDecileExtension =
    "https://joinedup.example/fhir/StructureDefinition/imd-decile";
// Where an Observation was recorded (valueCode "gp" or "hospital"); absent means "gp".
inline constexpr std::string_view kEventSourceExtension =
    "https://joinedup.example/fhir/StructureDefinition/event-source";
// Length of stay in days of an EpisodeOfCare (valueInteger); Encounters use Encounter.length.
inline constexpr std::string_view kLengthOfStayExtension =
    "https://joinedup.example/fhir/StructureDefinition/length-of-stay";
// joinedup's activity types, codes = ActivityTypeTag(): Encounter.type, EpisodeOfCare.type,
// ChargeItem.code. The one coding that classifies an activity without guessing.
inline constexpr std::string_view kActivityTypeSystem =
    "https://joinedup.example/fhir/CodeSystem/activity-type";
inline constexpr std::string_view kAdmissionMethodExtension =
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AdmissionMethod";
inline constexpr std::string_view kAdmissionMethodEnglandSystem =
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-AdmissionMethodEngland";
inline constexpr std::string_view kAdmissionMethodWalesSystem =
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-AdmissionMethodWales";
inline constexpr std::string_view kTreatmentFunctionSystem =
    "https://fhir.nhs.uk/CodeSystem/NHSDataModelAndDictionary-treatment-function";
inline constexpr std::string_view kActCodeSystem = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
inline constexpr std::string_view kConditionCategorySystem =
    "http://terminology.hl7.org/CodeSystem/condition-category";

// The admission method analytics sees for diagnoses recorded in an activity of this type:
// emergency admissions → kEmergency, elective → kElective, anything else → kNone. The
// importer uses it to fill ClinicalEvent::admission_method from the referenced Encounter.
AdmissionMethod AdmissionMethodOf(ActivityType type);

// The FHIR resource an activity is written as: "EpisodeOfCare" or "Encounter".
std::string_view ActivityResourceType(ActivityType type);

// The ChargeItem.id written for an activity's cost.
std::string ChargeItemId(std::string_view activity_id);

// A FHIR logical id: 1–64 of [A-Za-z0-9-.] (declared with the resource registry).
using resources::IsValidFhirId;

// "E1 6AN" → "E1", "e16an" → "E1", "EC1A" → "EC1A"; "" for anything that is not a UK
// postcode or outward code (e.g. a US ZIP code), so a foreign address is never misread.
std::string OutwardCode(std::string_view postcode);

// ---- Writing: one resource as one line of JSON (no trailing newline), appended to `out` ---------
// Fail with kInvalidInput (naming the field) when the record cannot be written so that it
// reads back the same: a string that is not UTF-8, a value that is not finite, a negative cost.

Status AppendOrganizationJson(const Practice& practice, std::string& out);
Status AppendPatientJson(const Patient& patient, std::string& out);
// A Condition (kind kCondition) or an Observation (kind kObservation).
Status AppendClinicalEventJson(const ClinicalEvent& event, std::string& out);
// An Encounter or EpisodeOfCare (see ActivityResourceType); the cost goes in a ChargeItem.
Status AppendActivityJson(const Activity& activity, std::string& out);
// The ChargeItem for activity.cost_pence (the caller writes one only when cost_pence > 0).
Status AppendChargeItemJson(const Activity& activity, std::string& out);
Status AppendMedicationRequestJson(const Medication& medication, std::string& out);

// A JSON string literal (core/strings.h). The caller checks UTF-8 validity.
using ::joinedup::AppendJsonString;

}  // namespace joinedup::fhir
