// fhir::ReadDocument (fhir/document.h): what a RelatedPerson's search parameters index, and the
// refusals that name the element.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "fhir/document.h"
#include "resources/query.h"

namespace joinedup::fhir {
namespace {

using resources::IndexEntry;

Document Read(const std::string& json) {
  auto read = ReadDocument(json, ResolveRelativeReference);
  if (auto* e = std::get_if<MapError>(&read)) ADD_FAILURE() << e->field << ": " << e->message;
  return std::holds_alternative<Document>(read) ? std::get<Document>(read) : Document{};
}

MapError Refused(const std::string& json) {
  auto read = ReadDocument(json, ResolveRelativeReference);
  EXPECT_TRUE(std::holds_alternative<MapError>(read)) << json;
  return std::holds_alternative<MapError>(read) ? std::get<MapError>(read) : MapError{};
}

std::vector<IndexEntry> Of(const Document& d, std::string_view param) {
  std::vector<IndexEntry> out;
  std::copy_if(d.index.begin(), d.index.end(), std::back_inserter(out),
               [&](const IndexEntry& e) { return e.param == param; });
  return out;
}

TEST(ReadDocumentTest, IndexesEachParameterByItsType) {
  const Document d = Read(R"({"resourceType":"RelatedPerson","id":"rp1",
    "patient":{"reference":"Patient/p1"},"active":false,
    "identifier":[{"system":"https://example.org/carers","value":"C-9"}],
    "relationship":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-RoleCode","code":"WIFE"},
                               {"system":"http://terminology.hl7.org/CodeSystem/v2-0131","code":"C"}]}],
    "name":[{"family":"Ó Briain","given":["Siobhán"],"prefix":["Mrs"]}],
    "telecom":[{"system":"phone","value":"0113 496 0000"}],
    "address":[{"line":["2 Kirkgate"],"city":"Leeds","postalCode":"LS2 7DJ"}]})");
  EXPECT_EQ(d.resource_type, "RelatedPerson");
  EXPECT_EQ(d.id, "rp1");
  EXPECT_EQ(d.patient_id, "p1");
  EXPECT_EQ(d.person_element, "patient");
  EXPECT_EQ(Of(d, "patient"), (std::vector<IndexEntry>{{"patient", "p1", "Patient"}}));
  EXPECT_EQ(Of(d, "active"), (std::vector<IndexEntry>{{"active", "false", ""}}));
  EXPECT_EQ(Of(d, "identifier"),
            (std::vector<IndexEntry>{{"identifier", "C-9", "https://example.org/carers"}}));
  EXPECT_EQ(Of(d, "relationship"),
            (std::vector<IndexEntry>{
                {"relationship", "WIFE", "http://terminology.hl7.org/CodeSystem/v3-RoleCode"},
                {"relationship", "C", "http://terminology.hl7.org/CodeSystem/v2-0131"}}));
  EXPECT_EQ(Of(d, "telecom"), (std::vector<IndexEntry>{{"telecom", "0113 496 0000", "phone"}}));
  // Names and addresses by every part, folded for search and as written for :exact.
  const auto names = Of(d, "name");
  ASSERT_EQ(names.size(), 3u);
  EXPECT_EQ(names[0].qualifier, "Ó Briain");
  EXPECT_EQ(names[0].value, "o briain");
  EXPECT_EQ(names[1].qualifier, "Siobhán");
  EXPECT_EQ(names[2].qualifier, "Mrs");
  std::vector<std::string> address;
  for (const IndexEntry& e : Of(d, "address")) address.push_back(e.qualifier);
  EXPECT_EQ(address, (std::vector<std::string>{"2 Kirkgate", "Leeds", "LS2 7DJ"}));
  EXPECT_NE(d.json.find("Kirkgate"), std::string::npos) << "the text is kept whole";
}

TEST(ReadDocumentTest, RefusesWhatHasNoPersonNamingTheElement) {
  EXPECT_EQ(Refused(R"({"resourceType":"RelatedPerson","id":"rp1"})").field, "patient");
  EXPECT_EQ(Refused(R"({"resourceType":"RelatedPerson","id":"rp1","patient":{"display":"x"}})")
                .field,
            "patient.reference");
  const MapError wrong = Refused(
      R"({"resourceType":"RelatedPerson","id":"rp1","patient":{"reference":"Group/g1"}})");
  EXPECT_EQ(wrong.field, "patient.reference");
  EXPECT_NE(wrong.message.find("Patient"), std::string::npos) << wrong.message;
  EXPECT_EQ(Refused(R"({"resourceType":"RelatedPerson","id":"a b",
                        "patient":{"reference":"Patient/p1"}})").field, "id");
  EXPECT_EQ(Refused(R"({"resourceType":"Patient","id":"p1"})").field, "resourceType")
      << "Patient is a typed type, not a document";
  EXPECT_EQ(Refused("[1]").field, "");
}

// ---- Case management types: dates, `.where(resolve() is Patient)`, canonicals, uris ----------

TEST(IndexInstantTest, FixedWidthUtcThatSortsAsTheTimes) {
  EXPECT_EQ(resources::IndexInstant(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(resources::IndexInstant(-1), "1969-12-31T23:59:59Z");
  EXPECT_EQ(resources::IndexInstant(1'774'083'600), "2026-03-21T09:00:00Z");
  EXPECT_EQ(resources::IndexInstant(-62'135'596'800), "0001-01-01T00:00:00Z");
  EXPECT_EQ(resources::IndexInstant(-62'135'596'801), resources::kIndexInstantMin);
  EXPECT_EQ(resources::IndexInstant(253'402'300'799), "9999-12-31T23:59:59Z");
  EXPECT_EQ(resources::IndexInstant(253'402'300'800), resources::kIndexInstantMax);
  EXPECT_LT(resources::kIndexInstantMin, resources::IndexInstant(-62'135'596'800));
  EXPECT_GT(resources::kIndexInstantMax, resources::IndexInstant(253'402'300'799));
}

// Mrs A's carers' visit: a Task for the person, due at five on 1 May (British Summer Time).
TEST(ReadDocumentTest, IndexesDatesAsTheRangesTheyCover) {
  const Document d = Read(R"({"resourceType":"Task","id":"t1","status":"requested",
    "intent":"order","for":{"reference":"Patient/p1"},
    "owner":{"reference":"Practitioner/pr1"},
    "authoredOn":"2026-04",
    "executionPeriod":{"start":"2026-04-20"},
    "restriction":{"period":{"end":"2026-05-01T17:00:00+01:00"}}})");
  EXPECT_EQ(d.patient_id, "p1");
  EXPECT_EQ(d.person_element, "for");
  // A month is the whole month; a dateTime with a zone is its UTC second.
  EXPECT_EQ(
      Of(d, "authored-on"),
      (std::vector<IndexEntry>{{"authored-on", "2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z"}}));
  EXPECT_EQ(Of(d, "due"),
            (std::vector<IndexEntry>{{"due", "2026-05-01T16:00:00Z", "2026-05-01T16:00:01Z"}}))
      << "the due time is the Period's end, one second";
  EXPECT_EQ(Of(d, "period"),
            (std::vector<IndexEntry>{{"period", "2026-04-20T00:00:00Z", "9999-99-99T99:99:99Z"}}))
      << "a Period with only a start is open after it";
  EXPECT_EQ(Of(d, "owner"), (std::vector<IndexEntry>{{"owner", "pr1", "Practitioner"}}));
  const Document ended = Read(R"({"resourceType":"Flag","id":"f1","status":"inactive",
    "code":{"text":"Fall at home"},"subject":{"reference":"Patient/p1"},
    "period":{"end":"2026-04-30"}})");
  EXPECT_EQ(Of(ended, "date"),
            (std::vector<IndexEntry>{{"date", "0000-00-00T00:00:00Z", "2026-05-01T00:00:00Z"}}))
      << "a Period with only an end is open before it";
}

TEST(ReadDocumentTest, AYearIsTheWholeYear) {
  const Document d = Read(R"({"resourceType":"Goal","id":"g1","lifecycleStatus":"active",
    "description":{"text":"To be able to make my own cup of tea again"},
    "subject":{"reference":"Patient/p1"},"startDate":"2026",
    "target":[{"dueDate":"2026-06-30"},{"dueDate":"2027"}]})");
  EXPECT_EQ(
      Of(d, "start-date"),
      (std::vector<IndexEntry>{{"start-date", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"}}));
  EXPECT_EQ(
      Of(d, "target-date"),
      (std::vector<IndexEntry>{{"target-date", "2026-06-30T00:00:00Z", "2026-07-01T00:00:00Z"},
                               {"target-date", "2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z"}}));
}

TEST(ReadDocumentTest, RefusesADateThatIsNotOneNamingTheElement) {
  const MapError bad = Refused(R"({"resourceType":"Flag","id":"f1","status":"active",
    "code":{"text":"Fall"},"subject":{"reference":"Patient/p1"},"period":{"start":"yesterday"}})");
  EXPECT_EQ(bad.field, "period");
  EXPECT_NE(bad.message.find("yesterday"), std::string::npos) << bad.message;
  EXPECT_EQ(Refused(R"({"resourceType":"Goal","id":"g1","subject":{"reference":"Patient/p1"},
    "target":[{"dueDate":"2026-02-30"}]})")
                .field,
            "target[0].dueDate");
}

// `patient` is R4's subject.where(resolve() is Patient): the same element as `subject`.
TEST(ReadDocumentTest, PatientIsTheSubjectThatIsAPatient) {
  const Document d = Read(R"({"resourceType":"CarePlan","id":"cp1","status":"active",
    "intent":"plan","subject":{"reference":"Patient/p1"},"goal":[{"reference":"Goal/g1"}],
    "period":{"start":"2026-04-20","end":"2026-10-20"}})");
  EXPECT_EQ(d.patient_id, "p1");
  EXPECT_EQ(d.person_element, "subject");
  EXPECT_EQ(Of(d, "patient"), (std::vector<IndexEntry>{{"patient", "p1", "Patient"}}));
  EXPECT_EQ(Of(d, "subject"), (std::vector<IndexEntry>{{"subject", "p1", "Patient"}}));
  EXPECT_EQ(Of(d, "goal"), (std::vector<IndexEntry>{{"goal", "g1", "Goal"}}));
  EXPECT_EQ(Of(d, "date"),
            (std::vector<IndexEntry>{{"date", "2026-04-20T00:00:00Z", "2026-10-21T00:00:00Z"}}));
  // A Group is not a person: `subject` refuses it, naming the element.
  const MapError group = Refused(R"({"resourceType":"CarePlan","id":"cp1","status":"active",
    "intent":"plan","subject":{"reference":"Group/g1"}})");
  EXPECT_EQ(group.field, "subject.reference");
  EXPECT_EQ(
      Refused(R"({"resourceType":"CarePlan","id":"cp1","status":"active","intent":"plan"})").field,
      "subject");
  // One target type per reference parameter: a Task owned by an Organization is refused.
  const MapError team = Refused(R"({"resourceType":"Task","id":"t1","status":"requested",
    "intent":"order","for":{"reference":"Patient/p1"},"owner":{"reference":"Organization/T1"}})");
  EXPECT_EQ(team.field, "owner.reference");
  EXPECT_NE(team.message.find("Practitioner"), std::string::npos) << team.message;
}

TEST(ReadDocumentTest, CanonicalsAndUris) {
  const Document response = Read(R"({"resourceType":"QuestionnaireResponse","id":"qr1",
    "status":"completed","subject":{"reference":"Patient/p1"},
    "questionnaire":"https://joinedup.example/fhir/Questionnaire/holistic-assessment|1",
    "authored":"2026-04-21T10:15:00Z"})");
  EXPECT_EQ(Of(response, "questionnaire"),
            (std::vector<IndexEntry>{{"questionnaire", "holistic-assessment", "Questionnaire"}}));
  EXPECT_EQ(
      Of(response, "authored"),
      (std::vector<IndexEntry>{{"authored", "2026-04-21T10:15:00Z", "2026-04-21T10:15:01Z"}}));
  EXPECT_EQ(Refused(R"({"resourceType":"QuestionnaireResponse","id":"qr1","status":"completed",
    "subject":{"reference":"Patient/p1"},"questionnaire":"urn:oid:1.2.3"})")
                .field,
            "questionnaire");
  const Document form = Read(R"({"resourceType":"Questionnaire","id":"holistic-assessment",
    "url":"https://joinedup.example/fhir/Questionnaire/holistic-assessment","version":"1",
    "name":"HolisticAssessment","status":"active"})");
  EXPECT_EQ(form.patient_id, "");
  EXPECT_EQ(Of(form, "url"),
            (std::vector<IndexEntry>{
                {"url", "https://joinedup.example/fhir/Questionnaire/holistic-assessment", ""}}));
  EXPECT_EQ(Of(form, "version"), (std::vector<IndexEntry>{{"version", "1", ""}}));
}

}  // namespace
}  // namespace joinedup::fhir
