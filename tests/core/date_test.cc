#include "core/date.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace joinedup {
namespace {

TEST(Date, ParsesAndPrints) {
  auto d = Date::Parse("2024-02-29");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->ToString(), "2024-02-29");
  EXPECT_EQ(d->weekday(), Weekday::kThursday);
  EXPECT_FALSE(Date::Parse("2023-02-29").ok());
}

}  // namespace
}  // namespace joinedup

namespace joinedup {
namespace {

using ::testing::HasSubstr;

Date D(int y, int m, int d) { return Date::FromYmd(y, m, d); }

TEST(Date, EpochAndDayCounts) {
  EXPECT_EQ(Date().ToString(), "1970-01-01");
  EXPECT_EQ(Date().weekday(), Weekday::kThursday);
  EXPECT_EQ(D(1970, 1, 2).days_since_epoch(), 1);
  EXPECT_EQ(D(1969, 12, 31).days_since_epoch(), -1);
  EXPECT_EQ(D(2000, 3, 1).days_since_epoch(), 11017);
  EXPECT_EQ(Date::FromDays(19723), D(2024, 1, 1));
  EXPECT_EQ(D(2024, 1, 1).DaysUntil(D(2025, 1, 1)), 366);
  EXPECT_EQ(D(2025, 1, 1).DaysUntil(D(2024, 1, 1)), -366);
  EXPECT_EQ(D(2024, 2, 28).AddDays(1), D(2024, 2, 29));
  EXPECT_EQ(D(2023, 2, 28).AddDays(1), D(2023, 3, 1));
  EXPECT_EQ(D(2023, 12, 31).AddDays(1), D(2024, 1, 1));
  EXPECT_EQ(D(2024, 1, 1).AddDays(-1), D(2023, 12, 31));
  Date d = D(1987, 6, 5);
  EXPECT_EQ(d.year(), 1987);
  EXPECT_EQ(d.month(), 6);
  EXPECT_EQ(d.day(), 5);
  EXPECT_LT(D(2023, 12, 31), D(2024, 1, 1));
}

TEST(Date, Weekdays) {
  EXPECT_EQ(D(2023, 12, 22).weekday(), Weekday::kFriday);
  EXPECT_EQ(D(2023, 12, 23).weekday(), Weekday::kSaturday);
  EXPECT_EQ(D(2023, 12, 24).weekday(), Weekday::kSunday);
  EXPECT_EQ(D(2023, 12, 25).weekday(), Weekday::kMonday);
  EXPECT_EQ(D(2000, 1, 1).weekday(), Weekday::kSaturday);
  EXPECT_EQ(D(1900, 1, 1).weekday(), Weekday::kMonday);
  EXPECT_EQ(D(1969, 12, 31).weekday(), Weekday::kWednesday);
  // Seven days on is the same weekday, across month, year and epoch boundaries.
  for (Date x = D(1969, 12, 1); x < D(1970, 3, 1); x = x.AddDays(1)) {
    EXPECT_EQ(x.AddDays(7).weekday(), x.weekday()) << x.ToString();
  }
}

TEST(Date, LeapYears) {
  EXPECT_FALSE(Date::IsValidYmd(1900, 2, 29));  // century, not divisible by 400
  EXPECT_TRUE(Date::IsValidYmd(2000, 2, 29));   // divisible by 400
  EXPECT_TRUE(Date::IsValidYmd(2024, 2, 29));
  EXPECT_FALSE(Date::IsValidYmd(2023, 2, 29));
  EXPECT_FALSE(Date::IsValidYmd(2100, 2, 29));
  EXPECT_FALSE(Date::Parse("1900-02-29").ok());
  EXPECT_TRUE(Date::Parse("2000-02-29").ok());
  EXPECT_TRUE(Date::Parse("2024-02-29").ok());
  EXPECT_FALSE(Date::Parse("2024-02-30").ok());
}

TEST(Date, ParseRejectsInvalidMonthsAndDays) {
  for (const char* text : {"2024-00-10", "2024-13-01", "2024-01-00", "2024-01-32", "2024-04-31",
                           "2024-06-31", "2024-09-31", "2024-11-31", "0000-01-01"}) {
    auto d = Date::Parse(text);
    ASSERT_FALSE(d.ok()) << text;
    EXPECT_EQ(d.error().code, ErrorCode::kInvalidInput);
    EXPECT_THAT(d.error().message, HasSubstr(text));
  }
  for (const char* text : {"2024-01-31", "2024-03-31", "2024-12-31", "0001-01-01", "9999-12-31"}) {
    EXPECT_TRUE(Date::Parse(text).ok()) << text;
  }
}

TEST(Date, ParseRejectsBadShapes) {
  for (const char* text :
       {"", "2024", "2024-01", "2024-1-05", "2024-01-5", "24-01-05", "2024-01-051", "02024-01-05",
        "2024/01/05", "2024-01-05T00:00:00Z", " 2024-01-05", "2024-01-05 ", "2024-O1-05",
        "2024-01-0a", "+024-01-05", "2024--1-05", "20240105", "05-01-2024", "2024-01-05\n"}) {
    auto d = Date::Parse(text);
    EXPECT_FALSE(d.ok()) << "'" << text << "'";
  }
  // Non-ASCII digits (fullwidth 2) are not digits here.
  EXPECT_FALSE(Date::Parse("\uFF12024-01-05").ok());
  // An embedded NUL does not end the text early.
  EXPECT_FALSE(Date::Parse(std::string("2024-01-0\0", 10)).ok());
  // The message quotes at most a bounded amount of hostile input.
  auto long_input = Date::Parse(std::string(5000, '7'));
  ASSERT_FALSE(long_input.ok());
  EXPECT_LT(long_input.error().message.size(), 120u);
}

TEST(Date, ToStringRoundTripsEveryDayOfALeapYear) {
  for (Date x = D(2024, 1, 1); x <= D(2024, 12, 31); x = x.AddDays(1)) {
    auto back = Date::Parse(x.ToString());
    ASSERT_TRUE(back.ok()) << x.ToString();
    EXPECT_EQ(*back, x);
  }
  EXPECT_EQ(D(5, 3, 7).ToString(), "0005-03-07");
}

TEST(Date, ParseFhirReducedPrecision) {
  auto year = Date::ParseFhir("1987");
  ASSERT_TRUE(year.ok());
  EXPECT_EQ(*year, D(1987, 1, 1));
  auto month = Date::ParseFhir("1987-06");
  ASSERT_TRUE(month.ok());
  EXPECT_EQ(*month, D(1987, 6, 1));
  auto day = Date::ParseFhir("1987-06-05");
  ASSERT_TRUE(day.ok());
  EXPECT_EQ(*day, D(1987, 6, 5));
  for (const char* text : {"198", "19870", "1987-6", "1987-13", "1987-00", "1987/06", "0000",
                           "abcd", "1987-06-31", "1987-06-"}) {
    EXPECT_FALSE(Date::ParseFhir(text).ok()) << text;
  }
}

TEST(Date, ParseFhirDateTimeTakesTheDateAsWritten) {
  struct Case {
    const char* text;
    Date want;
  };
  const Case cases[] = {
      {"2020-01-02T10:00:00Z", D(2020, 1, 2)},
      {"2020-01-02T10:00:00+00:00", D(2020, 1, 2)},
      // Late evening in New York is already the next day in UTC; the record's date is the
      // writer's local date.
      {"2020-01-02T23:30:00-05:00", D(2020, 1, 2)},
      {"2020-01-02T00:15:00+14:00", D(2020, 1, 2)},
      {"2016-12-31T23:59:60Z", D(2016, 12, 31)},  // leap second
      {"2019-07-14T08:09:10.123+01:00", D(2019, 7, 14)},
      {"2019-07-14T08:09:10.123456789-12:00", D(2019, 7, 14)},
      {"2024-02-29T12:00:00Z", D(2024, 2, 29)},
  };
  for (const Case& c : cases) {
    auto d = Date::ParseFhir(c.text);
    ASSERT_TRUE(d.ok()) << c.text << ": " << d.error().message;
    EXPECT_EQ(*d, c.want) << c.text;
  }
}

TEST(Date, ParseFhirRejectsBadDateTimes) {
  for (const char* text : {
           "2020-01-02T",                      // nothing after T
           "2020-01-02T10:00:00",              // FHIR requires a zone with a time
           "2020-01-02T10:00Z",                // no seconds
           "2020-01-02T24:00:00Z",             // hour 24
           "2020-01-02T10:60:00Z",             // minute 60
           "2020-01-02T10:00:61Z",             // second 61
           "2020-01-02T10:00:00.Z",            // empty fraction
           "2020-01-02T10:00:00.1234567890Z",  // ten fraction digits
           "2020-01-02T10:00:00+1:00",         // one-digit offset hour
           "2020-01-02T10:00:00+0100",         // offset without a colon
           "2020-01-02T10:00:00+14:30",        // beyond +14:00
           "2020-01-02T10:00:00+15:00",
           "2020-01-02T10:00:00+05:60",
           "2020-01-02T10:00:00z",   // lower-case zone
           "2020-01-02T10:00:00Z ",  // trailing space
           "2020-01-02t10:00:00Z",   // lower-case t
           "2020-01-02 10:00:00Z",   // space instead of T
           "2020-02-30T10:00:00Z",   // invalid date with a valid time
           "2020-01-02Tgarbage",
       }) {
    auto d = Date::ParseFhir(text);
    ASSERT_FALSE(d.ok()) << text;
    EXPECT_EQ(d.error().code, ErrorCode::kInvalidInput) << text;
  }
}

TEST(Date, AddYears) {
  EXPECT_EQ(D(2020, 5, 17).AddYears(3), D(2023, 5, 17));
  EXPECT_EQ(D(2020, 5, 17).AddYears(-20), D(2000, 5, 17));
  EXPECT_EQ(D(2024, 2, 29).AddYears(1), D(2025, 2, 28));
  EXPECT_EQ(D(2024, 2, 29).AddYears(4), D(2028, 2, 29));
  EXPECT_EQ(D(2024, 2, 29).AddYears(-24), D(2000, 2, 29));
  EXPECT_EQ(D(2024, 2, 29).AddYears(-124), D(1900, 2, 28));
  EXPECT_EQ(D(2023, 2, 28).AddYears(1), D(2024, 2, 28));
  EXPECT_EQ(D(2023, 12, 31).AddYears(0), D(2023, 12, 31));
}

TEST(Date, AgeInYears) {
  Date born = D(1950, 6, 15);
  EXPECT_EQ(AgeInYears(born, D(2020, 6, 15)), 70);  // birthday today
  EXPECT_EQ(AgeInYears(born, D(2020, 6, 14)), 69);  // birthday tomorrow
  EXPECT_EQ(AgeInYears(born, D(2020, 5, 31)), 69);  // earlier month, later day
  EXPECT_EQ(AgeInYears(born, D(2020, 7, 1)), 70);   // later month, earlier day
  EXPECT_EQ(AgeInYears(born, D(2020, 12, 31)), 70);
  EXPECT_EQ(AgeInYears(born, born), 0);
  EXPECT_EQ(AgeInYears(born, D(1950, 6, 14)), 0);  // before birth
  EXPECT_EQ(AgeInYears(born, D(1900, 1, 1)), 0);

  Date leapling = D(2000, 2, 29);
  EXPECT_EQ(AgeInYears(leapling, D(2001, 2, 28)), 0);
  EXPECT_EQ(AgeInYears(leapling, D(2001, 3, 1)), 1);
  EXPECT_EQ(AgeInYears(leapling, D(2004, 2, 28)), 3);
  EXPECT_EQ(AgeInYears(leapling, D(2004, 2, 29)), 4);
  EXPECT_EQ(AgeInYears(leapling, D(2023, 3, 1)), 23);
  EXPECT_EQ(AgeInYears(leapling, D(2024, 2, 28)), 23);
  EXPECT_EQ(AgeInYears(leapling, D(2024, 2, 29)), 24);
}

}  // namespace
}  // namespace joinedup
