#include "fhir/ndjson_writer.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>

#include "fhir/fhir_mapping.h"
#include "map_test_util.h"

namespace joinedup::fhir {
namespace {

using testing::ExpectSame;
using testing::MapAs;

class NdjsonWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("joinedup-ndjson-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::vector<std::string> Lines(std::string_view type) {
    std::ifstream in(dir_ / (std::string(type) + ".ndjson"));
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }
  std::filesystem::path dir_;
};

TEST_F(NdjsonWriterTest, WritesOneFilePerTypeThatReadsBackExactly) {
  NdjsonWriterOptions options;
  options.transaction_time = "2025-01-01T00:00:00Z";
  auto writer = NdjsonWriter::Open(dir_, options);
  ASSERT_TRUE(writer.ok()) << writer.error().ToString();

  Practice practice{"F84001", "Spitalfields", "PCH North", "E1"};
  Patient patient;
  patient.id = "p-1";
  patient.nhs_number = *NhsNumber::Parse("9434765919");
  patient.family_name = "Smith";
  patient.given_name = "Ann";
  patient.birth_date = Date::FromYmd(1940, 6, 1);
  patient.sex = Sex::kFemale;
  patient.postcode_district = "E1";
  patient.deprivation_decile = 2;
  patient.practice_id = "F84001";
  Activity admission;
  admission.id = "a-1";
  admission.patient_id = "p-1";
  admission.type = ActivityType::kEmergencyAdmission;
  admission.start = Date::FromYmd(2024, 1, 1);
  admission.end = Date::FromYmd(2024, 1, 8);
  admission.length_of_stay_days = 7;
  admission.cost_pence = 345678;
  admission.specialty = "430";
  Activity package = admission;
  package.id = "a-2";
  package.type = ActivityType::kSocialCarePackage;
  package.specialty.clear();
  package.end.reset();
  package.length_of_stay_days = 0;
  package.cost_pence = 0;  // no ChargeItem
  ClinicalEvent condition;
  condition.id = "e-1";
  condition.patient_id = "p-1";
  condition.system = CodeSystem::kIcd10;
  condition.code = "I50.0";
  condition.term = "Congestive heart failure";
  condition.date = admission.start;
  condition.source = EventSource::kHospital;
  condition.admission_method = AdmissionMethod::kEmergency;
  condition.activity_id = "a-1";
  ClinicalEvent observation = condition;
  observation.id = "e-2";
  observation.kind = EventKind::kObservation;
  observation.system = CodeSystem::kSnomedCt;
  observation.code = "273302005";
  observation.term = "Barthel index";
  observation.value = 55;
  observation.unit = "{score}";
  observation.admission_method = AdmissionMethod::kNone;
  Medication medication{"m-1", "p-1", CodeSystem::kDmd, "322236009", "Paracetamol", Date::FromYmd(2023, 1, 1), std::nullopt};

  auto& w = **writer;
  ASSERT_TRUE(w.Add(practice).ok());
  ASSERT_TRUE(w.Add(patient).ok());
  ASSERT_TRUE(w.Add(admission).ok());
  ASSERT_TRUE(w.Add(package).ok());
  ASSERT_TRUE(w.Add(condition).ok());
  ASSERT_TRUE(w.Add(observation).ok());
  ASSERT_TRUE(w.Add(medication).ok());
  Activity bad = admission;
  bad.id = "a 3";
  EXPECT_FALSE(w.Add(bad).ok());  // refused, and nothing of it written
  auto files = w.Close();
  ASSERT_TRUE(files.ok()) << files.error().ToString();
  std::map<std::string, int64_t> counts;
  for (const auto& f : *files) counts[f.resource_type] = f.count;
  EXPECT_EQ(counts, (std::map<std::string, int64_t>{{"Organization", 1}, {"Patient", 1},
                                                    {"Encounter", 1}, {"EpisodeOfCare", 1},
                                                    {"ChargeItem", 1}, {"Condition", 1},
                                                    {"Observation", 1}, {"MedicationRequest", 1}}));
  EXPECT_FALSE(w.Add(practice).ok());  // after Close

  ExpectSame(MapAs<Practice>(Lines("Organization").at(0)), practice);
  ExpectSame(MapAs<Patient>(Lines("Patient").at(0)), patient);
  Activity encounter = MapAs<Activity>(Lines("Encounter").at(0));
  ExpectSame(encounter, admission);
  ExpectSame(MapAs<Activity>(Lines("EpisodeOfCare").at(0)), package);
  Charge charge = MapAs<Charge>(Lines("ChargeItem").at(0));
  EXPECT_EQ(charge.activity_id, "a-1");
  EXPECT_EQ(charge.cost_pence, 345678);
  ClinicalEvent read_condition = MapAs<ClinicalEvent>(Lines("Condition").at(0));
  ExpectSame(read_condition, condition);
  // What the importer does: the diagnosis takes its admission method from its Encounter.
  EXPECT_EQ(AdmissionMethodOf(encounter.type), condition.admission_method);
  ExpectSame(MapAs<ClinicalEvent>(Lines("Observation").at(0)), observation);
  ExpectSame(MapAs<Medication>(Lines("MedicationRequest").at(0)), medication);

  std::ifstream manifest(dir_ / "manifest.json");
  std::stringstream text;
  text << manifest.rdbuf();
  EXPECT_NE(text.str().find("\"transactionTime\":\"2025-01-01T00:00:00Z\""), std::string::npos);
  EXPECT_NE(text.str().find("{\"type\":\"ChargeItem\",\"url\":\"ChargeItem.ndjson\",\"count\":1}"),
            std::string::npos)
      << text.str();
}

TEST_F(NdjsonWriterTest, ManyRecordsCrossTheBufferBoundary) {
  auto writer = NdjsonWriter::Open(dir_);
  ASSERT_TRUE(writer.ok());
  const int n = 20000;  // ~4 MB of Observations: several flushes
  for (int i = 0; i < n; ++i) {
    ClinicalEvent e;
    e.id = "o-" + std::to_string(i);
    e.patient_id = "p-" + std::to_string(i % 97);
    e.kind = EventKind::kObservation;
    e.system = CodeSystem::kLoinc;
    e.code = "8302-2";
    e.term = "Body height with a longer display text to fill the buffer faster";
    e.date = Date::FromYmd(2020, 1, 1).AddDays(i % 1000);
    e.value = i * 0.1;
    e.unit = "cm";
    ASSERT_TRUE((*writer)->Add(e).ok());
  }
  auto files = (*writer)->Close();
  ASSERT_TRUE(files.ok());
  auto lines = Lines("Observation");
  ASSERT_EQ(lines.size(), static_cast<size_t>(n));
  for (int i : {0, 1, 4999, n - 1}) {
    ClinicalEvent e = MapAs<ClinicalEvent>(lines[i]);
    EXPECT_EQ(e.id, "o-" + std::to_string(i));
    EXPECT_EQ(e.value, i * 0.1);
  }
}

TEST_F(NdjsonWriterTest, OpenFailsClearlyWhenTheDirectoryCannotBeMade) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ / "file") << "x";
  auto writer = NdjsonWriter::Open(dir_ / "file" / "sub");
  ASSERT_FALSE(writer.ok());
  EXPECT_EQ(writer.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace joinedup::fhir
