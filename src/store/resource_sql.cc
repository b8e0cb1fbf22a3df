// ResourceStore (store/resource_store.h) written once in SQL for both backends.
//
// Searches become one parameterised SELECT over the typed tables: every value is a bound
// parameter; only fixed fragments from the tables below (column names, type literals, the
// ordinals of enums) are spliced into SQL text. Pages are keyset pages — "after (sort values,
// id)" in the search's order — fetching count + 1 rows, never OFFSET.
//
// Semantics chosen here (the header leaves them to the store):
//   * Sort: NULL (only _lastUpdated can be NULL: records never written through the API) sorts
//     before every value ascending and after every value descending, in both backends
//     (explicit NULLS FIRST / NULLS LAST). The id is always the last key, ascending.
//     family/given sort by the folded name (core/text_fold.h), which is also the cursor value;
//     dates by days since the epoch, _lastUpdated by milliseconds.
//   * Dates: a stored date is the day it names, [00:00, next day 00:00) UTC; an Encounter is
//     [start day, end day + 1 day); one without an end is a single day for contacts (GP,
//     outpatient, community nursing) and open-ended for A&E and admissions (still open). The
//     prefixes follow resources::DateMatches exactly (the conformance tests use it as the
//     oracle). A record with no stored version has no lastUpdated and never matches a
//     _lastUpdated filter (whatever the prefix, ne included).
//   * _revinclude: at most kMaxRevincludes (1000) rows per page, over all _revinclude
//     parameters together, taken in parameter order and, within one, by id.
//   * Organization, Practitioner and PractitionerRole are searched in memory: the directory
//     is small (hundreds of practices, a few thousand practitioners), so the current rows of
//     the type are read, matched, sorted and cut in C++ with the same rules as the SQL.
//     Practitioner/PractitionerRole are matched on their stored JSON (name.family, name.given,
//     name.text; identifier system/value; practitioner and organization references).
//   * Patient identifier: the NHS number (system https://fhir.nhs.uk/Id/nhs-number), or for
//     people without one the source identifier as the FHIR mapping writes it ("system|value",
//     or a bare value; "Patient/<id>" is no identifier).
#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <unordered_map>
#include <utility>

#include "core/text_fold.h"
#include "store/migrations.h"
#include "store/sql_store.h"
#include "store/store_columns.h"

namespace joinedup::store {
namespace search = resources;  // the storage-neutral query (resources/query.h)
namespace {

constexpr int64_t kDay = 86400;
constexpr size_t kMaxRevincludes = 1000;
// Days; far beyond any real date (year 9999 is day 2,932,896): the end of an open period.
constexpr int64_t kOpenEndDay = 1'000'000'000;

// Identifier and code systems as the FHIR mapping writes them (fhir/fhir_mapping.h and
// fhir/map_tables.h; copied because the store may not depend on joinedup_fhir — a test
// compares them).
constexpr std::string_view kNhsNumberSystem = "https://fhir.nhs.uk/Id/nhs-number";
constexpr std::string_view kOdsSystem = "https://fhir.nhs.uk/Id/ods-organization-code";
constexpr std::string_view kGenderSystem = "http://hl7.org/fhir/administrative-gender";
constexpr std::string_view kActCodeSystem = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
// Encounter.class per ActivityType ordinal ("" for EpisodeOfCare types).
constexpr std::string_view kEncounterClass[kActivityTypeCount] = {
    "AMB", "EMER", "IMP", "IMP", "AMB", "AMB", "HH", "", "", ""};

enum class Table {
  kPractice,
  kPatient,
  kEvent,
  kActivity,
  kMedication,
  kRisk,
  kGroup,
  kConsent,
  kAudit,
  kJson
};

struct TypeInfo {
  std::string_view name;
  Table table;
  bool writable;  // through PutResource (Consent: update only; see PutResource)
  // SQL over the typed tables (empty for Group, AuditEvent and the JSON types).
  std::string_view from;
  std::string_view base;     // condition every row of the type meets
  std::string_view id;       // the id expression
  std::string_view columns;  // select list decoded by Decode()
  bool person;               // rows are about one person (`patients p` is joined)
};

// Column lists: the first ones in the order the shared decoders read them; the person's key
// last for person-bound tables.
constexpr std::string_view kPatientCols =
    "p.id, p.nhs_number, p.source_identifier, p.family_name, p.given_name, p.birth_date, p.sex,"
    " p.postcode_district, p.deprivation_decile, p.practice_id, p.death_date, p.key";
constexpr std::string_view kEventCols =
    "e.id, p.id, e.kind, c.code_system, c.code, c.term, e.date, e.source, e.admission_method,"
    " a.id, e.value, e.unit, p.key";
constexpr std::string_view kActivityCols =
    "a.id, p.id, a.type, a.start_date, a.end_date, a.length_of_stay_days, a.cost_pence,"
    " a.specialty, a.practice_id, p.key";
constexpr std::string_view kMedicationCols =
    "m.id, p.id, c.code_system, c.code, c.term, m.start_date, m.end_date, p.key";
constexpr std::string_view kPracticeCols = "o.id, o.name, o.pch, o.postcode_district";
constexpr std::string_view kConsentCols =
    "k.id, k.patient_key, k.decision, k.recorded_by, k.recorded_at_ms, p.id, p.key";
// RiskAssessment: run id, then kResultColumns, then p.id, p.key (built at run time).

constexpr std::string_view kEventFrom =
    "events e JOIN patients p ON p.key = e.patient_key JOIN concepts c ON c.key = e.concept_key"
    " LEFT JOIN activities a ON a.key = e.activity_key";

// Activity type ordinals of Encounters (contacts) and EpisodeOfCare (periods); checked
// against IsEpisodeActivity by a static check in ActivityTypesSql's caller (TypeInfos()).
constexpr std::string_view kEncounterTypes = "a.type IN (0, 1, 2, 3, 4, 5, 6)";
constexpr std::string_view kEpisodeTypes = "a.type IN (7, 8, 9)";

const TypeInfo kTypes[] = {
    {"Organization", Table::kPractice, true, "practices o", "1 = 1", "o.id", kPracticeCols, false},
    {"Patient", Table::kPatient, true, "patients p", "1 = 1", "p.id", kPatientCols, true},
    {"Condition", Table::kEvent, true, kEventFrom, "e.kind = 0", "e.id", kEventCols, true},
    {"Observation", Table::kEvent, true, kEventFrom, "e.kind = 1", "e.id", kEventCols, true},
    {"Encounter", Table::kActivity, true, "activities a JOIN patients p ON p.key = a.patient_key",
     kEncounterTypes, "a.id", kActivityCols, true},
    {"EpisodeOfCare", Table::kActivity, true,
     "activities a JOIN patients p ON p.key = a.patient_key", kEpisodeTypes, "a.id", kActivityCols,
     true},
    {"MedicationRequest", Table::kMedication, true,
     "medications m JOIN patients p ON p.key = m.patient_key JOIN concepts c ON c.key = "
     "m.concept_key",
     "1 = 1", "m.id", kMedicationCols, true},
    {"RiskAssessment", Table::kRisk, false,
     "stratification_results s JOIN patients p ON p.key = s.patient_key", "1 = 1", "", "", true},
    {"Group", Table::kGroup, false, "", "", "", "", false},
    {"Consent", Table::kConsent, true, "consents k JOIN patients p ON p.key = k.patient_key",
     "1 = 1", "CAST(k.id AS TEXT)", kConsentCols, true},
    {"AuditEvent", Table::kAudit, false, "", "", "", "", false},
    {"Practitioner", Table::kJson, true, "", "", "", "", false},
    {"PractitionerRole", Table::kJson, true, "", "", "", "", false},
};

const TypeInfo* FindType(std::string_view name) {
  for (const TypeInfo& t : kTypes)
    if (t.name == name) return &t;
  return nullptr;
}

bool IsEncounterType(int64_t ordinal) { return ordinal >= 0 && ordinal <= 6; }
// Contacts carry no end (see ActivitiesFromCondition in sql_store.cc).
constexpr std::string_view kContactTypes = "(0, 4, 5, 6)";

int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}
int64_t CeilDiv(int64_t a, int64_t b) { return -FloorDiv(-a, b); }

// Decimal digits only, no sign, no leading zero unless "0", fits int64.
std::optional<int64_t> ParseKey(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  if (text.size() > 1 && text[0] == '0') return std::nullopt;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

// Owns the text of bound parameters (stable addresses) while a statement is built.
class Sql {
 public:
  std::string text;
  std::vector<SqlParam> params;

  // Appends a placeholder for `value` and returns it ("?7").
  std::string Bind(std::string value) {
    texts_.push_back(std::move(value));
    params.push_back(SqlParam::Text(texts_.back()));
    return "?" + std::to_string(params.size());
  }
  std::string BindInt(int64_t value) {
    params.push_back(SqlParam::Int(value));
    return "?" + std::to_string(params.size());
  }

 private:
  std::deque<std::string> texts_;
};

std::string Join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const std::string& part : parts) {
    if (!out.empty()) out += separator;
    out += part;
  }
  return out;
}

// ---- Dates
// ---------------------------------------------------------------------------------------

// The SQL form of DateMatches (search_params.h) for a target range [s, e + 1 unit), given
// the four atoms it is built from, each for a bound X in seconds:
//   start_ge(X): target_start >= X   start_lt(X): target_start < X
//   end_le(X):   target_end <= X     end_gt(X):   target_end > X
struct DateAtoms {
  std::function<std::string(int64_t)> start_ge, start_lt, end_le, end_gt;
};

std::string DateSql(const search::DateValue& v, const DateAtoms& a) {
  auto eq = [&] { return "(" + a.start_ge(v.start) + " AND " + a.end_le(v.end) + ")"; };
  switch (v.prefix) {
    case search::DatePrefix::kEq:
      return eq();
    case search::DatePrefix::kNe:
      return "(" + a.start_lt(v.start) + " OR " + a.end_gt(v.end) + ")";
    case search::DatePrefix::kGt:
      return a.end_gt(v.end);
    case search::DatePrefix::kLt:
      return a.start_lt(v.start);
    case search::DatePrefix::kGe:
      return "(" + a.end_gt(v.end) + " OR " + eq() + ")";
    case search::DatePrefix::kLe:
      return "(" + a.start_lt(v.start) + " OR " + eq() + ")";
    case search::DatePrefix::kSa:
      return a.start_ge(v.end);
    case search::DatePrefix::kEb:
      return a.end_le(v.start);
    case search::DatePrefix::kAp:  // overlaps the value's range, widened by the parser
      return "(" + a.start_lt(v.end) + " AND " + a.end_gt(v.start) + ")";
  }
  return "0 = 1";
}

// A date column holding one day (days since the epoch): each prefix is one range of days (two
// for ne), so an index on the column serves it. Derivation, with C = ceil(start / day),
// F = floor(end / day): eq [C, F-1]; gt [F, ∞); lt (-∞, C-1]; ge = gt ∪ eq = [min(C, F), ∞);
// le = lt ∪ eq = (-∞, max(C, F) - 1]; ne = complement of eq; sa [ceil(end / day), ∞);
// eb (-∞, floor(start / day) - 1]; ap (overlap) [floor(start / day), ceil(end / day) - 1].
std::string DayColumnSql(const search::DateValue& v, std::string_view column, Sql& sql) {
  const int64_t c = CeilDiv(v.start, kDay), f = FloorDiv(v.end, kDay);
  const std::string col(column);
  auto ge = [&](int64_t day) { return col + " >= " + sql.BindInt(day); };
  auto lt = [&](int64_t day) { return col + " < " + sql.BindInt(day); };
  switch (v.prefix) {
    case search::DatePrefix::kEq:
      return "(" + ge(c) + " AND " + lt(f) + ")";
    case search::DatePrefix::kNe:
      return "(" + lt(c) + " OR " + ge(f) + ")";
    case search::DatePrefix::kGt:
      return ge(f);
    case search::DatePrefix::kLt:
      return lt(c);
    case search::DatePrefix::kGe:
      return ge(std::min(c, f));
    case search::DatePrefix::kLe:
      return lt(std::max(c, f));
    case search::DatePrefix::kSa:
      return ge(CeilDiv(v.end, kDay));
    case search::DatePrefix::kEb:
      return lt(FloorDiv(v.start, kDay));
    case search::DatePrefix::kAp:  // days overlapping [start, end)
      return "(" + ge(FloorDiv(v.start, kDay)) + " AND " + lt(CeilDiv(v.end, kDay)) + ")";
  }
  return "0 = 1";
}

// An activity's period in days, [start_date, end + 1 day), see the file comment.
std::string ActivityPeriodSql(const search::DateValue& v, Sql& sql) {
  const std::string end = "COALESCE(a.end_date, CASE WHEN a.type IN " + std::string(kContactTypes) +
                          " THEN a.start_date ELSE " + std::to_string(kOpenEndDay) + " END)";
  DateAtoms atoms;
  atoms.start_ge = [&](int64_t x) { return "a.start_date >= " + sql.BindInt(CeilDiv(x, kDay)); };
  atoms.start_lt = [&](int64_t x) { return "a.start_date < " + sql.BindInt(CeilDiv(x, kDay)); };
  // (e + 1) * day <= X  ⇔  e < floor(X / day);  (e + 1) * day > X  ⇔  e >= floor(X / day)
  atoms.end_le = [&](int64_t x) { return end + " < " + sql.BindInt(FloorDiv(x, kDay)); };
  atoms.end_gt = [&](int64_t x) { return end + " >= " + sql.BindInt(FloorDiv(x, kDay)); };
  return DateSql(v, atoms);
}

// An instant in milliseconds (lastUpdated, or when a consent was recorded), a range one
// millisecond wide; NULL never matches.
std::string LastUpdatedSql(const search::DateValue& v, Sql& sql,
                           std::string_view column = "v.last_updated_ms") {
  DateAtoms atoms;
  const std::string col(column);
  atoms.start_ge = [&](int64_t x) { return col + " >= " + sql.BindInt(x * 1000); };
  atoms.start_lt = [&](int64_t x) { return col + " < " + sql.BindInt(x * 1000); };
  atoms.end_le = [&](int64_t x) { return col + " < " + sql.BindInt(x * 1000); };
  atoms.end_gt = [&](int64_t x) { return col + " >= " + sql.BindInt(x * 1000); };
  return "(" + col + " IS NOT NULL AND " + DateSql(v, atoms) + ")";
}

// In memory: the same rules for a millisecond instant.
bool LastUpdatedMatches(const search::DateValue& v, std::optional<int64_t> ms) {
  if (!ms) return false;
  // Exactly the SQL above: target [t, t + 1) ms against [start, end) s.
  const int64_t t = *ms;
  auto start_ge = [&](int64_t x) { return t >= x * 1000; };
  auto end_le = [&](int64_t x) { return t < x * 1000; };
  const bool eq = start_ge(v.start) && end_le(v.end);
  switch (v.prefix) {
    case search::DatePrefix::kEq:
      return eq;
    case search::DatePrefix::kNe:
      return !eq;
    case search::DatePrefix::kGt:
      return !end_le(v.end);
    case search::DatePrefix::kLt:
      return !start_ge(v.start);
    case search::DatePrefix::kGe:
      return !end_le(v.end) || eq;
    case search::DatePrefix::kLe:
      return !start_ge(v.start) || eq;
    case search::DatePrefix::kSa:
      return start_ge(v.end);
    case search::DatePrefix::kEb:
      return end_le(v.start);
    case search::DatePrefix::kAp:  // a one-millisecond target overlaps only by lying inside
      return eq;
  }
  return false;
}

// ---- Strings
// -------------------------------------------------------------------------------------

// Folded text starts with `prefix`: a range on the folded column, so its index serves it.
// Bytewise order (SQLite BINARY, PostgreSQL COLLATE "C") on UTF-8 is code point order, and
// every string starting with `prefix` lies in [prefix, prefix + U+10FFFF).
std::string StartsWithSql(std::string_view column, const std::string& prefix, Sql& sql) {
  if (prefix.empty()) return "1 = 1";
  const std::string col(column);
  return "(" + col + " >= " + sql.Bind(prefix) + " AND " + col + " < " +
         sql.Bind(prefix + "\xf4\x8f\xbf\xbf") + ")";
}

std::string ContainsSql(std::string_view column, const std::string& text, Dialect dialect,
                        Sql& sql) {
  if (dialect == Dialect::kPostgres)
    return "strpos(" + std::string(column) + ", " + sql.Bind(text) + ") > 0";
  return "instr(" + std::string(column) + ", " + sql.Bind(text) + ") > 0";
}

// One string value against folded/raw column pairs (any pair matching).
std::string StringSql(const search::StringValue& value, search::Modifier modifier,
                      std::span<const std::pair<std::string_view, std::string_view>> columns,
                      Dialect dialect, Sql& sql) {
  std::vector<std::string> any;
  for (const auto& [folded, raw] : columns) {
    switch (modifier) {
      case search::Modifier::kNone:
        any.push_back(StartsWithSql(folded, value.folded, sql));
        break;
      case search::Modifier::kExact:
        any.push_back(std::string(raw) + " = " + sql.Bind(value.text));
        break;
      case search::Modifier::kContains:
        any.push_back(ContainsSql(folded, value.folded, dialect, sql));
        break;
    }
  }
  return "(" + Join(any, " OR ") + ")";
}

bool StringMatches(const search::StringValue& value, search::Modifier modifier,
                   std::string_view raw) {
  switch (modifier) {
    case search::Modifier::kNone:
      return FoldForSearch(raw).starts_with(value.folded);
    case search::Modifier::kExact:
      return raw == value.text;
    case search::Modifier::kContains:
      return FoldForSearch(raw).find(value.folded) != std::string::npos;
  }
  return false;
}

bool TokenMatches(const search::TokenValue& token, std::string_view system, std::string_view code) {
  if (token.system && *token.system != system) return false;
  return !token.code || *token.code == code;
}

// ---- Rows
// ----------------------------------------------------------------------------------------

// A result's segment for model m is the little-endian int16 at byte 4m of `segments`
// (EncodeSegments in sql_store.cc): compared in SQL, so a segment is counted or listed without
// decoding every result. ?1 run id, ?2 = 4m + 1 (substr is 1-based), ?3 the two bytes.
constexpr std::string_view kInSegment = "s.run_id = ?1 AND substr(s.segments, ?2, 2) = ?3";

std::string SegmentBytes(int64_t segment) {
  const auto bits = static_cast<uint16_t>(static_cast<int16_t>(segment));
  return {static_cast<char>(bits & 0xff), static_cast<char>(bits >> 8)};
}

struct SortSpec {
  std::string expr;
  bool text = false;      // text (else integer)
  bool nullable = false;  // only _lastUpdated
  bool descending = false;
};

// A row's values of the sort keys, selected as columns first_column, first_column + 1, …: what
// the next page's cursor starts after.
std::vector<SortCell> SortValuesOf(const SqlRow& row, int first_column,
                                   const std::vector<SortSpec>& sort) {
  std::vector<SortCell> values;
  for (size_t i = 0; i < sort.size(); ++i) {
    const int column = first_column + static_cast<int>(i);
    if (row.IsNull(column)) {
      values.emplace_back(std::monostate{});
    } else if (sort[i].text) {
      values.emplace_back(std::string(row.Text(column)));
    } else {
      values.emplace_back(row.Int(column));
    }
  }
  return values;
}

int CountColumns(std::string_view list) {
  return static_cast<int>(std::count(list.begin(), list.end(), ',')) + 1;
}

}  // namespace

// What a search runs: everything but the keyset condition and the limit.
struct SqlStore::SearchPlan {
  const TypeInfo* type = nullptr;
  std::string select;  // "SELECT … FROM … "
  std::string count_from;
  Sql where;  // conditions (and their parameters), AND-ed
  std::vector<std::string> conditions;
  std::vector<SortSpec> sort;
  int columns = 0;  // before the sort values
};

namespace {

// The version columns (current version id and lastUpdated) of a writable typed type.
std::string VersionJoin(const TypeInfo& t) {
  const std::string type = "'" + std::string(t.name) + "'";
  return " LEFT JOIN resource_versions v ON v.resource_type = " + type +
         " AND v.id = " + std::string(t.id) +
         " AND v.version_id = (SELECT MAX(m.version_id) FROM resource_versions m"
         " WHERE m.resource_type = " +
         type + " AND m.id = " + std::string(t.id) + ")";
}

std::string RiskId(Dialect dialect) {
  std::string id = "(CAST(s.run_id AS TEXT) || '-' || CAST(s.patient_key AS TEXT))";
  if (dialect == Dialect::kPostgres) id += " COLLATE \"C\"";
  return id;
}

std::string RiskColumns() { return "s.run_id, " + std::string(kResultColumns) + ", p.id, p.key"; }

std::string IdExpr(const TypeInfo& t, Dialect dialect) {
  if (t.table == Table::kRisk) return RiskId(dialect);
  if (t.table == Table::kConsent && dialect == Dialect::kPostgres)
    return std::string(t.id) + " COLLATE \"C\"";
  return std::string(t.id);
}

// meta.lastUpdated of a row. A Consent's is when its decision was recorded: create records it
// and every update records the new decision at the version's lastUpdated (PutResource), so the
// two are the same instant, and a consent never updated has one too.
std::string LastUpdatedExpr(const TypeInfo& t) {
  if (t.table == Table::kConsent) return "k.recorded_at_ms";
  return t.writable ? "v.last_updated_ms" : "CAST(NULL AS BIGINT)";
}

// The version columns after a typed type's own: version id, lastUpdated, and the client's
// document with its rendering hash (StoredDocument; NULL where the text is a rendering).
constexpr int kVersionColumns = 4;

// The whole SELECT (columns, then the kVersionColumns) for a typed type.
std::string SelectSql(const TypeInfo& t, Dialect dialect, int& columns) {
  std::string cols = t.table == Table::kRisk ? RiskColumns() : std::string(t.columns);
  columns = CountColumns(cols) + kVersionColumns;
  std::string sql = "SELECT " + cols;
  if (t.writable) {
    sql += ", v.version_id, " + LastUpdatedExpr(t) +
           ", CASE WHEN v.rendering_hash IS NULL THEN NULL ELSE v.json END, v.rendering_hash"
           " FROM " +
           std::string(t.from) + VersionJoin(t);
  } else {
    sql += ", NULL, NULL, NULL, NULL FROM " + std::string(t.from);
  }
  (void)dialect;
  return sql;
}

struct DecodeContext {
  std::unordered_map<int64_t, StratificationRun> runs;  // RiskAssessment rows
};

Result<FoundResource> DecodeRow(const TypeInfo& t, const SqlRow& row, int columns,
                                const DecodeContext& context) {
  FoundResource found;
  found.resource_type = std::string(t.name);
  const int meta = columns - kVersionColumns;
  if (!row.IsNull(meta)) found.meta.version_id = row.Int(meta);
  if (!row.IsNull(meta + 1)) found.meta.last_updated_ms = row.Int(meta + 1);
  if (!row.IsNull(meta + 3))
    found.document = StoredDocument{std::string(row.Text(meta + 2)), row.Int(meta + 3)};
  switch (t.table) {
    case Table::kPractice: {
      Practice p{std::string(row.Text(0)), std::string(row.Text(1)), std::string(row.Text(2)),
                 std::string(row.Text(3))};
      found.id = p.id;
      found.record = std::move(p);
      break;
    }
    case Table::kPatient: {
      JU_ASSIGN_OR_RETURN(Patient p, DecodePatient(row));
      found.id = p.id;
      found.patient_key = row.Int(11);
      found.record = std::move(p);
      break;
    }
    case Table::kEvent: {
      JU_ASSIGN_OR_RETURN(ClinicalEvent e, DecodeEvent(row));
      found.id = e.id;
      found.patient_key = row.Int(12);
      found.record = std::move(e);
      break;
    }
    case Table::kActivity: {
      JU_ASSIGN_OR_RETURN(Activity a, DecodeActivity(row));
      found.id = a.id;
      found.patient_key = row.Int(9);
      found.record = std::move(a);
      break;
    }
    case Table::kMedication: {
      JU_ASSIGN_OR_RETURN(Medication m, DecodeMedication(row));
      found.id = m.id;
      found.patient_key = row.Int(7);
      found.record = std::move(m);
      break;
    }
    case Table::kRisk: {
      const int64_t run_id = row.Int(0);
      auto it = context.runs.find(run_id);
      if (it == context.runs.end())
        return Error::Internal("store: a stratification result names run " +
                               std::to_string(run_id) + ", which is not stored");
      RiskResult r;
      r.run = it->second;
      JU_ASSIGN_OR_RETURN(r.result, DecodeResult(row, 1, r.run.models.size()));
      r.patient_id = row.Text(11);
      found.id = std::to_string(run_id) + "-" + std::to_string(r.result.patient_key);
      found.patient_key = row.Int(12);
      found.record = std::move(r);
      break;
    }
    case Table::kConsent: {
      ConsentRecord c;
      c.id = row.Int(0);
      c.consent.patient_key = row.Int(1);
      JU_ASSIGN_OR_RETURN(c.consent.decision,
                          EnumFromOrdinal<ConsentDecision>(row.Int(2), 2, "consents.decision"));
      c.consent.recorded_by = row.Int(3);
      c.consent.recorded_at_ms = row.Int(4);
      c.patient_id = row.Text(5);
      found.id = std::to_string(c.id);
      found.patient_key = row.Int(6);
      found.record = std::move(c);
      break;
    }
    case Table::kGroup:
    case Table::kAudit:
    case Table::kJson:
      return Error::Internal("store: no SQL rows for " + found.resource_type);
  }
  return found;
}

// ---- JSON-only types
// -----------------------------------------------------------------------------

struct JsonFacts {
  std::vector<std::string> names;                                // family, given, text
  std::vector<std::pair<std::string, std::string>> identifiers;  // system, value
  std::string practitioner;                                      // "Practitioner/x"
  std::string organization;                                      // "Organization/x"
};

std::string_view StringOf(simdjson::dom::element element) {
  std::string_view out;
  if (element.get_string().get(out) != simdjson::SUCCESS) return {};
  return out;
}

// The string at `key` of an object; "" if absent or not a string.
std::string_view Field(simdjson::dom::element object, const char* key) {
  simdjson::dom::element value;
  if (object[key].get(value) != simdjson::SUCCESS) return {};
  return StringOf(value);
}

JsonFacts ReadJsonFacts(simdjson::dom::parser& parser, const std::string& json) {
  JsonFacts facts;
  simdjson::dom::element doc;
  if (parser.parse(json).get(doc) != simdjson::SUCCESS) return facts;
  simdjson::dom::array names;
  if (doc["name"].get_array().get(names) == simdjson::SUCCESS) {
    for (simdjson::dom::element name : names) {
      if (auto family = Field(name, "family"); !family.empty()) facts.names.emplace_back(family);
      if (auto text = Field(name, "text"); !text.empty()) facts.names.emplace_back(text);
      simdjson::dom::array given;
      if (name["given"].get_array().get(given) == simdjson::SUCCESS)
        for (simdjson::dom::element g : given)
          if (auto s = StringOf(g); !s.empty()) facts.names.emplace_back(s);
    }
  }
  simdjson::dom::array identifiers;
  if (doc["identifier"].get_array().get(identifiers) == simdjson::SUCCESS) {
    for (simdjson::dom::element id : identifiers)
      facts.identifiers.emplace_back(Field(id, "system"), Field(id, "value"));
  }
  simdjson::dom::element ref;
  if (doc["practitioner"].get(ref) == simdjson::SUCCESS)
    facts.practitioner = Field(ref, "reference");
  if (doc["organization"].get(ref) == simdjson::SUCCESS)
    facts.organization = Field(ref, "reference");
  return facts;
}

}  // namespace

// ---- Migration 4 -----------------------------------------------------------------------------

Status SqlStore::ApplyMigrations(std::string_view backend,
                                 const std::function<Status(const std::string&)>& run_script) {
  int64_t current = 0;
  JU_RETURN_IF_ERROR(Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", {},
                           [&](const SqlRow& row) -> Status {
                             current = row.Int(0);
                             return Ok();
                           }));
  if (current > kLatestSchemaVersion)
    return Error::Conflict(std::string(backend) + ": the database has schema version " +
                           std::to_string(current) + ", newer than this program knows (" +
                           std::to_string(kLatestSchemaVersion) + "); use a newer joinedup");
  for (const Migration& migration : Migrations()) {
    if (migration.version <= current) continue;
    JU_RETURN_IF_ERROR(run_script(MigrationSql(migration, dialect())));
    JU_RETURN_IF_ERROR(FinishMigration(migration.version));
    const SqlParam params[] = {SqlParam::Int(migration.version), SqlParam::Text(migration.name)};
    JU_RETURN_IF_ERROR(Query("INSERT INTO schema_migrations (version, name) VALUES (?1, ?2)",
                             params, [](const SqlRow&) { return Ok(); }));
  }
  return Ok();
}

Status SqlStore::FinishMigration(int version) {
  if (version != 4) return Ok();
  // Fold the names of the patients already stored, a batch at a time with one multi-row
  // UPDATE each (a round trip per row would take minutes on PostgreSQL at a million people).
  constexpr int kBatch = 500;
  int64_t after = std::numeric_limits<int64_t>::min();
  for (;;) {
    struct Row {
      int64_t key;
      std::string family, given;
    };
    std::vector<Row> rows;
    const SqlParam params[] = {SqlParam::Int(after), SqlParam::Int(kBatch)};
    JU_RETURN_IF_ERROR(Query(
        "SELECT key, family_name, given_name FROM patients WHERE key > ?1 ORDER BY key LIMIT ?2",
        params, [&](const SqlRow& row) -> Status {
          rows.push_back({row.Int(0), FoldForSearch(row.Text(1)), FoldForSearch(row.Text(2))});
          return Ok();
        }));
    if (rows.empty()) break;
    // VALUES columns are column1… in both dialects.
    std::string sql =
        "UPDATE patients SET family_folded = u.column2, given_folded = u.column3 FROM (VALUES ";
    std::vector<SqlParam> values;
    for (size_t i = 0; i < rows.size(); ++i) {
      const size_t at = values.size();
      if (i > 0) sql += ", ";
      sql += "(CAST(?" + std::to_string(at + 1) + " AS BIGINT), ?" + std::to_string(at + 2) +
             ", ?" + std::to_string(at + 3) + ")";
      values.push_back(SqlParam::Int(rows[i].key));
      values.push_back(SqlParam::Text(rows[i].family));
      values.push_back(SqlParam::Text(rows[i].given));
    }
    sql += ") AS u WHERE patients.key = u.column1";
    JU_RETURN_IF_ERROR(Query(sql, values, [](const SqlRow&) { return Ok(); }));
    after = rows.back().key;
    if (static_cast<int>(rows.size()) < kBatch) break;
  }
  std::string_view indexes = ResourceIndexesSql();
  while (!indexes.empty()) {
    const size_t end = std::min(indexes.find(';'), indexes.size());
    std::string statement(indexes.substr(0, end));
    indexes.remove_prefix(std::min(end + 1, indexes.size()));
    if (statement.find_first_not_of(" \n") == std::string::npos) continue;
    JU_RETURN_IF_ERROR(Query(statement, {}, [](const SqlRow&) { return Ok(); }));
  }
  return Ok();
}

// ---- Visibility
// ----------------------------------------------------------------------------------

std::string SqlStore::CurrentMembershipSql(std::string_view alias, std::string_view at) {
  const std::string a(alias);
  return "(" + a + ".until_ms IS NULL OR " + a + ".until_ms > " + std::string(at) + ")";
}

std::string SqlStore::VisibilitySql(const Visibility& visibility, std::vector<SqlParam>& params) {
  auto next = [&](SqlParam param) {
    params.push_back(param);
    return "?" + std::to_string(params.size());
  };
  switch (visibility.kind) {
    case Visibility::Kind::kNobody:
      return "0 = 1";
    case Visibility::Kind::kEveryone:
      return "1 = 1";
    case Visibility::Kind::kSelf:
      return "p.key = " + next(SqlParam::Int(visibility.patient_key));
    case Visibility::Kind::kRelationship: {
      // security::Decide: the caller's practice, or a shared care team unless the person's
      // latest consent (by time, then order recorded) declines sharing beyond their practice.
      const std::string org = next(SqlParam::Text(visibility.organisation_id));
      const std::string user = next(SqlParam::Int(visibility.user_id));
      const std::string at = next(SqlParam::Int(visibility.as_at_ms));
      static_assert(static_cast<int>(ConsentDecision::kDeclineBeyondOwnPractice) == 1);
      return "(p.practice_id = " + org +
             " OR (EXISTS (SELECT 1 FROM care_team_patients ctp JOIN care_team_members ctm"
             " ON ctm.care_team_id = ctp.care_team_id WHERE ctp.patient_key = p.key"
             " AND ctm.user_id = " +
             user + " AND " + CurrentMembershipSql("ctp", at) +
             ") AND COALESCE((SELECT ck.decision FROM consents ck WHERE ck.patient_key = p.key"
             " ORDER BY ck.recorded_at_ms DESC, ck.id DESC LIMIT 1), 0) <> 1))";
    }
  }
  return "0 = 1";
}

std::string SqlStore::DocumentVisibilitySql(const Visibility& visibility,
                                            std::vector<SqlParam>& params) {
  std::string person = VisibilitySql(visibility, params);
  if (visibility.kind != Visibility::Kind::kRelationship) return person;
  auto next = [&](SqlParam param) {
    params.push_back(param);
    return "?" + std::to_string(params.size());
  };
  static_assert(static_cast<int>(RecordSharing::kCareRelationship) == 0 &&
                static_cast<int>(RecordSharing::kCareTeam) == 1 &&
                static_cast<int>(RecordSharing::kRegisteredPractice) == 2);
  const std::string user = next(SqlParam::Int(visibility.user_id));
  const std::string at = next(SqlParam::Int(visibility.as_at_ms));
  const std::string org = next(SqlParam::Text(visibility.organisation_id));
  // The person rule has allowed the row already (their practice, or a shared team their
  // consent allows): the record's restriction narrows it.
  return "(" + person + " AND (d.sharing = 0 OR (d.sharing = 1 AND EXISTS (SELECT 1 FROM" +
         " care_team_patients ctp2 JOIN care_team_members ctm2 ON ctm2.care_team_id =" +
         " ctp2.care_team_id WHERE ctp2.patient_key = p.key AND ctm2.user_id = " + user +
         " AND " + CurrentMembershipSql("ctp2", at) + ")) OR (d.sharing = 2 AND p.practice_id = " +
         org + ")))";
}

std::array<std::string, 2> SqlStore::RelationshipArmsSql(const Visibility& visibility,
                                                         std::vector<SqlParam>& params) {
  auto next = [&](SqlParam param) {
    params.push_back(param);
    return "?" + std::to_string(params.size());
  };
  const std::string org = next(SqlParam::Text(visibility.organisation_id));
  const std::string user = next(SqlParam::Int(visibility.user_id));
  const std::string at = next(SqlParam::Int(visibility.as_at_ms));
  static_assert(static_cast<int>(ConsentDecision::kDeclineBeyondOwnPractice) == 1);
  return {"p.practice_id = " + org,
          "p.key IN (SELECT ctp.patient_key FROM care_team_members ctm JOIN care_team_patients"
          " ctp ON ctp.care_team_id = ctm.care_team_id WHERE ctm.user_id = " +
              user + " AND " + CurrentMembershipSql("ctp", at) + ") AND (p.practice_id IS NULL OR p.practice_id <> " + org +
              ") AND COALESCE((SELECT ck.decision FROM consents ck WHERE ck.patient_key = p.key"
              " ORDER BY ck.recorded_at_ms DESC, ck.id DESC LIMIT 1), 0) <> 1"};
}

namespace {

std::string VisibilityCondition(const TypeInfo& t, const Visibility& visibility, Sql& sql) {
  if (!t.person) return "1 = 1";
  return SqlStore::VisibilitySql(visibility, sql.params);
}

}  // namespace

// ---- Reading one type's rows -----------------------------------------------------------------

Result<std::vector<FoundResource>> SqlStore::LoadRows(std::string_view resource_type,
                                                      std::string_view where,
                                                      std::span<const SqlParam> params,
                                                      std::string_view order_limit) {
  const TypeInfo* t = FindType(resource_type);
  if (t == nullptr || t->from.empty()) return Error::Internal("store: no rows for type");
  DecodeContext context;
  if (t->table == Table::kRisk) {
    JU_ASSIGN_OR_RETURN(std::vector<StratificationRun> runs, Runs());
    for (StratificationRun& run : runs) context.runs.emplace(run.id, std::move(run));
  }
  int columns = 0;
  std::string sql = SelectSql(*t, dialect(), columns);
  sql += " WHERE " + std::string(t->base) + " AND (" + std::string(where) + ") ";
  sql += order_limit;
  std::vector<FoundResource> out;
  JU_RETURN_IF_ERROR(Query(sql, params, [&](const SqlRow& row) -> Status {
    JU_ASSIGN_OR_RETURN(FoundResource found, DecodeRow(*t, row, columns, context));
    out.push_back(std::move(found));
    return Ok();
  }));
  return out;
}

Result<int64_t> SqlStore::SegmentMembers(const StratificationRun& run, int model, int segment) {
  const auto key = std::make_tuple(run.id, run.created_at, model);
  const std::string bytes = SegmentBytes(segment);
  {
    std::lock_guard lock(shared_->segment_counts_mutex);
    if (auto it = shared_->segment_counts.find(key); it != shared_->segment_counts.end()) {
      auto count = it->second.find(bytes);
      return count == it->second.end() ? 0 : count->second;
    }
  }
  std::map<std::string, int64_t> counts;
  const SqlParam params[] = {SqlParam::Int(run.id), SqlParam::Int(4 * int64_t{model} + 1)};
  JU_RETURN_IF_ERROR(
      Query("SELECT substr(s.segments, ?2, 2), COUNT(*) FROM stratification_results s"
            " WHERE s.run_id = ?1 GROUP BY 1",
            params, [&](const SqlRow& row) -> Status {
              counts.emplace(std::string(row.Blob(0)), row.Int(1));
              return Ok();
            }));
  auto found = counts.find(bytes);
  const int64_t members = found == counts.end() ? 0 : found->second;
  std::lock_guard lock(shared_->segment_counts_mutex);
  shared_->segment_counts.emplace(key, std::move(counts));
  return members;
}

Result<std::vector<FoundResource>> SqlStore::CurrentJsonResources(std::string_view resource_type) {
  std::vector<FoundResource> out;
  const SqlParam param = SqlParam::Text(resource_type);
  JU_RETURN_IF_ERROR(
      Query("SELECT v.id, v.version_id, v.last_updated_ms, v.json FROM resource_versions v"
            " WHERE v.resource_type = ?1 AND v.version_id = (SELECT MAX(m.version_id) FROM"
            " resource_versions m WHERE m.resource_type = v.resource_type AND m.id = v.id)"
            " ORDER BY v.id",
            {&param, 1}, [&](const SqlRow& row) -> Status {
              FoundResource& found = out.emplace_back();
              found.resource_type = std::string(resource_type);
              found.id = row.Text(0);
              found.meta.version_id = row.Int(1);
              if (!row.IsNull(2)) found.meta.last_updated_ms = row.Int(2);
              found.record = ResourceJson{std::string(row.Text(3))};
              return Ok();
            }));
  return out;
}

Result<std::optional<ResourceMeta>> SqlStore::CurrentMeta(std::string_view resource_type,
                                                          std::string_view id) {
  std::optional<ResourceMeta> meta;
  const SqlParam params[] = {SqlParam::Text(resource_type), SqlParam::Text(id)};
  JU_RETURN_IF_ERROR(
      Query("SELECT version_id, last_updated_ms FROM resource_versions WHERE resource_type = ?1"
            " AND id = ?2 ORDER BY version_id DESC LIMIT 1",
            params, [&](const SqlRow& row) -> Status {
              meta = ResourceMeta{row.Int(0), std::nullopt};
              if (!row.IsNull(1)) meta->last_updated_ms = row.Int(1);
              return Ok();
            }));
  return meta;
}

Result<std::optional<FoundResource>> SqlStore::FindResource(std::string_view resource_type,
                                                            std::string_view id) {
  const TypeInfo* t = FindType(resource_type);
  std::optional<FoundResource> none;
  if (id.empty() || id.size() > 64) return none;
  if (resources::IsKeptAsDocument(resource_type)) {
    const SqlParam param = SqlParam::Text(id);
    JU_ASSIGN_OR_RETURN(auto rows, LoadDocuments(resource_type, "d.id = ?1", {&param, 1}, ""));
    if (rows.empty()) return none;
    return std::optional(std::move(rows.front()));
  }
  if (t == nullptr) return none;
  switch (t->table) {
    case Table::kJson: {
      const SqlParam params[] = {SqlParam::Text(resource_type), SqlParam::Text(id)};
      JU_RETURN_IF_ERROR(
          Query("SELECT version_id, last_updated_ms, json FROM resource_versions WHERE"
                " resource_type = ?1 AND id = ?2 ORDER BY version_id DESC LIMIT 1",
                params, [&](const SqlRow& row) -> Status {
                  FoundResource found;
                  found.resource_type = std::string(resource_type);
                  found.id = std::string(id);
                  found.meta.version_id = row.Int(0);
                  if (!row.IsNull(1)) found.meta.last_updated_ms = row.Int(1);
                  found.record = ResourceJson{std::string(row.Text(2))};
                  none = std::move(found);
                  return Ok();
                }));
      return none;
    }
    case Table::kAudit: {
      const std::optional<int64_t> sequence = ParseKey(id);
      if (!sequence) return none;
      const SqlParam param = SqlParam::Int(*sequence);
      JU_ASSIGN_OR_RETURN(std::vector<AuditEvent> events,
                          LoadAuditEvents("WHERE e.sequence = ?1", {&param, 1}));
      if (events.empty()) return none;
      FoundResource found;
      found.resource_type = "AuditEvent";
      found.id = std::string(id);
      found.record = std::move(events.front());
      return std::optional(std::move(found));
    }
    case Table::kGroup: {
      // "<run>-<model>-<segment>", the segment possibly -1 (kNoSegment).
      const size_t first = id.find('-');
      if (first == std::string_view::npos) return none;
      const size_t second = id.find('-', first + 1);
      if (second == std::string_view::npos) return none;
      const auto run_id = ParseKey(id.substr(0, first));
      const auto model = ParseKey(id.substr(first + 1, second - first - 1));
      std::string_view segment_text = id.substr(second + 1);
      const bool negative = segment_text.starts_with('-');
      if (negative) segment_text.remove_prefix(1);
      auto segment = ParseKey(segment_text);
      if (!run_id || !model || !segment || (negative && *segment != 1)) return none;
      const int64_t segment_index = negative ? -*segment : *segment;
      JU_ASSIGN_OR_RETURN(std::optional<StratificationRun> run, FindRun(*run_id));
      if (!run || *model >= static_cast<int64_t>(run->models.size())) return none;
      const SegmentationModelInfo& info = run->models[static_cast<size_t>(*model)];
      if (segment_index < kNoSegment || segment_index >= static_cast<int64_t>(info.segments.size()))
        return none;
      Segment s;
      s.model_index = static_cast<int>(*model);
      s.segment_index = static_cast<int>(segment_index);
      s.label = segment_index == kNoSegment ? std::string("no segment")
                                            : info.segments[static_cast<size_t>(segment_index)];
      JU_ASSIGN_OR_RETURN(s.members, SegmentMembers(*run, s.model_index, s.segment_index));
      s.run = std::move(*run);
      FoundResource found;
      found.resource_type = "Group";
      found.id = std::string(id);
      found.record = std::move(s);
      return std::optional(std::move(found));
    }
    case Table::kRisk: {
      const size_t dash = id.find('-');
      if (dash == std::string_view::npos) return none;
      const auto run_id = ParseKey(id.substr(0, dash));
      const auto key = ParseKey(id.substr(dash + 1));
      if (!run_id || !key) return none;
      const SqlParam params[] = {SqlParam::Int(*run_id), SqlParam::Int(*key)};
      JU_ASSIGN_OR_RETURN(
          auto rows, LoadRows(resource_type, "s.run_id = ?1 AND s.patient_key = ?2", params, ""));
      if (rows.empty()) return none;
      return std::optional(std::move(rows.front()));
    }
    case Table::kConsent: {
      const std::optional<int64_t> key = ParseKey(id);
      if (!key) return none;
      const SqlParam param = SqlParam::Int(*key);
      JU_ASSIGN_OR_RETURN(auto rows, LoadRows(resource_type, "k.id = ?1", {&param, 1}, ""));
      if (rows.empty()) return none;
      return std::optional(std::move(rows.front()));
    }
    default: {
      const SqlParam param = SqlParam::Text(id);
      JU_ASSIGN_OR_RETURN(auto rows,
                          LoadRows(resource_type, std::string(t->id) + " = ?1", {&param, 1}, ""));
      if (rows.empty()) return none;
      return std::optional(std::move(rows.front()));
    }
  }
}

Result<std::vector<ResourceVersion>> SqlStore::ResourceHistory(std::string_view resource_type,
                                                               std::string_view id) {
  std::vector<ResourceVersion> versions;
  const SqlParam params[] = {SqlParam::Text(resource_type), SqlParam::Text(id)};
  JU_RETURN_IF_ERROR(Query(
      "SELECT version_id, last_updated_ms, json FROM resource_versions WHERE resource_type = ?1"
      " AND id = ?2 ORDER BY version_id DESC",
      params, [&](const SqlRow& row) -> Status {
        ResourceVersion& v = versions.emplace_back();
        v.version_id = row.Int(0);
        if (!row.IsNull(1)) v.last_updated_ms = row.Int(1);
        v.json = row.Text(2);
        return Ok();
      }));
  if (!versions.empty()) return versions;
  // Never written through the API: its one version is the record as imported, whose text the
  // store does not keep (json "": the API renders the current record).
  JU_ASSIGN_OR_RETURN(std::optional<FoundResource> found, FindResource(resource_type, id));
  if (found) versions.push_back(ResourceVersion{1, found->meta.last_updated_ms, ""});
  return versions;
}

// ---- Search
// --------------------------------------------------------------------------------------

namespace {

// The SQL for one filter (its values OR-ed), or kInvalidInput naming the parameter.
Result<std::string> FilterSql(const TypeInfo& t, const search::Filter& filter, Dialect dialect,
                              Sql& sql) {
  const std::string_view name = filter.param->name;
  std::vector<std::string> any;
  auto invalid = [&]() -> Error {
    return Error::Invalid(std::string(name) + ": not supported for " + std::string(t.name));
  };
  for (const search::SearchValue& value : filter.any_of) {
    if (name == "_id") {
      const auto* token = std::get_if<search::TokenValue>(&value);
      if (token == nullptr || !token->code) return invalid();
      any.push_back(IdExpr(t, dialect) + " = " + sql.Bind(*token->code));
      continue;
    }
    if (name == "_lastUpdated") {
      const auto* date = std::get_if<search::DateValue>(&value);
      if (date == nullptr) return invalid();
      any.push_back(t.writable ? LastUpdatedSql(*date, sql, LastUpdatedExpr(t)) : "0 = 1");
      continue;
    }
    if (const auto* ref = std::get_if<search::ReferenceValue>(&value)) {
      if (t.table == Table::kPatient &&
          (name == "general-practitioner" || name == "organization")) {
        any.push_back("p.practice_id = " + sql.Bind(ref->id));
      } else if (t.person && t.table != Table::kPatient &&
                 (name == "subject" || name == "patient")) {
        any.push_back("p.id = " + sql.Bind(ref->id));
      } else {
        return invalid();
      }
      continue;
    }
    if (const auto* date = std::get_if<search::DateValue>(&value)) {
      if (t.table == Table::kPatient && name == "birthdate") {
        any.push_back(DayColumnSql(*date, "p.birth_date", sql));
      } else if (t.table == Table::kEvent && (name == "onset-date" || name == "date")) {
        any.push_back(DayColumnSql(*date, "e.date", sql));
      } else if (t.table == Table::kActivity && name == "date") {
        any.push_back(ActivityPeriodSql(*date, sql));
      } else if (t.table == Table::kConsent && name == "date") {
        any.push_back(LastUpdatedSql(*date, sql, "k.recorded_at_ms"));
      } else if (t.table == Table::kMedication && name == "authoredon") {
        any.push_back(DayColumnSql(*date, "m.start_date", sql));
      } else {
        return invalid();
      }
      continue;
    }
    if (const auto* text = std::get_if<search::StringValue>(&value)) {
      using Columns = std::pair<std::string_view, std::string_view>;
      static constexpr Columns kFamily[] = {{"p.family_folded", "p.family_name"}};
      static constexpr Columns kGiven[] = {{"p.given_folded", "p.given_name"}};
      static constexpr Columns kName[] = {{"p.family_folded", "p.family_name"},
                                          {"p.given_folded", "p.given_name"}};
      if (t.table != Table::kPatient) return invalid();
      std::span<const Columns> columns = name == "family"  ? std::span<const Columns>(kFamily)
                                         : name == "given" ? std::span<const Columns>(kGiven)
                                         : name == "name"  ? std::span<const Columns>(kName)
                                                           : std::span<const Columns>();
      if (columns.empty()) return invalid();
      any.push_back(StringSql(*text, filter.modifier, columns, dialect, sql));
      continue;
    }
    const auto& token = std::get<search::TokenValue>(value);
    if (t.table == Table::kPatient && name == "identifier") {
      const std::string placeholder = "p.source_identifier <> 'Patient/' || p.id";
      if (token.system && *token.system == kNhsNumberSystem) {
        any.push_back(token.code ? "p.nhs_number = " + sql.Bind(*token.code)
                                 : std::string("p.nhs_number IS NOT NULL"));
      } else if (token.system && token.system->empty()) {
        // "|value": an identifier with no system, i.e. a bare source identifier.
        if (token.code->find('|') != std::string::npos) {
          any.push_back("0 = 1");
        } else {
          any.push_back("(p.nhs_number IS NULL AND p.source_identifier = " + sql.Bind(*token.code) +
                        " AND " + placeholder + ")");
        }
      } else if (token.system) {
        if (token.system->find('|') != std::string::npos) {
          any.push_back("0 = 1");
        } else if (token.code) {
          any.push_back("(p.nhs_number IS NULL AND p.source_identifier = " +
                        sql.Bind(*token.system + "|" + *token.code) + ")");
        } else {
          any.push_back("(p.nhs_number IS NULL AND " +
                        StartsWithSql("p.source_identifier", *token.system + "|", sql) + ")");
        }
      } else {
        // Any system: the NHS number, a bare source identifier, or the value after the
        // first '|' of a "system|value" one.
        const std::string code = sql.Bind(*token.code);
        const std::string bar = dialect == Dialect::kPostgres ? "strpos(p.source_identifier, '|')"
                                                              : "instr(p.source_identifier, '|')";
        any.push_back("(p.nhs_number = " + code +
                      " OR (p.nhs_number IS NULL AND ((p.source_identifier = " + code + " AND " +
                      placeholder + ") OR (" + bar + " > 0 AND substr(p.source_identifier, " + bar +
                      " + 1) = " + code + "))))");
      }
      continue;
    }
    if (t.table == Table::kPatient && name == "gender") {
      if ((token.system && *token.system != kGenderSystem) || !token.code) {
        any.push_back(token.code ? "0 = 1" : "1 = 1");
        continue;
      }
      const std::optional<Sex> sex = SexFromCode(*token.code);
      any.push_back(sex ? "p.sex = " + sql.BindInt(Ordinal(*sex)) : std::string("0 = 1"));
      continue;
    }
    if ((t.table == Table::kEvent || t.table == Table::kMedication) && name == "code") {
      std::optional<CodeSystem> system;
      if (token.system) {
        system = CodeSystemFromUri(*token.system);
        if (!system) {
          any.push_back("0 = 1");
          continue;
        }
      }
      std::vector<std::string> where;
      if (system) where.push_back("cc.code_system = " + sql.BindInt(Ordinal(*system)));
      if (token.code) where.push_back("cc.code = " + sql.Bind(*token.code));
      const std::string_view concept_column =
          t.table == Table::kEvent ? "e.concept_key" : "m.concept_key";
      any.push_back(std::string(concept_column) + " IN (SELECT cc.key FROM concepts cc WHERE " +
                    Join(where, " AND ") + ")");
      continue;
    }
    if (t.table == Table::kActivity && name == "class") {
      if (token.system && *token.system != kActCodeSystem) {
        any.push_back("0 = 1");
        continue;
      }
      std::vector<std::string> types;
      for (int i = 0; i < kActivityTypeCount; ++i)
        if (!kEncounterClass[i].empty() && (!token.code || kEncounterClass[i] == *token.code))
          types.push_back(std::to_string(i));
      any.push_back(types.empty() ? std::string("0 = 1") : "a.type IN (" + Join(types, ", ") + ")");
      continue;
    }
    return invalid();
  }
  if (any.empty()) return std::string("1 = 1");
  return "(" + Join(any, " OR ") + ")";
}

Result<SortSpec> SortSql(const TypeInfo& t, const search::SortKey& key, Dialect dialect) {
  SortSpec spec;
  spec.descending = key.descending;
  if (key.name == "_id") {
    spec.expr = IdExpr(t, dialect);
    spec.text = true;
  } else if (key.name == "_lastUpdated") {
    spec.expr = LastUpdatedExpr(t);
    spec.nullable = t.table != Table::kConsent;  // recorded_at_ms is NOT NULL
  } else if (t.table == Table::kPatient && key.name == "family") {
    spec.expr = "p.family_folded";
    spec.text = true;
  } else if (t.table == Table::kPatient && key.name == "given") {
    spec.expr = "p.given_folded";
    spec.text = true;
  } else if (t.table == Table::kPatient && key.name == "birthdate") {
    spec.expr = "p.birth_date";
  } else if (t.table == Table::kEvent && (key.name == "onset-date" || key.name == "date")) {
    spec.expr = "e.date";
  } else if (t.table == Table::kActivity && key.name == "date") {
    spec.expr = "a.start_date";
  } else if (t.table == Table::kConsent && key.name == "date") {
    spec.expr = "k.recorded_at_ms";
  } else if (t.table == Table::kMedication && key.name == "authoredon") {
    spec.expr = "m.start_date";
  } else {
    return Error::Invalid("_sort: " + std::string(key.name) + " is not a sort key for " +
                          std::string(t.name));
  }
  return spec;
}

Status CheckCursor(const search::PageCursor& after, const std::vector<SortSpec>& sort) {
  if (after.after.size() != sort.size())
    return Error::Invalid("_cursor: does not fit this search's sort; start from the first page");
  for (size_t i = 0; i < sort.size(); ++i) {
    const search::SortValue& v = after.after[i];
    const bool ok = std::holds_alternative<std::monostate>(v) ||
                    (sort[i].text ? std::holds_alternative<std::string>(v)
                                  : std::holds_alternative<int64_t>(v));
    if (!ok)
      return Error::Invalid("_cursor: does not fit this search's sort; start from the first page");
  }
  return Ok();
}

// Rows after the cursor in ORDER BY order (see the file comment for NULLs).
std::string KeysetSql(const std::vector<SortSpec>& sort, const std::string& id,
                      const search::PageCursor& after, Sql& sql) {
  auto bind = [&](const search::SortValue& v) {
    if (const auto* s = std::get_if<std::string>(&v)) return sql.Bind(*s);
    return sql.BindInt(std::get<int64_t>(v));
  };
  // All ascending, no NULLs: one row-value comparison, which both planners serve from a
  // (key…, id) index.
  const bool simple =
      std::all_of(sort.begin(), sort.end(),
                  [](const SortSpec& s) { return !s.descending && !s.nullable; }) &&
      std::none_of(after.after.begin(), after.after.end(), [](const search::SortValue& v) {
        return std::holds_alternative<std::monostate>(v);
      });
  if (simple) {
    if (sort.empty()) return id + " > " + sql.Bind(after.after_id);
    std::vector<std::string> columns, values;
    for (size_t i = 0; i < sort.size(); ++i) {
      columns.push_back(sort[i].expr);
      values.push_back(bind(after.after[i]));
    }
    columns.push_back(id);
    values.push_back(sql.Bind(after.after_id));
    return "((" + Join(columns, ", ") + ") > (" + Join(values, ", ") + "))";
  }
  std::vector<std::string> any;
  std::vector<std::string> equal;  // keys before i equal to the cursor's
  for (size_t i = 0; i < sort.size(); ++i) {
    const SortSpec& s = sort[i];
    const search::SortValue& v = after.after[i];
    const bool null = std::holds_alternative<std::monostate>(v);
    std::string later;
    if (!s.descending) {
      later = null ? s.expr + " IS NOT NULL" : s.expr + " > " + bind(v);
    } else {
      later = null ? "0 = 1" : "(" + s.expr + " < " + bind(v) + " OR " + s.expr + " IS NULL)";
    }
    std::vector<std::string> term = equal;
    term.push_back(later);
    any.push_back("(" + Join(term, " AND ") + ")");
    equal.push_back(null ? s.expr + " IS NULL" : s.expr + " = " + bind(v));
  }
  std::vector<std::string> last = equal;
  last.push_back(id + " > " + sql.Bind(after.after_id));
  any.push_back("(" + Join(last, " AND ") + ")");
  return "(" + Join(any, " OR ") + ")";
}

// `aliased`: by the result columns ju_s<i> and ju_id, as a compound SELECT must be ordered.
std::string OrderSql(const std::vector<SortSpec>& sort, const std::string& id,
                     bool aliased = false) {
  std::vector<std::string> keys;
  for (size_t i = 0; i < sort.size(); ++i) {
    const SortSpec& s = sort[i];
    std::string key =
        (aliased ? "ju_s" + std::to_string(i) : s.expr) + (s.descending ? " DESC" : " ASC");
    if (s.nullable) key += s.descending ? " NULLS LAST" : " NULLS FIRST";
    keys.push_back(std::move(key));
  }
  keys.push_back((aliased ? std::string("ju_id") : id) + " ASC");
  return " ORDER BY " + Join(keys, ", ");
}

}  // namespace

Result<ResourcePage> SqlStore::SearchResources(const search::SearchRequest& request,
                                               const search::PageCursor* after,
                                               const Visibility& visibility, bool want_total) {
  if (resources::IsKeptAsDocument(request.resource_type))
    return SearchDocuments(request, after, visibility, want_total);
  const TypeInfo* t = FindType(request.resource_type);
  if (t == nullptr || t->table == Table::kGroup || t->table == Table::kAudit)
    return Error::Invalid("resource type " + request.resource_type + " cannot be searched");
  ResourcePage page;
  if (t->table == Table::kJson || t->table == Table::kPractice) {
    JU_ASSIGN_OR_RETURN(page, SearchInMemory(request, after, want_total));
  } else {
    const Dialect d = dialect();
    Sql where;
    std::vector<std::string> conditions{std::string(t->base)};
    bool needs_versions = false;
    bool value_dependent = false;  // see QueryPlannedPerCall
    for (const search::Filter& filter : request.filters) {
      if (filter.param == nullptr) return Error::Invalid("search: a filter names no parameter");
      value_dependent = value_dependent || filter.param->type == search::ParamType::kDate ||
                        filter.param->type == search::ParamType::kString;
      JU_ASSIGN_OR_RETURN(std::string condition, FilterSql(*t, filter, d, where));
      needs_versions = needs_versions || filter.param->name == "_lastUpdated";
      conditions.push_back(std::move(condition));
    }
    // A staff member's relationships, on Patient: two disjoint arms, the caller's
    // practice and the other people on their care teams, each read from its own index
    // (patients_by_practice_and_id; the care team lists) and merged in order. As one OR, the
    // search walked every person in sort order testing each: a narrow search's last page
    // (the one that finds no more) read the whole population.
    // Patients only: for a clinical type the merge wants each arm in its own id order, and
    // SQLite then walks the whole clinical table by id (Condition?subject= went from 3,000 to
    // 2 requests/s) where the single statement looks the person up first.
    std::vector<std::string> arms;
    if (t->table == Table::kPatient && visibility.kind == Visibility::Kind::kRelationship) {
      for (std::string& arm : RelationshipArmsSql(visibility, where.params))
        arms.push_back(std::move(arm));
    } else {
      conditions.push_back(VisibilityCondition(*t, visibility, where));
    }
    // The statement over `conditions` once per arm (or once), `each` writing one arm's SELECT.
    auto over_arms = [&](const std::function<std::string(const std::string& where)>& each,
                         std::string_view join) {
      if (arms.empty()) return each(Join(conditions, " AND "));
      std::vector<std::string> parts;
      for (const std::string& arm : arms)
        parts.push_back(each(Join(conditions, " AND ") + " AND " + arm));
      return Join(parts, join);
    };
    std::vector<SortSpec> sort;
    for (const search::SortKey& key : request.sort) {
      JU_ASSIGN_OR_RETURN(SortSpec spec, SortSql(*t, key, d));
      sort.push_back(std::move(spec));
    }
    const std::string id = IdExpr(*t, d);
    const int count = request.summary_count ? 0 : std::clamp(request.count, 0, search::kMaxCount);

    if (want_total) {
      auto count_where = [&](const std::string& condition) {
        std::string count = "SELECT COUNT(*) FROM " + std::string(t->from);
        if (t->writable && needs_versions) count += VersionJoin(*t);
        return count + " WHERE " + condition;
      };
      // One count, or the arms' counts added up (they are disjoint).
      std::string sql = "SELECT ";
      if (arms.empty()) {
        sql = count_where(Join(conditions, " AND "));
      } else {
        sql +=
            over_arms([&](const std::string& arm) { return "(" + count_where(arm) + ")"; }, " + ");
      }
      auto on_count = [&](const SqlRow& row) -> Status {
        page.total = row.Int(0);
        return Ok();
      };
      JU_RETURN_IF_ERROR(value_dependent ? QueryPlannedPerCall(sql, where.params, on_count)
                                         : Query(sql, where.params, on_count));
    }
    if (count > 0) {
      DecodeContext context;
      if (t->table == Table::kRisk) {
        JU_ASSIGN_OR_RETURN(std::vector<StratificationRun> runs, Runs());
        for (StratificationRun& run : runs) context.runs.emplace(run.id, std::move(run));
      }
      if (after != nullptr) {
        JU_RETURN_IF_ERROR(CheckCursor(*after, sort));
        conditions.push_back(KeysetSql(sort, id, *after, where));
      }
      int columns = 0;
      std::string select = SelectSql(*t, d, columns);
      // Sort values after the version columns, for the next page's cursor (named, and the id
      // too, for a compound SELECT's ORDER BY).
      std::string extra;
      for (size_t i = 0; i < sort.size(); ++i)
        extra += ", " + sort[i].expr + " AS ju_s" + std::to_string(i);
      if (!arms.empty()) extra += ", " + id + " AS ju_id";
      select.insert(select.find(" FROM "), extra);
      std::string sql =
          over_arms([&](const std::string& condition) { return select + " WHERE " + condition; },
                    " UNION ALL ") +
          OrderSql(sort, id, /*aliased=*/!arms.empty()) + " LIMIT " + where.BindInt(count + 1);
      auto on_row = [&](const SqlRow& row) -> Status {
        JU_ASSIGN_OR_RETURN(FoundResource found, DecodeRow(*t, row, columns, context));
        found.sort_values = SortValuesOf(row, columns, sort);
        page.matches.push_back(std::move(found));
        return Ok();
      };
      JU_RETURN_IF_ERROR(value_dependent ? QueryPlannedPerCall(sql, where.params, on_row)
                                         : Query(sql, where.params, on_row));
      if (page.matches.size() > static_cast<size_t>(count)) {
        page.matches.resize(static_cast<size_t>(count));
        page.has_next = true;
      }
    }
  }
  JU_RETURN_IF_ERROR(AddIncludes(request, visibility, page));
  return page;
}

namespace {

// Sort values of an in-memory row, as SortSql would give them.
Result<std::vector<SortCell>> InMemorySortValues(const search::SearchRequest& request,
                                                 const FoundResource& row) {
  std::vector<SortCell> out;
  for (const search::SortKey& key : request.sort) {
    if (key.name == "_id") {
      out.emplace_back(row.id);
    } else if (key.name == "_lastUpdated") {
      if (row.meta.last_updated_ms) {
        out.emplace_back(*row.meta.last_updated_ms);
      } else {
        out.emplace_back(std::monostate{});
      }
    } else if (key.name == "name" && std::holds_alternative<Practice>(row.record)) {
      out.emplace_back(FoldForSearch(std::get<Practice>(row.record).name));
    } else {
      return Error::Invalid("_sort: " + std::string(key.name) + " is not a sort key for " +
                            request.resource_type);
    }
  }
  return out;
}

// <0, 0, >0 as a sorts before, with, after b under one key (NULL first ascending).
int CompareCell(const SortCell& a, const SortCell& b) {
  const bool an = std::holds_alternative<std::monostate>(a);
  const bool bn = std::holds_alternative<std::monostate>(b);
  if (an || bn) return an == bn ? 0 : (an ? -1 : 1);
  if (a.index() != b.index()) return a.index() < b.index() ? -1 : 1;
  if (const auto* s = std::get_if<std::string>(&a)) return s->compare(std::get<std::string>(b));
  const int64_t x = std::get<int64_t>(a), y = std::get<int64_t>(b);
  return x < y ? -1 : (x > y ? 1 : 0);
}

int CompareRows(const search::SearchRequest& request, const std::vector<SortCell>& a,
                std::string_view a_id, const std::vector<SortCell>& b, std::string_view b_id) {
  for (size_t i = 0; i < request.sort.size(); ++i) {
    int c = CompareCell(a[i], b[i]);
    if (request.sort[i].descending) c = -c;
    if (c != 0) return c;
  }
  const int c = a_id.compare(b_id);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

}  // namespace

Result<ResourcePage> SqlStore::SearchInMemory(const search::SearchRequest& request,
                                              const search::PageCursor* after, bool want_total) {
  const TypeInfo* t = FindType(request.resource_type);
  std::vector<FoundResource> rows;
  if (t->table == Table::kPractice) {
    JU_ASSIGN_OR_RETURN(rows, LoadRows("Organization", "1 = 1", {}, ""));
  } else {
    JU_ASSIGN_OR_RETURN(rows, CurrentJsonResources(request.resource_type));
  }
  simdjson::dom::parser parser;
  std::vector<FoundResource> matches;
  for (FoundResource& row : rows) {
    JsonFacts facts;
    if (const auto* json = std::get_if<ResourceJson>(&row.record))
      facts = ReadJsonFacts(parser, json->json);
    const auto* practice = std::get_if<Practice>(&row.record);
    bool all = true;
    for (const search::Filter& filter : request.filters) {
      const std::string_view name = filter.param->name;
      bool any = false;
      for (const search::SearchValue& value : filter.any_of) {
        bool match = false;
        if (name == "_id") {
          const auto& token = std::get<search::TokenValue>(value);
          match = token.code && *token.code == row.id;
        } else if (name == "_lastUpdated") {
          match = LastUpdatedMatches(std::get<search::DateValue>(value), row.meta.last_updated_ms);
        } else if (name == "name") {
          const auto& text = std::get<search::StringValue>(value);
          if (practice != nullptr) {
            match = StringMatches(text, filter.modifier, practice->name);
          } else {
            for (const std::string& n : facts.names)
              match = match || StringMatches(text, filter.modifier, n);
          }
        } else if (name == "identifier") {
          const auto& token = std::get<search::TokenValue>(value);
          if (practice != nullptr) {
            match = TokenMatches(token, kOdsSystem, practice->id);
          } else {
            for (const auto& [system, code] : facts.identifiers)
              match = match || TokenMatches(token, system, code);
          }
        } else if (name == "practitioner" || name == "organization") {
          const auto& ref = std::get<search::ReferenceValue>(value);
          const std::string& target =
              name == "practitioner" ? facts.practitioner : facts.organization;
          match = target == ref.type + "/" + ref.id;
        } else {
          return Error::Invalid(std::string(name) + ": not supported for " + request.resource_type);
        }
        if (match) {
          any = true;
          break;
        }
      }
      if (!any) {
        all = false;
        break;
      }
    }
    if (!all) continue;
    JU_ASSIGN_OR_RETURN(row.sort_values, InMemorySortValues(request, row));
    matches.push_back(std::move(row));
  }
  std::sort(matches.begin(), matches.end(), [&](const FoundResource& a, const FoundResource& b) {
    return CompareRows(request, a.sort_values, a.id, b.sort_values, b.id) < 0;
  });
  ResourcePage page;
  if (want_total) page.total = static_cast<int64_t>(matches.size());
  const int count = request.summary_count ? 0 : std::clamp(request.count, 0, search::kMaxCount);
  if (count == 0) return page;
  size_t first = 0;
  if (after != nullptr) {
    if (after->after.size() != request.sort.size())
      return Error::Invalid("_cursor: does not fit this search's sort; start from the first page");
    while (first < matches.size() &&
           CompareRows(request, matches[first].sort_values, matches[first].id, after->after,
                       after->after_id) <= 0)
      ++first;
  }
  for (size_t i = first; i < matches.size(); ++i) {
    if (page.matches.size() == static_cast<size_t>(count)) {
      page.has_next = true;
      break;
    }
    page.matches.push_back(std::move(matches[i]));
  }
  return page;
}

// ---- _include and _revinclude ----------------------------------------------------------------

Status SqlStore::AddIncludes(const search::SearchRequest& request, const Visibility& visibility,
                             ResourcePage& page) {
  if (page.matches.empty() || (request.includes.empty() && request.revincludes.empty()))
    return Ok();
  std::set<std::pair<std::string, std::string>> seen;
  for (const FoundResource& m : page.matches) seen.emplace(m.resource_type, m.id);
  auto add = [&](std::vector<FoundResource> rows) {
    for (FoundResource& row : rows)
      if (seen.emplace(row.resource_type, row.id).second) page.included.push_back(std::move(row));
  };
  // Rows of `type` whose `column` is in `values` (one IN query), visible ones only.
  auto rows_in = [&](std::string_view type, std::string_view column,
                     const std::vector<SqlParam>& values,
                     size_t limit) -> Result<std::vector<FoundResource>> {
    if (values.empty() || limit == 0) return std::vector<FoundResource>();
    const TypeInfo* t = FindType(type);
    std::vector<SqlParam> params = values;
    std::vector<std::string> marks;
    for (size_t i = 0; i < values.size(); ++i) marks.push_back("?" + std::to_string(i + 1));
    std::string where = std::string(column) + " IN (" + Join(marks, ", ") + ")";
    if (t->person) where += " AND " + VisibilitySql(visibility, params);
    std::string order;
    if (limit != SIZE_MAX) {
      params.push_back(SqlParam::Int(static_cast<int64_t>(limit)));
      order = " ORDER BY " + IdExpr(*t, dialect()) + " LIMIT ?" + std::to_string(params.size());
    }
    return LoadRows(type, where, params, order);
  };
  // JSON rows of `type` whose reference `field` names one of `targets` ("Type/id").
  auto json_referring = [&](std::string_view type, std::string_view field,
                            const std::set<std::string>& targets,
                            size_t limit) -> Result<std::vector<FoundResource>> {
    JU_ASSIGN_OR_RETURN(std::vector<FoundResource> rows, CurrentJsonResources(type));
    simdjson::dom::parser parser;
    std::vector<FoundResource> out;
    for (FoundResource& row : rows) {
      if (out.size() >= limit) break;
      const JsonFacts facts = ReadJsonFacts(parser, std::get<ResourceJson>(row.record).json);
      const std::string& ref = field == "practitioner" ? facts.practitioner : facts.organization;
      if (targets.count(ref) != 0) out.push_back(std::move(row));
    }
    return out;
  };

  // _include from a document type to anything but its person: the targets' ids from the index
  // rows of the page's matches, then the targets — a person's record only where the caller may
  // see that person.
  auto document_targets =
      [&](const search::IncludeDef& include) -> Result<std::vector<FoundResource>> {
    std::vector<SqlParam> params;
    std::vector<std::string> marks;
    for (const FoundResource& m : page.matches) {
      params.push_back(SqlParam::Text(m.id));
      marks.push_back("?" + std::to_string(params.size()));
    }
    const size_t first = params.size();
    params.push_back(SqlParam::Text(include.source_type));
    params.push_back(SqlParam::Text(include.param));
    params.push_back(SqlParam::Text(include.target_type));
    std::vector<std::string> ids;
    JU_RETURN_IF_ERROR(
        Query("SELECT DISTINCT i.value FROM document_index i WHERE i.resource_type = ?" +
                  std::to_string(first + 1) + " AND i.param = ?" + std::to_string(first + 2) +
                  " AND i.qualifier = ?" + std::to_string(first + 3) + " AND i.id IN (" +
                  Join(marks, ", ") + ") ORDER BY i.value",
              params, [&](const SqlRow& row) -> Status {
                ids.emplace_back(row.Text(0));
                return Ok();
              }));
    if (ids.empty()) return std::vector<FoundResource>();
    if (include.target_type == "Practitioner") {  // kept whole in resource_versions
      const std::set<std::string> wanted(ids.begin(), ids.end());
      JU_ASSIGN_OR_RETURN(std::vector<FoundResource> rows, CurrentJsonResources("Practitioner"));
      std::vector<FoundResource> out;
      for (FoundResource& row : rows)
        if (wanted.count(row.id) != 0) out.push_back(std::move(row));
      return out;
    }
    const resources::ResourceTypeDef* target = resources::FindType(include.target_type);
    if (target == nullptr || !target->kept_as_document)
      return Error::Invalid("_include: " + include.ToString() + " is not supported");
    std::vector<SqlParam> target_params;
    std::vector<std::string> target_marks;
    for (const std::string& id : ids) {
      target_params.push_back(SqlParam::Text(id));
      target_marks.push_back("?" + std::to_string(target_params.size()));
    }
    std::string where = "d.id IN (" + Join(target_marks, ", ") + ")";
    if (target->IsPersonBound())
      where += " AND " + DocumentVisibilitySql(visibility, target_params);
    return LoadDocuments(target->name, where, target_params, " ORDER BY d.id");
  };

  for (const search::IncludeDef* include : request.includes) {
    if (resources::IsKeptAsDocument(include->source_type) && include->target_type != "Patient") {
      JU_ASSIGN_OR_RETURN(auto rows, document_targets(*include));
      add(std::move(rows));
      continue;
    }
    if (include->target_type == "Patient") {
      std::set<int64_t> keys;
      for (const FoundResource& m : page.matches)
        if (m.patient_key) keys.insert(*m.patient_key);
      std::vector<SqlParam> values;
      for (int64_t key : keys) values.push_back(SqlParam::Int(key));
      JU_ASSIGN_OR_RETURN(auto rows, rows_in("Patient", "p.key", values, SIZE_MAX));
      add(std::move(rows));
    } else if (include->target_type == "Organization") {
      std::set<std::string> ids;
      simdjson::dom::parser parser;
      for (const FoundResource& m : page.matches) {
        if (const auto* p = std::get_if<Patient>(&m.record)) {
          if (!p->practice_id.empty()) ids.insert(p->practice_id);
        } else if (const auto* json = std::get_if<ResourceJson>(&m.record)) {
          const JsonFacts facts = ReadJsonFacts(parser, json->json);
          if (facts.organization.starts_with("Organization/"))
            ids.insert(facts.organization.substr(13));
        }
      }
      std::vector<SqlParam> values;
      for (const std::string& id : ids) values.push_back(SqlParam::Text(id));
      JU_ASSIGN_OR_RETURN(auto rows, rows_in("Organization", "o.id", values, SIZE_MAX));
      add(std::move(rows));
    } else if (include->target_type == "Practitioner") {
      std::set<std::string> ids;
      simdjson::dom::parser parser;
      for (const FoundResource& m : page.matches)
        if (const auto* json = std::get_if<ResourceJson>(&m.record)) {
          const JsonFacts facts = ReadJsonFacts(parser, json->json);
          if (facts.practitioner.starts_with("Practitioner/"))
            ids.insert(facts.practitioner.substr(13));
        }
      JU_ASSIGN_OR_RETURN(auto rows, CurrentJsonResources("Practitioner"));
      std::vector<FoundResource> wanted;
      for (FoundResource& row : rows)
        if (ids.count(row.id) != 0) wanted.push_back(std::move(row));
      add(std::move(wanted));
    } else {
      return Error::Invalid("_include: " + std::string(include->source_type) + ":" +
                            std::string(include->param) + " is not supported");
    }
  }

  size_t budget = kMaxRevincludes;
  for (const search::IncludeDef* rev : request.revincludes) {
    if (budget == 0) break;
    std::vector<FoundResource> rows;
    if (resources::IsKeptAsDocument(rev->source_type)) {
      JU_ASSIGN_OR_RETURN(rows, DocumentsReferring(*rev, page, visibility, budget));
    } else if (rev->target_type == "Patient") {
      std::vector<SqlParam> values;
      for (const FoundResource& m : page.matches)
        if (m.patient_key) values.push_back(SqlParam::Int(*m.patient_key));
      const TypeInfo* source = FindType(rev->source_type);
      if (source == nullptr || !source->person)
        return Error::Invalid("_revinclude: " + std::string(rev->source_type) + ":" +
                              std::string(rev->param) + " is not supported");
      JU_ASSIGN_OR_RETURN(rows, rows_in(rev->source_type, "p.key", values, budget));
    } else if (rev->target_type == "Organization" && rev->source_type == "Patient") {
      std::vector<SqlParam> values;
      for (const FoundResource& m : page.matches) values.push_back(SqlParam::Text(m.id));
      JU_ASSIGN_OR_RETURN(rows, rows_in("Patient", "p.practice_id", values, budget));
    } else if (rev->source_type == "PractitionerRole") {
      std::set<std::string> targets;
      for (const FoundResource& m : page.matches)
        targets.insert(std::string(rev->target_type) + "/" + m.id);
      JU_ASSIGN_OR_RETURN(rows, json_referring("PractitionerRole", rev->param, targets, budget));
    } else {
      return Error::Invalid("_revinclude: " + std::string(rev->source_type) + ":" +
                            std::string(rev->param) + " is not supported");
    }
    budget -= std::min(budget, rows.size());
    add(std::move(rows));
  }
  return Ok();
}

// ---- Writes
// --------------------------------------------------------------------------------------

namespace {

// The record's id and, for person-bound records, its person; kInvalidInput when the record
// does not fit the type.
Result<std::pair<std::string, std::string>> RecordIds(const TypeInfo& t,
                                                      const ResourceRecord& record) {
  auto mismatch = [&]() -> Error {
    return Error::Invalid("a " + std::string(t.name) + " cannot be written from this record");
  };
  switch (t.table) {
    case Table::kPractice:
      if (const auto* p = std::get_if<Practice>(&record)) return std::pair(p->id, std::string());
      return mismatch();
    case Table::kPatient:
      if (const auto* p = std::get_if<Patient>(&record)) return std::pair(p->id, p->id);
      return mismatch();
    case Table::kEvent:
      if (const auto* e = std::get_if<ClinicalEvent>(&record)) {
        const bool condition = e->kind == EventKind::kCondition;
        if (condition != (t.name == "Condition")) return mismatch();
        return std::pair(e->id, e->patient_id);
      }
      return mismatch();
    case Table::kActivity:
      if (const auto* a = std::get_if<Activity>(&record)) {
        if (IsEpisodeActivity(a->type) != (t.name == "EpisodeOfCare")) return mismatch();
        return std::pair(a->id, a->patient_id);
      }
      return mismatch();
    case Table::kMedication:
      if (const auto* m = std::get_if<Medication>(&record)) return std::pair(m->id, m->patient_id);
      return mismatch();
    case Table::kJson:
      if (std::holds_alternative<ResourceJson>(record))
        return std::pair(std::string(), std::string());
      return mismatch();
    case Table::kConsent:
      if (const auto* c = std::get_if<ConsentRecord>(&record))
        return std::pair(std::to_string(c->id), c->patient_id);
      return mismatch();
    default:
      return mismatch();
  }
}

}  // namespace

Result<ResourceMeta> SqlStore::PutResource(const ResourceWrite& write) {
  if (resources::IsKeptAsDocument(write.resource_type)) return PutDocumentResource(write);
  const TypeInfo* t = FindType(write.resource_type);
  if (t == nullptr || !t->writable)
    return Error::Invalid(write.resource_type + " cannot be written");
  if (t->table == Table::kConsent && write.create_only)
    return Error::Invalid("a Consent is created with RecordConsent");
  if (write.id.empty() || write.id.size() > 64)
    return Error::Invalid(write.resource_type + ": the id must be 1 to 64 characters");
  if (write.json.empty()) return Error::Invalid(write.resource_type + ": no resource text");
  JU_ASSIGN_OR_RETURN(auto ids, RecordIds(*t, write.record));
  if (t->table != Table::kJson && ids.first != write.id)
    return Error::Invalid(write.resource_type + "/" + write.id + ": the record's id is " +
                          ids.first);
  if (t->table == Table::kJson) return PutJsonResource(write);
  if (t->table != Table::kConsent) return PutTypedResource(write);

  // Consent update: the person's new sharing decision, recorded now. The consents row keeps
  // the current decision of this Consent (what LatestConsent and the visibility SQL read);
  // each earlier one stays readable as a stored version. Only the person's current Consent
  // can change — one whose decision a later Consent superseded is history — so the update is
  // at once the decision the access policy follows. (Written here, not in a member of its own:
  // sql_store.h is shared with the security store.)
  const ConsentRecord& record = std::get<ConsentRecord>(write.record);
  const std::string label = "Consent/" + write.id;
  ResourceMeta next;
  JU_RETURN_IF_ERROR(InTransaction(false, [&]() -> Status {
    JU_RETURN_IF_ERROR(LockResource(write.resource_type, write.id));
    std::optional<Consent> stored;
    const SqlParam id_param = SqlParam::Int(record.id);
    JU_RETURN_IF_ERROR(
        Query("SELECT patient_key, recorded_at_ms FROM consents WHERE id = ?1", {&id_param, 1},
              [&](const SqlRow& row) -> Status {
                stored = Consent{row.Int(0), ConsentDecision::kPermitSharing, 0, row.Int(1)};
                return Ok();
              }));
    if (!stored) return Error::NotFound(label + " is not known");
    if (stored->patient_key != record.consent.patient_key)
      return Error::Invalid("patient: " + label +
                            " is about another person; a Consent's patient "
                            "cannot be changed");
    std::optional<int64_t> current;
    const SqlParam person = SqlParam::Int(stored->patient_key);
    JU_RETURN_IF_ERROR(
        Query("SELECT id FROM consents WHERE patient_key = ?1 ORDER BY recorded_at_ms DESC, id DESC"
              " LIMIT 1",
              {&person, 1}, [&](const SqlRow& row) -> Status {
                current = row.Int(0);
                return Ok();
              }));
    if (current != record.id)
      return Error::Conflict(label + " was superseded by Consent/" +
                             std::to_string(current.value_or(0)) +
                             ", the person's current decision: update that one");
    JU_ASSIGN_OR_RETURN(std::optional<ResourceMeta> versions,
                        CurrentMeta(write.resource_type, write.id));
    const int64_t version = versions ? versions->version_id : 1;
    if (write.if_match && *write.if_match != version)
      return Error{ErrorCode::kPreconditionFailed, label + " is at version " +
                                                       std::to_string(version) + ", not " +
                                                       std::to_string(*write.if_match)};
    if (!versions && write.baseline_json.empty())
      return Error::Invalid(label + ": its first update needs baseline_json");
    // Never before now: the update must stay the latest decision (LatestConsent orders by time).
    const int64_t at = std::max(write.now_ms, stored->recorded_at_ms);
    auto insert = [&](int64_t v, int64_t ms, std::string_view json) {
      const SqlParam params[] = {SqlParam::Text(write.resource_type),
                                 SqlParam::Text(write.id),
                                 SqlParam::Int(v),
                                 SqlParam::Int(ms),
                                 SqlParam::Int(stored->patient_key),
                                 SqlParam::Text(json)};
      return Query(
          "INSERT INTO resource_versions (resource_type, id, version_id, last_updated_ms,"
          " patient_key, json) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
          params, [](const SqlRow&) { return Ok(); });
    };
    // Version 1 is the decision as created, at the time it was recorded.
    if (!versions) JU_RETURN_IF_ERROR(insert(1, stored->recorded_at_ms, write.baseline_json));
    const auto decision = static_cast<int64_t>(record.consent.decision);
    if (decision < 0 || decision > 1) return Error::Invalid("consent: unknown decision");
    const SqlParam update[] = {SqlParam::Int(decision), SqlParam::Int(record.consent.recorded_by),
                               SqlParam::Int(at), SqlParam::Int(record.id)};
    JU_RETURN_IF_ERROR(Query(
        "UPDATE consents SET decision = ?1, recorded_by = ?2, recorded_at_ms = ?3 WHERE id = ?4",
        update, [](const SqlRow&) { return Ok(); }));
    next.version_id = version + 1;
    next.last_updated_ms = at;
    return insert(next.version_id, at, write.json);
  }));
  return next;
}

Status SqlStore::InsertVersions(const ResourceWrite& write, int64_t current_version, bool exists,
                                bool has_versions, std::optional<int64_t> patient_key,
                                ResourceMeta& next) {
  auto insert = [&](int64_t version, std::optional<int64_t> at, std::string_view json,
                    std::optional<int64_t> rendering_hash) {
    const SqlParam params[] = {SqlParam::Text(write.resource_type),
                               SqlParam::Text(write.id),
                               SqlParam::Int(version),
                               at ? SqlParam::Int(*at) : SqlParam::Null(),
                               patient_key ? SqlParam::Int(*patient_key) : SqlParam::Null(),
                               SqlParam::Text(json),
                               rendering_hash ? SqlParam::Int(*rendering_hash) : SqlParam::Null()};
    return Query(
        "INSERT INTO resource_versions (resource_type, id, version_id, last_updated_ms,"
        " patient_key, json, rendering_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params, [](const SqlRow&) { return Ok(); });
  };
  // An imported record's first API write keeps what it was (its rendering) as version 1.
  if (exists && !has_versions)
    JU_RETURN_IF_ERROR(insert(1, std::nullopt, write.baseline_json, std::nullopt));
  next.version_id = exists ? current_version + 1 : 1;
  next.last_updated_ms = write.now_ms;
  return insert(next.version_id, write.now_ms, write.json, write.rendering_hash);
}

Result<ResourceMeta> SqlStore::PutJsonResource(const ResourceWrite& write) {
  ResourceMeta next;
  JU_RETURN_IF_ERROR(InTransaction(false, [&]() -> Status {
    JU_RETURN_IF_ERROR(LockResource(write.resource_type, write.id));
    JU_ASSIGN_OR_RETURN(std::optional<ResourceMeta> current,
                        CurrentMeta(write.resource_type, write.id));
    if (write.create_only && current)
      return Error::Conflict(write.resource_type + "/" + write.id + " already exists");
    const int64_t version = current ? current->version_id : 0;
    if (write.if_match && *write.if_match != version)
      return Error{ErrorCode::kPreconditionFailed, write.resource_type + "/" + write.id +
                                                       " is at version " + std::to_string(version) +
                                                       ", not " + std::to_string(*write.if_match)};
    return InsertVersions(write, version, current.has_value(), current.has_value(), std::nullopt,
                          next);
  }));
  return next;
}

Result<ResourceMeta> SqlStore::PutTypedResource(const ResourceWrite& write) {
  const TypeInfo* t = FindType(write.resource_type);
  JU_ASSIGN_OR_RETURN(std::unique_ptr<Writer> writer, BeginWrite());
  JU_RETURN_IF_ERROR(LockResource(write.resource_type, write.id));
  const std::string label = write.resource_type + "/" + write.id;

  // What holds this id now: the typed row (of this type, or of the sibling type sharing the
  // table — Condition/Observation, Encounter/EpisodeOfCare) and its versions.
  std::optional<int64_t> held_as;  // events.kind or activities.type of the existing row
  bool typed = false;
  const SqlParam id_param = SqlParam::Text(write.id);
  std::string probe;
  switch (t->table) {
    case Table::kPractice:
      probe = "SELECT 0 FROM practices WHERE id = ?1";
      break;
    case Table::kPatient:
      probe = "SELECT 0 FROM patients WHERE id = ?1";
      break;
    case Table::kEvent:
      probe = "SELECT kind FROM events WHERE id = ?1";
      break;
    case Table::kActivity:
      probe = "SELECT type FROM activities WHERE id = ?1";
      break;
    default:
      probe = "SELECT 0 FROM medications WHERE id = ?1";
      break;
  }
  JU_RETURN_IF_ERROR(Query(probe, {&id_param, 1}, [&](const SqlRow& row) -> Status {
    typed = true;
    held_as = row.Int(0);
    return Ok();
  }));
  if (typed && t->table == Table::kEvent && (*held_as == 0) != (t->name == "Condition"))
    return Error::Conflict(label + ": the id is taken by an " +
                           std::string(*held_as == 0 ? "Condition" : "Observation"));
  if (typed && t->table == Table::kActivity &&
      IsEncounterType(*held_as) != (t->name == "Encounter"))
    return Error::Conflict(label + ": the id is taken by an " +
                           std::string(IsEncounterType(*held_as) ? "Encounter" : "EpisodeOfCare"));
  JU_ASSIGN_OR_RETURN(std::optional<ResourceMeta> stored,
                      CurrentMeta(write.resource_type, write.id));
  const bool exists = typed || stored.has_value();
  const int64_t version = stored ? stored->version_id : (exists ? 1 : 0);
  if (write.create_only && exists) return Error::Conflict(label + " already exists");
  if (write.if_match && *write.if_match != version)
    return Error{ErrorCode::kPreconditionFailed, label + " is at version " +
                                                     std::to_string(version) + ", not " +
                                                     std::to_string(*write.if_match)};
  if (exists && !stored && write.baseline_json.empty())
    return Error::Invalid(label + ": the first write of an imported record needs baseline_json");

  // The typed row, through the Writer (its reference checks and upsert).
  JU_RETURN_IF_ERROR(std::visit(
      [&](const auto& record) -> Status {
        using T = std::decay_t<decltype(record)>;
        if constexpr (std::is_same_v<T, Practice> || std::is_same_v<T, Patient> ||
                      std::is_same_v<T, ClinicalEvent> || std::is_same_v<T, Activity> ||
                      std::is_same_v<T, Medication>) {
          return writer->Add(record);
        } else {
          return Error::Invalid(label + ": not a typed record");
        }
      },
      write.record));
  JU_RETURN_IF_ERROR(FlushWriter(*writer));

  std::optional<int64_t> patient_key;
  JU_ASSIGN_OR_RETURN(auto ids, RecordIds(*t, write.record));
  if (!ids.second.empty()) {
    const SqlParam param = SqlParam::Text(ids.second);
    JU_RETURN_IF_ERROR(Query("SELECT key FROM patients WHERE id = ?1", {&param, 1},
                             [&](const SqlRow& row) -> Status {
                               patient_key = row.Int(0);
                               return Ok();
                             }));
    if (!patient_key) return UnknownPatient(ids.second);
  }
  ResourceMeta next;
  JU_RETURN_IF_ERROR(InsertVersions(write, version, exists, stored.has_value(), patient_key, next));
  JU_RETURN_IF_ERROR(writer->Commit());
  return next;
}

// ---- Document types (migration 7)
// ------------------------------------------------------------------------------
//
// One generic path for every type the registry keeps as a document: the current version in
// `documents`, its search values in `document_index`, every version in resource_versions.
// Searches are one SELECT like the typed ones: a filter is `d.id IN (index rows matching)`,
// except the person parameter, which reads the person's row (`p.id = ?`) through
// documents_by_patient; the visibility rule applies to `patients p` joined on patient_key.

namespace {

constexpr std::string_view kDocumentColumns =
    "d.id, d.version_id, d.last_updated_ms, d.json, d.patient_key, d.sharing";
constexpr int kDocumentColumnCount = 6;

std::string DocumentFrom(const resources::ResourceTypeDef& type) {
  return type.IsPersonBound() ? "documents d JOIN patients p ON p.key = d.patient_key"
                              : "documents d";
}

FoundResource DecodeDocument(std::string_view resource_type, const SqlRow& row) {
  FoundResource found;
  found.resource_type = std::string(resource_type);
  found.id = std::string(row.Text(0));
  found.meta.version_id = row.Int(1);
  found.meta.last_updated_ms = row.Int(2);
  found.record = ResourceJson{std::string(row.Text(3))};
  if (!row.IsNull(4)) found.patient_key = row.Int(4);
  const int64_t sharing = row.Int(5);
  if (sharing > 0 && sharing < kRecordSharingCount)
    found.sharing = static_cast<RecordSharing>(sharing);
  return found;
}

// The SQL for one filter on a document type (its values OR-ed), or kInvalidInput naming it.
Result<std::string> DocumentFilterSql(const resources::ResourceTypeDef& type,
                                      const search::Filter& filter, Dialect dialect, Sql& sql) {
  const search::SearchParamDef& param = *filter.param;
  const resources::SearchParamDef* person = resources::PersonParam(type);
  auto invalid = [&]() -> Error {
    return Error::Invalid(std::string(param.name) + ": not supported for " +
                          std::string(type.name));
  };
  // Rows whose index holds a value of this parameter meeting `condition`.
  auto indexed = [&](const std::string& condition) {
    return "d.id IN (SELECT i.id FROM document_index i WHERE i.resource_type = " +
           sql.Bind(std::string(type.name)) +
           " AND i.param = " + sql.Bind(std::string(param.name)) + " AND " + condition + ")";
  };
  std::vector<std::string> any;
  for (const search::SearchValue& value : filter.any_of) {
    if (param.name == "_id") {
      const auto* token = std::get_if<search::TokenValue>(&value);
      if (token == nullptr || !token->code) return invalid();
      any.push_back("d.id = " + sql.Bind(*token->code));
    } else if (param.name == "_lastUpdated") {
      const auto* date = std::get_if<search::DateValue>(&value);
      if (date == nullptr) return invalid();
      any.push_back(LastUpdatedSql(*date, sql, "d.last_updated_ms"));
    } else if (const auto* ref = std::get_if<search::ReferenceValue>(&value)) {
      if (person != nullptr && person->name == param.name) {
        any.push_back(ref->type == "Patient" ? "p.id = " + sql.Bind(ref->id)
                                             : std::string("0 = 1"));
      } else {
        any.push_back(indexed("i.value = " + sql.Bind(ref->id) +
                              " AND i.qualifier = " + sql.Bind(ref->type)));
      }
    } else if (const auto* text = std::get_if<search::StringValue>(&value)) {
      switch (filter.modifier) {
        case search::Modifier::kNone:
          any.push_back(indexed(StartsWithSql("i.value", text->folded, sql)));
          break;
        case search::Modifier::kExact:
          any.push_back(indexed("i.qualifier = " + sql.Bind(text->text)));
          break;
        case search::Modifier::kContains:
          any.push_back(indexed(ContainsSql("i.value", text->folded, dialect, sql)));
          break;
      }
    } else if (const auto* token = std::get_if<search::TokenValue>(&value)) {
      std::vector<std::string> where;
      if (token->system) where.push_back("i.qualifier = " + sql.Bind(*token->system));
      if (token->code) where.push_back("i.value = " + sql.Bind(*token->code));
      if (where.empty()) where.push_back("1 = 1");
      any.push_back(indexed(Join(where, " AND ")));
    } else if (const auto* date = std::get_if<search::DateValue>(&value)) {
      // The index holds the range [value, qualifier) as fixed-width UTC text
      // (resources::IndexInstant), which compares as the times do; an open side is the
      // lowest or highest text.
      DateAtoms atoms;
      auto at = [&](int64_t x) { return sql.Bind(resources::IndexInstant(x)); };
      atoms.start_ge = [&](int64_t x) { return "i.value >= " + at(x); };
      atoms.start_lt = [&](int64_t x) { return "i.value < " + at(x); };
      atoms.end_le = [&](int64_t x) { return "i.qualifier <= " + at(x); };
      atoms.end_gt = [&](int64_t x) { return "i.qualifier > " + at(x); };
      any.push_back(indexed(DateSql(*date, atoms)));
    } else {
      return invalid();
    }
  }
  if (any.empty()) return std::string("1 = 1");
  return "(" + Join(any, " OR ") + ")";
}

Result<SortSpec> DocumentSortSql(const resources::ResourceTypeDef& type,
                                 const search::SortKey& key) {
  SortSpec spec;
  spec.descending = key.descending;
  if (key.name == "_id") {
    spec.expr = "d.id";
    spec.text = true;
  } else if (key.name == "_lastUpdated") {
    spec.expr = "d.last_updated_ms";  // NOT NULL: every document was written at a time
  } else {
    return Error::Invalid("_sort: " + std::string(key.name) + " is not a sort key for " +
                          std::string(type.name));
  }
  return spec;
}

}  // namespace

Result<std::vector<FoundResource>> SqlStore::LoadDocuments(std::string_view resource_type,
                                                           std::string_view where,
                                                           std::span<const SqlParam> params,
                                                           std::string_view order_limit) {
  const resources::ResourceTypeDef* type = resources::FindType(resource_type);
  if (type == nullptr || !type->kept_as_document)
    return Error::Internal("store: " + std::string(resource_type) + " is not a document type");
  std::vector<SqlParam> all(params.begin(), params.end());
  all.push_back(SqlParam::Text(type->name));
  const std::string sql = "SELECT " + std::string(kDocumentColumns) + " FROM " +
                          DocumentFrom(*type) + " WHERE d.resource_type = ?" +
                          std::to_string(all.size()) + " AND (" + std::string(where) + ") " +
                          std::string(order_limit);
  std::vector<FoundResource> out;
  JU_RETURN_IF_ERROR(Query(sql, all, [&](const SqlRow& row) -> Status {
    out.push_back(DecodeDocument(type->name, row));
    return Ok();
  }));
  return out;
}

Result<ResourcePage> SqlStore::SearchDocuments(const search::SearchRequest& request,
                                               const search::PageCursor* after,
                                               const Visibility& visibility, bool want_total) {
  const resources::ResourceTypeDef& type = *resources::FindType(request.resource_type);
  const Dialect d = dialect();
  Sql where;
  std::vector<std::string> conditions{"d.resource_type = " + where.Bind(std::string(type.name))};
  bool value_dependent = false;  // see QueryPlannedPerCall
  for (const search::Filter& filter : request.filters) {
    if (filter.param == nullptr) return Error::Invalid("search: a filter names no parameter");
    value_dependent = value_dependent || filter.param->type == search::ParamType::kDate ||
                      filter.param->type == search::ParamType::kString;
    JU_ASSIGN_OR_RETURN(std::string condition, DocumentFilterSql(type, filter, d, where));
    conditions.push_back(std::move(condition));
  }
  if (type.IsPersonBound()) conditions.push_back(DocumentVisibilitySql(visibility, where.params));
  std::vector<SortSpec> sort;
  for (const search::SortKey& key : request.sort) {
    JU_ASSIGN_OR_RETURN(SortSpec spec, DocumentSortSql(type, key));
    sort.push_back(std::move(spec));
  }
  const std::string from = DocumentFrom(type);
  auto run = [&](const std::string& sql, const RowFn& on_row) {
    return value_dependent ? QueryPlannedPerCall(sql, where.params, on_row)
                           : Query(sql, where.params, on_row);
  };
  ResourcePage page;
  if (want_total) {
    JU_RETURN_IF_ERROR(run("SELECT COUNT(*) FROM " + from + " WHERE " + Join(conditions, " AND "),
                           [&](const SqlRow& row) -> Status {
                             page.total = row.Int(0);
                             return Ok();
                           }));
  }
  const int count = request.summary_count ? 0 : std::clamp(request.count, 0, search::kMaxCount);
  if (count > 0) {
    if (after != nullptr) {
      JU_RETURN_IF_ERROR(CheckCursor(*after, sort));
      conditions.push_back(KeysetSql(sort, "d.id", *after, where));
    }
    std::string sql = "SELECT " + std::string(kDocumentColumns);
    for (size_t i = 0; i < sort.size(); ++i)
      sql += ", " + sort[i].expr + " AS ju_s" + std::to_string(i);
    sql += " FROM " + from + " WHERE " + Join(conditions, " AND ") + OrderSql(sort, "d.id") +
           " LIMIT " + where.BindInt(count + 1);
    JU_RETURN_IF_ERROR(run(sql, [&](const SqlRow& row) -> Status {
      FoundResource found = DecodeDocument(type.name, row);
      found.sort_values = SortValuesOf(row, kDocumentColumnCount, sort);
      page.matches.push_back(std::move(found));
      return Ok();
    }));
    if (page.matches.size() > static_cast<size_t>(count)) {
      page.matches.resize(static_cast<size_t>(count));
      page.has_next = true;
    }
  }
  JU_RETURN_IF_ERROR(AddIncludes(request, visibility, page));
  return page;
}

Result<std::vector<FoundResource>> SqlStore::DocumentsReferring(const search::IncludeDef& rev,
                                                                const ResourcePage& page,
                                                                const Visibility& visibility,
                                                                size_t limit) {
  const resources::ResourceTypeDef& source = *resources::FindType(rev.source_type);
  const resources::SearchParamDef* person = resources::PersonParam(source);
  std::vector<SqlParam> params;
  std::vector<std::string> marks;
  std::string where;
  if (person != nullptr && person->name == rev.param && rev.target_type == "Patient") {
    for (const FoundResource& m : page.matches) {
      if (!m.patient_key) continue;
      params.push_back(SqlParam::Int(*m.patient_key));
      marks.push_back("?" + std::to_string(params.size()));
    }
    if (marks.empty()) return std::vector<FoundResource>();
    where = "d.patient_key IN (" + Join(marks, ", ") + ")";
  } else {
    for (const FoundResource& m : page.matches) {
      params.push_back(SqlParam::Text(m.id));
      marks.push_back("?" + std::to_string(params.size()));
    }
    params.push_back(SqlParam::Text(rev.source_type));
    const std::string type_mark = "?" + std::to_string(params.size());
    params.push_back(SqlParam::Text(rev.param));
    const std::string param_mark = "?" + std::to_string(params.size());
    params.push_back(SqlParam::Text(rev.target_type));
    const std::string target_mark = "?" + std::to_string(params.size());
    where = "d.id IN (SELECT i.id FROM document_index i WHERE i.resource_type = " + type_mark +
            " AND i.param = " + param_mark + " AND i.qualifier = " + target_mark +
            " AND i.value IN (" + Join(marks, ", ") + "))";
  }
  if (source.IsPersonBound()) where += " AND " + DocumentVisibilitySql(visibility, params);
  params.push_back(SqlParam::Int(static_cast<int64_t>(limit)));
  const std::string order = " ORDER BY d.id LIMIT ?" + std::to_string(params.size());
  return LoadDocuments(source.name, where, params, order);
}

Status SqlStore::WriteDocument(const ResourceWrite& write, ResourceMeta& next) {
  const resources::ResourceTypeDef* type = resources::FindType(write.resource_type);
  if (type == nullptr || !type->kept_as_document)
    return Error::Invalid(write.resource_type + " is not kept as a document");
  const std::string label = write.resource_type + "/" + write.id;
  if (!resources::IsValidFhirId(write.id))
    return Error::Invalid(write.resource_type + ": the id is not a FHIR id");
  if (!std::holds_alternative<ResourceJson>(write.record))
    return Error::Invalid("a " + write.resource_type + " cannot be written from this record");
  if (write.json.empty()) return Error::Invalid(label + ": no resource text");
  JU_RETURN_IF_ERROR(LockResource(write.resource_type, write.id));
  for (const resources::IndexEntry& entry : write.index) {
    const bool declared = std::any_of(type->params.begin(), type->params.end(),
                                      [&](const auto& p) { return p.name == entry.param; });
    if (!declared)
      return Error::Invalid(label + ": " + entry.param + " is not a search parameter of " +
                            write.resource_type);
  }
  std::optional<int64_t> patient_key;
  if (type->IsPersonBound()) {
    if (write.patient_id.empty())
      return Error::Invalid(std::string(type->person_param) + ": missing: a " +
                            write.resource_type + " belongs to a person");
    const SqlParam param = SqlParam::Text(write.patient_id);
    JU_RETURN_IF_ERROR(Query("SELECT key FROM patients WHERE id = ?1", {&param, 1},
                             [&](const SqlRow& row) -> Status {
                               patient_key = row.Int(0);
                               return Ok();
                             }));
    if (!patient_key) return UnknownPatient(write.patient_id);
  }
  std::optional<int64_t> current;
  const SqlParam key[] = {SqlParam::Text(write.resource_type), SqlParam::Text(write.id)};
  JU_RETURN_IF_ERROR(Query("SELECT version_id FROM documents WHERE resource_type = ?1 AND id = ?2",
                           key, [&](const SqlRow& row) -> Status {
                             current = row.Int(0);
                             return Ok();
                           }));
  if (write.create_only && current) return Error::Conflict(label + " already exists");
  const int64_t version = current.value_or(0);
  if (write.if_match && *write.if_match != version)
    return Error{ErrorCode::kPreconditionFailed, label + " is at version " +
                                                     std::to_string(version) + ", not " +
                                                     std::to_string(*write.if_match)};
  const SqlParam row[] = {SqlParam::Text(write.resource_type),
                          SqlParam::Text(write.id),
                          patient_key ? SqlParam::Int(*patient_key) : SqlParam::Null(),
                          SqlParam::Int(version + 1),
                          SqlParam::Int(write.now_ms),
                          SqlParam::Text(write.json),
                          SqlParam::Int(static_cast<int64_t>(write.sharing))};
  JU_RETURN_IF_ERROR(Execute(
      current ? "UPDATE documents SET patient_key = ?3, version_id = ?4, last_updated_ms = ?5,"
                " json = ?6, sharing = ?7 WHERE resource_type = ?1 AND id = ?2"
              : "INSERT INTO documents (resource_type, id, patient_key, version_id,"
                " last_updated_ms, json, sharing) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
      row));
  JU_RETURN_IF_ERROR(
      Execute("DELETE FROM document_index WHERE resource_type = ?1 AND id = ?2", key));
  // The new values in batches of one multi-row INSERT each.
  constexpr size_t kBatch = 100;
  for (size_t from = 0; from < write.index.size(); from += kBatch) {
    std::vector<SqlParam> values = {key[0], key[1]};
    std::vector<std::string> rows;
    for (size_t i = from; i < std::min(write.index.size(), from + kBatch); ++i) {
      const resources::IndexEntry& entry = write.index[i];
      const size_t at = values.size();
      rows.push_back("(?1, ?2, ?" + std::to_string(at + 1) + ", ?" + std::to_string(at + 2) +
                     ", ?" + std::to_string(at + 3) + ")");
      values.push_back(SqlParam::Text(entry.param));
      values.push_back(SqlParam::Text(entry.value));
      values.push_back(SqlParam::Text(entry.qualifier));
    }
    JU_RETURN_IF_ERROR(
        Execute("INSERT INTO document_index (resource_type, id, param, value, qualifier) VALUES " +
                    Join(rows, ", "),
                values));
  }
  return InsertVersions(write, version, current.has_value(), current.has_value(), patient_key,
                        next);
}

Result<ResourceMeta> SqlStore::PutDocumentResource(const ResourceWrite& write) {
  ResourceMeta next;
  JU_RETURN_IF_ERROR(InTransaction(false, [&]() { return WriteDocument(write, next); }));
  return next;
}

// ---- Groups, sign-ins, secrets
// -------------------------------------------------------------------

Result<std::vector<int64_t>> SqlStore::SegmentMembers(std::string_view group_id,
                                                      const Visibility& visibility) {
  JU_ASSIGN_OR_RETURN(std::optional<FoundResource> group, FindResource("Group", group_id));
  if (!group) return Error::NotFound("Group/" + std::string(group_id) + " is not known");
  const Segment& segment = std::get<Segment>(group->record);
  const std::string bytes = SegmentBytes(segment.segment_index);
  std::vector<SqlParam> params = {SqlParam::Int(segment.run.id),
                                  SqlParam::Int(4 * int64_t{segment.model_index} + 1),
                                  SqlParam::Blob(bytes)};
  const std::string visible = VisibilitySql(visibility, params);
  std::vector<int64_t> members;
  JU_RETURN_IF_ERROR(
      Query("SELECT s.patient_key FROM stratification_results s JOIN patients p"
            " ON p.key = s.patient_key WHERE " +
                std::string(kInSegment) + " AND " + visible + " ORDER BY s.patient_key",
            params, [&](const SqlRow& row) -> Status {
              members.push_back(row.Int(0));
              return Ok();
            }));
  return members;
}

Result<std::vector<FoundResource>> SqlStore::WorklistRows(const WorklistQuery& query,
                                                          const Visibility& visibility) {
  std::vector<SqlParam> params = {SqlParam::Int(query.run_id)};
  std::string where = "s.run_id = ?1";
  std::string segment_bytes;  // bound by reference: lives until the query has run
  if (!query.segment_group_id.empty()) {
    JU_ASSIGN_OR_RETURN(std::optional<FoundResource> group,
                        FindResource("Group", query.segment_group_id));
    if (!group || std::get<Segment>(group->record).run.id != query.run_id)
      return Error::NotFound("Group/" + query.segment_group_id + " is not a segment of run " +
                             std::to_string(query.run_id));
    const Segment& segment = std::get<Segment>(group->record);
    params.push_back(SqlParam::Int(4 * int64_t{segment.model_index} + 1));
    where += " AND substr(s.segments, ?2, 2) = ?3";
    segment_bytes = SegmentBytes(segment.segment_index);
    params.push_back(SqlParam::Blob(segment_bytes));
  }
  auto bind = [&](SqlParam param) {
    params.push_back(std::move(param));
    return "?" + std::to_string(params.size());
  };
  if (!query.practice_id.empty())
    where += " AND p.practice_id = " + bind(SqlParam::Text(query.practice_id));
  if (!query.pch.empty())
    where += " AND p.practice_id IN (SELECT id FROM practices WHERE pch = " +
             bind(SqlParam::Text(query.pch)) + ")";
  if (query.born_from)
    where += " AND p.birth_date >= " + bind(SqlParam::Int(query.born_from->days_since_epoch()));
  if (query.born_to)
    where += " AND p.birth_date <= " + bind(SqlParam::Int(query.born_to->days_since_epoch()));
  if (query.risk_at_least)
    where += " AND s.admission_risk >= " + bind(SqlParam::Real(*query.risk_at_least));
  if (query.risk_below)
    where += " AND s.admission_risk < " + bind(SqlParam::Real(*query.risk_below));
  std::string order = "s.admission_risk DESC, s.cost_12m_pence DESC, s.patient_key";
  if (query.not_on_caseload)
    where += " AND NOT EXISTS (SELECT 1 FROM case_episodes ce WHERE ce.patient_key ="
             " s.patient_key AND ce.status < 2)";
  if (query.risen_since_run_id > 0) {
    // The person's risk in the earlier run (primary key lookup); no row there: not a riser.
    const std::string before =
        "(SELECT r.admission_risk FROM stratification_results r WHERE r.run_id = " +
        bind(SqlParam::Int(query.risen_since_run_id)) + " AND r.patient_key = s.patient_key)";
    where += " AND s.admission_risk > " + before;
    order = "s.admission_risk - " + before + " DESC, " + order;
  }
  if (visibility.kind == Visibility::Kind::kRelationship) {
    // The same rule as VisibilitySql, as the set of people visible: walking the run in risk
    // order then probes one set built once, rather than running the care-team and consent
    // subqueries for every row passed over (most rows, for a practice among many).
    const std::string org = bind(SqlParam::Text(visibility.organisation_id));
    const std::string user = bind(SqlParam::Int(visibility.user_id));
    const std::string at = bind(SqlParam::Int(visibility.as_at_ms));
    static_assert(static_cast<int>(ConsentDecision::kDeclineBeyondOwnPractice) == 1);
    where += " AND s.patient_key IN (SELECT pv.key FROM patients pv WHERE pv.practice_id = " + org +
             " UNION SELECT ctp.patient_key FROM care_team_members ctm JOIN care_team_patients"
             " ctp ON ctp.care_team_id = ctm.care_team_id WHERE ctm.user_id = " +
             user + " AND " + CurrentMembershipSql("ctp", at) +
             " AND COALESCE((SELECT ck.decision FROM consents ck WHERE ck.patient_key ="
             " ctp.patient_key ORDER BY ck.recorded_at_ms DESC, ck.id DESC LIMIT 1), 0) <> 1)";
  } else {
    where += " AND " + VisibilitySql(visibility, params);
  }
  const std::string limit = bind(SqlParam::Int(std::clamp(query.limit, 1, 1000)));
  const std::string offset = bind(SqlParam::Int(std::max<int64_t>(query.offset, 0)));
  return LoadRows("RiskAssessment", where, params,
                  "ORDER BY " + order + " LIMIT " + limit + " OFFSET " + offset);
}

Result<std::vector<ResourceStore::SignIn>> SqlStore::SignInsOf(std::string_view username,
                                                               int64_t since_ms, int limit) {
  std::vector<SignIn> out;
  const SqlParam params[] = {SqlParam::Text(username), SqlParam::Int(since_ms),
                             SqlParam::Int(limit)};
  // audit_events_by_username (username, time_ms) finds them.
  JU_RETURN_IF_ERROR(
      Query("SELECT time_ms, source_address, outcome FROM audit_events WHERE username = ?1"
            " AND time_ms >= ?2 AND subtype = 'login' ORDER BY time_ms, sequence LIMIT ?3",
            params, [&](const SqlRow& row) -> Status {
              out.push_back({row.Int(0), std::string(row.Text(1)), row.Int(2) == 0});
              return Ok();
            }));
  return out;
}

Result<std::string> SqlStore::ServerSecret(std::string_view name, size_t bytes) {
  if (name.empty()) return Error::Invalid("server secret: empty name");
  if (bytes == 0 || bytes > 4096) return Error::Invalid("server secret: 1 to 4096 bytes");
  // A fresh candidate every time; the first one stored wins and every process reads it back.
  std::string candidate(bytes, '\0');
  std::random_device random;  // /dev/urandom (or getrandom) on Linux
  for (size_t i = 0; i < bytes; i += sizeof(unsigned int)) {
    const unsigned int word = random();
    std::memcpy(candidate.data() + i, &word, std::min(sizeof word, bytes - i));
  }
  const SqlParam insert[] = {SqlParam::Text(name), SqlParam::Blob(candidate)};
  JU_RETURN_IF_ERROR(Query(
      "INSERT INTO server_secrets (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
      insert, [](const SqlRow&) { return Ok(); }));
  std::optional<std::string> value;
  JU_RETURN_IF_ERROR(Query("SELECT value FROM server_secrets WHERE name = ?1", {insert, 1},
                           [&](const SqlRow& row) -> Status {
                             value = std::string(row.Blob(0));
                             return Ok();
                           }));
  if (!value) return Error::Internal("server secret: not stored");
  if (value->size() != bytes)
    return Error::Conflict("server secret " + std::string(name) + " is stored with " +
                           std::to_string(value->size()) + " bytes, not " + std::to_string(bytes));
  return *value;
}

}  // namespace joinedup::store
