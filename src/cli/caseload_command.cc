// joinedup caseload seed | capacity: caseloads for a demonstration or a pilot's first day. `seed`
// fills a case-management team's caseload from the latest stratification run — the people at
// highest emergency-admission risk who are not on a caseload yet, at the practices the team
// serves — up to a share of its capacity, with a short waiting list, shared round-robin among
// its coordinators, so the screens show work as a team near capacity has it. Every enrolment is
// audited (case-enrol, by the operator) and puts the person on the team's care team.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "security/audit.h"
#include "security/policy.h"
#include "store/store.h"

namespace joinedup::cli {
namespace {

constexpr int64_t kDayMs = 24LL * 60 * 60 * 1000;

struct CaseloadOptions {
  std::string db = DefaultDatabaseUrl();
  int64_t team = 0;
  std::optional<int64_t> capacity;
  std::vector<std::string> practices;  // ODS codes the team serves; empty: every practice
  double fill = 0.93;                  // share of capacity to fill
  int waiting = 4;                     // people on the waiting list besides
  unsigned seed = 1;
};

Status SetCapacity(const CaseloadOptions& o) {
  JU_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> s, store::OpenStore(o.db));
  JU_RETURN_IF_ERROR(s->SetCareTeamCapacity(o.team, o.capacity));
  security::AuditEntry entry;
  entry.action = 'U';
  entry.subtype = "care-team-update";
  entry.query = "care_team=" + std::to_string(o.team) + "&capacity=" +
                (o.capacity ? std::to_string(*o.capacity) : std::string("none"));
  JU_RETURN_IF_ERROR(security::AuditTrail(*s, security::SystemClockMs)
                         .Record(security::AuditActor::Operator(), std::move(entry)));
  std::printf("care team %lld: caseload capacity %s\n", static_cast<long long>(o.team),
              o.capacity ? std::to_string(*o.capacity).c_str() : "none");
  return Ok();
}

Status Seed(const CaseloadOptions& o) {
  JU_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> s, store::OpenStore(o.db));
  JU_ASSIGN_OR_RETURN(std::optional<store::CareTeam> team, s->FindCareTeam(o.team));
  if (!team) return Error::NotFound("--team: care team " + std::to_string(o.team) + " is not known");
  if (!team->capacity) return Error::Invalid("--team: set the team's capacity first (caseload capacity)");
  // Its coordinators: members whose role may update clinical records (as Records requires).
  JU_ASSIGN_OR_RETURN(std::vector<int64_t> members, s->CareTeamMembers(o.team));
  std::vector<int64_t> coordinators;
  for (int64_t id : members) {
    JU_ASSIGN_OR_RETURN(std::optional<store::User> user, s->FindUserById(id));
    if (user && !user->disabled && user->role != store::Role::kPatient &&
        security::RoleAllows(user->role, security::Category::kClinical,
                             security::Interaction::kUpdate))
      coordinators.push_back(id);
  }
  if (coordinators.empty())
    return Error::Invalid("--team: the team has no member who may coordinate care");
  JU_ASSIGN_OR_RETURN(std::vector<StratificationRun> runs, s->Runs());
  if (runs.empty()) return Error::Invalid("no stratification run yet: run `joinedup stratify`");
  JU_ASSIGN_OR_RETURN(store::CaseloadCount count, s->CountCaseload(o.team));
  const int64_t target = static_cast<int64_t>(std::floor(*team->capacity * o.fill));
  const int64_t to_enrol = std::max<int64_t>(0, target - count.active);
  const int64_t wanted = to_enrol + std::max(0, o.waiting);

  // The highest-risk people not on a caseload, at the team's practices.
  std::vector<int64_t> keys;
  store::ResourceStore::WorklistQuery query;
  query.run_id = runs.front().id;
  query.not_on_caseload = true;
  const store::Visibility everyone{store::Visibility::Kind::kEveryone, 0, "", 0};
  for (size_t p = 0; p < std::max<size_t>(1, o.practices.size()); ++p) {
    query.practice_id = o.practices.empty() ? "" : o.practices[p];
    query.limit = static_cast<int>(std::min<int64_t>(wanted, 1000));
    JU_ASSIGN_OR_RETURN(std::vector<store::FoundResource> rows, s->WorklistRows(query, everyone));
    for (const store::FoundResource& row : rows)
      if (row.patient_key) keys.push_back(*row.patient_key);
  }
  keys.resize(std::min<size_t>(keys.size(), static_cast<size_t>(wanted)));

  std::mt19937 random(o.seed);
  const int64_t now = security::SystemClockMs();
  int64_t enrolled = 0, waiting = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    store::CaseEpisodeWrite write;
    store::CaseEpisode& e = write.episode;
    e.patient_key = keys[i];
    e.care_team_id = o.team;
    e.source = random() % 4 == 0 ? "gp" : random() % 3 == 0 ? "mdt" : "case-finding";
    e.updated_by = coordinators.front();
    e.updated_at_ms = now;
    if (static_cast<int64_t>(i) < to_enrol) {
      // On the caseload for between two weeks and eighteen months, most for a few months.
      const int64_t days = 14 + static_cast<int64_t>(random() % 540 * (random() % 3 + 1) / 3);
      e.status = store::EpisodeStatus::kActive;
      e.coordinator_id = coordinators[i % coordinators.size()];
      e.requested_at_ms = now - days * kDayMs;
      e.started_at_ms = e.requested_at_ms + static_cast<int64_t>(random() % 5) * kDayMs;
      ++enrolled;
    } else {
      e.status = store::EpisodeStatus::kWaiting;
      e.requested_at_ms = now - static_cast<int64_t>(random() % 14 + 1) * kDayMs;
      ++waiting;
    }
    JU_ASSIGN_OR_RETURN(store::CaseEpisode written, s->WriteCaseEpisode(write));
    security::AuditEntry entry;
    entry.action = 'C';
    entry.subtype = "case-enrol";
    entry.query = "episode=" + std::to_string(written.id) + "&team=" + std::to_string(o.team) +
                  "&seeded";
    entry.patient_keys = {written.patient_key};
    JU_RETURN_IF_ERROR(security::AuditTrail(*s, security::SystemClockMs)
                           .Record(security::AuditActor::Operator(), std::move(entry)));
  }
  std::printf("care team %lld (%s): %lld enrolled with %zu coordinator(s), %lld waiting; "
              "caseload now %lld of %lld\n",
              static_cast<long long>(o.team), team->name.c_str(),
              static_cast<long long>(enrolled), coordinators.size(),
              static_cast<long long>(waiting), static_cast<long long>(count.active + enrolled),
              static_cast<long long>(*team->capacity));
  return Ok();
}

}  // namespace

void AddCaseloadCommands(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<CaseloadOptions>();
  auto* caseload = app.add_subcommand("caseload", "Case-management caseloads");
  caseload->require_subcommand(1);
  auto* capacity = caseload->add_subcommand("capacity", "Set a care team's caseload capacity");
  capacity->add_option("--db", options->db, "Store: a SQLite file path or postgresql:// URL")
      ->capture_default_str();
  capacity->add_option("--team", options->team, "The care team's id")->required();
  capacity->add_option("--capacity", options->capacity,
                       "People on the caseload at most (seed 001: about 120, 180 with care "
                       "assistants); omit for none");
  capacity->callback(
      [options, exit_code] { ReportFailure("caseload capacity", SetCapacity(*options), exit_code); });
  auto* seed = caseload->add_subcommand(
      "seed", "Fill a team's caseload from the latest run's highest-risk people (a demo)");
  seed->add_option("--db", options->db, "Store: a SQLite file path or postgresql:// URL")
      ->capture_default_str();
  seed->add_option("--team", options->team, "The care team's id")->required();
  seed->add_option("--practice", options->practices,
                   "ODS code of a practice the team serves (repeatable; default every practice)");
  seed->add_option("--fill", options->fill, "Share of the capacity to fill")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  seed->add_option("--waiting", options->waiting, "People on the waiting list besides")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  seed->add_option("--seed", options->seed, "Random seed")->capture_default_str();
  seed->callback([options, exit_code] { ReportFailure("caseload seed", Seed(*options), exit_code); });
  AddCareWorkCommand(*caseload, exit_code);
}

}  // namespace joinedup::cli
