#include "analytics/features.h"

#include <array>

#include "analytics/efi.h"
#include "analytics/hfrs.h"

namespace joinedup::analytics {
namespace {

constexpr std::array<std::string_view, kFeatureCount> kNames = {
    "age",
    "sex",
    "ltc_count",
    "mental_health_need",
    "social_care_need",
    "efi",
    "efi_deficits",
    "efi_category",
    "hfrs",
    "hfrs_category",
    "charlson_1987",
    "charlson_quan2011",
    "elixhauser",
    "emergency_admissions_12m",
    "ae_attendances_12m",
    "bed_days_12m",
    "annual_cost_pence",
    "cost_percentile",
    "continuing_healthcare",
    "care_home",
    "social_care_package",
    "admission_risk",
};
static_assert(static_cast<int>(Feature::kAdmissionRisk) + 1 == kFeatureCount);

constexpr std::array<std::string_view, 4> kSexLevels = {"female", "male", "other", "unknown"};
constexpr std::array<std::string_view, 4> kEfiLevels = {"fit", "mild", "moderate", "severe"};
constexpr std::array<std::string_view, 3> kHfrsLevels = {"low", "intermediate", "high"};

}  // namespace

std::string_view FeatureName(Feature f) { return kNames[static_cast<size_t>(f)]; }

std::optional<Feature> FeatureFromName(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == name) return static_cast<Feature>(i);
  return std::nullopt;
}

std::span<const std::string_view> FeatureLevels(Feature f) {
  switch (f) {
    case Feature::kSex:
      return kSexLevels;
    case Feature::kEfiCategory:
      return kEfiLevels;
    case Feature::kHfrsCategory:
      return kHfrsLevels;
    default:
      return {};
  }
}

double FeatureValue(const PersonFeatures& p, Feature f) {
  switch (f) {
    case Feature::kAge:
      return p.age;
    case Feature::kSex:
      return static_cast<int>(p.sex);
    case Feature::kLtcCount:
      return p.ltc_count;
    case Feature::kMentalHealthNeed:
      return p.mental_health_need;
    case Feature::kSocialCareNeed:
      return p.social_care_need;
    case Feature::kEfi:
      return p.efi_deficits / 36.0;
    case Feature::kEfiDeficits:
      return p.efi_deficits;
    case Feature::kEfiCategory:
      return static_cast<int>(EfiCategoryOf(p.efi_deficits));
    case Feature::kHfrs:
      return p.hfrs_tenths / 10.0;
    case Feature::kHfrsCategory:
      return static_cast<int>(HfrsBandOf(p.hfrs_tenths));
    case Feature::kCharlson1987:
      return p.charlson_1987;
    case Feature::kCharlsonQuan2011:
      return p.charlson_quan2011;
    case Feature::kElixhauser:
      return p.elixhauser;
    case Feature::kEmergencyAdmissions12m:
      return p.emergency_admissions_12m;
    case Feature::kAeAttendances12m:
      return p.ae_attendances_12m;
    case Feature::kBedDays12m:
      return p.bed_days_12m;
    case Feature::kCost12mPence:
      return static_cast<double>(p.cost_12m_pence);
    case Feature::kCostPercentile:
      return p.cost_percentile;
    case Feature::kContinuingHealthcare:
      return p.continuing_healthcare;
    case Feature::kCareHome:
      return p.care_home;
    case Feature::kSocialCarePackage:
      return p.social_care_package;
    case Feature::kAdmissionRisk:
      return p.admission_risk;
  }
  return 0;
}

}  // namespace joinedup::analytics
