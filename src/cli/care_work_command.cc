// joinedup caseload care-work: the everyday work of a case-management team, for a
// demonstration or a training database — for most people on the team's caseload, their
// personalised care and support plan (records/care_plan.h, PRSB PCSP-shaped) with goals in
// plausible personal words, the visits and reviews it plans as open Tasks (some due today, a
// few missed, the review falling due), written as their named coordinator would write them:
// through the records service, so every write is decided and audited as that person's.
// The escalation rules (`joinedup escalate`) then find the missed visits.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "core/date.h"
#include "records/care_plan.h"
#include "records/escalation.h"
#include "records/records.h"
#include "resources/query.h"
#include "security/audit.h"
#include "security/scopes.h"
#include "store/store.h"

namespace joinedup::cli {
namespace {

using json = nlohmann::json;

constexpr int64_t kHourMs = 60LL * 60 * 1000;
constexpr int64_t kDayMs = 24 * kHourMs;

// Goals as people put them (the kind of wording seed 004's Mrs A uses: "to get back to normal
// and keep my independence"); invented for the demonstration.
constexpr const char* kGoals[] = {
    "To stay in my own home",
    "To walk to the shops on my own again",
    "To be well enough for my granddaughter's wedding in the summer",
    "Not to end up back in hospital this winter",
    "To manage my tablets myself",
    "To get back to the lunch club on Thursdays",
    "To have a bath without worrying about falling",
    "To sleep through the night without the pain waking me",
    "To keep my garden going",
    "To see my friends at church on Sundays",
    "To get back to normal and keep my independence",
    "To keep looking after my husband at home",
};
constexpr const char* kCommunication[] = {
    "I am hard of hearing in my left ear: please face me and speak clearly.",
    "I prefer a phone call to a letter. My daughter reads my post for me.",
    "Please call me by my first name, and give me time to answer.",
    "My English is good but I read Punjabi more easily; my son can help.",
};
constexpr const char* kPeople[] = {
    "My daughter visits on Saturdays; my neighbour pops in most days.",
    "My husband — we have been married 58 years. He has dementia and I look after him.",
    "My son lives in Leeds and phones every evening.",
    "My cat, Smudge. Please make sure someone feeds her if I go into hospital.",
};
constexpr const char* kSupport[] = {
    "Mornings are hard: I am stiff until about ten, so please don't come early.",
    "I like to do as much as I can for myself; help me to do it, don't do it for me.",
    "Ring before you visit — I don't open the door to people I'm not expecting.",
};
constexpr const char* kMatters[] = {
    "Staying independent and in my own home.",
    "Being able to look after my husband.",
    "Getting out of the house and seeing people.",
    "Not being a burden on my family.",
};

struct Activity {
  const char* what;
  const char* who;
  const char* when;
};
constexpr Activity kActivities[] = {
    {"Help to get up in the morning and to bed at night", "Home care agency", "Twice a day"},
    {"Tablets in a weekly blister pack, checked at each visit", "Community pharmacist and carers",
     "Weekly"},
    {"A home visit to see what rails or a bath seat would make home safer",
     "Occupational therapist", "Within four weeks"},
    {"The lunch club and the befriending service", "Age UK link worker", "Thursdays"},
    {"Check weight and ankle swelling; review water tablets", "Community nurse", "Fortnightly"},
};

struct CareWorkOptions {
  std::string db = DefaultDatabaseUrl();
  int64_t team = 0;
  double plans = 0.85;  // share of the active caseload given a plan
  unsigned seed = 1;
};

// Acts as `user` through the records service, as a signed-in session of theirs would.
records::Records As(store::Store& store, const store::User& user, std::vector<int64_t> teams) {
  records::Requester r;
  r.caller.user_id = user.id;
  r.caller.role = user.role;
  r.caller.organisation_id = user.organisation_id;
  r.caller.care_team_ids = std::move(teams);
  auto scopes = security::ParseScopes("user/*.cruds");
  if (scopes.ok()) r.caller.scopes = *scopes;
  r.actor.user_id = user.id;
  r.actor.username = user.username;
  r.actor.role = std::string(security::RoleName(user.role));
  r.actor.organisation_id = user.organisation_id;
  r.actor.source_address = "local";
  r.actor.request_id = "caseload-care-work";
  return records::Records(store, std::move(r), security::SystemClockMs);
}

// "2026-12-08T09:00:00Z": whole seconds, as FHIR instants are written here.
std::string Iso(int64_t ms) { return resources::IndexInstant(ms / 1000); }

json Task(const std::string& patient_id, const store::User& owner, const char* code,
          const char* display, std::string description, int64_t due_ms, int64_t now_ms,
          const std::string& plan_id) {
  json task = {{"resourceType", "Task"},
               {"status", "requested"},
               {"intent", "plan"},
               {"priority", "routine"},
               {"code", {{"coding", json::array({{{"system", records::kCareTaskSystem},
                                                  {"code", code},
                                                  {"display", display}}})}}},
               {"description", std::move(description)},
               {"for", {{"reference", "Patient/" + patient_id}}},
               {"authoredOn", Iso(now_ms)},
               {"owner", {{"reference", "Practitioner/" + owner.username},
                          {"display", owner.display_name}}},
               {"restriction", {{"period", {{"end", Iso(due_ms)}}}}}};
  if (!plan_id.empty()) task["focus"] = {{"reference", "CarePlan/" + plan_id}};
  return task;
}

Status CareWork(const CareWorkOptions& o) {
  JU_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> s, store::OpenStore(o.db));
  JU_ASSIGN_OR_RETURN(std::optional<store::CareTeam> team, s->FindCareTeam(o.team));
  if (!team) return Error::NotFound("--team: care team " + std::to_string(o.team) + " is not known");
  store::CaseEpisodeQuery query;
  query.care_team_id = o.team;
  query.limit = 100'000;
  JU_ASSIGN_OR_RETURN(std::vector<CaseEpisode> episodes, s->CaseEpisodes(query));
  std::mt19937 random(o.seed);
  const int64_t now = security::SystemClockMs();
  const int64_t today = now - now % kDayMs;
  int64_t plans = 0, goals = 0, tasks = 0, missed = 0;
  for (const CaseEpisode& e : episodes) {
    if (e.status != EpisodeStatus::kActive || e.coordinator_id == 0) continue;
    if (std::uniform_real_distribution<double>(0, 1)(random) >= o.plans) continue;
    JU_ASSIGN_OR_RETURN(std::optional<store::User> coordinator, s->FindUserById(e.coordinator_id));
    if (!coordinator) continue;
    JU_ASSIGN_OR_RETURN(std::vector<int64_t> teams, s->CareTeamsOfUser(coordinator->id));
    records::Records records = As(*s, *coordinator, std::move(teams));
    auto pick = [&](const auto& list) { return list[random() % std::size(list)]; };

    // Their goals first (a plan names them), one or two in their own words.
    const int goal_count = 1 + static_cast<int>(random() % 2);
    for (int g = 0; g < goal_count; ++g) {
      records::GoalEdit goal;
      goal.text = pick(kGoals);
      goal.target_date = Date::FromDays(static_cast<int32_t>(
                             (today + static_cast<int64_t>(30 + random() % 150) * kDayMs) / kDayMs))
                             .ToString();
      goal.status = "active";
      goal.agreed_with_person = true;
      goal.in_persons_words = true;
      goal.author_name = coordinator->display_name;
      JU_ASSIGN_OR_RETURN(records::Written written, records.CreateGoal(e.patient_id, goal));
      (void)written;
      ++goals;
    }

    // The plan, as written with them at the first visit.
    records::PlanEdit plan;
    plan.author_name = coordinator->display_name;
    plan.sections = {{"about-me-communication", pick(kCommunication)},
                     {"about-me-people", pick(kPeople)},
                     {"about-me-support", pick(kSupport)},
                     {"what-matters", pick(kMatters)},
                     {"contingency",
                      "If I get more breathless, my ankles swell or I feel muddled, ring the "
                      "practice the same day. If I fall and cannot get up, press my pendant alarm."},
                     {"self-care", "I weigh myself every morning and write it in my diary."}};
    // Telephone numbers from Ofcom's range kept for drama (020 7946 0000–0999): no one's.
    plan.contacts = {{"contact-in-hours",
                      {team->name + " (" + coordinator->display_name + ")",
                       "020 7946 0" + std::to_string(100 + e.care_team_id % 800)}},
                     {"contact-out-of-hours", {"NHS 111", "111"}}};
    plan.review_date = Date::FromDays(static_cast<int32_t>(
                           (today + static_cast<int64_t>(random() % 60) * kDayMs) / kDayMs))
                           .ToString();
    std::vector<records::PlanActivity> activities;
    for (const Activity& a : kActivities)
      if (random() % 2 == 0) activities.push_back({a.what, a.who, a.when, "scheduled", ""});
    if (activities.empty()) activities.push_back({kActivities[0].what, kActivities[0].who, kActivities[0].when, "scheduled", ""});
    plan.activities = std::move(activities);
    JU_ASSIGN_OR_RETURN(records::Written written, records.CreatePlan(e.patient_id, plan));
    ++plans;

    // The plan's review, falling due between a few days ago and six weeks on, and the next
    // planned visit: in the coming week, except about one in twelve, due three hours ago and
    // not done (the escalation rules raise those).
    const int64_t review_due = today + (static_cast<int64_t>(random() % 45) - 3) * kDayMs + 16 * kHourMs;
    JU_ASSIGN_OR_RETURN(records::Written review,
                        records.Create("Task", Task(e.patient_id, *coordinator, "plan-review",
                                                    "Care plan review",
                                                    "Review the care plan with them", review_due,
                                                    now, written.record.id)
                                                   .dump()));
    const bool was_missed = random() % 12 == 0;
    const int64_t visit_due = was_missed ? now - now % kHourMs - 3 * kHourMs
                                         : today + static_cast<int64_t>(1 + random() % 7) * kDayMs +
                                               static_cast<int64_t>(10 + random() % 7) * kHourMs;
    JU_ASSIGN_OR_RETURN(records::Written visit,
                        records.Create("Task", Task(e.patient_id, *coordinator, "planned-visit",
                                                    "Planned visit",
                                                    "Visit at home: check how things are going",
                                                    visit_due, now, written.record.id)
                                                   .dump()));
    (void)review;
    (void)visit;
    tasks += 2;
    missed += was_missed;
  }
  std::printf("care team %lld (%s): %lld care plans, %lld goals, %lld open tasks (%lld visits "
              "missed today)\n",
              static_cast<long long>(o.team), team->name.c_str(), static_cast<long long>(plans),
              static_cast<long long>(goals), static_cast<long long>(tasks),
              static_cast<long long>(missed));
  return Ok();
}

}  // namespace

void AddCareWorkCommand(CLI::App& caseload, int* exit_code) {
  auto options = std::make_shared<CareWorkOptions>();
  auto* cmd = caseload.add_subcommand(
      "care-work", "Write plans, goals and tasks for a team's caseload, as its coordinators (a demo)");
  cmd->add_option("--db", options->db, "Store: a SQLite file path or postgresql:// URL")
      ->capture_default_str();
  cmd->add_option("--team", options->team, "The care team's id")->required();
  cmd->add_option("--plans", options->plans, "Share of the active caseload given a plan")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--seed", options->seed, "Random seed")->capture_default_str();
  cmd->callback([options, exit_code] {
    ReportFailure("caseload care-work", CareWork(*options), exit_code);
  });
}

}  // namespace joinedup::cli
