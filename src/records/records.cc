// The records service (records.h): access decision → store → audit, once, for every operation.
#include "records/records.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <variant>

#include "core/strings.h"
#include "fhir/document.h"
#include "fhir/fhir_mapping.h"
#include "fhir/resource.h"
#include "fhir/search/paging.h"
#include "fhir/served_text.h"
#include "records/render.h"
#include "resources/registry.h"
#include "security/crypto.h"
#include "store/store.h"

namespace joinedup::records {
namespace {

using json = nlohmann::ordered_json;
using security::Category;
using security::Interaction;
using store::AuditOutcome;
using store::Role;

constexpr int kAuditSearchLimit = 10000;  // SearchAuditEvents' own maximum
constexpr std::string_view kRegistrationChange = "registration-change";  // an audit subtype
constexpr int64_t kDayMs = 24LL * 60 * 60 * 1000;

// The privacy officer's alerts (audit subtypes): the glass broken; broken on a person who
// declined sharing (their refusal overridden); refused to a role that may not break it; refused
// beyond the user's daily limit.
constexpr std::string_view kBreakGlassAlert = "break-glass-alert";
constexpr std::string_view kConsentOverrideAlert = "consent-override-alert";
constexpr std::string_view kBreakGlassRefusedAlert = "break-glass-refused-alert";
constexpr std::string_view kBreakGlassLimitAlert = "break-glass-limit-alert";
constexpr std::string_view kAlertAcknowledged = "alert-acknowledged";
constexpr std::string_view kAlertSubtypes[] = {kBreakGlassAlert, kConsentOverrideAlert,
                                               kBreakGlassRefusedAlert, kBreakGlassLimitAlert};
// How many of the trail's most recent acknowledgements an alert queue looks through.
constexpr int kAcknowledgementsSearched = 10'000;
// The most rows one worklist request returns (a page, or an export).
constexpr int kWorklistMaxRows = 5000;

// The reference that makes a record about a person, for error messages.
constexpr std::string_view kSubjectField = "subject.reference";

struct OperationInfo {
  Interaction interaction;
  char action;  // FHIR AuditEvent.action
  std::string_view subtype;
};

constexpr OperationInfo Info(Operation operation) {
  switch (operation) {
    case Operation::kRead:
      return {Interaction::kRead, 'R', "read"};
    case Operation::kVread:
      return {Interaction::kRead, 'R', "vread"};
    case Operation::kHistory:
      return {Interaction::kRead, 'R', "history-instance"};
    case Operation::kSearch:
      return {Interaction::kSearch, 'E', "search"};
    case Operation::kCreate:
      return {Interaction::kCreate, 'C', "create"};
    case Operation::kUpdate:
      return {Interaction::kUpdate, 'U', "update"};
    case Operation::kExport:
      return {Interaction::kExport, 'E', "export"};
  }
  return {Interaction::kRead, 'R', "read"};
}

bool PersonBound(std::string_view type) {
  auto category = security::CategoryOf(type);
  return category && security::IsPersonBound(*category);
}

// Requests about people's data are audited; the directory (Organization, Practitioner,
// PractitionerRole), population figures (Group) and /metadata are not — unless a response
// carries person-bound rows (e.g. an _revinclude of Patients).
bool AuditedType(std::string_view type) {
  auto category = security::CategoryOf(type);
  return category && (security::IsPersonBound(*category) || *category == Category::kAudit);
}

// Exactly the same refusal for a missing record and a hidden one.
Error NotKnown(std::string_view type, std::string_view id) {
  return Error::NotFound(std::string(type) + "/" + std::string(id) + " is not known");
}

Error Invalid(std::string message, std::string field = {}) {
  return Error{ErrorCode::kInvalidInput, std::move(message), std::move(field)};
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string NewId() { return security::Sha256Hex(security::NewBearerToken()).substr(0, 32); }

Result<Record> ToRecord(store::FoundResource found, const DisclosureRule& counts = {}) {
  JU_ASSIGN_OR_RETURN(std::string text, RenderRecord(found, counts));
  return Record{std::move(found.resource_type), std::move(found.id), found.meta, found.patient_key,
                std::move(found.record),        std::move(text)};
}

// A client's resource read for the store: its meta dropped, the server's id set, mapped
// (fhir/resource.h) for the typed tables. The resource itself is kept whole and served back:
// nothing the client wrote is dropped (fhir/served_text.h).
struct Incoming {
  store::ResourceRecord record;
  std::string json;  // the client's resource, whole, as it will be served (without meta)
  std::optional<int64_t> rendering_hash;  // typed types: of `record`'s rendering
  std::string patient_id;  // the person it is about ("" for Patient itself and other types)
  std::string patient_field = std::string(kSubjectField);  // the reference naming that person
  std::vector<resources::IndexEntry> index;                // document types: their search values
  RecordSharing sharing = RecordSharing::kCareRelationship;  // document types: their restriction
};

bool IsJsonOnlyType(std::string_view type) {
  return type == "Practitioner" || type == "PractitionerRole";
}

Result<Incoming> ReadIncoming(std::string_view type, std::string_view id, std::string_view text) {
  json body = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return Invalid("the body is not a JSON object");
  body.erase("meta");
  body["id"] = id;
  Incoming in;
  in.json = Dump(body);
  if (resources::IsKeptAsDocument(type)) {
    // Kept whole; the fhir layer reads its person and search values (fhir/document.h).
    auto read = fhir::ReadDocument(in.json, fhir::ResolveRelativeReference);
    if (auto* e = std::get_if<fhir::MapError>(&read)) return Invalid(e->message, e->field);
    fhir::Document& document = std::get<fhir::Document>(read);
    in.record = store::ResourceJson{in.json};
    in.patient_id = std::move(document.patient_id);
    in.patient_field = document.person_element + ".reference";
    in.index = std::move(document.index);
    in.sharing = document.sharing;
    return in;
  }
  if (IsJsonOnlyType(type)) {
    in.record = store::ResourceJson{in.json};
    return in;
  }
  auto mapped = fhir::MapResource(in.json, fhir::MapOptions{}, fhir::ResolveRelativeReference);
  if (auto* e = std::get_if<fhir::MapError>(&mapped)) return Invalid(e->message, e->field);
  fhir::Mapped& m = std::get<fhir::Mapped>(mapped);
  // The typed record is what search and analytics read; the client's text is what is served
  // back, whole, while the typed rows still render as they do now (fhir/served_text.h).
  std::string rendering;
  Status rendered = Ok();
  bool type_ok = false;
  if (auto* p = std::get_if<Practice>(&m)) {
    type_ok = type == "Organization";
    rendered = fhir::AppendOrganizationJson(*p, rendering);
    in.record = *p;
  } else if (auto* p = std::get_if<Patient>(&m)) {
    type_ok = type == "Patient";
    rendered = fhir::AppendPatientJson(*p, rendering);
    in.record = *p;
  } else if (auto* ev = std::get_if<ClinicalEvent>(&m)) {
    type_ok = type == (ev->kind == EventKind::kCondition ? "Condition" : "Observation");
    rendered = fhir::AppendClinicalEventJson(*ev, rendering);
    in.patient_id = ev->patient_id;
    in.record = *ev;
  } else if (auto* a = std::get_if<Activity>(&m)) {
    type_ok = type == fhir::ActivityResourceType(a->type);
    if (!type_ok)
      return Invalid("this activity type is served as " +
                         std::string(fhir::ActivityResourceType(a->type)) + ", not " +
                         std::string(type),
                     "type");
    rendered = fhir::AppendActivityJson(*a, rendering);
    in.patient_id = a->patient_id;
    in.record = *a;
  } else if (auto* med = std::get_if<Medication>(&m)) {
    type_ok = type == "MedicationRequest";
    rendered = fhir::AppendMedicationRequestJson(*med, rendering);
    in.patient_id = med->patient_id;
    in.record = *med;
  } else if (auto* skipped = std::get_if<fhir::Skipped>(&m)) {
    return Invalid(skipped->reason);
  } else {
    return Invalid(std::string(type) + " cannot be written here");
  }
  if (!type_ok) return Invalid("the resource is not a " + std::string(type), "resourceType");
  if (!rendered.ok()) return Invalid(rendered.error().message);
  in.rendering_hash = StableHash64(rendering);
  return in;
}

}  // namespace

Result<std::string> RenderRecord(const store::FoundResource& found, const DisclosureRule& counts) {
  std::string out;
  Status status = std::visit(
      [&](const auto& record) -> Status {
        using T = std::decay_t<decltype(record)>;
        if constexpr (std::is_same_v<T, Practice>) return fhir::AppendOrganizationJson(record, out);
        if constexpr (std::is_same_v<T, Patient>) return fhir::AppendPatientJson(record, out);
        if constexpr (std::is_same_v<T, ClinicalEvent>)
          return fhir::AppendClinicalEventJson(record, out);
        if constexpr (std::is_same_v<T, Activity>) return fhir::AppendActivityJson(record, out);
        if constexpr (std::is_same_v<T, Medication>)
          return fhir::AppendMedicationRequestJson(record, out);
        if constexpr (std::is_same_v<T, store::RiskResult>)
          out = RiskAssessmentJson(record, found.id);
        if constexpr (std::is_same_v<T, store::Segment>) out = GroupJson(record, found.id, counts);
        if constexpr (std::is_same_v<T, store::ConsentRecord>) out = ConsentJson(record);
        if constexpr (std::is_same_v<T, store::AuditEvent>) out = AuditEventJson(record);
        if constexpr (std::is_same_v<T, store::ResourceJson>) out = record.json;
        return Ok();
      },
      found.record);
  if (!status.ok())
    return Error::Internal("rendering " + found.resource_type + "/" + found.id + ": " +
                           status.error().message);
  return fhir::ServedText(std::move(out), found.document);
}

Requester RequesterOf(const http::Principal& principal, const http::HttpRequest& request) {
  Requester requester;
  requester.caller = principal.caller;
  requester.caller.break_glass_reason.clear();
  requester.actor.user_id = requester.caller.user_id;
  requester.actor.username = principal.username;
  requester.actor.role = std::string(security::RoleName(requester.caller.role));
  requester.actor.organisation_id = requester.caller.organisation_id;
  requester.actor.request_id = request.request_id;
  requester.actor.client_request_id = request.client_request_id;
  requester.actor.source_address = request.remote_address;
  return requester;
}

Records::Records(store::Store& store, Requester requester, security::Clock clock, Settings settings)
    : store_(store),
      resources_(store),
      requester_(std::move(requester)),
      clock_(clock ? std::move(clock) : security::Clock(security::SystemClockMs)),
      settings_(settings) {}

// ---- Decisions and the audit trail ----------------------------------------------------------

store::Visibility Records::Visibility() const {
  const security::Caller& caller = requester_.caller;
  store::Visibility v;
  if (caller.role == Role::kPatient) {
    if (caller.patient_key) {
      v.kind = store::Visibility::Kind::kSelf;
      v.patient_key = *caller.patient_key;
    }
    return v;  // kNobody for a patient account without its person
  }
  // Roles with no right to any identifiable person's record (commissioner, privacy officer,
  // administrator) see no person-bound row, whatever else the query asks for.
  if (!security::RoleAllows(caller.role, Category::kDemographics, Interaction::kSearch) &&
      !security::RoleAllows(caller.role, Category::kClinical, Interaction::kSearch))
    return v;
  v.kind = store::Visibility::Kind::kRelationship;
  v.organisation_id = caller.organisation_id;
  v.user_id = caller.user_id;
  v.as_at_ms = clock_();
  return v;
}

Status Records::Audited(Operation operation, AuditOutcome outcome,
                        std::vector<int64_t> patient_keys, std::string query, bool break_glass,
                        std::string_view subtype) {
  const OperationInfo info = Info(operation);
  security::AuditEntry entry;
  entry.action = info.action;
  entry.subtype = std::string(subtype.empty() ? info.subtype : subtype);
  entry.outcome = outcome;
  entry.patient_keys = std::move(patient_keys);
  entry.query = std::move(query);
  if (break_glass) entry.break_glass_reason = requester_.caller.break_glass_reason;
  auto recorded = security::AuditTrail(store_, clock_).Record(requester_.actor, std::move(entry));
  if (!recorded.ok()) return recorded.take_error();
  return Ok();
}

Error Records::Denied(Operation operation, std::string_view type) {
  if (AuditedType(type)) {
    Status audited = Audited(operation, AuditOutcome::kSeriousFailure, {});
    if (!audited.ok()) return audited.take_error();
  }
  return Error{ErrorCode::kForbidden,
               "your role or token does not allow " +
                   std::string(security::InteractionName(Info(operation).interaction)) + " on " +
                   std::string(type)};
}

Status Records::Permit(Operation operation, std::string_view type) {
  const security::Caller& caller = requester_.caller;
  const bool allowed = [&] {
    const resources::ResourceTypeDef* def = resources::FindType(type);
    if (operation == Operation::kUpdate && def != nullptr && def->interactions.update_create)
      return security::DecideUnbound(caller, {Interaction::kUpdate, type}).allowed ||
             security::DecideUnbound(caller, {Interaction::kCreate, type}).allowed;
    return security::DecideUnbound(caller, {Info(operation).interaction, type}).allowed;
  }();
  if (!allowed) return Denied(operation, type);
  return Ok();
}

Result<security::Decision> Records::DecidePerson(Operation operation, std::string_view type,
                                                 int64_t patient_key, RecordSharing sharing) {
  JU_ASSIGN_OR_RETURN(std::optional<store::PatientAccessFacts> facts,
                      store_.AccessFacts(patient_key, clock_()));
  store::PatientAccessFacts f;
  if (facts) f = std::move(*facts);
  f.patient_key = patient_key;
  return security::DecideRecord(requester_.caller, {Info(operation).interaction, type}, f,
                                sharing);
}

// The privacy officer's alerts, as NHS England's Spine raises them for the Summary Care Record
// (an alert when emergency access is used, a "dissent override" alert when a person's refusal
// is overridden): an AuditEvent they can search for by subtype, and a line on stderr for
// whoever watches the log — without any identifier of the person.
Status Records::AlertPrivacyOfficer(std::string_view subtype, std::optional<int64_t> patient_key) {
  security::AuditEntry entry;
  entry.action = 'E';
  entry.subtype = std::string(subtype);
  if (patient_key) entry.patient_keys = {*patient_key};
  entry.break_glass_reason = requester_.caller.break_glass_reason;
  JU_ASSIGN_OR_RETURN(
      store::AuditEvent alert,
      security::AuditTrail(store_, clock_).Record(requester_.actor, std::move(entry)));
  std::fprintf(stderr, "joinedup: %s: user %lld (%s); AuditEvent/%lld, request %s\n",
               std::string(subtype).c_str(), static_cast<long long>(requester_.caller.user_id),
               std::string(security::RoleName(requester_.caller.role)).c_str(),
               static_cast<long long>(alert.sequence), requester_.actor.request_id.c_str());
  return Ok();
}

Result<bool> Records::WithinBreakGlassLimit() {
  if (!requester_.caller.user_id) return true;
  store::AuditQuery q;
  q.user_id = requester_.caller.user_id;
  q.from_ms = clock_() - kDayMs;
  q.subtypes = {std::string(kBreakGlassAlert), std::string(kConsentOverrideAlert)};
  q.limit = std::max(settings_.break_glass_daily_limit, 1);
  JU_ASSIGN_OR_RETURN(std::vector<store::AuditEvent> used, store_.SearchAuditEvents(q));
  return static_cast<int>(used.size()) < settings_.break_glass_daily_limit;
}

// ---- Read, vread, history -------------------------------------------------------------------

// A record the caller may read, with the decision that allowed it and whose it is.
struct Records::Opened {
  store::FoundResource found;
  security::Decision decision;
  std::vector<int64_t> keys;  // the person, for the audit event
  bool audited = false;
};

Result<Records::Opened> Records::Open(Operation operation, std::string_view type,
                                      std::string_view id) {
  JU_RETURN_IF_ERROR(Permit(operation, type));
  const security::Decision unbound =
      security::DecideUnbound(requester_.caller, {Info(operation).interaction, type});
  Opened o;
  o.audited = AuditedType(type);
  // Breaking the glass (security/policy.h): every attempt is audited with its reason, whether
  // the record exists or not; one by a role that may not, or beyond the user's daily limit, is
  // refused as a missing record would be and the privacy officer is alerted.
  const bool glass = !requester_.caller.break_glass_reason.empty();
  std::string_view glass_refused;  // the alert's subtype when the glass may not be broken
  if (glass && !security::MayBreakGlass(requester_.caller.role)) {
    glass_refused = kBreakGlassRefusedAlert;
  } else if (glass) {
    JU_ASSIGN_OR_RETURN(bool within, WithinBreakGlassLimit());
    if (!within) glass_refused = kBreakGlassLimitAlert;
  }
  auto missing = [&]() -> Error {
    if (o.audited || glass) {
      Status a = Audited(operation, AuditOutcome::kMinorFailure, {}, {}, glass);
      if (a.ok() && !glass_refused.empty()) a = AlertPrivacyOfficer(glass_refused, std::nullopt);
      if (!a.ok()) return a.take_error();
    }
    return NotKnown(type, id);
  };
  if (!fhir::IsValidFhirId(id)) return missing();
  JU_ASSIGN_OR_RETURN(std::optional<store::FoundResource> found, resources_.FindResource(type, id));
  if (!found) return missing();
  o.found = std::move(*found);
  o.decision = unbound;
  if (PersonBound(type) && o.found.patient_key) {
    JU_ASSIGN_OR_RETURN(o.decision,
                        DecidePerson(operation, type, *o.found.patient_key, o.found.sharing));
    o.keys.push_back(*o.found.patient_key);
  }
  if (o.decision.break_glass && !glass_refused.empty()) {
    o.decision.allowed = false;
    o.decision.break_glass = false;
  }
  const std::optional<int64_t> person =
      o.keys.empty() ? std::nullopt : std::optional<int64_t>(o.keys.front());
  if (!o.decision.allowed) {
    // A person-level denial: logged as a failure, answered as a missing record.
    JU_RETURN_IF_ERROR(Audited(operation, AuditOutcome::kSeriousFailure, o.keys, {}, glass));
    if (!glass_refused.empty()) JU_RETURN_IF_ERROR(AlertPrivacyOfficer(glass_refused, person));
    return NotKnown(type, id);
  }
  if (glass_refused == kBreakGlassRefusedAlert)
    // Not needed (a relationship allowed it), but tried by a role that may not.
    JU_RETURN_IF_ERROR(AlertPrivacyOfficer(glass_refused, person));
  return o;
}

// The success event of a read, and the privacy officer's alert if the glass was broken.
Status Records::AuditRead(Operation operation, const Opened& opened) {
  if (!opened.audited) return Ok();
  JU_RETURN_IF_ERROR(
      Audited(operation, AuditOutcome::kSuccess, opened.keys, {}, opened.decision.break_glass));
  if (opened.decision.break_glass && !opened.keys.empty())
    JU_RETURN_IF_ERROR(AlertPrivacyOfficer(
        opened.decision.overrides_consent ? kConsentOverrideAlert : kBreakGlassAlert,
        opened.keys.front()));
  return Ok();
}

Result<Record> Records::Read(std::string_view type, std::string_view id) {
  JU_ASSIGN_OR_RETURN(Opened o, Open(Operation::kRead, type, id));
  JU_ASSIGN_OR_RETURN(Record record, ToRecord(std::move(o.found), settings_.disclosure));
  JU_RETURN_IF_ERROR(AuditRead(Operation::kRead, o));
  return record;
}

namespace {

// The person a version of a person-bound record was about: its subject or patient reference
// ("" for Patient itself, whose versions are all the same person, or none found).
std::string VersionPerson(std::string_view type, std::string_view text) {
  if (type == "Patient") return "";
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return "";
  for (const char* element : {"subject", "patient"}) {
    auto it = j.find(element);
    if (it == j.end() || !it->is_object()) continue;
    auto reference = it->find("reference");
    if (reference == it->end() || !reference->is_string()) continue;
    if (auto id = fhir::ResolveRelativeReference(reference->get<std::string>(), "Patient"))
      return *id;
  }
  return "";
}

}  // namespace

Result<bool> Records::VersionVisible(Operation operation, std::string_view type,
                                     std::string_view text, std::vector<int64_t>& keys,
                                     RecordSharing sharing) {
  if (!PersonBound(type)) return true;
  const std::string person = VersionPerson(type, text);
  if (person.empty()) return true;
  JU_ASSIGN_OR_RETURN(std::optional<store::FoundResource> found,
                      resources_.FindResource("Patient", person));
  if (!found || !found->patient_key) return false;  // no longer anyone the caller can see
  const int64_t key = *found->patient_key;
  if (std::find(keys.begin(), keys.end(), key) != keys.end()) return true;  // decided already
  JU_ASSIGN_OR_RETURN(security::Decision d, DecidePerson(operation, type, key, sharing));
  if (!d.allowed) return false;
  keys.push_back(key);
  return true;
}

Result<Version> Records::Vread(std::string_view type, std::string_view id,
                               std::string_view version) {
  JU_ASSIGN_OR_RETURN(Opened o, Open(Operation::kVread, type, id));
  const std::string versioned = std::string(id) + "/_history/" + std::string(version.substr(0, 20));
  const std::optional<int64_t> wanted = ParseNonNegative(version);
  Version out;
  if (wanted && *wanted == o.found.meta.version_id) {
    JU_ASSIGN_OR_RETURN(out.json, RenderRecord(o.found, settings_.disclosure));
    out.meta = o.found.meta;
  } else {
    std::vector<store::ResourceVersion> versions;
    if (wanted && *wanted >= 1 && *wanted < o.found.meta.version_id) {
      JU_ASSIGN_OR_RETURN(versions, resources_.ResourceHistory(type, id));
    }
    auto it = std::find_if(versions.begin(), versions.end(),
                           [&](const auto& v) { return v.version_id == *wanted; });
    if (it == versions.end()) {
      if (o.audited)
        JU_RETURN_IF_ERROR(Audited(Operation::kVread, AuditOutcome::kMinorFailure, o.keys));
      return NotKnown(type, versioned);
    }
    // An earlier version may have been about someone else (a record moved between people):
    // it is decided on its own person, and refused as a missing version.
    JU_ASSIGN_OR_RETURN(bool visible, VersionVisible(Operation::kVread, type, it->json, o.keys,
                                                     o.found.sharing));
    if (!visible) {
      JU_RETURN_IF_ERROR(Audited(Operation::kVread, AuditOutcome::kSeriousFailure, o.keys));
      return NotKnown(type, versioned);
    }
    out.meta = store::ResourceMeta{it->version_id, it->last_updated_ms};
    out.json = std::move(it->json);
  }
  JU_RETURN_IF_ERROR(AuditRead(Operation::kVread, o));
  return out;
}

Result<std::vector<Version>> Records::History(std::string_view type, std::string_view id) {
  JU_ASSIGN_OR_RETURN(Opened o, Open(Operation::kHistory, type, id));
  JU_ASSIGN_OR_RETURN(std::string current, RenderRecord(o.found, settings_.disclosure));
  JU_ASSIGN_OR_RETURN(std::vector<store::ResourceVersion> stored,
                      resources_.ResourceHistory(type, id));
  std::vector<Version> out;
  const store::ResourceMeta& meta = o.found.meta;
  // A record never written through the API has no stored text: its one version is the
  // current rendering.
  if (stored.empty() || stored.front().version_id != meta.version_id)
    out.push_back(Version{meta, current});
  for (store::ResourceVersion& v : stored) {
    const bool is_current = v.version_id == meta.version_id;
    // Each earlier version is decided on the person it was about; one the caller may not see
    // is left out, as if it had never been.
    if (!is_current) {
      JU_ASSIGN_OR_RETURN(bool visible, VersionVisible(Operation::kHistory, type, v.json, o.keys,
                                                       o.found.sharing));
      if (!visible) continue;
    }
    out.push_back(Version{store::ResourceMeta{v.version_id, v.last_updated_ms},
                          is_current ? current : std::move(v.json)});
  }
  JU_RETURN_IF_ERROR(AuditRead(Operation::kHistory, o));
  return out;
}

// ---- Search ---------------------------------------------------------------------------------

Result<Page> Records::Search(const resources::SearchRequest& request,
                             const SearchOptions& options) {
  const std::string_view type = request.resource_type;
  JU_RETURN_IF_ERROR(Permit(Operation::kSearch, type));
  // Every type a response may carry must be allowed too: an include cannot widen a search.
  for (const resources::IncludeDef* inc : request.includes)
    JU_RETURN_IF_ERROR(Permit(Operation::kSearch, inc->target_type));
  for (const resources::IncludeDef* inc : request.revincludes)
    JU_RETURN_IF_ERROR(Permit(Operation::kSearch, inc->source_type));
  if (type == "AuditEvent") return SearchAudit(request, options);
  if (type == "Group") return SearchGroups(request, options);

  resources::SearchRequest asked = request;
  if (asked.summary_count) asked.count = 0;
  JU_ASSIGN_OR_RETURN(
      store::ResourcePage found,
      resources_.SearchResources(asked, options.after, Visibility(), options.want_total));
  Page page;
  std::vector<int64_t> keys;
  if (found.has_next && !found.matches.empty()) {
    const store::FoundResource& last = found.matches.back();
    page.next = resources::PageCursor{last.sort_values, last.id};
  }
  for (auto [from, to] :
       {std::pair{&found.matches, &page.matches}, std::pair{&found.included, &page.included}}) {
    for (store::FoundResource& f : *from) {
      if (f.patient_key && PersonBound(f.resource_type)) keys.push_back(*f.patient_key);
      JU_ASSIGN_OR_RETURN(Record record, ToRecord(std::move(f)));
      to->push_back(std::move(record));
    }
  }
  if (options.want_total) page.total = found.total;
  if (AuditedType(type) || !keys.empty())
    JU_RETURN_IF_ERROR(
        Audited(Operation::kSearch, AuditOutcome::kSuccess, std::move(keys), options.query));
  return page;
}

namespace {
// The latest run and the one before it (by id: runs are numbered as they are saved).
std::pair<std::optional<StratificationRun>, std::optional<StratificationRun>> LatestTwo(
    std::vector<StratificationRun> runs) {
  std::sort(runs.begin(), runs.end(),
            [](const StratificationRun& a, const StratificationRun& b) { return a.id > b.id; });
  std::pair<std::optional<StratificationRun>, std::optional<StratificationRun>> out;
  if (!runs.empty()) out.first = std::move(runs[0]);
  if (runs.size() > 1) out.second = std::move(runs[1]);
  return out;
}
}  // namespace

Result<WorklistOptions> Records::CaseFindingOptions() {
  JU_RETURN_IF_ERROR(Permit(Operation::kSearch, "RiskAssessment"));
  WorklistOptions out;
  JU_ASSIGN_OR_RETURN(std::vector<StratificationRun> runs, store_.Runs());
  std::tie(out.run, out.previous_run) = LatestTwo(std::move(runs));
  JU_ASSIGN_OR_RETURN(out.practices, store_.Practices());
  std::sort(out.practices.begin(), out.practices.end(),
            [](const Practice& a, const Practice& b) { return a.id < b.id; });
  return out;
}

Result<Worklist> Records::CaseFinding(const WorklistRequest& request) {
  JU_RETURN_IF_ERROR(Permit(Operation::kSearch, "RiskAssessment"));
  Worklist out;
  JU_ASSIGN_OR_RETURN(std::vector<StratificationRun> runs, store_.Runs());
  auto [latest, previous] = LatestTwo(std::move(runs));
  if (!latest) return out;
  out.run_id = latest->id;
  if (previous) out.previous_run_id = previous->id;
  if (request.risers && !previous)
    return Invalid("there is only one stratification run: risers are found from the second",
                   "risers");
  store::ResourceStore::WorklistQuery query;
  query.run_id = *out.run_id;
  query.practice_id = request.practice_id;
  query.segment_group_id = request.segment_group_id;
  query.pch = request.pch;
  // Age today in whole years (as the worklist shows it): aged at least A means born on or
  // before today less A years (29 February counts from 1 March in common years, as the
  // shown age does); at most B means born after today less B + 1 years.
  const Date today = Date::FromDays(static_cast<int32_t>(clock_() / (24LL * 60 * 60 * 1000)));
  if (request.age_from) query.born_to = today.AddYears(-*request.age_from);
  if (request.age_to) query.born_from = today.AddYears(-(*request.age_to + 1)).AddDays(1);
  query.risk_at_least = request.risk_from;
  query.risk_below = request.risk_to;
  if (request.risers) query.risen_since_run_id = previous->id;
  query.not_on_caseload = request.not_on_caseload;
  query.offset = request.offset;
  query.limit = std::clamp(request.limit, 1, kWorklistMaxRows) + 1;  // one more: a next page?
  JU_ASSIGN_OR_RETURN(std::vector<store::FoundResource> found,
                      resources_.WorklistRows(query, Visibility()));
  out.more = static_cast<int>(found.size()) == query.limit;
  if (out.more) found.pop_back();
  std::vector<int64_t> keys;
  for (store::FoundResource& f : found) {
    if (f.patient_key) keys.push_back(*f.patient_key);
    JU_ASSIGN_OR_RETURN(Record record, ToRecord(std::move(f)));
    out.rows.push_back(std::move(record));
  }
  if (!request.for_export) {  // a screen's page: who is on a caseload already
    for (int64_t key : keys) {
      store::CaseEpisodeQuery open;
      open.patient_key = key;
      open.limit = 1;
      JU_ASSIGN_OR_RETURN(std::vector<store::CaseEpisode> episodes, store_.CaseEpisodes(open));
      if (!episodes.empty()) out.on_caseload.insert(key);
    }
  }
  if (request.risers) {  // the same people, in the run they rose from
    for (int64_t key : keys) {
      JU_ASSIGN_OR_RETURN(std::optional<store::FoundResource> before,
                          resources_.FindResource("RiskAssessment", std::to_string(previous->id) +
                                                                        "-" + std::to_string(key)));
      if (!before) continue;
      JU_ASSIGN_OR_RETURN(Record record, ToRecord(std::move(*before)));
      out.previous.emplace(key, std::move(record));
    }
  }
  std::string filters;
  auto say = [&](std::string text) { filters += ", " + std::move(text); };
  if (!request.practice_id.empty()) say("practice " + request.practice_id);
  if (!request.pch.empty()) say("Primary Care Home " + request.pch);
  if (!request.segment_group_id.empty()) say("segment Group/" + request.segment_group_id);
  if (request.age_from) say("aged from " + std::to_string(*request.age_from));
  if (request.age_to) say("aged to " + std::to_string(*request.age_to));
  if (request.risk_from) say("risk from " + std::to_string(*request.risk_from));
  if (request.risk_to) say("risk below " + std::to_string(*request.risk_to));
  if (request.risers) say("risen since run " + std::to_string(previous->id));
  if (request.not_on_caseload) say("not on a caseload");
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  JU_RETURN_IF_ERROR(Audited(Operation::kSearch, AuditOutcome::kSuccess, std::move(keys),
                             "case-finding worklist: run " + std::to_string(*out.run_id) + filters +
                                 ", from " + std::to_string(request.offset) +
                                 (request.for_export ? ", exported as CSV" : "")));
  return out;
}

std::shared_ptr<const analytics::PopulationViews> PopulationCache::Find(int64_t run_id,
                                                                        int64_t now_ms) {
  std::lock_guard lock(mutex_);
  auto it = kept_.find(run_id);
  if (it == kept_.end() || now_ms - it->second.first > kLifetimeMs) return nullptr;
  return it->second.second;
}

void PopulationCache::Keep(std::shared_ptr<const analytics::PopulationViews> views,
                           int64_t now_ms) {
  std::lock_guard lock(mutex_);
  for (auto it = kept_.begin(); it != kept_.end();)  // one run's views are all anyone asks for
    it = now_ms - it->second.first > kLifetimeMs ? kept_.erase(it) : std::next(it);
  const int64_t run_id = views->run_id;
  kept_[run_id] = {now_ms, std::move(views)};
}

Result<analytics::PopulationViews> Records::Population(PopulationCache& cache) {
  JU_RETURN_IF_ERROR(Permit(Operation::kSearch, "Group"));
  JU_ASSIGN_OR_RETURN(std::vector<StratificationRun> runs, store_.Runs());
  std::sort(runs.begin(), runs.end(),
            [](const StratificationRun& a, const StratificationRun& b) { return a.id < b.id; });
  if (runs.empty()) return Error::NotFound("there is no stratification run yet");
  const StratificationRun& latest = runs.back();
  std::shared_ptr<const analytics::PopulationViews> views = cache.Find(latest.id, clock_());
  if (!views) {
    JU_ASSIGN_OR_RETURN(std::vector<PersonRunResult> people, store_.RunResults(latest.id));
    std::vector<PersonRunResult> previous_people;
    const StratificationRun* previous = runs.size() > 1 ? &runs[runs.size() - 2] : nullptr;
    if (previous) {
      JU_ASSIGN_OR_RETURN(previous_people, store_.RunResults(previous->id));
    }
    JU_ASSIGN_OR_RETURN(std::vector<RegisteredPerson> registered, store_.RegisteredPeople());
    JU_ASSIGN_OR_RETURN(
        analytics::PopulationViews built,
        analytics::BuildPopulationViews(latest, people, registered, previous, previous_people));
    JU_ASSIGN_OR_RETURN(std::vector<Practice> practices, store_.Practices());
    analytics::AddPrimaryCareHomes(built, practices);
    views = std::make_shared<const analytics::PopulationViews>(std::move(built));
    cache.Keep(views, clock_());
  }
  analytics::PopulationViews shown = *views;
  analytics::MaskCounts(shown, settings_.disclosure);
  JU_RETURN_IF_ERROR(Audited(Operation::kSearch, AuditOutcome::kSuccess, {},
                             "population views: run " + std::to_string(latest.id)));
  return shown;
}

Result<std::vector<store::AuditEvent>> Records::AccessLog(std::string_view patient_id, int limit) {
  const security::Caller& caller = requester_.caller;
  const bool officer = security::RoleAllows(caller.role, security::Category::kAudit,
                                            security::Interaction::kSearch) &&
                       !caller.disabled;
  std::optional<int64_t> key;
  if (resources::IsValidFhirId(patient_id)) {
    JU_ASSIGN_OR_RETURN(std::optional<store::FoundResource> found,
                        resources_.FindResource("Patient", patient_id));
    if (found) key = found->patient_key;
  }
  const bool self = key && caller.role == security::Role::kPatient && caller.patient_key &&
                    *caller.patient_key == *key && !caller.disabled;
  if (!key || (!officer && !self)) {
    JU_RETURN_IF_ERROR(Audited(
        Operation::kSearch, key ? AuditOutcome::kSeriousFailure : AuditOutcome::kMinorFailure,
        key ? std::vector<int64_t>{*key} : std::vector<int64_t>{}, "access log"));
    return NotKnown("Patient", patient_id);
  }
  store::AuditQuery q;
  q.patient_key = key;
  q.limit = kAuditSearchLimit;
  JU_ASSIGN_OR_RETURN(std::vector<store::AuditEvent> events, store_.SearchAuditEvents(q));
  std::vector<store::AuditEvent> out;
  for (auto it = events.rbegin(); it != events.rend() && static_cast<int>(out.size()) < limit; ++it)
    if (!it->user_id || caller.role != security::Role::kPatient || *it->user_id != caller.user_id)
      out.push_back(std::move(*it));
  JU_RETURN_IF_ERROR(Audited(Operation::kSearch, AuditOutcome::kSuccess, {*key}, "access log"));
  return out;
}

Result<std::vector<Alert>> Records::Alerts(int limit) {
  JU_RETURN_IF_ERROR(Permit(Operation::kSearch, "AuditEvent"));
  store::AuditQuery q;
  for (std::string_view subtype : kAlertSubtypes) q.subtypes.emplace_back(subtype);
  q.limit = kAuditSearchLimit;
  JU_ASSIGN_OR_RETURN(std::vector<store::AuditEvent> alerts, store_.SearchAuditEvents(q));
  store::AuditQuery acks;
  acks.subtypes = {std::string(kAlertAcknowledged)};
  acks.limit = kAcknowledgementsSearched;
  JU_ASSIGN_OR_RETURN(std::vector<store::AuditEvent> acknowledged, store_.SearchAuditEvents(acks));
  std::vector<Alert> out;
  std::vector<int64_t> keys;
  for (auto it = alerts.rbegin(); it != alerts.rend() && static_cast<int>(out.size()) < limit;
       ++it) {
    Alert alert{std::move(*it), std::nullopt};
    const std::string prefix = "AuditEvent/" + std::to_string(alert.event.sequence) + ": ";
    for (const store::AuditEvent& ack : acknowledged)
      if (ack.query.starts_with(prefix)) alert.acknowledgement = ack;
    keys.insert(keys.end(), alert.event.patient_keys.begin(), alert.event.patient_keys.end());
    out.push_back(std::move(alert));
  }
  JU_RETURN_IF_ERROR(
      Audited(Operation::kSearch, AuditOutcome::kSuccess, std::move(keys), "alert queue"));
  return out;
}

Status Records::AcknowledgeAlert(int64_t sequence, std::string_view note) {
  JU_RETURN_IF_ERROR(Permit(Operation::kSearch, "AuditEvent"));
  std::string_view trimmed = note;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front())))
    trimmed.remove_prefix(1);
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back())))
    trimmed.remove_suffix(1);
  if (trimmed.size() < 10)
    return Invalid("note: say what was found and done (at least 10 characters)", "note");
  JU_ASSIGN_OR_RETURN(std::vector<Alert> alerts, Alerts(kAuditSearchLimit));
  for (const Alert& alert : alerts) {
    if (alert.event.sequence != sequence) continue;
    if (alert.acknowledgement)
      return Error{ErrorCode::kConflict, "this alert was acknowledged already", "sequence"};
    security::AuditEntry entry;
    entry.action = 'E';
    entry.subtype = std::string(kAlertAcknowledged);
    entry.patient_keys = alert.event.patient_keys;
    entry.query = "AuditEvent/" + std::to_string(sequence) + ": " + std::string(trimmed);
    auto recorded = security::AuditTrail(store_, clock_).Record(requester_.actor, std::move(entry));
    if (!recorded.ok()) return recorded.take_error();
    return Ok();
  }
  return Error::NotFound("no such alert");
}

// AuditEvent searches read the audit trail (SearchAuditEvents: by person, user and time, in
// sequence order); subtype, _id and the exact date prefixes are applied here. Paging is keyset
// on the sequence number. At most 10,000 events are searched per query (the store's limit):
// a warning says so when reached — narrow the date range.
Result<Page> Records::SearchAudit(const resources::SearchRequest& request,
                                  const SearchOptions& options) {
  if (!request.sort.empty())
    return Invalid("_sort: AuditEvent results come in the audit trail's order", "_sort");
  store::AuditQuery q;
  q.limit = kAuditSearchLimit;
  bool none = false;
  std::vector<const resources::Filter*> in_memory;
  for (const resources::Filter& f : request.filters) {
    const std::string_view name = f.param->name;
    if (name == "patient" || name == "altid") {
      if (f.any_of.size() != 1)
        return Invalid(std::string(name) + ": give one value (repeat the search for others)",
                       std::string(name));
      if (name == "patient") {
        JU_ASSIGN_OR_RETURN(std::optional<store::FoundResource> found,
                            resources_.FindResource(
                                "Patient", std::get<resources::ReferenceValue>(f.any_of[0]).id));
        std::optional<int64_t> key = found ? found->patient_key : std::nullopt;
        if (!key || (q.patient_key && *q.patient_key != *key))
          none = true;
        else
          q.patient_key = key;
      } else {
        const auto& token = std::get<resources::TokenValue>(f.any_of[0]);
        std::optional<store::User> user;
        if (token.code) {
          JU_ASSIGN_OR_RETURN(user, store_.FindUser(*token.code));
        }
        if (!user || (q.user_id && *q.user_id != user->id))
          none = true;
        else
          q.user_id = user->id;
      }
      continue;
    }
    if (name == "date" || name == "_lastUpdated") {
      // Narrow in SQL where a single value bounds the range; the exact test is DateMatches.
      if (f.any_of.size() == 1) {
        const auto& d = std::get<resources::DateValue>(f.any_of[0]);
        using P = resources::DatePrefix;
        if (d.prefix == P::kEq || d.prefix == P::kGe || d.prefix == P::kGt || d.prefix == P::kSa)
          q.from_ms = std::max(q.from_ms.value_or(INT64_MIN), d.start * 1000);
        if (d.prefix == P::kEq || d.prefix == P::kLe || d.prefix == P::kLt || d.prefix == P::kEb)
          q.to_ms = std::min(q.to_ms.value_or(INT64_MAX), d.end * 1000);
      }
    }
    in_memory.push_back(&f);
  }
  auto matches = [&](const store::AuditEvent& e) {
    for (const resources::Filter* f : in_memory) {
      bool any = false;
      for (const resources::SearchValue& v : f->any_of) {
        if (auto* d = std::get_if<resources::DateValue>(&v)) {
          const int64_t s = e.time_ms >= 0 ? e.time_ms / 1000 : (e.time_ms - 999) / 1000;
          any = any || resources::DateMatches(*d, s, s + 1);
        } else if (auto* tok = std::get_if<resources::TokenValue>(&v)) {
          const std::string actual =
              f->param->name == "_id" ? std::to_string(e.sequence) : e.subtype;
          const bool system_ok = !tok->system || tok->system->empty() || f->param->name == "_id" ||
                                 *tok->system == kAuditSubtypeSystem ||
                                 *tok->system == "http://hl7.org/fhir/restful-interaction";
          any = any || (system_ok && (!tok->code || *tok->code == actual));
        }
      }
      if (!any) return false;
    }
    return true;
  };
  int64_t after = 0;
  if (options.after != nullptr) {
    auto seq = ParseNonNegative(options.after->after_id);
    if (!seq) return Invalid("_cursor: start again from the first page", "_cursor");
    after = *seq;
  }
  std::vector<store::AuditEvent> events;
  if (!none) {
    JU_ASSIGN_OR_RETURN(events, store_.SearchAuditEvents(q));
  }
  Page page;
  int64_t total = 0;
  const int count = request.summary_count ? 0 : request.count;
  bool has_next = false;
  for (store::AuditEvent& e : events) {
    if (!matches(e)) continue;
    ++total;
    if (e.sequence <= after) continue;
    if (static_cast<int>(page.matches.size()) >= count) {
      has_next = has_next || count > 0;
      continue;
    }
    Record r;
    r.type = "AuditEvent";
    r.id = std::to_string(e.sequence);
    r.meta = store::ResourceMeta{1, e.time_ms};
    r.json = AuditEventJson(e);
    r.record = std::move(e);
    page.matches.push_back(std::move(r));
  }
  if (has_next && !page.matches.empty())
    page.next = resources::PageCursor{{}, page.matches.back().id};
  if (options.want_total) page.total = total;
  if (events.size() >= static_cast<size_t>(kAuditSearchLimit))
    page.warning =
        "only the first 10000 audit events matching patient, user and date were searched; "
        "narrow the date range";
  JU_RETURN_IF_ERROR(Audited(Operation::kSearch, AuditOutcome::kSuccess, {},
                             "AuditEvent?" + fhir::search::CanonicalQuery(request)));
  return page;
}

// Group searches list the segments of the stored runs (newest run first, then model and
// segment order) — a few hundred at most — filtered by `_id`; `_lastUpdated` never matches
// (runs are not written through the API). "Fits no segment" is not a Group. Not audited: no
// person is named. Paging is keyset on the position of the last id.
Result<Page> Records::SearchGroups(const resources::SearchRequest& request,
                                   const SearchOptions& options) {
  if (!request.sort.empty())
    return Invalid("_sort: Group results come newest run first, then by model and segment",
                   "_sort");
  JU_ASSIGN_OR_RETURN(std::vector<StratificationRun> runs, store_.Runs());
  std::vector<std::string> ids;
  for (const StratificationRun& run : runs)
    for (size_t m = 0; m < run.models.size(); ++m)
      for (size_t s = 0; s < run.models[m].segments.size(); ++s)
        ids.push_back(std::to_string(run.id) + "-" + std::to_string(m) + "-" + std::to_string(s));
  auto matches = [&](const std::string& id) {
    for (const resources::Filter& f : request.filters) {
      if (f.param->name != "_id") return false;  // _lastUpdated: no Group has one
      bool any = false;
      for (const resources::SearchValue& v : f.any_of)
        if (auto* tok = std::get_if<resources::TokenValue>(&v))
          any = any || (tok->code && *tok->code == id);
      if (!any) return false;
    }
    return true;
  };
  const std::string after = options.after != nullptr ? options.after->after_id : "";
  const int count = request.summary_count ? 0 : request.count;
  bool past_cursor = after.empty(), has_next = false;
  int64_t total = 0;
  Page page;
  for (const std::string& id : ids) {
    if (!matches(id)) continue;
    ++total;
    if (!past_cursor) {
      past_cursor = id == after;
      continue;
    }
    if (static_cast<int>(page.matches.size()) >= count) {
      has_next = has_next || count > 0;
      continue;
    }
    JU_ASSIGN_OR_RETURN(std::optional<store::FoundResource> found,
                        resources_.FindResource("Group", id));
    if (!found) continue;
    JU_ASSIGN_OR_RETURN(Record record, ToRecord(std::move(*found), settings_.disclosure));
    page.matches.push_back(std::move(record));
  }
  if (has_next && !page.matches.empty())
    page.next = resources::PageCursor{{}, page.matches.back().id};
  if (options.want_total) page.total = total;
  return page;
}

// ---- Create and update ----------------------------------------------------------------------

Result<Written> Records::Create(std::string_view type, std::string_view json) {
  if (type == "Consent") return CreateConsent(json);
  return Write(type, std::nullopt, json, std::nullopt);
}

Result<Written> Records::Update(std::string_view type, std::string_view id, std::string_view json,
                                std::optional<int64_t> if_match) {
  if (type == "Consent") return UpdateConsent(id, json, if_match);
  return Write(type, id, json, if_match);
}

Result<Written> Records::Write(std::string_view type, std::optional<std::string_view> path_id,
                               std::string_view text, std::optional<int64_t> if_match) {
  const bool is_put = path_id.has_value();
  JU_RETURN_IF_ERROR(Permit(is_put ? Operation::kUpdate : Operation::kCreate, type));
  if (is_put && !fhir::IsValidFhirId(*path_id))
    return Invalid("the URL's id is not a FHIR id", "id");
  // FHIR create: the server assigns the id; the client's is ignored.
  const std::string id = is_put ? std::string(*path_id) : NewId();
  JU_ASSIGN_OR_RETURN(Incoming in, ReadIncoming(type, id, text));

  // The current version, if any: it decides create vs update, and whose record it is.
  std::optional<store::FoundResource> existing;
  if (is_put) {
    JU_ASSIGN_OR_RETURN(existing, resources_.FindResource(type, id));
  }
  if (is_put && !existing) {
    // A PUT creates only where the registry says ids may be the client's (updateCreate);
    // elsewhere an unknown id is refused exactly as a hidden one below.
    const resources::ResourceTypeDef* def = resources::FindType(type);
    if (def == nullptr || !def->interactions.update_create) {
      if (AuditedType(type))
        JU_RETURN_IF_ERROR(Audited(Operation::kUpdate, AuditOutcome::kMinorFailure, {}));
      return NotKnown(type, id);
    }
  }
  const bool creating = !existing;
  const Operation operation = creating ? Operation::kCreate : Operation::kUpdate;
  const Interaction interaction = Info(operation).interaction;
  if (!security::DecideUnbound(requester_.caller, {interaction, type}).allowed)
    return Denied(operation, type);

  // Whose data: the existing record's person, and the person the new version is about.
  std::vector<int64_t> keys;
  std::optional<int64_t> subject_key;
  if (PersonBound(type)) {
    if (existing && existing->patient_key) {
      const int64_t key = *existing->patient_key;
      // The record as it is, its own restriction included: a caller it hides from cannot change
      // it (nor learn that it exists).
      JU_ASSIGN_OR_RETURN(security::Decision d,
                          DecidePerson(operation, type, key, existing->sharing));
      keys.push_back(key);
      if (!d.allowed) {
        // Answered exactly as an id that does not exist (above).
        JU_RETURN_IF_ERROR(Audited(operation, AuditOutcome::kSeriousFailure, keys));
        return NotKnown(type, id);
      }
    }
    if (!in.patient_id.empty()) {
      JU_ASSIGN_OR_RETURN(std::optional<store::FoundResource> person,
                          resources_.FindResource("Patient", in.patient_id));
      std::optional<int64_t> key = person ? person->patient_key : std::nullopt;
      bool visible = key.has_value();
      if (key) {
        JU_ASSIGN_OR_RETURN(security::Decision d, DecidePerson(operation, type, *key));
        visible = d.allowed;
        keys.push_back(*key);
      }
      if (!visible) {
        // An unknown person and one the caller may not see get the same answer.
        JU_RETURN_IF_ERROR(Audited(
            operation, key ? AuditOutcome::kSeriousFailure : AuditOutcome::kMinorFailure, keys));
        return Invalid("Patient/" + in.patient_id + " is not known", in.patient_field);
      }
      subject_key = key;
    }
    // References stay within the person: the encounter a Condition or Observation was recorded
    // in must be the same person's, and another person's is refused exactly as an unknown one
    // (it would otherwise be shown to everyone who reads this record).
    if (const auto* event = std::get_if<ClinicalEvent>(&in.record);
        event != nullptr && !event->activity_id.empty()) {
      std::optional<int64_t> owner;
      for (std::string_view activity_type : {"Encounter", "EpisodeOfCare"}) {
        JU_ASSIGN_OR_RETURN(std::optional<store::FoundResource> activity,
                            resources_.FindResource(activity_type, event->activity_id));
        if (activity) {
          owner = activity->patient_key;
          break;
        }
      }
      if (!owner || owner != subject_key) {
        JU_RETURN_IF_ERROR(Audited(operation, AuditOutcome::kMinorFailure, keys));
        return Invalid("Encounter/" + event->activity_id + " is not known", "encounter.reference");
      }
    }
    if (type == "Patient" && creating) {
      // A new person: the relationship is the one the record gives (their registered practice).
      store::PatientAccessFacts facts;
      facts.practice_id = std::get<Patient>(in.record).practice_id;
      if (!security::Decide(requester_.caller, {interaction, type}, facts).allowed) {
        JU_RETURN_IF_ERROR(Audited(operation, AuditOutcome::kSeriousFailure, {}));
        return Error{ErrorCode::kForbidden,
                     "a new Patient must be registered with your own practice",
                     "generalPractitioner"};
      }
    }
  }
  // The person co-owns their plan: a patient's change is checked element by element.
  if (existing && requester_.caller.role == Role::kPatient &&
      security::CoOwnedByThePerson(Role::kPatient, {Interaction::kUpdate, type}))
    JU_RETURN_IF_ERROR(CheckPersonsChange(type, *existing, in.json, keys));
  std::string registration_change;
  if (type == "Patient") {
    JU_ASSIGN_OR_RETURN(registration_change, CheckRegistration(existing ? &*existing : nullptr,
                                                               std::get<Patient>(in.record), keys));
  }

  store::ResourceWrite w;
  w.resource_type = std::string(type);
  w.id = id;
  w.record = std::move(in.record);
  w.json = in.json;
  w.rendering_hash = in.rendering_hash;
  w.patient_id = in.patient_id;
  w.index = std::move(in.index);
  w.sharing = in.sharing;
  w.if_match = if_match;
  w.create_only = !is_put;
  w.now_ms = clock_();
  if (existing && !existing->meta.last_updated_ms) {
    JU_ASSIGN_OR_RETURN(w.baseline_json, RenderRecord(*existing));
  }
  auto meta = resources_.PutResource(w);
  if (!meta.ok()) {
    Error e = meta.take_error();
    if (e.code == ErrorCode::kNotFound)  // a reference the record makes
      e = Invalid(std::move(e.message), in.patient_field);
    if (AuditedType(type))
      JU_RETURN_IF_ERROR(Audited(operation, AuditOutcome::kMinorFailure, keys));
    return e;
  }
  std::optional<int64_t> patient_key = existing ? existing->patient_key : std::optional<int64_t>();
  if (type == "Patient" && creating) {
    JU_ASSIGN_OR_RETURN(std::optional<store::FoundResource> person,
                        resources_.FindResource("Patient", id));
    if (person && person->patient_key) {
      patient_key = person->patient_key;
      keys.push_back(*patient_key);
    }
  }
  if (AuditedType(type))
    JU_RETURN_IF_ERROR(Audited(operation, AuditOutcome::kSuccess, keys, registration_change, false,
                               registration_change.empty() ? "" : kRegistrationChange));
  Written out;
  out.created = creating;
  out.record =
      Record{std::string(type), id, *meta, patient_key, std::move(w.record), std::move(in.json)};
  return out;
}

Result<std::string> Records::CheckRegistration(const store::FoundResource* existing,
                                               const Patient& next,
                                               const std::vector<int64_t>& keys) {
  const Operation operation = existing != nullptr ? Operation::kUpdate : Operation::kCreate;
  if (next.nhs_number) {
    JU_ASSIGN_OR_RETURN(std::optional<int64_t> holder,
                        store_.PatientKeyForNhsNumber(*next.nhs_number));
    if (holder && (existing == nullptr || existing->patient_key != holder)) {
      // The same words whether or not the caller may see the holder; the audit event names
      // the holder, so the privacy officer sees a probe for a number.
      std::vector<int64_t> audited = keys;
      audited.push_back(*holder);
      JU_RETURN_IF_ERROR(Audited(operation, AuditOutcome::kSeriousFailure, std::move(audited),
                                 "identifier: an NHS number another record holds"));
      return Error{ErrorCode::kConflict,
                   "this NHS number is already registered to a person: find their record "
                   "rather than making a new one",
                   "identifier"};
    }
  }
  if (existing == nullptr) return std::string();
  const std::string& from = std::get<Patient>(existing->record).practice_id;
  const std::string& to = next.practice_id;
  if (from == to) return std::string();
  auto named = [](const std::string& practice) {
    return practice.empty() ? std::string("none") : "Organization/" + practice;
  };
  std::string change = "generalPractitioner: " + named(from) + " -> " + named(to);
  // Registering people is the right to create a Patient; it is exercised for one's own
  // practice: the practice a person is registered with moves them (for someone registered
  // nowhere, the practice they join). A care team or broken glass is not enough.
  const security::Caller& caller = requester_.caller;
  const std::string& acting_for = from.empty() ? to : from;
  const bool allowed = security::DecideUnbound(caller, {Interaction::kCreate, "Patient"}).allowed &&
                       !caller.organisation_id.empty() && caller.organisation_id == acting_for;
  if (!allowed) {
    JU_RETURN_IF_ERROR(Audited(Operation::kUpdate, AuditOutcome::kSeriousFailure, keys,
                               std::move(change), false, kRegistrationChange));
    return Error{ErrorCode::kForbidden,
                 "a change of registered practice is made by the practice the person is "
                 "registered with",
                 "generalPractitioner"};
  }
  return change;
}

Result<Written> Records::CreateConsent(std::string_view text) {
  JU_RETURN_IF_ERROR(Permit(Operation::kCreate, "Consent"));
  JU_ASSIGN_OR_RETURN(ConsentInput in, ReadConsent(text));
  JU_ASSIGN_OR_RETURN(std::optional<store::FoundResource> person,
                      resources_.FindResource("Patient", in.patient_id));
  std::optional<int64_t> key = person ? person->patient_key : std::nullopt;
  bool visible = false;
  if (key) {
    JU_ASSIGN_OR_RETURN(security::Decision d, DecidePerson(Operation::kCreate, "Consent", *key));
    visible = d.allowed;
  }
  if (!visible) {
    JU_RETURN_IF_ERROR(Audited(Operation::kCreate,
                               key ? AuditOutcome::kSeriousFailure : AuditOutcome::kMinorFailure,
                               key ? std::vector<int64_t>{*key} : std::vector<int64_t>{}));
    return Invalid("Patient/" + in.patient_id + " is not known", "patient.reference");
  }
  store::ConsentRecord record;
  record.patient_id = in.patient_id;
  record.consent.patient_key = *key;
  record.consent.decision = in.decision;
  record.consent.recorded_by = requester_.caller.user_id;
  record.consent.recorded_at_ms = clock_();
  JU_ASSIGN_OR_RETURN(record.id, store_.RecordConsent(record.consent));
  JU_RETURN_IF_ERROR(Audited(Operation::kCreate, AuditOutcome::kSuccess, {*key}));
  Written out;
  out.created = true;
  out.record = Record{"Consent",
                      std::to_string(record.id),
                      store::ResourceMeta{1, record.consent.recorded_at_ms},
                      key,
                      record,
                      ConsentJson(record)};
  return out;
}

// A person changes their sharing decision (docs/fhir-api.md, "Consent"): the Consent stays
// about the same person; the store keeps the previous decision as a version and records the
// new one now, so the access policy follows it at once. Only the person's current Consent can
// change (kConflict for one a later Consent superseded). A Consent is never created by PUT:
// its id is the store's.
Result<Written> Records::UpdateConsent(std::string_view id, std::string_view text,
                                       std::optional<int64_t> if_match) {
  JU_RETURN_IF_ERROR(Permit(Operation::kUpdate, "Consent"));
  if (!fhir::IsValidFhirId(id)) return Invalid("the URL's id is not a FHIR id", "id");
  JU_ASSIGN_OR_RETURN(ConsentInput in, ReadConsent(text));

  // A missing Consent and one about a person the caller may not see answer alike.
  JU_ASSIGN_OR_RETURN(std::optional<store::FoundResource> found,
                      resources_.FindResource("Consent", id));
  if (!found || !found->patient_key) {
    JU_RETURN_IF_ERROR(Audited(Operation::kUpdate, AuditOutcome::kMinorFailure, {}));
    return NotKnown("Consent", id);
  }
  const store::FoundResource& existing = *found;
  const int64_t key = *existing.patient_key;
  JU_ASSIGN_OR_RETURN(security::Decision d, DecidePerson(Operation::kUpdate, "Consent", key));
  if (!d.allowed) {
    JU_RETURN_IF_ERROR(Audited(Operation::kUpdate, AuditOutcome::kSeriousFailure, {key}));
    return NotKnown("Consent", id);
  }
  store::ConsentRecord record = std::get<store::ConsentRecord>(existing.record);
  if (in.patient_id != record.patient_id) {
    JU_RETURN_IF_ERROR(Audited(Operation::kUpdate, AuditOutcome::kMinorFailure, {key}));
    return Invalid("a Consent's patient cannot be changed (this one is about Patient/" +
                       record.patient_id + "): record a new Consent for another person",
                   "patient.reference");
  }
  JU_ASSIGN_OR_RETURN(std::string baseline, RenderRecord(existing));
  record.consent.decision = in.decision;
  record.consent.recorded_by = requester_.caller.user_id;
  // Recorded now, and never before the decision it replaces: it must stay the latest.
  record.consent.recorded_at_ms = std::max(clock_(), record.consent.recorded_at_ms);
  store::ResourceWrite w;
  w.resource_type = "Consent";
  w.id = std::string(id);
  w.json = ConsentJson(record);
  w.record = record;
  w.baseline_json = std::move(baseline);
  w.if_match = if_match;
  w.now_ms = record.consent.recorded_at_ms;
  auto meta = resources_.PutResource(w);
  if (!meta.ok()) {
    Error e = meta.take_error();
    if (e.code == ErrorCode::kNotFound) e = NotKnown("Consent", id);
    JU_RETURN_IF_ERROR(Audited(Operation::kUpdate, AuditOutcome::kMinorFailure, {key}));
    return e;
  }
  JU_RETURN_IF_ERROR(Audited(Operation::kUpdate, AuditOutcome::kSuccess, {key}));
  Written out;
  out.record = Record{"Consent", std::string(id), *meta, key, std::move(record), std::move(w.json)};
  return out;
}

// ---- Bulk Data $export ----------------------------------------------------------------------

Status Records::PermitExport(const ExportRequest& request) {
  // Scope and role for every type that would go out (without _type: every type the exporter
  // writes), each decided by the served type whose policy row governs it. Person-bound types
  // need the export right; Organization (the directory) needs search; a Group level export
  // needs read of the Group.
  std::vector<std::string_view> checked;
  for (const resources::ResourceTypeDef& type : resources::AllTypes())
    if (type.exported &&
        (request.types.empty() ||
         std::find(request.types.begin(), request.types.end(), type.name) != request.types.end()))
      checked.push_back(resources::GoverningType(type));
  const bool group = request.level == ExportRequest::Level::kGroup;
  if (group) checked.push_back("Group");
  for (std::string_view type : checked) {
    const Interaction needed = type == "Organization" ? Interaction::kSearch
                               : type == "Group"      ? Interaction::kRead
                                                      : Interaction::kExport;
    if (!security::DecideUnbound(requester_.caller, {needed, type}).allowed) {
      JU_RETURN_IF_ERROR(Audited(Operation::kExport, AuditOutcome::kSeriousFailure, {}));
      return Error{ErrorCode::kForbidden,
                   "your role or token does not allow export on " + std::string(type)};
    }
  }
  if (group) {
    std::optional<store::FoundResource> found;
    if (fhir::IsValidFhirId(request.group_id)) {
      JU_ASSIGN_OR_RETURN(found, resources_.FindResource("Group", request.group_id));
    }
    if (!found) return NotKnown("Group", request.group_id);
  }
  return Ok();
}

Result<bool> Records::MayExportPerson(std::string_view type, int64_t patient_key) {
  const resources::ResourceTypeDef* def = resources::FindType(type);
  if (def == nullptr) return false;
  JU_ASSIGN_OR_RETURN(
      security::Decision d,
      DecidePerson(Operation::kExport, resources::GoverningType(*def), patient_key));
  return d.allowed;
}

Status Records::AuditExportFile(std::string query, std::vector<int64_t> people) {
  return Audited(Operation::kExport, AuditOutcome::kSuccess, std::move(people), std::move(query),
                 false, "export-file");
}

Status Records::AuditExport(bool accepted, std::string query) {
  return Audited(Operation::kExport,
                 accepted ? AuditOutcome::kSuccess : AuditOutcome::kMinorFailure, {},
                 std::move(query));
}

}  // namespace joinedup::records
