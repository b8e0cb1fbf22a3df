// The Store conformance suite: every test runs against SQLite (temp file) and PostgreSQL
// (throwaway server), through the public Store interface only.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "store/migrations.h"
#include "store/store.h"
#include "store_test_support.h"

namespace joinedup::store::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::StartsWith;

Practice MakePractice(const std::string& id) {
  return {id, "The " + id + " Surgery", "PCH North", "E1"};
}

// Every field set, including the optional ones.
Patient MakePatient(const std::string& id, int n, const std::string& practice_id) {
  Patient p;
  p.id = id;
  p.nhs_number = TestNhsNumber(n);
  p.source_identifier = "https://example.org/mrn|" + id;
  p.family_name = "O'Brien\tSmith";  // quotes and a tab survive both backends
  p.given_name = "Zoë";
  p.birth_date = Date::FromYmd(1941, 2, 28);
  p.sex = Sex::kFemale;
  p.postcode_district = "E1";
  p.deprivation_decile = 3;
  p.practice_id = practice_id;
  p.death_date = Date::FromYmd(2023, 12, 31);
  return p;
}

// Only what is required: no NHS number, practice or death date.
Patient MakeBarePatient(const std::string& id) {
  Patient p;
  p.id = id;
  p.source_identifier = "urn:local|" + id;
  p.birth_date = Date::FromYmd(1990, 1, 1);
  return p;
}

ClinicalEvent MakeCondition(const std::string& id, const std::string& patient_id,
                            const std::string& code, CodeSystem system = CodeSystem::kSnomedCt) {
  ClinicalEvent e;
  e.id = id;
  e.patient_id = patient_id;
  e.kind = EventKind::kCondition;
  e.system = system;
  e.code = code;
  e.term = "term for " + code;
  e.date = Date::FromYmd(2020, 5, 1);
  return e;
}

Activity MakeActivity(const std::string& id, const std::string& patient_id) {
  Activity a;
  a.id = id;
  a.patient_id = patient_id;
  a.type = ActivityType::kEmergencyAdmission;
  a.start = Date::FromYmd(2021, 3, 4);
  a.end = Date::FromYmd(2021, 3, 9);
  a.length_of_stay_days = 5;
  a.cost_pence = 312'345;
  a.specialty = "300";
  return a;
}

Medication MakeMedication(const std::string& id, const std::string& patient_id) {
  Medication m;
  m.id = id;
  m.patient_id = patient_id;
  m.system = CodeSystem::kDmd;
  m.code = "39720311000001101";
  m.term = "Paracetamol 500mg tablets";
  m.start = Date::FromYmd(2022, 1, 10);
  m.end = Date::FromYmd(2022, 2, 10);
  return m;
}

class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string skip_reason;
    db_ = TestDatabase::Create(GetParam(), skip_reason);
    if (!skip_reason.empty()) GTEST_SKIP() << skip_reason;
    ASSERT_NE(db_, nullptr);
    auto opened = OpenStore(db_->url());
    ASSERT_TRUE(opened.ok()) << opened.error().ToString();
    store_ = std::move(opened).value();
  }
  void TearDown() override {
    store_.reset();
    db_.reset();
  }

  Store& store() { return *store_; }

  std::unique_ptr<Writer> BeginWrite() {
    auto writer = store_->BeginWrite();
    EXPECT_TRUE(writer.ok()) << writer.error().ToString();
    return writer.ok() ? std::move(writer).value() : nullptr;
  }

  TableCounts Counts() {
    auto counts = store_->Counts();
    EXPECT_TRUE(counts.ok()) << counts.error().ToString();
    return counts.ok() ? counts.value() : TableCounts{-1, -1, -1, -1, -1};
  }

  // One practice, two patients (one bare), an activity, two events and a medication.
  void WriteSmallPopulation() {
    auto w = BeginWrite();
    ASSERT_NE(w, nullptr);
    ASSERT_TRUE(w->Add(MakePractice("F84001")).ok());
    ASSERT_TRUE(w->Add(MakePatient("p-1", 1, "F84001")).ok());
    ASSERT_TRUE(w->Add(MakeBarePatient("p-2")).ok());
    ASSERT_TRUE(w->Add(MakeActivity("a-1", "p-1")).ok());
    ASSERT_TRUE(w->Add(MakeCondition("e-1", "p-1", "38341003")).ok());
    ASSERT_TRUE(w->Add(MakeCondition("e-2", "p-2", "73211009")).ok());
    ASSERT_TRUE(w->Add(MakeMedication("m-1", "p-1")).ok());
    ASSERT_TRUE(w->Commit().ok());
  }

  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreTest, ReportsBackendAndSchemaVersion) {
  EXPECT_EQ(store().backend(), BackendName(GetParam()));
  EXPECT_EQ(store().schema_version(), kLatestSchemaVersion);
  EXPECT_EQ(Counts(), TableCounts{});
}

TEST_P(StoreTest, PracticesRoundTripInIdOrder) {
  auto w = BeginWrite();
  ASSERT_TRUE(w->Add(MakePractice("M85001")).ok());
  Practice bare{"F84001", "", "", ""};
  ASSERT_TRUE(w->Add(bare).ok());
  ASSERT_TRUE(w->Commit().ok());
  auto practices = store().Practices();
  ASSERT_TRUE(practices.ok()) << practices.error().ToString();
  ASSERT_EQ(practices->size(), 2u);
  EXPECT_EQ(Describe((*practices)[0]), Describe(bare));
  EXPECT_EQ(Describe((*practices)[1]), Describe(MakePractice("M85001")));
}

TEST_P(StoreTest, PatientsRoundTripWithEveryFieldSetOrEmpty) {
  Patient full = MakePatient("p-full", 1, "F84001");
  Patient bare = MakeBarePatient("p-bare");
  Patient male = MakePatient("p-male", 2, "");
  male.sex = Sex::kMale;
  male.death_date.reset();
  male.deprivation_decile = 10;
  Patient other = MakeBarePatient("p-other");
  other.sex = Sex::kOther;
  {
    auto w = BeginWrite();
    ASSERT_TRUE(w->Add(MakePractice("F84001")).ok());
    for (const Patient* p : {&full, &bare, &male, &other}) ASSERT_TRUE(w->Add(*p).ok()) << p->id;
    ASSERT_TRUE(w->Commit().ok());
  }
  for (const Patient* p : {&full, &bare, &male, &other}) {
    auto found = store().FindPatient(p->id);
    ASSERT_TRUE(found.ok()) << found.error().ToString();
    ASSERT_TRUE(found->has_value()) << p->id;
    EXPECT_EQ(Describe(**found), Describe(*p));
  }
  auto missing = store().FindPatient("nobody");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  EXPECT_EQ(Counts().patients, 4);
}

TEST_P(StoreTest, EventsRoundTripInDateThenIdOrder) {
  ClinicalEvent hospital = MakeCondition("e-b", "p-1", "I50.0", CodeSystem::kIcd10);
  hospital.source = EventSource::kHospital;
  hospital.admission_method = AdmissionMethod::kEmergency;
  hospital.activity_id = "a-1";
  hospital.date = Date::FromYmd(2021, 3, 5);
  ClinicalEvent barthel;
  barthel.id = "e-a";
  barthel.patient_id = "p-1";
  barthel.kind = EventKind::kObservation;
  barthel.system = CodeSystem::kLoinc;
  barthel.code = "96761-2";
  barthel.term = "";  // no display text given
  barthel.date = Date::FromYmd(2021, 3, 5);
  barthel.value = 0.1 + 0.2;  // a double that needs all 17 digits
  barthel.unit = "{score}";
  ClinicalEvent early = MakeCondition("e-z", "p-1", "XaIPl", CodeSystem::kCtv3);
  early.date = Date::FromYmd(1999, 12, 31);
  ClinicalEvent negative = barthel;
  negative.id = "e-neg";
  negative.value = -1.5e-300;
  negative.date = Date::FromYmd(2024, 1, 1);
  {
    auto w = BeginWrite();
    ASSERT_TRUE(w->Add(MakePatient("p-1", 1, "")).ok());
    ASSERT_TRUE(w->Add(MakeBarePatient("p-2")).ok());
    ASSERT_TRUE(w->Add(MakeActivity("a-1", "p-1")).ok());
    for (const auto* e : {&hospital, &barthel, &early, &negative})
      ASSERT_TRUE(w->Add(*e).ok()) << e->id;
    ASSERT_TRUE(w->Add(MakeCondition("e-other", "p-2", "38341003")).ok());
    ASSERT_TRUE(w->Commit().ok());
  }
  auto events = store().EventsForPatient("p-1");
  ASSERT_TRUE(events.ok()) << events.error().ToString();
  ASSERT_EQ(events->size(), 4u);
  EXPECT_EQ(Describe((*events)[0]), Describe(early));
  EXPECT_EQ(Describe((*events)[1]), Describe(barthel));
  EXPECT_EQ(Describe((*events)[2]), Describe(hospital));
  EXPECT_EQ(Describe((*events)[3]), Describe(negative));
  EXPECT_EQ((*events)[1].value, 0.1 + 0.2);  // exact, not just the same 17 printed digits
  auto none = store().EventsForPatient("nobody");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_P(StoreTest, ActivitiesRoundTripAndFindActivity) {
  Activity admission = MakeActivity("a-2", "p-1");
  Activity appointment;
  appointment.id = "a-1";
  appointment.patient_id = "p-1";
  appointment.type = ActivityType::kGpAppointment;
  appointment.start = Date::FromYmd(2021, 1, 1);
  appointment.cost_pence = 4'200;
  appointment.practice_id = "F84001";
  Activity package = MakeActivity("a-3", "p-1");
  package.type = ActivityType::kContinuingHealthcare;
  package.start = Date::FromYmd(2022, 6, 1);
  package.end.reset();  // ongoing
  package.length_of_stay_days = 0;
  package.specialty = "";
  package.cost_pence = 9'000'000'000'000;  // beyond 32 bits
  {
    auto w = BeginWrite();
    ASSERT_TRUE(w->Add(MakePractice("F84001")).ok());
    ASSERT_TRUE(w->Add(MakePatient("p-1", 1, "F84001")).ok());
    for (const auto* a : {&package, &admission, &appointment}) ASSERT_TRUE(w->Add(*a).ok());
    ASSERT_TRUE(w->Commit().ok());
  }
  auto activities = store().ActivitiesForPatient("p-1");
  ASSERT_TRUE(activities.ok()) << activities.error().ToString();
  ASSERT_EQ(activities->size(), 3u);
  EXPECT_EQ(Describe((*activities)[0]), Describe(appointment));
  EXPECT_EQ(Describe((*activities)[1]), Describe(admission));
  EXPECT_EQ(Describe((*activities)[2]), Describe(package));
  auto found = store().FindActivity("a-3");
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(Describe(**found), Describe(package));
  auto missing = store().FindActivity("a-404");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST_P(StoreTest, MedicationsRoundTrip) {
  Medication current = MakeMedication("m-2", "p-1");
  current.end.reset();
  current.start = Date::FromYmd(2023, 1, 1);
  current.system = CodeSystem::kRxNorm;
  current.code = "313782";
  Medication ended = MakeMedication("m-1", "p-1");
  {
    auto w = BeginWrite();
    ASSERT_TRUE(w->Add(MakePatient("p-1", 1, "")).ok());
    ASSERT_TRUE(w->Add(current).ok());
    ASSERT_TRUE(w->Add(ended).ok());
    ASSERT_TRUE(w->Commit().ok());
  }
  auto meds = store().MedicationsForPatient("p-1");
  ASSERT_TRUE(meds.ok()) << meds.error().ToString();
  ASSERT_EQ(meds->size(), 2u);
  EXPECT_EQ(Describe((*meds)[0]), Describe(ended));
  EXPECT_EQ(Describe((*meds)[1]), Describe(current));
}

TEST_P(StoreTest, AddingAnExistingIdReplacesTheRecord) {
  WriteSmallPopulation();
  const TableCounts before = Counts();
  Practice practice = MakePractice("F84001");
  practice.name = "Renamed Surgery";
  Patient patient = MakePatient("p-1", 7, "");  // new NHS number, practice removed
  patient.family_name = "Changed";
  patient.death_date.reset();
  Activity activity = MakeActivity("a-1", "p-2");  // moved to another patient
  activity.cost_pence = 1;
  activity.end.reset();
  ClinicalEvent event = MakeCondition("e-1", "p-2", "195967001");
  event.term = "Asthma";
  event.activity_id = "a-1";
  event.value = 2.5;
  Medication medication = MakeMedication("m-1", "p-2");
  medication.end.reset();
  {
    auto w = BeginWrite();
    ASSERT_TRUE(w->Add(practice).ok());
    ASSERT_TRUE(w->Add(patient).ok());
    ASSERT_TRUE(w->Add(activity).ok());
    ASSERT_TRUE(w->Add(event).ok());
    ASSERT_TRUE(w->Add(medication).ok());
    ASSERT_TRUE(w->Commit().ok());
  }
  EXPECT_EQ(Counts(), before);
  auto practices = store().Practices();
  ASSERT_TRUE(practices.ok());
  ASSERT_EQ(practices->size(), 1u);
  EXPECT_EQ(Describe(practices->front()), Describe(practice));
  EXPECT_EQ(Describe(*store().FindPatient("p-1").value()), Describe(patient));
  EXPECT_EQ(Describe(*store().FindActivity("a-1").value()), Describe(activity));
  auto events = store().EventsForPatient("p-2");
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ(Describe((*events)[0]), Describe(event));
  EXPECT_TRUE(store().EventsForPatient("p-1")->empty());
  auto meds = store().MedicationsForPatient("p-2");
  ASSERT_EQ(meds->size(), 1u);
  EXPECT_EQ(Describe(meds->front()), Describe(medication));
}

TEST_P(StoreTest, AddingTheSameIdTwiceInOneWriterKeepsTheLast) {
  auto w = BeginWrite();
  Patient patient = MakeBarePatient("p-1");
  ASSERT_TRUE(w->Add(patient).ok());
  patient.given_name = "Second";
  ASSERT_TRUE(w->Add(patient).ok());
  ClinicalEvent event = MakeCondition("e-1", "p-1", "1");
  ASSERT_TRUE(w->Add(event).ok());
  event.code = "2";
  event.term = "";
  ASSERT_TRUE(w->Add(event).ok());
  ASSERT_TRUE(w->Commit().ok());
  EXPECT_EQ(Counts(), (TableCounts{0, 1, 1, 0, 0}));
  EXPECT_EQ(store().FindPatient("p-1").value()->given_name, "Second");
  auto events = store().EventsForPatient("p-1");
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(Describe(events->front()), Describe(event));
}

TEST_P(StoreTest, DanglingReferencesAreNotFoundAndWriteNothing) {
  WriteSmallPopulation();
  const TableCounts before = Counts();
  auto w = BeginWrite();
  auto expect_not_found = [](const Status& status, const std::string& prefix) {
    ASSERT_FALSE(status.ok()) << "expected " << prefix;
    EXPECT_EQ(status.error().code, ErrorCode::kNotFound) << status.error().ToString();
    EXPECT_THAT(status.error().message, StartsWith(prefix + " is not known"));
  };
  expect_not_found(w->Add(MakePatient("p-9", 9, "Y00000")), "Organization/Y00000");
  expect_not_found(w->Add(MakeCondition("e-9", "p-404", "1")), "Patient/p-404");
  ClinicalEvent in_missing_spell = MakeCondition("e-9", "p-1", "1");
  in_missing_spell.activity_id = "a-404";
  expect_not_found(w->Add(in_missing_spell), "Activity/a-404");
  expect_not_found(w->Add(MakeActivity("a-9", "p-404")), "Patient/p-404");
  Activity at_missing_practice = MakeActivity("a-9", "p-1");
  at_missing_practice.practice_id = "Y00000";
  expect_not_found(w->Add(at_missing_practice), "Organization/Y00000");
  expect_not_found(w->Add(MakeMedication("m-9", "p-404")), "Patient/p-404");
  expect_not_found(w->SetActivityCost("a-404", 5), "Activity/a-404");
  // The writer is still usable: references to what the store holds resolve.
  ClinicalEvent good = MakeCondition("e-good", "p-2", "1");
  good.activity_id = "a-1";
  ASSERT_TRUE(w->Add(good).ok());
  ASSERT_TRUE(w->Commit().ok());
  TableCounts after = before;
  after.events += 1;
  EXPECT_EQ(Counts(), after);
  EXPECT_FALSE(store().FindPatient("p-9")->has_value());
  EXPECT_FALSE(store().FindActivity("a-9")->has_value());
}

TEST_P(StoreTest, InvalidRecordsAreRefused) {
  auto w = BeginWrite();
  ASSERT_TRUE(w->Add(MakeBarePatient("p-1")).ok());
  Status empty_id = w->Add(MakeBarePatient(""));
  ASSERT_FALSE(empty_id.ok());
  EXPECT_EQ(empty_id.error().code, ErrorCode::kInvalidInput);
  ClinicalEvent nan = MakeCondition("e-1", "p-1", "1");
  nan.value = std::numeric_limits<double>::quiet_NaN();
  Status not_finite = w->Add(nan);
  ASSERT_FALSE(not_finite.ok());
  EXPECT_EQ(not_finite.error().code, ErrorCode::kInvalidInput);
  Patient decile = MakeBarePatient("p-2");
  decile.deprivation_decile = 11;
  EXPECT_EQ(w->Add(decile).error().code, ErrorCode::kInvalidInput);
  ASSERT_TRUE(w->Commit().ok());
  EXPECT_EQ(Counts(), (TableCounts{0, 1, 0, 0, 0}));
}

TEST_P(StoreTest, FailureMidWriterThenDestructionLeavesNothingHalfWritten) {
  WriteSmallPopulation();
  const TableCounts before = Counts();
  {
    auto w = BeginWrite();
    ASSERT_TRUE(w->Add(MakePractice("F84002")).ok());
    ASSERT_TRUE(w->Add(MakePatient("p-3", 3, "F84002")).ok());
    ASSERT_TRUE(w->Add(MakeActivity("a-3", "p-3")).ok());
    for (int i = 0; i < 50; ++i)
      ASSERT_TRUE(w->Add(MakeCondition("e-new-" + std::to_string(i), "p-3", "C" + std::to_string(i))).ok());
    ASSERT_TRUE(w->SetActivityCost("a-1", 77).ok());
    Patient updated = MakeBarePatient("p-2");
    updated.family_name = "Overwritten";
    ASSERT_TRUE(w->Add(updated).ok());
    Status dangling = w->Add(MakeCondition("e-bad", "p-404", "1"));
    ASSERT_FALSE(dangling.ok());
    EXPECT_EQ(dangling.error().code, ErrorCode::kNotFound);
    // The importer gives up here: the writer is destroyed without Commit.
  }
  EXPECT_EQ(Counts(), before);
  EXPECT_FALSE(store().FindPatient("p-3")->has_value());
  EXPECT_EQ(store().FindPatient("p-2").value()->family_name, "");
  EXPECT_EQ(store().FindActivity("a-1").value()->cost_pence, MakeActivity("a-1", "p-1").cost_pence);
  auto practices = store().Practices();
  ASSERT_EQ(practices->size(), 1u);
  // A new writer works normally after the rollback.
  auto w = BeginWrite();
  ASSERT_NE(w, nullptr);
  ASSERT_TRUE(w->Add(MakePractice("F84002")).ok());
  ASSERT_TRUE(w->Commit().ok());
  EXPECT_EQ(Counts().practices, 2);
}

TEST_P(StoreTest, DestroyingAnUncommittedWriterRollsBack) {
  WriteSmallPopulation();
  const TableCounts before = Counts();
  {
    auto w = BeginWrite();
    ASSERT_TRUE(w->Add(MakeBarePatient("p-3")).ok());
    ASSERT_TRUE(w->Add(MakeCondition("e-3", "p-3", "1")).ok());
    ASSERT_TRUE(w->Add(MakeMedication("m-3", "p-3")).ok());
  }
  EXPECT_EQ(Counts(), before);
  EXPECT_FALSE(store().FindPatient("p-3")->has_value());
}

TEST_P(StoreTest, CommitMakesDataVisibleToOtherConnections) {
  auto other = OpenStore(db_->url());
  ASSERT_TRUE(other.ok()) << other.error().ToString();
  auto w = BeginWrite();
  ASSERT_TRUE(w->Add(MakePractice("F84001")).ok());
  ASSERT_TRUE(w->Add(MakePatient("p-1", 1, "F84001")).ok());
  ASSERT_TRUE(w->Add(MakeCondition("e-1", "p-1", "1")).ok());
  EXPECT_EQ((*other)->Counts().value(), TableCounts{});
  EXPECT_FALSE((*other)->FindPatient("p-1")->has_value());
  ASSERT_TRUE(w->Commit().ok());
  EXPECT_EQ((*other)->Counts().value(), (TableCounts{1, 1, 1, 0, 0}));
  EXPECT_TRUE((*other)->FindPatient("p-1")->has_value());
}

TEST_P(StoreTest, OnlyOneWriterAtATime) {
  auto first = BeginWrite();
  auto second = store().BeginWrite();
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::kConflict);
  first.reset();
  auto third = store().BeginWrite();
  EXPECT_TRUE(third.ok());
}

TEST_P(StoreTest, AWriterRefusesWorkAfterCommit) {
  auto w = BeginWrite();
  ASSERT_TRUE(w->Commit().ok());
  EXPECT_FALSE(w->Add(MakeBarePatient("p-1")).ok());
  EXPECT_FALSE(w->Commit().ok());
}

TEST_P(StoreTest, ReopeningKeepsDataAndAppliesNoMigrationTwice) {
  WriteSmallPopulation();
  const TableCounts before = Counts();
  store_.reset();
  for (int i = 0; i < 2; ++i) {
    auto reopened = OpenStore(db_->url());
    ASSERT_TRUE(reopened.ok()) << reopened.error().ToString();
    EXPECT_EQ((*reopened)->schema_version(), kLatestSchemaVersion);
    EXPECT_EQ((*reopened)->Counts().value(), before);
  }
  std::string rows, distinct, applied_at;
  EXPECT_EQ(db_->RawExec("SELECT COUNT(*) FROM schema_migrations", &rows), "");
  EXPECT_EQ(db_->RawExec("SELECT COUNT(DISTINCT version) FROM schema_migrations", &distinct), "");
  EXPECT_EQ(rows, std::to_string(Migrations().size()));
  EXPECT_EQ(distinct, rows);
  EXPECT_EQ(db_->RawExec("SELECT applied_at FROM schema_migrations WHERE version = 1", &applied_at),
            "");
  EXPECT_THAT(applied_at, ::testing::MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T.*Z"));
}

TEST_P(StoreTest, ADatabaseWithANewerSchemaIsAConflict) {
  WriteSmallPopulation();
  store_.reset();
  const int newer = kLatestSchemaVersion + 1;
  ASSERT_EQ(db_->RawExec("INSERT INTO schema_migrations (version, name) VALUES (" +
                         std::to_string(newer) + ", 'from the future')"),
            "");
  auto opened = OpenStore(db_->url());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::kConflict);
  EXPECT_THAT(opened.error().message, ::testing::HasSubstr("newer"));
  std::string patients;
  EXPECT_EQ(db_->RawExec("SELECT COUNT(*) FROM patients", &patients), "");
  EXPECT_EQ(patients, "2");
}

TEST_P(StoreTest, SetActivityCost) {
  WriteSmallPopulation();
  {
    auto w = BeginWrite();
    ASSERT_TRUE(w->SetActivityCost("a-1", 123'456'789'012).ok());  // stored earlier
    ASSERT_TRUE(w->Add(MakeActivity("a-2", "p-2")).ok());
    ASSERT_TRUE(w->SetActivityCost("a-2", 10).ok());  // added in this writer
    ASSERT_TRUE(w->SetActivityCost("a-2", 20).ok());  // the last cost wins
    ASSERT_TRUE(w->Add(MakeActivity("a-3", "p-2")).ok());
    ASSERT_TRUE(w->SetActivityCost("a-3", 30).ok());
    Activity readded = MakeActivity("a-3", "p-2");
    readded.cost_pence = 31;  // a later Add carries its own cost
    ASSERT_TRUE(w->Add(readded).ok());
    Status unknown = w->SetActivityCost("a-404", 1);
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
    EXPECT_THAT(unknown.error().message, StartsWith("Activity/a-404 is not known"));
    ASSERT_TRUE(w->Commit().ok());
  }
  EXPECT_EQ(store().FindActivity("a-1").value()->cost_pence, 123'456'789'012);
  EXPECT_EQ(store().FindActivity("a-2").value()->cost_pence, 20);
  EXPECT_EQ(store().FindActivity("a-3").value()->cost_pence, 31);
  EXPECT_EQ(Counts().activities, 3);
}

TEST_P(StoreTest, FindPatientByNhsNumber) {
  WriteSmallPopulation();
  auto found = store().FindPatientByNhsNumber(TestNhsNumber(1));
  ASSERT_TRUE(found.ok()) << found.error().ToString();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->id, "p-1");
  auto missing = store().FindPatientByNhsNumber(TestNhsNumber(2));
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST_P(StoreTest, AnNhsNumberHeldByAnotherPatientIsAConflictAndNothingIsWritten) {
  WriteSmallPopulation();
  const TableCounts before = Counts();
  {
    auto w = BeginWrite();
    ASSERT_TRUE(w->Add(MakeBarePatient("p-3")).ok());
    Status added = w->Add(MakePatient("p-4", 1, ""));  // p-1's NHS number
    // A batching backend may only find out at Commit; it must by then.
    Status committed = added.ok() ? w->Commit() : added;
    ASSERT_FALSE(committed.ok());
    EXPECT_EQ(committed.error().code, ErrorCode::kConflict) << committed.error().ToString();
    EXPECT_FALSE(w->Commit().ok());
  }
  EXPECT_EQ(Counts(), before);
  EXPECT_EQ(store().FindPatientByNhsNumber(TestNhsNumber(1)).value()->id, "p-1");
}

TEST_P(StoreTest, ScanPatientsVisitsEveryPatientInIdOrderAcrossPages) {
  std::vector<std::string> ids;
  for (int i = 0; i < 2345; ++i) ids.push_back("p-" + std::to_string(i));
  std::vector<std::string> shuffled = ids;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(42));
  {
    auto w = BeginWrite();
    for (const auto& id : shuffled) ASSERT_TRUE(w->Add(MakeBarePatient(id)).ok());
    ASSERT_TRUE(w->Commit().ok());
  }
  std::sort(ids.begin(), ids.end());  // bytewise, as the store orders them
  std::vector<std::string> seen;
  Status status = store().ScanPatients([&](const Patient& p) {
    seen.push_back(p.id);
    return Ok();
  });
  ASSERT_TRUE(status.ok()) << status.error().ToString();
  EXPECT_EQ(seen, ids);
}

TEST_P(StoreTest, ScanPatientsStopsAtTheFirstError) {
  WriteSmallPopulation();
  {
    auto w = BeginWrite();
    ASSERT_TRUE(w->Add(MakeBarePatient("p-0")).ok());
    ASSERT_TRUE(w->Commit().ok());
  }
  std::vector<std::string> seen;
  Status status = store().ScanPatients([&](const Patient& p) -> Status {
    seen.push_back(p.id);
    if (p.id == "p-1") return Error::Invalid("stop here");
    return Ok();
  });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(status.error().message, "stop here");
  EXPECT_THAT(seen, ElementsAre("p-0", "p-1"));
  // The scan may call back into the store.
  int found = 0;
  ASSERT_TRUE(store().ScanPatients([&](const Patient& p) -> Status {
    JU_ASSIGN_OR_RETURN(auto again, store().FindPatient(p.id));
    found += again.has_value();
    return Ok();
  }).ok());
  EXPECT_EQ(found, 3);
}

TEST_P(StoreTest, TopConditionCodesCountsDistinctLivingPeople) {
  auto w = BeginWrite();
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(w->Add(MakeBarePatient("p-" + std::to_string(i))).ok());
  Patient dead = MakeBarePatient("p-dead");
  dead.death_date = Date::FromYmd(2020, 1, 1);
  ASSERT_TRUE(w->Add(dead).ok());
  int n = 0;
  auto condition = [&](const std::string& patient, const std::string& code, CodeSystem system,
                       const std::string& term) {
    ClinicalEvent e = MakeCondition("e-" + std::to_string(n++), patient, code, system);
    e.term = term;
    return w->Add(e);
  };
  // A: 3 living people (p-0 twice, once with another term) and one dead person.
  ASSERT_TRUE(condition("p-0", "A", CodeSystem::kSnomedCt, "Alpha").ok());
  ASSERT_TRUE(condition("p-0", "A", CodeSystem::kSnomedCt, "").ok());
  ASSERT_TRUE(condition("p-1", "A", CodeSystem::kSnomedCt, "Alpha").ok());
  ASSERT_TRUE(condition("p-2", "A", CodeSystem::kSnomedCt, "Alpha").ok());
  ASSERT_TRUE(condition("p-dead", "A", CodeSystem::kSnomedCt, "Alpha").ok());
  // Ties at 2 people: ordered by system (SNOMED before ICD-10), then code.
  ASSERT_TRUE(condition("p-3", "Z", CodeSystem::kIcd10, "Zed").ok());
  ASSERT_TRUE(condition("p-4", "Z", CodeSystem::kIcd10, "Zed").ok());
  ASSERT_TRUE(condition("p-3", "C", CodeSystem::kSnomedCt, "Cee").ok());
  ASSERT_TRUE(condition("p-4", "C", CodeSystem::kSnomedCt, "Cee").ok());
  ASSERT_TRUE(condition("p-3", "B", CodeSystem::kSnomedCt, "Bee").ok());
  ASSERT_TRUE(condition("p-5", "B", CodeSystem::kSnomedCt, "Bee").ok());
  // D: only the dead person. O: an observation for everyone — neither counts.
  ASSERT_TRUE(condition("p-dead", "D", CodeSystem::kSnomedCt, "Dee").ok());
  for (int i = 0; i < 6; ++i) {
    ClinicalEvent obs = MakeCondition("o-" + std::to_string(i), "p-" + std::to_string(i), "O");
    obs.kind = EventKind::kObservation;
    ASSERT_TRUE(w->Add(obs).ok());
  }
  ASSERT_TRUE(w->Commit().ok());

  auto top = store().TopConditionCodes(10);
  ASSERT_TRUE(top.ok()) << top.error().ToString();
  std::vector<std::string> rows;
  for (const auto& f : *top)
    rows.push_back(std::string(CodeSystemTag(f.system)) + "|" + f.code + "|" + f.term + "|" +
                   std::to_string(f.patients));
  EXPECT_THAT(rows, ElementsAre("snomed|A|Alpha|3", "snomed|B|Bee|2", "snomed|C|Cee|2",
                                "icd10|Z|Zed|2"));
  auto top2 = store().TopConditionCodes(2);
  ASSERT_TRUE(top2.ok());
  ASSERT_EQ(top2->size(), 2u);
  EXPECT_EQ((*top2)[1].code, "B");
  EXPECT_TRUE(store().TopConditionCodes(0)->empty());
}

TEST_P(StoreTest, ManyRecordsInOneWriterAcrossBatches) {
  // Enough rows that a batching backend merges several times within the writer, with
  // re-added records and costs set in other batches than their activities.
  constexpr int kPatients = 300, kEventsPerPatient = 80;
  auto w = BeginWrite();
  ASSERT_TRUE(w->Add(MakePractice("F84001")).ok());
  for (int p = 0; p < kPatients; ++p) {
    const std::string pid = "p-" + std::to_string(p);
    ASSERT_TRUE(w->Add(MakePatient(pid, p + 1, "F84001")).ok());
    ASSERT_TRUE(w->Add(MakeActivity("a-" + std::to_string(p), pid)).ok());
    for (int e = 0; e < kEventsPerPatient; ++e) {
      ClinicalEvent event = MakeCondition(pid + "-e-" + std::to_string(e), pid,
                                          "C" + std::to_string(e % 37));
      if (e % 5 == 0) event.activity_id = "a-" + std::to_string(p);
      ASSERT_TRUE(w->Add(event).ok());
    }
  }
  for (int p = 0; p < kPatients; ++p)
    ASSERT_TRUE(w->SetActivityCost("a-" + std::to_string(p), p).ok());
  ClinicalEvent again = MakeCondition("p-0-e-0", "p-0", "REPLACED");
  ASSERT_TRUE(w->Add(again).ok());
  ASSERT_TRUE(w->Commit().ok());
  EXPECT_EQ(Counts(), (TableCounts{1, kPatients, kPatients * kEventsPerPatient, kPatients, 0}));
  EXPECT_EQ(store().FindActivity("a-299").value()->cost_pence, 299);
  auto events = store().EventsForPatient("p-0");
  ASSERT_EQ(events->size(), static_cast<size_t>(kEventsPerPatient));
  EXPECT_EQ(std::count_if(events->begin(), events->end(),
                          [](const ClinicalEvent& e) { return e.code == "REPLACED"; }),
            1);
  EXPECT_EQ(std::count_if(events->begin(), events->end(),
                          [](const ClinicalEvent& e) { return e.activity_id == "a-0"; }),
            kEventsPerPatient / 5 - 1);
}

TEST_P(StoreTest, ReferencesToManyStoredRecordsResolveInALaterWriter) {
  // A later import referring to hundreds of stored patients and activities (enough that a
  // backend may switch from single lookups to loading the ids), then to unknown ones.
  constexpr int kPatients = 400;
  {
    auto w = BeginWrite();
    for (int p = 0; p < kPatients; ++p) {
      ASSERT_TRUE(w->Add(MakeBarePatient("p-" + std::to_string(p))).ok());
      ASSERT_TRUE(w->Add(MakeActivity("a-" + std::to_string(p), "p-" + std::to_string(p))).ok());
    }
    ASSERT_TRUE(w->Commit().ok());
  }
  auto w = BeginWrite();
  for (int p = 0; p < kPatients; ++p) {
    ClinicalEvent e = MakeCondition("e-" + std::to_string(p), "p-" + std::to_string(p), "1");
    e.activity_id = "a-" + std::to_string(p);
    ASSERT_TRUE(w->Add(e).ok()) << p;
    ASSERT_TRUE(w->SetActivityCost(e.activity_id, p).ok()) << p;
  }
  Status unknown_patient = w->Add(MakeCondition("e-x", "p-" + std::to_string(kPatients), "1"));
  ASSERT_FALSE(unknown_patient.ok());
  EXPECT_EQ(unknown_patient.error().code, ErrorCode::kNotFound);
  Status unknown_activity = w->SetActivityCost("a-" + std::to_string(kPatients), 1);
  ASSERT_FALSE(unknown_activity.ok());
  EXPECT_EQ(unknown_activity.error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(w->Commit().ok());
  EXPECT_EQ(Counts(), (TableCounts{0, kPatients, kPatients, kPatients, 0}));
  EXPECT_EQ(store().FindActivity("a-399").value()->cost_pence, 399);
  EXPECT_EQ(store().EventsForPatient("p-123").value().at(0).activity_id, "a-123");
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return BackendName(info.param);
                         });

}  // namespace
}  // namespace joinedup::store::testing
