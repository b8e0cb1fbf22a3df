// Store::LoadCohort conformance: every field of the Cohort, on SQLite and PostgreSQL.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "store/store.h"
#include "store_test_support.h"
#include "synth/generator.h"

namespace joinedup::store::testing {
namespace {

class CohortTest : public ::testing::TestWithParam<Backend> {
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

  Cohort Load(int threads) {
    CohortLoadOptions options;
    options.threads = threads;
    auto cohort = store_->LoadCohort(options);
    EXPECT_TRUE(cohort.ok()) << cohort.error().ToString();
    return cohort.ok() ? std::move(cohort).value() : Cohort{};
  }

  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<Store> store_;
};

ClinicalEvent Event(const std::string& id, const std::string& patient, CodeSystem system,
                    const std::string& code, const std::string& term, Date date) {
  ClinicalEvent e;
  e.id = id;
  e.patient_id = patient;
  e.system = system;
  e.code = code;
  e.term = term;
  e.date = date;
  return e;
}

Activity MakeActivity(const std::string& id, const std::string& patient, ActivityType type,
                      Date start) {
  Activity a;
  a.id = id;
  a.patient_id = patient;
  a.type = type;
  a.start = start;
  return a;
}

Medication MakeMedication(const std::string& id, const std::string& patient,
                          const std::string& code, Date start) {
  Medication m;
  m.id = id;
  m.patient_id = patient;
  m.system = CodeSystem::kDmd;
  m.code = code;
  m.term = "term of " + code;
  m.start = start;
  return m;
}

// Every field of a cohort, one record per line, concepts spelled out and store keys left out
// (they differ between backends and runs) — so two cohorts compare as text.
std::string Dump(const Cohort& c) {
  std::ostringstream out;
  out.precision(17);
  auto date = [](std::optional<Date> d) { return d ? d->ToString() : std::string("-"); };
  auto concept_text = [&](uint32_t id) {
    if (id >= c.concepts.size()) return std::string("BAD CONCEPT ") + std::to_string(id);
    return std::string(CodeSystemTag(c.concepts[id].system)) + "|" + c.concepts[id].code;
  };
  for (const Practice& p : c.practices)
    out << "practice " << p.id << "|" << p.name << "|" << p.pch << "|" << p.postcode_district
        << "\n";
  out << "offsets " << c.event_begin.size() << " " << c.activity_begin.size() << " "
      << c.medication_begin.size() << " / " << c.people.size() + 1 << "\n";
  for (size_t i = 0; i < c.people.size(); ++i) {
    const Cohort::Person& p = c.people[i];
    out << "person " << p.id << " nhs=" << (p.nhs_number ? p.nhs_number->digits() : "-")
        << " practice=" << (p.practice >= 0 ? c.practices[static_cast<size_t>(p.practice)].id : "-")
        << " born=" << p.birth_date.ToString() << " sex=" << SexCode(p.sex)
        << " imd=" << int{p.deprivation_decile} << " died=" << date(p.death_date) << "\n";
    for (const Cohort::Event& e : c.EventsOf(i)) {
      out << "  event " << concept_text(e.concept_id) << " " << e.date.ToString()
          << " kind=" << static_cast<int>(e.kind) << " source=" << static_cast<int>(e.source)
          << " adm=" << AdmissionMethodTag(e.admission_method) << " value=";
      if (e.value) {
        out << *e.value;
      } else {
        out << "-";
      }
      out << "\n";
    }
    for (const Cohort::Activity& a : c.ActivitiesOf(i))
      out << "  activity " << ActivityTypeTag(a.type) << " " << a.start.ToString() << ".."
          << date(a.end) << " stay=" << a.length_of_stay_days << " cost=" << a.cost_pence << "\n";
    for (const Cohort::Medication& m : c.MedicationsOf(i))
      out << "  medication " << concept_text(m.concept_id) << " " << m.start.ToString() << ".."
          << date(m.end) << "\n";
  }
  return out.str();
}

TEST_P(CohortTest, AnEmptyStoreGivesAnEmptyCohort) {
  for (int threads : {1, 4}) {
    Cohort c = Load(threads);
    EXPECT_TRUE(c.people.empty());
    EXPECT_TRUE(c.practices.empty());
    EXPECT_TRUE(c.concepts.empty());
    EXPECT_TRUE(c.events.empty() && c.activities.empty() && c.medications.empty());
    EXPECT_EQ(c.event_begin, std::vector<uint64_t>{0});
    EXPECT_EQ(c.activity_begin, std::vector<uint64_t>{0});
    EXPECT_EQ(c.medication_begin, std::vector<uint64_t>{0});
  }
}

// A hand-made population, written in two transactions so that the second adds records for
// a person after other people's records (rows no longer grouped by person in key order), and
// replaces one record.
void WriteHandMadePopulation(Store& store) {
  const Date d2019 = Date::FromYmd(2019, 6, 1);
  {
    auto w = store.BeginWrite();
    ASSERT_TRUE(w.ok());
    Writer& writer = **w;
    ASSERT_TRUE(writer.Add(Practice{"B2", "Bee Surgery", "PCH 2", "E2"}).ok());
    ASSERT_TRUE(writer.Add(Practice{"A1", "Ay Surgery", "PCH 1", "E1"}).ok());
    Patient p1;
    p1.id = "p-1";
    p1.nhs_number = TestNhsNumber(1);
    p1.source_identifier = "urn:x|1";
    p1.birth_date = Date::FromYmd(1930, 2, 28);
    p1.sex = Sex::kFemale;
    p1.deprivation_decile = 10;
    p1.practice_id = "B2";
    p1.death_date = Date::FromYmd(2023, 1, 2);
    Patient p2;  // no NHS number, no practice, no records
    p2.id = "p-2";
    p2.source_identifier = "urn:x|2";
    p2.birth_date = Date::FromYmd(1969, 12, 31);
    p2.sex = Sex::kUnknown;
    Patient p3;
    p3.id = "p-3";
    p3.nhs_number = TestNhsNumber(3);
    p3.source_identifier = "urn:x|3";
    p3.birth_date = Date::FromYmd(2001, 7, 4);
    p3.sex = Sex::kMale;
    p3.deprivation_decile = 1;
    p3.practice_id = "A1";
    for (const Patient* p : {&p1, &p2, &p3}) ASSERT_TRUE(writer.Add(*p).ok());

    Activity admission =
        MakeActivity("a-1", "p-1", ActivityType::kEmergencyAdmission, Date::FromYmd(2021, 1, 1));
    admission.end = Date::FromYmd(2021, 1, 5);
    admission.length_of_stay_days = 4;
    admission.cost_pence = 412'345;
    admission.specialty = "300";
    ASSERT_TRUE(writer.Add(admission).ok());
    Activity gp =
        MakeActivity("a-2", "p-1", ActivityType::kGpAppointment, Date::FromYmd(2018, 3, 3));
    gp.cost_pence = 3'900;
    gp.practice_id = "B2";
    ASSERT_TRUE(writer.Add(gp).ok());

    ClinicalEvent hf = Event("e-3", "p-1", CodeSystem::kIcd10, "I50.0", "Heart failure",
                             Date::FromYmd(2021, 1, 1));
    hf.source = EventSource::kHospital;
    hf.admission_method = AdmissionMethod::kEmergency;
    hf.activity_id = "a-1";
    ASSERT_TRUE(writer.Add(hf).ok());
    // Two events on one day: key order decides (e-1 before e-2 in both backends).
    ASSERT_TRUE(
        writer.Add(Event("e-1", "p-1", CodeSystem::kSnomedCt, "38341003", "Hypertension", d2019))
            .ok());
    ASSERT_TRUE(
        writer.Add(Event("e-2", "p-1", CodeSystem::kSnomedCt, "73211009", "Diabetes", d2019)).ok());
    ClinicalEvent barthel =
        Event("e-4", "p-1", CodeSystem::kLoinc, "96761-2", "", Date::FromYmd(1999, 1, 1));
    barthel.kind = EventKind::kObservation;
    barthel.value = 0.1 + 0.2;
    barthel.unit = "{score}";
    ASSERT_TRUE(writer.Add(barthel).ok());
    // The same code as e-1 under another term is the same concept; under another system not.
    ASSERT_TRUE(writer
                    .Add(Event("e-6", "p-3", CodeSystem::kSnomedCt, "38341003", "HTN",
                               Date::FromYmd(2015, 5, 5)))
                    .ok());
    ASSERT_TRUE(writer
                    .Add(Event("e-7", "p-3", CodeSystem::kReadV2, "38341003", "",
                               Date::FromYmd(2014, 4, 4)))
                    .ok());
    Medication m1 = MakeMedication("m-1", "p-1", "111", Date::FromYmd(2022, 1, 10));
    m1.end = Date::FromYmd(2022, 2, 10);
    ASSERT_TRUE(writer.Add(m1).ok());
    ASSERT_TRUE(writer.Add(MakeMedication("m-2", "p-3", "222", Date::FromYmd(2020, 8, 8))).ok());
    ASSERT_TRUE(writer.Commit().ok());
  }
  {
    auto w = store.BeginWrite();
    ASSERT_TRUE(w.ok());
    Writer& writer = **w;
    // p-1 again, after p-3's rows.
    ASSERT_TRUE(writer.Add(MakeMedication("m-3", "p-1", "222", Date::FromYmd(2010, 1, 1))).ok());
    ASSERT_TRUE(writer
                    .Add(Event("e-5", "p-1", CodeSystem::kSnomedCt, "38341003", "",
                               Date::FromYmd(2000, 1, 1)))
                    .ok());
    Activity ae =
        MakeActivity("a-3", "p-1", ActivityType::kAeAttendance, Date::FromYmd(2021, 1, 1));
    ae.cost_pence = 15'000;
    ASSERT_TRUE(writer.Add(ae).ok());
    // A replaced record moves to its new date.
    ASSERT_TRUE(writer
                    .Add(Event("e-7", "p-3", CodeSystem::kReadV2, "38341003", "",
                               Date::FromYmd(2016, 6, 6)))
                    .ok());
    ASSERT_TRUE(writer.SetActivityCost("a-2", 4'100).ok());
    ASSERT_TRUE(writer.Commit().ok());
  }
}

TEST_P(CohortTest, EveryFieldOfAHandMadePopulation) {
  WriteHandMadePopulation(*store_);
  Cohort c = Load(1);
  // Practices in id order; people in key order.
  ASSERT_EQ(c.practices.size(), 2u);
  EXPECT_EQ(c.practices[0].id, "A1");
  EXPECT_EQ(c.practices[1].name, "Bee Surgery");
  ASSERT_EQ(c.people.size(), 3u);
  for (size_t i = 1; i < c.people.size(); ++i) EXPECT_LT(c.people[i - 1].key, c.people[i].key);
  for (const Cohort::Person& p : c.people) {
    auto stored = store_->FindPatient(p.id);
    ASSERT_TRUE(stored.ok() && stored->has_value()) << p.id;
  }
  // Concepts: one per (system, code), whatever the terms.
  std::map<std::string, int> concept_count;
  for (const Cohort::Concept& k : c.concepts)
    ++concept_count[std::string(CodeSystemTag(k.system)) + "|" + k.code];
  EXPECT_EQ(concept_count, (std::map<std::string, int>{{"dmd|111", 1},
                                                       {"dmd|222", 1},
                                                       {"icd10|I50.0", 1},
                                                       {"loinc|96761-2", 1},
                                                       {"readv2|38341003", 1},
                                                       {"snomed|38341003", 1},
                                                       {"snomed|73211009", 1}}));
  // Everything else, person by person (people sorted by id here: keys are backend-specific).
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < c.people.size(); ++i) index[c.people[i].id] = i;
  auto person_text = [&](const std::string& id) {
    Cohort one;
    one.practices = c.practices;
    one.concepts = c.concepts;
    const size_t i = index.at(id);
    one.people = {c.people[i]};
    auto copy = [](auto span, auto& records, auto& begin) {
      records.assign(span.begin(), span.end());
      begin = {0, records.size()};
    };
    copy(c.EventsOf(i), one.events, one.event_begin);
    copy(c.ActivitiesOf(i), one.activities, one.activity_begin);
    copy(c.MedicationsOf(i), one.medications, one.medication_begin);
    std::string text = Dump(one);
    return text.substr(text.find("person "));  // without the practices and offsets lines
  };
  EXPECT_EQ(
      person_text("p-1"),
      "person p-1 nhs=" + TestNhsNumber(1).digits() +
          " practice=B2 born=1930-02-28 sex=female imd=10 died=2023-01-02\n"
          "  event loinc|96761-2 1999-01-01 kind=1 source=0 adm=none value=0.30000000000000004\n"
          "  event snomed|38341003 2000-01-01 kind=0 source=0 adm=none value=-\n"
          "  event snomed|38341003 2019-06-01 kind=0 source=0 adm=none value=-\n"
          "  event snomed|73211009 2019-06-01 kind=0 source=0 adm=none value=-\n"
          "  event icd10|I50.0 2021-01-01 kind=0 source=1 adm=emergency value=-\n"
          "  activity gp_appointment 2018-03-03..- stay=0 cost=4100\n"
          "  activity emergency_admission 2021-01-01..2021-01-05 stay=4 cost=412345\n"
          "  activity ae_attendance 2021-01-01..- stay=0 cost=15000\n"
          "  medication dmd|222 2010-01-01..-\n"
          "  medication dmd|111 2022-01-10..2022-02-10\n");
  EXPECT_EQ(person_text("p-2"),
            "person p-2 nhs=- practice=- born=1969-12-31 sex=unknown imd=0 died=-\n");
  EXPECT_EQ(person_text("p-3"),
            "person p-3 nhs=" + TestNhsNumber(3).digits() +
                " practice=A1 born=2001-07-04 sex=male imd=1 died=-\n"
                "  event snomed|38341003 2015-05-05 kind=0 source=0 adm=none value=-\n"
                "  event readv2|38341003 2016-06-06 kind=0 source=0 adm=none value=-\n"
                "  medication dmd|222 2020-08-08..-\n");
  // Offsets: people + 1 entries, from 0 to the array's size, never decreasing.
  for (const auto* begin : {&c.event_begin, &c.activity_begin, &c.medication_begin}) {
    ASSERT_EQ(begin->size(), c.people.size() + 1);
    EXPECT_EQ(begin->front(), 0u);
    for (size_t i = 1; i < begin->size(); ++i) EXPECT_LE((*begin)[i - 1], (*begin)[i]);
  }
  EXPECT_EQ(c.event_begin.back(), c.events.size());
  EXPECT_EQ(c.activity_begin.back(), c.activities.size());
  EXPECT_EQ(c.medication_begin.back(), c.medications.size());
  EXPECT_EQ(c.events.size(), 7u);
  EXPECT_EQ(c.activities.size(), 3u);
  EXPECT_EQ(c.medications.size(), 3u);
  // Any thread count gives the same cohort, keys included.
  for (int threads : {2, 4, 7}) {
    Cohort again = Load(threads);
    EXPECT_EQ(Dump(again), Dump(c)) << threads << " threads";
    ASSERT_EQ(again.people.size(), c.people.size());
    for (size_t i = 0; i < c.people.size(); ++i) EXPECT_EQ(again.people[i].key, c.people[i].key);
  }
}

TEST_P(CohortTest, ASyntheticPopulationLoadsTheSameOnOneOrFourThreads) {
  synth::GenerateOptions options;
  options.seed = 11;
  options.practices = 3;
  options.patients = 400;
  options.threads = 1;
  synth::GenerateStats stats;
  {
    auto w = store_->BeginWrite();
    ASSERT_TRUE(w.ok());
    auto generated = synth::Generate(options, **w);
    ASSERT_TRUE(generated.ok()) << generated.error().ToString();
    stats = generated.value();
    ASSERT_TRUE((*w)->Commit().ok());
  }
  Cohort one = Load(1);
  Cohort four = Load(4);
  EXPECT_EQ(one.people.size(), 400u);
  EXPECT_EQ(static_cast<int64_t>(one.events.size()), stats.clinical_events);
  EXPECT_EQ(static_cast<int64_t>(one.activities.size()), stats.activities);
  EXPECT_EQ(static_cast<int64_t>(one.medications.size()), stats.medications);
  EXPECT_EQ(Dump(four), Dump(one));
  // Spot-check against the per-person reads: the same events, in date order (EventsForPatient
  // breaks ties by id, the cohort by key, so compare as sorted lists).
  for (size_t i : {size_t{0}, size_t{199}, size_t{399}}) {
    auto events = store_->EventsForPatient(one.people[i].id);
    ASSERT_TRUE(events.ok());
    std::vector<std::string> want, got;
    for (const ClinicalEvent& e : *events)
      want.push_back(e.date.ToString() + " " + std::string(CodeSystemTag(e.system)) + "|" + e.code);
    for (const Cohort::Event& e : one.EventsOf(i)) {
      const Cohort::Concept& concept_of = one.concepts[e.concept_id];
      got.push_back(e.date.ToString() + " " + std::string(CodeSystemTag(concept_of.system)) + "|" +
                    concept_of.code);
    }
    EXPECT_TRUE(std::is_sorted(got.begin(), got.end(), [](const auto& a, const auto& b) {
      return a.substr(0, 10) < b.substr(0, 10);
    }));
    std::sort(want.begin(), want.end());
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, want) << one.people[i].id;
  }
}

TEST_P(CohortTest, ProgressEndsAtTheTotal) {
  WriteHandMadePopulation(*store_);
  std::vector<std::pair<int64_t, int64_t>> calls;
  CohortLoadOptions options;
  options.threads = 2;
  options.progress = [&](int64_t done, int64_t total) { calls.emplace_back(done, total); };
  auto cohort = store_->LoadCohort(options);
  ASSERT_TRUE(cohort.ok()) << cohort.error().ToString();
  ASSERT_FALSE(calls.empty());
  // 3 people + 7 events + 3 activities + 3 medications.
  EXPECT_EQ(calls.back(), std::make_pair(int64_t{16}, int64_t{16}));
  for (size_t i = 1; i < calls.size(); ++i) EXPECT_LE(calls[i - 1].first, calls[i].first);
}

TEST_P(CohortTest, OnlyCommittedDataAndNotWhileAWriterIsOpen) {
  WriteHandMadePopulation(*store_);
  auto w = store_->BeginWrite();
  ASSERT_TRUE(w.ok());
  auto refused = store_->LoadCohort({});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  w->reset();
  // Another store (connection) writing does not disturb a load.
  auto other = OpenStore(db_->url());
  ASSERT_TRUE(other.ok());
  auto other_writer = (*other)->BeginWrite();
  ASSERT_TRUE(other_writer.ok());
  Patient p;
  p.id = "p-uncommitted";
  p.source_identifier = "urn:x|u";
  ASSERT_TRUE((*other_writer)->Add(p).ok());
  Cohort c = Load(4);
  EXPECT_EQ(c.people.size(), 3u);
  ASSERT_TRUE((*other_writer)->Commit().ok());
  EXPECT_EQ(Load(4).people.size(), 4u);
}

TEST_P(CohortTest, ActivitiesFromLeavesOutOnlyWhatEndedBeforeIt) {
  auto writer = store_->BeginWrite();
  ASSERT_TRUE(writer.ok());
  Practice practice{"P1", "Practice", "PCH1", "E1"};
  ASSERT_TRUE((*writer)->Add(practice).ok());
  Patient p;
  p.id = "p1";
  p.source_identifier = "urn:test|p1";
  p.birth_date = Date::FromYmd(1940, 1, 1);
  p.practice_id = "P1";
  ASSERT_TRUE((*writer)->Add(p).ok());
  const Date from = Date::FromYmd(2025, 4, 1);
  auto add = [&](const std::string& id, ActivityType type, Date start, std::optional<Date> end) {
    Activity a = MakeActivity(id, "p1", type, start);
    a.end = end;
    ASSERT_TRUE((*writer)->Add(a).ok()) << id;
  };
  add("old-gp", ActivityType::kGpAppointment, from.AddDays(-1), std::nullopt);  // out
  add("new-gp", ActivityType::kGpAppointment, from, std::nullopt);              // in
  add("old-admission", ActivityType::kEmergencyAdmission, Date::FromYmd(2024, 1, 1),
      Date::FromYmd(2024, 1, 9));                                                        // out
  add("spanning-admission", ActivityType::kEmergencyAdmission, from.AddDays(-3), from);  // in
  add("open-package", ActivityType::kSocialCarePackage, Date::FromYmd(2020, 1, 1),
      std::nullopt);  // in
  add("ended-package", ActivityType::kSocialCarePackage, Date::FromYmd(2020, 1, 1),
      from.AddDays(-1));  // out
  add("old-outpatient", ActivityType::kOutpatientFollowUp, Date::FromYmd(2023, 5, 1),
      std::nullopt);  // out
  ASSERT_TRUE((*writer)->Commit().ok());
  writer->reset();

  for (int threads : {1, 2}) {
    CohortLoadOptions options;
    options.threads = threads;
    options.activities_from = from;
    auto cohort = store_->LoadCohort(options);
    ASSERT_TRUE(cohort.ok()) << cohort.error().ToString();
    std::vector<std::string> kept;
    for (const Cohort::Activity& a : cohort->ActivitiesOf(0))
      kept.push_back(std::string(ActivityTypeTag(a.type)) + " " + a.start.ToString());
    EXPECT_EQ(kept, (std::vector<std::string>{"social_care_package 2020-01-01",
                                              "emergency_admission 2025-03-29",
                                              "gp_appointment 2025-04-01"}))
        << threads << " threads";
    EXPECT_EQ(cohort->activity_begin, (std::vector<uint64_t>{0, 3}));
    EXPECT_EQ(Load(threads).ActivitiesOf(0).size(), 7u);  // without the option, everything
  }
}

TEST_P(CohortTest, PeopleOnlyLoadsPeopleAndPracticesWithoutRecords) {
  WriteHandMadePopulation(*store_);
  const Cohort full = Load(2);
  CohortLoadOptions options;
  options.people_only = true;
  std::vector<std::pair<int64_t, int64_t>> calls;
  options.progress = [&](int64_t done, int64_t total) { calls.emplace_back(done, total); };
  auto people = store_->LoadCohort(options);
  ASSERT_TRUE(people.ok()) << people.error().ToString();
  ASSERT_EQ(people->people.size(), full.people.size());
  for (size_t i = 0; i < full.people.size(); ++i) {
    EXPECT_EQ(people->people[i].key, full.people[i].key);
    EXPECT_EQ(people->people[i].id, full.people[i].id);
    EXPECT_EQ(people->people[i].practice, full.people[i].practice);
    EXPECT_EQ(people->people[i].nhs_number.has_value(), full.people[i].nhs_number.has_value());
  }
  EXPECT_EQ(people->practices.size(), full.practices.size());
  const std::vector<uint64_t> empty(full.people.size() + 1, 0);
  EXPECT_EQ(people->event_begin, empty);
  EXPECT_EQ(people->activity_begin, empty);
  EXPECT_EQ(people->medication_begin, empty);
  EXPECT_TRUE(people->events.empty() && people->activities.empty() && people->medications.empty());
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.back(), std::make_pair(int64_t{3}, int64_t{3}));  // the 3 people
}

INSTANTIATE_TEST_SUITE_P(Backends, CohortTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return BackendName(info.param);
                         });

TEST(CohortInMemoryTest, AnInMemorySqliteStoreLoadsOnOneConnection) {
  auto store = OpenStore(":memory:");
  ASSERT_TRUE(store.ok());
  WriteHandMadePopulation(**store);
  CohortLoadOptions options;
  options.threads = 4;
  auto c = (*store)->LoadCohort(options);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->people.size(), 3u);
  EXPECT_EQ(c->events.size(), 7u);
}

}  // namespace
}  // namespace joinedup::store::testing
