// Administration handlers (admin_api.h): JSON in and out; the records service decides and
// audits.
#include "webapp/admin_api.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "security/policy.h"
#include "store/store.h"
#include "webapp/app_json.h"

namespace joinedup::webapp {
namespace {

using json = nlohmann::json;
using http::HttpResponse;

constexpr int kPerPage = 50;

// A refusal as the administration screens show it: a caller who may not administer learns
// nothing (404, as for an address that does not exist); a form's problem names its field.
HttpResponse Refused(const Error& error) {
  if (error.code == ErrorCode::kForbidden) return NoSuchPage();
  if (error.code == ErrorCode::kInvalidInput || error.code == ErrorCode::kConflict)
    return Problem(error.code == ErrorCode::kConflict ? 409 : 400, TitleOf(400), error.message,
                   error.field);
  return FromError(error);
}

// `page` from the query (1 when absent); nullopt when it is not a positive number.
std::optional<int64_t> PageOf(const QueryList& params) {
  const std::string text = Param(params, "page");
  if (text.empty()) return 1;
  return PositiveId(text);
}

// The slice of `items` on `page`, and the page after it (null at the end).
template <typename T>
std::pair<std::vector<T>, json> Slice(std::vector<T> items, int64_t page) {
  const auto first = static_cast<size_t>(
      std::min<int64_t>((page - 1) * kPerPage, static_cast<int64_t>(items.size())));
  const size_t last = std::min(items.size(), first + kPerPage);
  json next = last < items.size() ? json(page + 1) : json(nullptr);
  return {std::vector<T>(std::make_move_iterator(items.begin() + static_cast<ptrdiff_t>(first)),
                         std::make_move_iterator(items.begin() + static_cast<ptrdiff_t>(last))),
          std::move(next)};
}

bool ContainsFolded(std::string_view text, std::string_view part) {
  auto lower = [](unsigned char c) { return static_cast<char>(std::tolower(c)); };
  std::string a(text.size(), ' '), b(part.size(), ' ');
  std::transform(text.begin(), text.end(), a.begin(), lower);
  std::transform(part.begin(), part.end(), b.begin(), lower);
  return a.find(b) != std::string::npos;
}

// The JSON body as an object, or a problem saying it is not one.
std::optional<json> BodyObject(const http::HttpRequest& request) {
  json body = json::parse(request.body, nullptr, false);
  if (!body.is_object()) return std::nullopt;
  return body;
}

HttpResponse NotAnObject() {
  return Problem(400, TitleOf(400), "Send the form's fields as a JSON object.");
}

std::optional<std::string> OptionalStr(const json& body, std::string_view key) {
  auto it = body.find(key);
  if (it == body.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// Handlers for callers AdminApi has already found may administer (each records call checks
// again).
class Admin {
 public:
  explicit Admin(records::Records& records) : records_(records) {}

  HttpResponse Users(const QueryList& params);
  HttpResponse CreateUser(const json& body);
  HttpResponse ChangeUser(int64_t id, const json& body);
  HttpResponse SetPassword(int64_t id, const json& body);
  HttpResponse Organisations(const QueryList& params);
  HttpResponse PutOrganisation(const json& body, std::optional<std::string_view> id);
  HttpResponse CareTeams(const QueryList& params);
  HttpResponse CareTeam(int64_t id);
  HttpResponse CreateCareTeam(const json& body);
  HttpResponse ChangeCareTeam(int64_t id, bool members, const json& body);
  HttpResponse SetCapacity(int64_t id, const json& body);

 private:
  Result<std::map<std::string, std::string>> OrganisationNames();
  json UserJson(const store::User& user, const std::map<std::string, std::string>& names);
  json TeamJson(const store::CareTeam& team, const std::map<std::string, std::string>& names);

  records::Records& records_;
};

Result<std::map<std::string, std::string>> Admin::OrganisationNames() {
  JU_ASSIGN_OR_RETURN(std::vector<store::Organisation> organisations, records_.Organisations());
  std::map<std::string, std::string> names;
  for (store::Organisation& o : organisations) names.emplace(o.id, std::move(o.name));
  return names;
}

json Admin::UserJson(const store::User& user, const std::map<std::string, std::string>& names) {
  auto name = names.find(user.organisation_id);
  return {{"id", std::to_string(user.id)},
          {"username", user.username},
          {"display_name", user.display_name},
          {"role", security::RoleName(user.role)},
          {"organisation", user.organisation_id},
          {"organisation_name", name == names.end() ? "" : name->second},
          {"status", user.disabled ? "disabled" : "active"}};
}

json Admin::TeamJson(const store::CareTeam& team, const std::map<std::string, std::string>& names) {
  auto name = names.find(team.organisation_id);
  return {{"id", std::to_string(team.id)},
          {"name", team.name},
          {"organisation", team.organisation_id},
          {"organisation_name", name == names.end() ? "" : name->second},
          {"members", team.members},
          {"people", team.people},
          {"capacity", team.capacity ? json(*team.capacity) : json(nullptr)}};
}

HttpResponse Admin::Users(const QueryList& params) {
  auto users = records_.Accounts();
  if (!users.ok()) return Refused(users.error());
  const std::optional<int64_t> page = PageOf(params);
  if (!page) return Problem(400, TitleOf(400), "The page number must be 1 or more.", "page");
  const std::string q = Param(params, "q");
  if (!q.empty())
    std::erase_if(*users, [&](const store::User& u) {
      return !ContainsFolded(u.username, q) && !ContainsFolded(u.display_name, q);
    });
  auto names = OrganisationNames();
  if (!names.ok()) return Refused(names.error());
  auto teams = records_.CareTeams();
  if (!teams.ok()) return Refused(teams.error());
  std::map<int64_t, std::string> team_names;
  for (const store::CareTeam& t : *teams) team_names.emplace(t.id, t.name);
  auto [shown, next] = Slice(std::move(*users), *page);
  json rows = json::array();
  for (const store::User& user : shown) {
    json row = UserJson(user, *names);
    auto of = records_.CareTeamsOfAccount(user.id);  // the page's users only: a few each
    if (!of.ok()) return Refused(of.error());
    json member_of = json::array();
    for (int64_t id : *of)
      member_of.push_back({{"id", std::to_string(id)}, {"name", team_names[id]}});
    row["care_teams"] = std::move(member_of);
    rows.push_back(std::move(row));
  }
  json roles = json::array();
  for (int r = 0; r < store::kRoleCount; ++r)
    roles.push_back(security::RoleName(static_cast<store::Role>(r)));
  return Json(200, {{"users", std::move(rows)},
                    {"page", *page},
                    {"next_page", std::move(next)},
                    {"roles", std::move(roles)}});
}

HttpResponse Admin::CreateUser(const json& body) {
  records::NewAccount account;
  account.username = Str(body, "username");
  account.display_name = Str(body, "display_name");
  account.organisation_id = Str(body, "organisation");
  account.password = Str(body, "password");
  account.patient_nhs_number = Str(body, "patient_nhs_number");
  const std::optional<store::Role> role = security::ParseRole(Str(body, "role"));
  if (!role) {
    // Who may not administer learns nothing from the form: refuse them first.
    return Problem(400, TitleOf(400), "Choose the user's role", "role");
  }
  account.role = *role;
  auto user = records_.CreateAccount(account);
  if (!user.ok()) return Refused(user.error());
  auto names = OrganisationNames();
  if (!names.ok()) return Refused(names.error());
  json out = UserJson(*user, *names);
  out["care_teams"] = json::array();
  return Json(201, {{"user", std::move(out)}});
}

HttpResponse Admin::ChangeUser(int64_t id, const json& body) {
  records::AccountChange change;
  change.display_name = OptionalStr(body, "display_name");
  change.organisation_id = OptionalStr(body, "organisation");
  if (auto role = OptionalStr(body, "role")) {
    change.role = security::ParseRole(*role);
    if (!change.role) return Problem(400, TitleOf(400), "Choose the user's role", "role");
  }
  if (auto status = OptionalStr(body, "status")) {
    if (*status != "active" && *status != "disabled")
      return Problem(400, TitleOf(400), "Choose active or disabled", "status");
    change.disabled = *status == "disabled";
  }
  auto user = records_.ChangeAccount(id, change);
  if (!user.ok()) {
    if (user.error().code == ErrorCode::kNotFound)
      return Problem(404, TitleOf(404), "There is no such user.");
    return Refused(user.error());
  }
  auto names = OrganisationNames();
  if (!names.ok()) return Refused(names.error());
  return Json(200, {{"user", UserJson(*user, *names)}});
}

HttpResponse Admin::SetPassword(int64_t id, const json& body) {
  Status done = records_.SetAccountPassword(id, Str(body, "password"));
  if (!done.ok()) {
    if (done.error().code == ErrorCode::kNotFound)
      return Problem(404, TitleOf(404), "There is no such user.");
    return Refused(done.error());
  }
  HttpResponse r;
  r.status = 204;
  return r;
}

HttpResponse Admin::Organisations(const QueryList& params) {
  auto organisations = records_.Organisations();
  if (!organisations.ok()) return Refused(organisations.error());
  const std::optional<int64_t> page = PageOf(params);
  if (!page) return Problem(400, TitleOf(400), "The page number must be 1 or more.", "page");
  auto users = records_.Accounts();
  if (!users.ok()) return Refused(users.error());
  std::map<std::string, int64_t> members;
  for (const store::User& u : *users) ++members[u.organisation_id];
  auto [shown, next] = Slice(std::move(*organisations), *page);
  json rows = json::array();
  for (const store::Organisation& o : shown)
    rows.push_back({{"id", o.id},
                    {"name", o.name},
                    {"kind", security::OrganisationKindName(o.kind)},
                    {"users", members[o.id]}});
  json kinds = json::array();
  for (int k = 0; k < store::kOrganisationKindCount; ++k)
    kinds.push_back(security::OrganisationKindName(static_cast<store::OrganisationKind>(k)));
  return Json(200, {{"organisations", std::move(rows)},
                    {"page", *page},
                    {"next_page", std::move(next)},
                    {"kinds", std::move(kinds)}});
}

HttpResponse Admin::PutOrganisation(const json& body, std::optional<std::string_view> id) {
  const std::optional<store::OrganisationKind> kind =
      security::ParseOrganisationKind(Str(body, "kind"));
  if (!kind) return Problem(400, TitleOf(400), "Choose the kind of organisation", "kind");
  store::Organisation organisation{id ? std::string(*id) : Str(body, "id"), Str(body, "name"),
                                   *kind};
  auto put = records_.PutOrganisation(organisation, id.has_value());
  if (!put.ok()) {
    if (put.error().code == ErrorCode::kNotFound)
      return Problem(404, TitleOf(404), "There is no such organisation.");
    return Refused(put.error());
  }
  return Json(id ? 200 : 201, {{"organisation",
                                {{"id", put->id},
                                 {"name", put->name},
                                 {"kind", security::OrganisationKindName(put->kind)}}}});
}

HttpResponse Admin::CareTeams(const QueryList& params) {
  auto teams = records_.CareTeams();
  if (!teams.ok()) return Refused(teams.error());
  const std::optional<int64_t> page = PageOf(params);
  if (!page) return Problem(400, TitleOf(400), "The page number must be 1 or more.", "page");
  auto names = OrganisationNames();
  if (!names.ok()) return Refused(names.error());
  auto [shown, next] = Slice(std::move(*teams), *page);
  json rows = json::array();
  for (const store::CareTeam& t : shown) rows.push_back(TeamJson(t, *names));
  return Json(200,
              {{"care_teams", std::move(rows)}, {"page", *page}, {"next_page", std::move(next)}});
}

HttpResponse Admin::CareTeam(int64_t id) {
  auto detail = records_.FindCareTeam(id);
  if (!detail.ok()) {
    if (detail.error().code == ErrorCode::kNotFound)
      return Problem(404, TitleOf(404), "There is no such care team.");
    return Refused(detail.error());
  }
  auto names = OrganisationNames();
  if (!names.ok()) return Refused(names.error());
  json team = TeamJson(detail->team, *names);
  json members = json::array();
  for (const store::User& u : detail->members)
    members.push_back({{"id", std::to_string(u.id)},
                       {"username", u.username},
                       {"display_name", u.display_name},
                       {"role", security::RoleName(u.role)}});
  team["members"] = std::move(members);
  return Json(200, {{"care_team", std::move(team)}});
}

HttpResponse Admin::CreateCareTeam(const json& body) {
  auto team = records_.CreateCareTeam(Str(body, "name"), Str(body, "organisation"));
  if (!team.ok()) return Refused(team.error());
  auto names = OrganisationNames();
  if (!names.ok()) return Refused(names.error());
  return Json(201, {{"care_team", TeamJson(*team, *names)}});
}

HttpResponse Admin::SetCapacity(int64_t id, const json& body) {
  const auto capacity = body.find("capacity");
  if (capacity == body.end() || !(capacity->is_null() || capacity->is_number_integer()))
    return Problem(400, TitleOf(400), "Enter the caseload capacity as a whole number, or none.",
                   "capacity");
  Status done = records_.SetCaseloadCapacity(
      id, capacity->is_null() ? std::nullopt : std::optional<int64_t>(capacity->get<int64_t>()));
  if (!done.ok()) {
    if (done.error().code == ErrorCode::kNotFound)
      return Problem(404, TitleOf(404), "There is no such care team.");
    return Refused(done.error());
  }
  return CareTeam(id);
}

HttpResponse Admin::ChangeCareTeam(int64_t id, bool members, const json& body) {
  const auto remove_member = body.find("remove");
  if (remove_member != body.end() && !remove_member->is_boolean())
    return Problem(400, TitleOf(400), "remove is true or false.", "remove");
  const bool remove = remove_member != body.end() && remove_member->get<bool>();
  Status done = members ? records_.ChangeCareTeamMember(id, Str(body, "username"), remove)
                        : records_.ChangeCareTeamPerson(id, Str(body, "nhs_number"), remove);
  if (!done.ok()) {
    if (done.error().code == ErrorCode::kNotFound)
      return Problem(404, TitleOf(404), "There is no such care team.");
    return Refused(done.error());
  }
  return CareTeam(id);
}

}  // namespace

HttpResponse AdminApi(records::Records& records, const http::HttpRequest& request,
                      std::span<const std::string_view> path) {
  // Whoever may not administer gets the same 404 from every address, before anything else is
  // read (a body's problems would tell them the address exists).
  if (Status s = records.PermitAdministration(); !s.ok()) return Refused(s.error());
  Admin admin(records);
  const std::string& method = request.method;
  auto not_allowed = [](std::string_view allow) {
    HttpResponse r = Problem(405, "Method not allowed", "This address does not accept that.");
    r.headers.emplace_back("Allow", std::string(allow));
    return r;
  };
  const bool get = method == "GET", post = method == "POST";
  std::optional<json> body;
  if (post) {
    body = BodyObject(request);
    if (!body) return NotAnObject();
  }
  auto params = QueryParams(request.query);
  if (!params.ok()) return FromError(params.error());
  if (path.empty()) return NoSuchPage();
  const std::string_view what = path[0];
  if (path.size() == 1) {
    if (what == "users")
      return get ? admin.Users(*params) : post ? admin.CreateUser(*body) : not_allowed("GET, POST");
    if (what == "organisations")
      return get    ? admin.Organisations(*params)
             : post ? admin.PutOrganisation(*body, std::nullopt)
                    : not_allowed("GET, POST");
    if (what == "care-teams")
      return get    ? admin.CareTeams(*params)
             : post ? admin.CreateCareTeam(*body)
                    : not_allowed("GET, POST");
    return NoSuchPage();
  }
  if (what == "organisations" && path.size() == 2)
    return post ? admin.PutOrganisation(*body, path[1]) : not_allowed("POST");
  const std::optional<int64_t> id = PositiveId(path[1]);
  if (what == "users" && id) {
    if (path.size() == 2) return post ? admin.ChangeUser(*id, *body) : not_allowed("POST");
    if (path.size() == 3 && path[2] == "password")
      return post ? admin.SetPassword(*id, *body) : not_allowed("POST");
  }
  if (what == "care-teams" && id) {
    if (path.size() == 2) return get ? admin.CareTeam(*id) : not_allowed("GET");
    if (path.size() == 3 && (path[2] == "members" || path[2] == "people"))
      return post ? admin.ChangeCareTeam(*id, path[2] == "members", *body) : not_allowed("POST");
    if (path.size() == 3 && path[2] == "capacity")
      return post ? admin.SetCapacity(*id, *body) : not_allowed("POST");
  }
  return NoSuchPage();
}

}  // namespace joinedup::webapp
