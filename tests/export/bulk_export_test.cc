// Bulk Data $export end to end on a real SQLite store: kick-off, polling, the manifest, the
// files, and `fhir::Import` of the files into a fresh store giving the same records back; who
// sees what (visibility), _type, _since, Group level, cancellation, ownership, the concurrent-job
// limit, and a second BulkExport instance on the same directory.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "export/bulk_export.h"
#include "export/job_state.h"
#include "fhir/document.h"
#include "fhir/fhir_mapping.h"
#include "fhir/import.h"
#include "fhir/search/search_params.h"
#include "store/store.h"
#include "store_test_support.h"
#include "synth/generator.h"

namespace joinedup::exporter {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using store::testing::Backend;
using store::testing::Describe;
using store::testing::TestDatabase;

constexpr int64_t kOwner = 7;
constexpr int64_t kStranger = 8;
constexpr int64_t kStart = 1'763'900'000'000;  // 2025-11-23T12:13:20Z

// A fresh database; nullptr (and `skip` says why) when PostgreSQL is not configured.
std::unique_ptr<TestDatabase> NewDatabase(Backend backend, std::string* skip = nullptr) {
  std::string reason;
  auto db = TestDatabase::Create(backend, reason);
  if (skip != nullptr) *skip = reason;
  return db;
}

std::unique_ptr<store::Store> Open(const std::string& url) {
  auto opened = store::OpenStore(url);
  EXPECT_TRUE(opened.ok()) << opened.error().ToString();
  return std::move(opened).value();
}

// A synthetic population of `patients` people at `practices` practices.
void Fill(store::Store& store, int64_t patients, int practices = 3) {
  auto writer = store.BeginWrite();
  ASSERT_TRUE(writer.ok()) << writer.error().ToString();
  synth::GenerateOptions options;
  options.seed = 11;
  options.practices = practices;
  options.patients = patients;
  options.threads = 1;
  auto stats = synth::Generate(options, **writer);
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  ASSERT_TRUE((*writer)->Commit().ok());
}

// The value of a Result that must be OK, by value (a range-for over `f().value()` would bind to a
// temporary that dies before the loop runs).
template <typename T>
T Value(Result<T> result) {
  EXPECT_TRUE(result.ok()) << result.error().ToString();
  return std::move(result).value();
}

std::string Header(const http::HttpResponse& response, std::string_view name) {
  for (const auto& [key, value] : response.headers)
    if (key == name) return value;
  return "";
}

// A clock tests move by hand; read from worker threads too.
struct TestClock {
  std::atomic<int64_t> now{kStart};
  security::Clock clock() {
    return [this] { return now.load(); };
  }
};

// Every test runs on SQLite and on PostgreSQL (the `postgres` ctest fixture): the store the
// jobs read and the store the files are imported into are of that backend.
class BulkExportTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string skip;
    db_ = NewDatabase(GetParam(), &skip);
    if (db_ == nullptr) GTEST_SKIP() << skip;
    store_ = Open(db_->url());
    jobs_ = fs::temp_directory_path() / ("export-test-" + internal::NewJobId());
  }
  void TearDown() override {
    exporter_.reset();
    std::error_code ec;
    fs::remove_all(jobs_, ec);
  }

  BulkExportOptions Options(int max_jobs = 4) {
    BulkExportOptions options;
    options.directory = jobs_;
    options.store_url = db_->url();
    options.base_url = "https://fhir.example/r4/";
    options.clock = clock_.clock();
    options.max_concurrent_jobs = max_jobs;
    return options;
  }
  BulkExport& Exporter() {
    if (!exporter_) exporter_ = std::make_unique<BulkExport>(Options());
    return *exporter_;
  }

  static ExportJobSpec Spec(ExportJobSpec::Level level, store::Visibility visibility) {
    ExportJobSpec spec;
    spec.level = level;
    spec.visibility = std::move(visibility);
    spec.user_id = kOwner;
    spec.actor.user_id = kOwner;
    spec.actor.username = "analyst";
    spec.actor.role = "commissioner";
    spec.actor.organisation_id = "SYN001";
    spec.actor.request_id = "req-1";
    spec.actor.source_address = "127.0.0.1";
    spec.request_url = "https://fhir.example/r4/$export";
    return spec;
  }
  static store::Visibility Everyone() { return {store::Visibility::Kind::kEveryone, 0, "", 0}; }

  // The job id from a 202 kick-off's Content-Location.
  static std::string JobId(const http::HttpResponse& kickoff) {
    std::string location = Header(kickoff, "Content-Location");
    const std::string prefix = "https://fhir.example/r4/$export-status/";
    EXPECT_EQ(location.rfind(prefix, 0), 0u) << location;
    return location.size() > prefix.size() ? location.substr(prefix.size()) : "";
  }

  // Polls until the job is no longer 202; returns the final response.
  static http::HttpResponse Wait(BulkExport& exporter, const std::string& job) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (true) {
      http::HttpResponse poll = exporter.Poll(job, kOwner);
      if (poll.status != 202) return poll;
      EXPECT_FALSE(Header(poll, "X-Progress").empty());
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "export did not finish";
        return poll;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  // Kick-off → done; the manifest.
  Json Run(const ExportJobSpec& spec, std::string* job_out = nullptr) {
    http::HttpResponse kickoff = Exporter().Kickoff(spec);
    EXPECT_EQ(kickoff.status, 202) << kickoff.body;
    std::string job = JobId(kickoff);
    if (job_out != nullptr) *job_out = job;
    http::HttpResponse done = Wait(Exporter(), job);
    EXPECT_EQ(done.status, 200) << done.body;
    EXPECT_EQ(done.content_type, "application/json");
    return Json::parse(done.body);
  }

  // Fetches every output file through File() into a fresh folder; lines per type.
  std::map<std::string, std::vector<std::string>> Fetch(const Json& manifest,
                                                        fs::path* folder_out) {
    fs::path folder = jobs_.string() + "-files-" + std::to_string(fetches_++);
    fs::create_directories(folder);
    std::map<std::string, std::vector<std::string>> lines;
    for (const Json& item : manifest.at("output")) {
      std::string url = item.at("url").get<std::string>();
      const std::string prefix = "https://fhir.example/r4/$export-file/";
      EXPECT_EQ(url.rfind(prefix, 0), 0u) << url;
      std::string rest = url.substr(prefix.size());
      std::string job = rest.substr(0, rest.find('/'));
      std::string name = rest.substr(rest.find('/') + 1);
      http::HttpResponse file = Exporter().File(job, name, kOwner);
      EXPECT_EQ(file.status, 200) << url;
      EXPECT_EQ(file.content_type, "application/fhir+ndjson");
      std::ofstream(folder / name, std::ios::binary) << file.body;
      std::istringstream in(file.body);
      int64_t count = 0;
      for (std::string line; std::getline(in, line); ++count) {
        Json resource = Json::parse(line);
        EXPECT_EQ(resource.at("resourceType"), item.at("type")) << line;
        lines[item.at("type").get<std::string>()].push_back(line);
      }
      EXPECT_EQ(count, item.at("count").get<int64_t>()) << url;
    }
    if (folder_out != nullptr) *folder_out = folder;
    extra_folders_.push_back(folder);
    return lines;
  }

  ~BulkExportTest() override {
    for (const fs::path& folder : extra_folders_) {
      std::error_code ec;
      fs::remove_all(folder, ec);
    }
  }

  // Imports `folder` into a fresh store.
  std::unique_ptr<store::Store> ImportInto(const fs::path& folder,
                                           std::unique_ptr<TestDatabase>& db) {
    db = NewDatabase(GetParam());
    EXPECT_NE(db, nullptr);
    if (db == nullptr) return nullptr;
    auto copy = Open(db->url());
    auto report = fhir::Import({folder.string()}, {}, *copy);
    EXPECT_TRUE(report.ok()) << report.error().ToString();
    if (report.ok()) {
      EXPECT_TRUE(report->committed);
      for (const auto& issue : report->issues) ADD_FAILURE() << issue.ToString();
    }
    return copy;
  }

  // Patient keys by patient id in `store`.
  static std::map<std::string, int64_t> Keys(store::Store& store) {
    std::map<std::string, int64_t> keys;
    EXPECT_TRUE(store
                    .ScanPatients([&](const Patient& patient) {
                      auto key = store.PatientKeyForNhsNumber(*patient.nhs_number);
                      if (!key.ok()) return Status(key.take_error());
                      keys[patient.id] = key->value();
                      return Ok();
                    })
                    .ok());
    return keys;
  }

  // Every record of the person, one Describe per record, for field-by-field comparison.
  static std::string Everything(store::Store& store, const std::string& patient_id) {
    std::string out;
    auto patient = store.FindPatient(patient_id);
    EXPECT_TRUE(patient.ok());
    if (!patient.ok() || !*patient) return "(no such patient)";
    // FHIR carries source_identifier only for people without an NHS number
    // (docs/fhir-mapping.md, Patient table): with one it is not part of the exported record.
    Patient copy = **patient;
    if (copy.nhs_number) copy.source_identifier.clear();
    out += Describe(copy);
    for (const auto& e : Value(store.EventsForPatient(patient_id))) out += Describe(e);
    for (const auto& a : Value(store.ActivitiesForPatient(patient_id))) out += Describe(a);
    for (const auto& m : Value(store.MedicationsForPatient(patient_id))) out += Describe(m);
    return out;
  }

  static std::set<std::string> Ids(const std::vector<std::string>& lines) {
    std::set<std::string> ids;
    for (const std::string& line : lines) ids.insert(Json::parse(line).at("id").get<std::string>());
    return ids;
  }

  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<store::Store> store_;
  fs::path jobs_;
  TestClock clock_;
  std::unique_ptr<BulkExport> exporter_;
  int fetches_ = 0;
  std::vector<fs::path> extra_folders_;
};

// ---- Round trip ------------------------------------------------------------------------------

TEST_P(BulkExportTest, SystemExportImportsBackToTheSameRecords) {
  Fill(*store_, 60);
  std::string job;
  Json manifest = Run(Spec(ExportJobSpec::Level::kSystem, Everyone()), &job);

  // The manifest (Bulk Data IG, "Response - Complete Status").
  EXPECT_EQ(manifest.at("transactionTime"), "2025-11-23T12:13:20.000Z");
  EXPECT_EQ(manifest.at("request"), "https://fhir.example/r4/$export");
  EXPECT_EQ(manifest.at("requiresAccessToken"), true);
  EXPECT_TRUE(manifest.at("error").is_array() && manifest.at("error").empty());
  std::vector<std::string> types;
  for (const Json& item : manifest.at("output")) types.push_back(item.at("type"));
  EXPECT_EQ(types, (std::vector<std::string>{"Organization", "Patient", "Encounter",
                                             "EpisodeOfCare", "ChargeItem", "Condition",
                                             "Observation", "MedicationRequest"}));

  fs::path folder;
  auto lines = Fetch(manifest, &folder);
  store::TableCounts counts = Value(store_->Counts());
  EXPECT_EQ(static_cast<int64_t>(lines["Patient"].size()), counts.patients);
  EXPECT_EQ(static_cast<int64_t>(lines["Organization"].size()), counts.practices);

  std::unique_ptr<TestDatabase> copy_db;
  auto copy = ImportInto(folder, copy_db);
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(Value(copy->Counts()), counts);
  std::string practices, copied_practices;
  for (const Practice& p : Value(store_->Practices())) practices += Describe(p);
  for (const Practice& p : Value(copy->Practices())) copied_practices += Describe(p);
  EXPECT_EQ(copied_practices, practices);
  int64_t costed = 0;
  for (const auto& [id, key] : Keys(*store_)) {
    EXPECT_EQ(Everything(*copy, id), Everything(*store_, id)) << id;
    for (const Activity& a : Value(store_->ActivitiesForPatient(id))) costed += a.cost_pence > 0;
  }
  EXPECT_GT(costed, 0);
  EXPECT_EQ(static_cast<int64_t>(lines["ChargeItem"].size()), costed);

  // The completion AuditEvent: action E, subtype export, one entity per person exported.
  auto events = Value(store_->SearchAuditEvents({.user_id = kOwner}));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].action, 'E');
  EXPECT_EQ(events[0].subtype, "export");
  EXPECT_EQ(events[0].username, "analyst");
  EXPECT_EQ(events[0].request_id, "req-1");
  EXPECT_EQ(events[0].time_ms, kStart);
  EXPECT_EQ(static_cast<int64_t>(events[0].patient_keys.size()), counts.patients);
}

// A type kept as a document (RelatedPerson) goes out as it was written and `joinedup import`
// brings it back whole, with its person and its search values.
TEST_P(BulkExportTest, DocumentTypesExportAsWrittenAndImportBack) {
  Fill(*store_, 5);
  const std::string patient_id = Keys(*store_).begin()->first;
  const std::string text =
      R"({"resourceType":"RelatedPerson","id":"carer-1","patient":{"reference":"Patient/)" +
      patient_id +
      R"("},"relationship":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-RoleCode","code":"SON"}]}],"name":[{"family":"Okafor","given":["Chidi"]}],"telecom":[{"system":"phone","value":"07700900999"}]})";
  auto read = fhir::ReadDocument(text, fhir::ResolveRelativeReference);
  ASSERT_TRUE(std::holds_alternative<fhir::Document>(read));
  store::ResourceWrite write;
  write.resource_type = "RelatedPerson";
  write.id = "carer-1";
  write.record = store::ResourceJson{text};
  write.json = text;
  write.now_ms = kStart - 1000;
  write.patient_id = std::get<fhir::Document>(read).patient_id;
  write.index = std::get<fhir::Document>(read).index;
  ASSERT_TRUE(store_->PutResource(write).ok());

  Json manifest = Run(Spec(ExportJobSpec::Level::kSystem, Everyone()));
  fs::path folder;
  auto lines = Fetch(manifest, &folder);
  ASSERT_EQ(lines["RelatedPerson"].size(), 1u);
  EXPECT_EQ(Json::parse(lines["RelatedPerson"][0]), Json::parse(text));

  std::unique_ptr<TestDatabase> copy_db;
  auto copy = ImportInto(folder, copy_db);
  ASSERT_NE(copy, nullptr);
  auto found = Value(copy->FindResource("RelatedPerson", "carer-1"));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(Json::parse(std::get<store::ResourceJson>(found->record).json), Json::parse(text));
  EXPECT_EQ(found->patient_key, Keys(*copy).at(patient_id));
  auto request = fhir::search::ParseSearch(
      "RelatedPerson", "relationship=http://terminology.hl7.org/CodeSystem/v3-RoleCode|SON");
  ASSERT_TRUE(std::holds_alternative<fhir::search::SearchRequest>(request));
  auto page = Value(copy->SearchResources(std::get<fhir::search::SearchRequest>(request), nullptr,
                                          Everyone(), true));
  EXPECT_EQ(page.total, 1);

  // Outside the person's visibility it is not exported.
  store::Visibility nobody;
  Json none = Run(Spec(ExportJobSpec::Level::kSystem, nobody));
  for (const Json& item : none.at("output")) EXPECT_NE(item.at("type"), "RelatedPerson");
}

// ---- Visibility -------------------------------------------------------------------------------

TEST_P(BulkExportTest, RelationshipExportsOnlyThatPracticesPeopleAndTheirRecords) {
  Fill(*store_, 60);
  store::Visibility visibility{store::Visibility::Kind::kRelationship, 0, "SYN002", 0};
  Json manifest = Run(Spec(ExportJobSpec::Level::kPatient, visibility));
  fs::path folder;
  auto lines = Fetch(manifest, &folder);

  std::set<std::string> registered;
  ASSERT_TRUE(store_
                  ->ScanPatients([&](const Patient& p) {
                    if (p.practice_id == "SYN002") registered.insert(p.id);
                    return Ok();
                  })
                  .ok());
  ASSERT_FALSE(registered.empty());
  ASSERT_LT(registered.size(), 60u);
  EXPECT_EQ(Ids(lines["Patient"]), registered);
  EXPECT_EQ(Ids(lines["Organization"]), std::set<std::string>{"SYN002"});
  for (const char* type : {"Condition", "Observation", "Encounter", "EpisodeOfCare",
                           "MedicationRequest", "ChargeItem"})
    for (const std::string& line : lines[type]) {
      Json resource = Json::parse(line);
      std::string subject = resource.contains("subject")
                                ? resource.at("subject").at("reference").get<std::string>()
                                : resource.at("patient").at("reference").get<std::string>();
      EXPECT_TRUE(registered.contains(subject.substr(std::string("Patient/").size())))
          << type << " " << line;
    }

  // The subset is complete: it imports on its own and gives those people's records back.
  std::unique_ptr<TestDatabase> copy_db;
  auto copy = ImportInto(folder, copy_db);
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(Value(copy->Counts()).patients, static_cast<int64_t>(registered.size()));
  for (const std::string& id : registered)
    EXPECT_EQ(Everything(*copy, id), Everything(*store_, id));

  auto events = Value(store_->SearchAuditEvents({.user_id = kOwner}));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].patient_keys.size(), registered.size());
}

TEST_P(BulkExportTest, SelfExportsOnlyThatPerson) {
  Fill(*store_, 30);
  auto keys = Keys(*store_);
  const auto& [id, key] = *std::next(keys.begin(), 5);
  store::Visibility visibility{store::Visibility::Kind::kSelf, key, "", 0};
  Json manifest = Run(Spec(ExportJobSpec::Level::kPatient, visibility));
  fs::path folder;
  auto lines = Fetch(manifest, &folder);
  EXPECT_EQ(Ids(lines["Patient"]), std::set<std::string>{id});
  std::unique_ptr<TestDatabase> copy_db;
  auto copy = ImportInto(folder, copy_db);
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(Value(copy->Counts()).patients, 1);
  EXPECT_EQ(Everything(*copy, id), Everything(*store_, id));
}

TEST_P(BulkExportTest, NobodyExportsNoPeople) {
  Fill(*store_, 10);
  Json manifest =
      Run(Spec(ExportJobSpec::Level::kPatient, {store::Visibility::Kind::kNobody, 0, "", 0}));
  EXPECT_TRUE(manifest.at("output").empty()) << manifest.dump();
  auto events = Value(store_->SearchAuditEvents({.user_id = kOwner}));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(events[0].patient_keys.empty());
}

// ---- _type and _since
// ----------------------------------------------------------------------------

TEST_P(BulkExportTest, TypeFilterWritesOnlyThoseTypes) {
  Fill(*store_, 20);
  ExportJobSpec spec = Spec(ExportJobSpec::Level::kSystem, Everyone());
  spec.types = {"Condition", "Patient"};
  Json manifest = Run(spec);
  std::set<std::string> types;
  for (const Json& item : manifest.at("output")) types.insert(item.at("type"));
  EXPECT_EQ(types, (std::set<std::string>{"Patient", "Condition"}));

  spec.types = {"ChargeItem"};  // costs alone: still read from the activities
  manifest = Run(spec);
  ASSERT_EQ(manifest.at("output").size(), 1u);
  EXPECT_EQ(manifest.at("output")[0].at("type"), "ChargeItem");
}

TEST_P(BulkExportTest, TypeThatCannotBeExportedIs400) {
  ExportJobSpec spec = Spec(ExportJobSpec::Level::kSystem, Everyone());
  spec.types = {"Patient", "RiskAssessment"};
  http::HttpResponse response = Exporter().Kickoff(spec);
  EXPECT_EQ(response.status, 400);
  Json outcome = Json::parse(response.body);
  EXPECT_EQ(outcome.at("resourceType"), "OperationOutcome");
  EXPECT_EQ(outcome.at("issue")[0].at("expression")[0], "_type");
  EXPECT_NE(response.body.find("RiskAssessment"), std::string::npos);
  EXPECT_TRUE(!fs::exists(jobs_) || fs::is_empty(jobs_));  // no job was made
}

TEST_P(BulkExportTest, SinceExportsOnlyResourcesUpdatedSinceAndNeverThoseWithoutLastUpdated) {
  Fill(*store_, 20);
  auto keys = Keys(*store_);
  std::string changed_id = std::next(keys.begin(), 3)->first;
  std::string early_id = std::next(keys.begin(), 4)->first;
  auto write = [&](const std::string& id, int64_t now_ms) {
    Patient before = store_->FindPatient(id).value().value();
    Patient after = before;
    after.family_name += "-Changed";
    store::ResourceWrite w;
    w.resource_type = "Patient";
    w.id = id;
    w.record = after;
    ASSERT_TRUE(fhir::AppendPatientJson(after, w.json).ok());
    ASSERT_TRUE(fhir::AppendPatientJson(before, w.baseline_json).ok());
    w.now_ms = now_ms;
    auto meta = store_->PutResource(w);
    ASSERT_TRUE(meta.ok()) << meta.error().ToString();
  };
  write(early_id, kStart - 5000);
  write(changed_id, kStart + 1500);  // not a whole second after _since: checks the ms rule

  ExportJobSpec spec = Spec(ExportJobSpec::Level::kSystem, Everyone());
  spec.since_ms = kStart + 1000;
  Json manifest = Run(spec);
  auto lines = Fetch(manifest, nullptr);
  EXPECT_EQ(Ids(lines["Patient"]), std::set<std::string>{changed_id});
  EXPECT_EQ(lines.size(), 1u) << manifest.dump();  // nothing else has a lastUpdated

  spec.since_ms = kStart + 1501;  // after the write by one millisecond
  manifest = Run(spec);
  EXPECT_TRUE(manifest.at("output").empty()) << manifest.dump();

  spec.since_ms = kStart - 10'000;
  manifest = Run(spec);
  lines = Fetch(manifest, nullptr);
  EXPECT_EQ(Ids(lines["Patient"]), (std::set<std::string>{changed_id, early_id}));

  spec.since_ms.reset();  // no _since: everything, written through the API or not
  manifest = Run(spec);
  lines = Fetch(manifest, nullptr);
  EXPECT_EQ(lines["Patient"].size(), 20u);
}

// ---- Group level -------------------------------------------------------------------------------

TEST_P(BulkExportTest, GroupExportsTheSegmentsVisibleMembersOnly) {
  Fill(*store_, 40);
  auto keys = Keys(*store_);
  StratificationRun run;
  run.index_date = Date::FromYmd(2024, 3, 31);
  run.models.push_back({"test", "1", {"low", "high"}});
  run.people = static_cast<int64_t>(keys.size());
  std::vector<PersonRunResult> results;
  std::set<std::string> high;
  int i = 0;
  for (const auto& [id, key] : keys) {
    PersonRunResult result;
    result.patient_key = key;
    result.segment = {static_cast<int16_t>(i % 3 == 0 ? 1 : 0)};
    result.rule = {-1};
    if (i % 3 == 0) high.insert(id);
    results.push_back(result);
    ++i;
  }
  auto run_id = store_->SaveRun(run, results);
  ASSERT_TRUE(run_id.ok()) << run_id.error().ToString();
  ExportJobSpec spec = Spec(ExportJobSpec::Level::kGroup, Everyone());
  spec.group_id = std::to_string(*run_id) + "-0-1";
  fs::path folder;
  auto lines = Fetch(Run(spec), &folder);
  EXPECT_EQ(Ids(lines["Patient"]), high);
  std::unique_ptr<TestDatabase> copy_db;
  auto copy = ImportInto(folder, copy_db);
  ASSERT_NE(copy, nullptr);
  for (const std::string& id : high) EXPECT_EQ(Everything(*copy, id), Everything(*store_, id));
  EXPECT_EQ(Value(copy->Counts()).patients, static_cast<int64_t>(high.size()));

  // Members the caller may not see stay out.
  std::set<std::string> visible_high;
  for (const std::string& id : high)
    if (store_->FindPatient(id).value()->practice_id == "SYN001") visible_high.insert(id);
  spec.visibility = {store::Visibility::Kind::kRelationship, 0, "SYN001", 0};
  lines = Fetch(Run(spec), nullptr);
  EXPECT_EQ(Ids(lines["Patient"]), visible_high);
}

TEST_P(BulkExportTest, UnknownGroupFails) {
  Fill(*store_, 5);
  ExportJobSpec spec = Spec(ExportJobSpec::Level::kGroup, Everyone());
  spec.group_id = "999-0-0";
  http::HttpResponse kickoff = Exporter().Kickoff(spec);
  ASSERT_EQ(kickoff.status, 202);
  http::HttpResponse done = Wait(Exporter(), JobId(kickoff));
  EXPECT_EQ(done.status, 500);
  EXPECT_EQ(Json::parse(done.body).at("resourceType"), "OperationOutcome");
  EXPECT_NE(done.body.find("Group/999-0-0 is not known"), std::string::npos) << done.body;
  EXPECT_TRUE(Value(store_->SearchAuditEvents({.user_id = kOwner})).empty());
}

TEST_P(BulkExportTest, ServerFailuresAreNotDescribedToTheClient) {
  BulkExportOptions options = Options();
  options.store_url = (jobs_ / "no-such-folder" / "secret-name.db").string();
  BulkExport exporter(options);
  http::HttpResponse kickoff = exporter.Kickoff(Spec(ExportJobSpec::Level::kSystem, Everyone()));
  ASSERT_EQ(kickoff.status, 202);
  std::string job = JobId(kickoff);
  http::HttpResponse done = Wait(exporter, job);
  EXPECT_EQ(done.status, 500);
  EXPECT_NE(done.body.find("try again"), std::string::npos) << done.body;
  EXPECT_EQ(done.body.find("secret-name"), std::string::npos) << done.body;
  // The detail stays in the state file for whoever runs the server.
  auto state = internal::ParseJobState(internal::ReadWholeFile(jobs_ / job / "state.json").value());
  ASSERT_TRUE(state.ok());
  EXPECT_NE(state->detail.find("secret-name"), std::string::npos) << state->detail;
}

// ---- Ownership, deletion, limits, other instances -----------------------------------------------

TEST_P(BulkExportTest, AnotherUserCannotPollFetchOrDelete) {
  Fill(*store_, 10);
  std::string job;
  Json manifest = Run(Spec(ExportJobSpec::Level::kSystem, Everyone()), &job);
  EXPECT_EQ(Exporter().Poll(job, kStranger).status, 404);
  EXPECT_EQ(Exporter().File(job, "Patient.ndjson", kStranger).status, 404);
  EXPECT_EQ(Exporter().Cancel(job, kStranger).status, 404);
  EXPECT_EQ(Exporter().Poll(job, kOwner).status, 200);  // still there for its owner
  EXPECT_EQ(Exporter().File(job, "Patient.ndjson", kOwner).status, 200);
}

// Security review rule 5: what an export writes is the server user's alone, and it expires.
TEST_P(BulkExportTest, FilesAreTheServerUsersAloneAndExpire) {
  Fill(*store_, 10);
  std::string job;
  Run(Spec(ExportJobSpec::Level::kSystem, Everyone()), &job);
  EXPECT_EQ(fs::status(jobs_ / job).permissions(), fs::perms::owner_all);
  int files = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(jobs_ / job)) {
    EXPECT_EQ(entry.status().permissions(), fs::perms::owner_read | fs::perms::owner_write)
        << entry.path();
    ++files;
  }
  EXPECT_GT(files, 2);
  // Not yet: a minute short of 24 hours after it ended.
  clock_.now += 24LL * 60 * 60 * 1000 - 60 * 1000;
  EXPECT_EQ(Exporter().SweepExpired(), 0);
  EXPECT_EQ(Exporter().File(job, "Patient.ndjson", kOwner).status, 200);
  // Then gone, files and all, for a poll as for the sweep.
  clock_.now += 2 * 60 * 1000;
  EXPECT_EQ(Exporter().Poll(job, kOwner).status, 404);
  EXPECT_FALSE(fs::exists(jobs_ / job));
  std::string second;
  Run(Spec(ExportJobSpec::Level::kSystem, Everyone()), &second);
  clock_.now += 25LL * 60 * 60 * 1000;
  EXPECT_EQ(Exporter().SweepExpired(), 1);
  EXPECT_TRUE(fs::is_empty(jobs_)) << "files left behind";
}

// A download is decided line by line on the person each line is about: the filter leaves
// people out and the answer names everyone it served.
TEST_P(BulkExportTest, AFileIsServedOnlyWithThePeopleTheFilterAllows) {
  Fill(*store_, 12);
  std::string job;
  Run(Spec(ExportJobSpec::Level::kSystem, Everyone()), &job);
  auto keys = Keys(*store_);
  const auto& [kept_id, kept_key] = *keys.begin();
  std::vector<int64_t> people;
  std::set<std::string> types_asked;
  http::HttpResponse file = Exporter().File(
      job, "Patient.ndjson", kOwner,
      [&](std::string_view type, int64_t key) -> Result<bool> {
        types_asked.insert(std::string(type));
        return key == kept_key;
      },
      &people);
  ASSERT_EQ(file.status, 200);
  std::istringstream in(file.body);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  EXPECT_EQ(Ids(lines), std::set<std::string>{kept_id});
  EXPECT_EQ(people, std::vector<int64_t>{kept_key});
  EXPECT_EQ(types_asked, std::set<std::string>{"Patient"});
  // Lines about no one (the directory) always go.
  http::HttpResponse organisations = Exporter().File(
      job, "Organization.ndjson", kOwner, [](std::string_view, int64_t) -> Result<bool> {
        return false;
      });
  ASSERT_EQ(organisations.status, 200);
  EXPECT_FALSE(organisations.body.empty());
  // A failing decision fails the download, sending nothing.
  http::HttpResponse failed = Exporter().File(
      job, "Patient.ndjson", kOwner,
      [](std::string_view, int64_t) -> Result<bool> { return Error::Unavailable("down"); });
  EXPECT_EQ(failed.status, 500);
  EXPECT_EQ(failed.body.find("\"resourceType\":\"Patient\""), std::string::npos);
}

TEST_P(BulkExportTest, UnknownJobsAndFilesAre404) {
  Fill(*store_, 5);
  std::string job;
  Run(Spec(ExportJobSpec::Level::kSystem, Everyone()), &job);
  for (std::string_view bad : {"", "..", "../../etc", "0123456789abcdef0123456789abcdeg",
                               "0123456789abcdef0123456789abcdef"})
    EXPECT_EQ(Exporter().Poll(bad, kOwner).status, 404) << bad;
  for (std::string_view name :
       {"state.json", "../state.json", "Patient.ndjson/..", "RiskAssessment.ndjson", ""})
    EXPECT_EQ(Exporter().File(job, name, kOwner).status, 404) << name;
}

TEST_P(BulkExportTest, DeleteRemovesTheJobAndItsFiles) {
  Fill(*store_, 10);
  std::string job;
  Run(Spec(ExportJobSpec::Level::kSystem, Everyone()), &job);
  ASSERT_TRUE(fs::exists(jobs_ / job / "Patient.ndjson"));
  http::HttpResponse deleted = Exporter().Cancel(job, kOwner);
  EXPECT_EQ(deleted.status, 202);
  EXPECT_EQ(Exporter().Poll(job, kOwner).status, 404);
  EXPECT_EQ(Exporter().File(job, "Patient.ndjson", kOwner).status, 404);
  EXPECT_EQ(Exporter().Cancel(job, kOwner).status, 404);
  EXPECT_TRUE(fs::is_empty(jobs_)) << "files left behind";
}

// Exports held running: each worker waits before every page until the test releases it or
// the job is stopped, so "still running" never depends on how fast the machine is.
class BulkExportHeldTest : public BulkExportTest {
 protected:
  void SetUp() override {
    BulkExportTest::SetUp();
    Fill(*store_, 30, 5);
    options_ = Options(1);
    options_.before_page = [this](const std::function<bool()>& stopping) {
      std::unique_lock lock(gate_mutex_);
      while (!released_ && !stopping()) gate_.wait_for(lock, std::chrono::milliseconds(5));
    };
  }
  void Release() {
    {
      std::lock_guard lock(gate_mutex_);
      released_ = true;
    }
    gate_.notify_all();
  }
  std::mutex gate_mutex_;
  std::condition_variable gate_;
  bool released_ = false;
  BulkExportOptions options_;
};

// Completion audits with people in them.
int64_t AuditedExports(const std::string& url) {
  int64_t n = 0;
  for (const auto& event : Value(Open(url)->SearchAuditEvents({.user_id = kOwner})))
    n += !event.patient_keys.empty();
  return n;
}

TEST_P(BulkExportHeldTest, DeleteStopsARunningExport) {
  const int64_t audited_before = AuditedExports(db_->url());
  BulkExport exporter(options_);
  http::HttpResponse kickoff = exporter.Kickoff(Spec(ExportJobSpec::Level::kSystem, Everyone()));
  ASSERT_EQ(kickoff.status, 202);
  std::string job = JobId(kickoff);
  http::HttpResponse poll = exporter.Poll(job, kOwner);
  ASSERT_EQ(poll.status, 202);
  EXPECT_EQ(exporter.Cancel(job, kOwner).status, 202);
  EXPECT_EQ(exporter.Poll(job, kOwner).status, 404);
  Release();  // let the next job run; the deleted one is already stopping
  // The worker stops and frees its slot, writing nothing more.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  http::HttpResponse next;
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    next = exporter.Kickoff(
        Spec(ExportJobSpec::Level::kPatient, {store::Visibility::Kind::kNobody, 0, "", 0}));
  } while (next.status == 429 && std::chrono::steady_clock::now() < deadline);
  ASSERT_EQ(next.status, 202);
  EXPECT_EQ(Wait(exporter, JobId(next)).status, 200);
  for (const auto& entry : fs::directory_iterator(jobs_))
    EXPECT_EQ(entry.path().filename().string(), JobId(next)) << "left behind: " << entry.path();
  // No completion audit for the deleted export.
  EXPECT_EQ(AuditedExports(db_->url()), audited_before);
}

TEST_P(BulkExportHeldTest, KickoffBeyondTheConcurrentLimitIs429) {
  BulkExport exporter(options_);
  http::HttpResponse first = exporter.Kickoff(Spec(ExportJobSpec::Level::kSystem, Everyone()));
  ASSERT_EQ(first.status, 202);
  http::HttpResponse second = exporter.Kickoff(Spec(ExportJobSpec::Level::kSystem, Everyone()));
  ASSERT_EQ(exporter.Poll(JobId(first), kOwner).status, 202);
  EXPECT_EQ(second.status, 429);
  EXPECT_FALSE(Header(second, "Retry-After").empty());
  EXPECT_EQ(Json::parse(second.body).at("issue")[0].at("code"), "throttled");
  Release();
  EXPECT_EQ(Wait(exporter, JobId(first)).status, 200);
  // The slot is free again once the first is done.
  http::HttpResponse third = exporter.Kickoff(Spec(ExportJobSpec::Level::kSystem, Everyone()));
  EXPECT_EQ(third.status, 202);
  EXPECT_EQ(Wait(exporter, JobId(third)).status, 200);
}

TEST_P(BulkExportHeldTest, ShutdownLeavesARunningJobCancelled) {
  std::string job;
  {
    BulkExport exporter(options_);
    http::HttpResponse kickoff = exporter.Kickoff(Spec(ExportJobSpec::Level::kSystem, Everyone()));
    ASSERT_EQ(kickoff.status, 202);
    job = JobId(kickoff);
    ASSERT_EQ(exporter.Poll(job, kOwner).status, 202);
  }
  BulkExport later(options_);
  http::HttpResponse poll = later.Poll(job, kOwner);
  EXPECT_EQ(poll.status, 500);
  EXPECT_NE(poll.body.find("stopped"), std::string::npos) << poll.body;
  for (const auto& entry : fs::directory_iterator(jobs_ / job))
    EXPECT_EQ(entry.path().filename(), "state.json") << "partial file left: " << entry.path();
}

TEST_P(BulkExportTest, SecondInstanceOnTheSameDirectoryAnswersForTheJob) {
  Fill(*store_, 10);
  std::string job;
  Json manifest = Run(Spec(ExportJobSpec::Level::kSystem, Everyone()), &job);
  BulkExport other(Options());
  http::HttpResponse poll = other.Poll(job, kOwner);
  ASSERT_EQ(poll.status, 200);
  EXPECT_EQ(Json::parse(poll.body), manifest);
  EXPECT_EQ(other.File(job, "Patient.ndjson", kOwner).body,
            Exporter().File(job, "Patient.ndjson", kOwner).body);
  EXPECT_EQ(other.Poll(job, kStranger).status, 404);
  EXPECT_EQ(other.Cancel(job, kOwner).status, 202);
  EXPECT_EQ(Exporter().Poll(job, kOwner).status, 404);
}

TEST_P(BulkExportTest, RunningJobWhoseProcessEndedIsReportedFailed) {
  // A state left "running" by a process that is gone: no worker here, no update for 10 minutes.
  internal::JobState state;
  state.id = internal::NewJobId();
  state.spec = Spec(ExportJobSpec::Level::kSystem, Everyone());
  state.transaction_time_ms = kStart;
  state.updated_ms = kStart;
  state.progress = "12 resources written";
  fs::create_directories(jobs_ / state.id);
  ASSERT_TRUE(
      internal::WriteFileAtomically(jobs_ / state.id / "state.json", internal::JobStateJson(state))
          .ok());
  http::HttpResponse poll = Exporter().Poll(state.id, kOwner);
  EXPECT_EQ(poll.status, 202);
  EXPECT_EQ(Header(poll, "X-Progress"), "12 resources written");
  clock_.now = kStart + 11 * 60 * 1000;
  EXPECT_EQ(Exporter().Poll(state.id, kOwner).status, 500);
}

INSTANTIATE_TEST_SUITE_P(Backends, BulkExportTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const auto& info) { return store::testing::BackendName(info.param); });
INSTANTIATE_TEST_SUITE_P(Backends, BulkExportHeldTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const auto& info) { return store::testing::BackendName(info.param); });

// ---- The state file --------------------------------------------------------------------------

TEST(JobStateTest, RoundTripsEveryField) {
  internal::JobState state;
  state.id = internal::NewJobId();
  state.status = internal::JobStatus::kCompleted;
  state.transaction_time_ms = 1;
  state.updated_ms = 2;
  state.progress = "p";
  state.error = "e \"quoted\"\n";
  state.detail = "unavailable: d";
  state.spec.level = ExportJobSpec::Level::kGroup;
  state.spec.group_id = "3-0-1";
  state.spec.types = {"Patient", "Condition"};
  state.spec.since_ms = -5;
  state.spec.visibility = {store::Visibility::Kind::kRelationship, 4, "SYN001", 9};
  state.spec.user_id = 9;
  state.spec.actor.username = "Zoë";
  state.spec.actor.role = "gp";
  state.spec.actor.organisation_id = "SYN001";
  state.spec.actor.request_id = "r";
  state.spec.actor.source_address = "::1";
  state.spec.request_url = "https://x/$export?_type=Patient";
  state.output = {{"Patient", "Patient.ndjson", 3}, {"Patient", "Patient-2.ndjson", 1}};
  auto parsed = internal::ParseJobState(internal::JobStateJson(state));
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(internal::JobStateJson(*parsed), internal::JobStateJson(state));
  EXPECT_EQ(parsed->spec.since_ms, -5);
  EXPECT_EQ(parsed->spec.visibility.organisation_id, "SYN001");
  EXPECT_EQ(parsed->output, state.output);

  EXPECT_FALSE(internal::ParseJobState("{").ok());
  EXPECT_FALSE(internal::ParseJobState("{\"id\": 3}").ok());
}

TEST(JobStateTest, IdsAndInstants) {
  std::string a = internal::NewJobId(), b = internal::NewJobId();
  EXPECT_TRUE(internal::IsValidJobId(a));
  EXPECT_NE(a, b);
  EXPECT_FALSE(internal::IsValidJobId(a.substr(1)));
  EXPECT_FALSE(internal::IsValidJobId("0123456789ABCDEF0123456789abcdef"));
  EXPECT_EQ(internal::FormatInstant(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(internal::FormatInstant(kStart + 45), "2025-11-23T12:13:20.045Z");
  EXPECT_EQ(internal::FormatInstant(-1), "1969-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace joinedup::exporter
