// Caseloads: a person's time on a care team's case-management caseload (a case episode, FHIR
// EpisodeOfCare with its named care coordinator as careManager), and the reasons an episode
// ends. Plain values; the rules are the records service's (records/caseload.cc), where they are
// kept the store's (store/caseload_store.h).
//
// The model of care this serves (seed 001, "Generic Case Management"): "teams of Case
// Managers … jointly manage an active caseload of about 120 patients. HSCA could be used for
// routine monitoring and home visits which could increase caseload to 180." A team's capacity
// is set per team; a team at capacity takes new people onto a waiting list.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace joinedup {

// Ordinals are stored (case_episodes.status).
enum class EpisodeStatus : uint8_t {
  kWaiting,  // accepted by the team, waiting for a caseload place (FHIR EpisodeOfCare "waitlist")
  kActive,   // on the named coordinator's caseload ("active")
  kEnded,    // discharged ("finished")
};
inline constexpr int kEpisodeStatusCount = 3;
std::string_view EpisodeStatusName(EpisodeStatus status);  // "waiting", "active", "ended"
std::optional<EpisodeStatus> ParseEpisodeStatus(std::string_view name);

// Why a person left case management: joinedup's code list (there is no national one; FHIR R4
// EpisodeOfCare has no discharge reason). Codes are stored; displays are for people.
struct DischargeReason {
  std::string_view code;
  std::string_view display;
};
std::span<const DischargeReason> DischargeReasons();
const DischargeReason* FindDischargeReason(std::string_view code);

// How a person came to the caseload.
inline constexpr std::string_view kEnrolmentSources[] = {"case-finding", "referral", "gp", "mdt",
                                                         "transfer", "self"};
bool IsEnrolmentSource(std::string_view source);

struct CaseEpisode {
  int64_t id = 0;  // assigned when first written
  int64_t patient_key = 0;
  std::string patient_id;  // the person's Patient.id: filled in when read, ignored when written
  int64_t care_team_id = 0;
  int64_t coordinator_id = 0;  // the named care coordinator (a user); 0 while waiting unnamed
  EpisodeStatus status = EpisodeStatus::kWaiting;
  std::string source;           // kEnrolmentSources
  int64_t requested_at_ms = 0;  // enrolment asked: the waiting list's order
  int64_t started_at_ms = 0;    // took a caseload place; 0 while waiting
  int64_t ended_at_ms = 0;      // 0 while open
  std::string end_reason;       // DischargeReasons() code once ended
  std::string end_note;
  int64_t updated_by = 0;  // user id of the last change
  int64_t updated_at_ms = 0;
  int64_t version = 0;  // 1 for the first write; every change adds one
  friend bool operator==(const CaseEpisode&, const CaseEpisode&) = default;
};

}  // namespace joinedup
