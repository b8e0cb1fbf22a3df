#include "api_test_support.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "fhir/document.h"
#include "security/policy.h"
#include "security/scopes.h"

namespace joinedup::api::testing {

namespace {

Date D(int y, int m, int d) { return Date::FromYmd(y, m, d); }

Patient MakePatient(std::string id, int n, std::string family, std::string practice) {
  Patient p;
  p.id = std::move(id);
  p.nhs_number = store::testing::TestNhsNumber(n);
  p.family_name = std::move(family);
  p.given_name = "Ann";
  p.birth_date = D(1940 + n, 3, 4);
  p.sex = Sex::kFemale;
  p.postcode_district = "E1";
  p.deprivation_decile = 3;
  p.practice_id = std::move(practice);
  return p;
}

// A daughter who is her parent's carer and next of kin, as a client would write her.
std::string RelatedPersonJson(const std::string& id, const std::string& patient_id,
                              const std::string& family) {
  return R"({"resourceType":"RelatedPerson","id":")" + id +
         R"(","active":true,"patient":{"reference":"Patient/)" + patient_id +
         R"("},"relationship":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-RoleCode","code":"DAU"}]},)"
         R"({"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0131","code":"N"}]}],)"
         R"("name":[{"family":")" +
         family + R"(","given":["Jane"]}],"telecom":[{"system":"phone","value":"07700900123"}]})";
}

}  // namespace

Status AddDocument(store::Store& store, const std::string& text, int64_t now_ms) {
  auto read = fhir::ReadDocument(text, fhir::ResolveRelativeReference);
  if (auto* refused = std::get_if<fhir::MapError>(&read))
    return Error::Internal(refused->resource_type + " fixture refused: " + refused->field + ": " +
                           refused->message);
  fhir::Document& document = std::get<fhir::Document>(read);
  store::ResourceWrite write;
  write.resource_type = document.resource_type;
  write.id = document.id;
  write.record = store::ResourceJson{text};
  write.json = text;
  write.now_ms = now_ms;
  write.patient_id = document.patient_id;
  write.index = std::move(document.index);
  write.sharing = document.sharing;
  auto written = store.PutResource(write);
  if (!written.ok()) return written.error();
  return Ok();
}

Status AddRelatedPerson(store::Store& store, const std::string& id, const std::string& patient_id,
                        const std::string& family, int64_t now_ms) {
  return AddDocument(store, RelatedPersonJson(id, patient_id, family), now_ms);
}

Status AddCarePlanRecords(store::Store& store, const std::string& pid, int64_t now_ms) {
  const std::string patient = R"({"reference":"Patient/)" + pid + R"("})";
  const std::string texts[] = {
      R"({"resourceType":"Goal","id":"g-)" + pid +
          R"(","lifecycleStatus":"active","description":{"text":"To stay in my own home"},)"
          R"("subject":)" +
          patient + R"(,"startDate":"2026-04-20","target":[{"dueDate":"2026-12-31"}]})",
      R"({"resourceType":"CarePlan","id":"cp-)" + pid +
          R"(","status":"active","intent":"plan","title":"My care and support plan",)"
          R"("category":[{"coding":[{"system":"http://snomed.info/sct","code":"734163000"}]}],)"
          R"("subject":)" +
          patient + R"(,"period":{"start":"2026-04-20"},"goal":[{"reference":"Goal/g-)" + pid +
          R"("}],"activity":[{"reference":{"reference":"Task/t-)" + pid + R"("}}]})",
      R"({"resourceType":"Task","id":"t-)" + pid +
          R"(","status":"requested","intent":"order","priority":"routine",)"
          R"("description":"Occupational therapy home visit","for":)" +
          patient + R"(,"focus":{"reference":"CarePlan/cp-)" + pid +
          R"("},"owner":{"reference":"Practitioner/pr1"},)"
          R"("executionPeriod":{"start":"2026-05-01"},)"
          R"("restriction":{"period":{"end":"2026-05-01T17:00:00+01:00"}}})",
      R"({"resourceType":"Flag","id":"f-)" + pid +
          R"(","status":"active","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/flag-category","code":"clinical"}]}],)"
          R"("code":{"text":"Emergency admission"},"subject":)" +
          patient + R"(,"period":{"start":"2026-09-01"}})",
      R"({"resourceType":"QuestionnaireResponse","id":"qr-)" + pid +
          R"(","status":"completed","subject":)" + patient +
          R"(,"questionnaire":"https://joinedup.example/fhir/Questionnaire/holistic-assessment|1",)"
          R"("authored":"2026-04-21T10:15:00Z","author":{"reference":"Practitioner/pr1"}})",
  };
  for (const std::string& text : texts) JU_RETURN_IF_ERROR(AddDocument(store, text, now_ms));
  return Ok();
}

Result<Population> Populate(store::Store& store) {
  Population pop;
  {
    JU_ASSIGN_OR_RETURN(auto writer, store.BeginWrite());
    JU_RETURN_IF_ERROR(writer->Add(Practice{"A81001", "Alpha Surgery", "PCH1", "E1"}));
    JU_RETURN_IF_ERROR(writer->Add(Practice{"B82002", "Beta Practice", "PCH1", "E2"}));
    const char* practices[] = {"A81001", "B82002", "B82002", "B82002"};
    for (int n = 1; n <= 4; ++n) {
      const std::string pid = "p" + std::to_string(n);
      JU_RETURN_IF_ERROR(
          writer->Add(MakePatient(pid, n, "Smith" + std::to_string(n), practices[n - 1])));
      ClinicalEvent condition;
      condition.id = "c-" + pid;
      condition.patient_id = pid;
      condition.kind = EventKind::kCondition;
      condition.system = CodeSystem::kSnomedCt;
      condition.code = "44054006";
      condition.term = "Diabetes mellitus type 2";
      condition.date = D(2020, 1, n);
      JU_RETURN_IF_ERROR(writer->Add(condition));
      ClinicalEvent observation;
      observation.id = "o-" + pid;
      observation.patient_id = pid;
      observation.kind = EventKind::kObservation;
      observation.system = CodeSystem::kSnomedCt;
      observation.code = "60621009";
      observation.term = "Body mass index";
      observation.date = D(2024, 2, n);
      observation.value = 31.5;
      observation.unit = "kg/m2";
      JU_RETURN_IF_ERROR(writer->Add(observation));
      Activity encounter;
      encounter.id = "e-" + pid;
      encounter.patient_id = pid;
      encounter.type = ActivityType::kGpAppointment;
      encounter.start = D(2024, 3, n);
      encounter.practice_id = practices[n - 1];
      JU_RETURN_IF_ERROR(writer->Add(encounter));
      Medication medication;
      medication.id = "m-" + pid;
      medication.patient_id = pid;
      medication.system = CodeSystem::kDmd;
      medication.code = "322236009";
      medication.term = "Paracetamol 500mg tablets";
      medication.start = D(2023, 5, n);
      JU_RETURN_IF_ERROR(writer->Add(medication));
    }
    JU_RETURN_IF_ERROR(writer->Commit());
  }
  for (int n = 1; n <= 4; ++n) {
    const std::string pid = "p" + std::to_string(n);
    JU_RETURN_IF_ERROR(AddRelatedPerson(store, "rp-" + pid, pid, "Smith" + std::to_string(n),
                                        kNowMs - 10'000 + n));
    JU_RETURN_IF_ERROR(AddCarePlanRecords(store, pid, kNowMs - 9'000 + n));
    JU_ASSIGN_OR_RETURN(auto found, store.FindResource("Patient", pid));
    if (!found || !found->patient_key) return Error::Internal(pid + " has no key");
    pop.patient_keys[pid] = *found->patient_key;
  }
  JU_RETURN_IF_ERROR(AddDocument(
      store,
      R"({"resourceType":"Questionnaire","id":"holistic-assessment","status":"active",)"
      R"("url":"https://joinedup.example/fhir/Questionnaire/holistic-assessment","version":"1",)"
      R"("name":"HolisticAssessment","title":"Holistic assessment"})",
      kNowMs - 20'000));
  JU_RETURN_IF_ERROR(
      store.PutOrganisation({"A81001", "Alpha Surgery", store::OrganisationKind::kGpPractice}));
  JU_RETURN_IF_ERROR(
      store.PutOrganisation({"B82002", "Beta Practice", store::OrganisationKind::kGpPractice}));
  JU_ASSIGN_OR_RETURN(int64_t team, store.AddCareTeam("T1", "A81001"));
  for (int r = 0; r < store::kRoleCount; ++r) {
    const auto role = static_cast<store::Role>(r);
    store::User user;
    user.username = std::string(security::RoleName(role));
    user.display_name = "Test " + user.username;
    user.organisation_id = "A81001";
    user.role = role;
    user.password_hash = "not-a-real-hash";  // these users never sign in: tests build principals
    if (role == store::Role::kPatient) user.patient_key = pop.patient_keys["p1"];
    JU_ASSIGN_OR_RETURN(int64_t id, store.AddUser(user));
    pop.user_ids[user.username] = id;
    if (role != store::Role::kPatient) JU_RETURN_IF_ERROR(store.AddCareTeamMember(team, id));
  }
  JU_RETURN_IF_ERROR(store.AddCareTeamPatient(team, pop.patient_keys["p2"]));
  JU_RETURN_IF_ERROR(store.AddCareTeamPatient(team, pop.patient_keys["p3"]));
  const std::pair<const char*, store::ConsentDecision> consents[] = {
      {"p2", store::ConsentDecision::kPermitSharing},
      {"p3", store::ConsentDecision::kDeclineBeyondOwnPractice},
      {"p1", store::ConsentDecision::kPermitSharing},
      {"p4", store::ConsentDecision::kPermitSharing}};
  int64_t at = kNowMs - 4000;
  for (const auto& [pid, decision] : consents) {
    JU_ASSIGN_OR_RETURN(pop.consent_ids[pid], store.RecordConsent({pop.patient_keys[pid], decision,
                                                                   pop.user_ids["gp"], at += 500}));
  }
  StratificationRun run;
  run.index_date = D(2026, 4, 1);
  run.models.push_back({"mcmw", "1", {"low", "high"}});
  run.people = 4;
  std::vector<PersonRunResult> results;
  for (int n = 1; n <= 4; ++n) {
    PersonRunResult r;
    r.patient_key = pop.patient_keys["p" + std::to_string(n)];
    r.ltc_count = static_cast<int16_t>(n);
    r.efi_deficits = static_cast<int16_t>(3 * n);
    r.hfrs_tenths = static_cast<int16_t>(25 * n);
    r.charlson_quan2011 = static_cast<int16_t>(n);
    r.charlson_1987 = static_cast<int16_t>(n);
    r.admission_risk = 0.1f * static_cast<float>(n);
    r.cost_12m_pence = 12345 * n;
    r.segment = {static_cast<int16_t>(n % 2)};
    r.rule = {0};
    results.push_back(r);
  }
  std::sort(results.begin(), results.end(), [](const PersonRunResult& a, const PersonRunResult& b) {
    return a.patient_key < b.patient_key;
  });
  JU_ASSIGN_OR_RETURN(pop.run_id, store.SaveRun(run, results));
  return pop;
}

std::unique_ptr<PopulatedApi> PopulatedApi::Create(store::testing::Backend backend,
                                                   std::string& skip_reason) {
  std::unique_ptr<PopulatedApi> api(new PopulatedApi());
  api->db_ = store::testing::TestDatabase::Create(backend, skip_reason);
  if (!api->db_) return nullptr;
  auto opened = store::OpenStore(api->db_->url());
  if (!opened.ok()) {
    ADD_FAILURE() << opened.error().ToString();
    return nullptr;
  }
  api->store_ = std::move(*opened);
  auto population = Populate(*api->store_);
  if (!population.ok()) {
    ADD_FAILURE() << population.error().ToString();
    return nullptr;
  }
  api->population_ = std::move(*population);
  return api;
}

HttpResponse PopulatedApi::Call(std::string_view who, std::string_view method,
                                std::string_view target, std::string body,
                                std::vector<std::pair<std::string, std::string>> headers) {
  std::optional<Principal> principal;
  if (!who.empty()) principal = PrincipalOf(*store_, who);
  return api_.Handle(Request(method, target, std::move(body), std::move(headers)), principal,
                     *store_);
}

void PopulatedApiTest::SetUp() {
  std::string skip;
  api_ = PopulatedApi::Create(GetParam(), skip);
  if (!api_) GTEST_SKIP() << skip;
}

std::string HeaderOf(const HttpResponse& response, std::string_view name) {
  for (const auto& [key, value] : response.headers)
    if (key == name) return value;
  return "";
}

Principal PrincipalOf(store::Store& store, std::string_view username) {
  Principal p;
  auto user = store.FindUser(username);
  EXPECT_TRUE(user.ok() && user->has_value()) << username;
  if (!user.ok() || !user->has_value()) return p;
  const store::User& u = **user;
  p.username = u.username;
  p.display_name = u.display_name;
  p.caller.user_id = u.id;
  p.caller.role = u.role;
  p.caller.organisation_id = u.organisation_id;
  p.caller.patient_key = u.patient_key;
  auto teams = store.CareTeamsOfUser(u.id);
  if (teams.ok()) p.caller.care_team_ids = *teams;
  auto scopes =
      security::ParseScopes(u.role == store::Role::kPatient ? "patient/*.cruds" : "user/*.cruds");
  EXPECT_TRUE(scopes.ok());
  if (scopes.ok()) p.caller.scopes = *scopes;
  return p;
}

std::string TestCursorKey() { return std::string(32, 'k'); }

void AppApiTestBase::SetUp() {
  std::string skip;
  db_ = store::testing::TestDatabase::Create(store::testing::Backend::kSqlite, skip);
  ASSERT_TRUE(db_) << skip;
  auto opened = store::OpenStore(db_->url());
  ASSERT_TRUE(opened.ok());
  store_ = std::move(*opened);
  auto population = Populate(*store_);
  ASSERT_TRUE(population.ok()) << population.error().ToString();
  population_ = *population;
  webapp::AppApiOptions options;
  options.cursor_key = TestCursorKey();
  options.clock = [] { return kNowMs; };
  api_ = std::make_unique<webapp::AppApi>(options);
}

std::vector<store::AuditEvent> AuditEventsOf(store::Store& store, std::string_view subtype) {
  store::AuditQuery q;
  q.limit = 1000;
  auto events = store.SearchAuditEvents(q);
  EXPECT_TRUE(events.ok());
  std::vector<store::AuditEvent> out;
  if (events.ok())
    for (store::AuditEvent& e : *events)
      if (e.subtype == subtype) out.push_back(std::move(e));
  return out;
}

nlohmann::json BodyOf(const HttpResponse& response) {
  nlohmann::json j = nlohmann::json::parse(response.body, nullptr, false);
  EXPECT_TRUE(j.is_object()) << response.body;
  return j;
}

int64_t AddTestUser(store::Store& store, const std::string& username,
                    const std::string& display_name, const std::string& organisation,
                    store::Role role, int64_t care_team, std::optional<int64_t> patient_key) {
  store::User u;
  u.username = username;
  u.display_name = display_name;
  u.organisation_id = organisation;
  u.role = role;
  u.password_hash = "not-a-real-hash";
  u.patient_key = patient_key;
  auto id = store.AddUser(u);
  EXPECT_TRUE(id.ok()) << username << ": " << (id.ok() ? "" : id.error().ToString());
  if (!id.ok()) return 0;
  if (care_team) {
    EXPECT_TRUE(store.AddCareTeamMember(care_team, *id).ok());
  }
  return *id;
}

std::vector<store::AuditEvent> AppApiTestBase::Events(std::string_view subtype) {
  return AuditEventsOf(*store_, subtype);
}

nlohmann::json AppApiTestBase::Body(const HttpResponse& response) { return BodyOf(response); }

FhirApiOptions TestOptions() {
  FhirApiOptions o;
  o.base_url = std::string(kBaseUrl);
  o.software_version = "test";
  o.cursor_key = TestCursorKey();
  o.clock = [] { return kNowMs; };
  return o;
}

exporter::BulkExportOptions TestExportOptions(const std::string& directory,
                                              const std::string& store_url) {
  exporter::BulkExportOptions o;
  o.directory = directory;
  o.store_url = store_url;
  o.base_url = std::string(kBaseUrl);
  o.clock = [] { return kNowMs; };
  return o;
}

HttpRequest Request(std::string_view method, std::string_view target, std::string body,
                    std::vector<std::pair<std::string, std::string>> headers) {
  HttpRequest r;
  r.method = std::string(method);
  const size_t q = target.find('?');
  r.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) r.query = std::string(target.substr(q + 1));
  r.body = std::move(body);
  bool has_type = false;
  for (const auto& [k, v] : headers) has_type = has_type || k == "content-type";
  if (!r.body.empty() && !has_type) headers.emplace_back("content-type", "application/fhir+json");
  r.headers = std::move(headers);
  r.remote_address = "192.0.2.7";
  r.request_id = "req-1";
  return r;
}

TempDir::TempDir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "joinedup-api-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace joinedup::api::testing
