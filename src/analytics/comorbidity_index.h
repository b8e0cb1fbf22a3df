// A weighted comorbidity index defined by ICD-10 prefixes: the shape shared by Charlson and
// Elixhauser (see charlson.h, elixhauser.h for the published definitions).
//
// A person has a condition if any of their codes starts with one of its prefixes (after
// normalisation, see code_lists.h); each condition counts once. Hierarchy rules then drop a
// milder condition when its severe form is present (e.g. Charlson: moderate/severe liver
// disease drops mild liver disease), and the score is the sum of the remaining conditions'
// weights in the chosen weight set. Immutable after Parse; safe to share between threads.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "analytics/code_lists.h"
#include "core/result.h"

namespace joinedup::analytics {

struct ComorbidityCondition {
  std::string key;           // e.g. "chf", as in the published list and the R packages
  std::string label;         // e.g. "Congestive heart failure"
  std::vector<int> weights;  // one per weight set
};

// `subordinate` is not counted when `dominant` is present.
struct ComorbidityHierarchy {
  std::string dominant;
  std::string subordinate;
};

struct ConditionHit {
  int condition = 0;  // index into ComorbidityIndex::conditions()
  std::string code;   // the first code, in input order, that matched it (as given)
};

struct ComorbidityResult {
  uint64_t matched = 0;  // bit i: condition i matched by some code (before the hierarchy)
  uint64_t counted = 0;  // after the hierarchy: what the scores sum over
  std::vector<ConditionHit> found;  // counted conditions, in condition order
  std::vector<int> scores;          // one per weight set, in weight-set order
};

class ComorbidityIndex {
 public:
  // `text` is a list with columns condition,icd10_prefix,<weight_columns…>,condition_label;
  // one row per prefix. Conditions take the order of their first row. Refuses: more than 64
  // conditions, a condition whose weights or label differ between rows, a repeated
  // (condition, prefix), a prefix that is not 3-4 characters of [0-9A-Z], a hierarchy naming an
  // unknown condition.
  static Result<ComorbidityIndex> Parse(std::string_view file_name, std::string_view text,
                                        std::string_view weight_column_a,
                                        std::string_view weight_column_b,
                                        std::vector<ComorbidityHierarchy> hierarchies);

  const std::vector<ComorbidityCondition>& conditions() const { return conditions_; }
  int condition_count() const { return static_cast<int>(conditions_.size()); }
  // The weight-set names: the weight column names of the list.
  const std::vector<std::string>& weight_sets() const { return weight_sets_; }
  const std::vector<ComorbidityHierarchy>& hierarchies() const { return hierarchies_; }
  int ConditionIndex(std::string_view key) const;  // -1 if unknown

  // Conditions (bit mask) the code matches; a code may match several (Elixhauser "I426" is
  // both cardiomyopathy-as-heart-failure and alcohol). Unmatched or malformed codes give 0.
  uint64_t Match(std::string_view code) const { return prefixes_.Lookup(code); }
  const Icd10PrefixIndex& prefixes() const { return prefixes_; }

  uint64_t ApplyHierarchy(uint64_t matched) const;
  // Sum of the weights of the conditions in `counted` (already through ApplyHierarchy).
  int Score(uint64_t counted, int weight_set) const;

  // Everything about one person's codes (any order, repeats allowed).
  ComorbidityResult Evaluate(std::span<const std::string_view> codes) const;

 private:
  std::vector<ComorbidityCondition> conditions_;
  std::vector<std::string> weight_sets_;
  std::vector<ComorbidityHierarchy> hierarchies_;
  std::vector<std::pair<uint64_t, uint64_t>> hierarchy_bits_;  // (dominant, subordinate)
  Icd10PrefixIndex prefixes_;
};

}  // namespace joinedup::analytics
