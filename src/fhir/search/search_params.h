// FHIR R4 search parameters: from a resource type and a raw query string to a typed
// SearchRequest, and back to a canonical query string for page links.
//
// Everything the parser accepts comes from the resource registry (SearchParamsOf, SortKeysOf
// and Includes below read it); the CapabilityStatement (response.h) is generated from the same
// tables, so what the server advertises and what it parses cannot drift apart. docs/fhir-api.md has
// the rules, with references to the FHIR R4 search page (https://hl7.org/fhir/R4/search.html).
//
// Pure functions, no I/O; all are reentrant.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/text_fold.h"
#include "resources/query.h"
#include "resources/registry.h"

namespace joinedup::fhir::search {

// ---- What is supported: the tables -----------------------------------------------------

// The tables are the resource registry's (resources/registry.h): a type is searchable when the
// registry says it serves search, and its parameters, sorts and includes are the registry's.
using resources::ParamType;
using resources::ParamTypeName;
using resources::SearchParamDef;

// The resource types that can be searched, in CapabilityStatement order.
std::span<const std::string_view> SearchableTypes();
// Parameters of `resource_type`, common ones (_id, _lastUpdated) included. Empty if the type
// is not searchable.
std::vector<const SearchParamDef*> SearchParamsOf(std::string_view resource_type);
// nullptr if `resource_type` has no such parameter.
const SearchParamDef* FindSearchParam(std::string_view resource_type, std::string_view name);

// Keys `_sort` accepts for a type: the common `_id` and `_lastUpdated` and some parameters.
std::vector<std::string_view> SortKeysOf(std::string_view resource_type);

// The typed request the parser produces is storage-neutral (resources/query.h): the store runs
// it without knowing FHIR's query syntax.
using resources::DateMatches;
using resources::DatePrefix;
using resources::DateValue;
using resources::Filter;
using resources::IncludeDef;
using resources::kDefaultCount;
using resources::kMaxCount;
using resources::Modifier;
using resources::ReferenceValue;
using resources::SearchRequest;
using resources::SearchValue;
using resources::SortKey;
using resources::StringValue;
using resources::TokenValue;
using resources::Total;

std::string_view DatePrefixName(DatePrefix prefix);  // "eq", …
// The parameter that carries the keyset paging cursor (paging.h). Ours, not FHIR's, so it
// starts with `_` like HAPI's `_getpages`; clients only ever copy it from a `next` link.
inline constexpr std::string_view kCursorParam = "_cursor";

std::span<const IncludeDef> Includes();

// Case- and accent-folded form of a string, for the default (starts-with) and :contains
// matches (core/text_fold.h). The store folds stored names with this same function.
using ::joinedup::FoldForSearch;

// Why a query was refused. `parameter` is the name as written ("birthdate",
// "name:phonetic"); `message` says what was wrong and always starts with that name.
enum class SearchErrorKind { kInvalid, kNotSupported };  // OperationOutcome issue codes
struct SearchError {
  SearchErrorKind kind = SearchErrorKind::kInvalid;
  std::string parameter;
  std::string message;
};

enum class UnknownParams {
  kStrict,   // FHIR default: an unknown or unsupported parameter is an error
  kLenient,  // `Prefer: handling=lenient`: ignored, and listed in SearchRequest::ignored
};

// Parses a query string (without the leading '?'), application/x-www-form-urlencoded as
// browsers and FHIR clients send it: '&'-separated name=value pairs, '+' is a space,
// %XX escapes are strict (a bad escape, invalid UTF-8 or a control character is an error).
// Within a value, FHIR escapes `\,` `\|` `\$` `\\` protect the separators.
std::variant<SearchRequest, SearchError> ParseSearch(
    std::string_view resource_type, std::string_view query,
    UnknownParams unknown = UnknownParams::kStrict);

// The request as a query string: filters in their original order, then _sort, _count,
// _summary, _total, _elements, _include, _revinclude — percent-encoded so that ParseSearch
// gives the same request back. No `_cursor`, no ignored parameters (FHIR: the self link
// shows what was used). Page links (paging.h) are this plus a cursor.
std::string CanonicalQuery(const SearchRequest& request);

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string PercentEncode(std::string_view text);

// A FHIR date, dateTime or instant — YYYY, YYYY-MM, YYYY-MM-DD or
// YYYY-MM-DDThh:mm[:ss[.fff]][Z|±hh:mm] — as the range of seconds it covers, [start, end): its
// precision decides the width ("2020" the whole year, "…T10:00Z" one minute; fractions of a
// second are dropped). Without a zone it is taken as UTC. The one parser for search values and
// for the dates a document type indexes (fhir/document.h). The prefix is left at kEq.
std::optional<DateValue> ParseDateRange(std::string_view text);

}  // namespace joinedup::fhir::search
