// CarePlan, Goal and Task (issue 12), kept as documents, through the API on SQLite and
// PostgreSQL: a case manager writes a plan with goals in the person's words and tasks on it;
// tasks are found by owner, status, due time and period (date parameters on the document
// index, every prefix); _include follows the plan to its goals and a task to its plan; a
// person outside the caller's relationship is answered exactly as one who does not exist.
// The population (api_test_support.h) gives each of p1…p4 a Goal, CarePlan and Task already;
// the case manager works at A81001 (p1) and is on care team T1 (p2, and p3 who declined).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <set>

#include "api_test_support.h"
#include "store_test_support.h"

namespace joinedup::api::testing {
namespace {

using json = nlohmann::json;
using store::testing::Backend;
using Set = std::set<std::string>;

constexpr std::string_view kWho = "case-manager";

class CarePlanTest : public PopulatedApiTest {
 protected:
  // Creates `resource` as the case manager and returns "Type/id".
  std::string Create(const json& resource) {
    const std::string type = resource["resourceType"];
    const HttpResponse r = Call(kWho, "POST", "/" + type, resource.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) return "";
    return type + "/" + json::parse(r.body)["id"].get<std::string>();
  }
  // The "Type/id"s of a searchset's entries with this search mode.
  Set Ids(const std::string& target, std::string_view mode = "match", std::string_view who = kWho) {
    const HttpResponse r = Call(who, "GET", target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    Set ids;
    if (r.status != 200) return ids;
    for (const json& e : json::parse(r.body).value("entry", json::array()))
      if (e["search"]["mode"] == mode)
        ids.insert(e["resource"]["resourceType"].get<std::string>() + "/" +
                   e["resource"]["id"].get<std::string>());
    return ids;
  }
  static json Ref(const std::string& reference) { return {{"reference", reference}}; }
  static json Goal(const std::string& person, const std::string& words, const std::string& due) {
    return {{"resourceType", "Goal"},
            {"lifecycleStatus", "active"},
            {"description", {{"text", words}}},
            {"subject", Ref(person)},
            {"target", {{{"dueDate", due}}}}};
  }
  static json Task(const std::string& person, const std::string& plan, const std::string& owner,
                   const std::string& status, const std::string& due) {
    return {{"resourceType", "Task"}, {"status", status},
            {"intent", "order"},      {"for", Ref(person)},
            {"focus", Ref(plan)},     {"basedOn", {Ref(plan)}},
            {"owner", Ref(owner)},    {"restriction", {{"period", {{"end", due}}}}}};
  }
};

// Mrs A's plan (seed 004): carers twice a day, a medication system, an occupational-therapy
// visit, and the midday visit she declined, in her words; a review at four weeks.
TEST_P(CarePlanTest, APlanWithGoalsAndTasksIsFoundByOwnerStatusDueAndPeriod) {
  const std::string bed = Create(Goal("Patient/p2", "To get myself to bed on my own", "2026-06"));
  const std::string home = Create(Goal("Patient/p2", "To stay in my own home", "2027"));
  json plan_json = {
      {"resourceType", "CarePlan"},
      {"status", "active"},
      {"intent", "plan"},
      {"subject", Ref("Patient/p2")},
      {"period", {{"start", "2026-04-20"}}},
      {"goal", {Ref(bed), Ref(home)}},
      {"activity",
       {{{"detail",
          {{"status", "in-progress"},
           {"description", "Carers twice a day to help me get up and get to bed"}}}},
        {{"detail",
          {{"status", "cancelled"},
           {"doNotPerform", true},
           {"description",
            "No visit in the middle of the day: I'd soon lose my confidence if someone was "
            "doing everything for me"}}}}}}};
  const std::string plan = Create(plan_json);
  ASSERT_FALSE(plan.empty());
  // The OT visit is due at five on 1 May (BST), the review at four weeks (18 May, noon UTC);
  // the medication system was set up on 25 April.
  json ot_json =
      Task("Patient/p2", plan, "Practitioner/ot1", "requested", "2026-05-01T17:00:00+01:00");
  ot_json["executionPeriod"] = {{"start", "2026-04-28"}};
  const std::string ot = Create(ot_json);
  const std::string review =
      Create(Task("Patient/p2", plan, "Practitioner/cm1", "requested", "2026-05-18T12:00:00Z"));
  const std::string tablets =
      Create(Task("Patient/p2", plan, "Practitioner/cm1", "completed", "2026-04-25"));
  const std::string focus = "/Task?focus=" + plan;

  // Owner and status.
  EXPECT_EQ(Ids("/Task?owner=Practitioner/cm1"), (Set{review, tablets}));
  EXPECT_EQ(Ids("/Task?owner=cm1&status=requested"), Set{review});
  EXPECT_EQ(Ids("/Task?owner=Practitioner/ot1,Practitioner/cm1&status=requested"),
            (Set{ot, review}));
  // Due: the day 1 May holds the OT visit's due second (16:00Z); a month holds a day; a
  // dateTime with a zone is the same instant in UTC.
  EXPECT_EQ(Ids(focus + "&due=2026-05-01"), Set{ot});
  EXPECT_EQ(Ids(focus + "&due=le2026-05-01"), (Set{ot, tablets}));
  EXPECT_EQ(Ids(focus + "&due=lt2026-05-01"), Set{tablets});
  EXPECT_EQ(Ids(focus + "&due=gt2026-05-01"), Set{review});
  EXPECT_EQ(Ids(focus + "&due=ge2026-05-01"), (Set{ot, review}));
  EXPECT_EQ(Ids(focus + "&due=ne2026-05-01"), (Set{review, tablets}));
  EXPECT_EQ(Ids(focus + "&due=2026-05"), (Set{ot, review}));
  EXPECT_EQ(Ids(focus + "&due=2026-05-01T16:00:00Z"), Set{ot});
  EXPECT_EQ(Ids(focus + "&due=2026-05-01T17:00:00%2B01:00"), Set{ot});
  EXPECT_EQ(Ids(focus + "&due=sa2026-05-01"), Set{review});
  EXPECT_EQ(Ids(focus + "&due=eb2026-05-01"), Set{tablets});
  EXPECT_EQ(Ids(focus + "&due=ap2026-05-18"), Set{review}) << "a day either side";
  // Overdue first: what is still requested and due before now (the population's clock).
  EXPECT_EQ(Ids(focus + "&status=requested&due=lt2026-05-10"), Set{ot});
  // Period: the OT visit's executionPeriod has only a start (open after it).
  EXPECT_EQ(Ids(focus + "&period=ge2026-05-01"), Set{ot});
  EXPECT_EQ(Ids(focus + "&period=2026-04-28"), Set{}) << "an open period is inside no day";
  EXPECT_EQ(Ids(focus + "&period=sa2026-04-27"), Set{ot});

  // Goals by target date: a partial date is the range it names.
  const std::string goals =
      "/Goal?_id=" + bed.substr(5) + "," + home.substr(5) + "&patient=p2&target-date=";
  EXPECT_EQ(Ids(goals + "2026"), Set{bed}) << "June 2026 lies in 2026";
  EXPECT_EQ(Ids(goals + "2026-06"), Set{bed});
  EXPECT_EQ(Ids(goals + "2026-06-15"), Set{}) << "eq: a month is not inside one day";
  EXPECT_EQ(Ids(goals + "ap2026-06-15"), Set{bed});
  EXPECT_EQ(Ids(goals + "2027"), Set{home});
  EXPECT_EQ(Ids(goals + "gt2026-12-31"), Set{home});
  // The plan's period has only a start: after it, never inside a finite range.
  EXPECT_EQ(Ids("/CarePlan?patient=p2&date=ge2026-04-20&_id=" + plan.substr(9)), Set{plan});
  EXPECT_EQ(Ids("/CarePlan?patient=p2&date=2026&_id=" + plan.substr(9)), Set{});

  // _include follows the plan to its goals, a task to its plan; _revinclude back.
  EXPECT_EQ(Ids("/CarePlan?_id=" + plan.substr(9) + "&_include=CarePlan:goal", "include"),
            (Set{bed, home}));
  EXPECT_EQ(Ids("/Task?_id=" + ot.substr(5) + "&_include=Task:focus", "include"), Set{plan});
  EXPECT_EQ(Ids("/Goal?_id=" + bed.substr(5) + "&_revinclude=CarePlan:goal", "include"), Set{plan});
  EXPECT_EQ(Ids("/CarePlan?_id=" + plan.substr(9) + "&_revinclude=Task:focus", "include"),
            (Set{ot, review, tablets}));

  // The plan's activities linked to their tasks, with If-Match: the index follows the update.
  plan_json["id"] = plan.substr(9);
  plan_json["activity"].push_back({{"reference", Ref(ot)}});
  const HttpResponse stale =
      Call(kWho, "PUT", "/" + plan, plan_json.dump(), {{"if-match", "W/\"9\""}});
  EXPECT_EQ(stale.status, 412) << stale.body;
  const HttpResponse linked =
      Call(kWho, "PUT", "/" + plan, plan_json.dump(), {{"if-match", "W/\"1\""}});
  ASSERT_EQ(linked.status, 200) << linked.body;
  EXPECT_EQ(Ids("/CarePlan?activity-reference=" + ot), Set{plan});
  // Her own words are kept as written.
  const HttpResponse read = Call("gp", "GET", "/" + plan);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(json::parse(read.body)["activity"][1]["detail"]["description"],
            plan_json["activity"][1]["detail"]["description"]);
}

// p4 is at another practice and on no care team of the case manager's: every answer about
// p4's plan is the answer about a plan that does not exist.
TEST_P(CarePlanTest, APersonOutsideTheRelationshipIsIndistinguishableFromMissing) {
  for (const std::string type : {"CarePlan", "Goal", "Task"}) {
    SCOPED_TRACE(type);
    const std::string prefix = type == "CarePlan" ? "cp-" : type == "Goal" ? "g-" : "t-";
    const HttpResponse hidden = Call(kWho, "GET", "/" + type + "/" + prefix + "p4");
    const HttpResponse missing = Call(kWho, "GET", "/" + type + "/" + prefix + "p9");
    EXPECT_EQ(hidden.status, 404) << hidden.body;
    EXPECT_EQ(missing.status, 404) << missing.body;
    EXPECT_EQ(json::parse(hidden.body)["issue"][0]["code"],
              json::parse(missing.body)["issue"][0]["code"]);
    EXPECT_EQ(Ids("/" + type + "?patient=p4"), Set{});
    EXPECT_EQ(Ids("/" + type + "?patient=p9"), Set{});
  }
  EXPECT_EQ(Ids("/Task?owner=Practitioner/pr1&_total=accurate"), (Set{"Task/t-p1", "Task/t-p2"}))
      << "p3 declined sharing beyond their practice; p4 is another practice's";
  // Writing about p4 is refused as about nobody, naming the element.
  const HttpResponse hidden = Call(
      kWho, "POST", "/Task",
      Task("Patient/p4", "CarePlan/cp-p4", "Practitioner/cm1", "requested", "2026-05-01").dump());
  const HttpResponse nobody = Call(
      kWho, "POST", "/Task",
      Task("Patient/p9", "CarePlan/cp-p4", "Practitioner/cm1", "requested", "2026-05-01").dump());
  EXPECT_EQ(hidden.status, 422) << hidden.body;
  EXPECT_EQ(nobody.status, 422) << nobody.body;
  EXPECT_EQ(json::parse(hidden.body)["issue"][0]["expression"][0], "for.reference");
  EXPECT_EQ(json::parse(hidden.body)["issue"][0]["diagnostics"], "Patient/p4 is not known");
  EXPECT_EQ(json::parse(nobody.body)["issue"][0]["diagnostics"], "Patient/p9 is not known");
  // A plan of the caller's own person that names p4's goal does not carry it out through an
  // include: the goal is p4's record.
  json plan = {{"resourceType", "CarePlan"},
               {"status", "draft"},
               {"intent", "plan"},
               {"subject", Ref("Patient/p1")},
               {"goal", {Ref("Goal/g-p4"), Ref("Goal/g-p1")}}};
  const std::string mine = Create(plan);
  EXPECT_EQ(Ids("/CarePlan?_id=" + mine.substr(9) + "&_include=CarePlan:goal", "include"),
            Set{"Goal/g-p1"});
  EXPECT_EQ(Ids("/Goal?_id=g-p4&_revinclude=CarePlan:goal"), Set{});
  // The commissioner sees no one's plan at all.
  EXPECT_EQ(Call("commissioner", "GET", "/CarePlan?patient=p1").status, 403);
}

// One target type per reference parameter (resources/registry.h): a Task's owner is a
// Practitioner; a team (Organization, CareTeam) is refused naming the element, not dropped.
TEST_P(CarePlanTest, AnOwnerOfAnotherTypeIsRefusedNamingTheElement) {
  const HttpResponse team =
      Call(kWho, "POST", "/Task",
           Task("Patient/p1", "CarePlan/cp-p1", "Organization/A81001", "requested", "2026-05-01")
               .dump());
  EXPECT_EQ(team.status, 422) << team.body;
  EXPECT_EQ(json::parse(team.body)["issue"][0]["expression"][0], "owner.reference");
  json bad_due = Task("Patient/p1", "CarePlan/cp-p1", "Practitioner/cm1", "requested", "soon");
  const HttpResponse due = Call(kWho, "POST", "/Task", bad_due.dump());
  EXPECT_EQ(due.status, 422) << due.body;
  EXPECT_EQ(json::parse(due.body)["issue"][0]["expression"][0], "restriction.period.end");
}

INSTANTIATE_TEST_SUITE_P(Backends, CarePlanTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const auto& info) { return store::testing::BackendName(info.param); });

}  // namespace
}  // namespace joinedup::api::testing
