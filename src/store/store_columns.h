// How domain values map to columns, shared by both backends (private to store).
//
// Enums are stored as their ordinals (see migrations.h); reading checks the range so a
// corrupt or foreign row becomes kInternal instead of an out-of-range enum.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "domain/population.h"

namespace joinedup::store {

// The stored ordinals are frozen: these fail if someone reorders or inserts enumerators in
// domain/population.h in a way that would change what existing databases mean.
static_assert(static_cast<int>(CodeSystem::kSnomedCt) == 0 &&
              static_cast<int>(CodeSystem::kLoinc) == 6);
static_assert(kCodeSystemCount == 7);
static_assert(static_cast<int>(Sex::kFemale) == 0 && static_cast<int>(Sex::kUnknown) == 3);
static_assert(static_cast<int>(EventKind::kCondition) == 0 &&
              static_cast<int>(EventKind::kObservation) == 1);
static_assert(static_cast<int>(EventSource::kGp) == 0 &&
              static_cast<int>(EventSource::kHospital) == 1);
static_assert(static_cast<int>(AdmissionMethod::kNone) == 0 &&
              static_cast<int>(AdmissionMethod::kOther) == 4);
static_assert(static_cast<int>(ActivityType::kGpAppointment) == 0 &&
              static_cast<int>(ActivityType::kContinuingHealthcare) == 9);
static_assert(kActivityTypeCount == 10);

template <typename Enum>
constexpr int Ordinal(Enum e) {
  return static_cast<int>(e);
}

// `value` as an Enum if it is in [0, count); kInternal naming `column` otherwise.
template <typename Enum>
Result<Enum> EnumFromOrdinal(int64_t value, int count, std::string_view column) {
  if (value < 0 || value >= count)
    return Error::Internal("store: column " + std::string(column) + " holds " +
                           std::to_string(value) + ", which is not a known value");
  return static_cast<Enum>(value);
}

inline Error UnknownPatient(std::string_view id) {
  return Error::NotFound("Patient/" + std::string(id) + " is not known");
}
inline Error UnknownPractice(std::string_view id) {
  return Error::NotFound("Organization/" + std::string(id) + " is not known");
}
inline Error UnknownActivity(std::string_view id) {
  return Error::NotFound("Activity/" + std::string(id) + " is not known");
}

// Rejects records a backend could not store faithfully (checked before anything is written).
Status ValidateForStore(const Patient& patient);
Status ValidateForStore(const Activity& activity);
Status ValidateForStore(const ClinicalEvent& event);
Status ValidateForStore(const Medication& medication);
Status ValidateForStore(const Practice& practice);

}  // namespace joinedup::store
