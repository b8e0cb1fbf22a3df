// fhir::ReadDocument (fhir/document.h): what a RelatedPerson's search parameters index, and the
// refusals that name the element.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "fhir/document.h"

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

}  // namespace
}  // namespace joinedup::fhir
