// The access policy: deny by default, a pure function over facts (no I/O, no clock).
//
// Three questions, in order; the first "no" decides:
//   1. Scope   does the caller's token carry a SMART scope of its context (patient/ for a
//              patient, user/ for staff, system/ for a client-credentials integration) for
//              this resource type and interaction?
//   2. Role    may this role do this kind of thing at all? (kRoleMatrix below; the table in
//              docs/security.md is generated from it and a test keeps them equal)
//   3. Relationship, for a person's data: is the person registered with the caller's practice
//              or on a care team the caller belongs to — or, for a patient, is it themselves?
//              If the person declined sharing beyond their own GP practice, only that practice
//              qualifies. A clinician without a relationship may break the glass by giving a
//              reason: allowed, flagged, and the privacy officer alerted.
// A person's record the caller may not see because of (3) is hidden: the caller must answer as
// if it did not exist (404, absent from searches, totals, includes, history and exports).
// Denials at (1) and (2) say nothing about any one person and may be answered 403.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "domain/sharing.h"
#include "resources/registry.h"
#include "security/scopes.h"
#include "store/security_store.h"

namespace joinedup::security {

using store::Role;

// What a request does. Export is Bulk Data $export.
enum class Interaction : uint8_t { kRead, kSearch, kCreate, kUpdate, kExport };
inline constexpr int kInteractionCount = 5;

// Kinds of thing a role may touch: the resource registry's access categories (each type's
// category is declared there). Person-bound categories are about one identifiable person and
// need a relationship; the others are not.
using Category = resources::AccessCategory;
inline constexpr int kCategoryCount = resources::kAccessCategoryCount;
using resources::IsPersonBound;
constexpr std::string_view CategoryName(Category c) { return resources::AccessCategoryName(c); }

// The category of a type the FHIR API serves (resources::IsServed); empty for any other.
std::optional<Category> CategoryOf(std::string_view resource_type);

// Interaction bits per (role, category): bit (1 << Interaction).
using RoleRow = std::array<uint8_t, kCategoryCount>;
extern const std::array<RoleRow, store::kRoleCount> kRoleMatrix;
bool RoleAllows(Role role, Category category, Interaction interaction);
// Which roles may break the glass, per store::Role (data beside kRoleMatrix; docs/security.md).
// The registered, regulated clinicians of the team — GP, nurse, case manager (a community
// matron), mental-health practitioner, pharmacist — as NHS England's Summary Care Record allows
// emergency access to "registered and regulated healthcare professionals" only; care assistants,
// social workers (whose access is to social-care records), link workers, commissioners, privacy
// officers, administrators and patients may not.
extern const std::array<bool, store::kRoleCount> kMayBreakGlass;
bool MayBreakGlass(Role role);

// A break-glass reason as a caller gives it: "code: free text". The code says why (the SCR's
// emergency access — the person cannot give permission — or an urgent need with no relationship
// recorded yet, or a safeguarding concern); the text says what happened, at least
// kMinBreakGlassText characters, printable UTF-8, at most kMaxBreakGlassReason bytes in all.
inline constexpr std::array<std::string_view, 3> kBreakGlassCodes = {"emergency", "urgent-care",
                                                                     "safeguarding"};
inline constexpr size_t kMinBreakGlassText = 20;
inline constexpr size_t kMaxBreakGlassReason = 500;
// The reason in its one written form ("code: text", the text trimmed), or kInvalidInput saying
// what is missing.
Result<std::string> ParseBreakGlassReason(std::string_view given);

std::string_view RoleName(Role role);  // "gp", "nurse", … (stable; used on the command line)
std::optional<Role> ParseRole(std::string_view name);
// "gp_practice", "community_trust", "council", "voluntary_organisation", "commissioner".
std::string_view OrganisationKindName(store::OrganisationKind kind);
std::optional<store::OrganisationKind> ParseOrganisationKind(std::string_view name);
std::string_view InteractionName(Interaction interaction);

struct Caller {
  int64_t user_id = 0;
  Role role = Role::kGp;
  std::string organisation_id;
  std::vector<int64_t> care_team_ids;
  std::optional<int64_t> patient_key;  // role kPatient: who they are
  ScopeSet scopes;
  bool disabled = false;
  bool system_client = false;      // a client-credentials token: its scopes are system/ scopes
  std::string break_glass_reason;  // given with this request; "" for none
};

// The person the request is about (store::SecurityStore::AccessFacts).
using PatientFacts = store::PatientAccessFacts;

struct Action {
  Interaction interaction = Interaction::kRead;
  std::string_view resource_type;  // a served FHIR type
};

enum class DenyReason : uint8_t {
  kNone,
  kDisabled,
  kUnknownResourceType,
  kNoScope,
  kRoleForbids,
  kNotSelf,  // a patient asking about someone else
  kNoRelationship,
  kConsentDeclined,       // no relationship that the person's consent allows
  kBreakGlassNotAllowed,  // a reason was given, but the role may not break the glass
};

struct Decision {
  bool allowed = false;
  // Answer as if the record did not exist (404 / absent). Set on every person-level denial.
  bool hide_existence = false;
  bool break_glass = false;        // allowed only by breaking the glass: flag it in the audit
  bool overrides_consent = false;  // …of a person who declined sharing beyond their practice
  // Allowed by breaking the glass, or refused because the role may not: either way the privacy
  // officer is told.
  bool alert_privacy_officer = false;
  DenyReason reason = DenyReason::kNone;
};

// For one person's data. A non-person category passed here is decided as by DecideUnbound.
Decision Decide(const Caller& caller, const Action& action, const PatientFacts& patient);
// For one record that carries its own sharing restriction (domain/sharing.h): Decide, then
// the restriction narrows the relationship that allowed it — kCareTeam needs a care team of the
// caller's that the person is on now (their practice alone does not qualify), kRegisteredPractice
// needs the person registered at the caller's organisation. A patient's own record is theirs
// whatever it says. A clinician whom only the restriction refuses may still break the glass for
// a read: allowed with `overrides_consent` set (the person's decision is overridden).
// kCareRelationship decides exactly as Decide.
Decision DecideRecord(const Caller& caller, const Action& action, const PatientFacts& patient,
                      RecordSharing sharing);
// For anything not about one person: directory, audit, population figures — and the first
// check of a search over people (scope and role), whose rows are then each passed to Decide.
Decision DecideUnbound(const Caller& caller, const Action& action);

// The person co-owns their care plan (issue 12 item 4; seed 001: "patient-owned care plans";
// PRSB Personalised Care and Support Plan: the person's own "About me" and goals): a patient
// may update — never create — these types, beyond the role matrix's Clinical column. Only
// their own (Decide's self rule), and only the parts that are theirs: the records service
// refuses any other element, naming it (records/care_plan.h, PersonMayChange).
inline constexpr std::array<std::string_view, 2> kPersonCoOwnedTypes = {"CarePlan", "Goal"};
bool CoOwnedByThePerson(Role role, const Action& action);

std::string_view DenyReasonName(DenyReason reason);
// The role matrix as a Markdown table (docs/security.md carries this text).
std::string RoleMatrixMarkdown();

}  // namespace joinedup::security
