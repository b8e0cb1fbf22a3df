// The vocabulary of identity, access and audit: organisations, roles, users, consent
// decisions, the facts the access policy decides on, bearer tokens as stored, and audit
// events. Plain values: the rules that give them meaning (security/) and where they are kept
// (store/security_store.h) are elsewhere.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace joinedup {

// Ordinals are stored: new kinds and roles go at the end.
enum class OrganisationKind : uint8_t {
  kGpPractice,
  kCommunityTrust,
  kCouncil,
  kVoluntaryOrganisation,
  kCommissioner,
};
inline constexpr int kOrganisationKindCount = 5;

enum class Role : uint8_t {
  kGp,
  kNurse,
  kCaseManager,
  kCareAssistant,  // health and social care assistant
  kSocialWorker,
  kMentalHealthPractitioner,
  kPharmacist,
  kLinkWorker,    // voluntary-sector link worker
  kCommissioner,  // commissioner / analyst
  kPrivacyOfficer,
  kAdministrator,
  kPatient,
};
inline constexpr int kRoleCount = 12;

// An organisation a user belongs to. `id` is its ODS code; a GP practice's id is the same
// code patients' `practice_id` holds, which is what "registered with the staff member's
// practice" compares.
struct Organisation {
  std::string id;
  std::string name;
  OrganisationKind kind = OrganisationKind::kGpPractice;
  friend bool operator==(const Organisation&, const Organisation&) = default;
};

struct User {
  int64_t id = 0;  // assigned by AddUser
  std::string username;
  std::string display_name;
  std::string organisation_id;
  Role role = Role::kGp;
  std::string password_hash;  // an Argon2id string (security/password.h); never the password
  bool disabled = false;
  std::optional<int64_t> patient_key;  // role kPatient only: the person this account is
  friend bool operator==(const User&, const User&) = default;
};

// A care team (security/policy.h: its members see its people) as administration lists it.
struct CareTeam {
  int64_t id = 0;
  std::string name;
  std::string organisation_id;
  int64_t members = 0;  // how many users
  int64_t people = 0;   // how many people
  std::optional<int64_t> capacity = {};  // caseload capacity (domain/caseload.h); empty: none
  friend bool operator==(const CareTeam&, const CareTeam&) = default;
};

enum class ConsentDecision : uint8_t {
  kPermitSharing,             // the default: shared with everyone who has a relationship
  kDeclineBeyondOwnPractice,  // only the person's own GP practice (and break-glass)
};

struct Consent {
  int64_t patient_key = 0;
  ConsentDecision decision = ConsentDecision::kPermitSharing;
  int64_t recorded_by = 0;  // user id
  int64_t recorded_at_ms = 0;
  friend bool operator==(const Consent&, const Consent&) = default;
};

// What the access policy needs to know about one person (security/policy.h).
struct PatientAccessFacts {
  int64_t patient_key = 0;
  std::string practice_id;             // registered practice; "" if not known
  std::vector<int64_t> care_team_ids;  // ascending
  bool declined_sharing = false;       // their latest consent is kDeclineBeyondOwnPractice
};

// A bearer token as stored: only the SHA-256 of the token, never the token itself.
struct TokenRecord {
  std::string hash_hex;  // 64 lowercase hex digits
  int64_t user_id = 0;
  std::string scopes;  // space-separated SMART scopes, as granted
  int64_t issued_at_ms = 0;
  int64_t expires_at_ms = 0;
  bool revoked = false;
  int64_t last_used_at_ms = 0;  // 0: not used since it was issued (SecurityStore::TouchToken)
  friend bool operator==(const TokenRecord&, const TokenRecord&) = default;
};

// FHIR AuditEvent.outcome codes (http://hl7.org/fhir/R4/valueset-audit-event-outcome.html).
enum class AuditOutcome : uint8_t {
  kSuccess = 0,
  kMinorFailure = 4,
  kSeriousFailure = 8,
  kMajorFailure = 12,
};

// One audit trail entry, shaped like an IHE Basic Audit Log Patterns (BALP) AuditEvent.
// `sequence`, `prev_hash` and `hash` are the chain's and are set by AppendAuditEvent.
struct AuditEvent {
  int64_t sequence = 0;
  int64_t time_ms = 0;
  char action = 'R';    // FHIR AuditEvent.action: C R U D E
  std::string subtype;  // read, search, create, update, export, login, break-glass, …
  AuditOutcome outcome = AuditOutcome::kSuccess;
  std::optional<int64_t> user_id;  // empty for a sign-in by an unknown username
  std::string username;
  std::string role;  // a snapshot: what the user was when they acted
  std::string organisation_id;
  std::string request_id;         // the server's own id for the request
  std::string client_request_id;  // the X-Request-Id the client sent, if any
  std::string source_address;
  std::string query;  // a search's query text; "" otherwise
  std::string break_glass_reason;
  std::vector<int64_t> patient_keys;  // one entity per person touched, ascending, distinct
  std::string prev_hash;
  std::string hash;
  friend bool operator==(const AuditEvent&, const AuditEvent&) = default;
};

}  // namespace joinedup
