#include "core/calendar.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <climits>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace joinedup {
namespace {

using ::testing::HasSubstr;

Date D(int y, int m, int d) { return Date::FromYmd(y, m, d); }

const WorkingDayCalendar& Cal() { return WorkingDayCalendar::EnglandAndWales(); }

// Step-by-step reference for AddWorkingDays, written independently of the prefix counts.
Date SlowAddWorkingDays(Date from, int n) {
  if (n == 0 && Cal().IsWorkingDay(from)) return from;
  int want = n == 0 ? 1 : n;
  Date d = from;
  while (want > 0) {
    d = d.AddDays(1);
    if (Cal().IsWorkingDay(d)) --want;
  }
  return d;
}

TEST(WorkingDayCalendar, EmbeddedCoversTwentyFifteenToTwentyThirty) {
  EXPECT_EQ(Cal().first_year(), 2015);
  EXPECT_EQ(Cal().last_year(), 2030);
  EXPECT_TRUE(Cal().Covers(D(2015, 1, 1)));
  EXPECT_TRUE(Cal().Covers(D(2030, 12, 31)));
  EXPECT_FALSE(Cal().Covers(D(2014, 12, 31)));
  EXPECT_FALSE(Cal().Covers(D(2031, 1, 1)));
  // Parsed once: every call gives the same object.
  EXPECT_EQ(&WorkingDayCalendar::EnglandAndWales(), &Cal());
}

TEST(WorkingDayCalendar, EmbeddedIsTheSameObjectFromManyThreads) {
  std::vector<const WorkingDayCalendar*> seen(4, nullptr);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([&seen, i] { seen[i] = &WorkingDayCalendar::EnglandAndWales(); });
  }
  for (auto& t : threads) t.join();
  for (const auto* p : seen) EXPECT_EQ(p, &Cal());
}

TEST(WorkingDayCalendar, EveryEmbeddedHolidayIsAWeekdayInOrderAndCovered) {
  ASSERT_FALSE(Cal().holidays().empty());
  Date previous;
  bool first = true;
  for (const BankHoliday& h : Cal().holidays()) {
    EXPECT_LT(h.date.weekday(), Weekday::kSaturday) << h.date.ToString() << " " << h.name;
    EXPECT_TRUE(Cal().Covers(h.date)) << h.date.ToString();
    EXPECT_FALSE(h.name.empty());
    if (!first) {
      EXPECT_LT(previous, h.date);
    }
    previous = h.date;
    first = false;
    EXPECT_TRUE(Cal().IsBankHoliday(h.date));
    EXPECT_FALSE(Cal().IsWorkingDay(h.date));
  }
}

TEST(WorkingDayCalendar, CountsPerYear) {
  std::map<int, int> per_year;
  for (const BankHoliday& h : Cal().holidays()) ++per_year[h.date.year()];
  for (int year = 2015; year <= 2030; ++year) {
    int want = 8;
    if (year == 2022) want = 10;  // moved spring holiday + Platinum Jubilee + State Funeral
    if (year == 2023) want = 9;   // Coronation
    EXPECT_EQ(per_year[year], want) << year;
  }
  EXPECT_EQ(per_year.size(), 16u);
}

TEST(WorkingDayCalendar, EasterEveryYear) {
  // Easter Sundays 2015–2030 from published Easter tables.
  const std::map<int, Date> easter = {
      {2015, D(2015, 4, 5)},  {2016, D(2016, 3, 27)}, {2017, D(2017, 4, 16)},
      {2018, D(2018, 4, 1)},  {2019, D(2019, 4, 21)}, {2020, D(2020, 4, 12)},
      {2021, D(2021, 4, 4)},  {2022, D(2022, 4, 17)}, {2023, D(2023, 4, 9)},
      {2024, D(2024, 3, 31)}, {2025, D(2025, 4, 20)}, {2026, D(2026, 4, 5)},
      {2027, D(2027, 3, 28)}, {2028, D(2028, 4, 16)}, {2029, D(2029, 4, 1)},
      {2030, D(2030, 4, 21)},
  };
  for (const auto& [year, sunday] : easter) {
    ASSERT_EQ(sunday.weekday(), Weekday::kSunday) << year;
    EXPECT_EQ(Cal().HolidayName(sunday.AddDays(-2)), "Good Friday") << year;
    EXPECT_EQ(Cal().HolidayName(sunday.AddDays(1)), "Easter Monday") << year;
    EXPECT_FALSE(Cal().IsBankHoliday(sunday.AddDays(-3))) << year;  // Maundy Thursday
    EXPECT_FALSE(Cal().IsBankHoliday(sunday.AddDays(2))) << year;   // Easter Tuesday
    int good_fridays = 0;
    for (const BankHoliday& h : Cal().holidays()) {
      if (h.date.year() == year && h.name == "Good Friday") ++good_fridays;
    }
    EXPECT_EQ(good_fridays, 1) << year;
  }
}

TEST(WorkingDayCalendar, ChristmasAndBoxingDaySubstitutes) {
  struct Case {
    int year;
    std::vector<std::pair<int, std::string>> december;  // day of month → name, 24–31 Dec
  };
  const Case cases[] = {
      {2015, {{25, "Christmas Day"}, {28, "Boxing Day (substitute day)"}}},  // Fri, Sat
      {2016, {{26, "Boxing Day"}, {27, "Christmas Day (substitute day)"}}},  // Sun, Mon
      {2019, {{25, "Christmas Day"}, {26, "Boxing Day"}}},                   // Wed, Thu
      {2020, {{25, "Christmas Day"}, {28, "Boxing Day (substitute day)"}}},  // Fri, Sat
      {2021, {{27, "Christmas Day (substitute day)"}, {28, "Boxing Day (substitute day)"}}},
      {2022, {{26, "Boxing Day"}, {27, "Christmas Day (substitute day)"}}},  // Sun, Mon
      {2026, {{25, "Christmas Day"}, {28, "Boxing Day (substitute day)"}}},  // Fri, Sat
      {2027, {{27, "Christmas Day (substitute day)"}, {28, "Boxing Day (substitute day)"}}},
  };
  for (const Case& c : cases) {
    std::vector<std::pair<int, std::string>> got;
    for (int day = 24; day <= 31; ++day) {
      if (auto name = Cal().HolidayName(D(c.year, 12, day))) got.emplace_back(day, *name);
    }
    EXPECT_EQ(got, c.december) << c.year;
    for (const auto& [day, name] : c.december) {
      const BankHoliday* h = Cal().Find(D(c.year, 12, day));
      ASSERT_NE(h, nullptr);
      bool substitute = name.find("substitute") != std::string::npos;
      EXPECT_EQ(h->kind, substitute ? HolidayKind::kSubstitute : HolidayKind::kRegular)
          << c.year << "-12-" << day;
    }
  }
}

TEST(WorkingDayCalendar, NewYearSubstitutes) {
  for (Date sub : {D(2017, 1, 2), D(2022, 1, 3), D(2023, 1, 2), D(2028, 1, 3)}) {
    const BankHoliday* h = Cal().Find(sub);
    ASSERT_NE(h, nullptr) << sub.ToString();
    EXPECT_EQ(h->name, "New Year's Day (substitute day)");
    EXPECT_EQ(h->kind, HolidayKind::kSubstitute);
    EXPECT_EQ(sub.weekday(), Weekday::kMonday);
    EXPECT_FALSE(Cal().IsBankHoliday(D(sub.year(), 1, 1)));  // at a weekend
  }
  // In other years 1 January itself is the holiday.
  for (int year : {2015, 2016, 2018, 2019, 2020, 2021, 2024, 2025, 2026, 2027, 2029, 2030}) {
    EXPECT_EQ(Cal().HolidayName(D(year, 1, 1)), "New Year's Day") << year;
  }
}

TEST(WorkingDayCalendar, OneOffsAndMoves) {
  // 2020: early May holiday moved to Friday 8 May for the 75th anniversary of VE Day.
  const BankHoliday* ve = Cal().Find(D(2020, 5, 8));
  ASSERT_NE(ve, nullptr);
  EXPECT_EQ(ve->kind, HolidayKind::kMoved);
  EXPECT_EQ(ve->name, "Early May bank holiday (VE day)");
  EXPECT_TRUE(Cal().IsWorkingDay(D(2020, 5, 4)));

  // 2022: spring holiday moved to Thursday 2 June beside the Platinum Jubilee on Friday 3 June.
  const BankHoliday* spring = Cal().Find(D(2022, 6, 2));
  ASSERT_NE(spring, nullptr);
  EXPECT_EQ(spring->kind, HolidayKind::kMoved);
  const BankHoliday* jubilee = Cal().Find(D(2022, 6, 3));
  ASSERT_NE(jubilee, nullptr);
  EXPECT_EQ(jubilee->kind, HolidayKind::kOneOff);
  EXPECT_EQ(jubilee->name, "Platinum Jubilee bank holiday");
  EXPECT_TRUE(Cal().IsWorkingDay(D(2022, 5, 30)));

  const BankHoliday* funeral = Cal().Find(D(2022, 9, 19));
  ASSERT_NE(funeral, nullptr);
  EXPECT_EQ(funeral->kind, HolidayKind::kOneOff);
  EXPECT_THAT(funeral->name, HasSubstr("State Funeral of Queen Elizabeth II"));

  const BankHoliday* coronation = Cal().Find(D(2023, 5, 8));
  ASSERT_NE(coronation, nullptr);
  EXPECT_EQ(coronation->kind, HolidayKind::kOneOff);
  EXPECT_THAT(coronation->name, HasSubstr("coronation of King Charles III"));
  EXPECT_TRUE(Cal().IsBankHoliday(D(2023, 5, 1)));  // the usual early May holiday stayed

  int one_offs = 0, moved = 0;
  for (const BankHoliday& h : Cal().holidays()) {
    one_offs += h.kind == HolidayKind::kOneOff;
    moved += h.kind == HolidayKind::kMoved;
  }
  EXPECT_EQ(one_offs, 3);
  EXPECT_EQ(moved, 2);
}

TEST(WorkingDayCalendar, RegularMondayHolidaysFollowTheRules) {
  for (int year = 2015; year <= 2030; ++year) {
    Date may1 = D(year, 5, 1);
    Date first_may_monday = may1.AddDays((8 - static_cast<int>(may1.weekday())) % 7);
    Date last_may_monday = D(year, 5, 31);
    while (last_may_monday.weekday() != Weekday::kMonday)
      last_may_monday = last_may_monday.AddDays(-1);
    Date last_aug_monday = D(year, 8, 31);
    while (last_aug_monday.weekday() != Weekday::kMonday)
      last_aug_monday = last_aug_monday.AddDays(-1);
    EXPECT_EQ(Cal().IsBankHoliday(first_may_monday), year != 2020) << year;
    EXPECT_EQ(Cal().IsBankHoliday(last_may_monday), year != 2022) << year;
    EXPECT_EQ(Cal().HolidayName(last_aug_monday), "Summer bank holiday") << year;
  }
}

TEST(WorkingDayCalendar, ProjectedOnlyAfterPublishedYears) {
  for (const BankHoliday& h : Cal().holidays()) {
    EXPECT_EQ(h.projected, h.date.year() >= 2028) << h.date.ToString();
  }
}

TEST(WorkingDayCalendar, HolidayNameAndIsWorkingDay) {
  EXPECT_EQ(Cal().HolidayName(D(2023, 12, 25)), "Christmas Day");
  EXPECT_EQ(Cal().HolidayName(D(2023, 12, 27)), std::nullopt);
  EXPECT_EQ(Cal().Find(D(2023, 12, 27)), nullptr);
  EXPECT_TRUE(Cal().IsWorkingDay(D(2023, 12, 27)));   // Wednesday
  EXPECT_FALSE(Cal().IsWorkingDay(D(2023, 12, 23)));  // Saturday
  EXPECT_FALSE(Cal().IsWorkingDay(D(2023, 12, 24)));  // Sunday
  EXPECT_FALSE(Cal().IsBankHoliday(D(2023, 12, 24)));
  EXPECT_FALSE(Cal().IsWorkingDay(D(2023, 12, 25)));  // bank holiday
  // Outside the covered years only weekends are known (documented; arithmetic refuses).
  EXPECT_TRUE(Cal().IsWorkingDay(D(2031, 12, 25)));
  EXPECT_FALSE(Cal().IsBankHoliday(D(2014, 12, 25)));
}

TEST(WorkingDayCalendar, HolidayKindNames) {
  EXPECT_EQ(HolidayKindName(HolidayKind::kRegular), "regular");
  EXPECT_EQ(HolidayKindName(HolidayKind::kSubstitute), "substitute");
  EXPECT_EQ(HolidayKindName(HolidayKind::kOneOff), "one-off");
  EXPECT_EQ(HolidayKindName(HolidayKind::kMoved), "moved");
}

TEST(WorkingDayArithmetic, SecondWorkingDayOverChristmas2023) {
  // The header's example: referral Friday 22 December 2023; Mon 25 and Tue 26 are bank
  // holidays, so the 1st working day after is Wed 27 and the 2nd is Thu 28.
  EXPECT_EQ(Cal().AddWorkingDays(D(2023, 12, 22), 1).value(), D(2023, 12, 27));
  EXPECT_EQ(Cal().AddWorkingDays(D(2023, 12, 22), 2).value(), D(2023, 12, 28));
  EXPECT_EQ(D(2023, 12, 28).weekday(), Weekday::kThursday);
  // A referral on the Saturday or on Christmas Day has the same deadline.
  EXPECT_EQ(Cal().AddWorkingDays(D(2023, 12, 23), 2).value(), D(2023, 12, 28));
  EXPECT_EQ(Cal().AddWorkingDays(D(2023, 12, 25), 2).value(), D(2023, 12, 28));
  EXPECT_EQ(Cal().WorkingDaysBetween(D(2023, 12, 22), D(2023, 12, 28)).value(), 2);
}

TEST(WorkingDayArithmetic, AcrossEaster) {
  // Thursday before Good Friday 2024 + 1 working day = Tuesday after Easter Monday.
  EXPECT_EQ(Cal().AddWorkingDays(D(2024, 3, 28), 1).value(), D(2024, 4, 2));
  EXPECT_EQ(Cal().AddWorkingDays(D(2025, 4, 17), 1).value(), D(2025, 4, 22));
  EXPECT_EQ(Cal().WorkingDaysBetween(D(2024, 3, 28), D(2024, 4, 2)).value(), 1);
  EXPECT_EQ(Cal().WorkingDaysBetween(D(2024, 3, 28), D(2024, 4, 1)).value(), 0);
}

TEST(WorkingDayArithmetic, AcrossChristmasAndNewYear) {
  EXPECT_EQ(Cal().AddWorkingDays(D(2021, 12, 24), 1).value(), D(2021, 12, 29));
  EXPECT_EQ(Cal().AddWorkingDays(D(2022, 12, 23), 1).value(), D(2022, 12, 28));
  EXPECT_EQ(Cal().AddWorkingDays(D(2022, 12, 30), 1).value(), D(2023, 1, 3));
  EXPECT_EQ(Cal().AddWorkingDays(D(2016, 12, 23), 2).value(), D(2016, 12, 29));
  EXPECT_EQ(Cal().AddWorkingDays(D(2016, 12, 30), 1).value(), D(2017, 1, 3));
  EXPECT_EQ(Cal().AddWorkingDays(D(2020, 5, 7), 1).value(), D(2020, 5, 11));  // VE Day Fri
  EXPECT_EQ(Cal().AddWorkingDays(D(2020, 5, 1), 1).value(), D(2020, 5, 4));   // not moved away
}

TEST(WorkingDayArithmetic, OverWeekendsAndTheZeroRule) {
  EXPECT_EQ(Cal().AddWorkingDays(D(2024, 6, 7), 1).value(), D(2024, 6, 10));   // Fri → Mon
  EXPECT_EQ(Cal().AddWorkingDays(D(2024, 6, 7), 5).value(), D(2024, 6, 14));   // → next Fri
  EXPECT_EQ(Cal().AddWorkingDays(D(2024, 6, 8), 1).value(), D(2024, 6, 10));   // Sat → Mon
  EXPECT_EQ(Cal().AddWorkingDays(D(2024, 6, 9), 1).value(), D(2024, 6, 10));   // Sun → Mon
  EXPECT_EQ(Cal().AddWorkingDays(D(2024, 6, 10), 1).value(), D(2024, 6, 11));  // Mon → Tue
  EXPECT_EQ(Cal().AddWorkingDays(D(2024, 6, 10), 0).value(), D(2024, 6, 10));  // working: itself
  EXPECT_EQ(Cal().AddWorkingDays(D(2024, 6, 8), 0).value(), D(2024, 6, 10));   // Sat → Mon
  EXPECT_EQ(Cal().AddWorkingDays(D(2024, 12, 25), 0).value(), D(2024, 12, 27));
  EXPECT_EQ(Cal().AddWorkingDays(D(2024, 1, 1), 20).value(), D(2024, 1, 29));
}

TEST(WorkingDayArithmetic, WorkingDaysBetween) {
  EXPECT_EQ(Cal().WorkingDaysBetween(D(2024, 6, 10), D(2024, 6, 10)).value(), 0);
  EXPECT_EQ(Cal().WorkingDaysBetween(D(2024, 6, 7), D(2024, 6, 10)).value(), 1);
  EXPECT_EQ(Cal().WorkingDaysBetween(D(2024, 6, 10), D(2024, 6, 7)).value(), -1);
  EXPECT_EQ(Cal().WorkingDaysBetween(D(2024, 6, 8), D(2024, 6, 9)).value(), 0);  // weekend only
  EXPECT_EQ(Cal().WorkingDaysBetween(D(2023, 12, 28), D(2023, 12, 22)).value(), -2);
  // Whole years: weekdays minus bank holidays on weekdays.
  EXPECT_EQ(Cal().WorkingDaysBetween(D(2023, 12, 31), D(2024, 12, 31)).value(), 262 - 8);
  EXPECT_EQ(Cal().WorkingDaysBetween(D(2021, 12, 31), D(2022, 12, 31)).value(), 260 - 10);
  EXPECT_EQ(Cal().WorkingDaysBetween(D(2022, 12, 31), D(2023, 12, 31)).value(), 260 - 9);
  EXPECT_EQ(Cal().WorkingDaysBetween(D(2029, 12, 31), D(2030, 12, 31)).value(), 261 - 8);
  // 2015-01-01 is a bank holiday, so the half-open count over the whole range loses nothing.
  EXPECT_EQ(Cal().WorkingDaysBetween(D(2015, 1, 1), D(2030, 12, 31)).value(), 4043);
}

TEST(WorkingDayArithmetic, AgreesWithStepByStepCountingEverywhere) {
  const int steps[] = {0, 1, 2, 3, 5, 10, 30};
  for (Date from = D(2015, 1, 1); from <= D(2030, 12, 31); from = from.AddDays(1)) {
    for (int n : steps) {
      auto got = Cal().AddWorkingDays(from, n);
      Date want = SlowAddWorkingDays(from, n);
      if (want.year() > 2030) {  // the answer would need 2031's holidays
        ASSERT_FALSE(got.ok()) << from.ToString() << " + " << n;
        ASSERT_THAT(got.error().message, HasSubstr("2031"));
        continue;
      }
      ASSERT_TRUE(got.ok()) << from.ToString() << " + " << n << ": " << got.error().message;
      ASSERT_EQ(*got, want) << from.ToString() << " + " << n;
      ASSERT_TRUE(Cal().IsWorkingDay(*got));
      if (n > 0) {
        ASSERT_EQ(Cal().WorkingDaysBetween(from, *got).value(), n) << from.ToString();
        ASSERT_EQ(Cal().WorkingDaysBetween(*got, from).value(), -n) << from.ToString();
      }
    }
  }
}

TEST(WorkingDayArithmetic, RefusesUncoveredYears) {
  auto before = Cal().AddWorkingDays(D(2014, 12, 31), 1);
  ASSERT_FALSE(before.ok());
  EXPECT_EQ(before.error().code, ErrorCode::kInvalidInput);
  EXPECT_THAT(before.error().message, HasSubstr("2014"));

  auto runs_off = Cal().AddWorkingDays(D(2030, 12, 30), 5);
  ASSERT_FALSE(runs_off.ok());
  EXPECT_THAT(runs_off.error().message, HasSubstr("2031"));
  EXPECT_THAT(runs_off.error().message, HasSubstr("2015 to 2030"));

  EXPECT_EQ(Cal().AddWorkingDays(D(2030, 12, 31), 0).value(), D(2030, 12, 31));  // Tuesday
  EXPECT_FALSE(Cal().AddWorkingDays(D(2030, 12, 31), 1).ok());
  EXPECT_FALSE(Cal().AddWorkingDays(D(2015, 1, 1), INT_MAX).ok());
  EXPECT_FALSE(Cal().AddWorkingDays(D(2031, 1, 2), 0).ok());

  auto negative = Cal().AddWorkingDays(D(2024, 6, 10), -1);
  ASSERT_FALSE(negative.ok());
  EXPECT_THAT(negative.error().message, HasSubstr("-1"));

  auto between = Cal().WorkingDaysBetween(D(2024, 1, 1), D(2031, 1, 6));
  ASSERT_FALSE(between.ok());
  EXPECT_THAT(between.error().message, HasSubstr("2031"));
  auto between2 = Cal().WorkingDaysBetween(D(2010, 1, 4), D(2024, 1, 1));
  ASSERT_FALSE(between2.ok());
  EXPECT_THAT(between2.error().message, HasSubstr("2010"));
}

// --- Parse -------------------------------------------------------------------------------

constexpr char kHeader[] = "date,name,kind,status\n";

std::string ParseError(const std::string& csv) {
  auto cal = WorkingDayCalendar::Parse(csv);
  if (cal.ok()) return "(parsed)";
  EXPECT_EQ(cal.error().code, ErrorCode::kInvalidInput);
  return cal.error().message;
}

TEST(WorkingDayCalendarParse, SmallValidFile) {
  auto cal = WorkingDayCalendar::Parse(
      "# a comment\r\n"
      "date,name,kind,status\r\n"
      "\r\n"
      "2024-12-25,Christmas Day,regular,published\r\n"
      "# interleaved comment\n"
      "2025-01-01,New Year's Day,regular,projected");  // no final newline
  ASSERT_TRUE(cal.ok()) << cal.error().message;
  EXPECT_EQ(cal->first_year(), 2024);
  EXPECT_EQ(cal->last_year(), 2025);
  ASSERT_EQ(cal->holidays().size(), 2u);
  EXPECT_EQ(cal->holidays()[0].name, "Christmas Day");
  EXPECT_FALSE(cal->holidays()[0].projected);
  EXPECT_TRUE(cal->holidays()[1].projected);
  // This small calendar knows nothing of Boxing Day: 26 Dec 2024 is a working day in it.
  EXPECT_EQ(cal->AddWorkingDays(D(2024, 12, 24), 1).value(), D(2024, 12, 26));
  EXPECT_FALSE(cal->AddWorkingDays(D(2023, 12, 29), 1).ok());
}

TEST(WorkingDayCalendarParse, ErrorsNameTheLine) {
  const std::string ok_row = "2024-12-25,Christmas Day,regular,published\n";
  struct Case {
    std::string csv;
    std::vector<std::string> want;  // substrings of the message
  };
  const Case cases[] = {
      {std::string(kHeader) + "2024-13-01,X,regular,published\n", {"line 2", "2024-13-01"}},
      {"# c\n" + std::string(kHeader) + "24-12-25,X,regular,published\n", {"line 3", "24-12-25"}},
      {std::string(kHeader) + ok_row + ok_row, {"line 3", "duplicate date 2024-12-25", "line 2"}},
      {std::string(kHeader) + ok_row + "2024-05-06,Early May,regular,published\n",
       {"line 3", "out of order", "2024-12-25"}},
      {std::string(kHeader) + "2024-12-25,Christmas Day,festive,published\n",
       {"line 2", "unknown kind 'festive'"}},
      {std::string(kHeader) + "2024-12-25,Christmas Day,Regular,published\n",
       {"line 2", "unknown kind"}},
      {std::string(kHeader) + "2022-12-25,Christmas Day,regular,published\n",
       {"line 2", "2022-12-25 is a Sunday"}},
      {std::string(kHeader) + "2021-12-25,Christmas Day,regular,published\n",
       {"line 2", "Saturday"}},
      {std::string(kHeader) + "2024-12-25,Christmas Day,regular,confirmed\n",
       {"line 2", "unknown status 'confirmed'"}},
      {std::string(kHeader) + "2024-12-25,Christmas Day,regular\n", {"line 2", "found 3"}},
      {std::string(kHeader) + "2024-12-25,Christmas, Day,regular,published\n",
       {"line 2", "found 5"}},
      {std::string(kHeader) + "2024-12-25,,regular,published\n", {"line 2", "name: empty"}},
      {std::string(kHeader) + "2024-12-25, Christmas Day,regular,published\n",
       {"line 2", "surrounding spaces"}},
      {std::string(kHeader) + "2024-12-25,\"Christmas Day\",regular,published\n",
       {"line 2", "quote"}},
      {std::string(kHeader) + "2024-12-25 ,Christmas Day,regular,published\n", {"line 2", "date"}},
      {"2024-12-25,Christmas Day,regular,published\n", {"line 1", "expected the header"}},
      {"date,name,kind\n" + ok_row, {"line 1", "expected the header"}},
      {"", {"no header"}},
      {"# only comments\n\n", {"no header"}},
      {kHeader, {"no holidays"}},
      {std::string(kHeader) + "2022-12-26,Boxing Day,regular,published\n" + ok_row,
       {"no holidays listed for 2023", "line 3"}},
  };
  for (const Case& c : cases) {
    std::string message = ParseError(c.csv);
    for (const std::string& want : c.want) {
      EXPECT_THAT(message, HasSubstr(want)) << "CSV:\n" << c.csv;
    }
  }
}

TEST(WorkingDayCalendarParse, HostileInputIsRefusedCleanly) {
  // Binary junk, very long lines and absurd year ranges give errors, never crashes.
  EXPECT_THAT(ParseError(std::string(kHeader) + std::string(100000, ',')), HasSubstr("line 2"));
  EXPECT_THAT(ParseError(std::string("\0\xff\xfe", 3)), HasSubstr("line 1"));
  std::string long_kind =
      std::string(kHeader) + "2024-12-25,X," + std::string(5000, 'x') + ",published\n";
  std::string message = ParseError(long_kind);
  EXPECT_THAT(message, HasSubstr("unknown kind 'xxx"));
  EXPECT_THAT(message, HasSubstr("line 2"));
  EXPECT_LT(message.size(), 300u);
  std::string wide = std::string(kHeader) + "0001-01-01,A,regular,published\n";
  for (int year = 2; year <= 400; ++year) {
    char row[64];
    std::snprintf(row, sizeof row, "%04d-01-0%d,A,regular,published\n", year,
                  Date::FromYmd(year, 1, 1).weekday() >= Weekday::kSaturday ? 3 : 1);
    wide += row;
  }
  EXPECT_THAT(ParseError(wide), HasSubstr("more than 200 years"));
}

TEST(WorkingDayCalendarParse, EmbeddedFileMatchesTheCommittedCsv) {
  // The embedded copy is what the binary uses; reading the source file here (tests may do
  // I/O, src/core may not) proves the two agree row for row.
  std::string path =
      std::string(JOINEDUP_SOURCE_DIR) + "/data/calendar/bank_holidays_england_and_wales.csv";
  std::FILE* f = std::fopen(path.c_str(), "rb");
  ASSERT_NE(f, nullptr) << path;
  std::string text;
  char buf[4096];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, got);
  std::fclose(f);
  auto parsed = WorkingDayCalendar::Parse(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed->holidays().size(), Cal().holidays().size());
  for (size_t i = 0; i < parsed->holidays().size(); ++i) {
    EXPECT_EQ(parsed->holidays()[i].date, Cal().holidays()[i].date);
    EXPECT_EQ(parsed->holidays()[i].name, Cal().holidays()[i].name);
  }
}

}  // namespace
}  // namespace joinedup
