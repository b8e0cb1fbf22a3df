// Caseloads through the web application's API (/app/api/caseloads and /episodes,
// webapp/caseload_api.h) on the test population (api_test_support.h): enrolment with a named
// coordinator, a team's capacity and waiting list, transfer and discharge; the relationship the
// team gains and, after the grace period, loses; no lost update; people, teams and episodes the
// caller may not see answer exactly as ones that do not exist; every call audited.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>

#include "api_test_support.h"
#include "core/calendar.h"
#include "records/escalation.h"
#include "security/policy.h"
#include "store_test_support.h"
#include "api/fhir_api.h"
#include "webapp/app_api.h"

namespace joinedup::api::testing {
namespace {

using json = nlohmann::json;

constexpr int64_t kDayMs = 24LL * 60 * 60 * 1000;

class CaseloadTest : public AppApiTestBase {
 protected:
  void SetUp() override {
    AppApiTestBase::SetUp();
    if (HasFatalFailure()) return;
    // A community trust's case-management team, with a case manager and a care assistant who
    // are on no other team; and a GP at the practice p4 is registered with.
    ASSERT_TRUE(store_->PutOrganisation({"RY1", "Community Trust",
                                         store::OrganisationKind::kCommunityTrust})
                    .ok());
    team_ = *store_->AddCareTeam("Case management North", "RY1");
    other_team_ = *store_->AddCareTeam("Case management South", "RY1");
    cm_ = AddStaff("cm-north", "RY1", store::Role::kCaseManager, team_);
    hsca_ = AddStaff("hsca-north", "RY1", store::Role::kCareAssistant, team_);
    cm2_ = AddStaff("cm2-north", "RY1", store::Role::kCaseManager, team_);
    south_ = AddStaff("cm-south", "RY1", store::Role::kCaseManager, other_team_);
    AddStaff("gp-beta", "B82002", store::Role::kGp, 0);
    webapp::AppApiOptions options;
    options.cursor_key = TestCursorKey();
    options.clock = [this] { return now_; };
    api_ = std::make_unique<webapp::AppApi>(options);
  }

  int64_t AddStaff(const std::string& username, const std::string& org, store::Role role,
                   int64_t team) {
    return AddTestUser(*store_, username, "Staff " + username, org, role, team);
  }

  HttpResponse Call(std::string_view who, std::string_view method, std::string_view target,
                    const json& body = nullptr) {
    return api_->Handle(Request(method, target, body.is_null() ? "" : body.dump(), {}),
                        PrincipalOf(*store_, who), *store_);
  }

  json Enrol(std::string_view who, int64_t team, std::string_view patient, int64_t coordinator,
             int expect_status = 201) {
    json body = {{"patient", patient}, {"source", "case-finding"}};
    if (coordinator) body["coordinator"] = coordinator;
    const HttpResponse r = Call(who, "POST", "/caseloads/" + std::to_string(team) + "/enrol", body);
    EXPECT_EQ(r.status, expect_status) << r.body;
    return Body(r);
  }

  // The body with every number and id-like token replaced, so two refusals can be compared
  // for anything but the id asked for.
  static std::string Shape(const std::string& body, std::string_view id) {
    std::string out = body;
    for (size_t at = out.find(id); !id.empty() && at != std::string::npos; at = out.find(id))
      out.replace(at, id.size(), "ID");
    return out;
  }

  // Writes an activity or event as an import would.
  template <typename Record>
  void Arrives(const Record& record) {
    auto writer = store_->BeginWrite();
    ASSERT_TRUE(writer.ok()) << writer.error().ToString();
    ASSERT_TRUE((*writer)->Add(record).ok());
    ASSERT_TRUE((*writer)->Commit().ok());
  }
  static Activity Admission(std::string id, std::string patient, ActivityType type, Date start) {
    Activity a;
    a.id = std::move(id);
    a.patient_id = std::move(patient);
    a.type = type;
    a.start = start;
    return a;
  }
  static ClinicalEvent Coded(std::string id, std::string patient, CodeSystem system,
                             std::string code, std::string term, Date date) {
    ClinicalEvent e;
    e.id = std::move(id);
    e.patient_id = std::move(patient);
    e.system = system;
    e.code = std::move(code);
    e.term = std::move(term);
    e.date = date;
    return e;
  }
  Result<records::EscalationOutcome> Escalate() {
    records::EscalationRun run;
    run.now_ms = now_;
    run.as_of = Date::FromYmd(2026, 9, 21);
    run.actor = security::AuditActor::Operator();
    return records::RunEscalation(*store_, records::ShippedEscalationRules(), run);
  }
  // Resources found by an escalation identifier (rule/trigger), searched as `who`.
  json Escalated(std::string_view who, std::string_view type, std::string_view value) {
    api::FhirApi fhir(TestOptions());
    const HttpResponse r = fhir.Handle(
        Request("GET", "/" + std::string(type) +
                           "?identifier=https://joinedup.example/fhir/escalation|" +
                           std::string(value)),
        PrincipalOf(*store_, who), *store_);
    EXPECT_EQ(r.status, 200) << r.body;
    json bundle = json::parse(r.body);
    json out = json::array();
    for (const json& entry : bundle.value("entry", json::array())) out.push_back(entry["resource"]);
    return out;
  }

  int64_t now_ = kNowMs;
  int64_t team_ = 0, other_team_ = 0, cm_ = 0, hsca_ = 0, cm2_ = 0, south_ = 0;
};

TEST_F(CaseloadTest, EnrolPutsThePersonOnTheCoordinatorsCaseloadAndGivesTheTeamTheRecord) {
  // p4 is registered at B82002 and on no team: the case manager cannot see them yet.
  EXPECT_EQ(Call("cm-north", "GET", "/people/p4").status, 404);
  // The person's own GP enrols them (no referral needed) with a named coordinator.
  const json entry = Enrol("gp-beta", team_, "p4", cm_);
  EXPECT_EQ(entry["status"], "active");
  EXPECT_EQ(entry["coordinator"]["id"], cm_);
  EXPECT_EQ(entry["coordinator"]["name"], "Staff cm-north");
  EXPECT_EQ(entry["team"]["name"], "Case management North");
  EXPECT_EQ(entry["person"]["id"], "p4");
  EXPECT_EQ(entry["started"], entry["requested"]);
  EXPECT_EQ(entry["version"], 1);
  // Now the whole team has the legitimate relationship.
  EXPECT_EQ(Call("cm-north", "GET", "/people/p4").status, 200);
  EXPECT_EQ(Call("hsca-north", "GET", "/people/p4").status, 200);
  EXPECT_EQ(Call("cm-south", "GET", "/people/p4").status, 404);

  const json home = Body(Call("cm-north", "GET", "/caseloads"));
  ASSERT_EQ(home["teams"].size(), 1u);
  EXPECT_EQ(home["teams"][0]["active"], 1);
  ASSERT_EQ(home["mine"].size(), 1u);
  EXPECT_EQ(home["mine"][0]["person"]["id"], "p4");
  const json board = Body(Call("hsca-north", "GET", "/caseloads/" + std::to_string(team_)));
  ASSERT_EQ(board["people"]["active"].size(), 1u);
  EXPECT_EQ(board["people"]["active"][0]["person"]["id"], "p4");
  // Those who may hold the plan: the two case managers, not the care assistant.
  EXPECT_EQ(board["coordinators"].size(), 2u);
  EXPECT_EQ(Body(Call("cm-north", "POST", "/episodes/" + std::to_string(entry["id"].get<int64_t>()) +
                                              "/transfer",
                      {{"version", 1}, {"coordinator", hsca_}}))["error"]["field"],
            "coordinator");
  // The care assistant sees the board but does not change episodes.
  EXPECT_EQ(Call("hsca-north", "POST", "/episodes/" + std::to_string(entry["id"].get<int64_t>()) +
                                         "/discharge",
                 {{"version", 1}, {"reason", "died"}})
                .status,
            403);
  EXPECT_FALSE(board["discharge_reasons"].empty());

  // A person has one open episode.
  const json again = Enrol("cm-north", other_team_, "p4", 0, 404);  // not a member of South
  const json twice = Enrol("cm-north", team_, "p4", cm_, 409);
  EXPECT_EQ(twice["error"]["field"], "patient");

  const auto enrols = Events("case-enrol");
  ASSERT_FALSE(enrols.empty());
  EXPECT_EQ(enrols.front().outcome, store::AuditOutcome::kSuccess);
  const auto reads = Events("caseload");
  ASSERT_FALSE(reads.empty());
  EXPECT_NE(reads.back().query.find("team="), std::string::npos);
}

TEST_F(CaseloadTest, AFullTeamKeepsAWaitingListNotASilentOverflow) {
  ASSERT_TRUE(store_->SetCareTeamCapacity(team_, 1).ok());
  EXPECT_EQ(Enrol("gp-beta", team_, "p4", cm_)["status"], "active");
  // p1 is registered at A81001: its GP enrols them too, but the team is full.
  const json waiting = Enrol("gp", team_, "p1", cm_);
  EXPECT_EQ(waiting["status"], "waiting");
  EXPECT_TRUE(waiting["started"].is_null());
  json board = Body(Call("cm-north", "GET", "/caseloads/" + std::to_string(team_)));
  EXPECT_EQ(board["active"], 1);
  EXPECT_EQ(board["waiting"], 1);
  EXPECT_EQ(board["full"], true);
  ASSERT_EQ(board["people"]["waiting"].size(), 1u);
  const int64_t wait_id = board["people"]["waiting"][0]["id"];
  const std::string start = "/episodes/" + std::to_string(wait_id) + "/start";
  const HttpResponse full = Call("cm-north", "POST", start, {{"version", 1}});
  EXPECT_EQ(full.status, 409);
  EXPECT_NE(Body(full)["error"]["detail"].get<std::string>().find("1 of 1"), std::string::npos);

  // Discharging the first person frees the place.
  const int64_t active_id = board["people"]["active"][0]["id"];
  const std::string discharge = "/episodes/" + std::to_string(active_id) + "/discharge";
  EXPECT_EQ(Call("cm-north", "POST", discharge, {{"version", 1}, {"reason", "nonsense"}}).status,
            400);
  EXPECT_EQ(Body(Call("cm-north", "POST", discharge, {{"version", 1}, {"reason", "other"}}))
                ["error"]["field"],
            "note");
  const json ended = Body(Call("cm-north", "POST", discharge,
                               {{"version", 1}, {"reason", "goals-met"}, {"note", " Stable. "}}));
  EXPECT_EQ(ended["status"], "ended");
  EXPECT_EQ(ended["end_reason"]["code"], "goals-met");
  EXPECT_EQ(ended["end_note"], "Stable.");
  const json started =
      Body(Call("cm2-north", "POST", start, {{"version", 1}, {"coordinator", cm2_}}));
  EXPECT_EQ(started["status"], "active");
  EXPECT_EQ(started["coordinator"]["id"], cm2_);
  EXPECT_EQ(started["version"], 2);
  // An ended episode is not changed again; the person can be enrolled again.
  EXPECT_EQ(Call("cm-north", "POST", discharge, {{"version", 2}, {"reason", "died"}}).status, 409);
  ASSERT_TRUE(store_->SetCareTeamCapacity(team_, std::nullopt).ok());
  EXPECT_EQ(Enrol("gp-beta", team_, "p4", cm_)["status"], "active");
  const json history = Body(Call("cm-north", "GET", "/episodes?patient=p4"));
  ASSERT_EQ(history["episodes"].size(), 2u);
  EXPECT_EQ(history["episodes"][0]["status"], "active");
  EXPECT_EQ(history["episodes"][1]["status"], "ended");
}

TEST_F(CaseloadTest, NoLostUpdate) {
  const json entry = Enrol("gp-beta", team_, "p4", cm_);
  const std::string transfer = "/episodes/" + std::to_string(entry["id"].get<int64_t>()) + "/transfer";
  EXPECT_EQ(Body(Call("cm-north", "POST", transfer, {{"version", 1}, {"coordinator", cm2_}}))
                ["coordinator"]["id"],
            cm2_);
  const HttpResponse stale = Call("cm2-north", "POST", transfer, {{"version", 1}, {"coordinator", cm_}});
  EXPECT_EQ(stale.status, 412);
  EXPECT_EQ(Body(stale)["error"]["field"], "version");
  // A coordinator must be on the team.
  EXPECT_EQ(Body(Call("cm-north", "POST", transfer, {{"version", 2}, {"coordinator", south_}}))
                ["error"]["field"],
            "coordinator");
}

TEST_F(CaseloadTest, ATransferOrDischargeEndsTheTeamsAccessAfterTheGracePeriod) {
  const json entry = Enrol("gp-beta", team_, "p4", cm_);
  const std::string id = std::to_string(entry["id"].get<int64_t>());
  // To the South team (its waiting list: no coordinator named): South gains the record now;
  // North keeps it for the grace period (14 days by default) for closing notes.
  const json moved =
      Body(Call("cm-north", "POST", "/episodes/" + id + "/transfer", {{"version", 1}, {"team", other_team_}}));
  EXPECT_EQ(moved["status"], "waiting");
  EXPECT_EQ(moved["team"]["id"], other_team_);
  EXPECT_EQ(Call("cm-south", "GET", "/people/p4").status, 200);
  now_ += 14 * kDayMs - 1;
  EXPECT_EQ(Call("cm-north", "GET", "/people/p4").status, 200);
  now_ += 1;
  EXPECT_EQ(Call("cm-north", "GET", "/people/p4").status, 404);
  // North can no longer touch the episode; South takes the person on, then discharges them.
  EXPECT_EQ(Call("cm-north", "POST", "/episodes/" + id + "/start", {{"version", 2}}).status, 404);
  EXPECT_EQ(Body(Call("cm-south", "POST", "/episodes/" + id + "/start",
                      {{"version", 2}, {"coordinator", south_}}))["status"],
            "active");
  EXPECT_EQ(Body(Call("cm-south", "POST", "/episodes/" + id + "/discharge",
                      {{"version", 3}, {"reason", "moved-away"}}))["status"],
            "ended");
  now_ += 14 * kDayMs - 1;
  EXPECT_EQ(Call("cm-south", "GET", "/people/p4").status, 200);
  now_ += 1;
  EXPECT_EQ(Call("cm-south", "GET", "/people/p4").status, 404);
}

TEST_F(CaseloadTest, WhatTheCallerMayNotSeeIsIndistinguishableFromWhatDoesNotExist) {
  const json entry = Enrol("gp-beta", team_, "p4", cm_);
  const std::string id = std::to_string(entry["id"].get<int64_t>());
  // Someone outside the team: its board, the person's episodes and the episode itself answer
  // exactly as for ones that do not exist.
  for (const char* who : {"cm-south", "gp", "nurse"}) {
    const HttpResponse board = Call(who, "GET", "/caseloads/" + std::to_string(team_));
    const HttpResponse none = Call(who, "GET", "/caseloads/99999");
    EXPECT_EQ(board.status, 404) << who;
    EXPECT_EQ(Shape(board.body, std::to_string(team_)), Shape(none.body, "99999")) << who;
    const HttpResponse episodes = Call(who, "GET", "/episodes?patient=p4");
    const HttpResponse nobody = Call(who, "GET", "/episodes?patient=p999");
    EXPECT_EQ(episodes.status, 404) << who;
    EXPECT_EQ(Shape(episodes.body, "p4"), Shape(nobody.body, "p999")) << who;
    const HttpResponse change = Call(who, "POST", "/episodes/" + id + "/discharge",
                                     {{"version", 1}, {"reason", "died"}});
    const HttpResponse missing = Call(who, "POST", "/episodes/99999/discharge",
                                      {{"version", 1}, {"reason", "died"}});
    EXPECT_EQ(change.status, 404) << who;
    EXPECT_EQ(Shape(change.body, id), Shape(missing.body, "99999")) << who;
    // Enrolling someone they may not see: as for someone who does not exist.
    const HttpResponse enrol = Call(who, "POST", "/caseloads/" + std::to_string(team_) + "/enrol",
                                    {{"patient", "p4"}});
    const HttpResponse ghost = Call(who, "POST", "/caseloads/" + std::to_string(team_) + "/enrol",
                                    {{"patient", "p999"}});
    if (std::string(who) != "cm-south") {  // gp and nurse see nobody at B82002 but p2/p3
      EXPECT_EQ(enrol.status, 404) << who;
      EXPECT_EQ(Shape(enrol.body, "p4"), Shape(ghost.body, "p999")) << who;
    }
  }
  // Nothing changed: still one active episode, version 1.
  EXPECT_EQ(store_->FindCaseEpisode(entry["id"].get<int64_t>()).value()->version, 1);
  // Roles without clinical write rights get no caseload at all.
  for (const char* who : {"commissioner", "privacy-officer", "administrator", "patient"}) {
    EXPECT_EQ(Call(who, "GET", "/caseloads").status, 403) << who;
    EXPECT_EQ(Call(who, "POST", "/caseloads/" + std::to_string(team_) + "/enrol",
                   {{"patient", "p1"}})
                  .status,
              403)
        << who;
  }
}

TEST_F(CaseloadTest, SomeoneWhoDeclinedSharingIsNotEnrolledWithATeamOutsideTheirPractice) {
  // p3 (B82002) declined sharing beyond their practice; their own GP cannot put them on a
  // community team's caseload until their consent to share is recorded.
  ASSERT_TRUE(store_->AddCareTeamMember(team_, store_->FindUser("gp-beta").value()->id).ok());
  const json refused = Enrol("gp-beta", team_, "p3", cm_, 400);
  EXPECT_EQ(refused["error"]["field"], "patient");
  EXPECT_NE(refused["error"]["detail"].get<std::string>().find("declined sharing"),
            std::string::npos);
  EXPECT_TRUE(store_->CaseEpisodes({}).value().empty());
}

// Seed 004's Mrs A, end to end: her GP enrols her (no referral) with the Recovery at Home team;
// the nurse records the assessment with her preferences and fears, and her consent to share it;
// the plan — carers twice a day, a system for her medicines, an occupational-therapy visit, and
// the midday visit she declined, in her words — with her goal and a review at four weeks; she
// reads her own plan; an emergency admission arrives in an import and her nurse is asked to act
// by the next working day; a case manager outside her team sees nothing without breaking the
// glass.
TEST_F(CaseloadTest, MrsAFromEnrolmentToHerOwnPlan) {
  api::FhirApi fhir(TestOptions());
  auto fhir_call = [&](std::string_view who, std::string_view method, const std::string& target,
                       const json& body = nullptr,
                       std::vector<std::pair<std::string, std::string>> headers = {}) {
    return fhir.Handle(Request(method, target, body.is_null() ? "" : body.dump(), std::move(headers)),
                       PrincipalOf(*store_, who), *store_);
  };
  auto create = [&](const json& resource) {
    const HttpResponse r = fhir_call("cm-north", "POST", "/" + resource["resourceType"].get<std::string>(), resource);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? json::parse(r.body)["id"].get<std::string>() : std::string();
  };
  const json subject = {{"reference", "Patient/p4"}};

  // Her GP calls the team; she is on the nurse's caseload at once.
  const json episode = Enrol("gp-beta", team_, "p4", cm_);
  ASSERT_EQ(episode["status"], "active");

  // The assessment: her preferences and fears in her words, and her consent to share it.
  const std::string assessment = create(
      {{"resourceType", "QuestionnaireResponse"},
       {"status", "completed"},
       {"subject", subject},
       {"questionnaire", "https://joinedup.example/fhir/Questionnaire/holistic-assessment"},
       {"author", {{"reference", "Practitioner/cm-north"}}},
       {"item",
        {{{"linkId", "what-matters"},
          {"answer", {{{"valueString", "Keeping control and staying in my own home"}}}}},
         {{"linkId", "fears"},
          {"answer", {{{"valueString", "Letting strangers into my house"}}}}}}}});
  ASSERT_FALSE(assessment.empty());
  ASSERT_EQ(Call("cm-north", "POST", "/people/p4/consent", {{"decision", "permit"}}).status, 201);

  // The plan and her goal.
  const std::string goal = create(
      {{"resourceType", "Goal"},
       {"lifecycleStatus", "active"},
       {"subject", subject},
       {"description", {{"text", "To get back to normal and keep my independence"}}},
       {"expressedBy", subject}});
  auto act = [](const char* text, bool declined) {
    json detail = {{"status", declined ? "cancelled" : "scheduled"}, {"description", text}};
    if (declined) detail["doNotPerform"] = true;
    return json{{"detail", detail}};
  };
  const std::string plan = create(
      {{"resourceType", "CarePlan"},
       {"status", "active"},
       {"intent", "plan"},
       {"subject", subject},
       {"goal", {{{"reference", "Goal/" + goal}}}},
       {"activity",
        {act("A carer twice a day: to help me get up and to get to bed", false),
         act("Carers help me set up a system for my tablets", false),
         act("An occupational therapist visits to see what would make home safer", false),
         act("A midday visit: declined. \"I would soon lose my confidence if someone was doing "
             "everything for me.\"",
             true)}}});
  ASSERT_FALSE(plan.empty());
  const std::string review = create(
      {{"resourceType", "Task"},
       {"status", "requested"},
       {"intent", "plan"},
       {"for", subject},
       {"focus", {{"reference", "CarePlan/" + plan}}},
       {"owner", {{"reference", "Practitioner/cm-north"}}},
       {"description", "Review Mrs A's plan with her"},
       {"restriction", {{"period", {{"end", "2026-10-19T17:00:00Z"}}}}}});  // four weeks on
  EXPECT_EQ(Body(fhir_call("cm-north", "GET",
                           "/Task?owner=Practitioner/cm-north&due=le2026-10-19&status=requested"))
                ["total"],
            1);

  // Her own sign-in: her plan, with the declined visit in her own words.
  ASSERT_NE(AddTestUser(*store_, "mrs-a", "Mrs A", "B82002", store::Role::kPatient, 0,
                        population_.patient_keys.at("p4")),
            0);
  const HttpResponse own = fhir_call("mrs-a", "GET", "/CarePlan?patient=p4&_id=" + plan + "&_include=CarePlan:goal");
  ASSERT_EQ(own.status, 200) << own.body;
  const json bundle = json::parse(own.body);
  ASSERT_EQ(bundle["entry"].size(), 2u);
  EXPECT_NE(own.body.find("lose my confidence"), std::string::npos);
  EXPECT_NE(own.body.find("keep my independence"), std::string::npos);
  EXPECT_EQ(fhir_call("mrs-a", "GET", "/CarePlan?patient=p2").status == 200
                ? json::parse(fhir_call("mrs-a", "GET", "/CarePlan?patient=p2").body)["total"]
                : json(-1),
            0);

  // She is admitted as an emergency; the import's escalation flags it and asks her nurse to act.
  Arrives(Admission("mrs-a-admission", "p4", ActivityType::kEmergencyAdmission,
                    Date::FromYmd(2026, 9, 21)));
  auto escalated = Escalate();
  ASSERT_TRUE(escalated.ok()) << escalated.error().ToString();
  EXPECT_EQ(escalated->raised.at("emergency-admission"), 1);
  const json flag = Escalated("cm-north", "Flag", "emergency-admission/activity/mrs-a-admission");
  ASSERT_EQ(flag.size(), 1u);
  const json act_now = Escalated("cm-north", "Task", "emergency-admission/activity/mrs-a-admission");
  ASSERT_EQ(act_now.size(), 1u);
  EXPECT_EQ(act_now[0]["owner"]["reference"], "Practitioner/cm-north");
  EXPECT_EQ(act_now[0]["restriction"]["period"]["end"], "2026-09-22T14:13:20Z");
  const std::string flag_target = "/Flag/" + flag[0]["id"].get<std::string>();

  // A case manager outside her team: nothing, as if there were nothing; break-glass opens her
  // record (and alerts the privacy officer).
  for (const std::string& target : {"/CarePlan/" + plan, "/Goal/" + goal, "/Task/" + review,
                                    "/QuestionnaireResponse/" + assessment, flag_target}) {
    const HttpResponse hidden = fhir_call("cm-south", "GET", target);
    const std::string missing_id = target.substr(0, target.rfind('/')) + "/no-such-id";
    const HttpResponse missing = fhir_call("cm-south", "GET", missing_id);
    EXPECT_EQ(hidden.status, 404) << target;
    EXPECT_EQ(Shape(hidden.body, target.substr(target.rfind('/') + 1)),
              Shape(missing.body, "no-such-id"))
        << target;
  }
  EXPECT_EQ(json::parse(fhir_call("cm-south", "GET", "/CarePlan?patient=p4").body).value("total", -1),
            0);
  EXPECT_EQ(fhir_call("cm-south", "GET", "/CarePlan/" + plan, nullptr,
                      {{"x-break-glass-reason", "emergency: Mrs A collapsed at the day centre; no one from "
                                                "her team is reachable"}})
                .status,
            200);
  EXPECT_FALSE(Events("break-glass-alert").empty());
}

TEST_F(CaseloadTest, TheWorklistLeavesOutOrMarksPeopleAlreadyOnACaseload) {
  auto ids = [](const json& list) {
    std::vector<std::string> out;
    for (const json& row : list["rows"]) out.push_back(row["id"]);
    return out;
  };
  const json before = Body(Call("gp", "GET", "/worklist?limit=50"));
  const std::vector<std::string> everyone = ids(before);
  ASSERT_NE(std::find(everyone.begin(), everyone.end(), "p1"), everyone.end());
  for (const json& row : before["rows"]) EXPECT_EQ(row["on_caseload"], false);
  Enrol("gp", team_, "p1", cm_);
  const json after = Body(Call("gp", "GET", "/worklist?limit=50"));
  for (const json& row : after["rows"]) EXPECT_EQ(row["on_caseload"], row["id"] == "p1");
  std::vector<std::string> rest = ids(Body(Call("gp", "GET", "/worklist?limit=50&not_on_caseload=true")));
  std::vector<std::string> expected = everyone;
  expected.erase(std::find(expected.begin(), expected.end(), "p1"));
  EXPECT_EQ(rest, expected);
  EXPECT_EQ(Body(Call("gp", "GET", "/worklist?not_on_caseload=yes"))["error"]["field"],
            "not_on_caseload");
}

TEST_F(CaseloadTest, AnAdministratorSetsATeamsCapacity) {
  const std::string address = "/admin/care-teams/" + std::to_string(team_) + "/capacity";
  const json set = Body(Call("administrator", "POST", address, {{"capacity", 120}}));
  EXPECT_EQ(set["care_team"]["capacity"], 120);
  EXPECT_EQ(Body(Call("cm-north", "GET", "/caseloads"))["teams"][0]["capacity"], 120);
  EXPECT_EQ(Body(Call("administrator", "POST", address, {{"capacity", -1}}))["error"]["field"],
            "capacity");
  EXPECT_EQ(Body(Call("administrator", "POST", address, {{"capacity", "lots"}}))["error"]["field"],
            "capacity");
  EXPECT_TRUE(
      Body(Call("administrator", "POST", address, {{"capacity", nullptr}}))["care_team"]["capacity"]
          .is_null());
  EXPECT_EQ(Call("cm-north", "POST", address, {{"capacity", 500}}).status, 404);
  EXPECT_FALSE(store_->FindCareTeam(team_).value()->capacity.has_value());
}

// Seed 001's "early escalation of risk when a patient becomes unstable": an emergency admission
// and a fall of someone on the caseload raise a flag on them and a task for their named
// coordinator, due by the rule's working days; someone not on a caseload, an admission older
// than the rule looks back, and a planned visit done are not escalated; a second run raises
// nothing again; the team sees the flags, another team nothing.
TEST_F(CaseloadTest, EscalationRaisesAFlagAndATaskForTheCoordinatorOnce) {
  ASSERT_EQ(Enrol("gp-beta", team_, "p4", cm_)["status"], "active");
  Arrives(Admission("adm-new", "p4", ActivityType::kEmergencyAdmission, Date::FromYmd(2026, 9, 19)));
  Arrives(Admission("adm-old", "p4", ActivityType::kEmergencyAdmission, Date::FromYmd(2026, 9, 6)));
  Arrives(Admission("opd", "p4", ActivityType::kOutpatientFirst, Date::FromYmd(2026, 9, 20)));
  Arrives(Coded("fall-gp", "p4", CodeSystem::kReadV2, "16D..", "Falls", Date::FromYmd(2026, 9, 18)));
  Arrives(Coded("fall-ward", "p4", CodeSystem::kIcd10, "W19X", "Unspecified fall",
                Date::FromYmd(2026, 9, 19)));
  Arrives(Coded("fall-p3", "p3", CodeSystem::kReadV2, "16D1.", "Recurrent falls",
                Date::FromYmd(2026, 9, 20)));  // p3 is on no caseload

  auto first = Escalate();
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  EXPECT_EQ(first->people_on_caseloads, 1);
  EXPECT_EQ(first->raised.at("emergency-admission"), 1);  // 6 September is past 14 days
  EXPECT_EQ(first->raised.at("fall"), 2);                 // the GP's code and the ward's
  EXPECT_EQ(first->raised.at("ae-attendance"), 0);
  EXPECT_EQ(first->raised.at("missed-visit"), 0);
  EXPECT_EQ(Events("escalation").size(), 3u);

  // The flag and the coordinator's task, due the next working day at the same time.
  const json flags = Escalated("cm-north", "Flag", "emergency-admission/activity/adm-new");
  ASSERT_EQ(flags.size(), 1u);
  EXPECT_EQ(flags[0]["status"], "active");
  EXPECT_EQ(flags[0]["subject"]["reference"], "Patient/p4");
  EXPECT_EQ(flags[0]["code"]["text"], "Emergency admission on 19 September 2026");
  const json tasks = Escalated("cm-north", "Task", "emergency-admission/activity/adm-new");
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0]["owner"]["reference"], "Practitioner/cm-north");
  EXPECT_EQ(tasks[0]["priority"], "urgent");
  EXPECT_EQ(tasks[0]["restriction"]["period"]["end"], "2026-09-22T14:13:20Z");  // Mon → Tue
  EXPECT_EQ(tasks[0]["reasonReference"]["reference"],
            "Flag/" + flags[0]["id"].get<std::string>());
  const json fall = Escalated("cm-north", "Task", "fall/event/fall-gp");
  ASSERT_EQ(fall.size(), 1u);
  EXPECT_EQ(fall[0]["restriction"]["period"]["end"], "2026-09-23T14:13:20Z");  // 2 working days
  // Another team: nothing, as if there were nothing.
  EXPECT_TRUE(Escalated("cm-south", "Flag", "emergency-admission/activity/adm-new").empty());
  EXPECT_TRUE(Escalated("gp-beta", "Flag", "fall/event/fall-p3").empty());

  // Again: nothing new.
  auto second = Escalate();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->raised.at("emergency-admission") + second->raised.at("fall"), 0);
  EXPECT_EQ(second->already_raised, 3);
  EXPECT_EQ(Events("escalation").size(), 3u);
}

// Someone on the waiting list has no coordinator yet: the task is the team's. A planned visit
// left undone two hours past its time is escalated; one done, or not yet late, is not.
TEST_F(CaseloadTest, EscalationOfAMissedVisitAndOfSomeoneStillWaiting) {
  ASSERT_EQ(Enrol("gp-beta", team_, "p4", cm_)["status"], "active");
  ASSERT_TRUE(store_->SetCareTeamCapacity(team_, 1).ok());
  ASSERT_EQ(Enrol("gp-beta", team_, "p2", 0)["status"], "waiting");
  Arrives(Admission("ae-p2", "p2", ActivityType::kAeAttendance, Date::FromYmd(2026, 9, 21)));
  auto visit = [&](const std::string& id, const char* status, const char* due) {
    const std::string text =
        R"({"resourceType":"Task","id":")" + id + R"(","status":")" + status +
        R"(","intent":"order","code":{"coding":[{"system":"https://joinedup.example/fhir/CodeSystem/care-task","code":"planned-visit"}]},)"
        R"("for":{"reference":"Patient/p4"},"restriction":{"period":{"end":")" + due + R"("}}})";
    ASSERT_TRUE(AddDocument(*store_, text, kNowMs - 50'000'000).ok());
  };
  visit("visit-missed", "requested", "2026-09-21T12:00:00Z");  // 2 h 13 min before now
  visit("visit-late", "accepted", "2026-09-21T12:30:00Z");     // 1 h 43 min: not yet
  visit("visit-done", "completed", "2026-09-21T08:00:00Z");
  auto outcome = Escalate();
  ASSERT_TRUE(outcome.ok()) << outcome.error().ToString();
  EXPECT_EQ(outcome->raised.at("missed-visit"), 1);
  EXPECT_EQ(outcome->raised.at("ae-attendance"), 1);
  const json missed = Escalated("cm-north", "Task", "missed-visit/task/visit-missed");
  ASSERT_EQ(missed.size(), 1u);
  EXPECT_EQ(missed[0]["priority"], "asap");
  EXPECT_EQ(missed[0]["restriction"]["period"]["end"], "2026-09-21T18:13:20Z");  // 4 hours
  const json team_task = Escalated("cm-north", "Task", "ae-attendance/activity/ae-p2");
  ASSERT_EQ(team_task.size(), 1u);
  EXPECT_FALSE(team_task[0].contains("owner"));
  EXPECT_EQ(team_task[0]["performerType"][0]["text"], "Case management North");
}

// The eFI category rising between the latest two stratification runs (fit → moderate) is
// escalated; a rise within a category (5 → 8 deficits, mild both times) is not.
TEST_F(CaseloadTest, EscalationWhenFrailtyWorsensBetweenRuns) {
  ASSERT_EQ(Enrol("gp-beta", team_, "p4", cm_)["status"], "active");
  ASSERT_EQ(Enrol("gp-beta", team_, "p2", cm_)["status"], "active");
  auto save = [&](Date index, int p2_deficits, int p4_deficits) {
    StratificationRun run;
    run.index_date = index;
    run.people = 2;
    std::vector<PersonRunResult> results(2);
    results[0].patient_key = population_.patient_keys.at("p2");
    results[0].efi_deficits = static_cast<int16_t>(p2_deficits);
    results[1].patient_key = population_.patient_keys.at("p4");
    results[1].efi_deficits = static_cast<int16_t>(p4_deficits);
    std::sort(results.begin(), results.end(),
              [](const auto& a, const auto& b) { return a.patient_key < b.patient_key; });
    ASSERT_TRUE(store_->SaveRun(run, results).ok());
  };
  save(Date::FromYmd(2026, 3, 31), 5, 3);
  save(Date::FromYmd(2026, 9, 30), 8, 9);
  auto outcome = Escalate();
  ASSERT_TRUE(outcome.ok()) << outcome.error().ToString();
  EXPECT_EQ(outcome->raised.at("efi-worse"), 1);
  auto runs = store_->Runs();
  ASSERT_TRUE(runs.ok() && runs->size() >= 2u);  // the test population's own run, then these
  std::vector<int64_t> ids;
  for (const StratificationRun& run : *runs) ids.push_back(run.id);
  std::sort(ids.rbegin(), ids.rend());
  const int64_t first_run = ids[1], second_run = ids[0];
  const json found = Escalated("cm-north", "Flag",
                               "efi-worse/runs/" + std::to_string(first_run) + "-" +
                                   std::to_string(second_run));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0]["subject"]["reference"], "Patient/p4");
  EXPECT_EQ(found[0]["code"]["text"],
            "Frailty worsened (eFI category): fit to moderate (3 to 9 deficits) between the runs "
            "of 31 March 2026 and 30 September 2026");
}

// The board counts each person's open work; "my tasks" and "my team's tasks" list it, overdue
// first; a task is completed and a flag resolved (with a note) from the version shown; another
// team's tasks, and a flag the caller may not see, answer as ones that do not exist.
TEST_F(CaseloadTest, TheBoardAndTaskListsShowOpenWorkAndTasksAndFlagsAreClosed) {
  ASSERT_EQ(Enrol("gp-beta", team_, "p4", cm_)["status"], "active");
  Arrives(Admission("adm", "p4", ActivityType::kEmergencyAdmission, Date::FromYmd(2026, 9, 20)));
  ASSERT_TRUE(Escalate().ok());
  // p4 already had a flag and an occupational-therapy visit overdue since May (the test
  // population); the escalation adds a flag and a task due tomorrow.
  const json board = Body(Call("cm-north", "GET", "/caseloads/" + std::to_string(team_)));
  ASSERT_EQ(board["people"]["active"].size(), 1u);
  EXPECT_EQ(board["people"]["active"][0]["work"],
            (json{{"flags", 2}, {"overdue_tasks", 1}, {"due_tasks", 1}}));

  const json mine = Body(Call("cm-north", "GET", "/tasks"));
  ASSERT_EQ(mine["tasks"].size(), 1u);
  const json task = mine["tasks"][0];
  EXPECT_EQ(task["owner"], "Staff cm-north");
  EXPECT_EQ(task["priority"], "urgent");
  EXPECT_EQ(task["due"], "2026-09-22T14:13:20Z");
  EXPECT_EQ(task["overdue"], false);
  EXPECT_EQ(task["person"]["id"], "p4");
  ASSERT_TRUE(task["flag"].is_object());
  EXPECT_EQ(task["flag"]["version"], 1);
  EXPECT_EQ(task["flag"]["status"], "active");
  EXPECT_EQ(task["flag"]["text"], "Emergency admission on 20 September 2026");
  const json team = Body(Call("hsca-north", "GET", "/tasks?team=" + std::to_string(team_)));
  ASSERT_EQ(team["tasks"].size(), 2u);
  EXPECT_EQ(team["tasks"][0]["description"], "Occupational therapy home visit");
  EXPECT_EQ(team["tasks"][0]["overdue"], true);
  EXPECT_EQ(team["tasks"][1]["id"], task["id"]);
  EXPECT_FALSE(Events("tasks").empty());
  // Another team's list: as a team that does not exist.
  const HttpResponse other = Call("cm-south", "GET", "/tasks?team=" + std::to_string(team_));
  const HttpResponse none = Call("cm-south", "GET", "/tasks?team=999999");
  EXPECT_EQ(other.status, 404);
  EXPECT_EQ(Shape(other.body, std::to_string(team_)), Shape(none.body, "999999"));
  EXPECT_TRUE(Body(Call("cm-south", "GET", "/tasks"))["tasks"].empty());

  // Done: from the version shown; a stale version is refused.
  const std::string task_path = "/tasks/" + task["id"].get<std::string>() + "/complete";
  const HttpResponse done =
      Call("cm-north", "POST", task_path, {{"version", 1}, {"note", "Spoke to the ward sister"}});
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(Body(done)["version"], 2);
  EXPECT_EQ(Call("cm-north", "POST", task_path, {{"version", 1}}).status, 412);
  EXPECT_EQ(Call("cm-north", "POST", task_path, {{"version", 2}}).status, 409);
  EXPECT_TRUE(Body(Call("cm-north", "GET", "/tasks"))["tasks"].empty());

  // The flag: resolved with a note, which is required; hidden from another team.
  const std::string flag_id = task["flag"]["id"].get<std::string>();
  const std::string flag_path = "/flags/" + flag_id + "/resolve";
  const HttpResponse hidden = Call("cm-south", "POST", flag_path, {{"version", 1}, {"note", "x"}});
  const HttpResponse missing =
      Call("cm-south", "POST", "/flags/no-such-flag/resolve", {{"version", 1}, {"note", "x"}});
  EXPECT_EQ(hidden.status, 404);
  EXPECT_EQ(Shape(hidden.body, flag_id), Shape(missing.body, "no-such-flag"));
  EXPECT_EQ(Body(Call("cm-north", "POST", flag_path, {{"version", 1}}))["error"]["field"], "note");
  ASSERT_EQ(Call("cm-north", "POST", flag_path,
                 {{"version", 1}, {"note", "Home on Tuesday; plan reviewed with her"}})
                .status,
            200);
  const json after = Body(Call("cm-north", "GET", "/caseloads/" + std::to_string(team_)));
  EXPECT_EQ(after["people"]["active"][0]["work"],
            (json{{"flags", 1}, {"overdue_tasks", 1}, {"due_tasks", 0}}));
}

TEST(EscalationRulesTest, TheShippedRulesParseAndBadFilesAreRefusedNamingTheRuleAndMember) {
  const records::EscalationRules& shipped = records::ShippedEscalationRules();
  EXPECT_EQ(shipped.rules.size(), 6u);
  const records::EscalationRule* fall = nullptr;
  for (const auto& rule : shipped.rules)
    if (rule.id == "fall") fall = &rule;
  ASSERT_NE(fall, nullptr);
  EXPECT_TRUE(fall->Matches(CodeSystem::kIcd10, "W19.0"));
  EXPECT_TRUE(fall->Matches(CodeSystem::kIcd10, "W01"));
  EXPECT_TRUE(fall->Matches(CodeSystem::kIcd10, "R29.6"));
  EXPECT_FALSE(fall->Matches(CodeSystem::kIcd10, "W20"));  // struck by an object: not a fall
  EXPECT_FALSE(fall->Matches(CodeSystem::kIcd10, "R29.8"));
  EXPECT_FALSE(fall->Matches(CodeSystem::kSnomedCt, "16D.."));  // Read v2's code, not SNOMED's

  auto refused = [](std::string_view rule_json) {
    const std::string text = R"({"name":"n","version":"1","source":"s","rules":[)" +
                             std::string(rule_json) + "]}";
    auto parsed = records::ParseEscalationRules("rules.json", text);
    return parsed.ok() ? std::string("accepted") : parsed.error().message;
  };
  const std::string base = R"("id":"r","title":"T","action":"A",)";
  EXPECT_EQ(refused("{" + base + R"("trigger":"activity","activity_types":["emergency_admission"],"due":{"hours":2}})"),
            "accepted");
  EXPECT_EQ(refused("{" + base + R"("trigger":"weather","due":{"hours":2}})"),
            "rules.json: rule 1 (r): trigger must be activity, coded_event, efi_category_rise, "
            "segment_rise or missed_task");
  EXPECT_EQ(refused("{" + base + R"("trigger":"activity","activity_types":["visit"],"due":{"hours":2}})"),
            "rules.json: rule 1 (r): activity_types names an unknown activity type \"visit\"");
  EXPECT_EQ(refused("{" + base + R"("trigger":"coded_event","codes":["W19"],"due":{"hours":2}})"),
            "rules.json: rule 1 (r): codes has \"W19\": write system|code (snomed, readv2, ctv3, "
            "icd10…), a trailing * for a prefix");
  EXPECT_EQ(refused("{" + base + R"("trigger":"efi_category_rise","due":{"days":2}})"),
            "rules.json: rule 1 (r): due must be {\"hours\": n} or {\"working_days\": n}");
  EXPECT_EQ(refused("{" + base + R"("trigger":"efi_category_rise","due":{"hours":2},"colour":"red"})"),
            "rules.json: rule 1 (r): colour is not a rule member");
  EXPECT_EQ(refused("{" + base + R"("trigger":"efi_category_rise","due":{"hours":2}},{)" + base +
                    R"("trigger":"efi_category_rise","due":{"hours":2}})"),
            "rules.json: rule 2 (r): id is used twice");
}

// Working days as core/calendar.h counts them, keeping the time of day: the day raised never
// counts; weekends and bank holidays are skipped.
TEST(EscalationRulesTest, DueTimesInHoursAndWorkingDays) {
  const WorkingDayCalendar& cal = WorkingDayCalendar::EnglandAndWales();
  auto at = [](int y, int m, int d, int hour) {
    return static_cast<int64_t>(Date::FromYmd(y, m, d).days_since_epoch()) * 86'400'000 +
           hour * 3'600'000LL;
  };
  auto due = [&](records::EscalationDue d, int64_t raised) {
    auto r = records::EscalationDueMs(d, raised, cal);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : 0;
  };
  // Friday 14:00 + 1 working day: Monday 14:00.
  EXPECT_EQ(due({0, 1}, at(2026, 9, 25, 14)), at(2026, 9, 28, 14));
  // Saturday 10:00 + 1: Monday 10:00.
  EXPECT_EQ(due({0, 1}, at(2026, 9, 26, 10)), at(2026, 9, 28, 10));
  // Thursday before Easter 2026 (Good Friday 3 April, Easter Monday 6 April) + 1: Tuesday.
  EXPECT_EQ(due({0, 1}, at(2026, 4, 2, 16)), at(2026, 4, 7, 16));
  // Christmas Eve 2026 (a Thursday) + 2: Christmas Day Friday, Boxing Day Saturday so Monday
  // 28 December is its substitute: Tuesday 29th, then Wednesday 30th.
  EXPECT_EQ(due({0, 2}, at(2026, 12, 24, 9)), at(2026, 12, 30, 9));
  // Elapsed hours run through nights and weekends.
  EXPECT_EQ(due({4, 0}, at(2026, 9, 25, 22)), at(2026, 9, 26, 2));
}

}  // namespace
}  // namespace joinedup::api::testing
