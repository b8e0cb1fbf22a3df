// CaseloadStore: case episodes (domain/caseload.h) and the care-team memberships they carry
// (schema migration 11). Inherited by Store, as SecurityStore is.
//
// The store keeps, finds and refuses; the rules (who may enrol, capacity, waiting lists,
// grace periods) are the records service's. Times are int64 ms from the caller's clock. Every
// write runs in its own transaction; kConflict while a Writer is open on the same Store.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/date.h"
#include "core/result.h"
#include "domain/caseload.h"
#include "domain/population.h"

namespace joinedup::store {

using ::joinedup::CaseEpisode;
using ::joinedup::EpisodeStatus;

// One change to a case episode, written with the care-team memberships it implies in one
// transaction.
struct CaseEpisodeWrite {
  CaseEpisode episode;  // id 0: a new episode (version 1); else the episode's next state
  // For an existing episode: the version the change was made from (kConflict if it is no
  // longer the stored one: no lost update).
  int64_t expected_version = 0;
  // A team the person leaves (a discharge, or a transfer to another team): the team's
  // membership of the person ends at `leaving_until_ms` (the grace period for closing notes).
  int64_t leaving_team_id = 0;
  int64_t leaving_until_ms = 0;
};

struct CaseEpisodeQuery {
  int64_t care_team_id = 0;    // 0: any team
  int64_t coordinator_id = 0;  // 0: any coordinator
  int64_t patient_key = 0;     // 0: anyone
  bool open_only = true;       // waiting and active; false: ended ones too
  int limit = 1000;
};

struct CaseloadCount {
  int64_t active = 0;
  int64_t waiting = 0;
};

// What the escalation rules (records/escalation.h) read about people on a caseload: each
// record comes with the person's key and their open episode's id.
struct CaseloadActivity {
  int64_t patient_key = 0;
  int64_t episode_id = 0;
  Activity activity;
};
struct CaseloadEvent {
  int64_t patient_key = 0;
  int64_t episode_id = 0;
  ClinicalEvent event;
};
// A Task (kept as a document) about a person on a caseload that is still open and whose due
// time has passed.
struct CaseloadOverdueTask {
  int64_t patient_key = 0;
  int64_t episode_id = 0;
  std::string task_id;
  std::string due;  // the due time's end as resources::IndexInstant
};
// Open work on one person of a caseload board: their active Flags and open Tasks.
struct CaseloadWork {
  int64_t patient_key = 0;
  int64_t active_flags = 0;
  int64_t overdue_tasks = 0;  // due before `now`
  int64_t due_tasks = 0;      // due from `now` up to `soon`
};

// An open Task (kept as a document) for the task lists.
struct OpenTask {
  std::string id;
  int64_t patient_key = 0;
  std::string patient_id;
  int64_t version_id = 1;
  std::string json;
  std::string due;  // the due time's start as resources::IndexInstant; "" for none
};
struct OpenTaskQuery {
  int64_t care_team_id = 0;  // about people with an open episode on this team; or
  std::string owner;         // owned by Practitioner/<owner>
  int limit = 500;
};

class CaseloadStore {
 public:
  virtual ~CaseloadStore() = default;

  // Writes the episode and, unless it has ended, puts the person on its team's care team (a
  // membership with no end). The stored episode is returned with its id, version, and
  // updated_* as given. kConflict when the person already has another open episode, or the
  // version is stale; kNotFound naming the patient, team or coordinator that is not known.
  virtual Result<CaseEpisode> WriteCaseEpisode(const CaseEpisodeWrite& write) = 0;
  virtual Result<std::optional<CaseEpisode>> FindCaseEpisode(int64_t id) = 0;
  // Matching episodes: open ones by status (active first), then requested_at_ms, then id;
  // with ended ones, newest first after them.
  virtual Result<std::vector<CaseEpisode>> CaseEpisodes(const CaseEpisodeQuery& query) = 0;
  virtual Result<CaseloadCount> CountCaseload(int64_t care_team_id) = 0;
  // Caseload capacity of a team (migration 11): nullopt for none set. kNotFound for a team
  // that is not known.
  virtual Status SetCareTeamCapacity(int64_t care_team_id, std::optional<int64_t> capacity) = 0;
  virtual Result<std::optional<int64_t>> CareTeamCapacity(int64_t care_team_id) = 0;
  // Ends a team's membership of a person at `until_ms` (kept as it is if it already ends
  // sooner). Idempotent; kNotFound for a team that is not known.
  virtual Status EndCareTeamPatient(int64_t care_team_id, int64_t patient_key,
                                    int64_t until_ms) = 0;

  // The activities (by start date) and coded events (by date) on or after `since` of every
  // person with an open episode, in patient_key then date order.
  virtual Result<std::vector<CaseloadActivity>> CaseloadActivities(Date since) = 0;
  virtual Result<std::vector<CaseloadEvent>> CaseloadEvents(Date since) = 0;
  // Open Tasks (status not completed, cancelled, failed, rejected or entered-in-error) of
  // people with an open episode, coded `system|code`, whose due time (Task.restriction.period
  // .end, the `due` index) ended at or before `due_before` (resources::IndexInstant).
  virtual Result<std::vector<CaseloadOverdueTask>> CaseloadOverdueTasks(
      std::string_view system, std::string_view code, std::string_view due_before) = 0;
  // For each person with an open episode on the team who has any: active Flags, and open
  // Tasks due before `now` and from `now` up to `soon` (both resources::IndexInstant).
  virtual Result<std::vector<CaseloadWork>> CaseloadWorkOf(int64_t care_team_id,
                                                           std::string_view now,
                                                           std::string_view soon) = 0;
  // Open Tasks matching `query` (exactly one of care_team_id and owner), soonest due first
  // (those without a due time last), then by id; at most query.limit.
  virtual Result<std::vector<OpenTask>> OpenTasks(const OpenTaskQuery& query) = 0;
};

}  // namespace joinedup::store
