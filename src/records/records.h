// The records service: every read, search, write and export of a record goes through here, and
// each takes the same steps once — the access decision (scope and role, then the person), the
// store, then the audit event (written before anything is returned: no audit, no data). The
// FHIR API (src/api) is a codec over it; the web application's API calls it too, so neither
// decides access nor builds an audit event itself.
//
// A record the caller may not see is refused exactly as a missing one — the same ErrorCode and
// the same message — and the refusal is audited against the person. A write is decided on the
// record as it is and as it will be: a change of subject needs both people; a change of a
// Patient's registered practice is made only by a role that registers people (may create a
// Patient) acting for the practice the person is registered with now — a care-team
// relationship is not enough — and is audited as "registration-change" naming both practices.
// A Patient whose NHS number another record holds is refused (kConflict, the same words
// whoever holds it) and audited against the holder. Refusals are core Errors:
//   kForbidden     the caller's scopes or role do not allow this at all (says nothing about
//                  any record; audited for types about people);
//   kNotFound      no such record, or one the caller may not see;
//   kInvalidInput  the request or the resource breaks a rule; Error::field names the element;
//   kConflict, kPreconditionFailed, kUnavailable, kInternal  as the store reports them; a
//                  database's own words are marked Error::backend_text and must not reach a
//                  client (fhir::search::ToHttpError replaces them with a plain sentence).
//
// Which types exist, which are about people and which are audited come from the resource
// registry (resources/registry.h). One Records serves one request: make one per request, on
// that request's store connection.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "analytics/population_views.h"
#include "core/result.h"
#include "domain/disclosure.h"
#include "domain/population.h"
#include "domain/stratification_run.h"
#include "records/care_plan.h"
#include "http/message.h"
#include "resources/query.h"
#include "security/audit.h"
#include "security/policy.h"
#include "store/caseload_store.h"
#include "store/resource_store.h"
#include "store/security_store.h"

namespace joinedup::store {
class Store;
}

namespace joinedup::records {

// Who is asking.
struct Requester {
  security::Caller caller;  // break_glass_reason: only with a read of one record
  security::AuditActor actor;
};

// The requester of an HTTP request, from who the server authenticated. No break-glass reason:
// each API decides where it accepts one.
Requester RequesterOf(const http::Principal& principal, const http::HttpRequest& request);

// What a request does to records: the policy's interaction and how the audit trail names it.
enum class Operation : uint8_t { kRead, kVread, kHistory, kSearch, kCreate, kUpdate, kExport };

// A record as served: typed, and as FHIR JSON without meta.
struct Record {
  std::string type;
  std::string id;
  store::ResourceMeta meta;
  std::optional<int64_t> patient_key;  // the person it is about; empty for other types
  store::ResourceRecord record;
  std::string json;
};

// One version of a record, for vread and history.
struct Version {
  store::ResourceMeta meta;
  std::string json;
};

struct SearchOptions {
  const resources::PageCursor* after = nullptr;  // the page starts after this (the cursor's)
  bool want_total = false;
  std::string query = {};  // the search as the caller asked it, for the audit trail
};

struct Page {
  std::vector<Record> matches;
  std::vector<Record> included;               // _include / _revinclude, visible ones only
  std::optional<resources::PageCursor> next;  // where the next page starts; empty: none
  std::optional<int64_t> total;
  std::string warning;  // "" or a note on the results (the audit search's cap)
};

struct Written {
  Record record;  // as stored and served
  bool created = false;
};

// The case-finding worklist (Records::Worklist).
struct WorklistRequest {
  std::string practice_id;                   // "" every practice the caller sees
  std::string segment_group_id;              // "" anyone; else members of this segment (a Group id)
  std::string pch;                           // "" anywhere; else a Primary Care Home's practices
  std::optional<int> age_from, age_to;       // whole years today, inclusive
  std::optional<double> risk_from, risk_to;  // admission risk, [from, to)
  bool risers = false;  // only people whose risk rose since the run before, largest rise first
  bool not_on_caseload = false;  // leave out people already on a caseload (or its waiting list)
  int64_t offset = 0;
  int limit = 20;           // at most 5,000
  bool for_export = false;  // the rows leave joinedup (a CSV file): the audit event says so
};

struct Worklist {
  std::optional<int64_t> run_id;           // the latest stratification run; empty: none yet
  std::optional<int64_t> previous_run_id;  // the run before it, if any
  std::vector<Record> rows;                // RiskAssessment records, highest risk first
  // Risers: each row's person's RiskAssessment in the run before, by patient key.
  std::map<int64_t, Record> previous;
  std::set<int64_t> on_caseload;  // the rows' people with an open case episode, by key
  bool more = false;  // another page follows
};

// What the worklist's filters offer: the runs, and the practices with their Primary Care Homes.
struct WorklistOptions {
  std::optional<StratificationRun> run, previous_run;
  std::vector<Practice> practices;  // by id
};

// A break-glass or consent-override alert (Records::Alerts) and whether the privacy officer has
// acknowledged it.
struct Alert {
  store::AuditEvent event;
  std::optional<store::AuditEvent> acknowledgement;  // its note is the event's query
};

// Population views of a run before the small-number rule, kept by a process: a run never
// changes once saved, and the views take a scan of everyone. Kept for ten minutes (a person's
// registration can change meanwhile). Thread-safe.
class PopulationCache {
 public:
  std::shared_ptr<const analytics::PopulationViews> Find(int64_t run_id, int64_t now_ms);
  void Keep(std::shared_ptr<const analytics::PopulationViews> views, int64_t now_ms);

 private:
  static constexpr int64_t kLifetimeMs = 10 * 60 * 1000;
  std::mutex mutex_;
  std::map<int64_t, std::pair<int64_t, std::shared_ptr<const analytics::PopulationViews>>> kept_;
};

// Bulk Data $export: what is asked for.
struct ExportRequest {
  enum class Level : uint8_t { kSystem, kPatient, kGroup };
  Level level = Level::kSystem;
  std::string group_id;            // kGroup
  std::vector<std::string> types;  // _type; empty: every type the exporter writes
};

// Administration (Records::Accounts and the rest): a new account, and a change to one (what is
// set changes; the rest stays).
struct NewAccount {
  std::string username, display_name, organisation_id, password;
  store::Role role = store::Role::kGp;
  std::string patient_nhs_number;  // role patient only: the registered person the account is
};
struct AccountChange {
  std::optional<std::string> display_name, organisation_id;
  std::optional<store::Role> role;
  std::optional<bool> disabled;
};
struct CareTeamDetail {
  store::CareTeam team;
  std::vector<store::User> members;  // by username
};

// Caseloads (Records::Caseload and the rest, records/caseload.cc).
struct CaseloadEntry {
  store::CaseEpisode episode;
  Patient person;            // as registered: name, NHS number, birth date, practice
  std::string coordinator;   // the named coordinator's display name; "" for none
  std::string team;          // the team's name
  store::CaseloadWork work;  // active flags, open tasks overdue and due within a week
};
// An open task in a task list, with the person it is about.
struct TaskItem {
  store::OpenTask task;
  std::string patient_id;
  Patient person;
};
struct CaseloadBoard {
  store::CareTeam team;
  std::optional<int64_t> capacity;  // the team's caseload capacity; empty: none set
  store::CaseloadCount counts;      // every open episode of the team
  std::vector<CaseloadEntry> active, waiting;  // those the caller may see, in the store's order
  std::vector<store::User> coordinators;       // the team's staff members, by display name
};
struct Enrolment {
  std::string patient_id;
  int64_t care_team_id = 0;
  // The named care coordinator (a member of the team); 0: the team's waiting list until one
  // takes the person on. A team at capacity puts the person on its waiting list either way.
  int64_t coordinator_id = 0;
  std::string source = "case-finding";  // domain/caseload.h kEnrolmentSources
};

// A person's care and support plan as the caller may see it (Records::PlanOf).
struct PersonPlan {
  Record person;               // their Patient record
  std::optional<Record> plan;  // their current CarePlan (one per person); empty: none yet
  std::vector<Record> goals;   // every Goal of theirs
  std::vector<Record> tasks;   // their open Tasks
  std::vector<Record> flags;   // their active Flags
};

// How the service is run (joinedup serve's options).
struct Settings {
  // Break-glass reads a user may make in any 24 hours; the next is refused (answered as a
  // missing record) and the privacy officer alerted.
  int break_glass_daily_limit = 5;
  // Counts of people served as figures (a Group's quantity), whoever asks: a segment of a
  // system's population is counted across practices, so a small one could single people out
  // even to a clinician who may see some of them.
  DisclosureRule disclosure;
  // After a discharge or a transfer out, how long the team keeps its relationship with the
  // person for closing notes (issue 12: "a configurable grace period").
  int64_t caseload_grace_ms = 14LL * 24 * 60 * 60 * 1000;
};

class Records {
 public:
  Records(store::Store& store, Requester requester, security::Clock clock, Settings settings = {});

  const Requester& requester() const { return requester_; }
  // The service's clock (milliseconds since 1970): what it records as "now".
  int64_t Now() const { return clock_(); }

  // Whose records a search or export may return (the policy's relationship rule in the
  // store's terms).
  store::Visibility Visibility() const;

  // The first step of every operation: may the caller's scopes and role do `operation` on
  // `type` at all (for a write: create or update it)? kForbidden, audited, if not. Every
  // method below checks it first itself; a codec calls it before reading a request body so
  // that a caller without the right learns nothing from the body's problems.
  Status Permit(Operation operation, std::string_view type);

  Result<Record> Read(std::string_view type, std::string_view id);
  Result<Version> Vread(std::string_view type, std::string_view id, std::string_view version);
  // Every version, newest first; a record never written through the API has one.
  Result<std::vector<Version>> History(std::string_view type, std::string_view id);
  // One page of `request` (as fhir/search parses it): what the caller may see, its includes
  // too; everyone it names is on the audit event.
  Result<Page> Search(const resources::SearchRequest& request, const SearchOptions& options);

  // A new record of `type` from its FHIR JSON (an object of that type; its id and meta are
  // the server's): created with a new id.
  Result<Written> Create(std::string_view type, std::string_view json);
  // `type`/`id` replaced by `json` (whose id must be `id`), or created with that id if there is
  // none; `if_match`: the version the client last saw.
  Result<Written> Update(std::string_view type, std::string_view id, std::string_view json,
                         std::optional<int64_t> if_match);

  // The people to consider for case management from the latest stratification run: their
  // RiskAssessment records, highest emergency-admission risk first, of the people the caller
  // may see (a search of RiskAssessment, decided and audited as one).
  Result<Worklist> CaseFinding(const WorklistRequest& request);
  // For the same roles: kInvalidInput (field "risers") from CaseFinding when there is no run
  // before the latest to rise from.
  Result<WorklistOptions> CaseFindingOptions();

  // What a commissioner sees of the latest stratification run (analytics/population_views.h),
  // the small-number rule applied to every count: for roles that may read population figures
  // (Group). kNotFound when there is no run yet. Audited as a search of Group.
  Result<analytics::PopulationViews> Population(PopulationCache& cache);

  // Who has accessed a person's record, newest first (at most `limit` events of the trail
  // about them, the person's own excepted): for the person themselves (a patient's own record)
  // and for roles that read the audit trail. Anyone else: kNotFound, as for a missing person.
  // Audited as a search of AuditEvent about the person.
  Result<std::vector<store::AuditEvent>> AccessLog(std::string_view patient_id, int limit = 200);

  // The privacy officer's queue: alerts (break-glass, consent override, refused and over-limit
  // break-glass) newest first, with their acknowledgements. Roles that read the audit trail.
  Result<std::vector<Alert>> Alerts(int limit = 200);
  // Acknowledges alert `sequence` with a note (at least 10 characters): an event of its own
  // ("alert-acknowledged", the note as its query) naming the alert and its person. kNotFound
  // for no such alert; kConflict if it was acknowledged already.
  Status AcknowledgeAlert(int64_t sequence, std::string_view note);

  // May the caller export what `request` asks for? kForbidden (audited) for any type it may
  // not; kNotFound for a Group that does not exist.
  Status PermitExport(const ExportRequest& request);
  // The kick-off's audit event: `query` is what was asked, `accepted` whether a job started.
  Status AuditExport(bool accepted, std::string query);
  // May a line of an export file of `type` about `patient_key` go to the caller now (role,
  // scopes, relationship and the person's consent as they stand at download)?
  Result<bool> MayExportPerson(std::string_view type, int64_t patient_key);
  // A file downloaded: `query` names it, `people` everyone in what was served.
  Status AuditExportFile(std::string query, std::vector<int64_t> people);

  // ---- Administration: accounts, organisations and care teams ----------------------------
  // For the roles that may create and update the directory (administrators); anyone else gets
  // kForbidden. Every change is audited (user-create, user-update, user-password,
  // organisation-create, organisation-update, care-team-create, care-team-update; a care-team
  // change of people names them). A change of an account's role, organisation or status, and a
  // new password, end its sessions at once; no one changes their own role, organisation or
  // status. Errors name the field (Error::field) as the web form calls it.
  Status PermitAdministration();
  Result<std::vector<store::User>> Accounts();  // by username; never password hashes
  Result<std::vector<int64_t>> CareTeamsOfAccount(int64_t user_id);  // ascending ids
  Result<store::User> CreateAccount(const NewAccount& account);
  Result<store::User> ChangeAccount(int64_t user_id, const AccountChange& change);
  Status SetAccountPassword(int64_t user_id, std::string_view password);
  Result<std::vector<store::Organisation>> Organisations();
  // `replace`: change a stored one (kNotFound if none); else create (kConflict if taken).
  Result<store::Organisation> PutOrganisation(const store::Organisation& organisation,
                                              bool replace);
  Result<std::vector<store::CareTeam>> CareTeams();
  Result<CareTeamDetail> FindCareTeam(int64_t care_team_id);
  Result<store::CareTeam> CreateCareTeam(std::string_view name, std::string_view organisation_id);
  Status ChangeCareTeamMember(int64_t care_team_id, std::string_view username, bool remove);
  Status ChangeCareTeamPerson(int64_t care_team_id, std::string_view nhs_number, bool remove);
  // A team's caseload capacity (empty: none), audited as care-team-update.
  Status SetCaseloadCapacity(int64_t care_team_id, std::optional<int64_t> capacity);

  // ---- Caseloads (records/caseload.cc) -----------------------------------------------------
  // Case episodes are decided as EpisodeOfCare: creating or updating one needs the right to
  // create or update clinical records and a relationship with the person; a person the caller
  // may not see, or an episode of one, is refused as not known. A team's caseload is its
  // members' business: a caller who is not a member is told the team is not known, and may
  // enrol people into it only when the person is registered at the caller's own practice (a
  // GP's referral-free enrolment). Every call is audited against the people it names
  // (case-enrol, case-start, case-transfer, case-discharge; caseload and case-episodes for
  // reads). Errors name the field as the web form calls it; a stale `version` is
  // kPreconditionFailed.
  Result<std::vector<CaseloadBoard>> MyTeams();  // the caller's teams (counts only, no people)
  Result<CaseloadBoard> Caseload(int64_t care_team_id);
  Result<std::vector<CaseloadEntry>> MyCaseload();  // the caller's own open episodes
  Result<std::vector<CaseloadEntry>> CaseEpisodesOf(std::string_view patient_id);
  Result<CaseloadEntry> Enrol(const Enrolment& enrolment);
  // Takes a person on from the team's waiting list (the team must have room).
  Result<CaseloadEntry> StartEpisode(int64_t episode_id, int64_t version, int64_t coordinator_id);
  // To another coordinator of the same team, or to another team (its waiting list if it is
  // full); the team left keeps access for the grace period.
  Result<CaseloadEntry> TransferEpisode(int64_t episode_id, int64_t version, int64_t care_team_id,
                                        int64_t coordinator_id);
  Result<CaseloadEntry> DischargeEpisode(int64_t episode_id, int64_t version,
                                         std::string_view reason, std::string_view note);
  // Open tasks, soonest due first: the caller's own (Task.owner Practitioner/<username>), or
  // those about the people on a team's caseload (its members only; another team is not
  // known). Decided per person as a Task search — a person the caller may not see is left
  // out — and audited as one search ("tasks") naming them all.
  Result<std::vector<TaskItem>> MyTasks();
  Result<std::vector<TaskItem>> TeamTasks(int64_t care_team_id);

  // ---- Care plans (records/care_plan.cc, records/care_plan.h) -------------------------------
  // A person's plan is their one current CarePlan (status draft, active or on-hold) with their
  // Goals, open Tasks and active Flags; each part is read through Read or Search, so decided
  // and audited as those are, and a person the caller may not see is kNotFound as a missing
  // one. Each change is one Create or Update (one write, one audit event); `version` is the
  // version the client last saw (kPreconditionFailed if someone else changed it since). A
  // patient changes only their own plan and only its parts that are theirs (PlanSection::
  // person_writes, a goal's wording, progress and their refusal of it); any other element is
  // kForbidden naming the element (Error::field). What each writer writes is marked with who
  // they are (author and time).
  Result<PersonPlan> PlanOf(std::string_view patient_id);
  // kConflict (field "plan") if the person has a current plan already: one plan per person.
  Result<Written> CreatePlan(std::string_view patient_id, const PlanEdit& edit);
  Result<Written> EditPlan(std::string_view plan_id, int64_t version, const PlanEdit& edit);
  // A new goal, linked to the person's current plan if they have one (a second write).
  Result<Written> CreateGoal(std::string_view patient_id, const GoalEdit& goal);
  Result<Written> EditGoal(std::string_view goal_id, int64_t version, const GoalEdit& edit);

 private:
  struct Opened;
  Status AdoptPractice(std::string_view organisation_id);
  Result<Opened> Open(Operation operation, std::string_view type, std::string_view id);
  Status AuditRead(Operation operation, const Opened& opened);
  // `subtype` names the event when it is more than the operation's (a registration change).
  Status Audited(Operation operation, store::AuditOutcome outcome,
                 std::vector<int64_t> patient_keys, std::string query = {},
                 bool break_glass = false, std::string_view subtype = {});
  Error Denied(Operation operation, std::string_view type);
  // Whether the caller may see a version of a person-bound record (its own subject or
  // patient decides); the person's key is added to `keys` when it is someone new.
  // `sharing`: the record's own restriction as it stands now (its current version's), which
  // governs every version.
  Result<bool> VersionVisible(Operation operation, std::string_view type, std::string_view json,
                              std::vector<int64_t>& keys,
                              RecordSharing sharing = RecordSharing::kCareRelationship);
  // The policy for one record of the person: security::DecideRecord with its own restriction.
  Result<security::Decision> DecidePerson(
      Operation operation, std::string_view type, int64_t patient_key,
      RecordSharing sharing = RecordSharing::kCareRelationship);
  // An event the privacy officer searches for (`subtype`, e.g. break-glass-alert) and a line
  // on stderr, naming no one.
  Status AlertPrivacyOfficer(std::string_view subtype, std::optional<int64_t> patient_key);
  // A reason for breaking the glass was given: is the caller within their daily limit?
  Result<bool> WithinBreakGlassLimit();
  Result<Page> SearchAudit(const resources::SearchRequest& request, const SearchOptions& options);
  Result<Page> SearchGroups(const resources::SearchRequest& request, const SearchOptions& options);
  // A Patient's registration: its NHS number is no one else's, and only the practice the
  // person is registered with moves them. Returns the change of practice to audit ("" none).
  Result<std::string> CheckRegistration(const store::FoundResource* existing, const Patient& next,
                                        const std::vector<int64_t>& keys);
  Result<Written> Write(std::string_view type, std::optional<std::string_view> id,
                        std::string_view json, std::optional<int64_t> if_match);
  // Caseloads: Permit for the governing type, and never for a patient's account.
  Status PermitCaseload(Operation operation);
  // The episode `episode_id` if the caller may change it (kNotFound otherwise).
  Result<store::CaseEpisode> EpisodeToChange(int64_t episode_id, int64_t version);
  Result<CaseloadEntry> Entry(store::CaseEpisode episode);
  // The episodes matching `query` whose people the caller may see; their keys added to `keys`.
  Result<std::vector<TaskItem>> VisibleTasks(const store::OpenTaskQuery& query,
                                             std::string audit_query);
  Result<std::vector<CaseloadEntry>> VisibleEntries(const store::CaseEpisodeQuery& query,
                                                    std::vector<int64_t>& keys);
  Status CheckCoordinator(int64_t care_team_id, int64_t coordinator_id);
  Result<store::CaseEpisode> WriteEpisode(store::CaseEpisodeWrite write, std::string_view subtype);
  // A patient's change to their own co-owned record (security/policy.h kPersonCoOwnedTypes):
  // kForbidden naming the first element they may not change, audited (records/care_plan.cc).
  Status CheckPersonsChange(std::string_view type, const store::FoundResource& existing,
                            std::string_view next_json, const std::vector<int64_t>& keys);
  Result<std::vector<Record>> SearchAll(std::string_view type, std::string query);
  Result<Written> CreateConsent(std::string_view json);
  Result<Written> UpdateConsent(std::string_view id, std::string_view json,
                                std::optional<int64_t> if_match);

  store::Store& store_;
  store::ResourceStore& resources_;
  Requester requester_;
  security::Clock clock_;
  Settings settings_;
};

// The JSON of a found record as served, without meta: the client's text where it is kept and
// still current (fhir/served_text.h), else the typed record rendered — counts of people in it
// (a Group's quantity) under `counts`.
Result<std::string> RenderRecord(const store::FoundResource& found,
                                 const DisclosureRule& counts = {});

}  // namespace joinedup::records
