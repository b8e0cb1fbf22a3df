// FHIR JSON for RiskAssessment, Group, Consent and AuditEvent (render.h). Built with nlohmann's
// ordered_json so members keep FHIR's usual order; invalid UTF-8 from the store is replaced on
// output rather than throwing.
#include "records/render.h"

#include <nlohmann/json.hpp>

#include <cinttypes>
#include <cstdio>
#include <ctime>

#include "analytics/efi.h"
#include "analytics/hfrs.h"
#include "fhir/fhir_mapping.h"
#include "fhir/resource.h"

namespace joinedup::records {
namespace {

using json = nlohmann::ordered_json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json Coding(std::string_view system, std::string_view code, std::string_view display = {}) {
  json c = {{"system", system}, {"code", code}};
  if (!display.empty()) c["display"] = display;
  return c;
}

std::string Pounds(int64_t pence) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "£%" PRId64 ".%02d", pence / 100, static_cast<int>(pence % 100));
  return buf;
}

// "£1,234": whole pounds (rounded half up) with thousands separators, for sentences.
std::string WholePounds(int64_t pence) {
  const bool negative = pence < 0;
  const int64_t pounds = ((negative ? -pence : pence) + 50) / 100;
  const std::string digits = std::to_string(pounds);
  std::string out = negative ? "-£" : "£";
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string Tenths(int tenths) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%d.%d", tenths / 10, std::abs(tenths % 10));
  return buf;
}

// FHIR restful-interaction codes (http://hl7.org/fhir/R4/codesystem-restful-interaction.html)
// for the subtypes that are REST interactions; joinedup's own codes otherwise.
bool IsRestInteraction(std::string_view subtype) {
  for (std::string_view code : {"read", "vread", "update", "create", "search", "history",
                                "history-instance", "capabilities", "operation"})
    if (subtype == code) return true;
  return false;
}

Error Refuse(std::string field, std::string message) {
  return Error{ErrorCode::kInvalidInput, std::move(message), std::move(field)};
}

}  // namespace

std::string RiskAssessmentJson(const store::RiskResult& risk, std::string_view id) {
  const PersonRunResult& r = risk.result;
  json j = {{"resourceType", "RiskAssessment"}, {"id", id}, {"status", "final"}};
  j["method"] = {{"text", "joinedup stratification run " + std::to_string(risk.run.id)}};
  j["subject"] = {{"reference", "Patient/" + risk.patient_id}};
  j["occurrenceDateTime"] = risk.run.index_date.ToString();
  j["prediction"] = json::array(
      {{{"outcome", {{"text", "Emergency admission within 12 months of the index date"}}},
        {"probabilityDecimal", static_cast<double>(r.admission_risk)}}});
  // The scores behind the prediction and the segments, one note each: what a clinician reads.
  json notes = json::array();
  auto note = [&](std::string text) { notes.push_back({{"text", std::move(text)}}); };
  const analytics::EfiCategory efi = analytics::EfiCategoryOf(r.efi_deficits);
  char efi_text[96];
  std::snprintf(efi_text, sizeof efi_text, "eFI %.2f (%d of %d deficits, %s)",
                r.efi_deficits / static_cast<double>(analytics::kEfiDeficitCount), r.efi_deficits,
                analytics::kEfiDeficitCount, std::string(analytics::EfiCategoryName(efi)).c_str());
  note(efi_text);
  note("HFRS " + Tenths(r.hfrs_tenths) + " (" +
       std::string(analytics::HfrsBandName(analytics::HfrsBandOf(r.hfrs_tenths))) + ")");
  note("Charlson index " + std::to_string(r.charlson_quan2011) + " (Quan 2011), " +
       std::to_string(r.charlson_1987) + " (1987)");
  note("Elixhauser " + std::to_string(r.elixhauser));
  note("Long-term conditions " + std::to_string(r.ltc_count));
  note("Cost over the last 12 months " + Pounds(r.cost_12m_pence));
  for (size_t m = 0; m < risk.run.models.size(); ++m) {
    const SegmentationModelInfo& model = risk.run.models[m];
    const int segment = m < r.segment.size() ? r.segment[m] : kOutsidePopulation;
    const int rule = m < r.rule.size() ? r.rule[m] : -1;
    std::string text = "Segment (" + model.name + " " + model.version + "): ";
    if (segment == kOutsidePopulation) {
      text += "outside the model's population";
    } else if (segment == kNoSegment || segment < 0 ||
               static_cast<size_t>(segment) >= model.segments.size()) {
      text += "fits no segment";
    } else {
      text += model.segments[static_cast<size_t>(segment)];
      if (rule >= 0) text += ", by rule " + std::to_string(rule + 1) + " of the model";
    }
    note(std::move(text));
  }
  j["note"] = std::move(notes);
  return Dump(j);
}

namespace {
// The label of model `m`'s segment for the person, or "" when there is none.
std::string SegmentLabelOf(const store::RiskResult& risk, size_t m) {
  if (m >= risk.run.models.size() || m >= risk.result.segment.size()) return "";
  const int segment = risk.result.segment[m];
  const auto& labels = risk.run.models[m].segments;
  if (segment < 0 || static_cast<size_t>(segment) >= labels.size()) return "";
  return labels[static_cast<size_t>(segment)];
}
}  // namespace

std::vector<std::string> SegmentLabels(const store::RiskResult& risk) {
  std::vector<std::string> out;
  for (size_t m = 0; m < risk.run.models.size(); ++m)
    if (std::string label = SegmentLabelOf(risk, m); !label.empty()) out.push_back(label);
  return out;
}

std::vector<std::string> RiseReasons(const store::RiskResult& before,
                                     const store::RiskResult& now) {
  const PersonRunResult& a = before.result;
  const PersonRunResult& b = now.result;
  std::vector<std::string> out;
  auto rose = [&](std::string_view what, int from, int to) {
    if (to > from)
      out.push_back(std::string(what) + ": " + std::to_string(from) + " → " + std::to_string(to));
  };
  rose("Long-term conditions", a.ltc_count, b.ltc_count);
  rose("Frailty deficits (eFI)", a.efi_deficits, b.efi_deficits);
  if (b.hfrs_tenths > a.hfrs_tenths)
    out.push_back("Hospital Frailty Risk Score: " + Tenths(a.hfrs_tenths) + " → " +
                  Tenths(b.hfrs_tenths));
  rose("Charlson index (Quan 2011)", a.charlson_quan2011, b.charlson_quan2011);
  rose("Elixhauser comorbidities", a.elixhauser, b.elixhauser);
  if (b.cost_12m_pence > a.cost_12m_pence)
    out.push_back("12-month cost: " + WholePounds(a.cost_12m_pence) + " → " +
                  WholePounds(b.cost_12m_pence));
  // A segment change is named by model: both runs must use the same model (name and version).
  for (size_t m = 0; m < now.run.models.size(); ++m) {
    const SegmentationModelInfo& model = now.run.models[m];
    for (size_t k = 0; k < before.run.models.size(); ++k) {
      const SegmentationModelInfo& old = before.run.models[k];
      if (old.name != model.name || old.version != model.version) continue;
      const std::string from = SegmentLabelOf(before, k), to = SegmentLabelOf(now, m);
      if (from != to && !to.empty())
        out.push_back((from.empty() ? "No segment" : from) + " → " + to);
    }
  }
  if (out.empty())
    out.push_back(
        "No rise in recorded conditions, frailty or cost: the model's other inputs "
        "(age, recent activity) raised the risk");
  return out;
}

std::string GroupJson(const store::Segment& segment, std::string_view id,
                      const DisclosureRule& counts) {
  const SegmentationModelInfo* model =
      segment.model_index >= 0 &&
              static_cast<size_t>(segment.model_index) < segment.run.models.size()
          ? &segment.run.models[static_cast<size_t>(segment.model_index)]
          : nullptr;
  const std::string model_text = model ? model->name + " " + model->version : "unknown model";
  json j = {{"resourceType", "Group"}, {"id", id}, {"type", "person"}, {"actual", true}};
  j["name"] = model_text + ": " + segment.label;
  if (const DisclosedCount shown = Disclose(segment.members, counts); shown.value) {
    j["quantity"] = *shown.value;
  } else {
    j["_quantity"] = {
        {"extension",
         json::array({{{"url", "http://hl7.org/fhir/StructureDefinition/data-absent-reason"},
                       {"valueCode", "masked"}}})}};
  }
  j["characteristic"] =
      json::array({{{"code", {{"text", "segmentation model"}}},
                    {"valueCodeableConcept", {{"text", model_text}}},
                    {"exclude", false}},
                   {{"code", {{"text", "segment"}}},
                    {"valueCodeableConcept", {{"text", segment.label}}},
                    {"exclude", false}},
                   {{"code", {{"text", "stratification run"}}},
                    {"valueCodeableConcept",
                     {{"text", "run " + std::to_string(segment.run.id) + ", index date " +
                                   segment.run.index_date.ToString()}}},
                    {"exclude", false}}});
  return Dump(j);
}

std::string ConsentJson(const store::ConsentRecord& record) {
  const bool deny = record.consent.decision == store::ConsentDecision::kDeclineBeyondOwnPractice;
  json j = {{"resourceType", "Consent"}, {"id", std::to_string(record.id)}, {"status", "active"}};
  j["scope"] = {{"coding", json::array({Coding("http://terminology.hl7.org/CodeSystem/consentscope",
                                               "patient-privacy", "Privacy Consent")})}};
  j["category"] = json::array(
      {{{"coding", json::array({Coding("http://loinc.org", "59284-0", "Patient Consent")})}}});
  j["patient"] = {{"reference", "Patient/" + record.patient_id}};
  j["dateTime"] = FormatInstant(record.consent.recorded_at_ms);
  j["performer"] = json::array({{{"identifier",
                                  {{"system", kUserIdentifierSystem},
                                   {"value", std::to_string(record.consent.recorded_by)}}}}});
  j["provision"] = {
      {"type", deny ? "deny" : "permit"},
      {"purpose", json::array({Coding("http://terminology.hl7.org/CodeSystem/v3-ActReason", "TREAT",
                                      "treatment")})}};
  j["policyRule"] = {
      {"text", deny ? "Shared only with the person's own GP practice"
                    : "Shared with everyone who has a care relationship with the person"}};
  return Dump(j);
}

std::string AuditEventJson(const store::AuditEvent& e) {
  json j = {{"resourceType", "AuditEvent"}, {"id", std::to_string(e.sequence)}};
  // IHE BALP (https://profiles.ihe.net/ITI/BALP/): type rest (or DICOM user authentication for
  // sign-ins), subtype the interaction.
  if (e.subtype == "login" || e.subtype == "authenticate")
    j["type"] =
        Coding("http://dicom.nema.org/resources/ontology/DCM", "110114", "User Authentication");
  else
    j["type"] = Coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest",
                       "Restful Operation");
  j["subtype"] = json::array({IsRestInteraction(e.subtype)
                                  ? Coding("http://hl7.org/fhir/restful-interaction", e.subtype)
                                  : Coding(kAuditSubtypeSystem, e.subtype)});
  j["action"] = std::string(1, e.action);
  j["recorded"] = FormatInstant(e.time_ms);
  j["outcome"] = std::to_string(static_cast<int>(e.outcome));
  const bool break_glass = !e.break_glass_reason.empty();
  if (break_glass)
    j["purposeOfEvent"] = json::array(
        {{{"coding", json::array({Coding("http://terminology.hl7.org/CodeSystem/v3-ActReason",
                                         "BTG", "break the glass")})},
          {"text", e.break_glass_reason}}});
  json user = {
      {"type",
       {{"coding", json::array({Coding("http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                       "IRCP", "information recipient")})}}}};
  json who = {{"display", e.username}};
  if (e.user_id)
    who["identifier"] = {{"system", kUserIdentifierSystem}, {"value", std::to_string(*e.user_id)}};
  user["who"] = std::move(who);
  if (!e.username.empty()) user["altId"] = e.username;
  if (!e.role.empty()) user["role"] = json::array({{{"text", e.role}}});
  user["requestor"] = true;
  if (!e.source_address.empty()) user["network"] = {{"address", e.source_address}, {"type", "2"}};
  if (break_glass)
    user["purposeOfUse"] = json::array(
        {{{"coding", json::array({Coding("http://terminology.hl7.org/CodeSystem/v3-ActReason",
                                         "BTG", "break the glass")})}}});
  json agents = json::array({std::move(user)});
  if (!e.organisation_id.empty())
    agents.push_back({{"type", {{"text", "organisation of the user"}}},
                      {"who", {{"reference", "Organization/" + e.organisation_id}}},
                      {"requestor", false}});
  j["agent"] = std::move(agents);
  j["source"] = {
      {"site", "joinedup"},
      {"observer", {{"display", "joinedup FHIR API"}}},
      {"type", json::array({Coding("http://terminology.hl7.org/CodeSystem/security-source-type",
                                   "4", "Application Server")})}};
  json entities = json::array();
  for (int64_t key : e.patient_keys)
    entities.push_back(
        {{"what",
          {{"identifier",
            {{"system", kPatientKeyIdentifierSystem}, {"value", std::to_string(key)}}}}},
         {"type", Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "1", "Person")},
         {"role", Coding("http://terminology.hl7.org/CodeSystem/object-role", "1", "Patient")}});
  if (!e.query.empty())
    entities.push_back(
        {{"type",
          Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "2", "System Object")},
         {"role", Coding("http://terminology.hl7.org/CodeSystem/object-role", "24", "Query")},
         {"description", e.query}});
  if (!e.request_id.empty())
    entities.push_back(
        {{"what",
          {{"identifier", {{"system", kRequestIdentifierSystem}, {"value", e.request_id}}}}},
         {"type", Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "2",
                         "System Object")}});
  if (!e.client_request_id.empty())
    entities.push_back(
        {{"what",
          {{"identifier",
            {{"system", kClientRequestIdentifierSystem}, {"value", e.client_request_id}}}}},
         {"type", Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "2",
                         "System Object")}});
  if (!entities.empty()) j["entity"] = std::move(entities);
  return Dump(j);
}

Result<ConsentInput> ReadConsent(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Refuse("", "the body is not a JSON object");
  auto string_at = [](const json& obj, const char* key) -> const std::string* {
    auto it = obj.find(key);
    return it != obj.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
  };
  const std::string* status = string_at(j, "status");
  if (!status || *status != "active")
    return Refuse("status", "a Consent must have status 'active' (the latest decision counts)");
  auto patient = j.find("patient");
  const std::string* reference =
      patient != j.end() && patient->is_object() ? string_at(*patient, "reference") : nullptr;
  if (!reference) return Refuse("patient.reference", "a Consent needs patient.reference");
  auto id = fhir::ResolveRelativeReference(*reference, "Patient");
  if (!id) return Refuse("patient.reference", "'" + *reference + "' is not a Patient reference");
  auto provision = j.find("provision");
  const std::string* type =
      provision != j.end() && provision->is_object() ? string_at(*provision, "type") : nullptr;
  if (!type || (*type != "permit" && *type != "deny"))
    return Refuse("provision.type",
                  "provision.type must be 'permit' (share with everyone who has a care "
                  "relationship) or 'deny' (only the person's own GP practice)");
  ConsentInput in;
  in.patient_id = std::move(*id);
  in.decision = *type == "deny" ? store::ConsentDecision::kDeclineBeyondOwnPractice
                                : store::ConsentDecision::kPermitSharing;
  return in;
}

}  // namespace joinedup::records
