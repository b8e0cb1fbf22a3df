// The records service (records/records.h) called directly, as the web application's API will
// call it: each operation is decided and audited exactly once; a hidden record is refused
// exactly as a missing one; a role without the right is refused before anything is read. On
// SQLite and PostgreSQL, with the shared test population (api_test_support.h).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api_test_support.h"
#include "fhir/search/search_params.h"
#include "records/records.h"
#include "store/store.h"

namespace joinedup::api::testing {
namespace {

using json = nlohmann::json;
using records::Operation;
using records::Records;
using store::AuditOutcome;

class RecordsServiceTest : public PopulatedApiTest {
 protected:
  Records As(std::string_view who, std::string break_glass_reason = {}) {
    Principal p = PrincipalOf(api_->store(), who);
    records::Requester r;
    r.caller = p.caller;
    r.caller.break_glass_reason = std::move(break_glass_reason);
    r.actor.user_id = p.caller.user_id;
    r.actor.username = p.username;
    r.actor.role = std::string(who);
    r.actor.request_id = "req-records-test";
    r.actor.source_address = "192.0.2.1";
    return Records(api_->store(), std::move(r), [] { return kNowMs; });
  }

  std::vector<store::AuditEvent> Events() {
    auto events = api_->store().SearchAuditEvents({.limit = 10000});
    EXPECT_TRUE(events.ok());
    return events.ok() ? *events : std::vector<store::AuditEvent>{};
  }

  // The events `action` adds to the audit trail.
  template <typename F>
  std::vector<store::AuditEvent> EventsOf(F&& action) {
    const size_t before = Events().size();
    action();
    std::vector<store::AuditEvent> after = Events();
    return {after.begin() + static_cast<std::ptrdiff_t>(before), after.end()};
  }

  int64_t Key(const std::string& pid) { return api_->population().patient_keys.at(pid); }

  static resources::SearchRequest Parse(std::string_view type, std::string_view query) {
    auto parsed = fhir::search::ParseSearch(type, query);
    EXPECT_TRUE(std::holds_alternative<resources::SearchRequest>(parsed)) << query;
    return std::get<resources::SearchRequest>(parsed);
  }
};

TEST_P(RecordsServiceTest, EachOperationIsAuditedOnceAgainstThePerson) {
  Records gp = As("gp");
  auto events = EventsOf([&] {
    auto read = gp.Read("Condition", "c-p1");
    ASSERT_TRUE(read.ok()) << read.error().ToString();
    EXPECT_EQ(read->patient_key, Key("p1"));
    EXPECT_EQ(json::parse(read->json)["subject"]["reference"], "Patient/p1");
  });
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].subtype, "read");
  EXPECT_EQ(events[0].action, 'R');
  EXPECT_EQ(events[0].outcome, AuditOutcome::kSuccess);
  EXPECT_EQ(events[0].patient_keys, std::vector<int64_t>{Key("p1")});
  EXPECT_EQ(events[0].username, "gp");
  EXPECT_EQ(events[0].request_id, "req-records-test");

  events = EventsOf([&] { ASSERT_TRUE(gp.History("Patient", "p1").ok()); });
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].subtype, "history-instance");

  events = EventsOf([&] { ASSERT_TRUE(gp.Vread("Patient", "p1", "1").ok()); });
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].subtype, "vread");

  // A search names everyone it returned (p1 own practice, p2 care team; p3 and p4 hidden).
  events = EventsOf([&] {
    auto page = gp.Search(Parse("Patient", ""), {.query = "Patient?"});
    ASSERT_TRUE(page.ok()) << page.error().ToString();
    std::vector<std::string> ids;
    for (const records::Record& r : page->matches) ids.push_back(r.id);
    EXPECT_EQ(ids, (std::vector<std::string>{"p1", "p2"}));
  });
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].subtype, "search");
  EXPECT_EQ(events[0].query, "Patient?");
  EXPECT_EQ(events[0].patient_keys, (std::vector<int64_t>{Key("p1"), Key("p2")}));

  // A write: one event, and what it returns is what a read then gives.
  const std::string body =
      R"({"resourceType":"Condition","id":"c-p1","clinicalStatus":{"coding":[{"system":)"
      R"("http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},)"
      R"("code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006"}]},)"
      R"("subject":{"reference":"Patient/p1"},"onsetDateTime":"2020-01-02",)"
      R"("note":[{"text":"reviewed at the MDT"}]})";
  std::optional<records::Written> written;
  events = EventsOf([&] {
    auto w = gp.Update("Condition", "c-p1", body, std::nullopt);
    ASSERT_TRUE(w.ok()) << w.error().ToString();
    written = std::move(*w);
  });
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].subtype, "update");
  EXPECT_EQ(events[0].action, 'U');
  EXPECT_EQ(events[0].patient_keys, std::vector<int64_t>{Key("p1")});
  ASSERT_TRUE(written);
  EXPECT_FALSE(written->created);
  EXPECT_EQ(written->record.meta.version_id, 2);
  auto again = gp.Read("Condition", "c-p1");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(json::parse(again->json), json::parse(written->record.json));
  EXPECT_EQ(json::parse(again->json)["note"][0]["text"], "reviewed at the MDT");
}

TEST_P(RecordsServiceTest, AHiddenRecordIsRefusedExactlyAsAMissingOne) {
  Records gp = As("gp");
  // p4 is at another practice and on no care team: hidden from this GP.
  auto hidden_events = EventsOf([&] {
    auto hidden = gp.Read("Condition", "c-p4");
    auto missing = gp.Read("Condition", "c-nobody");
    ASSERT_FALSE(hidden.ok());
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(hidden.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(hidden.error().message, "Condition/c-p4 is not known");
    EXPECT_EQ(missing.error().message, "Condition/c-nobody is not known");
    EXPECT_EQ(hidden.error().field, missing.error().field);
  });
  // Both refusals are audited; only the audit trail tells them apart.
  ASSERT_EQ(hidden_events.size(), 2u);
  EXPECT_EQ(hidden_events[0].outcome, AuditOutcome::kSeriousFailure);
  EXPECT_EQ(hidden_events[0].patient_keys, std::vector<int64_t>{Key("p4")});
  EXPECT_EQ(hidden_events[1].outcome, AuditOutcome::kMinorFailure);
  EXPECT_TRUE(hidden_events[1].patient_keys.empty());

  // Vread and history of the hidden record refuse alike.
  EXPECT_EQ(gp.Vread("Condition", "c-p4", "1").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(gp.History("Condition", "c-p4").error().code, ErrorCode::kNotFound);

  // A write about a hidden person is refused as one about an unknown person.
  const std::string about = R"({"resourceType":"Condition","code":{"coding":[{"system":)"
                            R"("http://snomed.info/sct","code":"44054006"}]},)"
                            R"("onsetDateTime":"2020-01-02","subject":{"reference":"Patient/)";
  auto to_hidden = gp.Create("Condition", about + R"(p4"}})");
  auto to_missing = gp.Create("Condition", about + R"(nobody"}})");
  ASSERT_FALSE(to_hidden.ok());
  ASSERT_FALSE(to_missing.ok());
  EXPECT_EQ(to_hidden.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(to_hidden.error().message, "Patient/p4 is not known");
  EXPECT_EQ(to_missing.error().message, "Patient/nobody is not known");
  EXPECT_EQ(to_hidden.error().field, to_missing.error().field);
}

TEST_P(RecordsServiceTest, ARoleWithoutTheRightIsRefusedBeforeAnythingIsRead) {
  Records commissioner = As("commissioner");
  auto events = EventsOf([&] {
    Status permitted = commissioner.Permit(Operation::kRead, "Patient");
    ASSERT_FALSE(permitted.ok());
    EXPECT_EQ(permitted.error().code, ErrorCode::kForbidden);
    auto read = commissioner.Read("Patient", "p1");
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.error().code, ErrorCode::kForbidden);
    // The same answer for a person who does not exist: a role refusal says nothing about anyone.
    EXPECT_EQ(commissioner.Read("Patient", "nobody").error().message, read.error().message);
  });
  ASSERT_EQ(events.size(), 3u);
  for (const store::AuditEvent& e : events) {
    EXPECT_EQ(e.outcome, AuditOutcome::kSeriousFailure);
    EXPECT_TRUE(e.patient_keys.empty());
  }
  // The directory is not about people: refused or not, nothing is audited.
  auto directory = EventsOf([&] { ASSERT_TRUE(commissioner.Read("Organization", "A81001").ok()); });
  EXPECT_TRUE(directory.empty());
}

TEST_P(RecordsServiceTest, BreakingTheGlassIsFlaggedAndAlertsThePrivacyOfficer) {
  Records gp = As("gp", "patient collapsed in clinic");
  auto events = EventsOf([&] { ASSERT_TRUE(gp.Read("Patient", "p4").ok()); });
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].subtype, "read");
  EXPECT_EQ(events[0].break_glass_reason, "patient collapsed in clinic");
  EXPECT_EQ(events[1].subtype, "break-glass-alert");
  EXPECT_EQ(events[1].patient_keys, std::vector<int64_t>{Key("p4")});
}

// References stay within the person: a Condition of p1 recorded in p2's encounter is refused
// exactly as one recorded in an encounter that does not exist, and nothing is written.
TEST_P(RecordsServiceTest, AReferenceToAnotherPersonsEncounterIsRefusedAsAnUnknownOne) {
  Records gp = As("gp");
  auto condition = [](std::string_view encounter) {
    return std::string(R"({"resourceType":"Condition","code":{"coding":[{"system":)"
                       R"("http://snomed.info/sct","code":"44054006"}]},)"
                       R"("onsetDateTime":"2020-01-02","subject":{"reference":"Patient/p1"},)"
                       R"("encounter":{"reference":"Encounter/)") +
           std::string(encounter) + R"("}})";
  };
  auto before = gp.Search(Parse("Condition", "patient=p1"), {.want_total = true});
  ASSERT_TRUE(before.ok());
  auto other = gp.Create("Condition", condition("e-p2"));
  auto missing = gp.Create("Condition", condition("e-nobody"));
  ASSERT_FALSE(other.ok());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(other.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(other.error().message, "Encounter/e-p2 is not known");
  EXPECT_EQ(missing.error().message, "Encounter/e-nobody is not known");
  EXPECT_EQ(other.error().field, "encounter.reference");
  EXPECT_EQ(missing.error().field, "encounter.reference");
  auto after = gp.Search(Parse("Condition", "patient=p1"), {.want_total = true});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->total, before->total);
  // The person's own encounter is accepted.
  auto own = gp.Create("Condition", condition("e-p1"));
  EXPECT_TRUE(own.ok()) << own.error().ToString();
}

// History is decided version by version: a record moved from p2 to p1 shows p1's patient
// account only the version about p1; the earlier version is refused as a missing one.
TEST_P(RecordsServiceTest, EachVersionIsDecidedOnThePersonItWasAbout) {
  Records gp = As("gp");
  auto original = gp.Read("Condition", "c-p2");
  ASSERT_TRUE(original.ok());
  json moved = json::parse(original->json);
  moved["subject"]["reference"] = "Patient/p1";
  auto written = gp.Update("Condition", "c-p2", moved.dump(), std::nullopt);
  ASSERT_TRUE(written.ok()) << written.error().ToString();
  ASSERT_EQ(written->record.meta.version_id, 2);

  // The GP sees both people, so both versions.
  auto all = gp.History("Condition", "c-p2");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);

  Records patient = As("patient");  // p1's own account
  auto history = patient.History("Condition", "c-p2");
  ASSERT_TRUE(history.ok()) << history.error().ToString();
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].meta.version_id, 2);
  auto events = EventsOf([&] {
    auto first = patient.Vread("Condition", "c-p2", "1");
    auto never = patient.Vread("Condition", "c-p2", "9");
    ASSERT_FALSE(first.ok());
    ASSERT_FALSE(never.ok());
    EXPECT_EQ(first.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(first.error().message, "Condition/c-p2/_history/1 is not known");
    EXPECT_EQ(never.error().message, "Condition/c-p2/_history/9 is not known");
  });
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].outcome, AuditOutcome::kSeriousFailure);
  EXPECT_EQ(events[1].outcome, AuditOutcome::kMinorFailure);
  EXPECT_TRUE(patient.Vread("Condition", "c-p2", "2").ok());
}

// A new person whose NHS number is already held — here by p4, whom this GP may not see — is
// refused without the database's words, the column, or anything of the person who holds it.
TEST_P(RecordsServiceTest, ADuplicateNhsNumberIsRefusedWithoutTheDatabasesText) {
  const std::string held = store::testing::TestNhsNumber(4).digits();
  HttpResponse own = Call("gp", "GET", "/Patient/p1");
  ASSERT_EQ(own.status, 200) << own.body;
  json body = json::parse(own.body);
  body.erase("id");
  body.erase("meta");
  bool replaced = false;
  for (json& identifier : body["identifier"])
    if (identifier["system"] == "https://fhir.nhs.uk/Id/nhs-number") {
      identifier["value"] = held;
      replaced = true;
    }
  ASSERT_TRUE(replaced) << own.body;
  const HttpResponse r = Call("gp", "POST", "/Patient", body.dump());
  EXPECT_EQ(r.status, 409) << r.body;
  for (std::string_view leak : {"UNIQUE", "unique", "nhs_number", "sqlite", "postgresql",
                                "DETAIL", "Key (", "patients", "Smith4"})
    EXPECT_EQ(r.body.find(leak), std::string::npos) << leak << " in " << r.body;
  EXPECT_EQ(r.body.find(held), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("the change clashes with a record already stored"), std::string::npos)
      << r.body;
}

INSTANTIATE_TEST_SUITE_P(Backends, RecordsServiceTest,
                         ::testing::Values(store::testing::Backend::kSqlite,
                                           store::testing::Backend::kPostgres),
                         [](const auto& info) { return store::testing::BackendName(info.param); });

}  // namespace
}  // namespace joinedup::api::testing
