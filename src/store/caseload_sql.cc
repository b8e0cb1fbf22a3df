// SqlStore's CaseloadStore methods (store/caseload_store.h), once in SQL for both backends.
#include <algorithm>
#include <map>
#include <span>
#include <tuple>
#include <string>
#include <utility>

#include "store/sql_store.h"

namespace joinedup::store {
namespace {

constexpr std::string_view kEpisodeColumns =
    "SELECT e.id, e.patient_key, e.care_team_id, e.coordinator_id, e.status, e.source,"
    " e.requested_at_ms, e.started_at_ms, e.ended_at_ms, e.end_reason, e.end_note, e.updated_by,"
    " e.updated_at_ms, e.version, p.id FROM case_episodes e JOIN patients p ON p.key = e.patient_key ";

CaseEpisode DecodeEpisode(const SqlRow& row) {
  CaseEpisode e;
  e.id = row.Int(0);
  e.patient_key = row.Int(1);
  e.care_team_id = row.Int(2);
  e.coordinator_id = row.IsNull(3) ? 0 : row.Int(3);
  e.status = static_cast<EpisodeStatus>(row.Int(4));
  e.source = std::string(row.Text(5));
  e.requested_at_ms = row.Int(6);
  e.started_at_ms = row.Int(7);
  e.ended_at_ms = row.Int(8);
  e.end_reason = std::string(row.Text(9));
  e.end_note = std::string(row.Text(10));
  e.updated_by = row.Int(11);
  e.updated_at_ms = row.Int(12);
  e.version = row.Int(13);
  e.patient_id = std::string(row.Text(14));
  return e;
}

}  // namespace

Result<CaseEpisode> SqlStore::WriteCaseEpisode(const CaseEpisodeWrite& write) {
  CaseEpisode e = write.episode;
  if (static_cast<int>(e.status) >= kEpisodeStatusCount)
    return Error::Invalid("status is not an episode status");
  if (e.status == EpisodeStatus::kActive && e.coordinator_id == 0)
    return Error{ErrorCode::kInvalidInput, "an active episode names its care coordinator",
                 "coordinator"};
  JU_RETURN_IF_ERROR(InTransaction(false, [&]() -> Status {
    const SqlParam key = SqlParam::Int(e.patient_key);
    JU_ASSIGN_OR_RETURN(bool patient, Exists("SELECT 1 FROM patients WHERE key = ?1", {&key, 1}));
    if (!patient)
      return Error::NotFound("patient_key " + std::to_string(e.patient_key) +
                             " is not a known patient");
    const SqlParam team = SqlParam::Int(e.care_team_id);
    JU_ASSIGN_OR_RETURN(bool team_known,
                        Exists("SELECT 1 FROM care_teams WHERE id = ?1", {&team, 1}));
    if (!team_known)
      return Error::NotFound("care team " + std::to_string(e.care_team_id) + " is not known");
    auto check_user = [&](int64_t user) -> Status {
      const SqlParam id = SqlParam::Int(user);
      JU_ASSIGN_OR_RETURN(bool known, Exists("SELECT 1 FROM users WHERE id = ?1", {&id, 1}));
      if (!known) return Error::NotFound("user " + std::to_string(user) + " is not known");
      return Ok();
    };
    if (e.coordinator_id != 0) JU_RETURN_IF_ERROR(check_user(e.coordinator_id));
    JU_RETURN_IF_ERROR(check_user(e.updated_by));
    const SqlParam open_params[] = {key, SqlParam::Int(e.id)};
    JU_ASSIGN_OR_RETURN(bool other_open,
                        Exists("SELECT 1 FROM case_episodes WHERE patient_key = ?1 AND status < 2"
                               " AND id <> ?2",
                               open_params));
    if (other_open && e.status != EpisodeStatus::kEnded)
      return Error::Conflict("the person is already on a caseload");
    const SqlParam coordinator = e.coordinator_id ? SqlParam::Int(e.coordinator_id) : SqlParam::Null();
    const SqlParam status = SqlParam::Int(static_cast<int64_t>(e.status));
    if (e.id == 0) {
      e.version = 1;
      const SqlParam params[] = {key,
                                 team,
                                 coordinator,
                                 status,
                                 SqlParam::Text(e.source),
                                 SqlParam::Int(e.requested_at_ms),
                                 SqlParam::Int(e.started_at_ms),
                                 SqlParam::Int(e.ended_at_ms),
                                 SqlParam::Text(e.end_reason),
                                 SqlParam::Text(e.end_note),
                                 SqlParam::Int(e.updated_by),
                                 SqlParam::Int(e.updated_at_ms)};
      JU_RETURN_IF_ERROR(Query(
          "INSERT INTO case_episodes (patient_key, care_team_id, coordinator_id, status, source,"
          " requested_at_ms, started_at_ms, ended_at_ms, end_reason, end_note, updated_by,"
          " updated_at_ms, version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 1)"
          " RETURNING id",
          params, [&](const SqlRow& row) -> Status {
            e.id = row.Int(0);
            return Ok();
          }));
    } else {
      e.version = write.expected_version + 1;
      const SqlParam params[] = {SqlParam::Int(e.id),
                                 SqlParam::Int(write.expected_version),
                                 key,
                                 team,
                                 coordinator,
                                 status,
                                 SqlParam::Text(e.source),
                                 SqlParam::Int(e.requested_at_ms),
                                 SqlParam::Int(e.started_at_ms),
                                 SqlParam::Int(e.ended_at_ms),
                                 SqlParam::Text(e.end_reason),
                                 SqlParam::Text(e.end_note),
                                 SqlParam::Int(e.updated_by),
                                 SqlParam::Int(e.updated_at_ms)};
      bool written = false;
      JU_RETURN_IF_ERROR(Query(
          "UPDATE case_episodes SET patient_key = ?3, care_team_id = ?4, coordinator_id = ?5,"
          " status = ?6, source = ?7, requested_at_ms = ?8, started_at_ms = ?9,"
          " ended_at_ms = ?10, end_reason = ?11, end_note = ?12, updated_by = ?13,"
          " updated_at_ms = ?14, version = version + 1 WHERE id = ?1 AND version = ?2"
          " RETURNING id",
          params, [&](const SqlRow&) -> Status {
            written = true;
            return Ok();
          }));
      if (!written)
        return Error::Conflict("the episode has changed since version " +
                               std::to_string(write.expected_version));
    }
    if (write.leaving_team_id != 0)
      JU_RETURN_IF_ERROR(
          EndMembership(write.leaving_team_id, e.patient_key, write.leaving_until_ms));
    if (e.status != EpisodeStatus::kEnded) {
      const SqlParam member[] = {team, key};
      JU_RETURN_IF_ERROR(Execute(
          "INSERT INTO care_team_patients (care_team_id, patient_key) VALUES (?1, ?2)"
          " ON CONFLICT (care_team_id, patient_key) DO UPDATE SET until_ms = NULL",
          member));
    }
    return Ok();
  }));
  return e;
}

Status SqlStore::EndMembership(int64_t care_team_id, int64_t patient_key, int64_t until_ms) {
  const SqlParam params[] = {SqlParam::Int(care_team_id), SqlParam::Int(patient_key),
                             SqlParam::Int(until_ms)};
  return Execute(
      "UPDATE care_team_patients SET until_ms = ?3 WHERE care_team_id = ?1 AND patient_key = ?2"
      " AND (until_ms IS NULL OR until_ms > ?3)",
      params);
}

Status SqlStore::EndCareTeamPatient(int64_t care_team_id, int64_t patient_key, int64_t until_ms) {
  return InTransaction(false, [&]() -> Status {
    const SqlParam team = SqlParam::Int(care_team_id);
    JU_ASSIGN_OR_RETURN(bool known, Exists("SELECT 1 FROM care_teams WHERE id = ?1", {&team, 1}));
    if (!known)
      return Error::NotFound("care team " + std::to_string(care_team_id) + " is not known");
    return EndMembership(care_team_id, patient_key, until_ms);
  });
}

Result<std::optional<CaseEpisode>> SqlStore::FindCaseEpisode(int64_t id) {
  std::optional<CaseEpisode> found;
  const SqlParam param = SqlParam::Int(id);
  JU_RETURN_IF_ERROR(Query(std::string(kEpisodeColumns) + "WHERE e.id = ?1", {&param, 1},
                           [&](const SqlRow& row) -> Status {
                             found = DecodeEpisode(row);
                             return Ok();
                           }));
  return found;
}

Result<std::vector<CaseEpisode>> SqlStore::CaseEpisodes(const CaseEpisodeQuery& query) {
  std::vector<SqlParam> params;
  std::string where = "WHERE 1 = 1";
  auto bind = [&](SqlParam p) {
    params.push_back(std::move(p));
    return "?" + std::to_string(params.size());
  };
  if (query.care_team_id)
    where += " AND e.care_team_id = " + bind(SqlParam::Int(query.care_team_id));
  if (query.coordinator_id)
    where += " AND e.coordinator_id = " + bind(SqlParam::Int(query.coordinator_id));
  if (query.patient_key) where += " AND e.patient_key = " + bind(SqlParam::Int(query.patient_key));
  if (query.open_only) where += " AND e.status < 2";
  // Open episodes first (active, then waiting in the order asked), then ended, newest first.
  const std::string sql = std::string(kEpisodeColumns) + where +
                          " ORDER BY CASE e.status WHEN 1 THEN 0 WHEN 0 THEN 1 ELSE 2 END,"
                          " CASE WHEN e.status = 2 THEN -e.ended_at_ms ELSE e.requested_at_ms END,"
                          " e.id"
                          " LIMIT " +
                          bind(SqlParam::Int(std::max(1, query.limit)));
  std::vector<CaseEpisode> out;
  JU_RETURN_IF_ERROR(Query(sql, params, [&](const SqlRow& row) -> Status {
    out.push_back(DecodeEpisode(row));
    return Ok();
  }));
  return out;
}

Result<CaseloadCount> SqlStore::CountCaseload(int64_t care_team_id) {
  CaseloadCount count;
  const SqlParam param = SqlParam::Int(care_team_id);
  JU_RETURN_IF_ERROR(Query(
      "SELECT status, COUNT(*) FROM case_episodes WHERE care_team_id = ?1 AND status < 2"
      " GROUP BY status",
      {&param, 1}, [&](const SqlRow& row) -> Status {
        (row.Int(0) == 1 ? count.active : count.waiting) = row.Int(1);
        return Ok();
      }));
  return count;
}

Status SqlStore::SetCareTeamCapacity(int64_t care_team_id, std::optional<int64_t> capacity) {
  if (capacity && *capacity < 0)
    return Error{ErrorCode::kInvalidInput, "capacity must not be negative", "capacity"};
  return InTransaction(false, [&]() -> Status {
    const SqlParam team = SqlParam::Int(care_team_id);
    JU_ASSIGN_OR_RETURN(bool known, Exists("SELECT 1 FROM care_teams WHERE id = ?1", {&team, 1}));
    if (!known)
      return Error::NotFound("care team " + std::to_string(care_team_id) + " is not known");
    const SqlParam params[] = {team, capacity ? SqlParam::Int(*capacity) : SqlParam::Null()};
    return Execute("UPDATE care_teams SET capacity = ?2 WHERE id = ?1", params);
  });
}

Result<std::optional<int64_t>> SqlStore::CareTeamCapacity(int64_t care_team_id) {
  std::optional<int64_t> capacity;
  bool known = false;
  const SqlParam team = SqlParam::Int(care_team_id);
  JU_RETURN_IF_ERROR(Query("SELECT capacity FROM care_teams WHERE id = ?1", {&team, 1},
                           [&](const SqlRow& row) -> Status {
                             known = true;
                             if (!row.IsNull(0)) capacity = row.Int(0);
                             return Ok();
                           }));
  if (!known) return Error::NotFound("care team " + std::to_string(care_team_id) + " is not known");
  return capacity;
}

// People on a caseload: the open episodes, joined by person.
constexpr std::string_view kOpenEpisode =
    " JOIN case_episodes ce ON ce.patient_key = p.key AND ce.status < 2 ";
// A Task that is still to do (FHIR R4 task-status: every code but these).
constexpr std::string_view kTaskStillOpen =
    " AND ts.value NOT IN ('completed', 'cancelled', 'failed', 'rejected', 'entered-in-error')";

Result<std::vector<CaseloadActivity>> SqlStore::CaseloadActivities(Date since) {
  const SqlParam param = SqlParam::Int(since.days_since_epoch());
  std::vector<CaseloadActivity> out;
  JU_RETURN_IF_ERROR(Query(
      "SELECT a.id, p.id, a.type, a.start_date, a.end_date, a.length_of_stay_days, a.cost_pence,"
      " a.specialty, a.practice_id, p.key, ce.id"
      " FROM activities a JOIN patients p ON p.key = a.patient_key" +
          std::string(kOpenEpisode) +
          "WHERE a.start_date >= ?1 ORDER BY p.key, a.start_date, a.id",
      {&param, 1}, [&](const SqlRow& row) -> Status {
        JU_ASSIGN_OR_RETURN(Activity activity, DecodeActivity(row));
        out.push_back({row.Int(9), row.Int(10), std::move(activity)});
        return Ok();
      }));
  return out;
}

Result<std::vector<CaseloadEvent>> SqlStore::CaseloadEvents(Date since) {
  const SqlParam param = SqlParam::Int(since.days_since_epoch());
  std::vector<CaseloadEvent> out;
  JU_RETURN_IF_ERROR(Query(
      "SELECT e.id, p.id, e.kind, c.code_system, c.code, c.term, e.date, e.source,"
      " e.admission_method, a.id, e.value, e.unit, p.key, ce.id"
      " FROM events e JOIN patients p ON p.key = e.patient_key" +
          std::string(kOpenEpisode) +
          " JOIN concepts c ON c.key = e.concept_key"
          " LEFT JOIN activities a ON a.key = e.activity_key"
          " WHERE e.date >= ?1 ORDER BY p.key, e.date, e.id",
      {&param, 1}, [&](const SqlRow& row) -> Status {
        JU_ASSIGN_OR_RETURN(ClinicalEvent event, DecodeEvent(row));
        out.push_back({row.Int(12), row.Int(13), std::move(event)});
        return Ok();
      }));
  return out;
}

Result<std::vector<CaseloadOverdueTask>> SqlStore::CaseloadOverdueTasks(
    std::string_view system, std::string_view code, std::string_view due_before) {
  const SqlParam params[] = {SqlParam::Text(code), SqlParam::Text(system),
                             SqlParam::Text(due_before)};
  std::vector<CaseloadOverdueTask> out;
  JU_RETURN_IF_ERROR(Query(
      "SELECT d.id, d.patient_key, ce.id, MAX(td.qualifier) FROM documents d"
      " JOIN case_episodes ce ON ce.patient_key = d.patient_key AND ce.status < 2"
      " JOIN document_index tc ON tc.resource_type = 'Task' AND tc.id = d.id"
      "  AND tc.param = 'code' AND tc.value = ?1 AND tc.qualifier = ?2"
      " JOIN document_index ts ON ts.resource_type = 'Task' AND ts.id = d.id"
      "  AND ts.param = 'status'" +
          std::string(kTaskStillOpen) +
          " JOIN document_index td ON td.resource_type = 'Task' AND td.id = d.id"
          "  AND td.param = 'due' AND td.qualifier <= ?3"
          " WHERE d.resource_type = 'Task'"
          " GROUP BY d.id, d.patient_key, ce.id ORDER BY d.patient_key, d.id",
      params, [&](const SqlRow& row) -> Status {
        out.push_back({row.Int(1), row.Int(2), std::string(row.Text(0)), std::string(row.Text(3))});
        return Ok();
      }));
  return out;
}

Result<std::vector<CaseloadWork>> SqlStore::CaseloadWorkOf(int64_t care_team_id,
                                                           std::string_view now,
                                                           std::string_view soon) {
  const SqlParam params[] = {SqlParam::Int(care_team_id), SqlParam::Text(now),
                             SqlParam::Text(soon)};
  std::map<int64_t, CaseloadWork> work;
  // Active flags per person.
  JU_RETURN_IF_ERROR(Query(
      "SELECT d.patient_key, COUNT(*) FROM case_episodes ce"
      " JOIN documents d ON d.resource_type = 'Flag' AND d.patient_key = ce.patient_key"
      " JOIN document_index fs ON fs.resource_type = 'Flag' AND fs.id = d.id"
      "  AND fs.param = 'status' AND fs.value = 'active'"
      " WHERE ce.care_team_id = ?1 AND ce.status < 2 GROUP BY d.patient_key",
      std::span(params, 1), [&](const SqlRow& row) -> Status {
        CaseloadWork& w = work[row.Int(0)];
        w.patient_key = row.Int(0);
        w.active_flags = row.Int(1);
        return Ok();
      }));
  // Open tasks by when they fall due (a Task without a due time is neither).
  JU_RETURN_IF_ERROR(Query(
      "SELECT d.patient_key, SUM(CASE WHEN td.value < ?2 THEN 1 ELSE 0 END),"
      " SUM(CASE WHEN td.value >= ?2 AND td.value < ?3 THEN 1 ELSE 0 END) FROM case_episodes ce"
      " JOIN documents d ON d.resource_type = 'Task' AND d.patient_key = ce.patient_key"
      " JOIN document_index ts ON ts.resource_type = 'Task' AND ts.id = d.id"
      "  AND ts.param = 'status'" +
          std::string(kTaskStillOpen) +
          " JOIN document_index td ON td.resource_type = 'Task' AND td.id = d.id"
          "  AND td.param = 'due' AND td.value < ?3"
          " WHERE ce.care_team_id = ?1 AND ce.status < 2 GROUP BY d.patient_key",
      params, [&](const SqlRow& row) -> Status {
        CaseloadWork& w = work[row.Int(0)];
        w.patient_key = row.Int(0);
        w.overdue_tasks = row.Int(1);
        w.due_tasks = row.Int(2);
        return Ok();
      }));
  std::vector<CaseloadWork> out;
  out.reserve(work.size());
  for (auto& [key, w] : work) out.push_back(w);
  return out;
}

Result<std::vector<OpenTask>> SqlStore::OpenTasks(const OpenTaskQuery& query) {
  if ((query.care_team_id != 0) == !query.owner.empty())
    return Error::Invalid("open tasks: give a team or an owner");
  const SqlParam params[] = {query.care_team_id ? SqlParam::Int(query.care_team_id)
                                                : SqlParam::Text(query.owner)};
  const std::string whose =
      query.care_team_id
          ? " JOIN case_episodes ce ON ce.patient_key = d.patient_key AND ce.status < 2"
            "  AND ce.care_team_id = ?1"
          : " JOIN document_index tow ON tow.resource_type = 'Task' AND tow.id = d.id"
            "  AND tow.param = 'owner' AND tow.value = ?1 AND tow.qualifier = 'Practitioner'";
  std::vector<OpenTask> out;
  JU_RETURN_IF_ERROR(Query(
      "SELECT d.id, d.patient_key, p.id, d.version_id, d.json,"
      " (SELECT MIN(td.value) FROM document_index td WHERE td.resource_type = 'Task'"
      "  AND td.id = d.id AND td.param = 'due')"
      " FROM documents d JOIN patients p ON p.key = d.patient_key" +
          whose +
          " JOIN document_index ts ON ts.resource_type = 'Task' AND ts.id = d.id"
          "  AND ts.param = 'status'" +
          std::string(kTaskStillOpen) + " WHERE d.resource_type = 'Task'",
      params, [&](const SqlRow& row) -> Status {
        out.push_back({std::string(row.Text(0)), row.Int(1), std::string(row.Text(2)),
                       row.Int(3), std::string(row.Text(4)), std::string(row.Text(5))});
        return Ok();
      }));
  std::sort(out.begin(), out.end(), [](const OpenTask& a, const OpenTask& b) {
    return std::make_tuple(a.due.empty(), a.due, a.id) < std::make_tuple(b.due.empty(), b.due, b.id);
  });
  if (out.size() > static_cast<size_t>(std::max(1, query.limit)))
    out.resize(static_cast<size_t>(std::max(1, query.limit)));
  return out;
}

}  // namespace joinedup::store
