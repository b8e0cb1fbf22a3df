// Caseloads through the records service (records.h): enrolment in case management with a
// named care coordinator, a team's capacity and waiting list, transfer and discharge. An
// episode puts its person on the team's care team, so the team's members gain the legitimate
// relationship; a discharge or transfer out ends it after Settings::caseload_grace_ms.
#include <algorithm>
#include <map>
#include <string>
#include <utility>

#include "core/strings.h"
#include "records/records.h"

#include "resources/query.h"
#include "resources/registry.h"
#include "security/policy.h"
#include "store/store.h"

namespace joinedup::records {
namespace {

using store::AuditOutcome;
using store::CaseEpisode;
using store::EpisodeStatus;

// Case episodes are FHIR EpisodeOfCare, which the API does not serve: they are decided by the
// rights of the type the registry says governs it (Encounter's: clinical records).
const std::string_view kEpisodeType =
    resources::GoverningType(*resources::FindType("EpisodeOfCare"));

Error FieldError(ErrorCode code, std::string message, std::string field) {
  return Error{code, std::move(message), std::move(field)};
}

Error EpisodeNotKnown(int64_t id) {
  return Error::NotFound("EpisodeOfCare/" + std::to_string(id) + " is not known");
}
Error TeamNotKnown(int64_t id) {
  return FieldError(ErrorCode::kNotFound, "care team " + std::to_string(id) + " is not known",
                    "team");
}

bool IsMember(const security::Caller& caller, int64_t care_team_id) {
  return std::binary_search(caller.care_team_ids.begin(), caller.care_team_ids.end(),
                            care_team_id) ||
         std::find(caller.care_team_ids.begin(), caller.care_team_ids.end(), care_team_id) !=
             caller.care_team_ids.end();
}

std::string Query(const CaseEpisode& e) {
  return "episode=" + std::to_string(e.id) + "&team=" + std::to_string(e.care_team_id) +
         "&coordinator=" + std::to_string(e.coordinator_id) + "&status=" +
         std::string(EpisodeStatusName(e.status));
}

// A named coordinator holds the plan: a member of the team whose role may update clinical
// records (a health and social care assistant supports a caseload but does not hold one).
bool MayCoordinate(const store::User& user) {
  return !user.disabled &&
         security::RoleAllows(user.role, security::Category::kClinical,
                              security::Interaction::kUpdate) &&
         user.role != store::Role::kPatient;
}

}  // namespace

Status Records::CheckCoordinator(int64_t care_team_id, int64_t coordinator_id) {
  JU_ASSIGN_OR_RETURN(std::vector<int64_t> members, store_.CareTeamMembers(care_team_id));
  JU_ASSIGN_OR_RETURN(std::optional<store::User> user, store_.FindUserById(coordinator_id));
  if (!user || !MayCoordinate(*user) ||
      !std::binary_search(members.begin(), members.end(), coordinator_id))
    return FieldError(ErrorCode::kInvalidInput,
                      "Choose a care coordinator: a member of the team who holds care plans",
                      "coordinator");
  return Ok();
}

Result<CaseloadEntry> Records::Entry(CaseEpisode episode) {
  CaseloadEntry entry;
  JU_ASSIGN_OR_RETURN(std::optional<Patient> person, store_.FindPatient(episode.patient_id));
  if (person) entry.person = std::move(*person);
  if (episode.coordinator_id) {
    JU_ASSIGN_OR_RETURN(std::optional<store::User> user,
                        store_.FindUserById(episode.coordinator_id));
    if (user) entry.coordinator = user->display_name;
  }
  JU_ASSIGN_OR_RETURN(std::optional<store::CareTeam> team,
                      store_.FindCareTeam(episode.care_team_id));
  if (team) entry.team = team->name;
  entry.episode = std::move(episode);
  return entry;
}

// Every change to an episode: written (the store refuses a stale version) and audited.
Result<CaseEpisode> Records::WriteEpisode(store::CaseEpisodeWrite write,
                                          std::string_view subtype) {
  write.episode.updated_by = requester_.caller.user_id;
  write.episode.updated_at_ms = clock_();
  const bool created = write.episode.id == 0;
  auto written = store_.WriteCaseEpisode(write);
  if (!written.ok()) {
    Error error = written.take_error();
    if (error.code == ErrorCode::kConflict && !created)
      error.code = ErrorCode::kPreconditionFailed;  // someone changed it first
    if (error.code == ErrorCode::kConflict) error.field = "patient";
    return error;
  }
  JU_RETURN_IF_ERROR(Audited(created ? Operation::kCreate : Operation::kUpdate,
                             AuditOutcome::kSuccess, {written->patient_key}, Query(*written),
                             false, subtype));
  return written;
}

// The episode to change, if the caller may: the right to update clinical records, a member of
// the episode's team, and able to see its person; anything else is "not known" (audited
// against the person when there is one).
Result<CaseEpisode> Records::EpisodeToChange(int64_t episode_id, int64_t version) {
  JU_RETURN_IF_ERROR(PermitCaseload(Operation::kUpdate));
  JU_ASSIGN_OR_RETURN(std::optional<CaseEpisode> episode, store_.FindCaseEpisode(episode_id));
  if (!episode) {
    JU_RETURN_IF_ERROR(Audited(Operation::kUpdate, AuditOutcome::kMinorFailure, {},
                               "episode=" + std::to_string(episode_id), false, "case-episode"));
    return EpisodeNotKnown(episode_id);
  }
  JU_ASSIGN_OR_RETURN(security::Decision decision,
                      DecidePerson(Operation::kUpdate, kEpisodeType, episode->patient_key));
  if (!decision.allowed || !IsMember(requester_.caller, episode->care_team_id)) {
    JU_RETURN_IF_ERROR(Audited(Operation::kUpdate, AuditOutcome::kSeriousFailure,
                               {episode->patient_key}, "episode=" + std::to_string(episode_id),
                               false, "case-episode"));
    return EpisodeNotKnown(episode_id);
  }
  if (episode->status == EpisodeStatus::kEnded)
    return FieldError(ErrorCode::kConflict, "This episode has ended; enrol the person again",
                      "episode");
  if (version != episode->version)
    return Error{ErrorCode::kPreconditionFailed,
                 "Someone else changed this episode since you opened it (version " +
                     std::to_string(episode->version) + " now); reload and try again",
                 "version"};
  return *episode;
}

Status Records::PermitCaseload(Operation operation) {
  // Case management is staff work: a patient sees their own plan, not caseloads.
  if (requester_.caller.role == store::Role::kPatient) return Denied(operation, kEpisodeType);
  return Permit(operation, kEpisodeType);
}

Result<std::vector<CaseloadEntry>> Records::VisibleEntries(const store::CaseEpisodeQuery& query,
                                                           std::vector<int64_t>& keys) {
  JU_ASSIGN_OR_RETURN(std::vector<CaseEpisode> episodes, store_.CaseEpisodes(query));
  std::vector<CaseloadEntry> out;
  for (CaseEpisode& e : episodes) {
    JU_ASSIGN_OR_RETURN(security::Decision decision,
                        DecidePerson(Operation::kSearch, kEpisodeType, e.patient_key));
    if (!decision.allowed) continue;
    keys.push_back(e.patient_key);
    JU_ASSIGN_OR_RETURN(CaseloadEntry entry, Entry(std::move(e)));
    out.push_back(std::move(entry));
  }
  // The open work on each: flags, and tasks overdue or due within the week, per team.
  const int64_t now_s = clock_() / 1000;
  const std::string now = resources::IndexInstant(now_s);
  const std::string soon = resources::IndexInstant(now_s + 7 * 24 * 3600);
  std::map<int64_t, std::map<int64_t, store::CaseloadWork>> work;  // team → person → work
  for (CaseloadEntry& entry : out) {
    const int64_t team = entry.episode.care_team_id;
    if (!work.contains(team)) {
      JU_ASSIGN_OR_RETURN(std::vector<store::CaseloadWork> rows,
                          store_.CaseloadWorkOf(team, now, soon));
      for (store::CaseloadWork& w : rows) work[team][w.patient_key] = w;
      work[team];  // a team with no work is asked once
    }
    if (auto it = work[team].find(entry.episode.patient_key); it != work[team].end())
      entry.work = it->second;
    entry.work.patient_key = entry.episode.patient_key;
  }
  return out;
}

Result<std::vector<TaskItem>> Records::VisibleTasks(const store::OpenTaskQuery& query,
                                                    std::string audit_query) {
  JU_ASSIGN_OR_RETURN(std::vector<store::OpenTask> tasks, store_.OpenTasks(query));
  std::vector<TaskItem> out;
  std::vector<int64_t> keys;
  std::map<int64_t, std::optional<Patient>> people;  // decided once per person
  for (store::OpenTask& task : tasks) {
    if (!people.contains(task.patient_key)) {
      JU_ASSIGN_OR_RETURN(security::Decision decision,
                          DecidePerson(Operation::kSearch, "Task", task.patient_key));
      std::optional<Patient> person;
      if (decision.allowed) {
        JU_ASSIGN_OR_RETURN(person, store_.FindPatient(task.patient_id));
        keys.push_back(task.patient_key);
      }
      people[task.patient_key] = std::move(person);
    }
    const std::optional<Patient>& person = people[task.patient_key];
    if (!person) continue;
    std::string patient_id = task.patient_id;
    out.push_back({std::move(task), std::move(patient_id), *person});
  }
  JU_RETURN_IF_ERROR(Audited(Operation::kSearch, AuditOutcome::kSuccess, std::move(keys),
                             std::move(audit_query), false, "tasks"));
  return out;
}

Result<std::vector<TaskItem>> Records::MyTasks() {
  JU_RETURN_IF_ERROR(Permit(Operation::kSearch, "Task"));
  store::OpenTaskQuery query;
  query.owner = requester_.actor.username;
  if (query.owner.empty()) return std::vector<TaskItem>{};
  return VisibleTasks(query, "owner=Practitioner/" + query.owner);
}

Result<std::vector<TaskItem>> Records::TeamTasks(int64_t care_team_id) {
  JU_RETURN_IF_ERROR(Permit(Operation::kSearch, "Task"));
  JU_ASSIGN_OR_RETURN(std::optional<store::CareTeam> team, store_.FindCareTeam(care_team_id));
  if (!team || !IsMember(requester_.caller, care_team_id)) {
    JU_RETURN_IF_ERROR(Audited(Operation::kSearch, AuditOutcome::kMinorFailure, {},
                               "team=" + std::to_string(care_team_id), false, "tasks"));
    return TeamNotKnown(care_team_id);
  }
  store::OpenTaskQuery query;
  query.care_team_id = care_team_id;
  return VisibleTasks(query, "team=" + std::to_string(care_team_id));
}

Result<std::vector<CaseloadBoard>> Records::MyTeams() {
  JU_RETURN_IF_ERROR(PermitCaseload(Operation::kSearch));
  std::vector<CaseloadBoard> out;
  for (int64_t id : requester_.caller.care_team_ids) {
    JU_ASSIGN_OR_RETURN(std::optional<store::CareTeam> team, store_.FindCareTeam(id));
    if (!team) continue;
    CaseloadBoard board;
    board.capacity = team->capacity;
    board.team = std::move(*team);
    JU_ASSIGN_OR_RETURN(board.counts, store_.CountCaseload(id));
    out.push_back(std::move(board));
  }
  std::sort(out.begin(), out.end(), [](const CaseloadBoard& a, const CaseloadBoard& b) {
    return std::tie(a.team.name, a.team.id) < std::tie(b.team.name, b.team.id);
  });
  return out;
}

Result<CaseloadBoard> Records::Caseload(int64_t care_team_id) {
  JU_RETURN_IF_ERROR(PermitCaseload(Operation::kSearch));
  JU_ASSIGN_OR_RETURN(std::optional<store::CareTeam> team, store_.FindCareTeam(care_team_id));
  if (!team || !IsMember(requester_.caller, care_team_id)) {
    JU_RETURN_IF_ERROR(Audited(Operation::kSearch, AuditOutcome::kMinorFailure, {},
                               "team=" + std::to_string(care_team_id), false, "caseload"));
    return TeamNotKnown(care_team_id);
  }
  CaseloadBoard board;
  board.capacity = team->capacity;
  board.team = std::move(*team);
  JU_ASSIGN_OR_RETURN(board.counts, store_.CountCaseload(care_team_id));
  store::CaseEpisodeQuery query;
  query.care_team_id = care_team_id;
  // A person whose consent has since narrowed who may see them stays counted (the team's load
  // is real) but is not listed.
  std::vector<int64_t> keys;
  JU_ASSIGN_OR_RETURN(std::vector<CaseloadEntry> entries, VisibleEntries(query, keys));
  for (CaseloadEntry& entry : entries)
    (entry.episode.status == EpisodeStatus::kActive ? board.active : board.waiting)
        .push_back(std::move(entry));
  JU_ASSIGN_OR_RETURN(std::vector<int64_t> members, store_.CareTeamMembers(care_team_id));
  for (int64_t id : members) {
    JU_ASSIGN_OR_RETURN(std::optional<store::User> user, store_.FindUserById(id));
    if (user && MayCoordinate(*user)) {
      user->password_hash.clear();
      board.coordinators.push_back(std::move(*user));
    }
  }
  std::sort(board.coordinators.begin(), board.coordinators.end(),
            [](const store::User& a, const store::User& b) {
              return std::tie(a.display_name, a.id) < std::tie(b.display_name, b.id);
            });
  JU_RETURN_IF_ERROR(Audited(Operation::kSearch, AuditOutcome::kSuccess, std::move(keys),
                             "team=" + std::to_string(care_team_id), false, "caseload"));
  return board;
}

Result<std::vector<CaseloadEntry>> Records::MyCaseload() {
  JU_RETURN_IF_ERROR(PermitCaseload(Operation::kSearch));
  store::CaseEpisodeQuery query;
  query.coordinator_id = requester_.caller.user_id;
  std::vector<int64_t> keys;
  JU_ASSIGN_OR_RETURN(std::vector<CaseloadEntry> out, VisibleEntries(query, keys));
  JU_RETURN_IF_ERROR(Audited(Operation::kSearch, AuditOutcome::kSuccess, std::move(keys),
                             "coordinator=" + std::to_string(requester_.caller.user_id), false,
                             "caseload"));
  return out;
}

Result<std::vector<CaseloadEntry>> Records::CaseEpisodesOf(std::string_view patient_id) {
  JU_RETURN_IF_ERROR(PermitCaseload(Operation::kSearch));
  std::optional<int64_t> key;
  if (resources::IsValidFhirId(patient_id)) {
    JU_ASSIGN_OR_RETURN(std::optional<store::FoundResource> found,
                        resources_.FindResource("Patient", patient_id));
    if (found) key = found->patient_key;
  }
  bool allowed = false;
  if (key) {
    JU_ASSIGN_OR_RETURN(security::Decision decision,
                        DecidePerson(Operation::kSearch, kEpisodeType, *key));
    allowed = decision.allowed;
  }
  if (!allowed) {
    JU_RETURN_IF_ERROR(Audited(
        Operation::kSearch, key ? AuditOutcome::kSeriousFailure : AuditOutcome::kMinorFailure,
        key ? std::vector<int64_t>{*key} : std::vector<int64_t>{}, "case-episodes", false,
        "case-episodes"));
    return Error::NotFound("Patient/" + std::string(patient_id) + " is not known");
  }
  store::CaseEpisodeQuery query;
  query.patient_key = *key;
  query.open_only = false;
  JU_ASSIGN_OR_RETURN(std::vector<CaseEpisode> episodes, store_.CaseEpisodes(query));
  std::vector<CaseloadEntry> out;
  for (CaseEpisode& e : episodes) {
    JU_ASSIGN_OR_RETURN(CaseloadEntry entry, Entry(std::move(e)));
    out.push_back(std::move(entry));
  }
  JU_RETURN_IF_ERROR(Audited(Operation::kSearch, AuditOutcome::kSuccess, {*key}, "case-episodes",
                             false, "case-episodes"));
  return out;
}

Result<CaseloadEntry> Records::Enrol(const Enrolment& enrolment) {
  JU_RETURN_IF_ERROR(PermitCaseload(Operation::kCreate));
  const security::Caller& caller = requester_.caller;
  if (!IsEnrolmentSource(enrolment.source))
    return FieldError(ErrorCode::kInvalidInput, "Say how the person came to case management",
                      "source");
  // The person first: one the caller may not see is refused as one that does not exist.
  std::optional<store::FoundResource> found;
  if (resources::IsValidFhirId(enrolment.patient_id)) {
    JU_ASSIGN_OR_RETURN(found, resources_.FindResource("Patient", enrolment.patient_id));
  }
  bool visible = false;
  if (found && found->patient_key) {
    JU_ASSIGN_OR_RETURN(security::Decision decision,
                        DecidePerson(Operation::kCreate, kEpisodeType, *found->patient_key));
    visible = decision.allowed;
  }
  if (!visible) {
    const bool exists = found && found->patient_key;
    JU_RETURN_IF_ERROR(Audited(
        Operation::kCreate, exists ? AuditOutcome::kSeriousFailure : AuditOutcome::kMinorFailure,
        exists ? std::vector<int64_t>{*found->patient_key} : std::vector<int64_t>{},
        "team=" + std::to_string(enrolment.care_team_id), false, "case-enrol"));
    return FieldError(ErrorCode::kNotFound,
                      "Patient/" + enrolment.patient_id + " is not known", "patient");
  }
  const int64_t key = *found->patient_key;
  JU_ASSIGN_OR_RETURN(std::optional<Patient> person, store_.FindPatient(enrolment.patient_id));
  JU_ASSIGN_OR_RETURN(std::optional<store::CareTeam> team,
                      store_.FindCareTeam(enrolment.care_team_id));
  const bool own_practice = person && !person->practice_id.empty() &&
                            person->practice_id == caller.organisation_id;
  if (!team || (!IsMember(caller, enrolment.care_team_id) && !own_practice))
    return TeamNotKnown(enrolment.care_team_id);
  // Someone who declined sharing beyond their practice would be invisible to a team outside
  // it: record their consent to share first (issue 12: "shared with consent").
  JU_ASSIGN_OR_RETURN(std::optional<store::Consent> consent, store_.LatestConsent(key));
  if (consent && consent->decision == store::ConsentDecision::kDeclineBeyondOwnPractice &&
      (!person || team->organisation_id != person->practice_id))
    return FieldError(ErrorCode::kInvalidInput,
                      "This person has declined sharing their record beyond their GP practice. "
                      "Ask them, and record their consent to share with the care team first",
                      "patient");
  if (enrolment.coordinator_id) JU_RETURN_IF_ERROR(CheckCoordinator(team->id, enrolment.coordinator_id));
  const std::optional<int64_t> capacity = team->capacity;
  JU_ASSIGN_OR_RETURN(store::CaseloadCount count, store_.CountCaseload(team->id));
  const bool room = !capacity || count.active < *capacity;
  store::CaseEpisodeWrite write;
  CaseEpisode& e = write.episode;
  e.patient_key = key;
  e.patient_id = enrolment.patient_id;
  e.care_team_id = team->id;
  e.coordinator_id = enrolment.coordinator_id;
  e.source = enrolment.source;
  e.requested_at_ms = clock_();
  e.status = enrolment.coordinator_id && room ? EpisodeStatus::kActive : EpisodeStatus::kWaiting;
  if (e.status == EpisodeStatus::kActive) e.started_at_ms = e.requested_at_ms;
  JU_ASSIGN_OR_RETURN(CaseEpisode written, WriteEpisode(std::move(write), "case-enrol"));
  return Entry(std::move(written));
}

Result<CaseloadEntry> Records::StartEpisode(int64_t episode_id, int64_t version,
                                            int64_t coordinator_id) {
  JU_ASSIGN_OR_RETURN(CaseEpisode e, EpisodeToChange(episode_id, version));
  if (e.status != EpisodeStatus::kWaiting)
    return FieldError(ErrorCode::kConflict, "This person is already on a caseload", "episode");
  if (coordinator_id == 0) coordinator_id = e.coordinator_id;
  if (coordinator_id == 0)
    return FieldError(ErrorCode::kInvalidInput, "Choose a care coordinator", "coordinator");
  JU_RETURN_IF_ERROR(CheckCoordinator(e.care_team_id, coordinator_id));
  JU_ASSIGN_OR_RETURN(std::optional<int64_t> capacity, store_.CareTeamCapacity(e.care_team_id));
  JU_ASSIGN_OR_RETURN(store::CaseloadCount count, store_.CountCaseload(e.care_team_id));
  if (capacity && count.active >= *capacity)
    return FieldError(ErrorCode::kConflict,
                      "The team's caseload is full (" + std::to_string(count.active) + " of " +
                          std::to_string(*capacity) +
                          "): discharge or transfer someone, or raise the team's capacity",
                      "team");
  store::CaseEpisodeWrite write;
  write.expected_version = version;
  e.coordinator_id = coordinator_id;
  e.status = EpisodeStatus::kActive;
  e.started_at_ms = clock_();
  write.episode = std::move(e);
  JU_ASSIGN_OR_RETURN(CaseEpisode written, WriteEpisode(std::move(write), "case-start"));
  return Entry(std::move(written));
}

Result<CaseloadEntry> Records::TransferEpisode(int64_t episode_id, int64_t version,
                                               int64_t care_team_id, int64_t coordinator_id) {
  JU_ASSIGN_OR_RETURN(CaseEpisode e, EpisodeToChange(episode_id, version));
  if (care_team_id == 0) care_team_id = e.care_team_id;
  store::CaseEpisodeWrite write;
  write.expected_version = version;
  if (care_team_id != e.care_team_id) {
    JU_ASSIGN_OR_RETURN(std::optional<store::CareTeam> team, store_.FindCareTeam(care_team_id));
    if (!team) return TeamNotKnown(care_team_id);
    write.leaving_team_id = e.care_team_id;
    write.leaving_until_ms = clock_() + settings_.caseload_grace_ms;
    e.care_team_id = care_team_id;
    e.source = "transfer";
  }
  if (coordinator_id) JU_RETURN_IF_ERROR(CheckCoordinator(care_team_id, coordinator_id));
  if (!coordinator_id && write.leaving_team_id == 0)
    return FieldError(ErrorCode::kInvalidInput, "Choose the coordinator or team to transfer to",
                      "coordinator");
  // Into another team: its waiting list unless it has room and a coordinator is named.
  if (write.leaving_team_id != 0) {
    JU_ASSIGN_OR_RETURN(std::optional<int64_t> capacity, store_.CareTeamCapacity(care_team_id));
    JU_ASSIGN_OR_RETURN(store::CaseloadCount count, store_.CountCaseload(care_team_id));
    const bool room = !capacity || count.active < *capacity;
    e.status = coordinator_id && room ? EpisodeStatus::kActive : EpisodeStatus::kWaiting;
    e.requested_at_ms = clock_();
    e.started_at_ms = e.status == EpisodeStatus::kActive ? clock_() : 0;
  }
  e.coordinator_id = coordinator_id;
  write.episode = std::move(e);
  JU_ASSIGN_OR_RETURN(CaseEpisode written, WriteEpisode(std::move(write), "case-transfer"));
  return Entry(std::move(written));
}

Result<CaseloadEntry> Records::DischargeEpisode(int64_t episode_id, int64_t version,
                                                std::string_view reason, std::string_view note) {
  JU_ASSIGN_OR_RETURN(CaseEpisode e, EpisodeToChange(episode_id, version));
  if (FindDischargeReason(reason) == nullptr)
    return FieldError(ErrorCode::kInvalidInput, "Choose why the person is leaving case management",
                      "reason");
  const std::string trimmed(TrimSpace(note));
  if (reason == "other" && trimmed.empty())
    return FieldError(ErrorCode::kInvalidInput, "Say why, in a note", "note");
  store::CaseEpisodeWrite write;
  write.expected_version = version;
  write.leaving_team_id = e.care_team_id;
  write.leaving_until_ms = clock_() + settings_.caseload_grace_ms;
  e.status = EpisodeStatus::kEnded;
  e.ended_at_ms = clock_();
  e.end_reason = std::string(reason);
  e.end_note = trimmed;
  write.episode = std::move(e);
  JU_ASSIGN_OR_RETURN(CaseEpisode written, WriteEpisode(std::move(write), "case-discharge"));
  return Entry(std::move(written));
}

}  // namespace joinedup::records
