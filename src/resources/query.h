// A search as the store runs it: filters, sort keys, includes and a page size — storage-
// neutral, so the store needs no FHIR query syntax. fhir/search parses FHIR query strings into
// it (search_params.h) and signs its cursors (paging.h); the store executes it.
//
// Plain values; DateMatches is a pure function.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "resources/registry.h"

namespace joinedup::resources {

// A reference parameter `_include`/`_revinclude` may follow: Source:param → Target.
struct IncludeDef {
  std::string_view source_type;  // "Condition"
  std::string_view param;        // "subject"
  std::string_view target_type;  // "Patient"
  std::string ToString() const;  // "Condition:subject"
};

inline constexpr int kDefaultCount = 50;
inline constexpr int kMaxCount = 1000;

enum class Modifier { kNone, kExact, kContains };  // :exact and :contains apply to strings

struct StringValue {
  std::string text;    // as given (used by :exact)
  std::string folded;  // core/text_fold.h FoldForSearch(text) (default and :contains)
};

// system|code. `system` nullopt: any system ("code"); "": no system ("|code").
// `code` nullopt: any code in the system ("system|").
struct TokenValue {
  std::optional<std::string> system;
  std::optional<std::string> code;
};

enum class DatePrefix { kEq, kNe, kLt, kLe, kGt, kGe, kSa, kEb, kAp };

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
// or eq; sa/eb — the target starts after/ends before the value's range; ap — the target
// overlaps the value's range, which the parser has already widened (FHIR leaves "approximately"
// to the server: joinedup widens a value by its own width, at least a day, on each side, so
// ap2026-03-05 is 4–6 March and ap2026-03 29 January to 1 May). A day-precision birthDate is
// the range [day 00:00, next day 00:00).
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

// One value of a document type's search parameter (registry.h, kept_as_document), as the
// fhir layer extracts it from the resource and the store indexes it (migration 7).
struct IndexEntry {
  std::string param;  // the parameter's name ("name", "relationship")
  // string: the text folded (core/text_fold.h); token: the code (or identifier/telecom value);
  // reference: the target's logical id.
  std::string value;
  // string: the text as written (for :exact); token: the system ("" when none);
  // reference: the target's type.
  // date: the range [start, end) the date covers, value = IndexInstant(start) and qualifier =
  // IndexInstant(end): migration 7's columns are text, and these compare as the times do.
  // uri: the uri, qualifier "".
  std::string qualifier;
  friend bool operator==(const IndexEntry&, const IndexEntry&) = default;
};

// An instant (seconds since 1970-01-01T00:00:00Z) as fixed-width UTC text,
// "YYYY-MM-DDThh:mm:ssZ", so that comparing two such texts bytewise compares the instants.
// Before year 1 it is kIndexInstantMin, from year 10000 on kIndexInstantMax; the two also
// stand for the open ends of a Period without a start or an end. Both sort below and above
// every real instant.
inline constexpr std::string_view kIndexInstantMin = "0000-00-00T00:00:00Z";
inline constexpr std::string_view kIndexInstantMax = "9999-99-99T99:99:99Z";
std::string IndexInstant(int64_t seconds);

// One sort key's value in the last row of a page: NULL (the row has none), a number (dates
// and times as the store orders them, e.g. days or seconds since the epoch) or text.
using SortValue = std::variant<std::monostate, int64_t, std::string>;

// Where the next page starts: after the row with these values of request.sort, in order,
// and then this id (the tie-breaker that makes the order total).
struct PageCursor {
  std::vector<SortValue> after;
  std::string after_id;
  friend bool operator==(const PageCursor&, const PageCursor&) = default;
};

}  // namespace joinedup::resources
