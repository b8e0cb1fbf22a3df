// SQLite-specific behaviour and OpenStore's URL handling (the shared behaviour is in
// store_conformance_test.cc).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fhir/search/paging.h"
#include "fhir/search/search_params.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"
#include "store_test_support.h"

namespace joinedup::store::testing {
namespace {

class SqliteOnlyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string skip_reason;
    db_ = TestDatabase::Create(Backend::kSqlite, skip_reason);
    ASSERT_NE(db_, nullptr);
  }
  std::unique_ptr<TestDatabase> db_;
};

TEST_F(SqliteOnlyTest, ConnectionPragmas) {
  auto store = OpenStore("sqlite:" + db_->url());
  ASSERT_TRUE(store.ok()) << store.error().ToString();
  EXPECT_EQ(SqlitePragma(**store, "journal_mode").value(), "wal");
  EXPECT_EQ(SqlitePragma(**store, "foreign_keys").value(), "1");
  EXPECT_EQ(SqlitePragma(**store, "synchronous").value(), "1");  // NORMAL
  EXPECT_EQ(SqlitePragma(**store, "busy_timeout").value(), "5000");
  EXPECT_FALSE(SqlitePragma(**store, "foreign_keys; DROP TABLE patients").ok());
  // The writer suspends foreign key enforcement for its own transaction only (it checks
  // references itself); afterwards the connection enforces them again, commit or rollback.
  for (bool commit : {true, false}) {
    auto writer = (*store)->BeginWrite();
    ASSERT_TRUE(writer.ok());
    Patient p;
    p.id = "p-1";
    ASSERT_TRUE((*writer)->Add(p).ok());
    if (commit) {
      ASSERT_TRUE((*writer)->Commit().ok());
    }
    writer->reset();
    EXPECT_EQ(SqlitePragma(**store, "foreign_keys").value(), "1") << "commit=" << commit;
  }
  // WAL is a property of the file: another connection sees it too.
  std::string mode;
  EXPECT_EQ(db_->RawExec("PRAGMA journal_mode", &mode), "");
  EXPECT_EQ(mode, "wal");
}

TEST_F(SqliteOnlyTest, CheckConstraintsGuardEnumColumns) {
  auto store = OpenStore(db_->url());
  ASSERT_TRUE(store.ok());
  store->reset();
  // Even a raw connection cannot store a sex ordinal outside the enum.
  std::string error = db_->RawExec(
      "INSERT INTO patients (id, source_identifier, family_name, given_name, birth_date, sex,"
      " postcode_district, deprivation_decile) VALUES ('x', '', '', '', 0, 9, '', 0)");
  EXPECT_THAT(error, ::testing::HasSubstr("CHECK"));
}

TEST_F(SqliteOnlyTest, InMemoryStoreWorks) {
  auto store = OpenStore(":memory:");
  ASSERT_TRUE(store.ok()) << store.error().ToString();
  auto writer = (*store)->BeginWrite();
  ASSERT_TRUE(writer.ok());
  Patient p;
  p.id = "p-1";
  ASSERT_TRUE((*writer)->Add(p).ok());
  ASSERT_TRUE((*writer)->Commit().ok());
  EXPECT_EQ((*store)->Counts()->patients, 1);
}

TEST_F(SqliteOnlyTest, AFileThatIsNotADatabaseIsUnavailable) {
  const std::string path = db_->url() + ".txt";
  std::ofstream(path)
      << "this is not a database, just some text that is long enough to "
         "fill the header of one...................................................";
  auto store = OpenStore(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kUnavailable) << store.error().ToString();
}

TEST(OpenStoreTest, RejectsMalformedUrls) {
  for (const char* url : {"", "sqlite:", "mysql://localhost/db"}) {
    auto store = OpenStore(url);
    ASSERT_FALSE(store.ok()) << url;
    EXPECT_EQ(store.error().code, ErrorCode::kInvalidInput) << url;
  }
}

TEST(OpenStoreTest, UnreachableDatabasesAreUnavailable) {
  auto sqlite = OpenStore("/nonexistent-directory-for-joinedup/store.db");
  ASSERT_FALSE(sqlite.ok());
  EXPECT_EQ(sqlite.error().code, ErrorCode::kUnavailable);
  // Port 1 on loopback: refused at once.
  auto pg = OpenStore("postgresql://nobody@127.0.0.1:1/nothing?connect_timeout=2");
  ASSERT_FALSE(pg.ok());
  EXPECT_EQ(pg.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(pg.error().message, ::testing::HasSubstr("postgresql"));
}

// The statements the FHIR searches of the benchmark (and the other common ones) really run are
// each served by an index: no full scan of a person table, and keyset pages in index order.
// (Without ANALYZE statistics SQLite plans as for a large table, so a small one shows the plan
// a million patients get.)
TEST_F(SqliteOnlyTest, ResourceSearchesAreServedByIndexes) {
  namespace search = fhir::search;
  auto store = OpenStore("sqlite:" + db_->url());
  ASSERT_TRUE(store.ok()) << store.error().ToString();
  {
    auto writer = (*store)->BeginWrite();
    ASSERT_TRUE(writer.ok());
    for (int i = 0; i < 3; ++i) {
      Patient p;
      p.id = "p" + std::to_string(i);
      p.nhs_number = TestNhsNumber(i + 1);
      p.family_name = "Smith";
      p.birth_date = Date::FromYmd(1940 + i, 1, 1);
      ASSERT_TRUE((*writer)->Add(p).ok());
      ClinicalEvent e;
      e.id = "e" + std::to_string(i);
      e.patient_id = p.id;
      e.code = "44054006";
      e.date = Date::FromYmd(2020, 1, 1);
      ASSERT_TRUE((*writer)->Add(e).ok());
    }
    ASSERT_TRUE((*writer)->Commit().ok());
  }
  // A document type's rows (migration 7), with the index the fhir layer would hand over.
  for (int i = 0; i < 3; ++i) {
    ResourceWrite carer;
    carer.resource_type = "RelatedPerson";
    carer.id = "rp" + std::to_string(i);
    carer.json = R"({"resourceType":"RelatedPerson","id":"rp)" + std::to_string(i) + R"("})";
    carer.record = ResourceJson{carer.json};
    carer.now_ms = 1'790'000'000'000 + i;
    carer.patient_id = "p" + std::to_string(i);
    carer.index = {{"patient", carer.patient_id, "Patient"},
                   {"name", "smith", "Smith"},
                   {"relationship", "DAU", "http://terminology.hl7.org/CodeSystem/v3-RoleCode"}};
    ASSERT_TRUE((*store)->PutResource(carer).ok());
  }
  struct Case {
    std::string type, query;
    std::vector<std::string> uses;  // index names the page query's plan must mention
    bool sorted_by_index;           // no temporary b-tree for ORDER BY (per arm)
    bool relationship = false;      // searched as a staff member (two arms), not as everyone
  };
  const std::string nhs = TestNhsNumber(1).digits();
  const std::vector<Case> cases = {
      {"Patient",
       "identifier=https://fhir.nhs.uk/Id/nhs-number%7C" + nhs,
       {"sqlite_autoindex_patients_2"},
       false},
      {"Patient", "_id=p1", {"sqlite_autoindex_patients_1"}, false},
      {"Condition",
       "subject=Patient/p1",
       {"sqlite_autoindex_patients_1", "events_by_patient"},
       false},
      {"Patient", "birthdate=le1950-01-01&_count=1", {"sqlite_autoindex_patients_1"}, true},
      {"Patient",
       "birthdate=le1950-01-01&_sort=birthdate&_count=1",
       {"patients_by_birth_date"},
       true},
      {"Patient", "family=smi&_sort=family&_count=1", {"patients_by_family"}, true},
      {"Patient", "given=ann", {"patients_by_given"}, false},
      {"Condition",
       "code=http://snomed.info/sct%7C44054006",
       {"sqlite_autoindex_concepts_1", "events_by_kind_concept"},
       false},
      {"Condition", "code=44054006", {"concepts_by_code", "events_by_kind_concept"}, false},
      // A staff member's walk: their practice's people from the (practice, id) index, their
      // care teams' people by key — never the whole population in id order.
      {"Patient",
       "birthdate=le1950-01-01&_count=1",
       {"patients_by_practice_and_id", "care_team_members_by_user"},
       false,
       true},
      {"Condition",
       "subject=Patient/p1",
       {"sqlite_autoindex_patients_1", "events_by_patient"},
       false,
       true},
      // Document types: the person through documents_by_patient, the rest through the index.
      {"RelatedPerson", "patient=p1", {"sqlite_autoindex_patients_1", "documents_by_patient"},
       false},
      {"RelatedPerson",
       "relationship=http://terminology.hl7.org/CodeSystem/v3-RoleCode%7CDAU&_count=1",
       {"document_index_by_value"},
       true},
      {"RelatedPerson", "name=smi&_count=1", {"document_index_by_value"}, true},
      {"RelatedPerson", "patient=p1", {"sqlite_autoindex_patients_1", "documents_by_patient"},
       false, true},
  };
  for (const Case& c : cases) {
    auto parsed = search::ParseSearch(c.type, c.query);
    ASSERT_TRUE(std::holds_alternative<search::SearchRequest>(parsed)) << c.query;
    const auto& request = std::get<search::SearchRequest>(parsed);
    std::vector<std::string> statements;
    ASSERT_TRUE(SqliteObserveQueries(**store, [&](std::string_view sql) {
                  statements.emplace_back(sql);
                }).ok());
    const Visibility visibility = c.relationship
                                      ? Visibility{Visibility::Kind::kRelationship, 0, "A81001", 7}
                                      : Visibility{Visibility::Kind::kEveryone, 0, "", 0};
    auto page = (*store)->SearchResources(request, nullptr, visibility, true);
    ASSERT_TRUE(page.ok()) << page.error().ToString();
    if (page->has_next) {  // and the keyset continuation
      search::PageCursor cursor{page->matches.back().sort_values, page->matches.back().id};
      ASSERT_TRUE((*store)->SearchResources(request, &cursor, visibility, false).ok());
    }
    ASSERT_TRUE(SqliteObserveQueries(**store, nullptr).ok());
    ASSERT_FALSE(statements.empty());
    for (const std::string& sql : statements) {
      if (!sql.starts_with("SELECT")) continue;
      auto plan = SqliteQueryPlan(**store, sql);
      ASSERT_TRUE(plan.ok()) << plan.error().ToString();
      // "SCAN x USING INDEX" is a full walk too, only in index order — which only a walk of
      // everyone's Patients in id order may take — and so is a search of events by kind alone.
      std::vector<std::string_view> scans = {"SCAN p\n",
                                             "SCAN e\n",
                                             "SCAN a\n",
                                             "SCAN e USING",
                                             "SCAN a USING",
                                             "SCAN cc\n",
                                             "SCAN p USING COVERING",
                                             "events_by_kind_concept (kind=?)\n",
                                             "SCAN d\n",
                                             "SCAN i\n"};
      if (c.relationship) scans.push_back("SCAN p USING");
      for (std::string_view table : scans)
        EXPECT_EQ(plan->find(table), std::string::npos) << c.type << "?" << c.query << "\n"
                                                        << sql << "\n"
                                                        << *plan;
      for (const std::string& index : c.uses) {
        if (sql.starts_with("SELECT COUNT") || sql.starts_with("SELECT (SELECT COUNT")) continue;
        EXPECT_NE(plan->find(index), std::string::npos)
            << c.type << "?" << c.query << " does not use " << index << "\n"
            << sql << "\n"
            << *plan;
      }
      if (c.sorted_by_index && !sql.starts_with("SELECT COUNT")) {
        EXPECT_EQ(plan->find("TEMP B-TREE"), std::string::npos) << c.type << "?" << c.query << "\n"
                                                                << sql << "\n"
                                                                << *plan;
      }
    }
  }
}

}  // namespace
}  // namespace joinedup::store::testing
