// Stratification runs in the store (SaveRun, Runs, FindRun, RunResults, PersonHistory) and
// schema migration 2, on SQLite and PostgreSQL.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "store/migrations.h"
#include "store/store.h"
#include "store_test_support.h"

namespace joinedup::store::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

class RunsTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string skip_reason;
    db_ = TestDatabase::Create(GetParam(), skip_reason);
    if (!skip_reason.empty()) GTEST_SKIP() << skip_reason;
    ASSERT_NE(db_, nullptr);
    Open();
  }

  void Open() {
    auto opened = OpenStore(db_->url());
    ASSERT_TRUE(opened.ok()) << opened.error().ToString();
    store_ = std::move(opened).value();
  }

  // `count` bare patients; returns their keys in key order.
  std::vector<int64_t> WritePatients(int count) {
    {
      auto w = store_->BeginWrite();
      EXPECT_TRUE(w.ok());
      if (!w.ok()) return {};
      for (int i = 0; i < count; ++i) {
        Patient p;
        p.id = "p-" + std::to_string(i);
        p.source_identifier = "urn:x|" + std::to_string(i);
        EXPECT_TRUE((*w)->Add(p).ok());
      }
      EXPECT_TRUE((*w)->Commit().ok());
    }
    auto cohort = store_->LoadCohort({});
    EXPECT_TRUE(cohort.ok());
    std::vector<int64_t> keys;
    if (cohort.ok())
      for (const Cohort::Person& p : cohort->people) keys.push_back(p.key);
    return keys;
  }

  std::string Raw(const std::string& sql) {
    std::string value;
    EXPECT_EQ(db_->RawExec(sql, &value), "") << sql;
    return value;
  }

  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<Store> store_;
};

StratificationRun TwoModelRun() {
  StratificationRun run;
  run.index_date = Date::FromYmd(2024, 3, 31);
  run.people = 3;
  run.models = {
      {"mcmw", "2024-01", {"Tier 0", "Tier 1", "Tier 3", "Tier 4"}},
      {"worcs", "v1.2 \"draft\"\ttabbed\\", {"Group 1", "Group 2", "Group 3", "Group 4"}}};
  return run;
}

PersonRunResult Result(int64_t key, int16_t seed) {
  PersonRunResult r;
  r.patient_key = key;
  r.ltc_count = seed;
  r.efi_deficits = static_cast<int16_t>(seed + 1);
  r.hfrs_tenths = static_cast<int16_t>(seed * 10 + 5);
  r.charlson_1987 = static_cast<int16_t>(seed + 2);
  r.charlson_quan2011 = static_cast<int16_t>(seed + 3);
  r.elixhauser = static_cast<int16_t>(-seed);
  r.admission_risk = 0.1f * static_cast<float>(seed + 1) / 3.0f;
  r.cost_12m_pence = 123'456'789'012 * (seed + 1);
  r.segment = {static_cast<int16_t>(seed % 4), -1};
  r.rule = {static_cast<int16_t>(seed), -1};
  return r;
}

void ExpectSameRun(const StratificationRun& got, const StratificationRun& want) {
  EXPECT_EQ(got.index_date, want.index_date);
  EXPECT_EQ(got.models, want.models);
  EXPECT_EQ(got.people, want.people);
}

TEST_P(RunsTest, TheSchemaIncludesVersionTwo) {
  EXPECT_GE(kLatestSchemaVersion, 2);
  EXPECT_EQ(store_->schema_version(), kLatestSchemaVersion);
  EXPECT_EQ(Raw("SELECT name FROM schema_migrations WHERE version = 2"), "stratification");
}

TEST_P(RunsTest, ARunRoundTripsEveryField) {
  std::vector<int64_t> keys = WritePatients(3);
  ASSERT_EQ(keys.size(), 3u);
  StratificationRun run = TwoModelRun();
  // Extremes of every field, and floats that need all their digits.
  PersonRunResult extreme;
  extreme.patient_key = keys[2];
  extreme.ltc_count = std::numeric_limits<int16_t>::max();
  extreme.efi_deficits = std::numeric_limits<int16_t>::min();
  extreme.hfrs_tenths = -1;
  extreme.charlson_1987 = 0;
  extreme.charlson_quan2011 = 32'000;
  extreme.elixhauser = -32'000;
  extreme.admission_risk = std::nextafter(1.0f, 0.0f);
  extreme.cost_12m_pence = std::numeric_limits<int64_t>::max();
  extreme.segment = {3, kOutsidePopulation};
  extreme.rule = {std::numeric_limits<int16_t>::max(), 0};
  PersonRunResult tiny = Result(keys[0], 1);
  tiny.admission_risk = std::numeric_limits<float>::denorm_min();
  tiny.cost_12m_pence = std::numeric_limits<int64_t>::min();
  // Given out of key order: read back in key order.
  std::vector<PersonRunResult> results = {extreme, Result(keys[1], 7), tiny};
  auto id = store_->SaveRun(run, results);
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  EXPECT_GT(*id, 0);

  auto found = store_->FindRun(*id);
  ASSERT_TRUE(found.ok()) << found.error().ToString();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->id, *id);
  EXPECT_THAT((*found)->created_at, MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z"));
  ExpectSameRun(**found, run);

  auto read = store_->RunResults(*id);
  ASSERT_TRUE(read.ok()) << read.error().ToString();
  std::vector<PersonRunResult> expected = {tiny, Result(keys[1], 7), extreme};
  ASSERT_EQ(read->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*read)[i], expected[i]) << i;
    // Bit for bit, not just ==.
    EXPECT_EQ(std::memcmp(&(*read)[i].admission_risk, &expected[i].admission_risk, sizeof(float)),
              0);
  }
}

TEST_P(RunsTest, RunsNewestFirstAndPersonHistoryOldestFirst) {
  std::vector<int64_t> keys = WritePatients(3);
  ASSERT_EQ(keys.size(), 3u);
  StratificationRun first = TwoModelRun();
  StratificationRun second;
  second.index_date = Date::FromYmd(2024, 6, 30);
  second.people = 1;
  second.models = {{"solo", "1", {"only"}}};
  StratificationRun third;  // no models, no results
  third.index_date = Date::FromYmd(2024, 9, 30);

  std::vector<PersonRunResult> first_results = {Result(keys[0], 0), Result(keys[1], 1)};
  PersonRunResult later = Result(keys[1], 2);
  later.segment = {0};
  later.rule = {4};
  auto id1 = store_->SaveRun(first, first_results);
  auto id2 = store_->SaveRun(second, std::vector<PersonRunResult>{later});
  auto id3 = store_->SaveRun(third, {});
  ASSERT_TRUE(id1.ok() && id2.ok() && id3.ok());
  EXPECT_LT(*id1, *id2);
  EXPECT_LT(*id2, *id3);

  auto runs = store_->Runs();
  ASSERT_TRUE(runs.ok()) << runs.error().ToString();
  ASSERT_EQ(runs->size(), 3u);
  EXPECT_EQ((*runs)[0].id, *id3);
  EXPECT_EQ((*runs)[1].id, *id2);
  EXPECT_EQ((*runs)[2].id, *id1);
  ExpectSameRun((*runs)[0], third);
  ExpectSameRun((*runs)[1], second);
  ExpectSameRun((*runs)[2], first);

  auto history = store_->PersonHistory(keys[1]);
  ASSERT_TRUE(history.ok()) << history.error().ToString();
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].first.id, *id1);
  ExpectSameRun((*history)[0].first, first);
  EXPECT_EQ((*history)[0].second, first_results[1]);
  EXPECT_EQ((*history)[1].first.id, *id2);
  EXPECT_EQ((*history)[1].second, later);

  auto only_first = store_->PersonHistory(keys[0]);
  ASSERT_TRUE(only_first.ok());
  ASSERT_EQ(only_first->size(), 1u);
  EXPECT_EQ(only_first->front().second, first_results[0]);
  EXPECT_TRUE(store_->PersonHistory(keys[2])->empty());
  EXPECT_TRUE(store_->PersonHistory(987'654'321)->empty());
  EXPECT_TRUE(store_->RunResults(*id3)->empty());
}

TEST_P(RunsTest, UnknownRuns) {
  auto found = store_->FindRun(42);
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value());
  auto results = store_->RunResults(42);
  ASSERT_FALSE(results.ok());
  EXPECT_EQ(results.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(results.error().message, HasSubstr("42"));
  EXPECT_TRUE(store_->Runs()->empty());
}

// Every refusal names the result and leaves no trace of the run.
TEST_P(RunsTest, RefusedRunsWriteNothing) {
  std::vector<int64_t> keys = WritePatients(3);
  ASSERT_EQ(keys.size(), 3u);
  const StratificationRun run = TwoModelRun();
  struct Case {
    std::string name;
    std::vector<PersonRunResult> results;
    ErrorCode code;
    std::string message;
  };
  std::vector<Case> cases;
  {
    auto r = std::vector{Result(keys[0], 0), Result(keys[1], 1)};
    r[1].segment.pop_back();
    cases.push_back(
        {"too few segments", r, ErrorCode::kInvalidInput, "results[1]: has 1 segments"});
  }
  {
    auto r = std::vector{Result(keys[0], 0), Result(keys[1], 1)};
    r[0].rule.push_back(0);
    cases.push_back({"too many rules", r, ErrorCode::kInvalidInput, "results[0]: "});
  }
  {
    auto r = std::vector{Result(keys[0], 0), Result(keys[1], 1), Result(keys[1] + 1000, 2)};
    cases.push_back({"unknown patient", r, ErrorCode::kNotFound, "results[2]: patient_key"});
  }
  {
    auto r = std::vector{Result(keys[2], 0), Result(keys[0], 1), Result(keys[2], 2)};
    cases.push_back({"duplicate", r, ErrorCode::kInvalidInput, "results[2]: repeats patient_key"});
  }
  {
    auto r = std::vector{Result(keys[0], 0)};
    r[0].segment[0] = 4;  // the model has segments 0..3
    cases.push_back({"segment out of range", r, ErrorCode::kInvalidInput, "results[0]: segment 4"});
  }
  {
    auto r = std::vector{Result(keys[0], 0)};
    r[0].segment[1] = -3;  // below kOutsidePopulation
    cases.push_back({"segment below -2", r, ErrorCode::kInvalidInput, "results[0]: segment -3"});
  }
  {
    auto r = std::vector{Result(keys[0], 0)};
    r[0].rule[1] = -2;
    cases.push_back({"rule below -1", r, ErrorCode::kInvalidInput, "results[0]: rule -2"});
  }
  {
    auto r = std::vector{Result(keys[0], 0), Result(keys[1], 0)};
    r[1].admission_risk = std::numeric_limits<float>::quiet_NaN();
    cases.push_back({"NaN risk", r, ErrorCode::kInvalidInput, "results[1]: admission_risk"});
  }
  for (const Case& c : cases) {
    auto id = store_->SaveRun(run, c.results);
    ASSERT_FALSE(id.ok()) << c.name;
    EXPECT_EQ(id.error().code, c.code) << c.name << ": " << id.error().ToString();
    EXPECT_THAT(id.error().message, HasSubstr(c.message)) << c.name;
  }
  StratificationRun nul = run;
  nul.models[0].segments[1] = std::string("Tier\0one", 8);
  auto refused = store_->SaveRun(nul, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidInput);

  EXPECT_TRUE(store_->Runs()->empty());
  for (const char* table : {"stratification_runs", "stratification_run_models",
                            "stratification_run_segments", "stratification_results"})
    EXPECT_EQ(Raw(std::string("SELECT COUNT(*) FROM ") + table), "0") << table;
  // The store is still usable.
  auto id = store_->SaveRun(run, std::vector{Result(keys[0], 0)});
  EXPECT_TRUE(id.ok()) << id.error().ToString();
}

// Many results take the bulk path of the patient check.
TEST_P(RunsTest, AnUnknownPatientAmongManyResults) {
  std::vector<int64_t> keys = WritePatients(1500);
  ASSERT_EQ(keys.size(), 1500u);
  StratificationRun run = TwoModelRun();
  std::vector<PersonRunResult> results;
  for (size_t i = 0; i < keys.size(); ++i)
    results.push_back(Result(keys[i], static_cast<int16_t>(i % 100)));
  results[1234].patient_key = keys.back() + 1;
  results.erase(results.end() - 1);  // keep the count, just swap one key for an unknown one
  auto id = store_->SaveRun(run, results);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(id.error().message, HasSubstr("results[1234]"));
  results[1234].patient_key = keys.back();
  auto saved = store_->SaveRun(run, results);
  ASSERT_TRUE(saved.ok()) << saved.error().ToString();
  auto read = store_->RunResults(*saved);
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->size(), results.size());
  std::vector<PersonRunResult> sorted = results;
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.patient_key < b.patient_key; });
  EXPECT_TRUE(*read == sorted);
}

// A failure inside the database after the run's header rows were written (injected with a
// trigger) rolls the whole run back.
TEST_P(RunsTest, AFailureMidwayLeavesNothingBehind) {
  std::vector<int64_t> keys = WritePatients(3);
  ASSERT_EQ(keys.size(), 3u);
  const std::string poisoned = std::to_string(keys[1]);
  if (GetParam() == Backend::kSqlite) {
    ASSERT_EQ(db_->RawExec("CREATE TRIGGER poison BEFORE INSERT ON stratification_results"
                           " WHEN NEW.patient_key = " +
                           poisoned + " BEGIN SELECT RAISE(ABORT, 'injected failure'); END"),
              "");
  } else {
    ASSERT_EQ(db_->RawExec("CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$"
                           " BEGIN IF NEW.patient_key = " +
                           poisoned +
                           " THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$;"
                           " CREATE TRIGGER poison BEFORE INSERT ON stratification_results"
                           " FOR EACH ROW EXECUTE FUNCTION poison()"),
              "");
  }
  auto id = store_->SaveRun(
      TwoModelRun(), std::vector{Result(keys[0], 0), Result(keys[1], 1), Result(keys[2], 2)});
  ASSERT_FALSE(id.ok());
  EXPECT_THAT(id.error().message, HasSubstr("injected failure"));
  EXPECT_TRUE(store_->Runs()->empty());
  for (const char* table : {"stratification_runs", "stratification_run_models",
                            "stratification_run_segments", "stratification_results"})
    EXPECT_EQ(Raw(std::string("SELECT COUNT(*) FROM ") + table), "0") << table;
  ASSERT_EQ(
      db_->RawExec("DROP TRIGGER poison" +
                   std::string(GetParam() == Backend::kSqlite ? "" : " ON stratification_results")),
      "");
  EXPECT_TRUE(store_->SaveRun(TwoModelRun(), std::vector{Result(keys[1], 1)}).ok());
}

TEST_P(RunsTest, NotWhileAWriterIsOpen) {
  auto w = store_->BeginWrite();
  ASSERT_TRUE(w.ok());
  auto id = store_->SaveRun(TwoModelRun(), {});
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().code, ErrorCode::kConflict);
}

// A version-1 database (made here by removing migrations 2 to 4 from a new one) gains the run
// tables when opened, keeping its population.
TEST_P(RunsTest, MigratingAVersionOneDatabaseKeepsItsData) {
  std::vector<int64_t> keys = WritePatients(5);
  ASSERT_EQ(keys.size(), 5u);
  const TableCounts before = store_->Counts().value();
  store_.reset();
  for (const char* table :
       {"stratification_results", "stratification_run_segments", "stratification_run_models",
        "stratification_runs", "audit_event_entities", "audit_events", "tokens", "consents",
        "case_episodes", "care_team_patients", "care_team_members", "care_teams", "users", "organisations",
        "resource_versions", "server_secrets", "document_index", "documents"})
    ASSERT_EQ(db_->RawExec(std::string("DROP TABLE ") + table), "") << table;
  for (const char* index :
       {"patients_by_birth_date", "patients_by_family", "patients_by_given",
        "patients_by_source_identifier", "concepts_by_code", "events_by_patient_kind_date",
        "activities_by_patient_start", "patients_by_practice_and_id"})
    ASSERT_EQ(db_->RawExec(std::string("DROP INDEX ") + index), "") << index;
  ASSERT_EQ(db_->RawExec("CREATE INDEX patients_by_practice ON patients (practice_id)"), "");
  for (const char* column : {"family_folded", "given_folded"})
    ASSERT_EQ(db_->RawExec(std::string("ALTER TABLE patients DROP COLUMN ") + column), "")
        << column;
  ASSERT_EQ(db_->RawExec("DELETE FROM schema_migrations WHERE version >= 2"), "");
  ASSERT_EQ(Raw("SELECT MAX(version) FROM schema_migrations"), "1");

  Open();
  EXPECT_EQ(store_->schema_version(), kLatestSchemaVersion);
  EXPECT_EQ(store_->Counts().value(), before);
  EXPECT_EQ(Raw("SELECT COUNT(*) FROM schema_migrations"), std::to_string(kLatestSchemaVersion));
  auto id = store_->SaveRun(TwoModelRun(), std::vector{Result(keys[4], 3)});
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  EXPECT_EQ(store_->RunResults(*id)->front(), Result(keys[4], 3));
}

INSTANTIATE_TEST_SUITE_P(Backends, RunsTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return BackendName(info.param);
                         });

}  // namespace
}  // namespace joinedup::store::testing
