// Import of FHIR NDJSON into a real store (SQLite, and PostgreSQL under ctest): every
// resource type, ordering, updates, and every kind of bad input — each named by file:line
// and field, and leaving the store exactly as it was.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "fhir/fhir_mapping.h"
#include "import_test_support.h"

namespace joinedup::fhir::testing {
namespace {

using ::testing::HasSubstr;

// Writes the population as one file per resource type, Bulk Data style.
std::vector<std::string> WriteFiles(const TempDir& dir, const Population& p,
                                    const std::string& prefix = "") {
  return {
      dir.Write(prefix + "Condition.ndjson", Lines({Json(p.diagnosis)})),
      dir.Write(prefix + "Observation.ndjson", Lines({Json(p.observation)})),
      dir.Write(prefix + "MedicationRequest.ndjson", Lines({Json(p.medication)})),
      dir.Write(prefix + "ChargeItem.ndjson", Lines({ChargeJson(p.admission)})),
      dir.Write(prefix + "Encounter.ndjson", Lines({Json(p.admission)})),
      dir.Write(prefix + "EpisodeOfCare.ndjson", Lines({Json(p.package)})),
      dir.Write(prefix + "Patient.ndjson", Lines({Json(p.p1), "", Json(p.p2)})),
      dir.Write(prefix + "Organization.ndjson", Lines({Json(p.practice)})),
  };
}

TEST_P(ImportStoreTest, ImportsEveryResourceTypeInDependencyOrderWhateverTheArgumentOrder) {
  Population p = MakePopulation();
  auto report = Run(WriteFiles(dir_, p));  // dependents first on purpose
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_TRUE(report->committed) << Issues(*report);
  EXPECT_EQ(report->issue_count, 0u);
  for (const char* type : {"Organization", "Encounter", "EpisodeOfCare", "Condition", "Observation",
                           "MedicationRequest", "ChargeItem"}) {
    EXPECT_EQ(report->by_type[type], (ImportTypeCounts{1, 1, 0, 0})) << type;
  }
  EXPECT_EQ(report->by_type["Patient"], (ImportTypeCounts{2, 2, 0, 0}));
  EXPECT_EQ(report->files, 8u);

  auto counts = store_->Counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(*counts, (store::TableCounts{1, 2, 2, 2, 1}));

  auto admission = store_->FindActivity("a1");
  ASSERT_TRUE(admission.ok() && *admission);
  EXPECT_EQ((*admission)->cost_pence, 345600);  // from the ChargeItem
  EXPECT_EQ((*admission)->length_of_stay_days, 5);
  auto events = store_->EventsForPatient("p1");
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  // The diagnosis was recorded in an emergency admission: the importer says so.
  EXPECT_EQ((*events)[0].admission_method, AdmissionMethod::kEmergency);
  EXPECT_EQ((*events)[0].activity_id, "a1");
  auto p2 = store_->FindPatient("p2");
  ASSERT_TRUE(p2.ok() && *p2);
  EXPECT_EQ((*p2)->nhs_number, p.p2.nhs_number);
  EXPECT_EQ((*p2)->practice_id, "F84001");
}

TEST_P(ImportStoreTest, OneMixedFileInReverseDependencyOrder) {
  Population p = MakePopulation();
  std::string path = dir_.Write(
      "everything.ndjson",
      Lines({Json(p.diagnosis), ChargeJson(p.admission), Json(p.medication), Json(p.admission),
             Json(p.observation), Json(p.package), Json(p.p2), Json(p.p1), Json(p.practice)}));
  auto report = Run({path});
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_TRUE(report->committed) << Issues(*report);
  auto counts = store_->Counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(*counts, (store::TableCounts{1, 2, 2, 2, 1}));
  auto events = store_->EventsForPatient("p1");
  ASSERT_TRUE(events.ok() && events->size() == 1u);
  EXPECT_EQ((*events)[0].admission_method, AdmissionMethod::kEmergency);
}

TEST_P(ImportStoreTest, AdmissionMethodComesFromAnAdmissionAlreadyInTheStore) {
  Population p = MakePopulation();
  auto first =
      Run({dir_.Write("base.ndjson", Lines({Json(p.practice), Json(p.p1), Json(p.admission)}))});
  ASSERT_TRUE(first.ok() && first->committed);
  auto second = Run({dir_.Write("later.ndjson", Lines({Json(p.diagnosis)}))});
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->committed) << Issues(*second);
  auto events = store_->EventsForPatient("p1");
  ASSERT_TRUE(events.ok() && events->size() == 1u);
  EXPECT_EQ((*events)[0].admission_method, AdmissionMethod::kEmergency);
}

TEST_P(ImportStoreTest, ReimportUpdatesAndNeverDuplicates) {
  Population p = MakePopulation();
  auto files = WriteFiles(dir_, p);
  auto first = Run(files);
  ASSERT_TRUE(first.ok() && first->committed);
  const std::string after_first = Snapshot(*store_);

  auto again = Run(files);
  ASSERT_TRUE(again.ok() && again->committed) << Issues(*again);
  EXPECT_EQ(Snapshot(*store_), after_first);

  p.p1.family_name = "Smith-Jones";
  p.admission.cost_pence = 100;
  dir_.Write("Patient.ndjson", Lines({Json(p.p1), Json(p.p2)}));
  dir_.Write("ChargeItem.ndjson", Lines({ChargeJson(p.admission)}));
  auto changed = Run(files);
  ASSERT_TRUE(changed.ok() && changed->committed) << Issues(*changed);
  auto counts = store_->Counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(*counts, (store::TableCounts{1, 2, 2, 2, 1}));
  auto p1 = store_->FindPatient("p1");
  ASSERT_TRUE(p1.ok() && *p1);
  EXPECT_EQ((*p1)->family_name, "Smith-Jones");
  auto admission = store_->FindActivity("a1");
  ASSERT_TRUE(admission.ok() && *admission);
  EXPECT_EQ((*admission)->cost_pence, 100);
}

TEST_P(ImportStoreTest, DirectoryImportReadsNdjsonCsvAndBundlesAndIgnoresTheRest) {
  Population p = MakePopulation();
  WriteFiles(dir_, p, "export/");
  dir_.Write("export/practices.csv", "practice_id,name\nF99999,Extra Surgery\n");
  dir_.Write("export/README.txt", "not data");
  dir_.Write("export/manifest.json",
             "{\"transactionTime\":\"2024-01-01T00:00:00Z\",\"request\":\"x\",\"output\":[]}");
  dir_.Write("export/sub/Patient.ndjson", "not read: directories are not recursed into\n");
  auto report = Run({dir_.path() + "/export"});
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_TRUE(report->committed) << Issues(*report);
  EXPECT_EQ(report->files, 9u);
  auto counts = store_->Counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(*counts, (store::TableCounts{2, 2, 2, 2, 1}));
}

TEST_P(ImportStoreTest, UnknownResourceTypesAreCountedAsSkipped) {
  Population p = MakePopulation();
  auto report = Run(
      {dir_.Write("mixed.ndjson", Lines({Json(p.practice), Json(p.p1),
                                         R"({"resourceType":"Claim","id":"cl1","status":"active"})",
                                         R"({"resourceType":"Immunization","id":"i1"})",
                                         R"({"resourceType":"Claim","id":"cl2"})"}))});
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->committed) << Issues(*report);
  EXPECT_EQ(report->by_type["Claim"], (ImportTypeCounts{2, 0, 2, 0}));
  EXPECT_EQ(report->by_type["Immunization"], (ImportTypeCounts{1, 0, 1, 0}));
  EXPECT_EQ(report->by_type["Patient"], (ImportTypeCounts{1, 1, 0, 0}));
}

// ---- Bad input: named by file:line and field, and nothing changes ----------------------------

struct BadCase {
  std::string name;
  std::string bad_line;  // placed as line 3 of Patient2.ndjson, after two valid lines
  std::string resource;  // expected ImportIssue.resource
  std::string field;     // expected ImportIssue.field
  std::string message;   // expected in ImportIssue.message
};

class ImportBadInputTest : public ImportStoreTest {
 protected:
  // A store holding the population, so that "unchanged" means something.
  void Populate() {
    p_ = MakePopulation();
    auto report = Run(WriteFiles(dir_, p_, "base/"));
    ASSERT_TRUE(report.ok() && report->committed);
    before_ = Snapshot(*store_);
  }
  // Imports [new valid practice, new valid patient, bad line] and checks the one issue.
  void ExpectRefused(const BadCase& c) {
    SCOPED_TRACE(c.name);
    Practice extra_practice{"F84002", "Another Surgery", "", ""};
    Patient extra = p_.p2;
    extra.id = "p3";
    extra.nhs_number = store::testing::TestNhsNumber(3);
    extra.family_name = "New";
    std::string path =
        dir_.Write(c.name + ".ndjson", Lines({Json(extra_practice), Json(extra), c.bad_line}));
    auto report = Run({path});
    ASSERT_TRUE(report.ok()) << report.error().ToString();
    EXPECT_FALSE(report->committed);
    ASSERT_EQ(report->issue_count, 1u) << Issues(*report);
    ASSERT_EQ(report->issues.size(), 1u);
    const ImportIssue& issue = report->issues[0];
    EXPECT_EQ(issue.file, path);
    EXPECT_EQ(issue.line, 3u);
    EXPECT_EQ(issue.resource, c.resource);
    EXPECT_EQ(issue.field, c.field);
    EXPECT_THAT(issue.message, HasSubstr(c.message));
    EXPECT_THAT(issue.ToString(), HasSubstr(path + ":3: "));
    EXPECT_EQ(Snapshot(*store_), before_) << "a refused import changed the store";
  }
  Population p_;
  std::string before_;
};

TEST_P(ImportBadInputTest, EachBadLineIsNamedAndTheStoreIsUnchanged) {
  ASSERT_NO_FATAL_FAILURE(Populate());
  std::string good_patient = Json(p_.p2);
  auto replace = [](std::string text, const std::string& from, const std::string& to) {
    size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from << " not in " << text;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    return text;
  };
  Patient p4 = p_.p2;
  p4.id = "p4";
  p4.nhs_number = store::testing::TestNhsNumber(4);
  const std::string good_nhs = p4.nhs_number->digits();
  std::string bad_nhs = good_nhs;
  bad_nhs[9] = bad_nhs[9] == '9' ? '0' : static_cast<char>(bad_nhs[9] + 1);
  ClinicalEvent dangling = p_.observation;
  dangling.id = "o9";
  dangling.patient_id = "nobody";
  ClinicalEvent dangling_encounter = p_.diagnosis;
  dangling_encounter.id = "c9";
  dangling_encounter.activity_id = "no-such-encounter";
  Activity charge_for_nothing = p_.admission;
  charge_for_nothing.id = "no-such-encounter";
  Patient orphan = p4;
  orphan.practice_id = "Y99999";

  std::vector<BadCase> cases = {
      {"truncated", good_patient.substr(0, good_patient.size() / 2), "", "", ""},
      {"wrong_type", replace(Json(p4), "\"birthDate\":\"1950-01-01\"", "\"birthDate\":19500101"),
       "Patient/p4", "birthDate", ""},
      {"invalid_nhs_number", replace(Json(p4), good_nhs, bad_nhs), "Patient/p4",
       "identifier[0].value", "check"},
      {"dangling_subject", Json(dangling), "Observation/o9", "subject", "Patient/nobody"},
      {"dangling_encounter", Json(dangling_encounter), "Condition/c9", "encounter",
       "Activity/no-such-encounter"},
      {"dangling_context", ChargeJson(charge_for_nothing),
       "ChargeItem/" + ChargeItemId("no-such-encounter"), "context", "Activity/no-such-encounter"},
      {"dangling_practice", Json(orphan), "Patient/p4", "generalPractitioner",
       "Organization/Y99999"},
      {"duplicate_id", Json(p_.p2).replace(Json(p_.p2).find("\"p2\""), 4, "\"p3\""), "Patient/p3",
       "id", ":2"},
  };
  for (const BadCase& c : cases) {
    if (c.name == "truncated") continue;  // checked below: its resource cannot be read
    ExpectRefused(c);
  }

  // Truncated JSON: no resource to name, but the line is named.
  std::string path = dir_.Write("truncated.ndjson",
                                Lines({Json(p4), good_patient.substr(0, good_patient.size() / 2)}));
  auto report = Run({path});
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->committed);
  ASSERT_EQ(report->issues.size(), 1u) << Issues(*report);
  EXPECT_EQ(report->issues[0].line, 2u);
  EXPECT_THAT(report->issues[0].ToString(), HasSubstr(path + ":2: "));
  EXPECT_EQ(report->by_type["Patient"].imported, 1u);  // accepted, then rolled back
  EXPECT_EQ(Snapshot(*store_), before_);
}

TEST_P(ImportBadInputTest, DuplicateIdsAcrossFilesNameBothPlaces) {
  ASSERT_NO_FATAL_FAILURE(Populate());
  Patient p5 = p_.p2;
  p5.id = "p5";
  p5.nhs_number = store::testing::TestNhsNumber(5);
  Patient p5_again = p5;
  p5_again.nhs_number = store::testing::TestNhsNumber(6);
  std::string a = dir_.Write("a/Patient.ndjson", Lines({Json(p5)}));
  std::string b = dir_.Write("b/Patient.ndjson", Lines({"", Json(p5_again)}));
  auto report = Run({a, b});
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->committed);
  ASSERT_EQ(report->issues.size(), 1u) << Issues(*report);
  EXPECT_EQ(report->issues[0].ToString(),
            b + ":2: Patient/p5: id: the id is given twice: also at " + a + ":1");
  EXPECT_EQ(Snapshot(*store_), before_);
}

TEST_P(ImportBadInputTest, SameNhsNumberForTwoPeopleIsRefused) {
  ASSERT_NO_FATAL_FAILURE(Populate());
  Patient other = p_.p1;
  other.id = "someone-else";  // p1's NHS number, already in the store
  auto report = Run({dir_.Write("clash.ndjson", Lines({Json(other)}))});
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->committed);
  ASSERT_EQ(report->issues.size(), 1u) << Issues(*report);
  EXPECT_EQ(report->issues[0].field, "identifier");
  EXPECT_THAT(report->issues[0].message, HasSubstr("already belongs to Patient/p1"));
  EXPECT_EQ(Snapshot(*store_), before_);
}

TEST_P(ImportBadInputTest, SkipInvalidImportsTheRestAndWritesTheRejectsReport) {
  ASSERT_NO_FATAL_FAILURE(Populate());
  Patient p6 = p_.p2;
  p6.id = "p6";
  p6.nhs_number = store::testing::TestNhsNumber(6);
  ClinicalEvent dangling = p_.observation;
  dangling.id = "o9";
  dangling.patient_id = "nobody";
  const std::string bad_json = "{\"resourceType\":\"Patient\",\"id\":";
  const std::string dangling_line = Json(dangling);
  std::string path = dir_.Write("some-bad.ndjson", Lines({bad_json, Json(p6), dangling_line}));
  ImportOptions options;
  options.skip_invalid = true;
  options.rejects_path = dir_.path() + "/rejects.tsv";
  auto report = Run({path}, options);
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_TRUE(report->committed);
  EXPECT_EQ(report->issue_count, 2u) << Issues(*report);
  auto p6_stored = store_->FindPatient("p6");
  ASSERT_TRUE(p6_stored.ok());
  EXPECT_TRUE(p6_stored->has_value());
  EXPECT_EQ(report->by_type["Observation"], (ImportTypeCounts{1, 0, 0, 1}));

  std::ifstream in(options.rejects_path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].rfind("# ", 0), 0u);
  EXPECT_THAT(lines[1], ::testing::StartsWith(path + ":1\t\t\t"));
  EXPECT_THAT(lines[1], ::testing::EndsWith("\t" + bad_json));
  EXPECT_EQ(lines[2],
            path + ":3\tObservation/o9\tsubject\tPatient/nobody is not known\t" + dangling_line);
}

TEST_P(ImportBadInputTest, IssuesBeyondTheLimitAreCountedNotKept) {
  ASSERT_NO_FATAL_FAILURE(Populate());
  std::vector<std::string> lines(30, "not json");
  ImportOptions options;
  options.max_errors_reported = 5;
  auto report = Run({dir_.Write("junk.ndjson", Lines(lines))}, options);
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->committed);
  EXPECT_EQ(report->issues.size(), 5u);
  EXPECT_EQ(report->issue_count, 30u);
  EXPECT_EQ(report->by_type["(unreadable)"].rejected, 30u);
  EXPECT_EQ(Snapshot(*store_), before_);
}

TEST_P(ImportStoreTest, ProgressReachesTheTotal) {
  Population p = MakePopulation();
  auto files = WriteFiles(dir_, p);
  uint64_t last_done = 0, last_total = 0;
  int calls = 0;
  ImportOptions options;
  options.progress = [&](uint64_t done, uint64_t total) {
    EXPECT_GE(done, last_done);
    last_done = done;
    last_total = total;
    ++calls;
  };
  auto report = Run(files, options);
  ASSERT_TRUE(report.ok() && report->committed);
  EXPECT_GT(calls, 0);
  EXPECT_EQ(last_done, report->bytes);
  EXPECT_EQ(last_total, report->bytes);
}

TEST_P(ImportStoreTest, PathErrors) {
  auto missing = Run({dir_.path() + "/nope.ndjson"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  auto wrong = Run({dir_.Write("notes.txt", "x")});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ErrorCode::kInvalidInput);
  EXPECT_THAT(wrong.error().message, HasSubstr("notes.txt"));
}

INSTANTIATE_TEST_SUITE_P(, ImportStoreTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const auto& info) { return store::testing::BackendName(info.param); });
INSTANTIATE_TEST_SUITE_P(, ImportBadInputTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const auto& info) { return store::testing::BackendName(info.param); });

}  // namespace
}  // namespace joinedup::fhir::testing
