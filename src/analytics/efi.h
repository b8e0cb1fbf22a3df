// Electronic Frailty Index (eFI).
//
// Source: Clegg A et al. Development and validation of an electronic frailty index using
// routine primary care electronic health record data. Age Ageing 2016;45(3):353-60,
// doi:10.1093/ageing/afw039. 36 equally weighted deficits; eFI = deficits present / 36;
// categories fit (<= 0.12), mild (<= 0.24), moderate (<= 0.36), severe (> 0.36), i.e. 0-4,
// 5-8, 9-12 and 13-36 deficits. Categories are decided on the deficit count, never on the
// fraction, so 0.12 = 4.32/36 cannot be misplaced by floating point.
//
// Deficits come from (compiled in from data/codes/):
//   codes   efi_codes.csv: Read v2 and CTV3 codes of the original eFI and the auto-mapped,
//           unvalidated SNOMED CT codes (gm-sde code sets; see the file's `#` lines). A code
//           matches exactly and case-sensitively within its own terminology ("XaJv3" is not
//           "XAJV3"); recorded at any time up to the index date counts. A code may belong to
//           two deficits (e.g. Read v2 G670.: cerebrovascular and peripheral vascular disease).
//   values  efi_value_rules.csv: a recorded value passing a rule (e.g. Barthel <= 18) makes
//           the deficit present; any value on or before the index date counts.
//   polypharmacy  efi_deficits.csv, deficit 26: ">= 5 different medications prescribed in the
//           12 months before the index date" (gm-sde note citing A. Clegg). We count distinct
//           (system, code) medications whose prescription period [start, end] overlaps
//           [index_date - 1 year, index_date]; a medication with no end is current.
// Immutable after Parse; safe to share between threads.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/date.h"
#include "core/result.h"
#include "domain/population.h"

namespace joinedup::analytics {

inline constexpr int kEfiDeficitCount = 36;
inline constexpr int kPolypharmacyMedications = 5;

enum class EfiCategory { kFit, kMild, kModerate, kSevere };
std::string_view EfiCategoryName(EfiCategory category);  // "fit", "mild", "moderate", "severe"
EfiCategory EfiCategoryOf(int deficits);

struct EfiDeficitHit {
  int deficit = 0;     // index into EfiModel::deficits() (deficit_no - 1)
  std::string code;    // the triggering code (earliest-dated); empty for polypharmacy
  Date date;           // its date (for polypharmacy: the index date)
  std::string reason;  // "code", "value 16 (Barthel index <= 18)", "6 medications"
};

struct EfiResult {
  int deficit_count = 0;
  EfiCategory category = EfiCategory::kFit;
  std::vector<EfiDeficitHit> found;  // in deficit order
  double efi() const { return deficit_count / static_cast<double>(kEfiDeficitCount); }
};

struct EfiInput {
  std::span<const ClinicalEvent> events;
  std::span<const Medication> medications;
  Date index_date;
  Sex sex = Sex::kUnknown;  // the haemoglobin rules need it; skipped when unknown
};

class EfiModel {
 public:
  // The three lists in the layouts of data/codes/efi_deficits.csv, efi_codes.csv and
  // efi_value_rules.csv. Refuses: not exactly 36 deficits numbered 1..36, a code or rule naming
  // an unknown deficit, an unknown terminology, an empty code, a bad bound.
  static Result<EfiModel> Parse(std::string_view deficits_csv, std::string_view codes_csv,
                                std::string_view value_rules_csv);

  const std::vector<std::string>& deficits() const { return deficits_; }
  int polypharmacy_deficit() const { return polypharmacy_; }

  EfiResult Score(const EfiInput& input) const;

 private:
  struct ValueRule {
    int deficit = 0;
    std::vector<std::string> codes;
    bool has_lower = false, lower_inclusive = false, has_upper = false, upper_inclusive = false;
    double lower = 0, upper = 0;
    Sex sex = Sex::kUnknown;  // kUnknown = any
    std::string unit;
    std::string rule;
    bool Passes(double value) const;
  };

  std::vector<std::string> deficits_;
  int polypharmacy_ = -1;
  // Per terminology (readv2, ctv3, snomed): code -> deficits.
  std::unordered_map<std::string, std::vector<int>> codes_[3];
  std::vector<ValueRule> value_rules_;
  std::unordered_map<std::string, std::vector<int>> value_rules_by_code_;
};

// The compiled-in lists, parsed at first use (thread-safe).
Result<const EfiModel*> Efi();

}  // namespace joinedup::analytics
