// Store: where joinedup keeps the population, behind one interface with two backends.
//
//   SQLite      the embedded default: one file, WAL journal, foreign keys enforced.
//   PostgreSQL  for shared, multi-process deployments (libpq).
//
// Both apply the same versioned schema migrations when opened and pass one conformance
// suite (tests/store). FHIR is the language at the edges; the store holds typed tables.
//
// Thread safety: a Store and its Writer are used from one thread at a time. Open one Store
// per thread for parallel readers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "domain/cohort.h"
#include "domain/population.h"
#include "domain/stratification_run.h"
#include "store/caseload_store.h"
#include "store/resource_store.h"
#include "store/security_store.h"

namespace joinedup::store {

// A write transaction. Records are validated against what the store already holds plus what
// this writer has added: a record naming an unknown patient, practice or activity fails with
// kNotFound and a message that starts with the missing target — "Patient/p-12 is not known",
// "Organization/F84001 is not known", "Activity/e-7 is not known" — so the importer can name
// the field; nothing of that record is written. Adding a record whose id already exists
// replaces it (an update, never a copy).
// Nothing is visible to readers until Commit(); destroying an uncommitted Writer rolls back.
class Writer : public PopulationSink {
 public:
  // Sets the notional cost of an activity already added or stored (FHIR ChargeItem import).
  virtual Status SetActivityCost(std::string_view activity_id, int64_t cost_pence) = 0;
  // Adds or replaces a resource of a document type (ResourceStore::PutResource's rules for
  // them, without if_match: a new version at write.now_ms; kNotFound "Patient/x is not known"
  // for a person neither stored nor added by this writer).
  virtual Status AddDocument(const ResourceWrite& write) = 0;
  virtual Status Commit() = 0;
};

struct TableCounts {
  int64_t practices = 0;
  int64_t patients = 0;
  int64_t events = 0;
  int64_t activities = 0;
  int64_t medications = 0;
  friend bool operator==(const TableCounts&, const TableCounts&) = default;
};

// How many distinct people have a code recorded (for "top conditions").
struct CodeFrequency {
  CodeSystem system = CodeSystem::kSnomedCt;
  std::string code;
  std::string term;
  int64_t patients = 0;
};

struct CohortLoadOptions {
  int threads = 0;  // 0 = all cores
  // Records read so far (people, events, activities, medications) out of `total`. Called
  // from the calling thread, a few times a second and once at the end with done == total.
  std::function<void(int64_t done, int64_t total)> progress;
  // When set, activities over before this date are left out of the cohort: it keeps those
  // starting or ending on or after it, and those with no end that are not contacts (an open
  // package, placement, continuing-healthcare episode or admission). GP appointments,
  // outpatient and community contacts have no end and are kept only if they start on or after
  // it. Stratifying at index date D needs activity from D - 1 year only; most of a store's
  // rows are older contacts.
  std::optional<Date> activities_from;
  // Practices, concepts and people only: no events, activities or medications (every person's
  // ranges empty). For commands that only need to name people and their practice.
  bool people_only = false;
};

// The population and analytics methods are below; identity, access control and audit are the
// SecurityStore methods (store/security_store.h), and what the FHIR server asks of the store
// the ResourceStore methods (store/resource_store.h), each kept in its own interface.
class Store : public SecurityStore, public ResourceStore, public CaseloadStore {
 public:
  ~Store() override = default;

  virtual std::string_view backend() const = 0;  // "sqlite" or "postgresql"
  virtual int schema_version() const = 0;        // latest migration applied

  // Starts a write transaction. Only one writer per Store at a time.
  virtual Result<std::unique_ptr<Writer>> BeginWrite() = 0;

  virtual Result<TableCounts> Counts() = 0;
  virtual Result<std::vector<Practice>> Practices() = 0;
  virtual Result<std::optional<Patient>> FindPatient(std::string_view id) = 0;
  virtual Result<std::optional<Patient>> FindPatientByNhsNumber(const NhsNumber& nhs_number) = 0;
  virtual Result<std::vector<ClinicalEvent>> EventsForPatient(std::string_view patient_id) = 0;
  virtual Result<std::optional<Activity>> FindActivity(std::string_view id) = 0;
  virtual Result<std::vector<Activity>> ActivitiesForPatient(std::string_view patient_id) = 0;
  virtual Result<std::vector<Medication>> MedicationsForPatient(std::string_view patient_id) = 0;

  // Calls `fn` for every patient in id order; stops at, and returns, the first error `fn` returns.
  virtual Status ScanPatients(const std::function<Status(const Patient&)>& fn) = 0;
  // Every registered person's key, practice, birth date, sex and death date, in key order.
  virtual Result<std::vector<RegisteredPerson>> RegisteredPeople() = 0;

  // The `limit` codes of kind Condition recorded for the most distinct living people,
  // most frequent first (ties by system, then code).
  virtual Result<std::vector<CodeFrequency>> TopConditionCodes(int limit) = 0;

  // ---- Population analytics ---------------------------------------------------------------

  // The whole committed population as a Cohort (see domain/cohort.h): practices in id order;
  // concepts interned by (system, code) — a code stored with two terms is one concept;
  // people in key order; each person's records in ascending date, ties in the store's key
  // order. Every field is copied exactly; the result is identical whatever `threads`.
  // One consistent snapshot: a writer committing meanwhile is either wholly in or wholly out.
  // SQLite reads on `threads` extra read-only connections (one for ":memory:", or when another
  // connection is writing); PostgreSQL on the store's own connection.
  // Errors: kConflict if a Writer is open on this store; kUnavailable if the database fails;
  // kInternal for rows the schema forbids.
  virtual Result<Cohort> LoadCohort(const CohortLoadOptions& options) = 0;

  // ---- Stratification runs (domain/stratification_run.h) ------------------------------------

  // Stores a run and its per-person results in one transaction, all or nothing; assigns and
  // returns the run's id (ids increase with each run) and sets its created_at. `run.id` and
  // `run.created_at` are ignored. Refused, writing nothing:
  //   kInvalidInput  a result whose segment/rule sizes differ from run.models.size(), whose
  //                  segment is none of kOutsidePopulation, kNoSegment, 0..segments-1, whose
  //                  rule is below -1, whose admission_risk is not finite, or that repeats an
  //                  earlier result's patient_key (the message names the index: "results[7]: …");
  //                  text containing NUL;
  //   kNotFound      a result naming a patient_key the store does not hold ("results[7]: …");
  //   kConflict      a Writer is open on this store.
  virtual Result<int64_t> SaveRun(const StratificationRun& run,
                                  std::span<const PersonRunResult> results) = 0;
  // Every run, newest first.
  virtual Result<std::vector<StratificationRun>> Runs() = 0;
  virtual Result<std::optional<StratificationRun>> FindRun(int64_t id) = 0;
  // The run's results in patient_key order; kNotFound if there is no such run.
  virtual Result<std::vector<PersonRunResult>> RunResults(int64_t run_id) = 0;
  // Each run that has a result for the person, with that result, oldest run first (empty for
  // a person no run covered, or no such person).
  virtual Result<std::vector<std::pair<StratificationRun, PersonRunResult>>> PersonHistory(
      int64_t patient_key) = 0;
};

// Opens (creating if needed) and migrates a store.
//   "postgresql://…" or "postgres://…"   PostgreSQL (a libpq connection URI)
//   "sqlite:PATH", or any other PATH     SQLite file; ":memory:" for a private in-memory one
// Errors: kUnavailable when the database cannot be reached or opened; kInvalidInput for a
// malformed URL; kConflict when the database's schema is newer than this program knows.
Result<std::unique_ptr<Store>> OpenStore(std::string_view url);

}  // namespace joinedup::store
