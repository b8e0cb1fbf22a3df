// The FHIR R4 REST API (fhir_api.h): routing, content negotiation, the access policy, the
// audit trail, and rendering. docs/fhir-api.md lists the routes and the behaviours chosen.
//
// Every handler follows one order: scope and role (DecideUnbound: 403, says nothing about
// anyone) → the person (AccessFacts + Decide: a hidden record answers exactly as a missing
// one) → the store → the audit event (written before the response leaves: no audit, no data)
// → the response.
#include "api/fhir_api.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <exception>
#include <set>

#include "api/render.h"
#include "core/strings.h"
#include "export/bulk_export.h"
#include "fhir/document.h"
#include "fhir/fhir_mapping.h"
#include "fhir/resource.h"
#include "fhir/served_text.h"
#include "fhir/search/paging.h"
#include "fhir/search/response.h"
#include "fhir/search/search_params.h"
#include "resources/registry.h"
#include "security/crypto.h"
#include "security/policy.h"
#include "store/resource_store.h"
#include "store/store.h"

namespace joinedup::api {
namespace {

using json = nlohmann::ordered_json;
namespace search = fhir::search;
using search::IssueSeverity;
using search::IssueType;
using security::Category;
using security::Interaction;
using store::AuditOutcome;
using store::Role;

constexpr std::string_view kFhirJson = "application/fhir+json";
constexpr std::string_view kBreakGlassHeader = "x-break-glass-reason";
constexpr size_t kMaxBreakGlassReason = 500;
constexpr int kAuditSearchLimit = 10000;  // SearchAuditEvents' own maximum

// What each served type answers to is the resource registry's (resources/registry.h): the
// router and the CapabilityStatement both read it, so the statement lists exactly what is served.
using TypeDef = resources::ResourceTypeDef;
const TypeDef* FindRoutes(std::string_view type) {
  const TypeDef* t = resources::FindType(type);
  return t != nullptr && t->IsServed() ? t : nullptr;
}

bool IsJsonOnlyType(std::string_view type) {
  return type == "Practitioner" || type == "PractitionerRole";
}

// ---- Small text helpers -------------------------------------------------------------------

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// "application/fhir+json; charset=utf-8" → "application/fhir+json".
std::string MediaType(std::string_view header) {
  return Lower(Trim(header.substr(0, header.find(';'))));
}

bool IsJsonMediaType(std::string_view media) {
  return media == "application/fhir+json" || media == "application/json";
}

// Form decoding for the few parameters read outside ParseSearch (_format, $export's): as
// core's FormDecode, and the result must be UTF-8.
std::optional<std::string> FormDecodeUtf8(std::string_view text) {
  std::optional<std::string> out = FormDecode(text);
  if (!out || !IsValidUtf8(*out)) return std::nullopt;
  return out;
}

std::optional<int64_t> ParseNonNegative(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 0) return std::nullopt;
  return v;
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// ---- Responses ------------------------------------------------------------------------------

HttpResponse Outcome(int status, IssueType type, std::string diagnostics,
                     std::vector<std::string> expression = {},
                     IssueSeverity severity = IssueSeverity::kError) {
  search::OutcomeIssue issue;
  issue.severity = severity;
  issue.type = type;
  issue.diagnostics = std::move(diagnostics);
  issue.expression = std::move(expression);
  HttpResponse r;
  r.status = status;
  r.body = search::OperationOutcomeJson({&issue, 1});
  return r;
}

HttpResponse FromHttpError(const search::HttpError& error) {
  HttpResponse r;
  r.status = error.status;
  r.body = error.Body();
  return r;
}

HttpResponse FromError(const Error& error,
                       search::ErrorContext context = search::ErrorContext::kRequest) {
  if (error.code == ErrorCode::kInternal || error.code == ErrorCode::kUnavailable)
    std::fprintf(stderr, "joinedup api: %s\n", error.ToString().c_str());
  return FromHttpError(search::ToHttpError(error, context));
}

// Exactly the same answer for a missing id and a hidden one.
HttpResponse NotFound(std::string_view type, std::string_view id) {
  return Outcome(404, IssueType::kNotFound,
                 std::string(type) + "/" + std::string(id) + " is not known");
}

HttpResponse Forbidden(std::string_view type, Interaction interaction) {
  return Outcome(403, IssueType::kForbidden,
                 "your role or token does not allow " +
                     std::string(security::InteractionName(interaction)) + " on " +
                     std::string(type));
}

HttpResponse MethodNotAllowed(std::string_view allow) {
  HttpResponse r = Outcome(405, IssueType::kNotSupported,
                           "this method is not allowed here (allowed: " + std::string(allow) + ")");
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

// meta.versionId and meta.lastUpdated from the server, in place of anything the text carried;
// `elements` (if any) keeps only those top-level elements (plus id, meta, resourceType) and tags
// the result SUBSETTED (FHIR R4 search §3.1.1.5.8, _elements).
std::string WithMeta(std::string_view resource_json, const store::ResourceMeta& meta,
                     const std::vector<std::string>& elements = {}) {
  json in = json::parse(resource_json, nullptr, /*allow_exceptions=*/false);
  if (!in.is_object()) return std::string(resource_json);
  json out = json::object();
  if (auto it = in.find("resourceType"); it != in.end()) out["resourceType"] = *it;
  if (auto it = in.find("id"); it != in.end()) out["id"] = *it;
  json m = {{"versionId", std::to_string(meta.version_id)}};
  if (meta.last_updated_ms) m["lastUpdated"] = FormatInstant(*meta.last_updated_ms);
  if (!elements.empty())
    m["tag"] =
        json::array({{{"system", "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"},
                      {"code", "SUBSETTED"},
                      {"display", "subsetted"}}});
  out["meta"] = std::move(m);
  for (auto it = in.begin(); it != in.end(); ++it) {
    const std::string& key = it.key();
    if (key == "resourceType" || key == "id" || key == "meta") continue;
    if (!elements.empty() && std::find(elements.begin(), elements.end(), key) == elements.end())
      continue;
    out[key] = it.value();
  }
  return Dump(out);
}

std::string ETag(int64_t version) { return search::FormatETag(std::to_string(version)); }

// A successful create or update: the ETag and Last-Modified of the stored version, and the
// resource as stored unless the client asked for `Prefer: return=minimal`.
HttpResponse WrittenResponse(const HttpRequest& req, int status, const store::ResourceMeta& meta,
                             std::string_view resource_json) {
  HttpResponse r;
  r.status = status;
  r.headers.emplace_back("ETag", ETag(meta.version_id));
  if (meta.last_updated_ms)
    r.headers.emplace_back("Last-Modified", FormatInstant(*meta.last_updated_ms));
  if (Lower(req.Header("prefer").value_or("")).find("return=minimal") != std::string::npos) {
    r.body.clear();
    r.content_type.clear();
  } else {
    r.body = WithMeta(resource_json, meta);
  }
  return r;
}

// The JSON of a found record as served, without meta.
Result<std::string> RenderRecord(const store::FoundResource& found) {
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
        if constexpr (std::is_same_v<T, store::RiskResult>) {
          out = RiskAssessmentJson(record, found.id);
          return Ok();
        }
        if constexpr (std::is_same_v<T, store::Segment>) {
          out = GroupJson(record, found.id);
          return Ok();
        }
        if constexpr (std::is_same_v<T, store::ConsentRecord>) {
          out = ConsentJson(record);
          return Ok();
        }
        if constexpr (std::is_same_v<T, store::AuditEvent>) {
          out = AuditEventJson(record);
          return Ok();
        }
        if constexpr (std::is_same_v<T, store::ResourceJson>) {
          out = record.json;
          return Ok();
        }
        return Ok();
      },
      found.record);
  if (!status.ok())
    return Error::Internal("rendering " + found.resource_type + "/" + found.id + ": " +
                           status.error().message);
  return fhir::ServedText(std::move(out), found.document);
}

std::vector<int64_t> SortedUnique(std::vector<int64_t> keys) {
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
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

}  // namespace

// ---- The handler ----------------------------------------------------------------------------

struct FhirApi::Impl {
  FhirApiOptions options;
  search::CursorKey cursor_key;

  explicit Impl(FhirApiOptions o) : options(std::move(o)), cursor_key(MakeKey(options.cursor_key)) {
    if (!options.clock) options.clock = security::SystemClockMs;
  }

  static search::CursorKey MakeKey(std::string_view bytes) {
    auto key = search::CursorKey::FromBytes(bytes);
    if (key.ok()) return *key;
    // No usable key: cursors still work within this process, never across processes.
    std::fprintf(stderr, "joinedup api: no 32-byte cursor key given; using a random one\n");
    return search::CursorKey::Generate();
  }

  // One request's context.
  struct Ctx {
    const HttpRequest& req;
    const Principal& principal;
    security::Caller caller;
    store::Store& store;
    store::ResourceStore& resources;
  };

  HttpResponse Handle(const HttpRequest& req, const std::optional<Principal>& principal,
                      store::Store& store) const;

  // Routes.
  HttpResponse Metadata() const;
  HttpResponse Read(Ctx& c, const TypeDef& t, std::string_view id,
                    std::optional<std::string_view> version, bool history) const;
  HttpResponse Search(Ctx& c, const TypeDef& t, std::string_view query) const;
  HttpResponse SearchAudit(Ctx& c, search::SearchRequest& request) const;
  HttpResponse SearchGroups(Ctx& c, search::SearchRequest& request) const;
  HttpResponse Write(Ctx& c, const TypeDef& t, std::optional<std::string_view> id) const;
  HttpResponse CreateConsent(Ctx& c) const;
  HttpResponse UpdateConsent(Ctx& c, std::string_view id) const;
  HttpResponse ExportKickoff(Ctx& c, exporter::ExportJobSpec::Level level,
                             std::string_view group_id, std::string_view query) const;
  HttpResponse ExportStatus(Ctx& c, std::string_view job, bool cancel) const;
  HttpResponse ExportFile(Ctx& c, std::string_view job, std::string_view file) const;

  // Policy and audit.
  Result<security::Decision> DecidePerson(Ctx& c, Interaction interaction, std::string_view type,
                                          int64_t patient_key) const;
  Result<store::AuditEvent> Audit(Ctx& c, char action, std::string_view subtype,
                                  AuditOutcome outcome, std::vector<int64_t> patient_keys,
                                  std::string_view query = {}, bool break_glass = false) const;
  Status AlertPrivacyOfficer(Ctx& c, int64_t patient_key) const;
  HttpResponse Denied(Ctx& c, std::string_view type, Interaction interaction,
                      std::string_view subtype, char action) const;
  store::Visibility VisibilityOf(const security::Caller& caller) const;
  std::optional<HttpResponse> CheckJsonBody(const HttpRequest& req) const;
  // CheckJsonBody, then the body parsed into `body`: 400 unless it is a JSON object whose
  // resourceType is `type`.
  std::optional<HttpResponse> ReadResourceBody(const HttpRequest& req, std::string_view type,
                                               json& body) const;
  // The If-Match header's version, if any (400 if it is not W/"<number>").
  std::optional<HttpResponse> ReadIfMatch(const HttpRequest& req,
                                          std::optional<int64_t>& version) const;
};

FhirApi::FhirApi(FhirApiOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
FhirApi::~FhirApi() = default;

HttpResponse FhirApi::Handle(const HttpRequest& request, const std::optional<Principal>& principal,
                             store::Store& store) const {
  try {
    return impl_->Handle(request, principal, store);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "joinedup api: unexpected failure: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "joinedup api: unexpected failure\n");
  }
  return Outcome(500, IssueType::kException, "internal error");
}

HttpResponse FhirApi::Impl::Handle(const HttpRequest& req,
                                   const std::optional<Principal>& principal,
                                   store::Store& store) const {
  // ---- Content negotiation: _format (FHIR R4 http §3.1.0.1.10) and Accept. _format and
  // _pretty are taken out of the query here so the search parser never sees them.
  std::string query;
  std::string content_type(kFhirJson);
  for (std::string_view pair : Split(req.query, '&')) {
    if (pair.empty()) continue;
    const std::string_view name = pair.substr(0, pair.find('='));
    if (name == "_format") {
      auto value = FormDecodeUtf8(pair.size() > name.size() ? pair.substr(name.size() + 1) : "");
      const std::string v = value ? MediaType(*value) : "";
      if (v == "json" || v == "application/fhir+json") {
        content_type = kFhirJson;
      } else if (v == "application/json") {
        content_type = "application/json";
      } else {
        return Outcome(406, IssueType::kNotSupported,
                       "_format: only json, application/fhir+json and application/json are served",
                       {"_format"});
      }
      continue;
    }
    if (name == "_pretty") continue;
    if (!query.empty()) query += '&';
    query += pair;
  }
  if (auto accept = req.Header("accept")) {
    bool ok = false;
    for (std::string_view item : Split(*accept, ',')) {
      const std::string media = MediaType(item);
      if (IsJsonMediaType(media) || media == "*/*" || media == "application/*" ||
          media == "application/fhir+ndjson" || media == "application/ndjson" || media.empty())
        ok = true;
    }
    if (!ok)
      return Outcome(406, IssueType::kNotSupported,
                     "Accept: this server answers application/fhir+json or application/json");
  }
  HttpResponse response = [&]() -> HttpResponse {
    // ---- Path.
    if (req.path.empty() || req.path[0] != '/')
      return Outcome(404, IssueType::kNotFound, "no such route");
    std::vector<std::string_view> seg = Split(std::string_view(req.path).substr(1), '/');
    if (seg.size() > 1 && seg.back().empty()) seg.pop_back();  // a trailing slash
    if (seg.size() == 1 && seg[0] == "metadata") {
      if (req.method != "GET") return MethodNotAllowed("GET");
      return Metadata();
    }
    if (!principal) {
      HttpResponse r = Outcome(401, IssueType::kLogin, "authentication is required");
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
      return r;
    }
    Ctx c{req, *principal, principal->caller, store, static_cast<store::ResourceStore&>(store)};
    c.caller.break_glass_reason.clear();
    // ---- Break-glass: a reason given with a read of one record (security/policy.h).
    const bool instance_read = req.method == "GET" && seg.size() >= 2 && seg.size() <= 4 &&
                               !seg[0].empty() && seg[0][0] != '$' && seg[1] != "$export" &&
                               (seg.size() == 2 || seg[2] == "_history");
    if (auto reason = req.Header(kBreakGlassHeader)) {
      const std::string_view text = Trim(*reason);
      if (!instance_read)
        return Outcome(400, IssueType::kInvalid,
                       "X-Break-Glass-Reason is accepted on reads of one record only",
                       {"X-Break-Glass-Reason"});
      bool printable = IsValidUtf8(text) && text.size() <= kMaxBreakGlassReason;
      for (char ch : text)
        if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7F) printable = false;
      if (!printable || text.empty())
        return Outcome(400, IssueType::kInvalid,
                       "X-Break-Glass-Reason must be printable UTF-8 text of 1 to 500 bytes",
                       {"X-Break-Glass-Reason"});
      c.caller.break_glass_reason = std::string(text);
    }
    // ---- Bulk Data.
    // Kick-off by GET (parameters in the query) or POST (a Parameters body).
    const bool kickoff_method = req.method == "GET" || req.method == "POST";
    if (seg[0] == "$export") {
      if (seg.size() != 1) return Outcome(404, IssueType::kNotFound, "no such route");
      if (!kickoff_method) return MethodNotAllowed("GET, POST");
      return ExportKickoff(c, exporter::ExportJobSpec::Level::kSystem, "", query);
    }
    if (seg[0] == "$export-status") {
      if (seg.size() != 2) return Outcome(404, IssueType::kNotFound, "no such route");
      if (req.method == "GET") return ExportStatus(c, seg[1], false);
      if (req.method == "DELETE") return ExportStatus(c, seg[1], true);
      return MethodNotAllowed("GET, DELETE");
    }
    if (seg[0] == "$export-file") {
      if (seg.size() != 3) return Outcome(404, IssueType::kNotFound, "no such route");
      if (req.method != "GET") return MethodNotAllowed("GET");
      return ExportFile(c, seg[1], seg[2]);
    }
    // ---- Resource types.
    const TypeDef* t = FindRoutes(seg[0]);
    if (!t)
      return Outcome(
          404, IssueType::kNotSupported,
          "'" + std::string(seg[0].substr(0, 64)) + "' is not a resource type this server serves");
    if (seg.size() == 1) {
      std::string allow = t->interactions.search ? "GET" : "";
      if (t->interactions.create) allow += allow.empty() ? "POST" : ", POST";
      if (req.method == "GET" && t->interactions.search) return Search(c, *t, query);
      if (req.method == "POST" && t->interactions.create)
        return t->name == "Consent" ? CreateConsent(c) : Write(c, *t, std::nullopt);
      return MethodNotAllowed(allow);
    }
    if (seg.size() == 2 && seg[1] == "_search") {
      if (req.method != "POST" || !t->interactions.search)
        return MethodNotAllowed(t->interactions.search ? "POST" : "");
      const std::string media = MediaType(req.Header("content-type").value_or(""));
      if (media != "application/x-www-form-urlencoded")
        return FromHttpError(search::UnsupportedMediaType(media));
      if (req.body.size() > 64 * 1024)
        return Outcome(413, IssueType::kTooLong, "a _search form body is limited to 64 KiB");
      std::string combined = query;
      if (!combined.empty() && !req.body.empty()) combined += '&';
      combined += req.body;
      return Search(c, *t, combined);
    }
    if (seg.size() == 2 && seg[1] == "$export") {
      if (t->name != "Patient") return Outcome(404, IssueType::kNotFound, "no such route");
      if (!kickoff_method) return MethodNotAllowed("GET, POST");
      return ExportKickoff(c, exporter::ExportJobSpec::Level::kPatient, "", query);
    }
    if (seg.size() == 3 && seg[2] == "$export") {
      if (t->name != "Group") return Outcome(404, IssueType::kNotFound, "no such route");
      if (!kickoff_method) return MethodNotAllowed("GET, POST");
      return ExportKickoff(c, exporter::ExportJobSpec::Level::kGroup, seg[1], query);
    }
    const std::string_view id = seg[1];
    if (seg.size() == 2) {
      std::string allow = "GET";
      if (t->interactions.update) allow += ", PUT";
      if (req.method == "GET") return Read(c, *t, id, std::nullopt, false);
      if (req.method == "PUT" && t->interactions.update)
        return t->name == "Consent" ? UpdateConsent(c, id) : Write(c, *t, id);
      return MethodNotAllowed(allow);
    }
    if (seg[2] != "_history" || seg.size() > 4)
      return Outcome(404, IssueType::kNotFound, "no such route");
    if (req.method != "GET") return MethodNotAllowed("GET");
    if (seg.size() == 3) {
      if (!t->interactions.history) return MethodNotAllowed("");
      return Read(c, *t, id, std::nullopt, true);
    }
    if (!t->interactions.vread) return MethodNotAllowed("");
    return Read(c, *t, id, seg[3], false);
  }();
  if (response.content_type == kFhirJson) response.content_type = content_type;
  return response;
}

// ---- Metadata ------------------------------------------------------------------------------

HttpResponse FhirApi::Impl::Metadata() const {
  search::CapabilityOptions o;
  o.software_version = options.software_version;
  o.base_url = options.base_url;
  o.date = FormatInstant(options.clock());
  for (const TypeDef& t : resources::AllTypes()) {
    if (!t.IsServed()) continue;
    std::vector<std::string>& list = o.interactions[std::string(t.name)];
    if (t.interactions.read) list.push_back("read");
    if (t.interactions.vread) list.push_back("vread");
    if (t.interactions.update) list.push_back("update");
    if (t.interactions.history) list.push_back("history-instance");
    if (t.interactions.create) list.push_back("create");
    if (t.interactions.search) list.push_back("search-type");
  }
  HttpResponse r;
  r.body = search::CapabilityStatementJson(o);
  if (options.bulk_export) {
    // Bulk Data $export (kick-off by GET or POST), as the Bulk Data IG's CapabilityStatement
    // lists it: https://hl7.org/fhir/uv/bulkdata/CapabilityStatement-bulk-data.html
    constexpr std::string_view kBulk = "http://hl7.org/fhir/uv/bulkdata/";
    json cs = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    if (cs.is_object() && cs["rest"].is_array() && !cs["rest"].empty()) {
      cs["instantiates"] = json::array({std::string(kBulk) + "CapabilityStatement/bulk-data"});
      auto operation = [&](std::string_view definition) {
        return json::array({{{"name", "export"},
                             {"definition", std::string(kBulk) + "OperationDefinition/" +
                                                std::string(definition)}}});
      };
      json& rest = cs["rest"][0];
      rest["operation"] = operation("export");
      for (json& resource : rest["resource"]) {
        if (resource["type"] == "Patient") resource["operation"] = operation("patient-export");
        if (resource["type"] == "Group") resource["operation"] = operation("group-export");
      }
      r.body = Dump(cs);
    }
  }
  return r;
}

// ---- Policy and audit ----------------------------------------------------------------------

Result<security::Decision> FhirApi::Impl::DecidePerson(Ctx& c, Interaction interaction,
                                                       std::string_view type,
                                                       int64_t patient_key) const {
  JU_ASSIGN_OR_RETURN(std::optional<store::PatientAccessFacts> facts,
                      c.store.AccessFacts(patient_key));
  store::PatientAccessFacts f;
  if (facts) f = std::move(*facts);
  f.patient_key = patient_key;
  return security::Decide(c.caller, {interaction, type}, f);
}

Result<store::AuditEvent> FhirApi::Impl::Audit(Ctx& c, char action, std::string_view subtype,
                                               AuditOutcome outcome,
                                               std::vector<int64_t> patient_keys,
                                               std::string_view query, bool break_glass) const {
  store::AuditEvent e;
  e.action = action;
  e.subtype = std::string(subtype);
  e.outcome = outcome;
  e.user_id = c.caller.user_id;
  e.username = c.principal.username;
  e.role = std::string(security::RoleName(c.caller.role));
  e.organisation_id = c.caller.organisation_id;
  e.request_id = c.req.request_id;
  e.source_address = c.req.remote_address;
  // The audit trail holds only valid UTF-8 (both backends); a query that is not is kept escaped.
  e.query = IsValidUtf8(query) ? std::string(query) : search::PercentEncode(query);
  if (break_glass) e.break_glass_reason = c.caller.break_glass_reason;
  e.patient_keys = SortedUnique(std::move(patient_keys));
  security::AuditTrail trail(c.store, options.clock);
  return trail.Record(std::move(e));
}

// The privacy officer's alert: an AuditEvent they can search for (subtype break-glass-alert)
// and a line on stderr for whoever watches the log — without any identifier of the person.
Status FhirApi::Impl::AlertPrivacyOfficer(Ctx& c, int64_t patient_key) const {
  JU_ASSIGN_OR_RETURN(store::AuditEvent alert,
                      Audit(c, 'E', "break-glass-alert", AuditOutcome::kSuccess, {patient_key}, {},
                            /*break_glass=*/true));
  std::fprintf(stderr,
               "joinedup: break-glass alert: user %lld (%s) opened a record without a care "
               "relationship; AuditEvent/%lld, request %s\n",
               static_cast<long long>(c.caller.user_id),
               std::string(security::RoleName(c.caller.role)).c_str(),
               static_cast<long long>(alert.sequence), c.req.request_id.c_str());
  return Ok();
}

HttpResponse FhirApi::Impl::Denied(Ctx& c, std::string_view type, Interaction interaction,
                                   std::string_view subtype, char action) const {
  if (AuditedType(type)) {
    auto audited = Audit(c, action, subtype, AuditOutcome::kSeriousFailure, {});
    if (!audited.ok()) return FromError(audited.error());
  }
  return Forbidden(type, interaction);
}

store::Visibility FhirApi::Impl::VisibilityOf(const security::Caller& caller) const {
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
  return v;
}

// 415 for a body that is not JSON, 413/400 from CheckRequestBody.
std::optional<HttpResponse> FhirApi::Impl::CheckJsonBody(const HttpRequest& req) const {
  const std::string media = MediaType(req.Header("content-type").value_or(""));
  if (!IsJsonMediaType(media)) return FromHttpError(search::UnsupportedMediaType(media));
  if (Status s = search::CheckRequestBody(req.body); !s.ok()) return FromError(s.error());
  return std::nullopt;
}

std::optional<HttpResponse> FhirApi::Impl::ReadResourceBody(const HttpRequest& req,
                                                            std::string_view type,
                                                            json& body) const {
  if (auto bad = CheckJsonBody(req)) return bad;
  try {
    body = json::parse(req.body);
  } catch (const json::parse_error& e) {
    return Outcome(400, IssueType::kStructure,
                   "the body is not valid JSON (at byte " + std::to_string(e.byte) + ")");
  }
  if (!body.is_object())
    return Outcome(400, IssueType::kStructure, "the body is not a JSON object");
  auto rt = body.find("resourceType");
  if (rt == body.end() || !rt->is_string() || rt->get<std::string>() != type)
    return Outcome(400, IssueType::kInvalid,
                   "resourceType must be " + std::string(type) + " at this URL", {"resourceType"});
  return std::nullopt;
}

std::optional<HttpResponse> FhirApi::Impl::ReadIfMatch(const HttpRequest& req,
                                                       std::optional<int64_t>& version) const {
  auto header = req.Header("if-match");
  if (!header) return std::nullopt;
  auto text = search::ParseIfMatch(*header);
  if (!text.ok()) return FromError(text.error());
  auto v = ParseNonNegative(*text);
  if (!v)
    return Outcome(400, IssueType::kInvalid, "If-Match: the version is not a number", {"If-Match"});
  version = *v;
  return std::nullopt;
}

// ---- Read, vread, history ------------------------------------------------------------------

HttpResponse FhirApi::Impl::Read(Ctx& c, const TypeDef& t, std::string_view id,
                                 std::optional<std::string_view> version, bool history) const {
  const std::string_view subtype = history ? "history-instance" : version ? "vread" : "read";
  const security::Decision unbound =
      security::DecideUnbound(c.caller, {Interaction::kRead, t.name});
  if (!unbound.allowed) return Denied(c, t.name, Interaction::kRead, subtype, 'R');
  const bool audited = AuditedType(t.name);
  auto missing = [&]() -> HttpResponse {
    if (audited) {
      auto a = Audit(c, 'R', subtype, AuditOutcome::kMinorFailure, {});
      if (!a.ok()) return FromError(a.error());
    }
    return NotFound(t.name, id);
  };
  if (!fhir::IsValidFhirId(id)) return missing();
  auto found = c.resources.FindResource(t.name, id);
  if (!found.ok()) return FromError(found.error());
  if (!*found) return missing();
  const store::FoundResource& res = **found;

  security::Decision decision = unbound;
  std::vector<int64_t> keys;
  if (PersonBound(t.name) && res.patient_key) {
    auto d = DecidePerson(c, Interaction::kRead, t.name, *res.patient_key);
    if (!d.ok()) return FromError(d.error());
    decision = *d;
    keys.push_back(*res.patient_key);
  }
  if (!decision.allowed) {
    // A person-level denial: logged as a failure, answered as a missing record.
    auto a = Audit(c, 'R', subtype, AuditOutcome::kSeriousFailure, keys, {},
                   !c.caller.break_glass_reason.empty());
    if (!a.ok()) return FromError(a.error());
    return NotFound(t.name, id);
  }

  auto current = RenderRecord(res);
  if (!current.ok()) return FromError(current.error());
  HttpResponse r;
  if (history) {
    auto versions = c.resources.ResourceHistory(t.name, id);
    if (!versions.ok()) return FromError(versions.error());
    std::vector<store::ResourceVersion> list = std::move(*versions);
    // A record never written through the API has no stored text: its one version is the
    // current rendering.
    if (list.empty() || list.front().version_id != res.meta.version_id)
      list.insert(list.begin(),
                  store::ResourceVersion{res.meta.version_id, res.meta.last_updated_ms, *current});
    json bundle = {{"resourceType", "Bundle"}, {"type", "history"}, {"total", list.size()}};
    bundle["link"] = json::array({{{"relation", "self"},
                                   {"url", options.base_url + "/" + std::string(t.name) + "/" +
                                               std::string(id) + "/_history"}}});
    json entries = json::array();
    for (const store::ResourceVersion& v : list) {
      const std::string text = WithMeta(v.version_id == res.meta.version_id ? *current : v.json,
                                        store::ResourceMeta{v.version_id, v.last_updated_ms});
      json entry = {
          {"fullUrl", options.base_url + "/" + std::string(t.name) + "/" + std::string(id)},
          {"resource", json::parse(text, nullptr, false)}};
      entry["request"] = {{"method", v.version_id == 1 ? "POST" : "PUT"},
                          {"url", std::string(t.name) + "/" + std::string(id)}};
      json resp = {{"status", v.version_id == 1 ? "201 Created" : "200 OK"},
                   {"etag", ETag(v.version_id)}};
      if (v.last_updated_ms) resp["lastModified"] = FormatInstant(*v.last_updated_ms);
      entry["response"] = std::move(resp);
      entries.push_back(std::move(entry));
    }
    bundle["entry"] = std::move(entries);
    r.body = Dump(bundle);
  } else if (version) {
    auto v = ParseNonNegative(*version);
    if (!v || *v < 1)
      return NotFound(t.name, std::string(id) + "/_history/" + std::string(version->substr(0, 20)));
    if (*v == res.meta.version_id) {
      r.body = WithMeta(*current, res.meta);
    } else {
      auto versions = c.resources.ResourceHistory(t.name, id);
      if (!versions.ok()) return FromError(versions.error());
      auto it = std::find_if(versions->begin(), versions->end(),
                             [&](const store::ResourceVersion& rv) { return rv.version_id == *v; });
      if (it == versions->end() || *v > res.meta.version_id) {
        if (audited) {
          auto a = Audit(c, 'R', subtype, AuditOutcome::kMinorFailure, keys);
          if (!a.ok()) return FromError(a.error());
        }
        return NotFound(t.name, std::string(id) + "/_history/" + std::string(*version));
      }
      r.body = WithMeta(it->json, store::ResourceMeta{it->version_id, it->last_updated_ms});
      r.headers.emplace_back("ETag", ETag(it->version_id));
    }
  } else {
    r.body = WithMeta(*current, res.meta);
  }
  if (!history && r.headers.empty()) r.headers.emplace_back("ETag", ETag(res.meta.version_id));

  if (audited) {
    auto a = Audit(c, 'R', subtype, AuditOutcome::kSuccess, keys, {}, decision.break_glass);
    if (!a.ok()) return FromError(a.error());
    if (decision.alert_privacy_officer && !keys.empty()) {
      if (Status s = AlertPrivacyOfficer(c, keys.front()); !s.ok()) return FromError(s.error());
    }
  }
  return r;
}

// ---- Search --------------------------------------------------------------------------------

HttpResponse FhirApi::Impl::Search(Ctx& c, const TypeDef& t, std::string_view query) const {
  const security::Decision unbound =
      security::DecideUnbound(c.caller, {Interaction::kSearch, t.name});
  if (!unbound.allowed) return Denied(c, t.name, Interaction::kSearch, "search", 'E');
  const bool lenient =
      Lower(c.req.Header("prefer").value_or("")).find("handling=lenient") != std::string::npos;
  auto parsed = search::ParseSearch(
      t.name, query, lenient ? search::UnknownParams::kLenient : search::UnknownParams::kStrict);
  if (auto* error = std::get_if<search::SearchError>(&parsed))
    return FromHttpError(search::ToHttpError(*error));
  search::SearchRequest& request = std::get<search::SearchRequest>(parsed);
  // Every type a response may carry must be allowed too: an include cannot widen a search.
  for (const search::IncludeDef* inc : request.includes)
    if (!security::DecideUnbound(c.caller, {Interaction::kSearch, inc->target_type}).allowed)
      return Denied(c, inc->target_type, Interaction::kSearch, "search", 'E');
  for (const search::IncludeDef* inc : request.revincludes)
    if (!security::DecideUnbound(c.caller, {Interaction::kSearch, inc->source_type}).allowed)
      return Denied(c, inc->source_type, Interaction::kSearch, "search", 'E');
  if (t.name == "AuditEvent") return SearchAudit(c, request);
  if (t.name == "Group") return SearchGroups(c, request);

  std::optional<search::PageCursor> cursor;
  if (!request.cursor.empty()) {
    auto decoded = search::DecodeCursor(request, cursor_key);
    if (!decoded.ok()) return FromError(decoded.error());
    cursor = std::move(*decoded);
  }
  if (request.summary_count) request.count = 0;
  // Counting every match costs a scan of them all (at 1M people, ~100 ms for a broad search),
  // so later pages carry the total only when _total=accurate asks for it again.
  const bool want_total =
      search::WantsTotal(request) &&
      (!cursor || request.summary_count || request.total == search::Total::kAccurate);
  auto page = c.resources.SearchResources(request, cursor ? &*cursor : nullptr,
                                          VisibilityOf(c.caller), want_total);
  if (!page.ok()) return FromError(page.error());

  search::SearchsetBundle bundle;
  std::vector<int64_t> keys;
  for (const store::FoundResource& f : page->matches) {
    auto text = RenderRecord(f);
    if (!text.ok()) return FromError(text.error());
    bundle.entries.push_back({options.base_url + "/" + f.resource_type + "/" + f.id,
                              WithMeta(*text, f.meta, request.elements),
                              search::SearchMode::kMatch});
    if (f.patient_key && PersonBound(f.resource_type)) keys.push_back(*f.patient_key);
  }
  for (const store::FoundResource& f : page->included) {
    auto text = RenderRecord(f);
    if (!text.ok()) return FromError(text.error());
    bundle.entries.push_back({options.base_url + "/" + f.resource_type + "/" + f.id,
                              WithMeta(*text, f.meta), search::SearchMode::kInclude});
    if (f.patient_key && PersonBound(f.resource_type)) keys.push_back(*f.patient_key);
  }
  std::optional<std::string> next;
  if (page->has_next && !page->matches.empty()) {
    const store::FoundResource& last = page->matches.back();
    next = search::EncodeCursor(search::PageCursor{last.sort_values, last.id}, request, cursor_key);
  }
  bundle.links = search::BuildPageLinks(options.base_url, request, next);
  if (want_total) bundle.total = page->total;
  bundle.warnings = search::IgnoredParameterWarnings(request);

  if (AuditedType(t.name) || !keys.empty()) {
    auto a = Audit(c, 'E', "search", AuditOutcome::kSuccess, std::move(keys),
                   std::string(t.name) + "?" + std::string(query));
    if (!a.ok()) return FromError(a.error());
  }
  HttpResponse r;
  r.body = search::SearchsetBundleJson(bundle);
  return r;
}

// AuditEvent searches read the audit trail (SearchAuditEvents: by person, user and time, in
// sequence order); subtype, _id and the exact date prefixes are applied here. Paging is keyset
// on the sequence number. At most 10,000 events are searched per query (the store's limit):
// a warning says so when reached — narrow the date range.
HttpResponse FhirApi::Impl::SearchAudit(Ctx& c, search::SearchRequest& request) const {
  if (!request.sort.empty())
    return Outcome(400, IssueType::kNotSupported,
                   "_sort: AuditEvent results come in the audit trail's order", {"_sort"});
  store::AuditQuery q;
  q.limit = kAuditSearchLimit;
  bool none = false;
  std::vector<const search::Filter*> in_memory;
  for (const search::Filter& f : request.filters) {
    const std::string_view name = f.param->name;
    if (name == "patient" || name == "altid") {
      if (f.any_of.size() != 1)
        return Outcome(400, IssueType::kNotSupported,
                       std::string(name) + ": give one value (repeat the search for others)",
                       {std::string(name)});
      std::optional<int64_t> key;
      if (name == "patient") {
        auto found =
            c.resources.FindResource("Patient", std::get<search::ReferenceValue>(f.any_of[0]).id);
        if (!found.ok()) return FromError(found.error());
        if (*found) key = (*found)->patient_key;
        if (!key || (q.patient_key && *q.patient_key != *key))
          none = true;
        else
          q.patient_key = key;
      } else {
        const auto& token = std::get<search::TokenValue>(f.any_of[0]);
        std::optional<store::User> user;
        if (token.code) {
          auto u = c.store.FindUser(*token.code);
          if (!u.ok()) return FromError(u.error());
          user = std::move(*u);
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
        const auto& d = std::get<search::DateValue>(f.any_of[0]);
        using P = search::DatePrefix;
        if (d.prefix == P::kEq || d.prefix == P::kGe || d.prefix == P::kGt || d.prefix == P::kSa)
          q.from_ms = std::max(q.from_ms.value_or(INT64_MIN), d.start * 1000);
        if (d.prefix == P::kEq || d.prefix == P::kLe || d.prefix == P::kLt || d.prefix == P::kEb)
          q.to_ms = std::min(q.to_ms.value_or(INT64_MAX), d.end * 1000);
      }
    }
    in_memory.push_back(&f);
  }
  auto matches = [&](const store::AuditEvent& e) {
    for (const search::Filter* f : in_memory) {
      bool any = false;
      for (const search::SearchValue& v : f->any_of) {
        if (auto* d = std::get_if<search::DateValue>(&v)) {
          const int64_t s = e.time_ms >= 0 ? e.time_ms / 1000 : (e.time_ms - 999) / 1000;
          any = any || search::DateMatches(*d, s, s + 1);
        } else if (auto* tok = std::get_if<search::TokenValue>(&v)) {
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
  if (!request.cursor.empty()) {
    auto decoded = search::DecodeCursor(request, cursor_key);
    if (!decoded.ok()) return FromError(decoded.error());
    auto seq = ParseNonNegative(decoded->after_id);
    if (!seq)
      return Outcome(400, IssueType::kInvalid, "_cursor: start again from the first page",
                     {"_cursor"});
    after = *seq;
  }
  std::vector<store::AuditEvent> events;
  if (!none) {
    auto found = c.store.SearchAuditEvents(q);
    if (!found.ok()) return FromError(found.error());
    events = std::move(*found);
  }
  const bool capped = events.size() >= static_cast<size_t>(kAuditSearchLimit);
  search::SearchsetBundle bundle;
  int64_t total = 0;
  const int count = request.summary_count ? 0 : request.count;
  std::optional<int64_t> last_sequence;
  bool has_next = false;
  for (const store::AuditEvent& e : events) {
    if (!matches(e)) continue;
    ++total;
    if (e.sequence <= after) continue;
    if (static_cast<int>(bundle.entries.size()) >= count) {
      has_next = has_next || count > 0;
      continue;
    }
    bundle.entries.push_back(
        {options.base_url + "/AuditEvent/" + std::to_string(e.sequence),
         WithMeta(AuditEventJson(e), store::ResourceMeta{1, e.time_ms}, request.elements),
         search::SearchMode::kMatch});
    last_sequence = e.sequence;
  }
  std::optional<std::string> next;
  if (has_next && last_sequence)
    next = search::EncodeCursor(search::PageCursor{{}, std::to_string(*last_sequence)}, request,
                                cursor_key);
  bundle.links = search::BuildPageLinks(options.base_url, request, next);
  if (search::WantsTotal(request)) bundle.total = total;
  bundle.warnings = search::IgnoredParameterWarnings(request);
  if (capped) {
    search::OutcomeIssue w;
    w.severity = IssueSeverity::kWarning;
    w.type = IssueType::kTooLong;
    w.diagnostics =
        "only the first 10000 audit events matching patient, user and date were "
        "searched; narrow the date range";
    bundle.warnings.push_back(std::move(w));
  }
  auto a = Audit(c, 'E', "search", AuditOutcome::kSuccess, {},
                 "AuditEvent?" + search::CanonicalQuery(request));
  if (!a.ok()) return FromError(a.error());
  HttpResponse r;
  r.body = search::SearchsetBundleJson(bundle);
  return r;
}

// Group searches list the segments of the stored runs (newest run first, then model and
// segment order) — a few hundred at most — filtered by `_id`; `_lastUpdated` never matches
// (runs are not written through the API). "Fits no segment" is not a Group. Not audited: no
// person is named. Paging is keyset on the position of the last id.
HttpResponse FhirApi::Impl::SearchGroups(Ctx& c, search::SearchRequest& request) const {
  if (!request.sort.empty())
    return Outcome(400, IssueType::kNotSupported,
                   "_sort: Group results come newest run first, then by model and segment",
                   {"_sort"});
  auto runs = c.store.Runs();
  if (!runs.ok()) return FromError(runs.error());
  std::vector<std::string> ids;
  for (const StratificationRun& run : *runs)
    for (size_t m = 0; m < run.models.size(); ++m)
      for (size_t s = 0; s < run.models[m].segments.size(); ++s)
        ids.push_back(std::to_string(run.id) + "-" + std::to_string(m) + "-" + std::to_string(s));
  auto matches = [&](const std::string& id) {
    for (const search::Filter& f : request.filters) {
      if (f.param->name != "_id") return false;  // _lastUpdated: no Group has one
      bool any = false;
      for (const search::SearchValue& v : f.any_of)
        if (auto* tok = std::get_if<search::TokenValue>(&v))
          any = any || (tok->code && *tok->code == id);
      if (!any) return false;
    }
    return true;
  };
  std::string after;
  if (!request.cursor.empty()) {
    auto decoded = search::DecodeCursor(request, cursor_key);
    if (!decoded.ok()) return FromError(decoded.error());
    after = decoded->after_id;
  }
  const int count = request.summary_count ? 0 : request.count;
  bool past_cursor = after.empty(), has_next = false;
  int64_t total = 0;
  search::SearchsetBundle bundle;
  std::string last;
  for (const std::string& id : ids) {
    if (!matches(id)) continue;
    ++total;
    if (!past_cursor) {
      past_cursor = id == after;
      continue;
    }
    if (static_cast<int>(bundle.entries.size()) >= count) {
      has_next = has_next || count > 0;
      continue;
    }
    auto found = c.resources.FindResource("Group", id);
    if (!found.ok()) return FromError(found.error());
    if (!*found) continue;
    auto text = RenderRecord(**found);
    if (!text.ok()) return FromError(text.error());
    bundle.entries.push_back({options.base_url + "/Group/" + id,
                              WithMeta(*text, (*found)->meta, request.elements),
                              search::SearchMode::kMatch});
    last = id;
  }
  std::optional<std::string> next;
  if (has_next && !last.empty())
    next = search::EncodeCursor(search::PageCursor{{}, last}, request, cursor_key);
  bundle.links = search::BuildPageLinks(options.base_url, request, next);
  if (search::WantsTotal(request)) bundle.total = total;
  bundle.warnings = search::IgnoredParameterWarnings(request);
  HttpResponse r;
  r.body = search::SearchsetBundleJson(bundle);
  return r;
}

// ---- Create and update ---------------------------------------------------------------------

namespace {

// The reference that makes a record about a person, for error messages.
constexpr std::string_view kSubjectField = "subject.reference";

struct Incoming {
  store::ResourceRecord record;
  std::string json;  // the client's resource, whole, as it will be served (without meta)
  std::optional<int64_t> rendering_hash;  // typed types: of `record`'s rendering (StoredDocument)
  std::string patient_id;  // the person it is about ("" for Patient itself and non-person types)
  std::string patient_field = std::string(kSubjectField);  // the reference naming that person
  std::vector<resources::IndexEntry> index;  // document types: their search values
};

HttpResponse Unprocessable(std::string diagnostics, std::string field) {
  std::vector<std::string> expression;
  if (!field.empty()) expression.push_back(std::move(field));
  return Outcome(422, IssueType::kProcessing, std::move(diagnostics), std::move(expression));
}

// The body as a record of `type` with logical id `id`: client meta dropped, the server's id set,
// then mapped (fhir/resource.h) for the typed tables. The body itself is kept whole and served
// back: nothing the client wrote is dropped (fhir/served_text.h).
std::variant<Incoming, HttpResponse> ReadIncoming(std::string_view type, std::string_view id,
                                                  json body) {
  body.erase("meta");
  body["id"] = id;
  Incoming in;
  if (resources::IsKeptAsDocument(type)) {
    // Kept whole; the fhir layer reads its person and search values (fhir/document.h).
    in.json = Dump(body);
    auto read = fhir::ReadDocument(in.json, fhir::ResolveRelativeReference);
    if (auto* e = std::get_if<fhir::MapError>(&read)) return Unprocessable(e->message, e->field);
    fhir::Document& document = std::get<fhir::Document>(read);
    in.record = store::ResourceJson{in.json};
    in.patient_id = std::move(document.patient_id);
    in.patient_field = document.person_element + ".reference";
    in.index = std::move(document.index);
    return in;
  }
  if (IsJsonOnlyType(type)) {
    in.json = Dump(body);
    in.record = store::ResourceJson{in.json};
    return in;
  }
  const std::string text = Dump(body);
  auto mapped = fhir::MapResource(text, fhir::MapOptions{}, fhir::ResolveRelativeReference);
  if (auto* e = std::get_if<fhir::MapError>(&mapped)) return Unprocessable(e->message, e->field);
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
      return Unprocessable("this activity type is served as " +
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
    return Unprocessable(skipped->reason, "");
  } else {
    return Unprocessable(std::string(type) + " cannot be written here", "");
  }
  if (!type_ok) return Unprocessable("the resource is not a " + std::string(type), "resourceType");
  if (!rendered.ok()) return Unprocessable(rendered.error().message, "");
  in.json = text;
  in.rendering_hash = StableHash64(rendering);
  return in;
}

std::string NewId() { return security::Sha256Hex(security::NewBearerToken()).substr(0, 32); }

// $export kick-off parameters as (name, value) pairs, in order.
using ExportParameters = std::vector<std::pair<std::string, std::string>>;

// A POST kick-off's FHIR Parameters body (Bulk Data IG, "Bulk Data Kick-off Request"):
// `_type` and `_outputFormat` as valueString, `_since` as valueInstant; `_type` may repeat (each
// a type or a comma-separated list). Anything else is a 400 naming the parameter. Kick-off
// parameters come in the body only: a query as well is refused (which one would count?).
std::variant<ExportParameters, HttpResponse> ReadExportParameters(std::string_view text,
                                                                  std::string_view query) {
  if (!query.empty())
    return Outcome(400, IssueType::kInvalid,
                   "a POST $export takes its parameters in the Parameters body, not the query");
  json body = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return Outcome(400, IssueType::kStructure, "the body is not valid JSON");
  auto rt = body.is_object() ? body.find("resourceType") : body.end();
  if (!body.is_object() || rt == body.end() || *rt != "Parameters")
    return Outcome(400, IssueType::kInvalid, "a POST $export body must be a Parameters resource",
                   {"resourceType"});
  ExportParameters out;
  auto list = body.find("parameter");
  if (list == body.end()) return out;  // no parameters: everything the caller may export
  if (!list->is_array())
    return Outcome(400, IssueType::kStructure, "Parameters.parameter must be an array",
                   {"parameter"});
  std::set<std::string> seen;
  for (size_t i = 0; i < list->size(); ++i) {
    const json& p = (*list)[i];
    const std::string at = "parameter[" + std::to_string(i) + "]";
    auto name = p.is_object() ? p.find("name") : p.end();
    if (!p.is_object() || name == p.end() || !name->is_string())
      return Outcome(400, IssueType::kStructure, at + " needs a name", {at + ".name"});
    const std::string n = name->get<std::string>();
    const std::string_view want = n == "_since"                          ? "valueInstant"
                                  : n == "_type" || n == "_outputFormat" ? "valueString"
                                                                         : "";
    if (want.empty())
      return Outcome(400, IssueType::kNotSupported,
                     n.substr(0, 40) + ": not a supported $export parameter", {n.substr(0, 40)});
    if (n != "_type" && !seen.insert(n).second)
      return Outcome(400, IssueType::kInvalid, n + ": give it once", {n});
    auto value = p.find(want);
    if (value == p.end() || !value->is_string() || p.size() != 2)
      return Outcome(400, IssueType::kInvalid,
                     n + ": give one " + std::string(want) + " (and nothing else) in " + at, {n});
    out.emplace_back(n, value->get<std::string>());
  }
  return out;
}

}  // namespace

HttpResponse FhirApi::Impl::Write(Ctx& c, const TypeDef& t,
                                  std::optional<std::string_view> path_id) const {
  const bool is_put = path_id.has_value();
  // Scope and role first: the weakest right this request could need.
  const Interaction first = is_put ? Interaction::kUpdate : Interaction::kCreate;
  const bool may_create = security::DecideUnbound(c.caller, {Interaction::kCreate, t.name}).allowed;
  const bool may_update = security::DecideUnbound(c.caller, {Interaction::kUpdate, t.name}).allowed;
  if (!(is_put ? (may_update || may_create) : may_create))
    return Denied(c, t.name, first, is_put ? "update" : "create", is_put ? 'U' : 'C');
  json body;
  if (auto bad = ReadResourceBody(c.req, t.name, body)) return *bad;
  std::string id;
  if (is_put) {
    if (!fhir::IsValidFhirId(*path_id))
      return Outcome(400, IssueType::kInvalid, "the URL's id is not a FHIR id", {"id"});
    auto bid = body.find("id");
    if (bid == body.end() || !bid->is_string() || bid->get<std::string>() != *path_id)
      return Outcome(400, IssueType::kInvalid, "the resource's id must equal the id in the URL",
                     {"id"});
    id = std::string(*path_id);
  } else {
    id = NewId();  // FHIR create: the server assigns the id; the client's is ignored
  }
  std::optional<int64_t> if_match;
  if (is_put) {
    if (auto bad = ReadIfMatch(c.req, if_match)) return *bad;
  }

  auto incoming = ReadIncoming(t.name, id, std::move(body));
  if (auto* r = std::get_if<HttpResponse>(&incoming)) return *r;
  Incoming& in = std::get<Incoming>(incoming);

  // The current version, if any: it decides create vs update, and whose record it is.
  std::optional<store::FoundResource> existing;
  if (is_put) {
    auto found = c.resources.FindResource(t.name, id);
    if (!found.ok()) return FromError(found.error());
    existing = std::move(*found);
  }
  const bool creating = !existing;
  const Interaction interaction = creating ? Interaction::kCreate : Interaction::kUpdate;
  const char action = creating ? 'C' : 'U';
  const std::string_view subtype = creating ? "create" : "update";
  if (!security::DecideUnbound(c.caller, {interaction, t.name}).allowed)
    return Denied(c, t.name, interaction, subtype, action);

  // Whose data: the existing record's person, and the person the new version is about.
  std::vector<int64_t> keys;
  if (PersonBound(t.name)) {
    std::vector<int64_t> to_check;
    if (existing && existing->patient_key) to_check.push_back(*existing->patient_key);
    for (int64_t key : to_check) {
      auto d = DecidePerson(c, interaction, t.name, key);
      if (!d.ok()) return FromError(d.error());
      keys.push_back(key);
      if (!d->allowed) {
        auto a = Audit(c, action, subtype, AuditOutcome::kSeriousFailure, keys);
        if (!a.ok()) return FromError(a.error());
        // The id is taken by a record the caller may not see: it cannot be created either.
        // (Client-chosen ids can reveal that an id is in use; POST assigns ids instead.)
        return Outcome(409, IssueType::kConflict,
                       std::string(t.name) + "/" + id + " cannot be written; choose another id");
      }
    }
    if (!in.patient_id.empty()) {
      auto person = c.resources.FindResource("Patient", in.patient_id);
      if (!person.ok()) return FromError(person.error());
      std::optional<int64_t> key = *person ? (*person)->patient_key : std::nullopt;
      bool visible = key.has_value();
      if (key) {
        auto d = DecidePerson(c, interaction, t.name, *key);
        if (!d.ok()) return FromError(d.error());
        visible = d->allowed;
        keys.push_back(*key);
      }
      if (!visible) {
        // An unknown person and one the caller may not see get the same answer.
        auto a = Audit(c, action, subtype,
                       key ? AuditOutcome::kSeriousFailure : AuditOutcome::kMinorFailure, keys);
        if (!a.ok()) return FromError(a.error());
        return Unprocessable("Patient/" + in.patient_id + " is not known", in.patient_field);
      }
    }
    if (t.name == "Patient" && creating) {
      // A new person: the relationship is the one the record gives (their registered practice).
      const Patient& p = std::get<Patient>(in.record);
      store::PatientAccessFacts facts;
      facts.practice_id = p.practice_id;
      const security::Decision d = security::Decide(c.caller, {interaction, t.name}, facts);
      if (!d.allowed) {
        auto a = Audit(c, action, subtype, AuditOutcome::kSeriousFailure, {});
        if (!a.ok()) return FromError(a.error());
        return Outcome(403, IssueType::kForbidden,
                       "a new Patient must be registered with your own practice",
                       {"generalPractitioner"});
      }
    }
  }

  store::ResourceWrite w;
  w.resource_type = std::string(t.name);
  w.id = id;
  w.record = std::move(in.record);
  w.json = in.json;
  w.rendering_hash = in.rendering_hash;
  w.patient_id = in.patient_id;
  w.index = std::move(in.index);
  w.if_match = if_match;
  w.create_only = !is_put;
  w.now_ms = options.clock();
  if (existing && !existing->meta.last_updated_ms) {
    auto baseline = RenderRecord(*existing);
    if (!baseline.ok()) return FromError(baseline.error());
    w.baseline_json = std::move(*baseline);
  }
  auto meta = c.resources.PutResource(w);
  if (!meta.ok()) {
    const Error& e = meta.error();
    HttpResponse r;
    if (e.code == ErrorCode::kNotFound) {
      r = Unprocessable(e.message, in.patient_field);
    } else if (e.code == ErrorCode::kInvalidInput) {
      r = FromError(e, search::ErrorContext::kResourceBody);
    } else {
      r = FromError(e);
    }
    if (AuditedType(t.name)) {
      auto a = Audit(c, action, subtype, AuditOutcome::kMinorFailure, keys);
      if (!a.ok()) return FromError(a.error());
    }
    return r;
  }
  if (t.name == "Patient" && creating) {
    auto person = c.resources.FindResource("Patient", id);
    if (person.ok() && *person && (*person)->patient_key) keys.push_back(*(*person)->patient_key);
  }
  if (AuditedType(t.name)) {
    auto a = Audit(c, action, subtype, AuditOutcome::kSuccess, keys);
    if (!a.ok()) return FromError(a.error());
  }
  HttpResponse r = WrittenResponse(c.req, creating ? 201 : 200, *meta, in.json);
  if (creating)
    r.headers.emplace_back("Location", options.base_url + "/" + std::string(t.name) + "/" + id +
                                           "/_history/" + std::to_string(meta->version_id));
  return r;
}

HttpResponse FhirApi::Impl::CreateConsent(Ctx& c) const {
  if (!security::DecideUnbound(c.caller, {Interaction::kCreate, "Consent"}).allowed)
    return Denied(c, "Consent", Interaction::kCreate, "create", 'C');
  json body;
  if (auto bad = ReadResourceBody(c.req, "Consent", body)) return *bad;
  auto input = ReadConsent(c.req.body);
  if (auto* e = std::get_if<FieldError>(&input)) return Unprocessable(e->message, e->field);
  const ConsentInput& in = std::get<ConsentInput>(input);
  auto person = c.resources.FindResource("Patient", in.patient_id);
  if (!person.ok()) return FromError(person.error());
  std::optional<int64_t> key = *person ? (*person)->patient_key : std::nullopt;
  bool visible = false;
  if (key) {
    auto d = DecidePerson(c, Interaction::kCreate, "Consent", *key);
    if (!d.ok()) return FromError(d.error());
    visible = d->allowed;
  }
  if (!visible) {
    auto a =
        Audit(c, 'C', "create", key ? AuditOutcome::kSeriousFailure : AuditOutcome::kMinorFailure,
              key ? std::vector<int64_t>{*key} : std::vector<int64_t>{});
    if (!a.ok()) return FromError(a.error());
    return Unprocessable("Patient/" + in.patient_id + " is not known", "patient.reference");
  }
  store::ConsentRecord record;
  record.patient_id = in.patient_id;
  record.consent.patient_key = *key;
  record.consent.decision = in.decision;
  record.consent.recorded_by = c.caller.user_id;
  record.consent.recorded_at_ms = options.clock();
  auto id = c.store.RecordConsent(record.consent);
  if (!id.ok()) return FromError(id.error());
  record.id = *id;
  auto a = Audit(c, 'C', "create", AuditOutcome::kSuccess, {*key});
  if (!a.ok()) return FromError(a.error());
  HttpResponse r;
  r.status = 201;
  r.headers.emplace_back("ETag", ETag(1));
  r.headers.emplace_back(
      "Location", options.base_url + "/Consent/" + std::to_string(record.id) + "/_history/1");
  r.body = WithMeta(ConsentJson(record), store::ResourceMeta{1, record.consent.recorded_at_ms});
  return r;
}

// A person changes their sharing decision (docs/fhir-api.md, "Consent"): the body is read as
// for create; the Consent stays about the same person; the store keeps the previous decision
// as a version and records the new one now, so the access policy follows it at once. Only the
// person's current Consent can change (409 for one a later Consent superseded). A Consent is
// never created by PUT: its id is the store's.
HttpResponse FhirApi::Impl::UpdateConsent(Ctx& c, std::string_view id) const {
  if (!security::DecideUnbound(c.caller, {Interaction::kUpdate, "Consent"}).allowed)
    return Denied(c, "Consent", Interaction::kUpdate, "update", 'U');
  json body;
  if (auto bad = ReadResourceBody(c.req, "Consent", body)) return *bad;
  if (!fhir::IsValidFhirId(id))
    return Outcome(400, IssueType::kInvalid, "the URL's id is not a FHIR id", {"id"});
  if (auto bid = body.find("id"); bid == body.end() || !bid->is_string() || *bid != id)
    return Outcome(400, IssueType::kInvalid, "the resource's id must equal the id in the URL",
                   {"id"});
  std::optional<int64_t> if_match;
  if (auto bad = ReadIfMatch(c.req, if_match)) return *bad;
  auto input = ReadConsent(c.req.body);
  if (auto* e = std::get_if<FieldError>(&input)) return Unprocessable(e->message, e->field);
  const ConsentInput& in = std::get<ConsentInput>(input);

  // A missing Consent and one about a person the caller may not see answer alike.
  auto found = c.resources.FindResource("Consent", id);
  if (!found.ok()) return FromError(found.error());
  if (!*found || !(*found)->patient_key) {
    auto a = Audit(c, 'U', "update", AuditOutcome::kMinorFailure, {});
    if (!a.ok()) return FromError(a.error());
    return NotFound("Consent", id);
  }
  const store::FoundResource& existing = **found;
  const int64_t key = *existing.patient_key;
  auto d = DecidePerson(c, Interaction::kUpdate, "Consent", key);
  if (!d.ok()) return FromError(d.error());
  if (!d->allowed) {
    auto a = Audit(c, 'U', "update", AuditOutcome::kSeriousFailure, {key});
    if (!a.ok()) return FromError(a.error());
    return NotFound("Consent", id);
  }
  store::ConsentRecord record = std::get<store::ConsentRecord>(existing.record);
  if (in.patient_id != record.patient_id) {
    auto a = Audit(c, 'U', "update", AuditOutcome::kMinorFailure, {key});
    if (!a.ok()) return FromError(a.error());
    return Unprocessable("a Consent's patient cannot be changed (this one is about Patient/" +
                             record.patient_id + "): record a new Consent for another person",
                         "patient.reference");
  }
  auto baseline = RenderRecord(existing);
  if (!baseline.ok()) return FromError(baseline.error());
  record.consent.decision = in.decision;
  record.consent.recorded_by = c.caller.user_id;
  // Recorded now, and never before the decision it replaces: it must stay the latest.
  record.consent.recorded_at_ms = std::max(options.clock(), record.consent.recorded_at_ms);
  store::ResourceWrite w;
  w.resource_type = "Consent";
  w.id = std::string(id);
  w.json = ConsentJson(record);
  w.record = record;
  w.baseline_json = std::move(*baseline);
  w.if_match = if_match;
  w.now_ms = record.consent.recorded_at_ms;
  auto meta = c.resources.PutResource(w);
  if (!meta.ok()) {
    const Error& e = meta.error();
    HttpResponse r = e.code == ErrorCode::kInvalidInput
                         ? FromError(e, search::ErrorContext::kResourceBody)
                     : e.code == ErrorCode::kNotFound ? NotFound("Consent", id)
                                                      : FromError(e);
    auto a = Audit(c, 'U', "update", AuditOutcome::kMinorFailure, {key});
    if (!a.ok()) return FromError(a.error());
    return r;
  }
  auto a = Audit(c, 'U', "update", AuditOutcome::kSuccess, {key});
  if (!a.ok()) return FromError(a.error());
  return WrittenResponse(c.req, 200, *meta, w.json);
}

// ---- Bulk Data $export ---------------------------------------------------------------------

HttpResponse FhirApi::Impl::ExportKickoff(Ctx& c, exporter::ExportJobSpec::Level level,
                                          std::string_view group_id, std::string_view query) const {
  exporter::ExportJobSpec spec;
  spec.level = level;
  spec.group_id = std::string(group_id);
  // Bulk Data kick-off parameters (_type, _since, _outputFormat; others refused): from the
  // query of a GET, or the Parameters body of a POST.
  std::vector<std::pair<std::string, std::string>> params;
  const bool post = c.req.method == "POST";
  if (post) {
    if (auto bad = CheckJsonBody(c.req)) return *bad;
    auto read = ReadExportParameters(c.req.body, query);
    if (auto* r = std::get_if<HttpResponse>(&read)) return *r;
    params = std::move(std::get<ExportParameters>(read));
  } else {
    for (std::string_view pair : Split(query, '&')) {
      if (pair.empty()) continue;
      const std::string_view name = pair.substr(0, pair.find('='));
      auto value = FormDecodeUtf8(pair.size() > name.size() ? pair.substr(name.size() + 1) : "");
      if (!value)
        return Outcome(400, IssueType::kInvalid,
                       std::string(name.substr(0, 40)) + ": bad percent-escape",
                       {std::string(name.substr(0, 40))});
      params.emplace_back(name, std::move(*value));
    }
  }
  for (const auto& [name_text, value_text] : params) {
    const std::string_view name = name_text;
    const std::string* value = &value_text;
    if (name == "_type") {
      for (std::string_view type : Split(*value, ',')) {
        const TypeDef* exported = resources::FindType(type);
        if (exported == nullptr || !exported->exported)
          return Outcome(400, IssueType::kNotSupported,
                         "_type: '" + std::string(type.substr(0, 64)) + "' cannot be exported",
                         {"_type"});
        spec.types.emplace_back(type);
      }
    } else if (name == "_since") {
      // FHIR instant: the date parser of searches, taken as the start of the given instant.
      auto parsed = search::ParseSearch("Patient", "_lastUpdated=" + search::PercentEncode(*value));
      auto* req = std::get_if<search::SearchRequest>(&parsed);
      if (!req || value->empty() || !std::isdigit(static_cast<unsigned char>((*value)[0])))
        return Outcome(400, IssueType::kInvalid, "_since: not a FHIR instant", {"_since"});
      spec.since_ms = std::get<search::DateValue>(req->filters[0].any_of[0]).start * 1000;
    } else if (name == "_outputFormat") {
      if (*value != "application/fhir+ndjson" && *value != "application/ndjson" &&
          *value != "ndjson")
        return Outcome(400, IssueType::kNotSupported, "_outputFormat: only NDJSON is written",
                       {"_outputFormat"});
    } else {
      return Outcome(400, IssueType::kNotSupported,
                     std::string(name.substr(0, 40)) + ": not a supported $export parameter",
                     {std::string(name.substr(0, 40))});
    }
  }
  // Scope and role for every type that would go out (without _type: every type the exporter
  // writes). Person-bound types need the export right; Organization (the directory) needs
  // search; a Group level export needs read of the Group.
  std::vector<std::string_view> checked;
  // What the exporter can write (the registry's exported types), each decided by the served
  // type whose policy row governs it.
  for (const TypeDef& type : resources::AllTypes())
    if (type.exported && (spec.types.empty() || std::find(spec.types.begin(), spec.types.end(),
                                                          type.name) != spec.types.end()))
      checked.push_back(resources::GoverningType(type));
  if (level == exporter::ExportJobSpec::Level::kGroup) checked.push_back("Group");
  for (std::string_view type : checked) {
    const Interaction needed = type == "Organization" ? Interaction::kSearch
                               : type == "Group"      ? Interaction::kRead
                                                      : Interaction::kExport;
    if (!security::DecideUnbound(c.caller, {needed, type}).allowed) {
      auto a = Audit(c, 'E', "export", AuditOutcome::kSeriousFailure, {});
      if (!a.ok()) return FromError(a.error());
      return Forbidden(type, Interaction::kExport);
    }
  }
  if (Lower(c.req.Header("prefer").value_or("")).find("respond-async") == std::string::npos)
    return Outcome(400, IssueType::kInvalid, "Prefer: $export needs 'respond-async'", {"Prefer"});
  if (!options.bulk_export) {
    auto a = Audit(c, 'E', "export", AuditOutcome::kMinorFailure, {});
    if (!a.ok()) return FromError(a.error());
    return Outcome(501, IssueType::kNotSupported, "Bulk Data export is not enabled on this server");
  }
  if (level == exporter::ExportJobSpec::Level::kGroup) {
    auto group = fhir::IsValidFhirId(group_id)
                     ? c.resources.FindResource("Group", group_id)
                     : Result<std::optional<store::FoundResource>>(std::nullopt);
    if (!group.ok()) return FromError(group.error());
    if (!*group) return NotFound("Group", group_id);
  }
  spec.visibility = VisibilityOf(c.caller);
  spec.user_id = c.caller.user_id;
  spec.username = c.principal.username;
  spec.role = std::string(security::RoleName(c.caller.role));
  spec.organisation_id = c.caller.organisation_id;
  spec.request_id = c.req.request_id;
  spec.source_address = c.req.remote_address;
  // What was asked, as a query string (a POST's parameters included) for the audit trail.
  std::string asked = query.empty() ? "" : "?" + std::string(query);
  if (post)
    for (const auto& [name, value] : params)
      asked += (asked.empty() ? "?" : "&") + search::PercentEncode(name) + "=" +
               search::PercentEncode(value);
  // The manifest's `request`: the kick-off URL; for a POST without its parameters (Bulk Data
  // IG, "Response - Complete Status").
  spec.request_url =
      options.base_url + c.req.path + (post || query.empty() ? "" : "?" + std::string(query));
  HttpResponse r = options.bulk_export->Kickoff(spec);
  auto a = Audit(c, 'E', "export",
                 r.status == 202 ? AuditOutcome::kSuccess : AuditOutcome::kMinorFailure, {},
                 c.req.path + asked);
  if (!a.ok()) return FromError(a.error());
  return r;
}

HttpResponse FhirApi::Impl::ExportStatus(Ctx& c, std::string_view job, bool cancel) const {
  if (!options.bulk_export)
    return Outcome(501, IssueType::kNotSupported, "Bulk Data export is not enabled on this server");
  return cancel ? options.bulk_export->Cancel(job, c.caller.user_id)
                : options.bulk_export->Poll(job, c.caller.user_id);
}

HttpResponse FhirApi::Impl::ExportFile(Ctx& c, std::string_view job, std::string_view file) const {
  if (!options.bulk_export)
    return Outcome(501, IssueType::kNotSupported, "Bulk Data export is not enabled on this server");
  return options.bulk_export->File(job, file, c.caller.user_id);
}

}  // namespace joinedup::api
