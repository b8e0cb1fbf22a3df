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
  Records As(std::string_view who, std::string break_glass_reason = {},
             records::Settings settings = {}) {
    Principal p = PrincipalOf(api_->store(), who);
    records::Requester r;
    r.caller = p.caller;
    r.caller.break_glass_reason = std::move(break_glass_reason);
    r.actor.user_id = p.caller.user_id;
    r.actor.username = p.username;
    r.actor.role = std::string(who);
    r.actor.request_id = "req-records-test";
    r.actor.source_address = "192.0.2.1";
    return Records(
        api_->store(), std::move(r), [] { return kNowMs; }, settings);
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
  Records gp = As("gp", "emergency: patient collapsed in clinic");
  auto events = EventsOf([&] { ASSERT_TRUE(gp.Read("Patient", "p4").ok()); });
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].subtype, "read");
  EXPECT_EQ(events[0].break_glass_reason, "emergency: patient collapsed in clinic");
  EXPECT_EQ(events[1].subtype, "break-glass-alert");
  EXPECT_EQ(events[1].patient_keys, std::vector<int64_t>{Key("p4")});
}

// Security review rule 8: every attempt is audited with its reason — on a record that does not
// exist too —, and overriding a person's refusal to share raises its own alert.
TEST_P(RecordsServiceTest, EveryBreakGlassAttemptIsAuditedWithItsReason) {
  const std::string reason = "emergency: unconscious in A&E, no history available";
  Records gp = As("gp", reason);
  auto events = EventsOf([&] {
    auto missing = gp.Read("Patient", "p9");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  });
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].outcome, AuditOutcome::kMinorFailure);
  EXPECT_EQ(events[0].break_glass_reason, reason);

  // p3 declined sharing beyond their practice: reading them is a "dissent override".
  events = EventsOf([&] { ASSERT_TRUE(gp.Read("Condition", "c-p3").ok()); });
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].break_glass_reason, reason);
  EXPECT_EQ(events[1].subtype, "consent-override-alert");
  EXPECT_EQ(events[1].patient_keys, std::vector<int64_t>{Key("p3")});
}

// A role that may not break the glass is refused as if the record did not exist — for an
// existing person and a missing one alike — and the privacy officer is alerted.
TEST_P(RecordsServiceTest, ARoleThatMayNotBreakTheGlassIsRefusedAndReported) {
  const std::string reason = "safeguarding: neighbour reports the person has not been seen";
  for (std::string_view role : {"social-worker", "care-assistant", "link-worker"}) {
    SCOPED_TRACE(role);
    Records who = As(role, reason);
    std::string hidden_message;
    auto events = EventsOf([&] {
      auto hidden = who.Read("Patient", "p4");
      ASSERT_FALSE(hidden.ok());
      EXPECT_EQ(hidden.error().code, ErrorCode::kNotFound);
      hidden_message = hidden.error().message;
    });
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].outcome, AuditOutcome::kSeriousFailure);
    EXPECT_EQ(events[0].break_glass_reason, reason);
    EXPECT_EQ(events[1].subtype, "break-glass-refused-alert");
    EXPECT_EQ(events[1].patient_keys, std::vector<int64_t>{Key("p4")});

    events = EventsOf([&] {
      auto missing = who.Read("Patient", "p9");
      ASSERT_FALSE(missing.ok());
      EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
      EXPECT_EQ(missing.error().message, "Patient/p9 is not known");
    });
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[1].subtype, "break-glass-refused-alert");
    EXPECT_TRUE(events[1].patient_keys.empty());
    EXPECT_EQ(hidden_message, "Patient/p4 is not known");
  }
}

// Each user's break-glass reads are limited per 24 hours; the next is refused as a missing
// record would be, and alerts the privacy officer. Reads the caller has a relationship for
// are not break-glass and are not limited.
TEST_P(RecordsServiceTest, BreakGlassStopsAtTheUsersDailyLimit) {
  records::Settings two_a_day;
  two_a_day.break_glass_daily_limit = 2;
  Records gp = As("gp", "urgent-care: seen at the walk-in centre, no record here", two_a_day);
  ASSERT_TRUE(gp.Read("Patient", "p4").ok());
  ASSERT_TRUE(gp.Read("Condition", "c-p4").ok());
  auto events = EventsOf([&] {
    auto third = gp.Read("Observation", "o-p4");
    ASSERT_FALSE(third.ok());
    EXPECT_EQ(third.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(third.error().message, "Observation/o-p4 is not known");
  });
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].outcome, AuditOutcome::kSeriousFailure);
  EXPECT_EQ(events[1].subtype, "break-glass-limit-alert");
  EXPECT_EQ(events[1].patient_keys, std::vector<int64_t>{Key("p4")});
  EXPECT_TRUE(gp.Read("Patient", "p1").ok());  // own practice: no glass needed
  // Another user's count is their own.
  EXPECT_TRUE(As("nurse", "emergency: collapsed in the waiting room, unresponsive", two_a_day)
                  .Read("Patient", "p4")
                  .ok());
}

// A segment's size is a count of people: served under the small-number rule, read or searched;
// exact only where the operator turned the rule off.
TEST_P(RecordsServiceTest, SmallSegmentsAreMaskedInReadsAndSearches) {
  const std::string id = std::to_string(api_->population().run_id) + "-0-1";  // two people
  auto quantity_of = [](const std::string& text) {
    const json g = json::parse(text);
    return g.contains("quantity") ? g["quantity"].dump()
                                  : g["_quantity"]["extension"][0]["valueCode"].dump();
  };
  auto read = As("commissioner").Read("Group", id);
  ASSERT_TRUE(read.ok()) << read.error().ToString();
  EXPECT_EQ(quantity_of(read->json), "\"masked\"");
  auto page = As("commissioner").Search(Parse("Group", "_id=" + id), {});
  ASSERT_TRUE(page.ok()) << page.error().ToString();
  ASSERT_EQ(page->matches.size(), 1u);
  EXPECT_EQ(quantity_of(page->matches[0].json), "\"masked\"");

  records::Settings exact;
  exact.disclosure = DisclosureRule::Off();
  auto unmasked = As("commissioner", {}, exact).Read("Group", id);
  ASSERT_TRUE(unmasked.ok());
  EXPECT_EQ(quantity_of(unmasked->json), "2");
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
  for (std::string_view leak : {"UNIQUE", "unique", "nhs_number", "sqlite", "postgresql", "DETAIL",
                                "Key (", "patients", "Smith4"})
    EXPECT_EQ(r.body.find(leak), std::string::npos) << leak << " in " << r.body;
  EXPECT_EQ(r.body.find(held), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("this NHS number is already registered to a person"), std::string::npos)
      << r.body;
}

// The probe is audited against the person who holds the number (p4, hidden from this GP), so
// the privacy officer sees it; an update to another's number is refused in the same words.
TEST_P(RecordsServiceTest, ANhsNumberAlreadyHeldIsAuditedAgainstItsHolder) {
  auto with_number = [&](std::string_view id, int person) {
    HttpResponse own = Call("gp", "GET", "/Patient/p1");
    json body = json::parse(own.body);
    body.erase("meta");
    if (id.empty()) body.erase("id");
    for (json& identifier : body["identifier"])
      if (identifier["system"] == "https://fhir.nhs.uk/Id/nhs-number")
        identifier["value"] = store::testing::TestNhsNumber(person).digits();
    return body.dump();
  };
  Records gp = As("gp");
  const std::string p4s_number = with_number("", 4);
  auto events = EventsOf([&] {
    auto created = gp.Create("Patient", p4s_number);
    ASSERT_FALSE(created.ok());
    EXPECT_EQ(created.error().code, ErrorCode::kConflict);
    EXPECT_EQ(created.error().field, "identifier");
  });
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].subtype, "create");
  EXPECT_EQ(events[0].outcome, AuditOutcome::kSeriousFailure);
  EXPECT_EQ(events[0].patient_keys, std::vector<int64_t>{Key("p4")});

  auto held_by_visible = gp.Create("Patient", with_number("", 2));
  ASSERT_FALSE(held_by_visible.ok());
  auto update = gp.Update("Patient", "p1", with_number("p1", 4), std::nullopt);
  ASSERT_FALSE(update.ok());
  EXPECT_EQ(update.error().code, ErrorCode::kConflict);
  // Held by someone the GP sees (p2) or not (p4): the same words.
  EXPECT_EQ(update.error().message, held_by_visible.error().message);
  auto p1 = gp.Read("Patient", "p1");
  ASSERT_TRUE(p1.ok());
  EXPECT_EQ(p1->meta.version_id, 1);
  // Keeping one's own number is no clash.
  EXPECT_TRUE(gp.Update("Patient", "p1", with_number("p1", 1), std::nullopt).ok());
}

// Rule 1 of the security review: a registration change. A GP on p2's care team (at another
// practice) may not move p2 to their own practice — every colleague there would then read the
// record; the practice p1 is registered with may move p1, audited with both practices named.
TEST_P(RecordsServiceTest, OnlyThePersonsOwnPracticeChangesWhereTheyAreRegistered) {
  auto moved_to = [&](std::string_view id, std::string_view practice) {
    HttpResponse own = Call("gp", "GET", "/Patient/" + std::string(id));
    EXPECT_EQ(own.status, 200) << own.body;
    json body = json::parse(own.body);
    body.erase("meta");
    body["generalPractitioner"] =
        json::array({{{"reference", "Organization/" + std::string(practice)}}});
    return body.dump();
  };
  Records gp = As("gp");
  const std::string p2_moved = moved_to("p2", "A81001");
  auto events = EventsOf([&] {
    auto w = gp.Update("Patient", "p2", p2_moved, std::nullopt);
    ASSERT_FALSE(w.ok());
    EXPECT_EQ(w.error().code, ErrorCode::kForbidden);
    EXPECT_EQ(w.error().field, "generalPractitioner");
  });
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].subtype, "registration-change");
  EXPECT_EQ(events[0].outcome, AuditOutcome::kSeriousFailure);
  EXPECT_EQ(events[0].patient_keys, std::vector<int64_t>{Key("p2")});
  EXPECT_EQ(events[0].query, "generalPractitioner: Organization/B82002 -> Organization/A81001");
  auto p2 = gp.Read("Patient", "p2");
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(std::get<Patient>(p2->record).practice_id, "B82002");
  EXPECT_EQ(p2->meta.version_id, 1);

  // Other details of a person on the team may still be updated.
  json p2_phone = json::parse(moved_to("p2", "B82002"));
  p2_phone["telecom"] = json::array({{{"system", "phone"}, {"value", "0115 496 0000"}}});
  EXPECT_TRUE(gp.Update("Patient", "p2", p2_phone.dump(), std::nullopt).ok());

  // A nurse at p1's practice may update p1 but registers no one, so may not move them.
  const std::string p1_moved = moved_to("p1", "B82002");
  auto by_nurse = As("nurse").Update("Patient", "p1", p1_moved, std::nullopt);
  ASSERT_FALSE(by_nurse.ok());
  EXPECT_EQ(by_nurse.error().code, ErrorCode::kForbidden);

  events = EventsOf([&] {
    auto w = gp.Update("Patient", "p1", p1_moved, std::nullopt);
    ASSERT_TRUE(w.ok()) << w.error().ToString();
  });
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].subtype, "registration-change");
  EXPECT_EQ(events[0].action, 'U');
  EXPECT_EQ(events[0].outcome, AuditOutcome::kSuccess);
  EXPECT_EQ(events[0].patient_keys, std::vector<int64_t>{Key("p1")});
  EXPECT_EQ(events[0].query, "generalPractitioner: Organization/A81001 -> Organization/B82002");
  // p1 is now registered elsewhere and on no team of this GP's: hidden.
  auto gone = gp.Read("Patient", "p1");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
}

// Case finding on both backends: the visible set (practice, or care team unless the person
// declined), the filters' SQL, risers against the run before, and segment sizes.
TEST_P(RecordsServiceTest, CaseFindingFiltersAndRisersOnEveryBackend) {
  auto ids = [&](records::WorklistRequest request) {
    auto list = As("gp").CaseFinding(request);
    EXPECT_TRUE(list.ok()) << list.error().ToString();
    std::vector<std::string> out;
    if (list.ok())
      for (const records::Record& r : list->rows)
        out.push_back(std::get<store::RiskResult>(r.record).patient_id);
    return out;
  };
  using V = std::vector<std::string>;
  using Request = records::WorklistRequest;
  auto with = [](auto set) {
    Request r;
    set(r);
    return r;
  };
  EXPECT_EQ(ids({}), (V{"p2", "p1"}));  // highest risk first; p3 declined, p4 elsewhere
  EXPECT_EQ(ids(with([](Request& r) { r.pch = "PCH1"; })), (V{"p2", "p1"}));
  EXPECT_EQ(ids(with([](Request& r) { r.pch = "PCH2"; })), V{});
  EXPECT_EQ(ids(with([](Request& r) { r.age_from = 85; })), V{"p1"});  // 2026-09-21: p1 85, p2 84
  EXPECT_EQ(ids(with([](Request& r) { r.age_to = 84; })), V{"p2"});
  EXPECT_EQ(ids(with([](Request& r) { r.risk_from = 0.2; })), V{"p2"});
  EXPECT_EQ(ids(with([](Request& r) { r.risk_to = 0.2; })), V{"p1"});
  EXPECT_FALSE(
      As("gp").CaseFinding(with([](Request& r) { r.risers = true; })).ok());  // one run only

  StratificationRun run;
  run.index_date = Date::FromYmd(2026, 9, 1);
  run.models.push_back({"mcmw", "1", {"low", "high"}});
  std::vector<PersonRunResult> results;
  for (const auto& [pid, risk] :
       {std::pair<const char*, float>{"p1", 0.5f}, {"p2", 0.05f}, {"p3", 0.9f}}) {
    PersonRunResult r;
    r.patient_key = Key(pid);
    r.ltc_count = 3;
    r.admission_risk = risk;
    r.segment = {1};
    r.rule = {0};
    results.push_back(r);
  }
  std::sort(results.begin(), results.end(), [](const PersonRunResult& a, const PersonRunResult& b) {
    return a.patient_key < b.patient_key;
  });
  ASSERT_TRUE(api_->store().SaveRun(run, results).ok());
  auto risers = As("gp").CaseFinding(with([](Request& r) { r.risers = true; }));
  ASSERT_TRUE(risers.ok()) << risers.error().ToString();
  ASSERT_EQ(risers->rows.size(), 1u);  // p1 rose; p2 fell; p3 rose but is not the GP's to see
  EXPECT_EQ(std::get<store::RiskResult>(risers->rows[0].record).patient_id, "p1");
  ASSERT_EQ(risers->previous.size(), 1u);
  EXPECT_NEAR(
      std::get<store::RiskResult>(risers->previous.at(Key("p1")).record).result.admission_risk, 0.1,
      1e-6);

  // The new run's segment sizes: three people in "high", none in "low".
  const std::string run_id = std::to_string(*risers->run_id);
  auto high = api_->store().FindResource("Group", run_id + "-0-1");
  ASSERT_TRUE(high.ok() && high->has_value());
  EXPECT_EQ(std::get<store::Segment>((*high)->record).members, 3);
  auto low = api_->store().FindResource("Group", run_id + "-0-0");
  ASSERT_TRUE(low.ok() && low->has_value());
  EXPECT_EQ(std::get<store::Segment>((*low)->record).members, 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, RecordsServiceTest,
                         ::testing::Values(store::testing::Backend::kSqlite,
                                           store::testing::Backend::kPostgres),
                         [](const auto& info) { return store::testing::BackendName(info.param); });

}  // namespace
}  // namespace joinedup::api::testing
