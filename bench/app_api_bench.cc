// Server time of the web application's API calls behind its screens (webapp/app_api.h), in
// process — no sockets, so the figures are what joinedup itself spends: the records service's
// decision, the store's queries and the audit event each call writes. On a database that
// bench/app_api.sh prepares (generated, stratified, with a GP and a commissioner):
//
//   app_api_bench --db FILE --gp USERNAME --commissioner USERNAME [--samples N]
//                 [--case-manager USERNAME --team ID]   (the caseload board and task lists)
//
// Prints, per call, the median and 99th percentile over N calls (each person page of a
// different person of the GP's practice; worklist pages 1, 2, 3 … of the GP's practice). The
// population views are computed on the first call for a run and kept: both are shown.
#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "records/records.h"
#include "security/scopes.h"
#include "store/store.h"
#include "webapp/app_api.h"

namespace {

using namespace joinedup;

http::Principal PrincipalOf(store::Store& store, const std::string& username) {
  http::Principal p;
  auto user = store.FindUser(username);
  if (!user.ok() || !*user) {
    std::fprintf(stderr, "app_api_bench: no user %s\n", username.c_str());
    std::exit(2);
  }
  const store::User& u = **user;
  p.username = u.username;
  p.caller.user_id = u.id;
  p.caller.role = u.role;
  p.caller.organisation_id = u.organisation_id;
  p.caller.patient_key = u.patient_key;
  if (auto teams = store.CareTeamsOfUser(u.id); teams.ok()) p.caller.care_team_ids = *teams;
  if (auto scopes = security::ParseScopes("user/*.cruds"); scopes.ok()) p.caller.scopes = *scopes;
  return p;
}

struct Timing {
  std::string what;
  std::vector<double> ms;
  int failures = 0;
};

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t i = std::min(values.size() - 1, static_cast<size_t>(p * (values.size() - 1) + 0.5));
  return values[i];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Server time of the web app's API calls (bench/app_api.sh prepares the database)"};
  std::string db, gp, commissioner, case_manager;
  int64_t team = 0;
  int samples = 200;
  app.add_option("--db", db, "SQLite file or postgresql:// URL")->required();
  app.add_option("--gp", gp, "A GP's username")->required();
  app.add_option("--commissioner", commissioner, "A commissioner's username")->required();
  app.add_option("--samples", samples, "Calls per figure")->check(CLI::Range(10, 100000));
  app.add_option("--case-manager", case_manager, "A case manager's username (with --team)");
  app.add_option("--team", team, "A case-management team the case manager is on");
  CLI11_PARSE(app, argc, argv);

  auto opened = store::OpenStore(db);
  if (!opened.ok()) {
    std::fprintf(stderr, "app_api_bench: %s\n", opened.error().ToString().c_str());
    return 2;
  }
  store::Store& store = **opened;
  const http::Principal gp_principal = PrincipalOf(store, gp);
  const http::Principal commissioner_principal = PrincipalOf(store, commissioner);

  // The GP's registered people, by id and NHS number: what a GP opens and searches for.
  std::vector<std::pair<std::string, std::string>> people;
  auto scanned = store.ScanPatients([&](const Patient& p) -> Status {
    if (p.practice_id == gp_principal.caller.organisation_id)
      people.emplace_back(p.id, p.nhs_number ? p.nhs_number->digits() : "");
    return Ok();
  });
  if (!scanned.ok() || people.empty()) {
    std::fprintf(stderr, "app_api_bench: no people at the GP's practice\n");
    return 2;
  }
  std::mt19937 random(7);
  std::shuffle(people.begin(), people.end(), random);

  webapp::AppApiOptions options;
  options.cursor_key = std::string(32, 'b');
  webapp::AppApi api(options);
  auto call = [&](Timing& t, const http::Principal& who, const std::string& target) {
    http::HttpRequest request;
    request.method = "GET";
    const size_t question = target.find('?');
    request.path = target.substr(0, question);
    if (question != std::string::npos) request.query = target.substr(question + 1);
    request.request_id = "bench";
    const auto start = std::chrono::steady_clock::now();
    const http::HttpResponse response = api.Handle(request, who, store);
    t.ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
    if (response.status != 200) ++t.failures;
  };

  std::vector<Timing> timings = {{"person page (GET /app/api/people/{id})", {}},
                                 {"find by NHS number (GET /app/api/people?q=…)", {}},
                                 {"worklist page (GET /app/api/worklist?practice=…&page=n)", {}},
                                 {"worklist, every visible person (GET /app/api/worklist)", {}},
                                 {"segments (GET /app/api/segments, commissioner)", {}},
                                 {"population views, first (GET /app/api/population)", {}},
                                 {"population views, then (kept for the run)", {}}};
  call(timings[5], commissioner_principal, "/population");  // computes and keeps them
  for (int i = 0; i < samples; ++i) {
    const auto& [id, nhs] = people[static_cast<size_t>(i) % people.size()];
    call(timings[0], gp_principal, "/people/" + id);
    call(timings[1], gp_principal, "/people?q=" + nhs);
    call(timings[2], gp_principal,
         "/worklist?practice=" + gp_principal.caller.organisation_id +
             "&page=" + std::to_string(1 + i % 10));
    call(timings[3], gp_principal, "/worklist?page=" + std::to_string(1 + i % 10));
    call(timings[4], commissioner_principal, "/segments");
    call(timings[6], commissioner_principal, "/population");
  }
  if (!case_manager.empty()) {
    // The case manager's home screens: the team's board (flags and tasks counted per person),
    // the team's open tasks and their own (issue 12: a board of 180 under 50 ms p99).
    const http::Principal cm = PrincipalOf(store, case_manager);
    const std::string board = "/caseloads/" + std::to_string(team);
    timings.push_back({"caseload board (GET " + board + ")", {}});
    timings.push_back({"team's tasks (GET /app/api/tasks?team=…)", {}});
    timings.push_back({"my tasks (GET /app/api/tasks)", {}});
    const size_t first = timings.size() - 3;
    for (int i = 0; i < samples; ++i) {
      call(timings[first], cm, board);
      call(timings[first + 1], cm, "/tasks?team=" + std::to_string(team));
      call(timings[first + 2], cm, "/tasks");
    }
  }
  auto counts = store.Counts();
  fmt::print(
      "app API server time, {} people in the store, {} calls each (in process, SQLite "
      "file {}):\n",
      counts.ok() ? counts->patients : 0, samples, db);
  fmt::print("{:<62} {:>9} {:>9} {:>9}\n", "call", "p50 ms", "p99 ms", "failed");
  for (const Timing& t : timings)
    fmt::print("{:<62} {:>9.2f} {:>9.2f} {:>9}\n", t.what, Percentile(t.ms, 0.5),
               Percentile(t.ms, 0.99), t.failures);
  int failed = 0;
  for (const Timing& t : timings) failed += t.failures;
  return failed == 0 ? 0 : 1;
}
