#include "import_test_support.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "fhir/fhir_mapping.h"

namespace joinedup::fhir::testing {

namespace fs = std::filesystem;
using store::testing::Describe;
using store::testing::TestNhsNumber;

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "joinedup-import-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

std::string TempDir::Write(const std::string& name, const std::string& content) const {
  fs::path path = fs::path(path_) / name;
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  EXPECT_TRUE(out.good()) << "cannot write " << path;
  return path.string();
}

Population MakePopulation() {
  Population p;
  p.practice = {"F84001", "The Limes Surgery", "PCH North", "E1"};
  p.p1.id = "p1";
  p.p1.nhs_number = TestNhsNumber(1);
  p.p1.family_name = "Smith";
  p.p1.given_name = "Zoë";
  p.p1.birth_date = Date::FromYmd(1938, 3, 4);
  p.p1.sex = Sex::kFemale;
  p.p1.postcode_district = "E1";
  p.p1.deprivation_decile = 2;
  p.p1.practice_id = "F84001";
  p.p2.id = "p2";
  p.p2.nhs_number = TestNhsNumber(2);
  p.p2.family_name = "Jones";
  p.p2.given_name = "Arthur";
  p.p2.birth_date = Date::FromYmd(1950, 1, 1);
  p.p2.sex = Sex::kMale;
  p.p2.practice_id = "F84001";

  p.admission.id = "a1";
  p.admission.patient_id = "p1";
  p.admission.type = ActivityType::kEmergencyAdmission;
  p.admission.start = Date::FromYmd(2023, 1, 10);
  p.admission.end = Date::FromYmd(2023, 1, 15);
  p.admission.length_of_stay_days = 5;
  p.admission.cost_pence = 345600;
  p.admission.specialty = "300";

  p.package.id = "a2";
  p.package.patient_id = "p1";
  p.package.type = ActivityType::kSocialCarePackage;
  p.package.start = Date::FromYmd(2023, 2, 1);

  p.diagnosis.id = "c1";
  p.diagnosis.patient_id = "p1";
  p.diagnosis.kind = EventKind::kCondition;
  p.diagnosis.system = CodeSystem::kIcd10;
  p.diagnosis.code = "I50.0";
  p.diagnosis.term = "Congestive heart failure";
  p.diagnosis.date = Date::FromYmd(2023, 1, 10);
  p.diagnosis.source = EventSource::kHospital;
  p.diagnosis.activity_id = "a1";  // admission_method left for the importer to fill in

  p.observation.id = "o1";
  p.observation.patient_id = "p2";
  p.observation.kind = EventKind::kObservation;
  p.observation.system = CodeSystem::kSnomedCt;
  p.observation.code = "273302005";
  p.observation.term = "Barthel index";
  p.observation.date = Date::FromYmd(2023, 3, 1);
  p.observation.value = 15;
  p.observation.unit = "score";

  p.medication.id = "m1";
  p.medication.patient_id = "p2";
  p.medication.system = CodeSystem::kDmd;
  p.medication.code = "39732311000001104";
  p.medication.term = "Amlodipine 5mg tablets";
  p.medication.start = Date::FromYmd(2022, 6, 1);
  return p;
}

namespace {
template <typename T>
std::string JsonOf(Status (*append)(const T&, std::string&), const T& record) {
  std::string out;
  Status status = append(record, out);
  EXPECT_TRUE(status.ok()) << status.error().ToString();
  return out;
}
}  // namespace

std::string Json(const Practice& r) { return JsonOf(&AppendOrganizationJson, r); }
std::string Json(const Patient& r) { return JsonOf(&AppendPatientJson, r); }
std::string Json(const Activity& r) { return JsonOf(&AppendActivityJson, r); }
std::string Json(const ClinicalEvent& r) { return JsonOf(&AppendClinicalEventJson, r); }
std::string Json(const Medication& r) { return JsonOf(&AppendMedicationRequestJson, r); }
std::string ChargeJson(const Activity& r) { return JsonOf(&AppendChargeItemJson, r); }

std::string Lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return out;
}

std::string Snapshot(store::Store& store) {
  std::ostringstream out;
  auto counts = store.Counts();
  if (!counts.ok()) return "Counts failed: " + counts.error().ToString();
  out << "practices=" << counts->practices << " patients=" << counts->patients
      << " events=" << counts->events << " activities=" << counts->activities
      << " medications=" << counts->medications << "\n";
  auto practices = store.Practices();
  if (practices.ok())
    for (const auto& p : *practices) out << "[practice]\n" << Describe(p);
  Status scanned = store.ScanPatients([&](const Patient& patient) -> Status {
    out << "[patient]\n" << Describe(patient);
    auto events = store.EventsForPatient(patient.id);
    if (events.ok())
      for (const auto& e : *events) out << "[event]\n" << Describe(e);
    auto activities = store.ActivitiesForPatient(patient.id);
    if (activities.ok())
      for (const auto& a : *activities) out << "[activity]\n" << Describe(a);
    auto medications = store.MedicationsForPatient(patient.id);
    if (medications.ok())
      for (const auto& m : *medications) out << "[medication]\n" << Describe(m);
    return Ok();
  });
  if (!scanned.ok()) out << "ScanPatients failed: " << scanned.error().ToString();
  return out.str();
}

void ImportStoreTest::SetUp() {
  std::string skip_reason;
  db_ = store::testing::TestDatabase::Create(GetParam(), skip_reason);
  if (!db_) {
    if (!skip_reason.empty()) GTEST_SKIP() << skip_reason;
    FAIL() << "no test database";
  }
  auto opened = store::OpenStore(db_->url());
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  store_ = std::move(*opened);
}

Result<ImportReport> ImportStoreTest::Run(const std::vector<std::string>& paths,
                                          ImportOptions options) {
  return Import(paths, options, *store_);
}

std::string ImportStoreTest::Issues(const ImportReport& report) {
  std::string out;
  for (const auto& issue : report.issues) out += issue.ToString() + "\n";
  return out;
}

}  // namespace joinedup::fhir::testing
