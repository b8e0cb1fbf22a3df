#include "store/migrations.h"

#include <array>

namespace joinedup::store {
namespace {

// Migration 1: the registered population. See migrations.h for the conventions.
// CHECK ranges mirror the enum sizes in domain/population.h (asserted in store_columns.h).
constexpr std::string_view kPopulationSchema = R"sql(
CREATE TABLE practices (
  id                {{TEXT}} PRIMARY KEY,
  name              {{TEXT}} NOT NULL,
  pch               {{TEXT}} NOT NULL,
  postcode_district {{TEXT}} NOT NULL
);

CREATE TABLE patients (
  key                {{KEY}},
  id                 {{TEXT}} NOT NULL UNIQUE,
  nhs_number         {{TEXT}} UNIQUE,
  source_identifier  {{TEXT}} NOT NULL,
  family_name        {{TEXT}} NOT NULL,
  given_name         {{TEXT}} NOT NULL,
  birth_date         INTEGER NOT NULL,
  sex                SMALLINT NOT NULL CHECK (sex BETWEEN 0 AND 3),
  postcode_district  {{TEXT}} NOT NULL,
  deprivation_decile SMALLINT NOT NULL CHECK (deprivation_decile BETWEEN 0 AND 10),
  practice_id        {{TEXT}} REFERENCES practices (id),
  death_date         INTEGER
);
CREATE INDEX patients_by_practice ON patients (practice_id);

CREATE TABLE concepts (
  key         {{KEY}},
  code_system SMALLINT NOT NULL CHECK (code_system BETWEEN 0 AND 6),
  code        {{TEXT}} NOT NULL,
  term        {{TEXT}} NOT NULL,
  UNIQUE (code_system, code, term)
);

CREATE TABLE activities (
  key                 {{KEY}},
  id                  {{TEXT}} NOT NULL UNIQUE,
  patient_key         BIGINT NOT NULL REFERENCES patients (key),
  type                SMALLINT NOT NULL CHECK (type BETWEEN 0 AND 9),
  start_date          INTEGER NOT NULL,
  end_date            INTEGER,
  length_of_stay_days INTEGER NOT NULL,
  cost_pence          BIGINT NOT NULL,
  specialty           {{TEXT}} NOT NULL,
  practice_id         {{TEXT}} REFERENCES practices (id)
);
CREATE INDEX activities_by_patient ON activities (patient_key);

CREATE TABLE events (
  key              {{KEY}},
  id               {{TEXT}} NOT NULL UNIQUE,
  patient_key      BIGINT NOT NULL REFERENCES patients (key),
  kind             SMALLINT NOT NULL CHECK (kind BETWEEN 0 AND 1),
  concept_key      BIGINT NOT NULL REFERENCES concepts (key),
  date             INTEGER NOT NULL,
  source           SMALLINT NOT NULL CHECK (source BETWEEN 0 AND 1),
  admission_method SMALLINT NOT NULL CHECK (admission_method BETWEEN 0 AND 4),
  activity_key     BIGINT REFERENCES activities (key),
  value            DOUBLE PRECISION,
  unit             {{TEXT}} NOT NULL
);
CREATE INDEX events_by_patient ON events (patient_key);
-- Covers TopConditionCodes: an index-only scan of the Condition rows grouped by concept.
CREATE INDEX events_by_kind_concept ON events (kind, concept_key, patient_key);

CREATE TABLE medications (
  key         {{KEY}},
  id          {{TEXT}} NOT NULL UNIQUE,
  patient_key BIGINT NOT NULL REFERENCES patients (key),
  concept_key BIGINT NOT NULL REFERENCES concepts (key),
  start_date  INTEGER NOT NULL,
  end_date    INTEGER
);
CREATE INDEX medications_by_patient ON medications (patient_key);
)sql";

// Migration 2: stratification runs (domain/stratification_run.h). A run's models and their
// segment labels are rows of their own; each person's result is one row whose per-model
// (segment, rule) pairs are packed in `segments` (see EncodeSegments in sql_store.cc): a run
// writes a million of them, and one narrow row each is what makes that take a second.
// The results are clustered by (run_id, patient_key) (SQLite: WITHOUT ROWID), so a run's
// results are read in patient order and a person's history is one seek per run.
constexpr std::string_view kStratificationSchema = R"sql(
CREATE TABLE stratification_runs (
  id         {{KEY}},
  created_at {{TEXT}} NOT NULL DEFAULT ({{NOW}}),
  index_date INTEGER NOT NULL,
  people     BIGINT NOT NULL
);

CREATE TABLE stratification_run_models (
  run_id      BIGINT NOT NULL REFERENCES stratification_runs (id),
  model_index INTEGER NOT NULL,
  name        {{TEXT}} NOT NULL,
  version     {{TEXT}} NOT NULL,
  PRIMARY KEY (run_id, model_index)
);

CREATE TABLE stratification_run_segments (
  run_id        BIGINT NOT NULL,
  model_index   INTEGER NOT NULL,
  segment_index INTEGER NOT NULL,
  label         {{TEXT}} NOT NULL,
  PRIMARY KEY (run_id, model_index, segment_index),
  FOREIGN KEY (run_id, model_index) REFERENCES stratification_run_models (run_id, model_index)
);

CREATE TABLE stratification_results (
  run_id            BIGINT NOT NULL REFERENCES stratification_runs (id),
  patient_key       BIGINT NOT NULL REFERENCES patients (key),
  ltc_count         SMALLINT NOT NULL,
  efi_deficits      SMALLINT NOT NULL,
  hfrs_tenths       SMALLINT NOT NULL,
  charlson_1987     SMALLINT NOT NULL,
  charlson_quan2011 SMALLINT NOT NULL,
  elixhauser        SMALLINT NOT NULL,
  admission_risk    DOUBLE PRECISION NOT NULL,
  cost_12m_pence    BIGINT NOT NULL,
  segments          {{BLOB}} NOT NULL,
  PRIMARY KEY (run_id, patient_key)
){{WITHOUT_ROWID}};
)sql";

constexpr std::array<Migration, 2> kMigrations{{
    {1, "population", kPopulationSchema},
    {2, "stratification", kStratificationSchema},
}};
static_assert(kMigrations.back().version == kLatestSchemaVersion);

void ReplaceAll(std::string& text, std::string_view from, std::string_view to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

std::string SchemaMigrationsTableSql(Dialect dialect) {
  return Render(
      "CREATE TABLE IF NOT EXISTS schema_migrations (\n"
      "  version    INTEGER PRIMARY KEY,\n"
      "  name       {{TEXT}} NOT NULL,\n"
      "  applied_at {{TEXT}} NOT NULL DEFAULT ({{NOW}})\n"
      ")",
      dialect);
}

std::string Render(std::string_view sql, Dialect dialect) {
  std::string out(sql);
  const bool pg = dialect == Dialect::kPostgres;
  // SQLite: INTEGER PRIMARY KEY aliases the rowid (no AUTOINCREMENT: it costs a lookup per
  // insert and keys are never reused here anyway because nothing is deleted).
  ReplaceAll(out, "{{KEY}}",
             pg ? "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY" : "INTEGER PRIMARY KEY");
  ReplaceAll(out, "{{TEXT}}", pg ? "TEXT COLLATE \"C\"" : "TEXT");
  ReplaceAll(out, "{{BLOB}}", pg ? "BYTEA" : "BLOB");
  // SQLite: store the rows in the primary key's b-tree instead of beside a second one.
  ReplaceAll(out, "{{WITHOUT_ROWID}}", pg ? "" : " WITHOUT ROWID");
  // ISO 8601 UTC text in both, so the column reads the same whichever backend wrote it.
  ReplaceAll(out, "{{NOW}}",
             pg ? "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
                : "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')");
  return out;
}

}  // namespace joinedup::store
