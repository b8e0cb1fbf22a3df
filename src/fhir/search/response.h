// What the FHIR API sends back, without the HTTP server: searchset Bundles, OperationOutcomes,
// the mapping of joinedup errors to HTTP statuses, ETag/If-Match, request-body limits and
// the CapabilityStatement (generated from the parser's own tables).
//
// JSON is written by hand into std::string: resources arrive already serialised (the
// fhir_mapping writers), and copying them through a DOM would cost more than the search.
// Every string from outside is escaped; text that is not UTF-8 has its stray bytes replaced
// with U+FFFD, so the output is always valid JSON.
//
// Pure functions, no I/O; all are reentrant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "fhir/search/paging.h"
#include "fhir/search/search_params.h"

namespace joinedup::fhir::search {

// ---- OperationOutcome ------------------------------------------------------------------

enum class IssueSeverity { kFatal, kError, kWarning, kInformation };

// The FHIR R4 issue-type codes joinedup uses (http://hl7.org/fhir/R4/valueset-issue-type.html).
enum class IssueType {
  kInvalid,       // invalid
  kStructure,     // structure: not parseable
  kProcessing,    // processing: a rule of the content (422)
  kNotSupported,  // not-supported
  kNotFound,      // not-found
  kConflict,      // conflict
  kTooLong,       // too-long
  kLogin,         // login
  kForbidden,     // forbidden
  kThrottled,     // throttled
  kTransient,     // transient
  kException,     // exception
  kInformational  // informational
};
std::string_view IssueSeverityCode(IssueSeverity severity);
std::string_view IssueTypeCode(IssueType type);

struct OutcomeIssue {
  IssueSeverity severity = IssueSeverity::kError;
  IssueType type = IssueType::kInvalid;
  std::string diagnostics;
  // Where: for search errors the query parameter ("birthdate"); for a resource, FHIRPath.
  std::vector<std::string> expression;
};

std::string OperationOutcomeJson(std::span<const OutcomeIssue> issues);

// A refused query: error, invalid or not-supported, with the parameter as its expression.
OutcomeIssue IssueFrom(const SearchError& error);
// One warning per ignored parameter (SearchRequest::ignored).
std::vector<OutcomeIssue> IgnoredParameterWarnings(const SearchRequest& request);

// ---- Errors → HTTP ---------------------------------------------------------------------

struct HttpError {
  int status = 500;
  OutcomeIssue issue;
  std::string Body() const { return OperationOutcomeJson({&issue, 1}); }
};

// Was the rejected input a request (query, header) or a resource in the body? FHIR answers
// an invalid resource with 422 and a malformed request with 400.
enum class ErrorContext { kRequest, kResourceBody };

// kInvalidInput → 400 (422 for a resource body), kNotFound → 404, kConflict → 409,
// kPreconditionFailed → 412, kUnauthenticated → 401, kForbidden → 403, kTooLarge → 413,
// kUnavailable → 503, kInternal → 500 (its message is not shown to the client).
int HttpStatusOf(ErrorCode code, ErrorContext context = ErrorContext::kRequest);
HttpError ToHttpError(const Error& error, ErrorContext context = ErrorContext::kRequest);
HttpError ToHttpError(const SearchError& error);  // 400
// Statuses with no joinedup ErrorCode: they arise in the HTTP layer only.
HttpError UnsupportedMediaType(std::string_view content_type);  // 415
HttpError TooManyRequests(std::string_view what);               // 429

// ---- Versions: ETag and If-Match --------------------------------------------------------

// W/"<versionId>"
std::string FormatETag(std::string_view version_id);
// Strict: exactly W/"<versionId>" with a FHIR id inside (`*`, lists, strong or unquoted tags
// are refused). kInvalidInput naming If-Match otherwise; the HTTP layer answers 400.
Result<std::string> ParseIfMatch(std::string_view header);

// ---- Request bodies --------------------------------------------------------------------

struct BodyLimits {
  size_t max_bytes = 8u << 20;  // 8 MiB: a large transaction Bundle, not an upload channel
  int max_depth = 64;           // FHIR resources nest ~10 deep; 64 leaves room for extensions
};
// kTooLarge (413) above max_bytes; kInvalidInput (400) when arrays/objects nest deeper than
// max_depth, naming the byte offset. Checked by a flat scan before any parser runs, so a
// hostile body cannot exhaust the stack. Other JSON errors are the parser's to report.
Status CheckRequestBody(std::string_view body, const BodyLimits& limits = {});

// ---- searchset Bundle -------------------------------------------------------------------

enum class SearchMode { kMatch, kInclude };

struct SearchEntry {
  std::string full_url;       // <base>/<Type>/<id>
  std::string resource_json;  // one resource as JSON text (an object, trusted: our writers')
  SearchMode mode = SearchMode::kMatch;
};

struct SearchsetBundle {
  std::optional<int64_t> total;  // written when known and asked for (see WantsTotal)
  PageLinks links;
  std::vector<SearchEntry> entries;  // matches first; includes do not count toward _count
  // Warnings (ignored parameters) go in an OperationOutcome entry, search.mode "outcome".
  std::vector<OutcomeIssue> warnings;
};

// Should Bundle.total be computed? Yes unless _total=none; _summary=count always wants it.
bool WantsTotal(const SearchRequest& request);

std::string SearchsetBundleJson(const SearchsetBundle& bundle);

// ---- CapabilityStatement ----------------------------------------------------------------

struct CapabilityOptions {
  std::string software_version;  // e.g. "0.1.0"
  std::string base_url;          // implementation.url
  std::string date;              // when this statement was made (FHIR dateTime), from the clock
  // The interactions the HTTP layer serves per type (read, vread, update, create,
  // history-instance, …). "search-type" is added for every searchable type, with its
  // parameters, includes and revincludes straight from the parser's tables.
  std::map<std::string, std::vector<std::string>> interactions;
};
std::string CapabilityStatementJson(const CapabilityOptions& options);

}  // namespace joinedup::fhir::search
