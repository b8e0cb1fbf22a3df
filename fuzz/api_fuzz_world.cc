#include "api_fuzz_world.h"

#include <cstdlib>

#include "security/scopes.h"

namespace joinedup::fuzz {

void Check(bool condition) {
  if (!condition) std::abort();
}

namespace {

http::Principal MakePrincipal(store::Store& s, const char* username, const char* scopes) {
  http::Principal p;
  const store::User u = **s.FindUser(username);
  p.username = u.username;
  p.display_name = u.display_name;
  p.caller.user_id = u.id;
  p.caller.role = u.role;
  p.caller.organisation_id = u.organisation_id;
  p.caller.patient_key = u.patient_key;
  p.caller.care_team_ids = *s.CareTeamsOfUser(u.id);
  p.caller.scopes = *security::ParseScopes(scopes);
  return p;
}

std::string_view NextLine(std::string_view& text) {
  const size_t end = text.find('\n');
  std::string_view line = text.substr(0, end);
  text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace

ApiWorld& TheApiWorld() {
  static ApiWorld* world = [] {
    auto* w = new ApiWorld();
    w->store = store::OpenStore(":memory:").value();
    store::Store& s = *w->store;
    {
      auto writer = s.BeginWrite().value();
      Check(writer->Add(Practice{"A81001", "Alpha", "PCH1", "E1"}).ok());
      for (int n = 1; n <= 2; ++n) {
        Patient p;
        p.id = "p" + std::to_string(n);
        p.nhs_number = *NhsNumber::Parse(n == 1 ? "9434765919" : "9434765870");
        p.family_name = "Smith";
        p.given_name = "Ann";
        p.birth_date = Date::FromYmd(1950, 1, n);
        p.practice_id = n == 1 ? "A81001" : "";
        Check(writer->Add(p).ok());
        ClinicalEvent c;
        c.id = "c-p" + std::to_string(n);
        c.patient_id = p.id;
        c.code = "44054006";
        c.date = Date::FromYmd(2020, 1, n);
        Check(writer->Add(c).ok());
      }
      Check(writer->Commit().ok());
    }
    Check(s.PutOrganisation({"A81001", "Alpha", store::OrganisationKind::kGpPractice}).ok());
    auto add = [&](const char* name, store::Role role, std::optional<int64_t> key) {
      store::User u;
      u.username = name;
      u.display_name = name;
      u.organisation_id = "A81001";
      u.role = role;
      u.password_hash = "x";
      u.patient_key = key;
      Check(s.AddUser(u).ok());
    };
    const int64_t p1 = *(*s.FindResource("Patient", "p1"))->patient_key;
    add("gp", store::Role::kGp, std::nullopt);
    add("patient", store::Role::kPatient, p1);
    add("privacy-officer", store::Role::kPrivacyOfficer, std::nullopt);
    add("commissioner", store::Role::kCommissioner, std::nullopt);
    add("administrator", store::Role::kAdministrator, std::nullopt);
    // A case-management team with the GP on it and room for two (the caseload routes).
    const int64_t team = *s.AddCareTeam("Case management", "A81001");
    Check(s.AddCareTeamMember(team, (*s.FindUser("gp"))->id).ok());
    Check(s.SetCareTeamCapacity(team, 2).ok());
    w->gp = MakePrincipal(s, "gp", "user/*.cruds");
    w->patient = MakePrincipal(s, "patient", "patient/*.cruds");
    w->officer = MakePrincipal(s, "privacy-officer", "user/*.cruds");
    w->commissioner = MakePrincipal(s, "commissioner", "user/*.cruds");
    w->administrator = MakePrincipal(s, "administrator", "user/*.cruds");
    return w;
  }();
  return *world;
}

FuzzRequest ParseFuzzRequest(std::string_view input) {
  ApiWorld& w = TheApiWorld();
  FuzzRequest out;
  http::HttpRequest& req = out.request;
  std::string_view first = NextLine(input);
  const size_t s1 = first.find(' ');
  const std::string_view user = first.substr(0, s1);
  first.remove_prefix(s1 == std::string_view::npos ? first.size() : s1 + 1);
  const size_t s2 = first.find(' ');
  req.method = std::string(first.substr(0, s2));
  first.remove_prefix(s2 == std::string_view::npos ? first.size() : s2 + 1);
  const size_t q = first.find('?');
  req.path = std::string(first.substr(0, q));
  if (q != std::string_view::npos) req.query = std::string(first.substr(q + 1));
  while (!input.empty()) {
    std::string_view line = NextLine(input);
    if (line.empty()) break;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    req.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  req.body = std::string(input);
  req.remote_address = "192.0.2.1";
  req.request_id = "fuzz";
  if (user == "gp")
    out.principal = w.gp;
  else if (user == "patient")
    out.principal = w.patient;
  else if (user == "privacy-officer")
    out.principal = w.officer;
  else if (user == "commissioner")
    out.principal = w.commissioner;
  else if (user == "administrator")
    out.principal = w.administrator;
  return out;
}

}  // namespace joinedup::fuzz
