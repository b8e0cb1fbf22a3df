// The date commands work "as of": given with --as-of, else today's date in UTC.
#pragma once

#include <string>

#include "core/date.h"

namespace joinedup::cli {

Date TodayUtc();
// Empty text means today.
Result<Date> ParseAsOf(const std::string& text);

}  // namespace joinedup::cli
