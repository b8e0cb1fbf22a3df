// The FHIR R4 REST API (fhir_api.h): routing and content negotiation, and the
// CapabilityStatement. docs/fhir-api.md lists the routes and the behaviours chosen. Each route
// is answered by a file of its concern (fhir_api_impl.h) through the records service, which
// decides access, touches the store and writes the audit event — in that order, once.
#include "api/fhir_api.h"

#include <cstdio>
#include <exception>

#include "api/fhir_api_impl.h"
#include "core/date.h"
#include "core/strings.h"
#include "fhir/search/search_params.h"
#include "security/policy.h"

namespace joinedup::api {
namespace {

constexpr std::string_view kBreakGlassHeader = "x-break-glass-reason";

// What each served type answers to is the resource registry's (resources/registry.h): the
// router and the CapabilityStatement both read it, so the statement lists exactly what is served.
const TypeDef* FindRoutes(std::string_view type) {
  const TypeDef* t = resources::FindType(type);
  return t != nullptr && t->IsServed() ? t : nullptr;
}

}  // namespace

FhirApi::Impl::Impl(FhirApiOptions o)
    : options(std::move(o)), cursor_key(search::CursorKey::FromBytesOrGenerate(options.cursor_key)) {
  if (!options.clock) options.clock = security::SystemClockMs;
}

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
  return Outcome(500, search::IssueType::kException, "internal error");
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
        return Outcome(406, search::IssueType::kNotSupported,
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
      return Outcome(406, search::IssueType::kNotSupported,
                     "Accept: this server answers application/fhir+json or application/json");
  }
  HttpResponse response = [&]() -> HttpResponse {
    // ---- Path.
    if (req.path.empty() || req.path[0] != '/')
      return Outcome(404, search::IssueType::kNotFound, "no such route");
    std::vector<std::string_view> seg = Split(std::string_view(req.path).substr(1), '/');
    if (seg.size() > 1 && seg.back().empty()) seg.pop_back();  // a trailing slash
    if (seg.size() == 1 && seg[0] == "metadata") {
      if (req.method != "GET") return MethodNotAllowed("GET");
      return Metadata();
    }
    if (!principal) {
      HttpResponse r = Outcome(401, search::IssueType::kLogin, "authentication is required");
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
      return r;
    }
    records::Requester requester = records::RequesterOf(*principal, req);
    // ---- Break-glass: a reason given with a read of one record (security/policy.h).
    const bool instance_read = req.method == "GET" && seg.size() >= 2 && seg.size() <= 4 &&
                               !seg[0].empty() && seg[0][0] != '$' && seg[1] != "$export" &&
                               (seg.size() == 2 || seg[2] == "_history");
    if (auto reason = req.Header(kBreakGlassHeader)) {
      const std::string_view text = Trim(*reason);
      if (!instance_read)
        return Outcome(400, search::IssueType::kInvalid,
                       "X-Break-Glass-Reason is accepted on reads of one record only",
                       {"X-Break-Glass-Reason"});
      Result<std::string> parsed = security::ParseBreakGlassReason(text);
      if (!parsed.ok())
        return Outcome(400, search::IssueType::kInvalid,
                       "X-Break-Glass-Reason: " + parsed.error().message,
                       {"X-Break-Glass-Reason"});
      requester.caller.break_glass_reason = std::move(*parsed);
    }
    records::Records service(store, std::move(requester), options.clock, options.records);
    Ctx c{req, service};
    // ---- Bulk Data.
    // Kick-off by GET (parameters in the query) or POST (a Parameters body).
    const bool kickoff_method = req.method == "GET" || req.method == "POST";
    if (seg[0] == "$export") {
      if (seg.size() != 1) return Outcome(404, search::IssueType::kNotFound, "no such route");
      if (!kickoff_method) return MethodNotAllowed("GET, POST");
      return ExportKickoff(c, records::ExportRequest::Level::kSystem, "", query);
    }
    if (seg[0] == "$export-status") {
      if (seg.size() != 2) return Outcome(404, search::IssueType::kNotFound, "no such route");
      if (req.method == "GET") return ExportStatus(c, seg[1], false);
      if (req.method == "DELETE") return ExportStatus(c, seg[1], true);
      return MethodNotAllowed("GET, DELETE");
    }
    if (seg[0] == "$export-file") {
      if (seg.size() != 3) return Outcome(404, search::IssueType::kNotFound, "no such route");
      if (req.method != "GET") return MethodNotAllowed("GET");
      return ExportFile(c, seg[1], seg[2]);
    }
    // ---- Resource types.
    const TypeDef* t = FindRoutes(seg[0]);
    if (!t)
      return Outcome(
          404, search::IssueType::kNotSupported,
          "'" + std::string(seg[0].substr(0, 64)) + "' is not a resource type this server serves");
    if (seg.size() == 1) {
      std::string allow = t->interactions.search ? "GET" : "";
      if (t->interactions.create) allow += allow.empty() ? "POST" : ", POST";
      if (req.method == "GET" && t->interactions.search) return Search(c, *t, query);
      if (req.method == "POST" && t->interactions.create)
        return Write(c, *t, std::nullopt);
      return MethodNotAllowed(allow);
    }
    if (seg.size() == 2 && seg[1] == "_search") {
      if (req.method != "POST" || !t->interactions.search)
        return MethodNotAllowed(t->interactions.search ? "POST" : "");
      const std::string media = MediaType(req.Header("content-type").value_or(""));
      if (media != "application/x-www-form-urlencoded")
        return FromHttpError(search::UnsupportedMediaType(media));
      if (req.body.size() > 64 * 1024)
        return Outcome(413, search::IssueType::kTooLong, "a _search form body is limited to 64 KiB");
      std::string combined = query;
      if (!combined.empty() && !req.body.empty()) combined += '&';
      combined += req.body;
      return Search(c, *t, combined);
    }
    if (seg.size() == 2 && seg[1] == "$export") {
      if (t->name != "Patient") return Outcome(404, search::IssueType::kNotFound, "no such route");
      if (!kickoff_method) return MethodNotAllowed("GET, POST");
      return ExportKickoff(c, records::ExportRequest::Level::kPatient, "", query);
    }
    if (seg.size() == 3 && seg[2] == "$export") {
      if (t->name != "Group") return Outcome(404, search::IssueType::kNotFound, "no such route");
      if (!kickoff_method) return MethodNotAllowed("GET, POST");
      return ExportKickoff(c, records::ExportRequest::Level::kGroup, seg[1], query);
    }
    const std::string_view id = seg[1];
    if (seg.size() == 2) {
      std::string allow = "GET";
      if (t->interactions.update) allow += ", PUT";
      if (req.method == "GET") return Read(c, *t, id);
      if (req.method == "PUT" && t->interactions.update)
        return Write(c, *t, id);
      return MethodNotAllowed(allow);
    }
    if (seg[2] != "_history" || seg.size() > 4)
      return Outcome(404, search::IssueType::kNotFound, "no such route");
    if (req.method != "GET") return MethodNotAllowed("GET");
    if (seg.size() == 3) {
      if (!t->interactions.history) return MethodNotAllowed("");
      return History(c, *t, id);
    }
    if (!t->interactions.vread) return MethodNotAllowed("");
    return Vread(c, *t, id, seg[3]);
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

}  // namespace joinedup::api
