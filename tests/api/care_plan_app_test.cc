// The person-centred care and support plan through the web application's API (/app/api,
// webapp/care_plan_api.h; records/care_plan.h) on the test population (api_test_support.h):
// Mrs A's plan (seed 004) written by her case manager and co-owned by her own sign-in, each
// part marked with who wrote it; no lost update; what a patient may change of their own plan,
// refused element by element; someone else's plan answering exactly as a missing one.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>

#include "api/fhir_api.h"
#include "api_test_support.h"
#include "store_test_support.h"
#include "webapp/app_api.h"

namespace joinedup::api::testing {
namespace {

using json = nlohmann::json;

// Mrs A's words (seed 004): "Mrs A declined an additional visit in the middle of the day, as she
// felt that she would soon lose her confidence if someone was doing everything for her."
constexpr std::string_view kHerRefusal =
    "No thank you. I would soon lose my confidence if someone was doing everything for me.";

// The population and the web application's API on each backend (as AppApiTestBase, which is
// SQLite's only): the plan is a document and its versions, If-Match and audit are the store's.
class CarePlanAppTest : public ::testing::TestWithParam<store::testing::Backend> {
 protected:
  void SetUp() override {
    std::string skip;
    db_ = store::testing::TestDatabase::Create(GetParam(), skip);
    if (!db_) GTEST_SKIP() << skip;
    auto opened = store::OpenStore(db_->url());
    ASSERT_TRUE(opened.ok()) << opened.error().ToString();
    store_ = std::move(*opened);
    auto population = Populate(*store_);
    ASSERT_TRUE(population.ok()) << population.error().ToString();
    population_ = *population;
    webapp::AppApiOptions app_options;
    app_options.cursor_key = TestCursorKey();
    app_options.clock = [] { return kNowMs; };
    api_ = std::make_unique<webapp::AppApi>(app_options);
    // A community trust's case-management team (North) and another (South); the GP at the
    // practice p4 (Mrs A) is registered with; Mrs A's own account.
    ASSERT_TRUE(store_->PutOrganisation({"RY1", "Community Trust",
                                         store::OrganisationKind::kCommunityTrust})
                    .ok());
    team_ = *store_->AddCareTeam("Case management North", "RY1");
    const int64_t south = *store_->AddCareTeam("Case management South", "RY1");
    cm_ = AddUser("cm-north", "Nurse Nina North", "RY1", store::Role::kCaseManager, team_);
    AddUser("cm-south", "Sam South", "RY1", store::Role::kCaseManager, south);
    AddUser("gp-beta", "Dr Beta", "B82002", store::Role::kGp, 0);
    AddUser("mrs-a", "Mrs A", "B82002", store::Role::kPatient, 0,
            population_.patient_keys.at("p4"));
    // Her GP enrols her: the North team gains the relationship.
    const HttpResponse enrolled =
        Call("gp-beta", "POST", "/caseloads/" + std::to_string(team_) + "/enrol",
             {{"patient", "p4"}, {"coordinator", cm_}, {"source", "case-finding"}});
    ASSERT_EQ(enrolled.status, 201) << enrolled.body;
    // The plan the population gave her ended (completed): she has no current plan.
    api::FhirApi fhir(TestOptions());
    json old = json::parse(
        fhir.Handle(Request("GET", "/CarePlan/cp-p4"), PrincipalOf(*store_, "cm-north"), *store_)
            .body);
    old.erase("meta");
    old["status"] = "completed";
    ASSERT_EQ(fhir.Handle(Request("PUT", "/CarePlan/cp-p4", old.dump(), {{"if-match", "W/\"1\""}}),
                          PrincipalOf(*store_, "cm-north"), *store_)
                  .status,
              200);
  }

  int64_t AddUser(const std::string& username, const std::string& name, const std::string& org,
                  store::Role role, int64_t team, std::optional<int64_t> patient_key = {}) {
    return AddTestUser(*store_, username, name, org, role, team, patient_key);
  }

  HttpResponse Call(std::string_view who, std::string_view method, std::string_view target,
                    const json& body = nullptr) {
    return api_->Handle(Request(method, target, body.is_null() ? "" : body.dump(), {}),
                        PrincipalOf(*store_, who), *store_);
  }

  HttpResponse Fhir(std::string_view who, std::string_view method, const std::string& target,
                    const std::string& body = "",
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
    api::FhirApi fhir(TestOptions());
    return fhir.Handle(Request(method, target, body, std::move(headers)), PrincipalOf(*store_, who),
                       *store_);
  }

  // Mrs A's plan as her case manager writes it with her (seed 004): carers twice a day, a
  // system for her tablets, an occupational therapist's visit (the population's Task t-p4).
  json WriteMrsAsPlan() {
    const json plan = {
        {"sections",
         {{"about-me-communication", "Mrs A hears best on her left side; speak clearly."},
          {"about-me-people", "Her daughter visits every weekend and does her shopping; her "
                              "neighbour pops in once or twice a week."},
          {"what-matters", "Keeping control and staying in her own home."},
          {"contingency", "If she becomes muddled or cannot manage the stairs, call the Recovery "
                          "at Home Team at once."},
          {"acp-respect-form", "No ReSPECT form yet: to discuss at the four-week review."},
          {"community-services", "Age UK befriending: a weekly call."}}},
        {"contacts",
         {{"contact-in-hours", {{"name", "Recovery at Home Team"}, {"telephone", "01905 760000"}}},
          {"contact-out-of-hours", {{"name", "NHS 111"}, {"telephone", "111"}}}}},
        {"review_date", "2026-10-19"},
        {"activities",
         {{{"description", "A carer to help me get up and to get to bed"},
           {"who", "Carers from the Recovery at Home Team"},
           {"when", "Twice a day, at times that fit my routine"}},
          {{"description", "Help me set up a system for my tablets"},
           {"who", "The carers"},
           {"when", "This week"}},
          {{"description", "An occupational therapist visits to see what would make home safer"},
           {"who", "Occupational therapist"},
           {"when", "Within two weeks"},
           {"task", "t-p4"}}}}};
    const HttpResponse r = Call("cm-north", "POST", "/people/p4/care-plan", plan);
    EXPECT_EQ(r.status, 201) << r.body;
    return Body(r);
  }

  json Plan(std::string_view who, std::string_view patient = "p4") {
    const HttpResponse r = Call(who, "GET", "/people/" + std::string(patient) + "/care-plan");
    EXPECT_EQ(r.status, 200) << r.body;
    return Body(r);
  }

  static const json* GoalWithText(const json& view, std::string_view text) {
    for (const json& g : view["goals"])
      if (g["text"] == text) return &g;
    return nullptr;
  }

  static json Body(const HttpResponse& response) { return BodyOf(response); }
  std::vector<store::AuditEvent> Events(std::string_view subtype) {
    return AuditEventsOf(*store_, subtype);
  }

  std::unique_ptr<store::testing::TestDatabase> db_;
  std::unique_ptr<store::Store> store_;
  Population population_;
  std::unique_ptr<webapp::AppApi> api_;
  int64_t team_ = 0, cm_ = 0;
};

TEST_P(CarePlanAppTest, MrsAsPlanIsWrittenWithHerAndCoOwnedByHerOwnSignIn) {
  // Before: no current plan; her goal, open task and active flag from the population show.
  const json before = Plan("cm-north");
  EXPECT_TRUE(before["plan"].is_null());
  EXPECT_EQ(before["person"]["id"], "p4");
  ASSERT_EQ(before["tasks"].size(), 1u);
  EXPECT_EQ(before["tasks"][0]["description"], "Occupational therapy home visit");
  ASSERT_EQ(before["flags"].size(), 1u);
  EXPECT_EQ(before["flags"][0]["text"], "Emergency admission");
  EXPECT_EQ(before["sections_available"].size(), 13u);

  const json created = WriteMrsAsPlan();
  const json& plan = created["plan"];
  ASSERT_TRUE(plan.is_object()) << created;
  const std::string plan_id = plan["id"];
  EXPECT_EQ(plan["version"], 1);
  EXPECT_EQ(plan["review_date"], "2026-10-19");
  EXPECT_EQ(plan["sections"]["what-matters"]["text"], "Keeping control and staying in her own home.");
  EXPECT_EQ(plan["sections"]["what-matters"]["written_by"]["name"], "Nurse Nina North");
  EXPECT_EQ(plan["sections"]["what-matters"]["written_by"]["by_person"], false);
  EXPECT_EQ(plan["sections"]["contact-in-hours"]["name"], "Recovery at Home Team");
  EXPECT_EQ(plan["sections"]["contact-in-hours"]["telephone"], "01905 760000");
  EXPECT_EQ(plan["sections"]["contact-out-of-hours"]["telephone"], "111");
  ASSERT_EQ(plan["activities"].size(), 3u);
  EXPECT_EQ(plan["activities"][0]["who"], "Carers from the Recovery at Home Team");
  EXPECT_EQ(plan["activities"][0]["when"], "Twice a day, at times that fit my routine");
  EXPECT_EQ(plan["activities"][2]["task"], "t-p4");
  EXPECT_EQ(plan["activities"][2]["written_by"]["name"], "Nurse Nina North");

  // Her goal, agreed with her, in her words; and a midday visit the team proposes.
  const HttpResponse own_goal = Call("cm-north", "POST", "/people/p4/goals",
                                     {{"text", "To get back to normal and keep my independence"},
                                      {"status", "active"},
                                      {"target_date", "2026-10-19"},
                                      {"in_persons_words", true},
                                      {"agreed_with_person", true}});
  ASSERT_EQ(own_goal.status, 201) << own_goal.body;
  const std::string goal_id = Body(own_goal)["saved"]["id"];
  const HttpResponse midday = Call("cm-north", "POST", "/people/p4/goals",
                                   {{"text", "A carer visits at midday to help with lunch"}});
  ASSERT_EQ(midday.status, 201) << midday.body;
  const std::string midday_id = Body(midday)["saved"]["id"];
  // Both joined her plan (CarePlan.goal), as a FHIR client reads it.
  const json fhir_plan = json::parse(Fhir("cm-north", "GET", "/CarePlan/" + plan_id).body);
  ASSERT_EQ(fhir_plan["goal"].size(), 2u);
  EXPECT_EQ(fhir_plan["goal"][0]["reference"], "Goal/" + goal_id);

  // Her own sign-in: her plan, in plain words, with who to call.
  const json hers = Plan("mrs-a");
  EXPECT_EQ(hers["viewer"], "person");
  EXPECT_EQ(hers["plan"]["id"], plan_id);
  EXPECT_EQ(hers["plan"]["sections"]["contact-out-of-hours"]["name"], "NHS 111");
  EXPECT_EQ(hers["may"]["change_plan"], true);
  EXPECT_EQ(hers["may"]["create_plan"], false);
  const int64_t version = hers["plan"]["version"];

  // She rewrites "how I communicate" in her own words.
  const std::string her_words = "I hear well on my left. Please knock loudly and wait: I am slow "
                                "on the stairs.";
  const HttpResponse about = Call("mrs-a", "POST", "/care-plans/" + plan_id,
                                  {{"version", version},
                                   {"sections", {{"about-me-communication", her_words}}}});
  ASSERT_EQ(about.status, 200) << about.body;
  // Her goal's wording and her progress, and she refuses the midday visit in her words.
  const json* goal = GoalWithText(hers, "To get back to normal and keep my independence");
  ASSERT_NE(goal, nullptr);
  EXPECT_EQ((*goal)["in_persons_words"], true);
  ASSERT_EQ((*goal)["agreed_by"].size(), 2u);
  EXPECT_EQ((*goal)["agreed_by"][0]["by_person"], true);
  EXPECT_EQ((*goal)["agreed_by"][1]["name"], "Nurse Nina North");
  const HttpResponse reworded =
      Call("mrs-a", "POST", "/goals/" + goal_id,
           {{"version", (*goal)["version"]},
            {"text", "To get back to normal, do my own shopping and keep my independence"},
            {"progress", "I got downstairs by myself on Tuesday and made my own lunch."}});
  ASSERT_EQ(reworded.status, 200) << reworded.body;
  const json* proposal = GoalWithText(hers, "A carer visits at midday to help with lunch");
  ASSERT_NE(proposal, nullptr);
  EXPECT_EQ((*proposal)["status"], "proposed");
  const HttpResponse refused = Call("mrs-a", "POST", "/goals/" + midday_id,
                                    {{"version", (*proposal)["version"]}, {"refusal", kHerRefusal}});
  ASSERT_EQ(refused.status, 200) << refused.body;

  // Her case manager sees each of her changes marked as hers.
  const json staff = Plan("cm-north");
  const json& section = staff["plan"]["sections"]["about-me-communication"];
  EXPECT_EQ(section["text"], her_words);
  EXPECT_EQ(section["written_by"]["name"], "Mrs A");
  EXPECT_EQ(section["written_by"]["by_person"], true);
  EXPECT_EQ(staff["plan"]["sections"]["what-matters"]["written_by"]["by_person"], false);
  const json* changed =
      GoalWithText(staff, "To get back to normal, do my own shopping and keep my independence");
  ASSERT_NE(changed, nullptr);
  EXPECT_EQ((*changed)["text_written_by"]["by_person"], true);
  ASSERT_EQ((*changed)["notes"].size(), 1u);
  EXPECT_EQ((*changed)["notes"][0]["kind"], "progress");
  EXPECT_EQ((*changed)["notes"][0]["written_by"]["by_person"], true);
  const json* declined = GoalWithText(staff, "A carer visits at midday to help with lunch");
  ASSERT_NE(declined, nullptr);
  EXPECT_EQ((*declined)["status"], "rejected");
  EXPECT_EQ((*declined)["status_reason"], kHerRefusal);
  EXPECT_EQ((*declined)["status_date"], "2026-09-21");
  ASSERT_EQ((*declined)["notes"].size(), 1u);
  EXPECT_EQ((*declined)["notes"][0]["kind"], "refusal");
  EXPECT_EQ((*declined)["notes"][0]["written_by"]["name"], "Mrs A");

  // History: who made each version, newest first.
  const json history = Body(Call("cm-north", "GET", "/care-plans/" + plan_id + "/history"));
  ASSERT_EQ(history["versions"].size(), 4u);  // written, two goals linked, her About me
  EXPECT_EQ(history["versions"][0]["version"], 4);
  EXPECT_EQ(history["versions"][0]["written_by"]["name"], "Mrs A");
  EXPECT_EQ(history["versions"][0]["written_by"]["by_person"], true);
  EXPECT_EQ(history["versions"][3]["written_by"]["name"], "Nurse Nina North");

  // Every patient write audited as an update about her, by her account.
  const auto mrs_a = store_->FindUser("mrs-a").value();
  int her_updates = 0;
  for (const store::AuditEvent& e : Events("update"))
    if (e.user_id == mrs_a->id && e.outcome == store::AuditOutcome::kSuccess) {
      ++her_updates;
      EXPECT_EQ(e.patient_keys, std::vector<int64_t>{population_.patient_keys.at("p4")});
    }
  EXPECT_EQ(her_updates, 3);

  // The plan round-trips exactly through FHIR: read, written back unchanged, read the same.
  HttpResponse read = Fhir("cm-north", "GET", "/CarePlan/" + plan_id);
  json resource = json::parse(read.body);
  const int64_t current = std::stoll(resource["meta"]["versionId"].get<std::string>());
  resource.erase("meta");
  const HttpResponse put = Fhir("cm-north", "PUT", "/CarePlan/" + plan_id, resource.dump(),
                                {{"if-match", "W/\"" + std::to_string(current) + "\""}});
  ASSERT_EQ(put.status, 200) << put.body;
  json again = json::parse(Fhir("cm-north", "GET", "/CarePlan/" + plan_id).body);
  again.erase("meta");
  EXPECT_EQ(again, resource);
  // Her words and who wrote them are in the FHIR resource itself.
  bool found = false;
  for (const json& note : again["note"])
    if (note["text"] == her_words) {
      found = true;
      EXPECT_EQ(note["authorReference"]["reference"], "Patient/p4");
    }
  EXPECT_TRUE(found);
}

TEST_P(CarePlanAppTest, AStaleEditIsRefusedAndShowsTheirVersion) {
  const json created = WriteMrsAsPlan();
  const std::string id = created["plan"]["id"];
  const HttpResponse first = Call("cm-north", "POST", "/care-plans/" + id,
                                  {{"version", 1}, {"sections", {{"self-care", "Short walks daily"}}}});
  ASSERT_EQ(first.status, 200) << first.body;
  // Someone else, who opened version 1 too.
  const HttpResponse second = Call("gp-beta", "POST", "/care-plans/" + id,
                                   {{"version", 1}, {"sections", {{"self-care", "Rest"}}}});
  ASSERT_EQ(second.status, 412) << second.body;
  const json body = Body(second);
  EXPECT_EQ(body["error"]["title"], "Someone else has changed this plan");
  EXPECT_EQ(body["current"]["plan"]["version"], 2);
  EXPECT_EQ(body["current"]["plan"]["sections"]["self-care"]["text"], "Short walks daily");
  // Nothing lost: the first change stands.
  EXPECT_EQ(Plan("cm-north")["plan"]["sections"]["self-care"]["text"], "Short walks daily");
  EXPECT_EQ(Plan("cm-north")["plan"]["version"], 2);
  // A goal's stale edit too.
  const std::string goal = Body(Call("cm-north", "POST", "/people/p4/goals",
                                     {{"text", "To walk to the shop"}}))["saved"]["id"];
  ASSERT_EQ(Call("cm-north", "POST", "/goals/" + goal, {{"version", 1}, {"progress", "Half way"}}).status,
            200);
  EXPECT_EQ(Call("mrs-a", "POST", "/goals/" + goal, {{"version", 1}, {"progress", "All the way"}}).status,
            412);
}

TEST_P(CarePlanAppTest, APatientChangesOnlyTheirOwnPartsAndIsToldWhich) {
  const json created = WriteMrsAsPlan();
  const std::string id = created["plan"]["id"];
  const std::string goal = Body(Call("cm-north", "POST", "/people/p4/goals",
                                     {{"text", "To walk to the shop"}, {"status", "active"}}))["saved"]["id"];
  const int64_t version = Plan("mrs-a")["plan"]["version"];
  struct Case {
    std::string target;
    json body;
    std::string field;
  };
  const Case cases[] = {
      {"/care-plans/" + id, {{"version", version}, {"sections", {{"contingency", "Call my son"}}}},
       "CarePlan.note:contingency"},
      {"/care-plans/" + id,
       {{"version", version}, {"contacts", {{"contact-in-hours", {{"name", "Me"}, {"telephone", "123"}}}}}},
       "CarePlan.note:contact-in-hours"},
      {"/care-plans/" + id,
       {{"version", version}, {"activities", json::array({{{"description", "Nothing"}}})}},
       "CarePlan.activity"},
      {"/care-plans/" + id, {{"version", version}, {"review_date", "2027-01-01"}},
       "CarePlan.extension"},
      {"/goals/" + goal, {{"version", 1}, {"target_date", "2027-01-01"}}, "Goal.target"},
      {"/goals/" + goal, {{"version", 1}, {"status", "completed"}}, "Goal.lifecycleStatus"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.target + " " + c.body.dump());
    const HttpResponse r = Call("mrs-a", "POST", c.target, c.body);
    EXPECT_EQ(r.status, 403) << r.body;
    EXPECT_EQ(Body(r)["error"]["field"], c.field);
  }
  // Nothing changed.
  EXPECT_EQ(Plan("cm-north")["plan"]["version"], version);
  EXPECT_EQ(Plan("cm-north")["plan"]["sections"]["contingency"]["written_by"]["by_person"], false);
  // The same rule through the FHIR API: her PUT of the plan with its status changed.
  json resource = json::parse(Fhir("mrs-a", "GET", "/CarePlan/" + id).body);
  resource.erase("meta");
  resource["status"] = "revoked";
  const HttpResponse put = Fhir("mrs-a", "PUT", "/CarePlan/" + id, resource.dump());
  EXPECT_EQ(put.status, 403) << put.body;
  EXPECT_NE(put.body.find("CarePlan.status"), std::string::npos) << put.body;
  // About me written as if by someone else is refused: what she writes is marked as hers.
  resource["status"] = "active";
  resource["note"].push_back(
      {{"extension", {{{"url", "https://joinedup.example/fhir/StructureDefinition/care-plan-section"},
                       {"valueCode", "about-me-people"}}}},
       {"authorReference", {{"reference", "Patient/p2"}}},
       {"text", "My son"}});
  EXPECT_EQ(Fhir("mrs-a", "PUT", "/CarePlan/" + id, resource.dump()).status, 403);
  // Every refusal audited against her, naming the element.
  int refused = 0;
  for (const store::AuditEvent& e : Events("update"))
    if (e.outcome == store::AuditOutcome::kSeriousFailure && e.query.starts_with("refused: ")) {
      ++refused;
      EXPECT_EQ(e.patient_keys, std::vector<int64_t>{population_.patient_keys.at("p4")});
    }
  EXPECT_EQ(refused, 8);
  // Her "who matters to me" through FHIR, written as hers — the members in another order than
  // stored (JSON objects have none in FHIR): allowed.
  resource["note"].back()["authorReference"]["reference"] = "Patient/p4";
  const HttpResponse mine = Fhir("mrs-a", "PUT", "/CarePlan/" + id, resource.dump());
  EXPECT_EQ(mine.status, 200) << mine.body;
  EXPECT_EQ(Plan("cm-north")["plan"]["sections"]["about-me-people"]["written_by"]["by_person"], true);
  // She creates no plan and no goal of her own (the team writes them with her).
  EXPECT_EQ(Call("mrs-a", "POST", "/people/p4/care-plan", {{"sections", json::object()}}).status, 403);
  EXPECT_EQ(Call("mrs-a", "POST", "/people/p4/goals", {{"text", "Mine"}}).status, 403);
}

TEST_P(CarePlanAppTest, SomeoneElsesPlanAnswersAsAMissingOne) {
  const json created = WriteMrsAsPlan();
  const std::string id = created["plan"]["id"];
  const std::string goal = Body(Call("cm-north", "POST", "/people/p4/goals",
                                     {{"text", "To walk to the shop"}}))["saved"]["id"];
  // The body with the id asked for replaced, to compare two refusals.
  auto shape = [](const HttpResponse& r, const std::string& asked) {
    std::string out = std::to_string(r.status) + " " + r.body;
    for (size_t at = out.find(asked); !asked.empty() && at != std::string::npos; at = out.find(asked))
      out.replace(at, asked.size(), "ID");
    return out;
  };
  const json about = {{"version", 1}, {"sections", {{"about-me-people", "My son"}}}};
  const json progress = {{"version", 1}, {"progress", "Better"}};
  // "patient" is p1's account; cm-south is on another team; "case-manager" is on T1, whose p3
  // declined sharing; each sees nothing of Mrs A's plan.
  for (const char* who : {"patient", "cm-south"}) {
    SCOPED_TRACE(who);
    EXPECT_EQ(shape(Call(who, "GET", "/people/p4/care-plan"), "p4"),
              shape(Call(who, "GET", "/people/nobody/care-plan"), "nobody"));
    EXPECT_EQ(shape(Call(who, "POST", "/care-plans/" + id, about), id),
              shape(Call(who, "POST", "/care-plans/no-such-plan", about), "no-such-plan"));
    EXPECT_EQ(shape(Call(who, "POST", "/goals/" + goal, progress), goal),
              shape(Call(who, "POST", "/goals/no-such-goal", progress), "no-such-goal"));
    EXPECT_EQ(shape(Call(who, "GET", "/care-plans/" + id + "/history"), id),
              shape(Call(who, "GET", "/care-plans/no-such-plan/history"), "no-such-plan"));
    EXPECT_EQ(Call(who, "GET", "/people/p4/care-plan").status, 404);
  }
  EXPECT_EQ(shape(Call("case-manager", "GET", "/people/p3/care-plan"), "p3"),
            shape(Call("case-manager", "GET", "/people/nobody/care-plan"), "nobody"));
  EXPECT_EQ(Call("cm-south", "POST", "/people/p4/goals", {{"text", "Not yours"}}).status, 404);
  // Her plan is as it was.
  EXPECT_EQ(Plan("cm-north")["plan"]["version"], created["plan"]["version"].get<int64_t>() + 1);
  EXPECT_FALSE(Plan("cm-north")["plan"]["sections"].contains("about-me-people") &&
               Plan("cm-north")["plan"]["sections"]["about-me-people"]["text"] == "My son");
  // A commissioner may not read plans at all (the role matrix), whoever they are about.
  EXPECT_EQ(Call("commissioner", "GET", "/people/p4/care-plan").status, 403);
  EXPECT_EQ(Call("commissioner", "GET", "/people/nobody/care-plan").status, 403);
  // Own team and own practice see it.
  EXPECT_EQ(Call("gp-beta", "GET", "/people/p4/care-plan").status, 200);
  EXPECT_EQ(Call("case-manager", "GET", "/people/p2/care-plan").status, 200);
  EXPECT_EQ(Call("patient", "GET", "/people/p1/care-plan").status, 200);
}

TEST_P(CarePlanAppTest, BadInputNamesTheFieldAndChangesNothing) {
  // One plan per person.
  EXPECT_EQ(Body(Call("case-manager", "POST", "/people/p1/care-plan", {{"sections", json::object()}}))
                ["error"]["field"],
            "plan");
  const json created = WriteMrsAsPlan();
  const std::string id = created["plan"]["id"];
  EXPECT_EQ(Call("cm-north", "POST", "/people/p4/care-plan", {{"sections", json::object()}}).status,
            409);
  struct Case {
    json body;
    std::string field;
  };
  const Case cases[] = {
      {{{"sections", {{"nope", "x"}}}, {"version", 1}}, "sections.nope"},
      {{{"sections", {{"self-care", 3}}}, {"version", 1}}, "sections.self-care"},
      {{{"contacts", {{"contact-in-hours", {{"name", "GP"}, {"telephone", "call me"}}}}}, {"version", 1}},
       "contacts.contact-in-hours.telephone"},
      {{{"contacts", {{"contact-in-hours", {{"name", ""}, {"telephone", "01905 1"}}}}}, {"version", 1}},
       "contacts.contact-in-hours.name"},
      {{{"review_date", "2026-02-30"}, {"version", 1}}, "review_date"},
      {{{"activities", json::array({{{"description", ""}}})}, {"version", 1}}, "activities.0.description"},
      {{{"activities", json::array({{{"description", "Visit"}, {"status", "soon"}}})}, {"version", 1}},
       "activities.0.status"},
      // Another person's Task is not known here.
      {{{"activities", json::array({{{"description", "Visit"}, {"task", "t-p2"}}})}, {"version", 1}},
       "activities.0.task"},
      {{{"sections", {{"self-care", "Walks"}}}}, "version"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body.dump());
    const HttpResponse r = Call("cm-north", "POST", "/care-plans/" + id, c.body);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(Body(r)["error"]["field"], c.field);
  }
  EXPECT_EQ(Call("cm-north", "POST", "/care-plans/" + id, json::array()).status, 400);
  EXPECT_EQ(Body(Call("cm-north", "POST", "/people/p4/goals", {{"text", "  "}}))["error"]["field"], "text");
  EXPECT_EQ(Body(Call("cm-north", "POST", "/people/p4/goals", {{"text", "Walk"}, {"status", "soon"}}))
                ["error"]["field"],
            "status");
  EXPECT_EQ(Call("cm-north", "PUT", "/care-plans/" + id, {{"version", 1}}).status, 405);
  // Nothing changed.
  EXPECT_EQ(Plan("cm-north")["plan"]["version"], 1);
  EXPECT_EQ(Plan("cm-north")["plan"], created["plan"]);
}

INSTANTIATE_TEST_SUITE_P(Backends, CarePlanAppTest,
                         ::testing::Values(store::testing::Backend::kSqlite,
                                           store::testing::Backend::kPostgres),
                         [](const auto& info) { return store::testing::BackendName(info.param); });

}  // namespace
}  // namespace joinedup::api::testing
