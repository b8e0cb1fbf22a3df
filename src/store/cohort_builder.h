// CohortBuilder: turns rows read from the store, in any grouping, into a Cohort (private to
// store; both backends use it for LoadCohort).
//
// Phase 1, one thread: practices, concepts and people (people in ascending key order).
// Phase 2, any number of threads: event, activity and medication rows, each set at a
// position that follows the table's key order (SQLite: key - first key, so readers of
// disjoint key ranges write disjoint positions with no coordination; PostgreSQL: the row's
// rank in a key-ordered stream). Finish() groups the rows by person and sorts each person's
// records by date. Stores written person by person (every import and the generator) already
// hold each table grouped in key order; then the rows stay where they were written and
// grouping costs one check. Otherwise a counting sort moves them. Either way the date sort is
// stable, so records with equal dates keep key order — the same whatever the thread count.
//
// Rows the schema forbids (an unknown person or concept key, an enum ordinal out of range,
// people out of key order) are kInternal, naming the table.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "domain/cohort.h"

namespace joinedup::store {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Maps sparse int64 store keys to dense indexes: a direct table when the keys are dense
// enough (SQLite rowids, the normal case), else binary search over the sorted keys.
class KeyIndex {
 public:
  // `keys` must be strictly ascending.
  void Build(std::vector<int64_t> keys);
  // The index of `key`, or -1.
  int64_t Find(int64_t key) const {
    if (!direct_.empty()) {
      const uint64_t at = static_cast<uint64_t>(key - min_);
      return at < direct_.size() ? direct_[at] : -1;
    }
    return FindSorted(key);
  }

 private:
  int64_t FindSorted(int64_t key) const;
  int64_t min_ = 0;
  std::vector<int32_t> direct_;
  std::vector<int64_t> sorted_;
};

class CohortBuilder {
 public:
  // ---- Phase 1 ----
  void AddPractice(Practice practice);
  Status AddConcept(int64_t key, int64_t system, std::string_view code);
  // `nhs_number` and `practice_id` empty when absent.
  Status AddPerson(int64_t key, std::string_view id, std::string_view nhs_number,
                   std::string_view practice_id, int64_t birth_date, int64_t sex,
                   int64_t deprivation_decile, std::optional<int64_t> death_date);
  // Room for this many rows of each table (positions 0..n-1). Positions not set in phase 2
  // are holes, left out of the cohort. May run on another thread during phase 1: the tables
  // are large and allocating them is worth overlapping with reading the people.
  void AllocateRows(uint64_t events, uint64_t activities, uint64_t medications);
  // Ends phase 1 (after AllocateRows has returned).
  void EndPeople();

  // ---- Phase 2: any threads, each position set at most once ----
  // `position` orders the rows: the table's key order (see the header comment).
  Status SetEvent(uint64_t position, int64_t patient_key, int64_t concept_key, int64_t date,
                  int64_t kind, int64_t source, int64_t admission_method,
                  std::optional<double> value);
  Status SetActivity(uint64_t position, int64_t patient_key, int64_t type, int64_t start,
                     std::optional<int64_t> end, int64_t length_of_stay_days, int64_t cost_pence);
  Status SetMedication(uint64_t position, int64_t patient_key, int64_t concept_key, int64_t start,
                       std::optional<int64_t> end);

  int64_t people() const { return static_cast<int64_t>(cohort_.people.size()); }

  // Groups and sorts on `threads` threads; the builder is spent afterwards.
  Cohort Finish(int threads);

 private:
  // Rows of one table by position, with the person (index) of each; kHole where unset.
  template <typename Record>
  struct Rows {
    std::vector<uint32_t> person;
    std::vector<Record> records;
    Status Check(uint64_t position, std::string_view table) const;
  };
  static constexpr uint32_t kHole = UINT32_MAX;

  Result<uint32_t> Person(int64_t patient_key, std::string_view table) const;
  Result<uint32_t> Concept(int64_t concept_key, std::string_view table) const;

  Cohort cohort_;
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> practice_index_;
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> concept_by_code_;
  std::vector<int64_t> concept_keys_, person_keys_;
  std::vector<uint32_t> concept_of_key_;  // cohort concept of each concept_keys_ entry
  KeyIndex concepts_, people_;
  Rows<Cohort::Event> events_;
  Rows<Cohort::Activity> activities_;
  Rows<Cohort::Medication> medications_;
};

// Runs fn(i) for i in [0, n) on up to `threads` threads (the calling thread included).
void ParallelFor(int threads, int64_t n, const std::function<void(int64_t begin, int64_t end)>& fn);

}  // namespace joinedup::store
