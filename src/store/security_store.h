// SecurityStore: the records behind identity, access control and audit (schema migration 3).
//
// A separate interface from the population methods of Store (which inherits it), so the
// security layer's contract is read in one place. Records are plain values; the rules that
// give them meaning (password hashing, token hashing, the access policy, the audit hash chain)
// live in src/security — the store keeps, finds and refuses, nothing more.
//
// Times are int64 milliseconds since 1970-01-01T00:00:00Z taken from the caller's clock, so
// tests control them and both backends store the same integers.
//
// Every write below runs in its own transaction and is refused with kConflict while a Writer
// is open on the same Store. Thread safety as for Store: one thread at a time per Store.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/nhs_number.h"
#include "core/result.h"

namespace joinedup::store {

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
  std::string request_id;
  std::string source_address;
  std::string query;  // a search's query text; "" otherwise
  std::string break_glass_reason;
  std::vector<int64_t> patient_keys;  // one entity per person touched, ascending, distinct
  std::string prev_hash;
  std::string hash;
  friend bool operator==(const AuditEvent&, const AuditEvent&) = default;
};

// Search filters; empty ones do not filter. Times are inclusive [from, to].
struct AuditQuery {
  std::optional<int64_t> patient_key = {};
  std::optional<int64_t> user_id = {};
  std::optional<int64_t> from_ms = {};
  std::optional<int64_t> to_ms = {};
  int limit = 1000;
};

// Computes the hash of an event whose sequence and prev_hash are set (security/audit.h).
using AuditSealer = std::function<std::string(const AuditEvent&)>;

class SecurityStore {
 public:
  virtual ~SecurityStore() = default;

  // ---- Organisations and users ----------------------------------------------------------------

  // Adds or replaces (by id) an organisation. kInvalidInput for an empty id or name.
  virtual Status PutOrganisation(const Organisation& organisation) = 0;
  virtual Result<std::optional<Organisation>> FindOrganisation(std::string_view id) = 0;
  // Adds a user and returns its id (`user.id` is ignored). Refused, writing nothing:
  //   kInvalidInput  empty username, display name or password hash; a patient without a
  //                  patient_key, or a patient_key on any other role;
  //   kConflict      the username is taken ("username 'x' is already taken");
  //   kNotFound      "Organization/X is not known", "patient_key N is not a known patient".
  virtual Result<int64_t> AddUser(const User& user) = 0;
  virtual Result<std::optional<User>> FindUser(std::string_view username) = 0;
  virtual Result<std::optional<User>> FindUserById(int64_t id) = 0;
  virtual Result<std::vector<User>> Users() = 0;                       // by username
  virtual Status SetUserDisabled(int64_t user_id, bool disabled) = 0;  // kNotFound if no user
  // The key of the stored patient with that NHS number, if any.
  virtual Result<std::optional<int64_t>> PatientKeyForNhsNumber(const NhsNumber& nhs_number) = 0;

  // ---- Care teams (caseloads and MDTs will fill these) ----------------------------------------

  // Returns the new team's id; kNotFound if the organisation is not known.
  virtual Result<int64_t> AddCareTeam(std::string_view name, std::string_view organisation_id) = 0;
  // Idempotent; kNotFound naming the team, user or patient that is not known.
  virtual Status AddCareTeamMember(int64_t care_team_id, int64_t user_id) = 0;
  virtual Status AddCareTeamPatient(int64_t care_team_id, int64_t patient_key) = 0;
  virtual Result<std::vector<int64_t>> CareTeamsOfUser(int64_t user_id) = 0;  // ascending

  // ---- Consent --------------------------------------------------------------------------------

  // Appends a decision (history is kept; the latest by time, then by order recorded, counts)
  // and returns its id (FHIR Consent.id). kNotFound if the patient or the recording user is
  // not known.
  virtual Result<int64_t> RecordConsent(const Consent& consent) = 0;
  virtual Result<std::optional<Consent>> LatestConsent(int64_t patient_key) = 0;
  // Empty if there is no such patient.
  virtual Result<std::optional<PatientAccessFacts>> AccessFacts(int64_t patient_key) = 0;

  // ---- Tokens ---------------------------------------------------------------------------------

  // kConflict if the hash is already stored; kNotFound if the user is not known.
  virtual Status AddToken(const TokenRecord& token) = 0;
  virtual Result<std::optional<TokenRecord>> FindToken(std::string_view hash_hex) = 0;
  virtual Status RevokeToken(std::string_view hash_hex) = 0;  // kNotFound if not stored
  // Revokes every token of the user; returns how many were live (not already revoked).
  virtual Result<int64_t> RevokeUserTokens(int64_t user_id) = 0;

  // ---- Audit trail (append-only: the database refuses UPDATE and DELETE) ----------------------

  // Appends `event` at the head of the chain: sets sequence (the head's + 1, from 1) and
  // prev_hash (the head's hash; 64 zeros for the first), asks `seal` for the hash, and stores
  // the event with one entity row per patient key. Appends are serialised across connections
  // and processes (SQLite: the write lock; PostgreSQL: an advisory lock held to commit), so the
  // chain never forks. kInvalidInput for an action outside CRUDE or repeated patient keys.
  virtual Result<AuditEvent> AppendAuditEvent(AuditEvent event, const AuditSealer& seal) = 0;
  // Calls `fn` for every event with sequence > after_sequence, in sequence order; stops at and
  // returns the first error `fn` returns.
  virtual Status ScanAuditEvents(int64_t after_sequence,
                                 const std::function<Status(const AuditEvent&)>& fn) = 0;
  // Events matching every filter, oldest first, at most query.limit (1..10000).
  virtual Result<std::vector<AuditEvent>> SearchAuditEvents(const AuditQuery& query) = 0;
};

}  // namespace joinedup::store
