// The resource registry: every FHIR resource type joinedup knows, declared once.
//
// A row says what the type is called, which interactions the FHIR API serves for it, which
// access category the policy decides it by (and so whether it belongs to a person), whether
// Bulk Data export writes it and `joinedup import` reads it (and in which order: what is
// referred to before what refers to it), and its search parameters with their sorts and
// _include paths. Everything that used to list types by hand derives from here: SMART scopes
// (security/scopes), the policy's categories (security/policy), the search parser and the
// CapabilityStatement (fhir/search), the API's routes (api), export and import.
// docs/adding-a-resource-type.md says how to add one.
//
// Pure data and lookups; no I/O; everything is constexpr-initialised and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace joinedup::resources {

// Kinds of thing a role may touch (security/policy.h's role matrix has a column for each).
// Person-bound categories are about one identifiable person and need a relationship.
enum class AccessCategory : uint8_t {
  kDemographics,  // the person themselves
  kClinical,      // what happened to them: conditions, contacts, observations, medicines
  kRisk,          // their stratification result, with reasons
  kConsent,       // their decisions about sharing
  kDirectory,     // organisations and staff
  kAudit,         // the audit trail
  kPopulation,    // aggregate figures and pseudonymised rows (segments, run summaries)
};
inline constexpr int kAccessCategoryCount = 7;
// "Demographics", "Clinical", … as docs/security.md's role matrix names the columns.
constexpr std::string_view AccessCategoryName(AccessCategory c) {
  constexpr std::string_view kNames[kAccessCategoryCount] = {
      "Demographics", "Clinical", "Risk", "Consent", "Directory", "Audit", "Population"};
  return kNames[static_cast<int>(c)];
}
constexpr bool IsPersonBound(AccessCategory c) {
  return c == AccessCategory::kDemographics || c == AccessCategory::kClinical ||
         c == AccessCategory::kRisk || c == AccessCategory::kConsent;
}

// FHIR search-param-type values joinedup supports. A uri matches exactly (no :below, :above).
enum class ParamType : uint8_t { kString, kToken, kDate, kReference, kUri };
// "string", "token", "date", "reference", "uri"
std::string_view ParamTypeName(ParamType type);

struct SearchParamDef {
  std::string_view resource_type;  // "Patient"; "" for the common parameters (_id, _lastUpdated)
  std::string_view name;           // "birthdate"
  ParamType type;
  std::string_view target_type;  // reference parameters: the one type they may point to
  std::string_view expression;   // FHIRPath of what it searches, for the CapabilityStatement
  std::string_view example;      // a valid value; tests prove every row parses and runs
  bool sortable = false;         // `_sort` accepts it
  bool includable = false;       // reference: `_include` / `_revinclude` may follow it
};

// The FHIR REST interactions the API serves for a type.
struct Interactions {
  bool read = false, vread = false, history = false, search = false, create = false,
       update = false;
  // FHIR CapabilityStatement.rest.resource.updateCreate: a PUT to an id that does not exist
  // creates the record with that id (false: ids are the server's; PUT updates only). False for
  // every type about a person: a client-chosen id would answer differently for "held by
  // someone you may not see" and "free", so a PUT to either is refused alike as unknown.
  bool update_create = false;
  constexpr bool Any() const { return read || vread || history || search || create || update; }
};
inline constexpr Interactions kAllInteractions{true, true, true, true, true, true, true};
inline constexpr Interactions kServerAssignedIds{true, true, true, true, true, true, false};
inline constexpr Interactions kReadAndSearch{true, true, false, true, false, false};
inline constexpr Interactions kNotServed{};

struct ResourceTypeDef {
  std::string_view name;  // FHIR resource type
  AccessCategory category;
  Interactions interactions;  // kNotServed: exchanged in files only (no REST routes, no scope)
  // The served type whose scopes and role rows govern a type that is not served itself
  // (exporting EpisodeOfCare needs what exporting Encounter needs); "" for itself.
  std::string_view governed_by;
  bool exported = false;  // Bulk Data export writes it
  bool imported = false;  // `joinedup import` reads it (others are skipped with a reason)
  // Import and export order: lower first, so what a record refers to is always there before
  // it (Organization 0, Patient 1, …). -1 for types not exchanged in files.
  int exchange_rank = -1;
  std::span<const SearchParamDef> params;  // type-specific; CommonParams() apply to every type
  // Results come in an order of their own (a run's segments, the audit trail's sequence):
  // `_sort` is refused, even on the common _id and _lastUpdated.
  bool fixed_order = false;
  // Kept as a document (migration 7): the resource whole as JSON, with an index of its search
  // parameters' values that the fhir layer extracts (fhir/document.h) and the store searches
  // in SQL. Such a type needs no table, no mapping and no store code of its own. Its params
  // follow simple paths ("RelatedPerson.name", "Task.restriction.period.end"; a choice element
  // by its JSON name, "Goal.target.dueDate"); a reference may end in FHIR's
  // `.where(resolve() is Type)`, which keeps only the references to that type (fhir/document.h).
  bool kept_as_document = false;
  // Person-bound document types: the reference parameter (to Patient) naming the person, whose
  // element is required ("patient": RelatedPerson.patient, or Goal.subject.where(resolve() is
  // Patient)).
  std::string_view person_param = {};
  bool IsServed() const { return interactions.Any(); }
  bool IsPersonBound() const { return resources::IsPersonBound(category); }
};

// A FHIR id: [A-Za-z0-9-.]{1,64} (https://hl7.org/fhir/R4/datatypes.html#id).
bool IsValidFhirId(std::string_view id);

// Every type, in registry order: exchanged types first in exchange order, then the others.
std::span<const ResourceTypeDef> AllTypes();
// nullptr if joinedup does not know `name` (exact, case-sensitive FHIR type name).
const ResourceTypeDef* FindType(std::string_view name);
// Served by the FHIR API (at least one interaction): what scopes and routes may name.
bool IsServed(std::string_view name);
// `_id` and `_lastUpdated`: apply to every searchable type.
std::span<const SearchParamDef> CommonParams();
// The access category of a served or exchanged type; empty for any other.
std::optional<AccessCategory> CategoryOf(std::string_view name);
// The type whose scopes and role rows decide access to `name` (itself unless governed_by).
std::string_view GoverningType(const ResourceTypeDef& type);
// Kept as a document (ResourceTypeDef::kept_as_document); false for unknown names.
bool IsKeptAsDocument(std::string_view name);
// A document type's person parameter (ResourceTypeDef::person_param); nullptr when it has none.
const SearchParamDef* PersonParam(const ResourceTypeDef& type);

}  // namespace joinedup::resources
