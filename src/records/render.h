// FHIR JSON for the records the population mapping (fhir/fhir_mapping.h) does not write:
// RiskAssessment (a person's stratification result), Group (a run's segment), Consent and
// AuditEvent (IHE BALP shape), and the Consent reader.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/date.h"
#include "core/result.h"
#include "domain/disclosure.h"
#include "store/resource_store.h"

namespace joinedup::records {

inline constexpr std::string_view kUserIdentifierSystem = "https://joinedup.example/fhir/Id/user";
inline constexpr std::string_view kPatientKeyIdentifierSystem =
    "https://joinedup.example/fhir/Id/patient-key";
inline constexpr std::string_view kRequestIdentifierSystem =
    "https://joinedup.example/fhir/Id/request";
// The X-Request-Id a client sent, kept beside the server's own request id.
inline constexpr std::string_view kClientRequestIdentifierSystem =
    "https://joinedup.example/fhir/Id/client-request";
inline constexpr std::string_view kAuditSubtypeSystem =
    "https://joinedup.example/fhir/CodeSystem/audit-subtype";

using ::joinedup::FormatInstant;  // core/date.h

std::string RiskAssessmentJson(const store::RiskResult& risk, std::string_view id);
// The segments a person is in, one label per model that places them ("Tier 4: …"); models that
// leave them outside or in no segment are left out.
std::vector<std::string> SegmentLabels(const store::RiskResult& risk);
// Why a person's emergency-admission risk rose between two runs, in plain words, from the
// inputs recorded in both: what rose among long-term conditions, frailty (eFI deficits, HFRS),
// comorbidity (Charlson, Elixhauser), 12-month cost, and a change of segment. When none of
// those rose, one line says the rise came from the model's other inputs (age, activity).
std::vector<std::string> RiseReasons(const store::RiskResult& before, const store::RiskResult& now);
// `counts`: how the segment's size is shown (domain/disclosure.h); a suppressed one has no
// quantity, only its data-absent-reason ("masked").
std::string GroupJson(const store::Segment& segment, std::string_view id,
                      const DisclosureRule& counts);
std::string ConsentJson(const store::ConsentRecord& consent);
std::string AuditEventJson(const store::AuditEvent& event);

// A Consent resource from a client, read for RecordConsent. The mapping (docs/fhir-api.md):
// status must be "active"; patient.reference "Patient/<id>"; provision.type "permit" → sharing
// with everyone who has a care relationship (kPermitSharing), "deny" → decline sharing beyond
// the person's own GP practice (kDeclineBeyondOwnPractice). Anything else is refused naming
// the field.
struct ConsentInput {
  std::string patient_id;
  store::ConsentDecision decision = store::ConsentDecision::kPermitSharing;
};
// kInvalidInput naming the field (Error::field) otherwise.
Result<ConsentInput> ReadConsent(std::string_view json);

}  // namespace joinedup::records
