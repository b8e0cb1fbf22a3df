// Tokens and the audit hash chain against real stores (SQLite and PostgreSQL).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "security/audit.h"
#include "security/crypto.h"
#include "security/tokens.h"
#include "store/store.h"
#include "store_test_support.h"

namespace joinedup::security {
namespace {

using store::testing::Backend;
using store::testing::TestDatabase;
using ::testing::HasSubstr;

class SecurityServicesTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string skip_reason;
    db_ = TestDatabase::Create(GetParam(), skip_reason);
    if (!skip_reason.empty()) GTEST_SKIP() << skip_reason;
    ASSERT_NE(db_, nullptr);
    auto opened = store::OpenStore(db_->url());
    ASSERT_TRUE(opened.ok()) << opened.error().ToString();
    store_ = std::move(opened).value();
    ASSERT_TRUE(
        store_->PutOrganisation({"A81001", "Alpha", store::OrganisationKind::kGpPractice}).ok());
    store::User u;
    u.username = "grace";
    u.display_name = "Dr Grace";
    u.organisation_id = "A81001";
    u.password_hash = HashPassword("a long enough password").value();
    user_id_ = store_->AddUser(u).value();
  }

  Clock TestClock() {
    return [this] { return now_ms_; };
  }

  AuditActor Actor() const {
    AuditActor a;
    a.user_id = user_id_;
    a.username = "grace";
    a.role = "gp";
    a.organisation_id = "A81001";
    a.request_id = "req-" + std::to_string(now_ms_);
    a.source_address = "203.0.113.9";
    return a;
  }
  static AuditEntry Event(std::string subtype, std::vector<int64_t> keys = {}) {
    AuditEntry e;
    e.action = 'R';
    e.subtype = std::move(subtype);
    e.patient_keys = std::move(keys);
    return e;
  }

  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<store::Store> store_;
  int64_t user_id_ = 0;
  int64_t now_ms_ = 1'700'000'000'000;
};

TEST_P(SecurityServicesTest, TokensAuthenticateUntilTheyExpireOrAreRevoked) {
  auto issued = IssueToken(*store_, TestClock(), user_id_, "user/*.rs openid", 60'000);
  ASSERT_TRUE(issued.ok()) << issued.error().ToString();
  // Only the hash is stored.
  std::string stored;
  ASSERT_EQ(db_->RawExec("SELECT hash FROM tokens", &stored), "");
  EXPECT_EQ(stored, BearerTokenHash(issued->bearer).value());
  EXPECT_EQ(stored.find(issued->bearer), std::string::npos);

  auto ok = AuthenticateToken(*store_, TestClock(), issued->bearer);
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  EXPECT_EQ(ok->user.username, "grace");
  EXPECT_TRUE(ok->scopes.Allows(ScopeContext::kUser, "Patient", kRead));

  now_ms_ += 60'000;
  auto expired = AuthenticateToken(*store_, TestClock(), issued->bearer);
  EXPECT_EQ(expired.error().code, ErrorCode::kUnauthenticated);
  EXPECT_THAT(expired.error().message, HasSubstr("expired"));

  auto second = IssueToken(*store_, TestClock(), user_id_, "user/*.rs", 60'000).value();
  ASSERT_TRUE(RevokeBearerToken(*store_, second.bearer).ok());
  EXPECT_THAT(AuthenticateToken(*store_, TestClock(), second.bearer).error().message,
              HasSubstr("revoked"));
  EXPECT_THAT(AuthenticateToken(*store_, TestClock(), NewBearerToken()).error().message,
              HasSubstr("not recognised"));
  EXPECT_THAT(AuthenticateToken(*store_, TestClock(), "forged").error().message,
              HasSubstr("malformed"));

  auto third = IssueToken(*store_, TestClock(), user_id_, "user/*.rs", 60'000).value();
  ASSERT_TRUE(store_->SetUserDisabled(user_id_, true).ok());
  EXPECT_THAT(AuthenticateToken(*store_, TestClock(), third.bearer).error().message,
              HasSubstr("disabled"));
  EXPECT_EQ(IssueToken(*store_, TestClock(), user_id_, "user/*.rs", 1000).error().code,
            ErrorCode::kForbidden);
}

TEST_P(SecurityServicesTest, IssuingRefusesBadScopesAndLifetimes) {
  EXPECT_THAT(IssueToken(*store_, TestClock(), user_id_, "user/*.read", 1000).error().message,
              HasSubstr("scope 'user/*.read'"));
  EXPECT_EQ(IssueToken(*store_, TestClock(), user_id_, "user/*.rs", 0).error().code,
            ErrorCode::kInvalidInput);
  EXPECT_EQ(IssueToken(*store_, TestClock(), 999, "user/*.rs", 1000).error().code,
            ErrorCode::kNotFound);
}

TEST_P(SecurityServicesTest, TheChainVerifiesAndNamesTheFirstAlteredEvent) {
  AuditTrail trail(*store_, TestClock());
  auto empty = VerifyAuditChain(*store_);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->intact());
  EXPECT_EQ(empty->events, 0);

  for (int i = 0; i < 5; ++i) {
    now_ms_ += 1000;
    auto recorded = trail.Record(Actor(), Event(i == 0 ? "login" : "read", {static_cast<int64_t>(i)}));
    ASSERT_TRUE(recorded.ok()) << recorded.error().ToString();
    EXPECT_EQ(recorded->time_ms, now_ms_);  // the server's clock, not the caller's
    EXPECT_EQ(recorded->hash, AuditEventHash(*recorded));
  }
  auto intact = VerifyAuditChain(*store_);
  ASSERT_TRUE(intact.ok());
  EXPECT_TRUE(intact->intact()) << intact->problem;
  EXPECT_EQ(intact->events, 5);
  EXPECT_EQ(intact->head_sequence, 5);

  // An attacker with database access removes the guard and edits event 3's query.
  if (GetParam() == Backend::kSqlite) {
    ASSERT_EQ(db_->RawExec("DROP TRIGGER audit_events_no_update"), "");
  } else {
    ASSERT_EQ(db_->RawExec("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"),
              "");
  }
  ASSERT_EQ(db_->RawExec("UPDATE audit_events SET source_address = '10.0.0.1' WHERE sequence = 3"),
            "");
  auto tampered = VerifyAuditChain(*store_);
  ASSERT_TRUE(tampered.ok());
  EXPECT_FALSE(tampered->intact());
  EXPECT_EQ(tampered->first_broken, 3);
  EXPECT_THAT(tampered->problem, HasSubstr("event 3 does not match its hash"));

  // Re-hashing the edited event does not help: event 4 no longer follows it.
  store::AuditEvent three;
  ASSERT_TRUE(store_
                  ->ScanAuditEvents(2,
                                    [&](const store::AuditEvent& e) {
                                      if (e.sequence == 3) three = e;
                                      return Ok();
                                    })
                  .ok());
  ASSERT_EQ(db_->RawExec("UPDATE audit_events SET hash = '" + AuditEventHash(three) +
                         "' WHERE sequence = 3"),
            "");
  auto rehashed = VerifyAuditChain(*store_);
  ASSERT_TRUE(rehashed.ok());
  EXPECT_EQ(rehashed->first_broken, 4);
  EXPECT_THAT(rehashed->problem, HasSubstr("prev_hash does not match"));
}

TEST_P(SecurityServicesTest, ADeletedEventIsAGapInTheChain) {
  AuditTrail trail(*store_, TestClock());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(trail.Record(Actor(), Event("read")).ok());
  if (GetParam() == Backend::kSqlite) {
    ASSERT_EQ(db_->RawExec("DROP TRIGGER audit_events_no_delete"), "");
  } else {
    ASSERT_EQ(db_->RawExec("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"),
              "");
  }
  ASSERT_EQ(db_->RawExec("DELETE FROM audit_events WHERE sequence = 2"), "");
  auto result = VerifyAuditChain(*store_);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->first_broken, 2);
  EXPECT_THAT(result->problem, HasSubstr("event 2 is missing"));
}

INSTANTIATE_TEST_SUITE_P(Backends, SecurityServicesTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return store::testing::BackendName(info.param);
                         });

}  // namespace
}  // namespace joinedup::security
