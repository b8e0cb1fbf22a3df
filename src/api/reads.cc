// Read, vread, history and search (fhir_api_impl.h): the records service decides and audits;
// this file turns its records into FHIR — a resource with meta and an ETag, or a Bundle.
#include "api/fhir_api_impl.h"
#include "core/date.h"
#include "fhir/search/search_params.h"

namespace joinedup::api {

using records::Operation;

HttpResponse FhirApi::Impl::Read(Ctx& c, const TypeDef& t, std::string_view id) const {
  auto record = c.records.Read(t.name, id);
  if (!record.ok()) return FromError(record.error());
  HttpResponse r;
  r.body = WithMeta(record->json, record->meta);
  r.headers.emplace_back("ETag", ETag(record->meta.version_id));
  return r;
}

HttpResponse FhirApi::Impl::Vread(Ctx& c, const TypeDef& t, std::string_view id,
                                  std::string_view version) const {
  auto found = c.records.Vread(t.name, id, version);
  if (!found.ok()) return FromError(found.error());
  HttpResponse r;
  r.body = WithMeta(found->json, found->meta);
  r.headers.emplace_back("ETag", ETag(found->meta.version_id));
  return r;
}

// A history Bundle (FHIR R4 http §3.1.0.12): each version as the resource it was, the request
// that made it (version 1 a POST, later ones PUTs) and its response.
HttpResponse FhirApi::Impl::History(Ctx& c, const TypeDef& t, std::string_view id) const {
  auto versions = c.records.History(t.name, id);
  if (!versions.ok()) return FromError(versions.error());
  const std::string path = std::string(t.name) + "/" + std::string(id);
  json bundle = {{"resourceType", "Bundle"}, {"type", "history"}, {"total", versions->size()}};
  bundle["link"] =
      json::array({{{"relation", "self"}, {"url", options.base_url + "/" + path + "/_history"}}});
  json entries = json::array();
  for (const records::Version& v : *versions) {
    json entry = {{"fullUrl", options.base_url + "/" + path},
                  {"resource", json::parse(WithMeta(v.json, v.meta), nullptr, false)}};
    const bool first = v.meta.version_id == 1;
    entry["request"] = {{"method", first ? "POST" : "PUT"}, {"url", path}};
    json resp = {{"status", first ? "201 Created" : "200 OK"}, {"etag", ETag(v.meta.version_id)}};
    if (v.meta.last_updated_ms) resp["lastModified"] = FormatInstant(*v.meta.last_updated_ms);
    entry["response"] = std::move(resp);
    entries.push_back(std::move(entry));
  }
  bundle["entry"] = std::move(entries);
  HttpResponse r;
  r.body = Dump(bundle);
  return r;
}

HttpResponse FhirApi::Impl::Search(Ctx& c, const TypeDef& t, std::string_view query) const {
  // Scope and role before the query is read: a caller without the right learns nothing more.
  if (Status s = c.records.Permit(Operation::kSearch, t.name); !s.ok()) return FromError(s.error());
  const bool lenient = Prefers(c.req, "handling=lenient");
  auto parsed = search::ParseSearch(
      t.name, query, lenient ? search::UnknownParams::kLenient : search::UnknownParams::kStrict);
  if (auto* error = std::get_if<search::SearchError>(&parsed))
    return FromHttpError(search::ToHttpError(*error));
  const search::SearchRequest& request = std::get<search::SearchRequest>(parsed);

  std::optional<search::PageCursor> cursor;
  if (!request.cursor.empty()) {
    auto decoded = search::DecodeCursor(request, cursor_key);
    if (!decoded.ok()) return FromError(decoded.error());
    cursor = std::move(*decoded);
  }
  records::SearchOptions o;
  o.after = cursor ? &*cursor : nullptr;
  // Counting every match costs a scan of them all (at 1M people, ~100 ms for a broad search),
  // so later pages carry the total only when _total=accurate asks for it again. The types
  // served in a fixed order are counted as they are listed, on every page.
  o.want_total = search::WantsTotal(request) &&
                 (t.fixed_order || !cursor || request.summary_count ||
                  request.total == search::Total::kAccurate);
  o.query = std::string(t.name) + "?" + std::string(query);
  auto page = c.records.Search(request, o);
  if (!page.ok()) return FromError(page.error());

  search::SearchsetBundle bundle;
  for (const records::Record& m : page->matches)
    bundle.entries.push_back({options.base_url + "/" + m.type + "/" + m.id,
                              WithMeta(m.json, m.meta, request.elements),
                              search::SearchMode::kMatch});
  for (const records::Record& m : page->included)
    bundle.entries.push_back({options.base_url + "/" + m.type + "/" + m.id,
                              WithMeta(m.json, m.meta), search::SearchMode::kInclude});
  std::optional<std::string> next;
  if (page->next) next = search::EncodeCursor(*page->next, request, cursor_key);
  bundle.links = search::BuildPageLinks(options.base_url, request, next);
  bundle.total = page->total;
  bundle.warnings = search::IgnoredParameterWarnings(request);
  if (!page->warning.empty()) {
    search::OutcomeIssue w;
    w.severity = search::IssueSeverity::kWarning;
    w.type = search::IssueType::kTooLong;
    w.diagnostics = page->warning;
    bundle.warnings.push_back(std::move(w));
  }
  HttpResponse r;
  r.body = search::SearchsetBundleJson(bundle);
  return r;
}

}  // namespace joinedup::api
