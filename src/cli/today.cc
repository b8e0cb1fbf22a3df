#include "cli/today.h"

#include <chrono>

namespace joinedup::cli {

Date TodayUtc() {
  auto days = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  return Date::FromDays(static_cast<int32_t>(days.time_since_epoch().count()));
}

Result<Date> ParseAsOf(const std::string& text) {
  if (text.empty()) return TodayUtc();
  return Date::Parse(text);
}

}  // namespace joinedup::cli
