#include "analytics/ltc_conditions.h"

#include <algorithm>
#include <utility>

namespace joinedup::embedded {
std::string_view codes_ltc_conditions();
}  // namespace joinedup::embedded

namespace joinedup::analytics {
namespace {

Result<bool> ParseFlag(std::string_view text, const std::string& where) {
  if (text == "0") return false;
  if (text == "1") return true;
  return Error::Invalid(where + "'" + std::string(text) + "' is not 0 or 1");
}

bool IsPrefixChar(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'); }

// "C00-C43" -> {"C00", ..., "C43"}; a single prefix -> itself. Empty on a malformed range.
std::vector<std::string> ExpandIcd10(const std::string& code) {
  const size_t dash = code.find('-');
  if (dash == std::string::npos) return {code};
  const std::string from = code.substr(0, dash), to = code.substr(dash + 1);
  auto valid = [](const std::string& c) {
    return c.size() == 3 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= '0' && c[1] <= '9' &&
           c[2] >= '0' && c[2] <= '9';
  };
  if (!valid(from) || !valid(to) || from[0] != to[0] || from > to) return {};
  std::vector<std::string> out;
  for (int n = std::stoi(from.substr(1)); n <= std::stoi(to.substr(1)); ++n) {
    out.push_back(std::string(1, from[0]) + static_cast<char>('0' + n / 10) +
                  static_cast<char>('0' + n % 10));
  }
  return out;
}

}  // namespace

Result<LtcList> LtcList::Parse(std::string_view file_name, std::string_view text) {
  JU_ASSIGN_OR_RETURN(ReferenceTable table,
                      ParseReferenceCsv(file_name, text,
                                        {"condition", "label", "qof_cluster", "ltc",
                                         "mental_health", "system", "code", "term"}));
  LtcList list;
  std::vector<std::vector<std::pair<CodeSystem, std::string>>> seen;
  for (const ReferenceRow& row : table.rows) {
    const std::string& key = row.fields[0];
    if (key.empty()) return Error::Invalid(table.Where(row, "condition") + "empty");
    JU_ASSIGN_OR_RETURN(bool ltc, ParseFlag(row.fields[3], table.Where(row, "ltc")));
    JU_ASSIGN_OR_RETURN(bool mental_health,
                        ParseFlag(row.fields[4], table.Where(row, "mental_health")));
    int index = list.ConditionIndex(key);
    if (index < 0) {
      if (list.conditions_.size() == 64) {
        return Error::Invalid(table.Where(row, "condition") + "more than 64 conditions");
      }
      index = static_cast<int>(list.conditions_.size());
      list.conditions_.push_back({key, row.fields[1], row.fields[2], ltc, mental_health});
      seen.emplace_back();
      if (ltc) list.ltc_bits_ |= uint64_t{1} << index;
      if (mental_health) list.mental_health_bits_ |= uint64_t{1} << index;
    } else {
      const LtcCondition& c = list.conditions_[index];
      if (c.label != row.fields[1] || c.qof_cluster != row.fields[2] || c.ltc != ltc ||
          c.mental_health != mental_health) {
        return Error::Invalid(table.Where(row, "label") + "condition '" + key +
                              "' has a different label, cluster or flags on an earlier row");
      }
    }
    const uint64_t bit = uint64_t{1} << index;
    const auto system = CodeSystemFromTag(row.fields[5]);
    if (!system || (*system != CodeSystem::kSnomedCt && *system != CodeSystem::kReadV2 &&
                    *system != CodeSystem::kCtv3 && *system != CodeSystem::kIcd10)) {
      return Error::Invalid(table.Where(row, "system") + "'" + row.fields[5] +
                            "' is not snomed, readv2, ctv3 or icd10");
    }
    const std::string& code = row.fields[6];
    if (code.empty()) return Error::Invalid(table.Where(row, "code") + "empty");
    auto& codes = seen[index];
    if (std::find(codes.begin(), codes.end(), std::pair(*system, code)) != codes.end()) {
      return Error::Invalid(table.Where(row, "code") + "'" + code + "' repeated for '" + key + "'");
    }
    codes.emplace_back(*system, code);
    if (*system != CodeSystem::kIcd10) {
      list.exact_[static_cast<int>(*system)][code] |= bit;
      continue;
    }
    const std::vector<std::string> prefixes = ExpandIcd10(code);
    if (prefixes.empty()) {
      return Error::Invalid(table.Where(row, "code") + "'" + code +
                            "' is not a range of 3-character ICD-10 categories like C00-C43");
    }
    for (const std::string& prefix : prefixes) {
      if (prefix.size() < 3 || prefix.size() > 4 ||
          !std::all_of(prefix.begin(), prefix.end(), IsPrefixChar)) {
        return Error::Invalid(table.Where(row, "code") + "'" + code +
                              "' is not an ICD-10 prefix of 3-4 characters [0-9A-Z] without a dot");
      }
      JU_RETURN_IF_ERROR(list.icd10_.Add(prefix, bit));
    }
  }
  return list;
}

int LtcList::ConditionIndex(std::string_view key) const {
  for (size_t i = 0; i < conditions_.size(); ++i)
    if (conditions_[i].key == key) return static_cast<int>(i);
  return -1;
}

uint64_t LtcList::Match(CodeSystem system, std::string_view code) const {
  if (system == CodeSystem::kIcd10) return icd10_.Lookup(code);
  const auto& map = exact_[static_cast<int>(system)];
  if (map.empty()) return 0;
  auto it = map.find(std::string(code));
  return it == map.end() ? 0 : it->second;
}

Result<const LtcList*> LtcConditions() {
  static const Result<LtcList> parsed =
      LtcList::Parse("ltc_conditions.csv", embedded::codes_ltc_conditions());
  if (!parsed.ok()) return parsed.error();
  return &parsed.value();
}

}  // namespace joinedup::analytics
