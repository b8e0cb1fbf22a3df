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

// ---- Case management (issue 12), all kept as documents ----------------------------------
// From the R4 registry, with joinedup's one-target rule for references: where R4 allows a
// reference to several types, the parameter names the one joinedup follows, and a resource
// whose element points elsewhere is refused naming it (docs/fhir-api.md says which). `patient`
// is R4's `subject.where(resolve() is Patient)`; `subject` is the same element, which here can
// only be a Patient (joinedup keeps people, not Groups). Choice elements are named by their
// JSON name (Goal.target.dueDate for R4's `(Goal.target.due as date)`). Not declared: CarePlan
// `care-team` and `performer` (CareTeam is not a type joinedup serves), the canonical
// `instantiates-*`, and everything R4 lists that no screen or client here asks for yet.
constexpr std::string_view kGoal = "Goal";
constexpr std::string_view kCarePlan = "CarePlan";

// The goals of a person's care plan, in their own words (Goal.description.text).
constexpr SearchParamDef kGoalParams[] = {
    {"Goal", "patient", P::kReference, kPatient, "Goal.subject.where(resolve() is Patient)",
     "Patient/p1", false, true},
    {"Goal", "subject", P::kReference, kPatient, "Goal.subject", "Patient/p1", false, true},
    {"Goal", "lifecycle-status", P::kToken, "", "Goal.lifecycleStatus", "active"},
    {"Goal", "achievement-status", P::kToken, "", "Goal.achievementStatus",
     "http://terminology.hl7.org/CodeSystem/goal-achievement|in-progress"},
    {"Goal", "category", P::kToken, "", "Goal.category",
     "http://terminology.hl7.org/CodeSystem/goal-category|behavioral"},
    {"Goal", "identifier", P::kToken, "", "Goal.identifier", "|g-7"},
    {"Goal", "target-date", P::kDate, "", "Goal.target.dueDate", "le2026-12-31"},
    {"Goal", "start-date", P::kDate, "", "Goal.startDate", "ge2026-01"},
};

// The person-centred care and support plan. `activity-reference` follows an activity's Task
// (R4 allows any request; a referral would be a ServiceRequest, not a type joinedup serves).
constexpr SearchParamDef kCarePlanParams[] = {
    {"CarePlan", "patient", P::kReference, kPatient, "CarePlan.subject.where(resolve() is Patient)",
     "Patient/p1", false, true},
    {"CarePlan", "subject", P::kReference, kPatient, "CarePlan.subject", "Patient/p1", false, true},
    {"CarePlan", "status", P::kToken, "", "CarePlan.status", "active"},
    {"CarePlan", "intent", P::kToken, "", "CarePlan.intent", "plan"},
    {"CarePlan", "category", P::kToken, "", "CarePlan.category",
     "http://snomed.info/sct|734163000"},
    {"CarePlan", "identifier", P::kToken, "", "CarePlan.identifier", "|cp-7"},
    {"CarePlan", "goal", P::kReference, kGoal, "CarePlan.goal", "Goal/g1", false, true},
    {"CarePlan", "condition", P::kReference, "Condition", "CarePlan.addresses", "Condition/c-p1"},
    {"CarePlan", "encounter", P::kReference, "Encounter", "CarePlan.encounter", "Encounter/e-p1"},
    {"CarePlan", "activity-reference", P::kReference, "Task", "CarePlan.activity.reference",
     "Task/t1", false, true},
    {"CarePlan", "activity-code", P::kToken, "", "CarePlan.activity.detail.code",
     "http://snomed.info/sct|229065009"},
    {"CarePlan", "date", P::kDate, "", "CarePlan.period", "ge2026-01-01"},
};

// Who does what by when. `owner` is the accountable Practitioner (R4 also allows a team —
// Organization, CareTeam — and others; joinedup follows Practitioner only). `focus` and
// `based-on` follow the CarePlan the task carries out. `period` is R4's (Task.executionPeriod);
// `due` is joinedup's own: R4 has no parameter for the due time, Task.restriction.period.end
// (declared here exactly like a registry parameter; docs/fhir-api.md says so).
constexpr SearchParamDef kTaskParams[] = {
    {"Task", "patient", P::kReference, kPatient, "Task.for.where(resolve() is Patient)",
     "Patient/p1", false, true},
    {"Task", "subject", P::kReference, kPatient, "Task.for", "Patient/p1", false, true},
    {"Task", "owner", P::kReference, kPractitioner, "Task.owner", "Practitioner/pr1", false, true},
    {"Task", "status", P::kToken, "", "Task.status", "requested"},
    {"Task", "business-status", P::kToken, "", "Task.businessStatus", "|awaiting-visit"},
    {"Task", "intent", P::kToken, "", "Task.intent", "order"},
    {"Task", "priority", P::kToken, "", "Task.priority", "urgent"},
    {"Task", "code", P::kToken, "", "Task.code",
     "http://hl7.org/fhir/CodeSystem/task-code|fulfill"},
    {"Task", "identifier", P::kToken, "", "Task.identifier", "|t-7"},
    {"Task", "focus", P::kReference, kCarePlan, "Task.focus", "CarePlan/cp1", false, true},
    {"Task", "based-on", P::kReference, kCarePlan, "Task.basedOn", "CarePlan/cp1", false, true},
    {"Task", "period", P::kDate, "", "Task.executionPeriod", "ge2026-04"},
    {"Task", "authored-on", P::kDate, "", "Task.authoredOn", "ge2026-01-01"},
    {"Task", "due", P::kDate, "", "Task.restriction.period.end", "le2026-05-01T17:00:00Z"},
};

// Alerts on a person (an escalation). R4 has author, date, encounter, identifier, patient and
// subject; `category` is R5's, `status` joinedup's own (the board shows active flags).
constexpr SearchParamDef kFlagParams[] = {
    {"Flag", "patient", P::kReference, kPatient, "Flag.subject.where(resolve() is Patient)",
     "Patient/p1", false, true},
    {"Flag", "subject", P::kReference, kPatient, "Flag.subject", "Patient/p1", false, true},
    {"Flag", "status", P::kToken, "", "Flag.status", "active"},
    {"Flag", "category", P::kToken, "", "Flag.category",
     "http://terminology.hl7.org/CodeSystem/flag-category|clinical"},
    {"Flag", "identifier", P::kToken, "", "Flag.identifier", "|f-7"},
    {"Flag", "author", P::kReference, kPractitioner, "Flag.author", "Practitioner/pr1"},
    {"Flag", "date", P::kDate, "", "Flag.period", "ge2026-04-01"},
};

// An assessment's answers. `questionnaire` is a canonical: joinedup follows one that ends in
// Questionnaire/<id> (a "|version" after it dropped); `author` the Practitioner who recorded it.
constexpr SearchParamDef kQuestionnaireResponseParams[] = {
    {"QuestionnaireResponse", "patient", P::kReference, kPatient,
     "QuestionnaireResponse.subject.where(resolve() is Patient)", "Patient/p1", false, true},
    {"QuestionnaireResponse", "subject", P::kReference, kPatient, "QuestionnaireResponse.subject",
     "Patient/p1", false, true},
    {"QuestionnaireResponse", "questionnaire", P::kReference, "Questionnaire",
     "QuestionnaireResponse.questionnaire", "Questionnaire/holistic-assessment", false, true},
    {"QuestionnaireResponse", "status", P::kToken, "", "QuestionnaireResponse.status", "completed"},
    {"QuestionnaireResponse", "author", P::kReference, kPractitioner,
     "QuestionnaireResponse.author", "Practitioner/pr1"},
    {"QuestionnaireResponse", "identifier", P::kToken, "", "QuestionnaireResponse.identifier",
     "|qr-7"},
    {"QuestionnaireResponse", "authored", P::kDate, "", "QuestionnaireResponse.authored",
     "ge2026-04-01"},
};

constexpr SearchParamDef kQuestionnaireParams[] = {
    {"Questionnaire", "url", P::kUri, "", "Questionnaire.url",
     "https://joinedup.example/fhir/Questionnaire/holistic-assessment"},
    {"Questionnaire", "name", P::kString, "", "Questionnaire.name", "holistic"},
    {"Questionnaire", "title", P::kString, "", "Questionnaire.title", "holistic"},
    {"Questionnaire", "status", P::kToken, "", "Questionnaire.status", "active"},
    {"Questionnaire", "version", P::kToken, "", "Questionnaire.version", "1"},
    {"Questionnaire", "identifier", P::kToken, "", "Questionnaire.identifier", "|q-7"},
    {"Questionnaire", "date", P::kDate, "", "Questionnaire.date", "ge2026"},
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
    // Goal before CarePlan (CarePlan.goal), CarePlan after Condition (CarePlan.addresses), Task
    // after CarePlan (Task.focus, Task.basedOn). CarePlan.activity.reference points forward to
    // a Task: only the person is checked against the store, so the cycle does no harm.
    {"Goal", C::kClinical, kServerAssignedIds, "", true, true, 2, kGoalParams, false, true,
     "patient"},
    {"Flag", C::kClinical, kServerAssignedIds, "", true, true, 2, kFlagParams, false, true,
     "patient"},
    {"QuestionnaireResponse", C::kClinical, kServerAssignedIds, "", true, true, 2,
     kQuestionnaireResponseParams, false, true, "patient"},
    {"EpisodeOfCare", C::kClinical, kNotServed, "Encounter", true, true, 2, {}},
    {"ChargeItem", C::kClinical, kNotServed, "Encounter", true, true, 3, {}},
    {"Condition", C::kClinical, kServerAssignedIds, "", true, true, 3, kConditionParams},
    {"Observation", C::kClinical, kServerAssignedIds, "", true, true, 3, kObservationParams},
    {"MedicationRequest", C::kClinical, kServerAssignedIds, "", true, true, 3,
     kMedicationRequestParams},
    {"CarePlan", C::kClinical, kServerAssignedIds, "", true, true, 4, kCarePlanParams, false, true,
     "patient"},
    {"Task", C::kClinical, kServerAssignedIds, "", true, true, 5, kTaskParams, false, true,
     "patient"},
    {"Practitioner", C::kDirectory, kAllInteractions, "", false, false, -1, kPractitionerParams},
    {"PractitionerRole", C::kDirectory, kAllInteractions, "", false, false, -1,
     kPractitionerRoleParams},
    {"RiskAssessment", C::kRisk, kReadAndSearch, "", false, false, -1, kRiskAssessmentParams},
    {"Group", C::kPopulation, kReadAndSearch, "", false, false, -1, {}, true},
    {"Consent", C::kConsent, kServerAssignedIds, "", false, false, -1, kConsentParams},
    {"AuditEvent", C::kAudit, kReadSearchNoVread, "", false, false, -1, kAuditEventParams, true},
    // A form's definition (the holistic assessment), about no one: every role reads it, like the
    // directory; only an administrator writes it (kDirectory's rights in docs/security.md).
    // Neither of the other categories fits: it is not a person's record, and not a population
    // figure. Not exchanged in files: definitions are shipped as data and put by the API.
    {"Questionnaire", C::kDirectory, kAllInteractions, "", false, false, -1, kQuestionnaireParams,
     false, true},
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
    case ParamType::kUri:
      return "uri";
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
