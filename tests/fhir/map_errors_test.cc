// Bad input, one kind at a time per resource type: each gives a MapError naming the field
// (or Skipped for types joinedup does not store), never a record built from a guess.
#include <gtest/gtest.h>

#include "fhir/fhir_mapping.h"
#include "map_test_util.h"

namespace joinedup::fhir {
namespace {

using testing::Map;
using testing::MapAs;
using testing::MapFails;

struct BadCase {
  const char* name;
  std::string json;
  std::string field;     // expected MapError::field
  std::string message;   // a substring of MapError::message
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class MapRefuses : public ::testing::TestWithParam<BadCase> {};

TEST_P(MapRefuses, NamingTheField) {
  const BadCase& c = GetParam();
  MapError error = MapFails(c.json);
  EXPECT_EQ(error.field, c.field) << error.message;
  EXPECT_NE(error.message.find(c.message), std::string::npos)
      << "message: " << error.message << "\nwanted: " << c.message;
}

const std::string kPatientOk =
    R"({"resourceType":"Patient","id":"p1","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}],"birthDate":"1950-01-01"})";
const std::string kSubject = R"("subject":{"reference":"Patient/p1"})";

std::vector<BadCase> Cases() {
  return {
      // Any resource
      {"TruncatedJson", R"({"resourceType":"Patient","id":"p1","birthDate":"19)", "",
       "invalid JSON at byte 51 (unexpected end of input)"},
      {"JsonSyntaxError", R"({"resourceType":"Patient" "id":"p1"})", "", "invalid JSON at byte 26"},
      {"NotAnObject", "[1,2]", "", "not a JSON object"},
      {"MissingResourceType", R"({"id":"p1"})", "resourceType", "missing"},
      {"ResourceTypeNotString", R"({"resourceType":7})", "resourceType", "expected a string"},
      {"MissingId", R"({"resourceType":"Patient","birthDate":"1950-01-01"})", "id", "missing"},
      {"BadId", R"({"resourceType":"Patient","id":"a b"})", "id", "not a FHIR id"},
      // Patient
      {"PatientBirthDateNumber",
       R"({"resourceType":"Patient","id":"p1","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}],"birthDate":19})",
       "birthDate", "expected a string, found a number"},
      {"PatientNoBirthDate",
       R"({"resourceType":"Patient","id":"p1","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}]})",
       "birthDate", "missing"},
      {"PatientBadBirthDate",
       R"({"resourceType":"Patient","id":"p1","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}],"birthDate":"1950-02-30"})",
       "birthDate", "invalid date '1950-02-30'"},
      {"PatientInvalidNhsNumber",
       R"({"resourceType":"Patient","id":"p1","identifier":[{"system":"urn:x","value":"1"},{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765918"}],"birthDate":"1950-01-01"})",
       "identifier[1].value", "invalid NHS number"},
      {"PatientNoNhsNumber",
       R"({"resourceType":"Patient","id":"p1","identifier":[{"system":"urn:x","value":"1"}],"birthDate":"1950-01-01"})",
       "identifier", "no NHS number (identifier with system https://fhir.nhs.uk/Id/nhs-number)"},
      {"PatientBadGender",
       R"({"resourceType":"Patient","id":"p1","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}],"birthDate":"1950-01-01","gender":"F"})",
       "gender", "'F' is not"},
      {"PatientIdentifierNotArray",
       R"({"resourceType":"Patient","id":"p1","identifier":{"system":"x"},"birthDate":"1950-01-01"})",
       "identifier", "expected an array, found an object"},
      {"PatientDecileOutOfRange",
       R"({"resourceType":"Patient","id":"p1","extension":[{"url":"https://joinedup.example/fhir/StructureDefinition/imd-decile","valueInteger":11}],"identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}],"birthDate":"1950-01-01"})",
       "extension[0].valueInteger", "outside 1..10"},
      {"PatientGpWrongType",
       R"({"resourceType":"Patient","id":"p1","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}],"birthDate":"1950-01-01","generalPractitioner":[{"reference":"Location/x"}]})",
       "generalPractitioner[0].reference", "does not resolve"},
      {"PatientDeceasedWithoutDate",
       R"({"resourceType":"Patient","id":"p1","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}],"birthDate":"1950-01-01","deceasedBoolean":true})",
       "deceasedBoolean", "without a date"},
      // Condition
      {"ConditionNoSubject",
       R"({"resourceType":"Condition","id":"c1","code":{"coding":[{"system":"http://snomed.info/sct","code":"1"}]},"onsetDateTime":"2020-01-01"})",
       "subject", "missing"},
      {"ConditionSubjectWrongType",
       R"({"resourceType":"Condition","id":"c1","subject":{"reference":"Group/g1"},"code":{"coding":[{"system":"http://snomed.info/sct","code":"1"}]},"onsetDateTime":"2020-01-01"})",
       "subject.reference", "'Group/g1' does not resolve to a known Patient"},
      {"ConditionUnknownCodeSystem",
       R"({"resourceType":"Condition","id":"c1",)" + kSubject +
           R"(,"code":{"coding":[{"system":"http://example.org/local","code":"X1"}]},"onsetDateTime":"2020-01-01"})",
       "code.coding", "saw: http://example.org/local"},
      {"ConditionNoCoding",
       R"({"resourceType":"Condition","id":"c1",)" + kSubject + R"(,"code":{"text":"AF"},"onsetDateTime":"2020-01-01"})",
       "code.coding", "missing"},
      {"ConditionNoDate",
       R"({"resourceType":"Condition","id":"c1",)" + kSubject +
           R"(,"code":{"coding":[{"system":"http://snomed.info/sct","code":"1"}]}})",
       "onsetDateTime", "no recordedDate"},
      {"ConditionBadDate",
       R"({"resourceType":"Condition","id":"c1",)" + kSubject +
           R"(,"code":{"coding":[{"system":"http://snomed.info/sct","code":"1"}]},"onsetDateTime":"2020-13-01"})",
       "onsetDateTime", "invalid date"},
      {"ConditionEncounterWrongType",
       R"({"resourceType":"Condition","id":"c1",)" + kSubject +
           R"(,"encounter":{"reference":"EpisodeOfCare/e1"},"code":{"coding":[{"system":"http://snomed.info/sct","code":"1"}]},"onsetDateTime":"2020-01-01"})",
       "encounter.reference", "Encounter"},
      {"ConditionCodeEmpty",
       R"({"resourceType":"Condition","id":"c1",)" + kSubject +
           R"(,"code":{"coding":[{"system":"http://snomed.info/sct","code":""}]},"onsetDateTime":"2020-01-01"})",
       "code.coding[0].code", "empty"},
      // Observation
      {"ObservationLoincOnlyIsFineButRxNormIsNot",
       R"({"resourceType":"Observation","id":"o1",)" + kSubject +
           R"(,"code":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"1"}]},"effectiveDateTime":"2020-01-01"})",
       "code.coding", "saw: http://www.nlm.nih.gov/research/umls/rxnorm"},
      {"ObservationNoDate",
       R"({"resourceType":"Observation","id":"o1",)" + kSubject +
           R"(,"code":{"coding":[{"system":"http://loinc.org","code":"8302-2"}]}})",
       "effectiveDateTime", "missing"},
      {"ObservationValueString",
       R"({"resourceType":"Observation","id":"o1",)" + kSubject +
           R"(,"code":{"coding":[{"system":"http://loinc.org","code":"8302-2"}]},"effectiveDateTime":"2020-01-01","valueQuantity":{"value":"170"}})",
       "valueQuantity.value", "expected a number, found a string"},
      // Encounter
      {"EncounterNoClass",
       R"({"resourceType":"Encounter","id":"e1",)" + kSubject + R"(,"period":{"start":"2020-01-01"}})",
       "class", "missing"},
      {"EncounterUnclassifiableType",
       R"({"resourceType":"Encounter","id":"e1","class":{"code":"AMB"},"type":[{"coding":[{"system":"http://snomed.info/sct","code":"424619006"}]}],)" +
           kSubject + R"(,"period":{"start":"2020-01-01"}})",
       "type", "http://snomed.info/sct|424619006"},
      {"EncounterInpatientWithoutMethod",
       R"({"resourceType":"Encounter","id":"e1","class":{"code":"IMP"},)" + kSubject +
           R"(,"period":{"start":"2020-01-01"}})",
       "class", "elective or an emergency"},
      {"EncounterUnknownClass",
       R"({"resourceType":"Encounter","id":"e1","class":{"code":"FLD"},)" + kSubject +
           R"(,"period":{"start":"2020-01-01"}})",
       "class.code", "'FLD'"},
      {"EncounterBadAdmissionMethod",
       R"({"resourceType":"Encounter","id":"e1","class":{"code":"IMP"},"hospitalization":{"extension":[{"url":"https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AdmissionMethod","valueCodeableConcept":{"coding":[{"system":"https://fhir.hl7.org.uk/CodeSystem/UKCore-AdmissionMethodEngland","code":"2Z"}]}}]},)" +
           kSubject + R"(,"period":{"start":"2020-01-01"}})",
       "hospitalization.extension[0].valueCodeableConcept.coding[0].code", "'2Z'"},
      {"EncounterUnknownJoinedupType",
       R"({"resourceType":"Encounter","id":"e1","class":{"code":"AMB"},"type":[{"coding":[{"system":"https://joinedup.example/fhir/CodeSystem/activity-type","code":"spa_day"}]}],)" +
           kSubject + R"(,"period":{"start":"2020-01-01"}})",
       "type[0].coding[0].code", "'spa_day'"},
      {"EncounterNoPeriod",
       R"({"resourceType":"Encounter","id":"e1","class":{"code":"EMER"},)" + kSubject + "}",
       "period", "missing"},
      {"EncounterEndBeforeStart",
       R"({"resourceType":"Encounter","id":"e1","class":{"code":"EMER"},)" + kSubject +
           R"(,"period":{"start":"2020-01-02","end":"2020-01-01"}})",
       "period.end", "before period.start"},
      {"EncounterLengthInHours",
       R"({"resourceType":"Encounter","id":"e1","class":{"code":"EMER"},)" + kSubject +
           R"(,"period":{"start":"2020-01-01"},"length":{"value":4,"code":"h"}})",
       "length.code", "days"},
      {"EncounterSubjectWrongType",
       R"({"resourceType":"Encounter","id":"e1","class":{"code":"EMER"},"subject":{"reference":"Practitioner/x"},"period":{"start":"2020-01-01"}})",
       "subject.reference", "Patient"},
      // EpisodeOfCare
      {"EpisodeUncodedType",
       R"({"resourceType":"EpisodeOfCare","id":"ep1","type":[{"text":"care package"}],"patient":{"reference":"Patient/p1"},"period":{"start":"2020-01-01"}})",
       "type", "social_care_package"},
      {"EpisodeEncounterType",
       R"({"resourceType":"EpisodeOfCare","id":"ep1","type":[{"coding":[{"system":"https://joinedup.example/fhir/CodeSystem/activity-type","code":"gp_appointment"}]}],"patient":{"reference":"Patient/p1"},"period":{"start":"2020-01-01"}})",
       "type", "social_care_package"},
      {"EpisodeNoPatient",
       R"({"resourceType":"EpisodeOfCare","id":"ep1","type":[{"coding":[{"system":"https://joinedup.example/fhir/CodeSystem/activity-type","code":"care_home_placement"}]}],"period":{"start":"2020-01-01"}})",
       "patient", "missing"},
      // ChargeItem
      {"ChargeNotGbp",
       R"({"resourceType":"ChargeItem","id":"c1","code":{"text":"x"},"context":{"reference":"Encounter/e1"},"priceOverride":{"value":10.5,"currency":"USD"}})",
       "priceOverride.currency", "'USD' is not GBP"},
      {"ChargeNoCode",
       R"({"resourceType":"ChargeItem","id":"c1","context":{"reference":"Encounter/e1"},"priceOverride":{"value":10.5,"currency":"GBP"}})",
       "code", "required by FHIR"},
      {"ChargeContextWrongType",
       R"({"resourceType":"ChargeItem","id":"c1","code":{"text":"x"},"context":{"reference":"Patient/p1"},"priceOverride":{"value":10.5,"currency":"GBP"}})",
       "context.reference", "Encounter or EpisodeOfCare"},
      {"ChargeFractionOfPenny",
       R"({"resourceType":"ChargeItem","id":"c1","code":{"text":"x"},"context":{"reference":"Encounter/e1"},"priceOverride":{"value":10.555,"currency":"GBP"}})",
       "priceOverride.value", "fractions of a penny"},
      {"ChargeNegative",
       R"({"resourceType":"ChargeItem","id":"c1","code":{"text":"x"},"context":{"reference":"Encounter/e1"},"priceOverride":{"value":-1,"currency":"GBP"}})",
       "priceOverride.value", "not a cost"},
      {"ChargeTooLarge",
       R"({"resourceType":"ChargeItem","id":"c1","code":{"text":"x"},"context":{"reference":"Encounter/e1"},"priceOverride":{"value":1e10,"currency":"GBP"}})",
       "priceOverride.value", "not a cost"},
      {"ChargeNoPrice",
       R"({"resourceType":"ChargeItem","id":"c1","code":{"text":"x"},"context":{"reference":"Encounter/e1"}})",
       "priceOverride", "missing"},
      // MedicationRequest
      {"MedicationNoAuthoredOn",
       R"({"resourceType":"MedicationRequest","id":"m1",)" + kSubject +
           R"(,"medicationCodeableConcept":{"coding":[{"system":"https://dmd.nhs.uk","code":"1"}]}})",
       "authoredOn", "missing"},
      {"MedicationReferenceOnly",
       R"({"resourceType":"MedicationRequest","id":"m1",)" + kSubject +
           R"(,"medicationReference":{"reference":"Medication/x"},"authoredOn":"2020-01-01"})",
       "medicationReference", "not supported"},
      {"MedicationLoincIsNotAMedicine",
       R"({"resourceType":"MedicationRequest","id":"m1",)" + kSubject +
           R"(,"medicationCodeableConcept":{"coding":[{"system":"http://loinc.org","code":"1"}]},"authoredOn":"2020-01-01"})",
       "medicationCodeableConcept.coding", "saw: http://loinc.org"},
      {"MedicationEndBeforeStart",
       R"({"resourceType":"MedicationRequest","id":"m1",)" + kSubject +
           R"(,"medicationCodeableConcept":{"coding":[{"system":"https://dmd.nhs.uk","code":"1"}]},"authoredOn":"2020-01-02","dispenseRequest":{"validityPeriod":{"end":"2020-01-01"}}})",
       "dispenseRequest.validityPeriod.end", "before authoredOn"},
  };
}

INSTANTIATE_TEST_SUITE_P(BadInput, MapRefuses, ::testing::ValuesIn(Cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(MapResource, ErrorsCarryTypeAndId) {
  MapError error = MapFails(R"({"resourceType":"Patient","id":"p9","birthDate":19})");
  EXPECT_EQ(error.resource_type, "Patient");
  EXPECT_EQ(error.resource_id, "p9");
}

TEST(MapResource, ValidPatientMaps) {
  Patient p = MapAs<Patient>(kPatientOk);
  EXPECT_EQ(p.nhs_number->digits(), "9434765919");
  EXPECT_EQ(p.birth_date, Date::FromYmd(1950, 1, 1));
}

TEST(MapResource, UnknownAndUnstoredTypesAreSkipped) {
  for (std::string type :
       {"Claim", "ExplanationOfBenefit", "Immunization", "Procedure", "Questionnaire",
        "DiagnosticReport", "Provenance", "Practitioner", "SomethingFromR6"}) {
    auto result = Map(R"({"resourceType":")" + type + R"(","id":"x y z","anything":[1,2]})");
    ASSERT_TRUE(std::holds_alternative<Mapped>(result)) << type;
    const auto* skipped = std::get_if<Skipped>(&std::get<Mapped>(result));
    ASSERT_NE(skipped, nullptr) << type;
    EXPECT_EQ(skipped->resource_type, type);
    EXPECT_FALSE(skipped->reason.empty());
  }
}

TEST(MapResource, OrganizationsThatAreNotPracticesAreSkippedWithAReason) {
  auto hospital = Map(
      R"({"resourceType":"Organization","id":"o1","type":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/organization-type","code":"prov"}]}],"name":"LAHEY HOSPITAL","address":[{"postalCode":"01803"}]})");
  const auto* skipped = std::get_if<Skipped>(&std::get<Mapped>(hospital));
  ASSERT_NE(skipped, nullptr);
  EXPECT_NE(skipped->reason.find("ods-organization-code"), std::string::npos);
  auto trust = Map(
      R"({"resourceType":"Organization","id":"RXX","identifier":[{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"RXX"}],"type":[{"coding":[{"system":"https://digital.nhs.uk/services/organisation-data-service/CodeSystem/ODSOrganisationRole","code":"RO197"}]}]})");
  skipped = std::get_if<Skipped>(&std::get<Mapped>(trust));
  ASSERT_NE(skipped, nullptr);
  EXPECT_NE(skipped->reason.find("RO76"), std::string::npos);
}

TEST(MapResource, UnknownExtensionsAreIgnoredNotMisread) {
  Patient p = MapAs<Patient>(
      R"({"resourceType":"Patient","id":"p1","extension":[{"url":"http://example.org/imd-decile","valueInteger":99},{"url":"https://joinedup.example/fhir/StructureDefinition/imd-decile","valueInteger":4}],"identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"943 476 5919"}],"birthDate":"1950-01-01","address":[{"use":"old","postalCode":"N1 9GU"},{"postalCode":"e1 6an"}]})");
  EXPECT_EQ(p.deprivation_decile, 4);
  EXPECT_EQ(p.postcode_district, "E1");
}

TEST(MapResource, PatientWithoutNhsNumberWhenAllowed) {
  MapOptions allow;
  allow.allow_missing_nhs_number = true;
  Patient p = MapAs<Patient>(
      R"({"resourceType":"Patient","id":"p1","identifier":[{"system":"urn:x","value":"42"}],"name":[{"use":"nickname","given":["Bob"]},{"use":"official","family":"Smith","given":["Robert","James"]}],"birthDate":"1950"})",
      allow);
  EXPECT_FALSE(p.nhs_number.has_value());
  EXPECT_EQ(p.source_identifier, "urn:x|42");
  EXPECT_EQ(p.family_name, "Smith");
  EXPECT_EQ(p.given_name, "Robert James");
  EXPECT_EQ(p.birth_date, Date::FromYmd(1950, 1, 1));
  Patient bare = MapAs<Patient>(R"({"resourceType":"Patient","id":"p2","birthDate":"1950-01-01"})", allow);
  EXPECT_EQ(bare.source_identifier, "Patient/p2");
}

TEST(MapResource, ConditionSourceAndDates) {
  ClinicalEvent icd = MapAs<ClinicalEvent>(
      R"({"resourceType":"Condition","id":"c1","subject":{"reference":"https://fhir.example.org/r4/Patient/p1"},"code":{"coding":[{"system":"http://example.org/x","code":"1"},{"system":"http://hl7.org/fhir/sid/icd-10-uk","code":"I50.0"}],"text":"Heart failure"},"recordedDate":"2021-05-06T10:00:00+01:00"})");
  EXPECT_EQ(icd.patient_id, "p1");
  EXPECT_EQ(icd.system, CodeSystem::kIcd10);
  EXPECT_EQ(icd.code, "I50.0");
  EXPECT_EQ(icd.term, "Heart failure");
  EXPECT_EQ(icd.source, EventSource::kHospital);
  EXPECT_EQ(icd.date, Date::FromYmd(2021, 5, 6));
}

TEST(MapResource, EncounterAdmissionMethodGroups) {
  auto encounter = [](std::string code) {
    return R"({"resourceType":"Encounter","id":"e1","class":{"code":"IMP"},"hospitalization":{"extension":[{"url":"https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AdmissionMethod","valueCodeableConcept":{"coding":[{"system":"https://fhir.hl7.org.uk/CodeSystem/UKCore-AdmissionMethodEngland","code":")" +
           code + R"("}]}}]},"subject":{"reference":"Patient/p1"},"period":{"start":"2020-01-01","end":"2020-01-05"}})";
  };
  for (std::string code : {"11", "12", "13"})
    EXPECT_EQ(MapAs<Activity>(encounter(code)).type, ActivityType::kElectiveAdmission) << code;
  for (std::string code : {"21", "22", "23", "24", "25", "28", "2A", "2B", "2C", "2D", "31", "32", "81", "82", "83"})
    EXPECT_EQ(MapAs<Activity>(encounter(code)).type, ActivityType::kEmergencyAdmission) << code;
  Activity a = MapAs<Activity>(encounter("11"));
  EXPECT_EQ(a.length_of_stay_days, 4);  // derived from the period when `length` is absent
  EXPECT_EQ(AdmissionMethodOf(a.type), AdmissionMethod::kElective);
}

TEST(MapResource, EncounterPriorityDecidesAnInpatientStay) {
  Activity a = MapAs<Activity>(
      R"({"resourceType":"Encounter","id":"e1","class":{"code":"IMP"},"priority":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActPriority","code":"EM"}]},"subject":{"reference":"Patient/p1"},"period":{"start":"2020-01-01"}})");
  EXPECT_EQ(a.type, ActivityType::kEmergencyAdmission);
}

TEST(ResolveRelativeReference, TypeAndIdOnly) {
  EXPECT_EQ(ResolveRelativeReference("Patient/p1", "Patient"), "p1");
  EXPECT_EQ(ResolveRelativeReference("https://x.org/fhir/Patient/p1", "Patient"), "p1");
  EXPECT_EQ(ResolveRelativeReference("Patient/p1/_history/3", "Patient"), "p1");
  EXPECT_EQ(ResolveRelativeReference("Patient/p1", "Organization"), std::nullopt);
  EXPECT_EQ(ResolveRelativeReference("urn:uuid:1234", "Patient"), std::nullopt);
  EXPECT_EQ(ResolveRelativeReference("#contained", "Patient"), std::nullopt);
  EXPECT_EQ(ResolveRelativeReference("x/Patient/p1", "Patient"), std::nullopt);
  EXPECT_EQ(ResolveRelativeReference("Patient/a b", "Patient"), std::nullopt);
}

}  // namespace
}  // namespace joinedup::fhir
