// MapResource: one FHIR R4 resource (JSON text) → a domain record, Skipped, or MapError.
//
// Inside this file a refusal travels as a `Refusal` exception from the point that finds it
// (deep inside a nested element, where the FHIRPath is known) to MapResource, which turns
// it into a MapError. It never leaves this file. Refusals are the rare path; the common path
// allocates only the strings the record keeps.
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <string>

#include "fhir/document.h"
#include "fhir/fhir_mapping.h"
#include "fhir/map_tables.h"
#include "resources/registry.h"
#include "fhir/resource.h"

namespace joinedup::fhir {
namespace {

namespace dom = simdjson::dom;
using internal::IsAdmission;

// ---- Locations and refusals ---------------------------------------------------------------------

// A location inside the resource as a chain of stack frames; spelled out only on refusal.
struct Path {
  Path(const Path* parent, std::string_view key) : parent_(parent), key_(key) {}
  Path(const Path* parent, size_t index) : parent_(parent), index_(static_cast<int64_t>(index)) {}
  static Path Root() { return Path(nullptr, std::string_view()); }

  std::string ToString() const {
    std::string out;
    Append(out);
    return out;
  }

 private:
  void Append(std::string& out) const {
    if (parent_ != nullptr) parent_->Append(out);
    if (index_ >= 0) {
      out += '[';
      out += std::to_string(index_);
      out += ']';
    } else if (!key_.empty()) {
      if (!out.empty()) out += '.';
      out += key_;
    }
  }
  const Path* parent_;
  std::string_view key_;
  int64_t index_ = -1;
};

struct Refusal {
  std::string field;
  std::string message;
};

[[noreturn]] void Refuse(const Path& at, std::string message) {
  throw Refusal{at.ToString(), std::move(message)};
}

std::string_view KindOf(dom::element e) {
  switch (e.type()) {
    case dom::element_type::ARRAY: return "an array";
    case dom::element_type::OBJECT: return "an object";
    case dom::element_type::INT64:
    case dom::element_type::UINT64:
    case dom::element_type::DOUBLE: return "a number";
    case dom::element_type::STRING: return "a string";
    case dom::element_type::BOOL: return "a boolean";
    case dom::element_type::NULL_VALUE: return "null";
  }
  return "a value";
}

[[noreturn]] void WrongType(dom::element e, const Path& at, std::string_view expected) {
  std::string message = "expected ";
  message += expected;
  message += ", found ";
  message += KindOf(e);
  Refuse(at, std::move(message));
}

std::string Quoted(std::string_view s) {
  std::string out = "'";
  out += s.substr(0, 120);
  if (s.size() > 120) out += "…";
  out += "'";
  return out;
}

// ---- Typed access --------------------------------------------------------------------------

std::optional<dom::element> Get(dom::object o, std::string_view key) {
  dom::element e;
  if (o.at_key(key).get(e) != simdjson::SUCCESS) return std::nullopt;
  return e;
}

dom::object AsObject(dom::element e, const Path& at) {
  dom::object o;
  if (e.get_object().get(o) != simdjson::SUCCESS) WrongType(e, at, "an object");
  return o;
}

dom::array AsArray(dom::element e, const Path& at) {
  dom::array a;
  if (e.get_array().get(a) != simdjson::SUCCESS) WrongType(e, at, "an array");
  return a;
}

std::string_view AsString(dom::element e, const Path& at) {
  std::string_view s;
  if (e.get_string().get(s) != simdjson::SUCCESS) WrongType(e, at, "a string");
  return s;
}

double AsNumber(dom::element e, const Path& at) {
  double d;
  if (e.get_double().get(d) != simdjson::SUCCESS) WrongType(e, at, "a number");
  return d;
}

int64_t AsInteger(dom::element e, const Path& at) {
  int64_t i;
  if (e.get_int64().get(i) != simdjson::SUCCESS) WrongType(e, at, "an integer");
  return i;
}

bool AsBool(dom::element e, const Path& at) {
  bool b;
  if (e.get_bool().get(b) != simdjson::SUCCESS) WrongType(e, at, "a boolean");
  return b;
}

std::optional<std::string_view> GetString(dom::object o, const Path& parent, std::string_view key) {
  auto e = Get(o, key);
  if (!e) return std::nullopt;
  return AsString(*e, Path(&parent, key));
}

std::string_view RequireString(dom::object o, const Path& parent, std::string_view key) {
  auto e = Get(o, key);
  Path at(&parent, key);
  if (!e) Refuse(at, "missing");
  std::string_view s = AsString(*e, at);
  if (s.empty()) Refuse(at, "empty");
  return s;
}

// Calls fn(element_object, path) for each element of the array `key` (absent: no calls).
template <typename Fn>
void ForEachObject(dom::object o, const Path& parent, std::string_view key, Fn&& fn) {
  auto e = Get(o, key);
  if (!e) return;
  Path at(&parent, key);
  size_t i = 0;
  for (dom::element item : AsArray(*e, at)) {
    Path item_path(&at, i++);
    fn(AsObject(item, item_path), static_cast<const Path&>(item_path));
  }
}

Date ParseDate(std::string_view text, const Path& at) {
  auto date = Date::ParseFhir(text);
  if (!date.ok()) Refuse(at, "invalid date " + Quoted(text) + ": " + date.error().message);
  return *date;
}

Date RequireDate(dom::object o, const Path& parent, std::string_view key) {
  return ParseDate(RequireString(o, parent, key), Path(&parent, key));
}

std::optional<Date> GetDate(dom::object o, const Path& parent, std::string_view key) {
  auto s = GetString(o, parent, key);
  if (!s) return std::nullopt;
  return ParseDate(*s, Path(&parent, key));
}

// ---- References ----------------------------------------------------------------------------

struct Resolver {
  const ReferenceResolver& resolve;
  std::optional<std::string> operator()(std::string_view ref, std::string_view type) const {
    return resolve ? resolve(ref, type) : ResolveRelativeReference(ref, type);
  }
};

std::string_view ReferenceText(dom::element e, const Path& at) {
  dom::object o = AsObject(e, at);
  Path ref_path(&at, "reference");
  auto ref = GetString(o, at, "reference");
  if (!ref) Refuse(ref_path, "missing (joinedup follows literal references only)");
  return *ref;
}

// The logical id the Reference at `at` points to; it must be one of `types`.
std::string ResolveReference(dom::element e, const Path& at, const Resolver& resolve,
                             std::initializer_list<std::string_view> types) {
  std::string_view ref = ReferenceText(e, at);
  for (std::string_view type : types)
    if (auto id = resolve(ref, type)) return std::move(*id);
  std::string expected;
  for (std::string_view type : types) {
    if (!expected.empty()) expected += " or ";
    expected += type;
  }
  Refuse(Path(&at, "reference"), Quoted(ref) + " does not resolve to a known " + expected);
}

std::string RequireReference(dom::object o, const Path& parent, std::string_view key,
                             const Resolver& resolve, std::initializer_list<std::string_view> types) {
  auto e = Get(o, key);
  Path at(&parent, key);
  if (!e) Refuse(at, "missing");
  return ResolveReference(*e, at, resolve, types);
}

std::string OptionalReference(dom::object o, const Path& parent, std::string_view key,
                              const Resolver& resolve, std::string_view type) {
  auto e = Get(o, key);
  if (!e) return {};
  return ResolveReference(*e, Path(&parent, key), resolve, {type});
}

// ---- Codes ---------------------------------------------------------------------------------

using SystemMask = uint32_t;
constexpr SystemMask Bit(CodeSystem s) { return 1u << static_cast<unsigned>(s); }
constexpr SystemMask kConditionSystems =
    Bit(CodeSystem::kSnomedCt) | Bit(CodeSystem::kReadV2) | Bit(CodeSystem::kCtv3) |
    Bit(CodeSystem::kIcd10);
constexpr SystemMask kObservationSystems = kConditionSystems | Bit(CodeSystem::kLoinc);
constexpr SystemMask kMedicationSystems =
    Bit(CodeSystem::kDmd) | Bit(CodeSystem::kSnomedCt) | Bit(CodeSystem::kRxNorm);

struct Coded {
  CodeSystem system;
  std::string_view code;
  std::string_view term;
};

// The first coding of the CodeableConcept `key` whose system joinedup reads here.
Coded RequireCoding(dom::object o, const Path& parent, std::string_view key, SystemMask allowed) {
  auto cc_element = Get(o, key);
  Path cc_path(&parent, key);
  if (!cc_element) Refuse(cc_path, "missing");
  dom::object cc = AsObject(*cc_element, cc_path);
  Path coding_path(&cc_path, "coding");
  if (!Get(cc, "coding")) Refuse(coding_path, "missing: joinedup needs a coded value");
  std::optional<Coded> found;
  std::string seen;
  ForEachObject(cc, cc_path, "coding", [&](dom::object coding, const Path& at) {
    if (found) return;
    auto system = GetString(coding, at, "system");
    auto known = system ? CodeSystemFromUri(*system) : std::nullopt;
    if (known && (Bit(*known) & allowed)) {
      found = Coded{*known, RequireString(coding, at, "code"),
                    GetString(coding, at, "display").value_or(std::string_view())};
      return;
    }
    if (!seen.empty()) seen += ", ";
    seen += system ? *system : "(no system)";
  });
  if (!found) {
    std::string message = "no coding from a code system joinedup reads here (saw: ";
    message += seen.empty() ? "none" : seen;
    message += ")";
    Refuse(coding_path, std::move(message));
  }
  if (found->term.empty()) found->term = GetString(cc, cc_path, "text").value_or(std::string_view());
  return *found;
}

// Whether the CodeableConcept array `key` has a coding (system, code).
bool HasCoding(dom::object o, const Path& parent, std::string_view key, std::string_view system,
               std::string_view code) {
  bool has = false;
  ForEachObject(o, parent, key, [&](dom::object cc, const Path& at) {
    ForEachObject(cc, at, "coding", [&](dom::object coding, const Path& cat) {
      if (GetString(coding, cat, "system") == system && GetString(coding, cat, "code") == code)
        has = true;
    });
  });
  return has;
}

// The extension with `url` in the array `key`, with its path; nullopt when absent.
template <typename Fn>
bool WithExtension(dom::object o, const Path& parent, std::string_view key, std::string_view url,
                   Fn&& fn) {
  bool found = false;
  ForEachObject(o, parent, key, [&](dom::object ext, const Path& at) {
    if (found) return;
    if (GetString(ext, at, "url") == url) {
      found = true;
      fn(ext, at);
    }
  });
  return found;
}

int RequireIntegerValue(dom::object ext, const Path& at, int64_t lo, int64_t hi) {
  auto v = Get(ext, "valueInteger");
  Path vp(&at, "valueInteger");
  if (!v) Refuse(vp, "missing");
  int64_t i = AsInteger(*v, vp);
  if (i < lo || i > hi)
    Refuse(vp, std::to_string(i) + " is outside " + std::to_string(lo) + ".." + std::to_string(hi));
  return static_cast<int>(i);
}

std::string Owned(std::string_view s) { return std::string(s); }

// ---- Resources -------------------------------------------------------------------------------

Mapped MapOrganization(dom::object r, const Path& root, std::string id) {
  // A GP practice carries an ODS code; an Organization typed with an ODS role must be RO76.
  std::optional<std::string_view> ods;
  ForEachObject(r, root, "identifier", [&](dom::object ident, const Path& at) {
    if (!ods && GetString(ident, at, "system") == kOdsOrganizationCodeSystem)
      ods = RequireString(ident, at, "value");
  });
  if (!ods)
    return Skipped{"Organization", "not a GP practice: no identifier with system " +
                                       std::string(kOdsOrganizationCodeSystem)};
  bool has_ods_role = false;
  bool is_practice = false;
  ForEachObject(r, root, "type", [&](dom::object cc, const Path& at) {
    ForEachObject(cc, at, "coding", [&](dom::object coding, const Path& cat) {
      if (GetString(coding, cat, "system") != kOdsRoleSystem) return;
      has_ods_role = true;
      if (GetString(coding, cat, "code") == kOdsRoleGpPractice) is_practice = true;
    });
  });
  if (has_ods_role && !is_practice)
    return Skipped{"Organization", "not a GP practice: ODS role is not RO76 (GP PRACTICE)"};

  Practice p;
  p.id = std::move(id);
  p.name = Owned(GetString(r, root, "name").value_or(std::string_view()));
  if (auto part_of = Get(r, "partOf")) {
    Path at(&root, "partOf");
    dom::object ref = AsObject(*part_of, at);
    // The PCH/PCN is a logical reference: partOf.identifier.value, else the display text,
    // else the id of a literal reference.
    if (auto ident = Get(ref, "identifier")) {
      Path ip(&at, "identifier");
      p.pch = Owned(RequireString(AsObject(*ident, ip), ip, "value"));
    } else if (auto display = GetString(ref, at, "display")) {
      p.pch = Owned(*display);
    } else if (auto literal = GetString(ref, at, "reference")) {
      auto id_part = ResolveRelativeReference(*literal, "Organization");
      if (!id_part) Refuse(Path(&at, "reference"), Quoted(*literal) + " is not an Organization");
      p.pch = std::move(*id_part);
    }
  }
  ForEachObject(r, root, "address", [&](dom::object address, const Path& at) {
    if (!p.postcode_district.empty()) return;
    if (auto pc = GetString(address, at, "postalCode")) p.postcode_district = OutwardCode(*pc);
  });
  return p;
}

Mapped MapPatient(dom::object r, const Path& root, std::string id, const MapOptions& options,
                  const Resolver& resolve) {
  Patient p;
  p.id = std::move(id);
  std::string first_identifier;
  ForEachObject(r, root, "identifier", [&](dom::object ident, const Path& at) {
    auto system = GetString(ident, at, "system");
    if (system == kNhsNumberSystem) {
      std::string_view value = RequireString(ident, at, "value");
      auto nhs = NhsNumber::Parse(value);
      if (!nhs.ok()) Refuse(Path(&at, "value"), "invalid NHS number: " + nhs.error().message);
      if (!p.nhs_number) p.nhs_number = std::move(*nhs);
    } else if (first_identifier.empty()) {
      if (auto value = GetString(ident, at, "value")) {
        if (system) {
          first_identifier = *system;
          first_identifier += '|';
        }
        first_identifier += *value;
      }
    }
  });
  if (!p.nhs_number) {
    if (!options.allow_missing_nhs_number)
      Refuse(Path(&root, "identifier"),
             "no NHS number (identifier with system " + std::string(kNhsNumberSystem) + ")");
    p.source_identifier = first_identifier.empty() ? "Patient/" + p.id : std::move(first_identifier);
  }

  // Name: the official one, else the usual one, else the first.
  std::optional<dom::object> chosen_name;
  std::optional<Path> chosen_path;
  int best_rank = 3;
  ForEachObject(r, root, "name", [&](dom::object name, const Path& at) {
    auto use = GetString(name, at, "use");
    int rank = use == "official" ? 0 : use == "usual" ? 1 : 2;
    if (rank < best_rank) {
      best_rank = rank;
      chosen_name = name;
      chosen_path.emplace(Path(&root, "name"));
    }
  });
  if (chosen_name) {
    // Names are re-read from the chosen object; errors inside it name "name".
    const Path& at = *chosen_path;
    p.family_name = Owned(GetString(*chosen_name, at, "family").value_or(std::string_view()));
    if (auto given = Get(*chosen_name, "given")) {
      Path gp(&at, "given");
      size_t i = 0;
      for (dom::element g : AsArray(*given, gp)) {
        std::string_view part = AsString(g, Path(&gp, i++));
        if (part.empty()) continue;
        if (!p.given_name.empty()) p.given_name += ' ';
        p.given_name += part;
      }
    }
  }

  p.birth_date = RequireDate(r, root, "birthDate");
  if (auto gender = GetString(r, root, "gender")) {
    auto sex = SexFromCode(*gender);
    if (!sex) Refuse(Path(&root, "gender"), Quoted(*gender) + " is not male, female, other or unknown");
    p.sex = *sex;
  }
  ForEachObject(r, root, "address", [&](dom::object address, const Path& at) {
    if (!p.postcode_district.empty() || GetString(address, at, "use") == "old") return;
    if (auto pc = GetString(address, at, "postalCode")) p.postcode_district = OutwardCode(*pc);
  });
  if (auto deceased = GetString(r, root, "deceasedDateTime")) {
    p.death_date = ParseDate(*deceased, Path(&root, "deceasedDateTime"));
  } else if (auto flag = Get(r, "deceasedBoolean")) {
    Path at(&root, "deceasedBoolean");
    if (AsBool(*flag, at))
      Refuse(at, "deceased without a date: joinedup needs deceasedDateTime to count deaths");
  }
  WithExtension(r, root, "extension", kImdDecileExtension, [&](dom::object ext, const Path& at) {
    p.deprivation_decile = RequireIntegerValue(ext, at, 1, 10);
  });
  // generalPractitioner: the first Organization is the registered practice; Practitioners
  // are named there too and are not what joinedup keys on.
  ForEachObject(r, root, "generalPractitioner", [&](dom::object ref, const Path& at) {
    if (!p.practice_id.empty()) return;
    auto text = GetString(ref, at, "reference");
    if (!text) return;  // a display-only reference names nobody joinedup can link to
    if (auto org = resolve(*text, "Organization")) {
      p.practice_id = std::move(*org);
    } else if (!resolve(*text, "Practitioner") && !resolve(*text, "PractitionerRole")) {
      Refuse(Path(&at, "reference"),
             Quoted(*text) + " does not resolve to an Organization, Practitioner or PractitionerRole");
    }
  });
  return p;
}

Mapped MapCondition(dom::object r, const Path& root, std::string id, const Resolver& resolve) {
  ClinicalEvent e;
  e.id = std::move(id);
  e.kind = EventKind::kCondition;
  e.patient_id = RequireReference(r, root, "subject", resolve, {"Patient"});
  Coded coded = RequireCoding(r, root, "code", kConditionSystems);
  e.system = coded.system;
  e.code = Owned(coded.code);
  e.term = Owned(coded.term);
  if (auto onset = GetString(r, root, "onsetDateTime")) {
    e.date = ParseDate(*onset, Path(&root, "onsetDateTime"));
  } else if (auto recorded = GetString(r, root, "recordedDate")) {
    e.date = ParseDate(*recorded, Path(&root, "recordedDate"));
  } else {
    Refuse(Path(&root, "onsetDateTime"), "missing, and no recordedDate either");
  }
  e.activity_id = OptionalReference(r, root, "encounter", resolve, "Encounter");
  // Explicit category wins; otherwise an ICD-10 code says it came from a hospital.
  if (HasCoding(r, root, "category", kConditionCategorySystem, "encounter-diagnosis"))
    e.source = EventSource::kHospital;
  else if (HasCoding(r, root, "category", kConditionCategorySystem, "problem-list-item"))
    e.source = EventSource::kGp;
  else
    e.source = coded.system == CodeSystem::kIcd10 ? EventSource::kHospital : EventSource::kGp;
  return e;
}

Mapped MapObservation(dom::object r, const Path& root, std::string id, const Resolver& resolve) {
  ClinicalEvent e;
  e.id = std::move(id);
  e.kind = EventKind::kObservation;
  e.patient_id = RequireReference(r, root, "subject", resolve, {"Patient"});
  Coded coded = RequireCoding(r, root, "code", kObservationSystems);
  e.system = coded.system;
  e.code = Owned(coded.code);
  e.term = Owned(coded.term);
  if (auto when = GetString(r, root, "effectiveDateTime")) {
    e.date = ParseDate(*when, Path(&root, "effectiveDateTime"));
  } else if (auto period = Get(r, "effectivePeriod")) {
    Path at(&root, "effectivePeriod");
    e.date = RequireDate(AsObject(*period, at), at, "start");
  } else if (auto issued = GetString(r, root, "issued")) {
    e.date = ParseDate(*issued, Path(&root, "issued"));
  } else {
    Refuse(Path(&root, "effectiveDateTime"), "missing, and no effectivePeriod.start or issued either");
  }
  e.activity_id = OptionalReference(r, root, "encounter", resolve, "Encounter");
  if (auto quantity = Get(r, "valueQuantity")) {
    Path at(&root, "valueQuantity");
    dom::object q = AsObject(*quantity, at);
    if (auto value = Get(q, "value")) e.value = AsNumber(*value, Path(&at, "value"));
    if (auto unit = GetString(q, at, "unit"))
      e.unit = Owned(*unit);
    else if (auto code = GetString(q, at, "code"))
      e.unit = Owned(*code);
  }
  WithExtension(r, root, "extension", kEventSourceExtension, [&](dom::object ext, const Path& at) {
    Path vp(&at, "valueCode");
    std::string_view code = RequireString(ext, at, "valueCode");
    if (code == "hospital")
      e.source = EventSource::kHospital;
    else if (code != "gp")
      Refuse(vp, Quoted(code) + " is not gp or hospital");
  });
  return e;
}

// UK Core admission method (England or Wales codes): elective 11–13 → elective; emergency
// 21–2D, maternity 31–32 and other 81–83 are all non-elective → emergency admission.
// 98/99 (not applicable / not known) say nothing.
std::optional<ActivityType> AdmissionFromMethod(dom::object ext, const Path& at) {
  Path vp(&at, "valueCodeableConcept");
  auto value = Get(ext, "valueCodeableConcept");
  if (!value) Refuse(vp, "missing");
  std::optional<ActivityType> type;
  bool coded = false;
  ForEachObject(AsObject(*value, vp), vp, "coding", [&](dom::object coding, const Path& cat) {
    auto system = GetString(coding, cat, "system");
    if (coded || (system != kAdmissionMethodEnglandSystem && system != kAdmissionMethodWalesSystem))
      return;
    coded = true;
    std::string_view code = RequireString(coding, cat, "code");
    if (code == "98" || code == "99") return;
    bool known = code.size() == 2 &&
                 ((code[0] == '1' && code[1] >= '1' && code[1] <= '3') ||
                  (code[0] == '2' && ((code[1] >= '1' && code[1] <= '8') ||
                                      (code[1] >= 'A' && code[1] <= 'D'))) ||
                  (code[0] == '3' && (code[1] == '1' || code[1] == '2')) ||
                  (code[0] == '8' && code[1] >= '1' && code[1] <= '3'));
    if (!known) Refuse(Path(&cat, "code"), Quoted(code) + " is not an admission method code");
    type = code[0] == '1' ? ActivityType::kElectiveAdmission : ActivityType::kEmergencyAdmission;
  });
  if (!coded)
    Refuse(Path(&vp, "coding"), "no coding from " + std::string(kAdmissionMethodEnglandSystem));
  return type;
}

// SNOMED CT Encounter.type concepts read when there is no joinedup coding. The first group is
// what joinedup writes; the second is Synthea's vocabulary (documented, best effort).
struct SnomedActivity {
  std::string_view code;
  ActivityType type;
};
constexpr std::array<SnomedActivity, 16> kSnomedActivities{{
    {"185202000", ActivityType::kGpAppointment},       // Seen in GP's surgery
    {"185203005", ActivityType::kGpAppointment},       // Seen in Health Centre
    {"185210004", ActivityType::kAeAttendance},        // Seen in hospital casualty
    {"183452005", ActivityType::kEmergencyAdmission},  // Emergency hospital admission
    {"8715000", ActivityType::kElectiveAdmission},     // Hospital admission, elective
    {"185211000", ActivityType::kOutpatientFollowUp},  // Seen in hospital outpatient department
    {"270420001", ActivityType::kCommunityNursing},    // Seen in own home
    {"185349003", ActivityType::kGpAppointment},       // Encounter for check up
    {"185345009", ActivityType::kGpAppointment},       // Encounter for symptom
    {"185347001", ActivityType::kGpAppointment},       // Encounter for problem
    {"698314001", ActivityType::kGpAppointment},       // Consultation for treatment
    {"371883000", ActivityType::kOutpatientFollowUp},  // Outpatient procedure
    {"170837001", ActivityType::kOutpatientFirst},     // Allergic disorder initial assessment
    {"170838006", ActivityType::kOutpatientFollowUp},  // Allergic disorder follow-up assessment
    {"50849002", ActivityType::kAeAttendance},         // Emergency room admission
    {"4525004", ActivityType::kAeAttendance},          // Emergency department patient visit
}};

struct TypeCodings {
  std::optional<ActivityType> joinedup;
  std::optional<ActivityType> snomed;
  std::string seen;  // "system|code" of each coding, for the refusal message
};

TypeCodings ReadTypeCodings(dom::object r, const Path& root) {
  TypeCodings out;
  ForEachObject(r, root, "type", [&](dom::object cc, const Path& at) {
    ForEachObject(cc, at, "coding", [&](dom::object coding, const Path& cat) {
      auto system = GetString(coding, cat, "system").value_or(std::string_view());
      auto code = GetString(coding, cat, "code").value_or(std::string_view());
      if (system == kActivityTypeSystem) {
        if (out.joinedup) return;
        auto type = ActivityTypeFromTag(code);
        if (!type) Refuse(Path(&cat, "code"), Quoted(code) + " is not a joinedup activity type");
        out.joinedup = type;
        return;
      }
      if (system == CodeSystemUri(CodeSystem::kSnomedCt) && !out.snomed) {
        for (const auto& entry : kSnomedActivities)
          if (entry.code == code) out.snomed = entry.type;
      }
      if (!out.seen.empty()) out.seen += ", ";
      out.seen += system;
      out.seen += '|';
      out.seen += code;
    });
  });
  return out;
}

ActivityType ClassifyEncounter(dom::object r, const Path& root) {
  TypeCodings codings = ReadTypeCodings(r, root);
  if (codings.joinedup) {
    if (IsEpisodeActivity(*codings.joinedup))
      Refuse(Path(&root, "type"), std::string(ActivityTypeTag(*codings.joinedup)) +
                                      " is written as an EpisodeOfCare, not an Encounter");
    return *codings.joinedup;
  }
  // UK Core puts the admission method on Encounter.hospitalization; accept it on the
  // Encounter itself too, as some senders do.
  std::optional<ActivityType> admission;
  bool has_method = false;
  if (auto hosp = Get(r, "hospitalization")) {
    Path hp(&root, "hospitalization");
    has_method = WithExtension(AsObject(*hosp, hp), hp, "extension", kAdmissionMethodExtension,
                               [&](dom::object ext, const Path& at) {
                                 admission = AdmissionFromMethod(ext, at);
                               });
  }
  if (!has_method)
    WithExtension(r, root, "extension", kAdmissionMethodExtension,
                  [&](dom::object ext, const Path& at) { admission = AdmissionFromMethod(ext, at); });
  if (admission) return *admission;

  auto class_element = Get(r, "class");
  Path class_path(&root, "class");
  if (!class_element) Refuse(class_path, "missing");
  dom::object cls = AsObject(*class_element, class_path);
  std::string_view class_code = RequireString(cls, class_path, "code");
  Path type_path(&root, "type");
  if (class_code == "EMER") return ActivityType::kAeAttendance;
  if (class_code == "HH") return ActivityType::kCommunityNursing;
  if (class_code == "IMP" || class_code == "ACUTE" || class_code == "NONAC") {
    // Encounter.priority (v3 ActPriority) is the standard way to say elective or emergency.
    if (auto priority = Get(r, "priority")) {
      Path pp(&root, "priority");
      std::optional<ActivityType> by_priority;
      ForEachObject(AsObject(*priority, pp), pp, "coding", [&](dom::object coding, const Path& cat) {
        auto code = GetString(coding, cat, "code");
        if (code == "EM" || code == "UR" || code == "S" || code == "A")
          by_priority = ActivityType::kEmergencyAdmission;
        else if (code == "EL" || code == "R")
          by_priority = ActivityType::kElectiveAdmission;
      });
      if (by_priority) return *by_priority;
    }
    if (codings.snomed && IsAdmission(*codings.snomed)) return *codings.snomed;
    Refuse(class_path, "inpatient encounter (class " + std::string(class_code) +
                           ") that does not say whether the admission was elective or an "
                           "emergency: no UK Core admission method, priority or admission type");
  }
  if (class_code == "AMB" || class_code == "VR") {
    if (codings.snomed && !IsAdmission(*codings.snomed)) return *codings.snomed;
    Refuse(type_path, "no joinedup activity type for an encounter of class " +
                          std::string(class_code) + " with type " +
                          (codings.seen.empty() ? std::string("(none)") : codings.seen));
  }
  Refuse(Path(&class_path, "code"),
         Quoted(class_code) + " is not an encounter class joinedup classifies (AMB, VR, EMER, "
                              "IMP, ACUTE, NONAC, HH)");
}

void ReadPeriod(dom::object r, const Path& root, Activity& a) {
  auto period = Get(r, "period");
  Path pp(&root, "period");
  if (!period) Refuse(pp, "missing: joinedup needs period.start");
  dom::object po = AsObject(*period, pp);
  a.start = RequireDate(po, pp, "start");
  a.end = GetDate(po, pp, "end");
  if (a.end && *a.end < a.start) Refuse(Path(&pp, "end"), "before period.start");
}

Mapped MapEncounter(dom::object r, const Path& root, std::string id, const Resolver& resolve) {
  Activity a;
  a.id = std::move(id);
  a.type = ClassifyEncounter(r, root);
  a.patient_id = RequireReference(r, root, "subject", resolve, {"Patient"});
  ReadPeriod(r, root, a);
  if (auto length = Get(r, "length")) {
    Path lp(&root, "length");
    dom::object lo = AsObject(*length, lp);
    auto unit = GetString(lo, lp, "code");
    if (!unit) unit = GetString(lo, lp, "unit");
    if (unit != "d" && unit != "day" && unit != "days")
      Refuse(Path(&lp, "code"), "length of stay must be in days (UCUM 'd')");
    auto value = Get(lo, "value");
    Path vp(&lp, "value");
    if (!value) Refuse(vp, "missing");
    int64_t days = AsInteger(*value, vp);
    if (days < 0 || days > 100 * 366) Refuse(vp, "not a length of stay: " + std::to_string(days));
    a.length_of_stay_days = static_cast<int>(days);
  } else if (IsAdmission(a.type) && a.end) {
    a.length_of_stay_days = a.start.DaysUntil(*a.end);
  }
  if (auto service = Get(r, "serviceType")) {
    Path sp(&root, "serviceType");
    ForEachObject(AsObject(*service, sp), sp, "coding", [&](dom::object coding, const Path& cat) {
      if (a.specialty.empty() && GetString(coding, cat, "system") == kTreatmentFunctionSystem)
        a.specialty = Owned(RequireString(coding, cat, "code"));
    });
  }
  // The practice seen at: only for GP appointments, and only when the reference says it is
  // an ODS-coded organisation (a foreign serviceProvider is usually a provider trust or a
  // clinic joinedup does not hold as a practice).
  if (a.type == ActivityType::kGpAppointment) {
    if (auto provider = Get(r, "serviceProvider")) {
      Path sp(&root, "serviceProvider");
      dom::object po = AsObject(*provider, sp);
      bool ods = false;
      if (auto ident = Get(po, "identifier")) {
        Path ip(&sp, "identifier");
        ods = GetString(AsObject(*ident, ip), ip, "system") == kOdsOrganizationCodeSystem;
      }
      if (ods) a.practice_id = ResolveReference(*provider, sp, resolve, {"Organization"});
    }
  }
  return a;
}

Mapped MapEpisodeOfCare(dom::object r, const Path& root, std::string id, const Resolver& resolve) {
  Activity a;
  a.id = std::move(id);
  TypeCodings codings = ReadTypeCodings(r, root);
  if (!codings.joinedup || !IsEpisodeActivity(*codings.joinedup))
    Refuse(Path(&root, "type"),
           "no coding from " + std::string(kActivityTypeSystem) +
               " with social_care_package, care_home_placement or continuing_healthcare" +
               (codings.seen.empty() ? std::string() : " (saw: " + codings.seen + ")"));
  a.type = *codings.joinedup;
  a.patient_id = RequireReference(r, root, "patient", resolve, {"Patient"});
  ReadPeriod(r, root, a);
  WithExtension(r, root, "extension", kLengthOfStayExtension, [&](dom::object ext, const Path& at) {
    a.length_of_stay_days = RequireIntegerValue(ext, at, 0, 100 * 366);
  });
  a.practice_id = OptionalReference(r, root, "managingOrganization", resolve, "Organization");
  return a;
}

// "123.45" as a JSON number → 12345 pence. The double is within half an ulp of the decimal
// written; below £10^10 that is under 0.001p even after the multiplication, so rounding
// recovers the exact pence, and anything further than 0.001p from a whole penny had more
// than two decimal places: refused, not rounded.
int64_t ToPence(double pounds, const Path& at) {
  if (!std::isfinite(pounds) || pounds < 0 || pounds >= 1e10)
    Refuse(at, "not a cost joinedup holds (0 to 9,999,999,999.99 GBP)");
  double pence = std::round(pounds * 100.0);
  if (std::fabs(pence - pounds * 100.0) > 1e-3) Refuse(at, "has fractions of a penny");
  return static_cast<int64_t>(pence);
}

Mapped MapChargeItem(dom::object r, const Path& root, std::string id, const Resolver& resolve) {
  Charge c;
  c.id = std::move(id);
  if (!Get(r, "code")) Refuse(Path(&root, "code"), "missing (required by FHIR)");
  c.activity_id = RequireReference(r, root, "context", resolve, {"Encounter", "EpisodeOfCare"});
  auto price = Get(r, "priceOverride");
  Path pp(&root, "priceOverride");
  if (!price) Refuse(pp, "missing: joinedup reads the cost from priceOverride");
  dom::object money = AsObject(*price, pp);
  std::string_view currency = RequireString(money, pp, "currency");
  if (currency != "GBP") Refuse(Path(&pp, "currency"), Quoted(currency) + " is not GBP");
  auto value = Get(money, "value");
  Path vp(&pp, "value");
  if (!value) Refuse(vp, "missing");
  c.cost_pence = ToPence(AsNumber(*value, vp), vp);
  return c;
}

Mapped MapMedicationRequest(dom::object r, const Path& root, std::string id,
                            const Resolver& resolve) {
  Medication m;
  m.id = std::move(id);
  if (Get(r, "medicationReference") && !Get(r, "medicationCodeableConcept"))
    Refuse(Path(&root, "medicationReference"),
           "not supported: joinedup reads medicationCodeableConcept");
  Coded coded = RequireCoding(r, root, "medicationCodeableConcept", kMedicationSystems);
  m.system = coded.system;
  m.code = Owned(coded.code);
  m.term = Owned(coded.term);
  m.patient_id = RequireReference(r, root, "subject", resolve, {"Patient"});
  m.start = RequireDate(r, root, "authoredOn");
  if (auto dispense = Get(r, "dispenseRequest")) {
    Path dp(&root, "dispenseRequest");
    if (auto validity = Get(AsObject(*dispense, dp), "validityPeriod")) {
      Path vp(&dp, "validityPeriod");
      m.end = GetDate(AsObject(*validity, vp), vp, "end");
    }
  }
  if (!m.end) {
    // Stopped or completed without a date: no longer current, end date unknown; the
    // authored date is the only date known to be no later than the real end.
    auto status = GetString(r, root, "status");
    if (status == "stopped" || status == "completed") m.end = m.start;
  }
  if (m.end && *m.end < m.start)
    Refuse(Path(&root, "dispenseRequest.validityPeriod.end"), "before authoredOn");
  return m;
}

// ---- JSON syntax errors ----------------------------------------------------------------------

// simdjson says what is wrong but not where. On that (rare) path this small scanner finds
// the byte offset of the first syntax error so the message can point at it.
class SyntaxScanner {
 public:
  explicit SyntaxScanner(std::string_view text) : s_(text) {}
  // The offset of the first error, or nullopt if the text is syntactically valid JSON.
  std::optional<size_t> FirstError() {
    SkipSpace();
    if (!Value(0)) return pos_;
    SkipSpace();
    if (pos_ != s_.size()) return pos_;
    return std::nullopt;
  }

 private:
  void SkipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  bool Literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  bool String() {
    if (pos_ >= s_.size() || s_[pos_] != '"') return false;
    ++pos_;
    while (pos_ < s_.size()) {
      unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        ++pos_;
        if (pos_ >= s_.size()) return false;
        char e = s_[pos_];
        if (e == 'u') {
          for (int i = 1; i <= 4; ++i)
            if (pos_ + i >= s_.size() || !std::isxdigit(static_cast<unsigned char>(s_[pos_ + i]))) {
              pos_ += i;
              return false;
            }
          pos_ += 4;
        } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
          return false;
        }
      }
      ++pos_;
    }
    return false;
  }
  bool Digits() {
    size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    return pos_ > start;
  }
  bool Number() {
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    if (pos_ < s_.size() && s_[pos_] == '0') {
      ++pos_;
    } else if (!Digits()) {
      return false;
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (!Digits()) return false;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (!Digits()) return false;
    }
    return true;
  }
  bool Value(int depth) {
    if (depth > 1000 || pos_ >= s_.size()) return false;
    char c = s_[pos_];
    if (c == '{' || c == '[') {
      char close = c == '{' ? '}' : ']';
      ++pos_;
      SkipSpace();
      if (pos_ < s_.size() && s_[pos_] == close) {
        ++pos_;
        return true;
      }
      while (true) {
        if (c == '{') {
          if (!String()) return false;
          SkipSpace();
          if (pos_ >= s_.size() || s_[pos_] != ':') return false;
          ++pos_;
          SkipSpace();
        }
        if (!Value(depth + 1)) return false;
        SkipSpace();
        if (pos_ >= s_.size()) return false;
        if (s_[pos_] == close) {
          ++pos_;
          return true;
        }
        if (s_[pos_] != ',') return false;
        ++pos_;
        SkipSpace();
      }
    }
    if (c == '"') return String();
    if (c == 't') return Literal("true");
    if (c == 'f') return Literal("false");
    if (c == 'n') return Literal("null");
    return Number();
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

namespace internal {

std::string DescribeInvalidJson(std::string_view json, std::string_view what) {
  std::string message = "invalid JSON";
  if (auto at = SyntaxScanner(json).FirstError()) {
    message += " at byte " + std::to_string(*at);
    if (*at >= json.size()) message += " (unexpected end of input)";
  }
  message += ": ";
  message += what;
  return message;
}

}  // namespace internal

std::optional<std::string> ResolveRelativeReference(std::string_view reference,
                                                    std::string_view expected_type) {
  // Drop a version suffix ("Patient/1/_history/2"): joinedup keeps current state only.
  if (size_t h = reference.find("/_history/"); h != std::string_view::npos)
    reference = reference.substr(0, h);
  size_t slash = reference.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  std::string_view id = reference.substr(slash + 1);
  std::string_view rest = reference.substr(0, slash);
  size_t type_start = rest.rfind('/');
  std::string_view type = type_start == std::string_view::npos ? rest : rest.substr(type_start + 1);
  if (type != expected_type || !IsValidFhirId(id)) return std::nullopt;
  // A relative reference is exactly "Type/id"; anything longer must be an absolute URL.
  if (type_start != std::string_view::npos && rest.find("://") == std::string_view::npos)
    return std::nullopt;
  return std::string(id);
}

std::variant<Mapped, MapError> MapResource(std::string_view json, const MapOptions& options,
                                           const ReferenceResolver& resolve) {
  thread_local dom::parser parser;
  dom::element doc;
  simdjson::error_code error = parser.parse(json.data(), json.size()).get(doc);
  dom::object resource;
  if (error != simdjson::SUCCESS || doc.get_object().get(resource) != simdjson::SUCCESS)
    return MapError{"", "", "",
                    error != simdjson::SUCCESS
                        ? internal::DescribeInvalidJson(json, simdjson::error_message(error))
                        : std::string("not a JSON object: a FHIR resource is one")};

  Path root = Path::Root();
  MapError failure;
  try {
    auto type_element = Get(resource, "resourceType");
    if (!type_element) Refuse(Path(&root, "resourceType"), "missing");
    std::string_view type = AsString(*type_element, Path(&root, "resourceType"));
    failure.resource_type = std::string(type);
    const resources::ResourceTypeDef* registered = resources::FindType(type);
    if (registered == nullptr || !registered->imported)
      return Mapped(Skipped{std::string(type), "joinedup does not store " + std::string(type)});
    auto id_element = Get(resource, "id");
    if (!id_element) Refuse(Path(&root, "id"), "missing: joinedup keys every record on its id");
    std::string_view id_text = AsString(*id_element, Path(&root, "id"));
    failure.resource_id = std::string(id_text);
    if (!IsValidFhirId(id_text))
      Refuse(Path(&root, "id"), Quoted(id_text) + " is not a FHIR id ([A-Za-z0-9-.]{1,64})");
    std::string id(id_text);
    if (registered->kept_as_document) {
      std::variant<Document, MapError> document = ReadDocument(json, resolve);
      if (auto* refused = std::get_if<MapError>(&document)) return std::move(*refused);
      return Mapped(std::move(std::get<Document>(document)));
    }

    Resolver resolver{resolve};
    if (type == "Organization") return MapOrganization(resource, root, std::move(id));
    if (type == "Patient") return MapPatient(resource, root, std::move(id), options, resolver);
    if (type == "Condition") return MapCondition(resource, root, std::move(id), resolver);
    if (type == "Observation") return MapObservation(resource, root, std::move(id), resolver);
    if (type == "Encounter") return MapEncounter(resource, root, std::move(id), resolver);
    if (type == "EpisodeOfCare") return MapEpisodeOfCare(resource, root, std::move(id), resolver);
    if (type == "ChargeItem") return MapChargeItem(resource, root, std::move(id), resolver);
    return MapMedicationRequest(resource, root, std::move(id), resolver);
  } catch (Refusal& refusal) {
    failure.field = std::move(refusal.field);
    failure.message = std::move(refusal.message);
    return failure;
  } catch (const std::exception& e) {  // allocation failure; nothing else throws here
    failure.message = std::string("internal error: ") + e.what();
    return failure;
  }
}

}  // namespace joinedup::fhir
