// FhirApi behaviours on a real SQLite store (and PostgreSQL for lost updates): audit
// completeness and tamper detection, lost updates under If-Match, injection payloads stored and
// returned inertly, content negotiation and errors, rendering, paging.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "api_test_support.h"
#include "export/bulk_export.h"
#include "fhir/fhir_mapping.h"
#include "fhir/search/search_params.h"
#include "security/audit.h"
#include "security/scopes.h"
#include "store_test_support.h"

namespace joinedup::api::testing {
namespace {

using json = nlohmann::json;
using store::testing::Backend;
using store::testing::TestDatabase;

class FhirApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/store.db";
    auto opened = store::OpenStore(path_);
    ASSERT_TRUE(opened.ok()) << opened.error().ToString();
    store_ = std::move(*opened);
    auto pop = Populate(*store_);
    ASSERT_TRUE(pop.ok()) << pop.error().ToString();
    pop_ = *pop;
  }

  HttpResponse Call(std::string_view who, std::string_view method, std::string_view target,
                    std::string body = {},
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
    std::optional<Principal> principal;
    if (!who.empty()) principal = PrincipalOf(*store_, who);
    return api_.Handle(Request(method, target, std::move(body), std::move(headers)), principal,
                       *store_);
  }

  std::vector<store::AuditEvent> AuditTrail() {
    std::vector<store::AuditEvent> events;
    EXPECT_TRUE(store_
                    ->ScanAuditEvents(0,
                                      [&](const store::AuditEvent& e) {
                                        events.push_back(e);
                                        return Ok();
                                      })
                    .ok());
    return events;
  }

  static std::string Header(const HttpResponse& r, std::string_view name) {
    for (const auto& [k, v] : r.headers)
      if (k == name) return v;
    return "";
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<store::Store> store_;
  Population pop_;
  FhirApi api_{TestOptions()};
};

// ---- Audit completeness ---------------------------------------------------------------------

TEST_F(FhirApiTest, ScriptedRequestsLeaveExactlyTheExpectedAuditEvents) {
  const int64_t p1 = pop_.patient_keys["p1"], p2 = pop_.patient_keys["p2"],
                p4 = pop_.patient_keys["p4"];
  std::string patient_json;
  ASSERT_TRUE(fhir::AppendPatientJson(**store_->FindPatient("p1"), patient_json).ok());
  const std::string condition =
      R"({"resourceType":"Condition","code":{"coding":[{"system":"http://snomed.info/sct","code":"38341003"}]},"subject":{"reference":"Patient/p1"},"onsetDateTime":"2021-05-06"})";
  struct Step {
    std::string who, method, target, body;
    std::vector<std::pair<std::string, std::string>> headers;
    int status;
  };
  const std::vector<Step> script = {
      {"gp", "GET", "/Patient/p1", "", {}, 200},
      {"gp", "GET", "/Patient/p4", "", {}, 404},  // hidden: denied, logged
      {"gp", "GET", "/Patient/p9", "", {}, 404},  // missing
      {"gp", "GET", "/Condition?subject=p1&_include=Condition:subject", "", {}, 200},
      {"gp", "GET", "/Patient?birthdate=lt2100", "", {}, 200},  // p1 (practice), p2 (team)
      {"gp", "GET", "/Organization/A81001", "", {}, 200},       // directory: not audited
      {"", "GET", "/metadata", "", {}, 200},                    // not audited
      {"gp", "GET", "/Patient/p4", "", {{"x-break-glass-reason", "emergency: collapsed in clinic, unable to speak"}}, 200},
      {"gp", "PUT", "/Patient/p1", patient_json, {}, 200},
      {"gp", "POST", "/Condition", condition, {}, 201},
      {"commissioner", "GET", "/Patient?_id=p1", "", {}, 403},
      {"gp", "GET", "/Patient/$export", "", {{"prefer", "respond-async"}}, 501},
      {"gp", "GET", "/Patient/p1/_history", "", {}, 200},
      {"privacy-officer", "GET", "/AuditEvent?subtype=break-glass-alert", "", {}, 200},
  };
  for (const Step& s : script) {
    const HttpResponse r = Call(s.who, s.method, s.target, s.body, s.headers);
    ASSERT_EQ(r.status, s.status) << s.method << " " << s.target << ": " << r.body;
  }
  struct Expected {
    std::string subtype;
    char action;
    store::AuditOutcome outcome;
    std::vector<int64_t> keys;
    bool break_glass = false;
  };
  using O = store::AuditOutcome;
  std::vector<Expected> expected = {
      {"read", 'R', O::kSuccess, {p1}},
      {"read", 'R', O::kSeriousFailure, {p4}},
      {"read", 'R', O::kMinorFailure, {}},
      {"search", 'E', O::kSuccess, {p1}},
      {"search", 'E', O::kSuccess, {std::min(p1, p2), std::max(p1, p2)}},
      {"read", 'R', O::kSuccess, {p4}, true},
      {"break-glass-alert", 'E', O::kSuccess, {p4}, true},
      {"update", 'U', O::kSuccess, {p1}},
      {"create", 'C', O::kSuccess, {p1}},
      {"search", 'E', O::kSeriousFailure, {}},
      {"export", 'E', O::kMinorFailure, {}},
      {"history-instance", 'R', O::kSuccess, {p1}},
      {"search", 'E', O::kSuccess, {}},
  };
  const std::vector<store::AuditEvent> events = AuditTrail();
  ASSERT_EQ(events.size(), expected.size());
  for (size_t i = 0; i < events.size(); ++i) {
    SCOPED_TRACE("event " + std::to_string(i + 1));
    EXPECT_EQ(events[i].subtype, expected[i].subtype);
    EXPECT_EQ(events[i].action, expected[i].action);
    EXPECT_EQ(events[i].outcome, expected[i].outcome);
    EXPECT_EQ(events[i].patient_keys, expected[i].keys);
    EXPECT_EQ(!events[i].break_glass_reason.empty(), expected[i].break_glass);
    EXPECT_EQ(events[i].request_id, "req-1");
    EXPECT_EQ(events[i].source_address, "192.0.2.7");
    EXPECT_FALSE(events[i].username.empty());
    EXPECT_EQ(events[i].organisation_id, "A81001");
  }
  EXPECT_EQ(events[5].break_glass_reason, "emergency: collapsed in clinic, unable to speak");
  EXPECT_EQ(events[4].query, "Patient?birthdate=lt2100");
  // The privacy officer found the alert (and only it) by searching the trail.
  const HttpResponse alerts =
      Call("privacy-officer", "GET", "/AuditEvent?subtype=break-glass-alert");
  json bundle = json::parse(alerts.body);
  ASSERT_EQ(bundle["total"], 1);
  const json& alert = bundle["entry"][0]["resource"];
  EXPECT_EQ(alert["subtype"][0]["code"], "break-glass-alert");
  EXPECT_EQ(alert["purposeOfEvent"][0]["coding"][0]["code"], "BTG");
  EXPECT_EQ(alert["agent"][0]["altId"], "gp");
  EXPECT_EQ(alert["agent"][0]["network"]["address"], "192.0.2.7");
  EXPECT_EQ(alert["entity"][0]["what"]["identifier"]["value"], std::to_string(p4));
  // By patient and by user.
  json by_patient = json::parse(Call("privacy-officer", "GET", "/AuditEvent?patient=p4").body);
  EXPECT_EQ(by_patient["total"], 3);  // the denied read, the break-glass read, the alert
  json by_user = json::parse(Call("privacy-officer", "GET", "/AuditEvent?altid=commissioner").body);
  EXPECT_EQ(by_user["total"], 1);

  // The chain verifies; then a row changed behind the store's back is found.
  auto intact = security::VerifyAuditChain(*store_);
  ASSERT_TRUE(intact.ok());
  EXPECT_TRUE(intact->intact()) << intact->problem;
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "DROP TRIGGER audit_events_no_update; UPDATE audit_events SET "
                         "break_glass_reason = '' WHERE sequence = 6;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
  auto reopened = store::OpenStore(path_);
  ASSERT_TRUE(reopened.ok());
  auto broken = security::VerifyAuditChain(**reopened);
  ASSERT_TRUE(broken.ok());
  EXPECT_FALSE(broken->intact());
  EXPECT_EQ(broken->first_broken, 6);
}

// ---- Rendering, negotiation, errors ----------------------------------------------------------

TEST_F(FhirApiTest, AnonymousGetsOnlyMetadata) {
  const HttpResponse meta = Call("", "GET", "/metadata");
  ASSERT_EQ(meta.status, 200);
  json cs = json::parse(meta.body);
  EXPECT_EQ(cs["resourceType"], "CapabilityStatement");
  std::map<std::string, std::set<std::string>> served;
  for (const json& r : cs["rest"][0]["resource"])
    for (const json& i : r["interaction"]) served[r["type"]].insert(i["code"]);
  EXPECT_EQ(served["AuditEvent"], (std::set<std::string>{"read", "search-type"}));
  EXPECT_EQ(served["Consent"], (std::set<std::string>{"read", "vread", "update", "history-instance",
                                                      "create", "search-type"}));
  std::set<std::string> consent_params;
  for (const json& r : cs["rest"][0]["resource"])
    if (r["type"] == "Consent") {
      for (const json& p : r["searchParam"]) consent_params.insert(p["name"]);
      EXPECT_EQ(r["searchInclude"], json::array({"Consent:patient"}));
    }
  EXPECT_EQ(consent_params, (std::set<std::string>{"_id", "_lastUpdated", "patient", "date"}));
  // No exporter, no $export advertised.
  EXPECT_FALSE(cs["rest"][0].contains("operation"));
  EXPECT_EQ(served["Group"], (std::set<std::string>{"read", "vread", "search-type"}));
  EXPECT_EQ(served["Patient"], (std::set<std::string>{"read", "vread", "update", "history-instance",
                                                      "create", "search-type"}));
  const HttpResponse anon = Call("", "GET", "/Patient/p1");
  EXPECT_EQ(anon.status, 401);
  EXPECT_EQ(Header(anon, "WWW-Authenticate"), "Bearer");
}

TEST_F(FhirApiTest, ReadInjectsMetaAndETagAndRendersRisk) {
  const HttpResponse r = Call("gp", "GET", "/Patient/p1");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/fhir+json");
  EXPECT_EQ(Header(r, "ETag"), "W/\"1\"");
  json p = json::parse(r.body);
  EXPECT_EQ(p["meta"]["versionId"], "1");
  EXPECT_FALSE(p["meta"].contains("lastUpdated"));  // never written through the API
  EXPECT_EQ(p["identifier"][0]["system"], "https://fhir.nhs.uk/Id/nhs-number");

  const std::string risk_id =
      std::to_string(pop_.run_id) + "-" + std::to_string(pop_.patient_keys["p1"]);
  const HttpResponse risk = Call("gp", "GET", "/RiskAssessment/" + risk_id);
  ASSERT_EQ(risk.status, 200) << risk.body;
  json ra = json::parse(risk.body);
  EXPECT_EQ(ra["subject"]["reference"], "Patient/p1");
  EXPECT_EQ(ra["occurrenceDateTime"], "2026-04-01");
  EXPECT_NEAR(ra["prediction"][0]["probabilityDecimal"].get<double>(), 0.1, 1e-6);
  std::string notes;
  for (const json& n : ra["note"]) notes += n["text"].get<std::string>() + "\n";
  EXPECT_NE(notes.find("eFI 0.08 (3 of 36 deficits"), std::string::npos) << notes;
  EXPECT_NE(notes.find("HFRS 2.5"), std::string::npos) << notes;
  EXPECT_NE(notes.find("Segment (mcmw 1): high, by rule 1"), std::string::npos) << notes;
  EXPECT_NE(notes.find("£123.45"), std::string::npos) << notes;

  const HttpResponse group =
      Call("commissioner", "GET", "/Group/" + std::to_string(pop_.run_id) + "-0-1");
  ASSERT_EQ(group.status, 200) << group.body;
  json g = json::parse(group.body);
  EXPECT_EQ(g["type"], "person");
  EXPECT_EQ(g["actual"], true);
  // p1 and p3 (n % 2 == 1): two people, too few to show (domain/disclosure.h).
  EXPECT_FALSE(g.contains("quantity"));
  EXPECT_EQ(g["_quantity"]["extension"][0]["valueCode"], "masked");
  EXPECT_EQ(group.body.find("\"quantity\":2"), std::string::npos);
  EXPECT_FALSE(g.contains("member"));
  // Commissioners never see a person.
  EXPECT_EQ(Call("commissioner", "GET", "/RiskAssessment/" + risk_id).status, 403);
}

TEST_F(FhirApiTest, ContentNegotiationAndBodyErrors) {
  EXPECT_EQ(Call("gp", "GET", "/Patient/p1?_format=xml").status, 406);
  EXPECT_EQ(Call("gp", "GET", "/Patient/p1", "", {{"accept", "application/fhir+xml"}}).status, 406);
  const HttpResponse as_json = Call("gp", "GET", "/Patient/p1?_format=application/json");
  EXPECT_EQ(as_json.status, 200);
  EXPECT_EQ(as_json.content_type, "application/json");
  EXPECT_EQ(Call("gp", "GET", "/Patient?_id=p1&_format=json").status, 200);

  std::string good;
  ASSERT_TRUE(fhir::AppendPatientJson(**store_->FindPatient("p1"), good).ok());
  EXPECT_EQ(Call("gp", "PUT", "/Patient/p1", good, {{"content-type", "application/xml"}}).status,
            415);
  const HttpResponse bad_json = Call("gp", "PUT", "/Patient/p1", "{\"resourceType\":");
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_NE(bad_json.body.find("not valid JSON"), std::string::npos);
  EXPECT_EQ(Call("gp", "PUT", "/Patient/p1", std::string(2000, '[')).status, 400);  // depth
  EXPECT_EQ(Call("gp", "PUT", "/Patient/p1", std::string(9u << 20, ' ')).status, 413);
  // A resource the mapping refuses: 422 naming the field.
  const HttpResponse unmappable = Call(
      "gp", "POST", "/Condition",
      R"({"resourceType":"Condition","code":{"coding":[{"system":"http://snomed.info/sct","code":"38341003"}]},"subject":{"reference":"Patient/p1"},"onsetDateTime":"not a date"})");
  EXPECT_EQ(unmappable.status, 422) << unmappable.body;
  json oo = json::parse(unmappable.body);
  EXPECT_EQ(oo["issue"][0]["expression"][0], "onsetDateTime") << unmappable.body;
  // Wrong type, wrong id.
  EXPECT_EQ(Call("gp", "PUT", "/Condition/c-p1", good).status, 400);
  EXPECT_EQ(Call("gp", "PUT", "/Patient/p2", good).status, 400);
  // The audit trail is append-only through the API.
  EXPECT_EQ(Call("privacy-officer", "PUT", "/AuditEvent/1", "{}").status, 405);
  EXPECT_EQ(Call("privacy-officer", "DELETE", "/AuditEvent/1").status, 405);
  EXPECT_EQ(Call("privacy-officer", "POST", "/AuditEvent", "{}").status, 405);
  EXPECT_EQ(Call("gp", "GET", "/Claim/1").status, 404);
}

TEST_F(FhirApiTest, CreateUpdateIfMatchVreadHistory) {
  const std::string body =
      R"({"resourceType":"Condition","meta":{"versionId":"77","lastUpdated":"1999-01-01T00:00:00Z"},"code":{"coding":[{"system":"http://snomed.info/sct","code":"38341003"}]},"subject":{"reference":"Patient/p1"},"onsetDateTime":"2021-05-06"})";
  const HttpResponse created = Call("gp", "POST", "/Condition", body);
  ASSERT_EQ(created.status, 201) << created.body;
  json c = json::parse(created.body);
  const std::string id = c["id"];
  EXPECT_EQ(c["meta"]["versionId"], "1");  // the client's meta is ignored
  EXPECT_EQ(c["meta"]["lastUpdated"], "2026-09-21T14:13:20.000Z");
  EXPECT_EQ(Header(created, "Location"),
            std::string(kBaseUrl) + "/Condition/" + id + "/_history/1");
  EXPECT_EQ(Header(created, "ETag"), "W/\"1\"");

  c.erase("meta");
  c["onsetDateTime"] = "2021-05-07";
  const HttpResponse updated =
      Call("gp", "PUT", "/Condition/" + id, c.dump(), {{"if-match", "W/\"1\""}});
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(Header(updated, "ETag"), "W/\"2\"");
  const HttpResponse stale =
      Call("gp", "PUT", "/Condition/" + id, c.dump(), {{"if-match", "W/\"1\""}});
  EXPECT_EQ(stale.status, 412) << stale.body;
  EXPECT_EQ(Call("gp", "PUT", "/Condition/" + id, c.dump(), {{"if-match", "\"1\""}}).status, 400);

  const HttpResponse v1 = Call("gp", "GET", "/Condition/" + id + "/_history/1");
  ASSERT_EQ(v1.status, 200);
  EXPECT_NE(v1.body.find("2021-05-06"), std::string::npos);
  EXPECT_EQ(Call("gp", "GET", "/Condition/" + id + "/_history/3").status, 404);
  const HttpResponse history = Call("gp", "GET", "/Condition/" + id + "/_history");
  json h = json::parse(history.body);
  ASSERT_EQ(h["total"], 2);
  EXPECT_EQ(h["entry"][0]["resource"]["meta"]["versionId"], "2");
  EXPECT_EQ(h["entry"][1]["resource"]["meta"]["versionId"], "1");

  // A PUT never creates a record about a person (CapabilityStatement updateCreate false):
  // an id never written answers as one held by someone the caller may not see.
  c["id"] = "chosen-by-client";
  const HttpResponse upsert = Call("gp", "PUT", "/Condition/chosen-by-client", c.dump());
  EXPECT_EQ(upsert.status, 404) << upsert.body;
  c["id"] = "c-p4";
  const HttpResponse hidden = Call("gp", "PUT", "/Condition/c-p4", c.dump());
  EXPECT_EQ(hidden.status, 404) << hidden.body;
  EXPECT_EQ(json::parse(hidden.body)["issue"][0]["diagnostics"], "Condition/c-p4 is not known");
  EXPECT_EQ(json::parse(upsert.body)["issue"][0]["diagnostics"],
            "Condition/chosen-by-client is not known");
  // Updating an imported record keeps its first version readable.
  std::string patient;
  ASSERT_TRUE(fhir::AppendPatientJson(**store_->FindPatient("p1"), patient).ok());
  json pj = json::parse(patient);
  pj["name"][0]["family"] = "Jones";
  ASSERT_EQ(Call("gp", "PUT", "/Patient/p1", pj.dump()).status, 200);
  const HttpResponse old = Call("gp", "GET", "/Patient/p1/_history/1");
  ASSERT_EQ(old.status, 200);
  EXPECT_NE(old.body.find("Smith1"), std::string::npos);
  // Prefer: return=minimal.
  const HttpResponse minimal =
      Call("gp", "PUT", "/Patient/p1", pj.dump(), {{"prefer", "return=minimal"}});
  EXPECT_EQ(minimal.status, 200);
  EXPECT_TRUE(minimal.body.empty());
}

TEST_F(FhirApiTest, ConsentCreateChangesWhoSees) {
  // p2 declines sharing beyond their own practice (B82002): the care team loses sight of them.
  EXPECT_EQ(Call("case-manager", "GET", "/Patient/p2").status, 200);
  const HttpResponse created = Call(
      "gp", "POST", "/Consent",
      R"({"resourceType":"Consent","status":"active","patient":{"reference":"Patient/p1"},"provision":{"type":"deny"}})");
  ASSERT_EQ(created.status, 201) << created.body;
  json consent = json::parse(created.body);
  EXPECT_EQ(consent["provision"]["type"], "deny");
  EXPECT_EQ(consent["patient"]["reference"], "Patient/p1");
  // The id is the stored row's: the Location reads it back.
  ASSERT_TRUE(consent.contains("id")) << created.body;
  const std::string id = consent["id"];
  EXPECT_EQ(Header(created, "Location"), std::string(kBaseUrl) + "/Consent/" + id + "/_history/1");
  const HttpResponse read = Call("gp", "GET", "/Consent/" + id);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(json::parse(read.body)["provision"]["type"], "deny");
  auto latest = store_->LatestConsent(pop_.patient_keys["p1"]);
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->decision, store::ConsentDecision::kDeclineBeyondOwnPractice);
  EXPECT_EQ((*latest)->recorded_by, pop_.user_ids["gp"]);
  const HttpResponse bad = Call(
      "gp", "POST", "/Consent",
      R"({"resourceType":"Consent","status":"active","patient":{"reference":"Patient/p1"},"provision":{"type":"maybe"}})");
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("provision.type"), std::string::npos);
  // The patient records their own decision.
  EXPECT_EQ(
      Call(
          "patient", "POST", "/Consent",
          R"({"resourceType":"Consent","status":"active","patient":{"reference":"Patient/p1"},"provision":{"type":"permit"}})")
          .status,
      201);
}

// Consent search: by patient and date, sorted, paged, with totals — only the consents of people
// the caller may see, each search audited with the people it returned.
TEST_F(FhirApiTest, ConsentSearchShowsOnlyVisiblePeopleAndIsAudited) {
  auto ids_of = [](const json& bundle) {
    std::vector<std::string> ids;
    for (const json& e : bundle.value("entry", json::array()))
      if (e["search"]["mode"] == "match") ids.push_back(e["resource"]["id"]);
    return ids;
  };
  const std::string c1 = std::to_string(pop_.consent_ids["p1"]),
                    c2 = std::to_string(pop_.consent_ids["p2"]);
  // The GP sees p1 (practice) and p2 (team): not p3 (declined) nor p4 (unrelated).
  const HttpResponse all = Call("gp", "GET", "/Consent?_sort=-date");
  ASSERT_EQ(all.status, 200) << all.body;
  json b = json::parse(all.body);
  EXPECT_EQ(b["total"], 2);
  EXPECT_EQ(ids_of(b), (std::vector<std::string>{c1, c2}));  // p1's is the later
  EXPECT_EQ(b["entry"][0]["resource"]["patient"]["reference"], "Patient/p1");
  EXPECT_EQ(b["entry"][0]["resource"]["meta"]["versionId"], "1");
  EXPECT_EQ(b["entry"][0]["resource"]["meta"]["lastUpdated"], "2026-09-21T14:13:17.500Z");
  EXPECT_EQ(json::parse(Call("gp", "GET", "/Consent?patient=p3").body)["total"], 0);
  EXPECT_EQ(json::parse(Call("gp", "GET", "/Consent?patient=Patient/p2").body)["total"], 1);
  const HttpResponse count = Call("gp", "GET", "/Consent?_summary=count");
  json cb = json::parse(count.body);
  EXPECT_EQ(cb["total"], 2);
  EXPECT_FALSE(cb.contains("entry"));
  // date: the recorded instant (p2 at 14:13:16.500, p1 at 14:13:17.500).
  EXPECT_EQ(ids_of(json::parse(Call("gp", "GET", "/Consent?date=ge2026-09-21T14:13:17Z").body)),
            std::vector<std::string>{c1});
  EXPECT_EQ(ids_of(json::parse(Call("gp", "GET", "/Consent?date=lt2026-09-21T14:13:17Z").body)),
            std::vector<std::string>{c2});
  EXPECT_EQ(Call("gp", "GET", "/Consent?date=yesterday").status, 400);
  EXPECT_EQ(Call("gp", "GET", "/Consent?subject=p1").status, 400);  // not an R4 Consent param
  // Pages of one, walked through the next links, totals on the first page only.
  std::vector<std::string> walked;
  std::string target = "/Consent?_sort=date&_count=1";
  for (int pages = 0; !target.empty() && pages < 5; ++pages) {
    const HttpResponse page = Call("gp", "GET", target);
    ASSERT_EQ(page.status, 200) << page.body;
    json pb = json::parse(page.body);
    EXPECT_EQ(pb.contains("total"), pages == 0);
    for (const std::string& id : ids_of(pb)) walked.push_back(id);
    target.clear();
    for (const json& l : pb["link"])
      if (l["relation"] == "next") target = l["url"].get<std::string>().substr(kBaseUrl.size());
  }
  EXPECT_EQ(walked, (std::vector<std::string>{c2, c1}));
  // _include and POST _search.
  const HttpResponse included = Call("gp", "GET", "/Consent?patient=p2&_include=Consent:patient");
  json ib = json::parse(included.body);
  ASSERT_EQ(ib["entry"].size(), 2u) << included.body;
  EXPECT_EQ(ib["entry"][1]["resource"]["id"], "p2");
  EXPECT_EQ(ib["entry"][1]["search"]["mode"], "include");
  const HttpResponse form = Call("gp", "POST", "/Consent/_search", "patient=p1",
                                 {{"content-type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(form.status, 200) << form.body;
  EXPECT_EQ(ids_of(json::parse(form.body)), std::vector<std::string>{c1});
  // A patient sees their own; a role without Consent rights is refused.
  EXPECT_EQ(ids_of(json::parse(Call("patient", "GET", "/Consent").body)),
            std::vector<std::string>{c1});
  EXPECT_EQ(Call("commissioner", "GET", "/Consent").status, 403);

  // Every search above was audited with exactly the people it returned.
  const std::vector<store::AuditEvent> events = AuditTrail();
  ASSERT_FALSE(events.empty());
  const store::AuditEvent& first = events.front();
  EXPECT_EQ(first.subtype, "search");
  EXPECT_EQ(first.action, 'E');
  EXPECT_EQ(first.query, "Consent?_sort=-date");
  const int64_t p1 = pop_.patient_keys["p1"], p2 = pop_.patient_keys["p2"];
  EXPECT_EQ(first.patient_keys, (std::vector<int64_t>{std::min(p1, p2), std::max(p1, p2)}));
  const store::AuditEvent& hidden = events[1];  // patient=p3: nothing returned
  EXPECT_EQ(hidden.query, "Consent?patient=p3");
  EXPECT_TRUE(hidden.patient_keys.empty());
  EXPECT_EQ(events.back().outcome, store::AuditOutcome::kSeriousFailure);  // the commissioner
}

// Consent update: a new decision for the same person, If-Match, the previous decision kept as
// version 1, the access policy following the new one at once.
TEST_F(FhirApiTest, ConsentUpdateChangesTheDecisionTheAccessPolicyFollows) {
  const std::string id = std::to_string(pop_.consent_ids["p2"]);
  const int64_t p2 = pop_.patient_keys["p2"];
  auto body = [&](std::string_view patient, std::string_view type) {
    return R"({"resourceType":"Consent","id":")" + id +
           R"(","status":"active","patient":{"reference":"Patient/)" + std::string(patient) +
           R"("},"provision":{"type":")" + std::string(type) + R"("}})";
  };
  ASSERT_EQ(Call("case-manager", "GET", "/Patient/p2").status, 200);
  const HttpResponse before = Call("gp", "GET", "/Consent/" + id);
  ASSERT_EQ(before.status, 200);
  EXPECT_EQ(Header(before, "ETag"), "W/\"1\"");

  // The patient of a Consent cannot change; a bad provision is named; ids must agree.
  const HttpResponse moved = Call("gp", "PUT", "/Consent/" + id, body("p1", "deny"));
  EXPECT_EQ(moved.status, 422) << moved.body;
  EXPECT_EQ(json::parse(moved.body)["issue"][0]["expression"][0], "patient.reference");
  const HttpResponse maybe = Call("gp", "PUT", "/Consent/" + id, body("p2", "maybe"));
  EXPECT_EQ(maybe.status, 422);
  EXPECT_EQ(json::parse(maybe.body)["issue"][0]["expression"][0], "provision.type");
  EXPECT_EQ(Call("gp", "PUT", "/Consent/999", body("p2", "deny")).status, 400);  // id differs
  EXPECT_EQ(Call("social-worker", "PUT", "/Consent/" + id, body("p2", "deny")).status, 403);

  const HttpResponse updated =
      Call("gp", "PUT", "/Consent/" + id, body("p2", "deny"), {{"if-match", "W/\"1\""}});
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(Header(updated, "ETag"), "W/\"2\"");
  EXPECT_EQ(Header(updated, "Last-Modified"), "2026-09-21T14:13:20.000Z");
  json u = json::parse(updated.body);
  EXPECT_EQ(u["meta"]["versionId"], "2");
  EXPECT_EQ(u["provision"]["type"], "deny");
  EXPECT_EQ(u["dateTime"], "2026-09-21T14:13:20.000Z");
  EXPECT_EQ(u["performer"][0]["identifier"]["value"], std::to_string(pop_.user_ids["gp"]));
  // At once: the care team no longer sees p2 (their practice is B82002).
  auto latest = store_->LatestConsent(p2);
  ASSERT_TRUE(latest.ok() && *latest);
  EXPECT_EQ((*latest)->decision, store::ConsentDecision::kDeclineBeyondOwnPractice);
  EXPECT_EQ(Call("case-manager", "GET", "/Patient/p2").status, 404);
  EXPECT_EQ(Call("gp", "GET", "/Consent/" + id).status, 404);  // p2 is hidden from A81001 now

  // p2 is hidden from the GP now: a further update answers as for a missing Consent, before
  // any version check, and changes nothing.
  const HttpResponse hidden =
      Call("gp", "PUT", "/Consent/" + id, body("p2", "permit"), {{"if-match", "W/\"1\""}});
  EXPECT_EQ(hidden.status, 404);
  store::FoundResource current = *store_->FindResource("Consent", id).value();
  EXPECT_EQ(current.meta.version_id, 2);
  EXPECT_EQ(std::get<store::ConsentRecord>(current.record).consent.decision,
            store::ConsentDecision::kDeclineBeyondOwnPractice);

  // p1's Consent, by the patient themself: stale If-Match → 412 and nothing changes.
  const std::string mine = std::to_string(pop_.consent_ids["p1"]);
  auto my_body = [&](std::string_view type) {
    return R"({"resourceType":"Consent","id":")" + mine +
           R"(","status":"active","patient":{"reference":"Patient/p1"},"provision":{"type":")" +
           std::string(type) + R"("}})";
  };
  ASSERT_EQ(Call("patient", "PUT", "/Consent/" + mine, my_body("deny")).status, 200);
  const HttpResponse stale_mine =
      Call("patient", "PUT", "/Consent/" + mine, my_body("permit"), {{"if-match", "W/\"1\""}});
  EXPECT_EQ(stale_mine.status, 412) << stale_mine.body;
  EXPECT_EQ(store_->LatestConsent(pop_.patient_keys["p1"]).value()->decision,
            store::ConsentDecision::kDeclineBeyondOwnPractice);
  // vread and history: version 1 is the decision as first recorded.
  const HttpResponse v1 = Call("patient", "GET", "/Consent/" + mine + "/_history/1");
  ASSERT_EQ(v1.status, 200) << v1.body;
  json j1 = json::parse(v1.body);
  EXPECT_EQ(j1["provision"]["type"], "permit");
  EXPECT_EQ(j1["meta"]["lastUpdated"], "2026-09-21T14:13:17.500Z");
  const HttpResponse history = Call("patient", "GET", "/Consent/" + mine + "/_history");
  json h = json::parse(history.body);
  ASSERT_EQ(h["total"], 2) << history.body;
  EXPECT_EQ(h["entry"][0]["resource"]["provision"]["type"], "deny");
  EXPECT_EQ(h["entry"][1]["resource"]["provision"]["type"], "permit");
  // A later Consent supersedes this one: it can no longer be updated.
  ASSERT_EQ(
      Call(
          "patient", "POST", "/Consent",
          R"({"resourceType":"Consent","status":"active","patient":{"reference":"Patient/p1"},"provision":{"type":"permit"}})")
          .status,
      201);
  const HttpResponse superseded =
      Call("patient", "PUT", "/Consent/" + mine, my_body("deny"), {{"if-match", "W/\"2\""}});
  EXPECT_EQ(superseded.status, 409) << superseded.body;
  EXPECT_EQ(store_->LatestConsent(pop_.patient_keys["p1"]).value()->decision,
            store::ConsentDecision::kPermitSharing);
  EXPECT_EQ(
      Call(
          "patient", "PUT", "/Consent/999999",
          R"({"resourceType":"Consent","id":"999999","status":"active","patient":{"reference":"Patient/p1"},"provision":{"type":"deny"}})")
          .status,
      404);

  // Audited like other writes: one update event per attempt that reached the person.
  std::vector<store::AuditEvent> updates;
  for (const store::AuditEvent& e : AuditTrail())
    if (e.subtype == "update") updates.push_back(e);
  ASSERT_GE(updates.size(), 5u);
  // The moved one (refused), the social worker's (403), the GP's, the hidden one.
  EXPECT_EQ(updates[0].outcome, store::AuditOutcome::kMinorFailure);
  EXPECT_EQ(updates[0].patient_keys, std::vector<int64_t>{p2});
  EXPECT_EQ(updates[1].action, 'U');
  EXPECT_EQ(updates[1].outcome, store::AuditOutcome::kSeriousFailure);  // social worker: 403
  EXPECT_TRUE(updates[1].patient_keys.empty());
  EXPECT_EQ(updates[2].outcome, store::AuditOutcome::kSuccess);
  EXPECT_EQ(updates[2].patient_keys, std::vector<int64_t>{p2});
  EXPECT_EQ(updates[3].outcome, store::AuditOutcome::kSeriousFailure);  // hidden now
  EXPECT_EQ(updates[3].patient_keys, std::vector<int64_t>{p2});
}

TEST_F(FhirApiTest, ElementsSummaryCountTotalsAndPaging) {
  const HttpResponse subset = Call("gp", "GET", "/Patient?_id=p1&_elements=birthDate");
  ASSERT_EQ(subset.status, 200) << subset.body;
  json b = json::parse(subset.body);
  const json& p = b["entry"][0]["resource"];
  EXPECT_TRUE(p.contains("birthDate"));
  EXPECT_FALSE(p.contains("name"));
  EXPECT_EQ(p["id"], "p1");
  EXPECT_EQ(p["meta"]["tag"][0]["code"], "SUBSETTED");

  const HttpResponse count = Call("gp", "GET", "/Patient?_summary=count");
  json cb = json::parse(count.body);
  EXPECT_EQ(cb["total"], 2);  // p1 (practice) and p2 (team); p3 declined, p4 unrelated
  EXPECT_FALSE(cb.contains("entry"));

  // Walk the pages through the next links: every visible person once, nobody hidden.
  std::set<std::string> seen;
  std::string target = "/Observation?_count=1";
  int pages = 0;
  while (!target.empty() && pages < 10) {
    const HttpResponse page = Call("gp", "GET", target);
    ASSERT_EQ(page.status, 200) << page.body;
    json pb = json::parse(page.body);
    for (const json& e : pb.value("entry", json::array()))
      EXPECT_TRUE(seen.insert(e["resource"]["id"]).second);
    target.clear();
    for (const json& l : pb["link"])
      if (l["relation"] == "next") target = l["url"].get<std::string>().substr(kBaseUrl.size());
    ++pages;
  }
  EXPECT_EQ(seen, (std::set<std::string>{"o-p1", "o-p2"}));
  // A tampered cursor is a clear 400.
  EXPECT_EQ(Call("gp", "GET", "/Observation?_count=1&_cursor=AAAA").status, 400);
  // Strict by default, lenient on request.
  EXPECT_EQ(Call("gp", "GET", "/Patient?nonsense=1").status, 400);
  const HttpResponse lenient =
      Call("gp", "GET", "/Patient?nonsense=1", "", {{"prefer", "handling=lenient"}});
  EXPECT_EQ(lenient.status, 200);
  EXPECT_NE(lenient.body.find("\"outcome\""), std::string::npos);
  // POST _search with a form body.
  const HttpResponse form = Call("gp", "POST", "/Patient/_search", "family=smith1",
                                 {{"content-type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(form.status, 200) << form.body;
  EXPECT_EQ(json::parse(form.body)["total"], 1);
}

TEST_F(FhirApiTest, JsonOnlyDirectoryTypesAuditEventReadAndGroups) {
  const HttpResponse created = Call(
      "administrator", "POST", "/Practitioner",
      R"({"resourceType":"Practitioner","identifier":[{"system":"https://fhir.nhs.uk/Id/sds-user-id","value":"G1234567"}],"name":[{"family":"Jones","given":["Meg"]}]})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = json::parse(created.body)["id"];
  const HttpResponse read = Call("nurse", "GET", "/Practitioner/" + id);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(json::parse(read.body)["name"][0]["family"], "Jones");
  const HttpResponse found = Call("nurse", "GET", "/Practitioner?name=jon");
  ASSERT_EQ(found.status, 200) << found.body;
  EXPECT_EQ(json::parse(found.body)["total"], 1);
  EXPECT_EQ(Call("patient", "POST", "/Practitioner", R"({"resourceType":"Practitioner"})").status,
            403);

  // The read above was not audited (directory); a person read is, and can be read back.
  ASSERT_EQ(Call("gp", "GET", "/Patient/p1").status, 200);
  const auto events = AuditTrail();
  ASSERT_FALSE(events.empty());
  const std::string last = std::to_string(events.back().sequence);
  const HttpResponse audit = Call("privacy-officer", "GET", "/AuditEvent/" + last);
  ASSERT_EQ(audit.status, 200) << audit.body;
  json ae = json::parse(audit.body);
  EXPECT_EQ(ae["action"], "R");
  EXPECT_EQ(ae["subtype"][0]["code"], "read");
  EXPECT_EQ(Call("gp", "GET", "/AuditEvent/" + last).status, 403);

  // Groups: read by id, and searched by id.
  const std::string group = std::to_string(pop_.run_id) + "-0-0";
  EXPECT_EQ(Call("commissioner", "GET", "/Group/" + group).status, 200);
  EXPECT_EQ(Call("commissioner", "GET", "/Group/" + group + "/_history/1").status, 200);
  const HttpResponse groups = Call("commissioner", "GET", "/Group?_id=" + group);
  ASSERT_EQ(groups.status, 200) << groups.body;
  EXPECT_EQ(json::parse(groups.body)["total"], 1);
}

// The FHIR API with a Bulk Data exporter whose jobs live in their own temporary folder.
struct ExportingApi {
  explicit ExportingApi(const std::string& store_path)
      : bulk(TestExportOptions(jobs.path(), store_path)), api([this] {
          FhirApiOptions options = TestOptions();
          options.bulk_export = &bulk;
          return options;
        }()) {}
  // Polls `status_path` as `who` until the job is no longer running (202); the last answer.
  HttpResponse WaitForExport(const Principal& who, const std::string& status_path,
                             store::Store& store) const {
    HttpResponse polled;
    for (int i = 0; i < 200; ++i) {
      polled = api.Handle(Request("GET", status_path), who, store);
      if (polled.status != 202) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return polled;
  }
  TempDir jobs;
  exporter::BulkExport bulk;
  const FhirApi api;
};

TEST_F(FhirApiTest, ExportRoutesReachTheExporterWithTheCallersVisibility) {
  const ExportingApi exporting(path_);
  const FhirApi& api = exporting.api;
  auto call = [&](std::string_view who, std::string_view method, std::string_view target,
                  std::vector<std::pair<std::string, std::string>> headers = {}) {
    return api.Handle(Request(method, target, {}, std::move(headers)), PrincipalOf(*store_, who),
                      *store_);
  };
  EXPECT_EQ(call("gp", "GET", "/$export?_type=Patient").status, 400);  // no respond-async
  EXPECT_EQ(call("gp", "GET", "/$export?_type=Claim", {{"prefer", "respond-async"}}).status, 400);
  EXPECT_EQ(call("nurse", "GET", "/$export?_type=Patient", {{"prefer", "respond-async"}}).status,
            403);
  const HttpResponse kicked =
      call("gp", "GET", "/$export?_type=Patient", {{"prefer", "respond-async"}});
  ASSERT_EQ(kicked.status, 202) << kicked.body;
  const std::string status_url = Header(kicked, "Content-Location");
  ASSERT_EQ(status_url.rfind(std::string(kBaseUrl) + "/$export-status/", 0), 0u) << status_url;
  const std::string status_path = status_url.substr(kBaseUrl.size());
  const HttpResponse polled =
      exporting.WaitForExport(PrincipalOf(*store_, "gp"), status_path, *store_);
  ASSERT_EQ(polled.status, 200) << polled.body;
  EXPECT_EQ(call("nurse", "GET", status_path).status, 404);  // not theirs
  json manifest = json::parse(polled.body);
  ASSERT_EQ(manifest["output"].size(), 1u) << polled.body;
  const std::string file = manifest["output"][0]["url"].get<std::string>().substr(kBaseUrl.size());
  const HttpResponse ndjson = call("gp", "GET", file);
  ASSERT_EQ(ndjson.status, 200);
  // The practice's and the care team's people only (p3 declined, p4 unrelated).
  EXPECT_NE(ndjson.body.find("\"id\":\"p1\""), std::string::npos);
  EXPECT_NE(ndjson.body.find("\"id\":\"p2\""), std::string::npos);
  EXPECT_EQ(ndjson.body.find("\"id\":\"p3\""), std::string::npos);
  EXPECT_EQ(ndjson.body.find("\"id\":\"p4\""), std::string::npos);
  EXPECT_EQ(call("gp", "DELETE", status_path).status, 202);
  // The kick-offs that reached the policy are audited (the refused one as a failure).
  int exports = 0;
  for (const store::AuditEvent& e : AuditTrail())
    if (e.subtype == "export" && e.request_id == "req-1") ++exports;
  EXPECT_GE(exports, 2);
}

// Security review rule 5: every step after the kick-off is decided on the caller as they are
// then. A consent withdrawn before the download leaves that person out; a download is audited
// with everyone in it; a role or token that no longer allows the export gets 403 for status,
// file and cancel alike.
TEST_F(FhirApiTest, ExportStepsAreAuthorisedAgainAsTheCallerIsNow) {
  const ExportingApi exporting(path_);
  const FhirApi& api = exporting.api;
  const Principal gp = PrincipalOf(*store_, "gp");
  auto call = [&](const Principal& who, std::string_view method, std::string_view target,
                  std::vector<std::pair<std::string, std::string>> headers = {}) {
    return api.Handle(Request(method, target, {}, std::move(headers)), who, *store_);
  };
  const HttpResponse kicked =
      call(gp, "GET", "/Patient/$export?_type=Patient,Condition", {{"prefer", "respond-async"}});
  ASSERT_EQ(kicked.status, 202) << kicked.body;
  const std::string status_path = Header(kicked, "Content-Location").substr(kBaseUrl.size());
  const HttpResponse polled = exporting.WaitForExport(gp, status_path, *store_);
  ASSERT_EQ(polled.status, 200) << polled.body;
  std::string patients_file;
  const json manifest = json::parse(polled.body);
  for (const json& item : manifest["output"])
    if (item["type"] == "Patient")
      patients_file = item["url"].get<std::string>().substr(kBaseUrl.size());
  ASSERT_FALSE(patients_file.empty()) << polled.body;

  // p2 (on the GP's care team) declines sharing after the export was written.
  ASSERT_TRUE(store_
                  ->RecordConsent({pop_.patient_keys.at("p2"),
                                   store::ConsentDecision::kDeclineBeyondOwnPractice, gp.caller.user_id,
                                   kNowMs + 1})
                  .ok());
  const size_t events_before = AuditTrail().size();
  const HttpResponse file = call(gp, "GET", patients_file);
  ASSERT_EQ(file.status, 200) << file.body;
  EXPECT_NE(file.body.find("\"id\":\"p1\""), std::string::npos);
  EXPECT_EQ(file.body.find("\"id\":\"p2\""), std::string::npos) << "consent withdrawn";
  const std::vector<store::AuditEvent> trail = AuditTrail();
  ASSERT_EQ(trail.size(), events_before + 1);
  EXPECT_EQ(trail.back().subtype, "export-file");
  EXPECT_EQ(trail.back().query, patients_file);
  EXPECT_EQ(trail.back().patient_keys, std::vector<int64_t>{pop_.patient_keys.at("p1")});

  // The same user, now a commissioner (their role changed since the kick-off): nothing.
  Principal now_commissioner = gp;
  now_commissioner.caller.role = store::Role::kCommissioner;
  // The same user with a token that no longer carries Patient.
  Principal narrower = gp;
  narrower.caller.scopes = security::ParseScopes("user/Condition.rs").value();
  for (const Principal* who : {&now_commissioner, &narrower}) {
    for (const auto& [method, target] :
         std::vector<std::pair<std::string, std::string>>{{"GET", status_path},
                                                          {"GET", patients_file},
                                                          {"DELETE", status_path}}) {
      const HttpResponse refused = call(*who, method, target);
      EXPECT_EQ(refused.status, 403) << method << " " << target << ": " << refused.body;
      EXPECT_EQ(refused.body.find("\"id\":\"p1\""), std::string::npos);
      EXPECT_EQ(refused.body.find("output"), std::string::npos);
    }
  }
  EXPECT_EQ(AuditTrail().back().outcome, store::AuditOutcome::kSeriousFailure);
  // Still there for the GP as they are.
  EXPECT_EQ(call(gp, "GET", status_path).status, 200);
}

// POST $export with a Parameters body: the same kick-off as GET, malformed bodies refused
// naming the parameter, the same access checks and audit; advertised in the metadata.
TEST_F(FhirApiTest, ExportKickoffByPostWithParameters) {
  const ExportingApi exporting(path_);
  const FhirApi& api = exporting.api;
  auto post = [&](std::string_view who, std::string_view target, std::string body,
                  std::string_view content_type = "application/fhir+json") {
    return api.Handle(
        Request("POST", target, std::move(body),
                {{"prefer", "respond-async"}, {"content-type", std::string(content_type)}}),
        PrincipalOf(*store_, who), *store_);
  };
  auto parameters = [](std::string_view list) {
    return R"({"resourceType":"Parameters","parameter":[)" + std::string(list) + "]}";
  };
  // Malformed: 400 naming what is wrong.
  struct Bad {
    std::string body;
    std::string field;  // expression; "" for none
  };
  const std::vector<Bad> bad = {
      {"not json", ""},
      {R"({"resourceType":"Patient"})", "resourceType"},
      {R"({"resourceType":"Parameters","parameter":{}})", "parameter"},
      {parameters(R"({"valueString":"Patient"})"), "parameter[0].name"},
      {parameters(R"({"name":"_type","valueCode":"Patient"})"), "_type"},
      {parameters(R"({"name":"_type","valueString":"Claim"})"), "_type"},
      {parameters(R"({"name":"_since","valueString":"2024-01-01T00:00:00Z"})"), "_since"},
      {parameters(R"({"name":"_since","valueInstant":"last week"})"), "_since"},
      {parameters(
           R"({"name":"_since","valueInstant":"2024-01-01T00:00:00Z"},{"name":"_since","valueInstant":"2024-01-02T00:00:00Z"})"),
       "_since"},
      {parameters(R"({"name":"_outputFormat","valueString":"text/csv"})"), "_outputFormat"},
      {parameters(R"({"name":"patient","valueReference":{"reference":"Patient/p1"}})"), "patient"},
  };
  for (const Bad& b : bad) {
    SCOPED_TRACE(b.body);
    const HttpResponse r = post("gp", "/$export", b.body);
    ASSERT_EQ(r.status, 400) << r.body;
    json oo = json::parse(r.body);
    EXPECT_EQ(oo["resourceType"], "OperationOutcome");
    if (!b.field.empty()) {
      EXPECT_EQ(oo["issue"][0]["expression"][0], b.field) << r.body;
    }
  }
  EXPECT_EQ(post("gp", "/$export", parameters(""), "application/xml").status, 415);
  EXPECT_EQ(post("gp", "/$export?_type=Patient", parameters("")).status, 400);  // query too
  // The same access checks as GET.
  EXPECT_EQ(
      post("nurse", "/$export", parameters(R"({"name":"_type","valueString":"Patient"})")).status,
      403);
  EXPECT_EQ(post("gp", "/Group/" + std::to_string(pop_.run_id) + "-9-9/$export",
                 parameters(R"({"name":"_type","valueString":"Patient"})"))
                .status,
            404);

  // p1 written through the API (lastUpdated now); p2 never: _since picks p1 only.
  std::string p1_json;
  ASSERT_TRUE(fhir::AppendPatientJson(**store_->FindPatient("p1"), p1_json).ok());
  ASSERT_EQ(Call("gp", "PUT", "/Patient/p1", p1_json).status, 200);
  const HttpResponse kicked = post(
      "gp", "/Patient/$export",
      parameters(
          R"({"name":"_type","valueString":"Patient"},{"name":"_since","valueInstant":"2000-01-01T00:00:00Z"},{"name":"_outputFormat","valueString":"application/fhir+ndjson"})"));
  ASSERT_EQ(kicked.status, 202) << kicked.body;
  std::string status_path;
  for (const auto& [k, v] : kicked.headers)
    if (k == "Content-Location") status_path = v.substr(kBaseUrl.size());
  ASSERT_EQ(status_path.rfind("/$export-status/", 0), 0u) << status_path;
  const HttpResponse polled =
      exporting.WaitForExport(PrincipalOf(*store_, "gp"), status_path, *store_);
  ASSERT_EQ(polled.status, 200) << polled.body;
  json manifest = json::parse(polled.body);
  EXPECT_EQ(manifest["request"], std::string(kBaseUrl) + "/Patient/$export");  // POST: no query
  ASSERT_EQ(manifest["output"].size(), 1u) << polled.body;
  EXPECT_EQ(manifest["output"][0]["type"], "Patient");
  const std::string file = manifest["output"][0]["url"].get<std::string>().substr(kBaseUrl.size());
  const HttpResponse ndjson = api.Handle(Request("GET", file), PrincipalOf(*store_, "gp"), *store_);
  ASSERT_EQ(ndjson.status, 200);
  EXPECT_NE(ndjson.body.find("\"id\":\"p1\""), std::string::npos);
  EXPECT_EQ(ndjson.body.find("\"id\":\"p2\""), std::string::npos);  // _since: never written

  // Audited as the GET kick-off, with the body's parameters as the query; the job's completion
  // event names the kick-off URL and the person exported.
  const std::string asked =
      "/Patient/$export?_type=Patient&_since=2000-01-01T00:00:00Z&_outputFormat="
      "application/fhir%2Bndjson";
  int kickoffs = 0, completions = 0;
  for (const store::AuditEvent& e : AuditTrail()) {
    if (e.subtype != "export") continue;
    if (e.query == asked) {
      ++kickoffs;
      EXPECT_EQ(e.outcome, store::AuditOutcome::kSuccess);
    } else if (e.query == std::string(kBaseUrl) + "/Patient/$export") {
      ++completions;
      EXPECT_EQ(e.patient_keys, std::vector<int64_t>{pop_.patient_keys["p1"]});
    }
  }
  EXPECT_EQ(kickoffs, 1);
  EXPECT_EQ(completions, 1);

  // Advertised: the Bulk Data operations, now that an exporter is there.
  json cs = json::parse(api.Handle(Request("GET", "/metadata"), std::nullopt, *store_).body);
  EXPECT_EQ(cs["rest"][0]["operation"][0]["name"], "export");
  EXPECT_EQ(cs["rest"][0]["operation"][0]["definition"],
            "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export");
  for (const json& r : cs["rest"][0]["resource"]) {
    if (r["type"] == "Patient") {
      EXPECT_EQ(r["operation"][0]["definition"],
                "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export");
    }
    if (r["type"] == "Group") {
      EXPECT_EQ(r["operation"][0]["definition"],
                "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export");
    }
  }

  // Other methods are still refused, naming both kick-off methods.
  const HttpResponse put =
      api.Handle(Request("PUT", "/$export", parameters("")), PrincipalOf(*store_, "gp"), *store_);
  EXPECT_EQ(put.status, 405);
  EXPECT_EQ(Header(put, "Allow"), "GET, POST");
}

// ---- Injection payloads ---------------------------------------------------------------------

TEST_F(FhirApiTest, InjectionPayloadsAreStoredAndReturnedInertly) {
  const std::vector<std::string> payloads = {
      "Robert'); DROP TABLE patients;--",
      "<script>alert(\"x\")</script>",
      "' OR '1'='1",
      "\"; SELECT * FROM users; --",
      "%27%22<img src=x onerror=alert(1)>",
      "Zoë \\ back\\slash",
  };
  std::string base;
  ASSERT_TRUE(fhir::AppendPatientJson(**store_->FindPatient("p1"), base).ok());
  for (const std::string& payload : payloads) {
    SCOPED_TRACE(payload);
    json p = json::parse(base);
    p["name"][0]["family"] = payload;
    const HttpResponse put = Call("gp", "PUT", "/Patient/p1", p.dump());
    ASSERT_EQ(put.status, 200) << put.body;
    const HttpResponse read = Call("gp", "GET", "/Patient/p1");
    ASSERT_EQ(read.status, 200);
    EXPECT_EQ(json::parse(read.body)["name"][0]["family"], payload);  // exact bytes back
    // As a search value in every parameter type: no error but 400 for malformed, never a leak.
    // FHIR search escapes first (\, \| \$ \\), then the query string's.
    std::string escaped;
    for (char ch : payload) {
      if (ch == '\\' || ch == ',' || ch == '|' || ch == '$') escaped += '\\';
      escaped += ch;
    }
    const std::string enc = fhir::search::PercentEncode(escaped);
    const HttpResponse exact = Call("gp", "GET", "/Patient?family:exact=" + enc);
    ASSERT_EQ(exact.status, 200) << exact.body;
    EXPECT_EQ(json::parse(exact.body)["total"], 1);
    for (const std::string& q :
         {"/Patient?name=" + enc, "/Patient?identifier=" + enc, "/Condition?code=" + enc,
          "/Patient?general-practitioner=" + enc, "/Patient?birthdate=" + enc,
          "/Organization?name:contains=" + enc, "/AuditEvent?altid=" + enc}) {
      const HttpResponse r =
          Call(q.find("AuditEvent") != std::string::npos ? "privacy-officer" : "gp", "GET", q);
      EXPECT_TRUE(r.status == 200 || r.status == 400) << q << ": " << r.body;
      EXPECT_NO_THROW(json::parse(r.body)) << q;
    }
  }
  // The store still holds everything it held.
  auto counts = store_->Counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->patients, 4);
}

// ---- Lost update ------------------------------------------------------------------------------

class LostUpdateTest : public ::testing::TestWithParam<Backend> {};

TEST_P(LostUpdateTest, IfMatchLetsExactlyOneWriterWinEachVersion) {
  std::string skip;
  auto db = TestDatabase::Create(GetParam(), skip);
  if (!db) GTEST_SKIP() << skip;
  {
    auto opened = store::OpenStore(db->url());
    ASSERT_TRUE(opened.ok()) << opened.error().ToString();
    ASSERT_TRUE(Populate(**opened).ok());
  }
  constexpr int kThreads = 16, kRounds = 200;
  const FhirApi api(TestOptions());
  std::atomic<int> successes{0}, conflicts{0}, other{0};
  std::mutex mutex;
  std::string first_other;  // what an unexpected answer said
  auto note = [&](const HttpResponse& r) {
    ++other;
    std::lock_guard lock(mutex);
    if (first_other.empty()) first_other = std::to_string(r.status) + " " + r.body;
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto opened = store::OpenStore(db->url());
      if (!opened.ok()) {
        other += kRounds;
        return;
      }
      store::Store& store = **opened;
      const Principal gp = PrincipalOf(store, "gp");
      for (int round = 0; round < kRounds; ++round) {
        HttpResponse got = api.Handle(Request("GET", "/Patient/p1"), gp, store);
        if (got.status != 200) {
          note(got);
          continue;
        }
        std::string etag;
        for (const auto& [k, v] : got.headers)
          if (k == "ETag") etag = v;
        json p = json::parse(got.body);
        p.erase("meta");
        p["name"][0]["given"][0] = "T" + std::to_string(t) + "R" + std::to_string(round);
        HttpResponse put =
            api.Handle(Request("PUT", "/Patient/p1", p.dump(), {{"if-match", etag}}), gp, store);
        if (put.status == 200)
          ++successes;
        else if (put.status == 412)
          ++conflicts;
        else
          ++other;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(other.load(), 0) << first_other;
  EXPECT_EQ(successes + conflicts, kThreads * kRounds);
  EXPECT_GT(successes.load(), 0);
  auto opened = store::OpenStore(db->url());
  ASSERT_TRUE(opened.ok());
  auto history = (*opened)->ResourceHistory("Patient", "p1");
  ASSERT_TRUE(history.ok()) << history.error().ToString();
  // Version 1 (the import) plus one version per successful write, numbered without gaps.
  ASSERT_EQ(static_cast<int>(history->size()), successes.load() + 1);
  for (size_t i = 0; i < history->size(); ++i)
    EXPECT_EQ((*history)[i].version_id, static_cast<int64_t>(history->size() - i));
}

INSTANTIATE_TEST_SUITE_P(Backends, LostUpdateTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const auto& info) { return store::testing::BackendName(info.param); });

}  // namespace
}  // namespace joinedup::api::testing
