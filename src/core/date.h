// Date: a calendar date (proleptic Gregorian), stored as days since 1970-01-01.
//
// Cheap to copy and compare; analytics keeps millions of them in columns.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace joinedup {

enum class Weekday { kMonday = 1, kTuesday, kWednesday, kThursday, kFriday, kSaturday, kSunday };

class Date {
 public:
  constexpr Date() = default;  // 1970-01-01
  static constexpr Date FromDays(int32_t days_since_epoch) { return Date(days_since_epoch); }
  // Asserts the fields form a real date; use Parse for untrusted input.
  static Date FromYmd(int year, int month, int day);
  // Strict "YYYY-MM-DD" (FHIR `date` with full precision). Anything else is kInvalidInput.
  static Result<Date> Parse(std::string_view text);
  // Also accepts a FHIR dateTime ("2020-01-02T10:00:00Z", "2020-01-02T23:30:00.5-05:00"; the
  // time must be valid and carry the zone FHIR requires) and gives the date as written, in
  // the writer's zone; and the reduced precisions "YYYY" and "YYYY-MM" (taken as the first
  // day of the period).
  static Result<Date> ParseFhir(std::string_view text);
  static bool IsValidYmd(int year, int month, int day);

  constexpr int32_t days_since_epoch() const { return days_; }
  int year() const;
  int month() const;  // 1..12
  int day() const;    // 1..31
  Weekday weekday() const;

  Date AddDays(int32_t n) const { return Date(days_ + n); }
  // Same day of month n years later; 29 February becomes 28 February in common years.
  Date AddYears(int n) const;
  // Calendar days from this date to `later` (negative if `later` is earlier).
  int32_t DaysUntil(Date later) const { return later.days_ - days_; }

  std::string ToString() const;  // "YYYY-MM-DD"

  friend constexpr auto operator<=>(Date a, Date b) = default;
  friend constexpr bool operator==(Date a, Date b) = default;

 private:
  constexpr explicit Date(int32_t days) : days_(days) {}
  int32_t days_ = 0;
};

// Completed years of age on `on` for someone born on `birth` (0 if `on` precedes `birth`).
// Someone born on 29 February gains a year on 1 March in common years.
int AgeInYears(Date birth, Date on);

// A FHIR instant in UTC with milliseconds: "2024-03-31T09:15:02.123Z".
std::string FormatInstant(int64_t ms_since_epoch);

}  // namespace joinedup
