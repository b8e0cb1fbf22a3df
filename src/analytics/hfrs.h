// Hospital Frailty Risk Score (HFRS).
//
// Source: Gilbert T et al. Development and validation of a Hospital Frailty Risk Score focusing
// on older people in acute care settings using electronic hospital records: an observational
// study. Lancet 2018;391(10132):1775-82, doi:10.1016/S0140-6736(18)30668-8, supplementary
// appendix (109 ICD-10 3-character categories with points); compiled in from
// data/codes/hfrs_icd10_weights.csv.
// Rules (paper): the first 3 characters of each normalised ICD-10 code (see code_lists.h) name
// its category; each category counts once per person; the score is the sum of the points of
// the categories found, over the index admission and emergency admissions in the preceding two
// years. Bands: low < 5, intermediate 5-15 (both ends included, so exactly 5.0 and exactly 15.0
// are intermediate), high > 15. (R package `hfrs` puts exactly 5.0 in low; the paper does not.)
//
// Points have one decimal, so scores are kept in integer tenths: sums are exact and the band
// edges are compared exactly (15.1 is 151 tenths, high).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "analytics/code_lists.h"
#include "core/date.h"
#include "core/result.h"

namespace joinedup::analytics {

enum class HfrsBand { kLow, kIntermediate, kHigh };
std::string_view HfrsBandName(HfrsBand band);  // "low", "intermediate", "high"
HfrsBand HfrsBandOf(int points_tenths);

struct HfrsCategory {
  std::string category;   // "F00"
  int points_tenths = 0;  // 71 for 7.1
  std::string description;
};

struct HfrsHit {
  int category = 0;  // index into HfrsModel::categories()
  std::string code;  // the first code (in input order) in that category, as given
};

struct HfrsResult {
  int points_tenths = 0;
  HfrsBand band = HfrsBand::kLow;
  std::vector<HfrsHit> found;  // in category order
  double score() const { return points_tenths / 10.0; }
};

// One hospital diagnosis of a person, for the windowed score.
struct HfrsDiagnosis {
  std::string_view code;
  Date date;  // admission date of the spell it was coded in
  bool is_emergency_admission = false;
};

class HfrsModel {
 public:
  // A list in the layout of data/codes/hfrs_icd10_weights.csv. Refuses: a category that is not
  // 3 characters of [0-9A-Z], a repeated category, points that are not a non-negative decimal
  // with at most one decimal place, more than 128 categories.
  static Result<HfrsModel> Parse(std::string_view file_name, std::string_view text);

  const std::vector<HfrsCategory>& categories() const { return categories_; }
  // Category index of a (raw) code, or -1 if its first 3 characters are not an HFRS category.
  int CategoryOf(std::string_view code) const;

  // Every code counts (the caller has chosen them), e.g. for `joinedup score hfrs`.
  HfrsResult Score(std::span<const std::string_view> codes) const;

  // Applies the paper's window: a diagnosis counts if it comes from an emergency admission dated
  // from index_date.AddYears(-2) to index_date, both included. The index admission is passed as
  // an emergency admission dated index_date (the HFRS cohort was emergency admissions). Later
  // diagnoses, earlier ones and elective or other admissions do not count.
  HfrsResult ScoreAdmissions(std::span<const HfrsDiagnosis> diagnoses, Date index_date) const;

 private:
  std::vector<HfrsCategory> categories_;
  std::vector<int16_t> category_of_key_;  // Icd10PrefixIndex::Key3 -> category, -1 if none
};

// The compiled-in list, parsed at first use (thread-safe).
Result<const HfrsModel*> Hfrs();

}  // namespace joinedup::analytics
