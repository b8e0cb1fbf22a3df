// Fuzzes the FHIR API request handler (api::FhirApi::Handle) against a small SQLite store.
// Input: a first line "<user> <METHOD> <path>[?query]" (user: gp, patient, privacy-officer or
// anonymous), then "name: value" header lines up to an empty line, then the body. Nothing may
// crash or throw; every answer must be a known status, never 500, and its body JSON.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api/fhir_api.h"
#include "security/scopes.h"
#include "store/store.h"

namespace {

using namespace joinedup;

void Check(bool condition) {
  if (!condition) std::abort();
}

struct World {
  std::unique_ptr<store::Store> store;
  std::optional<api::FhirApi> api;
  api::Principal gp, patient, officer;
};

api::Principal MakePrincipal(store::Store& s, const char* username, const char* scopes) {
  api::Principal p;
  const store::User u = **s.FindUser(username);
  p.username = u.username;
  p.caller.user_id = u.id;
  p.caller.role = u.role;
  p.caller.organisation_id = u.organisation_id;
  p.caller.patient_key = u.patient_key;
  p.caller.care_team_ids = *s.CareTeamsOfUser(u.id);
  p.caller.scopes = *security::ParseScopes(scopes);
  return p;
}

World& TheWorld() {
  static World* world = [] {
    auto* w = new World();
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
    api::FhirApiOptions o;
    o.base_url = "https://fuzz.example/fhir";
    o.cursor_key = std::string(32, 'f');
    o.clock = [] { return int64_t{1'790'000'000'000}; };
    w->api.emplace(o);
    w->gp = MakePrincipal(s, "gp", "user/*.cruds");
    w->patient = MakePrincipal(s, "patient", "patient/*.cruds");
    w->officer = MakePrincipal(s, "privacy-officer", "user/*.cruds");
    return w;
  }();
  return *world;
}

std::string_view NextLine(std::string_view& text) {
  const size_t end = text.find('\n');
  std::string_view line = text.substr(0, end);
  text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = TheWorld();
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view first = NextLine(input);
  api::HttpRequest req;
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

  std::optional<api::Principal> principal;
  if (user == "gp")
    principal = w.gp;
  else if (user == "patient")
    principal = w.patient;
  else if (user == "privacy-officer")
    principal = w.officer;
  const api::HttpResponse res = w.api->Handle(req, principal, *w.store);
  Check(res.status >= 200 && res.status < 600 && res.status != 500);
  if (!res.body.empty()) Check(nlohmann::json::accept(res.body));
  return 0;
}
