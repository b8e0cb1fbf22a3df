#include "security/policy.h"

#include <algorithm>

#include "core/strings.h"

namespace joinedup::security {
namespace {

constexpr uint8_t R = 1 << static_cast<int>(Interaction::kRead);
constexpr uint8_t S = 1 << static_cast<int>(Interaction::kSearch);
constexpr uint8_t C = 1 << static_cast<int>(Interaction::kCreate);
constexpr uint8_t U = 1 << static_cast<int>(Interaction::kUpdate);
constexpr uint8_t E = 1 << static_cast<int>(Interaction::kExport);

constexpr std::array<std::string_view, store::kRoleCount> kRoleNames = {"gp",
                                                                        "nurse",
                                                                        "case-manager",
                                                                        "care-assistant",
                                                                        "social-worker",
                                                                        "mental-health",
                                                                        "pharmacist",
                                                                        "link-worker",
                                                                        "commissioner",
                                                                        "privacy-officer",
                                                                        "administrator",
                                                                        "patient"};

Decision Deny(DenyReason reason, bool hide = false) {
  Decision d;
  d.reason = reason;
  d.hide_existence = hide;
  return d;
}

Decision Allow() {
  Decision d;
  d.allowed = true;
  return d;
}

// SMART permission letters an interaction needs. Bulk export reads and searches.
uint8_t PermissionsFor(Interaction interaction) {
  switch (interaction) {
    case Interaction::kRead:
      return Permission::kRead;
    case Interaction::kSearch:
      return Permission::kSearch;
    case Interaction::kCreate:
      return Permission::kCreate;
    case Interaction::kUpdate:
      return Permission::kUpdate;
    case Interaction::kExport:
      return Permission::kRead | Permission::kSearch;
  }
  return 0;
}

bool IsBlank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c == ' ' || c == '\t'; });
}

std::string_view TrimBlanks(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Characters, not bytes, of valid UTF-8: every byte but a continuation byte starts one.
size_t CountCharacters(std::string_view text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

}  // namespace

// Rows follow store::Role; columns follow Category:
//   Demographics, Clinical, Risk, Consent, Directory, Audit, Population
const std::array<RoleRow, store::kRoleCount> kRoleMatrix = {{
    /* gp              */ {R | S | C | U | E, R | S | C | U | E, R | S | E, R | S | C | U, R | S, 0,
                           R | S},
    /* nurse           */ {R | S | U, R | S | C | U, R | S, R | S | C | U, R | S, 0, 0},
    /* case-manager    */ {R | S | U, R | S | C | U, R | S, R | S | C | U, R | S, 0, R | S},
    /* care-assistant  */ {R | S, R | S, 0, R | S, R | S, 0, 0},
    /* social-worker   */ {R | S | U, R | S, R | S, R | S | C, R | S, 0, 0},
    /* mental-health   */ {R | S, R | S | C | U, R | S, R | S | C | U, R | S, 0, 0},
    /* pharmacist      */ {R | S, R | S | C | U, 0, R | S, R | S, 0, 0},
    /* link-worker     */ {R | S, 0, 0, R | S, R | S, 0, 0},
    /* commissioner    */ {0, 0, 0, 0, R | S, 0, R | S | E},
    /* privacy-officer */ {0, 0, 0, 0, R | S, R | S, 0},
    /* administrator   */ {0, 0, 0, 0, R | S | C | U, 0, 0},
    /* patient         */ {R | S, R | S, 0, R | S | C | U, R | S, 0, 0},
}};

std::optional<Category> CategoryOf(std::string_view type) {
  if (!resources::IsServed(type)) return std::nullopt;
  return resources::CategoryOf(type);
}

bool RoleAllows(Role role, Category category, Interaction interaction) {
  const auto r = static_cast<size_t>(role);
  const auto c = static_cast<size_t>(category);
  if (r >= kRoleMatrix.size() || c >= kCategoryCount) return false;
  return (kRoleMatrix[r][c] & (1u << static_cast<int>(interaction))) != 0;
}

// Rows follow store::Role (policy.h says why these).
const std::array<bool, store::kRoleCount> kMayBreakGlass = {
    /* gp */ true,
    /* nurse */ true,
    /* case-manager */ true,
    /* care-assistant */ false,
    /* social-worker */ false,
    /* mental-health */ true,
    /* pharmacist */ true,
    /* link-worker */ false,
    /* commissioner */ false,
    /* privacy-officer */ false,
    /* administrator */ false,
    /* patient */ false};

bool MayBreakGlass(Role role) {
  const auto r = static_cast<size_t>(role);
  return r < kMayBreakGlass.size() && kMayBreakGlass[r];
}

Result<std::string> ParseBreakGlassReason(std::string_view given) {
  auto refuse = [](std::string why) { return Error{ErrorCode::kInvalidInput, std::move(why)}; };
  if (given.size() > kMaxBreakGlassReason || !IsValidUtf8(given))
    return refuse("a break-glass reason is printable UTF-8 text of at most 500 bytes");
  for (char ch : given)
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7F)
      return refuse("a break-glass reason is printable UTF-8 text of at most 500 bytes");
  const size_t colon = given.find(':');
  const std::string_view code = TrimBlanks(given.substr(0, colon));
  std::string codes;
  for (std::string_view c : kBreakGlassCodes) codes += (codes.empty() ? "" : ", ") + std::string(c);
  if (colon == std::string_view::npos ||
      std::find(kBreakGlassCodes.begin(), kBreakGlassCodes.end(), code) == kBreakGlassCodes.end())
    return refuse("a break-glass reason starts with why — one of " + codes +
                  " — then a colon and what has happened");
  const std::string_view text = TrimBlanks(given.substr(colon + 1));
  if (CountCharacters(text) < kMinBreakGlassText)
    return refuse("say what has happened, in at least 20 characters, after the reason's code");
  return std::string(code) + ": " + std::string(text);
}

std::string_view RoleName(Role role) {
  const auto r = static_cast<size_t>(role);
  return r < kRoleNames.size() ? kRoleNames[r] : "unknown";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (size_t r = 0; r < kRoleNames.size(); ++r)
    if (kRoleNames[r] == name) return static_cast<Role>(r);
  return std::nullopt;
}

namespace {
// Rows follow store::OrganisationKind.
constexpr std::array<std::string_view, store::kOrganisationKindCount> kOrganisationKindNames = {
    "gp_practice", "community_trust", "council", "voluntary_organisation", "commissioner"};
}  // namespace

std::string_view OrganisationKindName(store::OrganisationKind kind) {
  const auto k = static_cast<size_t>(kind);
  return k < kOrganisationKindNames.size() ? kOrganisationKindNames[k] : "unknown";
}

std::optional<store::OrganisationKind> ParseOrganisationKind(std::string_view name) {
  for (size_t k = 0; k < kOrganisationKindNames.size(); ++k)
    if (kOrganisationKindNames[k] == name) return static_cast<store::OrganisationKind>(k);
  return std::nullopt;
}

std::string_view InteractionName(Interaction interaction) {
  constexpr std::array<std::string_view, kInteractionCount> kNames = {"read", "search", "create",
                                                                      "update", "export"};
  return kNames[static_cast<size_t>(interaction)];
}

std::string_view DenyReasonName(DenyReason reason) {
  constexpr std::array<std::string_view, 9> kNames = {"none",
                                                      "disabled",
                                                      "unknown-resource-type",
                                                      "no-scope",
                                                      "role-forbids",
                                                      "not-self",
                                                      "no-relationship",
                                                      "consent-declined",
                                                      "break-glass-not-allowed"};
  return kNames[static_cast<size_t>(reason)];
}

namespace {

// The person is registered at the caller's organisation (their practice).
bool AtPractice(const Caller& caller, const PatientFacts& patient) {
  return !patient.practice_id.empty() && patient.practice_id == caller.organisation_id;
}

// The caller is on one of the person's care teams.
bool SharesATeam(const Caller& caller, const PatientFacts& patient) {
  return std::any_of(caller.care_team_ids.begin(), caller.care_team_ids.end(), [&](int64_t team) {
    return std::find(patient.care_team_ids.begin(), patient.care_team_ids.end(), team) !=
           patient.care_team_ids.end();
  });
}

// Break-glass opens one record: reads only, never a search across people or an export; the
// privacy officer is alerted either way (a role that may not break the glass has tried).
Decision BreakGlass(const Caller& caller, const Action& action, bool overrides_consent) {
  if (!MayBreakGlass(caller.role) || action.interaction != Interaction::kRead) {
    Decision d = Deny(DenyReason::kBreakGlassNotAllowed, /*hide=*/true);
    d.alert_privacy_officer = !MayBreakGlass(caller.role);
    return d;
  }
  Decision d = Allow();
  d.break_glass = true;
  d.overrides_consent = overrides_consent;
  d.alert_privacy_officer = true;
  return d;
}

}  // namespace

bool CoOwnedByThePerson(Role role, const Action& action) {
  return role == Role::kPatient && action.interaction == Interaction::kUpdate &&
         std::find(kPersonCoOwnedTypes.begin(), kPersonCoOwnedTypes.end(),
                   action.resource_type) != kPersonCoOwnedTypes.end();
}

Decision DecideUnbound(const Caller& caller, const Action& action) {
  if (caller.disabled) return Deny(DenyReason::kDisabled);
  const std::optional<Category> category = CategoryOf(action.resource_type);
  if (!category) return Deny(DenyReason::kUnknownResourceType);
  // A system integration (client-credentials token) acts in system/ scopes; it still has only
  // its service account's role and relationships, never more.
  const ScopeContext context = caller.system_client            ? ScopeContext::kSystem
                               : caller.role == Role::kPatient ? ScopeContext::kPatient
                                                               : ScopeContext::kUser;
  if (!caller.scopes.Allows(context, action.resource_type, PermissionsFor(action.interaction)))
    return Deny(DenyReason::kNoScope);
  if (!RoleAllows(caller.role, *category, action.interaction) &&
      !CoOwnedByThePerson(caller.role, action))
    return Deny(DenyReason::kRoleForbids);
  return Allow();
}

Decision Decide(const Caller& caller, const Action& action, const PatientFacts& patient) {
  Decision unbound = DecideUnbound(caller, action);
  if (!unbound.allowed) return unbound;
  if (!IsPersonBound(*CategoryOf(action.resource_type))) return unbound;

  if (caller.role == Role::kPatient) {
    if (caller.patient_key && *caller.patient_key == patient.patient_key) return Allow();
    return Deny(DenyReason::kNotSelf, /*hide=*/true);
  }
  if (AtPractice(caller, patient)) return Allow();
  const bool shared_team = SharesATeam(caller, patient);
  if (shared_team && !patient.declined_sharing) return Allow();
  const DenyReason reason = shared_team && patient.declined_sharing ? DenyReason::kConsentDeclined
                                                                    : DenyReason::kNoRelationship;
  if (!IsBlank(caller.break_glass_reason))
    return BreakGlass(caller, action, reason == DenyReason::kConsentDeclined);
  return Deny(reason, /*hide=*/true);
}

Decision DecideRecord(const Caller& caller, const Action& action, const PatientFacts& patient,
                      RecordSharing sharing) {
  Decision decided = Decide(caller, action, patient);
  if (sharing == RecordSharing::kCareRelationship || caller.role == Role::kPatient) return decided;
  if (!decided.allowed) return decided;
  if (decided.break_glass) {
    // No relationship at all, and the glass broken: the record's restriction is overridden too.
    decided.overrides_consent = true;
    return decided;
  }
  // Decide allowed it by the practice, or by a shared team the person's consent allows: the
  // record's own decision narrows that (seed 004: Mrs A gives "permission to share the
  // information from her assessment"; she may give it to fewer).
  const bool shared = sharing == RecordSharing::kCareTeam ? SharesATeam(caller, patient)
                                                          : AtPractice(caller, patient);
  if (shared) return decided;
  if (!IsBlank(caller.break_glass_reason)) return BreakGlass(caller, action, true);
  return Deny(DenyReason::kConsentDeclined, /*hide=*/true);
}

std::string RoleMatrixMarkdown() {
  std::string out = "| Role |";
  for (int c = 0; c < kCategoryCount; ++c)
    out += " " + std::string(CategoryName(static_cast<Category>(c))) + " |";
  out += "\n|---|";
  for (int c = 0; c < kCategoryCount; ++c) out += "---|";
  out += "\n";
  out.insert(out.find("\n"), " Break glass |");
  out.insert(out.find("\n", out.find("\n") + 1), "---|");
  constexpr std::string_view kLetters = "RSCUE";  // read search create update export
  for (int r = 0; r < store::kRoleCount; ++r) {
    out += "| " + std::string(kRoleNames[static_cast<size_t>(r)]) + " |";
    for (int c = 0; c < kCategoryCount; ++c) {
      std::string cell;
      for (int i = 0; i < kInteractionCount; ++i)
        if (kRoleMatrix[static_cast<size_t>(r)][static_cast<size_t>(c)] & (1u << i))
          cell += kLetters[static_cast<size_t>(i)];
      out += " " + (cell.empty() ? std::string("–") : cell) + " |";
    }
    out += kMayBreakGlass[static_cast<size_t>(r)] ? " yes |\n" : " – |\n";
  }
  return out;
}

}  // namespace joinedup::security
