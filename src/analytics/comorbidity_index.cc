#include "analytics/comorbidity_index.h"

#include <bit>
#include <set>
#include <utility>

namespace joinedup::analytics {

Result<ComorbidityIndex> ComorbidityIndex::Parse(std::string_view file_name, std::string_view text,
                                                 std::string_view weight_column_a,
                                                 std::string_view weight_column_b,
                                                 std::vector<ComorbidityHierarchy> hierarchies) {
  JU_ASSIGN_OR_RETURN(ReferenceTable table,
                      ParseReferenceCsv(file_name, text,
                                        {"condition", "icd10_prefix", weight_column_a,
                                         weight_column_b, "condition_label"}));
  ComorbidityIndex index;
  index.weight_sets_ = {std::string(weight_column_a), std::string(weight_column_b)};
  std::set<std::pair<int, std::string>> seen;
  for (const ReferenceRow& row : table.rows) {
    const std::string& key = row.fields[0];
    if (key.empty()) return Error::Invalid(table.Where(row, "condition") + "empty");
    std::vector<int> weights;
    for (int w = 0; w < 2; ++w) {
      const std::string_view column = w == 0 ? weight_column_a : weight_column_b;
      JU_ASSIGN_OR_RETURN(int weight, ParseIntField(row.fields[2 + w], table.Where(row, column)));
      weights.push_back(weight);
    }
    int c = index.ConditionIndex(key);
    if (c < 0) {
      if (index.conditions_.size() == 64) {
        return Error::Invalid(table.Where(row, "condition") + "more than 64 conditions");
      }
      index.conditions_.push_back({key, row.fields[4], weights});
      c = index.condition_count() - 1;
    } else if (index.conditions_[c].weights != weights) {
      return Error::Invalid(table.Where(row, "condition") + "weights of '" + key +
                            "' differ from its earlier rows");
    } else if (index.conditions_[c].label != row.fields[4]) {
      return Error::Invalid(table.Where(row, "condition_label") + "label of '" + key +
                            "' differs from its earlier rows");
    }
    const std::string& prefix = row.fields[1];
    if (!seen.emplace(c, prefix).second) {
      return Error::Invalid(table.Where(row, "icd10_prefix") + "'" + prefix + "' repeated for '" +
                            key + "'");
    }
    Status added = index.prefixes_.Add(prefix, uint64_t{1} << c);
    if (!added.ok())
      return Error::Invalid(table.Where(row, "icd10_prefix") + added.error().message);
  }
  for (const ComorbidityHierarchy& h : hierarchies) {
    const int dominant = index.ConditionIndex(h.dominant);
    const int subordinate = index.ConditionIndex(h.subordinate);
    if (dominant < 0 || subordinate < 0) {
      return Error::Invalid(table.file_name + ": hierarchy " + h.dominant + " > " + h.subordinate +
                            " names a condition the list does not have");
    }
    index.hierarchy_bits_.emplace_back(uint64_t{1} << dominant, uint64_t{1} << subordinate);
  }
  index.hierarchies_ = std::move(hierarchies);
  return index;
}

int ComorbidityIndex::ConditionIndex(std::string_view key) const {
  for (size_t i = 0; i < conditions_.size(); ++i) {
    if (conditions_[i].key == key) return static_cast<int>(i);
  }
  return -1;
}

uint64_t ComorbidityIndex::ApplyHierarchy(uint64_t matched) const {
  // Decided on the matched set, so the order of the rules does not matter.
  uint64_t counted = matched;
  for (const auto& [dominant, subordinate] : hierarchy_bits_) {
    if (matched & dominant) counted &= ~subordinate;
  }
  return counted;
}

int ComorbidityIndex::Score(uint64_t counted, int weight_set) const {
  int score = 0;
  while (counted != 0) {
    const int c = std::countr_zero(counted);
    counted &= counted - 1;
    score += conditions_[c].weights[weight_set];
  }
  return score;
}

ComorbidityResult ComorbidityIndex::Evaluate(std::span<const std::string_view> codes) const {
  ComorbidityResult result;
  std::vector<std::string_view> first_code(conditions_.size());
  for (std::string_view code : codes) {
    uint64_t bits = Match(code);
    uint64_t fresh = bits & ~result.matched;
    result.matched |= bits;
    while (fresh != 0) {
      first_code[std::countr_zero(fresh)] = code;
      fresh &= fresh - 1;
    }
  }
  result.counted = ApplyHierarchy(result.matched);
  for (int c = 0; c < condition_count(); ++c) {
    if (result.counted & (uint64_t{1} << c))
      result.found.push_back({c, std::string(first_code[c])});
  }
  for (int w = 0; w < static_cast<int>(weight_sets_.size()); ++w) {
    result.scores.push_back(Score(result.counted, w));
  }
  return result;
}

}  // namespace joinedup::analytics
