#include "store_test_support.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace joinedup::store::testing {
namespace {

std::string PgExec(const std::string& url, const std::string& sql, std::string* first_value) {
  PGconn* conn = PQconnectdb(url.c_str());
  std::string error;
  if (PQstatus(conn) != CONNECTION_OK) {
    error = std::string("cannot connect to ") + url + ": " + PQerrorMessage(conn);
  } else {
    PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
    PGresult* result = PQexec(conn, sql.c_str());
    const ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      error = PQresultErrorMessage(result);
    } else if (first_value != nullptr && PQntuples(result) > 0) {
      *first_value = PQgetvalue(result, 0, 0);
    }
    PQclear(result);
  }
  PQfinish(conn);
  return error;
}

std::string SqliteExec(const std::string& path, const std::string& sql, std::string* first_value) {
  sqlite3* db = nullptr;
  std::string error;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    error = sqlite3_errmsg(db);
  } else {
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      error = sqlite3_errmsg(db);
    } else {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_ROW && first_value != nullptr) {
        const unsigned char* text = sqlite3_column_text(stmt, 0);
        *first_value = text != nullptr ? reinterpret_cast<const char*>(text) : "";
      } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        error = sqlite3_errmsg(db);
      }
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return error;
}

}  // namespace

std::string BackendName(Backend backend) {
  return backend == Backend::kSqlite ? "sqlite" : "postgresql";
}

std::unique_ptr<TestDatabase> TestDatabase::Create(Backend backend, std::string& skip_reason) {
  std::unique_ptr<TestDatabase> db(new TestDatabase());
  db->backend_ = backend;
  if (backend == Backend::kSqlite) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "joinedup-store-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
      return nullptr;
    }
    db->sqlite_dir_ = pattern;
    db->url_ = pattern + "/store.db";
    return db;
  }
  const char* url_file = std::getenv("JOINEDUP_TEST_POSTGRES_URL_FILE");
  if (url_file == nullptr || *url_file == '\0') {
    skip_reason =
        "JOINEDUP_TEST_POSTGRES_URL_FILE is not set: run through ctest, which starts a "
        "throwaway PostgreSQL server (scripts/pg-test-server.sh)";
    return nullptr;
  }
  std::ifstream in(url_file);
  std::string base;
  if (!in || !std::getline(in, base) || base.empty()) {
    ADD_FAILURE() << "cannot read the PostgreSQL test server URL from " << url_file
                  << " (did the postgres_server_start test fail?)";
    return nullptr;
  }
  db->pg_admin_url_ = base;
  static std::atomic<int> counter{0};
  db->pg_database_ = "joinedup_t_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  std::string error = PgExec(base, "CREATE DATABASE " + db->pg_database_, nullptr);
  if (!error.empty()) {
    ADD_FAILURE() << "cannot create a test database: " << error;
    return nullptr;
  }
  // The server's URL ends in /<database>; point it at ours.
  db->url_ = base.substr(0, base.rfind('/') + 1) + db->pg_database_;
  return db;
}

TestDatabase::~TestDatabase() {
  if (backend_ == Backend::kSqlite) {
    std::error_code ignored;
    std::filesystem::remove_all(sqlite_dir_, ignored);
  } else {
    std::string error =
        PgExec(pg_admin_url_, "DROP DATABASE IF EXISTS " + pg_database_ + " WITH (FORCE)", nullptr);
    if (!error.empty()) ADD_FAILURE() << "cannot drop test database: " << error;
  }
}

std::string TestDatabase::RawExec(const std::string& sql, std::string* first_value) {
  return backend_ == Backend::kSqlite ? SqliteExec(url_, sql, first_value)
                                      : PgExec(url_, sql, first_value);
}

NhsNumber TestNhsNumber(int n) {
  for (int candidate = n * 10;; ++candidate) {
    std::string first_nine = std::to_string(400000000 + candidate);
    auto check = NhsNumber::CheckDigit(first_nine);
    if (!check) continue;
    auto parsed = NhsNumber::Parse(first_nine + *check);
    if (parsed.ok()) return parsed.value();
  }
}

namespace {
std::string Opt(const std::optional<Date>& date) { return date ? date->ToString() : "(none)"; }
}  // namespace

std::string Describe(const Practice& p) {
  std::ostringstream out;
  out << "id=" << p.id << "\nname=" << p.name << "\npch=" << p.pch
      << "\npostcode_district=" << p.postcode_district << "\n";
  return out.str();
}

std::string Describe(const Patient& p) {
  std::ostringstream out;
  out << "id=" << p.id << "\nnhs_number=" << (p.nhs_number ? p.nhs_number->digits() : "(none)")
      << "\nsource_identifier=" << p.source_identifier << "\nfamily_name=" << p.family_name
      << "\ngiven_name=" << p.given_name << "\nbirth_date=" << p.birth_date.ToString()
      << "\nsex=" << SexCode(p.sex) << "\npostcode_district=" << p.postcode_district
      << "\ndeprivation_decile=" << p.deprivation_decile << "\npractice_id=" << p.practice_id
      << "\ndeath_date=" << Opt(p.death_date) << "\n";
  return out.str();
}

std::string Describe(const ClinicalEvent& e) {
  std::ostringstream out;
  out.precision(17);
  out << "id=" << e.id << "\npatient_id=" << e.patient_id
      << "\nkind=" << (e.kind == EventKind::kCondition ? "condition" : "observation")
      << "\nsystem=" << CodeSystemTag(e.system) << "\ncode=" << e.code << "\nterm=" << e.term
      << "\ndate=" << e.date.ToString()
      << "\nsource=" << (e.source == EventSource::kGp ? "gp" : "hospital")
      << "\nadmission_method=" << AdmissionMethodTag(e.admission_method)
      << "\nactivity_id=" << e.activity_id << "\nvalue=";
  if (e.value) {
    out << *e.value;
  } else {
    out << "(none)";
  }
  out << "\nunit=" << e.unit << "\n";
  return out.str();
}

std::string Describe(const Activity& a) {
  std::ostringstream out;
  out << "id=" << a.id << "\npatient_id=" << a.patient_id << "\ntype=" << ActivityTypeTag(a.type)
      << "\nstart=" << a.start.ToString() << "\nend=" << Opt(a.end)
      << "\nlength_of_stay_days=" << a.length_of_stay_days << "\ncost_pence=" << a.cost_pence
      << "\nspecialty=" << a.specialty << "\npractice_id=" << a.practice_id << "\n";
  return out.str();
}

std::string Describe(const Medication& m) {
  std::ostringstream out;
  out << "id=" << m.id << "\npatient_id=" << m.patient_id << "\nsystem=" << CodeSystemTag(m.system)
      << "\ncode=" << m.code << "\nterm=" << m.term << "\nstart=" << m.start.ToString()
      << "\nend=" << Opt(m.end) << "\n";
  return out.str();
}

}  // namespace joinedup::store::testing
