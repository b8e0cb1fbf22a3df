// Long-term conditions: the list behind the `ltc_count` and `mental_health_need` features.
//
// The list is data (data/codes/ltc_conditions.csv, compiled in): the QOF clinical registers
// (NHS England QOF 2024/25; each row names its NHS Digital Primary Care Domain cluster, e.g.
// HYP_COD) plus hypothyroidism, Parkinson's disease and osteoarthritis, each with SNOMED CT codes
// (exact match) and ICD-10 prefixes (starts-with match after normalisation, see code_lists.h),
// so GP records and hospital diagnoses both count. Rules (see the file's `#` lines): a condition
// counts once if any of its codes is recorded on or before the index date; resolved codes are
// not applied; a condition marked mental_health (dementia, depression, SMI) makes a
// mental-health need. Immutable after Parse; safe to share between threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "analytics/code_lists.h"
#include "core/result.h"
#include "domain/population.h"

namespace joinedup::analytics {

struct LtcCondition {
  std::string key;          // "heart_failure"
  std::string label;        // "Heart failure"
  std::string qof_cluster;  // "HF_COD"
  bool ltc = true;          // counts in ltc_count
  bool mental_health = false;
};

class LtcList {
 public:
  // A list in the layout of data/codes/ltc_conditions.csv. Refuses: more than 64 conditions; a
  // condition whose label, cluster or flags differ between rows; a flag that is not 0 or 1; a
  // terminology other than snomed, readv2, ctv3 or icd10; an empty code; an ICD-10 prefix that
  // is not 3-4 characters of [0-9A-Z] or a range "C00-C43" of 3-character categories with one
  // letter; the same code listed twice for a condition.
  static Result<LtcList> Parse(std::string_view file_name, std::string_view text);

  const std::vector<LtcCondition>& conditions() const { return conditions_; }
  int ConditionIndex(std::string_view key) const;  // -1 if unknown
  uint64_t ltc_bits() const { return ltc_bits_; }
  uint64_t mental_health_bits() const { return mental_health_bits_; }

  // The conditions (bit i: conditions()[i]) a code implies; 0 if none. SNOMED CT, Read v2 and
  // CTV3 codes match exactly; ICD-10 codes by prefix on the normalised code.
  uint64_t Match(CodeSystem system, std::string_view code) const;

 private:
  std::vector<LtcCondition> conditions_;
  uint64_t ltc_bits_ = 0, mental_health_bits_ = 0;
  std::unordered_map<std::string, uint64_t> exact_[kCodeSystemCount];
  Icd10PrefixIndex icd10_;
};

// The compiled-in list, parsed at first use (thread-safe).
Result<const LtcList*> LtcConditions();

}  // namespace joinedup::analytics
