// The access policy as a table of cases: who, doing what, to whom, and the expected decision.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "security/policy.h"

namespace joinedup::security {
namespace {

using store::Role;

// The people in the cases. Keys 1..4; practices A (Alpha) and B (Beta); care team 7 holds
// person 3 (registered at B) and person 4 (at B, who declined sharing beyond B).
PatientFacts Person(int64_t key) {
  switch (key) {
    case 1:
      return {1, "A", {}, false};
    case 2:
      return {2, "B", {}, false};
    case 3:
      return {3, "B", {7}, false};
    case 4:
      return {4, "B", {7}, true};
    default:
      return {key, "", {}, false};
  }
}

const ScopeSet kStaffScopes = ParseScopes("user/*.cruds").value();
const ScopeSet kPatientScopes = ParseScopes("patient/*.cruds").value();

Caller Staff(Role role, std::string organisation, std::vector<int64_t> teams = {}) {
  Caller c;
  c.user_id = 100;
  c.role = role;
  c.organisation_id = std::move(organisation);
  c.care_team_ids = std::move(teams);
  c.scopes = kStaffScopes;
  return c;
}

Caller PatientUser(int64_t key) {
  Caller c;
  c.user_id = 200;
  c.role = Role::kPatient;
  c.organisation_id = "A";
  c.patient_key = key;
  c.scopes = kPatientScopes;
  return c;
}

Caller WithReason(Caller c, std::string reason) {
  c.break_glass_reason = std::move(reason);
  return c;
}
Caller WithScopes(Caller c, std::string_view scopes) {
  c.scopes = ParseScopes(scopes).value();
  return c;
}
Caller Disabled(Caller c) {
  c.disabled = true;
  return c;
}

enum Expect { kAllow, kAllowBreakGlass, kHidden, kForbidden };

struct Case {
  const char* name;
  Caller caller;
  Interaction interaction;
  const char* type;
  int64_t person;  // 0 = not about a person (DecideUnbound)
  Expect expect;
  DenyReason reason;
};

std::vector<Case> Cases() {
  using I = Interaction;
  using D = DenyReason;
  const Caller gp_a = Staff(Role::kGp, "A");
  const Caller nurse_team = Staff(Role::kNurse, "T", {7});
  return {
      {"GP reads a patient of their own practice", gp_a, I::kRead, "Patient", 1, kAllow, D::kNone},
      {"GP cannot read another practice's patient", gp_a, I::kRead, "Patient", 2, kHidden,
       D::kNoRelationship},
      {"GP search rows of another practice are hidden", gp_a, I::kSearch, "Condition", 2, kHidden,
       D::kNoRelationship},
      {"a user cannot read another team's patient", Staff(Role::kNurse, "T", {8}), I::kRead,
       "Condition", 3, kHidden, D::kNoRelationship},
      {"care team member reads a team patient", nurse_team, I::kRead, "Condition", 3, kAllow,
       D::kNone},
      {"care team member updates a team patient", nurse_team, I::kUpdate, "Observation", 3, kAllow,
       D::kNone},
      {"consent declined: care team member is refused", nurse_team, I::kRead, "Patient", 4, kHidden,
       D::kConsentDeclined},
      {"consent declined: own GP practice still sees", Staff(Role::kGp, "B"), I::kRead, "Patient",
       4, kAllow, D::kNone},
      {"consent declined: break-glass by a clinician", WithReason(nurse_team, "unconscious in A&E"),
       I::kRead, "Patient", 4, kAllowBreakGlass, D::kNone},
      {"break-glass: clinician with a reason opens a stranger's record",
       WithReason(gp_a, "out-of-hours call"), I::kRead, "Condition", 2, kAllowBreakGlass, D::kNone},
      {"break-glass: a blank reason is no reason", WithReason(gp_a, "  "), I::kRead, "Condition", 2,
       kHidden, D::kNoRelationship},
      {"break-glass: not for a social worker",
       WithReason(Staff(Role::kSocialWorker, "C"), "urgent"), I::kRead, "Patient", 2, kHidden,
       D::kBreakGlassNotAllowed},
      {"break-glass: not for a search", WithReason(gp_a, "urgent"), I::kSearch, "Patient", 2,
       kHidden, D::kBreakGlassNotAllowed},
      {"break-glass: not for an export", WithReason(gp_a, "urgent"), I::kExport, "Patient", 2,
       kHidden, D::kBreakGlassNotAllowed},
      {"break-glass unneeded with a relationship: not flagged", WithReason(gp_a, "habit"), I::kRead,
       "Patient", 1, kAllow, D::kNone},
      {"patient reads their own record", PatientUser(1), I::kRead, "Condition", 1, kAllow,
       D::kNone},
      {"patient cannot read someone else (even at their practice)", PatientUser(1), I::kRead,
       "Patient", 2, kHidden, D::kNotSelf},
      {"patient cannot break the glass", WithReason(PatientUser(1), "curious"), I::kRead, "Patient",
       2, kHidden, D::kNotSelf},
      {"patient records their own consent", PatientUser(1), I::kCreate, "Consent", 1, kAllow,
       D::kNone},
      {"patient cannot create conditions", PatientUser(1), I::kCreate, "Condition", 1, kForbidden,
       D::kRoleForbids},
      {"patient with user/ scopes has no patient scope", WithScopes(PatientUser(1), "user/*.rs"),
       I::kRead, "Patient", 1, kForbidden, D::kNoScope},
      {"commissioner never reads an identifiable record", Staff(Role::kCommissioner, "A"), I::kRead,
       "Patient", 1, kForbidden, D::kRoleForbids},
      {"commissioner never searches identifiable rows", Staff(Role::kCommissioner, "A"), I::kSearch,
       "Condition", 0, kForbidden, D::kRoleForbids},
      {"commissioner never exports identifiable rows", Staff(Role::kCommissioner, "A"), I::kExport,
       "Patient", 0, kForbidden, D::kRoleForbids},
      {"commissioner cannot break the glass", WithReason(Staff(Role::kCommissioner, "A"), "x"),
       I::kRead, "Patient", 1, kForbidden, D::kRoleForbids},
      {"commissioner reads population figures", Staff(Role::kCommissioner, "X"), I::kSearch,
       "Group", 0, kAllow, D::kNone},
      {"commissioner exports population rows", Staff(Role::kCommissioner, "X"), I::kExport, "Group",
       0, kAllow, D::kNone},
      {"privacy officer searches the audit trail", Staff(Role::kPrivacyOfficer, "X"), I::kSearch,
       "AuditEvent", 0, kAllow, D::kNone},
      {"privacy officer cannot change the audit trail", Staff(Role::kPrivacyOfficer, "X"),
       I::kUpdate, "AuditEvent", 0, kForbidden, D::kRoleForbids},
      {"GP cannot read the audit trail", gp_a, I::kRead, "AuditEvent", 0, kForbidden,
       D::kRoleForbids},
      {"privacy officer does not read clinical records", Staff(Role::kPrivacyOfficer, "A"),
       I::kRead, "Condition", 1, kForbidden, D::kRoleForbids},
      {"administrator edits the directory", Staff(Role::kAdministrator, "X"), I::kUpdate,
       "Organization", 0, kAllow, D::kNone},
      {"administrator sees no patient", Staff(Role::kAdministrator, "A"), I::kRead, "Patient", 1,
       kForbidden, D::kRoleForbids},
      {"link worker sees demographics, not clinical", Staff(Role::kLinkWorker, "A"), I::kRead,
       "Condition", 1, kForbidden, D::kRoleForbids},
      {"link worker reads a practice patient", Staff(Role::kLinkWorker, "A"), I::kRead, "Patient",
       1, kAllow, D::kNone},
      {"care assistant cannot update", Staff(Role::kCareAssistant, "A"), I::kUpdate, "Observation",
       1, kForbidden, D::kRoleForbids},
      {"read-only token cannot update", WithScopes(gp_a, "user/*.rs"), I::kUpdate, "Patient", 1,
       kForbidden, D::kNoScope},
      {"Patient-only scope cannot read conditions", WithScopes(gp_a, "user/Patient.rs"), I::kRead,
       "Condition", 1, kForbidden, D::kNoScope},
      {"system/ scopes do not serve a user", WithScopes(gp_a, "system/*.rs"), I::kRead, "Patient",
       1, kForbidden, D::kNoScope},
      {"no scopes, nothing", WithScopes(gp_a, ""), I::kRead, "Organization", 0, kForbidden,
       D::kNoScope},
      {"disabled user, nothing", Disabled(gp_a), I::kRead, "Patient", 1, kForbidden, D::kDisabled},
      {"unknown resource type is denied", gp_a, I::kRead, "Basic", 0, kForbidden,
       D::kUnknownResourceType},
      {"a person with no known practice is nobody's by practice", gp_a, I::kRead, "Patient", 9,
       kHidden, D::kNoRelationship},
  };
}

class PolicyTest : public ::testing::TestWithParam<Case> {};

TEST_P(PolicyTest, Decides) {
  const Case& c = GetParam();
  const Action action{c.interaction, c.type};
  const Decision d =
      c.person == 0 ? DecideUnbound(c.caller, action) : Decide(c.caller, action, Person(c.person));
  EXPECT_EQ(d.allowed, c.expect == kAllow || c.expect == kAllowBreakGlass);
  EXPECT_EQ(d.break_glass, c.expect == kAllowBreakGlass);
  // Told of every broken glass, and of every attempt by a role that may not break it.
  EXPECT_EQ(d.alert_privacy_officer,
            c.expect == kAllowBreakGlass || (c.reason == DenyReason::kBreakGlassNotAllowed &&
                                             !MayBreakGlass(c.caller.role)));
  EXPECT_EQ(d.hide_existence, c.expect == kHidden);
  EXPECT_EQ(DenyReasonName(d.reason), DenyReasonName(c.reason));
}

INSTANTIATE_TEST_SUITE_P(Cases, PolicyTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           std::string name;
                           for (const char* p = info.param.name; *p; ++p)
                             name += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
                           return std::to_string(info.index) + "_" + name;
                         });

// Whatever the role and relationship, a commissioner never gets an identifiable record.
TEST(PolicyInvariantTest, CommissionerNeverSeesAPersonWhateverTheFacts) {
  for (int category_type = 0; category_type < 4; ++category_type) {
    const char* type =
        std::array{"Patient", "Condition", "RiskAssessment", "Consent"}[category_type];
    for (int i = 0; i < kInteractionCount; ++i)
      for (int64_t person : {1, 2, 3, 4}) {
        Caller c = WithReason(Staff(Role::kCommissioner, "A", {7}), "reason");
        EXPECT_FALSE(Decide(c, {static_cast<Interaction>(i), type}, Person(person)).allowed);
        EXPECT_FALSE(DecideUnbound(c, {static_cast<Interaction>(i), type}).allowed);
      }
  }
}

// Every person-level denial hides existence; no allowed decision hides anything.
TEST(PolicyInvariantTest, PersonLevelDenialsAreAlwaysHidden) {
  for (int r = 0; r < store::kRoleCount; ++r)
    for (int i = 0; i < kInteractionCount; ++i)
      for (const char* type : {"Patient", "Condition", "RiskAssessment", "Consent"})
        for (int64_t person : {1, 2, 3, 4, 9}) {
          Caller c = Staff(static_cast<Role>(r), "A", {7});
          if (c.role == Role::kPatient) c = PatientUser(1);
          const Action action{static_cast<Interaction>(i), type};
          const Decision unbound = DecideUnbound(c, action);
          const Decision d = Decide(c, action, Person(person));
          if (!unbound.allowed) {
            EXPECT_EQ(d.allowed, false);
            EXPECT_FALSE(d.hide_existence);
          } else if (!d.allowed) {
            EXPECT_TRUE(d.hide_existence) << RoleName(c.role) << " " << type;
          } else {
            EXPECT_FALSE(d.hide_existence);
          }
        }
}

// The person co-owns their care plan (issue 12 item 4): a patient may update — never create —
// their own CarePlan and Goals; nothing else of the Clinical column, no one else's, and not with
// a read-only token. Staff are decided by the role matrix alone.
TEST(CoOwnershipTest, APatientUpdatesTheirOwnPlanAndGoalsOnly) {
  const Caller self = PatientUser(1);
  for (const char* type : {"CarePlan", "Goal"}) {
    EXPECT_TRUE(Decide(self, {Interaction::kUpdate, type}, Person(1)).allowed) << type;
    const Decision other = Decide(self, {Interaction::kUpdate, type}, Person(2));
    EXPECT_FALSE(other.allowed);
    EXPECT_TRUE(other.hide_existence);
    EXPECT_EQ(other.reason, DenyReason::kNotSelf);
    EXPECT_FALSE(Decide(self, {Interaction::kCreate, type}, Person(1)).allowed) << type;
    EXPECT_FALSE(
        Decide(WithScopes(self, "patient/*.rs"), {Interaction::kUpdate, type}, Person(1)).allowed);
  }
  for (const char* type : {"Condition", "Task", "Flag", "QuestionnaireResponse", "Patient"})
    EXPECT_FALSE(Decide(self, {Interaction::kUpdate, type}, Person(1)).allowed) << type;
  // Staff: their row of the matrix, whatever the type.
  EXPECT_FALSE(DecideUnbound(Staff(Role::kCareAssistant, "A"), {Interaction::kUpdate, "CarePlan"}).allowed);
  EXPECT_TRUE(DecideUnbound(Staff(Role::kNurse, "A"), {Interaction::kUpdate, "CarePlan"}).allowed);
}

// Breaking the glass on a person who declined sharing overrides their decision, and says so.
TEST(BreakGlassTest, OverridingADeclinedConsentIsMarked) {
  const Caller nurse = WithReason(Staff(Role::kNurse, "A", {7}), "emergency: collapsed");
  const PatientFacts declined = Person(4);
  ASSERT_TRUE(declined.declined_sharing);
  const Decision overridden = Decide(nurse, {Interaction::kRead, "Condition"}, declined);
  EXPECT_TRUE(overridden.break_glass);
  EXPECT_TRUE(overridden.overrides_consent);
  const Decision stranger = Decide(nurse, {Interaction::kRead, "Condition"}, Person(2));
  EXPECT_TRUE(stranger.break_glass);
  EXPECT_FALSE(stranger.overrides_consent);
}

TEST(BreakGlassTest, TheRolesThatMayAreTheRegisteredClinicians) {
  std::vector<std::string_view> may;
  for (int r = 0; r < store::kRoleCount; ++r)
    if (MayBreakGlass(static_cast<Role>(r))) may.push_back(RoleName(static_cast<Role>(r)));
  EXPECT_EQ(may, (std::vector<std::string_view>{"gp", "nurse", "case-manager", "mental-health",
                                                "pharmacist"}));
}

TEST(BreakGlassTest, AReasonIsACodeAndWhatHappened) {
  auto ok = ParseBreakGlassReason("  emergency :  unconscious in A&E, no history  ");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(*ok, "emergency: unconscious in A&E, no history");
  EXPECT_TRUE(ParseBreakGlassReason("safeguarding: not seen by neighbours for days").ok());
  EXPECT_TRUE(ParseBreakGlassReason("urgent-care: at the walk-in centre, no record").ok());
  // 20 characters, counted as characters: "é" is one.
  EXPECT_TRUE(ParseBreakGlassReason("emergency: ééééééééééééééééééé\xC3\xA9").ok());
  EXPECT_FALSE(ParseBreakGlassReason("emergency: éééééééééééééééééé\xC3\xA9").ok());
  struct Bad {
    std::string given;
    std::string_view says;
  };
  for (const Bad& bad : std::vector<Bad>{
           {"unconscious in A&E, no history available", "one of emergency, urgent-care, "
                                                         "safeguarding"},
           {"curiosity: wanted to see what is there", "one of emergency"},
           {"emergency: collapsed", "at least 20 characters"},
           {"emergency:                         ", "at least 20 characters"},
           {"emergency: unconscious\tin A&E, no history", "printable"},
           {"emergency: " + std::string(490, 'x'), "at most 500 bytes"},
           {"emergency: unconscious in A&E \xFF\xFE history", "printable"},
       }) {
    auto refused = ParseBreakGlassReason(bad.given);
    ASSERT_FALSE(refused.ok()) << bad.given;
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidInput);
    EXPECT_THAT(refused.error().message, ::testing::HasSubstr(bad.says)) << bad.given;
  }
}

TEST(RoleNamesTest, RoundTrip) {
  for (int r = 0; r < store::kRoleCount; ++r)
    EXPECT_EQ(ParseRole(RoleName(static_cast<Role>(r))), static_cast<Role>(r));
  EXPECT_FALSE(ParseRole("doctor").has_value());
}

// docs/security.md carries the matrix exactly as the code has it.
TEST(RoleMatrixTest, TheDocumentedTableIsTheCodesTable) {
  std::ifstream in(JOINEDUP_SOURCE_DIR "/docs/security.md");
  ASSERT_TRUE(in) << "docs/security.md is missing";
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_THAT(text.str(), ::testing::HasSubstr(RoleMatrixMarkdown()))
      << "update docs/security.md with:\n"
      << RoleMatrixMarkdown();
}

// A record's own sharing decision (domain/sharing.h) narrows the relationship and never widens
// it. Person 3 is registered at B and on team 7; person 4 too, but declined sharing beyond B.
TEST(RecordSharingTest, EachDecisionNarrowsTheRelationship) {
  const Action read{Interaction::kRead, "QuestionnaireResponse"};
  const Caller team = Staff(Role::kNurse, "T", {7});        // on the person's care team
  const Caller practice = Staff(Role::kGp, "B");            // their practice, on no team
  const Caller both = Staff(Role::kGp, "B", {7});           // their practice and their team
  const Caller stranger = Staff(Role::kGp, "C");
  const Caller self = PatientUser(3);
  struct Case {
    RecordSharing sharing;
    bool team, practice, both, stranger, self;
  };
  for (const Case& c : {Case{RecordSharing::kCareRelationship, true, true, true, false, true},
                        Case{RecordSharing::kCareTeam, true, false, true, false, true},
                        Case{RecordSharing::kRegisteredPractice, false, true, true, false, true}}) {
    const std::string_view name = RecordSharingCode(c.sharing);
    EXPECT_EQ(DecideRecord(team, read, Person(3), c.sharing).allowed, c.team) << name;
    EXPECT_EQ(DecideRecord(practice, read, Person(3), c.sharing).allowed, c.practice) << name;
    EXPECT_EQ(DecideRecord(both, read, Person(3), c.sharing).allowed, c.both) << name;
    EXPECT_EQ(DecideRecord(stranger, read, Person(3), c.sharing).allowed, c.stranger) << name;
    EXPECT_EQ(DecideRecord(self, read, Person(3), c.sharing).allowed, c.self) << name;
    // Every refusal is hidden; care-relationship is Decide itself.
    for (const Caller* who : {&team, &practice, &both, &stranger}) {
      const Decision d = DecideRecord(*who, read, Person(3), c.sharing);
      if (!d.allowed) {
        EXPECT_TRUE(d.hide_existence) << name;
      }
      if (c.sharing == RecordSharing::kCareRelationship) {
        EXPECT_EQ(d.allowed, Decide(*who, read, Person(3)).allowed) << name;
      }
    }
  }
  // A declined consent still rules: the care team alone does not see a care-team record, the
  // practice's member of the team does.
  EXPECT_FALSE(DecideRecord(team, read, Person(4), RecordSharing::kCareTeam).allowed);
  EXPECT_TRUE(DecideRecord(both, read, Person(4), RecordSharing::kCareTeam).allowed);
  // Breaking the glass overrides the decision, and says so.
  const Decision glass = DecideRecord(WithReason(practice, "emergency: collapsed at home today"),
                                      read, Person(3), RecordSharing::kCareTeam);
  EXPECT_TRUE(glass.allowed);
  EXPECT_TRUE(glass.break_glass);
  EXPECT_TRUE(glass.overrides_consent);
  EXPECT_TRUE(glass.alert_privacy_officer);
  // Never for a search.
  EXPECT_FALSE(DecideRecord(WithReason(practice, "emergency: collapsed at home today"),
                            {Interaction::kSearch, "QuestionnaireResponse"}, Person(3),
                            RecordSharing::kCareTeam)
                   .allowed);
}

}  // namespace
}  // namespace joinedup::security
