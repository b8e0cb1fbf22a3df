#include "analytics/hfrs.h"

namespace joinedup::embedded {
std::string_view codes_hfrs_icd10_weights();
}  // namespace joinedup::embedded

namespace joinedup::analytics {
namespace {

constexpr int kKeySpace = 37 * 37 * 37;  // Icd10PrefixIndex::Key3 range
constexpr int kMaxCategories = 128;

}  // namespace

std::string_view HfrsBandName(HfrsBand band) {
  switch (band) {
    case HfrsBand::kLow:
      return "low";
    case HfrsBand::kIntermediate:
      return "intermediate";
    case HfrsBand::kHigh:
      return "high";
  }
  return "low";
}

HfrsBand HfrsBandOf(int points_tenths) {
  // Gilbert 2018: low < 5, intermediate 5-15, high > 15.
  if (points_tenths < 50) return HfrsBand::kLow;
  if (points_tenths <= 150) return HfrsBand::kIntermediate;
  return HfrsBand::kHigh;
}

Result<HfrsModel> HfrsModel::Parse(std::string_view file_name, std::string_view text) {
  JU_ASSIGN_OR_RETURN(
      ReferenceTable table,
      ParseReferenceCsv(file_name, text, {"icd10_category", "points", "description"}));
  HfrsModel model;
  model.category_of_key_.assign(kKeySpace, -1);
  for (const ReferenceRow& row : table.rows) {
    const std::string& category = row.fields[0];
    bool valid = category.size() == 3;
    for (char c : category) valid = valid && ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'));
    if (!valid) {
      return Error::Invalid(table.Where(row, "icd10_category") + "'" + category +
                            "' is not a 3-character ICD-10 category");
    }
    const int key = Icd10PrefixIndex::Key3(category.data());
    if (model.category_of_key_[key] >= 0) {
      return Error::Invalid(table.Where(row, "icd10_category") + "'" + category + "' repeated");
    }
    if (model.categories_.size() == kMaxCategories) {
      return Error::Invalid(table.Where(row, "icd10_category") + "more than 128 categories");
    }
    JU_ASSIGN_OR_RETURN(int tenths, ParseTenthsField(row.fields[1], table.Where(row, "points")));
    model.category_of_key_[key] = static_cast<int16_t>(model.categories_.size());
    model.categories_.push_back({category, tenths, row.fields[2]});
  }
  return model;
}

int HfrsModel::CategoryOf(std::string_view code) const {
  char c[3];
  if (GatherIcd10Prefix(code, c, 3) < 3) return -1;
  const int key = Icd10PrefixIndex::Key3(c);
  return key < 0 ? -1 : category_of_key_[key];
}

HfrsResult HfrsModel::Score(std::span<const std::string_view> codes) const {
  std::vector<std::string_view> first(categories_.size());
  std::vector<bool> seen(categories_.size(), false);
  for (std::string_view code : codes) {
    const int category = CategoryOf(code);
    if (category >= 0 && !seen[category]) {
      seen[category] = true;
      first[category] = code;
    }
  }
  HfrsResult result;
  for (size_t i = 0; i < categories_.size(); ++i) {
    if (!seen[i]) continue;
    result.points_tenths += categories_[i].points_tenths;
    result.found.push_back({static_cast<int>(i), std::string(first[i])});
  }
  result.band = HfrsBandOf(result.points_tenths);
  return result;
}

HfrsResult HfrsModel::ScoreAdmissions(std::span<const HfrsDiagnosis> diagnoses,
                                      Date index_date) const {
  const Date window_start = index_date.AddYears(-2);
  std::vector<std::string_view> codes;
  for (const HfrsDiagnosis& d : diagnoses) {
    if (d.is_emergency_admission && d.date >= window_start && d.date <= index_date) {
      codes.push_back(d.code);
    }
  }
  return Score(codes);
}

Result<const HfrsModel*> Hfrs() {
  static const Result<HfrsModel> parsed =
      HfrsModel::Parse("hfrs_icd10_weights.csv", embedded::codes_hfrs_icd10_weights());
  if (!parsed.ok()) return parsed.error();
  return &parsed.value();
}

}  // namespace joinedup::analytics
