// A record's own sharing restriction: the person's decision on who may see one record (the
// holistic assessment first, issue 12: "the person's decision on who may see the assessment —
// their care team; every organisation with a care relationship; their GP only"). It narrows the
// access policy's relationship rule for that record and never widens it (security/policy.h
// DecideRecord; the store's visibility filter honours it in SQL, docs/security.md).
//
// On the FHIR resource it is the extension kRecordSharingUrl with a valueCode below; a resource
// without it is shared as every record is (kCareRelationship). The ordinals are stored
// (documents.sharing, migration 12): new values go at the end.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace joinedup {

enum class RecordSharing : uint8_t {
  // Every organisation with a care relationship: the person's practice and their care teams
  // (the policy's usual rule, the person's consent applying as always).
  kCareRelationship = 0,
  // Their care team only: the professionals on a care team the person is on now. The practice
  // they are registered with does not qualify by itself.
  kCareTeam = 1,
  // Their GP only: the staff of the practice they are registered with.
  kRegisteredPractice = 2,
};
inline constexpr int kRecordSharingCount = 3;

inline constexpr std::string_view kRecordSharingUrl =
    "https://joinedup.example/fhir/StructureDefinition/record-sharing";

// "care-relationship", "care-team", "gp-only" (the valueCode; stable).
constexpr std::string_view RecordSharingCode(RecordSharing sharing) {
  constexpr std::array<std::string_view, kRecordSharingCount> kCodes = {
      "care-relationship", "care-team", "gp-only"};
  return kCodes[static_cast<size_t>(sharing)];
}

constexpr std::optional<RecordSharing> ParseRecordSharing(std::string_view code) {
  for (int s = 0; s < kRecordSharingCount; ++s)
    if (RecordSharingCode(static_cast<RecordSharing>(s)) == code)
      return static_cast<RecordSharing>(s);
  return std::nullopt;
}

}  // namespace joinedup
