// Create (POST) and update (PUT) (fhir_api_impl.h). What HTTP and FHIR ask of the message is
// checked here — the media type, a JSON object of the URL's type, the id, If-Match — and the
// records service does the rest: the access decision, the store and the audit event.
#include "api/fhir_api_impl.h"
#include "core/date.h"
#include "core/strings.h"

namespace joinedup::api {
namespace {

using search::IssueType;

// 415 for a body that is not JSON, 413/400 from CheckRequestBody, 400 unless it is a JSON
// object whose resourceType is `type`.
std::optional<HttpResponse> CheckResourceBody(const HttpRequest& req, std::string_view type,
                                              json& body) {
  const std::string media = MediaType(req.Header("content-type").value_or(""));
  if (!IsJsonMediaType(media)) return FromHttpError(search::UnsupportedMediaType(media));
  if (Status s = search::CheckRequestBody(req.body); !s.ok()) return FromError(s.error());
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

// The If-Match header's version, if any (400 if it is not W/"<number>").
std::optional<HttpResponse> ReadIfMatch(const HttpRequest& req, std::optional<int64_t>& version) {
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

}  // namespace

HttpResponse FhirApi::Impl::Write(Ctx& c, const TypeDef& t,
                                  std::optional<std::string_view> path_id) const {
  const bool is_put = path_id.has_value();
  // Scope and role before the body is read: a caller without the right learns nothing more.
  const records::Operation operation =
      is_put ? records::Operation::kUpdate : records::Operation::kCreate;
  if (Status s = c.records.Permit(operation, t.name); !s.ok()) return FromError(s.error());
  json body;
  if (auto bad = CheckResourceBody(c.req, t.name, body)) return *bad;
  std::optional<int64_t> if_match;
  if (is_put) {
    if (!resources::IsValidFhirId(*path_id))
      return Outcome(400, IssueType::kInvalid, "the URL's id is not a FHIR id", {"id"});
    auto bid = body.find("id");
    if (bid == body.end() || !bid->is_string() || bid->get<std::string>() != *path_id)
      return Outcome(400, IssueType::kInvalid, "the resource's id must equal the id in the URL",
                     {"id"});
    if (auto bad = ReadIfMatch(c.req, if_match)) return *bad;
  }
  auto written = is_put ? c.records.Update(t.name, *path_id, c.req.body, if_match)
                        : c.records.Create(t.name, c.req.body);
  if (!written.ok()) return FromError(written.error(), search::ErrorContext::kResourceBody);

  // The stored version's ETag and Last-Modified, and the resource as stored unless the client
  // asked for `Prefer: return=minimal`.
  const records::Record& record = written->record;
  HttpResponse r;
  r.status = written->created ? 201 : 200;
  r.headers.emplace_back("ETag", ETag(record.meta.version_id));
  if (record.meta.last_updated_ms)
    r.headers.emplace_back("Last-Modified", FormatInstant(*record.meta.last_updated_ms));
  if (written->created)
    r.headers.emplace_back("Location", options.base_url + "/" + record.type + "/" + record.id +
                                           "/_history/" +
                                           std::to_string(record.meta.version_id));
  if (Prefers(c.req, "return=minimal")) {
    r.body.clear();
    r.content_type.clear();
  } else {
    r.body = WithMeta(record.json, record.meta);
  }
  return r;
}

}  // namespace joinedup::api
