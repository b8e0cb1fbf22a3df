// SecurityStore (migration 3) on SQLite and PostgreSQL: users, care teams, consent, tokens and
// the append-only audit trail.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <thread>

#include "store/store.h"
#include "store_test_support.h"

namespace joinedup::store::testing {
namespace {

using ::testing::HasSubstr;

class SecurityStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string skip_reason;
    db_ = TestDatabase::Create(GetParam(), skip_reason);
    if (!skip_reason.empty()) GTEST_SKIP() << skip_reason;
    ASSERT_NE(db_, nullptr);
    auto opened = OpenStore(db_->url());
    ASSERT_TRUE(opened.ok()) << opened.error().ToString();
    store_ = std::move(opened).value();
    auto w = store_->BeginWrite();
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Add(Practice{"A81001", "Alpha Surgery", "PCH1", "TS1"}).ok());
    for (int i = 0; i < 3; ++i) {
      Patient p;
      p.id = "p-" + std::to_string(i);
      p.nhs_number = TestNhsNumber(i + 1);
      p.source_identifier = "urn:x|" + std::to_string(i);
      p.practice_id = i == 2 ? "" : "A81001";
      ASSERT_TRUE((*w)->Add(p).ok());
    }
    ASSERT_TRUE((*w)->Commit().ok());
    w->reset();
    for (int i = 0; i < 3; ++i)
      keys_.push_back(*store_->PatientKeyForNhsNumber(TestNhsNumber(i + 1)).value());
    ASSERT_TRUE(
        store_->PutOrganisation({"A81001", "Alpha Surgery", OrganisationKind::kGpPractice}).ok());
  }

  User Staff(std::string username, Role role = Role::kGp) {
    User u;
    u.username = std::move(username);
    u.display_name = "Dr " + u.username;
    u.organisation_id = "A81001";
    u.role = role;
    u.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$fake";
    return u;
  }

  static std::string Seal(const AuditEvent& e) {
    // The store does not care how the hash is made; the security layer uses SHA-256.
    return e.prev_hash.substr(0, 8) + "-" + std::to_string(e.sequence);
  }

  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<Store> store_;
  std::vector<int64_t> keys_;
};

TEST_P(SecurityStoreTest, UsersRoundTripAndUsernamesAreUnique) {
  auto id = store_->AddUser(Staff("grace"));
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  User want = Staff("grace");
  want.id = *id;
  EXPECT_EQ(store_->FindUser("grace").value(), want);
  EXPECT_EQ(store_->FindUserById(*id).value(), want);
  EXPECT_FALSE(store_->FindUser("nobody").value().has_value());

  auto again = store_->AddUser(Staff("grace"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  EXPECT_THAT(again.error().message, HasSubstr("username 'grace' is already taken"));

  User elsewhere = Staff("ada");
  elsewhere.organisation_id = "Z99999";
  auto unknown = store_->AddUser(elsewhere);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(unknown.error().message, HasSubstr("Organization/Z99999 is not known"));

  User patient = Staff("pat", Role::kPatient);
  EXPECT_EQ(store_->AddUser(patient).error().code, ErrorCode::kInvalidInput);
  patient.patient_key = keys_[0];
  ASSERT_TRUE(store_->AddUser(patient).ok());
  EXPECT_EQ(store_->FindUser("pat").value()->patient_key, keys_[0]);
  User gp_with_patient = Staff("gp2");
  gp_with_patient.patient_key = keys_[0];
  EXPECT_EQ(store_->AddUser(gp_with_patient).error().code, ErrorCode::kInvalidInput);

  ASSERT_TRUE(store_->SetUserDisabled(*id, true).ok());
  EXPECT_TRUE(store_->FindUser("grace").value()->disabled);
  EXPECT_EQ(store_->SetUserDisabled(9999, true).error().code, ErrorCode::kNotFound);
  auto users = store_->Users().value();
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users[0].username, "grace");
  EXPECT_EQ(users[1].username, "pat");
}

TEST_P(SecurityStoreTest, CareTeamsAndConsentMakeTheAccessFacts) {
  const int64_t gp = store_->AddUser(Staff("gp")).value();
  const int64_t team = store_->AddCareTeam("Frailty MDT", "A81001").value();
  EXPECT_EQ(store_->AddCareTeam("x", "nope").error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(store_->AddCareTeamMember(team, gp).ok());
  ASSERT_TRUE(store_->AddCareTeamMember(team, gp).ok());  // idempotent
  EXPECT_EQ(store_->AddCareTeamMember(team + 100, gp).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(store_->AddCareTeamPatient(team, keys_[2]).ok());
  EXPECT_EQ(store_->AddCareTeamPatient(team, 987654).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->CareTeamsOfUser(gp).value(), std::vector<int64_t>{team});

  auto facts = store_->AccessFacts(keys_[2], 1000).value();
  ASSERT_TRUE(facts.has_value());
  EXPECT_EQ(facts->practice_id, "");
  EXPECT_EQ(facts->care_team_ids, std::vector<int64_t>{team});
  EXPECT_FALSE(facts->declined_sharing);
  EXPECT_FALSE(store_->AccessFacts(987654, 1000).value().has_value());
  // A membership that ends (a discharge's grace period) counts until its end, not at it; it
  // ends sooner but never later when ended again; adding the person again opens it.
  ASSERT_TRUE(store_->EndCareTeamPatient(team, keys_[2], 2000).ok());
  EXPECT_EQ(store_->AccessFacts(keys_[2], 1999).value()->care_team_ids, std::vector<int64_t>{team});
  EXPECT_TRUE(store_->AccessFacts(keys_[2], 2000).value()->care_team_ids.empty());
  ASSERT_TRUE(store_->EndCareTeamPatient(team, keys_[2], 5000).ok());
  EXPECT_TRUE(store_->AccessFacts(keys_[2], 2000).value()->care_team_ids.empty());
  EXPECT_EQ(store_->FindCareTeam(team).value()->people, 0);
  EXPECT_EQ(store_->EndCareTeamPatient(team + 100, keys_[2], 1).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(store_->AddCareTeamPatient(team, keys_[2]).ok());
  EXPECT_EQ(store_->AccessFacts(keys_[2], 9000).value()->care_team_ids, std::vector<int64_t>{team});

  ASSERT_TRUE(
      store_->RecordConsent({keys_[0], ConsentDecision::kDeclineBeyondOwnPractice, gp, 100}).ok());
  EXPECT_TRUE(store_->AccessFacts(keys_[0], 1000).value()->declined_sharing);
  ASSERT_TRUE(store_->RecordConsent({keys_[0], ConsentDecision::kPermitSharing, gp, 200}).ok());
  EXPECT_FALSE(store_->AccessFacts(keys_[0], 1000).value()->declined_sharing);
  EXPECT_EQ(store_->LatestConsent(keys_[0]).value()->recorded_at_ms, 200);
  EXPECT_EQ(store_->RecordConsent({987654, ConsentDecision::kPermitSharing, gp, 1}).error().code,
            ErrorCode::kNotFound);
}

TEST_P(SecurityStoreTest, TokensAreFoundByHashAndRevoked) {
  const int64_t gp = store_->AddUser(Staff("gp")).value();
  TokenRecord token{std::string(64, 'a'), gp, "user/*.rs", 1000, 2000, false};
  ASSERT_TRUE(store_->AddToken(token).ok());
  EXPECT_EQ(store_->AddToken(token).error().code, ErrorCode::kConflict);
  EXPECT_EQ(store_->FindToken(token.hash_hex).value(), token);
  EXPECT_FALSE(store_->FindToken(std::string(64, 'b')).value().has_value());
  TokenRecord bad = token;
  bad.hash_hex = "not-hex";
  EXPECT_EQ(store_->AddToken(bad).error().code, ErrorCode::kInvalidInput);
  ASSERT_TRUE(store_->RevokeToken(token.hash_hex).ok());
  EXPECT_TRUE(store_->FindToken(token.hash_hex).value()->revoked);
  EXPECT_EQ(store_->RevokeToken(std::string(64, 'c')).error().code, ErrorCode::kNotFound);
  TokenRecord second{std::string(64, 'd'), gp, "user/*.rs", 1000, 2000, false};
  ASSERT_TRUE(store_->AddToken(second).ok());
  EXPECT_EQ(store_->RevokeUserTokens(gp).value(), 1);
}

TEST_P(SecurityStoreTest, AuditEventsChainRoundTripAndSearch) {
  AuditEvent e;
  e.time_ms = 1000;
  e.action = 'R';
  e.subtype = "read";
  e.user_id = 7;
  e.username = "grace";
  e.role = "gp";
  e.organisation_id = "A81001";
  e.request_id = "req-1";
  e.source_address = "127.0.0.1";
  e.patient_keys = {keys_[1], keys_[0]};
  auto first = store_->AppendAuditEvent(e, Seal);
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  EXPECT_EQ(first->sequence, 1);
  EXPECT_EQ(first->prev_hash, std::string(64, '0'));
  EXPECT_EQ(first->hash, "00000000-1");
  EXPECT_EQ(first->patient_keys, (std::vector<int64_t>{keys_[0], keys_[1]}));

  e.time_ms = 2000;
  e.action = 'E';
  e.subtype = "search";
  e.user_id.reset();
  e.query = "Patient?name=O'Brien;DROP TABLE users";
  e.patient_keys = {keys_[2]};
  auto second = store_->AppendAuditEvent(e, Seal);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->sequence, 2);
  EXPECT_EQ(second->prev_hash, "00000000-1");

  std::vector<AuditEvent> all;
  ASSERT_TRUE(store_
                  ->ScanAuditEvents(0,
                                    [&](const AuditEvent& event) {
                                      all.push_back(event);
                                      return Ok();
                                    })
                  .ok());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], *first);
  EXPECT_EQ(all[1], *second);

  auto by_patient = store_->SearchAuditEvents({.patient_key = keys_[0]}).value();
  ASSERT_EQ(by_patient.size(), 1u);
  EXPECT_EQ(by_patient[0].sequence, 1);
  EXPECT_EQ(store_->SearchAuditEvents({.user_id = 7}).value().size(), 1u);
  EXPECT_EQ(store_->SearchAuditEvents({.from_ms = 1500}).value().front().sequence, 2);
  EXPECT_EQ(store_->SearchAuditEvents({.from_ms = 500, .to_ms = 1000}).value().size(), 1u);
  EXPECT_EQ(store_->SearchAuditEvents({.limit = 0}).error().code, ErrorCode::kInvalidInput);

  e.action = 'X';
  EXPECT_EQ(store_->AppendAuditEvent(e, Seal).error().code, ErrorCode::kInvalidInput);
  e.action = 'R';
  e.patient_keys = {1, 1};
  EXPECT_EQ(store_->AppendAuditEvent(e, Seal).error().code, ErrorCode::kInvalidInput);
  e.patient_keys = {};
  e.query = std::string("a\0b", 3);
  EXPECT_EQ(store_->AppendAuditEvent(e, Seal).error().code, ErrorCode::kInvalidInput);
  e.query = "\xff\xfe";
  EXPECT_EQ(store_->AppendAuditEvent(e, Seal).error().code, ErrorCode::kInvalidInput);
}

TEST_P(SecurityStoreTest, TheDatabaseRefusesToChangeOrDeleteAuditEvents) {
  AuditEvent e;
  e.subtype = "login";
  e.patient_keys = {keys_[0]};
  ASSERT_TRUE(store_->AppendAuditEvent(e, Seal).ok());
  EXPECT_THAT(db_->RawExec("UPDATE audit_events SET subtype = 'x'"), HasSubstr("append-only"));
  EXPECT_THAT(db_->RawExec("DELETE FROM audit_events"), HasSubstr("append-only"));
  EXPECT_THAT(db_->RawExec("UPDATE audit_event_entities SET patient_key = 0"),
              HasSubstr("append-only"));
  EXPECT_THAT(db_->RawExec("DELETE FROM audit_event_entities"), HasSubstr("append-only"));
  if (GetParam() == Backend::kPostgres) {
    EXPECT_THAT(db_->RawExec("TRUNCATE audit_events CASCADE"), HasSubstr("append-only"));
  }
  std::string count;
  EXPECT_EQ(db_->RawExec("SELECT COUNT(*) FROM audit_events WHERE subtype = 'login'", &count), "");
  EXPECT_EQ(count, "1");
}

// Several connections appending at once (the server's workers): every append lands,
// sequences are 1..N with no gap or repeat, each event's prev_hash is its predecessor's hash
// (no fork), and each caller gets back exactly the event stored for it — appends of one
// process are committed in groups by whichever caller is writing (SharedDatabase).
TEST_P(SecurityStoreTest, ConcurrentAppendsNeverForkTheChain) {
  constexpr int kThreads = 16, kEach = 40;
  std::vector<std::thread> threads;
  std::vector<std::string> errors(kThreads);
  std::vector<std::vector<AuditEvent>> returned(kThreads);
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      auto store = OpenStore(db_->url());
      if (!store.ok()) {
        errors[t] = store.error().ToString();
        return;
      }
      for (int i = 0; i < kEach; ++i) {
        AuditEvent e;
        e.subtype = "read";
        e.request_id = std::to_string(t) + "-" + std::to_string(i);
        e.patient_keys = {keys_[static_cast<size_t>(i) % keys_.size()]};
        auto appended = (*store)->AppendAuditEvent(e, Seal);
        if (!appended.ok()) {
          errors[t] = appended.error().ToString();
          return;
        }
        returned[t].push_back(*appended);
      }
    });
  for (auto& thread : threads) thread.join();
  for (const std::string& error : errors) EXPECT_EQ(error, "");
  int64_t expected = 1;
  std::string prev_hash(64, '0');
  std::map<std::string, AuditEvent> stored;
  ASSERT_TRUE(store_
                  ->ScanAuditEvents(0,
                                    [&](const AuditEvent& event) {
                                      EXPECT_EQ(event.sequence, expected++);
                                      EXPECT_EQ(event.prev_hash, prev_hash);
                                      EXPECT_EQ(event.hash, Seal(event));
                                      prev_hash = event.hash;
                                      stored.emplace(event.request_id, event);
                                      return Ok();
                                    })
                  .ok());
  EXPECT_EQ(stored.size(), static_cast<size_t>(kThreads * kEach));
  for (const auto& events : returned)
    for (const AuditEvent& event : events) {
      auto it = stored.find(event.request_id);
      ASSERT_NE(it, stored.end()) << event.request_id;
      EXPECT_EQ(event, it->second) << event.request_id;
    }
}

TEST_P(SecurityStoreTest, SecurityWritesWaitForAnOpenWriter) {
  auto w = store_->BeginWrite();
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(store_->AddUser(Staff("x")).error().code, ErrorCode::kConflict);
  EXPECT_EQ(store_->AppendAuditEvent(AuditEvent{}, Seal).error().code, ErrorCode::kConflict);
}

INSTANTIATE_TEST_SUITE_P(Backends, SecurityStoreTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return BackendName(info.param);
                         });

}  // namespace
}  // namespace joinedup::store::testing
