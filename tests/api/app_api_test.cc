// The web application's API (webapp/app_api.h) on the test population (api_test_support.h):
// what each screen gets, for each role, and that it is decided and audited by the records
// service exactly as the FHIR API is — a person the caller may not see answers as one that does
// not exist, in status and body.
#include "webapp/app_api.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api_test_support.h"
#include "core/nhs_number.h"
#include "fhir/search/search_params.h"
#include "store_test_support.h"

namespace joinedup::api::testing {
namespace {

using json = nlohmann::json;

class AppApiTest : public AppApiTestBase {
 protected:
  HttpResponse Call(std::string_view who, std::string_view method, std::string_view target,
                    std::string body = {},
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
    return api_->Handle(Request(method, target, std::move(body), std::move(headers)),
                        PrincipalOf(*store_, who), *store_);
  }

  // How many audit events name the person.
  size_t AuditedAbout(const std::string& patient) {
    store::AuditQuery q;
    q.patient_key = population_.patient_keys.at(patient);
    q.limit = 1000;
    auto events = store_->SearchAuditEvents(q);
    EXPECT_TRUE(events.ok());
    return events.ok() ? events->size() : 0;
  }

  // Whether an audit event about the person has `text` in its query.
  bool AuditedWith(const std::string& patient, std::string_view text) {
    store::AuditQuery q;
    q.patient_key = population_.patient_keys.at(patient);
    q.limit = 1000;
    auto events = store_->SearchAuditEvents(q);
    EXPECT_TRUE(events.ok());
    if (!events.ok()) return false;
    return std::any_of(events->begin(), events->end(), [&](const store::AuditEvent& e) {
      return e.query.find(text) != std::string::npos;
    });
  }
};

std::vector<std::string> Screens(const json& me) {
  std::vector<std::string> out;
  for (const json& s : me["screens"]) out.push_back(s.get<std::string>());
  return out;
}

TEST_F(AppApiTest, ScreensFollowThePolicy) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Screens(Body(Call("gp", "GET", "/me"))),
            (V{"find", "worklist", "caseload", "population"}));
  EXPECT_EQ(Screens(Body(Call("care-assistant", "GET", "/me"))), (V{"find", "caseload"}));
  EXPECT_EQ(Screens(Body(Call("link-worker", "GET", "/me"))), (V{"find"}));
  EXPECT_EQ(Screens(Body(Call("privacy-officer", "GET", "/me"))), (V{"audit"}));
  EXPECT_EQ(Screens(Body(Call("commissioner", "GET", "/me"))), (V{"population"}));
  const json patient = Body(Call("patient", "GET", "/me"));
  EXPECT_EQ(Screens(patient), (V{"my-record"}));
  EXPECT_EQ(patient["patient_id"], "p1");
  EXPECT_EQ(patient["may_break_glass"], false);
  EXPECT_EQ(Body(Call("gp", "GET", "/me"))["may_break_glass"], true);
  EXPECT_EQ(Body(Call("gp", "GET", "/me"))["user"]["display_name"], "Test gp");
}

TEST_F(AppApiTest, FindsAPersonByNhsNumberInAnyFormatOrByName) {
  const std::string digits = store::testing::TestNhsNumber(1).digits();
  const std::string spaced =
      digits.substr(0, 3) + " " + digits.substr(3, 3) + " " + digits.substr(6);
  const std::string dashed =
      digits.substr(0, 3) + "-" + digits.substr(3, 3) + "-" + digits.substr(6);
  for (const std::string& q : {digits, spaced, dashed}) {
    const json found = Body(Call("gp", "GET", "/people?q=" + fhir::search::PercentEncode(q)));
    ASSERT_EQ(found["people"].size(), 1u) << q;
    EXPECT_EQ(found["people"][0]["id"], "p1");
    EXPECT_EQ(found["people"][0]["nhs_number"], digits);
  }
  const HttpResponse bad = Call("gp", "GET", "/people?q=1234567890");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Body(bad)["error"]["field"], "q");
  EXPECT_EQ(Call("gp", "GET", "/people").status, 400);
}

TEST_F(AppApiTest, SearchSeesOnlyWhomTheCallerMay) {
  // p4 is at another practice, on no team: a GP at A81001 finds no one by their number.
  const std::string p4 = store::testing::TestNhsNumber(4).digits();
  EXPECT_TRUE(Body(Call("gp", "GET", "/people?q=" + p4))["people"].empty());
  // A commissioner may not search people at all: 403, and the body names no one.
  const HttpResponse refused = Call("commissioner", "GET", "/people?q=" + p4);
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.body.find(p4), std::string::npos);
}

TEST_F(AppApiTest, PersonPageHasEverySectionFromTheRecords) {
  const HttpResponse page = Call("gp", "GET", "/people/p1");
  ASSERT_EQ(page.status, 200) << page.body;
  const json j = Body(page);
  EXPECT_EQ(j["person"]["id"], "p1");
  EXPECT_EQ(j["person"]["nhs_number"], store::testing::TestNhsNumber(1).digits());
  EXPECT_EQ(j["person"]["practice"], "A81001");
  EXPECT_EQ(j["person"]["practice_name"], "Alpha Surgery");
  EXPECT_EQ(j["person"]["primary_care_home"], "PCH1");
  EXPECT_EQ(j["break_glass"], false);
  for (const char* section :
       {"related", "consent", "conditions", "medications", "activity", "risk"}) {
    ASSERT_TRUE(j["sections"].contains(section)) << section;
    EXPECT_EQ(j["sections"][section]["shown"], true) << section;
    EXPECT_FALSE(j["sections"][section]["items"].empty()) << section;
  }
  EXPECT_EQ(j["sections"]["related"]["items"][0]["telephone"], "07700900123");
  EXPECT_FALSE(j["sections"]["risk"]["items"][0]["notes"].empty());
  // Frailty today: p1's type 2 diabetes (SNOMED 44054006) is the eFI's Diabetes deficit; one
  // deficit of 36, "fit" (Clegg et al. 2016: 0-4 deficits). Paracetamol alone is not
  // polypharmacy.
  const json frailty = j["sections"]["frailty"];
  EXPECT_EQ(frailty["shown"], true);
  EXPECT_EQ(frailty["deficits"], 1);
  EXPECT_EQ(frailty["category"], "fit");
  EXPECT_NEAR(frailty["efi"].get<double>(), 1.0 / 36, 1e-9);
  ASSERT_EQ(frailty["items"].size(), 1u);
  EXPECT_EQ(frailty["items"][0]["deficit"], "Diabetes");
  EXPECT_EQ(frailty["items"][0]["code"], "44054006");
  EXPECT_EQ(frailty["items"][0]["date"], "2020-01-01");
}

TEST_F(AppApiTest, AHiddenPersonAnswersAsAMissingOneAndIsAudited) {
  const size_t before = AuditedAbout("p4");
  const HttpResponse hidden = Call("gp", "GET", "/people/p4");
  const HttpResponse missing = Call("gp", "GET", "/people/p999");
  EXPECT_EQ(hidden.status, 404);
  EXPECT_EQ(hidden.status, missing.status);
  EXPECT_EQ(hidden.body, missing.body);
  EXPECT_EQ(Body(hidden)["error"]["may_break_glass"], true);
  EXPECT_GT(AuditedAbout("p4"), before);  // the refusal is on the person's trail
  // A role that may not break the glass is not offered it.
  EXPECT_FALSE(Body(Call("patient", "GET", "/people/p4"))["error"].contains("may_break_glass"));
}

TEST_F(AppApiTest, BreakingTheGlassOpensTheDetailsAndSaysWhatItDoesNotShow) {
  const HttpResponse page =
      Call("gp", "GET", "/people/p4", {},
           {{"x-break-glass-reason", "emergency: unconscious in A&E, no other record available"}});
  ASSERT_EQ(page.status, 200) << page.body;
  const json j = Body(page);
  EXPECT_EQ(j["break_glass"], true);
  EXPECT_EQ(j["person"]["id"], "p4");
  EXPECT_EQ(j["sections"]["conditions"]["shown"], false);
  EXPECT_EQ(j["sections"]["frailty"]["shown"], false);
  store::AuditQuery q;
  q.subtypes = {"break-glass-alert"};
  q.limit = 10;
  auto alerts = store_->SearchAuditEvents(q);
  ASSERT_TRUE(alerts.ok());
  EXPECT_EQ(alerts->size(), 1u);
  // A reason on any other request is refused before anything is read.
  EXPECT_EQ(Call("gp", "GET", "/people?q=smith", {},
                 {{"x-break-glass-reason", "emergency: unconscious in A&E, no record"}})
                .status,
            400);
  EXPECT_EQ(Call("gp", "GET", "/people/p4", {}, {{"x-break-glass-reason", "because"}}).status, 400);
}

TEST_F(AppApiTest, ARoleThatMayNotSeeASectionIsToldSo) {
  // A link worker sees who the person is and their carers, never their clinical record.
  const json linked = Body(Call("link-worker", "GET", "/people/p1"));
  EXPECT_EQ(linked["sections"]["related"]["shown"], true);
  for (const char* section : {"conditions", "medications", "activity", "risk", "frailty"}) {
    EXPECT_EQ(linked["sections"][section]["shown"], false) << section;
    EXPECT_FALSE(linked["sections"][section].contains("items")) << section;
  }
  // The patient's own page has their record but not the stratification (a Risk row of "–").
  const json own = Body(Call("patient", "GET", "/people/p1"));
  EXPECT_EQ(own["person"]["id"], "p1");
  EXPECT_EQ(own["sections"]["conditions"]["shown"], true);
  EXPECT_EQ(own["sections"]["risk"]["shown"], false);
  // The privacy officer may not read people at all (403: it says nothing about the person).
  EXPECT_EQ(Call("privacy-officer", "GET", "/people/p1").status, 403);
}

TEST_F(AppApiTest, APatientRecordsTheirOwnConsentAndNoOneElses) {
  const HttpResponse recorded =
      Call("patient", "POST", "/people/p1/consent", R"({"decision":"deny"})");
  ASSERT_EQ(recorded.status, 201) << recorded.body;
  EXPECT_EQ(Body(recorded)["decision"], "deny");
  const json page = Body(Call("patient", "GET", "/people/p1"));
  EXPECT_EQ(page["sections"]["consent"]["items"][0]["decision"], "deny");
  // Someone else's record: as if it did not exist.
  const HttpResponse other =
      Call("patient", "POST", "/people/p2/consent", R"({"decision":"deny"})");
  const HttpResponse none =
      Call("patient", "POST", "/people/p999/consent", R"({"decision":"deny"})");
  EXPECT_EQ(other.status, 404);
  EXPECT_EQ(other.body, none.body);
  EXPECT_EQ(Call("patient", "POST", "/people/p1/consent", R"({"decision":"maybe"})").status, 400);
}

TEST_F(AppApiTest, ThePrivacyOfficerSearchesTheTrailAndOthersMayNot) {
  Call("gp", "GET", "/people/p1");
  const HttpResponse trail = Call("privacy-officer", "GET", "/audit?user=gp");
  ASSERT_EQ(trail.status, 200) << trail.body;
  const json events = Body(trail)["events"];
  ASSERT_FALSE(events.empty());
  for (const json& e : events) EXPECT_EQ(e["user"], "gp");
  EXPECT_EQ(Call("gp", "GET", "/audit").status, 403);
  EXPECT_EQ(Call("privacy-officer", "GET", "/audit?from=2026-13-01").status, 400);
}

TEST_F(AppApiTest, SegmentsAreCountsNeverPeople) {
  const HttpResponse segments = Call("commissioner", "GET", "/segments");
  ASSERT_EQ(segments.status, 200) << segments.body;
  const json j = Body(segments);
  ASSERT_FALSE(j["segments"].empty());
  for (const json& s : j["segments"]) {
    EXPECT_TRUE(s.contains("label"));
    EXPECT_TRUE(s["count"].is_null() || s["count"].is_number_integer());
  }
  EXPECT_EQ(j.dump().find("Patient/"), std::string::npos);
}

TEST_F(AppApiTest, TheWorklistIsTheLatestRunsPeopleTheCallerMaySeeByRisk) {
  const HttpResponse response = Call("gp", "GET", "/worklist");
  ASSERT_EQ(response.status, 200) << response.body;
  const json j = Body(response);
  EXPECT_EQ(j["run"], population_.run_id);
  std::vector<std::string> ids;
  double previous = 2;
  for (const json& row : j["rows"]) {
    ids.push_back(row["id"]);
    EXPECT_LE(row["admission_risk"].get<double>(), previous);  // highest risk first
    previous = row["admission_risk"];
    EXPECT_EQ(row["person"]["id"], row["id"]);  // who they are, from their own record
    EXPECT_FALSE(row["notes"].empty());
  }
  std::sort(ids.begin(), ids.end());
  // p1 (own practice) and p2 (care team); not p3 (declined sharing) nor p4 (elsewhere).
  EXPECT_EQ(ids, (std::vector<std::string>{"p1", "p2"}));
  EXPECT_TRUE(j["next_page"].is_null());
  const json practice = Body(Call("gp", "GET", "/worklist?practice=A81001"));
  ASSERT_EQ(practice["rows"].size(), 1u);
  EXPECT_EQ(practice["rows"][0]["id"], "p1");
  // The search is audited against everyone it showed.
  EXPECT_TRUE(AuditedWith("p2", "case-finding worklist"));
}

TEST_F(AppApiTest, TheWorklistExportsAsCsvAndTheExportIsAudited) {
  const HttpResponse csv = Call("gp", "GET", "/worklist.csv");
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_EQ(csv.content_type, "text/csv; charset=utf-8");
  EXPECT_NE(HeaderOf(csv, "Content-Disposition").find("worklist-run-"), std::string::npos);
  std::vector<std::string> lines;
  for (size_t at = 0, end; (end = csv.body.find("\r\n", at)) != std::string::npos; at = end + 2)
    lines.push_back(csv.body.substr(at, end - at));
  ASSERT_EQ(lines.size(), 3u);  // the header, p1 and p2
  EXPECT_EQ(lines[0].rfind("rank,nhs_number,name,", 0), 0u);
  EXPECT_NE(csv.body.find(store::testing::TestNhsNumber(1).digits()), std::string::npos);
  EXPECT_EQ(csv.body.find(store::testing::TestNhsNumber(4).digits()), std::string::npos);
  EXPECT_TRUE(AuditedWith("p1", "exported as CSV"));
  EXPECT_EQ(Call("commissioner", "GET", "/worklist.csv").status, 403);
}

TEST_F(AppApiTest, TheWorklistRefusesWhatItCannotAnswer) {
  EXPECT_EQ(Call("commissioner", "GET", "/worklist").status, 403);
  EXPECT_EQ(Call("patient", "GET", "/worklist").status, 403);
  EXPECT_EQ(Body(Call("gp", "GET", "/worklist?segment=99-0-1"))["error"]["field"], "segment");
  EXPECT_EQ(Body(Call("gp", "GET", "/worklist?page=0"))["error"]["field"], "page");
  EXPECT_TRUE(Body(Call("gp", "GET", "/worklist?page=2"))["rows"].empty());
}

TEST_F(AppApiTest, TheWorklistFiltersByAgeTodayRiskAndPrimaryCareHome) {
  auto ids = [&](std::string_view query) {
    const HttpResponse r = Call("gp", "GET", "/worklist?" + std::string(query));
    EXPECT_EQ(r.status, 200) << query << ": " << r.body;
    std::vector<std::string> out;
    const json body = Body(r);  // kept: a range-for over a temporary's member would dangle
    for (const json& row : body["rows"]) out.push_back(row["id"]);
    std::sort(out.begin(), out.end());
    return out;
  };
  using V = std::vector<std::string>;
  // Today (kNowMs) is 2026-09-21: p1 (born 1941-03-04) is 85, p2 (1942-03-04) is 84.
  EXPECT_EQ(ids("age_from=85"), V{"p1"});
  EXPECT_EQ(ids("age_to=84"), V{"p2"});
  EXPECT_EQ(ids("age_from=84&age_to=84"), V{"p2"});
  EXPECT_EQ(ids("age_from=86"), V{});
  // Risk in percent, [from, to): p1 10%, p2 20%.
  EXPECT_EQ(ids("risk_from=20"), V{"p2"});
  EXPECT_EQ(ids("risk_to=20"), V{"p1"});
  EXPECT_EQ(ids("risk_from=10&risk_to=20.5"), (V{"p1", "p2"}));
  EXPECT_EQ(ids("pch=PCH1"), (V{"p1", "p2"}));
  EXPECT_EQ(ids("pch=PCH9"), V{});
  EXPECT_EQ(ids("pch=PCH1&practice=B82002"), V{"p2"});
  for (std::string_view bad :
       {"age_from=121", "age_from=x", "age_to=-1", "risk_from=101", "risk_to=abc", "risers=2"}) {
    const HttpResponse r = Call("gp", "GET", "/worklist?" + std::string(bad));
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(Body(r)["error"]["field"], std::string(bad.substr(0, bad.find('=')))) << bad;
  }
  EXPECT_EQ(Body(Call("gp", "GET", "/worklist?age_from=90&age_to=80"))["error"]["field"], "age_to");
  EXPECT_TRUE(AuditedWith("p1", "aged from 85"));

  // On p1's 86th birthday (2027-03-04) they are 86; the day before, still 85.
  for (const auto& [day_ms, expected] :
       {std::pair<int64_t, V>{1'804'118'400'000, V{"p1"}}, {1'804'032'000'000, V{}}}) {
    webapp::AppApiOptions options;
    options.cursor_key = TestCursorKey();
    options.clock = [at = day_ms] { return at; };
    webapp::AppApi api(options);
    const HttpResponse r = api.Handle(Request("GET", "/worklist?age_from=86", "", {}),
                                      PrincipalOf(*store_, "gp"), *store_);
    std::vector<std::string> got;
    const json body = Body(r);
    for (const json& row : body["rows"]) got.push_back(row["id"]);
    EXPECT_EQ(got, expected) << day_ms;
  }
}

TEST_F(AppApiTest, RisersAreThoseWhoseRiskRoseSinceTheRunBeforeAndSayWhy) {
  HttpResponse r = Call("gp", "GET", "/worklist?risers=1");
  EXPECT_EQ(r.status, 400);  // one run: nothing to rise from
  EXPECT_EQ(Body(r)["error"]["field"], "risers");

  // A second run: p1 rises (10% → 35%) with a new long-term condition, more frailty, more cost
  // and a move from "high" to "low"'s neighbour; p2 falls (20% → 15%).
  StratificationRun run;
  run.index_date = Date::FromYmd(2026, 9, 1);
  run.models.push_back({"mcmw", "1", {"low", "high"}});
  run.people = 2;
  std::vector<PersonRunResult> results(2);
  results[0].patient_key = population_.patient_keys.at("p1");
  results[0].ltc_count = 2;     // was 1
  results[0].efi_deficits = 3;  // unchanged
  results[0].hfrs_tenths = 25;
  results[0].charlson_quan2011 = 1;
  results[0].charlson_1987 = 1;
  results[0].admission_risk = 0.35f;
  results[0].cost_12m_pence = 500000;  // was 123.45
  results[0].segment = {0};            // was 1 ("high")
  results[0].rule = {0};
  results[1] = results[0];
  results[1].patient_key = population_.patient_keys.at("p2");
  results[1].admission_risk = 0.15f;
  std::sort(results.begin(), results.end(), [](const PersonRunResult& a, const PersonRunResult& b) {
    return a.patient_key < b.patient_key;
  });
  auto saved = store_->SaveRun(run, results);
  ASSERT_TRUE(saved.ok()) << saved.error().ToString();

  r = Call("gp", "GET", "/worklist?risers=1");
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = Body(r);
  EXPECT_EQ(j["previous_run"], population_.run_id);
  ASSERT_EQ(j["rows"].size(), 1u);
  const json row = j["rows"][0];
  EXPECT_EQ(row["id"], "p1");
  EXPECT_NEAR(row["previous"]["admission_risk"].get<double>(), 0.1, 1e-6);
  EXPECT_EQ(row["previous"]["segments"], json::array({"high"}));
  EXPECT_EQ(row["segments"], json::array({"low"}));
  EXPECT_EQ(row["why"], json::array({"Long-term conditions: 1 → 2",
                                     "12-month cost: £123 → £5,000", "high → low"}));
  // Without risers, the latest run's people as usual (no rise columns).
  EXPECT_FALSE(Body(Call("gp", "GET", "/worklist"))["rows"][0].contains("why"));

  const HttpResponse csv = Call("gp", "GET", "/worklist.csv?risers=1");
  ASSERT_EQ(csv.status, 200);
  EXPECT_NE(csv.body.find(",previous_emergency_admission_risk,why_risen\r\n"), std::string::npos);
  // The reasons hold a comma (£5,000): the field is quoted.
  EXPECT_NE(csv.body.find(",0.1000,\"Long-term conditions: 1 → 2; 12-month cost: £123 → £5,000; "
                          "high → low\"\r\n"),
            std::string::npos);
  EXPECT_TRUE(AuditedWith("p1", "risen since run"));
}

TEST_F(AppApiTest, TheWorklistOptionsListPracticesAndPrimaryCareHomes) {
  const json j = Body(Call("gp", "GET", "/worklist/options"));
  EXPECT_EQ(j["run"], population_.run_id);
  EXPECT_TRUE(j["previous_run"].is_null());
  EXPECT_EQ(j["index_date"], "2026-04-01");
  EXPECT_EQ(j["pchs"], json::array({"PCH1"}));
  ASSERT_EQ(j["practices"].size(), 2u);
  EXPECT_EQ(j["practices"][0]["id"], "A81001");
  EXPECT_EQ(j["practices"][0]["pch"], "PCH1");
  EXPECT_EQ(Call("commissioner", "GET", "/worklist/options").status, 403);
}

// Who has looked at a record: the person sees it (roles and organisations, not names, and not
// their own visits); the privacy officer sees all of it; no one else, not even their GP.
TEST_F(AppApiTest, APersonSeesWhoHasLookedAtTheirRecord) {
  ASSERT_EQ(Call("gp", "GET", "/people/p1").status, 200);
  ASSERT_EQ(Call("patient", "GET", "/people/p1").status, 200);
  const HttpResponse own = Call("patient", "GET", "/people/p1/accesses");
  ASSERT_EQ(own.status, 200) << own.body;
  const json accesses = Body(own)["accesses"];
  ASSERT_FALSE(accesses.empty());
  bool gp_seen = false;
  for (const json& a : accesses) {
    EXPECT_FALSE(a.contains("user")) << a.dump();
    EXPECT_NE(a["role"], "patient");  // their own visits are not listed
    gp_seen = gp_seen || a["role"] == "gp";
  }
  EXPECT_TRUE(gp_seen);
  const json officer = Body(Call("privacy-officer", "GET", "/people/p1/accesses"));
  ASSERT_FALSE(officer["accesses"].empty());
  EXPECT_TRUE(officer["accesses"][0].contains("user"));
  // Anyone else: as if the person did not exist.
  const HttpResponse gp = Call("gp", "GET", "/people/p1/accesses");
  const HttpResponse other = Call("patient", "GET", "/people/p2/accesses");
  const HttpResponse none = Call("patient", "GET", "/people/p999/accesses");
  EXPECT_EQ(gp.status, 404);
  EXPECT_EQ(other.status, 404);
  EXPECT_EQ(other.body, none.body);
}

TEST_F(AppApiTest, ThePrivacyOfficerAcknowledgesABreakGlassAlertOnce) {
  ASSERT_EQ(Call("gp", "GET", "/people/p4", {},
                 {{"x-break-glass-reason", "emergency: collapsed at the surgery door, unknown"}})
                .status,
            200);
  const json queue = Body(Call("privacy-officer", "GET", "/alerts"));
  ASSERT_EQ(queue["alerts"].size(), 1u);
  const json alert = queue["alerts"][0];
  EXPECT_EQ(alert["subtype"], "break-glass-alert");
  EXPECT_EQ(alert["user"], "gp");
  EXPECT_TRUE(alert["acknowledged"].is_null());
  const std::string id = alert["id"];
  const std::string path = "/alerts/" + id + "/acknowledge";
  EXPECT_EQ(Body(Call("privacy-officer", "POST", path, R"({"note":"short"})"))["error"]["field"],
            "note");
  ASSERT_EQ(Call("privacy-officer", "POST", path,
                 R"({"note":"Checked with the practice: a genuine emergency."})")
                .status,
            200);
  const json after = Body(Call("privacy-officer", "GET", "/alerts"));
  EXPECT_EQ(after["alerts"][0]["acknowledged"]["note"],
            "Checked with the practice: a genuine emergency.");
  EXPECT_EQ(after["alerts"][0]["acknowledged"]["user"], "privacy-officer");
  EXPECT_EQ(
      Call("privacy-officer", "POST", path, R"({"note":"Again, a second time round."})").status,
      409);
  EXPECT_EQ(Call("privacy-officer", "POST", "/alerts/999999/acknowledge",
                 R"({"note":"No such alert anywhere at all."})")
                .status,
            404);
  EXPECT_EQ(Call("gp", "GET", "/alerts").status, 403);
  EXPECT_EQ(Call("gp", "POST", path, R"({"note":"I would like to hide this one."})").status, 403);
}

TEST_F(AppApiTest, PopulationViewsAreCountsUnderTheSmallNumberRule) {
  const HttpResponse shown = Call("commissioner", "GET", "/population");
  ASSERT_EQ(shown.status, 200) << shown.body;
  const json j = Body(shown);
  EXPECT_EQ(j["run"], population_.run_id);
  ASSERT_FALSE(j["segments"].empty());
  // Four people: every non-zero count is suppressed (HES rule: 1 to 7).
  EXPECT_TRUE(j["living"].is_null());
  for (const json& band : j["pyramid"])
    for (const char* sex : {"female", "male", "other"})
      EXPECT_TRUE(band[sex].is_null() || band[sex] == 0) << band.dump();
  EXPECT_EQ(j["lorenz"].size(), 21u);
  for (const char* id : {"p1", "p2", "Patient/"}) EXPECT_EQ(shown.body.find(id), std::string::npos);
  // Without the rule (an operator's setting), the figures are exact.
  webapp::AppApiOptions exact;
  exact.cursor_key = TestCursorKey();
  exact.clock = [] { return kNowMs; };
  exact.records.disclosure = DisclosureRule::Off();
  webapp::AppApi api(exact);
  const json unmasked = Body(
      api.Handle(Request("GET", "/population"), PrincipalOf(*store_, "commissioner"), *store_));
  EXPECT_EQ(unmasked["living"], 4);
  // Both practices are in PCH1: its row adds them up (p1 at A81001, p2–p4 at B82002).
  const json pchs = unmasked["segments"][0]["pchs"];
  ASSERT_EQ(pchs.size(), 1u);
  EXPECT_EQ(pchs[0]["pch"], "PCH1");
  int64_t people = 0;
  for (const json& c : pchs[0]["counts"]) people += c.get<int64_t>();
  EXPECT_EQ(people, 4);
  EXPECT_EQ(Call("patient", "GET", "/population").status, 403);
  EXPECT_EQ(Call("privacy-officer", "GET", "/population").status, 403);
}

TEST_F(AppApiTest, UnknownRoutesAndMethodsAreRefusedPlainly) {
  EXPECT_EQ(Call("gp", "GET", "/nothing").status, 404);
  EXPECT_EQ(Call("gp", "DELETE", "/people/p1").status, 405);
  EXPECT_EQ(Body(Call("gp", "GET", "/nothing"))["error"]["status"], 404);
}

}  // namespace
}  // namespace joinedup::api::testing
