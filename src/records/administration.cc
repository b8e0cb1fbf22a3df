// Administration through the records service (records.h): accounts, organisations and care
// teams — what `joinedup user` and `joinedup careteam` do at the command line, for the
// administrators of a running server. Administration is writing the directory, so it is the
// policy's "create and update Directory" right; every change is an audit event, and a care team
// change names the people whose records its members gain or lose.
#include <algorithm>
#include <string>
#include <utility>

#include "core/nhs_number.h"
#include "core/strings.h"
#include "records/records.h"
#include "security/crypto.h"
#include "store/store.h"

namespace joinedup::records {
namespace {

constexpr store::AuditOutcome kSuccess = store::AuditOutcome::kSuccess;

Error FieldError(ErrorCode code, std::string message, std::string field) {
  return Error{code, std::move(message), std::move(field)};
}

std::string Trimmed(std::string_view text) { return std::string(TrimSpace(text)); }

// A password's rule broken, as the form's field.
Error PasswordError(const Error& error) {
  return FieldError(ErrorCode::kInvalidInput, error.message, "password");
}

// The store's "Organization/X is not known" (and the like) as the form's field.
Error AsField(Error error, std::string field) {
  if (error.code == ErrorCode::kNotFound) error.code = ErrorCode::kInvalidInput;
  if (error.field.empty()) error.field = std::move(field);
  return error;
}

}  // namespace

// A stored GP practice is an organisation accounts and teams may belong to even before anyone
// has: the first such use records it (as `joinedup user add` does).
Status Records::AdoptPractice(std::string_view organisation_id) {
  JU_ASSIGN_OR_RETURN(std::optional<store::Organisation> known,
                      store_.FindOrganisation(organisation_id));
  if (known) return Ok();
  JU_ASSIGN_OR_RETURN(std::vector<Practice> practices, store_.Practices());
  for (const Practice& practice : practices)
    if (practice.id == organisation_id)
      return store_.PutOrganisation({practice.id,
                                     practice.name.empty() ? practice.id : practice.name,
                                     store::OrganisationKind::kGpPractice});
  return Ok();  // unknown: the store's refusal names it
}

Status Records::PermitAdministration() {
  JU_RETURN_IF_ERROR(Permit(Operation::kCreate, "Organization"));
  return Permit(Operation::kUpdate, "Organization");
}

Result<std::vector<store::User>> Records::Accounts() {
  JU_RETURN_IF_ERROR(PermitAdministration());
  JU_ASSIGN_OR_RETURN(std::vector<store::User> users, store_.Users());
  for (store::User& user : users) user.password_hash.clear();
  return users;
}

Result<std::vector<int64_t>> Records::CareTeamsOfAccount(int64_t user_id) {
  JU_RETURN_IF_ERROR(PermitAdministration());
  return store_.CareTeamsOfUser(user_id);
}

Result<store::User> Records::CreateAccount(const NewAccount& account) {
  JU_RETURN_IF_ERROR(PermitAdministration());
  store::User user;
  user.username = Trimmed(account.username);
  user.display_name = Trimmed(account.display_name);
  user.organisation_id = Trimmed(account.organisation_id);
  user.role = account.role;
  if (user.username.empty())
    return FieldError(ErrorCode::kInvalidInput, "Enter a username", "username");
  if (user.display_name.empty())
    return FieldError(ErrorCode::kInvalidInput, "Enter the name shown to others", "display_name");
  if (user.organisation_id.empty())
    return FieldError(ErrorCode::kInvalidInput, "Enter the organisation's code", "organisation");
  const std::string nhs_text = Trimmed(account.patient_nhs_number);
  if ((user.role == store::Role::kPatient) != !nhs_text.empty())
    return FieldError(ErrorCode::kInvalidInput,
                      user.role == store::Role::kPatient
                          ? "Enter the NHS number of the person this account is for"
                          : "Only a patient's account has an NHS number",
                      "patient_nhs_number");
  std::vector<int64_t> people;
  if (!nhs_text.empty()) {
    auto nhs_number = NhsNumber::Parse(nhs_text);
    if (!nhs_number.ok())
      return FieldError(ErrorCode::kInvalidInput, nhs_number.error().message, "patient_nhs_number");
    JU_ASSIGN_OR_RETURN(std::optional<int64_t> key, store_.PatientKeyForNhsNumber(*nhs_number));
    if (!key)
      return FieldError(ErrorCode::kInvalidInput, "No registered person has this NHS number",
                        "patient_nhs_number");
    user.patient_key = key;
    people.push_back(*key);
  }
  auto hash = security::HashPassword(account.password);
  if (!hash.ok()) {
    if (hash.error().code == ErrorCode::kInvalidInput) return PasswordError(hash.error());
    return hash.take_error();
  }
  user.password_hash = std::move(*hash);
  JU_RETURN_IF_ERROR(AdoptPractice(user.organisation_id));
  auto id = store_.AddUser(user);
  if (!id.ok()) {
    if (id.error().code == ErrorCode::kConflict)
      return FieldError(ErrorCode::kConflict, "This username is taken: choose another", "username");
    return AsField(id.take_error(), "organisation");
  }
  user.id = *id;
  user.password_hash.clear();
  JU_RETURN_IF_ERROR(Audited(Operation::kCreate, kSuccess, std::move(people),
                             "username=" + user.username +
                                 "&role=" + std::string(security::RoleName(user.role)) +
                                 "&organisation=" + user.organisation_id,
                             false, "user-create"));
  return user;
}

Result<store::User> Records::ChangeAccount(int64_t user_id, const AccountChange& change) {
  JU_RETURN_IF_ERROR(PermitAdministration());
  JU_ASSIGN_OR_RETURN(std::optional<store::User> found, store_.FindUserById(user_id));
  if (!found) return Error::NotFound("no such user");
  store::User user = std::move(*found);
  const bool self = requester_.actor.user_id == user.id;
  std::string query = "user=" + user.username;
  bool ends_sessions = false;
  if (change.display_name) {
    const std::string name = Trimmed(*change.display_name);
    if (name.empty())
      return FieldError(ErrorCode::kInvalidInput, "Enter the name shown to others", "display_name");
    if (name != user.display_name) query += "&display_name=" + name;
    user.display_name = name;
  }
  auto refuse_self = [&](std::string field) {
    return FieldError(ErrorCode::kInvalidInput,
                      "You cannot change your own role, organisation or status: ask another "
                      "administrator",
                      std::move(field));
  };
  if (change.role && *change.role != user.role) {
    if (self) return refuse_self("role");
    if ((*change.role == store::Role::kPatient) != (user.role == store::Role::kPatient))
      return FieldError(ErrorCode::kInvalidInput,
                        "A patient's account stays a patient's, and a staff account stays staff: "
                        "add a new account instead",
                        "role");
    query += "&role=" + std::string(security::RoleName(user.role)) + "->" +
             std::string(security::RoleName(*change.role));
    user.role = *change.role;
    ends_sessions = true;
  }
  if (change.organisation_id) {
    const std::string organisation = Trimmed(*change.organisation_id);
    if (organisation != user.organisation_id) {
      if (self) return refuse_self("organisation");
      if (organisation.empty())
        return FieldError(ErrorCode::kInvalidInput, "Enter the organisation's code",
                          "organisation");
      query += "&organisation=" + user.organisation_id + "->" + organisation;
      user.organisation_id = organisation;
      ends_sessions = true;
    }
  }
  if (change.disabled && *change.disabled != user.disabled) {
    if (self) return refuse_self("status");
    query += *change.disabled ? "&status=disabled" : "&status=active";
    user.disabled = *change.disabled;
    ends_sessions = true;
  }
  JU_RETURN_IF_ERROR(AdoptPractice(user.organisation_id));
  Status updated = store_.UpdateUser(user);
  if (!updated.ok()) return AsField(updated.take_error(), "organisation");
  if (ends_sessions) {
    JU_ASSIGN_OR_RETURN(int64_t ended, store_.RevokeUserTokens(user.id));
    query += "&sessions_ended=" + std::to_string(ended);
  }
  std::vector<int64_t> people;
  if (user.patient_key) people.push_back(*user.patient_key);
  JU_RETURN_IF_ERROR(Audited(Operation::kUpdate, kSuccess, std::move(people), std::move(query),
                             false, "user-update"));
  user.password_hash.clear();
  return user;
}

Status Records::SetAccountPassword(int64_t user_id, std::string_view password) {
  JU_RETURN_IF_ERROR(PermitAdministration());
  JU_ASSIGN_OR_RETURN(std::optional<store::User> user, store_.FindUserById(user_id));
  if (!user) return Error::NotFound("no such user");
  auto hash = security::HashPassword(password);
  if (!hash.ok()) {
    if (hash.error().code == ErrorCode::kInvalidInput) return PasswordError(hash.error());
    return hash.take_error();
  }
  JU_RETURN_IF_ERROR(store_.SetUserPasswordHash(user_id, *hash));
  JU_ASSIGN_OR_RETURN(int64_t ended, store_.RevokeUserTokens(user_id));
  return Audited(Operation::kUpdate, kSuccess, {},
                 "user=" + user->username + "&sessions_ended=" + std::to_string(ended), false,
                 "user-password");
}

// The organisations stored, and the GP practices people are registered with that no account or
// team has named yet (as gp_practice), by id.
Result<std::vector<store::Organisation>> Records::Organisations() {
  JU_RETURN_IF_ERROR(PermitAdministration());
  JU_ASSIGN_OR_RETURN(std::vector<store::Organisation> organisations, store_.Organisations());
  JU_ASSIGN_OR_RETURN(std::vector<Practice> practices, store_.Practices());
  std::vector<std::string> ids;
  for (const store::Organisation& o : organisations) ids.push_back(o.id);
  std::sort(ids.begin(), ids.end());
  for (const Practice& practice : practices)
    if (!std::binary_search(ids.begin(), ids.end(), practice.id))
      organisations.push_back({practice.id, practice.name.empty() ? practice.id : practice.name,
                               store::OrganisationKind::kGpPractice});
  std::sort(organisations.begin(), organisations.end(),
            [](const store::Organisation& a, const store::Organisation& b) { return a.id < b.id; });
  return organisations;
}

Result<store::Organisation> Records::PutOrganisation(const store::Organisation& given,
                                                     bool replace) {
  JU_RETURN_IF_ERROR(PermitAdministration());
  store::Organisation organisation{Trimmed(given.id), Trimmed(given.name), given.kind};
  if (organisation.id.empty())
    return FieldError(ErrorCode::kInvalidInput, "Enter the organisation's ODS code", "id");
  if (organisation.name.empty())
    return FieldError(ErrorCode::kInvalidInput, "Enter the organisation's name", "name");
  JU_RETURN_IF_ERROR(AdoptPractice(organisation.id));  // a practice exists as listed
  JU_ASSIGN_OR_RETURN(std::optional<store::Organisation> existing,
                      store_.FindOrganisation(organisation.id));
  if (replace && !existing) return Error::NotFound("no such organisation");
  if (!replace && existing)
    return FieldError(ErrorCode::kConflict, "An organisation with this code exists already", "id");
  Status put = store_.PutOrganisation(organisation);
  if (!put.ok()) return AsField(put.take_error(), "id");
  std::string query = "organisation=" + organisation.id + "&name=" + organisation.name +
                      "&kind=" + std::string(security::OrganisationKindName(organisation.kind));
  JU_RETURN_IF_ERROR(Audited(replace ? Operation::kUpdate : Operation::kCreate, kSuccess, {},
                             std::move(query), false,
                             replace ? "organisation-update" : "organisation-create"));
  return organisation;
}

Result<std::vector<store::CareTeam>> Records::CareTeams() {
  JU_RETURN_IF_ERROR(PermitAdministration());
  return store_.CareTeams();
}

Result<CareTeamDetail> Records::FindCareTeam(int64_t care_team_id) {
  JU_RETURN_IF_ERROR(PermitAdministration());
  JU_ASSIGN_OR_RETURN(std::optional<store::CareTeam> team, store_.FindCareTeam(care_team_id));
  if (!team) return Error::NotFound("no such care team");
  CareTeamDetail detail{std::move(*team), {}};
  JU_ASSIGN_OR_RETURN(std::vector<int64_t> members, store_.CareTeamMembers(care_team_id));
  for (int64_t id : members) {
    JU_ASSIGN_OR_RETURN(std::optional<store::User> user, store_.FindUserById(id));
    if (!user) continue;
    user->password_hash.clear();
    detail.members.push_back(std::move(*user));
  }
  std::sort(detail.members.begin(), detail.members.end(),
            [](const store::User& a, const store::User& b) { return a.username < b.username; });
  return detail;
}

Result<store::CareTeam> Records::CreateCareTeam(std::string_view name,
                                                std::string_view organisation_id) {
  JU_RETURN_IF_ERROR(PermitAdministration());
  const std::string team_name = Trimmed(name), organisation = Trimmed(organisation_id);
  if (team_name.empty())
    return FieldError(ErrorCode::kInvalidInput, "Enter the care team's name", "name");
  if (organisation.empty())
    return FieldError(ErrorCode::kInvalidInput, "Enter the organisation's code", "organisation");
  JU_RETURN_IF_ERROR(AdoptPractice(organisation));
  auto id = store_.AddCareTeam(team_name, organisation);
  if (!id.ok()) return AsField(id.take_error(), "organisation");
  JU_RETURN_IF_ERROR(Audited(
      Operation::kCreate, kSuccess, {},
      "care_team=" + std::to_string(*id) + "&name=" + team_name + "&organisation=" + organisation,
      false, "care-team-create"));
  return store::CareTeam{*id, team_name, organisation, 0, 0};
}

Status Records::ChangeCareTeamMember(int64_t care_team_id, std::string_view username, bool remove) {
  JU_RETURN_IF_ERROR(PermitAdministration());
  JU_ASSIGN_OR_RETURN(std::optional<store::CareTeam> team, store_.FindCareTeam(care_team_id));
  if (!team) return Error::NotFound("no such care team");
  const std::string name = Trimmed(username);
  JU_ASSIGN_OR_RETURN(std::optional<store::User> user, store_.FindUser(name));
  if (!user)
    return FieldError(ErrorCode::kInvalidInput, "There is no user called " + name, "username");
  if (user->role == store::Role::kPatient)
    return FieldError(ErrorCode::kInvalidInput, "A patient's account cannot be a team member",
                      "username");
  JU_RETURN_IF_ERROR(remove ? store_.RemoveCareTeamMember(care_team_id, user->id)
                            : store_.AddCareTeamMember(care_team_id, user->id));
  return Audited(Operation::kUpdate, kSuccess, {},
                 "care_team=" + std::to_string(care_team_id) +
                     (remove ? "&member_removed=" : "&member_added=") + name,
                 false, "care-team-update");
}

// Adding a person by NHS number tells an administrator whether that number is registered here:
// the answer is audited against the person, so the privacy officer sees who was added by whom.
Status Records::ChangeCareTeamPerson(int64_t care_team_id, std::string_view nhs_number,
                                     bool remove) {
  JU_RETURN_IF_ERROR(PermitAdministration());
  JU_ASSIGN_OR_RETURN(std::optional<store::CareTeam> team, store_.FindCareTeam(care_team_id));
  if (!team) return Error::NotFound("no such care team");
  auto parsed = NhsNumber::Parse(Trimmed(nhs_number));
  if (!parsed.ok())
    return FieldError(ErrorCode::kInvalidInput, parsed.error().message, "nhs_number");
  JU_ASSIGN_OR_RETURN(std::optional<int64_t> key, store_.PatientKeyForNhsNumber(*parsed));
  if (!key) {
    JU_RETURN_IF_ERROR(Audited(Operation::kUpdate, store::AuditOutcome::kMinorFailure, {},
                               "care_team=" + std::to_string(care_team_id) + "&person_not_found",
                               false, "care-team-update"));
    return FieldError(ErrorCode::kInvalidInput, "No registered person has this NHS number",
                      "nhs_number");
  }
  JU_RETURN_IF_ERROR(remove ? store_.RemoveCareTeamPatient(care_team_id, *key)
                            : store_.AddCareTeamPatient(care_team_id, *key));
  return Audited(
      Operation::kUpdate, kSuccess, {*key},
      "care_team=" + std::to_string(care_team_id) + (remove ? "&person_removed" : "&person_added"),
      false, "care-team-update");
}

Status Records::SetCaseloadCapacity(int64_t care_team_id, std::optional<int64_t> capacity) {
  JU_RETURN_IF_ERROR(PermitAdministration());
  JU_ASSIGN_OR_RETURN(std::optional<store::CareTeam> team, store_.FindCareTeam(care_team_id));
  if (!team) return Error::NotFound("no such care team");
  if (capacity && *capacity < 0)
    return FieldError(ErrorCode::kInvalidInput, "Enter a capacity of 0 or more", "capacity");
  JU_RETURN_IF_ERROR(store_.SetCareTeamCapacity(care_team_id, capacity));
  return Audited(Operation::kUpdate, kSuccess, {},
                 "care_team=" + std::to_string(care_team_id) + "&capacity=" +
                     (capacity ? std::to_string(*capacity) : std::string("none")),
                 false, "care-team-update");
}

}  // namespace joinedup::records
