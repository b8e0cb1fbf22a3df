#include "security/audit.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "core/strings.h"

#include "security/crypto.h"

namespace joinedup::security {
namespace {

void Field(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += '=';
  out += std::to_string(value.size());
  out += ':';
  out += value;
  out += '\n';
}

// Text as valid UTF-8: a byte that begins no valid sequence becomes "%XX".
std::string ValidUtf8Text(std::string_view text) {
  if (IsValidUtf8(text)) return std::string(text);
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const size_t length = Utf8SequenceLength(text, i);
    if (length == 0) {
      const auto byte = static_cast<unsigned char>(text[i++]);
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
      continue;
    }
    out.append(text.substr(i, length));
    i += length;
  }
  return out;
}

}  // namespace

AuditActor AuditActor::Operator() {
  const char* user = std::getenv("USER");
  AuditActor actor;
  actor.username = std::string("cli:") + (user != nullptr ? user : "unknown");
  actor.role = "operator";
  actor.source_address = "local";
  return actor;
}

int64_t SystemClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string CanonicalAuditText(const store::AuditEvent& e) {
  std::string out = "joinedup-audit-v1\n";
  Field(out, "sequence", std::to_string(e.sequence));
  Field(out, "time_ms", std::to_string(e.time_ms));
  Field(out, "action", std::string(1, e.action));
  Field(out, "subtype", e.subtype);
  Field(out, "outcome", std::to_string(static_cast<int>(e.outcome)));
  Field(out, "user_id", e.user_id ? std::to_string(*e.user_id) : "");
  Field(out, "username", e.username);
  Field(out, "role", e.role);
  Field(out, "organisation_id", e.organisation_id);
  Field(out, "request_id", e.request_id);
  // Added after the first events were written: absent when empty, so their hashes still hold.
  if (!e.client_request_id.empty()) Field(out, "client_request_id", e.client_request_id);
  Field(out, "source_address", e.source_address);
  Field(out, "query", e.query);
  Field(out, "break_glass_reason", e.break_glass_reason);
  std::string keys;
  for (int64_t key : e.patient_keys) {
    if (!keys.empty()) keys += ',';
    keys += std::to_string(key);
  }
  Field(out, "patient_keys", keys);
  Field(out, "prev_hash", e.prev_hash);
  return out;
}

std::string AuditEventHash(const store::AuditEvent& event) {
  return Sha256Hex(event.prev_hash + CanonicalAuditText(event));
}

Result<store::AuditEvent> AuditTrail::Record(const AuditActor& actor, AuditEntry entry) {
  store::AuditEvent event;
  event.time_ms = clock_();
  event.action = entry.action;
  event.subtype = std::move(entry.subtype);
  event.outcome = entry.outcome;
  event.user_id = actor.user_id;
  event.username = ValidUtf8Text(actor.username);
  event.role = actor.role;
  event.organisation_id = actor.organisation_id;
  event.request_id = actor.request_id;
  event.client_request_id = ValidUtf8Text(actor.client_request_id);
  event.source_address = ValidUtf8Text(actor.source_address);
  event.query = ValidUtf8Text(entry.query);
  event.break_glass_reason = std::move(entry.break_glass_reason);
  std::vector<int64_t>& keys = entry.patient_keys;
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  event.patient_keys = std::move(keys);
  return store_.AppendAuditEvent(std::move(event), AuditEventHash);
}

Result<ChainVerification> VerifyAuditChain(store::SecurityStore& store) {
  ChainVerification result;
  std::string prev_hash(64, '0');
  int64_t expected = 1;
  auto broken = [&](int64_t sequence, std::string problem) {
    result.first_broken = sequence;
    result.problem = std::move(problem);
    // Stop the walk: the first break is the finding.
    return Error{ErrorCode::kConflict, "chain broken"};
  };
  Status walked = store.ScanAuditEvents(0, [&](const store::AuditEvent& e) -> Status {
    ++result.events;
    if (e.sequence != expected)
      return broken(expected, "event " + std::to_string(expected) + " is missing (next stored is " +
                                  std::to_string(e.sequence) + ")");
    if (e.prev_hash != prev_hash)
      return broken(e.sequence, "event " + std::to_string(e.sequence) +
                                    "'s prev_hash does not match the hash of event " +
                                    std::to_string(e.sequence - 1));
    if (AuditEventHash(e) != e.hash)
      return broken(e.sequence, "event " + std::to_string(e.sequence) +
                                    " does not match its hash (it was altered)");
    prev_hash = e.hash;
    result.head_sequence = e.sequence;
    result.head_hash = e.hash;
    ++expected;
    return Ok();
  });
  if (!walked.ok() && !result.first_broken) return walked.take_error();
  if (result.first_broken) {
    result.head_sequence = 0;
    result.head_hash.clear();
  }
  return result;
}

}  // namespace joinedup::security
