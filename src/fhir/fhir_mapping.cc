// The writer half of the FHIR mapping (domain record → FHIR R4 JSON) and the small shared
// helpers. The reader half is map_read.cc; docs/fhir-mapping.md is the table both follow.
#include "fhir/fhir_mapping.h"

#include <simdjson.h>

#include <cctype>
#include <charconv>
#include <cinttypes>
#include <cmath>
#include <cstdio>

#include "fhir/map_tables.h"

namespace joinedup::fhir {
namespace {

using internal::CodingFor;
using internal::IsAdmission;

bool IsLetter(char c) { return c >= 'A' && c <= 'Z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// A9, A99, AA9, AA99, A9A, AA9A (uppercase).
bool IsOutwardCode(std::string_view o) {
  if (o.size() < 2 || o.size() > 4 || !IsLetter(o[0])) return false;
  size_t i = IsLetter(o[1]) ? 2 : 1;
  if (i >= o.size() || !IsDigit(o[i])) return false;
  ++i;
  if (i == o.size()) return true;
  if (IsDigit(o[i]) || IsLetter(o[i])) ++i;
  return i == o.size();
}

Status Invalid(std::string_view record, std::string_view id, std::string_view field,
               std::string_view why) {
  std::string message(record);
  message += '/';
  message += id;
  message += ' ';
  message += field;
  message += ": ";
  message += why;
  return Error::Invalid(std::move(message));
}

// Checks every free-text value before it is written: JSON must be UTF-8.
Status CheckText(std::string_view record, std::string_view id, std::string_view field,
                 std::string_view text) {
  if (!simdjson::validate_utf8(text.data(), text.size()))
    return Invalid(record, id, field, "is not valid UTF-8");
  return Ok();
}

Status CheckId(std::string_view record, std::string_view id, std::string_view field,
               std::string_view value) {
  if (!IsValidFhirId(value))
    return Invalid(record, id, field, "'" + std::string(value) + "' is not a FHIR id ([A-Za-z0-9-.]{1,64})");
  return Ok();
}

// A JSON object being written: keys in order, commas handled.
class Obj {
 public:
  explicit Obj(std::string& out) : out_(out) { out_ += '{'; }
  Obj(std::string& out, std::string_view key, Obj& parent) : out_(out) {
    parent.Key(key);
    out_ += '{';
  }
  void Key(std::string_view key) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += '"';
    out_ += key;  // keys are FHIR element names: never need escaping
    out_ += "\":";
  }
  void Str(std::string_view key, std::string_view value) {
    Key(key);
    AppendJsonString(value, out_);
  }
  void Raw(std::string_view key, std::string_view raw) {
    Key(key);
    out_ += raw;
  }
  void Int(std::string_view key, int64_t value) {
    Key(key);
    char buf[24];
    auto end = std::to_chars(buf, buf + sizeof buf, value).ptr;
    out_.append(buf, end);
  }
  // {"reference":"Type/id"}
  void Reference(std::string_view key, std::string_view type, std::string_view id) {
    Obj ref(out_, key, *this);
    ref.Key("reference");
    out_ += '"';
    out_ += type;
    out_ += '/';
    out_ += id;  // a checked FHIR id: no escaping needed
    out_ += '"';
    ref.Close();
  }
  void Close() { out_ += '}'; }

 private:
  std::string& out_;
  bool first_ = true;
};

// "key":[{"coding":[{"system":…,"code":…,"display":…}]}] or without the outer array.
void Coding(std::string& out, std::string_view system, std::string_view code,
            std::string_view display) {
  Obj c(out);
  c.Str("system", system);
  c.Str("code", code);
  if (!display.empty()) c.Str("display", display);
  c.Close();
}

void CodeableConcept(std::string& out, std::string_view system, std::string_view code,
                     std::string_view display) {
  out += "{\"coding\":[";
  Coding(out, system, code, display);
  out += "]}";
}

void Period(Obj& parent, std::string& out, Date start, std::optional<Date> end) {
  Obj p(out, "period", parent);
  p.Str("start", start.ToString());
  if (end) p.Str("end", end->ToString());
  p.Close();
}

bool SystemAllowed(EventKind kind, CodeSystem system) {
  if (system == CodeSystem::kDmd || system == CodeSystem::kRxNorm) return false;
  return kind == EventKind::kObservation || system != CodeSystem::kLoinc;
}

}  // namespace

std::string OutwardCode(std::string_view postcode) {
  std::string compact;
  compact.reserve(postcode.size());
  for (char c : postcode) {
    if (c == ' ') continue;
    if (!std::isalnum(static_cast<unsigned char>(c))) return {};
    compact += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (compact.size() >= 5 && compact.size() <= 7) {
    std::string_view inward = std::string_view(compact).substr(compact.size() - 3);
    std::string_view outward = std::string_view(compact).substr(0, compact.size() - 3);
    if (IsDigit(inward[0]) && IsLetter(inward[1]) && IsLetter(inward[2]) && IsOutwardCode(outward))
      return std::string(outward);
  }
  if (IsOutwardCode(compact)) return compact;
  return {};
}

AdmissionMethod AdmissionMethodOf(ActivityType type) {
  if (type == ActivityType::kEmergencyAdmission) return AdmissionMethod::kEmergency;
  if (type == ActivityType::kElectiveAdmission) return AdmissionMethod::kElective;
  return AdmissionMethod::kNone;
}

std::string_view ActivityResourceType(ActivityType type) {
  return IsEpisodeActivity(type) ? "EpisodeOfCare" : "Encounter";
}

std::string ChargeItemId(std::string_view activity_id) {
  std::string id = "cost-";
  id += activity_id;
  return id;
}

Status AppendOrganizationJson(const Practice& p, std::string& out) {
  JU_RETURN_IF_ERROR(CheckId("Practice", p.id, "id", p.id));
  JU_RETURN_IF_ERROR(CheckText("Practice", p.id, "name", p.name));
  JU_RETURN_IF_ERROR(CheckText("Practice", p.id, "pch", p.pch));
  if (!p.postcode_district.empty() && OutwardCode(p.postcode_district) != p.postcode_district)
    return Invalid("Practice", p.id, "postcode_district", "'" + p.postcode_district + "' is not a UK outward code");
  Obj r(out);
  r.Str("resourceType", "Organization");
  r.Str("id", p.id);
  r.Key("identifier");
  out += '[';
  {
    Obj ident(out);
    ident.Str("system", kOdsOrganizationCodeSystem);
    ident.Str("value", p.id);
    ident.Close();
  }
  out += ']';
  r.Raw("active", "true");
  r.Key("type");
  out += '[';
  CodeableConcept(out, kOdsRoleSystem, kOdsRoleGpPractice, "GP PRACTICE");
  out += ']';
  if (!p.name.empty()) r.Str("name", p.name);
  if (!p.pch.empty()) {
    Obj part_of(out, "partOf", r);
    Obj ident(out, "identifier", part_of);
    ident.Str("system", kPchIdentifierSystem);
    ident.Str("value", p.pch);
    ident.Close();
    part_of.Str("display", p.pch);
    part_of.Close();
  }
  if (!p.postcode_district.empty()) {
    r.Key("address");
    out += '[';
    Obj address(out);
    address.Str("postalCode", p.postcode_district);
    address.Close();
    out += ']';
  }
  r.Close();
  return Ok();
}

Status AppendPatientJson(const Patient& p, std::string& out) {
  JU_RETURN_IF_ERROR(CheckId("Patient", p.id, "id", p.id));
  JU_RETURN_IF_ERROR(CheckText("Patient", p.id, "family_name", p.family_name));
  JU_RETURN_IF_ERROR(CheckText("Patient", p.id, "given_name", p.given_name));
  JU_RETURN_IF_ERROR(CheckText("Patient", p.id, "source_identifier", p.source_identifier));
  if (!p.practice_id.empty()) JU_RETURN_IF_ERROR(CheckId("Patient", p.id, "practice_id", p.practice_id));
  if (p.deprivation_decile < 0 || p.deprivation_decile > 10)
    return Invalid("Patient", p.id, "deprivation_decile", "must be 0 (unknown) or 1..10");
  if (!p.postcode_district.empty() && OutwardCode(p.postcode_district) != p.postcode_district)
    return Invalid("Patient", p.id, "postcode_district", "'" + p.postcode_district + "' is not a UK outward code");
  if (p.death_date && *p.death_date < p.birth_date)
    return Invalid("Patient", p.id, "death_date", "before birth_date");
  // Without an NHS number the person is keyed by source_identifier: "system|value", a bare
  // value, or "Patient/<id>" (which is what the reader makes of no identifier at all).
  std::string_view source_system, source_value;
  if (!p.nhs_number && !p.source_identifier.empty() && p.source_identifier != "Patient/" + p.id) {
    std::string_view s = p.source_identifier;
    size_t bar = s.find('|');
    if (bar == std::string_view::npos) {
      source_value = s;
    } else {
      source_system = s.substr(0, bar);
      source_value = s.substr(bar + 1);
      if (source_system.empty() || source_value.empty() || source_system == kNhsNumberSystem)
        return Invalid("Patient", p.id, "source_identifier", "must be system|value with a non-NHS-number system");
    }
  }

  Obj r(out);
  r.Str("resourceType", "Patient");
  r.Str("id", p.id);
  if (p.deprivation_decile != 0) {
    r.Key("extension");
    out += '[';
    Obj ext(out);
    ext.Str("url", kImdDecileExtension);
    ext.Int("valueInteger", p.deprivation_decile);
    ext.Close();
    out += ']';
  }
  if (p.nhs_number || !source_value.empty()) {
    r.Key("identifier");
    out += '[';
    Obj ident(out);
    if (p.nhs_number) {
      ident.Str("system", kNhsNumberSystem);
      ident.Str("value", p.nhs_number->digits());
    } else {
      if (!source_system.empty()) ident.Str("system", source_system);
      ident.Str("value", source_value);
    }
    ident.Close();
    out += ']';
  }
  if (!p.family_name.empty() || !p.given_name.empty()) {
    r.Key("name");
    out += '[';
    Obj name(out);
    name.Str("use", "official");
    if (!p.family_name.empty()) name.Str("family", p.family_name);
    if (!p.given_name.empty()) {
      // One element: the reader joins given names with a space, so this reads back as is.
      name.Key("given");
      out += '[';
      AppendJsonString(p.given_name, out);
      out += ']';
    }
    name.Close();
    out += ']';
  }
  r.Str("gender", SexCode(p.sex));
  r.Str("birthDate", p.birth_date.ToString());
  if (p.death_date) r.Str("deceasedDateTime", p.death_date->ToString());
  if (!p.postcode_district.empty()) {
    r.Key("address");
    out += '[';
    Obj address(out);
    address.Str("use", "home");
    address.Str("postalCode", p.postcode_district);
    address.Close();
    out += ']';
  }
  if (!p.practice_id.empty()) {
    r.Key("generalPractitioner");
    out += '[';
    Obj ref(out);
    ref.Str("reference", "Organization/" + p.practice_id);
    Obj ident(out, "identifier", ref);
    ident.Str("system", kOdsOrganizationCodeSystem);
    ident.Str("value", p.practice_id);
    ident.Close();
    ref.Close();
    out += ']';
  }
  r.Close();
  return Ok();
}

Status AppendClinicalEventJson(const ClinicalEvent& e, std::string& out) {
  bool condition = e.kind == EventKind::kCondition;
  std::string_view type = condition ? "Condition" : "Observation";
  JU_RETURN_IF_ERROR(CheckId(type, e.id, "id", e.id));
  JU_RETURN_IF_ERROR(CheckId(type, e.id, "patient_id", e.patient_id));
  if (!e.activity_id.empty()) JU_RETURN_IF_ERROR(CheckId(type, e.id, "activity_id", e.activity_id));
  JU_RETURN_IF_ERROR(CheckText(type, e.id, "term", e.term));
  JU_RETURN_IF_ERROR(CheckText(type, e.id, "unit", e.unit));
  if (e.code.empty()) return Invalid(type, e.id, "code", "empty");
  JU_RETURN_IF_ERROR(CheckText(type, e.id, "code", e.code));
  if (!SystemAllowed(e.kind, e.system))
    return Invalid(type, e.id, "system", std::string(CodeSystemTag(e.system)) + " codes are not read in a " + std::string(type));
  if (e.value && !std::isfinite(*e.value)) return Invalid(type, e.id, "value", "not finite");
  if (condition && (e.value || !e.unit.empty()))
    return Invalid(type, e.id, "value", "a Condition has no value");

  Obj r(out);
  r.Str("resourceType", type);
  r.Str("id", e.id);
  if (!condition && e.source == EventSource::kHospital) {
    r.Key("extension");
    out += '[';
    Obj ext(out);
    ext.Str("url", kEventSourceExtension);
    ext.Str("valueCode", "hospital");
    ext.Close();
    out += ']';
  }
  if (condition) {
    r.Key("category");
    out += '[';
    CodeableConcept(out, kConditionCategorySystem,
                    e.source == EventSource::kHospital ? "encounter-diagnosis" : "problem-list-item",
                    "");
    out += ']';
  } else {
    r.Str("status", "final");
  }
  r.Key("code");
  CodeableConcept(out, CodeSystemUri(e.system), e.code, e.term);
  r.Reference("subject", "Patient", e.patient_id);
  if (!e.activity_id.empty()) r.Reference("encounter", "Encounter", e.activity_id);
  r.Str(condition ? "onsetDateTime" : "effectiveDateTime", e.date.ToString());
  if (e.value || !e.unit.empty()) {
    Obj q(out, "valueQuantity", r);
    if (e.value) {
      q.Key("value");
      char buf[32];
      auto end = std::to_chars(buf, buf + sizeof buf, *e.value).ptr;  // shortest round trip
      out.append(buf, end);
    }
    if (!e.unit.empty()) q.Str("unit", e.unit);
    q.Close();
  }
  r.Close();
  return Ok();
}

Status AppendActivityJson(const Activity& a, std::string& out) {
  std::string_view type = ActivityResourceType(a.type);
  JU_RETURN_IF_ERROR(CheckId(type, a.id, "id", a.id));
  JU_RETURN_IF_ERROR(CheckId(type, a.id, "patient_id", a.patient_id));
  if (!a.practice_id.empty()) JU_RETURN_IF_ERROR(CheckId(type, a.id, "practice_id", a.practice_id));
  JU_RETURN_IF_ERROR(CheckText(type, a.id, "specialty", a.specialty));
  if (a.end && *a.end < a.start) return Invalid(type, a.id, "end", "before start");
  if (a.length_of_stay_days < 0) return Invalid(type, a.id, "length_of_stay_days", "negative");
  if (a.cost_pence < 0) return Invalid(type, a.id, "cost_pence", "negative");
  bool episode = IsEpisodeActivity(a.type);
  if (episode && !a.specialty.empty())
    return Invalid(type, a.id, "specialty", "an EpisodeOfCare carries no treatment function");
  if (!episode && !a.practice_id.empty() && a.type != ActivityType::kGpAppointment)
    return Invalid(type, a.id, "practice_id", "only a GP appointment names the practice seen at");
  const auto& coding = CodingFor(a.type);
  std::string_view tag = ActivityTypeTag(a.type);

  Obj r(out);
  r.Str("resourceType", type);
  r.Str("id", a.id);
  if (episode) {
    if (a.length_of_stay_days != 0) {
      r.Key("extension");
      out += '[';
      Obj ext(out);
      ext.Str("url", kLengthOfStayExtension);
      ext.Int("valueInteger", a.length_of_stay_days);
      ext.Close();
      out += ']';
    }
    r.Str("status", a.end ? "finished" : "active");
    r.Key("type");
    out += '[';
    CodeableConcept(out, kActivityTypeSystem, tag, "");
    out += ']';
    r.Reference("patient", "Patient", a.patient_id);
    if (!a.practice_id.empty()) r.Reference("managingOrganization", "Organization", a.practice_id);
    Period(r, out, a.start, a.end);
    r.Close();
    return Ok();
  }
  r.Str("status", a.end ? "finished" : "in-progress");
  {
    Obj cls(out, "class", r);
    cls.Str("system", kActCodeSystem);
    cls.Str("code", coding.class_code);
    cls.Close();
  }
  r.Key("type");
  out += "[{\"coding\":[";
  Coding(out, kActivityTypeSystem, tag, "");
  out += ',';
  Coding(out, CodeSystemUri(CodeSystem::kSnomedCt), coding.snomed, coding.snomed_display);
  out += "]}]";
  if (!a.specialty.empty()) {
    r.Key("serviceType");
    CodeableConcept(out, kTreatmentFunctionSystem, a.specialty, "");
  }
  r.Reference("subject", "Patient", a.patient_id);
  Period(r, out, a.start, a.end);
  // Admissions always carry their length so the reader never has to derive it.
  if (IsAdmission(a.type) || a.length_of_stay_days != 0) {
    Obj length(out, "length", r);
    length.Int("value", a.length_of_stay_days);
    length.Str("unit", "days");
    length.Str("system", "http://unitsofmeasure.org");
    length.Str("code", "d");
    length.Close();
  }
  if (IsAdmission(a.type)) {
    Obj hosp(out, "hospitalization", r);
    hosp.Key("extension");
    out += '[';
    Obj ext(out);
    ext.Str("url", kAdmissionMethodExtension);
    ext.Key("valueCodeableConcept");
    CodeableConcept(out, kAdmissionMethodEnglandSystem, coding.admission_method, "");
    ext.Close();
    out += ']';
    hosp.Close();
  }
  if (!a.practice_id.empty()) {
    Obj ref(out, "serviceProvider", r);
    ref.Str("reference", "Organization/" + a.practice_id);
    Obj ident(out, "identifier", ref);
    ident.Str("system", kOdsOrganizationCodeSystem);
    ident.Str("value", a.practice_id);
    ident.Close();
    ref.Close();
  }
  r.Close();
  return Ok();
}

Status AppendChargeItemJson(const Activity& a, std::string& out) {
  std::string id = ChargeItemId(a.id);
  JU_RETURN_IF_ERROR(CheckId("ChargeItem", id, "id", id));
  JU_RETURN_IF_ERROR(CheckId("ChargeItem", id, "patient_id", a.patient_id));
  if (a.cost_pence < 0) return Invalid("ChargeItem", id, "cost_pence", "negative");
  Obj r(out);
  r.Str("resourceType", "ChargeItem");
  r.Str("id", id);
  r.Str("status", "billable");
  r.Key("code");
  CodeableConcept(out, kActivityTypeSystem, ActivityTypeTag(a.type), "");
  r.Reference("subject", "Patient", a.patient_id);
  r.Reference("context", ActivityResourceType(a.type), a.id);
  {
    Obj money(out, "priceOverride", r);
    char buf[40];
    int n = std::snprintf(buf, sizeof buf, "%" PRId64 ".%02d", a.cost_pence / 100,
                          static_cast<int>(a.cost_pence % 100));
    money.Raw("value", std::string_view(buf, static_cast<size_t>(n)));
    money.Str("currency", "GBP");
    money.Close();
  }
  r.Close();
  return Ok();
}

Status AppendMedicationRequestJson(const Medication& m, std::string& out) {
  JU_RETURN_IF_ERROR(CheckId("MedicationRequest", m.id, "id", m.id));
  JU_RETURN_IF_ERROR(CheckId("MedicationRequest", m.id, "patient_id", m.patient_id));
  JU_RETURN_IF_ERROR(CheckText("MedicationRequest", m.id, "term", m.term));
  if (m.code.empty()) return Invalid("MedicationRequest", m.id, "code", "empty");
  JU_RETURN_IF_ERROR(CheckText("MedicationRequest", m.id, "code", m.code));
  if (m.system != CodeSystem::kDmd && m.system != CodeSystem::kSnomedCt &&
      m.system != CodeSystem::kRxNorm)
    return Invalid("MedicationRequest", m.id, "system", "medicines are coded in dm+d, SNOMED CT or RxNorm");
  if (m.end && *m.end < m.start) return Invalid("MedicationRequest", m.id, "end", "before start");
  Obj r(out);
  r.Str("resourceType", "MedicationRequest");
  r.Str("id", m.id);
  r.Str("status", m.end ? "completed" : "active");
  r.Str("intent", "order");
  r.Key("medicationCodeableConcept");
  CodeableConcept(out, CodeSystemUri(m.system), m.code, m.term);
  r.Reference("subject", "Patient", m.patient_id);
  r.Str("authoredOn", m.start.ToString());
  if (m.end) {
    Obj dispense(out, "dispenseRequest", r);
    Obj validity(out, "validityPeriod", dispense);
    validity.Str("start", m.start.ToString());
    validity.Str("end", m.end->ToString());
    validity.Close();
    dispense.Close();
  }
  r.Close();
  return Ok();
}

}  // namespace joinedup::fhir
