// Bulk Data $export (fhir_api_impl.h): the kick-off's parameters are read here; the records
// service decides whether the caller may export what they ask for and audits the kick-off;
// export/bulk_export.h runs the job (and audits what went out when it completes).
#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "api/fhir_api_impl.h"
#include "core/strings.h"
#include "export/bulk_export.h"
#include "fhir/search/search_params.h"

namespace joinedup::api {
namespace {

// $export kick-off parameters as (name, value) pairs, in order.
using ExportParameters = std::vector<std::pair<std::string, std::string>>;

// A POST kick-off's FHIR Parameters body (Bulk Data IG, "Bulk Data Kick-off Request"):
// `_type` and `_outputFormat` as valueString, `_since` as valueInstant; `_type` may repeat (each
// a type or a comma-separated list). Anything else is a 400 naming the parameter. Kick-off
// parameters come in the body only: a query as well is refused (which one would count?).
std::variant<ExportParameters, HttpResponse> ReadExportParameters(std::string_view text,
                                                                  std::string_view query) {
  if (!query.empty())
    return Outcome(400, search::IssueType::kInvalid,
                   "a POST $export takes its parameters in the Parameters body, not the query");
  json body = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return Outcome(400, search::IssueType::kStructure, "the body is not valid JSON");
  auto rt = body.is_object() ? body.find("resourceType") : body.end();
  if (!body.is_object() || rt == body.end() || *rt != "Parameters")
    return Outcome(400, search::IssueType::kInvalid, "a POST $export body must be a Parameters resource",
                   {"resourceType"});
  ExportParameters out;
  auto list = body.find("parameter");
  if (list == body.end()) return out;  // no parameters: everything the caller may export
  if (!list->is_array())
    return Outcome(400, search::IssueType::kStructure, "Parameters.parameter must be an array",
                   {"parameter"});
  std::set<std::string> seen;
  for (size_t i = 0; i < list->size(); ++i) {
    const json& p = (*list)[i];
    const std::string at = "parameter[" + std::to_string(i) + "]";
    auto name = p.is_object() ? p.find("name") : p.end();
    if (!p.is_object() || name == p.end() || !name->is_string())
      return Outcome(400, search::IssueType::kStructure, at + " needs a name", {at + ".name"});
    const std::string n = name->get<std::string>();
    const std::string_view want = n == "_since"                          ? "valueInstant"
                                  : n == "_type" || n == "_outputFormat" ? "valueString"
                                                                         : "";
    if (want.empty())
      return Outcome(400, search::IssueType::kNotSupported,
                     n.substr(0, 40) + ": not a supported $export parameter", {n.substr(0, 40)});
    if (n != "_type" && !seen.insert(n).second)
      return Outcome(400, search::IssueType::kInvalid, n + ": give it once", {n});
    auto value = p.find(want);
    if (value == p.end() || !value->is_string() || p.size() != 2)
      return Outcome(400, search::IssueType::kInvalid,
                     n + ": give one " + std::string(want) + " (and nothing else) in " + at, {n});
    out.emplace_back(n, value->get<std::string>());
  }
  return out;
}

}  // namespace

static_assert(static_cast<int>(records::ExportRequest::Level::kGroup) ==
                  static_cast<int>(exporter::ExportJobSpec::Level::kGroup) &&
              static_cast<int>(records::ExportRequest::Level::kPatient) ==
                  static_cast<int>(exporter::ExportJobSpec::Level::kPatient));

// ---- Bulk Data $export ---------------------------------------------------------------------

HttpResponse FhirApi::Impl::ExportKickoff(Ctx& c, records::ExportRequest::Level level,
                                          std::string_view group_id, std::string_view query) const {
  exporter::ExportJobSpec spec;
  spec.level = static_cast<exporter::ExportJobSpec::Level>(level);
  std::optional<Error> group_missing;
  spec.group_id = std::string(group_id);
  // Bulk Data kick-off parameters (_type, _since, _outputFormat; others refused): from the
  // query of a GET, or the Parameters body of a POST.
  std::vector<std::pair<std::string, std::string>> params;
  const bool post = c.req.method == "POST";
  if (post) {
    const std::string media = MediaType(c.req.Header("content-type").value_or(""));
    if (!IsJsonMediaType(media)) return FromHttpError(search::UnsupportedMediaType(media));
    if (Status s = search::CheckRequestBody(c.req.body); !s.ok()) return FromError(s.error());
    auto read = ReadExportParameters(c.req.body, query);
    if (auto* r = std::get_if<HttpResponse>(&read)) return *r;
    params = std::move(std::get<ExportParameters>(read));
  } else {
    for (std::string_view pair : Split(query, '&')) {
      if (pair.empty()) continue;
      const std::string_view name = pair.substr(0, pair.find('='));
      auto value = FormDecodeUtf8(pair.size() > name.size() ? pair.substr(name.size() + 1) : "");
      if (!value)
        return Outcome(400, search::IssueType::kInvalid,
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
          return Outcome(400, search::IssueType::kNotSupported,
                         "_type: '" + std::string(type.substr(0, 64)) + "' cannot be exported",
                         {"_type"});
        spec.types.emplace_back(type);
      }
    } else if (name == "_since") {
      // FHIR instant: the date parser of searches, taken as the start of the given instant.
      auto parsed = search::ParseSearch("Patient", "_lastUpdated=" + search::PercentEncode(*value));
      auto* req = std::get_if<search::SearchRequest>(&parsed);
      if (!req || value->empty() || !std::isdigit(static_cast<unsigned char>((*value)[0])))
        return Outcome(400, search::IssueType::kInvalid, "_since: not a FHIR instant", {"_since"});
      spec.since_ms = std::get<search::DateValue>(req->filters[0].any_of[0]).start * 1000;
    } else if (name == "_outputFormat") {
      if (*value != "application/fhir+ndjson" && *value != "application/ndjson" &&
          *value != "ndjson")
        return Outcome(400, search::IssueType::kNotSupported, "_outputFormat: only NDJSON is written",
                       {"_outputFormat"});
    } else {
      return Outcome(400, search::IssueType::kNotSupported,
                     std::string(name.substr(0, 40)) + ": not a supported $export parameter",
                     {std::string(name.substr(0, 40))});
    }
  }
  records::ExportRequest asked_for;
  asked_for.level = level;
  asked_for.group_id = std::string(group_id);
  asked_for.types = spec.types;
  if (Status s = c.records.PermitExport(asked_for); !s.ok()) {
    // A Group that does not exist is a 404 only once the request is otherwise acceptable.
    if (s.error().code != ErrorCode::kNotFound) return FromError(s.error());
    group_missing = s.take_error();
  }
  if (!Prefers(c.req, "respond-async"))
    return Outcome(400, search::IssueType::kInvalid, "Prefer: $export needs 'respond-async'", {"Prefer"});
  if (!options.bulk_export) {
    if (Status a = c.records.AuditExport(false, {}); !a.ok()) return FromError(a.error());
    return Outcome(501, search::IssueType::kNotSupported, "Bulk Data export is not enabled on this server");
  }
  if (group_missing) return FromError(*group_missing);
  spec.visibility = c.records.Visibility();
  spec.user_id = c.records.requester().caller.user_id;
  spec.actor = c.records.requester().actor;
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
  if (Status a = c.records.AuditExport(r.status == 202, c.req.path + asked); !a.ok())
    return FromError(a.error());
  return r;
}

// Every step after the kick-off is authorised again on the caller as they are now: a role or
// token that no longer allows the export gets 403 (audited), whatever it was allowed before.
std::optional<HttpResponse> FhirApi::Impl::ReauthoriseExport(Ctx& c, std::string_view job) const {
  std::optional<exporter::ExportJobSpec> spec =
      options.bulk_export->Spec(job, c.records.requester().caller.user_id);
  if (!spec) return std::nullopt;  // the export module answers 404 for it
  records::ExportRequest asked_for;
  asked_for.level = static_cast<records::ExportRequest::Level>(spec->level);
  asked_for.group_id = spec->group_id;
  asked_for.types = spec->types;
  if (Status s = c.records.PermitExport(asked_for); !s.ok()) return FromError(s.error());
  return std::nullopt;
}

HttpResponse FhirApi::Impl::ExportStatus(Ctx& c, std::string_view job, bool cancel) const {
  if (!options.bulk_export)
    return Outcome(501, search::IssueType::kNotSupported, "Bulk Data export is not enabled on this server");
  if (std::optional<HttpResponse> refused = ReauthoriseExport(c, job)) return *refused;
  return cancel ? options.bulk_export->Cancel(job, c.records.requester().caller.user_id)
                : options.bulk_export->Poll(job, c.records.requester().caller.user_id);
}

// A file goes out line by line as the caller may see each person now (a consent withdrawn or
// a relationship ended since the kick-off leaves them out), and the download is audited with
// everyone it names.
HttpResponse FhirApi::Impl::ExportFile(Ctx& c, std::string_view job, std::string_view file) const {
  if (!options.bulk_export)
    return Outcome(501, search::IssueType::kNotSupported, "Bulk Data export is not enabled on this server");
  if (std::optional<HttpResponse> refused = ReauthoriseExport(c, job)) return *refused;
  std::map<std::pair<std::string, int64_t>, bool> decided;
  auto may_see = [&](std::string_view type, int64_t key) -> Result<bool> {
    auto [it, added] = decided.try_emplace({std::string(type), key}, false);
    if (added) {
      JU_ASSIGN_OR_RETURN(it->second, c.records.MayExportPerson(type, key));
    }
    return it->second;
  };
  std::vector<int64_t> people;
  HttpResponse r = options.bulk_export->File(job, file, c.records.requester().caller.user_id,
                                             may_see, &people);
  if (r.status == 200)
    if (Status a = c.records.AuditExportFile(c.req.path, std::move(people)); !a.ok())
      return FromError(a.error());
  return r;
}

}  // namespace joinedup::api
