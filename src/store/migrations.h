// Versioned schema migrations shared by the SQLite and PostgreSQL backends (private to store).
//
// Each migration is one SQL script written once for both dialects; the few differences
// (surrogate key syntax, text collation, timestamps) are placeholders filled in by Render().
// A backend applies, in one transaction per migration, every migration whose version is
// above the highest recorded in `schema_migrations (version, applied_at)`, recording it in the
// same transaction. A database whose recorded version is above kLatestSchemaVersion was written
// by a newer program: opening it is kConflict and nothing is changed.
//
// Storage conventions (migration 1):
//   * Dates are INTEGER days since 1970-01-01 (Date::days_since_epoch()); an absent optional
//     date is NULL. Compact, and analytics loads them straight into columns.
//   * Enums are SMALLINT ordinals of the domain enums (CodeSystem, Sex, EventKind, EventSource,
//     AdmissionMethod, ActivityType) with CHECK constraints on the range. The ordinals are
//     therefore frozen: new enumerators go at the end (static_asserts in store_columns.h).
//   * Text ids are the source logical ids; each row also has an integer surrogate `key`
//     that child rows reference (8 bytes instead of a repeated text id on 30M events).
//   * Code system, code and display term of events and medications live once in `concepts`
//     (one row per distinct (system, code, term)); rows point at it. The term is kept exactly as
//     recorded, so a code seen with two terms has two concepts.
//   * Every population table carries the patient key (or is keyed by practice), so the
//     schema can later be distributed by practice/patient; `concepts` is reference data.
//   * Empty optional text references (practice, activity) are NULL, so foreign keys apply.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace joinedup::store {

enum class Dialect { kSqlite, kPostgres };

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;  // with {{KEY}}, {{TEXT}}, {{NOW}}, {{BLOB}}, {{WITHOUT_ROWID}}
  // Run after `sql` in one dialect only, verbatim: what placeholders cannot express (triggers).
  std::string_view sqlite_only;
  std::string_view postgres_only;
};

std::span<const Migration> Migrations();
inline constexpr int kLatestSchemaVersion = 12;

// Migration 4's indexes, `;`-separated plain statements (no placeholders), which a backend
// creates after it has folded the names of existing patients (SqlStore::FoldPatientNames), so
// the fill does not also have to update them row by row.
std::string_view ResourceIndexesSql();

// The migration's full script for `dialect`: Render(sql) then the dialect's own part.
std::string MigrationSql(const Migration& migration, Dialect dialect);

// The bootstrap statement creating `schema_migrations` if absent.
std::string SchemaMigrationsTableSql(Dialect dialect);

// `sql` with placeholders replaced for `dialect`:
//   {{KEY}}   an auto-assigned 64-bit integer primary key
//   {{TEXT}}  text compared bytewise (PostgreSQL: COLLATE "C", so order matches SQLite's)
//   {{NOW}}   the current timestamp expression
//   {{BLOB}}  a byte string (SQLite BLOB, PostgreSQL BYTEA)
//   {{WITHOUT_ROWID}}  after a CREATE TABLE's closing parenthesis: SQLite clusters the table
//             by its primary key; nothing in PostgreSQL
std::string Render(std::string_view sql, Dialect dialect);

}  // namespace joinedup::store
