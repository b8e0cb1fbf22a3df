// ResourceStore: what the FHIR REST API (src/api) and Bulk Data export (src/export) ask of the
// store — resources by type and id, their versions, searches with keyset paging and access
// filtering done in SQL, and versioned writes with an If-Match check. Schema migration 4.
//
// The typed population tables stay the one truth: a Patient is read from `patients`, a
// Condition from `events`, and so on; the store returns typed records and the API renders them
// as FHIR JSON (fhir/fhir_mapping.h). What the typed tables cannot hold — versions, and each
// version's text for vread and history — lives in `resource_versions`; since migration 6 a
// version written through the API keeps the client's resource whole (StoredDocument). A record
// that only ever came in through `joinedup import` is version 1 with no lastUpdated and no
// stored text; its first API write stores the rendering of version 1 (`baseline_json`).
//
// Types and where they come from:
//   Organization       practices (id = ODS code)
//   Patient            patients
//   Condition          events of kind kCondition
//   Observation        events of kind kObservation
//   Encounter          activities whose type is a contact (IsEpisodeActivity false)
//   EpisodeOfCare      activities whose type is an episode
//   MedicationRequest  medications
//   RiskAssessment     stratification_results; id "<run id>-<patient key>"; read-only
//   Group              a run's segment of one model; id "<run id>-<model index>-<segment index>";
//                      read-only
//   Consent            consents; id = the row's key as decimal text; created with
//                      SecurityStore::RecordConsent, updated with PutResource (the person's
//                      current Consent only: see PutResource); meta.lastUpdated is when the
//                      decision was recorded
//   AuditEvent         audit_events; id = sequence as decimal text; read-only
//   Practitioner, PractitionerRole   JSON only (no typed table): stored whole in
//                      resource_versions; the store searches them in memory (a small directory)
//   RelatedPerson and every other type the registry keeps as a document (kept_as_document):
//                      `documents` (the current version whole) and `document_index` (the
//                      values of its search parameters, which the writer hands over in
//                      ResourceWrite::index), migration 7; searched in SQL (document_sql.cc)
//
// Thread safety: as for Store — one thread at a time per Store; open one per worker thread.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"
#include "domain/population.h"
#include "domain/sharing.h"
#include "domain/stratification_run.h"
#include "resources/query.h"
#include "store/security_store.h"

namespace joinedup::store {

// Whose records a search may return: the SQL form of the access policy's relationship rule
// (security/policy.h, Decide). Built by the API from the caller; the store applies it to every
// person-bound row, to totals, and to _include/_revinclude rows.
struct Visibility {
  enum class Kind : uint8_t {
    kNobody,        // no person-bound row at all (non-person types are unaffected)
    kSelf,          // the person with `patient_key` only (a patient's own record)
    kRelationship,  // registered at `organisation_id`, or on a care team of `user_id` unless
                    // their latest consent is kDeclineBeyondOwnPractice
    kEveryone,      // no person filter (a read after break-glass; tests)
  };
  Kind kind = Kind::kNobody;
  int64_t patient_key = 0;
  std::string organisation_id;
  int64_t user_id = 0;
  // kRelationship: the instant relationships are judged at. A care-team membership that has
  // ended by then (care_team_patients.until_ms <= as_at_ms: a discharge's grace period is
  // over) does not count; the default counts only memberships that have no end.
  int64_t as_at_ms = std::numeric_limits<int64_t>::max();
};

// A person's stratification result in one run (FHIR RiskAssessment).
struct RiskResult {
  StratificationRun run;
  PersonRunResult result;
  std::string patient_id;
};

// One model's segment in one run (FHIR Group): who is in it is asked separately.
struct Segment {
  StratificationRun run;
  int model_index = 0;
  int segment_index = 0;  // kNoSegment for "fits no segment"
  std::string label;
  int64_t members = 0;
};

struct ConsentRecord {
  int64_t id = 0;
  Consent consent;
  std::string patient_id;
};

// Resource text for the JSON-only types (Practitioner, PractitionerRole) and the document
// types (RelatedPerson, …): the resource as stored, without meta.
struct ResourceJson {
  std::string json;
};

using ResourceRecord = std::variant<Practice, Patient, ClinicalEvent, Activity, Medication,
                                    RiskResult, Segment, ConsentRecord, AuditEvent, ResourceJson>;

// A version's text as the client wrote it, kept whole (migration 6), with the hash of what the
// typed rows rendered as when it was written. Serve `json` while the typed record still renders
// to that hash; if another writer (an import) has changed the rows since, the rendering is the
// truth (fhir::ServedText decides).
struct StoredDocument {
  std::string json;
  int64_t rendering_hash = 0;
};

struct ResourceMeta {
  int64_t version_id = 1;
  std::optional<int64_t> last_updated_ms;  // empty: never written through the API
};

using SortCell = resources::SortValue;

struct FoundResource {
  std::string resource_type;
  std::string id;
  ResourceMeta meta;
  std::optional<int64_t> patient_key;  // the person it is about; empty for non-person types
  ResourceRecord record;
  // The current version's text as the client wrote it, for a typed record written through the
  // API; empty for records only ever imported (render `record`).
  std::optional<StoredDocument> document;
  // Searches only: the row's values of request.sort, in order, for the next page's cursor.
  std::vector<SortCell> sort_values;
  // Document types: the record's own sharing restriction (domain/sharing.h), which the caller
  // decides with security::DecideRecord; searches have applied it already.
  RecordSharing sharing = RecordSharing::kCareRelationship;
};

// One stored version for vread and history.
struct ResourceVersion {
  int64_t version_id = 1;
  std::optional<int64_t> last_updated_ms;
  std::string json;  // the resource as it was served at that version, without meta
};

struct ResourcePage {
  std::vector<FoundResource> matches;   // at most request.count
  bool has_next = false;                // another match exists after the last one
  std::optional<int64_t> total;         // when asked: every visible match, all pages
  std::vector<FoundResource> included;  // _include / _revinclude rows, visible ones only,
                                        // each once, none that is also a match
};

struct ResourceWrite {
  std::string resource_type;
  std::string id;
  // Patient, ClinicalEvent, Activity, Medication or Practice for the typed types (its id and
  // patient_id must agree with the write); ResourceJson for Practitioner/PractitionerRole.
  ResourceRecord record;
  std::string json;                 // the new version as it will be served, without meta
  std::string baseline_json;        // see the file comment; "" when the current version has text
  std::optional<int64_t> if_match;  // the version the client last saw
  bool create_only = false;         // POST: kConflict if the id exists
  int64_t now_ms = 0;               // becomes meta.lastUpdated
  // Typed types: json is the client's resource kept whole, and this is the StableHash64 of
  // `record`'s rendering (StoredDocument); empty when json is the rendering itself.
  std::optional<int64_t> rendering_hash = std::nullopt;
  // Document types (record: ResourceJson): the person it is about (required for a
  // person-bound type; kNotFound "Patient/x is not known" if not stored) and the values of its
  // search parameters (fhir/document.h extracts them), which replace the previous version's.
  std::string patient_id = {};
  std::vector<resources::IndexEntry> index = {};
  // Document types: the record's own sharing restriction (fhir::Document::sharing), kept
  // beside it for the visibility filter (migration 12).
  RecordSharing sharing = RecordSharing::kCareRelationship;
};

class ResourceStore {
 public:
  virtual ~ResourceStore() = default;

  // The current version; empty if there is no such resource (or the type is not served).
  // No access check: the caller applies the policy with AccessFacts(patient_key).
  virtual Result<std::optional<FoundResource>> FindResource(std::string_view resource_type,
                                                            std::string_view id) = 0;
  // Every version, newest first (the current version first). Empty if there is none. A record
  // never written through the API has one version, 1, with no lastUpdated and json "" (the
  // store keeps no text for it: render the current record).
  virtual Result<std::vector<ResourceVersion>> ResourceHistory(std::string_view resource_type,
                                                               std::string_view id) = 0;

  // One page of request (storage-neutral, resources/query.h; parsed by fhir/search) in its
  // sort order, then by id, starting after `after` (from the request's cursor, or the first
  // page). Rows whose person `visibility` excludes are never returned, counted or included;
  // nor are documents whose own sharing restriction excludes the caller (domain/sharing.h).
  // `total` is computed when want_total. kInvalidInput for a request the store cannot run
  // (naming the parameter). All SQL uses bound parameters.
  // Semantics the store fixes (resource_sql.cc has the details): a NULL sort value (only
  // _lastUpdated: never written through the API) sorts first ascending and last descending;
  // family/given sort by the folded name, which is also the cursor value; _revinclude rows are
  // capped at 1000 per page over all _revinclude parameters together; Organization,
  // Practitioner and PractitionerRole are matched in memory over the type's current rows (the
  // last two on their stored JSON). A count over a broad filter costs time in proportion to the
  // matches (about 0.2 s for 800,000 patients on SQLite): ask for it on the first page only.
  virtual Result<ResourcePage> SearchResources(const resources::SearchRequest& request,
                                               const resources::PageCursor* after,
                                               const Visibility& visibility, bool want_total) = 0;

  // Creates or updates one resource and returns its new meta, in one transaction:
  //   kConflict             create_only and the id exists, or a Writer is open; a Consent
  //                         that a later Consent of the person superseded;
  //   kPreconditionFailed   if_match differs from the current version (nothing written);
  //   kNotFound             a reference the record makes is not known ("Patient/x is not known"),
  //                         or the Consent to update;
  //   kInvalidInput         a type that cannot be written (RiskAssessment, Group, AuditEvent),
  //                         a person-bound document type without patient_id ("patient: …"),
  //                         a Consent create (use RecordConsent), a Consent whose patient is not
  //                         the stored one ("patient: …"), or a record/type mismatch.
  // Versions are contiguous: the new version is the current one + 1 (1 for a new resource).
  // Consent (record: ConsentRecord with the id, patient, decision and recorded_by): the row's
  // decision is replaced and recorded at max(now_ms, its previous time), so it stays the
  // person's latest decision (LatestConsent); the first update stores baseline_json as
  // version 1 at the time the decision was first recorded.
  virtual Result<ResourceMeta> PutResource(const ResourceWrite& write) = 0;

  // Patients of a segment (Group/[id]/$export), in key order, visible ones only.
  virtual Result<std::vector<int64_t>> SegmentMembers(std::string_view group_id,
                                                      const Visibility& visibility) = 0;

  // The case-finding worklist: one stratification run's results (RiskAssessment records) for
  // the people `visibility` lets the caller see, highest emergency-admission risk first (ties:
  // higher 12-month cost, then lower patient key — analytics::BuildWorklist's order). A run is
  // never changed once saved, so pages by offset are stable. kNotFound for a Group that does
  // not exist or is not of `run_id`.
  // With risen_since_run_id, only people whose risk is higher than in that run, the largest
  // rise first (then WorklistRows' usual order).
  struct WorklistQuery {
    int64_t run_id = 0;
    std::string practice_id;       // "" any practice
    std::string segment_group_id;  // "" any; else only the members of this Group (segment)
    std::string pch;               // "" any; else people at the Primary Care Home's practices
    std::optional<Date> born_from, born_to;           // birth date bounds, inclusive
    std::optional<double> risk_at_least, risk_below;  // admission risk bounds [at_least, below)
    int64_t risen_since_run_id = 0;                   // 0: everyone
    bool not_on_caseload = false;  // leave out people with an open case episode
    int64_t offset = 0;
    int limit = 20;
  };
  virtual Result<std::vector<FoundResource>> WorklistRows(const WorklistQuery& query,
                                                          const Visibility& visibility) = 0;

  // Sign-ins (audit subtype "login") for `username` at or after `since_ms`, oldest first, at
  // most `limit`: sign-in throttling that every server process sharing the database sees.
  struct SignIn {
    int64_t time_ms = 0;
    std::string source_address;
    bool succeeded = false;
  };
  virtual Result<std::vector<SignIn>> SignInsOf(std::string_view username, int64_t since_ms,
                                                int limit) = 0;

  // A random secret of `bytes` bytes kept in the database under `name`, created on first use
  // (concurrently safe), so every server process sharing the database signs cursors and CSRF
  // tokens alike.
  virtual Result<std::string> ServerSecret(std::string_view name, size_t bytes) = 0;
};

}  // namespace joinedup::store
