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

// Migration 3: identity, access control and audit (store/security_store.h). Times are int64
// milliseconds since the Unix epoch from the caller's clock. The audit trail is append-only:
// the dialect-specific triggers below refuse UPDATE and DELETE (and, in PostgreSQL, TRUNCATE)
// of its rows, and each event carries the hash chain (security/audit.h). Audit rows hold no
// foreign keys: an access attempt must be recorded whatever it names.
constexpr std::string_view kSecuritySchema = R"sql(
CREATE TABLE organisations (
  id   {{TEXT}} PRIMARY KEY,
  name {{TEXT}} NOT NULL,
  kind SMALLINT NOT NULL CHECK (kind BETWEEN 0 AND 4)
);

CREATE TABLE users (
  id              {{KEY}},
  username        {{TEXT}} NOT NULL UNIQUE,
  display_name    {{TEXT}} NOT NULL,
  organisation_id {{TEXT}} NOT NULL REFERENCES organisations (id),
  role            SMALLINT NOT NULL CHECK (role BETWEEN 0 AND 11),
  password_hash   {{TEXT}} NOT NULL,
  disabled        SMALLINT NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  patient_key     BIGINT REFERENCES patients (key),
  created_at      {{TEXT}} NOT NULL DEFAULT ({{NOW}}),
  CHECK ((role = 11) = (patient_key IS NOT NULL))
);

CREATE TABLE care_teams (
  id              {{KEY}},
  name            {{TEXT}} NOT NULL,
  organisation_id {{TEXT}} NOT NULL REFERENCES organisations (id)
);

CREATE TABLE care_team_members (
  care_team_id BIGINT NOT NULL REFERENCES care_teams (id),
  user_id      BIGINT NOT NULL REFERENCES users (id),
  PRIMARY KEY (care_team_id, user_id)
);
CREATE INDEX care_team_members_by_user ON care_team_members (user_id, care_team_id);

CREATE TABLE care_team_patients (
  care_team_id BIGINT NOT NULL REFERENCES care_teams (id),
  patient_key  BIGINT NOT NULL REFERENCES patients (key),
  PRIMARY KEY (care_team_id, patient_key)
);
CREATE INDEX care_team_patients_by_patient ON care_team_patients (patient_key, care_team_id);

CREATE TABLE consents (
  id             {{KEY}},
  patient_key    BIGINT NOT NULL REFERENCES patients (key),
  decision       SMALLINT NOT NULL CHECK (decision BETWEEN 0 AND 1),
  recorded_by    BIGINT NOT NULL REFERENCES users (id),
  recorded_at_ms BIGINT NOT NULL
);
CREATE INDEX consents_by_patient ON consents (patient_key, recorded_at_ms, id);

CREATE TABLE tokens (
  hash          {{TEXT}} PRIMARY KEY,
  user_id       BIGINT NOT NULL REFERENCES users (id),
  scopes        {{TEXT}} NOT NULL,
  issued_at_ms  BIGINT NOT NULL,
  expires_at_ms BIGINT NOT NULL,
  revoked       SMALLINT NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
);
CREATE INDEX tokens_by_user ON tokens (user_id);

CREATE TABLE audit_events (
  sequence           BIGINT PRIMARY KEY CHECK (sequence > 0),
  time_ms            BIGINT NOT NULL,
  action             {{TEXT}} NOT NULL CHECK (action IN ('C', 'R', 'U', 'D', 'E')),
  subtype            {{TEXT}} NOT NULL,
  outcome            SMALLINT NOT NULL CHECK (outcome IN (0, 4, 8, 12)),
  user_id            BIGINT,
  username           {{TEXT}} NOT NULL,
  role               {{TEXT}} NOT NULL,
  organisation_id    {{TEXT}} NOT NULL,
  request_id         {{TEXT}} NOT NULL,
  source_address     {{TEXT}} NOT NULL,
  query              {{TEXT}} NOT NULL,
  break_glass_reason {{TEXT}} NOT NULL,
  prev_hash          {{TEXT}} NOT NULL,
  hash               {{TEXT}} NOT NULL
);
CREATE INDEX audit_events_by_time ON audit_events (time_ms, sequence);
CREATE INDEX audit_events_by_user ON audit_events (user_id, time_ms, sequence);

CREATE TABLE audit_event_entities (
  sequence    BIGINT NOT NULL REFERENCES audit_events (sequence),
  patient_key BIGINT NOT NULL,
  PRIMARY KEY (sequence, patient_key)
);
CREATE INDEX audit_event_entities_by_patient ON audit_event_entities (patient_key, sequence);
)sql";

constexpr std::string_view kSecuritySqliteTriggers = R"sql(
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_event_entities_no_update BEFORE UPDATE ON audit_event_entities
BEGIN SELECT RAISE(ABORT, 'audit_event_entities is append-only'); END;
CREATE TRIGGER audit_event_entities_no_delete BEFORE DELETE ON audit_event_entities
BEGIN SELECT RAISE(ABORT, 'audit_event_entities is append-only'); END;
)sql";

constexpr std::string_view kSecurityPostgresTriggers = R"sql(
CREATE OR REPLACE FUNCTION joinedup_refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION joinedup_refuse_audit_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION joinedup_refuse_audit_change();
CREATE TRIGGER audit_event_entities_append_only BEFORE UPDATE OR DELETE ON audit_event_entities
  FOR EACH ROW EXECUTE FUNCTION joinedup_refuse_audit_change();
CREATE TRIGGER audit_event_entities_no_truncate BEFORE TRUNCATE ON audit_event_entities
  FOR EACH STATEMENT EXECUTE FUNCTION joinedup_refuse_audit_change();
)sql";

// Migration 4: the FHIR server (store/resource_store.h). `resource_versions` holds every
// version written through the API — contiguous from 1, the current one being the highest —
// with the text it was served as; a record only ever imported has none (version 1, no
// lastUpdated). `server_secrets` holds the keys every server process sharing the database
// signs with. Patients gain their names folded for search (core/text_fold.h); existing rows
// are folded by the backend right after this script, before kResourceIndexes are built.
constexpr std::string_view kResourceSchema = R"sql(
CREATE TABLE resource_versions (
  resource_type   {{TEXT}} NOT NULL,
  id              {{TEXT}} NOT NULL,
  version_id      BIGINT NOT NULL CHECK (version_id > 0),
  last_updated_ms BIGINT,
  patient_key     BIGINT,
  json            {{TEXT}} NOT NULL,
  PRIMARY KEY (resource_type, id, version_id)
){{WITHOUT_ROWID}};

CREATE TABLE server_secrets (
  name  {{TEXT}} PRIMARY KEY,
  value {{BLOB}} NOT NULL
);

ALTER TABLE patients ADD COLUMN family_folded {{TEXT}} NOT NULL DEFAULT '';
ALTER TABLE patients ADD COLUMN given_folded {{TEXT}} NOT NULL DEFAULT '';
)sql";

// Migration 5: a practice's people in id order. A staff member's searches read their practice's
// people from this index and their care teams' people from the care team lists
// (SqlStore::SearchResources) instead of walking the whole population in sort order.
constexpr std::string_view kPracticeOrderSchema = R"sql(
DROP INDEX IF EXISTS patients_by_practice;
CREATE INDEX patients_by_practice_and_id ON patients (practice_id, id);
)sql";

// Migration 6: nothing written is lost. A version written through the API keeps the client's
// resource whole as its `json`, and `rendering_hash` is the hash (core/strings.h StableHash64)
// of the typed rows' rendering at that moment: the text is served while the typed rows still
// render so (store/resource_store.h, StoredDocument). NULL: the text is itself the rendering
// (versions written before this migration, and imported records' baselines).
constexpr std::string_view kDocumentSchema = R"sql(
ALTER TABLE resource_versions ADD COLUMN rendering_hash BIGINT;
)sql";

// Migration 7: resource types kept as documents (resources/registry.h, kept_as_document), one
// pair of tables for all of them so a new type needs no schema of its own. `documents` holds
// each resource's current version whole (every version stays in resource_versions);
// `document_index` the values of its search parameters as the fhir layer extracted them
// (resources::IndexEntry): string params the folded text and the text as written, tokens the
// code and system, references the target's id and type. `patient_key` is the person a
// person-bound document is about: the visibility rule and `patient=` read it.
constexpr std::string_view kDocumentTypesSchema = R"sql(
CREATE TABLE documents (
  resource_type   {{TEXT}} NOT NULL,
  id              {{TEXT}} NOT NULL,
  patient_key     BIGINT REFERENCES patients (key),
  version_id      BIGINT NOT NULL CHECK (version_id > 0),
  last_updated_ms BIGINT NOT NULL,
  json            {{TEXT}} NOT NULL,
  PRIMARY KEY (resource_type, id)
);
CREATE INDEX documents_by_patient ON documents (patient_key, resource_type, id);

CREATE TABLE document_index (
  resource_type {{TEXT}} NOT NULL,
  id            {{TEXT}} NOT NULL,
  param         {{TEXT}} NOT NULL,
  value         {{TEXT}} NOT NULL,
  qualifier     {{TEXT}} NOT NULL
);
CREATE INDEX document_index_by_value ON document_index (resource_type, param, value, id);
CREATE INDEX document_index_by_resource ON document_index (resource_type, id);
)sql";

// Migration 8: the request id a client sent (X-Request-Id), kept beside the server's own
// (request_id), which is the one the audit trail is searched and joined to the access log by.
constexpr std::string_view kClientRequestIdSchema = R"sql(
ALTER TABLE audit_events ADD COLUMN client_request_id {{TEXT}} NOT NULL DEFAULT '';
)sql";

// Migration 9: when a token was last used, so that a web session ends after inactivity
// (0: not used since it was issued).
constexpr std::string_view kTokenUseSchema = R"sql(
ALTER TABLE tokens ADD COLUMN last_used_ms BIGINT NOT NULL DEFAULT 0;
)sql";

// Migration 10: the case-finding worklist walks a run's results in its order (highest
// emergency-admission risk first) and stops at a page of people the caller may see, instead of
// sorting the whole run on every page (Records::CaseFinding); and a person's results across
// runs (their page, their score history) are found by the person.
constexpr std::string_view kWorklistOrderSchema = R"sql(
CREATE INDEX stratification_results_by_risk ON stratification_results
  (run_id, admission_risk DESC, cost_12m_pence DESC, patient_key);
CREATE INDEX stratification_results_by_patient ON stratification_results (patient_key, run_id);
)sql";

// Migration 11: caseloads (domain/caseload.h). A care-team membership can end: `until_ms` is
// when the team's members stop having a relationship with the person (NULL: open), so a team
// keeps access for closing notes after a discharge or a transfer out and loses it then without
// anything having to run. A team may have a caseload capacity (NULL: none set). A case
// episode is one person's time on a team's caseload, waiting or active, then ended with a
// coded reason; a person has at most one open (not ended) episode.
constexpr std::string_view kCaseloadSchema = R"sql(
ALTER TABLE care_team_patients ADD COLUMN until_ms BIGINT;
ALTER TABLE care_teams ADD COLUMN capacity BIGINT CHECK (capacity IS NULL OR capacity >= 0);
CREATE TABLE case_episodes (
  id              {{KEY}},
  patient_key     BIGINT NOT NULL REFERENCES patients (key),
  care_team_id    BIGINT NOT NULL REFERENCES care_teams (id),
  coordinator_id  BIGINT REFERENCES users (id),
  status          SMALLINT NOT NULL CHECK (status BETWEEN 0 AND 2),
  source          {{TEXT}} NOT NULL,
  requested_at_ms BIGINT NOT NULL,
  started_at_ms   BIGINT NOT NULL DEFAULT 0,
  ended_at_ms     BIGINT NOT NULL DEFAULT 0,
  end_reason      {{TEXT}} NOT NULL DEFAULT '',
  end_note        {{TEXT}} NOT NULL DEFAULT '',
  updated_by      BIGINT NOT NULL REFERENCES users (id),
  updated_at_ms   BIGINT NOT NULL,
  version         BIGINT NOT NULL CHECK (version > 0),
  CHECK (status <> 1 OR coordinator_id IS NOT NULL)
);
CREATE UNIQUE INDEX case_episodes_one_open ON case_episodes (patient_key) WHERE status < 2;
CREATE INDEX case_episodes_by_team ON case_episodes (care_team_id, status, requested_at_ms, id);
CREATE INDEX case_episodes_by_coordinator ON case_episodes (coordinator_id, status);
CREATE INDEX case_episodes_by_patient ON case_episodes (patient_key, id);
)sql";

// Migration 12: a document's own sharing restriction (domain/sharing.h, RecordSharing: 0 every
// care relationship, 1 the care team only, 2 the registered practice only), which the
// visibility filter reads beside the person's (SqlStore::DocumentVisibilitySql), so a
// restricted record never reaches a page, a total or an include. The fhir layer reads it from
// the resource's record-sharing extension; the column is that extension's mirror.
constexpr std::string_view kRecordSharingSchema = R"sql(
ALTER TABLE documents ADD COLUMN sharing SMALLINT NOT NULL DEFAULT 0 CHECK (sharing BETWEEN 0 AND 2);
)sql";

constexpr std::array<Migration, 12> kMigrations{{
    {1, "population", kPopulationSchema, {}, {}},
    {2, "stratification", kStratificationSchema, {}, {}},
    {3, "security", kSecuritySchema, kSecuritySqliteTriggers, kSecurityPostgresTriggers},
    {4, "resources", kResourceSchema, {}, {}},
    {5, "practice order", kPracticeOrderSchema, {}, {}},
    {6, "documents kept whole", kDocumentSchema, {}, {}},
    {7, "document types", kDocumentTypesSchema, {}, {}},
    {8, "client request ids", kClientRequestIdSchema, {}, {}},
    {9, "token use", kTokenUseSchema, {}, {}},
    {10, "worklist order", kWorklistOrderSchema, {}, {}},
    {11, "caseloads", kCaseloadSchema, {}, {}},
    {12, "record sharing", kRecordSharingSchema, {}, {}},
}};
static_assert(kMigrations.back().version == kLatestSchemaVersion);

void ReplaceAll(std::string& text, std::string_view from, std::string_view to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

// Each search the FHIR API serves starts from one of these (EXPLAIN QUERY PLAN checked in
// tests/store/resource_store_test.cc): keyset pages in (key, id) order, identifier and code
// lookups, sign-in throttling by username.
std::string_view ResourceIndexesSql() {
  return R"sql(
CREATE INDEX patients_by_birth_date ON patients (birth_date, id);
CREATE INDEX patients_by_family ON patients (family_folded, id);
CREATE INDEX patients_by_given ON patients (given_folded, id);
CREATE INDEX patients_by_source_identifier ON patients (source_identifier);
CREATE INDEX concepts_by_code ON concepts (code);
CREATE INDEX events_by_patient_kind_date ON events (patient_key, kind, date);
CREATE INDEX activities_by_patient_start ON activities (patient_key, start_date);
CREATE INDEX audit_events_by_username ON audit_events (username, time_ms)
)sql";
}

std::string MigrationSql(const Migration& migration, Dialect dialect) {
  std::string sql = Render(migration.sql, dialect);
  sql += dialect == Dialect::kPostgres ? migration.postgres_only : migration.sqlite_only;
  return sql;
}

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
