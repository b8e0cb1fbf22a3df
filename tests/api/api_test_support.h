// A small population for the FHIR API tests: two practices, four people with one record of each
// clinical type, a care team, consents, a stratification run, and one user per role. Who can see
// whom (security/policy.h):
//   every staff user works at practice A81001 and is on care team T1;
//   p1 is registered at A81001                     → "own practice"
//   p2 is at B82002, on T1, consent permit         → "care team"
//   p3 is at B82002, on T1, declined sharing       → "consent withdrawn" (hidden from the team)
//   p4 is at B82002, on no team                    → "other practice" (hidden; break-glass)
//   the patient account is p1                      → "patient self" (p1) / "patient other" (p2)
// Everyone has one Consent: p1 and p4 permit (they change nobody's view), p2 and p3 as above.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/fhir_api.h"
#include "core/result.h"
#include "export/bulk_export.h"
#include "http/message.h"
#include "store/store.h"
#include "store_test_support.h"
#include "webapp/app_api.h"

namespace joinedup::api::testing {

inline constexpr std::string_view kBaseUrl = "https://fhir.example.org/fhir";
inline constexpr int64_t kNowMs = 1'790'000'000'000;  // 2026-09-21

struct Population {
  std::map<std::string, int64_t> patient_keys;  // "p1" → key
  std::map<std::string, int64_t> user_ids;      // username (= role name) → id
  std::map<std::string, int64_t> consent_ids;   // "p1" → the id of their one Consent
  int64_t run_id = 0;
};

// Writes RelatedPerson `id`, Jane <family>, daughter and next of kin of `patient_id`, through
// the store as the API would (its index read by fhir::ReadDocument).
Status AddRelatedPerson(store::Store& store, const std::string& id, const std::string& patient_id,
                        const std::string& family, int64_t now_ms);

// Writes a resource of a document type (fhir/document.h) through the store as the API would.
Status AddDocument(store::Store& store, const std::string& json, int64_t now_ms);

// Writes person `pid`'s case-management records, each id suffixed by the person: Goal g-<pid>
// in their words, CarePlan cp-<pid> with that goal and Task t-<pid> (an occupational-therapy
// visit owned by Practitioner/pr1, due 2026-05-01T16:00Z), Flag f-<pid> (active) and
// QuestionnaireResponse qr-<pid>.
Status AddCarePlanRecords(store::Store& store, const std::string& pid, int64_t now_ms);

// Adds the population above (with one RelatedPerson each, rp-p1 … rp-p4, and the records of
// AddCarePlanRecords) to an empty store, and Questionnaire/holistic-assessment.
Result<Population> Populate(store::Store& store);

// The principal of a user of the population (username = the role's name, e.g. "gp",
// "case-manager", "patient"), with every scope of its context so the role matrix decides.
Principal PrincipalOf(store::Store& store, std::string_view username);

// A 32-byte cursor key for tests.
std::string TestCursorKey();
FhirApiOptions TestOptions();
// An exporter's options for tests: jobs in `directory`, the store at `store_url`, the test
// base URL and clock.
exporter::BulkExportOptions TestExportOptions(const std::string& directory,
                                              const std::string& store_url);

// "GET", "/Patient?_id=p1" → request with path and query split; JSON content type for bodies.
HttpRequest Request(std::string_view method, std::string_view target, std::string body = {},
                    std::vector<std::pair<std::string, std::string>> headers = {});

// The population above in a fresh database of `backend`, and the FHIR API (TestOptions) to call
// on it as one of its users. Create returns nullptr and sets `skip_reason` where the backend
// is not configured (PostgreSQL outside ctest); a failure to populate is a test failure.
class PopulatedApi {
 public:
  static std::unique_ptr<PopulatedApi> Create(store::testing::Backend backend,
                                              std::string& skip_reason);
  // `who`: a username of the population ("gp", "patient", …), or "" for no principal.
  HttpResponse Call(std::string_view who, std::string_view method, std::string_view target,
                    std::string body = {},
                    std::vector<std::pair<std::string, std::string>> headers = {});
  store::Store& store() { return *store_; }
  const Population& population() const { return population_; }

 private:
  PopulatedApi() = default;
  std::unique_ptr<store::testing::TestDatabase> db_;
  std::unique_ptr<store::Store> store_;
  Population population_;
  FhirApi api_{TestOptions()};
};

// A test over both backends with the population and its API (PopulatedApi): skipped where the
// backend is not configured.
class PopulatedApiTest : public ::testing::TestWithParam<store::testing::Backend> {
 protected:
  void SetUp() override;
  HttpResponse Call(std::string_view who, std::string_view method, std::string_view target,
                    std::string body = {},
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
    return api_->Call(who, method, target, std::move(body), std::move(headers));
  }
  std::unique_ptr<PopulatedApi> api_;
};

// The response body as a JSON object (a test failure if it is not one).
nlohmann::json BodyOf(const HttpResponse& response);
// The audit trail's events with this subtype, oldest first.
std::vector<store::AuditEvent> AuditEventsOf(store::Store& store, std::string_view subtype);
// Adds an account with a placeholder password hash and, given a care team, makes it a member;
// its id (a test failure if the store refuses it).
int64_t AddTestUser(store::Store& store, const std::string& username,
                    const std::string& display_name, const std::string& organisation,
                    store::Role role, int64_t care_team = 0,
                    std::optional<int64_t> patient_key = std::nullopt);

// The web application's API (webapp/app_api.h) over the population in a fresh SQLite store, the
// clock at kNowMs (app_api_test, admin_api_test).
class AppApiTestBase : public ::testing::Test {
 protected:
  void SetUp() override;
  // The response body as a JSON object (a test failure if it is not one).
  static nlohmann::json Body(const HttpResponse& response);
  // The audit trail's events with this subtype, oldest first.
  std::vector<store::AuditEvent> Events(std::string_view subtype);

  std::unique_ptr<store::testing::TestDatabase> db_;
  std::unique_ptr<store::Store> store_;
  Population population_;
  std::unique_ptr<webapp::AppApi> api_;
};

// A response header's value, "" if absent.
std::string HeaderOf(const HttpResponse& response, std::string_view name);

// A temporary directory removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace joinedup::api::testing
