// The registry's rows (registry.h). Search parameters follow the FHIR R4 SearchParameter
// definitions (https://hl7.org/fhir/R4/searchparameter-registry.html): the FHIRPath is theirs.
// Condition/Encounter/Observation/RiskAssessment `subject` may point to a Group in FHIR;
// joinedup keeps people only, so here they point to Patient.
#include "resources/registry.h"

#include <cctype>

namespace joinedup::resources {
namespace {

using P = ParamType;
constexpr std::string_view kPatient = "Patient";
constexpr std::string_view kOrganization = "Organization";
constexpr std::string_view kPractitioner = "Practitioner";

// Field order: type, name, param type, target, FHIRPath, example, sortable, includable.
constexpr SearchParamDef kCommon[] = {
    {"", "_id", P::kToken, "", "Resource.id", "abc-123", true},
    {"", "_lastUpdated", P::kDate, "", "Resource.meta.lastUpdated", "ge2024-01-01T00:00:00Z", true},
};

constexpr SearchParamDef kOrganizationParams[] = {
    {"Organization", "name", P::kString, "", "Organization.name", "surgery", true},
    {"Organization", "identifier", P::kToken, "", "Organization.identifier",
     "https://fhir.nhs.uk/Id/ods-organization-code|A81001"},
};

constexpr SearchParamDef kPatientParams[] = {
    {"Patient", "identifier", P::kToken, "", "Patient.identifier",
     "https://fhir.nhs.uk/Id/nhs-number|9000000009"},
    {"Patient", "name", P::kString, "", "Patient.name", "smith"},
    {"Patient", "family", P::kString, "", "Patient.name.family", "Smith", true},
    {"Patient", "given", P::kString, "", "Patient.name.given", "Zoë", true},
    {"Patient", "birthdate", P::kDate, "", "Patient.birthDate", "ge1940-01", true},
    {"Patient", "gender", P::kToken, "", "Patient.gender", "female"},
    {"Patient", "general-practitioner", P::kReference, kOrganization, "Patient.generalPractitioner",
     "Organization/A81001", false, true},
    {"Patient", "organization", P::kReference, kOrganization, "Patient.managingOrganization",
     "A81001", false, true},
};

constexpr SearchParamDef kEncounterParams[] = {
    {"Encounter", "subject", P::kReference, kPatient, "Encounter.subject", "Patient/p1", false,
     true},
    {"Encounter", "patient", P::kReference, kPatient,
     "Encounter.subject.where(resolve() is Patient)", "p1", false, true},
    {"Encounter", "date", P::kDate, "", "Encounter.period", "ge2023-04-01", true},
    {"Encounter", "class", P::kToken, "", "Encounter.class",
     "http://terminology.hl7.org/CodeSystem/v3-ActCode|IMP"},
};

constexpr SearchParamDef kConditionParams[] = {
    {"Condition", "subject", P::kReference, kPatient, "Condition.subject", "Patient/p1", false,
     true},
    {"Condition", "patient", P::kReference, kPatient,
     "Condition.subject.where(resolve() is Patient)", "p1", false, true},
    {"Condition", "code", P::kToken, "", "Condition.code", "http://snomed.info/sct|44054006"},
    {"Condition", "onset-date", P::kDate, "", "Condition.onset.as(dateTime)", "lt2020", true},
};

constexpr SearchParamDef kObservationParams[] = {
    {"Observation", "subject", P::kReference, kPatient, "Observation.subject", "Patient/p1", false,
     true},
    {"Observation", "patient", P::kReference, kPatient,
     "Observation.subject.where(resolve() is Patient)", "p1", false, true},
    {"Observation", "code", P::kToken, "", "Observation.code", "http://snomed.info/sct|60621009"},
    {"Observation", "date", P::kDate, "", "Observation.effective", "2024-02", true},
};

constexpr SearchParamDef kMedicationRequestParams[] = {
    {"MedicationRequest", "subject", P::kReference, kPatient, "MedicationRequest.subject",
     "Patient/p1", false, true},
    {"MedicationRequest", "patient", P::kReference, kPatient,
     "MedicationRequest.subject.where(resolve() is Patient)", "p1", false, true},
    {"MedicationRequest", "code", P::kToken, "", "MedicationRequest.medication.as(CodeableConcept)",
     "https://dmd.nhs.uk|322236009"},
    {"MedicationRequest", "authoredon", P::kDate, "", "MedicationRequest.authoredOn", "ge2023",
     true},
};

constexpr SearchParamDef kPractitionerParams[] = {
    {"Practitioner", "name", P::kString, "", "Practitioner.name", "jones"},
    {"Practitioner", "identifier", P::kToken, "", "Practitioner.identifier", "G1234567"},
};

constexpr SearchParamDef kPractitionerRoleParams[] = {
    {"PractitionerRole", "identifier", P::kToken, "", "PractitionerRole.identifier", "|R1"},
    {"PractitionerRole", "practitioner", P::kReference, kPractitioner,
     "PractitionerRole.practitioner", "Practitioner/pr1", false, true},
    {"PractitionerRole", "organization", P::kReference, kOrganization,
     "PractitionerRole.organization", "Organization/A81001", false, true},
};

constexpr SearchParamDef kRiskAssessmentParams[] = {
    {"RiskAssessment", "subject", P::kReference, kPatient, "RiskAssessment.subject", "Patient/p1",
     false, true},
    {"RiskAssessment", "patient", P::kReference, kPatient,
     "RiskAssessment.subject.where(resolve() is Patient)", "p1", false, true},
};

// `date` is when the decision was recorded (Consent.dateTime, an instant).
constexpr SearchParamDef kConsentParams[] = {
    {"Consent", "patient", P::kReference, kPatient, "Consent.patient", "Patient/p1", false, true},
    {"Consent", "date", P::kDate, "", "Consent.dateTime", "ge2026-01-01", true},
};

// Answered by the API from the audit trail (SearchAuditEvents), not by SearchResources.
// `altid` is the user's username (agent.altId).
constexpr SearchParamDef kAuditEventParams[] = {
    {"AuditEvent", "patient", P::kReference, kPatient,
     "AuditEvent.entity.what.where(resolve() is Patient)", "Patient/p1"},
    {"AuditEvent", "altid", P::kToken, "", "AuditEvent.agent.altId", "grace"},
    {"AuditEvent", "date", P::kDate, "", "AuditEvent.recorded", "ge2026-01-01"},
    {"AuditEvent", "subtype", P::kToken, "", "AuditEvent.subtype", "break-glass-alert"},
};

// Carers, next of kin and family (kept as a document). `relationship` holds both the family
// relation (v3-RoleCode: DAU, SON, WIFE…) and the contact role (v2-0131: C emergency contact,
// N next of kin, …): FHIR R4's RelatedPerson.relationship binds to the PatientRelationshipType
// value set, which includes both code systems, as UK Core's RelatedPerson profile does.
constexpr SearchParamDef kRelatedPersonParams[] = {
    {"RelatedPerson", "patient", P::kReference, kPatient, "RelatedPerson.patient", "Patient/p1",
     false, true},
    {"RelatedPerson", "name", P::kString, "", "RelatedPerson.name", "smith"},
    {"RelatedPerson", "relationship", P::kToken, "", "RelatedPerson.relationship",
     "http://terminology.hl7.org/CodeSystem/v3-RoleCode|DAU"},
    {"RelatedPerson", "identifier", P::kToken, "", "RelatedPerson.identifier", "|rp-7"},
    {"RelatedPerson", "telecom", P::kToken, "", "RelatedPerson.telecom", "07700900123"},
    {"RelatedPerson", "address", P::kString, "", "RelatedPerson.address", "leeds"},
    {"RelatedPerson", "active", P::kToken, "", "RelatedPerson.active", "true"},
};

using C = AccessCategory;
constexpr Interactions kReadSearchNoVread{true, false, false, true, false, false};

// Field order: name, category, interactions, governed_by, exported, imported, exchange_rank,
// params, fixed_order, kept_as_document, person_param. Where the store keeps each type: store/resource_store.h.
constexpr ResourceTypeDef kTypes[] = {
    {"Organization", C::kDirectory, kAllInteractions, "", true, true, 0, kOrganizationParams},
    {"Patient", C::kDemographics, kServerAssignedIds, "", true, true, 1, kPatientParams},
    {"Encounter", C::kClinical, kServerAssignedIds, "", true, true, 2, kEncounterParams},
    {"RelatedPerson", C::kDemographics, kServerAssignedIds, "", true, true, 2, kRelatedPersonParams,
     false, true, "patient"},
    {"EpisodeOfCare", C::kClinical, kNotServed, "Encounter", true, true, 2, {}},
    {"ChargeItem", C::kClinical, kNotServed, "Encounter", true, true, 3, {}},
    {"Condition", C::kClinical, kServerAssignedIds, "", true, true, 3, kConditionParams},
    {"Observation", C::kClinical, kServerAssignedIds, "", true, true, 3, kObservationParams},
    {"MedicationRequest", C::kClinical, kServerAssignedIds, "", true, true, 3,
     kMedicationRequestParams},
    {"Practitioner", C::kDirectory, kAllInteractions, "", false, false, -1, kPractitionerParams},
    {"PractitionerRole", C::kDirectory, kAllInteractions, "", false, false, -1,
     kPractitionerRoleParams},
    {"RiskAssessment", C::kRisk, kReadAndSearch, "", false, false, -1, kRiskAssessmentParams},
    {"Group", C::kPopulation, kReadAndSearch, "", false, false, -1, {}, true},
    {"Consent", C::kConsent, kServerAssignedIds, "", false, false, -1, kConsentParams},
    {"AuditEvent", C::kAudit, kReadSearchNoVread, "", false, false, -1, kAuditEventParams, true},
};

}  // namespace

std::string_view ParamTypeName(ParamType type) {
  switch (type) {
    case ParamType::kString:
      return "string";
    case ParamType::kToken:
      return "token";
    case ParamType::kDate:
      return "date";
    case ParamType::kReference:
      return "reference";
  }
  return "";
}

bool IsValidFhirId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) return false;
  return true;
}

std::span<const ResourceTypeDef> AllTypes() { return kTypes; }

const ResourceTypeDef* FindType(std::string_view name) {
  for (const ResourceTypeDef& t : kTypes)
    if (t.name == name) return &t;
  return nullptr;
}

bool IsServed(std::string_view name) {
  const ResourceTypeDef* t = FindType(name);
  return t != nullptr && t->IsServed();
}

std::span<const SearchParamDef> CommonParams() { return kCommon; }

std::optional<AccessCategory> CategoryOf(std::string_view name) {
  const ResourceTypeDef* t = FindType(name);
  if (t == nullptr) return std::nullopt;
  return t->category;
}

std::string_view GoverningType(const ResourceTypeDef& type) {
  return type.governed_by.empty() ? type.name : type.governed_by;
}

bool IsKeptAsDocument(std::string_view name) {
  const ResourceTypeDef* t = FindType(name);
  return t != nullptr && t->kept_as_document;
}

const SearchParamDef* PersonParam(const ResourceTypeDef& type) {
  if (type.person_param.empty()) return nullptr;
  for (const SearchParamDef& param : type.params)
    if (param.name == type.person_param) return &param;
  return nullptr;
}

}  // namespace joinedup::resources
