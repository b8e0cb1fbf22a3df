#include "domain/caseload.h"

#include <algorithm>

namespace joinedup {
namespace {

constexpr std::string_view kStatusNames[kEpisodeStatusCount] = {"waiting", "active", "ended"};

// Discharge reasons a case-management team records; "declined" keeps the person's choice to
// stop as their choice, not as a failure of the service.
constexpr DischargeReason kDischargeReasons[] = {
    {"goals-met", "Goals met: stable and managing with their plan"},
    {"declined", "The person chose to stop case management"},
    {"moved-away", "Moved away or registered elsewhere"},
    {"long-term-care", "Moved into a care home or long-term placement"},
    {"other-service", "Transferred to another service"},
    {"died", "Died"},
    {"other", "Other (see note)"},
};

}  // namespace

std::string_view EpisodeStatusName(EpisodeStatus status) {
  return kStatusNames[static_cast<int>(status)];
}

std::optional<EpisodeStatus> ParseEpisodeStatus(std::string_view name) {
  for (int i = 0; i < kEpisodeStatusCount; ++i)
    if (kStatusNames[i] == name) return static_cast<EpisodeStatus>(i);
  return std::nullopt;
}

std::span<const DischargeReason> DischargeReasons() { return kDischargeReasons; }

const DischargeReason* FindDischargeReason(std::string_view code) {
  for (const DischargeReason& r : kDischargeReasons)
    if (r.code == code) return &r;
  return nullptr;
}

bool IsEnrolmentSource(std::string_view source) {
  return std::find(std::begin(kEnrolmentSources), std::end(kEnrolmentSources), source) !=
         std::end(kEnrolmentSources);
}

}  // namespace joinedup
