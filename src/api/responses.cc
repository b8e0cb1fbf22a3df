// The answers every route of the FHIR API gives (fhir_api_impl.h): OperationOutcomes for
// refusals and failures, meta and ETags for resources, and the small text helpers they need.
#include <algorithm>
#include <cstdio>

#include "api/fhir_api_impl.h"
#include "core/date.h"
#include "core/strings.h"

namespace joinedup::api {

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

std::string MediaType(std::string_view header) {
  return Lower(Trim(header.substr(0, header.find(';'))));
}

bool IsJsonMediaType(std::string_view media) {
  return media == "application/fhir+json" || media == "application/json";
}

std::optional<std::string> FormDecodeUtf8(std::string_view text) {
  std::optional<std::string> out = FormDecode(text);
  if (!out || !IsValidUtf8(*out)) return std::nullopt;
  return out;
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

HttpResponse Outcome(int status, search::IssueType type, std::string diagnostics,
                     std::vector<std::string> expression, search::IssueSeverity severity) {
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

HttpResponse FromError(const Error& error, search::ErrorContext context) {
  if (error.code == ErrorCode::kInternal || error.code == ErrorCode::kUnavailable ||
      error.backend_text)
    std::fprintf(stderr, "joinedup api: %s\n", error.ToString().c_str());
  return FromHttpError(search::ToHttpError(error, context));
}

HttpResponse MethodNotAllowed(std::string_view allow) {
  HttpResponse r =
      Outcome(405, search::IssueType::kNotSupported,
              "this method is not allowed here (allowed: " + std::string(allow) + ")");
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

std::string WithMeta(std::string_view resource_json, const store::ResourceMeta& meta,
                     const std::vector<std::string>& elements) {
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

bool Prefers(const HttpRequest& req, std::string_view token) {
  return Lower(req.Header("prefer").value_or("")).find(token) != std::string::npos;
}

}  // namespace joinedup::api
