#include "resources/query.h"

#include <cstdio>

#include "core/date.h"

namespace joinedup::resources {

std::string IncludeDef::ToString() const {
  return std::string(source_type) + ":" + std::string(param);
}

bool DateMatches(const DateValue& value, int64_t target_start, int64_t target_end) {
  const bool eq = target_start >= value.start && target_end <= value.end;
  const bool gt = target_end > value.end;
  const bool lt = target_start < value.start;
  switch (value.prefix) {
    case DatePrefix::kEq:
      return eq;
    case DatePrefix::kNe:
      return !eq;
    case DatePrefix::kGt:
      return gt;
    case DatePrefix::kLt:
      return lt;
    case DatePrefix::kGe:
      return gt || eq;
    case DatePrefix::kLe:
      return lt || eq;
    case DatePrefix::kSa:
      return target_start >= value.end;
    case DatePrefix::kEb:
      return target_end <= value.start;
    case DatePrefix::kAp:
      return target_start < value.end && target_end > value.start;
  }
  return false;
}

std::string IndexInstant(int64_t seconds) {
  constexpr int64_t kDay = 86400;
  constexpr int64_t kFirst = -62135596800;     // 0001-01-01T00:00:00Z
  constexpr int64_t kPastLast = 253402300800;  // 10000-01-01T00:00:00Z
  if (seconds < kFirst) return std::string(kIndexInstantMin);
  if (seconds >= kPastLast) return std::string(kIndexInstantMax);
  const int64_t days = seconds >= 0 ? seconds / kDay : -((-seconds + kDay - 1) / kDay);
  const int64_t in_day = seconds - days * kDay;
  const Date date = Date::FromDays(static_cast<int32_t>(days));
  char text[64];  // 20 used; room for what the compiler cannot prove of the fields
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02dZ", date.year(), date.month(),
                date.day(), static_cast<int>(in_day / 3600), static_cast<int>(in_day / 60 % 60),
                static_cast<int>(in_day % 60));
  return text;
}

}  // namespace joinedup::resources
