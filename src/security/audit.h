// The audit trail: IHE BALP-shaped events (store::AuditEvent) in a SHA-256 hash chain.
//
// Each event's hash = SHA-256(prev_hash || CanonicalAuditText(event)), hex; the first event's
// prev_hash is 64 zeros. Changing, removing or inserting any stored event breaks the chain at
// that event, which VerifyAuditChain finds. (Removing the newest events leaves a shorter valid
// chain: keep the head's sequence and hash somewhere else — `joinedup audit verify` prints them
// — to detect that too.) The database refuses UPDATE and DELETE on the tables as well.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/security_store.h"

namespace joinedup::security {

// Milliseconds since the Unix epoch; injectable so tests control time.
using Clock = std::function<int64_t()>;
int64_t SystemClockMs();

// Every field but `hash`, each as "name=<byte length>:<bytes>\n" after a version line, so no
// two different events serialise alike.
std::string CanonicalAuditText(const store::AuditEvent& event);
std::string AuditEventHash(const store::AuditEvent& event);

// Who an event names as acting, and from where. A person signed in to the server, a system
// client, or an operator at the command line.
struct AuditActor {
  std::optional<int64_t> user_id;  // empty: not (yet) a known user, or the command line
  std::string username;
  std::string role;  // a snapshot: what the user was when they acted
  std::string organisation_id;
  std::string request_id;         // the server's own
  std::string client_request_id;  // what the client sent as X-Request-Id, if anything
  std::string source_address;

  // The operator of a `joinedup` command: "cli:$USER", role "operator", from "local".
  static AuditActor Operator();
};

// What happened, and to whom.
struct AuditEntry {
  char action = 'R';  // FHIR AuditEvent.action: C R U D E
  std::string subtype = {};
  store::AuditOutcome outcome = store::AuditOutcome::kSuccess;
  std::vector<int64_t> patient_keys = {};  // any order; repeats are kept once
  std::string query = {};                  // what was asked, as text
  std::string break_glass_reason = {};     // given only when the glass was broken
};

// Appends events with the server's time. Every AuditEvent joinedup writes is built here, by
// Record, so every one is shaped alike. Thread safety: as the store's.
class AuditTrail {
 public:
  AuditTrail(store::SecurityStore& store, Clock clock) : store_(store), clock_(std::move(clock)) {}
  // The event of `entry` by `actor` at the clock's time, appended to the chain. The audit
  // trail holds valid UTF-8 only (both backends): bytes of the query that are not are kept
  // as %XX escapes.
  Result<store::AuditEvent> Record(const AuditActor& actor, AuditEntry entry);

 private:
  store::SecurityStore& store_;
  Clock clock_;
};

struct ChainVerification {
  int64_t events = 0;                   // events read
  std::optional<int64_t> first_broken;  // sequence number of the first bad event
  std::string problem;                  // what is wrong with it
  int64_t head_sequence = 0;            // the last event (of an intact chain)
  std::string head_hash;
  bool intact() const { return !first_broken; }
};

// Walks the whole trail in sequence order. Errors are the store's (a broken chain is not one).
Result<ChainVerification> VerifyAuditChain(store::SecurityStore& store);

}  // namespace joinedup::security
