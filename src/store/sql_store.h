// SqlStore: the read side of Store written once in SQL for both backends (private to store).
//
// A backend supplies Query() (run one parameterised statement, hand each row to a callback)
// and its own Writer; the queries, the row decoding and the ordering rules live here, so the
// two backends cannot drift apart. SQL uses `?N` parameters; the PostgreSQL backend rewrites
// them to `$N`.
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "store/migrations.h"
#include "store/store.h"

namespace joinedup::store {

// A statement parameter: NULL, a 64-bit integer, a double, text or bytes (viewed, not owned: it
// must outlive the Query call).
struct SqlParam {
  enum class Kind { kNull, kInt, kText, kBlob, kReal };
  Kind kind = Kind::kNull;
  int64_t integer = 0;
  std::string_view text;
  double real = 0;

  static SqlParam Null() { return {}; }
  static SqlParam Int(int64_t v) { return {Kind::kInt, v, {}}; }
  static SqlParam Text(std::string_view v) { return {Kind::kText, 0, v}; }
  static SqlParam Blob(std::string_view v) { return {Kind::kBlob, 0, v}; }
  static SqlParam Real(double v) { return {Kind::kReal, 0, {}, v}; }
};

// One result row, valid only during the callback. Columns are 0-based.
class SqlRow {
 public:
  virtual ~SqlRow() = default;
  virtual bool IsNull(int column) const = 0;
  virtual int64_t Int(int column) const = 0;
  virtual double Real(int column) const = 0;
  virtual std::string_view Text(int column) const = 0;  // "" for NULL
  // Bytes of a BLOB/BYTEA column; valid until the next Blob call on this row.
  virtual std::string_view Blob(int column) const = 0;
};

// A person's per-model (segment, rule) pairs as stored in stratification_results.segments:
// for each model in order, segment then rule, each a little-endian int16 (4 bytes a model).
void EncodeSegments(const PersonRunResult& result, std::string& out);
// kInternal unless `bytes` holds exactly `models` pairs.
Status DecodeSegments(std::string_view bytes, size_t models, PersonRunResult& out);

// Row decoders shared with resource_sql.cc. DecodePatient reads columns 0–10 in the order
// p.id, p.nhs_number, p.source_identifier, p.family_name, p.given_name, p.birth_date, p.sex,
// p.postcode_district, p.deprivation_decile, p.practice_id, p.death_date; DecodeActivity
// columns 0–8: a.id, p.id, a.type, a.start_date, a.end_date, a.length_of_stay_days,
// a.cost_pence, a.specialty, a.practice_id. DecodeEvent columns 0–11: e.id, p.id, e.kind,
// c.code_system, c.code, c.term, e.date, e.source, e.admission_method, a.id, e.value, e.unit;
// DecodeMedication columns 0–6: m.id, p.id, c.code_system, c.code, c.term, m.start_date,
// m.end_date.
Result<Patient> DecodePatient(const SqlRow& row);
Result<Activity> DecodeActivity(const SqlRow& row);
Result<ClinicalEvent> DecodeEvent(const SqlRow& row);
Result<Medication> DecodeMedication(const SqlRow& row);
// stratification_results columns (alias s) as DecodeResult reads them, from column `at`.
extern const std::string_view kResultColumns;
Result<PersonRunResult> DecodeResult(const SqlRow& row, int at, size_t models);

// SaveRun's checks that need no database (see Store::SaveRun). Returns the results' indexes
// in ascending patient_key order — the order they are written in.
Result<std::vector<uint32_t>> CheckRunResults(const StratificationRun& run,
                                              std::span<const PersonRunResult> results);

struct PendingAudit;  // security_sql.cc

// What the stores on one database share within this process: one per SQLite file or
// PostgreSQL URL (a private in-memory database shares with no other store).
struct SharedDatabase {
  // SQLite: this process's write transactions (and Writers) queue here instead of in SQLite's
  // busy handler, which sleeps between tries (1 ms up to 100 ms) — under load those sleeps were
  // the server's p99. Timed: a writer waits no longer than SQLite's busy timeout would.
  std::timed_mutex write_mutex;
  // Audit group commit: appends queue here; whoever finds no group being written writes the
  // whole queue in one transaction (SqlStore::AppendAuditEvent).
  std::mutex audit_mutex;
  std::condition_variable audit_written;
  std::vector<PendingAudit*> audit_queue;
  bool audit_writing = false;
  // Members of each segment of a run's model (a Group's quantity), counted once in one scan
  // of the run: a run never changes once saved. Keyed by run id, its created_at (a deleted
  // run's id can come back) and model index; values by the segment's two stored bytes.
  std::mutex segment_counts_mutex;
  std::map<std::tuple<int64_t, std::string, int>, std::map<std::string, int64_t>> segment_counts;
};

class SqlStore : public Store {
 public:
  Result<TableCounts> Counts() override;
  Result<std::vector<Practice>> Practices() override;
  Result<std::optional<Patient>> FindPatient(std::string_view id) override;
  Result<std::optional<Patient>> FindPatientByNhsNumber(const NhsNumber& nhs_number) override;
  Result<std::vector<ClinicalEvent>> EventsForPatient(std::string_view patient_id) override;
  Result<std::optional<Activity>> FindActivity(std::string_view id) override;
  Result<std::vector<Activity>> ActivitiesForPatient(std::string_view patient_id) override;
  Result<std::vector<Medication>> MedicationsForPatient(std::string_view patient_id) override;
  Status ScanPatients(const std::function<Status(const Patient&)>& fn) override;
  Result<std::vector<RegisteredPerson>> RegisteredPeople() override;
  Result<std::vector<CodeFrequency>> TopConditionCodes(int limit) override;
  Result<std::vector<StratificationRun>> Runs() override;
  Result<std::optional<StratificationRun>> FindRun(int64_t id) override;
  Result<std::vector<PersonRunResult>> RunResults(int64_t run_id) override;
  Result<std::vector<std::pair<StratificationRun, PersonRunResult>>> PersonHistory(
      int64_t patient_key) override;

  // SecurityStore (security_sql.cc).
  Status PutOrganisation(const Organisation& organisation) override;
  Result<std::optional<Organisation>> FindOrganisation(std::string_view id) override;
  Result<std::vector<Organisation>> Organisations() override;
  Result<int64_t> AddUser(const User& user) override;
  Result<std::optional<User>> FindUser(std::string_view username) override;
  Result<std::optional<User>> FindUserById(int64_t id) override;
  Result<std::vector<User>> Users() override;
  Status SetUserDisabled(int64_t user_id, bool disabled) override;
  Status UpdateUser(const User& user) override;
  Status SetUserPasswordHash(int64_t user_id, std::string_view password_hash) override;
  Result<std::optional<int64_t>> PatientKeyForNhsNumber(const NhsNumber& nhs_number) override;
  Result<int64_t> AddCareTeam(std::string_view name, std::string_view organisation_id) override;
  Status AddCareTeamMember(int64_t care_team_id, int64_t user_id) override;
  Status AddCareTeamPatient(int64_t care_team_id, int64_t patient_key) override;
  Result<std::vector<int64_t>> CareTeamsOfUser(int64_t user_id) override;
  Result<std::vector<CareTeam>> CareTeams() override;
  Result<std::optional<CareTeam>> FindCareTeam(int64_t care_team_id) override;
  Result<std::vector<int64_t>> CareTeamMembers(int64_t care_team_id) override;
  Status RemoveCareTeamMember(int64_t care_team_id, int64_t user_id) override;
  Status RemoveCareTeamPatient(int64_t care_team_id, int64_t patient_key) override;
  Result<int64_t> RecordConsent(const Consent& consent) override;
  Result<std::optional<Consent>> LatestConsent(int64_t patient_key) override;
  Result<std::optional<PatientAccessFacts>> AccessFacts(int64_t patient_key,
                                                      int64_t as_at_ms) override;
  Status AddToken(const TokenRecord& token) override;
  Result<std::optional<TokenRecord>> FindToken(std::string_view hash_hex) override;
  Status RevokeToken(std::string_view hash_hex) override;
  Status TouchToken(std::string_view hash_hex, int64_t now_ms) override;
  Result<int64_t> RevokeUserTokens(int64_t user_id) override;
  Result<AuditEvent> AppendAuditEvent(AuditEvent event, const AuditSealer& seal) override;
  Status ScanAuditEvents(int64_t after_sequence,
                         const std::function<Status(const AuditEvent&)>& fn) override;
  Result<std::vector<AuditEvent>> SearchAuditEvents(const AuditQuery& query) override;

  // ResourceStore (resource_sql.cc).
  Result<std::optional<FoundResource>> FindResource(std::string_view resource_type,
                                                    std::string_view id) override;
  Result<std::vector<ResourceVersion>> ResourceHistory(std::string_view resource_type,
                                                       std::string_view id) override;
  Result<ResourcePage> SearchResources(const resources::SearchRequest& request,
                                       const resources::PageCursor* after,
                                       const Visibility& visibility, bool want_total) override;
  Result<ResourceMeta> PutResource(const ResourceWrite& write) override;
  Result<std::vector<FoundResource>> WorklistRows(const WorklistQuery& query,
                                                  const Visibility& visibility) override;
  Result<std::vector<int64_t>> SegmentMembers(std::string_view group_id,
                                              const Visibility& visibility) override;
  Result<std::vector<SignIn>> SignInsOf(std::string_view username, int64_t since_ms,
                                        int limit) override;
  Result<std::string> ServerSecret(std::string_view name, size_t bytes) override;

  // CaseloadStore (caseload_sql.cc).
  Result<CaseEpisode> WriteCaseEpisode(const CaseEpisodeWrite& write) override;
  Result<std::optional<CaseEpisode>> FindCaseEpisode(int64_t id) override;
  Result<std::vector<CaseEpisode>> CaseEpisodes(const CaseEpisodeQuery& query) override;
  Result<CaseloadCount> CountCaseload(int64_t care_team_id) override;
  Status SetCareTeamCapacity(int64_t care_team_id, std::optional<int64_t> capacity) override;
  Result<std::optional<int64_t>> CareTeamCapacity(int64_t care_team_id) override;
  Status EndCareTeamPatient(int64_t care_team_id, int64_t patient_key, int64_t until_ms) override;
  Result<std::vector<CaseloadActivity>> CaseloadActivities(Date since) override;
  Result<std::vector<CaseloadEvent>> CaseloadEvents(Date since) override;
  Result<std::vector<CaseloadOverdueTask>> CaseloadOverdueTasks(
      std::string_view system, std::string_view code, std::string_view due_before) override;
  Result<std::vector<CaseloadWork>> CaseloadWorkOf(int64_t care_team_id, std::string_view now,
                                                   std::string_view soon) override;
  Result<std::vector<OpenTask>> OpenTasks(const OpenTaskQuery& query) override;

  // The SQL condition (with bound parameters appended to `params`, numbered from
  // params.size() + 1) that `visibility` puts on a row whose person is `patients p`.
  // Public for tests: the policy test compares it with security::Decide.
  static std::string VisibilitySql(const Visibility& visibility, std::vector<SqlParam>& params);
  // The same for Kind::kRelationship as two disjoint conditions whose union is VisibilitySql's:
  // the caller's practice, and the other people on the caller's care teams whose consent
  // allows it. Searches run one SELECT per arm (see SearchResources).
  static std::array<std::string, 2> RelationshipArmsSql(const Visibility& visibility,
                                                        std::vector<SqlParam>& params);
  // "the care_team_patients row `alias` has not ended at `at`" (a bound parameter).
  static std::string CurrentMembershipSql(std::string_view alias, std::string_view at);
  // VisibilitySql for a person-bound document `d` (joined to `patients p`), with the document's
  // own sharing restriction (documents.sharing, domain/sharing.h) applied as
  // security::DecideRecord applies it: care team only needs a current care team of the user's
  // with the person; GP only needs the person registered at the user's organisation.
  static std::string DocumentVisibilitySql(const Visibility& visibility,
                                           std::vector<SqlParam>& params);

  // Writes a new version of a document-type resource (ResourceStore::PutResource's checks and
  // versions; migration 7's rows) inside the caller's transaction: PutResource's own, or a
  // Writer's (Writer::AddDocument, after flushing it). Takes the resource's lock.
  Status WriteDocument(const ResourceWrite& write, ResourceMeta& next);

 protected:
  virtual Dialect dialect() const = 0;
  // Joins the other stores of this process on the database named `key` (a file path or a
  // URL); until then, or with "", the store shares with no one.
  void ShareDatabase(const std::string& key);
  SharedDatabase& shared() { return *shared_; }
  const std::shared_ptr<SharedDatabase>& shared_database() const { return shared_; }
  // Serialises PutResource calls on one (type, id) across connections until the transaction
  // ends. SQLite's write lock (BEGIN IMMEDIATE) does so already; PostgreSQL takes an advisory
  // lock.
  virtual Status LockResource(std::string_view resource_type, std::string_view id) = 0;
  // Makes what `writer` has added visible to Query on this connection, inside its transaction
  // (PostgreSQL's writer stages rows until it flushes; SQLite's writes at once).
  virtual Status FlushWriter(Writer& writer) = 0;
  // Run by a backend's Migrate right after migration `version`'s script, in its transaction:
  // migration 4 folds existing patients' names, then builds ResourceIndexesSql().
  Status FinishMigration(int version);
  // The migration loop both backends run inside their migration transaction: reads the
  // recorded version, refuses a database newer than this program (kConflict, naming
  // `backend`), and applies each later migration — its script through `run_script` (several
  // statements, no parameters), FinishMigration, its row in schema_migrations.
  Status ApplyMigrations(std::string_view backend,
                         const std::function<Status(const std::string&)>& run_script);

  // Runs `body` in one write transaction: committed if it returns Ok, rolled back otherwise.
  // kConflict if a Writer is open. With `audit_lock`, appends to the audit chain are
  // serialised across connections until commit (SQLite's write lock does this anyway;
  // PostgreSQL takes a transaction-scoped advisory lock).
  virtual Status InTransaction(bool audit_lock, const std::function<Status()>& body) = 0;

  using RowFn = std::function<Status(const SqlRow&)>;
  // Runs `sql` (one statement, `?N` parameters) and calls `on_row` for each row; stops at and
  // returns the first error from the database (kUnavailable/kConflict) or from `on_row`.
  virtual Status Query(std::string_view sql, std::span<const SqlParam> params,
                       const RowFn& on_row) = 0;
  // As Query, for a statement whose best plan depends on its values (a search with a date range
  // or a name prefix: one day of birthdates wants the birth_date index, half a century the id
  // order): PostgreSQL plans it for each call instead of settling on a generic plan.
  virtual Status QueryPlannedPerCall(std::string_view sql, std::span<const SqlParam> params,
                                     const RowFn& on_row) {
    return Query(sql, params, on_row);
  }

  // For a backend's SaveRun, inside its transaction:
  // kNotFound naming the first result (in `order`) whose patient_key is not a stored patient.
  Status CheckPatientKeys(std::span<const PersonRunResult> results,
                          std::span<const uint32_t> order);
  // Inserts the run with its models and segment labels; returns the new run's id.
  Result<int64_t> InsertRun(const StratificationRun& run);

 private:
  // Appends `group` (in order) to the audit chain in one transaction; on failure, nothing.
  Status WriteAuditGroup(std::span<PendingAudit* const> group);

  std::shared_ptr<SharedDatabase> shared_ = std::make_shared<SharedDatabase>();
  Result<std::optional<Patient>> FindOnePatient(std::string_view where, const SqlParam& param);
  // AddUser's and UpdateUser's checks of the fields they write; the organisation and patient
  // are checked to exist inside the caller's transaction.
  Status CheckUserFields(const User& user, bool with_password);
  Status CheckUserReferences(const User& user);
  Result<std::vector<User>> LoadUsers(std::string_view where, std::span<const SqlParam> params);
  // True if `sql` (with `params`) returns a row.
  Result<bool> Exists(std::string_view sql, std::span<const SqlParam> params);
  // Inside a transaction: EndCareTeamPatient without the team check.
  Status EndMembership(int64_t care_team_id, int64_t patient_key, int64_t until_ms);
  Status Execute(std::string_view sql, std::span<const SqlParam> params);
  Result<std::vector<AuditEvent>> LoadAuditEvents(std::string_view where_order_limit,
                                                  std::span<const SqlParam> params);
  // Runs (with models and labels) matching `where` ("" for all, or "WHERE id = ?1"), newest
  // first.
  Result<std::vector<StratificationRun>> LoadRuns(std::string_view where,
                                                  std::span<const SqlParam> params);

  // resource_sql.cc
  struct SearchPlan;
  Result<ResourcePage> SearchInMemory(const resources::SearchRequest& request,
                                      const resources::PageCursor* after, bool want_total);
  Status AddIncludes(const resources::SearchRequest& request, const Visibility& visibility,
                     ResourcePage& page);
  Result<std::vector<FoundResource>> LoadRows(std::string_view resource_type,
                                              std::string_view where,
                                              std::span<const SqlParam> params,
                                              std::string_view order_limit);
  Result<std::vector<FoundResource>> CurrentJsonResources(std::string_view resource_type);
  // How many of `run`'s people model `model` puts in `segment` (SharedDatabase::segment_counts).
  Result<int64_t> SegmentMembers(const StratificationRun& run, int model, int segment);
  Result<std::optional<ResourceMeta>> CurrentMeta(std::string_view resource_type,
                                                  std::string_view id);
  Result<ResourceMeta> PutJsonResource(const ResourceWrite& write);
  // Document types (registry kept_as_document): migration 7's tables.
  Result<ResourcePage> SearchDocuments(const resources::SearchRequest& request,
                                       const resources::PageCursor* after,
                                       const Visibility& visibility, bool want_total);
  Result<std::vector<FoundResource>> LoadDocuments(std::string_view resource_type,
                                                   std::string_view where,
                                                   std::span<const SqlParam> params,
                                                   std::string_view order_limit);
  // Rows of rev.source_type (a document type) that refer to a match of `page`, visible ones
  // only, at most `limit`, by id.
  Result<std::vector<FoundResource>> DocumentsReferring(const resources::IncludeDef& rev,
                                                        const ResourcePage& page,
                                                        const Visibility& visibility, size_t limit);
  Result<ResourceMeta> PutDocumentResource(const ResourceWrite& write);
  Result<ResourceMeta> PutTypedResource(const ResourceWrite& write);
  // Stores the new version (and, for an imported record's first write, baseline_json as
  // version 1); sets `next` to the new meta.
  Status InsertVersions(const ResourceWrite& write, int64_t current_version, bool exists,
                        bool has_versions, std::optional<int64_t> patient_key, ResourceMeta& next);
};

// The SQL condition on an `activities` row that CohortLoadOptions::activities_from means
// (dates are stored as days since the epoch).
std::string ActivitiesFromCondition(Date from);

}  // namespace joinedup::store
