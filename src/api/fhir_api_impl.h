// Inside the FHIR API (fhir_api.h), shared by its files — private to joinedup_api:
//   fhir_api.cc     routing, content negotiation, metadata
//   responses.cc    OperationOutcomes, meta, ETags: the answers every route gives
//   reads.cc        read, vread, history and search
//   writes.cc       create and update
//   operations.cc   Bulk Data $export
// The API is a codec: it turns HTTP into calls of the records service (records/records.h),
// which decides access, touches the store and writes the audit event, and turns the results
// (or refusals) into FHIR.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/fhir_api.h"
#include "core/result.h"
#include "fhir/search/paging.h"
#include "fhir/search/response.h"
#include "records/records.h"
#include "resources/registry.h"

namespace joinedup::api {

using json = nlohmann::ordered_json;
using TypeDef = resources::ResourceTypeDef;
namespace search = fhir::search;

inline constexpr std::string_view kFhirJson = "application/fhir+json";

// ---- Text (responses.cc) ---------------------------------------------------------------------
std::string Lower(std::string_view text);
std::string_view Trim(std::string_view text);
// "application/fhir+json; charset=utf-8" → "application/fhir+json".
std::string MediaType(std::string_view header);
bool IsJsonMediaType(std::string_view media);
// As core's FormDecode, and the result must be UTF-8.
std::optional<std::string> FormDecodeUtf8(std::string_view text);
std::string Dump(const json& j);

// ---- Answers (responses.cc) ------------------------------------------------------------------
HttpResponse Outcome(int status, search::IssueType type, std::string diagnostics,
                     std::vector<std::string> expression = {},
                     search::IssueSeverity severity = search::IssueSeverity::kError);
HttpResponse FromHttpError(const search::HttpError& error);
// A refusal or failure as its status and OperationOutcome; kInternal and kUnavailable are also
// logged. kResourceBody: kInvalidInput is 422 (the resource breaks a rule), not 400.
HttpResponse FromError(const Error& error,
                       search::ErrorContext context = search::ErrorContext::kRequest);
HttpResponse MethodNotAllowed(std::string_view allow);
// meta.versionId and meta.lastUpdated from the server, in place of anything the text carried;
// `elements` (if any) keeps only those top-level elements (plus id, meta, resourceType) and
// tags the result SUBSETTED (FHIR R4 search §3.1.1.5.8, _elements).
std::string WithMeta(std::string_view resource_json, const store::ResourceMeta& meta,
                     const std::vector<std::string>& elements = {});
std::string ETag(int64_t version);
bool Prefers(const HttpRequest& req, std::string_view token);  // in the Prefer header

struct FhirApi::Impl {
  FhirApiOptions options;
  search::CursorKey cursor_key;

  explicit Impl(FhirApiOptions o);

  // One request: the HTTP message and the records service acting for its caller.
  struct Ctx {
    const HttpRequest& req;
    records::Records& records;
  };

  HttpResponse Handle(const HttpRequest& req, const std::optional<Principal>& principal,
                      store::Store& store) const;
  HttpResponse Metadata() const;

  // reads.cc
  HttpResponse Read(Ctx& c, const TypeDef& t, std::string_view id) const;
  HttpResponse Vread(Ctx& c, const TypeDef& t, std::string_view id,
                     std::string_view version) const;
  HttpResponse History(Ctx& c, const TypeDef& t, std::string_view id) const;
  HttpResponse Search(Ctx& c, const TypeDef& t, std::string_view query) const;

  // writes.cc: POST (no id) and PUT.
  HttpResponse Write(Ctx& c, const TypeDef& t, std::optional<std::string_view> id) const;

  // operations.cc
  HttpResponse ExportKickoff(Ctx& c, records::ExportRequest::Level level,
                             std::string_view group_id, std::string_view query) const;
  std::optional<HttpResponse> ReauthoriseExport(Ctx& c, std::string_view job) const;
  HttpResponse ExportStatus(Ctx& c, std::string_view job, bool cancel) const;
  HttpResponse ExportFile(Ctx& c, std::string_view job, std::string_view file) const;
};

}  // namespace joinedup::api
