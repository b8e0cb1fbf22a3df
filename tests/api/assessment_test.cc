// The holistic assessment (issue 12 item 2; records/assessment.h, webapp/assessment_api.h) on
// SQLite and PostgreSQL: the shipped questionnaire and its installation; answers that raise
// needs; who recorded each answer; save as you go with no lost update; reassessment as a new
// version with the history kept; and the person's decision on who may see it, enforced for
// reads, searches and their totals, includes and history through both APIs — a hidden
// assessment answering exactly as a missing one.
//
// The population (api_test_support.h): p2 is registered at B82002 and on care team T1 (every
// staff user of the population, all at A81001, is a member); added here, gp-beta is a GP at
// B82002 on no team (p2's own practice), and gp-gamma a GP elsewhere with no relationship.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <functional>
#include <set>

#include "api/fhir_api.h"
#include "api_test_support.h"
#include "records/assessment.h"
#include "store_test_support.h"
#include "webapp/app_api.h"

namespace joinedup::api::testing {
namespace {

using json = nlohmann::json;
using store::testing::Backend;

class AssessmentTest : public PopulatedApiTest {
 protected:
  void SetUp() override {
    PopulatedApiTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_TRUE(api_->store()
                    .PutOrganisation({"C83003", "Gamma Health Centre",
                                      store::OrganisationKind::kGpPractice})
                    .ok());
    for (const auto& [username, org] :
         {std::pair{"gp-beta", "B82002"}, std::pair{"gp-gamma", "C83003"}}) {
      store::User u;
      u.username = username;
      u.display_name = std::string("Dr ") + username;
      u.organisation_id = org;
      u.role = store::Role::kGp;
      u.password_hash = "not-a-real-hash";
      ASSERT_TRUE(api_->store().AddUser(u).ok());
    }
    webapp::AppApiOptions options;
    options.cursor_key = TestCursorKey();
    options.clock = [this] { return now_; };
    app_ = std::make_unique<webapp::AppApi>(options);
  }

  HttpResponse App(std::string_view who, std::string_view method, std::string_view target,
                   const json& body = nullptr) {
    return app_->Handle(Request(method, target, body.is_null() ? "" : body.dump()),
                        PrincipalOf(api_->store(), who), api_->store());
  }
  json AppJson(std::string_view who, std::string_view method, std::string_view target,
               const json& body = nullptr, int status = 200) {
    const HttpResponse r = App(who, method, target, body);
    EXPECT_EQ(r.status, status) << method << " " << target << ": " << r.body;
    json j = json::parse(r.body, nullptr, false);
    return j.is_object() ? j : json::object();
  }
  // p2's assessment as the population has it (qr-p2: completed, no sharing decision) started
  // again by the nurse (on p2's care team): its version, in progress.
  int64_t Begin() {
    const json found = AppJson("nurse", "GET", "/people/p2/assessment");
    EXPECT_EQ(found["assessment"]["id"], "qr-p2");
    EXPECT_EQ(found["assessment"]["status"], "completed");
    const json again = AppJson("nurse", "POST", "/people/p2/assessment/reassess",
                               {{"version", found["assessment"]["version"]}});
    return again["assessment"].value("version", int64_t{0});
  }
  // Begin, a first answer, and the person's decision `sharing`: the assessment's id.
  std::string Start(std::string_view sharing) {
    const json saved = AppJson("nurse", "PUT", "/people/p2/assessment",
                               {{"version", Begin()}, {"answers", {{"falls-last-year", "once"}}}});
    AppJson("nurse", "PUT", "/people/p2/assessment/sharing",
            {{"version", saved["assessment"]["version"]}, {"sharing", sharing}});
    return saved["assessment"].value("id", "");
  }
  // The FHIR search's total as `who` sees it.
  int64_t Total(std::string_view who, const std::string& target) {
    const HttpResponse r = Call(who, "GET", target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    return json::parse(r.body).value("total", -1);
  }
  static std::string Shape(std::string body, std::string_view id) {
    for (size_t at = body.find(id); !id.empty() && at != std::string::npos; at = body.find(id))
      body.replace(at, id.size(), "ID");
    return body;
  }
  // Whether `who` sees assessment `id` everywhere it can be reached — and, when not, that it
  // answers exactly as a missing one does.
  bool Sees(std::string_view who, const std::string& id) {
    const HttpResponse app_response = App(who, "GET", "/people/p2/assessment");
    const json app = json::parse(app_response.body);
    // Someone who may not see p2 at all is told p2 is not known (app_api_test has that).
    const bool in_app = app_response.status == 200 && app["assessment"].is_object() &&
                        app["assessment"]["id"] == id;
    const HttpResponse read = Call(who, "GET", "/QuestionnaireResponse/" + id);
    const HttpResponse history = Call(who, "GET", "/QuestionnaireResponse/" + id + "/_history");
    const HttpResponse search =
        Call(who, "GET", "/QuestionnaireResponse?patient=p2&_id=" + id + "&_total=accurate");
    const HttpResponse revinclude =
        Call(who, "GET", "/Patient?_id=p2&_revinclude=QuestionnaireResponse:patient");
    const bool in_search = json::parse(search.body).value("total", -1) == 1;
    const bool in_revinclude = revinclude.body.find(id) != std::string::npos;
    const bool seen = read.status == 200;
    EXPECT_EQ(in_app, seen) << who;
    EXPECT_EQ(history.status == 200, seen) << who;
    EXPECT_EQ(in_search, seen) << who;
    EXPECT_EQ(in_revinclude, seen) << who;
    if (!seen) {
      const HttpResponse missing = Call(who, "GET", "/QuestionnaireResponse/no-such-id");
      EXPECT_EQ(read.status, missing.status) << who;
      EXPECT_EQ(Shape(read.body, id), Shape(missing.body, "no-such-id")) << who;
      EXPECT_EQ(json::parse(search.body).value("total", -1), 0) << who;
      if (app_response.status == 200) {
        EXPECT_EQ(app["assessment"], nullptr) << who;
        EXPECT_EQ(app["needs"], json::array()) << who;
      }
    }
    return seen;
  }

  int64_t now_ = kNowMs;
  std::unique_ptr<webapp::AppApi> app_;
};

TEST(ShippedQuestionnaire, ParsesAndHasEverySection) {
  const records::ShippedQuestionnaire& latest = records::LatestQuestionnaire();
  const json q = json::parse(latest.json);
  EXPECT_EQ(q["resourceType"], "Questionnaire");
  EXPECT_EQ(q["url"], records::kHolisticAssessmentUrl);
  EXPECT_EQ(q["version"], latest.version);
  EXPECT_EQ(q["status"], "active");
  EXPECT_TRUE(q.contains("date"));
  std::set<std::string> link_ids;
  std::set<std::string> needs;
  std::function<void(const json&)> walk = [&](const json& items) {
    for (const json& item : items) {
      EXPECT_TRUE(link_ids.insert(item["linkId"].get<std::string>()).second) << item["linkId"];
      for (const json& option : item.value("answerOption", json::array()))
        for (const json& e : option.value("extension", json::array())) {
          EXPECT_EQ(e["url"], records::kRaisesNeedUrl);
          EXPECT_EQ(e["valueCoding"]["system"], "http://snomed.info/sct");
          const std::string code = e["valueCoding"]["code"];
          EXPECT_EQ(code.find_first_not_of("0123456789"), std::string::npos) << code;
          needs.insert(code);
        }
      walk(item.value("item", json::array()));
    }
  };
  walk(q["item"]);
  // Issue 12: health, social care and wellbeing, each section the issue names.
  for (const char* section :
       {"health", "conditions", "medicines", "falls-mobility", "continence", "nutrition",
        "cognition-mood", "social-care", "personal-care", "home-safety", "carers-family",
        "finances", "wellbeing", "loneliness", "activities", "what-matters-to-me",
        // Kept from the responses written before this questionnaire (seed 004's Mrs A).
        "what-matters", "fears", "preferences", "medicines-how-taken"})
    EXPECT_TRUE(link_ids.count(section)) << section;
  EXPECT_TRUE(needs.count("161898004"));  // Falls
  EXPECT_TRUE(records::NewerVersion("1.10", "1.9"));
  EXPECT_TRUE(records::NewerVersion("1.0.0", "1"));
  EXPECT_FALSE(records::NewerVersion("1.0.0", "1.0.0"));
  EXPECT_FALSE(records::NewerVersion("0.9", "1"));
}

TEST_P(AssessmentTest, TheShippedVersionSupersedesAnOlderOneWhichStaysReadable) {
  // The population holds a version "1" of the questionnaire; the shipped one is newer.
  auto installed = records::InstallShippedQuestionnaire(api_->store(), kNowMs);
  ASSERT_TRUE(installed.ok()) << installed.error().ToString();
  EXPECT_TRUE(*installed);
  auto again = records::InstallShippedQuestionnaire(api_->store(), kNowMs + 1);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);  // idempotent
  const json now = json::parse(Call("nurse", "GET", "/Questionnaire/holistic-assessment").body);
  EXPECT_EQ(now["version"], records::LatestQuestionnaire().version);
  const json history =
      json::parse(Call("nurse", "GET", "/Questionnaire/holistic-assessment/_history").body);
  ASSERT_EQ(history["entry"].size(), 2u);
  const json older =
      json::parse(Call("nurse", "GET", "/Questionnaire/holistic-assessment/_history/1").body);
  EXPECT_EQ(older["version"], "1");
  // The app API serves the shipped form to every role that reads the directory.
  const json form = AppJson("care-assistant", "GET", "/assessment/questionnaire");
  EXPECT_EQ(form["version"], records::LatestQuestionnaire().version);
}

TEST_P(AssessmentTest, AnswersRaiseNeedsAndSayWhoRecordedThem) {
  json saved = AppJson("nurse", "PUT", "/people/p2/assessment",
                       {{"version", Begin()},
                        {"answers", {{"falls-last-year", "more-than-once"},
                                     {"mobility", {"walking-aid", "stairs-difficult"}}}}});
  ASSERT_TRUE(saved["assessment"].is_object()) << saved.dump();
  EXPECT_EQ(saved["assessment"]["status"], "in-progress");
  // Written before any decision was recorded: shared as every record is.
  EXPECT_EQ(saved["assessment"]["sharing"], "care-relationship");
  std::set<std::string> codes;
  for (const json& need : saved["needs"]) codes.insert(need["code"].get<std::string>());
  EXPECT_EQ(codes, (std::set<std::string>{"279992002", "160683008", "301589003"}));
  const json& falls = saved["assessment"]["answers"]["falls-last-year"];
  EXPECT_EQ(falls["values"], json::array({"more-than-once"}));
  EXPECT_EQ(falls["recorded_by_username"], "nurse");
  EXPECT_NE(falls["recorded_by"].get<std::string>().find("Test nurse"), std::string::npos);
  EXPECT_EQ(falls["recorded_at"], "2026-09-21T14:13:20Z");

  // The case manager adds what matters to her later; the nurse's answers stay hers.
  now_ += 60'000;
  const int64_t version = saved["assessment"]["version"];
  saved = AppJson("case-manager", "PUT", "/people/p2/assessment",
                  {{"version", version},
                   {"answers",
                    {{"what-matters", "Keeping control and staying in my own home"},
                     {"falls-last-year", "more-than-once"}}}});
  EXPECT_EQ(saved["assessment"]["answers"]["what-matters"]["recorded_by_username"],
            "case-manager");
  EXPECT_EQ(saved["assessment"]["answers"]["falls-last-year"]["recorded_by_username"], "nurse");
  EXPECT_EQ(saved["assessment"]["answers"]["falls-last-year"]["recorded_at"],
            "2026-09-21T14:13:20Z");

  // Someone who opened the older version is refused, and nothing changes.
  const json refused = AppJson("nurse", "PUT", "/people/p2/assessment",
                               {{"version", version}, {"answers", {{"falls-last-year", "none"}}}},
                               412);
  EXPECT_EQ(refused["error"]["field"], "version");
  // Bad answers name the question; nothing is written.
  const int64_t current = saved["assessment"]["version"];
  EXPECT_EQ(AppJson("nurse", "PUT", "/people/p2/assessment",
                    {{"version", current}, {"answers", {{"falls-last-year", "sometimes"}}}}, 400)
                ["error"]["field"],
            "answers.falls-last-year");
  EXPECT_EQ(AppJson("nurse", "PUT", "/people/p2/assessment",
                    {{"version", current}, {"answers", {{"no-such-question", "x"}}}}, 400)
                ["error"]["field"],
            "answers.no-such-question");
  EXPECT_EQ(AppJson("nurse", "GET", "/people/p2/assessment")["assessment"]["version"], current);

  // In the FHIR resource: the provenance extension on the item, nested in its section.
  const std::string id = saved["assessment"]["id"];
  const json fhir = json::parse(Call("nurse", "GET", "/QuestionnaireResponse/" + id).body);
  EXPECT_EQ(fhir["questionnaire"], std::string(records::kHolisticAssessmentUrl) + "|" +
                                       std::string(records::LatestQuestionnaire().version));
  EXPECT_EQ(fhir["item"][0]["linkId"], "health");
  const json falls_item = fhir["item"][0]["item"][0]["item"][0];
  EXPECT_EQ(falls_item["linkId"], "falls-last-year");
  EXPECT_EQ(falls_item["extension"][0]["url"], records::kAnswerRecordedUrl);
  EXPECT_EQ(records::AssessmentNeeds(fhir.dump()).size(), 3u);
}

TEST_P(AssessmentTest, FinishingNeedsWhatMattersAndAReassessmentIsANewVersion) {
  const int64_t begun = Begin();
  json saved = AppJson("nurse", "PUT", "/people/p2/assessment",
                       {{"version", begun}, {"answers", {{"falls-last-year", "none"}}}, {"complete", true}},
                       400);
  EXPECT_EQ(saved["error"]["field"], "answers.what-matters");
  EXPECT_EQ(AppJson("nurse", "GET", "/people/p2/assessment")["assessment"]["version"], begun);
  // A new assessment where one exists is someone else's change first.
  EXPECT_EQ(App("nurse", "PUT", "/people/p2/assessment", {{"answers", json::object()}}).status, 412);
  saved = AppJson("nurse", "PUT", "/people/p2/assessment",
                  {{"version", begun},
                   {"answers", {{"falls-last-year", "none"}, {"what-matters", "My garden"}}}});
  saved = AppJson("nurse", "PUT", "/people/p2/assessment",
                  {{"version", saved["assessment"]["version"]}, {"complete", true}});
  EXPECT_EQ(saved["assessment"]["status"], "completed");
  const int64_t completed = saved["assessment"]["version"];
  now_ += 28LL * 24 * 60 * 60 * 1000;  // the four-week reassessment (seed 004)
  const json again = AppJson("nurse", "POST", "/people/p2/assessment/reassess",
                             {{"version", completed}});
  EXPECT_EQ(again["assessment"]["status"], "in-progress");
  EXPECT_EQ(again["assessment"]["version"], completed + 1);
  EXPECT_EQ(again["assessment"]["id"], saved["assessment"]["id"]);
  EXPECT_EQ(again["assessment"]["answers"]["what-matters"]["values"], json::array({"My garden"}));
  ASSERT_GE(again["history"].size(), 3u);
  EXPECT_EQ(again["history"][0]["status"], "in-progress");
  EXPECT_EQ(again["history"][1]["status"], "completed");
  EXPECT_EQ(again["history"][1]["version"], completed);
  // The completed assessment stays readable as it was.
  const std::string id = again["assessment"]["id"];
  const json earlier = json::parse(
      Call("nurse", "GET", "/QuestionnaireResponse/" + id + "/_history/" + std::to_string(completed))
          .body);
  EXPECT_EQ(earlier["status"], "completed");
  // A reassessment of one in progress is refused; a stale one is 412.
  EXPECT_EQ(App("nurse", "POST", "/people/p2/assessment/reassess", {{"version", completed + 1}})
                .status,
            400);
  EXPECT_EQ(App("nurse", "POST", "/people/p2/assessment/reassess", {{"version", completed}}).status,
            412);
}

// Issue 12: "the person's decision on who may see the assessment (their care team; every
// organisation with a care relationship; their GP only) is recorded with it and enforced".
TEST_P(AssessmentTest, EachSharingDecisionIsEnforcedAndAHiddenOneIsAsMissing) {
  const std::string id = Start("care-team");
  ASSERT_FALSE(id.empty());
  // Their care team: the nurse (on T1 with p2) sees it; p2's own practice GP, on no team of
  // theirs, does not; nor does anyone without a relationship.
  EXPECT_TRUE(Sees("nurse", id));
  EXPECT_TRUE(Sees("case-manager", id));
  EXPECT_FALSE(Sees("gp-beta", id));
  EXPECT_FALSE(Sees("gp-gamma", id));
  // Counts do not leak.
  EXPECT_EQ(Total("nurse", "/QuestionnaireResponse?patient=p2&_total=accurate"), 1);
  EXPECT_EQ(Total("gp-beta", "/QuestionnaireResponse?patient=p2&_total=accurate"), 0);
  // The GP cannot change what they cannot see: answered as unknown.
  EXPECT_EQ(Call("gp-beta", "PUT", "/QuestionnaireResponse/" + id,
                 json::parse(Call("nurse", "GET", "/QuestionnaireResponse/" + id).body).dump())
                .status,
            404);

  // Their GP only: the practice sees it, the care team does not.
  json current = AppJson("nurse", "GET", "/people/p2/assessment");
  const json shared = AppJson("nurse", "PUT", "/people/p2/assessment/sharing",
                              {{"version", current["assessment"]["version"]}, {"sharing", "gp-only"}});
  EXPECT_EQ(shared["assessment"], nullptr);  // recorded, and now hidden from the nurse
  EXPECT_TRUE(Sees("gp-beta", id));
  EXPECT_FALSE(Sees("nurse", id));
  EXPECT_FALSE(Sees("case-manager", id));
  EXPECT_FALSE(Sees("gp-gamma", id));
  EXPECT_EQ(AppJson("gp-beta", "GET", "/people/p2/assessment")["assessment"]["sharing"],
            "gp-only");

  // Every organisation with a care relationship: both; still no one without one.
  current = AppJson("gp-beta", "GET", "/people/p2/assessment");
  AppJson("gp-beta", "PUT", "/people/p2/assessment/sharing",
          {{"version", current["assessment"]["version"]}, {"sharing", "care-relationship"}});
  EXPECT_TRUE(Sees("gp-beta", id));
  EXPECT_TRUE(Sees("nurse", id));
  EXPECT_FALSE(Sees("gp-gamma", id));

  // Every version answers to the decision as it stands now: the GP-only versions are the care
  // team's again, the whole history.
  // (1 as the population wrote it, 2 reassessed, 3 answered, 4 care team, 5 GP only, 6 now.)
  const json history = json::parse(Call("nurse", "GET", "/QuestionnaireResponse/" + id + "/_history").body);
  EXPECT_EQ(history["entry"].size(), 6u);

  // A bad decision names the field and changes nothing.
  current = AppJson("nurse", "GET", "/people/p2/assessment");
  EXPECT_EQ(AppJson("nurse", "PUT", "/people/p2/assessment/sharing",
                    {{"version", current["assessment"]["version"]}, {"sharing", "everyone"}}, 400)
                ["error"]["field"],
            "sharing");
  json fhir = json::parse(Call("nurse", "GET", "/QuestionnaireResponse/" + id).body);
  fhir["extension"] = {{{"url", kRecordSharingUrl}, {"valueCode", "everyone"}}};
  const HttpResponse bad = Call("nurse", "PUT", "/QuestionnaireResponse/" + id, fhir.dump());
  EXPECT_NE(bad.status, 200);
  EXPECT_NE(bad.body.find("extension[0].valueCode"), std::string::npos) << bad.body;
}

TEST_P(AssessmentTest, BreakingTheGlassOverridesTheDecisionAndSaysSo) {
  const std::string id = Start("care-team");
  const HttpResponse opened =
      Call("gp-beta", "GET", "/QuestionnaireResponse/" + id, "",
           {{"x-break-glass-reason", "emergency: collapsed at home, needs her assessment now"}});
  EXPECT_EQ(opened.status, 200) << opened.body;
  const HttpResponse alerts = Call("privacy-officer", "GET", "/AuditEvent?subtype=consent-override-alert");
  EXPECT_EQ(alerts.status, 200);
  EXPECT_EQ(json::parse(alerts.body)["entry"].size(), 1u) << alerts.body;
}

TEST_P(AssessmentTest, TheDecisionRoundTripsThroughTheFhirApi) {
  const json written = {
      {"resourceType", "QuestionnaireResponse"},
      {"status", "completed"},
      {"subject", {{"reference", "Patient/p2"}}},
      {"questionnaire", "https://joinedup.example/fhir/Questionnaire/holistic-assessment|1.0.0"},
      {"extension", {{{"url", kRecordSharingUrl}, {"valueCode", "gp-only"}}}},
      {"item", {{{"linkId", "what-matters"}, {"answer", {{{"valueString", "My cat, Mog"}}}}}}}};
  const HttpResponse created = Call("gp-beta", "POST", "/QuestionnaireResponse", written.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  json read = json::parse(created.body);
  const std::string id = read["id"];
  read = json::parse(Call("gp-beta", "GET", "/QuestionnaireResponse/" + id).body);
  read.erase("id");
  read.erase("meta");
  EXPECT_EQ(read, written);
  EXPECT_EQ(Call("nurse", "GET", "/QuestionnaireResponse/" + id).status, 404);
}

INSTANTIATE_TEST_SUITE_P(Backends, AssessmentTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const auto& info) { return store::testing::BackendName(info.param); });

}  // namespace
}  // namespace joinedup::api::testing
