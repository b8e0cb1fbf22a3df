// Import of CSV extracts, FHIR Bundles (urn:uuid references, the Synthea fixtures) and an
// over-long NDJSON line, into a real store.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "fhir/bundle.h"
#include "import_test_support.h"

namespace joinedup::fhir::testing {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class ImportFilesTest : public ImportStoreTest {};

// ---- CSV extracts ----------------------------------------------------------------------------

const char kPractices[] =
    "practice_id,name,pch,postcode_district\n"
    "F84001,\"The Limes Surgery, Bow\",PCH North,E3\n";
const char kPatients[] =
    "patient_id,nhs_number,family_name,given_name,birth_date,sex,postcode_district,"
    "deprivation_decile,practice_id,death_date\n"
    "p1,943 476 5919,\"O'Brien\",Zoë,1938-03-04,female,E3,2,F84001,\n"
    "p2,9434765870,Jones,Arthur,1950-01-01,male,,,F84001,2024-02-03\n";
const char kActivities[] =
    "activity_id,patient_id,type,start,end,cost_pence,specialty,practice_id\n"
    "a1,p1,emergency_admission,2023-01-10,2023-01-15,345600,300,\n"
    "a2,p2,gp_appointment,2023-02-01,2023-02-01,3900,,F84001\n";
const char kEvents[] =
    "event_id,patient_id,kind,code_system,code,term,date,source,admission_method,activity_id,"
    "value,unit\n"
    "c1,p1,condition,icd10,I50.0,\"Heart failure, congestive\",2023-01-10,hospital,,a1,,\n"
    "o1,p2,observation,snomed,273302005,Barthel index,2023-03-01,gp,,,15,score\n";
const char kMedications[] =
    "medication_id,patient_id,code_system,code,term,start,end\n"
    "m1,p2,dmd,39732311000001104,Amlodipine 5mg tablets,2022-06-01,\n";

TEST_P(ImportFilesTest, CsvExtractHappyPathRecognisedByHeaderNotName) {
  // Names that say nothing: the header row decides the kind.
  auto report = Run({dir_.Write("e.csv", kEvents), dir_.Write("m.csv", kMedications),
                     dir_.Write("x.csv", kActivities), dir_.Write("b.csv", kPatients),
                     dir_.Write("a.csv", kPractices)});
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_TRUE(report->committed) << Issues(*report);
  EXPECT_EQ(report->by_type["Patient"], (ImportTypeCounts{2, 2, 0, 0}));
  EXPECT_EQ(report->by_type["Encounter"], (ImportTypeCounts{2, 2, 0, 0}));
  EXPECT_EQ(report->by_type["Condition"], (ImportTypeCounts{1, 1, 0, 0}));
  auto counts = store_->Counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(*counts, (store::TableCounts{1, 2, 2, 2, 1}));
  auto p1 = store_->FindPatient("p1");
  ASSERT_TRUE(p1.ok() && *p1);
  EXPECT_EQ((*p1)->family_name, "O'Brien");
  EXPECT_EQ((*p1)->given_name, "Zoë");
  EXPECT_EQ((*p1)->nhs_number->digits(), "9434765919");
  auto events = store_->EventsForPatient("p1");
  ASSERT_TRUE(events.ok() && events->size() == 1u);
  EXPECT_EQ((*events)[0].term, "Heart failure, congestive");
  EXPECT_EQ((*events)[0].admission_method, AdmissionMethod::kEmergency);  // from a1
  auto a1 = store_->FindActivity("a1");
  ASSERT_TRUE(a1.ok() && *a1);
  EXPECT_EQ((*a1)->cost_pence, 345600);
  EXPECT_EQ((*a1)->length_of_stay_days, 5);
}

TEST_P(ImportFilesTest, CsvErrorsNameFileLineAndColumnAndChangeNothing) {
  auto base = Run({dir_.Write("practices.csv", kPractices), dir_.Write("patients.csv", kPatients)});
  ASSERT_TRUE(base.ok() && base->committed) << Issues(*base);
  const std::string before = Snapshot(*store_);

  struct Case {
    std::string file;
    std::string text;
    std::string expected;  // the whole issue, after the path
  } cases[] = {
      {"activities.csv",
       "activity_id,patient_id,type,start\n"
       "a1,p1,gp_appointment,2023-01-01\n"
       "a2,p1,gp_appointment,2023-02-30\n",
       ":3: Encounter/a2: start (column 4): \"2023-02-30\" is not a date (YYYY-MM-DD)"},
      {"events.csv",
       "event_id,patient_id,kind,code_system,code,date\n"
       "e1,nobody,condition,snomed,22298006,2023-01-01\n",
       ":2: Condition/e1: patient_id: Patient/nobody is not known"},
      {"events2.csv",
       "event_id,patient_id,kind,code_system,code,date,activity_id\n"
       "e1,p1,condition,snomed,22298006,2023-01-01,gone\n",
       ":2: Condition/e1: activity_id: Activity/gone is not known"},
      {"patients2.csv",
       "patient_id,nhs_number,birth_date,sex\n"
       "p7,\"943 476\n5919\",1938-03-04,female\n",
       ":2: Patient/p7: nhs_number (column 2): NHS number"},
      {"meds.csv",
       "medication_id,patient_id,code_system,code,start\n"
       "m1,p1,dmd,\"39732311000001104,2022-06-01\n",
       ":2: MedicationRequest: column 4: the quoted field opened on line 2 is never closed"},
      {"dup.csv", "practice_id,name\nF1,One\n\nF1,Two\n",
       ":4: Organization/F1: id: the id is given twice: also at "},
      {"header.csv", "practice,name\nF1,One\n",
       ": line 1, column 1: \"practice\" does not start a CSV extract header"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    std::string path = dir_.Write("bad/" + c.file, c.text);
    auto report = Run({path});
    ASSERT_TRUE(report.ok()) << report.error().ToString();
    EXPECT_FALSE(report->committed);
    ASSERT_EQ(report->issues.size(), 1u) << Issues(*report);
    EXPECT_THAT(report->issues[0].ToString(), ::testing::StartsWith(path + c.expected));
    EXPECT_EQ(Snapshot(*store_), before);
  }
}

TEST_P(ImportFilesTest, CsvSkipInvalidWritesEscapedRecords) {
  ASSERT_TRUE(Run({dir_.Write("practices.csv", kPractices), dir_.Write("patients.csv", kPatients)})
                  ->committed);
  std::string path = dir_.Write("activities.csv",
                                "activity_id,patient_id,type,start,specialty\n"
                                "a1,p1,gp_appointment,2023-01-01,\n"
                                "a2,p1,gp_visit,2023-01-01,\"multi\nline\"\n");
  ImportOptions options;
  options.skip_invalid = true;
  options.rejects_path = dir_.path() + "/rejects.tsv";
  auto report = Run({path}, options);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->committed);
  auto a1 = store_->FindActivity("a1");
  ASSERT_TRUE(a1.ok());
  EXPECT_TRUE(a1->has_value());
  std::ifstream in(options.rejects_path);
  std::string header, line, extra;
  std::getline(in, header);
  std::getline(in, line);
  EXPECT_FALSE(std::getline(in, extra));
  EXPECT_EQ(line, path +
                      ":3\tEncounter/a2\ttype (column 3)\t\"gp_visit\" is not an activity "
                      "type; use one of gp_appointment, ae_attendance, emergency_admission, "
                      "elective_admission, outpatient_first, outpatient_follow_up, "
                      "community_nursing, social_care_package, care_home_placement, "
                      "continuing_healthcare\ta2,p1,gp_visit,2023-01-01,\"multi\\nline\"");
}

// ---- Bundles ---------------------------------------------------------------------------------

TEST_P(ImportFilesTest, TransactionBundleWithUrnUuidReferences) {
  const std::string patient_uuid = "urn:uuid:9c1f0a5e-2a3b-4c5d-8e9f-000000000001";
  const std::string encounter_uuid = "urn:uuid:9c1f0a5e-2a3b-4c5d-8e9f-000000000002";
  Population p = MakePopulation();
  // The patient has no id: its fullUrl gives it one, and references use the fullUrl.
  std::string patient = Json(p.p1);
  patient.replace(patient.find("\"id\":\"p1\","), 10, "");
  std::string diagnosis = Json(p.diagnosis);
  diagnosis.replace(diagnosis.find("\"Patient/p1\""), 12, "\"" + patient_uuid + "\"");
  diagnosis.replace(diagnosis.find("\"Encounter/a1\""), 14, "\"" + encounter_uuid + "\"");
  std::string admission = Json(p.admission);
  admission.replace(admission.find("\"Patient/p1\""), 12, "\"" + patient_uuid + "\"");
  auto entry = [](const std::string& url, const std::string& resource) {
    return "{\"fullUrl\":\"" + url + "\",\"resource\":" + resource +
           ",\"request\":{\"method\":\"POST\",\"url\":\"x\"}}";
  };
  std::string bundle =
      "{\n \"resourceType\": \"Bundle\",\n \"type\": \"transaction\",\n"
      " \"entry\": [" +
      entry("urn:uuid:c0", diagnosis) + ",\n" + entry(encounter_uuid, admission) + ",\n" +
      entry(patient_uuid, patient) + ",\n" +
      entry("urn:uuid:c1", R"({"resourceType":"Claim","id":"x"})") + "]}\n";
  auto report = Run({dir_.Write("bundle.json", bundle),
                     dir_.Write("Organization.ndjson", Lines({Json(p.practice)}))});
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_TRUE(report->committed) << Issues(*report);
  EXPECT_EQ(report->by_type["Claim"].skipped, 1u);
  const std::string patient_id = patient_uuid.substr(9);
  auto stored = store_->FindPatient(patient_id);
  ASSERT_TRUE(stored.ok() && *stored);
  auto events = store_->EventsForPatient(patient_id);
  ASSERT_TRUE(events.ok() && events->size() == 1u);
  // The urn:uuid resolves to the id the Encounter itself carries.
  EXPECT_EQ((*events)[0].activity_id, "a1");
  EXPECT_EQ((*events)[0].admission_method, AdmissionMethod::kEmergency);
}

// RelatedPerson, a type kept as a document: from a Bundle and from NDJSON (before its Patient:
// held back, then written), kept whole; one naming nobody is an issue naming `patient`, and
// then nothing is committed.
TEST_P(ImportFilesTest, RelatedPersonsAreKeptWholeAndNeedTheirPerson) {
  Population p = MakePopulation();
  auto carer = [](const std::string& id, const std::string& patient) {
    return R"({"resourceType":"RelatedPerson","id":")" + id +
           R"(","patient":{"reference":"Patient/)" + patient +
           R"("},"relationship":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-RoleCode","code":"DAU"}]}],"name":[{"family":"Hughes","given":["Megan"]}]})";
  };
  // In the Bundle the carer names her person by the person's fullUrl: kept as Patient/<id>.
  const std::string p2_urn = "urn:uuid:6f1e2d3c-4b5a-4798-8a6b-5c4d3e2f1a00";
  std::string bundled_carer = carer("rp-b", p.p2.id);
  bundled_carer.replace(bundled_carer.find("Patient/" + p.p2.id), 8 + p.p2.id.size(), p2_urn);
  const std::string bundle = R"({"resourceType":"Bundle","type":"collection","entry":[)"
                             R"({"resource":)" + bundled_carer + R"(},{"fullUrl":")" + p2_urn +
                             R"(","resource":)" + Json(p.p2) + "}]}";
  auto report = Run({dir_.Write("Organization.ndjson", Lines({Json(p.practice)})),
                     dir_.Write("mixed.ndjson", Lines({carer("rp-n", p.p1.id), Json(p.p1)})),
                     dir_.Write("carers.json", bundle)});
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_TRUE(report->committed) << Issues(*report);
  EXPECT_EQ(report->by_type["RelatedPerson"].read, 2u);
  EXPECT_EQ(report->by_type["RelatedPerson"].imported, 2u);
  for (const auto& [id, person] : {std::pair{"rp-n", p.p1.id}, std::pair{"rp-b", p.p2.id}}) {
    auto found = store_->FindResource("RelatedPerson", id);
    ASSERT_TRUE(found.ok() && found->has_value()) << id;
    EXPECT_EQ(std::get<store::ResourceJson>((*found)->record).json, carer(id, person));
    auto patient = store_->FindResource("Patient", person);
    ASSERT_TRUE(patient.ok() && patient->has_value());
    EXPECT_EQ((*found)->patient_key, (*patient)->patient_key) << id;
    EXPECT_EQ((*found)->meta.version_id, 1);
  }

  const std::string before = Snapshot(*store_);
  auto again = Run({dir_.Write("orphan.ndjson", Lines({carer("rp-x", "nobody")}))});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->committed);
  ASSERT_EQ(again->issues.size(), 1u) << Issues(*again);
  EXPECT_EQ(again->issues[0].resource, "RelatedPerson/rp-x");
  EXPECT_EQ(again->issues[0].field, "patient");
  EXPECT_THAT(again->issues[0].message, HasSubstr("Patient/nobody is not known"));
  EXPECT_EQ(Snapshot(*store_), before);
  auto missing = store_->FindResource("RelatedPerson", "rp-x");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST_P(ImportFilesTest, BundleErrorsNameTheEntry) {
  Population p = MakePopulation();
  Patient bad = p.p2;
  bad.nhs_number.reset();
  bad.source_identifier = "https://example.org/mrn|9";
  std::string bundle = "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[" +
                       std::string("{\"resource\":") + Json(p.practice) + "}," +
                       "{\"resource\":" + Json(bad) + "}]}";
  std::string path = dir_.Write("b.json", bundle);
  auto report = Run({path});
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->committed);
  ASSERT_EQ(report->issues.size(), 1u) << Issues(*report);
  EXPECT_EQ(report->issues[0].location, "entry[1]");
  EXPECT_THAT(report->issues[0].ToString(),
              ::testing::StartsWith(path + ": entry[1]: Patient/p2: identifier"));
  auto counts = store_->Counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(*counts, store::TableCounts{});

  auto not_bundle =
      Run({dir_.Write("history.json", R"({"resourceType":"Bundle","type":"history","entry":[]})")});
  ASSERT_TRUE(not_bundle.ok());
  ASSERT_EQ(not_bundle->issues.size(), 1u);
  EXPECT_THAT(not_bundle->issues[0].message, HasSubstr("history"));
}

// ---- The Synthea fixtures: FHIR written by another system --------------------------------------

std::vector<std::string> SyntheaFiles() {
  std::vector<std::string> files;
  const fs::path dir = fs::path(JOINEDUP_SHARED_DIR) / "fixtures" / "synthea-r4";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().extension() == ".json") files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

TEST_P(ImportFilesTest, SyntheaBundlesAreRefusedWithoutNhsNumbersByDefault) {
  auto files = SyntheaFiles();
  if (files.empty()) GTEST_SKIP() << JOINEDUP_SHARED_DIR << "/fixtures/synthea-r4 is absent";
  auto report = Run(files);
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_FALSE(report->committed);
  bool named_nhs_number = false;
  for (const ImportIssue& issue : report->issues) {
    EXPECT_THAT(issue.location, ::testing::StartsWith("entry[")) << issue.ToString();
    if (issue.resource.starts_with("Patient/") &&
        issue.message.find("NHS number") != std::string::npos)
      named_nhs_number = true;
  }
  EXPECT_TRUE(named_nhs_number) << Issues(*report);
  auto counts = store_->Counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(*counts, store::TableCounts{});
}

TEST_P(ImportFilesTest, SyntheaBundlesImportWithAllowMissingNhsNumber) {
  auto files = SyntheaFiles();
  if (files.empty()) GTEST_SKIP() << JOINEDUP_SHARED_DIR << "/fixtures/synthea-r4 is absent";
  ImportOptions options;
  options.allow_missing_nhs_number = true;
  options.skip_invalid = true;
  options.max_errors_reported = 1 << 20;
  auto report = Run(files, options);
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_TRUE(report->committed);
  // Every person is in; types joinedup does not store are skipped, not misread.
  EXPECT_EQ(report->by_type["Patient"].imported, files.size()) << Issues(*report);
  EXPECT_GT(report->by_type["Claim"].skipped, 0u);
  EXPECT_GT(report->by_type["ExplanationOfBenefit"].skipped, 0u);
  EXPECT_GT(report->by_type["Encounter"].imported, 0u);
  EXPECT_GT(report->by_type["Condition"].imported, 0u);
  // Every refused resource is named with its entry and a reason.
  for (const ImportIssue& issue : report->issues) {
    EXPECT_THAT(issue.location, ::testing::StartsWith("entry[")) << issue.ToString();
    EXPECT_FALSE(issue.resource.empty()) << issue.ToString();
    EXPECT_FALSE(issue.message.empty()) << issue.ToString();
  }
  const ImportTypeCounts totals = report->Totals();
  EXPECT_EQ(totals.read, totals.imported + totals.skipped + totals.rejected);
  EXPECT_EQ(totals.rejected, report->issue_count);
  auto counts = store_->Counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->patients, static_cast<int64_t>(files.size()));

  // Again: everything is updated in place.
  const std::string before = Snapshot(*store_);
  auto again = Run(files, options);
  ASSERT_TRUE(again.ok() && again->committed);
  EXPECT_EQ(Snapshot(*store_), before);
}

// Care plans written by another system (issue 12): Synthea's CarePlan and Goal resources come in
// as documents, their urn:uuid references rewritten to the Type/id each names in the Bundle.
TEST_P(ImportFilesTest, SyntheaCarePlansAndGoalsImportWithTheirReferencesResolved) {
  auto files = SyntheaFiles();
  if (files.empty()) GTEST_SKIP() << JOINEDUP_SHARED_DIR << "/fixtures/synthea-r4 is absent";
  ImportOptions options;
  options.allow_missing_nhs_number = true;
  options.skip_invalid = true;
  options.max_errors_reported = 1 << 20;
  auto report = Run(files, options);
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  ASSERT_TRUE(report->committed);
  for (const char* type : {"CarePlan", "Goal"}) {
    const ImportTypeCounts& counts = report->by_type[type];
    EXPECT_GT(counts.read, 0u) << type;
    EXPECT_EQ(counts.skipped, 0u) << type << ": no longer skipped";
    EXPECT_EQ(counts.imported + counts.rejected, counts.read) << type;
    EXPECT_EQ(counts.rejected, 0u) << type << ": " << Issues(*report);
  }
  // Every plan, read back from the store: no urn: left, its person a Patient the store holds,
  // its goals Goals the store holds, its encounter and conditions named as Type/id.
  int plans = 0, goals = 0, encounters_held = 0, encounters = 0;
  for (const std::string& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    auto bundle = fhir::ExpandBundle(text.str());
    ASSERT_TRUE(bundle.ok());
    for (const fhir::BundleEntry& entry : bundle->entries()) {
      if (entry.resource_type != "CarePlan") continue;
      const size_t id_at = entry.resource_json.find("\"id\":\"") + 6;
      const std::string id =
          entry.resource_json.substr(id_at, entry.resource_json.find('"', id_at) - id_at);
      auto found = store_->FindResource("CarePlan", id);
      ASSERT_TRUE(found.ok() && found->has_value()) << "CarePlan/" << id;
      ++plans;
      EXPECT_TRUE((*found)->patient_key.has_value()) << "CarePlan/" << id;
      const std::string& json = std::get<store::ResourceJson>((*found)->record).json;
      EXPECT_EQ(json.find("urn:"), std::string::npos) << json;
      for (size_t at = json.find("\"Goal/"); at != std::string::npos;
           at = json.find("\"Goal/", at + 1)) {
        const std::string goal = json.substr(at + 6, json.find('"', at + 6) - at - 6);
        auto held = store_->FindResource("Goal", goal);
        EXPECT_TRUE(held.ok() && held->has_value()) << "CarePlan/" << id << " → Goal/" << goal;
        ++goals;
      }
      const size_t encounter = json.find("\"Encounter/");
      ASSERT_NE(encounter, std::string::npos) << json;
      ++encounters;
      const std::string encounter_id =
          json.substr(encounter + 11, json.find('"', encounter + 11) - encounter - 11);
      auto held = store_->FindResource("Encounter", encounter_id);
      if (held.ok() && held->has_value()) ++encounters_held;
    }
  }
  EXPECT_EQ(plans, 14);
  EXPECT_EQ(goals, 15);
  // A plan's encounter is named as Encounter/<id> even where joinedup refused that encounter
  // (one it cannot classify): references other than the person are not checked against the
  // store, as for every document type.
  std::cout << "  CarePlan encounters held: " << encounters_held << " of " << encounters << "\n";
  EXPECT_GT(encounters_held, 0);
}

INSTANTIATE_TEST_SUITE_P(, ImportFilesTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const auto& info) { return store::testing::BackendName(info.param); });

// ---- A 100 MB line (SQLite only: the store is not what is tested)
// ---------------------------------

TEST(ImportLongLineTest, HundredMegabyteLineIsRefusedNamingItsLineAndSize) {
  TempDir dir;
  Population p = MakePopulation();
  const std::string path = dir.path() + "/Patient.ndjson";
  constexpr uint64_t kLong = 100ull << 20;
  {
    std::ofstream out(path, std::ios::binary);
    out << Json(p.practice) << "\n";
    // {"resourceType":"Patient","id":"big","text":"xxxx…"} — valid JSON, just too long.
    std::string head = R"({"resourceType":"Patient","id":"big","text":")";
    out << head;
    std::string chunk(1 << 20, 'x');
    uint64_t written = head.size();
    while (written + chunk.size() + 2 <= kLong) {
      out << chunk;
      written += chunk.size();
    }
    out << std::string(kLong - written - 2, 'x') << "\"}\n";
    out << Json(p.p1) << "\n";
    ASSERT_TRUE(out.good());
  }
  auto opened = store::OpenStore(dir.path() + "/store.db");
  ASSERT_TRUE(opened.ok());
  auto& store = **opened;
  auto report = Import({path}, ImportOptions{}, store);
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_FALSE(report->committed);
  ASSERT_EQ(report->issues.size(), 1u);
  EXPECT_EQ(report->issues[0].ToString(),
            path +
                ":2: the line is 104857600 bytes long, over the limit of 16777216 bytes; it "
                "was not read");
  EXPECT_EQ(report->by_type["Patient"].imported, 1u);  // line 3 was still read
  auto counts = store.Counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(*counts, store::TableCounts{});
}

}  // namespace
}  // namespace joinedup::fhir::testing
