// SqlStore's SecurityStore methods: identity, care teams, consent, tokens and the audit trail,
// written once in SQL for both backends (see store/security_store.h for the contracts).
#include <algorithm>
#include <cstring>
#include <exception>
#include <unordered_map>
#include <utility>

#include "core/strings.h"
#include "store/sql_store.h"
#include "store/store_columns.h"

namespace joinedup::store {
namespace {

auto Ignore() {
  return [](const SqlRow&) { return Ok(); };
}

// Both backends must store exactly what they were given: PostgreSQL text cannot hold NUL or
// invalid UTF-8, so neither backend accepts them (the audit hash would not survive).
bool ValidUtf8(std::string_view text) {
  return text.find('\0') == std::string_view::npos && IsValidUtf8(text);
}

Status CheckText(std::string_view field, std::string_view text) {
  if (!ValidUtf8(text))
    return Error::Invalid(std::string(field) + " contains a NUL character or invalid UTF-8");
  return Ok();
}

constexpr std::string_view kUserColumns =
    "SELECT id, username, display_name, organisation_id, role, password_hash, disabled,"
    " patient_key FROM users ";

constexpr std::string_view kAuditColumns =
    "SELECT e.sequence, e.time_ms, e.action, e.subtype, e.outcome, e.user_id, e.username,"
    " e.role, e.organisation_id, e.request_id, e.source_address, e.query,"
    " e.break_glass_reason, e.prev_hash, e.hash, e.client_request_id FROM audit_events e ";

Result<AuditEvent> DecodeAuditEvent(const SqlRow& row) {
  AuditEvent e;
  e.sequence = row.Int(0);
  e.time_ms = row.Int(1);
  const std::string_view action = row.Text(2);
  if (action.size() != 1) return Error::Internal("store: audit_events.action is malformed");
  e.action = action[0];
  e.subtype = row.Text(3);
  const int64_t outcome = row.Int(4);
  if (outcome != 0 && outcome != 4 && outcome != 8 && outcome != 12)
    return Error::Internal("store: audit_events.outcome is " + std::to_string(outcome));
  e.outcome = static_cast<AuditOutcome>(outcome);
  if (!row.IsNull(5)) e.user_id = row.Int(5);
  e.username = row.Text(6);
  e.role = row.Text(7);
  e.organisation_id = row.Text(8);
  e.request_id = row.Text(9);
  e.source_address = row.Text(10);
  e.query = row.Text(11);
  e.break_glass_reason = row.Text(12);
  e.prev_hash = row.Text(13);
  e.hash = row.Text(14);
  e.client_request_id = row.Text(15);
  return e;
}

}  // namespace

Result<bool> SqlStore::Exists(std::string_view sql, std::span<const SqlParam> params) {
  bool found = false;
  JU_RETURN_IF_ERROR(Query(sql, params, [&](const SqlRow&) -> Status {
    found = true;
    return Ok();
  }));
  return found;
}

Status SqlStore::Execute(std::string_view sql, std::span<const SqlParam> params) {
  return Query(sql, params, Ignore());
}

// ---- Organisations and users --------------------------------------------------------------------

Status SqlStore::PutOrganisation(const Organisation& organisation) {
  if (organisation.id.empty()) return Error::Invalid("organisation: id is empty");
  if (organisation.name.empty())
    return Error::Invalid("organisation " + organisation.id + ": name is empty");
  JU_RETURN_IF_ERROR(CheckText("organisation id", organisation.id));
  JU_RETURN_IF_ERROR(CheckText("organisation name", organisation.name));
  const auto kind = static_cast<int64_t>(organisation.kind);
  if (kind < 0 || kind >= kOrganisationKindCount)
    return Error::Invalid("organisation " + organisation.id + ": unknown kind");
  const SqlParam params[] = {SqlParam::Text(organisation.id), SqlParam::Text(organisation.name),
                             SqlParam::Int(kind)};
  return InTransaction(false, [&]() -> Status {
    return Execute(
        "INSERT INTO organisations (id, name, kind) VALUES (?1, ?2, ?3)"
        " ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind",
        params);
  });
}

Result<std::optional<Organisation>> SqlStore::FindOrganisation(std::string_view id) {
  std::optional<Organisation> found;
  const SqlParam param = SqlParam::Text(id);
  JU_RETURN_IF_ERROR(Query("SELECT id, name, kind FROM organisations WHERE id = ?1", {&param, 1},
                           [&](const SqlRow& row) -> Status {
                             Organisation o{std::string(row.Text(0)), std::string(row.Text(1)),
                                            OrganisationKind::kGpPractice};
                             JU_ASSIGN_OR_RETURN(o.kind, EnumFromOrdinal<OrganisationKind>(
                                                             row.Int(2), kOrganisationKindCount,
                                                             "organisations.kind"));
                             found = std::move(o);
                             return Ok();
                           }));
  return found;
}

Result<std::vector<Organisation>> SqlStore::Organisations() {
  std::vector<Organisation> out;
  JU_RETURN_IF_ERROR(Query(
      "SELECT id, name, kind FROM organisations ORDER BY id", {}, [&](const SqlRow& row) -> Status {
        Organisation o{std::string(row.Text(0)), std::string(row.Text(1)),
                       OrganisationKind::kGpPractice};
        JU_ASSIGN_OR_RETURN(o.kind, EnumFromOrdinal<OrganisationKind>(
                                        row.Int(2), kOrganisationKindCount, "organisations.kind"));
        out.push_back(std::move(o));
        return Ok();
      }));
  return out;
}

Status SqlStore::CheckUserFields(const User& user, bool with_password) {
  if (user.username.empty()) return Error::Invalid("user: username is empty");
  for (auto [field, text] :
       {std::pair<std::string_view, std::string_view>{"username", user.username},
        {"display name", user.display_name},
        {"organisation", user.organisation_id},
        {"password hash", with_password ? std::string_view(user.password_hash) : "-"}}) {
    if (text.empty())
      return Error::Invalid("user " + user.username + ": " + std::string(field) + " is empty");
    JU_RETURN_IF_ERROR(CheckText("user " + std::string(field), text));
  }
  const auto role = static_cast<int64_t>(user.role);
  if (role < 0 || role >= kRoleCount)
    return Error::Invalid("user " + user.username + ": unknown role");
  if ((user.role == Role::kPatient) != user.patient_key.has_value())
    return Error::Invalid("user " + user.username +
                          (user.role == Role::kPatient
                               ? ": a patient account must name the patient it belongs to"
                               : ": only a patient account names a patient"));
  return Ok();
}

Status SqlStore::CheckUserReferences(const User& user) {
  const SqlParam org = SqlParam::Text(user.organisation_id);
  JU_ASSIGN_OR_RETURN(bool org_known,
                      Exists("SELECT 1 FROM organisations WHERE id = ?1", {&org, 1}));
  if (!org_known) return Error::NotFound("Organization/" + user.organisation_id + " is not known");
  if (user.patient_key) {
    const SqlParam key = SqlParam::Int(*user.patient_key);
    JU_ASSIGN_OR_RETURN(bool known, Exists("SELECT 1 FROM patients WHERE key = ?1", {&key, 1}));
    if (!known)
      return Error::NotFound("patient_key " + std::to_string(*user.patient_key) +
                             " is not a known patient");
  }
  return Ok();
}

Result<int64_t> SqlStore::AddUser(const User& user) {
  JU_RETURN_IF_ERROR(CheckUserFields(user, true));
  int64_t id = 0;
  JU_RETURN_IF_ERROR(InTransaction(false, [&]() -> Status {
    const SqlParam name = SqlParam::Text(user.username);
    JU_ASSIGN_OR_RETURN(bool taken, Exists("SELECT 1 FROM users WHERE username = ?1", {&name, 1}));
    if (taken) return Error::Conflict("username '" + user.username + "' is already taken");
    JU_RETURN_IF_ERROR(CheckUserReferences(user));
    const SqlParam params[] = {
        name,
        SqlParam::Text(user.display_name),
        SqlParam::Text(user.organisation_id),
        SqlParam::Int(static_cast<int64_t>(user.role)),
        SqlParam::Text(user.password_hash),
        SqlParam::Int(user.disabled ? 1 : 0),
        user.patient_key ? SqlParam::Int(*user.patient_key) : SqlParam::Null()};
    return Query(
        "INSERT INTO users (username, display_name, organisation_id, role, password_hash,"
        " disabled, patient_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
        params, [&](const SqlRow& row) -> Status {
          id = row.Int(0);
          return Ok();
        });
  }));
  return id;
}

Status SqlStore::UpdateUser(const User& user) {
  JU_RETURN_IF_ERROR(CheckUserFields(user, false));
  return InTransaction(false, [&]() -> Status {
    const SqlParam id = SqlParam::Int(user.id);
    JU_ASSIGN_OR_RETURN(bool known, Exists("SELECT 1 FROM users WHERE id = ?1", {&id, 1}));
    if (!known) return Error::NotFound("user " + std::to_string(user.id) + " is not known");
    JU_RETURN_IF_ERROR(CheckUserReferences(user));
    const SqlParam params[] = {
        id,
        SqlParam::Text(user.display_name),
        SqlParam::Text(user.organisation_id),
        SqlParam::Int(static_cast<int64_t>(user.role)),
        SqlParam::Int(user.disabled ? 1 : 0),
        user.patient_key ? SqlParam::Int(*user.patient_key) : SqlParam::Null()};
    return Execute(
        "UPDATE users SET display_name = ?2, organisation_id = ?3, role = ?4, disabled = ?5,"
        " patient_key = ?6 WHERE id = ?1",
        params);
  });
}

Status SqlStore::SetUserPasswordHash(int64_t user_id, std::string_view password_hash) {
  if (password_hash.empty()) return Error::Invalid("user: password hash is empty");
  JU_RETURN_IF_ERROR(CheckText("user password hash", password_hash));
  const SqlParam params[] = {SqlParam::Int(user_id), SqlParam::Text(password_hash)};
  return InTransaction(false, [&]() -> Status {
    JU_ASSIGN_OR_RETURN(bool known, Exists("SELECT 1 FROM users WHERE id = ?1", {params, 1}));
    if (!known) return Error::NotFound("user " + std::to_string(user_id) + " is not known");
    return Execute("UPDATE users SET password_hash = ?2 WHERE id = ?1", params);
  });
}

Result<std::vector<User>> SqlStore::LoadUsers(std::string_view where,
                                              std::span<const SqlParam> params) {
  std::vector<User> out;
  std::string sql(kUserColumns);
  sql += where;
  JU_RETURN_IF_ERROR(Query(sql, params, [&](const SqlRow& row) -> Status {
    User u;
    u.id = row.Int(0);
    u.username = row.Text(1);
    u.display_name = row.Text(2);
    u.organisation_id = row.Text(3);
    JU_ASSIGN_OR_RETURN(u.role, EnumFromOrdinal<Role>(row.Int(4), kRoleCount, "users.role"));
    u.password_hash = row.Text(5);
    u.disabled = row.Int(6) != 0;
    if (!row.IsNull(7)) u.patient_key = row.Int(7);
    out.push_back(std::move(u));
    return Ok();
  }));
  return out;
}

Result<std::optional<User>> SqlStore::FindUser(std::string_view username) {
  const SqlParam param = SqlParam::Text(username);
  JU_ASSIGN_OR_RETURN(std::vector<User> users, LoadUsers("WHERE username = ?1", {&param, 1}));
  if (users.empty()) return std::optional<User>();
  return std::optional<User>(std::move(users.front()));
}

Result<std::optional<User>> SqlStore::FindUserById(int64_t id) {
  const SqlParam param = SqlParam::Int(id);
  JU_ASSIGN_OR_RETURN(std::vector<User> users, LoadUsers("WHERE id = ?1", {&param, 1}));
  if (users.empty()) return std::optional<User>();
  return std::optional<User>(std::move(users.front()));
}

Result<std::vector<User>> SqlStore::Users() { return LoadUsers("ORDER BY username", {}); }

Status SqlStore::SetUserDisabled(int64_t user_id, bool disabled) {
  const SqlParam params[] = {SqlParam::Int(user_id), SqlParam::Int(disabled ? 1 : 0)};
  return InTransaction(false, [&]() -> Status {
    JU_ASSIGN_OR_RETURN(bool known, Exists("SELECT 1 FROM users WHERE id = ?1", {params, 1}));
    if (!known) return Error::NotFound("user " + std::to_string(user_id) + " is not known");
    return Execute("UPDATE users SET disabled = ?2 WHERE id = ?1", params);
  });
}

Result<std::optional<int64_t>> SqlStore::PatientKeyForNhsNumber(const NhsNumber& nhs_number) {
  std::optional<int64_t> key;
  const SqlParam param = SqlParam::Text(nhs_number.digits());
  JU_RETURN_IF_ERROR(Query("SELECT key FROM patients WHERE nhs_number = ?1", {&param, 1},
                           [&](const SqlRow& row) -> Status {
                             key = row.Int(0);
                             return Ok();
                           }));
  return key;
}

// ---- Care teams ---------------------------------------------------------------------------------

Result<int64_t> SqlStore::AddCareTeam(std::string_view name, std::string_view organisation_id) {
  if (name.empty()) return Error::Invalid("care team: name is empty");
  JU_RETURN_IF_ERROR(CheckText("care team name", name));
  int64_t id = 0;
  JU_RETURN_IF_ERROR(InTransaction(false, [&]() -> Status {
    const SqlParam org = SqlParam::Text(organisation_id);
    JU_ASSIGN_OR_RETURN(bool known, Exists("SELECT 1 FROM organisations WHERE id = ?1", {&org, 1}));
    if (!known)
      return Error::NotFound("Organization/" + std::string(organisation_id) + " is not known");
    const SqlParam params[] = {SqlParam::Text(name), org};
    return Query("INSERT INTO care_teams (name, organisation_id) VALUES (?1, ?2) RETURNING id",
                 params, [&](const SqlRow& row) -> Status {
                   id = row.Int(0);
                   return Ok();
                 });
  }));
  return id;
}

Status SqlStore::AddCareTeamMember(int64_t care_team_id, int64_t user_id) {
  const SqlParam params[] = {SqlParam::Int(care_team_id), SqlParam::Int(user_id)};
  return InTransaction(false, [&]() -> Status {
    JU_ASSIGN_OR_RETURN(bool team, Exists("SELECT 1 FROM care_teams WHERE id = ?1", {params, 1}));
    if (!team)
      return Error::NotFound("care team " + std::to_string(care_team_id) + " is not known");
    JU_ASSIGN_OR_RETURN(bool user, Exists("SELECT 1 FROM users WHERE id = ?1", {params + 1, 1}));
    if (!user) return Error::NotFound("user " + std::to_string(user_id) + " is not known");
    return Execute(
        "INSERT INTO care_team_members (care_team_id, user_id) VALUES (?1, ?2)"
        " ON CONFLICT DO NOTHING",
        params);
  });
}

Status SqlStore::AddCareTeamPatient(int64_t care_team_id, int64_t patient_key) {
  const SqlParam params[] = {SqlParam::Int(care_team_id), SqlParam::Int(patient_key)};
  return InTransaction(false, [&]() -> Status {
    JU_ASSIGN_OR_RETURN(bool team, Exists("SELECT 1 FROM care_teams WHERE id = ?1", {params, 1}));
    if (!team)
      return Error::NotFound("care team " + std::to_string(care_team_id) + " is not known");
    JU_ASSIGN_OR_RETURN(bool patient,
                        Exists("SELECT 1 FROM patients WHERE key = ?1", {params + 1, 1}));
    if (!patient)
      return Error::NotFound("patient_key " + std::to_string(patient_key) +
                             " is not a known patient");
    return Execute(
        "INSERT INTO care_team_patients (care_team_id, patient_key) VALUES (?1, ?2)"
        " ON CONFLICT (care_team_id, patient_key) DO UPDATE SET until_ms = NULL",
        params);
  });
}

Result<std::vector<int64_t>> SqlStore::CareTeamsOfUser(int64_t user_id) {
  std::vector<int64_t> out;
  const SqlParam param = SqlParam::Int(user_id);
  JU_RETURN_IF_ERROR(
      Query("SELECT care_team_id FROM care_team_members WHERE user_id = ?1 ORDER BY care_team_id",
            {&param, 1}, [&](const SqlRow& row) -> Status {
              out.push_back(row.Int(0));
              return Ok();
            }));
  return out;
}

Result<std::vector<CareTeam>> SqlStore::CareTeams() {
  std::vector<CareTeam> out;
  JU_RETURN_IF_ERROR(
      Query("SELECT t.id, t.name, t.organisation_id,"
            " (SELECT COUNT(*) FROM care_team_members m WHERE m.care_team_id = t.id),"
            " (SELECT COUNT(*) FROM care_team_patients p WHERE p.care_team_id = t.id"
            " AND p.until_ms IS NULL), t.capacity"
            " FROM care_teams t ORDER BY t.name, t.id",
            {}, [&](const SqlRow& row) -> Status {
              out.push_back({row.Int(0), std::string(row.Text(1)), std::string(row.Text(2)),
                             row.Int(3), row.Int(4),
                             row.IsNull(5) ? std::nullopt : std::optional<int64_t>(row.Int(5))});
              return Ok();
            }));
  return out;
}

Result<std::optional<CareTeam>> SqlStore::FindCareTeam(int64_t care_team_id) {
  std::optional<CareTeam> found;
  const SqlParam param = SqlParam::Int(care_team_id);
  JU_RETURN_IF_ERROR(
      Query("SELECT t.id, t.name, t.organisation_id,"
            " (SELECT COUNT(*) FROM care_team_members m WHERE m.care_team_id = t.id),"
            " (SELECT COUNT(*) FROM care_team_patients p WHERE p.care_team_id = t.id"
            " AND p.until_ms IS NULL), t.capacity"
            " FROM care_teams t WHERE t.id = ?1",
            {&param, 1}, [&](const SqlRow& row) -> Status {
              found = CareTeam{row.Int(0), std::string(row.Text(1)), std::string(row.Text(2)),
                               row.Int(3), row.Int(4),
                               row.IsNull(5) ? std::nullopt : std::optional<int64_t>(row.Int(5))};
              return Ok();
            }));
  return found;
}

Result<std::vector<int64_t>> SqlStore::CareTeamMembers(int64_t care_team_id) {
  std::vector<int64_t> out;
  const SqlParam param = SqlParam::Int(care_team_id);
  JU_RETURN_IF_ERROR(
      Query("SELECT user_id FROM care_team_members WHERE care_team_id = ?1 ORDER BY user_id",
            {&param, 1}, [&](const SqlRow& row) -> Status {
              out.push_back(row.Int(0));
              return Ok();
            }));
  return out;
}

Status SqlStore::RemoveCareTeamMember(int64_t care_team_id, int64_t user_id) {
  const SqlParam params[] = {SqlParam::Int(care_team_id), SqlParam::Int(user_id)};
  return InTransaction(false, [&]() -> Status {
    JU_ASSIGN_OR_RETURN(bool team, Exists("SELECT 1 FROM care_teams WHERE id = ?1", {params, 1}));
    if (!team)
      return Error::NotFound("care team " + std::to_string(care_team_id) + " is not known");
    return Execute("DELETE FROM care_team_members WHERE care_team_id = ?1 AND user_id = ?2",
                   params);
  });
}

Status SqlStore::RemoveCareTeamPatient(int64_t care_team_id, int64_t patient_key) {
  const SqlParam params[] = {SqlParam::Int(care_team_id), SqlParam::Int(patient_key)};
  return InTransaction(false, [&]() -> Status {
    JU_ASSIGN_OR_RETURN(bool team, Exists("SELECT 1 FROM care_teams WHERE id = ?1", {params, 1}));
    if (!team)
      return Error::NotFound("care team " + std::to_string(care_team_id) + " is not known");
    return Execute("DELETE FROM care_team_patients WHERE care_team_id = ?1 AND patient_key = ?2",
                   params);
  });
}

// ---- Consent ------------------------------------------------------------------------------------

Result<int64_t> SqlStore::RecordConsent(const Consent& consent) {
  const auto decision = static_cast<int64_t>(consent.decision);
  if (decision < 0 || decision > 1) return Error::Invalid("consent: unknown decision");
  const SqlParam params[] = {SqlParam::Int(consent.patient_key), SqlParam::Int(decision),
                             SqlParam::Int(consent.recorded_by),
                             SqlParam::Int(consent.recorded_at_ms)};
  int64_t id = 0;
  JU_RETURN_IF_ERROR(InTransaction(false, [&]() -> Status {
    JU_ASSIGN_OR_RETURN(bool patient, Exists("SELECT 1 FROM patients WHERE key = ?1", {params, 1}));
    if (!patient)
      return Error::NotFound("patient_key " + std::to_string(consent.patient_key) +
                             " is not a known patient");
    JU_ASSIGN_OR_RETURN(bool user, Exists("SELECT 1 FROM users WHERE id = ?1", {params + 2, 1}));
    if (!user)
      return Error::NotFound("user " + std::to_string(consent.recorded_by) + " is not known");
    return Query(
        "INSERT INTO consents (patient_key, decision, recorded_by, recorded_at_ms)"
        " VALUES (?1, ?2, ?3, ?4) RETURNING id",
        params, [&](const SqlRow& row) -> Status {
          id = row.Int(0);
          return Ok();
        });
  }));
  return id;
}

Result<std::optional<Consent>> SqlStore::LatestConsent(int64_t patient_key) {
  std::optional<Consent> found;
  const SqlParam param = SqlParam::Int(patient_key);
  JU_RETURN_IF_ERROR(
      Query("SELECT patient_key, decision, recorded_by, recorded_at_ms FROM consents"
            " WHERE patient_key = ?1 ORDER BY recorded_at_ms DESC, id DESC LIMIT 1",
            {&param, 1}, [&](const SqlRow& row) -> Status {
              Consent c;
              c.patient_key = row.Int(0);
              JU_ASSIGN_OR_RETURN(
                  c.decision, EnumFromOrdinal<ConsentDecision>(row.Int(1), 2, "consents.decision"));
              c.recorded_by = row.Int(2);
              c.recorded_at_ms = row.Int(3);
              found = c;
              return Ok();
            }));
  return found;
}

Result<std::optional<PatientAccessFacts>> SqlStore::AccessFacts(int64_t patient_key,
                                                                int64_t as_at_ms) {
  std::optional<PatientAccessFacts> facts;
  const SqlParam param = SqlParam::Int(patient_key);
  JU_RETURN_IF_ERROR(
      Query("SELECT key, practice_id FROM patients WHERE key = ?1", {&param, 1},
            [&](const SqlRow& row) -> Status {
              facts = PatientAccessFacts{row.Int(0), std::string(row.Text(1)), {}, false};
              return Ok();
            }));
  if (!facts) return facts;
  const SqlParam team_params[] = {param, SqlParam::Int(as_at_ms)};
  JU_RETURN_IF_ERROR(Query(
      "SELECT care_team_id FROM care_team_patients ctp WHERE patient_key = ?1 AND " +
          CurrentMembershipSql("ctp", "?2") + " ORDER BY care_team_id",
      team_params, [&](const SqlRow& row) -> Status {
        facts->care_team_ids.push_back(row.Int(0));
        return Ok();
      }));
  JU_ASSIGN_OR_RETURN(std::optional<Consent> consent, LatestConsent(patient_key));
  facts->declined_sharing =
      consent && consent->decision == ConsentDecision::kDeclineBeyondOwnPractice;
  return facts;
}

// ---- Tokens -------------------------------------------------------------------------------------

Status SqlStore::AddToken(const TokenRecord& token) {
  if (token.hash_hex.size() != 64 ||
      !std::all_of(token.hash_hex.begin(), token.hash_hex.end(),
                   [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))
    return Error::Invalid("token: the hash is not 64 lowercase hex digits");
  JU_RETURN_IF_ERROR(CheckText("token scopes", token.scopes));
  const SqlParam params[] = {SqlParam::Text(token.hash_hex),     SqlParam::Int(token.user_id),
                             SqlParam::Text(token.scopes),       SqlParam::Int(token.issued_at_ms),
                             SqlParam::Int(token.expires_at_ms), SqlParam::Int(token.revoked)};
  return InTransaction(false, [&]() -> Status {
    JU_ASSIGN_OR_RETURN(bool user, Exists("SELECT 1 FROM users WHERE id = ?1", {params + 1, 1}));
    if (!user) return Error::NotFound("user " + std::to_string(token.user_id) + " is not known");
    JU_ASSIGN_OR_RETURN(bool taken, Exists("SELECT 1 FROM tokens WHERE hash = ?1", {params, 1}));
    if (taken) return Error::Conflict("token: this token hash is already stored");
    return Execute(
        "INSERT INTO tokens (hash, user_id, scopes, issued_at_ms, expires_at_ms, revoked)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params);
  });
}

Result<std::optional<TokenRecord>> SqlStore::FindToken(std::string_view hash_hex) {
  std::optional<TokenRecord> found;
  const SqlParam param = SqlParam::Text(hash_hex);
  JU_RETURN_IF_ERROR(Query(
      "SELECT hash, user_id, scopes, issued_at_ms, expires_at_ms, revoked, last_used_ms"
      " FROM tokens WHERE hash = ?1",
      {&param, 1}, [&](const SqlRow& row) -> Status {
        found = TokenRecord{
            std::string(row.Text(0)), row.Int(1), std::string(row.Text(2)), row.Int(3), row.Int(4),
            row.Int(5) != 0,          row.Int(6)};
        return Ok();
      }));
  return found;
}

Status SqlStore::RevokeToken(std::string_view hash_hex) {
  const SqlParam param = SqlParam::Text(hash_hex);
  return InTransaction(false, [&]() -> Status {
    JU_ASSIGN_OR_RETURN(bool known, Exists("SELECT 1 FROM tokens WHERE hash = ?1", {&param, 1}));
    if (!known) return Error::NotFound("token: not known");
    return Execute("UPDATE tokens SET revoked = 1 WHERE hash = ?1", {&param, 1});
  });
}

Status SqlStore::TouchToken(std::string_view hash_hex, int64_t now_ms) {
  const SqlParam params[] = {SqlParam::Text(hash_hex), SqlParam::Int(now_ms)};
  // Never moves backwards: two processes may touch the same session at once.
  return Execute("UPDATE tokens SET last_used_ms = ?2 WHERE hash = ?1 AND last_used_ms < ?2",
                 params);
}

Result<int64_t> SqlStore::RevokeUserTokens(int64_t user_id) {
  int64_t live = 0;
  const SqlParam param = SqlParam::Int(user_id);
  JU_RETURN_IF_ERROR(InTransaction(false, [&]() -> Status {
    return Query("UPDATE tokens SET revoked = 1 WHERE user_id = ?1 AND revoked = 0 RETURNING 1",
                 {&param, 1}, [&](const SqlRow&) -> Status {
                   ++live;
                   return Ok();
                 });
  }));
  return live;
}

// ---- Audit trail --------------------------------------------------------------------------------

// One append waiting for its group to be written.
struct PendingAudit {
  AuditEvent* event;
  const AuditSealer* seal;
  Status status;
  bool done = false;
  bool retry_alone = false;  // its group failed: write it in a transaction of its own
};

// Group commit: every request of the server appends an event, and a transaction each (with
// SQLite's single write lock) capped the server's throughput. The appends of one process queue
// on the database's SharedDatabase; the first to find no group being written becomes its
// writer, takes the whole queue and appends it in one transaction on its own connection while
// the next queue gathers. Each caller returns once its own event is committed, as before.
Result<AuditEvent> SqlStore::AppendAuditEvent(AuditEvent event, const AuditSealer& seal) {
  if (std::string_view("CRUDE").find(event.action) == std::string_view::npos || event.action == 0)
    return Error::Invalid("audit event: action must be one of C, R, U, D, E");
  const auto outcome = static_cast<int>(event.outcome);
  if (outcome != 0 && outcome != 4 && outcome != 8 && outcome != 12)
    return Error::Invalid("audit event: unknown outcome");
  for (auto [field, text] :
       {std::pair<std::string_view, std::string_view>{"subtype", event.subtype},
        {"username", event.username},
        {"role", event.role},
        {"organisation", event.organisation_id},
        {"request id", event.request_id},
        {"client's request id", event.client_request_id},
        {"source address", event.source_address},
        {"query", event.query},
        {"break-glass reason", event.break_glass_reason}})
    JU_RETURN_IF_ERROR(CheckText("audit event " + std::string(field), text));
  std::sort(event.patient_keys.begin(), event.patient_keys.end());
  if (std::adjacent_find(event.patient_keys.begin(), event.patient_keys.end()) !=
      event.patient_keys.end())
    return Error::Invalid("audit event: a patient key is repeated");

  PendingAudit mine{&event, &seal, Ok()};
  SharedDatabase& db = shared();
  std::unique_lock lock(db.audit_mutex);
  db.audit_queue.push_back(&mine);
  while (!mine.done) {
    if (db.audit_writing) {
      db.audit_written.wait(lock);
      continue;
    }
    db.audit_writing = true;
    std::vector<PendingAudit*> group;
    group.swap(db.audit_queue);
    lock.unlock();
    // Whatever happens, the group is answered and the writer's place given up: the others
    // wait on it.
    Status written;
    try {
      written = WriteAuditGroup(group);
    } catch (const std::exception& e) {
      written = Error::Internal(std::string("audit group: ") + e.what());
    }
    lock.lock();
    // A failed group of several: each caller then writes its own event alone, so one bad
    // event (or this writer's connection) fails no one else's.
    for (PendingAudit* pending : group) {
      pending->status = written;
      pending->retry_alone = !written.ok() && group.size() > 1;
      pending->done = true;
    }
    db.audit_writing = false;
    db.audit_written.notify_all();
  }
  lock.unlock();
  if (mine.retry_alone) {
    PendingAudit* alone[] = {&mine};
    mine.status = WriteAuditGroup(alone);
  }
  JU_RETURN_IF_ERROR(mine.status);
  return event;
}

Status SqlStore::WriteAuditGroup(std::span<PendingAudit* const> group) {
  return InTransaction(true, [&]() -> Status {
    int64_t sequence = 0;
    std::string prev_hash(64, '0');
    JU_RETURN_IF_ERROR(
        Query("SELECT sequence, hash FROM audit_events ORDER BY sequence DESC LIMIT 1", {},
              [&](const SqlRow& row) -> Status {
                sequence = row.Int(0);
                prev_hash = row.Text(1);
                return Ok();
              }));
    for (PendingAudit* pending : group) {
      AuditEvent& event = *pending->event;
      event.sequence = ++sequence;
      event.prev_hash = std::move(prev_hash);
      event.hash = (*pending->seal)(event);
      prev_hash = event.hash;
      const std::string action(1, event.action);
      const SqlParam params[] = {SqlParam::Int(event.sequence),
                                 SqlParam::Int(event.time_ms),
                                 SqlParam::Text(action),
                                 SqlParam::Text(event.subtype),
                                 SqlParam::Int(static_cast<int>(event.outcome)),
                                 event.user_id ? SqlParam::Int(*event.user_id) : SqlParam::Null(),
                                 SqlParam::Text(event.username),
                                 SqlParam::Text(event.role),
                                 SqlParam::Text(event.organisation_id),
                                 SqlParam::Text(event.request_id),
                                 SqlParam::Text(event.source_address),
                                 SqlParam::Text(event.query),
                                 SqlParam::Text(event.break_glass_reason),
                                 SqlParam::Text(event.prev_hash),
                                 SqlParam::Text(event.hash),
                                 SqlParam::Text(event.client_request_id)};
      JU_RETURN_IF_ERROR(
          Execute("INSERT INTO audit_events (sequence, time_ms, action, subtype, outcome, user_id,"
                  " username, role, organisation_id, request_id, source_address, query,"
                  " break_glass_reason, prev_hash, hash, client_request_id)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,"
                  " ?16)",
                  params));
      for (int64_t key : event.patient_keys) {
        const SqlParam entity[] = {SqlParam::Int(event.sequence), SqlParam::Int(key)};
        JU_RETURN_IF_ERROR(Execute(
            "INSERT INTO audit_event_entities (sequence, patient_key) VALUES (?1, ?2)", entity));
      }
    }
    return Ok();
  });
}

Result<std::vector<AuditEvent>> SqlStore::LoadAuditEvents(std::string_view where_order_limit,
                                                          std::span<const SqlParam> params) {
  std::vector<AuditEvent> events;
  std::string sql(kAuditColumns);
  sql += where_order_limit;
  JU_RETURN_IF_ERROR(Query(sql, params, [&](const SqlRow& row) -> Status {
    JU_ASSIGN_OR_RETURN(AuditEvent e, DecodeAuditEvent(row));
    events.push_back(std::move(e));
    return Ok();
  }));
  if (events.empty()) return events;
  std::unordered_map<int64_t, AuditEvent*> by_sequence;
  int64_t low = events.front().sequence, high = low;
  for (AuditEvent& e : events) {
    by_sequence.emplace(e.sequence, &e);
    low = std::min(low, e.sequence);
    high = std::max(high, e.sequence);
  }
  auto add_entity = [&](const SqlRow& row) -> Status {
    auto it = by_sequence.find(row.Int(0));
    if (it != by_sequence.end()) it->second->patient_keys.push_back(row.Int(1));
    return Ok();
  };
  // Dense (a scan page): one range read. Sparse (a search): one seek per event.
  if (high - low < 4 * static_cast<int64_t>(events.size())) {
    const SqlParam range[] = {SqlParam::Int(low), SqlParam::Int(high)};
    JU_RETURN_IF_ERROR(
        Query("SELECT sequence, patient_key FROM audit_event_entities"
              " WHERE sequence BETWEEN ?1 AND ?2 ORDER BY sequence, patient_key",
              range, add_entity));
  } else {
    for (const AuditEvent& e : events) {
      const SqlParam one = SqlParam::Int(e.sequence);
      JU_RETURN_IF_ERROR(
          Query("SELECT sequence, patient_key FROM audit_event_entities WHERE sequence = ?1"
                " ORDER BY patient_key",
                {&one, 1}, add_entity));
    }
  }
  return events;
}

Status SqlStore::ScanAuditEvents(int64_t after_sequence,
                                 const std::function<Status(const AuditEvent&)>& fn) {
  constexpr int64_t kPageSize = 1000;
  for (;;) {
    const SqlParam params[] = {SqlParam::Int(after_sequence), SqlParam::Int(kPageSize)};
    JU_ASSIGN_OR_RETURN(
        std::vector<AuditEvent> page,
        LoadAuditEvents("WHERE e.sequence > ?1 ORDER BY e.sequence LIMIT ?2", params));
    for (const AuditEvent& e : page) JU_RETURN_IF_ERROR(fn(e));
    if (static_cast<int64_t>(page.size()) < kPageSize) return Ok();
    after_sequence = page.back().sequence;
  }
}

Result<std::vector<AuditEvent>> SqlStore::SearchAuditEvents(const AuditQuery& query) {
  if (query.limit < 1 || query.limit > 10000)
    return Error::Invalid("audit search: limit must be 1 to 10000");
  std::vector<SqlParam> params;
  std::string where;
  auto add = [&](std::string_view condition, int64_t value) {
    params.push_back(SqlParam::Int(value));
    where += where.empty() ? "WHERE " : " AND ";
    std::string text(condition);
    text.replace(text.find('#'), 1, "?" + std::to_string(params.size()));
    where += text;
  };
  if (query.patient_key)
    add("e.sequence IN (SELECT sequence FROM audit_event_entities WHERE patient_key = #)",
        *query.patient_key);
  if (query.user_id) add("e.user_id = #", *query.user_id);
  if (query.from_ms) add("e.time_ms >= #", *query.from_ms);
  if (query.to_ms) add("e.time_ms <= #", *query.to_ms);
  if (!query.subtypes.empty()) {
    where += where.empty() ? "WHERE e.subtype IN (" : " AND e.subtype IN (";
    for (size_t i = 0; i < query.subtypes.size(); ++i) {
      params.push_back(SqlParam::Text(query.subtypes[i]));
      where += (i ? ", ?" : "?") + std::to_string(params.size());
    }
    where += ")";
  }
  params.push_back(SqlParam::Int(query.limit));
  where += " ORDER BY e.sequence LIMIT ?" + std::to_string(params.size());
  return LoadAuditEvents(where, params);
}

}  // namespace joinedup::store
