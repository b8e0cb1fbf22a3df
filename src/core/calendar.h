// WorkingDayCalendar: bank holidays and working-day arithmetic for response-time clocks.
//
// A working day is Monday to Friday and not a bank holiday. The calendar knows bank holidays
// only for whole years first_year()..last_year(); outside them a weekday might be a holiday
// nobody has told us about, so every operation that would have to guess returns kInvalidInput
// naming the uncovered year instead of a silently wrong date.
//
// Clock rule, e.g. "letter to the GP by the 2nd working day after referral":
//
//   const auto& cal = WorkingDayCalendar::EnglandAndWales();
//   // Referral on Friday 22 December 2023. Working days after it: Wed 27 Dec (1st; Mon 25
//   // and Tue 26 are Christmas Day and Boxing Day), Thu 28 Dec (2nd).
//   Result<Date> due = cal.AddWorkingDays(Date::FromYmd(2023, 12, 22), 2);  // 2023-12-28
//
// The day the clock starts never counts, whether or not it is a working day; a referral on
// Saturday 23 December 2023 is also due on Thursday 28 December.
//
// Thread safety: a calendar is immutable after Parse; all const members may be called from
// any number of threads. EnglandAndWales() is parsed once, on first use, thread-safely.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/date.h"
#include "core/result.h"

namespace joinedup {

enum class HolidayKind {
  kRegular,     // the usual rule's date (New Year's Day, Good Friday, first Monday in May…)
  kSubstitute,  // a weekday in lieu of a holiday that fell at a weekend
  kOneOff,      // proclaimed for one year only (a jubilee, a state funeral, a coronation)
  kMoved,       // a regular holiday proclaimed onto another date that year (2020 VE Day)
};

std::string_view HolidayKindName(HolidayKind kind);  // "regular", "substitute", "one-off", "moved"

struct BankHoliday {
  Date date;
  std::string name;  // as published, e.g. "Boxing Day (substitute day)"
  HolidayKind kind = HolidayKind::kRegular;
  // True where the source had not yet published the year and the date is what the statutory
  // rules give; a later proclamation could still change it.
  bool projected = false;
};

class WorkingDayCalendar {
 public:
  // Parses CSV text with the header `date,name,kind,status`:
  //   date    YYYY-MM-DD, strictly increasing, Monday to Friday;
  //   name    non-empty, no quotes or surrounding spaces (fields are not quoted);
  //   kind    regular | substitute | one-off | moved;
  //   status  published | projected.
  // Lines starting with '#' and empty lines are ignored; "\r\n" endings are accepted. The
  // covered years run from the first row's year to the last row's and every year between
  // must have at least one row. Errors are kInvalidInput and name the 1-based line:
  // "bank holiday calendar line 12: ...".
  static Result<WorkingDayCalendar> Parse(std::string_view csv);

  // England and Wales, from data/calendar/bank_holidays_england_and_wales.csv compiled into
  // the binary (see that file for its sources and the years it covers). Lives for the whole
  // program. The embedded file is checked by the tests; if it ever failed to parse, that is
  // a build defect and this aborts with the parse error.
  static const WorkingDayCalendar& EnglandAndWales();

  int first_year() const { return first_year_; }
  int last_year() const { return last_year_; }
  // True when `date`'s year lies in first_year()..last_year().
  bool Covers(Date date) const;

  // All holidays, in date order.
  std::span<const BankHoliday> holidays() const { return holidays_; }

  // The holiday on `date`, or nullptr. The pointer lives as long as this calendar object.
  const BankHoliday* Find(Date date) const;
  // Lookups answer only for what the calendar lists: outside the covered years no date is a
  // bank holiday and IsWorkingDay reduces to Monday–Friday. Check Covers() first where that
  // matters; the arithmetic below does so itself.
  bool IsBankHoliday(Date date) const { return Find(date) != nullptr; }
  // The holiday's name; the view lives as long as this calendar object.
  std::optional<std::string_view> HolidayName(Date date) const;
  bool IsWorkingDay(Date date) const;

  // The n-th working day after `from`, not counting `from` itself (n >= 1). n = 0 gives
  // `from` when it is a working day and otherwise the next working day after it. Errors
  // (kInvalidInput): n < 0; `from` or the answer lying outside the covered years (the
  // message names the year).
  Result<Date> AddWorkingDays(Date from, int n) const;

  // The number of working days d with a < d <= b, so that AddWorkingDays(a, k) == b implies
  // WorkingDaysBetween(a, b) == k for k >= 1. Negative (minus the count for (b, a]) when
  // b < a; 0 when a == b. Errors (kInvalidInput): a or b outside the covered years.
  Result<int> WorkingDaysBetween(Date a, Date b) const;

 private:
  WorkingDayCalendar() = default;
  // Index of `date` in working_through_: days since 1 January of first_year_.
  int32_t Index(Date date) const { return start_.DaysUntil(date); }
  Error NotCovered(int year) const;

  std::vector<BankHoliday> holidays_;
  int first_year_ = 0;
  int last_year_ = 0;
  Date start_;  // 1 January of first_year_
  // working_through_[i] = working days in [start_, start_ + i], one entry per covered day.
  std::vector<int32_t> working_through_;
};

}  // namespace joinedup
