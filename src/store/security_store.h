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
#include "domain/security.h"

namespace joinedup::store {

// The security vocabulary is the domain's (domain/security.h); the store keeps its records.
using ::joinedup::AuditEvent;
using ::joinedup::AuditOutcome;
using ::joinedup::CareTeam;
using ::joinedup::Consent;
using ::joinedup::ConsentDecision;
using ::joinedup::kOrganisationKindCount;
using ::joinedup::kRoleCount;
using ::joinedup::Organisation;
using ::joinedup::OrganisationKind;
using ::joinedup::PatientAccessFacts;
using ::joinedup::Role;
using ::joinedup::TokenRecord;
using ::joinedup::User;

// Search filters; empty ones do not filter. Times are inclusive [from, to].
struct AuditQuery {
  std::optional<int64_t> patient_key = {};
  std::optional<int64_t> user_id = {};
  std::optional<int64_t> from_ms = {};
  std::optional<int64_t> to_ms = {};
  std::vector<std::string> subtypes = {};  // any of these
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
  virtual Result<std::vector<Organisation>> Organisations() = 0;  // by id
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
  // Replaces user `user.id`'s display name, organisation, role, disabled flag and patient key
  // (never the username or password hash), with AddUser's checks; kNotFound if no such user.
  virtual Status UpdateUser(const User& user) = 0;
  // kInvalidInput for an empty hash; kNotFound if no such user.
  virtual Status SetUserPasswordHash(int64_t user_id, std::string_view password_hash) = 0;
  // The key of the stored patient with that NHS number, if any.
  virtual Result<std::optional<int64_t>> PatientKeyForNhsNumber(const NhsNumber& nhs_number) = 0;

  // ---- Care teams (caseloads and MDTs will fill these) ----------------------------------------

  // Returns the new team's id; kNotFound if the organisation is not known.
  virtual Result<int64_t> AddCareTeam(std::string_view name, std::string_view organisation_id) = 0;
  // Idempotent; kNotFound naming the team, user or patient that is not known. Adding a person
  // whose membership had an end (Visibility::as_at_ms) opens it again.
  virtual Status AddCareTeamMember(int64_t care_team_id, int64_t user_id) = 0;
  virtual Status AddCareTeamPatient(int64_t care_team_id, int64_t patient_key) = 0;
  virtual Result<std::vector<int64_t>> CareTeamsOfUser(int64_t user_id) = 0;  // ascending
  // Every team with its counts, by name then id; one team (empty if none).
  virtual Result<std::vector<CareTeam>> CareTeams() = 0;
  virtual Result<std::optional<CareTeam>> FindCareTeam(int64_t care_team_id) = 0;
  virtual Result<std::vector<int64_t>> CareTeamMembers(int64_t care_team_id) = 0;  // ascending
  // Idempotent (removing someone who is not on the team changes nothing); kNotFound for a
  // team that is not known.
  virtual Status RemoveCareTeamMember(int64_t care_team_id, int64_t user_id) = 0;
  virtual Status RemoveCareTeamPatient(int64_t care_team_id, int64_t patient_key) = 0;

  // ---- Consent --------------------------------------------------------------------------------

  // Appends a decision (history is kept; the latest by time, then by order recorded, counts)
  // and returns its id (FHIR Consent.id). kNotFound if the patient or the recording user is
  // not known.
  virtual Result<int64_t> RecordConsent(const Consent& consent) = 0;
  virtual Result<std::optional<Consent>> LatestConsent(int64_t patient_key) = 0;
  // Empty if there is no such patient. Care teams whose membership of the person has ended
  // by `as_at_ms` (a discharge's grace period is over) are not among its care_team_ids.
  virtual Result<std::optional<PatientAccessFacts>> AccessFacts(int64_t patient_key,
                                                                int64_t as_at_ms) = 0;

  // ---- Tokens ---------------------------------------------------------------------------------

  // kConflict if the hash is already stored; kNotFound if the user is not known.
  virtual Status AddToken(const TokenRecord& token) = 0;
  virtual Result<std::optional<TokenRecord>> FindToken(std::string_view hash_hex) = 0;
  virtual Status RevokeToken(std::string_view hash_hex) = 0;  // kNotFound if not stored
  // Records that the token was used at `now_ms` (later than any use recorded before).
  virtual Status TouchToken(std::string_view hash_hex, int64_t now_ms) = 0;
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
