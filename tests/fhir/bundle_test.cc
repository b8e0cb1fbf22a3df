#include "fhir/bundle.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "map_test_util.h"

namespace joinedup::fhir {
namespace {

const char* kTransaction = R"({
  "resourceType": "Bundle", "type": "transaction",
  "entry": [
    {"fullUrl": "urn:uuid:c0000000-0000-0000-0000-000000000001",
     "resource": {"resourceType": "Condition",
                  "subject": {"reference": "urn:uuid:a0000000-0000-0000-0000-000000000001"},
                  "encounter": {"reference": "urn:uuid:e0000000-0000-0000-0000-000000000001"},
                  "code": {"coding": [{"system": "http://snomed.info/sct", "code": "49436004"}]},
                  "onsetDateTime": "2020-01-01"},
     "request": {"method": "POST", "url": "Condition"}},
    {"fullUrl": "urn:uuid:e0000000-0000-0000-0000-000000000001",
     "resource": {"resourceType": "Encounter", "id": "enc-1", "class": {"code": "EMER"},
                  "subject": {"reference": "urn:uuid:a0000000-0000-0000-0000-000000000001"},
                  "period": {"start": "2020-01-01"}}},
    {"fullUrl": "urn:uuid:f0000000-0000-0000-0000-000000000001",
     "resource": {"resourceType": "Claim", "id": "claim-1"}},
    {"fullUrl": "urn:uuid:a0000000-0000-0000-0000-000000000001",
     "resource": {"resourceType": "Patient", "id": "pat-1",
                  "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}],
                  "birthDate": "1950-01-01",
                  "generalPractitioner": [{"reference": "Organization/F84001"}]}},
    {"fullUrl": "https://fhir.example.org/r4/Organization/F84001",
     "resource": {"resourceType": "Organization", "id": "F84001",
                  "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "F84001"}]}}
  ]})";

TEST(ExpandBundle, OrdersTargetsFirstAndResolvesUrnUuids) {
  auto bundle = ExpandBundle(kTransaction);
  ASSERT_TRUE(bundle.ok()) << bundle.error().ToString();
  EXPECT_EQ(bundle->type(), "transaction");
  std::vector<std::string> order;
  for (const auto& e : bundle->entries()) order.push_back(e.resource_type + "@" + e.location);
  EXPECT_EQ(order, (std::vector<std::string>{"Organization@entry[4]", "Patient@entry[3]",
                                             "Encounter@entry[1]", "Condition@entry[0]",
                                             "Claim@entry[2]"}));
  ReferenceResolver resolve = bundle->Resolver();
  EXPECT_EQ(resolve("urn:uuid:a0000000-0000-0000-0000-000000000001", "Patient"), "pat-1");
  EXPECT_EQ(resolve("urn:uuid:a0000000-0000-0000-0000-000000000001", "Organization"), std::nullopt);
  EXPECT_EQ(resolve("urn:uuid:99999999-0000-0000-0000-000000000001", "Patient"), std::nullopt);
  EXPECT_EQ(resolve("https://fhir.example.org/r4/Organization/F84001", "Organization"), "F84001");
  EXPECT_EQ(resolve("Organization/F84001", "Organization"), "F84001");
  EXPECT_EQ(resolve("Patient/in-the-store", "Patient"), "in-the-store");  // outside the Bundle

  // The Condition has no id: it gets its urn:uuid, and its references resolve in the Bundle.
  const BundleEntry& condition = bundle->entries()[3];
  auto mapped = MapResource(condition.resource_json, {}, resolve);
  ASSERT_TRUE(std::holds_alternative<Mapped>(mapped)) << std::get<MapError>(mapped).message;
  const auto& event = std::get<ClinicalEvent>(std::get<Mapped>(mapped));
  EXPECT_EQ(event.id, "c0000000-0000-0000-0000-000000000001");
  EXPECT_EQ(event.patient_id, "pat-1");
  EXPECT_EQ(event.activity_id, "enc-1");
  auto patient = MapResource(bundle->entries()[1].resource_json, {}, resolve);
  EXPECT_EQ(std::get<Patient>(std::get<Mapped>(patient)).practice_id, "F84001");
}

TEST(ExpandBundle, ResolverOutlivesTheBundle) {
  ReferenceResolver resolve;
  {
    auto bundle = ExpandBundle(kTransaction);
    ASSERT_TRUE(bundle.ok());
    resolve = bundle->Resolver();
  }
  EXPECT_EQ(resolve("urn:uuid:e0000000-0000-0000-0000-000000000001", "Encounter"), "enc-1");
}

struct BadBundle {
  std::string json;
  std::string message;
};

TEST(ExpandBundle, RefusesNamingTheEntry) {
  std::vector<BadBundle> cases = {
      {R"({"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient"}},)",
       "invalid JSON at byte"},
      {R"({"resourceType":"Patient"})", "resourceType: 'Patient' is not Bundle"},
      {R"({"resourceType":"Bundle"})", "Bundle.type: missing"},
      {R"({"resourceType":"Bundle","type":"history","entry":[]})", "Bundle.type: 'history' is not supported"},
      {R"({"resourceType":"Bundle","type":"document","entry":[]})", "'document' is not supported"},
      {R"({"resourceType":"Bundle","type":"batch","entry":[{"fullUrl":"urn:uuid:1"},{}]})",
       "entry[0].resource: missing"},
      {R"({"resourceType":"Bundle","type":"batch","entry":[{"resource":{"id":"x"}}]})",
       "entry[0].resource.resourceType"},
      {R"({"resourceType":"Bundle","type":"batch","entry":[{"resource":[1]}]})",
       "entry[0].resource: expected an object"},
      {R"({"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient","id":"p"},"request":{"method":"DELETE","url":"Patient/p"}}]})",
       "entry[0].request.method: DELETE"},
      {R"({"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Patient","id":"a"}},{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Patient","id":"b"}}]})",
       "entry[1].fullUrl: 'urn:uuid:1' is also the fullUrl of entry[0]"},
  };
  for (const auto& c : cases) {
    auto bundle = ExpandBundle(c.json);
    ASSERT_FALSE(bundle.ok()) << c.json;
    EXPECT_NE(bundle.error().message.find(c.message), std::string::npos)
        << bundle.error().message << "\nwanted: " << c.message;
  }
}

TEST(ExpandBundle, ResponseEntriesWithoutResourceAreDropped) {
  auto bundle = ExpandBundle(
      R"({"resourceType":"Bundle","type":"batch-response","entry":[{"response":{"status":"201 Created"}},{"resource":{"resourceType":"Patient","id":"p"}}]})");
  ASSERT_TRUE(bundle.ok()) << bundle.error().ToString();
  ASSERT_EQ(bundle->entries().size(), 1u);
  EXPECT_EQ(bundle->entries()[0].location, "entry[1]");
}

// Real FHIR from another system: Synthea transaction Bundles (see the fixtures README).
TEST(ExpandBundle, SyntheaTransactionBundles) {
  std::filesystem::path dir = std::filesystem::path(JOINEDUP_SHARED_DIR) / "fixtures" / "synthea-r4";
  if (!std::filesystem::is_directory(dir))
    GTEST_SKIP() << "no Synthea fixtures at " << dir << " (../shared is absent)";
  MapOptions allow;
  allow.allow_missing_nhs_number = true;
  int files = 0;
  std::map<std::string, std::array<int, 3>> totals;  // type → mapped, skipped, refused
  for (const auto& file : std::filesystem::directory_iterator(dir)) {
    if (file.path().extension() != ".json") continue;
    ++files;
    SCOPED_TRACE(file.path().filename().string());
    std::ifstream in(file.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    auto bundle = ExpandBundle(text.str());
    ASSERT_TRUE(bundle.ok()) << bundle.error().ToString();
    ReferenceResolver resolve = bundle->Resolver();
    int patients = 0;
    for (const auto& entry : bundle->entries()) {
      auto strict = MapResource(entry.resource_json, {}, resolve);
      auto result = MapResource(entry.resource_json, allow, resolve);
      auto& counts = totals[entry.resource_type];
      if (const auto* error = std::get_if<MapError>(&result)) {
        ++counts[2];
        EXPECT_FALSE(error->field.empty()) << entry.location << ": " << error->message;
        EXPECT_EQ(error->resource_type, entry.resource_type);
        continue;
      }
      const Mapped& mapped = std::get<Mapped>(result);
      if (std::holds_alternative<Skipped>(mapped)) {
        ++counts[1];
        continue;
      }
      ++counts[0];
      if (std::holds_alternative<Patient>(mapped)) {
        ++patients;
        // Without the option the same Patient is refused: Synthea people have no NHS number.
        ASSERT_TRUE(std::holds_alternative<MapError>(strict));
        EXPECT_EQ(std::get<MapError>(strict).field, "identifier");
        EXPECT_EQ(std::get<Patient>(mapped).source_identifier.rfind("https://github.com/synthetichealth/synthea|", 0), 0u);
      }
    }
    EXPECT_EQ(patients, 1);
  }
  EXPECT_GE(files, 7);
  for (const auto& [type, c] : totals)
    std::cout << "  " << type << ": mapped " << c[0] << ", skipped " << c[1] << ", refused " << c[2] << "\n";
  // What Synthea writes that joinedup stores is read, except encounters it cannot classify.
  for (std::string type : {"Patient", "Condition", "Observation", "MedicationRequest"}) {
    EXPECT_GT(totals[type][0], 0) << type;
    EXPECT_EQ(totals[type][2], 0) << type;
  }
  EXPECT_GT(totals["Encounter"][0], totals["Encounter"][2]);
  EXPECT_EQ(totals["Organization"][1], totals["Organization"][0] + totals["Organization"][1]);
  for (std::string type : {"Claim", "ExplanationOfBenefit", "Procedure", "Immunization", "Practitioner"})
    EXPECT_EQ(totals[type][0] + totals[type][2], 0) << type;
}

}  // namespace
}  // namespace joinedup::fhir
