// Support for the store conformance suite: a fresh database per test on either backend, and
// record builders/printers.
#pragma once

#include <memory>
#include <ostream>
#include <string>

#include "domain/population.h"
#include "store/store.h"

namespace joinedup::store::testing {

enum class Backend { kSqlite, kPostgres };
std::string BackendName(Backend backend);
inline void PrintTo(Backend backend, std::ostream* out) { *out << BackendName(backend); }

// A fresh, empty database for one test: a temporary SQLite file, or a new database on the
// throwaway PostgreSQL server whose URL is in the file named by JOINEDUP_TEST_POSTGRES_URL_FILE
// (set by ctest; see tests/store/CMakeLists.txt). Removed on destruction.
class TestDatabase {
 public:
  // Returns nullptr and sets `skip_reason` when PostgreSQL is not configured (the binary run
  // by hand, outside ctest). A configured but unusable server is a test failure (ADD_FAILURE).
  static std::unique_ptr<TestDatabase> Create(Backend backend, std::string& skip_reason);
  ~TestDatabase();

  const std::string& url() const { return url_; }
  // Runs SQL on the database through a separate raw connection (not through Store).
  // Returns "" on success, else the error text. For a query, `first_value` gets row 0 col 0.
  std::string RawExec(const std::string& sql, std::string* first_value = nullptr);

 private:
  TestDatabase() = default;
  Backend backend_ = Backend::kSqlite;
  std::string url_;
  std::string sqlite_dir_;
  std::string pg_admin_url_;
  std::string pg_database_;
};

// NHS numbers that pass the Modulus 11 check, distinct for distinct n (n < 10^7).
NhsNumber TestNhsNumber(int n);

// Every field, one per line, so a failed comparison shows exactly which field differs.
std::string Describe(const Practice& practice);
std::string Describe(const Patient& patient);
std::string Describe(const ClinicalEvent& event);
std::string Describe(const Activity& activity);
std::string Describe(const Medication& medication);

}  // namespace joinedup::store::testing
