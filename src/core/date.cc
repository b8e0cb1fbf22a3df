#include "core/date.h"

#include <cassert>
#include <charconv>
#include <chrono>
#include <cstdio>

namespace joinedup {
namespace {

namespace chr = std::chrono;

chr::year_month_day ToYmd(int32_t days) {
  return chr::year_month_day{chr::sys_days{chr::days{days}}};
}

// Parses exactly `width` ASCII digits.
bool ParseDigits(std::string_view text, size_t pos, size_t width, int& out) {
  if (pos + width > text.size()) return false;
  int value = 0;
  for (size_t i = pos; i < pos + width; ++i) {
    char c = text[i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  out = value;
  return true;
}

// The time part of a FHIR dateTime after the 'T': "hh:mm:ss", optional ".fraction" (1–9
// digits), then a zone that FHIR requires whenever a time is given: "Z" or "+hh:mm"/"-hh:mm"
// (offsets up to 14:00). Seconds may be 60 (leap second).
bool IsFhirTime(std::string_view t) {
  int hh = 0, mm = 0, ss = 0;
  if (t.size() < 8 || !ParseDigits(t, 0, 2, hh) || t[2] != ':' || !ParseDigits(t, 3, 2, mm) ||
      t[5] != ':' || !ParseDigits(t, 6, 2, ss) || hh > 23 || mm > 59 || ss > 60) {
    return false;
  }
  size_t pos = 8;
  if (pos < t.size() && t[pos] == '.') {
    size_t digits = 0;
    while (pos + 1 + digits < t.size() && t[pos + 1 + digits] >= '0' && t[pos + 1 + digits] <= '9')
      ++digits;
    if (digits < 1 || digits > 9) return false;
    pos += 1 + digits;
  }
  std::string_view zone = t.substr(pos);
  if (zone == "Z") return true;
  int zh = 0, zm = 0;
  if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || !ParseDigits(zone, 1, 2, zh) ||
      zone[3] != ':' || !ParseDigits(zone, 4, 2, zm) || zm > 59) {
    return false;
  }
  return zh < 14 || (zh == 14 && zm == 0);
}

Error BadDate(std::string_view text) {
  return Error::Invalid("'" + std::string(text.substr(0, 40)) +
                        "' is not a valid date (YYYY-MM-DD)");
}

}  // namespace

bool Date::IsValidYmd(int year, int month, int day) {
  if (year < 1 || year > 9999) return false;
  return chr::year_month_day{chr::year{year}, chr::month{static_cast<unsigned>(month)},
                             chr::day{static_cast<unsigned>(day)}}
      .ok();
}

Date Date::FromYmd(int year, int month, int day) {
  assert(IsValidYmd(year, month, day));
  chr::sys_days sd = chr::year_month_day{chr::year{year}, chr::month{static_cast<unsigned>(month)},
                                         chr::day{static_cast<unsigned>(day)}};
  return Date(static_cast<int32_t>(sd.time_since_epoch().count()));
}

Result<Date> Date::Parse(std::string_view text) {
  int y = 0, m = 0, d = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !ParseDigits(text, 0, 4, y) ||
      !ParseDigits(text, 5, 2, m) || !ParseDigits(text, 8, 2, d) || !IsValidYmd(y, m, d)) {
    return BadDate(text);
  }
  return FromYmd(y, m, d);
}

Result<Date> Date::ParseFhir(std::string_view text) {
  int y = 0, m = 1, d = 1;
  if (text.size() == 4) {
    if (!ParseDigits(text, 0, 4, y)) return BadDate(text);
  } else if (text.size() == 7) {
    if (text[4] != '-' || !ParseDigits(text, 0, 4, y) || !ParseDigits(text, 5, 2, m))
      return BadDate(text);
  } else if (text.size() == 10) {
    return Parse(text);
  } else if (text.size() > 10 && text[10] == 'T') {
    if (!IsFhirTime(text.substr(11))) {
      return Error::Invalid("'" + std::string(text.substr(0, 40)) +
                            "' is not a valid FHIR dateTime (YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm))");
    }
    return Parse(text.substr(0, 10));
  } else {
    return BadDate(text);
  }
  if (!IsValidYmd(y, m, d)) return BadDate(text);
  return FromYmd(y, m, d);
}

int Date::year() const { return static_cast<int>(ToYmd(days_).year()); }
int Date::month() const { return static_cast<int>(static_cast<unsigned>(ToYmd(days_).month())); }
int Date::day() const { return static_cast<int>(static_cast<unsigned>(ToYmd(days_).day())); }

Weekday Date::weekday() const {
  unsigned iso = chr::weekday{chr::sys_days{chr::days{days_}}}.iso_encoding();
  return static_cast<Weekday>(iso);
}

Date Date::AddYears(int n) const {
  auto ymd = ToYmd(days_);
  int y = static_cast<int>(ymd.year()) + n;
  int m = month(), d = day();
  if (m == 2 && d == 29 && !IsValidYmd(y, 2, 29)) d = 28;
  return FromYmd(y, m, d);
}

std::string Date::ToString() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year(), month(), day());
  return buf;
}

int AgeInYears(Date birth, Date on) {
  if (on < birth) return 0;
  int age = on.year() - birth.year();
  if (on.month() < birth.month() || (on.month() == birth.month() && on.day() < birth.day())) --age;
  return age;
}

std::string FormatInstant(int64_t ms) {
  constexpr int64_t kDayMs = 86'400'000;
  int64_t days = ms >= 0 ? ms / kDayMs : -((-ms + kDayMs - 1) / kDayMs);
  int64_t in_day = ms - days * kDayMs;
  char time[32];
  std::snprintf(time, sizeof time, "T%02d:%02d:%02d.%03dZ", static_cast<int>(in_day / 3'600'000),
                static_cast<int>(in_day / 60'000 % 60), static_cast<int>(in_day / 1000 % 60),
                static_cast<int>(in_day % 1000));
  return Date::FromDays(static_cast<int32_t>(days)).ToString() + time;
}

}  // namespace joinedup
