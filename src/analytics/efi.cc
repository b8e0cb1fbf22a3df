#include "analytics/efi.h"

#include <algorithm>
#include <set>
#include <utility>

#include "analytics/code_lists.h"

namespace joinedup::embedded {
std::string_view codes_efi_deficits();
std::string_view codes_efi_codes();
std::string_view codes_efi_value_rules();
}  // namespace joinedup::embedded

namespace joinedup::analytics {
namespace {

int TerminologySlot(CodeSystem system) {
  switch (system) {
    case CodeSystem::kReadV2:
      return 0;
    case CodeSystem::kCtv3:
      return 1;
    case CodeSystem::kSnomedCt:
      return 2;
    default:
      return -1;
  }
}

bool SameUnit(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string FormatValue(double v) {
  std::string s = std::to_string(v);  // "16.000000"
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

Result<bool> ParseFlag(std::string_view text, const std::string& where) {
  if (text == "0") return false;
  if (text == "1") return true;
  return Error::Invalid(where + "'" + std::string(text) + "' is not 0 or 1");
}

}  // namespace

std::string_view EfiCategoryName(EfiCategory category) {
  switch (category) {
    case EfiCategory::kFit:
      return "fit";
    case EfiCategory::kMild:
      return "mild";
    case EfiCategory::kModerate:
      return "moderate";
    case EfiCategory::kSevere:
      return "severe";
  }
  return "fit";
}

EfiCategory EfiCategoryOf(int deficits) {
  // Clegg 2016: fit <= 0.12, mild <= 0.24, moderate <= 0.36, severe > 0.36 of 36 deficits.
  if (deficits <= 4) return EfiCategory::kFit;
  if (deficits <= 8) return EfiCategory::kMild;
  if (deficits <= 12) return EfiCategory::kModerate;
  return EfiCategory::kSevere;
}

bool EfiModel::ValueRule::Passes(double value) const {
  if (has_lower && (lower_inclusive ? value < lower : value <= lower)) return false;
  if (has_upper && (upper_inclusive ? value > upper : value >= upper)) return false;
  return true;
}

Result<EfiModel> EfiModel::Parse(std::string_view deficits_csv, std::string_view codes_csv,
                                 std::string_view value_rules_csv) {
  EfiModel model;
  JU_ASSIGN_OR_RETURN(ReferenceTable deficits,
                      ParseReferenceCsv("efi_deficits.csv", deficits_csv,
                                        {"deficit_no", "deficit", "gm_sde_codeset", "n_readv2",
                                         "n_ctv3", "n_snomed_mapped", "value_rule"}));
  if (deficits.rows.size() != kEfiDeficitCount) {
    return Error::Invalid("efi_deficits.csv: expected 36 deficits, found " +
                          std::to_string(deficits.rows.size()));
  }
  for (const ReferenceRow& row : deficits.rows) {
    JU_ASSIGN_OR_RETURN(int number,
                        ParseIntField(row.fields[0], deficits.Where(row, "deficit_no")));
    if (number != static_cast<int>(model.deficits_.size()) + 1) {
      return Error::Invalid(deficits.Where(row, "deficit_no") + "expected " +
                            std::to_string(model.deficits_.size() + 1));
    }
    if (row.fields[1].empty()) return Error::Invalid(deficits.Where(row, "deficit") + "empty");
    if (row.fields[1] == "Polypharmacy") model.polypharmacy_ = number - 1;
    model.deficits_.push_back(row.fields[1]);
  }
  if (model.polypharmacy_ < 0) return Error::Invalid("efi_deficits.csv: no 'Polypharmacy' deficit");
  auto deficit_index = [&model](const std::string& name) {
    auto it = std::find(model.deficits_.begin(), model.deficits_.end(), name);
    return it == model.deficits_.end() ? -1 : static_cast<int>(it - model.deficits_.begin());
  };

  JU_ASSIGN_OR_RETURN(ReferenceTable codes,
                      ParseReferenceCsv("efi_codes.csv", codes_csv,
                                        {"deficit", "gm_sde_codeset", "terminology", "code", "term",
                                         "list_status"}));
  for (const ReferenceRow& row : codes.rows) {
    const int deficit = deficit_index(row.fields[0]);
    if (deficit < 0 || deficit == model.polypharmacy_) {
      return Error::Invalid(codes.Where(row, "deficit") + "'" + row.fields[0] +
                            "' is not a coded eFI deficit");
    }
    const auto system = CodeSystemFromTag(row.fields[2]);
    const int slot = system ? TerminologySlot(*system) : -1;
    if (slot < 0) {
      return Error::Invalid(codes.Where(row, "terminology") + "'" + row.fields[2] +
                            "' is not readv2, ctv3 or snomed");
    }
    if (row.fields[3].empty()) return Error::Invalid(codes.Where(row, "code") + "empty");
    std::vector<int>& list = model.codes_[slot][row.fields[3]];
    if (std::find(list.begin(), list.end(), deficit) == list.end()) list.push_back(deficit);
  }

  JU_ASSIGN_OR_RETURN(ReferenceTable rules,
                      ParseReferenceCsv("efi_value_rules.csv", value_rules_csv,
                                        {"deficit", "codes", "lower", "lower_inclusive", "upper",
                                         "upper_inclusive", "sex", "unit", "rule"}));
  for (const ReferenceRow& row : rules.rows) {
    ValueRule rule;
    rule.deficit = deficit_index(row.fields[0]);
    if (rule.deficit < 0) {
      return Error::Invalid(rules.Where(row, "deficit") + "'" + row.fields[0] +
                            "' is not an eFI deficit");
    }
    std::string_view list = row.fields[1];
    while (!list.empty()) {
      const size_t space = list.find(' ');
      std::string_view code = list.substr(0, space);
      if (!code.empty()) rule.codes.emplace_back(code);
      list = space == std::string_view::npos ? std::string_view() : list.substr(space + 1);
    }
    if (rule.codes.empty()) return Error::Invalid(rules.Where(row, "codes") + "no codes");
    for (int bound = 0; bound < 2; ++bound) {
      const std::string& value = row.fields[bound == 0 ? 2 : 4];
      const std::string& flag = row.fields[bound == 0 ? 3 : 5];
      const char* value_column = bound == 0 ? "lower" : "upper";
      const char* flag_column = bound == 0 ? "lower_inclusive" : "upper_inclusive";
      if (value.empty()) {
        if (!flag.empty()) {
          return Error::Invalid(rules.Where(row, flag_column) + "set without a bound");
        }
        continue;
      }
      JU_ASSIGN_OR_RETURN(double number, ParseDoubleField(value, rules.Where(row, value_column)));
      JU_ASSIGN_OR_RETURN(bool inclusive, ParseFlag(flag, rules.Where(row, flag_column)));
      (bound == 0 ? rule.lower : rule.upper) = number;
      (bound == 0 ? rule.has_lower : rule.has_upper) = true;
      (bound == 0 ? rule.lower_inclusive : rule.upper_inclusive) = inclusive;
    }
    if (row.fields[6] == "male") {
      rule.sex = Sex::kMale;
    } else if (row.fields[6] == "female") {
      rule.sex = Sex::kFemale;
    } else if (row.fields[6] != "any") {
      return Error::Invalid(rules.Where(row, "sex") + "'" + row.fields[6] +
                            "' is not any, male or female");
    }
    rule.unit = row.fields[7];
    rule.rule = row.fields[8];
    for (const std::string& code : rule.codes) {
      model.value_rules_by_code_[code].push_back(static_cast<int>(model.value_rules_.size()));
    }
    model.value_rules_.push_back(std::move(rule));
  }
  return model;
}

EfiResult EfiModel::Score(const EfiInput& input) const {
  std::vector<EfiDeficitHit> best(deficits_.size());
  std::vector<bool> present(deficits_.size(), false);
  // Keeps the earliest-dated trigger of each deficit (ties: the first in input order).
  auto offer = [&](int deficit, const ClinicalEvent& e, std::string reason) {
    if (present[deficit] && best[deficit].date <= e.date) return;
    present[deficit] = true;
    best[deficit] = {deficit, e.code, e.date, std::move(reason)};
  };
  for (const ClinicalEvent& e : input.events) {
    if (e.date > input.index_date) continue;
    const int slot = TerminologySlot(e.system);
    if (slot < 0) continue;
    if (auto it = codes_[slot].find(e.code); it != codes_[slot].end()) {
      for (int deficit : it->second) offer(deficit, e, "code");
    }
    // Value rules are written with Read v2 and CTV3 codes.
    if (!e.value || slot == 2) continue;
    auto it = value_rules_by_code_.find(e.code);
    if (it == value_rules_by_code_.end()) continue;
    for (int r : it->second) {
      const ValueRule& rule = value_rules_[r];
      if (rule.sex != Sex::kUnknown && rule.sex != input.sex) continue;
      if (!rule.unit.empty() && !e.unit.empty() && !SameUnit(rule.unit, e.unit)) continue;
      if (!rule.Passes(*e.value)) continue;
      offer(rule.deficit, e, "value " + FormatValue(*e.value) + " (" + rule.rule + ")");
    }
  }

  // Polypharmacy: distinct medications prescribed in the year up to the index date.
  const Date year_before = input.index_date.AddYears(-1);
  std::set<std::pair<CodeSystem, std::string_view>> distinct;
  for (const Medication& m : input.medications) {
    if (m.start > input.index_date) continue;
    if (m.end && *m.end < year_before) continue;
    distinct.emplace(m.system, m.code);
  }
  if (static_cast<int>(distinct.size()) >= kPolypharmacyMedications) {
    present[polypharmacy_] = true;
    best[polypharmacy_] = {polypharmacy_, "", input.index_date,
                           std::to_string(distinct.size()) + " medications"};
  }

  EfiResult result;
  for (size_t d = 0; d < deficits_.size(); ++d) {
    if (!present[d]) continue;
    ++result.deficit_count;
    result.found.push_back(std::move(best[d]));
  }
  result.category = EfiCategoryOf(result.deficit_count);
  return result;
}

Result<const EfiModel*> Efi() {
  static const Result<EfiModel> parsed =
      EfiModel::Parse(embedded::codes_efi_deficits(), embedded::codes_efi_codes(),
                      embedded::codes_efi_value_rules());
  if (!parsed.ok()) return parsed.error();
  return &parsed.value();
}

}  // namespace joinedup::analytics
