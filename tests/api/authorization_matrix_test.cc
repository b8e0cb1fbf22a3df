// The authorization matrix (issue 4, "Done when"): every route x method x role x relationship
// of tests/api/authorization_matrix.tsv against a fresh copy of the test population, checking
// the status, the number of Bundle entries of searches (matches and includes) and that totals
// count exactly those; a hidden record's 404 must be byte for byte the 404 of a missing one.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "api_test_support.h"
#include "export/bulk_export.h"
#include "fhir/fhir_mapping.h"
#include "records/care_plan.h"
#include "records/records.h"
#include "security/scopes.h"
#include "webapp/app_api.h"

namespace joinedup::api::testing {
namespace {

using json = nlohmann::json;

struct Row {
  int line = 0;
  std::string route, method, role, relationship;
  int status = 0;
  std::optional<int> count;
};

std::vector<Row> ReadMatrix() {
  std::ifstream in(std::string(JOINEDUP_SOURCE_DIR) + "/tests/api/authorization_matrix.tsv");
  EXPECT_TRUE(in.good());
  std::vector<Row> rows;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (n == 1 || line.empty()) continue;
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, '\t')) f.push_back(cell);
    EXPECT_EQ(f.size(), 6u) << "line " << n;
    if (f.size() != 6) continue;
    Row r{n, f[0], f[1], f[2], f[3], std::stoi(f[4]), std::nullopt};
    if (f[5] != "-") r.count = std::stoi(f[5]);
    rows.push_back(std::move(r));
  }
  return rows;
}

// The person each relationship targets (api_test_support.h).
std::string TargetOf(std::string_view relationship) {
  if (relationship == "own-practice" || relationship == "patient-self") return "p1";
  if (relationship == "care-team" || relationship == "patient-other") return "p2";
  if (relationship == "consent-withdrawn") return "p3";
  return "p4";  // other-practice, break-glass
}

std::string Replace(std::string text, std::string_view from, std::string_view to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

class AuthorizationMatrix : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    template_path_ = dir_->path() + "/template.db";
    auto store = store::OpenStore(template_path_);
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    auto pop = Populate(**store);
    ASSERT_TRUE(pop.ok()) << pop.error().ToString();
    population_ = new Population(*pop);
  }
  static void TearDownTestSuite() {
    delete population_;
    delete dir_;
  }

  // Fills {patient}, {condition}, … for person `pid`.
  static std::string Fill(std::string text, const std::string& pid) {
    const std::string key = std::to_string(
        population_->patient_keys.count(pid) ? population_->patient_keys.at(pid) : 999999);
    text = Replace(text, "{patient}", pid);
    text = Replace(text, "{condition}", "c-" + pid);
    text = Replace(text, "{observation}", "o-" + pid);
    text = Replace(text, "{encounter}", "e-" + pid);
    text = Replace(text, "{medication}", "m-" + pid);
    text = Replace(text, "{risk}", std::to_string(population_->run_id) + "-" + key);
    text = Replace(text, "{group}", std::to_string(population_->run_id) + "-0-1");
    text = Replace(text, "{consent}", ConsentOf(pid));
    text = Replace(text, "{related}", "rp-" + pid);
    text = Replace(text, "{goal}", "g-" + pid);
    text = Replace(text, "{careplan}", "cp-" + pid);
    text = Replace(text, "{task}", "t-" + pid);
    text = Replace(text, "{flag}", "f-" + pid);
    text = Replace(text, "{response}", "qr-" + pid);
    return text;
  }

  // The id of person `pid`'s Consent; "999999" (no such Consent) for an unknown person.
  static std::string ConsentOf(const std::string& pid) {
    auto it = population_->consent_ids.find(pid);
    return it == population_->consent_ids.end() ? "999999" : std::to_string(it->second);
  }

  // A stored document as served (without meta).
  static json StoredJson(store::Store& store, std::string_view type, const std::string& id) {
    auto found = store.FindResource(type, id);
    EXPECT_TRUE(found.ok() && found->has_value()) << type << "/" << id;
    if (!found.ok() || !found->has_value()) return json::object();
    auto text = records::RenderRecord(**found);
    EXPECT_TRUE(text.ok());
    return text.ok() ? json::parse(*text) : json::object();
  }

  // A resource's JSON with the URL's id (the body must carry the id it is PUT to).
  static std::string WithId(const std::string& resource, const std::string& id) {
    if (resource.empty()) return resource;
    json j = json::parse(resource);
    j["id"] = id;
    return j.dump();
  }

  // A case-management resource (kept as a document) about `pid`, with `id` unless empty.
  static std::string CaseBody(std::string_view type, const std::string& id,
                              const std::string& pid) {
    json j = {{"resourceType", type}};
    if (!id.empty()) j["id"] = id;
    const json person = {{"reference", "Patient/" + pid}};
    if (type == "Goal") {
      j["lifecycleStatus"] = "proposed";
      j["description"] = {{"text", "To get myself to bed"}};
      j["subject"] = person;
    } else if (type == "CarePlan") {
      j["status"] = "draft";
      j["intent"] = "plan";
      j["subject"] = person;
    } else if (type == "Task") {
      j["status"] = "requested";
      j["intent"] = "order";
      j["for"] = person;
    } else if (type == "Flag") {
      j["status"] = "active";
      j["code"] = {{"text", "Missed visit"}};
      j["subject"] = person;
    } else {
      j["status"] = "in-progress";
      j["subject"] = person;
    }
    return j.dump();
  }

  // The body of `row` about person `pid`; `url_pid` is the person whose ids the URL carries
  // (the missing person of the 404 probe).
  static std::string BodyFor(const Row& row, store::Store& store, const std::string& pid,
                             const std::string& url_pid) {
    static const std::pair<std::string_view, std::string_view> kCaseTypes[] = {
        {"Goal", "g-"},
        {"CarePlan", "cp-"},
        {"Task", "t-"},
        {"Flag", "f-"},
        {"QuestionnaireResponse", "qr-"}};
    for (const auto& [type, prefix] : kCaseTypes) {
      const std::string base = "/" + std::string(type);
      if (row.method == "POST" && row.route == base) return CaseBody(type, "", pid);
      if (row.method == "PUT" && row.route.starts_with(base + "/{"))
        return CaseBody(type, std::string(prefix) + url_pid, pid);
    }
    // The person's own parts of their plan (records/care_plan.h): the stored plan with "About
    // me" written by them; their goal reworded by them.
    if (row.method == "PUT:about-me" || row.method == "PUT:persons-words") {
      const bool plan = row.method == "PUT:about-me";
      json j = StoredJson(store, plan ? "CarePlan" : "Goal", (plan ? "cp-" : "g-") + pid);
      const json by_them = {{"reference", "Patient/" + pid}, {"display", "The person"}};
      if (plan) {
        j["note"] = json::array(
            {{{"extension",
               {{{"url", records::kPlanSectionUrl}, {"valueCode", "about-me-people"}}}},
              {"authorReference", by_them},
              {"time", "2026-09-21T09:00:00Z"},
              {"text", "My daughter, who visits every weekend"}}});
      } else {
        j["description"] = {
            {"text", "To stay in my own home and do my own shopping"},
            {"extension",
             {{{"url", records::kWrittenByUrl},
               {"extension",
                {{{"url", "author"}, {"valueReference", by_them}},
                 {{"url", "time"}, {"valueDateTime", "2026-09-21T09:00:00Z"}}}}}}}};
      }
      j["id"] = (plan ? "cp-" : "g-") + url_pid;
      return j.dump();
    }
    // The web application's care-plan routes.
    if (row.route.starts_with("/app/api/")) {
      if (row.route == "/app/api/people/{patient}/care-plan" && row.method == "POST")
        return R"({"sections":{"self-care":"Short walks every day"}})";
      if (row.route == "/app/api/care-plans/{careplan}" && row.method == "POST")
        return R"({"version":1,"sections":{"self-care":"Short walks every day"}})";
      if (row.route == "/app/api/care-plans/{careplan}" && row.method == "POST:about-me")
        return R"({"version":1,"sections":{"about-me-people":"My daughter"}})";
      if (row.route == "/app/api/people/{patient}/goals")
        return R"({"text":"To walk to the shop by Christmas"})";
      if (row.route == "/app/api/goals/{goal}")
        return R"({"version":1,"progress":"I walked to the end of the road"})";
      return {};
    }
    if (row.method == "POST" && row.route == "/Patient/_search") return "_id=" + pid;
    if (row.method == "POST" && row.route == "/Consent/_search") return "patient=" + pid;
    if (row.method == "PUT" && row.route == "/Consent/{consent}")
      return R"({"resourceType":"Consent","id":")" + ConsentOf(url_pid) +
             R"(","status":"active","patient":{"reference":"Patient/)" + pid +
             R"("},"provision":{"type":"deny"}})";
    if (row.method == "POST" && row.route == "/Patient/$export")
      return R"({"resourceType":"Parameters","parameter":[{"name":"_type","valueString":"Patient"},{"name":"_type","valueString":"Condition"}]})";
    if (row.method == "POST" && row.route == "/$export") return R"({"resourceType":"Parameters"})";
    if (row.method == "POST" && row.route == "/Condition")
      return R"({"resourceType":"Condition","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},"code":{"coding":[{"system":"http://snomed.info/sct","code":"38341003","display":"Hypertension"}]},"subject":{"reference":"Patient/)" +
             pid + R"("},"onsetDateTime":"2021-05-06"})";
    if (row.method == "POST" && row.route == "/RelatedPerson")
      return R"({"resourceType":"RelatedPerson","patient":{"reference":"Patient/)" + pid +
             R"("},"name":[{"family":"Carer"}]})";
    if (row.method == "PUT" && row.route == "/RelatedPerson/{related}")
      return R"({"resourceType":"RelatedPerson","id":"rp-)" + url_pid +
             R"(","patient":{"reference":"Patient/)" + pid + R"("},"name":[{"family":"Carer"}]})";
    if (row.method == "POST" && row.route == "/Patient") {
      // A new person (an NHS number no one holds) registered at the callers' practice.
      auto p = store.FindPatient(pid);
      std::string out;
      if (p.ok() && *p) {
        Patient fresh = **p;
        fresh.nhs_number = store::testing::TestNhsNumber(8);
        fresh.practice_id = "A81001";
        EXPECT_TRUE(fhir::AppendPatientJson(fresh, out).ok());
      }
      return out;
    }
    if (row.method.starts_with("PUT:to-") && row.route == "/Patient/{patient}") {
      // The person moved to the practice the variant names.
      auto p = store.FindPatient(pid);
      std::string out;
      if (p.ok() && *p) {
        Patient moved = **p;
        moved.practice_id = row.method.substr(std::string_view("PUT:to-").size());
        EXPECT_TRUE(fhir::AppendPatientJson(moved, out).ok());
      }
      return WithId(out, url_pid);
    }
    if (row.method == "PUT:subject-p4" && row.route == "/Condition/{condition}") {
      // The person's Condition made about p4 (hidden from every staff user).
      Row put = row;
      put.method = "PUT";
      json condition = json::parse(BodyFor(put, store, pid, url_pid));
      condition["subject"]["reference"] = "Patient/p4";
      return condition.dump();
    }
    if (row.method == "POST" && row.route == "/Consent")
      return R"({"resourceType":"Consent","status":"active","patient":{"reference":"Patient/)" +
             pid + R"("},"provision":{"type":"permit"}})";
    if (row.method == "PUT" && row.route == "/Patient/{patient}") {
      auto p = store.FindPatient(pid);
      std::string out;
      if (p.ok() && *p) {
        EXPECT_TRUE(fhir::AppendPatientJson(**p, out).ok());
      }
      return WithId(out, url_pid);
    }
    if (row.method == "PUT" && row.route == "/Condition/{condition}") {
      auto events = store.EventsForPatient(pid);
      std::string out;
      if (events.ok())
        for (const ClinicalEvent& e : *events)
          if (e.id == "c-" + pid) {
            EXPECT_TRUE(fhir::AppendClinicalEventJson(e, out).ok());
          }
      return WithId(out, "c-" + url_pid);
    }
    return {};
  }

  static TempDir* dir_;
  static std::string template_path_;
  static Population* population_;
};
TempDir* AuthorizationMatrix::dir_ = nullptr;
std::string AuthorizationMatrix::template_path_;
Population* AuthorizationMatrix::population_ = nullptr;

TEST_F(AuthorizationMatrix, EveryRouteMethodRoleAndRelationship) {
  ASSERT_NE(population_, nullptr);
  const std::vector<Row> rows = ReadMatrix();
  ASSERT_GT(rows.size(), 1000u);
  int checked = 0;
  for (const Row& row : rows) {
    SCOPED_TRACE("authorization_matrix.tsv line " + std::to_string(row.line) + ": " + row.method +
                 " " + row.route + " as " + row.role + " (" + row.relationship + ")");
    // A fresh copy of the population for every row: writes in one row never change another.
    const std::string path = dir_->path() + "/row.db";
    std::filesystem::remove(path);
    std::filesystem::copy_file(template_path_, path);
    auto opened = store::OpenStore(path);
    ASSERT_TRUE(opened.ok()) << opened.error().ToString();
    store::Store& store = **opened;

    FhirApiOptions options = TestOptions();
    std::unique_ptr<exporter::BulkExport> bulk;
    TempDir export_dir;
    if (row.route.find("$export") != std::string::npos) {
      exporter::BulkExportOptions bo = TestExportOptions(export_dir.path(), path);
      bo.max_concurrent_jobs = 4;
      bulk = std::make_unique<exporter::BulkExport>(bo);
      options.bulk_export = bulk.get();
    }
    FhirApi api(options);
    // The web application's API (/app/api), for its rows.
    webapp::AppApiOptions app_options;
    app_options.cursor_key = TestCursorKey();
    app_options.clock = [] { return kNowMs; };
    const webapp::AppApi app(app_options);
    const bool app_route = row.route.starts_with("/app/api/");
    auto handle = [&](const HttpRequest& request, const std::optional<Principal>& who) {
      if (!app_route) return api.Handle(request, who, store);
      HttpRequest below = request;
      below.path = below.path.substr(std::string_view("/app/api").size());
      return app.Handle(below, who.value_or(Principal{}), store);
    };

    const std::string pid = TargetOf(row.relationship);
    std::vector<std::pair<std::string, std::string>> headers;
    if (row.relationship == "break-glass")
      headers.emplace_back("x-break-glass-reason", "emergency: unconscious in A&E, no history available");
    if (row.route.find("$export") != std::string::npos)
      headers.emplace_back("prefer", "respond-async");
    if (row.route.ends_with("/_search"))
      headers.emplace_back("content-type", "application/x-www-form-urlencoded");
    // "PUT:variant": a PUT whose body BodyFor writes as the variant says.
    const std::string verb = row.method.substr(0, row.method.find(':'));
    HttpRequest req = Request(verb, Fill(row.route, pid), BodyFor(row, store, pid, pid), headers);
    std::optional<Principal> principal;
    if (row.relationship != "anonymous") {
      // "<role>+rs": that user with a read-only token (user/*.rs, or patient/*.rs).
      const std::string base = row.role.substr(0, row.role.find('+'));
      principal = PrincipalOf(store, base);
      if (row.role.ends_with("+rs"))
        principal->caller.scopes =
            security::ParseScopes(base == "patient" ? "patient/*.rs" : "user/*.rs").value();
    }
    const HttpResponse res = handle(req, principal);
    EXPECT_EQ(res.status, row.status) << res.body;

    if (row.count && res.status == 200) {
      json bundle = json::parse(res.body);
      const size_t entries = bundle.value("entry", json::array()).size();
      EXPECT_EQ(static_cast<int>(entries), *row.count) << res.body;
      size_t matches = 0;
      for (const json& e : bundle.value("entry", json::array()))
        if (e["search"]["mode"] == "match") ++matches;
      EXPECT_EQ(bundle.value("total", -1), static_cast<int>(matches)) << "total counts hidden rows";
    }
    if (res.status == 404) {
      // No existence leak: the same route on an id that does not exist answers the same bytes.
      const std::string missing = "p9";
      HttpRequest probe =
          Request(verb, Fill(row.route, missing), BodyFor(row, store, pid, missing), headers);
      const HttpResponse absent = handle(probe, principal);
      EXPECT_EQ(absent.status, 404);
      const std::string key = std::to_string(population_->patient_keys.at(pid));
      // FHIR ids may carry the person's key (a RiskAssessment's); the app's never do, and its
      // bodies carry the status (404), which a key of 4 would otherwise match.
      std::string hidden = Replace(res.body, pid, "X");
      if (!app_route) hidden = Replace(hidden, key, "K");
      if (row.route.find("{consent}") != std::string::npos)
        hidden = Replace(hidden, ConsentOf(pid), "K");
      EXPECT_EQ(hidden, Replace(Replace(absent.body, missing, "X"), "999999", "K"));
      EXPECT_EQ(res.headers, absent.headers);
    }
    ++checked;
    if (::testing::UnitTest::GetInstance()->current_test_info()->result()->total_part_count() > 100)
      break;  // enough to read; the rest would repeat the same mistakes
  }
  EXPECT_EQ(checked, static_cast<int>(rows.size())) << "stopped after too many failures";
}

}  // namespace
}  // namespace joinedup::api::testing
