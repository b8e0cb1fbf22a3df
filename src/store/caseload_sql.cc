// SqlStore's CaseloadStore methods (store/caseload_store.h), once in SQL for both backends.
#include <algorithm>
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

}  // namespace joinedup::store
