// Fuzzes the escalation rules parser (records/escalation.h): any bytes as a rules file. A parse
// either fails with a message naming the file, or gives rules whose every member is within the
// bounds the engine relies on: a due time of exactly one kind, ids unique, codes non-empty.
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "core/calendar.h"
#include "records/escalation.h"

namespace {
void Check(bool condition) {
  if (!condition) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace joinedup;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto rules = records::ParseEscalationRules("f.json", text);
  if (!rules.ok()) {
    Check(rules.error().message.starts_with("f.json"));
    return 0;
  }
  Check(!rules->rules.empty());
  std::set<std::string> ids;
  for (const records::EscalationRule& rule : rules->rules) {
    Check(ids.insert(rule.id).second);
    Check((rule.due.hours > 0) != (rule.due.working_days > 0));
    Check(rule.lookback_days >= 0 && rule.lookback_days <= 366);
    for (const auto& code : rule.codes) {
      Check(!code.code.empty());
      Check(rule.Matches(code.system, code.code));  // a code matches itself, exact or prefix
    }
    // A due time from a covered date is computable (2026 is in the calendar's years).
    auto due = records::EscalationDueMs(rule.due, 1'790'000'000'000,
                                        WorkingDayCalendar::EnglandAndWales());
    Check(due.ok() && *due > 1'790'000'000'000);
  }
  return 0;
}
