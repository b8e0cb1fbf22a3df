// ResourceStore (migration 4) on SQLite and PostgreSQL: every type by id, versions and
// history, searches (every parameter, date prefixes against fhir::search::DateMatches, string
// modifiers, tokens), sort and keyset paging walked to the end, totals, includes, visibility
// (against security::Decide), PutResource's version check under concurrency, and hostile text
// stored and found inertly.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "core/text_fold.h"
#include "fhir/search/paging.h"
#include "fhir/search/search_params.h"
#include "security/policy.h"
#include "store/store.h"
#include "store_test_support.h"

namespace joinedup::store::testing {
namespace {

namespace search = fhir::search;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAreArray;

constexpr int64_t kDay = 86400;

// Text that would break a statement built by concatenation.
const std::vector<std::string> kHostile = {
    "x'); DROP TABLE patients;--", "a\"b", "%_\\", "' OR '1'='1", "Ünïcødé; SELECT 1", "$1?1"};

struct Population {
  std::vector<Practice> practices;
  std::vector<Patient> patients;
  std::vector<ClinicalEvent> events;
  std::vector<Activity> activities;
  std::vector<Medication> medications;
};

Population MakePopulation(int people) {
  Population pop;
  pop.practices = {{"A81001", "Alpha Surgery", "PCH1", "TS1"},
                   {"B82002", "Zoë's Medical Centre", "PCH1", "TS2"},
                   {"C83003", kHostile[0], "PCH2", "TS3"}};
  std::mt19937 random(42);
  const std::vector<std::string> families = {"Smith",    "Smyth", "O'Brien",   "Łukasz",   "Zoë",
                                             "smithson", "Jones", kHostile[0], kHostile[2]};
  const std::vector<std::string> givens = {"Ann", "Anna", "Bob", "Zoë", "Straße", kHostile[3]};
  for (int i = 0; i < people; ++i) {
    Patient p;
    p.id = "p" + std::to_string(1000 + i);
    if (i % 5 != 4) {
      p.nhs_number = TestNhsNumber(i + 1);
    } else {
      p.source_identifier =
          i % 10 == 4 ? "urn:mrn|" + std::to_string(i) : "bare-" + std::to_string(i);
    }
    if (i == 9) p.source_identifier = kHostile[1] + "|" + kHostile[0];
    p.family_name = families[static_cast<size_t>(i) % families.size()];
    p.given_name = givens[static_cast<size_t>(i * 7) % givens.size()];
    p.birth_date =
        Date::FromYmd(1930 + static_cast<int>(random() % 70), 1 + static_cast<int>(random() % 12),
                      1 + static_cast<int>(random() % 28));
    if (i == 3) p.birth_date = Date::FromYmd(1950, 1, 1);
    if (i == 4) p.birth_date = Date::FromYmd(1949, 12, 31);
    p.sex = static_cast<Sex>(i % 4);
    p.practice_id = i % 7 == 6 ? "" : pop.practices[static_cast<size_t>(i) % 3].id;
    pop.patients.push_back(p);
    for (int k = 0; k < 3; ++k) {
      ClinicalEvent e;
      e.id = "e" + std::to_string(i) + "-" + std::to_string(k);
      e.patient_id = p.id;
      e.kind = k == 2 ? EventKind::kObservation : EventKind::kCondition;
      e.system = k == 1 ? CodeSystem::kIcd10 : CodeSystem::kSnomedCt;
      e.code = k == 2 ? "60621009" : (i % 3 == 0 ? "44054006" : "38341003");
      if (k == 1) e.code = "I10";
      e.term = "term";
      e.date =
          Date::FromYmd(2015 + static_cast<int>(random() % 9), 1 + static_cast<int>(random() % 12),
                        1 + static_cast<int>(random() % 28));
      pop.events.push_back(e);
    }
    Activity a;
    a.id = "a" + std::to_string(i);
    a.patient_id = p.id;
    a.type = static_cast<ActivityType>(i % kActivityTypeCount);
    a.start = Date::FromYmd(2022, 1 + i % 12, 1 + i % 28);
    if (i % 3 != 0) a.end = Date::FromDays(a.start.days_since_epoch() + i % 9);
    if (a.type == ActivityType::kEmergencyAdmission || a.type == ActivityType::kElectiveAdmission)
      a.specialty = "300";
    if (a.type == ActivityType::kGpAppointment) a.practice_id = "A81001";
    if (a.end &&
        (a.type == ActivityType::kEmergencyAdmission || a.type == ActivityType::kElectiveAdmission))
      a.length_of_stay_days = a.end->days_since_epoch() - a.start.days_since_epoch();
    pop.activities.push_back(a);
    Medication m;
    m.id = "m" + std::to_string(i);
    m.patient_id = p.id;
    m.system = CodeSystem::kDmd;
    m.code = "3190011000001106";
    m.term = "drug";
    m.start = Date::FromYmd(2021, 1, 1);
    pop.medications.push_back(m);
  }
  return pop;
}

// A search value as a client writes it: FHIR escapes (\, \| \$ \\), then percent-encoding.
std::string Encode(std::string_view value) {
  std::string escaped;
  for (char c : value) {
    if (c == '\\' || c == ',' || c == '|' || c == '$') escaped += '\\';
    escaped += c;
  }
  return search::PercentEncode(escaped);
}

class ResourceStoreTest : public ::testing::TestWithParam<Backend> {
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

  void Write(const Population& pop) {
    pop_ = pop;
    auto w = store_->BeginWrite();
    ASSERT_TRUE(w.ok()) << w.error().ToString();
    for (const auto& r : pop.practices) ASSERT_TRUE((*w)->Add(r).ok());
    for (const auto& r : pop.patients) ASSERT_TRUE((*w)->Add(r).ok()) << r.id;
    for (const auto& r : pop.activities) ASSERT_TRUE((*w)->Add(r).ok()) << r.id;
    for (const auto& r : pop.events) ASSERT_TRUE((*w)->Add(r).ok()) << r.id;
    for (const auto& r : pop.medications) ASSERT_TRUE((*w)->Add(r).ok()) << r.id;
    ASSERT_TRUE((*w)->Commit().ok());
    for (const Patient& p : pop.patients)
      keys_[p.id] = *store_->FindResource("Patient", p.id).value()->patient_key;
  }

  search::SearchRequest Parse(std::string_view type, std::string_view query) {
    auto parsed = search::ParseSearch(type, query);
    if (auto* e = std::get_if<search::SearchError>(&parsed)) {
      ADD_FAILURE() << e->message;
      return {};
    }
    return std::get<search::SearchRequest>(parsed);
  }

  struct Walk {
    std::vector<std::string> ids;  // every match, in page order
    std::vector<std::string> included;
    int64_t total = -1;
    int pages = 0;
  };

  // Practice A81001 and a GP user "gp" there; the user's id.
  Result<int64_t> AddPracticeGp() {
    JU_RETURN_IF_ERROR(store_->PutOrganisation({"A81001", "Alpha", OrganisationKind::kGpPractice}));
    User u;
    u.username = "gp";
    u.display_name = "GP";
    u.organisation_id = "A81001";
    u.password_hash = "x";
    return store_->AddUser(u);
  }

  // Every page of a search, following cursors from each page's last row.
  Walk WalkAll(std::string_view type, std::string_view query,
               const Visibility& visibility = Everyone()) {
    Walk walk;
    search::SearchRequest request = Parse(type, query);
    std::optional<search::PageCursor> cursor;
    for (int guard = 0; guard < 10000; ++guard) {
      auto page = store_->SearchResources(request, cursor ? &*cursor : nullptr, visibility,
                                          /*want_total=*/!cursor);
      if (!page.ok()) {
        ADD_FAILURE() << type << "?" << query << ": " << page.error().ToString();
        return walk;
      }
      ++walk.pages;
      if (!cursor) walk.total = page->total.value_or(-1);
      for (const FoundResource& m : page->matches) {
        EXPECT_EQ(m.resource_type, type);
        walk.ids.push_back(m.id);
      }
      for (const FoundResource& m : page->included)
        walk.included.push_back(m.resource_type + "/" + m.id);
      if (!page->has_next) break;
      // No empty page before the end.
      EXPECT_FALSE(page->matches.empty()) << type << "?" << query;
      if (page->matches.empty()) break;
      const FoundResource& last = page->matches.back();
      EXPECT_EQ(last.sort_values.size(), request.sort.size());
      cursor = search::PageCursor{last.sort_values, last.id};
    }
    std::set<std::string> distinct(walk.ids.begin(), walk.ids.end());
    EXPECT_EQ(distinct.size(), walk.ids.size()) << type << "?" << query << ": a row repeated";
    if (walk.total >= 0) {
      EXPECT_EQ(walk.total, static_cast<int64_t>(walk.ids.size())) << type << "?" << query;
    }
    return walk;
  }

  std::vector<std::string> Ids(std::string_view type, std::string_view query) {
    std::vector<std::string> ids = WalkAll(type, std::string(query) + "&_count=7").ids;
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  template <typename T, typename Pred>
  static std::vector<std::string> Expected(const std::vector<T>& rows, Pred pred) {
    std::vector<std::string> ids;
    for (const T& r : rows)
      if (pred(r)) ids.push_back(r.id);
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  static Visibility Everyone() { return Visibility{Visibility::Kind::kEveryone, 0, "", 0}; }

  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<Store> store_;
  Population pop_;
  std::map<std::string, int64_t> keys_;
};

// ---- Reads by id, writes and versions ----------------------------------------------------------

TEST_P(ResourceStoreTest, EveryTypeIsFoundById) {
  Write(MakePopulation(12));
  auto find = [&](std::string_view type, std::string_view id) {
    auto found = store_->FindResource(type, id);
    EXPECT_TRUE(found.ok()) << found.error().ToString();
    return found.ok() ? *found : std::nullopt;
  };
  auto org = find("Organization", "B82002");
  ASSERT_TRUE(org);
  EXPECT_EQ(std::get<Practice>(org->record).name, "Zoë's Medical Centre");
  EXPECT_EQ(org->meta.version_id, 1);
  EXPECT_FALSE(org->meta.last_updated_ms);
  EXPECT_FALSE(org->patient_key);

  auto patient = find("Patient", "p1003");
  ASSERT_TRUE(patient);
  EXPECT_EQ(std::get<Patient>(patient->record).birth_date, Date::FromYmd(1950, 1, 1));
  EXPECT_EQ(patient->patient_key, keys_["p1003"]);

  auto condition = find("Condition", "e3-0");
  ASSERT_TRUE(condition);
  EXPECT_EQ(std::get<ClinicalEvent>(condition->record).code, "44054006");
  EXPECT_EQ(condition->patient_key, keys_["p1003"]);
  EXPECT_FALSE(find("Observation", "e3-0"));  // a Condition is not an Observation
  EXPECT_TRUE(find("Observation", "e3-2"));

  EXPECT_TRUE(find("Encounter", "a2"));  // emergency admission
  EXPECT_FALSE(find("EpisodeOfCare", "a2"));
  EXPECT_TRUE(find("EpisodeOfCare", "a7"));  // social care package
  EXPECT_FALSE(find("Encounter", "a7"));
  auto med = find("MedicationRequest", "m5");
  ASSERT_TRUE(med);
  EXPECT_EQ(std::get<Medication>(med->record).patient_id, "p1005");

  // A run: RiskAssessment per person, Group per segment.
  StratificationRun run;
  run.index_date = Date::FromYmd(2024, 4, 1);
  run.models = {{"tiers", "1", {"low", "high"}}};
  run.people = 2;
  std::vector<PersonRunResult> results(2);
  results[0].patient_key = keys_["p1000"];
  results[0].segment = {1};
  results[0].rule = {0};
  results[1].patient_key = keys_["p1001"];
  results[1].segment = {kNoSegment};
  results[1].rule = {-1};
  auto run_id = store_->SaveRun(run, results);
  ASSERT_TRUE(run_id.ok()) << run_id.error().ToString();
  const std::string risk_id = std::to_string(*run_id) + "-" + std::to_string(keys_["p1001"]);
  auto risk = find("RiskAssessment", risk_id);
  ASSERT_TRUE(risk);
  EXPECT_EQ(std::get<RiskResult>(risk->record).patient_id, "p1001");
  EXPECT_EQ(std::get<RiskResult>(risk->record).result.segment, std::vector<int16_t>{kNoSegment});
  EXPECT_FALSE(find("RiskAssessment", std::to_string(*run_id) + "-999999"));
  auto group = find("Group", std::to_string(*run_id) + "-0-1");
  ASSERT_TRUE(group);
  EXPECT_EQ(std::get<Segment>(group->record).label, "high");
  EXPECT_EQ(std::get<Segment>(group->record).members, 1);
  auto none = find("Group", std::to_string(*run_id) + "-0--1");
  ASSERT_TRUE(none);
  EXPECT_EQ(std::get<Segment>(none->record).members, 1);
  EXPECT_FALSE(find("Group", std::to_string(*run_id) + "-0-2"));
  EXPECT_FALSE(find("Group", std::to_string(*run_id) + "-1-0"));

  // Consent and AuditEvent.
  auto user = AddPracticeGp();
  ASSERT_TRUE(user.ok());
  ASSERT_TRUE(
      store_->RecordConsent({keys_["p1002"], ConsentDecision::kDeclineBeyondOwnPractice, *user, 5})
          .ok());
  std::string consent_id;
  ASSERT_EQ(db_->RawExec("SELECT MAX(id) FROM consents", &consent_id), "");
  auto consent = find("Consent", consent_id);
  ASSERT_TRUE(consent);
  EXPECT_EQ(std::get<ConsentRecord>(consent->record).patient_id, "p1002");
  EXPECT_EQ(consent->patient_key, keys_["p1002"]);
  AuditEvent event;
  event.subtype = "read";
  auto appended = store_->AppendAuditEvent(event, [](const AuditEvent&) { return "h"; });
  ASSERT_TRUE(appended.ok());
  auto audit = find("AuditEvent", std::to_string(appended->sequence));
  ASSERT_TRUE(audit);
  EXPECT_EQ(std::get<AuditEvent>(audit->record).subtype, "read");

  for (const char* type : {"Patient", "Practitioner", "Nonsense", "RiskAssessment", "Group",
                           "Consent", "AuditEvent"}) {
    EXPECT_FALSE(find(type, "nope")) << type;
    EXPECT_FALSE(find(type, kHostile[0])) << type;
  }
}

TEST_P(ResourceStoreTest, VersionsAndHistory) {
  Write(MakePopulation(6));
  ResourceWrite w;
  w.resource_type = "Practitioner";
  w.id = "pr1";
  w.record = ResourceJson{"{}"};
  w.json = R"({"resourceType":"Practitioner","id":"pr1"})";
  w.create_only = true;
  w.now_ms = 1000;
  auto v1 = store_->PutResource(w);
  ASSERT_TRUE(v1.ok()) << v1.error().ToString();
  EXPECT_EQ(v1->version_id, 1);
  EXPECT_EQ(v1->last_updated_ms, 1000);
  EXPECT_EQ(store_->PutResource(w).error().code, ErrorCode::kConflict);
  w.create_only = false;
  w.if_match = 2;
  EXPECT_EQ(store_->PutResource(w).error().code, ErrorCode::kPreconditionFailed);
  w.if_match = 1;
  w.json = R"({"resourceType":"Practitioner","id":"pr1","active":true})";
  w.now_ms = 2000;
  auto v2 = store_->PutResource(w);
  ASSERT_TRUE(v2.ok()) << v2.error().ToString();
  EXPECT_EQ(v2->version_id, 2);
  auto history = store_->ResourceHistory("Practitioner", "pr1");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].version_id, 2);
  EXPECT_THAT((*history)[0].json, HasSubstr("active"));
  EXPECT_EQ((*history)[1].last_updated_ms, 1000);
  auto found = store_->FindResource("Practitioner", "pr1");
  ASSERT_TRUE(found.ok() && *found);
  EXPECT_EQ((*found)->meta.version_id, 2);
  EXPECT_EQ(std::get<ResourceJson>((*found)->record).json, w.json);

  // An imported Patient: version 1 with no text until its first API write stores the baseline.
  auto imported = store_->ResourceHistory("Patient", "p1001");
  ASSERT_TRUE(imported.ok());
  ASSERT_EQ(imported->size(), 1u);
  EXPECT_EQ((*imported)[0].version_id, 1);
  EXPECT_FALSE((*imported)[0].last_updated_ms);
  Patient p = pop_.patients[1];
  p.family_name = "Newname";
  ResourceWrite pw;
  pw.resource_type = "Patient";
  pw.id = p.id;
  pw.record = p;
  pw.json = R"({"resourceType":"Patient","name":"new"})";
  pw.if_match = 1;
  pw.now_ms = 5000;
  EXPECT_EQ(store_->PutResource(pw).error().code, ErrorCode::kInvalidInput);  // no baseline
  pw.baseline_json = R"({"resourceType":"Patient","name":"old"})";
  auto pv = store_->PutResource(pw);
  ASSERT_TRUE(pv.ok()) << pv.error().ToString();
  EXPECT_EQ(pv->version_id, 2);
  auto ph = store_->ResourceHistory("Patient", p.id);
  ASSERT_TRUE(ph.ok());
  ASSERT_EQ(ph->size(), 2u);
  EXPECT_EQ((*ph)[1].json, pw.baseline_json);
  EXPECT_FALSE((*ph)[1].last_updated_ms);
  auto pf = store_->FindResource("Patient", p.id);
  EXPECT_EQ(std::get<Patient>((*pf)->record).family_name, "Newname");
  EXPECT_EQ((*pf)->meta.version_id, 2);
  EXPECT_EQ((*pf)->meta.last_updated_ms, 5000);
  // The folded name follows the write.
  EXPECT_EQ(Ids("Patient", "family=newn"), std::vector<std::string>{p.id});

  // References are checked by the Writer's rules; nothing is written on failure.
  Patient orphan = MakePopulation(1).patients[0];
  orphan.id = "new1";
  orphan.nhs_number.reset();
  orphan.source_identifier = "urn:x|new1";
  orphan.practice_id = "ZZZ999";
  ResourceWrite ow{"Patient", "new1", orphan, "{}", "", std::nullopt, true, 1};
  auto refused = store_->PutResource(ow);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(refused.error().message, HasSubstr("Organization/ZZZ999 is not known"));
  EXPECT_FALSE(*store_->FindResource("Patient", "new1"));
  EXPECT_TRUE(store_->ResourceHistory("Patient", "new1")->empty());

  ClinicalEvent c = pop_.events[0];
  c.id = "c-new";
  c.patient_id = "nobody";
  ResourceWrite cw{"Condition", "c-new", c, "{}", "", std::nullopt, true, 1};
  auto no_patient = store_->PutResource(cw);
  ASSERT_FALSE(no_patient.ok());
  EXPECT_EQ(no_patient.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(no_patient.error().message, HasSubstr("Patient/nobody is not known"));
  c.patient_id = "p1002";
  cw.record = c;
  auto created = store_->PutResource(cw);
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  EXPECT_EQ(created->version_id, 1);
  EXPECT_EQ((*store_->FindResource("Condition", "c-new"))->meta.version_id, 1);

  // An id held by the sibling type sharing the table is a conflict, not an overwrite.
  ClinicalEvent o = pop_.events[0];  // e0-0 is a Condition
  o.kind = EventKind::kObservation;
  ResourceWrite owrite{"Observation", o.id, o, "{}", "{}", std::nullopt, false, 1};
  EXPECT_EQ(store_->PutResource(owrite).error().code, ErrorCode::kConflict);
  // Read-only types and mismatched records.
  ResourceWrite bad{"RiskAssessment", "1-1", ResourceJson{"{}"}, "{}", "", std::nullopt, false, 1};
  EXPECT_EQ(store_->PutResource(bad).error().code, ErrorCode::kInvalidInput);
  bad.resource_type = "Condition";
  EXPECT_EQ(store_->PutResource(bad).error().code, ErrorCode::kInvalidInput);
  bad.resource_type = "Consent";
  EXPECT_EQ(store_->PutResource(bad).error().code, ErrorCode::kInvalidInput);
  // A Writer open on the store: kConflict.
  auto writer = store_->BeginWrite();
  ASSERT_TRUE(writer.ok());
  w.if_match = 2;
  EXPECT_EQ(store_->PutResource(w).error().code, ErrorCode::kConflict);
}

// 8 connections × 50 rounds all updating one resource with the version they last read: each
// round exactly one wins per version, the versions are contiguous, and successes = versions - 1.
TEST_P(ResourceStoreTest, ConcurrentIfMatchWritesNeverLoseAnUpdate) {
  Write(MakePopulation(3));
  ResourceWrite first{"Practitioner", "shared", ResourceJson{"{}"}, "{\"v\":1}", "", std::nullopt,
                      true,           1};
  ASSERT_TRUE(store_->PutResource(first).ok());
  constexpr int kThreads = 8, kRounds = 50;
  std::atomic<int> successes{0};
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      auto store = OpenStore(db_->url());
      if (!store.ok()) {
        errors[t] = store.error().ToString();
        return;
      }
      for (int round = 0; round < kRounds; ++round) {
        auto current = (*store)->FindResource("Practitioner", "shared");
        if (!current.ok() || !*current) {
          errors[t] = "read failed";
          return;
        }
        ResourceWrite w{"Practitioner",
                        "shared",
                        ResourceJson{"{}"},
                        "{\"t\":" + std::to_string(t) + "}",
                        "",
                        (*current)->meta.version_id,
                        false,
                        round};
        auto put = (*store)->PutResource(w);
        if (put.ok()) {
          ++successes;
        } else if (put.error().code != ErrorCode::kPreconditionFailed) {
          errors[t] = put.error().ToString();
          return;
        }
      }
    });
  for (auto& thread : threads) thread.join();
  for (const std::string& e : errors) EXPECT_EQ(e, "");
  auto history = store_->ResourceHistory("Practitioner", "shared");
  ASSERT_TRUE(history.ok());
  const int64_t versions = static_cast<int64_t>(history->size());
  for (int64_t i = 0; i < versions; ++i)
    EXPECT_EQ((*history)[static_cast<size_t>(i)].version_id, versions - i);
  EXPECT_EQ(successes.load(), versions - 1);
  EXPECT_GE(successes.load(), kRounds);  // at least one winner per round

  // Typed resources take the same path through the Writer.
  Patient p = pop_.patients[0];
  std::atomic<int> typed_successes{0};
  threads.clear();
  ASSERT_TRUE(store_->PutResource({"Patient", p.id, p, "{}", "{\"base\":1}", 1, false, 1}).ok());
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      auto store = OpenStore(db_->url());
      if (!store.ok()) return;
      for (int round = 0; round < 10; ++round) {
        auto current = (*store)->FindResource("Patient", p.id);
        if (!current.ok() || !*current) return;
        Patient q = p;
        q.given_name = "T" + std::to_string(t);
        auto put = (*store)->PutResource(
            {"Patient", p.id, q, "{}", "", (*current)->meta.version_id, false, round});
        if (put.ok()) {
          ++typed_successes;
        } else {
          EXPECT_EQ(put.error().code, ErrorCode::kPreconditionFailed) << put.error().ToString();
        }
      }
    });
  for (auto& thread : threads) thread.join();
  auto typed_history = store_->ResourceHistory("Patient", p.id);
  ASSERT_TRUE(typed_history.ok());
  EXPECT_EQ(static_cast<int64_t>(typed_history->size()), typed_successes.load() + 2);
  for (size_t i = 0; i < typed_history->size(); ++i)
    EXPECT_EQ((*typed_history)[i].version_id, static_cast<int64_t>(typed_history->size() - i));
}

// ---- Searches
// ------------------------------------------------------------------------------------

TEST_P(ResourceStoreTest, DatePrefixesAgreeWithDateMatches) {
  Write(MakePopulation(60));
  const std::vector<std::string> values = {
      "1950",       "1950-01",           "1950-01-01",
      "1949-12-31", "1950-01-01T10:00Z", "1950-01-01T00:00:00Z",
      "1975-06",    "2022-03-03",        "2022-05",
      "2019"};
  for (std::string_view prefix : {"eq", "ne", "lt", "le", "gt", "ge", "sa", "eb"}) {
    for (const std::string& v : values) {
      const std::string value = std::string(prefix) + v;
      auto parsed = Parse("Patient", "birthdate=" + value);
      ASSERT_EQ(parsed.filters.size(), 1u);
      const auto date = std::get<search::DateValue>(parsed.filters[0].any_of[0]);
      auto day_matches = [&](Date d) {
        const int64_t s = int64_t{d.days_since_epoch()} * kDay;
        return search::DateMatches(date, s, s + kDay);
      };
      EXPECT_EQ(
          Ids("Patient", "birthdate=" + value),
          Expected(pop_.patients, [&](const Patient& p) { return day_matches(p.birth_date); }))
          << value;
      EXPECT_EQ(Ids("Condition", "onset-date=" + value),
                Expected(pop_.events,
                         [&](const ClinicalEvent& e) {
                           return e.kind == EventKind::kCondition && day_matches(e.date);
                         }))
          << value;
      EXPECT_EQ(Ids("Encounter", "date=" + value),
                Expected(pop_.activities,
                         [&](const Activity& a) {
                           if (IsEpisodeActivity(a.type)) return false;
                           const int64_t s = int64_t{a.start.days_since_epoch()} * kDay;
                           const bool contact = a.type == ActivityType::kGpAppointment ||
                                                a.type == ActivityType::kOutpatientFirst ||
                                                a.type == ActivityType::kOutpatientFollowUp ||
                                                a.type == ActivityType::kCommunityNursing;
                           const int64_t e = a.end ? (int64_t{a.end->days_since_epoch()} + 1) * kDay
                                             : contact ? s + kDay
                                                       : int64_t{1} << 50;
                           return search::DateMatches(date, s, e);
                         }))
          << value;
    }
  }
  // Several values are OR, repeats are AND.
  EXPECT_EQ(Ids("Patient", "birthdate=1950-01-01,1949-12-31"),
            (std::vector<std::string>{"p1003", "p1004"}));
  EXPECT_EQ(Ids("Patient", "birthdate=ge1949-12-31&birthdate=lt1950-01-01"),
            std::vector<std::string>{"p1004"});
}

TEST_P(ResourceStoreTest, StringsTokensAndReferences) {
  Write(MakePopulation(40));
  auto folded_starts = [](std::string_view text, std::string_view q) {
    return FoldForSearch(text).starts_with(FoldForSearch(q));
  };
  for (std::string q : {"smi", "SMITH", "zoe", "Zoë", "luk", "o'b", "strasse", "x')", "%", "a"}) {
    const std::string enc = Encode(q);
    EXPECT_EQ(
        Ids("Patient", "family=" + enc),
        Expected(pop_.patients, [&](const Patient& p) { return folded_starts(p.family_name, q); }))
        << q;
    EXPECT_EQ(
        Ids("Patient", "given=" + enc),
        Expected(pop_.patients, [&](const Patient& p) { return folded_starts(p.given_name, q); }))
        << q;
    EXPECT_EQ(Ids("Patient", "name=" + enc), Expected(pop_.patients,
                                                      [&](const Patient& p) {
                                                        return folded_starts(p.given_name, q) ||
                                                               folded_starts(p.family_name, q);
                                                      }))
        << q;
    EXPECT_EQ(Ids("Patient", "family:contains=" + enc),
              Expected(pop_.patients,
                       [&](const Patient& p) {
                         return FoldForSearch(p.family_name).find(FoldForSearch(q)) !=
                                std::string::npos;
                       }))
        << q;
    EXPECT_EQ(Ids("Organization", "name=" + enc),
              Expected(pop_.practices, [&](const Practice& o) { return folded_starts(o.name, q); }))
        << q;
  }
  for (const std::string& exact :
       {std::string("Smith"), std::string("smith"), std::string("Zoë"), kHostile[0], kHostile[2]}) {
    const std::string enc = Encode(exact);
    EXPECT_EQ(Ids("Patient", "family:exact=" + enc),
              Expected(pop_.patients, [&](const Patient& p) { return p.family_name == exact; }))
        << exact;
  }
  // Identifiers: the NHS number, the source identifier by system|value, |value and value.
  const Patient& nhs = pop_.patients[0];
  const std::string digits = nhs.nhs_number->digits();
  EXPECT_EQ(Ids("Patient", "identifier=https://fhir.nhs.uk/Id/nhs-number%7C" + digits),
            std::vector<std::string>{nhs.id});
  EXPECT_EQ(Ids("Patient", "identifier=" + digits), std::vector<std::string>{nhs.id});
  EXPECT_TRUE(Ids("Patient", "identifier=urn:other%7C" + digits).empty());
  EXPECT_EQ(Ids("Patient", "identifier=https://fhir.nhs.uk/Id/nhs-number%7C"),
            Expected(pop_.patients, [](const Patient& p) { return p.nhs_number.has_value(); }));
  EXPECT_EQ(Ids("Patient", "identifier=urn:mrn%7C14"), std::vector<std::string>{"p1014"});
  EXPECT_EQ(Ids("Patient", "identifier=14"), std::vector<std::string>{"p1014"});
  EXPECT_EQ(Ids("Patient", "identifier=urn:mrn%7C"), Expected(pop_.patients, [](const Patient& p) {
              return !p.nhs_number && p.source_identifier.starts_with("urn:mrn|");
            }));
  EXPECT_EQ(Ids("Patient", "identifier=%7Cbare-19"), std::vector<std::string>{"p1019"});
  EXPECT_EQ(Ids("Patient", "identifier=bare-19"), std::vector<std::string>{"p1019"});
  EXPECT_TRUE(Ids("Patient", "identifier=urn:mrn%7Cbare-19").empty());
  // Hostile text as a system and a value, stored and found as plain text.
  EXPECT_EQ(Ids("Patient", "identifier=" + search::PercentEncode(kHostile[1] + "|" + kHostile[0])),
            Expected(pop_.patients, [](const Patient& p) {
              return !p.nhs_number && p.source_identifier == kHostile[1] + "|" + kHostile[0];
            }));
  EXPECT_EQ(Ids("Patient", "gender=female"),
            Expected(pop_.patients, [](const Patient& p) { return p.sex == Sex::kFemale; }));
  EXPECT_EQ(Ids("Patient", "gender=http://hl7.org/fhir/administrative-gender%7Cmale,other"),
            Expected(pop_.patients,
                     [](const Patient& p) { return p.sex == Sex::kMale || p.sex == Sex::kOther; }));
  EXPECT_EQ(Ids("Patient", "general-practitioner=Organization/B82002"),
            Expected(pop_.patients, [](const Patient& p) { return p.practice_id == "B82002"; }));
  EXPECT_EQ(Ids("Patient", "organization=A81001"),
            Expected(pop_.patients, [](const Patient& p) { return p.practice_id == "A81001"; }));
  EXPECT_EQ(Ids("Patient", "_id=p1001,p1002,nope"), (std::vector<std::string>{"p1001", "p1002"}));
  // Conditions and Observations: subject, code.
  EXPECT_EQ(Ids("Condition", "subject=Patient/p1003"), (std::vector<std::string>{"e3-0", "e3-1"}));
  EXPECT_EQ(Ids("Observation", "patient=p1003"), std::vector<std::string>{"e3-2"});
  EXPECT_EQ(Ids("Condition", "code=http://snomed.info/sct%7C44054006"),
            Expected(pop_.events, [](const ClinicalEvent& e) {
              return e.kind == EventKind::kCondition && e.system == CodeSystem::kSnomedCt &&
                     e.code == "44054006";
            }));
  EXPECT_EQ(Ids("Condition", "code=I10"), Expected(pop_.events, [](const ClinicalEvent& e) {
              return e.kind == EventKind::kCondition && e.code == "I10";
            }));
  EXPECT_EQ(Ids("Condition", "code=http://hl7.org/fhir/sid/icd-10%7C"),
            Expected(pop_.events, [](const ClinicalEvent& e) {
              return e.kind == EventKind::kCondition && e.system == CodeSystem::kIcd10;
            }));
  EXPECT_TRUE(Ids("Condition", "code=http://loinc.org%7CI10").empty());
  EXPECT_TRUE(Ids("Condition", "code=urn:unknown%7CI10").empty());
  // Encounter class.
  EXPECT_EQ(Ids("Encounter", "class=IMP"), Expected(pop_.activities, [](const Activity& a) {
              return a.type == ActivityType::kEmergencyAdmission ||
                     a.type == ActivityType::kElectiveAdmission;
            }));
  EXPECT_EQ(Ids("Encounter",
                "class=http://terminology.hl7.org/CodeSystem/v3-ActCode%7CAMB&patient=p1000"),
            std::vector<std::string>{"a0"});
  EXPECT_EQ(Ids("Organization", "identifier=https://fhir.nhs.uk/Id/ods-organization-code%7CA81001"),
            std::vector<std::string>{"A81001"});
  // Hostile text as every kind of string and token value: refused by nothing, matching nothing
  // it should not, running as plain values.
  for (const std::string& h : kHostile) {
    const std::string v = Encode(h);
    for (const std::string& query : std::vector<std::string>{
             "identifier=" + v, "identifier=" + v + "%7C" + v, "identifier=%7C" + v,
             "name:contains=" + v, "given:exact=" + v, "family=" + v})
      WalkAll("Patient", query);
    EXPECT_TRUE(Ids("Condition", "code=" + v).empty()) << h;
    EXPECT_TRUE(Ids("Condition", "code=" + v + "%7C" + v).empty()) << h;
    EXPECT_TRUE(Ids("Encounter", "class=" + v).empty()) << h;
    EXPECT_TRUE(Ids("Organization", "identifier=" + v).empty()) << h;
    EXPECT_TRUE(Ids("Practitioner", "name=" + v).empty()) << h;
  }
  EXPECT_EQ(Ids("Patient", "given:exact=" + Encode(kHostile[3])),
            Expected(pop_.patients, [](const Patient& p) { return p.given_name == kHostile[3]; }));
  // The database is intact after all the hostile text.
  EXPECT_EQ(store_->Counts()->patients, static_cast<int64_t>(pop_.patients.size()));
}

TEST_P(ResourceStoreTest, SortedPagesWalkToTheEndInOrder) {
  Write(MakePopulation(45));
  // Some rows have a lastUpdated, the rest none (NULL: first ascending, last descending).
  for (int i = 0; i < 45; i += 4) {
    Patient p = pop_.patients[static_cast<size_t>(i)];
    ASSERT_TRUE(
        store_
            ->PutResource({"Patient", p.id, p, "{}", "{}", 1, false, int64_t{1000} + (i * 37) % 11})
            .ok());
  }
  auto family_then_id = [&](bool desc_birth) {
    std::vector<Patient> sorted = pop_.patients;
    std::sort(sorted.begin(), sorted.end(), [&](const Patient& a, const Patient& b) {
      if (desc_birth) {
        if (a.birth_date != b.birth_date) return b.birth_date < a.birth_date;
      } else {
        const std::string fa = FoldForSearch(a.family_name), fb = FoldForSearch(b.family_name);
        if (fa != fb) return fa < fb;
        const std::string ga = FoldForSearch(a.given_name), gb = FoldForSearch(b.given_name);
        if (ga != gb) return gb < ga;  // -given
      }
      return a.id < b.id;
    });
    std::vector<std::string> ids;
    for (const Patient& p : sorted) ids.push_back(p.id);
    return ids;
  };
  for (int count : {1, 7, 45, 50}) {
    const std::string c = "&_count=" + std::to_string(count);
    EXPECT_EQ(WalkAll("Patient", "_sort=family,-given" + c).ids, family_then_id(false)) << count;
    EXPECT_EQ(WalkAll("Patient", "_sort=-birthdate" + c).ids, family_then_id(true)) << count;
    std::vector<std::string> by_id;
    for (const Patient& p : pop_.patients) by_id.push_back(p.id);
    std::sort(by_id.begin(), by_id.end());
    Walk plain = WalkAll("Patient", "_count=" + std::to_string(count));
    EXPECT_EQ(plain.ids, by_id);
    EXPECT_EQ(plain.pages, (45 + count - 1) / count);  // an exactly full last page has no next
    // _lastUpdated: NULLs first ascending, last descending, each group by id.
    Walk up = WalkAll("Patient", "_sort=_lastUpdated" + c);
    Walk down = WalkAll("Patient", "_sort=-_lastUpdated" + c);
    ASSERT_EQ(up.ids.size(), 45u);
    ASSERT_EQ(down.ids.size(), 45u);
    std::vector<std::pair<std::optional<int64_t>, std::string>> rows;
    for (const Patient& p : pop_.patients)
      rows.emplace_back((*store_->FindResource("Patient", p.id))->meta.last_updated_ms, p.id);
    std::sort(rows.begin(), rows.end());  // nullopt first, then by value, then id
    std::vector<std::string> expect_up, expect_down;
    for (auto& [t, id] : rows) expect_up.push_back(id);
    std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
      if (a.first.has_value() != b.first.has_value()) return a.first.has_value();
      return a.first > b.first;
    });
    for (auto& [t, id] : rows) expect_down.push_back(id);
    EXPECT_EQ(up.ids, expect_up) << count;
    EXPECT_EQ(down.ids, expect_down) << count;
  }
  std::vector<std::string> onset;
  {
    std::vector<ClinicalEvent> conditions;
    for (const auto& e : pop_.events)
      if (e.kind == EventKind::kCondition) conditions.push_back(e);
    std::sort(conditions.begin(), conditions.end(), [](const auto& a, const auto& b) {
      return a.date != b.date ? a.date < b.date : a.id < b.id;
    });
    for (const auto& e : conditions) onset.push_back(e.id);
  }
  EXPECT_EQ(WalkAll("Condition", "_sort=onset-date&_count=9").ids, onset);
  EXPECT_EQ(WalkAll("Organization", "_sort=-name&_count=2").ids,
            (std::vector<std::string>{"B82002", "C83003", "A81001"}));  // zoe…, x')…, alpha…

  // Rows written between pages neither shift nor repeat the rows already there.
  search::SearchRequest request = Parse("Patient", "_sort=birthdate&_count=10");
  auto first = store_->SearchResources(request, nullptr, Everyone(), false);
  ASSERT_TRUE(first.ok());
  std::vector<std::string> seen;
  for (const auto& m : first->matches) seen.push_back(m.id);
  Patient early = pop_.patients[0];
  early.id = "zz-early";
  early.nhs_number.reset();
  early.source_identifier = "urn:x|early";
  early.birth_date = Date::FromYmd(1900, 1, 1);  // before the cursor: not seen
  Patient late = early;
  late.id = "zz-late";
  late.source_identifier = "urn:x|late";
  late.birth_date = Date::FromYmd(2099, 1, 1);  // after: seen on a later page
  ASSERT_TRUE(
      store_->PutResource({"Patient", early.id, early, "{}", "", std::nullopt, true, 1}).ok());
  ASSERT_TRUE(
      store_->PutResource({"Patient", late.id, late, "{}", "", std::nullopt, true, 1}).ok());
  search::PageCursor cursor{first->matches.back().sort_values, first->matches.back().id};
  for (;;) {
    auto page = store_->SearchResources(request, &cursor, Everyone(), false);
    ASSERT_TRUE(page.ok());
    for (const auto& m : page->matches) seen.push_back(m.id);
    if (!page->has_next) break;
    cursor = {page->matches.back().sort_values, page->matches.back().id};
  }
  EXPECT_EQ(seen.size(), 46u);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), "zz-early"), 0);
  EXPECT_EQ(seen.back(), "zz-late");
  std::set<std::string> distinct(seen.begin(), seen.end());
  EXPECT_EQ(distinct.size(), seen.size());

  // _summary=count and _count=0: a total, no rows.
  auto summary = store_->SearchResources(Parse("Patient", "_summary=count&gender=male"), nullptr,
                                         Everyone(), true);
  ASSERT_TRUE(summary.ok());
  EXPECT_TRUE(summary->matches.empty());
  EXPECT_FALSE(summary->has_next);
  EXPECT_EQ(summary->total, static_cast<int64_t>(Expected(pop_.patients, [](const Patient& p) {
                                                   return p.sex == Sex::kMale;
                                                 }).size()));
  // A cursor that does not fit the sort is refused.
  search::PageCursor wrong{{std::string("x")}, "p1"};
  EXPECT_EQ(store_->SearchResources(Parse("Patient", "_sort=birthdate"), &wrong, Everyone(), false)
                .error()
                .code,
            ErrorCode::kInvalidInput);
}

TEST_P(ResourceStoreTest, LastUpdatedFiltersOnlyRowsWrittenThroughTheApi) {
  Write(MakePopulation(8));
  for (int i = 0; i < 4; ++i) {
    Patient p = pop_.patients[static_cast<size_t>(i)];
    // 2024-01-01T00:00:00Z + i hours.
    const int64_t ms = (int64_t{19723} * kDay + i * 3600) * 1000;
    ASSERT_TRUE(store_->PutResource({"Patient", p.id, p, "{}", "{}", 1, false, ms}).ok());
  }
  EXPECT_EQ(Ids("Patient", "_lastUpdated=2024-01-01"),
            (std::vector<std::string>{"p1000", "p1001", "p1002", "p1003"}));
  EXPECT_EQ(Ids("Patient", "_lastUpdated=ge2024-01-01T02:00:00Z"),
            (std::vector<std::string>{"p1002", "p1003"}));
  EXPECT_EQ(Ids("Patient", "_lastUpdated=lt2024-01-01T01:00Z"), std::vector<std::string>{"p1000"});
  EXPECT_EQ(Ids("Patient", "_lastUpdated=ne2024-01-01T01:00Z"),
            (std::vector<std::string>{"p1000", "p1002", "p1003"}));  // never-written rows: no
  EXPECT_TRUE(Ids("Patient", "_lastUpdated=2023").empty());
}

TEST_P(ResourceStoreTest, IncludesAndRevincludes) {
  Write(MakePopulation(14));
  auto included = [&](std::string_view type, std::string_view query) {
    auto page = store_->SearchResources(Parse(type, query), nullptr, Everyone(), false);
    EXPECT_TRUE(page.ok()) << page.error().ToString();
    std::vector<std::string> out;
    for (const auto& r : page->included) out.push_back(r.resource_type + "/" + r.id);
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(included("Condition", "subject=p1003&_include=Condition:subject"),
            std::vector<std::string>{"Patient/p1003"});
  EXPECT_EQ(included("Patient", "_id=p1001,p1006&_include=Patient:general-practitioner"),
            std::vector<std::string>{"Organization/B82002"});  // p1006 has no practice
  EXPECT_EQ(
      included("Patient", "_id=p1003&_revinclude=Condition:subject&_revinclude=Encounter:patient"),
      (std::vector<std::string>{"Condition/e3-0", "Condition/e3-1", "Encounter/a3"}));
  auto registered = included("Organization", "_id=C83003&_revinclude=Patient:general-practitioner");
  EXPECT_EQ(registered.size(), Expected(pop_.patients, [](const Patient& p) {
                                 return p.practice_id == "C83003";
                               }).size());
  ASSERT_TRUE(
      store_
          ->PutResource(
              {"PractitionerRole", "r1", ResourceJson{},
               R"({"resourceType":"PractitionerRole","practitioner":{"reference":"Practitioner/pr9"},"organization":{"reference":"Organization/A81001"},"identifier":[{"value":"R1"}]})",
               "", std::nullopt, true, 1})
          .ok());
  ASSERT_TRUE(
      store_
          ->PutResource(
              {"Practitioner", "pr9", ResourceJson{},
               R"({"resourceType":"Practitioner","name":[{"family":"Jönes","given":["Al"]}],"identifier":[{"system":"https://fhir.nhs.uk/Id/sds-user-id","value":"G1"}]})",
               "", std::nullopt, true, 1})
          .ok());
  EXPECT_EQ(
      included("PractitionerRole",
               "_include=PractitionerRole:practitioner&_include=PractitionerRole:organization"),
      (std::vector<std::string>{"Organization/A81001", "Practitioner/pr9"}));
  EXPECT_EQ(included("Practitioner", "name=jon&_revinclude=PractitionerRole:practitioner"),
            std::vector<std::string>{"PractitionerRole/r1"});
  EXPECT_EQ(Ids("Practitioner", "identifier=G1"), std::vector<std::string>{"pr9"});
  EXPECT_EQ(Ids("Practitioner", "name=al"), std::vector<std::string>{"pr9"});
  EXPECT_TRUE(Ids("Practitioner", "name=xyz").empty());
  EXPECT_EQ(Ids("PractitionerRole", "identifier=%7CR1"), std::vector<std::string>{"r1"});
  EXPECT_EQ(Ids("PractitionerRole", "organization=A81001"), std::vector<std::string>{"r1"});
  EXPECT_TRUE(Ids("PractitionerRole", "practitioner=pr1").empty());

  // Visibility applies to includes: only p1003 visible (self), so its conditions' subject is
  // included but another patient's is not even matched.
  Visibility self{Visibility::Kind::kSelf, keys_["p1003"], "", 0};
  auto page = store_->SearchResources(Parse("Condition", "_include=Condition:subject"), nullptr,
                                      self, true);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 2);
  ASSERT_EQ(page->included.size(), 1u);
  EXPECT_EQ(page->included[0].id, "p1003");
  auto orgs = store_->SearchResources(
      Parse("Organization", "_revinclude=Patient:general-practitioner"), nullptr, self, true);
  ASSERT_TRUE(orgs.ok());
  EXPECT_EQ(orgs->total, 3);  // the directory is not person-bound
  ASSERT_EQ(orgs->included.size(), 1u);
  EXPECT_EQ(orgs->included[0].id, "p1003");
}

// Consent: searched by patient, date (the recorded instant, against DateMatches), _id,
// _lastUpdated, sorted and paged, with includes and visibility; updated through PutResource
// (the person's current Consent only, If-Match, the previous decision kept as version 1, the
// new one what LatestConsent reads).
TEST_P(ResourceStoreTest, ConsentSearchAndUpdate) {
  Write(MakePopulation(12));
  auto added = AddPracticeGp();
  ASSERT_TRUE(added.ok());
  const int64_t gp = *added;
  // Whole seconds from 2024-01-01T00:00:00Z: p1000..p1005 one consent each at hour i, and
  // p1001 a second one at hour 10 (superseding the first).
  const int64_t base = int64_t{19723} * kDay;
  struct Recorded {
    std::string id, patient;
    int64_t seconds;
  };
  std::vector<Recorded> recorded;
  auto record = [&](const std::string& pid, int64_t seconds, ConsentDecision decision) {
    auto id = store_->RecordConsent({keys_[pid], decision, gp, seconds * 1000});
    ASSERT_TRUE(id.ok()) << id.error().ToString();
    recorded.push_back({std::to_string(*id), pid, seconds});
  };
  for (int i = 0; i < 6; ++i)
    record("p" + std::to_string(1000 + i), base + i * 3600, ConsentDecision::kPermitSharing);
  record("p1001", base + 10 * 3600, ConsentDecision::kDeclineBeyondOwnPractice);
  auto ids_where = [&](auto pred) {
    std::vector<std::string> ids;
    for (const Recorded& r : recorded)
      if (pred(r)) ids.push_back(r.id);
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  EXPECT_EQ(Ids("Consent", ""), ids_where([](const Recorded&) { return true; }));
  EXPECT_EQ(Ids("Consent", "patient=p1001"),
            ids_where([](const Recorded& r) { return r.patient == "p1001"; }));
  EXPECT_EQ(Ids("Consent", "patient=Patient/p1003,p1004"), ids_where([](const Recorded& r) {
              return r.patient == "p1003" || r.patient == "p1004";
            }));
  EXPECT_EQ(Ids("Consent", "_id=" + recorded[2].id), std::vector<std::string>{recorded[2].id});
  for (const char* value :
       {"2024-01-01", "ge2024-01-01T02:00:00Z", "lt2024-01-01T01:00Z", "ne2024-01-01T03:00:00Z",
        "gt2024-01-01T04:00", "le2024-01-01T04:00:00Z", "sa2024-01-01T04:00Z",
        "eb2024-01-01T05:00Z", "2023", "eq2024-01-01T10:00:00Z"}) {
    SCOPED_TRACE(value);
    search::SearchRequest request = Parse("Consent", std::string("date=") + value);
    ASSERT_EQ(request.filters.size(), 1u);
    const auto& date = std::get<search::DateValue>(request.filters[0].any_of[0]);
    const auto expected = ids_where(
        [&](const Recorded& r) { return search::DateMatches(date, r.seconds, r.seconds + 1); });
    EXPECT_EQ(Ids("Consent", std::string("date=") + value), expected);
    // A consent's lastUpdated is when it was recorded.
    EXPECT_EQ(Ids("Consent", std::string("_lastUpdated=") + value), expected);
  }
  // Newest decision first, walked two at a time.
  Walk newest = WalkAll("Consent", "_sort=-date&_count=2");
  std::vector<Recorded> by_time = recorded;
  std::sort(by_time.begin(), by_time.end(),
            [](const Recorded& a, const Recorded& b) { return a.seconds > b.seconds; });
  std::vector<std::string> expected_order;
  for (const Recorded& r : by_time) expected_order.push_back(r.id);
  EXPECT_EQ(newest.ids, expected_order);
  EXPECT_EQ(newest.pages, 4);
  EXPECT_EQ(WalkAll("Consent", "_sort=-_lastUpdated&_count=3").ids, expected_order);
  // Includes both ways.
  Walk with_patient = WalkAll("Consent", "patient=p1001&_include=Consent:patient");
  EXPECT_EQ(with_patient.included, std::vector<std::string>{"Patient/p1001"});
  Walk rev = WalkAll("Patient", "_id=p1001,p1002&_revinclude=Consent:patient");
  std::vector<std::string> rev_expected;
  for (const Recorded& r : recorded)
    if (r.patient == "p1001" || r.patient == "p1002") rev_expected.push_back("Consent/" + r.id);
  EXPECT_THAT(rev.included, UnorderedElementsAreArray(rev_expected));
  // Visibility: a person sees their own consents only.
  Visibility self{Visibility::Kind::kSelf, keys_["p1001"], "", 0};
  Walk own = WalkAll("Consent", "", self);
  std::sort(own.ids.begin(), own.ids.end());
  EXPECT_EQ(own.ids, ids_where([](const Recorded& r) { return r.patient == "p1001"; }));
  Visibility nobody{Visibility::Kind::kNobody, 0, "", 0};
  EXPECT_EQ(WalkAll("Consent", "", nobody).total, 0);

  // Update.
  const Recorded& old = recorded[1];      // p1001's first, superseded
  const Recorded& current = recorded[6];  // p1001's current (deny)
  auto write_of = [&](const Recorded& r, ConsentDecision decision, std::optional<int64_t> if_match,
                      int64_t now_ms) {
    ConsentRecord c;
    c.id = std::stoll(r.id);
    c.patient_id = r.patient;
    c.consent = {keys_[r.patient], decision, gp, now_ms};
    ResourceWrite w;
    w.resource_type = "Consent";
    w.id = r.id;
    w.record = c;
    w.json = R"({"resourceType":"Consent","id":")" + r.id + R"(","provision":{"type":"permit"}})";
    w.baseline_json = R"({"resourceType":"Consent","id":")" + r.id + R"(","v":1})";
    w.if_match = if_match;
    w.now_ms = now_ms;
    return w;
  };
  const int64_t now_ms = (base + 20 * 3600) * 1000;
  auto superseded = store_->PutResource(write_of(old, ConsentDecision::kPermitSharing, 1, now_ms));
  ASSERT_FALSE(superseded.ok());
  EXPECT_EQ(superseded.error().code, ErrorCode::kConflict) << superseded.error().ToString();
  EXPECT_THAT(superseded.error().message, HasSubstr("Consent/" + current.id));
  auto stale = store_->PutResource(write_of(current, ConsentDecision::kPermitSharing, 2, now_ms));
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, ErrorCode::kPreconditionFailed);
  ResourceWrite moved = write_of(current, ConsentDecision::kPermitSharing, 1, now_ms);
  std::get<ConsentRecord>(moved.record).consent.patient_key = keys_["p1002"];
  auto other_person = store_->PutResource(moved);
  ASSERT_FALSE(other_person.ok());
  EXPECT_EQ(other_person.error().code, ErrorCode::kInvalidInput);
  EXPECT_THAT(other_person.error().message, HasSubstr("patient"));
  ResourceWrite create = write_of(current, ConsentDecision::kPermitSharing, std::nullopt, now_ms);
  create.create_only = true;
  EXPECT_EQ(store_->PutResource(create).error().code, ErrorCode::kInvalidInput);
  Recorded missing{"999999", "p1001", 0};
  EXPECT_EQ(store_->PutResource(write_of(missing, ConsentDecision::kPermitSharing, 1, now_ms))
                .error()
                .code,
            ErrorCode::kNotFound);
  // Nothing of that changed anything.
  EXPECT_EQ(store_->LatestConsent(keys_["p1001"]).value()->decision,
            ConsentDecision::kDeclineBeyondOwnPractice);
  EXPECT_EQ(store_->ResourceHistory("Consent", current.id).value().size(), 1u);

  auto updated = store_->PutResource(write_of(current, ConsentDecision::kPermitSharing, 1, now_ms));
  ASSERT_TRUE(updated.ok()) << updated.error().ToString();
  EXPECT_EQ(updated->version_id, 2);
  EXPECT_EQ(updated->last_updated_ms, now_ms);
  auto latest = store_->LatestConsent(keys_["p1001"]);
  ASSERT_TRUE(latest.ok() && *latest);
  EXPECT_EQ((*latest)->decision, ConsentDecision::kPermitSharing);
  EXPECT_EQ((*latest)->recorded_at_ms, now_ms);
  auto found = store_->FindResource("Consent", current.id);
  ASSERT_TRUE(found.ok() && *found);
  EXPECT_EQ((*found)->meta.version_id, 2);
  EXPECT_EQ((*found)->meta.last_updated_ms, now_ms);
  EXPECT_EQ(std::get<ConsentRecord>((*found)->record).consent.decision,
            ConsentDecision::kPermitSharing);
  auto history = store_->ResourceHistory("Consent", current.id);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[1].version_id, 1);
  EXPECT_EQ((*history)[1].last_updated_ms, current.seconds * 1000);
  EXPECT_THAT((*history)[1].json, HasSubstr("\"v\":1"));
  // Searches see the new time; the next update needs version 2.
  EXPECT_EQ(WalkAll("Consent", "_sort=-date&_count=1").ids.front(), current.id);
  EXPECT_EQ(Ids("Consent", "date=2024-01-01T20:00:00Z"), std::vector<std::string>{current.id});
  EXPECT_EQ(store_->PutResource(write_of(current, ConsentDecision::kPermitSharing, 1, now_ms + 1))
                .error()
                .code,
            ErrorCode::kPreconditionFailed);
  // An update is never recorded before the decision it replaces (a clock behind another
  // server's): it stays the latest.
  auto behind =
      store_->PutResource(write_of(current, ConsentDecision::kDeclineBeyondOwnPractice, 2, 5));
  ASSERT_TRUE(behind.ok()) << behind.error().ToString();
  EXPECT_EQ(behind->last_updated_ms, now_ms);
  EXPECT_EQ(store_->LatestConsent(keys_["p1001"]).value()->decision,
            ConsentDecision::kDeclineBeyondOwnPractice);
}

// The kRelationship SQL filter gives exactly the people security::Decide lets a staff member
// read, for a population with practices, care teams and consent histories.
TEST_P(ResourceStoreTest, RelationshipVisibilityIsExactlyWhatDecideAllows) {
  constexpr int64_t kAsAt = 50'000;
  Write(MakePopulation(80));
  ASSERT_TRUE(store_->PutOrganisation({"A81001", "Alpha", OrganisationKind::kGpPractice}).ok());
  ASSERT_TRUE(store_->PutOrganisation({"T1", "Trust", OrganisationKind::kCommunityTrust}).ok());
  User staff;
  staff.username = "nurse";
  staff.display_name = "N";
  staff.organisation_id = "A81001";
  staff.role = Role::kNurse;
  staff.password_hash = "x";
  const int64_t nurse = *store_->AddUser(staff);
  staff.username = "other";
  staff.organisation_id = "T1";
  const int64_t other = *store_->AddUser(staff);
  const int64_t team1 = *store_->AddCareTeam("MDT", "A81001");
  const int64_t team2 = *store_->AddCareTeam("Frailty", "T1");
  ASSERT_TRUE(store_->AddCareTeamMember(team1, nurse).ok());
  ASSERT_TRUE(store_->AddCareTeamMember(team2, other).ok());
  std::mt19937 random(7);
  for (const Patient& p : pop_.patients) {
    const int64_t key = keys_[p.id];
    if (random() % 3 == 0) {
      ASSERT_TRUE(store_->AddCareTeamPatient(team1, key).ok());
    }
    if (random() % 3 == 0) {
      ASSERT_TRUE(store_->AddCareTeamPatient(team2, key).ok());
    }
    // Some memberships have ended by the time asked about (kAsAt), some end later (chosen by
    // key, so the random draws above stay as they were).
    const int64_t until = key % 4 == 1 ? kAsAt : key % 4 == 3 ? kAsAt + 1 : kAsAt - 1;
    if (key % 4 != 0) {
      ASSERT_TRUE(store_->EndCareTeamPatient(key % 2 ? team1 : team2, key, until).ok());
    }
    const int consents = static_cast<int>(random() % 3);
    for (int c = 0; c < consents; ++c) {
      // Equal times on purpose: then the later recorded one counts.
      const auto decision = random() % 2 == 0 ? ConsentDecision::kDeclineBeyondOwnPractice
                                              : ConsentDecision::kPermitSharing;
      ASSERT_TRUE(store_->RecordConsent({key, decision, nurse, int64_t(random() % 2)}).ok());
    }
  }
  for (int64_t user : {nurse, other}) {
    const User u = *store_->FindUserById(user).value();
    security::Caller caller;
    caller.user_id = user;
    caller.role = u.role;
    caller.organisation_id = u.organisation_id;
    caller.care_team_ids = *store_->CareTeamsOfUser(user);
    caller.scopes = security::ParseScopes("user/*.rs").value();
    std::vector<std::string> allowed;
    for (const Patient& p : pop_.patients) {
      auto facts = store_->AccessFacts(keys_[p.id], kAsAt);
      ASSERT_TRUE(facts.ok() && *facts);
      const auto decision =
          security::Decide(caller, {security::Interaction::kRead, "Patient"}, **facts);
      if (decision.allowed) allowed.push_back(p.id);
    }
    std::sort(allowed.begin(), allowed.end());
    ASSERT_FALSE(allowed.empty());
    ASSERT_LT(allowed.size(), pop_.patients.size());
    Visibility v{Visibility::Kind::kRelationship, 0, u.organisation_id, user, kAsAt};
    Walk walk = WalkAll("Patient", "_count=9", v);
    EXPECT_EQ(walk.total, static_cast<int64_t>(allowed.size())) << u.username;
    std::sort(walk.ids.begin(), walk.ids.end());
    EXPECT_EQ(walk.ids, allowed) << u.username;
    // In another order, with a filter: the practice and the care teams are searched apart
    // (two SELECTs merged), so the pages must still interleave them in order.
    std::map<std::string, Date> born;
    for (const Patient& p : pop_.patients) born[p.id] = p.birth_date;
    std::vector<std::string> older;
    for (const std::string& id : allowed)
      if (born[id] <= Date::FromYmd(1950, 1, 1)) older.push_back(id);
    std::stable_sort(older.begin(), older.end(),
                     [&](const std::string& a, const std::string& b) { return born[a] > born[b]; });
    ASSERT_FALSE(older.empty());
    Walk sorted = WalkAll("Patient", "birthdate=le1950-01-01&_sort=-birthdate&_count=4", v);
    EXPECT_EQ(sorted.ids, older) << u.username;
    EXPECT_EQ(sorted.total, static_cast<int64_t>(older.size())) << u.username;
    // The same people's records, and only theirs, in other types and totals.
    Walk conditions = WalkAll("Condition", "_count=11", v);
    std::set<std::string> people;
    for (const std::string& id : conditions.ids)
      people.insert(
          std::get<ClinicalEvent>((*store_->FindResource("Condition", id))->record).patient_id);
    std::set<std::string> expected_people(allowed.begin(), allowed.end());
    EXPECT_EQ(people, expected_people);
  }
  Visibility nobody{Visibility::Kind::kNobody, 0, "", 0};
  EXPECT_TRUE(WalkAll("Patient", "", nobody).ids.empty());
  EXPECT_EQ(WalkAll("Patient", "", nobody).total, 0);
  EXPECT_EQ(WalkAll("Organization", "", nobody).ids.size(), 3u);
}

TEST_P(ResourceStoreTest, SegmentMembersSignInsAndSecrets) {
  Write(MakePopulation(10));
  StratificationRun run;
  run.index_date = Date::FromYmd(2024, 4, 1);
  run.models = {{"tiers", "1", {"low", "high"}}};
  run.people = 10;
  std::vector<PersonRunResult> results;
  for (const Patient& p : pop_.patients) {
    PersonRunResult r;
    r.patient_key = keys_[p.id];
    r.segment = {static_cast<int16_t>(r.patient_key % 2)};
    r.rule = {0};
    results.push_back(r);
  }
  const int64_t run_id = *store_->SaveRun(run, results);
  std::vector<int64_t> high;
  for (const auto& r : results)
    if (r.segment[0] == 1) high.push_back(r.patient_key);
  std::sort(high.begin(), high.end());
  // RiskAssessment: searched by subject, walked by id, revincluded on Patient.
  std::vector<std::string> risk_ids;
  for (const auto& r : results)
    risk_ids.push_back(std::to_string(run_id) + "-" + std::to_string(r.patient_key));
  std::sort(risk_ids.begin(), risk_ids.end());
  EXPECT_EQ(WalkAll("RiskAssessment", "_count=3").ids, risk_ids);
  EXPECT_EQ(WalkAll("RiskAssessment", "_sort=-_id&_count=4").ids,
            std::vector<std::string>(risk_ids.rbegin(), risk_ids.rend()));
  const std::string p3 = std::to_string(run_id) + "-" + std::to_string(keys_["p1003"]);
  EXPECT_EQ(Ids("RiskAssessment", "subject=Patient/p1003"), std::vector<std::string>{p3});
  EXPECT_TRUE(Ids("RiskAssessment", "_lastUpdated=ge2000").empty());
  auto with_risk = store_->SearchResources(
      Parse("Patient", "_id=p1003&_revinclude=RiskAssessment:subject"), nullptr, Everyone(), true);
  ASSERT_TRUE(with_risk.ok()) << with_risk.error().ToString();
  ASSERT_EQ(with_risk->included.size(), 1u);
  EXPECT_EQ(with_risk->included[0].id, p3);
  EXPECT_EQ(std::get<RiskResult>(with_risk->included[0].record).run.models.size(), 1u);

  const std::string group = std::to_string(run_id) + "-0-1";
  EXPECT_EQ(*store_->SegmentMembers(group, Everyone()), high);
  Visibility self{Visibility::Kind::kSelf, high[0], "", 0};
  EXPECT_EQ(*store_->SegmentMembers(group, self), std::vector<int64_t>{high[0]});
  EXPECT_EQ(store_->SegmentMembers("9-9-9", Everyone()).error().code, ErrorCode::kNotFound);

  for (int i = 0; i < 5; ++i) {
    AuditEvent e;
    e.subtype = "login";
    e.username = i < 4 ? "mallory" : "alice";
    e.outcome = i == 0 ? AuditOutcome::kSuccess : AuditOutcome::kMinorFailure;
    e.time_ms = 100 * i;
    e.source_address = "192.0.2." + std::to_string(i);
    ASSERT_TRUE(store_->AppendAuditEvent(e, [](const AuditEvent&) { return "h"; }).ok());
  }
  auto failures = [&](std::string_view who, int64_t since) {
    int n = 0;
    auto sign_ins = store_->SignInsOf(who, since, 100);
    EXPECT_TRUE(sign_ins.ok());
    if (sign_ins.ok())
      for (const auto& s : *sign_ins) n += s.succeeded ? 0 : 1;
    return n;
  };
  EXPECT_EQ(failures("mallory", 0), 3);
  EXPECT_EQ(failures("mallory", 200), 2);
  EXPECT_EQ(failures("alice", 0), 1);
  EXPECT_EQ(failures(kHostile[0], 0), 0);
  auto found = store_->SignInsOf("mallory", 0, 2);  // oldest first, limited
  ASSERT_TRUE(found.ok());
  const std::vector<store::ResourceStore::SignIn>& mallory = *found;
  ASSERT_EQ(mallory.size(), 2u);
  EXPECT_TRUE(mallory[0].succeeded);
  EXPECT_EQ(mallory[0].source_address, "192.0.2.0");
  EXPECT_EQ(mallory[1].time_ms, 100);

  // Concurrent first use: every connection gets the same secret.
  std::vector<std::string> secrets(6);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < secrets.size(); ++t)
    threads.emplace_back([&, t] {
      auto store = OpenStore(db_->url());
      ASSERT_TRUE(store.ok());
      auto secret = (*store)->ServerSecret("cursor", 32);
      ASSERT_TRUE(secret.ok()) << secret.error().ToString();
      secrets[t] = *secret;
    });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(secrets[0].size(), 32u);
  for (const std::string& s : secrets) EXPECT_EQ(s, secrets[0]);
  EXPECT_EQ(*store_->ServerSecret("cursor", 32), secrets[0]);
  EXPECT_NE(*store_->ServerSecret("csrf", 32), secrets[0]);
  EXPECT_EQ(store_->ServerSecret("cursor", 16).error().code, ErrorCode::kConflict);
}

INSTANTIATE_TEST_SUITE_P(Backends, ResourceStoreTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return BackendName(info.param);
                         });

}  // namespace
}  // namespace joinedup::store::testing
