// SQLite-specific behaviour and OpenStore's URL handling (the shared behaviour is in
// store_conformance_test.cc).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

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
  std::ofstream(path) << "this is not a database, just some text that is long enough to "
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

}  // namespace
}  // namespace joinedup::store::testing
