// FHIR R4 search parameters: from a resource type and a raw query string to a typed
// SearchRequest, and back to a canonical query string for page links.
//
// Everything the parser accepts comes from the tables below (SearchParams, SortKeys,
// Includes); the CapabilityStatement (response.h) is generated from the same tables, so
// what the server advertises and what it parses cannot drift apart. docs/fhir-api.md has
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

namespace joinedup::fhir::search {

// ---- What is supported: the tables -----------------------------------------------------

enum class ParamType { kString, kToken, kDate, kReference };
std::string_view ParamTypeName(ParamType type);  // "string", "token", … (FHIR search-param-type)

struct SearchParamDef {
  std::string_view resource_type;  // "Patient"; "" for the common parameters (_id, _lastUpdated)
  std::string_view name;           // "birthdate"
  ParamType type;
  std::string_view target_type;  // reference parameters: the one type they may point to
  std::string_view expression;   // FHIRPath of what it searches, for the CapabilityStatement
  std::string_view example;      // a valid value, used by tests to prove every row parses
};

// The resource types that can be searched, in CapabilityStatement order.
std::span<const std::string_view> SearchableTypes();
// Parameters of `resource_type`, common ones (_id, _lastUpdated) included. Empty if the type
// is not searchable.
std::vector<const SearchParamDef*> SearchParamsOf(std::string_view resource_type);
// nullptr if `resource_type` has no such parameter.
const SearchParamDef* FindSearchParam(std::string_view resource_type, std::string_view name);

// Keys `_sort` accepts for a type: the common `_id` and `_lastUpdated` and some parameters.
std::vector<std::string_view> SortKeysOf(std::string_view resource_type);

// A reference parameter `_include`/`_revinclude` may follow: Source:param → Target.
struct IncludeDef {
  std::string_view source_type;  // "Condition"
  std::string_view param;        // "subject"
  std::string_view target_type;  // "Patient"
  std::string ToString() const;  // "Condition:subject"
};
std::span<const IncludeDef> Includes();

inline constexpr int kDefaultCount = 50;
inline constexpr int kMaxCount = 1000;
// The parameter that carries the keyset paging cursor (paging.h). Ours, not FHIR's, so it
// starts with `_` like HAPI's `_getpages`; clients only ever copy it from a `next` link.
inline constexpr std::string_view kCursorParam = "_cursor";

// ---- The typed request ------------------------------------------------------------------

enum class Modifier { kNone, kExact, kContains };  // :exact and :contains apply to strings

// Case- and accent-folded form of a string, for the default (starts-with) and :contains
// matches (core/text_fold.h). The store folds stored names with this same function.
using ::joinedup::FoldForSearch;

struct StringValue {
  std::string text;    // as given (used by :exact)
  std::string folded;  // FoldForSearch(text) (used by default and :contains)
};

// system|code. `system` nullopt: any system ("code"); "": no system ("|code").
// `code` nullopt: any code in the system ("system|").
struct TokenValue {
  std::optional<std::string> system;
  std::optional<std::string> code;
};

enum class DatePrefix { kEq, kNe, kLt, kLe, kGt, kGe, kSa, kEb };
std::string_view DatePrefixName(DatePrefix prefix);  // "eq", …

// A date search value is a range: its precision decides its width ("2020" is the whole of
// 2020, "2020-03-04T10:00Z" one minute). Times are seconds since 1970-01-01T00:00:00Z;
// values without a zone are taken as UTC. [start, end): end is exclusive.
struct DateValue {
  DatePrefix prefix = DatePrefix::kEq;
  int64_t start = 0;
  int64_t end = 0;
};

// Does a resource whose date is the range [target_start, target_end) match? FHIR R4 search
// §3.1.1.4.2 (prefixes on ranges): eq — the target lies wholly inside the value's range; ne —
// not eq; gt/lt — the target's range reaches above/below the value's range; ge/le — gt/lt
// or eq; sa/eb — the target starts after/ends before the value's range. A day-precision
// birthDate is the range [day 00:00, next day 00:00).
bool DateMatches(const DateValue& value, int64_t target_start, int64_t target_end);

struct ReferenceValue {
  std::string type;  // the parameter's target type, filled in when the value was a bare id
  std::string id;
};

using SearchValue = std::variant<StringValue, TokenValue, DateValue, ReferenceValue>;

// One `name[:modifier]=v1,v2` in the query: matches when any value matches (OR). Repeating
// a parameter adds another Filter, and all must match (AND).
struct Filter {
  const SearchParamDef* param = nullptr;
  Modifier modifier = Modifier::kNone;
  std::vector<SearchValue> any_of;
  std::string raw_value;  // percent-decoded value as written, for the canonical query
};

struct SortKey {
  std::string_view name;  // one of SortKeysOf(type); points into the static table
  bool descending = false;
};

enum class Total { kDefault, kNone, kEstimate, kAccurate };

struct SearchRequest {
  std::string resource_type;
  std::vector<Filter> filters;
  int count = kDefaultCount;   // page size, clamped to [0, kMaxCount]
  bool count_clamped = false;  // the client asked for more than kMaxCount
  std::vector<SortKey> sort;   // empty: the store's default order (by id)
  bool summary_count = false;  // _summary=count: total only, no entries
  Total total = Total::kDefault;
  std::vector<std::string> elements;           // _elements, top-level element names
  std::vector<const IncludeDef*> includes;     // _include
  std::vector<const IncludeDef*> revincludes;  // _revinclude
  std::string cursor;                          // the `_cursor` token as given; decode with paging.h
  // Parameters that were ignored, each with why, for an OperationOutcome the Bundle carries:
  // unknown or unsupported ones (lenient mode only) and ones with an empty value (`name=`).
  std::vector<std::string> ignored;
};

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

}  // namespace joinedup::fhir::search
